#include "contracts/invariants.h"

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "contracts/ledger.h"
#include "contracts/ledger_internal.h"
#include "contracts/market_internal.h"
#include "contracts/market_records.h"
#include "core/checked_math.h"
#include "core/codec.h"

namespace carbon::contracts {

namespace {

using core::ErrorCode;
using core::Status;

Status violation(const std::string& text) {
  return Status::error(ErrorCode::kInternal, "invariant: " + text);
}

// Visits every entry under prefix in key order, page by page; stops at the first error.
Status for_each(const StateStore& store, std::string_view prefix,
                const std::function<Status(const std::string&, const Bytes&)>& visit) {
  std::string start;
  for (;;) {
    const auto page = store.scan(prefix, start, kScanPageSize);
    for (const auto& [key, value] : page) CARBON_RETURN_IF_ERROR(visit(key, value));
    if (page.size() < kScanPageSize) return Status::ok();
    start = key_successor(page.back().first);
  }
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == separator) {
      parts.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  parts.push_back(current);
  return parts;
}

struct HeldRange {
  SerialRange range;
  std::string owner;
};

// ---- the exchange (contracts/market_records.h) ----------------------------------------------

std::string u64(std::uint64_t value) { return std::to_string(value); }

template <class T>
Result<T> decode_at(const std::string& key, const Bytes& value, std::string_view what) {
  auto decoded = core::codec::decode<T>(value);
  if (!decoded) return violation("undecodable " + std::string(what) + " at " + key);
  return decoded;
}

// A record that may be absent (nullopt), or a violation if it does not decode.
template <class T>
Result<std::optional<T>> optional_record(const StateStore& store, const std::string& key,
                                         std::string_view what) {
  const auto bytes = store.get(key);
  if (!bytes) return std::optional<T>{};
  auto decoded = decode_at<T>(key, *bytes, what);
  if (!decoded) return decoded.status();
  return std::optional<T>(std::move(*decoded));
}

Status add_to(std::uint64_t& total, std::uint64_t amount, const std::string& what) {
  auto sum = core::checked_add(total, amount);
  if (!sum) return violation(what + " overflows");
  total = *sum;
  return Status::ok();
}

struct Locks {
  std::uint64_t sell_locked_t = 0;
  std::uint64_t buy_open_t = 0;
  std::uint32_t open_offers = 0;  // resting orders and open listings (the offr/ index)
};

// Continuous trades of one product and trading day, as DayStats must summarise them.
struct DayTrades {
  std::uint64_t open_id = 0;   // the first (lowest id) trade
  std::uint64_t open_fen = 0;  // its price
  std::uint64_t high_fen = 0;
  std::uint64_t low_fen = 0;
  std::uint64_t volume_t = 0;
  std::uint64_t value_fen = 0;
  std::uint32_t trades = 0;
  std::vector<std::uint64_t> prices;  // distinct prices are few; the band-hit check reads them
};

// The exchange's records against each other: money conserved, every lock backed by what it
// locks, the book's markers and depth equal to its open orders, trades and daily statistics
// consistent. Each prefix is read once, page by page; the maps hold one entry per open order,
// owner, (owner, product) and (product, day), never per closed order or trade.
Status check_market(const StateStore& store, const Ledger& ledger) {
  auto money = optional_record<MoneySupply>(store, "mkt/money", "money supply");
  if (!money) return money.status();
  auto state = optional_record<MarketState>(store, "mkt/state", "market state");
  if (!state) return state.status();
  const MoneySupply supply = money->value_or(MoneySupply{});
  const MarketState market = state->value_or(MarketState{});

  // Funds: the accounts hold exactly what the bank put in and did not take out.
  std::map<std::string, FundAccount> funds;  // owner hex -> account
  std::uint64_t held_fen = 0;
  if (Status scanned = for_each(store, "fund/", [&](const std::string& key, const Bytes& value) {
    const auto parts = split(key, '/');
    if (parts.size() != 2 || !PublicKey::from_hex(parts[1])) return violation("malformed fund key " + key);
    auto account = decode_at<FundAccount>(key, value, "fund account");
    if (!account) return account.status();
    CARBON_RETURN_IF_ERROR(add_to(held_fen, account->available_fen, "sum of fund accounts"));
    CARBON_RETURN_IF_ERROR(add_to(held_fen, account->locked_fen, "sum of fund accounts"));
    funds.emplace(parts[1], *account);
    return Status::ok();
  }); !scanned.is_ok()) return scanned;
  if (supply.withdrawn_fen > supply.deposited_fen) {
    return violation("withdrawn " + u64(supply.withdrawn_fen) + " fen exceeds deposited " +
                     u64(supply.deposited_fen) + " fen");
  }
  if (held_fen != supply.deposited_fen - supply.withdrawn_fen) {
    return violation("fund accounts hold " + u64(held_fen) + " fen, deposited - withdrawn is " +
                     u64(supply.deposited_fen - supply.withdrawn_fen) + " fen");
  }

  // Orders: what the open ones lock, their book markers and their depth.
  std::map<std::string, std::uint64_t> locked_fen;                   // owner hex -> fen
  std::map<std::pair<std::string, std::string>, Locks> unit_locks;   // (owner hex, code)
  std::set<std::string> book_markers;
  std::set<std::string> offer_keys;                                // expected obk/ keys
  std::map<std::string, DepthLevelRecord> depth;                     // expected lvl/ records
  if (Status scanned = for_each(store, "ord/", [&](const std::string& key, const Bytes& value) {
    auto order = decode_at<OrderRecord>(key, value, "order");
    if (!order) return order.status();
    if (key != keys::order(order->id)) return violation("order under the wrong key " + key);
    if (order->id == 0 || order->id >= market.next_order_id) {
      return violation("order " + u64(order->id) + " not below the next order id " +
                       u64(market.next_order_id));
    }
    if (order->remaining_t > order->quantity_t) {
      return violation("order " + u64(order->id) + ": remaining " + u64(order->remaining_t) +
                       " t exceeds its quantity " + u64(order->quantity_t) + " t");
    }
    const std::string owner = order->owner.to_hex();
    if (!store.get(keys::owner_order(order->owner, order->id)))
      return violation("order " + u64(order->id) + " has no oown/ index entry");
    if (order->status == OrderStatus::kFilled && order->remaining_t != 0)
      return violation("filled order " + u64(order->id) + " has " + u64(order->remaining_t) + " t left");
    if (order->status != OrderStatus::kOpen) return Status::ok();
    if (order->remaining_t == 0) return violation("open order " + u64(order->id) + " has nothing left");
    const std::string code = order->product.code();
    Locks& locks = unit_locks[{owner, code}];
    if (order->side == Side::kBuy) {
      auto value_fen = core::checked_mul(order->remaining_t, order->price_fen);
      if (!value_fen || order->locked_fen < *value_fen) {
        return violation("open buy order " + u64(order->id) + " locks " + u64(order->locked_fen) +
                         " fen, less than its remainder's value");
      }
      CARBON_RETURN_IF_ERROR(add_to(locked_fen[owner], order->locked_fen, "locked funds of " + owner));
      CARBON_RETURN_IF_ERROR(add_to(locks.buy_open_t, order->remaining_t, "open buys of " + owner));
    } else {
      CARBON_RETURN_IF_ERROR(add_to(locks.sell_locked_t, order->remaining_t, "units locked by " + owner));
    }
    book_markers.insert(keys::open_order(order->product, order->id));
    offer_keys.insert(keys::offer_order(order->owner, order->product, order->id));
    ++locks.open_offers;
    DepthLevelRecord& level = depth[keys::depth_level(order->product, order->side, order->price_fen)];
    level.price_fen = order->price_fen;
    CARBON_RETURN_IF_ERROR(add_to(level.quantity_t, order->remaining_t, "depth at " + key));
    ++level.orders;
    return Status::ok();
  }); !scanned.is_ok()) return scanned;
  std::size_t markers = 0;
  if (Status scanned = for_each(store, "obk/", [&](const std::string& key, const Bytes&) {
    if (!book_markers.contains(key)) return violation("book marker " + key + " of no open order");
    ++markers;
    return Status::ok();
  }); !scanned.is_ok()) return scanned;
  if (markers != book_markers.size()) {
    for (const std::string& marker : book_markers)
      if (!store.get(marker)) return violation("open order without its book marker " + marker);
  }
  std::size_t levels = 0;
  if (Status scanned = for_each(store, "lvl/", [&](const std::string& key, const Bytes& value) {
    auto level = decode_at<DepthLevelRecord>(key, value, "depth level");
    if (!level) return level.status();
    const auto found = depth.find(key);
    if (found == depth.end())
      return violation("depth level " + key + " (" + u64(level->quantity_t) + " t) with no open order");
    const DepthLevelRecord& want = found->second;
    if (level->price_fen != want.price_fen || level->quantity_t != want.quantity_t ||
        level->orders != want.orders) {
      return violation("depth level " + key + " says " + u64(level->quantity_t) + " t in " +
                       u64(level->orders) + " orders at " + u64(level->price_fen) +
                       " fen; the open orders have " + u64(want.quantity_t) + " t in " +
                       u64(want.orders) + " at " + u64(want.price_fen) + " fen");
    }
    ++levels;
    return Status::ok();
  }); !scanned.is_ok()) return scanned;
  if (levels != depth.size()) {
    for (const auto& [key, level] : depth)
      if (!store.get(key)) return violation("no depth level " + key + " for open orders");
  }

  // Listings lock what is left of them.
  if (Status scanned = for_each(store, "lst/", [&](const std::string& key, const Bytes& value) {
    auto listing = decode_at<ListingRecord>(key, value, "listing");
    if (!listing) return listing.status();
    if (key != keys::listing(listing->id)) return violation("listing under the wrong key " + key);
    if (listing->id == 0 || listing->id >= market.next_listing_id)
      return violation("listing " + u64(listing->id) + " not below the next listing id");
    if (listing->remaining_t > listing->quantity_t) {
      return violation("listing " + u64(listing->id) + ": remaining " + u64(listing->remaining_t) +
                       " t exceeds its quantity " + u64(listing->quantity_t) + " t");
    }
    if (listing->status == ListingStatus::kSoldOut && listing->remaining_t != 0)
      return violation("sold-out listing " + u64(listing->id) + " has units left");
    if (listing->status != ListingStatus::kOpen) return Status::ok();
    if (listing->remaining_t == 0) return violation("open listing " + u64(listing->id) + " has nothing left");
    offer_keys.insert(keys::offer_listing(listing->seller, listing->product, listing->id));
    Locks& locks = unit_locks[{listing->seller.to_hex(), listing->product.code()}];
    ++locks.open_offers;
    return add_to(locks.sell_locked_t, listing->remaining_t, "units locked by listings");
  }); !scanned.is_ok()) return scanned;

  // Auctions lock their offer until cleared, and their bids' funds.
  std::map<std::uint64_t, AuctionRecord> auctions;
  std::uint32_t open_auctions = 0;
  if (Status scanned = for_each(store, "auc/", [&](const std::string& key, const Bytes& value) {
    auto auction = decode_at<AuctionRecord>(key, value, "auction");
    if (!auction) return auction.status();
    if (key != keys::auction(auction->id)) return violation("auction under the wrong key " + key);
    if (auction->id == 0 || auction->id >= market.next_auction_id)
      return violation("auction " + u64(auction->id) + " not below the next auction id");
    if (auction->sold_t > auction->quantity_t)
      return violation("auction " + u64(auction->id) + " sold more than it offered");
    auctions.emplace(auction->id, *auction);
    if (auction->status != AuctionStatus::kOpen) return Status::ok();
    ++open_auctions;
    return add_to(unit_locks[{auction->seller.to_hex(), auction->product.code()}].sell_locked_t,
                  auction->quantity_t, "units locked by auctions");
  }); !scanned.is_ok()) return scanned;
  if (open_auctions != market.open_auctions) {
    return violation(u64(open_auctions) + " open auctions, the market state counts " +
                     u64(market.open_auctions));
  }
  std::map<std::uint64_t, std::pair<std::uint64_t, std::uint64_t>> bid_totals;  // id -> (bids, t)
  std::map<std::uint64_t, std::uint64_t> filled_totals;
  if (Status scanned = for_each(store, "bid/", [&](const std::string& key, const Bytes& value) {
    auto bid = decode_at<BidRecord>(key, value, "bid");
    if (!bid) return bid.status();
    if (key != keys::bid(bid->auction_id, bid->seq))
      return violation("bid under the wrong key " + key);
    const auto auction = auctions.find(bid->auction_id);
    if (auction == auctions.end()) return violation("bid " + key + " of no auction");
    if (bid->filled_t > bid->quantity_t) return violation("bid " + key + " filled beyond its quantity");
    auto& totals = bid_totals[bid->auction_id];
    ++totals.first;
    CARBON_RETURN_IF_ERROR(add_to(totals.second, bid->quantity_t, "bid quantities"));
    CARBON_RETURN_IF_ERROR(add_to(filled_totals[bid->auction_id], bid->filled_t, "bid fills"));
    if (auction->second.status != AuctionStatus::kOpen) return Status::ok();
    return add_to(locked_fen[bid->bidder.to_hex()], bid->locked_fen, "locked funds");
  }); !scanned.is_ok()) return scanned;
  for (const auto& [id, auction] : auctions) {
    const auto totals = bid_totals[id];
    if (totals.first != auction.bids || totals.second != auction.bid_quantity_t) {
      return violation("auction " + u64(id) + " counts " + u64(auction.bids) + " bids of " +
                       u64(auction.bid_quantity_t) + " t; stored: " + u64(totals.first) + " bids of " +
                       u64(totals.second) + " t");
    }
    if (filled_totals[id] != auction.sold_t) {
      return violation("auction " + u64(id) + " sold " + u64(auction.sold_t) +
                       " t, its bids were filled " + u64(filled_totals[id]) + " t");
    }
  }

  // Every fund lock is exactly what the owner's open buy orders and open bids hold.
  for (const auto& [owner, account] : funds) {
    const auto want = locked_fen.find(owner);
    const std::uint64_t expected = want == locked_fen.end() ? 0 : want->second;
    if (account.locked_fen != expected) {
      return violation("fund account " + owner + " has " + u64(account.locked_fen) +
                       " fen locked, its open buy orders and bids lock " + u64(expected) + " fen");
    }
  }
  for (const auto& [owner, amount] : locked_fen) {
    if (amount != 0 && !funds.contains(owner))
      return violation(owner + " locks " + u64(amount) + " fen but has no fund account");
  }

  // Unit locks: each record equals its open orders, listings and auctions, and the holder
  // holds at least what is locked for sale.
  std::set<std::pair<std::string, std::string>> seen_locks;
  if (Status scanned = for_each(store, "ulk/", [&](const std::string& key, const Bytes& value) {
    const auto parts = split(key, '/');
    if (parts.size() != 3) return violation("malformed unit-lock key " + key);
    auto record = decode_at<UnitLocks>(key, value, "unit locks");
    if (!record) return record.status();
    seen_locks.insert({parts[1], parts[2]});
    const auto found = unit_locks.find({parts[1], parts[2]});
    const Locks want = found == unit_locks.end() ? Locks{} : found->second;
    if (record->open_offers != want.open_offers) {
      return violation(key + ": counts " + u64(record->open_offers) + " resting orders and open "
                       "listings; there are " + u64(want.open_offers));
    }
    if (record->sell_locked_t != want.sell_locked_t || record->buy_open_t != want.buy_open_t) {
      return violation(key + ": " + u64(record->sell_locked_t) + " t locked for sale and " +
                       u64(record->buy_open_t) + " t of open buys; the open orders, listings and "
                       "auctions say " + u64(want.sell_locked_t) + " t and " + u64(want.buy_open_t) + " t");
    }
    auto owner = PublicKey::from_hex(parts[1]);
    auto product = ProductId::from_code(parts[2]);
    if (!owner || !product) return violation("malformed unit-lock key " + key);
    auto held = ledger.balance(*owner, *product);
    if (!held) return violation("unreadable balance for " + key);
    if (*held < record->sell_locked_t) {
      return violation(key + ": " + u64(record->sell_locked_t) + " t locked for sale but only " +
                       u64(*held) + " t held");
    }
    return Status::ok();
  }); !scanned.is_ok()) return scanned;
  for (const auto& [owner_code, locks] : unit_locks) {
    if ((locks.sell_locked_t != 0 || locks.buy_open_t != 0 || locks.open_offers != 0) &&
        !seen_locks.contains(owner_code)) {
      return violation("no ulk/" + owner_code.first + "/" + owner_code.second + " record for " +
                       u64(locks.sell_locked_t) + " t locked for sale and " + u64(locks.buy_open_t) +
                       " t of open buys");
    }
  }

  // The offer index holds exactly the resting orders and open listings.
  std::size_t offers = 0;
  if (Status scanned = for_each(store, "offr/", [&](const std::string& key, const Bytes&) {
    if (!offer_keys.contains(key)) return violation("offer index entry " + key + " of no open offer");
    ++offers;
    return Status::ok();
  }); !scanned.is_ok()) return scanned;
  if (offers != offer_keys.size()) {
    for (const std::string& key : offer_keys)
      if (!store.get(key)) return violation("open offer without its index entry " + key);
  }

  // Trades: value = price x quantity, fees within it; continuous trades summed per day.
  std::map<std::pair<std::string, std::uint32_t>, DayTrades> days;  // (code, day index)
  if (Status scanned = for_each(store, "trd/", [&](const std::string& key, const Bytes& value) {
    auto trade = decode_at<TradeRecord>(key, value, "trade");
    if (!trade) return trade.status();
    const std::string code = trade->product.code();
    if (key != keys::trade(trade->product, trade->id)) return violation("trade under the wrong key " + key);
    if (trade->id == 0 || trade->id >= market.next_trade_id)
      return violation("trade " + u64(trade->id) + " not below the next trade id " + u64(market.next_trade_id));
    if (trade->price_fen == 0 || trade->quantity_t == 0) return violation("trade " + key + " of nothing");
    auto value_fen = core::checked_mul(trade->price_fen, trade->quantity_t);
    if (!value_fen || *value_fen != trade->value_fen) {
      return violation("trade " + key + ": value " + u64(trade->value_fen) + " fen is not " +
                       u64(trade->price_fen) + " fen x " + u64(trade->quantity_t) + " t");
    }
    if (trade->seller_fee_fen > trade->value_fen)
      return violation("trade " + key + ": the seller's fee exceeds the value");
    if (trade->buyer == trade->seller) return violation("trade " + key + " with oneself");
    if (trade->kind != TradeKind::kContinuous) return Status::ok();
    DayTrades& day = days[{code, trade->day_index}];  // trades are listed newest first
    if (day.trades == 0) day.high_fen = day.low_fen = trade->price_fen;
    if (day.trades == 0 || trade->id < day.open_id) {
      day.open_id = trade->id;
      day.open_fen = trade->price_fen;
    }
    day.high_fen = std::max(day.high_fen, trade->price_fen);
    day.low_fen = std::min(day.low_fen, trade->price_fen);
    CARBON_RETURN_IF_ERROR(add_to(day.volume_t, trade->quantity_t, "day volume"));
    CARBON_RETURN_IF_ERROR(add_to(day.value_fen, trade->value_fen, "day value"));
    ++day.trades;
    if (std::find(day.prices.begin(), day.prices.end(), trade->price_fen) == day.prices.end())
      day.prices.push_back(trade->price_fen);
    return Status::ok();
  }); !scanned.is_ok()) return scanned;
  std::size_t days_seen = 0;
  if (Status scanned = for_each(store, "mday/", [&](const std::string& key, const Bytes& value) {
    const auto parts = split(key, '/');
    if (parts.size() != 3) return violation("malformed day key " + key);
    auto stats = decode_at<DayStats>(key, value, "day statistics");
    if (!stats) return stats.status();
    auto product = ProductId::from_code(parts[1]);
    if (!product || key != keys::day_stats(*product, stats->day_index))
      return violation("day statistics under the wrong key " + key);
    if (stats->band_low_fen > stats->band_high_fen) return violation(key + ": band low above band high");
    const auto found = days.find({parts[1], stats->day_index});
    const DayTrades none;
    const DayTrades& want = found == days.end() ? none : found->second;
    if (found != days.end()) ++days_seen;
    if (stats->volume_t != want.volume_t || stats->value_fen != want.value_fen ||
        stats->trades != want.trades) {
      return violation(key + ": " + u64(stats->trades) + " trades, " + u64(stats->volume_t) + " t, " +
                       u64(stats->value_fen) + " fen; its continuous trades: " + u64(want.trades) +
                       ", " + u64(want.volume_t) + " t, " + u64(want.value_fen) + " fen");
    }
    if (want.trades > 0 && (stats->open_fen != want.open_fen || stats->high_fen != want.high_fen ||
                            stats->low_fen != want.low_fen)) {
      return violation(key + ": open/high/low " + u64(stats->open_fen) + "/" + u64(stats->high_fen) +
                       "/" + u64(stats->low_fen) + " fen; its trades: " + u64(want.open_fen) + "/" +
                       u64(want.high_fen) + "/" + u64(want.low_fen) + " fen");
    }
    bool at_edge = false;
    for (std::uint64_t price : want.prices)
      at_edge = at_edge || price == stats->band_low_fen || price == stats->band_high_fen;
    if ((stats->band_hit != 0) != at_edge) {
      return violation(key + (at_edge ? ": a trade at a band edge but no band hit"
                                      : ": a band hit without a trade at a band edge"));
    }
    if (stats->closed) {
      // VWAP rounded half up, or the previous close with no trade.
      const std::uint64_t close =
          want.volume_t == 0
              ? stats->prev_close_fen
              : static_cast<std::uint64_t>((2 * static_cast<unsigned __int128>(want.value_fen) + want.volume_t) /
                                           (2 * static_cast<unsigned __int128>(want.volume_t)));
      if (stats->close_fen != close) {
        return violation(key + ": close " + u64(stats->close_fen) + " fen, expected " + u64(close) + " fen");
      }
    }
    return Status::ok();
  }); !scanned.is_ok()) return scanned;
  if (days_seen != days.size()) {
    for (const auto& [day, trades] : days) {
      auto product = ProductId::from_code(day.first);
      if (!product || !store.get(keys::day_stats(*product, day.second)))
        return violation("continuous trades of " + day.first + " on day " + u64(day.second) +
                         " but no day statistics");
    }
  }
  return Status::ok();
}

}  // namespace

Status check_invariants(const StateStore& store) {
  const Ledger ledger(store);
  std::map<std::string, ProductState> products;  // by code
  CARBON_RETURN_IF_ERROR(for_each(store, "prod/", [&](const std::string& key, const Bytes& value) {
    auto state = core::codec::decode<ProductState>(value);
    if (!state) return violation("undecodable product record " + key);
    if (key != keys::product(state->product))
      return violation("product record under the wrong key " + key);
    products.emplace(state->product.code(), *state);
    return Status::ok();
  }));

  std::map<std::string, std::vector<HeldRange>> ranges_by_product;    // code -> ranges
  std::map<std::pair<std::string, std::string>, std::uint64_t> sums;  // (owner, code) -> t
  CARBON_RETURN_IF_ERROR(for_each(store, "hold/", [&](const std::string& key, const Bytes& value) {
    const auto parts = split(key, '/');
    if (parts.size() != 4) return violation("malformed holding key " + key);
    const auto found = products.find(parts[2]);
    if (found == products.end()) return violation("holding of an unknown product: " + key);
    const ProductId& product = found->second.product;
    auto range = core::codec::decode<SerialRange>(value);
    if (!range) return violation("undecodable holding " + key);
    if (range->start >= range->end) return violation("empty or negative range at " + key);
    auto owner = PublicKey::from_hex(parts[1]);
    if (!owner) return violation("bad owner in " + key);
    if (key != keys::holding(*owner, product, range->end))
      return violation("range under the wrong key " + key);
    auto account = ledger.account(*owner);
    if (!account || !*account) return violation("holder is not a registered participant: " + key);
    if (!role_may_hold((*account)->role, product.kind))
      return violation("holder's role may not hold: " + key);
    ranges_by_product[parts[2]].push_back(HeldRange{*range, parts[1]});
    auto& sum = sums[{parts[1], parts[2]}];
    auto added = core::checked_add(sum, range->size());
    if (!added) return violation("holding sum overflows at " + key);
    sum = *added;
    return Status::ok();
  }));

  // Retired ranges: surrendered, cancelled or withdrawn, each once.
  std::map<std::string, std::uint64_t> surrendered_by_product;
  std::map<std::string, std::uint64_t> cancelled_by_product;
  CARBON_RETURN_IF_ERROR(for_each(store, "ret/", [&](const std::string& key, const Bytes& value) {
    auto retired = core::codec::decode<RetiredRange>(value);
    if (!retired) return violation("undecodable retired range " + key);
    if (retired->range.start >= retired->range.end) return violation("empty retired range " + key);
    if (key != keys::retired(retired->product, retired->range.start))
      return violation("retired range under the wrong key " + key);
    const std::string code = retired->product.code();
    if (products.find(code) == products.end()) return violation("retired range of an unknown product " + key);
    ranges_by_product[code].push_back(HeldRange{retired->range, "retired"});
    auto& total = retired->kind == RetirementKind::kSurrendered ? surrendered_by_product[code]
                                                                 : cancelled_by_product[code];
    total += retired->range.size();  // bounded by next_serial, checked below
    return Status::ok();
  }));

  std::size_t balance_count = 0;
  CARBON_RETURN_IF_ERROR(for_each(store, "bal/", [&](const std::string& key, const Bytes& value) {
    const auto parts = split(key, '/');
    if (parts.size() != 3) return violation("malformed balance key " + key);
    auto record = core::codec::decode<BalanceRecord>(value);
    if (!record || record->held_t == 0) return violation("undecodable or zero balance at " + key);
    if (store.get("hist/" + parts[1] + "/" + parts[2]))
      return violation("history kept twice (bal/ and hist/) for " + key);
    const std::uint64_t balance = record->held_t;
    const auto sum = sums.find({parts[1], parts[2]});
    if (sum == sums.end() || sum->second != balance) {
      return violation("balance " + std::to_string(balance) + " at " + key +
                       " differs from its ranges' sum " +
                       std::to_string(sum == sums.end() ? 0 : sum->second));
    }
    ++balance_count;
    return Status::ok();
  }));
  if (balance_count != sums.size()) return violation("a holder has ranges but no balance record");
  CARBON_RETURN_IF_ERROR(for_each(store, "hist/", [&](const std::string& key, const Bytes& value) {
    auto history = core::codec::decode<HolderHistory>(value);
    if (!history || *history == HolderHistory{}) return violation("undecodable or empty history at " + key);
    return Status::ok();
  }));

  for (const auto& [code, state] : products) {
    auto& ranges = ranges_by_product[code];
    std::sort(ranges.begin(), ranges.end(),
              [](const HeldRange& a, const HeldRange& b) { return a.range.start < b.range.start; });
    std::uint64_t held = 0;
    std::uint64_t expected = 1;  // held and retired ranges together tile [1, next_serial)
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (ranges[i].range.start != expected) {
        return violation(code + (ranges[i].range.start < expected ? ": overlapping ranges at serial "
                                                                  : ": serial neither held nor retired: ") +
                         std::to_string(std::min(expected, ranges[i].range.start)));
      }
      expected = ranges[i].range.end;
      if (ranges[i].owner != "retired") held += ranges[i].range.size();  // bounded by next_serial
      if (i == 0) continue;
      const HeldRange& previous = ranges[i - 1];
      if (previous.range.end == ranges[i].range.start && previous.owner == ranges[i].owner &&
          previous.owner != "retired") {
        return violation(code + ": adjacent ranges of one holder not merged at serial " +
                         std::to_string(ranges[i].range.start));
      }
    }
    if (expected < state.next_serial) {
      return violation(code + ": serials " + std::to_string(expected) + ".. issued but neither held nor retired");
    }
    if (expected > state.next_serial) {
      return violation(code + ": serials " + std::to_string(state.next_serial) + ".. held but never issued");
    }
    if (surrendered_by_product[code] != state.surrendered_t || cancelled_by_product[code] != state.cancelled_t) {
      return violation(code + ": retired ranges (" + std::to_string(surrendered_by_product[code]) + " t surrendered, " +
                       std::to_string(cancelled_by_product[code]) + " t cancelled) differ from the product's totals");
    }
    auto accounted = core::checked_add(held, state.retired_t());
    if (!accounted || *accounted != state.issued_t) {
      return violation(code + ": issued " + std::to_string(state.issued_t) + " t != held " +
                       std::to_string(held) + " t + surrendered " + std::to_string(state.surrendered_t) +
                       " t + cancelled " + std::to_string(state.cancelled_t) + " t");
    }
    if (state.next_serial != state.issued_t + 1) {
      return violation(code + ": next serial " + std::to_string(state.next_serial) +
                       " after issuing " + std::to_string(state.issued_t) + " t");
    }
  }
  return check_market(store, ledger);
}

}  // namespace carbon::contracts
