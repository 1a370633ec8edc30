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
  // signature_ok()'s answer once asked (0: not yet, 1: valid, -1: not): a
  // pipeline checks the signature a run needs before the writer looks at it.
  mutable signed char signature_state = 0;
  // The record state this change contributes (merge::build_delta), built in
  // advance on the body's arena by Store::prepare; consumed (moved from) when
  // the change is merged. nullptr: built when merged.
  mutable pb::RecordState* delta = nullptr;
};

// Parses and validates one change. On error nothing in `out` is meaningful.
Status decode_change(const WireChange& wire, DecodedChange& out, google::protobuf::Arena* arena = nullptr);

// True when the signature over the exact body bytes is the origin's. Checked
// once per DecodedChange: the answer is kept in signature_state.
bool signature_ok(const DecodedChange& change);

pb::MergeType to_pb(MergeType type);
bool from_pb(pb::MergeType type, MergeType& out);

}  // namespace wardsync
