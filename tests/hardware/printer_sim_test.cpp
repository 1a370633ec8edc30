// Goal: what the citizen holds is what the kiosk meant. Method: render the
// Vietnamese receipt slip, encode it to ESC/POS, run it through the simulator's
// decoder in process, then (1) compare the decoded QR payload byte for byte,
// (2) scan the QR back out of the composed PNG pixels with zbar, (3) OCR the raster
// with Tesseract's Vietnamese model and look for the key lines with diacritics,
// (4) check the PNG files and their width.
#include <catch2/catch.hpp>
#include <zbar.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "slip_fixture.hpp"
#include "wardsync/hardware/escpos.hpp"
#include "wardsync/hardware/printer_sim.hpp"
#include "wardsync/hardware/receipt_printer.hpp"

using namespace wardsync::hardware;

namespace {

std::vector<std::uint8_t> encode_fixture(int width) {
  SlipRenderOptions o;
  o.paper_width_dots = width;
  auto rendered = SlipRenderer(o).render(testing::receipt_slip());
  REQUIRE(rendered.is_ok());
  auto bytes = EscPosEncoder().encode(rendered.value());
  REQUIRE(bytes.is_ok());
  return std::move(bytes).value();
}

// Reads every QR symbol in a 1-bit image with zbar (an independent decoder).
std::vector<std::string> zbar_scan(const MonoBitmap& bm) {
  std::vector<unsigned char> gray(static_cast<std::size_t>(bm.width_dots * bm.height_dots));
  for (int y = 0; y < bm.height_dots; ++y)
    for (int x = 0; x < bm.width_dots; ++x)
      gray[static_cast<std::size_t>(y * bm.width_dots + x)] = bm.black(x, y) ? 0 : 255;
  zbar::ImageScanner scanner;
  scanner.set_config(zbar::ZBAR_NONE, zbar::ZBAR_CFG_ENABLE, 0);
  scanner.set_config(zbar::ZBAR_QRCODE, zbar::ZBAR_CFG_ENABLE, 1);
  zbar::Image image(static_cast<unsigned>(bm.width_dots), static_cast<unsigned>(bm.height_dots),
                    "Y800", gray.data(), gray.size());
  scanner.scan(image);
  std::vector<std::string> out;
  for (auto s = image.symbol_begin(); s != image.symbol_end(); ++s) out.push_back(s->get_data());
  image.set_data(nullptr, 0);
  return out;
}

// Width and height from the PNG IHDR chunk (big-endian at bytes 16 and 20).
std::pair<int, int> png_size(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  unsigned char h[24] = {};
  f.read(reinterpret_cast<char*>(h), sizeof h);
  if (!f || h[1] != 'P' || h[2] != 'N' || h[3] != 'G') return {-1, -1};
  auto be32 = [&](int at) { return (h[at] << 24) | (h[at + 1] << 16) | (h[at + 2] << 8) | h[at + 3]; };
  return {be32(16), be32(20)};
}

// UTF-8 to code points (input is known-valid UTF-8 from the renderer or Tesseract).
std::u32string code_points(const std::string& s) {
  std::u32string out;
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : n == 2 ? (c & 0x1Fu) : n == 3 ? (c & 0x0Fu) : (c & 0x07u);
    for (int k = 1; k < n && i + static_cast<std::size_t>(k) < s.size(); ++k) {
      cp = (cp << 6) | (static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]) & 0x3Fu);
    }
    out.push_back(cp);
    i += static_cast<std::size_t>(n);
  }
  return out;
}

std::size_t edit_distance(const std::u32string& a, const std::u32string& b) {
  std::vector<std::size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// Line breaks and runs of spaces collapse to one space.
std::string flatten(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\n' || c == ' ') {
      if (!out.empty() && out.back() != ' ') out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

OcrEngine& shared_ocr() {
  static std::unique_ptr<OcrEngine> engine = [] {
    auto e = OcrEngine::create("vie");
    REQUIRE(e.is_ok());
    return std::move(e).value();
  }();
  return *engine;
}

}  // namespace

TEST_CASE("slip round-trip: QR exact, OCR reads the Vietnamese lines", "[hardware][printer]") {
  const int width = GENERATE(kPaperWidth80mmDots, kPaperWidth58mmDots);
  INFO("paper width " << width);
  const auto bytes = encode_fixture(width);
  DecodeLimits limits;
  limits.paper_width_dots = width;
  const DecodeReport report = decode_escpos(bytes, limits);
  REQUIRE(report.error.is_ok());
  REQUIRE(report.slips.size() == 1);

  auto rb = read_back_slip(report.slips[0], width, &shared_ocr());
  REQUIRE(rb.is_ok());
  const SlipReadback& back = rb.value();
  CHECK(back.qr_payloads == std::vector<std::string>{testing::kReceiptQr});
  CHECK(back.paper.width_dots == width);
  CHECK(zbar_scan(back.paper) == std::vector<std::string>{testing::kReceiptQr});

  // Print what OCR saw so a human can judge quality from the test log.
  std::cerr << "---- OCR (" << width << " dots) ----\n" << back.text << "\n----\n";
  // OCR keeps the printer's line wrapping; compare with line breaks as spaces.
  const std::string flat = flatten(back.text);
  for (const char* line :
       {"UBND PHƯỜNG BA ĐÌNH", "GIẤY TIẾP NHẬN HỒ SƠ VÀ HẸN", "Người nộp: Nguyễn Văn An",
        "Thủ tục: Đăng ký khai sinh", "Ngày hẹn trả: 16/06/2025",
        "Nơi trả kết quả: Bộ phận Một cửa, quầy số 2", "Mã tra cứu: K7Q2M9XA"}) {
    INFO("expected line: " << line);
    CHECK(flat.find(line) != std::string::npos);
  }
  // Whole-slip character accuracy, so a regression in rendering shows as a number.
  std::string expected;
  for (const SlipBlock& b : testing::receipt_slip().blocks) {
    if (const auto* t = std::get_if<SlipText>(&b)) expected += t->utf8 + " ";
  }
  const auto want = code_points(flatten(expected));
  const auto got = code_points(flat);
  const double accuracy =
      1.0 - static_cast<double>(edit_distance(want, got)) / static_cast<double>(want.size());
  std::cerr << "OCR character accuracy at " << width << " dots: " << accuracy * 100 << " %\n";
  CHECK(accuracy >= 0.98);
}

TEST_CASE("simulator writes PNG, JSON and text per slip", "[hardware][printer]") {
  const auto dir = std::filesystem::temp_directory_path() / "wardsync-hw-sim-test";
  std::filesystem::remove_all(dir);
  PrinterSimOptions options;
  options.out_dir = dir;
  PrinterSimulator sim(options, &shared_ocr());
  auto bytes = encode_fixture(kPaperWidth80mmDots);
  const auto one = bytes;
  bytes.insert(bytes.end(), one.begin(), one.end());
  const SimStreamResult r = sim.accept(bytes);
  REQUIRE(r.error.is_ok());
  REQUIRE(r.json_files.size() == 2);
  CHECK(sim.slips_written() == 2);
  for (const char* stem : {"slip-0001", "slip-0002"}) {
    const auto png = dir / (std::string(stem) + ".png");
    REQUIRE(std::filesystem::exists(png));
    const auto [w, h] = png_size(png);
    CHECK(w == kPaperWidth80mmDots);
    CHECK(h > 400);
    std::ifstream f(dir / (std::string(stem) + ".json"));
    std::stringstream ss;
    ss << f.rdbuf();
    CHECK(ss.str().find(std::string("\"qr_payloads\": [\"") + testing::kReceiptQr + "\"]") !=
          std::string::npos);
    CHECK(ss.str().find("Nguyễn Văn An") != std::string::npos);
  }
}

TEST_CASE("simulator reports a rejected stream and keeps serving", "[hardware][printer]") {
  const auto dir = std::filesystem::temp_directory_path() / "wardsync-hw-sim-test-bad";
  std::filesystem::remove_all(dir);
  PrinterSimulator sim(PrinterSimOptions{dir, {}}, nullptr);
  const std::vector<std::uint8_t> garbage = {0x1B, '@', 0x1D, 'v', '0', 0, 200, 0, 1, 0};
  const SimStreamResult bad = sim.accept(garbage);
  CHECK(bad.error.code() == "escpos.raster_too_wide");
  CHECK(std::filesystem::exists(dir / "error-0001.json"));
  const SimStreamResult good = sim.accept(encode_fixture(kPaperWidth80mmDots));
  CHECK(good.error.is_ok());
  CHECK(good.json_files.size() == 1);
}

TEST_CASE("QR that cannot be encoded is an error, not a crash", "[hardware][printer]") {
  DecodedSlip slip;
  slip.elements.emplace_back(DecodedQr{std::string(3000, 'x'), 3, QrEcc::kH, Align::kCenter});
  CHECK(compose_paper(slip, 576).status().code() == "sim.qr_encode_failed");
  DecodedSlip wide;
  wide.elements.emplace_back(DecodedQr{std::string(400, 'x'), 16, QrEcc::kL, Align::kCenter});
  CHECK(compose_paper(wide, 576).status().code() == "sim.qr_too_wide");
}

TEST_CASE("receipt layout prints every field and reads back", "[hardware][printer]") {
  ReceiptSlipFields f;
  f.office_name = "UBND XÃ ĐẠ TẺH";
  f.dossier_code = "68.12345-250701-0042";
  f.applicant_name = "Trần Thị Bích Ngọc";
  f.procedure_name = "Cấp bản sao trích lục hộ tịch";
  f.papers_received = {"Tờ khai cấp bản sao trích lục", "Căn cước công dân (bản sao)"};
  f.processing_time = "1 ngày làm việc";
  f.received_date = "01/07/2025";
  f.appointment_date = "02/07/2025";
  f.collect_at = "Bộ phận Một cửa";
  f.lookup_code = "Q9W8E7R6";
  auto slip = make_receipt_slip(f);
  REQUIRE(slip.is_ok());
  auto printer_owned = std::make_unique<MemoryPrinterTransport>();
  MemoryPrinterTransport* mem = printer_owned.get();
  ReceiptPrinter printer(SlipRenderOptions{}, EscPosOptions{}, std::move(printer_owned));
  REQUIRE(printer.print(slip.value()).is_ok());
  REQUIRE(mem->jobs().size() == 1);
  const DecodeReport r = decode_escpos(mem->jobs()[0]);
  REQUIRE(r.error.is_ok());
  REQUIRE(r.slips.size() == 1);
  CHECK(r.slips[0].qr_payloads() ==
        std::vector<std::string>{"WS1|68.12345-250701-0042|Q9W8E7R6"});
  auto back = read_back_slip(r.slips[0], kPaperWidth80mmDots, &shared_ocr());
  REQUIRE(back.is_ok());
  std::cerr << "---- OCR (receipt layout) ----\n" << back.value().text << "\n----\n";
  const std::string flat = flatten(back.value().text);
  for (const char* line : {"Trần Thị Bích Ngọc", "Cấp bản sao trích lục hộ tịch",
                           "Căn cước công dân", "Thời hạn giải quyết: 1 ngày làm việc",
                           "Ngày hẹn trả: 02/07/2025", "Mã tra cứu: Q9W8E7R6"}) {
    INFO("expected line: " << line);
    CHECK(flat.find(line) != std::string::npos);
  }
  // Bad fields never reach the printer.
  ReceiptSlipFields bad = f;
  bad.lookup_code = "short";
  CHECK(make_receipt_slip(bad).status().code() == "receipt.bad_lookup_code");
  bad = f;
  bad.applicant_name.clear();
  CHECK(make_receipt_slip(bad).status().code() == "slip.bad_text");
  CHECK(printer.print(Slip{}.text("x\x01")).code() == "slip.bad_text");
  CHECK(mem->jobs().size() == 1);
}
