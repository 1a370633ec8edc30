#include "wardsync/hardware/id_codes.hpp"

#include <algorithm>
#include <cctype>

#include "utf8_internal.hpp"
#include "wardsync/hardware/text.hpp"

namespace wardsync::hardware {
namespace {

constexpr std::size_t kCccdFieldCount = 7;
constexpr std::size_t kIdDigits = 12;
constexpr std::size_t kOldIdDigits = 9;
constexpr std::string_view kReceiptMagic = "WS";
constexpr std::string_view kReceiptVersion1 = "WS1";

Status cccd_error(std::string code, std::string en, std::string vi) {
  return Status(ErrorKind::kInvalidInput, "cccd." + code, "CCCD QR: " + std::move(en),
                "Mã QR CCCD: " + std::move(vi));
}

Status receipt_error(std::string code, std::string en, std::string vi) {
  return Status(ErrorKind::kInvalidInput, "receipt." + code, "receipt QR: " + std::move(en),
                "Mã QR phiếu hẹn: " + std::move(vi));
}

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    const std::size_t pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
  while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
  return s;
}

std::string_view strip_line_ending(std::string_view s) {
  if (!s.empty() && s.back() == '\n') s.remove_suffix(1);
  if (!s.empty() && s.back() == '\r') s.remove_suffix(1);
  return s;
}

bool parse_ddmmyyyy(std::string_view s, CalendarDate* out) {
  if (s.size() != 8 || !all_digits(s)) return false;
  auto num = [&](std::size_t pos, std::size_t len) {
    int v = 0;
    for (std::size_t i = pos; i < pos + len; ++i) v = v * 10 + (s[i] - '0');
    return v;
  };
  const CalendarDate d{num(4, 4), num(2, 2), num(0, 2)};
  if (!is_real_date(d)) return false;
  *out = d;
  return true;
}

bool date_before(const CalendarDate& a, const CalendarDate& b) {
  if (a.year != b.year) return a.year < b.year;
  if (a.month != b.month) return a.month < b.month;
  return a.day < b.day;
}

// "Nữ" arrives precomposed (U+1EEF) from most cards, but some scanners or readers
// decompose it; all three spellings mean the same word.
bool is_female_word(std::string_view s) {
  return s == "N\xE1\xBB\xAF" || s == "Nu\xCC\x9B\xCC\x83" || s == "N\xC6\xB0\xCC\x83";
}

bool is_name_ok(std::string_view name) {
  if (name.empty() || name.size() > kMaxNameBytes || !has_letter(name)) return false;
  for (char ch : name) {
    const auto c = static_cast<unsigned char>(ch);
    if (c < 0x80 && !std::isalpha(c) && !(c == ' ' || c == '\'' || c == '-' || c == '.'))
      return false;  // digits and punctuation do not occur in Vietnamese names
  }
  return true;
}

bool is_code_char(char c, bool allow_punct) {
  if ((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')) return true;
  return allow_punct && (c == '-' || c == '.' || c == '/');
}

Status validate_receipt(std::string_view dossier, std::string_view lookup) {
  if (dossier.empty() || dossier.size() > 48 ||
      !std::all_of(dossier.begin(), dossier.end(), [](char c) { return is_code_char(c, true); })) {
    return receipt_error("bad_dossier_code",
                         "dossier code must be 1-48 characters of A-Z, 0-9, '-', '.', '/'",
                         "mã hồ sơ không hợp lệ");
  }
  if (lookup.size() < 6 || lookup.size() > 16 ||
      !std::all_of(lookup.begin(), lookup.end(), [](char c) { return is_code_char(c, false); })) {
    return receipt_error("bad_lookup_code", "lookup code must be 6-16 characters of A-Z, 0-9",
                         "mã tra cứu không hợp lệ");
  }
  return Status::ok();
}

}  // namespace

bool is_real_date(const CalendarDate& d) {
  if (d.year < 1900 || d.year > 2199 || d.month < 1 || d.month > 12 || d.day < 1) return false;
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = (d.year % 4 == 0 && d.year % 100 != 0) || d.year % 400 == 0;
  const int max_day = kDays[d.month - 1] + ((d.month == 2 && leap) ? 1 : 0);
  return d.day <= max_day;
}

Result<CccdCard> parse_cccd_qr(std::string_view payload) {
  if (payload.size() > kMaxCccdPayloadBytes) {
    return cccd_error("too_large",
                      "payload longer than " + std::to_string(kMaxCccdPayloadBytes) + " bytes",
                      "dữ liệu quá dài");
  }
  payload = strip_line_ending(payload);
  if (payload.empty()) return cccd_error("empty", "payload is empty", "không có dữ liệu");
  if (!internal::is_valid_utf8(payload)) {
    return cccd_error("bad_utf8", "payload is not valid UTF-8", "dữ liệu sai bảng mã UTF-8");
  }
  // What the card says is printed on the receipt: the slip's own rule (text.hpp).
  if (TextFault fault = text_fault(payload); fault != TextFault::kNone) {
    return fault == TextFault::kControl
               ? cccd_error("control_char", "payload contains control characters", "dữ liệu chứa ký tự điều khiển")
               : cccd_error("invisible_char", "payload contains invisible formatting characters",
                            "dữ liệu chứa ký tự định dạng ẩn");
  }
  const auto f = split(payload, '|');
  if (f.size() < kCccdFieldCount) {
    return cccd_error("too_few_fields",
                      "expected at least 7 '|'-separated fields, got " + std::to_string(f.size()),
                      "thiếu trường dữ liệu (cần ít nhất 7 trường)");
  }
  CccdCard card;
  if (f[0].size() != kIdDigits || !all_digits(f[0])) {
    return cccd_error("bad_id", "ID number must be exactly 12 digits",
                      "số CCCD phải gồm đúng 12 chữ số");
  }
  card.id_number = std::string(f[0]);
  if (!f[1].empty() && (f[1].size() != kOldIdDigits || !all_digits(f[1]))) {
    return cccd_error("bad_old_id", "old ID number must be empty or exactly 9 digits",
                      "số CMND cũ phải để trống hoặc gồm đúng 9 chữ số");
  }
  card.old_id_number = std::string(f[1]);
  const std::string_view name = trim(f[2]);
  if (!is_name_ok(name)) {
    return cccd_error("bad_name",
                      "full name must be 1-" + std::to_string(kMaxNameBytes) +
                          " bytes of letters, spaces, ' - .",
                      "họ tên không hợp lệ");
  }
  card.full_name = std::string(name);
  if (!parse_ddmmyyyy(f[3], &card.date_of_birth)) {
    return cccd_error("bad_dob", "date of birth must be a real date written ddMMyyyy",
                      "ngày sinh phải là ngày có thật, dạng ddMMyyyy");
  }
  if (f[4] == "Nam") {
    card.gender = Gender::kMale;
  } else if (is_female_word(f[4])) {
    card.gender = Gender::kFemale;
  } else {
    return cccd_error("bad_gender", "gender must be \"Nam\" or \"Nữ\"",
                      "giới tính phải là \"Nam\" hoặc \"Nữ\"");
  }
  const std::string_view address = trim(f[5]);
  if (is_blank_text(address) || address.size() > kMaxAddressBytes) {
    return cccd_error("bad_address",
                      "address must be 1-" + std::to_string(kMaxAddressBytes) + " bytes",
                      "địa chỉ thường trú không hợp lệ");
  }
  card.address = std::string(address);
  if (!parse_ddmmyyyy(f[6], &card.issue_date)) {
    return cccd_error("bad_issue_date", "issue date must be a real date written ddMMyyyy",
                      "ngày cấp phải là ngày có thật, dạng ddMMyyyy");
  }
  if (date_before(card.issue_date, card.date_of_birth)) {
    return cccd_error("issue_before_birth", "issue date is before the date of birth",
                      "ngày cấp trước ngày sinh");
  }
  for (std::size_t i = kCccdFieldCount; i < f.size(); ++i) card.extra_fields.emplace_back(f[i]);
  return card;
}

Result<ReceiptQr> parse_receipt_qr(std::string_view payload) {
  if (payload.size() > kMaxReceiptPayloadBytes) {
    return receipt_error("too_large", "payload longer than 128 bytes", "dữ liệu quá dài");
  }
  payload = strip_line_ending(payload);
  if (payload.empty()) return receipt_error("empty", "payload is empty", "không có dữ liệu");
  const auto f = split(payload, '|');
  if (f[0].substr(0, kReceiptMagic.size()) != kReceiptMagic) {
    return receipt_error("not_wardsync", "not a wardsync receipt code",
                         "không phải mã phiếu hẹn của hệ thống");
  }
  if (f[0] != kReceiptVersion1) {
    return receipt_error("unsupported_version",
                         "unsupported receipt code version \"" + std::string(f[0]) + "\"",
                         "phiên bản mã phiếu hẹn không được hỗ trợ");
  }
  if (f.size() != 3) {
    return receipt_error("bad_field_count", "expected WS1|dossier code|lookup code",
                         "mã phiếu hẹn sai định dạng");
  }
  Status st = validate_receipt(f[1], f[2]);
  if (!st.is_ok()) return st;
  return ReceiptQr{std::string(f[1]), std::string(f[2])};
}

Result<std::string> format_receipt_qr(const ReceiptQr& receipt) {
  Status st = validate_receipt(receipt.dossier_code, receipt.lookup_code);
  if (!st.is_ok()) return st;
  return std::string(kReceiptVersion1) + "|" + receipt.dossier_code + "|" + receipt.lookup_code;
}

ScannedKind classify_scanned_payload(std::string_view payload) {
  payload = strip_line_ending(payload);
  if (payload.substr(0, kReceiptMagic.size()) == kReceiptMagic) return ScannedKind::kReceipt;
  const auto bar = payload.find('|');
  if (bar == kIdDigits && all_digits(payload.substr(0, kIdDigits))) return ScannedKind::kCccd;
  return ScannedKind::kUnknown;
}

}  // namespace wardsync::hardware
