// Goal: a slip reaches a printer over TCP and device files, and an absent or
// stalled printer becomes printer.unreachable / printer.timeout within the
// deadline instead of hanging the node. Method: a real TCP round-trip to the
// wardsync-printer-sim process on 127.0.0.1 (checking its PNG/JSON/OCR output),
// a listening socket that never reads (the paper-out printer), closed ports,
// FIFOs with and without a reader.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "process_util.hpp"
#include "slip_fixture.hpp"
#include "wardsync/hardware/escpos.hpp"
#include "wardsync/hardware/printer_transport.hpp"

using namespace wardsync::hardware;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<std::uint8_t> slip_bytes() {
  auto rendered = SlipRenderer(SlipRenderOptions{}).render(testing::receipt_slip());
  REQUIRE(rendered.is_ok());
  auto bytes = EscPosEncoder().encode(rendered.value());
  REQUIRE(bytes.is_ok());
  return std::move(bytes).value();
}

std::filesystem::path fresh_dir(const char* name) {
  const auto dir = std::filesystem::temp_directory_path() /
                   (std::string(name) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A bound, listening socket on 127.0.0.1 that never accepts or reads: the
// kernel completes the handshake, then the window fills like a printer out of paper.
struct StalledListener {
  int fd = -1;
  std::uint16_t port = 0;
  StalledListener() {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    auto* sa = reinterpret_cast<sockaddr*>(&a);
    if (::bind(fd, sa, sizeof a) != 0 || ::listen(fd, 1) != 0 || ::getsockname(fd, sa, &len) != 0) {
      return;
    }
    port = ntohs(a.sin_port);
  }
  ~StalledListener() { ::close(fd); }
};

std::uint16_t closed_port() {
  StalledListener l;  // bind, learn the port, close: nothing listens there now
  return l.port;
}

int parse_port(const std::string& line) {
  const auto colon = line.rfind(':');
  return colon == std::string::npos ? -1 : std::stoi(line.substr(colon + 1));
}

}  // namespace

TEST_CASE("TCP round-trip to the printer simulator process", "[hardware][printer][tcp]") {
  const auto dir = fresh_dir("wardsync-hw-tcp");
  testing::ChildProcess sim({WARDSYNC_PRINTER_SIM_PATH, "--port", "0", "--once", "--out",
                             dir.string()});
  REQUIRE(sim.started());
  const auto ready = sim.read_line(20000);
  REQUIRE(ready.has_value());
  REQUIRE(ready->rfind("listening on 127.0.0.1:", 0) == 0);
  TcpPrinterOptions o;
  o.port = static_cast<std::uint16_t>(parse_port(*ready));
  auto printer = make_tcp_printer(o);
  const Status st = printer->send(slip_bytes());
  INFO(st.to_string());
  REQUIRE(st.is_ok());
  REQUIRE(sim.wait(60000) == std::optional<int>(0));
  const std::string json = slurp(dir / "slip-0001.json");
  CHECK(json.find(std::string("\"qr_payloads\": [\"") + testing::kReceiptQr + "\"]") !=
        std::string::npos);
  CHECK(json.find("\"width_dots\": 576") != std::string::npos);
  const std::string text = slurp(dir / "slip-0001.txt");
  CHECK(text.find("Nguyễn Văn An") != std::string::npos);
  CHECK(text.find("Đăng ký khai sinh") != std::string::npos);
  const std::string png = slurp(dir / "slip-0001.png");
  REQUIRE(png.size() > 24);
  CHECK(png.compare(1, 3, "PNG") == 0);
  std::filesystem::remove_all(dir);
}

TEST_CASE("simulator process rejects garbage over TCP and from a file", "[hardware][printer][tcp]") {
  const auto dir = fresh_dir("wardsync-hw-tcp-bad");
  {
    testing::ChildProcess sim({WARDSYNC_PRINTER_SIM_PATH, "--port", "0", "--once", "--no-ocr",
                               "--out", dir.string()});
    const auto ready = sim.read_line(20000);
    REQUIRE(ready.has_value());
    TcpPrinterOptions o;
    o.port = static_cast<std::uint16_t>(parse_port(*ready));
    const std::vector<std::uint8_t> garbage = {0x1B, '@', 0x1D, '(', 'k', 0xFF, 0x7F, 49, 80};
    REQUIRE(make_tcp_printer(o)->send(garbage).is_ok());
    const auto line = sim.read_line(20000);
    REQUIRE(line.has_value());
    CHECK(*line == "rejected escpos.too_large at 2");
    CHECK(sim.wait(20000) == std::optional<int>(1));
    CHECK(slurp(dir / "error-0001.json").find("escpos.too_large") != std::string::npos);
  }
  {
    auto bytes = slip_bytes();
    bytes.resize(bytes.size() - 2);  // lose the cut
    const auto file = dir / "truncated.bin";
    std::ofstream(file, std::ios::binary)
        .write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    testing::ChildProcess sim({WARDSYNC_PRINTER_SIM_PATH, "--input", file.string(), "--no-ocr",
                               "--out", (dir / "file").string()});
    const auto line = sim.read_line(20000);
    REQUIRE(line.has_value());
    CHECK(line->rfind("rejected escpos.truncated", 0) == 0);
    CHECK(sim.wait(20000) == std::optional<int>(1));
  }
  {
    // A job over the simulator's byte bound is refused; the client sees ok (all
    // bytes buffered) or a reset, never a hang.
    testing::ChildProcess sim({WARDSYNC_PRINTER_SIM_PATH, "--port", "0", "--once", "--no-ocr",
                               "--max-bytes", "1000", "--out", (dir / "big").string()});
    const auto ready = sim.read_line(20000);
    REQUIRE(ready.has_value());
    TcpPrinterOptions o;
    o.port = static_cast<std::uint16_t>(parse_port(*ready));
    const Status st = make_tcp_printer(o)->send(slip_bytes());
    CHECK((st.is_ok() || st.code() == "printer.io"));
    const auto line = sim.read_line(20000);
    REQUIRE(line.has_value());
    CHECK(*line == "rejected escpos.too_large at 0");
    CHECK(sim.wait(20000) == std::optional<int>(1));
  }
  {
    testing::ChildProcess sim({WARDSYNC_PRINTER_SIM_PATH, "--port", "70000"});
    CHECK(sim.wait(20000) == std::optional<int>(2));  // usage error, not a crash
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("TCP printer that is not there is unreachable", "[hardware][printer][tcp]") {
  TcpPrinterOptions o;
  o.port = closed_port();
  o.connect_timeout_ms = 2000;
  const Status st = make_tcp_printer(o)->send(slip_bytes());
  CHECK(st.code() == "printer.unreachable");
  CHECK(st.kind() == ErrorKind::kUnreachable);
  CHECK_FALSE(st.message_vi().empty());
  TcpPrinterOptions bad_host = o;
  bad_host.host = "no-such-printer.invalid";
  CHECK(make_tcp_printer(bad_host)->send(slip_bytes()).code() == "printer.unreachable");
  TcpPrinterOptions zero = o;
  zero.write_timeout_ms = 0;
  CHECK(make_tcp_printer(zero)->send(slip_bytes()).code() == "printer.bad_option");
}

TEST_CASE("stalled TCP printer times out instead of blocking", "[hardware][printer][tcp]") {
  StalledListener stalled;
  REQUIRE(stalled.port != 0);
  TcpPrinterOptions o;
  o.port = stalled.port;
  o.write_timeout_ms = 500;
  std::vector<std::uint8_t> job(64 * 1024 * 1024, 0x0A);  // more than any socket buffer
  const auto t0 = Clock::now();
  const Status st = make_tcp_printer(o)->send(job);
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
  CHECK(st.code() == "printer.timeout");
  CHECK(st.kind() == ErrorKind::kTimeout);
  CHECK(ms >= 450);
  CHECK(ms < 5000);
}

TEST_CASE("device-file printer: file, missing device, FIFO without and with a stalled reader",
          "[hardware][printer][device]") {
  std::signal(SIGPIPE, SIG_IGN);  // as wardnode does: a vanished reader is an error value
  const auto dir = fresh_dir("wardsync-hw-dev");
  const auto bytes = slip_bytes();
  {
    const auto file = dir / "capture.bin";
    std::ofstream(file).close();
    DevicePrinterOptions o;
    o.path = file.string();
    REQUIRE(make_device_printer(o)->send(bytes).is_ok());
    const std::string got = slurp(file);
    CHECK(got.size() == bytes.size());
    CHECK(std::equal(got.begin(), got.end(), bytes.begin(),
                     [](char a, std::uint8_t b) { return static_cast<std::uint8_t>(a) == b; }));
    DevicePrinterOptions serial = o;
    serial.baud_rate = 19200;  // a regular file is no serial port
    CHECK(make_device_printer(serial)->send(bytes).is_ok());  // regular files skip termios
    serial.baud_rate = 12345;
    CHECK(make_device_printer(serial)->send(bytes).code() == "printer.bad_option");
  }
  {
    DevicePrinterOptions o;
    o.path = (dir / "no-such-lp0").string();
    CHECK(make_device_printer(o)->send(bytes).code() == "printer.unreachable");
  }
  const auto fifo = dir / "lp.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  {
    DevicePrinterOptions o;
    o.path = fifo.string();
    // No reader: the printer is switched off.
    CHECK(make_device_printer(o)->send(bytes).code() == "printer.unreachable");
  }
  {
    // A reader that never reads: the pipe fills like a printer out of paper.
    const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    REQUIRE(reader >= 0);
    DevicePrinterOptions o;
    o.path = fifo.string();
    o.write_timeout_ms = 300;
    std::vector<std::uint8_t> big(4 * 1024 * 1024, 0x0A);
    const auto t0 = Clock::now();
    const Status st = make_device_printer(o)->send(big);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0).count();
    CHECK(st.code() == "printer.timeout");
    CHECK(ms < 5000);
    ::close(reader);
  }
  {
    DevicePrinterOptions o;
    o.path = fifo.string();
    o.write_timeout_ms = 0;
    CHECK(make_device_printer(o)->send(bytes).code() == "printer.bad_option");
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("memory printer keeps jobs for in-process kiosk tests", "[hardware][printer]") {
  MemoryPrinterTransport mem;
  REQUIRE(mem.send(slip_bytes()).is_ok());
  REQUIRE(mem.jobs().size() == 1);
  const DecodeReport r = decode_escpos(mem.jobs()[0]);
  CHECK(r.error.is_ok());
  CHECK(r.slips.at(0).qr_payloads() == std::vector<std::string>{testing::kReceiptQr});
}
