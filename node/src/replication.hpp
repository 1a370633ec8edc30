// Wires the sync engine's Replicator into `wardnode run`: the transport key,
// the trust store (authority keys, certificates and revocations from the trust
// files and from replicated `trust` records), ZAP admission and per-peer grants,
// the scopes this node subscribes to, and the figures for the status pages.
//
// Trust records: every certificate and revocation a node knows from its files is
// written once as a record of the `trust` collection in the scope
// "shared/<node scope>", which every node subscribes to, so a revocation issued
// at the city reaches every ward through the tree. Received trust records are
// added to the trust store as they are applied.
//
// Catalogues: a city (or province) node publishes its procedures and holidays
// files, whole, as `catalogue` records in "shared/<its scope>" whenever they
// differ from what it last published. Every other node uses, for each kind, the
// newest publication (read from the publishing change itself) by a node whose
// city or province certificate an authority issued for a scope containing this
// node's, and that parses and validates; until one arrives it uses its own
// files. A publication from anyone else is logged and ignored.
//
// Thread safety: built and destroyed by `run`'s main thread; the figures are
// read from HTTP threads; the ZAP and session threads ask admission questions.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "domain/context.hpp"
#include "schema.hpp"
#include "wardsync/sync/blob_store.hpp"
#include "wardsync/sync/replicator.hpp"
#include "wardsync/sync/trust.hpp"

namespace wardsync::node {

inline constexpr const char* kTrustCollection = "trust";
inline constexpr const char* kSharedScopePrefix = "shared/";

// What a peer may fetch from this node on demand: whole dossiers (a ward needs
// another office's dossier or birth record for an extract), never accounts,
// queues or trust records. Any node holding a valid certificate may ask;
// docs/replication.md, "On-demand fetch".
bool fetchable_collection(const std::string& collection);

// The scope prefixes a node subscribes to: a city everything, a ward or a
// district its own scope (a district's contains its wards') plus what is shared.
std::vector<std::string> subscribed_scopes(const Config& config);

struct TrustFigures {
  std::size_t authorities = 0, certificates = 0, revocations = 0;
  bool own_certificate_valid = false;
  std::string own_certificate;  // summary, or why it is missing or invalid
  std::vector<std::string> file_errors;
  // Days until this node's valid certificate expires (-1: none valid).
  std::int64_t own_certificate_days_left = -1;
  // Certificates (this node's, its connected peers') that expire within
  // kCertificateWarnDays: one readable line each, for the status pages and the log.
  std::vector<std::string> expiring;
};
inline constexpr std::int64_t kCertificateWarnDays = 30;

class NodeReplication {
 public:
  // Not configured (no sync_listen and no peers): returns nullptr, no error.
  [[nodiscard]] static Result<std::unique_ptr<NodeReplication>> start(NodeContext& ctx);
  ~NodeReplication();  // stops the replicator (before the Writer goes away)
  NodeReplication(const NodeReplication&) = delete;
  NodeReplication& operator=(const NodeReplication&) = delete;

  std::vector<PeerStatus> peers() const { return replicator_->status(); }
  // Origins (node ids, hex) of the streams in `held` (the caller's version
  // vector) whose node has no valid certificate known here: revoked, expired,
  // or never seen. Their changes are kept and relayed (a certificate may still
  // be on its way), but nobody enrolled vouches for them. This node's own id is
  // left out (see TrustFigures::own_certificate).
  std::vector<std::string> uncertified_origins(const VersionVector& held) const;
  // Kind ("procedures", "holidays") -> where the one in use comes from.
  std::map<std::string, std::string> catalogue_sources() const;
  std::uint64_t refused_connections() const { return replicator_->refused_connections(); }
  TrustFigures trust() const;
  const std::string& transport_public_z85() const { return transport_public_; }
  const std::vector<std::string>& scopes() const { return scopes_; }
  // Attachments whose record is here and whose bytes are not (yet).
  std::size_t blobs_missing() const;
  // Fetches one record held elsewhere through the peers (DESIGN.md, on-demand
  // fetch) and pins it; blocks the calling (HTTP) thread for at most about
  // sync_fetch_wait_ms. Thread-safe.
  FetchResult fetch(FetchRequest request) const;
  // Whether a pinned copy of `id` is due a refresh from upstream; when it is,
  // counts it as refreshed now. At most one refresh per record every
  // kPinnedRefreshEvery: a copy reloaded or polled is served as it is meanwhile,
  // rather than each read waiting on the upstream (and spending the peer's
  // fetch rate). Thread-safe.
  bool refresh_due(const RecordId& id) const;
  static constexpr auto kPinnedRefreshEvery = std::chrono::seconds(5);
  // True when `scope` is outside what this node subscribes to (a record of it
  // can only be here because it was fetched).
  bool outside_scopes(const std::string& scope) const;

 private:
  explicit NodeReplication(NodeContext& ctx)
      : ctx_(ctx), publishes_(publishes_catalogues(ctx.config.tier)) {}
  // Reads the trust files into the store (and as records to replicate).
  void scan_files();
  void add_signed(const std::string& bytes);  // REQUIRES: mu_ held
  // Why `origin` may not write stream scope `scope` (nullopt: it may): it needs
  // an enrolled, unrevoked certificate (TrustStore::enrolled_certificates) whose
  // scope contains `scope` or "shared/" + its scope; trust items among
  // `changes` are added first. Takes mu_; the store's origin policy, on the
  // writer thread.
  std::optional<std::string> writer_refusal(const PublicKey& origin, const std::string& scope,
                                            std::span<const WireChange* const> changes);
  // `last_seq`: the highest sequence of the run asked about (a revoked node's
  // history is kept through the sequence its revocation names).
  std::optional<std::string> refusal_locked(const PublicKey& origin, const std::string& scope,
                                            std::uint64_t last_seq) const;  // REQUIRES: mu_
  void retry_held();  // queues Store::retry_held on the writer
  bool admit(const CurveKey& key);
  std::optional<PeerGrant> grant(const CurveKey& key, const PublicKey& node);
  void watch();
  void log_expiring();  // new expiry warnings, once each (watcher thread)
  CurveKey own_curve() const;
  // Catalogues (docs/replication.md, "Catalogues").
  struct Publication {
    Hlc created = 0;  // the publishing change's clock
    std::string content;
    PublicKey origin{};
  };
  struct Refused {
    RecordId record;
    PublicKey origin{};
    std::string reason;
  };
  // The newest publication of `kind` whose origin `refusal` does not refuse
  // (nullopt: accepted); refusals are added to `refused` (a few). On the writer
  // thread: waits for it.
  std::optional<Publication> newest_publication(
      const std::string& kind, const std::function<std::optional<std::string>(const PublicKey&)>& refusal,
      std::vector<Refused>& refused) const;
  // Why a node may not publish catalogues for this one, or nullopt: a valid
  // certificate of tier city or province, issued by an authority, whose scope
  // contains this node's. Takes mu_.
  std::optional<std::string> publisher_refusal(const PublicKey& origin) const;
  void publish_catalogues();  // a city's files, when they differ from its last publication
  void adopt_catalogues();    // the newest publication by a city, unless this node publishes
  std::vector<Hash> wanted_blobs();  // on the session thread
  void note_attachment(const Record& record);  // REQUIRES: mu_ held

  NodeContext& ctx_;
  std::string transport_public_;
  std::vector<std::string> scopes_;
  mutable std::mutex mu_;
  TrustStore trust_;                    // GUARDED_BY(mu_)
  std::set<std::string> known_;         // GUARDED_BY(mu_): signed items added, by content
  std::set<std::string> recorded_;      // GUARDED_BY(mu_): digests written or seen as trust records
  std::set<PublicKey> roots_;           // GUARDED_BY(mu_)
  std::set<CurveKey> configured_keys_;  // peers' keys from the config (set before start)
  std::size_t authorities_ = 0, revocations_ = 0;  // GUARDED_BY(mu_)
  bool unhooked_ = false;  // touched on the writer thread only
  std::vector<std::string> file_errors_;  // GUARDED_BY(mu_)
  std::set<Hash> referenced_;             // GUARDED_BY(mu_): blobs named by attachment records
  std::size_t missing_ = 0;               // GUARDED_BY(mu_): of those, not here at the last look
  std::unique_ptr<BlobStore> blobs_;      // the replicator's (session thread)
  std::unique_ptr<Replicator> replicator_;
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  bool stopping_ = false;  // GUARDED_BY(stop_mu_)
  std::thread watcher_;
  std::set<std::string> warned_;  // watcher thread only: expiry warnings already logged
  const bool publishes_ = false;  // a city (or province) publishes its catalogues
  std::atomic<bool> catalogues_changed_{true};  // a catalogue or trust record arrived
  std::atomic<bool> retry_due_{false};          // a certificate arrived: retry held changes
  std::map<std::string, std::string> adopted_;  // watcher thread only: kind -> content hash in use
  std::set<std::pair<RecordId, PublicKey>> ignored_;  // start and watcher thread: refusals logged once
  std::map<std::string, std::string> sources_;  // GUARDED_BY(mu_): catalogue_sources()
  // REQUIRES: refreshed_mu_ held.
  void note_refreshed(const RecordId& id, std::chrono::steady_clock::time_point at) const;
  mutable std::mutex refreshed_mu_;
  mutable std::map<RecordId, std::chrono::steady_clock::time_point> refreshed_;  // GUARDED_BY(refreshed_mu_)
};

}  // namespace wardsync::node
