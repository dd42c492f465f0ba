#include "telemetry/log_store.h"

#include <sys/mman.h>

#include <chrono>
#include <cstring>
#include <map>
#include <new>

#include "base/log.h"
#include "base/time.h"
#include "sqlite/sqlite.h"

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
      last_event_ms INTEGER, last_ingestion_ms INTEGER, stored_bytes INTEGER NOT NULL DEFAULT 0,
      UNIQUE (group_id, name));
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
    CREATE INDEX log_events_by_stream ON log_events(stream_id, timestamp_ms, id);
    UPDATE log_streams SET stored_bytes =
      (SELECT coalesce(sum(length(message)), 0) FROM log_events WHERE stream_id = log_streams.id);
    )sql",
};

}  // namespace

// A mapping of queued lines, each a header and its bytes (8-aligned), with the streams its lines
// name kept alive. Filled by appenders under mu_, read by the writer once swapped out.
class LogStore::Chunk {
 public:
  static constexpr size_t kSize = size_t{256} << 10;
  struct Line {
    int64_t timestamp_ms;
    uint32_t stream;  // index into streams_
    uint32_t size;
  };
  static size_t footprint(size_t message_size) { return sizeof(Line) + (message_size + 7) / 8 * 8; }

  explicit Chunk(size_t at_least) : capacity_(std::max(kSize, at_least)) {
    void* p =
        ::mmap(nullptr, capacity_, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
    data_ = static_cast<char*>(p);
  }
  ~Chunk() { ::munmap(data_, capacity_); }
  Chunk(const Chunk&) = delete;
  Chunk& operator=(const Chunk&) = delete;

  size_t capacity() const { return capacity_; }
  bool fits(size_t message_size) const { return used_ + footprint(message_size) <= capacity_; }
  void add(const StreamRef& stream, int64_t timestamp_ms, std::string_view message) {
    if (streams_.empty() || streams_.back() != stream) streams_.push_back(stream);
    Line line{timestamp_ms, static_cast<uint32_t>(streams_.size() - 1),
              static_cast<uint32_t>(message.size())};
    std::memcpy(data_ + used_, &line, sizeof line);
    std::memcpy(data_ + used_ + sizeof line, message.data(), message.size());
    used_ += footprint(message.size());
  }
  // f(stream, timestamp_ms, message) for each line in order.
  template <class F>
  void each(F f) const {
    for (size_t at = 0; at < used_;) {
      Line line;
      std::memcpy(&line, data_ + at, sizeof line);
      f(streams_[line.stream], line.timestamp_ms,
        std::string_view(data_ + at + sizeof line, line.size));
      at += footprint(line.size);
    }
  }
  // Empty again, for reuse (its pages stay).
  void clear() {
    used_ = 0;
    streams_.clear();
  }

 private:
  char* data_ = nullptr;
  size_t capacity_;
  size_t used_ = 0;
  std::vector<StreamRef> streams_;
};

Result<std::unique_ptr<LogStore>> LogStore::open(const std::string& path) {
  LAMBENT_TRY(db, sqlite::Database::open(path));
  // Logs trade the fsync per batch for throughput: a process crash loses nothing committed.
  LAMBENT_TRY_VOID(db->exec("PRAGMA synchronous=NORMAL"));
  LAMBENT_TRY_VOID(db->migrate(kMigrations, std::size(kMigrations), "log database"));
  return std::unique_ptr<LogStore>(new LogStore(std::move(db)));
}

StreamRef LogStore::stream_ref(std::string group, std::string stream) {
  return std::make_shared<const StreamKey>(std::move(group), std::move(stream));
}

LogStore::LogStore(std::unique_ptr<sqlite::Database> db) : db_(std::move(db)) {
  writer_ = std::thread([this] { run(); });
}

LogStore::~LogStore() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
  for (Chunk* c : queue_) delete c;
  for (Chunk* c : spare_) delete c;
}

void LogStore::append(std::string group, std::string stream, int64_t ts, std::string_view message) {
  append(stream_ref(std::move(group), std::move(stream)), ts, message);
}

void LogStore::append(const StreamRef& stream, int64_t ts, std::string_view message) {
  if (!enabled_.load(std::memory_order_relaxed)) return;
  bool wake;
  const auto bytes = static_cast<int64_t>(message.size());
  stream->queued_bytes.fetch_add(bytes, std::memory_order_relaxed);
  queued_bytes_.fetch_add(bytes, std::memory_order_relaxed);
  {
    std::lock_guard lock(mu_);
    if (queue_.empty() || !queue_.back()->fits(message.size())) {
      queue_.push_back(take_chunk(Chunk::footprint(message.size())));
    }
    queue_.back()->add(stream, ts, message);
    ++appended_;
    // The writer wakes on its own every few milliseconds; waking it per line would cost a
    // futex call per line and commit tiny batches.
    wake = ++queued_lines_ == kWakeBatch;
  }
  if (wake) cv_.notify_one();
}

LogStore::Chunk* LogStore::take_chunk(size_t at_least) {
  if (!spare_.empty() && spare_.back()->capacity() >= at_least) {
    Chunk* c = spare_.back();
    spare_.pop_back();
    return c;
  }
  return new Chunk(at_least);
}

void LogStore::give_back(std::vector<Chunk*>& chunks) {
  // Two chunks kept (512 KiB) serve a steady stream of lines without a system call; a backlog's
  // others are left in `chunks`, to be unmapped by the caller outside the lock.
  std::erase_if(chunks, [this](Chunk* c) {
    if (spare_.size() >= 2 || c->capacity() != Chunk::kSize) return false;
    c->clear();
    spare_.push_back(c);
    return true;
  });
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
  std::vector<Chunk*> batch;
  size_t lines = 0;
  auto next_limits = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  int64_t bytes_since_limits = 0;
  for (;;) {
    // Every minute, and as soon as an eighth of the byte bound came in since the last time (a
    // flood must not overshoot the bound by a minute of output).
    const int64_t max_bytes = max_bytes_.load();
    if (std::chrono::steady_clock::now() >= next_limits ||
        (max_bytes > 0 && bytes_since_limits > max_bytes / 8)) {
      bytes_since_limits = 0;
      next_limits = std::chrono::steady_clock::now() + std::chrono::minutes(1);
      if (auto r = enforce_limits(now_ms(), max_events_.load(), max_bytes); !r) {
        log::error("log store: enforcing retention failed: {}", r.error().message);
      }
    }
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(20),
                   [&] { return stopping_ || queued_lines_ >= kWakeBatch || flush_waiters_ > 0; });
      if (queued_lines_ == 0) {
        if (stopping_) return;
        continue;
      }
      batch.swap(queue_);
      lines = queued_lines_;
      queued_lines_ = 0;
    }
    if (auto r = write_batch(batch); !r) {
      log::error("log store: a batch of {} lines could not be written: {}", lines,
                 r.error().message);
    }
    int64_t bytes = 0;
    for (const Chunk* c : batch) {
      c->each([&](const StreamRef& stream, int64_t, std::string_view message) {
        const auto n = static_cast<int64_t>(message.size());
        stream->queued_bytes.fetch_sub(n, std::memory_order_relaxed);
        bytes += n;
      });
    }
    queued_bytes_.fetch_sub(bytes, std::memory_order_relaxed);
    bytes_since_limits += bytes;
    {
      std::lock_guard lock(mu_);
      committed_ += lines;
      give_back(batch);
    }
    flushed_cv_.notify_all();
    for (Chunk* c : batch) delete c;  // unmapped without holding up appenders
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

Result<void> LogStore::touch_stream_locked(int64_t id, int64_t first, int64_t last, int64_t now,
                                          int64_t bytes) {
  LAMBENT_TRY(up, db_->prepare(
                      "UPDATE log_streams SET first_event_ms = min(coalesce(first_event_ms, ?2), "
                      "?2), last_event_ms = max(coalesce(last_event_ms, ?3), ?3), "
                      "last_ingestion_ms = ?4, stored_bytes = stored_bytes + ?5 WHERE id = ?1"));
  return up->bind(1, id).bind(2, first).bind(3, last).bind(4, now).bind(5, bytes).run();
}

Result<void> LogStore::write_batch(const std::vector<Chunk*>& batch) {
  int64_t now = now_ms();
  std::lock_guard db_lock(db_mu_);
  LAMBENT_TRY(tx, sqlite::Transaction::begin(*db_));
  // One stream row update per stream per batch, not per event.
  struct Span {
    int64_t first, last, bytes;
  };
  std::map<int64_t, Span> touched;
  Result<void> failed;
  for (const Chunk* c : batch) {
    c->each([&](const StreamRef& stream, int64_t timestamp_ms, std::string_view message) {
      if (!failed) return;
      auto r = [&]() -> Result<void> {
        int64_t id;
        if (auto it = stream_ids_.find(stream.get()); it != stream_ids_.end()) {
          id = it->second.second;
        } else {
          LAMBENT_TRY(made, stream_id_locked(*stream, now));
          id = made;
          stream_ids_.emplace(stream.get(), std::make_pair(stream, id));
        }
        LAMBENT_TRY(ins, db_->prepare("INSERT INTO log_events(stream_id, timestamp_ms, "
                                      "ingestion_ms, message) VALUES (?1, ?2, ?3, ?4)"));
        LAMBENT_TRY_VOID(
            ins->bind(1, id).bind(2, timestamp_ms).bind(3, now).bind(4, message).run());
        auto [it, fresh] = touched.try_emplace(id, Span{timestamp_ms, timestamp_ms, 0});
        it->second.first = std::min(it->second.first, timestamp_ms);
        it->second.last = std::max(it->second.last, timestamp_ms);
        it->second.bytes += static_cast<int64_t>(message.size());
        return {};
      }();
      if (!r) failed = r;
    });
  }
  LAMBENT_TRY_VOID(failed);
  for (const auto& [id, span] : touched) {
    LAMBENT_TRY_VOID(touch_stream_locked(id, span.first, span.last, now, span.bytes));
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
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->integer(0), group, stream, st->integer(1), st->integer(2), st->text(3)});
  }));
  return out;
}

Result<std::vector<std::string>> LogStore::streams(const std::string& group) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(st, db_->prepare("SELECT s.name FROM log_streams s JOIN log_groups g "
                               "ON g.id = s.group_id WHERE g.name = ?1 ORDER BY s.name"));
  st->bind(1, group);
  std::vector<std::string> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back(st->text(0));
  }));
  return out;
}

}  // namespace lambent::telemetry

namespace lambent::telemetry {
namespace {

Result<int64_t> group_id_locked(sqlite::Database& db, const std::string& name) {
  LAMBENT_TRY(st, db.prepare("SELECT id FROM log_groups WHERE name = ?1"));
  st->bind(1, name);
  LAMBENT_TRY(row, st->step());
  int64_t id = row ? st->integer(0) : 0;
  st->reset();
  if (!row) return make_error(Errc::kNotFound, "The specified log group does not exist.");
  return id;
}

std::optional<int64_t> opt_int(sqlite::Statement& st, int col) {
  if (st.is_null(col)) return std::nullopt;
  return st.integer(col);
}

// LIKE pattern for a literal prefix.
std::string like_prefix(std::string_view prefix) {
  std::string out;
  for (char c : prefix) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

Result<std::vector<GroupInfo>> LogStore::groups(std::string_view prefix, std::string_view after,
                                                size_t limit) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT g.name, g.created_ms, g.retention_days, "
                      "(SELECT coalesce(sum(stored_bytes), 0) FROM log_streams WHERE group_id = g.id) "
                      "FROM log_groups g WHERE g.name LIKE ?1 ESCAPE '\\' AND g.name > ?2 "
                      "ORDER BY g.name LIMIT ?3"));
  st->bind(1, like_prefix(prefix)).bind(2, after).bind(3, static_cast<int64_t>(limit));
  std::vector<GroupInfo> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->text(0), st->integer(1), opt_int(*st, 2), st->integer(3)});
  }));
  return out;
}

Result<GroupInfo> LogStore::group(const std::string& name) {
  LAMBENT_TRY(all, groups(name, "", 1));
  if (all.empty() || all[0].name != name) {
    return make_error(Errc::kNotFound, "The specified log group does not exist.");
  }
  return all[0];
}

Result<void> LogStore::create_group(const std::string& name) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(st, db_->prepare("INSERT INTO log_groups(name, created_ms) VALUES (?1, ?2)"));
  auto r = st->bind(1, name).bind(2, now_ms()).run();
  if (!r && r.error().code == Errc::kAlreadyExists) {
    return make_error(Errc::kAlreadyExists, "The specified log group already exists");
  }
  return r;
}

Result<void> LogStore::delete_group(const std::string& name) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(id, group_id_locked(*db_, name));
  LAMBENT_TRY(tx, sqlite::Transaction::begin(*db_));
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM log_events WHERE stream_id IN "
                                 "(SELECT id FROM log_streams WHERE group_id = ?1)"));
    LAMBENT_TRY_VOID(st->bind(1, id).run());
  }
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM log_streams WHERE group_id = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, id).run());
  }
  LAMBENT_TRY(st, db_->prepare("DELETE FROM log_groups WHERE id = ?1"));
  LAMBENT_TRY_VOID(st->bind(1, id).run());
  LAMBENT_TRY_VOID(tx.commit());
  stream_ids_.clear();  // the writer re-creates rows for streams still being written
  return {};
}

Result<void> LogStore::set_retention(const std::string& name, std::optional<int64_t> days) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(id, group_id_locked(*db_, name));
  LAMBENT_TRY(st, db_->prepare("UPDATE log_groups SET retention_days = ?2 WHERE id = ?1"));
  st->bind(1, id);
  if (days) {
    st->bind(2, *days);
  } else {
    st->bind_null(2);
  }
  return st->run();
}

Result<std::vector<StreamInfo>> LogStore::stream_infos(const std::string& group,
                                                       std::string_view prefix, bool by_last_event,
                                                       bool descending, size_t offset,
                                                       size_t limit) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(gid, group_id_locked(*db_, group));
  std::string order = by_last_event ? "coalesce(last_event_ms, 0)" : "name";
  std::string dir = descending ? " DESC" : " ASC";
  LAMBENT_TRY(st, db_->prepare(
                      "SELECT name, created_ms, first_event_ms, last_event_ms, last_ingestion_ms, "
                      "stored_bytes FROM log_streams WHERE group_id = ?1 AND name LIKE ?2 "
                      "ESCAPE '\\' ORDER BY " + order + dir + ", name" + dir +
                      " LIMIT ?3 OFFSET ?4"));
  st->bind(1, gid).bind(2, like_prefix(prefix)).bind(3, static_cast<int64_t>(limit))
      .bind(4, static_cast<int64_t>(offset));
  std::vector<StreamInfo> out;
  LAMBENT_TRY_VOID(st->each([&] {
    out.push_back({st->text(0), st->integer(1), opt_int(*st, 2), opt_int(*st, 3), opt_int(*st, 4),
                   st->integer(5)});
  }));
  return out;
}

Result<void> LogStore::create_stream(const std::string& group, const std::string& stream) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(gid, group_id_locked(*db_, group));
  LAMBENT_TRY(st, db_->prepare(
                      "INSERT INTO log_streams(group_id, name, created_ms) VALUES (?1, ?2, ?3)"));
  auto r = st->bind(1, gid).bind(2, stream).bind(3, now_ms()).run();
  if (!r && r.error().code == Errc::kAlreadyExists) {
    return make_error(Errc::kAlreadyExists, "The specified log stream already exists");
  }
  return r;
}

Result<void> LogStore::delete_stream(const std::string& group, const std::string& stream) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(gid, group_id_locked(*db_, group));
  (void)gid;
  auto id = find_stream_locked(group, stream);
  if (!id) {
    if (id.error().code == Errc::kNotFound) {
      return make_error(Errc::kNotFound, "The specified log stream does not exist.");
    }
    return id.error();
  }
  LAMBENT_TRY(tx, sqlite::Transaction::begin(*db_));
  {
    LAMBENT_TRY(st, db_->prepare("DELETE FROM log_events WHERE stream_id = ?1"));
    LAMBENT_TRY_VOID(st->bind(1, *id).run());
  }
  LAMBENT_TRY(st, db_->prepare("DELETE FROM log_streams WHERE id = ?1"));
  LAMBENT_TRY_VOID(st->bind(1, *id).run());
  LAMBENT_TRY_VOID(tx.commit());
  stream_ids_.clear();
  return {};
}

Result<void> LogStore::put_events(const std::string& group, const std::string& stream,
                                  const std::vector<std::pair<int64_t, std::string>>& events) {
  std::lock_guard lock(db_mu_);
  auto id = find_stream_locked(group, stream);
  if (!id) {
    if (id.error().code != Errc::kNotFound) return id.error();
    LAMBENT_TRY(gid, group_id_locked(*db_, group));
    (void)gid;
    return make_error(Errc::kNotFound, "The specified log stream does not exist.");
  }
  int64_t now = now_ms();
  LAMBENT_TRY(tx, sqlite::Transaction::begin(*db_));
  int64_t first = INT64_MAX, last = INT64_MIN, bytes = 0;
  for (const auto& [ts, message] : events) {
    LAMBENT_TRY(ins, db_->prepare("INSERT INTO log_events(stream_id, timestamp_ms, ingestion_ms, "
                                  "message) VALUES (?1, ?2, ?3, ?4)"));
    LAMBENT_TRY_VOID(ins->bind(1, *id).bind(2, ts).bind(3, now).bind(4, message).run());
    first = std::min(first, ts);
    last = std::max(last, ts);
    bytes += static_cast<int64_t>(message.size());
  }
  if (!events.empty()) {
    LAMBENT_TRY_VOID(touch_stream_locked(*id, first, last, now, bytes));
  }
  return tx.commit();
}

Result<bool> LogStore::scan(const EventScan& q, size_t max_rows,
                            const std::function<bool(const LogEvent&)>& visit) {
  std::lock_guard lock(db_mu_);
  LAMBENT_TRY(gid, group_id_locked(*db_, q.group));
  // The group's streams that match, by id.
  std::map<int64_t, std::string> streams;
  {
    LAMBENT_TRY(st, db_->prepare("SELECT id, name FROM log_streams WHERE group_id = ?1 AND "
                                 "name LIKE ?2 ESCAPE '\\'"));
    st->bind(1, gid).bind(2, like_prefix(q.stream_prefix));
    LAMBENT_TRY_VOID(st->each([&] {
      std::string name = st->text(1);
      if (!q.streams.empty() &&
          std::find(q.streams.begin(), q.streams.end(), name) == q.streams.end()) {
        return;
      }
      streams.emplace(st->integer(0), std::move(name));
    }));
  }
  if (streams.empty()) return true;
  std::string ids;
  for (const auto& [id, name] : streams) {
    if (!ids.empty()) ids += ",";
    ids += std::to_string(id);
  }
  // Row values compare (timestamp, id) lexicographically: a stable cursor across pages.
  const char* cmp = q.forward ? ">" : "<";
  const char* dir = q.forward ? " ASC" : " DESC";
  std::string sql = "SELECT id, stream_id, timestamp_ms, ingestion_ms, message FROM log_events "
                    "WHERE stream_id IN (" + ids + ") AND timestamp_ms >= ?1 AND timestamp_ms < ?2";
  if (q.after) sql += std::string(" AND (timestamp_ms, id) ") + cmp + " (?3, ?4)";
  sql += std::string(" ORDER BY timestamp_ms") + dir + ", id" + dir + " LIMIT ?5";
  // Not cached: the id list makes each query text distinct.
  LAMBENT_TRY(st, db_->prepare_uncached(sql));
  st->bind(1, q.start_ms).bind(2, q.end_ms);
  if (q.after) st->bind(3, q.after->first).bind(4, q.after->second);
  st->bind(5, static_cast<int64_t>(max_rows));
  size_t rows = 0;
  for (;;) {
    LAMBENT_TRY(row, st->step());
    if (!row) break;
    ++rows;
    LogEvent e{st->integer(0), q.group, streams[st->integer(1)], st->integer(2), st->integer(3),
               st->text(4)};
    if (!visit(e)) return false;
  }
  return rows < max_rows;
}

Result<int64_t> LogStore::enforce_limits(int64_t now, int64_t max_events, int64_t max_bytes) {
  std::lock_guard lock(db_mu_);
  int64_t removed = 0;
  {
    LAMBENT_TRY(st, db_->prepare(
                        "DELETE FROM log_events WHERE id IN (SELECT e.id FROM log_events e "
                        "JOIN log_streams s ON s.id = e.stream_id JOIN log_groups g ON "
                        "g.id = s.group_id WHERE g.retention_days IS NOT NULL AND "
                        "e.timestamp_ms < ?1 - g.retention_days * 86400000)"));
    LAMBENT_TRY_VOID(st->bind(1, now).run());
    removed += db_->changes();
  }
  if (max_events > 0) {
    // Ids increase with every event, so the newest `max_events` have the highest ids.
    LAMBENT_TRY(st, db_->prepare("DELETE FROM log_events WHERE id <= "
                                 "(SELECT max(id) FROM log_events) - ?1"));
    LAMBENT_TRY_VOID(st->bind(1, max_events).run());
    removed += db_->changes();
  }
  // The streams' stored bytes and first event after deletions.
  auto recount = [this]() -> Result<void> {
    LAMBENT_TRY(st, db_->prepare(
                        "UPDATE log_streams SET stored_bytes = (SELECT coalesce(sum(length(CAST("
                        "message AS BLOB))), 0) FROM log_events WHERE stream_id = log_streams.id), "
                        "first_event_ms = (SELECT min(timestamp_ms) FROM log_events WHERE "
                        "stream_id = log_streams.id)"));
    return st->run();
  };
  if (removed > 0) LAMBENT_TRY_VOID(recount());
  if (max_bytes > 0) {
    // The streams' stored bytes add up to the messages' bytes; over the bound, the oldest events
    // go (ids increase with every event) until under it.
    LAMBENT_TRY(total_st, db_->prepare("SELECT coalesce(sum(stored_bytes), 0) FROM log_streams"));
    LAMBENT_TRY(has, total_st->step());
    int64_t total = has ? total_st->integer(0) : 0;
    total_st->reset();
    if (total > max_bytes) {
      // The oldest events until the excess is covered (a scan of what goes, not of what stays),
      // then one delete up to the last of them.
      LAMBENT_TRY(oldest, db_->prepare("SELECT id, stream_id, length(CAST(message AS BLOB)) "
                                       "FROM log_events ORDER BY id"));
      int64_t excess = total - max_bytes, freed = 0, last = -1;
      std::map<int64_t, int64_t> freed_by_stream;
      while (freed < excess) {
        LAMBENT_TRY(row, oldest->step());
        if (!row) break;
        last = oldest->integer(0);
        freed += oldest->integer(2);
        freed_by_stream[oldest->integer(1)] += oldest->integer(2);
      }
      oldest->reset();
      if (last >= 0) {
        LAMBENT_TRY(st, db_->prepare("DELETE FROM log_events WHERE id <= ?1"));
        LAMBENT_TRY_VOID(st->bind(1, last).run());
        removed += db_->changes();
        // Only the streams that lost events, by what they lost (no rescan of what stays).
        LAMBENT_TRY(adjust,
                    db_->prepare("UPDATE log_streams SET stored_bytes = max(0, stored_bytes - ?2), "
                                 "first_event_ms = (SELECT min(timestamp_ms) FROM log_events "
                                 "WHERE stream_id = ?1) WHERE id = ?1"));
        for (const auto& [stream, bytes] : freed_by_stream) {
          LAMBENT_TRY_VOID(adjust->bind(1, stream).bind(2, bytes).run());
          adjust->reset();
        }
      }
    }
  }
  return removed;
}

}  // namespace lambent::telemetry
