// Backoff: doubles from the initial delay, stays at the cap, starts over after reset().
#include <gtest/gtest.h>

#include "node/p2p/backoff.h"

namespace carbon::node::p2p {
namespace {

TEST(BackoffTest, DoublesUpToTheCapAndResets) {
  Backoff backoff(100, 1000);
  EXPECT_EQ(backoff.next_delay_ms(), 100u);
  EXPECT_EQ(backoff.next_delay_ms(), 200u);
  EXPECT_EQ(backoff.next_delay_ms(), 400u);
  EXPECT_EQ(backoff.next_delay_ms(), 800u);
  EXPECT_EQ(backoff.next_delay_ms(), 1000u);
  EXPECT_EQ(backoff.next_delay_ms(), 1000u);
  backoff.reset();
  EXPECT_EQ(backoff.next_delay_ms(), 100u);
}

TEST(BackoffTest, NeverOverflowsNearTheTopOfTheRange) {
  Backoff backoff(3'000'000'000u, 4'000'000'000u);
  EXPECT_EQ(backoff.next_delay_ms(), 3'000'000'000u);
  EXPECT_EQ(backoff.next_delay_ms(), 4'000'000'000u);
  EXPECT_EQ(backoff.next_delay_ms(), 4'000'000'000u);
}

}  // namespace
}  // namespace carbon::node::p2p
