// A small RAII wrapper over SQLite: a Database that owns the connection and caches prepared
// statements, a Statement with typed bind/column, and a Transaction guard. Designed so that tests
// run the same code against ":memory:". Not thread-safe: the owner serializes access.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "base/error.h"

namespace lambent::sqlite {

class Statement final {
 public:
  explicit Statement(sqlite3_stmt* s) : stmt_(s) {}
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Statement& bind(int i, std::string_view v);
  Statement& bind(int i, int64_t v);
  Statement& bind_blob(int i, std::string_view v);
  Statement& bind_null(int i);

  // true when a row is available, false when done. kIo on failure; kAlreadyExists on a
  // constraint violation.
  Result<bool> step();
  Result<void> run();  // step to completion, for statements without rows
  // Steps through every row, calling `row()` at each (it reads the columns), then resets the
  // statement. `row` returns void, or Result<void> to stop at an error, which is handed back.
  template <class F>
  Result<void> each(F&& row) {
    for (;;) {
      auto stepped = step();
      if (!stepped) {
        reset();
        return stepped.error();
      }
      if (!*stepped) break;
      if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
        row();
      } else if (auto r = row(); !r) {
        reset();
        return r.error();
      }
    }
    reset();
    return {};
  }

  std::string text(int col) const;
  std::string blob(int col) const;
  int64_t integer(int col) const;
  bool is_null(int col) const;

  void reset();
  sqlite3_stmt* handle() const { return stmt_; }

 private:
  sqlite3_stmt* stmt_;
};

class Database final {
 public:
  // Opens (creating if needed) with WAL journaling and synchronous=FULL: a committed transaction
  // survives kill -9 and power loss.
  static Result<std::unique_ptr<Database>> open(const std::string& path);
  ~Database();

  Result<void> exec(const std::string& sql);
  // A cached statement, reset and with bindings cleared, ready to bind.
  Result<Statement*> prepare(const std::string& sql);
  // A statement used once (its text varies); finalized when the returned handle goes away.
  Result<std::unique_ptr<Statement, void (*)(Statement*)>> prepare_uncached(const std::string& sql);
  // Brings the schema to the last of `migrations` (each moves PRAGMA user_version one step, in
  // its own transaction); kInvalidArgument when the database is newer than this build.
  Result<void> migrate(const char* const* migrations, size_t count, const std::string& what);
  int64_t changes() const;
  int64_t last_insert_rowid() const;

 private:
  explicit Database(sqlite3* db) : db_(db) {}
  sqlite3* db_;
  std::map<std::string, std::pair<sqlite3_stmt*, std::unique_ptr<Statement>>> cache_;
};

// BEGIN IMMEDIATE ... COMMIT; rolls back in the destructor unless committed.
class Transaction final {
 public:
  static Result<Transaction> begin(Database& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_) { o.db_ = nullptr; }
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Result<void> commit();

 private:
  explicit Transaction(Database* db) : db_(db) {}
  Database* db_;
};

}  // namespace lambent::sqlite
