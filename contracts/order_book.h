// The matching engine of the exchange (issue 5): a continuous limit-order book for ONE product,
// pure and deterministic. It knows nothing of funds, units, fees, bands or the state store;
// the ledger validates an order (band, trading hours, locked funds or units), calls add(), and
// settles the fills it returns (delivery versus payment) in the same transaction.
//
// Prices are integer fen per tonne (tick 1 fen); quantities whole tonnes. Order ids are assigned
// by the caller and must be strictly increasing across adds (an id is "used" only when add()
// accepts the order, including when it fills at once).
//
// Matching: price-time priority. An incoming order matches resting orders of the other side
// whose price is at least as good as its limit, best price first and, within a price, oldest
// (lowest id) first; each fill is at the RESTING (maker) order's price. Partial fills of
// taker and maker. The unfilled remainder rests at its limit price.
//
// Self-trade prevention: cancel-resting. When the next resting order the incoming order would
// match belongs to the same owner, that resting order is cancelled (its whole remainder, reported
// in AddResult::self_trade_cancelled) and matching continues with the next resting order. The
// incoming order is never reduced by self-trade prevention.
//
// Bounds (BookLimits; defaults are the named constants below):
//   - at most max_resting_orders rest in the book. When an incoming order's remainder would rest
//     in a full book, the remainder is cancelled (RemainderOutcome::kCancelledBookFull); fills
//     already made stand.
//   - at most max_match_steps_per_add match steps per add, where a step is one fill or one
//     self-trade cancellation. When the limit is reached while the order could still match,
//     the remainder is CANCELLED (RemainderOutcome::kCancelledStepLimit), never rested: resting
//     it would leave a crossed book. The caller may submit a new order for the rest.
//   - price in [1, kMaxPriceFen], quantity in [1, kMaxQuantityPerTx]; ids strictly increasing.
//   - depth() returns at most kMaxDepthLevels levels per side.
//   - expire_day_orders() visits each id-index entry once (at most 2 * max_resting_orders + 1024).
//
// Data structure and complexity (n resting orders, L price levels on a side):
//   - Orders live in a pooled std::vector of nodes with a free list; each price level is an
//     intrusive doubly linked FIFO list of node indices. No heap allocation per order once the
//     pool has grown to the book's high-water mark.
//   - Price levels: per side an ordered std::map price -> level (std::greater for bids, so the
//     best price is begin() on both sides). libstdc++ keeps begin() cached, so the best level is
//     O(1); finding or creating a level by price is O(log L); removing the emptied best level
//     while matching is amortised O(1) (erase by iterator), any other emptied level O(log L)
//     (erase by price). Each node points at its level, so a fill or cancel needs no lookup to
//     update the level's list and total. Map nodes come from a std::pmr unsynchronized pool owned
//     by the book, so levels that empty and refill reuse memory instead of calling the allocator.
//     A map rather than a dense price array because the engine must accept any price the band
//     allows and prices of a thinly traded product are sparse.
//   - Id index: a vector of (id, node) appended in id order (ids increase, so it stays sorted),
//     compacted when stale entries outnumber live ones (amortised O(1) per order), so it holds
//     at most 2 * max_resting_orders + 1024 entries whatever the gaps between ids. An id has at
//     most id - first entries before it and at most last - id after it: when ids are dense it
//     sits exactly at one of these two bounds (O(1)), otherwise a binary search between them,
//     O(log n) at worst and short for a recent id (the usual cancel).
//   - add: O(log L + k) for k match steps (plus amortised O(1) per emptied level);
//     cancel: O(1) for dense ids, O(log n) otherwise, plus O(1) to unlink and O(log L) only
//     when it empties its level: no more than an add (which also appends to the id index);
//     best_bid/best_ask: O(1); depth(N): O(N); find: as cancel; expire_day_orders:
//     O(n log L) at worst (each emptied level is erased by price).
//
// Determinism: no clock, randomness, floating point or unordered containers; results depend
// only on the sequence of calls. Iteration is in price order (levels) or id order (expiry).
//
// Errors: Status/Result for every refused call (kInvalidArgument: zero or too large price or
// quantity; kConflict: id not increasing or duplicate; kNotFound: no such resting order;
// kUnauthorized: cancel by someone other than the owner). CARBON_ASSERT guards internal
// invariants only.
//
// Thread safety: none; one book is used by one thread at a time.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory_resource>
#include <optional>
#include <vector>

#include "contracts/limits.h"
#include "contracts/market_calls.h"
#include "core/keys.h"
#include "core/status.h"

namespace carbon::contracts {

using core::Result;
using core::Status;

// Most orders resting in one book.
inline constexpr std::size_t kMaxRestingOrders = 100'000;
// Most match steps (fills plus self-trade cancellations) one add may make.
inline constexpr std::size_t kMaxMatchStepsPerAdd = 1'000;
// Highest limit price accepted (10 million yuan per tonne; far above any band).
inline constexpr std::uint64_t kMaxPriceFen = 1'000'000'000ULL;
// Most levels per side depth() returns.
inline constexpr std::size_t kMaxDepthLevels = 1'000;

// Side and TimeInForce come from contracts/market_calls.h (the orders' wire types).

struct Order {
  std::uint64_t id = 0;
  core::PublicKey owner;
  Side side = Side::kBuy;
  std::uint64_t price_fen = 0;  // limit price per tonne
  std::uint64_t quantity_t = 0;
  TimeInForce tif = TimeInForce::kDay;
};

struct Fill {
  std::uint64_t maker_id = 0;
  std::uint64_t taker_id = 0;
  core::PublicKey maker_owner;
  core::PublicKey taker_owner;
  Side taker_side = Side::kBuy;
  std::uint64_t price_fen = 0;  // the resting maker's price
  std::uint64_t quantity_t = 0;
  std::uint64_t maker_remaining_t = 0;  // what is left of the maker after this fill (0: gone)
  friend bool operator==(const Fill&, const Fill&) = default;
};

// A resting order as it is now (quantity_t is the unfilled remainder).
struct RestingOrder {
  std::uint64_t id = 0;
  core::PublicKey owner;
  Side side = Side::kBuy;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  TimeInForce tif = TimeInForce::kDay;
  friend bool operator==(const RestingOrder&, const RestingOrder&) = default;
};

enum class RemainderOutcome : std::uint8_t {
  kNone = 0,                // the incoming order filled completely
  kRests = 1,               // the remainder rests in the book under the order's id
  kCancelledStepLimit = 2,  // max_match_steps_per_add reached while still crossing
  kCancelledBookFull = 3,   // the book already holds max_resting_orders
};

struct AddResult {
  std::vector<Fill> fills;                         // in matching order
  std::vector<RestingOrder> self_trade_cancelled;  // resting orders removed, in matching order
  std::uint64_t filled_t = 0;                      // sum of fills' quantities
  std::uint64_t remainder_t = 0;                   // quantity_t - filled_t
  RemainderOutcome remainder = RemainderOutcome::kNone;
  void clear() {
    fills.clear();
    self_trade_cancelled.clear();
    filled_t = 0;
    remainder_t = 0;
    remainder = RemainderOutcome::kNone;
  }
};

struct DepthLevel {
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;  // total remaining quantity at this price
  std::uint32_t orders = 0;
  friend bool operator==(const DepthLevel&, const DepthLevel&) = default;
};

struct Depth {
  std::vector<DepthLevel> bids;  // best (highest) first
  std::vector<DepthLevel> asks;  // best (lowest) first
  friend bool operator==(const Depth&, const Depth&) = default;
};

struct BookLimits {
  std::size_t max_resting_orders = kMaxRestingOrders;
  std::size_t max_match_steps_per_add = kMaxMatchStepsPerAdd;
};

class OrderBook {
 public:
  explicit OrderBook(BookLimits limits = {});
  OrderBook(const OrderBook&) = delete;
  OrderBook& operator=(const OrderBook&) = delete;

  // Matches `order` and rests its remainder. Refused (nothing changes) for a zero or too large
  // price or quantity, or an id not above every id accepted before.
  Result<AddResult> add(const Order& order);
  // The same, writing into a caller-owned result (cleared first) so its vectors' capacity is
  // reused: no allocation per call in the steady state.
  Status add(const Order& order, AddResult& out);

  // Cancels a resting order of `owner`. kNotFound if no order with this id rests (never placed,
  // filled, cancelled or expired); kUnauthorized if it belongs to someone else (nothing changes).
  Result<RestingOrder> cancel(std::uint64_t id, const core::PublicKey& owner);

  // Removes every resting day order; returns them in id order (for the ledger to release their
  // locks). Good-till-cancelled orders stay.
  std::vector<RestingOrder> expire_day_orders();

  std::optional<DepthLevel> best_bid() const;
  std::optional<DepthLevel> best_ask() const;
  // The best `levels_per_side` levels of each side (clamped to kMaxDepthLevels).
  Depth depth(std::size_t levels_per_side) const;
  std::optional<RestingOrder> find(std::uint64_t id) const;

  std::size_t resting_orders() const { return live_; }
  std::size_t bid_levels() const { return bids_.size(); }
  std::size_t ask_levels() const { return asks_.size(); }
  // The highest id accepted so far (0 before the first).
  std::uint64_t last_id() const { return last_id_; }
  const BookLimits& limits() const { return limits_; }

  // Checks every internal invariant (links, level totals, id index); for tests. O(n).
  Status check_invariants() const;

 private:
  static constexpr std::uint32_t kNil = UINT32_MAX;

  struct Level {
    std::uint32_t head = kNil;
    std::uint32_t tail = kNil;
    std::uint64_t total_t = 0;
    std::uint32_t count = 0;
  };
  using BidMap = std::pmr::map<std::uint64_t, Level, std::greater<std::uint64_t>>;
  using AskMap = std::pmr::map<std::uint64_t, Level, std::less<std::uint64_t>>;

  struct Node {
    std::uint64_t id = 0;
    std::uint64_t price_fen = 0;
    std::uint64_t quantity_t = 0;
    std::uint32_t prev = kNil;
    std::uint32_t next = kNil;  // also the free-list link
    Side side = Side::kBuy;
    TimeInForce tif = TimeInForce::kDay;
    bool live = false;
    Level* level = nullptr;  // map nodes are stable while the level exists
    core::PublicKey owner;
  };
  struct IdEntry {
    std::uint64_t id;
    std::uint32_t node;
  };

  template <class Map>
  void match(Map& book, const Order& order, std::uint64_t& remaining, AddResult& out);
  template <class Map>
  void rest(Map& book, const Order& order, std::uint64_t quantity_t);

  std::uint32_t allocate_node();
  void free_node(std::uint32_t index);
  void unlink(Node& node, std::uint32_t index, Level& level);
  // Removes a resting order entirely (unlink, drop its level if emptied, free the node).
  void remove_resting(std::uint32_t index);
  std::uint32_t lookup(std::uint64_t id) const;  // kNil if not resting
  void index_append(std::uint64_t id, std::uint32_t node);
  RestingOrder view(const Node& node) const;

  BookLimits limits_;
  std::pmr::unsynchronized_pool_resource level_pool_;
  BidMap bids_;
  AskMap asks_;
  std::vector<Node> nodes_;
  std::uint32_t free_head_ = kNil;
  std::size_t live_ = 0;
  std::vector<IdEntry> ids_;
  std::uint64_t last_id_ = 0;
};

}  // namespace carbon::contracts
