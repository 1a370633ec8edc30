// WORKAROUND until sync/ fixes Reader::search (reported to the sync owner):
// SQLite plans Reader::search's join as "scan every search row of the collection,
// then evaluate the MATCH per row", so one search costs (records × FTS lookup):
// 7.5 s with 20,000 dossiers. This runs the same full-text query with the FTS
// table first (CROSS JOIN fixes the order), so it costs what it matches.
// It reads the sync core's search tables read-only and is deleted once
// Reader::search plans the join this way.
//
// Thread safety: search() from any thread (a small pool of read-only connections).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "wardsync/sync/types.hpp"

namespace wardsync::node {

class FtsSearch {
 public:
  FtsSearch(std::string path, std::size_t max_connections);
  ~FtsSearch();
  FtsSearch(const FtsSearch&) = delete;
  FtsSearch& operator=(const FtsSearch&) = delete;

  // Newest first, as Reader::search. nullopt when the query could not run (the
  // caller falls back to Reader::search).
  std::optional<std::vector<RecordId>> search(const std::string& collection, const std::string& query,
                                              std::size_t limit);

 private:
  struct Conn;
  std::unique_ptr<Conn> take();
  void give(std::unique_ptr<Conn> c);

  const std::string path_;
  const std::size_t max_;
  std::mutex mu_;
  std::vector<std::unique_ptr<Conn>> free_;  // GUARDED_BY(mu_)
};

}  // namespace wardsync::node
