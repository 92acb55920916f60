// Ledger invariants, checked over the whole state (tests run it after every block; the node
// may run it in a debug mode). A violation means a bug in the contracts, never bad input.
//
// For every product: issued = held + surrendered + cancelled; next_serial = 1 + issued; the
// held and the retired ranges together tile [1, next_serial) exactly, so every serial is held
// once or retired once; the product's surrendered and cancelled totals equal its retired
// ranges. Every range has start < end, is stored under its end, has a registered holder of a role
// that may hold the product, and does not overlap or touch another range of the same holder.
// Every stored balance is positive and equals the sum of the holder's ranges; a history is kept
// once (in the balance record, or under hist/ when the balance is 0) and never empty.
//
// The exchange (contracts/market_records.h), where it has records:
//   - money: the fund accounts' available + locked sum to deposited - withdrawn;
//   - funds locked: each account's locked_fen is the locked_fen of its open buy orders plus
//     that of its bids in auctions not yet cleared (and nothing is locked without an account);
//   - units locked: each ulk/ record's sell_locked_t is the remainder of the holder's open sell
//     orders and listings plus the offers of its open auctions, buy_open_t the remainder of its
//     open buy orders (no record: both 0), and the holder holds at least sell_locked_t;
//   - orders: remaining <= quantity, open ones have something left, a buy locks at least its
//     remainder's value, every order has its oown/ entry, ids below the next order id; the
//     obk/ markers are exactly the open orders, and the lvl/ records exactly their aggregate
//     (price, total remaining, count) per product and side;
//   - the offer index (offr/) holds exactly the resting orders and open listings, and each
//     holder's UnitLocks::open_offers counts them;
//   - listings, auctions and bids: remaining <= quantity, an auction's bid count and quantity
//     and its sold total equal its bids, the open auctions' count equals the market state's;
//   - trades: value = price x quantity, the seller's fee within the value, buyer != seller,
//     ids below the next trade id; per product and trading day the continuous trades sum to
//     the day's volume, value, trade count, open, high and low, the day is a band-hit day iff
//     one of them is at a band edge, and a closed day's close is their VWAP rounded half up
//     (the previous close without trades).
// Fee amounts are not checked against fee_bp: the parameters may change while orders rest.
// Each prefix is scanned once, page by page (kScanPageSize); memory grows with open orders,
// owners and trading days, not with closed orders or trades.
//
// Thread safety: reads the store only.
#pragma once

#include "contracts/state_store.h"
#include "core/status.h"

namespace carbon::contracts {

core::Status check_invariants(const StateStore& store);

}  // namespace carbon::contracts
