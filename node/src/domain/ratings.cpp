#include "domain/ratings.hpp"

#include "domain/clerks.hpp"
#include "domain/dossiers.hpp"
#include "schema.hpp"

namespace wardsync::node {

Outcome<RatingView> add_rating_at(NodeContext& ctx, const Actor& actor, const NewRating& in, std::int64_t when) {
  std::vector<FieldError> errors;
  if (in.level != "satisfied" && in.level != "acceptable" && in.level != "unsatisfied")
    errors.push_back({"level", "enum", "Mức đánh giá phải là satisfied, acceptable hoặc unsatisfied.",
                      "level must be satisfied, acceptable or unsatisfied."});
  if (in.clerk.empty())
    errors.push_back({"clerk", "required", "Cán bộ được đánh giá là bắt buộc.", "The clerk rated is required."});
  std::optional<RecordId> dossier;
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  // "kiosk" stands for self-service (a dossier filed at the kiosk and not yet assigned).
  if (!in.clerk.empty() && in.clerk != kKioskUser) {
    auto rated = find_clerk(*reader, in.clerk, ctx.config.office_code);
    if (!rated)
      errors.push_back({"clerk", "unknown", "Không có cán bộ với tên đăng nhập này.", "No clerk with this username."});
    else if (rated->role == Role::kItAdmin)
      errors.push_back({"clerk", "not_rated", "Cán bộ quản trị hệ thống không tiếp dân nên không được đánh giá.",
                        "IT administrators do not serve citizens and are not rated."});
  }
  if (!in.dossier_id.empty()) {
    dossier = RecordId::from_hex(in.dossier_id);
    if (!dossier || !reader->get(kDossiers, *dossier))
      errors.push_back({"dossier_id", "unknown", "Không tìm thấy hồ sơ.", "Dossier not found."});
  }
  std::optional<RecordId> ticket;
  if (!in.ticket_id.empty()) {
    ticket = RecordId::from_hex(in.ticket_id);
    if (!ticket || !reader->get(kTickets, *ticket))
      errors.push_back({"ticket", "unknown", "Không tìm thấy phiếu số thứ tự.", "Queue ticket not found."});
  }
  if (!errors.empty()) return invalid(std::move(errors));
  // The desk records what a citizen said (the kiosk takes it directly); a
  // specialist does not face citizens, and nobody records a rating of themselves.
  if (actor.role != Role::kClerk && actor.role != Role::kLeader) return forbidden();
  if (in.clerk == actor.username && actor.username != kKioskUser)  // the kiosk's own: self-service filings
    return DomainError{ErrorKind::kForbidden, "self_rating", "Không được tự ghi đánh giá cho chính mình.",
                       "A clerk may not record a rating of themselves.", {}};
  // Checked and written under one lock: two taps on the kiosk must not both count.
  std::lock_guard<std::mutex> once(ctx.ratings_mu);
  if (dossier && !reader->find(kRatings, "dossier", in.dossier_id, 1).empty())
    return conflict("already_rated", "Hồ sơ này đã được đánh giá.", "This dossier was already rated.");
  if (ticket && !reader->find(kRatings, "ticket", in.ticket_id, 1).empty())
    return conflict("already_rated", "Lượt phục vụ theo phiếu này đã được đánh giá.",
                    "The visit on this ticket was already rated.");
  std::string day = format_date(local_from_unix_seconds(when).date);
  Transaction txn(actor.username, ctx.config.scope);
  RecordWrite& w = txn.create(kRatings);
  w.set_once("clerk", in.clerk).set_once("level", in.level).set_once("day", day).set_once("at", iso_local(when));
  if (dossier) w.set_once("dossier", in.dossier_id);
  if (ticket) w.set_once("ticket", in.ticket_id);
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) return done.error();
  RatingView v{done.value().records.front().hex(), in.dossier_id, in.ticket_id, in.clerk, in.level, day,
               iso_local(when)};
  ctx.log.info("ratings", "rating " + v.id + " " + in.level);
  return v;
}

Outcome<RatingView> add_rating(NodeContext& ctx, const Actor& actor, const NewRating& in) {
  return add_rating_at(ctx, actor, in, now_seconds(ctx));
}

}  // namespace wardsync::node
