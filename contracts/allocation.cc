// Cap and allocation (RULES.md "Cap and allocation"): the cap of a year and its split, each
// covered enterprise's free allocation (inputs, pre-allocation, true-up after verified
// production) and the ex-post adjustment from the government reserve.
//
// What a year's cap record counts: free_issued_t is everything issued from the free part
// (pre-allocations and true-up top-ups), reserve_issued_t everything issued from the reserve
// (adjustments), withdrawn_t everything taken back (true-up and adjustment withdrawals). A
// withdrawal does not give headroom back to the free part: withdrawn tonnes are cancelled,
// and a cap counts what was put into circulation.
#include "contracts/allocation.h"

#include "contracts/ledger_internal.h"
#include "core/checked_math.h"

namespace carbon::contracts {

// ---- the allocation function (allocation.h) -------------------------------------------------

namespace {

using u128 = unsigned __int128;

constexpr u128 kMillion = 1'000'000;
constexpr u128 kTrillion = 1'000'000'000'000ULL;

Result<std::uint64_t> whole_tonnes(u128 quotient, AllocationMethod method) {
  if (quotient > static_cast<u128>(kMaxQuantityPerTx)) {
    const std::string amount = quotient > static_cast<u128>(UINT64_MAX)
                                   ? "more than " + tonnes(UINT64_MAX)
                                   : tonnes(static_cast<std::uint64_t>(quotient));
    return Status::error(ErrorCode::kOutOfBounds,
                         std::string(allocation_method_name(method)) + " allocation of " + amount +
                             " exceeds the limit of " + tonnes(kMaxQuantityPerTx) +
                             "; check the inputs' units (tonnes, grams per unit, ppm)");
  }
  return static_cast<std::uint64_t>(quotient);
}

}  // namespace

Result<std::uint64_t> compute_allocation(const AllocationInputs& inputs,
                                         std::uint64_t production_units) {
  switch (inputs.method) {
    case AllocationMethod::kGrandfathering: {
      // < 2^64 x 2^32: fits.
      const u128 product = static_cast<u128>(inputs.historical_emissions_t) * inputs.factor_ppm;
      return whole_tonnes(product / kMillion, inputs.method);
    }
    case AllocationMethod::kHistoricalIntensity: {
      const u128 grams = static_cast<u128>(inputs.intensity_g_per_unit) * production_units;
      // grams x factor could pass 2^128; if it would, the quotient is far above the limit
      // anyway (2^128 / 10^12 > 10^26), so report it as out of bounds.
      if (inputs.factor_ppm != 0 && grams > ~static_cast<u128>(0) / inputs.factor_ppm) {
        return whole_tonnes(~static_cast<u128>(0), inputs.method);
      }
      return whole_tonnes(grams * inputs.factor_ppm / kTrillion, inputs.method);
    }
    case AllocationMethod::kBenchmark: {
      const u128 grams = static_cast<u128>(inputs.benchmark_g_per_unit) * production_units;
      return whole_tonnes(grams / kMillion, inputs.method);
    }
  }
  return Status::error(ErrorCode::kInvalidArgument, "unknown allocation method");
}

Status validate_allocation_inputs(const AllocationInputs& inputs) {
  const auto bad = [](const std::string& text) {
    return Status::error(ErrorCode::kInvalidArgument, "invalid allocation inputs: " + text);
  };
  const bool uses_factor = inputs.method == AllocationMethod::kGrandfathering ||
                           inputs.method == AllocationMethod::kHistoricalIntensity;
  if (uses_factor && (inputs.factor_ppm < 1 || inputs.factor_ppm > kMaxFactorPpm)) {
    return bad("factor_ppm " + grouped(inputs.factor_ppm) + " must be 1.." +
               grouped(kMaxFactorPpm) + " (1,000,000 = 1.0)");
  }
  switch (inputs.method) {
    case AllocationMethod::kGrandfathering:
      if (inputs.historical_emissions_t == 0) return bad("grandfathering needs historical_emissions_t");
      break;
    case AllocationMethod::kHistoricalIntensity:
      if (inputs.intensity_g_per_unit == 0) return bad("historical intensity needs intensity_g_per_unit");
      if (inputs.base_production_units == 0) return bad("historical intensity needs base_production_units");
      break;
    case AllocationMethod::kBenchmark:
      if (inputs.benchmark_g_per_unit == 0) return bad("benchmark needs benchmark_g_per_unit");
      if (inputs.base_production_units == 0) return bad("benchmark needs base_production_units");
      break;
  }
  return Status::ok();
}

std::uint64_t share_bp(std::uint64_t amount, std::uint32_t bp) {
  const u128 share = static_cast<u128>(amount) * bp / kBasisPoints;
  return share > static_cast<u128>(UINT64_MAX) ? UINT64_MAX : static_cast<std::uint64_t>(share);
}

// ---- the acts -------------------------------------------------------------------------------

namespace {

std::string year_text(std::uint16_t year) { return std::to_string(year); }

std::uint64_t saturating_sub(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

// Every act on a year's cap or allocations is refused once the year is closed: the compliance
// table published at close is computed from them.
Status require_open_year(const Ledger& ledger, std::uint16_t year) {
  CARBON_RETURN_IF_ERROR(check_year(year));
  auto closed = ledger.get<YearClosed>(keys::year_closed(year));
  if (!closed) return closed.status();
  if (*closed) {
    return Status::error(ErrorCode::kConflict, "year " + year_text(year) +
                                                   " is closed; its cap and allocations are final");
  }
  return Status::ok();
}

Result<CapRecord> require_cap(const Ledger& ledger, std::uint16_t year) {
  auto cap = ledger.get<CapRecord>(keys::cap(year));
  if (!cap) return cap.status();
  if (!*cap) {
    return Status::error(ErrorCode::kNotFound,
                         "no cap is set for " + year_text(year) + "; set the cap first");
  }
  return std::move(**cap);
}

Result<Account> require_covered(const Ledger& ledger, const PublicKey& key) {
  auto account = require_account(ledger, key, "enterprise");
  if (!account) return account.status();
  CARBON_RETURN_IF_ERROR(require_role(*account, {Role::kCoveredEnterprise}, "receive free allocation"));
  return account;
}

// A record written by CloseYear of the year before carries only the deduction: it has no
// inputs until SetAllocation, and SetAllocation always stores inputs that validate.
bool has_inputs(const AllocationRecord& record) {
  return validate_allocation_inputs(record.inputs).is_ok();
}

// The enterprise's allocation record with inputs set, or a message saying what is missing.
Result<AllocationRecord> require_allocation(const Ledger& ledger, const Account& enterprise,
                                            std::uint16_t year) {
  auto record = ledger.get<AllocationRecord>(keys::allocation(year, enterprise.key));
  if (!record) return record.status();
  if (!*record || !has_inputs(**record)) {
    return Status::error(ErrorCode::kNotFound, "no allocation inputs for " + enterprise.name +
                                                   " in " + year_text(year) +
                                                   "; set the allocation first");
  }
  return std::move(**record);
}

// Issues quantity_t from the cap's free part (kPreAllocation or kTrueUp).
Status issue_from_free(Ledger& ledger, const Context& ctx, CapRecord& cap,
                       const Account& enterprise, std::uint64_t quantity_t, IssuanceKind kind) {
  const std::uint64_t free_left = saturating_sub(cap.free_t, cap.free_issued_t);
  if (quantity_t > free_left) {
    return Status::error(ErrorCode::kConflict,
                         "allocation exceeds what the cap leaves: " + tonnes(free_left) +
                             " free, " + tonnes(quantity_t) + " needed (" + enterprise.name +
                             ", " + year_text(cap.year) + ")");
  }
  auto range = ledger.issue(ctx, enterprise.key, ProductId::allowance(cap.year), quantity_t, kind,
                            Hash256{});
  if (!range) return range.status();
  cap.free_issued_t += quantity_t;  // <= free_t, checked above
  return Status::ok();
}

// Takes quantity_t allowances of the year's vintage back from the enterprise (lowest serials
// first) and retires them as withdrawn.
Status withdraw(Ledger& ledger, const Context& ctx, CapRecord& cap, const Account& enterprise,
                std::uint64_t quantity_t, std::string_view why) {
  const ProductId product = ProductId::allowance(cap.year);
  auto held = ledger.balance(enterprise.key, product);
  if (!held) return held.status();
  if (*held < quantity_t) {
    return Status::error(ErrorCode::kConflict,
                         std::string(why) + " withdraws " + tonnes(quantity_t) + " of " +
                             product.code() + " from " + enterprise.name + ", which holds only " +
                             tonnes(*held) + "; it must get back " + tonnes(quantity_t - *held) +
                             " of " + product.code() + " first");
  }
  CARBON_RETURN_IF_ERROR(ledger.retire_quantity(ctx, enterprise.key, product, quantity_t,
                                                RetirementKind::kWithdrawn, cap.year));
  // Withdrawn units no longer count as the enterprise's own issuance: the "never traded" rule
  // at year close must not mistake bought units for its own.
  auto history = ledger.history(enterprise.key, product);
  if (!history) return history.status();
  history->issued_t -= std::min(history->issued_t, quantity_t);
  CARBON_RETURN_IF_ERROR(ledger.put_history(enterprise.key, product, *history));
  auto withdrawn = core::checked_add(cap.withdrawn_t, quantity_t);
  if (!withdrawn) return withdrawn.status();
  cap.withdrawn_t = *withdrawn;
  return Status::ok();
}

// "20%", "2.5%", "0.25%" from basis points.
std::string percent_from_bp(std::uint64_t bp) {
  std::string out = grouped(bp / 100);
  const std::uint64_t fraction = bp % 100;
  if (fraction != 0) {
    out += '.';
    out += static_cast<char>('0' + fraction / 10);
    if (fraction % 10 != 0) out += static_cast<char>('0' + fraction % 10);
  }
  return out + "%";
}

}  // namespace

Status apply_act(Ledger& ledger, const Context& /*ctx*/, const SetCap& act) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, act.year));
  if (act.cap_t == 0) return Status::error(ErrorCode::kInvalidArgument, "the cap must be at least 1 t");
  auto set_aside = core::checked_add(act.reserve_t, act.auction_t);
  if (!set_aside || *set_aside > act.cap_t) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "reserve " + tonnes(act.reserve_t) + " plus auction " +
                             tonnes(act.auction_t) + " exceed the cap of " + tonnes(act.cap_t));
  }
  CapRecord cap;
  cap.year = act.year;
  cap.cap_t = act.cap_t;
  cap.reserve_t = act.reserve_t;
  cap.auction_t = act.auction_t;
  cap.free_t = act.cap_t - *set_aside;
  auto existing = ledger.get<CapRecord>(keys::cap(act.year));
  if (!existing) return existing.status();
  if (*existing) {
    // A revised cap keeps what was already issued from it, so it cannot go below that.
    const CapRecord& old = **existing;
    if (old.free_issued_t > cap.free_t) {
      return Status::error(ErrorCode::kConflict,
                           "the new free part " + tonnes(cap.free_t) + " is below the " +
                               tonnes(old.free_issued_t) + " already issued as free allocation for " +
                               year_text(act.year));
    }
    if (old.reserve_issued_t > cap.reserve_t) {
      return Status::error(ErrorCode::kConflict,
                           "the new reserve " + tonnes(cap.reserve_t) + " is below the " +
                               tonnes(old.reserve_issued_t) + " already issued from the reserve for " +
                               year_text(act.year));
    }
    if (old.auction_issued_t > cap.auction_t) {
      return Status::error(ErrorCode::kConflict,
                           "the new auction share " + tonnes(cap.auction_t) + " is below the " +
                               tonnes(old.auction_issued_t) + " already issued for auctions for " +
                               year_text(act.year));
    }
    cap.free_issued_t = old.free_issued_t;
    cap.reserve_issued_t = old.reserve_issued_t;
    cap.withdrawn_t = old.withdrawn_t;
    cap.auction_issued_t = old.auction_issued_t;
  }
  ledger.put(keys::cap(act.year), cap);
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& /*ctx*/, const SetAllocation& act) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, act.year));
  auto enterprise = require_covered(ledger, act.enterprise);
  if (!enterprise) return enterprise.status();
  auto cap = require_cap(ledger, act.year);
  if (!cap) return cap.status();
  CARBON_RETURN_IF_ERROR(validate_allocation_inputs(act.inputs));
  auto initial = compute_allocation(act.inputs, act.inputs.base_production_units);
  if (!initial) return initial.status();

  auto existing = ledger.get<AllocationRecord>(keys::allocation(act.year, act.enterprise));
  if (!existing) return existing.status();
  AllocationRecord record;
  if (*existing) {
    record = std::move(**existing);  // keeps deduction_t written by last year's close
    if (record.pre_allocated) {
      return Status::error(ErrorCode::kConflict,
                           "the pre-allocation of " + enterprise->name + " for " +
                               year_text(act.year) + " was issued (" + tonnes(record.pre_issued_t) +
                               "); its allocation inputs are final");
    }
  }
  record.enterprise = act.enterprise;
  record.year = act.year;
  record.inputs = act.inputs;
  record.initial_t = *initial;
  ledger.put(keys::allocation(act.year, act.enterprise), record);
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& ctx, const IssuePreAllocation& act) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, act.year));
  auto enterprise = require_covered(ledger, act.enterprise);
  if (!enterprise) return enterprise.status();
  auto record = require_allocation(ledger, *enterprise, act.year);
  if (!record) return record.status();
  if (record->pre_allocated) {
    return Status::error(ErrorCode::kConflict, "the pre-allocation of " + enterprise->name +
                                                   " for " + year_text(act.year) +
                                                   " was already issued (" +
                                                   tonnes(record->pre_issued_t) + ")");
  }
  auto cap = require_cap(ledger, act.year);
  if (!cap) return cap.status();
  auto rules = rules_in_force(ledger, act.year);
  if (!rules) return rules.status();

  // Last year's deduction comes off the pre-allocation first; what it does not absorb stays
  // in deduction_t and comes off the final allocation at the true-up.
  const std::uint64_t share = share_bp(record->initial_t, rules->rules.pre_allocation_bp);
  const std::uint64_t amount = saturating_sub(share, record->deduction_t);
  if (amount > 0) {
    CARBON_RETURN_IF_ERROR(
        issue_from_free(ledger, ctx, *cap, *enterprise, amount, IssuanceKind::kPreAllocation));
  }
  record->pre_issued_t = amount;
  record->issued_t = amount;  // nothing was issued under this allocation before
  record->pre_allocated = 1;
  ledger.put(keys::allocation(act.year, act.enterprise), *record);
  ledger.put(keys::cap(act.year), *cap);
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& ctx, const TrueUpAllocation& act) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, act.year));
  auto enterprise = require_covered(ledger, act.enterprise);
  if (!enterprise) return enterprise.status();
  auto record = require_allocation(ledger, *enterprise, act.year);
  if (!record) return record.status();
  if (!record->pre_allocated) {
    return Status::error(ErrorCode::kConflict, "issue the pre-allocation of " + enterprise->name +
                                                   " for " + year_text(act.year) +
                                                   " before the true-up");
  }
  if (record->trued_up) {
    return Status::error(ErrorCode::kConflict, "the allocation of " + enterprise->name + " for " +
                                                   year_text(act.year) + " was already trued up (final " +
                                                   tonnes(record->final_t) + ")");
  }
  auto emissions = ledger.get<EmissionRecord>(keys::emission(act.year, act.enterprise));
  if (!emissions) return emissions.status();
  if (!*emissions || (*emissions)->verification_version == 0) {
    return Status::error(ErrorCode::kConflict,
                         "the verified production of " + enterprise->name + " for " +
                             year_text(act.year) + " is not known yet; true up after verification");
  }
  // Only an approved verification counts: the production figure of a verification the
  // authority has not approved (or that a newer one replaced) is not final.
  if ((*emissions)->status != MrvStatus::kApproved) {
    return Status::error(ErrorCode::kConflict,
                         "the verified figures of " + enterprise->name + " for " + year_text(act.year) +
                             " are not approved yet; approve them, then true up");
  }
  auto cap = require_cap(ledger, act.year);
  if (!cap) return cap.status();

  // Grandfathering does not depend on production: the final allocation is the initial one.
  std::uint64_t final_t = record->initial_t;
  if (record->inputs.method != AllocationMethod::kGrandfathering) {
    auto computed = compute_allocation(record->inputs, (*emissions)->verified_production_units);
    if (!computed) return computed.status();
    final_t = *computed;
  }
  const std::uint64_t target = saturating_sub(final_t, record->deduction_t);
  const std::uint64_t net = record->issued_t - record->withdrawn_t;  // withdrawn <= issued
  if (target > net) {
    const std::uint64_t top_up = target - net;
    CARBON_RETURN_IF_ERROR(
        issue_from_free(ledger, ctx, *cap, *enterprise, top_up, IssuanceKind::kTrueUp));
    record->issued_t += top_up;  // <= cap.free_t
  } else if (target < net) {
    const std::uint64_t excess = net - target;
    CARBON_RETURN_IF_ERROR(withdraw(ledger, ctx, *cap, *enterprise, excess, "the true-up"));
    record->withdrawn_t += excess;  // <= issued_t
  }
  record->final_t = final_t;
  record->trued_up = 1;
  ledger.put(keys::allocation(act.year, act.enterprise), *record);
  ledger.put(keys::cap(act.year), *cap);
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& ctx, const AdjustAllocation& act) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, act.year));
  auto enterprise = require_covered(ledger, act.enterprise);
  if (!enterprise) return enterprise.status();
  auto record = require_allocation(ledger, *enterprise, act.year);
  if (!record) return record.status();
  if (!record->trued_up) {
    return Status::error(ErrorCode::kConflict, "true up the allocation of " + enterprise->name +
                                                   " for " + year_text(act.year) +
                                                   " before the ex-post adjustment");
  }
  if (record->adjusted) {
    return Status::error(ErrorCode::kConflict, "the allocation of " + enterprise->name + " for " +
                                                   year_text(act.year) + " was already adjusted");
  }
  auto emissions = ledger.get<EmissionRecord>(keys::emission(act.year, act.enterprise));
  if (!emissions) return emissions.status();
  if (!*emissions || (*emissions)->approval_version == 0) {
    return Status::error(ErrorCode::kConflict, "no approved emissions of " + enterprise->name +
                                                   " for " + year_text(act.year) +
                                                   " yet; approve (or estimate) them first");
  }
  auto cap = require_cap(ledger, act.year);
  if (!cap) return cap.status();
  auto rules = rules_in_force(ledger, act.year);
  if (!rules) return rules.status();

  const std::uint64_t obligation = (*emissions)->obligation_t;
  // Compared with the allocation itself (final_t), not with what was issued under it: last
  // year's penalty deduction came off the issuance and must stay in force, not be handed
  // back from the reserve as if the enterprise had been under-allocated.
  const std::uint64_t allocation = record->final_t;
  const std::uint64_t diff = obligation > allocation ? obligation - allocation : allocation - obligation;
  const std::uint32_t threshold_bp = rules->rules.adjust_threshold_bp;
  const std::uint64_t threshold_t = rules->rules.adjust_threshold_t;
  // "More than": a difference exactly at a threshold does not trigger.
  const bool over_share = static_cast<u128>(diff) * kBasisPoints > static_cast<u128>(allocation) * threshold_bp;
  const bool over_tonnes = diff > threshold_t;
  if (!over_share && !over_tonnes) {
    // Not over the share threshold, so diff x 10,000 <= allocation x threshold_bp: the share
    // (rounded down) fits easily and allocation is non-zero unless diff is zero.
    const std::uint64_t diff_bp =
        allocation == 0 ? 0
                        : static_cast<std::uint64_t>(static_cast<u128>(diff) * kBasisPoints / allocation);
    return Status::error(ErrorCode::kConflict,
                         "no adjustment: emissions differ from allocation by " + tonnes(diff) + " (" +
                             percent_from_bp(diff_bp) + "), thresholds " +
                             percent_from_bp(threshold_bp) + " or " + tonnes(threshold_t));
  }
  // The whole difference is adjusted (not only the part beyond the threshold).
  if (obligation > allocation) {
    const std::uint64_t reserve_left = saturating_sub(cap->reserve_t, cap->reserve_issued_t);
    if (diff > reserve_left) {
      return Status::error(ErrorCode::kConflict,
                           "the government reserve for " + year_text(act.year) + " leaves " +
                               tonnes(reserve_left) + ", the adjustment of " + enterprise->name +
                               " needs " + tonnes(diff));
    }
    auto range = ledger.issue(ctx, act.enterprise, ProductId::allowance(act.year), diff,
                              IssuanceKind::kAdjustment, Hash256{});
    if (!range) return range.status();
    cap->reserve_issued_t += diff;  // <= reserve_t, checked above
    auto issued = core::checked_add(record->issued_t, diff);
    if (!issued) return issued.status();
    record->issued_t = *issued;
  } else {
    CARBON_RETURN_IF_ERROR(withdraw(ledger, ctx, *cap, *enterprise, diff, "the ex-post adjustment"));
    record->withdrawn_t += diff;  // <= issued_t
  }
  record->adjusted = 1;
  ledger.put(keys::allocation(act.year, act.enterprise), *record);
  ledger.put(keys::cap(act.year), *cap);
  return Status::ok();
}

}  // namespace carbon::contracts
