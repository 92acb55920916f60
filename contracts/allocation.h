// TEMPORARY COPY (branch h3): only the declaration the wallet and node need to compile, until
// the allocation work is merged. The real contracts/allocation.h replaces this file.
#pragma once

#include <cstdint>

#include "contracts/calls.h"

namespace carbon::contracts {

// The free allocation of an enterprise by its method and inputs, for `production_units`
// (floor rounding; see the real header).
Result<std::uint64_t> compute_allocation(const AllocationInputs& inputs,
                                         std::uint64_t production_units);

}  // namespace carbon::contracts
