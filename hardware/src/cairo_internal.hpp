// Owning wrappers for the Cairo, Pango and GLib handles hardware/ uses, and the
// helpers that move pixels between Cairo surfaces and MonoBitmap.
#pragma once

#include <cairo.h>
#include <pango/pangocairo.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "wardsync/hardware/slip.hpp"

namespace wardsync::hardware::internal {

struct CairoSurfaceDeleter {
  void operator()(cairo_surface_t* s) const noexcept { cairo_surface_destroy(s); }
};
struct CairoDeleter {
  void operator()(cairo_t* c) const noexcept { cairo_destroy(c); }
};
struct GObjectDeleter {
  void operator()(void* o) const noexcept { g_object_unref(o); }
};
struct FontDescDeleter {
  void operator()(PangoFontDescription* d) const noexcept { pango_font_description_free(d); }
};
using CairoSurfacePtr = std::unique_ptr<cairo_surface_t, CairoSurfaceDeleter>;
using CairoPtr = std::unique_ptr<cairo_t, CairoDeleter>;
using LayoutPtr = std::unique_ptr<PangoLayout, GObjectDeleter>;
using FontPtr = std::unique_ptr<PangoFont, GObjectDeleter>;
using FontDescPtr = std::unique_ptr<PangoFontDescription, FontDescDeleter>;

// White paper, black dots: RGB24 surface of the bitmap, ready for PNG output.
CairoSurfacePtr bitmap_to_surface(const MonoBitmap& bitmap);
// PNG bytes of a surface (cairo_surface_write_to_png_stream into memory).
bool surface_to_png(cairo_surface_t* surface, std::vector<std::uint8_t>* png);

}  // namespace wardsync::hardware::internal
