#include <algorithm>
#include <cstring>
#include <strings.h>

#include "cairo_internal.hpp"
#include "utf8_internal.hpp"
#include "wardsync/hardware/slip.hpp"
#include "wardsync/hardware/text.hpp"

namespace wardsync::hardware {
namespace internal {

CairoSurfacePtr bitmap_to_surface(const MonoBitmap& bitmap) {
  CairoSurfacePtr surface(
      cairo_image_surface_create(CAIRO_FORMAT_RGB24, bitmap.width_dots, bitmap.height_dots));
  if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) return surface;
  cairo_surface_flush(surface.get());
  unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < bitmap.height_dots; ++y) {
    auto* row = data + static_cast<std::ptrdiff_t>(y) * stride;
    for (int x = 0; x < bitmap.width_dots; ++x) {
      const std::uint32_t px = bitmap.black(x, y) ? 0x000000u : 0xFFFFFFu;
      std::memcpy(row + static_cast<std::ptrdiff_t>(x) * 4, &px, 4);
    }
  }
  cairo_surface_mark_dirty(surface.get());
  return surface;
}

bool surface_to_png(cairo_surface_t* surface, std::vector<std::uint8_t>* png) {
  png->clear();
  auto writer = [](void* closure, const unsigned char* data, unsigned int length) {
    auto* out = static_cast<std::vector<std::uint8_t>*>(closure);
    out->insert(out->end(), data, data + length);
    return CAIRO_STATUS_SUCCESS;
  };
  return cairo_surface_write_to_png_stream(surface, writer, png) == CAIRO_STATUS_SUCCESS;
}

}  // namespace internal

namespace {

// Coverage (0-255) at which an antialiased pixel becomes a burnt dot. Slightly
// above 50 % keeps strokes thin so the small marks stacked on capitals (Ả, Ấ, Ồ)
// stay apart from the letter; measured with Tesseract on the receipt fixture:
// 128 read "QUẢ" as "QUÁ" in bold headings, 144 read both 80 mm headings right,
// 176 started to break thin digits.
constexpr unsigned char kInkThreshold = 144;

Status slip_error(std::string code, std::string en) {
  return Status(ErrorKind::kInvalidInput, "slip." + code, std::move(en),
                "Không in được phiếu: dữ liệu phiếu không hợp lệ");
}

Status render_failed(const std::string& what) {
  return Status(ErrorKind::kInternal, "slip.render_failed", "text rendering failed: " + what,
                "Không in được phiếu: lỗi dựng hình chữ");
}

Status check_width(int width_dots) {
  if (width_dots < 64 || width_dots > kMaxPaperWidthDots || width_dots % 8 != 0) {
    return slip_error("bad_width", "paper width must be a multiple of 8 between 64 and " +
                                       std::to_string(kMaxPaperWidthDots) + " dots");
  }
  return Status::ok();
}

}  // namespace

SlipRenderer::SlipRenderer(SlipRenderOptions options) : options_(std::move(options)) {}

Result<MonoBitmap> SlipRenderer::render_text(const std::string& utf8, bool heading, Align align,
                                             int width_dots) const {
  using namespace internal;
  if (Status st = check_width(width_dots); !st.is_ok()) return st;
  if (utf8.empty() || utf8.size() > kMaxSlipTextBytes || !is_valid_utf8(utf8)) {
    return slip_error("bad_text", "text must be 1-16384 bytes of valid UTF-8");
  }
  // Newlines are allowed (explicit line breaks); other control characters are
  // not, nor invisible formatting (text.hpp: the rule every printed field obeys).
  switch (text_fault(utf8, true)) {
    case TextFault::kNone: break;
    case TextFault::kInvisible: return slip_error("bad_text", "text contains invisible formatting characters");
    default: return slip_error("bad_text", "text contains control characters");
  }
  const int margin = std::clamp(options_.margin_dots, 0, width_dots / 4);
  const int text_width = width_dots - 2 * margin;

  // Measure on a scratch surface first: the bitmap height depends on wrapping.
  CairoSurfacePtr scratch(cairo_image_surface_create(CAIRO_FORMAT_A8, 1, 1));
  CairoPtr measure(cairo_create(scratch.get()));
  if (cairo_status(measure.get()) != CAIRO_STATUS_SUCCESS) return render_failed("cairo_create");

  FontDescPtr desc(pango_font_description_new());
  pango_font_description_set_family(desc.get(), options_.font_family.c_str());
  pango_font_description_set_weight(desc.get(), heading ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
  pango_font_description_set_absolute_size(
      desc.get(), static_cast<double>(heading ? options_.heading_px : options_.body_px) * PANGO_SCALE);

  auto make_layout = [&](cairo_t* cr) {
    LayoutPtr layout(pango_cairo_create_layout(cr));
    // Fixed options: hinting and subpixel tricks change glyph shapes between
    // machines; plain grey antialiasing thresholds into clean 1-bit strokes.
    cairo_font_options_t* fo = cairo_font_options_create();
    cairo_font_options_set_antialias(fo, CAIRO_ANTIALIAS_GRAY);
    cairo_font_options_set_hint_style(fo, CAIRO_HINT_STYLE_NONE);
    pango_cairo_context_set_font_options(pango_layout_get_context(layout.get()), fo);
    cairo_font_options_destroy(fo);
    pango_layout_context_changed(layout.get());
    pango_layout_set_font_description(layout.get(), desc.get());
    pango_layout_set_width(layout.get(), text_width * PANGO_SCALE);
    pango_layout_set_wrap(layout.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(layout.get(), align == Align::kCenter  ? PANGO_ALIGN_CENTER
                                             : align == Align::kRight ? PANGO_ALIGN_RIGHT
                                                                      : PANGO_ALIGN_LEFT);
    pango_layout_set_text(layout.get(), utf8.c_str(), static_cast<int>(utf8.size()));
    return layout;
  };

  LayoutPtr probe = make_layout(measure.get());
  // fontconfig silently substitutes a missing family; a substitute may lack
  // Vietnamese glyphs, so insist on the configured font.
  FontPtr font(pango_context_load_font(pango_layout_get_context(probe.get()), desc.get()));
  if (!font) return render_failed("no font for family " + options_.font_family);
  FontDescPtr loaded(pango_font_describe(font.get()));
  const char* family = pango_font_description_get_family(loaded.get());
  if (family == nullptr || strcasecmp(family, options_.font_family.c_str()) != 0) {
    return Status(ErrorKind::kNotFound, "slip.font_missing",
                  "font family \"" + options_.font_family + "\" is not installed (got \"" +
                      (family ? family : "") + "\"); install fonts-dejavu-core",
                  "Thiếu phông chữ tiếng Việt trên máy");
  }
  int w = 0;
  int h = 0;
  pango_layout_get_pixel_size(probe.get(), &w, &h);
  const int pad = 4;  // keep descenders and stacked marks off the raster edge
  const int height = h + 2 * pad;
  if (h <= 0 || height > kMaxSlipHeightDots) return slip_error("too_long", "text block too tall");

  CairoSurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_A8, width_dots, height));
  CairoPtr cr(cairo_create(surface.get()));
  if (cairo_status(cr.get()) != CAIRO_STATUS_SUCCESS) return render_failed("surface");
  LayoutPtr layout = make_layout(cr.get());
  cairo_move_to(cr.get(), margin, pad);
  pango_cairo_show_layout(cr.get(), layout.get());
  cairo_surface_flush(surface.get());

  MonoBitmap bitmap;
  bitmap.width_dots = width_dots;
  bitmap.height_dots = height;
  bitmap.bits.assign(static_cast<std::size_t>(bitmap.bytes_per_row() * height), 0);
  const unsigned char* data = cairo_image_surface_get_data(surface.get());
  const int stride = cairo_image_surface_get_stride(surface.get());
  for (int y = 0; y < height; ++y) {
    for (int x = 0; x < width_dots; ++x) {
      if (data[static_cast<std::ptrdiff_t>(y) * stride + x] >= kInkThreshold) bitmap.set_black(x, y);
    }
  }
  return bitmap;
}

Result<RenderedSlip> SlipRenderer::render(const Slip& slip) const {
  if (Status st = check_width(options_.paper_width_dots); !st.is_ok()) return st;
  RenderedSlip out;
  out.paper_width_dots = options_.paper_width_dots;
  int height = 0;
  for (const SlipBlock& block : slip.blocks) {
    if (const auto* t = std::get_if<SlipText>(&block)) {
      auto bitmap = render_text(t->utf8, t->heading, t->align, options_.paper_width_dots);
      if (!bitmap.is_ok()) return bitmap.status();
      height += bitmap.value().height_dots;
      out.blocks.emplace_back(RenderedRaster{std::move(bitmap).value()});
    } else if (const auto* q = std::get_if<SlipQr>(&block)) {
      if (q->payload.empty() || q->payload.size() > kMaxQrPayloadBytes) {
        return slip_error("bad_qr", "QR payload must be 1-" + std::to_string(kMaxQrPayloadBytes) +
                                        " bytes");
      }
      height += 300;  // a generous estimate; the printer decides the real size
      out.blocks.emplace_back(RenderedQr{q->payload});
    } else if (const auto* f = std::get_if<SlipFeed>(&block)) {
      if (f->lines < 1 || f->lines > 20) return slip_error("bad_feed", "feed must be 1-20 lines");
      height += f->lines * 30;
      out.blocks.emplace_back(RenderedFeed{f->lines});
    }
    if (height > kMaxSlipHeightDots) return slip_error("too_long", "slip longer than the bound");
  }
  if (out.blocks.empty()) return slip_error("empty", "slip has no content");
  return out;
}

}  // namespace wardsync::hardware
