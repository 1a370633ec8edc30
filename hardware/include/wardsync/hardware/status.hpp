// Status and Result<T> for hardware/: operating errors (printer unreachable, paper
// out, malformed QR payload, garbage ESC/POS) are values, never exceptions.
// hardware/ must not include sync/, so it carries its own small copy of the idea.
//
// Every error has a machine code ("cccd.bad_dob") that callers and tests match on,
// an English message for logs and a Vietnamese message a kiosk may show a citizen.
// Thread safety: plain values, freely copied between threads.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>

namespace wardsync::hardware {

enum class ErrorKind {
  kOk = 0,
  kInvalidInput,  // bytes from a device, file or citizen that fail validation
  kTooLarge,      // input over a documented bound
  kTruncated,     // input ended in the middle of a command or record
  kUnreachable,   // device or host not there (connection refused, no such file)
  kTimeout,       // device there but not answering in time (paper out, cable)
  kIo,            // read/write failed after the device was reached
  kUnsupported,   // a valid-looking command or option we do not implement
  kNotFound,
  kInternal,      // a library we call failed in a way input cannot explain
};

const char* error_kind_name(ErrorKind kind);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(ErrorKind kind, std::string code, std::string message_en, std::string message_vi = {})
      : kind_(kind),
        code_(std::move(code)),
        message_en_(std::move(message_en)),
        message_vi_(std::move(message_vi)) {}
  static Status ok() { return {}; }

  bool is_ok() const { return kind_ == ErrorKind::kOk; }
  ErrorKind kind() const { return kind_; }
  // Stable machine code, e.g. "printer.timeout"; empty when ok.
  const std::string& code() const { return code_; }
  const std::string& message_en() const { return message_en_; }
  // May be empty for errors only an operator ever sees.
  const std::string& message_vi() const { return message_vi_; }
  // "printer.timeout: no answer within 3000 ms" for logs.
  std::string to_string() const;

 private:
  ErrorKind kind_ = ErrorKind::kOk;
  std::string code_;
  std::string message_en_;
  std::string message_vi_;
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

}  // namespace wardsync::hardware
