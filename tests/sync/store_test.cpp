// Store through its public API: local writes, reads, replication between two
// stores, refusals that must write nothing, reopening, the index. Deferred
// indexing: store_search_test.cpp.
#include <sqlite3.h>

#include <cstring>
#include <map>
#include <set>

#include "merge_internal.hpp"
#include "sync_test_util.hpp"
#include "wardsync/sync/reader.hpp"

using namespace wardsync;
using namespace wardsync::test;

namespace {

RecordId create_dossier(Store& store, const std::string& name, const std::string& author = "clerk-1") {
  Transaction txn(author, "ward-1");
  txn.create("dossiers").set("name", name);
  auto r = store.commit(txn);
  INFO(r.status().to_string());
  REQUIRE(r.is_ok());
  REQUIRE(r.value().records.size() == 1);
  return r.value().records[0];
}

Result<CommitInfo> update_name(Store& store, const RecordId& id, const std::string& name) {
  Transaction txn("clerk-1", "ward-1");
  txn.update("dossiers", id).set("name", name);
  return store.commit(txn);
}

// HLCs of a stream's changes, in sequence order.
std::vector<Hlc> stream_hlcs(const Store& store, const StreamKey& key) {
  std::vector<Hlc> out;
  for (const auto& c : store.stream_changes(key, 0, 100000)) {
    auto h = parse_header(c);
    REQUIRE(h.is_ok());
    out.push_back(h.value().hlc);
  }
  return out;
}

void set_user_version(const std::string& path, int version) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  std::string sql = "PRAGMA user_version=" + std::to_string(version);
  CHECK(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
}

}  // namespace

TEST_CASE("a local write is readable signed chained and in the log", "[sync][store]") {
  Node a(1);
  Transaction txn("clerk-7", "ward-1");
  txn.create("dossiers").set("name", "Nguyễn Văn An").set("address", "12 Lê Lợi").set_once("code", "HS-1");
  auto r = a->commit(txn);
  REQUIRE(r.is_ok());
  const CommitInfo& info = r.value();
  REQUIRE(info.records.size() == 1);
  REQUIRE(info.changes.size() == 1);
  CHECK(info.changes[0].seq == 1);
  CHECK(info.changes[0].stream == stream_of(a.id));

  auto rec = a->get("dossiers", info.records[0]);
  REQUIRE(rec.has_value());
  CHECK(rec->text("name") == "Nguyễn Văn An");
  CHECK(rec->text("address") == "12 Lê Lợi");
  CHECK(rec->text("code") == "HS-1");
  CHECK(rec->field("name")->origin == a.id.public_key());
  CHECK_FALSE(rec->deleted);
  CHECK_FALSE(rec->has_conflicts());
  CHECK(hlc_millis(rec->created) == kT0);
  CHECK(rec->updated == rec->created);

  auto log = a->stream_changes(stream_of(a.id), 0, 10);
  REQUIRE(log.size() == 1);
  CHECK(change_hash(log[0]) == info.changes[0].hash);
  Signature sig{};
  REQUIRE(log[0].signature.size() == sig.size());
  std::memcpy(sig.data(), log[0].signature.data(), sig.size());
  CHECK(verify_signature(a.id.public_key(), bytes_of(log[0].body), sig));
  CHECK(a->has_change(log[0]));
  auto h = parse_header(log[0]);
  REQUIRE(h.is_ok());
  CHECK(h.value().record == info.records[0]);
  CHECK(h.value().collection == "dossiers");
  CHECK(h.value().seq == 1);

  // A second write chains to the first.
  REQUIRE(update_name(*a, info.records[0], "Nguyễn Văn Anh").is_ok());
  log = a->stream_changes(stream_of(a.id), 0, 10);
  REQUIRE(log.size() == 2);
  auto h2 = parse_header(log[1]);
  REQUIRE(h2.is_ok());
  CHECK(h2.value().seq == 2);
  CHECK(h2.value().prev_hash == info.changes[0].hash);
  CHECK(h2.value().hlc > h.value().hlc);
  auto vv = a->version_vector();
  REQUIRE(vv.count(stream_of(a.id)) == 1);
  CHECK(vv[stream_of(a.id)].seq == 2);
  CHECK(vv[stream_of(a.id)].head == change_hash(log[1]));
  CHECK(a->get("dossiers", info.records[0])->text("name") == "Nguyễn Văn Anh");
  CHECK(a->stats().changes == 2);
  CHECK(a->stats().records == 1);
}

TEST_CASE("every merge type through local writes", "[sync][store]") {
  Node a(1);
  Transaction t1("clerk-1", "ward-1");
  t1.create("dossiers")
      .set_rank("status", Rank{0, 1, false, "received"})
      .add("tags", "urgent")
      .add("tags", "elderly")
      .append("history", "received at desk 2")
      .increment("visits", 3)
      .set_once("code", "HS-9");
  auto r = a->commit(t1);
  REQUIRE(r.is_ok());
  RecordId id = r.value().records[0];

  Transaction t2("clerk-2", "ward-1");
  t2.update("dossiers", id)
      .set_rank("status", Rank{0, 2, false, "in progress"})
      .remove("tags", "urgent")
      .append("history", "assigned")
      .increment("visits", -1)
      .set_once("code", "HS-9");  // the same value again: fine
  REQUIRE(a->commit(t2).is_ok());

  auto rec = a->get("dossiers", id);
  REQUIRE(rec.has_value());
  CHECK(rec->text("status") == "in progress");
  CHECK(rec->field("status")->rank.stage == 2);
  CHECK(rec->field("tags")->elements == std::vector<std::string>{"elderly"});
  REQUIRE(rec->field("history")->entries.size() == 2);
  CHECK(rec->field("history")->entries[0].value == "received at desk 2");
  CHECK(rec->field("history")->entries[0].author == "clerk-1");
  CHECK(rec->field("history")->entries[1].value == "assigned");
  CHECK(rec->field("visits")->count == 2);
  CHECK(rec->text("code") == "HS-9");
  CHECK_FALSE(rec->has_conflicts());

  Transaction del("clerk-2", "ward-1");
  del.update("dossiers", id).mark_deleted();
  REQUIRE(a->commit(del).is_ok());
  CHECK(a->get("dossiers", id)->deleted);
}

TEST_CASE("replication: node A's stream applied on node B gives the same state", "[sync][store]") {
  Node a(1);
  Node b(2);
  std::vector<RecordId> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(create_dossier(*a, "dossier " + std::to_string(i)));
  REQUIRE(update_name(*a, ids[3], "renamed").is_ok());

  auto report = sync_into(*a, *b);
  INFO(describe(report));
  CHECK(report.applied == 21);
  CHECK(report.rejected == 0);
  CHECK(report.problems.empty());
  CHECK(b->digest() == a->digest());
  CHECK(b->version_vector() == a->version_vector());
  CHECK(b->get("dossiers", ids[3])->text("name") == "renamed");
  CHECK(b->stats().records == 20);
  for (const auto& c : a->stream_changes(stream_of(a.id), 0, 100)) CHECK(b->has_change(c));

  // Nothing more to send; a second round is a no-op.
  CHECK(a->missing_for(b->version_vector(), 1000).empty());
  auto again = sync_into(*a, *b);
  CHECK(again.applied == 0);
  CHECK(b->digest() == a->digest());

  // B relays A's stream to C: same state again.
  Node c(3);
  auto relayed = sync_into(*b, *c);
  INFO(describe(relayed));
  CHECK(relayed.applied == 21);
  CHECK(c->digest() == a->digest());
}

TEST_CASE("replication: concurrent writes on two nodes converge the loser is a visible conflict",
          "[sync][store]") {
  Node a(1);
  Node b(2);
  RecordId id = create_dossier(*a, "original");
  REQUIRE(sync_into(*a, *b).applied == 1);

  // Both edit offline.
  b.clock.advance(1000);
  REQUIRE(update_name(*a, id, "edited on A").is_ok());
  REQUIRE(update_name(*b, id, "edited on B").is_ok());
  Transaction ta("clerk-1", "ward-1");
  ta.update("dossiers", id).add("tags", "from-a").increment("visits", 2);
  REQUIRE(a->commit(ta).is_ok());
  Transaction tb("clerk-2", "ward-1");
  tb.update("dossiers", id).add("tags", "from-b").increment("visits", 5);
  REQUIRE(b->commit(tb).is_ok());

  auto r1 = sync_into(*a, *b);
  auto r2 = sync_into(*b, *a);
  INFO(describe(r1) << " / " << describe(r2));
  CHECK(r1.applied == 2);
  CHECK(r2.applied == 2);
  CHECK(a->digest() == b->digest());
  for (Store* s : {a.store.get(), b.store.get()}) {
    auto rec = s->get("dossiers", id);
    REQUIRE(rec.has_value());
    CHECK(rec->text("name") == "edited on B");  // B's clock is ahead
    REQUIRE(rec->field("name")->conflicts.size() == 1);
    CHECK(rec->field("name")->conflicts[0].value == "edited on A");
    CHECK(rec->field("tags")->elements == (std::vector<std::string>{"from-a", "from-b"}));
    CHECK(rec->field("visits")->count == 7);
    CHECK(s->with_conflicts("dossiers", 10) == std::vector<RecordId>{id});
    CHECK(s->stats().conflicts == 1);
  }

  // A clerk resolves it: a write that saw the winner clears the conflict everywhere.
  REQUIRE(update_name(*a, id, "resolved").is_ok());
  sync_into(*a, *b);
  CHECK(b->get("dossiers", id)->text("name") == "resolved");
  CHECK_FALSE(b->get("dossiers", id)->has_conflicts());
  CHECK(b->with_conflicts("dossiers", 10).empty());
  CHECK(a->digest() == b->digest());
}

TEST_CASE("refused local writes write nothing", "[sync][store]") {
  Node a(1);
  RecordId id = create_dossier(*a, "x");
  {
    Transaction t("clerk-1", "ward-1");
    t.update("dossiers", id).set_once("code", "HS-1");
    REQUIRE(a->commit(t).is_ok());
  }
  const Hash digest = a->digest();
  const auto vv = a->version_vector();
  const auto stats = a->stats();
  const auto log = a->stream_changes(stream_of(a.id), 0, 100);

  auto expect_refused = [&](Transaction& t, Code code) {
    auto r = a->commit(t);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == code);
    CHECK(a->digest() == digest);
    CHECK(a->version_vector() == vv);
    CHECK(a->stats().changes == stats.changes);
    CHECK(a->stats().records == stats.records);
    CHECK(a->stream_changes(stream_of(a.id), 0, 100) == log);
  };

  SECTION("unknown collection") {
    Transaction t("clerk-1", "ward-1");
    t.create("no-such-collection").set("name", "x");
    expect_refused(t, Code::kInvalidArgument);
  }
  SECTION("unknown field") {
    Transaction t("clerk-1", "ward-1");
    t.update("dossiers", id).set("no_such_field", "x");
    expect_refused(t, Code::kInvalidArgument);
  }
  SECTION("wrong merge type: set on a set field") {
    Transaction t("clerk-1", "ward-1");
    t.update("dossiers", id).set("tags", "x");
    expect_refused(t, Code::kInvalidArgument);
  }
  SECTION("wrong merge type: increment on an lww field") {
    Transaction t("clerk-1", "ward-1");
    t.update("dossiers", id).increment("name", 1);
    expect_refused(t, Code::kInvalidArgument);
  }
  SECTION("second different value of a once field") {
    Transaction t("clerk-1", "ward-1");
    t.update("dossiers", id).set_once("code", "HS-2");
    expect_refused(t, Code::kConflict);
    CHECK(a->get("dossiers", id)->text("code") == "HS-1");
  }
  SECTION("a bad write makes the whole transaction fail, good writes included") {
    Transaction t("clerk-1", "ward-1");
    t.create("dossiers").set("name", "would be new");
    t.update("dossiers", id).set("name", "would change");
    t.update("dossiers", id).set("nope", "x");
    expect_refused(t, Code::kInvalidArgument);
    CHECK(a->get("dossiers", id)->text("name") == "x");
  }
  SECTION("empty transaction, empty scope, a write with no operations") {
    Transaction empty("clerk-1", "ward-1");
    expect_refused(empty, Code::kInvalidArgument);
    Transaction no_scope("clerk-1", "");
    no_scope.create("dossiers").set("name", "x");
    expect_refused(no_scope, Code::kInvalidArgument);
    Transaction no_ops("clerk-1", "ward-1");
    no_ops.update("dossiers", id);
    expect_refused(no_ops, Code::kInvalidArgument);
  }
  // After any refusal the stream continues without a gap.
  REQUIRE(update_name(*a, id, "next").is_ok());
  auto after = a->stream_changes(stream_of(a.id), 0, 100);
  REQUIRE(after.size() == log.size() + 1);
  CHECK(parse_header(after.back()).value().seq == log.size() + 1);
  CHECK(parse_header(after.back()).value().prev_hash == change_hash(log.back()));
}

TEST_CASE("a refused update leaves the record exactly as it was its updated time included", "[sync][store]") {
  Node a(1);
  RecordId id = create_dossier(*a, "x");
  const Hlc updated = a->get("dossiers", id)->updated;
  REQUIRE(updated != 0);
  Transaction t("clerk-1", "ward-1");
  t.update("dossiers", id).set("no_such_field", "x");
  REQUIRE_FALSE(a->commit(t).is_ok());
  CHECK(a->get("dossiers", id)->updated == updated);
  CHECK(a->list("dossiers", std::nullopt, 10).at(0).updated == updated);
}

TEST_CASE("update of a missing record is not found and creates nothing", "[sync][store]") {
  Node a(1);
  create_dossier(*a, "exists");
  const Hash digest = a->digest();
  RecordId missing = RecordId::make(hlc_make(kT0 - 5000, 0), a.id.public_key());
  for (int attempt = 0; attempt < 2; ++attempt) {
    auto r = update_name(*a, missing, "ghost");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == Code::kNotFound);
    CHECK_FALSE(a->get("dossiers", missing).has_value());
    CHECK(a->stats().records == 1);
    CHECK(a->stats().changes == 1);
    CHECK(a->digest() == digest);
  }
  CHECK(a->list("dossiers", std::nullopt, 10).size() == 1);
}

TEST_CASE("one write with two values for a once field is refused", "[sync][store]") {
  Node a(1);
  Transaction t("clerk-1", "ward-1");
  t.create("dossiers").set_once("code", "HS-1").set_once("code", "HS-2");
  auto r = a->commit(t);
  CHECK_FALSE(r.is_ok());
  if (!r.is_ok()) {
    CHECK(r.status().code() == Code::kConflict);
  } else {
    auto rec = a->get("dossiers", r.value().records[0]);
    INFO("accepted; code = " << rec->text("code") << ", conflicts = " << rec->field("code")->conflicts.size());
    CHECK_FALSE(rec->has_conflicts());
  }
  CHECK(a->stats().changes == (r.is_ok() ? 1u : 0u));
}

TEST_CASE("two increments of one counter in one write both count", "[sync][store]") {
  Node a(1);
  Transaction t("clerk-1", "ward-1");
  t.create("dossiers").increment("visits", 1).increment("visits", 1);
  auto r = a->commit(t);
  REQUIRE(r.is_ok());
  CHECK(a->get("dossiers", r.value().records[0])->field("visits")->count == 2);

  Transaction t2("clerk-1", "ward-1");
  t2.update("dossiers", r.value().records[0]).increment("visits", 5).increment("visits", 2);
  REQUIRE(a->commit(t2).is_ok());
  CHECK(a->get("dossiers", r.value().records[0])->field("visits")->count == 9);
}

TEST_CASE("two sets of one lww field in one write: the last one wins no self-conflict", "[sync][store]") {
  Node a(1);
  Transaction t("clerk-1", "ward-1");
  t.create("dossiers").set("name", "Zed").set("name", "Anna");
  auto r = a->commit(t);
  REQUIRE(r.is_ok());
  auto rec = a->get("dossiers", r.value().records[0]);
  CHECK(rec->text("name") == "Anna");
  CHECK_FALSE(rec->has_conflicts());
}

TEST_CASE("two writes to one record in one transaction see each other", "[sync][store]") {
  Node a(1);
  RecordId id = create_dossier(*a, "x");
  Transaction t("clerk-1", "ward-1");
  t.update("dossiers", id).set_once("code", "HS-1").increment("visits", 2);
  t.update("dossiers", id).set_once("code", "HS-1").increment("visits", 3).set("name", "y");
  REQUIRE(a->commit(t).is_ok());
  auto rec = a->get("dossiers", id);
  CHECK(rec->field("visits")->count == 5);
  CHECK(rec->text("name") == "y");
  CHECK_FALSE(rec->has_conflicts());

  Transaction bad("clerk-1", "ward-1");
  bad.update("dossiers", id).set("name", "z");
  bad.update("dossiers", id).set_once("code", "HS-2");
  auto r = a->commit(bad);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::kConflict);
  CHECK(a->get("dossiers", id)->text("name") == "y");
}

TEST_CASE("commit_group: a refused transaction does not affect the others", "[sync][store]") {
  Node a(1);
  Transaction good1("clerk-1", "ward-1");
  good1.create("dossiers").set("name", "one");
  Transaction bad("clerk-1", "ward-1");
  bad.create("dossiers").set("nope", "x");
  Transaction good2("clerk-1", "ward-1");
  good2.create("dossiers").set("name", "two");
  const Transaction* group[] = {&good1, &bad, &good2};
  auto results = a->commit_group(group);
  REQUIRE(results.size() == 3);
  REQUIRE(results[0].is_ok());
  CHECK_FALSE(results[1].is_ok());
  REQUIRE(results[2].is_ok());
  CHECK(results[0].value().changes[0].seq == 1);
  CHECK(results[2].value().changes[0].seq == 2);
  CHECK(a->get("dossiers", results[2].value().records[0])->text("name") == "two");
  CHECK(a->stats().changes == 2);
  auto log = a->stream_changes(stream_of(a.id), 0, 10);
  REQUIRE(log.size() == 2);
  CHECK(parse_header(log[1]).value().prev_hash == change_hash(log[0]));
}

TEST_CASE("subscribers hear of local and received changes after commit", "[sync][store]") {
  Node a(1);
  Node b(2);
  std::vector<AppliedChange> seen;
  b->subscribe([&](const std::vector<AppliedChange>& batch) { seen.insert(seen.end(), batch.begin(), batch.end()); });
  RecordId mine = create_dossier(*b, "local");
  REQUIRE(seen.size() == 1);
  CHECK(seen[0].local);
  CHECK(seen[0].record == mine);
  CHECK(seen[0].author == "clerk-1");
  create_dossier(*a, "remote", "clerk-9");
  sync_into(*a, *b);
  REQUIRE(seen.size() == 2);
  CHECK_FALSE(seen[1].local);
  CHECK(seen[1].stream == stream_of(a.id));
  CHECK(seen[1].author == "clerk-9");
  // A refused write and a duplicate batch notify nobody.
  Transaction bad("clerk-1", "ward-1");
  bad.create("dossiers").set("nope", "x");
  REQUIRE_FALSE(b->commit(bad).is_ok());
  b->apply(a->stream_changes(stream_of(a.id), 0, 10));
  CHECK(seen.size() == 2);
}

TEST_CASE("open refuses a database of a newer schema", "[sync][store]") {
  TempDir dir;
  std::string path = dir.file("node.db");
  Identity id = identity(1);
  FakeClock clock;
  { open_store(path, id, clock, true); }
  set_user_version(path, 99);
  StoreOptions options;
  options.path = path;
  auto r = Store::open(options, test_schema(), id, clock);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::kSchemaMismatch);
}

TEST_CASE("open refuses a database that belongs to another identity", "[sync][store]") {
  TempDir dir;
  std::string path = dir.file("node.db");
  Identity mine = identity(1);
  Identity other = identity(2);
  FakeClock clock;
  {
    auto s = open_store(path, mine, clock, true);
    create_dossier(*s, "x");
  }
  StoreOptions options;
  options.path = path;
  auto r = Store::open(options, test_schema(), other, clock);
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  // Still fine for its owner, data intact.
  auto s = open_store(path, mine, clock, true);
  CHECK(s->stats().records == 1);
}

TEST_CASE("reopen keeps everything - the clock never goes backwards across a restart", "[sync][store]") {
  TempDir dir;
  std::string path = dir.file("node.db");
  Node a(1, path, true);
  Node b(2);
  std::vector<RecordId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(create_dossier(*a, "d" + std::to_string(i)));
  create_dossier(*b, "from b");
  sync_into(*b, *a);
  const Hash digest = a->digest();
  const auto vv = a->version_vector();
  const Hlc last = stream_hlcs(*a, stream_of(a.id)).back();

  a.store.reset();
  a.clock.set(kT0 - 2 * kHourMs);  // the RTC battery died: the wall clock is behind
  a.store = open_store(path, a.id, a.clock, true);
  CHECK(a->digest() == digest);
  CHECK(a->version_vector() == vv);
  CHECK(a->get("dossiers", ids[4])->text("name") == "d4");
  CHECK(a->stats().records == 6);

  RecordId after = create_dossier(*a, "after restart");
  auto hlcs = stream_hlcs(*a, stream_of(a.id));
  REQUIRE(hlcs.size() == 6);
  CHECK(hlcs.back() > last);
  CHECK(a->get("dossiers", after)->created > last);
  auto log = a->stream_changes(stream_of(a.id), 0, 100);
  CHECK(parse_header(log.back()).value().seq == 6);
  CHECK(parse_header(log.back()).value().prev_hash == change_hash(log[4]));

  // The restarted node still replicates cleanly.
  Node c(3);
  sync_into(*a, *c);
  CHECK(c->digest() == a->digest());
}

// Goal: a database from before schema 8 (every origin in every state) is
// rewritten to the stored form on open, and nothing a user or a peer sees
// changes: the records, and the digest a fresh replica computes. Method: a
// store's states replaced by their whole form and user_version set back to 7.
TEST_CASE("migration 8 rewrites record states to the stored form and changes nothing else", "[sync][store]") {
  TempDir dir;
  std::string path = dir.file("node.db");
  Node a(1, path, true);
  Node b(2);
  std::vector<RecordId> ids;
  for (int i = 0; i < 1500; ++i) ids.push_back(create_dossier(*a, "d" + std::to_string(i)));  // > 1 page
  create_dossier(*b, "from b");
  sync_into(*b, *a);
  const Hash digest = a->digest();
  a.store.reset();

  std::map<std::string, std::string> compact;  // id -> state as stored now
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* get = nullptr;
    sqlite3_stmt* put = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT id, state FROM records", -1, &get, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_prepare_v2(db, "UPDATE records SET state=? WHERE id=?", -1, &put, nullptr) == SQLITE_OK);
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    std::vector<std::pair<std::string, std::string>> whole;
    while (sqlite3_step(get) == SQLITE_ROW) {
      std::string id(static_cast<const char*>(sqlite3_column_blob(get, 0)), sqlite3_column_bytes(get, 0));
      std::string blob(static_cast<const char*>(sqlite3_column_blob(get, 1)), sqlite3_column_bytes(get, 1));
      pb::RecordState st;
      REQUIRE(merge::parse_state(blob, st));
      compact[id] = blob;
      whole.emplace_back(id, st.SerializeAsString());
      CHECK(whole.back().second != blob);  // the whole form differs from the stored one
    }
    for (const auto& [id, blob] : whole) {
      sqlite3_bind_blob(put, 1, blob.data(), static_cast<int>(blob.size()), SQLITE_TRANSIENT);
      sqlite3_bind_blob(put, 2, id.data(), static_cast<int>(id.size()), SQLITE_TRANSIENT);
      CHECK(sqlite3_step(put) == SQLITE_DONE);
      sqlite3_reset(put);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
    sqlite3_finalize(get);
    sqlite3_finalize(put);
    sqlite3_close(db);
  }
  REQUIRE(compact.size() == 1501);
  set_user_version(path, 7);

  a.store = open_store(path, a.id, a.clock, true);
  CHECK(a->digest() == digest);
  CHECK(a->get("dossiers", ids[1234])->text("name") == "d1234");
  a.store.reset();
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* get = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT id, state FROM records", -1, &get, nullptr) == SQLITE_OK);
  std::size_t same = 0;
  while (sqlite3_step(get) == SQLITE_ROW) {
    std::string id(static_cast<const char*>(sqlite3_column_blob(get, 0)), sqlite3_column_bytes(get, 0));
    std::string blob(static_cast<const char*>(sqlite3_column_blob(get, 1)), sqlite3_column_bytes(get, 1));
    same += compact[id] == blob ? 1 : 0;
  }
  sqlite3_finalize(get);
  sqlite3_close(db);
  CHECK(same == 1501);
}

TEST_CASE("the clock never goes backwards across a restart after a refused update", "[sync][store]") {
  TempDir dir;
  std::string path = dir.file("node.db");
  Node a(1, path, true);
  RecordId id = create_dossier(*a, "x");
  const Hlc last = stream_hlcs(*a, stream_of(a.id)).back();
  Transaction bad("clerk-1", "ward-1");
  bad.update("dossiers", id).set("no_such_field", "y");
  REQUIRE_FALSE(a->commit(bad).is_ok());

  a.store.reset();
  a.clock.set(kT0 - 60000);
  a.store = open_store(path, a.id, a.clock, true);
  create_dossier(*a, "after restart");
  auto hlcs = stream_hlcs(*a, stream_of(a.id));
  REQUIRE(hlcs.size() == 2);
  INFO("before restart " << hlc_to_string(last) << ", after " << hlc_to_string(hlcs[1]));
  CHECK(hlcs[1] > last);
}

TEST_CASE("an older remote change does not move a record's updated time (or the clock) back", "[sync][store]") {
  TempDir dir;
  Node a(1);
  Node b(2, dir.file("b.db"), true, kT0 + kHourMs);  // B's clock is an hour ahead
  RecordId id = create_dossier(*a, "original");
  sync_into(*a, *b);
  REQUIRE(update_name(*b, id, "B's edit").is_ok());
  const Hlc b_edit = b->get("dossiers", id)->updated;
  REQUIRE(update_name(*a, id, "A's concurrent edit").is_ok());  // older timestamp
  sync_into(*a, *b);
  CHECK(b->get("dossiers", id)->text("name") == "B's edit");
  CHECK(b->get("dossiers", id)->updated >= b_edit);

  b.store.reset();
  b.clock.set(kT0);  // B's clock corrected (or its RTC reset) while it was down
  b.store = open_store(dir.file("b.db"), b.id, b.clock, true);
  create_dossier(*b, "after restart");
  auto hlcs = stream_hlcs(*b, stream_of(b.id));
  REQUIRE(hlcs.size() == 2);
  INFO("before restart " << hlc_to_string(hlcs[0]) << ", after " << hlc_to_string(hlcs[1]));
  CHECK(hlcs[1] > hlcs[0]);
}

TEST_CASE("find by indexed field follows updates", "[sync][store]") {
  Node a(1);
  RecordId x = create_dossier(*a, "Lan");
  RecordId y = create_dossier(*a, "Lan");
  RecordId z = create_dossier(*a, "Minh");
  CHECK(a->find("dossiers", "name", "Lan", 10) == (std::vector<RecordId>{x, y}));
  CHECK(a->find("dossiers", "name", "Lan", 1) == std::vector<RecordId>{x});
  CHECK(a->find("dossiers", "name", "Minh", 10) == std::vector<RecordId>{z});
  CHECK(a->find("dossiers", "name", "Hoa", 10).empty());

  REQUIRE(update_name(*a, x, "Hoa").is_ok());
  CHECK(a->find("dossiers", "name", "Lan", 10) == std::vector<RecordId>{y});
  CHECK(a->find("dossiers", "name", "Hoa", 10) == std::vector<RecordId>{x});

  // Set fields: contains. Once and rank fields: the winner.
  Transaction t("clerk-1", "ward-1");
  t.update("dossiers", y).add("tags", "urgent").add("tags", "elderly").set_once("code", "HS-5");
  t.update("dossiers", z).add("tags", "urgent").set_rank("status", Rank{0, 1, false, "received"});
  REQUIRE(a->commit(t).is_ok());
  CHECK(a->find("dossiers", "tags", "urgent", 10) == (std::vector<RecordId>{y, z}));
  CHECK(a->find("dossiers", "tags", "elderly", 10) == std::vector<RecordId>{y});
  CHECK(a->find("dossiers", "code", "HS-5", 10) == std::vector<RecordId>{y});
  CHECK(a->find("dossiers", "status", "received", 10) == std::vector<RecordId>{z});

  Transaction t2("clerk-1", "ward-1");
  t2.update("dossiers", y).remove("tags", "urgent");
  t2.update("dossiers", z).set_rank("status", Rank{0, 2, false, "in progress"});
  REQUIRE(a->commit(t2).is_ok());
  CHECK(a->find("dossiers", "tags", "urgent", 10) == std::vector<RecordId>{z});
  CHECK(a->find("dossiers", "status", "received", 10).empty());
  CHECK(a->find("dossiers", "status", "in progress", 10) == std::vector<RecordId>{z});

  // The index follows received changes too.
  Node b(2);
  sync_into(*a, *b);
  CHECK(b->find("dossiers", "name", "Hoa", 10) == std::vector<RecordId>{x});
  CHECK(b->find("dossiers", "tags", "urgent", 10) == std::vector<RecordId>{z});
}

TEST_CASE("find pages after a cursor, and values_with_prefix lists an index's values", "[sync][store]") {
  TempDir dir;
  Node a(1, dir.file("a.db"), true);
  std::vector<RecordId> lan;
  for (int i = 0; i < 5; ++i) lan.push_back(create_dossier(*a, "Lan"));
  create_dossier(*a, "Lam");
  create_dossier(*a, "Minh");
  CHECK(a->find("dossiers", "name", "Lan", 2, lan[1]) == (std::vector<RecordId>{lan[2], lan[3]}));
  CHECK(a->find("dossiers", "name", "Lan", 10, lan[3]) == std::vector<RecordId>{lan[4]});
  CHECK(a->find("dossiers", "name", "Lan", 10, lan[4]).empty());

  auto reader = Reader::open(dir.file("a.db"), test_schema());
  REQUIRE(reader.is_ok());
  CHECK(reader.value()->find("dossiers", "name", "Lan", 2, lan[2]) == (std::vector<RecordId>{lan[3], lan[4]}));
  CHECK(reader.value()->values_with_prefix("dossiers", "name", "La", 10) == (std::vector<std::string>{"Lam", "Lan"}));
  CHECK(reader.value()->values_with_prefix("dossiers", "name", "La", 1) == std::vector<std::string>{"Lam"});
  CHECK(reader.value()->values_with_prefix("dossiers", "name", "", 10).size() == 3);
  CHECK(reader.value()->values_with_prefix("dossiers", "name", "Lz", 10).empty());
}

TEST_CASE("list: records of a collection in creation order paged", "[sync][store]") {
  Node a(1);
  std::vector<RecordId> ids;
  for (int i = 0; i < 7; ++i) {
    a.clock.advance(1);
    ids.push_back(create_dossier(*a, "n" + std::to_string(i)));
  }
  Transaction t("clerk-1", "ward-1");
  t.create("tickets").set_once("number", "A001");
  REQUIRE(a->commit(t).is_ok());
  auto page1 = a->list("dossiers", std::nullopt, 3);
  REQUIRE(page1.size() == 3);
  auto page2 = a->list("dossiers", page1.back().id, 3);
  REQUIRE(page2.size() == 3);
  auto page3 = a->list("dossiers", page2.back().id, 3);
  REQUIRE(page3.size() == 1);
  std::vector<RecordId> got;
  for (const auto* page : {&page1, &page2, &page3}) {
    for (const auto& r : *page) {
      got.push_back(r.id);
      CHECK(r.collection == "dossiers");
    }
  }
  CHECK(got == ids);
  CHECK(page1[0].text("name") == "n0");
  CHECK(a->list("tickets", std::nullopt, 10).size() == 1);
}

TEST_CASE("a long run of commits keeps the WAL bounded (checkpoints beside the writer)", "[sync][store]") {
  TempDir dir;
  const std::string path = dir.file("wal.db");
  Node a(1, path, true);
  const std::string big(2000, 'x');  // ~1 page per record in the WAL, more with the log
  std::uintmax_t largest = 0;
  for (int group = 0; group < 60; ++group) {
    Transaction t("clerk-1", "ward-1");
    for (int i = 0; i < 100; ++i) t.create("dossiers").set("name", big + std::to_string(group * 100 + i));
    REQUIRE(a->commit(t).is_ok());
    largest = std::max(largest, std::filesystem::file_size(path + "-wal"));
  }
  INFO("largest WAL " << largest << " bytes");
  // 6,000 records of 2 KB wrote ~60 MB through the WAL. Unchecked it
  // would hold all of it; checkpointed, it restarts from the beginning.
  CHECK(largest < 20u * 1024 * 1024);
  CHECK(a->find("dossiers", "name", big + "5999", 1).size() == 1);
}
