// Object data at rest: a file of authenticated segments that can be written as a stream and read
// back by range (decision 0011). Each 64 KiB of plaintext is sealed on its own with AES-256-GCM
// under a key derived for the file (HMAC of the node's object key and the file's random salt);
// the nonce is the segment's index with a flag on the last segment, and the associated data names
// the object data it belongs to, so a segment cannot be moved, reordered, dropped from the end or
// swapped with another file's without failing to open.
//
//   header  "LMBOBJ1\0" | u32 segment size | u32 0 | 16-byte salt            (32 bytes)
//   then    segment i = ciphertext (segment size, the last one shorter) | 16-byte tag
//
// Thread: a writer or reader is used by one thread at a time; calls block (file I/O).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "base/error.h"

namespace lambent::objects {

inline constexpr size_t kSegment = 64 * 1024;
inline constexpr size_t kTag = 16;
inline constexpr size_t kHeader = 32;

// The on-disk size of `plain` bytes of data.
uint64_t sealed_size(uint64_t plain);

class SealedWriter final {
 public:
  // Creates `path` (which must not exist) for the data named `aad`.
  static Result<std::unique_ptr<SealedWriter>> create(const std::filesystem::path& path,
                                                      std::string_view object_key, std::string aad);
  ~SealedWriter();
  Result<void> write(std::string_view data);
  // Seals the last segment, writes everything and fsyncs the file.
  Result<void> finish();
  uint64_t size() const { return plain_; }

 private:
  SealedWriter() = default;
  Result<void> seal(std::string_view plain, bool last);
  Result<void> flush();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t plain_ = 0;
};

class SealedReader final {
 public:
  // Opens the data named `aad`, `size` plaintext bytes long. kCorrupt when the file's length
  // or header does not fit.
  static Result<std::unique_ptr<SealedReader>> open(const std::filesystem::path& path,
                                                    std::string_view object_key, std::string aad,
                                                    uint64_t size);
  ~SealedReader();
  // Appends bytes [offset, offset + length) of the plaintext to `out`. kCorrupt when a segment
  // fails to authenticate.
  Result<void> read(uint64_t offset, uint64_t length, std::string& out);
  // The same into `dst` (length bytes): no allocation once warm.
  Result<void> read_into(uint64_t offset, uint64_t length, char* dst);
  uint64_t size() const { return size_; }

 private:
  SealedReader() = default;
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t size_ = 0;
};

}  // namespace lambent::objects
