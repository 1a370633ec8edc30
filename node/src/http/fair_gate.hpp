// A first-come, first-served gate: at most `slots` reads do their work at once,
// the others wait their turn in arrival order.
//
// Poco runs one thread per keep-alive connection. With 50 clients on two cores,
// 50 threads compete for the CPU and the scheduler preempts some in the middle of
// a request, so a few requests wait behind many time slices (reads: median 2 ms,
// p99 10). Through the gate a request waits once, in order, then runs.
//
// Thread safety: enter() from any thread; a Pass belongs to its thread.
#pragma once

#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>

namespace wardsync::node::http {

class FairGate {
 public:
  explicit FairGate(std::size_t slots) : free_(slots) {}

  class Pass {
   public:
    Pass() = default;
    explicit Pass(FairGate* gate) : gate_(gate) {}
    Pass(Pass&& o) noexcept : gate_(o.gate_) { o.gate_ = nullptr; }
    Pass& operator=(Pass&& o) noexcept {
      if (this != &o) {
        leave();
        gate_ = o.gate_;
        o.gate_ = nullptr;
      }
      return *this;
    }
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass() { leave(); }
    // Gives the slot to the next in line (before a slow write to the socket).
    void leave() {
      if (gate_ != nullptr) gate_->release();
      gate_ = nullptr;
    }

   private:
    FairGate* gate_ = nullptr;
  };

  // Waits for a slot, in arrival order.
  Pass enter() {
    Waiter me;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (free_ > 0 && line_.empty()) {
        --free_;
        return Pass(this);
      }
      line_.push_back(&me);
    }
    // The slot is handed over by release(), which sets `ready` and wakes us.
    // Asleep in the kernel at once (std::binary_semaphore spins on sched_yield
    // first: 46 waiters spinning took a tenth of the node's CPU on two cores),
    // and woken without the gate's mutex (a condition variable's waiter wakes
    // only to wait for the mutex its waker still holds: a futex call more each).
    while (me.ready.load(std::memory_order_acquire) == 0) futex(&me.ready, FUTEX_WAIT_PRIVATE, 0);
    return Pass(this);
  }

  // Requests waiting their turn now.
  std::size_t waiting() const {
    std::lock_guard<std::mutex> lock(mu_);
    return line_.size();
  }

 private:
  struct Waiter {
    std::atomic<std::uint32_t> ready{0};  // a futex word: 1 once the slot is ours
  };

  static void futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value) {
    static_assert(sizeof(std::atomic<std::uint32_t>) == sizeof(std::uint32_t));
    syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, nullptr, nullptr, 0);
  }

  void release() {
    Waiter* next = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (line_.empty()) {
        ++free_;
        return;
      }
      next = line_.front();
      line_.pop_front();
    }
    // The waiter may see `ready` and return, ending `next`'s life, before the
    // wake below: a wake of a word no longer waited on is harmless (its thread
    // is alive, so the address is mapped; a later wait on the same address
    // that it reaches is a spurious wake, and every wait loops on its flag).
    next->ready.store(1, std::memory_order_release);
    futex(&next->ready, FUTEX_WAKE_PRIVATE, 1);
  }

  mutable std::mutex mu_;
  std::size_t free_;          // GUARDED_BY(mu_)
  std::deque<Waiter*> line_;  // GUARDED_BY(mu_)
};

}  // namespace wardsync::node::http
