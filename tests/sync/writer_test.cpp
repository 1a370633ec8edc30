// Writer: the store's single writer thread. Many callers, durable acks, group commit.
#include <stdexcept>
#include <thread>

#include "wardsync/sync/writer.hpp"

#include "sync_test_util.hpp"

using namespace wardsync;
using namespace wardsync::test;

TEST_CASE("many threads commit concurrently: every ack is durable and group commit happens",
          "[sync][writer]") {
  TempDir dir;
  const std::string path = dir.file("node.db");
  Identity id = identity(1);
  FakeClock clock;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 25;
  std::vector<std::vector<RecordId>> ids(kThreads);
  WriterStats stats;
  {
    Writer writer(open_store(path, id, clock, /*durable=*/true));
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        std::vector<std::future<Result<CommitInfo>>> pending;
        for (int i = 0; i < kPerThread; ++i) {
          Transaction txn("clerk-" + std::to_string(t), "ward-1");
          txn.create("dossiers").set("name", "t" + std::to_string(t) + "-" + std::to_string(i)).increment("visits", 1);
          pending.push_back(writer.commit(std::move(txn)));
          if (i % 5 == 4) {  // some callers wait for each ack, others pipeline
            for (auto& f : pending) {
              auto r = f.get();
              if (r.is_ok()) ids[t].push_back(r.value().records.at(0));
            }
            pending.clear();
          }
        }
        for (auto& f : pending) {
          auto r = f.get();
          if (r.is_ok()) ids[t].push_back(r.value().records.at(0));
        }
      });
    }
    for (auto& th : threads) th.join();

    // Every acknowledged write is readable through the writer at once.
    std::size_t found = 0;
    writer.run([&](Store& s) {
      for (const auto& per : ids) {
        for (const auto& rid : per) found += s.get("dossiers", rid).has_value() ? 1 : 0;
      }
      CHECK(s.stats().changes == kThreads * kPerThread);
    }).get();
    CHECK(found == kThreads * kPerThread);
    // Stats are counted just after the acks go out; the run() above is a barrier.
    stats = writer.stats();

    // A refused transaction gets its own error and does not disturb the others.
    Transaction bad("clerk-x", "ward-1");
    bad.create("dossiers").set("nope", "x");
    auto refused = writer.commit(std::move(bad));
    Transaction good("clerk-x", "ward-1");
    good.create("dossiers").set("name", "after");
    auto accepted = writer.commit(std::move(good));
    CHECK_FALSE(refused.get().is_ok());
    CHECK(accepted.get().is_ok());
  }
  for (const auto& per : ids) CHECK(per.size() == kPerThread);
  INFO("transactions " << stats.transactions << ", groups " << stats.groups);
  CHECK(stats.transactions == kThreads * kPerThread);
  CHECK(stats.groups < stats.transactions);
  CHECK(stats.groups >= 1);

  // Durable: a fresh process (here: a fresh store on the file) sees every write,
  // in one gap-free stream.
  auto reopened = open_store(path, id, clock, true);
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kPerThread; ++i) {
      auto rec = reopened->get("dossiers", ids[t][static_cast<std::size_t>(i)]);
      REQUIRE(rec.has_value());
      CHECK(rec->field("visits")->count == 1);
    }
  }
  auto log = reopened->stream_changes(stream_of(id), 0, 10000);
  REQUIRE(log.size() == kThreads * kPerThread + 1);
  for (std::size_t i = 0; i < log.size(); ++i) {
    auto h = parse_header(log[i]);
    REQUIRE(h.is_ok());
    CHECK(h.value().seq == i + 1);
    if (i > 0) CHECK(h.value().prev_hash == change_hash(log[i - 1]));
  }
}

TEST_CASE("writer apply and run go through the writer thread in order", "[sync][writer]") {
  Identity a = identity(1);
  Identity b = identity(2);
  FakeClock clock;
  auto chain = make_chain(a, 5);
  Writer writer(open_store(memory_uri(), b, clock));
  auto first = writer.apply({chain[0], chain[1]});
  auto second = writer.apply({chain[2], chain[3], chain[4]});
  CHECK(first.get().applied == 2);
  CHECK(second.get().applied == 3);
  VersionVector vv;
  writer.run([&](Store& s) { vv = s.version_vector(); }).get();
  CHECK(vv[stream_of(a)].seq == 5);
  // An exception in a task reaches its caller, and the writer keeps going.
  auto failing = writer.run([](Store&) { throw std::runtime_error("boom"); });
  CHECK_THROWS_AS(failing.get(), std::runtime_error);
  Transaction txn("clerk-1", "ward-1");
  txn.create("dossiers").set("name", "still working");
  CHECK(writer.commit(std::move(txn)).get().is_ok());
}

TEST_CASE("writer back-pressure: a full queue answers unavailable and loses nothing acknowledged",
          "[sync][writer]") {
  Identity id = identity(1);
  FakeClock clock;
  Writer writer(open_store(memory_uri(), id, clock), /*max_queue=*/2);
  // Hold the writer thread so the queue fills.
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> entered;
  auto blocker = writer.run([&](Store&) {
    entered.set_value();
    released.wait();
  });
  entered.get_future().wait();
  std::vector<std::future<Result<CommitInfo>>> futures;
  for (int i = 0; i < 4; ++i) {
    Transaction txn("clerk-1", "ward-1");
    txn.create("dossiers").set("name", "n" + std::to_string(i));
    futures.push_back(writer.commit(std::move(txn)));
  }
  release.set_value();
  blocker.get();
  int ok = 0;
  int unavailable = 0;
  std::vector<RecordId> acked;
  for (auto& f : futures) {
    auto r = f.get();
    if (r.is_ok()) {
      ++ok;
      acked.push_back(r.value().records[0]);
    } else {
      CHECK(r.status().code() == Code::kUnavailable);
      ++unavailable;
    }
  }
  CHECK(ok == 2);
  CHECK(unavailable == 2);
  writer.run([&](Store& s) {
    for (const auto& rid : acked) CHECK(s.get("dossiers", rid).has_value());
    CHECK(s.stats().changes == 2);
  }).get();
}

// Deferred indexing: the writer indexes a catch-up's records by itself once it
// is idle, and the index then answers as if they had been indexed at once.
TEST_CASE("the writer indexes deferred records once it is idle", "[sync][writer][index]") {
  TempDir dir;
  Identity ia = identity(1), ib = identity(2);
  FakeClock clock;
  auto source = open_store(dir.file("a.db"), ia, clock, false);
  auto chain = make_chain(ia, 300);
  REQUIRE(source->apply(chain).applied == 300);

  StoreOptions options;
  options.path = dir.file("b.db");
  options.durable = true;
  options.defer_index_min_changes = 100;
  auto opened = Store::open(options, test_schema(), ib, clock);
  REQUIRE(opened.is_ok());
  Writer writer(std::move(opened).value());
  ApplyReport r = writer.apply(chain).get();
  REQUIRE(r.applied == 300);
  // A clerk's commit goes through at once, backlog or not.
  Transaction txn("clerk-1", "ward-1");
  txn.create("dossiers").set("name", "Lan");
  REQUIRE(writer.commit(std::move(txn)).get().is_ok());
  bool done = false;
  for (int i = 0; i < 500 && !done; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    done = !writer.run_get<bool>([](Store& s) { return s.index_backlog(); });
  }
  CHECK(done);
  CHECK(writer.run_get<std::size_t>([](Store& s) { return s.find("dossiers", "name", "value-7", 10).size(); }) == 1);
  CHECK(writer.run_get<std::size_t>([](Store& s) { return s.find("dossiers", "name", "Lan", 10).size(); }) == 1);
}
