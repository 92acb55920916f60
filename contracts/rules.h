// Rule data: the parameters of RULES.md that are marked (param), per compliance year, kept on
// the ledger and versioned. The authority changes them only through an M-of-N act (SetRules);
// every decision reads the version in force at that block (the latest one stored for the
// year; version 0 is the built-in default below, in force until the first SetRules).
//
// Units: tonnes (_t), tonnes of coal equivalent (_tce), fen, basis points (_bp, 1/10,000),
// per cent (_pct), milliseconds since the Unix epoch, UTC (_ms). Deadlines are inclusive: an
// act in a block whose timestamp equals the deadline is on time.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "contracts/basics.h"
#include "core/calendar.h"

namespace carbon::contracts {

inline constexpr std::size_t kMaxOffsetProvinces = 8;
inline constexpr std::size_t kMaxProvinceBytes = 8;
using core::kMsPerDay;

// CCER project types (RULES.md "CCER offsets"). Values are part of the encoding: append only.
enum class ProjectType : std::uint8_t {
  kRenewableEnergy = 0,
  kForestryCarbonSink = 1,
  kMethaneRecovery = 2,
  kEnergyEfficiency = 3,
  kOther = 4,
};
inline constexpr ProjectType kMaxProjectType = ProjectType::kOther;
std::string_view project_type_name(ProjectType type);
Result<ProjectType> project_type_from_name(std::string_view name);
inline constexpr std::uint32_t project_type_bit(ProjectType type) {
  return 1u << static_cast<std::uint32_t>(type);
}
inline constexpr std::uint32_t kAllProjectTypes = (1u << (static_cast<unsigned>(kMaxProjectType) + 1)) - 1;

struct RuleSet {
  // Thresholds (informational for registration decisions taken off-ledger by the authority).
  std::uint64_t coverage_threshold_tce = 60'000;
  std::uint64_t reporting_threshold_tce = 8'000;
  // MRV and compliance deadlines, inclusive.
  std::uint64_t report_deadline_ms = 0;
  std::uint64_t verification_deadline_ms = 0;
  std::uint64_t surrender_deadline_ms = 0;
  std::uint8_t allow_estimate = 1;  // the authority may set a missing report's obligation
  // Offsets: CCERs surrendered for a year at most offset_limit_bp of the initial allocation,
  // from projects in these provinces, of these types, of these vintages (0 = no bound).
  std::uint32_t offset_limit_bp = 1'000;
  std::vector<std::string> offset_provinces = {"HB"};
  std::uint32_t offset_types_mask = kAllProjectTypes;
  std::uint16_t offset_min_vintage = 0;
  std::uint16_t offset_max_vintage = 0;
  // Allocation.
  std::uint32_t pre_allocation_bp = 5'000;
  std::uint32_t adjust_threshold_bp = 2'000;
  std::uint64_t adjust_threshold_t = 200'000;
  // Year close: penalty = min(shortfall x reference price x multiple, cap); deduction from
  // the next year's allocation = shortfall x deduction multiple.
  std::uint64_t reference_price_fen = 2'000;  // the year's average market price per tonne
  std::uint32_t penalty_multiple_pct = 100;   // Hubei: 100..300
  std::uint64_t penalty_cap_fen = 15'000'000;  // 150,000 CNY
  std::uint32_t deduction_multiple = 2;
  std::uint8_t cancel_untraded = 1;  // cancel free allowances never traded, at close
  std::uint8_t banking_allowed = 1;  // otherwise every allowance of vintage <= Y is cancelled
  // Governance: how long an authority proposal may gather approvals.
  std::uint64_t proposal_ttl_ms = 7 * kMsPerDay;

  friend bool operator==(const RuleSet&, const RuleSet&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(coverage_threshold_tce, reporting_threshold_tce, report_deadline_ms,
            verification_deadline_ms, surrender_deadline_ms);
    flag_field(archive, allow_estimate);
    archive(offset_limit_bp);
    core::codec::bounded_strings(archive, offset_provinces, kMaxOffsetProvinces, kMaxProvinceBytes);
    archive(offset_types_mask, offset_min_vintage, offset_max_vintage, pre_allocation_bp,
            adjust_threshold_bp, adjust_threshold_t, reference_price_fen, penalty_multiple_pct,
            penalty_cap_fen, deduction_multiple);
    flag_field(archive, cancel_untraded);
    flag_field(archive, banking_allowed);
    archive(proposal_ttl_ms);
  }
};

// The default rules for compliance year `year`: the figures of RULES.md, with deadlines at the
// end (23:59:59.999 Beijing time, UTC+8) of 28/29 February, 30 April and 31 May of year + 1.
RuleSet default_rules(std::uint16_t year);

// Checks that a rule set is coherent (deadlines in order, shares at most 100%, ...).
Status validate_rules(const RuleSet& rules);

// Milliseconds since the epoch of 00:00 UTC on a civil date (proleptic Gregorian).
using core::utc_ms_from_civil;

// The rules of one year as stored: the version, and when it took effect.
struct RulesRecord {
  std::uint16_t year = 0;
  std::uint32_t version = 0;  // 0: the defaults, never set on the ledger
  Height effective_height = 0;
  std::uint64_t effective_ms = 0;
  RuleSet rules;
  friend bool operator==(const RulesRecord&, const RulesRecord&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(year, version, effective_height, effective_ms, rules);
  }
};

}  // namespace carbon::contracts
