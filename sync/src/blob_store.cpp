#include "wardsync/sync/blob_store.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <system_error>

namespace wardsync {

namespace fs = std::filesystem;

namespace {

Status io_error(const std::string& what, const fs::path& p) {
  return {Code::kIo, what + " " + p.string() + ": " + std::strerror(errno)};
}

// Appends and fsyncs, so what arrived survives a power cut and resumes from there.
Status append_durably(const fs::path& p, const std::string& data) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) return io_error("cannot open", p);
  const char* at = data.data();
  std::size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, at, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return io_error("cannot write", p);
    }
    at += n;
    left -= static_cast<std::size_t>(n);
  }
  int rc = ::fdatasync(fd);
  ::close(fd);
  return rc == 0 ? Status::ok() : io_error("cannot sync", p);
}

Result<Hash> hash_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return Status{Code::kIo, "cannot read " + p.string()};
  crypto_generichash_state st;
  crypto_generichash_init(&st, nullptr, 0, kHashBytes);
  std::string buf(1 << 16, '\0');
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    crypto_generichash_update(&st, reinterpret_cast<const unsigned char*>(buf.data()),
                              static_cast<unsigned long long>(in.gcount()));
  }
  Hash h;
  crypto_generichash_final(&st, h.data(), h.size());
  return h;
}

}  // namespace

fs::path BlobStore::path_of(const Hash& hash) const {
  std::string hex = to_hex(hash);
  return dir_ / hex.substr(0, 2) / hex.substr(2);
}

fs::path BlobStore::partial_of(const Hash& hash) const {
  return dir_ / "partial" / to_hex(hash);
}

bool BlobStore::has(const Hash& hash) const {
  std::error_code ec;
  return fs::exists(path_of(hash), ec);
}

std::optional<std::uint64_t> BlobStore::size(const Hash& hash) const {
  std::error_code ec;
  auto n = fs::file_size(path_of(hash), ec);
  if (ec) return std::nullopt;
  return n;
}

Result<Hash> BlobStore::put(const std::string& bytes) {
  if (bytes.size() > kMaxBlobBytes) return Status{Code::kInvalidArgument, "blob larger than the limit"};
  Hash h = hash_bytes({reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()});
  if (has(h)) return h;
  std::uint64_t have = partial_size(h);  // an interrupted put or transfer of the same bytes
  Status s = write_chunk(h, bytes.size(), have, bytes.substr(have));
  if (!s.is_ok()) return s;
  return h;
}

Result<std::string> BlobStore::read(const Hash& hash, std::uint64_t offset, std::size_t max) const {
  std::ifstream in(path_of(hash), std::ios::binary);
  if (!in) return Status{Code::kNotFound, "no blob " + to_hex(hash)};
  in.seekg(static_cast<std::streamoff>(offset));
  std::string out(max, '\0');
  in.read(out.data(), static_cast<std::streamsize>(max));
  out.resize(static_cast<std::size_t>(in.gcount()));
  return out;
}

std::uint64_t BlobStore::partial_size(const Hash& hash) const {
  std::error_code ec;
  auto n = fs::file_size(partial_of(hash), ec);
  return ec ? 0 : n;
}

Status BlobStore::write_chunk(const Hash& hash, std::uint64_t total, std::uint64_t offset,
                              const std::string& chunk) {
  if (has(hash)) return Status::ok();
  if (total > kMaxBlobBytes) return {Code::kInvalidArgument, "blob larger than the limit"};
  std::uint64_t have = partial_size(hash);
  if (offset != have) {
    return {Code::kInvalidArgument, "chunk at " + std::to_string(offset) + ", expected " + std::to_string(have)};
  }
  if (have + chunk.size() > total) return {Code::kInvalidArgument, "chunk runs past the blob's size"};
  std::error_code ec;
  fs::create_directories(dir_ / "partial", ec);
  fs::path partial = partial_of(hash);
  Status s = append_durably(partial, chunk);
  if (!s.is_ok()) return s;
  if (have + chunk.size() < total) return Status::ok();
  auto got = hash_file(partial);
  if (!got.is_ok()) return got.status();
  if (got.value() != hash) {
    fs::remove(partial, ec);
    return {Code::kCorrupt, "blob " + to_hex(hash) + " does not match its hash; discarded"};
  }
  fs::create_directories(path_of(hash).parent_path(), ec);
  fs::rename(partial, path_of(hash), ec);
  if (ec) return {Code::kIo, "cannot move blob into place: " + ec.message()};
  return Status::ok();
}

}  // namespace wardsync
