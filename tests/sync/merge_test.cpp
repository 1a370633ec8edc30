// Merge rules (merge_internal.hpp): the six merge types as a join of record
// states. Property tests check that join is a semilattice on random deltas
// (commutative, associative, idempotent, order of arrival irrelevant, as bytes);
// example tests check the semantics DESIGN.md gives each rule.
#include <functional>
#include <map>
#include <set>

#include "merge_internal.hpp"
#include "sync_test_util.hpp"

using namespace wardsync;
using wardsync::test::SplitMix64;

namespace {

std::string bytes(const pb::RecordState& s) {
  std::string out;
  REQUIRE(s.SerializeToString(&out));
  return out;
}

pb::RecordState joined(pb::RecordState a, const pb::RecordState& b) {
  merge::join(a, b);
  return a;
}

std::string origin_bytes(int n) { return std::string(kPublicKeyBytes, static_cast<char>(n)); }
PublicKey origin_key(int n) {
  PublicKey k;
  k.fill(static_cast<std::uint8_t>(n));
  return k;
}

pb::RecordState delta(const pb::ChangeBody& body) {
  std::string wire;
  REQUIRE(body.SerializeToString(&wire));
  return merge::delta_of(body, hash_bytes(wardsync::test::bytes_of(wire)));
}

Hash hash_of(const pb::ChangeBody& body) {
  std::string wire;
  REQUIRE(body.SerializeToString(&wire));
  return hash_bytes(wardsync::test::bytes_of(wire));
}

pb::ChangeBody body(int origin, Hlc hlc) {
  pb::ChangeBody b;
  b.set_origin(origin_bytes(origin));
  b.set_scope("ward-1");
  b.set_seq(1);
  b.set_hlc(hlc);
  b.set_collection("dossiers");
  b.set_record_id(std::string(16, '\x01'));
  b.set_author("clerk-" + std::to_string(origin));
  return b;
}

pb::FieldOp* op(pb::ChangeBody& b, const std::string& field, pb::MergeType type, pb::OpKind kind,
                const std::string& value = {}) {
  pb::FieldOp* o = b.add_ops();
  o->set_field(field);
  o->set_type(type);
  o->set_kind(kind);
  o->set_value(value);
  return o;
}

Record view(const pb::RecordState& s) {
  Record r;
  merge::to_view(s, r);
  return r;
}

pb::RecordState fold(const std::vector<pb::RecordState>& deltas, const std::vector<std::size_t>& order) {
  pb::RecordState s;
  for (std::size_t i : order) merge::join(s, deltas[i]);
  return s;
}

// ---------------------------------------------------------------------------
// Random deltas

enum class TerminalMode { kRandom, kByStage };

struct Generator {
  SplitMix64 rng;
  pb::MergeType type;
  TerminalMode terminal_mode = TerminalMode::kRandom;
  int other_type_percent = 0;  // ops of another merge type on the same field name
  std::set<std::pair<std::uint64_t, int>> used_ids;
  std::vector<std::pair<std::uint64_t, int>> written;  // (hlc, origin) of earlier writes
  std::vector<std::string> add_tags;                   // tags of earlier set adds
  std::map<int, std::pair<std::int64_t, std::int64_t>> totals;  // counter running totals

  Generator(std::uint64_t seed, pb::MergeType t) : rng(seed), type(t) {}

  std::string pick_value() {
    static const char* kValues[] = {"", "a", "b", "c", "Nguyễn Văn A", "d"};
    return kValues[rng.below(6)];
  }

  void fill_op(pb::FieldOp* o, pb::MergeType t, int origin) {
    o->set_type(t);
    o->set_value(pick_value());
    switch (t) {
      case pb::LWW:
        o->set_kind(pb::OP_SET);
        if (!written.empty() && rng.chance(60)) {
          auto base = written[rng.below(written.size())];
          o->set_base_hlc(base.first);
          o->set_base_origin(origin_bytes(base.second));
        } else if (rng.chance(10)) {  // a base the writer cannot have seen
          o->set_base_hlc(1 + rng.below(40));
          o->set_base_origin(origin_bytes(1 + static_cast<int>(rng.below(3))));
        }
        break;
      case pb::RANK: {
        o->set_kind(pb::OP_SET);
        std::uint32_t stage = static_cast<std::uint32_t>(rng.below(5));
        o->set_rank_cycle(static_cast<std::uint32_t>(rng.below(3)));
        o->set_rank_stage(stage);
        o->set_rank_terminal(terminal_mode == TerminalMode::kRandom ? rng.chance(40) : stage >= 3);
        break;
      }
      case pb::ONCE: o->set_kind(pb::OP_SET); break;
      case pb::SET:
        if (!add_tags.empty() && rng.chance(40)) {
          o->set_kind(pb::OP_REMOVE);
          std::size_t n = 1 + rng.below(3);
          for (std::size_t i = 0; i < n; ++i) o->add_removed_tags(add_tags[rng.below(add_tags.size())]);
          if (rng.chance(10)) o->add_removed_tags(std::string(merge::kTagBytes, 'z'));
        } else {
          o->set_kind(pb::OP_ADD);
        }
        break;
      case pb::LOG: o->set_kind(pb::OP_APPEND); break;
      case pb::COUNTER: {
        o->set_kind(pb::OP_INCREMENT);
        std::int64_t d = static_cast<std::int64_t>(rng.below(11)) - 5;
        auto& [p, n] = totals[origin];
        if (d >= 0) p += d; else n -= d;
        o->set_delta(d);
        o->set_counter_p(p);
        o->set_counter_n(n);
        break;
      }
      default: break;
    }
  }

  pb::RecordState next() {
    int origin = 1;
    std::uint64_t hlc = 0;
    do {  // one origin never issues two changes with one timestamp
      origin = 1 + static_cast<int>(rng.below(3));
      hlc = 1 + rng.below(40);
    } while (!used_ids.insert({hlc, origin}).second);
    pb::ChangeBody b = body(origin, hlc);
    b.set_tombstone(rng.chance(8));
    std::size_t nops = 1 + rng.below(2);
    for (std::size_t i = 0; i < nops; ++i) {
      pb::FieldOp* o = b.add_ops();
      o->set_field(rng.chance(70) ? "f" : "g");
      pb::MergeType t = type;
      if (other_type_percent > 0 && rng.chance(static_cast<unsigned>(other_type_percent))) {
        t = static_cast<pb::MergeType>(1 + rng.below(6));
      }
      fill_op(o, t, origin);
    }
    Hash h = hash_of(b);
    for (int i = 0; i < b.ops_size(); ++i) {
      if (b.ops(i).type() == pb::SET && b.ops(i).kind() == pb::OP_ADD) add_tags.push_back(merge::make_tag(h, i));
    }
    written.emplace_back(hlc, origin);
    return merge::delta_of(b, h);
  }
};

std::vector<std::size_t> iota(std::size_t n) {
  std::vector<std::size_t> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = i;
  return v;
}

// A random subset of the deltas, joined in a random order.
pb::RecordState random_state(SplitMix64& rng, const std::vector<pb::RecordState>& deltas) {
  std::vector<std::size_t> order;
  for (std::size_t i = 0; i < deltas.size(); ++i) {
    if (rng.chance(50)) order.push_back(i);
  }
  rng.shuffle(order);
  return fold(deltas, order);
}

// Checks the semilattice laws on `cases` random cases; stops at the first
// counterexample and prints it with its seed.
void check_semilattice(pb::MergeType type, std::uint64_t seed0, int cases,
                       TerminalMode terminal_mode = TerminalMode::kRandom, int other_type_percent = 0) {
  for (int c = 0; c < cases; ++c) {
    std::uint64_t seed = seed0 * 1000003 + static_cast<std::uint64_t>(c);
    Generator gen(seed, type);
    gen.terminal_mode = terminal_mode;
    gen.other_type_percent = other_type_percent;
    SplitMix64 rng(seed ^ 0x5eed);
    std::size_t n = 2 + rng.below(7);
    std::vector<pb::RecordState> deltas;
    for (std::size_t i = 0; i < n; ++i) deltas.push_back(gen.next());

    auto fail = [&](const char* law, const std::vector<const pb::RecordState*>& inputs,
                    const pb::RecordState& x, const pb::RecordState& y) {
      std::string msg = std::string(law) + " fails for merge type " + pb::MergeType_Name(type) +
                        ", seed " + std::to_string(seed) + "\n";
      for (const auto* in : inputs) msg += "  input: " + in->ShortDebugString() + "\n";
      msg += "  one way:   " + x.ShortDebugString() + "\n  other way: " + y.ShortDebugString();
      FAIL_CHECK(msg);
    };

    // Idempotent, on deltas and on states.
    pb::RecordState s = random_state(rng, deltas);
    for (const auto* x : {&deltas[0], &s}) {
      pb::RecordState xx = joined(*x, *x);
      if (bytes(xx) != bytes(*x)) return fail("idempotence", {x}, xx, *x);
    }
    // Commutative: on deltas and on random states.
    for (int k = 0; k < 4; ++k) {
      pb::RecordState a = k < 2 ? deltas[rng.below(n)] : random_state(rng, deltas);
      pb::RecordState b = k < 2 ? deltas[rng.below(n)] : random_state(rng, deltas);
      pb::RecordState ab = joined(a, b);
      pb::RecordState ba = joined(b, a);
      if (bytes(ab) != bytes(ba)) return fail("commutativity", {&a, &b}, ab, ba);
    }
    // Associative.
    for (int k = 0; k < 4; ++k) {
      pb::RecordState a = k < 2 ? deltas[rng.below(n)] : random_state(rng, deltas);
      pb::RecordState b = k < 2 ? deltas[rng.below(n)] : random_state(rng, deltas);
      pb::RecordState cc = k < 2 ? deltas[rng.below(n)] : random_state(rng, deltas);
      pb::RecordState left = joined(joined(a, b), cc);
      pb::RecordState right = joined(a, joined(b, cc));
      if (bytes(left) != bytes(right)) return fail("associativity", {&a, &b, &cc}, left, right);
    }
    // Any order of arrival, with duplicates, gives the same bytes.
    pb::RecordState reference = fold(deltas, iota(n));
    // The stored form reads back as the same state and leaves it untouched.
    const std::string before = bytes(reference);
    std::string stored;
    merge::serialize_state(reference, stored);
    pb::RecordState back;
    if (bytes(reference) != before || !merge::parse_state(stored, back) || bytes(back) != before)
      return fail("stored form round trip", {}, reference, back);
    for (int k = 0; k < 6; ++k) {
      std::vector<std::size_t> order = iota(n);
      rng.shuffle(order);
      if (k % 2 == 1) order.push_back(order[rng.below(n)]);  // a duplicate delivery
      pb::RecordState other = fold(deltas, order);
      if (bytes(other) != bytes(reference)) {
        std::vector<const pb::RecordState*> in;
        for (std::size_t i : order) in.push_back(&deltas[i]);
        return fail("order independence", in, reference, other);
      }
    }
    // Two replicas that saw the same deltas in halves, then merged states.
    std::vector<std::size_t> order = iota(n);
    rng.shuffle(order);
    std::size_t cut = rng.below(n + 1);
    auto mid = order.begin() + static_cast<std::ptrdiff_t>(cut);
    pb::RecordState left = fold(deltas, std::vector<std::size_t>(order.begin(), mid));
    pb::RecordState right = fold(deltas, std::vector<std::size_t>(mid, order.end()));
    pb::RecordState merged = joined(left, right);
    if (bytes(merged) != bytes(reference)) return fail("state merge", {&left, &right}, reference, merged);
    std::string stored_merged;
    merge::serialize_state(merged, stored_merged);
    if (stored_merged != stored) return fail("stored form of equal states", {&left, &right}, reference, merged);
  }
  SUCCEED();
}

constexpr int kCases = 400;

}  // namespace

// ---------------------------------------------------------------------------
// Properties

TEST_CASE("property: lww join is a semilattice", "[sync][merge][property]") {
  check_semilattice(pb::LWW, 1, kCases);
}
TEST_CASE("property: rank join is a semilattice (terminal flag follows the stage)", "[sync][merge][property]") {
  check_semilattice(pb::RANK, 2, kCases, TerminalMode::kByStage);
}
TEST_CASE("property: rank join is a semilattice (any terminal flags)", "[sync][merge][property]") {
  // Terminal flags come from the writer; a buggy or older writer may flag one
  // stage differently. Replicas must still converge.
  check_semilattice(pb::RANK, 3, kCases, TerminalMode::kRandom);
}
TEST_CASE("property: set join is a semilattice", "[sync][merge][property]") {
  check_semilattice(pb::SET, 4, kCases);
}
TEST_CASE("property: log join is a semilattice", "[sync][merge][property]") {
  check_semilattice(pb::LOG, 5, kCases);
}
TEST_CASE("property: counter join is a semilattice", "[sync][merge][property]") {
  check_semilattice(pb::COUNTER, 6, kCases);
}
TEST_CASE("property: once join is a semilattice", "[sync][merge][property]") {
  check_semilattice(pb::ONCE, 7, kCases);
}
TEST_CASE("property: join stays a semilattice when writers disagree on a field's type",
          "[sync][merge][property]") {
  check_semilattice(pb::LWW, 8, kCases, TerminalMode::kByStage, 30);
}

// A minimal counterexample for the rank rule, kept as a fixed regression case.
TEST_CASE("rank: arrival order does not matter when one stage is flagged terminal by one writer only",
          "[sync][merge][rank]") {
  pb::ChangeBody w1 = body(1, 10);  // (0, 2) "x", not terminal
  auto* o = op(w1, "status", pb::RANK, pb::OP_SET, "x");
  o->set_rank_stage(2);
  pb::ChangeBody w2 = body(2, 5);  // (0, 2) "x", terminal, earlier
  o = op(w2, "status", pb::RANK, pb::OP_SET, "x");
  o->set_rank_stage(2);
  o->set_rank_terminal(true);
  pb::ChangeBody w3 = body(3, 20);  // (0, 3) "y" wins
  o = op(w3, "status", pb::RANK, pb::OP_SET, "y");
  o->set_rank_stage(3);
  o->set_rank_terminal(true);
  std::vector<pb::RecordState> d = {delta(w1), delta(w2), delta(w3)};
  pb::RecordState a = fold(d, {0, 1, 2});
  pb::RecordState b = fold(d, {2, 1, 0});
  INFO("order 1,2,3: " << a.ShortDebugString());
  INFO("order 3,2,1: " << b.ShortDebugString());
  CHECK(bytes(a) == bytes(b));
}

// ---------------------------------------------------------------------------
// lww

TEST_CASE("lww: higher (hlc origin) wins and the unseen loser is a conflict", "[sync][merge][lww]") {
  pb::ChangeBody a = body(1, 10);
  op(a, "name", pb::LWW, pb::OP_SET, "Trần Thị B");
  pb::ChangeBody b = body(2, 12);
  op(b, "name", pb::LWW, pb::OP_SET, "Trần Thị Bích");
  pb::RecordState ab = joined(delta(a), delta(b));
  pb::RecordState ba = joined(delta(b), delta(a));
  CHECK(bytes(ab) == bytes(ba));
  Record r = view(ab);
  REQUIRE(r.field("name") != nullptr);
  CHECK(r.text("name") == "Trần Thị Bích");
  CHECK(r.field("name")->hlc == 12);
  CHECK(r.field("name")->origin == origin_key(2));
  REQUIRE(r.field("name")->conflicts.size() == 1);
  CHECK(r.field("name")->conflicts[0].value == "Trần Thị B");
  CHECK(r.field("name")->conflicts[0].origin == origin_key(1));
  CHECK(merge::has_conflicts(ab));
}

TEST_CASE("lww: equal timestamps are broken by origin the same way everywhere", "[sync][merge][lww]") {
  pb::ChangeBody a = body(1, 10);
  op(a, "name", pb::LWW, pb::OP_SET, "from 1");
  pb::ChangeBody b = body(2, 10);
  op(b, "name", pb::LWW, pb::OP_SET, "from 2");
  CHECK(view(joined(delta(a), delta(b))).text("name") == "from 2");
  CHECK(view(joined(delta(b), delta(a))).text("name") == "from 2");
}

TEST_CASE("lww: a sequential overwrite (base = previous winner) leaves no conflict", "[sync][merge][lww]") {
  pb::ChangeBody a = body(1, 10);
  op(a, "name", pb::LWW, pb::OP_SET, "old");
  pb::ChangeBody b = body(2, 12);
  auto* o = op(b, "name", pb::LWW, pb::OP_SET, "new");
  o->set_base_hlc(10);
  o->set_base_origin(origin_bytes(1));
  for (auto s : {joined(delta(a), delta(b)), joined(delta(b), delta(a))}) {
    Record r = view(s);
    CHECK(r.text("name") == "new");
    CHECK(r.field("name")->conflicts.empty());
    CHECK_FALSE(merge::has_conflicts(s));
  }
  // A third writer that did not see "new" still conflicts with it.
  pb::ChangeBody c = body(3, 11);
  op(c, "name", pb::LWW, pb::OP_SET, "concurrent");
  Record r = view(joined(joined(delta(a), delta(b)), delta(c)));
  CHECK(r.text("name") == "new");
  REQUIRE(r.field("name")->conflicts.size() == 1);
  CHECK(r.field("name")->conflicts[0].value == "concurrent");
}

TEST_CASE("lww: a base at or above the write itself is ignored", "[sync][merge][lww]") {
  pb::ChangeBody a = body(1, 10);
  op(a, "name", pb::LWW, pb::OP_SET, "first");
  pb::ChangeBody b = body(2, 12);
  auto* o = op(b, "name", pb::LWW, pb::OP_SET, "second");
  o->set_base_hlc(500);  // claims to have seen the future: erases nothing
  o->set_base_origin(origin_bytes(3));
  Record r = view(joined(delta(a), delta(b)));
  CHECK(r.text("name") == "second");
  REQUIRE(r.field("name")->conflicts.size() == 1);
  CHECK(r.field("name")->conflicts[0].value == "first");
}

// ---------------------------------------------------------------------------
// rank

namespace {
pb::RecordState rank_delta(int origin, Hlc hlc, std::uint32_t cycle, std::uint32_t stage, bool terminal,
                           const std::string& label) {
  pb::ChangeBody b = body(origin, hlc);
  auto* o = op(b, "status", pb::RANK, pb::OP_SET, label);
  o->set_rank_cycle(cycle);
  o->set_rank_stage(stage);
  o->set_rank_terminal(terminal);
  return delta(b);
}
}  // namespace

TEST_CASE("rank: never goes backward whatever the timestamps", "[sync][merge][rank]") {
  auto received = rank_delta(1, 30, 0, 1, false, "received");
  auto in_progress = rank_delta(1, 10, 0, 2, false, "in progress");
  auto decided = rank_delta(2, 5, 0, 3, false, "decided");
  std::vector<pb::RecordState> d = {received, in_progress, decided};
  std::vector<std::size_t> order = {0, 1, 2};
  std::string first;
  do {
    pb::RecordState s = fold(d, order);
    Record r = view(s);
    CHECK(r.text("status") == "decided");
    CHECK(r.field("status")->rank.stage == 3);
    CHECK(r.field("status")->conflicts.empty());
    if (first.empty()) first = bytes(s);
    CHECK(bytes(s) == first);
  } while (std::next_permutation(order.begin(), order.end()));
}

TEST_CASE("rank: a new cycle moves forward past a higher stage of the old cycle", "[sync][merge][rank]") {
  auto decided = rank_delta(1, 50, 0, 3, false, "decided");
  auto supplement = rank_delta(2, 40, 1, 2, false, "in progress (supplement)");
  for (auto s : {joined(decided, supplement), joined(supplement, decided)}) {
    Record r = view(s);
    CHECK(r.text("status") == "in progress (supplement)");
    CHECK(r.field("status")->rank.cycle == 1);
    CHECK(r.field("status")->rank.stage == 2);
  }
}

TEST_CASE("rank: equal ranks fall back to lww", "[sync][merge][rank]") {
  auto a = rank_delta(1, 10, 0, 2, false, "in progress: clerk A");
  auto b = rank_delta(2, 11, 0, 2, false, "in progress: clerk B");
  CHECK(view(joined(a, b)).text("status") == "in progress: clerk B");
  CHECK(view(joined(b, a)).text("status") == "in progress: clerk B");
  CHECK_FALSE(merge::has_conflicts(joined(a, b)));
}

TEST_CASE("rank: two different terminal stages reached concurrently are a conflict", "[sync][merge][rank]") {
  auto returned = rank_delta(1, 20, 0, 4, true, "returned");
  auto cancelled = rank_delta(2, 10, 0, 5, true, "cancelled");
  pb::RecordState ab = joined(returned, cancelled);
  pb::RecordState ba = joined(cancelled, returned);
  CHECK(bytes(ab) == bytes(ba));
  Record r = view(ab);
  CHECK(r.text("status") == "cancelled");  // deterministic provisional winner
  REQUIRE(r.field("status")->conflicts.size() == 1);
  CHECK(r.field("status")->conflicts[0].value == "returned");
  CHECK(merge::has_conflicts(ab));
  CHECK(r.has_conflicts());
}

// ---------------------------------------------------------------------------
// set

TEST_CASE("set: add-wins a concurrent add and remove of one element leaves it present", "[sync][merge][set]") {
  pb::ChangeBody add1 = body(1, 10);
  op(add1, "tags", pb::SET, pb::OP_ADD, "urgent");
  Hash h1 = hash_of(add1);
  // Node 2 saw add1 and removes "urgent" (names tag of add1) ...
  pb::ChangeBody remove = body(2, 20);
  op(remove, "tags", pb::SET, pb::OP_REMOVE, "urgent")->add_removed_tags(merge::make_tag(h1, 0));
  // ... while node 3, also having seen add1, adds "urgent" again.
  pb::ChangeBody add2 = body(3, 15);
  op(add2, "tags", pb::SET, pb::OP_ADD, "urgent");
  std::vector<pb::RecordState> d = {delta(add1), delta(remove), delta(add2)};
  std::vector<std::size_t> order = {0, 1, 2};
  do {
    Record r = view(fold(d, order));
    REQUIRE(r.field("tags") != nullptr);
    CHECK(r.field("tags")->elements == std::vector<std::string>{"urgent"});
  } while (std::next_permutation(order.begin(), order.end()));

  // Without the concurrent add the remove wins.
  Record r = view(fold(d, {1, 0}));
  CHECK((r.field("tags") == nullptr || r.field("tags")->elements.empty()));
}

TEST_CASE("set: a remove only removes the tags its writer observed - elements come sorted", "[sync][merge][set]") {
  pb::ChangeBody a = body(1, 10);
  op(a, "tags", pb::SET, pb::OP_ADD, "b-tag");
  op(a, "tags", pb::SET, pb::OP_ADD, "a-tag");
  Hash ha = hash_of(a);
  pb::ChangeBody rm = body(2, 11);
  op(rm, "tags", pb::SET, pb::OP_REMOVE, "b-tag")->add_removed_tags(merge::make_tag(ha, 0));
  Record r = view(joined(delta(a), delta(rm)));
  CHECK(r.field("tags")->elements == std::vector<std::string>{"a-tag"});
  Record before = view(delta(a));
  CHECK(before.field("tags")->elements == (std::vector<std::string>{"a-tag", "b-tag"}));
}

// ---------------------------------------------------------------------------
// log

TEST_CASE("log: entries ordered by (hlc origin) whatever the arrival order", "[sync][merge][log]") {
  pb::ChangeBody e1 = body(2, 10);
  op(e1, "history", pb::LOG, pb::OP_APPEND, "received");
  pb::ChangeBody e2 = body(1, 10);  // same time, smaller origin: first
  op(e2, "history", pb::LOG, pb::OP_APPEND, "scanned");
  pb::ChangeBody e3 = body(1, 5);
  op(e3, "history", pb::LOG, pb::OP_APPEND, "ticket");
  std::vector<pb::RecordState> d = {delta(e1), delta(e2), delta(e3)};
  std::vector<std::size_t> order = {0, 1, 2};
  do {
    pb::RecordState s = fold(d, order);
    merge::join(s, d[order[0]]);  // a duplicate is not appended twice
    Record r = view(s);
    const auto& entries = r.field("history")->entries;
    REQUIRE(entries.size() == 3);
    CHECK(entries[0].value == "ticket");
    CHECK(entries[1].value == "scanned");
    CHECK(entries[1].origin == origin_key(1));
    CHECK(entries[2].value == "received");
    CHECK(entries[2].author == "clerk-2");
    CHECK(entries[2].hlc == 10);
  } while (std::next_permutation(order.begin(), order.end()));
}

// ---------------------------------------------------------------------------
// counter

namespace {
pb::RecordState counter_delta(int origin, Hlc hlc, std::int64_t d, std::int64_t p, std::int64_t n) {
  pb::ChangeBody b = body(origin, hlc);
  auto* o = op(b, "visits", pb::COUNTER, pb::OP_INCREMENT);
  o->set_delta(d);
  o->set_counter_p(p);
  o->set_counter_n(n);
  return delta(b);
}
}  // namespace

TEST_CASE("counter: sums increments and decrements of several origins once each", "[sync][merge][counter]") {
  std::vector<pb::RecordState> d = {
      counter_delta(1, 10, 5, 5, 0),   // A +5
      counter_delta(1, 11, 3, 8, 0),   // A +3
      counter_delta(2, 12, -2, 0, 2),  // B -2
      counter_delta(3, 13, 1, 1, 0),   // C +1
      counter_delta(2, 14, 4, 4, 2),   // B +4
  };
  std::vector<std::size_t> order = iota(d.size());
  SplitMix64 rng(99);
  for (int k = 0; k < 20; ++k) {
    rng.shuffle(order);
    pb::RecordState s = fold(d, order);
    merge::join(s, d[0]);  // duplicate delivery
    merge::join(s, d[2]);
    CHECK(view(s).field("visits")->count == 5 + 3 - 2 + 1 + 4);
  }
}

// ---------------------------------------------------------------------------
// once

TEST_CASE("once: a second different value is a conflict and the first write stays", "[sync][merge][once]") {
  pb::ChangeBody first = body(2, 10);
  op(first, "code", pb::ONCE, pb::OP_SET, "HS-2026-0001");
  pb::ChangeBody second = body(1, 12);
  op(second, "code", pb::ONCE, pb::OP_SET, "HS-2026-0002");
  for (auto s : {joined(delta(first), delta(second)), joined(delta(second), delta(first))}) {
    Record r = view(s);
    CHECK(r.text("code") == "HS-2026-0001");
    CHECK(r.field("code")->hlc == 10);
    REQUIRE(r.field("code")->conflicts.size() == 1);
    CHECK(r.field("code")->conflicts[0].value == "HS-2026-0002");
    CHECK(merge::has_conflicts(s));
  }
  // The same value written again (a retry elsewhere) is no conflict.
  pb::ChangeBody again = body(3, 20);
  op(again, "code", pb::ONCE, pb::OP_SET, "HS-2026-0001");
  pb::RecordState s = joined(delta(first), delta(again));
  CHECK(view(s).field("code")->conflicts.empty());
  CHECK(view(s).field("code")->hlc == 10);
  CHECK_FALSE(merge::has_conflicts(s));
}

// ---------------------------------------------------------------------------
// records

TEST_CASE("tombstone: a deleted record stays deleted - created is the earliest write", "[sync][merge]") {
  pb::ChangeBody create = body(1, 10);
  op(create, "name", pb::LWW, pb::OP_SET, "x");
  pb::ChangeBody del = body(2, 20);
  del.set_tombstone(true);
  pb::ChangeBody later = body(1, 30);
  op(later, "name", pb::LWW, pb::OP_SET, "y");
  std::vector<pb::RecordState> d = {delta(create), delta(del), delta(later)};
  std::vector<std::size_t> order = {0, 1, 2};
  do {
    pb::RecordState s = fold(d, order);
    Record r = view(s);
    CHECK(r.deleted);
    CHECK(r.created == 10);
    CHECK(s.tombstone_hlc() == 20);
  } while (std::next_permutation(order.begin(), order.end()));
}

// Goal: the stored form names a record's common origin once, and reads back
// exactly, also from a state stored whole (before schema 8) and when a part has
// another origin or none. Method: a one-writer dossier with every merge type,
// then a second writer's tombstone and edit.
TEST_CASE("stored form: one writer's origin is stored once and every state reads back exactly", "[sync][merge]") {
  pb::ChangeBody create = body(1, 10);
  for (const char* f : {"name", "cccd", "phone", "address", "procedure", "channel"}) op(create, f, pb::LWW, pb::OP_SET, "v");
  op(create, "code", pb::ONCE, pb::OP_SET, "26734-261012-1");
  op(create, "tags", pb::SET, pb::OP_ADD, "urgent");
  op(create, "history", pb::LOG, pb::OP_APPEND, "received");
  op(create, "prints", pb::COUNTER, pb::OP_INCREMENT)->set_delta(2);
  pb::FieldOp* status = op(create, "status", pb::RANK, pb::OP_SET, "received");
  status->set_rank_stage(1);
  pb::RecordState one = delta(create);

  std::string stored;
  merge::serialize_state(one, stored);
  const std::string whole = bytes(one);
  CHECK(stored.size() < whole.size() * 7 / 10);             // 11 origins of 32 bytes left out
  CHECK(whole.find(origin_bytes(1)) != std::string::npos);
  CHECK(stored.find(origin_bytes(1)) == stored.rfind(origin_bytes(1)));  // named once
  pb::RecordState back;
  REQUIRE(merge::parse_state(stored, back));
  CHECK(bytes(back) == whole);
  REQUIRE(merge::parse_state(whole, back));  // a state stored before schema 8
  CHECK(bytes(back) == whole);

  // A second writer: its versions keep their own origin; a base it names and
  // the tombstone come back; an absent base stays absent.
  pb::ChangeBody del = body(2, 20);
  del.set_tombstone(true);
  pb::ChangeBody edit = body(2, 30);
  pb::FieldOp* e = op(edit, "name", pb::LWW, pb::OP_SET, "w");
  e->set_base_hlc(10);
  e->set_base_origin(origin_bytes(1));
  op(edit, "phone", pb::LWW, pb::OP_SET, "x")->set_base_hlc(5);  // a base with no origin (allowed)
  pb::RecordState two = joined(joined(one, delta(del)), delta(edit));
  merge::serialize_state(two, stored);
  REQUIRE(merge::parse_state(stored, back));
  CHECK(bytes(back) == bytes(two));
  CHECK(back.tombstone_origin() == origin_bytes(2));
  CHECK(merge::find_field(back, "phone")->max_base_hlc() == 5);
  CHECK(merge::find_field(back, "phone")->max_base_origin().empty());
  CHECK(merge::find_field(back, "address")->max_base_origin().empty());

  CHECK_FALSE(merge::parse_state("\xff\xff\xff", back));
}

TEST_CASE("make_tag: 16 bytes of the body hash and the op index", "[sync][merge]") {
  Hash h{};
  for (std::size_t i = 0; i < h.size(); ++i) h[i] = static_cast<std::uint8_t>(i);
  std::string t = merge::make_tag(h, 0x0102);
  REQUIRE(t.size() == merge::kTagBytes);
  CHECK(t.substr(0, 16) == std::string(reinterpret_cast<const char*>(h.data()), 16));
  CHECK(t[16] == 0x01);
  CHECK(t[17] == 0x02);
  CHECK(merge::make_tag(h, 1) != merge::make_tag(h, 2));
}
