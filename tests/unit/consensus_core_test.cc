// ConsensusCore, one replica at a time: the messages of the other three validators are made
// by hand (signed with their real keys) and the effects of each step are checked in order.
//
// Leaders with n = 4: round r is led by r % 4. A vote is broadcast to every validator (and
// handed to the voter's own core): the leader of r + 1 forms the QC it proposes on, and every
// other replica forms it too, from the block's votes, once it holds the block.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include "consensus/core.h"
#include "tests/unit/consensus_harness.h"

namespace carbon::consensus {
namespace {

using harness::all_of;
using harness::committed_ids;
using harness::Harness;
using harness::ids_of;
using harness::kBaseTimeoutTicks;
using harness::kChainId;
using harness::kEpoch;
using harness::outgoing;
using harness::positions_of;

class ConsensusCoreTest : public ::testing::Test, protected Harness {
 protected:
  static std::uint64_t after_genesis_ms(std::uint64_t ms) { return harness::kGenesisTimeMs + ms; }
  // The last timer the effects arm (a later SetTimer replaces an earlier one).
  static std::optional<SetTimerEffect> last_timer(const Effects& effects) {
    const auto timers = all_of<SetTimerEffect>(effects);
    if (timers.empty()) return std::nullopt;
    return timers.back();
  }
  static std::optional<SafetyData> last_persisted_safety(const Effects& effects) {
    const auto persisted = all_of<PersistSafetyEffect>(effects);
    if (persisted.empty()) return std::nullopt;
    return persisted.back().data;
  }
};

// ---------------------------------------------------------------- leader path

TEST_F(ConsensusCoreTest, LeaderAsksForPayloadOnStart) {
  auto core = make_core(1);  // leads round 1
  const Effects effects = core->start();
  ASSERT_EQ(effects.size(), 2u);
  const auto* timer = std::get_if<SetTimerEffect>(&effects[0]);
  ASSERT_NE(timer, nullptr);
  EXPECT_EQ(timer->round, 1u);
  EXPECT_EQ(timer->duration_ticks, kBaseTimeoutTicks);
  const auto* need = std::get_if<NeedPayloadEffect>(&effects[1]);
  ASSERT_NE(need, nullptr);
  EXPECT_EQ(need->round, 1u);
  EXPECT_EQ(need->height, 1u);
  EXPECT_EQ(need->parent_id, genesis.id());
  EXPECT_EQ(need->parent_timestamp_ms, genesis.header.timestamp_ms);
}

TEST_F(ConsensusCoreTest, NonLeaderOnlyArmsItsTimerOnStart) {
  auto core = make_core(0);
  const Effects effects = core->start();
  ASSERT_EQ(effects.size(), 1u);
  EXPECT_TRUE(std::holds_alternative<SetTimerEffect>(effects[0]));
}

TEST_F(ConsensusCoreTest, LeaderPersistsBlockAndSafetyBeforeItsProposalOrVoteLeaves) {
  auto core = make_core(1);
  (void)core->start();
  const std::uint64_t now_ms = after_genesis_ms(500);
  const Effects effects = core->step(PayloadEvent{1, genesis.id(), harness::bytes_of("tx-batch"), now_ms});

  const auto block_at = positions_of<PersistBlockEffect>(effects);
  const auto safety_at = positions_of<PersistSafetyEffect>(effects);
  const auto proposals = outgoing<Proposal>(effects);
  const auto votes = outgoing<Vote>(effects);
  ASSERT_EQ(block_at.size(), 1u);
  ASSERT_EQ(safety_at.size(), 1u);
  ASSERT_EQ(proposals.size(), 1u);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_LT(block_at[0], safety_at[0]);
  EXPECT_LT(safety_at[0], proposals[0].position);
  EXPECT_LT(safety_at[0], votes[0].position);

  const Block& block = proposals[0].message.block;
  EXPECT_FALSE(proposals[0].to.has_value());  // broadcast
  EXPECT_EQ(block.header.round, 1u);
  EXPECT_EQ(block.header.height, 1u);
  EXPECT_EQ(block.header.proposer, 1u);
  EXPECT_EQ(block.header.parent_id, genesis.id());
  EXPECT_EQ(block.header.timestamp_ms, now_ms);
  EXPECT_EQ(block.payload, harness::bytes_of("tx-batch"));
  EXPECT_FALSE(verifier.verify(1, proposals[0].message).has_value());

  const auto& persisted_block = std::get<PersistBlockEffect>(effects[block_at[0]]).block;
  EXPECT_EQ(persisted_block.id(), block.id());
  const auto& persisted = std::get<PersistSafetyEffect>(effects[safety_at[0]]).data;
  EXPECT_EQ(persisted.highest_voted_round, 1u);

  EXPECT_EQ(votes[0].to, std::nullopt);  // to every validator
  EXPECT_EQ(votes[0].message.block_id, block.id());
  EXPECT_EQ(votes[0].message.round, 1u);
  EXPECT_FALSE(verifier.verify(1, votes[0].message).has_value());
}

TEST_F(ConsensusCoreTest, LeaderKeepsItsBlockAfterItsParent) {
  auto core = make_core(1);
  (void)core->start();
  // A clock behind the parent's timestamp still yields a block strictly after it.
  const Effects effects = core->step(PayloadEvent{1, genesis.id(), {}, harness::kGenesisTimeMs - 5});
  const auto proposals = outgoing<Proposal>(effects);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].message.block.header.timestamp_ms, genesis.header.timestamp_ms + 1);
  // A payload for another round is ignored.
  EXPECT_TRUE(core->step(PayloadEvent{2, genesis.id(), {}, after_genesis_ms(900)}).empty());
}

TEST_F(ConsensusCoreTest, LeaderAsksAgainForAPayloadBuiltForAnotherParent) {
  // The application leaves out what the parent's chain already holds, so a payload built for
  // one parent must not be proposed on another (a higher QC may arrive while it is prepared).
  auto core = make_core(1);
  (void)core->start();
  Hash256 other_parent = genesis.id();
  other_parent.bytes[0] ^= 0x01;
  const Effects effects = core->step(PayloadEvent{1, other_parent, harness::bytes_of("stale"), after_genesis_ms(10)});
  EXPECT_TRUE(outgoing<Proposal>(effects).empty());
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
  const auto needs = all_of<NeedPayloadEffect>(effects);
  ASSERT_EQ(needs.size(), 1u);
  EXPECT_EQ(needs[0].round, 1u);
  EXPECT_EQ(needs[0].parent_id, genesis.id());
  // The payload built for the right parent is proposed.
  const Effects proposed = core->step(PayloadEvent{1, genesis.id(), harness::bytes_of("fresh"), after_genesis_ms(20)});
  const auto proposals = outgoing<Proposal>(proposed);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].message.block.payload, harness::bytes_of("fresh"));
}

// ---------------------------------------------------------------- voting

TEST_F(ConsensusCoreTest, ReplicaVotesForAValidProposalAfterPersisting) {
  auto core = make_core(3);
  const Block b1 = make_block(1, genesis, genesis_qc, "a");
  const Effects effects = deliver(*core, 1, proposal(b1));
  ASSERT_EQ(effects.size(), 3u);
  ASSERT_TRUE(std::holds_alternative<PersistBlockEffect>(effects[0]));
  EXPECT_EQ(std::get<PersistBlockEffect>(effects[0]).block.id(), b1.id());
  ASSERT_TRUE(std::holds_alternative<PersistSafetyEffect>(effects[1]));
  EXPECT_EQ(std::get<PersistSafetyEffect>(effects[1]).data.highest_voted_round, 1u);
  const auto votes = outgoing<Vote>(effects);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].position, 2u);
  EXPECT_EQ(votes[0].to, std::nullopt);  // to every validator
  EXPECT_EQ(votes[0].message.voter, 3u);
  EXPECT_EQ(votes[0].message.block_id, b1.id());
  EXPECT_FALSE(verifier.verify(3, votes[0].message).has_value());
}

TEST_F(ConsensusCoreTest, ReplicaVotesOncePerRound) {
  auto core = make_core(3);
  const Block first = make_block(1, genesis, genesis_qc, "a");
  const Block second = make_block(1, genesis, genesis_qc, "b");  // the leader equivocates
  ASSERT_NE(first.id(), second.id());
  ASSERT_EQ(outgoing<Vote>(deliver(*core, 1, proposal(first))).size(), 1u);

  const Effects effects = deliver(*core, 1, proposal(second));
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
  EXPECT_TRUE(positions_of<PersistSafetyEffect>(effects).empty());
  EXPECT_EQ(core->drops().get(DropReason::kEquivocation), 1u);
  // The first proposal again is a duplicate, not a second vote.
  EXPECT_TRUE(outgoing<Vote>(deliver(*core, 1, proposal(first))).empty());
  EXPECT_EQ(core->drops().get(DropReason::kDuplicate), 1u);
  EXPECT_EQ(core->safety().highest_voted_round, 1u);
}

TEST_F(ConsensusCoreTest, NoVoteForBlockWhoseTimestampIsNotAfterItsParent) {
  auto core = make_core(3);
  const Block same_time = make_block(1, genesis, genesis_qc, "a", genesis.header.timestamp_ms);
  const Effects effects = deliver(*core, 1, proposal(same_time));
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
  EXPECT_TRUE(positions_of<PersistSafetyEffect>(effects).empty());
  EXPECT_EQ(core->drops().get(DropReason::kMalformed), 1u);
  EXPECT_EQ(core->safety().highest_voted_round, 0u);
  EXPECT_EQ(core->blocks_in_memory(), 1u);  // genesis only

  const Block earlier = make_block(1, genesis, genesis_qc, "b", genesis.header.timestamp_ms - 1);
  EXPECT_TRUE(outgoing<Vote>(deliver(*core, 1, proposal(earlier))).empty());

  // The refusals did not use up the round.
  const Block later = make_block(1, genesis, genesis_qc, "c", genesis.header.timestamp_ms + 1);
  EXPECT_EQ(outgoing<Vote>(deliver(*core, 1, proposal(later))).size(), 1u);
}

// Round 2 timed out (TC for round 2); round 3's leader (3) extends the genesis QC, which is
// older than round 2. Replica 1 (which leads none of these rounds) is tested.
class OlderQcTest : public ConsensusCoreTest {
 protected:
  const Block b3 = make_block(3, genesis, genesis_qc, "after a timeout");
  const TimeoutCert tc2_no_qc = make_tc(2, {{0, 0}, {2, 0}, {3, 0}});
  const TimeoutCert tc2_reports_qc1 = make_tc(2, {{0, 0}, {2, 1}, {3, 0}});
};

TEST_F(OlderQcTest, RefusedWithoutATimeoutCertificate) {
  auto core = make_core(1);
  // The replica learns of the TC from a timeout for round 3, so it is in round 3 ...
  (void)deliver(*core, 2, make_timeout(2, 3, genesis_qc, tc2_no_qc));
  ASSERT_EQ(core->current_round(), 3u);
  // ... but the proposal does not carry it: extending round 0 in round 3 is not allowed.
  const Effects effects = deliver(*core, 3, proposal(b3));
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
  EXPECT_TRUE(positions_of<PersistSafetyEffect>(effects).empty());
  EXPECT_EQ(core->safety().highest_voted_round, 0u);
}

TEST_F(OlderQcTest, AcceptedWithATimeoutCertificateReportingNoHigherQc) {
  auto core = make_core(1);
  const Effects effects = deliver(*core, 3, proposal(b3, tc2_no_qc));
  EXPECT_EQ(core->current_round(), 3u);
  const auto votes = outgoing<Vote>(effects);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].to, std::nullopt);  // to every validator
  EXPECT_EQ(votes[0].message.round, 3u);
  EXPECT_EQ(votes[0].message.block_id, b3.id());
}

TEST_F(OlderQcTest, RefusedWhenTheTimeoutCertificateReportsAHigherQc) {
  auto core = make_core(1);
  const Effects effects = deliver(*core, 3, proposal(b3, tc2_reports_qc1));
  EXPECT_EQ(core->current_round(), 3u);
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
  EXPECT_EQ(core->safety().highest_voted_round, 0u);
}

// ---------------------------------------------------------------- QCs and commits

TEST_F(ConsensusCoreTest, NextLeaderFormsAQcFromAQuorumOfVotesAndProposes) {
  auto core = make_core(2);  // leads round 2, so it collects the votes for round 1
  const Block b1 = make_block(1, genesis, genesis_qc);
  // Its own vote goes to the others and counts here too.
  const Effects voted = deliver(*core, 1, proposal(b1));
  const auto own_votes = outgoing<Vote>(voted);
  ASSERT_EQ(own_votes.size(), 1u);
  EXPECT_EQ(own_votes[0].to, std::nullopt);
  EXPECT_EQ(core->safety().highest_voted_round, 1u);

  const Effects second = deliver(*core, 0, make_vote(0, b1));
  EXPECT_TRUE(positions_of<NeedPayloadEffect>(second).empty());
  EXPECT_EQ(core->current_round(), 1u);

  const Effects third = deliver(*core, 3, make_vote(3, b1));
  EXPECT_EQ(core->current_round(), 2u);
  const auto timer = last_timer(third);
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->round, 2u);
  EXPECT_EQ(timer->duration_ticks, kBaseTimeoutTicks);
  const auto needs = all_of<NeedPayloadEffect>(third);
  ASSERT_EQ(needs.size(), 1u);
  EXPECT_EQ(needs[0].round, 2u);
  EXPECT_EQ(needs[0].height, 2u);
  EXPECT_EQ(needs[0].parent_id, b1.id());
  EXPECT_EQ(needs[0].parent_timestamp_ms, b1.header.timestamp_ms);

  const QuorumCert& qc = core->high_qc();
  EXPECT_EQ(qc.round, 1u);
  EXPECT_EQ(qc.block_id, b1.id());
  EXPECT_EQ(qc.signers, (std::vector<ValidatorIndex>{0, 2, 3}));
  EXPECT_FALSE(verifier.verify_qc(qc).has_value());

  // A late fourth vote changes nothing.
  EXPECT_TRUE(deliver(*core, 1, make_vote(1, b1)).empty());

  // The proposal for round 2 carries the QC and is one every replica accepts.
  const Effects proposed =
      core->step(PayloadEvent{2, b1.id(), harness::bytes_of("p2"), b1.header.timestamp_ms + 50});
  const auto proposals = outgoing<Proposal>(proposed);
  ASSERT_EQ(proposals.size(), 1u);
  EXPECT_EQ(proposals[0].message.block.parent_qc.signers, qc.signers);
  EXPECT_EQ(proposals[0].message.block.header.parent_id, b1.id());
  EXPECT_FALSE(verifier.verify(2, proposals[0].message).has_value());
  const auto votes = outgoing<Vote>(proposed);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].to, std::nullopt);
}

TEST_F(ConsensusCoreTest, ReplicaThatIsNotTheNextLeaderFormsTheQcAndCommitsWithoutWaitingForTheNextProposal) {
  // Replica 0 leads neither round 2 nor round 3. With b1 and b2 voted for, the votes for b2
  // certify it, which commits b1 (two-chain) and starts round 3 here, before the leader of
  // round 3 has built or sent anything.
  auto core = make_core(0);
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  const Block b2 = extend(2, b1, "2");
  (void)deliver(*core, 1, proposal(b1));
  (void)deliver(*core, 2, proposal(b2));
  ASSERT_EQ(core->current_round(), 2u);
  ASSERT_EQ(core->committed_height(), 0u);

  Effects effects = deliver(*core, 1, make_vote(1, b2));
  EXPECT_TRUE(committed_ids(effects).empty());  // its own vote and one more: not a quorum
  effects = deliver(*core, 3, make_vote(3, b2));
  EXPECT_EQ(committed_ids(effects), std::vector<Hash256>{b1.id()});
  EXPECT_EQ(core->current_round(), 3u);
  EXPECT_EQ(core->high_qc().block_id, b2.id());
  EXPECT_EQ(core->high_qc().signers, (std::vector<ValidatorIndex>{0, 1, 3}));
  EXPECT_FALSE(verifier.verify_qc(core->high_qc()).has_value());
  EXPECT_TRUE(all_of<NeedPayloadEffect>(effects).empty());  // not its round to lead
  const auto timer = last_timer(effects);
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->round, 3u);

  // The round-3 proposal, carrying its leader's own QC(b2) (other signers), is voted for and
  // commits nothing twice.
  Block b3 = make_block(3, b2, make_qc(b2, {1, 2, 3}), "3");
  effects = deliver(*core, 3, proposal(b3));
  EXPECT_TRUE(committed_ids(effects).empty());
  const auto votes = outgoing<Vote>(effects);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].message.block_id, b3.id());
}

TEST_F(ConsensusCoreTest, VotesThatOutrunTheProposalWaitForIt) {
  // Replica 0 does not lead round 2. The votes for b1 arrive before b1 (still being checked,
  // or on its way): it neither moves to round 2, where it would refuse b1 as stale, nor asks a
  // peer for the block. When b1 arrives it votes, and the quorum already in forms the QC.
  auto core = make_core(0);
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  Effects effects;
  for (ValidatorIndex voter = 1; voter <= 3; ++voter) {
    const Effects step = deliver(*core, voter, make_vote(voter, b1));
    effects.insert(effects.end(), step.begin(), step.end());
  }
  EXPECT_EQ(core->current_round(), 1u);
  EXPECT_TRUE(outgoing<SyncRequest>(effects).empty());
  EXPECT_TRUE(all_of<SetTimerEffect>(effects).empty());

  effects = deliver(*core, 1, proposal(b1));
  const auto votes = outgoing<Vote>(effects);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].message.block_id, b1.id());
  EXPECT_EQ(core->current_round(), 2u);
  EXPECT_EQ(core->high_qc().block_id, b1.id());
  EXPECT_EQ(core->high_qc().signers, (std::vector<ValidatorIndex>{1, 2, 3}));
  EXPECT_FALSE(verifier.verify_qc(core->high_qc()).has_value());
  // Persisting and voting come before the round moves on.
  const auto persisted_at = positions_of<PersistSafetyEffect>(effects);
  ASSERT_FALSE(persisted_at.empty());
  const auto vote_at = votes[0].position;
  std::optional<std::size_t> round_2_timer_at;
  for (std::size_t i = 0; i < effects.size(); ++i) {
    const auto* timer = std::get_if<SetTimerEffect>(&effects[i]);
    if (timer != nullptr && timer->round == 2) round_2_timer_at = i;
  }
  ASSERT_TRUE(round_2_timer_at.has_value());
  EXPECT_LT(persisted_at.front(), vote_at);
  EXPECT_LT(vote_at, *round_2_timer_at);
}

TEST_F(ConsensusCoreTest, NextLeaderTakesTheBlockItsQcCertifiesWhenTheProposalComesLate) {
  // Replica 2 leads round 2. The votes for b1 reach it before b1 does: it forms QC(b1) (it
  // needs it to propose), enters round 2 and asks a peer for b1. When b1's proposal then
  // arrives, a round late, it keeps the block (no vote: the round is over) and asks for its
  // payload at once instead of waiting for block sync.
  auto core = make_core(2);
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  Effects effects;
  for (ValidatorIndex voter : {ValidatorIndex{0}, ValidatorIndex{1}, ValidatorIndex{3}}) {
    const Effects step = deliver(*core, voter, make_vote(voter, b1));
    effects.insert(effects.end(), step.begin(), step.end());
  }
  ASSERT_EQ(core->current_round(), 2u);
  EXPECT_EQ(core->high_qc().block_id, b1.id());
  EXPECT_TRUE(all_of<NeedPayloadEffect>(effects).empty());
  const auto requests = outgoing<SyncRequest>(effects);
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().message.target_id, b1.id());
  EXPECT_NE(requests.back().to, std::optional<ValidatorIndex>(2));  // a peer, not itself

  effects = deliver(*core, 1, proposal(b1));
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
  EXPECT_EQ(core->drops().get(DropReason::kStale), 0u);
  const auto needs = all_of<NeedPayloadEffect>(effects);
  ASSERT_EQ(needs.size(), 1u);
  EXPECT_EQ(needs[0].round, 2u);
  EXPECT_EQ(needs[0].parent_id, b1.id());

  // Any other late proposal is still dropped as stale.
  const Block other = make_block(1, genesis, genesis_qc, "other");
  (void)deliver(*core, 1, proposal(other));
  EXPECT_EQ(core->drops().get(DropReason::kStale), 1u);
}

TEST_F(ConsensusCoreTest, VotesForDifferentBlocksDoNotFormAQc) {
  auto core = make_core(2);
  const Block b1 = make_block(1, genesis, genesis_qc, "a");
  const Block other = make_block(1, genesis, genesis_qc, "b");
  (void)deliver(*core, 1, proposal(b1));  // own vote for b1
  (void)deliver(*core, 0, make_vote(0, b1));
  (void)deliver(*core, 3, make_vote(3, other));
  EXPECT_EQ(core->current_round(), 1u);
  // A voter's second, different vote for the round is an equivocation and is not counted.
  (void)deliver(*core, 0, make_vote(0, other));
  EXPECT_EQ(core->drops().get(DropReason::kEquivocation), 1u);
  EXPECT_EQ(core->current_round(), 1u);
}

// Blocks 1, 2, 3 from their leaders; replica 0 then leads round 4 itself (forming the QC
// for block 3 from votes), and blocks 5 and 6 follow. Each QC for a block whose parent is
// from the round just before commits that parent, and nothing else.
TEST_F(ConsensusCoreTest, TwoChainRuleCommitsTheParentOfEachCertifiedConsecutiveBlock) {
  auto core = make_core(0);
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  const Block b2 = extend(2, b1, "2");
  const Block b3 = extend(3, b2, "3");

  Effects effects = deliver(*core, 1, proposal(b1));
  EXPECT_TRUE(committed_ids(effects).empty());
  EXPECT_EQ(outgoing<Vote>(effects).size(), 1u);

  effects = deliver(*core, 2, proposal(b2));  // QC(b1): b1's parent is genesis, nothing new
  EXPECT_TRUE(committed_ids(effects).empty());
  EXPECT_EQ(core->committed_height(), 0u);

  effects = deliver(*core, 3, proposal(b3));  // QC(b2), b2.round = b1.round + 1: commit b1
  EXPECT_EQ(committed_ids(effects), std::vector<Hash256>{b1.id()});
  EXPECT_EQ(core->committed_height(), 1u);
  EXPECT_EQ(core->committed_id(), b1.id());
  EXPECT_EQ(all_of<CommitEffect>(effects).size(), 1u);

  // Replica 0 leads round 4: its own vote for b3 and two more form QC(b3), committing b2.
  effects = deliver(*core, 1, make_vote(1, b3));
  EXPECT_TRUE(committed_ids(effects).empty());
  effects = deliver(*core, 2, make_vote(2, b3));
  EXPECT_EQ(committed_ids(effects), std::vector<Hash256>{b2.id()});
  ASSERT_EQ(all_of<NeedPayloadEffect>(effects).size(), 1u);
  effects = core->step(PayloadEvent{4, b3.id(), harness::bytes_of("4"), b3.header.timestamp_ms + 10});
  const auto proposals = outgoing<Proposal>(effects);
  ASSERT_EQ(proposals.size(), 1u);
  const Block b4 = proposals[0].message.block;
  EXPECT_EQ(b4.header.parent_id, b3.id());
  EXPECT_TRUE(committed_ids(effects).empty());

  const Block b5 = extend(5, b4, "5");
  effects = deliver(*core, 1, proposal(b5));
  EXPECT_EQ(committed_ids(effects), std::vector<Hash256>{b3.id()});

  const Block b6 = extend(6, b5, "6");
  effects = deliver(*core, 2, proposal(b6));
  EXPECT_EQ(committed_ids(effects), std::vector<Hash256>{b4.id()});
  EXPECT_EQ(core->committed_height(), 4u);
  EXPECT_EQ(core->current_round(), 6u);
  EXPECT_FALSE(core->halted_on_conflict());
}

// b1 (round 1), round 2 times out, b3 (round 3) extends b1: QC(b3) commits nothing since b3
// does not directly follow b1's round. QC(b4) then commits b3 and with it b1, in height order.
TEST_F(ConsensusCoreTest, ARoundGapDelaysTheCommitUntilAConsecutiveChain) {
  auto core = make_core(2);
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  const TimeoutCert tc2 = make_tc(2, {{0, 1}, {1, 1}, {3, 0}});
  const Block b3 = make_block(3, b1, make_qc(b1), "3");
  const Block b4 = extend(4, b3, "4");
  const Block b5 = extend(5, b4, "5");

  EXPECT_TRUE(committed_ids(deliver(*core, 1, proposal(b1))).empty());
  Effects effects = deliver(*core, 3, proposal(b3, tc2));
  EXPECT_TRUE(committed_ids(effects).empty());
  EXPECT_EQ(outgoing<Vote>(effects).size(), 1u);
  effects = deliver(*core, 0, proposal(b4));  // QC(b3): b3.round 3 != b1.round + 1
  EXPECT_TRUE(committed_ids(effects).empty());
  EXPECT_EQ(core->committed_height(), 0u);

  effects = deliver(*core, 1, proposal(b5));  // QC(b4): b4.round = b3.round + 1
  const auto commits = all_of<CommitEffect>(effects);
  ASSERT_EQ(commits.size(), 1u);
  EXPECT_EQ(ids_of(commits[0].blocks), (std::vector<Hash256>{b1.id(), b3.id()}));
  EXPECT_EQ(commits[0].blocks[0].header.height, 1u);
  EXPECT_EQ(commits[0].blocks[1].header.height, 2u);
  EXPECT_EQ(core->committed_height(), 2u);
}

// ---------------------------------------------------------------- timeouts

TEST_F(ConsensusCoreTest, TimerPersistsThenBroadcastsATimeout) {
  auto core = make_core(0);
  (void)core->start();
  const Effects effects = core->step(TimerEvent{1});
  ASSERT_GE(effects.size(), 2u);
  ASSERT_TRUE(std::holds_alternative<PersistSafetyEffect>(effects[0]));
  const auto timeouts = outgoing<Timeout>(effects);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(timeouts[0].position, 1u);
  EXPECT_FALSE(timeouts[0].to.has_value());
  const Timeout& timeout = timeouts[0].message;
  EXPECT_EQ(timeout.round, 1u);
  EXPECT_EQ(timeout.author, 0u);
  EXPECT_EQ(timeout.high_qc.block_id, genesis.id());
  EXPECT_FALSE(verifier.verify(0, timeout).has_value());

  const SafetyData& persisted = std::get<PersistSafetyEffect>(effects[0]).data;
  EXPECT_EQ(persisted.highest_voted_round, 1u);
  ASSERT_TRUE(persisted.last_timeout.has_value());
  EXPECT_EQ(encode_message(*persisted.last_timeout), encode_message(timeout));
  // Re-armed, so the timeout is retransmitted if the round still does not end.
  const auto timer = last_timer(effects);
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->round, 1u);
  // A stale timer does nothing.
  EXPECT_TRUE(core->step(TimerEvent{0}).empty());
}

TEST_F(ConsensusCoreTest, SecondTimerRebroadcastsTheSameTimeoutWithoutSigningAgain) {
  auto core = make_core(0);
  (void)core->start();
  const auto first = outgoing<Timeout>(core->step(TimerEvent{1}));
  ASSERT_EQ(first.size(), 1u);
  const Effects effects = core->step(TimerEvent{1});
  EXPECT_TRUE(positions_of<PersistSafetyEffect>(effects).empty());
  const auto second = outgoing<Timeout>(effects);
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].message.signature, first[0].message.signature);
  EXPECT_EQ(encode_message(second[0].message), encode_message(first[0].message));
}

TEST_F(ConsensusCoreTest, TimedOutReplicaNoLongerVotesInThatRound) {
  auto core = make_core(3);
  (void)core->step(TimerEvent{1});
  const Effects effects = deliver(*core, 1, proposal(make_block(1, genesis, genesis_qc)));
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
}

TEST_F(ConsensusCoreTest, FPlusOneTimeoutsMakeTheReplicaTimeOutBeforeItsTimer) {
  auto core = make_core(0);
  (void)core->start();
  Effects effects = deliver(*core, 1, make_timeout(1, 1, genesis_qc));
  EXPECT_TRUE(outgoing<Timeout>(effects).empty());
  EXPECT_EQ(core->safety().highest_voted_round, 0u);

  effects = deliver(*core, 2, make_timeout(2, 1, genesis_qc));  // f + 1 = 2
  const auto own = outgoing<Timeout>(effects);
  ASSERT_EQ(own.size(), 1u);
  EXPECT_EQ(own[0].message.author, 0u);
  EXPECT_EQ(own[0].message.round, 1u);
  const auto safety_at = positions_of<PersistSafetyEffect>(effects);
  ASSERT_FALSE(safety_at.empty());
  EXPECT_LT(safety_at[0], own[0].position);
  // Its own timeout is the third: a TC forms and the replica enters round 2.
  EXPECT_EQ(core->current_round(), 2u);
  ASSERT_TRUE(core->safety().high_tc.has_value());
  EXPECT_EQ(core->safety().high_tc->round, 1u);
  EXPECT_FALSE(verifier.verify_tc(*core->safety().high_tc).has_value());
}

TEST_F(ConsensusCoreTest, OneTimeoutFromOthersIsNotEnoughToTimeOut) {
  auto core = make_core(0);
  (void)core->start();
  (void)deliver(*core, 1, make_timeout(1, 1, genesis_qc));
  // A timeout for a later round counts only for that round.
  (void)deliver(*core, 2, make_timeout(2, 2, genesis_qc));
  EXPECT_EQ(core->current_round(), 1u);
  EXPECT_EQ(core->safety().highest_voted_round, 0u);
  EXPECT_FALSE(core->safety().last_timeout.has_value());
}

TEST_F(ConsensusCoreTest, TimeoutCertificatesAdvanceTheRoundWithDoublingTimeouts) {
  auto core = make_core(0);
  (void)core->start();
  (void)core->step(TimerEvent{1});
  (void)deliver(*core, 1, make_timeout(1, 1, genesis_qc));
  EXPECT_EQ(core->current_round(), 1u);
  Effects effects = deliver(*core, 2, make_timeout(2, 1, genesis_qc));
  EXPECT_EQ(core->current_round(), 2u);
  auto timer = last_timer(effects);
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->round, 2u);
  EXPECT_EQ(timer->duration_ticks, 2 * kBaseTimeoutTicks);
  const TimeoutCert tc1 = *core->safety().high_tc;
  EXPECT_EQ(tc1.round, 1u);
  ASSERT_EQ(tc1.entries.size(), 3u);
  EXPECT_EQ(tc1.entries[0].signer, 0u);
  EXPECT_EQ(tc1.entries[2].signer, 2u);
  EXPECT_FALSE(verifier.verify_tc(tc1).has_value());

  // Round 2 times out too: its timeout carries the TC that let it enter round 2.
  const auto own = outgoing<Timeout>(core->step(TimerEvent{2}));
  ASSERT_EQ(own.size(), 1u);
  ASSERT_TRUE(own[0].message.last_round_tc.has_value());
  EXPECT_EQ(own[0].message.last_round_tc->round, 1u);
  EXPECT_FALSE(verifier.verify(0, own[0].message).has_value());
  (void)deliver(*core, 1, make_timeout(1, 2, genesis_qc, tc1));
  effects = deliver(*core, 3, make_timeout(3, 2, genesis_qc, tc1));
  EXPECT_EQ(core->current_round(), 3u);
  timer = last_timer(effects);
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->round, 3u);
  EXPECT_EQ(timer->duration_ticks, 4 * kBaseTimeoutTicks);

  // A QC ends the backoff: round 3's block gets votes and replica 0 (leader of 4) forms QC(b3).
  const TimeoutCert tc2 = *core->safety().high_tc;
  const Block b3 = make_block(3, genesis, genesis_qc, "3");
  (void)deliver(*core, 3, proposal(b3, tc2));
  (void)deliver(*core, 1, make_vote(1, b3));
  effects = deliver(*core, 2, make_vote(2, b3));
  EXPECT_EQ(core->current_round(), 4u);
  timer = last_timer(effects);
  ASSERT_TRUE(timer.has_value());
  EXPECT_EQ(timer->round, 4u);
  EXPECT_EQ(timer->duration_ticks, kBaseTimeoutTicks);
}

// ---------------------------------------------------------------- restart

// What the driver would have on disk after `effects`: the last safety data (through its codec)
// and every persisted block.
struct Disk {
  std::optional<SafetyData> safety;
  std::vector<Block> blocks;
  void apply(const Effects& effects) {
    for (const Effect& effect : effects) {
      if (const auto* persist = std::get_if<PersistSafetyEffect>(&effect)) {
        auto stored = decode_safety_data(encode_safety_data(persist->data));
        ASSERT_TRUE(stored.is_ok());
        safety = std::move(stored).value();
      } else if (const auto* block = std::get_if<PersistBlockEffect>(&effect)) {
        blocks.push_back(block->block);
      }
    }
  }
};

TEST_F(ConsensusCoreTest, RestartedReplicaDoesNotVoteTwiceInARound) {
  const Block first = make_block(1, genesis, genesis_qc, "a");
  const Block second = make_block(1, genesis, genesis_qc, "b");
  Disk disk;
  {
    auto core = make_core(3);
    (void)core->start();
    const Effects effects = deliver(*core, 1, proposal(first));
    ASSERT_EQ(outgoing<Vote>(effects).size(), 1u);
    disk.apply(effects);
  }
  ASSERT_TRUE(disk.safety.has_value());
  ASSERT_EQ(disk.safety->highest_voted_round, 1u);
  ASSERT_EQ(disk.blocks.size(), 1u);

  auto restarted = make_core(3, RestoredState{*disk.safety, genesis, disk.blocks});
  EXPECT_EQ(restarted->current_round(), 1u);
  EXPECT_EQ(restarted->blocks_in_memory(), 2u);
  (void)restarted->start();
  EXPECT_TRUE(outgoing<Vote>(deliver(*restarted, 1, proposal(second))).empty());
  EXPECT_TRUE(outgoing<Vote>(deliver(*restarted, 1, proposal(first))).empty());

  // Control: without the persisted state the same replica would vote for `second`.
  auto amnesiac = make_core(3);
  EXPECT_EQ(outgoing<Vote>(deliver(*amnesiac, 1, proposal(second))).size(), 1u);
}

TEST_F(ConsensusCoreTest, RestartedLeaderDoesNotProposeAgainInARoundItVotedIn) {
  Disk disk;
  {
    auto core = make_core(1);
    (void)core->start();
    const Effects effects =
        core->step(PayloadEvent{1, genesis.id(), harness::bytes_of("a"), after_genesis_ms(10)});
    ASSERT_EQ(outgoing<Proposal>(effects).size(), 1u);
    disk.apply(effects);
  }
  ASSERT_TRUE(disk.safety.has_value());
  ASSERT_EQ(disk.safety->highest_voted_round, 1u);

  auto restarted = make_core(1, RestoredState{*disk.safety, genesis, disk.blocks});
  const Effects started = restarted->start();
  EXPECT_TRUE(all_of<NeedPayloadEffect>(started).empty());
  const Effects effects =
      restarted->step(PayloadEvent{1, genesis.id(), harness::bytes_of("b"), after_genesis_ms(20)});
  EXPECT_TRUE(outgoing<Proposal>(effects).empty());
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
}

TEST_F(ConsensusCoreTest, RestartedReplicaResendsItsPersistedTimeout) {
  Disk disk;
  Timeout sent;
  {
    auto core = make_core(0);
    (void)core->start();
    const Effects effects = core->step(TimerEvent{1});
    const auto timeouts = outgoing<Timeout>(effects);
    ASSERT_EQ(timeouts.size(), 1u);
    sent = timeouts[0].message;
    disk.apply(effects);
  }
  ASSERT_TRUE(disk.safety.has_value());
  auto restarted = make_core(0, RestoredState{*disk.safety, genesis, disk.blocks});
  (void)restarted->start();
  const Effects effects = restarted->step(TimerEvent{1});
  EXPECT_TRUE(positions_of<PersistSafetyEffect>(effects).empty());
  const auto timeouts = outgoing<Timeout>(effects);
  ASSERT_EQ(timeouts.size(), 1u);
  EXPECT_EQ(encode_message(timeouts[0].message), encode_message(sent));
  // Having timed out in round 1, it does not vote in round 1 either.
  EXPECT_TRUE(
      outgoing<Vote>(deliver(*restarted, 1, proposal(make_block(1, genesis, genesis_qc)))).empty());
}

// ---------------------------------------------------------------- bounds and block sync

TEST_F(ConsensusCoreTest, VoteTooFarAheadIsDroppedAndCounted) {
  auto core = make_core(0);
  ASSERT_EQ(core->current_round(), 1u);
  const Round too_far = core->current_round() + kMaxRoundsAhead + 1;
  const Hash256 some_block = core::sha3_256(core::as_bytes("far"));
  EXPECT_TRUE(deliver(*core, 1, make_vote(1, too_far, some_block)).empty());
  EXPECT_EQ(core->drops().get(DropReason::kFarAhead), 1u);
  // The last round still accepted is not counted as far ahead.
  EXPECT_TRUE(deliver(*core, 1, make_vote(1, too_far - 1, some_block)).empty());
  EXPECT_EQ(core->drops().get(DropReason::kFarAhead), 1u);
  EXPECT_EQ(core->drops().total(), 1u);
}

TEST_F(ConsensusCoreTest, UnsolicitedSyncResponseIsDroppedAndCounted) {
  auto core = make_core(0);
  const Block b1 = make_block(1, genesis, genesis_qc);
  EXPECT_TRUE(deliver(*core, 2, SyncResponse{kChainId, kEpoch, {b1}}).empty());
  EXPECT_EQ(core->drops().get(DropReason::kUnsolicited), 1u);
  EXPECT_EQ(core->blocks_in_memory(), 1u);
}

TEST_F(ConsensusCoreTest, SyncRequestIsAnsweredWithBlocksInAscendingHeight) {
  auto core = make_core(0);
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  const Block b2 = extend(2, b1, "2");
  const Block b3 = extend(3, b2, "3");
  (void)deliver(*core, 1, proposal(b1));
  (void)deliver(*core, 2, proposal(b2));
  (void)deliver(*core, 3, proposal(b3));
  ASSERT_EQ(core->committed_height(), 1u);

  Effects effects = deliver(*core, 2, SyncRequest{kChainId, kEpoch, 1, b3.id(), 64});
  auto responses = outgoing<SyncResponse>(effects);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(responses[0].to, std::optional<ValidatorIndex>(2));
  EXPECT_EQ(ids_of(responses[0].message.blocks), (std::vector<Hash256>{b1.id(), b2.id(), b3.id()}));
  EXPECT_FALSE(verifier.verify(0, responses[0].message).has_value());

  // From a later height, and limited to max_blocks.
  effects = deliver(*core, 2, SyncRequest{kChainId, kEpoch, 2, b3.id(), 64});
  responses = outgoing<SyncResponse>(effects);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(ids_of(responses[0].message.blocks), (std::vector<Hash256>{b2.id(), b3.id()}));
  effects = deliver(*core, 2, SyncRequest{kChainId, kEpoch, 1, b3.id(), 2});
  responses = outgoing<SyncResponse>(effects);
  ASSERT_EQ(responses.size(), 1u);
  EXPECT_EQ(ids_of(responses[0].message.blocks), (std::vector<Hash256>{b1.id(), b2.id()}));
}

TEST_F(ConsensusCoreTest, ProposalWithUnknownParentIsFetchedThenVotedFor) {
  auto core = make_core(0);
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  const Block b2 = extend(2, b1, "2");
  Effects effects = deliver(*core, 2, proposal(b2));
  EXPECT_TRUE(outgoing<Vote>(effects).empty());
  const auto requests = outgoing<SyncRequest>(effects);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].to, std::optional<ValidatorIndex>(2));
  EXPECT_EQ(requests[0].message.target_id, b1.id());
  EXPECT_EQ(requests[0].message.from_height, 1u);

  effects = deliver(*core, 2, SyncResponse{kChainId, kEpoch, {b1}});
  EXPECT_EQ(core->drops().get(DropReason::kUnsolicited), 0u);
  const auto votes = outgoing<Vote>(effects);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].message.block_id, b2.id());
  EXPECT_EQ(votes[0].to, std::nullopt);
}

TEST_F(ConsensusCoreTest, SyncGoesOnAboveBlocksTheReplicaAlreadyHeld) {
  // A peer whose in-memory window starts above the requested height answers from its store
  // with committed blocks only. When the replica already holds them (it voted for them), the
  // sync goes on above them instead of stopping short of the target; a response that does not
  // get above the height asked from does not make another request.
  auto core = make_core(0);
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  const Block b2 = extend(2, b1, "2");
  const Block b3 = extend(3, b2, "3");
  (void)deliver(*core, 1, proposal(b1));
  Effects effects = deliver(*core, 3, proposal(b3));  // its parent b2 is missing
  auto requests = outgoing<SyncRequest>(effects);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].to, std::optional<ValidatorIndex>(3));
  EXPECT_EQ(requests[0].message.target_id, b2.id());
  EXPECT_EQ(requests[0].message.from_height, 1u);

  effects = deliver(*core, 3, SyncResponse{kChainId, kEpoch, {b1}});  // a block it holds
  requests = outgoing<SyncRequest>(effects);
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_EQ(requests[0].message.target_id, b2.id());
  EXPECT_EQ(requests[0].message.from_height, 2u);

  EXPECT_TRUE(outgoing<SyncRequest>(deliver(*core, 3, SyncResponse{kChainId, kEpoch, {b1}})).empty());

  effects = deliver(*core, 3, SyncResponse{kChainId, kEpoch, {b2}});
  const auto votes = outgoing<Vote>(effects);
  ASSERT_EQ(votes.size(), 1u);
  EXPECT_EQ(votes[0].message.block_id, b3.id());
}

TEST_F(ConsensusCoreTest, LeaderAsksForAPayloadOnlyOnceItHoldsTheParent) {
  // Replica 3 leads round 3. It forms QC(b2) from votes before b1 and b2 themselves reach it:
  // the application could not know what the parent's chain holds, so no payload is asked for
  // until block sync delivers the parent.
  auto core = make_core(3);
  (void)core->start();
  const Block b1 = make_block(1, genesis, genesis_qc, "1");
  const Block b2 = extend(2, b1, "2");
  Effects effects;
  for (ValidatorIndex voter = 0; voter < 3; ++voter) {
    const Effects step = deliver(*core, voter, make_vote(voter, b2));
    effects.insert(effects.end(), step.begin(), step.end());
  }
  ASSERT_EQ(core->current_round(), 3u);
  EXPECT_EQ(core->high_qc().block_id, b2.id());
  EXPECT_TRUE(all_of<NeedPayloadEffect>(effects).empty());
  const auto requests = outgoing<SyncRequest>(effects);
  ASSERT_FALSE(requests.empty());
  EXPECT_EQ(requests.back().message.target_id, b2.id());

  const ValidatorIndex asked = requests.back().to.value_or(0);
  effects = deliver(*core, asked, SyncResponse{kChainId, kEpoch, {b1, b2}});
  const auto needs = all_of<NeedPayloadEffect>(effects);
  ASSERT_EQ(needs.size(), 1u);
  EXPECT_EQ(needs[0].round, 3u);
  EXPECT_EQ(needs[0].parent_id, b2.id());
  EXPECT_EQ(needs[0].height, 3u);
}

}  // namespace
}  // namespace carbon::consensus
