// Working-day calendar: date arithmetic, the holidays file, appointment dates.
#include "wardsync/node/calendar.hpp"

#include "data_file.hpp"
#include <Poco/Dynamic/Var.h>
#include <Poco/Exception.h>
#include <Poco/JSON/Array.h>
#include <Poco/JSON/Object.h>

#include <cassert>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>

namespace wardsync::node {

namespace {

constexpr int kHolidaysFormatVersion = 1;
// The file is flat (object → years → entries); a deeper document is not ours.
constexpr std::size_t kJsonDepthMax = 16;
// A year has about 15 closed days; the bound stops a corrupt file from building a huge map.
constexpr std::size_t kEntriesPerYearMax = 100;

bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

int days_in_month(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month == 2 && is_leap_year(year)) return 29;
  return kDays[month - 1];
}

int minute_of_day(const LocalDateTime& when) { return when.hour * 60 + when.minute; }

// Seconds after midnight, so that "after 15:00" is exact: 15:00:00 is not after, 15:00:01 is.
int second_of_day(const LocalDateTime& when) { return minute_of_day(when) * 60 + when.second; }

LocalDateTime at_minute(const Date& date, int minute_of_day_value) {
  return LocalDateTime{date, minute_of_day_value / 60, minute_of_day_value % 60, 0};
}

Status invalid(std::string message) { return {Code::kInvalidArgument, std::move(message)}; }

// Reads a whole file, refusing anything larger than max_bytes before reading it.
// A string member of a JSON object, or an error naming where it was expected.
Result<std::string> get_string(const Poco::JSON::Object& object, const std::string& key,
                               const std::string& where) {
  const Poco::Dynamic::Var value = object.get(key);
  if (value.isEmpty()) return invalid(where + ": missing \"" + key + "\"");
  if (!value.isString()) return invalid(where + ": \"" + key + "\" must be a string");
  return value.extract<std::string>();
}

Result<Date> get_date(const Poco::JSON::Object& object, const std::string& where) {
  auto text = get_string(object, "date", where);
  if (!text.is_ok()) return text.status();
  auto date = parse_date(text.value());
  if (!date.is_ok()) return invalid(where + ": " + date.status().message());
  return date;
}

struct ParsedEntry {
  Date date;
  std::string name;
  std::string kind;
};

Result<ParsedEntry> parse_entry(const Poco::JSON::Object& entry, int year,
                                const std::string& where) {
  auto date = get_date(entry, where);
  if (!date.is_ok()) return date.status();
  if (date.value().year != year) {
    return invalid(where + ": date " + format_date(date.value()) + " is not in year " +
                   std::to_string(year));
  }
  auto name = get_string(entry, "name", where);
  if (!name.is_ok()) return name.status();
  if (name.value().empty()) return invalid(where + ": \"name\" is empty");
  auto kind = get_string(entry, "kind", where);
  if (!kind.is_ok()) return kind.status();
  if (kind.value() != "official" && kind.value() != "rule") {
    return invalid(where + ": \"kind\" must be \"official\" or \"rule\", not \"" + kind.value() +
                   "\"");
  }
  return ParsedEntry{date.value(), std::move(name.value()), std::move(kind.value())};
}

}  // namespace

bool is_valid_date(const Date& date) {
  if (date.year < kYearMin || date.year > kYearMax) return false;
  if (date.month < 1 || date.month > 12) return false;
  return date.day >= 1 && date.day <= days_in_month(date.year, date.month);
}

// Howard Hinnant's days_from_civil: exact for the proleptic Gregorian calendar.
std::int64_t days_from_civil(const Date& date) {
  assert(is_valid_date(date));
  const std::int64_t y = date.month <= 2 ? date.year - 1 : date.year;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t yoe = y - era * 400;
  const std::int64_t m = date.month;
  const std::int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + date.day - 1;
  const std::int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Date civil_from_days(std::int64_t days) {
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t doe = z - era * 146097;
  const std::int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::int64_t mp = (5 * doy + 2) / 153;
  const std::int64_t d = doy - (153 * mp + 2) / 5 + 1;
  const std::int64_t m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = yoe + era * 400 + (m <= 2 ? 1 : 0);
  return Date{static_cast<int>(y), static_cast<int>(m), static_cast<int>(d)};
}

Date add_days(const Date& date, std::int64_t days) {
  return civil_from_days(days_from_civil(date) + days);
}

Weekday weekday(const Date& date) {
  // 1970-01-01 was a Thursday (ISO day 4).
  const std::int64_t days = days_from_civil(date);
  const std::int64_t iso = ((days % 7) + 7 + 3) % 7 + 1;
  return static_cast<Weekday>(iso);
}

Result<Date> parse_date(std::string_view text) {
  const auto bad = [&] {
    return invalid("\"" + std::string(text) + "\" is not a date in the form YYYY-MM-DD");
  };
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad();
  const auto number = [&](std::size_t at, std::size_t length, int& out) {
    out = 0;
    for (std::size_t i = at; i < at + length; ++i) {
      if (text[i] < '0' || text[i] > '9') return false;
      out = out * 10 + (text[i] - '0');
    }
    return true;
  };
  Date date;
  if (!number(0, 4, date.year) || !number(5, 2, date.month) || !number(8, 2, date.day)) {
    return bad();
  }
  if (!is_valid_date(date)) {
    return invalid("\"" + std::string(text) + "\" is not a real date between " +
                   std::to_string(kYearMin) + " and " + std::to_string(kYearMax));
  }
  return date;
}

std::string format_date(const Date& date) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d", date.year, date.month, date.day);
  return buffer;
}

bool is_valid_local_date_time(const LocalDateTime& when) {
  return is_valid_date(when.date) && when.hour >= 0 && when.hour <= 23 && when.minute >= 0 &&
         when.minute <= 59 && when.second >= 0 && when.second <= 59;
}

LocalDateTime local_from_unix_seconds(std::int64_t unix_seconds) {
  const std::int64_t local = unix_seconds + kVietnamUtcOffsetSeconds;
  // Floor division, so moments before 1970 land on the right day.
  std::int64_t days = local / 86400;
  std::int64_t rest = local % 86400;
  if (rest < 0) {
    rest += 86400;
    days -= 1;
  }
  const int seconds = static_cast<int>(rest);
  return LocalDateTime{civil_from_days(days), seconds / 3600, (seconds / 60) % 60, seconds % 60};
}

std::int64_t unix_seconds_from_local(const LocalDateTime& when) {
  assert(is_valid_local_date_time(when));
  return days_from_civil(when.date) * 86400 + second_of_day(when) - kVietnamUtcOffsetSeconds;
}

std::string format_local_date_time(const LocalDateTime& when) {
  char buffer[48];
  std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02d %02d:%02d", when.date.year,
                when.date.month, when.date.day, when.hour, when.minute);
  return buffer;
}

Result<ProcessingTime> ProcessingTime::from_days(double days) {
  if (!std::isfinite(days) || days < 0 || days * 2 > kHalfDaysMax) {
    return invalid("processing time must be between 0 and " + std::to_string(kHalfDaysMax / 2) +
                   " working days");
  }
  const double half_days = days * 2;
  if (half_days != std::floor(half_days)) {
    return invalid("processing time " + std::to_string(days) +
                   " is not a whole number of half days");
  }
  return ProcessingTime{static_cast<int>(half_days)};
}

Status validate_working_hours(const WorkingHours& hours) {
  const bool ordered = 0 <= hours.morning_start_min &&
                       hours.morning_start_min < hours.morning_end_min &&
                       hours.morning_end_min <= hours.afternoon_start_min &&
                       hours.afternoon_start_min < hours.afternoon_end_min &&
                       hours.afternoon_end_min <= 24 * 60;
  if (!ordered) return invalid("working hours must be ordered: morning start < morning end <= "
                               "afternoon start < afternoon end, within one day");
  if (hours.same_day_cutoff_min < hours.morning_start_min ||
      hours.same_day_cutoff_min > hours.afternoon_end_min) {
    return invalid("the same-day cut-off must fall within office hours");
  }
  return Status::ok();
}

ReturnTiming classify_return(const Date& appointment, const Date& returned) {
  if (returned < appointment) return ReturnTiming::kEarly;
  if (returned == appointment) return ReturnTiming::kOnTime;
  return ReturnTiming::kLate;
}

const char* return_timing_name(ReturnTiming timing) {
  switch (timing) {
    case ReturnTiming::kEarly:
      return "early";
    case ReturnTiming::kOnTime:
      return "on_time";
    case ReturnTiming::kLate:
      return "late";
  }
  return "unknown";
}

Result<Calendar> Calendar::load_file(const std::filesystem::path& path, const WorkingHours& hours) {
  auto text = read_small_file(path, kFileBytesMax);
  if (!text.is_ok()) return text.status();
  return parse(text.value(), path.string(), hours);
}

Result<Calendar> Calendar::parse(std::string_view json_text, std::string_view source_name,
                                 const WorkingHours& hours) {
  const std::string source(source_name);
  try {
    return parse_json(json_text, source, hours);
  } catch (const Poco::Exception& e) {
    return Status{Code::kInvalidArgument, source + ": " + e.displayText()};
  } catch (const std::exception& e) {
    return Status{Code::kInvalidArgument, source + ": " + e.what()};
  }
}

Result<Calendar> Calendar::parse_json(std::string_view json_text, const std::string& source,
                                      const WorkingHours& hours) {
  if (Status status = validate_working_hours(hours); !status.is_ok()) return status;
  auto file = parse_versioned_json(json_text, source, "holidays file", kFileBytesMax, kJsonDepthMax,
                                     kHolidaysFormatVersion);
  if (!file.is_ok()) return file.status();
  const Poco::JSON::Object::Ptr top = file.value();
  const Poco::JSON::Array::Ptr years = top->getArray("years");
  if (years.isNull() || years->size() == 0) {
    return invalid(source + ": \"years\" must be a non-empty array");
  }

  Calendar calendar;
  calendar.hours_ = hours;
  std::set<int> seen_years;
  for (std::size_t i = 0; i < years->size(); ++i) {
    const std::string year_where = source + ": years[" + std::to_string(i) + "]";
    const Poco::JSON::Object::Ptr year_object = years->getObject(static_cast<unsigned>(i));
    if (year_object.isNull()) return invalid(year_where + ": must be an object");
    const Poco::Dynamic::Var year_value = year_object->get("year");
    if (!year_value.isInteger()) return invalid(year_where + ": \"year\" must be an integer");
    const auto year_number = year_value.convert<std::int64_t>();
    if (year_number < kYearMin || year_number > kYearMax) {
      return invalid(year_where + ": \"year\" " + std::to_string(year_number) + " is out of range");
    }
    const int year = static_cast<int>(year_number);
    const std::string where = source + ": year " + std::to_string(year);
    if (!seen_years.insert(year).second) return invalid(where + ": listed twice");

    const Poco::JSON::Array::Ptr holidays = year_object->getArray("holidays");
    if (holidays.isNull()) return invalid(where + ": \"holidays\" must be an array");
    // A year with no holidays at all cannot be right (1 January is always one).
    if (holidays->size() == 0) return invalid(where + ": \"holidays\" is empty");
    if (holidays->size() > kEntriesPerYearMax) return invalid(where + ": too many holidays");
    for (std::size_t j = 0; j < holidays->size(); ++j) {
      const std::string entry_where = where + ": holidays[" + std::to_string(j) + "]";
      const Poco::JSON::Object::Ptr entry = holidays->getObject(static_cast<unsigned>(j));
      if (entry.isNull()) return invalid(entry_where + ": must be an object");
      auto parsed = parse_entry(*entry, year, entry_where);
      if (!parsed.is_ok()) return parsed.status();
      const std::int64_t key = days_from_civil(parsed.value().date);
      const bool inserted =
          calendar.holidays_
              .emplace(key, Holiday{parsed.value().date, std::move(parsed.value().name),
                                    std::move(parsed.value().kind)})
              .second;
      if (!inserted) {
        return invalid(entry_where + ": " + format_date(parsed.value().date) + " listed twice");
      }
    }

    // Optional: most years have no swap.
    if (year_object->has("working_saturdays")) {
      const Poco::JSON::Array::Ptr saturdays = year_object->getArray("working_saturdays");
      if (saturdays.isNull()) return invalid(where + ": \"working_saturdays\" must be an array");
      if (saturdays->size() > kEntriesPerYearMax) return invalid(where + ": too many swap days");
      for (std::size_t j = 0; j < saturdays->size(); ++j) {
        const std::string entry_where = where + ": working_saturdays[" + std::to_string(j) + "]";
        const Poco::JSON::Object::Ptr entry = saturdays->getObject(static_cast<unsigned>(j));
        if (entry.isNull()) return invalid(entry_where + ": must be an object");
        auto parsed = parse_entry(*entry, year, entry_where);
        if (!parsed.is_ok()) return parsed.status();
        const Date date = parsed.value().date;
        if (weekday(date) != Weekday::kSaturday) {
          return invalid(entry_where + ": " + format_date(date) + " is not a Saturday");
        }
        const std::int64_t key = days_from_civil(date);
        if (calendar.holidays_.count(key) != 0) {
          return invalid(entry_where + ": " + format_date(date) + " is also listed as a holiday");
        }
        if (!calendar.working_weekend_days_.insert(key).second) {
          return invalid(entry_where + ": " + format_date(date) + " listed twice");
        }
      }
    }
  }

  // Coverage must be one unbroken run of years: a gap would make covers() lie.
  calendar.first_year_ = *seen_years.begin();
  calendar.last_year_ = *seen_years.rbegin();
  const auto span = static_cast<std::size_t>(calendar.last_year_ - calendar.first_year_ + 1);
  if (span != seen_years.size()) {
    for (int year = calendar.first_year_; year <= calendar.last_year_; ++year) {
      if (seen_years.count(year) == 0) {
        return invalid(source + ": year " + std::to_string(year) + " is missing between " +
                       std::to_string(calendar.first_year_) + " and " +
                       std::to_string(calendar.last_year_));
      }
    }
  }
  return calendar;
}

bool Calendar::covers(const Date& date) const {
  return is_valid_date(date) && date.year >= first_year_ && date.year <= last_year_;
}

Result<bool> Calendar::is_working_day(const Date& date) const {
  if (!is_valid_date(date)) return invalid(format_date(date) + " is not a valid date");
  if (!covers(date)) {
    return Status(Code::kNotFound, "the holiday calendar covers " + std::to_string(first_year_) +
                                       "–" + std::to_string(last_year_) + ", not " +
                                       format_date(date));
  }
  const std::int64_t key = days_from_civil(date);
  if (holidays_.count(key) != 0) return false;
  if (working_weekend_days_.count(key) != 0) return true;
  const Weekday day = weekday(date);
  return day != Weekday::kSaturday && day != Weekday::kSunday;
}

Result<Date> Calendar::next_working_day(const Date& date) const {
  if (!is_valid_date(date)) return invalid(format_date(date) + " is not a valid date");
  Date next = date;
  // Terminates: each step moves one day forward and is_working_day fails past last_year_.
  while (true) {
    next = add_days(next, 1);
    auto working = is_working_day(next);
    if (!working.is_ok()) return working.status();
    if (working.value()) return next;
  }
}

const Holiday* Calendar::holiday(const Date& date) const {
  if (!is_valid_date(date)) return nullptr;
  const auto it = holidays_.find(days_from_civil(date));
  return it == holidays_.end() ? nullptr : &it->second;
}

Result<LocalDateTime> Calendar::appointment(const LocalDateTime& received,
                                            ProcessingTime processing,
                                            bool same_day_cutoff) const {
  if (!is_valid_local_date_time(received)) {
    return invalid("received time " + format_local_date_time(received) + " is not valid");
  }
  if (processing.half_days < 0 || processing.half_days > ProcessingTime::kHalfDaysMax) {
    return invalid("processing time out of range");
  }
  auto open = is_working_day(received.date);
  if (!open.is_ok()) return open.status();
  const int at_second = second_of_day(received);
  const bool after_hours = at_second >= hours_.afternoon_end_min * 60;

  if (processing.half_days == 0) {
    Date day = received.date;
    const bool past_cutoff = same_day_cutoff && at_second > hours_.same_day_cutoff_min * 60;
    if (!open.value() || after_hours || past_cutoff) {
      auto next = next_working_day(received.date);
      if (!next.is_ok()) return next.status();
      day = next.value();
    }
    return at_minute(day, hours_.afternoon_end_min);
  }

  // The session the dossier enters: a half-day slot, (date, afternoon?).
  Date day = received.date;
  bool afternoon = false;
  if (!open.value() || after_hours) {
    auto next = next_working_day(received.date);
    if (!next.is_ok()) return next.status();
    day = next.value();
  } else {
    // Received during the lunch break: the next session to work on it is the afternoon.
    afternoon = at_second >= hours_.morning_end_min * 60;
  }
  for (int step = 0; step < processing.half_days; ++step) {
    if (!afternoon) {
      afternoon = true;
    } else {
      auto next = next_working_day(day);
      if (!next.is_ok()) return next.status();
      day = next.value();
      afternoon = false;
    }
  }
  return at_minute(day, afternoon ? hours_.afternoon_end_min : hours_.morning_end_min);
}

}  // namespace wardsync::node
