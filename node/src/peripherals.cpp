#include "peripherals.hpp"

#include "wardsync/hardware/escpos.hpp"
#include "wardsync/hardware/printer_transport.hpp"
#include "wardsync/hardware/receipt_printer.hpp"
#include "wardsync/hardware/scanner.hpp"

namespace wardsync::node {

namespace {

constexpr std::size_t kRecentScansMax = 512;
constexpr auto kRecentScanTtl = std::chrono::hours(1);

hardware::Status no_device(const char* code, const char* en, const char* vi) {
  return hardware::Status(hardware::ErrorKind::kUnreachable, code, en, vi);
}

std::unique_ptr<hardware::PrinterTransport> transport_of(const std::string& spec) {
  if (spec.rfind("tcp:", 0) == 0) {
    std::size_t colon = spec.rfind(':');
    hardware::TcpPrinterOptions o;
    o.host = spec.substr(4, colon - 4);
    o.port = static_cast<std::uint16_t>(std::stoi(spec.substr(colon + 1)));  // validated by the config
    o.connect_timeout_ms = 3000;
    o.write_timeout_ms = 15000;
    return hardware::make_tcp_printer(o);
  }
  hardware::DevicePrinterOptions o;
  o.path = spec;
  return hardware::make_device_printer(o);
}

}  // namespace

Peripherals::Peripherals(const Config& config, Logger& log)
    : config_(config), log_(log), blobs_(std::make_unique<BlobStore>(config.path_of(config.blob_dir))) {}

Peripherals::~Peripherals() = default;

hardware::Status Peripherals::print(const hardware::Slip& slip) {
  if (!has_printer())
    return no_device("printer.none", "no receipt printer is configured (printer = none)",
                     "Chưa cấu hình máy in phiếu.");
  std::lock_guard<std::mutex> lock(print_mu_);
  // A new transport per job: the printer may have been power-cycled since the last slip.
  hardware::ReceiptPrinter printer(hardware::SlipRenderOptions{}, hardware::EscPosOptions{},
                                   transport_of(config_.printer));
  hardware::Status s = printer.print(slip);
  if (!s.is_ok()) log_.warning("printer", config_.printer + ": " + s.to_string());
  return s;
}

hardware::Result<std::vector<StoredPage>> Peripherals::scan() {
  if (!has_scanner())
    return no_device("scanner.none", "no document scanner is configured (scanner = none)",
                     "Chưa cấu hình máy quét giấy tờ.");
  std::lock_guard<std::mutex> lock(scan_mu_);
  std::unique_ptr<hardware::DocumentScanner> scanner;
  if (config_.scanner.rfind("folder:", 0) == 0) {
    scanner = hardware::make_folder_scanner(config_.path_of(config_.scanner.substr(7)));
  } else {
    auto opened = hardware::open_sane_scanner(config_.scanner.substr(5));
    if (!opened.is_ok()) return opened.status();
    scanner = std::move(opened).value();
  }
  hardware::ScanRequest req;
  req.max_pages = 20;
  auto result = scanner->scan(req);
  if (!result.is_ok()) {
    log_.warning("scanner", scanner->describe() + ": " + result.status().to_string());
    return result.status();
  }
  std::vector<StoredPage> pages;
  for (const auto& p : result.value().pages) {
    auto h = blobs_->put(std::string(p.bytes.begin(), p.bytes.end()));
    if (!h.is_ok()) {
      log_.error("blobs", "cannot store a scanned page: " + h.status().to_string());
      return hardware::Status(hardware::ErrorKind::kIo, "blob.io", "cannot store the scanned page",
                              "Không lưu được trang đã quét; báo bộ phận CNTT.");
    }
    pages.push_back({to_hex(h.value()), p.mime_type, p.bytes.size(), p.width_px, p.height_px});
  }
  std::lock_guard<std::mutex> rl(recent_mu_);
  auto now = std::chrono::steady_clock::now();
  for (auto it = recent_.begin(); it != recent_.end();) it = now - it->second.at > kRecentScanTtl ? recent_.erase(it) : std::next(it);
  for (const auto& p : pages) {
    if (recent_.size() >= kRecentScansMax) {
      auto oldest = recent_.begin();
      for (auto it = recent_.begin(); it != recent_.end(); ++it)
        if (it->second.at < oldest->second.at) oldest = it;
      recent_.erase(oldest);
    }
    recent_[p.hash] = {p, now};
  }
  log_.info("scanner", std::to_string(pages.size()) + " page(s) scanned");
  return pages;
}

std::optional<StoredPage> Peripherals::recent_scan(const std::string& hash) const {
  std::lock_guard<std::mutex> lock(recent_mu_);
  auto it = recent_.find(hash);
  if (it == recent_.end() || std::chrono::steady_clock::now() - it->second.at > kRecentScanTtl) return std::nullopt;
  return it->second.page;
}

std::optional<std::string> Peripherals::read_blob(const std::string& hash) const {
  Hash h{};
  if (hash.size() != 2 * h.size() || !from_hex(hash, h)) return std::nullopt;
  auto size = blobs_->size(h);
  if (!size || *size > hardware::kMaxPageBytes) return std::nullopt;
  auto bytes = blobs_->read(h, 0, static_cast<std::size_t>(*size));
  if (!bytes.is_ok()) return std::nullopt;
  return std::move(bytes).value();
}

}  // namespace wardsync::node
