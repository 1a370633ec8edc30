// Attachments: POST /dossiers/{id}/attachments (the file as the body, up to
// max_upload_bytes) and GET /attachments/{hash}. Checked before the dossier
// routes, which own everything else under /dossiers.
#include "domain/attachments.hpp"
#include "http/api_internal.hpp"

namespace wardsync::node::http {

namespace {

// Reads the raw body, at most `cap` bytes; false (and answered 413) past it.
bool read_raw_body(Exchange& ex, std::size_t cap, std::string& out) {
  ex.body_read = true;
  Poco::Int64 declared = ex.req.getContentLength64();
  auto too_large = [&] {
    ex.resp.setKeepAlive(false);  // the unread rest would be taken for the next request
    send_simple_error(ex, 413, "too_large", "Tệp quá lớn.", "File too large.");
    return false;
  };
  if (declared != Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH &&
      (declared < 0 || static_cast<std::uint64_t>(declared) > cap))
    return too_large();
  if (declared > 0) out.reserve(static_cast<std::size_t>(declared));
  std::istream& in = ex.req.stream();
  char buf[16384];
  while (in) {
    in.read(buf, sizeof buf);
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    if (out.size() + static_cast<std::size_t>(n) > cap) return too_large();
    out.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

Object attachment_json(const AttachmentView& v) {
  Object o;
  o.set("id", v.id);
  o.set("dossier_id", v.dossier_id);
  o.set("hash", v.hash);
  o.set("size", v.size);
  o.set("name", v.name);
  o.set("content_type", v.content_type);
  o.set("here", v.here);
  return o;
}

void upload(Exchange& ex, const std::string& dossier_id) {
  if (!require_role(ex, {Role::kClerk, Role::kSpecialist, Role::kLeader})) return;
  std::string bytes;
  if (!read_raw_body(ex, ex.ctx.config.max_upload_bytes, bytes)) return;
  std::string type = ex.req.getContentType();
  type = type.substr(0, type.find(';'));
  answer(ex, add_attachment(ex.ctx, *ex.actor, dossier_id, query_param(ex, "name"), type, bytes), 201,
         attachment_json);
}

void download(Exchange& ex, const std::string& hash) {
  if (!require_role(ex, {Role::kClerk, Role::kSpecialist, Role::kLeader})) return;
  std::string type;
  auto out = read_attachment(ex.ctx, hash, type);
  if (!out.ok()) return send_error(ex, out.error());
  ex.answered = true;
  ex.resp.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
  ex.resp.setContentType(type);
  ex.resp.set("Cache-Control", "private, max-age=31536000, immutable");  // content-addressed
  ex.resp.set("X-Content-Type-Options", "nosniff");
  ex.resp.set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
  ex.resp.setContentLength64(static_cast<Poco::Int64>(out.value().size()));
  ex.turn.leave();
  ex.resp.send().write(out.value().data(), static_cast<std::streamsize>(out.value().size()));
}

}  // namespace

bool route_attachments(Exchange& ex) {
  const auto& s = ex.seg;
  if (s.size() == 3 && s[0] == "dossiers" && s[2] == "attachments") {
    if (ex.method == "POST") upload(ex, s[1]);
    else method_not_allowed(ex, "POST");
    return true;
  }
  if (s.size() == 2 && s[0] == "attachments") {
    if (ex.method == "GET") download(ex, s[1]);
    else method_not_allowed(ex, "GET");
    return true;
  }
  return false;
}

}  // namespace wardsync::node::http
