// The store's SQL: numbered migrations and the statements it prepares once.
#pragma once

namespace wardsync::sql_text {

// Migration i brings the database from user_version i to i + 1. Append only:
// never edit a migration that has shipped.
inline const char* const kMigrations[] = {
    // 1: change log, streams (the version vector), materialized records, index,
    // held changes (gaps, clock skew), quarantined origins with their fork proofs.
    R"(
CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
CREATE TABLE streams(
  id INTEGER PRIMARY KEY,
  origin BLOB NOT NULL,
  scope TEXT NOT NULL,
  seq INTEGER NOT NULL,
  head BLOB NOT NULL,
  UNIQUE(origin, scope));
CREATE TABLE changes(
  stream INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  hash BLOB NOT NULL,
  body BLOB NOT NULL,
  sig BLOB NOT NULL,
  sig_checked INTEGER NOT NULL,
  PRIMARY KEY(stream, seq)) WITHOUT ROWID;
CREATE TABLE records(
  collection TEXT NOT NULL,
  id BLOB NOT NULL,
  state BLOB NOT NULL,
  deleted INTEGER NOT NULL,
  conflict INTEGER NOT NULL,
  updated INTEGER NOT NULL,
  PRIMARY KEY(collection, id)) WITHOUT ROWID;
CREATE INDEX records_conflict ON records(collection, id) WHERE conflict = 1;
CREATE TABLE record_index(
  collection TEXT NOT NULL,
  field TEXT NOT NULL,
  value BLOB NOT NULL,
  id BLOB NOT NULL,
  PRIMARY KEY(collection, field, value, id)) WITHOUT ROWID;
CREATE TABLE held(
  stream INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  body BLOB NOT NULL,
  sig BLOB NOT NULL,
  reason INTEGER NOT NULL,
  PRIMARY KEY(stream, seq)) WITHOUT ROWID;
CREATE TABLE quarantine(
  origin BLOB PRIMARY KEY,
  reason TEXT NOT NULL,
  a_body BLOB NOT NULL, a_sig BLOB NOT NULL,
  b_body BLOB NOT NULL, b_sig BLOB NOT NULL) WITHOUT ROWID;
)",
    // 2: full-text search over fields declared searchable, diacritics folded
    // before indexing (fold_for_search), one FTS5 row per record.
    R"(
CREATE TABLE search_rows(
  row INTEGER PRIMARY KEY,
  collection TEXT NOT NULL,
  id BLOB NOT NULL,
  UNIQUE(collection, id));
CREATE VIRTUAL TABLE record_search USING fts5(text, tokenize = 'unicode61 remove_diacritics 2');
)",
    // 3: every word not starting with a digit ever indexed for search, so the word being
    // typed can be expanded into its completions instead of an FTS5 prefix scan.
    R"(
CREATE TABLE search_terms(term TEXT PRIMARY KEY) WITHOUT ROWID;
CREATE VIRTUAL TABLE temp.search_vocab USING fts5vocab(main, record_search, row);
INSERT INTO search_terms SELECT term FROM temp.search_vocab WHERE term NOT GLOB '[0-9]*';
DROP TABLE temp.search_vocab;
)",
    // 4: each search row keeps its record's summary fields (a RecordState holding only
    // the fields declared `summary`), so search answers need no record reads. Rows
    // written before this are filled in once by the store when it opens.
    R"(
ALTER TABLE search_rows ADD COLUMN summary BLOB;
)",
    // 5: on-demand fetch (store_pinned.cpp). `record_changes` names the log entries of
    // each record, so a node can answer a fetch without scanning the log (filled by
    // append_change; rows for a log written before this migration are added by
    // Store::Impl::index_record_changes at open). `pinned` holds changes of records
    // outside this node's streams, each verified by its own signature: they are merged
    // into `records` but belong to no stream, so the version vector never sees them.
    // IF NOT EXISTS: a database rolled back to an older user_version by hand (the
    // tests do) may still hold them.
    R"(
CREATE TABLE IF NOT EXISTS record_changes(
  collection TEXT NOT NULL,
  id BLOB NOT NULL,
  stream INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  PRIMARY KEY(collection, id, stream, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS pinned(
  collection TEXT NOT NULL,
  id BLOB NOT NULL,
  hash BLOB NOT NULL,
  origin BLOB NOT NULL,
  body BLOB NOT NULL,
  sig BLOB NOT NULL,
  PRIMARY KEY(collection, id, hash)) WITHOUT ROWID;
)",
    // 6: records whose record_index and search rows lag behind their state.
    // A large received batch is applied without index maintenance; the indexer
    // catches up in bounded transactions. `old` holds the index entries the index
    // still has for the record (encode_index_entries), so the indexer and a local
    // edit remove exactly those and nothing else. IF NOT EXISTS: see 5.
    R"(
CREATE TABLE IF NOT EXISTS index_pending(
  collection TEXT NOT NULL,
  id BLOB NOT NULL,
  old BLOB NOT NULL,
  PRIMARY KEY(collection, id)) WITHOUT ROWID;
)",
    // 7: summaries keep only the value a result list shows (summary_of); the rows
    // written by 4 are rewritten once by the store when it opens. No SQL.
    "",
    // 8: record states are stored with their common origin named once
    // (merge::serialize_state); the store rewrites the older ones when it
    // opens, so that equal states are equal bytes on every replica. No SQL.
    "",
    // 9: when each held change was put aside (Unix seconds), so that what waits
    // too long (StoreOptions::held_max_age_s) is dropped: nothing held is ever
    // acknowledged, so its sender resends it, while junk from a hostile peer
    // would otherwise sit in the total bound for good. The column is added by
    // Store::Impl::add_held_age (a database rolled back by hand may have it).
    "",
};
constexpr int kSummaryMigration = 4;
constexpr int kCompactSummaryMigration = 7;
constexpr int kFetchMigration = 5;
constexpr int kStoredStateMigration = 8;
constexpr int kHeldAgeMigration = 9;
constexpr int kSchemaVersion = sizeof(kMigrations) / sizeof(kMigrations[0]);

}  // namespace wardsync::sql_text
