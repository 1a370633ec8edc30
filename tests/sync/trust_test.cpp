// Trust: certificates chain to a root, delegation stays within its scope,
// revocation and expiry withdraw admission, and forged or swapped signatures fail.
#include <catch2/catch.hpp>

#include "wardsync/sync/trust.hpp"

using namespace wardsync;

namespace {

Identity key(std::uint8_t n) {
  std::array<std::uint8_t, kSeedBytes> seed{};
  seed[0] = n;
  seed[1] = 0x7a;
  return Identity::from_seed(seed);
}

CurveKey curve(std::uint8_t n) {
  CurveKey k{};
  k[0] = n;
  return k;
}

CertificateInfo cert_for(const Identity& node, std::uint8_t curve_no, const std::string& scope, bool may_issue = false) {
  CertificateInfo c;
  c.node_id = node.public_key();
  c.curve_public = curve(curve_no);
  c.office_code = "79";
  c.tier = may_issue ? "district" : "ward";
  c.scope = scope;
  c.not_before_ms = 1000;
  c.not_after_ms = 10'000;
  c.may_issue = may_issue;
  return c;
}

}  // namespace

TEST_CASE("trust: a root's certificate admits the node's transport key while valid", "[sync][trust]") {
  Identity root = key(1), ward = key(2);
  TrustStore t;
  t.add_root(root.public_key());
  REQUIRE(t.add(issue_certificate(root, cert_for(ward, 9, "79/760/26734"))).is_ok());
  CHECK(t.admits_transport_key(curve(9), 5000));
  CHECK_FALSE(t.admits_transport_key(curve(8), 5000));  // not enrolled
  CHECK_FALSE(t.admits_transport_key(curve(9), 999));   // not yet valid
  CHECK_FALSE(t.admits_transport_key(curve(9), 10'000));  // expired
  REQUIRE(t.valid_certificate(ward.public_key(), 5000).has_value());
  CHECK(t.valid_certificate(ward.public_key(), 5000)->scope == "79/760/26734");
}

TEST_CASE("trust: a certificate from an unknown issuer admits nothing", "[sync][trust]") {
  Identity root = key(1), stranger = key(3), ward = key(2);
  TrustStore t;
  t.add_root(root.public_key());
  REQUIRE(t.add(issue_certificate(stranger, cert_for(ward, 9, "79/760/26734"))).is_ok());
  CHECK_FALSE(t.admits_transport_key(curve(9), 5000));
}

TEST_CASE("trust: a district delegated by the root issues within its scope only", "[sync][trust]") {
  Identity root = key(1), district = key(4), ward = key(2), other = key(5);
  TrustStore t;
  t.add_root(root.public_key());
  REQUIRE(t.add(issue_certificate(root, cert_for(district, 7, "79/760/", true))).is_ok());
  REQUIRE(t.add(issue_certificate(district, cert_for(ward, 9, "79/760/26734"))).is_ok());
  REQUIRE(t.add(issue_certificate(district, cert_for(other, 10, "79/769/27000"))).is_ok());
  CHECK(t.admits_transport_key(curve(9), 5000));
  CHECK_FALSE(t.admits_transport_key(curve(10), 5000));  // outside the district's scope

  SECTION("a ward without may_issue cannot issue") {
    Identity sub = key(6);
    REQUIRE(t.add(issue_certificate(ward, cert_for(sub, 11, "79/760/26734"))).is_ok());
    CHECK_FALSE(t.admits_transport_key(curve(11), 5000));
  }
  SECTION("revoking the district withdraws the wards it issued") {
    REQUIRE(t.add(issue_revocation(root, district.public_key(), 4000, "hộp bị mất")).is_ok());
    CHECK_FALSE(t.admits_transport_key(curve(7), 5000));
    CHECK_FALSE(t.admits_transport_key(curve(9), 5000));
  }
}

TEST_CASE("trust: revocation by the issuer or a root, not by a stranger", "[sync][trust]") {
  Identity root = key(1), ward = key(2), stranger = key(3);
  TrustStore t;
  t.add_root(root.public_key());
  REQUIRE(t.add(issue_certificate(root, cert_for(ward, 9, "79/760/26734"))).is_ok());
  REQUIRE(t.add(issue_revocation(stranger, ward.public_key(), 4000, "giả mạo")).is_ok());
  CHECK(t.admits_transport_key(curve(9), 5000));
  REQUIRE(t.add(issue_revocation(root, ward.public_key(), 4000, "thu hồi")).is_ok());
  CHECK_FALSE(t.admits_transport_key(curve(9), 5000));
}

TEST_CASE("trust: a revocation keeps the history it names, and only a revoker's revocation keeps any",
          "[sync][trust]") {
  Identity root = key(1), ward = key(2), stranger = key(3);
  TrustStore t;
  t.add_root(root.public_key());
  REQUIRE(t.add(issue_certificate(root, cert_for(ward, 9, "79/760/26734"))).is_ok());
  // A stranger's "revocation" keeping a long history counts for nothing, even
  // beside a certificate of the node the stranger signed itself (it does not chain).
  REQUIRE(t.add(issue_certificate(stranger, cert_for(ward, 9, "79/760/26734"))).is_ok());
  REQUIRE(t.add(issue_revocation(stranger, ward.public_key(), 4000, "x", {{"79/760/26734", 999}})).is_ok());
  CHECK(t.kept_through(ward.public_key(), "79/760/26734") == 0);
  CHECK(t.revoked_certificates(ward.public_key()).empty());  // not revoked by it either
  REQUIRE(t.add(issue_revocation(root, ward.public_key(), 4000, "mất hộp",
                                 {{"79/760/26734", 120}, {"shared/79/760/26734", 3}}))
              .is_ok());
  CHECK(t.enrolled_certificates(ward.public_key()).empty());
  REQUIRE(t.revoked_certificates(ward.public_key()).size() == 1);  // the root's certificate only
  CHECK(t.revoked_certificates(ward.public_key()).front().scope == "79/760/26734");
  CHECK(t.kept_through(ward.public_key(), "79/760/26734") == 120);  // the root's, not the stranger's 999
  CHECK(t.kept_through(ward.public_key(), "shared/79/760/26734") == 3);
  CHECK(t.kept_through(ward.public_key(), "79/760/26735") == 0);
}

TEST_CASE("trust: tampered certificates and swapped signature kinds are refused", "[sync][trust]") {
  Identity root = key(1), ward = key(2);
  TrustStore t;
  t.add_root(root.public_key());
  std::string c = issue_certificate(root, cert_for(ward, 9, "79/760/26734"));
  for (std::size_t i = 0; i < c.size(); ++i) {
    std::string bad = c;
    bad[i] = static_cast<char>(bad[i] ^ 0x01);
    TrustStore fresh;
    fresh.add_root(root.public_key());
    (void)fresh.add(bad);
    INFO("byte " << i);
    CHECK_FALSE(fresh.admits_transport_key(curve(9), 5000));
  }
  CHECK_FALSE(t.add("not a certificate").is_ok());
  CHECK_FALSE(t.add(std::string(5000, 'x')).is_ok());
}

TEST_CASE("trust: the same certificate added twice is held once", "[sync][trust]") {
  Identity root = key(1), ward = key(2);
  TrustStore t;
  t.add_root(root.public_key());
  std::string bytes = issue_certificate(root, cert_for(ward, 9, "79/760/26734"));
  REQUIRE(t.add(bytes).is_ok());
  REQUIRE(t.add(bytes).is_ok());  // from the files, then as a replicated record
  CHECK(t.certificate_count() == 1);
  // A renewal (another validity) is a second certificate, kept beside the first.
  CertificateInfo renewed = cert_for(ward, 9, "79/760/26734");
  renewed.not_after_ms = 20'000;
  REQUIRE(t.add(issue_certificate(root, renewed)).is_ok());
  CHECK(t.certificate_count() == 2);
  CHECK(t.admits_transport_key(curve(9), 15'000));
}
