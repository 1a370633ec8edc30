// How ESC/POS bytes reach a receipt printer: a network printer on TCP port 9100,
// or a device file (USB printer class /dev/usb/lp0, a serial port /dev/ttyS0 or
// /dev/ttyUSB0). Each send() opens the connection, writes the whole job and closes
// it, so a printer that was power-cycled between slips is simply reconnected.
//
// Nothing here may block the node forever: connect and write each have a deadline.
// A printer that is out of paper stops reading; its TCP window or pipe fills and
// the write deadline turns that into printer.timeout.
//
// Errors: printer.unreachable (refused, no route, no such host/device, no reader),
// printer.timeout, printer.io, printer.bad_option.
// Thread safety: one send() at a time per transport object.
// Signals: writing to a pipe or device whose reader vanished raises SIGPIPE; the
// process (wardnode, the simulator) must ignore SIGPIPE so that surfaces here as
// printer.unreachable instead of killing it. TCP sends never raise it.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "wardsync/hardware/status.hpp"

namespace wardsync::hardware {

class PrinterTransport {
 public:
  virtual ~PrinterTransport() = default;
  [[nodiscard]] virtual Status send(std::span<const std::uint8_t> bytes) = 0;
  // "tcp://192.168.1.50:9100", "/dev/usb/lp0": for logs.
  virtual std::string describe() const = 0;
};

struct TcpPrinterOptions {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9100;
  int connect_timeout_ms = 3000;
  // For the whole job; a long slip is ~200 KB, seconds on a slow printer.
  int write_timeout_ms = 15000;
};
std::unique_ptr<PrinterTransport> make_tcp_printer(TcpPrinterOptions options);

struct DevicePrinterOptions {
  std::string path;
  int write_timeout_ms = 15000;
  // For serial ports only: 9600, 19200, 38400, 57600 or 115200 sets 8N1 raw mode;
  // 0 leaves the port as configured (and is required for non-tty devices).
  int baud_rate = 0;
};
std::unique_ptr<PrinterTransport> make_device_printer(DevicePrinterOptions options);

// Keeps every job in memory: the in-process printer for kiosk tests.
class MemoryPrinterTransport final : public PrinterTransport {
 public:
  Status send(std::span<const std::uint8_t> bytes) override {
    jobs_.emplace_back(bytes.begin(), bytes.end());
    return Status::ok();
  }
  std::string describe() const override { return "memory"; }
  const std::vector<std::vector<std::uint8_t>>& jobs() const { return jobs_; }

 private:
  std::vector<std::vector<std::uint8_t>> jobs_;
};

}  // namespace wardsync::hardware
