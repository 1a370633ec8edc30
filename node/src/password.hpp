// Password hashing: Argon2id through libsodium's crypto_pwhash_str, 19 MiB and
// 2 passes (OWASP's first recommended Argon2id setting). libsodium's
// "interactive" 64 MiB would be half the node's 128 MiB budget at every
// sign-in. A hash stores its own settings, so older 64 MiB hashes still verify,
// and the first sign-in that verifies one hashes it again with these (or a
// password set again). At most kConcurrentHashes
// hashes run at once, so a burst of sign-ins cannot exhaust the box's memory
// (DESIGN.md, Rules learned); the rest wait their turn.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <string>

#include "wardsync/sync/status.hpp"

namespace wardsync::node {

inline constexpr int kConcurrentHashes = 2;
inline constexpr std::size_t kPasswordHashBytes = 19 * 1024 * 1024;
inline constexpr unsigned long long kPasswordHashPasses = 2;
inline constexpr std::size_t kPasswordBytesMin = 8;
inline constexpr std::size_t kPasswordBytesMax = 256;

[[nodiscard]] Result<std::string> hash_password(const std::string& password);
// False for a wrong password or a malformed hash.
bool verify_password(const std::string& hash, const std::string& password);
// True for a hash made with other settings than hash_password's (the 64 MiB of
// earlier versions): a sign-in that verified it hashes the password again, so
// a known name costs what an unknown one does.
bool password_needs_rehash(const std::string& hash);
// Costs one hash like a real verification: used for unknown users so a sign-in
// for a name that does not exist takes as long as one that does.
void burn_password_time(const std::string& password);

}  // namespace wardsync::node
