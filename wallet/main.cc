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
#include <iostream>
#include <nlohmann/json.hpp>
#include <thread>

#include "contracts/types.h"
#include "core/keys.h"
#include "wallet/http_client.h"
#include "wallet/keystore.h"

namespace {

using namespace carbon;  // NOLINT(google-build-using-namespace): a main file
using json = nlohmann::json;

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;
constexpr int kExitUnreachable = 3;
constexpr int kExitKeystore = 4;
constexpr std::uint64_t kExpiryBlocks = 1000;
constexpr auto kWaitLimit = std::chrono::seconds(60);

struct Options {
  std::string node = "http://127.0.0.1:8100";
  std::string keystore;
  bool json_output = false;
  bool wait = false;
};

struct Failure {
  int exit_code;
  std::string message;
};

[[noreturn]] void fail(const Options& options, int exit_code, const std::string& message) {
  if (options.json_output) {
    std::cout << json{{"ok", false}, {"error", message}}.dump() << std::endl;
  } else {
    std::cerr << "carbon-wallet: " << message << std::endl;
  }
  std::exit(exit_code);
}

std::filesystem::path keystore_dir(const Options& options) {
  if (!options.keystore.empty()) return options.keystore;
  if (const char* dir = std::getenv("CARBON_WALLET_DIR"); dir != nullptr && *dir != '\0') return dir;
  const char* home = std::getenv("HOME");
  return std::filesystem::path(home != nullptr ? home : ".") / ".carbon-wallet";
}

std::filesystem::path key_path(const Options& options, const std::string& name) {
  return keystore_dir(options) / (name + ".json");
}

bool valid_key_name(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') return false;
  }
  return name.front() != '.';
}

std::string read_passphrase(const Options& options, const std::string& prompt) {
  if (const char* env = std::getenv("CARBON_WALLET_PASSPHRASE"); env != nullptr) return env;
  if (!isatty(STDIN_FILENO)) fail(options, kExitKeystore, "no passphrase: set CARBON_WALLET_PASSPHRASE or run in a terminal");
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
  if (!valid_key_name(name)) fail(options, kExitUsage, "bad key name '" + name + "'");
  const auto path = key_path(options, name);
  if (!std::filesystem::exists(path)) {
    fail(options, kExitKeystore, "no key named '" + name + "' in " + keystore_dir(options).string() +
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
    auto info = wallet::read_keystore_info(key_path(options, text));
    if (!info) fail(options, kExitKeystore, info.status().message());
    return info->public_key;
  }
  fail(options, kExitUsage, "'" + text + "' is neither a 64-hex-character address nor a key in the keystore");
}

wallet::NodeClient client(const Options& options) {
  auto parsed = wallet::NodeClient::parse(options.node);
  if (!parsed) fail(options, kExitUsage, parsed.status().message());
  return *parsed;
}

json call_node(const Options& options, const std::string& method, const std::string& target, const std::string& body = "") {
  auto node = client(options);
  auto reply = method == "POST" ? node.post(target, body) : node.get(target);
  if (!reply) fail(options, kExitUnreachable, reply.status().message());
  json doc = json::parse(reply->body, nullptr, false);
  if (doc.is_discarded()) fail(options, kExitFailed, "the node answered something that is not JSON");
  if (reply->status >= 400) {
    std::string message = doc.contains("error") ? doc["error"].value("message", reply->body) : reply->body;
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
    known += (known.empty() ? "" : ", ") + std::string(contracts::role_name(static_cast<contracts::Role>(i)));
  }
  fail(options, kExitUsage, "unknown role '" + text + "'; roles: " + known);
}

contracts::ProductId parse_product(const Options& options, const std::string& text) {
  // "HBEA-2025": allowances of vintage 2025.
  if (text.rfind("HBEA-", 0) == 0 && text.size() == 9) {
    const int year = std::atoi(text.c_str() + 5);
    if (year >= contracts::kMinVintageYear && year <= contracts::kMaxVintageYear) {
      return contracts::ProductId::allowance(static_cast<std::uint16_t>(year));
    }
  }
  fail(options, kExitUsage, "unknown product '" + text + "' (allowances are HBEA-<vintage year>, e.g. HBEA-2025)");
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
    std::cout << "committed at height " << record.value("height", 0) << ": FAILED (" << receipt.value("code", "")
              << "): " << receipt.value("message", "") << std::endl;
  }
}

// Builds, signs, submits (and with --wait, follows) one transaction.
int submit(const Options& options, const std::string& signer_name, contracts::Call call) {
  const core::SecretKey key = open_key(options, signer_name);
  const json status = call_node(options, "GET", "/status");
  auto node = client(options);
  auto account_reply = node.get("/account/" + key.public_key().to_hex());
  if (!account_reply) fail(options, kExitUnreachable, account_reply.status().message());
  if (account_reply->status == 404) {
    fail(options, kExitFailed, "unknown account: " + signer_name + " (" + key.public_key().to_hex() +
                                   ") is not a registered participant on " + status.value("chain_id", "this chain"));
  }
  json account = json::parse(account_reply->body, nullptr, false);
  if (account.is_discarded() || account_reply->status != 200) fail(options, kExitFailed, "cannot read the account");

  contracts::SignedTx signed_tx;
  signed_tx.tx.chain_id = status.value("chain_id", "");
  signed_tx.tx.sender = key.public_key();
  signed_tx.tx.nonce = account.value("pending_nonce", account.value("nonce", std::uint64_t{0})) + 1;
  signed_tx.tx.expiry_height = status.value("height", std::uint64_t{0}) + kExpiryBlocks;
  signed_tx.tx.call = std::move(call);
  contracts::sign_tx(signed_tx, key);
  const std::string hex = core::to_hex(contracts::encode_signed_tx(signed_tx));
  const json accepted = call_node(options, "POST", "/tx", json{{"tx", hex}}.dump());
  const std::string id = accepted.value("tx_id", "");
  if (!options.wait) {
    if (options.json_output) {
      std::cout << accepted.dump() << std::endl;
    } else {
      std::cout << "submitted " << id << std::endl;
    }
    return 0;
  }
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    const json record = call_node(options, "GET", "/tx/" + id);
    const std::string state = record.value("status", "");
    if (state == "committed") {
      print_receipt(options, record);
      return record.value("receipt", json::object()).value("ok", false) ? 0 : kExitFailed;
    }
    if (state == "rejected") fail(options, kExitFailed, "rejected: " + record.value("reason", ""));
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  fail(options, kExitFailed, "transaction " + id + " not committed within 60 s (it may still be)");
}

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
  address_cmd->add_option("--name", name, "the key's name")->required();
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

  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return cli.exit(error) == 0 ? 0 : kExitUsage;
  }

  if (*keygen) {
    if (!valid_key_name(name)) fail(options, kExitUsage, "a key name is 1-64 letters, digits, '-', '_' or '.'");
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
    auto info = wallet::read_keystore_info(key_path(options, name));
    if (!info) fail(options, kExitKeystore, info.status().message());
    if (options.json_output) {
      std::cout << json{{"name", info->name}, {"address", info->public_key.to_hex()}}.dump() << std::endl;
    } else {
      std::cout << info->public_key.to_hex() << std::endl;
    }
    return 0;
  }
  if (*register_cmd) {
    contracts::RegisterParticipant call;
    call.key = resolve_address(options, participant);
    call.name = display_name;
    call.role = parse_role(options, role);
    return submit(options, from, contracts::Propose{call});
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
    return submit(options, from, contracts::Propose{call});
  }
  if (*transfer) {
    contracts::TransferUnits call;
    call.to = resolve_address(options, to);
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
