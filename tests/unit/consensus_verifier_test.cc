// MessageVerifier: what it lets through to the core and how it classifies what it drops.
// Every rejection is checked for its DropReason and for the check that fired (a word of the
// detail), so a message refused for the wrong reason fails the test.
#include <gtest/gtest.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "consensus/verifier.h"
#include "tests/unit/consensus_harness.h"

namespace carbon::consensus {
namespace {

using harness::flipped;
using harness::Harness;
using harness::kChainId;
using harness::kEpoch;

void expect_rejected(const std::optional<Rejection>& rejection, DropReason reason,
                     const std::string& detail_part) {
  ASSERT_TRUE(rejection.has_value()) << "accepted, expected " << drop_reason_name(reason);
  EXPECT_EQ(rejection->reason, reason)
      << "got " << drop_reason_name(rejection->reason) << " (" << rejection->detail << ")";
  EXPECT_NE(rejection->detail.find(detail_part), std::string::npos)
      << "detail '" << rejection->detail << "' lacks '" << detail_part << "'";
}

void expect_accepted(const std::optional<Rejection>& rejection) {
  EXPECT_FALSE(rejection.has_value())
      << drop_reason_name(rejection->reason) << ": " << rejection->detail;
}

class VerifierTest : public ::testing::Test, protected Harness {
 protected:
  // Round 1 (leader 1) extends genesis; round 2 (leader 2) extends it with a QC.
  const Block b1 = make_block(1, genesis, genesis_qc, "round one");
  const Block b2 = extend(2, b1, "round two");
  const Block b3 = extend(3, b2, "round three");
};

// ---------------------------------------------------------------- accepted

TEST_F(VerifierTest, AcceptsValidProposalVoteAndTimeout) {
  expect_accepted(verifier.verify(1, proposal(b1)));
  expect_accepted(verifier.verify(2, proposal(b2)));
  expect_accepted(verifier.verify(2, make_vote(2, b1)));
  expect_accepted(verifier.verify(3, make_timeout(3, 1, genesis_qc)));
  expect_accepted(verifier.verify(3, make_timeout(3, 2, make_qc(b1))));
}

TEST_F(VerifierTest, AcceptsCertificatesSyncMessagesAndTheGenesisQc) {
  expect_accepted(verifier.verify_qc(genesis_qc));
  expect_accepted(verifier.verify_qc(make_qc(b1, {1, 2, 3})));
  expect_accepted(verifier.verify_qc(make_qc(b1, {0, 1, 2, 3})));
  const TimeoutCert tc1 = make_tc(1, {{0, 0}, {1, 0}, {3, 0}});
  expect_accepted(verifier.verify_tc(tc1));
  // After round 1 timed out, round 2's leader extends genesis with the TC.
  expect_accepted(verifier.verify(2, proposal(make_block(2, genesis, genesis_qc), tc1)));
  expect_accepted(verifier.verify(0, make_timeout(0, 2, genesis_qc, tc1)));
  expect_accepted(verifier.verify(1, SyncRequest{kChainId, kEpoch, 1, b3.id(), 64}));
  expect_accepted(verifier.verify(1, SyncResponse{kChainId, kEpoch, {b1, b2, b3}}));
}

// ---------------------------------------------------------------- scope and membership

TEST_F(VerifierTest, RejectsWrongChainId) {
  Vote vote = make_vote(2, b1);
  vote.chain_id = "other-chain";
  vote.signature =
      signers[2].sign(signing_digest_vote("other-chain", kEpoch, vote.round, vote.block_id));
  expect_rejected(verifier.verify(2, vote), DropReason::kWrongChain, "other-chain");

  Block block = b1;
  block.header.chain_id = "other-chain";
  sign_block(block);
  expect_rejected(verifier.verify(1, proposal(block)), DropReason::kWrongChain, "other-chain");
}

TEST_F(VerifierTest, RejectsWrongEpoch) {
  Vote vote = make_vote(2, b1);
  vote.epoch = 2;
  vote.signature = signers[2].sign(signing_digest_vote(kChainId, 2, vote.round, vote.block_id));
  expect_rejected(verifier.verify(2, vote), DropReason::kWrongEpoch, "epoch 2");

  Timeout timeout = make_timeout(3, 1, genesis_qc);
  timeout.epoch = 0;
  timeout.signature = signers[3].sign(signing_digest_timeout(kChainId, 0, 1, 0));
  expect_rejected(verifier.verify(3, timeout), DropReason::kWrongEpoch, "epoch 0");
}

TEST_F(VerifierTest, RejectsValidatorIndexOutOfRange) {
  Vote vote = make_vote(2, b1);
  vote.voter = 4;  // n = 4: indices 0..3
  expect_rejected(verifier.verify(2, vote), DropReason::kUnknownValidator, "voter out of range");
  expect_rejected(verifier.verify(4, make_vote(2, b1)), DropReason::kUnknownValidator,
                  "sender out of range");
  Timeout timeout = make_timeout(3, 1, genesis_qc);
  timeout.author = 9;
  expect_rejected(verifier.verify(3, timeout), DropReason::kUnknownValidator,
                  "author out of range");
}

TEST_F(VerifierTest, RejectsSenderOtherThanSigner) {
  expect_rejected(verifier.verify(3, make_vote(2, b1)), DropReason::kSenderMismatch, "vote");
  expect_rejected(verifier.verify(0, make_timeout(3, 1, genesis_qc)), DropReason::kSenderMismatch,
                  "timeout");
  expect_rejected(verifier.verify(2, proposal(b1)), DropReason::kSenderMismatch, "proposal");
}

// ---------------------------------------------------------------- signatures

TEST_F(VerifierTest, RejectsBadSignatures) {
  Vote vote = make_vote(2, b1);
  vote.signature = flipped(vote.signature);
  expect_rejected(verifier.verify(2, vote), DropReason::kBadSignature, "vote signature");

  Block block = b1;
  block.proposer_signature = flipped(block.proposer_signature);
  expect_rejected(verifier.verify(1, proposal(block)), DropReason::kBadSignature,
                  "block signature");

  Timeout timeout = make_timeout(3, 1, genesis_qc);
  timeout.signature = flipped(timeout.signature);
  expect_rejected(verifier.verify(3, timeout), DropReason::kBadSignature, "timeout signature");
}

TEST_F(VerifierTest, RejectsSignaturesByAnotherKeyOrForAnotherRound) {
  Vote by_other_key = make_vote(2, b1);
  by_other_key.signature = sign_vote(3, 1, b1.id());
  expect_rejected(verifier.verify(2, by_other_key), DropReason::kBadSignature, "vote signature");

  Vote replayed = make_vote(2, b1);
  replayed.round = 7;  // the signature covers round 1
  expect_rejected(verifier.verify(2, replayed), DropReason::kBadSignature, "vote signature");

  // A timeout's signature binds its high QC round.
  Timeout timeout = make_timeout(3, 2, genesis_qc);
  timeout.high_qc = make_qc(b1);
  expect_rejected(verifier.verify(3, timeout), DropReason::kBadSignature, "timeout signature");
}

// ---------------------------------------------------------------- quorum certificates

TEST_F(VerifierTest, RejectsQcWithTooFewSigners) {
  const QuorumCert qc = make_qc(b1, {0, 1});
  expect_rejected(verifier.verify_qc(qc), DropReason::kBadCertificate, "quorum is 3");
  expect_rejected(verifier.verify(2, proposal(make_block(2, b1, qc))), DropReason::kBadCertificate,
                  "quorum is 3");
  expect_rejected(verifier.verify(0, make_timeout(0, 2, qc)), DropReason::kBadCertificate,
                  "quorum is 3");
}

TEST_F(VerifierTest, RejectsQcWithDuplicateOrUnsortedSigners) {
  expect_rejected(verifier.verify_qc(make_qc(b1, {0, 0, 1})), DropReason::kBadCertificate,
                  "not ascending");
  expect_rejected(verifier.verify_qc(make_qc(b1, {1, 1, 1})), DropReason::kBadCertificate,
                  "not ascending");
  expect_rejected(verifier.verify_qc(make_qc(b1, {1, 0, 2})), DropReason::kBadCertificate,
                  "not ascending");
  QuorumCert outsider = make_qc(b1);
  outsider.signers[2] = 4;  // n = 4: indices 0..3
  expect_rejected(verifier.verify_qc(outsider), DropReason::kBadCertificate, "out of range");

  QuorumCert uneven = make_qc(b1);
  uneven.signatures.pop_back();
  expect_rejected(verifier.verify_qc(uneven), DropReason::kBadCertificate, "counts differ");
}

TEST_F(VerifierTest, RejectsQcWithOneBadSignature) {
  QuorumCert qc = make_qc(b1, {0, 1, 2, 3});
  qc.signatures[2] = flipped(qc.signatures[2]);
  expect_rejected(verifier.verify_qc(qc), DropReason::kBadCertificate, "validator 2 invalid");
  expect_rejected(verifier.verify(2, proposal(make_block(2, b1, qc))), DropReason::kBadCertificate,
                  "validator 2 invalid");

  QuorumCert swapped = make_qc(b1);
  std::swap(swapped.signatures[0], swapped.signatures[1]);
  expect_rejected(verifier.verify_qc(swapped), DropReason::kBadCertificate, "validator 0 invalid");

  QuorumCert other_round = make_qc(b1);
  other_round.round = 2;  // signatures are over round 1
  expect_rejected(verifier.verify_qc(other_round), DropReason::kBadCertificate, "invalid");
}

TEST_F(VerifierTest, RejectsForgedGenesisQcForAnotherBlock) {
  QuorumCert forged = genesis_qc;
  forged.block_id = core::sha3_256(core::as_bytes("not the genesis block"));
  ASSERT_TRUE(forged.is_genesis());
  expect_rejected(verifier.verify_qc(forged), DropReason::kBadCertificate, "round-0 qc");

  // A block "extending" the forged genesis, and a timeout carrying it as its high QC.
  Block block = make_block(1, genesis, forged);
  expect_rejected(verifier.verify(1, proposal(block)), DropReason::kBadCertificate, "round-0 qc");
  expect_rejected(verifier.verify(2, make_timeout(2, 1, forged)), DropReason::kBadCertificate,
                  "round-0 qc");

  // The real genesis id with signatures attached is not the genesis QC either.
  QuorumCert padded = genesis_qc;
  padded.signatures.push_back(sign_vote(0, 0, genesis.id()));
  expect_rejected(verifier.verify_qc(padded), DropReason::kBadCertificate, "round-0 qc");
}

// ---------------------------------------------------------------- timeout certificates

TEST_F(VerifierTest, RejectsTcWithABadEntry) {
  TimeoutCert tc = make_tc(1, {{0, 0}, {1, 0}, {3, 0}});
  tc.entries[1].signature = flipped(tc.entries[1].signature);
  expect_rejected(verifier.verify_tc(tc), DropReason::kBadCertificate, "validator 1 invalid");
  expect_rejected(verifier.verify(2, proposal(make_block(2, genesis, genesis_qc), tc)),
                  DropReason::kBadCertificate, "validator 1 invalid");
  expect_rejected(verifier.verify(0, make_timeout(0, 2, genesis_qc, tc)),
                  DropReason::kBadCertificate, "validator 1 invalid");

  // An entry that claims a higher QC round than its signer signed.
  TimeoutCert lying = make_tc(2, {{0, 0}, {1, 0}, {3, 0}});
  lying.entries[2].high_qc_round = 1;
  expect_rejected(verifier.verify_tc(lying), DropReason::kBadCertificate, "validator 3 invalid");

  expect_rejected(verifier.verify_tc(make_tc(1, {{0, 0}, {1, 0}})), DropReason::kBadCertificate,
                  "quorum is 3");
  expect_rejected(verifier.verify_tc(make_tc(1, {{1, 0}, {0, 0}, {3, 0}})),
                  DropReason::kBadCertificate, "not ascending");
}

TEST_F(VerifierTest, RejectsTcEntryWhoseQcRoundIsNotBelowTheTcRound) {
  // Correctly signed, but a QC of round >= 2 cannot be the high QC of a timeout for round 2.
  expect_rejected(verifier.verify_tc(make_tc(2, {{0, 1}, {1, 2}, {3, 0}})),
                  DropReason::kBadCertificate, "not below tc round");
  expect_rejected(verifier.verify_tc(make_tc(2, {{0, 5}, {1, 0}, {3, 0}})),
                  DropReason::kBadCertificate, "not below tc round");
  expect_accepted(verifier.verify_tc(make_tc(2, {{0, 1}, {1, 1}, {3, 0}})));
}

// ---------------------------------------------------------------- block structure

TEST_F(VerifierTest, RejectsProposalFromANonLeader) {
  Block block = b1;
  block.header.proposer = 2;  // round 1 is led by 1 % 4 = 1
  sign_block(block);
  expect_rejected(verifier.verify(2, proposal(block)), DropReason::kMalformed,
                  "not the leader of round 1");
}

TEST_F(VerifierTest, RejectsPayloadThatDoesNotMatchItsDigest) {
  Block block = b1;
  block.payload = harness::bytes_of("round 0ne");  // the id covers the digest, not the payload
  ASSERT_EQ(block.id(), b1.id());
  expect_rejected(verifier.verify(1, proposal(block)), DropReason::kMalformed,
                  "payload does not match");
}

TEST_F(VerifierTest, RejectsParentThatIsNotTheParentQcBlock) {
  Block block = b2;
  block.header.parent_id = genesis.id();  // parent_qc certifies b1
  sign_block(block);
  expect_rejected(verifier.verify(2, proposal(block)), DropReason::kMalformed,
                  "parent does not match");

  Block wrong_round = b2;
  wrong_round.header.parent_round = 0;  // parent_qc is for round 1
  sign_block(wrong_round);
  expect_rejected(verifier.verify(2, proposal(wrong_round)), DropReason::kMalformed,
                  "parent does not match");
}

TEST_F(VerifierTest, RejectsProposalWhoseTcIsNotForThePreviousRound) {
  const TimeoutCert tc1 = make_tc(1, {{0, 0}, {1, 0}, {3, 0}});
  expect_rejected(verifier.verify(3, proposal(make_block(3, genesis, genesis_qc), tc1)),
                  DropReason::kMalformed, "not for the previous round");
}

// ---------------------------------------------------------------- block sync

TEST_F(VerifierTest, RejectsSyncResponseThatIsNotAChain) {
  expect_rejected(verifier.verify(1, SyncResponse{kChainId, kEpoch, {b1, b3}}),
                  DropReason::kMalformed, "not a chain");
  expect_rejected(verifier.verify(1, SyncResponse{kChainId, kEpoch, {b2, b1}}),
                  DropReason::kMalformed, "not a chain");
  expect_rejected(verifier.verify(1, SyncResponse{kChainId, kEpoch, {b1, b1}}),
                  DropReason::kMalformed, "not a chain");
  // Consecutive heights, but the second block hangs off another block at height 1.
  const Block fork1 = make_block(1, genesis, genesis_qc, "fork");
  const Block fork2 = extend(2, fork1, "fork two");
  expect_rejected(verifier.verify(1, SyncResponse{kChainId, kEpoch, {b1, fork2}}),
                  DropReason::kMalformed, "not a chain");
  expect_accepted(verifier.verify(1, SyncResponse{kChainId, kEpoch, {fork1, fork2}}));
  expect_rejected(verifier.verify(1, SyncResponse{kChainId, kEpoch, {}}), DropReason::kMalformed,
                  "empty");

  // Each block is checked on its own too.
  Block tampered = b2;
  tampered.proposer_signature = flipped(tampered.proposer_signature);
  expect_rejected(verifier.verify(1, SyncResponse{kChainId, kEpoch, {b1, tampered}}),
                  DropReason::kBadSignature, "block signature");
}

TEST_F(VerifierTest, RejectsSyncRequestForNoneOrTooManyBlocks) {
  expect_rejected(verifier.verify(1, SyncRequest{kChainId, kEpoch, 1, b3.id(), 0}),
                  DropReason::kMalformed, "for 0 blocks");
  expect_rejected(verifier.verify(1, SyncRequest{kChainId, kEpoch, 1, b3.id(),
                                                 static_cast<std::uint32_t>(kMaxSyncBlocks + 1)}),
                  DropReason::kMalformed, "blocks");
}

}  // namespace
}  // namespace carbon::consensus
