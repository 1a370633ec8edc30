// Trust: node certificates, delegation and revocation.
//
// An authority key (city or province) is a trust root. It issues certificates
// that bind a node's signing key (its id) to its transport (CURVE) key, office,
// tier and scope, for a validity period. A certificate with `may_issue` lets its
// node (a district) issue certificates within its own scope. A revocation, signed
// by the certificate's issuer or a root, withdraws it. Certificates and
// revocations are plain signed bytes, so they travel as record fields and replicate.
//
// Thread safety: TrustStore is not thread-safe; guard it or copy it.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "wardsync/sync/identity.hpp"
#include "wardsync/sync/status.hpp"

namespace wardsync {

using CurveKey = std::array<std::uint8_t, 32>;

struct CertificateInfo {
  PublicKey node_id{};
  CurveKey curve_public{};
  std::string office_code;
  std::string tier;
  std::string scope;
  std::uint64_t not_before_ms = 0;
  std::uint64_t not_after_ms = 0;
  PublicKey issuer{};
  bool may_issue = false;
  bool operator==(const CertificateInfo&) const = default;
};

// Signed bytes (serialized `Signed` message) of a certificate or a revocation.
std::string issue_certificate(const Identity& issuer, CertificateInfo info);
// `kept`: scope -> the last sequence of the node's stream in that scope that
// stays valid (its history as the revoking node held it); empty: none does.
std::string issue_revocation(const Identity& issuer, const PublicKey& node, std::uint64_t at_ms,
                             const std::string& reason, const std::map<std::string, std::uint64_t>& kept = {});
Result<CertificateInfo> read_certificate(const std::string& signed_bytes);

class TrustStore {
 public:
  void add_root(const PublicKey& authority) { roots_.insert(authority); }
  // Adds a certificate or a revocation (signature checked here; whether the
  // issuer may issue is checked when the chain is evaluated).
  Status add(const std::string& signed_bytes);

  // The node's certificate if it chains to a root through issuers allowed to
  // issue within the scope, is valid at `now_ms`, and neither it nor any
  // certificate above it is revoked.
  std::optional<CertificateInfo> valid_certificate(const PublicKey& node, std::uint64_t now_ms) const;
  // May a peer presenting this transport key connect (the ZAP rule)?
  bool admits_transport_key(const CurveKey& key, std::uint64_t now_ms) const;
  // The valid certificate that binds this transport key, if any (what the peer
  // presenting it may receive: its scope; who it is: its node id).
  std::optional<CertificateInfo> certificate_for_transport_key(const CurveKey& key, std::uint64_t now_ms) const;
  // The node's certificates that chain to a root as valid_certificate() asks,
  // whatever their validity periods: the node was enrolled and is not struck
  // off. Its changes are believed after its certificate expires (history made
  // while it was valid reaches new nodes for years); a revocation ends that.
  std::vector<CertificateInfo> enrolled_certificates(const PublicKey& node) const;
  // A revocation of `node` is known (whether or not its signer may revoke it).
  bool has_revocation_for(const PublicKey& node) const { return revocations_.count(node) != 0; }
  // For a revoked node: its certificates that chain to a root as
  // enrolled_certificates() asks, but for their own revocation (what it was
  // allowed to write while it was trusted).
  std::vector<CertificateInfo> revoked_certificates(const PublicKey& node) const;
  // For a revoked node: the last sequence of its stream in `scope` that stays
  // valid, from revocations by whoever may revoke it (a root, or the issuer of
  // one of its certificates). 0: nothing is kept.
  std::uint64_t kept_through(const PublicKey& node, const std::string& scope) const;
  // Some certificate of `node` is known (valid or not).
  bool knows_certificate_of(const PublicKey& node) const { return certs_.count(node) != 0; }
  std::size_t certificate_count() const;

 private:
  // now_ms: nullopt ignores validity periods (enrolled_certificates).
  bool chain_ok(const CertificateInfo& cert, std::optional<std::uint64_t> now_ms, int depth,
                bool ignore_own_revocation = false) const;
  bool revoked(const PublicKey& node, const PublicKey& issuer) const;

  std::set<PublicKey> roots_;
  std::map<PublicKey, std::vector<CertificateInfo>> certs_;     // by node id
  std::map<PublicKey, std::set<PublicKey>> revocations_;         // node id → who revoked it
  // node id → who revoked it → scope → last kept sequence
  std::map<PublicKey, std::map<PublicKey, std::map<std::string, std::uint64_t>>> kept_;
};

}  // namespace wardsync
