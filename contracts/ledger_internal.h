// Private to the contracts library: record encoding behind Ledger::get/put, the shared error
// helpers of the contract modules, and the modules' entry points (one apply() per call or
// authority act, implemented in participants/ledger, governance, mrv, allocation, ccer and
// compliance .cc files). Not included outside contracts/ (it pulls in the cereal codec).
#pragma once

#include <string>
#include <string_view>

#include "contracts/context.h"
#include "contracts/ledger.h"
#include "contracts/records.h"
#include "core/codec.h"

namespace carbon::contracts {

template <class T>
Result<std::optional<T>> Ledger::get(const std::string& key) const {
  const Bytes* bytes = reader_.find(key);  // decoded in place: no copy of the record
  if (bytes == nullptr) return std::optional<T>{};
  // Records the executor wrote itself: bounded and checked, but not re-encoded to prove them
  // canonical (core/codec.h, CanonicalCheck::kSkipped).
  auto decoded = core::codec::decode<T>(*bytes, core::codec::kMaxEncodedBytes, core::codec::CanonicalCheck::kSkipped);
  if (!decoded) {
    return Status::error(ErrorCode::kInternal,
                         "corrupt state record at " + key + ": " + decoded.status().message());
  }
  return std::optional<T>(std::move(*decoded));
}

template <class T>
void Ledger::put(const std::string& key, const T& value) {
  writer().put(key, core::codec::encode(value));
}

// "2026-02-28 23:59:59.999 Beijing time": a block time or deadline for messages people read.
std::string beijing_time(std::uint64_t time_ms);
// "1,234,567 t": tonnes with thousands separators, for messages people read.
std::string tonnes(std::uint64_t quantity_t);
std::string grouped(std::uint64_t value);  // "1,234,567"
Status unauthorized(std::string_view what);  // "only the authority may <what>"
Status check_quantity(std::uint64_t quantity_t);
Status check_year(std::uint16_t year);
// The account of `key`, or kNotFound naming `what` ("enterprise", "verifier", ...).
Result<Account> require_account(const Ledger& ledger, const PublicKey& key, std::string_view what);
// Fails unless the account has one of the roles.
Status require_role(const Account& account, std::initializer_list<Role> roles, std::string_view doing);
// The rules in force for year Y (the stored version, or the defaults as version 0).
Result<RulesRecord> rules_in_force(const Ledger& ledger, std::uint16_t year);

// ---- keys of contracts/records.h ----
namespace keys {
inline constexpr std::string_view kClock = "meta/clock";
inline constexpr std::string_view kOfficers = "gov/officers";
std::string proposal(std::uint64_t id);
std::string rules(std::uint16_t year);
std::string rules_version(std::uint16_t year, std::uint32_t version);
std::string signing_key(const PublicKey& key);
std::string cap(std::uint16_t year);
std::string allocation(std::uint16_t year, const PublicKey& enterprise);
std::string emission(std::uint16_t year, const PublicKey& enterprise);
std::string emission_event(std::uint16_t year, const PublicKey& enterprise, std::uint32_t seq);
std::string project(std::uint64_t id);
std::string issuance(const ProductId& product, std::uint64_t start);
std::string retired(const ProductId& product, std::uint64_t start);
std::string move(const ProductId& product, Height height, std::uint32_t tx_index, std::uint32_t leg);
// The history of a product the owner no longer holds (BalanceRecord, contracts/records.h).
std::string holder_history(const PublicKey& owner, const ProductId& product);
// Holders of intervention allowances of a product (HolderHistory::intervention_t > 0).
std::string intervention_holders_prefix(const ProductId& product);
std::string intervention_holder(const ProductId& product, const PublicKey& owner);
std::string surrendered(std::uint16_t year, const PublicKey& enterprise);
std::string compliance_row(std::uint16_t year, const PublicKey& enterprise);
std::string year_closed(std::uint16_t year);
}  // namespace keys

// ---- module entry points ----
// participants and units (ledger.cc)
Status apply_act(Ledger& ledger, const Context& ctx, const RegisterParticipant& act);
Status apply_act(Ledger& ledger, const Context& ctx, const UpdateParticipant& act);
Status apply_act(Ledger& ledger, const Context& ctx, const SetFrozen& act);
Status apply_act(Ledger& ledger, const Context& ctx, const IssueAllowances& act);
Status apply_call(Ledger& ledger, const Context& ctx, const TransferUnits& call);
Status apply_call(Ledger& ledger, const Context& ctx, const RotateKey& call);
// governance (governance.cc)
Status apply_act(Ledger& ledger, const Context& ctx, const SetOfficers& act);
Status apply_act(Ledger& ledger, const Context& ctx, const SetRules& act);
Status apply_call(Ledger& ledger, const Context& ctx, const Propose& call);
Status apply_call(Ledger& ledger, const Context& ctx, const Approve& call);
// MRV (mrv.cc)
Status apply_act(Ledger& ledger, const Context& ctx, const AssignVerifier& act);
Status apply_act(Ledger& ledger, const Context& ctx, const ApproveEmissions& act);
Status apply_act(Ledger& ledger, const Context& ctx, const EstimateEmissions& act);
Status apply_call(Ledger& ledger, const Context& ctx, const SubmitReport& call);
Status apply_call(Ledger& ledger, const Context& ctx, const SubmitVerification& call);
// cap and allocation (allocation.cc)
Status apply_act(Ledger& ledger, const Context& ctx, const SetCap& act);
Status apply_act(Ledger& ledger, const Context& ctx, const SetAllocation& act);
Status apply_act(Ledger& ledger, const Context& ctx, const IssuePreAllocation& act);
Status apply_act(Ledger& ledger, const Context& ctx, const TrueUpAllocation& act);
Status apply_act(Ledger& ledger, const Context& ctx, const AdjustAllocation& act);
// CCER (ccer.cc)
Status apply_call(Ledger& ledger, const Context& ctx, const RegisterProject& call);
Status apply_act(Ledger& ledger, const Context& ctx, const ApproveProject& act);
Status apply_act(Ledger& ledger, const Context& ctx, const IssueCcer& act);
// compliance (compliance.cc)
Status apply_call(Ledger& ledger, const Context& ctx, const Surrender& call);
Status apply_act(Ledger& ledger, const Context& ctx, const CloseYear& act);

}  // namespace carbon::contracts
