// Blob store: content addressing, chunked resumable receipt that survives a
// reopen, refusal of out-of-order chunks and of bytes that do not match the hash.
#include <catch2/catch.hpp>

#include "sync_test_util.hpp"
#include "wardsync/sync/blob_store.hpp"

using namespace wardsync;
using namespace wardsync::test;

TEST_CASE("blob store: put is content-addressed and idempotent", "[sync][blob]") {
  TempDir dir;
  BlobStore blobs(dir.path());
  std::string scan(300000, '\0');
  for (std::size_t i = 0; i < scan.size(); ++i) scan[i] = static_cast<char>(i * 7 % 251);
  auto h = blobs.put(scan);
  REQUIRE(h.is_ok());
  CHECK(h.value() == hash_bytes({reinterpret_cast<const std::uint8_t*>(scan.data()), scan.size()}));
  CHECK(blobs.has(h.value()));
  CHECK(blobs.size(h.value()) == scan.size());
  CHECK(blobs.read(h.value(), 1000, 10).value() == scan.substr(1000, 10));
  CHECK(blobs.put(scan).value() == h.value());
}

TEST_CASE("blob store: a transfer cut halfway resumes where it stopped", "[sync][blob]") {
  TempDir dir;
  std::string pdf(100000, 'p');
  pdf[5] = 'x';
  Hash h = hash_bytes({reinterpret_cast<const std::uint8_t*>(pdf.data()), pdf.size()});
  {
    BlobStore receiver(dir.path());
    REQUIRE(receiver.write_chunk(h, pdf.size(), 0, pdf.substr(0, 30000)).is_ok());
    REQUIRE(receiver.write_chunk(h, pdf.size(), 30000, pdf.substr(30000, 20000)).is_ok());
    CHECK_FALSE(receiver.has(h));
  }  // the link is cut; the node restarts
  BlobStore receiver(dir.path());
  CHECK(receiver.partial_size(h) == 50000);
  CHECK_FALSE(receiver.write_chunk(h, pdf.size(), 0, pdf.substr(0, 100)).is_ok());  // not from zero
  REQUIRE(receiver.write_chunk(h, pdf.size(), 50000, pdf.substr(50000)).is_ok());
  CHECK(receiver.has(h));
  CHECK(receiver.read(h, 0, pdf.size()).value() == pdf);
}

TEST_CASE("blob store: bytes that do not match the hash are discarded", "[sync][blob]") {
  TempDir dir;
  BlobStore receiver(dir.path());
  std::string real = "bản chính giấy khai sinh";
  Hash h = hash_bytes({reinterpret_cast<const std::uint8_t*>(real.data()), real.size()});
  std::string forged = real;
  forged[0] = 'B';
  auto s = receiver.write_chunk(h, forged.size(), 0, forged);
  CHECK(s.code() == Code::kCorrupt);
  CHECK_FALSE(receiver.has(h));
  CHECK(receiver.partial_size(h) == 0);
  CHECK_FALSE(receiver.write_chunk(h, 10, 0, std::string(20, 'x')).is_ok());  // past the size
  CHECK_FALSE(receiver.write_chunk(h, kMaxBlobBytes + 1, 0, "x").is_ok());
}
