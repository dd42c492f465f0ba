#include "sandbox/scratch.h"

#include <fcntl.h>
#include <linux/loop.h>
#include <spawn.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "base/fs.h"

extern char** environ;

namespace lambent::sandbox {
namespace {

// Copies the data extents of `from` into a new sparse file `to` of the same size.
Result<void> sparse_copy(const std::string& from, const std::string& to) {
  UniqueFd in(::open(from.c_str(), O_RDONLY | O_CLOEXEC));
  if (!in) return make_error(Errc::kIo, errno_text("open " + from));
  struct stat st {};
  if (::fstat(in.get(), &st) != 0) return make_error(Errc::kIo, errno_text("stat " + from));
  UniqueFd out(::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!out) return make_error(Errc::kIo, errno_text("create " + to));
  if (::ftruncate(out.get(), st.st_size) != 0) {
    return make_error(Errc::kIo, errno_text("size " + to));
  }
  off_t at = 0;
  while (at < st.st_size) {
    off_t data = ::lseek(in.get(), at, SEEK_DATA);
    if (data < 0) break;  // ENXIO: only a hole is left
    off_t hole = ::lseek(in.get(), data, SEEK_HOLE);
    if (hole < 0) hole = st.st_size;
    off_t src = data, dst = data;
    while (src < hole) {
      ssize_t n =
          ::copy_file_range(in.get(), &src, out.get(), &dst, static_cast<size_t>(hole - src), 0);
      if (n <= 0) return make_error(Errc::kIo, errno_text("copy " + from));
    }
    at = hole;
  }
  return {};
}

}  // namespace

Result<ScratchDisks> ScratchDisks::open(const std::string& dir) {
  if (::access("/dev/loop-control", R_OK | W_OK) != 0) {
    return make_error(Errc::kIo, errno_text("/dev/loop-control"));
  }
  std::string mkfs;
  for (const char* p : {"/usr/sbin/mkfs.ext4", "/sbin/mkfs.ext4"}) {
    if (::access(p, X_OK) == 0) {
      mkfs = p;
      break;
    }
  }
  if (mkfs.empty()) return make_error(Errc::kNotFound, "mkfs.ext4 (e2fsprogs) is not installed");
  remove_tree(dir);  // images and templates of an earlier run
  LAMBENT_TRY_VOID(make_dirs(dir, 0700));
  return ScratchDisks(dir, mkfs);
}

Result<std::string> ScratchDisks::template_for(int64_t mb) {
  if (auto it = templates_.find(mb); it != templates_.end()) return it->second;
  std::string path = dir_ + "/template-" + std::to_string(mb) + ".img";
  std::string part = path + ".part";
  ::unlink(part.c_str());
  {
    UniqueFd f(::open(part.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600));
    if (!f || ::ftruncate(f.get(), mb << 20) != 0) {
      return make_error(Errc::kIo, errno_text("create " + part));
    }
  }
  // No journal (nothing on /tmp outlives a crash), no reserved blocks, lazy tables: the
  // image holds a few MB of metadata and the rest is holes.
  std::string size = std::to_string(mb) + "M";
  const char* argv[] = {
      mkfs_.c_str(), "-q",           "-F",
      "-O",          "^has_journal", "-m",
      "0",           "-E",           "lazy_itable_init=1,nodiscard,root_owner=0:0",
      "-L",          "tmp",          part.c_str(),
      size.c_str(),  nullptr};
  pid_t pid = -1;
  if (::posix_spawn(&pid, mkfs_.c_str(), nullptr, nullptr, const_cast<char**>(argv), environ) !=
      0) {
    return make_error(Errc::kIo, errno_text("run " + mkfs_));
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return make_error(Errc::kIo, mkfs_ + " failed for a " + size + " image");
  }
  if (::rename(part.c_str(), path.c_str()) != 0) {
    return make_error(Errc::kIo, errno_text("rename " + part));
  }
  templates_[mb] = path;
  return path;
}

Result<std::string> ScratchDisks::make_image(int64_t mb) {
  LAMBENT_TRY(tmpl, template_for(mb));
  std::string path =
      dir_ + "/tmp-" + std::to_string(::getpid()) + "-" + std::to_string(next_++) + ".img";
  if (auto r = sparse_copy(tmpl, path); !r) {
    ::unlink(path.c_str());
    return r.error();
  }
  return path;
}

std::string mount_scratch(const std::string& image, const std::string& target) {
  UniqueFd file(::open(image.c_str(), O_RDWR | O_CLOEXEC));
  ::unlink(image.c_str());  // from now on it lives as long as the loop device uses it
  if (!file) return errno_text("open scratch image " + image);
  UniqueFd control(::open("/dev/loop-control", O_RDWR | O_CLOEXEC));
  if (!control) return errno_text("open /dev/loop-control");
  // Sandboxes starting together all get the same "free" device from LOOP_CTL_GET_FREE until one
  // configures it: they take turns (a lock beside the images), so only processes outside this
  // server can make an attempt fail (EBUSY, retried).
  std::string lock_path = image.substr(0, image.rfind('/') + 1) + "loop.lock";
  UniqueFd lock(::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
  if (!lock) return errno_text("open " + lock_path);
  while (::flock(lock.get(), LOCK_EX) != 0) {
    if (errno != EINTR) return errno_text("lock " + lock_path);
  }
  std::string device;
  UniqueFd loop;
  for (int attempt = 0; attempt < 64 && !loop; ++attempt) {
    int n = ::ioctl(control.get(), LOOP_CTL_GET_FREE);
    if (n < 0) return errno_text("LOOP_CTL_GET_FREE");
    device = "/dev/loop" + std::to_string(n);
    UniqueFd fd(::open(device.c_str(), O_RDWR | O_CLOEXEC));
    if (!fd) return errno_text("open " + device);
    loop_config config{};
    config.fd = static_cast<uint32_t>(file.get());
    config.block_size = 4096;
    // Direct I/O: the image's blocks are cached once (the environment's page cache), not twice.
    config.info.lo_flags = LO_FLAGS_AUTOCLEAR | LO_FLAGS_DIRECT_IO;
    if (::ioctl(fd.get(), LOOP_CONFIGURE, &config) != 0) {
      if (errno == EBUSY) continue;  // another process took it first
      if (errno == EINVAL) {
        config.info.lo_flags = LO_FLAGS_AUTOCLEAR;  // no direct I/O on this backing file system
        if (::ioctl(fd.get(), LOOP_CONFIGURE, &config) != 0) {
          if (errno == EBUSY) continue;
          return errno_text("LOOP_CONFIGURE " + device);
        }
      } else {
        return errno_text("LOOP_CONFIGURE " + device);
      }
    }
    loop = std::move(fd);
  }
  lock.reset();  // attached: the next sandbox may take its turn
  if (!loop) return "attach scratch image: no free loop device";
  if (::mount(device.c_str(), target.c_str(), "ext4", MS_NOSUID | MS_NODEV, "") != 0) {
    return errno_text("mount " + device + " on " + target);
  }
  // The mount holds the device now: closing our descriptors leaves it attached until unmounted.
  if (::chmod(target.c_str(), 01777) != 0) return errno_text("chmod " + target);
  ::rmdir((target + "/lost+found").c_str());
  return {};
}

}  // namespace lambent::sandbox
