#include "node/payload.h"

#include "core/codec.h"

namespace carbon::node {

core::Bytes encode_payload(const BlockPayload& payload) { return core::codec::encode(payload); }

core::Result<BlockPayload> decode_payload(core::ByteView bytes) {
  return core::codec::decode<BlockPayload>(bytes, consensus::kMaxPayloadBytes);
}

core::Bytes encode_tx_gossip(const std::vector<std::shared_ptr<const core::Bytes>>& txs) {
  BlockPayload batch;
  batch.txs.reserve(txs.size());
  for (const auto& tx : txs) batch.txs.push_back(EncodedTx{*tx});
  core::Bytes frame{static_cast<std::uint8_t>(FrameKind::kTxGossip)};
  const core::Bytes body = encode_payload(batch);
  frame.insert(frame.end(), body.begin(), body.end());
  return frame;
}

}  // namespace carbon::node
