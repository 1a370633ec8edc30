// Checkpointer: moves WAL checkpoints off the committing thread.
//
// SQLite's automatic checkpoint runs inside the commit that crosses the
// threshold: that commit copies thousands of WAL pages into the database file
// and fsyncs it while every writer waiting behind it (a whole group commit of
// HTTP requests) stalls for hundreds of milliseconds. Instead, each commit only
// reports the WAL's size (sqlite3_wal_hook); past kBackgroundBytes a thread with
// its own connection runs a PASSIVE checkpoint, which never blocks writers or
// readers. Past kWriterBytes (the background copy is not keeping up, or writes
// never pause) the writer checkpoints once itself, so the WAL can restart and
// stays bounded; most of its pages were already copied by then. The limits are
// bytes, turned into pages with the database's own page size: databases made
// before 16 KiB pages (4 KiB) and after them checkpoint at the same WAL size.
//
// Thread safety: attach() and the destructor on the writer's thread; the hook
// runs on it too.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

struct sqlite3;

namespace wardsync {

class Checkpointer {
 public:
  static constexpr long kBackgroundBytes = 4L * 1024 * 1024;
  static constexpr long kWriterBytes = 16L * 1024 * 1024;

  // Takes over checkpointing for `writer`, the store's connection to `path`
  // (a WAL database). Returns nullptr when the second connection cannot be
  // opened: SQLite's automatic checkpoint then stays on.
  static std::unique_ptr<Checkpointer> attach(sqlite3* writer, const std::string& path);
  // Stops the thread and hands checkpointing back to SQLite. Call before the
  // writer's connection closes.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

 private:
  Checkpointer(sqlite3* writer, sqlite3* own, int page_bytes);
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void run();

  sqlite3* writer_;
  sqlite3* own_;  // used only by thread_
  const int background_pages_;
  const int writer_pages_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;  // GUARDED_BY(mu_)
  bool stop_ = false;    // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace wardsync
