// Node identity: an Ed25519 signing key pair (libsodium). The public key is the
// node's id and the `origin` of every change it writes.
//
// The secret key lives in sodium_malloc'd memory (guard pages, never swapped
// when the OS allows), is made inaccessible between uses, and is wiped when the
// Identity is destroyed. Key files are written with mode 0600.
//
// Thread safety: sign() may be called from one thread at a time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>

#include "wardsync/sync/status.hpp"

namespace wardsync {

constexpr std::size_t kPublicKeyBytes = 32;
constexpr std::size_t kSignatureBytes = 64;
constexpr std::size_t kSeedBytes = 32;
constexpr std::size_t kHashBytes = 32;

using PublicKey = std::array<std::uint8_t, kPublicKeyBytes>;
using Signature = std::array<std::uint8_t, kSignatureBytes>;
using Hash = std::array<std::uint8_t, kHashBytes>;
using Bytes = std::span<const std::uint8_t>;

// Initializes libsodium once; every entry point of sync/ that uses it calls this.
void ensure_sodium();

std::string to_hex(Bytes bytes);
bool from_hex(const std::string& hex, std::span<std::uint8_t> out);

// BLAKE2b-256 of `bytes`.
Hash hash_bytes(Bytes bytes);

[[nodiscard]] bool verify_signature(const PublicKey& key, Bytes message, const Signature& sig);

class Identity {
 public:
  static Identity generate();
  // Deterministic keys for tests and the simulation (crypto_sign_seed_keypair).
  static Identity from_seed(const std::array<std::uint8_t, kSeedBytes>& seed);
  // Reads a key file written by save(); refuses files readable by others.
  static Result<Identity> load(const std::filesystem::path& path);

  Identity(Identity&&) noexcept;
  Identity& operator=(Identity&&) noexcept;
  Identity(const Identity&) = delete;
  Identity& operator=(const Identity&) = delete;
  ~Identity();

  // Writes the key file with mode 0600; refuses to overwrite an existing file.
  Status save(const std::filesystem::path& path) const;

  const PublicKey& public_key() const { return public_key_; }
  Signature sign(Bytes message) const;

  // Keeps the secret key readable for the scope's lifetime, so signing a batch
  // costs two mprotect calls instead of two per signature (each flushes TLBs).
  class [[nodiscard]] Unlocked {
   public:
    explicit Unlocked(const Identity& id);
    ~Unlocked();
    Unlocked(const Unlocked&) = delete;
    Unlocked& operator=(const Unlocked&) = delete;

   private:
    const Identity& id_;
  };

 private:
  Identity();
  class SecretKey;
  std::unique_ptr<SecretKey> secret_;
  PublicKey public_key_{};
  mutable int unlocked_ = 0;  // > 0 while an Unlocked scope is open
};

}  // namespace wardsync
