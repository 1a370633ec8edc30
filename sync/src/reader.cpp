#include "wardsync/sync/reader.hpp"

#include <algorithm>
#include <cstring>
#include <mutex>
#include <utility>

#include "merge_internal.hpp"
#include "reader_internal.hpp"
#include "wardsync/sync/store.hpp"
#include "wardsync/sync/text.hpp"

namespace wardsync {

namespace {

std::string_view view(const RecordId& id) {
  return {reinterpret_cast<const char*>(id.bytes.data()), id.bytes.size()};
}

RecordId id_of(std::string_view blob) {
  RecordId id;
  if (blob.size() == id.bytes.size()) std::memcpy(id.bytes.data(), blob.data(), blob.size());
  return id;
}

// `state` is the caller's scratch message: parsing into one that held an
// earlier record reuses its allocations (a page of 20 search hits parsed 20
// fresh messages of 13 fields each).
Record record_of(const std::string& collection, std::string_view id, std::string_view state_blob,
                 std::int64_t updated, pb::RecordState& state) {
  Record r;
  r.collection = collection;
  r.id = id_of(id);
  r.updated = static_cast<Hlc>(updated);
  if (!merge::parse_state(state_blob, state)) state.Clear();
  merge::to_view(state, r);
  // A large record (a long history) is not kept alive in the scratch message.
  if (state_blob.size() > 64 * 1024) state = pb::RecordState();
  return r;
}

}  // namespace

// Whole words, but the last one a prefix (the word being typed): prefixes of
// every word ("nguyen"* "van"*) would match half the register. FTS5 answers a
// prefix query by merging the whole posting lists of every matching word
// before the first row comes out (~13 ms for "an"* in a million dossiers), so
// the last word is expanded here into its completions from `search_terms`
// ("an" OR "anh"), which FTS5 streams newest first and stops at LIMIT. A number
// stays an FTS5 prefix: numbers are nearly all unique, so few words match.
std::string fts_query(const std::vector<std::string>& words, const std::vector<std::string>& completions) {
  std::string out;
  for (std::size_t i = 0; i + 1 < words.size(); ++i) out += '"' + words[i] + "\" AND ";
  if (completions.empty() || completions.size() > kMaxCompletions) {
    out += '"' + words.back() + "\"*";
    return out;
  }
  out += '(';
  for (std::size_t i = 0; i < completions.size(); ++i) {
    if (i != 0) out += " OR ";
    out += '"' + completions[i] + '"';
  }
  out += ')';
  return out;
}

RecordReader::RecordReader(sqlite3* db)
    : db_(db),
      get_(db, "SELECT state, updated FROM records WHERE collection=? AND id=?"),
      find_(db, "SELECT id FROM record_index WHERE collection=? AND field=? AND value=? ORDER BY id LIMIT ?"),
      find_after_(db, "SELECT id FROM record_index WHERE collection=? AND field=? AND value=? AND id>? "
                      "ORDER BY id LIMIT ?"),
      values_(db, "SELECT DISTINCT value FROM record_index WHERE collection=? AND field=? "
                  "AND value >= ? AND value < ? ORDER BY value LIMIT ?"),
      list_(db, "SELECT id, state, updated FROM records WHERE collection=? ORDER BY id LIMIT ?"),
      list_after_(db, "SELECT id, state, updated FROM records WHERE collection=? AND id>? ORDER BY id LIMIT ?"),
      search_(db,
              // CROSS JOIN keeps the FTS index as the outer loop: the planner
              // otherwise walks every row of the collection testing MATCH on each.
              "SELECT m.id, m.summary FROM record_search CROSS JOIN search_rows m ON m.row = record_search.rowid "
              // Newest first in the index's own order, so FTS5 streams matches and
              // stops at LIMIT instead of sorting every match of common names.
              "WHERE record_search MATCH ? AND m.collection = ? ORDER BY record_search.rowid DESC LIMIT ?"),
      search_oldest_(db,
                     "SELECT m.id, m.summary FROM record_search CROSS JOIN search_rows m ON m.row = record_search.rowid "
                     "WHERE record_search MATCH ? AND m.collection = ? ORDER BY record_search.rowid LIMIT ?"),
      // Words are UTF-8 and never hold the byte 0xFF, so prefix||x'FF' bounds them.
      completions_(db, "SELECT term FROM search_terms WHERE term >= ?1 AND term < ?1 || x'FF' "
                       "ORDER BY term LIMIT ?2"),
      conflicts_(db, "SELECT id FROM records WHERE collection=? AND conflict=1 ORDER BY id LIMIT ?") {}

std::optional<Record> RecordReader::get(const std::string& collection, const RecordId& id) const {
  get_.bind_text(1, collection).bind(2, view(id));
  std::optional<Record> out;
  if (get_.step()) out = record_of(collection, view(id), get_.blob_view(0), get_.integer(1), scratch_);
  get_.reset();
  return out;
}

std::vector<RecordId> RecordReader::find(const std::string& collection, const std::string& field,
                                         const std::string& value, std::size_t limit,
                                         std::optional<RecordId> after) const {
  std::vector<RecordId> out;
  sql::Stmt& q = after ? find_after_ : find_;
  q.bind_text(1, collection).bind_text(2, field).bind(3, value);
  if (after) {
    q.bind(4, view(*after)).bind(5, static_cast<std::int64_t>(limit));
  } else {
    q.bind(4, static_cast<std::int64_t>(limit));
  }
  while (q.step()) out.push_back(id_of(q.blob_view(0)));
  q.reset();
  return out;
}

std::vector<std::string> RecordReader::values_with_prefix(const std::string& collection, const std::string& field,
                                                          const std::string& prefix, std::size_t limit) const {
  std::vector<std::string> out;
  // Values are UTF-8 text stored as blobs: no byte of one is 0xFF, so
  // prefix + 0xFF is above every value that starts with the prefix.
  const std::string upper = prefix + '\xff';
  values_.bind_text(1, collection).bind_text(2, field).bind(3, prefix).bind(4, upper).bind(
      5, static_cast<std::int64_t>(limit));
  while (values_.step()) out.push_back(values_.blob(0));
  values_.reset();
  return out;
}

std::vector<Record> RecordReader::list(const std::string& collection, std::optional<RecordId> after,
                                       std::size_t limit) const {
  std::vector<Record> out;
  sql::Stmt& q = after ? list_after_ : list_;
  q.bind_text(1, collection);
  if (after) {
    q.bind(2, view(*after)).bind(3, static_cast<std::int64_t>(limit));
  } else {
    q.bind(2, static_cast<std::int64_t>(limit));
  }
  while (q.step()) out.push_back(record_of(collection, q.blob_view(0), q.blob_view(1), q.integer(2), scratch_));
  q.reset();
  return out;
}

template <typename Hit>
void RecordReader::each_hit(const std::string& collection, const std::string& query, std::size_t limit,
                            Hit hit) const {
  const std::vector<std::string> words = search_words(fold_for_search(query));
  if (words.empty()) return;
  std::vector<std::string> completions;
  if (!starts_with_digit(words.back())) {  // numbers are not in search_terms: an FTS5 prefix
    completions_.bind_text(1, words.back()).bind(2, static_cast<std::int64_t>(kMaxCompletions + 1));
    while (completions_.step()) completions.push_back(completions_.blob(0));
    completions_.reset();
    if (completions.empty()) return;  // no indexed word starts with what was typed
  }
  const std::string match = fts_query(words, completions);  // bound without a copy: keep alive
  // A number (a CCCD, a code, a phone) leaves a few hits at most. FTS5 finds
  // them in half the time in its own order, oldest first, as long as it need
  // not stop early (newest first, it starts every word's list from its end):
  // so ask for one more than wanted, and only when that many come, ask again
  // newest first.
  if (std::any_of(words.begin(), words.end(), [](const std::string& w) { return starts_with_digit(w); })) {
    std::vector<std::pair<std::string, std::optional<std::string>>> oldest_first;
    search_oldest_.bind_text(1, match)
        .bind_text(2, collection)
        .bind(3, static_cast<std::int64_t>(limit + 1));
    while (search_oldest_.step()) {
      oldest_first.emplace_back(search_oldest_.blob(0), search_oldest_.is_null(1)
                                                            ? std::nullopt
                                                            : std::optional<std::string>(search_oldest_.blob(1)));
    }
    search_oldest_.reset();
    if (oldest_first.size() <= limit) {
      for (auto it = oldest_first.rbegin(); it != oldest_first.rend(); ++it) hit(it->first, it->second);
      return;
    }
  }
  search_.bind_text(1, match)
      .bind_text(2, collection)
      .bind(3, static_cast<std::int64_t>(limit));
  while (search_.step()) hit(search_.blob_view(0), search_.is_null(1) ? std::nullopt
                                                      : std::optional<std::string_view>(search_.blob_view(1)));
  search_.reset();
}

std::vector<RecordId> RecordReader::search(const std::string& collection, const std::string& query,
                                           std::size_t limit) const {
  std::vector<RecordId> out;
  each_hit(collection, query, limit, [&](std::string_view id, std::optional<std::string_view>) {
    out.push_back(id_of(id));
  });
  return out;
}

std::vector<Record> RecordReader::search_summaries(const std::string& collection, const std::string& query,
                                                   std::size_t limit) const {
  std::vector<std::optional<Record>> hits;
  std::vector<std::size_t> unsummarized;  // rows from before summaries: read whole below
  each_hit(collection, query, limit, [&](std::string_view id, std::optional<std::string_view> summary) {
    if (summary) {
      hits.emplace_back(record_of(collection, id, *summary, 0, scratch_));
    } else {
      unsummarized.push_back(hits.size());
      hits.emplace_back(Record{}).value().id = id_of(id);
    }
  });
  for (std::size_t i : unsummarized) hits[i] = get(collection, hits[i]->id);
  std::vector<Record> out;
  for (auto& h : hits)
    if (h) out.push_back(std::move(*h));
  return out;
}

std::vector<RecordId> RecordReader::with_conflicts(const std::string& collection, std::size_t limit) const {
  std::vector<RecordId> out;
  conflicts_.bind_text(1, collection).bind(2, static_cast<std::int64_t>(limit));
  while (conflicts_.step()) out.push_back(id_of(conflicts_.blob_view(0)));
  conflicts_.reset();
  return out;
}

VersionVector RecordReader::version_vector() const {
  VersionVector vv;
  sql::Stmt q(db_,
              "SELECT origin, scope, seq, head FROM streams WHERE seq > 0 "
              "AND origin NOT IN (SELECT origin FROM quarantine)");
  while (q.step()) {
    StreamKey key;
    std::string_view o = q.blob_view(0);
    if (o.size() == key.origin.size()) std::memcpy(key.origin.data(), o.data(), o.size());
    key.scope = q.blob(1);
    StreamHead head;
    head.seq = static_cast<std::uint64_t>(q.integer(2));
    std::string_view h = q.blob_view(3);
    if (h.size() == head.head.size()) std::memcpy(head.head.data(), h.data(), h.size());
    vv[key] = head;
  }
  return vv;
}

std::vector<PublicKey> RecordReader::held_uncertified() const {
  std::vector<PublicKey> out;
  sql::Stmt q(db_, "SELECT DISTINCT s.origin FROM held h JOIN streams s ON s.id = h.stream WHERE h.reason = ?");
  q.bind(1, static_cast<std::int64_t>(kHeldUncertified));
  while (q.step()) {
    PublicKey k{};
    std::string_view o = q.blob_view(0);
    if (o.size() == k.size()) std::memcpy(k.data(), o.data(), o.size());
    out.push_back(k);
  }
  return out;
}

StoreStats RecordReader::stats() const {
  StoreStats s;
  auto count = [&](const char* sql) {
    sql::Stmt q(db_, sql);
    return q.step() ? static_cast<std::uint64_t>(q.integer(0)) : 0;
  };
  s.changes = count("SELECT count(*) FROM changes");
  s.records = count("SELECT count(*) FROM records");
  s.held = count("SELECT count(*) FROM held");
  s.conflicts = count("SELECT count(*) FROM records WHERE conflict=1");
  s.quarantined_origins = count("SELECT count(*) FROM quarantine");
  return s;
}

// ---------------------------------------------------------------------------

struct Reader::Conn {
  sql::Db db;
  // Prepared once: sqlite3_exec would compile them for every request.
  sql::Stmt begin, commit, rollback;
};

Reader::Reader() = default;
Reader::~Reader() = default;

Result<std::unique_ptr<Reader>> Reader::open(const std::string& path, const Schema& schema, std::size_t cache_kib) {
  (void)schema;
  std::unique_ptr<Reader> r(new Reader());
  r->conn_ = std::make_unique<Conn>();
  Status s = r->conn_->db.open(path, true);
  if (!s.is_ok()) return s;
  sqlite3_busy_timeout(r->conn_->db.get(), 5000);
  s = r->conn_->db.exec(("PRAGMA cache_size=-" + std::to_string(cache_kib)).c_str());
  if (!s.is_ok()) return s;
  try {
    r->reader_ = std::make_unique<RecordReader>(r->conn_->db.get());
    r->conn_->begin = sql::Stmt(r->conn_->db.get(), "BEGIN");
    r->conn_->commit = sql::Stmt(r->conn_->db.get(), "COMMIT");
    r->conn_->rollback = sql::Stmt(r->conn_->db.get(), "ROLLBACK");
  } catch (const sql::SqlError& e) {
    return Status{Code::kIo, "cannot read store " + path + ": " + e.message};
  }
  return r;
}

Reader::Snapshot::Snapshot(const Reader& r) : reader_(r) {
  try {
    r.conn_->begin.run();
    open_ = true;
  } catch (const sql::SqlError&) {  // reads then run in their own transactions
  }
}

Reader::Snapshot::~Snapshot() {
  if (!open_) return;
  // A connection must never go back to its pool inside a read transaction: it
  // would keep reading this snapshot and hold back checkpoints.
  try {
    reader_.conn_->commit.run();
  } catch (const sql::SqlError&) {
    try {
      reader_.conn_->rollback.run();
    } catch (const sql::SqlError&) {
    }
  }
}

namespace {
std::mutex g_read_errors_mu;
Reader::ReadErrors g_read_errors;  // GUARDED_BY(g_read_errors_mu)

void note_read_error(const sql::SqlError& e) {
  std::lock_guard<std::mutex> lock(g_read_errors_mu);
  ++g_read_errors.count;
  g_read_errors.last = e.message;
}
}  // namespace

Reader::ReadErrors Reader::read_errors() {
  std::lock_guard<std::mutex> lock(g_read_errors_mu);
  return g_read_errors;
}

// A read that fails (disk error, corrupt page) answers empty rather than throw
// across the caller's thread, and is counted (read_errors()).
#define WARDSYNC_READ(expr, fallback) \
  try {                               \
    return expr;                      \
  } catch (const sql::SqlError& e) {  \
    ++own_errors_;                    \
    note_read_error(e);               \
    return fallback;                  \
  }

std::optional<Record> Reader::get(const std::string& collection, const RecordId& id) const {
  WARDSYNC_READ(reader_->get(collection, id), std::nullopt)
}
std::vector<RecordId> Reader::find(const std::string& collection, const std::string& field,
                                   const std::string& value, std::size_t limit,
                                   std::optional<RecordId> after) const {
  WARDSYNC_READ(reader_->find(collection, field, value, limit, after), {})
}
std::vector<std::string> Reader::values_with_prefix(const std::string& collection, const std::string& field,
                                                    const std::string& prefix, std::size_t limit) const {
  WARDSYNC_READ(reader_->values_with_prefix(collection, field, prefix, limit), {})
}
std::vector<Record> Reader::list(const std::string& collection, std::optional<RecordId> after,
                                 std::size_t limit) const {
  WARDSYNC_READ(reader_->list(collection, after, limit), {})
}
std::vector<RecordId> Reader::search(const std::string& collection, const std::string& query,
                                     std::size_t limit) const {
  WARDSYNC_READ(reader_->search(collection, query, limit), {})
}
std::vector<Record> Reader::search_summaries(const std::string& collection, const std::string& query,
                                             std::size_t limit) const {
  WARDSYNC_READ(reader_->search_summaries(collection, query, limit), {})
}
std::vector<RecordId> Reader::with_conflicts(const std::string& collection, std::size_t limit) const {
  WARDSYNC_READ(reader_->with_conflicts(collection, limit), {})
}
VersionVector Reader::version_vector() const { WARDSYNC_READ(reader_->version_vector(), {}) }
StoreStats Reader::stats() const { WARDSYNC_READ(reader_->stats(), {}) }
std::vector<PublicKey> Reader::held_uncertified() const { WARDSYNC_READ(reader_->held_uncertified(), {}) }

#undef WARDSYNC_READ

}  // namespace wardsync
