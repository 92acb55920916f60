// Integration: a short trading session of the exchange on real carbon-node processes, every
// step a signed transaction over RPC: the settlement bank deposits funds, the exchange sets
// parameters (one all-day session, so the test runs at any hour), lists a product and opens the
// day; crossing orders fill in part, a block trade carries the buyer's co-signature, the day
// closes at the VWAP. Then every validator must answer the market queries alike: the same
// trades, book, fund balances and holdings, money conserved (the fund accounts add up to
// deposits - withdrawals, the fees are the exchange's), units conserved, one state root.
#include "contracts/calls.h"
#include "tests/integration/cluster_fixture.h"

namespace carbon::testing {
namespace {

using contracts::Side;

core::Hash256 bank_ref(std::uint8_t tag) {
  core::Hash256 hash;
  hash.bytes[0] = 0xb4;
  hash.bytes[1] = tag;
  return hash;
}

class MarketTest : public ClusterTest {
 protected:
  // Signs `call` with key's next nonce (and the co-signers' signatures), submits it to node
  // (nonce % 4), waits for the commit and returns the receipt.
  json run(const core::SecretKey& key, contracts::Call call,
           const std::vector<const core::SecretKey*>& cosigners = {}) {
    std::uint64_t& nonce = nonces_[key.public_key()];
    ++nonce;
    const std::size_t node = nonce % 4;
    std::string hex = cluster_->sign(key, nonce, std::move(call));
    if (!cosigners.empty()) {
      auto bytes = core::from_hex(hex);
      auto tx = contracts::decode_signed_tx(*bytes);
      EXPECT_TRUE(tx.is_ok());
      for (const auto* cosigner : cosigners) contracts::sign_tx(*tx, *cosigner);
      hex = core::to_hex(contracts::encode_signed_tx(*tx));
    }
    auto [id, doc] = submit(node, hex);
    EXPECT_FALSE(id.empty()) << doc.dump();
    if (id.empty()) return json::object();
    auto receipt = cluster_->wait_for_receipt(node, id, 30s);
    EXPECT_TRUE(receipt.has_value()) << "transaction " << id << " not committed in 30 s";
    return receipt.value_or(json::object());
  }
  void ok(const core::SecretKey& key, contracts::Call call,
          const std::vector<const core::SecretKey*>& cosigners = {}) {
    const json receipt = run(key, std::move(call), cosigners);
    ASSERT_TRUE(receipt.value("ok", false)) << receipt.dump();
  }
  void act(contracts::AuthorityAct act) {
    ok(cluster_->authority(), contracts::Propose{std::move(act)});
  }
  json get_ok(std::size_t node, const std::string& target) {
    auto [code, doc] = cluster_->get(node, target);
    EXPECT_EQ(code, 200u) << target << " -> " << doc.dump();
    return doc;
  }

  std::map<core::PublicKey, std::uint64_t> nonces_;
};

contracts::PlaceOrder order(Side side, std::uint64_t price_fen, std::uint64_t quantity_t,
                            contracts::TimeInForce tif = contracts::TimeInForce::kDay) {
  contracts::PlaceOrder call;
  call.product = contracts::ProductId::allowance(2025);
  call.side = side;
  call.price_fen = price_fen;
  call.quantity_t = quantity_t;
  call.tif = tif;
  return call;
}

TEST_F(MarketTest, TradingSessionSettlesAlikeOnEveryNodeAndConservesMoneyAndUnits) {
  using namespace contracts;
  const auto exchange = core::generate_secret_key();
  const auto bank = core::generate_secret_key();
  const auto seller = core::generate_secret_key();
  const auto buyer = core::generate_secret_key();
  const auto buyer2 = core::generate_secret_key();
  const ProductId hbea = ProductId::allowance(2025);
  const std::string code = hbea.code();
  act(RegisterParticipant{exchange.public_key(), "Hubei Emissions Exchange", Role::kExchange});
  act(RegisterParticipant{bank.public_key(), "Settlement Bank", Role::kSettlementBank});
  act(RegisterParticipant{seller.public_key(), "Seller Steel", Role::kCoveredEnterprise});
  act(RegisterParticipant{buyer.public_key(), "Buyer Cement", Role::kCoveredEnterprise});
  act(RegisterParticipant{buyer2.public_key(), "Buyer Chemicals", Role::kCoveredEnterprise});
  act(IssueAllowances{seller.public_key(), 2025, 50'000});

  MarketParams params;
  params.sessions = {{0, kMinutesPerDay}};  // all day: the test must not depend on the hour
  params.block_min_t = 5'000;
  ok(exchange, SetMarketParams{params});
  ok(exchange, ListProduct{hbea, 2'000});  // 20.00 yuan: band 18.00-22.00
  ok(exchange, OpenDay{});

  ok(bank, Deposit{buyer.public_key(), 50'000'000, bank_ref(1)});   // 500,000.00 yuan
  ok(bank, Deposit{buyer2.public_key(), 10'000'000, bank_ref(2)});  // 100,000.00 yuan
  // A bank reference is used once.
  const json again = run(bank, Deposit{buyer.public_key(), 1, bank_ref(1)});
  EXPECT_FALSE(again.value("ok", true)) << again.dump();
  ok(bank, Withdraw{buyer2.public_key(), 1'000'000, bank_ref(3)});  // 10,000.00 yuan back

  ok(seller, order(Side::kSell, 2'050, 1'000));
  ok(seller, order(Side::kSell, 2'100, 2'000, TimeInForce::kGoodTillCancelled));
  ok(buyer, order(Side::kBuy, 2'100, 1'500));  // 1,000 t at 20.50, 500 t at 21.00
  ok(buyer2, order(Side::kBuy, 2'100, 300));   // 300 t at 21.00; 1,200 t of the GTC sell rest
  ok(buyer2, order(Side::kBuy, 1'900, 400));   // rests as a bid
  // Outside the band: refused with the band in the message.
  const json outside = run(buyer, order(Side::kBuy, 2'201, 10));
  EXPECT_FALSE(outside.value("ok", true));
  EXPECT_NE(outside.value("message", "").find("18.00"), std::string::npos) << outside.dump();
  // A block trade sent by the seller, co-signed by the buyer; without the buyer's signature
  // it is refused.
  const json unsigned_block = run(seller, BlockTrade{buyer.public_key(), hbea, 6'000, 2'000});
  EXPECT_FALSE(unsigned_block.value("ok", true)) << unsigned_block.dump();
  ok(seller, BlockTrade{buyer.public_key(), hbea, 6'000, 2'000}, {&buyer});
  ok(exchange, CloseDay{});

  // Every validator has executed the last transaction.
  const std::uint64_t last = height(0);
  ASSERT_TRUE(Cluster::wait_until(
      [&] {
        for (std::size_t i = 0; i < 4; ++i)
          if (height(i) < last) return false;
        return true;
      },
      30s));

  const std::vector<core::PublicKey> accounts = {exchange.public_key(), bank.public_key(),
                                                 seller.public_key(), buyer.public_key(),
                                                 buyer2.public_key()};
  std::set<std::string> roots, trade_lists, books, fund_lists, holding_lists;
  for (std::size_t i = 0; i < 4; ++i) {
    roots.insert(root_at(i, last));
    const json trades = get_ok(i, "/trades/" + code + "?limit=100");
    ASSERT_EQ(trades["trades"].size(), 4u)
        << trades.dump();  // three continuous fills and the block
    std::uint64_t fees = 0, volume = 0;
    for (const auto& t : trades["trades"]) {
      fees +=
          t.value("buyer_fee_fen", std::uint64_t{0}) + t.value("seller_fee_fen", std::uint64_t{0});
      volume += t.value("quantity_t", std::uint64_t{0});
      EXPECT_EQ(t.value("value_fen", std::uint64_t{0}),
                t.value("price_fen", std::uint64_t{0}) * t.value("quantity_t", std::uint64_t{0}));
    }
    EXPECT_EQ(volume, 1'000u + 500u + 300u + 6'000u);
    EXPECT_EQ(trades["trades"][0].value("kind", ""), "block");
    json without_height = trades;
    without_height.erase("height");
    trade_lists.insert(without_height.dump());

    json book = get_ok(i, "/book/" + code + "?levels=5");
    book.erase("height");
    books.insert(book.dump());

    // Money: every fen is in a fund account; the accounts add up to deposits - withdrawals.
    const json money = get_ok(i, "/money");
    EXPECT_EQ(money.value("deposited_fen", 0), 60'000'000);
    EXPECT_EQ(money.value("withdrawn_fen", 0), 1'000'000);
    std::uint64_t total = 0;
    json funds = json::array();
    for (const auto& key : accounts) {
      json f = get_ok(i, "/funds/" + key.to_hex());
      total += f.value("available_fen", std::uint64_t{0}) + f.value("locked_fen", std::uint64_t{0});
      f.erase("height");
      funds.push_back(f);
    }
    EXPECT_EQ(total, money.value("outstanding_fen", std::uint64_t{0}));
    EXPECT_EQ(total, 59'000'000u);
    // The fees are the exchange's; the bank holds nothing.
    EXPECT_EQ(funds[0].value("available_fen", std::uint64_t{0}), fees);
    EXPECT_EQ(funds[1].value("total_fen", std::uint64_t{1}), 0u);
    // The resting bid of 400 t at 19.00 keeps L(400) = 7,600.00 + 0.5% fee locked; the close
    // expired it (a day order) and released the lock.
    EXPECT_EQ(funds[4].value("locked_fen", std::uint64_t{1}), 0u) << funds.dump();
    fund_lists.insert(funds.dump());

    // Units: the seller's 50,000 t went to the buyers, nothing lost or made.
    std::uint64_t units = 0;
    std::string holdings_text;
    for (const auto& key : {seller.public_key(), buyer.public_key(), buyer2.public_key()}) {
      json h = get_ok(i, "/holdings/" + key.to_hex());
      for (const auto& product : h["holdings"])
        units += product.value("quantity_t", std::uint64_t{0});
      h.erase("height");
      holdings_text += h.dump();
    }
    EXPECT_EQ(units, 50'000u);
    holding_lists.insert(holdings_text);
    const json buyer_holdings = get_ok(i, "/holdings/" + buyer.public_key().to_hex());
    ASSERT_EQ(buyer_holdings["holdings"].size(), 1u);
    EXPECT_EQ(buyer_holdings["holdings"][0].value("quantity_t", 0), 1'500 + 6'000);

    // The day closed at the VWAP of the continuous trades: (20,500 + 10,500 + 6,300) / 1,800 t
    // = 20.7222... -> 20.72 yuan.
    const json days = get_ok(i, "/market/" + code + "/days");
    ASSERT_EQ(days["days"].size(), 1u) << days.dump();
    const json& day = days["days"][0];
    EXPECT_TRUE(day.value("closed", false));
    EXPECT_EQ(day.value("close_fen", 0), 2'072);
    EXPECT_EQ(day.value("open_fen", 0), 2'050);
    EXPECT_EQ(day.value("high_fen", 0), 2'100);
    EXPECT_EQ(day.value("low_fen", 0), 2'050);
    EXPECT_EQ(day.value("volume_t", 0), 1'800);
    EXPECT_EQ(day.value("other_volume_t", 0), 6'000);
    EXPECT_EQ(day.value("close_yuan", ""), "20.72");
    const json market = get_ok(i, "/market/" + code);
    EXPECT_EQ(market.value("prev_close_fen", 0), 2'072);
    const json state = get_ok(i, "/market");
    EXPECT_FALSE(state["state"].value("day_open", true));
    EXPECT_EQ(state.value("version", 0), 1);
    // The GTC sell rests after the close: 1,200 t at 21.00, its units locked.
    const json locks = get_ok(i, "/locks/" + seller.public_key().to_hex() + "/" + code);
    EXPECT_EQ(locks.value("sell_locked_t", 0), 1'200);
    const json open_orders = get_ok(i, "/orders/" + seller.public_key().to_hex() + "?open=1");
    ASSERT_EQ(open_orders["orders"].size(), 1u) << open_orders.dump();
    EXPECT_EQ(open_orders["orders"][0].value("remaining_t", 0), 1'200);
  }
  EXPECT_EQ(roots.size(), 1u);
  EXPECT_FALSE(roots.begin()->empty());
  EXPECT_EQ(trade_lists.size(), 1u);
  EXPECT_EQ(books.size(), 1u);
  EXPECT_EQ(fund_lists.size(), 1u);
  EXPECT_EQ(holding_lists.size(), 1u);
  // The book after the close: the GTC ask only (the day bid expired).
  const json book = get_ok(2, "/book/" + code);
  ASSERT_EQ(book["asks"].size(), 1u) << book.dump();
  EXPECT_EQ(book["asks"][0].value("price_yuan", ""), "21.00");
  EXPECT_TRUE(book["bids"].empty()) << book.dump();

  // Bad query input: clear errors, no crash.
  const auto expect_error = [&](const std::string& target, unsigned status) {
    auto [status_code, doc] = cluster_->get(1, target);
    EXPECT_EQ(status_code, status) << target << " -> " << doc.dump();
    EXPECT_TRUE(doc.is_object() && doc.contains("error")) << target;
  };
  expect_error("/market/NOPE", 400);
  expect_error("/market/HBEA-2031", 404);
  expect_error("/book/" + code + "?levels=0", 400);
  expect_error("/trades/" + code + "?limit=5&typo=1", 400);
  expect_error("/trades/" + code + "?before=x", 400);
  expect_error("/order/999999", 404);
  expect_error("/orders/not-an-address", 400);
  expect_error("/listings?open=maybe", 400);
  expect_error("/mandate/" + buyer.public_key().to_hex(), 400);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(alive(i));
}

}  // namespace
}  // namespace carbon::testing
