#include "reader_pool.hpp"

namespace wardsync::node {

ReaderPool::Lease ReaderPool::acquire() {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait(lock, [&] { return !free_.empty() || open_ < max_; });
  if (!free_.empty()) {
    auto r = std::move(free_.back());
    free_.pop_back();
    return Lease(*this, std::move(r));
  }
  ++open_;
  lock.unlock();
  auto opened = Reader::open(path_, schema_, cache_kib_);
  if (!opened.is_ok()) {
    std::lock_guard<std::mutex> again(mu_);
    --open_;
    cv_.notify_one();
    return Lease(*this, nullptr);
  }
  return Lease(*this, std::move(opened).value());
}

void ReaderPool::release(std::unique_ptr<Reader> reader) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    free_.push_back(std::move(reader));
  }
  cv_.notify_one();
}

}  // namespace wardsync::node
