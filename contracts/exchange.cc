// The exchange, part 1: keys and shared helpers of the market, fund accounts (the settlement
// bank's deposits and withdrawals), the exchange's parameters, listings of products, the
// trading day, halts, continuous trading in the order book and settlement (docs/exchange.md).
#include <algorithm>
#include <bit>

#include "contracts/key_text.h"
#include "contracts/ledger_internal.h"
#include "contracts/market_books.h"
#include "contracts/market_internal.h"
#include "contracts/market_queries.h"
#include "core/checked_math.h"

namespace carbon::contracts {

namespace keys {
std::string product_market(const ProductId& product) { return join(kProductMarketPrefix, product); }
std::string fund(const PublicKey& owner) { return join("fund/", owner); }
std::string bank_movement(const Hash256& bank_ref) { return join("bank/", bank_ref); }
std::string unit_locks(const PublicKey& owner, const ProductId& product) { return join("ulk/", owner, "/", product); }
std::string order(std::uint64_t id) { return join("ord/", Hex16{id}); }
std::string open_orders_prefix(const ProductId& product) { return join("obk/", product, "/"); }
std::string open_order(const ProductId& product, std::uint64_t id) { return join("obk/", product, "/", Hex16{id}); }
std::string owner_orders_prefix(const PublicKey& owner) { return join("oown/", owner, "/"); }
std::string offers_prefix(const PublicKey& owner) { return join("offr/", owner, "/"); }
std::string offers_prefix(const PublicKey& owner, const ProductId& product) {
  return join("offr/", owner, "/", product, "/");
}
std::string offer_order(const PublicKey& owner, const ProductId& product, std::uint64_t id) {
  return join("offr/", owner, "/", product, "/o", Hex16{id});
}
std::string offer_listing(const PublicKey& owner, const ProductId& product, std::uint64_t id) {
  return join("offr/", owner, "/", product, "/l", Hex16{id});
}
// Lists shown newest first are keyed by the complement of the id (the store scans forward).
std::string owner_order(const PublicKey& owner, std::uint64_t id) { return join("oown/", owner, "/", Hex16{~id}); }
std::string depth_prefix(const ProductId& product, Side side) {
  return join("lvl/", product, side == Side::kBuy ? "/b/" : "/s/");
}
std::string depth_level(const ProductId& product, Side side, std::uint64_t price_fen) {
  // Bids sort best (highest) first under the complement of the price.
  return join("lvl/", product, side == Side::kBuy ? "/b/" : "/s/", Hex16{side == Side::kBuy ? ~price_fen : price_fen});
}
std::string trades_prefix(const ProductId& product) { return join("trd/", product, "/"); }
std::string trade(const ProductId& product, std::uint64_t id) { return join("trd/", product, "/", Hex16{~id}); }
std::string day_stats_prefix(const ProductId& product) { return join("mday/", product, "/"); }
std::string day_stats(const ProductId& product, std::uint32_t day_index) {
  return join("mday/", product, "/", Hex8{~day_index});
}
std::string listing(std::uint64_t id) { return join("lst/", Hex16{id}); }
std::string auction(std::uint64_t id) { return join("auc/", Hex16{id}); }
std::string bids_prefix(std::uint64_t auction_id) { return join("bid/", Hex16{auction_id}, "/"); }
std::string bid(std::uint64_t auction_id, std::uint32_t seq) { return join("bid/", Hex16{auction_id}, "/", Hex8{seq}); }
std::string related(const PublicKey& a, const PublicKey& b) { return join("rel/", a, "/", b); }
std::string alert(std::uint64_t id) { return join("alrt/", Hex16{~id}); }
std::string stabilisation(const ProductId& product) { return join("stab/", product); }
std::string mandate(const PublicKey& reserve, const ProductId& product) { return join("mand/", reserve, "/", product); }
}  // namespace keys

// ---- shared helpers (market_internal.h) -----------------------------------------------------

std::string yuan(std::uint64_t fen) {
  const std::string cents = std::to_string(fen % 100);
  return grouped(fen / 100) + "." + (cents.size() == 1 ? "0" + cents : cents) + " yuan";
}

std::uint64_t fee_fen(std::uint64_t value_fen, std::uint32_t bp) {
  // bp <= 10,000 (validate_market_params), so the result is at most value_fen.
  const unsigned __int128 product = static_cast<unsigned __int128>(value_fen) * bp;
  return static_cast<std::uint64_t>(product / kBasisPoints);
}

Result<std::uint64_t> buy_lock_fen(std::uint64_t quantity_t, std::uint64_t price_fen,
                                   std::uint32_t fee_bp) {
  auto value = core::checked_mul(quantity_t, price_fen);
  if (!value) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "order value " + tonnes(quantity_t) + " x " + yuan(price_fen) +
                             " is too large");
  }
  auto total = core::checked_add(*value, fee_fen(*value, fee_bp));
  if (!total) return Status::error(ErrorCode::kOutOfBounds, "order value with fee is too large");
  return *total;
}

Result<MarketParamsRecord> load_market_params(const Ledger& ledger) {
  auto stored = ledger.get<MarketParamsRecord>(std::string(keys::kMarketParams));
  if (!stored) return stored.status();
  return *stored ? std::move(**stored) : MarketParamsRecord{};
}

Result<MarketState> load_market_state(const Ledger& ledger) {
  auto stored = ledger.get<MarketState>(std::string(keys::kMarketState));
  if (!stored) return stored.status();
  return *stored ? **stored : MarketState{};
}

void put_market_state(Ledger& ledger, const MarketState& state) {
  ledger.put(std::string(keys::kMarketState), state);
}

void put_product_market(Ledger& ledger, const ProductMarket& market) {
  ledger.put(keys::product_market(market.product), market);
}

Result<FundAccount> load_fund(const Ledger& ledger, const PublicKey& owner) {
  auto stored = ledger.get<FundAccount>(keys::fund(owner));
  if (!stored) return stored.status();
  return *stored ? **stored : FundAccount{};
}

void put_fund(Ledger& ledger, const PublicKey& owner, const FundAccount& fund) {
  // An empty account is absent, like a zero balance.
  if (fund.available_fen == 0 && fund.locked_fen == 0) {
    ledger.erase(keys::fund(owner));
  } else {
    ledger.put(keys::fund(owner), fund);
  }
}

Result<UnitLocks> load_unit_locks(const Ledger& ledger, const PublicKey& owner,
                                  const ProductId& product) {
  auto stored = ledger.get<UnitLocks>(keys::unit_locks(owner, product));
  if (!stored) return stored.status();
  return *stored ? **stored : UnitLocks{};
}

void put_unit_locks(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                    const UnitLocks& locks) {
  if (locks.empty()) {
    ledger.erase(keys::unit_locks(owner, product));
  } else {
    ledger.put(keys::unit_locks(owner, product), locks);
  }
}

Result<ProductMarket> load_listed(const Ledger& ledger, const ProductId& product) {
  auto stored = ledger.get<ProductMarket>(keys::product_market(product));
  if (!stored) return stored.status();
  if (!*stored) {
    return Status::error(ErrorCode::kNotFound, product.code() + " is not listed for trading");
  }
  return std::move(**stored);
}

Status check_trader(const Account& account, const ProductId& product, bool intervention) {
  if (account.frozen != 0) {
    return Status::error(ErrorCode::kConflict,
                         "account " + account.name + " is frozen and cannot trade");
  }
  if (account.role == Role::kReserve) {
    if (!intervention) {
      return Status::error(ErrorCode::kUnauthorized,
                           "the reserve institution trades only through intervention orders on "
                           "an authority instruction");
    }
    return Status::ok();
  }
  if (intervention) {
    return Status::error(ErrorCode::kUnauthorized,
                         "only the reserve institution may place intervention orders");
  }
  if (!role_may_hold(account.role, product.kind)) {
    return Status::error(ErrorCode::kUnauthorized,
                         std::string(role_name(account.role)) + " " + account.name +
                             " may not trade " + product.code());
  }
  return Status::ok();
}

namespace {
std::string clock_text(std::uint32_t minute) {
  const std::string h = std::to_string(minute / 60);
  const std::string m = std::to_string(minute % 60);
  return (h.size() == 1 ? "0" + h : h) + ":" + (m.size() == 1 ? "0" + m : m);
}
std::string sessions_text(const MarketParams& params) {
  std::string out;
  for (const TradingSession& session : params.sessions) {
    if (!out.empty()) out += ", ";
    out += clock_text(session.start_min) + "-" + clock_text(session.end_min);
  }
  return out.empty() ? "none" : out;
}
}  // namespace

Status check_trading_open(const MarketParamsRecord& params, const MarketState& state,
                          std::uint64_t time_ms) {
  if (params.version == 0) {
    return Status::error(ErrorCode::kConflict,
                         "the exchange has not set the market parameters yet");
  }
  if (state.day_open == 0) {
    return Status::error(ErrorCode::kConflict,
                         "no trading day is open (the exchange opens it)");
  }
  if (beijing_date(time_ms) != state.day_date) {
    return Status::error(ErrorCode::kConflict,
                         "the open trading day is " + std::to_string(state.day_date) +
                             ", not today's date (" + beijing_time(time_ms) +
                             "); the exchange must close it and open today's");
  }
  const std::uint32_t minute = beijing_minute(time_ms);
  for (const TradingSession& session : params.params.sessions) {
    if (minute >= session.start_min && minute < session.end_min) return Status::ok();
  }
  return Status::error(ErrorCode::kConflict,
                       "outside trading hours: sessions " + sessions_text(params.params) +
                           " Beijing time; block time " + beijing_time(time_ms));
}

Status check_not_halted(const ProductMarket& market) {
  if (market.halted != 0) {
    return Status::error(ErrorCode::kConflict,
                         "trading in " + market.product.code() + " is halted by the exchange");
  }
  return Status::ok();
}

Status check_position_limit(const Ledger& ledger, const MarketParams& params,
                            const PublicKey& owner, const ProductId& product, std::uint64_t add_t) {
  if (params.position_limit_t == 0) return Status::ok();
  auto held = ledger.balance(owner, product);
  if (!held) return held.status();
  auto locks = load_unit_locks(ledger, owner, product);
  if (!locks) return locks.status();
  // Each term is at most the product's issued total or kMaxQuantityPerTx x orders: no overflow.
  const unsigned __int128 position =
      static_cast<unsigned __int128>(*held) + locks->buy_open_t + add_t;
  if (position > params.position_limit_t) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "position limit of " + tonnes(params.position_limit_t) + " in " +
                             product.code() + " exceeded: holds " + tonnes(*held) + ", " +
                             tonnes(locks->buy_open_t) + " in open buy orders, " +
                             tonnes(add_t) + " more requested");
  }
  return Status::ok();
}

Status lock_units(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                  std::uint64_t quantity_t) {
  auto held = ledger.balance(owner, product);
  if (!held) return held.status();
  auto locks = load_unit_locks(ledger, owner, product);
  if (!locks) return locks.status();
  CARBON_ASSERT(locks->sell_locked_t <= *held);
  if (*held - locks->sell_locked_t < quantity_t) {
    return Status::error(ErrorCode::kConflict,
                         "not enough units to sell: holds " + tonnes(*held) + " of " +
                             product.code() + ", " + tonnes(locks->sell_locked_t) +
                             " already locked for sale, needs " + tonnes(quantity_t));
  }
  locks->sell_locked_t += quantity_t;
  put_unit_locks(ledger, owner, product, *locks);
  return Status::ok();
}

Status unlock_units(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                    std::uint64_t quantity_t) {
  auto locks = load_unit_locks(ledger, owner, product);
  if (!locks) return locks.status();
  if (locks->sell_locked_t < quantity_t) {
    return Status::error(ErrorCode::kInternal, "unit lock of " + product.code() + " underflows");
  }
  locks->sell_locked_t -= quantity_t;
  put_unit_locks(ledger, owner, product, *locks);
  return Status::ok();
}

namespace {
Status require_available(const FundAccount& fund, std::uint64_t amount_fen,
                         std::string_view for_what) {
  if (fund.available_fen < amount_fen) {
    return Status::error(ErrorCode::kConflict,
                         "not enough funds: " + yuan(fund.available_fen) + " available, " +
                             yuan(amount_fen) + " needed for " + std::string(for_what));
  }
  return Status::ok();
}
}  // namespace

Status add_offer(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                 const std::string& offer_key) {
  auto locks = load_unit_locks(ledger, owner, product);
  if (!locks) return locks.status();
  if (locks->open_offers >= kMaxOpenOffersPerProduct) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "at most " + grouped(kMaxOpenOffersPerProduct) +
                             " resting orders and open listings per participant in " +
                             product.code() + "; cancel some first");
  }
  ++locks->open_offers;
  put_unit_locks(ledger, owner, product, *locks);
  ledger.put(offer_key, std::uint8_t{1});
  return Status::ok();
}

Status remove_offer(Ledger& ledger, const PublicKey& owner, const ProductId& product,
                    const std::string& offer_key) {
  auto locks = load_unit_locks(ledger, owner, product);
  if (!locks) return locks.status();
  if (locks->open_offers == 0) return Status::error(ErrorCode::kInternal, "offer count underflows");
  --locks->open_offers;
  put_unit_locks(ledger, owner, product, *locks);
  ledger.erase(offer_key);
  return Status::ok();
}

Status lock_funds(Ledger& ledger, const PublicKey& owner, std::uint64_t amount_fen,
                  std::string_view for_what) {
  auto fund = load_fund(ledger, owner);
  if (!fund) return fund.status();
  CARBON_RETURN_IF_ERROR(require_available(*fund, amount_fen, for_what));
  fund->available_fen -= amount_fen;
  fund->locked_fen += amount_fen;  // the sum stays the account's total
  put_fund(ledger, owner, *fund);
  return Status::ok();
}

Status unlock_funds(Ledger& ledger, const PublicKey& owner, std::uint64_t amount_fen) {
  auto fund = load_fund(ledger, owner);
  if (!fund) return fund.status();
  if (fund->locked_fen < amount_fen) {
    return Status::error(ErrorCode::kInternal, "fund lock underflows");
  }
  fund->locked_fen -= amount_fen;
  fund->available_fen += amount_fen;
  put_fund(ledger, owner, *fund);
  return Status::ok();
}

namespace {

Status credit(Ledger& ledger, const PublicKey& owner, std::uint64_t amount_fen) {
  if (amount_fen == 0) return Status::ok();
  auto fund = load_fund(ledger, owner);
  if (!fund) return fund.status();
  auto sum = core::checked_add(fund->available_fen, amount_fen);
  if (!sum) return Status::error(ErrorCode::kOutOfBounds, "fund account would overflow");
  fund->available_fen = *sum;
  put_fund(ledger, owner, *fund);
  return Status::ok();
}

Status debit(Ledger& ledger, const PublicKey& owner, std::uint64_t amount_fen,
             std::string_view for_what) {
  auto fund = load_fund(ledger, owner);
  if (!fund) return fund.status();
  CARBON_RETURN_IF_ERROR(require_available(*fund, amount_fen, for_what));
  fund->available_fen -= amount_fen;
  put_fund(ledger, owner, *fund);
  return Status::ok();
}

// The day's statistics of a product, created with its band on first use.
Result<DayStats> load_day(const Ledger& ledger, const MarketParams& params,
                          const MarketState& state, const ProductMarket& market) {
  auto stored = ledger.get<DayStats>(keys::day_stats(market.product, state.day_index));
  if (!stored) return stored.status();
  if (*stored) return **stored;
  DayStats day;
  day.day_index = state.day_index;
  day.date = state.day_date;
  day.prev_close_fen = market.prev_close_fen;
  const auto band = queries::price_band(market.prev_close_fen, params.band_bp);
  day.band_low_fen = band.first;
  day.band_high_fen = band.second;
  return day;
}

}  // namespace

void raise_alert(Ledger& ledger, const Context& ctx, MarketState& state, AlertRecord alert) {
  alert.id = state.next_alert_id++;
  alert.height = ctx.height;
  alert.time_ms = ctx.time_ms;
  ledger.put(keys::alert(alert.id), alert);
}

Result<TradeRecord> settle(Ledger& ledger, const Context& ctx, const MarketParamsRecord& params,
                           MarketState& state, ProductMarket& market, const TradeSpec& spec) {
  CARBON_ASSERT(spec.buyer != spec.seller);
  TradeRecord trade;
  trade.product = spec.product;
  trade.kind = spec.kind;
  trade.buyer = spec.buyer;
  trade.seller = spec.seller;
  trade.price_fen = spec.price_fen;
  trade.quantity_t = spec.quantity_t;
  auto value = core::checked_mul(spec.quantity_t, spec.price_fen);
  if (!value) return Status::error(ErrorCode::kOutOfBounds, "trade value is too large");
  trade.value_fen = *value;
  trade.buyer_fee_fen = fee_fen(trade.value_fen, spec.buyer_fee_bp);
  trade.seller_fee_fen = fee_fen(trade.value_fen, spec.seller_fee_bp);
  trade.buy_ref = spec.buy_ref;
  trade.sell_ref = spec.sell_ref;
  trade.aggressor = spec.aggressor;
  trade.intervention = spec.intervention;
  trade.height = ctx.height;
  trade.time_ms = ctx.time_ms;
  trade.day_index = state.day_index;

  // Delivery: the seller's lock is released just before its units move.
  if (spec.units_locked) {
    CARBON_RETURN_IF_ERROR(unlock_units(ledger, spec.seller, spec.product, spec.quantity_t));
  }
  const bool intervention_allowances = spec.intervention_sale && spec.product.kind == ProductKind::kAllowance;
  std::uint64_t buyer_intervention_before_t = 0;
  if (intervention_allowances) {
    auto before = ledger.history(spec.buyer, spec.product);
    if (!before) return before.status();
    buyer_intervention_before_t = before->intervention_t;
  }
  CARBON_RETURN_IF_ERROR(
      ledger.transfer_chunked(ctx, spec.seller, spec.buyer, spec.product, spec.quantity_t));
  // Payment: value + buyer fee out of the buyer's available funds; value - seller fee to the
  // seller; both fees to the exchange. The legs net to zero.
  auto paid = core::checked_add(trade.value_fen, trade.buyer_fee_fen);
  if (!paid) return Status::error(ErrorCode::kOutOfBounds, "trade value is too large");
  CARBON_RETURN_IF_ERROR(debit(ledger, spec.buyer, *paid, "the trade and its fee"));
  CARBON_RETURN_IF_ERROR(credit(ledger, spec.seller, trade.value_fen - trade.seller_fee_fen));
  CARBON_RETURN_IF_ERROR(
      credit(ledger, params.fee_account, trade.buyer_fee_fen + trade.seller_fee_fen));

  if (intervention_allowances) {
    // RULES.md: allowances sold in an intervention cannot be banked; year close cancels them.
    // Those the reserve held as intervention allowances already (sold back to it) reached the
    // buyer counted, through the transfer: only the rest is added, so none counts twice.
    auto after = ledger.history(spec.buyer, spec.product);
    if (!after) return after.status();
    const std::uint64_t carried_t = after->intervention_t - buyer_intervention_before_t;
    CARBON_ASSERT(carried_t <= spec.quantity_t);  // take() hands on at most what it took
    CARBON_RETURN_IF_ERROR(ledger.add_intervention(spec.buyer, spec.product, spec.quantity_t - carried_t, 0));
  }
  auto related = ledger.reader().get(keys::related(spec.buyer, spec.seller));
  trade.related = related ? 1 : 0;

  trade.id = state.next_trade_id++;
  ledger.put(keys::trade(spec.product, trade.id), trade);
  market.last_price_fen = trade.price_fen;
  market.last_trade_id = trade.id;
  market.last_trade_ms = trade.time_ms;

  if (state.day_open != 0 && market.prev_close_fen != 0) {  // listed products only
    auto day = load_day(ledger, params.params, state, market);
    if (!day) return day.status();
    if (spec.kind == TradeKind::kContinuous) {
      if (day->trades == 0) {
        day->open_fen = day->high_fen = day->low_fen = trade.price_fen;
      }
      day->high_fen = std::max(day->high_fen, trade.price_fen);
      day->low_fen = std::min(day->low_fen, trade.price_fen);
      day->volume_t += trade.quantity_t;  // bounded by issued totals
      auto day_value = core::checked_add(day->value_fen, trade.value_fen);
      if (!day_value) return Status::error(ErrorCode::kOutOfBounds, "day's value overflows");
      day->value_fen = *day_value;
      ++day->trades;
      if (trade.price_fen == day->band_low_fen || trade.price_fen == day->band_high_fen) {
        day->band_hit = 1;
      }
    } else {
      day->other_volume_t += trade.quantity_t;
      auto other = core::checked_add(day->other_value_fen, trade.value_fen);
      if (!other) return Status::error(ErrorCode::kOutOfBounds, "day's value overflows");
      day->other_value_fen = *other;
    }
    ledger.put(keys::day_stats(spec.product, state.day_index), *day);
  }

  if (trade.related) {
    AlertRecord alert;
    alert.kind = AlertKind::kRelatedTrade;
    alert.product = spec.product;
    alert.trade_id = trade.id;
    alert.buyer = spec.buyer;
    alert.seller = spec.seller;
    raise_alert(ledger, ctx, state, alert);
  }
  return trade;
}

std::uint64_t DayStats::vwap_fen() const {
  if (volume_t == 0) return 0;
  const unsigned __int128 rounded =
      (static_cast<unsigned __int128>(value_fen) + volume_t / 2) / volume_t;
  return static_cast<std::uint64_t>(rounded);
}

namespace queries {
std::pair<std::uint64_t, std::uint64_t> price_band(std::uint64_t prev_close_fen,
                                                   std::uint32_t band_bp) {
  const unsigned __int128 p = prev_close_fen;
  const std::uint32_t bp = std::min(band_bp, kBasisPoints);
  const unsigned __int128 low = (p * (kBasisPoints - bp) + kBasisPoints - 1) / kBasisPoints;
  const unsigned __int128 high = p * (kBasisPoints + bp) / kBasisPoints;
  return {static_cast<std::uint64_t>(low), static_cast<std::uint64_t>(high)};
}
}  // namespace queries

Status validate_market_params(const MarketParams& params) {
  const auto bad = [](const std::string& why) {
    return Status::error(ErrorCode::kInvalidArgument, "invalid market parameters: " + why);
  };
  if (params.band_bp == 0 || params.band_bp >= kBasisPoints) return bad("band must be 0.01%..99.99%");
  if (params.block_band_bp == 0 || params.block_band_bp >= kBasisPoints)
    return bad("block-trade band must be 0.01%..99.99%");
  if (params.block_min_t == 0 || params.block_min_t > kMaxQuantityPerTx)
    return bad("block-trade minimum must be 1 t .. " + tonnes(kMaxQuantityPerTx));
  for (std::uint32_t fee : {params.fee_bp, params.fixed_seller_fee_bp, params.fixed_buyer_fee_bp,
                            params.auction_fee_bp}) {
    if (fee > 2'000) return bad("a fee above 20% of the value");
  }
  if (params.band_window_days == 0 || params.band_window_days > 64)
    return bad("band window must be 1..64 trading days");
  if (params.band_hits_trigger == 0 || params.band_hits_trigger > params.band_window_days)
    return bad("band-hit trigger must be 1..window");
  if (params.sessions.empty()) return bad("at least one trading session");
  std::uint32_t previous_end = 0;
  for (const TradingSession& session : params.sessions) {
    if (session.start_min >= session.end_min || session.end_min > kMinutesPerDay)
      return bad("a session must start before it ends, within the day");
    if (session.start_min < previous_end) return bad("sessions must be in order, not overlapping");
    previous_end = session.end_min;
  }
  return Status::ok();
}

// ---- funds ----------------------------------------------------------------------------------

namespace {

inline constexpr std::uint64_t kMaxMovementFen = 1'000'000'000'000'000ULL;  // 10^13 yuan

Status check_bank(const Context& ctx, std::string_view doing) {
  if (ctx.sender.role != Role::kSettlementBank) {
    return Status::error(ErrorCode::kUnauthorized,
                         "only the settlement bank may " + std::string(doing));
  }
  return Status::ok();
}

Status check_movement(const Ledger& ledger, const PublicKey& account, std::uint64_t amount_fen,
                      const Hash256& bank_ref) {
  if (amount_fen == 0 || amount_fen > kMaxMovementFen) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "amount must be 0.01 .. " + yuan(kMaxMovementFen));
  }
  auto holder = require_account(ledger, account, "account");
  if (!holder) return holder.status();
  auto used = ledger.get<BankMovement>(keys::bank_movement(bank_ref));
  if (!used) return used.status();
  if (*used) {
    return Status::error(ErrorCode::kConflict, "bank reference " + bank_ref.to_hex().substr(0, 16) +
                                                   " was already used at height " +
                                                   std::to_string((*used)->height));
  }
  return Status::ok();
}

Result<MoneySupply> load_money(const Ledger& ledger) {
  auto stored = ledger.get<MoneySupply>(std::string(keys::kMoneySupply));
  if (!stored) return stored.status();
  return *stored ? **stored : MoneySupply{};
}

void record_movement(Ledger& ledger, const Context& ctx, const PublicKey& account,
                     BankMovementKind kind, std::uint64_t amount_fen, const Hash256& bank_ref) {
  BankMovement movement;
  movement.account = account;
  movement.kind = kind;
  movement.amount_fen = amount_fen;
  movement.bank = ctx.sender.key;
  movement.height = ctx.height;
  movement.time_ms = ctx.time_ms;
  ledger.put(keys::bank_movement(bank_ref), movement);
}

}  // namespace

Status apply_call(Ledger& ledger, const Context& ctx, const Deposit& call) {
  CARBON_RETURN_IF_ERROR(check_bank(ctx, "credit deposits"));
  CARBON_RETURN_IF_ERROR(check_movement(ledger, call.account, call.amount_fen, call.bank_ref));
  auto money = load_money(ledger);
  if (!money) return money.status();
  auto deposited = core::checked_add(money->deposited_fen, call.amount_fen);
  if (!deposited) return Status::error(ErrorCode::kOutOfBounds, "total deposits would overflow");
  money->deposited_fen = *deposited;
  CARBON_RETURN_IF_ERROR(credit(ledger, call.account, call.amount_fen));
  ledger.put(std::string(keys::kMoneySupply), *money);
  record_movement(ledger, ctx, call.account, BankMovementKind::kDeposit, call.amount_fen,
                  call.bank_ref);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const Withdraw& call) {
  CARBON_RETURN_IF_ERROR(check_bank(ctx, "debit withdrawals"));
  CARBON_RETURN_IF_ERROR(check_movement(ledger, call.account, call.amount_fen, call.bank_ref));
  auto money = load_money(ledger);
  if (!money) return money.status();
  CARBON_RETURN_IF_ERROR(debit(ledger, call.account, call.amount_fen, "the withdrawal"));
  money->withdrawn_fen += call.amount_fen;  // at most what was deposited
  ledger.put(std::string(keys::kMoneySupply), *money);
  record_movement(ledger, ctx, call.account, BankMovementKind::kWithdrawal, call.amount_fen,
                  call.bank_ref);
  return Status::ok();
}

// ---- the exchange's controls ----------------------------------------------------------------

Status check_exchange(const Context& ctx, std::string_view doing) {
  if (ctx.sender.role != Role::kExchange) {
    return Status::error(ErrorCode::kUnauthorized, "only the exchange may " + std::string(doing));
  }
  return Status::ok();
}

Status check_price(std::uint64_t price_fen) {
  if (price_fen == 0 || price_fen > kMaxPriceFen) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "price must be 0.01 .. " + yuan(kMaxPriceFen) + " per tonne");
  }
  return Status::ok();
}

namespace {

Status check_product_exists(const Ledger& ledger, const ProductId& product) {
  if (product.vintage_year < kMinVintageYear || product.vintage_year > kMaxVintageYear) {
    return Status::error(ErrorCode::kInvalidArgument, "no such product " + product.code());
  }
  if (product.kind == ProductKind::kAllowance) {
    if (product.project_id != 0)
      return Status::error(ErrorCode::kInvalidArgument, "an allowance has no project");
    return Status::ok();
  }
  auto project = ledger.get<Project>(keys::project(product.project_id));
  if (!project) return project.status();
  if (!*project) {
    return Status::error(ErrorCode::kNotFound,
                         "no CCER project " + std::to_string(product.project_id));
  }
  return Status::ok();
}

// Releases what an open order still holds (funds of a buy, units of a sell) and takes it off
// the book's state records; the in-memory book is the caller's business.
Status close_order(Ledger& ledger, OrderRecord& order, OrderStatus status, OrderEnd end);

Status update_depth(Ledger& ledger, const ProductId& product, Side side, std::uint64_t price_fen,
                    std::int64_t orders_delta, std::uint64_t add_t, std::uint64_t remove_t) {
  const std::string key = keys::depth_level(product, side, price_fen);
  auto stored = ledger.get<DepthLevelRecord>(key);
  if (!stored) return stored.status();
  DepthLevelRecord level = *stored ? **stored : DepthLevelRecord{price_fen, 0, 0};
  if (level.quantity_t + add_t < remove_t ||
      (orders_delta < 0 && level.orders < static_cast<std::uint32_t>(-orders_delta))) {
    return Status::error(ErrorCode::kInternal, "depth level of " + product.code() + " underflows");
  }
  level.quantity_t = level.quantity_t + add_t - remove_t;
  level.orders = static_cast<std::uint32_t>(static_cast<std::int64_t>(level.orders) + orders_delta);
  if (level.orders == 0) {
    if (level.quantity_t != 0)
      return Status::error(ErrorCode::kInternal, "empty depth level holds quantity");
    ledger.erase(key);
  } else {
    ledger.put(key, level);
  }
  return Status::ok();
}

// The authority's instruction (the reserve's mandate) was counted for the whole of an
// intervention order when it was placed; what the order did not trade is given back, so that the
// reserve may offer it again.
Status give_back_to_mandate(Ledger& ledger, const OrderRecord& order) {
  const std::string key = keys::mandate(order.owner, order.product);
  auto stored = ledger.get<Mandate>(key);
  if (!stored) return stored.status();
  Mandate mandate = *stored ? **stored : Mandate{};
  std::uint64_t& remaining = order.side == Side::kSell ? mandate.sell_remaining_t : mandate.buy_remaining_t;
  auto sum = core::checked_add(remaining, order.remaining_t);
  if (!sum) return Status::error(ErrorCode::kInternal, "the reserve's mandate for " + order.product.code() + " overflows");
  remaining = *sum;
  ledger.put(key, mandate);
  return Status::ok();
}

Status close_order(Ledger& ledger, OrderRecord& order, OrderStatus status, OrderEnd end) {
  CARBON_ASSERT(order.status == OrderStatus::kOpen);
  if (order.intervention != 0 && order.remaining_t > 0) {
    CARBON_RETURN_IF_ERROR(give_back_to_mandate(ledger, order));
  }
  if (order.side == Side::kBuy) {
    CARBON_RETURN_IF_ERROR(unlock_funds(ledger, order.owner, order.locked_fen));
    order.locked_fen = 0;
    auto locks = load_unit_locks(ledger, order.owner, order.product);
    if (!locks) return locks.status();
    if (locks->buy_open_t < order.remaining_t)
      return Status::error(ErrorCode::kInternal, "open buy quantity underflows");
    locks->buy_open_t -= order.remaining_t;
    put_unit_locks(ledger, order.owner, order.product, *locks);
  } else {
    CARBON_RETURN_IF_ERROR(unlock_units(ledger, order.owner, order.product, order.remaining_t));
  }
  if (order.remaining_t > 0) {
    CARBON_RETURN_IF_ERROR(
        update_depth(ledger, order.product, order.side, order.price_fen, -1, 0, order.remaining_t));
  }
  ledger.erase(keys::open_order(order.product, order.id));
  CARBON_RETURN_IF_ERROR(
      remove_offer(ledger, order.owner, order.product, keys::offer_order(order.owner, order.product, order.id)));
  order.status = status;
  order.end = end;
  ledger.put(keys::order(order.id), order);
  return Status::ok();
}

// After a close: good-till-cancelled orders that would cross the next day's band (bids above
// its top, asks below its bottom) are cancelled, so that no trade happens outside the band
// (RULES.md). Bids below or asks above the band stay: they cannot trade at an in-band price.
// The depth records tell cheaply whether there is any; only then are the open orders read
// (at most kMaxRestingOrders).
Status cancel_outside_band(Ledger& ledger, MarketBooks& books, const MarketParams& params,
                           const ProductMarket& market) {
  const auto [low, high] = queries::price_band(market.prev_close_fen, params.band_bp);
  const auto first_level = [&](Side side) -> Result<std::optional<std::uint64_t>> {
    const auto entries = ledger.scan(keys::depth_prefix(market.product, side), "", 1);
    if (entries.empty()) return std::optional<std::uint64_t>{};
    auto level = core::codec::decode<DepthLevelRecord>(entries.front().second);
    if (!level) return Status::error(ErrorCode::kInternal, "corrupt record at " + entries.front().first);
    return std::optional<std::uint64_t>(level->price_fen);
  };
  auto best_bid = first_level(Side::kBuy);
  if (!best_bid) return best_bid.status();
  auto best_ask = first_level(Side::kSell);
  if (!best_ask) return best_ask.status();
  if (!(*best_bid && **best_bid > high) && !(*best_ask && **best_ask < low)) return Status::ok();

  std::vector<std::uint64_t> outside;
  const std::string prefix = keys::open_orders_prefix(market.product);
  std::string start;
  for (std::size_t pages = 0; pages <= kMaxRestingOrders / kScanPageSize + 1; ++pages) {
    const auto entries = ledger.scan(prefix, start, kScanPageSize);
    for (const StateEntry& entry : entries) {
      auto order = ledger.get<OrderRecord>("ord/" + entry.first.substr(prefix.size()));
      if (!order) return order.status();
      if (!*order) return Status::error(ErrorCode::kInternal, "open-order index without an order");
      const OrderRecord& o = **order;
      if ((o.side == Side::kBuy && o.price_fen > high) || (o.side == Side::kSell && o.price_fen < low)) {
        outside.push_back(o.id);
      }
    }
    if (entries.size() < kScanPageSize) break;
    start = key_successor(entries.back().first);
  }
  auto book = books.book(ledger, market.product);
  if (!book) return book.status();
  for (std::uint64_t id : outside) {
    auto order = ledger.get<OrderRecord>(keys::order(id));
    if (!order) return order.status();
    if (!*order) return Status::error(ErrorCode::kInternal, "open order vanished");
    auto removed = (*book)->cancel(id, (*order)->owner);
    if (!removed) return removed.status();
    CARBON_RETURN_IF_ERROR(close_order(ledger, **order, OrderStatus::kCancelled, OrderEnd::kOutsideBand));
  }
  return Status::ok();
}

// The books of this call: the executor's, or a private set built from the state.
struct BooksAccess {
  explicit BooksAccess(const Context& ctx) : books(ctx.books ? ctx.books : &own) {}
  MarketBooks own;
  MarketBooks* books;
};

}  // namespace

Status apply_call(Ledger& ledger, const Context& ctx, const SetMarketParams& call) {
  CARBON_RETURN_IF_ERROR(check_exchange(ctx, "set the market parameters"));
  CARBON_RETURN_IF_ERROR(validate_market_params(call.params));
  auto record = load_market_params(ledger);
  if (!record) return record.status();
  if (record->version != 0 && call.params.band_bp != record->params.band_bp) {
    auto state = load_market_state(ledger);
    if (!state) return state.status();
    if (state->day_open != 0) {
      // Orders resting inside the old band would trade outside the new one.
      return Status::error(ErrorCode::kConflict,
                           "the daily band can change only between trading days (day " +
                               std::to_string(state->day_index) + " is open)");
    }
  }
  record->params = call.params;
  record->fee_account = ctx.sender.key;
  ++record->version;
  record->effective_height = ctx.height;
  record->effective_ms = ctx.time_ms;
  ledger.put(std::string(keys::kMarketParams), *record);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const ListProduct& call) {
  CARBON_RETURN_IF_ERROR(check_exchange(ctx, "list products"));
  CARBON_RETURN_IF_ERROR(check_product_exists(ledger, call.product));
  CARBON_RETURN_IF_ERROR(check_price(call.reference_price_fen));
  auto existing = ledger.get<ProductMarket>(keys::product_market(call.product));
  if (!existing) return existing.status();
  if (*existing) {
    return Status::error(ErrorCode::kConflict, call.product.code() + " is already listed");
  }
  const auto listed = ledger.scan(keys::kProductMarketPrefix, "", kMaxListedProducts);
  if (listed.size() >= kMaxListedProducts) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "at most " + std::to_string(kMaxListedProducts) + " products may be listed");
  }
  ProductMarket market;
  market.product = call.product;
  market.reference_price_fen = call.reference_price_fen;
  market.prev_close_fen = call.reference_price_fen;
  put_product_market(ledger, market);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const OpenDay& /*call*/) {
  CARBON_RETURN_IF_ERROR(check_exchange(ctx, "open a trading day"));
  auto params = load_market_params(ledger);
  if (!params) return params.status();
  if (params->version == 0) {
    return Status::error(ErrorCode::kConflict,
                         "set the market parameters before the first trading day");
  }
  auto state = load_market_state(ledger);
  if (!state) return state.status();
  if (state->day_open != 0) {
    return Status::error(ErrorCode::kConflict, "trading day " + std::to_string(state->day_index) +
                                                   " (" + std::to_string(state->day_date) +
                                                   ") is still open");
  }
  const std::uint32_t date = beijing_date(ctx.time_ms);
  if (date <= state->day_date) {
    return Status::error(ErrorCode::kConflict,
                         "the trading day of " + std::to_string(date) + " was already held");
  }
  // The band may have been changed since the close: good-till-cancelled orders that would
  // cross today's band go now, before anything can trade against them.
  BooksAccess access(ctx);
  const auto listed = ledger.scan(keys::kProductMarketPrefix, "", kMaxListedProducts);
  for (const StateEntry& entry : listed) {
    auto market = core::codec::decode<ProductMarket>(entry.second);
    if (!market) return Status::error(ErrorCode::kInternal, "corrupt record at " + entry.first);
    CARBON_RETURN_IF_ERROR(cancel_outside_band(ledger, *access.books, params->params, *market));
  }
  state->day_open = 1;
  ++state->day_index;
  state->day_date = date;
  state->day_opened_ms = ctx.time_ms;
  put_market_state(ledger, *state);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const CloseDay& /*call*/) {
  CARBON_RETURN_IF_ERROR(check_exchange(ctx, "close the trading day"));
  auto params = load_market_params(ledger);
  if (!params) return params.status();
  auto state = load_market_state(ledger);
  if (!state) return state.status();
  if (state->day_open == 0) {
    return Status::error(ErrorCode::kConflict, "no trading day is open");
  }
  BooksAccess access(ctx);
  const auto listed = ledger.scan(keys::kProductMarketPrefix, "", kMaxListedProducts);
  for (const StateEntry& entry : listed) {
    auto decoded = core::codec::decode<ProductMarket>(entry.second);
    if (!decoded) return Status::error(ErrorCode::kInternal, "corrupt record at " + entry.first);
    ProductMarket market = std::move(*decoded);
    // Day orders expire: the book gives them in id order; their records release the locks.
    auto book = access.books->book(ledger, market.product);
    if (!book) return book.status();
    for (const RestingOrder& resting : (*book)->expire_day_orders()) {
      auto order = ledger.get<OrderRecord>(keys::order(resting.id));
      if (!order) return order.status();
      if (!*order) return Status::error(ErrorCode::kInternal, "resting order without a record");
      CARBON_RETURN_IF_ERROR(close_order(ledger, **order, OrderStatus::kExpired, OrderEnd::kDayClose));
    }
    // Closing price, band hits, the stabilisation window.
    auto day = load_day(ledger, params->params, *state, market);
    if (!day) return day.status();
    day->close_fen = day->volume_t > 0 ? day->vwap_fen() : market.prev_close_fen;
    day->closed = 1;
    ledger.put(keys::day_stats(market.product, state->day_index), *day);
    market.prev_close_fen = day->close_fen;
    market.band_hit_days = (market.band_hit_days << 1) | day->band_hit;
    ++market.days_closed;
    const std::uint32_t window = params->params.band_window_days;
    const std::uint64_t mask = window >= 64 ? ~0ULL : ((1ULL << window) - 1);
    const auto hits = static_cast<std::uint32_t>(std::popcount(market.band_hit_days & mask));
    const bool raise = hits >= params->params.band_hits_trigger;
    if (raise && market.trigger_raised == 0) {
      StabilisationTrigger trigger;
      trigger.product = market.product;
      trigger.raised = 1;
      trigger.band_hits = hits;
      trigger.window_days = window;
      trigger.raised_day = state->day_index;
      trigger.raised_ms = ctx.time_ms;
      ledger.put(keys::stabilisation(market.product), trigger);
      AlertRecord alert;
      alert.kind = AlertKind::kStabilisationTrigger;
      alert.product = market.product;
      alert.band_hits = hits;
      raise_alert(ledger, ctx, *state, alert);
    } else if (!raise && market.trigger_raised != 0) {
      auto trigger = ledger.get<StabilisationTrigger>(keys::stabilisation(market.product));
      if (!trigger) return trigger.status();
      if (*trigger) {
        (*trigger)->raised = 0;
        (*trigger)->band_hits = hits;
        ledger.put(keys::stabilisation(market.product), **trigger);
      }
    }
    market.trigger_raised = raise ? 1 : 0;
    put_product_market(ledger, market);
    CARBON_RETURN_IF_ERROR(cancel_outside_band(ledger, *access.books, params->params, market));
  }
  state->day_open = 0;
  put_market_state(ledger, *state);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const HaltProduct& call) {
  CARBON_RETURN_IF_ERROR(check_exchange(ctx, "halt or resume trading"));
  auto market = load_listed(ledger, call.product);
  if (!market) return market.status();
  if (market->halted == call.halted) {
    return Status::error(ErrorCode::kConflict, call.product.code() + " is already " +
                                                   (call.halted ? "halted" : "trading"));
  }
  market->halted = call.halted;
  put_product_market(ledger, *market);
  return Status::ok();
}

// ---- continuous trading ---------------------------------------------------------------------

Result<TradingSnapshot> open_for_trading(const Ledger& ledger, const Context& ctx,
                                         const ProductId& product) {
  TradingSnapshot snapshot;
  auto params = load_market_params(ledger);
  if (!params) return params.status();
  snapshot.params = std::move(*params);
  auto state = load_market_state(ledger);
  if (!state) return state.status();
  snapshot.state = *state;
  auto market = load_listed(ledger, product);
  if (!market) return market.status();
  snapshot.market = std::move(*market);
  CARBON_RETURN_IF_ERROR(check_trading_open(snapshot.params, snapshot.state, ctx.time_ms));
  CARBON_RETURN_IF_ERROR(check_not_halted(snapshot.market));
  return snapshot;
}

Status apply_call(Ledger& ledger, const Context& ctx, const PlaceOrder& call) {
  const Account& trader = ctx.sender;
  CARBON_RETURN_IF_ERROR(check_trader(trader, call.product, call.intervention != 0));
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  CARBON_RETURN_IF_ERROR(check_price(call.price_fen));
  auto snapshot = open_for_trading(ledger, ctx, call.product);
  if (!snapshot) return snapshot.status();
  MarketParamsRecord* params = &snapshot->params;
  MarketState* state = &snapshot->state;
  ProductMarket* market = &snapshot->market;
  const auto [band_low, band_high] = queries::price_band(market->prev_close_fen, params->params.band_bp);
  if (call.price_fen < band_low || call.price_fen > band_high) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "price " + yuan(call.price_fen) + " is outside today's band " +
                             yuan(band_low) + " - " + yuan(band_high) + " for " +
                             call.product.code() + " (previous close " +
                             yuan(market->prev_close_fen) + ")");
  }
  if (call.intervention != 0) {
    auto mandate = ledger.get<Mandate>(keys::mandate(trader.key, call.product));
    if (!mandate) return mandate.status();
    Mandate left = *mandate ? **mandate : Mandate{};
    std::uint64_t& remaining = call.side == Side::kSell ? left.sell_remaining_t : left.buy_remaining_t;
    if (remaining < call.quantity_t) {
      return Status::error(ErrorCode::kUnauthorized,
                           "the authority's instruction allows " + tonnes(remaining) +
                               " more to " + std::string(side_name(call.side)) + " of " +
                               call.product.code() + "; order is for " + tonnes(call.quantity_t));
    }
    remaining -= call.quantity_t;
    ledger.put(keys::mandate(trader.key, call.product), left);
  }

  OrderRecord order;
  order.id = state->next_order_id++;
  order.owner = trader.key;
  order.product = call.product;
  order.side = call.side;
  order.price_fen = call.price_fen;
  order.quantity_t = call.quantity_t;
  order.remaining_t = call.quantity_t;
  order.tif = call.tif;
  order.intervention = call.intervention;
  order.placed_height = ctx.height;
  order.placed_ms = ctx.time_ms;
  order.day_index = state->day_index;
  order.fee_bp = params->params.fee_bp;

  if (call.side == Side::kBuy) {
    CARBON_RETURN_IF_ERROR(
        check_position_limit(ledger, params->params, trader.key, call.product, call.quantity_t));
    auto lock = buy_lock_fen(call.quantity_t, call.price_fen, order.fee_bp);
    if (!lock) return lock.status();
    CARBON_RETURN_IF_ERROR(lock_funds(ledger, trader.key, *lock, "the buy order with its fee"));
    order.locked_fen = *lock;
    auto locks = load_unit_locks(ledger, trader.key, call.product);
    if (!locks) return locks.status();
    locks->buy_open_t += call.quantity_t;
    put_unit_locks(ledger, trader.key, call.product, *locks);
  } else {
    CARBON_RETURN_IF_ERROR(lock_units(ledger, trader.key, call.product, call.quantity_t));
  }

  // The one check below that can fail on the trader's own count, made before the book is
  // touched: a transaction that fails after touching a book makes every validator drop and
  // rebuild that book (up to kMaxRestingOrders records) on its next use, and a participant at
  // the limit could otherwise cause one rebuild per order it sends.
  {
    auto locks = load_unit_locks(ledger, trader.key, call.product);
    if (!locks) return locks.status();
    if (locks->open_offers >= kMaxOpenOffersPerProduct) {
      return Status::error(ErrorCode::kOutOfBounds,
                           "at most " + grouped(kMaxOpenOffersPerProduct) +
                               " resting orders and open listings per participant in " +
                               call.product.code() + "; cancel some first");
    }
  }
  BooksAccess access(ctx);
  auto book = access.books->book(ledger, call.product);
  if (!book) return book.status();
  Order incoming;
  incoming.id = order.id;
  incoming.owner = trader.key;
  incoming.side = call.side;
  incoming.price_fen = call.price_fen;
  incoming.quantity_t = call.quantity_t;
  incoming.tif = call.tif;
  auto added = (*book)->add(incoming);
  if (!added) return added.status();

  // Orders of the same owner cancelled by self-trade prevention release what they held.
  for (const RestingOrder& cancelled : added->self_trade_cancelled) {
    auto resting = ledger.get<OrderRecord>(keys::order(cancelled.id));
    if (!resting) return resting.status();
    if (!*resting) return Status::error(ErrorCode::kInternal, "resting order without a record");
    CARBON_RETURN_IF_ERROR(close_order(ledger, **resting, OrderStatus::kCancelled, OrderEnd::kSelfTrade));
  }

  // Each fill settles now, at the maker's price.
  for (const Fill& fill : added->fills) {
    auto maker_stored = ledger.get<OrderRecord>(keys::order(fill.maker_id));
    if (!maker_stored) return maker_stored.status();
    if (!*maker_stored) return Status::error(ErrorCode::kInternal, "maker order without a record");
    OrderRecord& maker = **maker_stored;
    CARBON_ASSERT(maker.remaining_t >= fill.quantity_t);
    OrderRecord& buy = call.side == Side::kBuy ? order : maker;
    const OrderRecord& sell = call.side == Side::kBuy ? maker : order;

    // The buy order's lock shrinks to what its remainder needs; the release pays this fill
    // (at most the fill at the buy's limit with its fee) and any price improvement returns.
    auto new_lock = buy_lock_fen(buy.remaining_t - fill.quantity_t, buy.price_fen, buy.fee_bp);
    if (!new_lock) return new_lock.status();
    CARBON_ASSERT(*new_lock <= buy.locked_fen);
    CARBON_RETURN_IF_ERROR(unlock_funds(ledger, buy.owner, buy.locked_fen - *new_lock));
    buy.locked_fen = *new_lock;
    auto buyer_locks = load_unit_locks(ledger, buy.owner, call.product);
    if (!buyer_locks) return buyer_locks.status();
    buyer_locks->buy_open_t -= fill.quantity_t;
    put_unit_locks(ledger, buy.owner, call.product, *buyer_locks);

    TradeSpec spec;
    spec.kind = TradeKind::kContinuous;
    spec.product = call.product;
    spec.buyer = buy.owner;
    spec.seller = sell.owner;
    spec.price_fen = fill.price_fen;
    spec.quantity_t = fill.quantity_t;
    spec.buyer_fee_bp = buy.fee_bp;
    spec.seller_fee_bp = sell.fee_bp;
    spec.buy_ref = buy.id;
    spec.sell_ref = sell.id;
    spec.aggressor = call.side;
    spec.intervention = static_cast<std::uint8_t>(sell.intervention | buy.intervention);
    spec.intervention_sale = sell.intervention != 0;
    spec.units_locked = true;
    auto trade = settle(ledger, ctx, *params, *state, *market, spec);
    if (!trade) return trade.status();

    for (OrderRecord* side_order : {&order, &maker}) {
      side_order->remaining_t -= fill.quantity_t;
      auto filled_value = core::checked_add(side_order->filled_value_fen, trade->value_fen);
      if (!filled_value) return Status::error(ErrorCode::kOutOfBounds, "order value overflows");
      side_order->filled_value_fen = *filled_value;
    }
    CARBON_RETURN_IF_ERROR(
        update_depth(ledger, call.product, maker.side, maker.price_fen,
                     maker.remaining_t == 0 ? -1 : 0, 0, fill.quantity_t));
    if (maker.remaining_t == 0) {
      CARBON_ASSERT(maker.side == Side::kSell || maker.locked_fen == 0);
      maker.status = OrderStatus::kFilled;
      ledger.erase(keys::open_order(call.product, maker.id));
      CARBON_RETURN_IF_ERROR(remove_offer(ledger, maker.owner, call.product,
                                          keys::offer_order(maker.owner, call.product, maker.id)));
    }
    ledger.put(keys::order(maker.id), maker);
  }

  ledger.put(keys::owner_order(trader.key, order.id), std::uint8_t{1});
  switch (added->remainder) {
    case RemainderOutcome::kNone:
      CARBON_ASSERT(order.remaining_t == 0 && order.locked_fen == 0);
      order.status = OrderStatus::kFilled;
      ledger.put(keys::order(order.id), order);
      break;
    case RemainderOutcome::kRests:
      CARBON_RETURN_IF_ERROR(
          update_depth(ledger, call.product, order.side, order.price_fen, 1, order.remaining_t, 0));
      CARBON_RETURN_IF_ERROR(add_offer(ledger, trader.key, call.product,
                                       keys::offer_order(trader.key, call.product, order.id)));
      ledger.put(keys::open_order(call.product, order.id), std::uint8_t{1});
      ledger.put(keys::order(order.id), order);
      break;
    case RemainderOutcome::kCancelledStepLimit:
    case RemainderOutcome::kCancelledBookFull: {
      // close_order takes the remainder off the depth and the offer index; it never rested.
      CARBON_RETURN_IF_ERROR(
          update_depth(ledger, call.product, order.side, order.price_fen, 1, order.remaining_t, 0));
      CARBON_RETURN_IF_ERROR(add_offer(ledger, trader.key, call.product,
                                       keys::offer_order(trader.key, call.product, order.id)));
      CARBON_RETURN_IF_ERROR(close_order(
          ledger, order, OrderStatus::kCancelled,
          added->remainder == RemainderOutcome::kCancelledStepLimit ? OrderEnd::kStepLimit
                                                                    : OrderEnd::kBookFull));
      break;
    }
  }
  put_market_state(ledger, *state);
  put_product_market(ledger, *market);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const CancelOrder& call) {
  auto stored = ledger.get<OrderRecord>(keys::order(call.order_id));
  if (!stored) return stored.status();
  if (!*stored) {
    return Status::error(ErrorCode::kNotFound, "no order " + std::to_string(call.order_id));
  }
  OrderRecord& order = **stored;
  const bool by_exchange = ctx.sender.role == Role::kExchange;
  if (order.owner != ctx.sender.key && !by_exchange) {
    return Status::error(ErrorCode::kUnauthorized,
                         "order " + std::to_string(order.id) + " belongs to someone else");
  }
  if (order.status != OrderStatus::kOpen) {
    return Status::error(ErrorCode::kConflict, "order " + std::to_string(order.id) + " is " +
                                                   std::string(order_status_name(order.status)));
  }
  BooksAccess access(ctx);
  auto book = access.books->book(ledger, order.product);
  if (!book) return book.status();
  auto removed = (*book)->cancel(order.id, order.owner);
  if (!removed) return removed.status();
  CARBON_ASSERT(removed->quantity_t == order.remaining_t);
  return close_order(ledger, order, OrderStatus::kCancelled,
                     order.owner == ctx.sender.key ? OrderEnd::kByOwner : OrderEnd::kByExchange);
}

namespace {

// The entries of an offer index prefix (bounded: kMaxOpenOffersPerProduct per product, and
// at most kMaxListedProducts products hold resting orders).
std::vector<std::string> offer_keys(const Ledger& ledger, const std::string& prefix) {
  std::vector<std::string> out;
  std::string start;
  constexpr std::size_t kMaxPages =
      kMaxOpenOffersPerProduct * (kMaxListedProducts + 1) / kScanPageSize + 1;
  for (std::size_t page = 0; page < kMaxPages; ++page) {
    const auto entries = ledger.scan(prefix, start, kScanPageSize);
    for (const StateEntry& entry : entries) out.push_back(entry.first);
    if (entries.size() < kScanPageSize) break;
    start = key_successor(entries.back().first);
  }
  return out;
}

// Cancels one indexed offer ("…/o<id>" or "…/l<id>") if it passes `keep_if`.
Status cancel_indexed_offer(Ledger& ledger, BooksAccess& access, const std::string& key,
                            bool sells_only, OrderEnd end) {
  const std::size_t slash = key.rfind('/');
  CARBON_ASSERT(slash != std::string::npos && slash + 2 <= key.size());
  const std::string id_hex = key.substr(slash + 2);
  if (key[slash + 1] == 'o') {
    auto stored = ledger.get<OrderRecord>("ord/" + id_hex);
    if (!stored) return stored.status();
    if (!*stored || (*stored)->status != OrderStatus::kOpen) {
      return Status::error(ErrorCode::kInternal, "offer index names no open order: " + key);
    }
    OrderRecord& order = **stored;
    if (sells_only && order.side != Side::kSell) return Status::ok();
    auto book = access.books->book(ledger, order.product);
    if (!book) return book.status();
    auto removed = (*book)->cancel(order.id, order.owner);
    if (!removed) return removed.status();
    return close_order(ledger, order, OrderStatus::kCancelled, end);
  }
  auto listing = ledger.get<ListingRecord>("lst/" + id_hex);
  if (!listing) return listing.status();
  if (!*listing || (*listing)->status != ListingStatus::kOpen) {
    return Status::error(ErrorCode::kInternal, "offer index names no open listing: " + key);
  }
  return close_listing(ledger, **listing);
}

}  // namespace

Status close_listing(Ledger& ledger, ListingRecord& listing) {
  CARBON_RETURN_IF_ERROR(unlock_units(ledger, listing.seller, listing.product, listing.remaining_t));
  CARBON_RETURN_IF_ERROR(remove_offer(ledger, listing.seller, listing.product,
                                      keys::offer_listing(listing.seller, listing.product, listing.id)));
  listing.status = ListingStatus::kCancelled;
  ledger.put(keys::listing(listing.id), listing);
  return Status::ok();
}

Status release_sell_offers(Ledger& ledger, const Context& ctx, const PublicKey& owner,
                           const ProductId& product) {
  BooksAccess access(ctx);
  for (const std::string& key : offer_keys(ledger, keys::offers_prefix(owner, product))) {
    CARBON_RETURN_IF_ERROR(cancel_indexed_offer(ledger, access, key, true, OrderEnd::kRetired));
  }
  return Status::ok();
}

Status cancel_offers_of(Ledger& ledger, const Context& ctx, const PublicKey& owner) {
  BooksAccess access(ctx);
  for (const std::string& key : offer_keys(ledger, keys::offers_prefix(owner))) {
    CARBON_RETURN_IF_ERROR(cancel_indexed_offer(ledger, access, key, false, OrderEnd::kFrozen));
  }
  return Status::ok();
}

// ---- the books ------------------------------------------------------------------------------

Result<OrderBook*> MarketBooks::book(const Ledger& ledger, const ProductId& product) {
  if (std::find(touched_.begin(), touched_.end(), product) == touched_.end()) {
    touched_.push_back(product);
  }
  auto found = books_.find(product);
  if (found != books_.end()) return found->second.get();
  // Build from the open orders, in id order (the order they were placed in): the same
  // price-time priority. Open orders never cross, so nothing matches while rebuilding.
  auto built = std::make_unique<OrderBook>();
  const std::string prefix = keys::open_orders_prefix(product);
  std::string start;
  for (std::size_t pages = 0; pages <= kMaxRestingOrders / kScanPageSize + 1; ++pages) {
    const auto entries = ledger.scan(prefix, start, kScanPageSize);
    for (const StateEntry& entry : entries) {
      const std::string id_hex = entry.first.substr(prefix.size());
      auto order = ledger.get<OrderRecord>("ord/" + id_hex);
      if (!order) return order.status();
      if (!*order || (*order)->status != OrderStatus::kOpen) {
        return Status::error(ErrorCode::kInternal, "open-order index without an open order: " +
                                                       entry.first);
      }
      Order resting;
      resting.id = (*order)->id;
      resting.owner = (*order)->owner;
      resting.side = (*order)->side;
      resting.price_fen = (*order)->price_fen;
      resting.quantity_t = (*order)->remaining_t;
      resting.tif = (*order)->tif;
      auto added = built->add(resting);
      if (!added) return added.status();
      if (added->remainder != RemainderOutcome::kRests) {
        return Status::error(ErrorCode::kInternal, "open orders of " + product.code() + " cross");
      }
    }
    if (entries.size() < kScanPageSize) {
      OrderBook* raw = built.get();
      books_.emplace(product, std::move(built));
      return raw;
    }
    start = key_successor(entries.back().first);
  }
  return Status::error(ErrorCode::kInternal, "more open orders than a book holds");
}

void MarketBooks::forget_touched() {
  for (const ProductId& product : touched_) books_.erase(product);
  touched_.clear();
}

}  // namespace carbon::contracts
