// Document scanners: the kiosk scans the citizen's papers (thành phần hồ sơ) into
// page images. One interface, two implementations: a folder-fed simulator (pages
// are PNG/JPEG files) and a SANE backend for real flatbed/feeder devices.
//
// Pages are bounded (count, bytes, pixels) because large scans are a known cause of
// hung replication downstream; the bound is enforced here, at the source.
//
// Errors: scanner.unreachable (no folder / device), scanner.no_pages (empty
// feeder or folder), scanner.bad_page (not a PNG or JPEG), scanner.too_large,
// scanner.unsupported (frame format we cannot convert), scanner.io,
// scanner.bad_option.
// Thread safety: one scan() at a time per object. SANE is process-global: open at
// most one SaneScanner per process at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "wardsync/hardware/status.hpp"

namespace wardsync::hardware {

inline constexpr int kMaxScanPages = 100;
inline constexpr std::size_t kMaxPageBytes = 25 * 1024 * 1024;
inline constexpr std::int64_t kMaxPagePixels = 64 * 1000 * 1000;  // A4 at 600 dpi is ~35 Mpx

struct ScannedPage {
  std::string mime_type;  // "image/png" or "image/jpeg"
  std::vector<std::uint8_t> bytes;
  int width_px = 0;
  int height_px = 0;
};

struct ScanResult {
  std::vector<ScannedPage> pages;
  std::size_t page_count() const { return pages.size(); }
};

struct ScanRequest {
  int resolution_dpi = 200;  // legible for papers, small enough to replicate
  bool color = false;
  bool use_feeder = false;   // ADF: scan until the feeder is empty
  int max_pages = 50;        // <= kMaxScanPages
};

class DocumentScanner {
 public:
  virtual ~DocumentScanner() = default;
  [[nodiscard]] virtual Result<ScanResult> scan(const ScanRequest& request) = 0;
  virtual std::string describe() const = 0;
};

// Returns the *.png / *.jpg / *.jpeg files of a folder in name order as pages
// (each validated by its signature and header). The folder is left as it is.
std::unique_ptr<DocumentScanner> make_folder_scanner(std::filesystem::path folder);

// SANE device names visible now ("test:0", "epson2:libusb:001:004").
[[nodiscard]] Result<std::vector<std::string>> list_sane_devices();
// Opens a SANE device; pages come back as PNG (8-bit grey or RGB, or 1-bit line art).
[[nodiscard]] Result<std::unique_ptr<DocumentScanner>> open_sane_scanner(const std::string& device);

}  // namespace wardsync::hardware
