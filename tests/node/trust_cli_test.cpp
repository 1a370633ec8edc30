// The enrolment commands: each answers --help; bad input (a malformed peer line,
// a request or certificate altered after signing, a district issuing outside its
// scope, a certificate for another transport key) is refused with a message that
// says what is wrong, and nothing is installed.
#include <fstream>
#include <sstream>

#include <catch2/catch.hpp>

#include "node_process.hpp"

using namespace wardtest;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void replace_in(const fs::path& p, const std::string& from, const std::string& to) {
  std::string s = slurp(p);
  auto at = s.find(from);
  REQUIRE(at != std::string::npos);
  s.replace(at, from.size(), to);
  std::ofstream(p) << s;
}

void ok(const std::vector<std::string>& args) {
  RunResult r = run_wardnode(args);
  INFO(args[0] << " " << args[1] << ": " << r.err);
  REQUIRE(r.exit_code == 0);
}

void init(const fs::path& dir, const std::string& tier, const std::string& scope) {
  ok({"init", "--dir", dir.string(), "--office-code", scope.substr(scope.rfind('/') + 1), "--office-name", "UBND test",
      "--tier", tier, "--scope", scope});
}

}  // namespace

TEST_CASE("enrolment commands answer --help", "[node][cli]") {
  const std::vector<std::vector<std::string>> cmds = {
      {"authority", "--help"},       {"authority", "create", "--help"}, {"cert", "--help"},
      {"cert", "request", "--help"}, {"cert", "issue", "--help"},       {"cert", "install", "--help"},
      {"cert", "revoke", "--help"},  {"cert", "show", "--help"},        {"peer", "--help"},
      {"peer", "add", "--help"},     {"status", "--help"}};
  for (const auto& c : cmds) {
    RunResult r = run_wardnode(c);
    INFO(c[0] << " " << c[1]);
    CHECK(r.exit_code == 0);
    CHECK(r.out.find("Usage: wardnode") != std::string::npos);
  }
  CHECK(run_wardnode({"cert", "--help"}).out.find("Enrolling a node") != std::string::npos);
  CHECK(run_wardnode({"cert", "frobnicate"}).exit_code == 2);
}

TEST_CASE("enrolment refuses altered, misplaced and malformed input", "[node][cli]") {
  TempDir t;
  fs::path auth = t.path() / "auth", district = t.path() / "district", ward = t.path() / "ward";
  ok({"authority", "create", "--out", auth.string()});
  CHECK(run_wardnode({"authority", "create", "--out", auth.string()}).exit_code == 1);  // never overwritten
  init(district, "district", "79/760");
  init(ward, "ward", "79/760/26734");
  fs::path dreq = t.path() / "d.request", wreq = t.path() / "w.request";
  ok({"cert", "request", "--dir", district.string(), "--out", dreq.string()});
  ok({"cert", "request", "--dir", ward.string(), "--out", wreq.string()});
  CHECK((fs::status(ward / "transport.key").permissions() & fs::perms::group_read) == fs::perms::none);

  SECTION("a request altered after signing is refused") {
    replace_in(wreq, "scope = 79/760/26734", "scope = 79");
    RunResult r = run_wardnode({"cert", "issue", "--authority", auth.string(), "--request", wreq.string(), "--out",
                                (t.path() / "w.cert").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("signature does not verify") != std::string::npos);
    CHECK_FALSE(fs::exists(t.path() / "w.cert"));
  }
  SECTION("a certificate altered after issue is refused; an intact one installs") {
    fs::path cert = t.path() / "w.cert";
    ok({"cert", "issue", "--authority", auth.string(), "--request", wreq.string(), "--out", cert.string()});
    std::string text = slurp(cert);
    std::string tampered = text;
    std::size_t last = tampered.rfind("certificate ");
    char& c = tampered[last + 40];
    c = c == '0' ? '1' : '0';
    std::ofstream(t.path() / "bad.cert") << tampered;
    RunResult r = run_wardnode({"cert", "install", "--dir", ward.string(), (t.path() / "bad.cert").string()});
    CHECK(r.exit_code == 1);
    CHECK_FALSE(fs::exists(ward / "node.cert"));
    ok({"cert", "install", "--dir", ward.string(), cert.string()});
    CHECK(fs::exists(ward / "node.cert"));
    // The ward's certificate installed on the district goes to its trust directory.
    RunResult peer = run_wardnode({"cert", "install", "--dir", district.string(), cert.string()});
    CHECK(peer.exit_code == 0);
    CHECK(peer.out.find("a peer's certificate") != std::string::npos);  // not taken for its own
    CHECK_FALSE(fs::exists(district / "node.cert"));
    CHECK(fs::exists(district / "trust"));
    // The wrong file from the USB stick: the authority's secret key, or a request.
    RunResult secret = run_wardnode({"cert", "install", "--dir", ward.string(), (auth / "authority.key").string()});
    CHECK(secret.exit_code != 0);
    CHECK(secret.err.find("SECRET key") != std::string::npos);
    RunResult request = run_wardnode({"cert", "install", "--dir", ward.string(), wreq.string()});
    CHECK(request.exit_code != 0);
    CHECK(request.err.find("wardnode cert issue --request") != std::string::npos);
  }
  SECTION("a certificate for another transport key is refused by the node") {
    fs::remove(ward / "transport.key");  // a new key after the request was made
    ok({"cert", "request", "--dir", ward.string(), "--out", (t.path() / "new.request").string()});
    fs::path cert = t.path() / "w.cert";
    ok({"cert", "issue", "--authority", auth.string(), "--request", wreq.string(), "--out", cert.string()});
    RunResult r = run_wardnode({"cert", "install", "--dir", ward.string(), cert.string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("another transport key") != std::string::npos);
  }
  SECTION("a district issues within its scope only, and only when allowed") {
    fs::path dcert = t.path() / "d.cert";
    ok({"cert", "issue", "--authority", auth.string(), "--request", dreq.string(), "--out", dcert.string()});
    ok({"cert", "install", "--dir", district.string(), dcert.string()});
    RunResult r = run_wardnode({"cert", "issue", "--authority", district.string(), "--request", wreq.string(), "--out",
                                (t.path() / "w.cert").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("does not allow it to issue") != std::string::npos);
    ok({"cert", "issue", "--authority", auth.string(), "--request", dreq.string(), "--out", dcert.string(),
        "--may-issue"});
    ok({"cert", "install", "--dir", district.string(), dcert.string()});
    ok({"cert", "issue", "--authority", district.string(), "--request", wreq.string(), "--out",
        (t.path() / "w.cert").string()});
    fs::path other = t.path() / "other";
    init(other, "ward", "79/761/26800");
    fs::path oreq = t.path() / "o.request";
    ok({"cert", "request", "--dir", other.string(), "--out", oreq.string()});
    r = run_wardnode({"cert", "issue", "--authority", district.string(), "--request", oreq.string(), "--out",
                      (t.path() / "o.cert").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("outside this district's scope") != std::string::npos);
    // A box inside the district asking to be a city (whose catalogues every node
    // below would use) is the authority's decision, never the district's.
    fs::path fake = t.path() / "fake-city";
    init(fake, "city", "79/760/26801");
    fs::path freq = t.path() / "f.request";
    ok({"cert", "request", "--dir", fake.string(), "--out", freq.string()});
    r = run_wardnode({"cert", "issue", "--authority", district.string(), "--request", freq.string(), "--out",
                      (t.path() / "f.cert").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("cannot certify a node of tier city") != std::string::npos);
  }
  SECTION("a revoked node id is not certified again, by the authority or by a district") {
    auto node_id = [&](const fs::path& request) {
      RunResult show = run_wardnode({"cert", "show", request.string()});
      std::size_t at = show.out.find("\nnode ");
      REQUIRE(at != std::string::npos);
      return show.out.substr(at + 6, 64);
    };
    ok({"cert", "revoke", "--authority", auth.string(), "--node", node_id(wreq), "--out",
        (t.path() / "w.rev").string()});
    RunResult r = run_wardnode({"cert", "issue", "--authority", auth.string(), "--request", wreq.string(), "--out",
                                (t.path() / "w.cert").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("was revoked") != std::string::npos);
    CHECK(r.err.find("wardnode init") != std::string::npos);
    CHECK_FALSE(fs::exists(t.path() / "w.cert"));
    fs::path dcert = t.path() / "d.cert";
    ok({"cert", "issue", "--authority", auth.string(), "--request", dreq.string(), "--out", dcert.string(),
        "--may-issue"});  // another node: certified as before
    ok({"cert", "install", "--dir", district.string(), dcert.string()});
    fs::path other = t.path() / "other";
    init(other, "ward", "79/760/26800");
    fs::path oreq = t.path() / "o.request";
    ok({"cert", "request", "--dir", other.string(), "--out", oreq.string()});
    ok({"cert", "revoke", "--authority", district.string(), "--node", node_id(oreq), "--out",
        (t.path() / "o.rev").string()});
    r = run_wardnode({"cert", "issue", "--authority", district.string(), "--request", oreq.string(), "--out",
                      (t.path() / "o.cert").string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("was revoked") != std::string::npos);
  }
  SECTION("peer lines are checked, and wardnode.conf names the key") {
    CHECK(run_wardnode({"peer", "add", "--dir", ward.string(), "http://x:1", std::string(40, 'a')}).exit_code == 1);
    CHECK(run_wardnode({"peer", "add", "--dir", ward.string(), "tcp://127.0.0.1:7001", "short"}).exit_code == 1);
    set_config(ward, "peer", "tcp://127.0.0.1:7001");
    RunResult r = run_wardnode({"run", "--dir", ward.string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("peer:") != std::string::npos);
    set_config(ward, "peer", "tcp://127.0.0.1:7001 rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7");
    set_config(ward, "sync_listen", "udp://1.2.3.4:5");
    r = run_wardnode({"run", "--dir", ward.string()});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("sync_listen") != std::string::npos);
  }
  SECTION("a listening node without an authority key refuses to start") {
    set_config(district, "sync_listen", "tcp://127.0.0.1:" + std::to_string(free_port()));
    RunResult r = run_wardnode({"run", "--dir", district.string(), "--listen", "127.0.0.1:" + std::to_string(free_port())});
    CHECK(r.exit_code == 1);
    CHECK(r.err.find("no authority key") != std::string::npos);
  }
}
