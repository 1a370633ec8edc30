// Shared fixtures of the sync/ unit tests: a seeded PRNG, a fake clock,
// deterministic identities, a temporary directory, the test schema and small
// helpers to build and replicate changes.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <unistd.h>

#include "wardsync/sync/clock.hpp"
#include "wardsync/sync/identity.hpp"
#include "wardsync/sync/schema.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync::test {

// splitmix64: tiny, seedable, the same sequence everywhere.
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
  bool chance(unsigned percent) { return below(100) < percent; }
  template <typename T>
  void shuffle(std::vector<T>& v) {
    for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[below(i)]);
  }

 private:
  std::uint64_t state_;
};

// 2026-01-01T00:00:00Z: a fixed "now" for every test.
constexpr std::uint64_t kT0 = 1767225600000ull;
constexpr std::uint64_t kHourMs = 3600ull * 1000;

class FakeClock final : public Clock {
 public:
  explicit FakeClock(std::uint64_t ms = kT0) : ms_(ms) {}
  std::uint64_t now_ms() override { return ms_.load(); }
  void set(std::uint64_t ms) { ms_.store(ms); }
  void advance(std::uint64_t ms) { ms_.fetch_add(ms); }

 private:
  std::atomic<std::uint64_t> ms_;
};

inline Identity identity(std::uint8_t n) {
  std::array<std::uint8_t, kSeedBytes> seed{};
  seed.fill(n);
  return Identity::from_seed(seed);
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "wardsync-test-XXXXXX").string();
    REQUIRE(::mkdtemp(tmpl.data()) != nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// A fresh in-memory database shared by name (durability is not the point).
inline std::string memory_uri() {
  static std::atomic<int> counter{0};
  return "file:wardsync-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter++) +
         "?mode=memory&cache=shared";
}

inline const Schema& test_schema() {
  static const Schema schema = [] {
    Schema s(1);
    Status st = s.add(CollectionSpec{"dossiers",
                                     {
                                         {"name", MergeType::kLww, true},
                                         {"address", MergeType::kLww, false},
                                         {"status", MergeType::kRank, true},
                                         {"tags", MergeType::kSet, true},
                                         {"history", MergeType::kLog, false},
                                         {"visits", MergeType::kCounter, false},
                                         {"code", MergeType::kOnce, true},
                                     }});
    if (!st.is_ok()) std::abort();
    st = s.add(CollectionSpec{"tickets", {{"number", MergeType::kOnce, true}, {"note", MergeType::kLww, false}}});
    if (!st.is_ok()) std::abort();
    return s;
  }();
  return schema;
}

inline std::unique_ptr<Store> open_store(const std::string& path, const Identity& id, Clock& clock,
                                         bool durable = false) {
  StoreOptions options;
  options.path = path;
  options.durable = durable;
  auto r = Store::open(options, test_schema(), id, clock);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// One replica: identity, clock and store, destroyed in the right order.
struct Node {
  explicit Node(std::uint8_t seed, std::uint64_t now = kT0) : id(identity(seed)), clock(now) {
    store = open_store(memory_uri(), id, clock);
  }
  Node(std::uint8_t seed, const std::string& path, bool durable, std::uint64_t now = kT0)
      : id(identity(seed)), clock(now) {
    store = open_store(path, id, clock, durable);
  }
  Identity id;
  FakeClock clock;
  std::unique_ptr<Store> store;
  Store& operator*() { return *store; }
  Store* operator->() { return store.get(); }
};

inline ApplyReport sync_into(const Store& from, Store& to) {
  auto changes = from.missing_for(to.version_vector(), 1000000);
  return to.apply(changes);
}

inline Bytes bytes_of(const std::string& s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline std::string key_bytes(const PublicKey& k) { return {reinterpret_cast<const char*>(k.data()), k.size()}; }

// A valid chain seq first..first+n-1 of (origin, scope), each change creating its
// own record with lww name "value-<seq>". `prev` is change_hash() of change first-1.
inline std::vector<WireChange> make_chain(const Identity& origin, std::size_t n, std::uint64_t first = 1,
                                          Hash prev = {}, Hlc hlc0 = hlc_make(kT0 - kHourMs, 0),
                                          const std::string& scope = "ward-1") {
  std::vector<WireChange> out;
  for (std::size_t i = 0; i < n; ++i) {
    ChangeDraft d;
    d.scope = scope;
    d.seq = first + i;
    d.hlc = hlc0 + d.seq;
    d.prev_hash = prev;
    d.collection = "dossiers";
    d.record = RecordId::make(d.hlc, origin.public_key());
    d.author = "clerk-1";
    d.lww = {{"name", "value-" + std::to_string(d.seq)}};
    out.push_back(sign_draft(origin, d));
    prev = change_hash(out.back());
  }
  return out;
}

inline StreamKey stream_of(const Identity& id, const std::string& scope = "ward-1") {
  return StreamKey{id.public_key(), scope};
}

inline std::size_t count_problems(const ApplyReport& r, Problem::Kind kind) {
  return static_cast<std::size_t>(
      std::count_if(r.problems.begin(), r.problems.end(), [&](const Problem& p) { return p.kind == kind; }));
}

inline std::string describe(const ApplyReport& r) {
  std::string s = "applied=" + std::to_string(r.applied) + " duplicates=" + std::to_string(r.duplicates) +
                  " held=" + std::to_string(r.held) + " rejected=" + std::to_string(r.rejected) + " problems:";
  for (const auto& p : r.problems) {
    s += " [" + std::string(problem_kind_name(p.kind)) + " seq " + std::to_string(p.seq) + ": " + p.detail + "]";
  }
  return s;
}

}  // namespace wardsync::test
