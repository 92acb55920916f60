#include "core/bytes.h"

#include <gtest/gtest.h>

#include <string>

namespace carbon::core {
namespace {

TEST(HexTest, EncodesLowerCase) {
  const Bytes bytes = {0x00, 0x01, 0x7f, 0x80, 0xab, 0xff};
  EXPECT_EQ(to_hex(bytes), "00017f80abff");
  EXPECT_EQ(to_hex(Bytes{}), "");
}

TEST(HexTest, RoundTripsEveryByteValue) {
  Bytes all(256);
  for (std::size_t i = 0; i < all.size(); ++i) all[i] = static_cast<std::uint8_t>(i);
  const std::string hex = to_hex(all);
  EXPECT_EQ(hex.size(), 512u);
  const auto decoded = from_hex(hex);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, all);
}

TEST(HexTest, AcceptsUpperAndMixedCase) {
  const Bytes expected = {0xab, 0xcd, 0xef, 0x0a};
  for (const char* text : {"abcdef0a", "ABCDEF0A", "aBcDeF0A"}) {
    const auto decoded = from_hex(text);
    ASSERT_TRUE(decoded.is_ok()) << text;
    EXPECT_EQ(*decoded, expected) << text;
  }
}

TEST(HexTest, EmptyIsEmpty) {
  const auto decoded = from_hex("");
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_TRUE(decoded->empty());
}

TEST(HexTest, RejectsOddLength) {
  for (const char* text : {"a", "abc", "0123456"}) {
    const auto decoded = from_hex(text);
    ASSERT_FALSE(decoded.is_ok()) << text;
    EXPECT_EQ(decoded.status().code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(decoded.status().message().find("odd length"), std::string::npos);
  }
}

TEST(HexTest, RejectsNonHexCharacters) {
  // "0x" prefixes, whitespace, signs, letters past f, a NUL and a non-ASCII byte.
  const std::string cases[] = {
      "0x12", "12 3", "+1", "gg", "0G", "zz", std::string("1\0", 2), "\xff\xff", "12-4", "1234\n5"};
  for (const std::string& text : cases) {
    ASSERT_EQ(text.size() % 2, 0u) << "odd lengths are covered above";
    const auto decoded = from_hex(text);
    EXPECT_FALSE(decoded.is_ok()) << "accepted \"" << text << "\"";
    if (!decoded.is_ok()) {
      EXPECT_EQ(decoded.status().code(), ErrorCode::kInvalidArgument);
    }
  }
}

TEST(HexTest, ReportsThePositionOfTheBadDigit) {
  const auto high = from_hex("00x0");
  ASSERT_FALSE(high.is_ok());
  EXPECT_NE(high.status().message().find("position 2"), std::string::npos)
      << high.status().message();
  const auto low = from_hex("000x");
  ASSERT_FALSE(low.is_ok());
  EXPECT_NE(low.status().message().find("position 3"), std::string::npos) << low.status().message();
}

TEST(HexTest, FixedFromHexChecksLength) {
  const auto four = fixed_from_hex<4>("DEADbeef");
  ASSERT_TRUE(four.is_ok());
  EXPECT_EQ((*four)[0], 0xde);
  EXPECT_EQ((*four)[3], 0xef);
  EXPECT_FALSE(fixed_from_hex<4>("deadbe").is_ok());
  EXPECT_FALSE(fixed_from_hex<4>("deadbeef00").is_ok());
  EXPECT_FALSE(fixed_from_hex<4>("deadbeeg").is_ok());
  EXPECT_FALSE(fixed_from_hex<4>("").is_ok());
}

TEST(BytesTest, Utf8IsCheckedByRfc3629) {
  for (const std::string& good : {std::string(""), std::string("plain ASCII"), std::string("\xC2\xA9"),  // ©
                                  std::string("\xE6\xB9\x96\xE5\x8C\x97"),                        // 湖北
                                  std::string("\xEF\xBF\xBD"),                                        // U+FFFD
                                  std::string("\xF0\x9F\x8C\xB3"),                                   // U+1F333
                                  std::string("\xF4\x8F\xBF\xBF"),                                   // U+10FFFF
                                  std::string("a\0b", 3)}) {
    EXPECT_TRUE(is_valid_utf8(good)) << to_hex(as_bytes(good));
  }
  for (const std::string& bad : {std::string("\x80"),              // a continuation byte first
                                 std::string("\xC0\xAF"),          // overlong '/'
                                 std::string("\xC1\xBF"),          // overlong
                                 std::string("\xE0\x9F\xBF"),      // overlong 3-byte
                                 std::string("\xED\xA0\x80"),      // a surrogate, U+D800
                                 std::string("\xF0\x8F\xBF\xBF"),  // overlong 4-byte
                                 std::string("\xF4\x90\x80\x80"),  // U+110000
                                 std::string("\xF5\x80\x80\x80"), std::string("\xFF"),
                                 std::string("\xE6\xB9"),          // cut short
                                 std::string("\xE6\x39\x96"),      // a non-continuation inside
                                 std::string("ok\xC2")}) {
    EXPECT_FALSE(is_valid_utf8(bad)) << to_hex(as_bytes(bad));
  }
}

TEST(BytesTest, AsBytesViewsTheText) {
  const ByteView view = as_bytes("abc");
  ASSERT_EQ(view.size(), 3u);
  EXPECT_EQ(view[0], 'a');
  EXPECT_EQ(view[2], 'c');
  EXPECT_TRUE(as_bytes("").empty());
}

}  // namespace
}  // namespace carbon::core
