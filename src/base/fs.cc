#include "base/fs.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include "base/codec.h"

namespace lambent {
namespace {
Error io_error(std::string_view what, const std::filesystem::path& p) {
  return make_error(Errc::kIo, std::string(what) + " " + p.string() + ": " + std::strerror(errno));
}
}  // namespace

Result<std::string> read_file(const std::filesystem::path& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return io_error("open", path);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) return io_error("stat", path);
  std::string out;
  out.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  while (got < out.size()) {
    ssize_t n = ::read(fd.get(), out.data() + got, out.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return io_error("read", path);
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  out.resize(got);
  return out;
}

Result<void> fsync_dir(const std::filesystem::path& dir) {
  UniqueFd fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!fd) return io_error("open", dir);
  if (::fsync(fd.get()) != 0) return io_error("fsync", dir);
  return {};
}

Result<void> write_file_atomic(const std::filesystem::path& path, std::string_view data,
                               mode_t mode) {
  auto tmp = path;
  tmp += ".tmp-" + hex_encode(random_bytes(6));
  UniqueFd fd(::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode));
  if (!fd) return io_error("create", tmp);
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd.get(), data.data() + done, data.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      auto err = io_error("write", tmp);
      ::unlink(tmp.c_str());
      return err;
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd.get()) != 0) {
    auto err = io_error("fsync", tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  fd.reset();
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    auto err = io_error("rename", tmp);
    ::unlink(tmp.c_str());
    return err;
  }
  return fsync_dir(path.parent_path().empty() ? "." : path.parent_path());
}

Result<void> make_dirs(const std::filesystem::path& dir, mode_t mode) {
  std::filesystem::path cur;
  for (const auto& part : dir) {
    cur /= part;
    if (::mkdir(cur.c_str(), mode) != 0 && errno != EEXIST) return io_error("mkdir", cur);
  }
  return {};
}

void remove_tree(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(dir, ec))) return;
  ::chmod(dir.c_str(), 0755);
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    if (it->is_directory(ec) && !it->is_symlink(ec)) ::chmod(it->path().c_str(), 0755);
  }
  std::filesystem::remove_all(dir, ec);
}

size_t descriptor_limit() {
  struct rlimit r {};
  if (::getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<size_t>(r.rlim_cur);
}

}  // namespace lambent
