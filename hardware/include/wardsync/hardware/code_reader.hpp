// QR / barcode readers. Kiosk scanners come in two flavours: serial (RS-232 or
// USB CDC, one payload per line) and keyboard wedge (the scanner types the payload
// and presses Enter; the kiosk bridges that input to a line stream). Both are
// "a source of lines", so one interface covers them, plus a simulator that feeds
// payloads from a test or a demo script.
//
// A line is ended by CR, LF or CRLF. Lines longer than the bound are dropped whole
// (reader.too_long) and reading goes on with the next one, so a scanner left in a
// strange mode cannot grow memory.
//
// Errors: reader.timeout (nothing scanned in time: normal at an idle kiosk),
// reader.too_long, reader.closed (device gone / end of stream), reader.io,
// reader.unreachable (cannot open the device).
// Thread safety: one reader is used by one thread.
#pragma once

#include <cstddef>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "wardsync/hardware/id_codes.hpp"
#include "wardsync/hardware/status.hpp"

namespace wardsync::hardware {

inline constexpr std::size_t kMaxScanLineBytes = 2048;

class CodeReader {
 public:
  virtual ~CodeReader() = default;
  // The next line without its terminator.
  [[nodiscard]] virtual Result<std::string> read_line(int timeout_ms) = 0;
};

// Deterministic: returns fed lines in order, reader.timeout at once when empty.
class SimulatedCodeReader final : public CodeReader {
 public:
  void feed(std::string line) { lines_.push_back(std::move(line)); }
  Result<std::string> read_line(int timeout_ms) override;

 private:
  std::deque<std::string> lines_;
};

struct DeviceCodeReaderOptions {
  // /dev/ttyACM0, /dev/ttyUSB0, a FIFO from a keyboard-wedge bridge, or a regular
  // file of recorded scans (replayed, then reader.closed).
  std::string path;
  int baud_rate = 0;  // serial ports: 9600..115200 sets 8N1 raw; 0 leaves the port alone
  std::size_t max_line_bytes = kMaxScanLineBytes;
};
[[nodiscard]] Result<std::unique_ptr<CodeReader>> open_device_code_reader(
    DeviceCodeReaderOptions options);
// Same, over an already open descriptor (pipe, pty, socket); takes ownership of fd.
std::unique_ptr<CodeReader> make_fd_code_reader(int fd,
                                                std::size_t max_line_bytes = kMaxScanLineBytes);

// A scanned line, recognised and validated.
struct ScannedCode {
  ScannedKind kind = ScannedKind::kUnknown;
  std::string raw;
  std::optional<CccdCard> cccd;      // kind == kCccd
  std::optional<ReceiptQr> receipt;  // kind == kReceipt
};
// Errors: the parser's (cccd.*, receipt.*), or scan.unknown_code.
[[nodiscard]] Result<ScannedCode> interpret_scan(std::string_view line);

}  // namespace wardsync::hardware
