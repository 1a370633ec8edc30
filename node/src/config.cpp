#include "config.hpp"

#include <arpa/inet.h>

#include <map>

#include "tls.hpp"

#include <charconv>
#include <fstream>
#include <sstream>

#include "wardsync/hardware/text.hpp"
#include "wardsync/sync/replicator.hpp"

namespace wardsync::node {

namespace {

std::string trim(const std::string& s) {
  std::size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  std::size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool to_int(const std::string& s, long long lo, long long hi, long long& out) {
  const char* end = s.data() + s.size();
  auto [p, ec] = std::from_chars(s.data(), end, out);
  return ec == std::errc() && p == end && out >= lo && out <= hi;
}

const char* level_name(LogLevel l) {
  switch (l) {
    case LogLevel::kDebug: return "debug";
    case LogLevel::kInfo: return "info";
    case LogLevel::kWarning: return "warning";
    case LogLevel::kError: return "error";
  }
  return "info";
}

bool valid_scope(const std::string& scope) {
  // Digits separated by '/', 2..4 levels: province[/district]/ward.
  if (scope.empty() || scope.size() > 64) return false;
  int parts = 1;
  bool digit_seen = false;
  for (char c : scope) {
    if (c == '/') {
      if (!digit_seen) return false;
      ++parts;
      digit_seen = false;
    } else if (c >= '0' && c <= '9') {
      digit_seen = true;
    } else {
      return false;
    }
  }
  return digit_seen && parts >= 1 && parts <= 4;
}

// "tcp://host:port" with a numeric port; '*' as host only for listening.
bool valid_endpoint(const std::string& ep, bool listening) {
  const std::string scheme = "tcp://";
  if (ep.size() > 200 || ep.compare(0, scheme.size(), scheme) != 0) return false;
  std::size_t colon = ep.rfind(':');
  if (colon == std::string::npos || colon <= scheme.size()) return false;
  std::string host = ep.substr(scheme.size(), colon - scheme.size());
  if (host == "*" && !listening) return false;
  long long port = 0;
  if (!to_int(ep.substr(colon + 1), 1, 65535, port)) return false;
  return host.find_first_of(" \t/") == std::string::npos;
}

// "host:port" for the HTTP server: an IPv4 address, "[IPv6]", or a host name,
// and a port 0-65535 (0: any free port). Checked here so init refuses what run
// could never bind.
bool valid_listen(const std::string& listen) {
  std::size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || listen.size() > 200) return false;
  long long port = 0;
  if (!to_int(listen.substr(colon + 1), 0, 65535, port)) return false;
  std::string host = listen.substr(0, colon);
  unsigned char addr[16];
  if (host.front() == '[')
    return host.back() == ']' && inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), addr) == 1;
  if (host.find_first_not_of("0123456789.") == std::string::npos) return inet_pton(AF_INET, host.c_str(), addr) == 1;
  return host.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-") == std::string::npos;
}

Status parse_peer_line(const std::string& value, SyncPeer& out) {
  std::istringstream in(value);
  std::string extra;
  if (!(in >> out.endpoint >> out.curve_z85) || (in >> extra))
    return Status{Code::kInvalidArgument, "expected '<endpoint> <curve-public-key>', e.g. tcp://10.1.2.3:7001 "
                                          "followed by the peer's 40-character transport key"};
  return validate_peer(out);
}

}  // namespace

bool valid_printer(const std::string& p) {
  if (p == "none") return true;
  if (p.rfind("tcp:", 0) == 0) {
    std::size_t colon = p.rfind(':');
    if (colon <= 4) return false;
    std::string host = p.substr(4, colon - 4);
    long long port = 0;
    if (host.empty() || host.size() > 253 || !to_int(p.substr(colon + 1), 1, 65535, port)) return false;
    for (char ch : host)
      if (!((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '.' || ch == '-'))
        return false;
    return true;
  }
  return p.size() > 1 && p.size() < 4096 && p[0] == '/';
}

bool valid_scanner(const std::string& s) {
  if (s == "none") return true;
  if (s.rfind("folder:", 0) == 0) return s.size() > 7 && s.size() < 4096;
  if (s.rfind("sane:", 0) == 0) return s.size() > 5 && s.size() < 256;
  return false;
}

#ifndef WARDSYNC_UI_DIR
#define WARDSYNC_UI_DIR "/usr/share/wardsync/ui"
#endif
std::string default_ui_dir() { return WARDSYNC_UI_DIR; }

Status validate_peer(const SyncPeer& p) {
  if (!valid_endpoint(p.endpoint, false))
    return Status{Code::kInvalidArgument, "peer endpoint '" + p.endpoint + "' is not tcp://HOST:PORT"};
  std::array<std::uint8_t, 32> key{};
  if (!curve_key_from_z85(p.curve_z85, key))
    return Status{Code::kInvalidArgument, "peer key for " + p.endpoint +
                                              " is not a 40-character Z85 CURVE public key (see 'wardnode cert request')"};
  return Status::ok();
}

Result<std::vector<SyncPeer>> all_peers(const Config& c) {
  std::vector<SyncPeer> out = c.peers;
  if (c.peers_file.empty()) return out;
  std::filesystem::path path = c.path_of(c.peers_file);
  std::ifstream in(path);
  if (!in) return Status{Code::kNotFound, "peers_file: cannot open " + path.string()};
  std::string line;
  int lineno = 0;
  while (std::getline(in, line)) {
    ++lineno;
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    if (lineno > 10000) return Status{Code::kInvalidArgument, path.string() + ": too many lines"};
    SyncPeer p;
    Status s = parse_peer_line(t, p);
    if (!s.is_ok()) return Status{Code::kInvalidArgument, path.string() + ":" + std::to_string(lineno) + ": " + s.message()};
    out.push_back(p);
  }
  return out;
}

bool listens_on_loopback(const Config& c) {
  std::size_t colon = c.listen.rfind(':');
  std::string host = colon == std::string::npos ? c.listen : c.listen.substr(0, colon);
  return host.rfind("127.", 0) == 0 || host == "localhost" || host == "[::1]" || host == "::1";
}

std::filesystem::path Config::path_of(const std::string& file) const {
  std::filesystem::path p(file);
  return p.is_absolute() ? p : dir / p;
}

Status validate_config(const Config& c) {
  auto bad = [](const std::string& key, const std::string& why) {
    return Status{Code::kInvalidArgument, key + ": " + why};
  };
  if (c.office_code.empty() || c.office_code.size() > 32) return bad("office_code", "1 to 32 characters");
  for (char ch : c.office_code) {
    bool ok = (ch >= '0' && ch <= '9') || (ch >= 'A' && ch <= 'Z') || ch == '.';
    if (!ok) return bad("office_code", "digits, capital letters and '.' only (e.g. 000.00.12.H29 or 26734)");
  }
  if (c.office_name.empty() || c.office_name.size() > 200 ||
      hardware::text_fault(c.office_name) != hardware::TextFault::kNone)
    return bad("office_name", "1 to 200 bytes of printable text (it heads every slip)");
  if (c.tier != "ward" && c.tier != "district" && c.tier != "city") return bad("tier", "ward, district or city");
  if (!valid_scope(c.scope)) return bad("scope", "administrative codes separated by '/', e.g. 79/760/26734");
  if (c.node_number < 1 || c.node_number > 9) return bad("node_number", "1 to 9");
  if (!valid_listen(c.listen))
    return bad("listen", "host:port with an IPv4 address, [IPv6] or a host name and a port 0-65535, e.g. 0.0.0.0:8443");
  if (c.http_threads < 2 || c.http_threads > 512) return bad("http_threads", "2 to 512");
  if (c.http_max_queued < 1 || c.http_max_queued > 10000) return bad("http_max_queued", "1 to 10000");
  if (c.http_client_connections < 1 || c.http_client_connections > 512)
    return bad("http_client_connections", "1 to 512");
  if (c.max_body_bytes < 1024 || c.max_body_bytes > 16 * 1024 * 1024) return bad("max_body_bytes", "1024 to 16777216");
  if (c.tls != "auto" && c.tls != "on" && c.tls != "off") return bad("tls", "auto, on or off");
  if (c.tls == "off" && !is_loopback_listen(c.listen))
    return bad("tls", "off is allowed only when listen is a loopback address (127.0.0.1, ::1, localhost): "
                      "clerks' passwords and citizens' data must not cross the LAN in clear text");
  if (c.session_idle_seconds < 1 || c.session_idle_seconds > 24 * 3600) return bad("session_idle_seconds", "1 to 86400");
  if (c.lockout_failures < 1 || c.lockout_failures > 100) return bad("lockout_failures", "1 to 100");
  if (c.lockout_seconds < 1 || c.lockout_seconds > 7 * 24 * 3600) return bad("lockout_seconds", "1 to 604800");
  if (c.ui_dir.empty()) return bad("ui_dir", "a directory (the built ui-web/dist) or none");
  if (!valid_printer(c.printer))
    return bad("printer", "none, tcp:HOST:PORT (e.g. tcp:192.168.1.50:9100) or a device path (e.g. /dev/usb/lp0)");
  if (!valid_scanner(c.scanner)) return bad("scanner", "none, folder:PATH or sane:DEVICE (e.g. sane:epson2:libusb:001:004)");
  if (!c.sync_listen.empty() && !valid_endpoint(c.sync_listen, true))
    return bad("sync_listen", "tcp://HOST:PORT (e.g. tcp://0.0.0.0:7001), or empty to only connect");
  for (const auto& p : c.peers) {
    Status s = validate_peer(p);
    if (!s.is_ok()) return bad("peer", s.message());
  }
  if (c.transport_key_file.empty()) return bad("transport_key_file", "must not be empty");
  if (c.certificate_file.empty()) return bad("certificate_file", "must not be empty");
  if (c.trust_dir.empty()) return bad("trust_dir", "must not be empty");
  if (c.blob_dir.empty()) return bad("blob_dir", "must not be empty");
  if (c.max_upload_bytes < 1024 || c.max_upload_bytes > 256ull * 1024 * 1024)
    return bad("max_upload_bytes", "1024 to 268435456");
  if (c.sync_heartbeat_ms < 50 || c.sync_heartbeat_ms > 60000) return bad("sync_heartbeat_ms", "50 to 60000");
  if (c.sync_peer_timeout_ms < 2 * c.sync_heartbeat_ms || c.sync_peer_timeout_ms > 600000)
    return bad("sync_peer_timeout_ms", "at least twice sync_heartbeat_ms, at most 600000");
  if (c.sync_fetch_wait_ms < 100 || c.sync_fetch_wait_ms > 60000) return bad("sync_fetch_wait_ms", "100 to 60000");
  return Status::ok();
}

Result<Config> load_config(const std::filesystem::path& dir) {
  std::filesystem::path path = dir / kConfigFileName;
  std::ifstream in(path);
  if (!in) return Status{Code::kNotFound, path.string() + ": cannot open (run 'wardnode init' first)"};
  Config c;
  c.dir = dir;
  std::string line;
  int lineno = 0;
  std::map<std::string, int> first_seen;  // key -> line: a key set twice is a mistake (which one was meant?)
  while (std::getline(in, line)) {
    ++lineno;
    if (lineno > 10000) return Status{Code::kInvalidArgument, path.string() + ": too many lines"};
    std::string t = trim(line);
    if (t.empty() || t[0] == '#') continue;
    std::size_t eq = t.find('=');
    std::string where = path.string() + ":" + std::to_string(lineno) + ": ";
    if (eq == std::string::npos) return Status{Code::kInvalidArgument, where + "expected 'key = value'"};
    std::string key = trim(t.substr(0, eq));
    std::string value = trim(t.substr(eq + 1));
    if (key != "peer") {  // the one repeatable key
      auto [seen, first] = first_seen.try_emplace(key, lineno);
      if (!first)
        return Status{Code::kInvalidArgument, where + key + " is set twice (first on line " +
                                                  std::to_string(seen->second) + "): keep one"};
    }
    long long n = 0;
    auto number = [&](long long lo, long long hi, auto& field) -> bool {
      if (!to_int(value, lo, hi, n)) return false;
      field = static_cast<std::remove_reference_t<decltype(field)>>(n);
      return true;
    };
    bool ok = true;
    if (key == "office_code") c.office_code = value;
    else if (key == "office_name") c.office_name = value;
    else if (key == "tier") c.tier = value;
    else if (key == "scope") c.scope = value;
    else if (key == "node_number") ok = number(1, 9, c.node_number);
    else if (key == "listen") c.listen = value;
    else if (key == "http_threads") ok = number(2, 512, c.http_threads);
    else if (key == "http_max_queued") ok = number(1, 10000, c.http_max_queued);
    else if (key == "http_client_connections") ok = number(1, 512, c.http_client_connections);
    else if (key == "max_body_bytes") ok = number(1024, 16 * 1024 * 1024, c.max_body_bytes);
    else if (key == "tls") c.tls = value;
    else if (key == "tls_cert_file") c.tls_cert_file = value;
    else if (key == "tls_key_file") c.tls_key_file = value;
    else if (key == "store_file") c.store_file = value;
    else if (key == "local_file") c.local_file = value;
    else if (key == "key_file") c.key_file = value;
    else if (key == "procedures_file") c.procedures_file = value;
    else if (key == "holidays_file") c.holidays_file = value;
    else if (key == "log_level") ok = parse_log_level(value, c.log_level);
    else if (key == "session_idle_seconds") ok = number(1, 86400, c.session_idle_seconds);
    else if (key == "lockout_failures") ok = number(1, 100, c.lockout_failures);
    else if (key == "lockout_seconds") ok = number(1, 604800, c.lockout_seconds);
    else if (key == "ui_dir") c.ui_dir = value;
    else if (key == "printer") c.printer = value;
    else if (key == "scanner") c.scanner = value;
    else if (key == "sync_listen") c.sync_listen = value;
    else if (key == "peer") {
      SyncPeer p;
      Status ps = parse_peer_line(value, p);
      if (!ps.is_ok()) return Status{Code::kInvalidArgument, where + "peer: " + ps.message()};
      c.peers.push_back(p);
    }
    else if (key == "peers_file") c.peers_file = value;
    else if (key == "transport_key_file") c.transport_key_file = value;
    else if (key == "certificate_file") c.certificate_file = value;
    else if (key == "trust_dir") c.trust_dir = value;
    else if (key == "sync_heartbeat_ms") ok = number(50, 60000, c.sync_heartbeat_ms);
    else if (key == "sync_blob_bytes_per_second") ok = number(0, 10'000'000'000LL, c.sync_blob_bytes_per_second);
    else if (key == "blob_dir") c.blob_dir = value;
    else if (key == "max_upload_bytes") ok = number(1024, 256LL * 1024 * 1024, c.max_upload_bytes);
    else if (key == "sync_peer_timeout_ms") ok = number(100, 600000, c.sync_peer_timeout_ms);
    else if (key == "sync_fetch_wait_ms") ok = number(100, 60000, c.sync_fetch_wait_ms);
    else return Status{Code::kInvalidArgument, where + "unknown setting '" + key + "'"};
    if (!ok) return Status{Code::kInvalidArgument, where + "bad value for '" + key + "'"};
  }
  Status s = validate_config(c);
  if (!s.is_ok()) return Status{Code::kInvalidArgument, path.string() + ": " + s.message()};
  return c;
}

std::string render_config(const Config& c) {
  std::ostringstream o;
  o << "# wardnode configuration. Written by 'wardnode init'; edit, then restart the node.\n"
       "# Format: 'key = value', one per line; '#' starts a comment. Unknown keys are refused.\n"
       "\n"
       "# --- Office -------------------------------------------------------------------\n"
       "# Prefix of every dossier code (Mã hồ sơ): the agency code of the office (TT 01/2018,\n"
       "# e.g. 000.00.12.H29) or its administrative code. Digits, capital letters and '.'.\n"
       "office_code = " << c.office_code << "\n"
       "# The office's name as printed on receipts and shown in the UI.\n"
       "office_name = " << c.office_name << "\n"
       "# Tier of this node in the tree: ward, district or city.\n"
       "tier = " << c.tier << "\n"
       "# Administrative path of the records this node writes (province/district/ward codes,\n"
       "# or province/ward in a two-level deployment, e.g. 79/26734).\n"
       "scope = " << c.scope << "\n"
       "# 1..9, embedded in every dossier code after the date so two boxes of one office\n"
       "# (or a replacement box) never issue the same code offline. Give each box its own.\n"
       "node_number = " << c.node_number << "\n"
       "\n"
       "# --- HTTP -----------------------------------------------------------------------\n"
       "# Address and port the API and the web apps listen on, e.g. 0.0.0.0:8443 for the LAN.\n"
       "listen = " << c.listen << "\n"
       "# HTTPS with the office certificate: auto = HTTPS unless listen is a loopback\n"
       "# address; on = always; off = plain HTTP, refused unless listen is loopback.\n"
       "tls = " << c.tls << "\n"
       "# Worker threads (Poco keeps one per keep-alive connection) and queued connections.\n"
       "http_threads = " << c.http_threads << "\n"
       "http_max_queued = " << c.http_max_queued << "\n"
       "# Connections open at once from one client address (a browser uses about 6);\n"
       "# more are answered 503 and closed, so no one client can take every thread.\n"
       "http_client_connections = " << c.http_client_connections << "\n"
       "# Largest request body accepted, in bytes (larger: 413, refused before reading).\n"
       "max_body_bytes = " << c.max_body_bytes << "\n"
       "\n"
       "# --- Files (relative to this directory) -----------------------------------------\n"
       "# The replicated store (SQLite, WAL, synchronous=FULL).\n"
       "store_file = " << c.store_file << "\n"
       "# Local-only state that never replicates: sessions, failed-login counters.\n"
       "local_file = " << c.local_file << "\n"
       "# The node's Ed25519 signing key (mode 0600; its public half is the node id).\n"
       "key_file = " << c.key_file << "\n"
       "# The office certificate and its key (mode 0600), made by init. Pin the certificate's\n"
       "# fingerprint (printed by init and logged at start) on the kiosk and the clerks' PCs.\n"
       "tls_cert_file = " << c.tls_cert_file << "\n"
       "tls_key_file = " << c.tls_key_file << "\n"
       "# Procedure catalogue and holiday calendar (copied here by init; the city's\n"
       "# catalogue replaces them once synced).\n"
       "procedures_file = " << c.procedures_file << "\n"
       "holidays_file = " << c.holidays_file << "\n"
       "# Scans and PDFs attached to dossiers, one file per content hash (BLAKE2b).\n"
       "blob_dir = " << c.blob_dir << "\n"
       "# Largest attachment accepted, in bytes.\n"
       "max_upload_bytes = " << c.max_upload_bytes << "\n"
       "\n"
       "# --- Logging and sign-in --------------------------------------------------------\n"
       "# Lowest level written to stderr: debug, info, warning, error.\n"
       "log_level = " << level_name(c.log_level) << "\n"
       "# A session unused for this many seconds is signed out.\n"
       "session_idle_seconds = " << c.session_idle_seconds << "\n"
       "# After this many failed sign-ins in a row from one client address, an account is\n"
       "# locked for lockout_seconds at that address (the clerk's own desk still signs in).\n"
       "lockout_failures = " << c.lockout_failures << "\n"
       "lockout_seconds = " << c.lockout_seconds << "\n"
       "\n"
       "# --- Web apps and kiosk peripherals --------------------------------------------\n"
       "# Folder of the built web apps (ui-web/dist: clerks' app at /, kiosk at /kiosk/,\n"
       "# hall display at /display/), served as static files; relative to this directory\n"
       "# when not absolute. 'none' serves the API only.\n"
       "ui_dir = " << c.ui_dir << "\n"
       "# Receipt printer (ESC/POS) for receipt slips and queue tickets: none,\n"
       "# tcp:HOST:PORT for a network printer (port 9100, or wardsync-printer-sim), or a\n"
       "# device file such as /dev/usb/lp0. A printer that is off never loses a dossier:\n"
       "# the dossier is saved first and the slip can be reprinted.\n"
       "printer = " << c.printer << "\n"
       "# Document scanner for attachments: none, sane:DEVICE (see 'scanimage -L'), or\n"
       "# folder:PATH, a simulator that returns the PNG/JPEG files of PATH as pages.\n"
       "scanner = " << c.scanner << "\n"
       "\n"
       "# --- Replication (docs/operations.md, 'Enrolling nodes') ---------------------------\n"
       "# Address other nodes connect to (ZeroMQ over TCP, CURVE-encrypted), e.g.\n"
       "# tcp://0.0.0.0:7001 on a district or city node. Empty: this node only connects.\n"
       "sync_listen = " << c.sync_listen << "\n"
       "# Nodes to connect to, one line each: 'peer = <endpoint> <their transport key>'\n"
       "# (wardnode peer add writes these lines). Repeatable.\n";
  for (const auto& p : c.peers) o << "peer = " << p.endpoint << " " << p.curve_z85 << "\n";
  o << "# A file with more peers, one '<endpoint> <key>' a line (empty: none).\n"
       "peers_file = " << c.peers_file << "\n"
       "# This node's CURVE transport key pair (mode 0600; separate from key_file, the\n"
       "# signing key). Created by init; its public half goes into the certificate request.\n"
       "transport_key_file = " << c.transport_key_file << "\n"
       "# This node's certificate, issued by the authority (wardnode cert install).\n"
       "certificate_file = " << c.certificate_file << "\n"
       "# Trust files: authority public keys (*.pub), certificates of peers and of the\n"
       "# district that issued ours (*.cert), revocations (*.rev). Read at start and every\n"
       "# few seconds; certificates and revocations are also replicated to every node.\n"
       "trust_dir = " << c.trust_dir << "\n"
       "# Attachments follow the records over each link, in chunks, after the records;\n"
       "# cap (bytes per second, per peer) on what this node sends of them. 0: no cap.\n"
       "sync_blob_bytes_per_second = " << c.sync_blob_bytes_per_second << "\n"
       "# Heartbeat on an idle link, and how long a silent peer is waited for, in ms.\n"
       "sync_heartbeat_ms = " << c.sync_heartbeat_ms << "\n"
       "sync_peer_timeout_ms = " << c.sync_peer_timeout_ms << "\n"
       "# A dossier not held here (another office's) is fetched through the peers when\n"
       "# read; how long the read waits for it, in ms, before answering 503.\n"
       "sync_fetch_wait_ms = " << c.sync_fetch_wait_ms << "\n";
  return o.str();
}

}  // namespace wardsync::node
