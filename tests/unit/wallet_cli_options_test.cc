// The wallet's integer options read decimal digits only (wallet/cli_options.h): no octal, hex,
// sign wrap-around or silent saturation between what a person types and what gets signed.
#include <gtest/gtest.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "wallet/amounts.h"
#include "wallet/cli_options.h"
#include "wallet/http_client.h"

namespace carbon::wallet {
namespace {

struct Parsed {
  bool ok = false;
  std::uint64_t quantity = 0;
  std::uint32_t year = 0;
  std::vector<std::uint64_t> ids;
  std::string deadline;
  std::string error;
};

// A command line shaped like the wallet's: a 64-bit option on a subcommand, a 32-bit one, and a
// repeated one.
Parsed parse(std::vector<std::string> args) {
  Parsed parsed;
  CLI::App app{"test"};
  auto* transfer = app.add_subcommand("transfer", "");
  transfer->add_option("--quantity", parsed.quantity, "")->required();
  transfer->add_option("--year", parsed.year, "");
  transfer->add_option("--id", parsed.ids, "");
  transfer->add_option("--deadline", parsed.deadline, "");
  require_decimal_integers(app);
  refuse_empty_values(app);
  args.insert(args.begin(), "transfer");
  std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
  try {
    app.parse(args);
    parsed.ok = true;
  } catch (const CLI::ParseError& error) {
    parsed.error = error.what();
  }
  return parsed;
}

TEST(WalletCliOptions, ReadsDecimalDigits) {
  EXPECT_EQ(parse({"--quantity", "10"}).quantity, 10u);
  EXPECT_EQ(parse({"--quantity", "010"}).quantity, 10u);  // decimal, not octal 8
  EXPECT_EQ(parse({"--quantity", "1", "--year", "0"}).year, 0u);
  EXPECT_EQ(parse({"--quantity", "1", "--year", "000"}).year, 0u);
  EXPECT_EQ(parse({"--quantity=18446744073709551615"}).quantity, UINT64_MAX);
  const Parsed with_all = parse({"--quantity", "7", "--year", "02025", "--id", "09", "--id", "3"});
  ASSERT_TRUE(with_all.ok) << with_all.error;
  EXPECT_EQ(with_all.year, 2025u);
  EXPECT_EQ(with_all.ids, (std::vector<std::uint64_t>{9, 3}));
}

TEST(WalletCliOptions, AnEmptyValueIsRefusedNotTakenForAbsent) {
  EXPECT_EQ(parse({"--quantity", "1", "--deadline", "+90s"}).deadline, "+90s");
  EXPECT_TRUE(parse({"--quantity", "1"}).ok);  // left out: fine
  const Parsed empty = parse({"--quantity", "1", "--deadline", ""});
  EXPECT_FALSE(empty.ok);
  EXPECT_NE(empty.error.find("--deadline: an empty value is not allowed"), std::string::npos) << empty.error;
  // Refused too, by CLI11 itself ("1 required TEXT missing") and by the whole-number rule.
  EXPECT_FALSE(parse({"--quantity", "1", "--deadline="}).ok);
  EXPECT_FALSE(parse({"--quantity", ""}).ok);
}

TEST(WalletCliOptions, AQuantityIsAtLeastOne) {
  // 0 t is refused by every contract: signing it would only spend a nonce on a failed transaction.
  for (const char* zero : {"0", "000"}) {
    const Parsed parsed = parse({"--quantity", zero});
    EXPECT_FALSE(parsed.ok) << zero;
    EXPECT_NE(parsed.error.find("--quantity"), std::string::npos) << parsed.error;
    EXPECT_NE(parsed.error.find("give at least 1"), std::string::npos) << parsed.error;
  }
  EXPECT_EQ(parse({"--quantity", "01"}).quantity, 1u);
}

TEST(WalletCliOptions, RefusesAnythingElseNamingTheOption) {
  for (const std::string bad : {"0x10", "-5", "+5", "1e3", "1.5", "7t", " 7", "", "0b11", "1,000"}) {
    const Parsed parsed = parse({"--quantity=" + bad});
    EXPECT_FALSE(parsed.ok) << "'" << bad << "' read as " << parsed.quantity;
    EXPECT_NE(parsed.error.find("--quantity"), std::string::npos) << parsed.error;
  }
  const Parsed too_large = parse({"--quantity", "18446744073709551616"});
  EXPECT_FALSE(too_large.ok);
  EXPECT_NE(too_large.error.find("too large"), std::string::npos) << too_large.error;
  // Narrower options keep CLI11's range check.
  EXPECT_FALSE(parse({"--quantity", "1", "--year", "4294967296"}).ok);
  EXPECT_FALSE(parse({"--quantity", "1", "--year", "-1"}).ok);
  EXPECT_FALSE(parse({"--quantity", "1", "--id", "3", "--id", "0x3"}).ok);
}

TEST(WalletAmounts, ParsesWholeNumbers) {
  EXPECT_EQ(parse_whole("0"), 0u);
  EXPECT_EQ(parse_whole("007"), 7u);
  EXPECT_EQ(parse_whole("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_whole("18446744073709551616"), std::nullopt);
  EXPECT_EQ(parse_whole("99999999999999999999999"), std::nullopt);
  for (const std::string bad : {"", "-1", "+1", "0x1", "1e3", "1.0", " 1", "1 "}) {
    EXPECT_EQ(parse_whole(bad), std::nullopt) << "'" << bad << "'";
  }
}

TEST(WalletNodeUrl, PortsAreDecimal1To65535) {
  EXPECT_TRUE(NodeClient::parse("http://127.0.0.1:8100").is_ok());
  EXPECT_TRUE(NodeClient::parse("http://127.0.0.1:65535/").is_ok());
  EXPECT_TRUE(NodeClient::parse("http://127.0.0.1").is_ok());  // port 80
  EXPECT_TRUE(NodeClient::parse("http://[::1]:8195").is_ok());
  EXPECT_TRUE(NodeClient::parse("http://[::1]").is_ok());
  for (const char* bad : {"http://127.0.0.1:73636", "http://127.0.0.1:65536", "http://127.0.0.1:0",
                          "http://127.0.0.1:-1", "http://127.0.0.1:0x1f", "http://127.0.0.1:8100x",
                          "http://127.0.0.1:", "https://127.0.0.1:8100", "127.0.0.1:8100", "http://:8100",
                          "http://::1:8195", "http://[::1:8195", "http://[::1]x8195", "http://127.0.0.1:8100/x"}) {
    const auto parsed = NodeClient::parse(bad);
    EXPECT_FALSE(parsed.is_ok()) << bad;
  }
  const auto wrapped = NodeClient::parse("http://127.0.0.1:73636");
  ASSERT_FALSE(wrapped.is_ok());
  EXPECT_NE(wrapped.status().message().find("not a port number (1..65535)"), std::string::npos)
      << wrapped.status().message();
}

}  // namespace
}  // namespace carbon::wallet
