// The exchange's read-only RPC: typed queries (contracts/market_queries.h) over the node's read
// view of the committed state, rendered by node/market_json.h. Lists take ?limit=N (1..1000,
// default 100) and say "more": true when entries were left out; every answer carries the
// height it is about. Errors are {"error": {"code", "message"}} with 400 (bad input) or 404
// (no such product, order, listing, auction).
//
//   GET /market                          parameters, trading day, money supply, session state
//   GET /market/products                 listed products
//   GET /market/{product}                prev close, band, halt, last trade, today's statistics
//   GET /market/{product}/days           daily statistics, newest first
//   GET /book/{product}?levels=N         aggregated depth, best first (default 10 levels)
//   GET /trades/{product}?before=ID      trades, newest first (below trade ID)
//   GET /order/{id}                      one order
//   GET /orders/{owner}?open=1           an owner's orders, newest first
//   GET /funds/{owner}                   available and locked funds
//   GET /money                           deposits, withdrawals, money outstanding
//   GET /listings?open=1, /listing/{id}  fixed-price listings
//   GET /auctions, /auction/{id}         sealed-bid auctions (bids after the clearing)
//   GET /alerts                          surveillance alerts, newest first
//   GET /stabilisation/{product}         the stabilisation trigger and band-hit count
//   GET /mandate/{reserve}/{product}     what the reserve is still instructed to trade
//   GET /locks/{owner}/{product}         units locked for sale, open buy quantity
#include <bit>
#include <nlohmann/json.hpp>

#include "contracts/market_queries.h"
#include "node/app.h"
#include "node/market_json.h"
#include "node/rpc_query.h"

namespace carbon::node {

namespace {

namespace q = contracts::queries;
using json = nlohmann::json;
using rpcq::Answer;
using rpcq::bad_request;
using rpcq::from_status;
using rpcq::ok;
using rpcq::parse_address;
using rpcq::parse_number;
using rpcq::split_path;

constexpr std::uint64_t kDefaultBookLevels = 10;
constexpr std::uint64_t kMaxBookLevels = 1'000;
constexpr std::uint64_t kMsPerMinute = 60'000;
constexpr std::uint64_t kBeijingOffsetMin = 8 * 60;

const std::set<std::string>& market_roots() {
  static const std::set<std::string> kRoots = {
      "market",  "book",     "trades",  "order",  "orders",        "funds",   "money", "listings",
      "listing", "auctions", "auction", "alerts", "stabilisation", "mandate", "locks"};
  return kRoots;
}

template <class T, class F>
json list_json(const q::Page<T>& page, F render) {
  json items = json::array();
  for (const auto& item : page.items) items.push_back(render(item));
  return items;
}

core::Result<contracts::ProductId> parse_product(const std::string& text) {
  auto product = contracts::ProductId::from_code(text);
  if (!product) {
    return core::Status::error(
        core::ErrorCode::kInvalidArgument,
        "a product is HBEA-<vintage> or CCER-<project>-<vintage>, not '" + text + "'");
  }
  return *product;
}

// Whether a block time falls inside one of the trading sessions (Beijing time, UTC+8).
bool in_session(const contracts::MarketParams& params, std::uint64_t time_ms) {
  const auto minute = static_cast<std::uint32_t>((time_ms / kMsPerMinute + kBeijingOffsetMin) %
                                                 contracts::kMinutesPerDay);
  for (const auto& session : params.sessions) {
    if (minute >= session.start_min && minute < session.end_min) return true;
  }
  return false;
}

}  // namespace

bool NodeApp::is_market_path(const std::string& path) {
  const auto parts = split_path(path);
  return !parts.empty() && market_roots().contains(parts[0]);
}

std::optional<Answer> NodeApp::rpc_market(const std::string& target) const {
  const std::size_t question = target.find('?');
  const std::string path = target.substr(0, question);
  const std::string query = question == std::string::npos ? "" : target.substr(question + 1);
  const auto parts = split_path(path);
  if (parts.empty() || !market_roots().contains(parts[0])) return std::nullopt;
  const std::string& root = parts[0];
  const std::size_t n = parts.size();
  const auto usage = [&](const std::string& shape) { return bad_request("expected GET " + shape); };

  // Which query parameters each endpoint takes.
  std::set<std::string> allowed;
  if (root == "book") {
    allowed = {"levels"};
  } else if (root == "trades") {
    allowed = {"limit", "before"};
  } else if (root == "orders" || root == "listings") {
    allowed = {"limit", "open"};
  } else if (root == "auctions" || root == "alerts" ||
             (root == "market" && n >= 2 && (parts[1] == "products" || n == 3))) {
    allowed = {"limit"};
  }
  auto params = rpcq::parse_query(query, allowed);
  if (!params) return from_status(params.status());
  auto limit_value =
      rpcq::number_param(*params, "limit", 1, q::kMaxQueryLimit, q::kDefaultQueryLimit);
  if (!limit_value) return from_status(limit_value.status());
  const auto limit = static_cast<std::size_t>(*limit_value);

  const auto& state = static_cast<const contracts::StateStore&>(read_state_);
  const contracts::Ledger ledger(state);
  // The height the answer is about (read before the state; blocks only add to it).
  const consensus::Height height = executed_height_.load();

  if (root == "market") {
    if (n == 1) {
      auto record = q::market_params(ledger);
      if (!record) return from_status(record.status());
      auto market_state = q::market_state(ledger);
      if (!market_state) return from_status(market_state.status());
      auto money = q::money_supply(ledger);
      if (!money) return from_status(money.status());
      auto clock = q::clock(ledger);
      if (!clock) return from_status(clock.status());
      json out = render::market_params_record_json(*record);
      out["state"] = render::market_state_json(*market_state);
      out["money"] = render::money_supply_json(*money);
      // Orders are accepted while a day is open and the block time is inside a session; the
      // next block's time is not known, so this is as of the last block.
      out["last_block_ms"] = clock->time_ms;
      out["in_session_at_last_block"] = in_session(record->params, clock->time_ms);
      out["trading_at_last_block"] =
          market_state->day_open != 0 && in_session(record->params, clock->time_ms);
      return ok(out, height);
    }
    if (n == 2 && parts[1] == "products") {
      auto page = q::listed_products(ledger, limit);
      if (!page) return from_status(page.status());
      return ok({{"products", list_json(*page, render::product_market_json)}, {"more", page->more}},
                height);
    }
    if (n > 3 || (n == 3 && parts[2] != "days"))
      return usage("/market, /market/products, /market/{product} or /market/{product}/days");
    auto product = parse_product(parts[1]);
    if (!product) return from_status(product.status());
    if (n == 2) {
      auto view = q::market(ledger, *product);
      if (!view) return from_status(view.status());
      return ok(render::market_view_json(*view), height);
    }
    auto page = q::days(ledger, *product, limit);
    if (!page) return from_status(page.status());
    return ok({{"product", product->code()},
               {"days", list_json(*page, render::day_stats_json)},
               {"more", page->more}},
              height);
  }
  if (root == "book" || root == "trades" || root == "stabilisation") {
    if (n != 2) return usage("/" + root + "/{product}");
    auto product = parse_product(parts[1]);
    if (!product) return from_status(product.status());
    if (root == "book") {
      auto levels = rpcq::number_param(*params, "levels", 1, kMaxBookLevels, kDefaultBookLevels);
      if (!levels) return from_status(levels.status());
      auto book = q::book(ledger, *product, static_cast<std::size_t>(*levels));
      if (!book) return from_status(book.status());
      return ok(render::book_json(*product, *book), height);
    }
    if (root == "trades") {
      std::uint64_t before = 0;
      if (auto it = params->find("before"); it != params->end()) {
        auto id = parse_number<std::uint64_t>(it->second);
        if (!id) return bad_request("before is a trade id, not '" + it->second + "'");
        before = *id;
      }
      auto page = q::trades(ledger, *product, limit, before);
      if (!page) return from_status(page.status());
      return ok({{"product", product->code()},
                 {"trades", list_json(*page, render::trade_json)},
                 {"more", page->more}},
                height);
    }
    // stabilisation: the trigger (if ever raised) and the band-hit count it is computed from.
    auto trigger = q::stabilisation(ledger, *product);
    if (!trigger) return from_status(trigger.status());
    auto view = q::market(ledger, *product);
    if (!view) return from_status(view.status());
    auto record = q::market_params(ledger);
    if (!record) return from_status(record.status());
    contracts::StabilisationTrigger shown;
    shown.product = *product;
    const std::uint32_t window = std::min<std::uint32_t>(record->params.band_window_days, 64);
    const std::uint64_t mask = window >= 64 ? ~std::uint64_t{0} : (std::uint64_t{1} << window) - 1;
    const auto hits = static_cast<std::uint32_t>(std::popcount(view->market.band_hit_days & mask));
    if (*trigger) {
      shown = **trigger;
    } else {  // never raised: the count as it stands
      shown.band_hits = hits;
      shown.window_days = record->params.band_window_days;
    }
    json out = render::stabilisation_json(shown);
    out["recorded"] = trigger->has_value();
    out["band_hits_in_window"] = hits;
    out["band_window_days"] = record->params.band_window_days;
    out["band_hits_trigger"] = record->params.band_hits_trigger;
    out["days_closed"] = view->market.days_closed;
    return ok(out, height);
  }
  if (root == "order" || root == "listing" || root == "auction") {
    if (n != 2) return usage("/" + root + "/{id}");
    auto id = parse_number<std::uint64_t>(parts[1]);
    if (!id) return bad_request("an " + root + " id is a number, not '" + parts[1] + "'");
    if (root == "order") {
      auto order = q::order(ledger, *id);
      if (!order) return from_status(order.status());
      return ok(render::order_json(*order), height);
    }
    if (root == "listing") {
      auto listing = q::listing(ledger, *id);
      if (!listing) return from_status(listing.status());
      return ok(render::listing_json(*listing), height);
    }
    auto view = q::auction(ledger, *id);
    if (!view) return from_status(view.status());
    return ok(render::auction_view_json(*view), height);
  }
  if (root == "orders" || root == "funds") {
    if (n != 2) return usage("/" + root + "/{owner}");
    auto owner = parse_address(parts[1]);
    if (!owner) return from_status(owner.status());
    if (root == "funds") {
      auto funds = q::funds(ledger, *owner);
      if (!funds) return from_status(funds.status());
      return ok(render::funds_json(*owner, *funds), height);
    }
    auto open_only = rpcq::flag_param(*params, "open", false);
    if (!open_only) return from_status(open_only.status());
    auto page = q::orders(ledger, *owner, *open_only, limit);
    if (!page) return from_status(page.status());
    return ok({{"owner", owner->to_hex()},
               {"open_only", *open_only},
               {"orders", list_json(*page, render::order_json)},
               {"more", page->more}},
              height);
  }
  if (root == "money") {
    if (n != 1) return usage("/money");
    auto money = q::money_supply(ledger);
    if (!money) return from_status(money.status());
    return ok(render::money_supply_json(*money), height);
  }
  if (root == "listings") {
    if (n != 1) return usage("/listings");
    auto open_only = rpcq::flag_param(*params, "open", false);
    if (!open_only) return from_status(open_only.status());
    auto page = q::listings(ledger, *open_only, limit);
    if (!page) return from_status(page.status());
    return ok({{"open_only", *open_only},
               {"listings", list_json(*page, render::listing_json)},
               {"more", page->more}},
              height);
  }
  if (root == "auctions") {
    if (n != 1) return usage("/auctions");
    auto page = q::auctions(ledger, limit);
    if (!page) return from_status(page.status());
    return ok({{"auctions", list_json(*page, render::auction_json)}, {"more", page->more}}, height);
  }
  if (root == "alerts") {
    if (n != 1) return usage("/alerts");
    auto page = q::alerts(ledger, limit);
    if (!page) return from_status(page.status());
    return ok({{"alerts", list_json(*page, render::alert_json)}, {"more", page->more}}, height);
  }
  // mandate, locks: /{key}/{product}
  if (n != 3)
    return usage("/" + root + (root == "mandate" ? "/{reserve}/{product}" : "/{owner}/{product}"));
  auto key = parse_address(parts[1]);
  if (!key) return from_status(key.status());
  auto product = parse_product(parts[2]);
  if (!product) return from_status(product.status());
  if (root == "mandate") {
    auto mandate = q::mandate(ledger, *key, *product);
    if (!mandate) return from_status(mandate.status());
    return ok(render::mandate_json(*key, *product, *mandate), height);
  }
  auto locks = q::unit_locks(ledger, *key, *product);
  if (!locks) return from_status(locks.status());
  return ok(render::unit_locks_json(*key, *product, *locks), height);
}

}  // namespace carbon::node
