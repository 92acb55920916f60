// Deterministic cluster simulator for the consensus core.
//
// One seed decides everything: the scenario (faults, Byzantine kinds, network profile), every
// message delay, loss, duplication, partition, crash and restart. Messages cross the simulated
// network as encoded bytes and pass the real MessageVerifier before reaching a core, as in the
// node. Signatures use a cheap keyed-hash scheme (SimSigner) so thousands of seeds run in
// minutes; a replica can still only sign with its own key.
//
// Checked after every step: no two honest replicas commit different blocks at one height; no
// replica's commits are rolled back or skip a height (across crashes too); no honest replica
// signs two different votes or proposals for one round (what persisted safety data guarantees).
// After the network heals (all crashed replicas restarted, no loss, no partition), with at most
// f faulty validators, every honest replica must commit a new block within a bounded number of
// rounds.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace carbon::sim {

enum class ByzantineKind : std::uint8_t {
  kNone,
  kEquivocatingLeader,  // as leader, sends two different proposals to two halves
  kDoubleVoter,         // votes for every proposal it sees, ignoring the safety rules
  kTwins,               // two replicas running with one key (independent honest cores)
};
const char* byzantine_kind_name(ByzantineKind kind);

struct SimOptions {
  std::uint64_t seed = 1;
  std::size_t validators = 4;
  bool trace = false;                        // print a readable line per event
  bool unsafe_disable_safety_rules = false;  // honest replicas run the broken rule (test the test)
  // Scenario overrides; by default the seed chooses.
  int force_byzantine = -1;  // -1: seed decides; else a ByzantineKind for all f faulty slots
  bool no_faults = false;    // no Byzantine, no crashes, no partitions
  int loss_percent = -1;     // -1: seed decides (during the chaos phase only)
  std::uint64_t chaos_ms = 8'000;      // faults happen in [0, chaos_ms)
  std::uint64_t liveness_rounds = 0;   // 0: derived from n (see simulator.cc)
  std::uint64_t max_sim_ms = 180'000;  // hard stop
  // Sign and verify with real Ed25519 (as the node does) instead of the keyed-hash stand-in.
  bool ed25519 = false;
  // With no_faults/benchmarks: run exactly this long and do not judge liveness.
  std::uint64_t fixed_duration_ms = 0;
};

struct SimResult {
  bool ok = true;
  std::string failure;  // set when !ok: what was violated, where
  std::string scenario;  // one-line description of what the seed chose
  std::uint64_t sim_ms = 0;
  std::uint64_t steps = 0;            // core step() calls
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_dropped = 0;  // by the verifier or the network
  std::uint64_t max_committed_height = 0;
  std::uint64_t min_honest_committed_height = 0;
  std::uint64_t max_round = 0;
  double core_cpu_seconds = 0;  // time inside step()/start() only (benchmarks)
};

SimResult run_simulation(const SimOptions& options);

}  // namespace carbon::sim
