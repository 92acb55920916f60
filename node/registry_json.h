// JSON renderings of the contract calls, authority acts and registry records, shared by the
// node's RPC (GET /block, /tx and the registry queries). Field names carry their units
// (_t tonnes, _fen, _bp, _ppm, _ms); keys and hashes are lower-case hex.
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>

#include "contracts/calls.h"
#include "contracts/compliance.h"
#include "contracts/ledger.h"
#include "contracts/queries.h"
#include "contracts/records.h"
#include "contracts/rules.h"

namespace carbon::node::render {

using json = nlohmann::json;

json act_json(const contracts::AuthorityAct& act);
json call_json(const contracts::Call& call);
json rules_json(const contracts::RuleSet& rules);
json rules_record_json(const contracts::RulesRecord& record);
json account_json(const contracts::Account& account);
json officers_json(const contracts::OfficerSet& set);
json proposal_json(const contracts::queries::ProposalView& view);
json cap_json(const contracts::CapRecord& cap);
json allocation_inputs_json(const contracts::AllocationInputs& inputs);
json allocation_json(const contracts::AllocationRecord& record);
json emission_json(const contracts::EmissionRecord& record);
json mrv_event_json(const contracts::MrvEvent& event);
json project_json(const contracts::Project& project);
json issuance_json(const contracts::IssuanceRecord& record);
json retired_json(const contracts::RetiredRange& record);
json move_json(const contracts::MoveRecord& record);
json range_json(const contracts::SerialRange& range);
json holding_json(const contracts::queries::Holding& holding);
json trace_json(const contracts::queries::Trace& trace);
json compliance_row_json(const contracts::ComplianceRow& row);
json year_closed_json(const contracts::YearClosed& closed);
json position_json(const contracts::CompliancePosition& position);

}  // namespace carbon::node::render
