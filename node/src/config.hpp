// The node's configuration file, <datadir>/wardnode.conf: "key = value" lines,
// '#' comments. `wardnode init` writes it with a comment above every setting;
// `wardnode run` reads it and refuses unknown keys or bad values by name, so a
// typo never silently falls back to a default.
//
// Thread safety: a plain value, read-only after loading.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "log.hpp"
#include "wardsync/sync/status.hpp"

namespace wardsync::node {

// The built web apps of this tree or package (set at build time: WARDSYNC_UI_DIR).
std::string default_ui_dir();
// A node this one connects to for replication: `peer = <endpoint> <curve-public-z85>`.
struct SyncPeer {
  std::string endpoint;   // tcp://host:port
  std::string curve_z85;  // the peer's CURVE (transport) public key, 40 Z85 characters
};

struct Config {
  // Office.
  std::string office_code;  // prefix of dossier codes: agency code or ward code
  std::string office_name;  // shown on receipts and in the UI
  std::string tier = "ward";  // ward | district | city
  std::string scope;          // administrative path, e.g. "79/760/26734" or "79/26734"
  int node_number = 1;        // 1..9, embedded in dossier codes; unique within the office
  // Network.
  std::string listen = "127.0.0.1:8080";
  int http_threads = 64;
  int http_max_queued = 256;
  int http_client_connections = 16;  // open at once from one client address
  std::size_t max_body_bytes = 64 * 1024;
  std::string tls = "auto";  // auto (HTTPS unless on loopback) | on | off (loopback only)
  // Files (relative paths are relative to the data directory).
  std::string store_file = "node.db";
  std::string local_file = "local.db";
  std::string key_file = "node.key";
  std::string tls_cert_file = "tls/office.crt";
  std::string tls_key_file = "tls/office.key";
  std::string procedures_file = "data/procedures.json";
  std::string holidays_file = "data/holidays.json";
  std::string blob_dir = "blobs";            // scans and PDFs, content-addressed
  std::size_t max_upload_bytes = 16 * 1024 * 1024;  // one attachment
  // Replication (docs/replication.md, docs/operations.md "Enrolling nodes").
  std::string sync_listen;             // tcp://HOST:PORT to accept peers on; empty: connect only
  std::vector<SyncPeer> peers;         // `peer = ...` lines, in order
  std::string peers_file;              // more peers, one `<endpoint> <key>` a line; empty: none
  std::string transport_key_file = "transport.key";  // CURVE key pair, 0600 (never the signing key)
  std::string certificate_file = "node.cert";        // this node's certificate (cert install)
  std::string trust_dir = "trust";     // authority keys (*.pub), peers' certificates, revocations
  std::uint64_t sync_blob_bytes_per_second = 0;  // cap on blob chunks sent to each peer; 0: none
  int sync_heartbeat_ms = 1000;
  int sync_peer_timeout_ms = 5000;     // a peer silent this long is reconnected
  int sync_fetch_wait_ms = 3000;       // how long a read waits for a record fetched through the peers
  // Logging and sessions.
  LogLevel log_level = LogLevel::kInfo;
  int session_idle_seconds = 30 * 60;
  int lockout_failures = 5;
  int lockout_seconds = 15 * 60;
  // Web apps and kiosk peripherals (see render_config for the forms).
  std::string ui_dir = default_ui_dir();  // the built ui-web/dist; "none" serves no apps
  std::string printer = "none";        // none | tcp:HOST:PORT | /dev/... device file
  std::string scanner = "none";        // none | folder:PATH | sane:DEVICE

  std::filesystem::path dir;  // the data directory (not in the file)
  std::filesystem::path path_of(const std::string& file) const;
};

inline constexpr const char* kConfigFileName = "wardnode.conf";

[[nodiscard]] Result<Config> load_config(const std::filesystem::path& dir);
// The documented file text for `config` (every setting with its comment).
std::string render_config(const Config& config);
// Checks codes, scope, ranges, the printer and scanner forms; the message names the key.
[[nodiscard]] Status validate_config(const Config& config);
// The accepted forms of `printer` and `scanner`.
bool valid_printer(const std::string& value);
bool valid_scanner(const std::string& value);
// Checks one peer line's endpoint and key; the message says what is wrong.
[[nodiscard]] Status validate_peer(const SyncPeer& peer);
// The configured peers plus those of peers_file (when set).
[[nodiscard]] Result<std::vector<SyncPeer>> all_peers(const Config& config);
// Is the HTTP listen address loopback-only (127.x, ::1, localhost)?
bool listens_on_loopback(const Config& config);

}  // namespace wardsync::node
