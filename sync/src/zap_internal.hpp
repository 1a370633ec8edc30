// The ZAP handler (RFC 27): ZeroMQ asks it, over inproc, whether a CURVE client
// may connect. Without one, CURVE encrypts but admits anyone, so the replicator
// starts it before any socket binds and refuses to run without it.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <zmq.hpp>

namespace wardsync {

class ZapHandler {
 public:
  using Admit = std::function<bool(const std::array<std::uint8_t, 32>&)>;
  // Binds inproc://zeromq.zap.01 in `ctx` before returning (throws zmq::error_t).
  ZapHandler(zmq::context_t& ctx, Admit admit);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  std::uint64_t refused() const { return refused_.load(); }

 private:
  void loop();
  zmq::socket_t socket_;
  Admit admit_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace wardsync
