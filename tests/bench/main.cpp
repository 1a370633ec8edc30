// wardsync-bench: throughput benchmarks of wardsync.
//
//   wardsync-bench apply      apply a peer's changes to a fresh store, per verify mode
//   wardsync-bench http       points at node/tools/bench-http.sh (the HTTP API under wrk)
//   wardsync-bench replicate  ward -> district -> city over ZeroMQ, real processes
//
// Exit codes: 0 the work was done correctly, 1 something was wrong (a change not
// applied, a problem reported, digests differ), 2 usage.
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include "bench.hpp"

namespace {

void print_help() {
  std::printf(
      "usage: wardsync-bench <command> [options]\n"
      "\n"
      "Throughput benchmarks of wardsync. They print figures and never judge them:\n"
      "the exit code is 0 when the work was done correctly, 1 when it was not\n"
      "(a change not applied, a problem reported, replicas that differ), 2 on bad usage.\n"
      "Run on a quiet machine (see `uptime`) and compare figures side by side within\n"
      "one run; runs on shared machines differ by 20 %% or more.\n"
      "\n"
      "commands:\n"
      "  apply      Catch-up of a receiver: N signed changes of one origin stream, made\n"
      "             by a sender store's local commit path, applied to a fresh durable\n"
      "             store (SQLite WAL, synchronous=FULL) in batches, once per verify\n"
      "             mode: every signature on one thread, every signature on worker\n"
      "             threads pipelined beside one writer thread, chain verification\n"
      "             (single thread, and pipelined). Checks every change was applied\n"
      "             and that all receivers hold equal digests.\n"
      "  http       The node's HTTP API under load is measured by node/tools/bench-http.sh\n"
      "             (wrk, 50 keep-alive connections, 1,000,000 dossiers): reads,\n"
      "             searches and durable writes, p50/p99 and throughput, resident memory.\n"
      "  replicate  Real wardsync-peer processes over ZeroMQ (CURVE, ZAP) on 127.0.0.1:\n"
      "             a ward's 100k-change catch-up to its district (changes/s), bytes\n"
      "             on the wire per body byte, and 1,000 fresh changes over two hops.\n"
      "\n"
      "`wardsync-bench <command> --help` explains a command's options.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    print_help();
    return 2;
  }
  std::string command = argv[1];
  try {
    if (command == "--help" || command == "-h" || command == "help") {
      print_help();
      return 0;
    }
    if (command == "apply") return wardsync::bench::run_apply(argc - 1, argv + 1);
    if (command == "replicate") return wardsync::bench::run_replicate(argc - 1, argv + 1);
    if (command == "http") {
      std::fprintf(stderr,
                   "wardsync-bench http: the HTTP benchmark is a script around wrk:\n"
                   "  node/tools/bench-http.sh [BUILD_DIR] [DOSSIERS]   (see its header for options)\n");
      return 2;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "wardsync-bench %s: %s\n", command.c_str(), e.what());
    return 1;
  }
  std::fprintf(stderr, "wardsync-bench: unknown command '%s'\n\n", command.c_str());
  print_help();
  return 2;
}
