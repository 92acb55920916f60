// The contract calls: what a transaction asks the ledger to do.
//
// Two kinds:
//   - Direct calls, signed by the participant acting for itself (a transfer, an emission
//     report, a verification, a project registration, a surrender, a key rotation), and the
//     governance calls Propose / Approve signed by an authority officer.
//   - Authority acts (AuthorityAct), which never travel alone: an officer proposes one, other
//     officers approve it, and it executes in the transaction that brings the approvals to the
//     threshold M of the officer set (RULES.md "four-eyes"; with M = 1 it executes at once).
//
// Every variant's alternatives are part of the encoding (cereal writes the index): append only.
// Units: tonnes (_t), fen, basis points (_bp), parts per million (_ppm), grams (_g).
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "contracts/basics.h"
#include "contracts/market_calls.h"
#include "contracts/rules.h"

namespace carbon::contracts {

inline constexpr std::size_t kMaxOfficers = 7;
inline constexpr std::size_t kMaxTextBytes = 256;  // methodology names, project names

// ---- Participants (authority acts, except RotateKey) ----------------------------------------

// Admit a participant with a role.
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

// Change a participant's name and role (the authority role is never granted this way).
struct UpdateParticipant {
  PublicKey account;
  std::string name;
  Role role = Role::kVoluntary;
  auto operator<=>(const UpdateParticipant&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(account);
    core::codec::bounded_string(archive, name, kMaxNameBytes);
    enum_field<A, Role, kMaxRole>(archive, role);
  }
};

// Freeze (1) or unfreeze (0) an account: a frozen account can neither transfer nor surrender.
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

// Mint quantity_t allowances of a vintage, as the next serial range, to a participant whose
// role may hold allowances (e.g. the reserve, or units for an auction).
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

// Replace the officer set and the threshold M (1 <= M <= officers). New officers get an
// account with the authority role.
struct SetOfficers {
  std::vector<PublicKey> officers;
  std::uint8_t threshold = 1;
  auto operator<=>(const SetOfficers&) const = default;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_vector(archive, officers, kMaxOfficers, 32);
    archive(threshold);
  }
};

// A new version of the rules of a compliance year.
struct SetRules {
  std::uint16_t year = 0;
  RuleSet rules;
  friend bool operator==(const SetRules&, const SetRules&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(year, rules);
  }
};

// ---- Cap and allocation (authority acts) ----------------------------------------------------

// The cap of year Y and its split: free allocation = cap - reserve - auction.
struct SetCap {
  std::uint16_t year = 0;
  std::uint64_t cap_t = 0;
  std::uint64_t reserve_t = 0;
  std::uint64_t auction_t = 0;
  auto operator<=>(const SetCap&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(year, cap_t, reserve_t, auction_t);
  }
};

// RULES.md "Cap and allocation": the three methods of free allocation.
enum class AllocationMethod : std::uint8_t {
  kGrandfathering = 0,        // historical emissions x factor
  kHistoricalIntensity = 1,   // intensity x production x factor
  kBenchmark = 2,             // sector benchmark x production
};
inline constexpr AllocationMethod kMaxAllocationMethod = AllocationMethod::kBenchmark;
std::string_view allocation_method_name(AllocationMethod method);
Result<AllocationMethod> allocation_method_from_name(std::string_view name);

// The inputs of an enterprise's free allocation for one year. Which fields count depends on
// the method (contracts/allocation.h states the formula and the rounding).
struct AllocationInputs {
  AllocationMethod method = AllocationMethod::kGrandfathering;
  std::uint64_t historical_emissions_t = 0;   // grandfathering
  std::uint32_t factor_ppm = 1'000'000;       // market-adjustment factor (1.0 = 1,000,000)
  std::uint64_t intensity_g_per_unit = 0;     // historical intensity, grams CO2e per unit
  std::uint64_t benchmark_g_per_unit = 0;     // sector benchmark, grams CO2e per unit
  std::uint64_t base_production_units = 0;    // production used for the initial allocation
  auto operator<=>(const AllocationInputs&) const = default;
  template <class A>
  void serialize(A& archive) {
    enum_field<A, AllocationMethod, kMaxAllocationMethod>(archive, method);
    archive(historical_emissions_t, factor_ppm, intensity_g_per_unit, benchmark_g_per_unit,
            base_production_units);
  }
};

// Record the allocation method and inputs of an enterprise for year Y (before pre-allocation).
struct SetAllocation {
  PublicKey enterprise;
  std::uint16_t year = 0;
  AllocationInputs inputs;
  auto operator<=>(const SetAllocation&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year, inputs);
  }
};

// Issue the pre-allocation share of the initial allocation (from the cap's free part).
struct IssuePreAllocation {
  PublicKey enterprise;
  std::uint16_t year = 0;
  auto operator<=>(const IssuePreAllocation&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year);
  }
};

// After verified production is known: issue the rest of the final allocation, or withdraw
// what the pre-allocation gave beyond it.
struct TrueUpAllocation {
  PublicKey enterprise;
  std::uint16_t year = 0;
  auto operator<=>(const TrueUpAllocation&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year);
  }
};

// After approved emissions: when they differ from the allocation by more than the thresholds,
// issue the difference from the government reserve, or withdraw it.
struct AdjustAllocation {
  PublicKey enterprise;
  std::uint16_t year = 0;
  auto operator<=>(const AdjustAllocation&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year);
  }
};

// ---- MRV ------------------------------------------------------------------------------------

// Authority act: the verifier that will verify an enterprise's report for year Y.
struct AssignVerifier {
  PublicKey enterprise;
  std::uint16_t year = 0;
  PublicKey verifier;
  auto operator<=>(const AssignVerifier&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year, verifier);
  }
};

// Authority act: approve the latest verified figure; it becomes the surrender obligation.
struct ApproveEmissions {
  PublicKey enterprise;
  std::uint16_t year = 0;
  auto operator<=>(const ApproveEmissions&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year);
  }
};

// Authority act: after the report deadline, with no report, set the obligation by estimate.
struct EstimateEmissions {
  PublicKey enterprise;
  std::uint16_t year = 0;
  std::uint64_t estimate_t = 0;
  auto operator<=>(const EstimateEmissions&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year, estimate_t);
  }
};

// Direct, by a covered or reporting enterprise: its emission report for year Y. A report after
// an earlier one is a correction (a new version).
struct SubmitReport {
  std::uint16_t year = 0;
  Hash256 document_hash;
  std::uint64_t declared_t = 0;
  auto operator<=>(const SubmitReport&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(year, document_hash, declared_t);
  }
};

// Direct, by the verifier assigned to the enterprise for year Y.
struct SubmitVerification {
  PublicKey enterprise;
  std::uint16_t year = 0;
  Hash256 report_hash;
  std::uint64_t verified_t = 0;
  std::uint64_t verified_production_units = 0;  // for intensity and benchmark true-ups
  auto operator<=>(const SubmitVerification&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(enterprise, year, report_hash, verified_t, verified_production_units);
  }
};

// ---- CCER -----------------------------------------------------------------------------------

// Direct, by a project owner: register an emission-reduction project (pending approval).
struct RegisterProject {
  std::string name;
  std::string methodology;
  ProjectType type = ProjectType::kRenewableEnergy;
  std::string province;  // e.g. "HB"
  std::uint16_t crediting_start_year = 0;
  std::uint16_t crediting_end_year = 0;
  auto operator<=>(const RegisterProject&) const = default;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, name, kMaxNameBytes);
    core::codec::bounded_string(archive, methodology, kMaxTextBytes);
    enum_field<A, ProjectType, kMaxProjectType>(archive, type);
    core::codec::bounded_string(archive, province, kMaxProvinceBytes);
    archive(crediting_start_year, crediting_end_year);
  }
};

// Authority act: approve a registered project.
struct ApproveProject {
  std::uint64_t project_id = 0;
  auto operator<=>(const ApproveProject&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(project_id);
  }
};

// Authority act: after verification of the reductions, issue a serial-numbered batch of CCERs
// of a vintage (within the crediting period) to the project owner.
struct IssueCcer {
  std::uint64_t project_id = 0;
  std::uint16_t vintage_year = 0;
  std::uint64_t quantity_t = 0;
  Hash256 verification_hash;
  auto operator<=>(const IssueCcer&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(project_id, vintage_year, quantity_t, verification_hash);
  }
};

// ---- Compliance -----------------------------------------------------------------------------

// Direct, by a covered enterprise: surrender units against its obligation for year Y
// (allowances of vintage <= Y, or eligible CCERs within the offset limit). Retired for good.
struct Surrender {
  std::uint16_t year = 0;
  ProductId product;
  std::uint64_t quantity_t = 0;
  auto operator<=>(const Surrender&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(year, product, quantity_t);
  }
};

// Authority act: close year Y after the surrender deadline (penalties, deductions,
// cancellations, the compliance table).
struct CloseYear {
  std::uint16_t year = 0;
  auto operator<=>(const CloseYear&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(year);
  }
};

using AuthorityAct =
    std::variant<RegisterParticipant, UpdateParticipant, SetFrozen, IssueAllowances, SetOfficers,
                 SetRules, SetCap, SetAllocation, IssuePreAllocation, TrueUpAllocation,
                 AdjustAllocation, AssignVerifier, ApproveEmissions, EstimateEmissions,
                 ApproveProject, IssueCcer, CloseYear, SetRelated, InstructReserve>;
std::string_view act_name(const AuthorityAct& act);

// ---- Governance and direct calls ------------------------------------------------------------

// By an officer: propose an authority act. The proposer's approval counts, and so does that of
// every other officer who co-signed the same transaction (M signatures: executes at once).
struct Propose {
  AuthorityAct act;
  friend bool operator==(const Propose&, const Propose&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(act);
  }
};

// By another officer: approve an open proposal; the approval that reaches the threshold
// executes the act (if the act fails, the approval is not recorded and the receipt says why).
struct Approve {
  std::uint64_t proposal_id = 0;
  auto operator<=>(const Approve&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(proposal_id);
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

// By the participant itself: sign from now on with new_key (the address stays the same).
struct RotateKey {
  PublicKey new_key;
  auto operator<=>(const RotateKey&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(new_key);
  }
};

using Call = std::variant<TransferUnits, Propose, Approve, RotateKey, SubmitReport,
                          SubmitVerification, RegisterProject, Surrender,
                          // the exchange and settlement (contracts/market_calls.h)
                          Deposit, Withdraw, SetMarketParams, ListProduct, OpenDay, CloseDay,
                          HaltProduct, PlaceOrder, CancelOrder, CreateListing, TakeListing,
                          CancelListing, BlockTrade, CreateAuction, PlaceBid, ClearAuction>;
std::string_view call_name(const Call& call);

}  // namespace carbon::contracts
