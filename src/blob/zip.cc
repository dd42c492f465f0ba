#include "blob/zip.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "base/fs.h"

namespace lambent::blob {
namespace {

constexpr const char* kUnzipFailed =
    "Could not unzip uploaded file. Please check your file, then try to upload again.";

struct ArchiveFree {
  void operator()(archive* a) const { archive_read_free(a); }
};

Error bad(std::string msg) { return make_error(Errc::kInvalidArgument, std::move(msg)); }

// A name for a message: at most 200 bytes of it.
std::string shown(std::string_view name) {
  return name.size() <= 200
             ? std::string(name)
             : std::string(name.substr(0, 200)) + "... (" + std::to_string(name.size()) + " bytes)";
}

// Splits an entry path into components, refusing absolute paths and `..`; drops `.` and empties.
// Names the file system could not hold (a component over 255 bytes, a path over 4,096) are
// refused as such, not left to fail at create.
Result<std::vector<std::string>> components(std::string_view path) {
  if (path.empty()) return bad("Zip entry with an empty name");
  if (path.front() == '/') return bad("Zip entry has an absolute path: " + shown(path));
  if (path.size() > 4096) {
    return bad("Zip entry name is longer than 4096 bytes: " + shown(path));
  }
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view c = path.substr(start, slash - start);
    if (c == "..") return bad("Zip entry escapes the package root: " + shown(path));
    if (c.size() > 255) {
      return bad("Zip entry name has a component longer than 255 bytes: " + shown(path));
    }
    if (!c.empty() && c != ".") out.emplace_back(c);
    start = slash + 1;
  }
  return out;
}

// A symlink's target, resolved lexically from the link's directory, must stay inside the root.
bool symlink_stays_inside(const std::vector<std::string>& link, std::string_view target) {
  if (target.empty() || target.front() == '/') return false;
  long depth = static_cast<long>(link.size()) - 1;  // directories above the link
  size_t start = 0;
  while (start <= target.size()) {
    size_t slash = target.find('/', start);
    if (slash == std::string_view::npos) slash = target.size();
    std::string_view c = target.substr(start, slash - start);
    if (c == "..") {
      if (--depth < 0) return false;
    } else if (!c.empty() && c != ".") {
      ++depth;
    }
    start = slash + 1;
  }
  return true;
}

// Opens (creating as needed) the directory holding the last component, never following symlinks.
Result<UniqueFd> open_parent(int root, const std::vector<std::string>& parts, size_t count,
                             std::vector<std::string>* created, const std::string& prefix) {
  UniqueFd cur(::dup(root));
  std::string rel = prefix;
  for (size_t i = 0; i < count; ++i) {
    rel += "/" + parts[i];
    if (::mkdirat(cur.get(), parts[i].c_str(), 0755) == 0) {
      created->push_back(rel);
    } else if (errno != EEXIST) {
      return make_error(Errc::kIo, "mkdir " + rel + ": " + std::strerror(errno));
    }
    UniqueFd next(::openat(cur.get(), parts[i].c_str(),
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!next) {
      if (errno == ELOOP || errno == ENOTDIR) {
        return bad("Zip entry passes through a symlink or a file: " + rel.substr(1));
      }
      return make_error(Errc::kIo, "open " + rel + ": " + std::strerror(errno));
    }
    cur = std::move(next);
  }
  return cur;
}

Result<ZipStats> extract_into(archive* a, int root, uint64_t max_unzipped,
                              std::vector<std::string>* dirs) {
  ZipStats stats;
  std::vector<std::string> symlinks;
  std::vector<char> buf(1 << 16);
  for (;;) {
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(a, &e);
    if (rc == ARCHIVE_EOF) break;
    if (rc < ARCHIVE_WARN) return bad(kUnzipFailed);
    if (++stats.entries > kMaxEntries) {
      return bad("Zip file has more than " + std::to_string(kMaxEntries) + " entries");
    }
    if (archive_entry_is_encrypted(e)) return bad("Zip file contains encrypted entries");
    const char* name = archive_entry_pathname(e);
    LAMBENT_TRY(parts, components(name ? name : ""));
    if (archive_entry_hardlink(e) != nullptr) {
      return bad("Zip entry is a hard link, which is not supported: " + std::string(name));
    }
    mode_t type = archive_entry_filetype(e);
    if (parts.empty()) {
      if (type == AE_IFDIR) continue;  // "./"
      return bad("Zip entry names the package root: " + std::string(name));
    }
    if (type == AE_IFDIR) {
      LAMBENT_TRY(fd, open_parent(root, parts, parts.size(), dirs, ""));
      continue;
    }
    LAMBENT_TRY(parent, open_parent(root, parts, parts.size() - 1, dirs, ""));
    const std::string& leaf = parts.back();
    if (type == AE_IFLNK) {
      const char* target = archive_entry_symlink(e);
      if (!target || !symlink_stays_inside(parts, target)) {
        return bad("Zip entry is a symlink pointing outside the package: " + std::string(name) +
                   " -> " + (target ? target : ""));
      }
      if (::symlinkat(target, parent.get(), leaf.c_str()) != 0) {
        if (errno == EEXIST) return bad("Zip file has a duplicate entry: " + std::string(name));
        return make_error(Errc::kIo, std::string("symlink: ") + std::strerror(errno));
      }
      std::string rel;
      for (const auto& p : parts) rel += (rel.empty() ? "" : "/") + p;
      symlinks.push_back(rel);
      continue;
    }
    if (type != AE_IFREG) {
      return bad("Zip entry is not a file, directory or symlink: " + std::string(name));
    }
    mode_t mode = (archive_entry_perm(e) & 0111) ? 0555 : 0444;
    UniqueFd out(::openat(parent.get(), leaf.c_str(),
                          O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode));
    if (!out) {
      if (errno == EEXIST) return bad("Zip file has a duplicate entry: " + std::string(name));
      return make_error(Errc::kIo, std::string("create: ") + std::strerror(errno));
    }
    for (;;) {
      la_ssize_t n = archive_read_data(a, buf.data(), buf.size());
      if (n == 0) break;
      if (n < 0) return bad(kUnzipFailed);
      stats.unzipped_bytes += static_cast<uint64_t>(n);
      if (stats.unzipped_bytes > max_unzipped) {
        return bad("Unzipped size must be smaller than " + std::to_string(max_unzipped) +
                   " bytes");
      }
      size_t done = 0;
      while (done < static_cast<size_t>(n)) {
        ssize_t w = ::write(out.get(), buf.data() + done, static_cast<size_t>(n) - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) return make_error(Errc::kIo, std::string("write: ") + std::strerror(errno));
        done += static_cast<size_t>(w);
      }
    }
  }
  // Belt and braces: resolve every symlink in the finished tree with the kernel's own
  // RESOLVE_BENEATH, which refuses any resolution that leaves the root (chains included).
  for (const auto& rel : symlinks) {
    open_how how{};
    how.flags = O_PATH | O_CLOEXEC;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd = ::syscall(SYS_openat2, root, rel.c_str(), &how, sizeof(how));
    if (fd >= 0) {
      ::close(static_cast<int>(fd));
    } else if (errno == EXDEV || errno == ELOOP) {
      return bad("Zip entry is a symlink pointing outside the package: " + rel);
    }
    // ENOENT: a dangling link inside the package is harmless and allowed, as on AWS.
  }
  return stats;
}

// The entry count the archive's end-of-central-directory record declares, or -1 when it cannot
// be read (e.g. a Zip64 archive that defers it). libarchive stops quietly at a damaged central
// directory entry, so the count is what tells a damaged archive from a short one.
long declared_entries(std::string_view zip) {
  if (zip.size() < 22) return -1;
  size_t lowest = zip.size() > 22 + 65535 ? zip.size() - 22 - 65535 : 0;
  for (size_t i = zip.size() - 22 + 1; i-- > lowest;) {
    if (zip[i] == 'P' && zip[i + 1] == 'K' && zip[i + 2] == 5 && zip[i + 3] == 6) {
      unsigned total = static_cast<uint8_t>(zip[i + 10]) | (static_cast<uint8_t>(zip[i + 11]) << 8);
      return total == 0xFFFF ? -1 : static_cast<long>(total);
    }
  }
  return -1;
}

}  // namespace

Result<ZipStats> extract_zip(std::string_view zip, const std::filesystem::path& dest,
                             uint64_t max_unzipped) {
  std::unique_ptr<archive, ArchiveFree> a(archive_read_new());
  archive_read_support_format_zip(a.get());
  if (zip.empty() ||
      archive_read_open_memory(a.get(), zip.data(), zip.size()) != ARCHIVE_OK) {
    return bad(kUnzipFailed);
  }
  if (::mkdir(dest.c_str(), 0755) != 0) {
    return make_error(Errc::kIo, "mkdir " + dest.string() + ": " + std::strerror(errno));
  }
  UniqueFd root(::open(dest.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  std::vector<std::string> dirs;
  auto stats = root ? extract_into(a.get(), root.get(), max_unzipped, &dirs)
                    : Result<ZipStats>(make_error(Errc::kIo, "open " + dest.string()));
  if (stats) {
    long declared = declared_entries(zip);
    if (declared >= 0 && static_cast<size_t>(declared) != stats->entries) {
      stats = bad(kUnzipFailed);
    } else if (stats->entries == 0) {
      stats = bad("Uploaded file must be a non-empty zip");
    }
  }
  if (!stats) {
    remove_tree(dest);
    return stats.error();
  }
  // Read-only from here on: the sandbox mounts it read-only too, this guards the host side.
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    ::fchmodat(root.get(), it->c_str() + 1, 0555, 0);
  }
  ::fchmod(root.get(), 0555);
  return stats;
}

}  // namespace lambent::blob
