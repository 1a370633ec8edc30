#include "wardsync/hardware/status.hpp"

namespace wardsync::hardware {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kOk: return "ok";
    case ErrorKind::kInvalidInput: return "invalid_input";
    case ErrorKind::kTooLarge: return "too_large";
    case ErrorKind::kTruncated: return "truncated";
    case ErrorKind::kUnreachable: return "unreachable";
    case ErrorKind::kTimeout: return "timeout";
    case ErrorKind::kIo: return "io";
    case ErrorKind::kUnsupported: return "unsupported";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kInternal: return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  return code_ + ": " + message_en_;
}

}  // namespace wardsync::hardware
