#include "node/payload.h"

#include <algorithm>
#include <string>

#include "core/assert.h"
#include "core/codec.h"

namespace carbon::node {

core::Bytes encode_payload(const BlockPayload& payload) { return core::codec::encode(payload); }

core::Result<BlockPayload> decode_payload(core::ByteView bytes) {
  return core::codec::decode<BlockPayload>(bytes, consensus::kMaxPayloadBytes);
}

namespace {

// Little-endian fixed-width integer at `at`; the caller checked the bounds.
template <class T>
T read_le(const std::uint8_t* at) {
  T value = 0;
  for (std::size_t i = sizeof(T); i-- > 0;) value = static_cast<T>((value << 8) | at[i]);
  return value;
}

// Before the transactions: the endianness byte, executed_height, executed_root, the count.
constexpr std::size_t kPayloadHeaderBytes = 1 + 8 + 32 + 4;

core::Status malformed(const std::string& what) {
  return core::Status::error(core::ErrorCode::kDecodeError, "malformed payload: " + what);
}

}  // namespace

core::Result<PayloadView> view_payload(core::ByteView bytes) {
  // The codec's layout of BlockPayload (cereal's portable binary archive, core/codec.h): one
  // byte 1 (little-endian; the only canonical value), executed_height as u64, executed_root as
  // 32 bytes, the count as u32, then each transaction as a u32 length and its bytes. Every byte
  // must be used, as decode() requires.
  if (bytes.size() > consensus::kMaxPayloadBytes) {
    return core::Status::error(core::ErrorCode::kOutOfBounds, "encoded value of " + std::to_string(bytes.size()) +
                                                                  " bytes exceeds limit " +
                                                                  std::to_string(consensus::kMaxPayloadBytes));
  }
  if (bytes.size() < kPayloadHeaderBytes) return malformed("shorter than its header");
  const std::uint8_t* at = bytes.data();
  if (at[0] != 1) return malformed("not little-endian");
  PayloadView view;
  view.executed_height = read_le<std::uint64_t>(at + 1);
  std::copy(at + 9, at + 41, view.executed_root.bytes.begin());
  const std::uint32_t count = read_le<std::uint32_t>(at + 41);
  std::size_t offset = kPayloadHeaderBytes;
  if (count > kMaxTxsPerPayload) return malformed(std::to_string(count) + " transactions, the limit is " + std::to_string(kMaxTxsPerPayload));
  if (count > (bytes.size() - offset) / 4) return malformed("more transactions than bytes");
  view.txs.reserve(count);
  for (std::uint32_t i = 0; i < count; ++i) {
    if (bytes.size() - offset < 4) return malformed("truncated");
    const std::uint32_t length = read_le<std::uint32_t>(at + offset);
    offset += 4;
    if (length > contracts::kMaxTxBytes) return malformed("a transaction over " + std::to_string(contracts::kMaxTxBytes) + " bytes");
    if (length > bytes.size() - offset) return malformed("truncated");
    view.txs.emplace_back(at + offset, length);
    offset += length;
  }
  if (offset != bytes.size()) return malformed(std::to_string(bytes.size() - offset) + " trailing bytes");
  return view;
}

void append_payload(core::Bytes& out, std::uint64_t executed_height, const core::Hash256& executed_root,
                    const std::vector<core::ByteView>& txs) {
  // The layout view_payload reads (see there).
  CARBON_ASSERT_MSG(txs.size() <= kMaxTxsPerPayload, "encoding a payload over its transaction limit");
  auto put_le = [&out](std::uint64_t value, std::size_t bytes) {
    for (std::size_t i = 0; i < bytes; ++i) out.push_back(static_cast<std::uint8_t>(value >> (8 * i)));
  };
  std::size_t size = kPayloadHeaderBytes;
  for (const auto& tx : txs) size += 4 + tx.size();
  out.reserve(out.size() + size);
  out.push_back(1);
  put_le(executed_height, 8);
  out.insert(out.end(), executed_root.bytes.begin(), executed_root.bytes.end());
  put_le(txs.size(), 4);
  for (const auto& tx : txs) {
    CARBON_ASSERT_MSG(tx.size() <= contracts::kMaxTxBytes, "encoding a transaction over its size limit");
    put_le(tx.size(), 4);
    out.insert(out.end(), tx.begin(), tx.end());
  }
}

core::Bytes encode_tx_gossip(const std::vector<std::shared_ptr<const core::Bytes>>& txs) {
  std::vector<core::ByteView> views;
  views.reserve(txs.size());
  for (const auto& tx : txs) views.emplace_back(*tx);
  core::Bytes frame{static_cast<std::uint8_t>(FrameKind::kTxGossip)};
  append_payload(frame, 0, core::Hash256{}, views);
  return frame;
}

}  // namespace carbon::node
