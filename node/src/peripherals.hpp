// The office's peripherals as the node sees them: the receipt printer (`printer`
// in wardnode.conf), the document scanner (`scanner`) and the blob store that
// keeps scanned pages, content-addressed, beside the database (<datadir>/blobs).
// Nothing is opened at construction: the printer is connected per job and the
// scanner per scan, so `wardnode user` and `demo` never touch hardware, and a
// printer switched off between two slips is simply reconnected.
//
// Thread safety: every method may be called from any thread. Print jobs are
// serialized (one slip on the paper at a time), so are scans (SANE is
// process-global) and blob writes.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config.hpp"
#include "log.hpp"
#include "wardsync/hardware/slip.hpp"
#include "wardsync/hardware/status.hpp"
#include "wardsync/sync/blob_store.hpp"

namespace wardsync::node {

// A scanned page kept in the blob store.
struct StoredPage {
  std::string hash;  // BLAKE2b-256, hex: the blob's name
  std::string mime_type;
  std::uint64_t bytes = 0;
  int width_px = 0;
  int height_px = 0;
};

class Peripherals {
 public:
  Peripherals(const Config& config, Logger& log);
  ~Peripherals();
  Peripherals(const Peripherals&) = delete;
  Peripherals& operator=(const Peripherals&) = delete;

  bool has_printer() const { return config_.printer != "none"; }
  std::string printer_name() const { return config_.printer; }
  // Renders, encodes and sends one slip. Errors: printer.* (unreachable, timeout,
  // io), slip.* / escpos.* for a slip that cannot be drawn, printer.none.
  [[nodiscard]] hardware::Status print(const hardware::Slip& slip);

  bool has_scanner() const { return config_.scanner != "none"; }
  // Scans the pages in the feeder (or the simulator's folder) into the blob
  // store and remembers them as recent scans. Errors: scanner.*, scanner.none,
  // blob.io.
  [[nodiscard]] hardware::Result<std::vector<StoredPage>> scan();
  // A page scanned here within the last hour (kiosk filings may only attach those).
  std::optional<StoredPage> recent_scan(const std::string& hash) const;

  // Whole blob (a page is at most hardware::kMaxPageBytes).
  std::optional<std::string> read_blob(const std::string& hash) const;

 private:
  const Config& config_;
  Logger& log_;
  mutable std::mutex print_mu_;
  mutable std::mutex scan_mu_;
  std::unique_ptr<BlobStore> blobs_;  // GUARDED_BY(scan_mu_) for writes
  mutable std::mutex recent_mu_;
  struct Recent {
    StoredPage page;
    std::chrono::steady_clock::time_point at;
  };
  std::map<std::string, Recent> recent_;  // GUARDED_BY(recent_mu_), bounded
};

}  // namespace wardsync::node
