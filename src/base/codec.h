// Encodings and digests used across Lambent: base64 (Lambda's blob members and CodeSha256),
// hex, SHA-256, HMAC-SHA-256, MD5 (SQS checksums), random ids. Backed by OpenSSL.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace lambent {

std::string base64_encode(std::string_view bytes);
// Strict RFC 4648 decoding (padding required, no whitespace); nullopt on any invalid input.
std::optional<std::string> base64_decode(std::string_view text);

std::string hex_encode(std::string_view bytes);
// Writes 2 × bytes.size() lower-case hex digits at `out` (no allocation: digests on hot paths).
void hex_encode_to(std::string_view bytes, char* out);
// Hex digits (either case) to bytes; nullopt for an odd length or a non-hex character.
std::optional<std::string> hex_decode(std::string_view hex);

using Sha256 = std::array<uint8_t, 32>;
Sha256 sha256(std::string_view bytes);
std::string_view as_bytes(const Sha256& d);
std::string hmac_sha256(std::string_view key, std::string_view message);

// HMAC-SHA-256 under one key many times: the key's inner and outer hash states are computed once,
// so each MAC costs the message's compression rounds plus two (what SigV4 verification does per
// request with a cached signing key).
class HmacSha256 final {
 public:
  explicit HmacSha256(std::string_view key);
  Sha256 mac(std::string_view message) const;

 private:
  alignas(8) unsigned char inner_[128];  // SHA256_CTX after the key's ipad block
  alignas(8) unsigned char outer_[128];  // SHA256_CTX after the key's opad block
};
// MD5 as 32 lower-case hex digits: SQS's message checksums (not for security).
std::string md5_hex(std::string_view bytes);

// Cryptographically random bytes; aborts if the kernel's generator fails (nothing sane to do).
std::string random_bytes(size_t n);
// Random bytes for identifiers (request, trace and environment ids): the same generator, drawn
// from a per-thread pool. Keys and nonces use random_bytes.
std::string id_bytes(size_t n);
// RFC 4122 version 4 UUID, lower-case: the format of RevisionId and request ids.
std::string uuid4();

// XML character data and attribute values: & < > " ' escaped, and CR as &#xD; so that XML
// parsers do not fold it into a line feed.
std::string xml_escape(std::string_view s);

// Constant-time comparison for secrets such as URL signatures.
bool equal_constant_time(std::string_view a, std::string_view b);

}  // namespace lambent
