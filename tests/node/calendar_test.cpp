// Goal: the working-day calendar gives the appointment dates a ward clerk would write by
// hand, for the real holidays file (node/data/holidays.json), across weekends, Tết 2026
// and 2027, the 2026 Hùng Kings compensating day, the 2025 swap Saturday, half-day
// procedures and the 15:00 cut-off; and a malformed holidays file is rejected with an
// error naming the file and the entry.
// Method: table-driven cases whose expected dates were worked out on paper from the
// 2025–2030 calendars (each row's comment shows the count), checked against the library.
#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "wardsync/node/calendar.hpp"

namespace wardsync::node {
namespace {

const std::string kDataDir = WARDSYNC_DATA_DIR;

const Calendar& real_calendar() {
  // Loaded once per test binary; Calendar is immutable, so sharing it is safe.
  static const Calendar calendar = [] {
    auto loaded = Calendar::load_file(kDataDir + "/holidays.json");
    if (!loaded.is_ok()) FAIL("cannot load holidays.json: " << loaded.status().message());
    return std::move(loaded).value();
  }();
  return calendar;
}

Date d(int year, int month, int day) { return Date{year, month, day}; }

LocalDateTime at(int year, int month, int day, int hour, int minute, int second = 0) {
  return LocalDateTime{Date{year, month, day}, hour, minute, second};
}

ProcessingTime days(double value) {
  auto time = ProcessingTime::from_days(value);
  REQUIRE(time.is_ok());
  return time.value();
}

TEST_CASE("dates: weekday, parsing and arithmetic", "[node][calendar]") {
  CHECK(weekday(d(1970, 1, 1)) == Weekday::kThursday);
  CHECK(weekday(d(2026, 2, 17)) == Weekday::kTuesday);   // Mùng 1 Tết Bính Ngọ
  CHECK(weekday(d(2030, 2, 2)) == Weekday::kSaturday);   // Mùng 1 Tết Canh Tuất
  CHECK(weekday(d(2000, 2, 29)) == Weekday::kTuesday);
  CHECK(weekday(d(1969, 12, 31)) == Weekday::kWednesday);
  CHECK(add_days(d(2028, 2, 28), 1) == d(2028, 2, 29));
  CHECK(add_days(d(2027, 2, 28), 1) == d(2027, 3, 1));
  CHECK(add_days(d(2025, 12, 31), 1) == d(2026, 1, 1));
  CHECK(civil_from_days(days_from_civil(d(2026, 4, 27))) == d(2026, 4, 27));

  CHECK(parse_date("2028-02-29").is_ok());
  for (const char* bad : {"2026-02-29", "2026-2-01", "2026-02-1x", "", "2026/02/01",
                          "2026-13-01", "2026-00-10", "1899-12-31", " 2026-02-01"}) {
    INFO(bad);
    auto parsed = parse_date(bad);
    REQUIRE_FALSE(parsed.is_ok());
    CHECK(parsed.status().code() == Code::kInvalidArgument);
  }
  CHECK(format_date(d(2026, 4, 7)) == "2026-04-07");
}

TEST_CASE("local time is UTC+7 with no daylight saving", "[node][calendar]") {
  CHECK(local_from_unix_seconds(0) == at(1970, 1, 1, 7, 0));
  // 2026-02-13T01:30:00Z is 08:30 in Hà Nội.
  CHECK(local_from_unix_seconds(1770946200) == at(2026, 2, 13, 8, 30));
  // 2025-12-31T17:00:00Z is already New Year's Day in Vietnam.
  CHECK(local_from_unix_seconds(1767200400) == at(2026, 1, 1, 0, 0));
  CHECK(local_from_unix_seconds(1767200399) == at(2025, 12, 31, 23, 59, 59));
  CHECK(unix_seconds_from_local(at(2026, 2, 13, 8, 30)) == 1770946200);
  // July and January share the offset: no DST.
  const auto july = unix_seconds_from_local(at(2026, 7, 1, 12, 0));
  CHECK(local_from_unix_seconds(july) == at(2026, 7, 1, 12, 0));
}

TEST_CASE("processing time is whole half days", "[node][calendar]") {
  struct Case {
    double days;
    bool ok;
    int half_days;
  };
  const std::vector<Case> cases = {
      {0, true, 0},       {0.5, true, 1},   {3, true, 6},      {365, true, 730},
      {0.25, false, 0},   {1.3, false, 0},  {-0.5, false, 0},  {365.5, false, 0},
      {std::nan(""), false, 0}, {std::numeric_limits<double>::infinity(), false, 0},
  };
  for (const Case& c : cases) {
    INFO("days = " << c.days);
    auto time = ProcessingTime::from_days(c.days);
    REQUIRE(time.is_ok() == c.ok);
    if (c.ok) CHECK(time.value().half_days == c.half_days);
  }
}

TEST_CASE("working days of the real holidays file", "[node][calendar]") {
  const Calendar& calendar = real_calendar();
  CHECK(calendar.first_year() == 2025);
  CHECK(calendar.last_year() == 2030);
  struct Case {
    Date date;
    bool working;
    const char* why;
  };
  const std::vector<Case> cases = {
      {d(2025, 1, 1), false, "Tết Dương lịch 2025"},
      {d(2025, 1, 2), true, "ordinary Thursday"},
      {d(2025, 1, 24), true, "Friday before the 2025 Tết break"},
      {d(2025, 1, 27), false, "Tết Ất Tỵ, 28 tháng Chạp"},
      {d(2025, 1, 31), false, "Tết Ất Tỵ, mùng 3"},
      {d(2025, 2, 3), true, "back to work after Tết 2025"},
      {d(2025, 3, 15), false, "ordinary Saturday"},
      {d(2025, 3, 16), false, "ordinary Sunday"},
      {d(2025, 4, 7), false, "Giỗ Tổ Hùng Vương 2025 (Monday)"},
      {d(2025, 4, 26), true, "2025 swap Saturday (làm bù for Fri 2/5)"},
      {d(2025, 4, 27), false, "Sunday after the swap Saturday"},
      {d(2025, 5, 2), false, "2025 swap day off"},
      {d(2025, 5, 5), true, "Monday after 30/4–1/5 2025"},
      {d(2025, 9, 1), false, "Quốc khánh 2025, adjacent day"},
      {d(2025, 9, 2), false, "Quốc khánh 2025"},
      {d(2025, 9, 3), true, "Wednesday after Quốc khánh 2025"},
      {d(2026, 1, 2), false, "2026 New Year swap day off"},
      {d(2026, 1, 10), true, "2026 swap Saturday"},
      {d(2026, 1, 11), false, "ordinary Sunday"},
      {d(2026, 2, 13), true, "Friday before Tết 2026"},
      {d(2026, 2, 16), false, "Tết Bính Ngọ, 29 tháng Chạp"},
      {d(2026, 2, 20), false, "Tết Bính Ngọ, mùng 4"},
      {d(2026, 2, 23), true, "back to work after Tết 2026"},
      {d(2026, 4, 27), false, "bù for Hùng Vương on Sunday 26/4/2026"},
      {d(2026, 4, 28), true, "Tuesday after the bù day"},
      {d(2027, 2, 4), true, "Thursday before Tết 2027"},
      {d(2027, 2, 5), false, "Tết Đinh Mùi eve"},
      {d(2027, 2, 10), false, "bù for mùng 1 on Saturday"},
      {d(2027, 2, 11), false, "bù for mùng 2 on Sunday"},
      {d(2027, 2, 12), true, "back to work after Tết 2027"},
      {d(2027, 4, 16), false, "Giỗ Tổ Hùng Vương 2027 (Friday)"},
      {d(2027, 5, 3), false, "bù for 1/5/2027 on Saturday"},
      {d(2028, 1, 3), false, "bù for 1/1/2028 on Saturday"},
      {d(2028, 4, 4), false, "Giỗ Tổ Hùng Vương 2028"},
      {d(2028, 5, 2), false, "bù for 30/4/2028 on Sunday, after 1/5"},
      {d(2029, 2, 13), false, "mùng 1 Tết Kỷ Dậu"},
      {d(2029, 4, 23), false, "Giỗ Tổ Hùng Vương 2029"},
      {d(2030, 2, 6), false, "bù for mùng 1 Tết Canh Tuất (Saturday 2/2, UTC+7)"},
      {d(2030, 2, 8), true, "back to work after Tết 2030"},
      {d(2030, 4, 12), false, "Giỗ Tổ Hùng Vương 2030"},
  };
  for (const Case& c : cases) {
    INFO(format_date(c.date) << ": " << c.why);
    auto working = calendar.is_working_day(c.date);
    REQUIRE(working.is_ok());
    CHECK(working.value() == c.working);
  }

  const Holiday* hung = calendar.holiday(d(2026, 4, 26));
  REQUIRE(hung != nullptr);
  CHECK(hung->name == "Giỗ Tổ Hùng Vương (10/3 âm lịch)");
  CHECK(calendar.holiday(d(2026, 4, 28)) == nullptr);
}

TEST_CASE("a date outside the file's years is an error, not a working day", "[node][calendar]") {
  const Calendar& calendar = real_calendar();
  for (const Date& date : {d(2024, 12, 31), d(2031, 1, 2)}) {
    INFO(format_date(date));
    auto working = calendar.is_working_day(date);
    REQUIRE_FALSE(working.is_ok());
    CHECK(working.status().code() == Code::kNotFound);
    CHECK_THAT(working.status().message(), Catch::Matchers::Contains("2025–2030"));
  }
  auto invalid = calendar.is_working_day(d(2026, 2, 30));
  REQUIRE_FALSE(invalid.is_ok());
  CHECK(invalid.status().code() == Code::kInvalidArgument);

  // Five days from Monday 30/12/2030 run into 2031, which the file does not cover.
  auto due = calendar.appointment(at(2030, 12, 30, 9, 0), days(5), false);
  REQUIRE_FALSE(due.is_ok());
  CHECK(due.status().code() == Code::kNotFound);
}

TEST_CASE("appointment dates", "[node][calendar]") {
  const Calendar& calendar = real_calendar();
  struct Case {
    const char* what;
    LocalDateTime received;
    double days;
    bool cutoff;
    LocalDateTime due;
  };
  const std::vector<Case> cases = {
      // Same day.
      {"same day, morning", at(2025, 3, 17, 10, 0), 0, true, at(2025, 3, 17, 17, 0)},
      {"same day, exactly 15:00 is not after", at(2025, 3, 17, 15, 0, 0), 0, true,
       at(2025, 3, 17, 17, 0)},
      {"same day, 15:00:01 is after 15:00", at(2025, 3, 17, 15, 0, 1), 0, true,
       at(2025, 3, 18, 17, 0)},
      {"same day, 15:30 → next working day", at(2025, 3, 17, 15, 30), 0, true,
       at(2025, 3, 18, 17, 0)},
      {"same day, 15:30 without the cut-off rule", at(2025, 3, 17, 15, 30), 0, false,
       at(2025, 3, 17, 17, 0)},
      {"same day, Friday 16:00 → Monday", at(2025, 3, 14, 16, 0), 0, true, at(2025, 3, 17, 17, 0)},
      {"same day, after closing, no cut-off", at(2025, 3, 17, 17, 30), 0, false,
       at(2025, 3, 18, 17, 0)},
      {"same day, Friday 15:30 before Tết 2026 → Monday 23/2", at(2026, 2, 13, 15, 30), 0, true,
       at(2026, 2, 23, 17, 0)},
      {"same day, Sunday Hùng Vương 2026 (kiosk) → Tue 28/4 (Mon 27 is bù)",
       at(2026, 4, 26, 10, 0), 0, true, at(2026, 4, 28, 17, 0)},
      {"same day, Friday 31/12/2027 15:30 → Tue 4/1/2028 (Mon 3/1 is bù)",
       at(2027, 12, 31, 15, 30), 0, true, at(2028, 1, 4, 17, 0)},
      {"same day on the 2025 swap Saturday", at(2025, 4, 26, 9, 0), 0, true,
       at(2025, 4, 26, 17, 0)},
      // Half a day.
      {"0.5 day, morning → same afternoon", at(2025, 3, 18, 8, 0), 0.5, false,
       at(2025, 3, 18, 17, 0)},
      {"0.5 day, before opening counts as morning", at(2025, 3, 18, 6, 45), 0.5, false,
       at(2025, 3, 18, 17, 0)},
      {"0.5 day, afternoon → next morning", at(2025, 3, 18, 14, 0), 0.5, false,
       at(2025, 3, 19, 11, 30)},
      {"0.5 day, lunch break counts as afternoon", at(2025, 3, 18, 12, 0), 0.5, false,
       at(2025, 3, 19, 11, 30)},
      {"0.5 day, Saturday → Monday afternoon", at(2025, 3, 15, 10, 0), 0.5, false,
       at(2025, 3, 17, 17, 0)},
      {"0.5 day, Friday afternoon before Hùng Vương 2025 → Tuesday morning",
       at(2025, 4, 4, 14, 0), 0.5, false, at(2025, 4, 8, 11, 30)},
      {"0.5 day, Friday afternoon before the swap → Saturday 26/4/2025 morning",
       at(2025, 4, 25, 14, 0), 0.5, false, at(2025, 4, 26, 11, 30)},
      // Whole days across weekends: Fri AM → Fri PM, Mon AM.
      {"1 day, Friday morning → Monday morning", at(2025, 3, 14, 9, 0), 1, false,
       at(2025, 3, 17, 11, 30)},
      {"1 day, Friday afternoon → Monday afternoon", at(2025, 3, 14, 14, 0), 1, false,
       at(2025, 3, 17, 17, 0)},
      // After closing, the dossier enters the next working morning: Mon AM, Mon PM, Tue AM.
      {"1 day, after closing on Friday → Tuesday morning", at(2025, 3, 14, 17, 5), 1, false,
       at(2025, 3, 18, 11, 30)},
      {"3 days, Monday morning → Thursday morning", at(2025, 3, 17, 9, 0), 3, false,
       at(2025, 3, 20, 11, 30)},
      // Across Tết 2026: Thu 12/2 AM; Thu PM, Fri AM, Fri PM, [14–22/2 closed] Mon 23 AM, PM,
      // Tue 24 AM.
      {"3 days across Tết 2026", at(2026, 2, 12, 9, 0), 3, false, at(2026, 2, 24, 11, 30)},
      // Across Tết 2027: Thu 4/2 PM; [5–11/2 closed incl. bù 10, 11] Fri 12 AM, PM, Mon 15 AM, PM.
      {"2 days across Tết 2027", at(2027, 2, 4, 14, 0), 2, false, at(2027, 2, 15, 17, 0)},
      // Hùng Vương 2026: Fri 24/4 AM; Fri PM, [Sat, Sun 26 holiday, Mon 27 bù] Tue 28 AM.
      {"1 day across the 2026 Hùng Vương bù day", at(2026, 4, 24, 9, 0), 1, false,
       at(2026, 4, 28, 11, 30)},
      // 2025 swap: Tue 29/4 AM; Tue PM, [30/4, 1/5, 2/5 off, weekend] Mon 5/5 AM, PM, Tue 6 AM,
      // PM, Wed 7 AM.
      {"3 days across 30/4–1/5 2025 and the swap day", at(2025, 4, 29, 10, 0), 3, false,
       at(2025, 5, 7, 11, 30)},
      // Quốc khánh 2025: Thu 28/8 AM; Thu PM, Fri AM, PM, [30/8–2/9] Wed 3/9 AM, PM, Thu AM, PM,
      // Fri AM, PM, Mon 8/9 AM.
      {"5 days across Quốc khánh 2025", at(2025, 8, 28, 10, 0), 5, false, at(2025, 9, 8, 11, 30)},
      // New Year 2026: Wed 31/12 AM; Wed PM, [1/1, 2/1 swap, weekend] Mon 5 AM, PM, Tue AM, PM,
      // Wed 7 AM.
      {"3 days across New Year 2026 and its swap", at(2025, 12, 31, 10, 0), 3, false,
       at(2026, 1, 7, 11, 30)},
      // The cut-off flag does not move multi-day procedures.
      {"1.5 days, afternoon, cut-off flag ignored", at(2025, 3, 17, 16, 0), 1.5, true,
       at(2025, 3, 19, 11, 30)},
  };
  for (const Case& c : cases) {
    INFO(c.what << " (received " << format_local_date_time(c.received) << ", " << c.days
                << " days)");
    auto due = calendar.appointment(c.received, days(c.days), c.cutoff);
    REQUIRE(due.is_ok());
    CHECK(format_local_date_time(due.value()) == format_local_date_time(c.due));
  }
}

TEST_CASE("other office hours move the session ends", "[node][calendar]") {
  // A Hà Nội-style schedule: 8:00–12:00, 13:00–17:00.
  WorkingHours hanoi;
  hanoi.morning_start_min = 8 * 60;
  hanoi.morning_end_min = 12 * 60;
  hanoi.afternoon_start_min = 13 * 60;
  auto calendar = Calendar::load_file(kDataDir + "/holidays.json", hanoi);
  REQUIRE(calendar.is_ok());
  auto due = calendar.value().appointment(at(2025, 3, 18, 14, 0), days(0.5), false);
  REQUIRE(due.is_ok());
  CHECK(due.value() == at(2025, 3, 19, 12, 0));
  // 11:45 is still the morning in Hà Nội.
  due = calendar.value().appointment(at(2025, 3, 18, 11, 45), days(0.5), false);
  REQUIRE(due.is_ok());
  CHECK(due.value() == at(2025, 3, 18, 17, 0));

  WorkingHours backwards;
  backwards.afternoon_start_min = 10 * 60;  // before the morning ends
  auto rejected = Calendar::load_file(kDataDir + "/holidays.json", backwards);
  REQUIRE_FALSE(rejected.is_ok());
  CHECK(rejected.status().code() == Code::kInvalidArgument);
}

TEST_CASE("early, on time and late are judged by date", "[node][calendar]") {
  struct Case {
    Date appointment;
    Date returned;
    ReturnTiming expected;
  };
  const std::vector<Case> cases = {
      {d(2026, 2, 24), d(2026, 2, 23), ReturnTiming::kEarly},
      {d(2026, 2, 24), d(2026, 2, 24), ReturnTiming::kOnTime},
      {d(2026, 2, 24), d(2026, 2, 25), ReturnTiming::kLate},
      {d(2026, 1, 2), d(2025, 12, 31), ReturnTiming::kEarly},
      {d(2025, 12, 31), d(2026, 1, 2), ReturnTiming::kLate},
      {d(2026, 3, 1), d(2026, 2, 28), ReturnTiming::kEarly},
  };
  for (const Case& c : cases) {
    INFO(format_date(c.appointment) << " vs " << format_date(c.returned));
    CHECK(classify_return(c.appointment, c.returned) == c.expected);
  }
  CHECK(std::string(return_timing_name(ReturnTiming::kOnTime)) == "on_time");

  // Returned at 17:45 on the appointment day is still on time: the count is by date.
  const Calendar& calendar = real_calendar();
  auto due = calendar.appointment(at(2026, 2, 12, 9, 0), days(3), false);
  REQUIRE(due.is_ok());
  const LocalDateTime returned = at(2026, 2, 24, 17, 45);
  CHECK(classify_return(due.value().date, returned.date) == ReturnTiming::kOnTime);
}

TEST_CASE("malformed holidays files are rejected with the file and entry named",
          "[node][calendar]") {
  struct Case {
    const char* what;
    const char* json;
    const char* message_part;
  };
  const std::vector<Case> cases = {
      {"not JSON", R"({"format_version": 1, "years": [)", "not valid JSON"},
      {"top level is an array", R"([1, 2])", "top level must be a JSON object"},
      {"wrong format version", R"({"format_version": 2, "years": []})", "\"format_version\" must be 1"},
      {"no years", R"({"format_version": 1})", "\"years\" must be a non-empty array"},
      {"year not an integer",
       R"({"format_version": 1, "years": [{"year": "2026", "holidays": []}]})",
       "years[0]: \"year\" must be an integer"},
      {"impossible date",
       R"({"format_version": 1, "years": [{"year": 2026, "holidays": [
          {"date": "2026-02-30", "name": "x", "kind": "official"}]}]})",
       "year 2026: holidays[0]: \"2026-02-30\" is not a real date"},
      {"date in another year",
       R"({"format_version": 1, "years": [{"year": 2026, "holidays": [
          {"date": "2026-01-01", "name": "Tết Dương lịch", "kind": "official"},
          {"date": "2027-01-01", "name": "Tết Dương lịch", "kind": "official"}]}]})",
       "year 2026: holidays[1]: date 2027-01-01 is not in year 2026"},
      {"unknown kind",
       R"({"format_version": 1, "years": [{"year": 2026, "holidays": [
          {"date": "2026-01-01", "name": "Tết Dương lịch", "kind": "maybe"}]}]})",
       "holidays[0]: \"kind\" must be \"official\" or \"rule\""},
      {"missing name",
       R"({"format_version": 1, "years": [{"year": 2026, "holidays": [
          {"date": "2026-01-01", "kind": "official"}]}]})",
       "year 2026: holidays[0]: missing \"name\""},
      {"date as a number",
       R"({"format_version": 1, "years": [{"year": 2026, "holidays": [
          {"date": 20260101, "name": "x", "kind": "official"}]}]})",
       "holidays[0]: \"date\" must be a string"},
      {"duplicate date",
       R"({"format_version": 1, "years": [{"year": 2026, "holidays": [
          {"date": "2026-01-01", "name": "a", "kind": "official"},
          {"date": "2026-01-01", "name": "b", "kind": "official"}]}]})",
       "holidays[1]: 2026-01-01 listed twice"},
      {"no holidays in a year",
       R"({"format_version": 1, "years": [{"year": 2026, "holidays": []}]})",
       "year 2026: \"holidays\" is empty"},
      {"swap day that is not a Saturday",
       R"({"format_version": 1, "years": [{"year": 2025, "holidays": [
          {"date": "2025-01-01", "name": "a", "kind": "official"}],
          "working_saturdays": [{"date": "2025-04-25", "name": "b", "kind": "official"}]}]})",
       "working_saturdays[0]: 2025-04-25 is not a Saturday"},
      {"swap Saturday also a holiday",
       R"({"format_version": 1, "years": [{"year": 2025, "holidays": [
          {"date": "2025-04-26", "name": "a", "kind": "official"}],
          "working_saturdays": [{"date": "2025-04-26", "name": "b", "kind": "official"}]}]})",
       "2025-04-26 is also listed as a holiday"},
      {"year listed twice",
       R"({"format_version": 1, "years": [
          {"year": 2026, "holidays": [{"date": "2026-01-01", "name": "a", "kind": "official"}]},
          {"year": 2026, "holidays": [{"date": "2026-01-02", "name": "b", "kind": "official"}]}]})",
       "year 2026: listed twice"},
      {"a gap between years",
       R"({"format_version": 1, "years": [
          {"year": 2025, "holidays": [{"date": "2025-01-01", "name": "a", "kind": "official"}]},
          {"year": 2027, "holidays": [{"date": "2027-01-01", "name": "b", "kind": "official"}]}]})",
       "year 2026 is missing between 2025 and 2027"},
      {"year beyond 64 bits (a publication from another node is untrusted input)",
       R"({"format_version": 1, "years": [{"year": 18446744073709551615, "holidays": [
          {"date": "2026-01-01", "name": "a", "kind": "official"}]}]})",
       "Out of range"},
  };
  for (const Case& c : cases) {
    INFO(c.what);
    auto calendar = Calendar::parse(c.json, "test-holidays.json");
    REQUIRE_FALSE(calendar.is_ok());
    CHECK(calendar.status().code() == Code::kInvalidArgument);
    CHECK_THAT(calendar.status().message(), Catch::Matchers::StartsWith("test-holidays.json: "));
    CHECK_THAT(calendar.status().message(), Catch::Matchers::Contains(c.message_part));
  }

  auto missing = Calendar::load_file("/nonexistent/holidays.json");
  REQUIRE_FALSE(missing.is_ok());
  CHECK(missing.status().code() == Code::kNotFound);
  CHECK_THAT(missing.status().message(), Catch::Matchers::Contains("/nonexistent/holidays.json"));
}

TEST_CASE("a minimal valid holidays file", "[node][calendar]") {
  const char* json = R"({"format_version": 1, "future_field": true, "years": [
      {"year": 2031, "holidays": [{"date": "2031-01-01", "name": "Tết Dương lịch", "kind": "official"}],
       "working_saturdays": [{"date": "2031-01-04", "name": "Làm bù", "kind": "official"}]}]})";
  auto calendar = Calendar::parse(json, "mini.json");
  REQUIRE(calendar.is_ok());
  CHECK(calendar.value().is_working_day(d(2031, 1, 1)).value() == false);  // Wednesday holiday
  CHECK(calendar.value().is_working_day(d(2031, 1, 4)).value() == true);   // swap Saturday
  CHECK(calendar.value().is_working_day(d(2031, 1, 5)).value() == false);  // Sunday
  CHECK(calendar.value().is_working_day(d(2031, 1, 6)).value() == true);
  CHECK_FALSE(calendar.value().is_working_day(d(2030, 12, 31)).is_ok());
}

}  // namespace
}  // namespace wardsync::node
