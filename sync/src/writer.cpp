#include "wardsync/sync/writer.hpp"

#include <algorithm>
#include <chrono>
#include <exception>

namespace wardsync {

namespace {
// Deferred indexing: records per transaction (a clerk's commit waits at most
// one such step: with 500, a loaded 2-core box took ~100 ms and a live push
// behind it missed its 50 ms), the quiet spell that starts it, and the longest
// pause between steps while a backlog remains.
constexpr std::size_t kIndexStepRecords = 100;
constexpr std::chrono::milliseconds kIndexQuiet{50};
constexpr std::chrono::milliseconds kIndexEvery{1000};
// How often an idle writer asks whether the full-text index needs merging, and
// how long it must have been idle first.
constexpr std::chrono::seconds kTidyEvery{5};
constexpr std::chrono::seconds kTidyQuiet{1};
}  // namespace

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
  using Steady = std::chrono::steady_clock;
  auto last_work = Steady::now();
  auto last_index = Steady::now();
  // Housekeeping, only when no commit or task waits, a bounded step at a time:
  // deferred indexing first, then merging the full-text index's segments.
  bool tidying = false;
  auto next_tidy_look = Steady::now() + kTidyEvery;
  while (true) {
    std::deque<Job> commits;
    std::deque<Task> tasks;
    bool index_now = false;
    bool tidy_now = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      auto has_work = [&] { return stopping_ || !commits_.empty() || !tasks_.empty(); };
      if (store_->index_backlog()) {
        // Deferred indexing runs once the writer has been quiet for a moment (a
        // catch-up is over), and at least every kIndexEvery so that a writer
        // never idle still makes progress; one bounded step at a time.
        auto due = std::min(last_work + kIndexQuiet, last_index + kIndexEvery);
        bool woken = cv_.wait_until(lock, due, has_work);
        index_now = !woken || Steady::now() >= last_index + kIndexEvery;
      } else {
        // Only after kTidyQuiet without work (a merge step ends in an fsync a
        // commit would wait for); then a merge under way takes a step at once,
        // otherwise the store is asked every kTidyEvery whether one is needed.
        auto due = std::max(tidying ? Steady::now() : next_tidy_look, last_work + kTidyQuiet);
        tidy_now = !cv_.wait_until(lock, due, has_work);
      }
      if (commits_.empty() && tasks_.empty() && stopping_) return;  // a restart finishes the indexing
      commits.swap(commits_);
      // One task at a time between groups: a large apply must not delay the
      // commits queued behind it by more than one turn.
      if (!tasks_.empty()) {
        tasks.push_back(std::move(tasks_.front()));
        tasks_.pop_front();
      }
    }
    if (index_now) {
      // An error leaves the rows listed; they are tried again after a quiet
      // spell rather than at once (a full disk must not become a busy loop).
      bool failed = true;
      try {
        failed = !store_->catch_up_index(kIndexStepRecords).is_ok();
      } catch (const std::exception&) {
      }
      last_index = Steady::now();
      if (failed) last_work = last_index + kIndexEvery;
    }
    if (tidy_now) {
      try {
        tidying = store_->tidy_search();
      } catch (const std::exception&) {
        tidying = false;
      }
      if (!tidying) next_tidy_look = Steady::now() + kTidyEvery;
      std::lock_guard<std::mutex> lock(mu_);
      ++stats_.tidy_steps;
    }
    if (!commits.empty() || !tasks.empty()) last_work = Steady::now();
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
