#include "wardsync/sync/writer.hpp"

#include <exception>

namespace wardsync {

Writer::Writer(std::unique_ptr<Store> store, std::size_t max_queue)
    : store_(std::move(store)), max_queue_(max_queue), thread_([this] { loop(); }) {}

Writer::~Writer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

std::future<Result<CommitInfo>> Writer::commit(Transaction txn) {
  Job job;
  job.txn = std::make_unique<Transaction>(std::move(txn));
  auto future = job.done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (commits_.size() >= max_queue_ || stopping_) {
      job.done.set_value(Status{Code::kUnavailable, "write queue full; try again"});
      return future;
    }
    commits_.push_back(std::move(job));
  }
  cv_.notify_one();
  return future;
}

std::future<void> Writer::run(std::function<void(Store&)> fn) {
  Task task{std::move(fn), {}};
  auto future = task.done.get_future();
  {
    std::lock_guard<std::mutex> lock(mu_);
    tasks_.push_back(std::move(task));
  }
  cv_.notify_one();
  return future;
}

std::future<ApplyReport> Writer::apply(std::vector<WireChange> changes, VerifyMode mode) {
  auto promise = std::make_shared<std::promise<ApplyReport>>();
  auto future = promise->get_future();
  auto shared = std::make_shared<std::vector<WireChange>>(std::move(changes));
  (void)run([promise, shared, mode](Store& store) { promise->set_value(store.apply(*shared, mode)); });
  return future;
}

WriterStats Writer::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void Writer::loop() {
  // Housekeeping runs only when no commit or task waits: a step at a time, each
  // a short transaction, so a clerk's save waits behind at most one step.
  constexpr auto kTidyEvery = std::chrono::seconds(5);
  bool tidying = false;
  auto next_look = std::chrono::steady_clock::now() + kTidyEvery;
  while (true) {
    std::deque<Job> commits;
    std::deque<Task> tasks;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto has_work = [&] { return stopping_ || !commits_.empty() || !tasks_.empty(); };
      if (!tidying) cv_.wait_until(lock, next_look, has_work);
      if (commits_.empty() && tasks_.empty() && stopping_) return;
      if (commits_.empty() && tasks_.empty()) {
        if (!tidying && std::chrono::steady_clock::now() < next_look) continue;
        lock.unlock();
        try {
          tidying = store_->tidy_search();
        } catch (...) {
          tidying = false;  // a failed step is retried at the next look
        }
        lock.lock();
        ++stats_.tidy_steps;
        if (!tidying) next_look = std::chrono::steady_clock::now() + kTidyEvery;
        continue;
      }
      commits.swap(commits_);
      // One task at a time between groups: a large apply must not delay the
      // commits queued behind it by more than one turn.
      if (!tasks_.empty()) {
        tasks.push_back(std::move(tasks_.front()));
        tasks_.pop_front();
      }
    }
    if (!commits.empty()) {
      std::vector<const Transaction*> txns;
      txns.reserve(commits.size());
      for (auto& j : commits) txns.push_back(j.txn.get());
      auto results = store_->commit_group(txns);
      {
        std::lock_guard<std::mutex> lock(mu_);  // before the acks, so an acked caller sees its group
        stats_.transactions += commits.size();
        stats_.groups += 1;
      }
      for (std::size_t i = 0; i < commits.size(); ++i) commits[i].done.set_value(std::move(results[i]));
    }
    for (auto& t : tasks) {
      try {
        t.fn(*store_);
        t.done.set_value();
      } catch (...) {
        t.done.set_exception(std::current_exception());
      }
    }
  }
}

}  // namespace wardsync
