// The exchange, part 2: fixed-price listings, block trades, sealed-bid auctions, and the
// authority's surveillance acts (related accounts, instructions to the reserve). Every trade
// settles through settle() (exchange.cc) in the transaction that makes it (docs/exchange.md).
#include <algorithm>

#include "contracts/compliance.h"
#include "contracts/ledger_internal.h"
#include "contracts/market_internal.h"
#include "contracts/market_queries.h"
#include "core/checked_math.h"

namespace carbon::contracts {

namespace {

bool is_signer(const Context& ctx, const PublicKey& key) {
  return std::find(ctx.signers.begin(), ctx.signers.end(), key) != ctx.signers.end();
}

// The account behind a co-signature: the participant whose current signing key signed.
Result<Account> co_signer(const Ledger& ledger, const Context& ctx, const PublicKey& address,
                          std::string_view who) {
  auto account = require_account(ledger, address, who);
  if (!account) return account.status();
  if (!is_signer(ctx, account->signing_key)) {
    return Status::error(ErrorCode::kUnauthorized,
                         "the " + std::string(who) + " " + account->name +
                             " must co-sign this transaction");
  }
  return account;
}

Result<ListingRecord> load_listing(const Ledger& ledger, std::uint64_t id) {
  auto stored = ledger.get<ListingRecord>(keys::listing(id));
  if (!stored) return stored.status();
  if (!*stored) return Status::error(ErrorCode::kNotFound, "no listing " + std::to_string(id));
  return std::move(**stored);
}

Result<AuctionRecord> load_auction(const Ledger& ledger, std::uint64_t id) {
  auto stored = ledger.get<AuctionRecord>(keys::auction(id));
  if (!stored) return stored.status();
  if (!*stored) return Status::error(ErrorCode::kNotFound, "no auction " + std::to_string(id));
  return std::move(**stored);
}

}  // namespace

// ---- fixed-price transfer -------------------------------------------------------------------

Status apply_call(Ledger& ledger, const Context& ctx, const CreateListing& call) {
  CARBON_RETURN_IF_ERROR(check_trader(ctx.sender, call.product, false));
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  CARBON_RETURN_IF_ERROR(check_price(call.price_fen));
  auto snapshot = open_for_trading(ledger, ctx, call.product);
  if (!snapshot) return snapshot.status();
  MarketState* state = &snapshot->state;
  auto value = core::checked_mul(call.quantity_t, call.price_fen);
  if (!value) return Status::error(ErrorCode::kOutOfBounds, "listing value is too large");
  CARBON_RETURN_IF_ERROR(lock_units(ledger, ctx.sender.key, call.product, call.quantity_t));
  ListingRecord listing;
  listing.id = state->next_listing_id++;
  listing.seller = ctx.sender.key;
  listing.product = call.product;
  listing.price_fen = call.price_fen;
  listing.quantity_t = call.quantity_t;
  listing.remaining_t = call.quantity_t;
  listing.created_height = ctx.height;
  listing.created_ms = ctx.time_ms;
  CARBON_RETURN_IF_ERROR(add_offer(ledger, listing.seller, listing.product,
                                   keys::offer_listing(listing.seller, listing.product, listing.id)));
  ledger.put(keys::listing(listing.id), listing);
  put_market_state(ledger, *state);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const TakeListing& call) {
  auto listing = load_listing(ledger, call.listing_id);
  if (!listing) return listing.status();
  if (listing->status != ListingStatus::kOpen) {
    return Status::error(ErrorCode::kConflict, "listing " + std::to_string(listing->id) + " is " +
                                                   std::string(listing_status_name(listing->status)));
  }
  if (listing->seller == ctx.sender.key) {
    return Status::error(ErrorCode::kConflict, "you cannot take your own listing");
  }
  CARBON_RETURN_IF_ERROR(check_trader(ctx.sender, listing->product, false));
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  if (call.quantity_t > listing->remaining_t) {
    return Status::error(ErrorCode::kConflict, "listing " + std::to_string(listing->id) +
                                                   " has " + tonnes(listing->remaining_t) +
                                                   " left; " + tonnes(call.quantity_t) +
                                                   " requested");
  }
  auto seller = require_account(ledger, listing->seller, "seller");
  if (!seller) return seller.status();
  if (seller->frozen != 0) {
    return Status::error(ErrorCode::kConflict,
                         "the seller " + seller->name + " is frozen and cannot trade");
  }
  auto snapshot = open_for_trading(ledger, ctx, listing->product);
  if (!snapshot) return snapshot.status();
  MarketParamsRecord* params = &snapshot->params;
  MarketState* state = &snapshot->state;
  ProductMarket* market = &snapshot->market;
  CARBON_RETURN_IF_ERROR(check_position_limit(ledger, params->params, ctx.sender.key,
                                              listing->product, call.quantity_t));
  TradeSpec spec;
  spec.kind = TradeKind::kFixedPrice;
  spec.product = listing->product;
  spec.buyer = ctx.sender.key;
  spec.seller = listing->seller;
  spec.price_fen = listing->price_fen;
  spec.quantity_t = call.quantity_t;
  spec.buyer_fee_bp = params->params.fixed_buyer_fee_bp;
  spec.seller_fee_bp = params->params.fixed_seller_fee_bp;
  spec.sell_ref = listing->id;
  spec.aggressor = Side::kBuy;
  spec.units_locked = true;
  auto trade = settle(ledger, ctx, *params, *state, *market, spec);
  if (!trade) return trade.status();
  listing->remaining_t -= call.quantity_t;
  if (listing->remaining_t == 0) {
    listing->status = ListingStatus::kSoldOut;
    CARBON_RETURN_IF_ERROR(remove_offer(ledger, listing->seller, listing->product,
                                        keys::offer_listing(listing->seller, listing->product, listing->id)));
  }
  ledger.put(keys::listing(listing->id), *listing);
  put_market_state(ledger, *state);
  put_product_market(ledger, *market);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const CancelListing& call) {
  auto listing = load_listing(ledger, call.listing_id);
  if (!listing) return listing.status();
  if (listing->seller != ctx.sender.key && ctx.sender.role != Role::kExchange) {
    return Status::error(ErrorCode::kUnauthorized,
                         "listing " + std::to_string(listing->id) + " belongs to someone else");
  }
  if (listing->status != ListingStatus::kOpen) {
    return Status::error(ErrorCode::kConflict, "listing " + std::to_string(listing->id) + " is " +
                                                   std::string(listing_status_name(listing->status)));
  }
  return close_listing(ledger, *listing);
}

// ---- block trades ---------------------------------------------------------------------------

Status apply_call(Ledger& ledger, const Context& ctx, const BlockTrade& call) {
  const Account& seller = ctx.sender;
  if (call.buyer == seller.key) {
    return Status::error(ErrorCode::kInvalidArgument, "buyer and seller must differ");
  }
  auto buyer = co_signer(ledger, ctx, call.buyer, "buyer");
  if (!buyer) return buyer.status();
  CARBON_RETURN_IF_ERROR(check_trader(seller, call.product, false));
  CARBON_RETURN_IF_ERROR(check_trader(*buyer, call.product, false));
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  CARBON_RETURN_IF_ERROR(check_price(call.price_fen));
  auto snapshot = open_for_trading(ledger, ctx, call.product);
  if (!snapshot) return snapshot.status();
  MarketParamsRecord* params = &snapshot->params;
  MarketState* state = &snapshot->state;
  ProductMarket* market = &snapshot->market;
  if (call.quantity_t < params->params.block_min_t) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "a block trade is at least " + tonnes(params->params.block_min_t) +
                             "; " + tonnes(call.quantity_t) + " given");
  }
  const auto [low, high] = queries::price_band(market->prev_close_fen, params->params.block_band_bp);
  if (call.price_fen < low || call.price_fen > high) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "block-trade price " + yuan(call.price_fen) + " is outside the band " +
                             yuan(low) + " - " + yuan(high) + " for " + call.product.code() +
                             " (previous close " + yuan(market->prev_close_fen) + ")");
  }
  CARBON_RETURN_IF_ERROR(check_position_limit(ledger, params->params, buyer->key, call.product,
                                              call.quantity_t));
  TradeSpec spec;
  spec.kind = TradeKind::kBlock;
  spec.product = call.product;
  spec.buyer = buyer->key;
  spec.seller = seller.key;
  spec.price_fen = call.price_fen;
  spec.quantity_t = call.quantity_t;
  spec.buyer_fee_bp = params->params.fee_bp;
  spec.seller_fee_bp = params->params.fee_bp;
  spec.aggressor = Side::kSell;
  spec.units_locked = false;
  auto trade = settle(ledger, ctx, *params, *state, *market, spec);
  if (!trade) return trade.status();
  put_market_state(ledger, *state);
  put_product_market(ledger, *market);
  return Status::ok();
}

// ---- sealed-bid auctions --------------------------------------------------------------------

Status apply_call(Ledger& ledger, const Context& ctx, const CreateAuction& call) {
  CARBON_RETURN_IF_ERROR(check_exchange(ctx, "run auctions"));
  auto seller = co_signer(ledger, ctx, call.seller, "seller");
  if (!seller) return seller.status();
  // RULES.md: auctions sell the reserve's allowances or paid allocation, which the reserve
  // institution holds; so an offer never locks units an enterprise must surrender or lose.
  if (seller->role != Role::kReserve) {
    return Status::error(ErrorCode::kUnauthorized,
                         "only the reserve institution sells in auctions; " + seller->name +
                             " is " + std::string(role_name(seller->role)));
  }
  if (seller->frozen != 0) {
    return Status::error(ErrorCode::kConflict, "the seller " + seller->name + " is frozen");
  }
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  CARBON_RETURN_IF_ERROR(check_price(call.reserve_price_fen));
  if (call.close_ms <= ctx.time_ms) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "the auction must close after now (" + beijing_time(ctx.time_ms) + ")");
  }
  if (call.restricted_year != 0) CARBON_RETURN_IF_ERROR(check_year(call.restricted_year));
  auto value = core::checked_mul(call.quantity_t, call.reserve_price_fen);
  if (!value) return Status::error(ErrorCode::kOutOfBounds, "auction value is too large");
  auto state = load_market_state(ledger);
  if (!state) return state.status();
  if (state->open_auctions >= kMaxOpenAuctions) {
    return Status::error(ErrorCode::kOutOfBounds, "at most " + std::to_string(kMaxOpenAuctions) +
                                                      " auctions may be open at once");
  }
  CARBON_RETURN_IF_ERROR(lock_units(ledger, seller->key, call.product, call.quantity_t));
  AuctionRecord auction;
  auction.id = state->next_auction_id++;
  auction.exchange = ctx.sender.key;
  auction.seller = seller->key;
  auction.product = call.product;
  auction.quantity_t = call.quantity_t;
  auction.reserve_price_fen = call.reserve_price_fen;
  auction.close_ms = call.close_ms;
  auction.restricted_year = call.restricted_year;
  auction.created_height = ctx.height;
  auction.created_ms = ctx.time_ms;
  ledger.put(keys::auction(auction.id), auction);
  ++state->open_auctions;
  put_market_state(ledger, *state);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const PlaceBid& call) {
  auto auction = load_auction(ledger, call.auction_id);
  if (!auction) return auction.status();
  if (auction->status != AuctionStatus::kOpen) {
    return Status::error(ErrorCode::kConflict,
                         "auction " + std::to_string(auction->id) + " is already cleared");
  }
  if (ctx.time_ms > auction->close_ms) {
    return Status::error(ErrorCode::kConflict, "auction " + std::to_string(auction->id) +
                                                   " closed for bids at " +
                                                   beijing_time(auction->close_ms));
  }
  if (ctx.sender.key == auction->seller) {
    return Status::error(ErrorCode::kConflict, "the seller cannot bid in its own auction");
  }
  CARBON_RETURN_IF_ERROR(check_trader(ctx.sender, auction->product, false));
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  CARBON_RETURN_IF_ERROR(check_price(call.price_fen));
  if (call.price_fen < auction->reserve_price_fen) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "bid " + yuan(call.price_fen) + " is below the reserve price " +
                             yuan(auction->reserve_price_fen));
  }
  if (call.quantity_t > auction->quantity_t) {
    return Status::error(ErrorCode::kOutOfBounds, "bid for " + tonnes(call.quantity_t) +
                                                      " exceeds the " +
                                                      tonnes(auction->quantity_t) + " offered");
  }
  if (auction->bids >= kMaxBidsPerAuction) {
    return Status::error(ErrorCode::kOutOfBounds, "auction " + std::to_string(auction->id) +
                                                      " already holds " +
                                                      std::to_string(kMaxBidsPerAuction) + " bids");
  }
  if (auction->restricted_year != 0) {
    // Only enterprises short of their obligation, for at most the shortfall (less what they
    // already bid in this auction is not tracked: each bid is checked against the shortfall).
    if (ctx.sender.role != Role::kCoveredEnterprise) {
      return Status::error(ErrorCode::kUnauthorized,
                           "auction " + std::to_string(auction->id) +
                               " is open only to covered enterprises short of their " +
                               std::to_string(auction->restricted_year) + " obligation");
    }
    auto position = compliance_position(ledger, auction->restricted_year, ctx.sender.key);
    if (!position) return position.status();
    // Its earlier bids in this auction count too (at most kMaxBidsPerAuction to read).
    std::uint64_t bid_before_t = 0;
    for (const StateEntry& entry :
         ledger.scan(keys::bids_prefix(auction->id), "", kMaxBidsPerAuction)) {
      auto earlier = core::codec::decode<BidRecord>(entry.second);
      if (!earlier) return Status::error(ErrorCode::kInternal, "corrupt bid at " + entry.first);
      if (earlier->bidder == ctx.sender.key) bid_before_t += earlier->quantity_t;
    }
    if (position->shortfall_t == 0 ||
        static_cast<unsigned __int128>(bid_before_t) + call.quantity_t > position->shortfall_t) {
      return Status::error(ErrorCode::kOutOfBounds,
                           "auction " + std::to_string(auction->id) +
                               " is open only to cover a shortfall: yours for " +
                               std::to_string(auction->restricted_year) + " is " +
                               tonnes(position->shortfall_t) + ", you already bid for " +
                               tonnes(bid_before_t) + ", this bid is for " +
                               tonnes(call.quantity_t));
    }
  }
  auto params = load_market_params(ledger);
  if (!params) return params.status();
  auto lock = buy_lock_fen(call.quantity_t, call.price_fen, params->params.auction_fee_bp);
  if (!lock) return lock.status();
  CARBON_RETURN_IF_ERROR(lock_funds(ledger, ctx.sender.key, *lock, "the bid with its fee"));
  BidRecord bid;
  bid.fee_bp = params->params.auction_fee_bp;
  bid.auction_id = auction->id;
  bid.seq = ++auction->bids;
  bid.bidder = ctx.sender.key;
  bid.price_fen = call.price_fen;
  bid.quantity_t = call.quantity_t;
  bid.locked_fen = *lock;
  bid.height = ctx.height;
  ledger.put(keys::bid(auction->id, bid.seq), bid);
  auction->bid_quantity_t += call.quantity_t;  // at most 1,000 x 10^12
  ledger.put(keys::auction(auction->id), *auction);
  return Status::ok();
}

Status apply_call(Ledger& ledger, const Context& ctx, const ClearAuction& call) {
  CARBON_RETURN_IF_ERROR(check_exchange(ctx, "clear auctions"));
  auto auction = load_auction(ledger, call.auction_id);
  if (!auction) return auction.status();
  if (auction->status != AuctionStatus::kOpen) {
    return Status::error(ErrorCode::kConflict,
                         "auction " + std::to_string(auction->id) + " is already cleared");
  }
  if (ctx.time_ms <= auction->close_ms) {
    return Status::error(ErrorCode::kConflict, "auction " + std::to_string(auction->id) +
                                                   " takes bids until " +
                                                   beijing_time(auction->close_ms));
  }
  auto params = load_market_params(ledger);
  if (!params) return params.status();
  auto state = load_market_state(ledger);
  if (!state) return state.status();

  std::vector<BidRecord> bids;
  const auto entries = ledger.scan(keys::bids_prefix(auction->id), "", kMaxBidsPerAuction + 1);
  if (entries.size() > kMaxBidsPerAuction) {
    return Status::error(ErrorCode::kInternal, "auction holds more bids than allowed");
  }
  for (const StateEntry& entry : entries) {
    auto decoded = core::codec::decode<BidRecord>(entry.second);
    if (!decoded) return Status::error(ErrorCode::kInternal, "corrupt bid at " + entry.first);
    bids.push_back(std::move(*decoded));
  }
  // Highest price first; at one price, the earliest bid first.
  std::sort(bids.begin(), bids.end(), [](const BidRecord& a, const BidRecord& b) {
    return a.price_fen != b.price_fen ? a.price_fen > b.price_fen : a.seq < b.seq;
  });
  // Frozen accounts do not trade (RULES.md): a frozen bidder's bid is refunded unfilled, and
  // with a frozen seller nothing is sold.
  auto seller_account = require_account(ledger, auction->seller, "seller");
  if (!seller_account) return seller_account.status();
  std::uint64_t left_t = seller_account->frozen != 0 ? 0 : auction->quantity_t;
  std::uint64_t clearing_price = 0;
  for (BidRecord& bid : bids) {
    if (left_t == 0) break;
    auto bidder = require_account(ledger, bid.bidder, "bidder");
    if (!bidder) return bidder.status();
    if (bidder->frozen != 0) continue;
    bid.filled_t = std::min(bid.quantity_t, left_t);
    left_t -= bid.filled_t;
    clearing_price = bid.price_fen;  // the lowest filled price, as bids come in price order
  }
  // The offer is released first; settle() delivers the sold units from what is available.
  CARBON_RETURN_IF_ERROR(unlock_units(ledger, auction->seller, auction->product, auction->quantity_t));
  // The product need not be listed for continuous trading; a trade still updates its market
  // record when it is.
  auto listed = ledger.get<ProductMarket>(keys::product_market(auction->product));
  if (!listed) return listed.status();
  ProductMarket market;
  market.product = auction->product;
  if (*listed) market = **listed;
  for (BidRecord& bid : bids) {
    CARBON_RETURN_IF_ERROR(unlock_funds(ledger, bid.bidder, bid.locked_fen));
    bid.locked_fen = 0;
    if (bid.filled_t > 0) {
      TradeSpec spec;
      spec.kind = TradeKind::kAuction;
      spec.product = auction->product;
      spec.buyer = bid.bidder;
      spec.seller = auction->seller;
      spec.price_fen = clearing_price;
      spec.quantity_t = bid.filled_t;
      spec.buyer_fee_bp = bid.fee_bp;
      spec.seller_fee_bp = 0;
      spec.buy_ref = auction->id;
      spec.sell_ref = auction->id;
      spec.aggressor = Side::kBuy;
      spec.units_locked = false;
      auto trade = settle(ledger, ctx, *params, *state, market, spec);
      if (!trade) return trade.status();
    }
    ledger.put(keys::bid(auction->id, bid.seq), bid);
  }
  auction->status = AuctionStatus::kCleared;
  auction->clearing_price_fen = clearing_price;
  auction->sold_t = 0;
  for (const BidRecord& bid : bids) auction->sold_t += bid.filled_t;  // at most the offer
  auction->cleared_height = ctx.height;
  ledger.put(keys::auction(auction->id), *auction);
  CARBON_ASSERT(state->open_auctions > 0);
  --state->open_auctions;
  put_market_state(ledger, *state);
  if (*listed) put_product_market(ledger, market);
  return Status::ok();
}

// ---- surveillance and stabilisation (authority acts) ----------------------------------------

Status apply_act(Ledger& ledger, const Context& /*ctx*/, const SetRelated& act) {
  if (act.a == act.b) {
    return Status::error(ErrorCode::kInvalidArgument, "an account is not related to itself");
  }
  auto a = require_account(ledger, act.a, "account");
  if (!a) return a.status();
  auto b = require_account(ledger, act.b, "account");
  if (!b) return b.status();
  if (act.related != 0) {
    ledger.put(keys::related(act.a, act.b), std::uint8_t{1});
    ledger.put(keys::related(act.b, act.a), std::uint8_t{1});
  } else {
    ledger.erase(keys::related(act.a, act.b));
    ledger.erase(keys::related(act.b, act.a));
  }
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& /*ctx*/, const InstructReserve& act) {
  auto reserve = require_account(ledger, act.reserve, "reserve institution");
  if (!reserve) return reserve.status();
  if (reserve->role != Role::kReserve) {
    return Status::error(ErrorCode::kInvalidArgument,
                         reserve->name + " is not the reserve institution");
  }
  CARBON_RETURN_IF_ERROR(check_quantity(act.quantity_t));
  auto market = load_listed(ledger, act.product);
  if (!market) return market.status();
  if (market->trigger_raised == 0) {
    return Status::error(ErrorCode::kConflict,
                         "no stabilisation trigger is raised for " + act.product.code());
  }
  auto stored = ledger.get<Mandate>(keys::mandate(act.reserve, act.product));
  if (!stored) return stored.status();
  Mandate mandate = *stored ? **stored : Mandate{};
  std::uint64_t& remaining = act.side == Side::kSell ? mandate.sell_remaining_t : mandate.buy_remaining_t;
  auto sum = core::checked_add(remaining, act.quantity_t);
  if (!sum) return Status::error(ErrorCode::kOutOfBounds, "instruction too large");
  remaining = *sum;
  ledger.put(keys::mandate(act.reserve, act.product), mandate);
  return Status::ok();
}

}  // namespace carbon::contracts
