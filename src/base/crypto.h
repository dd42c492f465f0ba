// Encryption at rest: AES-256-GCM under one node key kept in a 0600 key file.
// Sealed format: 12-byte random nonce | ciphertext | 16-byte tag. The caller's "associated data"
// binds a ciphertext to its place (e.g. the code digest), so a blob swapped for another fails to open.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.h"

namespace lambent {

class Cipher final {
 public:
  static constexpr size_t kKeySize = 32;
  static constexpr size_t kOverhead = 12 + 16;

  explicit Cipher(std::string key);  // exactly kKeySize bytes

  std::string seal(std::string_view plaintext, std::string_view aad) const;
  // kCorrupt when the data was altered, truncated, or sealed under another key or aad.
  Result<std::string> open(std::string_view sealed, std::string_view aad) const;

  // A key for another purpose (e.g. signing download URLs) derived from this one.
  std::string derive(std::string_view purpose) const;

 private:
  std::string key_;
};

// Reads the key file, or creates it (mode 0600, fsynced) with a fresh random key if absent.
// Refuses a key file of the wrong size or one readable by group/others.
Result<std::string> load_or_create_key(const std::filesystem::path& path);

}  // namespace lambent
