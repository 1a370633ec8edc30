#include "wardsync/hardware/scanner.hpp"

#include <sane/sane.h>
#include <sane/saneopts.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <fstream>

#include "cairo_internal.hpp"

namespace wardsync::hardware {
namespace {

Status scan_error(ErrorKind kind, std::string code, std::string en, std::string vi) {
  return Status(kind, "scanner." + code, std::move(en), std::move(vi));
}

Status check_request(const ScanRequest& r) {
  if (r.max_pages < 1 || r.max_pages > kMaxScanPages || r.resolution_dpi < 50 ||
      r.resolution_dpi > 1200) {
    return scan_error(ErrorKind::kInvalidInput, "bad_option",
                      "max_pages must be 1-100 and resolution 50-1200 dpi", "");
  }
  return Status::ok();
}

std::uint32_t be32(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

// Width and height from the PNG IHDR or the JPEG SOFn marker; false if the bytes
// are not a well-formed start of either format.
bool probe_image(const std::vector<std::uint8_t>& b, std::string* mime, int* w, int* h) {
  static constexpr std::uint8_t kPng[8] = {0x89, 'P', 'N', 'G', 0x0D, 0x0A, 0x1A, 0x0A};
  if (b.size() >= 24 && std::memcmp(b.data(), kPng, 8) == 0 &&
      std::memcmp(b.data() + 12, "IHDR", 4) == 0) {
    const std::uint32_t pw = be32(b.data() + 16);
    const std::uint32_t ph = be32(b.data() + 20);
    if (pw == 0 || ph == 0 || pw > 100000 || ph > 100000) return false;
    *mime = "image/png";
    *w = static_cast<int>(pw);
    *h = static_cast<int>(ph);
    return true;
  }
  if (b.size() >= 4 && b[0] == 0xFF && b[1] == 0xD8) {
    std::size_t i = 2;
    while (i + 9 < b.size()) {
      if (b[i] != 0xFF) return false;
      const std::uint8_t marker = b[i + 1];
      const std::size_t len = (std::size_t{b[i + 2]} << 8) | b[i + 3];
      if (len < 2) return false;
      const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 &&
                       marker != 0xCC;
      if (sof) {
        *mime = "image/jpeg";
        *h = (b[i + 5] << 8) | b[i + 6];
        *w = (b[i + 7] << 8) | b[i + 8];
        return *w > 0 && *h > 0;
      }
      i += 2 + len;
    }
  }
  return false;
}

class FolderScanner final : public DocumentScanner {
 public:
  explicit FolderScanner(std::filesystem::path folder) : folder_(std::move(folder)) {}
  std::string describe() const override { return "folder:" + folder_.string(); }

  Result<ScanResult> scan(const ScanRequest& request) override {
    if (Status st = check_request(request); !st.is_ok()) return st;
    std::error_code ec;
    if (!std::filesystem::is_directory(folder_, ec)) {
      return scan_error(ErrorKind::kUnreachable, "unreachable", folder_.string() + " is not a folder",
                        "Không kết nối được máy quét");
    }
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(folder_, ec)) {
      if (!entry.is_regular_file()) continue;
      std::string ext = entry.path().extension().string();
      std::transform(ext.begin(), ext.end(), ext.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (ext == ".png" || ext == ".jpg" || ext == ".jpeg") files.push_back(entry.path());
    }
    if (ec) return scan_error(ErrorKind::kIo, "io", folder_.string() + ": " + ec.message(), "");
    std::sort(files.begin(), files.end());
    if (files.empty()) {
      return scan_error(ErrorKind::kNotFound, "no_pages", "no page in " + folder_.string(),
                        "Không có giấy tờ trong máy quét");
    }
    if (files.size() > static_cast<std::size_t>(request.max_pages)) {
      return scan_error(ErrorKind::kTooLarge, "too_large",
                        std::to_string(files.size()) + " pages exceed the limit of " +
                            std::to_string(request.max_pages),
                        "Quá nhiều trang");
    }
    ScanResult result;
    for (const auto& path : files) {
      const auto size = std::filesystem::file_size(path, ec);
      if (ec) return scan_error(ErrorKind::kIo, "io", path.string() + ": " + ec.message(), "");
      if (size > kMaxPageBytes) {
        return scan_error(ErrorKind::kTooLarge, "too_large",
                          path.filename().string() + " is larger than 25 MiB", "Trang quét quá lớn");
      }
      ScannedPage page;
      page.bytes.resize(static_cast<std::size_t>(size));
      std::ifstream f(path, std::ios::binary);
      f.read(reinterpret_cast<char*>(page.bytes.data()), static_cast<std::streamsize>(size));
      if (!f) return scan_error(ErrorKind::kIo, "io", "cannot read " + path.string(), "");
      if (!probe_image(page.bytes, &page.mime_type, &page.width_px, &page.height_px)) {
        return scan_error(ErrorKind::kInvalidInput, "bad_page",
                          path.filename().string() + " is not a valid PNG or JPEG image",
                          "Trang quét không phải ảnh PNG/JPEG hợp lệ");
      }
      if (std::int64_t{page.width_px} * page.height_px > kMaxPagePixels) {
        return scan_error(ErrorKind::kTooLarge, "too_large",
                          path.filename().string() + " has too many pixels", "Trang quét quá lớn");
      }
      result.pages.push_back(std::move(page));
    }
    return result;
  }

 private:
  std::filesystem::path folder_;
};

// --- SANE -------------------------------------------------------------------

Status sane_status_error(const std::string& what, SANE_Status s) {
  const ErrorKind kind = s == SANE_STATUS_NO_DOCS   ? ErrorKind::kNotFound
                         : s == SANE_STATUS_INVAL   ? ErrorKind::kInvalidInput
                         : s == SANE_STATUS_NO_MEM  ? ErrorKind::kTooLarge
                                                    : ErrorKind::kIo;
  return scan_error(kind, s == SANE_STATUS_NO_DOCS ? "no_pages" : "io",
                    what + ": " + sane_strstatus(s),
                    s == SANE_STATUS_NO_DOCS ? "Không có giấy tờ trong máy quét" : "Lỗi máy quét");
}

// sane_init/sane_exit as a scope.
class SaneSession {
 public:
  SaneSession() { status_ = sane_init(nullptr, nullptr); }
  ~SaneSession() {
    if (status_ == SANE_STATUS_GOOD) sane_exit();
  }
  SaneSession(const SaneSession&) = delete;
  SaneSession& operator=(const SaneSession&) = delete;
  SANE_Status status() const { return status_; }

 private:
  SANE_Status status_ = SANE_STATUS_INVAL;
};

class SaneScanner final : public DocumentScanner {
 public:
  SaneScanner(std::unique_ptr<SaneSession> session, SANE_Handle handle, std::string device)
      : session_(std::move(session)), handle_(handle), device_(std::move(device)) {}
  ~SaneScanner() override { sane_close(handle_); }
  SaneScanner(const SaneScanner&) = delete;
  SaneScanner& operator=(const SaneScanner&) = delete;

  std::string describe() const override { return "sane:" + device_; }

  Result<ScanResult> scan(const ScanRequest& request) override {
    if (Status st = check_request(request); !st.is_ok()) return st;
    // Options a device lacks are skipped: a line-art-only scanner has no "mode"
    // choice, and we take what it gives rather than fail.
    (void)set_int_option(SANE_NAME_SCAN_RESOLUTION, request.resolution_dpi);
    (void)set_string_option(SANE_NAME_SCAN_MODE, request.color ? "Color" : "Gray");
    if (request.use_feeder) {
      Status st = set_string_option(SANE_NAME_SCAN_SOURCE, "Automatic Document Feeder");
      if (!st.is_ok()) st = set_string_option(SANE_NAME_SCAN_SOURCE, "ADF");
      if (!st.is_ok()) {
        return scan_error(ErrorKind::kUnsupported, "bad_option", device_ + " has no document feeder",
                          "Máy quét không có khay nạp giấy");
      }
    }
    ScanResult result;
    for (int n = 0; n < request.max_pages; ++n) {
      auto page = scan_one_page();
      if (!page.is_ok()) {
        // An empty feeder after the first page is the normal end of a batch.
        if (page.status().code() == "scanner.no_pages" && !result.pages.empty()) break;
        return page.status();
      }
      result.pages.push_back(std::move(page).value());
      if (!request.use_feeder) break;
    }
    return result;
  }

 private:
  int find_option(const char* name) const {
    SANE_Int count = 0;
    if (sane_control_option(handle_, 0, SANE_ACTION_GET_VALUE, &count, nullptr) != SANE_STATUS_GOOD) {
      return -1;
    }
    for (SANE_Int i = 1; i < count; ++i) {
      const SANE_Option_Descriptor* d = sane_get_option_descriptor(handle_, i);
      if (d != nullptr && d->name != nullptr && std::strcmp(d->name, name) == 0 &&
          SANE_OPTION_IS_SETTABLE(d->cap) && SANE_OPTION_IS_ACTIVE(d->cap)) {
        return i;
      }
    }
    return -1;
  }

  Status set_int_option(const char* name, int value) {
    const int idx = find_option(name);
    if (idx < 0) return scan_error(ErrorKind::kUnsupported, "bad_option", name, "");
    const SANE_Option_Descriptor* d = sane_get_option_descriptor(handle_, idx);
    // SANE_FIXED is 16.16 fixed point.
    SANE_Word v = d->type == SANE_TYPE_FIXED ? value * (1 << SANE_FIXED_SCALE_SHIFT) : value;
    const SANE_Status s = sane_control_option(handle_, idx, SANE_ACTION_SET_VALUE, &v, nullptr);
    if (s != SANE_STATUS_GOOD) return sane_status_error(std::string("set ") + name, s);
    return Status::ok();
  }

  Status set_string_option(const char* name, const std::string& value) {
    const int idx = find_option(name);
    if (idx < 0) return scan_error(ErrorKind::kUnsupported, "bad_option", name, "");
    const SANE_Option_Descriptor* d = sane_get_option_descriptor(handle_, idx);
    if (d->type != SANE_TYPE_STRING || d->size < 1) {
      return scan_error(ErrorKind::kUnsupported, "bad_option", name, "");
    }
    std::vector<char> buf(static_cast<std::size_t>(d->size), '\0');
    std::strncpy(buf.data(), value.c_str(), buf.size() - 1);
    const SANE_Status s = sane_control_option(handle_, idx, SANE_ACTION_SET_VALUE, buf.data(), nullptr);
    if (s != SANE_STATUS_GOOD) return sane_status_error(std::string("set ") + name, s);
    return Status::ok();
  }

  Result<ScannedPage> scan_one_page() {
    // sane_cancel is required after every frame, including failed starts.
    struct CancelGuard {
      SANE_Handle h;
      ~CancelGuard() { sane_cancel(h); }
    } guard{handle_};
    SANE_Status s = sane_start(handle_);
    if (s != SANE_STATUS_GOOD) return sane_status_error("start", s);
    SANE_Parameters p{};
    s = sane_get_parameters(handle_, &p);
    if (s != SANE_STATUS_GOOD) return sane_status_error("parameters", s);
    const bool gray = p.format == SANE_FRAME_GRAY;
    const bool rgb = p.format == SANE_FRAME_RGB;
    if (!(gray || rgb) || !(p.depth == 8 || (gray && p.depth == 1)) || !p.last_frame) {
      return scan_error(ErrorKind::kUnsupported, "unsupported",
                        "frame format " + std::to_string(p.format) + " depth " +
                            std::to_string(p.depth) + " is not supported",
                        "Máy quét trả về định dạng ảnh không hỗ trợ");
    }
    if (p.pixels_per_line < 1 || p.bytes_per_line < 1 ||
        p.bytes_per_line < (rgb ? 3 : 1) * (p.depth == 1 ? (p.pixels_per_line + 7) / 8 : p.pixels_per_line)) {
      return scan_error(ErrorKind::kIo, "io", "device reported inconsistent line sizes", "");
    }
    // lines may be -1 (unknown, e.g. hand scanners): then the byte bound applies.
    const std::size_t max_bytes =
        std::min<std::size_t>(kMaxPageBytes * 4, static_cast<std::size_t>(kMaxPagePixels) * 3);
    std::vector<std::uint8_t> raw;
    if (p.lines > 0) raw.reserve(std::min(max_bytes, static_cast<std::size_t>(p.bytes_per_line) * static_cast<std::size_t>(p.lines)));
    std::array<SANE_Byte, 32 * 1024> chunk{};
    for (;;) {
      SANE_Int len = 0;
      s = sane_read(handle_, chunk.data(), static_cast<SANE_Int>(chunk.size()), &len);
      if (s == SANE_STATUS_EOF) break;
      if (s != SANE_STATUS_GOOD) return sane_status_error("read", s);
      raw.insert(raw.end(), chunk.begin(), chunk.begin() + len);
      if (raw.size() > max_bytes) {
        return scan_error(ErrorKind::kTooLarge, "too_large", "page larger than the bound",
                          "Trang quét quá lớn");
      }
    }
    const int width = p.pixels_per_line;
    const int height = static_cast<int>(raw.size() / static_cast<std::size_t>(p.bytes_per_line));
    if (height < 1) return scan_error(ErrorKind::kIo, "io", "device returned no image data", "");
    if (std::int64_t{width} * height > kMaxPagePixels) {
      return scan_error(ErrorKind::kTooLarge, "too_large", "page has too many pixels",
                        "Trang quét quá lớn");
    }
    internal::CairoSurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, height));
    if (cairo_surface_status(surface.get()) != CAIRO_STATUS_SUCCESS) {
      return scan_error(ErrorKind::kInternal, "io", "cannot allocate page image", "");
    }
    cairo_surface_flush(surface.get());
    unsigned char* data = cairo_image_surface_get_data(surface.get());
    const int stride = cairo_image_surface_get_stride(surface.get());
    for (int y = 0; y < height; ++y) {
      const std::uint8_t* line = raw.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(p.bytes_per_line);
      for (int x = 0; x < width; ++x) {
        std::uint32_t r = 0, g = 0, b = 0;
        if (rgb) {
          r = line[3 * x];
          g = line[3 * x + 1];
          b = line[3 * x + 2];
        } else if (p.depth == 8) {
          r = g = b = line[x];
        } else {  // SANE line art: bit set = black
          r = g = b = ((line[x / 8] >> (7 - x % 8)) & 1u) ? 0u : 255u;
        }
        const std::uint32_t px = (r << 16) | (g << 8) | b;
        std::memcpy(data + static_cast<std::ptrdiff_t>(y) * stride + static_cast<std::ptrdiff_t>(x) * 4, &px, 4);
      }
    }
    cairo_surface_mark_dirty(surface.get());
    ScannedPage page;
    page.mime_type = "image/png";
    page.width_px = width;
    page.height_px = height;
    if (!internal::surface_to_png(surface.get(), &page.bytes)) {
      return scan_error(ErrorKind::kInternal, "io", "PNG encoding failed", "");
    }
    return page;
  }

  std::unique_ptr<SaneSession> session_;  // outlives handle_ (declared first)
  SANE_Handle handle_;
  std::string device_;
};

}  // namespace

std::unique_ptr<DocumentScanner> make_folder_scanner(std::filesystem::path folder) {
  return std::make_unique<FolderScanner>(std::move(folder));
}

Result<std::vector<std::string>> list_sane_devices() {
  SaneSession session;
  if (session.status() != SANE_STATUS_GOOD) return sane_status_error("sane_init", session.status());
  const SANE_Device** list = nullptr;
  const SANE_Status s = sane_get_devices(&list, SANE_TRUE);
  if (s != SANE_STATUS_GOOD) return sane_status_error("sane_get_devices", s);
  std::vector<std::string> names;
  for (int i = 0; list != nullptr && list[i] != nullptr; ++i) names.emplace_back(list[i]->name);
  return names;
}

Result<std::unique_ptr<DocumentScanner>> open_sane_scanner(const std::string& device) {
  auto session = std::make_unique<SaneSession>();
  if (session->status() != SANE_STATUS_GOOD) return sane_status_error("sane_init", session->status());
  SANE_Handle handle = nullptr;
  const SANE_Status s = sane_open(device.c_str(), &handle);
  if (s != SANE_STATUS_GOOD || handle == nullptr) {
    return scan_error(ErrorKind::kUnreachable, "unreachable",
                      "cannot open SANE device \"" + device + "\": " + sane_strstatus(s),
                      "Không kết nối được máy quét");
  }
  return std::unique_ptr<DocumentScanner>(
      std::make_unique<SaneScanner>(std::move(session), handle, device));
}

}  // namespace wardsync::hardware
