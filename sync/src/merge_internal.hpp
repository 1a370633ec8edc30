// Merge rules of the six merge types, as a join of record states.
//
// Every change is turned into the small state it contributes (delta_of), and
// applying it is join(state, delta). join is commutative, associative and
// idempotent (tests/sync/merge_test.cpp checks it on random states), so replicas
// that have seen the same set of changes hold byte-identical states, whatever
// the order of arrival. States are kept canonical (sorted) so equal means equal bytes.
//
// Rules (DESIGN.md, "Data model"):
//  lww     the highest (hlc, origin) wins. A version stays in the conflict list
//          while no writer has seen it: a write carries the id of the winner its
//          writer saw (its base); versions at or below the highest base seen are
//          dropped. What is left besides the winner are the conflicts.
//  rank    the highest (cycle, stage) wins, then (hlc, origin). Terminal stages
//          of the winner's cycle that differ from the winner are conflicts.
//  set     add-wins observed-remove: an add tags the element with its op id; a
//          remove names the tags its writer observed; an element is present
//          while it has a tag that no remove named.
//  log     union of entries, ordered by (hlc, origin, op index).
//  counter PN-counter: per origin, the running totals of increments and
//          decrements; join takes the maximum of each.
//  once    the earliest (hlc, origin) write wins; a later different value is a
//          conflict, kept and flagged, never silently replaced.
//  tombstone: a deleted record stays deleted (the earliest delete is kept).
#pragma once

#include "wardsync.pb.h"
#include "wardsync/sync/types.hpp"

namespace wardsync::merge {

constexpr std::size_t kTagBytes = 18;  // 16 bytes of the body hash + 2 of op index

std::string make_tag(const Hash& body_hash, std::size_t op_index);

pb::RecordState delta_of(const pb::ChangeBody& body, const Hash& body_hash);
// delta_of into a message the caller allocated (on an arena, say); `d` empty.
void build_delta(const pb::ChangeBody& body, const Hash& body_hash, pb::RecordState& d);
void join(pb::RecordState& state, const pb::RecordState& delta);
void join(pb::RecordState& state, pb::RecordState&& delta);  // moves when `state` is empty
bool has_conflicts(const pb::RecordState& state);
void to_view(const pb::RecordState& state, Record& out);

// The field's state in `state`, or nullptr.
const pb::FieldState* find_field(const pb::RecordState& state, const std::string& name);
// The version an lww, once or rank field shows: the first of a once, the last
// otherwise (versions are kept winner last). Null when the field has none.
const pb::Version* winner(const pb::FieldState& field);

// The stored form of a record state (records.state): serialize_state leaves
// out the origin most of its parts share (named once, in common_origin) and
// leaves `state` as it was; parse_state reads either form (states written
// before schema 8 name every origin) and puts every origin back. Deterministic:
// equal states give equal bytes, so replicas' digests still compare.
void serialize_state(pb::RecordState& state, std::string& out);
[[nodiscard]] bool parse_state(std::string_view blob, pb::RecordState& state);

}  // namespace wardsync::merge
