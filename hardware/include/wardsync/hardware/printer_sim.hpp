// The receipt-printer simulator: takes an ESC/POS byte stream (decode_escpos),
// draws each slip as the paper would look (rasters in place, QR codes re-rendered
// from their decoded payloads with libqrencode), reads the text back with real OCR
// (Tesseract, Vietnamese model) and writes, per slip: slip-NNNN.png, slip-NNNN.json
// (QR payloads, OCR text per raster block) and slip-NNNN.txt (OCR text).
// Used by the wardsync-printer-sim program and directly by in-process tests.
//
// Thread safety: OcrEngine and PrinterSimulator are single-threaded objects (one
// Tesseract instance each); use one per thread. The free functions are pure.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "wardsync/hardware/escpos.hpp"
#include "wardsync/hardware/slip.hpp"
#include "wardsync/hardware/status.hpp"

namespace wardsync::hardware {

// Owns one Tesseract instance. Creating it loads the language model (~0.3 s), so
// keep it for many slips.
class OcrEngine {
 public:
  // lang: Tesseract language ("vie" from tesseract-ocr-vie). Errors: ocr.init_failed.
  [[nodiscard]] static Result<std::unique_ptr<OcrEngine>> create(const std::string& lang = "vie");
  ~OcrEngine();
  OcrEngine(const OcrEngine&) = delete;
  OcrEngine& operator=(const OcrEngine&) = delete;
  // Text of a 1-bit image, UTF-8, lines separated by '\n', trailing space trimmed.
  [[nodiscard]] Result<std::string> read(const MonoBitmap& bitmap);

 private:
  struct Impl;
  explicit OcrEngine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The paper of one slip as a 1-bit image. Errors: sim.qr_encode_failed,
// sim.qr_too_wide, plus slip.* from drawing plain text.
[[nodiscard]] Result<MonoBitmap> compose_paper(const DecodedSlip& slip, int paper_width_dots);
[[nodiscard]] Result<std::vector<std::uint8_t>> encode_png(const MonoBitmap& bitmap);

struct SlipReadback {
  MonoBitmap paper;
  std::vector<std::string> qr_payloads;
  std::vector<std::string> ocr_blocks;  // one per raster region, in paper order
  std::string text;                     // ocr_blocks joined by '\n'
};
// ocr may be null (no text read back).
[[nodiscard]] Result<SlipReadback> read_back_slip(const DecodedSlip& slip, int paper_width_dots,
                                                  OcrEngine* ocr);

struct PrinterSimOptions {
  std::filesystem::path out_dir;
  DecodeLimits limits;
};

struct SimStreamResult {
  std::vector<std::filesystem::path> json_files;  // one per slip written
  Status error;                                   // decode or output error, ok otherwise
  std::size_t error_offset = 0;
};

class PrinterSimulator {
 public:
  // ocr may be null; it must outlive the simulator.
  PrinterSimulator(PrinterSimOptions options, OcrEngine* ocr);
  // Decodes one stream (one connection or one file) and writes its slips. Slips
  // complete before an error are still written; the error is also written to
  // error-NNNN.json so a test or an operator can see what the printer rejected.
  SimStreamResult accept(std::span<const std::uint8_t> stream);
  int slips_written() const { return next_slip_ - 1; }

 private:
  PrinterSimOptions options_;
  OcrEngine* ocr_;
  int next_slip_ = 1;
  int next_error_ = 1;
};

// JSON string literal for UTF-8 text (quotes, backslashes and controls escaped).
std::string json_quote(const std::string& utf8);

}  // namespace wardsync::hardware
