// wardsync-bench replicate: replication between real processes on 127.0.0.1,
// measured twice, side by side:
//  - "wardnode": whole nodes (`wardnode run`) enrolled with the CLI (authority,
//    certificates, peer lines), CURVE + ZAP admission from certificates, the
//    node's schema and dossiers, HTTP writes;
//  - "engine": `wardsync-peer`, the sync engine alone (store, writer,
//    replicator) with a two-field schema, as a floor for what the node adds.
// Figures:
//  1. catch-up: a ward holding N changes written offline connects to its
//     district; time from starting the ward until the district has committed
//     all N (chain-verified, durably applied): changes/s end to end. The city
//     is offline meanwhile (its WAN link down): in the field it runs on another
//     machine, and here it would take a third of these two cores. It comes
//     online next and catches up from the district (changes/s of relayed
//     changes, as a second figure).
//  2. bytes on the wire per body byte (the sender's count of bytes handed to
//     ZeroMQ, zstd-compressed batches) and per change.
//  3. live push over two hops: 1,000 fresh changes written at a second ward
//     (wardnode: 1,000 dossiers POSTed over HTTP by 8 clients) travel ward ->
//     district -> city; time from the last write acknowledged (durable at the
//     ward) to the last change committed at the city, and from the first write.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"

namespace wardsync::bench {

namespace {

using Ms = std::chrono::milliseconds;
using Steady = std::chrono::steady_clock;
namespace fs = std::filesystem;

struct Figures {
  bool ok = false;
  std::size_t changes = 0;
  double body_bytes = 0;
  double catchup_per_s = 0;
  double first_change_ms = -1;      // process started -> first change committed at the district
  double steady_per_s = 0;          // from that first change on
  double city_catchup_per_s = 0;    // then the city started -> all N committed there (from the district)
  double wire_bytes = 0;
  double live_after_last_ms = -1;   // last write acknowledged -> visible at the city
  double live_after_first_ms = -1;  // first write sent -> last visible at the city
  double live_writes_ms = -1;       // the ward's own durable writes
  std::string note;
};

std::string run_capture(const std::vector<std::string>& args, int* rc = nullptr) {
  std::string cmd;
  for (const auto& a : args) cmd += "'" + a + "' ";
  cmd += "2>&1";
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  int st = pclose(p);
  if (rc) *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return out;
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "a");
    if (f) {
      dup2(fileno(f), 1);
      dup2(fileno(f), 2);
    }
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

void stop(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  int st = 0;
  waitpid(pid, &st, 0);
}

// Runs `sql` (one row, int64 columns) on the database at `db`, read-only.
std::vector<std::int64_t> query(const fs::path& db, const std::string& sql, const std::string& arg) {
  std::vector<std::int64_t> out;
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, sql.c_str(), -1, &st, nullptr) == SQLITE_OK) {
      if (!arg.empty()) sqlite3_bind_text(st, 1, arg.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW)
        for (int i = 0; i < sqlite3_column_count(st); ++i) out.push_back(sqlite3_column_int64(st, i));
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return out;
}

std::int64_t held_seq(const fs::path& db, const std::string& scope) {
  auto r = query(db, "SELECT seq FROM streams WHERE scope=?", scope);
  return r.empty() ? 0 : r[0];
}

// Sum of body sizes and count of the changes of `scope`'s streams.
std::pair<std::int64_t, std::int64_t> bodies_of(const fs::path& db, const std::string& scope) {
  auto r = query(db,
                 "SELECT coalesce(sum(length(c.body)), 0), count(*) FROM changes c JOIN streams s ON s.id = c.stream "
                 "WHERE s.scope = ?",
                 scope);
  return r.size() == 2 ? std::make_pair(r[0], r[1]) : std::make_pair<std::int64_t, std::int64_t>(0, 0);
}

// Polls every 2 ms with one connection and one prepared statement (each step
// reads a fresh WAL snapshot): opening the database per poll would cost the
// nodes being measured a good share of a core.
bool wait_seq(const fs::path& db, const std::string& scope, std::int64_t want, int seconds, Steady::time_point& when) {
  auto end = Steady::now() + std::chrono::seconds(seconds);
  sqlite3* h = nullptr;
  sqlite3_stmt* st = nullptr;
  bool found = false;
  while (!found && Steady::now() < end) {
    if (st == nullptr) {
      if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
          sqlite3_prepare_v2(h, "SELECT seq FROM streams WHERE scope=?", -1, &st, nullptr) != SQLITE_OK) {
        sqlite3_finalize(st);
        st = nullptr;
        sqlite3_close(h);
        h = nullptr;
        std::this_thread::sleep_for(Ms(20));  // not created yet
        continue;
      }
      sqlite3_busy_timeout(h, 1000);
      sqlite3_bind_text(st, 1, scope.c_str(), -1, SQLITE_TRANSIENT);
    }
    if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) >= want) {
      when = Steady::now();
      found = true;
    }
    sqlite3_reset(st);
    if (!found) std::this_thread::sleep_for(Ms(2));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return found;
}

double ms_between(Steady::time_point a, Steady::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

// --- whole nodes -----------------------------------------------------------

struct Http {
  explicit Http(int port) : s("127.0.0.1", static_cast<Poco::UInt16>(port)) {
    s.setKeepAlive(true);
    s.setTimeout(Poco::Timespan(30, 0));
  }
  int request(const std::string& method, const std::string& path, const std::string& body, std::string& out,
              const std::map<std::string, std::string>& headers = {}) {
    Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto& [k, v] : headers) req.set(k, v);
    if (!body.empty()) {
      req.setContentType("application/json");
      req.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse resp;
    std::istream& in = s.receiveResponse(resp);
    std::ostringstream ss;
    ss << in.rdbuf();
    out = ss.str();
    if (resp.has("Set-Cookie")) cookie = resp.get("Set-Cookie").substr(0, resp.get("Set-Cookie").find(';'));
    return resp.getStatus();
  }
  Poco::Net::HTTPClientSession s;
  std::string cookie;
};

double metric_sum(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  double sum = 0;
  for (std::string line; std::getline(in, line);)
    if (line.rfind(name + "{", 0) == 0) sum += std::stod(line.substr(line.rfind(' ') + 1));
  return sum;
}

bool wait_health(int port, int seconds) {
  auto end = Steady::now() + std::chrono::seconds(seconds);
  while (Steady::now() < end) {
    try {
      Http h(port);
      std::string out;
      if (h.request("GET", "/api/v1/health", "", out) == 200) return true;
    } catch (const std::exception&) {
    }
    std::this_thread::sleep_for(Ms(20));
  }
  return false;
}

const char* kDossier =
    R"({"applicant":{"name":"Phạm Thị Hoa","cccd":"079099054321","dob":"1990-02-01","phone":"0901234567",)"
    R"("address":"Số 3 Lê Lợi, Phường Bến Thành"},"procedure_code":"1.001193","channel":"counter",)"
    R"("components":["Tờ khai đăng ký khai sinh"]})";

Figures measure_wardnode(const std::string& bin, std::size_t n, const fs::path& dir) {
  Figures f;
  int rc = 0;
  auto wn = [&](std::vector<std::string> args, const std::string& input = "") {
    args.insert(args.begin(), bin);
    std::string out;
    if (input.empty()) {
      out = run_capture(args, &rc);
    } else {
      std::string cmd = "printf '%s\\n' '" + input + "' | ";
      for (const auto& a : args) cmd += "'" + a + "' ";
      rc = std::system((cmd + ">/dev/null 2>&1").c_str()) == 0 ? 0 : 1;
    }
    if (rc != 0) f.note = "failed: wardnode " + args[1] + " " + (args.size() > 2 ? args[2] : "") + ": " + out;
    return rc == 0;
  };
  fs::path auth = dir / "authority";
  int base = 30000 + static_cast<int>(getpid() % 15000);
  std::map<std::string, int> http{{"city", base}, {"district", base + 1}, {"ward", base + 2}, {"ward2", base + 3}};
  std::string ep_c = "tcp://127.0.0.1:" + std::to_string(base + 100);
  std::string ep_d = "tcp://127.0.0.1:" + std::to_string(base + 101);
  const std::map<std::string, std::string> scope{
      {"city", "79"}, {"district", "79/760"}, {"ward", "79/760/26734"}, {"ward2", "79/760/26737"}};
  std::map<std::string, std::string> transport;
  if (!wn({"authority", "create", "--out", auth.string()})) return f;
  for (const auto& name : {"city", "district", "ward", "ward2"}) {
    fs::path d = dir / name;
    std::string tier = std::string(name) == "city" ? "city" : std::string(name) == "district" ? "district" : "ward";
    std::string s = scope.at(name);
    if (!wn({"init", "--dir", d.string(), "--office-code", s.substr(s.rfind('/') + 1), "--office-name",
             std::string("UBND ") + name, "--tier", tier, "--scope", s}))
      return f;
    fs::path req = dir / (std::string(name) + ".request");
    if (!wn({"cert", "request", "--dir", d.string(), "--out", req.string()})) return f;
    std::ifstream in(req);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("transport_key = ", 0) == 0) transport[name] = line.substr(16);
    fs::path cert = dir / (std::string(name) + ".cert");
    if (!wn({"cert", "issue", "--authority", auth.string(), "--request", req.string(), "--out", cert.string()}) ||
        !wn({"cert", "install", "--dir", d.string(), (auth / "authority.pub").string()}) ||
        !wn({"cert", "install", "--dir", d.string(), cert.string()}))
      return f;
  }
  // Replaces the key's line (init writes every key once; a second line would stop the node).
  auto set_conf = [&](const std::string& name, const std::string& key, const std::string& value) {
    const fs::path p = dir / name / "wardnode.conf";
    std::ifstream in(p);
    std::string text, line;
    bool done = false;
    while (std::getline(in, line)) {
      if (!done && line.rfind(key + " =", 0) == 0) {
        line = key + " = " + value;
        done = true;
      }
      text += line + "\n";
    }
    if (!done) text += key + " = " + value + "\n";
    in.close();
    std::ofstream(p) << text;
  };
  set_conf("city", "sync_listen", ep_c);
  set_conf("district", "sync_listen", ep_d);
  if (!wn({"cert", "install", "--dir", (dir / "city").string(), (dir / "district.cert").string()}) ||
      !wn({"peer", "add", "--dir", (dir / "district").string(), ep_c, transport["city"]}))
    return f;
  for (const auto& w : {"ward", "ward2"}) {
    if (!wn({"cert", "install", "--dir", (dir / "district").string(), (dir / (std::string(w) + ".cert")).string()}) ||
        !wn({"peer", "add", "--dir", (dir / w).string(), ep_d, transport["district"]}))
      return f;
  }
  if (!wn({"user", "add", "--dir", (dir / "ward2").string(), "--username", "bench", "--display-name", "Bench",
           "--role", "leader"},
          "bench-password"))
    return f;
  // The ward writes offline first (the bulk loader: group commit through the Writer).
  if (!wn({"demo", "--dir", (dir / "ward").string(), "--dossiers", std::to_string(n)})) return f;
  auto [bodies, count] = bodies_of(dir / "ward" / "node.db", scope.at("ward"));
  std::int64_t total = held_seq(dir / "ward" / "node.db", scope.at("ward"));
  f.changes = static_cast<std::size_t>(total);
  f.body_bytes = static_cast<double>(bodies);
  (void)count;

  auto run = [&](const std::string& name) {
    return spawn({bin, "run", "--dir", (dir / name).string(), "--listen", "127.0.0.1:" + std::to_string(http[name])},
                 dir / (name + ".log"));
  };
  pid_t district = run("district");
  std::vector<pid_t> pids{district};
  auto finish = [&] {
    for (auto it = pids.rbegin(); it != pids.rend(); ++it) stop(*it);
  };
  if (!wait_health(http["district"], 60)) {
    f.note = "the district did not start";
    finish();
    return f;
  }
  auto t0 = Steady::now();
  pids.push_back(run("ward"));
  Steady::time_point t1, t_first;
  bool caught_up = wait_seq(dir / "district" / "node.db", scope.at("ward"), 1, 900, t_first) &&
                   wait_seq(dir / "district" / "node.db", scope.at("ward"), total, 900, t1);
  f.catchup_per_s = caught_up ? static_cast<double>(total) / std::chrono::duration<double>(t1 - t0).count() : 0;
  if (caught_up) {
    f.first_change_ms = ms_between(t0, t_first);
    f.steady_per_s = static_cast<double>(total) / std::chrono::duration<double>(t1 - t_first).count();
  }
  std::this_thread::sleep_for(Ms(1200));  // the ward publishes its counters twice a second
  try {
    Http h(http["ward"]);
    std::string m;
    if (h.request("GET", "/metrics", "", m) == 200) f.wire_bytes = metric_sum(m, "wardsync_peer_bytes_sent_total");
  } catch (const std::exception& e) {
    f.note = std::string("metrics: ") + e.what();
  }
  // The city comes online and catches up from the district.
  auto t_city = Steady::now();
  pids.push_back(run("city"));
  Steady::time_point t2;
  bool city_caught = caught_up && wait_seq(dir / "city" / "node.db", scope.at("ward"), total, 900, t2);
  if (city_caught)
    f.city_catchup_per_s = static_cast<double>(total) / std::chrono::duration<double>(t2 - t_city).count();

  // Live push: 1,000 dossiers at ward 2 over HTTP, 8 clients, each answered
  // once durable; then ward 2 -> district -> city.
  pids.push_back(run("ward2"));
  bool live_ok = false;
  if (caught_up && city_caught && wait_health(http["ward2"], 60)) {
    // Both links up before writing: the figure is replication, not connecting.
    auto links_up = [&] {
      try {
        Http a(http["ward2"]), b(http["district"]);
        std::string ma, mb;
        a.request("GET", "/metrics", "", ma);
        b.request("GET", "/metrics", "", mb);
        return metric_sum(ma, "wardsync_peer_connected") == 1 && metric_sum(mb, "wardsync_peer_connected") >= 3;
      } catch (const std::exception&) {
        return false;
      }
    };
    for (int i = 0; i < 300 && !links_up(); ++i) std::this_thread::sleep_for(Ms(50));
    Http login(http["ward2"]);
    std::string out;
    login.request("POST", "/api/v1/sessions", R"({"username":"bench","password":"bench-password"})", out);
    std::string csrf;
    auto at = out.find("\"csrf_token\":\"");
    if (at != std::string::npos) csrf = out.substr(at + 14, out.find('"', at + 14) - at - 14);
    std::int64_t before = held_seq(dir / "ward2" / "node.db", scope.at("ward2"));
    const int clients = 8, writes = 1000;
    std::atomic<int> next{0}, failures{0};
    auto first = Steady::now();
    std::vector<std::thread> threads;
    for (int c = 0; c < clients; ++c) {
      threads.emplace_back([&] {
        try {
          Http h(http["ward2"]);
          std::string o;
          while (next.fetch_add(1) < writes) {
            if (h.request("POST", "/api/v1/dossiers", kDossier, o, {{"Cookie", login.cookie}, {"X-CSRF-Token", csrf}}) != 201)
              ++failures;
          }
        } catch (const std::exception&) {
          ++failures;
        }
      });
    }
    for (auto& t : threads) t.join();
    auto last = Steady::now();
    std::int64_t want = held_seq(dir / "ward2" / "node.db", scope.at("ward2"));
    Steady::time_point t3;
    live_ok = failures == 0 && want - before >= writes &&
              wait_seq(dir / "city" / "node.db", scope.at("ward2"), want, 120, t3);
    if (live_ok) {
      f.live_after_last_ms = ms_between(last, t3);
      f.live_after_first_ms = ms_between(first, t3);
      f.live_writes_ms = ms_between(first, last);
    } else {
      f.note = "live: " + std::to_string(failures.load()) + " writes failed";
    }
  }
  finish();
  f.ok = caught_up && city_caught && live_ok;
  return f;
}

// --- the engine alone --------------------------------------------------------

std::string last_value(const fs::path& log, const std::string& key) {
  std::ifstream in(log);
  std::string line, value;
  while (std::getline(in, line)) {
    auto p = line.find(key + "=");
    if (p == std::string::npos) continue;
    std::istringstream ss(line.substr(p + key.size() + 1));
    ss >> value;
  }
  return value;
}

Figures measure_engine(const std::string& peer_bin, std::size_t n, const fs::path& dir) {
  Figures f;
  auto keys = [&](const std::string& name) {
    run_capture({peer_bin, "keys", "--dir", (dir / name).string()});
    std::string out = run_capture({peer_bin, "show", "--dir", (dir / name).string()});
    return out.substr(out.find(' ') + 1, 40);
  };
  std::string kw = keys("ward"), kd = keys("district"), kc = keys("city"), kw2 = keys("ward2");
  int base = 45000 + static_cast<int>(getpid() % 15000);
  std::string ep_d = "tcp://127.0.0.1:" + std::to_string(base);
  std::string ep_c = "tcp://127.0.0.1:" + std::to_string(base + 1);
  const std::string ward_scope = "79/760/26734", ward2_scope = "79/760/26737";
  {
    pid_t w = spawn({peer_bin, "run", "--dir", (dir / "ward").string(), "--scope", ward_scope, "--write",
                     std::to_string(n), "--seconds", "0"},
                    dir / "ward-offline.log");
    int st = 0;
    waitpid(w, &st, 0);
  }
  f.changes = n;
  f.body_bytes = static_cast<double>(bodies_of(dir / "ward" / "node.db", ward_scope).first);
  pid_t district = spawn({peer_bin, "run", "--dir", (dir / "district").string(), "--scope", "79/760", "--listen",
                          ep_d, "--peer", ep_c + "=" + kc, "--subscribe", "79/760/", "--allow", kw, "--allow", kw2},
                         dir / "district.log");
  std::this_thread::sleep_for(Ms(500));
  auto t0 = Steady::now();
  pid_t ward = spawn({peer_bin, "run", "--dir", (dir / "ward").string(), "--scope", ward_scope, "--peer",
                      ep_d + "=" + kd, "--subscribe", ward_scope},
                     dir / "ward.log");
  Steady::time_point t1, t_first;
  bool caught_up = wait_seq(dir / "district" / "node.db", ward_scope, 1, 900, t_first) &&
                   wait_seq(dir / "district" / "node.db", ward_scope, static_cast<std::int64_t>(n), 900, t1);
  f.catchup_per_s = caught_up ? static_cast<double>(n) / std::chrono::duration<double>(t1 - t0).count() : 0;
  if (caught_up) {
    f.first_change_ms = ms_between(t0, t_first);
    f.steady_per_s = static_cast<double>(n) / std::chrono::duration<double>(t1 - t_first).count();
  }
  std::this_thread::sleep_for(Ms(1200));
  std::string wire = last_value(dir / "ward.log", "bytes_out");
  f.wire_bytes = wire.empty() ? 0 : std::stod(wire);
  auto t_city = Steady::now();
  pid_t city = spawn({peer_bin, "run", "--dir", (dir / "city").string(), "--scope", "79", "--listen", ep_c,
                      "--subscribe", "", "--allow", kd},
                     dir / "city.log");
  Steady::time_point t2;
  bool city_caught = caught_up && wait_seq(dir / "city" / "node.db", ward_scope, static_cast<std::int64_t>(n), 900, t2);
  if (city_caught) f.city_catchup_per_s = static_cast<double>(n) / std::chrono::duration<double>(t2 - t_city).count();
  pid_t ward2 = spawn({peer_bin, "run", "--dir", (dir / "ward2").string(), "--scope", ward2_scope, "--peer",
                       ep_d + "=" + kd, "--subscribe", ward2_scope, "--write", "1000", "--write-after", "1500"},
                      dir / "ward2.log");
  Steady::time_point t3;
  bool city_fresh = wait_seq(dir / "city" / "node.db", ward2_scope, 1000, 120, t3);
  auto epoch_of = [&](const std::string& key) {
    std::string v = run_capture({"grep", "-h", key, (dir / "ward2.log").string()});
    return v.size() > key.size() + 1 ? std::stoll(v.substr(key.size() + 1)) : 0LL;
  };
  long long write_start_ms = epoch_of("write-start"), write_done_ms = epoch_of("write-done");
  long long now_ms = std::chrono::duration_cast<Ms>(std::chrono::system_clock::now().time_since_epoch()).count();
  long long t3_ms = now_ms - std::chrono::duration_cast<Ms>(Steady::now() - t3).count();
  for (pid_t p : {ward2, ward, district, city}) stop(p);
  f.ok = caught_up && city_caught && city_fresh && write_start_ms > 0;
  if (city_fresh && write_done_ms > 0) {
    f.live_after_first_ms = static_cast<double>(t3_ms - write_start_ms);
    f.live_after_last_ms = static_cast<double>(t3_ms - write_done_ms);
    f.live_writes_ms = static_cast<double>(write_done_ms - write_start_ms);
  }
  return f;
}

std::string cell(double v, const char* fmt, bool ok = true) {
  if (!ok || v < 0) return "-";
  char buf[64];
  std::snprintf(buf, sizeof buf, fmt, v);
  return buf;
}

}  // namespace

int run_replicate(int argc, char** argv) {
  std::size_t n = 100000;
  std::string peer_bin = WARDSYNC_PEER_BIN, node_bin = WARDNODE_BIN;
  bool engine = true;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::printf(
          "usage: wardsync-bench replicate [--changes N=100000] [--no-engine] [--wardnode PATH] [--peer-bin PATH]\n"
          "Real processes on 127.0.0.1 (ZeroMQ, CURVE, ZAP), side by side: whole wardnode\n"
          "processes enrolled with the CLI, and the sync engine alone (wardsync-peer):\n"
          "catch-up ward -> district of N changes (the city offline meanwhile), then the\n"
          "city's catch-up from the district, bytes on the wire per body byte, and\n"
          "1,000 fresh changes ward -> district -> city. --no-engine: wardnode only.\n");
      return 0;
    }
    if (a == "--changes" && i + 1 < argc) n = std::stoul(argv[++i]);
    else if (a == "--peer-bin" && i + 1 < argc) peer_bin = argv[++i];
    else if (a == "--wardnode" && i + 1 < argc) node_bin = argv[++i];
    else if (a == "--no-engine") engine = false;
    else {
      std::fprintf(stderr, "wardsync-bench replicate: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  print_machine_header("wardsync-bench replicate");
  fs::path dir = make_run_dir("");
  fs::create_directories(dir / "wardnode");
  fs::create_directories(dir / "engine");
  Figures node = measure_wardnode(node_bin, n, dir / "wardnode");
  std::printf("load after the wardnode run: %s\n", load_average().c_str());
  Figures eng;
  if (engine) {
    eng = measure_engine(peer_bin, n, dir / "engine");
    std::printf("load after the engine run:   %s\n", load_average().c_str());
  }
  auto per_body = [](const Figures& f) { return f.body_bytes > 0 ? f.wire_bytes / f.body_bytes : -1; };
  auto per_change = [](const Figures& f) { return f.changes > 0 ? f.wire_bytes / static_cast<double>(f.changes) : -1; };
  auto body_avg = [](const Figures& f) { return f.changes > 0 ? f.body_bytes / static_cast<double>(f.changes) : -1; };
  std::printf("\nworkload: a ward's %zu changes written offline (wardnode: dossiers from the bulk demo\n"
              "loader plus the demo office; engine: two-field records), then 1,000 fresh changes\n\n",
              n);
  std::printf("%-56s %12s %12s   %s\n", "measure", "wardnode", "engine", "target");
  std::printf("%-56s %12s %12s\n", "changes caught up", cell(double(node.changes), "%.0f").c_str(),
              cell(double(eng.changes), "%.0f", engine).c_str());
  std::printf("%-56s %12s %12s\n", "mean change body, bytes", cell(body_avg(node), "%.0f").c_str(),
              cell(body_avg(eng), "%.0f", engine).c_str());
  std::printf("%-56s %12s %12s   >= 100000\n", "catch-up ward -> district, changes/s end to end",
              cell(node.catchup_per_s, "%.0f").c_str(), cell(eng.catchup_per_s, "%.0f", engine).c_str());
  std::printf("%-56s %12s %12s\n", "  ward process started -> first change at district, ms",
              cell(node.first_change_ms, "%.0f").c_str(), cell(eng.first_change_ms, "%.0f", engine).c_str());
  std::printf("%-56s %12s %12s\n", "  changes/s from the first change on",
              cell(node.steady_per_s, "%.0f").c_str(), cell(eng.steady_per_s, "%.0f", engine).c_str());
  std::printf("%-56s %12s %12s\n", "then the city starts: district -> city, changes/s",
              cell(node.city_catchup_per_s, "%.0f").c_str(), cell(eng.city_catchup_per_s, "%.0f", engine).c_str());
  std::printf("%-56s %12s %12s   <= 0.6\n", "bytes on the wire per body byte (zstd batches)",
              cell(per_body(node), "%.3f").c_str(), cell(per_body(eng), "%.3f", engine).c_str());
  std::printf("%-56s %12s %12s\n", "bytes on the wire per change", cell(per_change(node), "%.1f").c_str(),
              cell(per_change(eng), "%.1f", engine).c_str());
  std::printf("%-56s %12s %12s   <= 50\n", "1,000 fresh changes: last write durable -> at city, ms",
              cell(node.live_after_last_ms, "%.1f").c_str(), cell(eng.live_after_last_ms, "%.1f", engine).c_str());
  std::printf("%-56s %12s %12s\n", "  first write sent -> last at city, ms", cell(node.live_after_first_ms, "%.1f").c_str(),
              cell(eng.live_after_first_ms, "%.1f", engine).c_str());
  std::printf("%-56s %12s %12s\n", "  of which the ward's own durable writes, ms", cell(node.live_writes_ms, "%.1f").c_str(),
              cell(eng.live_writes_ms, "%.1f", engine).c_str());
  bool ok = node.ok && (!engine || eng.ok);
  if (!node.note.empty()) std::printf("wardnode: %s\n", node.note.c_str());
  std::printf("check:    %s\n", ok ? "OK: every change arrived" : "FAILED: a node did not receive everything");
  std::error_code ec;
  if (ok) fs::remove_all(dir, ec);
  else std::printf("logs kept in %s\n", dir.c_str());
  return ok ? 0 : 1;
}

}  // namespace wardsync::bench
