// wardnode: the ward office's node. Command-line entry point: parses the
// command, builds the logger, clock, store and server, and passes them down.
#include <signal.h>
#include <termios.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "cli_args.hpp"
#include "config.hpp"
#include "demo.hpp"
#include "domain/clerks.hpp"
#include "http/server.hpp"
#include "http/static_files.hpp"
#include "log.hpp"
#include "node_runtime.hpp"
#include "replication.hpp"
#include "sessions.hpp"
#include "tls.hpp"
#include "trust_cli.hpp"
#include "trust_files.hpp"

#ifndef WARDSYNC_NODE_DATA_DIR
#define WARDSYNC_NODE_DATA_DIR "/usr/share/wardsync/data"
#endif

namespace fs = std::filesystem;
using namespace wardsync;
using namespace wardsync::node;

namespace {

const char* kUsage =
    "wardnode — the wardsync node for a ward or commune one-stop desk (Bộ phận Một cửa)\n"
    "\n"
    "Usage: wardnode <command> [options]\n"
    "\n"
    "Commands:\n"
    "  init      create a data directory for one office (keys, config, catalogue, calendar)\n"
    "  run       serve a data directory (HTTP API under /api/v1)\n"
    "  user      add a clerk account, change a password, disable an account\n"
    "  demo      create (or reuse) a data directory filled with a realistic demo office\n"
    "  authority create a trust root (city or province) that certifies nodes\n"
    "  cert      request, issue, install, revoke or show node certificates\n"
    "  peer      add a node to replicate with\n"
    "  status    replication at a glance: peers, changes behind, errors, quarantine\n"
    "  tls       print the office certificate's fingerprint (create it when missing)\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help; 'wardnode <command> --help' for a command\n"
    "  --version      print the version\n"
    "\n"
    "Quick start:\n"
    "  wardnode demo --dir ./demo-data && wardnode run --dir ./demo-data\n"
    "  then open http://127.0.0.1:8080/api/v1/health\n"
    "\n"
    "Logs go to stderr, one line per event: '<level> <component>: <message>'.\n"
    "See docs/operations.md for the configuration file and day-to-day operation.\n";

const char* kInitUsage =
    "Usage: wardnode init --dir DIR --office-code CODE --office-name NAME --tier ward|district|city\n"
    "                     [--scope PATH] [--node-number N] [--listen HOST:PORT] [--data-from DIR] [--demo]\n"
    "\n"
    "Creates DIR for one office: the node's signing key (node.key, mode 0600), a documented\n"
    "configuration file (wardnode.conf), the procedure catalogue and holiday calendar (data/),\n"
    "the office's HTTPS certificate (tls/, fingerprint printed), and an empty store (node.db). Refuses a DIR that exists and is not empty: an office's\n"
    "data and identity are never overwritten.\n"
    "\n"
    "  --dir DIR            data directory to create\n"
    "  --office-code CODE   prefix of dossier codes: agency code (e.g. 000.00.12.H29) or the\n"
    "                       ward's administrative code (e.g. 26743); digits, A-Z and '.'\n"
    "  --office-name NAME   e.g. \"UBND Phường Bến Thành\"\n"
    "  --tier T             ward, district or city\n"
    "  --scope PATH         administrative path of this office's records, e.g. 79/760/26734 or\n"
    "                       79/26743 (two levels); default: the office code when it is numeric\n"
    "  --node-number N      1..9, embedded in dossier codes; give each box of an office its own\n"
    "                       (default 1)\n"
    "  --listen HOST:PORT   address to serve (default 127.0.0.1:8080, plain HTTP; any other\n"
    "                       address is served over HTTPS with the office certificate)\n"
    "  --data-from DIR      where procedures.json and holidays.json are copied from\n"
    "                       (default " WARDSYNC_NODE_DATA_DIR ")\n"
    "  --demo               also seed demo data (as 'wardnode demo')\n";

const char* kRunUsage =
    "Usage: wardnode run --dir DIR [--listen HOST:PORT]\n"
    "\n"
    "Serves the data directory: the HTTP API under /api/v1 (see docs/api/openapi.yaml).\n"
    "Runs in the foreground until SIGINT or SIGTERM (systemd-friendly); logs to stderr.\n"
    "Only one process may serve a directory at a time. With sync_listen or a peer in\n"
    "wardnode.conf it also replicates (docs/operations.md, 'Enrolling nodes').\n"
    "\n"
    "  --dir DIR            data directory made by 'wardnode init'\n"
    "  --listen HOST:PORT   overrides 'listen' from wardnode.conf. With 'tls = auto' (the\n"
    "                       default) a loopback address serves plain HTTP and any other\n"
    "                       address HTTPS with the office certificate (tls/office.crt)\n";

const char* kTlsUsage =
    "Usage: wardnode tls --dir DIR\n"
    "\n"
    "Prints the SHA-256 fingerprint of the office certificate, the value to pin on the\n"
    "kiosk and in the clerks' browsers. Creates the certificate and its key first when the\n"
    "data directory has none (a directory made before HTTPS existed). To replace a\n"
    "certificate, stop the node, move tls/ away and run this again; re-pin the new value.\n";

const char* kUserUsage =
    "Usage: wardnode user <add|passwd|disable> --dir DIR --username NAME [options]\n"
    "\n"
    "Manages clerk accounts while the node is stopped (a running node owns the store;\n"
    "use the API's /api/v1/users as an it_admin then).\n"
    "\n"
    "  add      --display-name NAME --role clerk|specialist|leader|it_admin\n"
    "           the password is read from standard input (first line)\n"
    "  passwd   the new password is read from standard input (first line)\n"
    "  disable  [--enable] disables (or re-enables) the account\n"
    "\n"
    "Roles: clerk (one-stop desk: receives, returns, queue), specialist (processes),\n"
    "leader (decides, assigns, apology slips, reports), it_admin (accounts, sync status).\n"
    "Passwords: at least 8 characters; stored as Argon2id hashes.\n"
    "Example: echo 'a-long-password' | wardnode user add --dir D --username lan --display-name 'Lê Thị Lan' --role clerk\n";

const char* kUserAddUsage =
    "Usage: wardnode user add --dir DIR --username NAME --display-name NAME --role ROLE [--password-stdin]\n"
    "Reads the password from the first line of standard input. Roles: clerk, specialist, leader, it_admin.\n";
const char* kUserPasswdUsage =
    "Usage: wardnode user passwd --dir DIR --username NAME [--password-stdin]\n"
    "Reads the new password from the first line of standard input; signs the user out everywhere.\n";
const char* kUserDisableUsage =
    "Usage: wardnode user disable --dir DIR --username NAME [--enable]\n"
    "Disables the account (it can no longer sign in); --enable re-enables it.\n";

const char* kDemoUsage =
    "Usage: wardnode demo --dir DIR [--listen HOST:PORT]\n"
    "\n"
    "Creates DIR as a demo office (UBND Phường Bến Thành, TP.HCM, scope 79/26743) if it does\n"
    "not exist, and seeds it once: clerks of every role, five working days of dossiers in\n"
    "every state, today's queue tickets and ratings. Reusing an existing DIR keeps its data.\n"
    "Prints the demo logins. Then: wardnode run --dir DIR\n";


void no_core_dumps() {
  // A core dump would carry the signing key and passwords in flight.
  rlimit r{0, 0};
  setrlimit(RLIMIT_CORE, &r);
}

// One line of standard input; at a terminal, typed twice without echo.
bool read_password(std::string& out) {
  auto line = [](std::string& s) {
    if (!std::getline(std::cin, s)) return false;
    if (!s.empty() && s.back() == '\r') s.pop_back();
    return true;
  };
  if (!isatty(STDIN_FILENO)) return line(out);
  termios saved{};
  const bool quiet = tcgetattr(STDIN_FILENO, &saved) == 0;
  if (quiet) {
    termios silent = saved;
    silent.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &silent);
  }
  std::string again;
  std::fputs("Password: ", stderr);
  bool ok = line(out);
  std::fputs("\nPassword again: ", stderr);
  ok = ok && line(again);
  std::fputs("\n", stderr);
  if (quiet) tcsetattr(STDIN_FILENO, TCSANOW, &saved);
  if (ok && out != again) {
    std::fputs("the two passwords differ; nothing changed\n", stderr);
    return false;
  }
  return ok;
}

int fail(Logger& log, const std::string& what, const Status& s) {
  log.error("wardnode", what + ": " + s.to_string());
  return 1;
}

Status init_dir(const fs::path& dir, Config c, const fs::path& data_from, Logger& log) {
  std::error_code ec;
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec))
    return Status{Code::kConflict, "refusing to initialize " + dir.string() +
                                       ": it exists and is not empty (an office's data and key are never overwritten; "
                                       "choose a new directory)"};
  Status v = validate_config(c);
  if (!v.is_ok()) return v;
  for (const char* f : {"procedures.json", "holidays.json"})
    if (!fs::exists(data_from / f)) return Status{Code::kNotFound, (data_from / f).string() + ": missing (use --data-from)"};
  fs::create_directories(dir / "data", ec);
  if (ec) return Status{Code::kIo, dir.string() + ": " + ec.message()};
  fs::permissions(dir, fs::perms::owner_all, ec);
  Status s = Identity::generate().save(dir / c.key_file);
  if (!s.is_ok()) return s;
  s = create_office_certificate(c, dir / c.tls_cert_file, dir / c.tls_key_file);
  if (!s.is_ok()) return s;
  c.dir = dir;
  auto transport = load_or_create_transport_key(c, true);  // CURVE, never the signing key
  if (!transport.is_ok()) return transport.status();
  for (const char* f : {"procedures.json", "holidays.json"}) {
    fs::copy_file(data_from / f, dir / "data" / f, fs::copy_options::overwrite_existing, ec);
    if (ec) return Status{Code::kIo, std::string(f) + ": " + ec.message()};
  }
  c.dir = dir;
  {
    std::ofstream out(dir / kConfigFileName);
    out << render_config(c);
    if (!out) return Status{Code::kIo, (dir / kConfigFileName).string() + ": cannot write"};
  }
  // Create the store now, so a broken setup shows at init and `user add` works at once.
  auto rt = NodeRuntime::open(dir, log, std::nullopt, NodeRuntime::StoreFile::kCreate);
  if (!rt.is_ok()) return rt.status();
  log.info("init", "created " + dir.string() + " for " + c.office_code + " node " + to_hex(rt.value()->ctx().node_id));
  return Status::ok();
}

void print_demo_logins(const std::string& dir) {
  std::printf(
      "Demo office ready in %s\n"
      "  Đăng nhập / demo logins (mật khẩu / password: %s):\n"
      "    motcua      cán bộ một cửa (clerk)\n"
      "    chuyenvien  chuyên viên (specialist)\n"
      "    lanhdao     lãnh đạo (leader)\n"
      "    admin       quản trị CNTT (it_admin)\n",
      dir.c_str(), kDemoPassword);
}

int seed_demo_dir(const fs::path& dir, Logger& log, std::size_t bulk) {
  auto rt = NodeRuntime::open(dir, log);
  if (!rt.is_ok()) return fail(log, "demo", rt.status());
  if (!seed_demo(rt.value()->ctx())) return 1;
  if (bulk > 0 && !seed_bulk_dossiers(rt.value()->ctx(), bulk)) return 1;
  return 0;
}

int cmd_init(int argc, char** argv, Logger& log) {
  CliArgs a = parse_args(argc, argv, 2,
                 {"--dir", "--office-code", "--office-name", "--tier", "--scope", "--node-number", "--listen",
                  "--data-from"},
                 {"--demo"});
  if (a.has("--help")) return std::fputs(kInitUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("init", a.error);
  for (const char* req : {"--dir", "--office-code", "--office-name", "--tier"})
    if (a.get(req).empty()) return usage_error("init", std::string(req) + " is required");
  Config c;
  c.office_code = a.get("--office-code");
  c.office_name = a.get("--office-name");
  c.tier = a.get("--tier");
  c.scope = a.get("--scope");
  if (c.scope.empty() && !c.office_code.empty() &&
      c.office_code.find_first_not_of("0123456789") == std::string::npos)
    c.scope = c.office_code;
  if (c.scope.empty()) return usage_error("init", "--scope is required when the office code is not numeric");
  std::string nn = a.get("--node-number", "1");
  if (nn.size() != 1 || nn[0] < '1' || nn[0] > '9') return usage_error("init", "--node-number must be 1..9");
  c.node_number = nn[0] - '0';
  if (!a.get("--listen").empty()) c.listen = a.get("--listen");
  fs::path dir = a.get("--dir");
  Status s = init_dir(dir, c, a.get("--data-from", WARDSYNC_NODE_DATA_DIR), log);
  if (!s.is_ok()) {
    std::fprintf(stderr, "wardnode init: %s\n", s.message().c_str());
    return 1;
  }
  auto fingerprint = certificate_fingerprint(dir / c.tls_cert_file);
  std::printf("Created %s. Next: add an IT admin account, then start the node:\n"
              "  wardnode user add --dir %s --username admin --display-name 'Quản trị' --role it_admin\n"
              "  wardnode run --dir %s\n"
              "Office certificate (pin it on the kiosk and the clerks' PCs):\n  %s\n",
              dir.c_str(), dir.c_str(), dir.c_str(),
              fingerprint.is_ok() ? fingerprint.value().c_str() : fingerprint.status().message().c_str());
  if (a.has("--demo")) {
    int rc = seed_demo_dir(dir, log, 0);
    if (rc == 0) print_demo_logins(dir.string());
    return rc;
  }
  return 0;
}

int cmd_demo(int argc, char** argv, Logger& log) {
  CliArgs a = parse_args(argc, argv, 2, {"--dir", "--listen", "--dossiers", "--data-from"}, {});
  if (a.has("--help")) return std::fputs(kDemoUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("demo", a.error);
  if (a.get("--dir").empty()) return usage_error("demo", "--dir is required");
  fs::path dir = a.get("--dir");
  std::error_code ec;
  if (!fs::exists(dir / kConfigFileName, ec)) {
    Config c;
    c.office_code = "26743";
    c.office_name = "UBND Phường Bến Thành";
    c.tier = "ward";
    c.scope = "79/26743";
    if (!a.get("--listen").empty()) c.listen = a.get("--listen");
    Status s = init_dir(dir, c, a.get("--data-from", WARDSYNC_NODE_DATA_DIR), log);
    if (!s.is_ok()) {
      std::fprintf(stderr, "wardnode demo: %s\n", s.message().c_str());
      return 1;
    }
  }
  std::size_t bulk = 0;
  if (!a.get("--dossiers").empty()) bulk = std::stoul(a.get("--dossiers"));
  int rc = seed_demo_dir(dir, log, bulk);
  if (rc == 0) print_demo_logins(dir.string());
  return rc;
}

int cmd_user(int argc, char** argv, Logger& log) {
  std::string sub = argc >= 3 ? argv[2] : "";
  if (sub.empty() || sub == "--help" || sub == "-h") {
    std::fputs(kUserUsage, stdout);
    return sub.empty() ? 2 : 0;
  }
  if (sub != "add" && sub != "passwd" && sub != "disable") return usage_error("user", "unknown sub-command '" + sub + "'");
  CliArgs a = parse_args(argc, argv, 3, {"--dir", "--username", "--display-name", "--role"}, {"--password-stdin", "--enable"});
  const char* help = sub == "add" ? kUserAddUsage : sub == "passwd" ? kUserPasswdUsage : kUserDisableUsage;
  if (a.has("--help")) return std::fputs(help, stdout), 0;
  if (!a.error.empty()) return usage_error("user " + sub, a.error);
  if (a.get("--dir").empty() || a.get("--username").empty())
    return usage_error("user " + sub, "--dir and --username are required");
  std::string password;
  if ((sub == "add" || sub == "passwd") && !read_password(password)) {
    std::fprintf(stderr,
                 "wardnode user %s: no password (type it twice at the prompt, or pipe it: echo PASSWORD | "
                 "wardnode user ...)\n",
                 sub.c_str());
    return 2;
  }
  auto rt = NodeRuntime::open(a.get("--dir"), log);
  if (!rt.is_ok()) {
    std::fprintf(stderr, "wardnode user: %s\n", rt.status().message().c_str());
    return 1;
  }
  NodeContext& ctx = rt.value()->ctx();
  std::string author = "cli";
  Outcome<Clerk> out = sub == "add"
                           ? add_clerk(ctx, author, {a.get("--username"), a.get("--display-name"), a.get("--role"), password})
                       : sub == "passwd" ? set_password(ctx, author, a.get("--username"), password)
                                         : set_disabled(ctx, author, a.get("--username"), !a.has("--enable"));
  if (!out.ok()) {
    std::fprintf(stderr, "wardnode user %s: %s\n", sub.c_str(), out.error().message_en.c_str());
    for (const auto& f : out.error().fields)
      std::fprintf(stderr, "  %s: %s / %s\n", f.field.c_str(), f.message_en.c_str(), f.message_vi.c_str());
    return 1;
  }
  if (sub != "add") {
    // Sign the clerk out everywhere.
    SystemClock clock;
    auto sessions = SessionStore::open(rt.value()->config().path_of(rt.value()->config().local_file).string(), {}, clock);
    if (sessions.is_ok()) sessions.value()->remove_clerk(out.value().id);
  }
  std::printf("%s: %s (%s)%s\n", sub == "add" ? "added" : sub == "passwd" ? "password changed" : "updated",
              out.value().username.c_str(), role_name(out.value().role), out.value().disabled ? ", disabled" : "");
  return 0;
}

int cmd_tls(int argc, char** argv, Logger& log) {
  CliArgs a = parse_args(argc, argv, 2, {"--dir"}, {});
  if (a.has("--help")) return std::fputs(kTlsUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("tls", a.error);
  if (a.get("--dir").empty()) return usage_error("tls", "--dir is required");
  auto config = load_config(a.get("--dir"));
  if (!config.is_ok()) return fail(log, "cannot read the configuration", config.status());
  const Config& c = config.value();
  const fs::path cert = c.path_of(c.tls_cert_file);
  std::error_code ec;
  if (!fs::exists(cert, ec)) {
    Status s = create_office_certificate(c, cert, c.path_of(c.tls_key_file));
    if (!s.is_ok()) return fail(log, "cannot create the office certificate", s);
    log.info("tls", "created " + cert.string());
  }
  auto fp = certificate_fingerprint(cert);
  if (!fp.is_ok()) return fail(log, "cannot read the office certificate", fp.status());
  std::printf("%s\n", fp.value().c_str());
  return 0;
}

// The address as configured, with the port actually bound (":0" asks for any).
std::string listening_on(const std::string& listen, int port) {
  return listen.substr(0, listen.rfind(':') + 1) + std::to_string(port);
}

int cmd_run(int argc, char** argv, Logger& log) {
  CliArgs a = parse_args(argc, argv, 2, {"--dir", "--listen"}, {});
  if (a.has("--help")) return std::fputs(kRunUsage, stdout), 0;
  if (!a.error.empty()) return usage_error("run", a.error);
  if (a.get("--dir").empty()) return usage_error("run", "--dir is required");
  // Block the stop signals in every thread; the main thread waits for them below.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);
  signal(SIGPIPE, SIG_IGN);
  std::optional<std::string> listen;
  if (!a.get("--listen").empty()) listen = a.get("--listen");
  auto rt = NodeRuntime::open(a.get("--dir"), log, listen);
  if (!rt.is_ok()) return fail(log, "cannot open " + a.get("--dir"), rt.status());
  NodeRuntime& node = *rt.value();
  SessionOptions so;
  so.idle_ms = static_cast<std::uint64_t>(node.config().session_idle_seconds) * 1000;
  so.lockout_failures = node.config().lockout_failures;
  so.lockout_ms = static_cast<std::uint64_t>(node.config().lockout_seconds) * 1000;
  auto sessions = SessionStore::open(node.config().path_of(node.config().local_file).string(), so, node.ctx().clock);
  if (!sessions.is_ok()) return fail(log, "cannot open local state", sessions.status());
  const bool https = tls_enabled(node.config());
  std::string fingerprint;
  if (https) {
    auto fp = certificate_fingerprint(node.config().path_of(node.config().tls_cert_file));
    if (!fp.is_ok())
      return fail(log, "cannot serve HTTPS (create the office certificate with 'wardnode tls --dir " +
                           a.get("--dir") + "')", fp.status());
    fingerprint = fp.value();
  }
  auto replication = NodeReplication::start(node.ctx());
  if (!replication.is_ok()) return fail(log, "cannot replicate", replication.status());
  node.ctx().replication = replication.value().get();
  ApiServer server(node.ctx(), *sessions.value());
  Status s = server.start();
  if (!s.is_ok()) return fail(log, "cannot serve", s);
  log.info("wardnode", "serving " + node.config().office_code + " node " + to_hex(node.ctx().node_id).substr(0, 16) +
                           " on " + (https ? "https://" : "http://") + listening_on(node.config().listen, server.port()) +
                           "/api/v1" +
                           (https ? " (office certificate " + fingerprint + ")" : ""));
  if (node.config().ui_dir != "none" && !http::ui_available(node.config()))
    log.warning("wardnode", "no web apps: " + node.config().path_of(node.config().ui_dir).string() +
                                "/index.html is missing (build them with packaging/ui-build.sh, or set ui_dir = none "
                                "for an API-only node)");
  int sig = 0;
  sigwait(&stop, &sig);
  log.info("wardnode", std::string("stopping on ") + (sig == SIGINT ? "SIGINT" : "SIGTERM"));
  server.stop();
  node.ctx().replication = nullptr;
  replication.value().reset();  // sessions end before the store closes
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  no_core_dumps();
  // No global allocation statistics: with them every SQLite malloc in every
  // thread takes one process-wide mutex (search throughput +40 % without).
  sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
  Logger log(LogLevel::kInfo);
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::puts("wardnode 0.1.0");
    return 0;
  }
  std::string cmd = argv[1];
  try {
    if (cmd == "init") return cmd_init(argc, argv, log);
    if (cmd == "tls") return cmd_tls(argc, argv, log);
    if (cmd == "run") return cmd_run(argc, argv, log);
    if (cmd == "user") return cmd_user(argc, argv, log);
    if (cmd == "demo") return cmd_demo(argc, argv, log);
    if (cmd == "authority") return cmd_authority(argc, argv);
    if (cmd == "cert") return cmd_cert(argc, argv);
    if (cmd == "peer") return cmd_peer(argc, argv);
    if (cmd == "status") return cmd_status(argc, argv);
  } catch (const std::exception& e) {
    log.error("wardnode", std::string("unexpected error: ") + e.what());
    return 1;
  }
  std::fprintf(stderr, "wardnode: unknown command '%s' (try 'wardnode --help')\n", argv[1]);
  return 2;
}
