// The edge's cache: responses by cache key, in memory (least recently used first out, bounded in
// bytes) and on disk (bodies too large for memory, and what memory evicts; sealed under a key
// made for this run, so a copy left on disk by a crash cannot be read and a restart starts
// cold). Also the HTTP rules the edge caches by: the TTL of a response (CloudFront's rules for
// Cache-Control, Expires and a behaviour's min/default/max TTL) and byte ranges.
// Thread: the map is touched on the I/O thread only; disk reads and writes are blocking and
// belong on the worker pool (the methods say which).
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "base/crypto.h"
#include "base/error.h"
#include "edge/lambda_edge.h"

namespace lambent::edge {

struct CachedObject {
  unsigned status = 200;
  std::string status_description;
  Headers headers;
  uint64_t size = 0;
  std::shared_ptr<const std::string> body;  // null when the body is on disk only
  std::string disk_file;                    // "" when not on disk
  int64_t stored_ms = 0;
  int64_t ttl_ms = 0;
  std::string distribution_id;
  std::string uri;  // the path it was cached for (invalidation matches it)
  std::string etag, last_modified;
  bool fresh(int64_t now_ms) const { return now_ms < stored_ms + ttl_ms; }
};

class Cache final {
 public:
  // `dir` is emptied (a previous run's files cannot be read under this run's key).
  Cache(std::filesystem::path dir, uint64_t memory_bytes, uint64_t disk_bytes);

  // I/O thread. Null when absent.
  std::shared_ptr<const CachedObject> find(const std::string& key);
  // I/O thread: keeps `object` (its body in memory when it fits, else `disk` must have been
  // set by write_body first).
  void put(const std::string& key, std::shared_ptr<CachedObject> object);
  void erase(const std::string& key);
  // I/O thread: drops what an invalidation's paths cover (exact, or a prefix ending in *).
  size_t invalidate(std::string_view distribution_id, const std::vector<std::string>& paths);

  // Whether a body of this size lives on disk rather than in memory.
  bool on_disk(uint64_t size) const { return size > memory_item_limit_; }
  // Pool: writes a body to a new file; its name for CachedObject::disk_file.
  Result<std::string> write_body(std::string_view body);
  // Pool: the body of an object kept on disk.
  Result<std::string> read_body(const CachedObject& object) const;

  // I/O thread: the files of objects let go since the last call, for remove_files on the pool.
  std::vector<std::string> take_doomed();
  void remove_files(const std::vector<std::string>& names) const;

  uint64_t memory_used() const { return memory_used_; }
  uint64_t disk_used() const { return disk_used_; }
  size_t size() const { return map_.size(); }

 private:
  struct Slot {
    std::shared_ptr<CachedObject> object;
    std::list<std::string>::iterator lru;
  };
  void evict();
  // Drops an entry; its file (if any) is removed later unless `doom_file` is false.
  void forget(std::unordered_map<std::string, Slot>::iterator it, bool doom_file = true);

  std::filesystem::path dir_;
  uint64_t memory_limit_, disk_limit_;
  uint64_t memory_item_limit_;
  uint64_t memory_used_ = 0, disk_used_ = 0;
  Cipher cipher_;
  std::atomic<uint64_t> next_file_{0};
  std::unordered_map<std::string, Slot> map_;
  std::list<std::string> lru_;             // front: most recently used
  std::vector<std::string> doomed_files_;  // removed on the pool by the next write
};

// A response's TTL in seconds by CloudFront's rules: s-maxage, else max-age, clamped to
// [min, max]; no-store/no-cache/private: min (0 = not cached); Expires likewise; neither:
// default. `date_ms` is when it was received.
int64_t ttl_seconds(const Headers& headers, int64_t min_ttl, int64_t default_ttl, int64_t max_ttl,
                    int64_t now_ms);

// A Range header against a body of `size` bytes: one range [first, last], nullopt when the
// header is absent or not a single satisfiable bytes range (`unsatisfiable` then tells 416).
struct ByteRange {
  uint64_t first = 0, last = 0;
};
std::optional<ByteRange> parse_range(std::string_view header, uint64_t size, bool* unsatisfiable);

}  // namespace lambent::edge
