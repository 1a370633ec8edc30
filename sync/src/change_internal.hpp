// Decoding and validating change bodies. Every change entering the store passes
// through decode_change(): sizes are checked before parsing, every field after.
#pragma once

#include <memory>
#include <string>

#include "wardsync.pb.h"
#include "wardsync/sync/status.hpp"
#include "wardsync/sync/store.hpp"
#include "wardsync/sync/types.hpp"

namespace wardsync {

struct DecodedChange {
  const WireChange* wire = nullptr;
  // On the caller's arena when decode_change got one (a chunk of a batch: one
  // free for all), else owned here.
  pb::ChangeBody* body = nullptr;
  std::unique_ptr<pb::ChangeBody> owned;
  StreamKey stream;
  Hash hash{};  // change_hash(): what the next change of the stream links to
  Hash prev{};  // zero for seq 1
  RecordId record;
  Signature signature{};
};

// Parses and validates one change. On error nothing in `out` is meaningful.
Status decode_change(const WireChange& wire, DecodedChange& out, google::protobuf::Arena* arena = nullptr);

// True when the signature over the exact body bytes is the origin's.
bool signature_ok(const DecodedChange& change);

pb::MergeType to_pb(MergeType type);
bool from_pb(pb::MergeType type, MergeType& out);

}  // namespace wardsync
