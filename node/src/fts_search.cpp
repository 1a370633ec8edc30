#include "fts_search.hpp"

#include <sqlite3.h>

#include <cstring>

#include "wardsync/sync/text.hpp"

namespace wardsync::node {

namespace {

// The same query text Reader::search builds: every folded word a prefix.
std::string fts_query(const std::string& text) {
  std::string folded = fold_for_search(text);
  std::string out, word;
  auto flush = [&] {
    if (word.empty()) return;
    if (!out.empty()) out += ' ';
    out += '"' + word + "\"*";
    word.clear();
  };
  for (char c : folded) {
    bool keep = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || static_cast<unsigned char>(c) >= 0x80;
    if (keep) word.push_back(c);
    else flush();
  }
  flush();
  return out;
}

}  // namespace

struct FtsSearch::Conn {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  ~Conn() {
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
};

FtsSearch::FtsSearch(std::string path, std::size_t max_connections) : path_(std::move(path)), max_(max_connections) {}
FtsSearch::~FtsSearch() = default;

std::unique_ptr<FtsSearch::Conn> FtsSearch::take() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!free_.empty()) {
      auto c = std::move(free_.back());
      free_.pop_back();
      return c;
    }
  }
  auto c = std::make_unique<Conn>();
  if (sqlite3_open_v2(path_.c_str(), &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, nullptr) != SQLITE_OK)
    return nullptr;
  sqlite3_busy_timeout(c->db, 5000);
  const char* sql =
      "SELECT m.id FROM record_search CROSS JOIN search_rows m ON m.row = record_search.rowid "
      "WHERE record_search MATCH ?1 AND m.collection = ?2 ORDER BY m.id DESC LIMIT ?3";
  if (sqlite3_prepare_v2(c->db, sql, -1, &c->stmt, nullptr) != SQLITE_OK) return nullptr;
  return c;
}

void FtsSearch::give(std::unique_ptr<Conn> c) {
  std::lock_guard<std::mutex> lock(mu_);
  if (free_.size() < max_) free_.push_back(std::move(c));
}

std::optional<std::vector<RecordId>> FtsSearch::search(const std::string& collection, const std::string& query,
                                                       std::size_t limit) {
  std::vector<RecordId> out;
  std::string match = fts_query(query);
  if (match.empty()) return out;
  auto c = take();
  if (!c) return std::nullopt;
  sqlite3_bind_text(c->stmt, 1, match.data(), static_cast<int>(match.size()), SQLITE_TRANSIENT);
  sqlite3_bind_text(c->stmt, 2, collection.data(), static_cast<int>(collection.size()), SQLITE_TRANSIENT);
  sqlite3_bind_int64(c->stmt, 3, static_cast<sqlite3_int64>(limit));
  int rc;
  while ((rc = sqlite3_step(c->stmt)) == SQLITE_ROW) {
    RecordId id;
    if (sqlite3_column_bytes(c->stmt, 0) == static_cast<int>(id.bytes.size())) {
      std::memcpy(id.bytes.data(), sqlite3_column_blob(c->stmt, 0), id.bytes.size());
      out.push_back(id);
    }
  }
  sqlite3_reset(c->stmt);
  if (rc != SQLITE_DONE) return std::nullopt;
  give(std::move(c));
  return out;
}

}  // namespace wardsync::node
