// consensus_bench: how fast the consensus core runs, measured in the deterministic simulator.
//
// For n = 4 and n = 7, with no faults and with 10% message loss, it prints
//   - core steps per second of CPU: events handled by ConsensusCore::step() divided by the CPU
//     time spent inside step() (the simulator's own work, encoding and verification excluded);
//   - committed blocks per simulated second (lowest honest replica), with 1-10 ms links and a
//     400 ms base round timeout.
// Once with the simulator's keyed-hash signatures (protocol cost alone) and once with real
// Ed25519, which is what the node signs with. A program that prints figures, not a test.
#include <cstdio>
#include <cstdlib>

#include "core/keys.h"
#include "tests/sim/simulator.h"

int main(int argc, char** argv) {
  if (!carbon::core::init_crypto()) return 1;
  std::uint64_t duration_ms = 60'000;
  if (argc > 1) duration_ms = std::strtoull(argv[1], nullptr, 10);
  std::printf("consensus core benchmark: %llu simulated seconds per run, links 1-10 ms, base timeout 400 ms\n",
              static_cast<unsigned long long>(duration_ms / 1000));
  std::printf("%-8s %-4s %-6s %14s %14s %12s %10s\n", "crypto", "n", "loss", "steps/cpu-s", "blocks/sim-s", "steps",
              "height");
  for (const bool ed25519 : {false, true}) {
    for (const std::size_t n : {std::size_t{4}, std::size_t{7}}) {
      for (const int loss : {0, 10}) {
        carbon::sim::SimOptions options;
        options.seed = 7;
        options.validators = n;
        options.no_faults = true;
        options.loss_percent = loss;
        options.fixed_duration_ms = duration_ms;
        options.ed25519 = ed25519;
        const auto result = carbon::sim::run_simulation(options);
        if (!result.ok) {
          std::printf("run failed: %s\n", result.failure.c_str());
          return 1;
        }
        const double steps_per_cpu_second =
            result.core_cpu_seconds > 0 ? static_cast<double>(result.steps) / result.core_cpu_seconds : 0;
        const double blocks_per_sim_second =
            static_cast<double>(result.min_honest_committed_height) / (static_cast<double>(result.sim_ms) / 1000.0);
        std::printf("%-8s %-4zu %-5d%% %14.0f %14.1f %12llu %10llu\n", ed25519 ? "ed25519" : "keyed", n, loss,
                    steps_per_cpu_second, blocks_per_sim_second, static_cast<unsigned long long>(result.steps),
                    static_cast<unsigned long long>(result.min_honest_committed_height));
      }
    }
  }
  return 0;
}
