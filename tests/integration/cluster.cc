#include "tests/integration/cluster.h"

#include <signal.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "node/config.h"

extern char** environ;

namespace carbon::testing {

using json = nlohmann::json;

Cluster::Cluster(std::filesystem::path node_binary, std::filesystem::path dir, std::size_t validators,
                 std::uint16_t base_port, const json& extra_node_config)
    : node_binary_(std::move(node_binary)),
      dir_(std::move(dir)),
      base_port_(base_port),
      authority_(core::generate_secret_key()),
      pids_(validators, 0) {
  std::filesystem::remove_all(dir_);
  std::filesystem::create_directories(dir_);
  json validators_json = json::array();
  for (std::size_t i = 0; i < validators; ++i) {
    const auto node_dir = dir_ / ("node" + std::to_string(i));
    std::filesystem::create_directories(node_dir);
    const auto key = core::generate_secret_key();
    CARBON_ASSERT(node::write_validator_key(node_dir / "validator_key.json", key).is_ok());
    validators_json.push_back({{"name", "node" + std::to_string(i)},
                               {"public_key", key.public_key().to_hex()},
                               {"p2p_address", "127.0.0.1:" + std::to_string(p2p_port(i))}});
    json config = {{"name", "node" + std::to_string(i)},
                         {"data_dir", "."},
                         {"genesis", "../genesis.json"},
                         {"validator_key_file", "validator_key.json"},
                         {"p2p_listen", "127.0.0.1:" + std::to_string(p2p_port(i))},
                         {"rpc_listen", "127.0.0.1:" + std::to_string(base_port_ + 100 + i)},
                         {"tick_ms", 10},
                         {"base_timeout_ticks", 100},
                         {"max_block_txs", 2000}};
    config.update(extra_node_config);
    std::ofstream(node_dir / "node.json") << config.dump(2);
  }
  const json genesis = {{"chain_id", chain_id_},
                        {"genesis_time_ms", 1'767'225'600'000ULL},
                        {"validators", validators_json},
                        {"authority", {{"public_key", authority_.public_key().to_hex()}}}};
  std::ofstream(dir_ / "genesis.json") << genesis.dump(2);
}

Cluster::~Cluster() { stop_all(); }

void Cluster::start_all() {
  for (std::size_t i = 0; i < size(); ++i) start(i);
}

void Cluster::start(std::size_t i) {
  CARBON_ASSERT(pids_[i] == 0);
  const auto node_dir = dir_ / ("node" + std::to_string(i));
  const std::string config = (node_dir / "node.json").string();
  const std::string log = (node_dir / "node.log").string();
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  const std::string binary = node_binary_.string();
  std::vector<char*> argv = {const_cast<char*>(binary.c_str()), const_cast<char*>("--config"),
                             const_cast<char*>(config.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, binary.c_str(), &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  CARBON_ASSERT_MSG(rc == 0, "cannot start carbon-node");
  pids_[i] = pid;
}

void Cluster::kill9(std::size_t i) {
  if (pids_[i] <= 0) return;
  ::kill(pids_[i], SIGKILL);
  ::waitpid(pids_[i], nullptr, 0);
  pids_[i] = 0;
}

void Cluster::stop_all() {
  for (std::size_t i = 0; i < size(); ++i) {
    if (pids_[i] > 0) ::kill(pids_[i], SIGTERM);
  }
  for (std::size_t i = 0; i < size(); ++i) {
    if (pids_[i] <= 0) continue;
    bool exited = false;
    for (int tries = 0; tries < 100 && !exited; ++tries) {
      exited = ::waitpid(pids_[i], nullptr, WNOHANG) == pids_[i];
      if (!exited) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (!exited) {
      ::kill(pids_[i], SIGKILL);
      ::waitpid(pids_[i], nullptr, 0);
    }
    pids_[i] = 0;
  }
}

std::string Cluster::rpc_url(std::size_t i) const {
  return "http://127.0.0.1:" + std::to_string(base_port_ + 100 + i);
}

std::pair<unsigned, json> Cluster::get(std::size_t i, const std::string& target) const {
  auto client = wallet::NodeClient::parse(rpc_url(i));
  auto reply = client->get(target);
  if (!reply) return {0, json()};
  return {reply->status, json::parse(reply->body, nullptr, false)};
}

std::pair<unsigned, json> Cluster::post(std::size_t i, const std::string& target, const std::string& body) const {
  auto client = wallet::NodeClient::parse(rpc_url(i));
  auto reply = client->post(target, body);
  if (!reply) return {0, json()};
  return {reply->status, json::parse(reply->body, nullptr, false)};
}

std::optional<json> Cluster::status(std::size_t i) const {
  auto [code, doc] = get(i, "/status");
  if (code != 200) return std::nullopt;
  return doc;
}

bool Cluster::wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

std::optional<nlohmann::json> Cluster::wait_for_receipt(std::size_t i, const std::string& id,
                                                        std::chrono::milliseconds timeout) const {
  nlohmann::json receipt;
  const bool committed = wait_until(
      [&] {
        auto [code, tx] = get(i, "/tx/" + id);
        if (code != 200 || tx.value("status", "") != "committed") return false;
        receipt = tx["receipt"];
        return true;
      },
      timeout);
  if (!committed) return std::nullopt;
  return receipt;
}

std::string Cluster::sign(const core::SecretKey& key, std::uint64_t nonce, contracts::Call call,
                          std::uint64_t expiry_height) const {
  contracts::SignedTx tx;
  tx.tx.chain_id = chain_id_;
  tx.tx.sender = key.public_key();
  tx.tx.nonce = nonce;
  tx.tx.expiry_height = expiry_height;
  tx.tx.call = std::move(call);
  contracts::sign_tx(tx, key);
  return core::to_hex(contracts::encode_signed_tx(tx));
}

std::string Cluster::log_tail(std::size_t i, std::size_t lines) const {
  std::ifstream in(dir_ / ("node" + std::to_string(i)) / "node.log");
  std::vector<std::string> all;
  for (std::string line; std::getline(in, line);) all.push_back(line);
  std::ostringstream out;
  for (std::size_t k = all.size() > lines ? all.size() - lines : 0; k < all.size(); ++k) out << all[k] << "\n";
  return out.str();
}

}  // namespace carbon::testing
