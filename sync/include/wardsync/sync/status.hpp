// Status and Result<T>: operating errors as values (bad message, bad signature,
// disk full). Exceptions never cross a component's edge; they are turned into a
// Status there. Thread safety: values, freely copied between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace wardsync {

enum class Code {
  kOk = 0,
  kInvalidArgument,   // bad input from a caller, peer or file
  kNotFound,
  kConflict,          // e.g. a second different write to a `once` field
  kCorrupt,           // bytes that fail a hash, link or signature check
  kIo,                // the disk or the database failed
  kSchemaMismatch,    // database too old or too new for this binary
  kUnavailable,       // a dependency (peer, device) is not reachable now
  kInternal,
};

const char* code_name(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string to_string() const;

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : status_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!status_.is_ok());
  }

  bool is_ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }
  T& value() & {
    assert(value_.has_value());
    return *value_;
  }
  const T& value() const& {
    assert(value_.has_value());
    return *value_;
  }
  T&& value() && {
    assert(value_.has_value());
    return std::move(*value_);
  }

 private:
  std::optional<T> value_;
  Status status_;
};

}  // namespace wardsync
