#include "contracts/types.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <optional>

#include "contracts/key_text.h"
#include "contracts/market_records.h"
#include "contracts/records.h"
#include "core/codec.h"
#include "core/ed25519_batch.h"

namespace carbon::contracts {

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kAuthority:
      return "authority";
    case Role::kRegistryOperator:
      return "registry_operator";
    case Role::kExchange:
      return "exchange";
    case Role::kSettlementBank:
      return "settlement_bank";
    case Role::kVerifier:
      return "verifier";
    case Role::kCoveredEnterprise:
      return "covered_enterprise";
    case Role::kReportingEnterprise:
      return "reporting_enterprise";
    case Role::kReserve:
      return "reserve";
    case Role::kVoluntary:
      return "voluntary";
    case Role::kProjectOwner:
      return "project_owner";
  }
  return "unknown";
}

bool role_may_hold(Role role, ProductKind kind) {
  switch (role) {
    case Role::kCoveredEnterprise:
    case Role::kReserve:
    case Role::kVoluntary:
      return true;
    case Role::kProjectOwner:
      return kind == ProductKind::kCcer;
    default:
      return false;
  }
}

std::string ProductId::code() const { return keys::join(*this); }

namespace {
// A decimal number without sign or leading zeros, at most `max`.
std::optional<std::uint64_t> parse_decimal(std::string_view text, std::uint64_t max) {
  if (text.empty() || text.size() > 20 || (text.size() > 1 && text[0] == '0')) return std::nullopt;
  std::uint64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return std::nullopt;
    const auto digit = static_cast<std::uint64_t>(c - '0');
    if (value > (max - digit) / 10) return std::nullopt;
    value = value * 10 + digit;
  }
  return value;
}
}  // namespace

Result<ProductId> ProductId::from_code(std::string_view code) {
  const auto bad = [&] {
    return Status::error(ErrorCode::kInvalidArgument,
                         "unknown product code \"" + std::string(code) +
                             "\": expected HBEA-<year> or CCER-<project>-<year>");
  };
  ProductId out;
  std::string_view year_text;
  if (code.starts_with("HBEA-")) {
    out.kind = ProductKind::kAllowance;
    year_text = code.substr(5);
  } else if (code.starts_with("CCER-")) {
    out.kind = ProductKind::kCcer;
    const std::string_view rest = code.substr(5);
    const std::size_t dash = rest.find('-');
    if (dash == std::string_view::npos) return bad();
    const auto project = parse_decimal(rest.substr(0, dash), UINT64_MAX);
    if (!project) return bad();
    out.project_id = *project;
    year_text = rest.substr(dash + 1);
  } else {
    return bad();
  }
  const auto year = parse_decimal(year_text, UINT16_MAX);
  if (!year) return bad();
  out.vintage_year = static_cast<std::uint16_t>(*year);
  return out;
}

std::string_view call_name(const Call& call) {
  static constexpr std::array<std::string_view, 24> kNames = {
      "transfer_units", "propose", "approve", "rotate_key", "submit_report",
      "submit_verification", "register_project", "surrender", "deposit", "withdraw",
      "set_market_params", "list_product", "open_day", "close_day", "halt_product",
      "place_order", "cancel_order", "create_listing", "take_listing", "cancel_listing",
      "block_trade", "create_auction", "place_bid", "clear_auction"};
  static_assert(kNames.size() == std::variant_size_v<Call>);
  return kNames[call.index()];
}

std::string_view side_name(Side side) { return side == Side::kBuy ? "buy" : "sell"; }
std::string_view tif_name(TimeInForce tif) { return tif == TimeInForce::kDay ? "day" : "gtc"; }
std::string_view order_status_name(OrderStatus status) {
  static constexpr std::array<std::string_view, 4> kNames = {"open", "filled", "cancelled", "expired"};
  return kNames.at(static_cast<std::size_t>(status));
}
std::string_view order_end_name(OrderEnd end) {
  static constexpr std::array<std::string_view, 10> kNames = {
      "",          "by_owner",  "by_exchange", "self_trade",   "step_limit",
      "book_full", "day_close", "retired",     "outside_band", "frozen"};
  return kNames.at(static_cast<std::size_t>(end));
}
std::string_view trade_kind_name(TradeKind kind) {
  static constexpr std::array<std::string_view, 4> kNames = {"continuous", "fixed_price", "block",
                                                             "auction"};
  return kNames.at(static_cast<std::size_t>(kind));
}
std::string_view listing_status_name(ListingStatus status) {
  static constexpr std::array<std::string_view, 3> kNames = {"open", "sold_out", "cancelled"};
  return kNames.at(static_cast<std::size_t>(status));
}
std::string_view auction_status_name(AuctionStatus status) {
  static constexpr std::array<std::string_view, 2> kNames = {"open", "cleared"};
  return kNames.at(static_cast<std::size_t>(status));
}
std::string_view alert_kind_name(AlertKind kind) {
  static constexpr std::array<std::string_view, 2> kNames = {"related_trade",
                                                             "stabilisation_trigger"};
  return kNames.at(static_cast<std::size_t>(kind));
}

std::string_view act_name(const AuthorityAct& act) {
  static constexpr std::array<std::string_view, 19> kNames = {
      "register_participant", "update_participant", "set_frozen", "issue_allowances",
      "set_officers", "set_rules", "set_cap", "set_allocation", "issue_pre_allocation",
      "true_up_allocation", "adjust_allocation", "assign_verifier", "approve_emissions",
      "estimate_emissions", "approve_project", "issue_ccer", "close_year", "set_related",
      "instruct_reserve"};
  static_assert(kNames.size() == std::variant_size_v<AuthorityAct>);
  return kNames[act.index()];
}

namespace {
template <class E, std::size_t N>
Result<E> enum_from_name(std::string_view name, const std::array<std::string_view, N>& names,
                         std::string_view what) {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return static_cast<E>(i);
  std::string known;
  for (auto n : names) known += (known.empty() ? "" : ", ") + std::string(n);
  return Status::error(ErrorCode::kInvalidArgument,
                       "unknown " + std::string(what) + " \"" + std::string(name) + "\" (one of: " + known + ")");
}
constexpr std::array<std::string_view, 5> kProjectTypeNames = {
    "renewable_energy", "forestry_carbon_sink", "methane_recovery", "energy_efficiency", "other"};
constexpr std::array<std::string_view, 3> kAllocationMethodNames = {
    "grandfathering", "historical_intensity", "benchmark"};
}  // namespace

std::string_view project_type_name(ProjectType type) {
  return kProjectTypeNames.at(static_cast<std::size_t>(type));
}
Result<ProjectType> project_type_from_name(std::string_view name) {
  return enum_from_name<ProjectType>(name, kProjectTypeNames, "project type");
}
std::string_view allocation_method_name(AllocationMethod method) {
  return kAllocationMethodNames.at(static_cast<std::size_t>(method));
}
Result<AllocationMethod> allocation_method_from_name(std::string_view name) {
  return enum_from_name<AllocationMethod>(name, kAllocationMethodNames, "allocation method");
}
std::string_view mrv_status_name(MrvStatus status) {
  static constexpr std::array<std::string_view, 5> kNames = {"reported", "verified", "approved",
                                                             "estimated", "verifier_assigned"};
  return kNames.at(static_cast<std::size_t>(status));
}
std::string_view mrv_event_name(MrvEventKind kind) {
  static constexpr std::array<std::string_view, 5> kNames = {"report", "verifier_assigned", "verification",
                                                             "approval", "estimate"};
  return kNames.at(static_cast<std::size_t>(kind));
}
std::string_view issuance_kind_name(IssuanceKind kind) {
  static constexpr std::array<std::string_view, 5> kNames = {"direct", "pre_allocation", "true_up",
                                                             "adjustment", "ccer"};
  return kNames.at(static_cast<std::size_t>(kind));
}
std::string_view retirement_kind_name(RetirementKind kind) {
  static constexpr std::array<std::string_view, 4> kNames = {"surrendered", "cancelled_untraded",
                                                             "cancelled_no_banking", "withdrawn"};
  return kNames.at(static_cast<std::size_t>(kind));
}

Hash256 signing_digest(const Transaction& tx) {
  static constexpr std::string_view kDomain = "carbonledger/tx/v1";
  std::array<std::uint8_t, 8> length{};
  for (std::size_t i = 0; i < 8; ++i)
    length[i] = static_cast<std::uint8_t>(kDomain.size() >> (8 * i));
  const Bytes encoded = core::codec::encode(tx);
  core::Sha3Hasher hasher;
  hasher.update(length);
  hasher.update(core::as_bytes(kDomain));
  hasher.update(encoded);
  return hasher.finish();
}

Hash256 tx_id(const SignedTx& signed_tx) { return core::sha3_256(core::codec::encode(signed_tx)); }

void sign_tx(SignedTx& signed_tx, const core::SecretKey& key) {
  const Hash256 digest = signing_digest(signed_tx.tx);
  signed_tx.signatures.push_back(TxSignature{key.public_key(), key.sign(digest.bytes)});
}

namespace {

// The checks of check_signatures that come before any signature is verified.
Status check_signers(const SignedTx& signed_tx) {
  const auto& signatures = signed_tx.signatures;
  if (signatures.empty())
    return Status::error(ErrorCode::kBadSignature, "transaction is not signed");
  if (signatures.size() > kMaxSignatures) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "transaction has " + std::to_string(signatures.size()) +
                             " signatures, at most " + std::to_string(kMaxSignatures) +
                             " are allowed");
  }
  for (std::size_t i = 0; i < signatures.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (signatures[j].signer == signatures[i].signer) {
        return Status::error(ErrorCode::kBadSignature,
                             "signer " + signatures[i].signer.short_hex() + " signed twice");
      }
    }
  }
  return Status::ok();
}

// Below this many signatures a batch costs about as much per signature as the strict verifier
// one at a time, or more (verify_bench: a batch of 4 costs about 0.7 times the strict cost per
// signature, a batch of 1 about 1.4 times), so smaller sets are checked one transaction at a
// time (check_signatures).
constexpr std::size_t kMinBatchSignatures = 3;

std::size_t signature_count(std::span<const SignedTx* const> txs) {
  std::size_t count = 0;
  for (const SignedTx* tx : txs) count += tx->signatures.size();
  return count;
}

// Every signature checked in this process (see signatures_verified()).
std::atomic<std::uint64_t> signature_checks{0};

// The signatures of txs (each with its digest) as one batch.
bool verify_as_batch(std::span<const SignedTx* const> txs, std::span<const Hash256> digests) {
  std::vector<core::BatchSignature> batch;
  for (std::size_t i = 0; i < txs.size(); ++i) {
    for (const auto& entry : txs[i]->signatures) batch.push_back({&entry.signer, digests[i].bytes, &entry.signature});
  }
  signature_checks.fetch_add(batch.size(), std::memory_order_relaxed);
  return batch.empty() || core::verify_batch(batch);
}

// One signature by the cofactored rule (core/ed25519_batch.h). The strict verifier first: it is
// faster one at a time, and whatever it accepts the cofactored rule accepts too (same key, S
// and R conditions; its equation implies the cofactored one), so only a signature it refuses
// needs the cofactored check.
bool verify_one(const core::PublicKey& key, core::ByteView message, const core::Signature& signature) {
  signature_checks.fetch_add(1, std::memory_order_relaxed);
  return core::verify_signature(key, message, signature) || core::verify_cofactored(key, message, signature);
}

// The signatures of a transaction whose signers passed check_signers, one at a time, over its
// signing digest.
Status verify_each(const SignedTx& signed_tx, const Hash256& digest) {
  for (const auto& entry : signed_tx.signatures) {
    if (!verify_one(entry.signer, digest.bytes, entry.signature)) {
      return Status::error(ErrorCode::kBadSignature,
                           "signature by " + entry.signer.short_hex() + " does not verify");
    }
  }
  return Status::ok();
}

}  // namespace

std::uint64_t signatures_verified() { return signature_checks.load(std::memory_order_relaxed); }

Status check_signatures(const SignedTx& signed_tx) {
  CARBON_RETURN_IF_ERROR(check_signers(signed_tx));
  // Which signer must be present (the sender's current key) is a question of state: the
  // executor and the mempool check it (check_signer), since keys rotate.
  return verify_each(signed_tx, signing_digest(signed_tx.tx));
}

std::vector<Status> check_signatures_many(std::span<const SignedTx* const> txs) {
  std::vector<Status> verdicts(txs.size());
  // kSignatureBatch transactions hold at most kSignatureBatch * kMaxSignatures signatures,
  // within core::kMaxBatchSignatures.
  static_assert(kSignatureBatch * kMaxSignatures <= core::kMaxBatchSignatures);
  std::vector<const SignedTx*> chunk;
  std::vector<Hash256> digests;
  std::vector<std::size_t> positions;
  for (std::size_t from = 0; from < txs.size(); from += kSignatureBatch) {
    const std::size_t to = std::min(txs.size(), from + kSignatureBatch);
    chunk.clear();
    digests.clear();
    positions.clear();
    for (std::size_t i = from; i < to; ++i) {
      verdicts[i] = check_signers(*txs[i]);
      if (!verdicts[i].is_ok()) continue;
      chunk.push_back(txs[i]);
      digests.push_back(signing_digest(txs[i]->tx));
      positions.push_back(i);
    }
    if (signature_count(chunk) >= kMinBatchSignatures && verify_as_batch(chunk, digests)) continue;
    for (std::size_t k = 0; k < positions.size(); ++k) verdicts[positions[k]] = verify_each(*chunk[k], digests[k]);
  }
  return verdicts;
}

bool all_pass_check_signatures(std::span<const SignedTx* const> txs) {
  std::vector<Hash256> digests;
  for (std::size_t from = 0; from < txs.size(); from += kSignatureBatch) {
    const auto chunk = txs.subspan(from, std::min(kSignatureBatch, txs.size() - from));
    digests.clear();
    for (const SignedTx* tx : chunk) {
      if (!check_signers(*tx).is_ok()) return false;
      digests.push_back(signing_digest(tx->tx));
    }
    if (signature_count(chunk) < kMinBatchSignatures) {
      for (std::size_t k = 0; k < chunk.size(); ++k) {
        if (!verify_each(*chunk[k], digests[k]).is_ok()) return false;
      }
    } else if (!verify_as_batch(chunk, digests)) {
      return false;
    }
  }
  return true;
}

Bytes encode_signed_tx(const SignedTx& signed_tx) { return core::codec::encode(signed_tx); }

Result<SignedTx> decode_signed_tx(ByteView bytes) {
  auto decoded = core::codec::decode<SignedTx>(bytes, kMaxTxBytes);
  if (!decoded) return decoded.status();
  if (decoded->signatures.empty())
    return Status::error(ErrorCode::kDecodeError, "transaction has no signature");
  return decoded;
}

Bytes encode_receipt(const Receipt& receipt) { return core::codec::encode(receipt); }

Result<Receipt> decode_receipt(ByteView bytes) { return core::codec::decode<Receipt>(bytes, 1024); }

}  // namespace carbon::contracts
