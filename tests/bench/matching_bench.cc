// The matching engine (contracts/order_book.h) alone on one core: a program that prints
// figures, never a test. Orders are generated before the clock starts; each scenario runs
// `--repeat` times (default 3) and prints the best, median and worst run.
//
//   (a) alternating buys and sells over 20 price levels of which 6 cross: buys at levels 0-12,
//       sells at levels 7-19, 1-100 t, 1,000 owners; in rounds of 100,000 orders, the book
//       emptied between rounds (the non-crossing levels only accumulate, so a round bounds the
//       book at ~50,000 orders).
//   (b) a realistic mix over ~1,000 price levels around a drifting mid: 50% passive adds (near
//       the mid more often than far), 35% cancels of a recent order (some already filled: a
//       refused cancel still counts), 15% marketable orders sweeping the top of the book.
//   (c) 100,000 passive adds over 1,000 levels, then cancels of all of them in random order.
//
// Usage: matching_bench [--repeat N]
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "contracts/order_book.h"

namespace {

using carbon::contracts::AddResult;
using carbon::contracts::BookLimits;
using carbon::contracts::Order;
using carbon::contracts::OrderBook;
using carbon::contracts::Side;
using carbon::contracts::TimeInForce;
using carbon::core::PublicKey;
using Clock = std::chrono::steady_clock;

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

constexpr std::size_t kOwners = 1000;

std::vector<PublicKey> make_owners() {
  std::vector<PublicKey> owners(kOwners);
  for (std::size_t i = 0; i < kOwners; ++i) {
    owners[i].bytes[0] = static_cast<std::uint8_t>(i);
    owners[i].bytes[1] = static_cast<std::uint8_t>(i >> 8);
    owners[i].bytes[31] = 0xC0;
  }
  return owners;
}

struct Op {
  bool cancel = false;
  Order order;  // for a cancel: id and owner
};

struct Run {
  double seconds = 0;
  std::uint64_t ops = 0;
  std::uint64_t fills = 0;
  double ns_per_op() const { return seconds * 1e9 / static_cast<double>(ops); }
  double ops_per_s() const { return static_cast<double>(ops) / seconds; }
};

// Runs ops on one book, emptied every `round` ops by expire_day_orders() (every generated
// order is a day order) outside the timed part: the book keeps its pool at its high-water
// mark, as a book that lives for days does. Only the engine calls are timed.
Run run_ops(const std::vector<Op>& ops, std::size_t round) {
  Run run;
  AddResult result;
  OrderBook book;
  for (std::size_t start = 0; start < ops.size(); start += round) {
    const std::size_t end = std::min(ops.size(), start + round);
    const auto t0 = Clock::now();
    for (std::size_t i = start; i < end; ++i) {
      const Op& op = ops[i];
      if (op.cancel) {
        auto r = book.cancel(op.order.id, op.order.owner);
        (void)r;
      } else {
        const auto status = book.add(op.order, result);
        if (!status.is_ok()) {
          std::fprintf(stderr, "add refused: %s\n", status.to_string().c_str());
          std::exit(1);
        }
        run.fills += result.fills.size();
      }
    }
    run.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
    run.ops += end - start;
    (void)book.expire_day_orders();
  }
  return run;
}

// Scenario (b) once more with each call timed on its own, by kind; the cost of reading the
// clock (measured on an empty loop) is subtracted. Slower in total than run_ops (the clock
// reads), but it compares a cancel with an add on the same book.
void breakdown(const std::vector<Op>& ops, std::size_t round) {
  enum Kind { kRested, kCrossed, kCancelled, kCancelRefused, kKinds };
  const char* names[kKinds] = {"add that only rests", "add that fills", "cancel",
                               "cancel refused (gone)"};
  double ns[kKinds] = {};
  std::uint64_t count[kKinds] = {};
  double overhead = 0;
  {
    const int n = 1'000'000;
    const auto t0 = Clock::now();
    for (int i = 0; i < n; ++i) {
      const auto a = Clock::now();
      const auto b = Clock::now();
      overhead += std::chrono::duration<double, std::nano>(b - a).count();
    }
    (void)t0;
    overhead /= n;
  }
  AddResult result;
  OrderBook book;
  for (std::size_t start = 0; start < ops.size(); start += round) {
    (void)book.expire_day_orders();
    const std::size_t end = std::min(ops.size(), start + round);
    for (std::size_t i = start; i < end; ++i) {
      const Op& op = ops[i];
      Kind kind;
      const auto a = Clock::now();
      if (op.cancel) {
        kind = book.cancel(op.order.id, op.order.owner).is_ok() ? kCancelled : kCancelRefused;
      } else {
        (void)book.add(op.order, result);
        kind = result.fills.empty() && result.self_trade_cancelled.empty() ? kRested : kCrossed;
      }
      const auto b = Clock::now();
      ns[kind] += std::chrono::duration<double, std::nano>(b - a).count() - overhead;
      ++count[kind];
    }
  }
  std::printf("    (b) per call, clock overhead %.1f ns subtracted:\n", overhead);
  for (int k = 0; k < kKinds; ++k) {
    std::printf("      %-24s %9llu calls %7.1f ns each\n", names[k],
                static_cast<unsigned long long>(count[k]),
                count[k] ? ns[k] / static_cast<double>(count[k]) : 0.0);
  }
}

std::vector<Op> scenario_a(const std::vector<PublicKey>& owners, std::size_t n) {
  Rng rng{42};
  const std::uint64_t base = 3000;  // 30 yuan per tonne
  std::vector<Op> ops(n);
  for (std::size_t i = 0; i < n; ++i) {
    Order& o = ops[i].order;
    o.id = i + 1;
    o.owner = owners[rng.below(kOwners)];
    o.side = i % 2 == 0 ? Side::kBuy : Side::kSell;
    o.price_fen = base + (o.side == Side::kBuy ? rng.below(13) : 7 + rng.below(13));
    o.quantity_t = 1 + rng.below(100);
    o.tif = TimeInForce::kDay;
  }
  return ops;
}

std::vector<Op> scenario_b(const std::vector<PublicKey>& owners, std::size_t n) {
  Rng rng{7};
  std::int64_t mid = 3000;
  std::vector<Op> ops(n);
  std::vector<std::pair<std::uint64_t, std::size_t>> recent;  // (id, owner)
  std::uint64_t next_id = 1;
  for (std::size_t i = 0; i < n; ++i) {
    if (i % 100 == 0) mid += static_cast<std::int64_t>(rng.below(3)) - 1;
    const std::uint64_t kind = rng.below(100);
    Op& op = ops[i];
    if (kind < 35 && !recent.empty()) {
      const auto& [id, owner] =
          recent[recent.size() - 1 - rng.below(std::min<std::size_t>(recent.size(), 5000))];
      op.cancel = true;
      op.order.id = id;
      op.order.owner = owners[owner];
      continue;
    }
    const std::size_t owner = rng.below(kOwners);
    Order& o = op.order;
    o.id = next_id++;
    o.owner = owners[owner];
    o.side = rng.below(2) == 0 ? Side::kBuy : Side::kSell;
    o.tif = TimeInForce::kDay;  // so that run_ops can empty the book between rounds
    if (kind < 85) {
      // Passive: 1..500 fen away from the mid, nearer more often (min of two draws).
      const std::int64_t away =
          1 + static_cast<std::int64_t>(std::min(rng.below(500), rng.below(500)));
      o.price_fen = static_cast<std::uint64_t>(o.side == Side::kBuy ? mid - away : mid + away);
      o.quantity_t = 1 + rng.below(200);
    } else {
      // Marketable: crosses up to 20 fen through the mid.
      o.price_fen = static_cast<std::uint64_t>(o.side == Side::kBuy ? mid + 20 : mid - 20);
      o.quantity_t = 1 + rng.below(400);
    }
    recent.emplace_back(o.id, owner);
  }
  return ops;
}

struct CancelRun {
  Run adds;
  Run cancels;
};

// random_order: cancel in a random order (every cancel touches cold memory) or in arrival
// order (the oldest first, as day-end housekeeping by participants would).
CancelRun scenario_c(const std::vector<PublicKey>& owners, std::size_t n, bool random_order) {
  Rng rng{99};
  std::vector<Order> orders(n);
  for (std::size_t i = 0; i < n; ++i) {
    Order& o = orders[i];
    o.id = i + 1;
    o.owner = owners[rng.below(kOwners)];
    o.side = i % 2 == 0 ? Side::kBuy : Side::kSell;
    const std::uint64_t away = 1 + rng.below(500);
    o.price_fen = o.side == Side::kBuy ? 3000 - away : 3000 + away;
    o.quantity_t = 1 + rng.below(100);
  }
  std::vector<std::size_t> order_of_cancel(n);
  for (std::size_t i = 0; i < n; ++i) order_of_cancel[i] = i;
  if (random_order) {
    for (std::size_t i = n; i > 1; --i)
      std::swap(order_of_cancel[i - 1], order_of_cancel[rng.below(i)]);
  }

  CancelRun out;
  OrderBook book(BookLimits{n, carbon::contracts::kMaxMatchStepsPerAdd});
  AddResult result;
  auto t0 = Clock::now();
  for (const Order& o : orders) {
    if (!book.add(o, result).is_ok()) std::exit(1);
  }
  out.adds.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  out.adds.ops = n;
  t0 = Clock::now();
  for (std::size_t i : order_of_cancel) {
    if (!book.cancel(orders[i].id, orders[i].owner).is_ok()) std::exit(1);
  }
  out.cancels.seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  out.cancels.ops = n;
  return out;
}

void report(const char* name, std::vector<Run> runs) {
  std::sort(runs.begin(), runs.end(),
            [](const Run& a, const Run& b) { return a.seconds < b.seconds; });
  const Run& best = runs.front();
  const Run& median = runs[runs.size() / 2];
  const Run& worst = runs.back();
  std::printf(
      "%-40s %12.0f orders/s %7.1f ns/order (median %6.1f, worst %6.1f; spread %4.1f%%)  fills "
      "%llu\n",
      name, best.ops_per_s(), best.ns_per_op(), median.ns_per_op(), worst.ns_per_op(),
      100.0 * (worst.seconds - best.seconds) / best.seconds,
      static_cast<unsigned long long>(best.fills));
}

long peak_rss_kib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

}  // namespace

int main(int argc, char** argv) {
  int repeat = 3;
  std::string only = "abc";
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--repeat") == 0 && i + 1 < argc) {
      repeat = std::max(1, std::atoi(argv[++i]));
    } else if (std::strcmp(argv[i], "--only") == 0 && i + 1 < argc) {
      only = argv[++i];
    } else {
      std::fprintf(stderr, "usage: %s [--repeat N] [--only a|b|c]\n", argv[0]);
      return 2;
    }
  }
  const auto wanted = [&](char c) { return only.find(c) != std::string::npos; };
  const std::vector<PublicKey> owners = make_owners();
  std::printf("matching engine alone, one core, %d runs each (best first)\n", repeat);

  std::printf("peak resident memory before any scenario: %ld KiB\n", peak_rss_kib());
  if (wanted('a')) {
    const auto ops_a = scenario_a(owners, 2'000'000);
    std::vector<Run> runs;
    for (int r = 0; r < repeat; ++r) runs.push_back(run_ops(ops_a, 100'000));
    report("(a) alternating, 20 levels, 6 crossing", runs);
  }
  if (wanted('b')) {
    const auto ops_b = scenario_b(owners, 2'000'000);
    std::vector<Run> runs;
    for (int r = 0; r < repeat; ++r) runs.push_back(run_ops(ops_b, 200'000));
    report("(b) mix: 50% add 35% cancel 15% cross", runs);
    breakdown(ops_b, 200'000);
  }
  if (wanted('c')) {
    std::vector<Run> adds, cancels, fifo;
    for (int r = 0; r < repeat; ++r) {
      const CancelRun c = scenario_c(owners, 100'000, true);
      adds.push_back(c.adds);
      cancels.push_back(c.cancels);
      fifo.push_back(scenario_c(owners, 100'000, false).cancels);
    }
    report("(c) 100,000 passive adds", adds);
    report("(c) then cancels of them, random order", cancels);
    report("(c) or cancels in arrival order", fifo);
  }
  // Includes the generated orders (about 72 bytes each, 2 million per scenario): run one
  // scenario with --only to see its own figure.
  std::printf("peak resident memory: %ld KiB\n", peak_rss_kib());
  return 0;
}
