// The store's derived indexes (sync/src/store_search.cpp) through its public
// API: deferred indexing after a catch-up, and its recovery from a failed step.
#include <sqlite3.h>

#include "sync_test_util.hpp"

using namespace wardsync;
using namespace wardsync::test;

// Deferred indexing (StoreOptions::defer_index_min_changes): a catch-up's large
// batches are applied without record_index and search maintenance, and
// catch_up_index() brings them up to date later. Goal: once it has run, the
// index and the search rows are exactly those of a replica that indexed every
// change as it came, even when local edits touched lagging records and a second
// catch-up changed lagging and indexed records alike. Method: one source
// replica, two receivers fed the same changes (one defers, one does not), the
// tables compared row for row.
namespace {

const Schema& search_schema() {
  static const Schema schema = [] {
    Schema s(1);
    Status st = s.add(CollectionSpec{"dossiers",
                                     {
                                         {"name", MergeType::kLww, true, true},
                                         {"address", MergeType::kLww, false, true},
                                         {"tags", MergeType::kSet, true},
                                         {"code", MergeType::kOnce, true, true},
                                         {"status", MergeType::kRank, true},
                                     }});
    if (!st.is_ok()) std::abort();
    return s;
  }();
  return schema;
}

std::unique_ptr<Store> open_search_store(const std::string& path, const Identity& id, Clock& clock,
                                         std::size_t defer_min, bool durable = false) {
  StoreOptions options;
  options.path = path;
  options.durable = durable;
  options.defer_index_min_changes = defer_min;
  auto r = Store::open(options, search_schema(), id, clock);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// Search rows that a search can reach (they have a full-text row) but that hold
// no summary: always none.
std::int64_t reachable_without_summary(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT count(*) FROM search_rows r JOIN record_search s ON s.rowid = r.row "
                             "WHERE r.summary IS NULL",
                             -1, &st, nullptr) == SQLITE_OK);
  std::int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

// Every row of the index, the search text and summary of every record and the
// completions. (A deferred new record's search row holds no summary until it is
// indexed; a row that search can reach always has one.)
std::vector<std::string> index_dump(const std::string& path) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  for (const char* sql : {"SELECT 'i', collection, field, hex(value), hex(id) FROM record_index ORDER BY 2, 3, 4, 5",
                          "SELECT 's', r.collection, hex(r.id), s.text, hex(r.summary) FROM search_rows r "
                          "JOIN record_search s ON s.rowid = r.row ORDER BY 2, 3",
                          "SELECT 't', term, '', '', '' FROM search_terms ORDER BY 2",
                          "SELECT 'p', collection, hex(id), '', '' FROM index_pending ORDER BY 2, 3"}) {
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, sql, -1, &st, nullptr) == SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int i = 0; i < 5; ++i) {
        const unsigned char* t = sqlite3_column_text(st, i);
        row += (t != nullptr ? reinterpret_cast<const char*>(t) : "") + std::string("|");
      }
      out.push_back(row);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(db);
  return out;
}

// Applies what `from` has and `to` lacks in batches of `batch` changes.
void feed(const Store& from, Store& to, std::size_t batch) {
  while (true) {
    auto changes = from.missing_for(to.version_vector(), batch);
    if (changes.empty()) return;
    ApplyReport r = to.apply(changes);
    INFO(describe(r));
    REQUIRE(r.applied == changes.size());
  }
}

// A source writing 120 dossiers, then editing a third of them (names, tags,
// status), so records carry several changes and their index entries move.
void write_source(Store& a, std::size_t first, std::vector<RecordId>& ids) {
  for (std::size_t i = first; i < first + 120; ++i) {
    Transaction t("clerk-1", "ward-1");
    t.create("dossiers")
        .set("name", "Nguyễn Văn " + std::to_string(i % 17))
        .set("address", "Số " + std::to_string(i) + " Lê Lợi")
        .add("tags", i % 3 == 0 ? "urgent" : "normal")
        .set_once("code", "HS-" + std::to_string(i));
    auto r = a.commit(t);
    REQUIRE(r.is_ok());
    ids.push_back(r.value().records[0]);
  }
  for (std::size_t i = 0; i < ids.size(); i += 3) {
    Transaction t("clerk-1", "ward-1");
    t.update("dossiers", ids[i])
        .set("name", "Trần Thị " + std::to_string((i + first) % 11))
        .remove("tags", "urgent")
        .add("tags", "elderly")
        .set_rank("status", Rank{0, static_cast<std::uint32_t>(1 + (i + first) % 3), false,
                                 "stage-" + std::to_string((i + first) % 3)});
    REQUIRE(a.commit(t).is_ok());
  }
}

std::size_t drain_index(Store& s, std::size_t step) {
  std::size_t total = 0;
  for (int guard = 0; guard < 10000; ++guard) {
    auto r = s.catch_up_index(step);
    REQUIRE(r.is_ok());
    if (r.value() == 0) break;
    total += r.value();
  }
  CHECK_FALSE(s.index_backlog());
  return total;
}

}  // namespace

TEST_CASE("deferred indexing ends exactly where indexing at once does, local edits of lagging records included",
          "[sync][store][index]") {
  TempDir dir;
  Identity ia = identity(1), ib = identity(2), ic = identity(3);
  FakeClock clock;
  auto a = open_search_store(dir.file("a.db"), ia, clock, 0);
  auto lag = open_search_store(dir.file("lag.db"), ib, clock, 50);   // defers batches of 50 and more
  auto now = open_search_store(dir.file("now.db"), ic, clock, 0);    // indexes everything at once
  std::vector<RecordId> ids;
  write_source(*a, 0, ids);

  feed(*a, *lag, 100);
  feed(*a, *now, 100);
  CHECK(lag->digest() == now->digest());
  // Records are there at once; the index and search lag behind.
  CHECK(lag->index_backlog());
  CHECK(lag->get("dossiers", ids[5]).has_value());
  CHECK(lag->find("dossiers", "code", "HS-5", 10).empty());
  CHECK(now->find("dossiers", "code", "HS-5", 10) == std::vector<RecordId>{ids[5]});

  // A local edit of a lagging record indexes that record exactly, at once.
  Transaction edit("clerk-9", "ward-1");
  edit.update("dossiers", ids[3]).set("name", "Lê Văn Tám").remove("tags", "elderly").add("tags", "vip");
  auto e = lag->commit(edit);
  REQUIRE(e.is_ok());
  CHECK(lag->find("dossiers", "name", "Lê Văn Tám", 10) == std::vector<RecordId>{ids[3]});
  CHECK(lag->find("dossiers", "tags", "vip", 10) == std::vector<RecordId>{ids[3]});
  CHECK(lag->find("dossiers", "tags", "elderly", 10).empty());  // the rest still lags
  CHECK(lag->search("dossiers", "tam", 10) == std::vector<RecordId>{ids[3]});
  // The same edit reaches the other replica as a received change (small batch: indexed at once).
  REQUIRE(now->apply(lag->stream_changes(stream_of(ib), 0, 10)).applied == 1);

  // Part of the backlog indexed, then a second catch-up touching indexed and
  // lagging records alike; a small batch (indexed at once) in between.
  CHECK(lag->catch_up_index(40).value() == 40);
  CHECK(reachable_without_summary(dir.file("lag.db")) == 0);
  write_source(*a, 120, ids);
  feed(*a, *lag, 10);  // below the threshold: indexed at once
  feed(*a, *now, 10);
  for (std::size_t i = 0; i < ids.size(); i += 7) {
    Transaction t("clerk-2", "ward-1");
    t.update("dossiers", ids[i]).set("address", "Ấp " + std::to_string(i)).add("tags", "again");
    REQUIRE(a->commit(t).is_ok());
  }
  feed(*a, *lag, 200);
  feed(*a, *now, 200);
  CHECK(lag->index_backlog());
  CHECK(reachable_without_summary(dir.file("lag.db")) == 0);

  CHECK(drain_index(*lag, 64) > 0);
  CHECK(lag->digest() == now->digest());
  auto want = index_dump(dir.file("now.db"));
  auto got = index_dump(dir.file("lag.db"));
  CHECK(want.size() > 500);
  CHECK(got == want);
  for (const char* q : {"nguyen", "tran thi", "le loi", "ap", "hs-7", "tam"})
    CHECK(lag->search("dossiers", q, 1000) == now->search("dossiers", q, 1000));
  CHECK(lag->find("dossiers", "tags", "again", 1000) == now->find("dossiers", "tags", "again", 1000));
}

TEST_CASE("deferred indexing: a step that fails half way leaves nothing half done, and a restart finishes it",
          "[sync][store][index]") {
  TempDir dir;
  Identity ia = identity(1), ib = identity(2), ic = identity(3);
  FakeClock clock;
  auto a = open_search_store(dir.file("a.db"), ia, clock, 0);
  auto now = open_search_store(dir.file("now.db"), ic, clock, 0);
  std::vector<RecordId> ids;
  write_source(*a, 0, ids);
  feed(*a, *now, 100);
  {
    auto lag = open_search_store(dir.file("lag.db"), ib, clock, 50, true);
    feed(*a, *lag, 100);
    CHECK(lag->catch_up_index(30).value() == 30);
    // A failure in the middle of the next step (as a crash would cut it): the
    // whole step rolls back and its records stay listed.
    auto before = index_dump(dir.file("lag.db"));
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file("lag.db").c_str(), &db) == SQLITE_OK);
    std::string trigger = "CREATE TRIGGER cut BEFORE INSERT ON record_index WHEN (SELECT count(*) FROM record_index) >= " +
                          std::to_string(std::count_if(before.begin(), before.end(),
                                                       [](const std::string& r) { return r[0] == 'i'; }) + 25) +
                          " BEGIN SELECT RAISE(ABORT, 'cut'); END";
    REQUIRE(sqlite3_exec(db, trigger.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
    CHECK_FALSE(lag->catch_up_index(30).is_ok());
    CHECK(index_dump(dir.file("lag.db")) == before);
    REQUIRE(sqlite3_exec(db, "DROP TRIGGER cut", nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }  // closed with a backlog: as after a power cut between steps
  auto lag = open_search_store(dir.file("lag.db"), ib, clock, 50, true);
  CHECK(lag->index_backlog());
  CHECK(drain_index(*lag, 1000) == 120 - 30);
  CHECK(lag->digest() == now->digest());
  CHECK(index_dump(dir.file("lag.db")) == index_dump(dir.file("now.db")));
}

// A query holding a number is answered oldest first and turned round when all
// its hits fit the limit, newest first otherwise (reader.cpp, each_hit): the
// answer must be what a plain newest-first search gives, at every limit.
// Method: addresses "Số {i} Lê Lợi" for i = 0..119, so "le loi 7" matches 7 and
// 70..79 (11 hits) and "le loi 1" 1, 10..19 and 100..119 (31 hits); each is
// asked with limits below, at and above its number of hits.
TEST_CASE("a search with a number answers its hits newest first at every limit", "[sync][store][search]") {
  TempDir dir;
  Identity ia = identity(1);
  FakeClock ca;
  auto a = open_search_store(dir.file("a.db"), ia, ca, 0);
  std::vector<RecordId> ids;
  for (std::size_t i = 0; i < 120; ++i) {
    ca.advance(1);
    Transaction t("clerk-1", "ward-1");
    t.create("dossiers").set("name", "Phạm Thị Hoa").set("address", "Số " + std::to_string(i) + " Lê Lợi");
    auto r = a->commit(t);
    REQUIRE(r.is_ok());
    ids.push_back(r.value().records[0]);
  }
  auto newest_first = [&](std::initializer_list<std::pair<std::size_t, std::size_t>> ranges, std::size_t limit) {
    std::vector<RecordId> out;
    for (const auto& [lo, hi] : ranges)
      for (std::size_t i = lo; i <= hi; ++i) out.push_back(ids[i]);
    std::sort(out.begin(), out.end(), [](const RecordId& x, const RecordId& y) { return y < x; });
    if (out.size() > limit) out.resize(limit);
    return out;
  };
  for (std::size_t limit : {1, 5, 10, 11, 12, 100}) {
    INFO("limit " << limit);
    CHECK(a->search("dossiers", "le loi 7", limit) == newest_first({{7, 7}, {70, 79}}, limit));
    CHECK(a->search("dossiers", "Lê Lợi 1", limit) == newest_first({{1, 1}, {10, 19}, {100, 119}}, limit));
    CHECK(a->search("dossiers", "119 hoa", limit) == newest_first({{119, 119}}, limit));
  }
  CHECK(a->search("dossiers", "le loi 7 hoa", 20) == std::vector<RecordId>{ids[7]});  // "7" whole, "hoa" a prefix
  CHECK(a->search("dossiers", "le loi 120", 20).empty());
}

namespace {
std::int64_t search_segments(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(DISTINCT segid) FROM record_search_idx", -1, &st, nullptr) ==
          SQLITE_OK);
  std::int64_t n = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}
}  // namespace

// FTS5 writes what it holds in memory as a new segment whenever a statement
// needing a statement journal (the search row's upsert) runs after it: a group
// of 120 records indexed one by one made a segment each (merged at once, but
// the merging cost a fifth of a write). Goal: one group, one segment; one
// deferred-index step, one segment more.
TEST_CASE("a group of writes adds one full-text segment, and so does an index catch-up step",
          "[sync][store][search]") {
  TempDir dir;
  Identity ia = identity(1), ib = identity(2);
  FakeClock clock;
  auto a = open_search_store(dir.file("a.db"), ia, clock, 0);
  std::vector<Transaction> txns;
  for (std::size_t i = 0; i < 120; ++i) {
    Transaction t("clerk-1", "ward-1");
    t.create("dossiers").set("name", "Nguyễn Văn " + std::to_string(i)).set("address", "Số " + std::to_string(i));
    txns.push_back(std::move(t));
  }
  std::vector<const Transaction*> group;
  for (const auto& t : txns) group.push_back(&t);
  for (const auto& r : a->commit_group(group)) REQUIRE(r.is_ok());
  CHECK(search_segments(dir.file("a.db")) == 1);
  CHECK(a->search("dossiers", "nguyen van 119", 5).size() == 1);

  auto lag = open_search_store(dir.file("lag.db"), ib, clock, 50);  // defers batches of 50 and more
  feed(*a, *lag, 200);
  REQUIRE(lag->index_backlog());
  CHECK(lag->catch_up_index(120).value() == 120);
  CHECK(search_segments(dir.file("lag.db")) == 1);
  CHECK(lag->search("dossiers", "nguyen van 7", 5) == a->search("dossiers", "nguyen van 7", 5));
}
