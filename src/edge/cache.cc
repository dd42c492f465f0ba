#include "edge/cache.h"

#include <fmt/format.h>

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>

#include "base/codec.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/time.h"
#include "edge/headers.h"

namespace lambent::edge {

namespace {

// Per-entry bookkeeping counted against the memory limit besides the body.
uint64_t footprint(const CachedObject& o, const std::string& key) {
  uint64_t n = 256 + key.size() + o.uri.size();
  for (const auto& [k, v] : o.headers) n += k.size() + v.size() + 64;
  if (o.body) n += o.body->size();
  return n;
}

std::optional<int64_t> directive(std::string_view cache_control, std::string_view name) {
  size_t at = 0;
  while (at < cache_control.size()) {
    size_t end = cache_control.find(',', at);
    if (end == std::string_view::npos) end = cache_control.size();
    std::string_view item = cache_control.substr(at, end - at);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
    size_t eq = item.find('=');
    std::string_view key = item.substr(0, eq);
    if (iequals(key, name)) {
      if (eq == std::string_view::npos) return -1;  // present, no value
      std::string_view value = item.substr(eq + 1);
      if (!value.empty() && value.front() == '"') value = value.substr(1, value.size() - 2);
      int64_t n = 0;
      if (value.empty() || value.size() > 12) return std::nullopt;
      for (char c : value) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
        n = n * 10 + (c - '0');
      }
      return n;
    }
    at = end + 1;
  }
  return std::nullopt;
}

}  // namespace

Cache::Cache(std::filesystem::path dir, uint64_t memory_bytes, uint64_t disk_bytes)
    : dir_(std::move(dir)),
      memory_limit_(memory_bytes),
      disk_limit_(disk_bytes),
      memory_item_limit_(std::min<uint64_t>(memory_bytes / 8, 8u << 20)),
      cipher_(random_bytes(Cipher::kKeySize)) {
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
  std::filesystem::create_directories(dir_, ec);
  if (ec) log::warn("edge cache directory {}: {}", dir_.string(), ec.message());
  std::filesystem::permissions(dir_, std::filesystem::perms::owner_all, ec);
}

std::shared_ptr<const CachedObject> Cache::find(const std::string& key) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.lru);
  return it->second.object;
}

void Cache::put(const std::string& key, std::shared_ptr<CachedObject> object) {
  if (auto it = map_.find(key); it != map_.end()) {
    // A refreshed object (revalidated by the origin) keeps the same file.
    const bool same_file =
        !object->disk_file.empty() && it->second.object->disk_file == object->disk_file;
    forget(it, !same_file);
  }
  if (object->body && on_disk(object->size)) object->body.reset();
  if (!object->body && object->disk_file.empty()) return;  // nothing to serve from
  lru_.push_front(key);
  memory_used_ += footprint(*object, key);
  if (!object->disk_file.empty()) disk_used_ += object->size;
  map_.emplace(key, Slot{std::move(object), lru_.begin()});
  evict();
}

void Cache::erase(const std::string& key) {
  if (auto it = map_.find(key); it != map_.end()) forget(it);
}

void Cache::forget(std::unordered_map<std::string, Slot>::iterator it, bool doom_file) {
  const CachedObject& o = *it->second.object;
  memory_used_ -= std::min(memory_used_, footprint(o, it->first));
  if (!o.disk_file.empty()) {
    disk_used_ -= std::min(disk_used_, o.size);
    if (doom_file) doomed_files_.push_back(o.disk_file);
  }
  lru_.erase(it->second.lru);
  map_.erase(it);
}

void Cache::evict() {
  while ((memory_used_ > memory_limit_ || disk_used_ > disk_limit_) && !lru_.empty()) {
    forget(map_.find(lru_.back()));
  }
}

size_t Cache::invalidate(std::string_view distribution_id, const std::vector<std::string>& paths) {
  size_t dropped = 0;
  for (auto it = map_.begin(); it != map_.end();) {
    const CachedObject& o = *it->second.object;
    bool covered = false;
    if (o.distribution_id == distribution_id) {
      for (const auto& p : paths) {
        if (!p.empty() && p.back() == '*') {
          covered = covered || o.uri.rfind(std::string_view(p).substr(0, p.size() - 1), 0) == 0;
        } else {
          covered = covered || o.uri == p;
        }
      }
    }
    if (covered) {
      auto next = std::next(it);
      forget(it);
      it = next;
      ++dropped;
    } else {
      ++it;
    }
  }
  return dropped;
}

Result<std::string> Cache::write_body(std::string_view body) {
  std::string name = fmt::format("{:016x}", next_file_.fetch_add(1));
  std::string sealed = cipher_.seal(body, name);
  UniqueFd fd(::open((dir_ / name).c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
  if (!fd) return make_error(Errc::kIo, "creating a cache file: " + std::string(strerror(errno)));
  size_t done = 0;
  while (done < sealed.size()) {
    ssize_t n = ::write(fd.get(), sealed.data() + done, sealed.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::unlink((dir_ / name).c_str());
      return make_error(Errc::kIo, "writing a cache file: " + std::string(strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  return name;
}

std::vector<std::string> Cache::take_doomed() {
  std::vector<std::string> out;
  out.swap(doomed_files_);
  return out;
}

void Cache::remove_files(const std::vector<std::string>& names) const {
  for (const auto& n : names) ::unlink((dir_ / n).c_str());
}

Result<std::string> Cache::read_body(const CachedObject& object) const {
  auto sealed = read_file(dir_ / object.disk_file);
  if (!sealed) return sealed.error();
  return cipher_.open(*sealed, object.disk_file);
}

int64_t ttl_seconds(const Headers& headers, int64_t min_ttl, int64_t default_ttl, int64_t max_ttl,
                    int64_t now_ms) {
  auto clamp = [&](int64_t t) {
    return std::clamp<int64_t>(t, min_ttl, std::max(min_ttl, max_ttl));
  };
  if (const std::string* cc = find_header(headers, "cache-control")) {
    if (directive(*cc, "no-store") || directive(*cc, "no-cache") || directive(*cc, "private")) {
      return min_ttl;
    }
    if (auto s = directive(*cc, "s-maxage"); s && *s >= 0) return clamp(*s);
    if (auto m = directive(*cc, "max-age"); m && *m >= 0) return clamp(*m);
  }
  if (const std::string* expires = find_header(headers, "expires")) {
    auto at = parse_http_date(*expires);
    int64_t seconds = at ? (*at - now_ms) / 1000 : 0;  // an invalid date: already expired
    return clamp(std::max<int64_t>(seconds, 0));
  }
  return std::clamp<int64_t>(default_ttl, min_ttl, std::max(min_ttl, max_ttl));
}

std::optional<ByteRange> parse_range(std::string_view header, uint64_t size, bool* unsatisfiable) {
  *unsatisfiable = false;
  constexpr std::string_view kPrefix = "bytes=";
  if (header.substr(0, kPrefix.size()) != kPrefix) return std::nullopt;
  std::string_view spec = header.substr(kPrefix.size());
  if (spec.find(',') != std::string_view::npos) return std::nullopt;  // several: the whole body
  size_t dash = spec.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view s, uint64_t* out) {
    if (s.empty() || s.size() > 19) return false;
    uint64_t n = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c))) return false;
      n = n * 10 + static_cast<uint64_t>(c - '0');
    }
    *out = n;
    return true;
  };
  std::string_view a = spec.substr(0, dash), b = spec.substr(dash + 1);
  ByteRange r;
  if (a.empty()) {
    uint64_t suffix = 0;
    if (!number(b, &suffix)) return std::nullopt;
    if (suffix == 0 || size == 0) {
      *unsatisfiable = true;
      return std::nullopt;
    }
    r.first = suffix >= size ? 0 : size - suffix;
    r.last = size - 1;
    return r;
  }
  if (!number(a, &r.first)) return std::nullopt;
  if (b.empty()) {
    r.last = size == 0 ? 0 : size - 1;
  } else if (!number(b, &r.last) || r.last < r.first) {
    return std::nullopt;
  }
  if (r.first >= size) {
    *unsatisfiable = true;
    return std::nullopt;
  }
  r.last = std::min(r.last, size - 1);
  return r;
}

}  // namespace lambent::edge
