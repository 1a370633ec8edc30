// Goal: the CCCD card QR and the receipt QR parsers accept every well-formed
// payload and reject each malformed field with its own machine code and a message
// in both languages. Method: one valid fake card (DOMAIN-FACTS §4), then one
// mutation per rule.
#include <catch2/catch.hpp>

#include <string>

#include "wardsync/hardware/id_codes.hpp"
#include "wardsync/hardware/text.hpp"

using namespace wardsync::hardware;

namespace {

const std::string kValid =
    "001099012345|123456789|Nguyễn Văn An|15081999|Nam|Số 12 Ngõ 34, Phường Ba Đình, Thành phố Hà "
    "Nội|20042021";

// Replaces field `index` of the valid payload.
std::string with_field(std::size_t index, const std::string& value) {
  std::vector<std::string> f;
  std::size_t start = 0;
  for (;;) {
    const auto bar = kValid.find('|', start);
    f.push_back(kValid.substr(start, bar == std::string::npos ? std::string::npos : bar - start));
    if (bar == std::string::npos) break;
    start = bar + 1;
  }
  f[index] = value;
  std::string out;
  for (std::size_t i = 0; i < f.size(); ++i) out += (i ? "|" : "") + f[i];
  return out;
}

void check_rejected(const std::string& payload, const std::string& code) {
  INFO("payload: " << payload);
  const auto r = parse_cccd_qr(payload);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == code);
  CHECK(r.status().kind() != ErrorKind::kOk);
  CHECK(r.status().message_en().rfind("CCCD QR: ", 0) == 0);
  CHECK(r.status().message_vi().rfind("Mã QR CCCD: ", 0) == 0);
}

}  // namespace

TEST_CASE("valid CCCD QR parses every field", "[hardware][cccd]") {
  const auto r = parse_cccd_qr(kValid);
  REQUIRE(r.is_ok());
  const CccdCard& c = r.value();
  CHECK(c.id_number == "001099012345");
  CHECK(c.old_id_number == "123456789");
  CHECK(c.full_name == "Nguyễn Văn An");
  CHECK(c.date_of_birth == CalendarDate{1999, 8, 15});
  CHECK(c.gender == Gender::kMale);
  CHECK(c.address == "Số 12 Ngõ 34, Phường Ba Đình, Thành phố Hà Nội");
  CHECK(c.issue_date == CalendarDate{2021, 4, 20});
  CHECK(c.extra_fields.empty());
}

TEST_CASE("CCCD variants that must be accepted", "[hardware][cccd]") {
  SECTION("empty old ID") { CHECK(parse_cccd_qr(with_field(1, "")).value().old_id_number.empty()); }
  SECTION("Nữ precomposed and decomposed") {
    CHECK(parse_cccd_qr(with_field(4, "Nữ")).value().gender == Gender::kFemale);
    CHECK(parse_cccd_qr(with_field(4, "Nu\xCC\x9B\xCC\x83")).value().gender == Gender::kFemale);
  }
  SECTION("extra trailing fields are kept") {
    const auto r = parse_cccd_qr(kValid + "|extra1|");
    REQUIRE(r.is_ok());
    CHECK(r.value().extra_fields == std::vector<std::string>{"extra1", ""});
  }
  SECTION("scanner line endings") {
    CHECK(parse_cccd_qr(kValid + "\r\n").is_ok());
    CHECK(parse_cccd_qr(kValid + "\n").is_ok());
  }
  SECTION("29 February of a leap year") { CHECK(parse_cccd_qr(with_field(3, "29022000")).is_ok()); }
  SECTION("issued on the birth day") {
    CHECK(parse_cccd_qr(with_field(6, "15081999")).is_ok());
  }
}

TEST_CASE("every malformed CCCD field is rejected with its code", "[hardware][cccd]") {
  check_rejected("", "cccd.empty");
  check_rejected("\r\n", "cccd.empty");
  check_rejected(std::string(kMaxCccdPayloadBytes + 1, '1'), "cccd.too_large");
  check_rejected(with_field(2, "Nguy\xE1\xBB"), "cccd.bad_utf8");        // cut sequence
  check_rejected(with_field(2, "Nguy\xC0\x80n"), "cccd.bad_utf8");       // overlong
  check_rejected(with_field(2, "\xED\xA0\x80"), "cccd.bad_utf8");        // surrogate
  check_rejected(with_field(2, "Nguyễn\tVăn"), "cccd.control_char");
  check_rejected(kValid + "\n\n", "cccd.control_char");
  check_rejected("001099012345|123456789|Nguyễn Văn An|15081999|Nam|Hà Nội", "cccd.too_few_fields");
  check_rejected("001099012345", "cccd.too_few_fields");
  for (const char* id : {"", "00109901234", "0010990123456", "00109901234A", " 01099012345",
                         "００1099012345"}) {
    check_rejected(with_field(0, id), "cccd.bad_id");
  }
  for (const char* old_id : {"12345678", "1234567890", "12345678X", " "}) {
    check_rejected(with_field(1, old_id), "cccd.bad_old_id");
  }
  check_rejected(with_field(2, ""), "cccd.bad_name");
  check_rejected(with_field(2, "   "), "cccd.bad_name");
  check_rejected(with_field(2, "Nguyễn Văn 2"), "cccd.bad_name");
  check_rejected(with_field(2, "Nguyễn <script>"), "cccd.bad_name");
  check_rejected(with_field(2, std::string(kMaxNameBytes + 1, 'a')), "cccd.bad_name");
  // What would print blank, reversed or as another name: refused, whatever the field.
  check_rejected(with_field(2, "\u00a0"), "cccd.bad_name");                         // a no-break space
  check_rejected(with_field(2, "\u3000\u3000"), "cccd.bad_name");                   // ideographic spaces
  check_rejected(with_field(2, "\u0301"), "cccd.bad_name");                         // a lone combining mark
  check_rejected(with_field(2, "\u202eNguyễn Văn An"), "cccd.invisible_char");      // right-to-left override
  check_rejected(with_field(2, "Nguyễn\u200bVăn"), "cccd.invisible_char");          // zero-width space
  check_rejected(with_field(5, "\ufeffHà Nội"), "cccd.invisible_char");            // byte-order mark
  check_rejected(with_field(2, "Nguyễn\u0085Văn"), "cccd.control_char");            // C1 control
  check_rejected(with_field(2, "Nguyễn\x7fVăn"), "cccd.control_char");              // DEL
  for (const char* dob : {"", "1508199", "150819999", "15/08/99", "31022000", "29022001",
                          "00011990", "32011990", "01131990", "01001990", "01011899",
                          "1508199a", "-1081999"}) {
    check_rejected(with_field(3, dob), "cccd.bad_dob");
  }
  for (const char* g : {"", "nam", "NAM", "Male", "Nu", "Nữ ", "Nam Nữ"}) {
    check_rejected(with_field(4, g), "cccd.bad_gender");
  }
  check_rejected(with_field(5, ""), "cccd.bad_address");
  check_rejected(with_field(5, "    "), "cccd.bad_address");
  check_rejected(with_field(5, std::string(kMaxAddressBytes + 1, 'x')), "cccd.bad_address");
  for (const char* issue : {"", "2004202", "31042021", "20042021x"}) {
    check_rejected(with_field(6, issue), "cccd.bad_issue_date");
  }
  check_rejected(with_field(6, "14081999"), "cccd.issue_before_birth");
}

TEST_CASE("is_real_date knows the calendar", "[hardware][cccd]") {
  CHECK(is_real_date({2024, 2, 29}));
  CHECK_FALSE(is_real_date({2100, 2, 29}));  // divisible by 100, not by 400
  CHECK(is_real_date({2000, 2, 29}));
  CHECK_FALSE(is_real_date({2023, 4, 31}));
  CHECK(is_real_date({2023, 12, 31}));
  CHECK_FALSE(is_real_date({1899, 12, 31}));
}

TEST_CASE("receipt QR round-trips and rejects malformed codes", "[hardware][receipt]") {
  const ReceiptQr in{"01.00001-250612-0001", "K7Q2M9XA"};
  const auto text = format_receipt_qr(in);
  REQUIRE(text.is_ok());
  CHECK(text.value() == "WS1|01.00001-250612-0001|K7Q2M9XA");
  const auto back = parse_receipt_qr(text.value() + "\r\n");
  REQUIRE(back.is_ok());
  CHECK(back.value().dossier_code == in.dossier_code);
  CHECK(back.value().lookup_code == in.lookup_code);

  struct Case {
    std::string payload;
    const char* code;
  };
  const std::vector<Case> cases = {
      {"", "receipt.empty"},
      {std::string(129, 'W'), "receipt.too_large"},
      {"XX1|A|K7Q2M9XA", "receipt.not_wardsync"},
      {"001099012345|x", "receipt.not_wardsync"},
      {"WS2|A|K7Q2M9XA", "receipt.unsupported_version"},
      {"WS|A|K7Q2M9XA", "receipt.unsupported_version"},
      {"WS1|A", "receipt.bad_field_count"},
      {"WS1|A|K7Q2M9XA|x", "receipt.bad_field_count"},
      {"WS1||K7Q2M9XA", "receipt.bad_dossier_code"},
      {"WS1|ab-1|K7Q2M9XA", "receipt.bad_dossier_code"},
      {"WS1|" + std::string(49, 'A') + "|K7Q2M9XA", "receipt.bad_dossier_code"},
      {"WS1|A B|K7Q2M9XA", "receipt.bad_dossier_code"},
      {"WS1|A|K7Q2M", "receipt.bad_lookup_code"},
      {"WS1|A|" + std::string(17, 'K'), "receipt.bad_lookup_code"},
      {"WS1|A|k7q2m9xa", "receipt.bad_lookup_code"},
      {"WS1|A|K7Q2-M9X", "receipt.bad_lookup_code"},
  };
  for (const Case& c : cases) {
    INFO("payload: " << c.payload);
    const auto r = parse_receipt_qr(c.payload);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == c.code);
    CHECK_FALSE(r.status().message_vi().empty());
  }
  CHECK(format_receipt_qr({"", "K7Q2M9XA"}).status().code() == "receipt.bad_dossier_code");
  CHECK(format_receipt_qr({"A|B", "K7Q2M9XA"}).status().code() == "receipt.bad_dossier_code");
}

TEST_CASE("scanned payloads are classified by shape", "[hardware][cccd]") {
  CHECK(classify_scanned_payload(kValid) == ScannedKind::kCccd);
  CHECK(classify_scanned_payload("WS1|A|K7Q2M9XA") == ScannedKind::kReceipt);
  CHECK(classify_scanned_payload("https://dichvucong.gov.vn") == ScannedKind::kUnknown);
  CHECK(classify_scanned_payload("0010990123|x") == ScannedKind::kUnknown);
  CHECK(classify_scanned_payload("") == ScannedKind::kUnknown);
}

TEST_CASE("the printable-text rule: controls and invisible formatting refused, letters found", "[hardware][text]") {
  using wardsync::hardware::TextFault;
  using wardsync::hardware::text_fault;
  CHECK(text_fault("Nguyễn Văn An") == TextFault::kNone);
  CHECK(text_fault("Nguye\u0302\u0303n") == TextFault::kNone);  // decomposed marks are text
  CHECK(text_fault("Số 12, đường 3/2 (Q.10)") == TextFault::kNone);
  CHECK(text_fault("a\nb") == TextFault::kControl);
  CHECK(text_fault("a\nb", true) == TextFault::kNone);
  CHECK(text_fault("a\rb", true) == TextFault::kControl);
  CHECK(text_fault("a\x7f") == TextFault::kControl);
  CHECK(text_fault("a\u009b") == TextFault::kControl);
  for (const char* hidden : {"\u200b", "\u200d", "\u200e", "\u202a", "\u202e", "\u2066", "\u2069", "\u2060", "\ufeff",
                             "\u00ad", "\u061c", "\u3164", "\u115f", "\uffa0", "\ufe0f", "\U000e0041", "\u034f"})
    CHECK(text_fault(std::string("An") + hidden) == TextFault::kInvisible);
  CHECK(text_fault("\xC3\x28") == TextFault::kInvalidUtf8);
  CHECK(wardsync::hardware::is_blank_text(""));
  CHECK(wardsync::hardware::is_blank_text(" \u00a0\u3000\u2003\u202f"));
  CHECK_FALSE(wardsync::hardware::is_blank_text(" a "));
  CHECK(wardsync::hardware::has_letter("Đặng"));
  CHECK(wardsync::hardware::has_letter("123 x"));
  CHECK_FALSE(wardsync::hardware::has_letter("123 - ."));
  CHECK_FALSE(wardsync::hardware::has_letter("\u0301\u0303"));
  CHECK_FALSE(wardsync::hardware::has_letter("\u3000\u2014\u2026"));
}
