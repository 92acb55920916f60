#include "node/input_drops.h"

namespace carbon::node {

std::string input_drop_summary(const InputDropCounts& before, const InputDropCounts& now, unsigned window_s) {
  struct Kind {
    std::uint64_t InputDropCounts::*count;
    const char* one;   // "1 <one>"
    const char* many;  // "N <many>"
  };
  static constexpr Kind kKinds[] = {
      {&InputDropCounts::inbound_failed, "inbound connection closed before authenticating",
       "inbound connections closed before authenticating"},
      {&InputDropCounts::handshakes_rejected, "handshake refused (bad hello or auth, key not in genesis)",
       "handshakes refused (bad hello or auth, key not in genesis)"},
      {&InputDropCounts::handshake_timeouts, "handshake timed out", "handshakes timed out"},
      {&InputDropCounts::inbound_over_limit, "pending inbound connection closed at the pending-handshake limit",
       "pending inbound connections closed at the pending-handshake limit"},
      {&InputDropCounts::frames_rejected_oversize, "frame over the size limit (link closed)",
       "frames over the size limit (links closed)"},
      {&InputDropCounts::frames_rejected_decrypt, "frame failed authentication (link closed)",
       "frames failed authentication (links closed)"},
      {&InputDropCounts::unknown_kind_frames, "validator frame of unknown kind", "validator frames of unknown kind"},
      {&InputDropCounts::malformed_gossip_frames, "malformed gossip frame", "malformed gossip frames"},
      {&InputDropCounts::gossip_frames_dropped, "gossip frame dropped (32 MiB waiting for admission)",
       "gossip frames dropped (32 MiB waiting for admission)"},
  };
  std::string line;
  for (const Kind& kind : kKinds) {
    const std::uint64_t was = before.*kind.count;
    const std::uint64_t is = now.*kind.count;
    if (is <= was) continue;  // counters only grow; a smaller value would be a restart's, not news
    const std::uint64_t grown = is - was;
    line += (line.empty() ? "" : ", ") + std::to_string(grown) + " " + (grown == 1 ? kind.one : kind.many);
  }
  if (line.empty()) return {};
  return "refused or dropped at the edges in the last " + std::to_string(window_s) + " s: " + line;
}

}  // namespace carbon::node
