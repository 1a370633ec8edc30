// PendingFilings: self-filings awaiting their confirmation code, bounded per
// kiosk address and in all, so a flood from a few addresses never pushes out
// the filing a citizen is about to confirm.
#include <catch2/catch.hpp>

#include <string>

#include "kiosk_state.hpp"

using wardsync::node::PendingFiling;
using wardsync::node::PendingFilings;

namespace {

// Each filing a millisecond after the one before: the order is by time, never
// by equal stamps falling back to the ids' order.
PendingFiling filing(const std::string& id, const std::string& client) {
  static auto at = std::chrono::steady_clock::now();
  at += std::chrono::milliseconds(1);
  PendingFiling f;
  f.id = id;
  f.client = client;
  f.at = at;
  return f;
}

}  // namespace

TEST_CASE("pending filings: a few addresses flooding push out only their own", "[node][kiosk]") {
  PendingFilings pending;
  pending.put(filing("victim", "192.168.1.20"));
  // One address: at most kPerClient kept, its oldest go first.
  for (int i = 0; i < 50; ++i) pending.put(filing("a" + std::to_string(i), "192.168.1.66"));
  CHECK_FALSE(pending.get("a45").has_value());
  for (int i = 46; i < 50; ++i) CHECK(pending.get("a" + std::to_string(i)).has_value());
  // 80 addresses with 4 each fill the total (256): each new one evicts from the fullest.
  for (int c = 0; c < 80; ++c)
    for (std::size_t i = 0; i < PendingFilings::kPerClient; ++i)
      pending.put(filing("c" + std::to_string(c) + "-" + std::to_string(i), "10.0.0." + std::to_string(c)));
  CHECK(pending.get("victim").has_value());
  CHECK(pending.get("c79-3").has_value());  // the newest of the flood kept too
}
