// Applying received changes (see store.hpp). One concept runs through this
// file: a change is accepted only as part of a verified contiguous run of its
// stream, and merged into its record's state by merge::join, in the same SQLite
// transaction that appends it to the log and advances the stream's head. What
// cannot be accepted yet (a gap, a clock too far ahead, an origin the policy
// refuses) is held, within bounds, and retried.
#include <tuple>

#include "store_internal.hpp"
#include "store_sql.hpp"

namespace wardsync {

bool Store::Impl::stored_change(std::int64_t stream_id, std::uint64_t seq, WireChange& out, Hash& hash) const {
  get_change_.bind(1, stream_id).bind(2, static_cast<std::int64_t>(seq));
  bool found = get_change_.step();
  if (found) {
    out.body = get_change_.blob(0);
    out.signature = get_change_.blob(1);
    copy_to(get_change_.blob_view(2), hash);
  }
  get_change_.reset();
  return found;
}

void Store::Impl::hold(const StreamInfo& info, const DecodedChange& c, int reason) {
  put_held_.bind(1, info.id)
      .bind(2, static_cast<std::int64_t>(c.body->seq()))
      .bind(3, c.wire->body)
      .bind(4, c.wire->signature)
      .bind(5, reason)
      .bind(6, static_cast<std::int64_t>(wall_.now_ms() / 1000))
      .run();
  held_total_ += static_cast<std::size_t>(sqlite3_changes(db_.get()));
}

bool Store::Impl::check_fork(const WireChange& a, const WireChange& b, const StreamKey& key,
                             std::uint64_t seq, ApplyReport& report) {
  DecodedChange da;
  DecodedChange dbb;
  if (!decode_change(a, da).is_ok() || !decode_change(b, dbb).is_ok()) return false;
  if (!signature_ok(da) || !signature_ok(dbb)) return false;
  if (quarantined_.insert(key.origin).second) {
    sql::Stmt put(db_.get(),
                  "INSERT OR IGNORE INTO quarantine(origin, reason, a_body, a_sig, b_body, b_sig) "
                  "VALUES(?,?,?,?,?,?)");
    std::string reason = "fork in stream " + key.to_string() + " at sequence " + std::to_string(seq);
    put.bind(1, view(key.origin))
        .bind_text(2, reason)
        .bind(3, a.body)
        .bind(4, a.signature)
        .bind(5, b.body)
        .bind(6, b.signature)
        .run();
    rebuild_needed_ = true;
    report.problems.push_back({Problem::Kind::kFork, key, seq, reason + ": origin quarantined"});
  }
  return true;
}

// Applies what `incoming` (changes of one stream, sorted by seq) and the held
// changes of that stream allow, in sequence order.
void Store::Impl::apply_stream(const StreamKey& key, std::vector<DecodedChange*>& incoming,
                               VerifyMode mode, ApplyReport& report, std::deque<WireChange>& storage,
                               std::deque<DecodedChange>& decoded) {
  if (quarantined_.count(key.origin) != 0) {
    report.rejected += incoming.size();
    report.problems.push_back({Problem::Kind::kQuarantined, key, incoming.front()->body->seq(),
                               "origin is quarantined for a fork; changes refused"});
    return;
  }
  StreamInfo& info = stream_info(key);
  const StreamInfo before = info;

  // Held changes of this stream rejoin the candidates.
  get_held_.bind(1, info.id);
  std::size_t held_count = 0;
  std::set<const DecodedChange*> from_held;
  while (get_held_.step()) {
    ++held_count;
    storage.push_back(WireChange{get_held_.blob(0), get_held_.blob(1)});
    DecodedChange& d = decoded.emplace_back();
    if (decode_change(storage.back(), d, arena_).is_ok() && d.stream == key) {
      incoming.push_back(&d);
      from_held.insert(&d);
    }
  }
  get_held_.reset();
  std::stable_sort(incoming.begin(), incoming.end(),
                   [](const DecodedChange* a, const DecodedChange* b) { return a->body->seq() < b->body->seq(); });

  // Already held: duplicates, or forks when the bytes differ.
  std::vector<DecodedChange*> ahead;
  for (std::size_t i = 0; i < incoming.size(); ++i) {
    DecodedChange* c = incoming[i];
    std::uint64_t seq = c->body->seq();
    if (seq <= info.seq) {
      WireChange mine;
      Hash mine_hash{};
      if (stored_change(info.id, seq, mine, mine_hash) && mine_hash == c->hash) {
        if (from_held.count(c) == 0) ++report.duplicates;
      } else if (check_fork(mine, *c->wire, key, seq, report)) {
        ++report.rejected;
        return;
      } else {
        ++report.rejected;
        report.problems.push_back({Problem::Kind::kBadSignature, key, seq,
                                   "a different body for a sequence already held, not validly signed"});
      }
      continue;
    }
    if (!ahead.empty() && ahead.back()->body->seq() == seq) {
      if (ahead.back()->hash == c->hash) {
        if (from_held.count(c) == 0 && from_held.count(ahead.back()) == 0) ++report.duplicates;
        if (from_held.count(c) != 0) from_held.insert(ahead.back());  // already held: not again
        continue;
      }
      if (check_fork(*ahead.back()->wire, *c->wire, key, seq, report)) {
        report.rejected += 2;
        return;
      }
      // One of the two is forged; keep the one whose own signature holds.
      ++report.rejected;
      if (!signature_ok(*ahead.back())) ahead.back() = c;
      continue;
    }
    ahead.push_back(c);
  }

  // The contiguous run from our head.
  std::size_t run_end = 0;
  while (run_end < ahead.size() && ahead[run_end]->body->seq() == info.seq + 1 + run_end) ++run_end;
  const std::size_t contiguous_end = run_end;  // beyond it: a gap, held

  // Links: each body names the hash of its predecessor.
  std::size_t linked = 0;
  for (; linked < run_end; ++linked) {
    const Hash& expect = linked == 0 ? info.head : ahead[linked - 1]->hash;
    if (ahead[linked]->prev != expect) break;
  }
  if (linked < run_end) {
    std::uint64_t seq = ahead[linked]->body->seq();
    WireChange prev_wire;
    Hash prev_hash{};
    bool have_prev = linked > 0 ? (prev_wire = *ahead[linked - 1]->wire, true)
                                : stored_change(info.id, info.seq, prev_wire, prev_hash);
    if (have_prev && check_fork(prev_wire, *ahead[linked]->wire, key, seq, report)) {
      report.rejected += run_end;
      return;
    }
    report.rejected += run_end - linked;
    report.problems.push_back({Problem::Kind::kBrokenLink, key, seq,
                               "previous-hash link broken: change refused with the rest of its run"});
    run_end = linked;
  }

  // Clock: a timestamp too far ahead is held, with everything after it.
  std::size_t timely = 0;
  while (timely < run_end && !clock_.too_far_ahead(ahead[timely]->body->hlc())) ++timely;
  if (timely < run_end && !signature_ok(*ahead[timely])) {
    // Not the origin's clock but a forgery (a tampered timestamp, say): refuse it
    // rather than hold it, or a relay could make an honest office look skewed.
    report.problems.push_back({Problem::Kind::kBadSignature, key, ahead[timely]->body->seq(),
                               "signature does not verify (timestamp far ahead)"});
    report.rejected += run_end - timely;
    run_end = timely;
  }

  // Signatures: the run's last one authenticates the whole chain.
  std::size_t accepted = timely;
  if (accepted > 0) {
    if (mode == VerifyMode::kEverySignature) {
      std::size_t ok = 0;
      while (ok < accepted && signature_ok(*ahead[ok])) ++ok;
      if (ok < accepted) {
        report.problems.push_back({Problem::Kind::kBadSignature, key, ahead[ok]->body->seq(),
                                   "signature does not verify"});
        report.rejected += accepted - ok;
      }
      accepted = ok;
    } else if (mode == VerifyMode::kChain && !signature_ok(*ahead[accepted - 1])) {
      // If the last change is the bad one (tampered after the links were made,
      // or forged), the one before it may still close a valid run.
      std::size_t bad_from = accepted - 1;
      bool prefix_ok = bad_from > 0 && signature_ok(*ahead[bad_from - 1]);
      std::size_t keep = prefix_ok ? bad_from : 0;
      report.problems.push_back({Problem::Kind::kBadSignature, key, ahead[keep]->body->seq(),
                                 "run refused: its last signature does not verify"});
      report.rejected += accepted - keep;
      accepted = keep;
    }
  }

  // Who may write here: verified changes of an origin the policy refuses wait,
  // held, until it admits them (a certificate still on its way), never merged.
  std::size_t unvouched_end = 0;
  if (accepted > 0 && origin_policy_ && key.origin != identity_.public_key()) {
    std::vector<const WireChange*> verified(accepted);
    for (std::size_t i = 0; i < accepted; ++i) verified[i] = ahead[i]->wire;
    if (std::optional<std::string> why = origin_policy_(key.origin, key.scope, verified)) {
      // A policy may admit a run's beginning only (a revoked node's history, kept
      // through some sequence): the longest admitted prefix, found by bisection
      // when the first change alone is admitted (policies admit prefixes of what
      // they admit), and closed by its last change's own signature (chain rule).
      std::size_t admit = 0;
      auto admits = [&](std::size_t n) {
        return !origin_policy_(key.origin, key.scope, std::span<const WireChange* const>(verified.data(), n));
      };
      if (accepted > 1 && admits(1)) {
        std::size_t lo = 1, hi = accepted;  // lo admitted, hi refused
        while (lo + 1 < hi) {
          std::size_t mid = lo + (hi - lo) / 2;
          (admits(mid) ? lo : hi) = mid;
        }
        if (signature_ok(*ahead[lo - 1])) admit = lo;
      }
      report.problems.push_back({Problem::Kind::kUncertified, key, ahead[admit]->body->seq(),
                                 *why + "; " + std::to_string(accepted - admit) + " change(s) held, not merged"});
      unvouched_end = accepted;
      accepted = admit;
    }
  }

  for (std::size_t i = 0; i < accepted; ++i) {
    bool checked = mode != VerifyMode::kChain || i + 1 == accepted;
    append_change(info, *ahead[i], checked, false);
    info.seq = ahead[i]->body->seq();
    info.head = ahead[i]->hash;
  }
  report.applied += accepted;

  // Hold what is left: skewed changes and those beyond a gap (bounded).
  std::size_t newly_held = 0;
  for (std::size_t i = accepted; i < ahead.size(); ++i) {
    bool unvouched = i < unvouched_end;
    bool skewed = i >= timely && i < run_end;
    bool beyond_gap = i >= contiguous_end;
    if (!unvouched && !skewed && !beyond_gap) continue;
    if (from_held.count(ahead[i]) != 0) continue;  // still held from before
    if (skewed && i == timely) {
      report.problems.push_back({Problem::Kind::kClockSkew, key, ahead[i]->body->seq(),
                                 "timestamp " + hlc_to_string(ahead[i]->body->hlc()) +
                                     " is too far ahead of local time; held"});
    }
    if (held_count + newly_held >= options_.max_held_per_stream) {  // held_count: rows already there
      report.problems.push_back({Problem::Kind::kHeldTooMany, key, ahead[i]->body->seq(),
                                 "too many changes held for this stream; dropped (will be resent)"});
      break;
    }
    if (held_total_ >= options_.max_held_total) {
      report.problems.push_back({Problem::Kind::kHeldTooMany, key, ahead[i]->body->seq(),
                                 "too many changes held on this node (" + std::to_string(held_total_) +
                                     "); dropped (will be resent)"});
      break;
    }
    hold(info, *ahead[i], unvouched ? kHeldUncertified : skewed ? kHeldSkew : kHeldGap);
    ++newly_held;
  }
  report.held += newly_held;
  for (std::size_t i = accepted; i < ahead.size(); ++i) {
    bool still_waiting = i < unvouched_end || i >= contiguous_end || (i >= timely && i < run_end);
    if (from_held.count(ahead[i]) != 0 && still_waiting) ++report.held;
  }
  if (info.seq != before.seq) {
    write_stream(key, info);
    del_held_.bind(1, info.id).bind(2, static_cast<std::int64_t>(info.seq)).run();
    held_total_ -= std::min(held_total_, static_cast<std::size_t>(sqlite3_changes(db_.get())));
  } else if (before.seq == 0 && newly_held > 0) {
    write_stream(key, info);  // a stream we only hold changes of: record its id
  }
}

ApplyReport Store::Impl::apply(std::span<const WireChange> changes, VerifyMode mode) {
  ApplyReport report;
  for (std::size_t start = 0; start < changes.size(); start += options_.apply_chunk_changes) {
    std::size_t end = std::min(changes.size(), start + options_.apply_chunk_changes);
    ArenaScope arena(*this);  // before `decoded`: outlives nothing that points into it
    std::deque<DecodedChange> decoded;
    std::vector<DecodedChange*> chunk;
    for (std::size_t i = start; i < end; ++i) {
      DecodedChange& d = decoded.emplace_back();
      Status s = decode_change(changes[i], d, arena_);
      if (!s.is_ok()) {
        ++report.rejected;
        report.problems.push_back(stray_problem(s.message()));
        decoded.pop_back();
        continue;
      }
      chunk.push_back(&d);
    }
    if (!apply_chunk(chunk, end - start, mode, report)) return report;
  }
  return report;
}

// A prepared batch: decoded (and its likely run-ending signatures checked) on
// another thread; from here on exactly the kChain path above.
ApplyReport Store::Impl::apply(PreparedBatch::Impl& batch) {
  ApplyReport report;
  report.rejected += batch.malformed.size();
  for (Problem& p : batch.malformed) report.problems.push_back(std::move(p));
  batch.malformed.clear();
  // Record states are built on the batch's arena, beside its bodies and
  // deltas: a first change's delta becomes its record's state without a copy,
  // and the whole is freed with the batch (by the pipeline, off this thread).
  struct UseArena {
    UseArena(Impl& impl, google::protobuf::Arena* arena) : impl_(impl) { impl_.arena_ = arena; }
    ~UseArena() { impl_.arena_ = nullptr; }
    UseArena(const UseArena&) = delete;
    UseArena& operator=(const UseArena&) = delete;
    Impl& impl_;
  } use(*this, &batch.arena);
  std::vector<DecodedChange*> chunk;
  for (auto it = batch.decoded.begin(); it != batch.decoded.end();) {
    chunk.clear();
    for (; it != batch.decoded.end() && chunk.size() < options_.apply_chunk_changes; ++it) chunk.push_back(&*it);
    if (!apply_chunk(chunk, chunk.size(), VerifyMode::kChain, report)) break;
  }
  batch.decoded.clear();  // spent: applying it again applies nothing
  return report;
}

bool Store::Impl::apply_chunk(const std::vector<DecodedChange*>& chunk, std::size_t received, VerifyMode mode,
                              ApplyReport& report) {
  // A catch-up's large batches leave index maintenance to catch_up_index();
  // live pushes (small batches) are indexed at once.
  const bool defer_index = options_.defer_index_min_changes > 0 && received >= options_.defer_index_min_changes;
  std::map<StreamKey, std::vector<DecodedChange*>> by_stream;
  for (DecodedChange* d : chunk) by_stream[d->stream].push_back(d);
  return apply_streams(by_stream, mode, defer_index, report);
}

// One transaction over the streams (each with what arrived for it; held rows
// rejoin in apply_stream); on a database error nothing of it stays, in the
// database or in memory.
bool Store::Impl::apply_streams(std::map<StreamKey, std::vector<DecodedChange*>>& by_stream, VerifyMode mode,
                                bool defer_index, ApplyReport& report) {
  std::deque<DecodedChange> held;  // held changes rejoining their streams, on arena_
  std::deque<WireChange> storage;
  MemoryState saved = save_memory();
  try {
    sql::Transaction tx(db_);
    for (auto& [key, list] : by_stream) apply_stream(key, list, mode, report, storage, held);
    if (rebuild_needed_) rebuild_records();
    flush_pending(defer_index);
    tx.commit();
  } catch (const sql::SqlError& e) {
    restore_memory(std::move(saved));
    report.problems.push_back(stray_problem("database error: " + e.message));
    return false;
  }
  notify();
  return true;
}

// ---------------------------------------------------------------------------
// PreparedBatch

PreparedBatch::PreparedBatch() : impl_(std::make_unique<Impl>()) {}
PreparedBatch::~PreparedBatch() = default;
std::size_t PreparedBatch::size() const { return impl_->wire.size(); }
const VersionVector& PreparedBatch::heads() const { return impl_->heads; }

std::unique_ptr<PreparedBatch> Store::prepare(std::vector<WireChange> changes) {
  auto batch = std::make_unique<PreparedBatch>();
  PreparedBatch::Impl& b = *batch->impl_;
  b.wire = std::move(changes);
  std::map<StreamKey, DecodedChange*> top;  // the highest change of each stream (the first of equals)
  for (const WireChange& w : b.wire) {
    DecodedChange& d = b.decoded.emplace_back();
    Status s = decode_change(w, d, &b.arena);
    if (!s.is_ok()) {
      b.malformed.push_back(stray_problem(s.message()));
      b.decoded.pop_back();
      continue;
    }
    DecodedChange*& t = top[d.stream];
    if (t == nullptr || d.body->seq() > t->body->seq()) t = &d;
    d.delta = google::protobuf::Arena::CreateMessage<pb::RecordState>(&b.arena);
    merge::build_delta(*d.body, d.hash, *d.delta);
  }
  for (const auto& [key, d] : top) {
    // The signature that apply_stream's kChain check needs when this batch
    // continues the stream as one linked run (a catch-up): checked here, its
    // answer kept in the change. Any other it needs, it checks itself.
    (void)signature_ok(*d);
    b.heads[key] = StreamHead{d->body->seq(), d->hash};
  }
  return batch;
}

ApplyReport Store::Impl::retry_held() {
  ApplyReport report;
  // What waited too long goes first (never acknowledged: its sender resends it).
  if (options_.held_max_age_s > 0) {
    try {
      sql::Stmt drop(db_.get(), "DELETE FROM held WHERE held_at < ?");
      drop.bind(1, static_cast<std::int64_t>(wall_.now_ms() / 1000) - static_cast<std::int64_t>(options_.held_max_age_s))
          .run();
      report.expired = static_cast<std::size_t>(sqlite3_changes(db_.get()));
      held_total_ -= std::min(held_total_, report.expired);
    } catch (const sql::SqlError& e) {
      report.problems.push_back(stray_problem("database error: " + e.message));
      return report;
    }
  }
  // Re-applying nothing per stream with held rows pulls them in.
  std::map<StreamKey, std::vector<DecodedChange*>> by_stream;
  {
    sql::Stmt q(db_.get(), "SELECT DISTINCT stream FROM held");
    std::set<std::int64_t> ids;
    while (q.step()) ids.insert(q.integer(0));
    for (const auto& [key, info] : streams_)
      if (ids.count(info.id) != 0 && quarantined_.count(key.origin) == 0) by_stream[key];
  }
  if (by_stream.empty()) return report;
  ArenaScope arena(*this);
  apply_streams(by_stream, VerifyMode::kChain, false, report);
  return report;
}

}  // namespace wardsync
