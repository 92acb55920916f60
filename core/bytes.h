// Byte containers and hex helpers.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace carbon::core {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Lower-case hex, two characters per byte.
std::string to_hex(ByteView bytes);
// The same, appended to `out` (for text built piece by piece, like the contracts' state keys).
void append_hex(std::string& out, ByteView bytes);
// Accepts upper or lower case; rejects odd length and non-hex characters.
Result<Bytes> from_hex(std::string_view hex);

// Whether `text` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates (U+D800 to
// U+DFFF), nothing above U+10FFFF, no truncated sequence. Text fields of the canonical encoding
// must be: they end up in JSON answers and logs.
bool is_valid_utf8(std::string_view text);

// Parses exactly N bytes of hex into a fixed array.
template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_from_hex(std::string_view hex) {
  auto bytes = from_hex(hex);
  if (!bytes) return bytes.status();
  if (bytes->size() != N) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "expected " + std::to_string(N) + " bytes of hex, got " + std::to_string(bytes->size()));
  }
  std::array<std::uint8_t, N> out{};
  for (std::size_t i = 0; i < N; ++i) out[i] = (*bytes)[i];
  return out;
}

}  // namespace carbon::core
