// Governance: the officer set, M-of-N proposals for every authority act, and the rule data.
#include <algorithm>
#include <cstdio>

#include "contracts/ledger_internal.h"
#include "contracts/market_internal.h"
#include "core/checked_math.h"

namespace carbon::contracts {

// ---- rule data ------------------------------------------------------------------------------

namespace {
// The last millisecond of a civil day in Beijing time (UTC+8).
std::uint64_t end_of_day_beijing(int year, unsigned month, unsigned day) {
  constexpr std::uint64_t kEightHoursMs = 8ULL * 3'600'000ULL;
  return utc_ms_from_civil(year, month, day) + kMsPerDay - 1 - kEightHoursMs;
}
}  // namespace

namespace {
struct CivilDate {
  std::uint64_t year = 0;
  std::uint64_t month = 0;  // 1..12
  std::uint64_t day = 0;    // 1..31
};
// The civil date (proleptic Gregorian) of a time in ms since 1970-01-01 in some zone: H.
// Hinnant's civil_from_days, integers only.
CivilDate civil_from_ms(std::uint64_t ms) {
  const std::uint64_t z = ms / kMsPerDay + 719468;
  const std::uint64_t era = z / 146097;
  const std::uint64_t doe = z - era * 146097;
  const std::uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const std::uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const std::uint64_t mp = (5 * doy + 2) / 153;
  CivilDate date;
  date.day = doy - (153 * mp + 2) / 5 + 1;
  date.month = mp < 10 ? mp + 3 : mp - 9;
  date.year = yoe + era * 400 + (date.month <= 2 ? 1 : 0);
  return date;
}
}  // namespace

std::uint32_t beijing_date(std::uint64_t time_ms) {
  constexpr std::uint64_t kEightHoursMs = 8ULL * 3'600'000ULL;
  const CivilDate date = civil_from_ms(time_ms + kEightHoursMs);
  return static_cast<std::uint32_t>(date.year * 10'000 + date.month * 100 + date.day);
}

std::uint32_t beijing_minute(std::uint64_t time_ms) {
  constexpr std::uint64_t kEightHoursMs = 8ULL * 3'600'000ULL;
  return static_cast<std::uint32_t>((time_ms + kEightHoursMs) % kMsPerDay / 60'000);
}

std::string beijing_time(std::uint64_t time_ms) {
  constexpr std::uint64_t kEightHoursMs = 8ULL * 3'600'000ULL;
  const std::uint64_t local_ms = time_ms + kEightHoursMs;
  const CivilDate date = civil_from_ms(local_ms);
  const std::uint64_t ms_of_day = local_ms % kMsPerDay;
  char text[128];
  std::snprintf(text, sizeof text, "%04llu-%02llu-%02llu %02llu:%02llu:%02llu.%03llu Beijing time",
                static_cast<unsigned long long>(date.year), static_cast<unsigned long long>(date.month),
                static_cast<unsigned long long>(date.day),
                static_cast<unsigned long long>(ms_of_day / 3'600'000),
                static_cast<unsigned long long>(ms_of_day / 60'000 % 60),
                static_cast<unsigned long long>(ms_of_day / 1000 % 60),
                static_cast<unsigned long long>(ms_of_day % 1000));
  return text;
}

RuleSet default_rules(std::uint16_t year) {
  RuleSet rules;
  const int next = static_cast<int>(year) + 1;
  rules.report_deadline_ms = end_of_day_beijing(next, 2, core::is_leap_year(next) ? 29 : 28);
  rules.verification_deadline_ms = end_of_day_beijing(next, 4, 30);
  rules.surrender_deadline_ms = end_of_day_beijing(next, 5, 31);
  return rules;
}

Status validate_rules(const RuleSet& rules) {
  const auto bad = [](const std::string& text) {
    return Status::error(ErrorCode::kInvalidArgument, "invalid rules: " + text);
  };
  if (rules.report_deadline_ms == 0 || rules.verification_deadline_ms < rules.report_deadline_ms ||
      rules.surrender_deadline_ms < rules.verification_deadline_ms) {
    return bad("deadlines must be set and ordered report <= verification <= surrender");
  }
  if (rules.offset_limit_bp > 10'000) return bad("offset limit above 100%");
  if (rules.pre_allocation_bp > 10'000) return bad("pre-allocation share above 100%");
  if (rules.adjust_threshold_bp > 10'000 * 10) return bad("adjustment threshold above 1000%");
  if (rules.penalty_multiple_pct > 1'000) return bad("penalty multiple above 10x");
  if (rules.deduction_multiple > 10) return bad("deduction multiple above 10");
  if ((rules.offset_types_mask & ~kAllProjectTypes) != 0) return bad("unknown project type bits");
  if (rules.offset_min_vintage != 0 && rules.offset_max_vintage != 0 &&
      rules.offset_min_vintage > rules.offset_max_vintage) {
    return bad("offset vintages: minimum above maximum");
  }
  for (const auto& province : rules.offset_provinces) {
    if (province.empty() || province.size() > kMaxProvinceBytes) return bad("province codes are 1..8 bytes");
  }
  if (rules.proposal_ttl_ms == 0) return bad("proposal lifetime must be positive");
  if (rules.reference_price_fen > 100'000'000) return bad("reference price above 1,000,000 CNY/t");
  return Status::ok();
}

Result<RulesRecord> rules_in_force(const Ledger& ledger, std::uint16_t year) {
  auto stored = ledger.get<RulesRecord>(keys::rules(year));
  if (!stored) return stored.status();
  if (*stored) return std::move(**stored);
  RulesRecord defaults;
  defaults.year = year;
  defaults.rules = default_rules(year);
  return defaults;
}

Status apply_act(Ledger& ledger, const Context& ctx, const SetRules& act) {
  CARBON_RETURN_IF_ERROR(check_year(act.year));
  CARBON_RETURN_IF_ERROR(validate_rules(act.rules));
  auto closed = ledger.get<YearClosed>(keys::year_closed(act.year));
  if (!closed) return closed.status();
  if (*closed) {
    return Status::error(ErrorCode::kConflict,
                         "year " + std::to_string(act.year) + " is closed; its rules are final");
  }
  auto current = rules_in_force(ledger, act.year);
  if (!current) return current.status();
  RulesRecord record;
  record.year = act.year;
  record.version = current->version + 1;
  record.effective_height = ctx.height;
  record.effective_ms = ctx.time_ms;
  record.rules = act.rules;
  ledger.put(keys::rules(act.year), record);
  ledger.put(keys::rules_version(act.year, record.version), record);
  return Status::ok();
}

// ---- officers and proposals -----------------------------------------------------------------

namespace {

Result<OfficerSet> officer_set(const Ledger& ledger) {
  auto set = ledger.get<OfficerSet>(std::string(keys::kOfficers));
  if (!set) return set.status();
  if (!*set) return Status::error(ErrorCode::kInternal, "the officer set is missing from the state");
  return std::move(**set);
}

// Authority acts carry no year of their own in general; proposals live by the rules of the
// year of the block they were made in.
// The civil year (UTC) of a block time, within the years the ledger knows.
std::uint16_t year_of(std::uint64_t time_ms) {
  const std::uint64_t year = civil_from_ms(time_ms).year;
  return static_cast<std::uint16_t>(std::clamp<std::uint64_t>(year, kMinVintageYear, kMaxVintageYear));
}

// Adds to `approvals` every officer whose current key co-signed the transaction (ARCHITECTURE:
// authority acts carry M-of-N signatures): a proposal signed by M officers executes at once,
// without separate Approve transactions. Keys are mapped to accounts because keys rotate.
Status add_cosigners(const Ledger& ledger, const Context& ctx, const OfficerSet& set,
                     std::vector<PublicKey>& approvals) {
  for (const PublicKey& key : ctx.signers) {
    PublicKey address = key;
    auto rotated = ledger.get<PublicKey>(keys::signing_key(key));
    if (!rotated) return rotated.status();
    if (*rotated) address = **rotated;
    if (!set.is_officer(address)) continue;
    auto account = ledger.account(address);
    if (!account) return account.status();
    if (!*account || (*account)->signing_key != key) continue;  // an old key of that officer
    if (std::find(approvals.begin(), approvals.end(), address) == approvals.end()) {
      approvals.push_back(address);
    }
  }
  return Status::ok();
}

Status execute_act(Ledger& ledger, const Context& ctx, const AuthorityAct& act) {
  return std::visit([&](const auto& a) { return apply_act(ledger, ctx, a); }, act);
}

}  // namespace

Status apply_act(Ledger& ledger, const Context& /*ctx*/, const SetOfficers& act) {
  if (act.officers.empty()) {
    return Status::error(ErrorCode::kInvalidArgument, "the officer set must not be empty");
  }
  if (act.threshold < 1 || act.threshold > act.officers.size()) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "threshold " + std::to_string(act.threshold) + " must be 1.." +
                             std::to_string(act.officers.size()));
  }
  for (std::size_t i = 0; i < act.officers.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (act.officers[i] == act.officers[j]) {
        return Status::error(ErrorCode::kInvalidArgument,
                             "officer " + act.officers[i].short_hex() + " is listed twice");
      }
    }
    if (!core::is_valid_public_key(act.officers[i])) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "officer key " + act.officers[i].to_hex() + " is not a valid Ed25519 key");
    }
  }
  auto set = officer_set(ledger);
  if (!set) return set.status();
  for (std::size_t i = 0; i < act.officers.size(); ++i) {
    auto account = ledger.account(act.officers[i]);
    if (!account) return account.status();
    if (*account && (*account)->role != Role::kAuthority) {
      return Status::error(ErrorCode::kConflict, "officer " + act.officers[i].short_hex() +
                                                     " is already registered as " + (*account)->name);
    }
    if (!*account) {
      // A key that already signs for another account (after its RotateKey) would be mapped to
      // that account whenever it signs: as an officer it could never approve.
      auto signs_for = ledger.get<PublicKey>(keys::signing_key(act.officers[i]));
      if (!signs_for) return signs_for.status();
      if (*signs_for) {
        return Status::error(ErrorCode::kConflict, "officer key " + act.officers[i].short_hex() +
                                                       " already signs for account " + (*signs_for)->short_hex());
      }
      Account officer;
      officer.key = act.officers[i];
      officer.signing_key = act.officers[i];
      officer.name = "officer " + act.officers[i].short_hex();
      officer.role = Role::kAuthority;
      ledger.put_account(officer);
    }
  }
  set->officers = act.officers;
  set->threshold = act.threshold;
  ledger.put(std::string(keys::kOfficers), *set);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const Propose& call) {
  auto set = officer_set(ledger);
  if (!set) return set.status();
  if (!set->is_officer(ctx.sender.key)) return unauthorized("propose authority acts (officers only)");
  auto rules = rules_in_force(ledger, year_of(ctx.time_ms));
  if (!rules) return rules.status();
  Proposal proposal;
  proposal.id = set->next_proposal_id;
  proposal.act = call.act;
  proposal.proposer = ctx.sender.key;
  proposal.approvals = {ctx.sender.key};
  CARBON_RETURN_IF_ERROR(add_cosigners(ledger, ctx, *set, proposal.approvals));
  proposal.threshold = set->threshold;
  proposal.created_height = ctx.height;
  proposal.created_ms = ctx.time_ms;
  auto expires = core::checked_add(ctx.time_ms, rules->rules.proposal_ttl_ms);
  if (!expires) return expires.status();
  proposal.expires_ms = *expires;
  set->next_proposal_id += 1;
  ledger.put(std::string(keys::kOfficers), *set);
  if (proposal.approvals.size() >= proposal.threshold) {
    if (Status status = execute_act(ledger, ctx, proposal.act); !status) return status;
    proposal.status = ProposalStatus::kExecuted;
    proposal.executed_height = ctx.height;
  }
  ledger.put(keys::proposal(proposal.id), proposal);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const Approve& call) {
  auto set = officer_set(ledger);
  if (!set) return set.status();
  if (!set->is_officer(ctx.sender.key)) return unauthorized("approve authority acts (officers only)");
  auto stored = ledger.get<Proposal>(keys::proposal(call.proposal_id));
  if (!stored) return stored.status();
  if (!*stored) {
    return Status::error(ErrorCode::kNotFound, "no proposal " + std::to_string(call.proposal_id));
  }
  Proposal proposal = std::move(**stored);
  if (proposal.status == ProposalStatus::kExecuted) {
    return Status::error(ErrorCode::kConflict, "proposal " + std::to_string(proposal.id) +
                                                   " was already executed at height " +
                                                   std::to_string(proposal.executed_height));
  }
  if (ctx.time_ms > proposal.expires_ms) {
    return Status::error(ErrorCode::kConflict, "proposal " + std::to_string(proposal.id) +
                                                   " expired; propose the act again");
  }
  if (std::find(proposal.approvals.begin(), proposal.approvals.end(), ctx.sender.key) !=
      proposal.approvals.end()) {
    return Status::error(ErrorCode::kConflict, "you already approved proposal " +
                                                   std::to_string(proposal.id) + " (" +
                                                   std::to_string(proposal.approvals.size()) + " of " +
                                                   std::to_string(proposal.threshold) + ")");
  }
  // Approvals count only from officers still in office.
  std::erase_if(proposal.approvals, [&](const PublicKey& key) { return !set->is_officer(key); });
  proposal.approvals.push_back(ctx.sender.key);
  CARBON_RETURN_IF_ERROR(add_cosigners(ledger, ctx, *set, proposal.approvals));
  // A threshold raised since the proposal was made applies to it too (a lowered one does
  // not: the officers who proposed expected the stricter rule).
  proposal.threshold = std::max(proposal.threshold, set->threshold);
  if (proposal.approvals.size() >= proposal.threshold) {
    Status status = execute_act(ledger, ctx, proposal.act);
    if (!status) {
      return Status::error(status.code(), "proposal " + std::to_string(proposal.id) + " (" +
                                              std::string(act_name(proposal.act)) +
                                              ") cannot execute: " + status.message());
    }
    proposal.status = ProposalStatus::kExecuted;
    proposal.executed_height = ctx.height;
  }
  ledger.put(keys::proposal(proposal.id), proposal);
  return Status::ok();
}

// ---- dispatch -------------------------------------------------------------------------------

Status apply_call(StateStore& store, const Context& ctx, const Call& call) {
  Ledger ledger(store);
  return std::visit([&](const auto& c) { return apply_call(ledger, ctx, c); }, call);
}

}  // namespace carbon::contracts
