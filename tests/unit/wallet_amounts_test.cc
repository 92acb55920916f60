// The wallet's exact amount parsing and printing (wallet/amounts.h): yuan to fen without
// floating point, thousands separators, percentages, trading sessions.
#include <gtest/gtest.h>

#include <limits>

#include "wallet/amounts.h"

namespace carbon::wallet {
namespace {

TEST(WalletAmounts, ParsesYuanWithAtMostTwoDecimalsExactly) {
  const std::vector<std::pair<std::string, std::optional<std::uint64_t>>> cases = {
      {"0", 0},
      {"20", 2000},
      {"20.5", 2050},
      {"20.05", 2005},
      {"0.01", 1},
      {"1000000.00", 100000000},
      {"007.10", 710},
      {"19.99", 1999},
      // 2^64 - 1 fen is 184467440737095516.15 yuan: the largest that fits.
      {"184467440737095516.15", std::numeric_limits<std::uint64_t>::max()},
      {"184467440737095516.16", std::nullopt},
      {"99999999999999999999", std::nullopt},
      {"", std::nullopt},
      {".5", std::nullopt},
      {"5.", std::nullopt},
      {"1.234", std::nullopt},
      {"-1", std::nullopt},
      {"+1", std::nullopt},
      {"1,000", std::nullopt},
      {"1e3", std::nullopt},
      {" 1", std::nullopt},
      {"1.2.3", std::nullopt},
      {"0x10", std::nullopt},
  };
  for (const auto& [text, expected] : cases)
    EXPECT_EQ(parse_fixed2(text), expected) << "'" << text << "'";
}

TEST(WalletAmounts, PrintsWithThousandsSeparators) {
  EXPECT_EQ(grouped(0), "0");
  EXPECT_EQ(grouped(999), "999");
  EXPECT_EQ(grouped(1000), "1,000");
  EXPECT_EQ(grouped(100000), "100,000");
  EXPECT_EQ(grouped(1234567), "1,234,567");
  EXPECT_EQ(grouped(std::numeric_limits<std::uint64_t>::max()), "18,446,744,073,709,551,615");
  EXPECT_EQ(yuan_grouped(0), "0.00");
  EXPECT_EQ(yuan_grouped(5), "0.05");
  EXPECT_EQ(yuan_grouped(2050), "20.50");
  EXPECT_EQ(yuan_grouped(123456789), "1,234,567.89");
  EXPECT_EQ(percent_text(1000), "10.00 %");
  EXPECT_EQ(percent_text(5), "0.05 %");
  EXPECT_EQ(percent_text(1050), "10.50 %");
  // Round trip: what is printed (without separators) parses back to the same fen.
  for (std::uint64_t fen : {0ull, 1ull, 99ull, 100ull, 2072ull, 123456789ull}) {
    std::string text = yuan_grouped(fen);
    std::erase(text, ',');
    EXPECT_EQ(parse_fixed2(text), fen) << text;
  }
}

TEST(WalletAmounts, ParsesTradingSessions) {
  using Sessions = std::vector<std::pair<std::uint32_t, std::uint32_t>>;
  EXPECT_EQ(parse_sessions("09:30-11:30,13:00-15:00"), (Sessions{{570, 690}, {780, 900}}));
  EXPECT_EQ(parse_sessions("00:00-24:00"), (Sessions{{0, 1440}}));
  for (const char* bad : {"", "9:30-11:30", "09:30", "09:30-11:60", "24:01-24:02", "09:30-11:30,",
                          "09:30-11:30;13:00-15:00", "ab:cd-ef:gh", "09:30 - 11:30"}) {
    EXPECT_FALSE(parse_sessions(bad).has_value()) << bad;
  }
  EXPECT_EQ(clock_text(570), "09:30");
  EXPECT_EQ(clock_text(1440), "24:00");
}

}  // namespace
}  // namespace carbon::wallet
