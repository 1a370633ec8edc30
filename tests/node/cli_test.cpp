// The command line: every command's --help answers, init creates a documented
// data directory with a private key and refuses to overwrite one, user commands
// manage accounts and refuse to run beside a serving node.
#include <sys/stat.h>

#include <fstream>
#include <cstdio>

#include <catch2/catch.hpp>

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
}  // namespace

TEST_CASE("every command answers --help", "[node][cli]") {
  const std::vector<std::vector<std::string>> cmds = {
      {"--help"}, {"-h"}, {"init", "--help"}, {"run", "--help"}, {"user", "--help"}, {"user", "add", "--help"},
      {"user", "passwd", "--help"}, {"user", "disable", "--help"}, {"demo", "--help"}};
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
  REQUIRE(run_wardnode({"init", "--dir", d.string(), "--office-code", "26734", "--office-name", "UBND Phường Tân Định",
                        "--tier", "ward", "--scope", "79/26734"})
              .exit_code == 0);
  RunResult add = run_wardnode({"user", "add", "--dir", d.string(), "--username", "admin", "--display-name", "Quản trị",
                                "--role", "it_admin", "--password-stdin"},
                               "mot-mat-khau-dai\n");
  INFO(add.err);
  REQUIRE(add.exit_code == 0);
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
