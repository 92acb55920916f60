#include "contracts/market_queries.h"

#include <algorithm>

#include "contracts/ledger_internal.h"
#include "contracts/market_internal.h"

namespace carbon::contracts::queries {

namespace {

std::size_t clamp(std::size_t limit) { return std::clamp<std::size_t>(limit, 1, kMaxQueryLimit); }

// Up to `limit` records under `prefix` that pass `keep`, reading at most `max_scanned`
// entries; `more` when a further kept record may exist.
template <class T, class Keep>
Result<Page<T>> collect(const Ledger& ledger, const std::string& prefix, std::string start,
                        std::size_t limit, std::size_t max_scanned, Keep keep) {
  limit = clamp(limit);
  Page<T> page;
  std::size_t scanned = 0;
  while (scanned < max_scanned) {
    const auto entries = ledger.scan(prefix, start, kScanPage);
    for (const auto& [key, bytes] : entries) {
      ++scanned;
      auto decoded = core::codec::decode<T>(bytes);
      if (!decoded) {
        return Status::error(ErrorCode::kInternal, "corrupt state record at " + key + ": " +
                                                       decoded.status().message());
      }
      if (!keep(*decoded)) continue;
      if (page.items.size() == limit) {
        page.more = true;
        return page;
      }
      page.items.push_back(std::move(*decoded));
    }
    if (entries.size() < kScanPage) return page;
    start = key_successor(entries.back().first);
  }
  page.more = true;  // stopped by the scan bound
  return page;
}

constexpr auto kKeepAll = [](const auto&) { return true; };
// Filtered lists read at most this many records per query.
constexpr std::size_t kMaxScannedPerQuery = 20'000;

}  // namespace

Result<MarketParamsRecord> market_params(const Ledger& ledger) { return load_market_params(ledger); }
Result<MarketState> market_state(const Ledger& ledger) { return load_market_state(ledger); }

Result<MoneySupply> money_supply(const Ledger& ledger) {
  auto stored = ledger.get<MoneySupply>(std::string(keys::kMoneySupply));
  if (!stored) return stored.status();
  return *stored ? **stored : MoneySupply{};
}

Result<FundAccount> funds(const Ledger& ledger, const PublicKey& owner) {
  return load_fund(ledger, owner);
}

Result<UnitLocks> unit_locks(const Ledger& ledger, const PublicKey& owner, const ProductId& product) {
  return load_unit_locks(ledger, owner, product);
}

Result<MarketView> market(const Ledger& ledger, const ProductId& product) {
  auto listed = load_listed(ledger, product);
  if (!listed) return listed.status();
  auto params = load_market_params(ledger);
  if (!params) return params.status();
  auto state = load_market_state(ledger);
  if (!state) return state.status();
  MarketView view;
  view.market = std::move(*listed);
  const auto band = price_band(view.market.prev_close_fen, params->params.band_bp);
  view.band_low_fen = band.first;
  view.band_high_fen = band.second;
  if (state->day_index > 0) {
    auto day = ledger.get<DayStats>(keys::day_stats(product, state->day_index));
    if (!day) return day.status();
    if (*day) view.today = **day;
  }
  return view;
}

Result<Page<ProductMarket>> listed_products(const Ledger& ledger, std::size_t limit) {
  return collect<ProductMarket>(ledger, std::string(keys::kProductMarketPrefix), "", limit,
                                kMaxListedProducts + 1, kKeepAll);
}

Result<Page<DayStats>> days(const Ledger& ledger, const ProductId& product, std::size_t limit) {
  auto listed = load_listed(ledger, product);
  if (!listed) return listed.status();
  return collect<DayStats>(ledger, keys::day_stats_prefix(product), "", limit, clamp(limit) + 1,
                           kKeepAll);
}

Result<BookDepth> book(const Ledger& ledger, const ProductId& product, std::size_t levels) {
  auto listed = load_listed(ledger, product);
  if (!listed) return listed.status();
  BookDepth depth;
  for (Side side : {Side::kBuy, Side::kSell}) {
    auto page = collect<DepthLevelRecord>(ledger, keys::depth_prefix(product, side), "", levels,
                                          clamp(levels) + 1, kKeepAll);
    if (!page) return page.status();
    (side == Side::kBuy ? depth.bids : depth.asks) = std::move(page->items);
  }
  return depth;
}

Result<OrderRecord> order(const Ledger& ledger, std::uint64_t id) {
  auto stored = ledger.get<OrderRecord>(keys::order(id));
  if (!stored) return stored.status();
  if (!*stored) return Status::error(ErrorCode::kNotFound, "no order " + std::to_string(id));
  return std::move(**stored);
}

Result<Page<OrderRecord>> orders(const Ledger& ledger, const PublicKey& owner, bool open_only,
                                 std::size_t limit) {
  limit = clamp(limit);
  Page<OrderRecord> page;
  const std::string prefix = keys::owner_orders_prefix(owner);
  std::string start;
  std::size_t scanned = 0;
  while (scanned < kMaxScannedPerQuery) {
    const auto entries = ledger.scan(prefix, start, kScanPage);
    for (const auto& [key, bytes] : entries) {
      ++scanned;
      // The key ends in the complement of the order id.
      std::uint64_t complement = 0;
      for (char c : std::string_view(key).substr(prefix.size())) {
        complement = complement * 16 +
                     static_cast<std::uint64_t>(c <= '9' ? c - '0' : c - 'a' + 10);
      }
      auto record = order(ledger, ~complement);
      if (!record) return record.status();
      if (open_only && record->status != OrderStatus::kOpen) continue;
      if (page.items.size() == limit) {
        page.more = true;
        return page;
      }
      page.items.push_back(std::move(*record));
    }
    if (entries.size() < kScanPage) return page;
    start = key_successor(entries.back().first);
  }
  page.more = true;
  return page;
}

Result<Page<TradeRecord>> trades(const Ledger& ledger, const ProductId& product,
                                 std::size_t limit, std::uint64_t before_id) {
  const std::string prefix = keys::trades_prefix(product);
  // Keys hold ~id: the trades below before_id start at the key of before_id - 1.
  const std::string start = before_id > 1 ? keys::trade(product, before_id - 1) : "";
  if (before_id == 1) return Page<TradeRecord>{};
  return collect<TradeRecord>(ledger, prefix, start, limit, clamp(limit) + 1, kKeepAll);
}

Result<ListingRecord> listing(const Ledger& ledger, std::uint64_t id) {
  auto stored = ledger.get<ListingRecord>(keys::listing(id));
  if (!stored) return stored.status();
  if (!*stored) return Status::error(ErrorCode::kNotFound, "no listing " + std::to_string(id));
  return std::move(**stored);
}

Result<Page<ListingRecord>> listings(const Ledger& ledger, bool open_only, std::size_t limit) {
  return collect<ListingRecord>(ledger, "lst/", "", limit, kMaxScannedPerQuery,
                                [open_only](const ListingRecord& listing) {
                                  return !open_only || listing.status == ListingStatus::kOpen;
                                });
}

Result<AuctionView> auction(const Ledger& ledger, std::uint64_t id) {
  auto stored = ledger.get<AuctionRecord>(keys::auction(id));
  if (!stored) return stored.status();
  if (!*stored) return Status::error(ErrorCode::kNotFound, "no auction " + std::to_string(id));
  AuctionView view;
  view.auction = std::move(**stored);
  if (view.auction.status == AuctionStatus::kCleared) {
    auto bids = collect<BidRecord>(ledger, keys::bids_prefix(id), "", kMaxQueryLimit,
                                   kMaxBidsPerAuction + 1, kKeepAll);
    if (!bids) return bids.status();
    view.bids = std::move(bids->items);
  }
  return view;
}

Result<Page<AuctionRecord>> auctions(const Ledger& ledger, std::size_t limit) {
  return collect<AuctionRecord>(ledger, "auc/", "", limit, clamp(limit) + 1, kKeepAll);
}

Result<Page<AlertRecord>> alerts(const Ledger& ledger, std::size_t limit) {
  return collect<AlertRecord>(ledger, "alrt/", "", limit, clamp(limit) + 1, kKeepAll);
}

Result<std::optional<StabilisationTrigger>> stabilisation(const Ledger& ledger,
                                                          const ProductId& product) {
  return ledger.get<StabilisationTrigger>(keys::stabilisation(product));
}

Result<Mandate> mandate(const Ledger& ledger, const PublicKey& reserve, const ProductId& product) {
  auto stored = ledger.get<Mandate>(keys::mandate(reserve, product));
  if (!stored) return stored.status();
  return *stored ? **stored : Mandate{};
}

}  // namespace carbon::contracts::queries
