// The function log store: log groups, streams and events with timestamp, ingestion time and a
// stable id, in SQLite (<data>/logs.db, WAL). Appends are queued and committed in batches by one
// writer thread (every 20 ms, or at 512 queued lines), so recording a line never blocks the invoke
// path; a committed batch survives kill -9 of the server (WAL, synchronous=NORMAL: only a power
// loss may drop the newest batch; lines appended in the last 20 ms before a kill -9 are lost).
// Thread: append() from any thread; read calls from any thread (they block briefly).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "base/error.h"

namespace lambent::store {
class Database;
}

namespace lambent::telemetry {

struct LogEvent {
  int64_t id = 0;  // increasing, unique across the store
  std::string group;
  std::string stream;
  int64_t timestamp_ms = 0;
  int64_t ingestion_ms = 0;
  std::string message;
};

class LogStore final {
 public:
  static Result<std::unique_ptr<LogStore>> open(const std::string& path);
  ~LogStore();

  void append(std::string group, std::string stream, int64_t timestamp_ms, std::string message);
  // Waits until everything appended so far is committed.
  void flush();
  // Events of one stream in order (for tests and the logs API).
  Result<std::vector<LogEvent>> read_stream(const std::string& group, const std::string& stream);
  Result<std::vector<std::string>> streams(const std::string& group);

 private:
  explicit LogStore(std::unique_ptr<store::Database> db);
  void run();

  std::unique_ptr<store::Database> db_;
  std::mutex mu_;
  std::condition_variable cv_, flushed_cv_;
  std::deque<LogEvent> queue_;
  static constexpr size_t kWakeBatch = 512;
  uint64_t appended_ = 0, committed_ = 0;
  int flush_waiters_ = 0;
  bool stopping_ = false;
  std::mutex db_mu_;
  std::thread writer_;
};

}  // namespace lambent::telemetry
