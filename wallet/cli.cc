#include "wallet/cli.h"

#include <termios.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iostream>
#include <thread>

#include "contracts/rules.h"
#include "core/file.h"
#include "wallet/amounts.h"
#include "wallet/keystore.h"

namespace carbon::wallet::cli {

void fail(const Options& options, int exit_code, const std::string& message) {
  if (options.json_output) {
    // The message may quote what was typed, which need not be UTF-8: replaced, never thrown on.
    std::cout << json{{"ok", false}, {"error", message}}.dump(-1, ' ', false, json::error_handler_t::replace) << std::endl;
  } else {
    std::cerr << "carbon-wallet: " << message << std::endl;
  }
  std::exit(exit_code);
}

std::filesystem::path keystore_dir(const Options& options) {
  if (!options.keystore.empty()) return options.keystore;
  if (const char* dir = std::getenv("CARBON_WALLET_DIR"); dir != nullptr && *dir != '\0')
    return dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".carbon-wallet";
}

std::filesystem::path key_path(const Options& options, const std::string& name) {
  return keystore_dir(options) / (name + ".json");
}

bool valid_key_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.')
      return false;
  }
  return name.front() != '.';
}

std::string bad_key_name_message(const std::string& name) {
  return "bad key name '" + name.substr(0, 80) +
         "': a key name is 1-64 letters, digits, '-', '_' or '.', and does not start with '.'";
}

std::string read_passphrase(const Options& options, const std::string& prompt) {
  if (const char* env = std::getenv("CARBON_WALLET_PASSPHRASE"); env != nullptr) return env;
  if (!isatty(STDIN_FILENO))
    fail(options, kExitKeystore,
         "no passphrase: set CARBON_WALLET_PASSPHRASE or run in a terminal");
  std::cerr << prompt << std::flush;
  termios old_mode{};
  tcgetattr(STDIN_FILENO, &old_mode);
  termios quiet = old_mode;
  quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
  tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  std::string passphrase;
  std::getline(std::cin, passphrase);
  tcsetattr(STDIN_FILENO, TCSANOW, &old_mode);
  std::cerr << std::endl;
  return passphrase;
}

core::SecretKey open_key(const Options& options, const std::string& name) {
  if (!valid_key_name(name)) fail(options, kExitUsage, bad_key_name_message(name));
  const auto path = key_path(options, name);
  if (!std::filesystem::exists(path)) {
    fail(options, kExitKeystore,
         "no key named '" + name + "' in " + keystore_dir(options).string() +
             " (create it with: carbon-wallet keygen --name " + name + ")");
  }
  auto key = wallet::open_keystore(path, read_passphrase(options, "passphrase for " + name + ": "));
  if (!key) fail(options, kExitKeystore, key.status().message());
  return std::move(key).value();
}

// An address is a 64-hex public key or the name of a key in the keystore.
core::PublicKey resolve_address(const Options& options, const std::string& text) {
  if (auto key = core::PublicKey::from_hex(text)) return *key;
  if (valid_key_name(text) && std::filesystem::exists(key_path(options, text))) {
    if (auto account = linked_account(options, text)) return *account;
    auto info = wallet::read_keystore_info(key_path(options, text));
    if (!info) fail(options, kExitKeystore, info.status().message());
    return info->public_key;
  }
  fail(options, kExitUsage,
       "'" + text + "' is neither a 64-hex-character address nor a key in the keystore");
}

bool is_key_name(const Options& options, const std::string& text) {
  return valid_key_name(text) && std::filesystem::exists(key_path(options, text));
}

std::vector<std::string> key_names(const Options& options) {
  std::vector<std::string> names;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(keystore_dir(options), ec)) {
    if (entry.path().extension() != ".json") continue;
    const std::string name = entry.path().stem().string();
    if (valid_key_name(name)) names.push_back(name);
  }
  std::sort(names.begin(), names.end());
  return names;
}

wallet::NodeClient client(const Options& options) {
  auto parsed = wallet::NodeClient::parse(options.node);
  if (!parsed) fail(options, kExitUsage, parsed.status().message());
  return *parsed;
}

json call_node(const Options& options, const std::string& method, const std::string& target,
               const std::string& body) {
  auto node = client(options);
  auto reply = method == "POST" ? node.post(target, body) : node.get(target);
  if (!reply) fail(options, kExitUnreachable, reply.status().message());
  json doc = json::parse(reply->body, nullptr, false);
  if (doc.is_discarded())
    fail(options, kExitFailed, "the node answered something that is not JSON");
  if (reply->status >= 400) {
    std::string message =
        doc.contains("error") ? doc["error"].value("message", reply->body) : reply->body;
    fail(options, kExitFailed, message);
  }
  return doc;
}

contracts::Role parse_role(const Options& options, std::string text) {
  for (auto& c : text) c = c == '-' ? '_' : c;
  for (std::uint8_t i = 0; i <= static_cast<std::uint8_t>(contracts::kMaxRole); ++i) {
    const auto role = static_cast<contracts::Role>(i);
    if (contracts::role_name(role) == text) return role;
  }
  std::string known;
  for (std::uint8_t i = 0; i <= static_cast<std::uint8_t>(contracts::kMaxRole); ++i) {
    known += (known.empty() ? "" : ", ") +
             std::string(contracts::role_name(static_cast<contracts::Role>(i)));
  }
  fail(options, kExitUsage, "unknown role '" + text + "'; roles: " + known);
}

contracts::ProductId parse_product(const Options& options, const std::string& text) {
  auto product = contracts::ProductId::from_code(text);
  if (!product) {
    fail(options, kExitUsage,
         "unknown product '" + text +
             "' (allowances are HBEA-<vintage>, e.g. HBEA-2025; CCERs are CCER-<project "
             "id>-<vintage>)");
  }
  return *product;
}

void print_receipt(const Options& options, const json& record) {
  if (options.json_output) {
    std::cout << record.dump() << std::endl;
    return;
  }
  const json receipt = record.value("receipt", json::object());
  if (receipt.value("ok", false)) {
    std::cout << "committed at height " << record.value("height", 0) << ": ok" << std::endl;
  } else {
    std::cout << "committed at height " << record.value("height", 0) << ": FAILED ("
              << receipt.value("code", "") << "): " << receipt.value("message", "") << std::endl;
  }
}

// After `rotate-key`, a keystore key signs for an account whose address is another key: the
// wallet remembers that in <keystore>/<name>.account (the address in hex).
std::filesystem::path account_link_path(const Options& options, const std::string& name) {
  return keystore_dir(options) / (name + ".account");
}
std::optional<core::PublicKey> linked_account(const Options& options, const std::string& name) {
  auto text = core::read_small_file(account_link_path(options, name), 256);
  if (!text) return std::nullopt;
  std::string hex = *text;
  while (!hex.empty() && (hex.back() == '\n' || hex.back() == ' ')) hex.pop_back();
  auto key = core::PublicKey::from_hex(hex);
  if (!key)
    fail(options, kExitKeystore,
         account_link_path(options, name).string() + " does not hold an address");
  return *key;
}

// The committed record of transaction `id` (GET /tx), polled until committed (at most 60 s).
json wait_committed(const Options& options, const std::string& id) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    const json record = call_node(options, "GET", "/tx/" + id);
    const std::string state = record.value("status", "");
    if (state == "committed") return record;
    if (state == "rejected") fail(options, kExitFailed, "rejected: " + record.value("reason", ""));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fail(options, kExitFailed, "transaction " + id + " not committed within 60 s (it may still be)");
}

// Builds, signs and submits one transaction; returns its id.
std::string send(const Options& options, const std::string& signer_name, contracts::Call call,
                 const std::vector<std::string>& cosigner_names) {
  const core::SecretKey key = open_key(options, signer_name);
  std::vector<core::SecretKey> cosigners;
  for (const auto& name : cosigner_names) {
    if (name == signer_name)
      fail(options, kExitUsage, "'" + name + "' cannot co-sign its own transaction");
    cosigners.push_back(open_key(options, name));
  }
  // The account this key signs for: its own address, or the one it was rotated into.
  const core::PublicKey sender = linked_account(options, signer_name).value_or(key.public_key());
  const json status = call_node(options, "GET", "/status");
  auto node = client(options);
  auto account_reply = node.get("/account/" + sender.to_hex());
  if (!account_reply) fail(options, kExitUnreachable, account_reply.status().message());
  if (account_reply->status == 404) {
    fail(options, kExitFailed,
         "unknown account: " + signer_name + " (" + sender.to_hex() +
             ") is not a registered participant on " + status.value("chain_id", "this chain"));
  }
  json account = json::parse(account_reply->body, nullptr, false);
  if (account.is_discarded() || account_reply->status != 200)
    fail(options, kExitFailed, "cannot read the account");

  contracts::SignedTx signed_tx;
  signed_tx.tx.chain_id = status.value("chain_id", "");
  signed_tx.tx.sender = sender;
  signed_tx.tx.nonce = account.value("pending_nonce", account.value("nonce", std::uint64_t{0})) + 1;
  signed_tx.tx.expiry_height = status.value("height", std::uint64_t{0}) + kExpiryBlocks;
  signed_tx.tx.call = std::move(call);
  contracts::sign_tx(signed_tx, key);
  for (const auto& cosigner : cosigners) contracts::sign_tx(signed_tx, cosigner);
  const std::string hex = core::to_hex(contracts::encode_signed_tx(signed_tx));
  const json accepted = call_node(options, "POST", "/tx", json{{"tx", hex}}.dump());
  return accepted.value("tx_id", "");
}

// A direct call: submit (and with --wait, follow) it.
int submit(const Options& options, const std::string& signer_name, contracts::Call call,
           const std::vector<std::string>& cosigner_names) {
  const std::string id = send(options, signer_name, std::move(call), cosigner_names);
  if (!options.wait) {
    if (options.json_output) {
      std::cout << json{{"tx_id", id}, {"status", "pending"}}.dump() << std::endl;
    } else {
      std::cout << "submitted " << id << std::endl;
    }
    return 0;
  }
  const json record = wait_committed(options, id);
  print_receipt(options, record);
  return record.value("receipt", json::object()).value("ok", false) ? 0 : kExitFailed;
}

// "proposal 7 created: register_participant (1 of 2 approvals)" / "proposal 7 executed: ...".
std::string proposal_line(const json& p) {
  const std::string act = p.value("act", json::object()).value("act", "");
  const std::string state = p.value("state", "");
  const std::size_t have = p.value("approvals", json::array()).size();
  std::string line = "proposal " + std::to_string(p.value("id", 0)) + " ";
  if (state == "executed")
    return line + "executed: " + act + " (" + std::to_string(have) + " of " +
           std::to_string(p.value("threshold", 1)) + " approvals, height " +
           std::to_string(p.value("executed_height", 0)) + ")";
  return line + (state == "open" ? "created" : state) + ": " + act + " (" + std::to_string(have) +
         " of " + std::to_string(p.value("threshold", 1)) + " approvals)";
}

// An authority act: proposed by --from (an officer). Without --wait the proposal's id is not
// known yet (ids are handed out at execution); with --wait the wallet finds the proposal this
// transaction created (by proposer and height) and prints its state.
int propose(const Options& options, const std::string& signer_name, contracts::AuthorityAct act) {
  const std::string act_name(contracts::act_name(act));
  const std::string id = send(options, signer_name, contracts::Propose{std::move(act)});
  if (!options.wait) {
    if (options.json_output) {
      std::cout << json{{"tx_id", id}, {"status", "pending"}, {"act", act_name}}.dump()
                << std::endl;
    } else {
      std::cout << "submitted proposal of " << act_name << " in " << id
                << " (use --wait to see its id and approvals)" << std::endl;
    }
    return 0;
  }
  const json record = wait_committed(options, id);
  const json receipt = record.value("receipt", json::object());
  if (!receipt.value("ok", false)) {
    print_receipt(options, record);
    return kExitFailed;
  }
  const json list = call_node(options, "GET", "/proposals?limit=50");
  for (const auto& p : list.value("proposals", json::array())) {
    if (p.value("created_height", 0) == record.value("height", 0) &&
        p.value("proposer", "") == record.value("sender", "") &&
        p.value("act", json::object()).value("act", "") == act_name) {
      if (options.json_output) {
        std::cout
            << json{{"tx_id", id}, {"height", record.value("height", 0)}, {"proposal", p}}.dump()
            << std::endl;
      } else {
        std::cout << proposal_line(p) << "; committed at height " << record.value("height", 0)
                  << std::endl;
        if (p.value("state", "") == "open") {
          // What the next officer runs; submitting the same act again would open a second
          // proposal instead of approving this one.
          std::cout << "  another officer approves it with: carbon-wallet proposal approve "
                    << p.value("id", 0) << " --from <officer key>" << std::endl;
        }
      }
      return 0;
    }
  }
  print_receipt(options, record);
  return 0;
}

// Deadlines: ISO-8601 UTC ("2026-02-28T15:59:59Z"), milliseconds since the epoch, or relative
// to the wallet's clock ("+90s", "+5m", "+2h", "+1d").
std::uint64_t parse_time_ms(const Options& options, const std::string& text) {
  const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  const auto parsed = wallet::parse_time_ms(text, static_cast<std::uint64_t>(now_ms));
  if (!parsed) {
    fail(options, kExitUsage,
         "bad time '" + text +
             "': give ISO-8601 UTC (2026-02-28T15:59:59Z, a real date), epoch ms, or +90s/+5m/+2h/+1d "
             "(whole numbers, at most 2^64 - 1 ms in all)");
  }
  return *parsed;
}

std::string format_time_ms(std::uint64_t ms) {
  const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &utc);
  return text;
}

std::uint16_t check_year(const Options& options, std::uint32_t year, const std::string& flag) {
  if (year < contracts::kMinVintageYear || year > contracts::kMaxVintageYear) {
    fail(options, kExitUsage,
         flag + " must be a year in " + std::to_string(contracts::kMinVintageYear) + ".." +
             std::to_string(contracts::kMaxVintageYear));
  }
  return static_cast<std::uint16_t>(year);
}

core::Hash256 parse_hash(const Options& options, const std::string& text, const std::string& flag) {
  auto hash = core::Hash256::from_hex(text);
  if (!hash) fail(options, kExitUsage, flag + " must be 64 hex characters");
  return *hash;
}

// Prints a query's JSON (with --json) or nothing; returns whether the caller should print text.
bool print_json(const Options& options, const json& doc) {
  if (!options.json_output) return false;
  std::cout << doc.dump() << std::endl;
  return true;
}

std::string cny(std::uint64_t fen) {
  return std::to_string(fen / 100) + "." + (fen % 100 < 10 ? "0" : "") + std::to_string(fen % 100);
}

}  // namespace carbon::wallet::cli
