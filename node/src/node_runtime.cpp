#include "node_runtime.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include "schema.hpp"
#include "wardsync/sync/store.hpp"

namespace wardsync::node {

Result<std::unique_ptr<NodeRuntime>> NodeRuntime::open(const std::filesystem::path& dir, Logger& log,
                                                       std::optional<std::string> listen_override,
                                                       StoreFile store_file) {
  std::unique_ptr<NodeRuntime> rt(new NodeRuntime());
  auto cfg = load_config(dir);
  if (!cfg.is_ok()) return cfg.status();
  rt->config_ = std::move(cfg).value();
  if (listen_override) {
    rt->config_.listen = *listen_override;
    Status v = validate_config(rt->config_);
    if (!v.is_ok()) return Status{Code::kInvalidArgument, "--listen " + *listen_override + ": " + v.message()};
  }
  log.set_level(rt->config_.log_level);
  std::string lock_path = (dir / "node.lock").string();
  rt->lock_fd_ = ::open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (rt->lock_fd_ < 0) return Status{Code::kIo, lock_path + ": cannot open"};
  if (::flock(rt->lock_fd_, LOCK_EX | LOCK_NB) != 0)
    return Status{Code::kUnavailable, dir.string() + " is in use by another wardnode process (stop it first)"};
  auto key = Identity::load(rt->config_.path_of(rt->config_.key_file));
  if (!key.is_ok()) return key.status();
  rt->identity_.emplace(std::move(key).value());
  PublicKey node_id = rt->identity_->public_key();
  auto cat = Catalogue::load_file(rt->config_.path_of(rt->config_.procedures_file));
  if (!cat.is_ok()) return cat.status();
  auto cal = Calendar::load_file(rt->config_.path_of(rt->config_.holidays_file));
  if (!cal.is_ok()) return cal.status();
  rt->catalogues_.emplace(std::move(cat).value(), std::move(cal).value());
  StoreOptions opts;
  opts.path = rt->config_.path_of(rt->config_.store_file).string();
  opts.durable = true;  // a clerk's save is acknowledged only once on disk
  // A catch-up's batches (1,000 changes) are applied without index and search
  // maintenance, which is most of their cost (about 10 record_index rows and an
  // FTS5 row per dossier); the Writer indexes them once it is quiet. Live pushes
  // (a few changes per batch) are indexed at once. ARCHITECTURE.md, "Catch-up".
  opts.defer_index_min_changes = 256;
  opts.on_upgrade = [&log](int from, int to) {
    log.info("store", "upgrading the database from schema " + std::to_string(from) + " to " + std::to_string(to) +
                          " (a few minutes per million records; do not stop the node)");
  };
  if (store_file == StoreFile::kMustExist) {
    std::error_code ec;
    std::uintmax_t bytes = std::filesystem::file_size(opts.path, ec);
    if (ec || bytes == 0)
      return Status{Code::kNotFound, opts.path + (ec ? " is missing" : " is empty") +
                                         ": this office's records are not there. If the file was moved away, put "
                                         "it back; never an older copy (its next writes would fork this node's "
                                         "history). Lost or damaged: docs/operations.md, \"Store read errors\""};
  }
  auto store = Store::open(opts, node_schema(), *rt->identity_, rt->clock_);
  if (!store.is_ok()) return store.status();
  rt->writer_ = std::make_unique<Writer>(std::move(store).value());
  // Readers: one per HTTP thread that is mid-query. Reads pass the read gate
  // (4 at once, http/fair_gate.hpp) before they take one, so 8 are enough, and
  // each can keep 4 MiB of pages (the hot part of the full-text index: pread
  // fell from 15 % to 3 % of a search's CPU); 8 x 4 MiB is what 32 x 1 MiB was.
  rt->readers_ = std::make_unique<ReaderPool>(opts.path, node_schema(), 8, 4096);
  rt->peripherals_ = std::make_unique<Peripherals>(rt->config_, log);
  rt->ctx_.reset(new NodeContext{rt->config_, log, rt->clock_, *rt->catalogues_, *rt->writer_,
                                 *rt->readers_, node_id, {}, {}, {}, *rt->peripherals_, {}, {}, {}});
  return rt;
}

NodeRuntime::~NodeRuntime() {
  ctx_.reset();
  peripherals_.reset();
  readers_.reset();
  writer_.reset();  // drains pending commits
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

}  // namespace wardsync::node
