#include "consensus/types.h"

#include "core/codec.h"

namespace carbon::consensus {

std::optional<ValidatorIndex> ValidatorSet::index_of(const PublicKey& key) const {
  for (std::size_t i = 0; i < validators.size(); ++i) {
    if (validators[i].key == key) return static_cast<ValidatorIndex>(i);
  }
  return std::nullopt;
}

Round TimeoutCert::max_high_qc_round() const {
  Round out = 0;
  for (const auto& entry : entries) out = std::max(out, entry.high_qc_round);
  return out;
}

Hash256 Block::id() const {
  const Bytes encoded = core::codec::encode(header);
  core::Sha3Hasher hasher;
  hasher.update(core::as_bytes("carbonledger/block-id/v1"));
  hasher.update(encoded);
  return hasher.finish();
}

Block make_genesis_block(const std::string& chain_id, Epoch epoch, std::uint64_t genesis_time_ms) {
  Block genesis;
  genesis.header.chain_id = chain_id;
  genesis.header.epoch = epoch;
  genesis.header.timestamp_ms = genesis_time_ms;
  genesis.header.payload_digest = core::sha3_256({});
  genesis.parent_qc.chain_id = chain_id;
  genesis.parent_qc.epoch = epoch;
  return genesis;
}

QuorumCert make_genesis_qc(const Block& genesis) {
  QuorumCert qc;
  qc.chain_id = genesis.header.chain_id;
  qc.epoch = genesis.header.epoch;
  qc.round = 0;
  qc.block_id = genesis.id();
  return qc;
}

const char* message_kind(const Message& message) {
  static constexpr const char* kNames[] = {"proposal", "vote", "timeout", "sync_request", "sync_response"};
  return kNames[message.index()];
}

namespace {
// Signing digests are built by hand from length-prefixed, little-endian parts: a fixed layout
// that anyone can re-implement to check a signature without our codec.
class DigestBuilder {
 public:
  explicit DigestBuilder(std::string_view domain) { text(domain); }
  DigestBuilder& text(std::string_view value) {
    u64(value.size());
    hasher_.update(core::as_bytes(value));
    return *this;
  }
  DigestBuilder& u64(std::uint64_t value) {
    std::array<std::uint8_t, 8> bytes{};
    for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(value >> (8 * i));
    hasher_.update(bytes);
    return *this;
  }
  DigestBuilder& hash(const Hash256& value) {
    hasher_.update(value.bytes);
    return *this;
  }
  Hash256 finish() { return hasher_.finish(); }

 private:
  core::Sha3Hasher hasher_;
};
}  // namespace

Hash256 signing_digest_block(const Hash256& block_id) {
  return DigestBuilder("carbonledger/proposal/v1").hash(block_id).finish();
}

Hash256 signing_digest_vote(const std::string& chain_id, Epoch epoch, Round round, const Hash256& block_id) {
  return DigestBuilder("carbonledger/vote/v1").text(chain_id).u64(epoch).u64(round).hash(block_id).finish();
}

Hash256 signing_digest_timeout(const std::string& chain_id, Epoch epoch, Round round, Round high_qc_round) {
  return DigestBuilder("carbonledger/timeout/v1").text(chain_id).u64(epoch).u64(round).u64(high_qc_round).finish();
}

Bytes encode_message(const Message& message) { return core::codec::encode(message); }
core::Result<Message> decode_message(core::ByteView bytes) {
  return core::codec::decode<Message>(bytes, kMaxMessageBytes);
}
Bytes encode_safety_data(const SafetyData& data) { return core::codec::encode(data); }
core::Result<SafetyData> decode_safety_data(core::ByteView bytes) { return core::codec::decode<SafetyData>(bytes); }
Bytes encode_block(const Block& block) { return core::codec::encode(block); }
core::Result<Block> decode_block(core::ByteView bytes) { return core::codec::decode<Block>(bytes, kMaxMessageBytes); }

}  // namespace carbon::consensus
