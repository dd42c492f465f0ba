#include "sqlite/sqlite.h"

namespace lambent::sqlite {
namespace {
Error db_error(sqlite3* db, std::string_view what) {
  int code = sqlite3_extended_errcode(db);
  Errc errc = (code & 0xff) == SQLITE_CONSTRAINT ? Errc::kAlreadyExists : Errc::kIo;
  return make_error(errc, std::string(what) + ": " + sqlite3_errmsg(db));
}
}  // namespace

Statement& Statement::bind(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, v);
  return *this;
}
Statement& Statement::bind_blob(int i, std::string_view v) {
  sqlite3_bind_blob(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_null(int i) {
  sqlite3_bind_null(stmt_, i);
  return *this;
}

Result<bool> Statement::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return db_error(sqlite3_db_handle(stmt_), "sqlite step");
}

Result<void> Statement::run() {
  for (;;) {
    LAMBENT_TRY(row, step());
    if (!row) return {};
  }
}

std::string Statement::text(int col) const {
  auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}
std::string Statement::blob(int col) const {
  auto* p = static_cast<const char*>(sqlite3_column_blob(stmt_, col));
  return p ? std::string(p, static_cast<size_t>(sqlite3_column_bytes(stmt_, col))) : std::string();
}
int64_t Statement::integer(int col) const { return sqlite3_column_int64(stmt_, col); }
bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

Result<std::unique_ptr<Database>> Database::open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &db,
                           SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return make_error(Errc::kIo, "open " + path + ": " + msg);
  }
  std::unique_ptr<Database> out(new Database(db));
  sqlite3_busy_timeout(db, 5000);
  LAMBENT_TRY_VOID(out->exec("PRAGMA journal_mode=WAL"));
  LAMBENT_TRY_VOID(out->exec("PRAGMA synchronous=FULL"));
  LAMBENT_TRY_VOID(out->exec("PRAGMA foreign_keys=ON"));
  return out;
}

Database::~Database() {
  for (auto& [sql, entry] : cache_) sqlite3_finalize(entry.first);
  sqlite3_close(db_);
}

Result<void> Database::exec(const std::string& sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return make_error(Errc::kIo, "sqlite exec: " + msg);
  }
  return {};
}

Result<Statement*> Database::prepare(const std::string& sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql.c_str(), -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) !=
        SQLITE_OK) {
      return db_error(db_, "prepare");
    }
    it = cache_.emplace(sql, std::make_pair(stmt, std::make_unique<Statement>(stmt))).first;
  }
  it->second.second->reset();
  return it->second.second.get();
}

Result<std::unique_ptr<Statement, void (*)(Statement*)>> Database::prepare_uncached(
    const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return db_error(db_, "prepare");
  }
  return std::unique_ptr<Statement, void (*)(Statement*)>(new Statement(stmt), [](Statement* s) {
    sqlite3_finalize(s->handle());
    delete s;
  });
}

int64_t Database::changes() const { return sqlite3_changes64(db_); }

int64_t Database::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }

Result<Transaction> Transaction::begin(Database& db) {
  LAMBENT_TRY_VOID(db.exec("BEGIN IMMEDIATE"));
  return Transaction(&db);
}

Transaction::~Transaction() {
  if (db_) (void)db_->exec("ROLLBACK");
}

Result<void> Transaction::commit() {
  Database* db = db_;
  db_ = nullptr;
  return db->exec("COMMIT");
}

Result<void> Database::migrate(const char* const* migrations, size_t count,
                              const std::string& what) {
  LAMBENT_TRY(st, prepare("PRAGMA user_version"));
  LAMBENT_TRY(row, st->step());
  const size_t current = row ? static_cast<size_t>(st->integer(0)) : 0;
  st->reset();
  if (current > count) {
    return make_error(Errc::kInvalidArgument,
                      "the " + what + " has schema version " + std::to_string(current) +
                          ", newer than this lambent (" + std::to_string(count) + ")");
  }
  for (size_t v = current; v < count; ++v) {
    LAMBENT_TRY(tx, Transaction::begin(*this));
    LAMBENT_TRY_VOID(exec(migrations[v]));
    LAMBENT_TRY_VOID(exec("PRAGMA user_version = " + std::to_string(v + 1)));
    LAMBENT_TRY_VOID(tx.commit());
  }
  return {};
}

}  // namespace lambent::sqlite
