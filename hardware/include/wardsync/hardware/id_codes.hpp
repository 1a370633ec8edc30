// Parsers for the two QR payloads a kiosk reads: the chip ID card (CCCD) QR and the
// wardsync receipt slip QR. Both come from outside (a citizen's card, a slip that may
// be damaged or forged), so every field is validated and a bad payload is rejected
// with a machine code plus English and Vietnamese messages. The CCCD QR is not
// signed: a parsed card pre-fills forms and is marked unverified, never proof.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "wardsync/hardware/status.hpp"

namespace wardsync::hardware {

// Bounds on what a scanner line may carry. A real CCCD payload is ~150-250 bytes;
// 1 KiB leaves room for extra fields on newer cards and still stops junk early.
inline constexpr std::size_t kMaxCccdPayloadBytes = 1024;
inline constexpr std::size_t kMaxNameBytes = 160;
inline constexpr std::size_t kMaxAddressBytes = 512;
inline constexpr std::size_t kMaxReceiptPayloadBytes = 128;

struct CalendarDate {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  friend bool operator==(const CalendarDate&, const CalendarDate&) = default;
};

enum class Gender { kMale, kFemale };

struct CccdCard {
  std::string id_number;      // 12 digits
  std::string old_id_number;  // 9 digits (old CMND) or empty
  std::string full_name;      // UTF-8, NFC as printed on the card
  CalendarDate date_of_birth;
  Gender gender = Gender::kMale;
  std::string address;
  CalendarDate issue_date;
  std::vector<std::string> extra_fields;  // newer cards append fields; kept, not interpreted
};

// Layout: `ID(12)|old ID(9 or empty)|name|DOB ddMMyyyy|Nam/Nữ|address|issue ddMMyyyy[|extra...]`.
// One trailing CR/LF (scanner line ending) is tolerated. Dates must be real
// calendar dates and the issue date not before birth; whether a date lies in the
// future is the caller's check, because this parser reads no clock. Error codes: cccd.empty,
// cccd.too_large, cccd.bad_utf8, cccd.control_char, cccd.too_few_fields,
// cccd.bad_id, cccd.bad_old_id, cccd.bad_name, cccd.bad_dob, cccd.bad_gender,
// cccd.bad_address, cccd.bad_issue_date, cccd.issue_before_birth.
[[nodiscard]] Result<CccdCard> parse_cccd_qr(std::string_view payload);

// The receipt slip QR, version 1: `WS1|<dossier code>|<lookup code>`.
// dossier code: 1..48 chars of [A-Z0-9-./]; lookup code: 6..16 chars of [A-Z0-9].
// Error codes: receipt.empty, receipt.too_large, receipt.not_wardsync,
// receipt.unsupported_version, receipt.bad_field_count, receipt.bad_dossier_code,
// receipt.bad_lookup_code.
struct ReceiptQr {
  std::string dossier_code;
  std::string lookup_code;
};
[[nodiscard]] Result<ReceiptQr> parse_receipt_qr(std::string_view payload);
// Validates the fields too, so a slip is never printed with a QR the kiosk rejects.
[[nodiscard]] Result<std::string> format_receipt_qr(const ReceiptQr& receipt);

// What a scanned line is, so the kiosk can route it.
enum class ScannedKind { kCccd, kReceipt, kUnknown };
// Cheap shape check only (prefix, separator count); the parsers do the validation.
ScannedKind classify_scanned_payload(std::string_view payload);

// True for an exact calendar date (leap years included) with 1900 <= year <= 2199.
bool is_real_date(const CalendarDate& date);

}  // namespace wardsync::hardware
