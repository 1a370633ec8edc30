// wardsync-printer-sim: a receipt printer on a TCP port (like a network printer's
// raw port 9100) and/or fed from a byte-stream file. Each connection or file is
// one ESC/POS stream; every cut ends a slip, written to --out as slip-NNNN.png /
// .json / .txt (see printer_sim.hpp). Malformed streams are rejected with a clear
// error (error-NNNN.json and a line on stderr) and the simulator keeps serving.
//
// Prints "listening on 127.0.0.1:PORT" once ready so a test can use --port 0.
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <string>

#include <asio.hpp>

#include "wardsync/hardware/printer_sim.hpp"

namespace hw = wardsync::hardware;

namespace {

struct Args {
  std::optional<int> port;
  std::string bind = "127.0.0.1";
  std::string input;
  std::string out = "printer-out";
  int paper_width_dots = hw::kPaperWidth80mmDots;
  bool once = false;
  bool ocr = true;
  std::string ocr_lang = "vie";
  int idle_timeout_ms = 5000;
  std::size_t max_bytes = 8 * 1024 * 1024;
};

void usage() {
  std::cerr << "usage: wardsync-printer-sim [--port N (default 9100; 0 = any)] [--bind ADDR]\n"
               "         [--input FILE] [--out DIR] [--width 576|384|...] [--once]\n"
               "         [--no-ocr] [--ocr-lang vie] [--idle-timeout-ms N] [--max-bytes N]\n"
               "Without --input, listens on --port (default 9100). --bind defaults to 127.0.0.1.\n";
}

bool parse_int(const char* s, long lo, long hi, long* out) {
  char* end = nullptr;
  const long v = std::strtol(s, &end, 10);
  if (end == s || *end != '\0' || v < lo || v > hi) return false;
  *out = v;
  return true;
}

std::optional<Args> parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    long v = 0;
    if (k == "--port") {
      const char* s = next();
      if (!s || !parse_int(s, 0, 65535, &v)) return std::nullopt;
      a.port = static_cast<int>(v);
    } else if (k == "--bind") {
      const char* s = next();
      if (!s) return std::nullopt;
      a.bind = s;
    } else if (k == "--input") {
      const char* s = next();
      if (!s) return std::nullopt;
      a.input = s;
    } else if (k == "--out") {
      const char* s = next();
      if (!s) return std::nullopt;
      a.out = s;
    } else if (k == "--width") {
      const char* s = next();
      if (!s || !parse_int(s, 64, hw::kMaxPaperWidthDots, &v) || v % 8 != 0) return std::nullopt;
      a.paper_width_dots = static_cast<int>(v);
    } else if (k == "--idle-timeout-ms") {
      const char* s = next();
      if (!s || !parse_int(s, 1, 600000, &v)) return std::nullopt;
      a.idle_timeout_ms = static_cast<int>(v);
    } else if (k == "--max-bytes") {
      const char* s = next();
      if (!s || !parse_int(s, 1, 256L * 1024 * 1024, &v)) return std::nullopt;
      a.max_bytes = static_cast<std::size_t>(v);
    } else if (k == "--ocr-lang") {
      const char* s = next();
      if (!s) return std::nullopt;
      a.ocr_lang = s;
    } else if (k == "--once") {
      a.once = true;
    } else if (k == "--no-ocr") {
      a.ocr = false;
    } else {
      return std::nullopt;
    }
  }
  if (a.input.empty() && !a.port) a.port = 9100;
  return a;
}

void report(const hw::SimStreamResult& r, const std::string& source) {
  for (const auto& f : r.json_files) std::cout << "slip " << f.string() << "\n";
  if (!r.error.is_ok()) {
    std::cerr << "wardsync-printer-sim: rejected stream from " << source << ": "
              << r.error.to_string() << "\n";
    std::cout << "rejected " << r.error.code() << " at " << r.error_offset << "\n";
  }
  std::cout.flush();
}

// Reads one connection to EOF. Bounded in bytes and in idle time so a client
// that never closes (or floods) cannot hold the simulator.
std::vector<std::uint8_t> read_connection(asio::io_context& io, asio::ip::tcp::socket& socket,
                                          const Args& args, bool* too_large) {
  std::vector<std::uint8_t> data;
  std::array<std::uint8_t, 64 * 1024> chunk{};
  for (;;) {
    bool done = false;
    std::error_code ec;
    std::size_t n = 0;
    socket.async_read_some(asio::buffer(chunk), [&](const std::error_code& e, std::size_t k) {
      ec = e;
      n = k;
      done = true;
    });
    io.restart();
    io.run_for(std::chrono::milliseconds(args.idle_timeout_ms));
    if (!done) {  // idle: treat as end of job, like a printer's job timeout
      std::error_code ignored;
      socket.cancel(ignored);
      io.restart();
      io.run();
      return data;
    }
    data.insert(data.end(), chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n));
    if (data.size() > args.max_bytes) {
      *too_large = true;
      return data;
    }
    if (ec) return data;  // eof or reset: the job is what arrived
  }
}

int serve(const Args& args, hw::PrinterSimulator& sim) {
  asio::io_context io;
  asio::ip::tcp::endpoint endpoint(asio::ip::make_address(args.bind),
                                   static_cast<std::uint16_t>(*args.port));
  asio::ip::tcp::acceptor acceptor(io, endpoint);
  std::cout << "listening on " << args.bind << ":" << acceptor.local_endpoint().port()
            << std::endl;
  int failures = 0;
  for (;;) {
    asio::ip::tcp::socket socket(io);
    acceptor.accept(socket);
    std::error_code ec;
    const auto peer = socket.remote_endpoint(ec);
    const std::string source = ec ? "tcp" : peer.address().to_string() + ":" + std::to_string(peer.port());
    bool too_large = false;
    std::vector<std::uint8_t> data = read_connection(io, socket, args, &too_large);
    socket.close(ec);
    hw::SimStreamResult r;
    if (too_large) {
      r.error = hw::Status(hw::ErrorKind::kTooLarge, "escpos.too_large",
                           "connection sent more than " + std::to_string(args.max_bytes) +
                               " bytes");
    } else {
      r = sim.accept(data);
    }
    report(r, source);
    if (!r.error.is_ok()) ++failures;
    if (args.once) return failures == 0 ? 0 : 1;
  }
}

}  // namespace

int main(int argc, char** argv) {
  // A client that disconnects mid-job must not kill the simulator.
  std::signal(SIGPIPE, SIG_IGN);
  const auto args = parse_args(argc, argv);
  if (!args) {
    usage();
    return 2;
  }
  std::unique_ptr<hw::OcrEngine> ocr;
  if (args->ocr) {
    auto engine = hw::OcrEngine::create(args->ocr_lang);
    if (!engine.is_ok()) {
      std::cerr << "wardsync-printer-sim: " << engine.status().to_string()
                << " (use --no-ocr to run without text read-back)\n";
      return 2;
    }
    ocr = std::move(engine).value();
  }
  hw::PrinterSimOptions options;
  options.out_dir = args->out;
  options.limits.paper_width_dots = args->paper_width_dots;
  options.limits.max_stream_bytes = args->max_bytes;
  hw::PrinterSimulator sim(options, ocr.get());
  int rc = 0;
  try {
    if (!args->input.empty()) {
      std::ifstream f(args->input, std::ios::binary);
      if (!f) {
        std::cerr << "wardsync-printer-sim: cannot open " << args->input << "\n";
        return 2;
      }
      // Bounded read: one byte past the limit is enough to know it is too large.
      std::vector<std::uint8_t> data;
      data.reserve(4096);
      char c;
      while (data.size() <= args->max_bytes && f.get(c)) data.push_back(static_cast<std::uint8_t>(c));
      const auto r = sim.accept(data);
      report(r, args->input);
      if (!r.error.is_ok()) rc = 1;
    }
    if (args->port) {
      const int served = serve(*args, sim);
      rc = rc != 0 ? rc : served;
    }
  } catch (const std::exception& e) {  // bind failure, out of descriptors
    std::cerr << "wardsync-printer-sim: " << e.what() << "\n";
    return 2;
  }
  return rc;
}
