// A receipt slip as the kiosk means it (headings, Vietnamese text lines, a QR) and
// its rendering into printer-ready pieces. Text is rasterised here with Pango/Cairo
// because Vietnamese code pages differ between printer models and cheap ones have
// none: a bitmap prints the same diacritics on every printer.
//
// Thread safety: SlipRenderer is immutable after construction; render() may be
// called from several threads (each call builds its own Cairo/Pango objects).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "wardsync/hardware/status.hpp"

namespace wardsync::hardware {

// Common head widths at 203 dpi (DOMAIN-FACTS §7); some 80 mm heads use 512.
inline constexpr int kPaperWidth80mmDots = 576;
inline constexpr int kPaperWidth58mmDots = 384;
inline constexpr int kMaxPaperWidthDots = 832;  // widest ESC/POS head we plan for (104 mm)
// A slip longer than this is a bug (or an attack on the paper roll), not a receipt.
inline constexpr int kMaxSlipHeightDots = 16000;
inline constexpr std::size_t kMaxQrPayloadBytes = 512;
inline constexpr std::size_t kMaxSlipTextBytes = 16 * 1024;

// 1-bit image, rows packed MSB = leftmost dot, 1 = black: the GS v 0 layout.
struct MonoBitmap {
  int width_dots = 0;
  int height_dots = 0;
  std::vector<std::uint8_t> bits;  // height_dots * bytes_per_row()

  int bytes_per_row() const { return (width_dots + 7) / 8; }
  bool black(int x, int y) const {
    const auto byte = bits[static_cast<std::size_t>(y * bytes_per_row() + x / 8)];
    return ((byte >> (7 - (x % 8))) & 1u) != 0;
  }
  void set_black(int x, int y) {
    bits[static_cast<std::size_t>(y * bytes_per_row() + x / 8)] |=
        static_cast<std::uint8_t>(0x80u >> (x % 8));
  }
};

enum class Align { kLeft, kCenter, kRight };
enum class QrEcc { kL, kM, kQ, kH };

struct SlipText {
  std::string utf8;
  bool heading = false;  // bold and large
  Align align = Align::kLeft;
};
struct SlipQr {
  std::string payload;
};
struct SlipFeed {
  int lines = 1;
};
using SlipBlock = std::variant<SlipText, SlipQr, SlipFeed>;

// One slip = one cut. Built by the kiosk code; the renderer validates it.
struct Slip {
  std::vector<SlipBlock> blocks;

  Slip& heading(std::string utf8, Align align = Align::kCenter) {
    blocks.emplace_back(SlipText{std::move(utf8), true, align});
    return *this;
  }
  Slip& text(std::string utf8, Align align = Align::kLeft) {
    blocks.emplace_back(SlipText{std::move(utf8), false, align});
    return *this;
  }
  Slip& qr(std::string payload) {
    blocks.emplace_back(SlipQr{std::move(payload)});
    return *this;
  }
  Slip& feed(int lines = 1) {
    blocks.emplace_back(SlipFeed{lines});
    return *this;
  }
};

struct SlipRenderOptions {
  int paper_width_dots = kPaperWidth80mmDots;
  int margin_dots = 12;
  // A font package with full Vietnamese coverage (fonts-dejavu-core).
  std::string font_family = "DejaVu Sans";
  // Pixel sizes chosen so Tesseract reads the raster back reliably at 203 dpi
  // (smaller text loses the stacked diacritics of ệ, ở, ữ when thresholded to 1 bit).
  int body_px = 26;
  int heading_px = 34;
};

// Output of the renderer: pieces the encoder turns into commands, in order.
struct RenderedRaster {
  MonoBitmap bitmap;  // always paper_width_dots wide
};
struct RenderedQr {
  std::string payload;
};
struct RenderedFeed {
  int lines = 1;
};
using RenderedBlock = std::variant<RenderedRaster, RenderedQr, RenderedFeed>;
struct RenderedSlip {
  int paper_width_dots = 0;
  std::vector<RenderedBlock> blocks;
};

class SlipRenderer {
 public:
  explicit SlipRenderer(SlipRenderOptions options);
  // Errors: slip.bad_width, slip.bad_text (invalid UTF-8, control chars, too long),
  // slip.bad_qr (empty or > kMaxQrPayloadBytes), slip.bad_feed, slip.too_long,
  // slip.render_failed (Cairo/Pango failure).
  [[nodiscard]] Result<RenderedSlip> render(const Slip& slip) const;
  // One text block as a bitmap of the given width (used by the simulator to draw
  // plain-text ESC/POS bytes).
  [[nodiscard]] Result<MonoBitmap> render_text(const std::string& utf8, bool heading, Align align,
                                               int width_dots) const;
  const SlipRenderOptions& options() const { return options_; }

 private:
  SlipRenderOptions options_;
};

}  // namespace wardsync::hardware
