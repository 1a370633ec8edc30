// Dossiers: intake, read, list, search, transitions, assignment, apology slip.
#include <charconv>

#include "domain/dossiers.hpp"
#include "http/api_internal.hpp"
#include "http/json_writer.hpp"

namespace wardsync::node::http {

enum class Detail { kWhole, kSummary };

// A dossier as JSON: whole, or (search hits) only the summary fields schema.cpp
// keeps in the search index; the rest were never read, so they are left out
// rather than written empty.
void write_dossier(JsonWriter& w, const DossierView& d, Detail detail) {
  const bool whole = detail == Detail::kWhole;
  w.begin_object();
  w.field("id", d.id);
  w.field("code", d.code);
  w.field("lookup_code", d.lookup_code);
  w.key("applicant");
  w.begin_object();
  w.field("name", d.applicant_name);
  w.field("cccd", d.cccd);
  if (whole) {
    w.field("dob", d.dob);
    w.field("phone", d.phone);
    w.field("address", d.address);
  }
  w.end_object();
  w.key("procedure");
  w.begin_object();
  w.field("code", d.procedure_code);
  w.field("name", d.procedure_name);
  w.end_object();
  w.field("channel", d.channel);
  w.field("received_at", d.received_at);
  w.field("appointment", d.appointment);
  w.field("due_date", d.due_day);
  w.field("assignee", d.assignee);
  w.field("status", d.status);
  w.field("cycle", d.cycle);
  w.field("returned_at", d.returned_at);
  w.string_or_null("timing", d.timing);
  w.field("overdue", d.overdue);
  w.field("identity_verified", d.identity_verified);
  if (!whole) {
    w.field("summary", true);
    w.end_object();
    return;
  }
  w.key("components");
  w.begin_array();
  for (const auto& c : d.components) w.value(c);
  w.end_array();
  if (!d.fee_vnd.empty()) {
    std::int64_t fee = 0;
    std::from_chars(d.fee_vnd.data(), d.fee_vnd.data() + d.fee_vnd.size(), fee);
    w.field("fee_vnd", fee);
  }
  w.field("note", d.note);
  w.field("received_by", d.received_by);
  w.field("decided_by", d.decided_by);
  w.key("apology");
  if (d.apology) {
    w.begin_object();
    w.field("new_appointment", d.apology->new_appointment);
    w.field("reason", d.apology->reason);
    w.field("issued_at", d.apology->issued_at);
    w.field("by", d.apology->by);
    w.field("notice_in_time", d.apology->notice_in_time);
    w.end_object();
  } else {
    w.null();
  }
  w.key("history");
  w.begin_array();
  for (const auto& h : d.history) {
    w.begin_object();
    w.field("at", h.at);
    w.field("by", h.by);
    w.field("action", h.action);
    w.field("note", h.note);
    w.end_object();
  }
  w.end_array();
  w.key("attachments");
  w.begin_array();
  for (const auto& page : d.attachments) {
    w.begin_object();
    w.field("hash", page.hash);
    w.field("mime_type", page.mime_type);
    w.field("bytes", page.bytes);
    w.field("label", page.label);
    w.end_object();
  }
  w.end_array();
  w.field("has_conflicts", d.has_conflicts);
  w.field("pinned", d.pinned);
  w.end_object();
}

std::string dossier_json(const DossierView& d) {
  JsonWriter w;
  write_dossier(w, d, Detail::kWhole);
  return w.take();
}

// {"items": [dossier, ...], "next_cursor": cursor or null}
std::string dossier_page_json(const std::vector<DossierView>& items, const std::string& next_cursor) {
  JsonWriter w;
  w.begin_object();
  w.key("items");
  w.begin_array();
  for (const auto& d : items) write_dossier(w, d, Detail::kWhole);
  w.end_array();
  w.string_or_null("next_cursor", next_cursor);
  w.end_object();
  return w.take();
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
  answer(ex, list_dossiers(ex.ctx, f), 200,
         [](const DossierPage& page) { return dossier_page_json(page.items, page.next_cursor); });
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
    JsonWriter w;
    w.begin_object();
    w.key("items");
    w.begin_array();
    for (const auto& d : v) write_dossier(w, d, Detail::kSummary);
    w.end_array();
    w.end_object();
    return w.take();
  });
}

void one(Exchange& ex) {
  const std::string& id = ex.seg[1];
  if (ex.seg.size() == 2) {
    if (ex.method != "GET") return method_not_allowed(ex, "GET");
    if (!require_role(ex, kReaders)) return;
    // The local copy answers through the gate; a fetch through the peers (a
    // dossier not held here, or another office's pinned copy to refresh) waits on
    // the network, so its place in the gate is given up first.
    auto local = get_dossier(ex.ctx, id);
    if (local.ok() && !local.value().pinned) return answer(ex, std::move(local), 200, dossier_json);
    ex.turn.leave();
    answer(ex, get_or_fetch_dossier(ex.ctx, id), 200, dossier_json);
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
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
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
    else method_not_allowed(ex, "GET, POST");
  } else if (s.size() == 2 && s[1] == "search") {
    if (ex.method == "GET") search(ex);
    else method_not_allowed(ex, "GET");
  } else if (s.size() == 3 && s[1] == "by-code") {
    // A dossier by the code printed on its receipt, fetched from its office when not held here.
    if (ex.method != "GET") method_not_allowed(ex, "GET");
    else if (require_role(ex, kReaders)) {
      ex.turn.leave();  // may wait on the peers
      answer(ex, find_or_fetch_dossier_by_code(ex.ctx, s[2]), 200, dossier_json);
    }
  } else {
    one(ex);
  }
  return true;
}

}  // namespace wardsync::node::http
