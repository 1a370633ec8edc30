// Blobs between peers: fetched in chunks after the records that cite them,
// served under a per-peer bandwidth cap (docs/replication.md, "Blobs").
#include "replicator_internal.hpp"

#include <algorithm>

namespace wardsync {

// Receiver: asks this peer for the next chunk of a blob we want, once we lack
// none of its records (records first: a scan is useless before its dossier).
void Replicator::Impl::fetch_blobs(Session& s, Steady::time_point now) {
  if (s.fetching && now - s.fetch_sent > options_.peer_timeout) s.fetching.reset();  // lost: ask again later
  if (s.fetching || s.stats.we_lack > 0 || wanted_blobs_.empty()) return;
  std::set<Hash> taken;  // one peer per blob at a time
  for (const auto& other : sessions_) {
    if (other->fetching) taken.insert(*other->fetching);
  }
  for (const Hash& h : wanted_blobs_) {
    if (taken.count(h) != 0 || options_.blobs->has(h)) continue;
    auto missing = s.blob_missing_until.find(h);
    if (missing != s.blob_missing_until.end() && now < missing->second) continue;
    pb::Envelope env;
    env.mutable_blob_request()->set_hash(h.data(), h.size());
    env.mutable_blob_request()->set_offset(options_.blobs->partial_size(h));  // resume where it stopped
    s.fetching = h;
    s.fetch_sent = now;
    s.stats.fetching_blob = to_hex(h);
    send(s, env);
    return;
  }
}

void Replicator::Impl::blob_chunk_arrived(Session& s, const pb::BlobChunk& c) {
  Hash h{};
  if (!options_.blobs || c.hash().size() != h.size()) return;
  std::memcpy(h.data(), c.hash().data(), h.size());
  if (!s.fetching || *s.fetching != h) return;  // not asked for (or given up on): ignored
  s.fetching.reset();
  s.stats.fetching_blob.clear();
  if (c.missing()) {
    s.blob_missing_until[h] = Steady::now() + kBlobMissingRetry;
    return;
  }
  if (c.data().size() > options_.blob_chunk_bytes) {
    s.stats.last_error = "blob chunk larger than asked";
    return;
  }
  Status st = options_.blobs->write_chunk(h, c.total(), c.offset(), c.data());
  if (!st.is_ok()) {
    // A chunk out of place, a size past the limit, or a blob whose bytes do not
    // hash to its name (discarded whole): reported, fetched again later.
    s.stats.last_error = "blob " + to_hex(h).substr(0, 16) + ": " + st.message();
    return;
  }
  s.stats.blob_bytes_received += c.data().size();
  if (options_.blobs->has(h)) {
    ++s.stats.blobs_received;
    std::erase(wanted_blobs_, h);
  }
  fetch_blobs(s, Steady::now());  // the next chunk at once
}

// Sender: answers chunk requests while no record batch to this peer is
// unacknowledged, within the per-peer bandwidth cap.
void Replicator::Impl::serve_blobs(Session& s, Steady::time_point now) {
  const double rate = static_cast<double>(options_.blob_bytes_per_second);
  if (rate > 0) {
    double dt = s.blob_refill == Steady::time_point{} ? 0 : std::chrono::duration<double>(now - s.blob_refill).count();
    // The bucket holds one chunk: no burst above the cap after an idle spell.
    s.blob_tokens = std::min(s.blob_tokens + dt * rate, static_cast<double>(options_.blob_chunk_bytes));
    s.blob_refill = now;
  }
  while (!s.blob_requests.empty() && s.in_flight.empty() && s.ready) {
    auto [h, offset] = s.blob_requests.front();
    auto size = options_.blobs->size(h);
    std::size_t n = size && offset < *size ? static_cast<std::size_t>(std::min<std::uint64_t>(*size - offset, options_.blob_chunk_bytes)) : 0;
    if (rate > 0 && s.blob_tokens < static_cast<double>(n)) return;  // wait for the bucket to refill
    s.blob_requests.pop_front();
    pb::Envelope env;
    pb::BlobChunk* c = env.mutable_blob_chunk();
    c->set_hash(h.data(), h.size());
    c->set_offset(offset);
    if (!size || offset > *size) {
      c->set_missing(true);
    } else {
      auto data = options_.blobs->read(h, offset, n);
      if (!data.is_ok()) {
        c->set_missing(true);
      } else {
        c->set_total(*size);
        c->set_data(std::move(data).value());
        s.stats.blob_bytes_sent += n;
        if (rate > 0) s.blob_tokens -= static_cast<double>(n);
      }
    }
    send(s, env);
  }
}

}  // namespace wardsync
