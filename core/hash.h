// SHA3-256 (FIPS 202, via Crypto++) and the 32-byte digest type used for every id and root.
//
// Thread safety: sha3_256 is reentrant; a Sha3Hasher object is not shared between threads.
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <memory>
#include <string>

#include "core/bytes.h"

namespace carbon::core {

struct Hash256 {
  std::array<std::uint8_t, 32> bytes{};

  auto operator<=>(const Hash256&) const = default;
  bool is_zero() const;
  std::string to_hex() const;
  // First 8 hex characters, for log lines.
  std::string short_hex() const;
  static Result<Hash256> from_hex(std::string_view hex);

  template <class Archive>
  void serialize(Archive& archive) {
    archive(bytes);
  }
};

Hash256 sha3_256(ByteView data);

// Incremental hashing, for domain-separated hashes over several parts.
class Sha3Hasher {
 public:
  Sha3Hasher();
  ~Sha3Hasher();
  Sha3Hasher(const Sha3Hasher&) = delete;
  Sha3Hasher& operator=(const Sha3Hasher&) = delete;

  Sha3Hasher& update(ByteView data);
  Hash256 finish();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace carbon::core

template <>
struct std::hash<carbon::core::Hash256> {
  std::size_t operator()(const carbon::core::Hash256& h) const noexcept {
    std::size_t out = 0;
    for (int i = 0; i < 8; ++i) out = (out << 8) | h.bytes[static_cast<std::size_t>(i)];
    return out;
  }
};
