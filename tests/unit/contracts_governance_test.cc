// Governance: M-of-N officer proposals, rule data versions, participants (update, freeze,
// key rotation). A chain with three officers and threshold 2, blocks at explicit times.
#include <gtest/gtest.h>

#include "contracts/executor.h"
#include "contracts/invariants.h"
#include "contracts/ledger_internal.h"
#include "contracts_harness.h"

namespace carbon::contracts {
namespace {

using testing::make_tx;
using testing::test_key;

constexpr std::uint64_t kStartMs = 1'767'225'600'000ULL;  // 2026-01-01T00:00:00Z

class OfficerChain {
 public:
  OfficerChain()
      : executor_(testing::kTestChain,
                  GenesisConfig{test_key(0).public_key(), "Hubei DRC",
                                {test_key(1).public_key(), test_key(2).public_key()}, 2}) {}

  const core::SecretKey& officer(int i) { return officers_.at(static_cast<std::size_t>(i)); }
  Executor& executor() { return executor_; }
  std::uint64_t time_ms() const { return time_ms_; }
  void advance_ms(std::uint64_t ms) { time_ms_ += ms; }

  Receipt submit(const SignedTx& tx) {
    ++height_;
    time_ms_ += 1000;
    BlockResult result = executor_.execute_block(height_, time_ms_, {tx});
    const Status invariants = check_invariants(executor_.state());
    EXPECT_TRUE(invariants.is_ok()) << invariants.to_string();
    return result.receipts.at(0);
  }
  std::uint64_t next_nonce(const core::SecretKey& key) {
    auto account = executor_.account(key.public_key());
    return (account.is_ok() && account->has_value()) ? (*account)->nonce + 1 : 1;
  }
  Receipt call(const core::SecretKey& key, Call call) {
    return submit(make_tx(key, next_nonce(key), std::move(call)));
  }
  // RotateKey signed by the account's key and co-signed by the new key (proof of possession).
  Receipt rotate(const core::SecretKey& account, const core::SecretKey& new_key) {
    SignedTx tx = make_tx(account, next_nonce(account), RotateKey{new_key.public_key()});
    sign_tx(tx, new_key);
    return submit(tx);
  }
  Receipt propose(int officer_index, AuthorityAct act) {
    return call(officer(officer_index), Propose{std::move(act)});
  }
  Receipt approve(int officer_index, std::uint64_t id) {
    return call(officer(officer_index), Approve{id});
  }
  Proposal proposal(std::uint64_t id) {
    auto stored = Ledger(executor_.state()).get<Proposal>(keys::proposal(id));
    EXPECT_TRUE(stored.is_ok() && stored->has_value());
    return stored.is_ok() && stored->has_value() ? **stored : Proposal{};
  }
  std::optional<Account> account(const core::SecretKey& key) {
    auto stored = executor_.account(key.public_key());
    EXPECT_TRUE(stored.is_ok());
    return stored.is_ok() ? *stored : std::nullopt;
  }

 private:
  std::vector<core::SecretKey> officers_ = {test_key(0), test_key(1), test_key(2)};
  Executor executor_;
  Height height_ = 0;
  std::uint64_t time_ms_ = kStartMs;
};

const core::SecretKey kSteel = test_key(10);

TEST(ContractsGovernance, ActExecutesOnlyWhenTheThresholdIsReached) {
  OfficerChain chain;
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{kSteel.public_key(), "Wuhan Steel",
                                                   Role::kCoveredEnterprise})
                  .ok());
  // M - 1 = 1 approval: proposed, not executed.
  EXPECT_FALSE(chain.account(kSteel).has_value());
  Proposal open = chain.proposal(1);
  EXPECT_EQ(open.status, ProposalStatus::kOpen);
  EXPECT_EQ(open.approvals.size(), 1u);
  EXPECT_EQ(open.threshold, 2);

  // The proposer cannot approve twice.
  Receipt again = chain.approve(0, 1);
  EXPECT_EQ(again.code, ErrorCode::kConflict);
  EXPECT_NE(again.message.find("already approved"), std::string::npos) << again.message;
  EXPECT_FALSE(chain.account(kSteel).has_value());

  // The second officer's approval executes it.
  ASSERT_TRUE(chain.approve(1, 1).ok());
  ASSERT_TRUE(chain.account(kSteel).has_value());
  EXPECT_EQ(chain.account(kSteel)->role, Role::kCoveredEnterprise);
  EXPECT_EQ(chain.proposal(1).status, ProposalStatus::kExecuted);

  // An executed proposal cannot be approved again.
  Receipt late = chain.approve(2, 1);
  EXPECT_EQ(late.code, ErrorCode::kConflict);
  EXPECT_NE(late.message.find("already executed"), std::string::npos) << late.message;
}

TEST(ContractsGovernance, NonOfficersCannotProposeOrApprove) {
  OfficerChain chain;
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{kSteel.public_key(), "Wuhan Steel",
                                                   Role::kCoveredEnterprise})
                  .ok());
  ASSERT_TRUE(chain.approve(1, 1).ok());
  const Receipt propose = chain.call(kSteel, Propose{IssueAllowances{kSteel.public_key(), 2025, 10}});
  EXPECT_EQ(propose.code, ErrorCode::kUnauthorized);
  ASSERT_TRUE(chain.propose(0, IssueAllowances{kSteel.public_key(), 2025, 10}).ok());
  const Receipt approve = chain.call(kSteel, Approve{2});
  EXPECT_EQ(approve.code, ErrorCode::kUnauthorized);
  EXPECT_EQ(chain.proposal(2).status, ProposalStatus::kOpen);
}

TEST(ContractsGovernance, ProposalsExpire) {
  OfficerChain chain;
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{kSteel.public_key(), "Wuhan Steel",
                                                   Role::kCoveredEnterprise})
                  .ok());
  const Proposal proposal = chain.proposal(1);
  EXPECT_EQ(proposal.expires_ms, proposal.created_ms + default_rules(2026).proposal_ttl_ms);
  // The next block comes 1 s after the clock: land it one millisecond past the expiry.
  chain.advance_ms(proposal.expires_ms - chain.time_ms() - 1000 + 1);
  const Receipt expired = chain.approve(1, 1);
  EXPECT_EQ(expired.code, ErrorCode::kConflict);
  EXPECT_NE(expired.message.find("expired"), std::string::npos) << expired.message;
  EXPECT_FALSE(chain.account(kSteel).has_value());
}

TEST(ContractsGovernance, ApprovalExactlyAtExpiryExecutes) {
  OfficerChain chain;
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{kSteel.public_key(), "Wuhan Steel",
                                                   Role::kCoveredEnterprise})
                  .ok());
  const Proposal proposal = chain.proposal(1);
  chain.advance_ms(proposal.expires_ms - chain.time_ms() - 1000);
  ASSERT_TRUE(chain.approve(1, 1).ok());
  EXPECT_TRUE(chain.account(kSteel).has_value());
}

TEST(ContractsGovernance, FailingActKeepsTheProposalOpenAndChangesNothing) {
  OfficerChain chain;
  // Issue to a participant that does not exist yet.
  ASSERT_TRUE(chain.propose(0, IssueAllowances{kSteel.public_key(), 2025, 100}).ok());
  const Receipt failed = chain.approve(1, 1);
  EXPECT_EQ(failed.code, ErrorCode::kNotFound);
  EXPECT_NE(failed.message.find("proposal 1 (issue_allowances) cannot execute"), std::string::npos)
      << failed.message;
  EXPECT_EQ(chain.proposal(1).approvals.size(), 1u);
  // Register, then the same approval goes through.
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{kSteel.public_key(), "Wuhan Steel",
                                                   Role::kCoveredEnterprise})
                  .ok());
  ASSERT_TRUE(chain.approve(2, 2).ok());
  ASSERT_TRUE(chain.approve(1, 1).ok());
  auto balance = chain.executor().balance(kSteel.public_key(), ProductId::allowance(2025));
  ASSERT_TRUE(balance.is_ok());
  EXPECT_EQ(*balance, 100u);
}

TEST(ContractsGovernance, OfficerSetChangesAndTheOldOfficersLoseTheirVote) {
  OfficerChain chain;
  const core::SecretKey fresh = test_key(20);
  ASSERT_TRUE(chain.propose(0, SetOfficers{{test_key(0).public_key(), fresh.public_key()}, 2}).ok());
  ASSERT_TRUE(chain.approve(2, 1).ok());
  auto set = Ledger(chain.executor().state()).get<OfficerSet>(std::string(keys::kOfficers));
  ASSERT_TRUE(set.is_ok() && set->has_value());
  EXPECT_EQ((*set)->officers.size(), 2u);
  ASSERT_TRUE(chain.account(fresh).has_value());
  EXPECT_EQ(chain.account(fresh)->role, Role::kAuthority);
  // Officer 2 is out of office: it can no longer propose.
  const Receipt out = chain.propose(2, IssueAllowances{kSteel.public_key(), 2025, 1});
  EXPECT_EQ(out.code, ErrorCode::kUnauthorized);
  // Threshold out of range is refused.
  ASSERT_TRUE(chain.propose(0, SetOfficers{{test_key(0).public_key()}, 2}).ok());
  const Receipt bad = chain.call(fresh, Approve{2});  // the refused proposal took no id
  EXPECT_EQ(bad.code, ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.message.find("threshold 2 must be 1..1"), std::string::npos) << bad.message;
}

TEST(ContractsGovernance, AnOfficerKeyMustNotAlreadySignForAnotherAccount) {
  OfficerChain chain;
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{kSteel.public_key(), "Steel", Role::kCoveredEnterprise}).ok());
  ASSERT_TRUE(chain.approve(1, 1).ok());
  const core::SecretKey rotated = test_key(31);
  ASSERT_TRUE(chain.rotate(kSteel, rotated).ok());
  ASSERT_TRUE(chain.propose(0, SetOfficers{{test_key(0).public_key(), rotated.public_key()}, 2}).ok());
  const Receipt refused = chain.approve(1, 2);
  EXPECT_EQ(refused.code, ErrorCode::kConflict) << refused.message;
  EXPECT_NE(refused.message.find("already signs for account"), std::string::npos) << refused.message;
  EXPECT_FALSE(chain.account(rotated).has_value());
  auto set = Ledger(chain.executor().state()).get<OfficerSet>(std::string(keys::kOfficers));
  ASSERT_TRUE(set.is_ok() && set->has_value());
  EXPECT_EQ((*set)->officers.size(), 3u);  // unchanged
}

TEST(ContractsGovernance, RulesAreVersionedAndTheVersionInForceIsUsed) {
  OfficerChain chain;
  Ledger reader(chain.executor().state());
  auto defaults = rules_in_force(reader, 2025);
  ASSERT_TRUE(defaults.is_ok());
  EXPECT_EQ(defaults->version, 0u);
  EXPECT_EQ(defaults->rules.offset_limit_bp, 1000u);
  // Default deadlines: end of 28 Feb, 30 Apr and 31 May 2026, Beijing time.
  EXPECT_EQ(defaults->rules.report_deadline_ms, 1'772'294'399'999ULL);  // 2026-02-28T15:59:59.999Z
  EXPECT_EQ(defaults->rules.surrender_deadline_ms, 1'780'243'199'999ULL);  // 2026-05-31T15:59:59.999Z

  RuleSet changed = defaults->rules;
  changed.offset_limit_bp = 500;
  ASSERT_TRUE(chain.propose(0, SetRules{2025, changed}).ok());
  ASSERT_TRUE(chain.approve(1, 1).ok());
  changed.offset_limit_bp = 800;
  ASSERT_TRUE(chain.propose(0, SetRules{2025, changed}).ok());
  ASSERT_TRUE(chain.approve(2, 2).ok());
  auto in_force = rules_in_force(Ledger(chain.executor().state()), 2025);
  ASSERT_TRUE(in_force.is_ok());
  EXPECT_EQ(in_force->version, 2u);
  EXPECT_EQ(in_force->rules.offset_limit_bp, 800u);
  EXPECT_EQ(in_force->effective_ms, chain.time_ms());
  auto first = Ledger(chain.executor().state()).get<RulesRecord>(keys::rules_version(2025, 1));
  ASSERT_TRUE(first.is_ok() && first->has_value());
  EXPECT_EQ((*first)->rules.offset_limit_bp, 500u);

  // Incoherent rules are refused whole.
  RuleSet bad = changed;
  bad.surrender_deadline_ms = bad.report_deadline_ms - 1;
  ASSERT_TRUE(chain.propose(0, SetRules{2025, bad}).ok());
  const Receipt refused = chain.approve(1, 3);
  EXPECT_EQ(refused.code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(rules_in_force(Ledger(chain.executor().state()), 2025)->version, 2u);
}

TEST(ContractsGovernance, FreezeUpdateAndKeyRotation) {
  OfficerChain chain;
  const core::SecretKey cement = test_key(11);
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{kSteel.public_key(), "Wuhan Steel",
                                                   Role::kCoveredEnterprise})
                  .ok());
  ASSERT_TRUE(chain.approve(1, 1).ok());
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{cement.public_key(), "Huaxin Cement",
                                                   Role::kCoveredEnterprise})
                  .ok());
  ASSERT_TRUE(chain.approve(1, 2).ok());
  ASSERT_TRUE(chain.propose(0, IssueAllowances{kSteel.public_key(), 2025, 100}).ok());
  ASSERT_TRUE(chain.approve(1, 3).ok());

  // Frozen: no transfer.
  ASSERT_TRUE(chain.propose(0, SetFrozen{kSteel.public_key(), 1}).ok());
  ASSERT_TRUE(chain.approve(2, 4).ok());
  const Receipt frozen =
      chain.call(kSteel, TransferUnits{cement.public_key(), ProductId::allowance(2025), 10});
  EXPECT_EQ(frozen.code, ErrorCode::kConflict);
  EXPECT_NE(frozen.message.find("frozen"), std::string::npos);
  ASSERT_TRUE(chain.propose(0, SetFrozen{kSteel.public_key(), 0}).ok());
  ASSERT_TRUE(chain.approve(2, 5).ok());

  // Update: name and role.
  ASSERT_TRUE(chain.propose(0, UpdateParticipant{kSteel.public_key(), "Wuhan Iron & Steel",
                                                 Role::kCoveredEnterprise})
                  .ok());
  ASSERT_TRUE(chain.approve(2, 6).ok());
  EXPECT_EQ(chain.account(kSteel)->name, "Wuhan Iron & Steel");

  // Rotation: afterwards only the new key signs for the account; the address stays.
  const core::SecretKey rotated = test_key(30);
  ASSERT_TRUE(chain.rotate(kSteel, rotated).ok());
  const Receipt old_key =
      chain.call(kSteel, TransferUnits{cement.public_key(), ProductId::allowance(2025), 10});
  EXPECT_EQ(old_key.code, ErrorCode::kBadSignature);
  EXPECT_NE(old_key.message.find("rotated"), std::string::npos) << old_key.message;

  SignedTx tx;
  tx.tx.chain_id = testing::kTestChain;
  tx.tx.sender = kSteel.public_key();
  tx.tx.nonce = chain.next_nonce(kSteel);
  tx.tx.expiry_height = 1'000'000;
  tx.tx.call = TransferUnits{cement.public_key(), ProductId::allowance(2025), 10};
  sign_tx(tx, rotated);
  ASSERT_TRUE(chain.submit(tx).ok());
  auto balance = chain.executor().balance(kSteel.public_key(), ProductId::allowance(2025));
  EXPECT_EQ(*balance, 90u);
  // The rotated-in key cannot be registered as another participant.
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{rotated.public_key(), "Impostor",
                                                   Role::kVoluntary})
                  .ok());
  const Receipt taken = chain.approve(1, 7);
  EXPECT_EQ(taken.code, ErrorCode::kConflict);
  EXPECT_NE(taken.message.find("already signs for"), std::string::npos) << taken.message;
}

TEST(ContractsGovernance, ARotationNeedsTheNewKeysSignature) {
  OfficerChain chain;
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{kSteel.public_key(), "Steel", Role::kCoveredEnterprise}).ok());
  ASSERT_TRUE(chain.approve(1, 1).ok());
  // Steel names a key it does not hold (one the authority is about to register for Cement).
  const core::SecretKey cement = test_key(11);
  const Receipt squat = chain.call(kSteel, RotateKey{cement.public_key()});
  EXPECT_EQ(squat.code, ErrorCode::kBadSignature) << squat.message;
  EXPECT_NE(squat.message.find("must co-sign its rotation"), std::string::npos) << squat.message;
  EXPECT_EQ(chain.account(kSteel)->signing_key, kSteel.public_key());  // unchanged
  // So the key is still free for its owner.
  ASSERT_TRUE(chain.propose(0, RegisterParticipant{cement.public_key(), "Cement", Role::kCoveredEnterprise}).ok());
  ASSERT_TRUE(chain.approve(1, 2).ok());
  ASSERT_TRUE(chain.account(cement).has_value());
  // A rotation the new key co-signs goes through.
  const core::SecretKey rotated = test_key(32);
  ASSERT_TRUE(chain.rotate(kSteel, rotated).ok());
  EXPECT_EQ(chain.account(kSteel)->signing_key, rotated.public_key());
}

TEST(ContractsGovernance, ProposalCoSignedByMOfficersExecutesAtOnce) {
  OfficerChain chain;
  SignedTx tx = make_tx(chain.officer(0), chain.next_nonce(chain.officer(0)),
                        Call{Propose{RegisterParticipant{kSteel.public_key(), "Wuhan Steel",
                                                         Role::kCoveredEnterprise}}});
  sign_tx(tx, chain.officer(2));  // the second officer co-signs the same transaction
  ASSERT_TRUE(chain.submit(tx).ok());
  EXPECT_TRUE(chain.account(kSteel).has_value());
  const Proposal proposal = chain.proposal(1);
  EXPECT_EQ(proposal.status, ProposalStatus::kExecuted);
  EXPECT_EQ(proposal.approvals.size(), 2u);

  // A co-signature by a non-officer counts for nothing.
  SignedTx lone = make_tx(chain.officer(0), chain.next_nonce(chain.officer(0)),
                          Call{Propose{IssueAllowances{kSteel.public_key(), 2025, 5}}});
  sign_tx(lone, kSteel);
  ASSERT_TRUE(chain.submit(lone).ok());
  EXPECT_EQ(chain.proposal(2).status, ProposalStatus::kOpen);
  EXPECT_EQ(chain.proposal(2).approvals.size(), 1u);
}

}  // namespace
}  // namespace carbon::contracts
