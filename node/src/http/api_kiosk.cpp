// The citizens' kiosk under /api/v1/kiosk: no clerk session, nothing but what a
// citizen at the kiosk needs, every call rate-limited per client address. A
// dossier is shown only to whoever holds its code AND its lookup code, and then
// only its status (never the applicant's personal data).
#include <sodium.h>

#include "domain/kiosk.hpp"
#include "wardsync/hardware/id_codes.hpp"
#include "domain/slips.hpp"
#include "domain/tickets.hpp"
#include "http/api_internal.hpp"

namespace wardsync::node::http {

namespace {

std::string client_of(Exchange& ex) { return ex.req.clientAddress().host().toString(); }

// false (and 429 answered) when the client must wait.
bool allowed(Exchange& ex, RateLimiter& limiter, const std::string& key) {
  std::uint64_t wait = limiter.take(key);
  if (wait == 0) return true;
  ex.ctx.log.warning("kiosk", "rate limited: " + std::string(&limiter == &ex.ctx.kiosk.failed_lookups ? "office-wide failed look-ups" : "client"));
  ex.resp.set("Retry-After", std::to_string(wait));
  send_simple_error(ex, 429, "rate_limited",
                    "Ông/bà thao tác quá nhiều lần; vui lòng chờ " + std::to_string(wait) + " giây rồi thử lại.",
                    "Too many attempts; please wait " + std::to_string(wait) + " seconds and try again.");
  return false;
}

Object print_outcome(NodeContext& ctx, Outcome<Printed>&& p) {
  Object o;
  o.set("printed", p.ok());
  if (!p.ok()) {
    Object e;
    e.set("error", p.error().code);
    e.set("message_vi", p.error().message_vi);
    e.set("message_en", p.error().message_en);
    o.set("print_error", e);
  }
  (void)ctx;
  return o;
}

// What a citizen may see of a dossier.
Object public_dossier(const DossierView& d, bool with_lookup) {
  Object o;
  o.set("code", d.code);
  if (with_lookup) o.set("lookup_code", d.lookup_code);
  Object p;
  p.set("code", d.procedure_code);
  p.set("name", d.procedure_name);
  o.set("procedure", p);
  o.set("status", d.status);
  o.set("received_day", d.received_at.substr(0, 10));
  o.set("appointment", d.appointment);
  o.set("due_date", d.due_day);
  o.set("overdue", d.overdue);
  if (d.apology) {
    Object a;
    a.set("new_appointment", d.apology->new_appointment);
    o.set("apology", a);
  } else {
    o.set("apology", Poco::Dynamic::Var());
  }
  o.set("identity_verified", d.identity_verified);
  o.set("pages", static_cast<std::uint64_t>(d.attachments.size()));
  return o;
}

// Code + lookup code from the body (or the receipt QR "WS1|code|lookup" in `qr`).
bool find_from_body(Exchange& ex, Outcome<DossierView>& out) {
  std::vector<FieldError> errors;
  std::string code = body_string(ex, "code", errors);
  std::string lookup = body_string(ex, "lookup_code", errors);
  std::string qr = body_string(ex, "qr", errors);
  if (!errors.empty()) {
    send_error(ex, invalid(std::move(errors)));
    return false;
  }
  if (!qr.empty()) {
    auto r = hardware::parse_receipt_qr(qr);
    if (!r.is_ok()) {
      send_error(ex, invalid({{"qr", r.status().code(),
                               "Mã QR không phải của giấy hẹn: " + r.status().message_vi(),
                               "Not a receipt QR: " + r.status().message_en()}}));
      return false;
    }
    code = r.value().dossier_code;
    lookup = r.value().lookup_code;
  }
  if (!allowed(ex, ex.ctx.kiosk.lookups, client_of(ex))) return false;
  out = kiosk_find(ex.ctx, code, lookup);
  if (!out.ok() && out.error().kind == ErrorKind::kNotFound) {
    ex.ctx.log.warning("kiosk", "look-up failed from " + client_of(ex));
    if (!allowed(ex, ex.ctx.kiosk.failed_lookups, "*")) return false;
  }
  if (!out.ok()) {
    send_error(ex, out.error());
    return false;
  }
  return true;
}

void info(Exchange& ex) {
  if (ex.method != "GET") return method_not_allowed(ex, "GET");
  Object o;
  o.set("office_name", ex.ctx.config.office_name);
  o.set("printer", ex.ctx.peripherals.has_printer());
  o.set("scanner", ex.ctx.peripherals.has_scanner());
  send_json(ex, 200, o);
}

void ticket(Exchange& ex) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!need_body(ex)) return;
  std::vector<FieldError> errors;
  std::string counter = body_string(ex, "counter", errors);
  if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
  if (!allowed(ex, ex.ctx.kiosk.tickets, client_of(ex))) return;
  auto t = issue_ticket(ex.ctx, kiosk_actor(), counter);
  if (!t.ok()) return send_error(ex, t.error());
  Object o = print_outcome(ex.ctx, print_ticket(ex.ctx, t.value()));
  o.set("number", t.value().number);
  o.set("counter", t.value().counter);
  o.set("day", t.value().day);
  o.set("issued_at", t.value().issued_at);
  send_json(ex, 201, o);
}

void lookup(Exchange& ex) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!need_body(ex)) return;
  Outcome<DossierView> d = internal_error();
  if (!find_from_body(ex, d)) return;
  send_json(ex, 200, public_dossier(d.value(), false));
}

void reprint(Exchange& ex) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!need_body(ex)) return;
  Outcome<DossierView> d = internal_error();
  if (!find_from_body(ex, d)) return;
  auto p = print_receipt(ex.ctx, d.value());
  if (!p.ok()) return send_error(ex, p.error());
  Object o;
  o.set("printed", true);
  send_json(ex, 200, o);
}

void scans(Exchange& ex) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!allowed(ex, ex.ctx.kiosk.scans, client_of(ex))) return;
  auto pages = ex.ctx.peripherals.scan();
  if (!pages.is_ok()) {
    const auto& s = pages.status();
    bool device = s.code() == "scanner.none" || s.kind() == hardware::ErrorKind::kUnreachable ||
                  s.kind() == hardware::ErrorKind::kTimeout;
    std::string vi = !s.message_vi().empty() ? s.message_vi() : "Máy quét báo lỗi.";
    return send_simple_error(ex, device ? 503 : 422, device ? "scanner_unavailable" : "scanner_failed",
                             vi + " Ông/bà đặt lại giấy tờ vào khe quét rồi thử lại, hoặc nhờ cán bộ hỗ trợ.",
                             "The scanner failed (" + s.code() + "): " + s.message_en() + ". Nothing was filed.");
  }
  Array arr;
  for (const auto& p : pages.value()) {
    Object po;
    po.set("hash", p.hash);
    po.set("mime_type", p.mime_type);
    po.set("bytes", p.bytes);
    po.set("width_px", p.width_px);
    po.set("height_px", p.height_px);
    arr.add(po);
  }
  Object o;
  o.set("pages", arr);
  send_json(ex, 201, o);
}

void file_start(Exchange& ex) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!need_body(ex)) return;
  std::vector<FieldError> errors;
  FilingInput in;
  in.cccd_qr = body_string(ex, "cccd_qr", errors);
  in.procedure_code = body_string(ex, "procedure_code", errors);
  in.phone = body_string(ex, "phone", errors);
  in.client = client_of(ex);
  auto strings = [&](const std::string& key, auto&& each) {
    if (!ex.body->has(key)) return;
    if (!ex.body->isArray(key)) {
      errors.push_back({key, "type", "Trường này phải là một mảng.", "This field must be an array."});
      return;
    }
    auto arr = ex.body->getArray(key);
    if (arr->size() > 200) {
      errors.push_back({key, "too_many", "Quá nhiều phần tử.", "Too many elements."});
      return;
    }
    for (std::size_t i = 0; i < arr->size(); ++i) each(i, arr->get(static_cast<unsigned>(i)));
  };
  strings("components", [&](std::size_t i, const Poco::Dynamic::Var& v) {
    if (v.isString()) in.components.push_back(v.extract<std::string>());
    else errors.push_back({"components[" + std::to_string(i) + "]", "type", "Phải là chuỗi ký tự.", "Must be a string."});
  });
  strings("pages", [&](std::size_t i, const Poco::Dynamic::Var& v) {
    Object::Ptr po;
    if (v.type() == typeid(Object::Ptr)) po = v.extract<Object::Ptr>();
    if (!po || !po->has("hash") || !po->get("hash").isString() || !po->has("component") ||
        !po->get("component").isString()) {
      errors.push_back({"pages[" + std::to_string(i) + "]", "type", "Mỗi trang gồm hash và component (chuỗi).",
                        "Each page is {hash, component} (strings)."});
      return;
    }
    in.pages.push_back({po->getValue<std::string>("hash"), po->getValue<std::string>("component")});
  });
  if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
  if (!allowed(ex, ex.ctx.kiosk.filings, client_of(ex))) return;
  auto f = start_filing(ex.ctx, in);
  if (!f.ok()) return send_error(ex, f.error());
  const PendingFiling& p = f.value();
  Object o;
  o.set("filing_id", p.id);
  o.set("confirm_code", p.confirm_code);
  Object a;
  a.set("name", p.name);
  a.set("cccd", p.cccd);
  a.set("dob", p.dob);
  a.set("address", p.address);
  a.set("phone", p.phone);
  o.set("applicant", a);
  o.set("identity_verified", false);
  auto catalogue = ex.ctx.catalogues.procedures();
  const Procedure* proc = catalogue->find(p.procedure_code);
  Object po;
  po.set("code", p.procedure_code);
  po.set("name", proc ? proc->name_vi : p.procedure_code);
  o.set("procedure", po);
  Array comps;
  for (const auto& c : p.components) comps.add(c);
  o.set("components", comps);
  o.set("pages", static_cast<std::uint64_t>(p.attachments.size()));
  send_json(ex, 201, o);
}

void file_confirm(Exchange& ex, const std::string& id) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!need_body(ex)) return;
  std::vector<FieldError> errors;
  std::string code = body_string(ex, "confirm_code", errors);
  if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
  if (!allowed(ex, ex.ctx.kiosk.lookups, client_of(ex))) return;
  auto d = confirm_filing(ex.ctx, id, code);
  if (!d.ok()) return send_error(ex, d.error());
  // Saved: the slip is printed after, and a printer fault is reported, never a loss.
  Object o = print_outcome(ex.ctx, print_receipt(ex.ctx, d.value()));
  o.set("dossier", public_dossier(d.value(), true));
  send_json(ex, 201, o);
}

void rating(Exchange& ex) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!need_body(ex)) return;
  std::vector<FieldError> errors;
  std::string level = body_string(ex, "level", errors);
  std::string counter = body_string(ex, "counter", errors);
  std::optional<std::int64_t> number = body_int(ex, "number", errors);
  if (!counter.empty() && !number && errors.empty())
    errors.push_back({"number", "required", "Nhập số thứ tự in trên phiếu của ông/bà.",
                      "Enter the number printed on your queue ticket."});
  if (number && *number < 1)
    errors.push_back({"number", "range", "Số thứ tự phải từ 1 trở lên.", "The ticket number must be 1 or more."});
  if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
  auto rated = [&](const RatingView& r) {
    Object o;
    o.set("level", r.level);
    o.set("day", r.day);
    return o;
  };
  if (!counter.empty()) {
    if (!allowed(ex, ex.ctx.kiosk.ratings, client_of(ex))) return;
    return answer(ex, kiosk_rate_visit(ex.ctx, counter, static_cast<std::uint64_t>(*number), level), 201, rated);
  }
  Outcome<DossierView> d = internal_error();
  if (!find_from_body(ex, d)) return;
  answer(ex, kiosk_rate_dossier(ex.ctx, d.value(), level), 201, rated);
}

// The hall display: the number being called at each counter, nothing else.
void display(Exchange& ex) {
  if (ex.method != "GET") return method_not_allowed(ex, "GET");
  std::string list = query_param(ex, "counters");
  std::vector<std::string> counters;
  std::string cur;
  for (char c : list + ",") {
    if (c == ',') {
      if (!cur.empty()) counters.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (counters.empty() || counters.size() > 16)
    return send_error(ex, invalid({{"counters", "format", "Danh sách quầy: 1–16 quầy, cách nhau bằng dấu phẩy.",
                                    "counters: 1 to 16 counters separated by commas."}}));
  // A counter misspelt in the TV's address gets an error of its own; the others
  // still show (one bad name blanked every counter of the hall).
  Array items;
  for (const auto& c : counters) {
    Object o;
    o.set("counter", c);
    if (!valid_counter(c)) {
      o.set("now", Poco::Dynamic::Var());
      o.set("waiting", Poco::Dynamic::Var());
      o.set("error", "counter_format");
      items.add(o);
      continue;
    }
    auto q = queue_status(ex.ctx, c, "");
    if (!q.ok()) return send_error(ex, q.error());
    o.set("now", q.value().current ? Poco::Dynamic::Var(q.value().current->number) : Poco::Dynamic::Var());
    o.set("waiting", static_cast<std::uint64_t>(q.value().waiting));
    items.add(o);
  }
  Object o;
  o.set("items", items);
  send_json(ex, 200, o);
}

}  // namespace

bool route_kiosk(Exchange& ex) {
  const auto& s = ex.seg;
  if (s.empty() || s[0] != "kiosk") return false;
  if (s.size() == 1) info(ex);
  else if (s.size() == 2 && s[1] == "tickets") ticket(ex);
  else if (s.size() == 2 && s[1] == "lookup") lookup(ex);
  else if (s.size() == 2 && s[1] == "receipts") reprint(ex);
  else if (s.size() == 2 && s[1] == "scans") scans(ex);
  else if (s.size() == 2 && s[1] == "filings") file_start(ex);
  else if (s.size() == 4 && s[1] == "filings" && s[3] == "confirm") file_confirm(ex, s[2]);
  else if (s.size() == 2 && s[1] == "ratings") rating(ex);
  else if (s.size() == 2 && s[1] == "display") display(ex);
  else send_simple_error(ex, 404, "not_found", "Không có địa chỉ này.", "No such path.");
  return true;
}

}  // namespace wardsync::node::http
