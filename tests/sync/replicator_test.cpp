// Replicator, receiving side: a batch goes through the pipeline (decompressed,
// decoded and checked by the receive worker while the writer commits the batch
// before it) and is acknowledged only after its own commit, in the order the
// batches came; a batch that fails verification is refused and nothing after
// the break is applied; and a peer's on-demand fetches are rate-limited.
// Method: the test is the sending peer. It speaks the session protocol itself
// over a real ZeroMQ DEALER with CURVE to a Replicator listening on 127.0.0.1,
// sends several batches back to back (so several are in the pipeline at once),
// and at every ACK reads the receiver's database through its own SQLite
// connection: what an ACK reports must already be committed there.
#include <sqlite3.h>
#include <zstd.h>

#include <chrono>
#include <optional>
#include <thread>
#include <zmq.hpp>

#include "session.pb.h"
#include "wardsync.pb.h"
#include "wardsync/sync/replicator.hpp"
#include "wardsync/sync/writer.hpp"

#include "sync_test_util.hpp"

using namespace wardsync;
using namespace wardsync::test;

namespace {

// What the receiver's database holds of `scope`, read through a connection of our own.
struct Held {
  std::int64_t seq = 0;      // the stream's head
  std::int64_t changes = 0;  // rows in the change log
};
Held held_in(const std::string& db, const std::string& scope) {
  Held out;
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(h, 2000);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(h, "SELECT seq FROM streams WHERE scope=?", -1, &st, nullptr) == SQLITE_OK);
  sqlite3_bind_text(st, 1, scope.c_str(), -1, SQLITE_TRANSIENT);
  if (sqlite3_step(st) == SQLITE_ROW) out.seq = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  REQUIRE(sqlite3_prepare_v2(h, "SELECT count(*) FROM changes", -1, &st, nullptr) == SQLITE_OK);
  if (sqlite3_step(st) == SQLITE_ROW) out.changes = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

// A free TCP port on 127.0.0.1, bound and released: in a context of its own,
// whose close waits until the listening socket is really gone.
std::string free_endpoint() {
  zmq::context_t ctx;
  std::string endpoint;
  {
    zmq::socket_t probe(ctx, zmq::socket_type::rep);
    probe.set(zmq::sockopt::linger, 0);
    probe.bind("tcp://127.0.0.1:*");
    endpoint = probe.get(zmq::sockopt::last_endpoint);
  }
  ctx.close();
  return endpoint;
}

std::uint64_t seq_in(const google::protobuf::RepeatedPtrField<pb::StreamPos>& vv, const std::string& scope) {
  for (const auto& p : vv)
    if (p.scope() == scope) return p.seq();
  return 0;
}

// The sending side of a session, driven by hand.
class TestPeer {
 public:
  TestPeer(zmq::context_t& ctx, const std::string& endpoint, const CurveKeys& server)
      : dealer_(ctx, zmq::socket_type::dealer) {
    CurveKeys mine = CurveKeys::generate();
    dealer_.set(zmq::sockopt::linger, 0);
    dealer_.set(zmq::sockopt::curve_serverkey, zmq::buffer(server.public_key));
    dealer_.set(zmq::sockopt::curve_publickey, zmq::buffer(mine.public_key));
    dealer_.set(zmq::sockopt::curve_secretkey, zmq::buffer(mine.secret_key.data(), CurveSecret::size()));
    dealer_.connect(endpoint);
  }
  void send(const pb::Envelope& env) {
    std::string bytes = env.SerializeAsString();
    REQUIRE(dealer_.send(zmq::buffer(bytes), zmq::send_flags::none));
  }
  // The next message of the wanted kind (others, heartbeats and the like, are skipped).
  std::optional<pb::Envelope> next(pb::Envelope::KindCase kind, std::chrono::milliseconds wait) {
    auto end = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < end) {
      zmq::pollitem_t item{static_cast<void*>(dealer_), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      zmq::message_t msg;
      if (!(item.revents & ZMQ_POLLIN) || !dealer_.recv(msg, zmq::recv_flags::dontwait)) continue;
      pb::Envelope env;
      if (env.ParseFromArray(msg.data(), static_cast<int>(msg.size())) && env.kind_case() == kind) return env;
    }
    return std::nullopt;
  }

 private:
  zmq::socket_t dealer_;
};

pb::Envelope hello_from(const Identity& node) {
  pb::Envelope env;
  pb::Hello* h = env.mutable_hello();
  h->set_node_id(key_bytes(node.public_key()));
  h->set_protocol(kProtocolVersion);
  h->set_schema_version(1);
  h->add_scopes("ward-1");
  return env;
}

pb::Envelope batch_of(std::uint64_t no, const std::string& raw) {
  std::string packed(ZSTD_compressBound(raw.size()), '\0');
  std::size_t n = ZSTD_compress(packed.data(), packed.size(), raw.data(), raw.size(), 3);
  REQUIRE_FALSE(ZSTD_isError(n));
  packed.resize(n);
  pb::Envelope env;
  pb::Batch* b = env.mutable_batch();
  b->set_batch_no(no);
  b->set_raw_size(raw.size());
  b->set_zstd(std::move(packed));
  return env;
}

pb::Envelope batch_of(std::uint64_t no, const std::vector<WireChange>& changes) {
  pb::ChangeBatch batch;
  for (const auto& c : changes) {
    auto* sc = batch.add_changes();
    sc->set_body(c.body);
    sc->set_signature(c.signature);
  }
  pb::Envelope env = batch_of(no, batch.SerializeAsString());
  env.mutable_batch()->set_count(static_cast<std::uint32_t>(changes.size()));
  return env;
}

WireChange tamper(WireChange c) {
  auto pos = c.body.find("value-");
  REQUIRE(pos != std::string::npos);
  c.body[pos + 1] = 'A';
  return c;
}

// A receiving node: a durable store behind its Writer and a listening Replicator.
struct Receiver {
  Receiver() : id(identity(2)), db(dir.file("node.db")) {
    writer = std::make_unique<Writer>(open_store(db, id, clock, /*durable=*/true));
    // Another process may take the probed port in between: a few tries.
    Status last = Status::ok();
    for (int attempt = 0; attempt < 5 && !replicator; ++attempt) {
      ReplicatorOptions ro;
      ro.listen = free_endpoint();
      endpoint = ro.listen;
      ro.keys = keys;
      ro.scopes = {"ward-1"};
      ro.admit = [](const std::array<std::uint8_t, 32>&) { return true; };
      auto r = Replicator::start(*writer, std::move(ro));
      if (r.is_ok()) replicator = std::move(r).value();
      else last = r.status();
    }
    INFO(last.to_string());
    REQUIRE(replicator != nullptr);
  }
  ~Receiver() {
    replicator.reset();  // before the writer it uses
    writer.reset();
  }
  TempDir dir;
  Identity id;
  FakeClock clock;
  std::string db;
  CurveKeys keys = CurveKeys::generate();
  std::string endpoint;
  std::unique_ptr<Writer> writer;
  std::unique_ptr<Replicator> replicator;
};

// A peer connected to a listening Receiver, past the hello exchange.
struct Session {
  Session() {
    peer.send(hello_from(origin));
    REQUIRE(peer.next(pb::Envelope::kHello, std::chrono::seconds(10)).has_value());
  }
  zmq::context_t ctx;
  Receiver rx;
  Identity origin = identity(1);
  TestPeer peer{ctx, rx.endpoint, rx.keys};
};

}  // namespace

TEST_CASE("pipelined receive: batches sent back to back are each acknowledged after their commit, in order",
          "[sync][replicator]") {
  Session session;
  Receiver& rx = session.rx;
  Identity& origin = session.origin;
  TestPeer& peer = session.peer;

  constexpr std::size_t kBatches = 8, kPerBatch = 400;  // deeper than the pipeline
  auto chain = make_chain(origin, kBatches * kPerBatch);
  for (std::size_t b = 0; b < kBatches; ++b) {
    std::vector<WireChange> part(chain.begin() + static_cast<std::ptrdiff_t>(b * kPerBatch),
                                 chain.begin() + static_cast<std::ptrdiff_t>((b + 1) * kPerBatch));
    peer.send(batch_of(b + 1, part));
  }
  for (std::size_t b = 1; b <= kBatches; ++b) {
    auto ack = peer.next(pb::Envelope::kAck, std::chrono::seconds(30));
    REQUIRE(ack.has_value());
    const pb::Ack& a = ack->ack();
    CHECK(a.batch_no() == b);  // in the order sent
    CHECK(a.applied() == kPerBatch);
    CHECK(a.rejected() == 0);
    CHECK(seq_in(a.vv(), "ward-1") == b * kPerBatch);
    // What the ACK reports is committed: another connection sees it.
    Held now = held_in(rx.db, "ward-1");
    CHECK(now.seq >= static_cast<std::int64_t>(b * kPerBatch));
  }
  CHECK(held_in(rx.db, "ward-1").changes == static_cast<std::int64_t>(kBatches * kPerBatch));
}

TEST_CASE("pipelined receive: a batch failing verification is refused and nothing after the break is applied",
          "[sync][replicator]") {
  Session session;
  Receiver& rx = session.rx;
  Identity& origin = session.origin;
  TestPeer& peer = session.peer;

  auto chain = make_chain(origin, 30);
  std::vector<WireChange> first(chain.begin(), chain.begin() + 10);
  first[4] = tamper(first[4]);  // change 5: one byte altered, its signature kept
  std::vector<WireChange> second(chain.begin() + 10, chain.begin() + 20);
  // Back to back: the second is decoded while the first is being applied.
  peer.send(batch_of(1, first));
  peer.send(batch_of(2, std::string("\xff\xff\xff\xff", 4)));  // decompresses, does not parse
  peer.send(batch_of(3, second));

  auto a1 = peer.next(pb::Envelope::kAck, std::chrono::seconds(30));
  REQUIRE(a1.has_value());
  CHECK(a1->ack().batch_no() == 1);
  CHECK(a1->ack().applied() == 4);
  CHECK(a1->ack().rejected() == 6);
  CHECK(seq_in(a1->ack().vv(), "ward-1") == 4);
  // Batch 2 is never acknowledged; batch 3 is, and waits behind the break.
  auto a3 = peer.next(pb::Envelope::kAck, std::chrono::seconds(30));
  REQUIRE(a3.has_value());
  CHECK(a3->ack().batch_no() == 3);
  CHECK(a3->ack().applied() == 0);
  CHECK(seq_in(a3->ack().vv(), "ward-1") == 4);
  Held after_break = held_in(rx.db, "ward-1");
  CHECK(after_break.seq == 4);
  CHECK(after_break.changes == 4);

  // The genuine changes 5-10 close the gap: they and the waiting 11-20 apply.
  peer.send(batch_of(4, std::vector<WireChange>(chain.begin() + 4, chain.begin() + 10)));
  auto a4 = peer.next(pb::Envelope::kAck, std::chrono::seconds(30));
  REQUIRE(a4.has_value());
  CHECK(a4->ack().batch_no() == 4);
  CHECK(a4->ack().applied() == 16);
  CHECK(seq_in(a4->ack().vv(), "ward-1") == 20);
  CHECK(held_in(rx.db, "ward-1").seq == 20);
}

TEST_CASE("a peer's on-demand fetches above the rate are answered unavailable, then served again", "[sync][fetch]") {
  Session s;
  auto chain = make_chain(s.origin, 1);
  REQUIRE(s.rx.writer->apply(chain).get().applied == 1);
  const RecordId rid = parse_header(chain[0]).value().record;
  const std::string record(reinterpret_cast<const char*>(rid.bytes.data()), rid.bytes.size());
  auto ask = [&](std::uint64_t no) {
    pb::Envelope env;
    pb::Fetch* f = env.mutable_fetch();
    f->set_request(no);
    f->set_collection("dossiers");
    f->set_record_id(record);
    f->set_hops(1);
    f->set_budget_ms(3000);
    s.peer.send(env);
  };
  // 100 at once: the burst is served, the rest told to come back.
  const auto start = std::chrono::steady_clock::now();
  for (std::uint64_t no = 1; no <= 100; ++no) ask(no);
  std::size_t found = 0, unavailable = 0;
  for (int i = 0; i < 100; ++i) {
    auto answer = s.peer.next(pb::Envelope::kFetched, std::chrono::seconds(10));
    REQUIRE(answer.has_value());
    if (answer->fetched().outcome() == pb::Fetched::FOUND) ++found;
    if (answer->fetched().outcome() == pb::Fetched::UNAVAILABLE) ++unavailable;
  }
  // The burst, and what refilled (20 a second) while they were served: a slow
  // build (sanitizers) serves them over a longer time and refills more.
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  INFO("served " << found << " of 100 in " << took << " s");
  CHECK(found >= 40);
  CHECK(static_cast<double>(found) <= 41 + 20 * took);
  if (took < 2.5) CHECK(unavailable > 0);  // served faster than the bucket refills: some were turned away
  CHECK(found + unavailable == 100);
  auto status = [&] {
    std::vector<PeerStatus> peers = s.rx.replicator->status();
    REQUIRE(peers.size() == 1);
    return peers.front();
  };
  // The status is a snapshot the session thread refreshes (every half second).
  for (int i = 0; i < 50 && status().fetches_limited != unavailable; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(status().fetches_limited == unavailable);
  CHECK(status().fetches_served == found);
  // Counted only: the peer's last error keeps naming what matters more.
  CHECK(status().last_error.empty());
  // After a quiet second, served again.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  ask(101);
  auto later = s.peer.next(pb::Envelope::kFetched, std::chrono::seconds(10));
  REQUIRE(later.has_value());
  CHECK(later->fetched().outcome() == pb::Fetched::FOUND);
  CHECK(later->fetched().request() == 101);
}
