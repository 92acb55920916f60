// The matching engine (contracts/order_book.h): table-driven matching cases, cancels, day expiry,
// self-trade prevention and bounds; then seeded random runs checked after every operation
// against a reference model written here independently (a vector of resting orders scanned
// linearly for the best price and earliest id).
#include "contracts/order_book.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace carbon::contracts {
namespace {

using core::ErrorCode;
using core::PublicKey;

constexpr auto kBuy = Side::kBuy;
constexpr auto kSell = Side::kSell;
constexpr auto kDay = TimeInForce::kDay;
constexpr auto kGtc = TimeInForce::kGoodTillCancelled;

PublicKey owner_key(int n) {
  PublicKey key;
  key.bytes[0] = static_cast<std::uint8_t>(n);
  key.bytes[31] = static_cast<std::uint8_t>(n * 7 + 1);
  return key;
}

struct O {
  std::uint64_t id;
  int owner;
  Side side;
  std::uint64_t price_fen;
  std::uint64_t quantity_t;
  TimeInForce tif = kGtc;
  Order order() const { return Order{id, owner_key(owner), side, price_fen, quantity_t, tif}; }
};

struct F {
  std::uint64_t maker_id;
  std::uint64_t price_fen;
  std::uint64_t quantity_t;
  std::uint64_t maker_remaining_t;
};

using Levels = std::vector<std::pair<std::uint64_t, std::uint64_t>>;  // price -> quantity

Levels levels_of(const std::vector<DepthLevel>& side) {
  Levels out;
  for (const DepthLevel& l : side) out.emplace_back(l.price_fen, l.quantity_t);
  return out;
}

struct MatchCase {
  const char* name;
  std::vector<O> resting;
  O incoming;
  std::vector<F> fills;
  std::vector<std::uint64_t> self_trade_cancelled;
  RemainderOutcome remainder;
  std::uint64_t remainder_t;
  Levels bids_after;
  Levels asks_after;
};

TEST(OrderBook, MatchingTable) {
  const std::vector<MatchCase> cases = {
      {"buy takes the lowest ask first",
       {{1, 1, kSell, 101, 5}, {2, 1, kSell, 100, 5}},
       {3, 2, kBuy, 101, 1},
       {{2, 100, 1, 4}},
       {},
       RemainderOutcome::kNone,
       0,
       {},
       {{100, 4}, {101, 5}}},
      {"sell takes the highest bid first, at the bid's price",
       {{1, 1, kBuy, 99, 5}, {2, 1, kBuy, 105, 5}},
       {3, 2, kSell, 99, 2},
       {{2, 105, 2, 3}},
       {},
       RemainderOutcome::kNone,
       0,
       {{105, 3}, {99, 5}},
       {}},
      {"time priority within a level",
       {{1, 1, kSell, 100, 5}, {2, 3, kSell, 100, 5}},
       {3, 2, kBuy, 100, 7},
       {{1, 100, 5, 0}, {2, 100, 2, 3}},
       {},
       RemainderOutcome::kNone,
       0,
       {},
       {{100, 3}}},
      {"partial fill of the maker",
       {{1, 1, kSell, 100, 10}},
       {2, 2, kBuy, 100, 4},
       {{1, 100, 4, 6}},
       {},
       RemainderOutcome::kNone,
       0,
       {},
       {{100, 6}}},
      {"partial fill of the taker: the rest rests at its limit",
       {{1, 1, kSell, 100, 3}},
       {2, 2, kBuy, 101, 5},
       {{1, 100, 3, 0}},
       {},
       RemainderOutcome::kRests,
       2,
       {{101, 2}},
       {}},
      {"a taker sweeps several levels up to its limit",
       {{1, 1, kSell, 100, 2}, {2, 3, kSell, 101, 3}, {3, 1, kSell, 102, 4}, {4, 3, kSell, 103, 1}},
       {5, 2, kBuy, 102, 8},
       {{1, 100, 2, 0}, {2, 101, 3, 0}, {3, 102, 3, 1}},
       {},
       RemainderOutcome::kNone,
       0,
       {},
       {{102, 1}, {103, 1}}},
      {"a sell sweeps bids and rests the rest",
       {{1, 1, kBuy, 100, 2}, {2, 3, kBuy, 99, 3}, {3, 1, kBuy, 98, 4}},
       {4, 2, kSell, 99, 10},
       {{1, 100, 2, 0}, {2, 99, 3, 0}},
       {},
       RemainderOutcome::kRests,
       5,
       {{98, 4}},
       {{99, 5}}},
      {"no cross: both rest",
       {{1, 1, kBuy, 99, 2}},
       {2, 2, kSell, 100, 3},
       {},
       {},
       RemainderOutcome::kRests,
       3,
       {{99, 2}},
       {{100, 3}}},
      {"self-trade: the resting order of the same owner is cancelled, matching goes on",
       {{1, 2, kSell, 100, 5}, {2, 1, kSell, 100, 5}},
       {3, 2, kBuy, 100, 3},
       {{2, 100, 3, 2}},
       {1},
       RemainderOutcome::kNone,
       0,
       {},
       {{100, 2}}},
      {"self-trade only: the own order is cancelled and the taker rests",
       {{1, 2, kSell, 100, 5}, {2, 1, kSell, 101, 5}},
       {3, 2, kBuy, 100, 3},
       {},
       {1},
       RemainderOutcome::kRests,
       3,
       {{100, 3}},
       {{101, 5}}},
  };
  for (const MatchCase& c : cases) {
    SCOPED_TRACE(c.name);
    OrderBook book;
    for (const O& o : c.resting) {
      auto r = book.add(o.order());
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      ASSERT_TRUE(r->fills.empty());
    }
    auto r = book.add(c.incoming.order());
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    ASSERT_EQ(r->fills.size(), c.fills.size());
    std::uint64_t filled = 0;
    for (std::size_t i = 0; i < c.fills.size(); ++i) {
      const Fill& got = r->fills[i];
      EXPECT_EQ(got.maker_id, c.fills[i].maker_id);
      EXPECT_EQ(got.taker_id, c.incoming.id);
      EXPECT_EQ(got.price_fen, c.fills[i].price_fen);
      EXPECT_EQ(got.quantity_t, c.fills[i].quantity_t);
      EXPECT_EQ(got.maker_remaining_t, c.fills[i].maker_remaining_t);
      EXPECT_EQ(got.taker_owner, owner_key(c.incoming.owner));
      EXPECT_EQ(got.taker_side, c.incoming.side);
      for (const O& o : c.resting) {
        if (o.id == got.maker_id) {
          EXPECT_EQ(got.maker_owner, owner_key(o.owner));
        }
      }
      filled += got.quantity_t;
    }
    std::vector<std::uint64_t> stp;
    for (const RestingOrder& o : r->self_trade_cancelled) stp.push_back(o.id);
    EXPECT_EQ(stp, c.self_trade_cancelled);
    EXPECT_EQ(r->filled_t, filled);
    EXPECT_EQ(r->remainder, c.remainder);
    EXPECT_EQ(r->remainder_t, c.remainder_t);
    const Depth depth = book.depth(10);
    EXPECT_EQ(levels_of(depth.bids), c.bids_after);
    EXPECT_EQ(levels_of(depth.asks), c.asks_after);
    EXPECT_TRUE(book.check_invariants().is_ok()) << book.check_invariants().to_string();
  }
}

TEST(OrderBook, BestAndFind) {
  OrderBook book;
  EXPECT_FALSE(book.best_bid().has_value());
  EXPECT_FALSE(book.best_ask().has_value());
  ASSERT_TRUE(book.add(O{1, 1, kBuy, 99, 2}.order()).is_ok());
  ASSERT_TRUE(book.add(O{2, 2, kBuy, 99, 3}.order()).is_ok());
  ASSERT_TRUE(book.add(O{3, 1, kSell, 102, 4, kDay}.order()).is_ok());
  EXPECT_EQ(book.best_bid(), (DepthLevel{99, 5, 2}));
  EXPECT_EQ(book.best_ask(), (DepthLevel{102, 4, 1}));
  EXPECT_EQ(book.find(3), (RestingOrder{3, owner_key(1), kSell, 102, 4, kDay}));
  EXPECT_FALSE(book.find(4).has_value());
  EXPECT_EQ(book.resting_orders(), 3u);
}

TEST(OrderBook, Cancel) {
  OrderBook book;
  ASSERT_TRUE(book.add(O{1, 1, kBuy, 99, 2}.order()).is_ok());
  ASSERT_TRUE(book.add(O{2, 2, kBuy, 99, 3}.order()).is_ok());
  ASSERT_TRUE(book.add(O{3, 1, kBuy, 98, 3}.order()).is_ok());

  auto wrong = book.cancel(1, owner_key(2));
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kUnauthorized);
  EXPECT_TRUE(book.find(1).has_value());

  auto ok = book.cancel(1, owner_key(1));
  ASSERT_TRUE(ok.is_ok()) << ok.status().to_string();
  EXPECT_EQ(ok->quantity_t, 2u);
  EXPECT_EQ(book.best_bid(), (DepthLevel{99, 3, 1}));

  auto again = book.cancel(1, owner_key(1));
  EXPECT_EQ(again.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(book.cancel(77, owner_key(1)).status().code(), ErrorCode::kNotFound);

  ASSERT_TRUE(book.cancel(2, owner_key(2)).is_ok());  // empties level 99
  EXPECT_EQ(book.best_bid(), (DepthLevel{98, 3, 1}));
  EXPECT_EQ(book.bid_levels(), 1u);

  // A filled order cannot be cancelled.
  ASSERT_TRUE(book.add(O{4, 2, kSell, 98, 3}.order()).is_ok());
  EXPECT_EQ(book.cancel(3, owner_key(1)).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(book.resting_orders(), 0u);
  EXPECT_TRUE(book.check_invariants().is_ok());
}

TEST(OrderBook, DayExpiryKeepsGoodTillCancelled) {
  OrderBook book;
  ASSERT_TRUE(book.add(O{1, 1, kBuy, 99, 2, kDay}.order()).is_ok());
  ASSERT_TRUE(book.add(O{2, 2, kBuy, 99, 3, kGtc}.order()).is_ok());
  ASSERT_TRUE(book.add(O{3, 1, kSell, 101, 3, kDay}.order()).is_ok());
  ASSERT_TRUE(book.add(O{5, 3, kSell, 102, 3, kGtc}.order()).is_ok());
  const auto expired = book.expire_day_orders();
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].id, 1u);
  EXPECT_EQ(expired[1].id, 3u);
  EXPECT_EQ(book.resting_orders(), 2u);
  EXPECT_EQ(book.best_bid(), (DepthLevel{99, 3, 1}));
  EXPECT_EQ(book.best_ask(), (DepthLevel{102, 3, 1}));
  EXPECT_TRUE(book.expire_day_orders().empty());
  EXPECT_TRUE(book.check_invariants().is_ok());
}

TEST(OrderBook, RefusesBadOrders) {
  OrderBook book;
  EXPECT_EQ(book.add(O{1, 1, kBuy, 0, 2}.order()).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(book.add(O{1, 1, kBuy, kMaxPriceFen + 1, 2}.order()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(book.add(O{1, 1, kBuy, 100, 0}.order()).status().code(), ErrorCode::kInvalidArgument);
  EXPECT_EQ(book.add(O{1, 1, kBuy, 100, kMaxQuantityPerTx + 1}.order()).status().code(),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(book.last_id(), 0u);  // refused orders use no id
  ASSERT_TRUE(book.add(O{5, 1, kBuy, 100, 2}.order()).is_ok());
  auto dup = book.add(O{5, 2, kBuy, 100, 2}.order());
  EXPECT_EQ(dup.status().code(), ErrorCode::kConflict);
  EXPECT_NE(dup.status().message().find("duplicate"), std::string::npos);
  auto old = book.add(O{4, 2, kBuy, 100, 2}.order());
  EXPECT_EQ(old.status().code(), ErrorCode::kConflict);
  EXPECT_NE(old.status().message().find("not above"), std::string::npos);
  EXPECT_EQ(book.resting_orders(), 1u);
}

TEST(OrderBook, MatchStepLimitCancelsTheRemainder) {
  OrderBook book(BookLimits{100, 3});
  for (std::uint64_t id = 1; id <= 5; ++id) {
    ASSERT_TRUE(book.add(O{id, 1, kSell, 100 + id, 1}.order()).is_ok());
  }
  auto r = book.add(O{6, 2, kBuy, 110, 10}.order());
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(r->fills.size(), 3u);
  EXPECT_EQ(r->remainder, RemainderOutcome::kCancelledStepLimit);
  EXPECT_EQ(r->remainder_t, 7u);
  EXPECT_FALSE(book.best_bid().has_value());  // never rests into a crossed book
  EXPECT_EQ(book.best_ask(), (DepthLevel{104, 1, 1}));

  // Exactly at the limit with nothing left to cross: the remainder rests.
  auto r2 = book.add(O{7, 2, kBuy, 105, 4}.order());
  ASSERT_TRUE(r2.is_ok());
  EXPECT_EQ(r2->fills.size(), 2u);
  EXPECT_EQ(r2->remainder, RemainderOutcome::kRests);
  EXPECT_EQ(book.best_bid(), (DepthLevel{105, 2, 1}));

  // Self-trade cancellations count as steps.
  OrderBook stp(BookLimits{100, 2});
  for (std::uint64_t id = 1; id <= 3; ++id) {
    ASSERT_TRUE(stp.add(O{id, 1, kSell, 100, 1}.order()).is_ok());
  }
  auto r3 = stp.add(O{4, 1, kBuy, 100, 1}.order());
  ASSERT_TRUE(r3.is_ok());
  EXPECT_EQ(r3->self_trade_cancelled.size(), 2u);
  EXPECT_EQ(r3->remainder, RemainderOutcome::kCancelledStepLimit);
  EXPECT_TRUE(stp.check_invariants().is_ok());
}

TEST(OrderBook, FullBookCancelsTheRemainderButKeepsFills) {
  OrderBook book(BookLimits{3, 100});
  ASSERT_TRUE(book.add(O{1, 1, kSell, 101, 1}.order()).is_ok());
  ASSERT_TRUE(book.add(O{2, 1, kSell, 102, 1}.order()).is_ok());
  ASSERT_TRUE(book.add(O{3, 1, kSell, 103, 1}.order()).is_ok());
  auto full = book.add(O{4, 2, kBuy, 100, 1}.order());
  ASSERT_TRUE(full.is_ok());
  EXPECT_EQ(full->remainder, RemainderOutcome::kCancelledBookFull);
  EXPECT_EQ(book.resting_orders(), 3u);
  // A crossing order still trades; its remainder then fits (a maker left).
  auto cross = book.add(O{5, 2, kBuy, 101, 2}.order());
  ASSERT_TRUE(cross.is_ok());
  EXPECT_EQ(cross->fills.size(), 1u);
  EXPECT_EQ(cross->remainder, RemainderOutcome::kRests);
  EXPECT_EQ(book.resting_orders(), 3u);
  EXPECT_TRUE(book.check_invariants().is_ok());
}

TEST(OrderBook, DepthIsClampedAndOrdered) {
  OrderBook book;
  std::uint64_t id = 0;
  for (std::uint64_t p = 1; p <= 20; ++p) {
    ASSERT_TRUE(book.add(O{++id, 1, kBuy, 100 + p, p}.order()).is_ok());
    ASSERT_TRUE(book.add(O{++id, 1, kSell, 200 + p, p}.order()).is_ok());
  }
  const Depth d = book.depth(3);
  EXPECT_EQ(levels_of(d.bids), (Levels{{120, 20}, {119, 19}, {118, 18}}));
  EXPECT_EQ(levels_of(d.asks), (Levels{{201, 1}, {202, 2}, {203, 3}}));
  EXPECT_EQ(book.depth(kMaxDepthLevels * 10).bids.size(), 20u);
}

// ---- randomized runs against a reference model ------------------------------------------

// Deliberately naive: resting orders in a vector in arrival (= id) order; the best counter-order
// is found by a full scan each time.
class ReferenceBook {
 public:
  ReferenceBook(std::size_t max_resting, std::size_t max_steps)
      : max_resting_(max_resting), max_steps_(max_steps) {}

  struct Outcome {
    bool ok = false;
    std::vector<Fill> fills;
    std::vector<RestingOrder> cancelled;
    RemainderOutcome remainder = RemainderOutcome::kNone;
    std::uint64_t remainder_t = 0;
  };

  Outcome add(const Order& o) {
    Outcome out;
    if (o.price_fen == 0 || o.quantity_t == 0 || o.id <= last_id_) return out;
    out.ok = true;
    last_id_ = o.id;
    std::uint64_t left = o.quantity_t;
    std::size_t steps = 0;
    while (left > 0) {
      // Best counter-order: best price, then lowest id (arrival order).
      std::ptrdiff_t best = -1;
      for (std::size_t i = 0; i < resting_.size(); ++i) {
        const RestingOrder& r = resting_[i];
        if (r.side == o.side) continue;
        const bool crosses =
            o.side == Side::kBuy ? r.price_fen <= o.price_fen : r.price_fen >= o.price_fen;
        if (!crosses) continue;
        if (best < 0) {
          best = static_cast<std::ptrdiff_t>(i);
          continue;
        }
        const RestingOrder& b = resting_[static_cast<std::size_t>(best)];
        const bool better =
            o.side == Side::kBuy ? r.price_fen < b.price_fen : r.price_fen > b.price_fen;
        if (better) best = static_cast<std::ptrdiff_t>(i);
      }
      if (best < 0) break;
      if (steps == max_steps_) {
        out.remainder = RemainderOutcome::kCancelledStepLimit;
        out.remainder_t = left;
        return out;
      }
      ++steps;
      RestingOrder& m = resting_[static_cast<std::size_t>(best)];
      if (m.owner == o.owner) {
        out.cancelled.push_back(m);
        resting_.erase(resting_.begin() + best);
        continue;
      }
      const std::uint64_t q = std::min(left, m.quantity_t);
      m.quantity_t -= q;
      left -= q;
      out.fills.push_back(Fill{m.id, o.id, m.owner, o.owner, o.side, m.price_fen, q, m.quantity_t});
      if (m.quantity_t == 0) resting_.erase(resting_.begin() + best);
    }
    out.remainder_t = left;
    if (left == 0) return out;
    if (resting_.size() >= max_resting_) {
      out.remainder = RemainderOutcome::kCancelledBookFull;
      return out;
    }
    out.remainder = RemainderOutcome::kRests;
    resting_.push_back(RestingOrder{o.id, o.owner, o.side, o.price_fen, left, o.tif});
    return out;
  }

  // 0 ok, 1 not found, 2 wrong owner
  int cancel(std::uint64_t id, const PublicKey& owner) {
    for (std::size_t i = 0; i < resting_.size(); ++i) {
      if (resting_[i].id != id) continue;
      if (resting_[i].owner != owner) return 2;
      resting_.erase(resting_.begin() + static_cast<std::ptrdiff_t>(i));
      return 0;
    }
    return 1;
  }

  std::vector<RestingOrder> expire() {
    std::vector<RestingOrder> out;
    std::vector<RestingOrder> keep;
    for (const RestingOrder& r : resting_) (r.tif == TimeInForce::kDay ? out : keep).push_back(r);
    resting_ = keep;
    return out;
  }

  Depth depth() const {
    std::map<std::uint64_t, DepthLevel, std::greater<>> bids;
    std::map<std::uint64_t, DepthLevel> asks;
    for (const RestingOrder& r : resting_) {
      DepthLevel& l = r.side == Side::kBuy ? bids[r.price_fen] : asks[r.price_fen];
      l.price_fen = r.price_fen;
      l.quantity_t += r.quantity_t;
      ++l.orders;
    }
    Depth d;
    for (const auto& [p, l] : bids) d.bids.push_back(l);
    for (const auto& [p, l] : asks) d.asks.push_back(l);
    return d;
  }

  const std::vector<RestingOrder>& resting() const { return resting_; }

 private:
  std::size_t max_resting_;
  std::size_t max_steps_;
  std::uint64_t last_id_ = 0;
  std::vector<RestingOrder> resting_;
};

// splitmix64: the same sequence on every platform and standard library.
struct Rng {
  std::uint64_t state;
  std::uint64_t next() {
    std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  std::uint64_t below(std::uint64_t n) { return next() % n; }
};

void run_random(std::uint64_t seed, std::size_t ops, std::size_t max_resting, std::size_t max_steps,
                int owners, std::uint64_t price_span, std::uint64_t add_pct = 62) {
  SCOPED_TRACE("seed " + std::to_string(seed));
  Rng rng{seed};
  OrderBook book(BookLimits{max_resting, max_steps});
  ReferenceBook model(max_resting, max_steps);
  std::uint64_t next_id = 1;
  std::size_t fills = 0, stp = 0, step_limited = 0, full = 0, cancels = 0, expired = 0;
  for (std::size_t op = 0; op < ops; ++op) {
    SCOPED_TRACE("op " + std::to_string(op));
    const std::uint64_t kind = rng.below(100);
    if (kind < add_pct) {
      Order o;
      // Mostly increasing ids with gaps (exercising the index's search), sometimes a stale id.
      o.id =
          rng.below(50) == 0 && next_id > 3 ? next_id - 1 - rng.below(3) : next_id + rng.below(3);
      o.owner = owner_key(static_cast<int>(rng.below(static_cast<std::uint64_t>(owners))));
      o.side = rng.below(2) == 0 ? Side::kBuy : Side::kSell;
      o.price_fen = 1000 + rng.below(price_span) - price_span / 2;
      o.quantity_t = 1 + (rng.below(4) == 0 ? rng.below(200) : rng.below(20));
      o.tif = rng.below(3) == 0 ? TimeInForce::kGoodTillCancelled : TimeInForce::kDay;
      if (rng.below(200) == 0) o.quantity_t = 0;
      const ReferenceBook::Outcome want = model.add(o);
      auto got = book.add(o);
      ASSERT_EQ(got.is_ok(), want.ok) << got.status().to_string();
      if (!want.ok) continue;
      next_id = std::max(next_id, o.id + 1);
      ASSERT_EQ(got->fills, want.fills);
      ASSERT_EQ(got->self_trade_cancelled, want.cancelled);
      ASSERT_EQ(got->remainder, want.remainder);
      ASSERT_EQ(got->remainder_t, want.remainder_t);
      fills += want.fills.size();
      stp += want.cancelled.size();
      step_limited += want.remainder == RemainderOutcome::kCancelledStepLimit;
      full += want.remainder == RemainderOutcome::kCancelledBookFull;
    } else if (kind < 95) {
      // Cancel: usually a resting order by its owner, sometimes by another owner or a gone id.
      std::uint64_t id = next_id - 1 - rng.below(std::min<std::uint64_t>(next_id - 1, 400) + 1);
      PublicKey who = owner_key(static_cast<int>(rng.below(static_cast<std::uint64_t>(owners))));
      const auto& resting = model.resting();
      if (!resting.empty() && rng.below(4) != 0) {
        const RestingOrder& r = resting[rng.below(resting.size())];
        id = r.id;
        if (rng.below(10) != 0) who = r.owner;
      }
      const int want = model.cancel(id, who);
      auto got = book.cancel(id, who);
      if (want == 0) {
        ASSERT_TRUE(got.is_ok()) << got.status().to_string();
        ASSERT_EQ(got->id, id);
        ++cancels;
      } else {
        ASSERT_EQ(got.status().code(), want == 1 ? ErrorCode::kNotFound : ErrorCode::kUnauthorized);
      }
    } else if (kind < 97) {
      const auto want = model.expire();
      ASSERT_EQ(book.expire_day_orders(), want);
      expired += want.size();
    } else {
      // Queries only.
      const std::uint64_t id = rng.below(next_id + 2);
      std::optional<RestingOrder> want;
      for (const RestingOrder& r : model.resting()) {
        if (r.id == id) want = r;
      }
      ASSERT_EQ(book.find(id), want);
    }
    // After every operation: the whole book, its depth and best prices match the model.
    const Depth want_depth = model.depth();
    ASSERT_EQ(book.depth(kMaxDepthLevels), want_depth);
    ASSERT_EQ(book.best_bid(), want_depth.bids.empty()
                                   ? std::nullopt
                                   : std::optional<DepthLevel>(want_depth.bids[0]));
    ASSERT_EQ(book.best_ask(), want_depth.asks.empty()
                                   ? std::nullopt
                                   : std::optional<DepthLevel>(want_depth.asks[0]));
    ASSERT_EQ(book.resting_orders(), model.resting().size());
    for (const RestingOrder& r : model.resting()) ASSERT_EQ(book.find(r.id), r);
    const Status inv = book.check_invariants();
    ASSERT_TRUE(inv.is_ok()) << inv.to_string();
  }
  // The run must have exercised what it is meant to check.
  EXPECT_GT(fills, ops / 10);
  EXPECT_GT(stp, 0u);
  EXPECT_GT(cancels, ops / 20);
  EXPECT_GT(expired, 0u);
  if (max_steps < 10) {
    EXPECT_GT(step_limited, 0u);
  }
  if (max_resting < 100) {
    EXPECT_GT(full, 0u);
  }
}

TEST(OrderBookRandom, MatchesReferenceModelManyOwners) {
  for (std::uint64_t seed = 1; seed <= 4; ++seed)
    run_random(seed, 10000, kMaxRestingOrders, kMaxMatchStepsPerAdd, 40, 30);
}

TEST(OrderBookRandom, MatchesReferenceModelFewOwnersTightBounds) {
  for (std::uint64_t seed = 11; seed <= 14; ++seed) run_random(seed, 10000, 20, 4, 3, 60, 85);
}

TEST(OrderBookRandom, MatchesReferenceModelWidePrices) {
  for (std::uint64_t seed = 21; seed <= 22; ++seed) run_random(seed, 10000, 500, 50, 10, 400);
}

}  // namespace
}  // namespace carbon::contracts
