// File-system helpers with the durability Lambent promises: atomic replace with fsync of the file
// and its directory, so that an acknowledged write survives kill -9 and power loss.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <string_view>

#include "base/error.h"

namespace lambent {

class UniqueFd final {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept {
    if (this != &o) reset(o.release());
    return *this;
  }
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() { reset(); }

  int get() const { return fd_; }
  explicit operator bool() const { return fd_ >= 0; }
  int release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

Result<std::string> read_file(const std::filesystem::path& path);
// Writes to a temporary sibling, fsyncs it, renames it over `path`, fsyncs the directory.
Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view data,
                               mode_t mode = 0644);
Result<void> fsync_dir(const std::filesystem::path& dir);
// mkdir -p with a mode for the directories it creates.
Result<void> make_dirs(const std::filesystem::path& dir, mode_t mode = 0755);
// Removes a tree, also one made read-only (extracted code): write permission is restored on its
// directories first. Best effort; a missing tree is fine.
void remove_tree(const std::filesystem::path& dir);
// The process's open-descriptor limit (RLIMIT_NOFILE, soft).
size_t descriptor_limit();

}  // namespace lambent
