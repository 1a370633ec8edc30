// Search folding: Vietnamese marks removed, đ folded by hand, case folded; the
// FTS query built from a user's words; and search through a real store.
#include <catch2/catch.hpp>

#include <chrono>
#include <thread>

#include <sqlite3.h>

#include "sync_test_util.hpp"
#include "wardsync/sync/reader.hpp"
#include "wardsync/sync/text.hpp"
#include "wardsync/sync/writer.hpp"

using namespace wardsync;
using namespace wardsync::test;

namespace {
// Runs `sql` on the database file at `path` from outside the store (an older
// wardnode's state, a hand edit).
void exec_sql(const std::string& path, const char* sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  char* err = nullptr;
  int rc = sqlite3_exec(db, sql, nullptr, nullptr, &err);
  INFO((err != nullptr ? err : ""));
  sqlite3_free(err);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}
}  // namespace

TEST_CASE("fold_for_search removes marks and folds d-stroke", "[sync][text]") {
  CHECK(fold_for_search("Nguyễn Văn An") == "nguyen van an");
  CHECK(fold_for_search("ĐẶNG THỊ Ửng") == "dang thi ung");
  CHECK(fold_for_search("Trần Đức Thắng") == "tran duc thang");
  // Decomposed input (base letter + combining marks) folds the same.
  CHECK(fold_for_search("Nguye\xcc\x82\xcc\x83n") == "nguyen");
  CHECK(fold_for_search("079099012345") == "079099012345");
  CHECK(fold_for_search("bad \xff utf8") == "bad  utf8");
}

TEST_CASE("search through the store and a Reader finds names with or without marks", "[sync][text]") {
  Schema schema(1);
  REQUIRE(schema.add({"people", {{"name", MergeType::kLww, false, true}, {"cccd", MergeType::kLww, true, true}}})
              .is_ok());
  TempDir dir;
  Identity id = identity(3);
  FakeClock clock(kT0);
  StoreOptions opt;
  opt.path = dir.file("s.db");
  auto opened = Store::open(opt, schema, id, clock);
  REQUIRE(opened.is_ok());
  auto store = std::move(opened).value();
  auto add = [&](const std::string& name, const std::string& cccd) {
    Transaction t("clerk", "79/760/26734");
    t.create("people").set("name", name).set("cccd", cccd);
    auto r = store->commit(t);
    REQUIRE(r.is_ok());
    return r.value().records[0];
  };
  RecordId an = add("Nguyễn Văn An", "001099012345");
  RecordId dang = add("Đặng Thị Bình", "079188000111");
  add("Trần Văn Cường", "068200123456");

  CHECK(store->search("people", "nguyen van an", 10) == std::vector<RecordId>{an});
  CHECK(store->search("people", "Nguyễn", 10) == std::vector<RecordId>{an});
  CHECK(store->search("people", "dang", 10) == std::vector<RecordId>{dang});
  CHECK(store->search("people", "079188", 10) == std::vector<RecordId>{dang});  // prefix of the CCCD
  CHECK(store->search("people", "van", 10).size() == 2);
  CHECK(store->search("people", "\"; DROP TABLE records; --", 10).empty());
  CHECK(store->search("people", "", 10).empty());

  // A rename is followed by the index.
  Transaction t("clerk", "79/760/26734");
  t.update("people", an).set("name", "Lê Thị Hoa");
  REQUIRE(store->commit(t).is_ok());
  CHECK(store->search("people", "nguyen", 10).empty());
  CHECK(store->search("people", "hoa", 10) == std::vector<RecordId>{an});

  auto reader = Reader::open(dir.file("s.db"), schema);
  REQUIRE(reader.is_ok());
  CHECK(reader.value()->search("people", "le thi hoa", 10) == std::vector<RecordId>{an});
  CHECK(reader.value()->get("people", dang)->text("name") == "Đặng Thị Bình");
  CHECK(reader.value()->find("people", "cccd", "068200123456", 5).size() == 1);
}

TEST_CASE("the word being typed matches its completions, and a short prefix still works",
          "[sync][text]") {
  Schema schema(1);
  REQUIRE(schema.add({"people", {{"name", MergeType::kLww, false, true}}}).is_ok());
  TempDir dir;
  Identity id = identity(4);
  FakeClock clock(kT0);
  StoreOptions opt;
  opt.path = dir.file("s.db");
  auto store = Store::open(opt, schema, id, clock).value();
  auto add = [&](const std::string& name) {
    Transaction t("clerk", "79/760/26734");
    t.create("people").set("name", name);
    return store->commit(t).value().records[0];
  };
  RecordId an = add("Nguyễn Văn An");
  RecordId anh = add("Nguyễn Văn Anh");
  add("Nguyễn Thị Ánh");  // "anh" after folding, but not "van"
  // 40 different words beginning with "t": more completions than are expanded,
  // so "t" falls back to an FTS prefix query and must still find them all.
  for (int i = 0; i < 40; ++i) add("Phạm t" + std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i));

  // Newest first.
  CHECK(store->search("people", "nguyen van an", 10) == std::vector<RecordId>{anh, an});
  CHECK(store->search("people", "nguyen van anh", 10) == std::vector<RecordId>{anh});
  CHECK(store->search("people", "Nguyễn Văn A", 10) == std::vector<RecordId>{anh, an});
  CHECK(store->search("people", "nguyen van anx", 10).empty());
  CHECK(store->search("people", "nguyen van", 10).size() == 2);
  CHECK(store->search("people", "pham t", 100).size() == 40);
  CHECK(store->search("people", "t", 100).size() == 41);  // and "Thị" Ánh
  CHECK(store->search("people", "t", 5).size() == 5);
}

TEST_CASE("a database from before the completions table gets it filled on open", "[sync][text]") {
  Schema schema(1);
  REQUIRE(schema.add({"people", {{"name", MergeType::kLww, false, true}}}).is_ok());
  TempDir dir;
  Identity id = identity(5);
  FakeClock clock(kT0);
  StoreOptions opt;
  opt.path = dir.file("s.db");
  RecordId hoa;
  {
    auto store = Store::open(opt, schema, id, clock).value();
    Transaction t("clerk", "79/760/26734");
    t.create("people").set("name", "Lê Thị Hoa");
    hoa = store->commit(t).value().records[0];
  }
  // Back to schema 2, as an older wardnode left it (without the later migrations' tables).
  exec_sql(opt.path,
           "DROP TABLE search_terms; DROP TABLE index_pending; ALTER TABLE search_rows DROP COLUMN summary; "
           "PRAGMA user_version=2;");

  auto store = Store::open(opt, schema, id, clock).value();
  CHECK(store->search("people", "le thi ho", 10) == std::vector<RecordId>{hoa});
}

TEST_CASE("search hits carry the summary fields, also for rows written before summaries", "[sync][text]") {
  Schema schema(1);
  FieldSpec name{"name", MergeType::kLww, false, true};
  name.summary = true;
  FieldSpec status{"status", MergeType::kRank, true};
  status.summary = true;
  REQUIRE(schema.add({"people", {name, status, {"phone", MergeType::kLww}, {"log", MergeType::kLog}}}).is_ok());
  TempDir dir;
  Identity id = identity(6);
  FakeClock clock(kT0);
  StoreOptions opt;
  opt.path = dir.file("s.db");
  RecordId hoa;
  RecordId gone;
  {
    auto store = Store::open(opt, schema, id, clock).value();
    Transaction t("clerk", "79/760/26734");
    t.create("people").set("name", "Lê Thị Hoa").set("phone", "0901").append("log", "nhận");
    t.create("people").set("name", "Lê Văn Mất");
    auto made = store->commit(t).value().records;
    hoa = made[0];
    gone = made[1];
    Transaction next("clerk", "79/760/26734");
    next.update("people", hoa).set_rank("status", Rank{0, 2, false, "in_progress"});
    next.update("people", gone).mark_deleted();
    REQUIRE(store->commit(next).is_ok());
  }
  auto check = [&](const char* when) {
    INFO(when);
    auto reader = Reader::open(opt.path, schema).value();
    auto hits = reader->search_summaries("people", "le", 10);
    REQUIRE(hits.size() == 2);  // newest first: the removed one too, marked deleted
    CHECK(hits[0].id == gone);
    CHECK(hits[0].deleted);
    CHECK(hits[1].id == hoa);
    CHECK(hits[1].text("name") == "Lê Thị Hoa");
    CHECK(hits[1].text("status") == "in_progress");
    CHECK(hits[1].field("phone") == nullptr);  // not a summary field: never read
    CHECK(hits[1].field("log") == nullptr);
    CHECK(reader->search("people", "le", 10) == std::vector<RecordId>{gone, hoa});
  };
  check("written with summaries");
  // An older node's rows have no summary: the hits are read whole, then the
  // migration fills the summaries in.
  exec_sql(opt.path, "UPDATE search_rows SET summary=NULL");
  {
    auto reader = Reader::open(opt.path, schema).value();
    auto hits = reader->search_summaries("people", "hoa", 10);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].text("name") == "Lê Thị Hoa");
    CHECK(hits[0].text("phone") == "0901");  // the whole record
  }
  exec_sql(opt.path, "ALTER TABLE search_rows DROP COLUMN summary; PRAGMA user_version=3;");
  REQUIRE(Store::open(opt, schema, id, clock).is_ok());
  check("filled in by the migration");
}

namespace {
// Whether the search row of `id` holds `bytes` anywhere in its summary.
bool summary_holds(const std::string& path, const RecordId& id, const std::string& bytes) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT instr(summary, ?) > 0 FROM search_rows WHERE id=?", -1, &q, nullptr) ==
          SQLITE_OK);
  sqlite3_bind_blob(q, 1, bytes.data(), static_cast<int>(bytes.size()), SQLITE_TRANSIENT);
  sqlite3_bind_blob(q, 2, id.bytes.data(), static_cast<int>(id.bytes.size()), SQLITE_TRANSIENT);
  REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  bool holds = sqlite3_column_int(q, 0) != 0;
  sqlite3_finalize(q);
  sqlite3_close(db);
  return holds;
}
}  // namespace

TEST_CASE("a hit shows the winning value of a field edited on two nodes, from a summary without origins",
          "[sync][text]") {
  Schema schema(1);
  FieldSpec name{"name", MergeType::kLww, false, true};
  name.summary = true;
  FieldSpec status{"status", MergeType::kRank, true};
  status.summary = true;
  REQUIRE(schema.add({"people", {name, status, {"phone", MergeType::kLww}}}).is_ok());
  TempDir dir;
  Identity ida = identity(8);
  Identity idb = identity(9);
  FakeClock clock_a(kT0);
  FakeClock clock_b(kT0 + 1000);  // B's edit wins
  StoreOptions oa;
  oa.path = dir.file("a.db");
  StoreOptions ob;
  ob.path = dir.file("b.db");
  RecordId hoa;
  {
    auto a = Store::open(oa, schema, ida, clock_a).value();
    auto b = Store::open(ob, schema, idb, clock_b).value();
    Transaction t("clerk", "79/760/26734");
    t.create("people").set("name", "Lê Thị Hoa").set("phone", "0901").set_rank("status",
                                                                                   Rank{0, 1, false, "received"});
    hoa = a->commit(t).value().records[0];
    REQUIRE(b->apply(a->missing_for(b->version_vector(), 100)).applied == 1);
    Transaction ea("clerk", "79/760/26734");
    ea.update("people", hoa).set("name", "Lê Thị Hoa A");
    REQUIRE(a->commit(ea).is_ok());
    Transaction eb("clerk", "79/760/26734");
    eb.update("people", hoa).set("name", "Lê Thị Hoa B").set_rank("status", Rank{0, 2, false, "in_progress"});
    REQUIRE(b->commit(eb).is_ok());
    REQUIRE(a->apply(b->missing_for(a->version_vector(), 100)).applied == 1);
    REQUIRE(b->apply(a->missing_for(b->version_vector(), 100)).applied == 1);
    REQUIRE(a->get("people", hoa)->field("name")->conflicts.size() == 1);
  }
  auto check = [&](const std::string& path) {
    INFO(path);
    auto reader = Reader::open(path, schema).value();
    auto hits = reader->search_summaries("people", "le thi hoa", 10);
    REQUIRE(hits.size() == 1);
    CHECK(hits[0].text("name") == "Lê Thị Hoa B");
    CHECK(hits[0].text("status") == "in_progress");
    CHECK(hits[0].field("phone") == nullptr);
    // Origins are for merging, and a hit is never merged: the summary keeps none.
    CHECK_FALSE(summary_holds(path, hoa, key_bytes(ida.public_key())));
    CHECK_FALSE(summary_holds(path, hoa, key_bytes(idb.public_key())));
  };
  check(oa.path);
  check(ob.path);

  // A node from before compact summaries kept whole field states (here: the whole
  // record state); migration 7 rewrites them.
  exec_sql(oa.path,
           "UPDATE search_rows SET summary=(SELECT state FROM records r WHERE r.collection=search_rows.collection "
           "AND r.id=search_rows.id); PRAGMA user_version=6;");
  REQUIRE(summary_holds(oa.path, hoa, key_bytes(ida.public_key())));
  {
    auto reader = Reader::open(oa.path, schema).value();
    CHECK(reader->search_summaries("people", "hoa", 10).at(0).text("phone") == "0901");  // the old, whole form
  }
  REQUIRE(Store::open(oa, schema, ida, clock_a).is_ok());
  check(oa.path);
}

namespace {
std::int64_t fts_segments(const std::string& path) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* q = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT count(DISTINCT segid) FROM record_search_idx", -1, &q, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(q) == SQLITE_ROW);
  std::int64_t n = sqlite3_column_int64(q, 0);
  sqlite3_finalize(q);
  sqlite3_close(db);
  return n;
}
}  // namespace

TEST_CASE("an idle writer merges a fragmented full-text index, and search answers the same", "[sync][text]") {
  Schema schema(1);
  REQUIRE(schema.add({"people", {{"name", MergeType::kLww, false, true}}}).is_ok());
  TempDir dir;
  Identity id = identity(7);
  FakeClock clock(kT0);
  StoreOptions opt;
  opt.path = dir.file("s.db");
  auto store = Store::open(opt, schema, id, clock).value();
  const char* names[] = {"Nguyễn Văn An", "Trần Thị Bích", "Lê Hoàng Nam", "Phạm Minh Châu"};
  // One commit each: every commit leaves an FTS5 segment behind.
  int made = 0;
  while (fts_segments(opt.path) < 8 && made < 5000) {
    Transaction t("clerk", "79/760/26734");
    t.create("people").set("name", std::string(names[made % 4]) + " " + std::to_string(made));
    REQUIRE(store->commit(t).is_ok());
    ++made;
  }
  REQUIRE(fts_segments(opt.path) >= 8);
  const auto before = store->search("people", "le hoang nam", 10000);
  CHECK(before.size() == static_cast<std::size_t>((made + 1) / 4));

  Writer writer(std::move(store));
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (fts_segments(opt.path) > 1 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CHECK(fts_segments(opt.path) == 1);
  CHECK(writer.stats().tidy_steps >= 1);
  auto reader = Reader::open(opt.path, schema).value();
  CHECK(reader->search("people", "le hoang nam", 10000) == before);
  // Writes still go through after the merge, and are found.
  Transaction t("clerk", "79/760/26734");
  t.create("people").set("name", "Lê Hoàng Nam mới");
  auto id_new = writer.commit(std::move(t)).get().value().records[0];
  CHECK(reader->search("people", "le hoang nam moi", 10) == std::vector<RecordId>{id_new});
}
