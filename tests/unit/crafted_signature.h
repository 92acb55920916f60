// A signature only the cofactored rule accepts (core/ed25519_batch.h), made the one way anyone
// can make one: by the key's owner, who signs with the commitment R = rB + T for T of order 8.
// [S]B - [h]A then equals rB, not R, which the strict rule sees and the cofactored rule, which
// multiplies the difference by 8, does not. For tests of the rule and of its use.
#pragma once

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "core/bytes.h"
#include "core/keys.h"

namespace carbon::test_crypto {

// A point of order 8 (its encoding).
inline constexpr std::array<std::uint8_t, 32> kOrder8Point = {
    0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
    0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05};

using Scalar = std::array<std::uint8_t, 32>;

// The secret scalar a of core::SecretKey(seed): SHA-512(seed), first half, clamped (RFC 8032),
// reduced mod L. aB is the public key.
inline Scalar secret_scalar(const std::array<std::uint8_t, 32>& seed) {
  std::array<std::uint8_t, 64> expanded{};
  crypto_hash_sha512(expanded.data(), seed.data(), seed.size());
  expanded[0] &= 248;
  expanded[31] &= 127;
  expanded[31] |= 64;
  std::array<std::uint8_t, 64> wide{};
  std::copy(expanded.begin(), expanded.begin() + 32, wide.begin());
  Scalar a{};
  crypto_core_ed25519_scalar_reduce(a.data(), wide.data());
  return a;
}

// The point rB (its encoding) for a scalar r.
inline std::array<std::uint8_t, 32> times_base(const Scalar& r) {
  std::array<std::uint8_t, 32> point{};
  crypto_scalarmult_ed25519_base_noclamp(point.data(), r.data());
  return point;
}

// A signature (R, S) with the given R, S = r + h a, h = SHA-512(R || key || message) mod L:
// what a signer who knows a (for the key as encoded) and r makes, whatever R and key really are.
inline core::Signature sign_raw(const Scalar& a, const Scalar& r, const std::array<std::uint8_t, 32>& r_encoded,
                                const std::array<std::uint8_t, 32>& key_encoded, core::ByteView message) {
  core::Signature signature;
  std::copy(r_encoded.begin(), r_encoded.end(), signature.bytes.begin());
  std::array<std::uint8_t, 64> digest{};
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, r_encoded.data(), 32);
  crypto_hash_sha512_update(&state, key_encoded.data(), 32);
  crypto_hash_sha512_update(&state, message.data(), message.size());
  crypto_hash_sha512_final(&state, digest.data());
  Scalar h{}, ha{}, s{};
  crypto_core_ed25519_scalar_reduce(h.data(), digest.data());
  crypto_core_ed25519_scalar_mul(ha.data(), h.data(), a.data());
  crypto_core_ed25519_scalar_add(s.data(), r.data(), ha.data());
  std::copy(s.begin(), s.end(), signature.bytes.begin() + 32);
  return signature;
}

// Signs `message` as core::SecretKey(seed) would, but with R = rB + T (r fixed).
inline core::Signature sign_with_small_order_part(const std::array<std::uint8_t, 32>& seed, core::ByteView message) {
  const Scalar r = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  std::array<std::uint8_t, 32> r_encoded{};
  const auto r_point = times_base(r);
  crypto_core_ed25519_add(r_encoded.data(), r_point.data(), kOrder8Point.data());
  return sign_raw(secret_scalar(seed), r, r_encoded, core::SecretKey(seed).public_key().bytes, message);
}

}  // namespace carbon::test_crypto
