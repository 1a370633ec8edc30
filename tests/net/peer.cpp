// wardsync-peer: a minimal node for multi-process replication tests: a real
// store on a SQLite file, a Writer, and a Replicator over real ZeroMQ sockets
// with CURVE and ZAP. It writes test dossiers on request and reports its state.
//
//   wardsync-peer keys --dir D                 create D/node.key (Ed25519) and D/curve.key
//   wardsync-peer show --dir D                 print "<node id hex> <curve public z85>"
//   wardsync-peer run --dir D --scope S [--listen EP] [--peer EP=Z85]... [--subscribe P]...
//                     [--allow Z85]... [--write N] [--write-after MS] [--seconds T]
//   wardsync-peer state --dir D                print one line per stream: origin scope seq
#include <sodium.h>
#include <zmq.h>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "wardsync/sync/reader.hpp"
#include "wardsync/sync/replicator.hpp"
#include "wardsync/sync/store.hpp"
#include "wardsync/sync/writer.hpp"

namespace ws = wardsync;
namespace fs = std::filesystem;

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

ws::Schema schema() {
  ws::Schema s(1);
  (void)s.add({"dossier", {{"name", ws::MergeType::kLww, false, true}, {"note", ws::MergeType::kLww}}});
  return s;
}

int die(const std::string& msg) {
  std::fprintf(stderr, "wardsync-peer: %s\n", msg.c_str());
  return 2;
}

bool read_curve(const fs::path& dir, ws::CurveKeys& keys) {
  std::ifstream in(dir / "curve.key");
  std::string pub, sec;
  in >> pub >> sec;
  return ws::curve_key_from_z85(pub, keys.public_key) && ws::curve_key_from_z85(sec, keys.secret_key);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) return die("usage: wardsync-peer keys|show|run|state --dir D ...");
  std::string cmd = argv[1];
  fs::path dir;
  std::string scope, listen;
  std::vector<std::string> subscribe, allow;
  std::vector<ws::PeerConfig> peers;
  long write = 0, seconds = 3600, write_after_ms = 0;
  for (int i = 2; i < argc; ++i) {
    std::string a = argv[i];
    std::string v = i + 1 < argc ? argv[i + 1] : "";
    if (a == "--dir") dir = v;
    else if (a == "--scope") scope = v;
    else if (a == "--listen") listen = v;
    else if (a == "--subscribe") subscribe.push_back(v);
    else if (a == "--allow") allow.push_back(v);
    else if (a == "--write") write = std::stol(v);
    else if (a == "--seconds") seconds = std::stol(v);
    else if (a == "--write-after") write_after_ms = std::stol(v);
    else if (a == "--peer") {
      // ENDPOINT=KEY; the key is 40 Z85 characters, which may include '='.
      ws::PeerConfig p;
      bool shaped = v.size() > 41 && v[v.size() - 41] == '=';
      if (shaped) p.endpoint = v.substr(0, v.size() - 41);
      if (!shaped || !ws::curve_key_from_z85(v.substr(v.size() - 40), p.server_public)) {
        return die("--peer wants ENDPOINT=CURVEKEY");
      }
      peers.push_back(p);
    } else {
      return die("unknown option " + a);
    }
    ++i;
  }
  if (dir.empty()) return die("--dir is required");
  ws::ensure_sodium();

  if (cmd == "keys") {
    fs::create_directories(dir);
    ws::Status s = ws::Identity::generate().save(dir / "node.key");
    if (!s.is_ok()) return die(s.to_string());
    ws::CurveKeys k = ws::CurveKeys::generate();
    char sec[41];
    zmq_z85_encode(sec, k.secret_key.data(), 32);
    std::ofstream out(dir / "curve.key");
    out << k.public_z85() << " " << sec << "\n";
    fs::permissions(dir / "curve.key", fs::perms::owner_read | fs::perms::owner_write);
    return 0;
  }
  auto id = ws::Identity::load(dir / "node.key");
  if (!id.is_ok()) return die(id.status().to_string());
  ws::CurveKeys keys;
  if (!read_curve(dir, keys)) return die("bad curve.key");
  if (cmd == "show") {
    std::printf("%s %s\n", ws::to_hex(id.value().public_key()).c_str(), keys.public_z85().c_str());
    return 0;
  }
  std::string db = (dir / "node.db").string();
  if (cmd == "state") {
    auto r = ws::Reader::open(db, schema());
    if (!r.is_ok()) return die(r.status().to_string());
    for (const auto& [key, head] : r.value()->version_vector()) {
      std::printf("%s %s %llu\n", ws::to_hex(key.origin).c_str(), key.scope.c_str(),
                  static_cast<unsigned long long>(head.seq));
    }
    return 0;
  }
  if (cmd != "run") return die("unknown command " + cmd);
  if (scope.empty()) return die("--scope is required");

  ws::SystemClock clock;
  ws::Schema sch = schema();
  ws::StoreOptions opt;
  opt.path = db;
  auto store = ws::Store::open(opt, sch, id.value(), clock);
  if (!store.is_ok()) return die(store.status().to_string());
  ws::Writer writer(std::move(store).value());

  std::set<std::array<std::uint8_t, 32>> admitted;
  for (const auto& z : allow) {
    std::array<std::uint8_t, 32> k{};
    if (!ws::curve_key_from_z85(z, k)) return die("bad --allow key");
    admitted.insert(k);
  }
  ws::ReplicatorOptions ro;
  ro.listen = listen;
  ro.peers = peers;
  ro.keys = keys;
  ro.scopes = subscribe;
  ro.admit = [admitted](const std::array<std::uint8_t, 32>& k) { return admitted.count(k) != 0; };
  ro.peer_timeout = std::chrono::milliseconds(10000);  // sanitizer builds apply slowly
  ro.heartbeat = std::chrono::milliseconds(300);
  auto rep = ws::Replicator::start(writer, ro);
  if (!rep.is_ok()) return die(rep.status().to_string());
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);

  // Writes in groups of 200 transactions, each acknowledged only when durable.
  if (write_after_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(write_after_ms));
  auto epoch_ms = [] {
    return static_cast<long long>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      std::chrono::system_clock::now().time_since_epoch())
                                      .count());
  };
  std::printf("write-start %lld\n", epoch_ms());
  for (long done = 0; done < write && !g_stop;) {
    std::vector<std::future<ws::Result<ws::CommitInfo>>> acks;
    for (int k = 0; k < 200 && done < write; ++k, ++done) {
      ws::Transaction t("clerk", scope);
      t.create("dossier").set("name", "Nguyễn Văn An " + std::to_string(done)).set("note", std::string(120, 'x'));
      acks.push_back(writer.commit(std::move(t)));
    }
    for (auto& a : acks) {
      auto r = a.get();
      if (!r.is_ok()) return die(r.status().to_string());
    }
    rep.value()->notify();
  }
  std::printf("wrote %ld\nwrite-done %lld\n", write, epoch_ms());
  std::fflush(stdout);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
  while (!g_stop && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    for (const auto& p : rep.value()->status()) {
      std::printf("peer %s connected=%d sent=%llu received=%llu acked=%llu lack=%llu rejected=%llu bytes_out=%llu error=%s\n",
                  p.name.c_str(), p.connected ? 1 : 0, static_cast<unsigned long long>(p.changes_sent),
                  static_cast<unsigned long long>(p.changes_received),
                  static_cast<unsigned long long>(p.batches_acked), static_cast<unsigned long long>(p.they_lack),
                  static_cast<unsigned long long>(p.rejected), static_cast<unsigned long long>(p.bytes_sent),
                  p.last_error.c_str());
    }
    std::fflush(stdout);
  }
  return 0;
}
