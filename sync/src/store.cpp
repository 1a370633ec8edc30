// The store (see store.hpp): opening and migrating the database, and applying
// received changes. One concept runs through this file: a change is accepted
// only as part of a verified contiguous run of its stream, and merged into its
// record's state by merge::join, in the same SQLite transaction that appends it
// to the log and advances the stream's head. Local writes: store_commit.cpp;
// serving peers and reads: store_read.cpp.
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
                        "INSERT OR IGNORE INTO held(stream, seq, body, sig, reason) VALUES(?,?,?,?,?)");
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

bool Store::Impl::stored_change(std::int64_t stream_id, std::uint64_t seq, WireChange& out, Hash& hash) const {
  get_change_.bind(1, stream_id).bind(2, static_cast<std::int64_t>(seq));
  bool found = get_change_.step();
  if (found) {
    out.body = get_change_.blob(0);
    out.signature = get_change_.blob(1);
    copy_to(get_change_.blob_view(2), hash);
  }
  get_change_.reset();
  return found;
}

void Store::Impl::hold(const StreamInfo& info, const DecodedChange& c, int reason) {
  put_held_.bind(1, info.id)
      .bind(2, static_cast<std::int64_t>(c.body->seq()))
      .bind(3, c.wire->body)
      .bind(4, c.wire->signature)
      .bind(5, reason)
      .run();
  held_total_ += static_cast<std::size_t>(sqlite3_changes(db_.get()));
}

bool Store::Impl::check_fork(const WireChange& a, const WireChange& b, const StreamKey& key,
                             std::uint64_t seq, ApplyReport& report) {
  DecodedChange da;
  DecodedChange dbb;
  if (!decode_change(a, da).is_ok() || !decode_change(b, dbb).is_ok()) return false;
  if (!signature_ok(da) || !signature_ok(dbb)) return false;
  if (quarantined_.insert(key.origin).second) {
    sql::Stmt put(db_.get(),
                  "INSERT OR IGNORE INTO quarantine(origin, reason, a_body, a_sig, b_body, b_sig) "
                  "VALUES(?,?,?,?,?,?)");
    std::string reason = "fork in stream " + key.to_string() + " at sequence " + std::to_string(seq);
    put.bind(1, view(key.origin))
        .bind_text(2, reason)
        .bind(3, a.body)
        .bind(4, a.signature)
        .bind(5, b.body)
        .bind(6, b.signature)
        .run();
    rebuild_needed_ = true;
    report.problems.push_back({Problem::Kind::kFork, key, seq, reason + ": origin quarantined"});
  }
  return true;
}

// Applies what `incoming` (changes of one stream, sorted by seq) and the held
// changes of that stream allow, in sequence order.
void Store::Impl::apply_stream(const StreamKey& key, std::vector<DecodedChange*>& incoming,
                               VerifyMode mode, ApplyReport& report, std::deque<WireChange>& storage,
                               std::deque<DecodedChange>& decoded) {
  if (quarantined_.count(key.origin) != 0) {
    report.rejected += incoming.size();
    report.problems.push_back({Problem::Kind::kQuarantined, key, incoming.front()->body->seq(),
                               "origin is quarantined for a fork; changes refused"});
    return;
  }
  StreamInfo& info = stream_info(key);
  const StreamInfo before = info;

  // Held changes of this stream rejoin the candidates.
  get_held_.bind(1, info.id);
  std::size_t held_count = 0;
  std::set<const DecodedChange*> from_held;
  while (get_held_.step()) {
    ++held_count;
    storage.push_back(WireChange{get_held_.blob(0), get_held_.blob(1)});
    DecodedChange& d = decoded.emplace_back();
    if (decode_change(storage.back(), d, arena_).is_ok() && d.stream == key) {
      incoming.push_back(&d);
      from_held.insert(&d);
    }
  }
  get_held_.reset();
  std::stable_sort(incoming.begin(), incoming.end(),
                   [](const DecodedChange* a, const DecodedChange* b) { return a->body->seq() < b->body->seq(); });

  // Already held: duplicates, or forks when the bytes differ.
  std::vector<DecodedChange*> ahead;
  for (std::size_t i = 0; i < incoming.size(); ++i) {
    DecodedChange* c = incoming[i];
    std::uint64_t seq = c->body->seq();
    if (seq <= info.seq) {
      WireChange mine;
      Hash mine_hash{};
      if (stored_change(info.id, seq, mine, mine_hash) && mine_hash == c->hash) {
        if (from_held.count(c) == 0) ++report.duplicates;
      } else if (check_fork(mine, *c->wire, key, seq, report)) {
        ++report.rejected;
        return;
      } else {
        ++report.rejected;
        report.problems.push_back({Problem::Kind::kBadSignature, key, seq,
                                   "a different body for a sequence already held, not validly signed"});
      }
      continue;
    }
    if (!ahead.empty() && ahead.back()->body->seq() == seq) {
      if (ahead.back()->hash == c->hash) {
        if (from_held.count(c) == 0 && from_held.count(ahead.back()) == 0) ++report.duplicates;
        if (from_held.count(c) != 0) from_held.insert(ahead.back());  // already held: not again
        continue;
      }
      if (check_fork(*ahead.back()->wire, *c->wire, key, seq, report)) {
        report.rejected += 2;
        return;
      }
      // One of the two is forged; keep the one whose own signature holds.
      ++report.rejected;
      if (!signature_ok(*ahead.back())) ahead.back() = c;
      continue;
    }
    ahead.push_back(c);
  }

  // The contiguous run from our head.
  std::size_t run_end = 0;
  while (run_end < ahead.size() && ahead[run_end]->body->seq() == info.seq + 1 + run_end) ++run_end;
  const std::size_t contiguous_end = run_end;  // beyond it: a gap, held

  // Links: each body names the hash of its predecessor.
  std::size_t linked = 0;
  for (; linked < run_end; ++linked) {
    const Hash& expect = linked == 0 ? info.head : ahead[linked - 1]->hash;
    if (ahead[linked]->prev != expect) break;
  }
  if (linked < run_end) {
    std::uint64_t seq = ahead[linked]->body->seq();
    WireChange prev_wire;
    Hash prev_hash{};
    bool have_prev = linked > 0 ? (prev_wire = *ahead[linked - 1]->wire, true)
                                : stored_change(info.id, info.seq, prev_wire, prev_hash);
    if (have_prev && check_fork(prev_wire, *ahead[linked]->wire, key, seq, report)) {
      report.rejected += run_end;
      return;
    }
    report.rejected += run_end - linked;
    report.problems.push_back({Problem::Kind::kBrokenLink, key, seq,
                               "previous-hash link broken: change refused with the rest of its run"});
    run_end = linked;
  }

  // Clock: a timestamp too far ahead is held, with everything after it.
  std::size_t timely = 0;
  while (timely < run_end && !clock_.too_far_ahead(ahead[timely]->body->hlc())) ++timely;
  if (timely < run_end && !signature_ok(*ahead[timely])) {
    // Not the origin's clock but a forgery (a tampered timestamp, say): refuse it
    // rather than hold it, or a relay could make an honest office look skewed.
    report.problems.push_back({Problem::Kind::kBadSignature, key, ahead[timely]->body->seq(),
                               "signature does not verify (timestamp far ahead)"});
    report.rejected += run_end - timely;
    run_end = timely;
  }

  // Signatures: the run's last one authenticates the whole chain.
  std::size_t accepted = timely;
  if (accepted > 0) {
    if (mode == VerifyMode::kEverySignature) {
      std::size_t ok = 0;
      while (ok < accepted && signature_ok(*ahead[ok])) ++ok;
      if (ok < accepted) {
        report.problems.push_back({Problem::Kind::kBadSignature, key, ahead[ok]->body->seq(),
                                   "signature does not verify"});
        report.rejected += accepted - ok;
      }
      accepted = ok;
    } else if (mode == VerifyMode::kChain && !signature_ok(*ahead[accepted - 1])) {
      // If the last change is the bad one (tampered after the links were made,
      // or forged), the one before it may still close a valid run.
      std::size_t bad_from = accepted - 1;
      bool prefix_ok = bad_from > 0 && signature_ok(*ahead[bad_from - 1]);
      std::size_t keep = prefix_ok ? bad_from : 0;
      report.problems.push_back({Problem::Kind::kBadSignature, key, ahead[keep]->body->seq(),
                                 "run refused: its last signature does not verify"});
      report.rejected += accepted - keep;
      accepted = keep;
    }
  }

  // Who may write here: verified changes of an origin the policy refuses wait,
  // held, until it admits them (a certificate still on its way), never merged.
  std::size_t unvouched_end = 0;
  if (accepted > 0 && origin_policy_ && key.origin != identity_.public_key()) {
    std::vector<const WireChange*> verified(accepted);
    for (std::size_t i = 0; i < accepted; ++i) verified[i] = ahead[i]->wire;
    if (std::optional<std::string> why = origin_policy_(key.origin, key.scope, verified)) {
      report.problems.push_back({Problem::Kind::kUncertified, key, ahead[0]->body->seq(),
                                 *why + "; " + std::to_string(accepted) + " change(s) held, not merged"});
      unvouched_end = accepted;
      accepted = 0;
    }
  }

  for (std::size_t i = 0; i < accepted; ++i) {
    bool checked = mode != VerifyMode::kChain || i + 1 == accepted;
    append_change(info, *ahead[i], checked, false);
    info.seq = ahead[i]->body->seq();
    info.head = ahead[i]->hash;
  }
  report.applied += accepted;

  // Hold what is left: skewed changes and those beyond a gap (bounded).
  std::size_t newly_held = 0;
  for (std::size_t i = accepted; i < ahead.size(); ++i) {
    bool unvouched = i < unvouched_end;
    bool skewed = i >= timely && i < run_end;
    bool beyond_gap = i >= contiguous_end;
    if (!unvouched && !skewed && !beyond_gap) continue;
    if (from_held.count(ahead[i]) != 0) continue;  // still held from before
    if (skewed && i == timely) {
      report.problems.push_back({Problem::Kind::kClockSkew, key, ahead[i]->body->seq(),
                                 "timestamp " + hlc_to_string(ahead[i]->body->hlc()) +
                                     " is too far ahead of local time; held"});
    }
    if (held_count + newly_held >= options_.max_held_per_stream) {  // held_count: rows already there
      report.problems.push_back({Problem::Kind::kHeldTooMany, key, ahead[i]->body->seq(),
                                 "too many changes held for this stream; dropped (will be resent)"});
      break;
    }
    if (held_total_ >= options_.max_held_total) {
      report.problems.push_back({Problem::Kind::kHeldTooMany, key, ahead[i]->body->seq(),
                                 "too many changes held on this node (" + std::to_string(held_total_) +
                                     "); dropped (will be resent)"});
      break;
    }
    hold(info, *ahead[i], unvouched ? kHeldUncertified : skewed ? kHeldSkew : kHeldGap);
    ++newly_held;
  }
  report.held += newly_held;
  for (std::size_t i = accepted; i < ahead.size(); ++i) {
    bool still_waiting = i < unvouched_end || i >= contiguous_end || (i >= timely && i < run_end);
    if (from_held.count(ahead[i]) != 0 && still_waiting) ++report.held;
  }
  if (info.seq != before.seq) {
    write_stream(key, info);
    del_held_.bind(1, info.id).bind(2, static_cast<std::int64_t>(info.seq)).run();
    held_total_ -= std::min(held_total_, static_cast<std::size_t>(sqlite3_changes(db_.get())));
  } else if (before.seq == 0 && newly_held > 0) {
    write_stream(key, info);  // a stream we only hold changes of: record its id
  }
}

ApplyReport Store::Impl::apply(std::span<const WireChange> changes, VerifyMode mode) {
  ApplyReport report;
  for (std::size_t start = 0; start < changes.size(); start += options_.apply_chunk_changes) {
    std::size_t end = std::min(changes.size(), start + options_.apply_chunk_changes);
    ArenaScope arena(*this);  // before `decoded`: outlives nothing that points into it
    std::deque<DecodedChange> decoded;
    std::vector<DecodedChange*> chunk;
    for (std::size_t i = start; i < end; ++i) {
      DecodedChange& d = decoded.emplace_back();
      Status s = decode_change(changes[i], d, arena_);
      if (!s.is_ok()) {
        ++report.rejected;
        report.problems.push_back(stray_problem(s.message()));
        decoded.pop_back();
        continue;
      }
      chunk.push_back(&d);
    }
    if (!apply_chunk(chunk, end - start, mode, report)) return report;
  }
  return report;
}

// A prepared batch: decoded (and its likely run-ending signatures checked) on
// another thread; from here on exactly the kChain path above.
ApplyReport Store::Impl::apply(PreparedBatch::Impl& batch) {
  ApplyReport report;
  report.rejected += batch.malformed.size();
  for (Problem& p : batch.malformed) report.problems.push_back(std::move(p));
  batch.malformed.clear();
  // Record states are built on the batch's arena, beside its bodies and
  // deltas: a first change's delta becomes its record's state without a copy,
  // and the whole is freed with the batch (by the pipeline, off this thread).
  struct UseArena {
    UseArena(Impl& impl, google::protobuf::Arena* arena) : impl_(impl) { impl_.arena_ = arena; }
    ~UseArena() { impl_.arena_ = nullptr; }
    UseArena(const UseArena&) = delete;
    UseArena& operator=(const UseArena&) = delete;
    Impl& impl_;
  } use(*this, &batch.arena);
  std::vector<DecodedChange*> chunk;
  for (auto it = batch.decoded.begin(); it != batch.decoded.end();) {
    chunk.clear();
    for (; it != batch.decoded.end() && chunk.size() < options_.apply_chunk_changes; ++it) chunk.push_back(&*it);
    if (!apply_chunk(chunk, chunk.size(), VerifyMode::kChain, report)) break;
  }
  batch.decoded.clear();  // spent: applying it again applies nothing
  return report;
}

bool Store::Impl::apply_chunk(const std::vector<DecodedChange*>& chunk, std::size_t received, VerifyMode mode,
                              ApplyReport& report) {
  // A catch-up's large batches leave index maintenance to catch_up_index();
  // live pushes (small batches) are indexed at once.
  const bool defer_index = options_.defer_index_min_changes > 0 && received >= options_.defer_index_min_changes;
  std::map<StreamKey, std::vector<DecodedChange*>> by_stream;
  for (DecodedChange* d : chunk) by_stream[d->stream].push_back(d);
  std::deque<DecodedChange> held;  // held changes rejoining their streams, on arena_
  std::deque<WireChange> storage;
  auto saved_streams = streams_;
  auto saved_quarantine = quarantined_;
  const std::size_t saved_held_total = held_total_;
  try {
    sql::Transaction tx(db_);
    for (auto& [key, list] : by_stream) apply_stream(key, list, mode, report, storage, held);
    if (rebuild_needed_) rebuild_records();
    flush_pending(defer_index);
    tx.commit();
  } catch (const sql::SqlError& e) {
    streams_ = std::move(saved_streams);
    quarantined_ = std::move(saved_quarantine);
    held_total_ = saved_held_total;
    pending_.clear();
    applied_.clear();
    rebuild_needed_ = false;
    report.problems.push_back(stray_problem("database error: " + e.message));
    return false;
  }
  notify();
  return true;
}

// ---------------------------------------------------------------------------
// PreparedBatch

PreparedBatch::PreparedBatch() : impl_(std::make_unique<Impl>()) {}
PreparedBatch::~PreparedBatch() = default;
std::size_t PreparedBatch::size() const { return impl_->wire.size(); }
const VersionVector& PreparedBatch::heads() const { return impl_->heads; }

std::unique_ptr<PreparedBatch> Store::prepare(std::vector<WireChange> changes) {
  auto batch = std::make_unique<PreparedBatch>();
  PreparedBatch::Impl& b = *batch->impl_;
  b.wire = std::move(changes);
  std::map<StreamKey, DecodedChange*> top;  // the highest change of each stream (the first of equals)
  for (const WireChange& w : b.wire) {
    DecodedChange& d = b.decoded.emplace_back();
    Status s = decode_change(w, d, &b.arena);
    if (!s.is_ok()) {
      b.malformed.push_back(stray_problem(s.message()));
      b.decoded.pop_back();
      continue;
    }
    DecodedChange*& t = top[d.stream];
    if (t == nullptr || d.body->seq() > t->body->seq()) t = &d;
    d.delta = google::protobuf::Arena::CreateMessage<pb::RecordState>(&b.arena);
    merge::build_delta(*d.body, d.hash, *d.delta);
  }
  for (const auto& [key, d] : top) {
    // The signature that apply_stream's kChain check needs when this batch
    // continues the stream as one linked run (a catch-up): checked here, its
    // answer kept in the change. Any other it needs, it checks itself.
    (void)signature_ok(*d);
    b.heads[key] = StreamHead{d->body->seq(), d->hash};
  }
  return batch;
}

ApplyReport Store::Impl::retry_held() {
  // Re-applying an empty batch per stream with held rows pulls them in.
  std::vector<StreamKey> keys;
  {
    sql::Stmt q(db_.get(), "SELECT DISTINCT stream FROM held");
    std::set<std::int64_t> ids;
    while (q.step()) ids.insert(q.integer(0));
    for (const auto& [key, info] : streams_) {
      if (ids.count(info.id) != 0) keys.push_back(key);
    }
  }
  ApplyReport report;
  if (keys.empty()) return report;
  ArenaScope arena(*this);
  const std::size_t saved_held_total = held_total_;
  try {
    sql::Transaction tx(db_);
    std::deque<DecodedChange> decoded;
    std::deque<WireChange> storage;
    for (const auto& key : keys) {
      std::vector<DecodedChange*> none;
      if (quarantined_.count(key.origin) != 0) continue;
      apply_stream(key, none, VerifyMode::kChain, report, storage, decoded);
    }
    if (rebuild_needed_) rebuild_records();
    flush_pending();
    tx.commit();
  } catch (const sql::SqlError& e) {
    held_total_ = saved_held_total;
    pending_.clear();
    applied_.clear();
    report.problems.push_back(stray_problem("database error: " + e.message));
    return report;
  }
  notify();
  return report;
}

// A fork was proven: recompute every record from the log without the
// quarantined origins' changes. States are a join of deltas, so the result is
// what a replica that never saw those changes holds. Rare; costs a log scan.
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
