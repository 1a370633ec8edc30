// Drives every endpoint of a real `wardnode run` over HTTP: happy paths, bad
// input (400 with field errors in two languages, 404, 409, 413), roles, CSRF,
// lock-out and idle timeout. Each test case runs its own node on a copy of one
// demo data directory (clerks motcua, chuyenvien, lanhdao, admin; password demo1234).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "node_process.hpp"

using namespace wardtest;

namespace {

using Conf = std::map<std::string, std::string>;

using Node = DemoNode;

const std::string kDossier =
    R"({"applicant":{"name":"Nguyễn Văn An","cccd":"079099012345","dob":"1999-08-15","phone":"0901234567",)"
    R"("address":"Số 12 Lê Lợi, Phường Bến Thành"},"procedure_code":"1.001193","channel":"counter",)"
    R"("components":["Tờ khai đăng ký khai sinh"]})";

bool has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

std::size_t count_items(const Response& r) { return r.json->getArray("items")->size(); }

}  // namespace

TEST_CASE("health and unknown paths", "[node][api]") {
  Node n;
  Client c(n.proc.port());
  auto h = c.get("/api/v1/health");
  REQUIRE(h.status == 200);
  CHECK(h.str("status") == "ok");
  CHECK(h.str("node_id").size() == 64);
  CHECK(h.str("scope") == "79/26743");
  CHECK(c.get("/api/v1/nothing").status == 404);
  CHECK(c.get("/api/v2/health").status == 404);
  // A method a path does not take: 405 naming the ones it does (RFC 9110 15.5.6).
  auto wrong = c.post("/api/v1/health", "{}");
  CHECK(wrong.status == 405);
  CHECK(wrong.headers["Allow"] == "GET, HEAD");
  CHECK(c.request("PUT", "/api/v1/dossiers", "{}", false).headers["Allow"] == "GET, POST, HEAD");
  CHECK(c.request("DELETE", "/api/v1/kiosk/tickets", "", false).headers["Allow"] == "POST");
  Client admin = n.signed_in("admin");
  CHECK(admin.request("PUT", "/api/v1/users/motcua/password", "{}", true).headers["Allow"] == "POST");
  CHECK(admin.get("/api/v1/users/motcua").status == 404);  // no such path, not a wrong method
  auto head = c.request("HEAD", "/api/v1/health", "", false);
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  // A bad escape in the query is the client's error, not the node's (no 500), signed in or not.
  for (const char* q : {"/api/v1/health?%zz", "/api/v1/health?a=%", "/api/v1/procedures?q=%E0%A4%A"}) {
    auto bad = c.get(q);
    INFO(q);
    CHECK(bad.status == 400);
    CHECK(bad.str("error") == "bad_uri");
  }
  CHECK(c.get("/api/v1/health").status == 200);
}

TEST_CASE("sessions: sign in, me, CSRF, sign out", "[node][api][auth]") {
  Node n;
  Client c(n.proc.port());
  CHECK(c.get("/api/v1/sessions/current").status == 401);
  auto bad = c.post("/api/v1/sessions", R"({"username":"motcua"})", false);
  CHECK(bad.status == 400);
  CHECK(has(bad.field_errors(), "password:required"));
  CHECK(c.post("/api/v1/sessions", "not json", false).status == 400);
  CHECK(c.post("/api/v1/sessions", R"({"username":5,"password":"x"})", false).status == 400);
  CHECK(c.login("motcua", "wrong-password").status == 401);
  CHECK(c.login("nobody", "wrong-password").status == 401);
  auto ok = c.login("motcua", kDemoPassword);
  REQUIRE(ok.status == 200);
  std::string set_cookie = ok.headers["Set-Cookie"];
  CHECK(set_cookie.find("HttpOnly") != std::string::npos);
  CHECK(set_cookie.find("SameSite=Strict") != std::string::npos);
  CHECK(ok.json->getObject("user")->getValue<std::string>("role") == "clerk");
  auto me = c.get("/api/v1/sessions/current");
  REQUIRE(me.status == 200);
  CHECK(me.str("csrf_token") == c.csrf);
  // A state-changing request without the CSRF header (or with a wrong one) is refused.
  CHECK(c.post("/api/v1/dossiers", kDossier, false).status == 403);
  c.csrf = std::string(48, 'a');
  CHECK(c.post("/api/v1/dossiers", kDossier).status == 403);
  c.csrf = me.str("csrf_token");
  Client lead = n.signed_in("lanhdao");
  CHECK(count_items(lead.get("/api/v1/dossiers/search?q=079099012345")) == 0);  // nothing was written
  CHECK(c.del("/api/v1/sessions/current", false).status == 403);
  CHECK(c.del("/api/v1/sessions/current").status == 200);
  CHECK(c.get("/api/v1/sessions/current").status == 401);
}

TEST_CASE("lock-out after five failed sign-ins", "[node][api][auth]") {
  Node n(Conf{{"lockout_seconds", "3"}});
  Client c(n.proc.port());
  for (int i = 0; i < 5; ++i) CHECK(c.login("chuyenvien", "not-the-password").status == 401);
  auto locked = c.login("chuyenvien", kDemoPassword);
  CHECK(locked.status == 429);
  CHECK(locked.str("error") == "locked");
  CHECK(c.login("motcua", kDemoPassword).status == 200);  // other accounts unaffected
  std::this_thread::sleep_for(std::chrono::milliseconds(3200));
  CHECK(c.login("chuyenvien", kDemoPassword).status == 200);
}

// Anyone on the LAN can type wrong passwords for the leader's name: the lock
// holds where the failures came from, and the leader's own desk signs in.
TEST_CASE("lock-out holds for the address the failures came from, not the clerk's desk", "[node][api][auth]") {
  Node n(Conf{{"lockout_seconds", "60"}});
  auto login_from = [&](const char* from, const std::string& password) {
    std::string body = R"({"username":"lanhdao","password":")" + password + "\"}";
    int fd = connect_from(from, n.proc.port());
    std::string answer = wardtest::exchange(fd, "POST /api/v1/sessions HTTP/1.1\r\nHost: node\r\nContent-Type: application/json\r\n"
                                      "Content-Length: " + std::to_string(body.size()) +
                                      "\r\nConnection: close\r\n\r\n" + body);
    ::close(fd);
    return answer.substr(0, answer.find("\r\n"));
  };
  for (int i = 0; i < 5; ++i) CHECK(login_from("127.0.0.3", "doan-mo-mat-khau") == "HTTP/1.1 401 Unauthorized");
  CHECK(login_from("127.0.0.3", kDemoPassword) == "HTTP/1.1 429 Too Many Requests");  // locked there
  CHECK(login_from("127.0.0.4", kDemoPassword) == "HTTP/1.1 200 OK");                 // the leader's desk
  CHECK(login_from("127.0.0.3", kDemoPassword) == "HTTP/1.1 429 Too Many Requests");  // still locked there
}

TEST_CASE("an idle session expires", "[node][api][auth]") {
  Node n(Conf{{"session_idle_seconds", "2"}});
  Client c = n.signed_in("motcua");
  CHECK(c.get("/api/v1/sessions/current").status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  CHECK(c.get("/api/v1/sessions/current").status == 200);  // activity keeps it alive
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  CHECK(c.get("/api/v1/sessions/current").status == 401);
  // The clerks' app polls the sync status every 10 s marked X-Background: that is
  // no activity, so a desk left signed in still signs out.
  Client left = n.signed_in("motcua");
  CHECK(left.request("GET", "/api/v1/sync/status", "", false, {{"X-Background", "1"}}).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  CHECK(left.request("GET", "/api/v1/sync/status", "", false, {{"X-Background", "1"}}).status == 200);  // 0.8 s
  // 2.5 s since the last real use: expired. (Had the polls counted, 1.7 s: alive.)
  std::this_thread::sleep_for(std::chrono::milliseconds(1700));
  CHECK(left.request("GET", "/api/v1/sync/status", "", false, {{"X-Background", "1"}}).status == 401);
  CHECK(left.get("/api/v1/sessions/current").status == 401);
}

TEST_CASE("procedures and calendar", "[node][api]") {
  Node n;
  Client c(n.proc.port());
  auto all = c.get("/api/v1/procedures");
  REQUIRE(all.status == 200);
  CHECK(count_items(all) >= 10);
  auto ks = c.get("/api/v1/procedures?q=khai%20sinh");
  REQUIRE(ks.status == 200);
  REQUIRE(count_items(ks) >= 1);
  CHECK(ks.json->getArray("items")->getObject(0)->getValue<std::string>("name_vi").find("khai sinh") != std::string::npos);
  auto one = c.get("/api/v1/procedures/1.001193");
  REQUIRE(one.status == 200);
  CHECK(one.json->getArray("components")->size() >= 2);
  CHECK(c.get("/api/v1/procedures/9.999999").status == 404);

  auto days = c.get("/api/v1/calendar/days?from=2026-02-13&to=2026-02-23");
  REQUIRE(days.status == 200);
  auto items = days.json->getArray("items");
  REQUIRE(items->size() == 11);
  CHECK(items->getObject(0)->getValue<bool>("working"));       // Fri 13/2
  CHECK_FALSE(items->getObject(4)->getValue<bool>("working")); // Tue 17/2, mùng 1 Tết
  CHECK(items->getObject(10)->getValue<bool>("working"));      // Mon 23/2
  CHECK(c.get("/api/v1/calendar/days?from=2026-02-13").status == 400);
  CHECK(c.get("/api/v1/calendar/days?from=2026-01-01&to=2027-12-31").status == 400);
  // 3 working days from Friday morning before Tết: Mon 23/2 is day 1 after the break.
  auto a = c.get("/api/v1/calendar/appointment?procedure=1.004873&received=2026-02-13T09:00");
  REQUIRE(a.status == 200);
  CHECK(a.str("appointment_date") == "2026-02-25");
  auto bad = c.get("/api/v1/calendar/appointment?procedure=nope&received=13/02/2026");
  CHECK(bad.status == 400);
  CHECK(has(bad.field_errors(), "procedure:unknown"));
  CHECK(has(bad.field_errors(), "received:format"));
}

TEST_CASE("dossiers: intake, read, list, search", "[node][api][dossiers]") {
  Node n;
  Client desk = n.signed_in("motcua");
  auto r = desk.post("/api/v1/dossiers", kDossier);
  REQUIRE(r.status == 201);
  std::string id = r.str("id");
  std::string code = r.str("code");
  CHECK(code.rfind("26743-", 0) == 0);
  CHECK(code.size() == std::string("26743-YYMMDD-10001").size());
  CHECK(code.substr(13, 1) == "1");  // node number
  CHECK(r.str("lookup_code").size() == 6);
  CHECK(r.str("status") == "received");
  CHECK_FALSE(r.str("appointment").empty());
  auto r2 = desk.post("/api/v1/dossiers", kDossier);
  REQUIRE(r2.status == 201);
  CHECK(r2.str("code") != code);
  // Lookup codes are read aloud and typed: never 0, O, 1, I or L.
  for (const std::string& lookup : {r.str("lookup_code"), r2.str("lookup_code")}) {
    INFO(lookup);
    CHECK(lookup.find_first_not_of("ABCDEFGHJKMNPQRSTUVWXYZ23456789") == std::string::npos);
  }
  CHECK(r2.str("lookup_code") != r.str("lookup_code"));  // 31^6 codes: equal ones 1 in 887 million

  auto got = desk.get("/api/v1/dossiers/" + id);
  REQUIRE(got.status == 200);
  CHECK(got.str("code") == code);
  CHECK(got.json->getObject("applicant")->getValue<std::string>("name") == "Nguyễn Văn An");
  CHECK(desk.get("/api/v1/dossiers/0123456789abcdef0123456789abcdef").status == 404);
  CHECK(desk.get("/api/v1/dossiers/not-an-id").status == 404);

  // Search: code, CCCD, name with and without diacritics; "dang" finds "Đặng".
  auto by_code = desk.get("/api/v1/dossiers/search?q=" + code);
  REQUIRE(by_code.status == 200);
  CHECK(by_code.json->getArray("items")->getObject(0)->getValue<std::string>("id") == id);
  CHECK(count_items(desk.get("/api/v1/dossiers/search?q=079099012345")) == 2);
  auto plain = desk.get("/api/v1/dossiers/search?q=nguyen%20van%20an&limit=50");
  REQUIRE(plain.status == 200);
  bool found = false;
  for (std::size_t i = 0; i < count_items(plain); ++i)
    found = found || plain.json->getArray("items")->getObject(static_cast<unsigned>(i))->getValue<std::string>("id") == id;
  CHECK(found);
  auto dang = desk.get("/api/v1/dossiers/search?q=dang");
  REQUIRE(count_items(dang) >= 1);
  CHECK(dang.json->getArray("items")->getObject(0)->getObject("applicant")->getValue<std::string>("name").find("Đặng") !=
        std::string::npos);
  CHECK(desk.get("/api/v1/dossiers/search?q=").status == 400);

  // Listing with filters and cursor paging.
  auto p1 = desk.get("/api/v1/dossiers?limit=20");
  REQUIRE(p1.status == 200);
  CHECK(count_items(p1) == 20);
  std::string cursor = p1.str("next_cursor");
  REQUIRE_FALSE(cursor.empty());
  std::set<std::string> ids;
  std::size_t pages = 0;
  for (std::string cur;; ++pages) {
    auto p = desk.get("/api/v1/dossiers?limit=20" + (cur.empty() ? "" : "&cursor=" + cur));
    REQUIRE(p.status == 200);
    for (std::size_t i = 0; i < count_items(p); ++i)
      CHECK(ids.insert(p.json->getArray("items")->getObject(static_cast<unsigned>(i))->getValue<std::string>("id")).second);
    cur = p.str("next_cursor");
    if (cur.empty()) break;
  }
  CHECK(ids.size() >= 48);
  CHECK(ids.count(id) == 1);
  auto received = desk.get("/api/v1/dossiers?status=received&limit=200");
  REQUIRE(received.status == 200);
  for (std::size_t i = 0; i < count_items(received); ++i)
    CHECK(received.json->getArray("items")->getObject(static_cast<unsigned>(i))->getValue<std::string>("status") == "received");
  auto proc = desk.get("/api/v1/dossiers?procedure=1.001193&limit=200");
  REQUIRE(proc.status == 200);
  CHECK(count_items(proc) >= 2);
  CHECK(desk.get("/api/v1/dossiers?due=today").status == 200);
  auto late = desk.get("/api/v1/dossiers?due=late&limit=200");
  REQUIRE(late.status == 200);
  for (std::size_t i = 0; i < count_items(late); ++i)
    CHECK(late.json->getArray("items")->getObject(static_cast<unsigned>(i))->getValue<bool>("overdue"));
  CHECK(desk.get("/api/v1/dossiers?assignee=chuyenvien").status == 200);
  auto badlist = desk.get("/api/v1/dossiers?status=lost&due=tomorrow&limit=0&cursor=zz");
  CHECK(badlist.status == 400);
  CHECK(badlist.field_errors().size() == 4);

  // Roles: it_admin does not read citizens' dossiers.
  Client admin = n.signed_in("admin");
  CHECK(admin.get("/api/v1/dossiers/" + id).status == 403);
  CHECK(admin.post("/api/v1/dossiers", kDossier).status == 403);
}

// Every id of a listing, following next_cursor page by page; fails on a repeat.
std::vector<std::string> walk_pages(Client& c, const std::string& query, std::size_t limit) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (std::string cur;;) {
    auto p = c.get("/api/v1/dossiers?" + query + "&limit=" + std::to_string(limit) + (cur.empty() ? "" : "&cursor=" + cur));
    REQUIRE(p.status == 200);
    REQUIRE(count_items(p) <= limit);
    for (std::size_t i = 0; i < count_items(p); ++i) {
      std::string id = p.json->getArray("items")->getObject(static_cast<unsigned>(i))->getValue<std::string>("id");
      CHECK(seen.insert(id).second);
      out.push_back(id);
    }
    cur = p.str("next_cursor");
    if (cur.empty()) return out;
  }
}

TEST_CASE("text with quotes and backslashes comes back as sent, control characters are refused",
          "[node][api][dossiers]") {
  Node n;
  Client desk = n.signed_in("motcua");
  const std::string body =
      R"({"applicant":{"name":"Lê \"Bé\" Ánh\\Tý","cccd":"079099012345"},"procedure_code":"1.001193",)"
      R"("channel":"counter","components":["Giấy \"chứng\" sinh / bản sao"],"note":"<b>ghi chú</b> \u00e0 \\ \/"})";
  CHECK(desk.post("/api/v1/dossiers", R"({"applicant":{"name":"A\u0001","cccd":"079099012345"},)"
                                      R"("procedure_code":"1.001193","channel":"counter","note":"x\ny"})")
            .field_errors() == (std::vector<std::string>{"applicant.name:format", "note:format"}));
  auto made = desk.post("/api/v1/dossiers", body);
  REQUIRE(made.status == 201);
  for (const std::string& path : {"/api/v1/dossiers/" + made.str("id"),
                                  "/api/v1/dossiers/search?q=" + made.str("code")}) {
    auto got = desk.get(path);
    REQUIRE(got.status == 200);
    REQUIRE(got.json);  // well-formed JSON
    const bool hit = got.json->has("items");  // a search hit is a summary: no note, no components
    auto d = hit ? got.json->getArray("items")->getObject(0) : got.json;
    CHECK(d->getObject("applicant")->getValue<std::string>("name") == "Lê \"Bé\" Ánh\\Tý");
    CHECK(d->get("timing").isEmpty());  // null until returned
    CHECK(d->has("summary") == hit);
    if (hit) continue;
    CHECK(d->getValue<std::string>("note") == "<b>ghi chú</b> à \\ /");
    CHECK(d->getArray("components")->getElement<std::string>(0) == "Giấy \"chứng\" sinh / bản sao");
  }
  auto missing = desk.get("/api/v1/dossiers/0123456789abcdef0123456789abcdef");
  CHECK(missing.status == 404);
}

TEST_CASE("filtered listings page through a long index without loss or repeats", "[node][api][dossiers]") {
  Node n;
  Client desk = n.signed_in("motcua");
  Client lead = n.signed_in("lanhdao");
  std::set<std::string> created;
  for (int i = 0; i < 300; ++i) {  // more than one chunk of the index walk (256)
    auto r = desk.post("/api/v1/dossiers", kDossier);
    REQUIRE(r.status == 201);
    created.insert(r.str("id"));
  }
  // One of them moves on: it must drop out of "received" and nothing else may.
  const std::string moved = *created.begin();
  REQUIRE(lead.post("/api/v1/dossiers/" + moved + "/transitions", R"({"action":"start"})").status == 200);

  auto received = walk_pages(desk, "status=received", 37);
  std::set<std::string> got(received.begin(), received.end());
  CHECK(std::is_sorted(received.begin(), received.end()));  // ids are time-ordered
  for (const auto& id : created) CHECK(got.count(id) == (id == moved ? 0u : 1u));
  // Same answer in one page and in many.
  auto whole = walk_pages(desk, "status=received", 200);
  CHECK(whole == received);
  // "late" merges several status indexes: every page still in id order, no repeats.
  auto late = walk_pages(desk, "due=late", 3);
  CHECK(std::is_sorted(late.begin(), late.end()));
}

TEST_CASE("dossiers: bad input is refused and writes nothing", "[node][api][dossiers]") {
  Node n;
  Client desk = n.signed_in("motcua");
  auto bad = desk.post("/api/v1/dossiers",
                       R"({"applicant":{"name":"","cccd":"12345","dob":"2999-01-01","phone":"abc"},)"
                       R"("procedure_code":"9.999","channel":"fax","fee_vnd":-5})");
  REQUIRE(bad.status == 400);
  auto f = bad.field_errors();
  CHECK(has(f, "applicant.name:required"));
  CHECK(has(f, "applicant.cccd:format"));
  CHECK(has(f, "applicant.dob:format"));
  CHECK(has(f, "applicant.phone:format"));
  CHECK(has(f, "procedure_code:unknown"));
  CHECK(has(f, "channel:enum"));
  CHECK(has(f, "fee_vnd:range"));
  CHECK(desk.post("/api/v1/dossiers", R"({"applicant":"x"})").status == 400);
  CHECK(desk.post("/api/v1/dossiers", "[1,2]").status == 400);
  // A name of spaces (ASCII or no-break) is no name.
  auto blank = desk.post("/api/v1/dossiers", R"({"applicant":{"name":"    ","cccd":"079099012345"},)"
                                             R"("procedure_code":"1.001193","channel":"counter"})");
  REQUIRE(blank.status == 400);
  CHECK(has(blank.field_errors(), "applicant.name:required"));
  CHECK(desk.post("/api/v1/dossiers", R"({"applicant":{"name":"A","cccd":"079099012345"},"procedure_code":"1.001193","components":[1]})").status == 400);
  // Nesting deeper than the limit is refused before it is built.
  std::string deep = std::string(200, '[') + std::string(200, ']');
  CHECK(desk.post("/api/v1/dossiers", "{\"x\":" + deep + "}").status == 400);
  // Oversized bodies: refused from the Content-Length, before reading.
  std::string big = "{\"note\":\"" + std::string(70 * 1024, 'a') + "\"}";
  auto large = desk.post("/api/v1/dossiers", big);
  CHECK(large.status == 413);
  Client again = n.signed_in("motcua");
  auto lie = again.request("POST", "/api/v1/dossiers", kDossier, true, {{"Content-Length", "999999999"}});
  CHECK(lie.status == 413);
  Client check = n.signed_in("motcua");
  CHECK(count_items(check.get("/api/v1/dossiers/search?q=079099012345")) == 0);
}

TEST_CASE("dossiers: workflow, roles, 409 for illegal transitions, apology once", "[node][api][dossiers]") {
  Node n;
  Client desk = n.signed_in("motcua");
  Client spec = n.signed_in("chuyenvien");
  Client lead = n.signed_in("lanhdao");
  auto r = desk.post("/api/v1/dossiers", kDossier);
  REQUIRE(r.status == 201);
  std::string base = "/api/v1/dossiers/" + r.str("id");
  auto act = [&](Client& c, const std::string& action, const std::string& note = "") {
    return c.post(base + "/transitions", R"({"action":")" + action + R"(","note":")" + note + R"("})");
  };
  CHECK(act(desk, "approve").status == 403);   // a clerk cannot decide
  CHECK(act(lead, "approve").status == 409);   // not in progress yet
  CHECK(act(spec, "fly").status == 400);
  CHECK(lead.post(base + "/transitions", "{}").status == 400);
  CHECK(act(desk, "cancel", "   ").status == 400);  // a cancel needs a reason, not spaces
  CHECK(desk.post("/api/v1/dossiers/0123456789abcdef0123456789abcdef/transitions", R"({"action":"start"})").status == 404);

  auto assign_bad = desk.post(base + "/assignment", R"({"assignee":"motcua2"})");  // not a specialist
  CHECK(assign_bad.status == 400);
  CHECK(spec.post(base + "/assignment", R"({"assignee":"chuyenvien"})").status == 403);
  auto assigned = desk.post(base + "/assignment", R"({"assignee":"chuyenvien"})");
  REQUIRE(assigned.status == 200);
  CHECK(assigned.str("assignee") == "chuyenvien");

  CHECK(act(spec, "start").status == 200);
  CHECK(act(spec, "request_supplement").status == 400);  // reason required
  auto sup = act(spec, "request_supplement", "Thiếu giấy chứng sinh");
  REQUIRE(sup.status == 200);
  CHECK(sup.str("status") == "supplement_requested");
  auto resumed = act(desk, "resume");
  REQUIRE(resumed.status == 200);
  CHECK(resumed.str("status") == "in_progress");
  CHECK(resumed.json->getValue<int>("cycle") == 2);  // a new cycle: still moving forward

  // Apology slip: leader only, once; the new date is a working day after the due date.
  std::string due = resumed.str("due_date");
  std::string next_year = std::to_string(std::stoi(due.substr(0, 4)) + 1);
  auto window = lead.get("/api/v1/calendar/days?from=" + due + "&to=" + due.substr(0, 4) + "-12-31");
  if (due.substr(5) >= "12-20") window = lead.get("/api/v1/calendar/days?from=" + due + "&to=" + next_year + "-01-31");
  REQUIRE(window.status == 200);
  std::string new_date;
  auto days = window.json->getArray("items");
  for (std::size_t i = 1; i < days->size() && new_date.empty(); ++i)
    if (days->getObject(static_cast<unsigned>(i))->getValue<bool>("working"))
      new_date = days->getObject(static_cast<unsigned>(i))->getValue<std::string>("date");
  REQUIRE_FALSE(new_date.empty());
  const std::string apology = R"({"new_appointment":")" + new_date + R"(","reason":"Cần xác minh tại nơi cư trú"})";
  CHECK(spec.post(base + "/apology", apology).status == 403);
  CHECK(lead.post(base + "/apology", R"({"new_appointment":"30/12/2026"})").status == 400);
  CHECK(lead.post(base + "/apology", R"({"new_appointment":")" + due + R"(","reason":"Sớm hơn"})").status == 400);
  CHECK(lead.get(base + "/apology").status == 404);
  auto ap = lead.post(base + "/apology", apology);
  REQUIRE(ap.status == 201);
  CHECK(ap.json->getObject("apology")->getValue<std::string>("new_appointment") == new_date);
  auto ap2 = lead.post(base + "/apology", apology);
  CHECK(ap2.status == 409);
  auto slip = lead.get(base + "/apology");
  REQUIRE(slip.status == 200);
  CHECK(slip.str("new_appointment") == new_date);
  CHECK(slip.str("office_name") == "UBND Phường Bến Thành");

  auto approved = act(lead, "approve");
  REQUIRE(approved.status == 200);
  CHECK(approved.str("decided_by") == "lanhdao");
  CHECK(act(lead, "cancel", "Thử hủy").status == 409);
  auto returned = act(desk, "return");
  REQUIRE(returned.status == 200);
  CHECK(returned.str("status") == "returned");
  CHECK_FALSE(returned.str("timing").empty());
  CHECK(act(desk, "return").status == 409);
  CHECK(desk.post(base + "/assignment", R"({"assignee":"chuyenvien"})").status == 409);
  auto hist = desk.get(base).json->getArray("history");
  CHECK(hist->size() == 8);  // received, assign, start, supplement, resume, apology, approve, return
}

TEST_CASE("queue tickets: issue, call next, recall, skip, serve", "[node][api][queue]") {
  Node n;
  Client desk = n.signed_in("motcua");
  auto before = desk.get("/api/v1/queues/7");
  REQUIRE(before.status == 200);
  CHECK(before.json->getValue<int>("waiting") == 0);
  CHECK(desk.post("/api/v1/queues/7/call-next", "").status == 409);
  std::vector<std::string> ids;
  for (int i = 1; i <= 3; ++i) {
    auto t = desk.post("/api/v1/tickets", R"({"counter":"7"})");
    REQUIRE(t.status == 201);
    CHECK(t.json->getValue<int>("number") == i);
    ids.push_back(t.str("id"));
  }
  CHECK(desk.post("/api/v1/tickets", R"({"counter":"quầy 7"})").status == 400);
  CHECK(desk.post("/api/v1/tickets", R"({})").status == 400);
  CHECK(desk.get("/api/v1/queues/7").json->getValue<int>("waiting") == 3);
  CHECK(desk.post("/api/v1/tickets/" + ids[1] + "/actions", R"({"action":"serve"})").status == 409);  // not called
  auto c1 = desk.post("/api/v1/queues/7/call-next", "");
  REQUIRE(c1.status == 200);
  CHECK(c1.json->getValue<int>("number") == 1);
  CHECK(c1.str("state") == "called");
  auto rec = desk.post("/api/v1/tickets/" + ids[0] + "/actions", R"({"action":"recall"})");
  REQUIRE(rec.status == 200);
  CHECK(rec.str("state") == "called");
  CHECK(desk.post("/api/v1/tickets/" + ids[0] + "/actions", R"({"action":"serve"})").str("state") == "served");
  CHECK(desk.post("/api/v1/tickets/" + ids[0] + "/actions", R"({"action":"skip"})").status == 409);
  auto c2 = desk.post("/api/v1/queues/7/call-next", "");
  CHECK(c2.json->getValue<int>("number") == 2);
  CHECK(desk.post("/api/v1/tickets/" + ids[1] + "/actions", R"({"action":"skip"})").str("state") == "skipped");
  CHECK(desk.post("/api/v1/tickets/" + ids[1] + "/actions", R"({"action":"dance"})").status == 400);
  auto q = desk.get("/api/v1/queues/7");
  CHECK(q.json->getValue<int>("waiting") == 1);
  CHECK(q.json->getValue<int>("last_issued") == 3);
  CHECK(desk.get("/api/v1/tickets/" + ids[2]).str("state") == "issued");
  CHECK(desk.get("/api/v1/tickets/0123456789abcdef0123456789abcdef").status == 404);
  CHECK(desk.get("/api/v1/queues/7?day=yesterday").status == 400);
  // Calling the next while one is still at the desk ends that one: the display never goes back to it.
  auto c3 = desk.post("/api/v1/queues/7/call-next", "");
  REQUIRE(c3.status == 200);
  auto t4 = desk.post("/api/v1/tickets", R"({"counter":"7"})");
  REQUIRE(t4.status == 201);
  auto c4 = desk.post("/api/v1/queues/7/call-next", "");
  REQUIRE(c4.status == 200);
  CHECK(desk.get("/api/v1/tickets/" + ids[2]).str("state") == "served");
  CHECK(desk.post("/api/v1/tickets/" + c4.str("id") + "/actions", R"({"action":"serve"})").status == 200);
  auto after = desk.get("/api/v1/queues/7");
  INFO(after.body);
  CHECK(after.json->isNull("current"));  // nobody at the desk: not the ticket called before
  Client admin = n.signed_in("admin");
  CHECK(admin.post("/api/v1/queues/7/call-next", "").status == 403);
}

TEST_CASE("ratings and reports", "[node][api][reports]") {
  Node n;
  Client desk = n.signed_in("motcua");
  auto d = desk.post("/api/v1/dossiers", kDossier);
  REQUIRE(d.status == 201);
  // Nobody records a rating of themselves; a specialist (no citizens) records none.
  auto self = desk.post("/api/v1/ratings", R"({"dossier_id":")" + d.str("id") + R"(","clerk":"motcua","level":"satisfied"})");
  CHECK(self.status == 403);
  CHECK(self.str("error") == "self_rating");
  Client specialist = n.signed_in("chuyenvien");
  CHECK(specialist.post("/api/v1/ratings", R"({"clerk":"motcua","level":"satisfied"})").status == 403);
  // IT administrators serve no citizens: not rated.
  auto admin_rated = desk.post("/api/v1/ratings", R"({"clerk":"admin","level":"unsatisfied"})");
  CHECK(admin_rated.status == 400);
  CHECK(admin_rated.body.find("not_rated") != std::string::npos);

  Client lead = n.signed_in("lanhdao");
  auto ok = lead.post("/api/v1/ratings", R"({"dossier_id":")" + d.str("id") + R"(","clerk":"motcua","level":"satisfied"})");
  REQUIRE(ok.status == 201);
  CHECK(ok.str("level") == "satisfied");
  CHECK(lead.post("/api/v1/ratings", R"({"dossier_id":")" + d.str("id") + R"(","clerk":"motcua","level":"satisfied"})")
            .status == 409);
  CHECK(desk.post("/api/v1/ratings", R"({"clerk":"lanhdao","level":"acceptable"})").status == 201);  // a visit
  auto bad = desk.post("/api/v1/ratings", R"({"dossier_id":"zz","clerk":"ghost","level":"great"})");
  CHECK(bad.status == 400);
  CHECK(bad.field_errors().size() == 3);

  CHECK(desk.get("/api/v1/reports?from=2026-01-01&to=2026-12-31").status == 403);
  auto rep = lead.get("/api/v1/reports?from=2020-01-01&to=2020-12-31");
  REQUIRE(rep.status == 200);
  CHECK(rep.json->getObject("totals")->getValue<int>("received") == 0);
  CHECK(lead.get("/api/v1/reports?from=2026-02-01&to=2026-01-01").status == 400);
  CHECK(lead.get("/api/v1/reports?from=2020-01-01&to=2026-01-01").status == 400);
  CHECK(lead.get("/api/v1/reports").status == 400);
  // The demo's last days: every dossier counted once, shares add up.
  auto today = desk.get("/api/v1/dossiers/" + d.str("id")).str("received_at").substr(0, 10);
  auto recent = lead.get("/api/v1/reports?from=2000-01-01&to=2000-01-02");
  CHECK(recent.status == 200);
  auto now = lead.get("/api/v1/reports?from=" + today + "&to=" + today);
  REQUIRE(now.status == 200);
  auto totals = now.json->getObject("totals");
  CHECK(totals->getValue<int>("received") >= 1);
  CHECK(totals->getValue<int>("received") ==
        totals->getValue<int>("returned") + totals->getValue<int>("pending") + totals->getValue<int>("cancelled"));
  auto sat = now.json->getObject("satisfaction");
  CHECK(sat->getValue<int>("total") >= 2);
}

// Counter names are one counter whatever their case; the hall display shows
// every counter it can, and marks only a misspelt one.
TEST_CASE("counters ignore case, and the hall display blanks only a misspelt counter", "[node][api][queue]") {
  Node n;
  Client desk = n.signed_in("motcua");
  Client tv(n.proc.port());
  auto t = tv.post("/api/v1/kiosk/tickets", R"({"counter":"b"})", false);
  REQUIRE(t.status == 201);
  CHECK(t.str("counter") == "B");  // printed as the counter's sign reads
  REQUIRE(desk.post("/api/v1/tickets", R"({"counter":"B"})").status == 201);
  CHECK(desk.get("/api/v1/queues/b").json->getValue<int>("waiting") == 2);
  auto called = desk.post("/api/v1/queues/B/call-next", "");
  REQUIRE(called.status == 200);
  CHECK(called.json->getValue<int>("number") == 1);

  auto d = tv.get("/api/v1/kiosk/display?counters=b,qu%E1%BA%A7y%207,B,9");
  REQUIRE(d.status == 200);
  auto items = d.json->getArray("items");
  REQUIRE(items->size() == 4);
  auto item = [&](unsigned i) { return items->getObject(i); };
  CHECK(item(0)->getValue<std::string>("counter") == "b");  // as asked, so the page finds it
  CHECK(item(0)->getValue<int>("now") == 1);
  CHECK(item(0)->getValue<int>("waiting") == 1);
  CHECK(item(1)->getValue<std::string>("error") == "counter_format");
  CHECK(item(1)->isNull("now"));
  CHECK(item(2)->getValue<int>("now") == 1);
  CHECK(item(3)->isNull("now"));  // a counter with no ticket today
  CHECK_FALSE(item(3)->has("error"));
  CHECK(tv.get("/api/v1/kiosk/display?counters=,,").status == 400);  // no counter at all
}

TEST_CASE("the kiosk rates a visit by its queue ticket: once, and only a ticket that was called",
          "[node][api][reports]") {
  Node n;
  Client desk = n.signed_in("motcua");
  Client lead = n.signed_in("lanhdao");
  Client kiosk(n.proc.port());  // no session: the hall kiosk
  auto today = desk.get("/api/v1/queues/7").str("day");
  auto ratings_today = [&] {
    auto rep = lead.get("/api/v1/reports?from=" + today + "&to=" + today);
    REQUIRE(rep.status == 200);
    return rep.json->getObject("satisfaction")->getValue<int>("total");
  };
  const int before = ratings_today();
  REQUIRE(desk.post("/api/v1/tickets", R"({"counter":"7"})").status == 201);
  REQUIRE(desk.post("/api/v1/tickets", R"({"counter":"7"})").status == 201);
  auto rate = [&](const std::string& number) {
    return kiosk.post("/api/v1/kiosk/ratings", R"({"counter":"7","number":)" + number + R"(,"level":"satisfied"})",
                      false);
  };
  auto waiting = rate("1");  // not called yet: no visit happened
  CHECK(waiting.status == 409);
  CHECK(waiting.str("error") == "not_served");
  auto called = desk.post("/api/v1/queues/7/call-next", "");
  REQUIRE(called.status == 200);
  // At the desk: its number is on the hall display, so nobody may rate it yet.
  CHECK(rate("1").str("error") == "not_served");
  REQUIRE(desk.post("/api/v1/tickets/" + called.str("id") + "/actions", R"({"action":"serve"})").status == 200);
  // Two taps at once: one rating.
  Client kiosk2(n.proc.port());
  std::thread second([&] {
    kiosk2.post("/api/v1/kiosk/ratings", R"({"counter":"7","number":1,"level":"satisfied"})", false);
  });
  auto ok = rate("1");
  second.join();
  INFO(ok.body);
  CHECK((ok.status == 201 || ok.str("error") == "already_rated"));
  auto again = rate("1");
  CHECK(again.status == 409);
  CHECK(again.str("error") == "already_rated");
  CHECK(rate("2").status == 409);    // still waiting
  CHECK(rate("9").status == 404);    // no such ticket today
  CHECK(rate("0").status == 400);
  CHECK(rate("\"1\"").status == 400);
  auto missing = kiosk.post("/api/v1/kiosk/ratings", R"({"counter":"7","level":"satisfied"})", false);
  CHECK(missing.status == 400);
  CHECK(missing.body.find("\"number\"") != std::string::npos);
  CHECK(ratings_today() == before + 1);  // exactly the one visit, nothing from the refusals or the second tap
}

TEST_CASE("users: only it_admin manages accounts, and disabled accounts cannot sign in", "[node][api][auth]") {
  Node n;
  Client admin = n.signed_in("admin");
  Client lead = n.signed_in("lanhdao");
  std::string body = R"({"username":"lan.le","display_name":"Lê Thị Lan","role":"clerk","password":"mat-khau-dai"})";
  CHECK(lead.post("/api/v1/users", body).status == 403);
  CHECK(lead.get("/api/v1/users").status == 403);
  auto made = admin.post("/api/v1/users", body);
  REQUIRE(made.status == 201);
  CHECK(made.str("username") == "lan.le");
  CHECK(admin.post("/api/v1/users", body).status == 409);
  auto bad = admin.post("/api/v1/users", R"({"username":"X","display_name":"","role":"boss","password":"short"})");
  CHECK(bad.status == 400);
  CHECK(bad.field_errors().size() == 4);
  // A name that reads like an option, a display name with terminal escapes, a password of spaces.
  auto odd = admin.post("/api/v1/users",
                        R"({"username":"-rf","display_name":"A\u001b[31mB","role":"clerk","password":"        "})");
  CHECK(odd.field_errors() ==
        (std::vector<std::string>{"username:format", "display_name:format", "password:blank"}));
  CHECK(admin.get("/api/v1/users").json->getArray("items")->size() == 7);
  Client lan(n.proc.port());
  REQUIRE(lan.login("lan.le", "mat-khau-dai").status == 200);
  CHECK(admin.post("/api/v1/users/lan.le/password", R"({"password":"mat-khau-moi-123"})").status == 200);
  CHECK(lan.get("/api/v1/sessions/current").status == 401);  // signed out everywhere
  REQUIRE(lan.login("lan.le", "mat-khau-moi-123").status == 200);
  CHECK(admin.post("/api/v1/users/lan.le/disabled", R"({"disabled":"yes"})").status == 400);
  CHECK(admin.post("/api/v1/users/ghost/disabled", R"({"disabled":true})").status == 404);
  CHECK(admin.post("/api/v1/users/lan.le/disabled", R"({"disabled":true})").status == 200);
  CHECK(lan.get("/api/v1/sessions/current").status == 401);
  CHECK(lan.login("lan.le", "mat-khau-moi-123").status == 401);

  // Leader and it_admin accounts are made, and their passwords reset, on the box
  // (wardnode user): through the API an it_admin could otherwise become the leader.
  auto boss = admin.post("/api/v1/users",
                         R"({"username":"sep.moi","display_name":"Sếp Mới","role":"leader","password":"mat-khau-dai"})");
  CHECK(boss.status == 403);
  CHECK(boss.str("error") == "privileged_account");
  CHECK(admin.post("/api/v1/users",
                   R"({"username":"qt.moi","display_name":"QT Mới","role":"it_admin","password":"mat-khau-dai"})")
            .status == 403);
  auto reset = admin.post("/api/v1/users/lanhdao/password", R"({"password":"mat-khau-cua-toi"})");
  CHECK(reset.status == 403);
  CHECK(reset.body.find("wardnode user passwd") != std::string::npos);
  CHECK(Client(n.proc.port()).login("lanhdao", "mat-khau-cua-toi").status == 401);  // unchanged
  CHECK(lead.get("/api/v1/sessions/current").status == 200);                         // still signed in
  CHECK(admin.get("/api/v1/users").json->getArray("items")->size() == 7);  // nothing was added
  // Their own password they may set (and are signed out everywhere, like anyone).
  CHECK(admin.post("/api/v1/users/admin/password", R"({"password":"mat-khau-moi-cua-admin"})").status == 200);
  CHECK(Client(n.proc.port()).login("admin", "mat-khau-moi-cua-admin").status == 200);
}

TEST_CASE("two simultaneous requests for one new username: exactly one account", "[node][api][auth]") {
  Node n;
  const std::string body = R"({"username":"minh.tran","display_name":"Trần Minh","role":"clerk","password":"mat-khau-dai"})";
  std::vector<int> codes(4);
  std::vector<std::thread> threads;
  for (std::size_t i = 0; i < codes.size(); ++i) {
    threads.emplace_back([&, i] {
      Client admin = n.signed_in("admin");
      codes[i] = admin.post("/api/v1/users", body).status;
    });
  }
  for (auto& t : threads) t.join();
  CHECK(std::count(codes.begin(), codes.end(), 201) == 1);
  CHECK(std::count(codes.begin(), codes.end(), 409) == 3);
  Client admin = n.signed_in("admin");
  auto users = admin.get("/api/v1/users");
  int named = 0;
  for (std::size_t i = 0; i < users.json->getArray("items")->size(); ++i)
    named += users.json->getArray("items")->getObject(static_cast<unsigned>(i))->getValue<std::string>("username") ==
             "minh.tran";
  CHECK(named == 1);
}

TEST_CASE("sync status", "[node][api]") {
  Node n;
  Client admin = n.signed_in("admin");
  Client desk = n.signed_in("motcua");
  // Every signed-in clerk sees it (the UI's sync indicator); nobody else.
  CHECK(desk.get("/api/v1/sync/status").status == 200);
  CHECK(Client(n.proc.port()).get("/api/v1/sync/status").status == 401);
  auto s = admin.get("/api/v1/sync/status");
  REQUIRE(s.status == 200);
  CHECK(s.str("node_id") == admin.get("/api/v1/health").str("node_id"));
  CHECK(s.json->getArray("version_vector")->size() >= 1);
  auto un = s.json->getObject("unacknowledged_by_upstream");
  CHECK(un->getValue<Poco::UInt64>("changes") > 0);
  CHECK(s.json->getObject("stats")->getValue<Poco::UInt64>("records") > 50);
}


TEST_CASE("one client holding many idle connections cannot take the node from the others", "[node][api]") {
  Node n(Conf{{"http_client_connections", "4"}});
  const int port = n.proc.port();
  // Four keep-alive connections from 127.0.0.2, each admitted (it got its answer),
  // then left idle: all it may hold.
  std::vector<int> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(connect_from("127.0.0.2", port));
    CHECK(exchange(idle.back(), "GET /api/v1/health HTTP/1.1\r\nHost: node\r\n\r\n").rfind("HTTP/1.1 200", 0) == 0);
  }
  // A fifth from it is told to come back (503, in both languages), at once.
  auto start = std::chrono::steady_clock::now();
  std::string refused = health_from("127.0.0.2", port);
  INFO(refused);
  CHECK(refused.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(refused.find("too_many_connections") != std::string::npos);
  CHECK(refused.find("Retry-After: 5") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  // A client knocking again and again is logged once a minute, not once a knock.
  for (int i = 0; i < 9; ++i) CHECK(health_from("127.0.0.2", port).rfind("HTTP/1.1 503", 0) == 0);
  {
    std::ifstream log(n.tmp.path() / "d" / "test-run.log");
    std::string line;
    int logged = 0;
    while (std::getline(log, line)) logged += line.find("connection(s) from 127.0.0.2") != std::string::npos;
    CHECK(logged == 1);
  }
  // Everybody else is served.
  CHECK(health_from("127.0.0.1", port).rfind("HTTP/1.1 200", 0) == 0);
  CHECK(Client(port).get("/api/v1/health").status == 200);
  // Once it lets go, it is served again.
  for (int fd : idle) ::close(fd);
  bool served = false;
  for (int i = 0; i < 50 && !served; ++i) {
    served = health_from("127.0.0.2", port).rfind("HTTP/1.1 200", 0) == 0;
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK(served);
}

TEST_CASE("a JSON body must be declared JSON: what another web site can make a browser send is refused",
          "[node][api]") {
  Node n;
  Client kiosk(n.proc.port());
  // Forms and text/plain cross sites without a CORS preflight; the kiosk takes no session.
  for (const char* type : {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"}) {
    INFO(type);
    auto r = kiosk.request("POST", "/api/v1/kiosk/tickets", R"({"counter":"1"})", false, {{"Content-Type", type}});
    CHECK(r.status == 415);
    CHECK(r.str("error") == "unsupported_media_type");
    CHECK(!r.str("message_vi").empty());
  }
  auto taken = kiosk.request("POST", "/api/v1/kiosk/tickets", R"({"counter":"1"})", false,
                             {{"Content-Type", "Application/JSON; charset=utf-8"}});
  INFO(taken.body);
  REQUIRE(taken.status == 201);
  auto next = kiosk.post("/api/v1/kiosk/tickets", R"({"counter":"1"})", false);
  REQUIRE(next.status == 201);
  // The refused ones took no number.
  CHECK(next.json->getValue<int>("number") == taken.json->getValue<int>("number") + 1);
}
