// The calls of the exchange and settlement side (issue 5; RULES.md "Trading"): fund movements
// by the settlement bank, the exchange's calendar and controls, orders, fixed-price listings,
// block trades and sealed-bid auctions, and the market parameters they obey.
//
// Who may send what (checked by the contracts, contracts/exchange.cc):
//   settlement bank   Deposit, Withdraw
//   exchange          SetMarketParams, ListProduct, OpenDay, CloseDay, HaltProduct,
//                     CreateAuction (with the seller's co-signature), ClearAuction,
//                     CancelOrder / CancelListing of anyone's order or listing
//   holders           PlaceOrder, CancelOrder, CreateListing, TakeListing, CancelListing,
//                     BlockTrade (sent by the seller, co-signed by the buyer), PlaceBid
// The authority acts of the market (SetRelated, InstructReserve) are in contracts/calls.h.
//
// Units: fen (1/100 yuan) for money and prices per tonne, tonnes (_t), basis points (_bp),
// minutes of the Beijing-time day (_min), milliseconds since the epoch (_ms).
// Every struct's encoding is part of the wire format: append fields only at the end of a
// version change, never reorder.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "contracts/basics.h"

namespace carbon::contracts {

enum class Side : std::uint8_t { kBuy = 0, kSell = 1 };
inline constexpr Side kMaxSide = Side::kSell;
enum class TimeInForce : std::uint8_t {
  kDay = 0,                // expires at the close of the trading day it was placed in
  kGoodTillCancelled = 1,  // rests until filled or cancelled
};
inline constexpr TimeInForce kMaxTimeInForce = TimeInForce::kGoodTillCancelled;
std::string_view side_name(Side side);
std::string_view tif_name(TimeInForce tif);

inline constexpr std::size_t kMaxTradingSessions = 4;
inline constexpr std::uint32_t kMinutesPerDay = 24 * 60;


// One trading session of the day, [start_min, end_min) in minutes after 00:00 Beijing time.
struct TradingSession {
  std::uint32_t start_min = 0;
  std::uint32_t end_min = 0;
  auto operator<=>(const TradingSession&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(start_min, end_min);
  }
};

// The exchange's parameters (RULES.md "Trading", every figure marked param). Defaults are the
// 2014 reference figures.
struct MarketParams {
  std::uint32_t band_bp = 1'000;          // daily band: previous close +/- 10%
  std::uint32_t block_band_bp = 3'000;    // block trades: previous close +/- 30%
  std::uint64_t block_min_t = 100'000;    // smallest block trade
  std::uint32_t fee_bp = 50;              // continuous and block trades, each side
  std::uint32_t fixed_seller_fee_bp = 400;  // fixed-price transfer, to the seller
  std::uint32_t fixed_buyer_fee_bp = 0;
  std::uint32_t auction_fee_bp = 0;       // auctions, to the buyer
  std::uint64_t position_limit_t = 0;     // most a participant may hold of one product via
                                          // trading (holdings + open buys); 0 = no limit
  std::uint32_t band_hits_trigger = 6;    // stabilisation trigger: this many band-hit days ...
  std::uint32_t band_window_days = 20;    // ... within this many consecutive trading days
  std::vector<TradingSession> sessions = {{570, 690}, {780, 900}};  // 9:30-11:30, 13:00-15:00
  friend bool operator==(const MarketParams&, const MarketParams&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(band_bp, block_band_bp, block_min_t, fee_bp, fixed_seller_fee_bp, fixed_buyer_fee_bp,
            auction_fee_bp, position_limit_t, band_hits_trigger, band_window_days);
    core::codec::bounded_vector(archive, sessions, kMaxTradingSessions, 8);
  }
};
// Checks a parameter set (fees and bands at most 100%, sessions ordered and inside the day,
// window 1..64, trigger 1..window).
Status validate_market_params(const MarketParams& params);

// ---- funds (settlement bank) ----------------------------------------------------------------

// Credit a participant's fund account after a bank deposit; bank_ref identifies the attested
// bank movement and may be used once.
struct Deposit {
  PublicKey account;
  std::uint64_t amount_fen = 0;
  Hash256 bank_ref;
  auto operator<=>(const Deposit&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(account, amount_fen, bank_ref);
  }
};

// Debit a participant's available funds for a bank withdrawal.
struct Withdraw {
  PublicKey account;
  std::uint64_t amount_fen = 0;
  Hash256 bank_ref;
  auto operator<=>(const Withdraw&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(account, amount_fen, bank_ref);
  }
};

// ---- exchange controls ----------------------------------------------------------------------

// New market parameters; the sender's fund account receives the fees from then on.
struct SetMarketParams {
  MarketParams params;
  friend bool operator==(const SetMarketParams&, const SetMarketParams&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(params);
  }
};

// Admit a product to trading with the reference price its first band is computed from.
struct ListProduct {
  ProductId product;
  std::uint64_t reference_price_fen = 0;
  auto operator<=>(const ListProduct&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(product, reference_price_fen);
  }
};

// Open the trading day of the block's Beijing-time date.
struct OpenDay {
  auto operator<=>(const OpenDay&) const = default;
  template <class A>
  void serialize(A& /*archive*/) {}
};

// Close the trading day: day orders expire, closing prices, band hits, the stabilisation check.
struct CloseDay {
  auto operator<=>(const CloseDay&) const = default;
  template <class A>
  void serialize(A& /*archive*/) {}
};

// Halt (1) or resume (0) trading of a product.
struct HaltProduct {
  ProductId product;
  std::uint8_t halted = 1;
  auto operator<=>(const HaltProduct&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(product);
    flag_field(archive, halted);
  }
};

// ---- continuous trading ---------------------------------------------------------------------

// A limit order. intervention = 1 only for the reserve acting on an authority instruction.
struct PlaceOrder {
  ProductId product;
  Side side = Side::kBuy;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  TimeInForce tif = TimeInForce::kDay;
  std::uint8_t intervention = 0;
  auto operator<=>(const PlaceOrder&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(product);
    enum_field<A, Side, kMaxSide>(archive, side);
    archive(price_fen, quantity_t);
    enum_field<A, TimeInForce, kMaxTimeInForce>(archive, tif);
    flag_field(archive, intervention);
  }
};

// Cancel an open order (its owner, or the exchange).
struct CancelOrder {
  std::uint64_t order_id = 0;
  auto operator<=>(const CancelOrder&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(order_id);
  }
};

// ---- fixed-price transfer -------------------------------------------------------------------

struct CreateListing {
  ProductId product;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  auto operator<=>(const CreateListing&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(product, price_fen, quantity_t);
  }
};

struct TakeListing {
  std::uint64_t listing_id = 0;
  std::uint64_t quantity_t = 0;
  auto operator<=>(const TakeListing&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(listing_id, quantity_t);
  }
};

struct CancelListing {
  std::uint64_t listing_id = 0;
  auto operator<=>(const CancelListing&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(listing_id);
  }
};

// ---- block trades ---------------------------------------------------------------------------

// Sent by the seller; the transaction must also carry the buyer's signature.
struct BlockTrade {
  PublicKey buyer;
  ProductId product;
  std::uint64_t quantity_t = 0;
  std::uint64_t price_fen = 0;
  auto operator<=>(const BlockTrade&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(buyer, product, quantity_t, price_fen);
  }
};

// ---- sealed-bid auctions --------------------------------------------------------------------

// Sent by the exchange, co-signed by the seller (the reserve, or the holder of units for paid
// allocation), whose units are locked until the auction clears. restricted_year != 0 admits
// only covered enterprises short of their obligation for that year, for at most the shortfall.
struct CreateAuction {
  PublicKey seller;
  ProductId product;
  std::uint64_t quantity_t = 0;
  std::uint64_t reserve_price_fen = 0;  // lowest acceptable bid price
  std::uint64_t close_ms = 0;           // bids accepted up to and including this block time
  std::uint16_t restricted_year = 0;
  auto operator<=>(const CreateAuction&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(seller, product, quantity_t, reserve_price_fen, close_ms, restricted_year);
  }
};

struct PlaceBid {
  std::uint64_t auction_id = 0;
  std::uint64_t price_fen = 0;
  std::uint64_t quantity_t = 0;
  auto operator<=>(const PlaceBid&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(auction_id, price_fen, quantity_t);
  }
};

// After close_ms, by the exchange: one uniform price, settlement, refunds.
struct ClearAuction {
  std::uint64_t auction_id = 0;
  auto operator<=>(const ClearAuction&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(auction_id);
  }
};

// ---- authority acts of the market (M-of-N, in AuthorityAct) -------------------------------

// Mark two accounts as related (1) or not (0): trades between related accounts raise a
// self-dealing alert.
struct SetRelated {
  PublicKey a;
  PublicKey b;
  std::uint8_t related = 1;
  auto operator<=>(const SetRelated&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(a, b);
    flag_field(archive, related);
  }
};

// On a raised stabilisation trigger: instruct the reserve institution to sell (or buy back)
// up to quantity_t of a product through intervention orders.
struct InstructReserve {
  PublicKey reserve;
  ProductId product;
  Side side = Side::kSell;
  std::uint64_t quantity_t = 0;
  auto operator<=>(const InstructReserve&) const = default;
  template <class A>
  void serialize(A& archive) {
    archive(reserve, product);
    enum_field<A, Side, kMaxSide>(archive, side);
    archive(quantity_t);
  }
};

}  // namespace carbon::contracts
