// Ledger invariants, checked over the whole state (tests run it after every block; the node
// may run it in a debug mode). A violation means a bug in the contracts, never bad input.
//
// For every product: issued = held + surrendered + cancelled; next_serial = 1 + issued; the
// held and the retired ranges together tile [1, next_serial) exactly, so every serial is held
// once or retired once; the product's surrendered and cancelled totals equal its retired
// ranges. Every range has start < end, its `hend` index entry, a registered holder of a role
// that may hold the product, and does not overlap or touch another range of the same holder.
// Every stored balance is positive and equals the sum of the holder's ranges.
//
// Thread safety: reads the store only.
#pragma once

#include "contracts/state_store.h"
#include "core/status.h"

namespace carbon::contracts {

core::Status check_invariants(const StateStore& store);

}  // namespace carbon::contracts
