// On-demand fetch in the store (DESIGN.md, "Replication protocol": a record
// outside a node's scope is fetched through the tree, arrives with its origin
// signatures, and is pinned locally).
//
// Serving: every change of one record, found through `record_changes` (an index
// of the log by record) plus the record's pinned changes, as the origin signed
// them. Receiving: pin() verifies EACH change's own signature (its stream is not
// held whole, so no chain vouches for it), checks it belongs to the record asked
// for, and merges it into the record's state. Pinned changes are kept in their
// own table and belong to no stream: the version vector, missing_for() and the
// chains this node serves never see them. If the node later receives the stream
// whole, the same changes are appended to the log and merged again, which the
// join makes a no-op (merging is idempotent).
#include "store_internal.hpp"

namespace wardsync {

void Store::Impl::index_change(const StreamInfo& info, const DecodedChange& c) {
  put_record_change_.bind_text(1, c.body->collection())
      .bind(2, view(c.record))
      .bind(3, info.id)
      .bind(4, static_cast<std::int64_t>(c.body->seq()))
      .run();
}

// Once, inside migration 5's transaction (a crash half way redoes it): index the log.
void Store::Impl::index_record_changes() {
  sql::Stmt put(db_.get(), "INSERT OR IGNORE INTO record_changes(collection, id, stream, seq) VALUES(?,?,?,?)");
  sql::Stmt all(db_.get(), "SELECT stream, seq, body FROM changes");
  while (all.step()) {
    pb::ChangeBody body;
    std::string_view blob = all.blob_view(2);
    if (!body.ParseFromArray(blob.data(), static_cast<int>(blob.size()))) continue;
    put.bind_text(1, body.collection())
        .bind(2, body.record_id())
        .bind(3, all.integer(0))
        .bind(4, all.integer(1))
        .run();
  }
}

void Store::Impl::replay_pinned(const std::set<PublicKey>& skip_origins) {
  sql::Stmt all(db_.get(), "SELECT origin, body, hash FROM pinned");
  while (all.step()) {
    PublicKey origin{};
    copy_to(all.blob_view(0), origin);
    if (skip_origins.count(origin) != 0) continue;
    replay_change(all.blob_view(1), all.blob_view(2));
  }
}

std::vector<WireChange> Store::Impl::record_changes(const std::string& collection, const RecordId& id,
                                                    std::size_t limit) const {
  std::set<std::int64_t> skip;  // streams of quarantined origins: never served
  for (const auto& [key, info] : streams_) {
    if (quarantined_.count(key.origin) != 0) skip.insert(info.id);
  }
  std::vector<WireChange> out;
  std::set<Hash> seen;
  sql::Stmt q(db_.get(),
              "SELECT c.stream, c.body, c.sig, c.hash FROM record_changes r JOIN changes c "
              "ON c.stream = r.stream AND c.seq = r.seq WHERE r.collection = ? AND r.id = ? "
              "ORDER BY r.stream, r.seq LIMIT ?");
  q.bind_text(1, collection).bind(2, view(id)).bind(3, static_cast<std::int64_t>(limit));
  while (q.step()) {
    if (skip.count(q.integer(0)) != 0) continue;
    Hash h{};
    copy_to(q.blob_view(3), h);
    seen.insert(h);
    out.push_back(WireChange{q.blob(1), q.blob(2)});
  }
  sql::Stmt p(db_.get(), "SELECT origin, body, sig, hash FROM pinned WHERE collection = ? AND id = ?");
  p.bind_text(1, collection).bind(2, view(id));
  while (p.step() && out.size() < limit) {
    PublicKey origin{};
    copy_to(p.blob_view(0), origin);
    Hash h{};
    copy_to(p.blob_view(3), h);
    if (quarantined_.count(origin) != 0 || seen.count(h) != 0) continue;
    out.push_back(WireChange{p.blob(1), p.blob(2)});
  }
  return out;
}

bool Store::Impl::is_pinned(const std::string& collection, const RecordId& id) const {
  sql::Stmt q(db_.get(), "SELECT 1 FROM pinned WHERE collection = ? AND id = ? LIMIT 1");
  q.bind_text(1, collection).bind(2, view(id));
  return q.step();
}

ApplyReport Store::Impl::pin(const std::string& collection, const RecordId& id,
                             std::span<const WireChange> changes,
                             const std::optional<std::pair<std::string, std::string>>& must_hold) {
  ApplyReport report;
  // A record of this node's own streams (its log has changes of it) changes only
  // through them: otherwise a hostile answer, signed with a key of its own, could
  // rewrite a dossier this office holds.
  bool own_record = false;
  {
    sql::Stmt own(db_.get(), "SELECT 1 FROM record_changes WHERE collection=? AND id=? LIMIT 1");
    own.bind_text(1, collection).bind(2, view(id));
    own_record = own.step();
  }
  ArenaScope arena(*this);
  std::deque<DecodedChange> decoded;
  sql::Stmt put(db_.get(),
                "INSERT OR IGNORE INTO pinned(collection, id, hash, origin, body, sig) VALUES(?,?,?,?,?,?)");
  try {
    sql::Transaction tx(db_);
    for (const WireChange& wire : changes) {
      DecodedChange& c = decoded.emplace_back();
      Status s = decode_change(wire, c, arena_);
      if (!s.is_ok()) {
        ++report.rejected;
        report.problems.push_back(stray_problem("fetched change: " + s.message()));
        continue;
      }
      const std::uint64_t seq = c.body->seq();
      auto refuse = [&](Problem::Kind kind, std::string detail) {
        ++report.rejected;
        report.problems.push_back({kind, c.stream, seq, std::move(detail)});
      };
      // A relay may not slip another record in with the one asked for.
      if (c.body->collection() != collection || c.record != id) {
        refuse(Problem::Kind::kMalformed, "fetched change belongs to another record");
        continue;
      }
      if (quarantined_.count(c.stream.origin) != 0) {
        refuse(Problem::Kind::kQuarantined, "origin is quarantined for a fork; fetched change refused");
        continue;
      }
      // Its stream is not held whole: only its own signature vouches for it.
      if (!signature_ok(c)) {
        refuse(Problem::Kind::kBadSignature, "fetched change: signature does not verify");
        continue;
      }
      if (clock_.too_far_ahead(c.body->hlc())) {
        refuse(Problem::Kind::kClockSkew, "fetched change: timestamp " + hlc_to_string(c.body->hlc()) +
                                              " is too far ahead of local time");
        continue;
      }
      // A stream this node holds: the log already decides what that sequence is.
      auto held = streams_.find(c.stream);
      if (held != streams_.end() && seq <= held->second.seq) {
        WireChange mine;
        Hash mine_hash{};
        if (stored_change(held->second.id, seq, mine, mine_hash) && mine_hash == c.hash) {
          ++report.duplicates;
        } else {
          refuse(Problem::Kind::kBadSignature,
                 "fetched change differs from the one this node holds at that sequence");
        }
        continue;
      }
      if (own_record) {
        refuse(Problem::Kind::kMalformed, "fetched change refused: this node holds that record in its own streams");
        continue;
      }
      put.bind_text(1, collection)
          .bind(2, view(id))
          .bind(3, view(c.hash))
          .bind(4, view(c.stream.origin))
          .bind(5, wire.body)
          .bind(6, wire.signature)
          .run();
      if (sqlite3_changes(db_.get()) == 0) {
        ++report.duplicates;  // pinned before (a refresh)
        continue;
      }
      Pending& p = load_pending(collection, id);
      auto* delta = google::protobuf::Arena::CreateMessage<pb::RecordState>(arena_);
      merge::build_delta(*c.body, c.hash, *delta);
      merge::join(*p.state, std::move(*delta));
      p.updated = std::max<Hlc>(p.updated, c.body->hlc());
      clock_.observe(c.body->hlc());
      ++report.applied;
      if (subscribers_.empty()) continue;
      AppliedChange a;
      a.stream = c.stream;
      a.seq = seq;
      a.hlc = c.body->hlc();
      a.collection = collection;
      a.record = id;
      a.author = c.body->author();
      applied_.push_back(std::move(a));
    }
    if (must_hold) {
      const pb::FieldState* fs = merge::find_field(*load_pending(collection, id).state, must_hold->first);
      const bool holds = fs != nullptr && !fs->versions().empty() &&
                         (fs->type() == pb::ONCE ? fs->versions(0) : fs->versions(fs->versions_size() - 1)).value() ==
                             must_hold->second;
      if (!holds) {  // the transaction rolls back: nothing pinned
        pending_.clear();
        applied_.clear();
        report.rejected += report.applied;
        report.applied = 0;
        report.problems.push_back(stray_problem("fetched record does not hold the " + must_hold->first + " asked for"));
        return report;
      }
    }
    flush_pending();
    tx.commit();
  } catch (const sql::SqlError& e) {
    pending_.clear();
    applied_.clear();
    report.problems.push_back(stray_problem("database error: " + e.message));
    return report;
  }
  notify();
  return report;
}

std::vector<WireChange> Store::record_changes(const std::string& collection, const RecordId& id,
                                              std::size_t limit) const {
  return impl_->record_changes(collection, id, limit);
}
ApplyReport Store::pin(const std::string& collection, const RecordId& id, std::span<const WireChange> changes,
                       const std::optional<std::pair<std::string, std::string>>& must_hold) {
  return impl_->pin(collection, id, changes, must_hold);
}
bool Store::is_pinned(const std::string& collection, const RecordId& id) const {
  return impl_->is_pinned(collection, id);
}

}  // namespace wardsync
