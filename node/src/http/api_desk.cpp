// Procedures, calendar, queue tickets, ratings and reports.
#include <charconv>

#include "domain/ratings.hpp"
#include "domain/reports.hpp"
#include "domain/tickets.hpp"
#include "http/api_internal.hpp"
#include "wardsync/sync/text.hpp"

namespace wardsync::node::http {

namespace {

void not_found_path(Exchange& ex) { send_simple_error(ex, 404, "not_found", "Không có địa chỉ này.", "No such path."); }

Object procedure_json(const Procedure& p, bool full) {
  Object o;
  o.set("code", p.code);
  o.set("name_vi", p.name_vi);
  o.set("name_en", p.name_en);
  o.set("field_vi", p.field_vi);
  o.set("processing_days", p.processing_time.days());
  o.set("same_day_cutoff", p.same_day_cutoff);
  Object fee;
  fee.set("kind", fee_kind_name(p.fee.kind));
  fee.set("description_vi", p.fee.description_vi);
  if (p.fee.kind == FeeKind::kFixed) {
    fee.set("amount_vnd", p.fee.amount_vnd);
    fee.set("unit_vi", p.fee.unit_vi);
  }
  o.set("fee", fee);
  if (full) {
    Array comps;
    for (const auto& c : p.components) {
      Object co;
      co.set("name_vi", c.name_vi);
      co.set("mandatory", c.mandatory);
      co.set("note_vi", c.note_vi);
      comps.add(co);
    }
    o.set("components", comps);
    if (p.extended_processing_time) {
      o.set("extended_processing_days", p.extended_processing_time->days());
      o.set("extension_condition_vi", p.extension_condition_vi);
    }
    o.set("legal_basis", p.legal_basis);
    o.set("notes_vi", p.notes_vi);
  }
  return o;
}

void procedures(Exchange& ex) {
  if (ex.method != "GET") return method_not_allowed(ex, "GET");
  auto catalogue = ex.ctx.catalogues.procedures();
  if (ex.seg.size() == 2) {
    const Procedure* p = catalogue->find(ex.seg[1]);
    if (!p) return send_error(ex, not_found("thủ tục", "Procedure"));
    send_json(ex, 200, procedure_json(*p, true));
    return;
  }
  if (ex.seg.size() != 1) return not_found_path(ex);
  std::string q = query_param(ex, "q");
  if (q.size() > 200)
    return send_error(ex, invalid({{"q", "too_long", "Từ khóa quá dài.", "Query too long."}}));
  // The catalogue is a few dozen entries in memory: filtering it is not a record scan.
  std::string folded = fold_for_search(q);
  std::vector<std::string> words;
  std::string w;
  for (char c : folded + " ") {
    if (c == ' ' || c == ',' || c == '.') {
      if (!w.empty()) words.push_back(w);
      w.clear();
    } else {
      w += c;
    }
  }
  Array items;
  for (const auto& p : catalogue->procedures()) {
    std::string hay = fold_for_search(p.code + " " + p.name_vi + " " + p.field_vi + " " + p.name_en);
    bool all = true;
    for (const auto& word : words)
      if (hay.find(word) == std::string::npos) all = false;
    if (all) items.add(procedure_json(p, false));
  }
  Object o;
  o.set("items", items);
  send_json(ex, 200, o);
}

void calendar(Exchange& ex) {
  if (ex.method != "GET") return method_not_allowed(ex, "GET");
  auto calendar_now = ex.ctx.catalogues.calendar();
  const Calendar& cal = *calendar_now;
  if (ex.seg.size() == 2 && ex.seg[1] == "days") {
    std::vector<FieldError> errors;
    auto f = parse_date(query_param(ex, "from"));
    auto t = parse_date(query_param(ex, "to"));
    if (!f.is_ok()) errors.push_back({"from", "format", "Ngày bắt đầu phải có dạng YYYY-MM-DD.", "from must be YYYY-MM-DD."});
    if (!t.is_ok()) errors.push_back({"to", "format", "Ngày kết thúc phải có dạng YYYY-MM-DD.", "to must be YYYY-MM-DD."});
    if (errors.empty()) {
      auto n = days_from_civil(t.value()) - days_from_civil(f.value());
      if (n < 0 || n > 366)
        errors.push_back({"to", "range", "Khoảng ngày phải từ 0 đến 366 ngày.", "The range must be 0 to 366 days."});
      else if (!cal.covers(f.value()) || !cal.covers(t.value()))
        errors.push_back({"from", "not_covered",
                          "Lịch chỉ có dữ liệu từ năm " + std::to_string(cal.first_year()) + " đến " +
                              std::to_string(cal.last_year()) + ".",
                          "The calendar covers " + std::to_string(cal.first_year()) + " to " +
                              std::to_string(cal.last_year()) + " only."});
    }
    if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
    Array days;
    for (Date d = f.value(); !(d > t.value()); d = add_days(d, 1)) {
      Object o;
      o.set("date", format_date(d));
      auto w = cal.is_working_day(d);
      o.set("working", w.is_ok() && w.value());
      const Holiday* h = cal.holiday(d);
      o.set("holiday", h ? Poco::Dynamic::Var(h->name) : Poco::Dynamic::Var());
      days.add(o);
    }
    Object o;
    o.set("items", days);
    send_json(ex, 200, o);
    return;
  }
  if (ex.seg.size() == 2 && ex.seg[1] == "appointment") {
    std::vector<FieldError> errors;
    auto catalogue = ex.ctx.catalogues.procedures();
    const Procedure* p = catalogue->find(query_param(ex, "procedure"));
    if (!p) errors.push_back({"procedure", "unknown", "Không có thủ tục với mã này.", "No procedure with this code."});
    std::string r = query_param(ex, "received");
    LocalDateTime when;
    bool ok = r.size() == 16 || r.size() == 19;
    if (ok) {
      auto d = parse_date(r.substr(0, 10));
      auto num = [&](std::size_t pos, int& out) {
        auto [q, ec] = std::from_chars(r.data() + pos, r.data() + pos + 2, out);
        return ec == std::errc() && q == r.data() + pos + 2;
      };
      ok = d.is_ok() && r[10] == 'T' && r[13] == ':' && num(11, when.hour) && num(14, when.minute) &&
           (r.size() == 16 || (r[16] == ':' && num(17, when.second)));
      if (ok) when.date = d.value();
      ok = ok && is_valid_local_date_time(when);
    }
    if (!ok)
      errors.push_back({"received", "format", "Thời điểm nhận phải có dạng YYYY-MM-DDTHH:MM (giờ Việt Nam).",
                        "received must be YYYY-MM-DDTHH:MM (Vietnam time)."});
    if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
    auto a = cal.appointment(when, p->processing_time, p->same_day_cutoff);
    if (!a.is_ok())
      return send_error(ex, invalid({{"received", "not_covered", "Lịch làm việc không có dữ liệu cho ngày này.",
                                      "The calendar does not cover this date."}}));
    Object o;
    o.set("procedure", p->code);
    o.set("processing_days", p->processing_time.days());
    o.set("received", format_local_date_time(when));
    o.set("appointment", format_local_date_time(a.value()));
    o.set("appointment_date", format_date(a.value().date));
    send_json(ex, 200, o);
    return;
  }
  not_found_path(ex);
}

Object ticket_json(const TicketView& t) {
  Object o;
  o.set("id", t.id);
  o.set("counter", t.counter);
  o.set("day", t.day);
  o.set("number", t.number);
  o.set("state", t.state);
  o.set("issued_at", t.issued_at);
  o.set("handled_by", t.handled_by);
  Array ev;
  for (const auto& e : t.events) {
    Object eo;
    eo.set("at", e.at);
    eo.set("by", e.by);
    eo.set("action", e.action);
    ev.add(eo);
  }
  o.set("events", ev);
  return o;
}

void tickets(Exchange& ex) {
  if (ex.seg.size() == 1) {
    if (ex.method != "POST") return method_not_allowed(ex, "POST");
    if (!require_session(ex) || !need_body(ex)) return;
    std::vector<FieldError> errors;
    std::string counter = body_string(ex, "counter", errors);
    if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
    answer(ex, issue_ticket(ex.ctx, *ex.actor, counter), 201, ticket_json);
    return;
  }
  if (ex.seg.size() == 2) {
    if (ex.method != "GET") return method_not_allowed(ex, "GET");
    if (!require_role(ex, {Role::kClerk, Role::kSpecialist, Role::kLeader})) return;
    answer(ex, get_ticket(ex.ctx, ex.seg[1]), 200, ticket_json);
    return;
  }
  if (ex.seg.size() == 3 && ex.seg[2] == "actions") {
    if (ex.method != "POST") return method_not_allowed(ex, "POST");
    if (!require_session(ex) || !need_body(ex)) return;
    std::vector<FieldError> errors;
    std::string action = body_string(ex, "action", errors);
    if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
    answer(ex, ticket_action(ex.ctx, *ex.actor, ex.seg[1], action), 200, ticket_json);
    return;
  }
  not_found_path(ex);
}

void queues(Exchange& ex) {
  if (ex.seg.size() == 2) {
    if (ex.method != "GET") return method_not_allowed(ex, "GET");
    if (!require_role(ex, {Role::kClerk, Role::kSpecialist, Role::kLeader})) return;
    answer(ex, queue_status(ex.ctx, ex.seg[1], query_param(ex, "day")), 200, [](const QueueStatus& q) {
      Object o;
      o.set("counter", q.counter);
      o.set("day", q.day);
      o.set("waiting", static_cast<std::uint64_t>(q.waiting));
      o.set("last_issued", q.last_issued);
      o.set("current", q.current ? Poco::Dynamic::Var(ticket_json(*q.current)) : Poco::Dynamic::Var());
      Array items;
      for (const auto& t : q.tickets) items.add(ticket_json(t));
      o.set("tickets", items);
      return o;
    });
    return;
  }
  if (ex.seg.size() == 3 && ex.seg[2] == "call-next") {
    if (ex.method != "POST") return method_not_allowed(ex, "POST");
    if (!require_session(ex)) return;
    answer(ex, call_next(ex.ctx, *ex.actor, ex.seg[1]), 200, ticket_json);
    return;
  }
  not_found_path(ex);
}

void ratings(Exchange& ex) {
  if (ex.seg.size() != 1) return not_found_path(ex);
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!require_session(ex) || !need_body(ex)) return;
  std::vector<FieldError> errors;
  NewRating n{body_string(ex, "dossier_id", errors), body_string(ex, "clerk", errors), body_string(ex, "level", errors),
              ""};
  if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
  answer(ex, add_rating(ex.ctx, *ex.actor, n), 201, [](const RatingView& r) {
    Object o;
    o.set("id", r.id);
    o.set("dossier_id", r.dossier_id.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(r.dossier_id));
    o.set("clerk", r.clerk);
    o.set("level", r.level);
    o.set("day", r.day);
    o.set("at", r.at);
    return o;
  });
}

Object row_json(const ReportRow& r) {
  Object o;
  o.set("key", r.key);
  if (!r.name.empty()) o.set("name", r.name);
  o.set("received", r.received);
  o.set("returned", r.returned);
  o.set("early", r.early);
  o.set("on_time", r.on_time);
  o.set("late", r.late);
  o.set("pending", r.pending);
  o.set("overdue", r.overdue);
  o.set("cancelled", r.cancelled);
  double on_time_share = r.returned ? static_cast<double>(r.early + r.on_time) / static_cast<double>(r.returned) : 0.0;
  o.set("on_time_share", on_time_share);
  return o;
}

Object satisfaction_json(const Satisfaction& s) {
  Object o;
  o.set("satisfied", s.satisfied);
  o.set("acceptable", s.acceptable);
  o.set("unsatisfied", s.unsatisfied);
  o.set("total", s.total());
  auto share = [&](std::uint64_t n) { return s.total() ? static_cast<double>(n) / static_cast<double>(s.total()) : 0.0; };
  o.set("satisfied_share", share(s.satisfied));
  o.set("acceptable_share", share(s.acceptable));
  o.set("unsatisfied_share", share(s.unsatisfied));
  return o;
}

void reports(Exchange& ex) {
  if (ex.seg.size() != 1) return not_found_path(ex);
  if (ex.method != "GET") return method_not_allowed(ex, "GET");
  if (!require_role(ex, {Role::kLeader, Role::kItAdmin})) return;
  answer(ex, build_report(ex.ctx, query_param(ex, "from"), query_param(ex, "to")), 200, [](const Report& r) {
    Object o;
    o.set("from", r.from);
    o.set("to", r.to);
    o.set("totals", row_json(r.totals));
    Array bp, bc, sc;
    for (const auto& row : r.by_procedure) bp.add(row_json(row));
    for (const auto& row : r.by_clerk) bc.add(row_json(row));
    for (const auto& [clerk, s] : r.satisfaction_by_clerk) {
      Object so = satisfaction_json(s);
      so.set("clerk", clerk);
      sc.add(so);
    }
    o.set("by_procedure", bp);
    o.set("by_clerk", bc);
    o.set("satisfaction", satisfaction_json(r.satisfaction));
    o.set("satisfaction_by_clerk", sc);
    return o;
  });
}

}  // namespace

bool route_desk(Exchange& ex) {
  if (ex.seg.empty()) return false;
  const std::string& head = ex.seg[0];
  if (head == "procedures") procedures(ex);
  else if (head == "calendar") calendar(ex);
  else if (head == "tickets") tickets(ex);
  else if (head == "queues") queues(ex);
  else if (head == "ratings") ratings(ex);
  else if (head == "reports") reports(ex);
  else return false;
  return true;
}

}  // namespace wardsync::node::http
