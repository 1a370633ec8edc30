#include "sqlite_internal.hpp"

namespace wardsync::sql {

Db::~Db() { sqlite3_close_v2(db_); }

Status Db::open(const std::string& path, bool read_only) {
  int flags = (read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) |
              SQLITE_OPEN_URI | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db_, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = error();
    sqlite3_close_v2(db_);
    db_ = nullptr;
    return {Code::kIo, "cannot open database " + path + ": " + msg};
  }
  sqlite3_extended_result_codes(db_, 1);
  return Status::ok();
}

Status Db::exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return {Code::kIo, msg};
  }
  return Status::ok();
}

Stmt::Stmt(sqlite3* db, const char* sql) {
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt_, nullptr) != SQLITE_OK) {
    throw SqlError{std::string("prepare failed: ") + sqlite3_errmsg(db) + " in: " + sql};
  }
}

bool Stmt::step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  std::string msg = sqlite3_errmsg(sqlite3_db_handle(stmt_));
  sqlite3_reset(stmt_);
  throw SqlError{msg};
}

Transaction::Transaction(Db& db) : db_(db) {
  Status s = db_.exec("BEGIN IMMEDIATE");
  if (!s.is_ok()) throw SqlError{"begin: " + s.message()};
}

Transaction::~Transaction() {
  if (!done_) (void)db_.exec("ROLLBACK");
}

void Transaction::commit() {
  Status s = db_.exec("COMMIT");
  if (!s.is_ok()) throw SqlError{"commit: " + s.message()};
  done_ = true;
}

}  // namespace wardsync::sql
