// Value types shared by the sync engine's public interfaces: record ids,
// streams, changes as they travel, merge types, and the read view of a record.
// Domain code uses these; it never sees Protobuf.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "wardsync/sync/clock.hpp"
#include "wardsync/sync/identity.hpp"

namespace wardsync {

enum class MergeType : std::uint8_t { kLww = 1, kRank = 2, kSet = 3, kLog = 4, kCounter = 5, kOnce = 6 };
const char* merge_type_name(MergeType type);

// Time-ordered record id: 8 bytes of HLC (big-endian) then the first 8 bytes of
// the creating node's id. Sorted ids are sorted by creation time, which keeps
// SQLite's B-tree inserts at the right edge.
struct RecordId {
  std::array<std::uint8_t, 16> bytes{};
  std::string hex() const { return to_hex(bytes); }
  static std::optional<RecordId> from_hex(const std::string& hex);
  static RecordId make(Hlc hlc, const PublicKey& node);
  auto operator<=>(const RecordId&) const = default;
};

// A stream is one hash chain: (origin, scope).
struct StreamKey {
  PublicKey origin{};
  std::string scope;
  auto operator<=>(const StreamKey&) const = default;
  std::string to_string() const;  // "<origin hex prefix>/<scope>"
};

// A change as it travels and is stored: the exact body bytes and the origin's
// signature over them.
struct WireChange {
  std::string body;
  std::string signature;
  bool operator==(const WireChange&) const = default;
};

// What a node holds of one stream: the last contiguous sequence and its hash.
struct StreamHead {
  std::uint64_t seq = 0;
  Hash head{};
  bool operator==(const StreamHead&) const = default;
};
using VersionVector = std::map<StreamKey, StreamHead>;

// A rank value: (cycle, stage) compared in that order; label names the stage.
struct Rank {
  std::uint32_t cycle = 0;
  std::uint32_t stage = 0;
  bool terminal = false;
  std::string label;
};

struct LogItem {
  Hlc hlc = 0;
  PublicKey origin{};
  std::string author;
  std::string value;
};

// A value that lost a merge and still waits for a clerk (lww), a second
// different write to a write-once field (once), or a concurrent terminal
// stage (rank).
struct ConflictItem {
  Hlc hlc = 0;
  PublicKey origin{};
  std::string value;
};

// The materialized value of one field, as domain code reads it.
struct FieldValue {
  MergeType type = MergeType::kLww;
  std::string value;                  // lww, once: the winner; rank: the label
  Hlc hlc = 0;                        // lww, once, rank: the winner's timestamp
  PublicKey origin{};                 // ... and its origin
  Rank rank;                          // rank
  std::vector<std::string> elements;  // set: live elements, sorted
  std::vector<LogItem> entries;       // log: ordered by (hlc, origin)
  std::int64_t count = 0;             // counter
  std::vector<ConflictItem> conflicts;
};

struct Record {
  std::string collection;
  RecordId id;
  Hlc created = 0;
  Hlc updated = 0;
  bool deleted = false;
  std::map<std::string, FieldValue> fields;

  const FieldValue* field(const std::string& name) const;
  // The winning text of an lww / once / rank field, or "" when unset.
  std::string text(const std::string& name) const;
  bool has_conflicts() const;
};

}  // namespace wardsync
