// Gossip frames waiting for the admission pool. Each pool job ("drainer") takes every frame that
// waits (up to kMaxDrainBytes) and admits them as one set, so that under load frames from
// several peers share signature batches, while under light load a frame is taken as soon as it
// arrives. At most `max_drainers` jobs run at once; a frame queued while they all run is taken
// by one of them before it stops (add() and take() decide under one lock).
//
// Bounds: the caller bounds the bytes queued (node/main.cc: kMaxGossipBytesInFlight).
// Thread safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <mutex>
#include <optional>
#include <vector>

#include "core/bytes.h"

namespace carbon::node {

class GossipInbox {
 public:
  static constexpr std::size_t kMaxDrainBytes = 1024 * 1024;

  explicit GossipInbox(unsigned max_drainers) : max_drainers_(max_drainers) {}

  // Queues a frame that arrived at `arrived`; true when the caller must start a drainer (fewer
  // than the maximum run).
  bool add(core::Bytes frame, std::chrono::steady_clock::time_point arrived = std::chrono::steady_clock::now()) {
    std::lock_guard lock(mutex_);
    waiting_.push_back({std::move(frame), arrived});
    if (drainers_ >= max_drainers_) return false;
    ++drainers_;
    return true;
  }

  // A drainer's next frames: all that wait, up to kMaxDrainBytes, and at least one. False when
  // none wait: the drainer stops (and counts as stopped from then on).
  bool take(std::vector<core::Bytes>& frames) {
    std::lock_guard lock(mutex_);
    take_locked(frames, kMaxDrainBytes, /*at_least_one=*/true);
    if (frames.empty()) --drainers_;
    return !frames.empty();
  }

  // For a leader about to build its block (Application::admit_waiting_gossip): the frames that
  // wait, in arrival order, up to kMaxLeaderTakeBytes in all (a frame that would go beyond it
  // stays, even the first: it is left to the drainers), taken outside the drainers' count. The
  // drainers are unaffected: each stops when it finds nothing left. False when none is taken.
  static constexpr std::size_t kMaxLeaderTakeBytes = 256 * 1024;
  bool take_waiting(std::vector<core::Bytes>& frames) {
    std::lock_guard lock(mutex_);
    take_locked(frames, kMaxLeaderTakeBytes, /*at_least_one=*/false);
    return !frames.empty();
  }
  bool empty() const {
    std::lock_guard lock(mutex_);
    return waiting_.empty();
  }
  // When the oldest frame still waiting arrived (none: nothing waits). How far admission lags
  // behind the gossip, for the operator (GET /status).
  std::optional<std::chrono::steady_clock::time_point> oldest_arrival() const {
    std::lock_guard lock(mutex_);
    if (waiting_.empty()) return std::nullopt;
    return waiting_.front().arrived;
  }

 private:
  // Replaces `frames` with the waiting frames, oldest first, while they fit in max_bytes in all;
  // with at_least_one, the first is taken even when it alone does not fit. Called under mutex_.
  void take_locked(std::vector<core::Bytes>& frames, std::size_t max_bytes, bool at_least_one) {
    frames.clear();
    std::size_t bytes = 0;
    while (!waiting_.empty() && ((at_least_one && frames.empty()) || bytes + waiting_.front().frame.size() <= max_bytes)) {
      bytes += waiting_.front().frame.size();
      frames.push_back(std::move(waiting_.front().frame));
      waiting_.pop_front();
    }
  }

  struct Waiting {
    core::Bytes frame;
    std::chrono::steady_clock::time_point arrived;
  };
  const unsigned max_drainers_;
  mutable std::mutex mutex_;
  std::deque<Waiting> waiting_;  // guarded by mutex_
  unsigned drainers_ = 0;        // guarded by mutex_
};

}  // namespace carbon::node
