// What every domain module works with, built once by `wardnode run` (or a CLI
// command) and passed down: no hidden globals (STYLE.md).
//
// Thread safety: the references are to thread-safe objects (Writer, ReaderPool,
// Logger, Catalogues) or immutable ones (Config); Sequencer has its own lock.
#pragma once

#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <string>

#include "catalogues.hpp"
#include "config.hpp"
#include "domain/outcome.hpp"
#include "kiosk_state.hpp"
#include "log.hpp"
#include "peripherals.hpp"
#include "reader_pool.hpp"
#include "wardsync/node/calendar.hpp"
#include "wardsync/sync/writer.hpp"

namespace wardsync::node {

// Hands out per-key sequence numbers (dossier codes per day, tickets per counter
// per day). The first use of a key after start derives the next number from what
// is durable in the store (`highest`), so a number acknowledged before a crash is
// never issued again; a number handed out whose write never committed leaves a
// gap, which is allowed (only duplicates are not).
class Sequencer {
 public:
  // Returns 0 if `highest` failed (the caller answers 503).
  std::uint64_t next(const std::string& key, const std::function<std::optional<std::uint64_t>()>& highest) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = next_.find(key);
    if (it == next_.end()) {
      auto h = highest();
      if (!h) return 0;
      it = next_.emplace(key, *h + 1).first;
    }
    return it->second++;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::uint64_t> next_;  // GUARDED_BY(mu_)
};

class NodeReplication;  // replication.hpp; present while `run` replicates

struct NodeContext {
  const Config& config;
  Logger& log;
  Clock& clock;
  Catalogues& catalogues;  // take each once per request: procedures(), calendar()
  Writer& writer;
  ReaderPool& readers;
  PublicKey node_id{};
  Sequencer dossier_numbers;
  Sequencer ticket_numbers;
  std::mutex queue_mu;  // serializes call-next so two counters never call one ticket
  Peripherals& peripherals;  // printer, scanner, blob store
  KioskState kiosk;          // rate limits and pending self-filings (in memory)
  std::mutex clerks_mu;  // serializes adding clerks: a username is taken once on this node
  std::mutex ratings_mu;  // serializes rating a dossier or a ticket: each is rated once
  const NodeReplication* replication = nullptr;  // set by `run` before serving, null when not replicating
};

// Who is acting: the signed-in clerk (or "system" for seeding tools).
enum class Role { kClerk, kSpecialist, kLeader, kItAdmin };
const char* role_name(Role role);
bool parse_role(const std::string& text, Role& out);

struct Actor {
  std::string clerk_id;
  std::string username;
  std::string display_name;
  Role role = Role::kClerk;
};

// Commits and waits until durable; maps the store's refusals to domain errors
// (a second different `once` value → 409, a full queue → 503).
Outcome<CommitInfo> commit_durably(NodeContext& ctx, Transaction txn);

// Time helpers on Vietnam's wall clock.
std::string iso_local(std::int64_t unix_seconds);  // "2026-03-02T09:15:00+07:00"
std::int64_t now_seconds(NodeContext& ctx);

inline DomainError forbidden() {
  return DomainError{ErrorKind::kForbidden, "forbidden", "Vai trò của bạn không được phép thực hiện thao tác này.",
                     "Your role may not do this.", {}};
}
inline DomainError unavailable(std::string vi, std::string en) {
  return DomainError{ErrorKind::kUnavailable, "unavailable", std::move(vi), std::move(en), {}};
}
// A record held at another office could not be fetched: no link is up, or no
// answer came in time. Answered 503 with Retry-After (server.cpp).
inline constexpr const char* kUnavailableOffline = "unavailable_offline";
inline constexpr int kUnavailableOfflineRetrySeconds = 15;
inline DomainError unavailable_offline() {
  return DomainError{ErrorKind::kUnavailable, kUnavailableOffline,
                     "Hồ sơ này được lưu ở đơn vị khác, hiện không kết nối được; vui lòng thử lại sau.",
                     "This record is held at another office, which cannot be reached now; please try again later.",
                     {}};
}

}  // namespace wardsync::node
