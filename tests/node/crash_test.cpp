// Durability under SIGKILL: two clients write dossiers in a stream while the test
// kills the node at random moments (WARDNODE_CRASH_KILLS times, default 50) and
// restarts it. Every write acknowledged with 201 must be there afterwards, with
// the same code, and no dossier code may be issued twice.
#include <atomic>
#include <cstdlib>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include <catch2/catch.hpp>

#include "node_process.hpp"

using namespace wardtest;

TEST_CASE("acknowledged dossiers survive SIGKILL and codes are never reissued", "[node][crash]") {
  int kills = 50;
  if (const char* k = std::getenv("WARDNODE_CRASH_KILLS")) kills = std::atoi(k);
  std::uint32_t seed = std::random_device{}();
  if (const char* s = std::getenv("WARDNODE_CRASH_SEED")) seed = static_cast<std::uint32_t>(std::atoll(s));
  INFO("seed " << seed);
  std::mt19937 rng(seed);

  TempDir t;
  copy_dir(demo_template(), t.path() / "d");
  NodeProcess node(t.path() / "d");
  std::map<std::string, std::string> acked;  // id → code
  std::mutex mu;
  // Sign in once: sessions live in local.db and survive the kills, so every
  // round spends its time writing rather than hashing passwords.
  std::vector<std::pair<std::string, std::string>> creds;
  node.start();
  for (const char* user : {"motcua", "motcua2"}) {
    Client c(node.port());
    REQUIRE(c.login(user, kDemoPassword).status == 200);
    creds.emplace_back(c.cookie, c.csrf);
  }
  node.kill_hard();
  for (int round = 0; round < kills; ++round) {
    node.start();
    std::atomic<bool> stop{false};
    std::vector<std::thread> writers;
    for (int w = 0; w < 2; ++w) {
      writers.emplace_back([&, w] {
        try {
          Client c(node.port());
          c.cookie = creds[static_cast<std::size_t>(w)].first;
          c.csrf = creds[static_cast<std::size_t>(w)].second;
          for (int i = 0; !stop; ++i) {
            std::string body = R"({"applicant":{"name":"Trần Thị Bích","cccd":"07919)" + std::to_string(1000000 + i % 9000000) +
                               R"("},"procedure_code":"ct-chu-ky","channel":"counter"})";
            Response r = c.post("/api/v1/dossiers", body);
            if (r.status == 201) {
              std::lock_guard<std::mutex> lock(mu);
              acked[r.str("id")] = r.str("code");
            }
          }
        } catch (const std::exception&) {
          // The node died under us: expected.
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(std::uniform_int_distribution<int>(150, 600)(rng)));
    node.kill_hard();
    stop = true;
    for (auto& th : writers) th.join();
  }
  REQUIRE(acked.size() > static_cast<std::size_t>(kills));

  node.start();
  Client lead(node.port());
  REQUIRE(lead.login("lanhdao", kDemoPassword).status == 200);
  std::size_t missing = 0;
  for (const auto& [id, code] : acked) {
    Response r = lead.get("/api/v1/dossiers/" + id);
    if (r.status != 200 || r.str("code") != code) ++missing;
  }
  CHECK(missing == 0);
  // Every dossier in the store (acknowledged or not): codes unique.
  std::set<std::string> codes;
  std::size_t total = 0, duplicates = 0;
  for (std::string cur;;) {
    Response p = lead.get("/api/v1/dossiers?limit=200" + (cur.empty() ? "" : "&cursor=" + cur));
    REQUIRE(p.status == 200);
    auto items = p.json->getArray("items");
    for (std::size_t i = 0; i < items->size(); ++i) {
      ++total;
      if (!codes.insert(items->getObject(static_cast<unsigned>(i))->getValue<std::string>("code")).second) ++duplicates;
    }
    cur = p.str("next_cursor");
    if (cur.empty()) break;
  }
  CHECK(duplicates == 0);
  CHECK(total >= acked.size());
  WARN("kills " << kills << ", acknowledged " << acked.size() << ", stored " << total);
}
