#include "telemetry/log_store.h"

#include <chrono>
#include <map>

#include "base/log.h"
#include "base/time.h"
#include "store/sqlite.h"

namespace lambent::telemetry {

Result<std::unique_ptr<LogStore>> LogStore::open(const std::string& path) {
  LAMBENT_TRY(db, store::Database::open(path));
  // Logs trade the fsync per batch for throughput: a process crash loses nothing committed.
  LAMBENT_TRY_VOID(db->exec("PRAGMA synchronous=NORMAL"));
  LAMBENT_TRY_VOID(db->exec(R"sql(
    CREATE TABLE IF NOT EXISTS log_streams (
      log_group TEXT NOT NULL, stream TEXT NOT NULL, created_ms INTEGER NOT NULL,
      first_event_ms INTEGER, last_event_ms INTEGER, last_ingestion_ms INTEGER,
      PRIMARY KEY (log_group, stream)) WITHOUT ROWID;
    -- id is the rowid: increasing and unique (retention deletes the oldest rows, so ids are never
    -- reused), without AUTOINCREMENT's extra write per row.
    CREATE TABLE IF NOT EXISTS log_events (
      id INTEGER PRIMARY KEY, log_group TEXT NOT NULL, stream TEXT NOT NULL,
      timestamp_ms INTEGER NOT NULL, ingestion_ms INTEGER NOT NULL, message TEXT NOT NULL);
    CREATE INDEX IF NOT EXISTS log_events_by_stream ON log_events(log_group, stream, id);
  )sql"));
  return std::unique_ptr<LogStore>(new LogStore(std::move(db)));
}

LogStore::LogStore(std::unique_ptr<store::Database> db) : db_(std::move(db)) {
  writer_ = std::thread([this] { run(); });
}

LogStore::~LogStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
}

void LogStore::append(std::string group, std::string stream, int64_t ts, std::string message) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(LogEvent{0, std::move(group), std::move(stream), ts, 0, std::move(message)});
    ++appended_;
    // The writer wakes on its own every few milliseconds; waking it per line would cost a
    // futex call per line and commit tiny batches.
    wake = queue_.size() == kWakeBatch;
  }
  if (wake) cv_.notify_one();
}

void LogStore::flush() {
  std::unique_lock lock(mu_);
  uint64_t target = appended_;
  ++flush_waiters_;
  cv_.notify_one();
  flushed_cv_.wait(lock, [&] { return committed_ >= target; });
  --flush_waiters_;
}

void LogStore::run() {
  std::deque<LogEvent> batch;
  for (;;) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(20),
                   [&] { return stopping_ || queue_.size() >= kWakeBatch || flush_waiters_ > 0; });
      if (queue_.empty()) {
        if (stopping_) return;
        continue;
      }
      batch.swap(queue_);
    }
    int64_t now = now_ms();
    {
      std::lock_guard db_lock(db_mu_);
      auto tx = store::Transaction::begin(*db_);
      bool ok = static_cast<bool>(tx);
      // One stream row update per stream per batch, not per event.
      struct Span {
        int64_t first, last;
      };
      std::map<std::pair<std::string, std::string>, Span> touched;
      auto ins = db_->prepare(
          "INSERT INTO log_events(log_group, stream, timestamp_ms, ingestion_ms, message) "
          "VALUES (?1, ?2, ?3, ?4, ?5)");
      ok = ok && ins;
      for (auto& e : batch) {
        if (!ok) break;
        ok = static_cast<bool>((*ins)->bind(1, e.group).bind(2, e.stream).bind(3, e.timestamp_ms)
                                   .bind(4, now).bind(5, e.message).run());
        (*ins)->reset();
        auto [it, fresh] = touched.try_emplace({e.group, e.stream}, Span{e.timestamp_ms, e.timestamp_ms});
        if (!fresh) {
          it->second.first = std::min(it->second.first, e.timestamp_ms);
          it->second.last = std::max(it->second.last, e.timestamp_ms);
        }
      }
      for (const auto& [key, span] : touched) {
        if (!ok) break;
        auto up = db_->prepare(
            "INSERT INTO log_streams VALUES (?1, ?2, ?3, ?3, ?4, ?5) ON CONFLICT DO UPDATE SET "
            "first_event_ms = min(first_event_ms, ?3), last_event_ms = max(last_event_ms, ?4), "
            "last_ingestion_ms = ?5");
        ok = up && (*up)->bind(1, key.first).bind(2, key.second).bind(3, span.first)
                       .bind(4, span.last).bind(5, now).run();
      }
      if (ok) ok = static_cast<bool>(tx->commit());
      if (!ok) log::error("log store: a batch of {} lines could not be written", batch.size());
    }
    {
      std::lock_guard lock(mu_);
      committed_ += batch.size();
    }
    flushed_cv_.notify_all();
    batch.clear();
  }
}

Result<std::vector<LogEvent>> LogStore::read_stream(const std::string& group,
                                                    const std::string& stream) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT id, timestamp_ms, ingestion_ms, message FROM log_events "
                               "WHERE log_group = ?1 AND stream = ?2 ORDER BY id"));
  st->bind(1, group).bind(2, stream);
  std::vector<LogEvent> out;
  for (;;) {
    LAMBENT_TRY(row, st->step());
    if (!row) break;
    out.push_back({st->integer(0), group, stream, st->integer(1), st->integer(2), st->text(3)});
  }
  st->reset();
  return out;
}

Result<std::vector<std::string>> LogStore::streams(const std::string& group) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT stream FROM log_streams WHERE log_group = ?1 ORDER BY stream"));
  st->bind(1, group);
  std::vector<std::string> out;
  for (;;) {
    LAMBENT_TRY(row, st->step());
    if (!row) break;
    out.push_back(st->text(0));
  }
  st->reset();
  return out;
}

}  // namespace lambent::telemetry
