#include "node/parallel.h"

#include <atomic>
#include <boost/asio/post.hpp>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>

namespace carbon::node {

namespace {

// Shared with the helpers, which may start after the caller returned (they then find no item
// left and never touch `work`).
struct Job {
  explicit Job(std::size_t item_count, const std::function<bool(std::size_t)>& job_work)
      : count(item_count), work(&job_work) {}
  const std::size_t count;
  const std::function<bool(std::size_t)>* work;  // valid while an item is unfinished
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::mutex mutex;
  std::condition_variable idle;
  std::size_t active = 0;  // guarded by mutex: workers between taking their first item and leaving
  std::exception_ptr error;  // guarded by mutex: the first exception an item threw

  // Takes and runs items until none is left or one failed. Never throws: an exception from an
  // item (an allocation failure, say) stops the job like a failure and reaches the caller, which
  // must not return while a helper may still be inside `work`.
  void run() noexcept {
    {
      std::lock_guard lock(mutex);
      ++active;
    }
    for (;;) {
      if (failed.load()) break;
      const std::size_t i = next.fetch_add(1);
      if (i >= count) break;
      try {
        if (!(*work)(i)) failed.store(true);
      } catch (...) {
        std::lock_guard lock(mutex);
        if (!error) error = std::current_exception();
        failed.store(true);
      }
    }
    std::lock_guard lock(mutex);
    if (--active == 0) idle.notify_all();
  }
};

}  // namespace

bool parallel_for(boost::asio::thread_pool& pool, std::size_t helpers, std::size_t count,
                  const std::function<bool(std::size_t)>& work) {
  if (count == 0) return true;
  auto job = std::make_shared<Job>(count, work);
  // One helper per item at most: a helper for an item the caller takes anyway costs a post.
  const std::size_t posted = std::min(helpers, count - 1);
  for (std::size_t h = 0; h < posted; ++h) {
    boost::asio::post(pool, [job] { job->run(); });
  }
  job->run();
  // Every item is taken (or the job failed); wait for the helpers still running one. A helper
  // that starts from now on takes no item: `next` is past the end or `failed` is set.
  std::unique_lock lock(job->mutex);
  job->idle.wait(lock, [&] { return job->active == 0; });
  if (job->error) std::rethrow_exception(job->error);
  return !job->failed.load();
}

}  // namespace carbon::node
