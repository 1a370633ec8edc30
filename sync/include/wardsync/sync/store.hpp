// The store: the change log, the materialized records, the version vector, the
// held and quarantined changes, all in one SQLite database (WAL).
//
// Two ways in, meeting only here:
//  - a local write: begin a Transaction as an author, describe field operations,
//    commit() → one signed change per record, appended to this node's stream,
//    merged, durable before commit() returns;
//  - a peer's batch: apply() → parse, chain-verify, merge in per-stream order,
//    one bounded SQLite transaction per chunk.
//
// Thread safety: a Store is NOT thread-safe. It owns the only writable
// connection and must be used from one thread (the simulation drives it
// directly; the node wraps it in a Writer, see writer.hpp). Other threads read
// through their own Reader (read-only connection, WAL snapshot isolation).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "wardsync/sync/clock.hpp"
#include "wardsync/sync/identity.hpp"
#include "wardsync/sync/schema.hpp"
#include "wardsync/sync/status.hpp"
#include "wardsync/sync/types.hpp"

namespace wardsync {

constexpr std::size_t kMaxChangeBodyBytes = 256 * 1024;  // checked before parsing
constexpr std::size_t kMaxOpsPerChange = 1024;
constexpr std::size_t kMaxScopeBytes = 128;
constexpr std::size_t kMaxNameBytes = 128;  // collection, field, author

struct StoreOptions {
  // A file path, or a SQLite URI ("file:x?mode=memory&cache=shared") for tests.
  std::string path;
  // synchronous=FULL: a commit survives power loss. Only the in-memory
  // simulation turns this off.
  bool durable = true;
  // Received changes are applied in transactions of at most this many changes,
  // so local writes never wait behind a whole catch-up.
  std::size_t apply_chunk_changes = 2000;
  // A received chunk of at least this many changes (a catch-up) is applied
  // without maintaining record_index and full-text search: the records are
  // listed in index_pending and catch_up_index() (the Writer runs it when idle)
  // indexes them later in bounded transactions. find() and search() lag behind
  // until then; records, get() and list() never do. Local writes index at once,
  // lagging records included. 0: every change is indexed as it is applied.
  std::size_t defer_index_min_changes = 0;
  // Out-of-order changes waiting for a gap to fill, per stream.
  std::size_t max_held_per_stream = 10000;
  // Held changes of all streams together: origin keys cost nothing to make, so
  // without it a hostile peer fills the disk one made-up origin at a time.
  // Beyond it new changes to hold are dropped, never acknowledged (resent later).
  std::size_t max_held_total = 100000;
  // A held change older than this is dropped by retry_held() (0: never). Held
  // changes are never acknowledged, so an honest one is resent by its sender;
  // this only clears what nobody will ever complete (a hostile peer's junk).
  std::uint64_t held_max_age_s = 7 * 24 * 3600;
  std::uint64_t max_forward_skew_ms = kDefaultMaxForwardSkewMs;
  // Called once before the database is upgraded from schema `from` to `to`: an
  // upgrade may rewrite every record's rows (a minute for a million dossiers).
  std::function<void(int from, int to)> on_upgrade;
};

// How a received batch is authenticated. kChain is the default and the only
// mode for data from outside the process; the others exist for the benchmark.
enum class VerifyMode {
  kChain,          // hash every body, check links, verify the last signature of each run
  kEverySignature, // verify every change's own signature, then the chain
  kPreverified,    // caller verified every signature already (in-process only)
};

// One field operation of a local write; resolved against the current state at
// commit (the lww base, the set tags observed, the counter's running share).
struct FieldWrite {
  enum class Kind { kSet, kSetOnce, kSetRank, kAdd, kRemove, kAppend, kIncrement };
  Kind kind = Kind::kSet;
  std::string field;
  std::string value;
  Rank rank;
  std::int64_t delta = 0;
};

struct RecordWrite {
  std::string collection;
  RecordId id;
  bool create = false;
  bool tombstone = false;
  std::vector<FieldWrite> ops;

  RecordWrite& set(std::string field, std::string value);
  RecordWrite& set_once(std::string field, std::string value);
  RecordWrite& set_rank(std::string field, Rank rank);
  RecordWrite& add(std::string field, std::string element);
  RecordWrite& remove(std::string field, std::string element);
  RecordWrite& append(std::string field, std::string value);
  RecordWrite& increment(std::string field, std::int64_t delta);
  RecordWrite& mark_deleted();
};

// A local transaction: all its record writes commit atomically or not at all.
class Transaction {
 public:
  Transaction(std::string author, std::string scope)
      : author_(std::move(author)), scope_(std::move(scope)) {}
  // A new record; its id is assigned at commit (see CommitInfo::records).
  RecordWrite& create(std::string collection);
  RecordWrite& update(std::string collection, RecordId id);

  const std::string& author() const { return author_; }
  const std::string& scope() const { return scope_; }
  std::vector<RecordWrite>& writes() { return writes_; }
  const std::vector<RecordWrite>& writes() const { return writes_; }

 private:
  std::string author_;
  std::string scope_;
  std::vector<RecordWrite> writes_;
};

struct ChangeRef {
  StreamKey stream;
  std::uint64_t seq = 0;
  Hash hash{};
};

struct CommitInfo {
  std::vector<RecordId> records;  // in the order of Transaction::writes()
  std::vector<ChangeRef> changes;
};

// Something wrong with received data: reported, never fatal.
struct Problem {
  enum class Kind {
    kMalformed,     // cannot be parsed, or fields out of bounds
    kBadSignature,  // a run's last signature (or a single change's) failed
    kBrokenLink,    // prev_hash does not match the previous body
    kFork,          // two validly signed bodies at one (stream, seq): origin quarantined
    kClockSkew,     // HLC too far ahead of local time: held, not merged
    kQuarantined,   // from an origin already quarantined for a fork
    kHeldTooMany,   // the gap buffer for a stream is full: dropped, will be resent
    kUncertified,   // the origin may not write this stream (Store::set_origin_policy): held
  };
  Kind kind = Kind::kMalformed;
  StreamKey stream;
  std::uint64_t seq = 0;
  std::string detail;
};
const char* problem_kind_name(Problem::Kind kind);

struct ApplyReport {
  std::size_t applied = 0;     // merged now (including held changes released by this batch)
  std::size_t duplicates = 0;  // already had them
  std::size_t held = 0;        // waiting for a gap, the clock (skew) or a certificate
  std::size_t rejected = 0;    // malformed, bad signature, broken link, quarantined
  std::size_t expired = 0;     // held changes dropped by retry_held() for their age
  std::vector<Problem> problems;
};

// A change that was merged, as subscribers see it (after commit).
struct AppliedChange {
  StreamKey stream;
  std::uint64_t seq = 0;
  Hlc hlc = 0;
  std::string collection;
  RecordId record;
  std::string author;
  bool local = false;
};

struct QuarantinedOrigin {
  PublicKey origin{};
  std::string reason;
  std::vector<WireChange> proof;  // two validly signed, different bodies at one (stream, seq)
};

struct StoreStats {
  std::uint64_t changes = 0;
  std::uint64_t records = 0;
  std::uint64_t held = 0;
  std::uint64_t conflicts = 0;  // records with an open conflict
  std::uint64_t quarantined_origins = 0;
};

// A received batch decoded, hashed and checked for signatures away from the
// writer thread, so that it can be done while the writer commits the batch
// before (docs/replication.md, "Receiving a catch-up"). Made by
// Store::prepare() on any thread, which touches no store; applied by
// Store::apply(PreparedBatch&) on the store's thread, which decides exactly as
// apply(changes, kChain): the same duplicates, forks, links against the stored
// heads, clock bound and "the run's last signature"; prepare() only verified in
// advance the signature that decision needs in the common case (the highest
// change of each stream in the batch), and a signature once checked is never
// checked again. Owns its changes; move it between threads, never share it.
class PreparedBatch {
 public:
  PreparedBatch();
  ~PreparedBatch();
  PreparedBatch(const PreparedBatch&) = delete;
  PreparedBatch& operator=(const PreparedBatch&) = delete;
  // Changes received, malformed ones included.
  std::size_t size() const;
  // The highest change of each stream in the batch (its sequence and hash), of
  // the changes that decode: what the peer that sent them holds at least.
  const VersionVector& heads() const;

 private:
  friend class Store;
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Store {
 public:
  // Opens (creating if needed) and migrates the database. Refuses a database of a
  // newer schema, or one that belongs to another identity, with a named error.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options, const Schema& schema,
                                             const Identity& identity, Clock& clock);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Local writes. Validates against the schema (unknown collection or field, wrong
  // merge type, a second different value for a `once` field → error, nothing
  // written), signs one change per record, commits durably, then notifies.
  Result<CommitInfo> commit(const Transaction& txn);
  // Group commit: many transactions in one SQLite transaction (one fsync). Each
  // gets its own result; a transaction that fails validation does not affect others.
  std::vector<Result<CommitInfo>> commit_group(std::span<const Transaction* const> txns);

  // Received changes (from a peer, a relay, a bundle, a restore: one path).
  ApplyReport apply(std::span<const WireChange> changes, VerifyMode mode = VerifyMode::kChain);
  // The two halves of apply(changes, kChain), for a pipeline: prepare() on any
  // thread (thread-safe, static: no store is touched), then apply() here. The
  // batch is spent by apply().
  static std::unique_ptr<PreparedBatch> prepare(std::vector<WireChange> changes);
  ApplyReport apply(PreparedBatch& batch);
  // Retries held changes: those held for clock skew (call periodically), and
  // those of origins the policy refused (call when it may answer otherwise).
  ApplyReport retry_held();
  // Who may write what: for a received stream, nullopt when its origin may
  // write it, else why not. `changes` are the verified changes about to be
  // merged, in order (a certificate may travel in the stream it vouches for).
  // Changes it refuses are held, not merged, and reported
  // (Problem::kUncertified) until retry_held() finds the policy admits them; a
  // node's own streams are never asked about. Unset: every origin is admitted.
  // A refused run is asked about again by its beginnings (a policy must admit
  // every beginning of a run it admits): the longest admitted one merges.
  // Set on the store's thread; called there.
  using OriginPolicy = std::function<std::optional<std::string>(
      const PublicKey& origin, const std::string& scope, std::span<const WireChange* const> changes)>;
  void set_origin_policy(OriginPolicy policy);
  // Origins with changes held because the policy refused them.
  std::vector<PublicKey> held_uncertified() const;
  // Housekeeping between writes (the Writer calls it when idle): once the
  // full-text index has grown into many FTS5 segments — every commit adds one, and
  // a search probes each (18 segments at a million dossiers cost searches twice
  // the CPU of one) — merges them into one, a bounded step (64 pages, one
  // transaction) per call. True while there is more to do.
  bool tidy_search();

  // Deferred indexing (StoreOptions::defer_index_min_changes). True while some
  // records' index and search rows lag behind their state (also after a restart
  // in the middle of it: the list is in the database).
  bool index_backlog() const;
  // Indexes up to `max_records` lagging records in one transaction; how many.
  Result<std::size_t> catch_up_index(std::size_t max_records);

  // Serving peers.
  VersionVector version_vector() const;
  // What a peer with `theirs` lacks, as contiguous runs per stream that end at a
  // change whose signature this node verified; at most `limit` changes. Where the
  // peer's head at a sequence differs from ours, our change at that sequence is
  // included so the peer can detect the fork. Fork proofs of quarantined
  // origins are not included: send quarantined()'s proofs once per session.
  // `scopes`: only streams whose scope starts with one of these prefixes (empty:
  // every stream; "" matches everything). Streams whose scope starts with one of
  // `first` come before all others.
  std::vector<WireChange> missing_for(const VersionVector& theirs, std::size_t limit,
                                      const std::vector<std::string>& scopes = {},
                                      const std::vector<std::string>& first = {}) const;

  // Reads.
  std::optional<Record> get(const std::string& collection, const RecordId& id) const;
  // Records whose indexed field holds `value` (set fields: contain it).
  std::vector<RecordId> find(const std::string& collection, const std::string& field,
                             const std::string& value, std::size_t limit,
                             std::optional<RecordId> after = std::nullopt) const;
  // Records of a collection in id (= creation) order, after `after` when given.
  std::vector<Record> list(const std::string& collection, std::optional<RecordId> after,
                           std::size_t limit) const;
  // Full-text search over searchable fields (see Reader::search).
  std::vector<RecordId> search(const std::string& collection, const std::string& query,
                               std::size_t limit) const;
  std::vector<RecordId> with_conflicts(const std::string& collection, std::size_t limit) const;
  // The change log of one stream, for audit: exact bytes as signed.
  std::vector<WireChange> stream_changes(const StreamKey& stream, std::uint64_t after_seq,
                                         std::size_t limit) const;
  // True when this exact change (bytes and signature) is in the log.
  bool has_change(const WireChange& change) const;
  std::vector<QuarantinedOrigin> quarantined() const;

  // On-demand fetch of one record outside this node's streams (store_pinned.cpp).
  // Serving: every change of the record this node holds (log and pinned), as
  // signed by their origins, at most `limit`; empty when it holds none.
  std::vector<WireChange> record_changes(const std::string& collection, const RecordId& id,
                                         std::size_t limit) const;
  // Receiving: each change's own signature is verified (its stream is not held
  // whole), and it must belong to (collection, id); accepted changes are kept as
  // pinned and merged into the record, which becomes readable like any other and
  // survives restarts. The version vector is never touched. Pinning again (a
  // refresh) adds only what is new; changes of a stream this node holds are
  // checked against its log. Refused changes are counted and reported.
  // A record this node holds through its own streams is never changed by a pin
  // (all refused). `must_hold` (a fetch by code: field, value): unless the merged
  // record then holds that value, nothing is pinned.
  ApplyReport pin(const std::string& collection, const RecordId& id, std::span<const WireChange> changes,
                  const std::optional<std::pair<std::string, std::string>>& must_hold = std::nullopt);
  // True when some change of this record was pinned (fetched on demand).
  bool is_pinned(const std::string& collection, const RecordId& id) const;

  StoreStats stats() const;
  // BLAKE2b over every record's canonical state, in key order: equal digests,
  // equal materialized state.
  Hash digest() const;

  // Called on this thread after each commit that merged changes.
  using Subscriber = std::function<void(const std::vector<AppliedChange>&)>;
  void subscribe(Subscriber subscriber);

  const PublicKey& node_id() const;
  std::uint32_t schema_version() const;

 private:
  class Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Signs and encodes helpers, used by tests and tools to build changes outside a
// store (e.g. the simulation's hostile replica).
struct ChangeDraft {
  std::string scope;
  std::uint64_t seq = 0;
  Hlc hlc = 0;
  Hash prev_hash{};  // hash of the previous change (body and signature); ignored for seq 1
  std::string collection;
  RecordId record;
  std::string author;
  std::uint32_t schema_version = 1;
  bool tombstone = false;
  // Field operations as (field, lww value) pairs: enough for tools and tests.
  std::vector<std::pair<std::string, std::string>> lww;
};
WireChange sign_draft(const Identity& identity, const ChangeDraft& draft);
// BLAKE2b-256 over a change's body bytes then its signature: the value the next
// change of its stream carries as prev_hash. Chaining the signatures too means a
// run's last signature authenticates every stored byte of the run.
Hash change_hash(const WireChange& change);
// Parses the header of a change body: origin, scope, seq, hlc, prev hash, and
// the values it sets. Used by tests and tools; the store has its own validated path.
struct ChangeHeader {
  StreamKey stream;
  std::uint64_t seq = 0;
  Hlc hlc = 0;
  Hash prev_hash{};
  std::string collection;
  RecordId record;
  bool tombstone = false;
  std::map<std::string, std::string> sets;  // field -> value of each OP_SET (lww, rank, once)
};
Result<ChangeHeader> parse_header(const WireChange& change);

}  // namespace wardsync
