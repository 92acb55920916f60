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
// chain id is inside tx. The tx id is SHA3-256(encode(signed_tx)); Ed25519 verification is
// strict (core/keys.h), so a valid signature cannot be mangled into a second id.
//
// Thread safety: plain values; check_signatures is reentrant (the node runs it on a pool).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "contracts/limits.h"
#include "core/bytes.h"
#include "core/codec_fields.h"
#include "core/hash.h"
#include "core/keys.h"
#include "core/status.h"

namespace carbon::contracts {

using core::Bytes;
using core::ByteView;
using core::ErrorCode;
using core::Hash256;
using core::PublicKey;
using core::Result;
using core::Signature;
using core::Status;
using Height = std::uint64_t;

// An enum carried as one byte; values above kMax are refused when decoding.
template <class Archive, class E, E kMax>
void enum_field(Archive& archive, E& value) {
  if constexpr (core::codec::kIsLoading<Archive>) {
    std::uint8_t raw = 0;
    archive(raw);
    if (raw > static_cast<std::uint8_t>(kMax)) {
      core::codec::throw_decode_error("enum value " + std::to_string(raw) + " out of range");
    }
    value = static_cast<E>(raw);
  } else {
    archive(static_cast<std::uint8_t>(value));
  }
}

// A flag carried as one byte that must be 0 or 1 (a bare bool would accept any byte).
template <class Archive>
void flag_field(Archive& archive, std::uint8_t& flag) {
  archive(flag);
  if constexpr (core::codec::kIsLoading<Archive>) {
    if (flag > 1)
      core::codec::throw_decode_error("flag " + std::to_string(flag) + " is neither 0 nor 1");
  }
}

// The roles of RULES.md, "Who takes part". Values are part of the encoding: append only.
enum class Role : std::uint8_t {
  kAuthority = 0,
  kRegistryOperator = 1,
  kExchange = 2,
  kSettlementBank = 3,
  kVerifier = 4,
  kCoveredEnterprise = 5,
  kReportingEnterprise = 6,
  kReserve = 7,
  kVoluntary = 8,
  kProjectOwner = 9,
};
inline constexpr Role kMaxRole = Role::kProjectOwner;
std::string_view role_name(Role role);

enum class ProductKind : std::uint8_t {
  kAllowance = 0,  // HBEA, per compliance year (vintage)
  kCcer = 1,       // per project and vintage (not issuable yet)
};
inline constexpr ProductKind kMaxProductKind = ProductKind::kCcer;

// Whether a participant of this role may hold units of this kind (RULES.md: covered
// enterprises, the reserve and voluntary participants hold allowances and CCERs; project
// owners receive CCER issuance).
bool role_may_hold(Role role, ProductKind kind);

// One fungible product. Allowances have project_id 0.
struct ProductId {
  ProductKind kind = ProductKind::kAllowance;
  std::uint16_t vintage_year = 0;
  std::uint64_t project_id = 0;

  auto operator<=>(const ProductId&) const = default;
  // "HBEA-2025" or "CCER-<project>-2025": the display name, also used in state keys.
  std::string code() const;
  // The inverse of code(): "HBEA-<year>" or "CCER-<project>-<year>", decimal without leading
  // zeros (so each product has exactly one code).
  static Result<ProductId> from_code(std::string_view code);
  static ProductId allowance(std::uint16_t vintage_year) {
    return ProductId{ProductKind::kAllowance, vintage_year, 0};
  }

  template <class A>
  void serialize(A& archive) {
    enum_field<A, ProductKind, kMaxProductKind>(archive, kind);
    archive(vintage_year, project_id);
  }
};

// ---- Contract calls -------------------------------------------------------------------------

// Authority only: admit a participant with a role.
struct RegisterParticipant {
  PublicKey key;
  std::string name;
  Role role = Role::kVoluntary;
  auto operator<=>(const RegisterParticipant&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(key);
    core::codec::bounded_string(archive, name, kMaxNameBytes);
    enum_field<A, Role, kMaxRole>(archive, role);
  }
};

// Authority only: mint quantity_t allowances of a vintage, as the next serial range, to a
// participant whose role may hold allowances.
struct IssueAllowances {
  PublicKey to;
  std::uint16_t vintage_year = 0;
  std::uint64_t quantity_t = 0;
  auto operator<=>(const IssueAllowances&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(to, vintage_year, quantity_t);
  }
};

// Any holder: move quantity_t units of a product to another participant (lowest serials first).
struct TransferUnits {
  PublicKey to;
  ProductId product;
  std::uint64_t quantity_t = 0;
  auto operator<=>(const TransferUnits&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(to, product, quantity_t);
  }
};

// Authority only: freeze (1) or unfreeze (0) an account; frozen accounts cannot transfer.
struct SetFrozen {
  PublicKey account;
  std::uint8_t frozen = 0;
  auto operator<=>(const SetFrozen&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(account);
    flag_field(archive, frozen);
  }
};

// Alternatives are part of the encoding (cereal writes the index): append only.
using Call = std::variant<RegisterParticipant, IssueAllowances, TransferUnits, SetFrozen>;
std::string_view call_name(const Call& call);

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

// Stateless: 1..kMaxSignatures signatures, no duplicate signer, the sender among the signers,
// every signature valid (strict Ed25519) over signing_digest(tx).
Status check_signatures(const SignedTx& signed_tx);

Bytes encode_signed_tx(const SignedTx& signed_tx);
// Bounded by kMaxTxBytes; total (never throws); also checks the signature count.
Result<SignedTx> decode_signed_tx(ByteView bytes);

Bytes encode_receipt(const Receipt& receipt);
Result<Receipt> decode_receipt(ByteView bytes);

}  // namespace carbon::contracts
