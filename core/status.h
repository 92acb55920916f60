// Status and Result<T>: how every expected failure is reported in carbonledger.
//
// Expected failures (bad input from a peer, a client or a file; a rule a transaction breaks)
// travel as values, never as exceptions, so the consensus core and the contracts can stay
// exception-free. Programmer errors are CARBON_ASSERT (core/assert.h) instead.
//
// Thread safety: plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "core/assert.h"

namespace carbon::core {

enum class ErrorCode : std::uint16_t {
  kOk = 0,
  kInvalidArgument,   // input malformed or out of range
  kDecodeError,       // bytes do not decode to a canonical value
  kOverflow,          // integer arithmetic would overflow
  kBadSignature,      // signature or key rejected
  kNotFound,          // a looked-up thing does not exist
  kOutOfBounds,       // a named limit was exceeded
  kUnauthorized,      // the signer may not do this
  kConflict,          // state does not allow this (duplicate, stale, ...)
  kIoError,           // storage or network failure
  kInternal,          // should not happen; reported, not trusted
};

std::string_view error_code_name(ErrorCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(ErrorCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return Status(); }
  static Status error(ErrorCode code, std::string message) {
    CARBON_ASSERT(code != ErrorCode::kOk);
    return Status(code, std::move(message));
  }

  bool is_ok() const { return code_ == ErrorCode::kOk; }
  explicit operator bool() const { return is_ok(); }
  ErrorCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "decode_error: vector length 70000 exceeds limit 4096"
  std::string to_string() const;

 private:
  ErrorCode code_ = ErrorCode::kOk;
  std::string message_;
};

// Either a value or a non-ok Status.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Result(Status status) : value_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    CARBON_ASSERT(!std::get<Status>(value_).is_ok());
  }

  bool is_ok() const { return std::holds_alternative<T>(value_); }
  explicit operator bool() const { return is_ok(); }

  const T& value() const& {
    CARBON_ASSERT(is_ok());
    return std::get<T>(value_);
  }
  T& value() & {
    CARBON_ASSERT(is_ok());
    return std::get<T>(value_);
  }
  T&& value() && {
    CARBON_ASSERT(is_ok());
    return std::get<T>(std::move(value_));
  }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

  Status status() const { return is_ok() ? Status::ok() : std::get<Status>(value_); }

 private:
  std::variant<T, Status> value_;
};

}  // namespace carbon::core

// Propagate a non-ok Status from an expression returning Status.
#define CARBON_RETURN_IF_ERROR(expr)              \
  do {                                            \
    ::carbon::core::Status carbon_status_ = (expr); \
    if (!carbon_status_.is_ok()) return carbon_status_; \
  } while (0)
