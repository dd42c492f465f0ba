#include "net/tls.h"

#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>

#include "base/codec.h"
#include "base/fs.h"
#include "net/cidr.h"

namespace lambent::net {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* k) const { EVP_PKEY_free(k); }
};
struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
struct BioFree {
  void operator()(BIO* b) const { BIO_free(b); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;
using Cert = std::unique_ptr<X509, X509Free>;
using Bio = std::unique_ptr<BIO, BioFree>;

Error ssl_error(const std::string& what) { return Error{Errc::kInternal, "TLS: " + what}; }

std::string bio_text(BIO* b) {
  char* data = nullptr;
  long n = BIO_get_mem_data(b, &data);
  return std::string(data, static_cast<size_t>(n));
}

std::string key_pem(EVP_PKEY* k) {
  Bio b(BIO_new(BIO_s_mem()));
  PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(b.get());
}

std::string cert_pem(X509* x) {
  Bio b(BIO_new(BIO_s_mem()));
  PEM_write_bio_X509(b.get(), x);
  return bio_text(b.get());
}

bool add_ext(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  bool ok = X509_add_ext(cert, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

// A certificate for `key`, named `cn`, valid from an hour ago for `days`, signed by
// `issuer_key` (self-signed when `issuer` is null).
Result<Cert> make_cert(EVP_PKEY* key, const std::string& cn, int days, X509* issuer,
                       EVP_PKEY* issuer_key, const std::vector<std::pair<int, std::string>>& exts) {
  Cert x(X509_new());
  if (!x) return ssl_error("X509_new");
  X509_set_version(x.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) return ssl_error("RAND_bytes");
  serial[0] &= 0x7f;
  BIGNUM* bn = BN_bin2bn(serial, sizeof serial, nullptr);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x.get()));
  BN_free(bn);
  X509_gmtime_adj(X509_getm_notBefore(x.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(x.get()), static_cast<long>(days) * 86400);
  X509_set_pubkey(x.get(), key);
  X509_NAME* name = X509_get_subject_name(x.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("Lambent"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x.get(), issuer ? X509_get_subject_name(issuer) : name);
  for (const auto& [nid, value] : exts) {
    if (!add_ext(x.get(), issuer ? issuer : x.get(), nid, value)) {
      return ssl_error("extension " + value);
    }
  }
  if (X509_sign(x.get(), issuer_key, EVP_sha256()) <= 0) return ssl_error("sign " + cn);
  return x;
}

Result<std::pair<Pkey, Cert>> load_or_create_ca(const std::filesystem::path& dir) {
  auto key_file = dir / "ca.key";
  auto cert_file = dir / "ca.crt";
  if (std::filesystem::exists(key_file) && std::filesystem::exists(cert_file)) {
    LAMBENT_TRY(key_text, read_file(key_file));
    LAMBENT_TRY(cert_text, read_file(cert_file));
    Bio kb(BIO_new_mem_buf(key_text.data(), static_cast<int>(key_text.size())));
    Bio cb(BIO_new_mem_buf(cert_text.data(), static_cast<int>(cert_text.size())));
    Pkey key(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    Cert cert(PEM_read_bio_X509(cb.get(), nullptr, nullptr, nullptr));
    if (!key || !cert || X509_check_private_key(cert.get(), key.get()) != 1) {
      return make_error(Errc::kCorrupt, "the certificate authority in " + dir.string() +
                                            " is unreadable or its key does not match");
    }
    return std::make_pair(std::move(key), std::move(cert));
  }
  LAMBENT_TRY_VOID(make_dirs(dir, 0700));
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) return ssl_error("generate the authority's key");
  LAMBENT_TRY(cert, make_cert(key.get(), "Lambent platform CA", 3650, nullptr, key.get(),
                              {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                               {NID_key_usage, "critical,keyCertSign,cRLSign"},
                               {NID_subject_key_identifier, "hash"}}));
  // The key first: a certificate without its key would be useless after a crash in between.
  LAMBENT_TRY_VOID(write_file_atomic(key_file, key_pem(key.get()), 0600));
  LAMBENT_TRY_VOID(write_file_atomic(cert_file, cert_pem(cert.get()), 0644));
  return std::make_pair(std::move(key), std::move(cert));
}

}  // namespace

std::vector<std::string> platform_dns_names(const std::string& region) {
  return {"*." + region + ".amazonaws.com",  // sqs, lambda, logs, monitoring, sts, sns, events, s3
          "*.s3." + region + ".amazonaws.com",  // virtual-hosted buckets
          "s3.amazonaws.com",
          "*.s3.amazonaws.com",
          "iam.amazonaws.com",
          "sts.amazonaws.com"};
}

Result<PlatformCertificates> platform_certificates(const std::filesystem::path& dir,
                                                   const std::string& region, uint32_t gateway) {
  LAMBENT_TRY(ca, load_or_create_ca(dir));
  Pkey key(EVP_EC_gen("P-256"));
  if (!key) return ssl_error("generate the endpoint's key");
  std::string san;
  for (const auto& n : platform_dns_names(region)) san += "DNS:" + n + ",";
  san += "IP:" + format_ipv4(gateway);
  LAMBENT_TRY(
      cert, make_cert(key.get(), "Lambent platform endpoint", 397, ca.second.get(), ca.first.get(),
                      {{NID_basic_constraints, "critical,CA:FALSE"},
                       {NID_key_usage, "critical,digitalSignature"},
                       {NID_ext_key_usage, "serverAuth"},
                       {NID_subject_alt_name, san},
                       {NID_authority_key_identifier, "keyid"}}));
  PlatformCertificates out;
  out.ca_pem = cert_pem(ca.second.get());
  out.cert_pem = cert_pem(cert.get()) + out.ca_pem;
  out.key_pem = key_pem(key.get());
  return out;
}

Result<SigningIdentity> notification_signing_identity(const std::filesystem::path& dir) {
  LAMBENT_TRY(ca, load_or_create_ca(dir));
  auto key_file = dir / "sns-signing.key";
  Pkey key;
  if (std::filesystem::exists(key_file)) {
    LAMBENT_TRY(text, read_file(key_file));
    Bio kb(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
    key.reset(PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr));
    if (!key) return make_error(Errc::kCorrupt, key_file.string() + " is unreadable");
  } else {
    key.reset(EVP_RSA_gen(2048));
    if (!key) return ssl_error("generate the notification signing key");
    LAMBENT_TRY_VOID(write_file_atomic(key_file, key_pem(key.get()), 0600));
  }
  LAMBENT_TRY(cert, make_cert(key.get(), "sns.amazonaws.com", 397, ca.second.get(), ca.first.get(),
                              {{NID_basic_constraints, "critical,CA:FALSE"},
                               {NID_key_usage, "critical,digitalSignature"},
                               {NID_authority_key_identifier, "keyid"}}));
  return SigningIdentity{key_pem(key.get()), cert_pem(cert.get()), cert_pem(ca.second.get())};
}

Result<Signer> Signer::load(const std::string& key_pem_text) {
  Bio kb(BIO_new_mem_buf(key_pem_text.data(), static_cast<int>(key_pem_text.size())));
  EVP_PKEY* raw = PEM_read_bio_PrivateKey(kb.get(), nullptr, nullptr, nullptr);
  if (!raw) return ssl_error("read the signing key");
  Signer s;
  s.key_ = std::shared_ptr<void>(raw, [](void* k) { EVP_PKEY_free(static_cast<EVP_PKEY*>(k)); });
  return s;
}

Result<std::string> Signer::sign(std::string_view data, bool sha256) const {
  if (!key_) return ssl_error("no signing key");
  auto* key = static_cast<EVP_PKEY*>(key_.get());
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  size_t len = 0;
  if (!ctx ||
      EVP_DigestSignInit(ctx.get(), nullptr, sha256 ? EVP_sha256() : EVP_sha1(), nullptr, key) !=
          1 ||
      EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(data.data()),
                     data.size()) != 1) {
    return ssl_error("sign");
  }
  std::string sig(len, '\0');
  if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(sig.data()), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1) {
    return ssl_error("sign");
  }
  sig.resize(len);
  return base64_encode(sig);
}

}  // namespace lambent::net
