// Opens everything a data directory holds (config, key, catalogue, calendar,
// store + writer, reader pool) and owns it for the life of a command. `run`,
// `user` and `demo` share it. The process holds an exclusive lock on
// <datadir>/node.lock while open: two processes writing one store would sign two
// different changes with one (origin, sequence), which every peer treats as a fork.
//
// Thread safety: build and destroy on one thread; ctx() is shared as NodeContext says.
#pragma once

#include <filesystem>
#include <memory>
#include <optional>

#include "catalogue.hpp"
#include "config.hpp"
#include "domain/context.hpp"
#include "log.hpp"
#include "peripherals.hpp"
#include "reader_pool.hpp"
#include "wardsync/sync/writer.hpp"

namespace wardsync::node {

class NodeRuntime {
 public:
  // kMustExist (every command but init): a directory whose database is missing
  // or empty is refused. Opened empty, the office would start again with no
  // records and issue dossier codes it already issued.
  enum class StoreFile { kMustExist, kCreate };
  [[nodiscard]] static Result<std::unique_ptr<NodeRuntime>> open(const std::filesystem::path& dir, Logger& log,
                                                                 std::optional<std::string> listen_override = {},
                                                                 StoreFile store_file = StoreFile::kMustExist);
  ~NodeRuntime();
  NodeRuntime(const NodeRuntime&) = delete;
  NodeRuntime& operator=(const NodeRuntime&) = delete;

  NodeContext& ctx() { return *ctx_; }
  const Config& config() const { return config_; }

 private:
  NodeRuntime() = default;
  int lock_fd_ = -1;
  Config config_;
  SystemClock clock_;
  std::optional<Identity> identity_;  // the Store keeps a reference: must outlive it
  std::optional<Catalogues> catalogues_;
  std::unique_ptr<Writer> writer_;
  std::unique_ptr<ReaderPool> readers_;
  std::unique_ptr<Peripherals> peripherals_;
  std::unique_ptr<NodeContext> ctx_;
};

}  // namespace wardsync::node
