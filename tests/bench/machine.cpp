// The machine header every benchmark prints: figures mean little without it.
#include <google/protobuf/stubs/common.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cstdio>
#include <ctime>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "bench.hpp"

namespace wardsync::bench {

namespace {

struct CpuInfo {
  std::string model = "?";
  int processors = 0;
};

CpuInfo read_cpuinfo() {
  CpuInfo info;
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("processor", 0) == 0) ++info.processors;
    if (info.model == "?" && line.rfind("model name", 0) == 0) {
      auto colon = line.find(':');
      if (colon != std::string::npos) {
        std::size_t start = line.find_first_not_of(" \t", colon + 1);
        info.model = start == std::string::npos ? "" : line.substr(start);
      }
    }
  }
  return info;
}

std::string protobuf_version() {
  int v = GOOGLE_PROTOBUF_VERSION;  // e.g. 3021012
  return std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
         std::to_string(v % 1000);
}

}  // namespace

std::string utc_now() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  if (!(in >> a >> b >> c)) return "?";
  return a + " " + b + " " + c;
}

void print_machine_header(const std::string& title) {
  CpuInfo cpu = read_cpuinfo();
  std::printf("%s\n", title.c_str());
  std::printf("date:     %s\n", utc_now().c_str());
  std::printf("machine:  %u cores (std::thread::hardware_concurrency %u, /proc/cpuinfo %d processors)\n",
              std::thread::hardware_concurrency(), std::thread::hardware_concurrency(), cpu.processors);
  std::printf("cpu:      %s\n", cpu.model.c_str());
  std::printf("versions: SQLite %s, libsodium %s, protobuf %s\n", sqlite3_libversion(),
              sodium_version_string(), protobuf_version().c_str());
  std::printf("load:     %s (1, 5, 15 min) at start\n", load_average().c_str());
}

std::filesystem::path make_run_dir(const std::string& parent) {
  std::filesystem::path base;
  if (!parent.empty()) {
    base = parent;
  } else if (const char* tmp = std::getenv("TMPDIR"); tmp != nullptr && *tmp != '\0') {
    base = tmp;
  } else {
    base = "/tmp";
  }
  std::filesystem::create_directories(base);
  std::string templ = (base / "wardsync-bench-XXXXXX").string();
  if (mkdtemp(templ.data()) == nullptr) {
    throw std::runtime_error("cannot create a directory in " + base.string());
  }
  return templ;
}

}  // namespace wardsync::bench
