// The exchange and settlement contracts (docs/exchange.md, RULES.md "Trading") driven through
// the Executor with real signed transactions, one block per call unless a test batches them.
// After every block the whole-state invariants hold (TestChain::block runs check_invariants,
// which covers money, fund and unit locks, book markers, depth and day statistics).
//
// Expected figures are computed here from the rules (fee = value x bp / 10,000 rounded down;
// a buy locks L(q) = q x p + fee(q x p); the band [ceil(c x (1 - b)), floor(c x (1 + b))];
// the close is the VWAP rounded half up), never copied from the code's output. Every refused
// act is checked to change nothing but the sender's nonce and the ledger clock.
//
// Groups: funds (bank only, references once, withdrawals of available funds); the calendar
// (parameters first, one day per Beijing date, sessions [start, end), halts); the band (edges,
// rounding, no trade outside the day's band); matching through the ledger (price-time
// priority, maker price, fees, price improvement, partial fills, cancels, expiry, self-trade,
// frozen accounts and roles, position limit, the match-step bound, scattered serials, a fee
// change while orders rest); the close and surveillance (VWAP, band-hit window, trigger,
// reserve instructions, related accounts, intervention allowances at year close); listings,
// block trades and auctions; the read side; corrupted records caught by check_invariants.
//
// Last: seeded random trading days (two products, orders, cancels and fixed-price listings
// from 20 accounts, in blocks of 25) checked after every block against a reference model
// written here (a list of resting orders scanned linearly), independent of OrderBook, and
// replayed on a replica restarted from a copy of the state (books rebuilt from state).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "contracts/executor.h"
#include "contracts/invariants.h"
#include "contracts/ledger_internal.h"
#include "contracts/market_internal.h"
#include "contracts/market_queries.h"
#include "contracts/market_records.h"
#include "contracts_harness.h"

namespace carbon::contracts {
namespace {

using testing::changed_keys;
using testing::make_tx;
using testing::snapshot;
using testing::test_key;
using testing::TestChain;

constexpr auto kBuy = Side::kBuy;
constexpr auto kSell = Side::kSell;
constexpr auto kDay = TimeInForce::kDay;
constexpr auto kGtc = TimeInForce::kGoodTillCancelled;
const ProductId kProduct = ProductId::allowance(2025);

// ---- rules, computed independently ------------------------------------------------------------

std::uint64_t fee(std::uint64_t value_fen, std::uint32_t bp) {
  return static_cast<std::uint64_t>(static_cast<unsigned __int128>(value_fen) * bp / 10'000);
}
// What a buy of q t at limit p locks.
std::uint64_t lock_for(std::uint64_t q, std::uint64_t p, std::uint32_t bp) {
  return q * p + fee(q * p, bp);
}
struct Band {
  std::uint64_t low = 0;
  std::uint64_t high = 0;
};
Band band_of(std::uint64_t close_fen, std::uint32_t bp) {
  const unsigned __int128 down = static_cast<unsigned __int128>(close_fen) * (10'000 - bp);
  const unsigned __int128 up = static_cast<unsigned __int128>(close_fen) * (10'000 + bp);
  return Band{static_cast<std::uint64_t>((down + 9'999) / 10'000),
              static_cast<std::uint64_t>(up / 10'000)};
}
std::uint64_t vwap_half_up(std::uint64_t value_fen, std::uint64_t volume_t) {
  return static_cast<std::uint64_t>((2 * static_cast<unsigned __int128>(value_fen) + volume_t) /
                                    (2 * static_cast<unsigned __int128>(volume_t)));
}

// ---- Beijing time -----------------------------------------------------------------------------

// Days from 1970-01-01 to a civil date (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}
// A Beijing-time (UTC+8) wall clock on the day `days` after 1970-01-01, in ms since the epoch.
std::uint64_t beijing_ms(std::int64_t days, unsigned hour, unsigned minute, unsigned second = 0,
                         unsigned ms = 0) {
  const std::int64_t local = ((days * 24 + hour) * 60 + minute) * 60'000 + second * 1'000 + ms;
  return static_cast<std::uint64_t>(local - 8LL * 3'600'000);
}
const std::int64_t kFirstDay = days_from_civil(2025, 6, 2);

// ---- keys (contracts/market_internal.h) ---------------------------------------------------------

std::string fund_key(const PublicKey& k) { return keys::fund(k); }
std::string ulk_key(const PublicKey& k, const ProductId& p) { return keys::unit_locks(k, p); }
std::string order_key(std::uint64_t id) { return keys::order(id); }
std::string listing_key(std::uint64_t id) { return keys::listing(id); }
std::string auction_key(std::uint64_t id) { return keys::auction(id); }
std::string market_key(const ProductId& p) { return keys::product_market(p); }
std::string day_key(const ProductId& p, std::uint32_t day) { return keys::day_stats(p, day); }
std::string stab_key(const ProductId& p) { return keys::stabilisation(p); }
std::string mandate_key(const PublicKey& k, const ProductId& p) { return keys::mandate(k, p); }

template <class T>
std::optional<T> read(const TestChain& chain, const std::string& key) {
  auto result = Ledger(const_cast<TestChain&>(chain).executor().state()).get<T>(key);
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return result.is_ok() ? *result : std::nullopt;
}

// Test-only: a record of another module written straight into the store (as the compliance
// tests do); the Merkle tree does not see it, and no test here compares roots across it.
template <class T>
void put_record(TestChain& chain, const std::string& key, const T& record) {
  auto& store = const_cast<StateStore&>(chain.executor().state());
  store.put(key, core::codec::encode(record));
}

Hash256 bank_ref(std::uint32_t n) {
  Hash256 hash;
  for (std::size_t i = 0; i < 4; ++i) hash.bytes[i] = static_cast<std::uint8_t>(n >> (8 * i));
  hash.bytes[31] = 0xB4;
  return hash;
}

// ---- the world --------------------------------------------------------------------------------

// The cast: the authority (test_key(0)), the exchange, the settlement bank, the reserve, a
// verifier (may not hold allowances), and traders: test_key(100 + i), even i covered
// enterprises, odd i voluntary participants. HBEA-2025 listed at a reference price of 2,000 fen.
class World {
 public:
  explicit World(MarketParams params = MarketParams{}, std::size_t traders = 6,
                 bool open_market = true)
      : params_(std::move(params)) {
    auto must = [&](const Receipt& receipt) { EXPECT_TRUE(receipt.ok()) << receipt.message; };
    must(chain.register_participant(exchange, Role::kExchange, "Hubei Emission Exchange"));
    must(chain.register_participant(bank, Role::kSettlementBank, "Settlement Bank"));
    must(chain.register_participant(reserve, Role::kReserve, "Hubei Carbon Reserve"));
    must(chain.register_participant(verifier, Role::kVerifier, "Verifier"));
    for (std::size_t i = 0; i < traders; ++i) {
      t.push_back(test_key(static_cast<std::uint32_t>(100 + i)));
      must(chain.register_participant(t.back(),
                                      i % 2 == 0 ? Role::kCoveredEnterprise : Role::kVoluntary,
                                      "Trader " + std::to_string(i)));
    }
    if (open_market) {
      must(chain.call(exchange, SetMarketParams{params_}));
      must(chain.issue(reserve, 2025, 1));  // the product exists before it is listed
      must(chain.call(exchange, ListProduct{kProduct, 2'000}));
    }
  }

  TestChain chain;
  core::SecretKey exchange = test_key(60);
  core::SecretKey bank = test_key(61);
  core::SecretKey reserve = test_key(62);
  core::SecretKey verifier = test_key(63);
  std::vector<core::SecretKey> t;

  const MarketParams& params() const { return params_; }
  std::uint32_t fee_bp() const { return params_.fee_bp; }
  Receipt set_params(const MarketParams& params) {
    params_ = params;
    return chain.call(exchange, SetMarketParams{params});
  }

  Receipt deposit(const core::SecretKey& to, std::uint64_t amount_fen) {
    return chain.call(bank, Deposit{to.public_key(), amount_fen, bank_ref(next_ref_++)});
  }
  void fund(const core::SecretKey& to, std::uint64_t amount_fen) {
    const Receipt receipt = deposit(to, amount_fen);
    ASSERT_TRUE(receipt.ok()) << receipt.message;
  }
  void units(const core::SecretKey& to, std::uint64_t quantity_t, std::uint16_t vintage = 2025) {
    const Receipt receipt = chain.issue(to, vintage, quantity_t);
    ASSERT_TRUE(receipt.ok()) << receipt.message;
  }

  // The trading day of date kFirstDay + n: opened at 09:00, then the clock at 09:30:00.
  void open_day(std::int64_t n) {
    day_ = kFirstDay + n;
    chain.set_time_ms(beijing_ms(day_, 9, 0));
    const Receipt receipt = chain.call(exchange, OpenDay{});
    ASSERT_TRUE(receipt.ok()) << receipt.message;
    chain.set_time_ms(beijing_ms(day_, 9, 30));
  }
  void close_day() {
    chain.set_time_ms(beijing_ms(day_, 15, 30));
    const Receipt receipt = chain.call(exchange, CloseDay{});
    ASSERT_TRUE(receipt.ok()) << receipt.message;
  }
  std::int64_t day() const { return day_; }
  // Block time at a Beijing wall clock of the current date; the following blocks 1 s apart.
  void at(unsigned hour, unsigned minute, unsigned second = 0, unsigned ms = 0) {
    chain.set_time_ms(beijing_ms(day_, hour, minute, second, ms));
  }

  Receipt order(const core::SecretKey& who, Side side, std::uint64_t price_fen,
                std::uint64_t quantity_t, TimeInForce tif = kDay,
                const ProductId& product = kProduct) {
    return chain.call(who, PlaceOrder{product, side, price_fen, quantity_t, tif, 0});
  }
  // Places an order that must be accepted and returns its id.
  std::uint64_t place(const core::SecretKey& who, Side side, std::uint64_t price_fen,
                      std::uint64_t quantity_t, TimeInForce tif = kDay,
                      const ProductId& product = kProduct) {
    const Receipt receipt = order(who, side, price_fen, quantity_t, tif, product);
    EXPECT_TRUE(receipt.ok()) << receipt.message;
    return market_state().next_order_id - 1;
  }
  Receipt cancel(const core::SecretKey& who, std::uint64_t id) {
    return chain.call(who, CancelOrder{id});
  }

  // Runs a call that must be refused, and checks that it changed nothing but the sender's
  // nonce and the ledger clock. Returns the receipt's message.
  std::string refused(const core::SecretKey& who, Call call, const std::string& message_part = "") {
    return refused_tx(make_tx(who, chain.next_nonce(who), std::move(call)), message_part);
  }
  std::string refused(const core::SecretKey& who, AuthorityAct act) {
    return refused_tx(make_tx(who, chain.next_nonce(who), std::move(act)), "");
  }
  std::string refused_tx(const SignedTx& tx, const std::string& message_part = "") {
    const auto before = snapshot(chain.executor());
    const Receipt receipt = chain.submit(tx);
    EXPECT_FALSE(receipt.ok()) << "accepted: " << call_name(tx.tx.call);
    EXPECT_FALSE(receipt.message.empty());
    if (!message_part.empty()) {
      EXPECT_NE(receipt.message.find(message_part), std::string::npos)
          << "message \"" << receipt.message << "\" lacks \"" << message_part << "\"";
    }
    const auto changed = changed_keys(before, snapshot(chain.executor()));
    for (const std::string& key : changed) {
      EXPECT_TRUE(key == keys::account(tx.tx.sender) || key == "meta/clock")
          << "refused " << call_name(tx.tx.call) << " (" << receipt.message << ") changed " << key;
    }
    return receipt.message;
  }

  // Many calls of one sender, `per_block` to a block (consecutive nonces); every one must apply.
  void batch(const core::SecretKey& who, const std::vector<Call>& calls,
             std::size_t per_block = 200) {
    for (std::size_t i = 0; i < calls.size(); i += per_block) {
      std::vector<SignedTx> txs;
      const std::uint64_t nonce = chain.next_nonce(who);
      for (std::size_t j = i; j < std::min(calls.size(), i + per_block); ++j)
        txs.push_back(make_tx(who, nonce + (j - i), calls[j]));
      const BlockResult result = chain.block(txs);
      for (const Receipt& receipt : result.receipts) ASSERT_TRUE(receipt.ok()) << receipt.message;
    }
  }

  FundAccount funds(const core::SecretKey& who) const {
    return read<FundAccount>(chain, fund_key(who.public_key())).value_or(FundAccount{});
  }
  UnitLocks locks(const core::SecretKey& who, const ProductId& product = kProduct) const {
    return read<UnitLocks>(chain, ulk_key(who.public_key(), product)).value_or(UnitLocks{});
  }
  OrderRecord order_record(std::uint64_t id) const {
    auto found = read<OrderRecord>(chain, order_key(id));
    EXPECT_TRUE(found.has_value()) << "no order " << id;
    return found.value_or(OrderRecord{});
  }
  MarketState market_state() const {
    return read<MarketState>(chain, "mkt/state").value_or(MarketState{});
  }
  MoneySupply money() const {
    return read<MoneySupply>(chain, "mkt/money").value_or(MoneySupply{});
  }
  ProductMarket product_market(const ProductId& product = kProduct) const {
    auto found = read<ProductMarket>(chain, market_key(product));
    EXPECT_TRUE(found.has_value());
    return found.value_or(ProductMarket{});
  }
  std::optional<DayStats> day_stats(std::uint32_t day_index,
                                    const ProductId& product = kProduct) const {
    return read<DayStats>(chain, day_key(product, day_index));
  }
  std::uint64_t held(const core::SecretKey& who, const ProductId& product = kProduct) {
    auto quantity = chain.executor().balance(who.public_key(), product);
    EXPECT_TRUE(quantity.is_ok());
    return quantity.is_ok() ? *quantity : 0;
  }
  // Every trade of a product, oldest first.
  std::vector<TradeRecord> trades(const ProductId& product = kProduct) const {
    std::vector<TradeRecord> out;
    std::string start;
    const std::string prefix = keys::trades_prefix(product);
    for (;;) {
      const auto page = chain_state().scan(prefix, start, 256);
      for (const auto& [key, bytes] : page) {
        auto trade = core::codec::decode<TradeRecord>(bytes);
        EXPECT_TRUE(trade.is_ok()) << key;
        if (trade.is_ok()) out.push_back(*trade);
      }
      if (page.size() < 256) break;
      start = key_successor(page.back().first);
    }
    std::sort(out.begin(), out.end(),
              [](const TradeRecord& a, const TradeRecord& b) { return a.id < b.id; });
    return out;
  }
  const StateStore& chain_state() const { return const_cast<TestChain&>(chain).executor().state(); }

 private:
  MarketParams params_;
  std::uint32_t next_ref_ = 1;
  std::int64_t day_ = kFirstDay;
};

void expect_trade(const TradeRecord& trade, TradeKind kind, const core::SecretKey& buyer,
                  const core::SecretKey& seller, std::uint64_t price_fen, std::uint64_t quantity_t,
                  std::uint64_t buyer_fee_fen, std::uint64_t seller_fee_fen) {
  EXPECT_EQ(trade.kind, kind);
  EXPECT_EQ(trade.buyer, buyer.public_key());
  EXPECT_EQ(trade.seller, seller.public_key());
  EXPECT_EQ(trade.price_fen, price_fen);
  EXPECT_EQ(trade.quantity_t, quantity_t);
  EXPECT_EQ(trade.value_fen, price_fen * quantity_t);
  EXPECT_EQ(trade.buyer_fee_fen, buyer_fee_fen);
  EXPECT_EQ(trade.seller_fee_fen, seller_fee_fen);
}

// A refused order whose message names the band: both edges in yuan. (docs/exchange.md gives
// "18.00-22.00 yuan" as an example; the edges are what the rule asks for.)
std::string refused_outside_band(World& w, const core::SecretKey& who, const PlaceOrder& order,
                                 const std::string& low_yuan, const std::string& high_yuan) {
  const std::string message = w.refused(who, order, "band");
  EXPECT_NE(message.find(low_yuan), std::string::npos) << message;
  EXPECT_NE(message.find(high_yuan), std::string::npos) << message;
  return message;
}

// =================================================================================================
// Funds
// =================================================================================================

TEST(ContractsExchangeFunds, OnlyTheBankMovesMoneyEachReferenceOnce) {
  World w;
  const auto& a = w.t[0];
  ASSERT_TRUE(w.chain.call(w.bank, Deposit{a.public_key(), 1'000'000, bank_ref(7)}).ok());
  EXPECT_EQ(w.funds(a), (FundAccount{1'000'000, 0}));
  EXPECT_EQ(w.money().deposited_fen, 1'000'000u);

  // Nobody else creates or destroys money.
  w.refused(w.exchange, Deposit{a.public_key(), 5, bank_ref(8)});
  w.refused(a, Deposit{a.public_key(), 5, bank_ref(9)});
  w.refused(w.chain.authority(), Deposit{a.public_key(), 5, bank_ref(10)});
  w.refused(a, Withdraw{a.public_key(), 5, bank_ref(11)});
  w.refused(w.exchange, Withdraw{a.public_key(), 5, bank_ref(12)});

  // A bank reference is used once, for a deposit or a withdrawal alike.
  w.refused(w.bank, Deposit{a.public_key(), 5, bank_ref(7)});
  w.refused(w.bank, Deposit{w.t[1].public_key(), 5, bank_ref(7)});
  w.refused(w.bank, Withdraw{a.public_key(), 5, bank_ref(7)});

  // Withdrawals: up to the available funds.
  w.refused(w.bank, Withdraw{a.public_key(), 1'000'001, bank_ref(13)});
  ASSERT_TRUE(w.chain.call(w.bank, Withdraw{a.public_key(), 400'000, bank_ref(13)}).ok());
  EXPECT_EQ(w.funds(a), (FundAccount{600'000, 0}));
  w.refused(w.bank, Withdraw{a.public_key(), 600'001, bank_ref(14)});
  w.refused(w.bank, Withdraw{a.public_key(), 1, bank_ref(13)});  // reference reused
  EXPECT_EQ(w.money().deposited_fen, 1'000'000u);
  EXPECT_EQ(w.money().withdrawn_fen, 400'000u);

  // A participant nobody registered has no fund account to credit.
  w.refused(w.bank, Deposit{test_key(999).public_key(), 5, bank_ref(15)});

  // Locked funds cannot be withdrawn: an open buy locks L(q).
  w.open_day(0);
  w.place(a, kBuy, 2'000, 100);
  const std::uint64_t locked = lock_for(100, 2'000, w.fee_bp());
  EXPECT_EQ(w.funds(a), (FundAccount{600'000 - locked, locked}));
  w.refused(w.bank, Withdraw{a.public_key(), 600'000 - locked + 1, bank_ref(16)});
  ASSERT_TRUE(w.chain.call(w.bank, Withdraw{a.public_key(), 600'000 - locked, bank_ref(16)}).ok());
  EXPECT_EQ(w.funds(a), (FundAccount{0, locked}));
  // The bank reference record exists once.
  auto movement = read<BankMovement>(w.chain, keys::bank_movement(bank_ref(16)));
  ASSERT_TRUE(movement.has_value());
  EXPECT_EQ(movement->kind, BankMovementKind::kWithdrawal);
  EXPECT_EQ(movement->amount_fen, 600'000 - locked);
  EXPECT_EQ(movement->account, a.public_key());
}

// =================================================================================================
// The trading calendar
// =================================================================================================

TEST(ContractsExchangeCalendar, NothingTradesBeforeTheParametersAreSet) {
  World w(MarketParams{}, 2, /*open_market=*/false);
  w.fund(w.t[0], 1'000'000);
  w.units(w.t[1], 100);
  w.chain.set_time_ms(beijing_ms(kFirstDay, 9, 0));
  // Whatever the exchange manages to do before SetMarketParams, no order is accepted.
  w.chain.call(w.exchange, ListProduct{kProduct, 2'000});
  w.chain.call(w.exchange, OpenDay{});
  w.chain.set_time_ms(beijing_ms(kFirstDay, 10, 0));
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
  w.refused(w.t[1], PlaceOrder{kProduct, kSell, 2'000, 1, kDay, 0});
  // Only the exchange sets parameters, and only valid ones.
  w.refused(w.t[0], SetMarketParams{MarketParams{}});
  MarketParams bad;
  bad.band_bp = 10'001;
  w.refused(w.exchange, SetMarketParams{bad});
  bad = MarketParams{};
  bad.sessions = {{780, 900}, {570, 690}};  // out of order
  w.refused(w.exchange, SetMarketParams{bad});
  ASSERT_TRUE(w.chain.call(w.exchange, SetMarketParams{MarketParams{}}).ok());
  auto params = read<MarketParamsRecord>(w.chain, "mkt/params");
  ASSERT_TRUE(params.has_value());
  EXPECT_EQ(params->fee_account, w.exchange.public_key());
  EXPECT_EQ(params->version, 1u);
  // Now list and open if that was refused before, and trade.
  if (!read<ProductMarket>(w.chain, market_key(kProduct))) {
    ASSERT_TRUE(w.chain.call(w.exchange, ListProduct{kProduct, 2'000}).ok());
  }
  if (w.market_state().day_open == 0) {
    ASSERT_TRUE(w.chain.call(w.exchange, OpenDay{}).ok());
  }
  w.chain.set_time_ms(beijing_ms(kFirstDay, 10, 30));
  EXPECT_TRUE(w.order(w.t[0], kBuy, 2'000, 1).ok());
  EXPECT_TRUE(w.order(w.t[1], kSell, 2'000, 1).ok());
  EXPECT_EQ(w.trades().size(), 1u);
}

TEST(ContractsExchangeCalendar, OrdersOnlyWhileADayIsOpenAndInsideASession) {
  World w;
  const auto& buyer = w.t[0];
  w.fund(buyer, 10'000'000);
  // No day open: refused even inside a session.
  w.chain.set_time_ms(beijing_ms(kFirstDay, 10, 0));
  w.refused(buyer, PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
  w.refused(w.t[1], OpenDay{});  // only the exchange opens a day
  w.open_day(0);

  // Default sessions 09:30-11:30 and 13:00-15:00 Beijing time, each [start, end).
  struct Probe {
    unsigned h, m, s, ms;
    bool accepted;
  };
  const Probe probes[] = {
      {9, 29, 59, 999, false}, {9, 30, 0, 0, true},      {11, 29, 59, 999, true},
      {11, 30, 0, 0, false},   {12, 59, 59, 999, false}, {13, 0, 0, 0, true},
      {14, 59, 59, 999, true}, {15, 0, 0, 0, false},     {23, 59, 59, 999, false},
  };
  for (const Probe& p : probes) {
    SCOPED_TRACE(std::to_string(p.h) + ":" + std::to_string(p.m) + ":" + std::to_string(p.s) + "." +
                 std::to_string(p.ms));
    w.chain.hold_time_ms(beijing_ms(w.day(), p.h, p.m, p.s, p.ms));
    if (p.accepted) {
      const Receipt receipt = w.order(buyer, kBuy, 2'000, 1);
      EXPECT_TRUE(receipt.ok()) << receipt.message;
    } else {
      w.refused(buyer, PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
    }
  }
}

TEST(ContractsExchangeCalendar, ASessionWindowFromTheParameters) {
  MarketParams params;
  params.sessions = {{600, 660}};  // 10:00-11:00 only
  World w(params);
  w.fund(w.t[0], 1'000'000);
  w.open_day(0);
  w.chain.hold_time_ms(beijing_ms(w.day(), 9, 59, 59, 999));
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
  w.chain.hold_time_ms(beijing_ms(w.day(), 10, 0));
  EXPECT_TRUE(w.order(w.t[0], kBuy, 2'000, 1).ok());
  w.chain.hold_time_ms(beijing_ms(w.day(), 10, 59, 59, 999));
  EXPECT_TRUE(w.order(w.t[0], kBuy, 2'000, 1).ok());
  w.chain.hold_time_ms(beijing_ms(w.day(), 11, 0));
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
  w.chain.hold_time_ms(beijing_ms(w.day(), 13, 30));  // a default session, not this one
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
}

TEST(ContractsExchangeCalendar, OneTradingDayPerBeijingDate) {
  World w;
  w.fund(w.t[0], 1'000'000);
  w.refused(w.exchange, CloseDay{});  // nothing open
  w.open_day(0);
  EXPECT_EQ(w.market_state().day_index, 1u);
  EXPECT_EQ(w.market_state().day_date, 20250602u);
  w.refused(w.exchange, OpenDay{});  // already open
  w.refused(w.t[0], CloseDay{});     // only the exchange closes
  w.close_day();
  EXPECT_EQ(w.market_state().day_open, 0);
  // Closed: orders refused, and the same date cannot open again.
  w.at(14, 0);
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
  w.refused(w.exchange, OpenDay{});
  // 23:59:59.999 Beijing time is still 2 June (15:59:59.999 UTC).
  w.chain.hold_time_ms(beijing_ms(w.day(), 23, 59, 59, 999));
  w.refused(w.exchange, OpenDay{});
  // 00:00 Beijing time on 3 June is 16:00 UTC on 2 June: a new date.
  w.chain.hold_time_ms(beijing_ms(w.day() + 1, 0, 0));
  ASSERT_TRUE(w.chain.call(w.exchange, OpenDay{}).ok());
  EXPECT_EQ(w.market_state().day_index, 2u);
  EXPECT_EQ(w.market_state().day_date, 20250603u);
}

TEST(ContractsExchangeCalendar, ADayLeftOpenDoesNotTradeOnTheNextDate) {
  // One trading day per Beijing-time date: the day opened on 2 June is 2 June's. If the
  // exchange does not close it, orders on 3 June are not orders of 2 June's day (its band, its
  // statistics, its day orders' expiry).
  World w;
  w.fund(w.t[0], 1'000'000);
  w.open_day(0);
  EXPECT_TRUE(w.order(w.t[0], kBuy, 2'000, 1).ok());
  w.chain.hold_time_ms(beijing_ms(w.day() + 1, 10, 0));
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
}

TEST(ContractsExchangeCalendar, HaltAndResume) {
  World w;
  w.fund(w.t[0], 1'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  const std::uint64_t resting = w.place(w.t[0], kBuy, 1'990, 10);
  w.refused(w.t[0], HaltProduct{kProduct, 1});  // only the exchange
  ASSERT_TRUE(w.chain.call(w.exchange, HaltProduct{kProduct, 1}).ok());
  EXPECT_EQ(w.product_market().halted, 1);
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
  w.refused(w.t[1], PlaceOrder{kProduct, kSell, 1'990, 1, kDay, 0});
  // Cancels are accepted while halted, and release the lock.
  ASSERT_TRUE(w.cancel(w.t[0], resting).ok());
  EXPECT_EQ(w.funds(w.t[0]), (FundAccount{1'000'000, 0}));
  ASSERT_TRUE(w.chain.call(w.exchange, HaltProduct{kProduct, 0}).ok());
  EXPECT_EQ(w.product_market().halted, 0);
  EXPECT_TRUE(w.order(w.t[0], kBuy, 2'000, 1).ok());
  EXPECT_TRUE(w.order(w.t[1], kSell, 2'000, 1).ok());
  EXPECT_EQ(w.trades().size(), 1u);
}

// =================================================================================================
// The daily band
// =================================================================================================

TEST(ContractsExchangeBand, EdgesOfTenPercentAroundTwentyYuan) {
  World w;
  w.fund(w.t[0], 10'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  // Buys and sells alike: [1,800, 2,200] fen, both edges accepted. Nothing crosses: buys at
  // the lower edge, sells at the upper edge first.
  EXPECT_TRUE(w.order(w.t[0], kBuy, 1'800, 1).ok());
  EXPECT_TRUE(w.order(w.t[1], kSell, 2'200, 1).ok());
  const std::string low = refused_outside_band(
      w, w.t[0], PlaceOrder{kProduct, kBuy, 1'799, 1, kDay, 0}, "18.00", "22.00");
  EXPECT_NE(low.find("17.99"), std::string::npos) << low;
  const std::string high = refused_outside_band(
      w, w.t[1], PlaceOrder{kProduct, kSell, 2'201, 1, kDay, 0}, "18.00", "22.00");
  EXPECT_NE(high.find("22.01"), std::string::npos) << high;
  EXPECT_NE(high.find("HBEA-2025"), std::string::npos) << high;
  EXPECT_NE(high.find("20.00"), std::string::npos) << high;  // the previous close
  refused_outside_band(w, w.t[0], PlaceOrder{kProduct, kBuy, 2'201, 1, kDay, 0}, "18.00", "22.00");
  refused_outside_band(w, w.t[1], PlaceOrder{kProduct, kSell, 1'799, 1, kDay, 0}, "18.00", "22.00");
  // Price and quantity at least 1.
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 0, 1, kDay, 0});
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 0, kDay, 0});
  // A product that is not listed.
  w.refused(w.t[0], PlaceOrder{ProductId::allowance(2030), kBuy, 2'000, 1, kDay, 0});
  // The edges themselves trade: a buy at 2,200 takes the ask at 2,200.
  EXPECT_TRUE(w.order(w.t[0], kBuy, 2'200, 1).ok());
  ASSERT_EQ(w.trades().size(), 1u);
  EXPECT_EQ(w.trades()[0].price_fen, 2'200u);
  auto today = w.day_stats(1);
  ASSERT_TRUE(today.has_value());
  EXPECT_EQ(today->band_low_fen, 1'800u);
  EXPECT_EQ(today->band_high_fen, 2'200u);
  EXPECT_EQ(today->band_hit, 1);  // a trade at an edge
}

TEST(ContractsExchangeBand, OddClosesRoundTheEdgesInward) {
  World w;
  w.fund(w.t[0], 10'000'000);
  // 2,005 x 0.9 = 1,804.5 -> 1,805 (ceil); 2,005 x 1.1 = 2,205.5 -> 2,205 (floor).
  // 1,999 x 0.9 = 1,799.1 -> 1,800;       1,999 x 1.1 = 2,198.9 -> 2,198.
  struct Case {
    std::uint16_t vintage;
    std::uint64_t reference;
    std::uint64_t low, high;
    const char* low_text;
    const char* high_text;
  };
  const Case cases[] = {{2026, 2'005, 1'805, 2'205, "18.05", "22.05"},
                        {2027, 1'999, 1'800, 2'198, "18.00", "21.98"}};
  for (const Case& c : cases) {
    w.units(w.reserve, 1, c.vintage);
    ASSERT_TRUE(
        w.chain.call(w.exchange, ListProduct{ProductId::allowance(c.vintage), c.reference}).ok());
    EXPECT_EQ(band_of(c.reference, 1'000).low, c.low);
    EXPECT_EQ(band_of(c.reference, 1'000).high, c.high);
  }
  w.open_day(0);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.low_text);
    const ProductId product = ProductId::allowance(c.vintage);
    EXPECT_TRUE(w.order(w.t[0], kBuy, c.low, 1, kDay, product).ok());
    EXPECT_TRUE(w.order(w.t[0], kBuy, c.high, 1, kDay, product).ok());
    refused_outside_band(w, w.t[0], PlaceOrder{product, kBuy, c.low - 1, 1, kDay, 0}, c.low_text,
                         c.high_text);
    refused_outside_band(w, w.t[0], PlaceOrder{product, kBuy, c.high + 1, 1, kDay, 0}, c.low_text,
                         c.high_text);
    auto view = queries::market(Ledger(w.chain_state()), product);
    ASSERT_TRUE(view.is_ok()) << view.status().to_string();
    EXPECT_EQ(view->band_low_fen, c.low);
    EXPECT_EQ(view->band_high_fen, c.high);
  }
}

TEST(ContractsExchangeBand, PriceBandHelperAgreesWithTheRule) {
  std::mt19937_64 rng(5);
  for (int i = 0; i < 20'000; ++i) {
    const std::uint64_t close = 1 + rng() % 1'000'000;
    const auto bp = static_cast<std::uint32_t>(rng() % 10'001);
    const auto [low, high] = queries::price_band(close, bp);
    const Band want = band_of(close, bp);
    ASSERT_EQ(low, want.low) << close << " " << bp;
    ASSERT_EQ(high, want.high) << close << " " << bp;
  }
}

TEST(ContractsExchangeBand, NoContinuousTradeOutsideTheDaysBand) {
  // RULES.md "Trading": orders outside the daily band are rejected; the band is the day's
  // price limit. A good-till-cancelled order placed inside yesterday's band can be outside
  // today's; it must not make a trade outside today's band.
  World w;
  w.fund(w.t[0], 100'000'000);
  w.fund(w.t[2], 100'000'000);
  w.units(w.t[1], 1'000);
  w.units(w.t[3], 1'000);
  w.open_day(0);
  w.place(w.t[1], kSell, 1'800, 100);
  w.place(w.t[2], kBuy, 1'800, 100);  // the day's only trade: the close is 18.00
  const std::uint64_t gtc = w.place(w.t[0], kBuy, 2'100, 10, kGtc);
  w.close_day();
  ASSERT_EQ(w.product_market().prev_close_fen, 1'800u);
  w.open_day(1);  // band 16.20 - 19.80: the resting 21.00 bid is above it
  const Band band = band_of(1'800, 1'000);
  const Receipt sell = w.order(w.t[3], kSell, band.high, 10);
  EXPECT_TRUE(sell.ok()) << sell.message;
  for (const TradeRecord& trade : w.trades()) {
    if (trade.day_index != 2) continue;
    EXPECT_GE(trade.price_fen, band.low) << "trade " << trade.id;
    EXPECT_LE(trade.price_fen, band.high)
        << "trade " << trade.id << " (against GTC order " << gtc << ") is outside today's band";
  }
}

// The exchange narrows the band between two trading days: a GTC bid inside yesterday's band but
// above today's top must not trade (RULES.md: no trade outside the day's band).
TEST(ContractsExchangeBand, ABandNarrowedBeforeTheOpenDoesNotLetGtcOrdersTradeOutsideIt) {
  World w;
  w.fund(w.t[0], 100'000'000);
  w.units(w.t[1], 1'000);
  w.open_day(0);
  const std::uint64_t gtc = w.place(w.t[0], kBuy, 2'100, 10, kGtc);  // in 18.00 - 22.00
  w.close_day();  // no trade: the close stays 20.00; 21.00 is inside the next +/- 10 % band
  ASSERT_EQ(w.order_record(gtc).status, OrderStatus::kOpen);
  MarketParams narrow = w.params();
  narrow.band_bp = 200;  // +/- 2 %: 19.60 - 20.40
  ASSERT_TRUE(w.set_params(narrow).ok());
  w.open_day(1);
  const Band band = band_of(2'000, 200);
  const Receipt sell = w.order(w.t[1], kSell, band.high, 10);
  EXPECT_TRUE(sell.ok()) << sell.message;
  for (const TradeRecord& trade : w.trades()) {
    EXPECT_LE(trade.price_fen, band.high)
        << "trade " << trade.id << " against GTC order " << gtc << " is outside today's band";
  }
}

// The same within a day: a band narrowed while the day is open must not let a resting order
// trade outside it (either the change waits for the next day or the resting order goes).
TEST(ContractsExchangeBand, ABandNarrowedDuringTheDayDoesNotLetRestingOrdersTradeOutsideIt) {
  World w;
  w.fund(w.t[0], 100'000'000);
  w.units(w.t[1], 1'000);
  w.open_day(0);
  w.place(w.t[0], kBuy, 2'100, 10);
  MarketParams narrow = w.params();
  narrow.band_bp = 200;
  const Receipt changed = w.set_params(narrow);
  const Band band = band_of(2'000, changed.ok() ? 200 : 1'000);
  const Receipt sell = w.order(w.t[1], kSell, band.high, 10);
  EXPECT_TRUE(sell.ok()) << sell.message;
  for (const TradeRecord& trade : w.trades()) {
    EXPECT_LE(trade.price_fen, band.high) << "trade " << trade.id << " is outside the band";
  }
}

// RULES.md: a frozen account makes no transfers and no orders. Its resting orders must not trade
// (units leaving a frozen account).
TEST(ContractsExchangeMatching, AFrozenAccountsRestingOrderDoesNotTrade) {
  World w;
  w.fund(w.t[0], 1'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  w.place(w.t[1], kSell, 2'000, 10);
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{w.t[1].public_key(), 1}).ok());
  w.order(w.t[0], kBuy, 2'000, 10);
  EXPECT_EQ(w.held(w.t[1]), 100u) << "the frozen account sold units";
  EXPECT_TRUE(w.trades().empty());
}

// =================================================================================================
// Continuous trading through the ledger
// =================================================================================================

TEST(ContractsExchangeMatching, PriceTimePriorityMakerPriceFeesAndPriceImprovement) {
  World w;
  const auto& buyer = w.t[0];
  const auto &s1 = w.t[1], &s2 = w.t[2], &s3 = w.t[3];
  const std::uint32_t bp = w.fee_bp();
  w.fund(buyer, 10'000'000);
  w.units(s1, 1'000);  // serials 2..1001 (serial 1 went to the reserve)
  w.units(s2, 1'000);  // 1002..2001
  w.units(s3, 1'000);  // 2002..3001
  w.open_day(0);
  const std::uint64_t id1 = w.place(s1, kSell, 2'010, 10);
  const std::uint64_t id2 = w.place(s2, kSell, 2'000, 10);
  const std::uint64_t id3 = w.place(s3, kSell, 2'000, 10);
  EXPECT_EQ(w.locks(s1).sell_locked_t, 10u);
  auto depth = queries::book(Ledger(w.chain_state()), kProduct, 10);
  ASSERT_TRUE(depth.is_ok()) << depth.status().to_string();
  ASSERT_EQ(depth->asks.size(), 2u);
  EXPECT_EQ(depth->asks[0].price_fen, 2'000u);
  EXPECT_EQ(depth->asks[0].quantity_t, 20u);
  EXPECT_EQ(depth->asks[0].orders, 2u);
  EXPECT_EQ(depth->asks[1].price_fen, 2'010u);
  EXPECT_TRUE(depth->bids.empty());

  // A buy of 25 at 2,010: 10 from s2 and 10 from s3 at 2,000 (time priority), 5 from s1 at
  // 2,010 - each at the maker's price.
  const std::uint64_t id4 = w.place(buyer, kBuy, 2'010, 25);
  const auto trades = w.trades();
  ASSERT_EQ(trades.size(), 3u);
  expect_trade(trades[0], TradeKind::kContinuous, buyer, s2, 2'000, 10, fee(20'000, bp),
               fee(20'000, bp));
  expect_trade(trades[1], TradeKind::kContinuous, buyer, s3, 2'000, 10, fee(20'000, bp),
               fee(20'000, bp));
  expect_trade(trades[2], TradeKind::kContinuous, buyer, s1, 2'010, 5, fee(10'050, bp),
               fee(10'050, bp));
  EXPECT_EQ(trades[0].sell_ref, id2);
  EXPECT_EQ(trades[1].sell_ref, id3);
  EXPECT_EQ(trades[2].sell_ref, id1);
  for (const auto& trade : trades) {
    EXPECT_EQ(trade.buy_ref, id4);
    EXPECT_EQ(trade.aggressor, kBuy);
    EXPECT_EQ(trade.day_index, 1u);
  }
  EXPECT_LT(trades[0].id, trades[1].id);
  EXPECT_LT(trades[1].id, trades[2].id);
  // The buyer paid value + fee per fill; the price improvement (locked at 2,010, paid 2,000
  // for 20 t) and the fee rounding came back to available.
  const std::uint64_t paid =
      20'000 + fee(20'000, bp) + 20'000 + fee(20'000, bp) + 10'050 + fee(10'050, bp);
  EXPECT_GT(lock_for(25, 2'010, bp), paid);
  EXPECT_EQ(w.funds(buyer), (FundAccount{10'000'000 - paid, 0}));
  EXPECT_EQ(w.funds(s1), (FundAccount{10'050 - fee(10'050, bp), 0}));
  EXPECT_EQ(w.funds(s2), (FundAccount{20'000 - fee(20'000, bp), 0}));
  EXPECT_EQ(w.funds(s3), (FundAccount{20'000 - fee(20'000, bp), 0}));
  // Both fees of every fill went to the exchange's fund account.
  EXPECT_EQ(w.funds(w.exchange).available_fen, 2 * (2 * fee(20'000, bp) + fee(10'050, bp)));
  // Units: delivered with the locks released, lowest serials of each seller first.
  EXPECT_EQ(w.held(buyer), 25u);
  EXPECT_EQ(w.held(s1), 995u);
  EXPECT_EQ(w.held(s2), 990u);
  EXPECT_EQ(w.locks(s1).sell_locked_t, 5u);
  EXPECT_EQ(w.locks(s2).sell_locked_t, 0u);
  EXPECT_EQ(w.chain.ranges(buyer, 2025),
            (std::vector<SerialRange>{{2, 7}, {1002, 1012}, {2002, 2012}}));
  // Orders.
  EXPECT_EQ(w.order_record(id1).status, OrderStatus::kOpen);
  EXPECT_EQ(w.order_record(id1).remaining_t, 5u);
  EXPECT_EQ(w.order_record(id2).status, OrderStatus::kFilled);
  EXPECT_EQ(w.order_record(id3).status, OrderStatus::kFilled);
  const OrderRecord taker = w.order_record(id4);
  EXPECT_EQ(taker.status, OrderStatus::kFilled);
  EXPECT_EQ(taker.remaining_t, 0u);
  EXPECT_EQ(taker.filled_value_fen, 50'050u);
  EXPECT_EQ(taker.locked_fen, 0u);

  // A partial fill of the taker: 5 at 2,010 from s1, the other 5 rest at 2,015 with L(5).
  const FundAccount before = w.funds(buyer);
  const std::uint64_t id5 = w.place(buyer, kBuy, 2'015, 10);
  EXPECT_EQ(w.order_record(id1).status, OrderStatus::kFilled);
  const OrderRecord rest = w.order_record(id5);
  EXPECT_EQ(rest.status, OrderStatus::kOpen);
  EXPECT_EQ(rest.remaining_t, 5u);
  EXPECT_EQ(rest.locked_fen, lock_for(5, 2'015, bp));
  EXPECT_EQ(w.funds(buyer).locked_fen, lock_for(5, 2'015, bp));
  EXPECT_EQ(w.funds(buyer).available_fen,
            before.available_fen - (10'050 + fee(10'050, bp)) - lock_for(5, 2'015, bp));
  EXPECT_EQ(w.locks(buyer).buy_open_t, 5u);

  // A sell taker fills against the resting buy at the buy's price (2,015), and the buy's lock
  // drops to L(2): what it releases pays the fill with its fee, the rest returns.
  const FundAccount buyer_before = w.funds(buyer);
  const std::uint64_t id6 = w.place(s2, kSell, 1'990, 3);
  const auto after = w.trades();
  ASSERT_EQ(after.size(), 5u);
  expect_trade(after[4], TradeKind::kContinuous, buyer, s2, 2'015, 3, fee(6'045, bp),
               fee(6'045, bp));
  EXPECT_EQ(after[4].aggressor, kSell);
  EXPECT_EQ(after[4].buy_ref, id5);
  EXPECT_EQ(after[4].sell_ref, id6);
  const std::uint64_t released = lock_for(5, 2'015, bp) - lock_for(2, 2'015, bp);
  EXPECT_EQ(w.funds(buyer).locked_fen, lock_for(2, 2'015, bp));
  EXPECT_EQ(w.funds(buyer).available_fen,
            buyer_before.available_fen + released - (6'045 + fee(6'045, bp)));
  EXPECT_EQ(w.order_record(id5).remaining_t, 2u);
  EXPECT_EQ(w.order_record(id6).status, OrderStatus::kFilled);

  // Cancel: the owner's cancel releases the whole remaining lock.
  const FundAccount pre_cancel = w.funds(buyer);
  w.refused(s1, CancelOrder{id5});  // not the owner
  ASSERT_TRUE(w.cancel(buyer, id5).ok());
  EXPECT_EQ(w.funds(buyer), (FundAccount{pre_cancel.available_fen + pre_cancel.locked_fen, 0}));
  EXPECT_EQ(w.locks(buyer).buy_open_t, 0u);
  EXPECT_EQ(w.order_record(id5).status, OrderStatus::kCancelled);
  EXPECT_EQ(w.order_record(id5).end, OrderEnd::kByOwner);
  w.refused(buyer, CancelOrder{id5});    // no longer open
  w.refused(buyer, CancelOrder{id4});    // filled
  w.refused(buyer, CancelOrder{9'999});  // never existed
  // The exchange may cancel anyone's order; a sell's unit lock is released.
  const std::uint64_t id7 = w.place(s3, kSell, 2'100, 4);
  EXPECT_EQ(w.locks(s3).sell_locked_t, 4u);
  ASSERT_TRUE(w.cancel(w.exchange, id7).ok());
  EXPECT_EQ(w.locks(s3).sell_locked_t, 0u);
  EXPECT_EQ(w.order_record(id7).end, OrderEnd::kByExchange);
  auto empty = queries::book(Ledger(w.chain_state()), kProduct, 10);
  ASSERT_TRUE(empty.is_ok());
  EXPECT_TRUE(empty->bids.empty());
  EXPECT_TRUE(empty->asks.empty());
}

TEST(ContractsExchangeMatching, InsufficientFundsOrUnitsAreRefused) {
  World w;
  const std::uint32_t bp = w.fee_bp();
  w.fund(w.t[0], lock_for(10, 2'000, bp));
  w.units(w.t[1], 10);
  w.open_day(0);
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 11, kDay, 0});
  // Exactly L(10) is enough.
  const std::uint64_t buy = w.place(w.t[0], kBuy, 2'000, 10);
  EXPECT_EQ(w.funds(w.t[0]), (FundAccount{0, lock_for(10, 2'000, bp)}));
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 1'800, 1, kDay, 0});
  ASSERT_TRUE(w.cancel(w.t[0], buy).ok());
  // Units: the sellable part is balance - sell_locked.
  w.refused(w.t[1], PlaceOrder{kProduct, kSell, 2'100, 11, kDay, 0});
  w.place(w.t[1], kSell, 2'100, 6);
  w.refused(w.t[1], PlaceOrder{kProduct, kSell, 2'100, 5, kDay, 0});
  w.place(w.t[1], kSell, 2'100, 4);
  // Units locked for sale cannot be transferred either.
  w.refused(w.t[1], TransferUnits{w.t[3].public_key(), kProduct, 1});
}

TEST(ContractsExchangeMatching, DayOrdersExpireAtTheCloseGoodTillCancelledStay) {
  World w;
  const std::uint32_t bp = w.fee_bp();
  w.fund(w.t[0], 1'000'000);
  w.fund(w.t[2], 1'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  const std::uint64_t day_buy = w.place(w.t[0], kBuy, 1'990, 5, kDay);
  const std::uint64_t gtc_buy = w.place(w.t[0], kBuy, 1'980, 5, kGtc);
  const std::uint64_t day_sell = w.place(w.t[1], kSell, 2'050, 5, kDay);
  const std::uint64_t gtc_sell = w.place(w.t[1], kSell, 2'060, 5, kGtc);
  EXPECT_EQ(w.funds(w.t[0]).locked_fen, lock_for(5, 1'990, bp) + lock_for(5, 1'980, bp));
  w.close_day();
  EXPECT_EQ(w.order_record(day_buy).status, OrderStatus::kExpired);
  EXPECT_EQ(w.order_record(day_buy).end, OrderEnd::kDayClose);
  EXPECT_EQ(w.order_record(day_sell).status, OrderStatus::kExpired);
  EXPECT_EQ(w.order_record(gtc_buy).status, OrderStatus::kOpen);
  EXPECT_EQ(w.order_record(gtc_sell).status, OrderStatus::kOpen);
  EXPECT_EQ(w.funds(w.t[0]),
            (FundAccount{1'000'000 - lock_for(5, 1'980, bp), lock_for(5, 1'980, bp)}));
  EXPECT_EQ(w.locks(w.t[1]).sell_locked_t, 5u);
  EXPECT_EQ(w.locks(w.t[0]).buy_open_t, 5u);
  // Nothing traded: the close is unchanged, the next day's band is the same.
  EXPECT_EQ(w.product_market().prev_close_fen, 2'000u);
  // The next day the GTC orders are still in the book and trade.
  w.open_day(1);
  w.place(w.t[2], kBuy, 2'060, 5);
  ASSERT_EQ(w.trades().size(), 1u);
  EXPECT_EQ(w.trades()[0].sell_ref, gtc_sell);
  EXPECT_EQ(w.trades()[0].day_index, 2u);
  w.place(w.t[1], kSell, 1'980, 5);
  ASSERT_EQ(w.trades().size(), 2u);
  EXPECT_EQ(w.trades()[1].buy_ref, gtc_buy);
  EXPECT_EQ(w.funds(w.t[0]).locked_fen, 0u);
  EXPECT_EQ(w.order_record(gtc_buy).status, OrderStatus::kFilled);
}

TEST(ContractsExchangeMatching, SelfTradePreventionCancelsTheRestingOrder) {
  World w;
  const std::uint32_t bp = w.fee_bp();
  const auto& a = w.t[1];
  const auto& b = w.t[3];
  w.fund(a, 1'000'000);
  w.units(a, 100);
  w.units(b, 100);
  w.open_day(0);
  const std::uint64_t own1 = w.place(a, kSell, 2'000, 10);
  const std::uint64_t other = w.place(b, kSell, 2'000, 10);
  const std::uint64_t own2 = w.place(a, kSell, 2'005, 10);
  EXPECT_EQ(w.locks(a).sell_locked_t, 20u);
  // a buys 15 at 2,005: its own 2,000 ask is cancelled (resting), 10 trade with b, its own
  // 2,005 ask is cancelled too, and 5 rest.
  const std::uint64_t buy = w.place(a, kBuy, 2'005, 15);
  const auto trades = w.trades();
  ASSERT_EQ(trades.size(), 1u);
  expect_trade(trades[0], TradeKind::kContinuous, a, b, 2'000, 10, fee(20'000, bp),
               fee(20'000, bp));
  EXPECT_EQ(trades[0].sell_ref, other);
  for (std::uint64_t id : {own1, own2}) {
    EXPECT_EQ(w.order_record(id).status, OrderStatus::kCancelled);
    EXPECT_EQ(w.order_record(id).end, OrderEnd::kSelfTrade);
  }
  EXPECT_EQ(w.locks(a).sell_locked_t, 0u);
  EXPECT_EQ(w.order_record(buy).remaining_t, 5u);
  EXPECT_EQ(w.order_record(buy).status, OrderStatus::kOpen);
  EXPECT_EQ(w.funds(a),
            (FundAccount{1'000'000 - (20'000 + fee(20'000, bp)) - lock_for(5, 2'005, bp),
                         lock_for(5, 2'005, bp)}));
  EXPECT_EQ(w.held(a), 110u);
  // The other way round: a sell meets the owner's resting buy, which is cancelled with its lock.
  w.place(a, kSell, 2'000, 3);
  EXPECT_EQ(w.order_record(buy).status, OrderStatus::kCancelled);
  EXPECT_EQ(w.order_record(buy).end, OrderEnd::kSelfTrade);
  EXPECT_EQ(w.funds(a).locked_fen, 0u);
  EXPECT_EQ(w.trades().size(), 1u);
  EXPECT_EQ(w.locks(a).sell_locked_t, 3u);  // the new sell rests
}

TEST(ContractsExchangeMatching, FrozenAccountsAndRolesThatMayNotTrade) {
  World w;
  w.fund(w.t[0], 1'000'000);
  w.units(w.t[1], 100);
  w.fund(w.verifier, 1'000'000);
  w.units(w.reserve, 100);
  w.open_day(0);
  const std::uint64_t resting = w.place(w.t[1], kSell, 2'100, 10);
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{w.t[0].public_key(), 1}).ok());
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'100, 1, kDay, 0});
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{w.t[0].public_key(), 0}).ok());
  EXPECT_TRUE(w.order(w.t[0], kBuy, 2'100, 1).ok());
  // A frozen seller cannot place either.
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{w.t[1].public_key(), 1}).ok());
  w.refused(w.t[1], PlaceOrder{kProduct, kSell, 2'100, 1, kDay, 0});
  EXPECT_EQ(w.order_record(resting).remaining_t, 9u);
  // A verifier may not hold allowances; the reserve trades only through intervention orders.
  w.refused(w.verifier, PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 0});
  w.refused(w.reserve, PlaceOrder{kProduct, kSell, 2'000, 1, kDay, 0});
  // Intervention orders need an instruction (none yet), and only the reserve sends them.
  w.refused(w.reserve, PlaceOrder{kProduct, kSell, 2'000, 1, kDay, 1});
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 2'000, 1, kDay, 1});
}

TEST(ContractsExchangeMatching, PositionLimitCountsHoldingsAndOpenBuys) {
  MarketParams params;
  params.position_limit_t = 100;
  World w(params);
  w.fund(w.t[0], 10'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  const std::uint64_t first = w.place(w.t[0], kBuy, 1'900, 60);
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 1'900, 41, kDay, 0});
  const std::uint64_t second = w.place(w.t[0], kBuy, 1'900, 40);
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 1'900, 1, kDay, 0});
  // Fills move quantity from open buys to holdings: still 100.
  w.place(w.t[1], kSell, 1'900, 30);
  EXPECT_EQ(w.held(w.t[0]), 30u);
  EXPECT_EQ(w.locks(w.t[0]).buy_open_t, 70u);
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 1'900, 1, kDay, 0});
  ASSERT_TRUE(w.cancel(w.t[0], second).ok());
  // 30 held + 30 open (first has 30 left) + 40 = 100.
  EXPECT_EQ(w.order_record(first).remaining_t, 30u);
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 1'900, 41, kDay, 0});
  EXPECT_TRUE(w.order(w.t[0], kBuy, 1'900, 40).ok());
  // Sells are not limited.
  EXPECT_TRUE(w.order(w.t[1], kSell, 2'100, 70).ok());
}

TEST(ContractsExchangeMatching, AFeeRaiseWhileBuyOrdersRest) {
  // The exchange may set new parameters at any time (docs/exchange.md: versioned). A buy that
  // rests locked L(q) at the fee in force when it was placed; after a fee raise its next fill
  // must still settle (or be refused cleanly), never take more than the account holds, and
  // never stop the node.
  World w;
  w.fund(w.t[0], 1'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  const std::uint64_t buy = w.place(w.t[0], kBuy, 2'000, 100);  // locks 200,000 + 1,000
  MarketParams raised = w.params();
  raised.fee_bp = 200;  // 2 %
  ASSERT_TRUE(w.set_params(raised).ok());
  const Receipt sell = w.order(w.t[1], kSell, 2'000, 1);
  EXPECT_TRUE(sell.ok()) << sell.message;
  const OrderRecord after = w.order_record(buy);
  EXPECT_EQ(w.funds(w.t[0]).locked_fen, after.locked_fen);
  EXPECT_EQ(w.funds(w.t[0]).available_fen + w.funds(w.t[0]).locked_fen +
                w.funds(w.t[1]).available_fen + w.funds(w.exchange).available_fen,
            1'000'000u);
}

TEST(ContractsExchangeMatching, MatchStepLimitCancelsTheRemainder) {
  World w;
  const std::uint32_t bp = w.fee_bp();
  w.fund(w.t[0], 100'000'000);
  w.units(w.t[1], 2'000);
  w.open_day(0);
  // 1,001 asks of 1 t at 20.00 (and one of the buyer's own at 19.99, cancelled first: a
  // self-trade cancellation counts as a step).
  const std::uint64_t own = w.place(w.t[0], kBuy, 1'900, 1);  // rests, does not cross
  (void)own;
  w.units(w.t[0], 10);
  const std::uint64_t own_ask = w.place(w.t[0], kSell, 1'999, 1);
  std::vector<Call> asks(1'001, Call{PlaceOrder{kProduct, kSell, 2'000, 1, kDay, 0}});
  w.batch(w.t[1], asks);
  const std::uint64_t first_ask = own_ask + 1;
  // A buy of 1,005 t at 20.00: 1 self-trade cancel + 999 fills = 1,000 steps; asks remain that
  // it crosses, so the remaining 6 t are cancelled, not rested.
  const FundAccount before = w.funds(w.t[0]);
  const std::uint64_t buy = w.place(w.t[0], kBuy, 2'000, 1'005);
  const OrderRecord taker = w.order_record(buy);
  EXPECT_EQ(taker.status, OrderStatus::kCancelled);
  EXPECT_EQ(taker.end, OrderEnd::kStepLimit);
  EXPECT_EQ(taker.filled_value_fen, 999u * 2'000);
  EXPECT_EQ(w.order_record(own_ask).end, OrderEnd::kSelfTrade);
  EXPECT_EQ(w.trades().size(), 999u);
  EXPECT_EQ(w.order_record(first_ask + 998).status, OrderStatus::kFilled);
  EXPECT_EQ(w.order_record(first_ask + 999).status, OrderStatus::kOpen);
  EXPECT_EQ(w.order_record(first_ask + 1'000).status, OrderStatus::kOpen);
  // The remainder's lock is released; only the 19.00 bid still locks.
  EXPECT_EQ(w.funds(w.t[0]).locked_fen, lock_for(1, 1'900, bp));
  EXPECT_EQ(w.funds(w.t[0]).available_fen, before.available_fen - 999 * (2'000 + fee(2'000, bp)));
  EXPECT_EQ(w.locks(w.t[0]).buy_open_t, 1u);
  EXPECT_EQ(w.held(w.t[0]), 10u + 999u);
}

TEST(ContractsExchangeMatching, AnOrderOverTheOpenOfferLimitIsRefusedBeforeItTouchesTheBook) {
  // A transaction that fails after reaching a book drops that book, to be rebuilt from the state
  // on its next use (contracts/market_books.h): the open-offer limit is checked first, so a
  // participant at the limit cannot make every validator rebuild a full book per order it sends.
  World w;
  w.fund(w.t[0], 100'000'000);
  w.units(w.t[1], 10);
  w.open_day(0);
  std::vector<Call> bids(kMaxOpenOffersPerProduct, Call{PlaceOrder{kProduct, kBuy, 1'900, 1, kGtc, 0}});
  w.batch(w.t[0], bids, 1'000);
  EXPECT_EQ(w.chain.executor().order_books_held(), 1u);
  w.refused(w.t[0], PlaceOrder{kProduct, kBuy, 1'900, 1, kGtc, 0}, "resting orders and open listings per participant");
  EXPECT_EQ(w.chain.executor().order_books_held(), 1u);  // still held: not touched by the refused order
  // And the book still matches what the state holds: a sell at 19.00 fills the oldest bid.
  const std::uint64_t sell = w.place(w.t[1], kSell, 1'900, 1);
  EXPECT_EQ(w.order_record(sell).status, OrderStatus::kFilled);
  EXPECT_EQ(w.trades().size(), 1u);
  EXPECT_EQ(w.held(w.t[0]), 1u);
}

TEST(ContractsExchangeMatching, AFillOfSellerWithScatteredSerials) {
  // The seller's 1,100 t are 1,100 separate serial ranges (issued interleaved with another
  // holder's). docs/exchange.md: each fill delivers the lowest serials of the seller first; a
  // transfer moves at most kMaxRangesPerTransfer (1,024) ranges.
  World w;
  w.fund(w.t[0], 100'000'000);
  std::vector<Call> issues;
  for (int i = 0; i < 1'100; ++i) {
    issues.push_back(Call{Propose{AuthorityAct{IssueAllowances{w.t[1].public_key(), 2025, 1}}}});
    issues.push_back(Call{Propose{AuthorityAct{IssueAllowances{w.t[3].public_key(), 2025, 1}}}});
  }
  w.batch(w.chain.authority(), issues);
  ASSERT_EQ(w.chain.ranges(w.t[1], 2025).size(), 1'100u);
  w.open_day(0);
  const std::uint64_t ask = w.place(w.t[1], kSell, 2'000, 1'100);
  // A buy of the whole order needs 1,100 ranges in one fill.
  const Receipt big = w.order(w.t[0], kBuy, 2'000, 1'100);
  EXPECT_TRUE(big.ok()) << "a marketable buy of 1,100 t against one resting ask of 1,100 t is "
                           "refused: "
                        << big.message;
  if (!big.ok()) {
    // Then at least nothing changed, and smaller buys still trade with the ask.
    EXPECT_EQ(w.order_record(ask).remaining_t, 1'100u);
    EXPECT_TRUE(w.order(w.t[0], kBuy, 2'000, 1'000).ok());
    EXPECT_EQ(w.order_record(ask).remaining_t, 100u);
  } else {
    EXPECT_EQ(w.held(w.t[0]), 1'100u);
  }
}

// =================================================================================================
// Closing price, surveillance, stabilisation
// =================================================================================================

TEST(ContractsExchangeClose, ClosingPriceIsTheVwapRoundedHalfUp) {
  World w;
  w.fund(w.t[0], 10'000'000);
  w.units(w.t[1], 1'000);
  w.open_day(0);
  // Day 1: 10 t at 2,000 and 5 t at 2,013: 30,065 / 15 = 2,004.33 -> 2,004.
  w.place(w.t[1], kSell, 2'000, 10);
  w.place(w.t[0], kBuy, 2'000, 10);
  w.place(w.t[1], kSell, 2'013, 5);
  w.place(w.t[0], kBuy, 2'013, 5);
  // Fixed-price and block trades do not count towards the close.
  w.close_day();
  auto day1 = w.day_stats(1);
  ASSERT_TRUE(day1.has_value());
  EXPECT_EQ(day1->close_fen, vwap_half_up(30'065, 15));
  EXPECT_EQ(day1->close_fen, 2'004u);
  EXPECT_EQ(day1->open_fen, 2'000u);
  EXPECT_EQ(day1->high_fen, 2'013u);
  EXPECT_EQ(day1->low_fen, 2'000u);
  EXPECT_EQ(day1->volume_t, 15u);
  EXPECT_EQ(day1->value_fen, 30'065u);
  EXPECT_EQ(day1->trades, 2u);
  EXPECT_EQ(day1->band_hit, 0);
  EXPECT_EQ(day1->closed, 1);
  EXPECT_EQ(day1->date, 20250602u);
  EXPECT_EQ(w.product_market().prev_close_fen, 2'004u);

  // Day 2: the band is around 2,004: [1,804 (1,803.6 up), 2,204 (2,204.4 down)]. Trades of
  // 1 t at 2,001 and 1 t at 2,002: 2,001.5 -> 2,002 (half up).
  w.open_day(1);
  const Band band2 = band_of(2'004, 1'000);
  EXPECT_EQ(band2.low, 1'804u);
  EXPECT_EQ(band2.high, 2'204u);
  refused_outside_band(w, w.t[0], PlaceOrder{kProduct, kBuy, 1'803, 1, kDay, 0}, "18.04", "22.04");
  w.place(w.t[1], kSell, 2'001, 1);
  w.place(w.t[0], kBuy, 2'001, 1);
  w.place(w.t[1], kSell, 2'002, 1);
  w.place(w.t[0], kBuy, 2'002, 1);
  w.close_day();
  EXPECT_EQ(w.day_stats(2)->close_fen, 2'002u);
  EXPECT_EQ(w.day_stats(2)->prev_close_fen, 2'004u);
  EXPECT_EQ(w.day_stats(2)->band_low_fen, 1'804u);
  EXPECT_EQ(w.product_market().prev_close_fen, 2'002u);

  // Day 3: no trade, the close stays.
  w.open_day(2);
  w.place(w.t[0], kBuy, 1'950, 1);
  w.close_day();
  EXPECT_EQ(w.day_stats(3)->close_fen, 2'002u);
  EXPECT_EQ(w.day_stats(3)->volume_t, 0u);
  EXPECT_EQ(w.product_market().prev_close_fen, 2'002u);
  auto days = queries::days(Ledger(w.chain_state()), kProduct, 10);
  ASSERT_TRUE(days.is_ok());
  ASSERT_EQ(days->items.size(), 3u);
  EXPECT_EQ(days->items[0].day_index, 3u);  // newest first
}

// One band-hit trade (1 t at the upper edge) on the current day.
void hit_the_band(World& w) {
  const std::uint64_t edge = band_of(w.product_market().prev_close_fen, w.params().band_bp).high;
  w.place(w.t[1], kSell, edge, 1);
  w.place(w.t[0], kBuy, edge, 1);
}
// One trade inside the band (at the previous close), so the close barely moves.
void trade_inside(World& w) {
  const std::uint64_t close = w.product_market().prev_close_fen;
  w.place(w.t[1], kSell, close, 1);
  w.place(w.t[0], kBuy, close, 1);
}

TEST(ContractsExchangeSurveillance, TriggerRaisesAndDropsWithTheWindow) {
  MarketParams params;
  params.band_hits_trigger = 2;
  params.band_window_days = 3;
  World w(params);
  w.fund(w.t[0], 100'000'000);
  w.units(w.t[1], 1'000);
  w.units(w.reserve, 10'000);
  const InstructReserve instruct{w.reserve.public_key(), kProduct, kSell, 100};
  // Day 1: a band hit: 1 of the last 3 days.
  w.open_day(0);
  hit_the_band(w);
  EXPECT_EQ(w.day_stats(1)->band_hit, 1);
  w.close_day();
  EXPECT_EQ(w.product_market().trigger_raised, 0);
  w.refused(w.chain.authority(), AuthorityAct{instruct});  // no trigger raised
  // Day 2: another: 2 of 3 -> raised.
  w.open_day(1);
  hit_the_band(w);
  w.close_day();
  EXPECT_EQ(w.product_market().trigger_raised, 1);
  auto trigger = read<StabilisationTrigger>(w.chain, stab_key(kProduct));
  ASSERT_TRUE(trigger.has_value());
  EXPECT_EQ(trigger->raised, 1);
  EXPECT_EQ(trigger->band_hits, 2u);
  auto alerts = queries::alerts(Ledger(w.chain_state()), 10);
  ASSERT_TRUE(alerts.is_ok());
  ASSERT_FALSE(alerts->items.empty());
  EXPECT_EQ(alerts->items[0].kind, AlertKind::kStabilisationTrigger);
  EXPECT_EQ(alerts->items[0].product, kProduct);
  // Day 3: inside the band: still 2 of the last 3 (hit, hit, no).
  w.open_day(2);
  trade_inside(w);
  w.close_day();
  EXPECT_EQ(w.day_stats(3)->band_hit, 0);
  EXPECT_EQ(w.product_market().trigger_raised, 1);
  // Day 4: 1 of the last 3 -> drops.
  w.open_day(3);
  trade_inside(w);
  w.close_day();
  EXPECT_EQ(w.product_market().trigger_raised, 0);
  w.refused(w.chain.authority(), AuthorityAct{instruct});
}

TEST(ContractsExchangeSurveillance, DefaultTriggerSixBandHitDaysWithinTwenty) {
  World w;
  w.fund(w.t[0], 100'000'000);
  w.units(w.t[1], 1'000);
  // Hit, hit, hit, hit, hit, no hit: five hits -> not raised; the seventh day's hit is the
  // sixth within the window.
  for (int d = 0; d < 6; ++d) {
    w.open_day(d);
    if (d < 5) {
      hit_the_band(w);
    } else {
      trade_inside(w);
    }
    w.close_day();
    EXPECT_EQ(w.product_market().trigger_raised, 0) << "day " << d + 1;
  }
  w.open_day(6);
  hit_the_band(w);
  w.close_day();
  EXPECT_EQ(w.product_market().trigger_raised, 1);
}

TEST(ContractsExchangeSurveillance, ReserveInterventionUnderAnInstruction) {
  MarketParams params;
  params.band_hits_trigger = 1;
  params.band_window_days = 1;
  World w(params);
  w.fund(w.t[0], 100'000'000);
  w.fund(w.t[2], 100'000'000);
  w.units(w.t[1], 1'000);
  w.units(w.reserve, 10'000);
  w.open_day(0);
  hit_the_band(w);
  w.close_day();
  ASSERT_EQ(w.product_market().trigger_raised, 1);
  // Only the authority instructs, only the reserve is instructed.
  w.refused(w.t[0], InstructReserve{w.reserve.public_key(), kProduct, kSell, 30});
  w.refused(w.chain.authority(),
            AuthorityAct{InstructReserve{w.t[1].public_key(), kProduct, kSell, 30}});
  ASSERT_TRUE(w.chain
                  .call(w.chain.authority(),
                        AuthorityAct{InstructReserve{w.reserve.public_key(), kProduct, kSell, 30}})
                  .ok());
  auto mandate = read<Mandate>(w.chain, mandate_key(w.reserve.public_key(), kProduct));
  ASSERT_TRUE(mandate.has_value());
  EXPECT_EQ(mandate->sell_remaining_t, 30u);
  w.open_day(1);
  const std::uint64_t price = w.product_market().prev_close_fen;
  w.refused(w.reserve, PlaceOrder{kProduct, kSell, price, 31, kDay, 1});  // above the mandate
  w.refused(w.reserve, PlaceOrder{kProduct, kBuy, price, 1, kDay, 1});    // not instructed to buy
  w.refused(w.reserve, PlaceOrder{kProduct, kSell, price, 1, kDay, 0});   // not an intervention
  // A buyer rests 20 t; the reserve's intervention sale fills it whole.
  const std::uint64_t bid = w.place(w.t[2], kBuy, price, 20);
  const Receipt sale = w.chain.call(w.reserve, PlaceOrder{kProduct, kSell, price, 20, kDay, 1});
  ASSERT_TRUE(sale.ok()) << sale.message;
  EXPECT_EQ(w.order_record(bid).status, OrderStatus::kFilled);
  const auto trades = w.trades();
  ASSERT_FALSE(trades.empty());
  EXPECT_EQ(trades.back().intervention, 1);
  EXPECT_EQ(trades.back().seller, w.reserve.public_key());
  EXPECT_EQ(trades.back().quantity_t, 20u);
  EXPECT_EQ(read<Mandate>(w.chain, mandate_key(w.reserve.public_key(), kProduct))->sell_remaining_t,
            10u);
  // The buyer's intervention allowances are recorded (they cannot be banked).
  auto history = Ledger(w.chain_state()).history(w.t[2].public_key(), kProduct);
  ASSERT_TRUE(history.is_ok());
  EXPECT_EQ(history->intervention_t, 20u);
  w.refused(w.reserve, PlaceOrder{kProduct, kSell, price, 11, kDay, 1});

  // An intervention order gives back to the instruction what it did not trade: when the reserve
  // cancels it, after a partial fill, and when it expires at the close.
  const std::uint64_t ask = price + 1;
  const auto place_intervention = [&](std::uint64_t quantity_t) {
    const Receipt placed = w.chain.call(w.reserve, PlaceOrder{kProduct, kSell, ask, quantity_t, kDay, 1});
    EXPECT_TRUE(placed.ok()) << placed.message;
    return w.market_state().next_order_id - 1;
  };
  const auto sell_left = [&] {
    return read<Mandate>(w.chain, mandate_key(w.reserve.public_key(), kProduct))->sell_remaining_t;
  };
  const std::uint64_t resting = place_intervention(8);
  EXPECT_EQ(w.order_record(resting).status, OrderStatus::kOpen);
  EXPECT_EQ(sell_left(), 2u);
  ASSERT_TRUE(w.chain.call(w.reserve, CancelOrder{resting}).ok());
  EXPECT_EQ(sell_left(), 10u);
  const std::uint64_t partly = place_intervention(10);
  EXPECT_EQ(sell_left(), 0u);
  w.place(w.t[2], kBuy, ask, 4);
  EXPECT_EQ(w.order_record(partly).remaining_t, 6u);
  ASSERT_TRUE(w.chain.call(w.reserve, CancelOrder{partly}).ok());
  EXPECT_EQ(sell_left(), 6u);
  const std::uint64_t expiring = place_intervention(5);
  EXPECT_EQ(sell_left(), 1u);
  w.close_day();
  EXPECT_EQ(w.order_record(expiring).status, OrderStatus::kExpired);
  EXPECT_EQ(sell_left(), 6u);
}

TEST(ContractsExchangeSurveillance, TradesBetweenRelatedAccountsRaiseAnAlert) {
  World w;
  w.fund(w.t[0], 1'000'000);
  w.fund(w.t[2], 1'000'000);
  w.units(w.t[1], 100);
  w.refused(w.t[0],
            SetRelated{w.t[0].public_key(), w.t[1].public_key(), 1});  // not an authority act
  ASSERT_TRUE(w.chain
                  .call(w.chain.authority(),
                        AuthorityAct{SetRelated{w.t[0].public_key(), w.t[1].public_key(), 1}})
                  .ok());
  w.open_day(0);
  w.place(w.t[1], kSell, 2'000, 10);
  w.place(w.t[2], kBuy, 2'000, 4);  // unrelated
  w.place(w.t[0], kBuy, 2'000, 6);  // related (either direction of the pair)
  const auto trades = w.trades();
  ASSERT_EQ(trades.size(), 2u);
  EXPECT_EQ(trades[0].related, 0);
  EXPECT_EQ(trades[1].related, 1);
  auto alerts = queries::alerts(Ledger(w.chain_state()), 10);
  ASSERT_TRUE(alerts.is_ok());
  ASSERT_EQ(alerts->items.size(), 1u);
  EXPECT_EQ(alerts->items[0].kind, AlertKind::kRelatedTrade);
  EXPECT_EQ(alerts->items[0].trade_id, trades[1].id);
  EXPECT_EQ(alerts->items[0].buyer, w.t[0].public_key());
  EXPECT_EQ(alerts->items[0].seller, w.t[1].public_key());
  // The other direction of the pair: t[0] sells to t[1].
  w.fund(w.t[1], 1'000'000);
  w.place(w.t[0], kSell, 2'000, 2);
  w.place(w.t[1], kBuy, 2'000, 2);
  const auto all = w.trades();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].seller, w.t[0].public_key());
  EXPECT_EQ(all[2].related, 1);
  auto after = queries::alerts(Ledger(w.chain_state()), 10);
  ASSERT_TRUE(after.is_ok());
  EXPECT_EQ(after->items.size(), 2u);
}

TEST(ContractsExchangeSurveillance, InterventionAllowancesAreCancelledAtYearClose) {
  MarketParams params;
  params.band_hits_trigger = 1;
  params.band_window_days = 1;
  World w(params);
  const auto& buyer = w.t[0];  // a covered enterprise
  w.fund(buyer, 100'000'000);
  w.fund(w.t[2], 100'000'000);
  w.units(w.t[1], 1'000);
  w.units(w.reserve, 1'000);
  EmissionRecord emissions;
  emissions.enterprise = buyer.public_key();
  emissions.year = 2025;
  emissions.status = MrvStatus::kApproved;
  emissions.approval_version = 1;
  emissions.obligation_t = 5;
  put_record(w.chain, keys::emission(2025, buyer.public_key()), emissions);
  w.open_day(0);
  w.place(w.t[1], kSell, 2'200, 1);
  w.place(w.t[2], kBuy, 2'200, 1);  // a band hit: the trigger rises at the close
  w.close_day();
  ASSERT_EQ(w.product_market().trigger_raised, 1);
  ASSERT_TRUE(w.chain
                  .call(w.chain.authority(),
                        AuthorityAct{InstructReserve{w.reserve.public_key(), kProduct, kSell, 20}})
                  .ok());
  w.open_day(1);
  const std::uint64_t price = w.product_market().prev_close_fen;
  w.place(buyer, kBuy, price, 20);
  const Receipt sale = w.chain.call(w.reserve, PlaceOrder{kProduct, kSell, price, 20, kDay, 1});
  ASSERT_TRUE(sale.ok()) << sale.message;
  ASSERT_EQ(w.held(buyer), 20u);
  ASSERT_TRUE(w.chain.call(buyer, Surrender{2025, kProduct, 5}).ok());
  // 10 of the 15 left are offered in a good-till-cancelled sell order over the year close.
  const std::uint64_t offer = w.place(buyer, kSell, price + 50, 10, kGtc);
  w.close_day();
  const std::uint64_t deadline = default_rules(2025).surrender_deadline_ms;
  w.chain.hold_time_ms(deadline + 1);
  const Receipt closed = w.chain.call(w.chain.authority(), AuthorityAct{CloseYear{2025}});
  ASSERT_TRUE(closed.ok()) << closed.message;
  // The 15 intervention allowances still held are cancelled, the offer of them first.
  EXPECT_EQ(w.held(buyer), 0u);
  EXPECT_EQ(w.order_record(offer).status, OrderStatus::kCancelled);
  EXPECT_EQ(w.locks(buyer).sell_locked_t, 0u);
  // The book no longer holds the offer: a buy at its price rests.
  w.open_day(days_from_civil(2026, 6, 2) - kFirstDay);
  const std::uint64_t bid = w.place(w.t[2], kBuy, price + 50, 10);
  EXPECT_EQ(w.order_record(bid).status, OrderStatus::kOpen);
  EXPECT_EQ(w.trades().size(), 2u);
}

// =================================================================================================
// Fixed-price transfer
// =================================================================================================

TEST(ContractsExchangeDeals, FixedPriceListing) {
  MarketParams params;
  params.fixed_buyer_fee_bp = 25;  // both fees non-zero, so both are seen
  World w(params);
  const auto& seller = w.t[1];
  const auto& buyer = w.t[0];
  const std::uint32_t sbp = params.fixed_seller_fee_bp;
  const std::uint32_t bbp = params.fixed_buyer_fee_bp;
  w.fund(buyer, 10'000'000);
  w.fund(w.t[2], 10'000);
  w.units(seller, 500);
  w.open_day(0);
  w.refused(seller, CreateListing{kProduct, 2'500, 501});  // more than held
  w.refused(seller, CreateListing{kProduct, 2'500, 0});
  w.refused(seller, CreateListing{kProduct, 0, 10});
  w.refused(w.verifier, CreateListing{kProduct, 2'500, 1});
  // The price is free: 25 yuan is outside the daily band.
  ASSERT_TRUE(w.chain.call(seller, CreateListing{kProduct, 2'500, 100}).ok());
  const std::uint64_t id = w.market_state().next_listing_id - 1;
  auto listing = read<ListingRecord>(w.chain, listing_key(id));
  ASSERT_TRUE(listing.has_value());
  EXPECT_EQ(listing->remaining_t, 100u);
  EXPECT_EQ(listing->status, ListingStatus::kOpen);
  EXPECT_EQ(w.locks(seller).sell_locked_t, 100u);
  w.refused(seller, TakeListing{id, 1});   // one's own listing
  w.refused(buyer, TakeListing{id, 101});  // more than listed
  w.refused(buyer, TakeListing{id, 0});
  w.refused(buyer, TakeListing{id + 1, 1});  // no such listing
  w.refused(w.t[2], TakeListing{id, 4});     // 10,000 fen cannot pay 4 x 2,500 + fee
  // Take part: the buyer pays value + buyer fee, the seller gets value - 4 %.
  ASSERT_TRUE(w.chain.call(buyer, TakeListing{id, 40}).ok());
  const std::uint64_t v1 = 40 * 2'500;
  EXPECT_EQ(w.funds(buyer), (FundAccount{10'000'000 - v1 - fee(v1, bbp), 0}));
  EXPECT_EQ(w.funds(seller), (FundAccount{v1 - fee(v1, sbp), 0}));
  EXPECT_EQ(w.funds(w.exchange).available_fen, fee(v1, bbp) + fee(v1, sbp));
  EXPECT_EQ(w.held(buyer), 40u);
  EXPECT_EQ(w.held(seller), 460u);
  EXPECT_EQ(w.locks(seller).sell_locked_t, 60u);
  EXPECT_EQ(read<ListingRecord>(w.chain, listing_key(id))->remaining_t, 60u);
  auto trades = w.trades();
  ASSERT_EQ(trades.size(), 1u);
  expect_trade(trades[0], TradeKind::kFixedPrice, buyer, seller, 2'500, 40, fee(v1, bbp),
               fee(v1, sbp));
  EXPECT_EQ(trades[0].sell_ref, id);
  // The rest: sold out.
  w.refused(buyer, TakeListing{id, 61});
  ASSERT_TRUE(w.chain.call(buyer, TakeListing{id, 60}).ok());
  EXPECT_EQ(read<ListingRecord>(w.chain, listing_key(id))->status, ListingStatus::kSoldOut);
  EXPECT_EQ(w.locks(seller).sell_locked_t, 0u);
  EXPECT_EQ(w.held(buyer), 100u);
  w.refused(buyer, TakeListing{id, 1});
  w.refused(seller, CancelListing{id});
  // Fixed-price trades are not continuous trades: the day's volume stays 0.
  auto today = w.day_stats(1);
  if (today) {
    EXPECT_EQ(today->volume_t, 0u);
    EXPECT_EQ(today->other_volume_t, 100u);
    EXPECT_EQ(today->other_value_fen, 250'000u);
  }

  // Cancel releases the units; only the seller or the exchange cancels.
  ASSERT_TRUE(w.chain.call(seller, CreateListing{kProduct, 1'000, 50}).ok());
  const std::uint64_t second = w.market_state().next_listing_id - 1;
  EXPECT_EQ(second, id + 1);
  w.refused(buyer, CancelListing{second});
  ASSERT_TRUE(w.chain.call(seller, CancelListing{second}).ok());
  EXPECT_EQ(read<ListingRecord>(w.chain, listing_key(second))->status, ListingStatus::kCancelled);
  EXPECT_EQ(w.locks(seller).sell_locked_t, 0u);
  w.refused(seller, CancelListing{second});
  w.refused(buyer, TakeListing{second, 1});
  ASSERT_TRUE(w.chain.call(seller, CreateListing{kProduct, 1'000, 50}).ok());
  const std::uint64_t third = w.market_state().next_listing_id - 1;
  ASSERT_TRUE(w.chain.call(w.exchange, CancelListing{third}).ok());
  EXPECT_EQ(w.locks(seller).sell_locked_t, 0u);

  // Units locked by a sell order cannot be listed too.
  w.place(seller, kSell, 2'100, 300);
  w.refused(seller, CreateListing{kProduct, 1'000, 101});  // 400 held, 300 locked
  ASSERT_TRUE(w.chain.call(seller, CreateListing{kProduct, 1'000, 100}).ok());
  const std::uint64_t fourth = w.market_state().next_listing_id - 1;
  EXPECT_EQ(w.locks(seller).sell_locked_t, 400u);
  // Frozen buyers, halted products and closed sessions take nothing.
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{buyer.public_key(), 1}).ok());
  w.refused(buyer, TakeListing{fourth, 1});
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{buyer.public_key(), 0}).ok());
  ASSERT_TRUE(w.chain.call(w.exchange, HaltProduct{kProduct, 1}).ok());
  w.refused(buyer, TakeListing{fourth, 1});
  ASSERT_TRUE(w.chain.call(w.exchange, HaltProduct{kProduct, 0}).ok());
  w.at(12, 0);
  w.refused(seller, CreateListing{kProduct, 1'000, 1});
  w.at(13, 0);
  EXPECT_TRUE(w.chain.call(buyer, TakeListing{fourth, 1}).ok());
}

TEST(ContractsExchangeDeals, ListingTakesCountAgainstThePositionLimit) {
  MarketParams params;
  params.position_limit_t = 50;
  World w(params);
  w.fund(w.t[0], 10'000'000);
  w.units(w.t[1], 500);
  w.open_day(0);
  w.place(w.t[0], kBuy, 1'900, 20);  // 20 open buys
  ASSERT_TRUE(w.chain.call(w.t[1], CreateListing{kProduct, 2'000, 100}).ok());
  const std::uint64_t id = w.market_state().next_listing_id - 1;
  w.refused(w.t[0], TakeListing{id, 31});
  EXPECT_TRUE(w.chain.call(w.t[0], TakeListing{id, 30}).ok());
  w.refused(w.t[0], TakeListing{id, 1});
}

// =================================================================================================
// Block trades
// =================================================================================================

TEST(ContractsExchangeDeals, BlockTradeNeedsTheBuyersSignatureTheMinimumAndTheBlockBand) {
  World w;
  const auto& seller = w.t[1];
  const auto& buyer = w.t[0];
  const std::uint32_t bp = w.fee_bp();
  w.fund(buyer, 600'000'000);
  w.fund(w.t[2], 1'000);
  w.units(seller, 300'000);
  w.open_day(0);
  const auto block_tx = [&](const core::SecretKey& from, const core::SecretKey& to,
                            std::uint64_t quantity_t, std::uint64_t price_fen,
                            const core::SecretKey* cosigner) {
    SignedTx tx = make_tx(from, w.chain.next_nonce(from),
                          BlockTrade{to.public_key(), kProduct, quantity_t, price_fen});
    if (cosigner != nullptr) sign_tx(tx, *cosigner);
    return tx;
  };
  // Block band: 2,000 +/- 30 % = [1,400, 2,600].
  w.refused_tx(block_tx(seller, buyer, 100'000, 2'000, nullptr));  // no co-signature
  w.refused_tx(block_tx(seller, buyer, 100'000, 2'000, &w.t[2]));  // someone else's
  w.refused_tx(block_tx(seller, buyer, 99'999, 2'000, &buyer));    // below the minimum
  w.refused_tx(block_tx(seller, buyer, 100'000, 2'601, &buyer));
  w.refused_tx(block_tx(seller, buyer, 100'000, 1'399, &buyer));
  w.refused_tx(block_tx(seller, buyer, 300'001, 2'000, &buyer));      // more than held
  w.refused_tx(block_tx(seller, w.t[2], 100'000, 2'000, &w.t[2]));    // the buyer cannot pay
  w.refused_tx(block_tx(seller, seller, 100'000, 2'000, nullptr));    // with oneself
  w.refused_tx(block_tx(w.verifier, buyer, 100'000, 2'000, &buyer));  // holds nothing

  // At the upper edge of the block band: settles at once, 0.5 % a side.
  const Receipt done = w.chain.submit(block_tx(seller, buyer, 100'000, 2'600, &buyer));
  ASSERT_TRUE(done.ok()) << done.message;
  const std::uint64_t v1 = 100'000ULL * 2'600;
  EXPECT_EQ(w.funds(buyer), (FundAccount{600'000'000 - v1 - fee(v1, bp), 0}));
  EXPECT_EQ(w.funds(seller), (FundAccount{v1 - fee(v1, bp), 0}));
  EXPECT_EQ(w.funds(w.exchange).available_fen, 2 * fee(v1, bp));
  EXPECT_EQ(w.held(buyer), 100'000u);
  EXPECT_EQ(w.held(seller), 200'000u);
  auto trades = w.trades();
  ASSERT_EQ(trades.size(), 1u);
  expect_trade(trades[0], TradeKind::kBlock, buyer, seller, 2'600, 100'000, fee(v1, bp),
               fee(v1, bp));
  // At the lower edge.
  const Receipt low = w.chain.submit(block_tx(seller, buyer, 100'000, 1'400, &buyer));
  ASSERT_TRUE(low.ok()) << low.message;
  // Block trades are not continuous trades: no effect on the close or the day's OHLC.
  auto today = w.day_stats(1);
  if (today) {
    EXPECT_EQ(today->volume_t, 0u);
    EXPECT_EQ(today->other_volume_t, 200'000u);
  }
  // Units locked by a sell order are not available for a block trade.
  w.place(seller, kSell, 2'200, 50'000);
  w.refused_tx(block_tx(seller, buyer, 100'000, 1'400, &buyer));  // 100,000 held, 50,000 locked
  // Frozen parties, halts and closed sessions (the seller has enough free units again).
  w.units(seller, 100'000);
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{buyer.public_key(), 1}).ok());
  w.refused_tx(block_tx(seller, buyer, 100'000, 1'400, &buyer));
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{buyer.public_key(), 0}).ok());
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{seller.public_key(), 1}).ok());
  w.refused_tx(block_tx(seller, buyer, 100'000, 1'400, &buyer));
  ASSERT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{seller.public_key(), 0}).ok());
  ASSERT_TRUE(w.chain.call(w.exchange, HaltProduct{kProduct, 1}).ok());
  w.refused_tx(block_tx(seller, buyer, 100'000, 1'400, &buyer));
  ASSERT_TRUE(w.chain.call(w.exchange, HaltProduct{kProduct, 0}).ok());
  w.at(12, 0);
  w.refused_tx(block_tx(seller, buyer, 100'000, 1'400, &buyer));
  w.close_day();
  EXPECT_EQ(w.product_market().prev_close_fen, 2'000u);  // no continuous trade
}

TEST(ContractsExchangeDeals, BlockTradesCountAgainstThePositionLimit) {
  MarketParams params;
  params.position_limit_t = 150'000;
  World w(params);
  w.fund(w.t[0], 1'000'000'000);
  w.units(w.t[1], 300'000);
  w.units(w.t[0], 30'000);
  w.open_day(0);
  w.place(w.t[0], kBuy, 1'900, 10'000);  // 30,000 held + 10,000 open
  const auto block = [&](std::uint64_t quantity_t) {
    SignedTx tx = make_tx(w.t[1], w.chain.next_nonce(w.t[1]),
                          BlockTrade{w.t[0].public_key(), kProduct, quantity_t, 2'000});
    sign_tx(tx, w.t[0]);
    return tx;
  };
  w.refused_tx(block(110'001));
  const Receipt ok = w.chain.submit(block(110'000));
  EXPECT_TRUE(ok.ok()) << ok.message;
}

TEST(ContractsExchangeFunds, FeesGoToTheExchangeThatLastSetTheParameters) {
  World w;
  const core::SecretKey second = test_key(64);
  ASSERT_TRUE(w.chain.register_participant(second, Role::kExchange, "Second Exchange").ok());
  w.fund(w.t[0], 1'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  w.place(w.t[1], kSell, 2'000, 10);
  w.place(w.t[0], kBuy, 2'000, 5);
  const std::uint64_t first_fees = 2 * fee(10'000, w.fee_bp());
  EXPECT_EQ(w.funds(w.exchange).available_fen, first_fees);
  ASSERT_TRUE(w.chain.call(second, SetMarketParams{w.params()}).ok());
  w.place(w.t[0], kBuy, 2'000, 5);
  EXPECT_EQ(w.funds(w.exchange).available_fen, first_fees);
  EXPECT_EQ(w.funds(second).available_fen, 2 * fee(10'000, w.fee_bp()));
}

// =================================================================================================
// Sealed-bid auctions
// =================================================================================================

TEST(ContractsExchangeDeals, AuctionUniformPriceTieBreakByArrivalRefunds) {
  MarketParams params;
  params.auction_fee_bp = 100;  // 1 % to the buyer, so the lock and the refund show it
  World w(params);
  const std::uint32_t abp = params.auction_fee_bp;
  const auto &b1 = w.t[0], &b2 = w.t[2], &b3 = w.t[4], &poor = w.t[1];
  for (const auto* who : {&b1, &b2, &b3}) w.fund(*who, 1'000'000);
  w.fund(poor, 1'000);
  w.units(w.reserve, 100);
  w.open_day(0);
  const std::uint64_t close_ms = beijing_ms(w.day(), 10, 0);
  const CreateAuction create{w.reserve.public_key(), kProduct, 100, 1'900, close_ms, 0};
  const auto auction_tx = [&](const core::SecretKey& sender, const CreateAuction& call,
                              const core::SecretKey* cosigner) {
    SignedTx tx = make_tx(sender, w.chain.next_nonce(sender), call);
    if (cosigner != nullptr) sign_tx(tx, *cosigner);
    return tx;
  };
  w.refused_tx(auction_tx(w.exchange, create, nullptr));  // the seller did not co-sign
  w.refused_tx(auction_tx(w.t[3], create, &w.reserve));   // not the exchange
  CreateAuction too_much = create;
  too_much.quantity_t = 102;  // the reserve holds 101 (1 from the listing set-up)
  w.refused_tx(auction_tx(w.exchange, too_much, &w.reserve));
  const Receipt created = w.chain.submit(auction_tx(w.exchange, create, &w.reserve));
  ASSERT_TRUE(created.ok()) << created.message;
  const std::uint64_t id = w.market_state().next_auction_id - 1;
  EXPECT_EQ(w.market_state().open_auctions, 1u);
  EXPECT_EQ(w.locks(w.reserve).sell_locked_t, 100u);

  // Bids: 50 @ 21.00 (b1), 30 @ 20.00 (b2), 40 @ 20.00 (b3, later), 20 @ 19.50 (b1 again, at
  // the closing time exactly). Below the reserve price, after the close, unfunded: refused.
  w.at(9, 40);
  ASSERT_TRUE(w.chain.call(b1, PlaceBid{id, 2'100, 50}).ok());
  EXPECT_EQ(w.funds(b1).locked_fen, lock_for(50, 2'100, abp));
  ASSERT_TRUE(w.chain.call(b2, PlaceBid{id, 2'000, 30}).ok());
  ASSERT_TRUE(w.chain.call(b3, PlaceBid{id, 2'000, 40}).ok());
  w.refused(b2, PlaceBid{id, 1'899, 10});
  w.refused(b2, PlaceBid{id, 2'000, 0});
  w.refused(poor, PlaceBid{id, 2'000, 10});
  w.refused(w.verifier, PlaceBid{id, 2'000, 1});
  w.refused(b2, PlaceBid{id + 1, 2'000, 1});
  // Sealed: the bids are not listed before the clearing; their count and quantity are.
  auto sealed = queries::auction(Ledger(w.chain_state()), id);
  ASSERT_TRUE(sealed.is_ok()) << sealed.status().to_string();
  EXPECT_TRUE(sealed->bids.empty());
  EXPECT_EQ(sealed->auction.bids, 3u);
  EXPECT_EQ(sealed->auction.bid_quantity_t, 120u);
  w.chain.hold_time_ms(close_ms);
  ASSERT_TRUE(w.chain.call(b1, PlaceBid{id, 1'950, 20}).ok());
  w.refused(w.exchange, ClearAuction{id});  // not after the closing time yet
  w.chain.hold_time_ms(close_ms + 1);
  w.refused(b2, PlaceBid{id, 2'500, 1});
  w.refused(b1, ClearAuction{id});  // only the exchange
  const FundAccount b1_before = w.funds(b1);
  ASSERT_EQ(b1_before.locked_fen, lock_for(50, 2'100, abp) + lock_for(20, 1'950, abp));
  ASSERT_TRUE(w.chain.call(w.exchange, ClearAuction{id}).ok());

  // 50 (21.00) + 30 (20.00, b2 first) fill 80; b3 gets the last 20 of its 40; b1's 19.50 bid
  // gets nothing. Everyone pays 20.00, the lowest filled bid, plus the 1 % fee.
  auto view = queries::auction(Ledger(w.chain_state()), id);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->auction.status, AuctionStatus::kCleared);
  EXPECT_EQ(view->auction.clearing_price_fen, 2'000u);
  EXPECT_EQ(view->auction.sold_t, 100u);
  ASSERT_EQ(view->bids.size(), 4u);
  std::map<std::uint32_t, std::uint64_t> filled_by_seq;
  for (const BidRecord& bid : view->bids) filled_by_seq[bid.seq] = bid.filled_t;
  std::vector<std::uint64_t> filled;
  for (const auto& [seq, f] : filled_by_seq) filled.push_back(f);
  EXPECT_EQ(filled, (std::vector<std::uint64_t>{50, 30, 20, 0}));
  EXPECT_EQ(w.funds(b1), (FundAccount{1'000'000 - 100'000 - fee(100'000, abp), 0}));
  EXPECT_EQ(w.funds(b2), (FundAccount{1'000'000 - 60'000 - fee(60'000, abp), 0}));
  EXPECT_EQ(w.funds(b3), (FundAccount{1'000'000 - 40'000 - fee(40'000, abp), 0}));
  EXPECT_EQ(w.funds(w.reserve), (FundAccount{200'000, 0}));  // no seller fee on auctions
  EXPECT_EQ(w.funds(w.exchange).available_fen,
            fee(100'000, abp) + fee(60'000, abp) + fee(40'000, abp));
  EXPECT_EQ(w.held(b1), 50u);
  EXPECT_EQ(w.held(b2), 30u);
  EXPECT_EQ(w.held(b3), 20u);
  EXPECT_EQ(w.held(w.reserve), 1u);
  EXPECT_EQ(w.locks(w.reserve).sell_locked_t, 0u);
  EXPECT_EQ(w.market_state().open_auctions, 0u);
  const auto trades = w.trades();
  ASSERT_EQ(trades.size(), 3u);
  for (const TradeRecord& trade : trades) {
    EXPECT_EQ(trade.kind, TradeKind::kAuction);
    EXPECT_EQ(trade.price_fen, 2'000u);
    EXPECT_EQ(trade.seller, w.reserve.public_key());
    EXPECT_EQ(trade.seller_fee_fen, 0u);
  }
  w.refused(w.exchange, ClearAuction{id});  // once
  w.refused(b2, PlaceBid{id, 2'500, 1});
}

TEST(ContractsExchangeDeals, AnAuctionFeeRaiseBeforeTheClearing) {
  // The bidder locked L(q) at the auction fee in force when it bid (0) and has nothing else.
  // A later fee raise must not make the clearing impossible (the offer and every bid would stay
  // locked for good).
  World w;
  w.fund(w.t[0], 100 * 2'000);
  w.units(w.reserve, 100);
  w.open_day(0);
  const std::uint64_t close_ms = beijing_ms(w.day(), 10, 0);
  SignedTx tx = make_tx(w.exchange, w.chain.next_nonce(w.exchange),
                        CreateAuction{w.reserve.public_key(), kProduct, 100, 1'000, close_ms, 0});
  sign_tx(tx, w.reserve);
  ASSERT_TRUE(w.chain.submit(tx).ok());
  const std::uint64_t id = w.market_state().next_auction_id - 1;
  ASSERT_TRUE(w.chain.call(w.t[0], PlaceBid{id, 2'000, 100}).ok());
  EXPECT_EQ(w.funds(w.t[0]), (FundAccount{0, 200'000}));
  MarketParams raised = w.params();
  raised.auction_fee_bp = 100;
  ASSERT_TRUE(w.set_params(raised).ok());
  w.chain.hold_time_ms(close_ms + 1);
  const Receipt cleared = w.chain.call(w.exchange, ClearAuction{id});
  EXPECT_TRUE(cleared.ok()) << cleared.message;
}

TEST(ContractsExchangeDeals, AuctionUnsoldUnitsAndNoBids) {
  World w;
  w.fund(w.t[0], 1'000'000);
  w.units(w.reserve, 200);
  w.open_day(0);
  const std::uint64_t close_ms = beijing_ms(w.day(), 10, 0);
  const auto create = [&](std::uint64_t quantity_t) {
    SignedTx tx =
        make_tx(w.exchange, w.chain.next_nonce(w.exchange),
                CreateAuction{w.reserve.public_key(), kProduct, quantity_t, 1'900, close_ms, 0});
    sign_tx(tx, w.reserve);
    const Receipt receipt = w.chain.submit(tx);
    EXPECT_TRUE(receipt.ok()) << receipt.message;
    return w.market_state().next_auction_id - 1;
  };
  const std::uint64_t partly = create(100);
  const std::uint64_t unsold = create(50);
  w.fund(w.reserve, 1'000'000);
  w.refused(w.reserve, PlaceBid{partly, 2'000, 1});  // the seller does not bid on its offer
  EXPECT_EQ(w.locks(w.reserve).sell_locked_t, 150u);
  w.refused(w.reserve, TransferUnits{w.t[1].public_key(), kProduct, 52});  // 201 - 150 free
  ASSERT_TRUE(w.chain.call(w.t[0], PlaceBid{partly, 1'950, 30}).ok());
  ASSERT_TRUE(w.chain.call(w.t[0], PlaceBid{partly, 1'990, 10}).ok());
  w.chain.hold_time_ms(close_ms + 1);
  ASSERT_TRUE(w.chain.call(w.exchange, ClearAuction{partly}).ok());
  ASSERT_TRUE(w.chain.call(w.exchange, ClearAuction{unsold}).ok());
  auto a = read<AuctionRecord>(w.chain, auction_key(partly));
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->sold_t, 40u);
  EXPECT_EQ(a->clearing_price_fen, 1'950u);  // the lowest filled bid
  auto b = read<AuctionRecord>(w.chain, auction_key(unsold));
  EXPECT_EQ(b->sold_t, 0u);
  EXPECT_EQ(b->clearing_price_fen, 0u);
  EXPECT_EQ(w.locks(w.reserve).sell_locked_t, 0u);
  EXPECT_EQ(w.held(w.reserve), 161u);
  EXPECT_EQ(w.funds(w.reserve).available_fen, 1'000'000u + 40u * 1'950);
  EXPECT_EQ(w.funds(w.t[0]), (FundAccount{1'000'000 - 40 * 1'950, 0}));
}

TEST(ContractsExchangeDeals, RestrictedAuctionOnlyForShortCoveredEnterprises) {
  World w;
  const auto& short_one = w.t[0];  // covered, obligation 500, nothing surrendered
  const auto& compliant = w.t[2];  // covered, obligation 100, 100 surrendered
  const auto& no_obligation = w.t[4];
  const auto& voluntary = w.t[1];
  for (const auto* who : {&short_one, &compliant, &no_obligation, &voluntary})
    w.fund(*who, 10'000'000);
  const auto obligation = [&](const core::SecretKey& who, std::uint64_t t) {
    EmissionRecord record;
    record.enterprise = who.public_key();
    record.year = 2025;
    record.status = MrvStatus::kApproved;
    record.approval_version = 1;
    record.obligation_t = t;
    put_record(w.chain, keys::emission(2025, who.public_key()), record);
  };
  obligation(short_one, 500);
  obligation(compliant, 100);
  SurrenderTotals surrendered;
  surrendered.allowances_t = 100;
  put_record(w.chain, keys::surrendered(2025, compliant.public_key()), surrendered);
  w.units(w.reserve, 1'000);
  w.open_day(0);
  const std::uint64_t close_ms = beijing_ms(w.day(), 11, 0);
  SignedTx tx =
      make_tx(w.exchange, w.chain.next_nonce(w.exchange),
              CreateAuction{w.reserve.public_key(), kProduct, 1'000, 1'500, close_ms, 2025});
  sign_tx(tx, w.reserve);
  ASSERT_TRUE(w.chain.submit(tx).ok());
  const std::uint64_t id = w.market_state().next_auction_id - 1;
  w.refused(voluntary, PlaceBid{id, 2'000, 10});
  w.refused(compliant, PlaceBid{id, 2'000, 10});
  w.refused(no_obligation, PlaceBid{id, 2'000, 10});
  w.refused(short_one, PlaceBid{id, 2'000, 501});
  EXPECT_TRUE(w.chain.call(short_one, PlaceBid{id, 2'000, 400}).ok());
  // "for at most their shortfall": all its bids together.
  w.refused(short_one, PlaceBid{id, 2'100, 101});
  EXPECT_TRUE(w.chain.call(short_one, PlaceBid{id, 2'100, 100}).ok());
}

TEST(ContractsExchangeQueries, OrdersTradesAndFundsNewestFirst) {
  World w;
  w.fund(w.t[0], 1'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  const std::uint64_t a = w.place(w.t[1], kSell, 2'000, 10);
  const std::uint64_t b = w.place(w.t[0], kBuy, 2'000, 3);  // fills 3 of a
  const std::uint64_t c = w.place(w.t[0], kBuy, 2'000, 3);  // fills 3 more
  const std::uint64_t d = w.place(w.t[0], kBuy, 1'900, 5);  // rests
  const Ledger ledger(w.chain_state());
  auto mine = queries::orders(ledger, w.t[0].public_key(), false, 10);
  ASSERT_TRUE(mine.is_ok()) << mine.status().to_string();
  ASSERT_EQ(mine->items.size(), 3u);
  EXPECT_EQ(mine->items[0].id, d);
  EXPECT_EQ(mine->items[1].id, c);
  EXPECT_EQ(mine->items[2].id, b);
  EXPECT_FALSE(mine->more);
  auto open = queries::orders(ledger, w.t[0].public_key(), true, 10);
  ASSERT_TRUE(open.is_ok());
  ASSERT_EQ(open->items.size(), 1u);
  EXPECT_EQ(open->items[0].id, d);
  auto one = queries::orders(ledger, w.t[0].public_key(), false, 1);
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ(one->items.size(), 1u);
  EXPECT_TRUE(one->more);
  auto trades = queries::trades(ledger, kProduct, 1);
  ASSERT_TRUE(trades.is_ok());
  ASSERT_EQ(trades->items.size(), 1u);
  EXPECT_TRUE(trades->more);
  EXPECT_EQ(trades->items[0].buy_ref, c);
  auto older = queries::trades(ledger, kProduct, 10, trades->items[0].id);
  ASSERT_TRUE(older.is_ok());
  ASSERT_EQ(older->items.size(), 1u);
  EXPECT_EQ(older->items[0].buy_ref, b);
  EXPECT_EQ(older->items[0].sell_ref, a);
  auto order = queries::order(ledger, a);
  ASSERT_TRUE(order.is_ok());
  EXPECT_EQ(order->remaining_t, 4u);
  EXPECT_EQ(queries::order(ledger, 999).status().code(), ErrorCode::kNotFound);
  auto funds = queries::funds(ledger, w.t[0].public_key());
  ASSERT_TRUE(funds.is_ok());
  EXPECT_EQ(*funds, w.funds(w.t[0]));
  auto locks = queries::unit_locks(ledger, w.t[1].public_key(), kProduct);
  ASSERT_TRUE(locks.is_ok());
  EXPECT_EQ(locks->sell_locked_t, 4u);
  auto book = queries::book(ledger, kProduct, 10);
  ASSERT_TRUE(book.is_ok());
  ASSERT_EQ(book->bids.size(), 1u);
  EXPECT_EQ(book->bids[0].price_fen, 1'900u);
  ASSERT_EQ(book->asks.size(), 1u);
  EXPECT_EQ(book->asks[0].quantity_t, 4u);
  auto view = queries::market(ledger, kProduct);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->market.last_price_fen, 2'000u);
  ASSERT_TRUE(view->today.has_value());
  EXPECT_EQ(view->today->volume_t, 6u);
}

// =================================================================================================
// The invariants catch corrupted exchange records (the check itself is tested)
// =================================================================================================

// A copy of the world's state with one record changed.
MemoryStateStore copy_state(const World& w) {
  MemoryStateStore copy;
  for (const auto& [key, value] : dynamic_cast<const MemoryStateStore&>(w.chain_state()).entries())
    copy.put(key, value);
  return copy;
}
template <class T, class Edit>
Status check_with(const World& w, const std::string& key, Edit edit) {
  MemoryStateStore copy = copy_state(w);
  auto bytes = copy.get(key);
  EXPECT_TRUE(bytes.has_value()) << key;
  if (!bytes) return Status::ok();
  auto record = core::codec::decode<T>(*bytes);
  EXPECT_TRUE(record.is_ok()) << key;
  edit(*record);
  copy.put(key, core::codec::encode(*record));
  return check_invariants(copy);
}
Status check_without(const World& w, const std::string& key) {
  MemoryStateStore copy = copy_state(w);
  EXPECT_TRUE(copy.get(key).has_value()) << key;
  copy.erase(key);
  return check_invariants(copy);
}

TEST(ContractsExchangeInvariants, CorruptedRecordsAreReported) {
  MarketParams params;
  params.auction_fee_bp = 10;
  World w(params);
  w.fund(w.t[0], 1'000'000);
  w.fund(w.t[2], 1'000'000);
  w.units(w.t[1], 100);
  w.units(w.reserve, 50);
  w.open_day(0);
  w.place(w.t[1], kSell, 2'000, 10);
  const std::uint64_t buy = w.place(w.t[0], kBuy, 2'010, 15);    // 10 filled, 5 rest
  const std::uint64_t sell = w.place(w.t[1], kSell, 2'050, 20);  // rests
  ASSERT_TRUE(w.chain.call(w.t[1], CreateListing{kProduct, 2'000, 7}).ok());
  SignedTx tx = make_tx(
      w.exchange, w.chain.next_nonce(w.exchange),
      CreateAuction{w.reserve.public_key(), kProduct, 50, 1'000, beijing_ms(w.day(), 14, 0), 0});
  sign_tx(tx, w.reserve);
  ASSERT_TRUE(w.chain.submit(tx).ok());
  ASSERT_TRUE(w.chain.call(w.t[2], PlaceBid{1, 1'500, 10}).ok());
  ASSERT_TRUE(check_invariants(w.chain_state()).is_ok());
  const auto trade_id = w.trades().at(0).id;
  const auto expect_violation = [](const Status& status, const std::string& part) {
    EXPECT_FALSE(status.is_ok()) << "not caught: " << part;
    EXPECT_NE(status.message().find(part), std::string::npos) << status.message();
  };
  expect_violation(check_with<FundAccount>(w, fund_key(w.t[0].public_key()),
                                           [](FundAccount& f) { f.available_fen += 1; }),
                   "deposited - withdrawn");
  expect_violation(check_with<FundAccount>(w, fund_key(w.t[0].public_key()),
                                           [](FundAccount& f) {
                                             f.available_fen -= 1;
                                             f.locked_fen += 1;
                                           }),
                   "locked");
  expect_violation(check_with<FundAccount>(w, fund_key(w.t[2].public_key()),
                                           [](FundAccount& f) {
                                             f.available_fen += 1;
                                             f.locked_fen -= 1;
                                           }),
                   "bids lock");
  expect_violation(check_with<UnitLocks>(w, ulk_key(w.t[1].public_key(), kProduct),
                                         [](UnitLocks& u) { u.sell_locked_t += 1; }),
                   "locked for sale");
  expect_violation(check_with<UnitLocks>(w, ulk_key(w.t[0].public_key(), kProduct),
                                         [](UnitLocks& u) { u.buy_open_t -= 1; }),
                   "open buys");
  expect_violation(check_with<UnitLocks>(w, ulk_key(w.reserve.public_key(), kProduct),
                                         [](UnitLocks& u) { u.sell_locked_t = 1'000; }),
                   "locked for sale");
  expect_violation(
      check_with<OrderRecord>(w, order_key(sell),
                              [](OrderRecord& o) { o.remaining_t = o.quantity_t + 1; }),
      "exceeds its quantity");
  expect_violation(
      check_with<OrderRecord>(w, order_key(sell),
                              [](OrderRecord& o) { o.status = OrderStatus::kCancelled; }),
      "book marker");
  expect_violation(
      check_with<OrderRecord>(w, order_key(buy), [](OrderRecord& o) { o.locked_fen += 1; }),
      "locked");
  expect_violation(check_without(w, keys::open_order(kProduct, sell)), "book marker");
  expect_violation(check_without(w, keys::owner_order(w.t[1].public_key(), sell)), "oown");
  expect_violation(check_with<DepthLevelRecord>(w, keys::depth_level(kProduct, kBuy, 2'010),
                                                [](DepthLevelRecord& l) { l.quantity_t += 1; }),
                   "depth level");
  expect_violation(check_without(w, keys::depth_level(kProduct, kSell, 2'050)), "depth level");
  expect_violation(check_with<TradeRecord>(w, keys::trade(kProduct, trade_id),
                                           [](TradeRecord& t) { t.value_fen += 1; }),
                   "value");
  expect_violation(
      check_with<TradeRecord>(w, keys::trade(kProduct, trade_id),
                              [](TradeRecord& t) { t.seller_fee_fen = t.value_fen + 1; }),
      "fee");
  expect_violation(
      check_with<DayStats>(w, day_key(kProduct, 1), [](DayStats& d) { d.volume_t += 1; }),
      "continuous trades");
  expect_violation(
      check_with<DayStats>(w, day_key(kProduct, 1), [](DayStats& d) { d.high_fen += 1; }),
      "open/high/low");
  expect_violation(
      check_with<DayStats>(w, day_key(kProduct, 1), [](DayStats& d) { d.band_hit = 1; }),
      "band hit");
  expect_violation(
      check_with<ListingRecord>(w, listing_key(1), [](ListingRecord& l) { l.remaining_t = 6; }),
      "locked for sale");
  expect_violation(
      check_with<AuctionRecord>(w, auction_key(1), [](AuctionRecord& a) { a.bids = 2; }), "bids");
  expect_violation(
      check_with<MoneySupply>(w, "mkt/money", [](MoneySupply& m) { m.withdrawn_fen += 1; }),
      "deposited - withdrawn");
  expect_violation(
      check_with<MarketState>(w, "mkt/state", [](MarketState& m) { m.next_order_id = 2; }),
      "next order id");
}

// =================================================================================================
// Randomized trading days against a reference model
// =================================================================================================

// The reference model: the rules of docs/exchange.md for continuous trading, written plainly.
// Resting orders are a list scanned linearly for the best price and, at one price, the lowest
// id; accounts are (available, locked) funds and per product (held, locked for sale, open
// buys). Independent of OrderBook and of the contracts' code.
class ReferenceMarket {
 public:
  static constexpr std::size_t kMaxSteps = 1'000;  // fills + self-trade cancels per order

  struct Order {
    std::uint64_t id = 0;
    std::size_t product = 0;
    std::size_t owner = 0;
    Side side = kBuy;
    std::uint64_t price = 0;
    std::uint64_t quantity = 0;
    std::uint64_t remaining = 0;
    TimeInForce tif = kDay;
    OrderStatus status = OrderStatus::kOpen;
    OrderEnd end = OrderEnd::kNone;
    std::uint64_t locked = 0;
    std::uint64_t filled_value = 0;
  };
  struct Holding {
    std::uint64_t held = 0;
    std::uint64_t sell_locked = 0;
    std::uint64_t buy_open = 0;
  };
  struct Account {
    std::uint64_t available = 0;
    std::uint64_t locked = 0;
    std::vector<Holding> holdings;
  };
  struct Trade {
    std::uint64_t id = 0;
    TradeKind kind = TradeKind::kContinuous;
    std::size_t product = 0;
    std::size_t buyer = 0;
    std::size_t seller = 0;
    std::uint64_t price = 0;
    std::uint64_t quantity = 0;
    std::uint64_t buyer_fee = 0;
    std::uint64_t seller_fee = 0;
    std::uint64_t buy_ref = 0;
    std::uint64_t sell_ref = 0;
    Side aggressor = kBuy;
  };
  struct Day {
    std::uint64_t prev_close = 0;
    Band band;
    std::uint64_t open = 0, high = 0, low = 0, volume = 0, value = 0;
    std::uint32_t trades = 0;
    bool band_hit = false;
    std::uint64_t close = 0;
    std::uint64_t other_volume = 0, other_value = 0;
  };
  struct Listing {
    std::uint64_t id = 0;
    std::size_t product = 0;
    std::size_t seller = 0;
    std::uint64_t price = 0;
    std::uint64_t remaining = 0;
    ListingStatus status = ListingStatus::kOpen;
  };
  struct Counts {
    std::size_t fills = 0, partial_maker_fills = 0, partial_taker_rests = 0, self_trade_cancels = 0,
                cancels = 0, cancels_by_exchange = 0, refused_cancels = 0, refused_orders = 0,
                expired = 0, gtc_fills_next_day = 0, band_hits = 0, step_limited = 0, listings = 0,
                takes = 0, listing_cancels = 0, refused_listing_acts = 0;
  };

  // Accounts 0..traders-1 trade; account `traders` is the exchange (the fee account).
  ReferenceMarket(std::size_t traders, std::size_t products, std::uint32_t fee_bp,
                  std::uint32_t band_bp, std::uint64_t position_limit,
                  std::uint32_t fixed_seller_bp, std::uint32_t fixed_buyer_bp)
      : fee_bp_(fee_bp),
        band_bp_(band_bp),
        position_limit_(position_limit),
        fixed_seller_bp_(fixed_seller_bp),
        fixed_buyer_bp_(fixed_buyer_bp),
        accounts_(traders + 1),
        closes_(products),
        days_(products) {
    for (auto& account : accounts_) account.holdings.resize(products);
  }
  std::size_t exchange() const { return accounts_.size() - 1; }

  void deposit(std::size_t who, std::uint64_t fen) { accounts_[who].available += fen; }
  void issue(std::size_t who, std::size_t product, std::uint64_t t) {
    accounts_[who].holdings[product].held += t;
  }
  void list(std::size_t product, std::uint64_t reference) { closes_[product] = reference; }
  void open_day() {
    ++day_index_;
    for (std::size_t p = 0; p < days_.size(); ++p) {
      days_[p] = Day{};
      days_[p].prev_close = closes_[p];
      days_[p].band = band_of(closes_[p], band_bp_);
    }
  }
  void close_day() {
    for (std::uint64_t id : std::vector<std::uint64_t>(resting_)) {
      Order& o = orders_[id - 1];
      if (o.tif != kDay) continue;
      release(o);
      o.status = OrderStatus::kExpired;
      o.end = OrderEnd::kDayClose;
      unrest(id);
      ++counts_.expired;
    }
    for (std::size_t p = 0; p < days_.size(); ++p) {
      Day& d = days_[p];
      d.close = d.volume == 0 ? d.prev_close : vwap_half_up(d.value, d.volume);
      closes_[p] = d.close;
    }
    ++closed_days_;
  }

  bool place(std::size_t owner, std::size_t product, Side side, std::uint64_t price,
             std::uint64_t quantity, TimeInForce tif) {
    const Day& day = days_[product];
    Account& acct = accounts_[owner];
    Holding& h = acct.holdings[product];
    bool ok = price >= day.band.low && price <= day.band.high && quantity >= 1;
    if (ok && side == kBuy) {
      ok = acct.available >= lock_for(quantity, price, fee_bp_) &&
           (position_limit_ == 0 || h.held + h.buy_open + quantity <= position_limit_);
    } else if (ok) {
      ok = h.held - h.sell_locked >= quantity;
    }
    if (!ok) {
      ++counts_.refused_orders;
      return false;
    }
    Order o;
    o.id = next_order_id_++;
    o.product = product;
    o.owner = owner;
    o.side = side;
    o.price = price;
    o.quantity = o.remaining = quantity;
    o.tif = tif;
    if (side == kBuy) {
      o.locked = lock_for(quantity, price, fee_bp_);
      acct.available -= o.locked;
      acct.locked += o.locked;
      h.buy_open += quantity;
    } else {
      h.sell_locked += quantity;
    }
    orders_.push_back(o);
    placed_day_[o.id] = day_index_;
    match(o.id);
    return true;
  }

  bool cancel(std::size_t by, std::uint64_t id) {
    if (id == 0 || id >= next_order_id_) {
      ++counts_.refused_cancels;
      return false;
    }
    Order& o = orders_[id - 1];
    if (o.status != OrderStatus::kOpen || (by != o.owner && by != exchange())) {
      ++counts_.refused_cancels;
      return false;
    }
    release(o);
    o.status = OrderStatus::kCancelled;
    o.end = by == exchange() ? OrderEnd::kByExchange : OrderEnd::kByOwner;
    unrest(id);
    ++counts_.cancels;
    if (by == exchange()) ++counts_.cancels_by_exchange;
    return true;
  }

  // Fixed-price transfer: the price is free, the units are locked, a taker takes part or all.
  bool create_listing(std::size_t seller, std::size_t product, std::uint64_t price,
                      std::uint64_t q) {
    Holding& h = accounts_[seller].holdings[product];
    if (price == 0 || q == 0 || h.held - h.sell_locked < q) {
      ++counts_.refused_listing_acts;
      return false;
    }
    h.sell_locked += q;
    listings_.push_back(
        Listing{listings_.size() + 1, product, seller, price, q, ListingStatus::kOpen});
    ++counts_.listings;
    return true;
  }
  bool take_listing(std::size_t taker, std::uint64_t id, std::uint64_t q) {
    if (id == 0 || id > listings_.size()) {
      ++counts_.refused_listing_acts;
      return false;
    }
    Listing& l = listings_[id - 1];
    Account& buyer = accounts_[taker];
    Holding& bh = buyer.holdings[l.product];
    const std::uint64_t value = l.price * q;
    const std::uint64_t bf = fee(value, fixed_buyer_bp_);
    const std::uint64_t sf = fee(value, fixed_seller_bp_);
    if (l.status != ListingStatus::kOpen || taker == l.seller || q == 0 || q > l.remaining ||
        buyer.available < value + bf ||
        (position_limit_ != 0 && bh.held + bh.buy_open + q > position_limit_)) {
      ++counts_.refused_listing_acts;
      return false;
    }
    Account& seller = accounts_[l.seller];
    Holding& sh = seller.holdings[l.product];
    sh.sell_locked -= q;
    sh.held -= q;
    bh.held += q;
    buyer.available -= value + bf;
    seller.available += value - sf;
    accounts_[exchange()].available += bf + sf;
    l.remaining -= q;
    if (l.remaining == 0) l.status = ListingStatus::kSoldOut;
    days_[l.product].other_volume += q;
    days_[l.product].other_value += value;
    trades_.push_back(Trade{next_trade_id_++, TradeKind::kFixedPrice, l.product, taker, l.seller,
                            l.price, q, bf, sf, 0, l.id, kBuy});
    ++counts_.takes;
    return true;
  }
  bool cancel_listing(std::size_t by, std::uint64_t id) {
    if (id == 0 || id > listings_.size()) {
      ++counts_.refused_listing_acts;
      return false;
    }
    Listing& l = listings_[id - 1];
    if (l.status != ListingStatus::kOpen || (by != l.seller && by != exchange())) {
      ++counts_.refused_listing_acts;
      return false;
    }
    accounts_[l.seller].holdings[l.product].sell_locked -= l.remaining;
    l.status = ListingStatus::kCancelled;
    ++counts_.listing_cancels;
    return true;
  }
  const std::vector<Listing>& listings() const { return listings_; }

  const std::vector<Order>& orders() const { return orders_; }
  const std::vector<std::uint64_t>& resting() const { return resting_; }
  const std::vector<Trade>& trades() const { return trades_; }
  const Account& account(std::size_t who) const { return accounts_[who]; }
  std::size_t accounts() const { return accounts_.size(); }
  const Day& day(std::size_t product) const { return days_[product]; }
  std::uint64_t close(std::size_t product) const { return closes_[product]; }
  std::uint32_t day_index() const { return day_index_; }
  std::uint64_t next_order_id() const { return next_order_id_; }
  const Counts& counts() const { return counts_; }

 private:
  void unrest(std::uint64_t id) { resting_.erase(std::find(resting_.begin(), resting_.end(), id)); }
  // Releases what an open order still locks (cancel, expiry, self-trade, cancelled remainder).
  void release(Order& o) {
    Account& acct = accounts_[o.owner];
    Holding& h = acct.holdings[o.product];
    if (o.side == kBuy) {
      acct.locked -= o.locked;
      acct.available += o.locked;
      o.locked = 0;
      h.buy_open -= o.remaining;
    } else {
      h.sell_locked -= o.remaining;
    }
  }
  // The best resting order the incoming one crosses: best price, then lowest id.
  std::optional<std::uint64_t> best_against(const Order& in) const {
    std::optional<std::uint64_t> best;
    for (std::uint64_t id : resting_) {
      const Order& r = orders_[id - 1];
      if (r.product != in.product || r.side == in.side) continue;
      const bool crosses = in.side == kBuy ? r.price <= in.price : r.price >= in.price;
      if (!crosses) continue;
      if (!best) {
        best = id;
        continue;
      }
      const Order& b = orders_[*best - 1];
      const bool better = in.side == kBuy ? r.price < b.price : r.price > b.price;
      if (better || (r.price == b.price && r.id < b.id)) best = id;
    }
    return best;
  }
  void match(std::uint64_t taker_id) {
    std::size_t steps = 0;
    bool step_limited = false;
    for (;;) {
      Order& in = orders_[taker_id - 1];
      if (in.remaining == 0) break;
      const auto maker_id = best_against(in);
      if (!maker_id) break;
      if (steps == kMaxSteps) {
        step_limited = true;
        break;
      }
      ++steps;
      Order& maker = orders_[*maker_id - 1];
      if (maker.owner == in.owner) {
        release(maker);
        maker.status = OrderStatus::kCancelled;
        maker.end = OrderEnd::kSelfTrade;
        unrest(*maker_id);
        ++counts_.self_trade_cancels;
        continue;
      }
      const std::uint64_t q = std::min(in.remaining, maker.remaining);
      if (q < maker.remaining) ++counts_.partial_maker_fills;
      if (maker.tif == kGtc && placed_day_.at(maker.id) < day_index_) ++counts_.gtc_fills_next_day;
      fill(in.side == kBuy ? in : maker, in.side == kBuy ? maker : in, maker.price, q, in.side);
      if (maker.remaining == 0) {
        maker.status = OrderStatus::kFilled;
        unrest(*maker_id);
      }
    }
    Order& in = orders_[taker_id - 1];
    if (in.remaining == 0) {
      in.status = OrderStatus::kFilled;
    } else if (step_limited) {
      release(in);
      in.status = OrderStatus::kCancelled;
      in.end = OrderEnd::kStepLimit;
      ++counts_.step_limited;
    } else {
      if (in.remaining < in.quantity) ++counts_.partial_taker_rests;
      resting_.push_back(taker_id);
    }
  }
  void fill(Order& buy, Order& sell, std::uint64_t price, std::uint64_t q, Side aggressor) {
    Account& buyer = accounts_[buy.owner];
    Account& seller = accounts_[sell.owner];
    const std::uint64_t value = price * q;
    const std::uint64_t bf = fee(value, fee_bp_);
    const std::uint64_t sf = fee(value, fee_bp_);
    // The buy's lock becomes L(remaining); what it releases pays value + fee, the rest is
    // returned.
    const std::uint64_t new_lock = lock_for(buy.remaining - q, buy.price, fee_bp_);
    const std::uint64_t released = buy.locked - new_lock;
    EXPECT_GE(released, value + bf) << "a fill not covered by what it releases";
    buyer.locked -= released;
    buyer.available += released - (value + bf);
    buy.locked = new_lock;
    buy.remaining -= q;
    sell.remaining -= q;
    buy.filled_value += value;
    sell.filled_value += value;
    buyer.holdings[buy.product].held += q;
    buyer.holdings[buy.product].buy_open -= q;
    seller.holdings[sell.product].held -= q;
    seller.holdings[sell.product].sell_locked -= q;
    seller.available += value - sf;
    accounts_[exchange()].available += bf + sf;
    trades_.push_back(Trade{next_trade_id_++, TradeKind::kContinuous, buy.product, buy.owner,
                            sell.owner, price, q, bf, sf, buy.id, sell.id, aggressor});
    Day& d = days_[buy.product];
    if (d.trades == 0) d.open = d.high = d.low = price;
    d.high = std::max(d.high, price);
    d.low = std::min(d.low, price);
    d.volume += q;
    d.value += value;
    ++d.trades;
    if (price == d.band.low || price == d.band.high) {
      if (!d.band_hit) ++counts_.band_hits;
      d.band_hit = true;
    }
    ++counts_.fills;
  }

  std::uint32_t fee_bp_;
  std::uint32_t band_bp_;
  std::uint64_t position_limit_;
  std::uint32_t fixed_seller_bp_;
  std::uint32_t fixed_buyer_bp_;
  std::vector<Listing> listings_;  // by id - 1
  std::vector<Account> accounts_;
  std::vector<std::uint64_t> closes_;
  std::vector<Day> days_;
  std::vector<Order> orders_;           // by id - 1
  std::vector<std::uint64_t> resting_;  // in arrival order
  std::vector<Trade> trades_;
  std::map<std::uint64_t, std::uint32_t> placed_day_;
  std::uint64_t next_order_id_ = 1;
  std::uint64_t next_trade_id_ = 1;
  std::uint32_t day_index_ = 0;
  std::uint32_t closed_days_ = 0;
  Counts counts_;
};

struct RandomConfig {
  std::uint32_t seed = 1;
  std::uint32_t fee_bp = 50;
  std::uint64_t position_limit_t = 0;
  std::size_t ops_per_day = 1'500;
  std::size_t days = 2;
};

// Random trading days: orders (buy and sell at random prices, mostly near the previous close,
// some at the band edges, some outside it, a few large ones that the funds or units cannot
// cover, some good-till-cancelled), orders crossing the best resting one, self-crossing orders
// from the owner of a resting order, cancels by the owner, by others (refused) and by the
// exchange, on two products, from 20 accounts, executed in blocks of 25 transactions. After
// every block every receipt, fund account, unit lock, balance, order and new trade is compared
// with the reference model; after every close the day's statistics and the close.
class RandomTradingDays {
 public:
  static constexpr std::size_t kTraders = 20;
  static constexpr std::size_t kTxPerBlock = 25;
  static constexpr std::size_t kProducts = 2;

  explicit RandomTradingDays(const RandomConfig& config)
      : config_(config),
        rng_(config.seed),
        world_(params_for(config), kTraders),
        model_(kTraders, kProducts, config.fee_bp, 1'000, config.position_limit_t, 400, 10) {
    products_ = {kProduct, ProductId::allowance(2026)};
    world_.units(world_.reserve, 1, 2026);
    EXPECT_TRUE(world_.chain.call(world_.exchange, ListProduct{products_[1], 3'000}).ok());
    model_.list(0, 2'000);
    model_.list(1, 3'000);
    for (std::size_t i = 0; i < kTraders; ++i) {
      const std::uint64_t fen = 2'000'000 + uniform(6'000'000);
      world_.fund(world_.t[i], fen);
      model_.deposit(i, fen);
      for (std::size_t p = 0; p < kProducts; ++p) {
        const std::uint64_t t = 500 + uniform(3'000);
        world_.units(world_.t[i], t, products_[p].vintage_year);
        model_.issue(i, p, t);
      }
    }
    keys_.insert(keys_.end(), world_.t.begin(), world_.t.end());
    keys_.push_back(world_.exchange);
  }

  void run() {
    for (std::size_t d = 0; d < config_.days && !::testing::Test::HasFatalFailure(); ++d) {
      const std::int64_t date = kFirstDay + static_cast<std::int64_t>(d);
      exchange_call(OpenDay{}, beijing_ms(date, 9, 0));
      world_.chain.set_time_ms(beijing_ms(date, 9, 30));
      model_.open_day();
      for (std::size_t p = 0; p < kProducts; ++p) {
        auto view = queries::market(Ledger(world_.chain_state()), products_[p]);
        ASSERT_TRUE(view.is_ok());
        EXPECT_EQ(view->band_low_fen, model_.day(p).band.low);
        EXPECT_EQ(view->band_high_fen, model_.day(p).band.high);
      }
      std::size_t done = 0;
      while (done < config_.ops_per_day) {
        const std::size_t n = std::min(kTxPerBlock, config_.ops_per_day - done);
        if (!run_block(n)) return;
        done += n;
      }
      exchange_call(CloseDay{}, beijing_ms(date, 15, 30));
      model_.close_day();
      check_close();
    }
  }

  const ReferenceMarket& model() const { return model_; }
  std::size_t restarts() const { return restarts_; }

 private:
  struct Pending {
    SignedTx tx;
    bool expect_ok = false;
    std::string what;
  };

  static MarketParams params_for(const RandomConfig& config) {
    MarketParams params;
    params.fee_bp = config.fee_bp;
    params.position_limit_t = config.position_limit_t;
    params.fixed_seller_fee_bp = 400;
    params.fixed_buyer_fee_bp = 10;
    return params;
  }
  std::uint64_t uniform(std::uint64_t n) { return rng_() % n; }
  bool chance(std::uint64_t percent) { return uniform(100) < percent; }

  std::uint64_t random_price(std::size_t p, bool gtc) {
    const auto& day = model_.day(p);
    const std::uint64_t centre = day.prev_close;
    const auto around = [&](std::uint64_t bp) {
      const std::uint64_t spread = std::max<std::uint64_t>(1, centre * bp / 10'000);
      return centre - spread + uniform(2 * spread + 1);
    };
    std::uint64_t price = 0;
    if (gtc) {
      price = around(200);  // stays inside the next day's band
    } else {
      const std::uint64_t r = uniform(100);
      if (r < 70) {
        price = around(100);
      } else if (r < 90) {
        price = around(500);
      } else if (r < 96) {
        price = chance(50) ? day.band.low : day.band.high;
      } else {
        price = day.band.low + uniform(day.band.high - day.band.low + 1);
      }
    }
    return std::clamp(price, day.band.low, day.band.high);
  }
  std::uint64_t random_quantity() { return chance(6) ? 300 + uniform(3'000) : 1 + uniform(40); }

  // One random act: applied to the model now (it predicts the receipt), sent in the block.
  Pending random_act() {
    const std::size_t p = uniform(10) < 7 ? 0 : 1;
    const std::uint64_t r = uniform(100);
    std::size_t owner = uniform(kTraders);
    Side side = chance(50) ? kBuy : kSell;
    TimeInForce tif = chance(12) ? kGtc : kDay;
    std::uint64_t quantity = random_quantity();
    std::uint64_t price = random_price(p, tif == kGtc);
    std::string what = "order";
    if (r < 20) {  // cancel
      std::uint64_t id = 0;
      const auto& resting = model_.resting();
      if (chance(4) || model_.next_order_id() == 1) {
        id = model_.next_order_id() + uniform(100);  // never placed
      } else if (chance(60) && !resting.empty()) {
        id = resting[uniform(resting.size())];
      } else {
        const std::uint64_t last = model_.next_order_id() - 1;
        id = last - uniform(std::min<std::uint64_t>(last, 300));
      }
      std::size_t by = owner;
      if (id < model_.next_order_id()) {
        const auto& o = model_.orders()[id - 1];
        const std::uint64_t who = uniform(100);
        by = who < 75 ? o.owner : who < 87 ? uniform(kTraders) : model_.exchange();
      }
      const bool ok = model_.cancel(by, id);
      return Pending{make(by, CancelOrder{id}), ok, "cancel " + std::to_string(id)};
    }
    if (r < 35 && !model_.resting().empty()) {  // cross the best resting order of a side
      const auto& resting = model_.resting();
      const auto& o = model_.orders()[resting[uniform(resting.size())] - 1];
      side = o.side == kBuy ? kSell : kBuy;
      price = o.price;
      tif = kDay;
      what = "crossing order";
      return order(owner, o.product, side, price, quantity, tif, what);
    }
    if (r < 43 && !model_.resting().empty()) {  // the owner of a resting order crosses it
      const auto& resting = model_.resting();
      const auto& o = model_.orders()[resting[uniform(resting.size())] - 1];
      side = o.side == kBuy ? kSell : kBuy;
      return order(o.owner, o.product, side, o.price, 1 + uniform(40), kDay, "self-crossing order");
    }
    if (r < 50) {  // fixed-price transfer
      const auto& listings = model_.listings();
      const std::uint64_t kind = uniform(10);
      if (kind < 3 || listings.empty()) {
        const std::uint64_t list_price = 1'000 + uniform(3'000);
        const std::uint64_t q = chance(10) ? 1'000 + uniform(3'000) : 1 + uniform(60);
        const bool ok = model_.create_listing(owner, p, list_price, q);
        return Pending{make(owner, CreateListing{products_[p], list_price, q}), ok,
                       "create listing"};
      }
      const std::uint64_t id = chance(3) ? listings.size() + 1 : 1 + uniform(listings.size());
      if (kind < 8) {
        const std::uint64_t left = id <= listings.size() ? listings[id - 1].remaining : 1;
        const std::uint64_t q =
            chance(15) ? left + 1 : 1 + uniform(std::max<std::uint64_t>(left, 1));
        const bool ok = model_.take_listing(owner, id, q);
        return Pending{make(owner, TakeListing{id, q}), ok, "take listing " + std::to_string(id)};
      }
      std::size_t by = owner;
      if (id <= listings.size() && chance(70))
        by = chance(80) ? listings[id - 1].seller : model_.exchange();
      const bool ok = model_.cancel_listing(by, id);
      return Pending{make(by, CancelListing{id}), ok, "cancel listing " + std::to_string(id)};
    }
    if (r < 52) {  // invalid: outside the band or nothing
      const auto& day = model_.day(p);
      switch (uniform(3)) {
        case 0:
          price = day.band.low - 1;
          break;
        case 1:
          price = day.band.high + 1;
          break;
        default:
          quantity = 0;
          break;
      }
      what = "invalid order";
    }
    return order(owner, p, side, price, quantity, tif, what);
  }

  Pending order(std::size_t owner, std::size_t p, Side side, std::uint64_t price,
                std::uint64_t quantity, TimeInForce tif, const std::string& what) {
    const bool ok = model_.place(owner, p, side, price, quantity, tif);
    return Pending{make(owner, PlaceOrder{products_[p], side, price, quantity, tif, 0}), ok,
                   what + " " + std::string(side_name(side)) + " " + std::to_string(quantity) +
                       " t @ " + std::to_string(price) + " of " + products_[p].code() + " by " +
                       std::to_string(owner)};
  }

  SignedTx make(std::size_t who, Call call) {
    const core::SecretKey& key = keys_[who];
    const std::uint64_t nonce = world_.chain.next_nonce(key) + in_block_[who]++;
    return make_tx(key, nonce, std::move(call));
  }

  // A block on the chain, and the same block on the restarted replica (if there is one yet): a
  // node that restarts rebuilds its in-memory books from the state, and must reach the same
  // receipts and state root as one whose books stayed warm.
  BlockResult execute(const std::vector<SignedTx>& txs) {
    const BlockResult result = world_.chain.block(txs);
    if (replica_) {
      const BlockResult again =
          replica_->execute_block(world_.chain.height(), world_.chain.time_ms(), txs);
      EXPECT_EQ(again.receipts, result.receipts) << "height " << world_.chain.height();
      EXPECT_EQ(again.state_root, result.state_root) << "height " << world_.chain.height();
    }
    if (++blocks_ % kRestartEveryBlocks == 0) restart_replica();
    return result;
  }
  void restart_replica() {
    auto copy = std::make_unique<MemoryStateStore>();
    for (const auto& [key, value] :
         dynamic_cast<const MemoryStateStore&>(world_.chain_state()).entries())
      copy->put(key, value);
    auto opened = Executor::open(testing::kTestChain,
                                 GenesisConfig{test_key(0).public_key(), "Hubei DRC", {}, 1},
                                 std::move(copy));
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    replica_ = std::make_unique<Executor>(std::move(*opened));
    EXPECT_EQ(replica_->state_root(), world_.chain.executor().state_root());
    ++restarts_;
  }
  void exchange_call(Call call, std::uint64_t time_ms) {
    world_.chain.set_time_ms(time_ms);
    const BlockResult result = execute(
        {make_tx(world_.exchange, world_.chain.next_nonce(world_.exchange), std::move(call))});
    ASSERT_TRUE(result.receipts.at(0).ok()) << result.receipts.at(0).message;
  }

  bool run_block(std::size_t n) {
    in_block_.clear();
    std::vector<Pending> pending;
    for (std::size_t i = 0; i < n; ++i) pending.push_back(random_act());
    std::vector<SignedTx> txs;
    for (const auto& item : pending) txs.push_back(item.tx);
    const BlockResult result = execute(txs);
    for (std::size_t i = 0; i < n; ++i) {
      const Receipt& receipt = result.receipts[i];
      if (receipt.ok() != pending[i].expect_ok) {
        ADD_FAILURE() << "seed " << config_.seed << ", height " << world_.chain.height() << ", tx "
                      << i << " (" << pending[i].what << "): the model "
                      << (pending[i].expect_ok ? "accepts" : "refuses") << ", the ledger says "
                      << (receipt.ok() ? "ok" : receipt.message);
        return false;
      }
    }
    return compare();
  }

  // Every account, lock, balance, order and the new trades against the model.
  bool compare() {
    const std::string where = "seed " + std::to_string(config_.seed) + ", height " +
                              std::to_string(world_.chain.height());
    bool same = true;
    for (std::size_t i = 0; i < model_.accounts(); ++i) {
      const auto& want = model_.account(i);
      const FundAccount got = world_.funds(keys_[i]);
      if (got.available_fen != want.available || got.locked_fen != want.locked) {
        ADD_FAILURE() << where << ": account " << i << " funds " << got.available_fen << "/"
                      << got.locked_fen << ", model " << want.available << "/" << want.locked;
        same = false;
      }
      if (i == model_.exchange()) continue;
      for (std::size_t p = 0; p < kProducts; ++p) {
        const UnitLocks locks = world_.locks(keys_[i], products_[p]);
        const auto& h = want.holdings[p];
        const std::uint64_t held = world_.held(keys_[i], products_[p]);
        if (held != h.held || locks.sell_locked_t != h.sell_locked ||
            locks.buy_open_t != h.buy_open) {
          ADD_FAILURE() << where << ": account " << i << " " << products_[p].code()
                        << " held/locked/open " << held << "/" << locks.sell_locked_t << "/"
                        << locks.buy_open_t << ", model " << h.held << "/" << h.sell_locked << "/"
                        << h.buy_open;
          same = false;
        }
      }
    }
    const MarketState state = world_.market_state();
    if (state.next_order_id != model_.next_order_id()) {
      ADD_FAILURE() << where << ": next order id " << state.next_order_id << ", model "
                    << model_.next_order_id();
      return false;
    }
    // Orders that can still change: the open ones, and those placed or closed since the last
    // comparison (every order is compared at least once after it stops changing).
    for (const auto& want : model_.orders()) {
      const bool recent = want.id >= compared_orders_;
      auto& last = last_status_[want.id];
      if (!recent && want.status != OrderStatus::kOpen && last == want.status) continue;
      last = want.status;
      const OrderRecord got = world_.order_record(want.id);
      const bool open = want.status == OrderStatus::kOpen;
      if (got.status != want.status || got.end != want.end ||
          got.owner != keys_[want.owner].public_key() || got.product != products_[want.product] ||
          got.side != want.side || got.price_fen != want.price || got.quantity_t != want.quantity ||
          got.tif != want.tif || got.filled_value_fen != want.filled_value ||
          (open && (got.remaining_t != want.remaining || got.locked_fen != want.locked)) ||
          (want.status == OrderStatus::kFilled && got.remaining_t != 0)) {
        ADD_FAILURE() << where << ": order " << want.id << " status/end/remaining/locked/filled "
                      << order_status_name(got.status) << "/" << order_end_name(got.end) << "/"
                      << got.remaining_t << "/" << got.locked_fen << "/" << got.filled_value_fen
                      << ", model " << order_status_name(want.status) << "/"
                      << order_end_name(want.end) << "/" << want.remaining << "/" << want.locked
                      << "/" << want.filled_value;
        same = false;
      }
    }
    compared_orders_ = model_.next_order_id();
    if (state.next_listing_id != model_.listings().size() + 1) {
      ADD_FAILURE() << where << ": next listing id " << state.next_listing_id << ", model "
                    << model_.listings().size() + 1;
      return false;
    }
    for (const auto& want : model_.listings()) {
      auto got = read<ListingRecord>(world_.chain, keys::listing(want.id));
      if (!got || got->status != want.status || got->remaining_t != want.remaining ||
          got->price_fen != want.price || got->seller != keys_[want.seller].public_key()) {
        ADD_FAILURE() << where << ": listing " << want.id << " differs from the model";
        same = false;
      }
    }
    if (state.next_trade_id != model_.trades().size() + 1) {
      ADD_FAILURE() << where << ": next trade id " << state.next_trade_id << ", model "
                    << model_.trades().size() + 1;
      return false;
    }
    for (; compared_trades_ < model_.trades().size(); ++compared_trades_) {
      const auto& want = model_.trades()[compared_trades_];
      auto got = read<TradeRecord>(world_.chain, keys::trade(products_[want.product], want.id));
      if (!got) {
        ADD_FAILURE() << where << ": no trade " << want.id << " of "
                      << products_[want.product].code();
        return false;
      }
      if (got->kind != want.kind || got->buyer != keys_[want.buyer].public_key() ||
          got->seller != keys_[want.seller].public_key() || got->price_fen != want.price ||
          got->quantity_t != want.quantity || got->value_fen != want.price * want.quantity ||
          got->buyer_fee_fen != want.buyer_fee || got->seller_fee_fen != want.seller_fee ||
          got->buy_ref != want.buy_ref || got->sell_ref != want.sell_ref ||
          (want.kind == TradeKind::kContinuous && got->aggressor != want.aggressor) ||
          got->day_index != model_.day_index()) {
        ADD_FAILURE() << where << ": trade " << want.id << " " << got->quantity_t << " t @ "
                      << got->price_fen << " refs " << got->buy_ref << "/" << got->sell_ref
                      << " fees " << got->buyer_fee_fen << "/" << got->seller_fee_fen << ", model "
                      << want.quantity << " t @ " << want.price << " refs " << want.buy_ref << "/"
                      << want.sell_ref << " fees " << want.buyer_fee << "/" << want.seller_fee;
        same = false;
      }
    }
    return same;
  }

  void check_close() {
    for (std::size_t p = 0; p < kProducts; ++p) {
      SCOPED_TRACE(products_[p].code() + " day " + std::to_string(model_.day_index()));
      const auto& want = model_.day(p);
      auto got = world_.day_stats(model_.day_index(), products_[p]);
      ASSERT_TRUE(got.has_value());
      EXPECT_EQ(got->closed, 1);
      EXPECT_EQ(got->prev_close_fen, want.prev_close);
      EXPECT_EQ(got->band_low_fen, want.band.low);
      EXPECT_EQ(got->band_high_fen, want.band.high);
      EXPECT_EQ(got->volume_t, want.volume);
      EXPECT_EQ(got->value_fen, want.value);
      EXPECT_EQ(got->trades, want.trades);
      if (want.trades > 0) {
        EXPECT_EQ(got->open_fen, want.open);
        EXPECT_EQ(got->high_fen, want.high);
        EXPECT_EQ(got->low_fen, want.low);
      }
      EXPECT_EQ(got->band_hit != 0, want.band_hit);
      EXPECT_EQ(got->other_volume_t, want.other_volume);
      EXPECT_EQ(got->other_value_fen, want.other_value);
      EXPECT_EQ(got->close_fen, want.close);
      EXPECT_EQ(world_.product_market(products_[p]).prev_close_fen, model_.close(p));
    }
    compare();
  }

  RandomConfig config_;
  std::mt19937_64 rng_;
  World world_;
  ReferenceMarket model_;
  std::vector<ProductId> products_;
  std::vector<core::SecretKey> keys_;  // traders, then the exchange (model indices)
  std::map<std::size_t, std::uint64_t> in_block_;
  std::uint64_t compared_orders_ = 1;
  std::size_t compared_trades_ = 0;
  std::map<std::uint64_t, OrderStatus> last_status_;
  static constexpr std::size_t kRestartEveryBlocks = 37;
  std::unique_ptr<Executor> replica_;
  std::size_t blocks_ = 0;
  std::size_t restarts_ = 0;
};

TEST(ContractsExchangeRandomized, TradingDaysMatchTheReferenceModel) {
  const RandomConfig configs[] = {
      {11, 50, 0, 1'500, 2},
      {12, 37, 0, 1'500, 2},      // odd fee: rounding on every fill
      {13, 50, 4'000, 1'500, 2},  // position limit reached now and then
  };
  ReferenceMarket::Counts total;
  for (const RandomConfig& config : configs) {
    SCOPED_TRACE("seed " + std::to_string(config.seed));
    RandomTradingDays days(config);
    days.run();
    ASSERT_FALSE(HasFailure());
    const auto& c = days.model().counts();
    total.fills += c.fills;
    total.partial_maker_fills += c.partial_maker_fills;
    total.partial_taker_rests += c.partial_taker_rests;
    total.self_trade_cancels += c.self_trade_cancels;
    total.cancels += c.cancels;
    total.cancels_by_exchange += c.cancels_by_exchange;
    total.refused_cancels += c.refused_cancels;
    total.refused_orders += c.refused_orders;
    total.expired += c.expired;
    total.gtc_fills_next_day += c.gtc_fills_next_day;
    total.band_hits += c.band_hits;
    RecordProperty("seed_" + std::to_string(config.seed) + "_fills", static_cast<int>(c.fills));
    // Each run must reach every path on its own.
    EXPECT_GT(c.fills, 300u);
    EXPECT_GT(c.partial_maker_fills, 20u);
    EXPECT_GT(c.partial_taker_rests, 5u);
    EXPECT_GT(c.self_trade_cancels, 10u);
    EXPECT_GT(c.cancels, 50u);
    EXPECT_GT(c.cancels_by_exchange, 3u);
    EXPECT_GT(c.refused_cancels, 20u);
    EXPECT_GT(c.refused_orders, 20u);
    EXPECT_GT(c.expired, 10u);
    EXPECT_GT(days.restarts(), 2u);
    EXPECT_GT(c.listings, 20u);
    EXPECT_GT(c.takes, 20u);
    EXPECT_GT(c.listing_cancels, 5u);
    EXPECT_GT(c.refused_listing_acts, 10u);
  }
  EXPECT_GT(total.gtc_fills_next_day, 0u);
  EXPECT_GT(total.band_hits, 0u);
  std::printf(
      "random trading days: %zu fills (%zu partial makers, %zu partial takers resting), "
      "%zu self-trade cancels, %zu cancels (%zu by the exchange), %zu refused cancels, "
      "%zu refused orders, %zu expired, %zu GTC fills on a later day, %zu band-hit days\n",
      total.fills, total.partial_maker_fills, total.partial_taker_rests, total.self_trade_cancels,
      total.cancels, total.cancels_by_exchange, total.refused_cancels, total.refused_orders,
      total.expired, total.gtc_fills_next_day, total.band_hits);
}

// =================================================================================================
// Review findings: retirement of offered units, role changes with open bids
// =================================================================================================

// A covered enterprise demoted to a role that may not hold allowances (it holds none, so the
// role change is accepted) while its auction bid is open: the clearing must still be possible.
// Nothing can cancel an auction, so a clearing that fails leaves the offer and every bid's funds
// locked for ever.
TEST(ContractsExchangeReview, AnAuctionClearsAfterABiddersRoleChange) {
  World w;
  const auto& bidder = w.t[0];  // a covered enterprise holding nothing
  w.fund(bidder, 1'000'000);
  w.fund(w.t[2], 1'000'000);
  w.units(w.reserve, 100);
  w.open_day(0);
  const std::uint64_t close_ms = beijing_ms(w.day(), 10, 0);
  SignedTx tx = make_tx(w.exchange, w.chain.next_nonce(w.exchange),
                        CreateAuction{w.reserve.public_key(), kProduct, 100, 1'900, close_ms, 0});
  sign_tx(tx, w.reserve);
  ASSERT_TRUE(w.chain.submit(tx).ok());
  const std::uint64_t id = w.market_state().next_auction_id - 1;
  ASSERT_TRUE(w.chain.call(bidder, PlaceBid{id, 2'000, 40}).ok());
  ASSERT_TRUE(w.chain.call(w.t[2], PlaceBid{id, 1'950, 40}).ok());
  const Receipt demoted = w.chain.call(
      w.chain.authority(),
      UpdateParticipant{bidder.public_key(), "Trader 0", Role::kReportingEnterprise});
  w.chain.hold_time_ms(close_ms + 1);
  const Receipt cleared = w.chain.call(w.exchange, ClearAuction{id});
  EXPECT_TRUE(cleared.ok()) << "role change " << (demoted.ok() ? "accepted" : "refused")
                            << "; the clearing is refused: " << cleared.message;
}

// The same for a resting buy order: a seller whose order crosses it must not be refused for
// the buyer's role (nothing the seller can fix; every crossing sell fails until the exchange
// notices).
TEST(ContractsExchangeReview, ARestingBuyOfADemotedAccountDoesNotBlockSellers) {
  World w;
  w.fund(w.t[0], 1'000'000);
  w.units(w.t[1], 100);
  w.open_day(0);
  w.place(w.t[0], kBuy, 2'000, 10, kGtc);
  const Receipt demoted = w.chain.call(
      w.chain.authority(),
      UpdateParticipant{w.t[0].public_key(), "Trader 0", Role::kReportingEnterprise});
  const Receipt sell = w.order(w.t[1], kSell, 2'000, 10);
  EXPECT_TRUE(sell.ok()) << "role change " << (demoted.ok() ? "accepted" : "refused")
                         << "; the seller is refused: " << sell.message;
}

namespace {
// A covered enterprise that bought 20 intervention allowances of 2025 and surrendered 5
// (obligation 5), as in InterventionAllowancesAreCancelledAtYearClose.
struct InterventionBuyer {
  explicit InterventionBuyer(World& world) : w(world) {
    w.fund(buyer(), 100'000'000);
    w.fund(w.t[2], 100'000'000);
    w.units(w.t[1], 1'000);
    w.units(w.reserve, 1'000);
    EmissionRecord emissions;
    emissions.enterprise = buyer().public_key();
    emissions.year = 2025;
    emissions.status = MrvStatus::kApproved;
    emissions.approval_version = 1;
    emissions.obligation_t = 5;
    put_record(w.chain, keys::emission(2025, buyer().public_key()), emissions);
    w.open_day(0);
    w.place(w.t[1], kSell, 2'200, 1);
    w.place(w.t[2], kBuy, 2'200, 1);
    w.close_day();
    EXPECT_EQ(w.product_market().trigger_raised, 1);
    EXPECT_TRUE(w.chain
                    .call(w.chain.authority(),
                          AuthorityAct{InstructReserve{w.reserve.public_key(), kProduct, kSell, 20}})
                    .ok());
    w.open_day(1);
    price = w.product_market().prev_close_fen;
    w.place(buyer(), kBuy, price, 20);
    EXPECT_TRUE(w.chain.call(w.reserve, PlaceOrder{kProduct, kSell, price, 20, kDay, 1}).ok());
    EXPECT_EQ(w.held(buyer()), 20u);
    EXPECT_TRUE(w.chain.call(buyer(), Surrender{2025, kProduct, 5}).ok());
  }
  const core::SecretKey& buyer() const { return w.t[0]; }
  World& w;
  std::uint64_t price = 0;
};
}  // namespace

// Units offered in an auction over the year close: CloseYear must still close the year (it is
// one act for the whole province; one enterprise's offer must not block it).
TEST(ContractsExchangeReview, UnitsOfferedInAnAuctionDoNotBlockTheYearClose) {
  MarketParams params;
  params.band_hits_trigger = 1;
  params.band_window_days = 1;
  World w(params);
  InterventionBuyer setup(w);
  const std::uint64_t deadline = default_rules(2025).surrender_deadline_ms;
  SignedTx tx = make_tx(w.exchange, w.chain.next_nonce(w.exchange),
                        CreateAuction{setup.buyer().public_key(), kProduct, 10, setup.price,
                                      deadline + 86'400'000, 0});
  sign_tx(tx, setup.buyer());
  // The design answer: only the reserve institution sells in auctions (RULES.md: reserve sales
  // and paid allocation), so a covered enterprise cannot lock its allowances in one.
  const Receipt created = w.chain.submit(tx);
  EXPECT_FALSE(created.ok());
  EXPECT_NE(created.message.find("only the reserve institution sells in auctions"),
            std::string::npos)
      << created.message;
  w.close_day();
  w.chain.hold_time_ms(deadline + 1);
  const Receipt closed = w.chain.call(w.chain.authority(), AuthorityAct{CloseYear{2025}});
  EXPECT_TRUE(closed.ok()) << closed.message;
}

// release_sell_offers reads at most 100,000 listing records, oldest first: a listing made after
// the market's 100,000th is never found, its lock stays, and the retirement (here the whole
// year close) fails.
TEST(ContractsExchangeReview, AListingAfterTheHundredThousandthIsReleasedAtTheYearClose) {
  MarketParams params;
  params.band_hits_trigger = 1;
  params.band_window_days = 1;
  World w(params);
  InterventionBuyer setup(w);
  // 101,500 old listings (more than the 100,000 the scan reads), sold out long ago (written straight into the store).
  ListingRecord old;
  old.seller = w.t[1].public_key();
  old.product = kProduct;
  old.price_fen = 2'000;
  old.quantity_t = 1;
  old.status = ListingStatus::kSoldOut;
  MarketState state = w.market_state();
  for (std::uint64_t i = 0; i < 101'500; ++i) {
    old.id = state.next_listing_id++;
    put_record(w.chain, listing_key(old.id), old);
  }
  put_record(w.chain, "mkt/state", state);
  const Receipt listed = w.chain.call(setup.buyer(), CreateListing{kProduct, setup.price, 10});
  ASSERT_TRUE(listed.ok()) << listed.message;
  w.close_day();
  const std::uint64_t deadline = default_rules(2025).surrender_deadline_ms;
  w.chain.hold_time_ms(deadline + 1);
  const Receipt closed = w.chain.call(w.chain.authority(), AuthorityAct{CloseYear{2025}});
  EXPECT_TRUE(closed.ok()) << closed.message;
  EXPECT_EQ(w.held(setup.buyer()), 0u);
}

}  // namespace
}  // namespace carbon::contracts

namespace carbon::contracts {
namespace {

// Intervention allowances follow the units: the covered buyer passes 10 of its 15 remaining
// ones on to a participant with no obligation; the close cancels them there (and the 5 the
// buyer kept), and nothing else.
TEST(ContractsExchangeSurveillance, InterventionAllowancesPassedOnAreCancelledFromTheirHolder) {
  MarketParams params;
  params.band_hits_trigger = 1;
  params.band_window_days = 1;
  World w(params);
  InterventionBuyer setup(w);
  EXPECT_EQ(w.held(setup.buyer()), 15u);
  const std::uint64_t other_before = w.held(w.t[1]);
  ASSERT_TRUE(w.chain.call(setup.buyer(), TransferUnits{w.t[1].public_key(), kProduct, 10}).ok());
  w.close_day();
  w.chain.hold_time_ms(default_rules(2025).surrender_deadline_ms + 1);
  const Receipt closed = w.chain.call(w.chain.authority(), AuthorityAct{CloseYear{2025}});
  ASSERT_TRUE(closed.ok()) << closed.message;
  EXPECT_EQ(w.held(setup.buyer()), 0u);
  EXPECT_EQ(w.held(w.t[1]), other_before) << "the 10 intervention allowances received were kept";
}

}  // namespace
}  // namespace carbon::contracts

namespace carbon::contracts {
namespace {

// Intervention allowances that come back to the reserve and are sold again in an intervention
// count once at the buyer: they reach it tagged through the transfer, and the sale must add
// only the untagged rest (else the year close cancels the buyer's other allowances too).
TEST(ContractsExchangeSurveillance, InterventionAllowancesResoldByTheReserveCountOnce) {
  MarketParams params;
  params.band_hits_trigger = 1;
  params.band_window_days = 1;
  World w(params);
  InterventionBuyer setup(w);
  // The buyer hands 10 of its 15 intervention allowances back to the reserve.
  ASSERT_TRUE(w.chain.call(setup.buyer(), TransferUnits{w.reserve.public_key(), kProduct, 10}).ok());
  auto reserve_history = Ledger(w.chain_state()).history(w.reserve.public_key(), kProduct);
  ASSERT_TRUE(reserve_history.is_ok());
  ASSERT_EQ(reserve_history->intervention_t, 10u);
  // The reserve sells 25 in an intervention: its 10 tagged ones leave first, then 15 others.
  const Receipt instructed = w.chain.call(
      w.chain.authority(), AuthorityAct{InstructReserve{w.reserve.public_key(), kProduct, kSell, 25}});
  ASSERT_TRUE(instructed.ok()) << instructed.message;
  w.place(w.t[2], kBuy, setup.price, 25);
  const Receipt sale = w.chain.call(w.reserve, PlaceOrder{kProduct, kSell, setup.price, 25, kDay, 1});
  ASSERT_TRUE(sale.ok()) << sale.message;
  ASSERT_EQ(w.trades().back().quantity_t, 25u);
  auto buyer_history = Ledger(w.chain_state()).history(w.t[2].public_key(), kProduct);
  ASSERT_TRUE(buyer_history.is_ok());
  EXPECT_EQ(buyer_history->intervention_t, 25u) << "intervention allowances counted twice";
  reserve_history = Ledger(w.chain_state()).history(w.reserve.public_key(), kProduct);
  EXPECT_EQ(reserve_history->intervention_t, 0u);
}

}  // namespace
}  // namespace carbon::contracts
