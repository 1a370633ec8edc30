#include "domain/clerks.hpp"
#include "domain/dossiers.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdio>
#include <set>

#include "replication.hpp"
#include "schema.hpp"
#include "wardsync/hardware/id_codes.hpp"

namespace wardsync::node {

namespace {

constexpr std::size_t kFindMax = 200000;  // codes scanned for the day's highest number
constexpr std::size_t kListChunk = 256;   // index entries read at a time by a filtered listing
constexpr std::size_t kAttachmentsMax = 100;
// All components together, as listed on the receipt: about 100 printed lines.
constexpr std::size_t kComponentsTotalBytesMax = 4000;
constexpr const char* kOpenStatuses[] = {"received", "in_progress", "supplement_requested", "approved", "rejected"};

bool is_closed(const std::string& status) { return status == "returned" || status == "cancelled"; }

std::string day_of_iso(const std::string& iso) { return iso.size() >= 10 ? iso.substr(0, 10) : iso; }

// "YYYY-MM-DDTHH:MM:SS+07:00" → Unix seconds; nullopt if malformed.
std::optional<std::int64_t> unix_of_iso(const std::string& iso) {
  if (iso.size() < 19) return std::nullopt;
  auto d = parse_date(iso.substr(0, 10));
  if (!d.is_ok()) return std::nullopt;
  LocalDateTime t;
  t.date = d.value();
  auto num = [&](std::size_t pos, int& out) {
    auto [p, ec] = std::from_chars(iso.data() + pos, iso.data() + pos + 2, out);
    return ec == std::errc() && p == iso.data() + pos + 2;
  };
  if (!num(11, t.hour) || !num(14, t.minute) || !num(17, t.second)) return std::nullopt;
  if (!is_valid_local_date_time(t)) return std::nullopt;
  return unix_seconds_from_local(t);
}

std::string iso_of_local(const LocalDateTime& t) {
  char buf[40];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d+07:00", t.date.year, t.date.month, t.date.day, t.hour,
                t.minute, t.second);
  return buf;
}

std::string iso_of_hlc(Hlc h) { return iso_local(static_cast<std::int64_t>(hlc_millis(h) / 1000)); }

std::vector<std::string> split_tabs(const std::string& s) {
  std::vector<std::string> out(1);
  for (char c : s) {
    if (c == '\t') out.emplace_back();
    else out.back() += c;
  }
  return out;
}

std::string no_tabs(std::string s) {
  std::replace(s.begin(), s.end(), '\t', ' ');
  return s;
}

}  // namespace

std::string encode_attachment(const Attachment& a) {
  return a.hash + "\t" + a.mime_type + "\t" + std::to_string(a.bytes) + "\t" + no_tabs(a.label);
}

std::optional<Attachment> decode_attachment(const std::string& element) {
  auto parts = split_tabs(element);
  if (parts.size() != 4 || parts[0].size() != 64) return std::nullopt;
  Attachment a;
  a.hash = parts[0];
  a.mime_type = parts[1];
  auto [p, ec] = std::from_chars(parts[2].data(), parts[2].data() + parts[2].size(), a.bytes);
  if (ec != std::errc() || p != parts[2].data() + parts[2].size()) return std::nullopt;
  a.label = parts[3];
  return a;
}

void record_attachments(Transaction& txn, NodeContext& ctx, const Actor& actor, const std::string& dossier_id,
                        const std::vector<Attachment>& pages) {
  const std::string at = iso_local(now_seconds(ctx));
  for (const auto& a : pages) {
    txn.create(kAttachments)
        .set_once("dossier", dossier_id)
        .set_once("blob", a.hash)
        .set_once("size", std::to_string(a.bytes))
        .set_once("name", a.label)
        .set_once("content_type", a.mime_type)
        .set_once("added_by", actor.username)
        .set_once("added_at", at);
  }
}

DossierView dossier_view(NodeContext& ctx, const Record& r) {
  DossierView v;
  v.id = r.id.hex();
  v.pinned = ctx.replication != nullptr && ctx.replication->outside_scopes(r.text("scope"));
  v.code = r.text("code");
  v.lookup_code = r.text("lookup_code");
  v.applicant_name = r.text("applicant_name");
  v.cccd = r.text("cccd");
  v.dob = r.text("dob");
  v.phone = r.text("phone");
  v.address = r.text("address");
  v.procedure_code = r.text("procedure_code");
  auto catalogue = ctx.catalogues.procedures();
  if (const Procedure* p = catalogue->find(v.procedure_code)) v.procedure_name = p->name_vi;
  v.channel = r.text("channel");
  if (const FieldValue* c = r.field("components")) v.components = c->elements;
  v.fee_vnd = r.text("fee_vnd");
  v.note = r.text("note");
  v.received_at = r.text("received_at");
  v.received_by = r.text("received_by");
  v.appointment = r.text("appointment");
  v.due_day = r.text("due_day");
  v.assignee = r.text("assignee");
  if (const FieldValue* s = r.field("status")) {
    v.status = s->rank.label.empty() ? s->value : s->rank.label;
    v.cycle = s->rank.cycle;
  }
  v.decided_by = r.text("decided_by");
  v.returned_at = r.text("returned_at");
  if (!v.returned_at.empty() && v.due_day.size() == 10) {
    auto due = parse_date(v.due_day);
    auto ret = parse_date(day_of_iso(v.returned_at));
    if (due.is_ok() && ret.is_ok()) v.timing = return_timing_name(classify_return(due.value(), ret.value()));
  }
  if (!is_closed(v.status)) {
    auto due = unix_of_iso(v.appointment);
    v.overdue = due && now_seconds(ctx) > *due;
  }
  std::string apology = r.text("apology");
  if (!apology.empty()) {
    auto parts = split_tabs(apology);
    Apology a;
    if (parts.size() >= 5) {
      a.new_appointment = parts[0];
      a.reason = parts[1];
      a.issued_at = parts[2];
      a.by = parts[3];
      a.notice_in_time = parts[4] == "1";
    }
    v.apology = a;
  }
  if (const FieldValue* h = r.field("history")) {
    for (const auto& e : h->entries) {
      auto parts = split_tabs(e.value);
      v.history.push_back({iso_of_hlc(e.hlc), e.author, parts[0], parts.size() > 1 ? parts[1] : ""});
    }
  }
  if (const FieldValue* at = r.field("attachments"))
    for (const auto& e : at->elements)
      if (auto a = decode_attachment(e)) v.attachments.push_back(*a);
  v.identity_verified = r.text("identity") != "cccd_qr_unverified";
  v.has_conflicts = r.has_conflicts();
  return v;
}

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

void check_text(std::vector<FieldError>& errors, const std::string& field, const std::string& value, bool required,
                std::size_t max_bytes, const char* label_vi, const char* label_en) {
  if (is_blank(value)) {
    if (required)
      errors.push_back({field, "required", std::string(label_vi) + " là bắt buộc.", std::string(label_en) + " is required."});
    return;
  }
  if (value.size() > max_bytes)
    errors.push_back({field, "too_long", std::string(label_vi) + " quá dài (tối đa " + std::to_string(max_bytes) + " byte).",
                      std::string(label_en) + " is too long (at most " + std::to_string(max_bytes) + " bytes)."});
  else if (std::optional<FieldError> e = printable_error(field, value, label_vi, label_en))
    errors.push_back(std::move(*e));
}

// A person's name: printable text (above) with at least one letter.
void check_name(std::vector<FieldError>& errors, const std::string& field, const std::string& value,
                const char* label_vi, const char* label_en) {
  const std::size_t before = errors.size();
  check_text(errors, field, value, true, hardware::kMaxNameBytes, label_vi, label_en);
  if (errors.size() == before && !hardware::has_letter(value))
    errors.push_back({field, "format", std::string(label_vi) + " phải có chữ cái.",
                      std::string(label_en) + " must contain letters."});
}

std::string random_lookup_code() {
  // No 0/O, 1/I/L: read aloud over the counter and typed at the kiosk.
  static constexpr char kAlphabet[] = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
  constexpr unsigned kSymbols = sizeof kAlphabet - 1;       // 31
  constexpr unsigned kUnbiased = 256 - 256 % kSymbols;      // bytes below 248 map evenly
  // One system call for the whole code (randombytes_uniform made one per
  // letter: a tenth of a dossier's intake time); a byte of 248 or more is
  // drawn again (1 in 32), so every letter stays equally likely.
  std::array<unsigned char, 16> bytes{};
  std::size_t used = bytes.size();
  std::string out;
  while (out.size() < 6) {
    if (used == bytes.size()) {
      randombytes_buf(bytes.data(), bytes.size());
      used = 0;
    }
    unsigned b = bytes[used++];
    if (b < kUnbiased) out += kAlphabet[b % kSymbols];
  }
  return out;
}

std::optional<Record> load(NodeContext& ctx, const std::string& id) {
  auto rid = RecordId::from_hex(id);
  if (!rid) return std::nullopt;
  auto reader = ctx.readers.acquire();
  if (!reader) return std::nullopt;
  auto r = reader->get(kDossiers, *rid);
  if (!r || r->deleted) return std::nullopt;
  return r;
}

Outcome<DossierView> reload(NodeContext& ctx, const RecordId& id) {
  auto r = load(ctx, id.hex());
  if (!r) return internal_error();
  return dossier_view(ctx, *r);
}

bool has_role(const Actor& a, std::initializer_list<Role> roles) {
  return std::find(roles.begin(), roles.end(), a.role) != roles.end();
}



std::string dossier_prefix(const Config& config, const Date& day) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d", day.year % 100, day.month, day.day);
  return config.office_code + "-" + buf + "-" + std::to_string(config.node_number);
}

// The highest sequence this node has durably issued on `day` (0 if none), from
// the code index alone: no record is read, however busy the day was.
std::optional<std::uint64_t> highest_durable_sequence(NodeContext& ctx, const std::string& prefix) {
  auto reader = ctx.readers.acquire();
  if (!reader) return std::nullopt;
  std::uint64_t highest = 0;
  for (const std::string& code : reader->values_with_prefix(kDossiers, "code", prefix, kFindMax)) {
    std::uint64_t seq = 0;
    auto [p, ec] = std::from_chars(code.data() + prefix.size(), code.data() + code.size(), seq);
    if (ec == std::errc() && p == code.data() + code.size()) highest = std::max(highest, seq);
  }
  return highest;
}

}  // namespace

std::string record_scope(const NodeContext& ctx, const Record& r) {
  std::string scope = r.text("scope");
  return scope.empty() ? ctx.config.scope : scope;
}

Outcome<DossierView> create_dossier(NodeContext& ctx, const Actor& actor, const NewDossier& in) {
  if (!has_role(actor, {Role::kClerk, Role::kLeader})) return forbidden();
  std::vector<FieldError> errors;
  // As long as a CCCD's QR code may carry: a name the kiosk read off a card is filed whole.
  check_name(errors, "applicant.name", in.applicant.name, "Họ tên người nộp", "Applicant name");
  if (!(in.applicant.cccd.size() == 12 && all_digits(in.applicant.cccd)))
    errors.push_back({"applicant.cccd", "format", "Số CCCD phải gồm đúng 12 chữ số.",
                      "CCCD number must be exactly 12 digits."});
  std::int64_t now = in.received_unix_seconds.value_or(now_seconds(ctx));
  LocalDateTime received = local_from_unix_seconds(now);
  if (!in.applicant.dob.empty()) {
    auto d = parse_date(in.applicant.dob);
    if (!d.is_ok() || d.value() > received.date)
      errors.push_back({"applicant.dob", "format", "Ngày sinh phải có dạng YYYY-MM-DD và không ở tương lai.",
                        "Date of birth must be YYYY-MM-DD and not in the future."});
  }
  if (!in.applicant.phone.empty()) {
    std::string digits = in.applicant.phone[0] == '+' ? in.applicant.phone.substr(1) : in.applicant.phone;
    if (!all_digits(digits) || digits.size() < 9 || digits.size() > 15)
      errors.push_back({"applicant.phone", "format", "Số điện thoại gồm 9–15 chữ số (có thể bắt đầu bằng +).",
                        "Phone number: 9–15 digits (may start with +)."});
  }
  check_text(errors, "applicant.address", in.applicant.address, false, hardware::kMaxAddressBytes, "Địa chỉ",
             "Address");
  // The catalogue and calendar of this request, kept to its end (catalogues.hpp).
  auto catalogue = ctx.catalogues.procedures();
  auto calendar = ctx.catalogues.calendar();
  const Procedure* proc = nullptr;
  if (in.procedure_code.empty()) {
    errors.push_back({"procedure_code", "required", "Thủ tục là bắt buộc.", "Procedure is required."});
  } else if ((proc = catalogue->find(in.procedure_code)) == nullptr) {
    errors.push_back({"procedure_code", "unknown", "Không có thủ tục với mã này trong danh mục.",
                      "No procedure with this code in the catalogue."});
  }
  if (in.channel != "counter" && in.channel != "kiosk" && in.channel != "online")
    errors.push_back({"channel", "enum", "Kênh nộp phải là counter, kiosk hoặc online.",
                      "Channel must be counter, kiosk or online."});
  if (in.components.size() > Catalogue::kComponentsMax)
    errors.push_back({"components", "too_many", "Quá nhiều thành phần hồ sơ (tối đa 50).",
                      "Too many components (at most 50)."});
  std::size_t component_bytes = 0;
  for (std::size_t i = 0; i < in.components.size() && i < Catalogue::kComponentsMax; ++i) {
    check_text(errors, "components[" + std::to_string(i) + "]", in.components[i], true, 300, "Thành phần hồ sơ",
               "Component");
    component_bytes += in.components[i].size();
  }
  // Every paper received is listed on the receipt: all of them must fit on one slip.
  if (component_bytes > kComponentsTotalBytesMax)
    errors.push_back({"components", "too_long",
                      "Danh sách thành phần hồ sơ quá dài để in trên giấy tiếp nhận (tối đa " +
                          std::to_string(kComponentsTotalBytesMax) + " byte).",
                      "The components are too long to print on the receipt (at most " +
                          std::to_string(kComponentsTotalBytesMax) + " bytes in all)."});
  if (in.fee_vnd && (*in.fee_vnd < 0 || *in.fee_vnd > 100'000'000))
    errors.push_back({"fee_vnd", "range", "Lệ phí phải từ 0 đến 100.000.000 đồng.", "Fee must be 0 to 100,000,000 VND."});
  check_text(errors, "note", in.note, false, 1000, "Ghi chú", "Note");
  if (in.attachments.size() > kAttachmentsMax)
    errors.push_back({"attachments", "too_many", "Quá nhiều trang đính kèm (tối đa 100).",
                      "Too many attached pages (at most 100)."});
  if (!errors.empty()) return invalid(std::move(errors));

  auto appointment = calendar->appointment(received, proc->processing_time, proc->same_day_cutoff);
  if (!appointment.is_ok()) {
    ctx.log.error("dossiers", "appointment: " + appointment.status().to_string());
    return unavailable("Lịch làm việc chưa có dữ liệu cho ngày này; liên hệ bộ phận CNTT.",
                       "The working-day calendar does not cover this date; contact IT.");
  }
  std::string prefix = dossier_prefix(ctx.config, received.date);
  std::uint64_t seq = ctx.dossier_numbers.next(
      prefix, [&] { return highest_durable_sequence(ctx, prefix); });
  if (seq == 0) return internal_error();
  char seqbuf[24];
  std::snprintf(seqbuf, sizeof seqbuf, "%04llu", static_cast<unsigned long long>(seq));
  std::string code = prefix + seqbuf;
  std::string appt = iso_of_local(appointment.value());

  Transaction txn(actor.username, ctx.config.scope);
  RecordWrite& w = txn.create(kDossiers);
  w.set_once("code", code)
      .set_once("lookup_code", random_lookup_code())
      .set("applicant_name", in.applicant.name)
      .set("cccd", in.applicant.cccd)
      .set("procedure_code", in.procedure_code)
      .set("channel", in.channel)
      .set_once("received_at", iso_local(now))
      .set_once("received_day", format_date(received.date))
      .set_once("received_by", actor.username)
      .set_once("appointment", appt)
      .set_once("due_day", day_of_iso(appt))
      .set_once("scope", ctx.config.scope)
      .set_rank("status", Rank{1, kStageReceived, false, "received"})
      .append("history", "received\t");
  if (!in.applicant.dob.empty()) w.set("dob", in.applicant.dob);
  if (!in.applicant.phone.empty()) w.set("phone", in.applicant.phone);
  if (!in.applicant.address.empty()) w.set("address", in.applicant.address);
  if (in.fee_vnd) w.set("fee_vnd", std::to_string(*in.fee_vnd));
  if (!in.note.empty()) w.set("note", in.note);
  std::set<std::string> seen;
  for (const auto& c : in.components)
    if (seen.insert(c).second) w.add("components", c);
  for (const auto& a : in.attachments) w.add("attachments", encode_attachment(a));
  if (in.identity_unverified) w.set("identity", "cccd_qr_unverified");
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) return done.error();
  const RecordId id = done.value().records.front();
  ctx.log.info("dossiers", "received " + code + " id " + id.hex() + " by " + actor.username);
  if (!in.attachments.empty()) {
    // The pages' attachment records (what replication fetches blobs by) name the
    // dossier's id, known only now: a second write. Should it fail, the pages
    // stay listed on the dossier and on this node; the log says so.
    Transaction pages(actor.username, ctx.config.scope);
    record_attachments(pages, ctx, actor, id.hex(), in.attachments);
    auto recorded = commit_durably(ctx, std::move(pages));
    if (!recorded.ok())
      ctx.log.error("dossiers", "dossier " + id.hex() + ": attachment records not written; its pages will not replicate");
  }
  return reload(ctx, id);
}

Outcome<DossierView> get_dossier(NodeContext& ctx, const std::string& id) {
  auto r = load(ctx, id);
  if (!r) return not_found("hồ sơ", "Dossier");
  return dossier_view(ctx, *r);
}

Outcome<DossierView> find_dossier_by_code(NodeContext& ctx, const std::string& code) {
  std::vector<RecordId> ids;
  {
    auto reader = ctx.readers.acquire();
    if (!reader) return internal_error();
    ids = reader->find(kDossiers, "code", code, 1);
  }
  if (ids.empty()) return not_found("hồ sơ", "Dossier");
  return get_dossier(ctx, ids.front().hex());
}

namespace {

// Another office's dossier, here only because it was fetched: its office edits it.
bool pinned_copy(const NodeContext& ctx, const Record& rec) {
  return ctx.replication != nullptr && ctx.replication->outside_scopes(rec.text("scope"));
}
DomainError read_only_copy() {
  return conflict("pinned_read_only", "Đây là bản sao hồ sơ của đơn vị khác, chỉ để xem; đơn vị tiếp nhận xử lý hồ sơ này.",
                  "This is a copy of another office's dossier, for reading only; the receiving office handles it.");
}

Outcome<DossierView> fetch_dossier(NodeContext& ctx, FetchRequest request) {
  FetchResult r = ctx.replication->fetch(std::move(request));
  switch (r.outcome) {
    case FetchOutcome::kFound: {
      ctx.log.info("dossiers", "dossier " + r.id.hex() + " fetched through the peers (" + std::to_string(r.applied) +
                                   " new change(s))");
      auto rec = load(ctx, r.id.hex());
      if (!rec) return not_found("hồ sơ", "Dossier");  // cancelled (a tombstone)
      return dossier_view(ctx, *rec);
    }
    case FetchOutcome::kNotFound: return not_found("hồ sơ", "Dossier");
    case FetchOutcome::kRefused:
      return DomainError{ErrorKind::kForbidden, "fetch_refused", "Đơn vị lưu hồ sơ từ chối cung cấp hồ sơ này.",
                         "The office holding this record refused to send it.", {}};
    case FetchOutcome::kUnavailable: break;
  }
  ctx.log.info("dossiers", "a dossier could not be fetched: " + r.detail);
  return unavailable_offline();
}

// A local copy of another office's dossier: refreshed when a link is up (at most
// every few seconds), else served as is.
Outcome<DossierView> refreshed(NodeContext& ctx, const Record& rec) {
  if (ctx.replication == nullptr || !ctx.replication->outside_scopes(rec.text("scope")) ||
      !ctx.replication->refresh_due(rec.id))
    return dossier_view(ctx, rec);
  FetchRequest req{kDossiers, rec.id, "", ""};
  FetchResult r = ctx.replication->fetch(std::move(req));
  if (r.outcome != FetchOutcome::kFound) return dossier_view(ctx, rec);
  auto now = load(ctx, rec.id.hex());
  return now ? dossier_view(ctx, *now) : dossier_view(ctx, rec);
}

}  // namespace

Outcome<DossierView> get_or_fetch_dossier(NodeContext& ctx, const std::string& id) {
  auto rid = RecordId::from_hex(id);
  if (!rid) return not_found("hồ sơ", "Dossier");
  if (auto r = load(ctx, id)) return refreshed(ctx, *r);
  if (ctx.replication == nullptr) return not_found("hồ sơ", "Dossier");
  return fetch_dossier(ctx, FetchRequest{kDossiers, *rid, "", ""});
}

Outcome<DossierView> find_or_fetch_dossier_by_code(NodeContext& ctx, const std::string& code) {
  if (code.empty() || code.size() > 64) return not_found("hồ sơ", "Dossier");
  std::vector<RecordId> ids;
  {
    auto reader = ctx.readers.acquire();
    if (!reader) return internal_error();
    ids = reader->find(kDossiers, "code", code, 1);
  }
  if (!ids.empty()) return get_or_fetch_dossier(ctx, ids.front().hex());
  if (ctx.replication == nullptr) return not_found("hồ sơ", "Dossier");
  return fetch_dossier(ctx, FetchRequest{kDossiers, std::nullopt, "code", code});
}

Outcome<DossierPage> list_dossiers(NodeContext& ctx, const DossierFilter& f) {
  std::vector<FieldError> errors;
  if (!f.status.empty() && f.status != "received" && f.status != "in_progress" && f.status != "supplement_requested" &&
      f.status != "approved" && f.status != "rejected" && f.status != "returned" && f.status != "cancelled")
    errors.push_back({"status", "enum", "Trạng thái không hợp lệ.", "Unknown status."});
  if (!f.due.empty() && f.due != "today" && f.due != "late")
    errors.push_back({"due", "enum", "Tham số due phải là today hoặc late.", "due must be today or late."});
  std::optional<RecordId> after;
  if (!f.cursor.empty()) {
    after = RecordId::from_hex(f.cursor);
    if (!after) errors.push_back({"cursor", "format", "Con trỏ trang không hợp lệ.", "Invalid page cursor."});
  }
  if (f.limit < 1 || f.limit > 200)
    errors.push_back({"limit", "range", "limit phải từ 1 đến 200.", "limit must be 1 to 200."});
  if (!errors.empty()) return invalid(std::move(errors));

  std::string today = format_date(local_from_unix_seconds(now_seconds(ctx)).date);
  auto matches = [&](const DossierView& v) {
    if (!f.status.empty() && v.status != f.status) return false;
    if (!f.assignee.empty() && v.assignee != f.assignee) return false;
    if (!f.procedure_code.empty() && v.procedure_code != f.procedure_code) return false;
    if (f.due == "today" && (v.due_day != today || is_closed(v.status))) return false;
    if (f.due == "late" && !v.overdue) return false;
    return true;
  };
  DossierPage page;
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  Reader::Snapshot snapshot(*reader);
  // Pick the most selective index; the remaining filters apply to its candidates.
  const char* field = nullptr;
  std::vector<std::string> values;
  if (!f.status.empty()) {
    field = "status", values = {f.status};
  } else if (!f.assignee.empty()) {
    field = "assignee", values = {f.assignee};
  } else if (!f.procedure_code.empty()) {
    field = "procedure_code", values = {f.procedure_code};
  } else if (f.due == "today") {
    field = "due_day", values = {today};
  } else if (f.due == "late") {
    field = "status", values.assign(std::begin(kOpenStatuses), std::end(kOpenStatuses));
  }
  if (field != nullptr) {
    // Walk the index in id order from the cursor, a chunk at a time, until the
    // page is full: a busy office's "received" list is never loaded whole.
    std::optional<RecordId> from = after;
    for (;;) {
      std::vector<RecordId> chunk;
      bool more = false;
      for (const auto& value : values) {
        auto ids = reader->find(kDossiers, field, value, kListChunk, from);
        more = more || ids.size() == kListChunk;
        chunk.insert(chunk.end(), ids.begin(), ids.end());
      }
      std::sort(chunk.begin(), chunk.end());
      // With several values only the first kListChunk merged ids are sure to be
      // the next ones in order: each value contributed its own first kListChunk.
      if (chunk.size() > kListChunk) chunk.resize(kListChunk), more = true;
      for (const auto& id : chunk) {
        auto r = reader->get(kDossiers, id);
        if (!r || r->deleted) continue;
        DossierView v = dossier_view(ctx, *r);
        if (!matches(v)) continue;
        page.items.push_back(std::move(v));
        if (page.items.size() == f.limit) {
          page.next_cursor = page.items.back().id;
          return page;
        }
      }
      if (!more || chunk.empty()) return page;
      from = chunk.back();
    }
  }
  auto records = reader->list(kDossiers, after, f.limit + 1);
  for (std::size_t i = 0; i < records.size() && i < f.limit; ++i) {
    if (!records[i].deleted) page.items.push_back(dossier_view(ctx, records[i]));
  }
  if (records.size() > f.limit) page.next_cursor = records[f.limit - 1].id.hex();
  return page;
}

Outcome<std::vector<DossierView>> search_dossiers(NodeContext& ctx, const std::string& query, std::size_t limit) {
  std::vector<FieldError> errors;
  if (query.empty() || query.size() > 200)
    errors.push_back({"q", "length", "Từ khóa tìm kiếm phải có từ 1 đến 200 byte.", "Query must be 1 to 200 bytes."});
  if (limit < 1 || limit > 100)
    errors.push_back({"limit", "range", "limit phải từ 1 đến 100.", "limit must be 1 to 100."});
  if (!errors.empty()) return invalid(std::move(errors));
  auto reader = ctx.readers.acquire();
  if (!reader) return internal_error();
  Reader::Snapshot snapshot(*reader);
  // Exact matches first: a dossier code ("26743-250711-11999", never without a
  // dash) or a 12-digit CCCD number.
  std::vector<RecordId> ids;
  if (query.find('-') != std::string::npos) ids = reader->find(kDossiers, "code", query, limit);
  if (query.size() == 12 && all_digits(query)) ids = reader->find(kDossiers, "cccd", query, limit);
  // Full-text hits come with their summary fields: no record read per hit. An
  // exact code or CCCD match is nearly always among them (both are indexed
  // words), so it is read whole only when it is not.
  std::vector<Record> hits = reader->search_summaries(kDossiers, query, limit);
  std::vector<DossierView> out;
  std::set<RecordId> seen;
  auto take = [&](const Record& r) {
    if (out.size() < limit && seen.insert(r.id).second && !r.deleted) out.push_back(dossier_view(ctx, r));
  };
  for (const auto& id : ids) {  // exact matches first
    auto hit = std::find_if(hits.begin(), hits.end(), [&](const Record& r) { return r.id == id; });
    if (hit != hits.end()) {
      take(*hit);
    } else if (auto r = reader->get(kDossiers, id)) {
      take(*r);
    }
  }
  for (const auto& r : hits) take(r);
  return out;
}

Outcome<DossierView> transition_dossier(NodeContext& ctx, const Actor& actor, const std::string& id,
                                        const std::string& action, const std::string& note) {
  struct Rule {
    const char* action;
    std::vector<const char*> from;
    const char* to;
    std::uint32_t stage;
    bool new_cycle;
    bool terminal;
    bool note_required;
    std::vector<Role> roles;
  };
  static const Rule kRules[] = {
      {"start", {"received"}, "in_progress", kStageInProgress, false, false, false, {Role::kSpecialist, Role::kLeader}},
      {"request_supplement", {"in_progress"}, "supplement_requested", kStageSupplement, false, false, true,
       {Role::kSpecialist, Role::kLeader}},
      {"resume", {"supplement_requested"}, "in_progress", kStageInProgress, true, false, false,
       {Role::kClerk, Role::kSpecialist, Role::kLeader}},
      {"approve", {"in_progress"}, "approved", kStageDecided, false, false, false, {Role::kLeader}},
      {"reject", {"in_progress"}, "rejected", kStageDecided, false, false, true, {Role::kLeader}},
      {"return", {"approved", "rejected"}, "returned", kStageClosed, false, true, false, {Role::kClerk, Role::kLeader}},
      {"cancel", {"received", "in_progress", "supplement_requested"}, "cancelled", kStageClosed, false, true, true,
       {Role::kClerk, Role::kLeader}},
  };
  const Rule* rule = nullptr;
  for (const auto& r : kRules)
    if (action == r.action) rule = &r;
  std::vector<FieldError> errors;
  if (rule == nullptr)
    errors.push_back({"action", "enum",
                      "Thao tác phải là start, request_supplement, resume, approve, reject, return hoặc cancel.",
                      "action must be start, request_supplement, resume, approve, reject, return or cancel."});
  check_text(errors, "note", note, rule != nullptr && rule->note_required, 1000, "Ghi chú / lý do", "Note / reason");
  if (!errors.empty()) return invalid(std::move(errors));
  auto rec = load(ctx, id);
  if (!rec) return not_found("hồ sơ", "Dossier");
  if (pinned_copy(ctx, *rec)) return read_only_copy();
  if (std::find(rule->roles.begin(), rule->roles.end(), actor.role) == rule->roles.end()) return forbidden();
  DossierView cur = dossier_view(ctx, *rec);
  bool allowed = false;
  for (const char* s : rule->from)
    if (cur.status == s) allowed = true;
  if (!allowed)
    return conflict("illegal_transition",
                    "Không thể thực hiện '" + action + "' khi hồ sơ đang ở trạng thái '" + cur.status + "'.",
                    "Cannot '" + action + "' a dossier in status '" + cur.status + "'.");
  Transaction txn(actor.username, record_scope(ctx, *rec));
  RecordWrite& w = txn.update(kDossiers, rec->id);
  w.set_rank("status", Rank{cur.cycle + (rule->new_cycle ? 1u : 0u), rule->stage, rule->terminal, rule->to})
      .append("history", action + "\t" + no_tabs(note));
  if (action == "start" && cur.assignee.empty()) w.set("assignee", actor.username);
  if (action == "approve" || action == "reject") w.set("decided_by", actor.username);
  if (action == "return") {
    std::int64_t now = now_seconds(ctx);
    w.set_once("returned_at", iso_local(now)).set_once("returned_day", format_date(local_from_unix_seconds(now).date));
  }
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) return done.error();
  ctx.log.info("dossiers", "dossier " + cur.id + " " + action + " by " + actor.username);
  return reload(ctx, rec->id);
}

Outcome<DossierView> assign_dossier(NodeContext& ctx, const Actor& actor, const std::string& id,
                                    const std::string& assignee) {
  if (assignee.empty()) return invalid({{"assignee", "required", "Cán bộ xử lý là bắt buộc.", "Assignee is required."}});
  auto rec = load(ctx, id);
  if (!rec) return not_found("hồ sơ", "Dossier");
  if (pinned_copy(ctx, *rec)) return read_only_copy();
  if (!has_role(actor, {Role::kClerk, Role::kLeader})) return forbidden();
  {
    auto reader = ctx.readers.acquire();
    if (!reader) return internal_error();
    auto c = find_clerk(*reader, assignee, ctx.config.office_code);
    if (!c || c->disabled || (c->role != Role::kSpecialist && c->role != Role::kLeader))
      return invalid({{"assignee", "unknown",
                       "Người được giao phải là chuyên viên hoặc lãnh đạo đang hoạt động.",
                       "The assignee must be an active specialist or leader."}});
  }
  DossierView cur = dossier_view(ctx, *rec);
  if (is_closed(cur.status))
    return conflict("closed", "Hồ sơ đã kết thúc, không thể giao xử lý.", "The dossier is closed; it cannot be assigned.");
  Transaction txn(actor.username, record_scope(ctx, *rec));
  txn.update(kDossiers, rec->id).set("assignee", assignee).append("history", "assign\t" + assignee);
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) return done.error();
  ctx.log.info("dossiers", "dossier " + cur.id + " assigned by " + actor.username);
  return reload(ctx, rec->id);
}

Outcome<Record> dossier_for_pages(NodeContext& ctx, const std::string& id, std::size_t adding) {
  if (adding > kAttachmentsMax)
    return invalid({{"pages", "too_many", "Quá nhiều trang (tối đa 100).", "Too many pages (at most 100)."}});
  auto rec = load(ctx, id);
  if (!rec) return not_found("hồ sơ", "Dossier");
  if (pinned_copy(ctx, *rec)) return read_only_copy();
  const FieldValue* held = rec->field("attachments");
  if ((held ? held->elements.size() : 0) + adding > kAttachmentsMax)
    return invalid({{"pages", "too_many", "Hồ sơ đã có quá nhiều trang đính kèm (tối đa 100).",
                     "The dossier has too many attached pages (at most 100)."}});
  return *rec;
}

Outcome<DossierView> attach_pages(NodeContext& ctx, const Actor& actor, const std::string& id,
                                  const std::vector<Attachment>& pages) {
  if (pages.empty())
    return invalid({{"pages", "required", "Chưa có trang nào được quét.", "No page was scanned."}});
  Outcome<Record> found = dossier_for_pages(ctx, id, pages.size());
  if (!found.ok()) return found.error();
  if (!has_role(actor, {Role::kClerk, Role::kLeader})) return forbidden();
  const Record* rec = &found.value();
  DossierView cur = dossier_view(ctx, *rec);
  Transaction txn(actor.username, record_scope(ctx, *rec));
  RecordWrite& w = txn.update(kDossiers, rec->id);
  for (const auto& a : pages) w.add("attachments", encode_attachment(a));
  w.append("history", "attach\t" + std::to_string(pages.size()));
  record_attachments(txn, ctx, actor, rec->id.hex(), pages);
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) return done.error();
  ctx.log.info("dossiers", "dossier " + cur.id + " +" + std::to_string(pages.size()) + " page(s) by " + actor.username);
  return reload(ctx, rec->id);
}

Outcome<DossierView> apologize(NodeContext& ctx, const Actor& actor, const std::string& id,
                               const std::string& new_date, const std::string& reason) {
  std::vector<FieldError> errors;
  auto d = parse_date(new_date);
  if (!d.is_ok())
    errors.push_back({"new_appointment", "format", "Ngày hẹn mới phải có dạng YYYY-MM-DD.",
                      "New appointment must be YYYY-MM-DD."});
  check_text(errors, "reason", reason, true, 1000, "Lý do chậm", "Reason for the delay");
  if (!errors.empty()) return invalid(std::move(errors));
  auto rec = load(ctx, id);
  if (!rec) return not_found("hồ sơ", "Dossier");
  if (pinned_copy(ctx, *rec)) return read_only_copy();
  if (actor.role != Role::kLeader) return forbidden();
  DossierView cur = dossier_view(ctx, *rec);
  if (cur.apology)
    return conflict("apology_exists", "Hồ sơ đã có phiếu xin lỗi; ngày hẹn chỉ được điều chỉnh một lần.",
                    "This dossier already has an apology slip; the date may be reset only once.");
  if (is_closed(cur.status) || cur.status == "approved" || cur.status == "rejected")
    return conflict("not_open", "Hồ sơ đã có kết quả; không cần phiếu xin lỗi.",
                    "The dossier is decided or closed; no apology slip is needed.");
  auto due = parse_date(cur.due_day);
  if (due.is_ok() && !(d.value() > due.value()))
    return invalid({{"new_appointment", "not_later", "Ngày hẹn mới phải sau ngày hẹn cũ (" + cur.due_day + ").",
                     "The new date must be after the original appointment (" + cur.due_day + ")."}});
  auto working = ctx.catalogues.calendar()->is_working_day(d.value());
  if (!working.is_ok() || !working.value())
    return invalid({{"new_appointment", "not_working_day", "Ngày hẹn mới phải là ngày làm việc.",
                     "The new date must be a working day."}});
  std::int64_t now = now_seconds(ctx);
  Date today = local_from_unix_seconds(now).date;
  bool in_time = due.is_ok() && days_from_civil(due.value()) - days_from_civil(today) >= 1;
  Transaction txn(actor.username, record_scope(ctx, *rec));
  txn.update(kDossiers, rec->id)
      .set_once("apology", new_date + "\t" + no_tabs(reason) + "\t" + iso_local(now) + "\t" + actor.username + "\t" +
                               (in_time ? "1" : "0"))
      .append("history", "apology\t" + new_date);
  auto done = commit_durably(ctx, std::move(txn));
  if (!done.ok()) {
    if (done.error().kind == ErrorKind::kConflict)
      return conflict("apology_exists", "Hồ sơ đã có phiếu xin lỗi; ngày hẹn chỉ được điều chỉnh một lần.",
                      "This dossier already has an apology slip; the date may be reset only once.");
    return done.error();
  }
  ctx.log.info("dossiers", "dossier " + cur.id + " apology by " + actor.username);
  return reload(ctx, rec->id);
}

}  // namespace wardsync::node
