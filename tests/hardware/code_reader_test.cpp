// Goal: scanner lines arrive whole whatever the chunking and line ending, junk is
// bounded, an idle scanner times out, a vanished one reports closed; and scans are
// routed to the right parser. Method: a pipe stands in for the serial port or the
// keyboard-wedge bridge; the simulator feeds payloads directly.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "wardsync/hardware/code_reader.hpp"

using namespace wardsync::hardware;

namespace {

const std::string kCard =
    "001099012345||Trần Thị Bích Ngọc|01012000|Nữ|Xã Đạ Tẻh, Lâm Đồng|05052021";

struct Pipe {
  int r = -1;
  int w = -1;
  Pipe() {
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC | O_NONBLOCK) == 0);
    r = fds[0];
    w = fds[1];
  }
  ~Pipe() {
    if (w >= 0) ::close(w);
  }
  void put(const std::string& s) const { REQUIRE(::write(w, s.data(), s.size()) == static_cast<ssize_t>(s.size())); }
  void close_writer() {
    ::close(w);
    w = -1;
  }
};

}  // namespace

TEST_CASE("simulated reader returns fed payloads, then times out", "[hardware][reader]") {
  SimulatedCodeReader sim;
  sim.feed(kCard);
  sim.feed("WS1|A-1|K7Q2M9XA");
  CHECK(sim.read_line(10).value() == kCard);
  CHECK(sim.read_line(10).value() == "WS1|A-1|K7Q2M9XA");
  CHECK(sim.read_line(10).status().code() == "reader.timeout");
}

TEST_CASE("line reader over a pipe: endings, chunking, bounds, timeout, close", "[hardware][reader]") {
  Pipe p;
  auto reader = make_fd_code_reader(p.r, 64);
  SECTION("CR, LF and CRLF endings, split writes") {
    p.put("WS1|A-1|K7Q2");
    CHECK(reader->read_line(50).status().code() == "reader.timeout");  // line not finished yet
    p.put("M9XA\r");
    CHECK(reader->read_line(1000).value() == "WS1|A-1|K7Q2M9XA");
    p.put("\nsecond\nthird\r\n\r\n");
    CHECK(reader->read_line(1000).value() == "second");
    CHECK(reader->read_line(1000).value() == "third");
    CHECK(reader->read_line(50).status().code() == "reader.timeout");
  }
  SECTION("an over-long line is dropped whole and reading goes on") {
    p.put(std::string(100, 'x'));
    CHECK(reader->read_line(1000).status().code() == "reader.too_long");
    p.put(std::string(100, 'y') + "\nok\n");
    CHECK(reader->read_line(1000).value() == "ok");
    p.put(std::string(65, 'z') + "\nafter\n");  // too long but terminated in one chunk
    CHECK(reader->read_line(1000).status().code() == "reader.too_long");
    CHECK(reader->read_line(1000).value() == "after");
  }
  SECTION("end of stream: last unterminated line, then closed") {
    p.put("last");
    p.close_writer();
    CHECK(reader->read_line(1000).value() == "last");
    CHECK(reader->read_line(1000).status().code() == "reader.closed");
  }
}

TEST_CASE("opening scanner devices", "[hardware][reader]") {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("wardsync-hw-reader-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  CHECK(open_device_code_reader({(dir / "ttyACM9").string()}).status().code() ==
        "reader.unreachable");
  const auto file = dir / "plain.txt";
  std::ofstream(file) << "WS1|A-1|K7Q2M9XA\n";
  {
    // A regular file replays recorded scans (demo scripts), then reports closed.
    auto replay = open_device_code_reader({file.string()});
    REQUIRE(replay.is_ok());
    CHECK(replay.value()->read_line(1000).value() == "WS1|A-1|K7Q2M9XA");
    CHECK(replay.value()->read_line(1000).status().code() == "reader.closed");
  }
  DeviceCodeReaderOptions zero{file.string()};
  zero.max_line_bytes = 0;
  CHECK(open_device_code_reader(zero).status().code() == "reader.bad_option");
  const auto fifo = dir / "wedge.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  DeviceCodeReaderOptions serial{fifo.string()};
  serial.baud_rate = 9600;  // a FIFO is no tty
  CHECK(open_device_code_reader(serial).status().code() == "reader.bad_option");
  auto reader = open_device_code_reader({fifo.string()});
  REQUIRE(reader.is_ok());
  const int w = ::open(fifo.c_str(), O_WRONLY | O_CLOEXEC);
  REQUIRE(w >= 0);
  REQUIRE(::write(w, "WS1|A-1|K7Q2M9XA\n", 17) == 17);
  CHECK(reader.value()->read_line(1000).value() == "WS1|A-1|K7Q2M9XA");
  ::close(w);
  std::filesystem::remove_all(dir);
}

TEST_CASE("interpret_scan routes and validates", "[hardware][reader]") {
  const auto card = interpret_scan(kCard);
  REQUIRE(card.is_ok());
  CHECK(card.value().kind == ScannedKind::kCccd);
  REQUIRE(card.value().cccd.has_value());
  CHECK(card.value().cccd->full_name == "Trần Thị Bích Ngọc");
  CHECK(card.value().cccd->gender == Gender::kFemale);
  const auto receipt = interpret_scan("WS1|A-1|K7Q2M9XA");
  REQUIRE(receipt.is_ok());
  CHECK(receipt.value().receipt->lookup_code == "K7Q2M9XA");
  CHECK(interpret_scan("hello").status().code() == "scan.unknown_code");
  CHECK(interpret_scan("001099012345|x|y").status().code() == "cccd.too_few_fields");
  CHECK(interpret_scan("WS9|A|B").status().code() == "receipt.unsupported_version");
}
