// Exponential reconnect backoff, capped: initial, 2x initial, 4x ... up to max, back to initial
// after reset() (a successful handshake). Jitter is added by the caller so this stays pure.
//
// Thread safety: a plain value; not shared.
#pragma once

#include <cstdint>

namespace carbon::node::p2p {

class Backoff {
 public:
  Backoff(std::uint32_t initial_ms, std::uint32_t max_ms);

  // The delay before the next attempt; each call doubles the following one up to max_ms.
  std::uint32_t next_delay_ms();
  void reset() { next_ms_ = initial_ms_; }

 private:
  std::uint32_t initial_ms_;
  std::uint32_t max_ms_;
  std::uint32_t next_ms_;
};

}  // namespace carbon::node::p2p
