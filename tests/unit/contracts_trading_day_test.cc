// One trading day through the contracts, end to end: the exchange sets its parameters, lists
// an allowance vintage and opens the day; the settlement bank credits funds; enterprises trade
// through the order book (partial fills at the maker's price), a fixed-price listing and a
// block trade; the day closes at the VWAP. Checks money and units after each step (the
// harness checks the ledger invariants after every block).
#include <gtest/gtest.h>

#include "contracts/context.h"
#include "contracts/market_queries.h"
#include "contracts_harness.h"

namespace carbon::contracts::testing {
namespace {

constexpr std::uint16_t kVintage = 2025;
const ProductId kProduct = ProductId::allowance(kVintage);
// 2026-03-02 10:00 Beijing time (02:00 UTC): inside the default morning session.
constexpr std::uint64_t kMorningMs = 1'772'416'800'000ULL;

Hash256 ref(std::uint8_t n) {
  Hash256 h;
  h.bytes.fill(n);
  return h;
}

class TradingDay : public ::testing::Test {
 protected:
  TradingDay()
      : exchange_(test_key(10)), bank_(test_key(11)), steel_(test_key(12)), cement_(test_key(13)),
        paper_(test_key(14)) {
    chain_.set_time_ms(kMorningMs);
    EXPECT_TRUE(chain_.register_participant(exchange_, Role::kExchange, "Hubei Exchange").ok());
    EXPECT_TRUE(chain_.register_participant(bank_, Role::kSettlementBank, "Bank").ok());
    EXPECT_TRUE(chain_.register_participant(steel_, Role::kCoveredEnterprise, "Steel").ok());
    EXPECT_TRUE(chain_.register_participant(cement_, Role::kCoveredEnterprise, "Cement").ok());
    EXPECT_TRUE(chain_.register_participant(paper_, Role::kCoveredEnterprise, "Paper").ok());
    EXPECT_TRUE(chain_.issue(steel_, kVintage, 300'000).ok());
    EXPECT_TRUE(chain_.issue(cement_, kVintage, 1'000).ok());
  }

  Ledger ledger() { return Ledger(chain_.executor().state()); }
  FundAccount funds(const core::SecretKey& key) {
    auto result = queries::funds(ledger(), key.public_key());
    EXPECT_TRUE(result.is_ok());
    return result.is_ok() ? *result : FundAccount{};
  }
  void open_market() {
    ASSERT_TRUE(chain_.call(exchange_, SetMarketParams{MarketParams{}}).ok());
    ASSERT_TRUE(chain_.call(exchange_, ListProduct{kProduct, 2'000}).ok());
    ASSERT_TRUE(chain_.call(exchange_, OpenDay{}).ok());
    ASSERT_TRUE(chain_.call(bank_, Deposit{cement_.public_key(), 100'000'000, ref(1)}).ok());
    ASSERT_TRUE(chain_.call(bank_, Deposit{paper_.public_key(), 500'000'000, ref(2)}).ok());
  }

  TestChain chain_;
  core::SecretKey exchange_, bank_, steel_, cement_, paper_;
};

TEST_F(TradingDay, CrossingOrdersSettleDeliveryVersusPayment) {
  open_market();
  // Steel offers 1,000 t at 20.50 and 1,000 t at 21.00.
  ASSERT_TRUE(chain_.call(steel_, PlaceOrder{kProduct, Side::kSell, 2'050, 1'000, TimeInForce::kDay, 0}).ok());
  ASSERT_TRUE(chain_.call(steel_, PlaceOrder{kProduct, Side::kSell, 2'100, 1'000, TimeInForce::kGoodTillCancelled, 0}).ok());
  // Cement buys 1,500 t up to 21.00: 1,000 at 20.50 and 500 at 21.00.
  const FundAccount before = funds(cement_);
  const Receipt buy = chain_.call(cement_, PlaceOrder{kProduct, Side::kBuy, 2'100, 1'500, TimeInForce::kDay, 0});
  ASSERT_TRUE(buy.ok()) << buy.message;
  const std::uint64_t value = 1'000 * 2'050 + 500 * 2'100;
  const std::uint64_t fee = value * 50 / 10'000;  // 0.5%, per fill rounded down
  const FundAccount after = funds(cement_);
  EXPECT_EQ(after.locked_fen, 0u);
  EXPECT_EQ(before.available_fen - after.available_fen,
            1'000ULL * 2'050 + (1'000ULL * 2'050) * 50 / 10'000 + 500ULL * 2'100 +
                (500ULL * 2'100) * 50 / 10'000);
  EXPECT_EQ(chain_.balance(cement_, kVintage), 1'000u + 1'500u);
  EXPECT_EQ(chain_.balance(steel_, kVintage), 300'000u - 1'500u);
  EXPECT_EQ(funds(steel_).available_fen,
            value - (1'000ULL * 2'050) * 50 / 10'000 - (500ULL * 2'100) * 50 / 10'000);
  EXPECT_GE(funds(exchange_).available_fen, 2 * fee - 2);
  // The rest of Steel's 21.00 offer rests; the book shows it.
  auto depth = queries::book(ledger(), kProduct, 10);
  ASSERT_TRUE(depth.is_ok());
  ASSERT_EQ(depth->asks.size(), 1u);
  EXPECT_EQ(depth->asks[0].price_fen, 2'100u);
  EXPECT_EQ(depth->asks[0].quantity_t, 500u);
  EXPECT_TRUE(depth->bids.empty());
  // Steel cannot transfer the units locked in its open offer.
  const Receipt transfer = chain_.transfer(steel_, paper_, kVintage, 300'000 - 1'500 - 400);
  EXPECT_FALSE(transfer.ok());
  EXPECT_NE(transfer.message.find("locked"), std::string::npos) << transfer.message;

  // Outside the band: refused with the band in the message.
  const Receipt wide = chain_.call(paper_, PlaceOrder{kProduct, Side::kBuy, 2'201, 10, TimeInForce::kDay, 0});
  EXPECT_FALSE(wide.ok());
  EXPECT_NE(wide.message.find("18.00 yuan - 22.00 yuan"), std::string::npos) << wide.message;

  // Fixed-price listing and a block trade.
  ASSERT_TRUE(chain_.call(steel_, CreateListing{kProduct, 1'900, 2'000}).ok());
  const Receipt take = chain_.call(paper_, TakeListing{1, 1'200});
  ASSERT_TRUE(take.ok()) << take.message;
  EXPECT_EQ(chain_.balance(paper_, kVintage), 1'200u);
  SignedTx block = make_tx(steel_, chain_.next_nonce(steel_),
                           Call{BlockTrade{paper_.public_key(), kProduct, 100'000, 2'300}});
  const Receipt unsigned_block = chain_.submit(block);
  EXPECT_FALSE(unsigned_block.ok());
  EXPECT_NE(unsigned_block.message.find("co-sign"), std::string::npos) << unsigned_block.message;
  block = make_tx(steel_, chain_.next_nonce(steel_),
                  Call{BlockTrade{paper_.public_key(), kProduct, 100'000, 2'300}});
  sign_tx(block, paper_);
  const Receipt block_receipt = chain_.submit(block);
  ASSERT_TRUE(block_receipt.ok()) << block_receipt.message;
  EXPECT_EQ(chain_.balance(paper_, kVintage), 101'200u);

  // The close: the day order's remainder expires, the GTC offer stays; close = VWAP.
  ASSERT_TRUE(chain_.call(exchange_, CloseDay{}).ok());
  auto market = queries::market(ledger(), kProduct);
  ASSERT_TRUE(market.is_ok());
  EXPECT_EQ(market->market.prev_close_fen, (value + 750) / 1'500);
  auto days = queries::days(ledger(), kProduct, 10);
  ASSERT_TRUE(days.is_ok());
  ASSERT_EQ(days->items.size(), 1u);
  EXPECT_EQ(days->items[0].open_fen, 2'050u);
  EXPECT_EQ(days->items[0].high_fen, 2'100u);
  EXPECT_EQ(days->items[0].volume_t, 1'500u);
  EXPECT_EQ(days->items[0].other_volume_t, 101'200u);
  auto open_orders = queries::orders(ledger(), steel_.public_key(), true, 10);
  ASSERT_TRUE(open_orders.is_ok());
  ASSERT_EQ(open_orders->items.size(), 1u);
  EXPECT_EQ(open_orders->items[0].remaining_t, 500u);
  auto trades = queries::trades(ledger(), kProduct, 10);
  ASSERT_TRUE(trades.is_ok());
  EXPECT_EQ(trades->items.size(), 4u);
  EXPECT_EQ(trades->items[0].kind, TradeKind::kBlock);  // newest first
}

TEST_F(TradingDay, AuctionClearsAtOneUniformPrice) {
  open_market();
  const core::SecretKey reserve = test_key(15);
  ASSERT_TRUE(chain_.register_participant(reserve, Role::kReserve, "Reserve").ok());
  ASSERT_TRUE(chain_.issue(reserve, kVintage, 1'000).ok());
  const std::uint64_t close_ms = chain_.time_ms() + 10'000;
  SignedTx create = make_tx(exchange_, chain_.next_nonce(exchange_),
                            Call{CreateAuction{reserve.public_key(), kProduct, 1'000, 1'500, close_ms, 0}});
  sign_tx(create, reserve);
  const Receipt created = chain_.submit(create);
  ASSERT_TRUE(created.ok()) << created.message;
  ASSERT_TRUE(chain_.call(cement_, PlaceBid{1, 1'800, 600}).ok());
  ASSERT_TRUE(chain_.call(paper_, PlaceBid{1, 1'700, 300}).ok());
  ASSERT_TRUE(chain_.call(steel_, PlaceBid{1, 1'700, 300}).ok() == false);  // no funds
  ASSERT_TRUE(chain_.call(paper_, PlaceBid{1, 1'600, 500}).ok());
  EXPECT_FALSE(chain_.call(paper_, PlaceBid{1, 1'400, 10}).ok());  // below the reserve price
  EXPECT_FALSE(chain_.call(exchange_, ClearAuction{1}).ok());      // still taking bids
  chain_.set_time_ms(close_ms + 1);
  const Receipt cleared = chain_.call(exchange_, ClearAuction{1});
  ASSERT_TRUE(cleared.ok()) << cleared.message;
  auto view = queries::auction(ledger(), 1);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->auction.clearing_price_fen, 1'600u);  // the marginal bid, filled in part
  EXPECT_EQ(view->auction.sold_t, 1'000u);
  EXPECT_EQ(chain_.balance(cement_, kVintage), 1'000u + 600u);
  EXPECT_EQ(chain_.balance(paper_, kVintage), 400u);
  EXPECT_EQ(funds(reserve).available_fen, 1'000u * 1'600u);
  EXPECT_EQ(funds(paper_).locked_fen, 0u);
}

// A bidder frozen before the clearing gets nothing; its bid is refunded and the next bids fill.
TEST_F(TradingDay, AFrozenBidderGetsNothingAtTheClearing) {
  open_market();
  const core::SecretKey reserve = test_key(15);
  ASSERT_TRUE(chain_.register_participant(reserve, Role::kReserve, "Reserve").ok());
  ASSERT_TRUE(chain_.issue(reserve, kVintage, 1'000).ok());
  const std::uint64_t close_ms = chain_.time_ms() + 10'000;
  SignedTx create = make_tx(exchange_, chain_.next_nonce(exchange_),
                            Call{CreateAuction{reserve.public_key(), kProduct, 1'000, 1'500, close_ms, 0}});
  sign_tx(create, reserve);
  ASSERT_TRUE(chain_.submit(create).ok());
  ASSERT_TRUE(chain_.call(cement_, PlaceBid{1, 1'800, 600}).ok());
  ASSERT_TRUE(chain_.call(paper_, PlaceBid{1, 1'600, 500}).ok());
  ASSERT_TRUE(chain_.call(chain_.authority(), SetFrozen{cement_.public_key(), 1}).ok());
  chain_.set_time_ms(close_ms + 1);
  const FundAccount cement_before = funds(cement_);
  ASSERT_TRUE(chain_.call(exchange_, ClearAuction{1}).ok());
  auto view = queries::auction(ledger(), 1);
  ASSERT_TRUE(view.is_ok());
  EXPECT_EQ(view->auction.sold_t, 500u);
  EXPECT_EQ(view->auction.clearing_price_fen, 1'600u);
  EXPECT_EQ(chain_.balance(cement_, kVintage), 1'000u);  // what it had, nothing bought
  EXPECT_EQ(funds(cement_).locked_fen, 0u);
  EXPECT_EQ(funds(cement_).available_fen, cement_before.available_fen + cement_before.locked_fen);
  EXPECT_EQ(chain_.balance(reserve, kVintage), 500u);
}

// Withdrawals and cancellations at year close retire units the holder may have offered for
// sale: the offers are cancelled first, the locks released, and the retirement goes through.
TEST(TradingDayDirect, RetiringOfferedUnitsCancelsTheOffersFirst) {
  MemoryStateStore store;
  const core::SecretKey authority = test_key(0), exchange = test_key(10), steel = test_key(12);
  write_genesis(store, kTestChain, {authority.public_key()}, 1, "DRC");
  Ledger ledger(store);
  const auto as = [&](const core::SecretKey& key) {
    auto account = ledger.account(key.public_key());
    EXPECT_TRUE(account.is_ok() && account->has_value());
    Context ctx;
    ctx.height = 1;
    ctx.time_ms = kMorningMs;
    ctx.sender = **account;
    ctx.signers = {key.public_key()};
    return ctx;
  };
  const auto act = [&](AuthorityAct a) {
    const Status status = apply_call(store, as(authority), Call{Propose{std::move(a)}});
    ASSERT_TRUE(status.is_ok()) << status.to_string();
  };
  act(RegisterParticipant{exchange.public_key(), "Exchange", Role::kExchange});
  act(RegisterParticipant{steel.public_key(), "Steel", Role::kCoveredEnterprise});
  act(IssueAllowances{steel.public_key(), kVintage, 1'000});
  for (const Call& call : {Call{SetMarketParams{MarketParams{}}}, Call{ListProduct{kProduct, 2'000}},
                           Call{OpenDay{}}}) {
    ASSERT_TRUE(apply_call(store, as(exchange), call).is_ok());
  }
  ASSERT_TRUE(apply_call(store, as(steel),
                         Call{PlaceOrder{kProduct, Side::kSell, 2'100, 600, TimeInForce::kGoodTillCancelled, 0}})
                  .is_ok());
  ASSERT_TRUE(apply_call(store, as(steel), Call{CreateListing{kProduct, 1'900, 300}}).is_ok());
  // 900 of 1,000 are offered; retiring 500 needs the offers gone.
  const Status retired = ledger.retire_quantity(as(authority), steel.public_key(), kProduct, 500,
                                                RetirementKind::kWithdrawn, kVintage);
  ASSERT_TRUE(retired.is_ok()) << retired.to_string();
  auto order = queries::order(ledger, 1);
  ASSERT_TRUE(order.is_ok());
  EXPECT_EQ(order->status, OrderStatus::kCancelled);
  EXPECT_EQ(order->end, OrderEnd::kRetired);
  auto listing = queries::listing(ledger, 1);
  ASSERT_TRUE(listing.is_ok());
  EXPECT_EQ(listing->status, ListingStatus::kCancelled);
  auto locks = queries::unit_locks(ledger, steel.public_key(), kProduct);
  ASSERT_TRUE(locks.is_ok());
  EXPECT_EQ(locks->sell_locked_t, 0u);
  EXPECT_EQ(*ledger.balance(steel.public_key(), kProduct), 500u);
  auto depth = queries::book(ledger, kProduct, 10);
  ASSERT_TRUE(depth.is_ok());
  EXPECT_TRUE(depth->asks.empty());
  const Status invariants = check_invariants(store);
  EXPECT_TRUE(invariants.is_ok()) << invariants.to_string();
}

}  // namespace
}  // namespace carbon::contracts::testing
