// The store's local write path: a clerk's transaction becomes one signed change
// per record, appended to this node's stream, merged, and committed durably —
// many transactions to one fsync (group commit).
#include "store_internal.hpp"

namespace wardsync {


namespace {

// One change carries at most one value per lww/once/rank field (the last one
// written: they would share one timestamp) and one increment per counter (the
// sum). Two different values for a `once` field in one write are refused.
Result<std::vector<FieldWrite>> collapse_ops(const std::vector<FieldWrite>& ops) {
  std::vector<FieldWrite> out;
  for (const auto& op : ops) {
    using K = FieldWrite::Kind;
    bool single = op.kind == K::kSet || op.kind == K::kSetOnce || op.kind == K::kSetRank || op.kind == K::kIncrement;
    auto same = std::find_if(out.begin(), out.end(), [&](const FieldWrite& o) {
      return single && o.field == op.field && o.kind == op.kind;
    });
    if (same == out.end()) {
      out.push_back(op);
    } else if (op.kind == K::kIncrement) {
      same->delta += op.delta;
    } else if (op.kind == K::kSetOnce && same->value != op.value) {
      return Status{Code::kConflict, "field " + op.field + " is written once; one write gave it two values"};
    } else {
      *same = op;
    }
  }
  return out;
}

}  // namespace

Status Store::Impl::build_ops(const RecordWrite& w, const pb::RecordState& current, pb::ChangeBody& body) {
  auto collapsed = collapse_ops(w.ops);
  if (!collapsed.is_ok()) return collapsed.status();
  for (const auto& op : collapsed.value()) {
    const FieldSpec* spec = schema_.field(w.collection, op.field);
    if (spec == nullptr) {
      return {Code::kInvalidArgument, "collection " + w.collection + " has no field " + op.field};
    }
    using K = FieldWrite::Kind;
    MergeType need = MergeType::kLww;
    switch (op.kind) {
      case K::kSet: need = MergeType::kLww; break;
      case K::kSetOnce: need = MergeType::kOnce; break;
      case K::kSetRank: need = MergeType::kRank; break;
      case K::kAdd:
      case K::kRemove: need = MergeType::kSet; break;
      case K::kAppend: need = MergeType::kLog; break;
      case K::kIncrement: need = MergeType::kCounter; break;
    }
    if (spec->type != need) {
      return {Code::kInvalidArgument, "field " + op.field + " is " + merge_type_name(spec->type) +
                                          ", not " + merge_type_name(need)};
    }
    const pb::FieldState* fs = merge::find_field(current, op.field);
    pb::FieldOp* out = body.add_ops();
    out->set_field(op.field);
    out->set_type(to_pb(spec->type));
    switch (op.kind) {
      case K::kSet:
        out->set_kind(pb::OP_SET);
        out->set_value(op.value);
        if (fs != nullptr && !fs->versions().empty()) {
          const pb::Version& w0 = fs->versions(fs->versions_size() - 1);
          out->set_base_hlc(w0.hlc());
          out->set_base_origin(w0.origin());
        }
        break;
      case K::kSetOnce:
        if (fs != nullptr && !fs->versions().empty() && fs->versions(0).value() != op.value) {
          return {Code::kConflict, "field " + op.field + " is written once and already holds a value"};
        }
        out->set_kind(pb::OP_SET);
        out->set_value(op.value);
        break;
      case K::kSetRank:
        out->set_kind(pb::OP_SET);
        out->set_value(op.value);
        out->set_rank_cycle(op.rank.cycle);
        out->set_rank_stage(op.rank.stage);
        out->set_rank_terminal(op.rank.terminal);
        break;
      case K::kAdd:
        out->set_kind(pb::OP_ADD);
        out->set_value(op.value);
        break;
      case K::kRemove:
        out->set_kind(pb::OP_REMOVE);
        out->set_value(op.value);
        if (fs != nullptr) {
          for (const auto& e : fs->elements()) {
            if (e.value() != op.value) continue;
            for (const auto& t : e.tags()) out->add_removed_tags(t);
          }
        }
        break;
      case K::kAppend:
        out->set_kind(pb::OP_APPEND);
        out->set_value(op.value);
        break;
      case K::kIncrement: {
        out->set_kind(pb::OP_INCREMENT);
        out->set_delta(op.delta);
        std::int64_t p = 0;
        std::int64_t n = 0;
        std::string me(view(identity_.public_key()));
        if (fs != nullptr) {
          for (const auto& s : fs->shares()) {
            if (s.origin() == me) {
              p = s.p();
              n = s.n();
            }
          }
        }
        if (op.delta >= 0) p += op.delta; else n -= op.delta;
        out->set_counter_p(p);
        out->set_counter_n(n);
        break;
      }
    }
  }
  return Status::ok();
}

Result<CommitInfo> Store::Impl::commit_one(const Transaction& txn) {
  if (txn.scope().empty() || txn.scope().size() > kMaxScopeBytes) {
    return Status{Code::kInvalidArgument, "scope empty or too long"};
  }
  if (txn.author().size() > kMaxNameBytes) return Status{Code::kInvalidArgument, "author too long"};
  if (txn.writes().empty()) return Status{Code::kInvalidArgument, "empty transaction"};
  StreamKey key{identity_.public_key(), txn.scope()};
  CommitInfo info;
  std::vector<std::pair<WireChange, pb::ChangeBody>> built;
  StreamInfo& stream = stream_info(key);
  StreamInfo cursor = stream;
  // Build and validate everything first: a rejected transaction writes nothing.
  std::map<RecordKey, pb::RecordState> local_states;
  for (const auto& w : txn.writes()) {
    if (schema_.collection(w.collection) == nullptr) {
      return Status{Code::kInvalidArgument, "unknown collection " + w.collection};
    }
    if (w.ops.empty() && !w.tombstone) return Status{Code::kInvalidArgument, "a write with no operations"};
    Hlc hlc = clock_.tick();
    RecordId id = w.create ? RecordId::make(hlc, identity_.public_key()) : w.id;
    pb::RecordState current;
    auto cached = local_states.find({w.collection, id});
    if (cached != local_states.end()) {
      current = cached->second;
    } else if (!w.create) {
      Pending& p = load_pending(w.collection, id);
      if (!p.existed && p.state->fields().empty() && p.state->created_hlc() == 0) {
        pending_.erase({w.collection, id});  // or it would be written as an empty record
        return Status{Code::kNotFound, "no record " + id.hex() + " in " + w.collection};
      }
      current = *p.state;
    }
    pb::ChangeBody body;
    body.set_origin(view(key.origin).data(), kPublicKeyBytes);
    body.set_scope(key.scope);
    body.set_seq(cursor.seq + 1);
    body.set_hlc(hlc);
    if (cursor.seq > 0) body.set_prev_hash(view(cursor.head).data(), kHashBytes);
    body.set_collection(w.collection);
    body.set_record_id(view(id).data(), 16);
    body.set_author(txn.author());
    body.set_schema_version(schema_.version());
    body.set_tombstone(w.tombstone);
    Status s = build_ops(w, current, body);
    if (!s.is_ok()) return s;
    WireChange wire;
    body.SerializeToString(&wire.body);
    Signature sig = identity_.sign({reinterpret_cast<const std::uint8_t*>(wire.body.data()), wire.body.size()});
    wire.signature.assign(reinterpret_cast<const char*>(sig.data()), sig.size());
    Hash h = change_hash(wire);
    merge::join(current, merge::delta_of(body, h));
    local_states[{w.collection, id}] = current;
    cursor.seq = body.seq();
    cursor.head = h;
    info.records.push_back(id);
    info.changes.push_back({key, body.seq(), h});
    built.emplace_back(std::move(wire), std::move(body));
  }
  for (auto& [wire, body] : built) {
    DecodedChange d;
    Status s = decode_change(wire, d);
    if (!s.is_ok()) return Status{Code::kInternal, "own change does not decode: " + s.message()};
    append_change(stream, d, true, true);
    stream.seq = d.body->seq();
    stream.head = d.hash;
  }
  write_stream(key, stream);
  return info;
}

std::vector<Result<CommitInfo>> Store::Impl::commit_group(std::span<const Transaction* const> txns) {
  std::vector<Result<CommitInfo>> results;
  auto saved_streams = streams_;
  Identity::Unlocked key(identity_);  // one unlock for the whole group
  ArenaScope arena(*this);
  try {
    sql::Transaction tx(db_);
    for (const Transaction* t : txns) {
      auto before = streams_;
      std::size_t applied_before = applied_.size();
      // A failed transaction must leave no trace in the group: pending record
      // states are only touched after validation, so restoring streams suffices.
      Result<CommitInfo> r = commit_one(*t);
      if (!r.is_ok()) {
        streams_ = std::move(before);
        applied_.resize(applied_before);
      }
      results.push_back(std::move(r));
    }
    flush_pending();
    tx.commit();
  } catch (const sql::SqlError& e) {
    streams_ = std::move(saved_streams);
    pending_.clear();
    applied_.clear();
    results.clear();
    for (std::size_t i = 0; i < txns.size(); ++i) {
      results.emplace_back(Status{Code::kIo, "database error: " + e.message});
    }
    return results;
  }
  notify();
  return results;
}

}  // namespace wardsync
