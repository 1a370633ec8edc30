// Dossiers: intake, read, list, search, transitions, assignment, apology slip.
#include <charconv>

#include "domain/dossiers.hpp"
#include "http/api_internal.hpp"

namespace wardsync::node::http {

Object dossier_json(const DossierView& d) {
  Object o;
  o.set("id", d.id);
  o.set("code", d.code);
  o.set("lookup_code", d.lookup_code);
  Object a;
  a.set("name", d.applicant_name);
  a.set("cccd", d.cccd);
  a.set("dob", d.dob);
  a.set("phone", d.phone);
  a.set("address", d.address);
  o.set("applicant", a);
  Object p;
  p.set("code", d.procedure_code);
  p.set("name", d.procedure_name);
  o.set("procedure", p);
  o.set("channel", d.channel);
  Array comps;
  for (const auto& c : d.components) comps.add(c);
  o.set("components", comps);
  if (!d.fee_vnd.empty()) {
    std::int64_t fee = 0;
    std::from_chars(d.fee_vnd.data(), d.fee_vnd.data() + d.fee_vnd.size(), fee);
    o.set("fee_vnd", fee);
  }
  o.set("note", d.note);
  o.set("received_at", d.received_at);
  o.set("received_by", d.received_by);
  o.set("appointment", d.appointment);
  o.set("due_date", d.due_day);
  o.set("assignee", d.assignee);
  o.set("status", d.status);
  o.set("cycle", d.cycle);
  o.set("decided_by", d.decided_by);
  o.set("returned_at", d.returned_at);
  o.set("timing", d.timing.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(d.timing));
  o.set("overdue", d.overdue);
  if (d.apology) {
    Object ap;
    ap.set("new_appointment", d.apology->new_appointment);
    ap.set("reason", d.apology->reason);
    ap.set("issued_at", d.apology->issued_at);
    ap.set("by", d.apology->by);
    ap.set("notice_in_time", d.apology->notice_in_time);
    o.set("apology", ap);
  } else {
    o.set("apology", Poco::Dynamic::Var());
  }
  Array hist;
  for (const auto& h : d.history) {
    Object e;
    e.set("at", h.at);
    e.set("by", h.by);
    e.set("action", h.action);
    e.set("note", h.note);
    hist.add(e);
  }
  o.set("history", hist);
  Array att;
  for (const auto& page : d.attachments) {
    Object ao;
    ao.set("hash", page.hash);
    ao.set("mime_type", page.mime_type);
    ao.set("bytes", page.bytes);
    ao.set("label", page.label);
    att.add(ao);
  }
  o.set("attachments", att);
  o.set("identity_verified", d.identity_verified);
  o.set("has_conflicts", d.has_conflicts);
  return o;
}

namespace {

const std::initializer_list<Role> kReaders = {Role::kClerk, Role::kSpecialist, Role::kLeader};

void create(Exchange& ex) {
  if (!require_session(ex)) return;
  if (!need_body(ex)) return;
  std::vector<FieldError> errors;
  NewDossier n;
  if (ex.body->has("applicant") && !ex.body->isObject("applicant"))
    errors.push_back({"applicant", "type", "Người nộp phải là một đối tượng.", "applicant must be an object."});
  else if (!ex.body->has("applicant"))
    errors.push_back({"applicant", "required", "Thông tin người nộp là bắt buộc.", "applicant is required."});
  else {
    n.applicant.name = body_string(ex, "name", errors, "applicant");
    n.applicant.cccd = body_string(ex, "cccd", errors, "applicant");
    n.applicant.dob = body_string(ex, "dob", errors, "applicant");
    n.applicant.phone = body_string(ex, "phone", errors, "applicant");
    n.applicant.address = body_string(ex, "address", errors, "applicant");
  }
  n.procedure_code = body_string(ex, "procedure_code", errors);
  n.channel = body_string(ex, "channel", errors);
  if (n.channel.empty()) n.channel = "counter";
  if (ex.body->has("components")) {
    if (!ex.body->isArray("components")) {
      errors.push_back({"components", "type", "Thành phần hồ sơ phải là một mảng chuỗi.", "components must be an array of strings."});
    } else {
      auto arr = ex.body->getArray("components");
      for (std::size_t i = 0; i < arr->size(); ++i) {
        Poco::Dynamic::Var v = arr->get(static_cast<unsigned>(i));
        if (!v.isString()) {
          errors.push_back({"components[" + std::to_string(i) + "]", "type", "Phải là chuỗi ký tự.", "Must be a string."});
          break;
        }
        n.components.push_back(v.extract<std::string>());
      }
    }
  }
  n.fee_vnd = body_int(ex, "fee_vnd", errors);
  n.note = body_string(ex, "note", errors);
  if (!errors.empty()) {
    send_error(ex, invalid(std::move(errors)));
    return;
  }
  answer(ex, create_dossier(ex.ctx, *ex.actor, n), 201, dossier_json);
}

void list(Exchange& ex) {
  if (!require_role(ex, kReaders)) return;
  DossierFilter f;
  f.status = query_param(ex, "status");
  f.assignee = query_param(ex, "assignee");
  f.procedure_code = query_param(ex, "procedure");
  f.due = query_param(ex, "due");
  f.cursor = query_param(ex, "cursor");
  std::string limit = query_param(ex, "limit");
  if (!limit.empty()) {
    auto [p, ec] = std::from_chars(limit.data(), limit.data() + limit.size(), f.limit);
    if (ec != std::errc() || p != limit.data() + limit.size()) f.limit = 0;
  }
  answer(ex, list_dossiers(ex.ctx, f), 200, [](const DossierPage& page) {
    Object o;
    Array items;
    for (const auto& d : page.items) items.add(dossier_json(d));
    o.set("items", items);
    o.set("next_cursor", page.next_cursor.empty() ? Poco::Dynamic::Var() : Poco::Dynamic::Var(page.next_cursor));
    return o;
  });
}

void search(Exchange& ex) {
  if (!require_role(ex, kReaders)) return;
  std::size_t limit = 20;
  std::string l = query_param(ex, "limit");
  if (!l.empty()) {
    auto [p, ec] = std::from_chars(l.data(), l.data() + l.size(), limit);
    if (ec != std::errc() || p != l.data() + l.size()) limit = 0;
  }
  answer(ex, search_dossiers(ex.ctx, query_param(ex, "q"), limit), 200, [](const std::vector<DossierView>& v) {
    Object o;
    Array items;
    for (const auto& d : v) items.add(dossier_json(d));
    o.set("items", items);
    return o;
  });
}

void one(Exchange& ex) {
  const std::string& id = ex.seg[1];
  if (ex.seg.size() == 2) {
    if (ex.method != "GET") return method_not_allowed(ex);
    if (!require_role(ex, kReaders)) return;
    answer(ex, get_dossier(ex.ctx, id), 200, dossier_json);
    return;
  }
  const std::string& what = ex.seg[2];
  if (ex.seg.size() != 3) {
    send_simple_error(ex, 404, "not_found", "Không có địa chỉ này.", "No such path.");
    return;
  }
  if (what == "apology" && ex.method == "GET") {
    if (!require_role(ex, kReaders)) return;
    auto d = get_dossier(ex.ctx, id);
    if (!d.ok()) return send_error(ex, d.error());
    if (!d.value().apology) return send_error(ex, not_found("phiếu xin lỗi", "Apology slip"));
    // Mẫu 04: the slip's content, for the UI to print.
    const DossierView& v = d.value();
    Object o;
    o.set("office_name", ex.ctx.config.office_name);
    o.set("dossier_code", v.code);
    o.set("applicant_name", v.applicant_name);
    o.set("procedure_name", v.procedure_name);
    o.set("received_at", v.received_at);
    o.set("original_appointment", v.appointment);
    o.set("new_appointment", v.apology->new_appointment);
    o.set("reason", v.apology->reason);
    o.set("issued_at", v.apology->issued_at);
    o.set("issued_by", v.apology->by);
    o.set("notice_in_time", v.apology->notice_in_time);
    send_json(ex, 200, o);
    return;
  }
  if (ex.method != "POST") return method_not_allowed(ex);
  if (!require_session(ex)) return;
  if (!need_body(ex)) return;
  std::vector<FieldError> errors;
  if (what == "transitions") {
    std::string action = body_string(ex, "action", errors);
    std::string note = body_string(ex, "note", errors);
    if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
    answer(ex, transition_dossier(ex.ctx, *ex.actor, id, action, note), 200, dossier_json);
  } else if (what == "assignment") {
    std::string assignee = body_string(ex, "assignee", errors);
    if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
    answer(ex, assign_dossier(ex.ctx, *ex.actor, id, assignee), 200, dossier_json);
  } else if (what == "apology") {
    std::string date = body_string(ex, "new_appointment", errors);
    std::string reason = body_string(ex, "reason", errors);
    if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
    answer(ex, apologize(ex.ctx, *ex.actor, id, date, reason), 201, dossier_json);
  } else {
    send_simple_error(ex, 404, "not_found", "Không có địa chỉ này.", "No such path.");
  }
}

}  // namespace

bool route_dossiers(Exchange& ex) {
  const auto& s = ex.seg;
  if (s.empty() || s[0] != "dossiers") return false;
  if (s.size() == 1) {
    if (ex.method == "POST") create(ex);
    else if (ex.method == "GET") list(ex);
    else method_not_allowed(ex);
  } else if (s.size() == 2 && s[1] == "search") {
    if (ex.method == "GET") search(ex);
    else method_not_allowed(ex);
  } else {
    one(ex);
  }
  return true;
}

}  // namespace wardsync::node::http
