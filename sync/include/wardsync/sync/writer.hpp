// Writer: the store's single writer thread, shared by many callers.
//
// Local writes from any thread are queued; the writer thread takes everything
// waiting and commits it in one SQLite transaction (one fsync: group commit),
// then fulfils each caller's future. A caller's write is acknowledged only once
// it is durable. Received batches are queued the same way, each applied in
// bounded transactions, so clerks' writes wait at most one chunk behind a catch-up.
// When idle, the writer runs the store's deferred indexing
// (StoreOptions::defer_index_min_changes) in small steps.
//
// Thread safety: every public method may be called from any thread. The Store
// is touched only on the writer thread. Reads go through the Store's readers
// (not here), or through run() for code that must see the writer's state.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "wardsync/sync/store.hpp"

namespace wardsync {

struct WriterStats {
  std::uint64_t transactions = 0;  // local transactions committed or refused
  std::uint64_t groups = 0;        // SQLite commits that carried them
  std::uint64_t tidy_steps = 0;    // housekeeping steps run while idle (Store::tidy_search)
};

class Writer {
 public:
  explicit Writer(std::unique_ptr<Store> store, std::size_t max_queue = 10000);
  ~Writer();  // drains the queue, then stops the thread
  Writer(const Writer&) = delete;
  Writer& operator=(const Writer&) = delete;

  // Resolves once the transaction is durable (or refused). When the queue is
  // full the future resolves at once with kUnavailable: back-pressure, not loss.
  std::future<Result<CommitInfo>> commit(Transaction txn);
  std::future<ApplyReport> apply(std::vector<WireChange> changes, VerifyMode mode = VerifyMode::kChain);
  // Runs `fn` on the writer thread with the store (reads that must be current,
  // version vectors for peers, subscriptions).
  std::future<void> run(std::function<void(Store&)> fn);
  // run() that waits and hands back fn's result (exceptions are rethrown here).
  template <typename T>
  T run_get(std::function<T(Store&)> fn) {
    std::optional<T> out;
    run([&](Store& store) { out.emplace(fn(store)); }).get();
    return std::move(*out);
  }

  WriterStats stats() const;

 private:
  struct Job {
    std::unique_ptr<Transaction> txn;
    std::promise<Result<CommitInfo>> done;
  };
  struct Task {
    std::function<void(Store&)> fn;
    std::promise<void> done;
  };
  void loop();

  std::unique_ptr<Store> store_;
  const std::size_t max_queue_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> commits_;   // GUARDED_BY(mu_)
  std::deque<Task> tasks_;    // GUARDED_BY(mu_)
  bool stopping_ = false;     // GUARDED_BY(mu_)
  WriterStats stats_;         // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace wardsync
