#include "blob/code_store.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <cstring>

#include "base/codec.h"
#include "base/fs.h"
#include "blob/zip.h"

namespace lambent::blob {
namespace fs = std::filesystem;

bool is_digest_hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

Result<std::unique_ptr<CodeStore>> CodeStore::open(const fs::path& blob_dir,
                                                   const fs::path& cache_dir, const Cipher& cipher,
                                                   bool require_tmpfs) {
  LAMBENT_TRY_VOID(make_dirs(blob_dir, 0700));
  LAMBENT_TRY_VOID(make_dirs(cache_dir, 0700));
  ::chmod(cache_dir.c_str(), 0700);
  struct statfs sfs {};
  if (::statfs(cache_dir.c_str(), &sfs) != 0) {
    return make_error(Errc::kIo, "statfs " + cache_dir.string() + ": " + std::strerror(errno));
  }
  if (require_tmpfs && sfs.f_type != TMPFS_MAGIC) {
    return make_error(Errc::kInvalidArgument,
                      "code cache " + cache_dir.string() +
                          " is not on a tmpfs: extracted code would rest on disk in plaintext");
  }
  // Leftovers of extractions interrupted by a crash.
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(cache_dir, ec)) {
    if (e.path().filename().string().rfind(".tmp-", 0) == 0) remove_tree(e.path());
  }
  return std::unique_ptr<CodeStore>(new CodeStore(blob_dir, cache_dir, cipher));
}

fs::path CodeStore::blob_path(std::string_view digest_hex) const {
  return blobs_ / std::string(digest_hex.substr(0, 2)) / std::string(digest_hex);
}

Result<uint64_t> CodeStore::extract_to_cache(std::string_view zip, const std::string& digest_hex) {
  fs::path tmp = cache_ / (".tmp-" + digest_hex.substr(0, 16) + "-" + hex_encode(random_bytes(6)));
  LAMBENT_TRY(stats, extract_zip(zip, tmp));
  fs::path final_dir = cache_ / digest_hex;
  if (::rename(tmp.c_str(), final_dir.c_str()) != 0) {
    // Already extracted by an earlier or concurrent put of the same bytes: keep that one.
    int err = errno;
    remove_tree(tmp);
    if (err != ENOTEMPTY && err != EEXIST) {
      return make_error(Errc::kIo, "rename into code cache: " + std::string(std::strerror(err)));
    }
  }
  return stats.unzipped_bytes;
}

namespace {
CodeInfo describe(std::string_view zip) {
  Sha256 d = sha256(zip);
  CodeInfo info;
  info.digest_hex = hex_encode(as_bytes(d));
  info.sha256_b64 = base64_encode(as_bytes(d));
  info.size = static_cast<int64_t>(zip.size());
  return info;
}
}  // namespace

Result<CodeInfo> CodeStore::validate(std::string_view zip) {
  CodeInfo info = describe(zip);
  fs::path tmp = cache_ / (".tmp-validate-" + hex_encode(random_bytes(6)));
  LAMBENT_TRY(stats, extract_zip(zip, tmp));
  remove_tree(tmp);
  info.unzipped_size = stats.unzipped_bytes;
  return info;
}

Result<CodeInfo> CodeStore::put(std::string_view zip) {
  CodeInfo info = describe(zip);
  LAMBENT_TRY(unzipped, extract_to_cache(zip, info.digest_hex));
  info.unzipped_size = unzipped;
  fs::path path = blob_path(info.digest_hex);
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    LAMBENT_TRY_VOID(make_dirs(path.parent_path(), 0700));
    auto written = write_file_atomic(path, cipher_.seal(zip, info.digest_hex), 0600);
    if (!written) {
      remove_tree(cache_ / info.digest_hex);
      return written.error();
    }
  }
  return info;
}

Result<std::string> CodeStore::get(std::string_view digest_hex) const {
  if (!is_digest_hex(digest_hex)) return make_error(Errc::kNotFound, "no such code");
  fs::path path = blob_path(digest_hex);
  auto sealed = read_file(path);
  if (!sealed) {
    return make_error(errno == ENOENT ? Errc::kNotFound : Errc::kIo, sealed.error().message);
  }
  auto plain = cipher_.open(*sealed, digest_hex);
  if (!plain) {
    return make_error(Errc::kCorrupt, "code blob " + std::string(digest_hex) + " was altered");
  }
  if (hex_encode(as_bytes(sha256(*plain))) != digest_hex) {
    return make_error(Errc::kCorrupt, "code blob " + std::string(digest_hex) + " has a wrong digest");
  }
  return plain;
}

std::optional<fs::path> CodeStore::extracted_if_present(std::string_view digest_hex) const {
  fs::path dir = cache_ / std::string(digest_hex);
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return dir;
  return std::nullopt;
}

Result<fs::path> CodeStore::extracted(std::string_view digest_hex) {
  fs::path dir = cache_ / std::string(digest_hex);
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return dir;
  LAMBENT_TRY(zip, get(digest_hex));
  LAMBENT_TRY_VOID(extract_to_cache(zip, std::string(digest_hex)));
  return dir;
}

Result<uint64_t> CodeStore::unzipped_size(std::string_view digest_hex) {
  LAMBENT_TRY(dir, extracted(digest_hex));
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    if (it->is_regular_file(ec) && !it->is_symlink(ec)) total += it->file_size(ec);
  }
  if (ec) return make_error(Errc::kIo, "measuring code " + std::string(digest_hex) + ": " + ec.message());
  return total;
}

namespace {
// Adds the tree at `from` to `to`, replacing what an earlier layer put at the same path.
Result<void> overlay(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(from, ec); !ec && it != fs::end(it);
       it.increment(ec)) {
    fs::path rel = it->path().lexically_relative(from);
    fs::path dst = to / rel;
    auto st = it->symlink_status(ec);
    if (ec) break;
    auto existing = fs::symlink_status(dst, ec);
    ec.clear();
    if (fs::is_directory(st)) {
      if (fs::exists(existing) && !fs::is_directory(existing)) fs::remove(dst, ec);
      if (!fs::is_directory(existing)) fs::create_directory(dst, ec);
      continue;
    }
    if (fs::exists(existing) || fs::is_symlink(existing)) fs::remove_all(dst, ec);
    ec.clear();
    if (fs::is_symlink(st)) {
      fs::copy_symlink(it->path(), dst, ec);
    } else {
      fs::create_hard_link(it->path(), dst, ec);
    }
    if (ec) break;
  }
  if (ec) return make_error(Errc::kIo, "merging layers: " + ec.message());
  return {};
}
}  // namespace

Result<fs::path> CodeStore::merged_layers(const std::vector<std::string>& digests) {
  std::string key;
  for (const auto& d : digests) key += d + ",";
  std::string name = "opt-" + hex_encode(as_bytes(sha256(key)));
  fs::path dir = cache_ / name;
  struct stat st {};
  if (::stat(dir.c_str(), &st) == 0) return dir;
  fs::path tmp = cache_ / (".tmp-" + name.substr(0, 20) + "-" + hex_encode(random_bytes(6)));
  LAMBENT_TRY_VOID(make_dirs(tmp, 0755));
  for (const auto& d : digests) {
    auto layer = extracted(d);
    if (!layer) {
      remove_tree(tmp);
      return layer.error();
    }
    if (auto r = overlay(*layer, tmp); !r) {
      remove_tree(tmp);
      return r.error();
    }
  }
  ::chmod(tmp.c_str(), 0555);
  if (::rename(tmp.c_str(), dir.c_str()) != 0) {
    int err = errno;
    remove_tree(tmp);
    if (err != ENOTEMPTY && err != EEXIST) {
      return make_error(Errc::kIo, "rename into code cache: " + std::string(std::strerror(err)));
    }
  }
  return dir;
}

void CodeStore::remove(std::string_view digest_hex) {
  if (!is_digest_hex(digest_hex)) return;
  ::unlink(blob_path(digest_hex).c_str());
  remove_tree(cache_ / std::string(digest_hex));
}

std::set<std::string> CodeStore::list() const {
  std::set<std::string> out;
  std::error_code ec;
  for (const auto& shard : fs::directory_iterator(blobs_, ec)) {
    for (const auto& e : fs::directory_iterator(shard.path(), ec)) {
      auto name = e.path().filename().string();
      if (is_digest_hex(name)) out.insert(name);
    }
  }
  return out;
}

}  // namespace lambent::blob
