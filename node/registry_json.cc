#include "node/registry_json.h"

#include <string>
#include <type_traits>

#include "node/market_json.h"

namespace carbon::node::render {

namespace c = carbon::contracts;

namespace {
std::string role(c::Role r) { return std::string(c::role_name(r)); }
}  // namespace

json range_json(const c::SerialRange& range) {
  return {{"start", range.start}, {"end", range.end}, {"quantity_t", range.size()}};
}

json allocation_inputs_json(const c::AllocationInputs& in) {
  return {{"method", std::string(c::allocation_method_name(in.method))},
          {"historical_emissions_t", in.historical_emissions_t},
          {"factor_ppm", in.factor_ppm},
          {"intensity_g_per_unit", in.intensity_g_per_unit},
          {"benchmark_g_per_unit", in.benchmark_g_per_unit},
          {"base_production_units", in.base_production_units}};
}

json rules_json(const c::RuleSet& r) {
  json types = json::array();
  for (auto t = 0u; t <= static_cast<unsigned>(c::kMaxProjectType); ++t) {
    if (r.offset_types_mask & (1u << t)) {
      types.push_back(std::string(c::project_type_name(static_cast<c::ProjectType>(t))));
    }
  }
  return {{"coverage_threshold_tce", r.coverage_threshold_tce},
          {"reporting_threshold_tce", r.reporting_threshold_tce},
          {"report_deadline_ms", r.report_deadline_ms},
          {"verification_deadline_ms", r.verification_deadline_ms},
          {"surrender_deadline_ms", r.surrender_deadline_ms},
          {"allow_estimate", r.allow_estimate != 0},
          {"offset_limit_bp", r.offset_limit_bp},
          {"offset_provinces", r.offset_provinces},
          {"offset_types", types},
          {"offset_min_vintage", r.offset_min_vintage},
          {"offset_max_vintage", r.offset_max_vintage},
          {"pre_allocation_bp", r.pre_allocation_bp},
          {"adjust_threshold_bp", r.adjust_threshold_bp},
          {"adjust_threshold_t", r.adjust_threshold_t},
          {"reference_price_fen", r.reference_price_fen},
          {"penalty_multiple_pct", r.penalty_multiple_pct},
          {"penalty_cap_fen", r.penalty_cap_fen},
          {"deduction_multiple", r.deduction_multiple},
          {"cancel_untraded", r.cancel_untraded != 0},
          {"banking_allowed", r.banking_allowed != 0},
          {"proposal_ttl_ms", r.proposal_ttl_ms}};
}

json rules_record_json(const c::RulesRecord& record) {
  return {{"year", record.year},
          {"version", record.version},
          {"effective_height", record.effective_height},
          {"effective_ms", record.effective_ms},
          {"rules", rules_json(record.rules)}};
}

json act_json(const c::AuthorityAct& act) {
  json out = {{"act", std::string(c::act_name(act))}};
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, c::RegisterParticipant>) {
          out["participant"] = body.key.to_hex();
          out["name"] = body.name;
          out["role"] = role(body.role);
        } else if constexpr (std::is_same_v<T, c::UpdateParticipant>) {
          out["participant"] = body.account.to_hex();
          out["name"] = body.name;
          out["role"] = role(body.role);
        } else if constexpr (std::is_same_v<T, c::SetFrozen>) {
          out["participant"] = body.account.to_hex();
          out["frozen"] = body.frozen != 0;
        } else if constexpr (std::is_same_v<T, c::IssueAllowances>) {
          out["to"] = body.to.to_hex();
          out["vintage_year"] = body.vintage_year;
          out["quantity_t"] = body.quantity_t;
        } else if constexpr (std::is_same_v<T, c::SetOfficers>) {
          json officers = json::array();
          for (const auto& key : body.officers) officers.push_back(key.to_hex());
          out["officers"] = officers;
          out["threshold"] = body.threshold;
        } else if constexpr (std::is_same_v<T, c::SetRules>) {
          out["year"] = body.year;
          out["rules"] = rules_json(body.rules);
        } else if constexpr (std::is_same_v<T, c::SetCap>) {
          out["year"] = body.year;
          out["cap_t"] = body.cap_t;
          out["reserve_t"] = body.reserve_t;
          out["auction_t"] = body.auction_t;
        } else if constexpr (std::is_same_v<T, c::SetAllocation>) {
          out["enterprise"] = body.enterprise.to_hex();
          out["year"] = body.year;
          out["inputs"] = allocation_inputs_json(body.inputs);
        } else if constexpr (std::is_same_v<T, c::IssuePreAllocation> ||
                             std::is_same_v<T, c::TrueUpAllocation> ||
                             std::is_same_v<T, c::AdjustAllocation> ||
                             std::is_same_v<T, c::ApproveEmissions>) {
          out["enterprise"] = body.enterprise.to_hex();
          out["year"] = body.year;
        } else if constexpr (std::is_same_v<T, c::AssignVerifier>) {
          out["enterprise"] = body.enterprise.to_hex();
          out["year"] = body.year;
          out["verifier"] = body.verifier.to_hex();
        } else if constexpr (std::is_same_v<T, c::EstimateEmissions>) {
          out["enterprise"] = body.enterprise.to_hex();
          out["year"] = body.year;
          out["estimate_t"] = body.estimate_t;
        } else if constexpr (std::is_same_v<T, c::ApproveProject>) {
          out["project_id"] = body.project_id;
        } else if constexpr (std::is_same_v<T, c::IssueCcer>) {
          out["project_id"] = body.project_id;
          out["vintage_year"] = body.vintage_year;
          out["quantity_t"] = body.quantity_t;
          out["verification_hash"] = body.verification_hash.to_hex();
        } else if constexpr (std::is_same_v<T, c::CloseYear>) {
          out["year"] = body.year;
        } else if constexpr (requires { call_fields(out, body); }) {
          call_fields(out, body);  // the market's acts (node/market_json.h)
        } else {
          static_assert(sizeof(T) == 0, "render every authority act");
        }
      },
      act);
  return out;
}

namespace {
json project_details_json(const c::RegisterProject& p) {
  return {{"name", p.name},
          {"methodology", p.methodology},
          {"type", std::string(c::project_type_name(p.type))},
          {"province", p.province},
          {"crediting_start_year", p.crediting_start_year},
          {"crediting_end_year", p.crediting_end_year}};
}
}  // namespace

json call_json(const c::Call& call) {
  json out = {{"kind", std::string(c::call_name(call))}};
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, c::TransferUnits>) {
          out["to"] = body.to.to_hex();
          out["product"] = body.product.code();
          out["quantity_t"] = body.quantity_t;
        } else if constexpr (std::is_same_v<T, c::Propose>) {
          out["proposal"] = act_json(body.act);
        } else if constexpr (std::is_same_v<T, c::Approve>) {
          out["proposal_id"] = body.proposal_id;
        } else if constexpr (std::is_same_v<T, c::RotateKey>) {
          out["new_key"] = body.new_key.to_hex();
        } else if constexpr (std::is_same_v<T, c::SubmitReport>) {
          out["year"] = body.year;
          out["document_hash"] = body.document_hash.to_hex();
          out["declared_t"] = body.declared_t;
        } else if constexpr (std::is_same_v<T, c::SubmitVerification>) {
          out["enterprise"] = body.enterprise.to_hex();
          out["year"] = body.year;
          out["report_hash"] = body.report_hash.to_hex();
          out["verified_t"] = body.verified_t;
          out["verified_production_units"] = body.verified_production_units;
        } else if constexpr (std::is_same_v<T, c::RegisterProject>) {
          out["project"] = project_details_json(body);
        } else if constexpr (std::is_same_v<T, c::Surrender>) {
          out["year"] = body.year;
          out["product"] = body.product.code();
          out["quantity_t"] = body.quantity_t;
        } else if constexpr (requires { call_fields(out, body); }) {
          call_fields(out, body);  // the exchange's calls (node/market_json.h)
        } else {
          static_assert(sizeof(T) == 0, "render every call");
        }
      },
      call);
  return out;
}

json account_json(const c::Account& a) {
  json out = {{"address", a.key.to_hex()},
              {"name", a.name},
              {"role", role(a.role)},
              {"nonce", a.nonce},
              {"frozen", a.frozen != 0},
              {"registered_height", a.registered_height}};
  if (a.signing_key != a.key) out["signing_key"] = a.signing_key.to_hex();
  return out;
}

json officers_json(const c::OfficerSet& set) {
  json officers = json::array();
  for (const auto& key : set.officers) officers.push_back(key.to_hex());
  return {{"officers", officers},
          {"threshold", set.threshold},
          {"next_proposal_id", set.next_proposal_id}};
}

json proposal_json(const c::queries::ProposalView& view) {
  const c::Proposal& p = view.proposal;
  json approvals = json::array();
  for (const auto& key : p.approvals) approvals.push_back(key.to_hex());
  json out = {{"id", p.id},
              {"state", std::string(c::queries::proposal_state_name(view.state))},
              {"act", act_json(p.act)},
              {"proposer", p.proposer.to_hex()},
              {"approvals", approvals},
              {"threshold", p.threshold},
              {"created_height", p.created_height},
              {"created_ms", p.created_ms},
              {"expires_ms", p.expires_ms}};
  if (p.status == c::ProposalStatus::kExecuted) out["executed_height"] = p.executed_height;
  return out;
}

json cap_json(const c::CapRecord& cap) {
  return {{"year", cap.year},
          {"cap_t", cap.cap_t},
          {"free_t", cap.free_t},
          {"reserve_t", cap.reserve_t},
          {"auction_t", cap.auction_t},
          {"free_issued_t", cap.free_issued_t},
          {"reserve_issued_t", cap.reserve_issued_t},
          {"withdrawn_t", cap.withdrawn_t}};
}

json allocation_json(const c::AllocationRecord& r) {
  return {{"enterprise", r.enterprise.to_hex()},
          {"year", r.year},
          {"inputs", allocation_inputs_json(r.inputs)},
          {"initial_t", r.initial_t},
          {"deduction_t", r.deduction_t},
          {"pre_issued_t", r.pre_issued_t},
          {"trued_up", r.trued_up != 0},
          {"final_t", r.final_t},
          {"adjusted", r.adjusted != 0},
          {"issued_t", r.issued_t},
          {"withdrawn_t", r.withdrawn_t}};
}

json emission_json(const c::EmissionRecord& r) {
  json out = {{"enterprise", r.enterprise.to_hex()},
              {"year", r.year},
              {"status", std::string(c::mrv_status_name(r.status))},
              {"report_version", r.report_version},
              {"report_hash", r.report_hash.to_hex()},
              {"declared_t", r.declared_t},
              {"reported_ms", r.reported_ms},
              {"verification_version", r.verification_version},
              {"verification_hash", r.verification_hash.to_hex()},
              {"verified_t", r.verified_t},
              {"verified_production_units", r.verified_production_units},
              {"verified_ms", r.verified_ms},
              {"approval_version", r.approval_version},
              {"obligation_t", r.obligation_t},
              {"approved_ms", r.approved_ms},
              {"estimated", r.estimated != 0}};
  out["verifier"] = r.has_verifier ? json(r.verifier.to_hex()) : json(nullptr);
  return out;
}

json mrv_event_json(const c::MrvEvent& e) {
  return {{"seq", e.seq},
          {"kind", std::string(c::mrv_event_name(e.kind))},
          {"height", e.height},
          {"time_ms", e.time_ms},
          {"actor", e.actor.to_hex()},
          {"version", e.version},
          {"figure_t", e.figure_t},
          {"document_hash", e.document_hash.to_hex()},
          {"production_units", e.production_units}};
}

json project_json(const c::Project& p) {
  return {{"id", p.id},
          {"owner", p.owner.to_hex()},
          {"details", project_details_json(p.details)},
          {"status", p.status == c::ProjectStatus::kApproved ? "approved" : "pending"},
          {"registered_height", p.registered_height},
          {"registered_ms", p.registered_ms},
          {"approved_ms", p.approved_ms},
          {"issued_t", p.issued_t}};
}

json issuance_json(const c::IssuanceRecord& r) {
  json out = {{"product", r.product.code()},
              {"range", range_json(r.range)},
              {"to", r.to.to_hex()},
              {"kind", std::string(c::issuance_kind_name(r.kind))},
              {"height", r.height},
              {"time_ms", r.time_ms}};
  if (!r.reference.is_zero()) out["reference"] = r.reference.to_hex();
  return out;
}

json retired_json(const c::RetiredRange& r) {
  return {{"product", r.product.code()},
          {"range", range_json(r.range)},
          {"owner", r.owner.to_hex()},
          {"kind", std::string(c::retirement_kind_name(r.kind))},
          {"year", r.year},
          {"height", r.height},
          {"time_ms", r.time_ms}};
}

json move_json(const c::MoveRecord& r) {
  return {{"range", range_json(r.range)},
          {"from", r.from.to_hex()},
          {"to", r.to.to_hex()},
          {"height", r.height},
          {"time_ms", r.time_ms}};
}

json holding_json(const c::queries::Holding& h) {
  json ranges = json::array();
  for (const auto& range : h.ranges) ranges.push_back(range_json(range));
  return {{"product", h.product.code()},
          {"quantity_t", h.quantity_t},
          {"ranges", ranges},
          {"more_ranges", h.more_ranges}};
}

json trace_json(const c::queries::Trace& t) {
  json moves = json::array();
  for (const auto& move : t.moves) moves.push_back(move_json(move));
  json out = {{"product", t.product.code()},
              {"serial", t.serial},
              {"issuance", issuance_json(t.issuance)},
              {"moves", moves},
              {"moves_truncated", t.moves_truncated}};
  if (t.holder) {
    out["status"] = "held";
    out["holder"] = t.holder->owner.to_hex();
    out["held_range"] = range_json(t.held_range);
  }
  if (t.retirement) {
    out["status"] = "retired";
    out["retirement"] = retired_json(*t.retirement);
  }
  return out;
}

json compliance_row_json(const c::ComplianceRow& r) {
  return {{"enterprise", r.enterprise.to_hex()},
          {"name", r.name},
          {"obligation_t", r.obligation_t},
          {"surrendered_t", r.surrendered_t},
          {"ccers_t", r.ccers_t},
          {"status", r.status == c::ComplianceStatus::kCompliant ? "compliant" : "short"},
          {"shortfall_t", r.shortfall_t},
          {"penalty_fen", r.penalty_fen},
          {"deduction_t", r.deduction_t},
          {"cancelled_t", r.cancelled_t}};
}

json year_closed_json(const c::YearClosed& closed) {
  return {{"year", closed.year},
          {"height", closed.height},
          {"time_ms", closed.time_ms},
          {"enterprises", closed.enterprises},
          {"short_enterprises", closed.short_enterprises},
          {"penalties_fen", closed.penalties_fen}};
}

// The one reader of CompliancePosition's fields (contracts/compliance.h, from the compliance
// work): adjust here if that struct's fields differ.
json position_json(const c::CompliancePosition& p) {
  return {{"enterprise", p.enterprise.to_hex()},
          {"year", p.year},
          {"has_obligation", p.has_obligation},
          {"obligation_t", p.obligation_t},
          {"surrendered_allowances_t", p.surrendered_allowances_t},
          {"surrendered_ccers_t", p.surrendered_ccers_t},
          {"surrendered_t", p.surrendered_allowances_t + p.surrendered_ccers_t},
          {"eligible_allowances_t", p.eligible_allowances_t},
          {"eligible_ccers_t", p.eligible_ccers_t},
          {"offset_limit_t", p.offset_limit_t},
          {"offset_headroom_t", p.offset_headroom_t},
          {"shortfall_t", p.shortfall_t},
          {"rules_version", p.rules_version},
          {"closed", p.closed},
          {"holdings_truncated", p.holdings_truncated}};
}

}  // namespace carbon::node::render
