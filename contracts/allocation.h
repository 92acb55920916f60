// Free allocation: the deterministic function of RULES.md "Cap and allocation" that turns an
// enterprise's allocation inputs into whole tonnes. The ledger uses it (SetAllocation for the
// initial allocation, TrueUpAllocation for the final one); the node RPC and the wallet's
// `allocation compute` command re-run it and get the same figure, to the tonne.
//
// Formulas, with every intermediate product in unsigned 128-bit integers (no floating point):
//
//   grandfathering         floor(historical_emissions_t x factor_ppm / 10^6)
//   historical intensity   floor(intensity_g_per_unit x production_units x factor_ppm / 10^12)
//   benchmark              floor(benchmark_g_per_unit x production_units / 10^6)
//
// factor_ppm is the market-adjustment factor in parts per million (1,000,000 = 1.0); grams
// per unit x units / 10^6 is tonnes. Rounding rule: the exact quotient is rounded DOWN to
// whole tonnes, once, at the end (never per factor): e.g. benchmark 850,000 g/unit x 1,001
// units = 850.85 t -> 850 t. Grandfathering ignores production_units. A result above
// kMaxQuantityPerTx (10^12 t) is an error (kOutOfBounds), never truncated.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>

#include "contracts/calls.h"

namespace carbon::contracts {

inline constexpr std::uint32_t kMaxFactorPpm = 10'000'000;  // market-adjustment factor <= 10.0

// The allocation in whole tonnes by inputs.method, with `production_units` as the production
// (the base production for the initial allocation, the verified production for the final one).
// Errors: kOutOfBounds when the result exceeds kMaxQuantityPerTx.
Result<std::uint64_t> compute_allocation(const AllocationInputs& inputs,
                                         std::uint64_t production_units);

// Checks the inputs a method uses: factor_ppm in 1..kMaxFactorPpm (intensity and
// grandfathering), and the method's own figures non-zero (historical emissions; intensity and
// base production; benchmark and base production). kInvalidArgument naming the field.
Status validate_allocation_inputs(const AllocationInputs& inputs);

// floor(amount x bp / 10,000): a share in basis points, rounded down to whole tonnes (the
// pre-allocation share). Saturates at UINT64_MAX, which only a bp above 10,000 can reach.
std::uint64_t share_bp(std::uint64_t amount, std::uint32_t bp);

}  // namespace carbon::contracts
