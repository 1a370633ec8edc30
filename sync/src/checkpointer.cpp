#include "checkpointer.hpp"

#include <sqlite3.h>

namespace wardsync {

std::unique_ptr<Checkpointer> Checkpointer::attach(sqlite3* writer, const std::string& path) {
  sqlite3* own = nullptr;
  if (sqlite3_open_v2(path.c_str(), &own, SQLITE_OPEN_READWRITE, nullptr) != SQLITE_OK) {
    sqlite3_close(own);
    return nullptr;
  }
  sqlite3_busy_timeout(own, 1000);
  // The checkpoint fsyncs the database file before it lets the WAL restart.
  sqlite3_exec(own, "PRAGMA synchronous=FULL", nullptr, nullptr, nullptr);
  int page_bytes = 4096;
  sqlite3_stmt* q = nullptr;
  if (sqlite3_prepare_v2(writer, "PRAGMA page_size", -1, &q, nullptr) == SQLITE_OK && sqlite3_step(q) == SQLITE_ROW)
    page_bytes = sqlite3_column_int(q, 0);
  sqlite3_finalize(q);
  if (page_bytes < 512) page_bytes = 4096;
  std::unique_ptr<Checkpointer> c(new Checkpointer(writer, own, page_bytes));
  sqlite3_wal_hook(writer, &Checkpointer::on_commit, c.get());  // replaces wal_autocheckpoint
  return c;
}

Checkpointer::Checkpointer(sqlite3* writer, sqlite3* own, int page_bytes)
    : writer_(writer),
      own_(own),
      background_pages_(static_cast<int>(kBackgroundBytes / page_bytes)),
      writer_pages_(static_cast<int>(kWriterBytes / page_bytes)),
      thread_([this] { run(); }) {}

Checkpointer::~Checkpointer() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
  sqlite3_close(own_);
  sqlite3_wal_autocheckpoint(writer_, writer_pages_);
}

int Checkpointer::on_commit(void* self, sqlite3* db, const char* /*schema*/, int wal_pages) {
  auto* c = static_cast<Checkpointer*>(self);
  if (wal_pages >= c->writer_pages_) {
    sqlite3_wal_checkpoint_v2(db, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
  } else if (wal_pages >= c->background_pages_) {
    {
      std::lock_guard<std::mutex> lock(c->mu_);
      c->wanted_ = true;
    }
    c->cv_.notify_one();
  }
  return SQLITE_OK;
}

void Checkpointer::run() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || wanted_; });
    if (stop_) return;
    wanted_ = false;
    lock.unlock();
    // SQLITE_BUSY (another checkpoint running) is fine: the next commit asks again.
    sqlite3_wal_checkpoint_v2(own_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    lock.lock();
  }
}

}  // namespace wardsync
