#include "log.hpp"

#include <cstdio>

namespace wardsync::node {

bool parse_log_level(std::string_view text, LogLevel& out) {
  if (text == "debug") out = LogLevel::kDebug;
  else if (text == "info") out = LogLevel::kInfo;
  else if (text == "warning") out = LogLevel::kWarning;
  else if (text == "error") out = LogLevel::kError;
  else return false;
  return true;
}

void Logger::log(LogLevel level, std::string_view domain, std::string_view message) {
  if (level < min_level_) return;
  static constexpr const char* kNames[] = {"debug", "info", "warning", "error"};
  std::string line;
  line.reserve(domain.size() + message.size() + 16);
  line += kNames[static_cast<int>(level)];
  line += ' ';
  line += domain;
  line += ": ";
  // A message never spans lines: journald would split it into two events.
  for (char c : message) line += (c == '\n' || c == '\r') ? ' ' : c;
  line += '\n';
  std::lock_guard<std::mutex> lock(mu_);
  std::fwrite(line.data(), 1, line.size(), stderr);
  std::fflush(stderr);
}

}  // namespace wardsync::node
