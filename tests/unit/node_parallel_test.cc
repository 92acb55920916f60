// parallel_for (node/parallel.h): every item exactly once, an early stop, and no deadlock when
// the caller is a thread of the pool whose other threads are all busy.
#include "node/parallel.h"

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <future>
#include <stdexcept>
#include <thread>
#include <vector>

namespace carbon::node {
namespace {

TEST(ParallelFor, CallsEveryItemExactlyOnce) {
  boost::asio::thread_pool pool(3);
  constexpr std::size_t kItems = 10'000;
  std::vector<std::atomic<int>> calls(kItems);
  const bool all_passed = parallel_for(pool, 2, kItems, [&](std::size_t i) {
    calls[i].fetch_add(1);
    // Some work per item, so that helpers get a chance to take some.
    volatile std::uint64_t sink = 0;
    for (int k = 0; k < 200; ++k) sink = sink + static_cast<std::uint64_t>(k) * i;
    return true;
  });
  EXPECT_TRUE(all_passed);
  for (std::size_t i = 0; i < kItems; ++i) ASSERT_EQ(calls[i].load(), 1) << "item " << i;
  pool.join();
}

TEST(ParallelFor, HelpersTakeItemsWhenThePoolIsFree) {
  boost::asio::thread_pool pool(2);
  constexpr std::size_t kItems = 64;
  const auto caller = std::this_thread::get_id();
  std::atomic<int> by_others{0};
  const bool all_passed = parallel_for(pool, 2, kItems, [&](std::size_t) {
    if (std::this_thread::get_id() != caller) {
      by_others.fetch_add(1);
      return true;
    }
    // The caller's first item waits (up to 20 s, for a loaded machine) until a helper took one.
    for (int waited_ms = 0; by_others.load() == 0 && waited_ms < 20'000; ++waited_ms) {
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
  });
  EXPECT_TRUE(all_passed);
  EXPECT_GT(by_others.load(), 0);
  pool.join();
}

TEST(ParallelFor, StopsTakingItemsAfterAFailure) {
  boost::asio::thread_pool pool(2);
  constexpr std::size_t kItems = 100'000;
  std::atomic<std::size_t> calls{0};
  const bool all_passed = parallel_for(pool, 1, kItems, [&](std::size_t i) {
    calls.fetch_add(1);
    return i != 10;
  });
  EXPECT_FALSE(all_passed);
  // Item 10 failed; at most the items already taken by then ran (a handful per thread).
  EXPECT_LT(calls.load(), 1000u);
  pool.join();
}

TEST(ParallelFor, AnExceptionReachesTheCallerOnlyOnceNoItemIsRunning) {
  boost::asio::thread_pool pool(2);
  const auto caller = std::this_thread::get_id();
  std::atomic<int> running{0};
  std::atomic<int> running_when_thrown_out{-1};
  std::atomic<bool> helper_started{false};
  try {
    (void)parallel_for(pool, 1, 1000, [&](std::size_t) {
      running.fetch_add(1);
      if (std::this_thread::get_id() == caller) {
        // Throw only once a helper is inside an item too (up to 20 s on a loaded machine).
        for (int waited_ms = 0; !helper_started.load() && waited_ms < 20'000; ++waited_ms) {
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        running.fetch_sub(1);
        throw std::runtime_error("item failed");
      }
      helper_started.store(true);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));  // still inside when the caller throws
      running.fetch_sub(1);
      return true;
    });
    ADD_FAILURE() << "the exception did not reach the caller";
  } catch (const std::runtime_error& error) {
    running_when_thrown_out.store(running.load());
    EXPECT_STREQ(error.what(), "item failed");
  }
  EXPECT_TRUE(helper_started.load());
  // The helper's item had finished before parallel_for let the exception out.
  EXPECT_EQ(running_when_thrown_out.load(), 0);
  pool.join();
}

TEST(ParallelFor, NoItemsIsTrueAndCallsNothing) {
  boost::asio::thread_pool pool(1);
  bool called = false;
  EXPECT_TRUE(parallel_for(pool, 1, 0, [&](std::size_t) {
    called = true;
    return true;
  }));
  EXPECT_FALSE(called);
  pool.join();
}

TEST(ParallelFor, FinishesOnAPoolThreadWhileEveryOtherPoolThreadIsBusy) {
  boost::asio::thread_pool pool(2);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> blocker_running;
  // The pool's other thread is held until the job is done: a helper posted by the job cannot
  // start, and parallel_for must not wait for it.
  boost::asio::post(pool, [&, released] {
    blocker_running.set_value();
    released.wait();
  });
  blocker_running.get_future().wait();
  std::promise<std::size_t> done;
  boost::asio::post(pool, [&] {
    std::atomic<std::size_t> calls{0};
    const bool all_passed = parallel_for(pool, 1, 500, [&](std::size_t) {
      calls.fetch_add(1);
      return true;
    });
    done.set_value(all_passed ? calls.load() : 0);
  });
  auto result = done.get_future();
  ASSERT_EQ(result.wait_for(std::chrono::seconds(20)), std::future_status::ready) << "parallel_for deadlocked";
  EXPECT_EQ(result.get(), 500u);
  release.set_value();
  pool.join();
}

}  // namespace
}  // namespace carbon::node
