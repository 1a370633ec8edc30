// Goal: the shipped procedure catalogue (node/data/procedures.json) loads and says what
// the law says for the procedures a ward handles most; the certified-copy fee follows
// the page rule of TT 226/2016; and every kind of bad entry is rejected with an error
// naming the file, the entry and the field.
// Method: known answers from DOMAIN-FACTS.md §1 for the real file; for bad input, one
// valid procedure is mutated one field at a time (each mutation is checked to apply).
#include <catch2/catch.hpp>

#include <algorithm>

#include <string>
#include <vector>

#include "catalogue.hpp"
#include "wardsync/node/calendar.hpp"

namespace wardsync::node {
namespace {

const std::string kDataDir = WARDSYNC_DATA_DIR;

const Catalogue& real_catalogue() {
  static const Catalogue catalogue = [] {
    auto loaded = Catalogue::load_file(kDataDir + "/procedures.json");
    if (!loaded.is_ok()) FAIL("cannot load procedures.json: " << loaded.status().message());
    return std::move(loaded).value();
  }();
  return catalogue;
}

TEST_CASE("the shipped catalogue loads with the legal facts", "[node][catalogue]") {
  const Catalogue& catalogue = real_catalogue();
  CHECK(catalogue.procedures().size() == 18);

  struct Case {
    const char* code;
    const char* name_vi;
    double days;
    bool cutoff;
    FeeKind fee;
    std::int64_t amount_vnd;
  };
  const std::vector<Case> cases = {
      {"1.001193", "Đăng ký khai sinh", 0, true, FeeKind::kFree, 0},
      {"1.000894", "Đăng ký kết hôn", 0, true, FeeKind::kFree, 0},
      {"1.000656", "Đăng ký khai tử", 0, true, FeeKind::kFree, 0},
      {"ht-nhan-cha-me-con", "Đăng ký nhận cha, mẹ, con", 3, false, FeeKind::kProvincial, 0},
      {"ht-giam-ho", "Đăng ký giám hộ", 3, false, FeeKind::kFree, 0},
      {"1.000881", "Đăng ký thay đổi, cải chính hộ tịch", 3, false, FeeKind::kProvincial, 0},
      {"2.000635", "Cấp bản sao trích lục hộ tịch", 0, true, FeeKind::kFixed, 8000},
      {"1.004873", "Cấp Giấy xác nhận tình trạng hôn nhân", 3, false, FeeKind::kProvincial, 0},
      {"ct-chu-ky", "Chứng thực chữ ký trong giấy tờ, văn bản", 0, true, FeeKind::kFixed, 10000},
      {"ct-hop-dong-giao-dich", "Chứng thực hợp đồng, giao dịch", 2, false, FeeKind::kFixed, 50000},
      {"ct-ban-sao-tu-ban-chinh", "Chứng thực bản sao từ bản chính giấy tờ, văn bản", 0, true,
       FeeKind::kPerPage, 0},
  };
  for (const Case& c : cases) {
    INFO(c.code);
    const Procedure* procedure = catalogue.find(c.code);
    REQUIRE(procedure != nullptr);
    CHECK(procedure->name_vi == c.name_vi);
    CHECK(procedure->processing_time.days() == c.days);
    CHECK(procedure->same_day_cutoff == c.cutoff);
    CHECK(procedure->fee.kind == c.fee);
    CHECK(procedure->fee.amount_vnd == c.amount_vnd);
  }

  const Procedure* recognition = catalogue.find("ht-nhan-cha-me-con");
  REQUIRE(recognition != nullptr);
  REQUIRE(recognition->extended_processing_time.has_value());
  CHECK(recognition->extended_processing_time->days() == 8);  // 03 + up to 05 (LHT Art 25)
  const Procedure* marriage = catalogue.find("1.000894");
  REQUIRE(marriage != nullptr);
  REQUIRE(marriage->source_status.code.has_value());
  CHECK(*marriage->source_status.code == SourceStatus::kSecondary);
  CHECK(catalogue.find("no-such-procedure") == nullptr);

  for (const Procedure& procedure : catalogue.procedures()) {
    INFO(procedure.code);
    bool any_mandatory = false;
    for (const Component& component : procedure.components) any_mandatory |= component.mandatory;
    CHECK(any_mandatory);
  }
}

TEST_CASE("catalogue and calendar together give receipt dates", "[node][catalogue]") {
  auto calendar = Calendar::load_file(kDataDir + "/holidays.json");
  REQUIRE(calendar.is_ok());
  const Catalogue& catalogue = real_catalogue();
  struct Case {
    const char* code;
    LocalDateTime received;
    LocalDateTime due;
  };
  const std::vector<Case> cases = {
      // Signature certification, Friday 15:30 before Tết 2026: next working day is Mon 23/2.
      {"ct-chu-ky", {{2026, 2, 13}, 15, 30, 0}, {{2026, 2, 23}, 17, 0, 0}},
      // Contract, 2 days from Thursday 12/2/2026 afternoon: Fri AM, Fri PM, Mon 23 AM, Mon 23 PM.
      {"ct-hop-dong-giao-dich", {{2026, 2, 12}, 14, 0, 0}, {{2026, 2, 23}, 17, 0, 0}},
      // Marital status, 3 days from Thursday 23/4/2026 morning: Thu PM, Fri AM, Fri PM,
      // [Sat, Sun 26 Hùng Vương, Mon 27 bù] Tue 28 AM, PM, [Wed 29 AM is the 6th] → Wed 11:30.
      {"1.004873", {{2026, 4, 23}, 9, 0, 0}, {{2026, 4, 29}, 11, 30, 0}},
      // Birth registration at 14:00 on a Monday: the same day.
      {"1.001193", {{2025, 3, 17}, 14, 0, 0}, {{2025, 3, 17}, 17, 0, 0}},
  };
  for (const Case& c : cases) {
    INFO(c.code);
    const Procedure* procedure = catalogue.find(c.code);
    REQUIRE(procedure != nullptr);
    auto due =
        calendar.value().appointment(c.received, procedure->processing_time, procedure->same_day_cutoff);
    REQUIRE(due.is_ok());
    CHECK(format_local_date_time(due.value()) == format_local_date_time(c.due));
  }
}

TEST_CASE("certified-copy fee follows the page rule", "[node][catalogue]") {
  const Procedure* copy = real_catalogue().find("ct-ban-sao-tu-ban-chinh");
  REQUIRE(copy != nullptr);
  struct Case {
    int pages;
    int copies;
    std::int64_t fee_vnd;
  };
  const std::vector<Case> cases = {
      {1, 1, 2000},    {2, 1, 4000},     {3, 1, 5000},     {10, 1, 12000},
      {5, 3, 21000},   {197, 1, 199000}, {198, 1, 200000}, {199, 1, 200000},
      {300, 2, 400000},
  };
  for (const Case& c : cases) {
    INFO(c.pages << " pages × " << c.copies);
    auto fee = copy_fee_vnd(copy->fee, c.pages, c.copies);
    REQUIRE(fee.is_ok());
    CHECK(fee.value() == c.fee_vnd);
  }
  CHECK_FALSE(copy_fee_vnd(copy->fee, 0, 1).is_ok());
  CHECK_FALSE(copy_fee_vnd(copy->fee, 1, 0).is_ok());
  const Procedure* signature = real_catalogue().find("ct-chu-ky");
  REQUIRE(signature != nullptr);
  CHECK_FALSE(copy_fee_vnd(signature->fee, 1, 1).is_ok());
}

// One valid procedure; each bad case replaces one exact substring of it.
const std::string kValid = R"({"format_version": 1, "procedures": [{
  "code": "1.001193",
  "name_vi": "Đăng ký khai sinh",
  "name_en": "Birth registration",
  "field_vi": "Hộ tịch",
  "processing_days": 0,
  "same_day_cutoff": true,
  "components": [{"name_vi": "Tờ khai đăng ký khai sinh", "mandatory": true}],
  "fee": {"kind": "free", "description_vi": "Miễn lệ phí"},
  "legal_basis": "Luật Hộ tịch 60/2014/QH13, Điều 16",
  "source_status": {"code": "secondary", "processing_time": "verified", "fee": "verified", "components": "verified"}
}]})";

TEST_CASE("the mutation template itself is valid", "[node][catalogue]") {
  auto catalogue = Catalogue::parse(kValid, "test.json");
  REQUIRE(catalogue.is_ok());
  CHECK(catalogue.value().procedures().size() == 1);
}

TEST_CASE("bad catalogue entries are rejected, naming file, entry and field",
          "[node][catalogue]") {
  struct Case {
    const char* what;
    const char* from;
    const char* to;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"fractional days", R"("processing_days": 0,)", R"("processing_days": 0.3, "same_day_cutoff": false,)",
       "\"processing_days\": processing time 0.3"},
      {"negative days", R"("processing_days": 0,)", R"("processing_days": -1,)",
       "\"processing_days\": processing time must be between 0 and 365"},
      {"days as text", R"("processing_days": 0,)", R"("processing_days": "ngay",)",
       "\"processing_days\" must be a number"},
      {"cut-off on a multi-day procedure", R"("processing_days": 0,)", R"("processing_days": 3,)",
       "\"same_day_cutoff\" is only meaningful"},
      {"cut-off missing", R"("same_day_cutoff": true,)", "", "missing \"same_day_cutoff\""},
      {"extension not longer", R"("processing_days": 0,)",
       R"("processing_days": 0, "extended_processing_days": 0, "extension_condition_vi": "x",)",
       "\"extended_processing_days\" must be longer"},
      {"extension without condition", R"("processing_days": 0,)",
       R"("processing_days": 0, "extended_processing_days": 5,)", "missing \"extension_condition_vi\""},
      {"bad code", R"("code": "1.001193")", R"("code": "Khai Sinh")", "procedures[0] (Khai Sinh): \"code\" must be"},
      {"missing code", R"("code": "1.001193",)", "", "procedures[0]: missing \"code\""},
      {"empty Vietnamese name", R"("name_vi": "Đăng ký khai sinh")", R"("name_vi": "")",
       "\"name_vi\" is empty"},
      {"invalid UTF-8 bytes", R"("name_vi": "Đăng ký khai sinh")", "\"name_vi\": \"Dang \xC3\x28\"",
       "not valid JSON"},
      {"control character in a name", R"("name_vi": "Đăng ký khai sinh")",
       R"("name_vi": "Đăng ký\u0007 khai sinh")", "\"name_vi\" has invalid UTF-8 or control characters"},
      {"no components", R"("components": [{"name_vi": "Tờ khai đăng ký khai sinh", "mandatory": true}])",
       R"("components": [])", "\"components\" must be a non-empty array"},
      {"component without mandatory", R"("mandatory": true)", R"("note_vi": "x")",
       "components[0]: missing \"mandatory\""},
      {"mandatory as text", R"("mandatory": true)", R"("mandatory": "có")",
       "components[0]: \"mandatory\" must be true or false"},
      {"unknown fee kind", R"("kind": "free")", R"("kind": "gift")", "fee: \"kind\" must be"},
      {"fixed fee without amount", R"("kind": "free")", R"("kind": "fixed", "unit_vi": "bản")",
       "fee: missing \"amount_vnd\""},
      {"fixed fee of zero", R"("kind": "free")", R"("kind": "fixed", "unit_vi": "bản", "amount_vnd": 0)",
       "fee: \"amount_vnd\" must be between 1"},
      {"fixed fee with decimals", R"("kind": "free")",
       R"("kind": "fixed", "unit_vi": "bản", "amount_vnd": 8000.5)",
       "fee: \"amount_vnd\" must be a whole number"},
      {"per-page fee cheaper first", R"("kind": "free")",
       R"("kind": "per_page", "per_page_vnd": 1000, "reduced_per_page_vnd": 2000, "reduced_from_page": 3, "max_per_copy_vnd": 200000)",
       "\"reduced_per_page_vnd\" is more than"},
      {"no fee", R"("fee": {"kind": "free", "description_vi": "Miễn lệ phí"},)", "",
       "\"fee\" must be an object"},
      {"unknown source status", R"("fee": "verified")", R"("fee": "maybe")",
       "source_status: \"fee\" must be \"verified\", \"secondary\" or \"unverified\""},
      {"DVC code without its status", R"("code": "secondary", )", "",
       "source_status: missing \"code\""},
      {"missing legal basis", R"("legal_basis": "Luật Hộ tịch 60/2014/QH13, Điều 16",)", "",
       "missing \"legal_basis\""},
      {"duplicate code", R"(}]})",
       R"(}, {"code": "1.001193", "name_vi": "b", "name_en": "b", "field_vi": "b", "processing_days": 1,
          "same_day_cutoff": false, "components": [{"name_vi": "b", "mandatory": true}],
          "fee": {"kind": "free", "description_vi": "b"}, "legal_basis": "b",
          "source_status": {"code": "secondary", "processing_time": "verified", "fee": "verified", "components": "verified"}}]})",
       "procedures[1]: code \"1.001193\" is used twice"},
      {"wrong format version", R"("format_version": 1)", R"("format_version": 2)",
       "\"format_version\" must be 1"},
      {"truncated JSON", R"(}]})", R"(})", "not valid JSON"},
      // Integers Poco reads but cannot convert (a publication from another node
      // is untrusted input): an error, never an exception out of parse().
      {"days beyond 64 bits", R"("processing_days": 0,)", R"("processing_days": 18446744073709551615,)",
       "processing time must be between 0 and 365"},
      {"fee beyond 64 bits", R"("kind": "free")",
       R"("kind": "fixed", "unit_vi": "bản", "amount_vnd": 18446744073709551615)", "Out of range"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    std::string json = kValid;
    const auto at = json.find(c.from);
    REQUIRE(at != std::string::npos);  // the mutation must apply, or the case tests nothing
    json.replace(at, std::string(c.from).size(), c.to);
    auto catalogue = Catalogue::parse(json, "test.json");
    REQUIRE_FALSE(catalogue.is_ok());
    CHECK(catalogue.status().code() == Code::kInvalidArgument);
    CHECK_THAT(catalogue.status().message(), Catch::Matchers::StartsWith("test.json: "));
    CHECK_THAT(catalogue.status().message(), Catch::Matchers::Contains(c.message_part));
  }
}

TEST_CASE("a JSON syntax error names its line and column", "[node][catalogue]") {
  // What an IT officer editing the file by hand does: a comma too many.
  std::string json = kValid;
  const auto at = json.find(R"("processing_days": 0,)");
  REQUIRE(at != std::string::npos);
  json.replace(at, 20, R"("processing_days": 0,,)");
  const std::size_t line = 1 + static_cast<std::size_t>(std::count(json.begin(), json.begin() + at, '\n'));
  auto catalogue = Catalogue::parse(json, "test.json");
  REQUIRE_FALSE(catalogue.is_ok());
  INFO(catalogue.status().message());
  CHECK_THAT(catalogue.status().message(),
             Catch::Matchers::Contains("not valid JSON near line " + std::to_string(line) + ", column "));
}

TEST_CASE("a missing catalogue file is kNotFound with its path", "[node][catalogue]") {
  auto catalogue = Catalogue::load_file(kDataDir + "/no-such-file.json");
  REQUIRE_FALSE(catalogue.is_ok());
  CHECK(catalogue.status().code() == Code::kNotFound);
  CHECK_THAT(catalogue.status().message(), Catch::Matchers::Contains("no-such-file.json"));
}

}  // namespace
}  // namespace wardsync::node
