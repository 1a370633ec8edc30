#include "wardsync/hardware/code_reader.hpp"

#include <fcntl.h>
#include <termios.h>

#include <asio.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "fd_internal.hpp"

namespace wardsync::hardware {
namespace {

Status reader_timeout() {
  return Status(ErrorKind::kTimeout, "reader.timeout", "nothing scanned in time", "");
}

speed_t baud_constant(int baud) {
  switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    default: return B0;
  }
}

class FdCodeReader final : public CodeReader {
 public:
  FdCodeReader(int fd, std::size_t max_line_bytes) : stream_(io_), max_(max_line_bytes) {
    stream_.assign(fd);
  }

  Result<std::string> read_line(int timeout_ms) override {
    try {
      return read_line_or_throw(timeout_ms);
    } catch (const std::exception& e) {
      return Status(ErrorKind::kIo, "reader.io", e.what(), "Lỗi đầu đọc mã");
    }
  }

 private:
  // Pops one complete line from buffer_ if there is one.
  std::optional<Result<std::string>> take_line() {
    for (;;) {
      const std::size_t end = buffer_.find_first_of("\r\n");
      if (end == std::string::npos) {
        if (buffer_.size() > max_) {  // no terminator yet and already too long
          buffer_.clear();
          discarding_ = true;
          return Result<std::string>(too_long());
        }
        return std::nullopt;
      }
      std::string line = buffer_.substr(0, end);
      std::size_t skip = end + 1;
      if (buffer_[end] == '\r' && skip < buffer_.size() && buffer_[skip] == '\n') ++skip;
      buffer_.erase(0, skip);
      if (discarding_) {  // tail of a line already reported as too long
        discarding_ = false;
        continue;
      }
      if (line.size() > max_) return Result<std::string>(too_long());
      if (line.empty()) continue;  // the LF of a CR+LF split across reads, or a stray Enter
      return Result<std::string>(std::move(line));
    }
  }

  Status too_long() const {
    return Status(ErrorKind::kTooLarge, "reader.too_long",
                  "scanned line longer than " + std::to_string(max_) + " bytes, dropped",
                  "Mã quét quá dài");
  }

  Result<std::string> read_line_or_throw(int timeout_ms) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (auto line = take_line()) return std::move(*line);
      if (closed_) return Status(ErrorKind::kIo, "reader.closed", "scanner stream closed", "");
      const auto now = std::chrono::steady_clock::now();
      if (now >= deadline) return reader_timeout();
      bool done = false;
      std::error_code ec;
      std::size_t n = 0;
      stream_.async_read_some(asio::buffer(chunk_), [&](const std::error_code& e, std::size_t k) {
        ec = e;
        n = k;
        done = true;
      });
      io_.restart();
      io_.run_for(deadline - now);
      if (!done) {
        // Cancel and let the aborted handler run before `done` goes out of scope.
        stream_.cancel();
        io_.restart();
        io_.run();
        return reader_timeout();
      }
      if (ec == asio::error::eof) {
        closed_ = true;
        if (!buffer_.empty() && !discarding_) {
          buffer_ += '\n';  // a last line without terminator still counts
          continue;
        }
        continue;
      }
      if (ec) return Status(ErrorKind::kIo, "reader.io", ec.message(), "Lỗi đầu đọc mã");
      buffer_.append(chunk_.data(), n);
    }
  }

  asio::io_context io_;
  asio::posix::stream_descriptor stream_;
  std::size_t max_;
  std::array<char, 512> chunk_{};
  std::string buffer_;
  bool discarding_ = false;
  bool closed_ = false;
};

}  // namespace

Result<std::string> SimulatedCodeReader::read_line(int /*timeout_ms*/) {
  if (lines_.empty()) return reader_timeout();
  std::string line = std::move(lines_.front());
  lines_.pop_front();
  return line;
}

std::unique_ptr<CodeReader> make_fd_code_reader(int fd, std::size_t max_line_bytes) {
  return std::make_unique<FdCodeReader>(fd, max_line_bytes);
}

Result<std::unique_ptr<CodeReader>> open_device_code_reader(DeviceCodeReaderOptions options) {
  if (options.max_line_bytes == 0 || options.max_line_bytes > 64 * 1024) {
    return Status(ErrorKind::kInvalidInput, "reader.bad_option", "max_line_bytes out of range", "");
  }
  internal::UniqueFd fd(::open(options.path.c_str(), O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd.valid()) {
    return Status(ErrorKind::kUnreachable, "reader.unreachable",
                  options.path + ": " + std::strerror(errno), "Không kết nối được đầu đọc mã");
  }
  if (options.baud_rate != 0) {
    termios tio{};
    if (baud_constant(options.baud_rate) == B0 || ::tcgetattr(fd.get(), &tio) != 0) {
      return Status(ErrorKind::kInvalidInput, "reader.bad_option",
                    options.path + ": not a serial port or unsupported baud rate", "");
    }
    ::cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    ::cfsetispeed(&tio, baud_constant(options.baud_rate));
    ::cfsetospeed(&tio, baud_constant(options.baud_rate));
    if (::tcsetattr(fd.get(), TCSANOW, &tio) != 0) {
      return Status(ErrorKind::kIo, "reader.io", options.path + ": tcsetattr failed", "");
    }
  }
  try {
    return make_fd_code_reader(fd.release(), options.max_line_bytes);
  } catch (const std::exception& e) {  // the reactor refused the descriptor
    return Status(ErrorKind::kInvalidInput, "reader.bad_option",
                  options.path + ": cannot be watched: " + e.what(), "");
  }
}

Result<ScannedCode> interpret_scan(std::string_view line) {
  ScannedCode code;
  code.raw = std::string(line);
  code.kind = classify_scanned_payload(line);
  switch (code.kind) {
    case ScannedKind::kCccd: {
      auto card = parse_cccd_qr(line);
      if (!card.is_ok()) return card.status();
      code.cccd = std::move(card).value();
      return code;
    }
    case ScannedKind::kReceipt: {
      auto receipt = parse_receipt_qr(line);
      if (!receipt.is_ok()) return receipt.status();
      code.receipt = std::move(receipt).value();
      return code;
    }
    case ScannedKind::kUnknown: break;
  }
  return Status(ErrorKind::kInvalidInput, "scan.unknown_code",
                "not a CCCD card QR nor a wardsync receipt QR",
                "Mã không phải mã QR CCCD hay mã phiếu hẹn");
}

}  // namespace wardsync::hardware
