// wardsync-bench apply: how fast a receiver catches up with one origin stream.
//
// One sender store commits N dossier changes through its local path; the same
// changes are then applied to a fresh durable receiver (SQLite WAL,
// synchronous=FULL, one transaction per batch) once per verify mode:
//
//   (a)  every signature, one thread          Store::apply(kEverySignature)
//   (b)  every signature on worker threads    workers verify_signature() batch k+1 over
//        pipelined beside one writer thread    the exact body bytes while the writer
//                                              applies batch k with kPreverified
//   (c)  chain, one thread                     Store::apply(kChain)
//   (cp) chain, pipelined                      a worker hashes batch k+1, checks its
//                                              links and its last signature while the
//                                              writer applies batch k with kPreverified
//
// Correctness is checked, timing never is: every change applied, no problem
// reported, every receiver's digest equal to the sender's.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include <sys/resource.h>

#include "bench.hpp"
#include "wardsync.pb.h"

namespace wardsync::bench {

namespace {

struct Options {
  std::size_t changes = 100000;
  std::size_t batch = 500;
  std::size_t group = 1000;  // sender: local transactions per commit_group
  std::size_t threads = 0;   // (b): verify threads; 0 = max(2, hardware_concurrency)
  std::string dir;
  std::vector<std::string> modes = {"a", "b", "c", "cp"};
  bool keep = false;
  bool index = true;        // the schema indexes the CCCD field
  bool searchable = false;  // name and address in the full-text index
};

struct ModeResult {
  std::string key;
  std::string title;
  double seconds = 0;
  double cpu_seconds = 0;  // user + system time of the whole process (all threads)
  ApplyReport report;  // summed over batches
  std::size_t batches_refused = 0;  // by the pipeline's own verification
  std::string refused_why;
  Hash digest{};
  bool ran = false;
};

void add_report(ApplyReport& into, ApplyReport&& r) {
  into.applied += r.applied;
  into.duplicates += r.duplicates;
  into.held += r.held;
  into.rejected += r.rejected;
  for (auto& p : r.problems) into.problems.push_back(std::move(p));
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto secs = [](const timeval& tv) { return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6; };
  return secs(ru.ru_utime) + secs(ru.ru_stime);
}

std::string with_commas(double v) {
  auto n = static_cast<long long>(v + 0.5);
  std::string digits = std::to_string(n);
  std::string out;
  int count = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (count != 0 && count % 3 == 0) out.insert(out.begin(), ',');
    out.insert(out.begin(), *it);
    ++count;
  }
  return out;
}

Bytes body_bytes(const WireChange& c) {
  return {reinterpret_cast<const std::uint8_t*>(c.body.data()), c.body.size()};
}

bool signature_of(const WireChange& c, Signature& sig) {
  if (c.signature.size() != sig.size()) return false;
  std::memcpy(sig.data(), c.signature.data(), sig.size());
  return true;
}

// ---------------------------------------------------------------------------
// A two-stage pipeline: `workers` threads verify batches in order (each takes
// its share of every batch), at most `ahead` batches beyond the one the writer
// thread is applying; the writer applies verified batches in order.

class Pipeline {
 public:
  // Verifies worker `w`'s share of batch `k`; false (with `why`) refuses the batch.
  using VerifyFn = std::function<bool(std::size_t k, std::size_t w, std::size_t workers, std::string& why)>;
  using ApplyFn = std::function<void(std::size_t k)>;

  Pipeline(std::size_t batches, std::size_t workers, std::size_t ahead)
      : batches_(batches), workers_(workers), ahead_(ahead), remaining_(batches, workers),
        done_(batches, 0), ok_(batches, 1) {}

  // Runs to completion; returns the number of batches refused by verification.
  std::size_t run(const VerifyFn& verify, const ApplyFn& apply, std::string& first_why) {
    std::vector<std::thread> threads;
    for (std::size_t w = 0; w < workers_; ++w) {
      threads.emplace_back([&, w] { worker(w, verify); });
    }
    std::thread writer([&] { write(apply); });
    for (auto& t : threads) t.join();
    writer.join();
    first_why = first_why_;
    return static_cast<std::size_t>(std::count(ok_.begin(), ok_.end(), 0));
  }

 private:
  void worker(std::size_t w, const VerifyFn& verify) {
    for (std::size_t k = 0; k < batches_; ++k) {
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return k <= applied_ + ahead_; });
      }
      std::string why;
      bool good = verify(k, w, workers_, why);
      std::lock_guard lock(mu_);
      if (!good) {
        ok_[k] = 0;
        if (first_why_.empty()) first_why_ = "batch " + std::to_string(k) + ": " + why;
      }
      if (--remaining_[k] == 0) {
        done_[k] = 1;
        while (verified_ < batches_ && done_[verified_] != 0) ++verified_;
        cv_.notify_all();
      }
    }
  }

  void write(const ApplyFn& apply) {
    for (std::size_t k = 0; k < batches_; ++k) {
      bool good = false;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [&] { return verified_ > k; });
        good = ok_[k] != 0;
      }
      if (good) apply(k);
      std::lock_guard lock(mu_);
      applied_ = k + 1;
      cv_.notify_all();
    }
  }

  const std::size_t batches_;
  const std::size_t workers_;
  const std::size_t ahead_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::size_t> remaining_;  // GUARDED_BY(mu_)
  std::vector<char> done_;              // GUARDED_BY(mu_)
  std::vector<char> ok_;                // GUARDED_BY(mu_)
  std::size_t verified_ = 0;            // GUARDED_BY(mu_): batches 0..verified_-1 verified
  std::size_t applied_ = 0;             // GUARDED_BY(mu_): batches 0..applied_-1 applied
  std::string first_why_;               // GUARDED_BY(mu_)
};

// How far verification may run ahead of the writer: batch k+1 while k is
// applied, plus one more to absorb jitter.
constexpr std::size_t kAhead = 2;

// ---------------------------------------------------------------------------

class ApplyBench {
 public:
  ApplyBench(const Options& o, const Workload& w, const Schema& schema, std::filesystem::path dir)
      : o_(o), w_(w), schema_(schema), dir_(std::move(dir)) {
    batches_ = (w_.changes.size() + o_.batch - 1) / o_.batch;
  }

  bool run_mode(ModeResult& r, std::string& error) {
    std::array<std::uint8_t, kSeedBytes> seed{};
    seed.fill(0xa0);  // the receiving district node
    Identity id = Identity::from_seed(seed);
    SystemClock wall;
    StoreOptions options;
    options.path = (dir_ / ("receiver-" + r.key + ".db")).string();
    options.durable = true;
    options.apply_chunk_changes = std::max<std::size_t>(o_.batch, options.apply_chunk_changes);
    auto opened = Store::open(options, schema_, id, wall);
    if (!opened.is_ok()) {
      error = "receiver store: " + opened.status().to_string();
      return false;
    }
    Store& store = *opened.value();

    double cpu_start = process_cpu_seconds();
    auto start = std::chrono::steady_clock::now();
    if (r.key == "a") {
      single_thread(store, VerifyMode::kEverySignature, r);
    } else if (r.key == "c") {
      single_thread(store, VerifyMode::kChain, r);
    } else if (r.key == "b") {
      pipelined_signatures(store, r);
    } else if (r.key == "cp") {
      pipelined_chain(store, r);
    }
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    r.cpu_seconds = process_cpu_seconds() - cpu_start;
    r.digest = store.digest();
    r.ran = true;
    return true;
  }

  std::size_t verify_threads() const {
    if (o_.threads != 0) return o_.threads;
    return std::max<std::size_t>(2, std::thread::hardware_concurrency());
  }

 private:
  std::span<const WireChange> batch(std::size_t k) const {
    std::size_t begin = k * o_.batch;
    std::size_t end = std::min(w_.changes.size(), begin + o_.batch);
    return std::span<const WireChange>(w_.changes).subspan(begin, end - begin);
  }

  void single_thread(Store& store, VerifyMode mode, ModeResult& r) {
    for (std::size_t k = 0; k < batches_; ++k) add_report(r.report, store.apply(batch(k), mode));
  }

  // (b): every signature, verified on worker threads over the exact body bytes.
  void pipelined_signatures(Store& store, ModeResult& r) {
    Pipeline pipe(batches_, verify_threads(), kAhead);
    auto verify = [&](std::size_t k, std::size_t w, std::size_t workers, std::string& why) {
      auto b = batch(k);
      std::size_t lo = b.size() * w / workers;
      std::size_t hi = b.size() * (w + 1) / workers;
      for (std::size_t i = lo; i < hi; ++i) {
        auto header = parse_header(b[i]);
        Signature sig{};
        if (!header.is_ok() || !signature_of(b[i], sig)) {
          why = "change " + std::to_string(i) + " does not parse";
          return false;
        }
        if (!verify_signature(header.value().stream.origin, body_bytes(b[i]), sig)) {
          why = "bad signature at seq " + std::to_string(header.value().seq);
          return false;
        }
      }
      return true;
    };
    auto apply = [&](std::size_t k) { add_report(r.report, store.apply(batch(k), VerifyMode::kPreverified)); };
    r.batches_refused = pipe.run(verify, apply, r.refused_why);
  }

  // (cp): chain verification on a worker: hash every change (body and
  // signature, change_hash()), check every link, verify the last signature of
  // each stream's run in the batch.
  void pipelined_chain(Store& store, ModeResult& r) {
    struct Head {
      std::uint64_t seq = 0;
      Hash hash{};
    };
    std::map<StreamKey, Head> heads;  // touched by the single worker only
    pb::ChangeBody body;
    auto verify = [&](std::size_t k, std::size_t, std::size_t, std::string& why) {
      auto b = batch(k);
      std::map<StreamKey, std::size_t> last_of_stream;
      StreamKey key;
      for (std::size_t i = 0; i < b.size(); ++i) {
        if (!body.ParseFromString(b[i].body) || body.origin().size() != kPublicKeyBytes) {
          why = "change " + std::to_string(i) + " does not parse";
          return false;
        }
        std::memcpy(key.origin.data(), body.origin().data(), kPublicKeyBytes);
        key.scope = body.scope();
        Head& head = heads[key];
        Hash expect_prev = head.hash;
        bool link_ok = body.seq() == head.seq + 1 &&
                       (body.seq() == 1 ? body.prev_hash().empty()
                                        : body.prev_hash().size() == kHashBytes &&
                                              std::memcmp(body.prev_hash().data(), expect_prev.data(),
                                                          kHashBytes) == 0);
        if (!link_ok) {
          why = "broken link at seq " + std::to_string(body.seq());
          return false;
        }
        head.seq = body.seq();
        head.hash = change_hash(b[i]);  // what the next change links to
        last_of_stream[key] = i;
      }
      for (const auto& [stream, i] : last_of_stream) {
        Signature sig{};
        if (!signature_of(b[i], sig) || !verify_signature(stream.origin, body_bytes(b[i]), sig)) {
          why = "bad signature at the end of a run";
          return false;
        }
      }
      return true;
    };
    auto apply = [&](std::size_t k) { add_report(r.report, store.apply(batch(k), VerifyMode::kPreverified)); };
    Pipeline pipe(batches_, 1, kAhead);
    r.batches_refused = pipe.run(verify, apply, r.refused_why);
  }

  const Options& o_;
  const Workload& w_;
  const Schema& schema_;
  std::filesystem::path dir_;
  std::size_t batches_ = 0;
};

bool parse_size(const char* s, std::size_t& out) {
  char* end = nullptr;
  unsigned long long v = std::strtoull(s, &end, 10);
  if (end == s || *end != '\0') return false;
  out = static_cast<std::size_t>(v);
  return true;
}

std::vector<std::string> split_modes(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

void print_apply_help() {
  std::printf(
      "usage: wardsync-bench apply [--changes N] [--batch B] [--dir DIR] [options]\n"
      "\n"
      "A receiver catching up with one origin stream. A sender store (durable=false)\n"
      "commits N dossier changes through its local commit path (about 300-byte bodies:\n"
      "mostly new dossiers with a few lww text fields - applicant name in Vietnamese,\n"
      "CCCD, phone, address - and some corrections of earlier ones); the changes are\n"
      "read back with stream_changes() and applied to a fresh receiver store (SQLite\n"
      "WAL, synchronous=FULL), one Store::apply() per batch, once per mode:\n"
      "  a   every signature, one thread (VerifyMode::kEverySignature)\n"
      "  b   every signature on worker threads (verify_signature over the exact body\n"
      "      bytes) pipelined beside one writer thread applying with kPreverified\n"
      "  c   chain verification, one thread (VerifyMode::kChain)\n"
      "  cp  chain verification pipelined: a worker hashes each body, checks links and\n"
      "      the last signature of the batch while the writer applies with kPreverified\n"
      "Prints changes/s, seconds and microseconds per change per mode, and the CPU\n"
      "seconds (user + system, all threads) the process used meanwhile. Exit code 1 when\n"
      "a change was not applied, a problem was reported, or the receivers' digests\n"
      "differ from each other or from the sender's; timing never fails the run.\n"
      "\n"
      "options:\n"
      "  --changes N   changes to generate and apply (default 100000)\n"
      "  --batch B     changes per Store::apply() call, one transaction each (default 500)\n"
      "  --dir DIR     parent of the run's temporary directory (default $TMPDIR or /tmp);\n"
      "                use a real disk: synchronous=FULL on tmpfs measures nothing\n"
      "  --modes LIST  comma-separated subset of a,b,c,cp (default all)\n"
      "  --threads T   verify threads of mode b (default max(2, hardware_concurrency))\n"
      "  --group G     sender transactions per commit_group (default 1000)\n"
      "  --no-index    no indexed field in the schema (default: CCCD is indexed), to see\n"
      "                what index maintenance costs\n"
      "  --searchable  applicant name and address in the full-text index (FTS5)\n"
      "  --keep        keep the databases\n");
}

int run_apply(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "apply: %s needs a value\n", a.c_str());
        std::exit(2);
      }
      return argv[++i];
    };
    auto size_value = [&](std::size_t& out, std::size_t min) {
      const char* v = value();
      if (!parse_size(v, out) || out < min) {
        std::fprintf(stderr, "apply: %s wants a number >= %zu, got '%s'\n", a.c_str(), min, v);
        std::exit(2);
      }
    };
    if (a == "--help" || a == "-h") {
      print_apply_help();
      return 0;
    } else if (a == "--changes") {
      size_value(o.changes, 1);
    } else if (a == "--batch") {
      size_value(o.batch, 1);
    } else if (a == "--group") {
      size_value(o.group, 1);
    } else if (a == "--threads") {
      size_value(o.threads, 1);
    } else if (a == "--dir") {
      o.dir = value();
    } else if (a == "--modes") {
      o.modes = split_modes(value());
      for (const auto& m : o.modes) {
        if (m != "a" && m != "b" && m != "c" && m != "cp") {
          std::fprintf(stderr, "apply: unknown mode '%s' (a, b, c, cp)\n", m.c_str());
          return 2;
        }
      }
    } else if (a == "--keep") {
      o.keep = true;
    } else if (a == "--no-index") {
      o.index = false;
    } else if (a == "--searchable") {
      o.searchable = true;
    } else {
      std::fprintf(stderr, "apply: unknown option '%s'\n\n", a.c_str());
      print_apply_help();
      return 2;
    }
  }

  print_machine_header("wardsync-bench apply");
  std::filesystem::path dir = make_run_dir(o.dir);
  std::printf("dir:      %s\n", dir.c_str());
  std::fflush(stdout);

  Schema schema = dossier_schema(o.index, o.searchable);
  Workload w;
  std::string error;
  if (!generate_workload(o.changes, o.group, schema, dir / "sender.db", w, error)) {
    std::fprintf(stderr, "FAIL: %s\n", error.c_str());
    return 1;
  }
  std::printf(
      "workload: %zu changes of one origin stream (%zu creates, %zu updates), body avg %.1f B "
      "(min %zu, max %zu), signature 64 B\n",
      w.changes.size(), w.creates, w.updates, static_cast<double>(w.body_bytes) / w.changes.size(),
      w.min_body, w.max_body);
  std::printf("sender:   committed and read back in %.2f s (local commit path, durable=false)\n", w.seconds);

  ApplyBench bench(o, w, schema, dir);
  std::printf("receiver: fresh store per mode, WAL, synchronous=FULL, batch %zu (one transaction each), "
              "%zu batches, %s\n\n",
              o.batch, (w.changes.size() + o.batch - 1) / o.batch,
              (std::string(o.index ? "CCCD field indexed" : "no indexed field (--no-index)") +
               (o.searchable ? ", name and address searchable (FTS)" : ", no full-text field"))
                  .c_str());
  std::printf("%-58s %12s %10s %10s %8s\n", "mode", "changes/s", "total s", "us/change", "cpu s");
  std::fflush(stdout);

  std::map<std::string, std::string> titles = {
      {"a", "(a)  every signature, 1 thread"},
      {"b", "(b)  every signature, " + std::to_string(bench.verify_threads()) +
                " verify threads + writer, pipelined"},
      {"c", "(c)  chain, 1 thread"},
      {"cp", "(cp) chain, hash worker + writer, pipelined"},
  };
  std::vector<ModeResult> results;
  bool ok = true;
  for (const auto& key : {"a", "b", "c", "cp"}) {
    if (std::find(o.modes.begin(), o.modes.end(), key) == o.modes.end()) continue;
    ModeResult& r = results.emplace_back();
    r.key = key;
    r.title = titles[key];
    if (!bench.run_mode(r, error)) {
      std::fprintf(stderr, "FAIL %s: %s\n", r.title.c_str(), error.c_str());
      return 1;
    }
    double n = static_cast<double>(w.changes.size());
    std::printf("%-58s %12s %10.3f %10.2f %8.2f\n", r.title.c_str(), with_commas(n / r.seconds).c_str(),
                r.seconds, r.seconds * 1e6 / n, r.cpu_seconds);
    std::fflush(stdout);
    // Correctness: every change applied, nothing else.
    const ApplyReport& rep = r.report;
    if (rep.applied != w.changes.size() || rep.duplicates != 0 || rep.held != 0 || rep.rejected != 0 ||
        !rep.problems.empty() || r.batches_refused != 0) {
      ok = false;
      std::fprintf(stderr,
                   "FAIL %s: applied %zu of %zu, duplicates %zu, held %zu, rejected %zu, problems %zu, "
                   "batches refused by the pipeline %zu %s\n",
                   r.title.c_str(), rep.applied, w.changes.size(), rep.duplicates, rep.held, rep.rejected,
                   rep.problems.size(), r.batches_refused, r.refused_why.c_str());
      for (std::size_t i = 0; i < std::min<std::size_t>(5, rep.problems.size()); ++i) {
        const Problem& p = rep.problems[i];
        std::fprintf(stderr, "  problem: %s %s seq %llu: %s\n", problem_kind_name(p.kind),
                     p.stream.to_string().c_str(), static_cast<unsigned long long>(p.seq), p.detail.c_str());
      }
    }
    if (r.digest != w.sender_digest) {
      ok = false;
      std::fprintf(stderr, "FAIL %s: digest %s differs from the sender's %s\n", r.title.c_str(),
                   to_hex(r.digest).c_str(), to_hex(w.sender_digest).c_str());
    }
  }

  if (ok) {
    std::printf("\ncheck:    OK: every mode applied %zu/%zu changes, no problem; digests equal to the "
                "sender's (%s...)\n",
                w.changes.size(), w.changes.size(), to_hex(w.sender_digest).substr(0, 16).c_str());
  } else {
    std::printf("\ncheck:    FAILED (see the errors above); figures of failed modes mean nothing\n");
  }
  const ModeResult* c = nullptr;
  const ModeResult* cp = nullptr;
  for (const auto& r : results) {
    if (r.key == "c") c = &r;
    if (r.key == "cp") cp = &r;
  }
  if (c != nullptr || cp != nullptr) {
    double n = static_cast<double>(w.changes.size());
    double best = 0;
    std::string detail;
    for (const ModeResult* r : {c, cp}) {
      if (r == nullptr) continue;
      best = std::max(best, n / r->seconds);
      if (!detail.empty()) detail += ", ";
      detail += r->key + " " + with_commas(n / r->seconds) + "/s";
    }
    std::printf("target (c) >= 100000 changes/s: %s (best chain mode; %s)\n",
                best >= 100000 ? "MET" : "NOT MET", detail.c_str());
  }
  std::printf("load:     %s (1, 5, 15 min) at end\n", load_average().c_str());

  if (!o.keep) {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  } else {
    std::printf("kept:     %s\n", dir.c_str());
  }
  return ok ? 0 : 1;
}

}  // namespace wardsync::bench
