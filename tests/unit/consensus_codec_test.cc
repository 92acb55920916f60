// The consensus wire and storage encoding: every message kind and the safety data survive a
// round trip byte for byte (and still verify), and no prefix of an encoding decodes.
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "consensus/types.h"
#include "tests/unit/consensus_harness.h"

namespace carbon::consensus {
namespace {

using harness::Harness;
using harness::kChainId;
using harness::kEpoch;

class ConsensusCodecTest : public ::testing::Test, protected Harness {
 protected:
  const Block b1 = make_block(1, genesis, genesis_qc, "batch of transactions for round one");
  const Block b2 = extend(2, b1, "round two");
  const TimeoutCert tc2 = make_tc(2, {{0, 1}, {1, 0}, {3, 1}});
  // Round 2 timed out; round 3's leader extends b1 with the TC.
  const Block b3 = make_block(3, b1, make_qc(b1, {1, 2, 3}), "round three");

  // (sender, message): one of every kind, with the optional parts both present and absent.
  std::vector<std::pair<ValidatorIndex, Message>> samples() const {
    return {
        {1, proposal(b1)},
        {3, proposal(b3, tc2)},
        {2, make_vote(2, b1)},
        {0, make_timeout(0, 2, make_qc(b1))},
        {0, make_timeout(0, 3, make_qc(b1), tc2)},
        {1, SyncRequest{kChainId, kEpoch, 1, b2.id(), 64}},
        {1, SyncResponse{kChainId, kEpoch, {b1, b2}}},
    };
  }
};

TEST_F(ConsensusCodecTest, EveryMessageKindRoundTrips) {
  std::vector<std::string> kinds_seen;
  for (const auto& [sender, message] : samples()) {
    SCOPED_TRACE(message_kind(message));
    const Bytes encoded = encode_message(message);
    const auto decoded = decode_message(encoded);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(decoded->index(), message.index());
    EXPECT_EQ(encode_message(*decoded), encoded);
    // Signatures and certificates come through intact.
    EXPECT_FALSE(verifier.verify(sender, *decoded).has_value());
    kinds_seen.emplace_back(message_kind(*decoded));
  }
  EXPECT_EQ(kinds_seen, (std::vector<std::string>{"proposal", "proposal", "vote", "timeout",
                                                  "timeout", "sync_request", "sync_response"}));
}

TEST_F(ConsensusCodecTest, DecodedProposalKeepsItsFields) {
  const auto decoded = decode_message(encode_message(proposal(b3, tc2)));
  ASSERT_TRUE(decoded.is_ok());
  const auto& got = std::get<Proposal>(*decoded);
  EXPECT_EQ(got.block.id(), b3.id());
  EXPECT_EQ(got.block.payload, b3.payload);
  EXPECT_EQ(got.block.proposer_signature, b3.proposer_signature);
  EXPECT_EQ(got.block.parent_qc.signers, (std::vector<ValidatorIndex>{1, 2, 3}));
  ASSERT_TRUE(got.last_round_tc.has_value());
  EXPECT_EQ(got.last_round_tc->round, 2u);
  EXPECT_EQ(got.last_round_tc->max_high_qc_round(), 1u);
  ASSERT_EQ(got.last_round_tc->entries.size(), 3u);
  EXPECT_EQ(got.last_round_tc->entries[2].signature, tc2.entries[2].signature);
}

TEST_F(ConsensusCodecTest, EveryTruncationOfAProposalFailsToDecode) {
  const Bytes encoded = encode_message(proposal(b3, tc2));
  ASSERT_GT(encoded.size(), 500u);
  for (std::size_t length = 0; length < encoded.size(); ++length) {
    const auto decoded = decode_message(core::ByteView(encoded.data(), length));
    EXPECT_FALSE(decoded.is_ok()) << "a " << length << "-byte prefix of " << encoded.size()
                                  << " bytes decoded";
  }
  Bytes longer = encoded;
  longer.push_back(0);
  EXPECT_FALSE(decode_message(longer).is_ok()) << "trailing byte accepted";
}

TEST_F(ConsensusCodecTest, EveryTruncationOfEachMessageKindFailsToDecode) {
  for (const auto& [sender, message] : samples()) {
    SCOPED_TRACE(message_kind(message));
    const Bytes encoded = encode_message(message);
    for (std::size_t length = 0; length < encoded.size(); ++length) {
      ASSERT_FALSE(decode_message(core::ByteView(encoded.data(), length)).is_ok())
          << "prefix of " << length;
    }
  }
}

TEST_F(ConsensusCodecTest, UnknownMessageKindFailsToDecode) {
  Bytes encoded = encode_message(make_vote(2, b1));
  ASSERT_FALSE(encoded.empty());
  // cereal writes the variant index first; there are five kinds.
  encoded[0] = 5;
  EXPECT_FALSE(decode_message(encoded).is_ok());
}

TEST_F(ConsensusCodecTest, SafetyDataRoundTrips) {
  SafetyData data;
  data.epoch = kEpoch;
  data.highest_voted_round = 3;
  data.locked_round = 1;
  data.high_qc = make_qc(b1);
  data.high_tc = tc2;
  data.last_timeout = make_timeout(0, 3, make_qc(b1), tc2);

  const Bytes encoded = encode_safety_data(data);
  const auto decoded = decode_safety_data(encoded);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(encode_safety_data(*decoded), encoded);
  EXPECT_EQ(decoded->epoch, kEpoch);
  EXPECT_EQ(decoded->highest_voted_round, 3u);
  EXPECT_EQ(decoded->locked_round, 1u);
  EXPECT_EQ(decoded->high_qc.block_id, b1.id());
  EXPECT_EQ(decoded->high_qc.signatures, data.high_qc.signatures);
  ASSERT_TRUE(decoded->high_tc.has_value());
  EXPECT_EQ(decoded->high_tc->round, 2u);
  ASSERT_TRUE(decoded->last_timeout.has_value());
  EXPECT_EQ(decoded->last_timeout->signature, data.last_timeout->signature);
  EXPECT_FALSE(verifier.verify(0, *decoded->last_timeout).has_value());

  // The fresh state (no TC, no timeout) too.
  const Bytes fresh = encode_safety_data(SafetyData{});
  const auto fresh_decoded = decode_safety_data(fresh);
  ASSERT_TRUE(fresh_decoded.is_ok());
  EXPECT_FALSE(fresh_decoded->high_tc.has_value());
  EXPECT_FALSE(fresh_decoded->last_timeout.has_value());
  EXPECT_EQ(encode_safety_data(*fresh_decoded), fresh);

  for (std::size_t length = 0; length < encoded.size(); ++length) {
    ASSERT_FALSE(decode_safety_data(core::ByteView(encoded.data(), length)).is_ok())
        << "prefix of " << length;
  }
}

TEST_F(ConsensusCodecTest, BlockRoundTripsWithItsId) {
  const auto decoded = decode_block(encode_block(b3));
  ASSERT_TRUE(decoded.is_ok());
  EXPECT_EQ(decoded->id(), b3.id());
  EXPECT_EQ(encode_block(*decoded), encode_block(b3));
  const auto genesis_decoded = decode_block(encode_block(genesis));
  ASSERT_TRUE(genesis_decoded.is_ok());
  EXPECT_EQ(genesis_decoded->id(), genesis.id());
}

}  // namespace
}  // namespace carbon::consensus
