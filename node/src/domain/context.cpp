#include "domain/context.hpp"

#include <cstdio>

namespace wardsync::node {

const char* role_name(Role role) {
  switch (role) {
    case Role::kClerk: return "clerk";
    case Role::kSpecialist: return "specialist";
    case Role::kLeader: return "leader";
    case Role::kItAdmin: return "it_admin";
  }
  return "clerk";
}

bool parse_role(const std::string& text, Role& out) {
  if (text == "clerk") out = Role::kClerk;
  else if (text == "specialist") out = Role::kSpecialist;
  else if (text == "leader") out = Role::kLeader;
  else if (text == "it_admin") out = Role::kItAdmin;
  else return false;
  return true;
}

Outcome<CommitInfo> commit_durably(NodeContext& ctx, Transaction txn) {
  auto fut = ctx.writer.commit(std::move(txn));
  Result<CommitInfo> r = fut.get();
  if (r.is_ok()) return std::move(r).value();
  switch (r.status().code()) {
    case Code::kConflict:
      return conflict("already_set", "Giá trị này đã được ghi và không thể thay đổi.",
                      "This value was already recorded and cannot change.");
    case Code::kUnavailable:
      return unavailable("Hệ thống đang bận; vui lòng thử lại.", "The node is busy; please try again.");
    default:
      ctx.log.error("store", "commit failed: " + r.status().to_string());
      return internal_error();
  }
}

std::string iso_local(std::int64_t unix_seconds) {
  LocalDateTime t = local_from_unix_seconds(unix_seconds);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", t.date.year, t.date.month, t.date.day, t.hour,
                t.minute, t.second);
  return buf;
}

std::int64_t now_seconds(NodeContext& ctx) { return static_cast<std::int64_t>(ctx.clock.now_ms() / 1000); }

}  // namespace wardsync::node
