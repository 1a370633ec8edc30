#include <sodium.h>

#include <cstring>

#include "change_internal.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync {

namespace {

Status malformed(const std::string& why) { return {Code::kInvalidArgument, "malformed change: " + why}; }

bool valid_name(const std::string& s) { return !s.empty() && s.size() <= kMaxNameBytes; }

Status validate_op(const pb::FieldOp& op) {
  if (!valid_name(op.field())) return malformed("field name empty or too long");
  MergeType type;
  if (!from_pb(op.type(), type)) return malformed("unknown merge type for field " + op.field());
  using K = pb::OpKind;
  bool ok = false;
  switch (type) {
    case MergeType::kLww:
    case MergeType::kOnce:
    case MergeType::kRank: ok = op.kind() == K::OP_SET; break;
    case MergeType::kSet: ok = op.kind() == K::OP_ADD || op.kind() == K::OP_REMOVE; break;
    case MergeType::kLog: ok = op.kind() == K::OP_APPEND; break;
    case MergeType::kCounter: ok = op.kind() == K::OP_INCREMENT; break;
  }
  if (!ok) return malformed("operation does not fit the merge type of field " + op.field());
  if (!op.base_origin().empty() && op.base_origin().size() != kPublicKeyBytes) {
    return malformed("bad base origin in field " + op.field());
  }
  if (op.removed_tags_size() > 4096) return malformed("too many removed tags");
  return Status::ok();
}

}  // namespace

const char* merge_type_name(MergeType type) {
  switch (type) {
    case MergeType::kLww: return "lww";
    case MergeType::kRank: return "rank";
    case MergeType::kSet: return "set";
    case MergeType::kLog: return "log";
    case MergeType::kCounter: return "counter";
    case MergeType::kOnce: return "once";
  }
  return "?";
}

pb::MergeType to_pb(MergeType type) { return static_cast<pb::MergeType>(type); }

bool from_pb(pb::MergeType type, MergeType& out) {
  switch (type) {
    case pb::LWW: out = MergeType::kLww; return true;
    case pb::RANK: out = MergeType::kRank; return true;
    case pb::SET: out = MergeType::kSet; return true;
    case pb::LOG: out = MergeType::kLog; return true;
    case pb::COUNTER: out = MergeType::kCounter; return true;
    case pb::ONCE: out = MergeType::kOnce; return true;
    default: return false;
  }
}

Status decode_change(const WireChange& wire, DecodedChange& out, google::protobuf::Arena* arena) {
  if (wire.body.empty()) return malformed("empty body");
  if (wire.body.size() > kMaxChangeBodyBytes) return malformed("body larger than the limit");
  if (wire.signature.size() != kSignatureBytes) return malformed("signature is not 64 bytes");
  if (arena != nullptr) {
    out.body = google::protobuf::Arena::CreateMessage<pb::ChangeBody>(arena);
  } else {
    out.owned = std::make_unique<pb::ChangeBody>();
    out.body = out.owned.get();
  }
  if (!out.body->ParseFromString(wire.body)) return malformed("body is not a ChangeBody");
  const pb::ChangeBody& b = *out.body;
  if (b.origin().size() != kPublicKeyBytes) return malformed("origin is not 32 bytes");
  if (b.scope().empty() || b.scope().size() > kMaxScopeBytes) return malformed("bad scope");
  if (b.seq() == 0) return malformed("sequence 0");
  if (b.seq() == 1 ? !b.prev_hash().empty() : b.prev_hash().size() != kHashBytes) {
    return malformed("bad previous hash");
  }
  if (!valid_name(b.collection())) return malformed("bad collection name");
  if (b.record_id().size() != 16) return malformed("record id is not 16 bytes");
  if (b.author().size() > kMaxNameBytes) return malformed("author too long");
  if (b.hlc() == 0) return malformed("zero timestamp");
  if (static_cast<std::size_t>(b.ops_size()) > kMaxOpsPerChange) return malformed("too many ops");
  if (b.ops_size() == 0 && !b.tombstone()) return malformed("no operations");
  for (const auto& op : b.ops()) {
    Status s = validate_op(op);
    if (!s.is_ok()) return s;
  }
  out.wire = &wire;
  out.signature_state = 0;
  out.delta = nullptr;
  std::memcpy(out.stream.origin.data(), b.origin().data(), kPublicKeyBytes);
  out.stream.scope = b.scope();
  out.hash = change_hash(wire);
  out.prev = Hash{};
  if (b.seq() > 1) std::memcpy(out.prev.data(), b.prev_hash().data(), kHashBytes);
  std::memcpy(out.record.bytes.data(), b.record_id().data(), 16);
  std::memcpy(out.signature.data(), wire.signature.data(), kSignatureBytes);
  return Status::ok();
}

Hash change_hash(const WireChange& change) {
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kHashBytes);
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(change.body.data()), change.body.size());
  crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(change.signature.data()),
                            change.signature.size());
  Hash h;
  crypto_generichash_final(&st, h.data(), h.size());
  return h;
}

bool signature_ok(const DecodedChange& change) {
  if (change.signature_state != 0) return change.signature_state > 0;
  bool ok = verify_signature(
      change.stream.origin,
      {reinterpret_cast<const std::uint8_t*>(change.wire->body.data()), change.wire->body.size()},
      change.signature);
  change.signature_state = ok ? 1 : -1;
  return ok;
}

WireChange sign_draft(const Identity& identity, const ChangeDraft& draft) {
  pb::ChangeBody b;
  b.set_origin(identity.public_key().data(), kPublicKeyBytes);
  b.set_scope(draft.scope);
  b.set_seq(draft.seq);
  b.set_hlc(draft.hlc);
  if (draft.seq > 1) b.set_prev_hash(draft.prev_hash.data(), kHashBytes);
  b.set_collection(draft.collection);
  b.set_record_id(draft.record.bytes.data(), 16);
  b.set_author(draft.author);
  b.set_schema_version(draft.schema_version);
  b.set_tombstone(draft.tombstone);
  for (const auto& [field, value] : draft.lww) {
    pb::FieldOp* op = b.add_ops();
    op->set_field(field);
    op->set_type(pb::LWW);
    op->set_kind(pb::OP_SET);
    op->set_value(value);
  }
  WireChange out;
  b.SerializeToString(&out.body);
  Signature sig =
      identity.sign({reinterpret_cast<const std::uint8_t*>(out.body.data()), out.body.size()});
  out.signature.assign(reinterpret_cast<const char*>(sig.data()), sig.size());
  return out;
}

Result<ChangeHeader> parse_header(const WireChange& change) {
  DecodedChange d;
  Status s = decode_change(change, d);
  if (!s.is_ok()) return s;
  ChangeHeader h;
  h.stream = d.stream;
  h.seq = d.body->seq();
  h.hlc = d.body->hlc();
  h.prev_hash = d.prev;
  h.collection = d.body->collection();
  h.record = d.record;
  h.tombstone = d.body->tombstone();
  for (const auto& op : d.body->ops())
    if (op.kind() == pb::OP_SET) h.sets[op.field()] = op.value();
  return h;
}

}  // namespace wardsync
