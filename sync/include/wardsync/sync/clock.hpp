// Hybrid logical clock (HLC): 48-bit milliseconds since the Unix epoch and a
// 16-bit counter, packed into one uint64 so that timestamps compare as integers.
//
// The physical time source is injected (SystemClock in the node, a drifting
// simulated clock in tests/sim); merge code never reads a clock, it only compares
// timestamps it is given.
//
// Thread safety: HybridClock is not thread-safe; the store's writer thread owns it.
#pragma once

#include <cstdint>
#include <string>

namespace wardsync {

using Hlc = std::uint64_t;

constexpr int kHlcCounterBits = 16;
constexpr std::uint64_t kHlcCounterMask = (1u << kHlcCounterBits) - 1;
constexpr std::uint64_t kHlcMillisMax = (std::uint64_t{1} << 48) - 1;
constexpr std::uint64_t kDefaultMaxForwardSkewMs = 24ull * 3600 * 1000;

constexpr Hlc hlc_make(std::uint64_t millis, std::uint64_t counter) {
  return (millis << kHlcCounterBits) | (counter & kHlcCounterMask);
}
constexpr std::uint64_t hlc_millis(Hlc h) { return h >> kHlcCounterBits; }
constexpr std::uint64_t hlc_counter(Hlc h) { return h & kHlcCounterMask; }
std::string hlc_to_string(Hlc h);  // "2026-11-22T21:23:22.123Z+5"

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::uint64_t now_ms() = 0;  // milliseconds since the Unix epoch
};

class SystemClock final : public Clock {
 public:
  std::uint64_t now_ms() override;
};

class HybridClock {
 public:
  HybridClock(Clock& physical, std::uint64_t max_forward_skew_ms = kDefaultMaxForwardSkewMs)
      : physical_(physical), max_forward_skew_ms_(max_forward_skew_ms) {}

  // A timestamp for a local event: strictly greater than every timestamp this
  // clock has issued or observed, even when the wall clock steps backwards.
  Hlc tick();

  // True when `remote` is further ahead of local wall time than the skew bound:
  // such a timestamp must be quarantined, never observed or allowed to win merges.
  bool too_far_ahead(Hlc remote) const;

  // Folds a remote timestamp into the clock (call only when !too_far_ahead).
  void observe(Hlc remote);

  // Restores the last issued timestamp after a restart so the clock never reissues.
  void restore(Hlc last) { if (last > last_) last_ = last; }

  Hlc last() const { return last_; }
  std::uint64_t max_forward_skew_ms() const { return max_forward_skew_ms_; }

 private:
  Clock& physical_;
  std::uint64_t max_forward_skew_ms_;
  Hlc last_ = 0;
};

}  // namespace wardsync
