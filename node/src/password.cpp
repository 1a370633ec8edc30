#include "password.hpp"

#include <semaphore>

#include <sodium.h>

#include "wardsync/sync/identity.hpp"

namespace wardsync::node {

namespace {

std::counting_semaphore<kConcurrentHashes>& slots() {
  // One process-wide limit is the point: it bounds the process's memory.
  static std::counting_semaphore<kConcurrentHashes> s(kConcurrentHashes);
  return s;
}

class Slot {
 public:
  Slot() { slots().acquire(); }
  ~Slot() { slots().release(); }
  Slot(const Slot&) = delete;
  Slot& operator=(const Slot&) = delete;
};

}  // namespace

Result<std::string> hash_password(const std::string& password) {
  ensure_sodium();
  char out[crypto_pwhash_STRBYTES];
  Slot slot;
  if (crypto_pwhash_str(out, password.data(), password.size(), kPasswordHashPasses, kPasswordHashBytes) != 0) {
    return Status{Code::kUnavailable, "out of memory while hashing a password"};
  }
  return std::string(out);
}

bool verify_password(const std::string& hash, const std::string& password) {
  ensure_sodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  Slot slot;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

bool password_needs_rehash(const std::string& hash) {
  ensure_sodium();
  if (hash.empty() || hash.size() >= crypto_pwhash_STRBYTES) return false;
  return crypto_pwhash_str_needs_rehash(hash.c_str(), kPasswordHashPasses, kPasswordHashBytes) == 1;
}

void burn_password_time(const std::string& password) {
  auto h = hash_password(password);
  (void)h;
}

}  // namespace wardsync::node
