// Compliance (RULES.md "Compliance" and "CCER offsets"): surrender against the obligation of a
// year, and the authority's close of the year (penalties, deductions from next year's
// allocation, cancellations, the published compliance table).
#include "contracts/compliance.h"

#include <algorithm>
#include <optional>

#include "contracts/ledger_internal.h"
#include "core/checked_math.h"

namespace carbon::contracts {

namespace {

std::string year_text(std::uint16_t year) { return std::to_string(year); }

std::uint64_t saturating_sub(std::uint64_t a, std::uint64_t b) { return a > b ? a - b : 0; }

// The prefix of every record of `kind` ("alloc", "mrv") for one year: "<kind>/<year hex4>/".
std::string year_prefix(std::string_view kind, std::uint16_t year) {
  return std::string(kind) + "/" + keys::year(year) + "/";
}

// Why a CCER product is not eligible under `rules` (nullopt if it is). Errors are reading
// errors only (an unknown project is reported as a reason).
Result<std::optional<Status>> ineligibility(const Ledger& ledger, const RuleSet& rules,
                                            const ProductId& product) {
  const std::string code = product.code();
  if (product.kind != ProductKind::kCcer) {
    return std::optional<Status>(
        Status::error(ErrorCode::kInvalidArgument, code + " is an allowance, not a CCER"));
  }
  auto stored = ledger.get<Project>(keys::project(product.project_id));
  if (!stored) return stored.status();
  if (!*stored) {
    return std::optional<Status>(Status::error(
        ErrorCode::kNotFound,
        code + ": no CCER project " + std::to_string(product.project_id) + " is registered"));
  }
  const Project& project = **stored;
  const std::string& province = project.details.province;
  if (std::find(rules.offset_provinces.begin(), rules.offset_provinces.end(), province) ==
      rules.offset_provinces.end()) {
    std::string allowed;
    for (const auto& p : rules.offset_provinces) allowed += (allowed.empty() ? "" : ", ") + p;
    if (allowed.empty()) allowed = "none";
    return std::optional<Status>(
        Status::error(ErrorCode::kConflict,
                      code + ": project in province " + province + ", allowed: " + allowed));
  }
  if ((rules.offset_types_mask & project_type_bit(project.details.type)) == 0) {
    return std::optional<Status>(Status::error(
        ErrorCode::kConflict, code + ": project type " +
                                  std::string(project_type_name(project.details.type)) +
                                  " is not accepted as an offset this year"));
  }
  const std::uint16_t vintage = product.vintage_year;
  const bool too_old = rules.offset_min_vintage != 0 && vintage < rules.offset_min_vintage;
  const bool too_new = rules.offset_max_vintage != 0 && vintage > rules.offset_max_vintage;
  if (too_old || too_new) {
    const std::string bound =
        too_old ? "earliest accepted vintage is " + std::to_string(rules.offset_min_vintage)
                : "latest accepted vintage is " + std::to_string(rules.offset_max_vintage);
    return std::optional<Status>(Status::error(
        ErrorCode::kConflict, code + ": vintage " + std::to_string(vintage) + ", " + bound));
  }
  return std::optional<Status>{};
}

// floor(initial allocation x offset_limit_bp / 10,000): the CCERs an enterprise may surrender
// for the year in total. No allocation record means no initial allocation, so no offsets.
Result<std::uint64_t> offset_limit(const Ledger& ledger, const RuleSet& rules, std::uint16_t year,
                                   const PublicKey& enterprise) {
  auto allocation = ledger.get<AllocationRecord>(keys::allocation(year, enterprise));
  if (!allocation) return allocation.status();
  const std::uint64_t initial_t = *allocation ? (*allocation)->initial_t : 0;
  return core::mul_div_floor(initial_t, rules.offset_limit_bp, 10'000);
}

Result<SurrenderTotals> surrender_totals(const Ledger& ledger, std::uint16_t year,
                                         const PublicKey& enterprise) {
  auto stored = ledger.get<SurrenderTotals>(keys::surrendered(year, enterprise));
  if (!stored) return stored.status();
  return stored->value_or(SurrenderTotals{});
}

Result<bool> is_closed(const Ledger& ledger, std::uint16_t year) {
  auto closed = ledger.get<YearClosed>(keys::year_closed(year));
  if (!closed) return closed.status();
  return closed->has_value();
}

// The obligation of an enterprise for the year, nullopt while nothing is approved or estimated.
Result<std::optional<std::uint64_t>> obligation(const Ledger& ledger, std::uint16_t year,
                                                const PublicKey& enterprise) {
  auto record = ledger.get<EmissionRecord>(keys::emission(year, enterprise));
  if (!record) return record.status();
  if (!*record || (*record)->approval_version == 0) return std::optional<std::uint64_t>{};
  return std::optional<std::uint64_t>((*record)->obligation_t);
}

// Scans every entry under `prefix` in pages of kScanPageSize, in key order, calling
// visit(key, bytes) for each; stops at the first error. Fails when there are more than
// `max_entries` entries (the caller's bound on the work of one act).
template <class Visit>
Status scan_all(const Ledger& ledger, const std::string& prefix, std::size_t max_entries,
                std::string_view what, Visit&& visit) {
  std::string start;
  std::size_t seen = 0;
  while (true) {
    const auto page = ledger.scan(prefix, start, kScanPageSize);
    for (const auto& [key, bytes] : page) {
      if (++seen > max_entries) {
        return Status::error(ErrorCode::kOutOfBounds, "more than " + grouped(max_entries) + " " +
                                                          std::string(what) +
                                                          " to process in one act");
      }
      CARBON_RETURN_IF_ERROR(visit(key, bytes));
    }
    if (page.size() < kScanPageSize) return Status::ok();
    start = key_successor(page.back().first);
  }
}

template <class T>
Result<T> decode_record(const std::string& key, const Bytes& bytes) {
  auto decoded = core::codec::decode<T>(bytes);
  if (!decoded) {
    return Status::error(ErrorCode::kInternal,
                         "corrupt state record at " + key + ": " + decoded.status().message());
  }
  return std::move(*decoded);
}

// Penalty for a shortfall: min(shortfall x reference price x multiple / 100, cap), rounded
// down to the fen. The product is formed in 128 bits: shortfall (< 2^64) x price (<= 10^8) x
// multiple (< 2^32) stays below 2^122.
std::uint64_t penalty_fen(std::uint64_t shortfall_t, const RuleSet& rules) {
  const unsigned __int128 full = static_cast<unsigned __int128>(shortfall_t) *
                                 rules.reference_price_fen * rules.penalty_multiple_pct / 100;
  return full < rules.penalty_cap_fen ? static_cast<std::uint64_t>(full) : rules.penalty_cap_fen;
}

// Adds a deduction to the enterprise's allocation record of `year` (creating a record that
// carries only the deduction if the allocation is not set yet; allocation.cc fills the rest).
Status add_deduction(Ledger& ledger, std::uint16_t year, const PublicKey& enterprise,
                     std::uint64_t deduction_t) {
  const std::string key = keys::allocation(year, enterprise);
  auto stored = ledger.get<AllocationRecord>(key);
  if (!stored) return stored.status();
  AllocationRecord record;
  if (*stored) {
    record = std::move(**stored);
  } else {
    record.enterprise = enterprise;
    record.year = year;
  }
  auto total = core::checked_add(record.deduction_t, deduction_t);
  if (!total) return total.status();
  record.deduction_t = *total;
  ledger.put(key, record);
  return Status::ok();
}

}  // namespace

// ---- read side (compliance.h) ---------------------------------------------------------------

Status ccer_eligible(const Ledger& ledger, const RuleSet& rules, const ProductId& product) {
  auto reason = ineligibility(ledger, rules, product);
  if (!reason) return reason.status();
  return reason->value_or(Status::ok());
}

Result<CompliancePosition> compliance_position(const Ledger& ledger, std::uint16_t year,
                                               const PublicKey& enterprise) {
  CARBON_RETURN_IF_ERROR(check_year(year));
  CompliancePosition position;
  position.year = year;
  position.enterprise = enterprise;
  auto owed = obligation(ledger, year, enterprise);
  if (!owed) return owed.status();
  position.has_obligation = owed->has_value();
  position.obligation_t = owed->value_or(0);
  auto totals = surrender_totals(ledger, year, enterprise);
  if (!totals) return totals.status();
  position.surrendered_allowances_t = totals->allowances_t;
  position.surrendered_ccers_t = totals->ccers_t;
  position.shortfall_t = saturating_sub(position.obligation_t, totals->total());
  auto rules = rules_in_force(ledger, year);
  if (!rules) return rules.status();
  position.rules_version = rules->version;
  auto limit = offset_limit(ledger, rules->rules, year, enterprise);
  if (!limit) return limit.status();
  position.offset_limit_t = *limit;
  position.offset_headroom_t = saturating_sub(*limit, totals->ccers_t);
  auto closed = is_closed(ledger, year);
  if (!closed) return closed.status();
  position.closed = *closed;

  // One extra product tells whether the holder has more than the bound.
  auto held = ledger.balances(enterprise, kMaxPositionProducts + 1);
  if (!held) return held.status();
  if (held->size() > kMaxPositionProducts) {
    position.holdings_truncated = true;
    held->resize(kMaxPositionProducts);
  }
  for (const auto& [product, quantity_t] : *held) {
    std::uint64_t* sum = nullptr;
    if (product.kind == ProductKind::kAllowance) {
      if (product.vintage_year <= year) sum = &position.eligible_allowances_t;
    } else {
      auto reason = ineligibility(ledger, rules->rules, product);
      if (!reason) return reason.status();
      if (!reason->has_value()) sum = &position.eligible_ccers_t;
    }
    if (sum == nullptr) continue;
    auto total = core::checked_add(*sum, quantity_t);
    if (!total) return total.status();
    *sum = *total;
  }
  return position;
}

Result<std::vector<ComplianceRow>> compliance_table(const Ledger& ledger, std::uint16_t year,
                                                    std::size_t limit) {
  CARBON_RETURN_IF_ERROR(check_year(year));
  std::vector<ComplianceRow> rows;
  for (const auto& [key, bytes] : ledger.scan(year_prefix("ctab", year), "", limit)) {
    auto row = decode_record<ComplianceRow>(key, bytes);
    if (!row) return row.status();
    rows.push_back(std::move(*row));
  }
  return rows;
}

// ---- Surrender ------------------------------------------------------------------------------

Status apply_call(Ledger& ledger, const Context& ctx, const Surrender& call) {
  const Account& sender = ctx.sender;
  CARBON_RETURN_IF_ERROR(require_role(sender, {Role::kCoveredEnterprise}, "surrender units"));
  if (sender.frozen) {
    return Status::error(
        ErrorCode::kConflict,
        "account " + sender.name + " is frozen by the authority and cannot surrender");
  }
  CARBON_RETURN_IF_ERROR(check_year(call.year));
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  const std::string year = year_text(call.year);
  auto closed = is_closed(ledger, call.year);
  if (!closed) return closed.status();
  if (*closed) {
    return Status::error(ErrorCode::kConflict,
                         "year " + year + " is closed; surrenders for it are no longer accepted");
  }
  auto owed = obligation(ledger, call.year, sender.key);
  if (!owed) return owed.status();
  if (!*owed) {
    return Status::error(ErrorCode::kConflict, "no approved emissions for " + year +
                                                   " yet: nothing to surrender against");
  }
  auto rules = rules_in_force(ledger, call.year);
  if (!rules) return rules.status();
  // Deadlines are inclusive: a block stamped exactly at the deadline is on time.
  if (ctx.time_ms > rules->rules.surrender_deadline_ms) {
    return Status::error(ErrorCode::kConflict,
                         "the surrender deadline for " + year + " (" +
                             beijing_time(rules->rules.surrender_deadline_ms) + ") has passed");
  }
  auto totals = surrender_totals(ledger, call.year, sender.key);
  if (!totals) return totals.status();

  const ProductId& product = call.product;
  if (product.kind == ProductKind::kAllowance) {
    if (product.project_id != 0) {
      return Status::error(ErrorCode::kInvalidArgument, "an allowance product has no project id");
    }
    if (product.vintage_year > call.year) {
      return Status::error(ErrorCode::kConflict, "allowances of vintage " +
                                                     std::to_string(product.vintage_year) +
                                                     " cannot be surrendered for " + year);
    }
    // Allowances of an earlier, closed year whose rules did not allow banking did not carry
    // over: whoever holds them (not only the enterprises the close cancelled for) cannot use
    // them for a later year.
    if (product.vintage_year < call.year) {
      auto vintage_closed = ledger.get<YearClosed>(keys::year_closed(product.vintage_year));
      if (!vintage_closed) return vintage_closed.status();
      if (*vintage_closed) {
        auto vintage_rules = rules_in_force(ledger, product.vintage_year);
        if (!vintage_rules) return vintage_rules.status();
        if (!vintage_rules->rules.banking_allowed) {
          return Status::error(ErrorCode::kConflict,
                               "allowances of vintage " + std::to_string(product.vintage_year) +
                                   " were not banked (the " +
                                   std::to_string(product.vintage_year) +
                                   " rules do not allow banking) and cannot be surrendered for " + year);
        }
      }
    }
  } else {
    CARBON_RETURN_IF_ERROR(ccer_eligible(ledger, rules->rules, product));
    auto limit = offset_limit(ledger, rules->rules, call.year, sender.key);
    if (!limit) return limit.status();
    const std::uint64_t headroom_t = saturating_sub(*limit, totals->ccers_t);
    if (call.quantity_t > headroom_t) {
      return Status::error(ErrorCode::kConflict, "offset limit exceeded: " + tonnes(headroom_t) +
                                                     " eligible, " + tonnes(call.quantity_t) +
                                                     " given");
    }
  }
  // Units surrendered beyond the obligation would be retired for nothing: refuse them.
  const std::uint64_t remaining_t = saturating_sub(**owed, totals->total());
  if (call.quantity_t > remaining_t) {
    return Status::error(ErrorCode::kConflict, "surrender of " + tonnes(call.quantity_t) +
                                                   " exceeds the remaining obligation of " +
                                                   tonnes(remaining_t));
  }

  auto taken = ledger.take(sender.key, product, call.quantity_t);
  if (!taken) return taken.status();
  CARBON_RETURN_IF_ERROR(
      ledger.retire(ctx, sender.key, product, *taken, RetirementKind::kSurrendered, call.year));
  // No overflow: the new total is at most the obligation (checked above).
  if (product.kind == ProductKind::kAllowance) {
    totals->allowances_t += call.quantity_t;
  } else {
    totals->ccers_t += call.quantity_t;
  }
  ledger.put(keys::surrendered(call.year, sender.key), *totals);
  auto history = ledger.history(sender.key, product);
  if (!history) return history.status();
  auto surrendered = core::checked_add(history->surrendered_t, call.quantity_t);
  if (!surrendered) return surrendered.status();
  history->surrendered_t = *surrendered;
  CARBON_RETURN_IF_ERROR(ledger.put_history(sender.key, product, *history));
  return Status::ok();
}

// ---- CloseYear ------------------------------------------------------------------------------

namespace {

// Every covered enterprise with an allocation for the year must have an obligation before the
// year can be closed: closing would otherwise record it as owing nothing.
Status check_obligations_complete(const Ledger& ledger, std::uint16_t year) {
  constexpr std::size_t kNamesShown = 5;
  std::size_t missing = 0;
  std::string names;
  const auto visit = [&](const std::string& key, const Bytes& bytes) -> Status {
    auto record = decode_record<AllocationRecord>(key, bytes);
    if (!record) return record.status();
    auto account = ledger.account(record->enterprise);
    if (!account) return account.status();
    // A record holding only a deduction may name an enterprise no longer covered.
    if (*account && (*account)->role != Role::kCoveredEnterprise) return Status::ok();
    auto owed = obligation(ledger, year, record->enterprise);
    if (!owed) return owed.status();
    if (owed->has_value()) return Status::ok();
    if (++missing <= kNamesShown) {
      if (!names.empty()) names += ", ";
      names += *account ? (*account)->name : record->enterprise.short_hex();
    }
    return Status::ok();
  };
  CARBON_RETURN_IF_ERROR(
      scan_all(ledger, year_prefix("alloc", year), kMaxCloseEnterprises, "allocations", visit));
  if (missing == 0) return Status::ok();
  return Status::error(ErrorCode::kConflict,
                       std::to_string(missing) +
                           (missing == 1 ? " enterprise has" : " enterprises have") +
                           " no approved or estimated emissions for " + year_text(year) + ": " +
                           names + (missing > kNamesShown ? ", ..." : ""));
}

// Allowances of the year from the reserve's intervention sales cannot be banked (RULES.md
// "Trading"): whatever a holder still has of them is cancelled at the close. Done before the
// never-traded cancellation, whose figure is then taken from what is left. Adds to cancelled_t.
Status cancel_intervention_allowances(Ledger& ledger, const Context& ctx, std::uint16_t year,
                                      const PublicKey& holder, std::uint64_t& cancelled_t) {
  const ProductId product = ProductId::allowance(year);
  auto history = ledger.history(holder, product);
  if (!history) return history.status();
  auto held = ledger.balance(holder, product);
  if (!held) return held.status();
  const std::uint64_t intervention_t = std::min(*held, history->intervention_t);
  if (intervention_t == 0) return Status::ok();
  CARBON_RETURN_IF_ERROR(ledger.retire_quantity(ctx, holder, product, intervention_t,
                                                RetirementKind::kCancelledNoBanking, year));
  cancelled_t += intervention_t;  // at most the product's issued total
  return Status::ok();
}

// The cancellations of RULES.md "Banking" for one enterprise at the close of `year`; returns
// the tonnes cancelled.
Result<std::uint64_t> cancel_at_close(Ledger& ledger, const Context& ctx, const RuleSet& rules,
                                      std::uint16_t year, const PublicKey& enterprise) {
  std::uint64_t cancelled_t = 0;
  if (rules.banking_allowed == 0) {
    // No banking: nothing of vintage <= Y survives the close. One point lookup per vintage
    // (at most kMaxVintageYear - kMinVintageYear + 1) rather than a scan of the balances,
    // whose CCER entries sort before the allowances and are unbounded.
    for (std::uint16_t vintage = kMinVintageYear; vintage <= year; ++vintage) {
      const ProductId product = ProductId::allowance(vintage);
      auto held = ledger.balance(enterprise, product);
      if (!held) return held.status();
      if (*held == 0) continue;
      CARBON_RETURN_IF_ERROR(ledger.retire_quantity(ctx, enterprise, product, *held,
                                          RetirementKind::kCancelledNoBanking, year));
      cancelled_t += *held;  // bounded by the issued totals
    }
    return cancelled_t;
  }
  CARBON_RETURN_IF_ERROR(cancel_intervention_allowances(ledger, ctx, year, enterprise, cancelled_t));
  if (rules.cancel_untraded == 1) {
    // Never-traded free allowances of the year: units of its own issuance (HBEA-Y issued to
    // it) that it neither sold (sent) nor surrendered. Sales and surrenders are charged to its
    // own issuance first, so what it bought is never cancelled; and the figure is at most what
    // it still holds.
    const ProductId product = ProductId::allowance(year);
    auto history = ledger.history(enterprise, product);
    if (!history) return history.status();
    auto held = ledger.balance(enterprise, product);
    if (!held) return held.status();
    const std::uint64_t own_left_t =
        saturating_sub(saturating_sub(history->issued_t, history->sent_t), history->surrendered_t);
    const std::uint64_t untraded_t = std::min(*held, own_left_t);
    if (untraded_t > 0) {
      CARBON_RETURN_IF_ERROR(ledger.retire_quantity(ctx, enterprise, product, untraded_t,
                                          RetirementKind::kCancelledUntraded, year));
      cancelled_t = untraded_t;
    }
  }
  return cancelled_t;
}

}  // namespace

Status apply_act(Ledger& ledger, const Context& ctx, const CloseYear& act) {
  CARBON_RETURN_IF_ERROR(check_year(act.year));
  const std::string year = year_text(act.year);
  auto closed = is_closed(ledger, act.year);
  if (!closed) return closed.status();
  if (*closed) return Status::error(ErrorCode::kConflict, "year " + year + " is already closed");
  auto rules_record = rules_in_force(ledger, act.year);
  if (!rules_record) return rules_record.status();
  const RuleSet& rules = rules_record->rules;
  // Surrenders are accepted up to and including the deadline, so the close comes strictly
  // after it.
  if (ctx.time_ms <= rules.surrender_deadline_ms) {
    return Status::error(ErrorCode::kConflict,
                         "year " + year + " can be closed only after the surrender deadline, " +
                             beijing_time(rules.surrender_deadline_ms));
  }
  CARBON_RETURN_IF_ERROR(check_obligations_complete(ledger, act.year));

  YearClosed summary;
  summary.year = act.year;
  summary.height = ctx.height;
  summary.time_ms = ctx.time_ms;
  // One enterprise's close: its row of the table, penalty, deduction and cancellations.
  const auto close_enterprise = [&](const std::string& key, const Bytes& bytes) -> Status {
    auto emission = decode_record<EmissionRecord>(key, bytes);
    if (!emission) return emission.status();
    if (emission->approval_version == 0) return Status::ok();
    const PublicKey& enterprise = emission->enterprise;
    auto account = require_account(ledger, enterprise, "enterprise");
    if (!account) return account.status();
    // Reporting enterprises report and get verified but never surrender (RULES.md roles): an
    // approved figure of theirs is no obligation, so they are neither penalised nor listed.
    if (account->role != Role::kCoveredEnterprise) return Status::ok();
    auto totals = surrender_totals(ledger, act.year, enterprise);
    if (!totals) return totals.status();

    ComplianceRow row;
    row.enterprise = enterprise;
    row.name = account->name;
    row.obligation_t = emission->obligation_t;
    row.surrendered_t = totals->total();
    row.ccers_t = totals->ccers_t;
    row.shortfall_t = saturating_sub(row.obligation_t, row.surrendered_t);
    row.status = row.shortfall_t > 0 ? ComplianceStatus::kShort : ComplianceStatus::kCompliant;
    row.penalty_fen = penalty_fen(row.shortfall_t, rules);
    auto deduction =
        core::checked_mul(row.shortfall_t, static_cast<std::uint64_t>(rules.deduction_multiple));
    if (!deduction) return deduction.status();
    row.deduction_t = *deduction;
    // The last vintage has no next year to deduct from.
    if (row.deduction_t > 0 && act.year < kMaxVintageYear) {
      CARBON_RETURN_IF_ERROR(add_deduction(ledger, static_cast<std::uint16_t>(act.year + 1),
                                           enterprise, row.deduction_t));
    }
    auto cancelled = cancel_at_close(ledger, ctx, rules, act.year, enterprise);
    if (!cancelled) {
      return Status::error(cancelled.status().code(),
                           "cancelling allowances of " + account->name + " at the close: " +
                               cancelled.status().message());
    }
    row.cancelled_t = *cancelled;
    ledger.put(keys::compliance_row(act.year, enterprise), row);

    ++summary.enterprises;  // at most kMaxCloseEnterprises
    if (row.status == ComplianceStatus::kShort) ++summary.short_enterprises;
    auto penalties = core::checked_add(summary.penalties_fen, row.penalty_fen);
    if (!penalties) return penalties.status();
    summary.penalties_fen = *penalties;
    return Status::ok();
  };
  CARBON_RETURN_IF_ERROR(scan_all(ledger, year_prefix("mrv", act.year), kMaxCloseEnterprises,
                                  "emission records", close_enterprise));
  // Intervention allowances held by anyone else (voluntary participants, enterprises without
  // an obligation): the enterprises above no longer appear in the index.
  std::vector<PublicKey> holders;
  const std::string prefix = keys::intervention_holders_prefix(ProductId::allowance(act.year));
  CARBON_RETURN_IF_ERROR(scan_all(ledger, prefix, kMaxCloseEnterprises, "intervention holders",
                                  [&](const std::string& key, const Bytes&) -> Status {
                                    auto holder = PublicKey::from_hex(key.substr(prefix.size()));
                                    if (!holder) {
                                      return Status::error(ErrorCode::kInternal,
                                                           "malformed index key " + key);
                                    }
                                    holders.push_back(*holder);
                                    return Status::ok();
                                  }));
  for (const PublicKey& holder : holders) {
    std::uint64_t cancelled_t = 0;
    CARBON_RETURN_IF_ERROR(cancel_intervention_allowances(ledger, ctx, act.year, holder, cancelled_t));
  }
  ledger.put(keys::year_closed(act.year), summary);
  return Status::ok();
}

}  // namespace carbon::contracts
