// The content-addressed code store. A zip is keyed by the SHA-256 of its plaintext, sealed with
// AES-256-GCM (the digest as associated data) under the node key, and written durably to
// <data>/code/<aa>/<digest>. Its validated, extracted tree lives in a read-only per-digest folder of
// the code cache, which must be memory-backed (tmpfs) so plaintext code never rests on disk; the
// cache is rebuilt from the sealed blob on demand after a reboot.
// Thread: any; calls block (hashing, extraction, fsync) and belong on the worker pool.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "base/crypto.h"
#include "base/error.h"

namespace lambent::blob {

struct CodeInfo {
  std::string digest_hex;
  std::string sha256_b64;
  int64_t size = 0;
  uint64_t unzipped_size = 0;
};

class CodeStore final {
 public:
  // `require_tmpfs` refuses a cache directory that is not on a tmpfs.
  static Result<std::unique_ptr<CodeStore>> open(const std::filesystem::path& blob_dir,
                                                 const std::filesystem::path& cache_dir,
                                                 const Cipher& cipher, bool require_tmpfs = true);

  // Validates and extracts the zip, then stores it sealed. Idempotent for identical bytes.
  // kInvalidArgument (with the AWS message) for a zip that must be refused; nothing is kept then.
  Result<CodeInfo> put(std::string_view zip);
  // The checks of put() without storing anything (UpdateFunctionCode with DryRun).
  Result<CodeInfo> validate(std::string_view zip);
  // The exact zip bytes; kCorrupt if the sealed blob was altered, kNotFound if absent.
  Result<std::string> get(std::string_view digest_hex) const;
  // The extracted tree, re-extracting from the sealed blob when the cache lost it.
  Result<std::filesystem::path> extracted(std::string_view digest_hex);
  // The extracted tree if it is in the cache (one stat, cheap enough for the I/O thread).
  std::optional<std::filesystem::path> extracted_if_present(std::string_view digest_hex) const;
  // Bytes of the regular files of the extracted tree.
  Result<uint64_t> unzipped_size(std::string_view digest_hex);
  // One tree holding the layers' files in order (a later layer's file wins): what the function
  // sees at /opt. Built once per list of layers, from hard links into the layers' trees.
  Result<std::filesystem::path> merged_layers(const std::vector<std::string>& digests_hex);
  // Removes the blob and its extracted tree.
  void remove(std::string_view digest_hex);
  // Digests of all stored blobs.
  std::set<std::string> list() const;

  std::filesystem::path blob_path(std::string_view digest_hex) const;

 private:
  CodeStore(std::filesystem::path blobs, std::filesystem::path cache, const Cipher& cipher)
      : blobs_(std::move(blobs)), cache_(std::move(cache)), cipher_(cipher) {}
  Result<uint64_t> extract_to_cache(std::string_view zip, const std::string& digest_hex);

  std::filesystem::path blobs_;
  std::filesystem::path cache_;
  const Cipher& cipher_;
};

bool is_digest_hex(std::string_view s);

}  // namespace lambent::blob
