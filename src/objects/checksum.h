// The digests S3 computes over object data as it streams: MD5 (the ETag), SHA-256 (a signed
// payload's hash), and the flexible checksums clients send (CRC32, CRC32C, SHA1, SHA256), whose
// wire form is the base64 of the big-endian digest.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

namespace lambent::objects {

enum class Checksum { kNone, kCrc32, kCrc32c, kSha1, kSha256 };

// "CRC32" → kCrc32 …, case-insensitive; nullopt for an unknown name.
std::optional<Checksum> checksum_from_name(std::string_view name);
std::string_view checksum_name(Checksum c);        // "CRC32"
std::string_view checksum_header(Checksum c);      // "x-amz-checksum-crc32"
std::string_view checksum_xml_member(Checksum c);  // "ChecksumCRC32"

class Hasher final {
 public:
  // MD5 always; SHA-256 of the payload when `sha256`; and the checksum `c`.
  Hasher(bool sha256, Checksum c);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  void update(std::string_view data);
  // Call once.
  void finish();
  const std::string& md5() const { return md5_; }                    // 16 raw bytes
  const std::string& sha256_hex() const { return sha256_hex_; }      // "" unless asked
  const std::string& checksum_b64() const { return checksum_b64_; }  // "" for kNone
  Checksum checksum() const { return checksum_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  Checksum checksum_;
  std::string md5_, sha256_hex_, checksum_b64_;
};

// The checksum of a string in one go (base64).
std::string checksum_of(Checksum c, std::string_view data);

}  // namespace lambent::objects
