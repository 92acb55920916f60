#include "wallet/market_cli.h"

#include <cstdio>
#include <ctime>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <sstream>

#include "contracts/calls.h"
#include "contracts/market_calls.h"
#include "core/hash.h"
#include "wallet/amounts.h"

namespace carbon::wallet::cli {

namespace c = carbon::contracts;

namespace {

constexpr std::uint32_t kMaxListLimit = 1000;
constexpr std::uint64_t kBeijingOffsetSeconds = 8 * 3600;

std::uint64_t u64(const json& doc, const char* field) { return doc.value(field, std::uint64_t{0}); }

std::string beijing_time(std::uint64_t ms) {
  if (ms == 0) return "-";
  const auto seconds = static_cast<std::time_t>(ms / 1000 + kBeijingOffsetSeconds);
  std::tm t{};
  gmtime_r(&seconds, &t);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%d %H:%M:%S", &t);
  return text;
}

// 20261125 -> "2026-11-25".
std::string date_text(std::uint64_t yyyymmdd) {
  if (yyyymmdd == 0) return "-";
  char text[64];
  std::snprintf(text, sizeof text, "%04llu-%02llu-%02llu",
                static_cast<unsigned long long>(yyyymmdd / 10000),
                static_cast<unsigned long long>(yyyymmdd / 100 % 100),
                static_cast<unsigned long long>(yyyymmdd % 100));
  return text;
}

// A price or "-" for none (0).
std::string price_or_dash(std::uint64_t fen) { return fen == 0 ? "-" : yuan_grouped(fen); }

c::MarketParams params_from_json(const json& p) {
  c::MarketParams out;
  out.band_bp = p.value("band_bp", out.band_bp);
  out.block_band_bp = p.value("block_band_bp", out.block_band_bp);
  out.block_min_t = p.value("block_min_t", out.block_min_t);
  out.fee_bp = p.value("fee_bp", out.fee_bp);
  out.fixed_seller_fee_bp = p.value("fixed_seller_fee_bp", out.fixed_seller_fee_bp);
  out.fixed_buyer_fee_bp = p.value("fixed_buyer_fee_bp", out.fixed_buyer_fee_bp);
  out.auction_fee_bp = p.value("auction_fee_bp", out.auction_fee_bp);
  out.position_limit_t = p.value("position_limit_t", out.position_limit_t);
  out.band_hits_trigger = p.value("band_hits_trigger", out.band_hits_trigger);
  out.band_window_days = p.value("band_window_days", out.band_window_days);
  if (p.contains("sessions")) {
    out.sessions.clear();
    for (const auto& s : p["sessions"]) {
      out.sessions.push_back(
          {s.value("start_min", std::uint32_t{0}), s.value("end_min", std::uint32_t{0})});
    }
  }
  return out;
}

std::string sessions_text(const json& sessions) {
  std::string out;
  for (const auto& s : sessions) {
    out += (out.empty() ? "" : ", ") + clock_text(s.value("start_min", 0u)) + "-" +
           clock_text(s.value("end_min", 0u));
  }
  if (sessions.size() == 1 && sessions[0].value("start_min", 1u) == 0 &&
      sessions[0].value("end_min", 0u) == c::kMinutesPerDay) {
    out += " (all day)";
  }
  return out.empty() ? "none" : out;
}

}  // namespace

// ---- the commands ---------------------------------------------------------------------------

struct MarketCommands::State {
  const Options& options;

  // Shared option values (each command reads the ones it declared).
  std::string from, account, product, bank_ref, buyer, buyer_key, seller, seller_key, side_text,
      sessions;
  std::string amount_yuan, amount_fen, price_yuan, price_fen;
  std::string account_a, account_b, reserve;
  std::string close_at;
  std::uint64_t quantity = 0, id = 0, before = 0, close_in_seconds = 0;
  std::uint32_t levels = 10, limit = 100, restricted_year = 0;
  bool gtc = false, intervention = false, open_only = false, all_day = false;
  // market params set: each field as text ("" = keep the value in force).
  std::map<std::string, std::string> param_text;

  CLI::App* deposit = nullptr;
  CLI::App* withdraw = nullptr;
  CLI::App* params_set = nullptr;
  CLI::App* params_show = nullptr;
  CLI::App* list_product = nullptr;
  CLI::App* open_day = nullptr;
  CLI::App* close_day = nullptr;
  CLI::App* halt = nullptr;
  CLI::App* resume = nullptr;
  CLI::App* market_show = nullptr;
  CLI::App* market_days = nullptr;
  CLI::App* order_buy = nullptr;
  CLI::App* order_sell = nullptr;
  CLI::App* order_cancel = nullptr;
  CLI::App* order_show = nullptr;
  CLI::App* orders = nullptr;
  CLI::App* trades = nullptr;
  CLI::App* book = nullptr;
  CLI::App* funds = nullptr;
  CLI::App* money = nullptr;
  CLI::App* locks = nullptr;
  CLI::App* listing_create = nullptr;
  CLI::App* listing_take = nullptr;
  CLI::App* listing_cancel = nullptr;
  CLI::App* listing_show = nullptr;
  CLI::App* listings = nullptr;
  CLI::App* block_trade = nullptr;
  CLI::App* auction_create = nullptr;
  CLI::App* auction_bid = nullptr;
  CLI::App* auction_clear = nullptr;
  CLI::App* auction_show = nullptr;
  CLI::App* auctions = nullptr;
  CLI::App* alerts = nullptr;
  CLI::App* stabilisation = nullptr;
  CLI::App* related_set = nullptr;
  CLI::App* related_unset = nullptr;
  CLI::App* reserve_instruct = nullptr;
  CLI::App* reserve_mandate = nullptr;

  // Participants' names by address, for human output (loaded once).
  std::map<std::string, std::string> names;
  bool names_loaded = false;

  explicit State(const Options& opts) : options(opts) {}

  [[noreturn]] void usage_error(const std::string& message) const {
    fail(options, kExitUsage, message);
  }
  json get(const std::string& target) const { return call_node(options, "GET", target); }
  // The record a committed create call made: the entry of list `field` at `target` created at
  // the transaction's height that `matches` (the last one if several); null if none.
  template <class Matches>
  json find_created(const std::string& target, const char* field, const json& record,
                    Matches matches) const {
    json found;
    const json doc = get(target);  // kept alive for the loop
    for (const auto& entry : doc[field]) {
      if (u64(entry, "created_height") == u64(record, "height") && matches(entry)) found = entry;
    }
    return found;
  }
  core::PublicKey addr(const std::string& text) const { return resolve_address(options, text); }
  c::ProductId product_id() const { return parse_product(options, product); }

  std::string who(const std::string& hex) {
    if (!names_loaded) {
      names_loaded = true;
      const json doc = get("/participants?limit=" + std::to_string(kMaxListLimit));
      for (const auto& p : doc.value("participants", json::array()))
        names[p.value("address", "")] = p.value("name", "");
    }
    auto it = names.find(hex);
    return it != names.end() && !it->second.empty() ? it->second : hex.substr(0, 16);
  }

  // Exactly one of --<name>-yuan and --<name>-fen; non-zero.
  std::uint64_t money_arg(const std::string& name, const std::string& yuan,
                          const std::string& fen) const {
    if (yuan.empty() == fen.empty())
      usage_error("give exactly one of --" + name + "-yuan and --" + name + "-fen");
    if (!yuan.empty()) {
      auto value = parse_fixed2(yuan);
      if (!value) {
        usage_error(
            "--" + name +
            "-yuan must be an amount in yuan with at most two decimals (e.g. 20 or 20.05), not '" +
            yuan + "'");
      }
      if (*value == 0) usage_error("--" + name + "-yuan must be at least 0.01");
      return *value;
    }
    if (fen.find_first_not_of("0123456789") != std::string::npos || fen.size() > 19) {
      usage_error("--" + name + "-fen must be a whole number of fen, not '" + fen + "'");
    }
    const std::uint64_t value = std::strtoull(fen.c_str(), nullptr, 10);
    if (value == 0) usage_error("--" + name + "-fen must be at least 1");
    return value;
  }
  std::uint64_t price() const { return money_arg("price", price_yuan, price_fen); }
  std::uint64_t quantity_arg() const {
    if (quantity == 0) usage_error("--quantity must be at least 1 t");
    return quantity;
  }

  // Without --wait: prints the transaction id. With --wait: follows it; a failed receipt is
  // printed and exits 1, a committed one goes to `done` (which prints what it made).
  int follow(const std::string& tx_id, const std::function<int(const json& record)>& done) const {
    if (!options.wait) {
      if (options.json_output) {
        std::cout << json{{"tx_id", tx_id}, {"status", "pending"}}.dump() << std::endl;
      } else {
        std::cout << "submitted " << tx_id << std::endl;
      }
      return 0;
    }
    const json record = wait_committed(options, tx_id);
    if (!record.value("receipt", json::object()).value("ok", false)) {
      print_receipt(options, record);
      return kExitFailed;
    }
    return done(record);
  }
  // The committed line, or with --json the record plus `extra`.
  void print_committed(const json& record, const json& extra = json::object()) const {
    if (options.json_output) {
      json out = {{"tx_id", record.value("tx_id", "")},
                  {"height", record.value("height", 0)},
                  {"receipt", record.value("receipt", json::object())}};
      for (const auto& [key, value] : extra.items()) out[key] = value;
      std::cout << out.dump() << std::endl;
    } else {
      print_receipt(options, record);
    }
  }

  // ---- funds ----------------------------------------------------------------------------------

  int bank_movement(bool is_deposit) {
    const core::PublicKey to = addr(account);
    const std::uint64_t amount = money_arg("amount", amount_yuan, amount_fen);
    if (bank_ref.empty()) usage_error("--bank-ref must name the bank's record of the movement");
    const core::Hash256 ref = core::sha3_256(
        core::ByteView(reinterpret_cast<const std::uint8_t*>(bank_ref.data()), bank_ref.size()));
    c::Call call;
    if (is_deposit) {
      call = c::Deposit{to, amount, ref};
    } else {
      call = c::Withdraw{to, amount, ref};
    }
    return follow(send(options, from, std::move(call)), [&](const json& record) {
      const json f = get("/funds/" + to.to_hex());
      print_committed(record, {{"bank_ref", ref.to_hex()}, {"funds", f}});
      if (!options.json_output) {
        std::cout << (is_deposit ? "deposited " : "withdrew ") << yuan_grouped(amount) << " yuan "
                  << (is_deposit ? "to " : "from ") << who(to.to_hex()) << " (bank ref "
                  << ref.to_hex().substr(0, 16) << "...); available "
                  << yuan_grouped(u64(f, "available_fen")) << " yuan, locked "
                  << yuan_grouped(u64(f, "locked_fen")) << " yuan" << std::endl;
      }
      return 0;
    });
  }

  void print_funds_line(const std::string& hex) {
    const json f = get("/funds/" + hex);
    std::printf("%-28s available %20s  locked %18s  total %20s yuan\n",
                who(hex).substr(0, 28).c_str(), yuan_grouped(u64(f, "available_fen")).c_str(),
                yuan_grouped(u64(f, "locked_fen")).c_str(),
                yuan_grouped(u64(f, "total_fen")).c_str());
  }

  // The accounts a query is about: --account, or every key in the keystore that is a
  // registered participant.
  std::vector<std::string> accounts_in_scope() {
    if (!account.empty()) return {addr(account).to_hex()};
    who("");  // loads the participants
    std::vector<std::string> out;
    for (const auto& name : key_names(options)) {
      const std::string hex = addr(name).to_hex();
      if (names.contains(hex)) out.push_back(hex);
    }
    if (out.empty())
      usage_error("no key in " + keystore_dir(options).string() +
                  " is a registered participant; give --account");
    return out;
  }

  int show_funds() {
    const auto accounts = accounts_in_scope();
    const json money_doc = get("/money");
    if (options.json_output) {
      json list = json::array();
      for (const auto& hex : accounts) list.push_back(get("/funds/" + hex));
      std::cout << json{{"funds", list}, {"money", money_doc}}.dump() << std::endl;
      return 0;
    }
    for (const auto& hex : accounts) print_funds_line(hex);
    std::cout << "money supply: deposited " << yuan_grouped(u64(money_doc, "deposited_fen"))
              << " yuan, withdrawn " << yuan_grouped(u64(money_doc, "withdrawn_fen"))
              << " yuan, outstanding " << yuan_grouped(u64(money_doc, "outstanding_fen")) << " yuan"
              << std::endl;
    return 0;
  }

  int show_money() {
    const json doc = get("/money");
    if (print_json(options, doc)) return 0;
    std::cout << "deposited   " << yuan_grouped(u64(doc, "deposited_fen")) << " yuan\n"
              << "withdrawn   " << yuan_grouped(u64(doc, "withdrawn_fen")) << " yuan\n"
              << "outstanding " << yuan_grouped(u64(doc, "outstanding_fen"))
              << " yuan (the sum of every fund account)" << std::endl;
    return 0;
  }

  int show_locks() {
    const json doc = get("/locks/" + addr(account).to_hex() + "/" + product_id().code());
    if (print_json(options, doc)) return 0;
    std::cout << who(doc.value("owner", "")) << " " << doc.value("product", "") << ": "
              << grouped(u64(doc, "sell_locked_t")) << " t locked for sale, "
              << grouped(u64(doc, "buy_open_t")) << " t in open buy orders" << std::endl;
    return 0;
  }

  // ---- the exchange's controls ------------------------------------------------------------

  int set_params() {
    const json current = get("/market");
    c::MarketParams params = params_from_json(current["params"]);
    const auto bp_field = [&](const std::string& name, std::uint32_t& into) {
      const std::string& pct = param_text[name + "-pct"];
      const std::string& bp = param_text[name + "-bp"];
      if (!pct.empty() && !bp.empty())
        usage_error("give --" + name + "-pct or --" + name + "-bp, not both");
      if (!pct.empty()) {
        auto value = parse_fixed2(pct);  // hundredths of a percent are basis points
        if (!value || *value > c::kBasisPoints) {
          usage_error("--" + name +
                      "-pct must be a percentage 0..100 with at most two decimals, not '" + pct +
                      "'");
        }
        into = static_cast<std::uint32_t>(*value);
      }
      if (!bp.empty()) {
        if (bp.find_first_not_of("0123456789") != std::string::npos || bp.size() > 5 ||
            std::strtoull(bp.c_str(), nullptr, 10) > c::kBasisPoints) {
          usage_error("--" + name + "-bp must be a whole number of basis points 0..10000, not '" +
                      bp + "'");
        }
        into = static_cast<std::uint32_t>(std::strtoull(bp.c_str(), nullptr, 10));
      }
    };
    const auto count_field = [&](const std::string& name, auto& into) {
      const std::string& text = param_text[name];
      if (text.empty()) return;
      using T = std::decay_t<decltype(into)>;
      if (text.find_first_not_of("0123456789") != std::string::npos || text.size() > 19 ||
          std::strtoull(text.c_str(), nullptr, 10) > std::numeric_limits<T>::max()) {
        usage_error("--" + name + " must be a whole number, not '" + text + "'");
      }
      into = static_cast<T>(std::strtoull(text.c_str(), nullptr, 10));
    };
    bp_field("band", params.band_bp);
    bp_field("block-band", params.block_band_bp);
    bp_field("fee", params.fee_bp);
    bp_field("fixed-seller-fee", params.fixed_seller_fee_bp);
    bp_field("fixed-buyer-fee", params.fixed_buyer_fee_bp);
    bp_field("auction-fee", params.auction_fee_bp);
    count_field("block-min-t", params.block_min_t);
    count_field("position-limit-t", params.position_limit_t);
    count_field("band-hits-trigger", params.band_hits_trigger);
    count_field("band-window-days", params.band_window_days);
    if (all_day && !sessions.empty()) usage_error("give --sessions or --all-day, not both");
    if (all_day) params.sessions = {{0, c::kMinutesPerDay}};
    if (!sessions.empty()) {
      auto parsed = parse_sessions(sessions);
      if (!parsed)
        usage_error("--sessions is a list like 09:30-11:30,13:00-15:00 (Beijing time), not '" +
                    sessions + "'");
      params.sessions.clear();
      for (const auto& [start, end] : *parsed) params.sessions.push_back({start, end});
    }
    if (auto valid = c::validate_market_params(params); !valid.is_ok())
      usage_error(valid.message());
    return follow(send(options, from, c::SetMarketParams{params}), [&](const json& record) {
      if (options.json_output) {
        print_committed(record, {{"market", get("/market")}});
        return 0;
      }
      print_receipt(options, record);
      return show_params();
    });
  }

  int show_params() {
    const json doc = get("/market");
    if (print_json(options, doc)) return 0;
    const json& p = doc["params"];
    const std::uint64_t version = u64(doc, "version");
    std::cout << "market parameters, version " << version;
    if (version == 0) {
      std::cout << " (the defaults; the exchange has not set them, so trading is not open yet)"
                << std::endl;
    } else {
      std::cout << ", in force since height " << u64(doc, "effective_height") << " ("
                << beijing_time(u64(doc, "effective_ms")) << " Beijing time); fees to "
                << who(doc.value("fee_account", "")) << std::endl;
    }
    std::cout << "  daily band               +/- " << percent_text(u64(p, "band_bp"))
              << " of the previous close\n"
              << "  block trades             +/- " << percent_text(u64(p, "block_band_bp"))
              << ", at least " << grouped(u64(p, "block_min_t")) << " t\n"
              << "  fee (continuous, block)  " << percent_text(u64(p, "fee_bp")) << " a side\n"
              << "  fixed-price transfer     seller " << percent_text(u64(p, "fixed_seller_fee_bp"))
              << ", buyer " << percent_text(u64(p, "fixed_buyer_fee_bp")) << "\n"
              << "  auction (buyer)          " << percent_text(u64(p, "auction_fee_bp")) << "\n"
              << "  position limit           "
              << (u64(p, "position_limit_t") == 0 ? std::string("none")
                                                  : grouped(u64(p, "position_limit_t")) + " t")
              << "\n"
              << "  stabilisation trigger    " << u64(p, "band_hits_trigger")
              << " band-hit days within " << u64(p, "band_window_days") << " trading days\n"
              << "  sessions                 " << sessions_text(p["sessions"]) << " Beijing time"
              << std::endl;
    const json& s = doc["state"];
    std::cout << "trading day " << u64(s, "day_index") << " (" << date_text(u64(s, "day_date"))
              << "): " << (s.value("day_open", false) ? "open" : "closed")
              << (doc.value("trading_at_last_block", false) ? ", in session at the last block" : "")
              << std::endl;
    return 0;
  }

  int exchange_call(c::Call call) {
    return follow(send(options, from, std::move(call)), [&](const json& record) {
      print_committed(record);
      return 0;
    });
  }

  int list_product_call() {
    const c::ProductId p = product_id();
    const std::uint64_t reference = money_arg("reference-price", price_yuan, price_fen);
    return exchange_call(c::ListProduct{p, reference});
  }

  int day_call(bool open) {
    return follow(send(options, from, open ? c::Call{c::OpenDay{}} : c::Call{c::CloseDay{}}),
                  [&](const json& record) {
                    const json doc = get("/market");
                    print_committed(record, {{"market", doc}});
                    if (!options.json_output) {
                      const json& s = doc["state"];
                      std::cout << "trading day " << u64(s, "day_index") << " ("
                                << date_text(u64(s, "day_date")) << ") is "
                                << (s.value("day_open", false) ? "open" : "closed") << std::endl;
                    }
                    return 0;
                  });
  }

  // ---- market data --------------------------------------------------------------------------

  // One row of a day's figures: open, high, low, close, vwap, volume, value, trades.
  static std::string day_row(const json& d) {
    char line[256];
    std::snprintf(
        line, sizeof line, "%10s %10s %10s %10s %10s %14s %18s %7llu",
        price_or_dash(u64(d, "open_fen")).c_str(), price_or_dash(u64(d, "high_fen")).c_str(),
        price_or_dash(u64(d, "low_fen")).c_str(), price_or_dash(u64(d, "close_fen")).c_str(),
        price_or_dash(u64(d, "vwap_fen")).c_str(), grouped(u64(d, "volume_t")).c_str(),
        yuan_grouped(u64(d, "value_fen")).c_str(),
        static_cast<unsigned long long>(u64(d, "trades")));
    return line;
  }
  static constexpr const char* kDayHeader =
      "      open       high        low      close       vwap       volume t         value yuan  "
      "trades";

  int show_market() {
    if (!product.empty()) return show_product();
    const json market = get("/market");
    const json list = get("/market/products?limit=" + std::to_string(kMaxListLimit));
    json views = json::array();
    for (const auto& p : list.value("products", json::array())) {
      json view = get("/market/" + p.value("product", ""));
      if (view["today"].is_null()) {
        // No open day with statistics: show the last closed day's figures instead.
        const json days = get("/market/" + p.value("product", "") + "/days?limit=1");
        if (!days["days"].empty()) view["last_day"] = days["days"][0];
      }
      views.push_back(view);
    }
    if (print_json(
            options,
            json{{"market", market}, {"products", views}, {"height", list.value("height", 0)}}))
      return 0;
    const json& s = market["state"];
    std::cout << "trading day " << u64(s, "day_index") << " (" << date_text(u64(s, "day_date"))
              << "): " << (s.value("day_open", false) ? "open" : "closed") << "; " << views.size()
              << " listed product" << (views.size() == 1 ? "" : "s") << std::endl;
    if (views.empty()) return 0;
    std::printf("%-14s %10s %21s %10s  %s  %s\n", "product", "prev close", "band", "last",
                kDayHeader, "day");
    for (const auto& v : views) {
      const json& d = v["today"].is_null() ? v.value("last_day", json::object()) : v["today"];
      std::string day =
          d.empty() ? "-" : date_text(u64(d, "date")) + (d.value("closed", false) ? " closed" : "");
      if (v.value("halted", false)) day += " HALTED";
      if (v.value("trigger_raised", false)) day += " TRIGGER";
      std::printf("%-14s %10s %10s-%-10s %10s  %s  %s\n", v.value("product", "").c_str(),
                  price_or_dash(u64(v, "prev_close_fen")).c_str(),
                  yuan_grouped(u64(v, "band_low_fen")).c_str(),
                  yuan_grouped(u64(v, "band_high_fen")).c_str(),
                  price_or_dash(u64(v, "last_price_fen")).c_str(),
                  d.empty() ? "" : day_row(d).c_str(), day.c_str());
    }
    std::cout << "(prices in yuan per tonne; OHLC and VWAP of continuous trades)" << std::endl;
    return 0;
  }

  int show_product() {
    const std::string code = product_id().code();
    const json v = get("/market/" + code);
    if (print_json(options, v)) return 0;
    std::cout << code << (v.value("halted", false) ? "  HALTED" : "") << "\n"
              << "  reference price   " << yuan_grouped(u64(v, "reference_price_fen")) << " yuan\n"
              << "  previous close    " << yuan_grouped(u64(v, "prev_close_fen")) << " yuan ("
              << u64(v, "days_closed") << " trading days closed)\n"
              << "  band              " << yuan_grouped(u64(v, "band_low_fen")) << " - "
              << yuan_grouped(u64(v, "band_high_fen")) << " yuan\n"
              << "  last trade        ";
    if (u64(v, "last_trade_id") == 0) {
      std::cout << "none\n";
    } else {
      std::cout << yuan_grouped(u64(v, "last_price_fen")) << " yuan (trade "
                << u64(v, "last_trade_id") << ", " << beijing_time(u64(v, "last_trade_ms"))
                << ")\n";
    }
    std::cout << "  stabilisation     "
              << (v.value("trigger_raised", false) ? "TRIGGER RAISED" : "not raised") << "\n";
    if (v["today"].is_null()) {
      std::cout << "  today             no open trading day with statistics" << std::endl;
      return 0;
    }
    const json& d = v["today"];
    std::cout << (d.value("closed", false) ? "  last trading day (day " : "  today (day ")
              << u64(d, "day_index") << ", " << date_text(u64(d, "date"))
              << (d.value("closed", false) ? ", closed)" : ")")
              << (d.value("band_hit", false) ? " BAND HIT" : "") << "\n  " << kDayHeader << "\n  "
              << day_row(d) << "\n"
              << "  other trades (fixed-price, block, auction): "
              << grouped(u64(d, "other_volume_t")) << " t, "
              << yuan_grouped(u64(d, "other_value_fen")) << " yuan" << std::endl;
    return 0;
  }

  int show_days() {
    const std::string code = product_id().code();
    const json doc = get("/market/" + code + "/days?limit=" + std::to_string(limit));
    if (print_json(options, doc)) return 0;
    if (doc["days"].empty()) {
      std::cout << "no trading days of " << code << " yet" << std::endl;
      return 0;
    }
    std::printf("%-4s %-10s %10s  %s  %14s  %s\n", "day", "date", "prev close", kDayHeader,
                "other vol t", "");
    for (const auto& d : doc["days"]) {
      std::string flags = d.value("closed", false) ? "closed" : "open";
      if (d.value("band_hit", false)) flags += ", band hit";
      std::printf("%-4llu %-10s %10s  %s  %14s  %s\n",
                  static_cast<unsigned long long>(u64(d, "day_index")),
                  date_text(u64(d, "date")).c_str(), yuan_grouped(u64(d, "prev_close_fen")).c_str(),
                  day_row(d).c_str(), grouped(u64(d, "other_volume_t")).c_str(), flags.c_str());
    }
    if (doc.value("more", false)) std::cout << "(more days: raise --limit)" << std::endl;
    return 0;
  }

  int show_book() {
    const std::string code = product_id().code();
    const json doc = get("/book/" + code + "?levels=" + std::to_string(levels));
    if (print_json(options, doc)) return 0;
    const json& asks = doc["asks"];
    const json& bids = doc["bids"];
    std::cout << code << " order book (best " << levels << " levels a side; yuan per tonne)"
              << std::endl;
    std::printf("        %14s %16s %7s\n", "price", "quantity t", "orders");
    for (auto it = asks.rbegin(); it != asks.rend(); ++it) {
      std::printf("  ask   %14s %16s %7llu\n", yuan_grouped(u64(*it, "price_fen")).c_str(),
                  grouped(u64(*it, "quantity_t")).c_str(),
                  static_cast<unsigned long long>(u64(*it, "orders")));
    }
    if (!asks.empty() && !bids.empty()) {
      std::cout << "  ----- spread "
                << yuan_grouped(u64(asks[0], "price_fen") - u64(bids[0], "price_fen")) << " -----"
                << std::endl;
    } else {
      std::cout << "  -----" << std::endl;
    }
    for (const auto& level : bids) {
      std::printf("  bid   %14s %16s %7llu\n", yuan_grouped(u64(level, "price_fen")).c_str(),
                  grouped(u64(level, "quantity_t")).c_str(),
                  static_cast<unsigned long long>(u64(level, "orders")));
    }
    if (asks.empty() && bids.empty()) std::cout << "  (empty)" << std::endl;
    return 0;
  }

  void print_trade(const json& t) {
    std::printf("%6llu %-19s %-11s %12s t at %10s = %18s yuan  %s <- %s%s\n",
                static_cast<unsigned long long>(u64(t, "id")),
                beijing_time(u64(t, "time_ms")).c_str(), t.value("kind", "").c_str(),
                grouped(u64(t, "quantity_t")).c_str(), yuan_grouped(u64(t, "price_fen")).c_str(),
                yuan_grouped(u64(t, "value_fen")).c_str(), who(t.value("buyer", "")).c_str(),
                who(t.value("seller", "")).c_str(), t.value("related", false) ? "  RELATED" : "");
  }

  int show_trades() {
    const std::string code = product_id().code();
    std::string target = "/trades/" + code + "?limit=" + std::to_string(limit);
    if (before != 0) target += "&before=" + std::to_string(before);
    const json doc = get(target);
    if (print_json(options, doc)) return 0;
    if (doc["trades"].empty()) {
      std::cout << "no trades of " << code << (before != 0 ? " before that id" : "") << std::endl;
      return 0;
    }
    std::printf("%6s %-19s %-11s %14s %13s %23s  %s\n", "trade", "time (Beijing)", "kind",
                "quantity", "price", "value", "buyer <- seller");
    for (const auto& t : doc["trades"]) print_trade(t);
    if (doc.value("more", false))
      std::cout << "(older trades: --before " << u64(doc["trades"].back(), "id") << ")"
                << std::endl;
    return 0;
  }

  int show_alerts() {
    const json doc = get("/alerts?limit=" + std::to_string(limit));
    if (print_json(options, doc)) return 0;
    if (doc["alerts"].empty()) std::cout << "no alerts" << std::endl;
    for (const auto& a : doc["alerts"]) {
      std::cout << "alert " << u64(a, "id") << " " << beijing_time(u64(a, "time_ms")) << " "
                << a.value("kind", "") << " " << a.value("product", "");
      if (a.contains("trade_id")) {
        std::cout << ": trade " << u64(a, "trade_id") << " between related accounts "
                  << who(a.value("buyer", "")) << " (buyer) and " << who(a.value("seller", ""))
                  << " (seller)";
      } else {
        std::cout << ": " << u64(a, "band_hits") << " band-hit days in the window";
      }
      std::cout << std::endl;
    }
    return 0;
  }

  int show_stabilisation() {
    const json doc = get("/stabilisation/" + product_id().code());
    if (print_json(options, doc)) return 0;
    std::cout << doc.value("product", "") << ": stabilisation trigger "
              << (doc.value("raised", false) ? "RAISED" : "not raised") << "; "
              << u64(doc, "band_hits_in_window") << " band-hit days within the last "
              << u64(doc, "band_window_days") << " trading days (trigger at "
              << u64(doc, "band_hits_trigger") << "; " << u64(doc, "days_closed")
              << " days closed)";
    if (doc.value("raised", false))
      std::cout << "; raised on day " << u64(doc, "raised_day") << " ("
                << beijing_time(u64(doc, "raised_ms")) << ")";
    std::cout << std::endl;
    return 0;
  }

  // ---- orders -------------------------------------------------------------------------------

  // "order 3: buy 2,500 t HBEA-2025 at 20.50 yuan (day): open, filled 1,000 t for 20,200.00
  // yuan, 1,500 t resting (30,903.75 yuan locked)".
  static std::string order_line(const json& o) {
    const std::string status = o.value("status", "");
    const std::string end = o.value("end", "");
    std::string line = "order " + std::to_string(u64(o, "id")) + ": " + o.value("side", "") + " " +
                       grouped(u64(o, "quantity_t")) + " t " + o.value("product", "") + " at " +
                       yuan_grouped(u64(o, "price_fen")) + " yuan (" +
                       (o.value("tif", "") == "gtc" ? std::string("GTC") : o.value("tif", "")) +
                       (o.value("intervention", false) ? ", intervention" : "") + "): " + status;
    if (!end.empty() && end != "none") line += " (" + end + ")";
    const std::uint64_t filled = u64(o, "filled_t");
    if (filled == 0) {
      line += status == "open" ? ", nothing filled yet" : ", nothing filled";
    } else {
      line += ", filled " + grouped(filled) + " t for " + yuan_grouped(u64(o, "filled_value_fen")) +
              " yuan";
    }
    if (status == "open") {
      line += ", " + grouped(u64(o, "remaining_t")) + " t resting";
      if (u64(o, "locked_fen") != 0)
        line += " (" + yuan_grouped(u64(o, "locked_fen")) + " yuan locked)";
    } else if (status != "filled" && u64(o, "remaining_t") != 0) {
      line += ", " + grouped(u64(o, "remaining_t")) + " t not filled";
    }
    return line;
  }

  int place_order(c::Side side) {
    c::PlaceOrder call;
    call.product = product_id();
    call.side = side;
    call.price_fen = price();
    call.quantity_t = quantity_arg();
    call.tif = gtc ? c::TimeInForce::kGoodTillCancelled : c::TimeInForce::kDay;
    call.intervention = intervention ? 1 : 0;
    const std::string side_text_name(c::side_name(side));
    return follow(send(options, from, call), [&](const json& record) {
      // The order this transaction placed: the sender's order of this block with these terms.
      const std::string sender = record.value("sender", "");
      const std::uint64_t height = u64(record, "height");
      json order;
      const json orders_doc = get("/orders/" + sender + "?limit=100");  // kept alive for the loop
      for (const auto& o : orders_doc["orders"]) {
        if (u64(o, "placed_height") == height && o.value("product", "") == call.product.code() &&
            o.value("side", "") == side_text_name && u64(o, "price_fen") == call.price_fen &&
            u64(o, "quantity_t") == call.quantity_t) {
          order = o;
          break;
        }
      }
      json fills = json::array();
      if (!order.is_null()) {
        const char* ref = side == c::Side::kBuy ? "buy_ref" : "sell_ref";
        const json trades_doc =
            get("/trades/" + call.product.code() + "?limit=1000");  // kept alive for the loop
        for (const auto& t : trades_doc["trades"]) {
          if (u64(t, "height") == height && u64(t, ref) == u64(order, "id")) fills.push_back(t);
        }
      }
      print_committed(record, {{"order", order}, {"trades", fills}});
      if (options.json_output) return 0;
      if (order.is_null()) {
        std::cout << "(the order is not among the sender's latest 100 orders)" << std::endl;
        return 0;
      }
      std::cout << order_line(order) << std::endl;
      for (auto it = fills.rbegin(); it != fills.rend(); ++it) {
        const json& t = *it;
        std::cout << "  trade " << u64(t, "id") << ": " << grouped(u64(t, "quantity_t")) << " t at "
                  << yuan_grouped(u64(t, "price_fen"))
                  << " yuan = " << yuan_grouped(u64(t, "value_fen")) << " yuan with "
                  << who(t.value(side == c::Side::kBuy ? "seller" : "buyer", "")) << " (fee "
                  << yuan_grouped(
                         u64(t, side == c::Side::kBuy ? "buyer_fee_fen" : "seller_fee_fen"))
                  << " yuan)" << std::endl;
      }
      return 0;
    });
  }

  int cancel_order() {
    return follow(send(options, from, c::CancelOrder{id}), [&](const json& record) {
      const json order = get("/order/" + std::to_string(id));
      print_committed(record, {{"order", order}});
      if (!options.json_output) std::cout << order_line(order) << std::endl;
      return 0;
    });
  }

  int show_order() {
    const json order = get("/order/" + std::to_string(id));
    if (print_json(options, order)) return 0;
    std::cout << order_line(order) << "\n  owner " << who(order.value("owner", ""))
              << ", placed at height " << u64(order, "placed_height") << " ("
              << beijing_time(u64(order, "placed_ms")) << "), trading day "
              << u64(order, "day_index") << std::endl;
    return 0;
  }

  int show_orders() {
    const auto accounts = accounts_in_scope();
    json all = json::array();
    for (const auto& hex : accounts) {
      all.push_back(
          get("/orders/" + hex + "?limit=" + std::to_string(limit) + (open_only ? "&open=1" : "")));
    }
    if (options.json_output) {
      std::cout << (all.size() == 1 ? all[0] : json{{"accounts", all}}).dump() << std::endl;
      return 0;
    }
    bool any = false;
    for (const auto& doc : all) {
      if (doc["orders"].empty()) continue;
      any = true;
      std::cout << who(doc.value("owner", "")) << ":" << std::endl;
      for (const auto& o : doc["orders"]) std::cout << "  " << order_line(o) << std::endl;
      if (doc.value("more", false)) std::cout << "  (more: raise --limit)" << std::endl;
    }
    if (!any) std::cout << (open_only ? "no open orders" : "no orders") << std::endl;
    return 0;
  }

  // ---- listings -----------------------------------------------------------------------------

  std::string listing_line(const json& l) {
    return "listing " + std::to_string(u64(l, "id")) + ": " + who(l.value("seller", "")) +
           " offers " + grouped(u64(l, "quantity_t")) + " t " + l.value("product", "") + " at " +
           yuan_grouped(u64(l, "price_fen")) + " yuan: " + l.value("status", "") + ", " +
           grouped(u64(l, "quantity_t") - u64(l, "remaining_t")) + " t sold, " +
           grouped(u64(l, "remaining_t")) + " t " +
           (l.value("status", "") == "open" ? "left" : "unsold");
  }

  int create_listing() {
    c::CreateListing call{product_id(), price(), quantity_arg()};
    return follow(send(options, from, call), [&](const json& record) {
      const json listing = find_created(
          "/listings?open=1&limit=" + std::to_string(kMaxListLimit), "listings", record,
          [&](const json& l) {
            return l.value("seller", "") == record.value("sender", "") &&
                   l.value("product", "") == call.product.code() &&
                   u64(l, "quantity_t") == call.quantity_t;
          });
      print_committed(record, {{"listing", listing}});
      if (!options.json_output && !listing.is_null())
        std::cout << listing_line(listing) << std::endl;
      return 0;
    });
  }

  int listing_call(c::Call call) {
    return follow(send(options, from, std::move(call)), [&](const json& record) {
      const json listing = get("/listing/" + std::to_string(id));
      print_committed(record, {{"listing", listing}});
      if (!options.json_output) std::cout << listing_line(listing) << std::endl;
      return 0;
    });
  }

  int show_listings(bool one) {
    const json doc =
        one ? get("/listing/" + std::to_string(id))
            : get("/listings?limit=" + std::to_string(limit) + (open_only ? "&open=1" : ""));
    if (print_json(options, doc)) return 0;
    const json list = one ? json::array({doc}) : doc["listings"];
    if (list.empty()) std::cout << (open_only ? "no open listings" : "no listings") << std::endl;
    for (const auto& l : list) std::cout << listing_line(l) << std::endl;
    return 0;
  }

  // ---- block trades -------------------------------------------------------------------------

  int block() {
    c::BlockTrade call;
    call.buyer = addr(buyer);
    call.product = product_id();
    call.quantity_t = quantity_arg();
    call.price_fen = price();
    std::string cosigner = buyer_key;
    if (cosigner.empty()) {
      if (!is_key_name(options, buyer)) {
        usage_error(
            "the buyer co-signs a block trade: give --buyer-key NAME (the buyer's key in the "
            "keystore)");
      }
      cosigner = buyer;
    }
    return follow(send(options, from, call, {cosigner}), [&](const json& record) {
      json trade;
      const json trades_doc =
          get("/trades/" + call.product.code() + "?limit=100");  // kept alive for the loop
      for (const auto& t : trades_doc["trades"]) {
        if (u64(t, "height") == u64(record, "height") && t.value("kind", "") == "block" &&
            t.value("seller", "") == record.value("sender", "") &&
            t.value("buyer", "") == call.buyer.to_hex()) {
          trade = t;
          break;
        }
      }
      print_committed(record, {{"trade", trade}});
      if (!options.json_output && !trade.is_null()) {
        std::cout << "block trade " << u64(trade, "id") << ": " << who(trade.value("seller", ""))
                  << " sold " << grouped(u64(trade, "quantity_t")) << " t "
                  << trade.value("product", "") << " to " << who(trade.value("buyer", "")) << " at "
                  << yuan_grouped(u64(trade, "price_fen"))
                  << " yuan = " << yuan_grouped(u64(trade, "value_fen")) << " yuan (fees "
                  << yuan_grouped(u64(trade, "buyer_fee_fen")) << " + "
                  << yuan_grouped(u64(trade, "seller_fee_fen")) << " yuan)" << std::endl;
      }
      return 0;
    });
  }

  // ---- auctions -----------------------------------------------------------------------------

  std::string auction_line(const json& a) {
    std::string line = "auction " + std::to_string(u64(a, "id")) + ": " +
                       who(a.value("seller", "")) + " offers " + grouped(u64(a, "quantity_t")) +
                       " t " + a.value("product", "") + ", reserve price " +
                       yuan_grouped(u64(a, "reserve_price_fen")) + " yuan, closes " +
                       beijing_time(u64(a, "close_ms")) + " Beijing time";
    if (u64(a, "restricted_year") != 0)
      line += ", restricted to enterprises short for " + std::to_string(u64(a, "restricted_year"));
    line += ": " + a.value("status", "") + ", " + std::to_string(u64(a, "bids")) + " bids for " +
            grouped(u64(a, "bid_quantity_t")) + " t";
    if (a.value("status", "") == "cleared") {
      line += "; sold " + grouped(u64(a, "sold_t")) + " t at " +
              price_or_dash(u64(a, "clearing_price_fen")) + " yuan";
    }
    return line;
  }

  int create_auction() {
    c::CreateAuction call;
    call.seller = addr(seller);
    call.product = product_id();
    call.quantity_t = quantity_arg();
    call.reserve_price_fen = money_arg("reserve-price", price_yuan, price_fen);
    if ((close_in_seconds != 0) == !close_at.empty())
      usage_error("give exactly one of --close-in-seconds and --close-at-ms");
    if (close_in_seconds != 0) {
      const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
      call.close_ms = static_cast<std::uint64_t>(now) + close_in_seconds * 1000;
    } else {
      call.close_ms = parse_time_ms(options, close_at);
    }
    if (restricted_year != 0)
      call.restricted_year = check_year(options, restricted_year, "--restricted-year");
    std::string cosigner = seller_key;
    if (cosigner.empty()) {
      if (!is_key_name(options, seller)) {
        usage_error(
            "the seller co-signs an auction: give --seller-key NAME (the seller's key in the "
            "keystore)");
      }
      cosigner = seller;
    }
    return follow(send(options, from, call, {cosigner}), [&](const json& record) {
      const json auction = find_created(
          "/auctions?limit=" + std::to_string(kMaxListLimit), "auctions", record,
          [&](const json& a) {
            return a.value("seller", "") == call.seller.to_hex() &&
                   u64(a, "quantity_t") == call.quantity_t;
          });
      print_committed(record, {{"auction", auction}});
      if (!options.json_output && !auction.is_null())
        std::cout << auction_line(auction) << std::endl;
      return 0;
    });
  }

  int auction_call(c::Call call) {
    return follow(send(options, from, std::move(call)), [&](const json& record) {
      const json view = get("/auction/" + std::to_string(id));
      print_committed(record, {{"auction", view}});
      if (!options.json_output) print_auction(view);
      return 0;
    });
  }

  void print_auction(const json& view) {
    std::cout << auction_line(view) << std::endl;
    if (view.value("bids_sealed", true)) {
      if (u64(view, "bids") != 0)
        std::cout << "  (bids are sealed until the clearing)" << std::endl;
      return;
    }
    for (const auto& bid : view.value("bid_list", json::array())) {
      std::cout << "  bid " << u64(bid, "seq") << " by " << who(bid.value("bidder", "")) << ": "
                << grouped(u64(bid, "quantity_t")) << " t at "
                << yuan_grouped(u64(bid, "price_fen")) << " yuan, filled "
                << grouped(u64(bid, "filled_t")) << " t" << std::endl;
    }
  }

  int show_auctions(bool one) {
    if (one) {
      const json view = get("/auction/" + std::to_string(id));
      if (print_json(options, view)) return 0;
      print_auction(view);
      return 0;
    }
    const json doc = get("/auctions?limit=" + std::to_string(limit));
    if (print_json(options, doc)) return 0;
    if (doc["auctions"].empty()) std::cout << "no auctions" << std::endl;
    for (const auto& a : doc["auctions"]) std::cout << auction_line(a) << std::endl;
    return 0;
  }

  // ---- authority acts of the market ---------------------------------------------------------

  int instruct_reserve() {
    c::InstructReserve act;
    act.reserve = addr(reserve);
    act.product = product_id();
    if (side_text == "sell") {
      act.side = c::Side::kSell;
    } else if (side_text == "buy") {
      act.side = c::Side::kBuy;
    } else {
      usage_error("--side is sell or buy, not '" + side_text + "'");
    }
    act.quantity_t = quantity_arg();
    return propose(options, from, act);
  }

  int show_mandate() {
    const json doc = get("/mandate/" + addr(reserve).to_hex() + "/" + product_id().code());
    if (print_json(options, doc)) return 0;
    std::cout << who(doc.value("reserve", "")) << " " << doc.value("product", "")
              << ": may still sell " << grouped(u64(doc, "sell_remaining_t")) << " t and buy "
              << grouped(u64(doc, "buy_remaining_t")) << " t in intervention orders" << std::endl;
    return 0;
  }
};

MarketCommands::MarketCommands(CLI::App& app, const Options& options)
    : state_(std::make_unique<State>(options)) {
  State& s = *state_;
  const auto add_from = [&](CLI::App* cmd, const std::string& who_signs) {
    cmd->add_option("--from", s.from, "signing key (" + who_signs + ")")->required();
  };
  const auto add_product = [&](CLI::App* cmd) {
    cmd->add_option("product", s.product, "HBEA-<vintage> or CCER-<project>-<vintage>")->required();
  };
  const auto add_price = [&](CLI::App* cmd, const std::string& name, const std::string& what) {
    cmd->add_option("--" + name + "-yuan", s.price_yuan,
                    what + ", yuan per tonne (at most 2 decimals)");
    cmd->add_option("--" + name + "-fen", s.price_fen, what + ", fen per tonne");
  };
  const auto add_quantity = [&](CLI::App* cmd) {
    cmd->add_option("--quantity", s.quantity, "tonnes")->required();
  };
  const auto add_limit = [&](CLI::App* cmd) {
    cmd->add_option("--limit", s.limit, "at most this many (1..1000)")
        ->capture_default_str()
        ->check(CLI::Range(1u, kMaxListLimit));
  };
  const auto add_id = [&](CLI::App* cmd, const std::string& what) {
    cmd->add_option("id", s.id, what)->required();
  };

  // funds
  s.deposit =
      app.add_subcommand("deposit", "credit a fund account after a bank deposit (settlement bank)");
  s.withdraw = app.add_subcommand("withdraw",
                                  "debit a fund account for a bank withdrawal (settlement bank)");
  for (auto* cmd : {s.deposit, s.withdraw}) {
    add_from(cmd, "the settlement bank");
    cmd->add_option("--account", s.account, "the participant: address or key name")->required();
    cmd->add_option("--amount-yuan", s.amount_yuan, "yuan, at most 2 decimals (e.g. 1000000.00)");
    cmd->add_option("--amount-fen", s.amount_fen, "or fen");
    cmd->add_option(
           "--bank-ref", s.bank_ref,
           "the bank's reference of the movement (its SHA3-256 goes on the ledger; usable once)")
        ->required();
  }
  s.funds = app.add_subcommand("funds", "fund balances (available, locked) and the money supply");
  s.funds->add_option("--account", s.account,
                      "address or key name (default: every key in the keystore)");
  s.money = app.add_subcommand("money", "the money supply: deposits, withdrawals, outstanding");
  s.locks =
      app.add_subcommand("locks", "units an account has locked for sale and its open buy quantity");
  s.locks->add_option("account", s.account, "address or key name")->required();
  add_product(s.locks);

  // the exchange's controls and market data
  auto* market =
      app.add_subcommand("market", "the exchange: parameters, products, trading days, market data");
  auto* params = market->add_subcommand("params", "market parameters");
  s.params_set = params->add_subcommand(
      "set", "a new version of the market parameters (exchange; the sender receives the fees)");
  add_from(s.params_set, "the exchange");
  for (const char* field :
       {"band", "block-band", "fee", "fixed-seller-fee", "fixed-buyer-fee", "auction-fee"}) {
    s.params_set->add_option(std::string("--") + field + "-pct",
                             s.param_text[std::string(field) + "-pct"],
                             "percent, at most 2 decimals");
    s.params_set->add_option(std::string("--") + field + "-bp",
                             s.param_text[std::string(field) + "-bp"], "basis points");
  }
  for (const char* field :
       {"block-min-t", "position-limit-t", "band-hits-trigger", "band-window-days"}) {
    s.params_set->add_option(std::string("--") + field, s.param_text[field],
                             "whole number (position limit 0 = none)");
  }
  s.params_set->add_option("--sessions", s.sessions,
                           "trading sessions, Beijing time, e.g. 09:30-11:30,13:00-15:00");
  s.params_set->add_flag("--all-day", s.all_day, "one session 00:00-24:00 (trading at any hour)");
  s.params_show =
      params->add_subcommand("show", "the market parameters in force and the trading day");
  params->require_subcommand(1);
  s.list_product = market->add_subcommand("list-product", "admit a product to trading (exchange)");
  add_from(s.list_product, "the exchange");
  add_product(s.list_product);
  add_price(s.list_product, "reference-price", "the centre of the first band");
  s.open_day =
      market->add_subcommand("open-day", "open the trading day of today's Beijing date (exchange)");
  s.close_day = market->add_subcommand(
      "close-day", "close the trading day: day orders expire, closing prices (exchange)");
  add_from(s.open_day, "the exchange");
  add_from(s.close_day, "the exchange");
  s.halt = market->add_subcommand("halt", "halt trading of a product (exchange)");
  s.resume = market->add_subcommand("resume", "resume trading of a halted product (exchange)");
  for (auto* cmd : {s.halt, s.resume}) {
    add_from(cmd, "the exchange");
    add_product(cmd);
  }
  s.market_show = market->add_subcommand(
      "show", "one product's market, or every listed product with its day's OHLCV");
  s.market_show->add_option("product", s.product,
                            "HBEA-<vintage> or CCER-<project>-<vintage> (default: all)");
  s.market_days = market->add_subcommand("days", "a product's daily statistics, newest first");
  add_product(s.market_days);
  add_limit(s.market_days);
  market->require_subcommand(1);

  s.book = app.add_subcommand("book", "a product's order book (aggregated depth)");
  add_product(s.book);
  s.book->add_option("--levels", s.levels, "levels a side (1..1000)")
      ->capture_default_str()
      ->check(CLI::Range(1u, 1000u));
  s.trades = app.add_subcommand("trades", "a product's trades, newest first");
  add_product(s.trades);
  add_limit(s.trades);
  s.trades->add_option("--before", s.before, "only trades with a smaller id");

  // orders
  auto* order = app.add_subcommand("order", "limit orders");
  s.order_buy = order->add_subcommand("buy", "place a buy order");
  s.order_sell = order->add_subcommand("sell", "place a sell order");
  for (auto* cmd : {s.order_buy, s.order_sell}) {
    add_from(cmd, "the trader");
    add_product(cmd);
    add_quantity(cmd);
    add_price(cmd, "price", "limit price");
    cmd->add_flag("--gtc", s.gtc, "good till cancelled (default: expires at the day's close)");
    cmd->add_flag("--intervention", s.intervention,
                  "an intervention order of the reserve (on an authority instruction)");
  }
  s.order_cancel =
      order->add_subcommand("cancel", "cancel an open order (its owner, or the exchange)");
  add_from(s.order_cancel, "the owner or the exchange");
  add_id(s.order_cancel, "order id");
  s.order_show = order->add_subcommand("show", "one order");
  add_id(s.order_show, "order id");
  order->require_subcommand(1);
  s.orders = app.add_subcommand("orders", "an account's orders, newest first");
  s.orders->add_option("--account", s.account,
                       "address or key name (default: every key in the keystore)");
  s.orders->add_flag("--open", s.open_only, "only open orders");
  add_limit(s.orders);

  // fixed-price listings
  auto* listing = app.add_subcommand("listing", "fixed-price listings");
  s.listing_create =
      listing->add_subcommand("create", "offer units at a fixed price (the holder; units locked)");
  add_from(s.listing_create, "the seller");
  add_product(s.listing_create);
  add_quantity(s.listing_create);
  add_price(s.listing_create, "price", "price");
  s.listing_take = listing->add_subcommand("take", "buy from a listing, part or all");
  add_from(s.listing_take, "the buyer");
  add_id(s.listing_take, "listing id");
  add_quantity(s.listing_take);
  s.listing_cancel =
      listing->add_subcommand("cancel", "withdraw a listing (the seller or the exchange)");
  add_from(s.listing_cancel, "the seller or the exchange");
  add_id(s.listing_cancel, "listing id");
  s.listing_show = listing->add_subcommand("show", "one listing");
  add_id(s.listing_show, "listing id");
  listing->require_subcommand(1);
  s.listings = app.add_subcommand("listings", "list the fixed-price listings");
  s.listings->add_flag("--open", s.open_only, "only open listings");
  add_limit(s.listings);

  // block trades
  s.block_trade = app.add_subcommand(
      "block-trade", "a negotiated block trade, sent by the seller and co-signed by the buyer");
  add_from(s.block_trade, "the seller");
  s.block_trade->add_option("--buyer", s.buyer, "the buyer: address or key name")->required();
  s.block_trade->add_option("--buyer-key", s.buyer_key,
                            "the buyer's key in the keystore, to co-sign (default: --buyer)");
  s.block_trade->add_option("--product", s.product, "e.g. HBEA-2025")->required();
  add_quantity(s.block_trade);
  add_price(s.block_trade, "price", "price");

  // auctions
  auto* auction = app.add_subcommand("auction", "sealed-bid auctions");
  s.auction_create =
      auction->add_subcommand("create", "open an auction (exchange, co-signed by the seller)");
  add_from(s.auction_create, "the exchange");
  s.auction_create->add_option("--seller", s.seller, "the seller: address or key name")->required();
  s.auction_create->add_option("--seller-key", s.seller_key,
                               "the seller's key in the keystore, to co-sign (default: --seller)");
  s.auction_create->add_option("--product", s.product, "e.g. HBEA-2025")->required();
  add_quantity(s.auction_create);
  add_price(s.auction_create, "reserve-price", "lowest acceptable bid price");
  s.auction_create->add_option("--close-in-seconds", s.close_in_seconds,
                               "bids accepted until now + this (by block time)");
  s.auction_create->add_option("--close-at-ms", s.close_at,
                               "or until this time: epoch ms, ISO-8601 UTC or +90s/+5m/+2h");
  s.auction_create->add_option("--restricted-year", s.restricted_year,
                               "only enterprises short for this compliance year may bid");
  s.auction_bid = auction->add_subcommand("bid", "a sealed bid (funds locked until the clearing)");
  add_from(s.auction_bid, "the bidder");
  add_id(s.auction_bid, "auction id");
  add_price(s.auction_bid, "price", "bid price");
  add_quantity(s.auction_bid);
  s.auction_clear =
      auction->add_subcommand("clear", "clear a closed auction at one price (exchange)");
  add_from(s.auction_clear, "the exchange");
  add_id(s.auction_clear, "auction id");
  s.auction_show = auction->add_subcommand("show", "one auction (bids once cleared)");
  add_id(s.auction_show, "auction id");
  auction->require_subcommand(1);
  s.auctions = app.add_subcommand("auctions", "list the sealed-bid auctions");
  add_limit(s.auctions);

  // surveillance and the market's authority acts
  s.alerts = app.add_subcommand("alerts", "surveillance alerts, newest first");
  add_limit(s.alerts);
  s.stabilisation = app.add_subcommand("stabilisation", "a product's stabilisation trigger");
  add_product(s.stabilisation);
  auto* related =
      app.add_subcommand("related", "related accounts (authority act): their trades raise alerts");
  s.related_set = related->add_subcommand("set", "mark two accounts as related (authority)");
  s.related_unset =
      related->add_subcommand("unset", "mark two accounts as not related (authority)");
  for (auto* cmd : {s.related_set, s.related_unset}) {
    add_from(cmd, "an authority officer");
    cmd->add_option("a", s.account_a, "address or key name")->required();
    cmd->add_option("b", s.account_b, "address or key name")->required();
  }
  related->require_subcommand(1);
  auto* reserve = app.add_subcommand("reserve", "the reserve institution's intervention");
  s.reserve_instruct =
      reserve->add_subcommand("instruct", "instruct the reserve to sell or buy (authority act)");
  add_from(s.reserve_instruct, "an authority officer");
  s.reserve_instruct->add_option("--reserve", s.reserve, "the reserve: address or key name")
      ->required();
  s.reserve_instruct->add_option("--product", s.product, "e.g. HBEA-2025")->required();
  s.reserve_instruct->add_option("--side", s.side_text, "sell or buy")->required();
  add_quantity(s.reserve_instruct);
  s.reserve_mandate =
      reserve->add_subcommand("mandate", "what the reserve may still trade in intervention orders");
  s.reserve_mandate->add_option("--reserve", s.reserve, "the reserve: address or key name")
      ->required();
  s.reserve_mandate->add_option("--product", s.product, "e.g. HBEA-2025")->required();
  reserve->require_subcommand(1);
}

MarketCommands::~MarketCommands() = default;

std::optional<int> MarketCommands::run() {
  State& s = *state_;
  const Options& options = s.options;
  if (*s.deposit) return s.bank_movement(true);
  if (*s.withdraw) return s.bank_movement(false);
  if (*s.funds) return s.show_funds();
  if (*s.money) return s.show_money();
  if (*s.locks) return s.show_locks();
  if (*s.params_set) return s.set_params();
  if (*s.params_show) return s.show_params();
  if (*s.list_product) return s.list_product_call();
  if (*s.open_day) return s.day_call(true);
  if (*s.close_day) return s.day_call(false);
  if (*s.halt) return s.exchange_call(c::HaltProduct{s.product_id(), 1});
  if (*s.resume) return s.exchange_call(c::HaltProduct{s.product_id(), 0});
  if (*s.market_show) return s.show_market();
  if (*s.market_days) return s.show_days();
  if (*s.book) return s.show_book();
  if (*s.trades) return s.show_trades();
  if (*s.order_buy) return s.place_order(c::Side::kBuy);
  if (*s.order_sell) return s.place_order(c::Side::kSell);
  if (*s.order_cancel) return s.cancel_order();
  if (*s.order_show) return s.show_order();
  if (*s.orders) return s.show_orders();
  if (*s.listing_create) return s.create_listing();
  if (*s.listing_take) return s.listing_call(c::TakeListing{s.id, s.quantity_arg()});
  if (*s.listing_cancel) return s.listing_call(c::CancelListing{s.id});
  if (*s.listing_show) return s.show_listings(true);
  if (*s.listings) return s.show_listings(false);
  if (*s.block_trade) return s.block();
  if (*s.auction_create) return s.create_auction();
  if (*s.auction_bid) return s.auction_call(c::PlaceBid{s.id, s.price(), s.quantity_arg()});
  if (*s.auction_clear) return s.auction_call(c::ClearAuction{s.id});
  if (*s.auction_show) return s.show_auctions(true);
  if (*s.auctions) return s.show_auctions(false);
  if (*s.alerts) return s.show_alerts();
  if (*s.stabilisation) return s.show_stabilisation();
  if (*s.related_set || *s.related_unset) {
    return propose(options, s.from,
                   c::SetRelated{s.addr(s.account_a), s.addr(s.account_b),
                                 static_cast<std::uint8_t>(*s.related_set ? 1 : 0)});
  }
  if (*s.reserve_instruct) return s.instruct_reserve();
  if (*s.reserve_mandate) return s.show_mandate();
  return std::nullopt;
}

}  // namespace carbon::wallet::cli
