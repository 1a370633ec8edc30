// Identity: Ed25519 keys, key files (0600, no overwrite), signatures.
#include <sys/stat.h>

#include <fstream>

#include <sodium.h>

#include "sync_test_util.hpp"
#include "wardsync/sync/replicator.hpp"

using namespace wardsync;
using wardsync::test::TempDir;

namespace {

Bytes msg(const std::string& s) { return wardsync::test::bytes_of(s); }

std::array<std::uint8_t, kSeedBytes> seed_from_hex(const std::string& hex) {
  std::array<std::uint8_t, kSeedBytes> seed{};
  REQUIRE(from_hex(hex, seed));
  return seed;
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::stat(p.c_str(), &st) == 0);
  return st.st_mode & 0777;
}

// Restores the process umask when the test ends.
struct Umask {
  explicit Umask(mode_t m) : old(::umask(m)) {}
  ~Umask() { ::umask(old); }
  mode_t old;
};

}  // namespace

TEST_CASE("from_seed matches the RFC 8032 Ed25519 test vector 1", "[sync][identity]") {
  Identity id = Identity::from_seed(seed_from_hex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"));
  CHECK(to_hex(id.public_key()) == "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  Signature sig = id.sign(msg(""));
  CHECK(to_hex(sig) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

TEST_CASE("sign and verify round-trip - any change to message key or signature fails", "[sync][identity]") {
  Identity a = wardsync::test::identity(1);
  Identity b = wardsync::test::identity(2);
  CHECK(a.public_key() != b.public_key());
  Signature sig = a.sign(msg("hồ sơ 42"));
  CHECK(verify_signature(a.public_key(), msg("hồ sơ 42"), sig));
  CHECK_FALSE(verify_signature(a.public_key(), msg("hồ sơ 43"), sig));
  CHECK_FALSE(verify_signature(b.public_key(), msg("hồ sơ 42"), sig));
  Signature bad = sig;
  bad[10] ^= 0x01;
  CHECK_FALSE(verify_signature(a.public_key(), msg("hồ sơ 42"), bad));
  // Deterministic: the same seed gives the same key and the same signature.
  Identity a2 = wardsync::test::identity(1);
  CHECK(a2.public_key() == a.public_key());
  CHECK(a2.sign(msg("x")) == a.sign(msg("x")));
  // A moved identity keeps working.
  Identity moved = std::move(a2);
  CHECK(verify_signature(moved.public_key(), msg("y"), moved.sign(msg("y"))));
}

TEST_CASE("hash_bytes is BLAKE2b-256", "[sync][identity]") {
  // BLAKE2b-256 of the empty string.
  CHECK(to_hex(hash_bytes(msg(""))) == "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  CHECK(to_hex(hash_bytes(msg("abc"))) == "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
}

TEST_CASE("hex helpers reject bad input", "[sync][identity]") {
  std::array<std::uint8_t, 2> out{};
  CHECK(from_hex("0aFf", out));
  CHECK(out[0] == 0x0a);
  CHECK(out[1] == 0xff);
  CHECK_FALSE(from_hex("0a", out));
  CHECK_FALSE(from_hex("0g00", out));
  CHECK(to_hex(out) == "0aff");
}

TEST_CASE("key file: written 0600 whatever the umask loads back the same key", "[sync][identity]") {
  TempDir dir;
  auto path = dir.path() / "node.key";
  Identity id = Identity::generate();
  {
    Umask open_umask(0);
    Status s = id.save(path);
    REQUIRE(s.is_ok());
  }
  CHECK(mode_of(path) == 0600);
  auto loaded = Identity::load(path);
  REQUIRE(loaded.is_ok());
  CHECK(loaded.value().public_key() == id.public_key());
  Signature sig = loaded.value().sign(msg("receipt"));
  CHECK(verify_signature(id.public_key(), msg("receipt"), sig));
}

TEST_CASE("key file: save refuses to overwrite an existing file", "[sync][identity]") {
  TempDir dir;
  auto path = dir.path() / "node.key";
  Identity first = wardsync::test::identity(1);
  REQUIRE(first.save(path).is_ok());
  Identity second = wardsync::test::identity(2);
  Status s = second.save(path);
  CHECK_FALSE(s.is_ok());
  auto loaded = Identity::load(path);
  REQUIRE(loaded.is_ok());
  CHECK(loaded.value().public_key() == first.public_key());
}

TEST_CASE("key file: load refuses files readable by others missing or garbage files", "[sync][identity]") {
  TempDir dir;
  auto path = dir.path() / "node.key";
  Identity id = wardsync::test::identity(3);
  REQUIRE(id.save(path).is_ok());
  std::filesystem::permissions(path, std::filesystem::perms(0644));
  auto r = Identity::load(path);
  CHECK_FALSE(r.is_ok());
  CHECK(r.status().code() == Code::kInvalidArgument);
  std::filesystem::permissions(path, std::filesystem::perms(0640));
  CHECK_FALSE(Identity::load(path).is_ok());
  std::filesystem::permissions(path, std::filesystem::perms(0600));
  CHECK(Identity::load(path).is_ok());

  auto missing = Identity::load(dir.path() / "nope.key");
  CHECK_FALSE(missing.is_ok());
  CHECK(missing.status().code() == Code::kNotFound);

  auto garbage = dir.path() / "garbage.key";
  {
    std::ofstream out(garbage);
    out << "wardsync-ed25519-v1 zz\n";
  }
  std::filesystem::permissions(garbage, std::filesystem::perms(0600));
  auto g = Identity::load(garbage);
  CHECK_FALSE(g.is_ok());
  CHECK(g.status().code() == Code::kCorrupt);
}

TEST_CASE("identity: the CURVE secret lives in locked memory and copies deeply", "[sync][identity]") {
  static_assert(sizeof(CurveSecret) == sizeof(void*), "the secret's bytes are not inside the struct");
  CurveKeys k = CurveKeys::generate();
  CurveKeys copy = k;
  CHECK(copy.secret_key.data() != k.secret_key.data());
  CHECK(sodium_memcmp(copy.secret_key.data(), k.secret_key.data(), CurveSecret::size()) == 0);
  std::array<std::uint8_t, 32> derived{};
  crypto_scalarmult_base(derived.data(), k.secret_key.data());
  CHECK(derived == k.public_key);
  std::string z85 = curve_key_to_z85(k.secret_key);
  CurveSecret back;
  REQUIRE(curve_key_from_z85(z85, back));
  CHECK(sodium_memcmp(back.data(), k.secret_key.data(), CurveSecret::size()) == 0);
  CHECK_FALSE(curve_key_from_z85("short", back));
}
