// Compliance (RULES.md "Compliance" and "CCER offsets"), read side: an enterprise's position
// against its obligation for a compliance year, whether a CCER product may be surrendered, and
// the compliance table published when the year is closed. The write side (Surrender,
// CloseYear) is in compliance.cc behind apply_call/apply_act.
//
// Units: tonnes (_t), fen. Every figure is an integer; the offset limit is
// floor(initial allocation x offset_limit_bp / 10,000).
//
// Thread safety: reads the ledger's store only.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "contracts/ledger.h"
#include "contracts/records.h"

namespace carbon::contracts {

// Most products compliance_position reads from a holder's balances (allowances of every
// vintage fit many times over; a holder of more products gets a position marked truncated).
inline constexpr std::size_t kMaxPositionProducts = 1024;
// Most enterprises CloseYear processes in one act (it fails beyond, touching nothing).
inline constexpr std::size_t kMaxCloseEnterprises = 10'000;

struct CompliancePosition {
  std::uint16_t year = 0;
  PublicKey enterprise;
  std::uint64_t obligation_t = 0;  // approved or estimated emissions; 0 while none
  bool has_obligation = false;
  std::uint64_t surrendered_allowances_t = 0;
  std::uint64_t surrendered_ccers_t = 0;
  std::uint64_t eligible_allowances_t = 0;  // held allowances of vintage <= year
  std::uint64_t eligible_ccers_t = 0;       // held CCERs passing the year's eligibility rules
  std::uint64_t offset_limit_t = 0;         // share of the year's initial allocation
  std::uint64_t offset_headroom_t = 0;      // offset limit - CCERs surrendered (>= 0)
  std::uint64_t shortfall_t = 0;            // obligation - surrendered (>= 0)
  std::uint32_t rules_version = 0;          // of the rules in force for the year
  bool closed = false;                      // the year has been closed
  bool holdings_truncated = false;          // more than kMaxPositionProducts products held
};

// The position of `enterprise` for compliance `year` as the state stands. Fails only on an
// invalid year or corrupt state.
Result<CompliancePosition> compliance_position(const Ledger& ledger, std::uint16_t year,
                                               const PublicKey& enterprise);

// Ok if units of `product` may be surrendered as offsets under `rules`; otherwise kConflict
// (kNotFound for an unknown project, kInvalidArgument for an allowance) with a message that
// says why, e.g. "CCER-7-2019: project in province GD, allowed: HB".
Status ccer_eligible(const Ledger& ledger, const RuleSet& rules, const ProductId& product);

// The compliance table of a closed year (rows in enterprise key order), at most `limit` rows;
// empty while the year is open.
Result<std::vector<ComplianceRow>> compliance_table(const Ledger& ledger, std::uint16_t year,
                                                    std::size_t limit);

}  // namespace carbon::contracts
