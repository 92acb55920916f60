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

// Signs `message` as core::SecretKey(seed) would, but with R = rB + T (r fixed).
inline core::Signature sign_with_small_order_part(const std::array<std::uint8_t, 32>& seed, core::ByteView message) {
  const core::SecretKey key(seed);
  // The secret scalar a: SHA-512(seed), first half, clamped (RFC 8032), reduced mod L.
  std::array<std::uint8_t, 64> expanded{};
  crypto_hash_sha512(expanded.data(), seed.data(), seed.size());
  expanded[0] &= 248;
  expanded[31] &= 127;
  expanded[31] |= 64;
  std::array<std::uint8_t, 64> wide{};
  std::copy(expanded.begin(), expanded.begin() + 32, wide.begin());
  std::array<std::uint8_t, 32> a{};
  crypto_core_ed25519_scalar_reduce(a.data(), wide.data());
  const std::array<std::uint8_t, 32> r = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  std::array<std::uint8_t, 32> r_point{};
  crypto_scalarmult_ed25519_base_noclamp(r_point.data(), r.data());
  core::Signature signature;
  crypto_core_ed25519_add(signature.bytes.data(), r_point.data(), kOrder8Point.data());
  // h = SHA-512(R || A || M) mod L; S = r + h a.
  std::array<std::uint8_t, 64> digest{};
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, signature.bytes.data(), 32);
  crypto_hash_sha512_update(&state, key.public_key().bytes.data(), 32);
  crypto_hash_sha512_update(&state, message.data(), message.size());
  crypto_hash_sha512_final(&state, digest.data());
  std::array<std::uint8_t, 32> h{}, ha{}, s{};
  crypto_core_ed25519_scalar_reduce(h.data(), digest.data());
  crypto_core_ed25519_scalar_mul(ha.data(), h.data(), a.data());
  crypto_core_ed25519_scalar_add(s.data(), r.data(), ha.data());
  std::copy(s.begin(), s.end(), signature.bytes.begin() + 32);
  return signature;
}

}  // namespace carbon::test_crypto
