// Overflow-checked integer arithmetic.
//
// Amounts (tonnes, fen) and counters are unsigned or signed 64-bit integers. Every add,
// subtract and multiply that could overflow goes through these helpers, which report an
// overflow as a Status instead of wrapping silently. No floating point anywhere.
#pragma once

#include <concepts>
#include <string>

#include "core/status.h"

namespace carbon::core {

template <std::integral T>
Result<T> checked_add(T a, T b) {
  T out{};
  if (__builtin_add_overflow(a, b, &out)) {
    return Status::error(ErrorCode::kOverflow, "addition overflows: " + std::to_string(a) + " + " + std::to_string(b));
  }
  return out;
}

template <std::integral T>
Result<T> checked_sub(T a, T b) {
  T out{};
  if (__builtin_sub_overflow(a, b, &out)) {
    return Status::error(ErrorCode::kOverflow, "subtraction overflows: " + std::to_string(a) + " - " + std::to_string(b));
  }
  return out;
}

template <std::integral T>
Result<T> checked_mul(T a, T b) {
  T out{};
  if (__builtin_mul_overflow(a, b, &out)) {
    return Status::error(ErrorCode::kOverflow, "multiplication overflows: " + std::to_string(a) + " * " + std::to_string(b));
  }
  return out;
}

// a * b / d with the product in 128 bits, rounded down (toward zero for unsigned).
// The rounding rule is part of the result's meaning; callers name it in their docs.
inline Result<std::uint64_t> mul_div_floor(std::uint64_t a, std::uint64_t b, std::uint64_t d) {
  if (d == 0) return Status::error(ErrorCode::kInvalidArgument, "division by zero");
  const unsigned __int128 product = static_cast<unsigned __int128>(a) * b;
  const unsigned __int128 quotient = product / d;
  if (quotient > static_cast<unsigned __int128>(UINT64_MAX)) {
    return Status::error(ErrorCode::kOverflow, "mul_div_floor result exceeds 64 bits");
  }
  return static_cast<std::uint64_t>(quotient);
}

}  // namespace carbon::core
