// Who may write what (Store::set_origin_policy): received streams whose origin
// the policy refuses are verified, then held, not merged and not served on,
// until a retry finds them admitted; and missing_for's `first` scopes, which
// let a receiver learn who vouches for a catch-up before the catch-up.
#include <algorithm>
#include <set>

#include "sync_test_util.hpp"

using namespace wardsync;
using namespace wardsync::test;

TEST_CASE("an origin the policy refuses is verified, held and reported, and merged once it is admitted",
          "[sync][policy]") {
  Node a(1);
  Node b(2);
  Node stranger(3);
  std::set<PublicKey> admitted{a.id.public_key()};
  std::size_t asked_with = 0;
  b->set_origin_policy([&](const PublicKey& origin, const std::string& scope,
                           std::span<const WireChange* const> changes) -> std::optional<std::string> {
    asked_with = std::max(asked_with, changes.size());  // the whole run first, then maybe its beginnings
    if (admitted.count(origin) == 0) return "no certificate";
    if (scope != "ward-1") return "may not write " + scope;
    return std::nullopt;
  });
  const Hash digest0 = b->digest();

  // An admitted origin in its scope merges as always.
  auto own = make_chain(a.id, 3);
  CHECK(b->apply(own).applied == 3);
  const Hash digest1 = b->digest();
  CHECK(digest1 != digest0);

  // A stranger's valid chain is held whole: nothing merged, the reason reported.
  auto chain = make_chain(stranger.id, 4);
  auto r = b->apply(chain);
  INFO(describe(r));
  CHECK(r.applied == 0);
  CHECK(r.held == 4);
  CHECK(r.rejected == 0);
  REQUIRE(count_problems(r, Problem::Kind::kUncertified) == 1);
  CHECK(r.problems.front().detail.find("no certificate") != std::string::npos);
  CHECK(asked_with == 4);  // the verified run, for a certificate that travels in it
  CHECK(b->digest() == digest1);
  CHECK(b->version_vector().count(stream_of(stranger.id)) == 0);
  CHECK_FALSE(b->get("dossiers", parse_header(chain[0]).value().record).has_value());
  CHECK(b->held_uncertified() == std::vector<PublicKey>{stranger.id.public_key()});
  // What it holds is not offered to anyone.
  for (const auto& c : b->missing_for({}, 1000)) CHECK(parse_header(c).value().stream.origin == a.id.public_key());

  // A forged change in its name is refused, not held: the signature is checked first.
  auto forged = make_chain(stranger.id, 5);
  forged[4].signature[0] = static_cast<char>(forged[4].signature[0] ^ 1);
  auto rf = b->apply(std::vector<WireChange>{forged[4]});
  INFO(describe(rf));
  CHECK(rf.rejected == 1);
  CHECK(count_problems(rf, Problem::Kind::kBadSignature) == 1);
  CHECK(b->stats().held == 4);

  // Still refused: a retry changes nothing.
  CHECK(b->retry_held().applied == 0);
  CHECK(b->stats().held == 4);

  // Its certificate arrives: the retry merges the whole run.
  admitted.insert(stranger.id.public_key());
  auto later = b->retry_held();
  INFO(describe(later));
  CHECK(later.applied == 4);
  CHECK(b->stats().held == 0);
  CHECK(b->held_uncertified().empty());
  CHECK(b->version_vector()[stream_of(stranger.id)].seq == 4);
  CHECK(b->get("dossiers", parse_header(chain[3]).value().record).has_value());

  // An admitted origin outside the scopes it may write is held too.
  auto elsewhere = make_chain(a.id, 2, 1, {}, hlc_make(kT0 - kHourMs, 0), "ward-9");
  auto re = b->apply(elsewhere);
  CHECK(re.applied == 0);
  CHECK(re.held == 2);
  CHECK(count_problems(re, Problem::Kind::kUncertified) == 1);
  CHECK(b->version_vector().count(stream_of(a.id, "ward-9")) == 0);
}

TEST_CASE("missing_for sends the streams under `first` before all others", "[sync][policy]") {
  Node a(1);
  Node b(2);
  // Stream keys sort by origin, then scope: "ward-1" before "zz-shared".
  auto data = make_chain(a.id, 5);
  auto certs = make_chain(a.id, 2, 1, {}, hlc_make(kT0 - kHourMs, 0), "zz-shared");
  REQUIRE(b->apply(data).applied == 5);
  REQUIRE(b->apply(certs).applied == 2);
  // (Runs end at a change whose signature was verified: whole batches here.)
  auto plain = b->missing_for({}, 100);
  REQUIRE(plain.size() == 7);
  CHECK(parse_header(plain[0]).value().stream.scope == "ward-1");
  CHECK(parse_header(plain[6]).value().stream.scope == "zz-shared");
  auto first = b->missing_for({}, 100, {}, {"zz-"});
  REQUIRE(first.size() == 7);
  CHECK(parse_header(first[0]).value().stream.scope == "zz-shared");
  CHECK(parse_header(first[1]).value().stream.scope == "zz-shared");
  CHECK(parse_header(first[2]).value().stream.scope == "ward-1");
  // A limit reached within the first streams sends only those.
  auto few = b->missing_for({}, 2, {}, {"zz-"});
  REQUIRE(few.size() == 2);
  CHECK(parse_header(few[1]).value().stream.scope == "zz-shared");
}

namespace {

// A store on disk whose policy admits only the origins in `admitted`, holding
// at most 6 changes in all, reopened as often as a test restarts it.
struct HeldStore {
  TempDir dir;
  const std::string path = dir.file("node.db");
  Identity me = identity(2);
  FakeClock clock;
  std::set<PublicKey> admitted;

  std::unique_ptr<Store> open(std::uint64_t held_max_age_s = StoreOptions{}.held_max_age_s) {
    StoreOptions options;
    options.path = path;
    options.max_held_total = 6;
    options.held_max_age_s = held_max_age_s;
    auto r = Store::open(options, test_schema(), me, clock);
    REQUIRE(r.is_ok());
    std::unique_ptr<Store> s = std::move(r).value();
    s->set_origin_policy([this](const PublicKey& origin, const std::string&,
                                std::span<const WireChange* const>) -> std::optional<std::string> {
      if (admitted.count(origin) == 0) return "no certificate";
      return std::nullopt;
    });
    return s;
  }
};

}  // namespace

TEST_CASE("held changes are bounded in total, across made-up origins, and the count survives a restart",
          "[sync][policy]") {
  HeldStore h;
  auto open = [&] { return h.open(); };
  std::set<PublicKey>& admitted = h.admitted;
  Identity s1 = identity(31), s2 = identity(32), s3 = identity(33);
  {
    auto b = open();
    CHECK(b->apply(make_chain(s1, 4)).held == 4);
    // A second made-up origin: two more fit, then the node refuses to hold more.
    auto r2 = b->apply(make_chain(s2, 4));
    INFO(describe(r2));
    CHECK(r2.held == 2);
    REQUIRE(count_problems(r2, Problem::Kind::kHeldTooMany) == 1);
    CHECK(r2.problems.back().detail.find("held on this node") != std::string::npos);
    CHECK(b->stats().held == 6);
  }
  // After a restart the node still knows how much it holds.
  auto b = open();
  auto r3 = b->apply(make_chain(s3, 4));
  CHECK(r3.held == 0);
  CHECK(count_problems(r3, Problem::Kind::kHeldTooMany) == 1);
  CHECK(b->stats().held == 6);
  // Once the first origin is vouched for, its changes merge and make room.
  admitted.insert(s1.public_key());
  CHECK(b->retry_held().applied == 4);
  CHECK(b->stats().held == 2);
  CHECK(b->apply(make_chain(s3, 4)).held == 4);
  CHECK(b->stats().held == 6);
}

TEST_CASE("held changes older than the held limit are dropped, so junk cannot sit in the bound for good",
          "[sync][policy]") {
  HeldStore h;
  auto open = [&] { return h.open(3600); };
  FakeClock& clock = h.clock;
  std::set<PublicKey>& admitted = h.admitted;
  constexpr std::uint64_t kMinute = 60 * 1000;
  Identity junk = identity(41), later = identity(42);
  {
    auto b = open();
    CHECK(b->apply(make_chain(junk, 4)).held == 4);
    clock.advance(30 * kMinute);
    CHECK(b->apply(make_chain(later, 2)).held == 2);
    CHECK(b->retry_held().expired == 0);  // nothing an hour old yet
    clock.advance(31 * kMinute);
    auto r = b->retry_held();
    CHECK(r.expired == 4);  // the first origin's, 61 minutes old
    CHECK(b->stats().held == 2);
  }
  // The moment each was held survives a restart.
  auto b = open();
  CHECK(b->retry_held().expired == 0);
  clock.advance(30 * kMinute);
  CHECK(b->retry_held().expired == 2);
  CHECK(b->stats().held == 0);
  // Room again: new changes are held, and dropped ones merge when resent and admitted.
  CHECK(b->apply(make_chain(later, 2)).held == 2);
  admitted.insert(junk.public_key());
  CHECK(b->apply(make_chain(junk, 4)).applied == 4);
  CHECK(b->stats().held == 2);
}

TEST_CASE("a policy that admits a run's beginning only: the prefix merges, the rest stays held", "[sync][policy]") {
  TempDir dir;
  Identity me = identity(2), revoked = identity(51);
  FakeClock clock;
  StoreOptions options;
  options.path = dir.file("node.db");
  auto opened = Store::open(options, test_schema(), me, clock);
  REQUIRE(opened.is_ok());
  std::unique_ptr<Store> b = std::move(opened).value();
  // As for a revoked node whose revocation keeps its history through sequence 3.
  int asked = 0;
  b->set_origin_policy([&](const PublicKey&, const std::string&,
                           std::span<const WireChange* const> run) -> std::optional<std::string> {
    ++asked;
    return parse_header(*run.back()).value().seq <= 3 ? std::nullopt : std::optional<std::string>("revoked");
  });
  // One run of 6 (a district serving the revoked box's stream, which it merged
  // a little past what the revocation kept): 1..3 merge, 4..6 wait.
  auto r = b->apply(make_chain(revoked, 6));
  INFO(describe(r));
  CHECK(r.applied == 3);
  CHECK(r.held == 3);
  CHECK(b->version_vector().begin()->second.seq == 3);
  CHECK(asked <= 5);  // the whole run, the first change, then a bisection
  // Retried, the tail is refused again at once (its first change is beyond what is kept).
  asked = 0;
  auto again = b->retry_held();
  CHECK(again.applied == 0);
  CHECK(b->stats().held == 3);
  CHECK(asked == 2);
}
