// JSON renderings of the exchange's calls and records (contracts/market_calls.h,
// contracts/market_records.h, contracts/market_queries.h), shared by the node's market RPC
// (node/rpc_market.cc) and GET /block, /tx (node/registry_json.cc renders market calls through
// call_fields below).
//
// Money is integer fen in fields named *_fen; prices and balances also carry a *_yuan string
// with exactly two decimals ("20.00", "1234567.89"; no separators, no floating point) for
// people reading the JSON. Products are codes ("HBEA-2025"), keys and hashes lower-case hex.
//
// Thread safety: pure functions.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "contracts/market_calls.h"
#include "contracts/market_queries.h"
#include "contracts/market_records.h"

namespace carbon::node::render {

using json = nlohmann::json;

// 2,000 fen -> "20.00" (exact integer arithmetic).
std::string yuan_text(std::uint64_t fen);
// Sets out[<name>_fen] and out[<name>_yuan].
void put_money(json& out, const std::string& name, std::uint64_t fen);
// Minutes after midnight -> "09:30" (1440 -> "24:00").
std::string clock_text(std::uint32_t minutes);

json market_params_json(const contracts::MarketParams& params);
json market_params_record_json(const contracts::MarketParamsRecord& record);
json market_state_json(const contracts::MarketState& state);
json money_supply_json(const contracts::MoneySupply& money);
json funds_json(const core::PublicKey& owner, const contracts::FundAccount& funds);
json unit_locks_json(const core::PublicKey& owner, const contracts::ProductId& product,
                     const contracts::UnitLocks& locks);
json product_market_json(const contracts::ProductMarket& market);
json day_stats_json(const contracts::DayStats& day);
json market_view_json(const contracts::queries::MarketView& view);
json depth_level_json(const contracts::DepthLevelRecord& level);
json book_json(const contracts::ProductId& product, const contracts::queries::BookDepth& book);
json order_json(const contracts::OrderRecord& order);
json trade_json(const contracts::TradeRecord& trade);
json listing_json(const contracts::ListingRecord& listing);
json auction_json(const contracts::AuctionRecord& auction);
json bid_json(const contracts::BidRecord& bid);
json auction_view_json(const contracts::queries::AuctionView& view);
json alert_json(const contracts::AlertRecord& alert);
json stabilisation_json(const contracts::StabilisationTrigger& trigger);
json mandate_json(const core::PublicKey& reserve, const contracts::ProductId& product,
                  const contracts::Mandate& mandate);

// The fields of one exchange call or market authority act, added to `out` (which already
// names the call). One overload per type, so that node/registry_json.cc's exhaustive visits
// render every alternative.
void call_fields(json& out, const contracts::Deposit& call);
void call_fields(json& out, const contracts::Withdraw& call);
void call_fields(json& out, const contracts::SetMarketParams& call);
void call_fields(json& out, const contracts::ListProduct& call);
void call_fields(json& out, const contracts::OpenDay& call);
void call_fields(json& out, const contracts::CloseDay& call);
void call_fields(json& out, const contracts::HaltProduct& call);
void call_fields(json& out, const contracts::PlaceOrder& call);
void call_fields(json& out, const contracts::CancelOrder& call);
void call_fields(json& out, const contracts::CreateListing& call);
void call_fields(json& out, const contracts::TakeListing& call);
void call_fields(json& out, const contracts::CancelListing& call);
void call_fields(json& out, const contracts::BlockTrade& call);
void call_fields(json& out, const contracts::CreateAuction& call);
void call_fields(json& out, const contracts::PlaceBid& call);
void call_fields(json& out, const contracts::ClearAuction& call);
void call_fields(json& out, const contracts::SetRelated& act);
void call_fields(json& out, const contracts::InstructReserve& act);

}  // namespace carbon::node::render
