// The exchange's records in the contract state (issue 5). Key layout (numbers fixed-width
// lower-case hex so key order is number order; <key> a 64-hex public key; <product> is
// ProductId::code()):
//
//   mkt/params                          MarketParamsRecord  parameters, fee account, version
//   mkt/state                           MarketState         trading day, id counters
//   mkt/money                           MoneySupply         deposits and withdrawals so far
//   mkt/prod/<product>                  ProductMarket       listing, previous close, halt,
//                                                           last trade, band-hit window
//   fund/<key>                          FundAccount         available and locked fen
//   bank/<bank_ref>                     BankMovement        each attested movement, once
//   ulk/<key>/<product>                 UnitLocks           units locked for sale, open buys
//   ord/<id:016x>                       OrderRecord         every order, open or done
//   obk/<product>/<id:016x>             (empty)             open orders of a product
//   oown/<key>/<~id:016x>               (empty)             a participant's orders, newest first
//   offr/<key>/<product>/o<id:016x>     (empty)             its resting orders, by product
//   offr/<key>/<product>/l<id:016x>     (empty)             its open listings, by product
//   lvl/<product>/b/<~price:016x>       DepthLevel          aggregated bids, best first
//   lvl/<product>/s/<price:016x>        DepthLevel          aggregated asks, best first
//   trd/<product>/<~id:016x>            TradeRecord         every trade of every kind, newest first
//   mday/<product>/<~day:08x>           DayStats            per trading day: OHLCV, VWAP, newest first
//   lst/<id:016x>                       ListingRecord       fixed-price listings
//   auc/<id:016x>                       AuctionRecord       sealed-bid auctions
//   bid/<auction:016x>/<seq:08x>        BidRecord           the bids of an auction
//   rel/<key>/<key>                     (empty)             related accounts (both ways)
//   alrt/<~id:016x>                     AlertRecord         surveillance alerts, newest first
//   (~x: the bitwise complement, so that the store's forward scan lists the newest first)
//   stab/<product>                      StabilisationTrigger raised trigger and mandates
//   mand/<key>/<product>                Mandate             reserve instruction remaining
//
// Money: every fen is in some FundAccount; the sum over all accounts of available + locked
// equals deposited - withdrawn (contracts/invariants.cc checks it after every block).
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "contracts/basics.h"
#include "contracts/market_calls.h"

namespace carbon::contracts {

inline constexpr std::size_t kMaxListedProducts = 256;
inline constexpr std::size_t kMaxBidsPerAuction = 1'000;
inline constexpr std::size_t kMaxOpenAuctions = 64;

struct MarketParamsRecord {
  MarketParams params;
  PublicKey fee_account;  // the exchange that set the parameters
  std::uint32_t version = 0;  // 0: the defaults, never set
  Height effective_height = 0;
  std::uint64_t effective_ms = 0;
  template <class A>
  void serialize(A& archive) {
    archive(params, fee_account, version, effective_height, effective_ms);
  }
};

struct MarketState {
  std::uint8_t day_open = 0;
  std::uint32_t day_index = 0;  // trading days opened so far; the open day's number
  std::uint32_t day_date = 0;   // yyyymmdd (Beijing time) of the last opened day
  std::uint64_t day_opened_ms = 0;
  std::uint64_t next_order_id = 1;
  std::uint64_t next_trade_id = 1;
  std::uint64_t next_listing_id = 1;
  std::uint64_t next_auction_id = 1;
  std::uint64_t next_alert_id = 1;
  std::uint32_t open_auctions = 0;
  template <class A>
  void serialize(A& archive) {
    flag_field(archive, day_open);
    archive(day_index, day_date, day_opened_ms, next_order_id, next_trade_id, next_listing_id,
            next_auction_id, next_alert_id, open_auctions);
  }
};

struct MoneySupply {
  std::uint64_t deposited_fen = 0;
  std::uint64_t withdrawn_fen = 0;
  template <class A>
  void serialize(A& archive) {
    archive(deposited_fen, withdrawn_fen);
  }
};

struct FundAccount {
  std::uint64_t available_fen = 0;
  std::uint64_t locked_fen = 0;  // for open buy orders and auction bids
  friend bool operator==(const FundAccount&, const FundAccount&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(available_fen, locked_fen);
  }
};

enum class BankMovementKind : std::uint8_t { kDeposit = 0, kWithdrawal = 1 };
inline constexpr BankMovementKind kMaxBankMovementKind = BankMovementKind::kWithdrawal;

struct BankMovement {
  PublicKey account;
  BankMovementKind kind = BankMovementKind::kDeposit;
  std::uint64_t amount_fen = 0;
  PublicKey bank;
  Height height = 0;
  std::uint64_t time_ms = 0;
  template <class A>
  void serialize(A& archive) {
    archive(account);
    enum_field<A, BankMovementKind, kMaxBankMovementKind>(archive, kind);
    archive(amount_fen, bank, height, time_ms);
  }
};

// Per holder and product (ulk/<key>/<product>; absent when all zero).
struct UnitLocks {
  std::uint64_t sell_locked_t = 0;  // open sell orders, listings and auctions
  std::uint64_t buy_open_t = 0;     // open buy orders (position limits count them)
  std::uint32_t open_offers = 0;    // resting orders (both sides) and open listings
  bool empty() const { return sell_locked_t == 0 && buy_open_t == 0 && open_offers == 0; }
  template <class A>
  void serialize(A& archive) {
    archive(sell_locked_t, buy_open_t, open_offers);
  }
};
// Most resting orders and open listings one participant may have in one product: bounds what
// freezing an account or retiring its units must cancel.
inline constexpr std::uint32_t kMaxOpenOffersPerProduct = 10'000;

struct ProductMarket {
  ProductId product;
  std::uint64_t reference_price_fen = 0;
  std::uint64_t prev_close_fen = 0;  // the band's centre
  std::uint8_t halted = 0;
  std::uint64_t last_price_fen = 0;  // last trade of any kind (0: none yet)
  std::uint64_t last_trade_id = 0;
  std::uint64_t last_trade_ms = 0;
  std::uint64_t band_hit_days = 0;  // bit i: the i-th most recent closed trading day hit the band
  std::uint32_t days_closed = 0;
  std::uint8_t trigger_raised = 0;
  template <class A>
  void serialize(A& archive) {
    archive(product, reference_price_fen, prev_close_fen);
    flag_field(archive, halted);
    archive(last_price_fen, last_trade_id, last_trade_ms, band_hit_days, days_closed);
    flag_field(archive, trigger_raised);
  }
};

enum class OrderStatus : std::uint8_t { kOpen = 0, kFilled = 1, kCancelled = 2, kExpired = 3 };
inline constexpr OrderStatus kMaxOrderStatus = OrderStatus::kExpired;
std::string_view order_status_name(OrderStatus status);

// Why an order stopped resting (kCancelled and kExpired).
enum class OrderEnd : std::uint8_t {
  kNone = 0,
  kByOwner = 1,
  kByExchange = 2,
  kSelfTrade = 3,       // cancel-resting self-trade prevention
  kStepLimit = 4,       // remainder cancelled: too many matches in one transaction
  kBookFull = 5,        // remainder cancelled: the book holds its maximum of resting orders
  kDayClose = 6,        // a day order at the close
  kRetired = 7,         // the authority retired the units it offered (withdrawal, year close)
  kOutsideBand = 8,     // a GTC order priced outside the next day's band, at the close
  kFrozen = 9,          // the authority froze the owner's account
};
inline constexpr OrderEnd kMaxOrderEnd = OrderEnd::kFrozen;
std::string_view order_end_name(OrderEnd end);

struct OrderRecord {
  std::uint64_t id = 0;
  PublicKey owner;
  ProductId product;
  Side side = Side::kBuy;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  std::uint64_t remaining_t = 0;
  TimeInForce tif = TimeInForce::kDay;
  std::uint8_t intervention = 0;
  OrderStatus status = OrderStatus::kOpen;
  OrderEnd end = OrderEnd::kNone;
  std::uint64_t locked_fen = 0;   // buy: funds still locked for the remainder (with fee)
  std::uint64_t filled_value_fen = 0;
  Height placed_height = 0;
  std::uint64_t placed_ms = 0;
  std::uint32_t day_index = 0;
  // The fee rate in force when the order was placed: its lock was computed with it, and its
  // fills pay it, whatever the exchange sets later (a raise must not break a lock).
  std::uint32_t fee_bp = 0;
  template <class A>
  void serialize(A& archive) {
    archive(id, owner, product);
    enum_field<A, Side, kMaxSide>(archive, side);
    archive(price_fen, quantity_t, remaining_t);
    enum_field<A, TimeInForce, kMaxTimeInForce>(archive, tif);
    flag_field(archive, intervention);
    enum_field<A, OrderStatus, kMaxOrderStatus>(archive, status);
    enum_field<A, OrderEnd, kMaxOrderEnd>(archive, end);
    archive(locked_fen, filled_value_fen, placed_height, placed_ms, day_index, fee_bp);
  }
};

struct DepthLevelRecord {
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  std::uint32_t orders = 0;
  template <class A>
  void serialize(A& archive) {
    archive(price_fen, quantity_t, orders);
  }
};

enum class TradeKind : std::uint8_t { kContinuous = 0, kFixedPrice = 1, kBlock = 2, kAuction = 3 };
inline constexpr TradeKind kMaxTradeKind = TradeKind::kAuction;
std::string_view trade_kind_name(TradeKind kind);

// One settled trade. Its legs net to zero: the buyer paid value + buyer_fee, the seller
// received value - seller_fee, the exchange received both fees.
struct TradeRecord {
  std::uint64_t id = 0;
  ProductId product;
  TradeKind kind = TradeKind::kContinuous;
  PublicKey buyer;
  PublicKey seller;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  std::uint64_t value_fen = 0;
  std::uint64_t buyer_fee_fen = 0;
  std::uint64_t seller_fee_fen = 0;
  std::uint64_t buy_ref = 0;   // order, listing or auction id on the buy side (0: none)
  std::uint64_t sell_ref = 0;
  Side aggressor = Side::kBuy;  // continuous: the taker's side
  std::uint8_t intervention = 0;
  std::uint8_t related = 0;     // buyer and seller are related accounts (alert raised)
  Height height = 0;
  std::uint64_t time_ms = 0;
  std::uint32_t day_index = 0;
  template <class A>
  void serialize(A& archive) {
    archive(id, product);
    enum_field<A, TradeKind, kMaxTradeKind>(archive, kind);
    archive(buyer, seller, price_fen, quantity_t, value_fen, buyer_fee_fen, seller_fee_fen,
            buy_ref, sell_ref);
    enum_field<A, Side, kMaxSide>(archive, aggressor);
    flag_field(archive, intervention);
    flag_field(archive, related);
    archive(height, time_ms, day_index);
  }
};

// One product's trading day. OHLC and VWAP are of continuous trades; other_* count the
// fixed-price, block and auction trades of the day.
struct DayStats {
  std::uint32_t day_index = 0;
  std::uint32_t date = 0;  // yyyymmdd, Beijing time
  std::uint64_t prev_close_fen = 0;
  std::uint64_t band_low_fen = 0;
  std::uint64_t band_high_fen = 0;
  std::uint64_t open_fen = 0;
  std::uint64_t high_fen = 0;
  std::uint64_t low_fen = 0;
  std::uint64_t close_fen = 0;  // set at the close: VWAP, or prev_close if no trade
  std::uint64_t volume_t = 0;
  std::uint64_t value_fen = 0;
  std::uint32_t trades = 0;
  std::uint64_t other_volume_t = 0;
  std::uint64_t other_value_fen = 0;
  std::uint8_t band_hit = 0;  // a continuous trade at a band edge
  std::uint8_t closed = 0;
  std::uint64_t vwap_fen() const;  // value / volume rounded half up; 0 with no volume
  template <class A>
  void serialize(A& archive) {
    archive(day_index, date, prev_close_fen, band_low_fen, band_high_fen, open_fen, high_fen,
            low_fen, close_fen, volume_t, value_fen, trades, other_volume_t, other_value_fen);
    flag_field(archive, band_hit);
    flag_field(archive, closed);
  }
};

enum class ListingStatus : std::uint8_t { kOpen = 0, kSoldOut = 1, kCancelled = 2 };
inline constexpr ListingStatus kMaxListingStatus = ListingStatus::kCancelled;
std::string_view listing_status_name(ListingStatus status);

struct ListingRecord {
  std::uint64_t id = 0;
  PublicKey seller;
  ProductId product;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  std::uint64_t remaining_t = 0;
  ListingStatus status = ListingStatus::kOpen;
  Height created_height = 0;
  std::uint64_t created_ms = 0;
  template <class A>
  void serialize(A& archive) {
    archive(id, seller, product, price_fen, quantity_t, remaining_t);
    enum_field<A, ListingStatus, kMaxListingStatus>(archive, status);
    archive(created_height, created_ms);
  }
};

enum class AuctionStatus : std::uint8_t { kOpen = 0, kCleared = 1 };
inline constexpr AuctionStatus kMaxAuctionStatus = AuctionStatus::kCleared;
std::string_view auction_status_name(AuctionStatus status);

struct AuctionRecord {
  std::uint64_t id = 0;
  PublicKey exchange;
  PublicKey seller;
  ProductId product;
  std::uint64_t quantity_t = 0;
  std::uint64_t reserve_price_fen = 0;
  std::uint64_t close_ms = 0;
  std::uint16_t restricted_year = 0;
  AuctionStatus status = AuctionStatus::kOpen;
  std::uint32_t bids = 0;
  std::uint64_t bid_quantity_t = 0;
  std::uint64_t clearing_price_fen = 0;  // 0: nothing sold
  std::uint64_t sold_t = 0;
  Height created_height = 0;
  std::uint64_t created_ms = 0;
  Height cleared_height = 0;
  template <class A>
  void serialize(A& archive) {
    archive(id, exchange, seller, product, quantity_t, reserve_price_fen, close_ms,
            restricted_year);
    enum_field<A, AuctionStatus, kMaxAuctionStatus>(archive, status);
    archive(bids, bid_quantity_t, clearing_price_fen, sold_t, created_height, created_ms,
            cleared_height);
  }
};

struct BidRecord {
  std::uint64_t auction_id = 0;
  std::uint32_t seq = 0;  // arrival order: the tie-break at the clearing price
  PublicKey bidder;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  std::uint64_t locked_fen = 0;  // until the clearing
  std::uint64_t filled_t = 0;    // set at the clearing
  Height height = 0;
  std::uint32_t fee_bp = 0;      // the auction fee rate when the bid was placed (its lock's)
  template <class A>
  void serialize(A& archive) {
    archive(auction_id, seq, bidder, price_fen, quantity_t, locked_fen, filled_t, height, fee_bp);
  }
};

enum class AlertKind : std::uint8_t { kRelatedTrade = 0, kStabilisationTrigger = 1 };
inline constexpr AlertKind kMaxAlertKind = AlertKind::kStabilisationTrigger;
std::string_view alert_kind_name(AlertKind kind);

struct AlertRecord {
  std::uint64_t id = 0;
  AlertKind kind = AlertKind::kRelatedTrade;
  ProductId product;
  std::uint64_t trade_id = 0;  // kRelatedTrade
  PublicKey buyer;
  PublicKey seller;
  std::uint32_t band_hits = 0;  // kStabilisationTrigger: hits within the window
  Height height = 0;
  std::uint64_t time_ms = 0;
  template <class A>
  void serialize(A& archive) {
    archive(id);
    enum_field<A, AlertKind, kMaxAlertKind>(archive, kind);
    archive(product, trade_id, buyer, seller, band_hits, height, time_ms);
  }
};

struct StabilisationTrigger {
  ProductId product;
  std::uint8_t raised = 0;
  std::uint32_t band_hits = 0;
  std::uint32_t window_days = 0;
  std::uint32_t raised_day = 0;
  std::uint64_t raised_ms = 0;
  template <class A>
  void serialize(A& archive) {
    archive(product);
    flag_field(archive, raised);
    archive(band_hits, window_days, raised_day, raised_ms);
  }
};

// What the authority instructed the reserve to trade in intervention orders, still unused.
struct Mandate {
  std::uint64_t sell_remaining_t = 0;
  std::uint64_t buy_remaining_t = 0;
  template <class A>
  void serialize(A& archive) {
    archive(sell_remaining_t, buy_remaining_t);
  }
};

}  // namespace carbon::contracts
