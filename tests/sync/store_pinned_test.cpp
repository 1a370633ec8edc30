// Goal: a record fetched on demand (store_pinned.cpp) is verified change by
// change, readable, durable, refreshable, and never disturbs the version vector
// or the streams a node holds whole. Method: ward A writes a dossier; ward B
// (which holds none of A's streams) pins A's record_changes(); altered and
// misplaced changes are refused; B is reopened from its file; later B receives
// A's stream whole and nothing breaks.
#include <sqlite3.h>

#include <set>

#include "sync_test_util.hpp"

using namespace wardsync;
using namespace wardsync::test;

namespace {

RecordId write_at(Store& store, const std::string& scope, const std::string& name, const std::string& code) {
  Transaction txn("clerk-a", scope);
  txn.create("dossiers").set("name", name).set_once("code", code).append("history", "received");
  auto r = store.commit(txn);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  return r.value().records[0];
}

void rename(Store& store, const std::string& scope, const RecordId& id, const std::string& name) {
  Transaction txn("clerk-a", scope);
  txn.update("dossiers", id).set("name", name);
  REQUIRE(store.commit(txn).is_ok());
}

// The same change with one byte of its body changed (the signature left as it was).
WireChange altered(WireChange c) {
  c.body[c.body.size() / 2] = static_cast<char>(c.body[c.body.size() / 2] ^ 0x01);
  return c;
}

}  // namespace

TEST_CASE("a pinned record is verified readable and leaves the version vector alone", "[sync][store][fetch]") {
  Node a(1);
  Node b(2);
  write_at(*b, "79/760/B", "own record of B", "B-1");
  RecordId id = write_at(*a, "79/760/A", "Trần Thị Bình", "A-1");
  rename(*a, "79/760/A", id, "Trần Thị Bình (đã sửa)");
  write_at(*a, "79/760/A", "another dossier of A", "A-2");

  auto changes = a->record_changes("dossiers", id, 100);
  REQUIRE(changes.size() == 2);  // only the changes of that record, not A-2's
  VersionVector before = b->version_vector();
  ApplyReport r = b->pin("dossiers", id, changes);
  INFO(describe(r));
  CHECK(r.applied == 2);
  CHECK(r.rejected == 0);
  CHECK(b->version_vector() == before);
  auto rec = b->get("dossiers", id);
  REQUIRE(rec);
  CHECK(rec->text("name") == "Trần Thị Bình (đã sửa)");
  CHECK(b->is_pinned("dossiers", id));
  CHECK(b->find("dossiers", "code", "A-1", 5) == std::vector<RecordId>{id});
  // Pinned changes are not a stream: B serves none of them as one.
  CHECK(b->missing_for({}, 1000).size() == 1);  // B's own change only
  // B can answer a fetch of it in turn (a relay that pinned it), bytes untouched.
  auto served = b->record_changes("dossiers", id, 100);
  auto by_body = [](const WireChange& x, const WireChange& y) { return x.body < y.body; };
  std::sort(served.begin(), served.end(), by_body);
  auto expected = changes;
  std::sort(expected.begin(), expected.end(), by_body);
  CHECK(served == expected);

  SECTION("pinning again adds nothing, a refresh adds only what is new") {
    ApplyReport again = b->pin("dossiers", id, changes);
    CHECK(again.applied == 0);
    CHECK(again.duplicates == 2);
    rename(*a, "79/760/A", id, "third name");
    ApplyReport refresh = b->pin("dossiers", id, a->record_changes("dossiers", id, 100));
    CHECK(refresh.applied == 1);
    CHECK(refresh.duplicates == 2);
    CHECK(b->get("dossiers", id)->text("name") == "third name");
  }

  SECTION("B later receives A's streams whole: duplicates merge to nothing, state equal") {
    ApplyReport whole = sync_into(*a, *b);
    INFO(describe(whole));
    CHECK(whole.rejected == 0);
    CHECK(whole.problems.empty());
    CHECK(b->get("dossiers", id)->text("name") == "Trần Thị Bình (đã sửa)");
    CHECK(b->version_vector().at(stream_of(a.id, "79/760/A")).seq == 3);
    // Fetching it again now meets the log: duplicates, not forks.
    ApplyReport again = b->pin("dossiers", id, changes);
    CHECK(again.duplicates == 2);
    CHECK(again.rejected == 0);
  }
}

TEST_CASE("a fetched change that is altered forged or of another record is refused", "[sync][store][fetch]") {
  Node a(1);
  Node b(2);
  RecordId id = write_at(*a, "79/760/A", "Lê Văn Cường", "A-1");
  RecordId other = write_at(*a, "79/760/A", "someone else", "A-2");
  auto changes = a->record_changes("dossiers", id, 100);
  REQUIRE(changes.size() == 1);

  SECTION("one byte altered") {
    std::vector<WireChange> bad = {altered(changes[0])};
    ApplyReport r = b->pin("dossiers", id, bad);
    CHECK(r.applied == 0);
    CHECK(r.rejected == 1);
    CHECK(!b->get("dossiers", id));
  }
  SECTION("signed by someone other than the origin it names") {
    Identity mallory = identity(9);
    ChangeDraft d;
    d.scope = "79/760/A";
    d.seq = 2;
    d.hlc = hlc_make(kT0, 0);
    d.collection = "dossiers";
    d.record = id;
    d.author = "mallory";
    d.lww = {{"name", "forged"}};
    WireChange forged = sign_draft(mallory, d);
    WireChange good_sig_of_a = changes[0];
    forged.signature = good_sig_of_a.signature;  // A's signature does not fit these bytes
    std::vector<WireChange> batch = {changes[0], forged};
    ApplyReport r = b->pin("dossiers", id, batch);
    CHECK(r.applied == 1);
    CHECK(r.rejected == 1);
    CHECK(count_problems(r, Problem::Kind::kBadSignature) == 1);
    CHECK(b->get("dossiers", id)->text("name") == "Lê Văn Cường");
  }
  SECTION("a change of another record slipped in") {
    auto extra = a->record_changes("dossiers", other, 100);
    std::vector<WireChange> batch = {changes[0], extra[0]};
    ApplyReport r = b->pin("dossiers", id, batch);
    CHECK(r.applied == 1);
    CHECK(r.rejected == 1);
    CHECK(!b->get("dossiers", other));
  }
  SECTION("garbage") {
    std::vector<WireChange> batch = {WireChange{"not a body", std::string(64, 'x')}};
    ApplyReport r = b->pin("dossiers", id, batch);
    CHECK(r.rejected == 1);
  }
  CHECK(b->version_vector().empty());
}

TEST_CASE("a pinned record survives reopening", "[sync][store][fetch]") {
  TempDir dir;
  RecordId id;
  std::vector<WireChange> changes;
  {
    Node a(1, dir.file("a.db"), true);
    id = write_at(*a, "79/760/A", "Phạm Thị Dung", "A-1");
    changes = a->record_changes("dossiers", id, 100);
  }
  {
    Node b(2, dir.file("b.db"), true);
    REQUIRE(b->pin("dossiers", id, changes).applied == 1);
  }
  Node b(2, dir.file("b.db"), true);
  auto rec = b->get("dossiers", id);
  REQUIRE(rec);
  CHECK(rec->text("name") == "Phạm Thị Dung");
  CHECK(b->is_pinned("dossiers", id));
  CHECK(b->version_vector().empty());
}

TEST_CASE("a log written before migration 4 is indexed at open so its records can be served", "[sync][store][fetch]") {
  TempDir dir;
  RecordId id;
  {
    Node a(1, dir.file("a.db"), true);
    id = write_at(*a, "79/760/A", "Đỗ Văn Em", "A-1");
    rename(*a, "79/760/A", id, "Đỗ Văn Em (sửa)");
  }
  {
    // Back to schema 4, as a wardnode of before this migration left it.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(dir.file("a.db").c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "DROP TABLE record_changes; DROP TABLE pinned; PRAGMA user_version=4;", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  Node a(1, dir.file("a.db"), true);
  auto changes = a->record_changes("dossiers", id, 100);
  CHECK(changes.size() == 2);
  Node b(2);
  CHECK(b->pin("dossiers", id, changes).applied == 2);
  CHECK(b->get("dossiers", id)->text("name") == "Đỗ Văn Em (sửa)");
}

TEST_CASE("a fetched answer never rewrites a record of the node's own streams, and by code it must hold the code",
          "[sync][store][fetch]") {
  Node a(1);
  Node b(2);
  Node forger(3);  // a hostile relay signing with a key of its own
  RecordId mine = write_at(*b, "79/760/B", "hồ sơ của B", "B-1");
  // The forger holds B's record (it received B's stream) and signs an edit of it
  // with its own key; the answer carries B's change and the forged one.
  REQUIRE(forger->apply(b->record_changes("dossiers", mine, 10)).applied == 1);
  Transaction txn("clerk-x", "79/760/X");
  txn.update("dossiers", mine).set("name", "giả mạo");
  REQUIRE(forger->commit(txn).is_ok());
  auto forged = forger->record_changes("dossiers", mine, 10);
  REQUIRE(forged.size() == 2);
  ApplyReport refused = b->pin("dossiers", mine, forged);
  INFO(describe(refused));
  CHECK(refused.applied == 0);
  CHECK(refused.duplicates == 1);  // B's own change, checked against its log
  CHECK(refused.rejected == 1);    // the forged edit
  CHECK(b->get("dossiers", mine)->text("name") == "hồ sơ của B");
  CHECK_FALSE(b->is_pinned("dossiers", mine));

  // A fetch by code: an answer for a record that does not hold that code pins nothing.
  RecordId other = write_at(*a, "79/760/A", "Lê Văn Cường", "A-7");
  auto changes = a->record_changes("dossiers", other, 100);
  ApplyReport wrong = b->pin("dossiers", other, changes, std::make_pair(std::string("code"), std::string("A-8")));
  CHECK(wrong.applied == 0);
  CHECK_FALSE(b->get("dossiers", other));
  CHECK_FALSE(b->is_pinned("dossiers", other));
  ApplyReport right = b->pin("dossiers", other, changes, std::make_pair(std::string("code"), std::string("A-7")));
  CHECK(right.applied == changes.size());
  CHECK(b->get("dossiers", other)->text("code") == "A-7");
}
