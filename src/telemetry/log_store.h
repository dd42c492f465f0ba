// The function log store: log groups, streams and events with timestamp, ingestion time and a
// stable id, in SQLite (<data>/logs.db, WAL). Appends are queued and committed in batches by one
// writer thread (every 20 ms, or at 512 queued lines; the lines wait copied into 256 KiB mappings
// of their own, not one heap string each), so recording a line never blocks the invoke path; a
// committed batch survives kill -9 of the server (WAL, synchronous=NORMAL: only a power loss may
// drop the newest batch; lines appended in the last 20 ms before a kill -9 are lost).
// Thread: append() from any thread; read calls from any thread (they block briefly).
#pragma once

#include <atomic>
#include <condition_variable>
#include <climits>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string_view>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"

namespace lambent::sqlite {
class Database;
}

namespace lambent::telemetry {

// A log stream as appenders name it: made once (per environment), then passed with every line,
// so appending copies a pointer instead of two strings.
struct StreamKey {
  StreamKey(std::string g, std::string s) : group(std::move(g)), stream(std::move(s)) {}
  std::string group;
  std::string stream;
  // Bytes of this stream appended and not yet committed: an appender that floods (a function's
  // output) waits while it is over its share (LogStore::kStreamQueueBytes).
  mutable std::atomic<int64_t> queued_bytes{0};
};
using StreamRef = std::shared_ptr<const StreamKey>;

struct LogEvent {
  int64_t id = 0;  // increasing, unique across the store
  std::string group;
  std::string stream;
  int64_t timestamp_ms = 0;
  int64_t ingestion_ms = 0;
  std::string message;
};

struct GroupInfo {
  std::string name;
  int64_t created_ms = 0;
  std::optional<int64_t> retention_days;
  int64_t stored_bytes = 0;
};

struct StreamInfo {
  std::string name;
  int64_t created_ms = 0;
  std::optional<int64_t> first_event_ms, last_event_ms, last_ingestion_ms;
  int64_t stored_bytes = 0;
};

// Events of one group in (timestamp, id) order, forward or backward, from a cursor.
struct EventScan {
  std::string group;
  std::vector<std::string> streams;  // empty = every stream (with `stream_prefix`)
  std::string stream_prefix;
  int64_t start_ms = INT64_MIN;      // inclusive
  int64_t end_ms = INT64_MAX;        // exclusive
  bool forward = true;
  // Cursor: continue strictly after (forward) or before (backward) this position.
  std::optional<std::pair<int64_t, int64_t>> after;  // timestamp, id
};

class LogStore final {
 public:
  static Result<std::unique_ptr<LogStore>> open(const std::string& path);
  ~LogStore();

  static StreamRef stream_ref(std::string group, std::string stream);
  void append(const StreamRef& stream, int64_t timestamp_ms, std::string_view message);
  void append(std::string group, std::string stream, int64_t timestamp_ms,
              std::string_view message);
  // Queued bytes at which an appender should stop producing until the writer catches up: per
  // stream, and in all. append() itself never refuses (START/END/REPORT lines must not be lost);
  // the producers of bulk output (environments) check congested() and stop reading.
  static constexpr int64_t kStreamQueueBytes = 1 << 20;
  static constexpr int64_t kTotalQueueBytes = 32 << 20;
  bool congested(const StreamRef& stream) const {
    return stream->queued_bytes.load(std::memory_order_relaxed) >= kStreamQueueBytes ||
           queued_bytes_.load(std::memory_order_relaxed) >= kTotalQueueBytes;
  }
  int64_t queued_bytes() const { return queued_bytes_.load(std::memory_order_relaxed); }
  // Off: append() drops lines (the benchmark of the cost of logging; LogType=Tail still works).
  void set_enabled(bool on) { enabled_ = on; }
  // The bounds on stored events and on their message bytes (0 = none), enforced with retention
  // every minute by the writer: the oldest events go first.
  void set_max_events(int64_t n) { max_events_ = n; }
  void set_max_bytes(int64_t n) { max_bytes_ = n; }
  // Waits until everything appended so far is committed.
  void flush();
  // Events of one stream in order (for tests and the logs API).
  Result<std::vector<LogEvent>> read_stream(const std::string& group, const std::string& stream);
  Result<std::vector<std::string>> streams(const std::string& group);

  // The logs API (services/logs/logs_api.cc). kNotFound for an absent group or stream, kAlreadyExists for
  // a duplicate.
  Result<std::vector<GroupInfo>> groups(std::string_view prefix, std::string_view after,
                                        size_t limit);
  Result<GroupInfo> group(const std::string& name);
  Result<void> create_group(const std::string& name);
  Result<void> delete_group(const std::string& name);
  Result<void> set_retention(const std::string& name, std::optional<int64_t> days);
  // Streams ordered by name (or by last event time), paged by offset.
  Result<std::vector<StreamInfo>> stream_infos(const std::string& group, std::string_view prefix,
                                               bool by_last_event, bool descending, size_t offset,
                                               size_t limit);
  Result<void> create_stream(const std::string& group, const std::string& stream);
  Result<void> delete_stream(const std::string& group, const std::string& stream);
  // Stores events now (PutLogEvents), in one transaction.
  Result<void> put_events(const std::string& group, const std::string& stream,
                          const std::vector<std::pair<int64_t, std::string>>& events);
  // Visits events in order until `visit` returns false or `max_rows` rows were read; returns
  // whether the scan reached the end. kNotFound for an absent group.
  Result<bool> scan(const EventScan& q, size_t max_rows,
                    const std::function<bool(const LogEvent&)>& visit);
  // Deletes events past their group's retention and, beyond `max_events` in all or `max_bytes`
  // of messages in all, the oldest.
  Result<int64_t> enforce_limits(int64_t now_ms, int64_t max_events, int64_t max_bytes = 0);

 private:
  // Lines waiting for the writer, copied into mappings of their own (log_store.cc): a flood's
  // backlog of a million short lines would otherwise spread the general heap, whose pages the
  // server's long-lived small objects then pin after the backlog is gone.
  class Chunk;
  explicit LogStore(std::unique_ptr<sqlite::Database> db);
  void run();
  Result<void> write_batch(const std::vector<Chunk*>& batch);
  Chunk* take_chunk(size_t at_least);           // under mu_
  // Under mu_: keeps a few written chunks for reuse, leaving the others in `chunks`.
  void give_back(std::vector<Chunk*>& chunks);
  // The stream's row id, creating its group and stream rows when new (writer, under db_mu_).
  Result<int64_t> stream_id_locked(const StreamKey& key, int64_t now);
  Result<int64_t> find_stream_locked(const std::string& group, const std::string& stream);
  // Widens a stream's event span and adds to its stored bytes (under db_mu_).
  Result<void> touch_stream_locked(int64_t id, int64_t first, int64_t last, int64_t now,
                                   int64_t bytes);

  std::unique_ptr<sqlite::Database> db_;
  std::mutex mu_;
  std::condition_variable cv_, flushed_cv_;
  std::vector<Chunk*> queue_;  // the last one is being filled
  std::vector<Chunk*> spare_;
  size_t queued_lines_ = 0;
  static constexpr size_t kWakeBatch = 512;
  uint64_t appended_ = 0, committed_ = 0;
  int flush_waiters_ = 0;
  bool stopping_ = false;
  std::atomic<int64_t> max_events_{0};
  std::atomic<int64_t> max_bytes_{0};
  std::atomic<int64_t> queued_bytes_{0};
  std::atomic<bool> enabled_{true};
  std::mutex db_mu_;
  // Stream ids by key, a cache of the writer's (guarded by db_mu_). Keyed by the StreamKey's
  // address while its StreamRef is alive (held by the cache entry itself).
  std::map<const StreamKey*, std::pair<StreamRef, int64_t>> stream_ids_;
  std::thread writer_;
};

}  // namespace lambent::telemetry
