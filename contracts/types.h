// Transactions of the carbon ledger: the roles of RULES.md, product ids, the contract calls,
// Transaction and SignedTx, their canonical encoding, signing digest, tx id and the
// stateless signature check.
//
// Encoding: the canonical cereal encoding of core/codec.h. Enums travel as one byte and are
// range-checked on decode; flags travel as one byte that must be 0 or 1.
//
// Signing: every signer signs signing_digest(tx) =
//   SHA3-256(u64le(len("carbonledger/tx/v1")) || "carbonledger/tx/v1" || encode(tx)),
// so a signature over a transaction cannot be replayed as any other kind of message. The
// chain id is inside tx. The tx id is SHA3-256(encode(signed_tx)); signatures must have a
// canonical S, and R is hashed into the challenge, so nobody but the signer can turn a valid
// signature into a second one with another id (check_signatures below).
//
// Thread safety: plain values; check_signatures is reentrant (the node runs it on a pool).
#pragma once

#include <span>

#include <cstdint>
#include <string>
#include <vector>

#include "contracts/basics.h"
#include "contracts/calls.h"

namespace carbon::contracts {

struct Transaction {
  std::string chain_id;
  PublicKey sender;
  std::uint64_t nonce = 0;   // the sender's previous nonce + 1; the first tx has nonce 1
  Height expiry_height = 0;  // invalid in blocks with height > expiry_height
  Call call;

  friend bool operator==(const Transaction&, const Transaction&) = default;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(sender, nonce, expiry_height, call);
  }
};

struct TxSignature {
  PublicKey signer;
  Signature signature;
  friend bool operator==(const TxSignature&, const TxSignature&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(signer, signature);
  }
};

struct SignedTx {
  Transaction tx;
  std::vector<TxSignature> signatures;  // 1..kMaxSignatures, sender among the signers

  friend bool operator==(const SignedTx&, const SignedTx&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(tx);
    core::codec::bounded_vector(archive, signatures, kMaxSignatures, 96);
  }
};

// What became of one transaction in a block. code kOk means applied.
struct Receipt {
  Hash256 tx_id;
  ErrorCode code = ErrorCode::kOk;
  std::string message;

  bool ok() const { return code == ErrorCode::kOk; }
  friend bool operator==(const Receipt&, const Receipt&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(tx_id);
    enum_field<A, ErrorCode, ErrorCode::kInternal>(archive, code);
    core::codec::bounded_string(archive, message, kMaxReceiptMessageBytes);
  }
};

Hash256 signing_digest(const Transaction& tx);
Hash256 tx_id(const SignedTx& signed_tx);

// Adds the signature of `key` over signing_digest(signed_tx.tx).
void sign_tx(SignedTx& signed_tx, const core::SecretKey& key);

// Stateless: 1..kMaxSignatures signatures, no duplicate signer, every signature valid over
// signing_digest(tx). That the sender's current key signed is checked against the state
// (check_signer in contracts/executor.h).
//
// "Valid" is Ed25519's cofactored rule (core/ed25519_batch.h): the rule that batch
// verification decides, so that a transaction is judged the same whether it is checked alone or
// in a batch, on whichever node and path (admission, vote, execution). It accepts every
// signature the strict rule accepts; it also accepts the few a key's owner can craft with a
// small-order component in R, which changes nothing a third party can do.
Status check_signatures(const SignedTx& signed_tx);

// check_signatures for many transactions at once, with the same verdicts: the signatures of up
// to kSignatureBatch transactions at a time are verified as one batch, which on this machine
// costs about half as much per signature as verifying them one by one. Where a batch fails, its
// transactions are checked one by one, not by halving the batch, which would cost up to seven
// times the work for a batch of bad signatures. (A batch that fails still costs its own check
// on top of the one-by-one checks, and a signature that fails one by one is checked by both
// rules, about 2.4 strict verifications: bad signatures cost the node about three times what
// good ones do.) One status per transaction.
inline constexpr std::size_t kSignatureBatch = 64;
std::vector<Status> check_signatures_many(std::span<const SignedTx* const> txs);
// Whether every transaction passes check_signatures, for a vote: a failed batch ends it, without
// finding which transaction failed.
bool all_pass_check_signatures(std::span<const SignedTx* const> txs);
// How many transaction signatures this process has checked (one by one or in batches) through
// check_signatures, check_signatures_many and all_pass_check_signatures: GET /status reports
// it, and with the committed count it shows whether any signature is checked more than once.
std::uint64_t signatures_verified();

Bytes encode_signed_tx(const SignedTx& signed_tx);
// Bounded by kMaxTxBytes; total (never throws); also checks the signature count.
Result<SignedTx> decode_signed_tx(ByteView bytes);

Bytes encode_receipt(const Receipt& receipt);
Result<Receipt> decode_receipt(ByteView bytes);

}  // namespace carbon::contracts
