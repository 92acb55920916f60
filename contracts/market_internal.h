// Private to the contracts library: the exchange's state keys and the helpers shared by
// exchange.cc (funds, calendar, orders) and exchange_deals.cc (listings, block trades,
// auctions, surveillance acts), above all settle(): the one place a trade moves units and
// money (delivery versus payment).
#pragma once

#include <string>

#include "contracts/context.h"
#include "contracts/ledger.h"
#include "contracts/market_records.h"

namespace carbon::contracts {

namespace keys {
inline constexpr std::string_view kMarketParams = "mkt/params";
inline constexpr std::string_view kMarketState = "mkt/state";
inline constexpr std::string_view kMoneySupply = "mkt/money";
inline constexpr std::string_view kProductMarketPrefix = "mkt/prod/";
std::string product_market(const ProductId& product);
std::string fund(const PublicKey& owner);
std::string bank_movement(const Hash256& bank_ref);
std::string unit_locks(const PublicKey& owner, const ProductId& product);
std::string order(std::uint64_t id);
std::string open_orders_prefix(const ProductId& product);
std::string open_order(const ProductId& product, std::uint64_t id);
std::string owner_orders_prefix(const PublicKey& owner);
std::string owner_order(const PublicKey& owner, std::uint64_t id);
std::string offers_prefix(const PublicKey& owner);
std::string offers_prefix(const PublicKey& owner, const ProductId& product);
std::string offer_order(const PublicKey& owner, const ProductId& product, std::uint64_t id);
std::string offer_listing(const PublicKey& owner, const ProductId& product, std::uint64_t id);
std::string depth_prefix(const ProductId& product, Side side);
std::string depth_level(const ProductId& product, Side side, std::uint64_t price_fen);
std::string trades_prefix(const ProductId& product);
std::string trade(const ProductId& product, std::uint64_t id);
std::string day_stats_prefix(const ProductId& product);
std::string day_stats(const ProductId& product, std::uint32_t day_index);
std::string listing(std::uint64_t id);
std::string auction(std::uint64_t id);
std::string bids_prefix(std::uint64_t auction_id);
std::string bid(std::uint64_t auction_id, std::uint32_t seq);
std::string related(const PublicKey& a, const PublicKey& b);
std::string alert(std::uint64_t id);
std::string stabilisation(const ProductId& product);
std::string mandate(const PublicKey& reserve, const ProductId& product);
}  // namespace keys

// "1,234.56 yuan" for messages people read.
std::string yuan(std::uint64_t fen);
// value x bp / 10,000 rounded down (128-bit intermediate: no overflow).
std::uint64_t fee_fen(std::uint64_t value_fen, std::uint32_t bp);
// q x p + fee(q x p): what a buy of q t at limit p locks. Fails on overflow.
Result<std::uint64_t> buy_lock_fen(std::uint64_t quantity_t, std::uint64_t price_fen,
                                   std::uint32_t fee_bp);
// The Beijing-time date (yyyymmdd) and minute of the day of a block time.
std::uint32_t beijing_date(std::uint64_t time_ms);
std::uint32_t beijing_minute(std::uint64_t time_ms);

// Reads with defaults (an absent record is the zero/default record).
Result<MarketParamsRecord> load_market_params(const Ledger& ledger);
Result<MarketState> load_market_state(const Ledger& ledger);
Result<FundAccount> load_fund(const Ledger& ledger, const PublicKey& owner);
Result<UnitLocks> load_unit_locks(const Ledger& ledger, const PublicKey& owner,
                                  const ProductId& product);
void put_fund(Ledger& ledger, const PublicKey& owner, const FundAccount& fund);
void put_unit_locks(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                    const UnitLocks& locks);
// The listed product's market record, or kNotFound "HBEA-2025 is not listed for trading".
Result<ProductMarket> load_listed(const Ledger& ledger, const ProductId& product);

// Checks shared by every way of trading: the account may trade the product (registered, not
// frozen, a role that may hold it; the reserve only with intervention).
Status check_trader(const Account& account, const ProductId& product, bool intervention);
// The parameters have been set, a trading day is open and the block time is in a session.
Status check_trading_open(const MarketParamsRecord& params, const MarketState& state,
                          std::uint64_t time_ms);
Status check_not_halted(const ProductMarket& market);
// The sender is an exchange ("only the exchange may <doing>").
Status check_exchange(const Context& ctx, std::string_view doing);
// A price per tonne in 1 fen .. kMaxPriceFen.
Status check_price(std::uint64_t price_fen);
// What every way of trading a product reads first: the parameters, the market state and the
// product's market record, with the trading day open now and the product not halted.
struct TradingSnapshot {
  MarketParamsRecord params;
  MarketState state;
  ProductMarket market;
};
Result<TradingSnapshot> open_for_trading(const Ledger& ledger, const Context& ctx,
                                         const ProductId& product);
// Position limit: holdings + open buys + add_t <= limit (when the limit is set).
Status check_position_limit(const Ledger& ledger, const MarketParams& params,
                            const PublicKey& owner, const ProductId& product, std::uint64_t add_t);
// Locks quantity_t of owner's units of product for sale (fails when not available).
Status lock_units(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                  std::uint64_t quantity_t);
Status unlock_units(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                    std::uint64_t quantity_t);
// Moves amount from available to locked (fails when not available) and back.
Status lock_funds(Ledger& ledger, const PublicKey& owner, std::uint64_t amount_fen,
                  std::string_view for_what);
Status unlock_funds(Ledger& ledger, const PublicKey& owner, std::uint64_t amount_fen);

// One trade to settle. The seller's units are locked (units_locked) or available; the buyer's
// payment (value + buyer fee) must be in its AVAILABLE funds (callers release a buy lock
// first).
struct TradeSpec {
  TradeKind kind = TradeKind::kContinuous;
  ProductId product;
  PublicKey buyer;
  PublicKey seller;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  std::uint32_t buyer_fee_bp = 0;
  std::uint32_t seller_fee_bp = 0;
  std::uint64_t buy_ref = 0;
  std::uint64_t sell_ref = 0;
  Side aggressor = Side::kBuy;
  std::uint8_t intervention = 0;  // either side is an intervention order (flags the trade)
  bool intervention_sale = false;  // the seller is the reserve intervening: never banked
  bool units_locked = false;
};

// Moves units seller -> buyer, money buyer -> seller, fees -> the exchange; writes the trade
// record, the day's statistics, the product's last trade and any self-dealing alert. `state`
// and `market` are the caller's copies (trade and alert ids come from `state`); the caller
// writes them back. Returns the trade record.
Result<TradeRecord> settle(Ledger& ledger, const Context& ctx, const MarketParamsRecord& params,
                           MarketState& state, ProductMarket& market, const TradeSpec& spec);
void put_market_state(Ledger& ledger, const MarketState& state);
void put_product_market(Ledger& ledger, const ProductMarket& market);
// A new alert with the next id of `state`.
void raise_alert(Ledger& ledger, const Context& ctx, MarketState& state, AlertRecord alert);

// Cancels every open sell order and listing of owner in product (the authority is about to
// retire units they offer); their unit locks are released. Auctions (only the reserve sells
// in them) are not touched.
Status release_sell_offers(Ledger& ledger, const Context& ctx, const PublicKey& owner,
                           const ProductId& product);
// Cancels every resting order and open listing of owner, in every product (its account is
// being frozen), releasing their locks.
Status cancel_offers_of(Ledger& ledger, const Context& ctx, const PublicKey& owner);
// The offer index (offr/, UnitLocks::open_offers): an order that starts resting or a listing
// that opens is added (refused beyond kMaxOpenOffersPerProduct); one that stops is removed.
Status add_offer(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                 const std::string& offer_key);
Status remove_offer(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                    const std::string& offer_key);
// Cancels an open listing (units unlocked, index entry removed).
Status close_listing(Ledger& ledger, ListingRecord& listing);

// ---- module entry points (exchange.cc, exchange_deals.cc) ----
Status apply_call(Ledger& ledger, const Context& ctx, const Deposit& call);
Status apply_call(Ledger& ledger, const Context& ctx, const Withdraw& call);
Status apply_call(Ledger& ledger, const Context& ctx, const SetMarketParams& call);
Status apply_call(Ledger& ledger, const Context& ctx, const ListProduct& call);
Status apply_call(Ledger& ledger, const Context& ctx, const OpenDay& call);
Status apply_call(Ledger& ledger, const Context& ctx, const CloseDay& call);
Status apply_call(Ledger& ledger, const Context& ctx, const HaltProduct& call);
Status apply_call(Ledger& ledger, const Context& ctx, const PlaceOrder& call);
Status apply_call(Ledger& ledger, const Context& ctx, const CancelOrder& call);
Status apply_call(Ledger& ledger, const Context& ctx, const CreateListing& call);
Status apply_call(Ledger& ledger, const Context& ctx, const TakeListing& call);
Status apply_call(Ledger& ledger, const Context& ctx, const CancelListing& call);
Status apply_call(Ledger& ledger, const Context& ctx, const BlockTrade& call);
Status apply_call(Ledger& ledger, const Context& ctx, const CreateAuction& call);
Status apply_call(Ledger& ledger, const Context& ctx, const PlaceBid& call);
Status apply_call(Ledger& ledger, const Context& ctx, const ClearAuction& call);
Status apply_act(Ledger& ledger, const Context& ctx, const SetRelated& act);
Status apply_act(Ledger& ledger, const Context& ctx, const InstructReserve& act);

}  // namespace carbon::contracts
