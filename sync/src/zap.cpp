#include <cstring>
#include <string>
#include <vector>

#include "zap_internal.hpp"

namespace wardsync {

ZapHandler::ZapHandler(zmq::context_t& ctx, Admit admit)
    : socket_(ctx, zmq::socket_type::rep), admit_(std::move(admit)) {
  socket_.set(zmq::sockopt::linger, 0);
  socket_.bind("inproc://zeromq.zap.01");
  thread_ = std::thread([this] { loop(); });
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  thread_.join();
}

void ZapHandler::loop() {
  while (!stop_) {
    zmq::pollitem_t item{static_cast<void*>(socket_), 0, ZMQ_POLLIN, 0};
    try {
      zmq::poll(&item, 1, std::chrono::milliseconds(50));
      if ((item.revents & ZMQ_POLLIN) == 0) continue;
      std::vector<zmq::message_t> frames;
      do {
        frames.emplace_back();
        (void)socket_.recv(frames.back());
      } while (frames.back().more() && frames.size() < 16);
      // version, request id, domain, address, routing id, mechanism, credentials...
      std::string version = frames.size() > 0 ? frames[0].to_string() : "";
      std::string request_id = frames.size() > 1 ? frames[1].to_string() : "";
      std::string mechanism = frames.size() > 5 ? frames[5].to_string() : "";
      bool ok = false;
      char user_id[41] = {0};
      if (version == "1.0" && mechanism == "CURVE" && frames.size() > 6 && frames[6].size() == 32) {
        std::array<std::uint8_t, 32> key{};
        std::memcpy(key.data(), frames[6].data(), 32);
        ok = admit_ && admit_(key);
        // The client's key in Z85 becomes the connection's User-Id, so the
        // session can ask what this peer may receive (PeerGrant).
        if (ok) zmq_z85_encode(user_id, key.data(), key.size());
      }
      if (!ok) ++refused_;
      socket_.send(zmq::buffer(std::string("1.0")), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(request_id), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(std::string(ok ? "200" : "400")), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(std::string(ok ? "OK" : "not an enrolled node")), zmq::send_flags::sndmore);
      socket_.send(zmq::buffer(std::string(user_id)), zmq::send_flags::sndmore);  // user id
      socket_.send(zmq::buffer(std::string()), zmq::send_flags::none);     // metadata
    } catch (const zmq::error_t&) {
      if (stop_) return;  // context shutting down
    }
  }
}

}  // namespace wardsync
