// Internal to the replicator: its session state and Replicator::Impl, shared by
// replicator.cpp (sessions and batches), replicator_receive.cpp (the receive
// pipeline), replicator_blobs.cpp and replicator_fetch.cpp (on-demand fetch).
#pragma once

#include "wardsync/sync/replicator.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <zmq.hpp>

#include "session.pb.h"
#include "wardsync.pb.h"
#include "wardsync/sync/store.hpp"
#include "zap_internal.hpp"

namespace wardsync {

namespace peer {

using Steady = std::chrono::steady_clock;

void to_pb(const VersionVector& vv, google::protobuf::RepeatedPtrField<pb::StreamPos>* out);
VersionVector from_pb(const google::protobuf::RepeatedPtrField<pb::StreamPos>& in);
bool starts_with(const std::string& s, const std::string& prefix);
bool in_scopes(const std::string& scope, const std::vector<std::string>& prefixes);

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
  Steady::time_point dialed{};  // outbound: when the DEALER was (re)created
  bool reported_up = false;     // as last told to ReplicatorOptions::on_link
  bool refused = false;         // the grant refused its peer, and has not admitted it since
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
  // The peer's on-demand fetches: each reads the writer's database, so a peer
  // asking without pause would stall this node's commits and its other peers.
  double fetch_tokens = -1;  // < 0: not yet filled (a full burst on first use)
  Steady::time_point fetch_refill{};
};


}  // namespace peer

class Replicator::Impl {
 public:
  using Steady = peer::Steady;
  using Session = peer::Session;
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
  void resync() { resync_ = true; }  // any thread; the session thread acts on it
  std::future<FetchResult> fetch(FetchRequest request, std::chrono::milliseconds wait);

 private:
  static constexpr std::size_t kFetchChangesMax = 10000;             // changes of one record in one answer
  static constexpr std::size_t kFetchBytesMax = 32 * 1024 * 1024;     // well under kMaxFrameBytes
  static constexpr std::size_t kFetchesInFlightMax = 256;             // more are answered "unavailable"
  static constexpr std::uint32_t kFetchRelayMarginMs = 250;           // each hop answers this much sooner
  // A peer's fetches served per second, and the burst allowed after a quiet spell.
  // A district's fetches carry all its wards' look-ups; clerks ask a few a minute.
  static constexpr double kFetchesPerSecond = 20;
  static constexpr double kFetchBurst = 40;
  static constexpr std::size_t kKeptBufferBytes = 8 * 1024 * 1024;  // the reused batch buffer's ceiling
  static constexpr std::size_t kBlobRequestsMax = 8;  // per peer; more are dropped (it asks again)
  // Received batches between the socket and their acknowledgement (all peers):
  // past this the session thread leaves further messages in ZeroMQ's queue until
  // the writer has committed one. Each holds a decoded batch (~1-2 MB at most).
  static constexpr std::size_t kReceivingMax = 8;
  // A received batch this small (decompressed), with none before it still to
  // acknowledge, is decoded on the session thread rather than by the worker.
  static constexpr std::size_t kInlineRawBytes = 64 * 1024;
  static constexpr auto kBlobMissingRetry = std::chrono::seconds(30);

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
  void secure(zmq::socket_t& sock) const;  // CURVE keys, ZAP domain, limits
  void dial(Session& s);                   // a fresh DEALER to s.name (its endpoint)
  void pump(Session& s, Steady::time_point now);
  void send_batch(Session& s, std::vector<WireChange> changes, Steady::time_point now);
  void send(Session& s, const pb::Envelope& env);
  void send_hello(Session& s, Steady::time_point now, bool resync = false);
  void refuse(Session& s, Steady::time_point now);  // a Refused telling the peer why (at most once a second)
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
  // Inbound peers whose session ended, by node id (hex): still listed, not
  // connected, so a district sees a ward that went away (bounded; a peer that
  // comes back leaves this list).
  struct Departed {
    PeerStatus stats;
    Steady::time_point last_heard;
  };
  std::map<std::string, Departed> departed_;  // session thread only
  static constexpr std::size_t kDepartedMax = 1000;
  std::atomic<bool> stop_{false};
  std::atomic<bool> resync_{false};  // Replicator::resync() asked: every session says HELLO again
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

}  // namespace wardsync
