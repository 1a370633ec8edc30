// Goal: the ESC/POS encoder emits exactly the documented commands and the decoder
// reads them back; every malformed or truncated stream is rejected with a named
// error and an offset, never a crash. Method: encode a rendered Vietnamese slip,
// decode it, compare; then mutate streams by hand (truncate at every byte, garbage,
// oversized lengths).
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "slip_fixture.hpp"
#include "wardsync/hardware/escpos.hpp"

using namespace wardsync::hardware;
using Bytes = std::vector<std::uint8_t>;

namespace {

RenderedSlip render_fixture(int width) {
  SlipRenderOptions o;
  o.paper_width_dots = width;
  auto r = SlipRenderer(o).render(testing::receipt_slip());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

Bytes encode_fixture(int width = kPaperWidth80mmDots) {
  auto bytes = EscPosEncoder().encode(render_fixture(width));
  REQUIRE(bytes.is_ok());
  return std::move(bytes).value();
}

bool contains(const Bytes& hay, const Bytes& needle) {
  return std::search(hay.begin(), hay.end(), needle.begin(), needle.end()) != hay.end();
}

}  // namespace

TEST_CASE("encoder emits init, raster, QR model 2 and cut", "[hardware][escpos]") {
  const Bytes b = encode_fixture();
  REQUIRE(b.size() > 100);
  CHECK(b[0] == 0x1B);
  CHECK(b[1] == '@');
  // Raster band header: GS v 0, m=0, 72 bytes per row for 576 dots.
  CHECK(contains(b, {0x1D, 'v', '0', 0, 72, 0}));
  // QR: model 2, module size 6, ECC M, print.
  CHECK(contains(b, {0x1D, '(', 'k', 4, 0, 49, 65, 50, 0}));
  CHECK(contains(b, {0x1D, '(', 'k', 3, 0, 49, 67, 6}));
  CHECK(contains(b, {0x1D, '(', 'k', 3, 0, 49, 69, 49}));
  CHECK(contains(b, {0x1D, '(', 'k', 3, 0, 49, 81, 48}));
  const std::string qr = testing::kReceiptQr;
  Bytes store = {0x1D, '(', 'k', static_cast<std::uint8_t>(qr.size() + 3), 0, 49, 80, 48};
  store.insert(store.end(), qr.begin(), qr.end());
  CHECK(contains(b, store));
  // Ends with a partial cut.
  CHECK(b[b.size() - 3] == 0x1D);
  CHECK(b[b.size() - 2] == 'V');
  CHECK(b[b.size() - 1] == 1);
}

TEST_CASE("58 mm paper gives 48-byte raster rows", "[hardware][escpos]") {
  const Bytes b = encode_fixture(kPaperWidth58mmDots);
  CHECK(contains(b, {0x1D, 'v', '0', 0, 48, 0}));
  CHECK_FALSE(contains(b, {0x1D, 'v', '0', 0, 72, 0}));
  const DecodeReport r = decode_escpos(b, DecodeLimits{kPaperWidth58mmDots});
  REQUIRE(r.error.is_ok());
  REQUIRE(r.slips.size() == 1);
}

TEST_CASE("decoder reads back rasters and the exact QR payload", "[hardware][escpos]") {
  const RenderedSlip rendered = render_fixture(kPaperWidth80mmDots);
  const Bytes b = encode_fixture();
  const DecodeReport r = decode_escpos(b);
  INFO(r.error.to_string());
  REQUIRE(r.error.is_ok());
  REQUIRE(r.slips.size() == 1);
  REQUIRE(r.slips[0].qr_payloads() == std::vector<std::string>{testing::kReceiptQr});
  // The bands of the rasters before the QR are stacked back into one image whose
  // bits equal the renderer's bitmaps laid end to end.
  Bytes expected;
  int rows = 0;
  for (const auto& block : rendered.blocks) {
    if (std::holds_alternative<RenderedQr>(block)) break;
    if (const auto* rr = std::get_if<RenderedRaster>(&block)) {
      expected.insert(expected.end(), rr->bitmap.bits.begin(), rr->bitmap.bits.end());
      rows += rr->bitmap.height_dots;
    }
  }
  const auto* first = std::get_if<DecodedRaster>(&r.slips[0].elements.front());
  REQUIRE(first != nullptr);
  // The first raster region stops at the feed after the headings.
  CHECK(first->bitmap.width_dots == kPaperWidth80mmDots);
  CHECK(first->bitmap.height_dots < rows);
  CHECK(std::equal(first->bitmap.bits.begin(), first->bitmap.bits.end(), expected.begin()));
}

TEST_CASE("two slips in one stream decode as two", "[hardware][escpos]") {
  Bytes b = encode_fixture();
  const Bytes one = b;
  b.insert(b.end(), one.begin(), one.end());
  const DecodeReport r = decode_escpos(b);
  REQUIRE(r.error.is_ok());
  CHECK(r.slips.size() == 2);
}

TEST_CASE("truncation at every command boundary is reported, never a crash", "[hardware][escpos]") {
  const Bytes b = encode_fixture();
  // Every prefix but the full stream must fail as truncated; step through a
  // sample of cut points plus all of the last 200 bytes (QR and cut commands).
  std::size_t checked = 0;
  for (std::size_t cut = 1; cut < b.size(); cut += (cut + 200 < b.size() ? 97 : 1)) {
    const DecodeReport r = decode_escpos(std::span(b.data(), cut));
    INFO("cut at " << cut);
    REQUIRE_FALSE(r.error.is_ok());
    CHECK(r.error.code() == "escpos.truncated");
    CHECK(r.error.kind() == ErrorKind::kTruncated);
    CHECK(r.slips.empty());
    ++checked;
  }
  CHECK(checked > 200);
}

TEST_CASE("garbage and malformed commands are rejected with code and offset", "[hardware][escpos]") {
  struct Case {
    const char* name;
    Bytes bytes;
    const char* code;
    std::size_t offset;
  };
  const std::vector<Case> cases = {
      {"unknown control byte", {0x1B, '@', 0x07}, "escpos.unknown_command", 2},
      {"high byte", {0x1B, '@', 0xFF, 0x00}, "escpos.unknown_command", 2},
      {"unknown ESC", {0x1B, 'Z', 0}, "escpos.unknown_command", 0},
      {"unknown GS", {0x1B, '@', 0x1D, 'Q'}, "escpos.unknown_command", 2},
      {"bad alignment", {0x1B, 'a', 7}, "escpos.bad_parameter", 0},
      {"bad cut mode", {0x1D, 'V', 9}, "escpos.bad_parameter", 0},
      {"raster wider than paper", {0x1D, 'v', '0', 0, 73, 0, 1, 0}, "escpos.raster_too_wide", 0},
      {"raster zero size", {0x1D, 'v', '0', 0, 0, 0, 1, 0}, "escpos.bad_parameter", 0},
      {"raster too tall", {0x1D, 'v', '0', 0, 1, 0, 0xFF, 0xFF}, "escpos.too_large", 0},
      {"scaled raster", {0x1D, 'v', '0', 3, 1, 0, 1, 0, 0}, "escpos.unsupported", 0},
      {"raster data short", {0x1D, 'v', '0', 0, 2, 0, 2, 0, 1, 2, 3}, "escpos.truncated", 0},
      {"QR print before store", {0x1D, '(', 'k', 3, 0, 49, 81, 48}, "escpos.qr_not_stored", 0},
      {"QR module size 0", {0x1D, '(', 'k', 3, 0, 49, 67, 0}, "escpos.bad_parameter", 0},
      {"QR module size 17", {0x1D, '(', 'k', 3, 0, 49, 67, 17}, "escpos.bad_parameter", 0},
      {"QR ECC out of range", {0x1D, '(', 'k', 3, 0, 49, 69, 52}, "escpos.bad_parameter", 0},
      {"QR model 1", {0x1D, '(', 'k', 4, 0, 49, 65, 49, 0}, "escpos.unsupported", 0},
      {"QR store empty", {0x1D, '(', 'k', 3, 0, 49, 80, 48}, "escpos.bad_parameter", 0},
      {"QR length lies", {0x1D, '(', 'k', 0xFF, 0x7F, 49, 80, 48, 'x'}, "escpos.too_large", 0},
      {"QR length below 2", {0x1D, '(', 'k', 1, 0, 49}, "escpos.bad_parameter", 0},
      {"PDF417 not QR", {0x1D, '(', 'k', 3, 0, 48, 67, 3}, "escpos.unsupported", 0},
      {"unknown QR fn", {0x1D, '(', 'k', 3, 0, 49, 99, 0}, "escpos.bad_parameter", 0},
      {"GS ( other", {0x1D, '(', 'L', 2, 0, 48, 50}, "escpos.unsupported", 0},
      {"DLE bad", {0x10, 0x05, 1}, "escpos.bad_parameter", 0},
      {"no cut", {0x1B, '@', 'h', 'i', 0x0A}, "escpos.truncated", 5},
  };
  for (const Case& c : cases) {
    INFO(c.name);
    const DecodeReport r = decode_escpos(c.bytes);
    REQUIRE_FALSE(r.error.is_ok());
    CHECK(r.error.code() == c.code);
    CHECK(r.error_offset == c.offset);
    CHECK_FALSE(r.error.message_en().empty());
  }
}

TEST_CASE("slips before a bad command are kept", "[hardware][escpos]") {
  Bytes b = encode_fixture();
  b.push_back(0x07);
  const DecodeReport r = decode_escpos(b);
  CHECK(r.slips.size() == 1);
  CHECK(r.error.code() == "escpos.unknown_command");
  CHECK(r.error_offset == b.size() - 1);
}

TEST_CASE("stream and slip size limits hold", "[hardware][escpos]") {
  DecodeLimits small;
  small.max_stream_bytes = 16;
  const Bytes b = encode_fixture();
  CHECK(decode_escpos(b, small).error.code() == "escpos.too_large");
  // 70 feeds of 255 lines exceed any slip.
  Bytes feeds;
  for (int i = 0; i < 70; ++i) feeds.insert(feeds.end(), {0x1B, 'd', 255});
  CHECK(decode_escpos(feeds).error.code() == "escpos.slip_too_long");
  Bytes text(600, 'A');
  CHECK(decode_escpos(text).error.code() == "escpos.too_large");
}

TEST_CASE("random garbage never crashes the decoder", "[hardware][escpos]") {
  // Deterministic xorshift so a failure replays.
  std::uint64_t x = 0x9E3779B97F4A7C15ull;
  for (int round = 0; round < 2000; ++round) {
    Bytes b(static_cast<std::size_t>(round % 300) + 1);
    for (auto& byte : b) {
      x ^= x << 13;
      x ^= x >> 7;
      x ^= x << 17;
      byte = static_cast<std::uint8_t>(x);
    }
    const DecodeReport r = decode_escpos(b);
    if (!r.error.is_ok()) CHECK(r.error_offset <= b.size());
  }
}

TEST_CASE("renderer and encoder reject bad slips", "[hardware][escpos]") {
  SlipRenderer renderer{SlipRenderOptions{}};
  CHECK(renderer.render(Slip{}).status().code() == "slip.empty");
  CHECK(renderer.render(Slip{}.text("")).status().code() == "slip.bad_text");
  CHECK(renderer.render(Slip{}.text("a\x01z")).status().code() == "slip.bad_text");
  CHECK(renderer.render(Slip{}.text("a\x7fz")).status().code() == "slip.bad_text");
  CHECK(renderer.render(Slip{}.text("a\u0085z")).status().code() == "slip.bad_text");   // C1 control
  CHECK(renderer.render(Slip{}.text("\u202eAn")).status().code() == "slip.bad_text");  // would print "nA"
  CHECK(renderer.render(Slip{}.text("dòng 1\ndòng 2")).is_ok());                     // a line break is fine
  CHECK(renderer.render(Slip{}.text("\xC3\x28")).status().code() == "slip.bad_text");
  CHECK(renderer.render(Slip{}.qr("")).status().code() == "slip.bad_qr");
  CHECK(renderer.render(Slip{}.qr(std::string(513, 'x'))).status().code() == "slip.bad_qr");
  CHECK(renderer.render(Slip{}.feed(0)).status().code() == "slip.bad_feed");
  SlipRenderOptions bad_width;
  bad_width.paper_width_dots = 577;
  CHECK(SlipRenderer(bad_width).render(Slip{}.text("a")).status().code() == "slip.bad_width");
  SlipRenderOptions bad_font;
  bad_font.font_family = "No Such Font Family";
  CHECK(SlipRenderer(bad_font).render(Slip{}.text("a")).status().code() == "slip.font_missing");
  EscPosOptions bad_module;
  bad_module.qr_module_size_dots = 0;
  CHECK(EscPosEncoder(bad_module).encode(render_fixture(576)).status().code() ==
        "escpos.bad_option");
}
