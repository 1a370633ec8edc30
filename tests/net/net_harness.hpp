// The harness of the multi-process replication tests (node_net_test.cpp,
// node_net_trust_test.cpp): a tree of real `wardnode` processes enrolled by one
// authority through the CLI, read-only looks into their databases, /metrics.
#pragma once

#include <sqlite3.h>

#include <chrono>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include <catch2/catch.hpp>

#include "node_process.hpp"

namespace nettest {

namespace fs = std::filesystem;
using namespace wardtest;
using Clock = std::chrono::steady_clock;

// A read-only look into a node's store (WAL: never blocks the running node).
class Db {
 public:
  explicit Db(const fs::path& path) {
    if (sqlite3_open_v2(path.c_str(), &h_, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
      sqlite3_close(h_);
      h_ = nullptr;
    } else {
      sqlite3_busy_timeout(h_, 2000);
    }
  }
  ~Db() { sqlite3_close(h_); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // The sequence held of stream (origin, scope), 0 when none.
  std::int64_t seq(const std::string& origin_hex, const std::string& scope) {
    std::int64_t out = 0;
    query("SELECT seq FROM streams WHERE hex(origin) = upper(?1) AND scope = ?2", {origin_hex, scope},
          [&](sqlite3_stmt* st) { out = sqlite3_column_int64(st, 0); });
    return out;
  }
  // Streams whose origin is `origin_hex`.
  int streams_of(const std::string& origin_hex) {
    int n = 0;
    query("SELECT count(*) FROM streams WHERE hex(origin) = upper(?1) AND seq > 0", {origin_hex},
          [&](sqlite3_stmt* st) { n = sqlite3_column_int(st, 0); });
    return n;
  }
  int count(const std::string& collection) {
    int n = 0;
    query("SELECT count(*) FROM records WHERE collection = ?1", {collection},
          [&](sqlite3_stmt* st) { n = sqlite3_column_int(st, 0); });
    return n;
  }
  bool has_record(const std::string& collection, const std::string& id_hex) {
    bool found = false;
    query("SELECT 1 FROM records WHERE collection = ?1 AND hex(id) = upper(?2)", {collection, id_hex},
          [&](sqlite3_stmt*) { found = true; });
    return found;
  }

 private:
  template <typename F>
  void query(const char* sql, const std::vector<std::string>& args, F&& row) {
    if (h_ == nullptr) return;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h_, sql, -1, &st, nullptr) != SQLITE_OK) return;
    for (std::size_t i = 0; i < args.size(); ++i)
      sqlite3_bind_text(st, static_cast<int>(i + 1), args[i].c_str(), -1, SQLITE_TRANSIENT);
    while (sqlite3_step(st) == SQLITE_ROW) row(st);
    sqlite3_finalize(st);
  }
  sqlite3* h_ = nullptr;
};

template <typename F>
bool eventually(F&& cond, int seconds) {
  auto end = Clock::now() + std::chrono::seconds(seconds);
  while (Clock::now() < end) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

inline RunResult must_run(const std::vector<std::string>& args, const std::string& input = "") {
  RunResult r = run_wardnode(args, input);
  INFO("wardnode " << args.front() << ": " << r.err << r.out);
  REQUIRE(r.exit_code == 0);
  return r;
}

inline std::string line_value(const fs::path& file, const std::string& key) {
  std::ifstream in(file);
  for (std::string line; std::getline(in, line);)
    if (line.rfind(key + " = ", 0) == 0) return line.substr(key.size() + 3);
  return "";
}

// One sample of GET /metrics, e.g. metric(text, "wardsync_peer_connected", "inbound").
inline double metric(const std::string& text, const std::string& name, const std::string& peer_part = "") {
  std::istringstream in(text);
  double sum = -1;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name, 0) != 0 || (line.size() > name.size() && line[name.size()] != '{' && line[name.size()] != ' '))
      continue;
    if (!peer_part.empty() && line.find(peer_part) == std::string::npos) continue;
    double v = std::stod(line.substr(line.rfind(' ') + 1));
    sum = sum < 0 ? v : sum + v;
  }
  return sum;
}

struct Node {
  std::string name;
  fs::path dir;
  std::string scope;
  std::string node_id;    // hex
  std::string transport;  // CURVE public key, Z85
  std::string endpoint;   // sync_listen, when it listens
  std::unique_ptr<NodeProcess> proc;
  fs::path db() const { return dir / "node.db"; }
  fs::path cert() const { return dir.parent_path() / (name + ".cert"); }
  std::string metrics() const { return Client(proc->port()).get("/metrics").body; }
};

struct Spec {
  std::string tier;
  std::string scope;
  bool listen = false;     // sets sync_listen (districts, cities)
  int node_number = 1;
  bool enrol = true;       // false: a box nobody certified
  Node* issuer = nullptr;  // a district that enrols it (delegation); default: the authority
  bool may_issue = false;  // its certificate lets it enrol nodes within its scope
  int days = 0;            // the certificate's validity (0: the CLI's default, 730 days)
};

// A tree of nodes enrolled by one authority with the CLI, as an IT admin would.
class Net {
 public:
  Net() { must_run({"authority", "create", "--out", auth().string(), "--name", "test authority"}); }
  fs::path auth() const { return tmp_.path() / "authority"; }
  const fs::path& root() const { return tmp_.path(); }

  Node& add(const std::string& name, const Spec& spec) {
    auto n = std::make_unique<Node>();
    n->name = name;
    n->dir = tmp_.path() / name;
    n->scope = spec.scope;
    std::string office = spec.scope.substr(spec.scope.rfind('/') + 1);
    must_run({"init", "--dir", n->dir.string(), "--office-code", office, "--office-name", "UBND " + name, "--tier",
              spec.tier, "--scope", spec.scope, "--node-number", std::to_string(spec.node_number)});
    fs::path request = tmp_.path() / (name + ".request");
    must_run({"cert", "request", "--dir", n->dir.string(), "--out", request.string()});
    n->node_id = line_value(request, "node_id");
    n->transport = line_value(request, "transport_key");
    // Short heartbeats so a lost link is noticed within the test's patience.
    set_config(n->dir, "sync_heartbeat_ms", "200");
    set_config(n->dir, "sync_peer_timeout_ms", "3000");
    if (spec.listen) {
      n->endpoint = "tcp://127.0.0.1:" + std::to_string(free_port());
      set_config(n->dir, "sync_listen", n->endpoint);
    }
    must_run({"cert", "install", "--dir", n->dir.string(), (auth() / "authority.pub").string()});
    if (spec.enrol) {
      std::vector<std::string> issue{"cert", "issue", "--authority",
                                     spec.issuer ? spec.issuer->dir.string() : auth().string(),
                                     "--request", request.string(), "--out", n->cert().string()};
      if (spec.may_issue) issue.push_back("--may-issue");
      if (spec.days > 0) {
        issue.push_back("--days");
        issue.push_back(std::to_string(spec.days));
      }
      must_run(issue);
      must_run({"cert", "install", "--dir", n->dir.string(), n->cert().string()});
    }
    n->proc = std::make_unique<NodeProcess>(n->dir);
    nodes_.push_back(std::move(n));
    return *nodes_.back();
  }

  // `child` connects to `parent`, which admits it by its certificate (a
  // district that issued it holds it already).
  void link(Node& child, Node& parent, bool install = true) {
    if (install && fs::exists(child.cert())) must_run({"cert", "install", "--dir", parent.dir.string(), child.cert().string()});
    must_run({"peer", "add", "--dir", child.dir.string(), parent.endpoint, parent.transport});
  }

  static void user(Node& n, const std::string& username, const std::string& role) {
    must_run({"user", "add", "--dir", n.dir.string(), "--username", username, "--display-name", "Cán bộ " + username,
              "--role", role},
             std::string(kDemoPassword) + "\n");
  }

 private:
  TempDir tmp_;
  std::vector<std::unique_ptr<Node>> nodes_;
};

inline Client signed_in(Node& n, const std::string& username) {
  Client c(n.proc->port());
  REQUIRE(c.login(username, kDemoPassword).status == 200);
  return c;
}

inline const std::string kDossier =
    R"({"applicant":{"name":"Trần Thị Bình","cccd":"079099054321","dob":"1990-02-01","phone":"0901234567",)"
    R"("address":"Số 3 Lê Lợi"},"procedure_code":"1.001193","channel":"counter",)"
    R"("components":["Tờ khai đăng ký khai sinh"]})";

inline std::string create_dossier(Client& c) {
  Response r = c.post("/api/v1/dossiers", kDossier);
  INFO(r.body);
  REQUIRE(r.status == 201);
  return r.str("id");
}

}  // namespace nettest
