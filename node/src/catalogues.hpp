// The procedure catalogue and the working-day calendar a node works with: read
// from its data files at start, and replaced while it runs when a city publishes
// newer ones (replication.cpp, "Catalogues"). A request takes the current pair
// once and keeps it to its end, so a replacement never changes a catalogue under
// a request that is using it.
//
// Thread safety: every member function may be called from any thread.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include "catalogue.hpp"
#include "wardsync/node/calendar.hpp"

namespace wardsync::node {

class Catalogues {
 public:
  Catalogues(Catalogue procedures, Calendar calendar)
      : procedures_(std::make_shared<const Catalogue>(std::move(procedures))),
        calendar_(std::make_shared<const Calendar>(std::move(calendar))) {}

  std::shared_ptr<const Catalogue> procedures() const {
    std::lock_guard<std::mutex> lock(mu_);
    return procedures_;
  }
  std::shared_ptr<const Calendar> calendar() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calendar_;
  }
  void replace(Catalogue procedures) {
    auto next = std::make_shared<const Catalogue>(std::move(procedures));
    std::lock_guard<std::mutex> lock(mu_);
    procedures_ = std::move(next);
  }
  void replace(Calendar calendar) {
    auto next = std::make_shared<const Calendar>(std::move(calendar));
    std::lock_guard<std::mutex> lock(mu_);
    calendar_ = std::move(next);
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Catalogue> procedures_;  // GUARDED_BY(mu_)
  std::shared_ptr<const Calendar> calendar_;     // GUARDED_BY(mu_)
};

}  // namespace wardsync::node
