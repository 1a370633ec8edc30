#include "trust_cli.hpp"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/NetException.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli_args.hpp"
#include "config.hpp"
#include "schema.hpp"
#include "trust_files.hpp"
#include "wardsync/sync/reader.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync::node {

namespace fs = std::filesystem;

namespace {

constexpr std::uint64_t kDayMs = 24ull * 3600 * 1000;
constexpr const char* kAuthorityKeyFile = "authority.key";
constexpr const char* kAuthorityPubFile = "authority.pub";

const char* kAuthorityUsage =
    "Usage: wardnode authority create --out DIR [--name NAME]\n"
    "\n"
    "Creates a trust root for a city or province: DIR/authority.key (the Ed25519 key that\n"
    "signs node certificates; mode 0600, keep it offline, e.g. on a USB stick in a safe)\n"
    "and DIR/authority.pub (its public half: install it on every node with\n"
    "'wardnode cert install --dir NODEDIR DIR/authority.pub'). Refuses an existing key.\n"
    "\n"
    "  --out DIR     directory to create the key in\n"
    "  --name NAME   who holds it, written as a comment (e.g. \"Sở TT&TT TP.HCM\")\n";

const char* kCertUsage =
    "Usage: wardnode cert <request|issue|install|revoke|show> ... ('wardnode cert <sub> --help')\n"
    "\n"
    "Enrolling a node (docs/operations.md, 'Enrolling nodes'):\n"
    "  1. on the node:       wardnode cert request --dir NODEDIR --out node.request\n"
    "  2. at the authority:  wardnode cert issue --authority AUTHDIR --request node.request --out node.cert\n"
    "  3. on the node:       wardnode cert install --dir NODEDIR authority.pub\n"
    "                        wardnode cert install --dir NODEDIR node.cert\n"
    "     and on the node it connects to (its district or city):\n"
    "                        wardnode cert install --dir UPSTREAMDIR node.cert\n"
    "  4. on the node:       wardnode peer add --dir NODEDIR tcp://HOST:PORT UPSTREAM-TRANSPORT-KEY\n"
    "Withdrawing a node:     wardnode cert revoke --authority AUTHDIR --node NODEID --out node.rev --dir ANYNODEDIR\n";

const char* kRequestUsage =
    "Usage: wardnode cert request --dir NODEDIR [--out FILE]\n"
    "\n"
    "Prints (or writes to FILE) what the authority needs to enrol this node: its node id,\n"
    "transport key, office code and name, tier and scope, signed with the node's key so the\n"
    "authority can tell the request was made by the node it names. Creates the transport key\n"
    "(transport_key_file, 0600) if the directory has none yet. Holds no secret.\n";

const char* kIssueUsage =
    "Usage: wardnode cert issue --authority DIR --request FILE --out FILE [--days N] [--may-issue]\n"
    "\n"
    "Issues a node certificate for a request made by 'wardnode cert request'.\n"
    "\n"
    "  --authority DIR   an authority directory ('wardnode authority create'), or the data\n"
    "                    directory of a district node whose certificate allows it to issue\n"
    "                    (--may-issue): a district then issues for the wards within its scope,\n"
    "                    and the certificate is also added to its own trust directory\n"
    "  --request FILE    the node's request\n"
    "  --out FILE        where to write the certificate (give it to the node's IT admin)\n"
    "  --days N          validity from now, in days (default 730)\n"
    "  --may-issue       lets the node issue certificates within its own scope (a district)\n";

const char* kInstallUsage =
    "Usage: wardnode cert install --dir NODEDIR FILE\n"
    "\n"
    "Installs a trust file into a node's directory:\n"
    "  authority.pub     a trust root: certificates it issued (directly or through a\n"
    "                    district it delegated to) are admitted; copied to trust_dir\n"
    "  a certificate     of this node (checked against its node id and transport key):\n"
    "                    becomes certificate_file; of another node (a ward that connects\n"
    "                    here, or the district that issued ours): copied to trust_dir\n"
    "  a revocation      copied to trust_dir\n"
    "A running node reads trust_dir again within a few seconds; certificates and\n"
    "revocations are then written as replicated records, so they reach every node.\n";

const char* kRevokeUsage =
    "Usage: wardnode cert revoke --authority DIR --node NODEID --out FILE [--reason TEXT] [--dir NODEDIR]\n"
    "\n"
    "Signs a revocation of a node's certificate (a stolen or lost box). Every node that learns\n"
    "of it refuses the node's connections and ends its sessions. Permanent: the node id can\n"
    "never be enrolled again. What the node wrote while trusted stays valid as far as the\n"
    "node at --dir holds it (its replacement box still sees the office's records); anything\n"
    "after is refused everywhere. Without --dir none of its history is kept.\n"
    "\n"
    "  --authority DIR   the authority directory, or the district node that issued the certificate\n"
    "  --node NODEID     the node id (64 hex digits, from its request or certificate)\n"
    "  --out FILE        the signed revocation\n"
    "  --reason TEXT     why, kept in the revocation (e.g. \"box stolen 2026-11-20\")\n"
    "  --dir NODEDIR     the district or city that holds the node's history: the revocation\n"
    "                    keeps that history, and is installed there, written as a replicated\n"
    "                    record that spreads to every node\n";

const char* kShowUsage =
    "Usage: wardnode cert show FILE\n"
    "Prints what a request, certificate, revocation or authority key file says, after checking its signature.\n";

const char* kPeerUsage =
    "Usage: wardnode peer add --dir NODEDIR ENDPOINT PUBKEY\n"
    "\n"
    "Adds a node to connect to: appends 'peer = ENDPOINT PUBKEY' to NODEDIR/wardnode.conf.\n"
    "Restart the node afterwards.\n"
    "\n"
    "  ENDPOINT   tcp://HOST:PORT, the peer's sync_listen as reachable from here\n"
    "  PUBKEY     the peer's transport key (40 characters, from its 'wardnode cert request')\n"
    "Example: wardnode peer add --dir /var/lib/wardsync tcp://10.79.0.2:7001 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7'\n";

const char* kStatusUsage =
    "Usage: wardnode status --dir DIR [--listen HOST:PORT]\n"
    "\n"
    "Shows replication at a glance: per peer whether it is connected, when it was last\n"
    "heard, changes and bytes behind in each direction, refused changes and the last\n"
    "error; the store's held and quarantined changes; the trust files. Reads the running\n"
    "node's /metrics when its HTTP address is on this machine (127.0.0.1), otherwise (or\n"
    "when the node is stopped) what the database holds. --listen: the node's HTTP address\n"
    "when it was started with 'run --listen' (default: listen from wardnode.conf).\n";

int failed(const std::string& cmd, const std::string& msg) {
  std::fprintf(stderr, "wardnode %s: %s\n", cmd.c_str(), msg.c_str());
  return 1;
}

std::uint64_t now_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Status write_text(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::trunc);
  out << text;
  out.close();
  return out ? Status::ok() : Status{Code::kIo, p.string() + ": cannot write"};
}

// Who signs at the authority: an authority directory, or a node directory whose
// certificate may issue (a district acting for the city).
struct Issuer {
  std::optional<Identity> key;
  std::optional<CertificateInfo> delegation;  // set when a node issues
  std::optional<Config> node_config;
  fs::path revocations;  // where its revocations are kept: <authority>/revocations, or the node's trust dir
};

Result<Issuer> load_issuer(const fs::path& dir) {
  Issuer is;
  std::error_code ec;
  if (fs::exists(dir / kAuthorityKeyFile, ec)) {
    auto k = Identity::load(dir / kAuthorityKeyFile);
    if (!k.is_ok()) return k.status();
    is.key.emplace(std::move(k).value());
    is.revocations = dir / "revocations";
    return is;
  }
  auto cfg = load_config(dir);
  if (!cfg.is_ok())
    return Status{Code::kNotFound, dir.string() + " holds neither " + kAuthorityKeyFile + " nor a node's wardnode.conf"};
  auto k = Identity::load(cfg.value().path_of(cfg.value().key_file));
  if (!k.is_ok()) return k.status();
  auto own = read_trust_file(cfg.value().path_of(cfg.value().certificate_file));
  if (!own.is_ok()) return Status{Code::kInvalidArgument, "this node has no certificate to issue with: " + own.status().message()};
  auto cert = read_certificate(own.value().bytes);
  if (!cert.is_ok()) return cert.status();
  if (!cert.value().may_issue)
    return Status{Code::kInvalidArgument, "this node's certificate does not allow it to issue (it needs --may-issue "
                                          "from the authority)"};
  if (cert.value().node_id != k.value().public_key())
    return Status{Code::kInvalidArgument, "the node's certificate is not for its own key"};
  is.key.emplace(std::move(k).value());
  is.delegation = cert.value();
  is.node_config = cfg.value();
  is.revocations = cfg.value().path_of(cfg.value().trust_dir);
  return is;
}

// A revocation of `node` among those the issuer keeps, described; nullopt when none.
std::optional<std::string> revoked_by_record(const Issuer& is, const PublicKey& node) {
  std::vector<std::string> errors;
  std::error_code ec;
  if (!fs::is_directory(is.revocations, ec)) return std::nullopt;
  for (const TrustItem& item : read_trust_dir(is.revocations, errors)) {
    if (item.kind != TrustItem::Kind::kRevocation) continue;
    TrustStore one;
    if (!one.add(item.bytes).is_ok() || !one.has_revocation_for(node)) continue;
    return "node " + to_hex(node).substr(0, 16) + " was revoked (a revocation of it is in " + is.revocations.string() +
           "); a revoked node id is refused everywhere for good, so a certificate for it would be refused too. "
           "Give the box a new identity (wardnode init in a new data directory, then cert request) and certify that";
  }
  return std::nullopt;
}

int cert_request(int argc, char** argv) {
  CliArgs a = parse_args(argc, argv, 3, {"--dir", "--out"}, {}, true);
  if (a.has("--help")) return std::fputs(kRequestUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("cert request", a.error);
  if (a.get("--dir").empty()) return usage_error("cert request", "--dir is required");
  auto cfg = load_config(a.get("--dir"));
  if (!cfg.is_ok()) return failed("cert request", cfg.status().message());
  const Config& c = cfg.value();
  auto key = Identity::load(c.path_of(c.key_file));
  if (!key.is_ok()) return failed("cert request", key.status().message());
  auto transport = load_or_create_transport_key(c, true);
  if (!transport.is_ok()) return failed("cert request", transport.status().message());
  CertRequest r{key.value().public_key(), transport.value().public_z85(), c.office_code, c.office_name, c.tier, c.scope};
  std::string text = render_request(r, key.value());
  if (a.get("--out").empty()) {
    std::fputs(text.c_str(), stdout);
    return 0;
  }
  Status s = write_text(a.get("--out"), text);
  if (!s.is_ok()) return failed("cert request", s.message());
  std::printf("wrote %s for node %s (%s, scope %s, transport key %s)\n", a.get("--out").c_str(),
              to_hex(r.node_id).c_str(), r.office_code.c_str(), r.scope.c_str(), r.transport_z85.c_str());
  return 0;
}

int cert_issue(int argc, char** argv) {
  CliArgs a = parse_args(argc, argv, 3, {"--authority", "--request", "--out", "--days"}, {"--may-issue"}, true);
  if (a.has("--help")) return std::fputs(kIssueUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("cert issue", a.error);
  for (const char* req : {"--authority", "--request", "--out"})
    if (a.get(req).empty()) return usage_error("cert issue", std::string(req) + " is required");
  long days = 0;
  try {
    days = std::stol(a.get("--days", "730"));
  } catch (const std::exception&) {
    days = 0;
  }
  if (days < 1 || days > 3650) return usage_error("cert issue", "--days must be 1 to 3650");
  auto issuer = load_issuer(a.get("--authority"));
  if (!issuer.is_ok()) return failed("cert issue", issuer.status().message());
  auto req = read_request(a.get("--request"));
  if (!req.is_ok()) return failed("cert issue", req.status().message());
  const CertRequest& r = req.value();
  const Issuer& is = issuer.value();
  if (auto why = revoked_by_record(is, r.node_id)) return failed("cert issue", *why);
  if (is.delegation && !scope_within(r.scope, is.delegation->scope))
    return failed("cert issue", "scope " + r.scope + " is outside this district's scope " + is.delegation->scope);
  // Nodes take catalogues only from a city or province certified by an
  // authority; a district never makes one (docs/replication.md, "Catalogues").
  if (is.delegation && publishes_catalogues(r.tier))
    return failed("cert issue", "a district cannot certify a node of tier " + r.tier + "; the authority issues it");
  CertificateInfo info;
  info.node_id = r.node_id;
  (void)curve_key_from_z85(r.transport_z85, info.curve_public);  // checked by read_request
  info.office_code = r.office_code;
  info.tier = r.tier;
  info.scope = r.scope;
  info.not_before_ms = now_ms() - 3600 * 1000;  // an hour of slack for boxes whose clocks lag
  info.not_after_ms = now_ms() + static_cast<std::uint64_t>(days) * kDayMs;
  info.may_issue = a.has("--may-issue");
  if (is.delegation && info.not_after_ms > is.delegation->not_after_ms) info.not_after_ms = is.delegation->not_after_ms;
  std::string signed_bytes = issue_certificate(*is.key, info);
  auto check = read_certificate(signed_bytes);
  if (!check.is_ok()) return failed("cert issue", check.status().message());
  std::string summary = "wardsync node certificate (install: wardnode cert install --dir NODEDIR FILE)\n" +
                        describe_certificate(check.value());
  Status s = write_trust_file(a.get("--out"), {TrustItem::Kind::kCertificate, signed_bytes}, summary);
  if (!s.is_ok()) return failed("cert issue", s.message());
  if (is.node_config) {
    // A district admits the wards it enrols without another step.
    const Config& c = *is.node_config;
    fs::create_directories(c.path_of(c.trust_dir));
    fs::path copy = c.path_of(c.trust_dir) / (to_hex(r.node_id).substr(0, 16) + ".cert");
    s = write_trust_file(copy, {TrustItem::Kind::kCertificate, signed_bytes}, summary);
    if (!s.is_ok()) return failed("cert issue", s.message());
  }
  std::printf("issued %s:\n%s\n", a.get("--out").c_str(), describe_certificate(check.value()).c_str());
  return 0;
}

int cert_install(int argc, char** argv) {
  CliArgs a = parse_args(argc, argv, 3, {"--dir"}, {}, true);
  if (a.has("--help")) return std::fputs(kInstallUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("cert install", a.error);
  if (a.get("--dir").empty() || a.positional.size() != 1) return usage_error("cert install", "--dir NODEDIR and one FILE");
  auto cfg = load_config(a.get("--dir"));
  if (!cfg.is_ok()) return failed("cert install", cfg.status().message());
  const Config& c = cfg.value();
  auto item = read_trust_file(a.positional[0]);
  if (!item.is_ok()) return failed("cert install", item.status().message());
  const TrustItem& t = item.value();
  fs::path trust_dir = c.path_of(c.trust_dir);
  std::error_code ec;
  fs::create_directories(trust_dir, ec);
  std::string hex16 = to_hex(hash_bytes({reinterpret_cast<const std::uint8_t*>(t.bytes.data()), t.bytes.size()}))
                          .substr(0, 16);
  fs::path dest;
  std::string what;
  if (t.kind == TrustItem::Kind::kAuthority) {
    dest = trust_dir / ("authority-" + hex16 + ".pub");
    what = "authority key (trust root)";
  } else if (t.kind == TrustItem::Kind::kRevocation) {
    dest = trust_dir / ("revocation-" + hex16 + ".rev");
    what = "revocation";
  } else {
    auto cert = read_certificate(t.bytes).value();
    auto key = Identity::load(c.path_of(c.key_file));
    if (!key.is_ok()) return failed("cert install", key.status().message());
    if (cert.node_id == key.value().public_key()) {
      auto transport = load_or_create_transport_key(c, false);
      if (!transport.is_ok()) return failed("cert install", transport.status().message());
      if (cert.curve_public != transport.value().public_key)
        return failed("cert install", "the certificate binds another transport key than this node's " +
                                          c.transport_key_file + " (issued for an older request?)");
      dest = c.path_of(c.certificate_file);
      what = "this node's certificate";
    } else {
      dest = trust_dir / (to_hex(cert.node_id).substr(0, 16) + "-" + hex16 + ".cert");
      what = "a peer's certificate: node " + to_hex(cert.node_id).substr(0, 16) + " (" + cert.office_code + ", " +
             cert.tier + "; this node is " + to_hex(key.value().public_key()).substr(0, 16) + ")";
    }
  }
  fs::copy_file(a.positional[0], dest, fs::copy_options::overwrite_existing, ec);
  if (ec) return failed("cert install", dest.string() + ": " + ec.message());
  std::printf("installed %s as %s\n", what.c_str(), dest.c_str());
  return 0;
}

int cert_revoke(int argc, char** argv) {
  CliArgs a = parse_args(argc, argv, 3, {"--authority", "--node", "--out", "--reason", "--dir"}, {}, true);
  if (a.has("--help")) return std::fputs(kRevokeUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("cert revoke", a.error);
  for (const char* req : {"--authority", "--node", "--out"})
    if (a.get(req).empty()) return usage_error("cert revoke", std::string(req) + " is required");
  PublicKey node{};
  if (!from_hex(a.get("--node"), node)) return usage_error("cert revoke", "--node must be a node id (64 hex digits)");
  std::string reason = a.get("--reason", "revoked by the authority");
  if (reason.size() > 200) return usage_error("cert revoke", "--reason is at most 200 bytes");
  auto issuer = load_issuer(a.get("--authority"));
  if (!issuer.is_ok()) return failed("cert revoke", issuer.status().message());
  // The history it wrote while trusted, as the node at --dir holds it, stays
  // valid (a replacement box of its office still sees the office's records).
  std::map<std::string, std::uint64_t> kept;
  if (!a.get("--dir").empty()) {
    auto cfg = load_config(a.get("--dir"));
    if (!cfg.is_ok()) return failed("cert revoke", cfg.status().message());
    auto reader = Reader::open(cfg.value().path_of(cfg.value().store_file).string(), node_schema());
    if (!reader.is_ok()) return failed("cert revoke", reader.status().message());
    for (const auto& [key, head] : reader.value()->version_vector())
      if (key.origin == node) kept[key.scope] = head.seq;
  }
  std::string signed_bytes = issue_revocation(*issuer.value().key, node, now_ms(), reason, kept);
  std::string summary = "wardsync revocation of node " + to_hex(node) + "\nreason: " + reason + "\non " +
                        utc_day(now_ms()) + ", by " + to_hex(issuer.value().key->public_key());
  Status s = write_trust_file(a.get("--out"), {TrustItem::Kind::kRevocation, signed_bytes}, summary);
  if (!s.is_ok()) return failed("cert revoke", s.message());
  // Kept beside the issuer too, so that cert issue refuses this id later.
  std::error_code ec;
  fs::create_directories(issuer.value().revocations, ec);
  s = write_trust_file(issuer.value().revocations / ("revocation-" + to_hex(node).substr(0, 16) + ".rev"),
                       {TrustItem::Kind::kRevocation, signed_bytes}, summary);
  if (!s.is_ok()) return failed("cert revoke", "keeping a copy with the issuer: " + s.message());
  std::printf("wrote revocation %s of node %s\n(permanent: once it spreads, this node id is refused everywhere and "
              "can never be enrolled again; the box needs a new init)\n",
              a.get("--out").c_str(), to_hex(node).c_str());
  for (const auto& [scope, seq] : kept)
    std::printf("its history stays valid: scope %s through change %llu (as %s holds it)\n", scope.c_str(),
                static_cast<unsigned long long>(seq), a.get("--dir").c_str());
  if (kept.empty())
    std::printf("%s\n", a.get("--dir").empty()
                             ? "none of its history is kept (give --dir of the district or city that holds it to keep it)"
                             : "WARNING: no change of this node is held there: none of its history is kept (check the "
                               "node id against wardnode cert show)");
  if (a.get("--dir").empty()) return 0;
  std::string dir = a.get("--dir");
  std::string out = a.get("--out");
  std::vector<char*> args{argv[0], const_cast<char*>("cert"), const_cast<char*>("install"),
                          const_cast<char*>("--dir"), dir.data(), out.data()};
  return cert_install(static_cast<int>(args.size()), args.data());
}

int cert_show(int argc, char** argv) {
  CliArgs a = parse_args(argc, argv, 3, {}, {}, true);
  if (a.has("--help")) return std::fputs(kShowUsage, stdout), 0;
  if (!a.error.empty() || a.positional.size() != 1) return usage_error("cert show", "one FILE");
  fs::path file = a.positional[0];
  if (read_text(file).rfind("request", 0) == 0 || read_text(file).find("\nrequest\n") != std::string::npos) {
    auto r = read_request(file);
    if (!r.is_ok()) return failed("cert show", r.status().message());
    std::printf("certificate request (signature verified)\nnode %s\noffice %s \"%s\" (%s), scope %s\ntransport key %s\n",
                to_hex(r.value().node_id).c_str(), r.value().office_code.c_str(), r.value().office_name.c_str(),
                r.value().tier.c_str(), r.value().scope.c_str(), r.value().transport_z85.c_str());
    return 0;
  }
  auto item = read_trust_file(file);
  if (!item.is_ok()) return failed("cert show", item.status().message());
  const TrustItem& t = item.value();
  if (t.kind == TrustItem::Kind::kAuthority) {
    std::printf("authority key %s\n", to_hex({reinterpret_cast<const std::uint8_t*>(t.bytes.data()), t.bytes.size()}).c_str());
  } else if (t.kind == TrustItem::Kind::kCertificate) {
    std::printf("certificate (issuer's signature verified)\n%s\n", describe_certificate(read_certificate(t.bytes).value()).c_str());
  } else {
    std::printf("revocation (signature verified)\n");
    std::fputs(read_text(file).c_str(), stdout);
  }
  return 0;
}

// --- status -----------------------------------------------------------------

// GET /metrics from a node on this machine; empty when it does not answer.
std::string fetch_metrics(const Config& c) {
  std::size_t colon = c.listen.rfind(':');
  if (colon == std::string::npos || !listens_on_loopback(c)) return "";
  try {
    Poco::Net::HTTPClientSession s("127.0.0.1", static_cast<Poco::UInt16>(std::stoi(c.listen.substr(colon + 1))));
    s.setTimeout(Poco::Timespan(3, 0));
    Poco::Net::HTTPRequest req("GET", "/metrics", Poco::Net::HTTPMessage::HTTP_1_1);
    s.sendRequest(req);
    Poco::Net::HTTPResponse resp;
    std::istream& in = s.receiveResponse(resp);
    std::stringstream ss;
    ss << in.rdbuf();
    return resp.getStatus() == 200 ? ss.str() : "";
  } catch (const std::exception&) {
    return "";
  }
}

// One sample line: name{labels} value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  std::string value;
};

std::vector<Sample> parse_metrics(const std::string& text) {
  std::vector<Sample> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    std::size_t brace = line.find('{');
    std::size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    s.value = line.substr(space + 1);
    if (brace != std::string::npos && brace < space) {
      s.name = line.substr(0, brace);
      std::size_t end = line.find('}', brace);
      std::string body = line.substr(brace + 1, end - brace - 1);
      std::size_t at = 0;
      while (at < body.size()) {
        std::size_t eq = body.find('=', at);
        if (eq == std::string::npos || eq + 1 >= body.size() || body[eq + 1] != '"') break;
        std::size_t close = body.find('"', eq + 2);
        if (close == std::string::npos) break;
        s.labels[body.substr(at, eq - at)] = body.substr(eq + 2, close - eq - 2);
        at = close + 2;  // past '",'
      }
    } else {
      s.name = line.substr(0, space);
    }
    out.push_back(std::move(s));
  }
  return out;
}

int print_from_metrics(const std::string& metrics) {
  std::vector<Sample> samples = parse_metrics(metrics);
  std::map<std::string, std::map<std::string, std::string>> peers;  // peer → metric → value
  std::map<std::string, std::string> errors;
  std::map<std::string, std::string> node;
  for (const Sample& s : samples) {
    auto peer = s.labels.find("peer");
    if (peer != s.labels.end()) {
      peers[peer->second][s.name] = s.value;
      auto err = s.labels.find("last_error");
      if (err != s.labels.end()) errors[peer->second] = err->second;
    } else {
      node[s.name] = s.value;
    }
  }
  auto v = [](std::map<std::string, std::string>& m, const char* k) { return m.count(k) ? m[k] : std::string("-"); };
  std::printf("node (running): %s changes, %s records, %s held, %s quarantined origins, %s conflicts\n",
              v(node, "wardsync_store_changes").c_str(), v(node, "wardsync_store_records").c_str(),
              v(node, "wardsync_store_held_changes").c_str(), v(node, "wardsync_store_quarantined_origins").c_str(),
              v(node, "wardsync_store_conflicts").c_str());
  std::printf("trust: %s authority key(s), %s certificate(s), %s revocation(s); own certificate %s; %s connection(s) refused\n",
              v(node, "wardsync_trust_authorities").c_str(), v(node, "wardsync_trust_certificates").c_str(),
              v(node, "wardsync_trust_revocations").c_str(),
              v(node, "wardsync_trust_own_certificate_valid") == "1" ? "valid" : "MISSING OR INVALID",
              v(node, "wardsync_refused_connections_total").c_str());
  const std::string days = v(node, "wardsync_trust_own_certificate_days_left");
  if (days != "-" && days != "-1" && std::stol(days) < 30)
    std::printf("WARNING: this node's certificate expires in %s day(s); renew it (cert request, cert install)\n",
                days.c_str());
  const std::string held = v(node, "wardsync_trust_held_origins");
  if (held != "-" && held != "0")
    std::printf("WARNING: changes of %s node(s) are held, not merged: no enrolled certificate lets them write there "
                "(GET /api/v1/sync/status lists them under held_origins; docs/operations.md, \"Held origins\")\n",
                held.c_str());
  const std::string expiring = v(node, "wardsync_trust_certificates_expiring");
  if (expiring != "-" && expiring != "0")
    std::printf("WARNING: %s certificate(s) of this node and its peers expire within 30 days (GET /api/v1/sync/status "
                "lists them)\n",
                expiring.c_str());
  if (peers.empty()) {
    std::printf("no peers%s\n", node.count("wardsync_replication_enabled") && node["wardsync_replication_enabled"] == "1"
                                    ? " connected yet"
                                    : " (replication not configured: set sync_listen or add a peer)");
    return 0;
  }
  std::printf("%-34s %-4s %9s %10s %10s %10s %10s %8s  %s\n", "peer", "up", "heard s", "they lack", "bytes",
              "we lack", "bytes", "refused", "last error");
  for (auto& [name, m] : peers) {
    std::printf("%-34s %-4s %9s %10s %10s %10s %10s %8s  %s\n", name.c_str(),
                v(m, "wardsync_peer_connected") == "1" ? "yes" : "no", v(m, "wardsync_peer_last_contact_seconds").c_str(),
                v(m, "wardsync_peer_they_lack_changes").c_str(), v(m, "wardsync_peer_they_lack_bytes").c_str(),
                v(m, "wardsync_peer_we_lack_changes").c_str(), v(m, "wardsync_peer_we_lack_bytes").c_str(),
                v(m, "wardsync_peer_rejected_changes_total").c_str(), errors[name].c_str());
  }
  return 0;
}

}  // namespace

int cmd_authority(int argc, char** argv) {
  std::string sub = argc >= 3 ? argv[2] : "";
  if (sub.empty() || sub == "--help" || sub == "-h") {
    std::fputs(kAuthorityUsage, stdout);
    return sub.empty() ? 2 : 0;
  }
  if (sub != "create") return usage_error("authority", "unknown sub-command '" + sub + "'");
  CliArgs a = parse_args(argc, argv, 3, {"--out", "--name"}, {}, true);
  if (a.has("--help")) return std::fputs(kAuthorityUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("authority create", a.error);
  if (a.get("--out").empty()) return usage_error("authority create", "--out is required");
  fs::path dir = a.get("--out");
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::permissions(dir, fs::perms::owner_all, ec);
  Identity key = Identity::generate();
  Status s = key.save(dir / kAuthorityKeyFile);
  if (!s.is_ok()) return failed("authority create", s.message() + " (an authority key is never overwritten)");
  std::string pub(reinterpret_cast<const char*>(key.public_key().data()), key.public_key().size());
  s = write_trust_file(dir / kAuthorityPubFile, {TrustItem::Kind::kAuthority, pub},
                       "wardsync authority (trust root)" + (a.get("--name").empty() ? "" : ": " + a.get("--name")) +
                           "\ninstall on every node: wardnode cert install --dir NODEDIR " + kAuthorityPubFile);
  if (!s.is_ok()) return failed("authority create", s.message());
  std::printf("created authority %s in %s\n  %s  keep secret and offline\n  %s  install on every node\n",
              to_hex(key.public_key()).c_str(), dir.c_str(), kAuthorityKeyFile, kAuthorityPubFile);
  return 0;
}

int cmd_cert(int argc, char** argv) {
  std::string sub = argc >= 3 ? argv[2] : "";
  if (sub.empty() || sub == "--help" || sub == "-h") {
    std::fputs(kCertUsage, stdout);
    return sub.empty() ? 2 : 0;
  }
  if (sub == "request") return cert_request(argc, argv);
  if (sub == "issue") return cert_issue(argc, argv);
  if (sub == "install") return cert_install(argc, argv);
  if (sub == "revoke") return cert_revoke(argc, argv);
  if (sub == "show") return cert_show(argc, argv);
  return usage_error("cert", "unknown sub-command '" + sub + "'");
}

int cmd_peer(int argc, char** argv) {
  std::string sub = argc >= 3 ? argv[2] : "";
  if (sub.empty() || sub == "--help" || sub == "-h") {
    std::fputs(kPeerUsage, stdout);
    return sub.empty() ? 2 : 0;
  }
  if (sub != "add") return usage_error("peer", "unknown sub-command '" + sub + "'");
  CliArgs a = parse_args(argc, argv, 3, {"--dir"}, {}, true);
  if (a.has("--help")) return std::fputs(kPeerUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("peer add", a.error);
  if (a.get("--dir").empty() || a.positional.size() != 2) return usage_error("peer add", "--dir NODEDIR ENDPOINT PUBKEY");
  SyncPeer p{a.positional[0], a.positional[1]};
  Status s = validate_peer(p);
  if (!s.is_ok()) return failed("peer add", s.message());
  auto cfg = load_config(a.get("--dir"));
  if (!cfg.is_ok()) return failed("peer add", cfg.status().message());
  for (const auto& q : cfg.value().peers)
    if (q.endpoint == p.endpoint) return failed("peer add", p.endpoint + " is already a peer (edit wardnode.conf to change its key)");
  fs::path conf = fs::path(a.get("--dir")) / kConfigFileName;
  std::string text = read_text(conf);
  if (!text.empty() && text.back() != '\n') text += "\n";
  text += "peer = " + p.endpoint + " " + p.curve_z85 + "\n";
  s = write_text(conf, text);
  if (!s.is_ok()) return failed("peer add", s.message());
  std::printf("added peer %s to %s; restart the node to connect\n", p.endpoint.c_str(), conf.c_str());
  return 0;
}

int cmd_status(int argc, char** argv) {
  CliArgs a = parse_args(argc, argv, 2, {"--dir", "--listen"}, {}, true);
  if (a.has("--help")) return std::fputs(kStatusUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("status", a.error);
  if (a.get("--dir").empty()) return usage_error("status", "--dir is required");
  auto cfg = load_config(a.get("--dir"));
  if (!cfg.is_ok()) return failed("status", cfg.status().message());
  Config& c = cfg.value();
  if (!a.get("--listen").empty()) c.listen = a.get("--listen");
  // Who this node is, as an IT officer needs it for the other side's `peer` line.
  auto id = Identity::load(c.path_of(c.key_file));
  auto transport = load_or_create_transport_key(c, false);
  if (id.is_ok() && transport.is_ok())
    std::printf("this node: %s, office %s (%s); transport key %s\n", to_hex(id.value().public_key()).c_str(),
                c.office_code.c_str(), c.tier.c_str(), curve_key_to_z85(transport.value().public_key).c_str());
  std::string metrics = fetch_metrics(c);
  if (!metrics.empty()) return print_from_metrics(metrics);
  // Not running (or not on loopback): what the database says.
  auto reader = Reader::open(c.path_of(c.store_file).string(), node_schema());
  if (!reader.is_ok()) return failed("status", reader.status().message());
  StoreStats st = reader.value()->stats();
  std::printf("node (not answering on %s; figures from the database): %llu changes, %llu records, %llu held, "
              "%llu quarantined origins, %llu conflicts\n",
              c.listen.c_str(), static_cast<unsigned long long>(st.changes), static_cast<unsigned long long>(st.records),
              static_cast<unsigned long long>(st.held), static_cast<unsigned long long>(st.quarantined_origins),
              static_cast<unsigned long long>(st.conflicts));
  std::printf("%-18s %-24s %10s\n", "origin", "scope", "seq");
  for (const auto& [key, head] : reader.value()->version_vector())
    std::printf("%-18s %-24s %10llu\n", to_hex(key.origin).substr(0, 16).c_str(), key.scope.c_str(),
                static_cast<unsigned long long>(head.seq));
  auto peers = all_peers(c);
  if (peers.is_ok())
    for (const auto& p : peers.value()) std::printf("peer %s (connection state is known only while the node runs)\n", p.endpoint.c_str());
  return 0;
}

}  // namespace wardsync::node
