#include "objects/checksum.h"

#include <openssl/evp.h>
#include <zlib.h>

#include <boost/crc.hpp>
#include <cstring>

#include "base/codec.h"

namespace lambent::objects {
namespace {

struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};
using Md = std::unique_ptr<EVP_MD_CTX, MdFree>;

Md make_md(const EVP_MD* type) {
  Md m(EVP_MD_CTX_new());
  if (!m || EVP_DigestInit_ex(m.get(), type, nullptr) != 1) std::abort();
  return m;
}

std::string final_md(EVP_MD_CTX* m) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(m, out, &n) != 1) std::abort();
  return std::string(reinterpret_cast<char*>(out), n);
}

std::string be32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (24 - 8 * i));
  return s;
}

using Crc32c = boost::crc_optimal<32, 0x1EDC6F41, 0xFFFFFFFF, 0xFFFFFFFF, true, true>;

}  // namespace

std::optional<Checksum> checksum_from_name(std::string_view name) {
  std::string n;
  for (char c : name) n.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  if (n == "CRC32") return Checksum::kCrc32;
  if (n == "CRC32C") return Checksum::kCrc32c;
  if (n == "SHA1") return Checksum::kSha1;
  if (n == "SHA256") return Checksum::kSha256;
  return std::nullopt;
}

std::string_view checksum_name(Checksum c) {
  switch (c) {
    case Checksum::kCrc32:
      return "CRC32";
    case Checksum::kCrc32c:
      return "CRC32C";
    case Checksum::kSha1:
      return "SHA1";
    case Checksum::kSha256:
      return "SHA256";
    case Checksum::kNone:
      break;
  }
  return "";
}

std::string_view checksum_header(Checksum c) {
  switch (c) {
    case Checksum::kCrc32:
      return "x-amz-checksum-crc32";
    case Checksum::kCrc32c:
      return "x-amz-checksum-crc32c";
    case Checksum::kSha1:
      return "x-amz-checksum-sha1";
    case Checksum::kSha256:
      return "x-amz-checksum-sha256";
    case Checksum::kNone:
      break;
  }
  return "";
}

std::string_view checksum_xml_member(Checksum c) {
  switch (c) {
    case Checksum::kCrc32:
      return "ChecksumCRC32";
    case Checksum::kCrc32c:
      return "ChecksumCRC32C";
    case Checksum::kSha1:
      return "ChecksumSHA1";
    case Checksum::kSha256:
      return "ChecksumSHA256";
    case Checksum::kNone:
      break;
  }
  return "";
}

struct Hasher::Impl {
  Md md5;
  Md sha256;
  Md sha_c;  // SHA1/SHA256 checksum
  uLong crc32 = 0;
  Crc32c crc32c;
};

Hasher::Hasher(bool sha256, Checksum c) : impl_(std::make_unique<Impl>()), checksum_(c) {
  impl_->md5 = make_md(EVP_md5());
  if (sha256) impl_->sha256 = make_md(EVP_sha256());
  if (c == Checksum::kSha1) impl_->sha_c = make_md(EVP_sha1());
  if (c == Checksum::kSha256) impl_->sha_c = make_md(EVP_sha256());
  impl_->crc32 = ::crc32(0L, Z_NULL, 0);
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::update(std::string_view data) {
  auto& m = *impl_;
  EVP_DigestUpdate(m.md5.get(), data.data(), data.size());
  if (m.sha256) EVP_DigestUpdate(m.sha256.get(), data.data(), data.size());
  if (m.sha_c) EVP_DigestUpdate(m.sha_c.get(), data.data(), data.size());
  if (checksum_ == Checksum::kCrc32) {
    // zlib takes uInt lengths.
    while (!data.empty()) {
      size_t n = std::min<size_t>(data.size(), 1u << 30);
      m.crc32 = ::crc32(m.crc32, reinterpret_cast<const Bytef*>(data.data()), static_cast<uInt>(n));
      data.remove_prefix(n);
    }
  } else if (checksum_ == Checksum::kCrc32c) {
    m.crc32c.process_bytes(data.data(), data.size());
  }
}

void Hasher::finish() {
  auto& m = *impl_;
  md5_ = final_md(m.md5.get());
  if (m.sha256) sha256_hex_ = hex_encode(final_md(m.sha256.get()));
  switch (checksum_) {
    case Checksum::kCrc32:
      checksum_b64_ = base64_encode(be32(static_cast<uint32_t>(m.crc32)));
      break;
    case Checksum::kCrc32c:
      checksum_b64_ = base64_encode(be32(m.crc32c.checksum()));
      break;
    case Checksum::kSha1:
    case Checksum::kSha256:
      checksum_b64_ = base64_encode(final_md(m.sha_c.get()));
      break;
    case Checksum::kNone:
      break;
  }
}

std::string checksum_of(Checksum c, std::string_view data) {
  Hasher h(false, c);
  h.update(data);
  h.finish();
  return h.checksum_b64();
}

}  // namespace lambent::objects
