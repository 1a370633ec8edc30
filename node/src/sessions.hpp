// Sign-in state that must never replicate: sessions and failed-login counters,
// kept in <datadir>/local.db (SQLite) so they survive a restart. Sessions are
// also held in memory; the idle clock lives only there (a restart restarts it),
// so a request never writes to disk just to say "still here".
//
// Only a hash of the session token is stored: a copy of local.db does not let
// anyone sign in.
//
// Thread safety: every public method may be called from any thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "wardsync/sync/clock.hpp"
#include "wardsync/sync/status.hpp"

struct sqlite3;

namespace wardsync::node {

struct Session {
  std::string token_hash;  // hex BLAKE2b of the cookie token
  std::string clerk_id;    // record id (hex) of the clerk
  std::string username;
  std::string csrf;
  std::uint64_t created_ms = 0;
  std::uint64_t last_seen_ms = 0;
};

struct NewSession {
  std::string token;  // goes in the cookie; never stored
  Session session;
};

struct SessionOptions {
  std::uint64_t idle_ms = 30 * 60 * 1000;
  int lockout_failures = 5;
  std::uint64_t lockout_ms = 15 * 60 * 1000;
};

class SessionStore {
 public:
  [[nodiscard]] static Result<std::unique_ptr<SessionStore>> open(const std::string& path, SessionOptions options,
                                                                  Clock& clock);
  ~SessionStore();
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  Result<NewSession> create(const std::string& clerk_id, const std::string& username);
  // The live session for a cookie token, touching its idle clock unless the
  // request is `background` (an app's own polling, not the clerk's doing);
  // nullopt when unknown or idle too long (then it is removed).
  std::optional<Session> touch(const std::string& token, bool background = false);
  void remove(const std::string& token);
  // Removes every session of a clerk (password changed, account disabled).
  void remove_clerk(const std::string& clerk_id);

  // Lock-out, per account and client address: a flood of wrong passwords from
  // one machine locks that account there only, never at the clerk's own desk.
  // Milliseconds the account stays locked for `address` (0 when not locked).
  std::uint64_t locked_for_ms(const std::string& username, const std::string& address);
  // Counts a failure; returns true when this failure locked the account there.
  bool record_failure(const std::string& username, const std::string& address);
  void clear_failures(const std::string& username, const std::string& address);

 private:
  SessionStore(sqlite3* db, SessionOptions options, Clock& clock);
  bool exec(const char* sql);

  sqlite3* db_;
  const SessionOptions options_;
  Clock& clock_;
  std::mutex mu_;
  std::map<std::string, Session> sessions_;  // by token hash; GUARDED_BY(mu_)
};

}  // namespace wardsync::node
