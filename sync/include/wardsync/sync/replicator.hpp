// Replicator: keeps a store in sync with its peers over ZeroMQ (DESIGN.md,
// "Replication protocol").
//
// Transport: the listening node binds a ROUTER, each configured peer gets a
// DEALER; CURVE encryption is always on and a ZAP handler admits only the
// transport keys the `admit` callback accepts (the node refuses to start
// without one). Transport keys are separate from signing keys.
//
// Session: each side sends HELLO (node id, protocol and schema version, the
// scope prefixes it wants, its version vector); then each streams what the
// other lacks, in zstd-compressed batches with at most `credit` batches in
// flight; the receiver acknowledges a batch with its version vector only after
// the batch is committed; new local changes are pushed as they are committed;
// heartbeats keep the session alive; a lost link is retried with backoff and the
// session resumes from the peer's version vector, never from zero.
//
// Threads: one thread owns every ZeroMQ socket, plus the ZAP handler's thread
// and a receive worker that decompresses and decodes received batches
// (Store::prepare) while the Writer commits the one before (docs/replication.md,
// "Receiving a catch-up"). The store is reached only through the Writer; the
// session thread never waits on it to acknowledge or to send a batch. Public
// methods are thread-safe.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wardsync/sync/blob_store.hpp"
#include "wardsync/sync/identity.hpp"
#include "wardsync/sync/status.hpp"
#include "wardsync/sync/writer.hpp"

namespace wardsync {

constexpr std::uint32_t kProtocolVersion = 1;
constexpr std::size_t kMaxFrameBytes = 64 * 1024 * 1024;  // ZMQ_MAXMSGSIZE and zstd output bound

// A CURVE secret key in sodium_malloc'd memory (locked: never swapped, guard
// pages around it), wiped with sodium_memzero when freed (STYLE.md, "Secret
// keys"). Copies are deep (each owns its own locked page). Throws
// std::bad_alloc when locked memory is exhausted.
class CurveSecret {
 public:
  static constexpr std::size_t kBytes = 32;
  CurveSecret();  // zeroed
  ~CurveSecret();
  CurveSecret(const CurveSecret& other);
  CurveSecret& operator=(const CurveSecret& other);
  std::uint8_t* data() { return bytes_; }
  const std::uint8_t* data() const { return bytes_; }
  static constexpr std::size_t size() { return kBytes; }

 private:
  std::uint8_t* bytes_ = nullptr;
};

// A CURVE key pair for the transport (never the Ed25519 signing key).
struct CurveKeys {
  std::array<std::uint8_t, 32> public_key{};
  CurveSecret secret_key;
  static CurveKeys generate();
  std::string public_z85() const;
};
bool curve_key_from_z85(const std::string& z85, std::array<std::uint8_t, 32>& out);
std::string curve_key_to_z85(const std::array<std::uint8_t, 32>& key);  // 40 characters
bool curve_key_from_z85(const std::string& z85, CurveSecret& out);
std::string curve_key_to_z85(const CurveSecret& key);  // wipe the result after use

struct PeerConfig {
  std::string endpoint;                          // "tcp://127.0.0.1:7001"
  std::array<std::uint8_t, 32> server_public{};  // the peer's CURVE public key
};

// What a peer may receive from us, decided from the CURVE key it connected
// with and the node id its HELLO names (the certificate binding the two).
struct PeerGrant {
  std::vector<std::string> scopes;  // scope prefixes; "" = everything
};

// On-demand fetch of one record outside this node's scopes (docs/replication.md,
// "On-demand fetch"): by id, or by the value of an indexed field (a dossier's code).
struct FetchRequest {
  std::string collection;
  std::optional<RecordId> id;
  std::string field, value;  // used when `id` is empty
};

enum class FetchOutcome {
  kFound,        // arrived, every change verified by its own signature, pinned
  kNotFound,     // every upstream peer asked answered that it holds no such record
  kUnavailable,  // no upstream link, no answer in time, or nothing verifiable arrived
  kRefused,      // an upstream peer refused: this node may not fetch that collection
};
const char* fetch_outcome_name(FetchOutcome outcome);

struct FetchResult {
  FetchOutcome outcome = FetchOutcome::kUnavailable;
  RecordId id;               // kFound: the record, now readable locally
  std::size_t applied = 0;   // changes pinned now (0 on a refresh that brought nothing new)
  std::size_t rejected = 0;  // changes refused (bad signature, another record, ...)
  std::string detail;
};

struct PeerStatus;

struct ReplicatorOptions {
  std::string listen;  // "tcp://127.0.0.1:7000", or empty for a node that only connects
  std::vector<PeerConfig> peers;
  CurveKeys keys;
  // Scope prefixes this node wants from its peers ("" = everything).
  std::vector<std::string> scopes;
  // Scope prefixes whose streams are sent before all others (the node's trust
  // records: a receiver holds an origin's changes until its certificate is there).
  std::vector<std::string> send_first;
  // ZAP: may a client with this CURVE public key connect? Required. Called on
  // the ZAP handler's own thread: guard shared state (a TrustStore) with a lock.
  std::function<bool(const std::array<std::uint8_t, 32>&)> admit;
  // Optional, on the session thread: consulted at each HELLO with the peer's
  // CURVE key (inbound: the client's; outbound: the configured server key) and
  // the node id the HELLO names, and again every few seconds for live sessions.
  // nullopt refuses (or ends) the session: nothing flows either way. What we
  // send is narrowed to the grant's scopes. Without it, any admitted peer gets
  // what it asks for (tests, tools).
  std::function<std::optional<PeerGrant>(const std::array<std::uint8_t, 32>& curve_key, const PublicKey& node_id)>
      grant;
  std::size_t batch_changes = 1000;
  std::size_t credit = 4;  // batches in flight per peer
  // Blobs (optional). Served from and fetched into `blobs` (used on the session
  // thread only), one chunk in flight per peer, after the records: a peer is
  // asked for blobs only while we lack none of its changes, and serves a chunk
  // only while none of its record batches to that peer are unacknowledged.
  // `wanted_blobs` (called on the session thread about once a second) names
  // the blobs this node needs and lacks (e.g. referenced by records it holds).
  BlobStore* blobs = nullptr;
  std::function<std::vector<Hash>()> wanted_blobs;
  // Called on the session thread when a session comes up or goes down (with
  // the peer's figures at that moment: name, node id, last error). Keep it quick.
  std::function<void(const PeerStatus& peer, bool up)> on_link;
  std::size_t blob_chunk_bytes = 128 * 1024;
  // Bandwidth cap for the blob chunks we send, per peer; 0: no cap.
  std::uint64_t blob_bytes_per_second = 0;
  // On-demand fetch, serving side: may this peer (its node id, certificate
  // checked at HELLO) fetch records of this collection from us? Called on the
  // session thread. Without it, every admitted, granted peer may.
  std::function<bool(const PublicKey& requester, const std::string& collection)> may_fetch;
  // How many nodes a fetch may pass through, the requester's upstream peer included.
  std::uint32_t fetch_hops = 4;
  std::chrono::milliseconds heartbeat{1000};
  std::chrono::milliseconds peer_timeout{5000};
  std::uint32_t schema_version = 1;
};

struct PeerStatus {
  std::string name;  // endpoint, or "inbound:<node id prefix>"
  bool connected = false;
  std::string node_id_hex;
  std::int64_t last_contact_ms_ago = -1;
  std::uint64_t changes_sent = 0, changes_received = 0;
  std::uint64_t bytes_sent = 0, bytes_received = 0;
  std::uint64_t batches_acked = 0;
  std::uint64_t they_lack = 0;  // changes of their scopes they have not acknowledged
  std::uint64_t we_lack = 0;    // changes of our scopes they hold and we lack (as they last said)
  // Estimates from this link's mean wire bytes per change (0 before any change moved).
  std::uint64_t they_lack_bytes = 0, we_lack_bytes = 0;
  std::uint64_t rejected = 0;   // changes of theirs our store refused
  std::uint64_t refused_sessions = 0;  // HELLOs refused by the grant (revoked, wrong node id)
  std::uint64_t blob_bytes_sent = 0, blob_bytes_received = 0;  // chunk payloads
  std::uint64_t blobs_received = 0;                             // completed and verified
  std::string fetching_blob;                                    // hex, while a transfer runs
  std::uint64_t fetches_served = 0;   // on-demand fetches of theirs we answered with a record
  std::uint64_t fetches_refused = 0;  // on-demand fetches of theirs may_fetch refused
  std::uint64_t fetches_limited = 0;  // ... answered "unavailable" above the per-peer rate
  std::string last_error;
};

class Replicator {
 public:
  // Starts the ZAP handler, binds / connects, and runs the session thread.
  static Result<std::unique_ptr<Replicator>> start(Writer& writer, ReplicatorOptions options);
  ~Replicator();  // stops the threads and closes the sockets
  Replicator(const Replicator&) = delete;
  Replicator& operator=(const Replicator&) = delete;

  std::vector<PeerStatus> status() const;
  // Every live session says HELLO again with this node's vector, so each peer
  // sends again from there (after held changes were dropped: nothing held is
  // acknowledged, but a live sender would not look back by itself).
  void resync();
  // Connections the ZAP handler refused (transport key not admitted).
  std::uint64_t refused_connections() const;
  // Wakes the session thread to push newly committed changes now.
  void notify();
  // Asks the upstream peers (the configured, outbound ones) for one record; the
  // first verified answer is pinned in the store (Store::pin). The future is
  // ready within about `wait`: kUnavailable at once when no upstream link is up.
  // Thread-safe; the caller may retry whenever it likes.
  std::future<FetchResult> fetch(FetchRequest request, std::chrono::milliseconds wait);

 private:
  class Impl;
  explicit Replicator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace wardsync
