#include "node_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include <Poco/JSON/Parser.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>
#include <catch2/catch.hpp>

namespace fs = std::filesystem;

namespace wardtest {

namespace {
// A server that refuses a body closes early; writing to it must not kill the test.
const bool kSigpipeIgnored = [] {
  signal(SIGPIPE, SIG_IGN);
  return true;
}();
}  // namespace

TempDir::TempDir() {
  std::random_device rd;
  path_ = fs::temp_directory_path() / ("wardnode-test-" + std::to_string(getpid()) + "-" + std::to_string(rd()));
  fs::create_directories(path_);
}

TempDir::~TempDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

namespace {

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  return out;
}

std::vector<char*> argv_of(std::vector<std::string>& args) {
  std::vector<char*> v;
  for (auto& a : args) v.push_back(a.data());
  v.push_back(nullptr);
  return v;
}

}  // namespace

RunResult run_wardnode(const std::vector<std::string>& args_in, const std::string& input) {
  std::vector<std::string> args{WARDNODE_BIN};
  args.insert(args.end(), args_in.begin(), args_in.end());
  TempDir io;
  fs::path in = io.path() / "in", out = io.path() / "out", err = io.path() / "err";
  { std::ofstream(in) << input; }
  pid_t pid = fork();
  if (pid == 0) {
    int i = open(in.c_str(), O_RDONLY);
    int o = open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(i, 0);
    dup2(o, 1);
    dup2(e, 2);
    alarm(300);  // a command that should have ended but serves on (SIGALRM ends it): a failure, not a hang
    auto argv = argv_of(args);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  int o = open(out.c_str(), O_RDONLY), e = open(err.c_str(), O_RDONLY);
  r.out = read_all(o);
  r.err = read_all(e);
  close(o);
  close(e);
  return r;
}

int free_port() {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(s);
  return port;
}

void add_config(const fs::path& dir, const std::string& key, const std::string& value) {
  std::ofstream(dir / "wardnode.conf", std::ios::app) << key << " = " << value << "\n";
}

void set_config(const fs::path& dir, const std::string& key, const std::string& value) {
  fs::path p = dir / "wardnode.conf";
  std::ifstream in(p);
  std::string line, out;
  bool done = false;
  while (std::getline(in, line)) {
    // Only the first line of the key: a repeatable key (`peer`) keeps its other lines.
    if (!done && line.rfind(key + " =", 0) == 0) {
      out += key + " = " + value + "\n";
      done = true;
    } else {
      out += line + "\n";
    }
  }
  if (!done) out += key + " = " + value + "\n";
  in.close();
  std::ofstream(p) << out;
}

NodeProcess::NodeProcess(fs::path dir) : dir_(std::move(dir)) {}

NodeProcess::~NodeProcess() {
  if (pid_ > 0) stop();
}

void NodeProcess::start() {
  REQUIRE(pid_ <= 0);
  for (int attempt = 0; attempt < 5; ++attempt) {
    port_ = free_port();
    std::vector<std::string> args{WARDNODE_BIN, "run", "--dir", dir_.string(), "--listen",
                                  "127.0.0.1:" + std::to_string(port_)};
    fs::path log = dir_ / "test-run.log";
    pid_ = fork();
    if (pid_ == 0) {
      int e = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      dup2(e, 2);
      auto argv = argv_of(args);
      execv(argv[0], argv.data());
      _exit(127);
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        break;  // exited (port taken?): try another port
      }
      try {
        Client c = tls_cert_.empty() ? Client(port_) : Client(port_, tls_cert_);
        if (c.get("/api/v1/health").status == 200) return;
      } catch (const Poco::Exception&) {
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (pid_ > 0) kill_hard();
  }
  FAIL("wardnode did not start; see " << (dir_ / "test-run.log").string());
}

void NodeProcess::kill_hard() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

void NodeProcess::stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 500; ++i) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill_hard();
}

std::string Response::str(const std::string& key) const {
  if (!json || !json->has(key) || json->isNull(key)) return "";
  return json->get(key).convert<std::string>();
}

std::vector<std::string> Response::field_errors() const {
  std::vector<std::string> out;
  if (!json || !json->has("fields")) return out;
  auto arr = json->getArray("fields");
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto f = arr->getObject(static_cast<unsigned>(i));
    out.push_back(f->getValue<std::string>("field") + ":" + f->getValue<std::string>("code"));
    // Every field error carries both languages.
    CHECK_FALSE(f->getValue<std::string>("message_vi").empty());
    CHECK_FALSE(f->getValue<std::string>("message_en").empty());
  }
  return out;
}

Client::Client(int port)
    : session_(std::make_unique<Poco::Net::HTTPClientSession>("127.0.0.1", static_cast<Poco::UInt16>(port))) {
  session_->setKeepAlive(true);
  session_->setTimeout(Poco::Timespan(30, 0));
}

Client::Client(int port, const std::filesystem::path& office_cert) {
  Poco::Net::Context::Ptr tls = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", office_cert.string(),
                                                       Poco::Net::Context::VERIFY_STRICT, 9, false);
  auto s = std::make_unique<Poco::Net::HTTPSClientSession>("127.0.0.1", static_cast<Poco::UInt16>(port), tls);
  s->setKeepAlive(true);
  s->setTimeout(Poco::Timespan(30, 0));
  session_ = std::move(s);
}

Response Client::get(const std::string& path) { return request("GET", path, "", false); }
Response Client::post(const std::string& path, const std::string& body, bool with_csrf) {
  return request("POST", path, body, with_csrf);
}
Response Client::del(const std::string& path, bool with_csrf) { return request("DELETE", path, "", with_csrf); }

Response Client::request(const std::string& method, const std::string& path, const std::string& body, bool with_csrf,
                         const std::map<std::string, std::string>& extra) {
  Response r;
  for (int attempt = 0; attempt < 2; ++attempt) {
    try {
      Poco::Net::HTTPRequest req(method, path, Poco::Net::HTTPMessage::HTTP_1_1);
      if (!cookie.empty()) req.set("Cookie", cookie);
      if (with_csrf && !csrf.empty()) req.set("X-CSRF-Token", csrf);
      bool fake_length = extra.count("Content-Length") != 0;
      if ((!body.empty() || method == "POST") && !fake_length) {
        req.setContentType("application/json");
        req.setContentLength(static_cast<std::streamsize>(body.size()));
      }
      for (const auto& [k, v] : extra) req.set(k, v);
      std::ostream& os = session_->sendRequest(req);
      if (!fake_length) os << body;  // a lying Content-Length: headers only
      Poco::Net::HTTPResponse resp;
      std::istream& is = session_->receiveResponse(resp);
      std::ostringstream ss;
      ss << is.rdbuf();
      r.status = resp.getStatus();
      r.body = ss.str();
      for (const auto& [k, v] : resp) r.headers[k] = v;
      break;
    } catch (const Poco::Exception&) {
      session_->reset();  // a closed keep-alive connection: retry once on a new one
      if (attempt == 1) throw;
    }
  }
  try {
    Poco::JSON::Parser p;
    auto v = p.parse(r.body);
    if (v.type() == typeid(Poco::JSON::Object::Ptr)) r.json = v.extract<Poco::JSON::Object::Ptr>();
  } catch (const Poco::Exception&) {
  }
  return r;
}

Response Client::login(const std::string& username, const std::string& password) {
  Response r = post("/api/v1/sessions", "{\"username\":\"" + username + "\",\"password\":\"" + password + "\"}", false);
  if (r.status == 200) {
    std::string sc = r.headers["Set-Cookie"];
    cookie = sc.substr(0, sc.find(';'));
    csrf = r.str("csrf_token");
  }
  return r;
}

void copy_dir(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
  fs::permissions(to / "node.key", fs::perms::owner_read | fs::perms::owner_write);
  fs::remove(to / "node.lock");
}

fs::path demo_template() {
  static TempDir dir;
  static bool made = false;
  if (!made) {
    fs::path d = dir.path() / "demo";
    RunResult r = run_wardnode({"demo", "--dir", d.string()});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    made = true;
  }
  return dir.path() / "demo";
}

DemoNode::DemoNode(const std::map<std::string, std::string>& config) : proc(tmp.path() / "d") {
  copy_dir(demo_template(), tmp.path() / "d");
  for (const auto& [k, v] : config) set_config(tmp.path() / "d", k, v);
  proc.start();
}

Client DemoNode::signed_in(const std::string& user) {
  Client c(proc.port());
  auto r = c.login(user, kDemoPassword);
  REQUIRE(r.status == 200);
  return c;
}

}  // namespace wardtest

namespace wardtest {

int connect_from(const char* from, int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &src.sin_addr);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) == 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &dst.sin_addr);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) == 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  return fd;
}

std::string exchange(int fd, const std::string& request) {
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size()));
  std::string answer;
  char buf[4096];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) {
    answer.append(buf, static_cast<std::size_t>(n));
    std::size_t head = answer.find("\r\n\r\n");
    if (head == std::string::npos) continue;
    std::size_t cl = answer.find("Content-Length: ");
    std::size_t want = cl == std::string::npos || cl > head ? 0 : std::stoul(answer.substr(cl + 16));
    if (answer.size() >= head + 4 + want) break;
  }
  return answer;
}

std::string health_from(const char* from, int port) {
  int fd = connect_from(from, port);
  std::string answer = exchange(fd, "GET /api/v1/health HTTP/1.1\r\nHost: node\r\nConnection: close\r\n\r\n");
  ::close(fd);
  return answer;
}

}  // namespace wardtest
