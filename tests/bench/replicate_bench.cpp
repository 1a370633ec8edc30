// wardsync-bench replicate: real processes (wardsync-peer: a store, a writer and
// a replicator over ZeroMQ with CURVE) on 127.0.0.1.
//  1. catch-up: a ward holding N changes written offline connects to its
//     district; time until the district has committed all N (chain-verified,
//     durably applied): changes/s end to end.
//  2. bytes on the wire per change (zstd-compressed batches, from the sender's
//     own count of bytes handed to ZeroMQ) against the body size.
//  3. live push over two hops: a ward writes 1,000 fresh changes while connected
//     to a district that is connected to a city; time from the first write to
//     the last change visible in the city's database.
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench.hpp"

namespace wardsync::bench {

namespace {

using Ms = std::chrono::milliseconds;
namespace fs = std::filesystem;

std::string run_capture(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, p)) out += buf;
  pclose(p);
  return out;
}

pid_t spawn(const std::vector<std::string>& args, const fs::path& log) {
  pid_t pid = fork();
  if (pid == 0) {
    FILE* f = std::fopen(log.c_str(), "w");
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

// The stream's sequence the node at `db` holds for `scope` (read-only, WAL).
std::int64_t held_seq(const fs::path& db, const std::string& scope) {
  sqlite3* h = nullptr;
  std::int64_t seq = 0;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_busy_timeout(h, 1000);
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(h, "SELECT seq FROM streams WHERE scope=?", -1, &st, nullptr) == SQLITE_OK) {
      sqlite3_bind_text(st, 1, scope.c_str(), -1, SQLITE_TRANSIENT);
      if (sqlite3_step(st) == SQLITE_ROW) seq = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return seq;
}

std::int64_t body_bytes(const fs::path& db) {
  sqlite3* h = nullptr;
  std::int64_t n = 0;
  if (sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK) {
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(h, "SELECT sum(length(body)) FROM changes", -1, &st, nullptr);
    if (st && sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
  }
  sqlite3_close(h);
  return n;
}

bool wait_seq(const fs::path& db, const std::string& scope, std::int64_t want, int seconds,
              std::chrono::steady_clock::time_point& when) {
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (std::chrono::steady_clock::now() < end) {
    if (held_seq(db, scope) >= want) {
      when = std::chrono::steady_clock::now();
      return true;
    }
    std::this_thread::sleep_for(Ms(1));
  }
  return false;
}

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

}  // namespace

int run_replicate(int argc, char** argv) {
  std::size_t n = 100000;
  std::string peer_bin = WARDSYNC_PEER_BIN;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--help") {
      std::printf(
          "usage: wardsync-bench replicate [--changes N=100000] [--peer-bin PATH]\n"
          "Real wardsync-peer processes on 127.0.0.1 (ZeroMQ, CURVE, ZAP):\n"
          "catch-up ward -> district of N changes, bytes on the wire per change,\n"
          "and 1,000 fresh changes ward -> district -> city.\n");
      return 0;
    }
    if (a == "--changes" && i + 1 < argc) n = std::stoul(argv[++i]);
    else if (a == "--peer-bin" && i + 1 < argc) peer_bin = argv[++i];
    else {
      std::fprintf(stderr, "wardsync-bench replicate: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  print_machine_header("wardsync-bench replicate");
  fs::path dir = make_run_dir("");
  auto keys = [&](const std::string& name) {
    run_capture(peer_bin + " keys --dir " + (dir / name).string());
    std::string out = run_capture(peer_bin + " show --dir " + (dir / name).string());
    return out.substr(out.find(' ') + 1, 40);
  };
  std::string kw = keys("ward"), kd = keys("district"), kc = keys("city"), kw2 = keys("ward2");
  int base = 30000 + static_cast<int>(getpid() % 20000);
  std::string ep_d = "tcp://127.0.0.1:" + std::to_string(base);
  std::string ep_c = "tcp://127.0.0.1:" + std::to_string(base + 1);
  const std::string ward_scope = "79/760/26734";
  const std::string ward2_scope = "79/760/26737";

  // The ward writes offline first.
  {
    pid_t w = spawn({peer_bin, "run", "--dir", (dir / "ward").string(), "--scope", ward_scope, "--write",
                     std::to_string(n), "--seconds", "0"},
                    dir / "ward-offline.log");
    int st = 0;
    waitpid(w, &st, 0);
  }
  std::int64_t bodies = body_bytes(dir / "ward" / "node.db");
  pid_t city = spawn({peer_bin, "run", "--dir", (dir / "city").string(), "--scope", "79", "--listen", ep_c,
                      "--subscribe", "", "--allow", kd},
                     dir / "city.log");
  pid_t district = spawn({peer_bin, "run", "--dir", (dir / "district").string(), "--scope", "79/760",
                          "--listen", ep_d, "--peer", ep_c + "=" + kc, "--subscribe", "79/760/", "--allow", kw,
                          "--allow", kw2},
                         dir / "district.log");
  std::this_thread::sleep_for(Ms(500));
  auto t0 = std::chrono::steady_clock::now();
  pid_t ward = spawn({peer_bin, "run", "--dir", (dir / "ward").string(), "--scope", ward_scope, "--peer",
                      ep_d + "=" + kd, "--subscribe", ward_scope},
                     dir / "ward.log");
  std::chrono::steady_clock::time_point t1;
  bool caught_up = wait_seq(dir / "district" / "node.db", ward_scope, static_cast<std::int64_t>(n), 600, t1);
  std::this_thread::sleep_for(Ms(1200));  // let the ward print its byte count
  double catchup_s = std::chrono::duration<double>(t1 - t0).count();
  std::string wire = last_value(dir / "ward.log", "bytes_out");
  double wire_bytes = wire.empty() ? 0 : std::stod(wire);

  // Live push over two hops.
  std::chrono::steady_clock::time_point t2;
  bool city_caught = wait_seq(dir / "city" / "node.db", ward_scope, static_cast<std::int64_t>(n), 600, t2);
  pid_t ward2 = spawn({peer_bin, "run", "--dir", (dir / "ward2").string(), "--scope", ward2_scope, "--peer",
                       ep_d + "=" + kd, "--subscribe", ward2_scope, "--write", "1000", "--write-after", "1500"},
                      dir / "ward2.log");
  std::chrono::steady_clock::time_point t3;
  bool city_fresh = wait_seq(dir / "city" / "node.db", ward2_scope, 1000, 120, t3);
  std::string ws = run_capture("grep -h write-start " + (dir / "ward2.log").string());
  std::string wd = run_capture("grep -h write-done " + (dir / "ward2.log").string());
  long long write_start_ms = ws.size() > 12 ? std::stoll(ws.substr(12)) : 0;
  long long write_done_ms = wd.size() > 11 ? std::stoll(wd.substr(11)) : 0;
  long long now_ms = std::chrono::duration_cast<Ms>(std::chrono::system_clock::now().time_since_epoch()).count();
  long long t3_ms = now_ms - std::chrono::duration_cast<Ms>(std::chrono::steady_clock::now() - t3).count();
  for (pid_t p : {ward2, ward, district, city}) stop(p);

  bool ok = caught_up && city_caught && city_fresh && write_start_ms > 0;
  std::printf("\nworkload: %zu changes from one ward stream, body avg %.1f B\n", n,
              n ? static_cast<double>(bodies) / static_cast<double>(n) : 0.0);
  std::printf("%-58s %14s\n", "measure", "figure");
  std::printf("%-58s %14.0f   (target >= 100000)\n", "catch-up ward -> district, changes/s end to end",
              caught_up ? static_cast<double>(n) / catchup_s : 0.0);
  std::printf("%-58s %14.3f   (target <= 0.6)\n", "bytes on the wire per body byte (zstd batches)",
              bodies ? wire_bytes / static_cast<double>(bodies) : 0.0);
  std::printf("%-58s %14.1f\n", "bytes on the wire per change", wire_bytes / static_cast<double>(n));
  std::printf("%-58s %14lld   (target <= 50)\n", "1,000 fresh changes ward -> district -> city, ms",
              city_fresh ? t3_ms - write_start_ms : -1);
  std::printf("%-58s %14lld\n", "  of which the ward's own durable commits, ms", write_done_ms - write_start_ms);
  std::printf("check:    %s\n", ok ? "OK: every change arrived" : "FAILED: a node did not receive everything");
  std::error_code ec;
  if (ok) fs::remove_all(dir, ec);
  else std::printf("logs kept in %s\n", dir.c_str());
  return ok ? 0 : 1;
}

}  // namespace wardsync::bench
