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

TEST(WalletAmounts, ParsesTimesStrictly) {
  const std::uint64_t now = 1'767'225'600'000ULL;  // 2026-01-01T00:00:00Z
  EXPECT_EQ(parse_time_ms("2026-01-01T00:00:00Z", 0), now);
  EXPECT_EQ(parse_time_ms("2026-02-28T15:59:59Z", 0), 1'772'294'399'000ULL);
  EXPECT_EQ(parse_time_ms("2024-02-29T00:00:00Z", 0), 1'709'164'800'000ULL);  // a leap day
  EXPECT_EQ(parse_time_ms("2000-02-29T12:00:00Z", 0), 951'825'600'000ULL);    // 2000 is a leap year
  EXPECT_EQ(parse_time_ms("1970-01-01T00:00:00Z", 0), 0u);
  EXPECT_EQ(parse_time_ms("1772294399000", 0), 1'772'294'399'000ULL);
  EXPECT_EQ(parse_time_ms("+90s", now), now + 90'000);
  EXPECT_EQ(parse_time_ms("+5m", now), now + 300'000);
  EXPECT_EQ(parse_time_ms("+2h", now), now + 7'200'000);
  EXPECT_EQ(parse_time_ms("+1d", now), now + 86'400'000);
  EXPECT_EQ(parse_time_ms("+0s", now), now);
  for (const char* bad : {"", "+", "+s", "+-5s", "+ 5s", "+5", "+5x", "+5S", "+0x10s", "+1e3s",
                          "+99999999999999999999d", "+18446744073709551615s", "-5",
                          "18446744073709551616", "2026-02-31T00:00:00Z", "2025-02-29T00:00:00Z",
                          "1900-02-29T00:00:00Z", "2026-04-31T00:00:00Z", "2026-13-01T00:00:00Z",
                          "2026-00-10T00:00:00Z", "2026-01-00T00:00:00Z", "2026-01-01T24:00:00Z",
                          "2026-01-01T00:60:00Z", "2026-01-01T00:00:60Z", "2026-01-01T00:00:00Zjunk",
                          "2026-01-01T00:00:00", "2026-01-01 00:00:00Z", "2026-1-01T00:00:00Z",
                          "1969-12-31T23:59:59Z", "2026-01-01T00:00:00+08:00", " 2026-01-01T00:00:00Z"}) {
    EXPECT_FALSE(parse_time_ms(bad, now).has_value()) << bad;
  }
  // An offset that would pass 2^64 - 1 ms is refused, not wrapped.
  EXPECT_FALSE(parse_time_ms("+1s", std::numeric_limits<std::uint64_t>::max() - 999).has_value());
  EXPECT_EQ(parse_time_ms("+1s", std::numeric_limits<std::uint64_t>::max() - 1000),
            std::numeric_limits<std::uint64_t>::max());
}

}  // namespace
}  // namespace carbon::wallet
