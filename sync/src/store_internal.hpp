// Internal to the store: the Impl class shared by store.cpp (opening and
// applying received changes), store_commit.cpp (local writes) and store_read.cpp
// (serving peers, reads, the public face), and the small helpers they share.
#pragma once

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "change_internal.hpp"
#include "checkpointer.hpp"
#include "merge_internal.hpp"
#include "reader_internal.hpp"
#include "sqlite_internal.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync {
namespace store_detail {


inline std::string_view view(const PublicKey& k) { return {reinterpret_cast<const char*>(k.data()), k.size()}; }
inline std::string_view view(const RecordId& id) {
  return {reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()};
}
template <typename A>
inline void copy_to(std::string_view from, A& to) {
  if (from.size() == to.size()) std::memcpy(to.data(), from.data(), to.size());
}

// A problem not tied to one stream (unparseable bytes, a database error).
inline Problem stray_problem(std::string detail) {
  Problem p;
  p.kind = Problem::Kind::kMalformed;
  p.detail = std::move(detail);
  return p;
}

struct StreamInfo {
  std::int64_t id = 0;
  std::uint64_t seq = 0;
  Hash head{};
};

using RecordKey = std::pair<std::string, RecordId>;

// The indexed values of a record's state for the schema's indexed fields.
inline std::set<std::pair<std::string, std::string>> index_entries(const CollectionSpec* spec,
                                                            const pb::RecordState& state) {
  std::set<std::pair<std::string, std::string>> out;
  if (spec == nullptr) return out;
  for (const auto& f : spec->fields) {
    if (!f.indexed) continue;
    const pb::FieldState* fs = merge::find_field(state, f.name);
    if (fs == nullptr) continue;
    if (fs->type() == pb::SET) {
      for (const auto& e : fs->elements()) out.emplace(f.name, e.value());
    } else if (!fs->versions().empty()) {
      out.emplace(f.name, fs->type() == pb::ONCE ? fs->versions(0).value()
                                                 : fs->versions(fs->versions_size() - 1).value());
    }
  }
  return out;
}

// A record's summary for its search row: what a result list shows of the
// fields declared `summary`, with the record's creation and tombstone. Only the
// value merge::to_view picks is kept, with its timestamp and rank: concurrent
// versions, origins and merge bases are for merging, and a hit is never merged
// (its record is read whole for that). A dossier's summary is ~440 bytes
// instead of ~780 (measured on the bench database after migration 7).
inline std::string summary_of(const CollectionSpec& spec, const pb::RecordState& state) {
  pb::RecordState s;
  s.set_created_hlc(state.created_hlc());
  s.set_tombstone_hlc(state.tombstone_hlc());
  for (const auto& f : spec.fields) {
    if (!f.summary) continue;
    const pb::FieldState* fs = merge::find_field(state, f.name);
    if (fs == nullptr) continue;
    pb::FieldState* out = s.add_fields();
    const bool single = fs->type() == pb::LWW || fs->type() == pb::ONCE || fs->type() == pb::RANK;
    if (!single) {
      *out = *fs;
      continue;
    }
    out->set_name(fs->name());
    out->set_type(fs->type());
    const pb::Version* shown = merge::winner(*fs);
    if (shown == nullptr) continue;
    const pb::Version& w = *shown;
    pb::Version* v = out->add_versions();
    v->set_hlc(w.hlc());
    v->set_value(w.value());
    v->set_rank_cycle(w.rank_cycle());
    v->set_rank_stage(w.rank_stage());
    v->set_rank_terminal(w.rank_terminal());
  }
  return s.SerializeAsString();
}

// The index entries of a record as stored in index_pending.old: for each entry,
// the field's and the value's lengths (4 bytes, little endian) then their bytes.
inline std::string encode_index_entries(const std::set<std::pair<std::string, std::string>>& entries) {
  std::string out;
  auto put = [&out](const std::string& s) {
    auto n = static_cast<std::uint32_t>(s.size());
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((n >> (8 * i)) & 0xff));
    out += s;
  };
  for (const auto& [field, value] : entries) {
    put(field);
    put(value);
  }
  return out;
}
// False when the bytes are not what encode_index_entries wrote.
inline bool decode_index_entries(std::string_view in, std::set<std::pair<std::string, std::string>>& out) {
  auto get = [&in](std::string& s) {
    if (in.size() < 4) return false;
    std::uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n |= static_cast<std::uint32_t>(static_cast<unsigned char>(in[i])) << (8 * i);
    in.remove_prefix(4);
    if (in.size() < n) return false;
    s.assign(in.data(), n);
    in.remove_prefix(n);
    return true;
  };
  while (!in.empty()) {
    std::pair<std::string, std::string> e;
    if (!get(e.first) || !get(e.second)) return false;
    out.insert(std::move(e));
  }
  return true;
}

}  // namespace store_detail
using namespace store_detail;  // NOLINT: internal header, shared by the store's files only

// A batch decoded off the writer thread (Store::prepare).
struct PreparedBatch::Impl {
  std::vector<WireChange> wire;       // never resized once decoded: DecodedChange::wire points here
  google::protobuf::Arena arena;      // the decoded bodies; declared before `decoded`, outlives it
  std::deque<DecodedChange> decoded;  // in arrival order, malformed changes left out
  std::vector<Problem> malformed;
  VersionVector heads;
};

class Store::Impl {
 public:
  Impl(const StoreOptions& options, const Schema& schema, const Identity& identity, Clock& clock)
      : options_(options), schema_(schema), identity_(identity), wall_(clock), clock_(clock, options.max_forward_skew_ms) {}

  Status open();
  std::vector<Result<CommitInfo>> commit_group(std::span<const Transaction* const> txns);
  ApplyReport apply(std::span<const WireChange> changes, VerifyMode mode);
  ApplyReport apply(PreparedBatch::Impl& batch);
  ApplyReport retry_held();
  bool tidy_search();
  VersionVector version_vector() const;
  std::vector<WireChange> missing_for(const VersionVector& theirs, std::size_t limit,
                                      const std::vector<std::string>& scopes, const std::vector<std::string>& first) const;
  const RecordReader& reader() const { return *reader_; }
  std::vector<WireChange> stream_changes(const StreamKey& stream, std::uint64_t after_seq,
                                         std::size_t limit, bool end_at_checked) const;
  bool has_change(const WireChange& change) const;
  std::vector<QuarantinedOrigin> quarantined() const;
  StoreStats stats() const;
  Hash digest() const;
  // On-demand fetch (store_pinned.cpp).
  std::vector<WireChange> record_changes(const std::string& collection, const RecordId& id,
                                         std::size_t limit) const;
  ApplyReport pin(const std::string& collection, const RecordId& id, std::span<const WireChange> changes,
                  const std::optional<std::pair<std::string, std::string>>& must_hold);
  bool is_pinned(const std::string& collection, const RecordId& id) const;

  std::vector<Subscriber> subscribers_;
  Store::OriginPolicy origin_policy_;
  const StoreOptions options_;
  const Schema& schema_;
  const Identity& identity_;
  Clock& wall_;  // the physical clock under clock_ (held changes' age)
  HybridClock clock_;

 private:
  // -- state kept in memory, mirrored in the database -----------------------
  std::map<StreamKey, StreamInfo> streams_;
  std::set<PublicKey> quarantined_;
  std::int64_t next_stream_id_ = 1;
  std::size_t held_total_ = 0;  // rows in `held`
  // What an apply changes in memory beside the database, saved before its
  // transaction and put back if the transaction fails (the heads must never run
  // ahead of what is committed: peers would be told we hold what we do not).
  struct MemoryState {
    std::map<StreamKey, StreamInfo> streams;
    std::set<PublicKey> quarantined;
    std::size_t held_total = 0;
  };
  MemoryState save_memory() const { return MemoryState{streams_, quarantined_, held_total_}; }
  void restore_memory(MemoryState saved) {
    streams_ = std::move(saved.streams);
    quarantined_ = std::move(saved.quarantined);
    held_total_ = saved.held_total;
    pending_.clear();
    applied_.clear();
    rebuild_needed_ = false;
  }

  // -- per write transaction ------------------------------------------------
  struct Pending {
    pb::RecordState* state = nullptr;  // on arena_
    std::set<std::pair<std::string, std::string>> old_index;
    bool existed = false;
    // The index lags behind the state (a row in index_pending): old_index holds
    // what the index has, not the entries of the stored state.
    bool index_stale = false;
    Hlc updated = 0;
  };
  std::map<RecordKey, Pending> pending_;
  // Every protobuf message of one write transaction (decoded bodies, record
  // states, deltas) lives here and is freed at once at its end.
  google::protobuf::Arena* arena_ = nullptr;
  struct ArenaScope {
    explicit ArenaScope(Impl& impl) : impl_(impl) { impl_.arena_ = &arena_; }
    ~ArenaScope() { impl_.arena_ = nullptr; }
    ArenaScope(const ArenaScope&) = delete;
    ArenaScope& operator=(const ArenaScope&) = delete;
    Impl& impl_;
    google::protobuf::Arena arena_;
  };
  std::vector<AppliedChange> applied_;
  bool rebuild_needed_ = false;
  // tidy_search: full-text rows written since it last counted segments (1 at open,
  // so a fragmented index from before is looked at), and a merge under way.
  std::uint64_t search_writes_ = 1;
  bool search_merging_ = false;

  Pending& load_pending(const std::string& collection, const RecordId& id);
  // Writes the pending record states. With defer_index, their index and search
  // rows are left as they are and the records noted in index_pending instead.
  void flush_pending(bool defer_index = false);
  // Brings one record's index and search rows from `old` to those of `state`.
  void write_index(const std::string& collection, const RecordId& id, const pb::RecordState& state,
                   const std::set<std::pair<std::string, std::string>>& old);
  StreamInfo& stream_info(const StreamKey& key);
  void write_stream(const StreamKey& key, const StreamInfo& info);
  void append_change(const StreamInfo& info, const DecodedChange& c, bool sig_checked, bool local);
  // One bounded transaction over decoded changes (on arena_, or owned by the
  // caller): false when it rolled back on a database error (reported).
  // `received`: the chunk's size as received, which decides deferred indexing.
  bool apply_chunk(const std::vector<DecodedChange*>& chunk, std::size_t received, VerifyMode mode,
                   ApplyReport& report);
  bool apply_streams(std::map<StreamKey, std::vector<DecodedChange*>>& by_stream, VerifyMode mode, bool defer_index,
                     ApplyReport& report);
  void apply_stream(const StreamKey& key, std::vector<DecodedChange*>& incoming, VerifyMode mode,
                    ApplyReport& report, std::deque<WireChange>& storage,
                    std::deque<DecodedChange>& decoded);
  bool stored_change(std::int64_t stream_id, std::uint64_t seq, WireChange& out, Hash& hash) const;
  // Both validly signed: quarantine the origin with the proof, return true.
  bool check_fork(const WireChange& a, const WireChange& b, const StreamKey& key, std::uint64_t seq,
                  ApplyReport& report);
  void hold(const StreamInfo& info, const DecodedChange& c, int reason);
  void rebuild_records();
  // store_pinned.cpp: the log's record index, and pinned changes rejoining a rebuild.
  void index_change(const StreamInfo& info, const DecodedChange& c);
  void index_record_changes();
  void replay_pinned(const std::set<PublicKey>& skip_origins);
  void notify();

 public:
  bool index_backlog() const { return index_backlog_; }
  std::size_t catch_up_index(std::size_t max_records);

 private:
  // Some record may be listed in index_pending. A hint kept in memory so that
  // loading a record costs no lookup there when nothing lags (the usual case).
  bool index_backlog_ = false;
  Result<CommitInfo> commit_one(const Transaction& txn);
  Status build_ops(const RecordWrite& w, const pb::RecordState& current, pb::ChangeBody& body);

  sql::Db db_;
  // Queues the record's full-text row; write_search_queue() writes the queue,
  // last in its transaction (see there why).
  void update_search(const std::string& collection, const RecordId& id, const pb::RecordState& state);
  void write_search_queue();
  std::vector<std::pair<std::int64_t, std::string>> search_queue_;
  void fill_summaries();
  void rewrite_states();
  void add_held_age();
  void replay_change(std::string_view body_bytes, std::string_view hash);
  // `existed`: the record was in the database before this transaction.
  void reserve_search_row(const std::string& collection, const RecordId& id, const pb::RecordState& state,
                          bool existed);

  mutable sql::Stmt get_record_, put_record_, del_index_, put_index_, put_change_, get_change_,
      put_stream_, put_held_, get_held_, del_held_, range_changes_, reserve_search_row_, put_search_row_,
      put_search_, put_search_term_, put_record_change_, get_index_pending_, put_index_pending_,
      del_index_pending_, list_index_pending_;
  std::unique_ptr<RecordReader> reader_;
  std::unique_ptr<Checkpointer> checkpointer_;  // after db_: stops before it closes
};

}  // namespace wardsync
