// What a contract call knows besides its arguments: the block it runs in (height and agreed
// timestamp: the only clock contracts read) and the sending account as it stood before the
// call.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>

#include "contracts/ledger.h"

namespace carbon::contracts {

struct Context {
  Height height = 0;
  std::uint64_t time_ms = 0;  // block timestamp, milliseconds since the epoch (UTC)
  Account sender;
};

}  // namespace carbon::contracts
