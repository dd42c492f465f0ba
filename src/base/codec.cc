// SHA256_Init/Update/Final: deprecated in OpenSSL 3 in favour of EVP, which looks the algorithm
// up (locks) on every use; HmacSha256 keeps precomputed states, which only this API exposes.
#define OPENSSL_SUPPRESS_DEPRECATED
#include "base/codec.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <pthread.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <cstdlib>

namespace lambent {
namespace {
constexpr char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int b64_value(unsigned char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += kB64[v & 63];
  }
  if (i + 1 == in.size()) {
    uint32_t v = uint8_t(in[i]) << 16;
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += "==";
  } else if (i + 2 == in.size()) {
    uint32_t v = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kB64[(v >> 18) & 63];
    out += kB64[(v >> 12) & 63];
    out += kB64[(v >> 6) & 63];
    out += '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view in) {
  if (in.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(in.size() / 4 * 3);
  for (size_t i = 0; i < in.size(); i += 4) {
    int a = b64_value(in[i]), b = b64_value(in[i + 1]);
    if (a < 0 || b < 0) return std::nullopt;
    bool last = i + 4 == in.size();
    bool pad2 = last && in[i + 2] == '=' && in[i + 3] == '=';
    bool pad1 = last && !pad2 && in[i + 3] == '=';
    int c = pad2 ? 0 : b64_value(in[i + 2]);
    int d = (pad1 || pad2) ? 0 : b64_value(in[i + 3]);
    if (c < 0 || d < 0) return std::nullopt;
    uint32_t v = (a << 18) | (b << 12) | (c << 6) | d;
    out += char((v >> 16) & 0xff);
    if (!pad2) out += char((v >> 8) & 0xff);
    if (!pad1 && !pad2) out += char(v & 0xff);
  }
  return out;
}

void hex_encode_to(std::string_view in, char* o) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char c : in) {
    *o++ = kHex[c >> 4];
    *o++ = kHex[c & 15];
  }
}

std::string hex_encode(std::string_view in) {
  std::string out(in.size() * 2, '\0');
  hex_encode_to(in, out.data());
  return out;
}

std::optional<std::string> hex_decode(std::string_view hex) {
  auto value = [](char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  if (hex.size() % 2) return std::nullopt;
  std::string out(hex.size() / 2, '\0');
  for (size_t i = 0; i < out.size(); ++i) {
    int hi = value(hex[2 * i]), lo = value(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<char>(hi * 16 + lo);
  }
  return out;
}

Sha256 sha256(std::string_view bytes) {
  // The low-level API: OpenSSL 3's one-shot SHA256() fetches the algorithm (a lock) every call.
  Sha256 d{};
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, bytes.data(), bytes.size());
  SHA256_Final(d.data(), &ctx);
  return d;
}

std::string_view as_bytes(const Sha256& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string xml_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      case '\r': out += "&#xD;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string md5_hex(std::string_view bytes) {
  unsigned char d[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(bytes.data(), bytes.size(), d, &n, EVP_md5(), nullptr);
  return hex_encode(std::string_view(reinterpret_cast<const char*>(d), n));
}

std::string hmac_sha256(std::string_view key, std::string_view message) {
  return std::string(as_bytes(HmacSha256(key).mac(message)));
}

static_assert(sizeof(SHA256_CTX) <= 128, "HmacSha256's state buffers are too small");

HmacSha256::HmacSha256(std::string_view key) {
  unsigned char block[64] = {0};
  if (key.size() > sizeof block) {
    SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), block);
  } else {
    std::memcpy(block, key.data(), key.size());
  }
  unsigned char pad[64];
  for (int which = 0; which < 2; ++which) {
    for (int i = 0; i < 64; ++i) pad[i] = block[i] ^ (which == 0 ? 0x36 : 0x5c);
    SHA256_CTX ctx;
    SHA256_Init(&ctx);
    SHA256_Update(&ctx, pad, sizeof pad);
    std::memcpy(which == 0 ? inner_ : outer_, &ctx, sizeof ctx);
  }
  OPENSSL_cleanse(block, sizeof block);
  OPENSSL_cleanse(pad, sizeof pad);
}

Sha256 HmacSha256::mac(std::string_view message) const {
  SHA256_CTX ctx;
  std::memcpy(&ctx, inner_, sizeof ctx);
  SHA256_Update(&ctx, message.data(), message.size());
  unsigned char inner_digest[32];
  SHA256_Final(inner_digest, &ctx);
  std::memcpy(&ctx, outer_, sizeof ctx);
  SHA256_Update(&ctx, inner_digest, sizeof inner_digest);
  Sha256 out{};
  SHA256_Final(out.data(), &ctx);
  return out;
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    std::fprintf(stderr, "fatal: RAND_bytes failed\n");
    std::abort();
  }
  return out;
}

namespace {
// Each thread draws identifier bytes from its own pool of RAND_bytes output, refilled 512 bytes
// at a time: one RAND_bytes call (with its locks and fork check) per ~25 request ids instead of
// two or three per invocation. A forked child starts with an empty pool, so it never repeats
// bytes its parent hands out.
struct IdPool {
  unsigned char bytes[512];
  size_t left = 0;
};
thread_local IdPool id_pool;

void id_pool_forget_in_child() { id_pool.left = 0; }

void fill_id_bytes(unsigned char* out, size_t n) {
  static const bool registered = [] {
    ::pthread_atfork(nullptr, nullptr, id_pool_forget_in_child);
    return true;
  }();
  (void)registered;
  while (n > 0) {
    if (id_pool.left == 0) {
      if (RAND_bytes(id_pool.bytes, sizeof(id_pool.bytes)) != 1) {
        std::fprintf(stderr, "fatal: RAND_bytes failed\n");
        std::abort();
      }
      id_pool.left = sizeof(id_pool.bytes);
    }
    size_t take = std::min(n, id_pool.left);
    std::memcpy(out, id_pool.bytes + sizeof(id_pool.bytes) - id_pool.left, take);
    id_pool.left -= take;
    out += take;
    n -= take;
  }
}
}  // namespace

std::string id_bytes(size_t n) {
  std::string out(n, '\0');
  fill_id_bytes(reinterpret_cast<unsigned char*>(out.data()), n);
  return out;
}

std::string uuid4() {
  unsigned char b[16];
  fill_id_bytes(b, sizeof(b));
  b[6] = static_cast<unsigned char>((b[6] & 0x0f) | 0x40);
  b[8] = static_cast<unsigned char>((b[8] & 0x3f) | 0x80);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(36, '-');
  size_t o = 0;
  for (size_t i = 0; i < sizeof(b); ++i) {
    if (o == 8 || o == 13 || o == 18 || o == 23) ++o;  // the dashes
    out[o++] = kHex[b[i] >> 4];
    out[o++] = kHex[b[i] & 0xf];
  }
  return out;
}

bool equal_constant_time(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace lambent
