// The registry's read-only RPC: typed queries (contracts/queries.h) over the node's read view
// of the committed state, rendered by node/registry_json.h. Every list takes ?limit=N (1..1000,
// default 100) and says "more": true when entries were left out.
#include <nlohmann/json.hpp>

#include "contracts/compliance.h"
#include "contracts/queries.h"
#include "node/app.h"
#include "node/registry_json.h"
#include "node/rpc_query.h"

namespace carbon::node {

namespace {

namespace q = contracts::queries;
using json = nlohmann::json;
using Answer = rpcq::Answer;

using rpcq::bad_request;
using rpcq::error_answer;
using rpcq::from_status;
using rpcq::ok;
using rpcq::parse_address;
using rpcq::parse_number;
using rpcq::split_path;

core::Result<std::uint16_t> parse_year(const std::string& text) {
  auto year = parse_number<std::uint16_t>(text);
  if (!year || *year < contracts::kMinVintageYear || *year > contracts::kMaxVintageYear) {
    return core::Status::error(core::ErrorCode::kInvalidArgument,
                               "a year is a number in " + std::to_string(contracts::kMinVintageYear) +
                                   ".." + std::to_string(contracts::kMaxVintageYear) + ", not '" + text + "'");
  }
  return *year;
}

// ?limit=N; other parameters are refused so that typos do not pass silently (rpcq::parse_query:
// percent-escapes decoded, a parameter given twice refused).
core::Result<std::size_t> parse_limit(const std::string& query) {
  auto params = rpcq::parse_query(query, {"limit"});
  if (!params) return params.status();
  const auto it = params->find("limit");
  if (it == params->end()) return q::kDefaultQueryLimit;
  auto limit = parse_number<std::size_t>(it->second);
  if (!limit || *limit < 1 || *limit > q::kMaxQueryLimit) {
    return core::Status::error(core::ErrorCode::kInvalidArgument, "limit must be 1.." +
                                                                      std::to_string(q::kMaxQueryLimit) + ", not '" +
                                                                      it->second.substr(0, 40) + "'");
  }
  return *limit;
}

template <class T, class F>
json list_json(const q::Page<T>& page, F render) {
  json items = json::array();
  for (const auto& item : page.items) items.push_back(render(item));
  return items;
}

const std::set<std::string>& registry_roots() {
  static const std::set<std::string> kRoots = {"participants", "officers",  "proposals", "proposal",
                                               "rules",        "cap",       "allocation", "mrv",
                                               "projects",     "project",   "issuances", "holdings",
                                               "trace",        "position",  "compliance"};
  return kRoots;
}

}  // namespace

bool NodeApp::is_registry_path(const std::string& path) {
  const auto parts = split_path(path);
  return !parts.empty() && registry_roots().contains(parts[0]);
}

std::optional<Answer> NodeApp::rpc_registry(const std::string& target) const {
  const std::size_t question = target.find('?');
  const std::string path = target.substr(0, question);
  const std::string query = question == std::string::npos ? "" : target.substr(question + 1);
  const auto parts = split_path(path);
  if (parts.empty()) return std::nullopt;
  const std::string& root = parts[0];
  if (!registry_roots().contains(root)) return std::nullopt;
  auto limit = parse_limit(query);
  if (!limit) return from_status(limit.status());
  const auto usage = [&](const std::string& shape) { return bad_request("expected GET " + shape); };

  const auto& state = static_cast<const contracts::StateStore&>(read_state_);
  const contracts::Ledger ledger(state);
  // The height the answer is about (read before the state; blocks only add to it).
  const consensus::Height height = executed_height_.load();
  const std::size_t n = parts.size();

  if (root == "participants") {
    if (n != 1) return usage("/participants");
    auto page = q::participants(ledger, *limit);
    if (!page) return from_status(page.status());
    return ok({{"participants", list_json(*page, render::account_json)}, {"more", page->more}}, height);
  }
  if (root == "officers") {
    if (n != 1) return usage("/officers");
    auto set = q::officers(ledger);
    if (!set) return from_status(set.status());
    return ok(render::officers_json(*set), height);
  }
  if (root == "proposals") {
    if (n != 1) return usage("/proposals");
    auto page = q::proposals(ledger, *limit);
    if (!page) return from_status(page.status());
    return ok({{"proposals", list_json(*page, render::proposal_json)}, {"more", page->more}}, height);
  }
  if (root == "proposal" || root == "project") {
    if (n != 2) return usage("/" + root + "/{id}");
    auto id = parse_number<std::uint64_t>(parts[1]);
    if (!id) return bad_request("a " + root + " id is a number, not '" + parts[1] + "'");
    if (root == "proposal") {
      auto view = q::proposal(ledger, *id);
      if (!view) return from_status(view.status());
      return ok(render::proposal_json(*view), height);
    }
    auto project = q::project(ledger, *id);
    if (!project) return from_status(project.status());
    return ok(render::project_json(*project), height);
  }
  if (root == "projects") {
    if (n != 1) return usage("/projects");
    auto page = q::projects(ledger, *limit);
    if (!page) return from_status(page.status());
    return ok({{"projects", list_json(*page, render::project_json)}, {"more", page->more}}, height);
  }
  if (root == "rules" || root == "cap" || root == "compliance") {
    if (n != 2) return usage("/" + root + "/{year}");
    auto year = parse_year(parts[1]);
    if (!year) return from_status(year.status());
    if (root == "rules") {
      auto in_force = q::rules(ledger, *year);
      if (!in_force) return from_status(in_force.status());
      auto history = q::rules_history(ledger, *year, *limit);
      if (!history) return from_status(history.status());
      json out = render::rules_record_json(*in_force);
      out["history"] = list_json(*history, render::rules_record_json);
      out["history_more"] = history->more;
      return ok(out, height);
    }
    if (root == "cap") {
      auto cap = q::cap(ledger, *year);
      if (!cap) return from_status(cap.status());
      if (!*cap) return error_answer(404, "not_found", "no cap is set for " + parts[1]);
      return ok(render::cap_json(**cap), height);
    }
    auto rows = q::compliance_rows(ledger, *year, *limit);
    if (!rows) return from_status(rows.status());
    auto closed = q::year_closed(ledger, *year);
    if (!closed) return from_status(closed.status());
    json out = {{"year", *year},
                {"closed", closed->has_value()},
                {"table", list_json(*rows, render::compliance_row_json)},
                {"more", rows->more}};
    if (*closed) out["summary"] = render::year_closed_json(**closed);
    return ok(out, height);
  }
  if (root == "allocation" || root == "mrv" || root == "position") {
    if (n != 3) return usage("/" + root + "/{year}/{address}");
    auto year = parse_year(parts[1]);
    if (!year) return from_status(year.status());
    auto enterprise = parse_address(parts[2]);
    if (!enterprise) return from_status(enterprise.status());
    if (root == "allocation") {
      auto record = q::allocation(ledger, *year, *enterprise);
      if (!record) return from_status(record.status());
      if (!*record) {
        return error_answer(404, "not_found", "no allocation for " + parts[2] + " in " + parts[1]);
      }
      return ok(render::allocation_json(**record), height);
    }
    if (root == "mrv") {
      auto view = q::emissions(ledger, *year, *enterprise, *limit);
      if (!view) return from_status(view.status());
      if (!view->record) {
        return error_answer(404, "not_found", "no MRV record for " + parts[2] + " in " + parts[1]);
      }
      json out = {{"record", render::emission_json(*view->record)},
                  {"history", list_json(view->history, render::mrv_event_json)},
                  {"history_more", view->history.more}};
      return ok(out, height);
    }
    auto position = contracts::compliance_position(ledger, *year, *enterprise);
    if (!position) return from_status(position.status());
    return ok(render::position_json(*position), height);
  }
  if (root == "issuances") {
    if (n != 2) return usage("/issuances/{product}");
    auto product = contracts::ProductId::from_code(parts[1]);
    if (!product) return from_status(product.status());
    auto page = q::issuances(ledger, *product, *limit);
    if (!page) return from_status(page.status());
    auto state_record = ledger.product(*product);
    if (!state_record) return from_status(state_record.status());
    json out = {{"product", product->code()},
                {"issuances", list_json(*page, render::issuance_json)},
                {"more", page->more}};
    if (*state_record) {
      out["issued_t"] = (*state_record)->issued_t;
      out["surrendered_t"] = (*state_record)->surrendered_t;
      out["cancelled_t"] = (*state_record)->cancelled_t;
    }
    return ok(out, height);
  }
  if (root == "holdings") {
    if (n != 2) return usage("/holdings/{address}");
    auto owner = parse_address(parts[1]);
    if (!owner) return from_status(owner.status());
    // As GET /account: an address nobody registered holds nothing and never can (units go only
    // to participants), so it is unknown rather than an empty holding.
    auto account = ledger.account(*owner);
    if (!account) return from_status(account.status());
    if (!*account) return rpcq::not_found("unknown account " + owner->to_hex() + ": not a registered participant");
    auto page = q::holdings(ledger, *owner, *limit);
    if (!page) return from_status(page.status());
    return ok({{"address", owner->to_hex()},
               {"holdings", list_json(*page, render::holding_json)},
               {"more", page->more}},
              height);
  }
  // trace
  if (n != 3) return usage("/trace/{product}/{serial}");
  auto product = contracts::ProductId::from_code(parts[1]);
  if (!product) return from_status(product.status());
  auto serial = parse_number<std::uint64_t>(parts[2]);
  if (!serial) return bad_request("a serial is a number, not '" + parts[2] + "'");
  auto trace = q::trace(ledger, *product, *serial);
  if (!trace) return from_status(trace.status());
  return ok(render::trace_json(*trace), height);
}

}  // namespace carbon::node
