// CCER offsets (RULES.md "CCER offsets"): project registration by the project owner, approval
// by the authority, and issuance of serial-numbered batches per vintage within the crediting
// period. Eligibility of CCERs for surrender is decided in compliance.cc.
#include "contracts/ledger_internal.h"
#include "core/checked_math.h"

namespace carbon::contracts {

namespace {

Status invalid(const std::string& text) { return Status::error(ErrorCode::kInvalidArgument, text); }

// Province codes are short upper-case codes ("HB", "GD"): the rule data's allowed origins
// are compared byte for byte, so a lower-case or padded code would never match.
Status check_province(const std::string& province) {
  if (province.empty() || province.size() > kMaxProvinceBytes) {
    return invalid("province code \"" + province + "\" must be 1.." +
                   std::to_string(kMaxProvinceBytes) + " letters A-Z (e.g. HB)");
  }
  for (char c : province) {
    if (c < 'A' || c > 'Z') {
      return invalid("province code \"" + province + "\" must be upper-case letters A-Z (e.g. HB)");
    }
  }
  return Status::ok();
}

Result<Project> require_project(const Ledger& ledger, std::uint64_t project_id) {
  auto stored = ledger.get<Project>(keys::project(project_id));
  if (!stored) return stored.status();
  if (!*stored) {
    return Status::error(ErrorCode::kNotFound,
                         "no CCER project " + std::to_string(project_id) + " is registered");
  }
  return std::move(**stored);
}

}  // namespace

Status apply_call(Ledger& ledger, const Context& ctx, const RegisterProject& call) {
  CARBON_RETURN_IF_ERROR(require_role(ctx.sender, {Role::kProjectOwner}, "register CCER projects"));
  if (call.name.empty()) return invalid("project name must not be empty");
  if (call.methodology.empty()) return invalid("project methodology must not be empty");
  CARBON_RETURN_IF_ERROR(check_province(call.province));
  CARBON_RETURN_IF_ERROR(check_year(call.crediting_start_year));
  CARBON_RETURN_IF_ERROR(check_year(call.crediting_end_year));
  if (call.crediting_start_year > call.crediting_end_year) {
    return invalid("crediting period " + std::to_string(call.crediting_start_year) + ".." +
                   std::to_string(call.crediting_end_year) + " ends before it starts");
  }
  auto set = ledger.get<OfficerSet>(std::string(keys::kOfficers));
  if (!set) return set.status();
  if (!*set)
    return Status::error(ErrorCode::kInternal, "the officer set is missing from the state");
  OfficerSet officers = std::move(**set);
  Project project;
  project.id = officers.next_project_id;
  auto next = core::checked_add(officers.next_project_id, std::uint64_t{1});
  if (!next) return next.status();
  officers.next_project_id = *next;
  ledger.put(std::string(keys::kOfficers), officers);

  project.owner = ctx.sender.key;
  project.details = call;
  project.status = ProjectStatus::kPending;
  project.registered_height = ctx.height;
  project.registered_ms = ctx.time_ms;
  ledger.put(keys::project(project.id), project);
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& ctx, const ApproveProject& act) {
  auto project = require_project(ledger, act.project_id);
  if (!project) return project.status();
  if (project->status != ProjectStatus::kPending) {
    return Status::error(ErrorCode::kConflict, "CCER project " + std::to_string(act.project_id) +
                                                   " (" + project->details.name +
                                                   ") is already approved");
  }
  project->status = ProjectStatus::kApproved;
  project->approved_ms = ctx.time_ms;
  ledger.put(keys::project(project->id), *project);
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& ctx, const IssueCcer& act) {
  auto project = require_project(ledger, act.project_id);
  if (!project) return project.status();
  const std::string label =
      "CCER project " + std::to_string(project->id) + " (" + project->details.name + ")";
  if (project->status != ProjectStatus::kApproved) {
    return Status::error(ErrorCode::kConflict,
                         label + " is not approved yet; approve it before issuing CCERs");
  }
  CARBON_RETURN_IF_ERROR(check_year(act.vintage_year));
  if (act.vintage_year < project->details.crediting_start_year ||
      act.vintage_year > project->details.crediting_end_year) {
    return invalid("vintage " + std::to_string(act.vintage_year) +
                   " is outside the crediting period " +
                   std::to_string(project->details.crediting_start_year) + ".." +
                   std::to_string(project->details.crediting_end_year) + " of " + label);
  }
  CARBON_RETURN_IF_ERROR(check_quantity(act.quantity_t));
  if (act.verification_hash.is_zero()) {
    return invalid("CCER issuance needs the hash of the verification report (all zero given)");
  }
  auto issued = core::checked_add(project->issued_t, act.quantity_t);
  if (!issued) return issued.status();
  const ProductId product{ProductKind::kCcer, act.vintage_year, project->id};
  auto range = ledger.issue(ctx, project->owner, product, act.quantity_t, IssuanceKind::kCcer,
                            act.verification_hash);
  if (!range) return range.status();
  project->issued_t = *issued;
  ledger.put(keys::project(project->id), *project);
  return Status::ok();
}

}  // namespace carbon::contracts
