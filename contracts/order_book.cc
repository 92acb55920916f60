#include "contracts/order_book.h"

#include <algorithm>
#include <string>

namespace carbon::contracts {

using core::ErrorCode;

OrderBook::OrderBook(BookLimits limits)
    : limits_(limits), bids_(&level_pool_), asks_(&level_pool_) {
  CARBON_ASSERT(limits_.max_resting_orders > 0);
  CARBON_ASSERT(limits_.max_resting_orders < kNil);
  CARBON_ASSERT(limits_.max_match_steps_per_add > 0);
}

RestingOrder OrderBook::view(const Node& node) const {
  return RestingOrder{node.id, node.owner, node.side, node.price_fen, node.quantity_t, node.tif};
}

std::uint32_t OrderBook::allocate_node() {
  std::uint32_t index;
  if (free_head_ != kNil) {
    index = free_head_;
    free_head_ = nodes_[index].next;
  } else {
    CARBON_ASSERT(nodes_.size() < kNil);
    index = static_cast<std::uint32_t>(nodes_.size());
    nodes_.emplace_back();
  }
  nodes_[index].live = true;
  ++live_;
  return index;
}

void OrderBook::free_node(std::uint32_t index) {
  Node& node = nodes_[index];
  CARBON_ASSERT(node.live);
  node.live = false;
  node.level = nullptr;
  node.prev = kNil;
  node.next = free_head_;
  free_head_ = index;
  --live_;
}

void OrderBook::unlink(Node& node, std::uint32_t index, Level& level) {
  CARBON_ASSERT(node.level == &level);
  if (node.prev != kNil) {
    nodes_[node.prev].next = node.next;
  } else {
    CARBON_ASSERT(level.head == index);
    level.head = node.next;
  }
  if (node.next != kNil) {
    nodes_[node.next].prev = node.prev;
  } else {
    CARBON_ASSERT(level.tail == index);
    level.tail = node.prev;
  }
  CARBON_ASSERT(level.count > 0 && level.total_t >= node.quantity_t);
  --level.count;
  level.total_t -= node.quantity_t;
}

void OrderBook::remove_resting(std::uint32_t index) {
  Node& node = nodes_[index];
  Level& level = *node.level;
  unlink(node, index, level);
  if (level.count == 0) {
    const std::size_t erased =
        node.side == Side::kBuy ? bids_.erase(node.price_fen) : asks_.erase(node.price_fen);
    CARBON_ASSERT(erased == 1);
  }
  free_node(index);
}

void OrderBook::index_append(std::uint64_t id, std::uint32_t node) {
  // Stale entries (orders filled, cancelled or expired, or nodes reused) are dropped once they
  // outnumber the live ones, so the index stays O(live) and appends stay amortised O(1).
  if (ids_.size() >= 2 * live_ + 1024) {
    std::erase_if(ids_, [this](const IdEntry& e) {
      const Node& n = nodes_[e.node];
      return !n.live || n.id != e.id;
    });
  }
  ids_.push_back(IdEntry{id, node});
}

std::uint32_t OrderBook::lookup(std::uint64_t id) const {
  if (ids_.empty() || id < ids_.front().id || id > ids_.back().id) return kNil;
  // Ids in the index are strictly increasing, so the entry for `id` has at most id - first
  // entries before it and at most last - id after it. With no gaps since the last compaction
  // it sits exactly at one of these bounds (an O(1) hit); otherwise a binary search between
  // them, which for a recent id (the usual cancel) is a short search in the hot tail.
  const std::size_t n = ids_.size();
  const std::uint64_t before = id - ids_.front().id;
  const std::uint64_t after = ids_.back().id - id;
  const std::size_t hi = before < n - 1 ? static_cast<std::size_t>(before) : n - 1;
  const std::size_t lo = after < n - 1 ? n - 1 - static_cast<std::size_t>(after) : 0;
  std::uint32_t node = kNil;
  if (ids_[lo].id == id) {
    node = ids_[lo].node;
  } else if (ids_[hi].id == id) {
    node = ids_[hi].node;
  } else if (lo < hi) {
    const auto first = ids_.begin() + static_cast<std::ptrdiff_t>(lo) + 1;
    const auto last = ids_.begin() + static_cast<std::ptrdiff_t>(hi);
    const auto it = std::lower_bound(first, last, id,
                                     [](const IdEntry& e, std::uint64_t v) { return e.id < v; });
    if (it == last || it->id != id) return kNil;
    node = it->node;
  } else {
    return kNil;
  }
  const Node& found = nodes_[node];
  return (found.live && found.id == id) ? node : kNil;
}

template <class Map>
void OrderBook::match(Map& book, const Order& order, std::uint64_t& remaining, AddResult& out) {
  const bool buy = order.side == Side::kBuy;
  std::size_t steps = 0;
  while (remaining > 0 && !book.empty()) {
    const auto it = book.begin();
    const std::uint64_t level_price = it->first;
    if (buy ? level_price > order.price_fen : level_price < order.price_fen) break;
    Level& level = it->second;
    while (remaining > 0 && level.head != kNil) {
      if (steps == limits_.max_match_steps_per_add) {
        // Still crossing: the remainder may not rest (the book would be crossed).
        out.remainder = RemainderOutcome::kCancelledStepLimit;
        return;
      }
      ++steps;
      const std::uint32_t index = level.head;
      Node& maker = nodes_[index];
      if (maker.owner == order.owner) {
        out.self_trade_cancelled.push_back(view(maker));
        unlink(maker, index, level);
        free_node(index);
        continue;
      }
      const std::uint64_t quantity = std::min(remaining, maker.quantity_t);
      maker.quantity_t -= quantity;
      level.total_t -= quantity;
      remaining -= quantity;
      out.filled_t += quantity;
      out.fills.push_back(Fill{maker.id, order.id, maker.owner, order.owner, order.side,
                               level_price, quantity, maker.quantity_t});
      if (maker.quantity_t == 0) {
        unlink(maker, index, level);
        free_node(index);
      }
    }
    if (level.head == kNil) book.erase(it);
  }
}

template <class Map>
void OrderBook::rest(Map& book, const Order& order, std::uint64_t quantity_t) {
  const std::uint32_t index = allocate_node();  // before taking references: may grow nodes_
  Level& level = book.try_emplace(order.price_fen).first->second;
  Node& node = nodes_[index];
  node.id = order.id;
  node.owner = order.owner;
  node.side = order.side;
  node.price_fen = order.price_fen;
  node.quantity_t = quantity_t;
  node.tif = order.tif;
  node.level = &level;
  node.next = kNil;
  node.prev = level.tail;
  if (level.tail != kNil) {
    nodes_[level.tail].next = index;
  } else {
    level.head = index;
  }
  level.tail = index;
  ++level.count;
  level.total_t += quantity_t;  // <= max_resting_orders * kMaxQuantityPerTx: no overflow
  index_append(order.id, index);
}

Status OrderBook::add(const Order& order, AddResult& out) {
  out.clear();
  if (order.price_fen == 0 || order.price_fen > kMaxPriceFen) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "order " + std::to_string(order.id) + ": price " +
                             std::to_string(order.price_fen) + " fen must be between 1 and " +
                             std::to_string(kMaxPriceFen));
  }
  if (order.quantity_t == 0 || order.quantity_t > kMaxQuantityPerTx) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "order " + std::to_string(order.id) + ": quantity " +
                             std::to_string(order.quantity_t) + " t must be between 1 and " +
                             std::to_string(kMaxQuantityPerTx));
  }
  if (order.side != Side::kBuy && order.side != Side::kSell) {
    return Status::error(ErrorCode::kInvalidArgument, "order side is neither buy nor sell");
  }
  if (order.tif != TimeInForce::kDay && order.tif != TimeInForce::kGoodTillCancelled) {
    return Status::error(ErrorCode::kInvalidArgument, "order time in force is neither day nor GTC");
  }
  if (order.id <= last_id_) {
    if (lookup(order.id) != kNil) {
      return Status::error(ErrorCode::kConflict, "order id " + std::to_string(order.id) +
                                                     " is a duplicate of a resting order");
    }
    return Status::error(ErrorCode::kConflict, "order id " + std::to_string(order.id) +
                                                   " is not above the last id " +
                                                   std::to_string(last_id_));
  }
  last_id_ = order.id;

  std::uint64_t remaining = order.quantity_t;
  if (order.side == Side::kBuy) {
    match(asks_, order, remaining, out);
  } else {
    match(bids_, order, remaining, out);
  }
  out.remainder_t = remaining;
  if (remaining == 0 || out.remainder == RemainderOutcome::kCancelledStepLimit) return Status::ok();
  if (live_ >= limits_.max_resting_orders) {
    out.remainder = RemainderOutcome::kCancelledBookFull;
    return Status::ok();
  }
  out.remainder = RemainderOutcome::kRests;
  if (order.side == Side::kBuy) {
    rest(bids_, order, remaining);
  } else {
    rest(asks_, order, remaining);
  }
  return Status::ok();
}

Result<AddResult> OrderBook::add(const Order& order) {
  AddResult out;
  Status status = add(order, out);
  if (!status.is_ok()) return status;
  return out;
}

Result<RestingOrder> OrderBook::cancel(std::uint64_t id, const core::PublicKey& owner) {
  const std::uint32_t index = lookup(id);
  if (index == kNil) {
    return Status::error(ErrorCode::kNotFound,
                         "order " + std::to_string(id) +
                             " is not resting (never placed, filled, cancelled or expired)");
  }
  const Node& node = nodes_[index];
  if (node.owner != owner) {
    return Status::error(ErrorCode::kUnauthorized, "order " + std::to_string(id) + " belongs to " +
                                                       node.owner.short_hex() + ", not " +
                                                       owner.short_hex());
  }
  RestingOrder cancelled = view(node);
  remove_resting(index);
  return cancelled;
}

std::vector<RestingOrder> OrderBook::expire_day_orders() {
  std::vector<RestingOrder> expired;
  // Id order, one visit per index entry (at most 2 * max_resting_orders + 1024 of them).
  for (const IdEntry& e : ids_) {
    const Node& node = nodes_[e.node];
    if (!node.live || node.id != e.id || node.tif != TimeInForce::kDay) continue;
    expired.push_back(view(node));
    remove_resting(e.node);
  }
  std::erase_if(ids_, [this](const IdEntry& e) {
    const Node& n = nodes_[e.node];
    return !n.live || n.id != e.id;
  });
  return expired;
}

namespace {
template <class Map>
std::optional<DepthLevel> best_of(const Map& book) {
  if (book.empty()) return std::nullopt;
  const auto& [price, level] = *book.begin();
  return DepthLevel{price, level.total_t, level.count};
}

template <class Map>
void depth_of(const Map& book, std::size_t n, std::vector<DepthLevel>& out) {
  out.reserve(std::min(n, book.size()));
  for (const auto& [price, level] : book) {
    if (out.size() == n) break;
    out.push_back(DepthLevel{price, level.total_t, level.count});
  }
}
}  // namespace

std::optional<DepthLevel> OrderBook::best_bid() const { return best_of(bids_); }
std::optional<DepthLevel> OrderBook::best_ask() const { return best_of(asks_); }

Depth OrderBook::depth(std::size_t levels_per_side) const {
  const std::size_t n = std::min(levels_per_side, kMaxDepthLevels);
  Depth depth;
  depth_of(bids_, n, depth.bids);
  depth_of(asks_, n, depth.asks);
  return depth;
}

std::optional<RestingOrder> OrderBook::find(std::uint64_t id) const {
  const std::uint32_t index = lookup(id);
  if (index == kNil) return std::nullopt;
  return view(nodes_[index]);
}

namespace {
Status broken(const std::string& what) {
  return Status::error(ErrorCode::kInternal, "order book invariant broken: " + what);
}
}  // namespace

Status OrderBook::check_invariants() const {
  std::size_t seen = 0;
  auto check_side = [&](const auto& book, Side side) -> Status {
    for (const auto& [price, level] : book) {
      if (level.head == kNil) return broken("empty level " + std::to_string(price));
      std::uint64_t total = 0;
      std::uint32_t count = 0;
      std::uint32_t prev = kNil;
      std::uint64_t prev_id = 0;
      for (std::uint32_t i = level.head; i != kNil; i = nodes_[i].next) {
        const Node& n = nodes_[i];
        if (!n.live || n.side != side || n.price_fen != price || n.level != &level ||
            n.prev != prev || n.quantity_t == 0 || n.id <= prev_id) {
          return broken("node of order " + std::to_string(n.id) + " at " + std::to_string(price));
        }
        if (lookup(n.id) != i) return broken("order " + std::to_string(n.id) + " not indexed");
        total += n.quantity_t;
        ++count;
        prev = i;
        prev_id = n.id;
        if (count > live_) return broken("cycle at level " + std::to_string(price));
      }
      if (prev != level.tail || total != level.total_t || count != level.count) {
        return broken("level " + std::to_string(price) + " totals");
      }
      seen += count;
    }
    return Status::ok();
  };
  CARBON_RETURN_IF_ERROR(check_side(bids_, Side::kBuy));
  CARBON_RETURN_IF_ERROR(check_side(asks_, Side::kSell));
  if (seen != live_) return broken("live count");
  if (!bids_.empty() && !asks_.empty() && bids_.begin()->first >= asks_.begin()->first) {
    return broken("book is crossed");
  }
  std::size_t free_count = 0;
  for (std::uint32_t i = free_head_; i != kNil; i = nodes_[i].next) {
    if (nodes_[i].live || ++free_count > nodes_.size()) return broken("free list");
  }
  if (free_count + live_ != nodes_.size()) return broken("pool accounting");
  for (std::size_t i = 1; i < ids_.size(); ++i) {
    if (ids_[i - 1].id >= ids_[i].id) return broken("id index order");
  }
  if (live_ > limits_.max_resting_orders) return broken("resting order bound");
  return Status::ok();
}

}  // namespace carbon::contracts
