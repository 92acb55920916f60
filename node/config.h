// Genesis (shared by every node of a network) and the per-node configuration, both JSON.
//
// genesis.json:
//   {"chain_id": "carbon-hubei-local", "genesis_time_ms": 1767225600000,
//    "validators": [{"name": "hubei-drc", "public_key": "<hex>", "p2p_address": "127.0.0.1:7101"}, ...],
//    "authority": {"public_key": "<hex>"},
//    "officers": ["<hex>", ...], "approvals_required": 2}
// "authority" is the first authority officer; "officers" (optional) lists the other officers
// and "approvals_required" (optional, default 1) is M, the approvals an authority act needs
// (1 <= M <= 1 + officers, at most 7 officers in all).
// node.json:
//   {"name": "node1", "data_dir": ".localnet/node1", "genesis": "genesis.json",
//    "validator_key_file": "validator_key.json", "p2p_listen": "127.0.0.1:7101",
//    "rpc_listen": "127.0.0.1:8101", "tick_ms": 10, "base_timeout_ticks": 100,
//    "max_block_txs": 2000, "min_block_interval_ms": 40, "mempool_max_txs": 50000}
// Relative paths in node.json are relative to the file's own directory.
//
// Loading validates everything and reports the first problem with the field's name; nothing
// else in the node parses configuration. Thread safety: plain values.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "consensus/types.h"
#include "contracts/executor.h"
#include "core/keys.h"
#include "core/status.h"

namespace carbon::node {

struct HostPort {
  std::string host;
  std::uint16_t port = 0;
  // "127.0.0.1:8100", or "[::1]:8100" for IPv6 (as a URL writes it).
  std::string to_string() const {
    return (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  }
};
core::Result<HostPort> parse_host_port(const std::string& text);

struct GenesisValidator {
  std::string name;
  core::PublicKey public_key;
  HostPort p2p_address;
};

struct Genesis {
  std::string chain_id;
  std::uint64_t genesis_time_ms = 0;
  std::vector<GenesisValidator> validators;
  core::PublicKey authority_key;              // officer 1
  std::vector<core::PublicKey> more_officers;  // "officers": the other officers
  std::uint8_t approvals_required = 1;         // M of the officer set

  consensus::ValidatorSet validator_set() const;  // epoch 1
  // SHA3-256 over what defines the chain: chain id, genesis time, the validators' keys in order,
  // the officers' keys and approvals_required (names and addresses are left out: an operator may
  // move a validator to another address). NodeStore::bind_genesis keeps a data directory to it.
  core::Hash256 digest() const;
  contracts::GenesisConfig contracts_genesis() const;
  static core::Result<Genesis> load(const std::filesystem::path& path);
  static core::Result<Genesis> parse(const std::string& json_text);
};

struct NodeConfig {
  std::string name;
  std::filesystem::path data_dir;
  std::filesystem::path genesis_path;
  std::filesystem::path validator_key_file;
  HostPort p2p_listen;
  HostPort rpc_listen;
  std::uint64_t tick_ms = 10;
  std::uint64_t base_timeout_ticks = 100;  // 1 s with 10 ms ticks
  std::size_t max_block_txs = 2000;
  // A leader proposes a block that is not full no sooner than this after its parent's proposal
  // (0: at once). Every block costs each validator about the same in signatures, synced writes
  // and Merkle hashing whatever it carries, so under load a few full blocks beat many small ones.
  std::uint64_t min_block_interval_ms = 40;
  std::size_t mempool_max_txs = 50'000;
  // BENCHMARK ONLY: order opaque payload items without signatures or execution, to measure
  // consensus alone (tests/bench/loadgen --ordering-only). Never set on a real network.
  bool bench_ordering_only = false;

  static core::Result<NodeConfig> load(const std::filesystem::path& path);
};

// The validator's signing key: {"public_key": "<hex>", "seed": "<hex 32 bytes>"}, mode 0600.
// (Operators protect it with file permissions; wallet keys use the encrypted keystore.)
core::Result<core::SecretKey> load_validator_key(const std::filesystem::path& path);
core::Status write_validator_key(const std::filesystem::path& path, const core::SecretKey& key);

}  // namespace carbon::node
