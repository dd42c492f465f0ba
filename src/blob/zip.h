// Validating zip extraction. Every entry is checked before a byte is written: no absolute paths, no
// `..`, only regular files, directories and symlinks whose targets stay inside the root; writes
// never follow a symlink; the unzipped total is counted from the bytes actually inflated (so a zip
// bomb that lies in its headers is still stopped). On any failure nothing is left behind.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string_view>

#include "base/error.h"

namespace lambent::blob {

inline constexpr uint64_t kMaxUnzippedBytes = 262'144'000;  // Lambda: 250 MB incl. layers
inline constexpr size_t kMaxEntries = 200'000;

struct ZipStats {
  uint64_t unzipped_bytes = 0;
  size_t entries = 0;
};

// Extracts `zip` into the new directory `dest` (which must not exist) and makes the tree
// read-only (files 0444, or 0555 when executable; directories 0555). kInvalidArgument with a
// user-facing message for anything wrong with the zip.
Result<ZipStats> extract_zip(std::string_view zip, const std::filesystem::path& dest,
                             uint64_t max_unzipped = kMaxUnzippedBytes);

}  // namespace lambent::blob
