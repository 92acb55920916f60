// carbon-wallet's exchange commands (issue 5; docs/exchange.md): funds (deposit, withdraw,
// funds), the exchange's controls (market params/list-product/open-day/close-day/halt/resume),
// market data (market show/days, book, trades), orders, fixed-price listings, block trades
// (co-signed by the buyer), sealed-bid auctions (created by the exchange, co-signed by the
// seller), surveillance (alerts, stabilisation) and the market's authority acts (related,
// reserve instruct) through the proposal path.
//
// Money on the command line: --*-yuan with at most two decimals ("20", "20.5", "20.05"),
// parsed exactly to fen (no floating point), or --*-fen. Human output prints yuan with two
// decimals and thousands separators; --json prints the node's JSON (integer fen fields).
//
// Thread safety: none (a command-line program).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>

#include "wallet/cli.h"

namespace carbon::wallet::cli {

class MarketCommands {
 public:
  // Adds the exchange's subcommands to `app`; `options` are read when a command runs.
  MarketCommands(CLI::App& app, const Options& options);
  ~MarketCommands();
  MarketCommands(const MarketCommands&) = delete;
  MarketCommands& operator=(const MarketCommands&) = delete;

  // After parsing: runs the exchange command that was chosen and returns its exit code;
  // nullopt when the command line chose none of them.
  std::optional<int> run();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace carbon::wallet::cli
