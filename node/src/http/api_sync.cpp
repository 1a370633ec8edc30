// Replication figures for district IT: the peers part of GET /api/v1/sync/status
// and the Prometheus text at GET /metrics.
//
// /metrics needs no sign-in when the HTTP server listens on loopback only (a
// scraper or `wardnode status` on the box itself); otherwise an it_admin
// session, like the rest of the API (docs/operations.md, "Watching replication").
#include <sstream>

#include "http/api_internal.hpp"
#include "replication.hpp"
#include "wardsync/sync/reader.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync::node::http {

namespace {

// Prometheus label values: backslash, double quote and newline escaped.
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

double seconds_ago(const PeerStatus& p) {
  return p.last_contact_ms_ago < 0 ? -1.0 : static_cast<double>(p.last_contact_ms_ago) / 1000.0;
}

}  // namespace

void add_replication_status(Exchange& ex, Object& o, const VersionVector& held,
                            const std::vector<PublicKey>& held_origins) {
  const NodeReplication* rep = ex.ctx.replication;
  Array peers;
  Object sync;
  sync.set("enabled", rep != nullptr);
  if (rep == nullptr) {
    o.set("peers", peers);
    o.set("replication", sync);
    return;
  }
  std::uint64_t upstream_lack = 0;
  std::string upstream;
  for (const PeerStatus& p : rep->peers()) {
    Object po;
    po.set("name", p.name);
    po.set("direction", p.name.rfind("inbound", 0) == 0 ? "inbound" : "outbound");
    po.set("node_id", p.node_id_hex);
    po.set("connected", p.connected);
    po.set("last_contact_ms_ago", p.last_contact_ms_ago);
    po.set("changes_sent", p.changes_sent);
    po.set("changes_received", p.changes_received);
    po.set("bytes_sent", p.bytes_sent);
    po.set("bytes_received", p.bytes_received);
    po.set("batches_acked", p.batches_acked);
    po.set("they_lack_changes", p.they_lack);
    po.set("they_lack_bytes_estimate", p.they_lack_bytes);
    po.set("we_lack_changes", p.we_lack);
    po.set("we_lack_bytes_estimate", p.we_lack_bytes);
    po.set("rejected_changes", p.rejected);
    po.set("refused_sessions", p.refused_sessions);
    po.set("blob_bytes_sent", p.blob_bytes_sent);
    po.set("blob_bytes_received", p.blob_bytes_received);
    po.set("blobs_received", p.blobs_received);
    po.set("fetching_blob", p.fetching_blob);
    po.set("fetches_served", p.fetches_served);
    po.set("fetches_refused", p.fetches_refused);
    po.set("fetches_limited", p.fetches_limited);
    po.set("last_error", p.last_error);
    peers.add(po);
    if (p.name.rfind("inbound", 0) != 0 && upstream.empty()) {
      upstream = p.name;
      upstream_lack = p.they_lack;
    }
  }
  TrustFigures t = rep->trust();
  Object trust;
  trust.set("authorities", t.authorities);
  trust.set("certificates", t.certificates);
  trust.set("revocations", t.revocations);
  trust.set("own_certificate_valid", t.own_certificate_valid);
  trust.set("own_certificate", t.own_certificate);
  trust.set("own_certificate_days_left", t.own_certificate_days_left);
  Array expiring;
  for (const auto& e : t.expiring) expiring.add(e);
  trust.set("expiring", expiring);  // within 30 days: renew
  Array uncertified;
  for (const auto& origin : rep->uncertified_origins(held)) uncertified.add(origin);
  trust.set("uncertified_origins", uncertified);
  Array held_json;  // changes held, not merged: see docs/replication.md "Who may write what"
  for (const auto& origin : held_origins) held_json.add(to_hex(origin));
  trust.set("held_origins", held_json);
  Array file_errors;
  for (const auto& e : t.file_errors) file_errors.add(e);
  trust.set("file_errors", file_errors);
  Array scopes;
  for (const auto& s : rep->scopes()) scopes.add(s);
  sync.set("transport_key", rep->transport_public_z85());
  sync.set("listen", ex.ctx.config.sync_listen);
  sync.set("subscribed_scopes", scopes);
  sync.set("refused_connections", rep->refused_connections());
  sync.set("attachments_missing", rep->blobs_missing());
  sync.set("trust", trust);
  Object catalogues;
  for (const auto& [kind, source] : rep->catalogue_sources()) catalogues.set(kind, source);
  sync.set("catalogues", catalogues);
  o.set("peers", peers);
  o.set("replication", sync);
  if (!upstream.empty()) {
    // The first configured peer is the upstream (district or city).
    Object un;
    un.set("peer", upstream);
    un.set("changes", upstream_lack);
    o.set("unacknowledged_by_upstream", un);
  }
}

void serve_metrics(Exchange& ex) {
  if (ex.method != "GET") return method_not_allowed(ex, "GET");
  if (!listens_on_loopback(ex.ctx.config) && !require_role(ex, {Role::kItAdmin})) return;
  auto reader = ex.ctx.readers.acquire();
  if (!reader) throw std::runtime_error("no reader");
  StoreStats st = reader->stats();
  std::ostringstream m;
  m.precision(15);  // counters print whole (the default 6 digits would round them)
  auto gauge = [&](const char* name, const char* help, auto value) {
    m << "# HELP " << name << " " << help << "\n# TYPE " << name << " gauge\n" << name << " " << value << "\n";
  };
  gauge("wardsync_store_changes", "Changes in the log.", st.changes);
  gauge("wardsync_store_records", "Records held.", st.records);
  gauge("wardsync_store_held_changes", "Changes waiting for a gap or the clock (quarantined for skew).", st.held);
  gauge("wardsync_store_conflicts", "Records with an open conflict.", st.conflicts);
  gauge("wardsync_store_quarantined_origins", "Origins quarantined for a fork.", st.quarantined_origins);
  m << "# HELP wardsync_store_read_errors_total Reads of the store that failed (damaged page, disk error): answered as misses.\n"
       "# TYPE wardsync_store_read_errors_total counter\nwardsync_store_read_errors_total "
    << Reader::read_errors().count << "\n";
  const NodeReplication* rep = ex.ctx.replication;
  gauge("wardsync_replication_enabled", "1 when this node replicates.", rep != nullptr ? 1 : 0);
  if (rep != nullptr) {
    TrustFigures t = rep->trust();
    gauge("wardsync_blobs_missing", "Attachments whose record is here and bytes are not (yet).", rep->blobs_missing());
    gauge("wardsync_trust_authorities", "Authority keys trusted.", t.authorities);
    gauge("wardsync_trust_certificates", "Certificates known.", t.certificates);
    gauge("wardsync_trust_revocations", "Revocations known.", t.revocations);
    gauge("wardsync_trust_uncertified_origins", "Origins of streams held here with no valid certificate known here.",
          rep->uncertified_origins(reader->version_vector()).size());
    gauge("wardsync_trust_held_origins",
          "Origins whose changes are held here, not merged: no enrolled certificate lets them write those scopes.",
          reader->held_uncertified().size());
    gauge("wardsync_trust_own_certificate_valid", "1 when this node holds a valid certificate.",
          t.own_certificate_valid ? 1 : 0);
    gauge("wardsync_trust_own_certificate_days_left", "Days until this node's certificate expires (-1: none valid).",
          t.own_certificate_days_left);
    gauge("wardsync_trust_certificates_expiring", "This node's and connected peers' certificates expiring within 30 days.",
          t.expiring.size());
    m << "# HELP wardsync_refused_connections_total Connections refused: transport key not bound to a valid "
         "certificate.\n# TYPE wardsync_refused_connections_total counter\nwardsync_refused_connections_total "
      << rep->refused_connections() << "\n";
    struct Series {
      const char* name;
      const char* type;
      const char* help;
      std::function<double(const PeerStatus&)> value;
    };
    const std::vector<Series> series{
        {"wardsync_peer_connected", "gauge", "1 while the session is up.", [](const PeerStatus& p) { return p.connected ? 1.0 : 0.0; }},
        {"wardsync_peer_last_contact_seconds", "gauge", "Seconds since the peer was last heard (-1: never).", seconds_ago},
        {"wardsync_peer_changes_sent_total", "counter", "Changes sent.", [](const PeerStatus& p) { return double(p.changes_sent); }},
        {"wardsync_peer_changes_received_total", "counter", "Changes received and applied.", [](const PeerStatus& p) { return double(p.changes_received); }},
        {"wardsync_peer_bytes_sent_total", "counter", "Bytes handed to the transport.", [](const PeerStatus& p) { return double(p.bytes_sent); }},
        {"wardsync_peer_bytes_received_total", "counter", "Bytes received.", [](const PeerStatus& p) { return double(p.bytes_received); }},
        {"wardsync_peer_they_lack_changes", "gauge", "Our changes in the peer's scopes it has not acknowledged.", [](const PeerStatus& p) { return double(p.they_lack); }},
        {"wardsync_peer_they_lack_bytes", "gauge", "Estimate of the bytes those take on the wire.", [](const PeerStatus& p) { return double(p.they_lack_bytes); }},
        {"wardsync_peer_we_lack_changes", "gauge", "Changes of our scopes the peer holds and we lack (as it last said).", [](const PeerStatus& p) { return double(p.we_lack); }},
        {"wardsync_peer_we_lack_bytes", "gauge", "Estimate of the bytes those take on the wire.", [](const PeerStatus& p) { return double(p.we_lack_bytes); }},
        {"wardsync_peer_rejected_changes_total", "counter", "Changes from the peer our store refused (bad signature, broken chain, fork).", [](const PeerStatus& p) { return double(p.rejected); }},
        {"wardsync_peer_refused_sessions_total", "counter", "Sessions refused: revoked, expired or mismatched certificate.", [](const PeerStatus& p) { return double(p.refused_sessions); }},
        {"wardsync_peer_blob_bytes_sent_total", "counter", "Attachment bytes sent (chunk payloads).", [](const PeerStatus& p) { return double(p.blob_bytes_sent); }},
        {"wardsync_peer_blob_bytes_received_total", "counter", "Attachment bytes received.", [](const PeerStatus& p) { return double(p.blob_bytes_received); }},
        {"wardsync_peer_blobs_received_total", "counter", "Attachments received whole and verified.", [](const PeerStatus& p) { return double(p.blobs_received); }},
        {"wardsync_peer_fetches_served_total", "counter", "The peer's on-demand fetches answered with a record.", [](const PeerStatus& p) { return double(p.fetches_served); }},
        {"wardsync_peer_fetches_refused_total", "counter", "The peer's fetches refused (a collection it may not fetch).", [](const PeerStatus& p) { return double(p.fetches_refused); }},
        {"wardsync_peer_fetches_limited_total", "counter", "The peer's fetches answered unavailable above the rate limit.", [](const PeerStatus& p) { return double(p.fetches_limited); }},
    };
    std::vector<PeerStatus> peers = rep->peers();
    for (const Series& s : series) {
      m << "# HELP " << s.name << " " << s.help << "\n# TYPE " << s.name << " " << s.type << "\n";
      for (const PeerStatus& p : peers)
        m << s.name << "{peer=\"" << label(p.name) << "\"} " << s.value(p) << "\n";
    }
    m << "# HELP wardsync_peer_info The peer's node id and last error.\n# TYPE wardsync_peer_info gauge\n";
    for (const PeerStatus& p : peers)
      m << "wardsync_peer_info{peer=\"" << label(p.name) << "\",node=\"" << p.node_id_hex << "\",last_error=\""
        << label(p.last_error) << "\"} 1\n";
  }
  std::string text = m.str();
  ex.answered = true;
  ex.resp.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
  ex.resp.setContentType("text/plain; version=0.0.4; charset=utf-8");
  ex.resp.set("Cache-Control", "no-store");
  ex.resp.setContentLength64(static_cast<Poco::Int64>(text.size()));
  ex.turn.leave();
  ex.resp.send().write(text.data(), static_cast<std::streamsize>(text.size()));
}

}  // namespace wardsync::node::http
