#include "http/server.hpp"

#include <algorithm>
#include <thread>

#include <Poco/Exception.h>
#include <Poco/String.h>
#include <Poco/JSON/Parser.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/TCPServer.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/NameValueCollection.h>
#include <Poco/ThreadPool.h>
#include <Poco/URI.h>
#include <sodium.h>

#include <chrono>
#include <map>
#include <optional>
#include <mutex>
#include <sstream>

#include "domain/clerks.hpp"
#include "http/api_internal.hpp"
#include "http/static_files.hpp"
#include "tls.hpp"

namespace wardsync::node {

namespace http {

namespace {

constexpr std::size_t kJsonDepthMax = 16;
constexpr Poco::Int64 kDrainBytesMax = 1024 * 1024;
constexpr const char* kCookieName = "wardsid";

int status_of(ErrorKind k) {
  switch (k) {
    case ErrorKind::kInvalid: return 400;
    case ErrorKind::kUnauthorized: return 401;
    case ErrorKind::kForbidden: return 403;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kConflict: return 409;
    case ErrorKind::kLocked: return 429;
    case ErrorKind::kUnavailable: return 503;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

bool unsafe_method(const std::string& m) { return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE"; }

}  // namespace

void send_json(Exchange& ex, int status, const Object& obj) {
  if (ex.answered) return;
  std::ostringstream os;
  obj.stringify(os);
  send_json(ex, status, os.str());
}

void send_json(Exchange& ex, int status, const std::string& text) {
  if (ex.answered) return;
  ex.answered = true;
  if (!ex.body_read) {
    // Answered before reading the body (401, 403, 404...): discard a small body so
    // the keep-alive connection stays in step; close the connection otherwise.
    ex.body_read = true;
    Poco::Int64 len = ex.req.getContentLength64();
    if (len > 0 && static_cast<std::uint64_t>(len) <= ex.ctx.config.max_body_bytes) {
      char sink[4096];
      std::istream& in = ex.req.stream();
      while (in.read(sink, sizeof sink) || in.gcount() > 0) {
      }
    } else if (len > 0 || ex.req.getChunkedTransferEncoding()) {
      ex.resp.setKeepAlive(false);
    }
  }
  // With its reason phrase ("404 Not Found", not "404 OK").
  ex.resp.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
  ex.resp.setContentType("application/json; charset=utf-8");
  ex.resp.set("Cache-Control", "no-store");
  ex.resp.set("X-Content-Type-Options", "nosniff");
  ex.turn.leave();  // a slow client must not hold the gate
  // Headers and body through one buffered stream: a small answer leaves in one
  // send(), where send() then write() took one for the headers and one for the body.
  ex.resp.sendBuffer(text.data(), text.size());
}

void send_error(Exchange& ex, const DomainError& e) {
  Object o;
  o.set("error", e.code);
  o.set("message_vi", e.message_vi);
  o.set("message_en", e.message_en);
  if (!e.fields.empty()) {
    Array fields;
    for (const auto& f : e.fields) {
      Object fo;
      fo.set("field", f.field);
      fo.set("code", f.code);
      fo.set("message_vi", f.message_vi);
      fo.set("message_en", f.message_en);
      fields.add(fo);
    }
    o.set("fields", fields);
  }
  if (e.code == kUnavailableOffline) ex.resp.set("Retry-After", std::to_string(kUnavailableOfflineRetrySeconds));
  send_json(ex, status_of(e.kind), o);
}

void send_simple_error(Exchange& ex, int status, const std::string& code, const std::string& vi, const std::string& en) {
  Object o;
  o.set("error", code);
  o.set("message_vi", vi);
  o.set("message_en", en);
  send_json(ex, status, o);
}

void method_not_allowed(Exchange& ex, std::string_view allow) {
  std::string methods(allow);
  if (methods.find("GET") != std::string::npos) methods += ", HEAD";
  ex.resp.set("Allow", methods);
  send_simple_error(ex, 405, "method_not_allowed", "Phương thức không được hỗ trợ cho địa chỉ này.",
                    "Method not allowed for this path.");
}

bool require_session(Exchange& ex) {
  if (ex.actor) return true;
  // A web app's polling says so: it must not keep an unattended desk signed in.
  if (!ex.token.empty()) ex.session = ex.sessions.touch(ex.token, ex.req.get("X-Background", "") == "1");
  if (ex.session) ex.actor = ex.actors.get(ex.session->clerk_id);
  if (ex.session && !ex.actor) {
    auto reader = ex.ctx.readers.acquire();
    if (reader) {
      auto clerk = get_clerk(*reader, ex.session->clerk_id);
      if (clerk && !clerk->disabled) {
        ex.actor = Actor{clerk->id, clerk->username, clerk->display_name, clerk->role};
        ex.actors.put(*ex.actor);
      }
    }
  }
  if (!ex.actor) {
    send_simple_error(ex, 401, "unauthenticated", "Vui lòng đăng nhập (phiên đã hết hạn hoặc không hợp lệ).",
                      "Please sign in (the session expired or is invalid).");
    return false;
  }
  if (unsafe_method(ex.method)) {
    std::string csrf = ex.req.get("X-CSRF-Token", "");
    if (csrf.size() != ex.session->csrf.size() ||
        sodium_memcmp(csrf.data(), ex.session->csrf.data(), csrf.size()) != 0) {
      send_simple_error(ex, 403, "csrf", "Thiếu hoặc sai mã chống giả mạo (X-CSRF-Token).",
                        "Missing or wrong anti-forgery token (X-CSRF-Token).");
      return false;
    }
  }
  return true;
}

bool require_role(Exchange& ex, std::initializer_list<Role> roles) {
  if (!require_session(ex)) return false;
  for (Role r : roles)
    if (ex.actor->role == r) return true;
  send_error(ex, forbidden());
  return false;
}

bool need_body(Exchange& ex) {
  if (ex.body) return true;
  ex.body_read = true;
  const std::size_t cap = ex.ctx.config.max_body_bytes;
  auto too_large = [&] {
    // Discard (never store) a moderately oversized body so the client reads our
    // answer instead of a connection reset; anything larger is cut off unread.
    Poco::Int64 len = ex.req.getContentLength64();
    if (len > 0 && len <= kDrainBytesMax) {
      char sink[4096];
      std::istream& in = ex.req.stream();
      while (in.read(sink, sizeof sink) || in.gcount() > 0) {
      }
    }
    ex.resp.setKeepAlive(false);  // the unread rest of the body would be taken for the next request
    send_simple_error(ex, 413, "too_large", "Nội dung yêu cầu quá lớn.", "Request body too large.");
    return false;
  };
  Poco::Int64 declared = ex.req.getContentLength64();
  if (declared != Poco::Net::HTTPMessage::UNKNOWN_CONTENT_LENGTH &&
      (declared < 0 || static_cast<std::uint64_t>(declared) > cap))
    return too_large();
  // JSON only, declared as such: a form or text/plain POST is what another web
  // site can make a browser send here without asking (no CORS preflight), and
  // the kiosk's endpoints take no session.
  std::string type = Poco::toLower(ex.req.getContentType());
  type = Poco::trim(type.substr(0, type.find(';')));
  if (type != "application/json") {
    ex.body_read = false;  // unread: send_json drains a small body or closes the connection
    send_simple_error(ex, 415, "unsupported_media_type", "Nội dung yêu cầu phải là JSON (Content-Type: application/json).",
                      "The request body must be JSON (Content-Type: application/json).");
    return false;
  }
  // Read at most cap + 1 bytes whatever the header says (chunked bodies have none).
  std::string text;
  if (declared > 0) text.reserve(static_cast<std::size_t>(declared));
  std::istream& in = ex.req.stream();
  char buf[4096];
  while (in) {
    in.read(buf, sizeof buf);
    std::streamsize n = in.gcount();
    if (n <= 0) break;
    if (text.size() + static_cast<std::size_t>(n) > cap) return too_large();
    text.append(buf, static_cast<std::size_t>(n));
  }
  auto bad_json = [&](const std::string& en) {
    send_error(ex, invalid({{"", "json", "Nội dung không phải JSON hợp lệ (một đối tượng).", en}}));
    return false;
  };
  if (text.empty()) return bad_json("Body must be a JSON object.");
  try {
    Poco::JSON::Parser parser;
    parser.setDepth(kJsonDepthMax);
    Poco::Dynamic::Var v = parser.parse(text);
    if (v.type() != typeid(Object::Ptr)) return bad_json("Body must be a JSON object.");
    ex.body = v.extract<Object::Ptr>();
  } catch (const Poco::Exception& e) {
    return bad_json("Body is not valid JSON: " + e.message());
  }
  return true;
}

std::string body_string(Exchange& ex, const std::string& key, std::vector<FieldError>& errors, const std::string& path) {
  return [&]() -> std::string {
    Object::Ptr obj = ex.body;
    std::string name = path.empty() ? key : path + "." + key;
    if (!path.empty()) {
      if (!obj->has(path)) return "";
      if (!obj->isObject(path)) {
        errors.push_back({path, "type", "Trường này phải là một đối tượng.", "This field must be an object."});
        return "";
      }
      obj = obj->getObject(path);
    }
    if (!obj->has(key) || obj->isNull(key)) return "";
    Poco::Dynamic::Var v = obj->get(key);
    if (!v.isString()) {
      errors.push_back({name, "type", "Trường này phải là chuỗi ký tự.", "This field must be a string."});
      return "";
    }
    return v.extract<std::string>();
  }();
}

std::optional<std::int64_t> body_int(Exchange& ex, const std::string& key, std::vector<FieldError>& errors) {
  if (!ex.body->has(key) || ex.body->isNull(key)) return std::nullopt;
  Poco::Dynamic::Var v = ex.body->get(key);
  if (!v.isInteger()) {
    errors.push_back({key, "type", "Trường này phải là số nguyên.", "This field must be an integer."});
    return std::nullopt;
  }
  return v.convert<Poco::Int64>();
}

std::string query_param(Exchange& ex, const std::string& key) {
  auto it = ex.query.find(key);
  return it == ex.query.end() ? "" : it->second;
}

namespace {

class ApiHandler final : public Poco::Net::HTTPRequestHandler {
 public:
  ApiHandler(NodeContext& ctx, SessionStore& sessions, ActorCache& actors, FairGate& gate)
      : ctx_(ctx), sessions_(sessions), actors_(actors), gate_(gate) {}

  void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& resp) override {
    // HEAD is answered as GET; Poco leaves the body out.
    const std::string method = req.getMethod() == "HEAD" ? "GET" : req.getMethod();
    Exchange ex{req, resp, ctx_, sessions_, actors_, method, {}, {}, nullptr, std::nullopt, std::nullopt, "", false, false, {}};
    try {
      serve(ex);
    } catch (const std::exception& e) {
      fail(ex, e.what());
    } catch (...) {
      fail(ex, "unknown exception");
    }
  }

 private:
  void fail(Exchange& ex, const std::string& what) {
    std::uint32_t id = randombytes_random();
    ctx_.log.error("http", "request " + std::to_string(id) + " " + ex.method + " failed: " + what);
    if (ex.answered) return;
    try {
      Object o;
      o.set("error", "internal");
      o.set("message_vi", "Lỗi hệ thống; vui lòng thử lại (mã " + std::to_string(id) + ").");
      o.set("message_en", "Internal error; please try again (id " + std::to_string(id) + ").");
      o.set("id", std::to_string(id));
      send_json(ex, 500, o);
    } catch (...) {
      // The connection is gone; nothing more to say.
    }
  }

  void serve(Exchange& ex) {
    Poco::URI uri;
    try {
      uri = Poco::URI(ex.req.getURI());
    } catch (const Poco::SyntaxException&) {
      send_simple_error(ex, 400, "bad_uri", "Địa chỉ yêu cầu không hợp lệ.", "Malformed request URI.");
      return;
    }
    std::string path = uri.getPath();
    static const std::string kPrefix = "/api/v1";
    if (path.compare(0, kPrefix.size(), kPrefix) != 0 || (path.size() > kPrefix.size() && path[kPrefix.size()] != '/')) {
      if (path == "/metrics") {
        serve_metrics(ex);
        return;
      }
      if (ui_available(ctx_.config)) return serve_static(ex, path);
      if (path == "/" && ex.method == "GET") {
        Object o;
        o.set("service", "wardnode");
        o.set("office", ctx_.config.office_name);
        o.set("api", "/api/v1");
        o.set("message_vi", "Nút wardsync đang chạy. Giao diện web chưa được cài; API ở /api/v1.");
        send_json(ex, 200, o);
        return;
      }
      send_simple_error(ex, 404, "not_found", "Không có địa chỉ này.", "No such path.");
      return;
    }
    std::string rest = path.substr(kPrefix.size());
    std::string cur;
    for (char c : rest) {
      if (c == '/') {
        if (!cur.empty()) ex.seg.push_back(cur);
        cur.clear();
      } else {
        cur += c;
      }
    }
    if (!cur.empty()) ex.seg.push_back(cur);
    try {
      for (const auto& [k, v] : uri.getQueryParameters()) ex.query[k] = v;
    } catch (const Poco::SyntaxException&) {  // a bad escape ("%zz"): decoded only here
      send_simple_error(ex, 400, "bad_uri", "Địa chỉ yêu cầu không hợp lệ.", "Malformed request URI.");
      return;
    }
    Poco::Net::NameValueCollection cookies;
    ex.req.getCookies(cookies);
    ex.token = cookies.get(kCookieName, "");
    // Reads take their turn through the gate; writes spend their time waiting for
    // the writer's commit, which the gate would only serialize.
    if (ex.method == "GET") ex.turn = gate_.enter();
    if (route_sessions(ex) || route_peripherals(ex) || route_kiosk(ex) || route_attachments(ex) ||
        route_dossiers(ex) || route_desk(ex)) {
      if (!ex.answered) send_simple_error(ex, 500, "internal", "Lỗi hệ thống.", "Internal error (no answer).");
      return;
    }
    send_simple_error(ex, 404, "not_found", "Không có địa chỉ này.", "No such path.");
  }

  NodeContext& ctx_;
  SessionStore& sessions_;
  ActorCache& actors_;
  FairGate& gate_;
};

class Factory final : public Poco::Net::HTTPRequestHandlerFactory {
 public:
  Factory(NodeContext& ctx, SessionStore& sessions) : ctx_(ctx), sessions_(sessions) {}
  Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
    return new ApiHandler(ctx_, sessions_, actors_, gate_);
  }
  // What HTTPServer::stopAll(true) does after stop(): connections in progress end.
  void abort_connections(const void* server) { serverStopped(server, true); }

 private:
  NodeContext& ctx_;
  SessionStore& sessions_;
  ActorCache actors_;
  // Twice as many reads at once as there are cores: while one waits for a page
  // or hands its slot on, another runs.
  FairGate gate_{2 * std::max(1U, std::thread::hardware_concurrency())};
};

// Connections open per client address. Poco gives each connection a worker
// thread for its whole life, so one client holding many idle or trickling
// connections (a browser bug, a loop in a script, an attacker on the LAN) would
// take every worker and leave the office without its node.
class ClientLimits {
 public:
  // `answer`: refusals get a 503 (plain HTTP). Over TLS a refusal is closed
  // unanswered: an answer would first wait for the client's handshake, and a
  // client that sends nothing would hold a worker thread for it.
  ClientLimits(int per_client, bool answer) : max_(per_client), answer_(answer) {}
  bool enter(const std::string& client) {
    std::lock_guard<std::mutex> lock(mu_);
    int& n = open_[client];
    if (n >= max_) return false;
    ++n;
    return true;
  }
  void leave(const std::string& client) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = open_.find(client);
    if (it != open_.end() && --it->second <= 0) open_.erase(it);
  }
  // Refusals of `client` since it was last logged, when one is due (at most one
  // line per client a minute: a client looping on connect must not fill the disk).
  std::optional<std::uint64_t> refusal_to_log(const std::string& client) {
    constexpr std::size_t kClientsRememberedMax = 1024;
    auto now = std::chrono::steady_clock::now();
    std::lock_guard<std::mutex> lock(mu_);
    if (refused_.size() >= kClientsRememberedMax && refused_.count(client) == 0) refused_.clear();
    Refused& r = refused_[client];
    ++r.count;
    if (r.logged != std::chrono::steady_clock::time_point{} && now - r.logged < std::chrono::minutes(1))
      return std::nullopt;
    std::uint64_t n = r.count;
    r = Refused{0, now};
    return n;
  }
  int max() const { return max_; }
  bool answer() const { return answer_; }

 private:
  struct Refused {
    std::uint64_t count = 0;
    std::chrono::steady_clock::time_point logged{};
  };
  const int max_;
  const bool answer_;
  std::mutex mu_;
  std::map<std::string, int> open_;         // GUARDED_BY(mu_)
  std::map<std::string, Refused> refused_;  // GUARDED_BY(mu_)
};

class GuardedConnection final : public Poco::Net::HTTPServerConnection {
 public:
  GuardedConnection(const Poco::Net::StreamSocket& socket, const Poco::Net::HTTPServerParams::Ptr& params,
                    const Poco::Net::HTTPRequestHandlerFactory::Ptr& factory, std::shared_ptr<ClientLimits> limits,
                    Logger& log)
      : HTTPServerConnection(socket, params, factory), limits_(std::move(limits)), log_(log) {
    try {
      client_ = socket.peerAddress().host().toString();
    } catch (const Poco::Exception&) {
      // Gone already: nothing to count, run() finds the socket closed.
    }
    admitted_ = client_.empty() || limits_->enter(client_);
  }
  ~GuardedConnection() override {
    if (admitted_ && !client_.empty()) limits_->leave(client_);
  }
  GuardedConnection(const GuardedConnection&) = delete;
  GuardedConnection& operator=(const GuardedConnection&) = delete;

  void run() override {
    if (admitted_) return HTTPServerConnection::run();
    if (auto n = limits_->refusal_to_log(client_))
      log_.warning("http", "refused " + std::to_string(*n) + " connection(s) from " + client_ + ": " +
                               std::to_string(limits_->max()) + " already open (http_client_connections)");
    if (!limits_->answer()) return;  // closed unanswered (TLS)
    static const std::string kBody =
        R"({"error":"too_many_connections","message_vi":"Máy này đang mở quá nhiều kết nối tới nút; vui lòng thử lại sau.",)"
        R"("message_en":"Too many connections open from this address; please try again shortly."})";
    static const std::string kAnswer = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; charset=utf-8\r\n"
                                       "Retry-After: 5\r\nConnection: close\r\nContent-Length: " +
                                       std::to_string(kBody.size()) + "\r\n\r\n" + kBody;
    try {
      socket().setSendTimeout(Poco::Timespan(1, 0));
      socket().setReceiveTimeout(Poco::Timespan(0, 200000));
      socket().sendBytes(kAnswer.data(), static_cast<int>(kAnswer.size()));
      socket().shutdownSend();
      // Read what the client sent, briefly: closing with its request unread
      // would reset the connection, and some clients then lose the answer.
      char sink[1024];
      for (int i = 0; i < 8 && socket().receiveBytes(sink, sizeof sink) > 0; ++i) {  // bounded: ~1.6 s at most
      }
    } catch (const Poco::Exception&) {
      // Not listening, or done: closed all the same.
    }
  }

 private:
  std::shared_ptr<ClientLimits> limits_;
  Logger& log_;
  std::string client_;
  bool admitted_ = false;
};

class GuardedConnectionFactory final : public Poco::Net::TCPServerConnectionFactory {
 public:
  GuardedConnectionFactory(Poco::Net::HTTPServerParams::Ptr params, Poco::Net::HTTPRequestHandlerFactory::Ptr factory,
                           std::shared_ptr<ClientLimits> limits, Logger& log)
      : params_(std::move(params)), factory_(std::move(factory)), limits_(std::move(limits)), log_(log) {}
  Poco::Net::TCPServerConnection* createConnection(const Poco::Net::StreamSocket& socket) override {
    return new GuardedConnection(socket, params_, factory_, limits_, log_);
  }

 private:
  Poco::Net::HTTPServerParams::Ptr params_;
  Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
  std::shared_ptr<ClientLimits> limits_;
  Logger& log_;
};

}  // namespace

}  // namespace http

ApiServer::ApiServer(NodeContext& ctx, SessionStore& sessions) : ctx_(ctx), sessions_(sessions) {}

ApiServer::~ApiServer() { stop(); }

Status ApiServer::start() {
  try {
    Poco::Net::SocketAddress addr(ctx_.config.listen);
    Poco::Net::ServerSocket socket;
    if (tls_enabled(ctx_.config)) {
      // TLS 1.2+ with the office certificate; clients are not asked for one.
      Poco::Net::Context::Ptr tls = new Poco::Net::Context(
          Poco::Net::Context::TLS_SERVER_USE, ctx_.config.path_of(ctx_.config.tls_key_file).string(),
          ctx_.config.path_of(ctx_.config.tls_cert_file).string(), "", Poco::Net::Context::VERIFY_NONE, 9, false,
          "ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL:!MD5:!SHA1");
      tls->requireMinimumProtocol(Poco::Net::Context::PROTO_TLSV1_2);
      socket = Poco::Net::SecureServerSocket(tls);
    }
    // SO_REUSEADDR (a restart while old connections linger), never SO_REUSEPORT:
    // with it a second node could bind the same port and take half the requests.
    socket.bind(addr, true, false);
    socket.listen(128);
    port_ = socket.address().port();
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(ctx_.config.http_threads);
    params->setMaxQueued(ctx_.config.http_max_queued);
    params->setKeepAlive(true);
    params->setMaxKeepAliveRequests(10000);
    params->setKeepAliveTimeout(Poco::Timespan(15, 0));
    params->setTimeout(Poco::Timespan(30, 0));
    // The server's own pool: Poco's default pool is capped at 16 threads.
    pool_ = std::make_unique<Poco::ThreadPool>(2, ctx_.config.http_threads + 2, 60);
    handlers_ = new http::Factory(ctx_, sessions_);
    auto limits = std::make_shared<http::ClientLimits>(ctx_.config.http_client_connections, !tls_enabled(ctx_.config));
    server_ = std::make_unique<Poco::Net::TCPServer>(
        new http::GuardedConnectionFactory(params, handlers_, std::move(limits), ctx_.log), *pool_, socket, params);
    server_->start();
  } catch (const Poco::Exception& e) {
    return Status{Code::kUnavailable, "cannot listen on " + ctx_.config.listen + ": " + e.displayText()};
  }
  return Status::ok();
}

void ApiServer::stop() {
  if (server_) {
    // HTTPServer::stopAll(true): stop accepting, then abort the connections in progress.
    server_->stop();
    static_cast<http::Factory&>(*handlers_).abort_connections(server_.get());
    server_.reset();
  }
  if (pool_) {
    pool_->joinAll();
    pool_.reset();
  }
}

}  // namespace wardsync::node
