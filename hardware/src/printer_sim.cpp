#include "wardsync/hardware/printer_sim.hpp"

#include <qrencode.h>
#include <tesseract/baseapi.h>

#include <cstdio>
#include <fstream>

#include "cairo_internal.hpp"

namespace wardsync::hardware {
namespace {

constexpr int kOcrPadDots = 24;  // Tesseract misses glyphs that touch the image edge
constexpr int kPrinterDpi = 203;
// Tesseract's LSTM model was trained on text around 30 px high; at 203 dpi our
// body text is ~19 px, so the image is enlarged before recognition. Measured on
// the receipt fixture: x1 misread the small marks of "nộp" and "QUẢ", x2 did not.
constexpr int kOcrScale = 2;

struct QrCodeDeleter {
  void operator()(QRcode* q) const noexcept { QRcode_free(q); }
};
using QrCodePtr = std::unique_ptr<QRcode, QrCodeDeleter>;

Status sim_error(ErrorKind kind, std::string code, std::string en) {
  return Status(kind, "sim." + code, std::move(en), "Lỗi máy in mô phỏng");
}

int aligned_x(Align align, int item_width, int paper_width) {
  switch (align) {
    case Align::kLeft: return 0;
    case Align::kCenter: return (paper_width - item_width) / 2;
    case Align::kRight: return paper_width - item_width;
  }
  return 0;
}

void blit(const MonoBitmap& src, int x0, int y0, MonoBitmap* dst) {
  for (int y = 0; y < src.height_dots; ++y) {
    for (int x = 0; x < src.width_dots && x0 + x < dst->width_dots; ++x) {
      if (src.black(x, y)) dst->set_black(x0 + x, y0 + y);
    }
  }
}

Status write_file(const std::filesystem::path& path, const std::string& bytes) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  f.close();
  if (!f) return sim_error(ErrorKind::kIo, "write_failed", "cannot write " + path.string());
  return Status::ok();
}

std::string slip_stem(const char* prefix, int index) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s-%04d", prefix, index);
  return buf;
}

}  // namespace

// --- OCR --------------------------------------------------------------------

struct OcrEngine::Impl {
  tesseract::TessBaseAPI api;
  ~Impl() { api.End(); }
};

OcrEngine::OcrEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
OcrEngine::~OcrEngine() = default;

Result<std::unique_ptr<OcrEngine>> OcrEngine::create(const std::string& lang) {
  auto impl = std::make_unique<Impl>();
  // LSTM only: the legacy engine is weaker on stacked Vietnamese diacritics.
  if (impl->api.Init(nullptr, lang.c_str(), tesseract::OEM_LSTM_ONLY) != 0) {
    return Status(ErrorKind::kNotFound, "ocr.init_failed",
                  "Tesseract could not load language \"" + lang +
                      "\" (install tesseract-ocr-vie)",
                  "Không tải được bộ nhận dạng chữ tiếng Việt");
  }
  // A slip block is one column of text; automatic page segmentation sometimes
  // splits a centred heading into separate blocks.
  impl->api.SetPageSegMode(tesseract::PSM_SINGLE_BLOCK);
  // Without this Tesseract keeps the space between words unreliable on 1-bit text.
  impl->api.SetVariable("preserve_interword_spaces", "1");
  return std::unique_ptr<OcrEngine>(new OcrEngine(std::move(impl)));
}

Result<std::string> OcrEngine::read(const MonoBitmap& bitmap) {
  if (bitmap.width_dots < 1 || bitmap.height_dots < 1) return std::string();
  const int w = bitmap.width_dots * kOcrScale + 2 * kOcrPadDots;
  const int h = bitmap.height_dots * kOcrScale + 2 * kOcrPadDots;
  std::vector<unsigned char> gray(static_cast<std::size_t>(w) * static_cast<std::size_t>(h), 255);
  for (int y = 0; y < bitmap.height_dots * kOcrScale; ++y) {
    for (int x = 0; x < bitmap.width_dots * kOcrScale; ++x) {
      if (bitmap.black(x / kOcrScale, y / kOcrScale)) {
        gray[static_cast<std::size_t>((y + kOcrPadDots) * w + x + kOcrPadDots)] = 0;
      }
    }
  }
  impl_->api.SetImage(gray.data(), w, h, 1, w);
  impl_->api.SetSourceResolution(kPrinterDpi * kOcrScale);
  std::unique_ptr<char[]> text(impl_->api.GetUTF8Text());
  impl_->api.Clear();
  if (!text) {
    return Status(ErrorKind::kInternal, "ocr.failed", "Tesseract returned no text", "");
  }
  std::string out(text.get());
  // Tesseract ends with "\n" and may add blank lines between paragraphs.
  std::string cleaned;
  std::size_t start = 0;
  while (start < out.size()) {
    std::size_t end = out.find('\n', start);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(start, end - start);
    while (!line.empty() && (line.back() == ' ' || line.back() == '\t')) line.pop_back();
    if (!line.empty()) {
      if (!cleaned.empty()) cleaned += '\n';
      cleaned += line;
    }
    start = end + 1;
  }
  return cleaned;
}

// --- paper ------------------------------------------------------------------

Result<MonoBitmap> compose_paper(const DecodedSlip& slip, int paper_width_dots) {
  if (paper_width_dots < 8 || paper_width_dots > kMaxPaperWidthDots) {
    return sim_error(ErrorKind::kInvalidInput, "bad_width", "paper width out of range");
  }
  // Draw each element into its own bitmap first, then stack: the height is only
  // known once QR codes are encoded.
  struct Placed {
    MonoBitmap bitmap;
    int x = 0;
  };
  std::vector<Placed> placed;
  int height = 0;
  SlipRenderer text_renderer(SlipRenderOptions{});
  for (const DecodedElement& e : slip.elements) {
    Placed p;
    if (const auto* r = std::get_if<DecodedRaster>(&e)) {
      p.bitmap = r->bitmap;
      p.x = r->x_dots;
    } else if (const auto* q = std::get_if<DecodedQr>(&e)) {
      QrCodePtr code(QRcode_encodeData(static_cast<int>(q->payload.size()),
                                       reinterpret_cast<const unsigned char*>(q->payload.data()),
                                       0, static_cast<QRecLevel>(q->ecc)));
      if (!code) {
        return sim_error(ErrorKind::kInvalidInput, "qr_encode_failed",
                         "QR payload of " + std::to_string(q->payload.size()) +
                             " bytes cannot be encoded at this ECC level");
      }
      const int modules = code->width;
      const int side = modules * q->module_size_dots;
      if (side > paper_width_dots) {
        return sim_error(ErrorKind::kInvalidInput, "qr_too_wide", "QR code wider than the paper");
      }
      p.bitmap.width_dots = side;
      p.bitmap.height_dots = side;
      p.bitmap.bits.assign(static_cast<std::size_t>(p.bitmap.bytes_per_row() * side), 0);
      for (int my = 0; my < modules; ++my) {
        for (int mx = 0; mx < modules; ++mx) {
          if ((code->data[my * modules + mx] & 1u) == 0) continue;
          for (int dy = 0; dy < q->module_size_dots; ++dy) {
            for (int dx = 0; dx < q->module_size_dots; ++dx) {
              p.bitmap.set_black(mx * q->module_size_dots + dx, my * q->module_size_dots + dy);
            }
          }
        }
      }
      p.x = aligned_x(q->align, side, paper_width_dots);
    } else if (const auto* t = std::get_if<DecodedText>(&e)) {
      auto bm = text_renderer.render_text(t->ascii, false, t->align, paper_width_dots);
      if (!bm.is_ok()) return bm.status();
      p.bitmap = std::move(bm).value();
    } else if (const auto* f = std::get_if<DecodedFeed>(&e)) {
      p.bitmap.width_dots = 8;
      p.bitmap.height_dots = f->dots;
      p.bitmap.bits.assign(static_cast<std::size_t>(f->dots), 0);
    }
    height += p.bitmap.height_dots;
    if (height > kMaxSlipHeightDots) {
      return sim_error(ErrorKind::kTooLarge, "too_long", "slip longer than the bound");
    }
    placed.push_back(std::move(p));
  }
  MonoBitmap paper;
  paper.width_dots = paper_width_dots;
  paper.height_dots = std::max(height, 1);
  paper.bits.assign(static_cast<std::size_t>(paper.bytes_per_row() * paper.height_dots), 0);
  int y = 0;
  for (const Placed& p : placed) {
    blit(p.bitmap, p.x, y, &paper);
    y += p.bitmap.height_dots;
  }
  return paper;
}

Result<std::vector<std::uint8_t>> encode_png(const MonoBitmap& bitmap) {
  internal::CairoSurfacePtr surface = internal::bitmap_to_surface(bitmap);
  std::vector<std::uint8_t> png;
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS ||
      !internal::surface_to_png(surface.get(), &png)) {
    return sim_error(ErrorKind::kInternal, "png_failed", "Cairo could not encode the PNG");
  }
  return png;
}

Result<SlipReadback> read_back_slip(const DecodedSlip& slip, int paper_width_dots, OcrEngine* ocr) {
  SlipReadback out;
  auto paper = compose_paper(slip, paper_width_dots);
  if (!paper.is_ok()) return paper.status();
  out.paper = std::move(paper).value();
  out.qr_payloads = slip.qr_payloads();
  if (ocr != nullptr) {
    for (const DecodedElement& e : slip.elements) {
      const auto* r = std::get_if<DecodedRaster>(&e);
      if (r == nullptr) continue;
      auto text = ocr->read(r->bitmap);
      if (!text.is_ok()) return text.status();
      out.ocr_blocks.push_back(std::move(text).value());
    }
  }
  for (const std::string& b : out.ocr_blocks) {
    if (b.empty()) continue;
    if (!out.text.empty()) out.text += '\n';
    out.text += b;
  }
  return out;
}

std::string json_quote(const std::string& utf8) {
  std::string out = "\"";
  for (char ch : utf8) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

// --- simulator --------------------------------------------------------------

PrinterSimulator::PrinterSimulator(PrinterSimOptions options, OcrEngine* ocr)
    : options_(std::move(options)), ocr_(ocr) {}

SimStreamResult PrinterSimulator::accept(std::span<const std::uint8_t> stream) {
  SimStreamResult result;
  std::error_code ec;
  std::filesystem::create_directories(options_.out_dir, ec);
  if (ec) {
    result.error = sim_error(ErrorKind::kIo, "write_failed",
                             "cannot create " + options_.out_dir.string() + ": " + ec.message());
    return result;
  }
  DecodeReport report = decode_escpos(stream, options_.limits);
  for (const DecodedSlip& slip : report.slips) {
    auto rb = read_back_slip(slip, options_.limits.paper_width_dots, ocr_);
    if (!rb.is_ok()) {
      result.error = rb.status();
      break;
    }
    const std::string stem = slip_stem("slip", next_slip_++);
    auto png = encode_png(rb.value().paper);
    if (!png.is_ok()) {
      result.error = png.status();
      break;
    }
    std::string json = "{\n  \"slip\": " + json_quote(stem) +
                       ",\n  \"png\": " + json_quote(stem + ".png") +
                       ",\n  \"width_dots\": " + std::to_string(rb.value().paper.width_dots) +
                       ",\n  \"height_dots\": " + std::to_string(rb.value().paper.height_dots) +
                       ",\n  \"qr_payloads\": [";
    for (std::size_t i = 0; i < rb.value().qr_payloads.size(); ++i) {
      json += (i ? ", " : "") + json_quote(rb.value().qr_payloads[i]);
    }
    json += "],\n  \"ocr_blocks\": [";
    for (std::size_t i = 0; i < rb.value().ocr_blocks.size(); ++i) {
      json += (i ? ", " : "") + json_quote(rb.value().ocr_blocks[i]);
    }
    json += "],\n  \"text\": " + json_quote(rb.value().text) + "\n}\n";
    const auto dir = options_.out_dir;
    Status st = write_file(dir / (stem + ".png"),
                           std::string(png.value().begin(), png.value().end()));
    if (st.is_ok()) st = write_file(dir / (stem + ".txt"), rb.value().text + "\n");
    // The JSON goes last: a reader that sees it can rely on the PNG and text.
    if (st.is_ok()) st = write_file(dir / (stem + ".json"), json);
    if (!st.is_ok()) {
      result.error = st;
      break;
    }
    result.json_files.push_back(dir / (stem + ".json"));
  }
  if (result.error.is_ok() && !report.error.is_ok()) {
    result.error = report.error;
    result.error_offset = report.error_offset;
  }
  if (!result.error.is_ok()) {
    const std::string stem = slip_stem("error", next_error_++);
    const std::string json = "{\n  \"code\": " + json_quote(result.error.code()) +
                             ",\n  \"message\": " + json_quote(result.error.message_en()) +
                             ",\n  \"offset\": " + std::to_string(result.error_offset) +
                             ",\n  \"slips_before_error\": " +
                             std::to_string(result.json_files.size()) + "\n}\n";
    (void)write_file(options_.out_dir / (stem + ".json"), json);  // best effort: error already reported
  }
  return result;
}

}  // namespace wardsync::hardware
