// The store's derived indexes (see store_internal.hpp): the field index, the
// full-text search rows with their summaries and completions, the deferred
// indexing that catches up after a catch-up, and the idle merge of the
// full-text index. None of it is replicated; each node derives it from its
// records, in the transaction that changes them or later by the indexer.
#include "store_internal.hpp"
#include "store_sql.hpp"
#include "wardsync/sync/text.hpp"

namespace wardsync {

bool Store::Impl::tidy_search() {
  constexpr std::int64_t kMergeAt = 8;     // segments; FTS5's own automerge keeps ~3 a level
  constexpr int kPagesPerStep = 64;        // 256 KiB written per step, a few ms
  try {
    if (!search_merging_) {
      if (search_writes_ == 0) return false;
      search_writes_ = 0;
      sql::Stmt segments(db_.get(), "SELECT count(DISTINCT segid) FROM record_search_idx");
      if (!segments.step() || segments.integer(0) < kMergeAt) return false;
      search_merging_ = true;
    }
    // A negative 'merge' merges every segment into one, like 'optimize', but a
    // bounded amount per call; it did nothing when total_changes moved by < 2.
    const int before = sqlite3_total_changes(db_.get());
    sql::Transaction tx(db_);
    sql::Stmt merge(db_.get(), "INSERT INTO record_search(record_search, rank) VALUES('merge', ?)");
    merge.bind(1, static_cast<std::int64_t>(-kPagesPerStep)).run();
    tx.commit();
    search_merging_ = sqlite3_total_changes(db_.get()) - before >= 2;
  } catch (const sql::SqlError&) {
    search_merging_ = false;  // looked at again after the next search write
  }
  return search_merging_;
}

// Search rows written before summaries existed get theirs, once, inside the
// migration's transaction (about 10 s for a million dossiers).
void Store::Impl::fill_summaries() {
  sql::Stmt rows(db_.get(),
                 "SELECT m.row, m.collection, r.state FROM search_rows m "
                 "JOIN records r ON r.collection = m.collection AND r.id = m.id");
  sql::Stmt put(db_.get(), "UPDATE search_rows SET summary=? WHERE row=?");
  pb::RecordState state;
  while (rows.step()) {
    const CollectionSpec* spec = schema_.collection(rows.blob(1));
    if (spec == nullptr) continue;
    if (!merge::parse_state(rows.blob_view(2), state)) continue;
    put.bind(1, summary_of(*spec, state)).bind(2, rows.integer(0)).run();
  }
}

void Store::Impl::write_index(const std::string& collection, const RecordId& id, const pb::RecordState& state,
                              const std::set<std::pair<std::string, std::string>>& old) {
  const CollectionSpec* spec = schema_.collection(collection);
  if (spec == nullptr) return;
  update_search(collection, id, state);
  auto now = index_entries(spec, state);
  for (const auto& e : old) {
    if (now.count(e) != 0) continue;
    del_index_.bind_text(1, collection).bind_text(2, e.first).bind(3, e.second).bind(4, view(id)).run();
  }
  for (const auto& e : now) {
    if (old.count(e) != 0) continue;
    put_index_.bind_text(1, collection).bind_text(2, e.first).bind(3, e.second).bind(4, view(id)).run();
  }
}

// Brings up to `max_records` records listed in index_pending up to date, in one
// transaction with the removal of their rows there: a crash leaves each record
// either listed (index as before) or indexed, never half.
std::size_t Store::Impl::catch_up_index(std::size_t max_records) {
  if (!index_backlog_ || max_records == 0) return 0;
  struct Lagging {
    std::string collection;
    RecordId id;
    std::string old;
  };
  std::vector<Lagging> lagging;
  list_index_pending_.bind(1, static_cast<std::int64_t>(max_records));
  while (list_index_pending_.step()) {
    Lagging l;
    l.collection = list_index_pending_.blob(0);
    copy_to(list_index_pending_.blob_view(1), l.id.bytes);
    l.old = list_index_pending_.blob(2);
    lagging.push_back(std::move(l));
  }
  list_index_pending_.reset();
  if (lagging.empty()) {
    index_backlog_ = false;
    return 0;
  }
  sql::Transaction tx(db_);
  search_queue_.clear();  // what a failed transaction left
  pb::RecordState state;
  std::set<std::pair<std::string, std::string>> old;
  for (const Lagging& l : lagging) {
    state.Clear();
    get_record_.bind_text(1, l.collection).bind(2, view(l.id));
    if (get_record_.step()) {
      if (!merge::parse_state(get_record_.blob_view(0), state)) state.Clear();
    }
    get_record_.reset();
    old.clear();
    if (!decode_index_entries(l.old, old)) {
      sql::Stmt wipe(db_.get(), "DELETE FROM record_index WHERE collection=? AND id=?");
      wipe.bind_text(1, l.collection).bind(2, view(l.id)).run();
      old.clear();
    }
    write_index(l.collection, l.id, state, old);
    del_index_pending_.bind_text(1, l.collection).bind(2, view(l.id)).run();
  }
  write_search_queue();
  tx.commit();
  if (lagging.size() < max_records) index_backlog_ = false;
  return lagging.size();
}

// Search answers come newest first by search row number, which is given when a
// record is first indexed: a deferred record takes its number now, in arrival
// order, so that answers after the indexer equal those of indexing at once.
void Store::Impl::reserve_search_row(const std::string& collection, const RecordId& id,
                                     const pb::RecordState& state, bool existed) {
  const CollectionSpec* spec = schema_.collection(collection);
  bool has_text = std::any_of(spec->fields.begin(), spec->fields.end(), [&](const FieldSpec& f) {
    if (!f.searchable) return false;
    const pb::FieldState* fs = merge::find_field(state, f.name);
    return fs != nullptr && !fs->versions().empty();
  });
  if (!has_text) return;  // update_search would write no row either
  // The summary now, so that search hits show the record as it is (a status, a
  // cancellation) while its words wait for the indexer.
  // A record new in this transaction has no full-text row (never indexed), so no
  // search reaches its summary before the indexer writes both: the row number
  // alone is reserved (NULL summary), which saves a copy and serialization of
  // the state and ~800 bytes of WAL per new dossier in a catch-up.
  reserve_search_row_.bind_text(1, collection).bind(2, view(id));
  if (existed) {
    reserve_search_row_.bind(3, summary_of(*spec, state)).run();
  } else {
    reserve_search_row_.bind_blob_static(3, nullptr, 0).run();
  }
}

void Store::Impl::update_search(const std::string& collection, const RecordId& id,
                                const pb::RecordState& state) {
  const CollectionSpec* spec = schema_.collection(collection);
  std::string text;
  for (const auto& f : spec->fields) {
    if (!f.searchable) continue;
    const pb::FieldState* fs = merge::find_field(state, f.name);
    const pb::Version* v = fs == nullptr ? nullptr : merge::winner(*fs);
    if (v == nullptr) continue;
    text += fold_for_search(v->value());
    text += ' ';
  }
  if (text.empty()) return;
  std::string summary = summary_of(*spec, state);
  put_search_row_.bind_text(1, collection).bind(2, view(id)).bind(3, summary);
  if (!put_search_row_.step()) throw sql::SqlError{"search row not written"};
  std::int64_t row = put_search_row_.integer(0);
  put_search_row_.reset();
  ++search_writes_;
  // Completions are for names and places; numbers (CCCD, codes) are searched as
  // FTS5 prefixes, and keeping one unique word per record out of this table
  // keeps it a few thousand rows.
  for (const std::string& word : search_words(text))
    if (!starts_with_digit(word)) put_search_term_.bind_text(1, word).run();
  search_queue_.emplace_back(row, std::move(text));  // written by write_search_queue()
}

// The full-text rows of a transaction go in last, after every other statement:
// FTS5 writes what it holds in memory as a new segment whenever a statement
// that needs a statement journal (an upsert, say) runs after it, so writing
// each record's row beside its other rows made one tiny segment per record
// (and the merging of thousands of them).
void Store::Impl::write_search_queue() {
  for (const auto& [row, text] : search_queue_) put_search_.bind(1, row).bind_text(2, text).run();
  search_queue_.clear();
}

}  // namespace wardsync
