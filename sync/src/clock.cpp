#include "wardsync/sync/clock.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace wardsync {

std::uint64_t SystemClock::now_ms() {
  using namespace std::chrono;
  return static_cast<std::uint64_t>(
      duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
}

std::string hlc_to_string(Hlc h) {
  std::uint64_t ms = hlc_millis(h);
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ+%u", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<unsigned>(ms % 1000), static_cast<unsigned>(hlc_counter(h)));
  return buf;
}

Hlc HybridClock::tick() {
  std::uint64_t wall = physical_.now_ms() & kHlcMillisMax;
  Hlc candidate = hlc_make(wall, 0);
  // When the wall clock has not moved past our last timestamp (same millisecond,
  // or the clock stepped back), count within the last millisecond instead.
  // The counter carries into the millisecond part, which keeps order total.
  last_ = candidate > last_ ? candidate : last_ + 1;
  return last_;
}

bool HybridClock::too_far_ahead(Hlc remote) const {
  std::uint64_t wall = physical_.now_ms();
  return hlc_millis(remote) > wall + max_forward_skew_ms_;
}

void HybridClock::observe(Hlc remote) {
  if (remote > last_) last_ = remote;
}

}  // namespace wardsync
