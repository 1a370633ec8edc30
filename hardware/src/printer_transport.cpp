#include "wardsync/hardware/printer_transport.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <asio.hpp>
#include <cerrno>
#include <chrono>
#include <cstring>

#include "fd_internal.hpp"

namespace wardsync::hardware {
namespace {

constexpr const char* kUnreachableVi = "Không kết nối được máy in";
constexpr const char* kTimeoutVi = "Máy in không phản hồi (hết giấy hoặc kẹt giấy?)";
constexpr const char* kIoVi = "Lỗi khi gửi dữ liệu tới máy in";

Status unreachable(const std::string& what) {
  return Status(ErrorKind::kUnreachable, "printer.unreachable", what, kUnreachableVi);
}
Status timed_out(const std::string& what) {
  return Status(ErrorKind::kTimeout, "printer.timeout", what, kTimeoutVi);
}
Status io_error(const std::string& what) {
  return Status(ErrorKind::kIo, "printer.io", what, kIoVi);
}
Status bad_option(const std::string& what) {
  return Status(ErrorKind::kInvalidInput, "printer.bad_option", what, kIoVi);
}

bool is_unreachable_error(const std::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::host_unreachable ||
         ec == asio::error::network_unreachable || ec == asio::error::host_not_found ||
         ec == asio::error::host_not_found_try_again || ec == asio::error::no_data ||
         ec == asio::error::service_not_found;
}

// Runs the io_context until `done` or the deadline. On timeout the caller closes
// the I/O object, which makes the pending handler complete with operation_aborted.
bool run_until(asio::io_context& io, const bool& done, int timeout_ms) {
  io.restart();
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) return false;
    if (io.run_one_for(deadline - now) == 0 && io.stopped()) {
      if (!done) return false;
    }
  }
  return true;
}

class TcpPrinter final : public PrinterTransport {
 public:
  explicit TcpPrinter(TcpPrinterOptions o) : o_(std::move(o)) {}

  std::string describe() const override {
    return "tcp://" + o_.host + ":" + std::to_string(o_.port);
  }

  Status send(std::span<const std::uint8_t> bytes) override {
    if (o_.connect_timeout_ms <= 0 || o_.write_timeout_ms <= 0 || o_.port == 0) {
      return bad_option("timeouts and port must be positive");
    }
    try {
      return send_or_throw(bytes);
    } catch (const std::exception& e) {  // Asio may throw (e.g. out of descriptors)
      return io_error(describe() + ": " + e.what());
    }
  }

 private:
  Status send_or_throw(std::span<const std::uint8_t> bytes) {
    asio::io_context io;
    asio::ip::tcp::resolver resolver(io);
    asio::ip::tcp::socket socket(io);
    bool connected = false;
    std::error_code ec;
    resolver.async_resolve(
        o_.host, std::to_string(o_.port),
        [&](const std::error_code& rec, const asio::ip::tcp::resolver::results_type& results) {
          if (rec) {
            ec = rec;
            connected = true;
            return;
          }
          asio::async_connect(socket, results,
                              [&](const std::error_code& cec, const asio::ip::tcp::endpoint&) {
                                ec = cec;
                                connected = true;
                              });
        });
    if (!run_until(io, connected, o_.connect_timeout_ms)) {
      resolver.cancel();
      std::error_code ignored;
      socket.close(ignored);
      return timed_out(describe() + ": no connection within " +
                       std::to_string(o_.connect_timeout_ms) + " ms");
    }
    if (ec) {
      if (is_unreachable_error(ec)) return unreachable(describe() + ": " + ec.message());
      return io_error(describe() + ": connect: " + ec.message());
    }
    bool written = false;
    asio::async_write(socket, asio::buffer(bytes.data(), bytes.size()),
                      [&](const std::error_code& wec, std::size_t) {
                        ec = wec;
                        written = true;
                      });
    if (!run_until(io, written, o_.write_timeout_ms)) {
      std::error_code ignored;
      socket.close(ignored);
      return timed_out(describe() + ": printer did not take " + std::to_string(bytes.size()) +
                       " bytes within " + std::to_string(o_.write_timeout_ms) +
                       " ms (paper out, cover open or offline?)");
    }
    if (ec) return io_error(describe() + ": write: " + ec.message());
    // Orderly close so the printer sees the end of the job at once.
    std::error_code ignored;
    socket.shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
    socket.close(ignored);
    return Status::ok();
  }

  TcpPrinterOptions o_;
};

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

class DevicePrinter final : public PrinterTransport {
 public:
  explicit DevicePrinter(DevicePrinterOptions o) : o_(std::move(o)) {}
  std::string describe() const override { return o_.path; }

  Status send(std::span<const std::uint8_t> bytes) override {
    if (o_.path.empty() || o_.write_timeout_ms <= 0) return bad_option("path and timeout required");
    if (o_.baud_rate != 0 && baud_constant(o_.baud_rate) == B0) {
      return bad_option("unsupported baud rate " + std::to_string(o_.baud_rate));
    }
    // O_NONBLOCK: opening a FIFO without a reader or a port waiting for carrier
    // must fail now, not hang; writes then go through Asio with a deadline.
    internal::UniqueFd fd(::open(o_.path.c_str(), O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
    if (!fd.valid()) {
      const int err = errno;
      if (err == ENOENT || err == ENXIO || err == ENODEV || err == EACCES || err == EBUSY) {
        return unreachable(o_.path + ": " + std::strerror(err));
      }
      return io_error(o_.path + ": open: " + std::strerror(err));
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0) return io_error(o_.path + ": fstat failed");
    if (S_ISREG(st.st_mode)) return write_regular(fd.get(), bytes);
    if (o_.baud_rate != 0) {
      if (Status s = configure_serial(fd.get()); !s.is_ok()) return s;
    }
    try {
      return write_with_deadline(std::move(fd), bytes);
    } catch (const std::exception& e) {
      return io_error(o_.path + ": " + e.what());
    }
  }

 private:
  // Regular files (captures, tests) cannot be waited on with epoll; they never
  // block for long either, so a plain loop is right.
  Status write_regular(int fd, std::span<const std::uint8_t> bytes) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return io_error(o_.path + ": write: " + std::strerror(errno));
      done += static_cast<std::size_t>(n);
    }
    return Status::ok();
  }

  Status configure_serial(int fd) {
    termios tio{};
    if (::tcgetattr(fd, &tio) != 0) {
      return bad_option(o_.path + " is not a serial port but a baud rate was set");
    }
    ::cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    ::cfsetispeed(&tio, baud_constant(o_.baud_rate));
    ::cfsetospeed(&tio, baud_constant(o_.baud_rate));
    if (::tcsetattr(fd, TCSANOW, &tio) != 0) return io_error(o_.path + ": tcsetattr failed");
    return Status::ok();
  }

  Status write_with_deadline(internal::UniqueFd fd, std::span<const std::uint8_t> bytes) {
    asio::io_context io;
    asio::posix::stream_descriptor stream(io);
    stream.assign(fd.release());
    std::error_code ec;
    bool written = false;
    asio::async_write(stream, asio::buffer(bytes.data(), bytes.size()),
                      [&](const std::error_code& wec, std::size_t) {
                        ec = wec;
                        written = true;
                      });
    if (!run_until(io, written, o_.write_timeout_ms)) {
      std::error_code ignored;
      stream.close(ignored);
      return timed_out(o_.path + ": device did not take " + std::to_string(bytes.size()) +
                       " bytes within " + std::to_string(o_.write_timeout_ms) +
                       " ms (paper out, cover open or offline?)");
    }
    if (ec) {
      if (ec == asio::error::broken_pipe) return unreachable(o_.path + ": reader went away");
      return io_error(o_.path + ": write: " + ec.message());
    }
    return Status::ok();
  }

  DevicePrinterOptions o_;
};

}  // namespace

std::unique_ptr<PrinterTransport> make_tcp_printer(TcpPrinterOptions options) {
  return std::make_unique<TcpPrinter>(std::move(options));
}

std::unique_ptr<PrinterTransport> make_device_printer(DevicePrinterOptions options) {
  return std::make_unique<DevicePrinter>(std::move(options));
}

}  // namespace wardsync::hardware
