// What every carbon-wallet command shares: global options, failing with an exit code (text or
// --json), the keystore (opening keys, resolving names to addresses), calls to the node, and
// building, signing (with optional co-signers), submitting and following transactions.
//
// Exit codes: 0 success; 1 the node refused or the transaction failed; 2 bad usage; 3 the node
// could not be reached; 4 keystore problems (missing key, wrong passphrase).
//
// Thread safety: none (a command-line program).
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "contracts/types.h"
#include "core/hash.h"
#include "core/keys.h"
#include "wallet/http_client.h"

namespace carbon::wallet::cli {

using json = nlohmann::json;

inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;
inline constexpr int kExitKeystore = 4;
inline constexpr std::uint64_t kExpiryBlocks = 1000;
inline constexpr auto kWaitLimit = std::chrono::seconds(60);

struct Options {
  std::string node = "http://127.0.0.1:8100";
  std::string keystore;
  bool json_output = false;
  bool wait = false;
};

// Prints the message (as {"ok": false, "error"} with --json) and exits with the code.
[[noreturn]] void fail(const Options& options, int exit_code, const std::string& message);

std::filesystem::path keystore_dir(const Options& options);
std::filesystem::path key_path(const Options& options, const std::string& name);
// Why `name` is not a key name (valid_key_name), for a usage error.
std::string bad_key_name_message(const std::string& name);
bool valid_key_name(const std::string& name);
std::string read_passphrase(const Options& options, const std::string& prompt);
core::SecretKey open_key(const Options& options, const std::string& name);
// An address is a 64-hex public key or the name of a key in the keystore (for a key that signs
// for a rotated account, that account's address).
core::PublicKey resolve_address(const Options& options, const std::string& text);
// Whether `text` names a key in the keystore.
bool is_key_name(const Options& options, const std::string& text);
// Every key name in the keystore, sorted.
std::vector<std::string> key_names(const Options& options);

wallet::NodeClient client(const Options& options);
// The node's JSON answer; fails (exit 1 with the node's message, 3 when unreachable) otherwise.
json call_node(const Options& options, const std::string& method, const std::string& target,
               const std::string& body = "");

contracts::Role parse_role(const Options& options, std::string text);
contracts::ProductId parse_product(const Options& options, const std::string& text);
void print_receipt(const Options& options, const json& record);

// After `rotate-key`, a keystore key signs for an account whose address is another key: the
// wallet remembers that in <keystore>/<name>.account (the address in hex).
std::filesystem::path account_link_path(const Options& options, const std::string& name);
std::optional<core::PublicKey> linked_account(const Options& options, const std::string& name);

// The committed record of transaction `id` (GET /tx), polled until committed (at most 60 s).
json wait_committed(const Options& options, const std::string& id);

// Builds, signs and submits one transaction from the account `signer_name` signs for; every
// key in `cosigner_names` adds its signature to the same transaction (a block trade's buyer,
// an auction's seller, officers co-signing a proposal). Returns the transaction id.
std::string send(const Options& options, const std::string& signer_name, contracts::Call call,
                 const std::vector<std::string>& cosigner_names = {});
// A direct call: submit (and with --wait, follow) it; the exit code.
int submit(const Options& options, const std::string& signer_name, contracts::Call call,
           const std::vector<std::string>& cosigner_names = {});
// "proposal 7 created: register_participant (1 of 2 approvals)".
std::string proposal_line(const json& proposal);
// An authority act proposed by `signer_name` (an officer); with --wait, prints the proposal.
int propose(const Options& options, const std::string& signer_name, contracts::AuthorityAct act);

// Deadlines: ISO-8601 UTC ("2026-02-28T15:59:59Z"), milliseconds since the epoch, or relative
// to the wallet's clock ("+90s", "+5m", "+2h", "+1d").
std::uint64_t parse_time_ms(const Options& options, const std::string& text);
std::string format_time_ms(std::uint64_t ms);
std::uint16_t check_year(const Options& options, std::uint32_t year,
                         const std::string& flag = "--year");
core::Hash256 parse_hash(const Options& options, const std::string& text, const std::string& flag);
// Prints a query's JSON (with --json) or nothing; returns whether the caller should print text.
bool print_json(const Options& options, const json& doc);
// 123456 fen -> "1234.56".
std::string cny(std::uint64_t fen);

}  // namespace carbon::wallet::cli
