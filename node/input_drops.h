// What a validator refused or dropped at its edges (peer port, peers' frames, gossip), summed up
// for the operator log: a line every 30 s when something changed, instead of a line per event
// that whoever reaches the port could multiply (node/main.cc logs it).
//
// Thread safety: plain values and a pure function.
#pragma once

#include <cstdint>
#include <string>

namespace carbon::node {

struct InputDropCounts {
  // Inbound connections and handshakes (node/p2p/transport_stats.h).
  std::uint64_t inbound_failed = 0;  // closed before authenticating, whatever the reason
  std::uint64_t handshakes_rejected = 0;
  std::uint64_t handshake_timeouts = 0;
  std::uint64_t inbound_over_limit = 0;
  std::uint64_t frames_rejected_oversize = 0;
  std::uint64_t frames_rejected_decrypt = 0;
  // Authenticated validators' frames.
  std::uint64_t unknown_kind_frames = 0;
  std::uint64_t malformed_gossip_frames = 0;
  std::uint64_t gossip_frames_dropped = 0;  // 32 MiB of gossip were waiting for admission
};

// "refused or dropped at the edges in the last 30 s: 3 inbound connections closed before
// authenticating, 3 handshakes refused (...), 1 malformed gossip frame", naming only the counts
// that grew from `before` to `now`; empty when none did.
std::string input_drop_summary(const InputDropCounts& before, const InputDropCounts& now, unsigned window_s);

}  // namespace carbon::node
