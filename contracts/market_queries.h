// Read-only queries over the exchange's records (contracts/market_records.h), for the node's
// RPC, the wallet and the tests: market data (public), and funds, orders and trades.
//
// Bounded like contracts/queries.h: lists take a limit (clamped to queries::kMaxQueryLimit)
// and report `more`. Errors: kNotFound for an id or product that does not exist; kInternal for
// a record that does not decode.
//
// Thread safety: none beyond the store's.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "contracts/ledger.h"
#include "contracts/market_records.h"
#include "contracts/queries.h"

namespace carbon::contracts::queries {

Result<MarketParamsRecord> market_params(const Ledger& ledger);  // defaults (version 0) if unset
Result<MarketState> market_state(const Ledger& ledger);
Result<MoneySupply> money_supply(const Ledger& ledger);
Result<FundAccount> funds(const Ledger& ledger, const PublicKey& owner);
Result<UnitLocks> unit_locks(const Ledger& ledger, const PublicKey& owner, const ProductId& product);

// A listed product's market: its record, the band in force for the open (or next) day, and
// the current (or last) day's statistics.
struct MarketView {
  ProductMarket market;
  std::uint64_t band_low_fen = 0;
  std::uint64_t band_high_fen = 0;
  std::optional<DayStats> today;  // the open day's statistics, if it has any
};
Result<MarketView> market(const Ledger& ledger, const ProductId& product);
// Every listed product, in product-code order.
Result<Page<ProductMarket>> listed_products(const Ledger& ledger, std::size_t limit);
// Daily statistics, newest day first.
Result<Page<DayStats>> days(const Ledger& ledger, const ProductId& product, std::size_t limit);

struct BookDepth {
  std::vector<DepthLevelRecord> bids;  // best first
  std::vector<DepthLevelRecord> asks;
};
Result<BookDepth> book(const Ledger& ledger, const ProductId& product, std::size_t levels);

Result<OrderRecord> order(const Ledger& ledger, std::uint64_t id);
// The owner's orders, newest first; open_only skips filled, cancelled and expired ones.
Result<Page<OrderRecord>> orders(const Ledger& ledger, const PublicKey& owner, bool open_only,
                                 std::size_t limit);
// A product's trades, newest first, below before_id (0: from the newest).
Result<Page<TradeRecord>> trades(const Ledger& ledger, const ProductId& product,
                                 std::size_t limit, std::uint64_t before_id = 0);

Result<ListingRecord> listing(const Ledger& ledger, std::uint64_t id);
Result<Page<ListingRecord>> listings(const Ledger& ledger, bool open_only, std::size_t limit);

struct AuctionView {
  AuctionRecord auction;
  // Bids are sealed: listed only after the auction is cleared (their count and total quantity
  // are in the record before that).
  std::vector<BidRecord> bids;
};
Result<AuctionView> auction(const Ledger& ledger, std::uint64_t id);
Result<Page<AuctionRecord>> auctions(const Ledger& ledger, std::size_t limit);

// Surveillance: newest first.
Result<Page<AlertRecord>> alerts(const Ledger& ledger, std::size_t limit);
Result<std::optional<StabilisationTrigger>> stabilisation(const Ledger& ledger,
                                                          const ProductId& product);
Result<Mandate> mandate(const Ledger& ledger, const PublicKey& reserve, const ProductId& product);

// The band around a previous close: [ceil(p x (1 - bp)), floor(p x (1 + bp))], so both edges
// are whole ticks (1 fen) inside the percentage. Pure; used by the contracts too.
std::pair<std::uint64_t, std::uint64_t> price_band(std::uint64_t prev_close_fen,
                                                   std::uint32_t band_bp);

}  // namespace carbon::contracts::queries
