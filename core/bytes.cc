#include "core/bytes.h"

namespace carbon::core {
namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

std::string to_hex(ByteView bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(bytes.size() * 2, '0');
  for (std::size_t i = 0; i < bytes.size(); ++i) {
    out[2 * i] = kDigits[bytes[i] >> 4];
    out[2 * i + 1] = kDigits[bytes[i] & 0x0f];
  }
  return out;
}

Result<Bytes> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Status::error(ErrorCode::kInvalidArgument, "hex string has odd length " + std::to_string(hex.size()));
  }
  Bytes out(hex.size() / 2);
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int high = hex_value(hex[2 * i]);
    const int low = hex_value(hex[2 * i + 1]);
    if (high < 0 || low < 0) {
      return Status::error(ErrorCode::kInvalidArgument, "not a hex digit at position " + std::to_string(high < 0 ? 2 * i : 2 * i + 1));
    }
    out[i] = static_cast<std::uint8_t>((high << 4) | low);
  }
  return out;
}

}  // namespace carbon::core
