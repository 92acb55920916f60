// The operator's summary of what a validator refused or dropped at its edges (node/input_drops.h).
#include <gtest/gtest.h>

#include "node/input_drops.h"

namespace carbon::node {
namespace {

TEST(InputDrops, NamesOnlyWhatGrewSinceTheLastSummary) {
  InputDropCounts before;
  before.handshakes_rejected = 10;
  before.malformed_gossip_frames = 2;
  EXPECT_EQ(input_drop_summary(before, before, 30), "");

  InputDropCounts now = before;
  now.handshakes_rejected = 510;
  now.inbound_over_limit = 1;
  now.unknown_kind_frames = 44;
  EXPECT_EQ(input_drop_summary(before, now, 30),
            "refused or dropped at the edges in the last 30 s: 500 handshakes refused (bad hello or auth, key not in "
            "genesis), 1 pending inbound connection closed at the pending-handshake limit, 44 validator frames of unknown kind");

  InputDropCounts closed = before;
  closed.inbound_failed = 7;
  EXPECT_EQ(input_drop_summary(before, closed, 30),
            "refused or dropped at the edges in the last 30 s: 7 inbound connections closed before authenticating");

  InputDropCounts gossip = before;
  gossip.malformed_gossip_frames = 3;
  gossip.gossip_frames_dropped = 2;
  gossip.handshake_timeouts = 1;
  EXPECT_EQ(input_drop_summary(before, gossip, 30),
            "refused or dropped at the edges in the last 30 s: 1 handshake timed out, 1 malformed gossip frame, "
            "2 gossip frames dropped (32 MiB waiting for admission)");
}

TEST(InputDrops, ACounterThatWentBackIsNotReported) {
  InputDropCounts before;
  before.frames_rejected_decrypt = 5;
  InputDropCounts now;  // all zero
  EXPECT_EQ(input_drop_summary(before, now, 30), "");
}

}  // namespace
}  // namespace carbon::node
