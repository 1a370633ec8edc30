// Shared by the API's handler files: the request being served (method, path
// segments under /api/v1, query, parsed JSON body, the signed-in clerk) and the
// helpers that answer it. Private to node/src/http.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "domain/context.hpp"
#include "http/fair_gate.hpp"
#include "sessions.hpp"

namespace wardsync::node {
struct DossierView;
}

namespace wardsync::node::http {

using Poco::JSON::Array;
using Poco::JSON::Object;

// The clerks behind sessions, as last read from the store, for kTtl: a request
// does not read and parse its clerk's record each time (it was 8 % of a search's
// CPU). A disable or role change arriving by replication is seen within kTtl;
// local ones also end the clerk's sessions at once (SessionStore::remove_clerk).
class ActorCache {
 public:
  static constexpr std::chrono::milliseconds kTtl{1000};
  std::optional<Actor> get(const std::string& clerk_id) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = actors_.find(clerk_id);
    if (it == actors_.end() || std::chrono::steady_clock::now() - it->second.at > kTtl) return std::nullopt;
    return it->second.actor;
  }
  void put(const Actor& actor) {
    std::lock_guard<std::mutex> lock(mu_);
    actors_[actor.clerk_id] = {actor, std::chrono::steady_clock::now()};
  }

 private:
  struct Entry {
    Actor actor;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex mu_;
  std::map<std::string, Entry> actors_;  // by clerk id; GUARDED_BY(mu_)
};

struct Exchange {
  Poco::Net::HTTPServerRequest& req;
  Poco::Net::HTTPServerResponse& resp;
  NodeContext& ctx;
  SessionStore& sessions;
  ActorCache& actors;
  std::string method;
  std::vector<std::string> seg;  // path segments after /api/v1
  std::map<std::string, std::string> query;
  Object::Ptr body;  // parsed by need_body()
  std::optional<Session> session;
  std::optional<Actor> actor;
  std::string token;  // the session cookie's value, when sent
  bool answered = false;
  bool body_read = false;  // the request body was consumed (or refused and the connection closed)
  FairGate::Pass turn;     // a read's place through the gate; left before the answer is written
};

// Answers.
void send_json(Exchange& ex, int status, const Object& obj);
// The same with the JSON text already written (JsonWriter).
void send_json(Exchange& ex, int status, const std::string& json_text);
void send_error(Exchange& ex, const DomainError& error);
void send_simple_error(Exchange& ex, int status, const std::string& code, const std::string& vi, const std::string& en);

// Authentication: fills ex.actor from the session cookie. false (and answered
// 401) when there is none. For unsafe methods also checks X-CSRF-Token (403).
bool require_session(Exchange& ex);
// require_session() and one of `roles` (403 otherwise).
bool require_role(Exchange& ex, std::initializer_list<Role> roles);
// Parses the body as a JSON object (413/400 answered on failure).
bool need_body(Exchange& ex);

// Reading body fields with type checks; a wrong type adds a field error.
std::string body_string(Exchange& ex, const std::string& key, std::vector<FieldError>& errors,
                        const std::string& path = "");
std::optional<std::int64_t> body_int(Exchange& ex, const std::string& key, std::vector<FieldError>& errors);
std::string query_param(Exchange& ex, const std::string& key);

// Outcome → answer.
template <typename T, typename F>
void answer(Exchange& ex, Outcome<T>&& out, int status, F&& to_json) {
  if (!out.ok()) {
    send_error(ex, out.error());
    return;
  }
  send_json(ex, status, to_json(out.value()));
}

// Route groups; each returns false when the path is not theirs.
bool route_sessions(Exchange& ex);   // health, sessions, users, sync status
bool route_dossiers(Exchange& ex);   // dossiers
bool route_desk(Exchange& ex);       // procedures, calendar, tickets, queues, ratings, reports
bool route_peripherals(Exchange& ex);  // receipt and ticket printing, scanner, attachments
bool route_kiosk(Exchange& ex);      // the citizens' kiosk: no session, narrow, rate-limited
bool route_attachments(Exchange& ex);  // dossier attachments (before route_dossiers)

// 405 with an Allow header naming what this path takes (`allow`, e.g. "GET, POST";
// GET implies HEAD, which is answered as GET).
void method_not_allowed(Exchange& ex, std::string_view allow);

// JSON text of a dossier as clerks see it (api_dossiers.cpp).
std::string dossier_json(const DossierView& d);

// Replication (api_sync.cpp): the peers and trust part of GET /sync/status, and
// GET /metrics (Prometheus text).
// `held`: the version vector the caller read (with the one reader it holds);
// `held_origins`: Reader::held_uncertified() from the same reader.
void add_replication_status(Exchange& ex, Object& status, const VersionVector& held,
                            const std::vector<PublicKey>& held_origins);
void serve_metrics(Exchange& ex);

}  // namespace wardsync::node::http
