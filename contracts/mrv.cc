// MRV (RULES.md "MRV: monitoring, reporting, verification"): an enterprise reports its
// emissions for year Y, the verifier the authority assigned verifies them, the authority
// approves the verified figure, which becomes the surrender obligation; without a report the
// authority may set the obligation by estimate after the report deadline.
//
// The current state of an enterprise's year is one EmissionRecord (mrv/<year>/<ent>); every
// step also appends an MrvEvent (mrvh/<year>/<ent>/<seq>), so corrections never erase
// history. A correction is a new report (report_version + 1), which sends the record back to
// "reported": the obligation already approved stays in force until a new verification is
// approved.
#include "contracts/ledger_internal.h"
#include "core/checked_math.h"

namespace carbon::contracts {

namespace {

std::string year_text(std::uint16_t year) { return std::to_string(year); }

Status require_open_year(const Ledger& ledger, std::uint16_t year, std::string_view doing) {
  CARBON_RETURN_IF_ERROR(check_year(year));
  auto closed = ledger.get<YearClosed>(keys::year_closed(year));
  if (!closed) return closed.status();
  if (*closed) {
    return Status::error(ErrorCode::kConflict, "year " + year_text(year) + " is closed; " +
                                                   std::string(doing) + " is no longer possible");
  }
  return Status::ok();
}

Result<Account> require_enterprise(const Ledger& ledger, const PublicKey& key, std::string_view doing) {
  auto account = require_account(ledger, key, "enterprise");
  if (!account) return account.status();
  CARBON_RETURN_IF_ERROR(
      require_role(*account, {Role::kCoveredEnterprise, Role::kReportingEnterprise}, doing));
  return account;
}

// A figure in tonnes: at least 1 t, at most the per-transaction bound.
Status check_figure(std::uint64_t quantity_t, std::string_view what) {
  if (quantity_t == 0) {
    return Status::error(ErrorCode::kInvalidArgument, std::string(what) + " must be at least 1 t");
  }
  if (quantity_t > kMaxQuantityPerTx) {
    return Status::error(ErrorCode::kOutOfBounds, std::string(what) + " " + tonnes(quantity_t) +
                                                      " exceeds the limit of " +
                                                      tonnes(kMaxQuantityPerTx));
  }
  return Status::ok();
}

Result<std::optional<EmissionRecord>> load(const Ledger& ledger, std::uint16_t year,
                                           const PublicKey& enterprise) {
  return ledger.get<EmissionRecord>(keys::emission(year, enterprise));
}

EmissionRecord fresh_record(std::uint16_t year, const PublicKey& enterprise) {
  EmissionRecord record;
  record.enterprise = enterprise;
  record.year = year;
  return record;
}

Result<std::uint32_t> next_version(std::uint32_t version) {
  return core::checked_add(version, std::uint32_t{1});
}

// Stores the record and appends one history event (taking the record's next sequence number).
Status save_with_event(Ledger& ledger, const Context& ctx, EmissionRecord& record, MrvEvent event) {
  event.seq = record.next_event;
  event.height = ctx.height;
  event.time_ms = ctx.time_ms;
  auto next = next_version(record.next_event);
  if (!next) return next.status();
  record.next_event = *next;
  ledger.put(keys::emission_event(record.year, record.enterprise, event.seq), event);
  ledger.put(keys::emission(record.year, record.enterprise), record);
  return Status::ok();
}

}  // namespace

Status apply_call(Ledger& ledger, const Context& ctx, const SubmitReport& call) {
  const Account& sender = ctx.sender;
  CARBON_RETURN_IF_ERROR(require_role(
      sender, {Role::kCoveredEnterprise, Role::kReportingEnterprise}, "submit emission reports"));
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, call.year, "reporting or correcting emissions"));
  CARBON_RETURN_IF_ERROR(check_figure(call.declared_t, "declared emissions"));
  if (call.document_hash.is_zero()) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "the report's document hash is zero; give the hash of the report");
  }
  auto rules = rules_in_force(ledger, call.year);
  if (!rules) return rules.status();
  if (ctx.time_ms > rules->rules.report_deadline_ms) {
    return Status::error(ErrorCode::kConflict,
                         "report deadline for " + year_text(call.year) + " passed at " +
                             beijing_time(rules->rules.report_deadline_ms) + " (block time " +
                             beijing_time(ctx.time_ms) +
                             "); a late or missing report is settled by the authority");
  }
  auto stored = load(ledger, call.year, sender.key);
  if (!stored) return stored.status();
  EmissionRecord record = stored->value_or(fresh_record(call.year, sender.key));
  auto version = next_version(record.report_version);
  if (!version) return version.status();
  record.report_version = *version;
  record.report_hash = call.document_hash;
  record.declared_t = call.declared_t;
  record.reported_ms = ctx.time_ms;
  // A correction after a verification or an approval needs a new verification and approval;
  // the obligation already approved stays until then.
  record.status = MrvStatus::kReported;

  MrvEvent event;
  event.kind = MrvEventKind::kReport;
  event.actor = sender.key;
  event.version = record.report_version;
  event.figure_t = call.declared_t;
  event.document_hash = call.document_hash;
  return save_with_event(ledger, ctx, record, event);
}

Status apply_act(Ledger& ledger, const Context& ctx, const AssignVerifier& act) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, act.year, "assigning a verifier"));
  auto enterprise = require_enterprise(ledger, act.enterprise, "have a verifier assigned");
  if (!enterprise) return enterprise.status();
  auto verifier = require_account(ledger, act.verifier, "verifier");
  if (!verifier) return verifier.status();
  CARBON_RETURN_IF_ERROR(require_role(*verifier, {Role::kVerifier}, "verify emission reports"));

  auto stored = load(ledger, act.year, act.enterprise);
  if (!stored) return stored.status();
  EmissionRecord record;
  if (*stored) {
    record = std::move(**stored);
    if (record.has_verifier && record.verifier == act.verifier) {
      return Status::error(ErrorCode::kConflict, verifier->name + " is already the verifier of " +
                                                     enterprise->name + " for " +
                                                     year_text(act.year));
    }
  } else {
    record = fresh_record(act.year, act.enterprise);
    record.status = MrvStatus::kAssigned;  // report_version 0: no report yet
  }
  // A new verifier starts over: a figure verified by the previous one and not yet approved
  // can no longer be approved (it needs the new verifier's verification).
  if (record.status == MrvStatus::kVerified) record.status = MrvStatus::kReported;
  record.verifier = act.verifier;
  record.has_verifier = 1;

  MrvEvent event;
  event.kind = MrvEventKind::kVerifierAssigned;
  // The assigned verifier, so the history shows who was in charge when; the officers who
  // decided are on the proposal.
  event.actor = act.verifier;
  return save_with_event(ledger, ctx, record, event);
}

Status apply_call(Ledger& ledger, const Context& ctx, const SubmitVerification& call) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, call.year, "verifying emissions"));
  auto enterprise = require_account(ledger, call.enterprise, "enterprise");
  if (!enterprise) return enterprise.status();
  auto stored = load(ledger, call.year, call.enterprise);
  if (!stored) return stored.status();
  if (!*stored || !(*stored)->has_verifier || (*stored)->verifier != ctx.sender.key) {
    return Status::error(ErrorCode::kUnauthorized, "only the verifier assigned to " +
                                                       enterprise->name + " for " +
                                                       year_text(call.year) + " may verify");
  }
  // The assignment stands only while the account is still an accredited verifier.
  CARBON_RETURN_IF_ERROR(require_role(ctx.sender, {Role::kVerifier}, "verify emission reports"));
  EmissionRecord record = std::move(**stored);
  if (record.report_version == 0) {
    return Status::error(ErrorCode::kConflict, enterprise->name + " has not reported its " +
                                                   year_text(call.year) +
                                                   " emissions yet; a verification follows a report");
  }
  auto rules = rules_in_force(ledger, call.year);
  if (!rules) return rules.status();
  if (ctx.time_ms > rules->rules.verification_deadline_ms) {
    return Status::error(ErrorCode::kConflict,
                         "verification deadline for " + year_text(call.year) + " passed at " +
                             beijing_time(rules->rules.verification_deadline_ms) +
                             " (block time " + beijing_time(ctx.time_ms) + ")");
  }
  CARBON_RETURN_IF_ERROR(check_figure(call.verified_t, "verified emissions"));
  if (call.report_hash.is_zero()) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "the verification report hash is zero; give the hash of the report");
  }
  auto version = next_version(record.verification_version);
  if (!version) return version.status();
  record.verification_version = *version;
  record.verification_hash = call.report_hash;
  record.verified_t = call.verified_t;
  record.verified_production_units = call.verified_production_units;
  record.verified_ms = ctx.time_ms;
  record.status = MrvStatus::kVerified;

  MrvEvent event;
  event.kind = MrvEventKind::kVerification;
  event.actor = ctx.sender.key;
  event.version = record.verification_version;
  event.figure_t = call.verified_t;
  event.document_hash = call.report_hash;
  event.production_units = call.verified_production_units;
  return save_with_event(ledger, ctx, record, event);
}

Status apply_act(Ledger& ledger, const Context& ctx, const ApproveEmissions& act) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, act.year, "approving emissions"));
  auto enterprise = require_enterprise(ledger, act.enterprise, "have emissions approved");
  if (!enterprise) return enterprise.status();
  auto stored = load(ledger, act.year, act.enterprise);
  if (!stored) return stored.status();
  // Status kVerified means the latest step was a verification: newer than the last report
  // and the last approval.
  if (!*stored || (*stored)->verification_version == 0 ||
      (*stored)->status != MrvStatus::kVerified) {
    const std::string state =
        *stored ? std::string(mrv_status_name((*stored)->status)) : std::string("no report");
    return Status::error(ErrorCode::kConflict,
                         "no verification of " + enterprise->name + "'s " + year_text(act.year) +
                             " emissions newer than the last report or approval (status: " +
                             state + ")");
  }
  EmissionRecord record = std::move(**stored);
  auto version = next_version(record.approval_version);
  if (!version) return version.status();
  record.approval_version = *version;
  record.obligation_t = record.verified_t;
  record.approved_ms = ctx.time_ms;
  record.estimated = 0;
  record.status = MrvStatus::kApproved;

  MrvEvent event;
  event.kind = MrvEventKind::kApproval;
  event.actor = ctx.sender.key;
  event.version = record.approval_version;
  event.figure_t = record.obligation_t;
  event.document_hash = record.verification_hash;
  event.production_units = record.verified_production_units;
  return save_with_event(ledger, ctx, record, event);
}

Status apply_act(Ledger& ledger, const Context& ctx, const EstimateEmissions& act) {
  CARBON_RETURN_IF_ERROR(require_open_year(ledger, act.year, "estimating emissions"));
  auto enterprise = require_enterprise(ledger, act.enterprise, "have emissions estimated");
  if (!enterprise) return enterprise.status();
  auto rules = rules_in_force(ledger, act.year);
  if (!rules) return rules.status();
  if (!rules->rules.allow_estimate) {
    return Status::error(ErrorCode::kConflict, "the rules for " + year_text(act.year) +
                                                   " (version " +
                                                   std::to_string(rules->version) +
                                                   ") do not allow setting emissions by estimate");
  }
  if (ctx.time_ms <= rules->rules.report_deadline_ms) {
    return Status::error(ErrorCode::kConflict,
                         "the report deadline for " + year_text(act.year) + " (" +
                             beijing_time(rules->rules.report_deadline_ms) +
                             ") has not passed; " + enterprise->name + " may still report");
  }
  CARBON_RETURN_IF_ERROR(check_figure(act.estimate_t, "estimated emissions"));
  auto stored = load(ledger, act.year, act.enterprise);
  if (!stored) return stored.status();
  EmissionRecord record = stored->value_or(fresh_record(act.year, act.enterprise));
  // An estimate replaces a missing report, or a report (first or corrected) that was not
  // verified by the verification deadline: otherwise nothing could ever set that enterprise's
  // obligation (a verification of an earlier version cannot be approved) and the year could
  // not be closed. It never replaces a verified figure waiting for approval, nor an approved
  // one that no correction has reopened.
  if (record.status == MrvStatus::kVerified) {
    return Status::error(ErrorCode::kConflict,
                         enterprise->name + "'s " + year_text(act.year) + " report was verified (version " +
                             std::to_string(record.verification_version) +
                             "); approve the verified figure instead of estimating");
  }
  if (record.status == MrvStatus::kApproved) {
    return Status::error(ErrorCode::kConflict,
                         enterprise->name + "'s " + year_text(act.year) + " emissions are approved (obligation " +
                             std::to_string(record.obligation_t) +
                             " t); an estimate replaces only a report that was not verified");
  }
  if (record.report_version != 0 && record.status == MrvStatus::kReported &&
      ctx.time_ms <= rules->rules.verification_deadline_ms) {
    // Verified once, then reported again or given a new verifier: the latest report is not verified.
    const std::string what = record.verification_version != 0
                                 ? enterprise->name + "'s latest " + year_text(act.year) +
                                       " report is not verified (it was corrected, or the verifier changed, after "
                                       "the last verification)"
                                 : enterprise->name + " reported its " + year_text(act.year) + " emissions";
    return Status::error(ErrorCode::kConflict, what + "; its verifier has until " +
                                                   beijing_time(rules->rules.verification_deadline_ms) +
                                                   ", an estimate replaces the report only after that");
  }
  auto version = next_version(record.approval_version);
  if (!version) return version.status();
  record.approval_version = *version;
  record.obligation_t = act.estimate_t;
  record.approved_ms = ctx.time_ms;
  record.estimated = 1;
  record.status = MrvStatus::kEstimated;

  MrvEvent event;
  event.kind = MrvEventKind::kEstimate;
  event.actor = ctx.sender.key;
  event.version = record.approval_version;
  event.figure_t = act.estimate_t;
  return save_with_event(ledger, ctx, record, event);
}

}  // namespace carbon::contracts
