// The node as the office's web server and kiosk back end, tested on a real
// `wardnode run` over HTTP:
//  - static files from ui_dir: content types, gzip siblings only when accepted,
//    long cache for hashed assets and no-cache + ETag for HTML, the security
//    headers, and every path-traversal form we know (raw "..", encoded, hidden
//    files, a symlink out of the folder) refused;
//  - printing through a real `wardsync-printer-sim` process: the receipt slip's
//    QR decodes to the dossier, a printer that is off gives 503 and loses nothing;
//  - the kiosk endpoints: no session needed, a look-up needs code AND lookup code,
//    guessing is rate-limited, self-filing parses the CCCD QR on the node, marks
//    the dossier unverified and attaches the pages scanned by the folder scanner.
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <thread>

#include <Poco/JSON/Parser.h>
#include <catch2/catch.hpp>

#include "../hardware/process_util.hpp"
#include "node_process.hpp"

using namespace wardtest;
namespace fs = std::filesystem;

namespace {

using Conf = std::map<std::string, std::string>;

using Node = DemoNode;

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p, std::ios::binary) << text;
}

// A small ui folder: two apps, a hashed asset with a gzip sibling, a font.
fs::path make_ui(const fs::path& dir) {
  write(dir / "index.html", "<!doctype html><title>Một cửa</title>");
  write(dir / "kiosk/index.html", "<!doctype html><title>Kiosk</title>");
  write(dir / "assets/kiosk-AbC123.js", "console.log('kiosk');");
  write(dir / "assets/kiosk-AbC123.js.gz", "GZIPPED-BYTES");
  write(dir / "assets/font-Zz9.woff2", "wOF2");
  write(dir / ".secret", "hidden");
  write(dir.parent_path() / "outside.txt", "outside the ui folder");
  fs::create_symlink(dir.parent_path() / "outside.txt", dir / "assets/escape.txt");
  return dir;
}

const std::string kCccd =
    "079190001234|025123456|Nguyễn Thị Ánh Dương|15031990|Nữ|12 Lê Lợi, Phường Bến Thành, TP. Hồ Chí Minh|01072021";

// A minimal valid 1×1 grey PNG (what the folder scanner accepts as a page).
const unsigned char kPng[] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48,
                              0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00,
                              0x00, 0x3a, 0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78,
                              0x9c, 0x63, 0xf8, 0x0f, 0x00, 0x01, 0x01, 0x01, 0x00, 0x1b, 0xb6, 0xee, 0x56, 0x00,
                              0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string out;
  char buf[4096];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) out.append(buf, static_cast<std::size_t>(in.gcount()));
  return out;
}

Poco::JSON::Object::Ptr parse(const std::string& text) {
  Poco::JSON::Parser parser;
  return parser.parse(text).extract<Poco::JSON::Object::Ptr>();
}

// The printer simulator on a free port, writing slips to `out` (no OCR: fast).
struct PrinterSim {
  wardsync::hardware::testing::ChildProcess proc;
  int port = 0;
  explicit PrinterSim(const fs::path& out)
      : proc({WARDSYNC_PRINTER_SIM_PATH, "--port", "0", "--out", out.string(), "--no-ocr"}) {
    REQUIRE(proc.started());
    auto line = proc.read_line(10000);
    REQUIRE(line);
    std::smatch m;
    REQUIRE(std::regex_search(*line, m, std::regex(":(\\d+)")));
    port = std::stoi(m[1]);
  }
};

// Waits for slip-NNNN.json in `dir` and returns its QR payloads.
std::vector<std::string> slip_qrs(const fs::path& dir, int n) {
  char name[32];
  std::snprintf(name, sizeof name, "slip-%04d.json", n);
  for (int i = 0; i < 100 && !fs::exists(dir / name); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  REQUIRE(fs::exists(dir / name));
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  auto arr = parse(read_file(dir / name))->getArray("qr_payloads");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < arr->size(); ++i) out.push_back(arr->getElement<std::string>(static_cast<unsigned>(i)));
  return out;
}

}  // namespace

TEST_CASE("static apps: types, gzip, caching, security headers", "[node][web]") {
  TempDir ui_tmp;
  fs::path ui = make_ui(ui_tmp.path() / "dist");
  Node n({{"ui_dir", ui.string()}});
  Client c(n.proc.port());
  auto root = c.get("/");
  REQUIRE(root.status == 200);
  CHECK(root.headers["Content-Type"] == "text/html; charset=utf-8");
  CHECK(root.headers["Cache-Control"] == "no-cache");
  CHECK(root.body.find("Một cửa") != std::string::npos);
  CHECK(root.headers["X-Content-Type-Options"] == "nosniff");
  CHECK(root.headers["Content-Security-Policy"].find("default-src 'self'") != std::string::npos);
  CHECK(root.headers["Content-Security-Policy"].find("frame-ancestors 'none'") != std::string::npos);
  CHECK(root.headers["Content-Security-Policy"].find("unsafe") == std::string::npos);
  // If-None-Match with the ETag: 304, no body.
  auto again = c.request("GET", "/", "", false, {{"If-None-Match", root.headers["ETag"]}});
  CHECK(again.status == 304);
  CHECK(again.body.empty());

  CHECK(c.get("/kiosk/").body.find("Kiosk") != std::string::npos);
  auto redirect = c.get("/kiosk");
  CHECK(redirect.status == 301);
  CHECK(redirect.headers["Location"] == "/kiosk/");
  // Never to another host: "//kiosk/" would be one.
  for (const char* odd : {"//kiosk", "///kiosk", "/./kiosk"}) {
    INFO(odd);
    auto r = c.get(odd);
    if (r.status == 301) CHECK(r.headers["Location"] == "/kiosk/");
    else CHECK(r.status == 404);
  }

  auto plain = c.get("/assets/kiosk-AbC123.js");
  CHECK(plain.status == 200);
  CHECK(plain.body == "console.log('kiosk');");
  CHECK(plain.headers["Content-Type"] == "text/javascript; charset=utf-8");
  CHECK(plain.headers["Cache-Control"] == "public, max-age=31536000, immutable");
  CHECK(plain.headers.count("Content-Encoding") == 0);
  auto gz = c.request("GET", "/assets/kiosk-AbC123.js", "", false, {{"Accept-Encoding", "br, gzip;q=0.8"}});
  CHECK(gz.body == "GZIPPED-BYTES");
  CHECK(gz.headers["Content-Encoding"] == "gzip");
  CHECK(gz.headers["Vary"] == "Accept-Encoding");
  auto refused = c.request("GET", "/assets/kiosk-AbC123.js", "", false, {{"Accept-Encoding", "gzip;q=0"}});
  CHECK(refused.body == "console.log('kiosk');");
  CHECK(c.get("/assets/font-Zz9.woff2").headers["Content-Type"] == "font/woff2");
  auto head = c.request("HEAD", "/assets/font-Zz9.woff2", "", false);
  CHECK(head.status == 200);
  CHECK(head.body.empty());
  CHECK(c.post("/", "{}", false).status == 405);
  // The API is still the API.
  CHECK(c.get("/api/v1/health").status == 200);
}

TEST_CASE("static apps: path traversal and hidden files are refused", "[node][web][security]") {
  TempDir ui_tmp;
  fs::path ui = make_ui(ui_tmp.path() / "dist");
  Node n({{"ui_dir", ui.string()}});
  for (const char* path :
       {"/../outside.txt", "/assets/../../outside.txt", "/%2e%2e/outside.txt", "/assets/%2e%2e%2f%2e%2e%2foutside.txt",
        "/assets/..%5c..%5coutside.txt", "/.secret", "/assets/escape.txt", "/kiosk/../../d/wardnode.conf",
        "/%00index.html", "/index.html%00.js", "/nothing-here.js"}) {
    Client c(n.proc.port());
    auto r = c.get(path);
    INFO(path);
    CHECK((r.status == 404 || r.status == 400));
    CHECK(r.body.find("outside the ui folder") == std::string::npos);
    CHECK(r.body.find("hidden") == std::string::npos);
    CHECK(r.body.find("office_code") == std::string::npos);
  }
}

TEST_CASE("ui_dir = none serves the API only", "[node][web]") {
  Node n(Conf{{"ui_dir", "none"}});
  Client c(n.proc.port());
  auto r = c.get("/");
  CHECK(r.status == 200);
  CHECK(r.str("api") == "/api/v1");
  CHECK(c.get("/kiosk/").status == 404);
}

TEST_CASE("receipt printing through the printer simulator, and a printer that is off loses nothing",
          "[node][printer]") {
  TempDir out;
  PrinterSim sim(out.path());
  Node n({{"printer", "tcp:127.0.0.1:" + std::to_string(sim.port)}});
  Client clerk = n.signed_in("motcua");
  auto d = clerk.post("/api/v1/dossiers",
                      R"({"applicant":{"name":"Trần Thị Thanh","cccd":"068190001234"},"procedure_code":"1.001193",)"
                      R"("components":["Tờ khai đăng ký khai sinh"]})");
  REQUIRE(d.status == 201);
  std::string id = d.str("id"), code = d.str("code"), lookup = d.str("lookup_code");
  auto preview = clerk.get("/api/v1/dossiers/" + id + "/receipt");
  REQUIRE(preview.status == 200);
  CHECK(preview.str("qr") == "WS1|" + code + "|" + lookup);
  auto p = clerk.post("/api/v1/dossiers/" + id + "/receipt", "{}");
  REQUIRE(p.status == 200);
  CHECK(slip_qrs(out.path(), 1) == std::vector<std::string>{"WS1|" + code + "|" + lookup});
  // A specialist does not print at the desk.
  CHECK(n.signed_in("chuyenvien").post("/api/v1/dossiers/" + id + "/receipt", "{}").status == 403);
  // Ticket reprint.
  auto t = clerk.post("/api/v1/tickets", R"({"counter":"1"})");
  REQUIRE(t.status == 201);
  CHECK(clerk.post("/api/v1/tickets/" + t.str("id") + "/print", "{}").status == 200);
  CHECK(slip_qrs(out.path(), 2).empty());

  // Printer off: the dossier is saved, the error says so in both languages, a reprint works later.
  Node off({{"printer", "tcp:127.0.0.1:" + std::to_string(free_port())}});
  Client c2 = off.signed_in("motcua");
  auto d2 = c2.post("/api/v1/dossiers",
                    R"({"applicant":{"name":"Lê Văn Bình","cccd":"068190004321"},"procedure_code":"1.001193"})");
  REQUIRE(d2.status == 201);
  auto fail = c2.post("/api/v1/dossiers/" + d2.str("id") + "/receipt", "{}");
  CHECK(fail.status == 503);
  CHECK(fail.str("error") == "printer_unavailable");
  CHECK(fail.str("message_vi").find("Máy in") != std::string::npos);
  CHECK(c2.get("/api/v1/dossiers/" + d2.str("id")).status == 200);
}

TEST_CASE("what a clerk can save can be printed: text the slip refuses is refused at the door",
          "[node][printer][security]") {
  TempDir out;
  PrinterSim sim(out.path());
  Node n({{"printer", "tcp:127.0.0.1:" + std::to_string(sim.port)}});
  Client clerk = n.signed_in("motcua");
  auto dossier = [&](const std::string& name, const std::string& components) {
    return clerk.post("/api/v1/dossiers", R"({"applicant":{"name":")" + name +
                                              R"(","cccd":"068190001234"},"procedure_code":"1.001193","components":[)" +
                                              components + "]}");
  };
  // Would print reversed, blank or with a byte the renderer refuses.
  for (const char* name : {"\\u202eNguyễn Văn An", "Nguyễn\\u200bVăn", "\\u200b", "An\\u007f", "An\\u0085",
                           "\\u3000\\u3000", "\\u00a0", "12345", "\\u0301"}) {
    auto r = dossier(name, R"("Tờ khai")");
    INFO(name << " -> " << r.body);
    CHECK(r.status == 400);
    CHECK(r.body.find("applicant.name") != std::string::npos);
  }
  CHECK(dossier("An", R"("Tờ\u202ekhai")").status == 400);
  // The longest list of papers accepted (4,000 bytes) fits on one slip; more is refused.
  std::string papers;
  for (int i = 0; i < 13; ++i) papers += std::string(i ? "," : "") + "\"" + std::to_string(10 + i) + std::string(298, 'W') + "\"";
  auto big = dossier("Trần Thị Thanh", papers);
  REQUIRE(big.status == 201);
  auto printed = clerk.post("/api/v1/dossiers/" + big.str("id") + "/receipt", "{}");
  INFO(printed.body);
  CHECK(printed.status == 200);
  CHECK(slip_qrs(out.path(), 1).size() == 1);
  auto too_long = dossier("Trần Thị Thanh", papers + ",\"" + std::string(200, 'W') + "\"");
  CHECK(too_long.status == 400);
  CHECK(too_long.body.find("\"components\"") != std::string::npos);
}

TEST_CASE("uploads obey the scan path's rules: 100 pages at most, content of the declared type, a printable name",
          "[node][security]") {
  Node n;
  Client clerk = n.signed_in("motcua");
  auto d = clerk.post("/api/v1/dossiers",
                      R"({"applicant":{"name":"Trần Thị Thanh","cccd":"068190001234"},"procedure_code":"1.001193"})");
  REQUIRE(d.status == 201);
  const std::string png(reinterpret_cast<const char*>(kPng), sizeof kPng);
  auto upload = [&](const std::string& name, const std::string& type, const std::string& bytes) {
    return clerk.request("POST", "/api/v1/dossiers/" + d.str("id") + "/attachments?name=" + name, bytes, true,
                         {{"Content-Type", type}});
  };
  auto html = upload("a.png", "image/png", "<html><script>alert(1)</script>");
  CHECK(html.status == 400);
  CHECK(html.field_errors() == std::vector<std::string>{"body:format"});
  CHECK(upload("a.pdf", "application/pdf", png).status == 400);  // PNG bytes are not a PDF
  CHECK(upload("a%1B%5B2Jb.png", "image/png", png).field_errors() == std::vector<std::string>{"name:format"});
  CHECK(upload("a%E2%80%AEgnp.exe", "image/png", png).field_errors() == std::vector<std::string>{"name:format"});
  for (int i = 1; i <= 100; ++i) {
    auto r = upload("p" + std::to_string(i) + ".png", "image/png", png);
    INFO(i << ": " << r.body);
    REQUIRE(r.status == 201);
  }
  auto over = upload("p101.png", "image/png", png);
  CHECK(over.status == 400);
  CHECK(over.body.find("too_many") != std::string::npos);
  CHECK(clerk.get("/api/v1/dossiers/" + d.str("id")).json->getArray("attachments")->size() == 100);
}

TEST_CASE("kiosk: no session, look-up needs both codes, guessing is rate-limited", "[node][kiosk][security]") {
  Node n;
  Client clerk = n.signed_in("motcua");
  auto d = clerk.post("/api/v1/dossiers",
                      R"({"applicant":{"name":"Trần Thị Thanh","cccd":"068190001234"},"procedure_code":"1.001193"})");
  REQUIRE(d.status == 201);
  Client kiosk(n.proc.port());
  CHECK(kiosk.get("/api/v1/kiosk").status == 200);
  auto ok = kiosk.post("/api/v1/kiosk/lookup",
                       R"({"code":")" + d.str("code") + R"(","lookup_code":")" + d.str("lookup_code") + "\"}", false);
  REQUIRE(ok.status == 200);
  CHECK(ok.str("status") == "received");
  CHECK(ok.body.find("Trần Thị Thanh") == std::string::npos);
  CHECK(ok.body.find("068190001234") == std::string::npos);
  CHECK(ok.json->has("id") == false);
  auto qr = kiosk.post("/api/v1/kiosk/lookup", R"({"qr":"WS1|)" + d.str("code") + "|" + d.str("lookup_code") + "\"}", false);
  CHECK(qr.status == 200);
  auto bad_qr = kiosk.post("/api/v1/kiosk/lookup", R"({"qr":"http://example.com"})", false);
  CHECK(bad_qr.status == 400);
  // The staff API stays closed to the kiosk.
  CHECK(kiosk.get("/api/v1/dossiers/" + d.str("id")).status == 401);
  // Wrong lookup codes: 404 (the same as an unknown code), then 429 with Retry-After.
  int not_found = 0, limited = 0;
  for (int i = 0; i < 14; ++i) {
    auto r = kiosk.post("/api/v1/kiosk/lookup", R"({"code":")" + d.str("code") + R"(","lookup_code":"AAAAA)" +
                                                    std::string(1, static_cast<char>('A' + i)) + "\"}",
                        false);
    if (r.status == 404) ++not_found;
    if (r.status == 429) {
      ++limited;
      CHECK(!r.headers["Retry-After"].empty());
      CHECK(r.str("message_vi").find("quá nhiều lần") != std::string::npos);
    }
  }
  CHECK(not_found <= 8);
  CHECK(limited >= 6);
}

TEST_CASE("kiosk: self-filing from a CCCD QR with scanned pages, confirmation code, printed receipt",
          "[node][kiosk][printer][scanner]") {
  TempDir out, pages;
  std::ofstream(pages.path() / "page-01.png", std::ios::binary).write(reinterpret_cast<const char*>(kPng), sizeof kPng);
  PrinterSim sim(out.path());
  Node n({{"printer", "tcp:127.0.0.1:" + std::to_string(sim.port)}, {"scanner", "folder:" + pages.path().string()}});
  Client kiosk(n.proc.port());
  auto scan = kiosk.post("/api/v1/kiosk/scans", "", false);
  REQUIRE(scan.status == 201);
  std::string hash = scan.json->getArray("pages")->getObject(0)->getValue<std::string>("hash");
  CHECK(hash.size() == 64);
  // A broken card QR, a forged page hash and an unknown paper: field errors, nothing filed.
  auto bad = kiosk.post("/api/v1/kiosk/filings",
                        R"({"cccd_qr":"079190001234|x|thiếu","procedure_code":"1.001193","components":["Giấy giả"],)"
                        R"("pages":[{"hash":")" + std::string(64, 'a') + R"(","component":"Giấy giả"}]})",
                        false);
  REQUIRE(bad.status == 400);
  auto errs = bad.field_errors();
  CHECK(std::find_if(errs.begin(), errs.end(), [](auto& e) { return e.rfind("cccd_qr:", 0) == 0; }) != errs.end());
  CHECK(std::find(errs.begin(), errs.end(), "pages[0]:not_scanned_here") != errs.end());
  CHECK(std::find(errs.begin(), errs.end(), "components[0]:unknown") != errs.end());
  auto start = kiosk.post("/api/v1/kiosk/filings",
                          R"({"cccd_qr":")" + kCccd + R"(","procedure_code":"1.004873",)"
                          R"("components":["Tờ khai cấp Giấy xác nhận tình trạng hôn nhân"],"pages":[{"hash":")" + hash +
                              R"(","component":"Tờ khai cấp Giấy xác nhận tình trạng hôn nhân"}]})",
                          false);
  INFO(start.body);
  REQUIRE(start.status == 201);
  CHECK(start.json->getObject("applicant")->getValue<std::string>("name") == "Nguyễn Thị Ánh Dương");
  CHECK(start.json->getObject("applicant")->getValue<std::string>("dob") == "1990-03-15");
  std::string filing = start.str("filing_id"), code = start.str("confirm_code");
  auto wrong = kiosk.post("/api/v1/kiosk/filings/" + filing + "/confirm", R"({"confirm_code":"0000"})", false);
  CHECK(wrong.status == 400);
  auto done = kiosk.post("/api/v1/kiosk/filings/" + filing + "/confirm", R"({"confirm_code":")" + code + "\"}", false);
  REQUIRE(done.status == 201);
  CHECK(done.json->getValue<bool>("printed"));
  auto dos = done.json->getObject("dossier");
  std::string dcode = dos->getValue<std::string>("code"), dlookup = dos->getValue<std::string>("lookup_code");
  CHECK(slip_qrs(out.path(), 1) == std::vector<std::string>{"WS1|" + dcode + "|" + dlookup});
  // Confirming again files nothing new.
  auto twice = kiosk.post("/api/v1/kiosk/filings/" + filing + "/confirm", R"({"confirm_code":")" + code + "\"}", false);
  CHECK(twice.json->getObject("dossier")->getValue<std::string>("code") == dcode);
  // The clerk sees it unverified, from the kiosk, with the page, and can open the page.
  Client clerk = n.signed_in("motcua");
  auto found = clerk.get("/api/v1/dossiers/search?q=" + dcode);
  REQUIRE(found.status == 200);
  auto item = found.json->getArray("items")->getObject(0);
  CHECK(item->getValue<std::string>("channel") == "kiosk");
  CHECK(item->getValue<bool>("identity_verified") == false);
  auto whole = clerk.get("/api/v1/dossiers/" + item->getValue<std::string>("id"));
  REQUIRE(whole.status == 200);
  REQUIRE(whole.json->getArray("attachments")->size() == 1);
  auto img = clerk.get("/api/v1/dossiers/" + item->getValue<std::string>("id") + "/attachments/" + hash);
  CHECK(img.status == 200);
  CHECK(img.headers["Content-Type"] == "image/png");
  CHECK(img.body == std::string(reinterpret_cast<const char*>(kPng), sizeof kPng));
  // The page also has its replicated attachment record (what other nodes fetch
  // blobs by), so the by-hash read answers too.
  auto by_hash = clerk.get("/api/v1/attachments/" + hash);
  CHECK(by_hash.status == 200);
  CHECK(by_hash.body == img.body);
  CHECK(by_hash.headers["Content-Security-Policy"] == "default-src 'none'; frame-ancestors 'none'");
  // An uploaded PDF is listed on the dossier beside the scanned page.
  const std::string pdf = "%PDF-1.4\n% tờ khai\n%%EOF\n";
  auto up = clerk.request("POST", "/api/v1/dossiers/" + item->getValue<std::string>("id") +
                                      "/attachments?name=to-khai.pdf", pdf, true, {{"Content-Type", "application/pdf"}});
  INFO(up.body);
  REQUIRE(up.status == 201);
  CHECK(up.str("id") != item->getValue<std::string>("id"));  // the attachment's own record, not the dossier
  CHECK(up.str("dossier_id") == item->getValue<std::string>("id"));
  auto again = clerk.get("/api/v1/dossiers/" + item->getValue<std::string>("id"));
  REQUIRE(again.json->getArray("attachments")->size() == 2);
  auto pdf_back = clerk.get("/api/v1/dossiers/" + item->getValue<std::string>("id") + "/attachments/" + up.str("hash"));
  CHECK(pdf_back.headers["Content-Type"] == "application/pdf");
  CHECK(pdf_back.body == pdf);
  // Rated from the kiosk with both codes: shows in the report as self-service.
  auto rate = kiosk.post("/api/v1/kiosk/ratings",
                         R"({"code":")" + dcode + R"(","lookup_code":")" + dlookup + R"(","level":"satisfied"})", false);
  CHECK(rate.status == 201);
}
