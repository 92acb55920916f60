#include "core/checked_math.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace carbon::core {
namespace {

constexpr std::int64_t kI64Max = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t kI64Min = std::numeric_limits<std::int64_t>::min();
constexpr std::uint64_t kU64Max = std::numeric_limits<std::uint64_t>::max();

template <class T>
void expect_value(const Result<T>& result, T expected) {
  ASSERT_TRUE(result.is_ok()) << result.status().to_string();
  EXPECT_EQ(*result, expected);
}

template <class T>
void expect_overflow(const Result<T>& result) {
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kOverflow);
}

TEST(CheckedMathTest, SignedAdd) {
  expect_value(checked_add<std::int64_t>(kI64Max - 1, 1), kI64Max);
  expect_value(checked_add<std::int64_t>(kI64Min + 1, -1), kI64Min);
  expect_value(checked_add<std::int64_t>(kI64Max, kI64Min), std::int64_t{-1});
  expect_overflow(checked_add<std::int64_t>(kI64Max, 1));
  expect_overflow(checked_add<std::int64_t>(kI64Min, -1));
  expect_overflow(checked_add<std::int64_t>(kI64Max, kI64Max));
  expect_overflow(checked_add<std::int64_t>(kI64Min, kI64Min));
}

TEST(CheckedMathTest, SignedSub) {
  expect_value(checked_sub<std::int64_t>(kI64Max, kI64Max), std::int64_t{0});
  expect_value(checked_sub<std::int64_t>(-1, kI64Max), kI64Min);
  expect_value(checked_sub<std::int64_t>(kI64Min, kI64Min), std::int64_t{0});
  expect_overflow(checked_sub<std::int64_t>(kI64Min, 1));
  expect_overflow(checked_sub<std::int64_t>(0, kI64Min));  // -INT64_MIN is not representable
  expect_overflow(checked_sub<std::int64_t>(kI64Max, -1));
}

TEST(CheckedMathTest, SignedMul) {
  expect_value(checked_mul<std::int64_t>(kI64Min, 1), kI64Min);
  expect_value(checked_mul<std::int64_t>(-1, kI64Max), -kI64Max);
  expect_value(checked_mul<std::int64_t>(kI64Max, 0), std::int64_t{0});
  expect_value(checked_mul<std::int64_t>(std::int64_t{1} << 31, std::int64_t{1} << 31),
               std::int64_t{1} << 62);
  expect_overflow(checked_mul<std::int64_t>(kI64Min, -1));
  expect_overflow(checked_mul<std::int64_t>(kI64Max, 2));
  expect_overflow(checked_mul<std::int64_t>(std::int64_t{1} << 32, std::int64_t{1} << 31));
  expect_overflow(checked_mul<std::int64_t>(kI64Min, kI64Min));
}

TEST(CheckedMathTest, UnsignedAddSub) {
  expect_value(checked_add<std::uint64_t>(kU64Max - 1, 1), kU64Max);
  expect_value(checked_add<std::uint64_t>(kU64Max, 0), kU64Max);
  expect_overflow(checked_add<std::uint64_t>(kU64Max, 1));
  expect_overflow(checked_add<std::uint64_t>(kU64Max, kU64Max));
  expect_value(checked_sub<std::uint64_t>(kU64Max, kU64Max), std::uint64_t{0});
  expect_value(checked_sub<std::uint64_t>(1, 1), std::uint64_t{0});
  expect_overflow(checked_sub<std::uint64_t>(0, 1));  // a balance may never go below zero
  expect_overflow(checked_sub<std::uint64_t>(1, kU64Max));
}

TEST(CheckedMathTest, UnsignedMul) {
  constexpr std::uint64_t kTwo32 = std::uint64_t{1} << 32;
  expect_value(checked_mul<std::uint64_t>(kTwo32 - 1, kTwo32 - 1), (kTwo32 - 1) * (kTwo32 - 1));
  expect_value(checked_mul<std::uint64_t>(kU64Max, 1), kU64Max);
  expect_value(checked_mul<std::uint64_t>(kU64Max, 0), std::uint64_t{0});
  expect_overflow(checked_mul<std::uint64_t>(kTwo32, kTwo32));
  expect_overflow(checked_mul<std::uint64_t>(kU64Max, 2));
}

TEST(CheckedMathTest, NarrowTypes) {
  expect_value(checked_add<std::uint8_t>(200, 55), std::uint8_t{255});
  expect_overflow(checked_add<std::uint8_t>(200, 56));
  expect_overflow(checked_sub<std::int32_t>(std::numeric_limits<std::int32_t>::min(), 1));
  expect_overflow(checked_mul<std::uint32_t>(65536, 65536));
  expect_value(checked_mul<std::int32_t>(-46341, 46340), std::int32_t{-2147441940});
}

TEST(CheckedMathTest, OverflowMessageNamesTheOperands) {
  const auto result = checked_add<std::uint64_t>(kU64Max, 2);
  ASSERT_FALSE(result.is_ok());
  EXPECT_NE(result.status().message().find("18446744073709551615"), std::string::npos)
      << result.status().message();
}

TEST(CheckedMathTest, MulDivFloorUses128BitProduct) {
  // The product overflows 64 bits but the quotient does not.
  expect_value(mul_div_floor(kU64Max, kU64Max, kU64Max), kU64Max);
  expect_value(mul_div_floor(kU64Max, 2, 2), kU64Max);
  expect_value(mul_div_floor(std::uint64_t{1} << 63, 4, 8), std::uint64_t{1} << 62);
  expect_value(mul_div_floor(0, kU64Max, 1), std::uint64_t{0});
}

TEST(CheckedMathTest, MulDivFloorRoundsDown) {
  expect_value(mul_div_floor(7, 3, 2), std::uint64_t{10});  // 10.5
  expect_value(mul_div_floor(1, 1, 3), std::uint64_t{0});
  expect_value(mul_div_floor(kU64Max, kU64Max - 1, kU64Max), kU64Max - 1);
  expect_value(mul_div_floor(2, 3, 7), std::uint64_t{0});
}

TEST(CheckedMathTest, MulDivFloorRejectsOverflowAndZeroDivisor) {
  expect_overflow(mul_div_floor(kU64Max, 2, 1));
  expect_overflow(mul_div_floor(kU64Max, kU64Max, kU64Max - 1));
  expect_overflow(mul_div_floor(kU64Max, kU64Max, 1));
  const auto by_zero = mul_div_floor(1, 1, 0);
  ASSERT_FALSE(by_zero.is_ok());
  EXPECT_EQ(by_zero.status().code(), ErrorCode::kInvalidArgument);
  const auto zero_by_zero = mul_div_floor(0, 0, 0);
  ASSERT_FALSE(zero_by_zero.is_ok());
  EXPECT_EQ(zero_by_zero.status().code(), ErrorCode::kInvalidArgument);
}

}  // namespace
}  // namespace carbon::core
