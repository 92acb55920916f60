#include "core/keys.h"

#include <sodium.h>

#include <cstring>
#include <set>

namespace carbon::core {

bool init_crypto() { return sodium_init() >= 0; }

std::string PublicKey::to_hex() const { return core::to_hex(bytes); }
std::string PublicKey::short_hex() const { return core::to_hex(ByteView(bytes.data(), 4)); }
Result<PublicKey> PublicKey::from_hex(std::string_view hex) {
  auto fixed = fixed_from_hex<32>(hex);
  if (!fixed) return fixed.status();
  return PublicKey{*fixed};
}

std::string Signature::to_hex() const { return core::to_hex(bytes); }
Result<Signature> Signature::from_hex(std::string_view hex) {
  auto fixed = fixed_from_hex<64>(hex);
  if (!fixed) return fixed.status();
  return Signature{*fixed};
}

SecretKey::SecretKey(const std::array<std::uint8_t, 32>& seed) : seed_(seed) {
  CARBON_ASSERT(crypto_sign_seed_keypair(public_key_.bytes.data(), expanded_.data(), seed_.data()) == 0);
}

SecretKey::~SecretKey() {
  sodium_memzero(seed_.data(), seed_.size());
  sodium_memzero(expanded_.data(), expanded_.size());
}

SecretKey::SecretKey(const SecretKey& other) = default;
SecretKey& SecretKey::operator=(const SecretKey& other) = default;

Signature SecretKey::sign(ByteView message) const {
  Signature out;
  CARBON_ASSERT(crypto_sign_detached(out.bytes.data(), nullptr, message.data(), message.size(), expanded_.data()) == 0);
  return out;
}

SecretKey generate_secret_key() {
  std::array<std::uint8_t, 32> seed{};
  randombytes_buf(seed.data(), seed.size());
  SecretKey key(seed);
  sodium_memzero(seed.data(), seed.size());
  return key;
}

bool is_valid_public_key(const PublicKey& key) {
  // crypto_core_ed25519_is_valid_point rejects non-canonical encodings, points not on the
  // curve, points of small order and points outside the main subgroup.
  return crypto_core_ed25519_is_valid_point(key.bytes.data()) == 1;
}

namespace {
// The subgroup check of a public key costs about as much as half a verification, and the same
// few keys (validators, active traders) sign again and again: remember the keys that passed,
// per thread (no locking), up to a bound after which the memory is simply cleared.
constexpr std::size_t kValidKeyCacheEntries = 8192;

bool is_known_valid_key(const PublicKey& key) {
  thread_local std::set<PublicKey> valid_keys;
  if (valid_keys.count(key) > 0) return true;
  if (!is_valid_public_key(key)) return false;
  if (valid_keys.size() >= kValidKeyCacheEntries) valid_keys.clear();
  valid_keys.insert(key);
  return true;
}
}  // namespace

bool verify_signature(const PublicKey& key, ByteView message, const Signature& signature) {
  // libsodium's verify already rejects S >= L, small-order R and small-order or
  // non-canonical public keys; the explicit key check adds the subgroup test.
  if (!is_known_valid_key(key)) return false;
  return crypto_sign_verify_detached(signature.bytes.data(), message.data(), message.size(), key.bytes.data()) == 0;
}

}  // namespace carbon::core
