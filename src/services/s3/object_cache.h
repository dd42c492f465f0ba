// Small objects' rows in memory, so that GETs of objects that live in their row (at most
// objects::kInlineMax bytes) are answered without a trip to the pool. Writes (put, copy,
// delete, tagging, multipart completion) drop the key after their commit and before they answer;
// a GET that missed fills the entry only if no write happened since it started reading (the
// epoch), so the cache never serves a version older than an acknowledged write. Bounded in
// bytes, least recently used first out.
// Thread: any (one mutex).
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "store/object.h"

namespace lambent::s3 {

class ObjectCache final {
 public:
  explicit ObjectCache(size_t max_bytes) : max_bytes_(max_bytes) {}

  std::shared_ptr<const store::ObjectRecord> find(const std::string& bucket,
                                                  const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = map_.find(id(bucket, key));
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second);
    return it->second->rec;
  }
  uint64_t epoch() {
    std::lock_guard lock(mu_);
    return epoch_;
  }
  // A row read from the store by a GET that began at `epoch`.
  void fill(store::ObjectRecord rec, uint64_t epoch) {
    if (!rec.pieces.empty()) return;  // only objects that live in their row
    size_t cost = rec.inline_data.size() + rec.meta.size() + rec.key.size() + 256;
    if (cost > max_bytes_ / 16) return;
    std::lock_guard lock(mu_);
    if (epoch != epoch_) return;  // a write since: this row may be stale
    std::string k = id(rec.bucket, rec.key);
    if (map_.count(k)) return;
    lru_.push_front({k, std::make_shared<const store::ObjectRecord>(std::move(rec)), cost});
    map_[k] = lru_.begin();
    bytes_ += cost;
    while (bytes_ > max_bytes_ && !lru_.empty()) {
      bytes_ -= lru_.back().cost;
      map_.erase(lru_.back().id);
      lru_.pop_back();
    }
  }
  // After a write to the key is committed, before it is acknowledged.
  void forget(const std::string& bucket, const std::string& key) {
    std::lock_guard lock(mu_);
    ++epoch_;
    auto it = map_.find(id(bucket, key));
    if (it == map_.end()) return;
    bytes_ -= it->second->cost;
    lru_.erase(it->second);
    map_.erase(it);
  }

 private:
  static std::string id(const std::string& bucket, const std::string& key) {
    std::string out = bucket;
    out.push_back('/');
    out += key;
    return out;
  }
  struct Entry {
    std::string id;
    std::shared_ptr<const store::ObjectRecord> rec;
    size_t cost;
  };
  const size_t max_bytes_;
  std::mutex mu_;
  std::list<Entry> lru_;
  std::unordered_map<std::string, std::list<Entry>::iterator> map_;
  size_t bytes_ = 0;
  uint64_t epoch_ = 0;
};

}  // namespace lambent::s3
