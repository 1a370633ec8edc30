// In-memory state behind the kiosk's endpoints, never replicated and gone at a
// restart (nothing in it is a record): per-client rate limits (token buckets)
// that make guessing dossier codes and lookup codes hopeless, and self-filings
// waiting for the citizen's confirmation code.
//
// Thread safety: each class has its own lock; call from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace wardsync::node {

// Token buckets keyed by a string (a client address, or "*" for everyone).
// Bounded: past `keys_max` keys the fullest bucket (the least interesting) is dropped.
class RateLimiter {
 public:
  RateLimiter(double capacity, double refill_per_second, std::size_t keys_max = 4096)
      : capacity_(capacity), refill_(refill_per_second), keys_max_(keys_max) {}

  // Takes one token; returns 0 when allowed, else the seconds until one is back.
  std::uint64_t take(const std::string& key) {
    std::lock_guard<std::mutex> lock(mu_);
    auto now = std::chrono::steady_clock::now();
    auto it = buckets_.find(key);
    if (it == buckets_.end()) {
      if (buckets_.size() >= keys_max_) evict(now);
      it = buckets_.emplace(key, Bucket{capacity_, now}).first;
    }
    Bucket& b = it->second;
    refill(b, now);
    if (b.tokens >= 1.0) {
      b.tokens -= 1.0;
      return 0;
    }
    return static_cast<std::uint64_t>((1.0 - b.tokens) / refill_) + 1;
  }

 private:
  struct Bucket {
    double tokens;
    std::chrono::steady_clock::time_point at;
  };
  void refill(Bucket& b, std::chrono::steady_clock::time_point now) {
    double secs = std::chrono::duration<double>(now - b.at).count();
    b.tokens = std::min(capacity_, b.tokens + secs * refill_);
    b.at = now;
  }
  void evict(std::chrono::steady_clock::time_point now) {  // REQUIRES: mu_ held
    auto fullest = buckets_.begin();
    for (auto it = buckets_.begin(); it != buckets_.end(); ++it) {
      refill(it->second, now);
      if (it->second.tokens > fullest->second.tokens) fullest = it;
    }
    if (fullest != buckets_.end()) buckets_.erase(fullest);
  }
  const double capacity_, refill_;
  const std::size_t keys_max_;
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;  // GUARDED_BY(mu_)
};

// A self-filing checked and shown to the citizen, waiting for the confirmation code.
struct PendingFiling {
  std::string id;            // random, 128-bit hex
  std::string confirm_code;  // 4 digits shown on screen
  std::string name, cccd, dob, address, phone;
  std::string procedure_code;
  std::vector<std::string> components;
  std::vector<std::string> attachments;  // encoded attachment elements
  int wrong_codes = 0;
  std::string dossier_id;  // set once filed: a repeated confirm answers the same dossier
  std::chrono::steady_clock::time_point at;
  std::string client;  // the address it came from (a kiosk device)
};

// Filings waiting for their code, bounded: at most kPerClient from one address
// (a kiosk has one citizen at a time), kMax in all. When full, the oldest filing
// of the address holding the most goes, so a flood from a few addresses pushes
// out only its own filings, never the one a citizen is about to confirm.
class PendingFilings {
 public:
  static constexpr std::size_t kMax = 256;
  static constexpr std::size_t kPerClient = 4;
  static constexpr auto kTtl = std::chrono::minutes(30);

  void put(PendingFiling f) {
    std::lock_guard<std::mutex> lock(mu_);
    expire();
    std::map<std::string, std::size_t> per_client;
    for (const auto& [id, item] : items_) ++per_client[item.client];
    if (per_client[f.client] >= kPerClient) {
      erase_oldest_of(f.client);
    } else if (items_.size() >= kMax) {
      auto most = per_client.begin();
      for (auto it = per_client.begin(); it != per_client.end(); ++it)
        if (it->second > most->second) most = it;
      erase_oldest_of(most->first);
    }
    items_[f.id] = std::move(f);
  }
  std::optional<PendingFiling> get(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    expire();
    auto it = items_.find(id);
    if (it == items_.end()) return std::nullopt;
    return it->second;
  }
  void update(const PendingFiling& f) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = items_.find(f.id);
    if (it != items_.end()) it->second = f;
  }
  void erase(const std::string& id) {
    std::lock_guard<std::mutex> lock(mu_);
    items_.erase(id);
  }
  // Serializes the confirmation of filings (two taps on "Nộp" must file once).
  std::mutex confirm_mu;

 private:
  void erase_oldest_of(const std::string& client) {  // REQUIRES: mu_ held
    auto oldest = items_.end();
    for (auto it = items_.begin(); it != items_.end(); ++it)
      if (it->second.client == client && (oldest == items_.end() || it->second.at < oldest->second.at)) oldest = it;
    if (oldest != items_.end()) items_.erase(oldest);
  }
  void expire() {  // REQUIRES: mu_ held
    auto now = std::chrono::steady_clock::now();
    for (auto it = items_.begin(); it != items_.end();) it = now - it->second.at > kTtl ? items_.erase(it) : std::next(it);
  }
  std::mutex mu_;
  std::map<std::string, PendingFiling> items_;  // GUARDED_BY(mu_)
};

struct KioskState {
  // Dossier look-ups (and reprints, ratings by code): 10 at once per client, then
  // one every 30 s; at most 120 failed look-ups in a burst for the whole office,
  // then one every 5 s. With 31^6 lookup codes per dossier code, guessing one
  // dossier takes years.
  RateLimiter lookups{10, 1.0 / 30};
  RateLimiter failed_lookups{120, 1.0 / 5};
  RateLimiter tickets{30, 1.0 / 10};
  RateLimiter filings{10, 1.0 / 60};
  RateLimiter scans{20, 1.0 / 15};
  RateLimiter ratings{20, 1.0 / 10};
  PendingFilings filings_pending;
};

}  // namespace wardsync::node
