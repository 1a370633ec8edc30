// Verification of received changes (store.cpp apply / apply_stream), checked
// against DESIGN.md "Changes, streams, clocks, signatures": the chain, the run's
// last signature, order, duplicates, gaps, forks, clock skew, malformed input.
// Refused input must leave the store's state and digest untouched.
#include <functional>
#include <set>
#include <thread>

#include "wardsync.pb.h"
#include "sync_test_util.hpp"

using namespace wardsync;
using namespace wardsync::test;

namespace {

// Changes one character of the lww value inside the body; the signature is kept.
WireChange tamper(WireChange c) {
  auto pos = c.body.find("value-");
  REQUIRE(pos != std::string::npos);
  c.body[pos + 1] = 'A';
  return c;
}

std::uint64_t seq_of(const WireChange& c) {
  auto h = parse_header(c);
  REQUIRE(h.is_ok());
  return h.value().seq;
}

RecordId record_of(const WireChange& c) {
  auto h = parse_header(c);
  REQUIRE(h.is_ok());
  return h.value().record;
}

WireChange sign_body(const Identity& signer, const pb::ChangeBody& body) {
  WireChange w;
  REQUIRE(body.SerializeToString(&w.body));
  Signature sig = signer.sign(bytes_of(w.body));
  w.signature.assign(reinterpret_cast<const char*>(sig.data()), sig.size());
  return w;
}

pb::ChangeBody valid_body(const Identity& origin) {
  pb::ChangeBody b;
  b.set_origin(key_bytes(origin.public_key()));
  b.set_scope("ward-1");
  b.set_seq(1);
  b.set_hlc(hlc_make(kT0 - 1000, 0));
  b.set_collection("dossiers");
  RecordId id = RecordId::make(b.hlc(), origin.public_key());
  b.set_record_id(std::string(reinterpret_cast<const char*>(id.bytes.data()), 16));
  b.set_author("clerk-1");
  auto* op = b.add_ops();
  op->set_field("name");
  op->set_type(pb::LWW);
  op->set_kind(pb::OP_SET);
  op->set_value("x");
  return b;
}

// A reference store that applied `changes` in order with no trouble.
Hash reference_digest(const std::vector<WireChange>& changes) {
  Node ref(200);
  auto r = ref->apply(changes);
  REQUIRE(r.rejected == 0);
  return ref->digest();
}

struct Snapshot {
  Hash digest;
  VersionVector vv;
  StoreStats stats;
};
Snapshot snapshot(const Store& s) { return {s.digest(), s.version_vector(), s.stats()}; }
void check_unchanged(const Store& s, const Snapshot& before) {
  CHECK(s.digest() == before.digest);
  CHECK(s.version_vector() == before.vv);
  CHECK(s.stats().changes == before.stats.changes);
  CHECK(s.stats().records == before.stats.records);
  CHECK(s.stats().quarantined_origins == before.stats.quarantined_origins);
}

}  // namespace

TEST_CASE("a tampered change (one byte of the body signature kept) is rejected", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 1);
  WireChange bad = tamper(chain[0]);
  REQUIRE(parse_header(bad).is_ok());  // still a well-formed body
  const Snapshot before = snapshot(*b);
  for (VerifyMode mode : {VerifyMode::kChain, VerifyMode::kEverySignature}) {
    auto r = b->apply(std::vector<WireChange>{bad}, mode);
    INFO(describe(r));
    CHECK(r.applied == 0);
    CHECK(r.rejected == 1);
    CHECK(count_problems(r, Problem::Kind::kBadSignature) == 1);
    check_unchanged(*b, before);
    CHECK_FALSE(b->has_change(bad));
    CHECK_FALSE(b->get("dossiers", record_of(bad)).has_value());
  }
  // The genuine change still applies afterwards.
  auto ok = b->apply(chain);
  CHECK(ok.applied == 1);
  CHECK(b->has_change(chain[0]));
}

TEST_CASE("a tampered last change of a run is never applied and the stream stays verifiable",
          "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 3);
  std::vector<WireChange> batch = {chain[0], chain[1], tamper(chain[2])};
  auto r = b->apply(batch);
  INFO(describe(r));
  CHECK(count_problems(r, Problem::Kind::kBadSignature) == 1);
  CHECK_FALSE(b->has_change(batch[2]));
  CHECK_FALSE(b->get("dossiers", record_of(chain[2])).has_value());
  CHECK(r.applied + r.rejected == 3);
  // Whatever B kept, it can serve as a run a third node verifies.
  Node c(3);
  auto relayed = sync_into(*b, *c);
  CHECK(relayed.rejected == 0);
  CHECK(c->digest() == b->digest());
  // The genuine change completes the stream.
  (void)b->apply(chain);
  CHECK(b->version_vector()[stream_of(a.id)].seq == 3);
  CHECK(b->digest() == reference_digest(chain));
}

TEST_CASE("a forged change (claims origin A signed by B) is rejected", "[sync][verify]") {
  Node a(1);
  Node victim(3);
  Identity forger = identity(2);
  auto chain = make_chain(a.id, 2);
  WireChange forged = chain[1];
  pb::ChangeBody body;
  REQUIRE(body.ParseFromString(forged.body));
  body.mutable_ops(0)->set_value("forged name");
  forged = sign_body(forger, body);
  REQUIRE(victim->apply(std::vector<WireChange>{chain[0]}).applied == 1);
  const Snapshot before = snapshot(*victim);
  for (VerifyMode mode : {VerifyMode::kChain, VerifyMode::kEverySignature}) {
    auto r = victim->apply(std::vector<WireChange>{forged}, mode);
    INFO(describe(r));
    CHECK(r.applied == 0);
    CHECK(r.rejected == 1);
    CHECK(count_problems(r, Problem::Kind::kBadSignature) == 1);
    CHECK(count_problems(r, Problem::Kind::kFork) == 0);
    check_unchanged(*victim, before);
  }
  CHECK(victim->quarantined().empty());
  CHECK(victim->apply(std::vector<WireChange>{chain[1]}).applied == 1);
}

TEST_CASE("a run of 10 with one bad byte in change 5: 1-4 applied 5 onward refused and reported",
          "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 10);
  std::vector<WireChange> batch = chain;
  batch[4] = tamper(chain[4]);
  auto r = b->apply(batch);
  INFO(describe(r));
  CHECK(r.applied == 4);
  CHECK(r.rejected == 6);
  CHECK(r.held == 0);
  REQUIRE_FALSE(r.problems.empty());
  bool names_the_break = false;
  for (const auto& p : r.problems) {
    CHECK(p.stream == stream_of(a.id));
    if (p.seq == 5 || p.seq == 6) names_the_break = true;
  }
  CHECK(names_the_break);
  auto vv = b->version_vector();
  CHECK(vv[stream_of(a.id)].seq == 4);
  CHECK(vv[stream_of(a.id)].head == change_hash(chain[3]));
  for (int i = 0; i < 10; ++i) {
    CHECK(b->get("dossiers", record_of(chain[i])).has_value() == (i < 4));
  }
  CHECK(b->stats().changes == 4);
  CHECK(b->stats().held == 0);
  CHECK(b->digest() == reference_digest(std::vector<WireChange>(chain.begin(), chain.begin() + 4)));

  // The genuine rest arrives later and applies.
  auto rest = b->apply(std::vector<WireChange>(chain.begin() + 4, chain.end()));
  CHECK(rest.applied == 6);
  CHECK(b->digest() == reference_digest(chain));
}

TEST_CASE("kEverySignature: a bad signature in the middle stops the run there", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 10);
  std::vector<WireChange> batch = chain;
  batch[4].signature[0] = static_cast<char>(batch[4].signature[0] ^ 1);
  auto r = b->apply(batch, VerifyMode::kEverySignature);
  INFO(describe(r));
  CHECK(r.applied == 4);
  CHECK(r.rejected == 6);
  CHECK(count_problems(r, Problem::Kind::kBadSignature) == 1);
  CHECK(b->version_vector()[stream_of(a.id)].seq == 4);
}

TEST_CASE("a shuffled batch is applied whole in sequence order", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 10);
  std::vector<WireChange> batch = chain;
  SplitMix64 rng(7);
  rng.shuffle(batch);
  REQUIRE(batch != chain);
  std::vector<std::uint64_t> order;
  b->subscribe([&](const std::vector<AppliedChange>& applied) {
    for (const auto& c : applied) order.push_back(c.seq);
  });
  auto r = b->apply(batch);
  INFO(describe(r));
  CHECK(r.applied == 10);
  CHECK(r.rejected == 0);
  CHECK(r.held == 0);
  CHECK(r.problems.empty());
  CHECK(order == std::vector<std::uint64_t>{1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  auto log = b->stream_changes(stream_of(a.id), 0, 100);
  CHECK(log == chain);
  CHECK(b->digest() == reference_digest(chain));
}

TEST_CASE("duplicates are dropped idempotently and counted", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 10);
  REQUIRE(b->apply(chain).applied == 10);
  const Snapshot before = snapshot(*b);
  auto r = b->apply(chain);
  INFO(describe(r));
  CHECK(r.applied == 0);
  CHECK(r.duplicates == 10);
  CHECK(r.rejected == 0);
  CHECK(r.problems.empty());
  check_unchanged(*b, before);

  // Duplicates inside one batch, too.
  Node c(3);
  std::vector<WireChange> doubled = chain;
  doubled.insert(doubled.end(), chain.begin(), chain.end());
  auto r2 = c->apply(doubled);
  INFO(describe(r2));
  CHECK(r2.applied == 10);
  CHECK(r2.duplicates == 10);
  CHECK(c->digest() == before.digest);
}

TEST_CASE("a gapped batch: the contiguous part applies the rest waits for the gap", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 10);
  std::vector<WireChange> batch = {chain[0], chain[1], chain[2], chain[5], chain[6], chain[7]};
  auto r = b->apply(batch);
  INFO(describe(r));
  CHECK(r.applied == 3);
  CHECK(r.held == 3);
  CHECK(r.rejected == 0);
  CHECK(b->stats().held == 3);
  CHECK(b->version_vector()[stream_of(a.id)].seq == 3);
  CHECK_FALSE(b->get("dossiers", record_of(chain[5])).has_value());
  CHECK(b->digest() == reference_digest(std::vector<WireChange>(chain.begin(), chain.begin() + 3)));
  // Only verified, contiguous changes are served onward.
  CHECK(b->missing_for({}, 100).size() == 3);

  auto fill = b->apply(std::vector<WireChange>{chain[4], chain[3]});
  INFO(describe(fill));
  CHECK(fill.applied == 5);  // 4, 5 and the released 6-8
  CHECK(fill.held == 0);
  CHECK(b->stats().held == 0);
  CHECK(b->version_vector()[stream_of(a.id)].seq == 8);
  CHECK(b->digest() == reference_digest(std::vector<WireChange>(chain.begin(), chain.begin() + 8)));

  auto tail = b->apply(std::vector<WireChange>{chain[8], chain[9]});
  CHECK(tail.applied == 2);
  CHECK(b->digest() == reference_digest(chain));
}

TEST_CASE("a held batch sent again is counted once", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 8);
  std::vector<WireChange> gapped = {chain[5], chain[6], chain[7]};
  REQUIRE(b->apply(gapped).held == 3);
  auto again = b->apply(gapped);
  INFO(describe(again));
  CHECK(again.applied == 0);
  CHECK(again.rejected == 0);
  CHECK(again.held + again.duplicates == 3);
  CHECK(b->stats().held == 3);
}

TEST_CASE("fork: two validly signed bodies at one (stream seq) quarantine the origin", "[sync][verify]") {
  Node a(1);
  Node b(2);
  RecordId local = [&] {
    Transaction t("clerk-1", "ward-1");
    t.create("dossiers").set("name", "B's own");
    auto r = b->commit(t);
    REQUIRE(r.is_ok());
    return r.value().records[0];
  }();
  auto chain = make_chain(a.id, 5);
  // A second history from seq 3 on, equally signed by A.
  auto other = make_chain(a.id, 1, 3, change_hash(chain[1]), hlc_make(kT0 - 500, 0));
  REQUIRE(seq_of(other[0]) == 3);
  REQUIRE(other[0].body != chain[2].body);

  SECTION("the second body arrives after the first was applied") {
    REQUIRE(b->apply(chain).applied == 5);
    auto r = b->apply(other);
    INFO(describe(r));
    CHECK(r.applied == 0);
    CHECK(r.rejected >= 1);
    CHECK(count_problems(r, Problem::Kind::kFork) == 1);
  }
  SECTION("both bodies arrive in one batch") {
    std::vector<WireChange> batch = chain;
    batch.push_back(other[0]);
    auto r = b->apply(batch);
    INFO(describe(r));
    CHECK(count_problems(r, Problem::Kind::kFork) == 1);
  }

  // The origin is quarantined with the proof; its changes leave the records.
  auto q = b->quarantined();
  REQUIRE(q.size() == 1);
  CHECK(q[0].origin == a.id.public_key());
  REQUIRE(q[0].proof.size() == 2);
  std::set<std::string> proof_bodies = {q[0].proof[0].body, q[0].proof[1].body};
  CHECK(proof_bodies == std::set<std::string>{chain[2].body, other[0].body});
  CHECK(b->stats().quarantined_origins == 1);
  for (const auto& c : chain) CHECK_FALSE(b->get("dossiers", record_of(c)).has_value());
  CHECK_FALSE(b->get("dossiers", record_of(other[0])).has_value());
  CHECK(b->get("dossiers", local).has_value());  // B's own data untouched
  CHECK(b->version_vector().count(stream_of(a.id)) == 0);
  CHECK(b->stats().records == 1);

  // Anything further from A is refused, and said so.
  const Snapshot before = snapshot(*b);
  auto later = make_chain(a.id, 1, 6, change_hash(chain[4]), hlc_make(kT0 - 100, 0));
  auto r = b->apply(later);
  INFO(describe(r));
  CHECK(r.applied == 0);
  CHECK(r.rejected == 1);
  CHECK(count_problems(r, Problem::Kind::kQuarantined) == 1);
  auto other_scope = make_chain(a.id, 1, 1, {}, hlc_make(kT0 - 100, 0), "ward-2");
  CHECK(b->apply(other_scope).applied == 0);
  check_unchanged(*b, before);

  // The proof travels: a third node learns of the fork from B alone (B sends
  // quarantined()'s proofs once per session; missing_for does not repeat them).
  Node c(3);
  REQUIRE(c->apply(chain).applied == 5);
  auto from_b = b->missing_for(c->version_vector(), 1000);
  for (auto& proof : b->quarantined()) from_b.insert(from_b.end(), proof.proof.begin(), proof.proof.end());
  auto rc = c->apply(from_b);
  INFO(describe(rc));
  CHECK(c->quarantined().size() == 1);
  CHECK_FALSE(c->get("dossiers", record_of(chain[0])).has_value());
}

TEST_CASE("missing_for shows a peer our body where its head differs so it finds the fork", "[sync][verify]") {
  Node a(1);
  Node b(2);
  Node c(3);
  auto chain = make_chain(a.id, 1);
  auto other = make_chain(a.id, 1, 1, {}, hlc_make(kT0 - 777, 0));
  REQUIRE(b->apply(chain).applied == 1);
  REQUIRE(c->apply(other).applied == 1);
  auto r = c->apply(b->missing_for(c->version_vector(), 100));
  INFO(describe(r));
  CHECK(count_problems(r, Problem::Kind::kFork) == 1);
  CHECK(c->quarantined().size() == 1);
}

TEST_CASE("a hostile relay's forged fork does not quarantine the honest origin", "[sync][verify]") {
  Node a(1);
  Node b(2);
  Identity relay = identity(9);
  auto chain = make_chain(a.id, 4);
  pb::ChangeBody body;
  REQUIRE(body.ParseFromString(chain[1].body));
  body.mutable_ops(0)->set_value("relay's version");
  WireChange with_relay_sig = sign_body(relay, body);
  WireChange with_stolen_sig = with_relay_sig;
  with_stolen_sig.signature = chain[1].signature;  // A's real signature, other bytes

  SECTION("after the honest change was applied") {
    REQUIRE(b->apply(std::vector<WireChange>{chain[0], chain[1], chain[2]}).applied == 3);
    const Snapshot before = snapshot(*b);
    for (const auto& forged : {with_relay_sig, with_stolen_sig}) {
      auto r = b->apply(std::vector<WireChange>{forged});
      INFO(describe(r));
      CHECK(r.rejected == 1);
      CHECK(count_problems(r, Problem::Kind::kFork) == 0);
      CHECK(count_problems(r, Problem::Kind::kBadSignature) == 1);
      check_unchanged(*b, before);
    }
  }
  SECTION("forged body first, honest one in the same batch") {
    auto r = b->apply(std::vector<WireChange>{chain[0], with_stolen_sig, chain[1], chain[2]});
    INFO(describe(r));
    CHECK(r.applied == 3);
    CHECK(count_problems(r, Problem::Kind::kFork) == 0);
  }
  SECTION("forged body alone, before the honest one") {
    REQUIRE(b->apply(std::vector<WireChange>{chain[0]}).applied == 1);
    auto r = b->apply(std::vector<WireChange>{with_stolen_sig});
    CHECK(r.applied == 0);
    CHECK(count_problems(r, Problem::Kind::kFork) == 0);
    CHECK(b->apply(std::vector<WireChange>{chain[1], chain[2]}).applied == 2);
  }
  SECTION("forged body held beyond a gap, then the honest run arrives") {
    REQUIRE(b->apply(std::vector<WireChange>{chain[0]}).applied == 1);
    WireChange forged3 = chain[2];
    pb::ChangeBody b3;
    REQUIRE(b3.ParseFromString(chain[2].body));
    b3.mutable_ops(0)->set_value("relay's third");
    forged3 = sign_body(relay, b3);
    b->apply(std::vector<WireChange>{forged3});
    auto r = b->apply(std::vector<WireChange>{chain[1], chain[2]});
    INFO(describe(r));
    CHECK(count_problems(r, Problem::Kind::kFork) == 0);
    CHECK(b->version_vector()[stream_of(a.id)].seq == 3);
    CHECK(b->has_change(chain[2]));
  }
  CHECK(b->quarantined().empty());
  CHECK(b->stats().quarantined_origins == 0);
  (void)b->apply(chain);
  CHECK(b->version_vector()[stream_of(a.id)].seq == 4);
  CHECK(b->digest() == reference_digest(chain));
}

TEST_CASE("clock skew: a change more than 24 h ahead is held not merged until the clock catches up",
          "[sync][verify]") {
  Node a(1);
  Node b(2);
  const Hlc future = hlc_make(kT0 + 25 * kHourMs, 0);
  auto chain = make_chain(a.id, 2, 1, {}, future);
  const Snapshot before = snapshot(*b);
  auto r = b->apply(chain);
  INFO(describe(r));
  CHECK(r.applied == 0);
  CHECK(r.held == 2);
  CHECK(r.rejected == 0);
  REQUIRE(count_problems(r, Problem::Kind::kClockSkew) >= 1);
  check_unchanged(*b, before);
  CHECK(b->stats().held == 2);
  CHECK_FALSE(b->get("dossiers", record_of(chain[0])).has_value());

  // The far-future timestamp did not leak into B's clock.
  Transaction t("clerk-1", "ward-1");
  t.create("dossiers").set("name", "local");
  auto c = b->commit(t);
  REQUIRE(c.is_ok());
  CHECK(hlc_millis(b->get("dossiers", c.value().records[0])->created) == kT0);

  // Still too far ahead: retry holds it.
  b.clock.advance(30 * 60 * 1000);
  auto early = b->retry_held();
  CHECK(early.applied == 0);
  CHECK(b->stats().held == 2);

  b.clock.advance(2 * kHourMs);
  auto later = b->retry_held();
  INFO(describe(later));
  CHECK(later.applied == 2);
  CHECK(b->stats().held == 0);
  CHECK(b->get("dossiers", record_of(chain[1])).has_value());
  CHECK(b->version_vector()[stream_of(a.id)].seq == 2);
}

TEST_CASE("clock skew within the bound is applied at once", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 1, 1, {}, hlc_make(kT0 + 23 * kHourMs, 0));
  auto r = b->apply(chain);
  CHECK(r.applied == 1);
  CHECK(count_problems(r, Problem::Kind::kClockSkew) == 0);
}

TEST_CASE("malformed input is rejected as malformed never a crash", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 2);
  REQUIRE(b->apply(std::vector<WireChange>{chain[0]}).applied == 1);
  const Snapshot before = snapshot(*b);
  std::vector<std::pair<std::string, WireChange>> cases;
  cases.push_back({"garbage bytes", WireChange{std::string("\xff\xff\xff\xff\x0f garbage", 13), chain[1].signature}});
  cases.push_back({"empty body", WireChange{"", chain[1].signature}});
  cases.push_back({"oversize body", WireChange{std::string(kMaxChangeBodyBytes + 1, 'x'), chain[1].signature}});
  cases.push_back({"signature 63 bytes", WireChange{chain[1].body, chain[1].signature.substr(0, 63)}});
  cases.push_back({"signature 65 bytes", WireChange{chain[1].body, chain[1].signature + "x"}});
  cases.push_back({"no signature", WireChange{chain[1].body, ""}});
  cases.push_back({"truncated body", WireChange{chain[1].body.substr(0, chain[1].body.size() / 2), chain[1].signature}});
  auto signed_variant = [&](const std::string& name, const std::function<void(pb::ChangeBody&)>& mutate) {
    pb::ChangeBody body = valid_body(a.id);
    body.set_seq(2);
    Hash prev = change_hash(chain[0]);
    body.set_prev_hash(std::string(reinterpret_cast<const char*>(prev.data()), prev.size()));
    mutate(body);
    cases.push_back({name, sign_body(a.id, body)});
  };
  signed_variant("sequence 0", [](pb::ChangeBody& x) { x.set_seq(0); });
  signed_variant("origin 31 bytes", [](pb::ChangeBody& x) { x.set_origin(x.origin().substr(0, 31)); });
  signed_variant("record id 15 bytes", [](pb::ChangeBody& x) { x.set_record_id(x.record_id().substr(0, 15)); });
  signed_variant("prev hash 31 bytes", [](pb::ChangeBody& x) { x.set_prev_hash(x.prev_hash().substr(0, 31)); });
  signed_variant("empty scope", [](pb::ChangeBody& x) { x.set_scope(""); });
  signed_variant("zero timestamp", [](pb::ChangeBody& x) { x.set_hlc(0); });
  signed_variant("no operations", [](pb::ChangeBody& x) { x.clear_ops(); });
  signed_variant("unknown merge type", [](pb::ChangeBody& x) { x.mutable_ops(0)->set_type(static_cast<pb::MergeType>(42)); });
  signed_variant("op kind does not fit the type", [](pb::ChangeBody& x) { x.mutable_ops(0)->set_kind(pb::OP_APPEND); });
  signed_variant("empty field name", [](pb::ChangeBody& x) { x.mutable_ops(0)->set_field(""); });
  signed_variant("collection name too long", [](pb::ChangeBody& x) { x.set_collection(std::string(kMaxNameBytes + 1, 'c')); });
  signed_variant("too many ops", [](pb::ChangeBody& x) {
    for (std::size_t i = 0; i < kMaxOpsPerChange; ++i) *x.add_ops() = x.ops(0);
  });

  for (const auto& [name, change] : cases) {
    INFO(name);
    auto r = b->apply(std::vector<WireChange>{change});
    INFO(describe(r));
    CHECK(r.applied == 0);
    CHECK(r.rejected == 1);
    REQUIRE(r.problems.size() == 1);
    CHECK(r.problems[0].kind == Problem::Kind::kMalformed);
    check_unchanged(*b, before);
    CHECK_FALSE(parse_header(change).is_ok());
  }
  // The whole lot in one batch, with the good change among them.
  std::vector<WireChange> batch;
  for (const auto& [name, change] : cases) batch.push_back(change);
  batch.push_back(chain[1]);
  auto r = b->apply(batch);
  INFO(describe(r));
  CHECK(r.applied == 1);
  CHECK(r.rejected == cases.size());
}

TEST_CASE("randomly corrupted changes are never applied", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 3);
  REQUIRE(b->apply(std::vector<WireChange>{chain[0], chain[1]}).applied == 2);
  const Snapshot before = snapshot(*b);
  SplitMix64 rng(2026);
  for (int i = 0; i < 300; ++i) {
    WireChange c = chain[2];
    std::string& target = rng.chance(80) ? c.body : c.signature;
    switch (rng.below(3)) {
      case 0: {  // flip one bit
        std::size_t at = rng.below(target.size());
        target[at] = static_cast<char>(target[at] ^ (1 << rng.below(8)));
        break;
      }
      case 1:  // truncate
        target.resize(rng.below(target.size()));
        break;
      default:  // insert a random byte
        target.insert(target.begin() + static_cast<std::ptrdiff_t>(rng.below(target.size() + 1)),
                      static_cast<char>(rng.below(256)));
        break;
    }
    if (c == chain[2]) continue;
    auto r = b->apply(std::vector<WireChange>{c});
    INFO("iteration " << i << ": " << describe(r));
    REQUIRE(r.applied == 0);
    REQUIRE(count_problems(r, Problem::Kind::kFork) == 0);
  }
  check_unchanged(*b, before);
  CHECK(b->quarantined().empty());
  CHECK(b->apply(std::vector<WireChange>{chain[2]}).applied == 1);
}

TEST_CASE("served runs end at a change whose signature the server verified", "[sync][verify]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 10);
  REQUIRE(b->apply(chain).applied == 10);  // one run: only change 10 was signature-checked
  auto served = b->missing_for({}, 3);
  REQUIRE_FALSE(served.empty());
  CHECK(served.back() == chain[9]);
  Node c(3);
  auto r = c->apply(served);
  CHECK(r.applied == 10);
  CHECK(c->digest() == b->digest());
}

TEST_CASE("sign_draft and parse_header agree", "[sync][verify]") {
  Identity id = identity(4);
  ChangeDraft d;
  d.scope = "ward-7";
  d.seq = 3;
  d.hlc = hlc_make(kT0, 9);
  d.prev_hash.fill(0xab);
  d.collection = "tickets";
  d.record = RecordId::make(d.hlc, id.public_key());
  d.author = "kiosk";
  d.lww = {{"note", "x"}};
  WireChange w = sign_draft(id, d);
  auto h = parse_header(w);
  REQUIRE(h.is_ok());
  CHECK(h.value().stream == StreamKey{id.public_key(), "ward-7"});
  CHECK(h.value().seq == 3);
  CHECK(h.value().hlc == d.hlc);
  CHECK(h.value().prev_hash == d.prev_hash);
  CHECK(h.value().collection == "tickets");
  CHECK(h.value().record == d.record);
}

TEST_CASE("quarantine and held changes survive a restart", "[sync][verify]") {
  TempDir dir;
  const std::string path = dir.file("b.db");
  Node a(1);
  Node evil(5);
  Node b(2, path, true);
  auto chain = make_chain(a.id, 6);
  auto fork1 = make_chain(evil.id, 1);
  auto fork2 = make_chain(evil.id, 1, 1, {}, hlc_make(kT0 - 4242, 0));
  REQUIRE(b->apply(std::vector<WireChange>{chain[0], chain[1], chain[4], chain[5], fork1[0]}).applied == 3);
  auto r = b->apply(fork2);
  REQUIRE(count_problems(r, Problem::Kind::kFork) == 1);
  const Hash digest = b->digest();

  b.store.reset();
  b.store = open_store(path, b.id, b.clock, true);
  CHECK(b->digest() == digest);
  CHECK(b->quarantined().size() == 1);
  CHECK(b->stats().held == 2);
  auto again = b->apply(make_chain(evil.id, 1, 2, change_hash(fork1[0]), hlc_make(kT0 - 100, 0)));
  CHECK(again.applied == 0);
  CHECK(count_problems(again, Problem::Kind::kQuarantined) == 1);
  auto fill = b->apply(std::vector<WireChange>{chain[2], chain[3]});
  INFO(describe(fill));
  CHECK(fill.applied == 4);
  CHECK(b->version_vector()[stream_of(a.id)].seq == 6);
  CHECK(b->stats().held == 0);
  CHECK(b->digest() == reference_digest(chain));
}

// The pipeline's halves (Store::prepare on another thread, then
// Store::apply(PreparedBatch&) on the store's) decide exactly as apply(kChain):
// same counts, same problems, same state, for clean, tampered, forged, gapped,
// shuffled and malformed batches.
TEST_CASE("a batch prepared on another thread is applied exactly as apply(kChain) applies it",
          "[sync][verify][prepared]") {
  Node a(1);
  auto chain = make_chain(a.id, 12);
  std::vector<std::pair<std::string, std::vector<WireChange>>> cases;
  cases.emplace_back("clean", chain);
  {
    auto v = chain;
    v[4] = tamper(v[4]);
    cases.emplace_back("a tampered change in the middle", v);
  }
  {
    auto v = chain;
    v[11] = tamper(v[11]);
    cases.emplace_back("the last change tampered", v);
  }
  {
    auto v = chain;
    v[11].signature[0] = static_cast<char>(v[11].signature[0] ^ 1);
    cases.emplace_back("the last signature altered", v);
  }
  {
    auto v = chain;
    std::swap(v[0], v[7]);
    v.erase(v.begin() + 3);
    cases.emplace_back("shuffled with a gap", v);
  }
  {
    auto v = chain;
    v.push_back(WireChange{"not a body", std::string(64, 'x')});
    v.push_back(chain[2]);  // a duplicate
    cases.emplace_back("malformed and duplicate", v);
  }
  {
    Identity forger = identity(9);
    auto v = chain;
    pb::ChangeBody body;
    REQUIRE(body.ParseFromString(v[11].body));
    v[11] = sign_body(forger, body);  // claims A, signed by another key
    cases.emplace_back("a forged last change", v);
  }
  for (const auto& [name, batch] : cases) {
    INFO(name);
    Node direct(2);
    Node piped(3);
    ApplyReport want = direct->apply(batch);
    std::unique_ptr<PreparedBatch> prepared;
    std::thread worker([&, b = batch] { prepared = Store::prepare(b); });
    worker.join();
    REQUIRE(prepared != nullptr);
    CHECK(prepared->size() == batch.size());
    ApplyReport got = piped->apply(*prepared);
    CHECK(describe(got) == describe(want));
    CHECK(piped->digest() == direct->digest());
    CHECK(piped->version_vector()[stream_of(a.id)].seq == direct->version_vector()[stream_of(a.id)].seq);
    CHECK(piped->stats().changes == direct->stats().changes);
    CHECK(piped->stats().held == direct->stats().held);
    // Spent: applying it again applies nothing.
    CHECK(piped->apply(*prepared).applied == 0);
  }
}

TEST_CASE("prepared batches applied in order: after a refused change nothing of the later batch is applied",
          "[sync][verify][prepared]") {
  Node a(1);
  Node b(2);
  auto chain = make_chain(a.id, 20);
  std::vector<WireChange> first(chain.begin(), chain.begin() + 10);
  first[4] = tamper(first[4]);
  // Both prepared before either is applied, as in the receive pipeline.
  auto p1 = Store::prepare(first);
  auto p2 = Store::prepare(std::vector<WireChange>(chain.begin() + 10, chain.end()));
  CHECK(p2->heads().at(stream_of(a.id)).seq == 20);
  ApplyReport r1 = b->apply(*p1);
  INFO(describe(r1));
  CHECK(r1.applied == 4);
  CHECK(r1.rejected == 6);
  ApplyReport r2 = b->apply(*p2);
  INFO(describe(r2));
  CHECK(r2.applied == 0);
  CHECK(r2.held == 10);  // beyond the gap: waiting, not merged
  CHECK(b->version_vector()[stream_of(a.id)].seq == 4);
  CHECK(b->stats().changes == 4);
  for (int i = 4; i < 20; ++i) CHECK_FALSE(b->get("dossiers", record_of(chain[i])).has_value());
  // The genuine changes close the gap; the held ones follow.
  auto p3 = Store::prepare(std::vector<WireChange>(chain.begin() + 4, chain.begin() + 10));
  CHECK(b->apply(*p3).applied == 16);
  CHECK(b->digest() == reference_digest(chain));
}
