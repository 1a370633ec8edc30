#include "trust_files.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

namespace wardsync::node {

namespace fs = std::filesystem;

namespace {

constexpr const char* kRequestContext = "wardsync certificate request v1";

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

// The non-comment lines of a small text file (size checked before reading).
Result<std::vector<std::string>> read_lines(const fs::path& path) {
  std::error_code ec;
  auto size = fs::file_size(path, ec);
  if (ec) return Status{Code::kNotFound, path.string() + ": cannot read (" + ec.message() + ")"};
  if (size > kMaxTrustFileBytes) return Status{Code::kInvalidArgument, path.string() + ": too large for a trust file"};
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) {
    std::string t = trim(line);
    if (!t.empty() && t[0] != '#') out.push_back(t);
  }
  return out;
}

// Writes `text` to a new file with `mode`, durably; refuses to overwrite.
Status write_new_file(const fs::path& path, const std::string& text, mode_t mode, bool overwrite) {
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | (overwrite ? O_TRUNC : O_EXCL);
  int fd = ::open(path.c_str(), flags, mode);
  if (fd < 0) return Status{Code::kIo, path.string() + ": cannot create (" + std::strerror(errno) + ")"};
  ssize_t n = ::write(fd, text.data(), text.size());
  bool ok = n == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  return ok ? Status::ok() : Status{Code::kIo, path.string() + ": cannot write"};
}

std::string hex_of(const std::string& bytes) {
  return to_hex({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
}

bool bytes_from_hex(const std::string& hex, std::string& out) {
  if (hex.size() % 2 != 0 || hex.size() > 2 * kMaxTrustFileBytes) return false;
  out.assign(hex.size() / 2, '\0');
  return from_hex(hex, {reinterpret_cast<std::uint8_t*>(out.data()), out.size()});
}

// The bytes a request's signature covers: the fields in a fixed order.
std::string request_message(const CertRequest& r) {
  std::ostringstream o;
  o << kRequestContext << '\0' << to_hex(r.node_id) << '\n'
    << r.transport_z85 << '\n'
    << r.office_code << '\n'
    << r.office_name << '\n'
    << r.tier << '\n'
    << r.scope << '\n';
  return o.str();
}

Bytes as_bytes(const std::string& s) { return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()}; }

}  // namespace

Result<CurveKeys> load_or_create_transport_key(const Config& config, bool create) {
  fs::path path = config.path_of(config.transport_key_file);
  std::error_code ec;
  if (!fs::exists(path, ec)) {
    if (!create) return Status{Code::kNotFound, "transport key " + path.string() + " not found"};
    CurveKeys k = CurveKeys::generate();
    std::string secret = curve_key_to_z85(k.secret_key);
    std::string text = "# wardsync CURVE transport key pair (ZeroMQ). Secret: never copy it off this box.\n"
                       "# Not the signing key (" + config.key_file + "): a node has one of each.\n"
                       "public = " + k.public_z85() + "\nsecret = " + secret + "\n";
    sodium_memzero(secret.data(), secret.size());
    Status s = write_new_file(path, text, 0600, false);
    sodium_memzero(text.data(), text.size());
    if (!s.is_ok()) return s;
    return k;
  }
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & 077) != 0)
    return Status{Code::kInvalidArgument, "transport key " + path.string() + " is readable by others; chmod 600 it"};
  auto lines = read_lines(path);
  if (!lines.is_ok()) return lines.status();
  CurveKeys k;
  bool have_public = false, have_secret = false;
  for (std::string& line : lines.value()) {
    std::size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string key = trim(line.substr(0, eq)), value = trim(line.substr(eq + 1));
    if (key == "public") have_public = curve_key_from_z85(value, k.public_key);
    if (key == "secret") have_secret = curve_key_from_z85(value, k.secret_key);
    sodium_memzero(line.data(), line.size());
  }
  if (!have_public || !have_secret)
    return Status{Code::kCorrupt, "transport key " + path.string() + " needs 'public = <z85>' and 'secret = <z85>'"};
  // The public half must belong to the secret half (a hand-edited file).
  std::array<std::uint8_t, 32> derived{};
  crypto_scalarmult_base(derived.data(), k.secret_key.data());
  if (sodium_memcmp(derived.data(), k.public_key.data(), derived.size()) != 0)
    return Status{Code::kCorrupt, "transport key " + path.string() + ": public and secret keys do not match"};
  return k;
}

Result<TrustItem> read_trust_file(const fs::path& path) {
  auto lines = read_lines(path);
  if (!lines.is_ok()) return lines.status();
  if (lines.value().size() != 1)
    return Status{Code::kInvalidArgument, path.string() + ": expected one line '<kind> <hex>' (authority, certificate "
                                                          "or revocation); a request is not installed but issued by the authority "
                                                          "(wardnode cert issue --request FILE)"};
  std::istringstream in(lines.value()[0]);
  std::string kind, hex;
  in >> kind >> hex;
  TrustItem item;
  if (kind == "authority") item.kind = TrustItem::Kind::kAuthority;
  else if (kind == "certificate") item.kind = TrustItem::Kind::kCertificate;
  else if (kind == "revocation") item.kind = TrustItem::Kind::kRevocation;
  else if (kind.rfind("wardsync-ed25519", 0) == 0)
    return Status{Code::kInvalidArgument, path.string() + " is a SECRET key: never copy it to a node (install the "
                                                          "authority's public key, authority.pub, instead)"};
  else return Status{Code::kInvalidArgument, path.string() + ": unknown kind '" + kind + "'"};
  if (!bytes_from_hex(hex, item.bytes)) return Status{Code::kInvalidArgument, path.string() + ": not hex"};
  if (item.kind == TrustItem::Kind::kAuthority && item.bytes.size() != kPublicKeyBytes)
    return Status{Code::kInvalidArgument, path.string() + ": an authority key is 64 hex digits"};
  if (item.kind == TrustItem::Kind::kCertificate) {
    auto c = read_certificate(item.bytes);
    if (!c.is_ok()) return Status{Code::kCorrupt, path.string() + ": " + c.status().message()};
  }
  if (item.kind == TrustItem::Kind::kRevocation) {
    TrustStore probe;  // checks the revocation's own signature
    Status s = probe.add(item.bytes);
    if (!s.is_ok()) return Status{Code::kCorrupt, path.string() + ": " + s.message()};
  }
  return item;
}

Status write_trust_file(const fs::path& path, const TrustItem& item, const std::string& comment) {
  const char* kind = item.kind == TrustItem::Kind::kAuthority     ? "authority"
                     : item.kind == TrustItem::Kind::kCertificate ? "certificate"
                                                                  : "revocation";
  std::string text;
  std::istringstream lines(comment);
  for (std::string line; std::getline(lines, line);) text += "# " + line + "\n";
  text += std::string(kind) + " " + hex_of(item.bytes) + "\n";
  return write_new_file(path, text, 0644, true);
}

std::vector<TrustItem> read_trust_dir(const fs::path& dir, std::vector<std::string>& errors) {
  std::vector<fs::path> files;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    std::string ext = it->path().extension().string();
    if (ext == ".pub" || ext == ".cert" || ext == ".rev") files.push_back(it->path());
    if (files.size() > 10000) break;  // bound the work of one scan
  }
  std::sort(files.begin(), files.end());
  std::vector<TrustItem> out;
  for (const auto& f : files) {
    auto item = read_trust_file(f);
    if (item.is_ok()) out.push_back(std::move(item).value());
    else errors.push_back(item.status().message());
  }
  return out;
}

std::string utc_day(std::uint64_t unix_ms) {
  std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string describe_certificate(const CertificateInfo& c) {
  std::string z85 = curve_key_to_z85(c.curve_public);
  return "node " + to_hex(c.node_id) + "\noffice " + c.office_code + " (" + c.tier + "), scope " + c.scope +
         "\ntransport key " + z85 + "\nvalid " + utc_day(c.not_before_ms) + " to " + utc_day(c.not_after_ms) +
         (c.may_issue ? ", may issue certificates within its scope" : "") + "\nissued by " + to_hex(c.issuer);
}

std::string render_request(const CertRequest& r, const Identity& node_key) {
  Signature sig = node_key.sign(as_bytes(request_message(r)));
  std::ostringstream o;
  o << "# wardsync certificate request: give this file to the authority (city / province IT,\n"
       "# or the district if it issues for its wards). It holds no secret.\n"
       "request\n"
    << "node_id = " << to_hex(r.node_id) << "\n"
    << "transport_key = " << r.transport_z85 << "\n"
    << "office_code = " << r.office_code << "\n"
    << "office_name = " << r.office_name << "\n"
    << "tier = " << r.tier << "\n"
    << "scope = " << r.scope << "\n"
    << "signature = " << to_hex(sig) << "\n";
  return o.str();
}

Result<CertRequest> read_request(const fs::path& path) {
  auto lines = read_lines(path);
  if (!lines.is_ok()) return lines.status();
  if (lines.value().empty() || lines.value()[0] != "request")
    return Status{Code::kInvalidArgument, path.string() + ": not a certificate request (made by 'wardnode cert request')"};
  std::map<std::string, std::string> f;
  for (std::size_t i = 1; i < lines.value().size(); ++i) {
    const std::string& line = lines.value()[i];
    std::size_t eq = line.find('=');
    if (eq == std::string::npos) return Status{Code::kInvalidArgument, path.string() + ": expected 'key = value'"};
    f[trim(line.substr(0, eq))] = trim(line.substr(eq + 1));
  }
  for (const char* k : {"node_id", "transport_key", "office_code", "office_name", "tier", "scope", "signature"})
    if (f[k].empty()) return Status{Code::kInvalidArgument, path.string() + ": '" + k + "' is missing"};
  CertRequest r;
  std::array<std::uint8_t, 32> curve{};
  if (!from_hex(f["node_id"], r.node_id)) return Status{Code::kInvalidArgument, path.string() + ": bad node_id"};
  if (!curve_key_from_z85(f["transport_key"], curve))
    return Status{Code::kInvalidArgument, path.string() + ": bad transport_key"};
  r.transport_z85 = f["transport_key"];
  r.office_code = f["office_code"];
  r.office_name = f["office_name"];
  r.tier = f["tier"];
  r.scope = f["scope"];
  Signature sig{};
  if (!from_hex(f["signature"], sig) || !verify_signature(r.node_id, as_bytes(request_message(r)), sig))
    return Status{Code::kCorrupt, path.string() + ": the request's signature does not verify (altered, or not "
                                                  "made by the node it names)"};
  return r;
}

}  // namespace wardsync::node
