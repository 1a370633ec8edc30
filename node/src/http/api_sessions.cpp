// Health, sign-in sessions, clerk accounts and the sync status.
#include "domain/clerks.hpp"
#include "tls.hpp"
#include "http/api_internal.hpp"
#include "password.hpp"
#include "schema.hpp"
#include "wardsync/sync/reader.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync::node::http {

namespace {

Object user_json(const Clerk& c) {
  Object o;
  o.set("id", c.id);
  o.set("username", c.username);
  o.set("display_name", c.display_name);
  o.set("role", role_name(c.role));
  o.set("disabled", c.disabled);
  return o;
}

void health(Exchange& ex) {
  Object o;
  // Degraded: reads of the store have failed (a damaged page, a disk error);
  // the node still answers, the operator must look (docs/operations.md).
  Reader::ReadErrors errors = Reader::read_errors();
  o.set("status", errors.count == 0 ? "ok" : "degraded");
  o.set("store_read_errors", errors.count);
  if (errors.count > 0) o.set("store_last_read_error", errors.last);
  o.set("node_id", to_hex(ex.ctx.node_id));
  o.set("office_code", ex.ctx.config.office_code);
  o.set("office_name", ex.ctx.config.office_name);
  o.set("tier", ex.ctx.config.tier);
  o.set("scope", ex.ctx.config.scope);
  o.set("version", "0.1.0");
  send_json(ex, 200, o);
}

void login(Exchange& ex) {
  if (!need_body(ex)) return;
  std::vector<FieldError> errors;
  std::string username = body_string(ex, "username", errors);
  std::string password = body_string(ex, "password", errors);
  if (username.empty() && errors.empty())
    errors.push_back({"username", "required", "Tên đăng nhập là bắt buộc.", "Username is required."});
  if (password.empty() && errors.size() < 2)
    errors.push_back({"password", "required", "Mật khẩu là bắt buộc.", "Password is required."});
  if (username.size() > 64 || password.size() > kPasswordBytesMax)
    errors.push_back({"username", "too_long", "Tên đăng nhập hoặc mật khẩu quá dài.", "Username or password too long."});
  if (!errors.empty()) {
    send_error(ex, invalid(std::move(errors)));
    return;
  }
  auto locked = [&](std::uint64_t ms) {
    ex.resp.set("Retry-After", std::to_string((ms + 999) / 1000));
    send_simple_error(ex, 429, "locked",
                      "Tài khoản tạm khóa do đăng nhập sai nhiều lần; vui lòng thử lại sau.",
                      "Account locked after repeated failed sign-ins; try again later.");
  };
  const std::string address = ex.req.clientAddress().host().toString();
  if (std::uint64_t ms = ex.sessions.locked_for_ms(username, address); ms > 0) {
    ex.ctx.log.warning("auth", "sign-in refused: account locked");
    locked(ms);
    return;
  }
  std::optional<Clerk> clerk;
  bool unreadable = false;
  {
    auto reader = ex.ctx.readers.acquire();
    if (!reader) throw std::runtime_error("no reader");
    const std::uint64_t read_errors = reader->own_read_errors();
    clerk = find_clerk(*reader, username, ex.ctx.config.office_code);
    unreadable = reader->own_read_errors() != read_errors;  // this look-up's, not another thread's
  }
  if (!clerk && unreadable) {
    // The account could not be read (a damaged database): not the clerk's
    // password, and no failed attempt counted against them.
    throw std::runtime_error("the store could not be read: " + Reader::read_errors().last +
                             " (check the database: docs/operations.md, \"Store read errors\")");
  }
  bool ok = false;
  if (clerk && !clerk->disabled) {
    ok = verify_password(clerk->password_hash, password);
  } else {
    burn_password_time(password);
  }
  if (!ok) {
    bool now_locked = ex.sessions.record_failure(username, address);
    ex.ctx.log.warning("auth", now_locked ? "sign-in failed; account now locked for " + address
                                          : "sign-in failed from " + address);
    send_simple_error(ex, 401, "bad_credentials", "Sai tên đăng nhập hoặc mật khẩu.", "Wrong username or password.");
    return;
  }
  ex.sessions.clear_failures(username, address);
  if (password_needs_rehash(clerk->password_hash)) {
    auto again = set_password(ex.ctx, clerk->username, clerk->username, password);
    if (again.ok()) ex.ctx.log.info("auth", "password hash of " + clerk->username + " renewed with current settings");
    else ex.ctx.log.warning("auth", "password hash of " + clerk->username + " left as it was: " + again.error().message_en);
  }
  auto created = ex.sessions.create(clerk->id, clerk->username);
  if (!created.is_ok()) throw std::runtime_error(created.status().to_string());
  // Secure over HTTPS: the browser never sends the session over plain HTTP.
  const std::string secure = tls_enabled(ex.ctx.config) ? "; Secure" : "";
  ex.resp.add("Set-Cookie", "wardsid=" + created.value().token + "; Path=/; HttpOnly; SameSite=Strict" + secure);
  ex.ctx.log.info("auth", "signed in: " + clerk->username);
  Object o;
  o.set("user", user_json(*clerk));
  o.set("csrf_token", created.value().session.csrf);
  o.set("idle_timeout_seconds", ex.ctx.config.session_idle_seconds);
  send_json(ex, 200, o);
}

void me(Exchange& ex) {
  if (!require_session(ex)) return;
  Object u;
  u.set("id", ex.actor->clerk_id);
  u.set("username", ex.actor->username);
  u.set("display_name", ex.actor->display_name);
  u.set("role", role_name(ex.actor->role));
  Object o;
  o.set("user", u);
  o.set("csrf_token", ex.session->csrf);
  o.set("idle_timeout_seconds", ex.ctx.config.session_idle_seconds);
  send_json(ex, 200, o);
}

void logout(Exchange& ex) {
  if (!require_session(ex)) return;
  ex.sessions.remove(ex.token);
  ex.resp.add("Set-Cookie", std::string("wardsid=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0") +
                                (tls_enabled(ex.ctx.config) ? "; Secure" : ""));
  ex.ctx.log.info("auth", "signed out: " + ex.actor->username);
  Object o;
  o.set("ok", true);
  send_json(ex, 200, o);
}

// Over the API an it_admin manages clerk and specialist accounts. A leader's or
// another it_admin's password set there would let the it_admin sign in and act
// as them (approvals signed in the leader's name): those accounts are created,
// and their passwords reset, on the node itself (`wardnode user`), by whoever
// holds the box. Disabling one stays possible (a stolen leader account).
bool is_privileged(Role r) { return r == Role::kLeader || r == Role::kItAdmin; }

DomainError privileged_account() {
  return DomainError{ErrorKind::kForbidden, "privileged_account",
                     "Tài khoản lãnh đạo và quản trị chỉ được tạo hoặc đặt lại mật khẩu trên máy chủ "
                     "(lệnh wardnode user add / wardnode user passwd).",
                     "Leader and it_admin accounts are created, and their passwords reset, on the node itself "
                     "(wardnode user add / wardnode user passwd).",
                     {}};
}

void users(Exchange& ex) {
  // /users, /users/{username}/password, /users/{username}/disabled
  if (!require_role(ex, {Role::kItAdmin})) return;
  if (ex.seg.size() == 1 && ex.method == "GET") {
    auto reader = ex.ctx.readers.acquire();
    if (!reader) throw std::runtime_error("no reader");
    Array arr;
    for (const auto& c : list_clerks(*reader, ex.ctx.config.office_code)) arr.add(user_json(c));
    Object o;
    o.set("items", arr);
    send_json(ex, 200, o);
    return;
  }
  if (ex.seg.size() == 1 && ex.method == "POST") {
    if (!need_body(ex)) return;
    std::vector<FieldError> errors;
    NewClerk n{body_string(ex, "username", errors), body_string(ex, "display_name", errors),
               body_string(ex, "role", errors), body_string(ex, "password", errors)};
    if (!errors.empty()) {
      send_error(ex, invalid(std::move(errors)));
      return;
    }
    Role role{};
    if (parse_role(n.role, role) && is_privileged(role)) {
      send_error(ex, privileged_account());
      return;
    }
    answer(ex, add_clerk(ex.ctx, ex.actor->username, n), 201, user_json);
    return;
  }
  if (ex.seg.size() == 3 && ex.method == "POST" && ex.seg[2] == "password") {
    if (!need_body(ex)) return;
    std::vector<FieldError> errors;
    std::string pw = body_string(ex, "password", errors);
    if (!errors.empty()) {
      send_error(ex, invalid(std::move(errors)));
      return;
    }
    if (ex.seg[1] != ex.actor->username) {
      auto reader = ex.ctx.readers.acquire();
      if (!reader) throw std::runtime_error("no reader");
      std::optional<Clerk> target = find_clerk(*reader, ex.seg[1], ex.ctx.config.office_code);
      if (target && is_privileged(target->role)) {
        send_error(ex, privileged_account());
        return;
      }
    }
    auto out = set_password(ex.ctx, ex.actor->username, ex.seg[1], pw);
    if (out.ok()) ex.sessions.remove_clerk(out.value().id);
    answer(ex, std::move(out), 200, user_json);
    return;
  }
  if (ex.seg.size() == 3 && ex.method == "POST" && ex.seg[2] == "disabled") {
    if (!need_body(ex)) return;
    if (!ex.body->has("disabled") || !ex.body->get("disabled").isBoolean()) {
      send_error(ex, invalid({{"disabled", "type", "Trường disabled phải là true hoặc false.",
                               "disabled must be true or false."}}));
      return;
    }
    bool disabled = ex.body->getValue<bool>("disabled");
    auto out = set_disabled(ex.ctx, ex.actor->username, ex.seg[1], disabled);
    if (out.ok() && disabled) ex.sessions.remove_clerk(out.value().id);
    answer(ex, std::move(out), 200, user_json);
    return;
  }
  if (ex.seg.size() == 1 || (ex.seg.size() == 3 && (ex.seg[2] == "password" || ex.seg[2] == "disabled"))) {
    method_not_allowed(ex, ex.seg.size() == 1 ? "GET, POST" : "POST");
    return;
  }
  send_simple_error(ex, 404, "not_found", "Không có địa chỉ này.", "No such path.");
}

void sync_status(Exchange& ex) {
  // Every clerk sees what has not reached upstream yet (the UI's sync indicator).
  if (!require_session(ex)) return;
  auto reader = ex.ctx.readers.acquire();
  if (!reader) throw std::runtime_error("no reader");
  VersionVector vv = reader->version_vector();
  StoreStats stats = reader->stats();
  std::vector<PublicKey> held_origins = reader->held_uncertified();
  WriterStats ws = ex.ctx.writer.stats();
  Array streams;
  std::uint64_t local_changes = 0;
  for (const auto& [key, head] : vv) {
    Object s;
    s.set("origin", to_hex(key.origin));
    s.set("scope", key.scope);
    s.set("seq", head.seq);
    s.set("head", to_hex(head.head));
    s.set("local", key.origin == ex.ctx.node_id);
    if (key.origin == ex.ctx.node_id) local_changes += head.seq;
    streams.add(s);
  }
  Object st;
  st.set("changes", stats.changes);
  st.set("records", stats.records);
  st.set("held", stats.held);
  st.set("conflicts", stats.conflicts);
  st.set("quarantined_origins", stats.quarantined_origins);
  Object w;
  w.set("transactions", ws.transactions);
  w.set("groups", ws.groups);
  Object un;
  // No peer link exists yet: everything written here is unacknowledged upstream.
  un.set("peer", Poco::Dynamic::Var());
  un.set("changes", local_changes);
  Object o;
  o.set("node_id", to_hex(ex.ctx.node_id));
  o.set("scope", ex.ctx.config.scope);
  o.set("version_vector", streams);
  o.set("stats", st);
  o.set("writer", w);
  o.set("unacknowledged_by_upstream", un);
  add_replication_status(ex, o, vv, held_origins);  // peers; upstream figures replace the above when linked
  send_json(ex, 200, o);
}

}  // namespace

bool route_sessions(Exchange& ex) {
  const auto& s = ex.seg;
  if (s.size() == 1 && s[0] == "health") {
    if (ex.method == "GET") health(ex);
    else method_not_allowed(ex, "GET");
    return true;
  }
  if (s.size() == 1 && s[0] == "sessions") {
    if (ex.method == "POST") login(ex);
    else method_not_allowed(ex, "POST");
    return true;
  }
  if (s.size() == 2 && s[0] == "sessions" && s[1] == "current") {
    if (ex.method == "GET") me(ex);
    else if (ex.method == "DELETE") logout(ex);
    else method_not_allowed(ex, "GET, DELETE");
    return true;
  }
  if (!s.empty() && s[0] == "users") {
    users(ex);
    return true;
  }
  if (s.size() == 2 && s[0] == "sync" && s[1] == "status") {
    if (ex.method == "GET") sync_status(ex);
    else method_not_allowed(ex, "GET");
    return true;
  }
  return false;
}

}  // namespace wardsync::node::http
