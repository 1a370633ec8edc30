// The command line: every command's --help answers, init creates a documented
// data directory with a private key and refuses to overwrite one, user commands
// manage accounts and refuse to run beside a serving node.
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <cstdio>

#include <catch2/catch.hpp>
#include <sqlite3.h>

#include "node_process.hpp"

using namespace wardtest;
namespace fs = std::filesystem;

namespace {
std::string slurp(const fs::path& p) {
  std::string out;
  if (FILE* f = std::fopen(p.c_str(), "rb")) {
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
    std::fclose(f);
  }
  return out;
}

// `wardnode init` of a ward office in `d`, then an IT admin "admin" added from the CLI.
void init_office_with_admin(const fs::path& d) {
  REQUIRE(run_wardnode({"init", "--dir", d.string(), "--office-code", "26734", "--office-name", "UBND Phường Tân Định",
                        "--tier", "ward", "--scope", "79/26734"})
              .exit_code == 0);
  RunResult add = run_wardnode({"user", "add", "--dir", d.string(), "--username", "admin", "--display-name", "Quản trị",
                                "--role", "it_admin", "--password-stdin"},
                               "mot-mat-khau-dai\n");
  INFO(add.err);
  REQUIRE(add.exit_code == 0);
}
}  // namespace

TEST_CASE("every command answers --help", "[node][cli]") {
  const std::vector<std::vector<std::string>> cmds = {
      {"--help"}, {"-h"}, {"init", "--help"}, {"run", "--help"}, {"user", "--help"}, {"user", "add", "--help"},
      {"user", "passwd", "--help"}, {"user", "disable", "--help"}, {"demo", "--help"},
      {"tls", "--help"}};
  for (const auto& c : cmds) {
    RunResult r = run_wardnode(c);
    INFO(c.front() << " " << (c.size() > 1 ? c[1] : ""));
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: wardnode") != std::string::npos);
  }
  CHECK(run_wardnode({"init", "--help"}).out.find("--office-code") != std::string::npos);
  CHECK(run_wardnode({"user", "--help"}).out.find("it_admin") != std::string::npos);
  CHECK(run_wardnode({}).exit_code == 2);
  CHECK(run_wardnode({"frobnicate"}).exit_code == 2);
  CHECK(run_wardnode({"init", "--bogus"}).exit_code == 2);
  CHECK(run_wardnode({"--version"}).out.find("wardnode") != std::string::npos);
}

TEST_CASE("init creates a documented data directory and never overwrites one", "[node][cli]") {
  TempDir t;
  fs::path d = t.path() / "office";
  RunResult r = run_wardnode({"init", "--dir", d.string(), "--office-code", "26734", "--office-name", "UBND Phường Tân Định",
                              "--tier", "ward", "--scope", "79/760/26734"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  struct stat st {};
  REQUIRE(stat((d / "node.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  std::string text = slurp(d / "wardnode.conf");
  CHECK(text.find("scope = 79/760/26734") != std::string::npos);
  CHECK(text.find("# ") != std::string::npos);
  for (const char* key : {"listen", "node_number", "log_level", "session_idle_seconds", "store_file"})
    CHECK(text.find(std::string(key) + " = ") != std::string::npos);
  CHECK(fs::exists(d / "node.db"));
  CHECK(fs::exists(d / "data" / "procedures.json"));

  std::string key_before = slurp(d / "node.key");
  RunResult again = run_wardnode({"init", "--dir", d.string(), "--office-code", "26734", "--office-name", "X", "--tier",
                                  "ward", "--scope", "79/760/26734"});
  CHECK(again.exit_code == 1);
  CHECK(again.err.find("refusing") != std::string::npos);
  CHECK(slurp(d / "node.key") == key_before);
  // A non-empty foreign directory is refused too; bad values are named.
  fs::path other = t.path() / "other";
  fs::create_directories(other);
  std::ofstream(other / "keep.txt") << "x";
  CHECK(run_wardnode({"init", "--dir", other.string(), "--office-code", "1", "--office-name", "X", "--tier", "ward"})
            .exit_code == 1);
  CHECK(fs::exists(other / "keep.txt"));
  RunResult bad = run_wardnode({"init", "--dir", (t.path() / "bad").string(), "--office-code", "26734", "--office-name",
                                "X", "--tier", "galaxy"});
  CHECK(bad.exit_code == 1);
  CHECK(bad.err.find("tier") != std::string::npos);
}

TEST_CASE("user add, passwd and disable from the command line", "[node][cli]") {
  TempDir t;
  fs::path d = t.path() / "office";
  init_office_with_admin(d);
  CHECK(run_wardnode({"user", "add", "--dir", d.string(), "--username", "admin", "--display-name", "Lại", "--role",
                      "clerk"},
                     "mot-mat-khau-dai\n")
            .exit_code == 1);
  CHECK(run_wardnode({"user", "add", "--dir", d.string(), "--username", "bob", "--display-name", "Bob", "--role", "king"},
                     "short\n")
            .exit_code == 1);
  CHECK(run_wardnode({"user", "passwd", "--dir", d.string(), "--username", "admin"}, "mat-khau-moi-nhe\n").exit_code == 0);
  CHECK(run_wardnode({"user", "passwd", "--dir", d.string(), "--username", "ghost"}, "mat-khau-moi-nhe\n").exit_code == 1);
  {
    NodeProcess node(d);
    node.start();
    Client c(node.port());
    CHECK(c.login("admin", "mot-mat-khau-dai").status == 401);
    CHECK(c.login("admin", "mat-khau-moi-nhe").status == 200);
    // While the node serves the directory, the CLI refuses to write to its store.
    RunResult busy = run_wardnode({"user", "disable", "--dir", d.string(), "--username", "admin"});
    CHECK(busy.exit_code == 1);
    CHECK(busy.err.find("in use") != std::string::npos);
  }
  CHECK(run_wardnode({"user", "disable", "--dir", d.string(), "--username", "admin"}).exit_code == 0);
  NodeProcess node(d);
  node.start();
  Client c(node.port());
  CHECK(c.login("admin", "mat-khau-moi-nhe").status == 401);
}

TEST_CASE("HTTPS with the office certificate: init makes it, run serves it, plain HTTP stays on loopback",
          "[node][cli][tls]") {
  TempDir t;
  fs::path d = t.path() / "office";
  RunResult init = run_wardnode({"init", "--dir", d.string(), "--office-code", "26734", "--office-name",
                                 "UBND Phường Tân Định", "--tier", "ward", "--scope", "79/760/26734"});
  INFO(init.err);
  REQUIRE(init.exit_code == 0);
  const fs::path cert = d / "tls" / "office.crt";
  struct stat st {};
  REQUIRE(stat((d / "tls" / "office.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // The fingerprint init prints is the one `wardnode tls` prints (the value to pin).
  RunResult fp = run_wardnode({"tls", "--dir", d.string()});
  REQUIRE(fp.exit_code == 0);
  REQUIRE(fp.out.rfind("SHA256 ", 0) == 0);
  CHECK(fp.out.size() == std::string("SHA256 \n").size() + 32 * 3 - 1);
  CHECK(init.out.find(fp.out.substr(0, fp.out.size() - 1)) != std::string::npos);

  // tls = off is refused off loopback, by name and with the reason.
  set_config(d, "tls", "off");
  RunResult clear = run_wardnode({"run", "--dir", d.string(), "--listen", "0.0.0.0:1"});
  CHECK(clear.exit_code == 1);
  CHECK(clear.err.find("loopback") != std::string::npos);

  // tls = on: HTTPS that verifies against the office certificate (for 127.0.0.1);
  // the session cookie is Secure; plain HTTP on that port gets no answer.
  set_config(d, "tls", "on");
  NodeProcess node(d);
  node.use_tls(cert);
  node.start();
  Client https(node.port(), cert);
  CHECK(https.get("/api/v1/health").status == 200);
  RunResult add = run_wardnode({"user", "add", "--dir", d.string(), "--username", "motcua", "--display-name", "A",
                                "--role", "clerk"}, "matkhau-dai-123\n");
  CHECK(add.exit_code == 1);  // the running node owns the store: refused, nothing changed
  Client plain(node.port());
  CHECK_THROWS(plain.get("/api/v1/health"));
  // A certificate the client does not trust is refused by the client.
  TempDir other;
  fs::path od = other.path() / "o";
  REQUIRE(run_wardnode({"init", "--dir", od.string(), "--office-code", "1", "--office-name", "X", "--tier", "ward",
                        "--scope", "1"}).exit_code == 0);
  Client wrong(node.port(), od / "tls" / "office.crt");
  CHECK_THROWS(wrong.get("/api/v1/health"));
}

TEST_CASE("run refuses a directory whose database is missing or empty", "[node][cli]") {
  TempDir t;
  const fs::path d = t.path() / "office";
  init_office_with_admin(d);
  fs::remove(d / "node.db");
  RunResult missing = run_wardnode({"run", "--dir", d.string()});
  CHECK(missing.exit_code == 1);
  CHECK(missing.err.find("node.db is missing") != std::string::npos);
  CHECK_FALSE(fs::exists(d / "node.db"));  // nothing created in its place
  { std::ofstream(d / "node.db"); }
  RunResult empty = run_wardnode({"user", "add", "--dir", d.string(), "--username", "b", "--display-name", "B",
                                  "--role", "clerk", "--password-stdin"}, "mot-mat-khau-dai\n");
  CHECK(empty.exit_code == 1);
  CHECK(empty.err.find("node.db is empty") != std::string::npos);
  CHECK(fs::file_size(d / "node.db") == 0);
}

TEST_CASE("a damaged database is reported, not taken for a wrong password", "[node][cli]") {
  TempDir t;
  const fs::path d = t.path() / "office";
  init_office_with_admin(d);
  // Damage the page of the index sign-in reads (the node opens without reading it).
  int page_size = 0, root = 0;
  {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open_v2((d / "node.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    REQUIRE(sqlite3_prepare_v2(db, "SELECT (SELECT page_size FROM pragma_page_size), rootpage FROM sqlite_master "
                                   "WHERE name = 'record_index'", -1, &st, nullptr) == SQLITE_OK);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    page_size = sqlite3_column_int(st, 0);
    root = sqlite3_column_int(st, 1);
    sqlite3_finalize(st);
    sqlite3_close(db);
  }
  REQUIRE(root > 1);
  {
    std::fstream f(d / "node.db", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(root - 1) * page_size);
    const std::string garbage(static_cast<std::size_t>(page_size), '\xA5');
    f.write(garbage.data(), static_cast<std::streamsize>(garbage.size()));
    REQUIRE(f.good());
  }
  NodeProcess node(d);
  node.start();
  Client c(node.port());
  auto login = c.login("admin", "mot-mat-khau-dai");
  CHECK(login.status == 500);  // not 401: the password was never the problem
  auto health = c.get("/api/v1/health");
  CHECK(health.status == 200);
  CHECK(health.str("status") == "degraded");
  CHECK(health.str("store_last_read_error").find("malformed") != std::string::npos);
  CHECK(c.get("/metrics").body.find("wardsync_store_read_errors_total 0") == std::string::npos);
  // No failed sign-in was counted against the account: five more tries are not a lock-out.
  for (int i = 0; i < 5; ++i) CHECK(c.login("admin", "mot-mat-khau-dai").status == 500);
}

TEST_CASE("init refuses an address no node could bind, and a key set twice stops the node", "[node][cli]") {
  TempDir t;
  for (const char* listen : {"999.1.1.1:8443", "0.0.0.0:99999", "0.0.0.0", ":8443", "[::1:8443", "bad host:80"}) {
    INFO(listen);
    RunResult r = run_wardnode({"init", "--dir", (t.path() / "x").string(), "--office-code", "26734", "--office-name",
                                "X", "--tier", "ward", "--scope", "79/26734", "--listen", listen});
    CHECK(r.exit_code != 0);
    CHECK(r.err.find("listen") != std::string::npos);
    CHECK_FALSE(fs::exists(t.path() / "x" / "node.db"));
  }
  const fs::path d = t.path() / "office";
  init_office_with_admin(d);
  std::ofstream(d / "wardnode.conf", std::ios::app) << "listen = 127.0.0.1:9\n";
  RunResult twice = run_wardnode({"run", "--dir", d.string()});
  CHECK(twice.exit_code == 1);
  CHECK(twice.err.find("listen is set twice (first on line") != std::string::npos);
  // An office name that heads every slip must be printable (a DEL would fail every print).
  RunResult bad_name = run_wardnode({"init", "--dir", (t.path() / "y").string(), "--office-code", "26734",
                                     "--office-name", "UBND\x7fX", "--tier", "ward", "--scope", "79/26734"});
  CHECK(bad_name.exit_code != 0);
  CHECK(bad_name.err.find("office_name") != std::string::npos);
}

TEST_CASE("run refuses a port another node serves on", "[node][cli]") {
  TempDir t;
  init_office_with_admin(t.path() / "a");
  init_office_with_admin(t.path() / "b");
  NodeProcess a(t.path() / "a");
  a.start();
  // Two nodes on one port would split the office's requests between two databases.
  RunResult b = run_wardnode({"run", "--dir", (t.path() / "b").string(), "--listen",
                              "127.0.0.1:" + std::to_string(a.port())});
  INFO(b.err);
  CHECK(b.exit_code == 1);
  CHECK(b.err.find("cannot listen on 127.0.0.1:" + std::to_string(a.port())) != std::string::npos);
  CHECK(Client(a.port()).get("/api/v1/health").status == 200);
}

TEST_CASE("over HTTPS a client beyond its connections is closed at once, holding no worker", "[node][cli][tls]") {
  TempDir t;
  fs::path d = t.path() / "office";
  REQUIRE(run_wardnode({"init", "--dir", d.string(), "--office-code", "26734", "--office-name", "X", "--tier", "ward",
                        "--scope", "79/760/26734"}).exit_code == 0);
  set_config(d, "tls", "on");
  set_config(d, "http_client_connections", "2");
  NodeProcess node(d);
  node.use_tls(d / "tls" / "office.crt");
  node.start();
  // Two silent connections from 127.0.0.2 (taken by workers), then a third: an
  // answer over TLS would wait for a handshake this client never starts.
  std::vector<int> fds;
  for (int i = 0; i < 2; ++i) {
    fds.push_back(connect_from("127.0.0.2", node.port()));
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  int third = connect_from("127.0.0.2", node.port());
  auto start = std::chrono::steady_clock::now();
  char c = 0;
  ssize_t n = ::recv(third, &c, 1, 0);  // 0: closed by the node (5 s receive timeout otherwise)
  CHECK(n == 0);
  CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(3));
  ::close(third);
  Client https(node.port(), d / "tls" / "office.crt");
  CHECK(https.get("/api/v1/health").status == 200);
  for (int fd : fds) ::close(fd);
}

TEST_CASE("over HTTPS the session cookie is Secure", "[node][cli][tls]") {
  TempDir t;
  fs::path d = t.path() / "office";
  copy_dir(demo_template(), d);
  if (!fs::exists(d / "tls" / "office.crt")) REQUIRE(run_wardnode({"tls", "--dir", d.string()}).exit_code == 0);
  set_config(d, "tls", "on");
  NodeProcess node(d);
  node.use_tls(d / "tls" / "office.crt");
  node.start();
  Client c(node.port(), d / "tls" / "office.crt");
  Response r = c.login("motcua", kDemoPassword);
  REQUIRE(r.status == 200);
  CHECK(r.headers["Set-Cookie"].find("; Secure") != std::string::npos);
  CHECK(r.headers["Set-Cookie"].find("HttpOnly") != std::string::npos);
}

// Goal: the tests' config helper keeps repeated `peer` lines (a ward with two
// upstream peers): set_config replaces only the first, add_config appends.
TEST_CASE("set_config keeps the other lines of a repeatable key", "[node][cli]") {
  TempDir t;
  std::ofstream(t.path() / "wardnode.conf") << "scope = 79/760/26734\n"
                                            << "peer = tcp://127.0.0.1:7001 AAA\n"
                                            << "peer = tcp://127.0.0.1:7002 BBB\n";
  set_config(t.path(), "peer", "tcp://127.0.0.1:7003 CCC");
  add_config(t.path(), "peer", "tcp://127.0.0.1:7004 DDD");
  set_config(t.path(), "sync_heartbeat_ms", "200");
  std::ifstream in(t.path() / "wardnode.conf");
  std::string text;
  for (std::string line; std::getline(in, line);) text += line + "\n";
  CHECK(text == "scope = 79/760/26734\n"
                "peer = tcp://127.0.0.1:7003 CCC\n"
                "peer = tcp://127.0.0.1:7002 BBB\n"
                "peer = tcp://127.0.0.1:7004 DDD\n"
                "sync_heartbeat_ms = 200\n");
}

TEST_CASE("a database left by an older wardnode is upgraded in place, and the log says so once", "[node][cli]") {
  TempDir t;
  fs::path d = t.path() / "office";
  init_office_with_admin(d);
  // Back to schema 6, as the wardnode before compact search summaries left it.
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((d / "node.db").c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "PRAGMA user_version=6", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);

  RunResult first = run_wardnode({"user", "passwd", "--dir", d.string(), "--username", "admin"}, "mat-khau-moi-nhe\n");
  INFO(first.err);
  CHECK(first.exit_code == 0);
  CHECK(first.err.find("upgrading the database from schema 6 to 9") != std::string::npos);
  RunResult again = run_wardnode({"user", "passwd", "--dir", d.string(), "--username", "admin"}, "mat-khau-moi-nhe\n");
  CHECK(again.exit_code == 0);
  CHECK(again.err.find("upgrading") == std::string::npos);
  NodeProcess node(d);
  node.start();
  Client c(node.port());
  CHECK(c.login("admin", "mat-khau-moi-nhe").status == 200);
}
