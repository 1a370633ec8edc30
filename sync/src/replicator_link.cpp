// Dialling and refusing: the sockets a session runs on (CURVE keys, ZAP
// domain, limits), a fresh DEALER for a peer that stopped answering, and the
// REFUSED a peer the grant turned away is told (docs/replication.md, "Session").
#include "replicator_internal.hpp"

namespace wardsync {

void Replicator::Impl::secure(zmq::socket_t& sock) const {
  sock.set(zmq::sockopt::linger, 0);
  sock.set(zmq::sockopt::maxmsgsize, static_cast<std::int64_t>(kMaxFrameBytes));
  sock.set(zmq::sockopt::sndhwm, 1000);
  sock.set(zmq::sockopt::rcvhwm, 1000);
  sock.set(zmq::sockopt::reconnect_ivl, 100);
  sock.set(zmq::sockopt::reconnect_ivl_max, 5000);
  sock.set(zmq::sockopt::zap_domain, "wardsync");
  sock.set(zmq::sockopt::curve_secretkey, zmq::buffer(options_.keys.secret_key.data(), CurveSecret::size()));
  sock.set(zmq::sockopt::curve_publickey, zmq::buffer(options_.keys.public_key));
}

void Replicator::Impl::dial(Session& s) {
  auto dealer = std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer);
  secure(*dealer);
  dealer->set(zmq::sockopt::curve_serverkey, zmq::buffer(s.peer_key));
  dealer->connect(s.name);
  s.dealer = std::move(dealer);  // the old one (if any) closes: linger 0
  s.dialed = Steady::now();
}

void Replicator::Impl::refuse(Session& s, Steady::time_point now) {
  pb::Envelope env;
  env.mutable_refused()->set_reason("no valid, unrevoked certificate here binds your transport key to node " +
                                    s.stats.node_id_hex.substr(0, 16) +
                                    " (revoked, expired, or not installed at this node)");
  s.last_hello = now;  // the once-a-second bound of the answers to a non-session
  send(s, env);
}

}  // namespace wardsync
