// Batch verification of Ed25519 signatures: one multi-scalar multiplication for a whole batch
// instead of one double-scalar multiplication per signature. Transactions' signatures are
// checked with it (contracts::check_signatures_many), at about half the cost per signature of
// core::verify_signature on this machine (verify_bench prints both); one signature alone is
// tried with the strict verifier first and with verify_cofactored only if that refuses
// (contracts::check_signatures). Its acceptance rule is Ed25519's cofactored one:
//
//   verify_signature (strict, cofactorless):  R == [S]B - [h]A
//   verify_batch     (cofactored):             [8]([S]B - R - [h]A) == identity
//
// A batch can only decide the cofactored rule, so everything that judges a transaction uses it,
// alone or in a batch, and the verdict never depends on the path. For keys in the prime-order
// subgroup (the only keys either rule accepts) the two rules agree on every signature an honest
// signer makes. They differ on an R with a small-order component, which only the key's owner
// can produce with a valid S (R is hashed into h, so a third party who changes R breaks the
// equation under either rule): it gains the owner nothing, since the owner can sign the same
// transaction again anyway. Consensus votes and peer handshakes keep the strict verifier.
//
// The batch check itself: with z_i 128-bit coefficients derived from a hash of the whole batch,
// [8]([sum z_i S_i]B - sum [z_i]R_i - sum [z_i h_i]A_i) == identity. It passes when every
// signature passes the cofactored rule, and fails when one does not (except with probability
// about 2^-127); a false result says only that some signature failed (verify one at a time to
// find which).
//
// Arithmetic: GF(2^255 - 19) in five 51-bit limbs, extended twisted Edwards coordinates,
// Straus's method with width-5 non-adjacent forms for each R, and width-7 ones for the keys and
// the base point, whose tables of odd multiples are built once and kept (the last 2,048 to 4,096
// keys used, about 5 KiB each, shared by all threads). Variable time: only public data
// (signatures, keys, messages) is processed. Scalars mod L: libsodium.
//
// Thread safety: reentrant; the table cache is shared under a reader-writer lock.
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
// Keys whose precomputed tables are kept (about 5 KiB each): the last kKeyTableCacheEntries / 2
// to kKeyTableCacheEntries keys used (two generations; see key_table in the .cc).
inline constexpr std::size_t kKeyTableCacheEntries = 4096;

// True when every signature passes the cofactored rule above, each key is a valid public key
// (core::is_valid_public_key: canonical, in the prime-order subgroup), each S is canonical
// (S < L) and each R is the canonical encoding of a curve point other than one of small order.
// False for an empty batch or one larger than kMaxBatchSignatures.
bool verify_batch(std::span<const BatchSignature> batch);

// The cofactored rule for one signature (a batch of one): the second try of
// contracts::check_signatures, after the strict verifier (whatever that accepts, this does).
bool verify_cofactored(const PublicKey& key, ByteView message, const Signature& signature);

}  // namespace carbon::core
