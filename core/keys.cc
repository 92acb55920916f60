#include "core/keys.h"

#include <cryptopp/donna.h>
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

}  // namespace

bool is_known_valid_public_key(const PublicKey& key) {
  thread_local std::set<PublicKey> valid_keys;
  if (valid_keys.count(key) > 0) return true;
  if (!is_valid_public_key(key)) return false;
  if (valid_keys.size() >= kValidKeyCacheEntries) valid_keys.clear();
  valid_keys.insert(key);
  return true;
}

namespace {
// The group order L = 2^252 + 27742317777372353535851937790883648493, little-endian.
constexpr std::array<std::uint8_t, 32> kGroupOrder = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

// The canonical encoding of the identity point (x = 0, y = 1).
constexpr std::array<std::uint8_t, 32> kIdentityEncoding = {0x01};
}  // namespace

bool is_canonical_scalar(const std::uint8_t* scalar) {
  for (std::size_t i = kGroupOrder.size(); i-- > 0;) {
    if (scalar[i] != kGroupOrder[i]) return scalar[i] < kGroupOrder[i];
  }
  return false;  // equal to L
}

bool verify_signature(const PublicKey& key, ByteView message, const Signature& signature) {
  // The equation is checked by Crypto++'s Ed25519 (ed25519-donna), which verifies about a fifth
  // faster than libsodium here, and every validator checks every transaction's signature. Its
  // own checks are looser than libsodium's, so the rules of the strict verifier come first and
  // together accept exactly what libsodium's crypto_sign_verify_detached accepts for a key that
  // passes is_valid_public_key (a differential test holds the two to it):
  //  - the key is canonical, of large order and in the prime-order subgroup (checked once per key);
  //  - S < L, so S + L is not a second valid signature (donna only looks at S's top bits);
  //  - R is not of small order. With A and B in the prime-order subgroup, [S]B - [h]A is too,
  //    and donna compares its canonical encoding with R byte for byte, so a small-order or
  //    non-canonical R can never match, except the identity, which is in that subgroup and
  //    which libsodium refuses. So R = identity is the one case left to refuse here.
  if (!is_known_valid_public_key(key)) return false;
  const std::uint8_t* r_bytes = signature.bytes.data();
  const std::uint8_t* s_bytes = signature.bytes.data() + 32;
  if (!is_canonical_scalar(s_bytes)) return false;
  if (std::memcmp(r_bytes, kIdentityEncoding.data(), kIdentityEncoding.size()) == 0) return false;
  return CryptoPP::Donna::ed25519_sign_open(message.data(), message.size(), key.bytes.data(), signature.bytes.data()) == 0;
}

}  // namespace carbon::core
