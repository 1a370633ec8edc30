#include "sessions.hpp"

#include <sqlite3.h>
#include <sodium.h>

#include <vector>

#include "wardsync/sync/identity.hpp"

namespace wardsync::node {

namespace {

std::string random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> buf(bytes);
  randombytes_buf(buf.data(), buf.size());
  return to_hex(buf);
}

std::string token_hash(const std::string& token) {
  Hash h = hash_bytes(Bytes(reinterpret_cast<const std::uint8_t*>(token.data()), token.size()));
  return to_hex(h);
}

// A prepared statement that finalizes itself.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) { sqlite3_prepare_v2(db, sql, -1, &s_, nullptr); }
  ~Stmt() { sqlite3_finalize(s_); }
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  bool ok() const { return s_ != nullptr; }
  Stmt& text(int i, const std::string& v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
    return *this;
  }
  Stmt& integer(int i, std::int64_t v) {
    sqlite3_bind_int64(s_, i, v);
    return *this;
  }
  bool step() { return s_ != nullptr && sqlite3_step(s_) == SQLITE_ROW; }
  bool run() { return s_ != nullptr && sqlite3_step(s_) == SQLITE_DONE; }
  std::string col_text(int i) {
    const unsigned char* t = sqlite3_column_text(s_, i);
    return t ? std::string(reinterpret_cast<const char*>(t), static_cast<std::size_t>(sqlite3_column_bytes(s_, i)))
             : std::string();
  }
  std::int64_t col_int(int i) { return sqlite3_column_int64(s_, i); }

 private:
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<SessionStore>> SessionStore::open(const std::string& path, SessionOptions options,
                                                         Clock& clock) {
  ensure_sodium();
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Status{Code::kIo, path + ": " + msg};
  }
  std::unique_ptr<SessionStore> s(new SessionStore(db, options, clock));
  // WAL + NORMAL: losing the last sign-in on a power cut only means signing in again;
  // these writes must not pay an fsync each. busy_timeout: `wardnode user` may touch it.
  bool ok = s->exec("PRAGMA journal_mode=WAL") && s->exec("PRAGMA synchronous=NORMAL") &&
            s->exec("PRAGMA busy_timeout=5000") &&
            s->exec("CREATE TABLE IF NOT EXISTS sessions(token_hash TEXT PRIMARY KEY, clerk_id TEXT NOT NULL, "
                    "username TEXT NOT NULL, csrf TEXT NOT NULL, created_ms INTEGER NOT NULL)") &&
            // Failed sign-ins count per account and client address (login_failures,
            // per account alone, let anyone on the LAN keep the leader locked out).
            s->exec("DROP TABLE IF EXISTS login_failures") &&
            s->exec("CREATE TABLE IF NOT EXISTS login_lockouts(username TEXT NOT NULL, address TEXT NOT NULL, "
                    "failures INTEGER NOT NULL, locked_until_ms INTEGER NOT NULL, PRIMARY KEY(username, address))");
  if (!ok) return Status{Code::kIo, path + ": " + sqlite3_errmsg(db)};
  Stmt q(db, "SELECT token_hash, clerk_id, username, csrf, created_ms FROM sessions");
  std::uint64_t now = clock.now_ms();
  while (q.step()) {
    Session se{q.col_text(0), q.col_text(1), q.col_text(2), q.col_text(3),
               static_cast<std::uint64_t>(q.col_int(4)), now};
    s->sessions_.emplace(se.token_hash, se);
  }
  return s;
}

SessionStore::SessionStore(sqlite3* db, SessionOptions options, Clock& clock)
    : db_(db), options_(options), clock_(clock) {}

SessionStore::~SessionStore() { sqlite3_close(db_); }

bool SessionStore::exec(const char* sql) { return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK; }

Result<NewSession> SessionStore::create(const std::string& clerk_id, const std::string& username) {
  NewSession n;
  n.token = random_hex(32);
  n.session.token_hash = token_hash(n.token);
  n.session.clerk_id = clerk_id;
  n.session.username = username;
  n.session.csrf = random_hex(24);
  n.session.created_ms = n.session.last_seen_ms = clock_.now_ms();
  std::lock_guard<std::mutex> lock(mu_);
  Stmt ins(db_, "INSERT INTO sessions(token_hash, clerk_id, username, csrf, created_ms) VALUES(?,?,?,?,?)");
  if (!ins.text(1, n.session.token_hash)
           .text(2, clerk_id)
           .text(3, username)
           .text(4, n.session.csrf)
           .integer(5, static_cast<std::int64_t>(n.session.created_ms))
           .run()) {
    return Status{Code::kIo, std::string("local.db: ") + sqlite3_errmsg(db_)};
  }
  sessions_[n.session.token_hash] = n.session;
  return n;
}

std::optional<Session> SessionStore::touch(const std::string& token, bool background) {
  if (token.size() != 64) return std::nullopt;
  std::string h = token_hash(token);
  std::uint64_t now = clock_.now_ms();
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(h);
  if (it == sessions_.end()) return std::nullopt;
  if (now > it->second.last_seen_ms && now - it->second.last_seen_ms > options_.idle_ms) {
    Stmt del(db_, "DELETE FROM sessions WHERE token_hash=?");
    (void)del.text(1, h).run();
    sessions_.erase(it);
    return std::nullopt;
  }
  if (!background) it->second.last_seen_ms = now;
  return it->second;
}

void SessionStore::remove(const std::string& token) {
  std::string h = token_hash(token);
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.erase(h);
  Stmt del(db_, "DELETE FROM sessions WHERE token_hash=?");
  (void)del.text(1, h).run();
}

void SessionStore::remove_clerk(const std::string& clerk_id) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.clerk_id == clerk_id ? sessions_.erase(it) : std::next(it);
  }
  Stmt del(db_, "DELETE FROM sessions WHERE clerk_id=?");
  (void)del.text(1, clerk_id).run();
}

std::uint64_t SessionStore::locked_for_ms(const std::string& username, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt q(db_, "SELECT locked_until_ms FROM login_lockouts WHERE username=? AND address=?");
  q.text(1, username).text(2, address);
  if (!q.step()) return 0;
  auto until = static_cast<std::uint64_t>(q.col_int(0));
  std::uint64_t now = clock_.now_ms();
  return until > now ? until - now : 0;
}

bool SessionStore::record_failure(const std::string& username, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  std::int64_t failures = 0;
  {
    Stmt q(db_, "SELECT failures, locked_until_ms FROM login_lockouts WHERE username=? AND address=?");
    q.text(1, username).text(2, address);
    if (q.step()) {
      failures = q.col_int(0);
      // A lock that has expired starts a fresh count.
      if (q.col_int(1) != 0 && static_cast<std::uint64_t>(q.col_int(1)) <= clock_.now_ms()) failures = 0;
    }
  }
  ++failures;
  bool lock_now = failures >= options_.lockout_failures;
  std::int64_t until = lock_now ? static_cast<std::int64_t>(clock_.now_ms() + options_.lockout_ms) : 0;
  Stmt up(db_, "INSERT INTO login_lockouts(username, address, failures, locked_until_ms) VALUES(?,?,?,?) "
               "ON CONFLICT(username, address) DO UPDATE SET failures=excluded.failures, "
               "locked_until_ms=excluded.locked_until_ms");
  (void)up.text(1, username).text(2, address).integer(3, lock_now ? 0 : failures).integer(4, until).run();
  return lock_now;
}

void SessionStore::clear_failures(const std::string& username, const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  Stmt del(db_, "DELETE FROM login_lockouts WHERE username=? AND address=?");
  (void)del.text(1, username).text(2, address).run();
}

}  // namespace wardsync::node
