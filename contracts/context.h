// What a contract call knows besides its arguments: the block it runs in (height and agreed
// timestamp: the only clock contracts read), the sending account as it stood before the
// call, and every key that signed the transaction (verified; officers co-sign proposals).
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <vector>

#include "contracts/ledger.h"
#include "contracts/market_books.h"

namespace carbon::contracts {

struct Context {
  Height height = 0;
  std::uint64_t time_ms = 0;  // block timestamp, milliseconds since the epoch (UTC)
  Account sender;
  std::vector<PublicKey> signers;  // signing keys, the sender's among them
  std::uint32_t tx_index = 0;      // position of the transaction in its block
  // The executor's in-memory order books (contracts/market_books.h); null when the caller has
  // none, and the exchange then builds the books it needs from the state for this call.
  MarketBooks* books = nullptr;
};

}  // namespace carbon::contracts
