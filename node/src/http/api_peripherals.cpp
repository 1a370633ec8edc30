// The clerks' side of the peripherals: print (and reprint) a dossier's receipt
// slip and a queue ticket, scan pages into a dossier, show an attached page, and
// say which peripherals this node has.
#include "domain/dossiers.hpp"
#include "domain/slips.hpp"
#include "domain/tickets.hpp"
#include "http/api_internal.hpp"

namespace wardsync::node::http {

namespace {

const std::initializer_list<Role> kReaders = {Role::kClerk, Role::kSpecialist, Role::kLeader};
const std::initializer_list<Role> kDesk = {Role::kClerk, Role::kLeader};

Object printed_json(const Printed& p) {
  Object o;
  o.set("printed", true);
  o.set("printer", p.printer);
  return o;
}

// The slip's text and QR, as printed (a preview for the screen; tests read it too).
Object slip_json(const hardware::Slip& slip) {
  Array lines;
  Poco::Dynamic::Var qr;
  for (const auto& b : slip.blocks) {
    if (const auto* t = std::get_if<hardware::SlipText>(&b)) lines.add(t->utf8);
    if (const auto* q = std::get_if<hardware::SlipQr>(&b)) qr = q->payload;
  }
  Object o;
  o.set("lines", lines);
  o.set("qr", qr);
  return o;
}

void scan_error(Exchange& ex, const hardware::Status& s) {
  int status = s.code() == "scanner.none" || s.kind() == hardware::ErrorKind::kUnreachable ||
                       s.kind() == hardware::ErrorKind::kTimeout
                   ? 503
               : s.kind() == hardware::ErrorKind::kIo || s.kind() == hardware::ErrorKind::kInternal ? 500
                                                                                                    : 422;
  std::string vi = !s.message_vi().empty() ? s.message_vi() : "Máy quét báo lỗi; kiểm tra giấy tờ và máy quét rồi thử lại.";
  send_simple_error(ex, status, s.code() == "scanner.none" ? "scanner_not_configured" : "scanner_failed",
                    vi + " (" + s.code() + ")", "The scanner failed: " + s.to_string() + ". Nothing was attached.");
}

void receipt(Exchange& ex, const std::string& id) {
  if (ex.method == "GET") {
    if (!require_role(ex, kReaders)) return;
    auto d = get_dossier(ex.ctx, id);
    if (!d.ok()) return send_error(ex, d.error());
    auto slip = receipt_slip(ex.ctx, d.value());
    if (!slip.ok()) return send_error(ex, slip.error());
    return send_json(ex, 200, slip_json(slip.value()));
  }
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!require_role(ex, kDesk)) return;
  auto d = get_dossier(ex.ctx, id);
  if (!d.ok()) return send_error(ex, d.error());
  answer(ex, print_receipt(ex.ctx, d.value()), 200, printed_json);
}

void scan_into(Exchange& ex, const std::string& id) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!require_role(ex, kDesk) || !need_body(ex)) return;
  std::vector<FieldError> errors;
  std::string label = body_string(ex, "label", errors);
  if (label.size() > 300)
    errors.push_back({"label", "too_long", "Tên giấy tờ quá dài (tối đa 300 byte).", "Label too long (at most 300 bytes)."});
  if (!errors.empty()) return send_error(ex, invalid(std::move(errors)));
  // The dossier first: a scan for a dossier that does not exist is not stored.
  auto d = get_dossier(ex.ctx, id);
  if (!d.ok()) return send_error(ex, d.error());
  auto pages = ex.ctx.peripherals.scan();
  if (!pages.is_ok()) return scan_error(ex, pages.status());
  std::vector<Attachment> att;
  for (const auto& p : pages.value()) att.push_back({p.hash, p.mime_type, p.bytes, label.empty() ? "Giấy tờ" : label});
  answer(ex, attach_pages(ex.ctx, *ex.actor, id, att), 201, dossier_json);
}

void attachment(Exchange& ex, const std::string& id, const std::string& hash) {
  if (ex.method != "GET") return method_not_allowed(ex, "GET");
  if (!require_role(ex, kReaders)) return;
  auto d = get_dossier(ex.ctx, id);
  if (!d.ok()) return send_error(ex, d.error());
  const Attachment* found = nullptr;
  for (const auto& a : d.value().attachments)
    if (a.hash == hash) found = &a;
  if (!found) return send_error(ex, not_found("trang đính kèm", "Attachment"));
  auto bytes = ex.ctx.peripherals.read_blob(hash);
  if (!bytes)
    return send_simple_error(ex, 404, "blob_missing",
                             "Trang này chưa có trên máy (đang chờ đồng bộ từ nơi quét).",
                             "This page's bytes are not on this node yet (waiting for sync from where it was scanned).");
  ex.answered = true;
  ex.resp.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
  // Only the types attachments are accepted as; anything else is served as bytes.
  const std::string& t = found->mime_type;
  const bool known = t == "image/png" || t == "image/jpeg" || t == "image/tiff" || t == "application/pdf";
  ex.resp.setContentType(known ? t : "application/octet-stream");
  ex.resp.set("Cache-Control", "private, max-age=86400, immutable");  // content-addressed
  ex.resp.set("X-Content-Type-Options", "nosniff");
  ex.resp.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  ex.resp.setContentLength64(static_cast<Poco::Int64>(bytes->size()));
  ex.turn.leave();
  ex.resp.send().write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
}

void ticket_print(Exchange& ex, const std::string& id) {
  if (ex.method != "POST") return method_not_allowed(ex, "POST");
  if (!require_role(ex, kDesk)) return;
  auto t = get_ticket(ex.ctx, id);
  if (!t.ok()) return send_error(ex, t.error());
  answer(ex, print_ticket(ex.ctx, t.value()), 200, printed_json);
}

void peripherals(Exchange& ex) {
  if (ex.method != "GET") return method_not_allowed(ex, "GET");
  if (!require_session(ex)) return;
  Object p;
  p.set("configured", ex.ctx.peripherals.has_printer());
  p.set("name", ex.ctx.peripherals.printer_name());
  Object s;
  s.set("configured", ex.ctx.peripherals.has_scanner());
  Object o;
  o.set("printer", p);
  o.set("scanner", s);
  send_json(ex, 200, o);
}

}  // namespace

bool route_peripherals(Exchange& ex) {
  const auto& s = ex.seg;
  if (s.size() == 1 && s[0] == "peripherals") {
    peripherals(ex);
    return true;
  }
  if (s.size() == 3 && s[0] == "dossiers" && s[2] == "receipt") {
    receipt(ex, s[1]);
    return true;
  }
  if (s.size() == 4 && s[0] == "dossiers" && s[2] == "attachments" && s[3] == "scan") {
    scan_into(ex, s[1]);
    return true;
  }
  if (s.size() == 4 && s[0] == "dossiers" && s[2] == "attachments") {
    attachment(ex, s[1], s[3]);
    return true;
  }
  if (s.size() == 3 && s[0] == "tickets" && s[2] == "print") {
    ticket_print(ex, s[1]);
    return true;
  }
  return false;
}

}  // namespace wardsync::node::http
