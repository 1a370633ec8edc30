// The HTTP API server: Poco's HTTPServer on the configured address, every
// request under /api/v1 routed to a handler that translates JSON to domain calls
// and back. Handlers never run SQL; no exception leaves a handler (caught at the
// edge, answered 500 with a logged id).
//
// Thread safety: start() and stop() from the owning thread; requests run on
// Poco's worker threads.
#pragma once

#include <memory>

#include <Poco/SharedPtr.h>

#include "domain/context.hpp"
#include "sessions.hpp"
#include "wardsync/sync/status.hpp"

namespace Poco {
class ThreadPool;
namespace Net {
class TCPServer;
class HTTPRequestHandlerFactory;
}
}  // namespace Poco

namespace wardsync::node {

class ApiServer {
 public:
  ApiServer(NodeContext& ctx, SessionStore& sessions);
  ~ApiServer();
  ApiServer(const ApiServer&) = delete;
  ApiServer& operator=(const ApiServer&) = delete;

  // Binds and starts serving; kUnavailable if the address is in use.
  [[nodiscard]] Status start();
  void stop();
  int port() const { return port_; }

 private:
  NodeContext& ctx_;
  SessionStore& sessions_;
  std::unique_ptr<Poco::ThreadPool> pool_;  // destroyed after server_
  Poco::SharedPtr<Poco::Net::HTTPRequestHandlerFactory> handlers_;
  std::unique_ptr<Poco::Net::TCPServer> server_;  // HTTPServer's parts, with connections capped per client
  int port_ = 0;
};

}  // namespace wardsync::node
