// Replication between real `wardnode` processes on 127.0.0.1: ZeroMQ with CURVE,
// admission by certificates issued through the CLI, real SQLite files.
//
// Goal: what docs/replication.md promises holds between whole nodes — a ward's
// write reaches its district and the city and no other ward; edits made while
// cut off converge; a district killed with SIGKILL loses nothing and resumes
// from where it was; attachments follow their records; on-demand fetch. Trust
// (who may connect, who may write, what a relay may not do): node_net_trust_test.cpp.
// Method: each test enrols its nodes with `wardnode authority/cert/peer`, starts
// them with `wardnode run`, writes over HTTP (or with the bulk demo loader), and
// watches each node's database read-only and its /metrics.
#include <sqlite3.h>

#include "net_harness.hpp"

using namespace nettest;

TEST_CASE("net: a dossier written at ward A reaches the district and the city and never ward B", "[net]") {
  Net net;
  Node& city = net.add("city", {.tier = "city", .scope = "79", .listen = true});
  Node& district = net.add("district", {.tier = "district", .scope = "79/760", .listen = true, .may_issue = true});
  Node& ward_a = net.add("ward_a", {.tier = "ward", .scope = "79/760/26734"});
  // Ward B is enrolled by the district, acting for the authority.
  Node& ward_b = net.add("ward_b", {.tier = "ward", .scope = "79/760/26737", .issuer = &district});
  net.link(district, city);
  net.link(ward_a, district);
  net.link(ward_b, district, false);
  Net::user(ward_a, "lead_a", "leader");
  Net::user(city, "lead_c", "leader");
  Net::user(district, "it_d", "it_admin");
  Net::user(district, "lead_d", "leader");
  for (Node* n : {&city, &district, &ward_a, &ward_b}) n->proc->start();

  Client desk = signed_in(ward_a, "lead_a");
  std::string id = create_dossier(desk);
  Db at_district(district.db()), at_city(city.db()), at_b(ward_b.db());
  CHECK(eventually([&] { return at_district.has_record("dossier", id); }, 20));
  CHECK(eventually([&] { return at_city.has_record("dossier", id); }, 20));
  // Ward A's clerk records came up the same stream, before the dossier; its
  // account is still no account at the district or the city.
  Client stranger(district.proc->port());
  CHECK(stranger.login("lead_a", kDemoPassword).status == 401);
  Client stranger_c(city.proc->port());
  CHECK(stranger_c.login("lead_a", kDemoPassword).status == 401);
  // An edit made at the district is written in the ward's scope and comes back
  // down to the ward (and the city), never to ward B.
  Client district_lead = signed_in(district, "lead_d");
  REQUIRE(district_lead.post("/api/v1/dossiers/" + id + "/transitions", R"({"action":"start"})").status == 200);
  CHECK(eventually([&] { return desk.get("/api/v1/dossiers/" + id).str("status") == "in_progress"; }, 20));
  // Readable through the city's own API, exactly as written at the ward.
  Client city_lead = signed_in(city, "lead_c");
  Response got = city_lead.get("/api/v1/dossiers/" + id);
  CHECK(got.status == 200);
  CHECK(got.body.find("Trần Thị Bình") != std::string::npos);
  // Ward B holds nothing of ward A's scope, even after everything settled.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK_FALSE(at_b.has_record("dossier", id));
  CHECK(at_b.seq(ward_a.node_id, ward_a.scope) == 0);

  // District IT sees both wards and the city, connected, nothing behind.
  Client it = signed_in(district, "it_d");
  CHECK(eventually([&] {
    Response st = it.get("/api/v1/sync/status");
    if (st.status != 200 || !st.json || !st.json->has("peers")) return false;
    auto peers = st.json->getArray("peers");
    int up = 0;
    for (std::size_t i = 0; i < peers->size(); ++i) {
      auto p = peers->getObject(static_cast<unsigned>(i));
      if (p->getValue<bool>("connected") && p->getValue<std::uint64_t>("they_lack_changes") == 0) ++up;
    }
    return up == 3;
  }, 15));
  std::string m = city.metrics();
  Response users = it.get("/api/v1/users");
  REQUIRE(users.status == 200);
  CHECK(users.body.find("lead_a") == std::string::npos);  // the district's accounts only
  CHECK(users.body.find("it_d") != std::string::npos);
  CHECK(metric(m, "wardsync_peer_connected") == 1);
  CHECK(metric(m, "wardsync_trust_own_certificate_valid") == 1);
  // Every origin the city holds is enrolled, ward B by the district's delegation.
  CHECK(eventually([&] { return metric(city.metrics(), "wardsync_trust_uncertified_origins") == 0; }, 10));
  RunResult status = run_wardnode({"status", "--dir", district.dir.string(), "--listen",
                                   "127.0.0.1:" + std::to_string(district.proc->port())});
  CHECK(status.exit_code == 0);
  CHECK(status.out.find("yes") != std::string::npos);
}

TEST_CASE("net: the district killed with SIGKILL mid-stream loses nothing and resumes where it was", "[net]") {
  Net net;
  Node& district = net.add("district", {.tier = "district", .scope = "79/760", .listen = true});
  Node& ward = net.add("ward", {.tier = "ward", .scope = "79/760/26734"});
  net.link(ward, district);
  // Written offline, before the ward ever connects.
  must_run({"demo", "--dir", ward.dir.string(), "--dossiers", "20000"});
  std::int64_t total = Db(ward.db()).seq(ward.node_id, ward.scope);
  REQUIRE(total > 20000);

  district.proc->start();
  ward.proc->start();
  std::int64_t before = 0;
  REQUIRE(eventually([&] {
    before = Db(district.db()).seq(ward.node_id, ward.scope);
    return before > 8000;  // well past the 4 x 1,000 changes in flight
  }, 60));
  district.proc->kill_hard();
  before = Db(district.db()).seq(ward.node_id, ward.scope);
  INFO("district held " << before << " of " << total << " when killed");
  REQUIRE(before < total);  // mid-stream, or the test proves nothing
  district.proc->start();
  CHECK(eventually([&] { return Db(district.db()).seq(ward.node_id, ward.scope) == total; }, 90));
  // Resumed from the district's position: what went again (the batches in
  // flight at the kill) is less than what the district already held.
  double sent = 0;
  REQUIRE(eventually([&] {
    const std::string m = ward.metrics();  // one sample: both figures of one moment
    sent = metric(m, "wardsync_peer_changes_sent_total");
    return metric(m, "wardsync_peer_they_lack_changes") == 0;
  }, 20));
  INFO("ward sent " << sent << " changes for " << total);
  CHECK(sent >= static_cast<double>(total));
  CHECK(sent - static_cast<double>(total) < static_cast<double>(before));

  // The ward's box dies: the district still lists it, disconnected (what an alert
  // on wardsync_peer_connected == 0 needs), and its log says so.
  const std::string ward_peer = "inbound:" + ward.node_id.substr(0, 16);
  REQUIRE(eventually([&] { return metric(district.metrics(), "wardsync_peer_connected", ward_peer) == 1; }, 10));
  ward.proc->kill_hard();
  CHECK(eventually([&] { return metric(district.metrics(), "wardsync_peer_connected", ward_peer) == 0; }, 20));
  CHECK(eventually([&] {
    std::ifstream log(district.dir / "test-run.log");
    for (std::string line; std::getline(log, line);)
      if (line.find("link down: " + ward_peer) != std::string::npos) return true;
    return false;
  }, 10));

}

TEST_CASE("net: two boxes that edit one dossier while cut off converge when the link returns", "[net]") {
  Net net;
  Node& district = net.add("district", {.tier = "district", .scope = "79/760", .listen = true});
  Node& box1 = net.add("box1", {.tier = "ward", .scope = "79/760/26734", .node_number = 1});
  // A second box of the same office.
  Node& box2 = net.add("box2", {.tier = "ward", .scope = "79/760/26734", .node_number = 2});
  net.link(box1, district);
  net.link(box2, district);
  Net::user(box1, "lead1", "leader");
  Net::user(box2, "lead2", "leader");
  for (Node* n : {&district, &box1, &box2}) n->proc->start();
  Client c1 = signed_in(box1, "lead1");
  std::string id = create_dossier(c1);
  REQUIRE(eventually([&] { return Db(box2.db()).has_record("dossier", id); }, 20));
  REQUIRE(eventually([&] { return Db(box1.db()).seq(box2.node_id, box2.scope) > 0; }, 20));  // lead2 known at box1
  Client c2 = signed_in(box2, "lead2");

  district.proc->stop();  // the only link between the boxes
  Response a1 = c1.post("/api/v1/dossiers/" + id + "/assignment", R"({"assignee":"lead1"})");
  Response a2 = c2.post("/api/v1/dossiers/" + id + "/assignment", R"({"assignee":"lead2"})");
  Response t2 = c2.post("/api/v1/dossiers/" + id + "/transitions", R"({"action":"start","note":"box 2"})");
  INFO(a1.body << a2.body << t2.body);
  REQUIRE(a1.status == 200);
  REQUIRE(a2.status == 200);
  REQUIRE(t2.status == 200);
  CHECK(c1.get("/api/v1/dossiers/" + id).str("assignee") == "lead1");
  CHECK(c2.get("/api/v1/dossiers/" + id).str("assignee") == "lead2");

  district.proc->start();
  auto same = [&] {
    Response d1 = c1.get("/api/v1/dossiers/" + id), d2 = c2.get("/api/v1/dossiers/" + id);
    return d1.status == 200 && d1.body == d2.body;
  };
  CHECK(eventually(same, 30));
  Response d1 = c1.get("/api/v1/dossiers/" + id);
  INFO(d1.body);
  CHECK(d1.str("status") == "in_progress");  // box 2's step survived at box 1
  std::string winner = d1.str("assignee");
  CHECK((winner == "lead1" || winner == "lead2"));  // one deterministic winner, the other journalled
}

TEST_CASE("net: an attachment follows its record and a transfer cut halfway resumes where it stopped", "[net]") {
  Net net;
  Node& district = net.add("district", {.tier = "district", .scope = "79/760", .listen = true});
  Node& ward = net.add("ward", {.tier = "ward", .scope = "79/760/26734"});
  net.link(ward, district);
  const double cap = 1'000'000;  // bytes per second the ward sends of attachments
  set_config(ward.dir, "sync_blob_bytes_per_second", "1000000");
  Net::user(ward, "lead", "leader");
  district.proc->start();
  ward.proc->start();
  Client c = signed_in(ward, "lead");
  std::string id = create_dossier(c);

  std::string scan(3 * 1024 * 1024 + 12345, '\0');  // a scanned dossier, incompressible
  std::uint64_t x = 88172645463325252ull;
  for (char& ch : scan) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    ch = static_cast<char>(x);
  }
  scan.replace(0, 9, "%PDF-1.7\n");  // a PDF's bytes begin as a PDF's do (the node checks)
  auto started = Clock::now();
  Response up = c.request("POST", "/api/v1/dossiers/" + id + "/attachments?name=giay-khai-sinh.pdf", scan, true,
                          {{"Content-Type", "application/pdf"}});
  INFO(up.body);
  REQUIRE(up.status == 201);
  std::string hash = up.str("hash");
  REQUIRE(hash.size() == 64);
  fs::path partial = district.dir / "blobs" / "partial" / hash;
  fs::path whole = district.dir / "blobs" / hash.substr(0, 2) / hash.substr(2);
  std::uintmax_t at_kill = 0;
  REQUIRE(eventually([&] {
    std::error_code ec;
    at_kill = fs::file_size(partial, ec);
    return !ec && at_kill > 1024 * 1024;
  }, 30));
  district.proc->kill_hard();
  double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
  std::error_code ec;
  at_kill = fs::file_size(partial, ec);
  INFO("district held " << at_kill << " of " << scan.size() << " bytes after " << elapsed << " s");
  REQUIRE_FALSE(fs::exists(whole));  // cut halfway
  CHECK(static_cast<double>(at_kill) <= cap * elapsed + 2 * 128 * 1024);  // the cap held

  district.proc->start();
  REQUIRE(eventually([&] { return fs::exists(whole); }, 30));
  std::ifstream in(whole, std::ios::binary);
  std::ostringstream got;
  got << in.rdbuf();
  CHECK(got.str() == scan);
  // Resumed: after the restart the district received exactly what it lacked.
  CHECK(eventually([&] {
    return metric(district.metrics(), "wardsync_peer_blob_bytes_received_total") ==
           static_cast<double>(scan.size() - at_kill);
  }, 10));
  CHECK(eventually([&] { return metric(district.metrics(), "wardsync_blobs_missing") == 0; }, 5));
  // The ward sent the scan once, plus at most the chunk in flight at the kill.
  double sent = 0;
  CHECK(eventually([&] {  // figures are published twice a second
    sent = metric(ward.metrics(), "wardsync_peer_blob_bytes_sent_total");
    return sent >= static_cast<double>(scan.size());
  }, 10));
  CHECK(sent - static_cast<double>(scan.size()) <= 2 * 128 * 1024);
  // Served back over the API at the ward.
  Response back = c.get("/api/v1/attachments/" + hash);
  CHECK(back.status == 200);
  CHECK(back.body == scan);
}

// Goal: on-demand fetch between whole nodes (DESIGN.md, "Replication protocol";
// docs/replication.md, "On-demand fetch"). Ward B reads a dossier written at ward
// A, which B's scope does not hold: it arrives through the district with its
// origin's signatures, is pinned (B's version vector keeps no stream of A's), and
// is still readable after B restarts. With the district stopped B answers 503
// `unavailable_offline` with Retry-After, and once the district is back the same
// request succeeds. A box nobody enrolled gets nothing (503, never the dossier),
// and a dossier nobody holds is a 404 (the city answered "not found").
TEST_CASE("net: ward B fetches ward A's dossier through the district and a retry after an outage succeeds", "[net]") {
  Net net;
  Node& city = net.add("city", {.tier = "city", .scope = "79", .listen = true});
  Node& district = net.add("district", {.tier = "district", .scope = "79/760", .listen = true});
  Node& ward_a = net.add("ward_a", {.tier = "ward", .scope = "79/760/26734"});
  Node& ward_b = net.add("ward_b", {.tier = "ward", .scope = "79/760/26737"});
  Node& rogue = net.add("rogue", {.tier = "ward", .scope = "79/760/26738", .enrol = false});
  net.link(district, city);
  net.link(ward_a, district);
  net.link(ward_b, district);
  net.link(rogue, district);
  Net::user(ward_a, "lead_a", "leader");
  Net::user(ward_b, "lead_b", "leader");
  Net::user(rogue, "lead_r", "leader");
  for (Node* n : {&city, &district, &ward_a, &ward_b, &rogue}) n->proc->start();

  Client desk_a = signed_in(ward_a, "lead_a");
  std::string id = create_dossier(desk_a);
  std::string id2 = create_dossier(desk_a);
  Response second = desk_a.get("/api/v1/dossiers/" + id2);
  std::string code2 = second.str("code");
  REQUIRE(!code2.empty());
  std::string id3 = create_dossier(desk_a);  // read at B only while the district is down
  Db at_district(district.db());
  REQUIRE(eventually([&] { return at_district.has_record("dossier", id3); }, 20));
  Db at_b(ward_b.db());
  REQUIRE_FALSE(at_b.has_record("dossier", id));

  {
    Client desk_b = signed_in(ward_b, "lead_b");
    // B's link to the district is up once B's clerk record has gone up.
    REQUIRE(eventually([&] { return at_district.seq(ward_b.node_id, ward_b.scope) > 0; }, 20));
    Response got;
    CHECK(eventually([&] { return (got = desk_b.get("/api/v1/dossiers/" + id)).status == 200; }, 10));
    INFO(got.body);
    CHECK(got.body.find("Trần Thị Bình") != std::string::npos);
    CHECK(got.body.find("\"pinned\":true") != std::string::npos);
    CHECK(at_b.has_record("dossier", id));
    CHECK(at_b.seq(ward_a.node_id, ward_a.scope) == 0);  // pinned, not a stream
    // A copy for reading: ward A's office handles it, ward B cannot edit it.
    Response edit = desk_b.post("/api/v1/dossiers/" + id + "/transitions", R"({"action":"cancel","note":"x"})");
    CHECK(edit.status == 409);
    CHECK(edit.str("error") == "pinned_read_only");
    CHECK(at_b.seq(ward_b.node_id, ward_a.scope) == 0);  // B wrote nothing in A's scope
    // Read again at once (a reload): served from B's copy, not fetched again.
    std::this_thread::sleep_for(std::chrono::milliseconds(700));  // the peer figures' snapshot
    const double served = metric(district.metrics(), "wardsync_peer_fetches_served_total");
    CHECK(served >= 1);
    for (int i = 0; i < 4; ++i) CHECK(desk_b.get("/api/v1/dossiers/" + id).status == 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    // (at most one more: a slow machine may pass the 5 s refresh interval meanwhile)
    CHECK(metric(district.metrics(), "wardsync_peer_fetches_served_total") <= served + 1);
    // Ward A's office moves it on: a read at B a few seconds later shows it.
    CHECK(desk_a.post("/api/v1/dossiers/" + id + "/transitions", R"({"action":"start"})").status == 200);
    CHECK(eventually([&] {
      return desk_b.get("/api/v1/dossiers/" + id).body.find("\"status\":\"in_progress\"") != std::string::npos;
    }, 20));
    CHECK(eventually([&] { return metric(district.metrics(), "wardsync_peer_fetches_served_total") > served; }, 5));
    // By the code on its receipt.
    Response by_code = desk_b.get("/api/v1/dossiers/by-code/" + code2);
    CHECK(by_code.status == 200);
    CHECK(by_code.str("id") == id2);
    // Nobody holds it: the district asked the city, which said so.
    Response none = desk_b.get("/api/v1/dossiers/0123456789abcdef0123456789abcdef");
    CHECK(none.status == 404);
    // A box nobody enrolled is refused at the district's door: nothing to read.
    Client desk_r = signed_in(rogue, "lead_r");
    Response refused = desk_r.get("/api/v1/dossiers/" + id);
    CHECK(refused.status == 503);
    CHECK(refused.str("error") == "unavailable_offline");
    CHECK_FALSE(Db(rogue.db()).has_record("dossier", id));
  }

  // B restarts: the pinned dossier is still there (and verifiable: it was pinned).
  ward_b.proc->stop();
  ward_b.proc->start();
  {
    Client desk_b = signed_in(ward_b, "lead_b");
    Response again = desk_b.get("/api/v1/dossiers/" + id);
    CHECK(again.status == 200);
    CHECK(again.body.find("Trần Thị Bình") != std::string::npos);
  }

  // The district goes away: a dossier B never fetched cannot be had, for now.
  district.proc->stop();
  Client desk_b = signed_in(ward_b, "lead_b");
  Response offline = desk_b.get("/api/v1/dossiers/" + id3);
  INFO(offline.body);
  CHECK(offline.status == 503);
  CHECK(offline.str("error") == "unavailable_offline");
  CHECK(offline.headers["Retry-After"] == "15");
  CHECK(offline.body.find("message_vi") != std::string::npos);
  // What B already pinned is still served from its own copy.
  CHECK(desk_b.get("/api/v1/dossiers/" + id).status == 200);

  district.proc->start();
  Response retried;
  CHECK(eventually([&] { return (retried = desk_b.get("/api/v1/dossiers/" + id3)).status == 200; }, 30));
  CHECK(retried.str("id") == id3);
  CHECK(Db(ward_b.db()).has_record("dossier", id3));
}

// Goal: a FETCHED answer is verified change by change at the requester: the
// relay that serves it cannot alter it. Method: the district holds ward A's
// dossier; with the district stopped, one byte of that dossier's change is
// altered in the district's database; ward B then asks for it through the
// district: the change is refused, B holds nothing of it, answers 503 (nothing
// verifiable arrived) and counts the refusal in /metrics.
