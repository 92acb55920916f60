#include "node/input_drops.h"

#include <vector>

namespace carbon::node {

std::string input_drop_summary(const InputDropCounts& before, const InputDropCounts& now, unsigned window_s) {
  std::vector<std::string> parts;
  const auto add = [&parts](std::uint64_t was, std::uint64_t is, const char* one, const char* many) {
    if (is <= was) return;  // counters only grow; a smaller value would be a restart's, not news
    const std::uint64_t grown = is - was;
    parts.push_back(std::to_string(grown) + " " + (grown == 1 ? one : many));
  };
  add(before.inbound_failed, now.inbound_failed, "inbound connection closed before authenticating",
      "inbound connections closed before authenticating");
  add(before.handshakes_rejected, now.handshakes_rejected, "handshake refused (bad hello or auth, key not in genesis)",
      "handshakes refused (bad hello or auth, key not in genesis)");
  add(before.handshake_timeouts, now.handshake_timeouts, "handshake timed out", "handshakes timed out");
  add(before.inbound_over_limit, now.inbound_over_limit, "inbound connection closed at the pending-handshake limit",
      "inbound connections closed at the pending-handshake limit");
  add(before.frames_rejected_oversize, now.frames_rejected_oversize, "frame over the size limit (link closed)",
      "frames over the size limit (links closed)");
  add(before.frames_rejected_decrypt, now.frames_rejected_decrypt, "frame failed authentication (link closed)",
      "frames failed authentication (links closed)");
  add(before.unknown_kind_frames, now.unknown_kind_frames, "validator frame of unknown kind",
      "validator frames of unknown kind");
  add(before.malformed_gossip_frames, now.malformed_gossip_frames, "malformed gossip frame", "malformed gossip frames");
  add(before.gossip_frames_dropped, now.gossip_frames_dropped, "gossip frame dropped (32 MiB waiting for admission)",
      "gossip frames dropped (32 MiB waiting for admission)");
  if (parts.empty()) return {};
  std::string line = "refused or dropped at the edges in the last " + std::to_string(window_s) + " s: ";
  for (std::size_t i = 0; i < parts.size(); ++i) line += (i == 0 ? "" : ", ") + parts[i];
  return line;
}

}  // namespace carbon::node
