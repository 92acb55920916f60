// Ed25519 keys, signing (libsodium) and verification (libsodium's key checks, Crypto++'s
// verification equation: see verify_signature in keys.cc).
//
// Verification is strict: it rejects non-canonical signatures (S >= L), non-canonical,
// small-order and mixed-order public keys, and small-order R, so a signature cannot be mangled
// into a second valid one. It accepts exactly what libsodium's strict verification accepts for
// a valid key (a differential test checks it), and agrees with Project Wycheproof's vectors.
//
// Transactions' signatures are judged by the cofactored rule instead (core/ed25519_batch.h),
// the rule batch verification decides; this strict verifier serves consensus votes, peer
// handshakes, and as the first, faster try for one transaction signature.
//
// Thread safety: all functions are reentrant; init_crypto() must run once before any thread
// uses them (it is idempotent and thread-safe).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <string>

#include "core/bytes.h"

namespace carbon::core {

// Initializes libsodium; returns false if it could not be initialized.
bool init_crypto();

struct PublicKey {
  std::array<std::uint8_t, 32> bytes{};
  auto operator<=>(const PublicKey&) const = default;
  std::string to_hex() const;
  std::string short_hex() const;
  static Result<PublicKey> from_hex(std::string_view hex);
  template <class Archive>
  void serialize(Archive& archive) {
    archive(bytes);
  }
};

struct Signature {
  std::array<std::uint8_t, 64> bytes{};
  auto operator<=>(const Signature&) const = default;
  std::string to_hex() const;
  static Result<Signature> from_hex(std::string_view hex);
  template <class Archive>
  void serialize(Archive& archive) {
    archive(bytes);
  }
};

// A 32-byte Ed25519 seed; the expanded secret key is derived when signing. Wiped on destruction.
class SecretKey {
 public:
  SecretKey() = default;
  explicit SecretKey(const std::array<std::uint8_t, 32>& seed);
  ~SecretKey();
  SecretKey(const SecretKey& other);
  SecretKey& operator=(const SecretKey& other);

  const std::array<std::uint8_t, 32>& seed() const { return seed_; }
  PublicKey public_key() const { return public_key_; }
  Signature sign(ByteView message) const;

 private:
  std::array<std::uint8_t, 32> seed_{};
  std::array<std::uint8_t, 64> expanded_{};  // libsodium's seed || public key form
  PublicKey public_key_{};
};

// A fresh key from the OS random generator (never used by consensus or contracts).
SecretKey generate_secret_key();

// Strict verification, see the header comment.
bool verify_signature(const PublicKey& key, ByteView message, const Signature& signature);

// Whether a public key is acceptable at all (canonical, on the curve, in the prime-order
// subgroup, so not of small order).
bool is_valid_public_key(const PublicKey& key);

// is_valid_public_key, remembered per thread for the keys that passed (the check costs about
// half a verification, and the same keys sign again and again).
bool is_known_valid_public_key(const PublicKey& key);

// Whether 32 little-endian bytes are a scalar below the group order L (a canonical S).
bool is_canonical_scalar(const std::uint8_t* scalar);

}  // namespace carbon::core
