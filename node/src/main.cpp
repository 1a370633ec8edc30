// wardnode: the ward office's node. This is the command-line entry point.
#include <cstdio>
#include <cstring>
#include <string>

namespace {

const char* kUsage =
    "wardnode — the wardsync node for a ward or commune one-stop desk\n"
    "\n"
    "Usage: wardnode <command> [options]\n"
    "\n"
    "Commands:\n"
    "  init      create a data directory for one office (keys, config)\n"
    "  run       serve a data directory (HTTP API, web apps, replication)\n"
    "  user      add, change or disable clerk accounts\n"
    "\n"
    "Options:\n"
    "  -h, --help     show this help; 'wardnode <command> --help' for a command\n"
    "  --version      print the version\n";

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "-h") == 0) {
    std::fputs(kUsage, stdout);
    return argc < 2 ? 2 : 0;
  }
  if (std::strcmp(argv[1], "--version") == 0) {
    std::puts("wardnode 0.1.0");
    return 0;
  }
  std::fprintf(stderr, "wardnode: unknown command '%s' (try 'wardnode --help')\n", argv[1]);
  return 2;
}
