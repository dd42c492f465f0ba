#include "telemetry/log_store.h"

#include <chrono>
#include <map>

#include "base/log.h"
#include "base/time.h"
#include "store/sqlite.h"

namespace lambent::telemetry {

namespace {

// Each entry moves logs.db one version forward (PRAGMA user_version); never edit a shipped entry.
const char* const kMigrations[] = {
    // 1: groups and streams get integer ids; events refer to their stream by id (the first
    // layout repeated both names in every row and every index entry). Carries over a layout-0
    // database's rows.
    R"sql(
    CREATE TABLE log_groups (
      id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_ms INTEGER NOT NULL,
      retention_days INTEGER);
    CREATE TABLE log_streams_v1 (
      id INTEGER PRIMARY KEY, group_id INTEGER NOT NULL REFERENCES log_groups(id) ON DELETE CASCADE,
      name TEXT NOT NULL, created_ms INTEGER NOT NULL, first_event_ms INTEGER,
      last_event_ms INTEGER, last_ingestion_ms INTEGER, UNIQUE (group_id, name));
    -- id is the rowid: increasing and unique (never reused while newer rows exist), without
    -- AUTOINCREMENT's extra write per row.
    CREATE TABLE log_events_v1 (
      id INTEGER PRIMARY KEY, stream_id INTEGER NOT NULL, timestamp_ms INTEGER NOT NULL,
      ingestion_ms INTEGER NOT NULL, message TEXT NOT NULL);
    CREATE TABLE IF NOT EXISTS log_streams (
      log_group TEXT NOT NULL, stream TEXT NOT NULL, created_ms INTEGER NOT NULL,
      first_event_ms INTEGER, last_event_ms INTEGER, last_ingestion_ms INTEGER,
      PRIMARY KEY (log_group, stream)) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS log_events (
      id INTEGER PRIMARY KEY, log_group TEXT NOT NULL, stream TEXT NOT NULL,
      timestamp_ms INTEGER NOT NULL, ingestion_ms INTEGER NOT NULL, message TEXT NOT NULL);
    INSERT INTO log_groups(name, created_ms)
      SELECT log_group, min(created_ms) FROM log_streams GROUP BY log_group;
    INSERT INTO log_streams_v1(group_id, name, created_ms, first_event_ms, last_event_ms,
                               last_ingestion_ms)
      SELECT g.id, s.stream, s.created_ms, s.first_event_ms, s.last_event_ms, s.last_ingestion_ms
      FROM log_streams s JOIN log_groups g ON g.name = s.log_group;
    INSERT INTO log_events_v1(id, stream_id, timestamp_ms, ingestion_ms, message)
      SELECT e.id, s.id, e.timestamp_ms, e.ingestion_ms, e.message
      FROM log_events e JOIN log_groups g ON g.name = e.log_group
      JOIN log_streams_v1 s ON s.group_id = g.id AND s.name = e.stream;
    DROP TABLE log_events;
    DROP TABLE log_streams;
    ALTER TABLE log_streams_v1 RENAME TO log_streams;
    ALTER TABLE log_events_v1 RENAME TO log_events;
    CREATE INDEX log_events_by_stream ON log_events(stream_id, id);
    )sql",
};

}  // namespace

Result<std::unique_ptr<LogStore>> LogStore::open(const std::string& path) {
  LAMBENT_TRY(db, store::Database::open(path));
  // Logs trade the fsync per batch for throughput: a process crash loses nothing committed.
  LAMBENT_TRY_VOID(db->exec("PRAGMA synchronous=NORMAL"));
  LAMBENT_TRY(st, db->prepare("PRAGMA user_version"));
  LAMBENT_TRY(row, st->step());
  int current = row ? static_cast<int>(st->integer(0)) : 0;
  st->reset();
  constexpr int kLatest = static_cast<int>(std::size(kMigrations));
  if (current > kLatest) {
    return make_error(Errc::kInvalidArgument,
                      "the log database has schema version " + std::to_string(current) +
                          ", newer than this lambent (" + std::to_string(kLatest) + ")");
  }
  for (int v = current; v < kLatest; ++v) {
    LAMBENT_TRY(tx, store::Transaction::begin(*db));
    LAMBENT_TRY_VOID(db->exec(kMigrations[v]));
    LAMBENT_TRY_VOID(db->exec("PRAGMA user_version = " + std::to_string(v + 1)));
    LAMBENT_TRY_VOID(tx.commit());
  }
  return std::unique_ptr<LogStore>(new LogStore(std::move(db)));
}

StreamRef LogStore::stream_ref(std::string group, std::string stream) {
  return std::make_shared<const StreamKey>(StreamKey{std::move(group), std::move(stream)});
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
  append(stream_ref(std::move(group), std::move(stream)), ts, std::move(message));
}

void LogStore::append(const StreamRef& stream, int64_t ts, std::string message) {
  bool wake;
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{stream, ts, std::move(message)});
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
  std::deque<Pending> batch;
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
    if (auto r = write_batch(batch); !r) {
      log::error("log store: a batch of {} lines could not be written: {}", batch.size(),
                 r.error().message);
    }
    {
      std::lock_guard lock(mu_);
      committed_ += batch.size();
    }
    flushed_cv_.notify_all();
    batch.clear();
  }
}

Result<int64_t> LogStore::find_stream_locked(const std::string& group, const std::string& stream) {
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT s.id FROM log_streams s JOIN log_groups g ON g.id = s.group_id "
                      "WHERE g.name = ?1 AND s.name = ?2"));
  st->bind(1, group).bind(2, stream);
  LAMBENT_TRY(row, st->step());
  int64_t id = row ? st->integer(0) : 0;
  st->reset();
  if (!row) return make_error(Errc::kNotFound, "no such log stream");
  return id;
}

Result<int64_t> LogStore::stream_id_locked(const StreamKey& key, int64_t now) {
  auto found = find_stream_locked(key.group, key.stream);
  if (found) return found;
  {
    LAMBENT_TRY(st, db_->prepare("INSERT INTO log_groups(name, created_ms) VALUES (?1, ?2) "
                                 "ON CONFLICT(name) DO NOTHING"));
    LAMBENT_TRY_VOID(st->bind(1, key.group).bind(2, now).run());
  }
  LAMBENT_TRY(st, db_->prepare(
                      "INSERT INTO log_streams(group_id, name, created_ms) "
                      "SELECT id, ?2, ?3 FROM log_groups WHERE name = ?1"));
  LAMBENT_TRY_VOID(st->bind(1, key.group).bind(2, key.stream).bind(3, now).run());
  return db_->last_insert_rowid();
}

Result<void> LogStore::write_batch(std::deque<Pending>& batch) {
  int64_t now = now_ms();
  std::lock_guard db_lock(db_mu_);
  LAMBENT_TRY(tx, store::Transaction::begin(*db_));
  // One stream row update per stream per batch, not per event.
  struct Span {
    int64_t first, last;
  };
  std::map<int64_t, Span> touched;
  for (auto& e : batch) {
    int64_t id;
    if (auto it = stream_ids_.find(e.stream.get()); it != stream_ids_.end()) {
      id = it->second.second;
    } else {
      LAMBENT_TRY(made, stream_id_locked(*e.stream, now));
      id = made;
      stream_ids_.emplace(e.stream.get(), std::make_pair(e.stream, id));
    }
    LAMBENT_TRY(ins, db_->prepare("INSERT INTO log_events(stream_id, timestamp_ms, ingestion_ms, "
                                  "message) VALUES (?1, ?2, ?3, ?4)"));
    LAMBENT_TRY_VOID(ins->bind(1, id).bind(2, e.timestamp_ms).bind(3, now).bind(4, e.message).run());
    auto [it, fresh] = touched.try_emplace(id, Span{e.timestamp_ms, e.timestamp_ms});
    if (!fresh) {
      it->second.first = std::min(it->second.first, e.timestamp_ms);
      it->second.last = std::max(it->second.last, e.timestamp_ms);
    }
  }
  for (const auto& [id, span] : touched) {
    LAMBENT_TRY(up, db_->prepare(
                        "UPDATE log_streams SET first_event_ms = min(coalesce(first_event_ms, ?2), "
                        "?2), last_event_ms = max(coalesce(last_event_ms, ?3), ?3), "
                        "last_ingestion_ms = ?4 WHERE id = ?1"));
    LAMBENT_TRY_VOID(up->bind(1, id).bind(2, span.first).bind(3, span.last).bind(4, now).run());
  }
  // Streams whose appenders are gone (only the cache holds them) leave the cache.
  std::erase_if(stream_ids_, [](const auto& kv) { return kv.second.first.use_count() == 1; });
  return tx.commit();
}

Result<std::vector<LogEvent>> LogStore::read_stream(const std::string& group,
                                                    const std::string& stream) {
  std::lock_guard lock(db_mu_);
  std::vector<LogEvent> out;
  auto id = find_stream_locked(group, stream);
  if (!id) {
    if (id.error().code == Errc::kNotFound) return out;
    return id.error();
  }
  LAMBENT_TRY(st, db_->prepare("SELECT id, timestamp_ms, ingestion_ms, message FROM log_events "
                               "WHERE stream_id = ?1 ORDER BY id"));
  st->bind(1, *id);
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
  LAMBENT_TRY(st, db_->prepare("SELECT s.name FROM log_streams s JOIN log_groups g "
                               "ON g.id = s.group_id WHERE g.name = ?1 ORDER BY s.name"));
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
