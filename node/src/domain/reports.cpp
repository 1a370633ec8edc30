#include "domain/reports.hpp"

#include <map>

#include "domain/dossiers.hpp"
#include "schema.hpp"

namespace wardsync::node {

namespace {

void count(ReportRow& row, const DossierView& d) {
  ++row.received;
  if (d.status == "cancelled") {
    ++row.cancelled;
  } else if (d.status == "returned") {
    ++row.returned;
    if (d.timing == "early") ++row.early;
    else if (d.timing == "on_time") ++row.on_time;
    else if (d.timing == "late") ++row.late;
  } else {
    ++row.pending;
    if (d.overdue) ++row.overdue;
  }
}

void rate(Satisfaction& s, const std::string& level) {
  if (level == "satisfied") ++s.satisfied;
  else if (level == "acceptable") ++s.acceptable;
  else if (level == "unsatisfied") ++s.unsatisfied;
}

}  // namespace

Outcome<Report> build_report(NodeContext& ctx, const std::string& from, const std::string& to) {
  std::vector<FieldError> errors;
  auto f = parse_date(from);
  auto t = parse_date(to);
  if (!f.is_ok()) errors.push_back({"from", "format", "Ngày bắt đầu phải có dạng YYYY-MM-DD.", "from must be YYYY-MM-DD."});
  if (!t.is_ok()) errors.push_back({"to", "format", "Ngày kết thúc phải có dạng YYYY-MM-DD.", "to must be YYYY-MM-DD."});
  if (f.is_ok() && t.is_ok()) {
    auto days = days_from_civil(t.value()) - days_from_civil(f.value());
    if (days < 0) errors.push_back({"to", "order", "Ngày kết thúc phải không trước ngày bắt đầu.", "to must not be before from."});
    else if (days >= kReportDaysMax)
      errors.push_back({"to", "range", "Khoảng thời gian tối đa 366 ngày.", "The period is at most 366 days."});
  }
  if (!errors.empty()) return invalid(std::move(errors));
  Report rep;
  rep.from = from;
  rep.to = to;
  std::map<std::string, ReportRow> by_proc, by_clerk;
  std::map<std::string, Satisfaction> sat_clerk;
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  for (Date d = f.value(); !(d > t.value()); d = add_days(d, 1)) {
    std::string day = format_date(d);
    for (const auto& id : reader->find(kDossiers, "received_day", day, 1'000'000)) {
      auto r = reader->get(kDossiers, id);
      if (!r || r->deleted) continue;
      const DossierView v = dossier_view(ctx, *r);
      count(rep.totals, v);
      ReportRow& p = by_proc[v.procedure_code];
      p.key = v.procedure_code;
      p.name = v.procedure_name;
      count(p, v);
      std::string who = v.assignee.empty() ? v.received_by : v.assignee;
      ReportRow& c = by_clerk[who];
      c.key = who;
      count(c, v);
    }
    for (const auto& id : reader->find(kRatings, "day", day, 1'000'000)) {
      auto r = reader->get(kRatings, id);
      if (!r) continue;
      rate(rep.satisfaction, r->text("level"));
      rate(sat_clerk[r->text("clerk")], r->text("level"));
    }
  }
  for (auto& [k, v] : by_proc) rep.by_procedure.push_back(v);
  for (auto& [k, v] : by_clerk) rep.by_clerk.push_back(v);
  for (auto& [k, v] : sat_clerk) rep.satisfaction_by_clerk.emplace_back(k, v);
  return rep;
}

}  // namespace wardsync::node
