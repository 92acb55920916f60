// The in-place payload reader (node/payload.h view_payload) against the codec's decoder: the
// same verdict and the same contents on genuine payloads and on truncated, extended and
// corrupted ones, so that a block one reader takes the other cannot refuse (a vote check and
// an execution that disagree would split honest nodes).
#include <gtest/gtest.h>

#include <memory>
#include <random>

#include "node/payload.h"

namespace carbon::node {
namespace {

BlockPayload random_payload(std::mt19937_64& random) {
  BlockPayload payload;
  payload.executed_height = random() % 3 == 0 ? 0 : random();
  for (auto& b : payload.executed_root.bytes) b = static_cast<std::uint8_t>(random());
  const std::size_t count = random() % 40;
  for (std::size_t i = 0; i < count; ++i) {
    EncodedTx tx;
    tx.bytes.resize(random() % 5 == 0 ? 0 : random() % 300);
    for (auto& b : tx.bytes) b = static_cast<std::uint8_t>(random());
    payload.txs.push_back(std::move(tx));
  }
  return payload;
}

// Both readers' verdicts on `bytes`, and equal contents when both accept.
void expect_same_reading(core::ByteView bytes, const std::string& what) {
  const auto decoded = decode_payload(bytes);
  const auto viewed = view_payload(bytes);
  ASSERT_EQ(decoded.is_ok(), viewed.is_ok())
      << what << ": decode says " << (decoded.is_ok() ? "ok" : decoded.status().message()) << ", view says "
      << (viewed.is_ok() ? "ok" : viewed.status().message());
  if (!decoded.is_ok()) return;
  EXPECT_EQ(viewed->executed_height, decoded->executed_height) << what;
  EXPECT_EQ(viewed->executed_root, decoded->executed_root) << what;
  ASSERT_EQ(viewed->txs.size(), decoded->txs.size()) << what;
  for (std::size_t i = 0; i < decoded->txs.size(); ++i) {
    EXPECT_TRUE(std::equal(viewed->txs[i].begin(), viewed->txs[i].end(), decoded->txs[i].bytes.begin(),
                           decoded->txs[i].bytes.end()))
        << what << ": transaction " << i;
  }
}

TEST(NodePayloadView, ReadsWhatTheCodecWrites) {
  std::mt19937_64 random(7);
  for (int round = 0; round < 200; ++round) {
    const BlockPayload payload = random_payload(random);
    const core::Bytes bytes = encode_payload(payload);
    const auto viewed = view_payload(bytes);
    ASSERT_TRUE(viewed.is_ok()) << viewed.status().message();
    EXPECT_EQ(viewed->txs.size(), payload.txs.size());
    expect_same_reading(bytes, "genuine payload " + std::to_string(round));
  }
}

TEST(NodePayloadView, AgreesWithTheDecoderOnDamagedPayloads) {
  std::mt19937_64 random(11);
  std::size_t refused = 0;
  for (int round = 0; round < 200; ++round) {
    const core::Bytes bytes = encode_payload(random_payload(random));
    const std::string name = "payload " + std::to_string(round);
    // Cut short anywhere (every cut of the header and the first lengths, then a sample).
    for (std::size_t cut = 0; cut < bytes.size(); cut += (cut < 64 ? 1 : 1 + random() % 97)) {
      expect_same_reading(core::ByteView(bytes.data(), cut), name + " cut at " + std::to_string(cut));
      if (!view_payload(core::ByteView(bytes.data(), cut)).is_ok()) ++refused;
    }
    core::Bytes longer = bytes;
    longer.push_back(static_cast<std::uint8_t>(random()));
    expect_same_reading(longer, name + " with a trailing byte");
    // One byte changed, anywhere, with the header and length fields most often.
    for (int flip = 0; flip < 30; ++flip) {
      core::Bytes damaged = bytes;
      const std::size_t at = flip < 15 ? random() % std::min<std::size_t>(bytes.size(), 60) : random() % bytes.size();
      damaged[at] = static_cast<std::uint8_t>(damaged[at] ^ (1u << (random() % 8)));
      expect_same_reading(damaged, name + " with byte " + std::to_string(at) + " changed");
    }
  }
  EXPECT_GT(refused, 1000u);  // the damaged inputs really were refused, not read as something
}

TEST(NodePayloadView, RefusesCountsAndLengthsOverTheLimits) {
  BlockPayload payload;
  payload.txs.push_back(EncodedTx{core::Bytes(contracts::kMaxTxBytes + 1, 7)});
  // Encoding it would assert (the encoder refuses what the decoder would); build it by hand.
  core::Bytes oversize = encode_payload(BlockPayload{});
  oversize[41] = 1;  // count 1
  const std::uint32_t length = static_cast<std::uint32_t>(contracts::kMaxTxBytes + 1);
  for (int i = 0; i < 4; ++i) oversize.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
  oversize.insert(oversize.end(), payload.txs[0].bytes.begin(), payload.txs[0].bytes.end());
  expect_same_reading(oversize, "a transaction over the size limit");
  EXPECT_FALSE(view_payload(oversize).is_ok());

  core::Bytes too_many = encode_payload(BlockPayload{});
  const std::uint32_t count = static_cast<std::uint32_t>(kMaxTxsPerPayload + 1);
  for (std::size_t i = 0; i < 4; ++i) too_many[41 + i] = static_cast<std::uint8_t>(count >> (8 * i));
  too_many.resize(too_many.size() + 4 * (kMaxTxsPerPayload + 1), 0);  // room for that many empty ones
  expect_same_reading(too_many, "one transaction over the count limit");
  EXPECT_FALSE(view_payload(too_many).is_ok());
}

TEST(NodePayloadView, WritingFromViewsEqualsTheCodec) {
  std::mt19937_64 random(13);
  for (int round = 0; round < 200; ++round) {
    const BlockPayload payload = random_payload(random);
    std::vector<core::ByteView> views;
    for (const auto& tx : payload.txs) views.emplace_back(tx.bytes);
    core::Bytes written{0xAB};  // appends after what is there
    append_payload(written, payload.executed_height, payload.executed_root, views);
    const core::Bytes expected = encode_payload(payload);
    ASSERT_EQ(written.size(), expected.size() + 1) << "payload " << round;
    EXPECT_EQ(written[0], 0xAB);
    EXPECT_TRUE(std::equal(expected.begin(), expected.end(), written.begin() + 1)) << "payload " << round;
  }
  // The gossip frame: its kind, then a payload holding the transactions.
  std::vector<std::shared_ptr<const core::Bytes>> txs = {std::make_shared<const core::Bytes>(core::Bytes{1, 2, 3}),
                                                         std::make_shared<const core::Bytes>(core::Bytes{})};
  const core::Bytes frame = encode_tx_gossip(txs);
  ASSERT_FALSE(frame.empty());
  EXPECT_EQ(frame[0], static_cast<std::uint8_t>(FrameKind::kTxGossip));
  const auto body = decode_payload(core::ByteView(frame).subspan(1));
  ASSERT_TRUE(body.is_ok()) << body.status().message();
  ASSERT_EQ(body->txs.size(), 2u);
  EXPECT_EQ(body->txs[0].bytes, (core::Bytes{1, 2, 3}));
  EXPECT_TRUE(body->txs[1].bytes.empty());
}

}  // namespace
}  // namespace carbon::node
