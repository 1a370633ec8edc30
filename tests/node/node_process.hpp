// Test harness: runs the real `wardnode` binary (path from WARDNODE_BIN) in a
// temporary data directory, on a free loopback port, and talks to it over HTTP
// with Poco's client. Used by the API, CLI and crash tests.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <Poco/JSON/Object.h>
#include <Poco/Net/HTTPClientSession.h>

namespace wardtest {

// A fresh directory under the system temp dir, removed on destruction.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct RunResult {
  int exit_code = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};
// Runs wardnode with `args`, feeding `input` on stdin; waits for it to exit.
RunResult run_wardnode(const std::vector<std::string>& args, const std::string& input = "");

int free_port();

// A raw TCP connection to 127.0.0.1:port from the loopback address `from`
// (127.0.0.2 is another client to the node, on the same machine).
int connect_from(const char* from, int port);
// Sends `request` on `fd` and reads one answer (headers and a Content-Length body;
// 5 s at most); the connection stays open.
std::string exchange(int fd, const std::string& request);
// GET /api/v1/health over a fresh connection from `from`: the whole answer.
std::string health_from(const char* from, int port);

// Replaces the first `key = ...` line of <dir>/wardnode.conf (or appends one);
// other lines of a repeatable key (`peer`) are kept as they are.
void set_config(const std::filesystem::path& dir, const std::string& key, const std::string& value);
// Appends one more `key = value` line (a repeatable key: `peer`).
void add_config(const std::filesystem::path& dir, const std::string& key, const std::string& value);

// `wardnode run` as a child process.
class NodeProcess {
 public:
  explicit NodeProcess(std::filesystem::path dir);
  ~NodeProcess();  // SIGTERM, then SIGKILL if needed
  NodeProcess(const NodeProcess&) = delete;
  NodeProcess& operator=(const NodeProcess&) = delete;

  // Starts on a free port and waits until /api/v1/health answers (fails the test otherwise).
  void start();
  // Speak HTTPS to the node, trusting only `office_cert` (set tls = on in its config).
  void use_tls(std::filesystem::path office_cert) { tls_cert_ = std::move(office_cert); }
  void kill_hard();  // SIGKILL and reap
  void stop();       // SIGTERM and reap
  int port() const { return port_; }
  bool running() const { return pid_ > 0; }

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::filesystem::path tls_cert_;
};

struct Response {
  int status = 0;
  std::string body;
  Poco::JSON::Object::Ptr json;  // null when the body is not a JSON object
  std::map<std::string, std::string> headers;
  std::string str(const std::string& key) const;  // json field as string ("" if absent)
  // The `code`s of the field errors of a 400, "field:code" each.
  std::vector<std::string> field_errors() const;
};

// One HTTP client (keep-alive) with a cookie jar of one cookie and the CSRF token.
class Client {
 public:
  explicit Client(int port);
  // HTTPS to https://127.0.0.1:port, trusting only `office_cert` (its IP address
  // name checked: no name lookup, which a minimal system may not have).
  Client(int port, const std::filesystem::path& office_cert);
  Response get(const std::string& path);
  Response post(const std::string& path, const std::string& body, bool with_csrf = true);
  Response del(const std::string& path, bool with_csrf = true);
  Response request(const std::string& method, const std::string& path, const std::string& body, bool with_csrf,
                   const std::map<std::string, std::string>& extra_headers = {});
  // Signs in; returns the response (CSRF token kept when 200).
  Response login(const std::string& username, const std::string& password);
  std::string cookie;
  std::string csrf;

 private:
  std::unique_ptr<Poco::Net::HTTPClientSession> session_;
};

inline constexpr const char* kDemoPassword = "demo1234";

// A running node on a fresh copy of the demo office, with config overrides.
struct DemoNode {
  explicit DemoNode(const std::map<std::string, std::string>& config = {});
  // A client signed in as a demo clerk (fails the test otherwise).
  Client signed_in(const std::string& user);
  TempDir tmp;
  NodeProcess proc;
};

// A demo data directory made once per test binary run and copied for each test
// that needs one (seeding costs six Argon2id hashes and ~50 dossiers).
std::filesystem::path demo_template();
void copy_dir(const std::filesystem::path& from, const std::filesystem::path& to);

}  // namespace wardtest
