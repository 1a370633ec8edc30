// Reader: a read-only view of a store's database for threads other than the
// writer's (HTTP handlers, status pages). Each Reader owns one read-only SQLite
// connection; WAL gives it a consistent snapshot per call, never blocking the writer.
//
// Thread safety: a Reader is used by one thread at a time; give each worker
// thread its own (they are cheap: one connection and a few prepared statements).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "wardsync/sync/schema.hpp"
#include "wardsync/sync/status.hpp"
#include "wardsync/sync/types.hpp"

namespace wardsync {

struct StoreStats;

class RecordReader;

class Reader {
 public:
  // `path` is the StoreOptions::path the store was opened with; the store must
  // have created the database first. `cache_kib`: this connection's page cache
  // (the file's pages also stay in the OS page cache, shared by all readers).
  static Result<std::unique_ptr<Reader>> open(const std::string& path, const Schema& schema,
                                              std::size_t cache_kib = 2048);
  ~Reader();
  Reader(const Reader&) = delete;
  Reader& operator=(const Reader&) = delete;

  std::optional<Record> get(const std::string& collection, const RecordId& id) const;
  // Ids of records whose indexed `field` holds `value`, in id (time) order,
  // starting after `after` when given (for paging through a long index).
  std::vector<RecordId> find(const std::string& collection, const std::string& field,
                             const std::string& value, std::size_t limit,
                             std::optional<RecordId> after = std::nullopt) const;
  // The distinct values of an indexed field that start with `prefix`, in byte
  // order (codes issued today: "26734-261123-1").
  std::vector<std::string> values_with_prefix(const std::string& collection, const std::string& field,
                                              const std::string& prefix, std::size_t limit) const;
  std::vector<Record> list(const std::string& collection, std::optional<RecordId> after,
                           std::size_t limit) const;
  // Full-text search over the collection's searchable fields, diacritics folded:
  // "nguyen van an" finds "Nguyễn Văn An", "dang" finds "Đặng". Every word of the
  // query must match a whole word, the last one may be the start of a word (as
  // typed). Newest records first. Backed by SQLite FTS5, never a scan.
  std::vector<RecordId> search(const std::string& collection, const std::string& query,
                               std::size_t limit) const;
  // The same hits as search(), each a Record holding only the collection's
  // `summary` fields (and created, deleted), read from the search row instead of
  // the record: a page of hits without a record read and parse each. `updated` is 0.
  std::vector<Record> search_summaries(const std::string& collection, const std::string& query,
                                       std::size_t limit) const;
  std::vector<RecordId> with_conflicts(const std::string& collection, std::size_t limit) const;
  VersionVector version_vector() const;
  StoreStats stats() const;
  // Origins with changes held because the store's origin policy refused them.
  std::vector<PublicKey> held_uncertified() const;

  // A read that fails (a corrupt page, a disk error) answers empty, like a miss,
  // so a caller cannot tell "not there" from "could not read": every such
  // failure is counted here, for all readers of the process, with the last
  // message, for the operator (wardnode: health, /metrics, the log).
  struct ReadErrors {
    std::uint64_t count = 0;
    std::string last;
  };
  static ReadErrors read_errors();
  // Failed reads of this reader alone: whether the reads a caller just made
  // failed, whatever other threads' readers met meanwhile.
  std::uint64_t own_read_errors() const { return own_errors_; }

  // One read transaction over several reads: they see one snapshot, and the
  // WAL read lock (fcntl calls, shared-memory index) is taken once instead of
  // once per statement (a 20-dossier search did 22 of them, a third of its CPU).
  // Do not hold one across your own write: the snapshot would not show it.
  class Snapshot {
   public:
    explicit Snapshot(const Reader& r);
    ~Snapshot();
    Snapshot(const Snapshot&) = delete;
    Snapshot& operator=(const Snapshot&) = delete;

   private:
    const Reader& reader_;
    bool open_ = false;
  };

 private:
  Reader();
  struct Conn;
  std::unique_ptr<Conn> conn_;
  std::unique_ptr<RecordReader> reader_;
  mutable std::uint64_t own_errors_ = 0;
};

}  // namespace wardsync
