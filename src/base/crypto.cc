#include "base/crypto.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "base/codec.h"
#include "base/fs.h"

namespace lambent {
namespace {
struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;
constexpr size_t kNonce = 12;
constexpr size_t kTag = 16;
}  // namespace

Cipher::Cipher(std::string key) : key_(std::move(key)) {
  if (key_.size() != kKeySize) {
    std::fprintf(stderr, "fatal: Cipher key must be %zu bytes\n", kKeySize);
    std::abort();
  }
}

std::string Cipher::seal(std::string_view plaintext, std::string_view aad) const {
  std::string out = random_bytes(kNonce);
  out.resize(kNonce + plaintext.size() + kTag);
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                      reinterpret_cast<const unsigned char*>(key_.data()), o) == 1;
  ok = ok && EVP_EncryptUpdate(ctx.get(), nullptr, &len,
                               reinterpret_cast<const unsigned char*>(aad.data()),
                               static_cast<int>(aad.size())) == 1;
  // EVP lengths are int: feed the plaintext in chunks so that >2 GiB inputs stay correct.
  size_t done = 0;
  while (ok && done < plaintext.size()) {
    size_t n = std::min<size_t>(plaintext.size() - done, 1 << 30);
    ok = EVP_EncryptUpdate(ctx.get(), o + kNonce + done, &len,
                           reinterpret_cast<const unsigned char*>(plaintext.data() + done),
                           static_cast<int>(n)) == 1;
    done += n;
  }
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), o + kNonce + done, &len) == 1;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTag, o + kNonce + done) == 1;
  if (!ok) {
    std::fprintf(stderr, "fatal: AES-GCM encryption failed\n");
    std::abort();
  }
  return out;
}

Result<std::string> Cipher::open(std::string_view sealed, std::string_view aad) const {
  if (sealed.size() < kOverhead) return make_error(Errc::kCorrupt, "sealed data is truncated");
  auto* in = reinterpret_cast<const unsigned char*>(sealed.data());
  size_t n = sealed.size() - kOverhead;
  std::string out(n, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  Ctx ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  bool ok = ctx && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                      reinterpret_cast<const unsigned char*>(key_.data()), in) == 1;
  ok = ok && EVP_DecryptUpdate(ctx.get(), nullptr, &len,
                               reinterpret_cast<const unsigned char*>(aad.data()),
                               static_cast<int>(aad.size())) == 1;
  size_t done = 0;
  while (ok && done < n) {
    size_t chunk = std::min<size_t>(n - done, 1 << 30);
    ok = EVP_DecryptUpdate(ctx.get(), o + done, &len, in + kNonce + done,
                           static_cast<int>(chunk)) == 1;
    done += chunk;
  }
  std::string tag(sealed.substr(kNonce + n, kTag));
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTag, tag.data()) == 1;
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), o + done, &len) == 1;
  if (!ok) return make_error(Errc::kCorrupt, "authentication failed: data was altered");
  return out;
}

std::string Cipher::derive(std::string_view purpose) const { return hmac_sha256(key_, purpose); }

Result<std::string> load_or_create_key(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    UniqueFd guard(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0) return make_error(Errc::kIo, "stat " + path.string());
    if ((st.st_mode & 077) != 0) {
      return make_error(Errc::kInvalidArgument,
                        "key file " + path.string() + " is readable by others; chmod 600 it");
    }
    LAMBENT_TRY(key, read_file(path));
    if (key.size() != Cipher::kKeySize) {
      return make_error(Errc::kInvalidArgument,
                        "key file " + path.string() + " must hold exactly 32 bytes");
    }
    return key;
  }
  if (errno != ENOENT) {
    return make_error(Errc::kIo, "open " + path.string() + ": " + std::strerror(errno));
  }
  std::string key = random_bytes(Cipher::kKeySize);
  LAMBENT_TRY_VOID(write_file_atomic(path, key, 0600));
  return key;
}

}  // namespace lambent
