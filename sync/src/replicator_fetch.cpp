// On-demand fetch of a record outside this node's scopes (docs/replication.md,
// "On-demand fetch").
#include "replicator_internal.hpp"

#include <algorithm>
#include <cstring>

namespace wardsync {

const char* fetch_outcome_name(FetchOutcome outcome) {
  switch (outcome) {
    case FetchOutcome::kFound: return "found";
    case FetchOutcome::kNotFound: return "not_found";
    case FetchOutcome::kUnavailable: return "unavailable";
    case FetchOutcome::kRefused: return "refused";
  }
  return "?";
}

std::future<FetchResult> Replicator::Impl::fetch(FetchRequest request, std::chrono::milliseconds wait) {
  QueuedFetch q;
  q.request = std::move(request);
  q.wait = wait;
  std::future<FetchResult> f = q.promise.get_future();
  std::lock_guard<std::mutex> lock(fetch_mu_);
  fetch_queue_.push_back(std::move(q));
  return f;
}

bool Replicator::Impl::has_upstream() const {
  return std::any_of(sessions_.begin(), sessions_.end(), [](const auto& s) { return !s->inbound; });
}

std::size_t Replicator::Impl::ask_upstream(FetchWait& w, const std::string& except) {
  pb::Envelope env;
  *env.mutable_fetch() = w.request;
  std::size_t n = 0;
  for (auto& s : sessions_) {
    if (s->inbound || !s->ready || s->name == except) continue;
    send(*s, env);
    if (!s->ready) continue;  // the send failed
    w.asked.insert(s->name);
    ++n;
  }
  return n;
}

void Replicator::Impl::start_local_fetches(Steady::time_point now) {
  std::deque<QueuedFetch> queue;
  {
    std::lock_guard<std::mutex> lock(fetch_mu_);
    queue.swap(fetch_queue_);
  }
  for (QueuedFetch& q : queue) {
    FetchResult none;
    const FetchRequest& r = q.request;
    if (r.collection.empty() || r.collection.size() > kMaxNameBytes || (!r.id && (r.field.empty() || r.value.empty()))) {
      none.detail = "a fetch names a collection and an id, or an indexed field and its value";
      none.outcome = FetchOutcome::kNotFound;
      q.promise.set_value(std::move(none));
      continue;
    }
    if (fetches_.size() >= kFetchesInFlightMax) {
      none.detail = "too many fetches in flight";
      q.promise.set_value(std::move(none));
      continue;
    }
    std::uint64_t no = next_fetch_++;
    FetchWait w;
    w.local = true;
    w.promise = std::move(q.promise);
    w.deadline = now + q.wait;
    w.request.set_request(no);
    w.request.set_collection(r.collection);
    if (r.id) w.request.set_record_id(r.id->bytes.data(), r.id->bytes.size());
    w.request.set_field(r.field);
    w.request.set_value(r.value);
    w.request.set_hops(options_.fetch_hops);
    w.request.set_budget_ms(static_cast<std::uint32_t>(std::clamp<std::int64_t>(q.wait.count(), 0, 60000)));
    if (ask_upstream(w, "") == 0) {
      // The root of the tree holds every scope: nobody above it to ask.
      none.outcome = has_upstream() ? FetchOutcome::kUnavailable : FetchOutcome::kNotFound;
      none.detail = has_upstream() ? "no upstream link is up" : "this node has no upstream peer";
      w.promise.set_value(std::move(none));
      continue;
    }
    fetches_.emplace(no, std::move(w));
  }
}

void Replicator::Impl::send_fetched(Session& s, std::uint64_t request, pb::Fetched::Outcome outcome) {
  pb::Envelope env;
  env.mutable_fetched()->set_request(request);
  env.mutable_fetched()->set_outcome(outcome);
  send(s, env);
}

// A peer asks for a record: answer from the store, or ask our own upstream peers.
void Replicator::Impl::serve_fetch(Session& s, const pb::Fetch& f) {
  const std::string& collection = f.collection();
  bool by_id = f.record_id().size() == RecordId{}.bytes.size();
  if (collection.empty() || collection.size() > kMaxNameBytes || f.field().size() > kMaxNameBytes ||
      f.value().size() > kMaxChangeBodyBytes || (!by_id && (f.field().empty() || f.value().empty()))) {
    s.stats.last_error = "malformed fetch request";
    send_fetched(s, f.request(), pb::Fetched::NOT_FOUND);
    return;
  }
  Steady::time_point now = Steady::now();
  if (s.fetch_tokens < 0) s.fetch_tokens = kFetchBurst;
  else s.fetch_tokens = std::min(kFetchBurst, s.fetch_tokens + kFetchesPerSecond *
                                                 std::chrono::duration<double>(now - s.fetch_refill).count());
  s.fetch_refill = now;
  if (s.fetch_tokens < 1) {
    // "Unavailable", which the asker may retry: a burst of look-ups, or a peer gone wrong.
    // Counted, not made the peer's last error: that may name something worse (a
    // forged change) that a burst of look-ups must not hide from the operator.
    ++s.stats.fetches_limited;
    send_fetched(s, f.request(), pb::Fetched::UNAVAILABLE);
    return;
  }
  s.fetch_tokens -= 1;
  if (options_.may_fetch && !options_.may_fetch(s.peer_node, collection)) {
    ++s.stats.fetches_refused;
    send_fetched(s, f.request(), pb::Fetched::REFUSED);
    return;
  }
  RecordId id;
  if (by_id) std::memcpy(id.bytes.data(), f.record_id().data(), id.bytes.size());
  std::pair<RecordId, std::vector<WireChange>> held =
      writer_.run_get<std::pair<RecordId, std::vector<WireChange>>>([&](Store& st) {
        RecordId rid = id;
        if (!by_id) {
          auto ids = st.find(collection, f.field(), f.value(), 1);
          if (ids.empty()) return std::make_pair(rid, std::vector<WireChange>{});
          rid = ids.front();
        }
        return std::make_pair(rid, st.record_changes(collection, rid, kFetchChangesMax));
      });
  if (!held.second.empty()) {
    pb::Envelope env;
    pb::Fetched* out = env.mutable_fetched();
    out->set_request(f.request());
    out->set_outcome(pb::Fetched::FOUND);
    out->set_record_id(held.first.bytes.data(), held.first.bytes.size());
    std::size_t bytes = 0;
    for (const WireChange& c : held.second) {
      bytes += c.body.size() + c.signature.size();
      if (bytes > kFetchBytesMax) break;  // the oldest part of a huge history: enough to read it
      auto* sc = out->add_changes();
      sc->set_body(c.body);
      sc->set_signature(c.signature);
    }
    ++s.stats.fetches_served;
    send(s, env);
    return;
  }
  // Not here: up the tree, while the hop limit and the requester's patience allow.
  if (f.hops() <= 1 || !has_upstream()) {
    send_fetched(s, f.request(), pb::Fetched::NOT_FOUND);
    return;
  }
  if (f.budget_ms() <= 2 * kFetchRelayMarginMs || fetches_.size() >= kFetchesInFlightMax) {
    send_fetched(s, f.request(), pb::Fetched::UNAVAILABLE);
    return;
  }
  std::uint64_t no = next_fetch_++;
  FetchWait w;
  w.request = f;
  w.request.set_request(no);
  w.request.set_hops(f.hops() - 1);
  w.request.set_budget_ms(f.budget_ms() - kFetchRelayMarginMs);
  w.requester_inbound = s.inbound;
  w.requester = s.inbound ? s.routing_id : s.name;
  w.requester_request = f.request();
  w.deadline = Steady::now() + std::chrono::milliseconds(w.request.budget_ms());
  if (ask_upstream(w, s.inbound ? "" : s.name) == 0) {
    send_fetched(s, f.request(), pb::Fetched::UNAVAILABLE);  // our own links are down
    return;
  }
  fetches_.emplace(no, std::move(w));
}

void Replicator::Impl::fetch_answered(Session& s, pb::Fetched& f) {
  auto it = fetches_.find(f.request());
  if (it == fetches_.end() || it->second.asked.erase(s.name) == 0) return;  // late, or not asked of it
  FetchWait& w = it->second;
  switch (f.outcome()) {
    case pb::Fetched::FOUND: {
      RecordId id;
      if (f.record_id().size() != id.bytes.size() ||
          (w.request.record_id().size() == id.bytes.size() && f.record_id() != w.request.record_id())) {
        w.any_unavailable = true;
        w.detail = "an answer named another record";
        break;
      }
      std::memcpy(id.bytes.data(), f.record_id().data(), id.bytes.size());
      if (!w.local) {
        finish_fetch(it->first, w, pb::Fetched::FOUND, &f, nullptr);  // relayed untouched
        fetches_.erase(it);
        return;
      }
      // The same bounds this node keeps when it serves: a larger answer is refused
      // before any signature is checked (each costs 45 µs on the writer thread).
      std::size_t answer_bytes = 0;
      for (const auto& c : f.changes()) answer_bytes += c.body().size() + c.signature().size();
      if (static_cast<std::size_t>(f.changes_size()) > kFetchChangesMax || answer_bytes > kFetchBytesMax) {
        w.any_unavailable = true;
        w.detail = "an answer was larger than a fetch may be";
        s.stats.last_error = w.detail;
        break;
      }
      std::vector<WireChange> changes;
      changes.reserve(static_cast<std::size_t>(f.changes_size()));
      for (auto& c : *f.mutable_changes()) changes.push_back({std::move(*c.mutable_body()), std::move(*c.mutable_signature())});
      const std::string collection = w.request.collection();
      const std::string field = w.request.field(), value = w.request.value();
      const bool by_id = !w.request.record_id().empty();
      FetchResult r = writer_.run_get<FetchResult>([&](Store& st) {
        FetchResult out;
        out.id = id;
        ApplyReport rep = st.pin(collection, id, changes,
                                 by_id ? std::nullopt : std::optional<std::pair<std::string, std::string>>({field, value}));
        out.applied = rep.applied;
        out.rejected = rep.rejected;
        if (!rep.problems.empty()) out.detail = rep.problems.front().detail;
        auto rec = st.get(collection, id);
        bool usable = rec && rep.applied + rep.duplicates > 0 && (by_id || rec->text(field) == value);
        out.outcome = usable ? FetchOutcome::kFound : FetchOutcome::kUnavailable;
        return out;
      });
      s.stats.rejected += r.rejected;
      if (r.outcome == FetchOutcome::kFound) {
        finish_fetch(it->first, w, pb::Fetched::FOUND, nullptr, &r);
        fetches_.erase(it);
        return;
      }
      // Nothing verifiable came from this peer: another may still answer.
      w.any_unavailable = true;
      w.detail = "the answer did not verify: " + r.detail;
      s.stats.last_error = w.detail;
      break;
    }
    case pb::Fetched::NOT_FOUND: break;
    case pb::Fetched::REFUSED: w.any_refused = true; break;
    default: w.any_unavailable = true; break;
  }
  if (!w.asked.empty()) return;  // others still to answer
  pb::Fetched::Outcome outcome = w.any_unavailable ? pb::Fetched::UNAVAILABLE
                                 : w.any_refused   ? pb::Fetched::REFUSED
                                                   : pb::Fetched::NOT_FOUND;
  finish_fetch(it->first, w, outcome, nullptr, nullptr);
  fetches_.erase(it);
}

// Answers whoever asked: our own caller (its future) or the peer we relay for.
void Replicator::Impl::finish_fetch(std::uint64_t no, FetchWait& w, pb::Fetched::Outcome outcome, pb::Fetched* found,
                                    const FetchResult* result) {
  (void)no;
  if (w.local) {
    FetchResult r;
    if (result != nullptr) r = *result;
    switch (outcome) {
      case pb::Fetched::FOUND: r.outcome = FetchOutcome::kFound; break;
      case pb::Fetched::NOT_FOUND: r.outcome = FetchOutcome::kNotFound; break;
      case pb::Fetched::REFUSED: r.outcome = FetchOutcome::kRefused; break;
      default: r.outcome = FetchOutcome::kUnavailable; break;
    }
    if (r.detail.empty()) r.detail = w.detail;
    w.promise.set_value(std::move(r));
    return;
  }
  for (auto& s : sessions_) {
    bool match = w.requester_inbound ? (s->inbound && s->routing_id == w.requester)
                                     : (!s->inbound && s->name == w.requester);
    if (!match || !s->ready) continue;
    if (found != nullptr) {
      pb::Envelope env;
      *env.mutable_fetched() = std::move(*found);
      env.mutable_fetched()->set_request(w.requester_request);
      send(*s, env);
    } else {
      send_fetched(*s, w.requester_request, outcome);
    }
    return;
  }
}

void Replicator::Impl::expire_fetches(Steady::time_point now) {
  for (auto it = fetches_.begin(); it != fetches_.end();) {
    if (now < it->second.deadline) {
      ++it;
      continue;
    }
    it->second.detail = "no answer in time";
    finish_fetch(it->first, it->second, pb::Fetched::UNAVAILABLE, nullptr, nullptr);
    it = fetches_.erase(it);
  }
}


}  // namespace wardsync
