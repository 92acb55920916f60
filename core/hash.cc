#include "core/hash.h"

#include <cryptopp/sha3.h>

namespace carbon::core {

bool Hash256::is_zero() const {
  for (auto b : bytes) {
    if (b != 0) return false;
  }
  return true;
}

std::string Hash256::to_hex() const { return core::to_hex(bytes); }
std::string Hash256::short_hex() const { return core::to_hex(ByteView(bytes.data(), 4)); }

Result<Hash256> Hash256::from_hex(std::string_view hex) {
  auto fixed = fixed_from_hex<32>(hex);
  if (!fixed) return fixed.status();
  return Hash256{*fixed};
}

Hash256 sha3_256(ByteView data) {
  CryptoPP::SHA3_256 hasher;
  hasher.Update(data.data(), data.size());
  Hash256 out;
  hasher.Final(out.bytes.data());
  return out;
}

struct Sha3Hasher::Impl {
  CryptoPP::SHA3_256 state;
};

Sha3Hasher::Sha3Hasher() : impl_(std::make_unique<Impl>()) {}
Sha3Hasher::~Sha3Hasher() = default;

Sha3Hasher& Sha3Hasher::update(ByteView data) {
  impl_->state.Update(data.data(), data.size());
  return *this;
}

Hash256 Sha3Hasher::finish() {
  Hash256 out;
  impl_->state.Final(out.bytes.data());
  return out;
}

}  // namespace carbon::core
