// The receive pipeline: a received batch is decoded and checked by a worker while
// the writer commits the one before (docs/replication.md, "Receiving a catch-up").
#include "replicator_internal.hpp"

#include <zstd.h>

namespace wardsync {

using peer::Session;
using peer::to_pb;

// Decompresses and prepares a received batch; nullptr (and `r` done, with its
// error) when it does not decompress or parse.
std::shared_ptr<PreparedBatch> Replicator::Impl::unpack(Received& r, std::string& raw) {
  raw.resize(r.raw_size);
  std::size_t n = ZSTD_decompress(raw.data(), raw.size(), r.zstd.data(), r.zstd.size());
  std::string().swap(r.zstd);
  pb::ChangeBatch batch;
  bool parsed = !ZSTD_isError(n) && n == raw.size() && batch.ParseFromString(raw);
  if (raw.capacity() > kKeptBufferBytes) std::string().swap(raw);  // an unusually large batch: give it back
  if (!parsed) {
    r.error = "batch does not decompress or parse";
    r.done.store(true, std::memory_order_release);
    wake_->signal();
    return nullptr;
  }
  std::vector<WireChange> changes;
  changes.reserve(static_cast<std::size_t>(batch.changes_size()));
  for (auto& c : *batch.mutable_changes()) {
    changes.push_back({std::move(*c.mutable_body()), std::move(*c.mutable_signature())});
  }
  std::shared_ptr<PreparedBatch> prepared = Store::prepare(std::move(changes));
  r.heads = prepared->heads();
  return prepared;
}

// Queues the apply of a prepared batch on the writer. Applied in the order
// queued (the writer runs its tasks in order), so a peer's batches are applied
// in the order it sent them.
std::future<void> Replicator::Impl::queue_apply(std::shared_ptr<Received> r, std::shared_ptr<PreparedBatch> prepared) {
  return writer_.run([r = std::move(r), prepared = std::move(prepared), wake = wake_](Store& st) mutable {
    try {
      r->report = st.apply(*prepared);
      r->vv = st.version_vector();
    } catch (const std::exception& e) {
      r->error = std::string("applying a batch: ") + e.what();
    }
    r->spent = std::move(prepared);
    r->done.store(true, std::memory_order_release);
    wake->signal();
  });
}

void Replicator::Impl::receive_worker() {
  // One buffer for every batch: a fresh ~1 MB string per batch is an mmap,
  // page faults and an munmap each time.
  std::string raw;
  // Applies queued on the writer and not yet done: at most kAppliesQueued, so
  // that the session thread's own calls on the writer (what a peer lacks, the
  // vector for a HELLO) wait behind one batch at most, not a whole pipeline.
  constexpr std::size_t kAppliesQueued = 2;
  std::deque<std::pair<std::future<void>, std::shared_ptr<Received>>> queued;
  auto retire = [&queued] {
    queued.front().first.wait();
    queued.front().second->spent.reset();
    queued.pop_front();
  };
  for (;;) {
    std::shared_ptr<Received> r;
    {
      std::unique_lock<std::mutex> lock(work_mu_);
      work_cv_.wait(lock, [this] { return work_stop_ || !work_.empty(); });
      if (work_stop_) break;
      r = std::move(work_.front());
      work_.pop_front();
    }
    std::shared_ptr<PreparedBatch> prepared = unpack(*r, raw);
    if (prepared == nullptr) continue;
    while (queued.size() >= kAppliesQueued) retire();
    std::future<void> applied = queue_apply(r, std::move(prepared));
    queued.emplace_back(std::move(applied), std::move(r));
  }
  // Stopping: the writer finishes what was queued on it (it outlives us).
  while (!queued.empty()) retire();
}

Session* Replicator::Impl::find_session(bool inbound, const std::string& peer) {
  for (auto& s : sessions_) {
    if (s->inbound == inbound && (inbound ? s->routing_id : s->name) == peer) return s.get();
  }
  return nullptr;
}

// Acknowledges the received batches whose commit is done, in arrival order.
void Replicator::Impl::finish_received() {
  while (!receiving_.empty() && receiving_.front()->done.load(std::memory_order_acquire)) {
    std::shared_ptr<Received> r = std::move(receiving_.front());
    receiving_.pop_front();
    Session* s = find_session(r->inbound, r->peer);
    if (s == nullptr || !s->ready) continue;  // gone or refused since: it resends from what we hold
    if (!r->error.empty()) {
      s->stats.last_error = r->error;
      continue;
    }
    // Whatever a peer sent us, it holds: never send it back.
    for (const auto& [stream, now_held] : r->heads) {
      StreamHead& sent = s->sent_vv[stream];
      if (now_held.seq > sent.seq) sent = now_held;
      StreamHead& theirs = s->peer_vv[stream];
      if (now_held.seq > theirs.seq) theirs = now_held;
    }
    s->stats.changes_received += r->report.applied;
    s->stats.rejected += r->report.rejected;
    if (!r->report.problems.empty()) s->stats.last_error = r->report.problems.front().detail;
    pb::Envelope ack;
    ack.mutable_ack()->set_batch_no(r->batch_no);
    ack.mutable_ack()->set_applied(static_cast<std::uint32_t>(r->report.applied));
    ack.mutable_ack()->set_rejected(static_cast<std::uint32_t>(r->report.rejected));
    to_pb(r->vv, ack.mutable_ack()->mutable_vv());
    send(*s, ack);
  }
}

}  // namespace wardsync
