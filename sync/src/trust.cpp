#include "wardsync/sync/trust.hpp"

#include <algorithm>
#include <cstring>

#include "session.pb.h"

namespace wardsync {

namespace {

constexpr int kMaxChainDepth = 4;
constexpr std::size_t kMaxSignedBytes = 4096;

template <typename A>
bool copy_exact(const std::string& from, A& to) {
  if (from.size() != to.size()) return false;
  std::memcpy(to.data(), from.data(), to.size());
  return true;
}

// Domain separation: a certificate's signature can never pass for a
// revocation's, or for a change's, over the same bytes.
constexpr const char* kCertContext = "wardsync certificate v1";
constexpr const char* kRevocationContext = "wardsync revocation v1";

std::string signed_message(const char* context, const std::string& body) {
  std::string m(context);
  m.push_back('\0');
  m += body;
  return m;
}

std::string sign_wrapped(const Identity& issuer, const char* context, const std::string& body) {
  pb::Signed s;
  s.set_body(body);
  std::string m = signed_message(context, body);
  Signature sig = issuer.sign({reinterpret_cast<const std::uint8_t*>(m.data()), m.size()});
  s.set_signature(sig.data(), sig.size());
  return s.SerializeAsString();
}

// Parses the wrapper and checks the signature against the issuer named inside.
template <typename Msg>
Status open_signed(const std::string& bytes, const char* context, Msg& body, PublicKey& issuer) {
  if (bytes.size() > kMaxSignedBytes) return {Code::kInvalidArgument, "signed record too large"};
  pb::Signed s;
  Signature sig{};
  if (!s.ParseFromString(bytes) || !copy_exact(s.signature(), sig) || !body.ParseFromString(s.body())) {
    return {Code::kInvalidArgument, "not a signed certificate or revocation"};
  }
  if (!copy_exact(body.issuer(), issuer)) return {Code::kInvalidArgument, "bad issuer key"};
  std::string m = signed_message(context, s.body());
  if (!verify_signature(issuer, {reinterpret_cast<const std::uint8_t*>(m.data()), m.size()}, sig)) {
    return {Code::kCorrupt, "signature of the issuer does not verify"};
  }
  return Status::ok();
}

bool within_scope(const std::string& scope, const std::string& parent) {
  return scope.compare(0, parent.size(), parent) == 0;
}

}  // namespace

std::string issue_certificate(const Identity& issuer, CertificateInfo info) {
  pb::Certificate c;
  c.set_node_id(info.node_id.data(), info.node_id.size());
  c.set_curve_public(info.curve_public.data(), info.curve_public.size());
  c.set_office_code(info.office_code);
  c.set_tier(info.tier);
  c.set_scope(info.scope);
  c.set_not_before_ms(info.not_before_ms);
  c.set_not_after_ms(info.not_after_ms);
  c.set_issuer(issuer.public_key().data(), kPublicKeyBytes);
  c.set_may_issue(info.may_issue);
  return sign_wrapped(issuer, kCertContext, c.SerializeAsString());
}

std::string issue_revocation(const Identity& issuer, const PublicKey& node, std::uint64_t at_ms,
                             const std::string& reason, const std::map<std::string, std::uint64_t>& kept) {
  pb::Revocation r;
  r.set_node_id(node.data(), node.size());
  r.set_issuer(issuer.public_key().data(), kPublicKeyBytes);
  r.set_at_ms(at_ms);
  r.set_reason(reason);
  for (const auto& [scope, seq] : kept) {
    pb::KeptStream* k = r.add_kept();
    k->set_scope(scope);
    k->set_seq(seq);
  }
  return sign_wrapped(issuer, kRevocationContext, r.SerializeAsString());
}

Result<CertificateInfo> read_certificate(const std::string& signed_bytes) {
  pb::Certificate c;
  CertificateInfo info;
  Status s = open_signed(signed_bytes, kCertContext, c, info.issuer);
  if (!s.is_ok()) return s;
  if (!copy_exact(c.node_id(), info.node_id) || !copy_exact(c.curve_public(), info.curve_public)) {
    return Status{Code::kInvalidArgument, "certificate keys are not 32 bytes"};
  }
  if (c.not_after_ms() <= c.not_before_ms()) return Status{Code::kInvalidArgument, "empty validity period"};
  info.office_code = c.office_code();
  info.tier = c.tier();
  info.scope = c.scope();
  info.not_before_ms = c.not_before_ms();
  info.not_after_ms = c.not_after_ms();
  info.may_issue = c.may_issue();
  return info;
}

Status TrustStore::add(const std::string& signed_bytes) {
  auto cert = read_certificate(signed_bytes);
  if (cert.is_ok()) {
    auto& list = certs_[cert.value().node_id];
    // The same certificate arrives from the trust files and again as a replicated
    // record, from every peer: hold it once.
    if (std::find(list.begin(), list.end(), cert.value()) == list.end()) list.push_back(cert.value());
    return Status::ok();
  }
  pb::Revocation r;
  PublicKey issuer{};
  Status s = open_signed(signed_bytes, kRevocationContext, r, issuer);
  if (!s.is_ok()) return {Code::kCorrupt, "neither a valid certificate nor a valid revocation"};
  PublicKey node{};
  if (!copy_exact(r.node_id(), node)) return {Code::kInvalidArgument, "bad revoked node id"};
  revocations_[node].insert(issuer);
  auto& kept = kept_[node][issuer];
  for (const pb::KeptStream& k : r.kept()) kept[k.scope()] = std::max(kept[k.scope()], k.seq());
  return Status::ok();
}

std::vector<CertificateInfo> TrustStore::revoked_certificates(const PublicKey& node) const {
  std::vector<CertificateInfo> out;
  auto it = certs_.find(node);
  if (it == certs_.end()) return out;
  for (const auto& c : it->second) {
    if (revoked(c.node_id, c.issuer) && chain_ok(c, std::nullopt, 0, true)) out.push_back(c);
  }
  return out;
}

std::uint64_t TrustStore::kept_through(const PublicKey& node, const std::string& scope) const {
  auto revokers = kept_.find(node);
  if (revokers == kept_.end()) return 0;
  // Only a revocation that revokes counts: by a root, or by the issuer of a
  // certificate of the node that chains to a root. A stranger (or the thief)
  // can sign a certificate of the node and a revocation keeping everything;
  // neither chains, so neither keeps anything.
  const std::vector<CertificateInfo> certs = revoked_certificates(node);
  std::uint64_t through = 0;
  for (const auto& [by, scopes] : revokers->second) {
    bool may = roots_.count(by) != 0 ||
               std::any_of(certs.begin(), certs.end(), [&](const CertificateInfo& c) { return c.issuer == by; });
    auto k = scopes.find(scope);
    if (may && k != scopes.end()) through = std::max(through, k->second);
  }
  return through;
}

bool TrustStore::revoked(const PublicKey& node, const PublicKey& issuer) const {
  auto it = revocations_.find(node);
  if (it == revocations_.end()) return false;
  for (const auto& by : it->second) {
    if (by == issuer || roots_.count(by) != 0) return true;  // its issuer, or any root
  }
  return false;
}

bool TrustStore::chain_ok(const CertificateInfo& cert, std::optional<std::uint64_t> now_ms, int depth,
                          bool ignore_own_revocation) const {
  if (depth > kMaxChainDepth) return false;
  if (now_ms && (*now_ms < cert.not_before_ms || *now_ms >= cert.not_after_ms)) return false;
  if (!(ignore_own_revocation && depth == 0) && revoked(cert.node_id, cert.issuer)) return false;
  if (roots_.count(cert.issuer) != 0) return true;
  // Delegated: the issuer holds a valid certificate that may issue, whose
  // scope contains this one's.
  auto it = certs_.find(cert.issuer);
  if (it == certs_.end()) return false;
  for (const auto& up : it->second) {
    if (up.may_issue && within_scope(cert.scope, up.scope) && chain_ok(up, now_ms, depth + 1)) return true;
  }
  return false;
}

std::optional<CertificateInfo> TrustStore::valid_certificate(const PublicKey& node, std::uint64_t now_ms) const {
  auto it = certs_.find(node);
  if (it == certs_.end()) return std::nullopt;
  for (const auto& c : it->second) {
    if (chain_ok(c, now_ms, 0)) return c;
  }
  return std::nullopt;
}

std::vector<CertificateInfo> TrustStore::enrolled_certificates(const PublicKey& node) const {
  std::vector<CertificateInfo> out;
  auto it = certs_.find(node);
  if (it == certs_.end()) return out;
  for (const auto& c : it->second) {
    if (chain_ok(c, std::nullopt, 0)) out.push_back(c);
  }
  return out;
}

bool TrustStore::admits_transport_key(const CurveKey& key, std::uint64_t now_ms) const {
  return certificate_for_transport_key(key, now_ms).has_value();
}

std::optional<CertificateInfo> TrustStore::certificate_for_transport_key(const CurveKey& key,
                                                                         std::uint64_t now_ms) const {
  for (const auto& [node, list] : certs_) {
    for (const auto& c : list) {
      if (c.curve_public == key && chain_ok(c, now_ms, 0)) return c;
    }
  }
  return std::nullopt;
}

std::size_t TrustStore::certificate_count() const {
  std::size_t n = 0;
  for (const auto& [node, list] : certs_) n += list.size();
  return n;
}

}  // namespace wardsync
