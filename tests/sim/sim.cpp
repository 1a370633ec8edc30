// wardsync-sim: a deterministic simulation of the sync engine.
//
// Goal: show that replicas converge and lose no acknowledged write whatever the
// network, the disks and a hostile replica do. Method: N honest replicas (real
// Stores on in-memory SQLite) and one hostile replica run in one thread, driven
// by one seeded PRNG. The network drops, duplicates, delays, reorders and
// partitions messages; replicas restart, losing writes not yet group-committed;
// clocks drift and jump. The hostile replica sends tampered, forged, gapped,
// reordered and forked changes and garbage. After the faults stop and the
// network heals, every honest replica must hold the same materialized state
// (digest), every acknowledged write, and none of the injected forgeries.
//
// Every run of a seed is identical: a failing seed replays alone with --seeds N.
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "wardsync.pb.h"
#include "wardsync/sync/store.hpp"

namespace ws = wardsync;

namespace {

// Own PRNG (splitmix64): std:: distributions differ between standard libraries.
class Rng {
 public:
  explicit Rng(std::uint64_t seed) : state_(seed) {}
  std::uint64_t next() {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool chance(double p) { return static_cast<double>(next() >> 11) * 0x1.0p-53 < p; }

 private:
  std::uint64_t state_;
};

struct Faults {
  bool drop = false, dup = false, delay = false, reorder = false, partition = false,
       restart = false, clock = false, hostile = false;
};

struct Config {
  std::uint64_t seed_first = 1, seed_last = 1;
  int nodes = 5;
  int ops = 500;
  Faults faults;
  bool verbose = false;
  bool check_replay = false;
  bool progress = false;
};

class SimClock final : public ws::Clock {
 public:
  explicit SimClock(const std::uint64_t& global) : global_(global) {}
  std::uint64_t now_ms() override { return static_cast<std::uint64_t>(static_cast<std::int64_t>(global_) + offset_); }
  std::int64_t offset_ = 0;

 private:
  const std::uint64_t& global_;
};

ws::Schema make_schema() {
  ws::Schema schema(1);
  (void)schema.add({"dossier",
                    {{"name", ws::MergeType::kLww, true},
                     {"note", ws::MergeType::kLww, false},
                     {"code", ws::MergeType::kOnce, true},
                     {"status", ws::MergeType::kRank, false},
                     {"tags", ws::MergeType::kSet, true},
                     {"history", ws::MergeType::kLog, false},
                     {"visits", ws::MergeType::kCounter, false}}});
  return schema;
}

enum class MsgKind : std::uint8_t { kPush, kSyncRequest };

struct Message {
  std::uint64_t at = 0;
  std::uint64_t order = 0;  // tie-break, keeps the queue deterministic
  int from = 0, to = 0;
  MsgKind kind = MsgKind::kPush;
  std::string payload;
  bool operator>(const Message& o) const { return at != o.at ? at > o.at : order > o.order; }
};

std::string encode_batch(const std::vector<ws::WireChange>& changes) {
  ws::pb::ChangeBatch batch;
  for (const auto& c : changes) {
    auto* s = batch.add_changes();
    s->set_body(c.body);
    s->set_signature(c.signature);
  }
  return batch.SerializeAsString();
}

// Decoding is the receiver's job: garbage is refused, never trusted.
std::optional<std::vector<ws::WireChange>> decode_batch(const std::string& bytes) {
  if (bytes.size() > 64 * 1024 * 1024) return std::nullopt;
  ws::pb::ChangeBatch batch;
  if (!batch.ParseFromString(bytes)) return std::nullopt;
  std::vector<ws::WireChange> out;
  for (const auto& s : batch.changes()) out.push_back({s.body(), s.signature()});
  return out;
}

// Version vector wire form for the simulation: a ChangeBatch is reused as a
// container (body = origin|scope, signature = seq|head), parsed defensively.
std::string encode_vv(const ws::VersionVector& vv) {
  ws::pb::ChangeBatch b;
  for (const auto& [key, head] : vv) {
    auto* s = b.add_changes();
    s->set_body(std::string(reinterpret_cast<const char*>(key.origin.data()), 32) + key.scope);
    std::string tail(8, '\0');
    for (int i = 0; i < 8; ++i) tail[static_cast<std::size_t>(i)] = static_cast<char>(head.seq >> (8 * i));
    tail.append(reinterpret_cast<const char*>(head.head.data()), 32);
    s->set_signature(tail);
  }
  return b.SerializeAsString();
}

std::optional<ws::VersionVector> decode_vv(const std::string& bytes) {
  ws::pb::ChangeBatch b;
  if (!b.ParseFromString(bytes)) return std::nullopt;
  ws::VersionVector vv;
  for (const auto& s : b.changes()) {
    if (s.body().size() < 33 || s.signature().size() != 40) return std::nullopt;
    ws::StreamKey key;
    std::memcpy(key.origin.data(), s.body().data(), 32);
    key.scope = s.body().substr(32);
    ws::StreamHead head;
    for (int i = 0; i < 8; ++i) {
      head.seq |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(s.signature()[static_cast<std::size_t>(i)])) << (8 * i);
    }
    std::memcpy(head.head.data(), s.signature().data() + 8, 32);
    vv[key] = head;
  }
  return vv;
}

struct Replica {
  int index = 0;
  bool hostile = false;
  std::string uri;
  sqlite3* disk = nullptr;  // keeps the in-memory database alive across restarts
  std::unique_ptr<ws::Identity> identity;
  // Simulated keys stay readable for the whole run: re-protecting the key after
  // every commit (two mprotect calls, TLB flushes) would dominate the run time.
  std::unique_ptr<ws::Identity::Unlocked> key_open;
  std::unique_ptr<SimClock> clock;
  std::unique_ptr<ws::Store> store;
  std::vector<ws::Transaction> queued;  // not yet group-committed: lost on restart
  std::vector<ws::RecordId> known;      // records this replica has seen (for updates)
  std::string scope;
};

struct Outcome {
  bool ok = true;
  std::string why;
  std::uint64_t acked = 0, forgeries = 0, changes_applied = 0, restarts = 0;
  ws::Hash digest{};
};

class Simulation {
 public:
  Simulation(const Config& config, std::uint64_t seed)
      : cfg_(config), seed_(seed), rng_(seed * 0x2545F4914F6CDD1Dull + 1), schema_(make_schema()) {}
  ~Simulation() {
    for (auto& r : replicas_) {
      r.store.reset();
      r.key_open.reset();
      sqlite3_close(r.disk);
    }
  }

  Outcome run();

 private:
  void open_replica(Replica& r);
  void local_write(Replica& r);
  void flush(Replica& r);
  void send(int from, int to, MsgKind kind, std::string payload, bool reliable);
  void deliver(const Message& m);
  void hostile_act();
  void explain_difference(int a, int b);
  void gossip_push(int from, const std::vector<ws::WireChange>& changes);
  bool link_cut(int a, int b) const { return cut_.count({std::min(a, b), std::max(a, b)}) != 0; }
  int honest_count() const { return cfg_.nodes; }
  void fail(const std::string& why) {
    if (out_.ok) {
      out_.ok = false;
      out_.why = why;
    }
  }

  const Config& cfg_;
  std::uint64_t seed_;
  Rng rng_;
  ws::Schema schema_;
  std::uint64_t now_ = 1'790'000'000'000;  // Sep 2026, in ms
  std::uint64_t order_ = 0;
  std::vector<Replica> replicas_;
  std::priority_queue<Message, std::vector<Message>, std::greater<Message>> net_;
  std::set<std::pair<int, int>> cut_;
  bool faults_on_ = true;
  std::vector<ws::WireChange> acked_;      // acknowledged local writes of honest replicas
  std::vector<ws::WireChange> forgeries_;  // everything the hostile replica made up
  std::vector<ws::WireChange> seen_by_hostile_;
  bool hostile_forked_ = false;
  Outcome out_;
};

void Simulation::open_replica(Replica& r) {
  ws::StoreOptions opt;
  opt.path = r.uri;
  opt.durable = false;
  opt.apply_chunk_changes = 300;
  auto opened = ws::Store::open(opt, schema_, *r.identity, *r.clock);
  if (!opened.is_ok()) {
    fail("replica " + std::to_string(r.index) + " failed to open: " + opened.status().to_string());
    return;
  }
  r.store = std::move(opened).value();
}

void Simulation::send(int from, int to, MsgKind kind, std::string payload, bool reliable) {
  bool faulty = faults_on_ && !reliable;
  if (faulty && cfg_.faults.partition && link_cut(from, to)) return;
  if (faulty && cfg_.faults.drop && rng_.chance(0.1)) return;
  int copies = faulty && cfg_.faults.dup && rng_.chance(0.05) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    Message m;
    std::uint64_t latency = 1 + rng_.below(5);
    if (faulty && cfg_.faults.delay && rng_.chance(0.2)) latency += rng_.below(400);
    if (faulty && cfg_.faults.reorder) latency += rng_.below(30);
    m.at = now_ + latency;
    m.order = order_++;
    m.from = from;
    m.to = to;
    m.kind = kind;
    m.payload = payload;
    net_.push(std::move(m));
  }
}

void Simulation::gossip_push(int from, const std::vector<ws::WireChange>& changes) {
  if (changes.empty()) return;
  std::string payload = encode_batch(changes);
  for (int to = 0; to < static_cast<int>(replicas_.size()); ++to) {
    if (to == from || rng_.chance(0.3)) continue;
    send(from, to, MsgKind::kPush, payload, false);
  }
}

void Simulation::local_write(Replica& r) {
  ws::Transaction txn("clerk-" + std::to_string(r.index), r.scope);
  bool create = r.known.empty() || rng_.chance(0.3);
  ws::RecordWrite& w = create ? txn.create("dossier") : txn.update("dossier", r.known[rng_.below(r.known.size())]);
  static const char* kNames[] = {"Nguyễn Văn An", "Trần Thị Bình", "Lê Văn Cường", "Phạm Thị Dung", "Đặng Văn Em"};
  static const char* kStages[] = {"received", "in_progress", "decided", "returned", "cancelled"};
  int nops = 1 + static_cast<int>(rng_.below(3));
  for (int i = 0; i < nops; ++i) {
    switch (rng_.below(8)) {
      case 0: w.set("name", kNames[rng_.below(5)]); break;
      case 1: w.set("note", "ghi chú " + std::to_string(rng_.below(1000))); break;
      case 2: w.set_once("code", "79-" + std::to_string(r.index) + "-" + std::to_string(rng_.below(3))); break;
      case 3: {
        std::uint32_t stage = static_cast<std::uint32_t>(rng_.below(5));
        w.set_rank("status", {static_cast<std::uint32_t>(rng_.below(2)), stage, stage >= 3, kStages[stage]});
        break;
      }
      case 4: w.add("tags", "tag" + std::to_string(rng_.below(4))); break;
      case 5: w.remove("tags", "tag" + std::to_string(rng_.below(4))); break;
      case 6: w.append("history", "bước " + std::to_string(rng_.below(100))); break;
      default: w.increment("visits", static_cast<std::int64_t>(rng_.below(5)) - 1); break;
    }
  }
  if (!create && rng_.chance(0.02)) w.mark_deleted();
  r.queued.push_back(std::move(txn));
}

void Simulation::flush(Replica& r) {
  if (r.queued.empty() || !r.store) return;
  std::vector<const ws::Transaction*> txns;
  for (const auto& t : r.queued) txns.push_back(&t);
  auto results = r.store->commit_group(txns);
  std::vector<ws::WireChange> fresh;
  for (auto& res : results) {
    if (!res.is_ok()) {
      // Refusals the workload provokes on purpose: a second `once` value, an
      // update of a record this replica lost to a restart. Anything else is a bug.
      if (res.status().code() != ws::Code::kConflict && res.status().code() != ws::Code::kNotFound) {
        fail("local commit failed: " + res.status().to_string());
      }
      continue;
    }
    for (std::size_t i = 0; i < res.value().records.size(); ++i) {
      if (std::find(r.known.begin(), r.known.end(), res.value().records[i]) == r.known.end()) {
        r.known.push_back(res.value().records[i]);
      }
    }
    for (const auto& ref : res.value().changes) {
      auto c = r.store->stream_changes(ref.stream, ref.seq - 1, 1);
      if (c.size() != 1) {
        fail("committed change missing from the log");
        continue;
      }
      if (!r.hostile) acked_.push_back(c[0]);
      fresh.push_back(c[0]);
    }
  }
  r.queued.clear();
  gossip_push(r.index, fresh);
}

void Simulation::deliver(const Message& m) {
  Replica& r = replicas_[static_cast<std::size_t>(m.to)];
  if (!r.store) return;
  if (m.kind == MsgKind::kSyncRequest) {
    auto vv = decode_vv(m.payload);
    if (!vv) return;  // garbage: refused
    auto missing = r.store->missing_for(*vv, 200);
    for (auto& q : r.store->quarantined()) {  // fork proofs travel with every answer
      for (auto& c : q.proof) missing.push_back(std::move(c));
    }
    if (!missing.empty()) send(m.to, m.from, MsgKind::kPush, encode_batch(missing), !faults_on_);
    return;
  }
  auto batch = decode_batch(m.payload);
  if (!batch) return;
  if (r.hostile) {
    for (auto& c : *batch) {
      if (seen_by_hostile_.size() < 2000) seen_by_hostile_.push_back(c);
    }
  }
  ws::ApplyReport rep = r.store->apply(*batch);
  out_.changes_applied += rep.applied;
  for (const auto& p : rep.problems) {
    if (cfg_.verbose) {
      std::printf("  seed %llu t=%llu node %d: %s %s seq %llu: %s\n", static_cast<unsigned long long>(seed_),
                  static_cast<unsigned long long>(now_), m.to, ws::problem_kind_name(p.kind),
                  p.stream.to_string().c_str(), static_cast<unsigned long long>(p.seq), p.detail.c_str());
    }
    if (!r.hostile && p.kind == ws::Problem::Kind::kClockSkew) {
      fail("an honest change was held for clock skew although clocks stay within the bound");
    }
  }
  // Learn record ids so updates also hit records created elsewhere.
  if (!r.hostile && rep.applied > 0 && rng_.chance(0.5)) {
    for (const auto& c : *batch) {
      auto h = ws::parse_header(c);
      if (h.is_ok() && r.known.size() < 200 &&
          std::find(r.known.begin(), r.known.end(), h.value().record) == r.known.end()) {
        r.known.push_back(h.value().record);
      }
    }
  }
}

void Simulation::hostile_act() {
  Replica& h = replicas_.back();
  int victim = static_cast<int>(rng_.below(static_cast<std::uint64_t>(honest_count())));
  std::vector<ws::WireChange> bad;
  switch (rng_.below(6)) {
    case 0: {  // tamper one byte of a change it relays (body or signature)
      if (seen_by_hostile_.empty()) return;
      ws::WireChange c = seen_by_hostile_[rng_.below(seen_by_hostile_.size())];
      std::string& target = rng_.chance(0.7) ? c.body : c.signature;
      target[rng_.below(target.size())] ^= static_cast<char>(1 + rng_.below(255));
      bad.push_back(c);
      break;
    }
    case 1: {  // forge: claim an honest origin's next change, signed with its own key
      if (seen_by_hostile_.empty()) return;
      auto hdr = ws::parse_header(seen_by_hostile_[rng_.below(seen_by_hostile_.size())]);
      if (!hdr.is_ok()) return;
      ws::pb::ChangeBody body;
      body.ParseFromString(seen_by_hostile_.back().body);
      ws::ChangeDraft d;
      d.scope = hdr.value().stream.scope;
      d.seq = hdr.value().seq + 1;
      d.hlc = ws::hlc_make(now_, 0);
      d.collection = "dossier";
      d.record = hdr.value().record;
      d.author = "mạo danh";
      d.lww = {{"name", "Kẻ Giả Mạo"}};
      ws::WireChange c = ws::sign_draft(*h.identity, d);
      // Re-point the origin at the honest node: the signature no longer matches.
      ws::pb::ChangeBody fb;
      fb.ParseFromString(c.body);
      fb.set_origin(hdr.value().stream.origin.data(), 32);
      fb.set_prev_hash(std::string(32, '\x01'));
      c.body = fb.SerializeAsString();
      bad.push_back(c);
      break;
    }
    case 2: {  // garbage bytes
      std::string junk;
      for (int i = 0; i < 40; ++i) junk.push_back(static_cast<char>(rng_.below(256)));
      send(h.index, victim, MsgKind::kPush, junk, false);
      send(h.index, victim, MsgKind::kSyncRequest, junk, false);
      return;
    }
    case 3: {  // fork its own stream: two different validly signed bodies at one seq
      if (!rng_.chance(0.3)) return;
      auto vv = h.store->version_vector();
      ws::StreamKey key{h.identity->public_key(), h.scope};
      ws::StreamHead head = vv.count(key) ? vv[key] : ws::StreamHead{};
      for (int v = 0; v < 2; ++v) {
        ws::ChangeDraft d;
        d.scope = h.scope;
        d.seq = head.seq + 1;
        d.prev_hash = head.head;
        d.hlc = ws::hlc_make(now_, static_cast<std::uint64_t>(v));
        d.collection = "dossier";
        d.record = ws::RecordId::make(d.hlc, h.identity->public_key());
        d.author = "hai mặt";
        d.lww = {{"note", v == 0 ? "phiên bản A" : "phiên bản B"}};
        ws::WireChange c = ws::sign_draft(*h.identity, d);
        int to = static_cast<int>(rng_.below(static_cast<std::uint64_t>(honest_count())));
        send(h.index, to, MsgKind::kPush, encode_batch({c}), false);
      }
      hostile_forked_ = true;
      return;
    }
    case 4: {  // replay old changes, reordered and gapped
      if (seen_by_hostile_.size() < 4) return;
      std::vector<ws::WireChange> replay;
      for (int i = 0; i < 6; ++i) replay.push_back(seen_by_hostile_[rng_.below(seen_by_hostile_.size())]);
      send(h.index, victim, MsgKind::kPush, encode_batch(replay), false);
      return;
    }
    default:  // honest-looking work of its own
      local_write(h);
      flush(h);
      return;
  }
  for (auto& c : bad) forgeries_.push_back(c);
  send(h.index, victim, MsgKind::kPush, encode_batch(bad), false);
}

Outcome Simulation::run() {
  int total = cfg_.nodes + (cfg_.faults.hostile ? 1 : 0);
  replicas_.resize(static_cast<std::size_t>(total));
  for (int i = 0; i < total; ++i) {
    Replica& r = replicas_[static_cast<std::size_t>(i)];
    r.index = i;
    r.hostile = cfg_.faults.hostile && i == total - 1;
    r.uri = "file:wsim-" + std::to_string(seed_) + "-" + std::to_string(i) + "?mode=memory&cache=shared";
    sqlite3_open_v2(r.uri.c_str(), &r.disk, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, nullptr);
    std::array<std::uint8_t, 32> seed{};
    for (int b = 0; b < 8; ++b) seed[static_cast<std::size_t>(b)] = static_cast<std::uint8_t>(seed_ >> (8 * b));
    seed[8] = static_cast<std::uint8_t>(i);
    r.identity = std::make_unique<ws::Identity>(ws::Identity::from_seed(seed));
    r.key_open = std::make_unique<ws::Identity::Unlocked>(*r.identity);
    r.clock = std::make_unique<SimClock>(now_);
    // Offices write in their own scope; two share one, as a ward's two boxes would not,
    // to give streams with more than one writer per scope value.
    r.scope = "79.760.2674" + std::to_string(i % 3);
    open_replica(r);
    if (!out_.ok) return out_;
  }

  // Phase 1: work under faults.
  int writes_left = cfg_.ops;
  while (writes_left > 0 || !net_.empty()) {
    if (!out_.ok) return out_;
    now_ += 1 + rng_.below(20);
    if (writes_left > 0) {
      for (int k = 0; k < 2 && writes_left > 0; ++k) {
        if (!rng_.chance(0.6)) continue;
        local_write(replicas_[rng_.below(static_cast<std::uint64_t>(cfg_.nodes))]);
        --writes_left;
      }
      for (int i = 0; i < cfg_.nodes; ++i) {
        if (rng_.chance(0.4)) flush(replicas_[static_cast<std::size_t>(i)]);
      }
      if (rng_.chance(0.15)) {
        int from = static_cast<int>(rng_.below(static_cast<std::uint64_t>(total)));
        int to = static_cast<int>(rng_.below(static_cast<std::uint64_t>(total)));
        if (from != to && replicas_[static_cast<std::size_t>(from)].store) {
          send(from, to, MsgKind::kSyncRequest, encode_vv(replicas_[static_cast<std::size_t>(from)].store->version_vector()), false);
        }
      }
      if (cfg_.faults.partition && rng_.chance(0.01)) {
        int a = static_cast<int>(rng_.below(static_cast<std::uint64_t>(total)));
        int b = static_cast<int>(rng_.below(static_cast<std::uint64_t>(total)));
        if (a != b) {
          auto link = std::make_pair(std::min(a, b), std::max(a, b));
          if (!cut_.erase(link)) cut_.insert(link);
        }
      }
      if (cfg_.faults.restart && rng_.chance(0.005)) {
        Replica& r = replicas_[rng_.below(static_cast<std::uint64_t>(cfg_.nodes))];
        r.queued.clear();  // never acknowledged: the writer had not committed them
        r.store.reset();
        open_replica(r);
        ++out_.restarts;
      }
      if (cfg_.faults.clock && rng_.chance(0.02)) {
        Replica& r = replicas_[rng_.below(static_cast<std::uint64_t>(total))];
        // Drift and jumps, forward or back, within the skew bound (a jump past
        // the bound is quarantined by design; tests/sync covers that case).
        std::int64_t jump = rng_.chance(0.2) ? static_cast<std::int64_t>(rng_.below(6 * 3600 * 1000)) - 3 * 3600 * 1000
                                             : static_cast<std::int64_t>(rng_.below(2000)) - 1000;
        r.clock->offset_ = std::clamp<std::int64_t>(r.clock->offset_ + jump, -6 * 3600 * 1000, 6 * 3600 * 1000);
      }
      if (cfg_.faults.hostile && rng_.chance(0.05)) hostile_act();
    }
    while (!net_.empty() && net_.top().at <= now_) {
      Message m = net_.top();
      net_.pop();
      deliver(m);
    }
    if (writes_left == 0) now_ += 50;  // drain what is in flight
  }

  // Phase 2: heal. Faults stop, pending writes commit, replicas anti-entropy
  // pairwise until nothing moves.
  faults_on_ = false;
  cut_.clear();
  for (int i = 0; i < cfg_.nodes; ++i) flush(replicas_[static_cast<std::size_t>(i)]);
  for (auto& r : replicas_) r.clock->offset_ = 0;
  now_ += 7 * 3600 * 1000;  // past every held clock skew
  for (int round = 0; round < 100; ++round) {
    std::uint64_t before = out_.changes_applied;
    for (int i = 0; i < cfg_.nodes; ++i) (void)replicas_[static_cast<std::size_t>(i)].store->retry_held();
    for (int i = 0; i < cfg_.nodes; ++i) {
      for (int j = 0; j < cfg_.nodes; ++j) {
        if (i == j) continue;
        send(i, j, MsgKind::kSyncRequest, encode_vv(replicas_[static_cast<std::size_t>(i)].store->version_vector()), true);
      }
    }
    while (!net_.empty()) {
      Message m = net_.top();
      net_.pop();
      now_ = std::max(now_, m.at);
      if (replicas_[static_cast<std::size_t>(m.to)].hostile) continue;
      deliver(m);
    }
    bool same = true;
    auto vv0 = replicas_[0].store->version_vector();
    for (int i = 1; i < cfg_.nodes; ++i) same = same && replicas_[static_cast<std::size_t>(i)].store->version_vector() == vv0;
    if (same && out_.changes_applied == before && round > 0) break;
  }

  // Checks.
  ws::Hash d0 = replicas_[0].store->digest();
  out_.digest = d0;
  for (int i = 1; i < cfg_.nodes; ++i) {
    if (replicas_[static_cast<std::size_t>(i)].store->digest() != d0) {
      if (cfg_.verbose) explain_difference(0, i);
      fail("replicas 0 and " + std::to_string(i) + " differ after healing");
    }
  }
  for (const auto& c : acked_) {
    for (int i = 0; i < cfg_.nodes; ++i) {
      if (!replicas_[static_cast<std::size_t>(i)].store->has_change(c)) {
        auto hdr = ws::parse_header(c);
        if (cfg_.verbose) {
          auto vv = replicas_[static_cast<std::size_t>(i)].store->version_vector();
          auto it = vv.find(hdr.value().stream);
          std::printf("  replica %d holds that stream up to %llu; origin is replica %d\n", i,
                      it == vv.end() ? 0ull : static_cast<unsigned long long>(it->second.seq),
                      [&] { for (auto& r : replicas_) if (r.identity->public_key() == hdr.value().stream.origin) return r.index; return -1; }());
          auto mine = replicas_[static_cast<std::size_t>(i)].store->stream_changes(hdr.value().stream, hdr.value().seq - 1, 1);
          std::printf("  its change there: %s\n", mine.empty() ? "none" : (mine[0] == c ? "same" : "different"));
        }
        fail("acknowledged change " + hdr.value().stream.to_string() + "#" + std::to_string(hdr.value().seq) +
             " missing at replica " + std::to_string(i));
      }
    }
  }
  for (const auto& c : forgeries_) {
    for (int i = 0; i < cfg_.nodes; ++i) {
      if (replicas_[static_cast<std::size_t>(i)].store->has_change(c)) fail("a forged change was accepted");
    }
  }
  if (hostile_forked_) {
    // A fork may never have reached two replicas (dropped); when any replica
    // proved it, all must have learnt it.
    std::size_t knowing = 0;
    for (int i = 0; i < cfg_.nodes; ++i) knowing += replicas_[static_cast<std::size_t>(i)].store->quarantined().empty() ? 0 : 1;
    if (knowing != 0 && knowing != static_cast<std::size_t>(cfg_.nodes)) fail("fork proof did not reach every replica");
  }
  out_.acked = acked_.size();
  out_.forgeries = forgeries_.size();
  return out_;
}

std::string describe(const ws::Record& r) {
  std::string out = r.deleted ? "[deleted] " : "";
  for (const auto& [name, f] : r.fields) {
    out += name + "=" + f.value;
    for (const auto& e : f.elements) out += "{" + e + "}";
    for (const auto& e : f.entries) out += "<" + e.value + ">";
    if (f.type == ws::MergeType::kCounter) out += std::to_string(f.count);
    for (const auto& c : f.conflicts) out += " !" + c.value;
    out += "; ";
  }
  return out;
}

void Simulation::explain_difference(int a, int b) {
  auto ra = replicas_[static_cast<std::size_t>(a)].store->list("dossier", std::nullopt, 100000);
  auto rb = replicas_[static_cast<std::size_t>(b)].store->list("dossier", std::nullopt, 100000);
  std::printf("  replica %d has %zu records, replica %d has %zu\n", a, ra.size(), b, rb.size());
  std::map<ws::RecordId, std::string> ma, mb;
  for (const auto& r : ra) ma[r.id] = describe(r);
  for (const auto& r : rb) mb[r.id] = describe(r);
  int shown = 0;
  for (const auto& [id, d] : ma) {
    auto it = mb.find(id);
    std::string other = it == mb.end() ? "(missing)" : it->second;
    if (other != d && shown++ < 5) std::printf("  %s\n    %d: %s\n    %d: %s\n", id.hex().c_str(), a, d.c_str(), b, other.c_str());
  }
  for (const auto& [id, d] : mb) {
    if (!ma.count(id) && shown++ < 10) std::printf("  %s only at %d: %s\n", id.hex().c_str(), b, d.c_str());
  }
}

bool parse_faults(const std::string& s, Faults& f) {
  if (s == "none") return true;
  std::size_t pos = 0;
  while (pos <= s.size()) {
    std::size_t end = s.find(',', pos);
    std::string w = s.substr(pos, end == std::string::npos ? std::string::npos : end - pos);
    if (w == "all") f = Faults{true, true, true, true, true, true, true, true};
    else if (w == "drop") f.drop = true;
    else if (w == "dup") f.dup = true;
    else if (w == "delay") f.delay = true;
    else if (w == "reorder") f.reorder = true;
    else if (w == "partition") f.partition = true;
    else if (w == "restart") f.restart = true;
    else if (w == "clock") f.clock = true;
    else if (w == "hostile") f.hostile = true;
    else return false;
    if (end == std::string::npos) break;
    pos = end + 1;
  }
  return true;
}

const char* kHelp =
    "wardsync-sim: deterministic simulation of wardsync replicas\n"
    "\n"
    "Usage: wardsync-sim [--seeds A-B | --seeds N] [--nodes N] [--ops N] [--faults LIST] [-v]\n"
    "\n"
    "  --seeds A-B    run every seed from A to B (default 1-100); --seeds N replays one\n"
    "  --nodes N      honest replicas (default 5, 2..16)\n"
    "  --ops N        local writes per seed across all replicas (default 500)\n"
    "  --faults LIST  comma list of drop,dup,delay,reorder,partition,restart,clock,hostile,\n"
    "                 or 'all' or 'none' (default all)\n"
    "  --check-replay run each seed twice and require identical digests\n"
    "  --progress     print a line every 1,000 seeds (to stderr)\n"
    "  -v             print every problem the replicas report\n"
    "\n"
    "Prints one line per failing seed (replay it with --seeds N) and a summary.\n"
    "Exit status: 0 when every seed converged, 1 when one did not, 2 on bad usage.\n";

}  // namespace

int main(int argc, char** argv) {
  Config cfg;
  cfg.seed_last = 100;
  parse_faults("all", cfg.faults);
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "wardsync-sim: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    try {
      if (a == "-h" || a == "--help") {
        std::fputs(kHelp, stdout);
        return 0;
      } else if (a == "--seeds") {
        std::string v = value();
        std::size_t dash = v.find('-');
        cfg.seed_first = std::stoull(v.substr(0, dash));
        cfg.seed_last = dash == std::string::npos ? cfg.seed_first : std::stoull(v.substr(dash + 1));
      } else if (a == "--nodes") {
        cfg.nodes = std::stoi(value());
      } else if (a == "--ops") {
        cfg.ops = std::stoi(value());
      } else if (a == "--faults") {
        cfg.faults = Faults{};
        std::string v = value();
        if (!parse_faults(v, cfg.faults)) {
          std::fprintf(stderr, "wardsync-sim: unknown fault in '%s' (see --help)\n", v.c_str());
          return 2;
        }
      } else if (a == "--check-replay") {
        cfg.check_replay = true;
      } else if (a == "--progress") {
        cfg.progress = true;
      } else if (a == "-v") {
        cfg.verbose = true;
      } else {
        std::fprintf(stderr, "wardsync-sim: unknown option %s (see --help)\n", a.c_str());
        return 2;
      }
    } catch (const std::exception&) {
      std::fprintf(stderr, "wardsync-sim: bad value for %s\n", a.c_str());
      return 2;
    }
  }
  if (cfg.nodes < 2 || cfg.nodes > 16 || cfg.ops < 0 || cfg.seed_last < cfg.seed_first) {
    std::fprintf(stderr, "wardsync-sim: need 2..16 nodes, ops >= 0 and a seed range A-B with A <= B\n");
    return 2;
  }
  auto t0 = std::chrono::steady_clock::now();
  std::uint64_t passed = 0, failed = 0, acked = 0, forgeries = 0, restarts = 0;
  for (std::uint64_t seed = cfg.seed_first; seed <= cfg.seed_last; ++seed) {
    Outcome o;
    {
      Simulation sim(cfg, seed);
      o = sim.run();
    }
    if (o.ok && cfg.check_replay) {
      Simulation again(cfg, seed);
      Outcome o2 = again.run();
      if (!o2.ok || o2.digest != o.digest || o2.acked != o.acked) {
        o.ok = false;
        o.why = "replay of the same seed gave a different outcome";
      }
    }
    if (o.ok) {
      ++passed;
    } else {
      ++failed;
      std::printf("FAIL seed=%llu: %s (replay: wardsync-sim --seeds %llu --nodes %d --ops %d)\n",
                  static_cast<unsigned long long>(seed), o.why.c_str(), static_cast<unsigned long long>(seed),
                  cfg.nodes, cfg.ops);
      std::fflush(stdout);
    }
    acked += o.acked;
    forgeries += o.forgeries;
    restarts += o.restarts;
    if (cfg.progress && (seed - cfg.seed_first + 1) % 1000 == 0) {
      std::fprintf(stderr, "wardsync-sim: through seed %llu: %llu converged, %llu failed\n",
                   static_cast<unsigned long long>(seed), static_cast<unsigned long long>(passed),
                   static_cast<unsigned long long>(failed));
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("wardsync-sim: seeds %llu-%llu, %d nodes, %d ops: %llu converged, %llu failed; "
              "%llu acknowledged writes kept, %llu forgeries refused, %llu restarts; %.1f s\n",
              static_cast<unsigned long long>(cfg.seed_first), static_cast<unsigned long long>(cfg.seed_last),
              cfg.nodes, cfg.ops, static_cast<unsigned long long>(passed), static_cast<unsigned long long>(failed),
              static_cast<unsigned long long>(acked), static_cast<unsigned long long>(forgeries),
              static_cast<unsigned long long>(restarts), secs);
  return failed == 0 ? 0 : 1;
}
