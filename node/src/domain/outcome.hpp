// What a domain call returns: a value, or an error the HTTP edge can answer with
// precisely (field errors in Vietnamese and English for 400, 404, 409, ...).
// Thread safety: plain values.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "wardsync/hardware/text.hpp"

namespace wardsync::node {

// Empty, or nothing but spaces of any kind: no name, note or reason.
inline bool is_blank(std::string_view s) { return hardware::is_blank_text(s); }

struct FieldError {
  std::string field;       // JSON path of the input, e.g. "applicant.cccd"
  std::string code;        // machine-readable: "required", "format", "too_long", ...
  std::string message_vi;  // Vietnamese with full diacritics
  std::string message_en;
};

// The error for a text field that could not be printed on a slip as it reads on
// screen (hardware/text.hpp: control characters, invisible formatting), or none.
inline std::optional<FieldError> printable_error(const std::string& field, std::string_view value,
                                                 std::string_view label_vi, std::string_view label_en) {
  switch (hardware::text_fault(value)) {
    case hardware::TextFault::kNone: return std::nullopt;
    case hardware::TextFault::kInvisible:
      return FieldError{field, "format",
                        std::string(label_vi) + " chứa ký tự định dạng ẩn (đảo chiều, độ rộng bằng 0).",
                        std::string(label_en) + " contains invisible formatting characters (bidi, zero-width)."};
    default:
      return FieldError{field, "format", std::string(label_vi) + " chứa ký tự điều khiển không hợp lệ.",
                        std::string(label_en) + " contains control characters."};
  }
}

enum class ErrorKind {
  kInvalid,       // 400: field errors
  kUnauthorized,  // 401
  kForbidden,     // 403
  kNotFound,      // 404
  kConflict,      // 409: illegal transition, second apology, empty queue
  kLocked,        // 429: account locked after failed sign-ins
  kUnavailable,   // 503: write queue full, calendar does not cover the date
  kInternal,      // 500
};

struct DomainError {
  ErrorKind kind = ErrorKind::kInternal;
  std::string code;  // machine-readable, e.g. "illegal_transition"
  std::string message_vi;
  std::string message_en;
  std::vector<FieldError> fields;
};

inline DomainError invalid(std::vector<FieldError> fields) {
  return DomainError{ErrorKind::kInvalid, "invalid_input", "Dữ liệu không hợp lệ.", "Invalid input.",
                     std::move(fields)};
}
inline DomainError not_found(std::string what_vi, std::string what_en) {
  return DomainError{ErrorKind::kNotFound, "not_found", "Không tìm thấy " + what_vi + ".",
                     std::move(what_en) + " not found.", {}};
}
inline DomainError conflict(std::string code, std::string vi, std::string en) {
  return DomainError{ErrorKind::kConflict, std::move(code), std::move(vi), std::move(en), {}};
}
inline DomainError internal_error() {
  return DomainError{ErrorKind::kInternal, "internal", "Lỗi hệ thống; vui lòng thử lại.",
                     "Internal error; please try again.", {}};
}

template <typename T>
class Outcome {
 public:
  Outcome(T value) : value_(std::move(value)) {}                 // NOLINT
  Outcome(DomainError error) : error_(std::move(error)) {}       // NOLINT
  bool ok() const { return value_.has_value(); }
  T& value() { return *value_; }
  const T& value() const { return *value_; }
  const DomainError& error() const { return error_; }

 private:
  std::optional<T> value_;
  DomainError error_;
};

struct Done {};

}  // namespace wardsync::node
