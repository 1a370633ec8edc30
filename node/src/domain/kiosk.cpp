#include "domain/kiosk.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstdio>

#include "domain/tickets.hpp"
#include "wardsync/hardware/id_codes.hpp"

namespace wardsync::node {

namespace {

std::string upper(std::string s) {
  for (char& c : s)
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  return s;
}

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

bool same_secret(const std::string& a, const std::string& b) {
  return a.size() == b.size() && sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string iso_date(const hardware::CalendarDate& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", d.year, d.month, d.day);
  return buf;
}

std::string random_hex(std::size_t bytes) {
  std::vector<std::uint8_t> b(bytes);
  randombytes_buf(b.data(), b.size());
  return to_hex(b);
}

}  // namespace

Actor kiosk_actor() { return Actor{"", kKioskUser, "Kiosk", Role::kClerk}; }

Outcome<DossierView> kiosk_find(NodeContext& ctx, const std::string& code_in, const std::string& lookup_in) {
  std::string code = upper(trim(code_in)), lookup = upper(trim(lookup_in));
  std::vector<FieldError> errors;
  if (code.empty() || code.size() > 48)
    errors.push_back({"code", "format", "Mã hồ sơ gồm 1–48 ký tự, in trên giấy hẹn.", "The dossier code (1–48 characters) is on the receipt."});
  if (lookup.empty() || lookup.size() > 16)
    errors.push_back({"lookup_code", "format", "Mã tra cứu gồm 6 ký tự, in trên giấy hẹn.", "The lookup code (6 characters) is on the receipt."});
  if (!errors.empty()) return invalid(std::move(errors));
  auto found = find_dossier_by_code(ctx, code);
  // Compare the lookup code even when the code is unknown, so timing says nothing.
  std::string want = found.ok() ? found.value().lookup_code : std::string(lookup.size(), '\0');
  bool match = same_secret(upper(want), lookup) && found.ok();
  if (!match)
    return DomainError{ErrorKind::kNotFound, "not_found",
                       "Không tìm thấy hồ sơ với mã hồ sơ và mã tra cứu này. Ông/bà kiểm tra lại hai mã trên giấy hẹn.",
                       "No dossier with this code and lookup code. Check both codes on the receipt.", {}};
  return found;
}

Outcome<PendingFiling> start_filing(NodeContext& ctx, const FilingInput& in) {
  std::vector<FieldError> errors;
  PendingFiling f;
  auto card = hardware::parse_cccd_qr(in.cccd_qr);
  if (!card.is_ok()) {
    const auto& s = card.status();
    errors.push_back({"cccd_qr", s.code(),
                      "Mã QR không phải của thẻ CCCD hoặc bị hỏng: " +
                          (s.message_vi().empty() ? std::string("không đọc được") : s.message_vi()) + ".",
                      "Not a readable CCCD card QR: " + s.message_en() + "."});
  } else {
    const auto& c = card.value();
    Date today = local_from_unix_seconds(now_seconds(ctx)).date;
    auto future = [&](const hardware::CalendarDate& d) {
      return d.year > today.year || (d.year == today.year && (d.month > today.month || (d.month == today.month && d.day > today.day)));
    };
    if (future(c.date_of_birth) || future(c.issue_date))
      errors.push_back({"cccd_qr", "cccd.future_date", "Ngày sinh hoặc ngày cấp trên mã QR ở tương lai; thẻ không hợp lệ.",
                        "The card's date of birth or issue date lies in the future."});
    f.name = c.full_name;
    f.cccd = c.id_number;
    f.dob = iso_date(c.date_of_birth);
    f.address = c.address;
  }
  auto catalogue = ctx.catalogues.procedures();
  const Procedure* proc = catalogue->find(in.procedure_code);
  if (!proc) {
    errors.push_back({"procedure_code", in.procedure_code.empty() ? "required" : "unknown",
                      "Chưa chọn thủ tục, hoặc thủ tục không có trong danh mục.", "Choose a procedure from the catalogue."});
  } else {
    std::vector<std::string> names;
    for (const auto& c : proc->components) names.push_back(c.name_vi);
    auto known = [&](const std::string& n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    if (in.components.size() > Catalogue::kComponentsMax)
      errors.push_back({"components", "too_many", "Quá nhiều thành phần hồ sơ.", "Too many components."});
    for (std::size_t i = 0; i < in.components.size() && i < Catalogue::kComponentsMax; ++i)
      if (!known(in.components[i]))
        errors.push_back({"components[" + std::to_string(i) + "]", "unknown",
                          "Giấy tờ này không thuộc thủ tục đã chọn.", "This paper is not one of the procedure's components."});
    for (const auto& c : proc->components)
      if (c.mandatory && std::find(in.components.begin(), in.components.end(), c.name_vi) == in.components.end())
        errors.push_back({"components", "missing", "Còn thiếu giấy tờ bắt buộc: " + c.name_vi + ".",
                          "A mandatory paper is missing: " + c.name_vi + "."});
    if (in.pages.size() > 100)
      errors.push_back({"pages", "too_many", "Quá nhiều trang (tối đa 100).", "Too many pages (at most 100)."});
    for (std::size_t i = 0; i < in.pages.size() && i < 100; ++i) {
      const auto& p = in.pages[i];
      auto page = ctx.peripherals.recent_scan(p.hash);
      if (!page)
        errors.push_back({"pages[" + std::to_string(i) + "]", "not_scanned_here",
                          "Trang này không được quét tại đây trong một giờ qua; vui lòng quét lại.",
                          "This page was not scanned here in the last hour; scan it again."});
      else if (std::find(in.components.begin(), in.components.end(), p.component) == in.components.end())
        errors.push_back({"pages[" + std::to_string(i) + "].component", "unknown",
                          "Trang quét phải thuộc một giấy tờ đã chọn.", "A page must belong to one of the chosen papers."});
      else
        f.attachments.push_back(encode_attachment({page->hash, page->mime_type, page->bytes, p.component}));
    }
  }
  if (!in.phone.empty()) {
    std::string digits = in.phone[0] == '+' ? in.phone.substr(1) : in.phone;
    bool ok = digits.size() >= 9 && digits.size() <= 15 &&
              std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
    if (!ok)
      errors.push_back({"phone", "format", "Số điện thoại gồm 9–15 chữ số.", "Phone number: 9–15 digits."});
  }
  if (!errors.empty()) return invalid(std::move(errors));
  f.id = random_hex(16);
  f.confirm_code = std::to_string(1000 + randombytes_uniform(9000));
  f.procedure_code = proc->code;
  f.components = in.components;
  f.phone = in.phone;
  f.at = std::chrono::steady_clock::now();
  f.client = in.client;
  ctx.kiosk.filings_pending.put(f);
  return f;
}

Outcome<DossierView> confirm_filing(NodeContext& ctx, const std::string& filing_id, const std::string& code) {
  std::lock_guard<std::mutex> lock(ctx.kiosk.filings_pending.confirm_mu);
  auto f = ctx.kiosk.filings_pending.get(filing_id);
  if (!f)
    return DomainError{ErrorKind::kNotFound, "filing_expired",
                       "Phiên nộp hồ sơ đã hết hạn hoặc không tồn tại; vui lòng làm lại từ đầu.",
                       "This filing expired or does not exist; please start again.", {}};
  if (!f->dossier_id.empty()) return get_dossier(ctx, f->dossier_id);
  if (!same_secret(f->confirm_code, trim(code))) {
    if (++f->wrong_codes >= 5) {
      ctx.kiosk.filings_pending.erase(filing_id);
      return conflict("too_many_attempts", "Nhập sai mã xác nhận quá nhiều lần; vui lòng làm lại từ đầu.",
                      "Too many wrong confirmation codes; please start again.");
    }
    ctx.kiosk.filings_pending.update(*f);
    return invalid({{"confirm_code", "mismatch", "Mã xác nhận chưa đúng. Ông/bà nhập lại 4 số in to trên màn hình.",
                     "The confirmation code is wrong. Type the 4 big digits on the screen."}});
  }
  NewDossier n;
  n.applicant = {f->name, f->cccd, f->dob, f->phone, f->address};
  n.procedure_code = f->procedure_code;
  n.channel = "kiosk";
  n.components = f->components;
  n.note = "Tự nộp tại kiosk; thông tin người nộp lấy từ mã QR thẻ CCCD, chưa xác thực.";
  for (const auto& e : f->attachments)
    if (auto a = decode_attachment(e)) n.attachments.push_back(*a);
  n.identity_unverified = true;
  auto d = create_dossier(ctx, kiosk_actor(), n);
  if (!d.ok()) return d;
  f->dossier_id = d.value().id;
  ctx.kiosk.filings_pending.update(*f);
  return d;
}

Outcome<RatingView> kiosk_rate_dossier(NodeContext& ctx, const DossierView& d, const std::string& level) {
  NewRating r{d.id, d.received_by.empty() ? kKioskUser : d.received_by, level, ""};
  return add_rating(ctx, kiosk_actor(), r);
}

Outcome<RatingView> kiosk_rate_visit(NodeContext& ctx, const std::string& counter, std::uint64_t number,
                                     const std::string& level) {
  auto q = queue_status(ctx, counter, "");
  if (!q.ok()) return q.error();
  const auto& tickets = q.value().tickets;
  auto t = std::find_if(tickets.begin(), tickets.end(), [&](const TicketView& v) { return v.number == number; });
  if (t == tickets.end())
    return DomainError{ErrorKind::kNotFound, "not_found",
                       "Hôm nay quầy " + counter + " không có phiếu số " + std::to_string(number) +
                           "; ông/bà xem lại số và quầy in trên phiếu.",
                       "Counter " + counter + " has no ticket " + std::to_string(number) +
                           " today; check the number and counter printed on the ticket.",
                       {}};
  // Only a visit that happened and ended: served, not one waiting, at the desk
  // (its number is on the hall display: anyone could rate it first) or skipped.
  // Each ticket is rated once (add_rating).
  if (t->state != "served" || t->handled_by.empty())
    return conflict("not_served", "Phiếu số " + std::to_string(number) + " chưa được phục vụ nên chưa thể đánh giá.",
                    "Ticket " + std::to_string(number) + " has not been served, so it cannot be rated yet.");
  return add_rating(ctx, kiosk_actor(), NewRating{"", t->handled_by, level, t->id});
}

}  // namespace wardsync::node
