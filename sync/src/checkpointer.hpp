// Checkpointer: moves WAL checkpoints off the committing thread.
//
// SQLite's automatic checkpoint runs inside the commit that crosses the
// threshold: that commit copies thousands of WAL pages into the database file
// and fsyncs it while every writer waiting behind it (a whole group commit of
// HTTP requests) stalls for hundreds of milliseconds. Instead, each commit only
// reports the WAL's size (sqlite3_wal_hook); past kBackgroundPages a thread with
// its own connection runs a PASSIVE checkpoint, which never blocks writers or
// readers. Past kWriterPages (the background copy is not keeping up, or writes
// never pause) the writer checkpoints once itself, so the WAL can restart and
// stays bounded; most of its pages were already copied by then.
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
  static constexpr int kBackgroundPages = 1000;
  static constexpr int kWriterPages = 4000;

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
  Checkpointer(sqlite3* writer, sqlite3* own);
  static int on_commit(void* self, sqlite3* db, const char* schema, int wal_pages);
  void run();

  sqlite3* writer_;
  sqlite3* own_;  // used only by thread_
  std::mutex mu_;
  std::condition_variable cv_;
  bool wanted_ = false;  // GUARDED_BY(mu_)
  bool stop_ = false;    // GUARDED_BY(mu_)
  std::thread thread_;
};

}  // namespace wardsync
