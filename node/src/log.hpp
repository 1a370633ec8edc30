// Logger: one line per event on stderr, "<level> <domain>: <message>", which
// journald stores as one entry each. Log dossier and ticket ids, never names,
// CCCD numbers, passwords or session tokens (STYLE.md, Logging).
//
// Thread safety: every method may be called from any thread (one mutex around
// the write so lines never interleave).
#pragma once

#include <mutex>
#include <string>
#include <string_view>

namespace wardsync::node {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

// "debug", "info", "warning", "error"; false on anything else.
bool parse_log_level(std::string_view text, LogLevel& out);

class Logger {
 public:
  explicit Logger(LogLevel min_level = LogLevel::kInfo) : min_level_(min_level) {}
  void set_level(LogLevel level) { min_level_ = level; }
  void log(LogLevel level, std::string_view domain, std::string_view message);
  void debug(std::string_view domain, std::string_view message) { log(LogLevel::kDebug, domain, message); }
  void info(std::string_view domain, std::string_view message) { log(LogLevel::kInfo, domain, message); }
  void warning(std::string_view domain, std::string_view message) { log(LogLevel::kWarning, domain, message); }
  void error(std::string_view domain, std::string_view message) { log(LogLevel::kError, domain, message); }

 private:
  LogLevel min_level_;
  std::mutex mu_;
};

}  // namespace wardsync::node
