// Batch verification of Ed25519 signatures: one multi-scalar multiplication for a whole batch
// instead of one double-scalar multiplication per signature (core/keys.h verifies one at a time).
//
// NOT USED BY THE NODE YET. It is here to measure what batching would save on this machine
// (tests/bench/verify_bench prints it) and as the building block of the plan in docs/node.md
// ("The path to 7,000 signed transactions a second"). Its acceptance rule differs from
// verify_signature's, which is why the node cannot simply switch:
//
//   verify_signature (strict, cofactorless):  R == [S]B - [h]A
//   verify_batch     (cofactored):             [8]([S]B - R - [h]A) == identity
//
// For keys in the prime-order subgroup (the only keys either accepts) the two agree on every
// R in that subgroup, and so on every signature an honest signer makes. They differ on an R
// with a small-order component T: (R + T, S) passes the batch rule whenever (R, S) is valid,
// so a third party could turn one valid signature into eight. A transaction id that hashes the
// signature would then be malleable; docs/node.md says how the plan closes that gap.
//
// The batch check itself: with z_i 128-bit coefficients derived from a hash of the whole batch,
// [8]([sum z_i S_i]B - sum [z_i]R_i - sum [z_i h_i]A_i) == identity. It passes when every
// signature passes the cofactored rule, and fails with probability 1 - 2^-128 or better when
// one does not; a false result says only that some signature failed (verify one at a time to
// find which).
//
// Arithmetic: GF(2^255 - 19) in five 51-bit limbs, extended twisted Edwards coordinates,
// Straus's method with signed 4-bit windows. Variable time: only public data (signatures,
// keys, messages) is processed. Scalars mod L: libsodium.
//
// Thread safety: reentrant.
#pragma once

#include <cstddef>
#include <span>

#include "core/bytes.h"
#include "core/keys.h"

namespace carbon::core {

struct BatchSignature {
  const PublicKey* key = nullptr;
  ByteView message;
  const Signature* signature = nullptr;
};

// Upper bound on one batch (the scratch space is proportional to it).
inline constexpr std::size_t kMaxBatchSignatures = 1024;

// True when every signature passes the cofactored rule above, each key is a valid public key
// (core::is_valid_public_key: canonical, in the prime-order subgroup), each S is canonical
// (S < L) and each R is the canonical encoding of a curve point other than one of small order.
// False for an empty batch or one larger than kMaxBatchSignatures.
bool verify_batch(std::span<const BatchSignature> batch);

// The cofactored rule for one signature (a batch of one), for tests and comparison.
bool verify_cofactored(const PublicKey& key, ByteView message, const Signature& signature);

}  // namespace carbon::core
