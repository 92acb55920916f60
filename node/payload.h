// What a block's opaque consensus payload holds in carbonledger: a batch of encoded signed
// transactions, and the state root this node's leader had after executing some earlier height
// (every node checks that claim against its own root for that height, and halts on a
// mismatch: execution must be identical everywhere).
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <vector>

#include "consensus/limits.h"
#include "contracts/limits.h"
#include "core/bytes.h"
#include "core/codec_fields.h"
#include "core/hash.h"
#include "core/status.h"

namespace carbon::node {

inline constexpr std::size_t kMaxTxsPerPayload = 20'000;

struct EncodedTx {
  core::Bytes bytes;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_bytes(archive, bytes, contracts::kMaxTxBytes);
  }
};

struct BlockPayload {
  std::uint64_t executed_height = 0;  // 0: no claim
  core::Hash256 executed_root;
  std::vector<EncodedTx> txs;
  template <class A>
  void serialize(A& archive) {
    archive(executed_height, executed_root);
    core::codec::bounded_vector(archive, txs, kMaxTxsPerPayload, 4);
  }
};

core::Bytes encode_payload(const BlockPayload& payload);
core::Result<BlockPayload> decode_payload(core::ByteView bytes);

// A payload read in place: each transaction is a view into the bytes it was read from (valid
// while they are), so a node that reads every block several times (vote check, execution, RPC)
// copies and allocates nothing per transaction. Accepts exactly what decode_payload accepts,
// with the same values (a differential test holds the two together).
struct PayloadView {
  std::uint64_t executed_height = 0;
  core::Hash256 executed_root;
  std::vector<core::ByteView> txs;
};
core::Result<PayloadView> view_payload(core::ByteView bytes);

// Appends to `out` exactly what encode_payload writes for a payload holding these
// transactions, written straight from the views (no copy of each transaction first).
void append_payload(core::Bytes& out, std::uint64_t executed_height, const core::Hash256& executed_root,
                    const std::vector<core::ByteView>& txs);

// Frames between validators start with one of these bytes.
enum class FrameKind : std::uint8_t { kConsensus = 1, kTxGossip = 2 };

// A gossip frame: kTxGossip then a BlockPayload-shaped list (executed_* unused).
core::Bytes encode_tx_gossip(const std::vector<std::shared_ptr<const core::Bytes>>& txs);

}  // namespace carbon::node
