// FairGate: at most `slots` holders, the rest served in arrival order.
#include <catch2/catch.hpp>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "http/fair_gate.hpp"

using wardsync::node::http::FairGate;
using namespace std::chrono_literals;

TEST_CASE("fair gate: slots bound the holders and waiters go through in arrival order", "[node][gate]") {
  FairGate gate(2);
  auto a = gate.enter();
  auto b = gate.enter();
  std::mutex mu;
  std::vector<int> order;
  std::atomic<int> inside{2};
  std::atomic<int> most{2};
  std::vector<std::thread> waiters;
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      auto pass = gate.enter();
      int now = ++inside;
      int seen = most.load();
      while (now > seen && !most.compare_exchange_weak(seen, now)) {
      }
      {
        std::lock_guard<std::mutex> lock(mu);
        order.push_back(i);
      }
      std::this_thread::sleep_for(5ms);
      --inside;
    });
    while (gate.waiting() != static_cast<std::size_t>(i) + 1) std::this_thread::sleep_for(1ms);  // in line, in order
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    CHECK(order.empty());  // both slots held: everyone waits
  }
  // One slot comes free (b stays held): the waiters pass through it one at a time,
  // in the order they came.
  --inside;
  a.leave();
  a.leave();  // leaving twice gives back one slot only
  for (auto& t : waiters) t.join();
  --inside;
  b = FairGate::Pass();  // moving an empty pass in leaves b's slot
  CHECK(order == std::vector<int>{0, 1, 2, 3});
  CHECK(most.load() <= 2);
  // Every slot came back.
  auto c = gate.enter();
  auto d = gate.enter();
  CHECK(inside.load() == 0);
}

// Many threads through a small gate, no sleeping: a wake lost between a waiter
// queuing and the slot's hand-over would hang the run; a slot handed to two
// would show as more holders than slots.
TEST_CASE("fair gate: many threads passing quickly never exceed the slots and never hang", "[node][gate]") {
  FairGate gate(2);
  std::atomic<int> inside{0};
  std::atomic<int> most{0};
  std::atomic<long> passes{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 3000; ++i) {
        auto pass = gate.enter();
        int now = ++inside;
        int seen = most.load();
        while (now > seen && !most.compare_exchange_weak(seen, now)) {
        }
        ++passes;
        --inside;
      }
    });
  }
  for (auto& t : threads) t.join();
  CHECK(passes.load() == 8 * 3000);
  CHECK(most.load() <= 2);
  CHECK(gate.waiting() == 0);
  auto a = gate.enter();  // both slots came back
  auto b = gate.enter();
  CHECK(inside.load() == 0);
}
