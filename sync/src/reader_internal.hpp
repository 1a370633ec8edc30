// RecordReader: the read queries shared by the Store (on its writer connection)
// and by Readers (on their own read-only connections). Not thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "sqlite_internal.hpp"
#include "wardsync.pb.h"
#include "wardsync/sync/schema.hpp"
#include "wardsync/sync/types.hpp"

namespace wardsync {

struct StoreStats;

// Why a change waits in the `held` table (its `reason` column).
enum HeldReason : int { kHeldGap = 0, kHeldSkew = 1, kHeldUncertified = 2 };

class RecordReader {
 public:
  explicit RecordReader(sqlite3* db);
  std::optional<Record> get(const std::string& collection, const RecordId& id) const;
  std::vector<RecordId> find(const std::string& collection, const std::string& field,
                             const std::string& value, std::size_t limit, std::optional<RecordId> after) const;
  std::vector<std::string> values_with_prefix(const std::string& collection, const std::string& field,
                                              const std::string& prefix, std::size_t limit) const;
  std::vector<Record> list(const std::string& collection, std::optional<RecordId> after,
                           std::size_t limit) const;
  std::vector<RecordId> search(const std::string& collection, const std::string& query,
                               std::size_t limit) const;
  std::vector<Record> search_summaries(const std::string& collection, const std::string& query,
                                       std::size_t limit) const;
  std::vector<RecordId> with_conflicts(const std::string& collection, std::size_t limit) const;
  // Streams of origins not quarantined, with at least one change.
  VersionVector version_vector() const;
  StoreStats stats() const;
  // Origins with changes held for want of the right to write (Store::set_origin_policy).
  std::vector<PublicKey> held_uncertified() const;

 private:
  // Runs a user search, calling hit(id, summary) for each match, newest first.
  template <typename Hit>
  void each_hit(const std::string& collection, const std::string& query, std::size_t limit, Hit hit) const;

  sqlite3* db_;
  mutable sql::Stmt get_, find_, find_after_, values_, list_, list_after_, search_, search_oldest_, completions_,
      conflicts_;
  mutable pb::RecordState scratch_;  // record_of's parse target, reused
};

// The FTS5 query for a user search: the folded words, all whole but the last,
// which matches any of its `completions` (indexed words it begins), or is
// searched as an FTS5 prefix when it has more than kMaxCompletions.
inline constexpr std::size_t kMaxCompletions = 32;
std::string fts_query(const std::vector<std::string>& words, const std::vector<std::string>& completions);

}  // namespace wardsync
