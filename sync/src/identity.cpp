#include "wardsync/sync/identity.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <new>
#include <sstream>
#include <stdexcept>

namespace wardsync {

void ensure_sodium() {
  static std::once_flag once;
  std::call_once(once, [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialize");
  });
}

std::string to_hex(Bytes bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::uint8_t b : bytes) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

bool from_hex(const std::string& hex, std::span<std::uint8_t> out) {
  if (hex.size() != out.size() * 2) return false;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    int hi = nibble(hex[2 * i]);
    int lo = nibble(hex[2 * i + 1]);
    if (hi < 0 || lo < 0) return false;
    out[i] = static_cast<std::uint8_t>(hi * 16 + lo);
  }
  return true;
}

Hash hash_bytes(Bytes bytes) {
  Hash h;
  crypto_generichash(h.data(), h.size(), bytes.data(), bytes.size(), nullptr, 0);
  return h;
}

bool verify_signature(const PublicKey& key, Bytes message, const Signature& sig) {
  ensure_sodium();
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.data()) == 0;
}

// The 64-byte libsodium secret key, in guarded memory that is readable only
// while a signature is being made.
class Identity::SecretKey {
 public:
  SecretKey() {
    ensure_sodium();
    bytes_ = static_cast<unsigned char*>(sodium_malloc(crypto_sign_SECRETKEYBYTES));
    if (bytes_ == nullptr) throw std::bad_alloc();
  }
  ~SecretKey() { sodium_free(bytes_); }  // sodium_free wipes before freeing
  SecretKey(const SecretKey&) = delete;
  SecretKey& operator=(const SecretKey&) = delete;

  unsigned char* open_rw() {
    sodium_mprotect_readwrite(bytes_);
    return bytes_;
  }
  const unsigned char* open_ro() {
    sodium_mprotect_readonly(bytes_);
    return bytes_;
  }
  void close() { sodium_mprotect_noaccess(bytes_); }
  const unsigned char* data() const { return bytes_; }  // only while open

 private:
  unsigned char* bytes_ = nullptr;
};

Identity::Identity() : secret_(std::make_unique<SecretKey>()) {}
Identity::Identity(Identity&&) noexcept = default;
Identity& Identity::operator=(Identity&&) noexcept = default;
Identity::~Identity() = default;

Identity Identity::generate() {
  Identity id;
  crypto_sign_keypair(id.public_key_.data(), id.secret_->open_rw());
  id.secret_->close();
  return id;
}

Identity Identity::from_seed(const std::array<std::uint8_t, kSeedBytes>& seed) {
  Identity id;
  crypto_sign_seed_keypair(id.public_key_.data(), id.secret_->open_rw(), seed.data());
  id.secret_->close();
  return id;
}

Signature Identity::sign(Bytes message) const {
  Signature sig;
  const unsigned char* key = unlocked_ > 0 ? secret_->data() : secret_->open_ro();
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), key);
  if (unlocked_ == 0) secret_->close();
  return sig;
}

Identity::Unlocked::Unlocked(const Identity& id) : id_(id) {
  if (id_.unlocked_++ == 0) (void)id_.secret_->open_ro();
}

Identity::Unlocked::~Unlocked() {
  if (--id_.unlocked_ == 0) id_.secret_->close();
}

// Key file: one line "wardsync-ed25519-v1 <seed hex>". The seed (32 bytes)
// regenerates the whole key pair, so nothing else needs storing.
namespace {
constexpr const char* kKeyFileTag = "wardsync-ed25519-v1";
}

Status Identity::save(const std::filesystem::path& path) const {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return {Code::kIo, "cannot create key file " + path.string() + ": " + std::strerror(errno)};
  }
  std::array<std::uint8_t, kSeedBytes> seed{};
  crypto_sign_ed25519_sk_to_seed(seed.data(), secret_->open_ro());
  secret_->close();
  std::string line = std::string(kKeyFileTag) + " " + to_hex(seed) + "\n";
  sodium_memzero(seed.data(), seed.size());
  ssize_t n = ::write(fd, line.data(), line.size());
  bool ok = n == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  sodium_memzero(line.data(), line.size());
  ::close(fd);
  if (!ok) return {Code::kIo, "cannot write key file " + path.string()};
  return Status::ok();
}

Result<Identity> Identity::load(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    return Status{Code::kNotFound, "key file " + path.string() + " not found"};
  }
  if ((st.st_mode & 077) != 0) {
    return Status{Code::kInvalidArgument,
                  "key file " + path.string() + " is readable by others; chmod 600 it"};
  }
  std::ifstream in(path);
  std::string tag;
  std::string hex;
  in >> tag >> hex;
  std::array<std::uint8_t, kSeedBytes> seed{};
  if (tag != kKeyFileTag || !from_hex(hex, seed)) {
    sodium_memzero(hex.data(), hex.size());
    return Status{Code::kCorrupt, "key file " + path.string() + " is not a wardsync key"};
  }
  sodium_memzero(hex.data(), hex.size());
  Identity id = from_seed(seed);
  sodium_memzero(seed.data(), seed.size());
  return id;
}

}  // namespace wardsync
