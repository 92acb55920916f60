// carbon-sim: run the deterministic consensus simulator.
//
//   carbon-sim --seed 42 --n 4 --trace        one seed with a readable trace
//   carbon-sim --seeds 1-500 --n 7            a fixed range of seeds
//   carbon-sim --random 100 --n 4             K random seeds (prints each failing seed)
//   carbon-sim --seeds 1-200 --unsafe --expect-violation
//                                             test the test: the broken safety rule must fail
// Exit code 0 when every run passed (or, with --expect-violation, when at least one safety
// violation was found), 1 otherwise, 2 on bad arguments.
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "core/keys.h"
#include "tests/sim/simulator.h"

namespace {

void usage() {
  std::fprintf(stderr,
               "usage: carbon-sim [--seed S | --seeds A-B | --random K] [--n N] [--trace] [--unsafe]\n"
               "                  [--expect-violation] [--byzantine none|equivocating-leader|double-voter|twins]\n"
               "                  [--loss PERCENT] [--chaos-ms MS]\n");
}

bool parse_u64(const char* text, std::uint64_t* out) {
  char* end = nullptr;
  errno = 0;
  const unsigned long long value = std::strtoull(text, &end, 10);
  if (errno != 0 || end == text || *end != '\0') return false;
  *out = value;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  using carbon::sim::SimOptions;
  SimOptions base;
  std::vector<std::uint64_t> seeds;
  bool expect_violation = false;
  std::uint64_t n = 4;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        usage();
        std::exit(2);
      }
      return argv[++i];
    };
    std::uint64_t number = 0;
    if (arg == "--seed") {
      if (!parse_u64(value(), &number)) return usage(), 2;
      seeds.push_back(number);
    } else if (arg == "--seeds") {
      const std::string range = value();
      const auto dash = range.find('-');
      std::uint64_t first = 0, last = 0;
      if (dash == std::string::npos || !parse_u64(range.substr(0, dash).c_str(), &first) ||
          !parse_u64(range.substr(dash + 1).c_str(), &last) || last < first || last - first > 1'000'000) {
        std::fprintf(stderr, "carbon-sim: --seeds wants A-B with A <= B\n");
        return 2;
      }
      for (std::uint64_t s = first; s <= last; ++s) seeds.push_back(s);
    } else if (arg == "--random") {
      if (!parse_u64(value(), &number) || number > 1'000'000) return usage(), 2;
      std::random_device device;  // only here, to pick seeds; each run is still deterministic
      std::mt19937_64 picker((static_cast<std::uint64_t>(device()) << 32) ^ device());
      for (std::uint64_t k = 0; k < number; ++k) seeds.push_back(picker() % 1'000'000'000'000ULL);
    } else if (arg == "--n") {
      if (!parse_u64(value(), &n) || n < 1 || n > 64) {
        std::fprintf(stderr, "carbon-sim: --n must be 1..64\n");
        return 2;
      }
    } else if (arg == "--trace") {
      base.trace = true;
    } else if (arg == "--unsafe") {
      base.unsafe_disable_safety_rules = true;
    } else if (arg == "--expect-violation") {
      expect_violation = true;
    } else if (arg == "--loss") {
      if (!parse_u64(value(), &number) || number > 100) return usage(), 2;
      base.loss_percent = static_cast<int>(number);
    } else if (arg == "--chaos-ms") {
      if (!parse_u64(value(), &number)) return usage(), 2;
      base.chaos_ms = number;
    } else if (arg == "--byzantine") {
      const std::string kind = value();
      if (kind == "none") base.force_byzantine = 0;
      else if (kind == "equivocating-leader") base.force_byzantine = 1;
      else if (kind == "double-voter") base.force_byzantine = 2;
      else if (kind == "twins") base.force_byzantine = 3;
      else return usage(), 2;
    } else if (arg == "--help" || arg == "-h") {
      usage();
      return 0;
    } else {
      std::fprintf(stderr, "carbon-sim: unknown argument '%s'\n", arg.c_str());
      usage();
      return 2;
    }
  }
  if (seeds.empty()) seeds.push_back(1);
  if (!carbon::core::init_crypto()) {
    std::fprintf(stderr, "carbon-sim: libsodium failed to initialize\n");
    return 1;
  }
  base.validators = n;

  std::uint64_t failures = 0;
  std::uint64_t safety_violations = 0;
  std::uint64_t total_commits = 0;
  for (const std::uint64_t seed : seeds) {
    SimOptions options = base;
    options.seed = seed;
    const auto result = carbon::sim::run_simulation(options);
    total_commits += result.min_honest_committed_height;
    if (seeds.size() == 1 || !result.ok) {
      std::printf("seed %llu n=%llu: %s | %s | sim %llu ms, %llu steps, %llu msgs (%llu dropped), height %llu, round %llu\n",
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(n), result.ok ? "ok" : "FAIL",
                  result.scenario.c_str(), static_cast<unsigned long long>(result.sim_ms),
                  static_cast<unsigned long long>(result.steps), static_cast<unsigned long long>(result.messages_sent),
                  static_cast<unsigned long long>(result.messages_dropped),
                  static_cast<unsigned long long>(result.max_committed_height),
                  static_cast<unsigned long long>(result.max_round));
    }
    if (!result.ok) {
      ++failures;
      if (result.failure.find("SAFETY") != std::string::npos ||
          result.failure.find("signed two") != std::string::npos) {
        ++safety_violations;
      }
      std::printf("  FAILED: %s\n  replay: carbon-sim --seed %llu --n %llu%s --trace\n", result.failure.c_str(),
                  static_cast<unsigned long long>(seed), static_cast<unsigned long long>(n),
                  base.unsafe_disable_safety_rules ? " --unsafe" : "");
    }
  }
  std::printf("%zu seeds, n=%llu: %llu passed, %llu failed (%llu safety violations); %llu blocks committed\n",
              seeds.size(), static_cast<unsigned long long>(n), static_cast<unsigned long long>(seeds.size() - failures),
              static_cast<unsigned long long>(failures), static_cast<unsigned long long>(safety_violations),
              static_cast<unsigned long long>(total_commits));
  if (expect_violation) {
    if (safety_violations > 0) {
      std::printf("expected: the broken safety rule was caught by the simulator\n");
      return 0;
    }
    std::printf("UNEXPECTED: the broken safety rule went unnoticed\n");
    return 1;
  }
  return failures == 0 ? 0 : 1;
}
