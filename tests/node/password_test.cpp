// Password hashes: Argon2id at 19 MiB and 2 passes, older 64 MiB hashes still
// accepted, and a sign-in's hash stays well inside the node's memory budget.
#include <catch2/catch.hpp>

#include <sys/resource.h>

#include <sodium.h>

#include "password.hpp"

using namespace wardsync::node;

namespace {

long peak_rss_kib() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}

}  // namespace

TEST_CASE("passwords: Argon2id at 19 MiB, and a hash made at 64 MiB still verifies", "[node][password]") {
  long before = peak_rss_kib();
  auto hash = hash_password("mật khẩu demo 1234");
  REQUIRE(hash.is_ok());
  // The process's peak grew by about the hash's 19 MiB, not libsodium's 64 MiB default.
  CHECK(peak_rss_kib() - before < 32 * 1024);
  CHECK(hash.value().rfind("$argon2id$v=19$m=19456,t=2,p=1$", 0) == 0);
  CHECK(verify_password(hash.value(), "mật khẩu demo 1234"));
  CHECK_FALSE(verify_password(hash.value(), "mật khẩu demo 1235"));
  CHECK_FALSE(verify_password(hash.value().substr(0, 40), "mật khẩu demo 1234"));
  CHECK_FALSE(verify_password("", "mật khẩu demo 1234"));

  char old[crypto_pwhash_STRBYTES];
  const std::string pw = "demo1234";
  REQUIRE(crypto_pwhash_str(old, pw.data(), pw.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                            crypto_pwhash_MEMLIMIT_INTERACTIVE) == 0);
  CHECK(std::string(old).rfind("$argon2id$v=19$m=65536,t=2,p=1$", 0) == 0);
  CHECK(verify_password(old, pw));
  CHECK_FALSE(verify_password(old, "demo12345"));
  // A sign-in that verifies an old hash hashes the password again (api_sessions.cpp).
  CHECK(password_needs_rehash(old));
  CHECK_FALSE(password_needs_rehash(hash.value()));
  CHECK_FALSE(password_needs_rehash("not a hash"));
}
