// Goal: scanners return validated pages with a count, refuse junk and oversize
// batches, and the SANE backend works against a device. Method: a folder of
// generated PNG/JPEG files for the simulator; SANE's own `test` backend (from
// libsane1), enabled headless through a private SANE_CONFIG_DIR.
#include <catch2/catch.hpp>

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "wardsync/hardware/printer_sim.hpp"
#include "wardsync/hardware/scanner.hpp"

using namespace wardsync::hardware;

namespace {

std::filesystem::path fresh_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / (name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

// SANE's dll layer dlopens the `test` backend and dlcloses it in sane_exit, before
// LeakSanitizer runs; that backend's own page buffers then show as leaks of an
// "<unknown module>" that no suppression can name. Keeping the backend mapped
// (RTLD_NODELETE) lets the report name libsane-test, which tests/lsan.supp
// suppresses as third-party, while leaks in our code are still reported.
void pin_sane_test_backend() {
  Dl_info info{};
  void* init = ::dlsym(RTLD_DEFAULT, "sane_init");
  if (init == nullptr || ::dladdr(init, &info) == 0 || info.dli_fname == nullptr) return;
  const auto backend = std::filesystem::path(info.dli_fname).parent_path() / "sane" / "libsane-test.so.1";
  ::dlopen(backend.c_str(), RTLD_LAZY | RTLD_NODELETE);
}

void write_bytes(const std::filesystem::path& p, const std::vector<std::uint8_t>& b) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

std::vector<std::uint8_t> png_of(int w, int h) {
  MonoBitmap bm;
  bm.width_dots = w;
  bm.height_dots = h;
  bm.bits.assign(static_cast<std::size_t>(bm.bytes_per_row() * h), 0x55);
  auto png = encode_png(bm);
  REQUIRE(png.is_ok());
  return png.value();
}

// JFIF header with an SOF0 of 640x480; enough for the signature/size probe.
std::vector<std::uint8_t> jpeg_header() {
  return {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0, 1, 1, 0, 0, 1, 0, 1, 0, 0,
          0xFF, 0xC0, 0x00, 0x11, 0x08, 0x01, 0xE0, 0x02, 0x80, 0x03, 1, 0x22, 0, 2, 0x11, 1, 3,
          0x11, 1, 0xFF, 0xD9};
}

}  // namespace

TEST_CASE("folder scanner returns pages in name order", "[hardware][scanner]") {
  const auto dir = fresh_dir("wardsync-hw-scan");
  write_bytes(dir / "page-02.png", png_of(40, 30));
  write_bytes(dir / "page-01.png", png_of(80, 60));
  write_bytes(dir / "page-03.JPG", jpeg_header());
  std::ofstream(dir / "notes.txt") << "ignored";
  auto scanner = make_folder_scanner(dir);
  const auto r = scanner->scan({});
  REQUIRE(r.is_ok());
  REQUIRE(r.value().page_count() == 3);
  CHECK(r.value().pages[0].width_px == 80);
  CHECK(r.value().pages[0].height_px == 60);
  CHECK(r.value().pages[0].mime_type == "image/png");
  CHECK(r.value().pages[1].width_px == 40);
  CHECK(r.value().pages[2].mime_type == "image/jpeg");
  CHECK(r.value().pages[2].width_px == 640);
  CHECK(r.value().pages[2].height_px == 480);
  ScanRequest two;
  two.max_pages = 2;
  CHECK(scanner->scan(two).status().code() == "scanner.too_large");
  ScanRequest bad;
  bad.max_pages = 0;
  CHECK(scanner->scan(bad).status().code() == "scanner.bad_option");
  std::filesystem::remove_all(dir);
}

TEST_CASE("folder scanner rejects empty, missing and junk pages", "[hardware][scanner]") {
  const auto dir = fresh_dir("wardsync-hw-scan-bad");
  CHECK(make_folder_scanner(dir)->scan({}).status().code() == "scanner.no_pages");
  CHECK(make_folder_scanner(dir / "nope")->scan({}).status().code() == "scanner.unreachable");
  for (const auto& junk : std::vector<std::vector<std::uint8_t>>{
           {},                                            // empty file
           {'n', 'o', 't', ' ', 'p', 'n', 'g'},           // text
           {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A},  // signature only
           {0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x01, 0, 0, 0, 0, 0, 0},  // bad segment length
       }) {
    write_bytes(dir / "scan.png", junk);
    const auto r = make_folder_scanner(dir)->scan({});
    CHECK(r.status().code() == "scanner.bad_page");
    CHECK_FALSE(r.status().message_vi().empty());
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("SANE backend against SANE's test device", "[hardware][scanner][sane]") {
  // Only the `test` backend, from a private config dir: no real device is probed.
  const auto dir = fresh_dir("wardsync-hw-sane");
  std::ofstream(dir / "dll.conf") << "test\n";
  REQUIRE(::setenv("SANE_CONFIG_DIR", dir.c_str(), 1) == 0);
  pin_sane_test_backend();
  const auto devices = list_sane_devices();
  REQUIRE(devices.is_ok());
  REQUIRE(std::find(devices.value().begin(), devices.value().end(), "test:0") !=
          devices.value().end());
  CHECK(open_sane_scanner("nosuch:0").status().code() == "scanner.unreachable");
  {
    auto scanner = open_sane_scanner("test:0");
    REQUIRE(scanner.is_ok());
    ScanRequest req;
    req.resolution_dpi = 50;
    const auto r = scanner.value()->scan(req);
    INFO(r.status().to_string());
    REQUIRE(r.is_ok());
    REQUIRE(r.value().page_count() == 1);
    const ScannedPage& page = r.value().pages[0];
    CHECK(page.mime_type == "image/png");
    CHECK(page.width_px > 50);
    CHECK(page.height_px > 50);
    REQUIRE(page.bytes.size() > 24);
    CHECK(page.bytes[1] == 'P');
    // Colour and a feeder batch capped by max_pages.
    ScanRequest adf;
    adf.resolution_dpi = 50;
    adf.color = true;
    adf.use_feeder = true;
    adf.max_pages = 3;
    const auto batch = scanner.value()->scan(adf);
    INFO(batch.status().to_string());
    REQUIRE(batch.is_ok());
    CHECK(batch.value().page_count() == 3);
  }
  ::unsetenv("SANE_CONFIG_DIR");
  std::filesystem::remove_all(dir);
}
