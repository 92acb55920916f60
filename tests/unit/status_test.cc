#include "core/status.h"

#include <gtest/gtest.h>

#include <memory>
#include <set>
#include <string>
#include <string_view>

namespace carbon::core {
namespace {

TEST(StatusTest, DefaultIsOk) {
  const Status status;
  EXPECT_TRUE(status.is_ok());
  EXPECT_TRUE(static_cast<bool>(status));
  EXPECT_EQ(status.code(), ErrorCode::kOk);
  EXPECT_EQ(status.message(), "");
  EXPECT_EQ(status.to_string(), "ok");
  EXPECT_TRUE(Status::ok().is_ok());
}

TEST(StatusTest, ErrorCarriesCodeAndMessage) {
  const Status status =
      Status::error(ErrorCode::kDecodeError, "vector length 70000 exceeds limit 4096");
  EXPECT_FALSE(status.is_ok());
  EXPECT_FALSE(static_cast<bool>(status));
  EXPECT_EQ(status.code(), ErrorCode::kDecodeError);
  EXPECT_EQ(status.message(), "vector length 70000 exceeds limit 4096");
  EXPECT_EQ(status.to_string(), "decode_error: vector length 70000 exceeds limit 4096");
}

TEST(StatusTest, EveryCodeHasADistinctName) {
  const ErrorCode codes[] = {
      ErrorCode::kOk,          ErrorCode::kInvalidArgument, ErrorCode::kDecodeError,
      ErrorCode::kOverflow,    ErrorCode::kBadSignature,    ErrorCode::kNotFound,
      ErrorCode::kOutOfBounds, ErrorCode::kUnauthorized,    ErrorCode::kConflict,
      ErrorCode::kIoError,     ErrorCode::kInternal,
  };
  std::set<std::string_view> names;
  for (const ErrorCode code : codes) {
    const std::string_view name = error_code_name(code);
    EXPECT_NE(name, "unknown");
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
  EXPECT_EQ(error_code_name(ErrorCode::kOverflow), "overflow");
  // A value off the enum (e.g. decoded from a newer peer) must still print.
  EXPECT_EQ(error_code_name(static_cast<ErrorCode>(999)), "unknown");
}

TEST(StatusDeathTest, ErrorWithOkCodeIsAProgrammerError) {
  EXPECT_DEATH((void)Status::error(ErrorCode::kOk, "not an error"), "assertion failed");
}

TEST(ResultTest, HoldsValue) {
  Result<int> result = 42;
  ASSERT_TRUE(result.is_ok());
  EXPECT_TRUE(static_cast<bool>(result));
  EXPECT_EQ(result.value(), 42);
  EXPECT_EQ(*result, 42);
  EXPECT_TRUE(result.status().is_ok());
  *result = 7;
  EXPECT_EQ(result.value(), 7);
}

TEST(ResultTest, HoldsError) {
  const Result<int> result = Status::error(ErrorCode::kNotFound, "no such account");
  EXPECT_FALSE(result.is_ok());
  EXPECT_FALSE(static_cast<bool>(result));
  EXPECT_EQ(result.status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(result.status().message(), "no such account");
}

TEST(ResultTest, ArrowAndMoveOnlyValues) {
  Result<std::string> text = std::string("carbon");
  EXPECT_EQ(text->size(), 6u);

  Result<std::unique_ptr<int>> owned = std::make_unique<int>(5);
  ASSERT_TRUE(owned.is_ok());
  std::unique_ptr<int> taken = std::move(owned).value();
  ASSERT_NE(taken, nullptr);
  EXPECT_EQ(*taken, 5);
}

TEST(ResultDeathTest, OkStatusIsNotAnError) {
  EXPECT_DEATH(
      {
        Result<int> result{Status::ok()};
        (void)result;
      },
      "assertion failed");
}

TEST(ResultDeathTest, ValueOfAnErrorIsAProgrammerError) {
  const Result<int> result = Status::error(ErrorCode::kInternal, "boom");
  EXPECT_DEATH((void)result.value(), "assertion failed");
}

Status fail_if(bool fail) {
  if (fail) return Status::error(ErrorCode::kConflict, "stale nonce");
  return Status::ok();
}

Status two_steps(bool fail_first, int* reached_second) {
  CARBON_RETURN_IF_ERROR(fail_if(fail_first));
  ++*reached_second;
  return Status::ok();
}

TEST(StatusTest, ReturnIfErrorPropagatesAndContinues) {
  int reached = 0;
  const Status failed = two_steps(true, &reached);
  EXPECT_EQ(failed.code(), ErrorCode::kConflict);
  EXPECT_EQ(reached, 0);
  EXPECT_TRUE(two_steps(false, &reached).is_ok());
  EXPECT_EQ(reached, 1);
}

}  // namespace
}  // namespace carbon::core
