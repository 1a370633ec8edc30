#include "wardsync/hardware/escpos.hpp"

#include <algorithm>
#include <cstdio>

namespace wardsync::hardware {
namespace {

constexpr std::uint8_t kEsc = 0x1B;
constexpr std::uint8_t kGs = 0x1D;
constexpr std::uint8_t kDle = 0x10;
constexpr std::uint8_t kLf = 0x0A;
constexpr std::uint8_t kCr = 0x0D;
// GS ( k: cn 49 = QR code; fn values from the Epson reference (DOMAIN-FACTS §7).
constexpr std::uint8_t kQrCn = 49;
constexpr std::uint8_t kQrFnModel = 65;
constexpr std::uint8_t kQrFnModuleSize = 67;
constexpr std::uint8_t kQrFnEcc = 69;
constexpr std::uint8_t kQrFnStore = 80;
constexpr std::uint8_t kQrFnPrint = 81;
constexpr std::uint8_t kQrFnSizeInfo = 82;
constexpr std::size_t kMaxQrStoreBytes = 7089;  // model 2, version 40, numeric

std::uint8_t ecc_byte(QrEcc ecc) {
  switch (ecc) {
    case QrEcc::kL: return 48;
    case QrEcc::kM: return 49;
    case QrEcc::kQ: return 50;
    case QrEcc::kH: return 51;
  }
  return 49;
}

void push_u16(std::vector<std::uint8_t>* out, std::size_t v) {
  out->push_back(static_cast<std::uint8_t>(v & 0xFFu));
  out->push_back(static_cast<std::uint8_t>((v >> 8) & 0xFFu));
}

void push_qr_fn(std::vector<std::uint8_t>* out, std::initializer_list<std::uint8_t> fn_and_params) {
  out->insert(out->end(), {kGs, '(', 'k'});
  push_u16(out, fn_and_params.size() + 1);  // + cn
  out->push_back(kQrCn);
  out->insert(out->end(), fn_and_params);
}

Status encode_error(std::string code, std::string en) {
  return Status(ErrorKind::kInvalidInput, "escpos." + code, std::move(en),
                "Không in được phiếu: dữ liệu in không hợp lệ");
}

}  // namespace

EscPosEncoder::EscPosEncoder(EscPosOptions options) : options_(options) {}

Result<std::vector<std::uint8_t>> EscPosEncoder::encode(const RenderedSlip& slip) const {
  if (options_.qr_module_size_dots < 1 || options_.qr_module_size_dots > 16 ||
      options_.raster_band_rows < 1 || options_.raster_band_rows > 2048 ||
      options_.feed_before_cut_lines < 0 || options_.feed_before_cut_lines > 255) {
    return encode_error("bad_option", "encoder options out of range");
  }
  if (slip.paper_width_dots < 8 || slip.paper_width_dots > kMaxPaperWidthDots ||
      slip.paper_width_dots % 8 != 0) {
    return encode_error("bad_option", "paper width out of range");
  }
  std::vector<std::uint8_t> out = {kEsc, '@'};
  for (const RenderedBlock& block : slip.blocks) {
    if (const auto* r = std::get_if<RenderedRaster>(&block)) {
      const MonoBitmap& bm = r->bitmap;
      if (bm.width_dots != slip.paper_width_dots || bm.height_dots < 1 ||
          bm.bits.size() != static_cast<std::size_t>(bm.bytes_per_row() * bm.height_dots)) {
        return encode_error("bad_raster", "raster does not match the paper width");
      }
      const auto row_bytes = static_cast<std::size_t>(bm.bytes_per_row());
      for (int y0 = 0; y0 < bm.height_dots; y0 += options_.raster_band_rows) {
        const int rows = std::min(options_.raster_band_rows, bm.height_dots - y0);
        out.insert(out.end(), {kGs, 'v', '0', 0});
        push_u16(&out, row_bytes);
        push_u16(&out, static_cast<std::size_t>(rows));
        const auto begin = bm.bits.begin() + static_cast<std::ptrdiff_t>(row_bytes * static_cast<std::size_t>(y0));
        out.insert(out.end(), begin, begin + static_cast<std::ptrdiff_t>(row_bytes * static_cast<std::size_t>(rows)));
      }
    } else if (const auto* q = std::get_if<RenderedQr>(&block)) {
      if (q->payload.empty() || q->payload.size() > kMaxQrPayloadBytes) {
        return encode_error("bad_qr", "QR payload size out of range");
      }
      out.insert(out.end(), {kEsc, 'a', 1});  // centre the code
      push_qr_fn(&out, {kQrFnModel, 50, 0});  // model 2
      push_qr_fn(&out, {kQrFnModuleSize, static_cast<std::uint8_t>(options_.qr_module_size_dots)});
      push_qr_fn(&out, {kQrFnEcc, ecc_byte(options_.qr_ecc)});
      out.insert(out.end(), {kGs, '(', 'k'});
      push_u16(&out, q->payload.size() + 3);
      out.insert(out.end(), {kQrCn, kQrFnStore, 48});
      out.insert(out.end(), q->payload.begin(), q->payload.end());
      push_qr_fn(&out, {kQrFnPrint, 48});
      out.insert(out.end(), {kLf, kEsc, 'a', 0});
    } else if (const auto* f = std::get_if<RenderedFeed>(&block)) {
      if (f->lines < 1 || f->lines > 255) return encode_error("bad_option", "feed out of range");
      out.insert(out.end(), {kEsc, 'd', static_cast<std::uint8_t>(f->lines)});
    }
  }
  if (options_.feed_before_cut_lines > 0) {
    out.insert(out.end(), {kEsc, 'd', static_cast<std::uint8_t>(options_.feed_before_cut_lines)});
  }
  out.insert(out.end(), {kGs, 'V', static_cast<std::uint8_t>(options_.partial_cut ? 1 : 0)});
  return out;
}

std::vector<std::string> DecodedSlip::qr_payloads() const {
  std::vector<std::string> out;
  for (const auto& e : elements) {
    if (const auto* q = std::get_if<DecodedQr>(&e)) out.push_back(q->payload);
  }
  return out;
}

namespace {

// A cursor over the stream; every read is bounds-checked so truncation is an
// error value, never an out-of-range access.
class Decoder {
 public:
  Decoder(std::span<const std::uint8_t> s, const DecodeLimits& limits) : s_(s), limits_(limits) {}

  DecodeReport run() {
    DecodeReport report;
    if (s_.size() > limits_.max_stream_bytes) {
      report.error = fail(ErrorKind::kTooLarge, "too_large",
                          "stream of " + std::to_string(s_.size()) + " bytes exceeds the limit");
      return report;
    }
    while (pos_ < s_.size()) {
      cmd_start_ = pos_;
      Status st = step(&report);
      if (!st.is_ok()) {
        report.error = st;
        report.error_offset = cmd_start_;
        return report;
      }
    }
    flush_text();
    if (!current_.elements.empty()) {
      cmd_start_ = s_.size();
      report.error = fail(ErrorKind::kTruncated, "truncated",
                          "stream ended before the cut (GS V): the last slip is incomplete");
      report.error_offset = s_.size();
    }
    return report;
  }

 private:
  Status fail(ErrorKind kind, const std::string& code, const std::string& en) const {
    char where[48];
    std::snprintf(where, sizeof where, " (at byte %zu)", cmd_start_);
    return Status(kind, "escpos." + code, en + where, "Dữ liệu máy in bị lỗi");
  }
  Status truncated(const char* what) const {
    return fail(ErrorKind::kTruncated, "truncated", std::string("stream ends inside ") + what);
  }
  bool take(std::size_t n, std::span<const std::uint8_t>* out) {
    if (s_.size() - pos_ < n) return false;
    *out = s_.subspan(pos_, n);
    pos_ += n;
    return true;
  }
  bool take_byte(std::uint8_t* b) {
    if (pos_ >= s_.size()) return false;
    *b = s_[pos_++];
    return true;
  }

  void flush_text() {
    if (text_.empty()) return;
    current_.elements.emplace_back(DecodedText{text_, align_});
    height_ += kLineFeedDots;
    text_.clear();
  }
  Status add_feed(int dots) {
    current_.elements.emplace_back(DecodedFeed{dots});
    height_ += dots;
    return check_height();
  }
  Status check_height() const {
    if (height_ > limits_.max_slip_height_dots) {
      return fail(ErrorKind::kTooLarge, "slip_too_long", "slip longer than the limit");
    }
    return Status::ok();
  }

  Status step(DecodeReport* report) {
    const std::uint8_t b = s_[pos_++];
    if (b >= 0x20 && b <= 0x7E) {
      if (text_.size() >= limits_.max_text_line_bytes) {
        return fail(ErrorKind::kTooLarge, "too_large", "text line too long");
      }
      text_.push_back(static_cast<char>(b));
      return Status::ok();
    }
    if (b == kLf) {
      if (!text_.empty()) {
        flush_text();
        return check_height();
      }
      return add_feed(kLineFeedDots);
    }
    if (b == kCr) return Status::ok();
    if (b == kEsc) return esc();
    if (b == kGs) return gs(report);
    if (b == kDle) {
      std::span<const std::uint8_t> p;
      if (!take(2, &p)) return truncated("DLE command");
      if (p[0] != 0x04 || p[1] < 1 || p[1] > 4) {
        return fail(ErrorKind::kInvalidInput, "bad_parameter", "bad DLE EOT status request");
      }
      return Status::ok();
    }
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02X", b);
    return fail(ErrorKind::kInvalidInput, "unknown_command", std::string("unknown byte ") + hex);
  }

  Status esc() {
    std::uint8_t c = 0;
    if (!take_byte(&c)) return truncated("ESC command");
    std::uint8_t n = 0;
    switch (c) {
      case '@':
        flush_text();
        align_ = Align::kLeft;
        qr_ = {};
        qr_stored_ = false;
        return Status::ok();
      case '2': return Status::ok();  // default line spacing
      case '3':
      case 't':
      case 'E':
      case '!':
      case '-':
        if (!take_byte(&n)) return truncated("ESC command");
        return Status::ok();  // spacing, code page, bold, print mode, underline: no effect on rasters
      case 'a':
        if (!take_byte(&n)) return truncated("ESC a");
        if (n == 0 || n == 48) {
          align_ = Align::kLeft;
        } else if (n == 1 || n == 49) {
          align_ = Align::kCenter;
        } else if (n == 2 || n == 50) {
          align_ = Align::kRight;
        } else {
          return fail(ErrorKind::kInvalidInput, "bad_parameter", "ESC a with bad alignment");
        }
        return Status::ok();
      case 'd':
        if (!take_byte(&n)) return truncated("ESC d");
        flush_text();
        return add_feed(n * kLineFeedDots);
      case 'J':
        if (!take_byte(&n)) return truncated("ESC J");
        flush_text();
        return add_feed(n);
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", c);
        return fail(ErrorKind::kInvalidInput, "unknown_command",
                    std::string("unknown ESC command ") + hex);
      }
    }
  }

  Status gs(DecodeReport* report) {
    std::uint8_t c = 0;
    if (!take_byte(&c)) return truncated("GS command");
    std::uint8_t n = 0;
    switch (c) {
      case '!':
        if (!take_byte(&n)) return truncated("GS !");
        return Status::ok();
      case 'v': return raster();
      case '(': return gs_paren();
      case 'V': {
        if (!take_byte(&n)) return truncated("GS V");
        if (n == 65 || n == 66 || n == 97 || n == 98 || n == 103 || n == 104) {
          std::uint8_t feed = 0;
          if (!take_byte(&feed)) return truncated("GS V");
        } else if (!(n == 0 || n == 1 || n == 48 || n == 49)) {
          return fail(ErrorKind::kInvalidInput, "bad_parameter", "GS V with bad cut mode");
        }
        flush_text();
        if (report->slips.size() >= limits_.max_slips) {
          return fail(ErrorKind::kTooLarge, "too_large", "too many slips in one stream");
        }
        report->slips.push_back(std::move(current_));
        current_ = {};
        height_ = 0;
        return Status::ok();
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02X", c);
        return fail(ErrorKind::kInvalidInput, "unknown_command",
                    std::string("unknown GS command ") + hex);
      }
    }
  }

  Status raster() {
    std::span<const std::uint8_t> h;
    if (!take(6, &h)) return truncated("GS v 0 header");
    if (h[0] != '0') return fail(ErrorKind::kInvalidInput, "unknown_command", "GS v not followed by 0");
    const std::uint8_t mode = h[1];
    if (mode == 1 || mode == 2 || mode == 3 || mode == 49 || mode == 50 || mode == 51) {
      return fail(ErrorKind::kUnsupported, "unsupported", "scaled raster modes are not supported");
    }
    if (mode != 0 && mode != 48) {
      return fail(ErrorKind::kInvalidInput, "bad_parameter", "GS v 0 with bad mode");
    }
    const int x_bytes = h[2] | (h[3] << 8);
    const int rows = h[4] | (h[5] << 8);
    if (x_bytes < 1 || rows < 1) {
      return fail(ErrorKind::kInvalidInput, "bad_parameter", "GS v 0 with zero size");
    }
    if (x_bytes * 8 > limits_.paper_width_dots) {
      return fail(ErrorKind::kInvalidInput, "raster_too_wide",
                  "raster of " + std::to_string(x_bytes * 8) + " dots is wider than the paper (" +
                      std::to_string(limits_.paper_width_dots) + ")");
    }
    if (rows > limits_.max_raster_rows) {
      return fail(ErrorKind::kTooLarge, "too_large", "raster taller than the per-command limit");
    }
    std::span<const std::uint8_t> data;
    const auto len = static_cast<std::size_t>(x_bytes) * static_cast<std::size_t>(rows);
    if (!take(len, &data)) return truncated("GS v 0 image data");
    flush_text();
    height_ += rows;
    if (Status st = check_height(); !st.is_ok()) return st;
    // Bands of one width printed back to back are one picture on paper; stacking
    // them lets OCR see whole lines that the encoder split across bands.
    DecodedRaster* last = current_.elements.empty()
                              ? nullptr
                              : std::get_if<DecodedRaster>(&current_.elements.back());
    if (last == nullptr || last->bitmap.width_dots != x_bytes * 8) {
      DecodedRaster fresh;
      fresh.bitmap.width_dots = x_bytes * 8;
      current_.elements.emplace_back(std::move(fresh));
      last = std::get_if<DecodedRaster>(&current_.elements.back());
    }
    last->bitmap.height_dots += rows;
    last->bitmap.bits.insert(last->bitmap.bits.end(), data.begin(), data.end());
    return Status::ok();
  }

  Status gs_paren() {
    std::span<const std::uint8_t> h;
    if (!take(3, &h)) return truncated("GS ( header");
    if (h[0] != 'k') {
      return fail(ErrorKind::kUnsupported, "unsupported", "only GS ( k (2D codes) is supported");
    }
    const std::size_t len = static_cast<std::size_t>(h[1] | (h[2] << 8));
    if (len < 2) return fail(ErrorKind::kInvalidInput, "bad_parameter", "GS ( k length below 2");
    if (len > kMaxQrStoreBytes + 3) {
      return fail(ErrorKind::kTooLarge, "too_large", "GS ( k data larger than a QR code holds");
    }
    std::span<const std::uint8_t> p;
    if (!take(len, &p)) return truncated("GS ( k data");
    if (p[0] != kQrCn) {
      return fail(ErrorKind::kUnsupported, "unsupported", "2D code other than QR (cn != 49)");
    }
    const std::uint8_t fn = p[1];
    auto bad = [&](const char* what) {
      return fail(ErrorKind::kInvalidInput, "bad_parameter", std::string("GS ( k ") + what);
    };
    switch (fn) {
      case kQrFnModel:
        if (len != 4 || (p[2] != 49 && p[2] != 50) || p[3] != 0) return bad("bad QR model");
        if (p[2] == 49) return fail(ErrorKind::kUnsupported, "unsupported", "QR model 1");
        return Status::ok();
      case kQrFnModuleSize:
        if (len != 3 || p[2] < 1 || p[2] > 16) return bad("module size outside 1-16");
        qr_.module_size_dots = p[2];
        return Status::ok();
      case kQrFnEcc:
        if (len != 3 || p[2] < 48 || p[2] > 51) return bad("ECC level outside 48-51");
        qr_.ecc = static_cast<QrEcc>(p[2] - 48);
        return Status::ok();
      case kQrFnStore:
        if (len < 4 || p[2] != 48) return bad("store with no data or bad m");
        qr_.payload.assign(p.begin() + 3, p.end());
        qr_stored_ = true;
        return Status::ok();
      case kQrFnPrint: {
        if (len != 3 || p[2] != 48) return bad("print with bad m");
        if (!qr_stored_) {
          return fail(ErrorKind::kInvalidInput, "qr_not_stored", "QR print before any store");
        }
        flush_text();
        DecodedQr q = qr_;
        q.align = align_;
        // Height is payload-dependent; bound it by the largest symbol (177 modules).
        height_ += std::min(177, 21 + 4 * static_cast<int>(q.payload.size() / 16)) * q.module_size_dots;
        current_.elements.emplace_back(std::move(q));
        return check_height();
      }
      case kQrFnSizeInfo:
        if (len != 3) return bad("size request with bad length");
        return Status::ok();
      default: return bad("unknown QR function");
    }
  }

  std::span<const std::uint8_t> s_;
  const DecodeLimits& limits_;
  std::size_t pos_ = 0;
  std::size_t cmd_start_ = 0;
  DecodedSlip current_;
  int height_ = 0;
  Align align_ = Align::kLeft;
  DecodedQr qr_;
  bool qr_stored_ = false;
  std::string text_;
};

}  // namespace

DecodeReport decode_escpos(std::span<const std::uint8_t> stream, const DecodeLimits& limits) {
  Decoder d(stream, limits);
  return d.run();
}

}  // namespace wardsync::hardware
