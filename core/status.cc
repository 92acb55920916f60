#include "core/status.h"

#include <cstdio>
#include <cstdlib>

namespace carbon::core {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kOk: return "ok";
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kDecodeError: return "decode_error";
    case ErrorCode::kOverflow: return "overflow";
    case ErrorCode::kBadSignature: return "bad_signature";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kOutOfBounds: return "out_of_bounds";
    case ErrorCode::kUnauthorized: return "unauthorized";
    case ErrorCode::kConflict: return "conflict";
    case ErrorCode::kIoError: return "io_error";
    case ErrorCode::kInternal: return "internal";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (is_ok()) return "ok";
  std::string out(error_code_name(code_));
  out += ": ";
  out += message_;
  return out;
}

void assertion_failed(const char* expr, const char* file, int line, const char* message) {
  std::fprintf(stderr, "carbonledger: assertion failed: %s at %s:%d%s%s\n", expr, file, line,
               message != nullptr ? ": " : "", message != nullptr ? message : "");
  std::fflush(stderr);
  std::abort();
}

}  // namespace carbon::core
