// Decoding and validating change bodies. Every change entering the store passes
// through decode_change(): sizes are checked before parsing, every field after.
#pragma once

#include <string>

#include "wardsync.pb.h"
#include "wardsync/sync/status.hpp"
#include "wardsync/sync/store.hpp"
#include "wardsync/sync/types.hpp"

namespace wardsync {

struct DecodedChange {
  const WireChange* wire = nullptr;
  pb::ChangeBody body;
  StreamKey stream;
  Hash hash{};  // change_hash(): what the next change of the stream links to
  Hash prev{};  // zero for seq 1
  RecordId record;
  Signature signature{};
};

// Parses and validates one change. On error nothing in `out` is meaningful.
Status decode_change(const WireChange& wire, DecodedChange& out);

// True when the signature over the exact body bytes is the origin's.
bool signature_ok(const DecodedChange& change);

pb::MergeType to_pb(MergeType type);
bool from_pb(pb::MergeType type, MergeType& out);

}  // namespace wardsync
