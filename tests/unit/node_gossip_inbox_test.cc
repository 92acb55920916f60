// node/gossip_inbox.h: frames are taken together (up to the byte bound), at most the given
// number of drainers run, no frame is left behind when the last drainer stops, and the inbox
// knows when its oldest waiting frame arrived; a leader can take what waits without stopping the
// drainers.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "node/gossip_inbox.h"

namespace carbon::node {
namespace {

core::Bytes frame_of(std::size_t size, std::uint8_t tag) { return core::Bytes(size, tag); }

TEST(GossipInbox, KnowsWhenTheOldestWaitingFrameArrived) {
  using std::chrono::milliseconds;
  const auto t0 = std::chrono::steady_clock::time_point{} + std::chrono::hours(1);
  GossipInbox inbox(1);
  EXPECT_FALSE(inbox.oldest_arrival().has_value());
  EXPECT_TRUE(inbox.add(frame_of(GossipInbox::kMaxDrainBytes, 1), t0));
  EXPECT_FALSE(inbox.add(frame_of(GossipInbox::kMaxDrainBytes, 2), t0 + milliseconds(40)));
  EXPECT_EQ(inbox.oldest_arrival(), t0);
  std::vector<core::Bytes> frames;
  ASSERT_TRUE(inbox.take(frames));  // the first frame alone (the byte bound)
  EXPECT_EQ(inbox.oldest_arrival(), t0 + milliseconds(40));
  ASSERT_TRUE(inbox.take(frames));
  EXPECT_FALSE(inbox.oldest_arrival().has_value());
}

TEST(GossipInbox, ALeaderTakesWhatWaitsWithoutStoppingTheDrainers) {
  GossipInbox inbox(1);
  EXPECT_TRUE(inbox.empty());
  EXPECT_TRUE(inbox.add(frame_of(10, 1)));   // a drainer starts
  EXPECT_FALSE(inbox.add(frame_of(10, 2)));  // it runs: the frame waits
  EXPECT_FALSE(inbox.empty());
  std::vector<core::Bytes> frames;
  ASSERT_TRUE(inbox.take_waiting(frames));  // the leader takes both, in arrival order
  ASSERT_EQ(frames.size(), 2u);
  EXPECT_EQ(frames[0][0], 1);
  EXPECT_EQ(frames[1][0], 2);
  EXPECT_TRUE(inbox.empty());
  EXPECT_FALSE(inbox.take_waiting(frames));
  EXPECT_FALSE(inbox.add(frame_of(10, 3)));  // the drainer still counts as running
  ASSERT_TRUE(inbox.take(frames));           // and takes what came since
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0][0], 3);
  EXPECT_FALSE(inbox.take(frames));         // then stops
  EXPECT_TRUE(inbox.add(frame_of(10, 4)));  // so the next frame starts one again

  // The leader's take keeps to its own, smaller byte bound, and leaves a frame that would go
  // beyond it to the drainers, even when it is the first.
  GossipInbox big(1);
  EXPECT_TRUE(big.add(frame_of(GossipInbox::kMaxLeaderTakeBytes / 2, 1)));
  EXPECT_FALSE(big.add(frame_of(GossipInbox::kMaxLeaderTakeBytes / 2, 2)));
  EXPECT_FALSE(big.add(frame_of(1, 3)));
  ASSERT_TRUE(big.take_waiting(frames));
  EXPECT_EQ(frames.size(), 2u);
  EXPECT_FALSE(big.empty());  // the third would pass the bound
  GossipInbox huge(1);
  EXPECT_TRUE(huge.add(frame_of(GossipInbox::kMaxLeaderTakeBytes + 1, 1)));
  EXPECT_FALSE(huge.take_waiting(frames));
  EXPECT_TRUE(frames.empty());
  ASSERT_TRUE(huge.take(frames));  // a drainer takes it
  EXPECT_EQ(frames.size(), 1u);
}

TEST(GossipInbox, ADrainerTakesEveryWaitingFrameUpToTheByteBound) {
  GossipInbox inbox(2);
  EXPECT_TRUE(inbox.add(frame_of(10, 1)));   // first drainer starts
  EXPECT_TRUE(inbox.add(frame_of(10, 2)));   // second drainer starts
  EXPECT_FALSE(inbox.add(frame_of(10, 3)));  // both run: the frame waits for them
  std::vector<core::Bytes> frames;
  ASSERT_TRUE(inbox.take(frames));
  ASSERT_EQ(frames.size(), 3u);  // together, in arrival order
  EXPECT_EQ(frames[0][0], 1);
  EXPECT_EQ(frames[2][0], 3);
  EXPECT_FALSE(inbox.take(frames));  // none left: this drainer stops
  EXPECT_FALSE(inbox.take(frames));  // and so does the other
  EXPECT_TRUE(inbox.add(frame_of(10, 4)));  // no drainer runs: the next frame starts one

  // Frames beyond kMaxDrainBytes wait for the next take; a frame larger than the bound still goes.
  GossipInbox big(1);
  EXPECT_TRUE(big.add(frame_of(GossipInbox::kMaxDrainBytes / 2 + 1, 1)));
  EXPECT_FALSE(big.add(frame_of(GossipInbox::kMaxDrainBytes / 2 + 1, 2)));
  EXPECT_FALSE(big.add(frame_of(GossipInbox::kMaxDrainBytes * 2, 3)));
  ASSERT_TRUE(big.take(frames));
  EXPECT_EQ(frames.size(), 1u);
  ASSERT_TRUE(big.take(frames));
  EXPECT_EQ(frames.size(), 1u);
  ASSERT_TRUE(big.take(frames));
  EXPECT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].size(), GossipInbox::kMaxDrainBytes * 2);
  EXPECT_FALSE(big.take(frames));
}

// Producers add from several threads while drainers come and go as add() asks: every frame is
// taken exactly once, and never more drainers run than allowed.
TEST(GossipInbox, EveryFrameIsTakenOnceWhileDrainersComeAndGo) {
  constexpr unsigned kDrainers = 2;
  constexpr int kProducers = 3, kFramesEach = 2000;
  GossipInbox inbox(kDrainers);
  std::atomic<int> running{0}, most_running{0}, taken{0};
  std::vector<std::atomic<int>> seen(kProducers * kFramesEach);
  std::vector<std::thread> drainers;
  std::mutex drainers_mutex;
  // The count of running drainers moves with the inbox's own decisions: a drainer starts when
  // add() says so and stops when take() finds nothing, each counted under one lock with the call
  // (counted after the call instead, a drainer the inbox has stopped could still be counted
  // while the next one starts). The frames are handled outside it, concurrently.
  std::mutex count_mutex;
  const auto drain = [&] {
    for (std::vector<core::Bytes> frames;;) {
      {
        std::lock_guard lock(count_mutex);
        if (!inbox.take(frames)) {
          --running;
          return;
        }
      }
      for (const auto& frame : frames) {
        const int index = frame[0] | (frame[1] << 8);
        ++seen[static_cast<std::size_t>(index)];
        ++taken;
      }
    }
  };
  std::vector<std::thread> producers;
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&, p] {
      for (int k = 0; k < kFramesEach; ++k) {
        const int index = p * kFramesEach + k;
        core::Bytes frame{static_cast<std::uint8_t>(index & 0xFF), static_cast<std::uint8_t>(index >> 8)};
        std::lock_guard count_lock(count_mutex);
        if (inbox.add(std::move(frame))) {
          const int now = ++running;
          most_running = std::max(most_running.load(), now);
          std::lock_guard lock(drainers_mutex);
          drainers.emplace_back(drain);
        }
      }
    });
  }
  for (auto& producer : producers) producer.join();
  {
    std::lock_guard lock(drainers_mutex);
    for (auto& drainer : drainers) drainer.join();
  }
  EXPECT_EQ(taken.load(), kProducers * kFramesEach);
  for (const auto& count : seen) EXPECT_EQ(count.load(), 1);
  EXPECT_LE(most_running.load(), static_cast<int>(kDrainers));
}

}  // namespace
}  // namespace carbon::node
