// A pool of Readers (read-only SQLite connections) shared by the HTTP threads.
// Poco keeps one thread per keep-alive connection (up to 64); the pool bounds
// the connections (and their page caches, which count against the node's
// memory) instead of one per thread.
//
// Thread safety: acquire() from any thread; a Lease is used by its thread only.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "wardsync/sync/reader.hpp"

namespace wardsync::node {

class ReaderPool {
 public:
  ReaderPool(std::string path, const Schema& schema, std::size_t max_readers, std::size_t cache_kib)
      : path_(std::move(path)), schema_(schema), max_(max_readers), cache_kib_(cache_kib) {}

  class Lease {
   public:
    Lease(ReaderPool& pool, std::unique_ptr<Reader> reader) : pool_(&pool), reader_(std::move(reader)) {}
    Lease(Lease&& o) noexcept : pool_(o.pool_), reader_(std::move(o.reader_)) {}
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    ~Lease() {
      if (reader_) pool_->release(std::move(reader_));
    }
    Reader& operator*() { return *reader_; }
    Reader* operator->() { return reader_.get(); }
    explicit operator bool() const { return reader_ != nullptr; }

   private:
    ReaderPool* pool_;
    std::unique_ptr<Reader> reader_;
  };

  // Waits for a free Reader, opening one while fewer than max exist. An empty
  // Lease means the database could not be opened (logged by the caller).
  Lease acquire();

 private:
  void release(std::unique_ptr<Reader> reader);

  const std::string path_;
  const Schema& schema_;
  const std::size_t max_;
  const std::size_t cache_kib_;  // per reader
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Reader>> free_;  // GUARDED_BY(mu_)
  std::size_t open_ = 0;                       // GUARDED_BY(mu_)
};

}  // namespace wardsync::node
