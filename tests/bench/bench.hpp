// wardsync-bench: shared pieces of the benchmark sub-commands.
//
// Figures only: a benchmark prints rates and never asserts on them. Its exit
// code says whether the work was done correctly (every change applied, equal
// digests), nothing else.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "wardsync/sync/schema.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync::bench {

// --- machine.cpp -----------------------------------------------------------

// "2 cores (hardware_concurrency 2, /proc/cpuinfo 2)", CPU model, library
// versions, UTC date, load average: the lines every benchmark prints first.
void print_machine_header(const std::string& title);
std::string utc_now();
std::string load_average();  // "/proc/loadavg" first three figures, or "?"

// A fresh directory for the run's databases: inside `parent` when given,
// else in $TMPDIR or /tmp. Removed by the caller unless asked to keep it.
std::filesystem::path make_run_dir(const std::string& parent);

// --- workload.cpp ----------------------------------------------------------

// The benchmark's replicated collection: a one-stop-desk dossier with a few
// lww text fields; the citizen id (CCCD) is indexed, as the domain looks
// dossiers up by it (`index_cccd` false: no indexed field, to measure what the
// index costs). `searchable`: applicant name and address go to the full-text
// index too.
Schema dossier_schema(bool index_cccd = true, bool searchable = false);
inline constexpr const char* kCollection = "dossiers";
inline constexpr const char* kScope = "79.760.26734";  // province.district.ward

struct Workload {
  std::vector<WireChange> changes;  // one origin stream, seq 1..N, in order
  StreamKey stream;
  std::size_t creates = 0;
  std::size_t updates = 0;
  std::size_t body_bytes = 0;  // sum of body sizes
  std::size_t min_body = 0;
  std::size_t max_body = 0;
  double seconds = 0;          // to generate (sender commits + read back)
  Hash sender_digest{};
};

// Commits `n` dossier changes (mostly creates, some updates of earlier records)
// into a sender Store (durable=false) at `db_path` through its local commit
// path, in groups of `group` transactions, then reads them back with
// stream_changes(). Deterministic for a given n. Returns false with `error` set
// when anything fails.
bool generate_workload(std::size_t n, std::size_t group, const Schema& schema,
                       const std::filesystem::path& db_path, Workload& out, std::string& error);

// --- apply_bench.cpp -------------------------------------------------------

int run_apply(int argc, char** argv);
void print_apply_help();

// --- replicate_bench.cpp -----------------------------------------------------
int run_replicate(int argc, char** argv);

}  // namespace wardsync::bench
