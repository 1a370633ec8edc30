// The store (see store.hpp): opening and migrating the database, the pending
// record states a write transaction builds, appending to the log, and rebuilding
// records after a fork. Received changes: store_apply.cpp; local writes:
// store_commit.cpp; serving peers and reads: store_read.cpp.
#include <tuple>

#include "store_internal.hpp"
#include "store_sql.hpp"
#include "wardsync/sync/text.hpp"

namespace wardsync {

const char* problem_kind_name(Problem::Kind kind) {
  switch (kind) {
    case Problem::Kind::kMalformed: return "malformed";
    case Problem::Kind::kBadSignature: return "bad_signature";
    case Problem::Kind::kBrokenLink: return "broken_link";
    case Problem::Kind::kFork: return "fork";
    case Problem::Kind::kClockSkew: return "clock_skew";
    case Problem::Kind::kQuarantined: return "quarantined";
    case Problem::Kind::kHeldTooMany: return "held_too_many";
    case Problem::Kind::kUncertified: return "uncertified";
  }
  return "?";
}

// ---------------------------------------------------------------------------
// RecordWrite / Transaction builders

RecordWrite& RecordWrite::set(std::string field, std::string value) {
  ops.push_back({FieldWrite::Kind::kSet, std::move(field), std::move(value), {}, 0});
  return *this;
}
RecordWrite& RecordWrite::set_once(std::string field, std::string value) {
  ops.push_back({FieldWrite::Kind::kSetOnce, std::move(field), std::move(value), {}, 0});
  return *this;
}
RecordWrite& RecordWrite::set_rank(std::string field, Rank rank) {
  std::string label = rank.label;
  ops.push_back({FieldWrite::Kind::kSetRank, std::move(field), std::move(label), std::move(rank), 0});
  return *this;
}
RecordWrite& RecordWrite::add(std::string field, std::string element) {
  ops.push_back({FieldWrite::Kind::kAdd, std::move(field), std::move(element), {}, 0});
  return *this;
}
RecordWrite& RecordWrite::remove(std::string field, std::string element) {
  ops.push_back({FieldWrite::Kind::kRemove, std::move(field), std::move(element), {}, 0});
  return *this;
}
RecordWrite& RecordWrite::append(std::string field, std::string value) {
  ops.push_back({FieldWrite::Kind::kAppend, std::move(field), std::move(value), {}, 0});
  return *this;
}
RecordWrite& RecordWrite::increment(std::string field, std::int64_t delta) {
  ops.push_back({FieldWrite::Kind::kIncrement, std::move(field), {}, {}, delta});
  return *this;
}
RecordWrite& RecordWrite::mark_deleted() {
  tombstone = true;
  return *this;
}

RecordWrite& Transaction::create(std::string collection) {
  writes_.push_back(RecordWrite{std::move(collection), {}, true, false, {}});
  return writes_.back();
}
RecordWrite& Transaction::update(std::string collection, RecordId id) {
  writes_.push_back(RecordWrite{std::move(collection), id, false, false, {}});
  return writes_.back();
}

// ---------------------------------------------------------------------------

Status Store::Impl::open() {
  Status s = db_.open(options_.path, false);
  if (!s.is_ok()) return s;
  sqlite3_busy_timeout(db_.get(), 5000);  // readers and backups may hold locks briefly
  // 16 KiB pages, for databases created from now on (an existing database keeps
  // its page size: WAL mode cannot change it). With 4 KiB pages a record state
  // (a dossier: ~1.3 KB) is larger than a WITHOUT ROWID table keeps in its leaf
  // (~1,000 bytes), so each one took a mostly empty 4 KiB overflow page: ~4.6 KiB
  // written to the WAL, and again at checkpoint, per received change. 16 KiB
  // pages keep it in the leaf, and each WAL frame is a quarter of the write calls.
  (void)db_.exec("PRAGMA page_size=16384;");
  // WAL: readers never block the writer, one fsync per commit.
  // synchronous=FULL: NORMAL in WAL mode may roll back a committed write on power loss.
  const char* pragmas = options_.durable
                            ? "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;"
                            : "PRAGMA synchronous=OFF; PRAGMA foreign_keys=OFF;";
  s = db_.exec(pragmas);
  if (!s.is_ok()) return s;
  // Keep the WAL bounded even under constant readers (kiosk polling, sync),
  // checkpointing beside the writer rather than inside its commits.
  // (The Checkpointer replaces the automatic checkpoint; this 16 MiB is its fallback.)
  {
    sql::Stmt page(db_.get(), "PRAGMA page_size");
    std::int64_t page_bytes = page.step() ? page.integer(0) : 4096;
    page.reset();
    std::string sql = "PRAGMA wal_autocheckpoint=" + std::to_string(16 * 1024 * 1024 / std::max<std::int64_t>(page_bytes, 512)) +
                      "; PRAGMA journal_size_limit=67108864;";
    (void)db_.exec(sql.c_str());
  }
  if (options_.durable) checkpointer_ = Checkpointer::attach(db_.get(), options_.path);
  // 32 MiB of page cache: secondary indexes (CCCD, codes) take values in random
  // order, and with SQLite's 2 MB default every batch re-reads their leaf pages.
  (void)db_.exec("PRAGMA cache_size=-32768;");

  sql::Stmt version(db_.get(), "PRAGMA user_version");
  version.step();
  int have = static_cast<int>(version.integer(0));
  version.reset();
  if (have > sql_text::kSchemaVersion) {
    return {Code::kSchemaMismatch, "database schema " + std::to_string(have) +
                                       " is newer than this wardnode supports (" +
                                       std::to_string(sql_text::kSchemaVersion) + "); upgrade wardnode"};
  }
  if (have != 0 && have < sql_text::kSchemaVersion && options_.on_upgrade) options_.on_upgrade(have, sql_text::kSchemaVersion);
  for (int v = have; v < sql_text::kSchemaVersion; ++v) {
    sql::Transaction tx(db_);
    s = db_.exec(sql_text::kMigrations[v]);
    if (!s.is_ok()) return {Code::kIo, "migration " + std::to_string(v + 1) + " failed: " + s.message()};
    try {
      if (v + 1 == sql_text::kSummaryMigration) fill_summaries();
      // Summaries older than 7 are rewritten, unless 4 just wrote them in this open.
      if (v + 1 == sql_text::kCompactSummaryMigration && have >= sql_text::kSummaryMigration) fill_summaries();
      if (v + 1 == sql_text::kFetchMigration) index_record_changes();  // a log older than the index
      if (v + 1 == sql_text::kStoredStateMigration) rewrite_states();
      if (v + 1 == sql_text::kHeldAgeMigration) add_held_age();
    } catch (const sql::SqlError& e) {
      return {Code::kIo, "migration " + std::to_string(v + 1) + " failed: " + e.message};
    }
    s = db_.exec(("PRAGMA user_version=" + std::to_string(v + 1)).c_str());
    if (!s.is_ok()) return s;
    tx.commit();
  }

  // The database belongs to one identity: refuse to run another node's data.
  {
    sql::Stmt q(db_.get(), "SELECT value FROM meta WHERE key='node_id'");
    if (q.step()) {
      if (q.blob_view(0) != view(identity_.public_key())) {
        return {Code::kInvalidArgument, "database belongs to another node identity"};
      }
    } else {
      sql::Stmt put(db_.get(), "INSERT INTO meta(key, value) VALUES('node_id', ?)");
      put.bind(1, view(identity_.public_key())).run();
    }
  }

  get_record_ = sql::Stmt(db_.get(), "SELECT state, updated FROM records WHERE collection=? AND id=?");
  put_record_ = sql::Stmt(db_.get(),
                          "INSERT OR REPLACE INTO records(collection, id, state, deleted, conflict, updated) "
                          "VALUES(?,?,?,?,?,?)");
  del_index_ = sql::Stmt(db_.get(),
                         "DELETE FROM record_index WHERE collection=? AND field=? AND value=? AND id=?");
  put_index_ = sql::Stmt(db_.get(),
                         "INSERT OR IGNORE INTO record_index(collection, field, value, id) VALUES(?,?,?,?)");
  put_change_ = sql::Stmt(db_.get(),
                          "INSERT INTO changes(stream, seq, hash, body, sig, sig_checked) VALUES(?,?,?,?,?,?)");
  get_change_ = sql::Stmt(db_.get(), "SELECT body, sig, hash FROM changes WHERE stream=? AND seq=?");
  put_stream_ = sql::Stmt(db_.get(),
                          "INSERT OR REPLACE INTO streams(id, origin, scope, seq, head) VALUES(?,?,?,?,?)");
  put_held_ = sql::Stmt(db_.get(),
                        "INSERT OR IGNORE INTO held(stream, seq, body, sig, reason, held_at) VALUES(?,?,?,?,?,?)");
  get_held_ = sql::Stmt(db_.get(), "SELECT body, sig FROM held WHERE stream=? ORDER BY seq");
  del_held_ = sql::Stmt(db_.get(), "DELETE FROM held WHERE stream=? AND seq<=?");
  put_search_row_ = sql::Stmt(db_.get(),
                              "INSERT INTO search_rows(collection, id, summary) VALUES(?,?,?) "
                              "ON CONFLICT(collection, id) DO UPDATE SET summary=excluded.summary RETURNING row");
  reserve_search_row_ = sql::Stmt(db_.get(),
                                  "INSERT INTO search_rows(collection, id, summary) VALUES(?,?,?) "
                                  "ON CONFLICT(collection, id) DO UPDATE SET summary=excluded.summary");
  put_search_ = sql::Stmt(db_.get(), "INSERT OR REPLACE INTO record_search(rowid, text) VALUES(?,?)");
  put_search_term_ = sql::Stmt(db_.get(), "INSERT OR IGNORE INTO search_terms(term) VALUES(?)");
  put_record_change_ = sql::Stmt(
      db_.get(), "INSERT OR IGNORE INTO record_changes(collection, id, stream, seq) VALUES(?,?,?,?)");
  get_index_pending_ = sql::Stmt(db_.get(), "SELECT old FROM index_pending WHERE collection=? AND id=?");
  put_index_pending_ =
      sql::Stmt(db_.get(), "INSERT OR IGNORE INTO index_pending(collection, id, old) VALUES(?,?,?)");
  del_index_pending_ = sql::Stmt(db_.get(), "DELETE FROM index_pending WHERE collection=? AND id=?");
  list_index_pending_ = sql::Stmt(db_.get(), "SELECT collection, id, old FROM index_pending LIMIT ?");
  {
    // Left by a catch-up before a restart or a crash: the indexer finishes it.
    sql::Stmt any(db_.get(), "SELECT 1 FROM index_pending LIMIT 1");
    index_backlog_ = any.step();
  }
  reader_ = std::make_unique<RecordReader>(db_.get());
  range_changes_ = sql::Stmt(db_.get(),
                             "SELECT body, sig, sig_checked FROM changes WHERE stream=? AND seq>? "
                             "ORDER BY seq LIMIT ?");

  sql::Stmt streams(db_.get(), "SELECT id, origin, scope, seq, head FROM streams");
  while (streams.step()) {
    StreamKey key;
    copy_to(streams.blob_view(1), key.origin);
    key.scope = streams.blob(2);
    StreamInfo info;
    info.id = streams.integer(0);
    info.seq = static_cast<std::uint64_t>(streams.integer(3));
    copy_to(streams.blob_view(4), info.head);
    next_stream_id_ = std::max(next_stream_id_, info.id + 1);
    streams_.emplace(std::move(key), info);
  }
  sql::Stmt quarantine(db_.get(), "SELECT origin FROM quarantine");
  while (quarantine.step()) {
    PublicKey k;
    copy_to(quarantine.blob_view(0), k);
    quarantined_.insert(k);
  }
  sql::Stmt held(db_.get(), "SELECT count(*) FROM held");
  held_total_ = held.step() ? static_cast<std::size_t>(held.integer(0)) : 0;
  // Never reissue a timestamp after a restart, even if the wall clock went back.
  // An origin's clock only moves forward, so each stream's newest change holds
  // its highest timestamp: one row per stream instead of a scan of every record.
  Hlc highest = 0;
  for (const auto& [key, info] : streams_) {
    if (info.seq == 0) continue;
    get_change_.bind(1, info.id).bind(2, static_cast<std::int64_t>(info.seq));
    if (get_change_.step()) {
      auto header = parse_header(WireChange{get_change_.blob(0), get_change_.blob(1)});
      if (header.is_ok()) highest = std::max(highest, header.value().hlc);
    }
    get_change_.reset();
  }
  clock_.restore(highest);
  return Status::ok();
}

// Once, inside migration 9's transaction: held rows get the moment they were put
// aside; those already there count from now.
void Store::Impl::add_held_age() {
  sql::Stmt has(db_.get(), "SELECT 1 FROM pragma_table_info('held') WHERE name='held_at'");
  if (has.step()) return;
  has.reset();
  sql::Stmt(db_.get(), "ALTER TABLE held ADD COLUMN held_at INTEGER NOT NULL DEFAULT 0").run();
  sql::Stmt(db_.get(), "UPDATE held SET held_at=?").bind(1, static_cast<std::int64_t>(wall_.now_ms() / 1000)).run();
}

// Once, inside migration 8's transaction: every record state in the stored
// form of merge::serialize_state, a thousand records at a time in key order.
void Store::Impl::rewrite_states() {
  sql::Stmt next(db_.get(),
                 "SELECT collection, id, state FROM records WHERE (collection, id) > (?, ?) "
                 "ORDER BY collection, id LIMIT 1000");
  sql::Stmt put(db_.get(), "UPDATE records SET state=? WHERE collection=? AND id=?");
  // The cursor is bound without a copy, so the row being read goes to
  // (last_collection, last_id) and becomes the cursor only after the page.
  std::string collection, id, last_collection, last_id, blob;
  pb::RecordState state;
  std::vector<std::tuple<std::string, std::string, std::string>> page;
  bool more = true;
  while (more) {
    page.clear();
    more = false;
    next.bind_text(1, collection).bind(2, id);
    while (next.step()) {
      more = true;
      last_collection = next.blob(0);
      last_id = next.blob(1);
      if (!merge::parse_state(next.blob_view(2), state)) continue;  // left as it was
      merge::serialize_state(state, blob);
      page.emplace_back(last_collection, last_id, blob);
    }
    next.reset();
    collection = last_collection;
    id = last_id;
    for (const auto& [c, i, b] : page) put.bind(1, b).bind_text(2, c).bind(3, i).run();
  }
}

StreamInfo& Store::Impl::stream_info(const StreamKey& key) {
  auto it = streams_.find(key);
  if (it != streams_.end()) return it->second;
  StreamInfo info;
  info.id = next_stream_id_++;
  return streams_.emplace(key, info).first->second;
}

void Store::Impl::write_stream(const StreamKey& key, const StreamInfo& info) {
  put_stream_.bind(1, info.id)
      .bind(2, view(key.origin))
      .bind_text(3, key.scope)
      .bind(4, static_cast<std::int64_t>(info.seq))
      .bind(5, view(info.head))
      .run();
}

Store::Impl::Pending& Store::Impl::load_pending(const std::string& collection, const RecordId& id) {
  RecordKey key{collection, id};
  auto it = pending_.find(key);
  if (it != pending_.end()) return it->second;
  Pending p;
  p.state = google::protobuf::Arena::CreateMessage<pb::RecordState>(arena_);
  get_record_.bind_text(1, collection).bind(2, view(id));
  if (get_record_.step()) {
    // Never merged into and rewritten: that would write the record anew from
    // the one change, losing the rest. The batch fails and says why.
    if (!merge::parse_state(get_record_.blob_view(0), *p.state))
      throw sql::SqlError{"the stored state of a record does not parse"};
    p.updated = static_cast<Hlc>(get_record_.integer(1));
    p.existed = true;
  }
  get_record_.reset();
  if (p.existed && index_backlog_) {
    get_index_pending_.bind_text(1, collection).bind(2, view(id));
    if (get_index_pending_.step()) {
      p.index_stale = true;
      if (!decode_index_entries(get_index_pending_.blob_view(0), p.old_index)) {
        // Not what we wrote: the index rows of this record are unknown, so
        // remove whatever it has (a scan of the collection; never expected).
        sql::Stmt wipe(db_.get(), "DELETE FROM record_index WHERE collection=? AND id=?");
        wipe.bind_text(1, collection).bind(2, view(id)).run();
        p.old_index.clear();
      }
    }
    get_index_pending_.reset();
  }
  if (p.existed && !p.index_stale) p.old_index = index_entries(schema_.collection(collection), *p.state);
  return pending_.emplace(std::move(key), std::move(p)).first->second;
}

void Store::Impl::flush_pending(bool defer_index) {
  std::string blob;
  std::string old;
  search_queue_.clear();  // what a failed transaction left
  for (auto& [key, p] : pending_) {
    const auto& [collection, id] = key;
    merge::serialize_state(*p.state, blob);
    put_record_.bind_text(1, collection)
        .bind(2, view(id))
        .bind(3, blob)
        .bind(4, p.state->tombstone_hlc() != 0 ? 1 : 0)
        .bind(5, merge::has_conflicts(*p.state) ? 1 : 0)
        .bind(6, static_cast<std::int64_t>(p.updated))
        .run();
    if (schema_.collection(collection) == nullptr) continue;
    if (defer_index) {
      // A record already listed keeps its first `old`: that is what the index holds.
      if (!p.index_stale) {
        old = encode_index_entries(p.old_index);
        put_index_pending_.bind_text(1, collection).bind(2, view(id)).bind(3, old).run();
      }
      reserve_search_row(collection, id, *p.state, p.existed);
      index_backlog_ = true;
      continue;
    }
    write_index(collection, id, *p.state, p.old_index);
    if (p.index_stale) del_index_pending_.bind_text(1, collection).bind(2, view(id)).run();
  }
  write_search_queue();
  pending_.clear();
}

void Store::Impl::append_change(const StreamInfo& info, const DecodedChange& c, bool sig_checked,
                                bool local) {
  put_change_.bind(1, info.id)
      .bind(2, static_cast<std::int64_t>(c.body->seq()))
      .bind(3, view(c.hash))
      .bind(4, c.wire->body)
      .bind(5, c.wire->signature)
      .bind(6, sig_checked ? 1 : 0)
      .run();
  index_change(info, c);
  Pending& p = load_pending(c.body->collection(), c.record);
  pb::RecordState* delta = c.delta;
  c.delta = nullptr;  // consumed here
  if (delta == nullptr) {
    delta = google::protobuf::Arena::CreateMessage<pb::RecordState>(arena_);
    merge::build_delta(*c.body, c.hash, *delta);
  }
  // A record's first change: moved in (same arena), not copied.
  merge::join(*p.state, std::move(*delta));
  p.updated = std::max<Hlc>(p.updated, c.body->hlc());
  if (!local) clock_.observe(c.body->hlc());
  if (subscribers_.empty()) return;  // nobody listens: skip the per-change copies
  AppliedChange a;
  a.stream = c.stream;
  a.seq = c.body->seq();
  a.hlc = c.body->hlc();
  a.collection = c.body->collection();
  a.record = c.record;
  a.author = c.body->author();
  a.local = local;
  applied_.push_back(std::move(a));
}


// Merges one stored change (its exact body bytes and its hash) into pending_, as
// when the records are rebuilt from the log; bytes that do not parse are skipped.
void Store::Impl::replay_change(std::string_view body_bytes, std::string_view hash) {
  pb::ChangeBody body;
  if (!body.ParseFromArray(body_bytes.data(), static_cast<int>(body_bytes.size()))) return;
  Hash h{};
  copy_to(hash, h);
  RecordId id;
  copy_to(body.record_id(), id.bytes);
  Pending& p = pending_[{body.collection(), id}];
  if (p.state == nullptr) p.state = google::protobuf::Arena::CreateMessage<pb::RecordState>(arena_);
  merge::join(*p.state, merge::delta_of(body, h));
  p.updated = std::max<Hlc>(p.updated, body.hlc());
}

// A fork was proven: recompute every record from the log without the
// quarantined origins' changes. States are a join of deltas, so the result is
// what a replica that never saw those changes holds. Rare; costs a log scan.
void Store::Impl::rebuild_records() {
  rebuild_needed_ = false;
  flush_pending();
  (void)db_.exec("DELETE FROM records; DELETE FROM record_index; DELETE FROM record_search; DELETE FROM search_rows; DELETE FROM search_terms; DELETE FROM index_pending;");
  std::set<std::int64_t> skip;
  for (const auto& [key, info] : streams_) {
    if (quarantined_.count(key.origin) != 0) skip.insert(info.id);
  }
  sql::Stmt all(db_.get(), "SELECT stream, body, hash FROM changes ORDER BY stream, seq");
  while (all.step()) {
    if (skip.count(all.integer(0)) != 0) continue;
    replay_change(all.blob_view(1), all.blob_view(2));
  }
  replay_pinned(quarantined_);
}

void Store::Impl::notify() {
  if (applied_.empty()) return;
  std::vector<AppliedChange> batch;
  batch.swap(applied_);
  for (auto& s : subscribers_) s(batch);
}

}  // namespace wardsync
