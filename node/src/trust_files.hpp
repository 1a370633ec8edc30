// The files an IT admin moves between boxes to enrol nodes (docs/operations.md,
// "Enrolling nodes"): the transport key, authority public keys, certificate
// requests, certificates and revocations. All are short text files, so they can
// be read, mailed and checked by eye; the signed parts are hex of the exact bytes
// that sync/trust.hpp signs and verifies.
//
//   transport.key     public = <z85>  /  secret = <z85>            (mode 0600)
//   authority.pub     authority <hex Ed25519 public key>
//   <node>.request    request, then key = value lines, then signature = <hex>
//   <node>.cert       certificate <hex of signed bytes>
//   <node>.rev        revocation <hex of signed bytes>
//
// Lines starting with '#' are comments (the files carry a readable summary).
// Thread safety: free functions, no shared state.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "config.hpp"
#include "wardsync/sync/replicator.hpp"
#include "wardsync/sync/trust.hpp"

namespace wardsync::node {

constexpr std::size_t kMaxTrustFileBytes = 16 * 1024;  // checked before reading

// The CURVE key pair of `config.transport_key_file`, created (0600) when missing.
[[nodiscard]] Result<CurveKeys> load_or_create_transport_key(const Config& config, bool create);

// One parsed trust file.
struct TrustItem {
  enum class Kind { kAuthority, kCertificate, kRevocation };
  Kind kind = Kind::kCertificate;
  std::string bytes;  // authority: the 32-byte key; otherwise the signed bytes
};
[[nodiscard]] Result<TrustItem> read_trust_file(const std::filesystem::path& path);
[[nodiscard]] Status write_trust_file(const std::filesystem::path& path, const TrustItem& item,
                                      const std::string& comment);
// The files of a trust directory in name order (*.pub, *.cert, *.rev); a file
// that does not parse is reported in `errors` and skipped.
std::vector<TrustItem> read_trust_dir(const std::filesystem::path& dir, std::vector<std::string>& errors);
// A readable summary of a certificate ("node 3f2a… office 26734 (ward) scope … valid …").
std::string describe_certificate(const CertificateInfo& cert);

// What a node sends to its authority to be enrolled, signed by the node's key so
// the authority knows the requester holds it.
struct CertRequest {
  PublicKey node_id{};
  std::string transport_z85;
  std::string office_code, office_name, tier, scope;
};
std::string render_request(const CertRequest& request, const Identity& node_key);
[[nodiscard]] Result<CertRequest> read_request(const std::filesystem::path& path);

std::string utc_day(std::uint64_t unix_ms);  // "2026-11-23"

}  // namespace wardsync::node
