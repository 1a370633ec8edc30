// Blob store: scans and PDFs, content-addressed by BLAKE2b-256, as files beside
// the database (<dir>/ab/cdef...). A blob arrives whole (put) or in chunks from a
// peer (write_chunk, resumable after a cut: the partial file keeps what arrived);
// it becomes visible only once its bytes hash to its name.
//
// Thread safety: one BlobStore per thread, or guard it; files are written with
// O_EXCL temporaries and renamed, so readers never see a partial blob.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "wardsync/sync/identity.hpp"
#include "wardsync/sync/status.hpp"

namespace wardsync {

constexpr std::uint64_t kMaxBlobBytes = 256ull * 1024 * 1024;  // a scanned dossier, generously

class BlobStore {
 public:
  explicit BlobStore(std::filesystem::path dir) : dir_(std::move(dir)) {}

  Result<Hash> put(const std::string& bytes);
  bool has(const Hash& hash) const;
  std::optional<std::uint64_t> size(const Hash& hash) const;
  // Up to `max` bytes from `offset` (a chunk to send).
  Result<std::string> read(const Hash& hash, std::uint64_t offset, std::size_t max) const;

  // Receiving side. `total` is the blob's announced size. Chunks must arrive in
  // order from partial_size(); a chunk at another offset is refused (the sender
  // resumes from partial_size()). When the last byte arrives the whole file is
  // hashed: a mismatch deletes the partial file and returns kCorrupt.
  std::uint64_t partial_size(const Hash& hash) const;
  Status write_chunk(const Hash& hash, std::uint64_t total, std::uint64_t offset, const std::string& chunk);

 private:
  std::filesystem::path path_of(const Hash& hash) const;
  std::filesystem::path partial_of(const Hash& hash) const;
  std::filesystem::path dir_;
};

}  // namespace wardsync
