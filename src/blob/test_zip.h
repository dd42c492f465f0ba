// Test helper: builds zip archives in memory with libarchive's writer, including the malicious
// shapes (`..` entries, absolute paths, symlinks) that the extractor must refuse.
#pragma once

#include <string>
#include <vector>

namespace lambent::blob::testing {

struct Entry {
  enum Kind { kFile, kDir, kSymlink } kind = kFile;
  std::string name;
  std::string data;  // file contents, or symlink target
  int mode = 0644;
};

std::string make_zip(const std::vector<Entry>& entries);

}  // namespace lambent::blob::testing
