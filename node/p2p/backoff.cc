#include "node/p2p/backoff.h"

#include <algorithm>

#include "core/assert.h"

namespace carbon::node::p2p {

Backoff::Backoff(std::uint32_t initial_ms, std::uint32_t max_ms)
    : initial_ms_(initial_ms), max_ms_(max_ms), next_ms_(initial_ms) {
  CARBON_ASSERT(initial_ms > 0 && initial_ms <= max_ms);
}

std::uint32_t Backoff::next_delay_ms() {
  const std::uint32_t delay = next_ms_;
  next_ms_ = next_ms_ > max_ms_ / 2 ? max_ms_ : std::min(max_ms_, next_ms_ * 2);
  return delay;
}

}  // namespace carbon::node::p2p
