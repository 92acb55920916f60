#include "node/market_json.h"

#include <string>

namespace carbon::node::render {

namespace c = carbon::contracts;

std::string yuan_text(std::uint64_t fen) {
  const std::uint64_t cents = fen % 100;
  return std::to_string(fen / 100) + (cents < 10 ? ".0" : ".") + std::to_string(cents);
}

void put_money(json& out, const std::string& name, std::uint64_t fen) {
  out[name + "_fen"] = fen;
  out[name + "_yuan"] = yuan_text(fen);
}

std::string clock_text(std::uint32_t minutes) {
  const std::uint32_t hours = minutes / 60;
  const std::uint32_t rest = minutes % 60;
  return (hours < 10 ? "0" : "") + std::to_string(hours) + (rest < 10 ? ":0" : ":") +
         std::to_string(rest);
}

namespace {
std::string side(c::Side s) { return std::string(c::side_name(s)); }
}  // namespace

json market_params_json(const c::MarketParams& p) {
  json sessions = json::array();
  for (const auto& session : p.sessions) {
    sessions.push_back({{"start", clock_text(session.start_min)},
                        {"end", clock_text(session.end_min)},
                        {"start_min", session.start_min},
                        {"end_min", session.end_min}});
  }
  return {{"band_bp", p.band_bp},
          {"block_band_bp", p.block_band_bp},
          {"block_min_t", p.block_min_t},
          {"fee_bp", p.fee_bp},
          {"fixed_seller_fee_bp", p.fixed_seller_fee_bp},
          {"fixed_buyer_fee_bp", p.fixed_buyer_fee_bp},
          {"auction_fee_bp", p.auction_fee_bp},
          {"position_limit_t", p.position_limit_t},
          {"band_hits_trigger", p.band_hits_trigger},
          {"band_window_days", p.band_window_days},
          {"sessions", sessions}};
}

json market_params_record_json(const c::MarketParamsRecord& r) {
  json out = {{"params", market_params_json(r.params)},
              {"version", r.version},
              {"effective_height", r.effective_height},
              {"effective_ms", r.effective_ms}};
  out["fee_account"] = r.version == 0 ? json(nullptr) : json(r.fee_account.to_hex());
  return out;
}

json market_state_json(const c::MarketState& s) {
  return {{"day_open", s.day_open != 0},
          {"day_index", s.day_index},
          {"day_date", s.day_date},
          {"day_opened_ms", s.day_opened_ms},
          {"next_order_id", s.next_order_id},
          {"next_trade_id", s.next_trade_id},
          {"next_listing_id", s.next_listing_id},
          {"next_auction_id", s.next_auction_id},
          {"next_alert_id", s.next_alert_id},
          {"open_auctions", s.open_auctions}};
}

json money_supply_json(const c::MoneySupply& m) {
  json out = json::object();
  put_money(out, "deposited", m.deposited_fen);
  put_money(out, "withdrawn", m.withdrawn_fen);
  // Deposits minus withdrawals: what all fund accounts hold together (never negative: a
  // withdrawal debits funds that a deposit brought in).
  put_money(out, "outstanding",
            m.deposited_fen >= m.withdrawn_fen ? m.deposited_fen - m.withdrawn_fen : 0);
  return out;
}

json funds_json(const core::PublicKey& owner, const c::FundAccount& f) {
  json out = {{"owner", owner.to_hex()}};
  put_money(out, "available", f.available_fen);
  put_money(out, "locked", f.locked_fen);
  put_money(out, "total", f.available_fen + f.locked_fen);
  return out;
}

json unit_locks_json(const core::PublicKey& owner, const c::ProductId& product,
                     const c::UnitLocks& l) {
  return {{"owner", owner.to_hex()},
          {"product", product.code()},
          {"sell_locked_t", l.sell_locked_t},
          {"buy_open_t", l.buy_open_t}};
}

json product_market_json(const c::ProductMarket& m) {
  json out = {{"product", m.product.code()},
              {"halted", m.halted != 0},
              {"last_trade_id", m.last_trade_id},
              {"last_trade_ms", m.last_trade_ms},
              {"band_hit_days", m.band_hit_days},
              {"days_closed", m.days_closed},
              {"trigger_raised", m.trigger_raised != 0}};
  put_money(out, "reference_price", m.reference_price_fen);
  put_money(out, "prev_close", m.prev_close_fen);
  put_money(out, "last_price", m.last_price_fen);
  return out;
}

json day_stats_json(const c::DayStats& d) {
  json out = {{"day_index", d.day_index},
              {"date", d.date},
              {"volume_t", d.volume_t},
              {"trades", d.trades},
              {"other_volume_t", d.other_volume_t},
              {"band_hit", d.band_hit != 0},
              {"closed", d.closed != 0}};
  put_money(out, "prev_close", d.prev_close_fen);
  put_money(out, "band_low", d.band_low_fen);
  put_money(out, "band_high", d.band_high_fen);
  put_money(out, "open", d.open_fen);
  put_money(out, "high", d.high_fen);
  put_money(out, "low", d.low_fen);
  put_money(out, "close", d.close_fen);
  put_money(out, "vwap", d.vwap_fen());
  put_money(out, "value", d.value_fen);
  put_money(out, "other_value", d.other_value_fen);
  return out;
}

json market_view_json(const c::queries::MarketView& v) {
  json out = product_market_json(v.market);
  put_money(out, "band_low", v.band_low_fen);
  put_money(out, "band_high", v.band_high_fen);
  out["today"] = v.today ? day_stats_json(*v.today) : json(nullptr);
  return out;
}

json depth_level_json(const c::DepthLevelRecord& level) {
  json out = {{"quantity_t", level.quantity_t}, {"orders", level.orders}};
  put_money(out, "price", level.price_fen);
  return out;
}

json book_json(const c::ProductId& product, const c::queries::BookDepth& book) {
  json bids = json::array();
  json asks = json::array();
  for (const auto& level : book.bids) bids.push_back(depth_level_json(level));
  for (const auto& level : book.asks) asks.push_back(depth_level_json(level));
  return {{"product", product.code()}, {"bids", bids}, {"asks", asks}};
}

json order_json(const c::OrderRecord& o) {
  json out = {{"id", o.id},
              {"owner", o.owner.to_hex()},
              {"product", o.product.code()},
              {"side", side(o.side)},
              {"quantity_t", o.quantity_t},
              {"remaining_t", o.remaining_t},
              {"filled_t", o.quantity_t - o.remaining_t},
              {"tif", std::string(c::tif_name(o.tif))},
              {"intervention", o.intervention != 0},
              {"status", std::string(c::order_status_name(o.status))},
              {"end", std::string(c::order_end_name(o.end))},
              {"placed_height", o.placed_height},
              {"placed_ms", o.placed_ms},
              {"day_index", o.day_index}};
  put_money(out, "price", o.price_fen);
  put_money(out, "locked", o.locked_fen);
  put_money(out, "filled_value", o.filled_value_fen);
  return out;
}

json trade_json(const c::TradeRecord& t) {
  json out = {{"id", t.id},
              {"product", t.product.code()},
              {"kind", std::string(c::trade_kind_name(t.kind))},
              {"buyer", t.buyer.to_hex()},
              {"seller", t.seller.to_hex()},
              {"quantity_t", t.quantity_t},
              {"buy_ref", t.buy_ref},
              {"sell_ref", t.sell_ref},
              {"aggressor", side(t.aggressor)},
              {"intervention", t.intervention != 0},
              {"related", t.related != 0},
              {"height", t.height},
              {"time_ms", t.time_ms},
              {"day_index", t.day_index}};
  put_money(out, "price", t.price_fen);
  put_money(out, "value", t.value_fen);
  put_money(out, "buyer_fee", t.buyer_fee_fen);
  put_money(out, "seller_fee", t.seller_fee_fen);
  return out;
}

json listing_json(const c::ListingRecord& l) {
  json out = {{"id", l.id},
              {"seller", l.seller.to_hex()},
              {"product", l.product.code()},
              {"quantity_t", l.quantity_t},
              {"remaining_t", l.remaining_t},
              {"status", std::string(c::listing_status_name(l.status))},
              {"created_height", l.created_height},
              {"created_ms", l.created_ms}};
  put_money(out, "price", l.price_fen);
  return out;
}

json auction_json(const c::AuctionRecord& a) {
  json out = {{"id", a.id},
              {"exchange", a.exchange.to_hex()},
              {"seller", a.seller.to_hex()},
              {"product", a.product.code()},
              {"quantity_t", a.quantity_t},
              {"close_ms", a.close_ms},
              {"restricted_year", a.restricted_year},
              {"status", std::string(c::auction_status_name(a.status))},
              {"bids", a.bids},
              {"bid_quantity_t", a.bid_quantity_t},
              {"sold_t", a.sold_t},
              {"created_height", a.created_height},
              {"created_ms", a.created_ms},
              {"cleared_height", a.cleared_height}};
  put_money(out, "reserve_price", a.reserve_price_fen);
  put_money(out, "clearing_price", a.clearing_price_fen);
  return out;
}

json bid_json(const c::BidRecord& b) {
  json out = {{"auction_id", b.auction_id}, {"seq", b.seq},           {"bidder", b.bidder.to_hex()},
              {"quantity_t", b.quantity_t}, {"filled_t", b.filled_t}, {"height", b.height}};
  put_money(out, "price", b.price_fen);
  put_money(out, "locked", b.locked_fen);
  return out;
}

json auction_view_json(const c::queries::AuctionView& v) {
  json out = auction_json(v.auction);
  json bids = json::array();
  for (const auto& bid : v.bids) bids.push_back(bid_json(bid));
  out["bid_list"] = bids;
  out["bids_sealed"] = v.auction.status == c::AuctionStatus::kOpen;
  return out;
}

json alert_json(const c::AlertRecord& a) {
  json out = {{"id", a.id},
              {"kind", std::string(c::alert_kind_name(a.kind))},
              {"product", a.product.code()},
              {"height", a.height},
              {"time_ms", a.time_ms}};
  if (a.kind == c::AlertKind::kRelatedTrade) {
    out["trade_id"] = a.trade_id;
    out["buyer"] = a.buyer.to_hex();
    out["seller"] = a.seller.to_hex();
  } else {
    out["band_hits"] = a.band_hits;
  }
  return out;
}

json stabilisation_json(const c::StabilisationTrigger& s) {
  return {{"product", s.product.code()},  {"raised", s.raised != 0},    {"band_hits", s.band_hits},
          {"window_days", s.window_days}, {"raised_day", s.raised_day}, {"raised_ms", s.raised_ms}};
}

json mandate_json(const core::PublicKey& reserve, const c::ProductId& product,
                  const c::Mandate& m) {
  return {{"reserve", reserve.to_hex()},
          {"product", product.code()},
          {"sell_remaining_t", m.sell_remaining_t},
          {"buy_remaining_t", m.buy_remaining_t}};
}

// ---- calls ----------------------------------------------------------------------------------

void call_fields(json& out, const c::Deposit& call) {
  out["account"] = call.account.to_hex();
  put_money(out, "amount", call.amount_fen);
  out["bank_ref"] = call.bank_ref.to_hex();
}
void call_fields(json& out, const c::Withdraw& call) {
  out["account"] = call.account.to_hex();
  put_money(out, "amount", call.amount_fen);
  out["bank_ref"] = call.bank_ref.to_hex();
}
void call_fields(json& out, const c::SetMarketParams& call) {
  out["params"] = market_params_json(call.params);
}
void call_fields(json& out, const c::ListProduct& call) {
  out["product"] = call.product.code();
  put_money(out, "reference_price", call.reference_price_fen);
}
void call_fields(json& /*out*/, const c::OpenDay& /*call*/) {}
void call_fields(json& /*out*/, const c::CloseDay& /*call*/) {}
void call_fields(json& out, const c::HaltProduct& call) {
  out["product"] = call.product.code();
  out["halted"] = call.halted != 0;
}
void call_fields(json& out, const c::PlaceOrder& call) {
  out["product"] = call.product.code();
  out["side"] = side(call.side);
  put_money(out, "price", call.price_fen);
  out["quantity_t"] = call.quantity_t;
  out["tif"] = std::string(c::tif_name(call.tif));
  out["intervention"] = call.intervention != 0;
}
void call_fields(json& out, const c::CancelOrder& call) { out["order_id"] = call.order_id; }
void call_fields(json& out, const c::CreateListing& call) {
  out["product"] = call.product.code();
  put_money(out, "price", call.price_fen);
  out["quantity_t"] = call.quantity_t;
}
void call_fields(json& out, const c::TakeListing& call) {
  out["listing_id"] = call.listing_id;
  out["quantity_t"] = call.quantity_t;
}
void call_fields(json& out, const c::CancelListing& call) { out["listing_id"] = call.listing_id; }
void call_fields(json& out, const c::BlockTrade& call) {
  out["buyer"] = call.buyer.to_hex();
  out["product"] = call.product.code();
  out["quantity_t"] = call.quantity_t;
  put_money(out, "price", call.price_fen);
}
void call_fields(json& out, const c::CreateAuction& call) {
  out["seller"] = call.seller.to_hex();
  out["product"] = call.product.code();
  out["quantity_t"] = call.quantity_t;
  put_money(out, "reserve_price", call.reserve_price_fen);
  out["close_ms"] = call.close_ms;
  out["restricted_year"] = call.restricted_year;
}
void call_fields(json& out, const c::PlaceBid& call) {
  out["auction_id"] = call.auction_id;
  put_money(out, "price", call.price_fen);
  out["quantity_t"] = call.quantity_t;
}
void call_fields(json& out, const c::ClearAuction& call) { out["auction_id"] = call.auction_id; }
void call_fields(json& out, const c::SetRelated& act) {
  out["a"] = act.a.to_hex();
  out["b"] = act.b.to_hex();
  out["related"] = act.related != 0;
}
void call_fields(json& out, const c::InstructReserve& act) {
  out["reserve"] = act.reserve.to_hex();
  out["product"] = act.product.code();
  out["side"] = side(act.side);
  out["quantity_t"] = act.quantity_t;
}

}  // namespace carbon::node::render
