// carbon-wallet: keys in an encrypted keystore, signed transactions, queries to a node.
//
// Global options: --node URL (default http://127.0.0.1:8100), --keystore DIR (default
// $CARBON_WALLET_DIR or ~/.carbon-wallet), --json, --wait (until committed; print the receipt).
// The passphrase comes from CARBON_WALLET_PASSPHRASE or a prompt on the terminal.
// Exit codes: 0 success; 1 the node refused or the transaction failed; 2 bad usage; 3 the node
// could not be reached; 4 keystore problems (missing key, wrong passphrase).
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <optional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <map>
#include <sstream>
#include <string_view>
#include <thread>

#include "contracts/allocation.h"
#include "contracts/rules.h"
#include "contracts/types.h"
#include "core/file.h"
#include "core/hash.h"
#include "core/keys.h"
#include "wallet/amounts.h"
#include "wallet/cli.h"
#include "wallet/cli_options.h"
#include "wallet/http_client.h"
#include "wallet/keystore.h"
#include "wallet/market_cli.h"

namespace {

using namespace carbon;  // NOLINT(google-build-using-namespace): a main file
using json = nlohmann::json;
using namespace carbon::wallet::cli;  // NOLINT(google-build-using-namespace): a main file

}  // namespace

int run(int argc, char** argv);

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const nlohmann::json::exception& error) {
    // The node answered JSON of an unexpected shape (another program on that port?).
    std::cerr << "carbon-wallet: unexpected answer from the node: " << error.what() << std::endl;
    return kExitFailed;
  } catch (const std::exception& error) {
    std::cerr << "carbon-wallet: " << error.what() << std::endl;
    return kExitFailed;
  }
}

int run(int argc, char** argv) {
  if (!core::init_crypto()) {
    std::fprintf(stderr, "carbon-wallet: libsodium failed to initialize\n");
    return 1;
  }
  Options options;
  CLI::App cli{"carbon-wallet: keys, signed transactions and queries for a carbonledger network"};
  cli.require_subcommand(1);
  cli.fallthrough();  // global options may also follow the subcommand
  cli.add_option("--node", options.node, "the node's RPC URL")->capture_default_str();
  cli.add_option("--keystore", options.keystore, "keystore directory (default $CARBON_WALLET_DIR or ~/.carbon-wallet)");
  cli.add_flag("--json", options.json_output, "machine-readable output");
  cli.add_flag("--wait", options.wait, "wait until the transaction is committed and print its receipt");

  std::string name, from, to, participant, display_name, role, product, address, id;
  std::uint64_t quantity = 0;
  std::uint32_t vintage = 0;
  bool strong_kdf = false;

  auto* keygen = cli.add_subcommand("keygen", "create a key in the keystore");
  keygen->add_option("--name", name, "the key's name")->required();
  keygen->add_flag("--strong-kdf", strong_kdf, "Argon2id with 256 MiB instead of 64 MiB (slower to open)");
  auto* address_cmd = cli.add_subcommand("address", "print a key's address (its public key)");
  address_cmd->add_option("name,--name", name, "the key's name")->required();
  auto* register_cmd = cli.add_subcommand("register", "register a participant (authority)");
  register_cmd->add_option("--from", from, "signing key (the authority)")->required();
  register_cmd->add_option("--participant", participant, "address or key name of the participant")->required();
  register_cmd->add_option("--name", display_name, "the participant's name")->required();
  register_cmd->add_option("--role", role, "covered_enterprise, verifier, exchange, ...")->required();
  auto* issue = cli.add_subcommand("issue", "issue allowances (authority)");
  issue->add_option("--from", from, "signing key (the authority)")->required();
  issue->add_option("--to", to, "recipient address or key name")->required();
  issue->add_option("--vintage", vintage, "vintage (compliance) year")->required();
  issue->add_option("--quantity", quantity, "tonnes")->required();
  auto* transfer = cli.add_subcommand("transfer", "transfer units to another participant");
  transfer->add_option("--from", from, "signing key (the holder)")->required();
  transfer->add_option("--to", to, "recipient address or key name")->required();
  transfer->add_option("--product", product, "e.g. HBEA-2025")->required();
  transfer->add_option("--quantity", quantity, "tonnes")->required();
  auto* balance = cli.add_subcommand("balance", "an account's role, nonce and holdings");
  balance->add_option("account", address, "address or key name")->required();
  auto* tx = cli.add_subcommand("tx", "a transaction's status and receipt");
  tx->add_option("id", id, "transaction id")->required();
  auto* status = cli.add_subcommand("status", "the node's chain, height and state root");

  // ---- authority acts (proposals) and governance ----
  std::uint32_t year = 0, threshold = 0;
  std::uint64_t proposal_id = 0, project_id = 0, cap_t = 0, reserve_t = 0, auction_t = 0, estimate_t = 0;
  std::string enterprise, verifier, hash_hex, document, method;
  std::vector<std::string> officer_list;
  std::uint64_t historical_t = 0, intensity_g = 0, benchmark_g = 0, production = 0, declared_t = 0, verified_t = 0;
  std::uint32_t factor_ppm = 1'000'000;
  std::uint32_t list_limit = 100;
  auto add_from = [&](CLI::App* cmd) { cmd->add_option("--from", from, "signing key (an authority officer)")->required(); };
  auto add_year = [&](CLI::App* cmd) { cmd->add_option("--year", year, "compliance year")->required(); };
  auto add_enterprise = [&](CLI::App* cmd) {
    cmd->add_option("--enterprise", enterprise, "address or key name of the enterprise")->required();
  };

  auto* participant_cmd = cli.add_subcommand("participant", "participant acts (authority)");
  auto* participant_update = participant_cmd->add_subcommand("update", "change a participant's name and role");
  add_from(participant_update);
  participant_update->add_option("--participant", participant, "address or key name")->required();
  participant_update->add_option("--name", display_name, "the participant's name")->required();
  participant_update->add_option("--role", role, "the participant's role")->required();
  participant_cmd->require_subcommand(1);
  auto* freeze = cli.add_subcommand("freeze", "freeze an account (authority)");
  auto* unfreeze = cli.add_subcommand("unfreeze", "unfreeze an account (authority)");
  for (auto* cmd : {freeze, unfreeze}) {
    add_from(cmd);
    cmd->add_option("--participant", participant, "address or key name")->required();
  }
  auto* officers_cmd = cli.add_subcommand("officers", "the authority's officers");
  auto* officers_set = officers_cmd->add_subcommand("set", "replace the officer set and M (authority)");
  add_from(officers_set);
  officers_set->add_option("--officer", officer_list, "an officer (address or key name); repeat")->required();
  officers_set->add_option("--threshold", threshold, "approvals an act needs (M)")->required();
  auto* officers_show = officers_cmd->add_subcommand("show", "the officer set and M");
  officers_cmd->require_subcommand(1);

  // rules set: starts from the rules in force and changes what is given.
  std::map<std::string, std::string> rule_text;
  auto* rules_cmd = cli.add_subcommand("rules", "rule data of a compliance year");
  auto* rules_set = rules_cmd->add_subcommand("set", "a new version of a year's rules (authority)");
  add_from(rules_set);
  add_year(rules_set);
  for (const char* field : {"report-deadline", "verification-deadline", "surrender-deadline"}) {
    rules_set->add_option(std::string("--") + field, rule_text[field], "ISO-8601 UTC, epoch ms, or +90s/+5m/+2h/+1d");
  }
  for (const char* field : {"offset-limit-bp", "pre-allocation-bp", "penalty-multiple-pct", "reference-price-fen",
                            "penalty-cap-fen", "deduction-multiple", "adjust-threshold-bp", "adjust-threshold-t",
                            "offset-min-vintage", "offset-max-vintage", "proposal-ttl-ms", "allow-estimate",
                            "cancel-untraded", "banking-allowed"}) {
    rules_set->add_option(std::string("--") + field, rule_text[field], "integer (flags: 0 or 1)");
  }
  rules_set->add_option("--offset-provinces", rule_text["offset-provinces"], "comma-separated, e.g. HB,HN; none for no province");
  auto* rules_show = rules_cmd->add_subcommand("show", "the rules in force and their history");
  add_year(rules_show);
  rules_cmd->require_subcommand(1);

  auto* cap_cmd = cli.add_subcommand("cap", "the cap of a compliance year");
  auto* cap_set = cap_cmd->add_subcommand("set", "set the cap and its split (authority)");
  add_from(cap_set);
  add_year(cap_set);
  cap_set->add_option("--cap", cap_t, "tonnes")->required();
  cap_set->add_option("--reserve", reserve_t, "government reserve, tonnes")->required();
  cap_set->add_option("--auction", auction_t, "auction share, tonnes")->required();
  auto* cap_show = cap_cmd->add_subcommand("show", "the cap and what was issued from it");
  add_year(cap_show);
  cap_cmd->require_subcommand(1);

  auto* allocation_cmd = cli.add_subcommand("allocation", "free allocation");
  auto* allocation_set = allocation_cmd->add_subcommand("set", "an enterprise's method and inputs (authority)");
  auto* allocation_compute =
      allocation_cmd->add_subcommand("compute", "re-compute an allocation offline (from the ledger's inputs or given ones)");
  for (auto* cmd : {allocation_set, allocation_compute}) {
    cmd->add_option("--method", method, "grandfathering, historical_intensity or benchmark");
    cmd->add_option("--historical-t", historical_t, "historical emissions, tonnes (grandfathering)");
    cmd->add_option("--factor-ppm", factor_ppm, "market-adjustment factor, ppm (1000000 = 1.0)");
    cmd->add_option("--intensity-g", intensity_g, "grams CO2e per unit of production (historical intensity)");
    cmd->add_option("--benchmark-g", benchmark_g, "grams CO2e per unit of production (benchmark)");
    cmd->add_option("--production", production, "base production, units");
  }
  add_from(allocation_set);
  add_year(allocation_set);
  add_enterprise(allocation_set);
  allocation_set->get_option("--method")->required();
  allocation_compute->add_option("--year", year, "compliance year (with --enterprise: read the ledger)");
  allocation_compute->add_option("--enterprise", enterprise, "address or key name");
  auto* allocation_pre = allocation_cmd->add_subcommand("issue-pre", "issue the pre-allocation (authority)");
  auto* allocation_true_up = allocation_cmd->add_subcommand("true-up", "true up after verified production (authority)");
  auto* allocation_adjust = allocation_cmd->add_subcommand("adjust", "ex-post adjustment (authority)");
  for (auto* cmd : {allocation_pre, allocation_true_up, allocation_adjust}) {
    add_from(cmd);
    add_year(cmd);
    add_enterprise(cmd);
  }
  auto* allocation_show = allocation_cmd->add_subcommand("show", "an enterprise's allocation record");
  add_year(allocation_show);
  add_enterprise(allocation_show);
  allocation_cmd->require_subcommand(1);

  auto* verifier_cmd = cli.add_subcommand("verifier", "verifiers");
  auto* verifier_assign = verifier_cmd->add_subcommand("assign", "assign a verifier to an enterprise's year (authority)");
  add_from(verifier_assign);
  add_year(verifier_assign);
  add_enterprise(verifier_assign);
  verifier_assign->add_option("--verifier", verifier, "address or key name of the verifier")->required();
  verifier_cmd->require_subcommand(1);
  auto* emissions_cmd = cli.add_subcommand("emissions", "verified emissions (authority)");
  auto* emissions_approve = emissions_cmd->add_subcommand("approve", "approve the verified figure (authority)");
  auto* emissions_estimate = emissions_cmd->add_subcommand("estimate", "set a missing report's obligation (authority)");
  for (auto* cmd : {emissions_approve, emissions_estimate}) {
    add_from(cmd);
    add_year(cmd);
    add_enterprise(cmd);
  }
  emissions_estimate->add_option("--estimate-t", estimate_t, "tonnes")->required();
  emissions_cmd->require_subcommand(1);
  auto* report_cmd = cli.add_subcommand("report", "emission reports");
  auto* report_submit = report_cmd->add_subcommand("submit", "submit the annual emission report (enterprise)");
  report_submit->add_option("--from", from, "signing key (the enterprise)")->required();
  add_year(report_submit);
  report_submit->add_option("--document", document, "the report file (its SHA3-256 is submitted)");
  report_submit->add_option("--document-hash", hash_hex, "or the report's hash, 64 hex");
  report_submit->add_option("--declared-t", declared_t, "declared emissions, tonnes")->required();
  report_cmd->require_subcommand(1);
  auto* verify_cmd = cli.add_subcommand("verify", "verifications");
  auto* verify_submit = verify_cmd->add_subcommand("submit", "submit verified emissions (assigned verifier)");
  verify_submit->add_option("--from", from, "signing key (the verifier)")->required();
  add_enterprise(verify_submit);
  add_year(verify_submit);
  verify_submit->add_option("--report-hash", hash_hex, "hash of the verification report, 64 hex")->required();
  verify_submit->add_option("--verified-t", verified_t, "verified emissions, tonnes")->required();
  verify_submit->add_option("--production", production, "verified production, units")->required();
  verify_cmd->require_subcommand(1);
  auto* mrv_cmd = cli.add_subcommand("mrv", "MRV records");
  auto* mrv_show = mrv_cmd->add_subcommand("show", "an enterprise's MRV record and its history");
  add_year(mrv_show);
  add_enterprise(mrv_show);
  mrv_cmd->require_subcommand(1);

  std::string project_type = "renewable_energy", province = "HB", methodology;
  std::uint32_t crediting_start = 0, crediting_end = 0;
  auto* project_cmd = cli.add_subcommand("project", "CCER projects");
  auto* project_register = project_cmd->add_subcommand("register", "register a project (project owner)");
  project_register->add_option("--from", from, "signing key (the project owner)")->required();
  project_register->add_option("--name", display_name, "project name")->required();
  project_register->add_option("--methodology", methodology, "methodology, e.g. CM-001-V02")->required();
  project_register->add_option("--type", project_type, "renewable_energy, forestry_carbon_sink, ...")->capture_default_str();
  project_register->add_option("--province", province, "location province code")->capture_default_str();
  project_register->add_option("--crediting-start", crediting_start, "first crediting year")->required();
  project_register->add_option("--crediting-end", crediting_end, "last crediting year")->required();
  auto* project_approve = project_cmd->add_subcommand("approve", "approve a registered project (authority)");
  add_from(project_approve);
  project_approve->add_option("--project", project_id, "project id")->required();
  auto* project_show = project_cmd->add_subcommand("show", "one project");
  project_show->add_option("id", project_id, "project id")->required();
  project_cmd->require_subcommand(1);
  auto* projects_cmd = cli.add_subcommand("projects", "registered CCER projects");
  auto* ccer_cmd = cli.add_subcommand("ccer", "CCER issuance");
  auto* ccer_issue = ccer_cmd->add_subcommand("issue", "issue a CCER batch to the project owner (authority)");
  add_from(ccer_issue);
  ccer_issue->add_option("--project", project_id, "project id")->required();
  ccer_issue->add_option("--vintage", vintage, "vintage year")->required();
  ccer_issue->add_option("--quantity", quantity, "tonnes")->required();
  ccer_issue->add_option("--verification-hash", hash_hex, "hash of the reductions' verification, 64 hex")->required();
  ccer_cmd->require_subcommand(1);

  auto* surrender_cmd = cli.add_subcommand("surrender", "surrender units against a year's obligation (enterprise)");
  surrender_cmd->add_option("--from", from, "signing key (the enterprise)")->required();
  add_year(surrender_cmd);
  surrender_cmd->add_option("--product", product, "HBEA-<vintage> or CCER-<project>-<vintage>")->required();
  surrender_cmd->add_option("--quantity", quantity, "tonnes")->required();
  auto* year_cmd = cli.add_subcommand("year", "compliance years");
  auto* year_close = year_cmd->add_subcommand("close", "close a year after the surrender deadline (authority)");
  add_from(year_close);
  add_year(year_close);
  year_cmd->require_subcommand(1);
  auto* position_cmd = cli.add_subcommand("position", "an enterprise's compliance position");
  add_year(position_cmd);
  add_enterprise(position_cmd);
  auto* compliance_cmd = cli.add_subcommand("compliance", "the compliance table of a year");
  add_year(compliance_cmd);

  auto* proposal_cmd = cli.add_subcommand("proposal", "authority proposals");
  auto* proposal_approve = proposal_cmd->add_subcommand("approve", "approve a proposal (officer)");
  add_from(proposal_approve);
  proposal_approve->add_option("id", proposal_id, "proposal id")->required();
  auto* proposal_list = proposal_cmd->add_subcommand("list", "proposals, newest first");
  proposal_list->add_option("--limit", list_limit, "at most this many (1..1000)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  auto* proposal_show = proposal_cmd->add_subcommand("show", "one proposal");
  proposal_show->add_option("id", proposal_id, "proposal id")->required();
  proposal_cmd->require_subcommand(1);

  std::string new_key_name;
  auto* rotate = cli.add_subcommand("rotate-key", "sign from now on with another key (same address)");
  rotate->add_option("--from", from, "the key that signs now")->required();
  rotate->add_option("--new-key", new_key_name,
                     "keystore name of the new key (create it with keygen); it co-signs the rotation")->required();
  auto* participants_cmd = cli.add_subcommand("participants", "registered participants");
  participants_cmd->add_option("--limit", list_limit, "at most this many (1..1000)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  auto* holdings_cmd = cli.add_subcommand("holdings", "an account's serial ranges per product");
  holdings_cmd->add_option("account", address, "address or key name")->required();
  std::uint64_t serial = 0;
  auto* trace_cmd = cli.add_subcommand("trace", "the life of one tonne: issuance, transfers, holder or retirement");
  trace_cmd->add_option("product", product, "e.g. HBEA-2025")->required();
  trace_cmd->add_option("serial", serial, "serial number")->required();
  auto* issuances_cmd = cli.add_subcommand("issuances", "issued batches of a product");
  issuances_cmd->add_option("product", product, "e.g. HBEA-2025")->required();

  // The exchange's commands (wallet/market_cli.h).
  MarketCommands market(cli, options);

  wallet::require_decimal_integers(cli);
  wallet::refuse_empty_values(cli);
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    // With --json anywhere on the line, a usage error is JSON too (the flag may not have been
    // reached when parsing stopped); --help and its output stay text.
    bool json_requested = false;
    for (int i = 1; i < argc; ++i) json_requested = json_requested || std::string_view(argv[i]) == "--json";
    options.json_output = json_requested;
    if (error.get_exit_code() != 0 && cli.get_subcommands().empty()) {
      // No command was recognised: name the word taken for one (CLI11 says only "A subcommand
      // is required"). The global options --node and --keystore take the word after them.
      for (int i = 1; i < argc; ++i) {
        const std::string_view arg(argv[i]);
        if (arg == "--node" || arg == "--keystore") {
          ++i;
          continue;
        }
        if (!arg.empty() && arg.front() != '-') {
          fail(options, kExitUsage,
               "unknown command '" + std::string(arg.substr(0, 80)) + "' (carbon-wallet --help lists the commands)");
        }
      }
    }
    if (json_requested && error.get_exit_code() != 0) fail(options, kExitUsage, error.what());
    return cli.exit(error) == 0 ? 0 : kExitUsage;
  }
  if (auto code = market.run()) return *code;

  if (*keygen) {
    if (!valid_key_name(name)) fail(options, kExitUsage, bad_key_name_message(name));
    std::error_code ec;
    std::filesystem::create_directories(keystore_dir(options), ec);
    std::filesystem::permissions(keystore_dir(options), std::filesystem::perms::owner_all,
                                 std::filesystem::perm_options::replace, ec);
    std::string passphrase = read_passphrase(options, "new passphrase for " + name + ": ");
    if (std::getenv("CARBON_WALLET_PASSPHRASE") == nullptr &&
        read_passphrase(options, "repeat the passphrase: ") != passphrase) {
      fail(options, kExitKeystore, "the passphrases differ");
    }
    const auto key = core::generate_secret_key();
    auto written = wallet::write_keystore(key_path(options, name), name, key, passphrase,
                                          strong_kdf ? wallet::KdfParams::moderate() : wallet::KdfParams::interactive());
    if (!written.is_ok()) fail(options, kExitKeystore, written.message());
    if (options.json_output) {
      std::cout << json{{"ok", true}, {"name", name}, {"address", key.public_key().to_hex()},
                        {"file", key_path(options, name).string()}}.dump() << std::endl;
    } else {
      std::cout << key.public_key().to_hex() << std::endl;
    }
    return 0;
  }
  if (*address_cmd) {
    if (!valid_key_name(name)) fail(options, kExitUsage, bad_key_name_message(name));
    auto info = wallet::read_keystore_info(key_path(options, name));
    if (!info) fail(options, kExitKeystore, info.status().message());
    // A key rotated into an account signs for that account's address, which is what receives
    // units; the key itself is no address of anyone's.
    const auto account = linked_account(options, name);
    const core::PublicKey account_address = account.value_or(info->public_key);
    if (options.json_output) {
      json out = {{"name", info->name}, {"address", account_address.to_hex()}};
      if (account) out["signing_key"] = info->public_key.to_hex();
      std::cout << out.dump() << std::endl;
    } else {
      std::cout << account_address.to_hex() << std::endl;
      if (account) std::cerr << "(the address of the account " << name << " signs for since rotate-key; its key is "
                             << info->public_key.to_hex() << ")" << std::endl;
    }
    return 0;
  }
  if (*register_cmd) {
    contracts::RegisterParticipant call;
    call.key = resolve_address(options, participant);
    call.name = display_name;
    call.role = parse_role(options, role);
    return propose(options, from, call);
  }
  if (*issue) {
    contracts::IssueAllowances call;
    call.to = resolve_address(options, to);
    if (vintage < contracts::kMinVintageYear || vintage > contracts::kMaxVintageYear) {
      fail(options, kExitUsage, "--vintage must be a year in " + std::to_string(contracts::kMinVintageYear) + ".." +
                                    std::to_string(contracts::kMaxVintageYear));
    }
    call.vintage_year = static_cast<std::uint16_t>(vintage);
    call.quantity_t = quantity;
    return propose(options, from, call);
  }
  const auto addr = [&](const std::string& text) { return resolve_address(options, text); };
  const auto get = [&](const std::string& target) { return call_node(options, "GET", target); };
  if (*participant_update) {
    return propose(options, from, contracts::UpdateParticipant{addr(participant), display_name, parse_role(options, role)});
  }
  if (*freeze || *unfreeze) {
    return propose(options, from, contracts::SetFrozen{addr(participant), static_cast<std::uint8_t>(*freeze ? 1 : 0)});
  }
  if (*officers_set) {
    contracts::SetOfficers act;
    for (const auto& officer : officer_list) act.officers.push_back(addr(officer));
    if (threshold < 1 || threshold > act.officers.size()) {
      fail(options, kExitUsage, "--threshold must be 1.." + std::to_string(act.officers.size()));
    }
    act.threshold = static_cast<std::uint8_t>(threshold);
    return propose(options, from, act);
  }
  if (*officers_show) {
    const json doc = get("/officers");
    if (print_json(options, doc)) return 0;
    std::cout << doc.value("threshold", 0) << " of " << doc["officers"].size() << " officers approve an act:" << std::endl;
    for (const auto& key : doc["officers"]) std::cout << "  " << key.get<std::string>() << std::endl;
    return 0;
  }
  if (*rules_set) {
    const std::uint16_t y = check_year(options, year);
    const json current = get("/rules/" + std::to_string(y))["rules"];
    contracts::RuleSet rules;
    // Start from the rules in force, field by field.
    rules.coverage_threshold_tce = current.value("coverage_threshold_tce", rules.coverage_threshold_tce);
    rules.reporting_threshold_tce = current.value("reporting_threshold_tce", rules.reporting_threshold_tce);
    rules.report_deadline_ms = current.value("report_deadline_ms", std::uint64_t{0});
    rules.verification_deadline_ms = current.value("verification_deadline_ms", std::uint64_t{0});
    rules.surrender_deadline_ms = current.value("surrender_deadline_ms", std::uint64_t{0});
    rules.allow_estimate = current.value("allow_estimate", true) ? 1 : 0;
    rules.offset_limit_bp = current.value("offset_limit_bp", rules.offset_limit_bp);
    rules.offset_provinces = current.value("offset_provinces", rules.offset_provinces);
    rules.offset_types_mask = 0;
    for (const auto& type : current.value("offset_types", json::array())) {
      auto parsed = contracts::project_type_from_name(type.get<std::string>());
      if (parsed) rules.offset_types_mask |= contracts::project_type_bit(*parsed);
    }
    rules.offset_min_vintage = current.value("offset_min_vintage", rules.offset_min_vintage);
    rules.offset_max_vintage = current.value("offset_max_vintage", rules.offset_max_vintage);
    rules.pre_allocation_bp = current.value("pre_allocation_bp", rules.pre_allocation_bp);
    rules.adjust_threshold_bp = current.value("adjust_threshold_bp", rules.adjust_threshold_bp);
    rules.adjust_threshold_t = current.value("adjust_threshold_t", rules.adjust_threshold_t);
    rules.reference_price_fen = current.value("reference_price_fen", rules.reference_price_fen);
    rules.penalty_multiple_pct = current.value("penalty_multiple_pct", rules.penalty_multiple_pct);
    rules.penalty_cap_fen = current.value("penalty_cap_fen", rules.penalty_cap_fen);
    rules.deduction_multiple = current.value("deduction_multiple", rules.deduction_multiple);
    rules.cancel_untraded = current.value("cancel_untraded", true) ? 1 : 0;
    rules.banking_allowed = current.value("banking_allowed", true) ? 1 : 0;
    rules.proposal_ttl_ms = current.value("proposal_ttl_ms", rules.proposal_ttl_ms);
    const auto number = [&](const std::string& field, std::uint64_t max) -> std::optional<std::uint64_t> {
      const std::string& text = rule_text[field];
      if (text.empty()) return std::nullopt;
      const std::optional<std::uint64_t> value = wallet::parse_whole(text);
      if (!value || *value > max) {
        fail(options, kExitUsage, "--" + field + " must be a whole number from 0 to " + std::to_string(max) + ", not '" + text + "'");
      }
      return value;
    };
    const auto time = [&](const std::string& field, std::uint64_t& into) {
      if (!rule_text[field].empty()) into = parse_time_ms(options, rule_text[field]);
    };
    time("report-deadline", rules.report_deadline_ms);
    time("verification-deadline", rules.verification_deadline_ms);
    time("surrender-deadline", rules.surrender_deadline_ms);
    const auto set32 = [&](const std::string& field, std::uint32_t& into) { if (auto v = number(field, UINT32_MAX)) into = static_cast<std::uint32_t>(*v); };
    const auto set64 = [&](const std::string& field, std::uint64_t& into) { if (auto v = number(field, UINT64_MAX)) into = *v; };
    const auto set16 = [&](const std::string& field, std::uint16_t& into) { if (auto v = number(field, UINT16_MAX)) into = static_cast<std::uint16_t>(*v); };
    const auto set8 = [&](const std::string& field, std::uint8_t& into) { if (auto v = number(field, 1)) into = static_cast<std::uint8_t>(*v); };
    set32("offset-limit-bp", rules.offset_limit_bp);
    set32("pre-allocation-bp", rules.pre_allocation_bp);
    set32("penalty-multiple-pct", rules.penalty_multiple_pct);
    set64("reference-price-fen", rules.reference_price_fen);
    set64("penalty-cap-fen", rules.penalty_cap_fen);
    set32("deduction-multiple", rules.deduction_multiple);
    set32("adjust-threshold-bp", rules.adjust_threshold_bp);
    set64("adjust-threshold-t", rules.adjust_threshold_t);
    set16("offset-min-vintage", rules.offset_min_vintage);
    set16("offset-max-vintage", rules.offset_max_vintage);
    set64("proposal-ttl-ms", rules.proposal_ttl_ms);
    set8("allow-estimate", rules.allow_estimate);
    set8("cancel-untraded", rules.cancel_untraded);
    set8("banking-allowed", rules.banking_allowed);
    if (!rule_text["offset-provinces"].empty()) {
      rules.offset_provinces.clear();
      // "none": no province's CCERs count as offsets (an empty value is refused, as for every
      // option, so that an unset shell variable cannot clear the list by accident).
      if (rule_text["offset-provinces"] != "none") {
        std::stringstream list(rule_text["offset-provinces"]);
        for (std::string code; std::getline(list, code, ',');) {
          if (code.empty()) fail(options, kExitUsage, "--offset-provinces: an empty province code in '" +
                                                          rule_text["offset-provinces"] + "'");
          rules.offset_provinces.push_back(code);
        }
      }
    }
    if (auto valid = contracts::validate_rules(rules); !valid.is_ok()) fail(options, kExitUsage, valid.message());
    return propose(options, from, contracts::SetRules{y, rules});
  }
  if (*rules_show) {
    const json doc = get("/rules/" + std::to_string(check_year(options, year)));
    if (print_json(options, doc)) return 0;
    const json& r = doc["rules"];
    std::cout << "rules for " << doc.value("year", 0) << ", version " << doc.value("version", 0);
    if (doc.value("version", 0) == 0) {
      std::cout << " (the defaults, in force since genesis)" << std::endl;
    } else {
      std::cout << ", in force since height " << doc.value("effective_height", std::uint64_t{0}) << " ("
                << format_time_ms(doc.value("effective_ms", std::uint64_t{0})) << ")" << std::endl;
    }
    std::cout << "  report deadline        " << format_time_ms(r.value("report_deadline_ms", std::uint64_t{0})) << std::endl;
    std::cout << "  verification deadline  " << format_time_ms(r.value("verification_deadline_ms", std::uint64_t{0})) << std::endl;
    std::cout << "  surrender deadline     " << format_time_ms(r.value("surrender_deadline_ms", std::uint64_t{0})) << std::endl;
    for (const char* field : {"offset_limit_bp", "pre_allocation_bp", "reference_price_fen", "penalty_multiple_pct",
                              "penalty_cap_fen", "deduction_multiple", "adjust_threshold_bp", "adjust_threshold_t"}) {
      std::cout << "  " << field << " " << r.value(field, 0) << std::endl;
    }
    std::cout << "  offset_provinces " << r["offset_provinces"].dump() << ", types " << r["offset_types"].dump() << std::endl;
    std::cout << "  versions on the ledger: " << doc["history"].size() << std::endl;
    return 0;
  }
  if (*cap_set) return propose(options, from, contracts::SetCap{check_year(options, year), cap_t, reserve_t, auction_t});
  if (*cap_show) {
    const json doc = get("/cap/" + std::to_string(check_year(options, year)));
    if (print_json(options, doc)) return 0;
    std::cout << "cap " << doc.value("year", 0) << ": " << doc.value("cap_t", 0) << " t (free " << doc.value("free_t", 0)
              << ", reserve " << doc.value("reserve_t", 0) << ", auction " << doc.value("auction_t", 0) << "); issued free "
              << doc.value("free_issued_t", 0) << ", from reserve " << doc.value("reserve_issued_t", 0) << ", withdrawn "
              << doc.value("withdrawn_t", 0) << std::endl;
    return 0;
  }
  const auto allocation_inputs = [&]() {
    contracts::AllocationInputs inputs;
    auto parsed = contracts::allocation_method_from_name(method);
    if (!parsed) fail(options, kExitUsage, parsed.status().message());
    inputs.method = *parsed;
    inputs.historical_emissions_t = historical_t;
    inputs.factor_ppm = factor_ppm;
    inputs.intensity_g_per_unit = intensity_g;
    inputs.benchmark_g_per_unit = benchmark_g;
    inputs.base_production_units = production;
    return inputs;
  };
  if (*allocation_set) {
    return propose(options, from, contracts::SetAllocation{addr(enterprise), check_year(options, year), allocation_inputs()});
  }
  if (*allocation_pre) return propose(options, from, contracts::IssuePreAllocation{addr(enterprise), check_year(options, year)});
  if (*allocation_true_up) return propose(options, from, contracts::TrueUpAllocation{addr(enterprise), check_year(options, year)});
  if (*allocation_adjust) return propose(options, from, contracts::AdjustAllocation{addr(enterprise), check_year(options, year)});
  if (*allocation_show) {
    const json doc = get("/allocation/" + std::to_string(check_year(options, year)) + "/" + addr(enterprise).to_hex());
    if (print_json(options, doc)) return 0;
    std::cout << "allocation " << doc.value("year", 0) << " by " << doc["inputs"].value("method", "") << ": initial "
              << doc.value("initial_t", 0) << " t, pre-issued " << doc.value("pre_issued_t", 0) << " t, final "
              << doc.value("final_t", 0) << " t" << (doc.value("trued_up", false) ? " (trued up)" : "") << ", issued "
              << doc.value("issued_t", 0) << " t, withdrawn " << doc.value("withdrawn_t", 0) << " t, deduction "
              << doc.value("deduction_t", 0) << " t" << std::endl;
    return 0;
  }
  if (*allocation_compute) {
    const auto compute = [&](const contracts::AllocationInputs& inputs, std::uint64_t units) {
      auto result = contracts::compute_allocation(inputs, units);
      if (!result) fail(options, kExitFailed, "cannot compute: " + result.status().message());
      return *result;
    };
    if (enterprise.empty()) {  // offline, from the inputs given
      const std::uint64_t amount = compute(allocation_inputs(), production);
      if (!print_json(options, json{{"allocation_t", amount}})) std::cout << amount << " t" << std::endl;
      return 0;
    }
    const std::uint16_t y = check_year(options, year);
    const std::string who = addr(enterprise).to_hex();
    const json record = get("/allocation/" + std::to_string(y) + "/" + who);
    const json& in = record["inputs"];
    contracts::AllocationInputs inputs;
    auto parsed = contracts::allocation_method_from_name(in.value("method", ""));
    if (!parsed) fail(options, kExitFailed, parsed.status().message());
    inputs.method = *parsed;
    inputs.historical_emissions_t = in.value("historical_emissions_t", std::uint64_t{0});
    inputs.factor_ppm = in.value("factor_ppm", 1'000'000u);
    inputs.intensity_g_per_unit = in.value("intensity_g_per_unit", std::uint64_t{0});
    inputs.benchmark_g_per_unit = in.value("benchmark_g_per_unit", std::uint64_t{0});
    inputs.base_production_units = in.value("base_production_units", std::uint64_t{0});
    const std::uint64_t initial = compute(inputs, inputs.base_production_units);
    json out = {{"initial_t", initial}, {"ledger_initial_t", record.value("initial_t", 0)},
                {"initial_matches", initial == record.value("initial_t", std::uint64_t{0})}};
    if (record.value("trued_up", false)) {
      const json mrv = get("/mrv/" + std::to_string(y) + "/" + who);
      const std::uint64_t units = mrv["record"].value("verified_production_units", std::uint64_t{0});
      const std::uint64_t final_t = compute(inputs, units);
      out["final_t"] = final_t;
      out["ledger_final_t"] = record.value("final_t", 0);
      out["final_matches"] = final_t == record.value("final_t", std::uint64_t{0});
    }
    if (print_json(options, out)) return 0;
    std::cout << "initial: computed " << initial << " t, ledger " << record.value("initial_t", 0) << " t: "
              << (out["initial_matches"].get<bool>() ? "EQUAL" : "DIFFERENT") << std::endl;
    if (out.contains("final_t")) {
      std::cout << "final:   computed " << out["final_t"] << " t, ledger " << out["ledger_final_t"] << " t: "
                << (out["final_matches"].get<bool>() ? "EQUAL" : "DIFFERENT") << std::endl;
    } else {
      std::cout << "final:   not trued up yet" << std::endl;
    }
    return out["initial_matches"].get<bool>() && out.value("final_matches", true) ? 0 : kExitFailed;
  }
  if (*verifier_assign) {
    return propose(options, from, contracts::AssignVerifier{addr(enterprise), check_year(options, year), addr(verifier)});
  }
  if (*emissions_approve) return propose(options, from, contracts::ApproveEmissions{addr(enterprise), check_year(options, year)});
  if (*emissions_estimate) {
    return propose(options, from, contracts::EstimateEmissions{addr(enterprise), check_year(options, year), estimate_t});
  }
  if (*report_submit) {
    core::Hash256 hash;
    if (!document.empty() == !hash_hex.empty()) fail(options, kExitUsage, "give exactly one of --document and --document-hash");
    if (!document.empty()) {
      auto text = core::read_small_file(document, 64 * 1024 * 1024);
      if (!text) fail(options, kExitUsage, text.status().message());
      hash = core::sha3_256(core::ByteView(reinterpret_cast<const std::uint8_t*>(text->data()), text->size()));
    } else {
      hash = parse_hash(options, hash_hex, "--document-hash");
    }
    return submit(options, from, contracts::SubmitReport{check_year(options, year), hash, declared_t});
  }
  if (*verify_submit) {
    return submit(options, from, contracts::SubmitVerification{addr(enterprise), check_year(options, year),
                                                                parse_hash(options, hash_hex, "--report-hash"), verified_t,
                                                                production});
  }
  if (*mrv_show) {
    const json doc = get("/mrv/" + std::to_string(check_year(options, year)) + "/" + addr(enterprise).to_hex());
    if (print_json(options, doc)) return 0;
    const json& r = doc["record"];
    std::cout << "MRV " << r.value("year", 0) << ": " << r.value("status", "") << "; declared " << r.value("declared_t", 0)
              << " t (v" << r.value("report_version", 0) << "), verified " << r.value("verified_t", 0) << " t (v"
              << r.value("verification_version", 0) << ", production " << r.value("verified_production_units", 0)
              << "), obligation " << r.value("obligation_t", 0) << " t" << std::endl;
    for (const auto& e : doc["history"]) {
      std::cout << "  #" << e.value("seq", 0) << " " << e.value("kind", "") << " at height " << e.value("height", 0)
                << ": " << e.value("figure_t", 0) << " t by " << e.value("actor", "").substr(0, 16) << std::endl;
    }
    return 0;
  }
  if (*project_register) {
    contracts::RegisterProject call;
    call.name = display_name;
    call.methodology = methodology;
    auto type = contracts::project_type_from_name(project_type);
    if (!type) fail(options, kExitUsage, type.status().message());
    call.type = *type;
    call.province = province;
    call.crediting_start_year = check_year(options, crediting_start, "--crediting-start");
    call.crediting_end_year = check_year(options, crediting_end, "--crediting-end");
    return submit(options, from, call);
  }
  if (*project_approve) return propose(options, from, contracts::ApproveProject{project_id});
  if (*project_show || *projects_cmd) {
    const json doc = get(*project_show ? "/project/" + std::to_string(project_id) : "/projects");
    if (print_json(options, doc)) return 0;
    const json list = *project_show ? json::array({doc}) : doc["projects"];
    if (list.empty()) std::cout << "no projects" << std::endl;
    for (const auto& p : list) {
      const json& d = p["details"];
      std::cout << "project " << p.value("id", 0) << " " << d.value("name", "") << " (" << d.value("type", "") << ", "
                << d.value("province", "") << ", " << d.value("crediting_start_year", 0) << "-"
                << d.value("crediting_end_year", 0) << "): " << p.value("status", "") << ", issued "
                << p.value("issued_t", 0) << " t" << std::endl;
    }
    return 0;
  }
  if (*ccer_issue) {
    return propose(options, from, contracts::IssueCcer{project_id, check_year(options, vintage, "--vintage"), quantity,
                                                       parse_hash(options, hash_hex, "--verification-hash")});
  }
  if (*surrender_cmd) {
    return submit(options, from, contracts::Surrender{check_year(options, year), parse_product(options, product), quantity});
  }
  if (*year_close) return propose(options, from, contracts::CloseYear{check_year(options, year)});
  if (*position_cmd) {
    const json doc = get("/position/" + std::to_string(check_year(options, year)) + "/" + addr(enterprise).to_hex());
    if (print_json(options, doc)) return 0;
    const auto t = [&](const char* field) { return doc.value(field, std::uint64_t{0}); };
    std::cout << "compliance position for " << doc.value("year", 0) << " (rules version " << t("rules_version")
              << (doc.value("closed", false) ? ", year closed" : "") << ")\n";
    if (!doc.value("has_obligation", false)) {
      std::cout << "  obligation: none yet (no approved or estimated emissions)\n";
    } else {
      std::cout << "  obligation:        " << t("obligation_t") << " t\n";
    }
    std::cout << "  surrendered:       " << t("surrendered_t") << " t (allowances " << t("surrendered_allowances_t")
              << " t, CCERs " << t("surrendered_ccers_t") << " t)\n"
              << "  shortfall:         " << t("shortfall_t") << " t\n"
              << "  eligible holdings: " << t("eligible_allowances_t") << " t allowances, " << t("eligible_ccers_t")
              << " t CCERs\n"
              << "  offset headroom:   " << t("offset_headroom_t") << " t of a " << t("offset_limit_t")
              << " t limit" << std::endl;
    return 0;
  }
  if (*compliance_cmd) {
    const json doc = get("/compliance/" + std::to_string(check_year(options, year)));
    if (print_json(options, doc)) return 0;
    if (!doc.value("closed", false)) {
      std::cout << "year " << year << " is not closed yet" << std::endl;
      return 0;
    }
    std::printf("%-28s %14s %14s %10s %12s %16s\n", "enterprise", "obligation t", "surrendered t", "status", "shortfall t",
                "penalty CNY");
    for (const auto& row : doc["table"]) {
      std::printf("%-28s %14llu %14llu %10s %12llu %16s\n", row.value("name", "").substr(0, 28).c_str(),
                  static_cast<unsigned long long>(row.value("obligation_t", std::uint64_t{0})),
                  static_cast<unsigned long long>(row.value("surrendered_t", std::uint64_t{0})),
                  row.value("status", "").c_str(),
                  static_cast<unsigned long long>(row.value("shortfall_t", std::uint64_t{0})),
                  cny(row.value("penalty_fen", std::uint64_t{0})).c_str());
    }
    const json& summary = doc["summary"];
    std::cout << summary.value("enterprises", 0) << " enterprises, " << summary.value("short_enterprises", 0)
              << " short, penalties " << cny(summary.value("penalties_fen", std::uint64_t{0})) << " CNY" << std::endl;
    return 0;
  }
  if (*proposal_approve) {
    const std::string approval_tx = send(options, from, contracts::Approve{proposal_id});
    if (!options.wait) {
      if (!print_json(options, json{{"tx_id", approval_tx}, {"status", "pending"}})) std::cout << "submitted approval " << approval_tx << std::endl;
      return 0;
    }
    const json record = wait_committed(options, approval_tx);
    if (!record.value("receipt", json::object()).value("ok", false)) {
      print_receipt(options, record);
      return kExitFailed;
    }
    const json p = get("/proposal/" + std::to_string(proposal_id));
    if (!print_json(options, json{{"tx_id", approval_tx}, {"height", record.value("height", 0)}, {"proposal", p}})) {
      std::cout << proposal_line(p) << "; committed at height " << record.value("height", 0) << std::endl;
    }
    return 0;
  }
  if (*proposal_list || *proposal_show) {
    const json doc = *proposal_show ? get("/proposal/" + std::to_string(proposal_id))
                                    : get("/proposals?limit=" + std::to_string(list_limit));
    if (print_json(options, doc)) return 0;
    const json list = *proposal_show ? json::array({doc}) : doc["proposals"];
    if (list.empty()) std::cout << "no proposals" << std::endl;
    for (const auto& p : list) {
      std::cout << proposal_line(p) << std::endl;
      if (*proposal_show) std::cout << "  " << p["act"].dump() << std::endl;
    }
    return 0;
  }
  if (*rotate) {
    auto info = wallet::read_keystore_info(key_path(options, new_key_name));
    if (!info) fail(options, kExitKeystore, info.status().message());
    const core::PublicKey account = linked_account(options, from).value_or(open_key(options, from).public_key());
    const bool saved_wait = options.wait;
    options.wait = true;  // the link is written only once the rotation is committed
    // The new key co-signs: the chain takes a key only from an account that holds it.
    const std::string rotation_tx = send(options, from, contracts::RotateKey{info->public_key}, {new_key_name});
    const json record = wait_committed(options, rotation_tx);
    options.wait = saved_wait;
    print_receipt(options, record);
    if (!record.value("receipt", json::object()).value("ok", false)) return kExitFailed;
    std::error_code ec;
    std::filesystem::remove(account_link_path(options, new_key_name), ec);
    const std::string link = account_link_path(options, new_key_name).string();
    if (std::FILE* out = std::fopen(link.c_str(), "w")) {
      std::fputs((account.to_hex() + "\n").c_str(), out);
      std::fclose(out);
    } else {
      fail(options, kExitKeystore, "rotated, but cannot write " + link + ": sign with --from " + new_key_name +
                                       " after writing the address " + account.to_hex() + " there");
    }
    if (!options.json_output) {
      std::cout << "key '" << new_key_name << "' now signs for " << account.to_hex() << std::endl;
    }
    return 0;
  }
  if (*participants_cmd) {
    const json doc = get("/participants?limit=" + std::to_string(list_limit));
    if (print_json(options, doc)) return 0;
    for (const auto& p : doc["participants"]) {
      std::printf("%s  %-20s %s%s\n", p.value("address", "").c_str(), p.value("role", "").c_str(),
                  p.value("name", "").c_str(), p.value("frozen", false) ? " FROZEN" : "");
    }
    if (doc.value("more", false)) std::cout << "(more: raise --limit)" << std::endl;
    return 0;
  }
  if (*holdings_cmd) {
    const json doc = get("/holdings/" + addr(address).to_hex());
    if (print_json(options, doc)) return 0;
    if (doc["holdings"].empty()) std::cout << "no units" << std::endl;
    for (const auto& h : doc["holdings"]) {
      std::cout << h.value("product", "") << ": " << h.value("quantity_t", 0) << " t in serials";
      for (const auto& r : h["ranges"]) std::cout << " [" << r.value("start", 0) << ", " << r.value("end", 0) << ")";
      std::cout << std::endl;
    }
    return 0;
  }
  if (*trace_cmd) {
    const json doc = get("/trace/" + parse_product(options, product).code() + "/" + std::to_string(serial));
    if (print_json(options, doc)) return 0;
    const json& is = doc["issuance"];
    std::cout << doc.value("product", "") << " serial " << serial << ": issued (" << is.value("kind", "") << ") at height "
              << is.value("height", 0) << " to " << is.value("to", "") << " in [" << is["range"].value("start", 0) << ", "
              << is["range"].value("end", 0) << ")" << std::endl;
    for (const auto& m : doc["moves"]) {
      std::cout << "  height " << m.value("height", 0) << ": " << m.value("from", "").substr(0, 16) << " -> "
                << m.value("to", "").substr(0, 16) << " in [" << m["range"].value("start", 0) << ", "
                << m["range"].value("end", 0) << ")" << std::endl;
    }
    if (doc.value("moves_truncated", false)) std::cout << "  (transfer records beyond the scan bound not shown)" << std::endl;
    if (doc.contains("holder")) std::cout << "  now held by " << doc.value("holder", "") << std::endl;
    if (doc.contains("retirement")) {
      const json& r = doc["retirement"];
      std::cout << "  retired (" << r.value("kind", "") << ") for " << r.value("year", 0) << " by " << r.value("owner", "")
                << " at height " << r.value("height", 0) << std::endl;
    }
    return 0;
  }
  if (*issuances_cmd) {
    const json doc = get("/issuances/" + parse_product(options, product).code());
    if (print_json(options, doc)) return 0;
    for (const auto& is : doc["issuances"]) {
      std::cout << "[" << is["range"].value("start", 0) << ", " << is["range"].value("end", 0) << ") "
                << is["range"].value("quantity_t", 0) << " t " << is.value("kind", "") << " to " << is.value("to", "")
                << " at height " << is.value("height", 0) << std::endl;
    }
    std::cout << "issued " << doc.value("issued_t", 0) << " t, surrendered " << doc.value("surrendered_t", 0)
              << " t, cancelled " << doc.value("cancelled_t", 0) << " t" << std::endl;
    return 0;
  }
  if (*transfer) {
    contracts::TransferUnits call;
    call.to = resolve_address(options, to);
    // The account --from signs for (its own address, or the one it was rotated into), read
    // without the passphrase: a transfer to it would only spend a nonce on a failed transaction.
    if (auto info = wallet::read_keystore_info(key_path(options, from))) {
      if (linked_account(options, from).value_or(info->public_key) == call.to) {
        fail(options, kExitUsage, "cannot transfer units to yourself: --to is the account --from signs for");
      }
    }
    call.product = parse_product(options, product);
    call.quantity_t = quantity;
    return submit(options, from, call);
  }
  if (*balance) {
    const core::PublicKey key = resolve_address(options, address);
    const json account = call_node(options, "GET", "/account/" + key.to_hex());
    if (options.json_output) {
      std::cout << account.dump() << std::endl;
      return 0;
    }
    std::cout << account.value("name", "") << " (" << account.value("role", "") << ")"
              << (account.value("frozen", false) ? " FROZEN" : "") << "  nonce " << account.value("nonce", 0)
              << "  at height " << account.value("height", 0) << std::endl;
    const json balances = account.value("balances", json::array());
    if (balances.empty()) std::cout << "  no units" << std::endl;
    for (const auto& entry : balances) {
      std::cout << "  " << entry.value("product", "") << ": " << entry.value("quantity_t", 0) << " t" << std::endl;
    }
    return 0;
  }
  if (*tx) {
    if (!core::Hash256::from_hex(id)) fail(options, kExitUsage, "a transaction id is 64 hex characters, not '" + id.substr(0, 80) + "'");
    const json record = call_node(options, "GET", "/tx/" + id);
    if (record.value("status", "") == "committed") {
      print_receipt(options, record);
      return record.value("receipt", json::object()).value("ok", false) ? 0 : kExitFailed;
    }
    if (options.json_output) {
      std::cout << record.dump() << std::endl;
    } else {
      std::cout << record.value("status", "") << (record.contains("reason") ? ": " + record.value("reason", "") : "")
                << std::endl;
    }
    return record.value("status", "") == "rejected" ? kExitFailed : 0;
  }
  if (*status) {
    const json doc = call_node(options, "GET", "/status");
    if (options.json_output) {
      std::cout << doc.dump() << std::endl;
    } else {
      std::cout << doc.value("node", "") << " chain " << doc.value("chain_id", "") << " height " << doc.value("height", 0)
                << " state_root " << doc.value("state_root", "") << " round " << doc.value("round", 0) << " peers "
                << doc.value("connected_peers", 0) << "/" << (doc.value("validators", 1) - 1)
                << (doc.value("halted", false) ? " HALTED" : "") << std::endl;
    }
    return 0;
  }
  return kExitUsage;
}
