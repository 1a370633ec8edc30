// HybridClock: monotonic local timestamps, skew bound, packing.
#include "sync_test_util.hpp"

using namespace wardsync;
using wardsync::test::FakeClock;
using wardsync::test::kT0;
using wardsync::test::kHourMs;

TEST_CASE("hlc packs 48-bit milliseconds and a 16-bit counter", "[sync][clock]") {
  Hlc h = hlc_make(kT0, 7);
  CHECK(hlc_millis(h) == kT0);
  CHECK(hlc_counter(h) == 7);
  CHECK(hlc_make(kT0, 0xffff) < hlc_make(kT0 + 1, 0));
  CHECK(hlc_counter(hlc_make(kT0, 0x1ffff)) == 0xffff);
  CHECK(hlc_to_string(hlc_make(kT0 + 123, 5)) == "2026-01-01T00:00:00.123Z+5");
}

TEST_CASE("tick is strictly increasing also when the wall clock stands still or steps back",
          "[sync][clock]") {
  FakeClock wall(kT0);
  HybridClock clock(wall);
  Hlc a = clock.tick();
  CHECK(a == hlc_make(kT0, 0));
  Hlc b = clock.tick();  // same millisecond: the counter moves
  CHECK(b == hlc_make(kT0, 1));
  wall.set(kT0 - 60000);  // the RTC stepped back a minute
  Hlc c = clock.tick();
  CHECK(c > b);
  CHECK(hlc_millis(c) == kT0);
  wall.set(kT0 + 10);
  Hlc d = clock.tick();
  CHECK(d == hlc_make(kT0 + 10, 0));
  CHECK(clock.last() == d);
}

TEST_CASE("the counter carries into the milliseconds instead of wrapping", "[sync][clock]") {
  FakeClock wall(kT0);
  HybridClock clock(wall);
  Hlc prev = clock.tick();
  for (int i = 0; i < 70000; ++i) {
    Hlc next = clock.tick();
    REQUIRE(next > prev);
    prev = next;
  }
  CHECK(hlc_millis(prev) == kT0 + 1);
}

TEST_CASE("observe folds a remote timestamp in - restore never lowers", "[sync][clock]") {
  FakeClock wall(kT0);
  HybridClock clock(wall);
  Hlc remote = hlc_make(kT0 + 5000, 3);
  clock.observe(remote);
  CHECK(clock.tick() > remote);
  clock.observe(hlc_make(kT0 - 100, 0));  // older: ignored
  CHECK(clock.last() > remote);
  Hlc last = clock.last();
  clock.restore(hlc_make(1, 0));
  CHECK(clock.last() == last);
  clock.restore(hlc_make(kT0 + kHourMs, 0));
  CHECK(clock.tick() > hlc_make(kT0 + kHourMs, 0));
}

TEST_CASE("too_far_ahead: the default bound is 24 hours past local wall time", "[sync][clock]") {
  FakeClock wall(kT0);
  HybridClock clock(wall);
  CHECK(clock.max_forward_skew_ms() == 24 * kHourMs);
  CHECK_FALSE(clock.too_far_ahead(hlc_make(kT0, 0)));
  CHECK_FALSE(clock.too_far_ahead(hlc_make(kT0 + 24 * kHourMs, 0xffff)));
  CHECK(clock.too_far_ahead(hlc_make(kT0 + 24 * kHourMs + 1, 0)));
  wall.advance(1);
  CHECK_FALSE(clock.too_far_ahead(hlc_make(kT0 + 24 * kHourMs + 1, 0)));

  HybridClock tight(wall, 1000);
  CHECK(tight.too_far_ahead(hlc_make(kT0 + 1 + 1001, 0)));
  CHECK_FALSE(tight.too_far_ahead(hlc_make(kT0 + 1 + 1000, 0)));
}
