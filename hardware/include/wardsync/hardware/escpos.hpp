// ESC/POS: the encoder that turns a rendered slip into printer bytes, and the
// decoder the printer simulator (and in-process tests) use to read such bytes back.
//
// The encoder emits only: ESC @ (init), GS v 0 (raster, text is always a bitmap),
// ESC a (alignment, around the QR), GS ( k (QR model 2: model, module size, ECC,
// store, print), ESC d (feed), GS V (cut). The decoder accepts that set plus the
// harmless commands real drivers send (ESC t, ESC E, ESC !, GS !, ESC 2/3, ESC J,
// DLE EOT, plain ASCII text) and rejects anything else with the offset of the bad
// byte. Every length read from the stream is checked against DecodeLimits before
// memory is reserved, so a hostile stream cannot make the simulator allocate.
//
// Thread safety: encoder and decoder are pure; call from any thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <variant>
#include <vector>

#include "wardsync/hardware/slip.hpp"
#include "wardsync/hardware/status.hpp"

namespace wardsync::hardware {

// Dots per text line for LF / ESC d: the printer default of 1/6 inch ~ 30 dots at 203 dpi.
inline constexpr int kLineFeedDots = 30;

struct EscPosOptions {
  int qr_module_size_dots = 6;  // 1..16; 6 gives ~22 mm for a short receipt code
  QrEcc qr_ecc = QrEcc::kM;
  // Raster bands: many printers buffer a limited number of rows per GS v 0.
  int raster_band_rows = 240;
  // Lines fed before the cut so the last line clears the cutter blade.
  int feed_before_cut_lines = 4;
  bool partial_cut = true;
};

class EscPosEncoder {
 public:
  explicit EscPosEncoder(EscPosOptions options = {});
  // Errors: escpos.bad_option, escpos.bad_raster (wrong width), escpos.bad_qr.
  [[nodiscard]] Result<std::vector<std::uint8_t>> encode(const RenderedSlip& slip) const;

 private:
  EscPosOptions options_;
};

// --- decoding ---------------------------------------------------------------

struct DecodedRaster {
  MonoBitmap bitmap;  // consecutive GS v 0 bands of one width, stacked
  int x_dots = 0;     // left offset on the paper (alignment)
};
struct DecodedQr {
  std::string payload;
  int module_size_dots = 3;
  QrEcc ecc = QrEcc::kL;
  Align align = Align::kLeft;
};
struct DecodedText {  // plain bytes printed through the font, not a raster
  std::string ascii;
  Align align = Align::kLeft;
};
struct DecodedFeed {
  int dots = 0;
};
using DecodedElement = std::variant<DecodedRaster, DecodedQr, DecodedText, DecodedFeed>;

struct DecodedSlip {
  std::vector<DecodedElement> elements;
  std::vector<std::string> qr_payloads() const;
};

struct DecodeLimits {
  int paper_width_dots = kPaperWidth80mmDots;
  std::size_t max_stream_bytes = 8 * 1024 * 1024;
  int max_raster_rows = 4096;  // per GS v 0 command
  int max_slip_height_dots = kMaxSlipHeightDots;
  std::size_t max_slips = 256;
  std::size_t max_text_line_bytes = 512;
};

// Slips decoded before an error are kept (each was complete, cut and all), like a
// real printer that has already printed them; `error` says why decoding stopped.
struct DecodeReport {
  std::vector<DecodedSlip> slips;
  Status error;                  // ok when the whole stream decoded
  std::size_t error_offset = 0;  // byte offset of the offending command
};

// Error codes: escpos.too_large, escpos.truncated (stream ends inside a command or
// before the final cut), escpos.unknown_command, escpos.bad_parameter,
// escpos.raster_too_wide, escpos.slip_too_long, escpos.qr_not_stored,
// escpos.unsupported.
DecodeReport decode_escpos(std::span<const std::uint8_t> stream, const DecodeLimits& limits = {});

}  // namespace wardsync::hardware
