// The working-day calendar of a ward office: which days the one-stop desk is open,
// and when a dossier received at a given moment is due back (the appointment printed
// on the receipt, "hẹn trả kết quả").
//
// Time: every date and time here is Vietnam's local wall clock, UTC+7. Vietnam has had
// no daylight saving time since 1975, so the offset is a constant, not a zone database.
// Nothing here reads a clock: callers pass the received moment in, so the rules are
// testable and a box with a wrong clock cannot corrupt them silently.
//
// Holidays come from a data file (node/data/holidays.json, later synced from the city):
// the official notice of each year wins over any rule, and a date outside the years the
// file covers is an error, never silently treated as a working day.
//
// Thread safety: Calendar is immutable after loading; const methods may be called from
// any number of threads. The free functions are pure.
#pragma once

#include <compare>
#include <cstdint>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "wardsync/sync/status.hpp"

namespace wardsync::node {

// A calendar date (proleptic Gregorian). Plain value: no time zone, no time of day.
struct Date {
  int year = 0;
  int month = 0;  // 1..12
  int day = 0;    // 1..31
  friend auto operator<=>(const Date&, const Date&) = default;
};

// Years the date arithmetic accepts. A ward dossier outside this range is a typo.
inline constexpr int kYearMin = 1900;
inline constexpr int kYearMax = 2199;

bool is_valid_date(const Date& date);
// Days since 1970-01-01 (negative before). REQUIRES: is_valid_date(date).
std::int64_t days_from_civil(const Date& date);
Date civil_from_days(std::int64_t days);
Date add_days(const Date& date, std::int64_t days);

enum class Weekday { kMonday = 1, kTuesday, kWednesday, kThursday, kFriday, kSaturday, kSunday };
Weekday weekday(const Date& date);

// Strict "YYYY-MM-DD"; anything else (or an impossible date) is kInvalidArgument.
[[nodiscard]] Result<Date> parse_date(std::string_view text);
std::string format_date(const Date& date);  // "YYYY-MM-DD"

// A moment on Vietnam's wall clock (UTC+7).
struct LocalDateTime {
  Date date;
  int hour = 0;    // 0..23
  int minute = 0;  // 0..59
  int second = 0;  // 0..59
  friend auto operator<=>(const LocalDateTime&, const LocalDateTime&) = default;
};

inline constexpr std::int64_t kVietnamUtcOffsetSeconds = 7 * 3600;

bool is_valid_local_date_time(const LocalDateTime& when);
// Converts a Unix time (seconds since 1970-01-01T00:00:00Z) to Vietnam's wall clock.
LocalDateTime local_from_unix_seconds(std::int64_t unix_seconds);
// REQUIRES: is_valid_local_date_time(when).
std::int64_t unix_seconds_from_local(const LocalDateTime& when);
std::string format_local_date_time(const LocalDateTime& when);  // "YYYY-MM-DD HH:MM"

// A legal processing time ("thời hạn giải quyết") in working days, counted in half
// days because half-day procedures exist. 0 means "ngay trong ngày" (same day).
struct ProcessingTime {
  int half_days = 0;

  // Longest processing time accepted: no ward procedure takes a year, and the bound
  // keeps the appointment loop finite.
  static constexpr int kHalfDaysMax = 2 * 365;

  // Accepts 0, 0.5, 1, 1.5, ... up to 365 days; rejects negatives, NaN and other fractions.
  [[nodiscard]] static Result<ProcessingTime> from_days(double days);
  double days() const { return half_days / 2.0; }
  friend auto operator<=>(const ProcessingTime&, const ProcessingTime&) = default;
};

// Office hours, in minutes after midnight. The defaults are the common schedule of
// ward offices in Ho Chi Minh City and many provinces (7:30–11:30, 13:30–17:00); the
// law fixes only the 8-hour day, so an office with other hours (Hà Nội wards often
// work 8:00–12:00, 13:00–17:00) passes its own.
struct WorkingHours {
  int morning_start_min = 7 * 60 + 30;
  int morning_end_min = 11 * 60 + 30;
  int afternoon_start_min = 13 * 60 + 30;
  int afternoon_end_min = 17 * 60;
  // Luật Hộ tịch Art 5(3) and NĐ 23/2015 Art 7: a same-day request received after
  // 15:00 may be finished on the next working day.
  int same_day_cutoff_min = 15 * 60;
};

// Whether the hours are ordered (morning before afternoon, cut-off inside the day).
[[nodiscard]] Status validate_working_hours(const WorkingHours& hours);

// How a return compares with the appointment. "On time" is judged by date, as the
// reports count it: a result handed over on the appointment day, at any hour, is on
// time; a day before is early; a day after is late.
enum class ReturnTiming { kEarly, kOnTime, kLate };
ReturnTiming classify_return(const Date& appointment, const Date& returned);
const char* return_timing_name(ReturnTiming timing);  // "early", "on_time", "late"

// One closed day from the data file.
struct Holiday {
  Date date;
  std::string name;  // Vietnamese, e.g. "Quốc khánh (2/9)"
  std::string kind;  // "official" (law or the year's notice) or "rule" (computed)
};

class Calendar {
 public:
  // Largest holidays file accepted; the real one is about 20 KB. Checked before parsing.
  static constexpr std::uintmax_t kFileBytesMax = 1024 * 1024;

  // Loads and validates a holidays file. Errors name the file and the offending entry:
  // kNotFound (missing file), kIo, kInvalidArgument (bad JSON or a bad entry).
  [[nodiscard]] static Result<Calendar> load_file(const std::filesystem::path& path,
                                                  const WorkingHours& hours = {});
  // Same, from text already in memory; source_name is used in error messages.
  [[nodiscard]] static Result<Calendar> parse(std::string_view json_text,
                                              std::string_view source_name,
                                              const WorkingHours& hours = {});

  int first_year() const { return first_year_; }
  int last_year() const { return last_year_; }
  bool covers(const Date& date) const;
  const WorkingHours& working_hours() const { return hours_; }

  // Monday–Friday that is not a holiday, or a Saturday worked in a swap (làm bù).
  // kNotFound if the file has no data for the date's year; kInvalidArgument if invalid.
  [[nodiscard]] Result<bool> is_working_day(const Date& date) const;
  // The first working day strictly after date.
  [[nodiscard]] Result<Date> next_working_day(const Date& date) const;
  // The holiday on date, or nullptr. The pointer lives as long as the Calendar.
  const Holiday* holiday(const Date& date) const;

  // When a dossier received at `received` is due. The office day has two sessions;
  // the result is the end of the session in which the work is due:
  //  - same day (0): the end of the working day it was received (17:00). Received on a
  //    closed day or after office hours: the next working day. With same_day_cutoff,
  //    received after 15:00: the next working day.
  //  - otherwise the dossier enters the current session (before 07:30 counts as the
  //    morning, the lunch break as the afternoon; after 17:00 or on a closed day, the
  //    next working morning) and is due that many half-day sessions later: 0.5 day
  //    received in the morning is due the same afternoon (17:00), received in the
  //    afternoon the next working morning (11:30); 3 days received on a Monday morning
  //    are due on Thursday at 11:30.
  // same_day_cutoff matters only for same-day procedures: the laws that state the
  // 15:00 rule state it for requests handled within the day.
  [[nodiscard]] Result<LocalDateTime> appointment(const LocalDateTime& received,
                                                  ProcessingTime processing,
                                                  bool same_day_cutoff) const;

 private:
  // parse() without its guard against exceptions from Poco's conversions.
  static Result<Calendar> parse_json(std::string_view json_text, const std::string& source,
                                     const WorkingHours& hours);
  Calendar() = default;

  WorkingHours hours_;
  int first_year_ = 0;
  int last_year_ = 0;
  std::map<std::int64_t, Holiday> holidays_;         // keyed by days_from_civil
  std::set<std::int64_t> working_weekend_days_;      // swap Saturdays
};

}  // namespace wardsync::node
