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
#include "replicator_internal.hpp"
#include "wardsync/sync/store.hpp"
#include "zap_internal.hpp"

namespace wardsync {

namespace peer {

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

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

bool in_scopes(const std::string& scope, const std::vector<std::string>& prefixes) {
  if (prefixes.empty()) return true;
  for (const auto& p : prefixes) {
    if (starts_with(scope, p)) return true;
  }
  return false;
}

}  // namespace peer

using peer::from_pb;
using peer::Session;
using peer::in_scopes;
using peer::starts_with;
using peer::to_pb;

namespace {

using peer::Steady;

// The link errors of a session, cleared when the peer says HELLO again.
const std::string kSilentError = "peer silent; reconnecting";
const std::string kNoAnswerError = "no answer for ";
const std::string kRefusedError = "refused by the peer: ";

CurveKeys keys_from_z85(const char* pub, const char* sec) {
  CurveKeys k;
  zmq_z85_decode(k.public_key.data(), pub);
  zmq_z85_decode(k.secret_key.data(), sec);
  return k;
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
      s->peer_key = peer.server_public;
      s->have_key = true;
      dial(*s);
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
    s.refused = true;
    s.ready = false;
    s.in_flight.clear();
    return false;
  }
  s.peer_scopes = narrow_scopes(s.peer_scopes, g->scopes);
  s.refused = false;
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
  if (!s.inbound && env.kind_case() == pb::Envelope::kRefused) {
    // The listener will not have us: say why, and stop counting it as heard.
    std::string reason = env.refused().reason().substr(0, 300);
    // Never a UTF-8 sequence cut in two (it reaches the log and the status JSON).
    std::size_t lead = reason.size();
    while (lead > 0 && (static_cast<unsigned char>(reason[lead - 1]) & 0xC0) == 0x80) --lead;
    if (lead > 0 && static_cast<unsigned char>(reason[lead - 1]) >= 0xC0) {
      const auto c = static_cast<unsigned char>(reason[lead - 1]);
      const std::size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
      if (reason.size() - (lead - 1) < len) reason.resize(lead - 1);
    }
    s.stats.last_error = kRefusedError + reason;
    s.ready = false;
    s.in_flight.clear();
    s.last_heard = Steady::time_point{};
    return;
  }
  if (!s.inbound && !s.ready && env.kind_case() != pb::Envelope::kHello) return;  // refused or not yet up
  if (s.inbound && !s.ready && env.kind_case() != pb::Envelope::kHello) {
    // Data from a peer we hold no session for (we restarted, or it never said
    // HELLO): apply nothing, ask it to start over (at most once a second); a
    // peer we refused is told so instead, or it would take our HELLO as a welcome.
    auto now = Steady::now();
    if (now - s.last_hello > std::chrono::seconds(1)) {
      if (s.refused) refuse(s, now);
      else send_hello(s, now, true);
    }
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
      s.stats.node_id_hex = to_hex(hello_node);  // named in the status, refused or not
      if (!check_grant(s, hello_node)) {  // nothing flows either way
        auto now = Steady::now();
        if (s.inbound && now - s.last_hello > std::chrono::seconds(1)) refuse(s, now);
        return;
      }
      s.peer_node = hello_node;
      if (s.inbound) s.stats.name = "inbound:" + s.stats.node_id_hex.substr(0, 16);
      departed_.erase(s.stats.node_id_hex);  // back
      // Resume from what the peer holds now: never from zero, never from a
      // position it may have lost (a restored peer reports its real vector).
      s.peer_vv = from_pb(h.vv());
      s.sent_vv = s.peer_vv;
      ++s.epoch;
      s.in_flight.clear();
      s.ready = true;
      s.pump_needed = true;
      // A link error ends with the link's return; any other stays for the operator.
      const std::string& e = s.stats.last_error;
      if (e == kSilentError || e.rfind(kNoAnswerError, 0) == 0 || e.rfind(kRefusedError, 0) == 0) s.stats.last_error.clear();
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
  s.lacking = writer_.run([out, view = s.sent_vv, scopes = s.peer_scopes, first = options_.send_first,
                           limit = options_.batch_changes, wake = wake_](Store& st) {
    *out = st.missing_for(view, limit, scopes, first);
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
  if (!s.inbound && !s.ready) {
    // libzmq gives up on a connection whose CURVE handshake failed (the peer's
    // ZAP refused our key: not enrolled there yet, or revoked; or the `peer` line
    // names a wrong server key) and never dials it again. Unanswered for a
    // while, start afresh: a ward enrolled after it started gets through
    // without a restart.
    const auto redial_after = std::max<Steady::duration>(options_.peer_timeout * 3, std::chrono::seconds(5));
    if (now - s.dialed > redial_after && now - s.last_heard > redial_after) {
      try {
        dial(s);
      } catch (const zmq::error_t& e) {
        s.stats.last_error = std::string("cannot dial: ") + e.what();
        return;
      }
      if (s.stats.last_error.rfind(kRefusedError, 0) != 0)  // the peer's own reason says more
        s.stats.last_error = kNoAnswerError +
                           std::to_string(std::chrono::duration_cast<std::chrono::seconds>(redial_after).count()) +
                           " s; dialling again (check the `peer` line's address and key, and that the peer holds "
                           "this node's certificate)";
    }
    if (now - s.last_hello > hello_every) send_hello(s, now);
  }
  if (!s.ready) return;
  if (now - s.last_heard > options_.peer_timeout) {
    // Silent peer: the link is down. Forget what was in flight; on resume the
    // peer's HELLO says where to start.
    s.ready = false;
    s.in_flight.clear();
    s.stats.last_error = kSilentError;
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
    if (s->ready && !check_grant(*s, s->peer_node) && s->inbound) refuse(*s, now);
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
  for (const auto& [id, d] : departed_) {
    bool present = std::any_of(sessions_.begin(), sessions_.end(),
                               [&](const std::unique_ptr<Session>& s) { return s->stats.node_id_hex == id; });
    if (present) continue;  // dialling again: its new session is listed
    PeerStatus st = d.stats;
    st.last_contact_ms_ago = std::chrono::duration_cast<std::chrono::milliseconds>(now - d.last_heard).count();
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
    if (resync_.exchange(false)) {
      // Held changes were dropped here: every peer starts again from what we hold.
      for (auto& s : sessions_)
        if (s->ready) send_hello(*s, now, s->inbound);
    }
    for (auto& s : sessions_) {
      tick(*s, now);
      if (s->ready != s->reported_up) {
        s->reported_up = s->ready;
        if (options_.on_link) options_.on_link(s->stats, s->ready);
      }
    }
    start_local_fetches(now);
    expire_fetches(now);
    // Inbound sessions whose peer went silent are forgotten (it says HELLO
    // again); the peer stays listed, disconnected, until it does.
    std::erase_if(sessions_, [&](const std::unique_ptr<Session>& s) {
      bool gone = s->inbound && !s->ready && now - s->last_heard > options_.peer_timeout;
      if (gone && !s->stats.node_id_hex.empty() && !s->refused &&
          (departed_.size() < kDepartedMax ||
                                                    departed_.count(s->stats.node_id_hex) != 0)) {
        Departed& d = departed_[s->stats.node_id_hex];
        d.stats = s->stats;
        d.stats.connected = false;
        d.stats.last_error = "the peer went silent; waiting for it to connect again";
        d.last_heard = s->last_heard;
      }
      return gone;
    });
    if (now - last_status > std::chrono::milliseconds(500)) {
      publish_status(now);
      last_status = now;
    }
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
void Replicator::resync() { impl_->resync(); }
std::uint64_t Replicator::refused_connections() const { return impl_->refused_connections(); }
void Replicator::notify() { impl_->notify(); }
std::future<FetchResult> Replicator::fetch(FetchRequest request, std::chrono::milliseconds wait) {
  return impl_->fetch(std::move(request), wait);
}

}  // namespace wardsync
