// The replication session over ZeroMQ (see replicator.hpp for the protocol).
#include "wardsync/sync/replicator.hpp"

#include <sodium.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <set>
#include <map>
#include <mutex>
#include <new>
#include <thread>
#include <zmq.hpp>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/wire_format_lite.h>

#include "session.pb.h"
#include "wardsync.pb.h"
#include "wardsync/sync/store.hpp"
#include "zap_internal.hpp"

namespace wardsync {

namespace {

using Steady = std::chrono::steady_clock;

CurveKeys keys_from_z85(const char* pub, const char* sec) {
  CurveKeys k;
  zmq_z85_decode(k.public_key.data(), pub);
  zmq_z85_decode(k.secret_key.data(), sec);
  return k;
}

void to_pb(const VersionVector& vv, google::protobuf::RepeatedPtrField<pb::StreamPos>* out) {
  for (const auto& [key, head] : vv) {
    pb::StreamPos* p = out->Add();
    p->set_origin(key.origin.data(), key.origin.size());
    p->set_scope(key.scope);
    p->set_seq(head.seq);
    p->set_head(head.head.data(), head.head.size());
  }
}

VersionVector from_pb(const google::protobuf::RepeatedPtrField<pb::StreamPos>& in) {
  VersionVector vv;
  for (const auto& p : in) {
    if (p.origin().size() != kPublicKeyBytes || p.head().size() != kHashBytes) continue;
    StreamKey key;
    std::memcpy(key.origin.data(), p.origin().data(), kPublicKeyBytes);
    key.scope = p.scope();
    StreamHead head;
    head.seq = p.seq();
    std::memcpy(head.head.data(), p.head().data(), kHashBytes);
    vv[key] = head;
  }
  return vv;
}

// The stream and sequence of a change, read from its body's wire format without
// parsing its operations (the last occurrence of a field wins, as in a full
// parse). The session only keeps account of what each side holds with these;
// every change the store takes is decoded and checked in full there.
bool peek_position(const WireChange& c, StreamKey& stream, std::uint64_t& seq) {
  using google::protobuf::internal::WireFormatLite;
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const std::uint8_t*>(c.body.data()),
                                            static_cast<int>(c.body.size()));
  bool have_origin = false;
  seq = 0;
  stream.scope.clear();
  while (std::uint32_t tag = in.ReadTag()) {
    switch (tag) {
      case (1u << 3) | 2u: {  // origin
        std::uint32_t n = 0;
        if (!in.ReadVarint32(&n) || n != kPublicKeyBytes || !in.ReadRaw(stream.origin.data(), kPublicKeyBytes))
          return false;
        have_origin = true;
        break;
      }
      case (2u << 3) | 2u:  // scope
        if (!WireFormatLite::ReadBytes(&in, &stream.scope)) return false;
        break;
      case (3u << 3) | 0u:  // seq
        if (!in.ReadVarint64(&seq)) return false;
        break;
      default:
        if (!WireFormatLite::SkipField(&in, tag)) return false;
    }
  }
  return in.ConsumedEntireMessage() && have_origin && seq > 0 && !stream.scope.empty() &&
         stream.scope.size() <= kMaxScopeBytes;
}

// The last change of each stream in `changes` (highest sequence; the first of
// equals), hashed: one BLAKE2b per stream instead of one per change.
std::map<StreamKey, StreamHead> heads_of(const std::vector<WireChange>& changes) {
  std::map<StreamKey, std::pair<std::uint64_t, const WireChange*>> top;
  StreamKey key;
  std::uint64_t seq = 0;
  for (const auto& c : changes) {
    if (!peek_position(c, key, seq)) continue;
    auto& t = top[key];
    if (seq > t.first) t = {seq, &c};
  }
  std::map<StreamKey, StreamHead> out;
  for (const auto& [k, t] : top) out.emplace(k, StreamHead{t.first, change_hash(*t.second)});
  return out;
}

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool in_scopes(const std::string& scope, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  for (const auto& p : prefixes) {
    if (starts_with(scope, p)) return true;
  }
  return false;
}

// The scopes a peer asked for, narrowed to those it is granted: a requested
// prefix inside a granted one is kept; a granted prefix inside a requested one
// (a ward asking for "" gets its own scope) replaces it.
std::vector<std::string> narrow_scopes(const std::vector<std::string>& wanted, const std::vector<std::string>& granted) {
  std::vector<std::string> out;
  auto add = [&](const std::string& p) {
    if (std::find(out.begin(), out.end(), p) == out.end()) out.push_back(p);
  };
  for (const auto& w : wanted) {
    bool inside = false;
    for (const auto& g : granted) inside = inside || starts_with(w, g);
    if (inside) {
      add(w);
      continue;
    }
    for (const auto& g : granted) {
      if (starts_with(g, w)) add(g);
    }
  }
  return out;
}

struct Session {
  std::string name;
  bool inbound = false;
  std::string routing_id;                     // inbound: the ROUTER's id for the peer
  std::array<std::uint8_t, 32> peer_key{};    // its CURVE key (inbound: from ZAP's User-Id)
  bool have_key = false;
  std::unique_ptr<zmq::socket_t> dealer;      // outbound: our DEALER
  bool ready = false;                         // HELLO received
  PublicKey peer_node{};
  std::vector<std::string> peer_scopes;
  VersionVector peer_vv;                      // what they acknowledged holding
  VersionVector sent_vv;                      // what we sent (at or beyond peer_vv)
  std::map<std::uint64_t, Steady::time_point> in_flight;
  std::uint64_t next_batch = 1;
  Steady::time_point last_heard{}, last_sent{}, last_hello{}, last_ack{};
  PeerStatus stats;
  std::uint64_t they_lack = 0;                // as of the last status, sent in heartbeats
  bool pump_needed = true;
  // What the peer lacks, being read on the writer (one read at a time, so the
  // session thread never waits behind the writer's applies to send a batch).
  // `epoch` moves whenever sent_vv is reset; a read begun before is dropped.
  std::future<void> lacking;
  std::shared_ptr<std::vector<WireChange>> lacking_changes;
  std::uint64_t lacking_epoch = 0;
  std::uint64_t epoch = 0;
  // Blobs we fetch from this peer (one chunk in flight), blobs it said it
  // lacks (not asked again for a while), chunks it asked of us, and the
  // token bucket that caps what we send it.
  std::optional<Hash> fetching;
  Steady::time_point fetch_sent{};
  std::map<Hash, Steady::time_point> blob_missing_until;
  std::deque<std::pair<Hash, std::uint64_t>> blob_requests;
  double blob_tokens = 0;
  Steady::time_point blob_refill{};
};

constexpr std::size_t kFetchChangesMax = 10000;             // changes of one record in one answer
constexpr std::size_t kFetchBytesMax = 32 * 1024 * 1024;     // well under kMaxFrameBytes
constexpr std::size_t kFetchesInFlightMax = 256;             // more are answered "unavailable"
constexpr std::uint32_t kFetchRelayMarginMs = 250;           // each hop answers this much sooner
constexpr std::size_t kKeptBufferBytes = 8 * 1024 * 1024;  // the reused batch buffer's ceiling
constexpr std::size_t kBlobRequestsMax = 8;  // per peer; more are dropped (it asks again)
// Received batches between the socket and their acknowledgement (all peers):
// past this the session thread leaves further messages in ZeroMQ's queue until
// the writer has committed one. Each holds a decoded batch (~1-2 MB at most).
constexpr std::size_t kReceivingMax = 8;
// A received batch this small (decompressed), with none before it still to
// acknowledge, is decoded on the session thread rather than by the worker.
constexpr std::size_t kInlineRawBytes = 64 * 1024;
constexpr auto kBlobMissingRetry = std::chrono::seconds(30);

std::uint64_t bytes_estimate(std::uint64_t changes, const PeerStatus& st) {
  std::uint64_t moved = st.changes_sent + st.changes_received;
  std::uint64_t bytes = st.bytes_sent + st.bytes_received;
  return moved == 0 ? 0 : changes * (bytes / moved);
}

}  // namespace

CurveSecret::CurveSecret() {
  if (sodium_init() < 0) throw std::bad_alloc();
  bytes_ = static_cast<std::uint8_t*>(sodium_malloc(kBytes));  // mlock'd, guard pages
  if (bytes_ == nullptr) throw std::bad_alloc();
  sodium_memzero(bytes_, kBytes);
}
CurveSecret::~CurveSecret() { sodium_free(bytes_); }  // wipes before freeing
CurveSecret::CurveSecret(const CurveSecret& other) : CurveSecret() { std::memcpy(bytes_, other.bytes_, kBytes); }
CurveSecret& CurveSecret::operator=(const CurveSecret& other) {
  if (this != &other) std::memcpy(bytes_, other.bytes_, kBytes);
  return *this;
}

bool curve_key_from_z85(const std::string& z85, CurveSecret& out) {
  if (z85.size() != 40) return false;
  return zmq_z85_decode(out.data(), z85.c_str()) != nullptr;
}

std::string curve_key_to_z85(const CurveSecret& key) {
  char out[41];
  zmq_z85_encode(out, key.data(), key.size());
  std::string s(out);
  sodium_memzero(out, sizeof out);
  return s;
}

CurveKeys CurveKeys::generate() {
  char pub[41];
  char sec[41];
  if (zmq_curve_keypair(pub, sec) != 0) throw zmq::error_t();
  CurveKeys k = keys_from_z85(pub, sec);
  sodium_memzero(sec, sizeof sec);
  return k;
}

std::string CurveKeys::public_z85() const {
  char out[41];
  zmq_z85_encode(out, public_key.data(), public_key.size());
  return out;
}

std::string curve_key_to_z85(const std::array<std::uint8_t, 32>& key) {
  char out[41];
  zmq_z85_encode(out, key.data(), key.size());
  std::string s(out);
  sodium_memzero(out, sizeof out);  // may be a secret key
  return s;
}

bool curve_key_from_z85(const std::string& z85, std::array<std::uint8_t, 32>& out) {
  if (z85.size() != 40) return false;
  return zmq_z85_decode(out.data(), z85.c_str()) != nullptr;
}

class Replicator::Impl {
 public:
  Impl(Writer& writer, ReplicatorOptions options) : writer_(writer), options_(std::move(options)) {}
  ~Impl() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
    {
      std::lock_guard<std::mutex> lock(work_mu_);
      work_stop_ = true;
    }
    work_cv_.notify_all();
    if (worker_.joinable()) worker_.join();
    // The worker waits for the applies it queued on the writer (which outlives
    // us) before it returns; what they touch they hold themselves.
  }

  Status start();
  std::vector<PeerStatus> status() const {
    std::lock_guard<std::mutex> lock(mu_);
    return status_;
  }
  std::uint64_t refused_connections() const { return zap_ ? zap_->refused() : 0; }
  void notify() { *dirty_ = true; }
  std::future<FetchResult> fetch(FetchRequest request, std::chrono::milliseconds wait);

 private:
  // One fetch this node is waiting on: its own (a promise) or a peer's (relayed).
  struct FetchWait {
    bool local = false;
    std::promise<FetchResult> promise;
    pb::Fetch request;                 // as sent upstream (our request number)
    bool requester_inbound = false;    // a peer's: where to send the answer
    std::string requester;             // routing id (inbound) or session name (outbound)
    std::uint64_t requester_request = 0;
    std::set<std::string> asked;       // names of the upstream sessions asked, still to answer
    bool any_unavailable = false, any_refused = false;
    std::string detail;
    Steady::time_point deadline{};
  };
  void start_local_fetches(Steady::time_point now);
  void expire_fetches(Steady::time_point now);
  void serve_fetch(Session& s, const pb::Fetch& f);
  void fetch_answered(Session& s, pb::Fetched& f);
  // Sends `f` to every upstream session that is up, except `except`; returns how many.
  std::size_t ask_upstream(FetchWait& w, const std::string& except);
  void finish_fetch(std::uint64_t no, FetchWait& w, pb::Fetched::Outcome outcome, pb::Fetched* found,
                    const FetchResult* result);
  void send_fetched(Session& s, std::uint64_t request, pb::Fetched::Outcome outcome);
  bool has_upstream() const;

  // Receiving (docs/replication.md, "Receiving a catch-up"). The session thread
  // takes a batch off its socket and queues it; the receive worker decompresses
  // and decodes it and checks the signatures its runs end with
  // (Store::prepare), then queues its apply on the writer; the writer commits
  // it, reads the version vector and raises `wake_`; the session thread then
  // acknowledges it. So batch k+1 is decoded while the writer commits batch k,
  // and every acknowledgement still follows its batch's commit. Batches are
  // acknowledged in arrival order.
  struct Received {
    bool inbound = false;
    std::string peer;  // routing id (inbound) or session name (outbound)
    std::uint64_t batch_no = 0;
    std::uint64_t raw_size = 0;
    std::string zstd;
    // Written by the worker or the writer, read by the session thread after `done`.
    std::string error;  // set: nothing applied, no acknowledgement
    VersionVector heads;
    ApplyReport report;
    VersionVector vv;  // read on the writer thread right after the commit
    std::atomic<bool> done{false};
    // The applied batch, handed back so that the worker frees it (its arena
    // holds every body and record state of the batch), not the writer.
    std::shared_ptr<PreparedBatch> spent;
  };
  // An eventfd the session thread polls beside its sockets.
  struct Wake {
    int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    ~Wake() {
      if (fd >= 0) close(fd);
    }
    void signal() const {
      std::uint64_t one = 1;
      if (write(fd, &one, sizeof one) < 0) {
        // EAGAIN: the counter is already raised, the session thread will look.
      }
    }
    void drain() const {
      std::uint64_t n = 0;
      if (read(fd, &n, sizeof n) < 0) {
        // EAGAIN: nothing raised.
      }
    }
  };
  void receive_worker();
  std::shared_ptr<PreparedBatch> unpack(Received& r, std::string& raw);
  std::future<void> queue_apply(std::shared_ptr<Received> r, std::shared_ptr<PreparedBatch> prepared);
  void finish_received();
  Session* find_session(bool inbound, const std::string& peer);

  void loop();
  void handle(Session& s, const std::string& bytes);
  void tick(Session& s, Steady::time_point now);
  void pump(Session& s, Steady::time_point now);
  void send_batch(Session& s, std::vector<WireChange> changes, Steady::time_point now);
  void send(Session& s, const pb::Envelope& env);
  void send_hello(Session& s, Steady::time_point now, bool resync = false);
  void publish_status(Steady::time_point now);
  void fetch_blobs(Session& s, Steady::time_point now);
  void serve_blobs(Session& s, Steady::time_point now);
  void blob_chunk_arrived(Session& s, const pb::BlobChunk& c);
  Session& inbound_session(const std::string& routing_id, const std::string& user_id);
  bool check_grant(Session& s, const PublicKey& node);

  Writer& writer_;
  ReplicatorOptions options_;
  zmq::context_t ctx_;
  std::unique_ptr<ZapHandler> zap_;
  std::unique_ptr<zmq::socket_t> router_;
  std::vector<std::unique_ptr<Session>> sessions_;  // outbound first, then inbound
  std::atomic<bool> stop_{false};
  // Shared with the store's subscriber, which may outlive this replicator.
  std::shared_ptr<std::atomic<bool>> dirty_ = std::make_shared<std::atomic<bool>>(true);
  std::thread thread_;
  std::shared_ptr<Wake> wake_ = std::make_shared<Wake>();
  std::deque<std::shared_ptr<Received>> receiving_;  // session thread, in arrival order
  std::mutex work_mu_;
  std::condition_variable work_cv_;
  std::deque<std::shared_ptr<Received>> work_;  // GUARDED_BY(work_mu_): for the worker
  bool work_stop_ = false;                      // GUARDED_BY(work_mu_)
  std::thread worker_;
  VersionVector mine_;                          // this node's vector as of the last status (session thread)
  bool mine_known_ = false;
  std::future<void> mine_read_;                 // its next read, under way on the writer
  std::shared_ptr<VersionVector> mine_next_;
  std::vector<Hash> wanted_blobs_;  // from options_.wanted_blobs, refreshed each second
  Steady::time_point wanted_at_{};
  mutable std::mutex mu_;
  std::vector<PeerStatus> status_;  // GUARDED_BY(mu_)
  PublicKey node_id_{};
  struct QueuedFetch {
    FetchRequest request;
    std::chrono::milliseconds wait{};
    std::promise<FetchResult> promise;
  };
  std::mutex fetch_mu_;
  std::deque<QueuedFetch> fetch_queue_;        // GUARDED_BY(fetch_mu_)
  std::map<std::uint64_t, FetchWait> fetches_;  // session thread
  std::uint64_t next_fetch_ = 1;               // session thread
};

Status Replicator::Impl::start() {
  if (!options_.admit) return {Code::kInvalidArgument, "replication needs a ZAP admission rule"};
  int major = 0, minor = 0, patch = 0;
  zmq_version(&major, &minor, &patch);
  if (major * 10000 + minor * 100 + patch < 40302) {
    return {Code::kUnavailable, "libzmq 4.3.2 or later is required"};
  }
  if (wake_->fd < 0) return {Code::kUnavailable, "replication: eventfd failed"};
  writer_.run([this](Store& store) {
    node_id_ = store.node_id();
    // A commit wakes the session thread at once (not at its next 20 ms poll):
    // a clerk's save starts towards the peers as soon as it is durable.
    store.subscribe([dirty = dirty_, wake = wake_](const std::vector<AppliedChange>&) {
      *dirty = true;
      wake->signal();
    });
  }).get();
  try {
    // ZAP first: a CURVE socket bound without it would admit anyone.
    zap_ = std::make_unique<ZapHandler>(ctx_, options_.admit);
    auto secure = [&](zmq::socket_t& sock) {
      sock.set(zmq::sockopt::linger, 0);
      sock.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxFrameBytes));
      sock.set(zmq::sockopt::sndhwm, 1000);
      sock.set(zmq::sockopt::rcvhwm, 1000);
      sock.set(zmq::sockopt::reconnect_ivl, 100);
      sock.set(zmq::sockopt::reconnect_ivl_max, 5000);
      sock.set(zmq::sockopt::zap_domain, "wardsync");
      sock.set(zmq::sockopt::curve_secretkey, zmq::buffer(options_.keys.secret_key.data(), CurveSecret::size()));
      sock.set(zmq::sockopt::curve_publickey, zmq::buffer(options_.keys.public_key));
    };
    if (!options_.listen.empty()) {
      router_ = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::router);
      secure(*router_);
      router_->set(zmq::sockopt::curve_server, 1);
      router_->set(zmq::sockopt::router_mandatory, 1);  // never drop silently
      router_->bind(options_.listen);
    }
    for (const auto& peer : options_.peers) {
      auto s = std::make_unique<Session>();
      s->name = peer.endpoint;
      s->stats.name = peer.endpoint;
      s->dealer = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
      secure(*s->dealer);
      s->dealer->set(zmq::sockopt::curve_serverkey, zmq::buffer(peer.server_public));
      s->dealer->connect(peer.endpoint);
      s->peer_key = peer.server_public;
      s->have_key = true;
      sessions_.push_back(std::move(s));
    }
  } catch (const zmq::error_t& e) {
    return {Code::kUnavailable, std::string("replication transport: ") + e.what()};
  }
  worker_ = std::thread([this] { receive_worker(); });
  thread_ = std::thread([this] { loop(); });
  return Status::ok();
}

Session& Replicator::Impl::inbound_session(const std::string& routing_id, const std::string& user_id) {
  for (auto& s : sessions_) {
    if (s->inbound && s->routing_id == routing_id) return *s;
  }
  auto s = std::make_unique<Session>();
  s->inbound = true;
  s->routing_id = routing_id;
  s->have_key = curve_key_from_z85(user_id, s->peer_key);
  s->name = "inbound";
  s->stats.name = "inbound";
  sessions_.push_back(std::move(s));
  return *sessions_.back();
}

void Replicator::Impl::send(Session& s, const pb::Envelope& env) {
  std::string bytes = env.SerializeAsString();
  try {
    if (s.inbound) {
      router_->send(zmq::buffer(s.routing_id), zmq::send_flags::sndmore);
      router_->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    } else {
      (void)s.dealer->send(zmq::buffer(bytes), zmq::send_flags::dontwait);
    }
    s.stats.bytes_sent += bytes.size();
    s.last_sent = Steady::now();
  } catch (const zmq::error_t& e) {
    // EHOSTUNREACH (peer gone, ROUTER_MANDATORY) or EAGAIN (queue full): the
    // session resends from the peer's acknowledged position when it resumes.
    s.stats.last_error = e.what();
    s.ready = false;
    s.in_flight.clear();
  }
}

void Replicator::Impl::send_hello(Session& s, Steady::time_point now, bool resync) {
  pb::Envelope env;
  pb::Hello* h = env.mutable_hello();
  h->set_resync(resync);
  h->set_node_id(node_id_.data(), node_id_.size());
  h->set_protocol(kProtocolVersion);
  h->set_schema_version(options_.schema_version);
  for (const auto& scope : options_.scopes) h->add_scopes(scope);
  VersionVector vv = writer_.run_get<VersionVector>([](Store& st) { return st.version_vector(); });
  to_pb(vv, h->mutable_vv());
  send(s, env);
  s.last_hello = now;
}

// Asks the grant rule whether the session's peer (its CURVE key, and the node
// id it named) may go on; narrows what we send to it to the granted scopes.
bool Replicator::Impl::check_grant(Session& s, const PublicKey& node) {
  if (!options_.grant) return true;
  std::optional<PeerGrant> g;
  if (s.have_key) g = options_.grant(s.peer_key, node);
  if (!g) {
    s.stats.last_error = "peer refused: no valid, unrevoked certificate binds its transport key to node " +
                         to_hex(node).substr(0, 16);
    ++s.stats.refused_sessions;
    s.ready = false;
    s.in_flight.clear();
    return false;
  }
  s.peer_scopes = narrow_scopes(s.peer_scopes, g->scopes);
  return true;
}

void Replicator::Impl::handle(Session& s, const std::string& bytes) {
  s.last_heard = Steady::now();
  s.stats.bytes_received += bytes.size();
  pb::Envelope env;
  if (bytes.size() > kMaxFrameBytes || !env.ParseFromString(bytes)) {
    s.stats.last_error = "unreadable message";
    return;
  }
  if (!s.inbound && !s.ready && env.kind_case() != pb::Envelope::kHello) return;  // refused or not yet up
  if (s.inbound && !s.ready && env.kind_case() != pb::Envelope::kHello) {
    // Data from a peer we hold no session for (we restarted, or it never said
    // HELLO): apply nothing, ask it to start over (at most once a second).
    auto now = Steady::now();
    if (now - s.last_hello > std::chrono::seconds(1)) send_hello(s, now, true);
    return;
  }
  switch (env.kind_case()) {
    case pb::Envelope::kHello: {
      const pb::Hello& h = env.hello();
      if (h.protocol() != kProtocolVersion || h.node_id().size() != kPublicKeyBytes) {
        s.stats.last_error = "peer speaks protocol " + std::to_string(h.protocol());
        return;
      }
      bool was_ready = s.ready;
      if (h.resync() && !s.inbound) {
        // The listener lost our session (it restarted): what we sent since is
        // gone with it. Start again from what it holds, and introduce ourselves.
        s.ready = false;
        was_ready = false;
      }
      if (was_ready && !s.inbound) {
        // The listener answering a HELLO we repeated: the session is already up.
        for (const auto& [key, head] : from_pb(h.vv())) {
          if (s.peer_vv[key].seq < head.seq) s.peer_vv[key] = head;
        }
        break;
      }
      PublicKey hello_node{};
      std::memcpy(hello_node.data(), h.node_id().data(), kPublicKeyBytes);
      s.peer_scopes.assign(h.scopes().begin(), h.scopes().end());
      if (!check_grant(s, hello_node)) return;  // nothing flows either way
      s.peer_node = hello_node;
      s.stats.node_id_hex = to_hex(s.peer_node);
      if (s.inbound) s.stats.name = "inbound:" + s.stats.node_id_hex.substr(0, 16);
      // Resume from what the peer holds now: never from zero, never from a
      // position it may have lost (a restored peer reports its real vector).
      s.peer_vv = from_pb(h.vv());
      s.sent_vv = s.peer_vv;
      ++s.epoch;
      s.in_flight.clear();
      s.ready = true;
      s.pump_needed = true;
      if (s.inbound || !was_ready) send_hello(s, Steady::now());
      break;
    }
    case pb::Envelope::kBatch: {
      pb::Batch& b = *env.mutable_batch();
      s.stats.we_lack = b.pending();
      if (b.raw_size() > kMaxFrameBytes ||
          ZSTD_getFrameContentSize(b.zstd().data(), b.zstd().size()) != b.raw_size()) {
        s.stats.last_error = "batch size does not match its frame";
        return;
      }
      auto r = std::make_shared<Received>();
      r->inbound = s.inbound;
      r->peer = s.inbound ? s.routing_id : s.name;
      r->batch_no = b.batch_no();
      r->raw_size = b.raw_size();
      r->zstd = std::move(*b.mutable_zstd());
      if (receiving_.empty() && b.raw_size() <= kInlineRawBytes) {
        // A live push (a few changes) with nothing ahead of it: unpacked here,
        // one thread hop fewer. Nothing of the worker's is still to be queued
        // on the writer (every batch it took is done), so the order holds.
        receiving_.push_back(r);
        std::string raw;
        if (std::shared_ptr<PreparedBatch> prepared = unpack(*r, raw)) (void)queue_apply(r, std::move(prepared));
        break;
      }
      receiving_.push_back(r);
      {
        std::lock_guard<std::mutex> lock(work_mu_);
        work_.push_back(std::move(r));
      }
      work_cv_.notify_one();
      break;
    }
    case pb::Envelope::kAck: {
      const pb::Ack& a = env.ack();
      s.in_flight.erase(a.batch_no());
      s.last_ack = Steady::now();
      ++s.stats.batches_acked;
      s.peer_vv = from_pb(a.vv());
      // What they now hold may be ahead of what we sent (others fed them too).
      for (const auto& [key, head] : s.peer_vv) {
        auto it = s.sent_vv.find(key);
        if (it == s.sent_vv.end() || it->second.seq < head.seq) s.sent_vv[key] = head;
      }
      s.pump_needed = true;
      break;
    }
    case pb::Envelope::kHeartbeat: s.stats.we_lack = env.heartbeat().pending(); break;
    case pb::Envelope::kBlobRequest: {
      const pb::BlobRequest& r = env.blob_request();
      Hash h{};
      if (!options_.blobs || r.hash().size() != h.size()) break;
      std::memcpy(h.data(), r.hash().data(), h.size());
      if (s.blob_requests.size() < kBlobRequestsMax) s.blob_requests.emplace_back(h, r.offset());
      break;
    }
    case pb::Envelope::kBlobChunk: blob_chunk_arrived(s, env.blob_chunk()); break;
    case pb::Envelope::kFetch: serve_fetch(s, env.fetch()); break;
    case pb::Envelope::kFetched: fetch_answered(s, *env.mutable_fetched()); break;
    default: break;
  }
}

// Decompresses and prepares a received batch; nullptr (and `r` done, with its
// error) when it does not decompress or parse.
std::shared_ptr<PreparedBatch> Replicator::Impl::unpack(Received& r, std::string& raw) {
  raw.resize(r.raw_size);
  std::size_t n = ZSTD_decompress(raw.data(), raw.size(), r.zstd.data(), r.zstd.size());
  std::string().swap(r.zstd);
  pb::ChangeBatch batch;
  bool parsed = !ZSTD_isError(n) && n == raw.size() && batch.ParseFromString(raw);
  if (raw.capacity() > kKeptBufferBytes) std::string().swap(raw);  // an unusually large batch: give it back
  if (!parsed) {
    r.error = "batch does not decompress or parse";
    r.done.store(true, std::memory_order_release);
    wake_->signal();
    return nullptr;
  }
  std::vector<WireChange> changes;
  changes.reserve(static_cast<std::size_t>(batch.changes_size()));
  for (auto& c : *batch.mutable_changes()) {
    changes.push_back({std::move(*c.mutable_body()), std::move(*c.mutable_signature())});
  }
  std::shared_ptr<PreparedBatch> prepared = Store::prepare(std::move(changes));
  r.heads = prepared->heads();
  return prepared;
}

// Queues the apply of a prepared batch on the writer. Applied in the order
// queued (the writer runs its tasks in order), so a peer's batches are applied
// in the order it sent them.
std::future<void> Replicator::Impl::queue_apply(std::shared_ptr<Received> r, std::shared_ptr<PreparedBatch> prepared) {
  return writer_.run([r = std::move(r), prepared = std::move(prepared), wake = wake_](Store& st) mutable {
    try {
      r->report = st.apply(*prepared);
      r->vv = st.version_vector();
    } catch (const std::exception& e) {
      r->error = std::string("applying a batch: ") + e.what();
    }
    r->spent = std::move(prepared);
    r->done.store(true, std::memory_order_release);
    wake->signal();
  });
}

void Replicator::Impl::receive_worker() {
  // One buffer for every batch: a fresh ~1 MB string per batch is an mmap,
  // page faults and an munmap each time.
  std::string raw;
  // Applies queued on the writer and not yet done: at most kAppliesQueued, so
  // that the session thread's own calls on the writer (what a peer lacks, the
  // vector for a HELLO) wait behind one batch at most, not a whole pipeline.
  constexpr std::size_t kAppliesQueued = 2;
  std::deque<std::pair<std::future<void>, std::shared_ptr<Received>>> queued;
  auto retire = [&queued] {
    queued.front().first.wait();
    queued.front().second->spent.reset();
    queued.pop_front();
  };
  for (;;) {
    std::shared_ptr<Received> r;
    {
      std::unique_lock<std::mutex> lock(work_mu_);
      work_cv_.wait(lock, [this] { return work_stop_ || !work_.empty(); });
      if (work_stop_) break;
      r = std::move(work_.front());
      work_.pop_front();
    }
    std::shared_ptr<PreparedBatch> prepared = unpack(*r, raw);
    if (prepared == nullptr) continue;
    while (queued.size() >= kAppliesQueued) retire();
    std::future<void> applied = queue_apply(r, std::move(prepared));
    queued.emplace_back(std::move(applied), std::move(r));
  }
  // Stopping: the writer finishes what was queued on it (it outlives us).
  while (!queued.empty()) retire();
}

Session* Replicator::Impl::find_session(bool inbound, const std::string& peer) {
  for (auto& s : sessions_) {
    if (s->inbound == inbound && (inbound ? s->routing_id : s->name) == peer) return s.get();
  }
  return nullptr;
}

// Acknowledges the received batches whose commit is done, in arrival order.
void Replicator::Impl::finish_received() {
  while (!receiving_.empty() && receiving_.front()->done.load(std::memory_order_acquire)) {
    std::shared_ptr<Received> r = std::move(receiving_.front());
    receiving_.pop_front();
    Session* s = find_session(r->inbound, r->peer);
    if (s == nullptr || !s->ready) continue;  // gone or refused since: it resends from what we hold
    if (!r->error.empty()) {
      s->stats.last_error = r->error;
      continue;
    }
    // Whatever a peer sent us, it holds: never send it back.
    for (const auto& [stream, now_held] : r->heads) {
      StreamHead& sent = s->sent_vv[stream];
      if (now_held.seq > sent.seq) sent = now_held;
      StreamHead& theirs = s->peer_vv[stream];
      if (now_held.seq > theirs.seq) theirs = now_held;
    }
    s->stats.changes_received += r->report.applied;
    s->stats.rejected += r->report.rejected;
    if (!r->report.problems.empty()) s->stats.last_error = r->report.problems.front().detail;
    pb::Envelope ack;
    ack.mutable_ack()->set_batch_no(r->batch_no);
    ack.mutable_ack()->set_applied(static_cast<std::uint32_t>(r->report.applied));
    ack.mutable_ack()->set_rejected(static_cast<std::uint32_t>(r->report.rejected));
    to_pb(r->vv, ack.mutable_ack()->mutable_vv());
    send(*s, ack);
  }
}

void Replicator::Impl::pump(Session& s, Steady::time_point now) {
  if (s.lacking.valid()) {
    if (s.lacking.wait_for(std::chrono::seconds(0)) != std::future_status::ready) return;
    std::vector<WireChange> changes;
    bool read = true;
    try {
      s.lacking.get();
      changes = std::move(*s.lacking_changes);
    } catch (const std::exception& e) {
      s.stats.last_error = std::string("reading what the peer lacks: ") + e.what();
      read = false;
    }
    s.lacking_changes.reset();
    if (!read || s.lacking_epoch != s.epoch || !s.ready) {
      s.pump_needed = true;  // begun before a reset: read again from the new position
    } else if (!changes.empty()) {
      send_batch(s, std::move(changes), now);
      s.pump_needed = true;  // there may be more
    }
    // Empty: nothing more to send, unless a commit or an ACK set pump_needed since.
  }
  if (!s.ready || !s.pump_needed || s.in_flight.size() >= options_.credit) return;
  s.pump_needed = false;
  auto out = std::make_shared<std::vector<WireChange>>();
  s.lacking_changes = out;
  s.lacking_epoch = s.epoch;
  s.lacking = writer_.run([out, view = s.sent_vv, scopes = s.peer_scopes, limit = options_.batch_changes,
                           wake = wake_](Store& st) {
    *out = st.missing_for(view, limit, scopes);
    wake->signal();
  });
}

// Sends what a read of the peer's lack found, as one compressed batch.
void Replicator::Impl::send_batch(Session& s, std::vector<WireChange> changes, Steady::time_point now) {
  for (const auto& [stream, sent] : heads_of(changes)) {
    StreamHead& head = s.sent_vv[stream];
    if (sent.seq > head.seq) head = sent;
  }
  pb::ChangeBatch batch;
  for (auto& c : changes) {
    auto* sc = batch.add_changes();
    sc->set_body(std::move(c.body));
    sc->set_signature(std::move(c.signature));
  }
  std::string raw = batch.SerializeAsString();
  std::string packed(ZSTD_compressBound(raw.size()), '\0');
  std::size_t n = ZSTD_compress(packed.data(), packed.size(), raw.data(), raw.size(), 3);
  if (ZSTD_isError(n)) {
    s.stats.last_error = "zstd failed";
    return;
  }
  packed.resize(n);
  pb::Envelope env;
  pb::Batch* b = env.mutable_batch();
  b->set_batch_no(s.next_batch);
  b->set_count(static_cast<std::uint32_t>(changes.size()));
  b->set_raw_size(raw.size());
  b->set_zstd(std::move(packed));
  b->set_pending(s.they_lack);
  s.in_flight[s.next_batch++] = now;
  s.stats.changes_sent += changes.size();
  send(s, env);
}

void Replicator::Impl::tick(Session& s, Steady::time_point now) {
  auto hello_every = std::max<std::chrono::milliseconds>(options_.heartbeat, std::chrono::milliseconds(1000));
  if (!s.inbound && !s.ready && now - s.last_hello > hello_every) send_hello(s, now);
  if (!s.ready) return;
  if (now - s.last_heard > options_.peer_timeout) {
    // Silent peer: the link is down. Forget what was in flight; on resume the
    // peer's HELLO says where to start.
    s.ready = false;
    s.in_flight.clear();
    s.stats.last_error = "peer silent; reconnecting";
    return;
  }
  // A live link loses nothing (TCP; a failed send resets the session), so
  // in-flight batches are only sent again when no ack came for a long time:
  // a busy receiver (a large catch-up on a slow box) must not cause resends.
  auto ack_window = std::max<Steady::duration>(options_.peer_timeout * 6, std::chrono::seconds(30));
  if (!s.in_flight.empty() && now - std::max(s.in_flight.begin()->second, s.last_ack) > ack_window) {
    s.sent_vv = s.peer_vv;  // unacknowledged batches: send again from the last ack
    ++s.epoch;
    s.in_flight.clear();
    s.pump_needed = true;
  }
  pump(s, now);
  if (options_.blobs != nullptr) {
    serve_blobs(s, now);
    fetch_blobs(s, now);
  }
  if (now - s.last_sent > options_.heartbeat) {
    pb::Envelope hb;
    hb.mutable_heartbeat()->set_pending(s.they_lack);
    send(s, hb);
  }
}

// Receiver: asks this peer for the next chunk of a blob we want, once we lack
// none of its records (records first: a scan is useless before its dossier).
void Replicator::Impl::fetch_blobs(Session& s, Steady::time_point now) {
  if (s.fetching && now - s.fetch_sent > options_.peer_timeout) s.fetching.reset();  // lost: ask again later
  if (s.fetching || s.stats.we_lack > 0 || wanted_blobs_.empty()) return;
  std::set<Hash> taken;  // one peer per blob at a time
  for (const auto& other : sessions_) {
    if (other->fetching) taken.insert(*other->fetching);
  }
  for (const Hash& h : wanted_blobs_) {
    if (taken.count(h) != 0 || options_.blobs->has(h)) continue;
    auto missing = s.blob_missing_until.find(h);
    if (missing != s.blob_missing_until.end() && now < missing->second) continue;
    pb::Envelope env;
    env.mutable_blob_request()->set_hash(h.data(), h.size());
    env.mutable_blob_request()->set_offset(options_.blobs->partial_size(h));  // resume where it stopped
    s.fetching = h;
    s.fetch_sent = now;
    s.stats.fetching_blob = to_hex(h);
    send(s, env);
    return;
  }
}

void Replicator::Impl::blob_chunk_arrived(Session& s, const pb::BlobChunk& c) {
  Hash h{};
  if (!options_.blobs || c.hash().size() != h.size()) return;
  std::memcpy(h.data(), c.hash().data(), h.size());
  if (!s.fetching || *s.fetching != h) return;  // not asked for (or given up on): ignored
  s.fetching.reset();
  s.stats.fetching_blob.clear();
  if (c.missing()) {
    s.blob_missing_until[h] = Steady::now() + kBlobMissingRetry;
    return;
  }
  if (c.data().size() > options_.blob_chunk_bytes) {
    s.stats.last_error = "blob chunk larger than asked";
    return;
  }
  Status st = options_.blobs->write_chunk(h, c.total(), c.offset(), c.data());
  if (!st.is_ok()) {
    // A chunk out of place, a size past the limit, or a blob whose bytes do not
    // hash to its name (discarded whole): reported, fetched again later.
    s.stats.last_error = "blob " + to_hex(h).substr(0, 16) + ": " + st.message();
    return;
  }
  s.stats.blob_bytes_received += c.data().size();
  if (options_.blobs->has(h)) {
    ++s.stats.blobs_received;
    std::erase(wanted_blobs_, h);
  }
  fetch_blobs(s, Steady::now());  // the next chunk at once
}

// Sender: answers chunk requests while no record batch to this peer is
// unacknowledged, within the per-peer bandwidth cap.
void Replicator::Impl::serve_blobs(Session& s, Steady::time_point now) {
  const double rate = static_cast<double>(options_.blob_bytes_per_second);
  if (rate > 0) {
    double dt = s.blob_refill == Steady::time_point{} ? 0 : std::chrono::duration<double>(now - s.blob_refill).count();
    // The bucket holds one chunk: no burst above the cap after an idle spell.
    s.blob_tokens = std::min(s.blob_tokens + dt * rate, static_cast<double>(options_.blob_chunk_bytes));
    s.blob_refill = now;
  }
  while (!s.blob_requests.empty() && s.in_flight.empty() && s.ready) {
    auto [h, offset] = s.blob_requests.front();
    auto size = options_.blobs->size(h);
    std::size_t n = size && offset < *size ? static_cast<std::size_t>(std::min<std::uint64_t>(*size - offset, options_.blob_chunk_bytes)) : 0;
    if (rate > 0 && s.blob_tokens < static_cast<double>(n)) return;  // wait for the bucket to refill
    s.blob_requests.pop_front();
    pb::Envelope env;
    pb::BlobChunk* c = env.mutable_blob_chunk();
    c->set_hash(h.data(), h.size());
    c->set_offset(offset);
    if (!size || offset > *size) {
      c->set_missing(true);
    } else {
      auto data = options_.blobs->read(h, offset, n);
      if (!data.is_ok()) {
        c->set_missing(true);
      } else {
        c->set_total(*size);
        c->set_data(std::move(data).value());
        s.stats.blob_bytes_sent += n;
        if (rate > 0) s.blob_tokens -= static_cast<double>(n);
      }
    }
    send(s, env);
  }
}

void Replicator::Impl::publish_status(Steady::time_point now) {
  // This node's vector, read on the writer without waiting for it (it may be
  // applying a batch): the status uses the last one read, at most one period old.
  if (mine_read_.valid() && mine_read_.wait_for(std::chrono::seconds(0)) == std::future_status::ready) {
    try {
      mine_read_.get();
      mine_ = std::move(*mine_next_);
    } catch (const std::exception&) {
      // kept: the last vector read
    }
  }
  if (!mine_known_) {  // the first status: read now
    mine_ = writer_.run_get<VersionVector>([](Store& st) { return st.version_vector(); });
    mine_known_ = true;
  } else if (!mine_read_.valid()) {
    auto next = std::make_shared<VersionVector>();
    mine_next_ = next;
    mine_read_ = writer_.run([next](Store& st) { *next = st.version_vector(); });
  }
  const VersionVector& mine = mine_;
  std::vector<PeerStatus> out;
  for (auto& s : sessions_) {
    // A certificate revoked or expired since the HELLO ends the session.
    if (s->ready) (void)check_grant(*s, s->peer_node);
    PeerStatus st = s->stats;
    st.connected = s->ready;
    st.last_contact_ms_ago =
        s->last_heard == Steady::time_point{}
            ? -1
            : std::chrono::duration_cast<std::chrono::milliseconds>(now - s->last_heard).count();
    std::uint64_t lack = 0;
    for (const auto& [key, head] : mine) {
      if (!in_scopes(key.scope, s->peer_scopes)) continue;
      auto it = s->peer_vv.find(key);
      std::uint64_t theirs = it == s->peer_vv.end() ? 0 : it->second.seq;
      if (head.seq > theirs) lack += head.seq - theirs;
    }
    // Before the peer's HELLO we do not know what it holds: nothing to report.
    s->they_lack = s->ready || s->stats.batches_acked > 0 ? lack : s->they_lack;
    st.they_lack = s->they_lack;
    st.they_lack_bytes = bytes_estimate(st.they_lack, st);
    st.we_lack_bytes = bytes_estimate(st.we_lack, st);
    out.push_back(std::move(st));
  }
  std::lock_guard<std::mutex> lock(mu_);
  status_ = std::move(out);
}

void Replicator::Impl::loop() {
  Steady::time_point last_status{};
  while (!stop_) {
    // With kReceivingMax batches waiting for the writer, messages stay in
    // ZeroMQ's queues (its high-water mark then holds the peers back) until
    // the writer has committed one and raised wake_.
    const bool accepting = receiving_.size() < kReceivingMax;
    const short in = accepting ? ZMQ_POLLIN : 0;
    std::vector<zmq::pollitem_t> items;
    items.push_back({nullptr, wake_->fd, ZMQ_POLLIN, 0});
    if (router_) items.push_back({static_cast<void*>(*router_), 0, in, 0});
    std::vector<Session*> outbound;
    for (auto& s : sessions_) {
      if (s->inbound) continue;
      items.push_back({static_cast<void*>(*s->dealer), 0, in, 0});
      outbound.push_back(s.get());
    }
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(20));
      if (items[0].revents & ZMQ_POLLIN) wake_->drain();
      finish_received();
      std::size_t i = 1;
      if (router_) {
        if (items[i].revents & ZMQ_POLLIN) {
          for (int k = 0; k < 64 && receiving_.size() < kReceivingMax; ++k) {
            zmq::message_t id;
            zmq::message_t body;
            if (!router_->recv(id, zmq::recv_flags::dontwait)) break;
            if (!id.more() || !router_->recv(body, zmq::recv_flags::dontwait)) continue;
            const char* uid = zmq_msg_gets(body.handle(), "User-Id");  // set by our ZAP handler
            std::string user_id = uid != nullptr ? uid : "";
            std::string text = body.to_string();
            while (body.more()) (void)router_->recv(body, zmq::recv_flags::dontwait);  // extra frames: ignored
            handle(inbound_session(id.to_string(), user_id), text);
          }
        }
        ++i;
      }
      for (Session* s : outbound) {
        if (items[i++].revents & ZMQ_POLLIN) {
          for (int k = 0; k < 64 && receiving_.size() < kReceivingMax; ++k) {
            zmq::message_t body;
            if (!s->dealer->recv(body, zmq::recv_flags::dontwait)) break;
            handle(*s, body.to_string());
          }
        }
      }
    } catch (const zmq::error_t& e) {
      if (stop_) break;
    }
    auto now = Steady::now();
    if (options_.wanted_blobs && now - wanted_at_ > std::chrono::seconds(1)) {
      try {
        wanted_blobs_ = options_.wanted_blobs();
      } catch (const std::exception&) {
        wanted_blobs_.clear();  // the caller's error; blobs wait, records go on
      }
      wanted_at_ = now;
    }
    if (dirty_->exchange(false)) {
      for (auto& s : sessions_) s->pump_needed = true;
    }
    for (auto& s : sessions_) tick(*s, now);
    start_local_fetches(now);
    expire_fetches(now);
    // Inbound sessions whose peer went silent are forgotten; it says HELLO again.
    std::erase_if(sessions_, [&](const std::unique_ptr<Session>& s) {
      return s->inbound && !s->ready && now - s->last_heard > options_.peer_timeout;
    });
    if (now - last_status > std::chrono::milliseconds(500)) {
      publish_status(now);
      last_status = now;
    }
  }
}

// ---------------------------------------------------------------------------
// On-demand fetch (docs/replication.md, "On-demand fetch")

const char* fetch_outcome_name(FetchOutcome outcome) {
  switch (outcome) {
    case FetchOutcome::kFound: return "found";
    case FetchOutcome::kNotFound: return "not_found";
    case FetchOutcome::kUnavailable: return "unavailable";
    case FetchOutcome::kRefused: return "refused";
  }
  return "?";
}

std::future<FetchResult> Replicator::Impl::fetch(FetchRequest request, std::chrono::milliseconds wait) {
  QueuedFetch q;
  q.request = std::move(request);
  q.wait = wait;
  std::future<FetchResult> f = q.promise.get_future();
  std::lock_guard<std::mutex> lock(fetch_mu_);
  fetch_queue_.push_back(std::move(q));
  return f;
}

bool Replicator::Impl::has_upstream() const {
  return std::any_of(sessions_.begin(), sessions_.end(), [](const auto& s) { return !s->inbound; });
}

std::size_t Replicator::Impl::ask_upstream(FetchWait& w, const std::string& except) {
  pb::Envelope env;
  *env.mutable_fetch() = w.request;
  std::size_t n = 0;
  for (auto& s : sessions_) {
    if (s->inbound || !s->ready || s->name == except) continue;
    send(*s, env);
    if (!s->ready) continue;  // the send failed
    w.asked.insert(s->name);
    ++n;
  }
  return n;
}

void Replicator::Impl::start_local_fetches(Steady::time_point now) {
  std::deque<QueuedFetch> queue;
  {
    std::lock_guard<std::mutex> lock(fetch_mu_);
    queue.swap(fetch_queue_);
  }
  for (QueuedFetch& q : queue) {
    FetchResult none;
    const FetchRequest& r = q.request;
    if (r.collection.empty() || r.collection.size() > kMaxNameBytes || (!r.id && (r.field.empty() || r.value.empty()))) {
      none.detail = "a fetch names a collection and an id, or an indexed field and its value";
      none.outcome = FetchOutcome::kNotFound;
      q.promise.set_value(std::move(none));
      continue;
    }
    if (fetches_.size() >= kFetchesInFlightMax) {
      none.detail = "too many fetches in flight";
      q.promise.set_value(std::move(none));
      continue;
    }
    std::uint64_t no = next_fetch_++;
    FetchWait w;
    w.local = true;
    w.promise = std::move(q.promise);
    w.deadline = now + q.wait;
    w.request.set_request(no);
    w.request.set_collection(r.collection);
    if (r.id) w.request.set_record_id(r.id->bytes.data(), r.id->bytes.size());
    w.request.set_field(r.field);
    w.request.set_value(r.value);
    w.request.set_hops(options_.fetch_hops);
    w.request.set_budget_ms(static_cast<std::uint32_t>(std::clamp<std::int64_t>(q.wait.count(), 0, 60000)));
    if (ask_upstream(w, "") == 0) {
      // The root of the tree holds every scope: nobody above it to ask.
      none.outcome = has_upstream() ? FetchOutcome::kUnavailable : FetchOutcome::kNotFound;
      none.detail = has_upstream() ? "no upstream link is up" : "this node has no upstream peer";
      w.promise.set_value(std::move(none));
      continue;
    }
    fetches_.emplace(no, std::move(w));
  }
}

void Replicator::Impl::send_fetched(Session& s, std::uint64_t request, pb::Fetched::Outcome outcome) {
  pb::Envelope env;
  env.mutable_fetched()->set_request(request);
  env.mutable_fetched()->set_outcome(outcome);
  send(s, env);
}

// A peer asks for a record: answer from the store, or ask our own upstream peers.
void Replicator::Impl::serve_fetch(Session& s, const pb::Fetch& f) {
  const std::string& collection = f.collection();
  bool by_id = f.record_id().size() == RecordId{}.bytes.size();
  if (collection.empty() || collection.size() > kMaxNameBytes || f.field().size() > kMaxNameBytes ||
      f.value().size() > kMaxChangeBodyBytes || (!by_id && (f.field().empty() || f.value().empty()))) {
    s.stats.last_error = "malformed fetch request";
    send_fetched(s, f.request(), pb::Fetched::NOT_FOUND);
    return;
  }
  if (options_.may_fetch && !options_.may_fetch(s.peer_node, collection)) {
    ++s.stats.fetches_refused;
    send_fetched(s, f.request(), pb::Fetched::REFUSED);
    return;
  }
  RecordId id;
  if (by_id) std::memcpy(id.bytes.data(), f.record_id().data(), id.bytes.size());
  std::pair<RecordId, std::vector<WireChange>> held =
      writer_.run_get<std::pair<RecordId, std::vector<WireChange>>>([&](Store& st) {
        RecordId rid = id;
        if (!by_id) {
          auto ids = st.find(collection, f.field(), f.value(), 1);
          if (ids.empty()) return std::make_pair(rid, std::vector<WireChange>{});
          rid = ids.front();
        }
        return std::make_pair(rid, st.record_changes(collection, rid, kFetchChangesMax));
      });
  if (!held.second.empty()) {
    pb::Envelope env;
    pb::Fetched* out = env.mutable_fetched();
    out->set_request(f.request());
    out->set_outcome(pb::Fetched::FOUND);
    out->set_record_id(held.first.bytes.data(), held.first.bytes.size());
    std::size_t bytes = 0;
    for (const WireChange& c : held.second) {
      bytes += c.body.size() + c.signature.size();
      if (bytes > kFetchBytesMax) break;  // the oldest part of a huge history: enough to read it
      auto* sc = out->add_changes();
      sc->set_body(c.body);
      sc->set_signature(c.signature);
    }
    ++s.stats.fetches_served;
    send(s, env);
    return;
  }
  // Not here: up the tree, while the hop limit and the requester's patience allow.
  if (f.hops() <= 1 || !has_upstream()) {
    send_fetched(s, f.request(), pb::Fetched::NOT_FOUND);
    return;
  }
  if (f.budget_ms() <= 2 * kFetchRelayMarginMs || fetches_.size() >= kFetchesInFlightMax) {
    send_fetched(s, f.request(), pb::Fetched::UNAVAILABLE);
    return;
  }
  std::uint64_t no = next_fetch_++;
  FetchWait w;
  w.request = f;
  w.request.set_request(no);
  w.request.set_hops(f.hops() - 1);
  w.request.set_budget_ms(f.budget_ms() - kFetchRelayMarginMs);
  w.requester_inbound = s.inbound;
  w.requester = s.inbound ? s.routing_id : s.name;
  w.requester_request = f.request();
  w.deadline = Steady::now() + std::chrono::milliseconds(w.request.budget_ms());
  if (ask_upstream(w, s.inbound ? "" : s.name) == 0) {
    send_fetched(s, f.request(), pb::Fetched::UNAVAILABLE);  // our own links are down
    return;
  }
  fetches_.emplace(no, std::move(w));
}

void Replicator::Impl::fetch_answered(Session& s, pb::Fetched& f) {
  auto it = fetches_.find(f.request());
  if (it == fetches_.end() || it->second.asked.erase(s.name) == 0) return;  // late, or not asked of it
  FetchWait& w = it->second;
  switch (f.outcome()) {
    case pb::Fetched::FOUND: {
      RecordId id;
      if (f.record_id().size() != id.bytes.size() ||
          (w.request.record_id().size() == id.bytes.size() && f.record_id() != w.request.record_id())) {
        w.any_unavailable = true;
        w.detail = "an answer named another record";
        break;
      }
      std::memcpy(id.bytes.data(), f.record_id().data(), id.bytes.size());
      if (!w.local) {
        finish_fetch(it->first, w, pb::Fetched::FOUND, &f, nullptr);  // relayed untouched
        fetches_.erase(it);
        return;
      }
      // The same bounds this node keeps when it serves: a larger answer is refused
      // before any signature is checked (each costs 45 µs on the writer thread).
      std::size_t answer_bytes = 0;
      for (const auto& c : f.changes()) answer_bytes += c.body().size() + c.signature().size();
      if (static_cast<std::size_t>(f.changes_size()) > kFetchChangesMax || answer_bytes > kFetchBytesMax) {
        w.any_unavailable = true;
        w.detail = "an answer was larger than a fetch may be";
        s.stats.last_error = w.detail;
        break;
      }
      std::vector<WireChange> changes;
      changes.reserve(static_cast<std::size_t>(f.changes_size()));
      for (auto& c : *f.mutable_changes()) changes.push_back({std::move(*c.mutable_body()), std::move(*c.mutable_signature())});
      const std::string collection = w.request.collection();
      const std::string field = w.request.field(), value = w.request.value();
      const bool by_id = !w.request.record_id().empty();
      FetchResult r = writer_.run_get<FetchResult>([&](Store& st) {
        FetchResult out;
        out.id = id;
        ApplyReport rep = st.pin(collection, id, changes,
                                 by_id ? std::nullopt : std::optional<std::pair<std::string, std::string>>({field, value}));
        out.applied = rep.applied;
        out.rejected = rep.rejected;
        if (!rep.problems.empty()) out.detail = rep.problems.front().detail;
        auto rec = st.get(collection, id);
        bool usable = rec && rep.applied + rep.duplicates > 0 && (by_id || rec->text(field) == value);
        out.outcome = usable ? FetchOutcome::kFound : FetchOutcome::kUnavailable;
        return out;
      });
      s.stats.rejected += r.rejected;
      if (r.outcome == FetchOutcome::kFound) {
        finish_fetch(it->first, w, pb::Fetched::FOUND, nullptr, &r);
        fetches_.erase(it);
        return;
      }
      // Nothing verifiable came from this peer: another may still answer.
      w.any_unavailable = true;
      w.detail = "the answer did not verify: " + r.detail;
      s.stats.last_error = w.detail;
      break;
    }
    case pb::Fetched::NOT_FOUND: break;
    case pb::Fetched::REFUSED: w.any_refused = true; break;
    default: w.any_unavailable = true; break;
  }
  if (!w.asked.empty()) return;  // others still to answer
  pb::Fetched::Outcome outcome = w.any_unavailable ? pb::Fetched::UNAVAILABLE
                                 : w.any_refused   ? pb::Fetched::REFUSED
                                                   : pb::Fetched::NOT_FOUND;
  finish_fetch(it->first, w, outcome, nullptr, nullptr);
  fetches_.erase(it);
}

// Answers whoever asked: our own caller (its future) or the peer we relay for.
void Replicator::Impl::finish_fetch(std::uint64_t no, FetchWait& w, pb::Fetched::Outcome outcome, pb::Fetched* found,
                                    const FetchResult* result) {
  (void)no;
  if (w.local) {
    FetchResult r;
    if (result != nullptr) r = *result;
    switch (outcome) {
      case pb::Fetched::FOUND: r.outcome = FetchOutcome::kFound; break;
      case pb::Fetched::NOT_FOUND: r.outcome = FetchOutcome::kNotFound; break;
      case pb::Fetched::REFUSED: r.outcome = FetchOutcome::kRefused; break;
      default: r.outcome = FetchOutcome::kUnavailable; break;
    }
    if (r.detail.empty()) r.detail = w.detail;
    w.promise.set_value(std::move(r));
    return;
  }
  for (auto& s : sessions_) {
    bool match = w.requester_inbound ? (s->inbound && s->routing_id == w.requester)
                                     : (!s->inbound && s->name == w.requester);
    if (!match || !s->ready) continue;
    if (found != nullptr) {
      pb::Envelope env;
      *env.mutable_fetched() = std::move(*found);
      env.mutable_fetched()->set_request(w.requester_request);
      send(*s, env);
    } else {
      send_fetched(*s, w.requester_request, outcome);
    }
    return;
  }
}

void Replicator::Impl::expire_fetches(Steady::time_point now) {
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    it->second.detail = "no answer in time";
    finish_fetch(it->first, it->second, pb::Fetched::UNAVAILABLE, nullptr, nullptr);
    it = fetches_.erase(it);
  }
}

Replicator::Replicator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Replicator::~Replicator() = default;

Result<std::unique_ptr<Replicator>> Replicator::start(Writer& writer, ReplicatorOptions options) {
  auto impl = std::make_unique<Impl>(writer, std::move(options));
  Status s = impl->start();
  if (!s.is_ok()) return s;
  return std::unique_ptr<Replicator>(new Replicator(std::move(impl)));
}

std::vector<PeerStatus> Replicator::status() const { return impl_->status(); }
std::uint64_t Replicator::refused_connections() const { return impl_->refused_connections(); }
void Replicator::notify() { impl_->notify(); }
std::future<FetchResult> Replicator::fetch(FetchRequest request, std::chrono::milliseconds wait) {
  return impl_->fetch(std::move(request), wait);
}

}  // namespace wardsync
