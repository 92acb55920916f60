// A real local network for integration tests and the load generator: N carbon-node processes
// on 127.0.0.1 with their own LevelDB directories under a scratch directory, started, killed
// (SIGKILL) and restarted like an operator would.
//
// Ports: p2p base_port + i, RPC base_port + 100 + i; pick a base that does not collide with a
// running localnet (tests derive it from the process id).
//
// Thread safety: one thread drives a Cluster.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "contracts/types.h"
#include "core/keys.h"
#include "wallet/http_client.h"

namespace carbon::testing {

class Cluster {
 public:
  // extra_node_config: fields merged into every node.json (e.g. {"bench_ordering_only": true}).
  Cluster(std::filesystem::path node_binary, std::filesystem::path dir, std::size_t validators, std::uint16_t base_port,
          const nlohmann::json& extra_node_config = nlohmann::json::object());
  ~Cluster();
  Cluster(const Cluster&) = delete;
  Cluster& operator=(const Cluster&) = delete;

  void start_all();
  void start(std::size_t i);
  void kill9(std::size_t i);
  void stop_all();
  bool running(std::size_t i) const { return pids_[i] > 0; }
  std::size_t size() const { return pids_.size(); }
  pid_t pid(std::size_t i) const { return pids_[i]; }

  std::string rpc_url(std::size_t i) const;
  std::uint16_t p2p_port(std::size_t i) const { return static_cast<std::uint16_t>(base_port_ + i); }
  const std::string& chain_id() const { return chain_id_; }
  const core::SecretKey& authority() const { return authority_; }

  // GET/POST returning (HTTP status, parsed JSON or null).
  std::pair<unsigned, nlohmann::json> get(std::size_t i, const std::string& target) const;
  std::pair<unsigned, nlohmann::json> post(std::size_t i, const std::string& target, const std::string& body) const;
  std::optional<nlohmann::json> status(std::size_t i) const;

  // Polls `done` every 50 ms until it is true or the timeout passes; returns its last value.
  static bool wait_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Waits until node i reports transaction `id` committed; its receipt, or nullopt on timeout.
  std::optional<nlohmann::json> wait_for_receipt(std::size_t i, const std::string& id,
                                                 std::chrono::milliseconds timeout) const;

  // A signed transaction from `key` with the given nonce, as hex for POST /tx.
  std::string sign(const core::SecretKey& key, std::uint64_t nonce, contracts::Call call,
                   std::uint64_t expiry_height = 50'000) const;

  std::string log_tail(std::size_t i, std::size_t lines = 30) const;

 private:
  std::filesystem::path node_binary_;
  std::filesystem::path dir_;
  std::uint16_t base_port_;
  std::string chain_id_ = "carbon-itest";
  core::SecretKey authority_;
  std::vector<pid_t> pids_;
};

}  // namespace carbon::testing
