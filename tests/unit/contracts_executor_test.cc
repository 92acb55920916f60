// Contract rules, table-driven: each case runs one transaction in its own block and checks
// the receipt's code and message and exactly which state keys changed (none, or only the
// sender's account for its nonce). Then serial-range split and merge, check_tx, and reopening.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>

#include "contracts/ledger.h"
#include "contracts_harness.h"
#include "core/codec.h"

namespace carbon::contracts {
namespace {

using testing::changed_keys;
using testing::make_tx;
using testing::snapshot;
using testing::test_key;
using testing::TestChain;

constexpr std::uint16_t kVintage = 2025;

// The cast of the rule tests.
struct Cast {
  core::SecretKey steel = test_key(1);     // covered enterprise, holds 300 t of HBEA-2025
  core::SecretKey cement = test_key(2);    // covered enterprise
  core::SecretKey verifier = test_key(3);  // verifier (may not hold units)
  core::SecretKey frozen = test_key(4);    // voluntary participant, frozen, holds 50 t
  core::SecretKey stranger = test_key(5);  // never registered
  core::SecretKey reserve = test_key(6);   // reserve institution
};

void set_up(TestChain& chain, const Cast& cast) {
  ASSERT_TRUE(chain.register_participant(cast.steel, Role::kCoveredEnterprise, "Wuhan Steel").ok());
  ASSERT_TRUE(
      chain.register_participant(cast.cement, Role::kCoveredEnterprise, "Huangshi Cement").ok());
  ASSERT_TRUE(
      chain.register_participant(cast.verifier, Role::kVerifier, "Hubei Verification Co").ok());
  ASSERT_TRUE(chain.register_participant(cast.frozen, Role::kVoluntary, "Frozen Fund").ok());
  ASSERT_TRUE(
      chain.register_participant(cast.reserve, Role::kReserve, "Hubei Carbon Reserve").ok());
  ASSERT_TRUE(chain.issue(cast.steel, kVintage, 300).ok());
  ASSERT_TRUE(chain.issue(cast.frozen, kVintage, 50).ok());
  ASSERT_TRUE(chain.call(chain.authority(), SetFrozen{cast.frozen.public_key(), 1}).ok());
}

enum class Effect { kNothing, kNonceOnly };

struct RuleCase {
  const char* name;
  std::function<SignedTx(TestChain&, const Cast&)> build;
  ErrorCode code;
  const char* message_part;
  Effect effect;
};

std::uint64_t nonce(TestChain& chain, const core::SecretKey& key) { return chain.next_nonce(key); }

std::vector<RuleCase> rule_cases() {
  const ProductId hbea = ProductId::allowance(kVintage);
  return {
      {"unauthorized issue",
       [](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel),
                        IssueAllowances{k.steel.public_key(), kVintage, 10});
       },
       ErrorCode::kUnauthorized, "only the authority may propose authority acts", Effect::kNonceOnly},
      {"unauthorized registration",
       [](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel),
                        RegisterParticipant{k.stranger.public_key(), "X", Role::kVoluntary});
       },
       ErrorCode::kUnauthorized, "only the authority may propose authority acts",
       Effect::kNonceOnly},
      {"unauthorized freeze",
       [](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel), SetFrozen{k.cement.public_key(), 1});
       },
       ErrorCode::kUnauthorized, "only the authority may propose authority acts", Effect::kNonceOnly},
      {"issue to unknown recipient",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        IssueAllowances{k.stranger.public_key(), kVintage, 10});
       },
       ErrorCode::kNotFound, "unknown recipient ", Effect::kNonceOnly},
      {"issue to a role that may not hold",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        IssueAllowances{k.verifier.public_key(), kVintage, 10});
       },
       ErrorCode::kConflict, "verifier, a role that may not hold allowances", Effect::kNonceOnly},
      {"issue zero",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        IssueAllowances{k.steel.public_key(), kVintage, 0});
       },
       ErrorCode::kInvalidArgument, "at least 1 t", Effect::kNonceOnly},
      {"issue over the per-tx limit",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        IssueAllowances{k.steel.public_key(), kVintage, kMaxQuantityPerTx + 1});
       },
       ErrorCode::kOutOfBounds, "exceeds the limit", Effect::kNonceOnly},
      {"issue a vintage out of range",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        IssueAllowances{k.steel.public_key(), 1999, 10});
       },
       ErrorCode::kInvalidArgument, "year 1999 is outside", Effect::kNonceOnly},
      {"duplicate registration",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        RegisterParticipant{k.steel.public_key(), "Again", Role::kVoluntary});
       },
       ErrorCode::kConflict, "already registered as Wuhan Steel (covered_enterprise)",
       Effect::kNonceOnly},
      {"register a second authority",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        RegisterParticipant{k.stranger.public_key(), "Fake DRC", Role::kAuthority});
       },
       ErrorCode::kInvalidArgument, "belongs to the officers", Effect::kNonceOnly},
      {"register an invalid key",
       [](TestChain& c, const Cast&) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        RegisterParticipant{PublicKey{}, "Zero", Role::kVoluntary});
       },
       ErrorCode::kInvalidArgument, "not a valid Ed25519 public key", Effect::kNonceOnly},
      {"register with an empty name",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        RegisterParticipant{k.stranger.public_key(), "", Role::kVoluntary});
       },
       ErrorCode::kInvalidArgument, "name must not be empty", Effect::kNonceOnly},
      {"not enough units",
       [hbea](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel),
                        TransferUnits{k.cement.public_key(), hbea, 500});
       },
       ErrorCode::kConflict, "not enough units: holds 300 t of HBEA-2025, needs 500 t",
       Effect::kNonceOnly},
      {"no units of that vintage",
       [](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel),
                        TransferUnits{k.cement.public_key(), ProductId::allowance(2024), 1});
       },
       ErrorCode::kConflict, "holds 0 t of HBEA-2024", Effect::kNonceOnly},
      {"transfer to unknown recipient",
       [hbea](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel),
                        TransferUnits{k.stranger.public_key(), hbea, 1});
       },
       ErrorCode::kNotFound, "unknown recipient", Effect::kNonceOnly},
      {"transfer to a verifier",
       [hbea](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel),
                        TransferUnits{k.verifier.public_key(), hbea, 1});
       },
       ErrorCode::kConflict, "may not hold allowances", Effect::kNonceOnly},
      {"transfer to yourself",
       [hbea](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel), TransferUnits{k.steel.public_key(), hbea, 1});
       },
       ErrorCode::kInvalidArgument, "to yourself", Effect::kNonceOnly},
      {"allowance with a project id",
       [](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel),
                        TransferUnits{k.cement.public_key(),
                                      ProductId{ProductKind::kAllowance, kVintage, 3}, 1});
       },
       ErrorCode::kInvalidArgument, "no project id", Effect::kNonceOnly},
      {"frozen sender",
       [hbea](TestChain& c, const Cast& k) {
         return make_tx(k.frozen, nonce(c, k.frozen),
                        TransferUnits{k.cement.public_key(), hbea, 10});
       },
       ErrorCode::kConflict, "Frozen Fund is frozen", Effect::kNonceOnly},
      {"freeze the authority",
       [](TestChain& c, const Cast&) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        SetFrozen{c.authority().public_key(), 1});
       },
       ErrorCode::kInvalidArgument, "cannot be frozen", Effect::kNonceOnly},
      {"freeze an unknown account",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()),
                        SetFrozen{k.stranger.public_key(), 1});
       },
       ErrorCode::kNotFound, "unknown account", Effect::kNonceOnly},
      // Failures before the call: nothing changes, the nonce stays usable.
      {"nonce too high",
       [hbea](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel) + 1,
                        TransferUnits{k.cement.public_key(), hbea, 1});
       },
       ErrorCode::kConflict, "wrong nonce: expected", Effect::kNothing},
      {"nonce reused",
       [](TestChain& c, const Cast& k) {
         return make_tx(c.authority(), nonce(c, c.authority()) - 1,
                        IssueAllowances{k.steel.public_key(), kVintage, 1});
       },
       ErrorCode::kConflict, "wrong nonce", Effect::kNothing},
      {"nonce zero",
       [hbea](TestChain&, const Cast& k) {
         return make_tx(k.cement, 0, TransferUnits{k.steel.public_key(), hbea, 1});
       },
       ErrorCode::kConflict, "wrong nonce: expected 1, got 0", Effect::kNothing},
      {"expired",
       [hbea](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel), TransferUnits{k.cement.public_key(), hbea, 1},
                        c.height());
       },
       ErrorCode::kConflict, "expired: valid up to height", Effect::kNothing},
      {"wrong chain id",
       [hbea](TestChain& c, const Cast& k) {
         return make_tx(k.steel, nonce(c, k.steel), TransferUnits{k.cement.public_key(), hbea, 1},
                        1'000'000, "other");
       },
       ErrorCode::kInvalidArgument, "wrong chain id", Effect::kNothing},
      {"unknown sender",
       [hbea](TestChain&, const Cast& k) {
         return make_tx(k.stranger, 1, TransferUnits{k.cement.public_key(), hbea, 1});
       },
       ErrorCode::kNotFound, "unknown sender", Effect::kNothing},
      {"bad signature",
       [hbea](TestChain& c, const Cast& k) {
         SignedTx tx =
             make_tx(k.steel, nonce(c, k.steel), TransferUnits{k.cement.public_key(), hbea, 1});
         tx.tx.call = TransferUnits{k.cement.public_key(), hbea, 300};  // signed for 1 t
         return tx;
       },
       ErrorCode::kBadSignature, "does not verify", Effect::kNothing},
      {"signed by someone else than the sender",
       [hbea](TestChain& c, const Cast& k) {
         // A valid signature, but by cement's key over a transaction sent as steel.
         SignedTx tx;
         tx.tx.chain_id = testing::kTestChain;
         tx.tx.sender = k.steel.public_key();
         tx.tx.nonce = nonce(c, k.steel);
         tx.tx.expiry_height = 1'000'000;
         tx.tx.call = TransferUnits{k.cement.public_key(), hbea, 1};
         sign_tx(tx, k.cement);
         return tx;
       },
       ErrorCode::kBadSignature, "did not sign", Effect::kNothing},
  };
}

TEST(ContractsRules, TableOfRejections) {
  for (const RuleCase& rule : rule_cases()) {
    SCOPED_TRACE(rule.name);
    TestChain chain;
    Cast cast;
    set_up(chain, cast);
    const SignedTx tx = rule.build(chain, cast);
    const auto before = snapshot(chain.executor());
    const Hash256 root_before = chain.executor().state_root();
    const Receipt receipt = chain.submit(tx);
    EXPECT_EQ(receipt.tx_id, tx_id(tx));
    EXPECT_EQ(receipt.code, rule.code) << receipt.message;
    EXPECT_NE(receipt.message.find(rule.message_part), std::string::npos) << receipt.message;
    const auto changed = changed_keys(before, snapshot(chain.executor()));
    if (rule.effect == Effect::kNothing) {
      EXPECT_TRUE(changed.empty());
      EXPECT_EQ(chain.executor().state_root(), root_before);
    } else {
      // Only the nonce is consumed (and the ledger clock, meta/clock, moves with it).
      ASSERT_EQ(changed.size(), 2u);
      EXPECT_EQ(changed[0], keys::account(tx.tx.sender));
      EXPECT_EQ(changed[1], "meta/clock");
      auto account = chain.executor().account(tx.tx.sender);
      ASSERT_TRUE(account.is_ok() && account->has_value());
      EXPECT_EQ((*account)->nonce, tx.tx.nonce);
      // The consumed nonce cannot be replayed.
      const Receipt replay = chain.submit(tx);
      EXPECT_EQ(replay.code, ErrorCode::kConflict);
      EXPECT_NE(replay.message.find("wrong nonce"), std::string::npos);
    }
  }
}

TEST(ContractsRules, SuccessfulCallsAndTheirEffects) {
  TestChain chain;
  Cast cast;
  set_up(chain, cast);
  EXPECT_EQ(chain.balance(cast.steel, kVintage), 300u);
  const Receipt ok = chain.transfer(cast.steel, cast.cement, kVintage, 120);
  ASSERT_TRUE(ok.ok()) << ok.message;
  EXPECT_TRUE(ok.message.empty());
  EXPECT_EQ(chain.balance(cast.steel, kVintage), 180u);
  EXPECT_EQ(chain.balance(cast.cement, kVintage), 120u);
  // Unfreeze, then the formerly frozen account may transfer; frozen accounts may receive.
  ASSERT_TRUE(chain.transfer(cast.steel, cast.frozen, kVintage, 10).ok());
  ASSERT_TRUE(chain.call(chain.authority(), SetFrozen{cast.frozen.public_key(), 0}).ok());
  ASSERT_TRUE(chain.transfer(cast.frozen, cast.reserve, kVintage, 60).ok());
  EXPECT_EQ(chain.balance(cast.reserve, kVintage), 60u);
  EXPECT_EQ(chain.balance(cast.frozen, kVintage), 0u);
  ASSERT_TRUE(chain.issue(cast.reserve, 2024, 7).ok());
  auto listed = chain.executor().balances(cast.reserve.public_key(), 10);
  ASSERT_TRUE(listed.is_ok());
  EXPECT_EQ(*listed, (std::vector<std::pair<ProductId, std::uint64_t>>{
                         {ProductId::allowance(2024), 7}, {ProductId::allowance(2025), 60}}));
  auto none = chain.executor().balances(cast.frozen.public_key(), 10);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
  auto account = chain.executor().account(cast.steel.public_key());
  ASSERT_TRUE(account.is_ok() && account->has_value());
  EXPECT_EQ((*account)->nonce, 2u);
  EXPECT_EQ((*account)->name, "Wuhan Steel");
  EXPECT_EQ((*account)->role, Role::kCoveredEnterprise);
  auto product = Ledger(chain.executor().state()).product(ProductId::allowance(kVintage));
  ASSERT_TRUE(product.is_ok() && product->has_value());
  EXPECT_EQ((*product)->issued_t, 350u);
  EXPECT_EQ((*product)->next_serial, 351u);
}

TEST(ContractsRules, SeveralTransactionsInOneBlockSeeEachOther) {
  TestChain chain;
  Cast cast;
  set_up(chain, cast);
  const std::uint64_t a = chain.next_nonce(chain.authority());
  const std::uint64_t s = chain.next_nonce(cast.steel);
  const ProductId hbea = ProductId::allowance(kVintage);
  const BlockResult result = chain.block({
      make_tx(chain.authority(), a,
              RegisterParticipant{cast.stranger.public_key(), "Late Co", Role::kVoluntary}),
      make_tx(cast.steel, s, TransferUnits{cast.stranger.public_key(), hbea, 100}),
      make_tx(cast.steel, s,
              TransferUnits{cast.stranger.public_key(), hbea, 100}),  // duplicate nonce
      make_tx(cast.stranger, 1, TransferUnits{cast.cement.public_key(), hbea, 40}),
      make_tx(cast.steel, s + 1,
              TransferUnits{cast.cement.public_key(), hbea, 1000}),  // fails, consumes
      make_tx(cast.steel, s + 2, TransferUnits{cast.cement.public_key(), hbea, 200}),
  });
  ASSERT_EQ(result.receipts.size(), 6u);
  EXPECT_TRUE(result.receipts[0].ok());
  EXPECT_TRUE(result.receipts[1].ok());
  EXPECT_EQ(result.receipts[2].code, ErrorCode::kConflict);
  EXPECT_TRUE(result.receipts[3].ok()) << result.receipts[3].message;
  EXPECT_EQ(result.receipts[4].code, ErrorCode::kConflict);
  EXPECT_TRUE(result.receipts[5].ok()) << result.receipts[5].message;
  EXPECT_EQ(chain.balance(cast.stranger, kVintage), 60u);
  EXPECT_EQ(chain.balance(cast.cement, kVintage), 240u);
  EXPECT_EQ(chain.balance(cast.steel, kVintage), 0u);
  EXPECT_EQ(result.state_root, chain.executor().state_root());
  EXPECT_EQ(result.state_root, compute_state_root(chain.executor().state()));
}

TEST(ContractsRanges, IssuanceTakesTheNextSerialsAndMergesAtTheHolder) {
  TestChain chain;
  const auto a = test_key(1);
  const auto b = test_key(2);
  ASSERT_TRUE(chain.register_participant(a, Role::kCoveredEnterprise, "A").ok());
  ASSERT_TRUE(chain.register_participant(b, Role::kCoveredEnterprise, "B").ok());
  ASSERT_TRUE(chain.issue(a, kVintage, 100).ok());  // 1..100
  ASSERT_TRUE(chain.issue(a, kVintage, 20).ok());   // 101..120, merges
  EXPECT_EQ(chain.ranges(a, kVintage), (std::vector<SerialRange>{{1, 121}}));
  ASSERT_TRUE(chain.issue(b, kVintage, 30).ok());  // 121..150
  ASSERT_TRUE(chain.issue(a, kVintage, 50).ok());  // 151..200
  EXPECT_EQ(chain.ranges(a, kVintage), (std::vector<SerialRange>{{1, 121}, {151, 201}}));
  EXPECT_EQ(chain.ranges(b, kVintage), (std::vector<SerialRange>{{121, 151}}));
  // Vintages are separate products with their own serials.
  ASSERT_TRUE(chain.issue(b, 2026, 5).ok());
  EXPECT_EQ(chain.ranges(b, 2026), (std::vector<SerialRange>{{1, 6}}));
}

TEST(ContractsRanges, TransferTakesLowestSerialsSplitsAndMerges) {
  TestChain chain;
  const auto a = test_key(1);
  const auto b = test_key(2);
  const auto c = test_key(3);
  ASSERT_TRUE(chain.register_participant(a, Role::kCoveredEnterprise, "A").ok());
  ASSERT_TRUE(chain.register_participant(b, Role::kCoveredEnterprise, "B").ok());
  ASSERT_TRUE(chain.register_participant(c, Role::kVoluntary, "C").ok());
  ASSERT_TRUE(chain.issue(a, kVintage, 100).ok());  // a: [1,101)
  ASSERT_TRUE(chain.issue(b, kVintage, 50).ok());   // b: [101,151)
  ASSERT_TRUE(chain.issue(a, kVintage, 100).ok());  // a: [1,101) [151,251)

  // Split inside the first range.
  ASSERT_TRUE(chain.transfer(a, c, kVintage, 30).ok());
  EXPECT_EQ(chain.ranges(a, kVintage), (std::vector<SerialRange>{{31, 101}, {151, 251}}));
  EXPECT_EQ(chain.ranges(c, kVintage), (std::vector<SerialRange>{{1, 31}}));

  // Spans a whole range and splits the next; b's [101,151) merges with both pieces.
  ASSERT_TRUE(chain.transfer(a, b, kVintage, 90).ok());
  EXPECT_EQ(chain.ranges(a, kVintage), (std::vector<SerialRange>{{171, 251}}));
  EXPECT_EQ(chain.ranges(b, kVintage), (std::vector<SerialRange>{{31, 171}}));

  // Back to c: b's lowest serials [31,61) merge with c's [1,31).
  ASSERT_TRUE(chain.transfer(b, c, kVintage, 30).ok());
  EXPECT_EQ(chain.ranges(c, kVintage), (std::vector<SerialRange>{{1, 61}}));
  EXPECT_EQ(chain.ranges(b, kVintage), (std::vector<SerialRange>{{61, 171}}));

  // A whole holding moves without a split: the sender's ranges and balance record disappear;
  // its history (what it was issued and sent) moves to hist/.
  ASSERT_TRUE(chain.transfer(a, b, kVintage, 80).ok());
  EXPECT_TRUE(chain.ranges(a, kVintage).empty());
  EXPECT_EQ(chain.balance(a, kVintage), 0u);
  EXPECT_EQ(chain.ranges(b, kVintage), (std::vector<SerialRange>{{61, 251}}));
  EXPECT_EQ(chain.balance(b, kVintage), 190u);
  EXPECT_EQ(chain.balance(c, kVintage), 60u);
  const auto sender_keys = Ledger(chain.executor().state())
                               .holdings(a.public_key(), ProductId::allowance(kVintage), 0, 10);
  ASSERT_TRUE(sender_keys.is_ok());
  EXPECT_TRUE(sender_keys->empty());
  const Ledger ledger(chain.executor().state());
  const auto position = ledger.balance_record(a.public_key(), ProductId::allowance(kVintage));
  ASSERT_TRUE(position.is_ok());
  EXPECT_EQ(position->held_t, 0u);
  EXPECT_EQ(position->history.issued_t, 200u);
  EXPECT_EQ(position->history.sent_t, 30u + 90u + 80u);
  const auto listed = ledger.balances(a.public_key(), 10);
  ASSERT_TRUE(listed.is_ok());
  EXPECT_TRUE(listed->empty());
  EXPECT_FALSE(chain.executor().state().get(keys::balance(a.public_key(), ProductId::allowance(kVintage))));
  EXPECT_TRUE(chain.executor().state().get("hist/" + a.public_key().to_hex() + "/HBEA-2025"));

  // Units back: the history returns to the balance record, and hist/ is gone.
  ASSERT_TRUE(chain.transfer(b, a, kVintage, 5).ok());
  const auto back = ledger.balance_record(a.public_key(), ProductId::allowance(kVintage));
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(back->held_t, 5u);
  EXPECT_EQ(back->history.sent_t, 200u);
  EXPECT_FALSE(chain.executor().state().get("hist/" + a.public_key().to_hex() + "/HBEA-2025"));
}

TEST(ContractsRanges, TransferOverTooManyRangesFailsWithAnActionableLimit) {
  TestChain chain;
  const auto a = test_key(1);
  const auto b = test_key(2);
  const auto c = test_key(3);
  ASSERT_TRUE(chain.register_participant(a, Role::kCoveredEnterprise, "A").ok());
  ASSERT_TRUE(chain.register_participant(b, Role::kCoveredEnterprise, "B").ok());
  ASSERT_TRUE(chain.register_participant(c, Role::kCoveredEnterprise, "C").ok());
  // Interleaved issuance leaves a with kMaxRangesPerTransfer + 1 ranges of 2 t each.
  std::vector<SignedTx> txs;
  std::uint64_t nonce = chain.next_nonce(chain.authority());
  for (std::size_t i = 0; i <= kMaxRangesPerTransfer; ++i) {
    txs.push_back(
        make_tx(chain.authority(), nonce++, IssueAllowances{a.public_key(), kVintage, 2}));
    txs.push_back(
        make_tx(chain.authority(), nonce++, IssueAllowances{b.public_key(), kVintage, 1}));
  }
  for (const Receipt& receipt : chain.block(txs).receipts)
    ASSERT_TRUE(receipt.ok()) << receipt.message;
  EXPECT_EQ(chain.ranges(a, kVintage).size(), kMaxRangesPerTransfer + 1);

  const std::uint64_t all = 2 * (kMaxRangesPerTransfer + 1);
  const Receipt too_many = chain.transfer(a, c, kVintage, all);
  EXPECT_EQ(too_many.code, ErrorCode::kOutOfBounds);
  const std::string limit = "at most 2,048 t per transaction";
  static_assert(kMaxRangesPerTransfer == 1024, "the expected message assumes 1,024 ranges");
  EXPECT_NE(too_many.message.find(limit), std::string::npos) << too_many.message;
  EXPECT_EQ(chain.balance(a, kVintage), all);

  // Following the message works, and the rest follows in a second transaction.
  ASSERT_TRUE(chain.transfer(a, c, kVintage, 2 * kMaxRangesPerTransfer).ok());
  ASSERT_TRUE(chain.transfer(a, c, kVintage, 2).ok());
  EXPECT_EQ(chain.balance(c, kVintage), all);
}

TEST(ContractsExecutor, CheckTxForTheMempool) {
  TestChain chain;
  Cast cast;
  set_up(chain, cast);
  const Executor& executor = chain.executor();
  const ProductId hbea = ProductId::allowance(kVintage);
  const Call call = TransferUnits{cast.cement.public_key(), hbea, 1};
  const std::uint64_t next = chain.next_nonce(cast.steel);
  const Height next_height = chain.height() + 1;
  EXPECT_TRUE(executor.check_tx(make_tx(cast.steel, next, call), next_height).is_ok());
  EXPECT_TRUE(executor.check_tx(make_tx(cast.steel, next + 5, call), next_height).is_ok());
  EXPECT_EQ(executor.check_tx(make_tx(cast.steel, next + kMaxNonceGap, call), next_height).code(),
            ErrorCode::kOutOfBounds);
  EXPECT_EQ(executor.check_tx(make_tx(cast.steel, next - 1, call), next_height).code(),
            ErrorCode::kConflict);
  EXPECT_EQ(executor.check_tx(make_tx(cast.steel, next, call, next_height - 1), next_height).code(),
            ErrorCode::kConflict);
  EXPECT_TRUE(executor.check_tx(make_tx(cast.steel, next, call, next_height), next_height).is_ok());
  EXPECT_EQ(
      executor.check_tx(make_tx(cast.steel, next, call, 1'000'000, "other"), next_height).code(),
      ErrorCode::kInvalidArgument);
  EXPECT_EQ(executor.check_tx(make_tx(cast.stranger, 1, call), next_height).code(),
            ErrorCode::kNotFound);
}

TEST(ContractsExecutor, SignatureCheckCanBeReplacedByACachedVerdict) {
  TestChain chain;
  Cast cast;
  set_up(chain, cast);
  int calls = 0;
  chain.executor().set_signature_check([&](const SignedTx& tx, const Hash256& id) {
    ++calls;
    EXPECT_EQ(id, tx_id(tx));  // the executor passes the id it computed
    return check_signatures(tx);
  });
  EXPECT_TRUE(chain.transfer(cast.steel, cast.cement, kVintage, 1).ok());
  EXPECT_EQ(calls, 1);
}

// An executor opened on an empty memory store, for the tests that look at exactly what it wrote
// there (`raw`, owned by the executor).
class ContractsExecutorOnStore : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = std::make_unique<MemoryStateStore>();
    raw = store.get();
    auto opened = Executor::open(testing::kTestChain, genesis, std::move(store));
    ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
    opened_.emplace(std::move(opened).value());
  }
  Executor& executor() { return *opened_; }

  const core::SecretKey authority = test_key(0);
  const GenesisConfig genesis{authority.public_key(), "Hubei DRC", {}, 1};
  MemoryStateStore* raw = nullptr;

 private:
  std::optional<Executor> opened_;
};

TEST_F(ContractsExecutorOnStore, ReopenExistingStore) {
  Executor& executor = this->executor();
  auto result = executor.execute_block(
      1, 0,
      {make_tx(authority, 1,
               RegisterParticipant{test_key(1).public_key(), "A", Role::kVoluntary})});
  ASSERT_TRUE(result.receipts[0].ok());

  // Same genesis and chain: same root. A copy of the store stands in for a restart.
  auto copy = std::make_unique<MemoryStateStore>();
  for (const auto& [k, v] : raw->entries()) copy->put(k, v);
  auto reopened = Executor::open(testing::kTestChain, genesis, std::move(copy));
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_EQ(reopened->state_root(), result.state_root);

  auto other = std::make_unique<MemoryStateStore>();
  for (const auto& [k, v] : raw->entries()) other->put(k, v);
  auto wrong = Executor::open("another-chain", genesis, std::move(other));
  ASSERT_FALSE(wrong.is_ok());
  EXPECT_EQ(wrong.status().code(), ErrorCode::kConflict);

  // A state written in another layout (here: with no format mark, as before it existed) is
  // refused with what to do, never read as if it were this layout.
  for (const bool unmarked : {true, false}) {
    auto old_layout = std::make_unique<MemoryStateStore>();
    for (const auto& [k, v] : raw->entries()) old_layout->put(k, v);
    if (unmarked) {
      old_layout->erase(keys::kStateFormat);
    } else {
      old_layout->put(keys::kStateFormat, core::codec::encode(std::uint32_t{kStateFormat + 1}));
    }
    auto refused = Executor::open(testing::kTestChain, genesis, std::move(old_layout));
    ASSERT_FALSE(refused.is_ok());
    EXPECT_EQ(refused.status().code(), ErrorCode::kConflict);
    EXPECT_NE(refused.status().message().find("state format"), std::string::npos) << refused.status().message();
    EXPECT_NE(refused.status().message().find("fresh data directories"), std::string::npos);
  }

  // Same chain id and authority on a fresh store: the same genesis root as the constructor.
  auto fresh = Executor::open(testing::kTestChain, genesis, std::make_unique<MemoryStateStore>());
  ASSERT_TRUE(fresh.is_ok());
  Executor constructed(testing::kTestChain, genesis);
  EXPECT_EQ(fresh->state_root(), constructed.state_root());
  EXPECT_FALSE(constructed.state_root().is_zero());
}

// What the node persists after each block: every key whose value changed, with its final value
// (or erased), and nothing for a block that wrote nothing; on a fresh store, the genesis state.
TEST_F(ContractsExecutorOnStore, LastBlockWritesHoldEveryChangedKeyWithItsFinalValue) {
  Executor& executor = this->executor();

  // Checks the reported writes against the store: each is current, and they cover `changed`.
  const auto check = [&](const std::vector<std::string>& changed) {
    const auto& writes = executor.last_block_writes();
    std::map<std::string, const Bytes*> reported;
    for (const auto& write : writes) {
      ASSERT_TRUE(reported.emplace(std::string(write.key), write.value).second) << "reported twice: " << write.key;
      const auto it = raw->entries().find(write.key);
      if (write.value == nullptr) {
        EXPECT_EQ(it, raw->entries().end()) << write.key;
      } else {
        ASSERT_NE(it, raw->entries().end()) << write.key;
        EXPECT_EQ(*write.value, it->second) << write.key;
      }
    }
    for (const auto& key : changed) EXPECT_EQ(reported.count(key), 1u) << "not reported: " << key;
  };
  check(std::vector<std::string>(  // genesis: every key of the state
      [&] {
        std::vector<std::string> keys;
        for (const auto& [key, value] : raw->entries()) keys.push_back(key);
        return keys;
      }()));
  EXPECT_FALSE(executor.last_block_writes().empty());

  const auto a = test_key(1);
  const auto b = test_key(2);
  std::uint64_t nonce = 0;
  std::vector<std::vector<SignedTx>> blocks = {
      {make_tx(authority, ++nonce, RegisterParticipant{a.public_key(), "A", Role::kCoveredEnterprise}),
       make_tx(authority, ++nonce, RegisterParticipant{b.public_key(), "B", Role::kCoveredEnterprise})},
      {make_tx(authority, ++nonce, IssueAllowances{a.public_key(), 2025, 100})},
      // Splits A's range, then gives the rest away: keys written and erased within the block.
      {make_tx(a, 1, TransferUnits{b.public_key(), ProductId::allowance(2025), 30}),
       make_tx(a, 2, TransferUnits{b.public_key(), ProductId::allowance(2025), 70})},
      {},
  };
  Height height = 0;
  for (const auto& block : blocks) {
    const auto before = testing::snapshot(executor);
    ++height;
    const auto result = executor.execute_block(height, 1'000 * height, block);
    for (const auto& receipt : result.receipts) {
      ASSERT_TRUE(receipt.ok()) << receipt.message;
    }
    const auto changed = changed_keys(before, testing::snapshot(executor));
    check(changed);
    if (block.empty()) {
      EXPECT_TRUE(executor.last_block_writes().empty());
    }
    EXPECT_EQ(executor.state_root(), compute_state_root(*raw));
  }
}

// The move log (mv/) stays out of the Merkle tree, and the state root commits to it through the
// history chain: recomputed here from the records alone, block by block, as an auditor holding
// the log would, it matches the head in the state; and a restart rebuilds the same root.
TEST_F(ContractsExecutorOnStore, MoveLogIsCommittedThroughTheHistoryChain) {
  Executor& executor = this->executor();
  const auto a = test_key(1);
  const auto b = test_key(2);
  const ProductId hbea = ProductId::allowance(2025);
  std::uint64_t nonce = 0;
  std::vector<std::vector<SignedTx>> blocks = {
      {make_tx(authority, ++nonce, RegisterParticipant{a.public_key(), "A", Role::kCoveredEnterprise}),
       make_tx(authority, ++nonce, RegisterParticipant{b.public_key(), "B", Role::kCoveredEnterprise})},
      {make_tx(authority, ++nonce, IssueAllowances{a.public_key(), 2025, 100}),
       make_tx(authority, ++nonce, IssueAllowances{b.public_key(), 2025, 100}),
       make_tx(authority, ++nonce, IssueAllowances{a.public_key(), 2024, 50})},
      // Written in the order 2025, 2024; hashed in key order (HBEA-2024 first).
      {make_tx(a, 1, TransferUnits{b.public_key(), hbea, 30}),
       make_tx(b, 1, TransferUnits{a.public_key(), hbea, 120}),   // two ranges: two records
       make_tx(a, 2, TransferUnits{b.public_key(), hbea, 1000}),  // fails: no record
       make_tx(a, 3, TransferUnits{b.public_key(), ProductId::allowance(2024), 5})},
      {},
      {make_tx(b, 2, TransferUnits{a.public_key(), hbea, 1})},
  };
  Height height = 0;
  for (const auto& block : blocks) {
    ++height;
    const auto result = executor.execute_block(height, 1'000 * height, block);
    EXPECT_EQ(result.state_root, compute_state_root(*raw)) << "height " << height;
    for (std::size_t i = 0; i < result.receipts.size(); ++i) {
      EXPECT_EQ(result.receipts[i].ok(), !(height == 3 && i == 2)) << result.receipts[i].message;
    }
  }
  // Group the records by the height in their key (mv/<product>/<height:016x>/...), in key order.
  std::map<std::string, std::vector<StateEntry>> by_height;
  const auto records = raw->scan(std::string(kHistoryPrefix), "", 1000);
  for (const auto& record : records) {
    const std::string_view key = record.first;
    const std::size_t height_at = key.find('/', kHistoryPrefix.size()) + 1;
    by_height[std::string(key.substr(height_at, 16))].push_back(record);
  }
  ASSERT_EQ(records.size(), 5u);      // 1 + 2 + 1 at height 3, 1 at height 5
  ASSERT_EQ(by_height.size(), 2u);
  Hash256 head{};
  for (const auto& [block_height, block_records] : by_height) head = chain_history(head, block_records);
  const auto stored = raw->find(keys::kHistoryHead);
  ASSERT_NE(stored, nullptr);
  auto stored_head = core::codec::decode<Hash256>(*stored);
  ASSERT_TRUE(stored_head.is_ok());
  EXPECT_EQ(*stored_head, head);
  EXPECT_NE(head, chain_history(Hash256{}, records));  // the chain is per block, not one list

  // What a node checks at start-up: the same head from the records alone, and a different one
  // when a record is damaged or missing; a malformed key is an error, not a silent skip.
  auto recomputed = recompute_history_head(*raw);
  ASSERT_TRUE(recomputed.is_ok()) << recomputed.status().to_string();
  EXPECT_EQ(*recomputed, std::optional<Hash256>(head));
  for (const int damage : {0, 1, 2}) {
    MemoryStateStore damaged;
    for (const auto& [key, value] : raw->entries()) damaged.put(key, value);
    if (damage == 0) damaged.put(records[2].first, Bytes{1, 2, 3});
    if (damage == 1) damaged.erase(records[2].first);
    if (damage == 2) damaged.put(std::string(kHistoryPrefix) + "HBEA-2025/not-a-height", Bytes{});
    auto again = recompute_history_head(damaged);
    if (damage == 2) {
      EXPECT_FALSE(again.is_ok());
    } else {
      ASSERT_TRUE(again.is_ok());
      EXPECT_NE(*again, std::optional<Hash256>(head)) << damage;
    }
    // What the node runs at start-up, with the log read from its disk.
    const Status checked = executor.check_history(damaged);
    EXPECT_FALSE(checked.is_ok()) << damage;
  }
  EXPECT_TRUE(executor.check_history(*raw).is_ok());
  {
    MemoryStateStore damaged;
    for (const auto& [key, value] : raw->entries()) damaged.put(key, value);
    damaged.put(records[0].first, Bytes{9});
    EXPECT_NE(executor.check_history(damaged).message().find("does not match the history chain head"),
              std::string::npos);
  }
  auto none = recompute_history_head(MemoryStateStore{});
  ASSERT_TRUE(none.is_ok());
  EXPECT_FALSE(none->has_value());

  // The tree holds the head, not the records: changing a record alone leaves the tree's root
  // as it was (and would break the chain, which the head commits to).
  MemoryStateStore altered;
  for (const auto& [key, value] : raw->entries()) altered.put(key, value);
  altered.put(records.front().first, Bytes{1, 2, 3});
  EXPECT_EQ(compute_state_root(altered), executor.state_root());

  // A restart rebuilds the tree without the records and reaches the same root.
  auto copy = std::make_unique<MemoryStateStore>();
  for (const auto& [key, value] : raw->entries()) copy->put(key, value);
  auto reopened = Executor::open(testing::kTestChain, genesis, std::move(copy));
  ASSERT_TRUE(reopened.is_ok());
  EXPECT_EQ(reopened->state_root(), executor.state_root());
}

// The start-up check reads the log in pages, one cursor per product: records of many blocks and
// products, more than a page of each, give the chain folded block by block in key order.
TEST(ContractsExecutor, HistoryHeadIsRecomputedAcrossPagesAndProducts) {
  MemoryStateStore store;
  store.put("acct/x", Bytes{1});  // keys around the log are not part of it
  store.put("mw/x", Bytes{2});
  std::map<Height, std::vector<StateEntry>> blocks;  // what the executor would have hashed
  const std::vector<std::string> products = {"CCER-7-2024", "HBEA-2024", "HBEA-2025"};
  for (Height height = 1; height <= 90; ++height) {
    for (std::size_t p = 0; p < products.size(); ++p) {
      if ((height + p) % 3 == 0) continue;  // not every product moves in every block
      for (std::uint32_t leg = 0; leg < 2; ++leg) {
        char key[96];
        std::snprintf(key, sizeof key, "mv/%s/%016llx/%08x/%08x", products[p].c_str(),
                      static_cast<unsigned long long>(height), 0u, leg);
        const Bytes value{static_cast<std::uint8_t>(height), static_cast<std::uint8_t>(p),
                          static_cast<std::uint8_t>(leg)};
        store.put(key, value);
        blocks[height].emplace_back(key, value);
      }
    }
  }
  Hash256 head{};
  for (auto& [height, records] : blocks) {
    std::sort(records.begin(), records.end());
    head = chain_history(head, records);
  }
  auto recomputed = recompute_history_head(store);
  ASSERT_TRUE(recomputed.is_ok()) << recomputed.status().to_string();
  EXPECT_EQ(*recomputed, std::optional<Hash256>(head));
}

TEST(ContractsExecutor, ReceiptsStayWithinTheirBound) {
  TestChain chain;
  std::string long_name(kMaxNameBytes, 'x');
  ASSERT_TRUE(chain.register_participant(test_key(1), Role::kVerifier, long_name).ok());
  const Receipt receipt = chain.issue(test_key(1), kVintage, 1);
  EXPECT_EQ(receipt.code, ErrorCode::kConflict);
  EXPECT_LE(receipt.message.size(), kMaxReceiptMessageBytes);
  EXPECT_TRUE(decode_receipt(encode_receipt(receipt)).is_ok());
}

}  // namespace
}  // namespace carbon::contracts

namespace carbon::contracts {
namespace {

// Test the test: each deliberate corruption of a valid state must trip check_invariants.
TEST(ContractsInvariants, DetectDeliberateCorruption) {
  TestChain chain;
  const auto a = test_key(1);
  const auto b = test_key(2);
  ASSERT_TRUE(chain.register_participant(a, Role::kCoveredEnterprise, "A").ok());
  ASSERT_TRUE(chain.register_participant(b, Role::kVoluntary, "B").ok());
  ASSERT_TRUE(chain.issue(a, kVintage, 100).ok());
  ASSERT_TRUE(chain.issue(b, kVintage, 50).ok());
  ASSERT_TRUE(chain.transfer(a, b, kVintage, 30).ok());  // a [31,101), b [1,31) [101,151)
  const auto base = snapshot(chain.executor());
  const ProductId hbea = ProductId::allowance(kVintage);
  auto copy = [&] {
    MemoryStateStore store;
    for (const auto& [k, v] : base) store.put(k, v);
    return store;
  };
  {
    MemoryStateStore store = copy();
    ASSERT_TRUE(check_invariants(store).is_ok());
  }
  struct Corruption {
    const char* name;
    std::function<void(MemoryStateStore&)> apply;
  };
  const std::vector<Corruption> corruptions = {
      {"balance off by one",
       [&](MemoryStateStore& s) { ASSERT_TRUE(Ledger(s).put_balance(a.public_key(), hbea, 71).is_ok()); }},
      {"balance record missing",
       [&](MemoryStateStore& s) { s.erase(keys::balance(a.public_key(), hbea)); }},
      {"range under the wrong key",
       [&](MemoryStateStore& s) {
         // a's [31,101) stored under its start instead of its end.
         s.erase(keys::holding(a.public_key(), hbea, 101));
         s.put(keys::holding(a.public_key(), hbea, 31), core::codec::encode(SerialRange{31, 101}));
       }},
      {"serials minted out of thin air",
       [&](MemoryStateStore& s) {
         Ledger ledger(s);
         ASSERT_TRUE(ledger.add_range(a.public_key(), hbea, SerialRange{151, 161}).is_ok());
         ASSERT_TRUE(ledger.put_balance(a.public_key(), hbea, 80).is_ok());
       }},
      {"serial held twice",
       [&](MemoryStateStore& s) {
         Ledger ledger(s);
         ASSERT_TRUE(ledger.add_range(b.public_key(), hbea, SerialRange{40, 41}).is_ok());
         ASSERT_TRUE(ledger.put_balance(b.public_key(), hbea, 81).is_ok());
       }},
      {"serials lost",
       [&](MemoryStateStore& s) {
         Ledger ledger(s);
         ledger.erase_range(b.public_key(), hbea, SerialRange{101, 151});
         ASSERT_TRUE(ledger.put_balance(b.public_key(), hbea, 30).is_ok());
       }},
      {"issued total wrong",
       [&](MemoryStateStore& s) {
         Ledger ledger(s);
         auto product = ledger.product(hbea);
         ASSERT_TRUE(product.is_ok() && product->has_value());
         ProductState state = **product;
         state.issued_t += 1;
         ledger.put_product(state);
       }},
      {"unmerged adjacent ranges",
       [&](MemoryStateStore& s) {
         // [31,101) rewritten as [31,60) [60,101), bypassing add_range's merge.
         Ledger(s).erase_range(a.public_key(), hbea, SerialRange{31, 101});
         s.put(keys::holding(a.public_key(), hbea, 60), core::codec::encode(SerialRange{31, 60}));
         s.put(keys::holding(a.public_key(), hbea, 101), core::codec::encode(SerialRange{60, 101}));
       }},
      {"holder may not hold",
       [&](MemoryStateStore& s) {
         Ledger ledger(s);
         auto account = ledger.account(b.public_key());
         ASSERT_TRUE(account.is_ok() && account->has_value());
         Account changed = **account;
         changed.role = Role::kVerifier;
         ledger.put_account(changed);
       }},
  };
  const std::map<std::string, std::string> expected_violation = {
      {"balance off by one", "differs from its ranges' sum 70"},
      {"balance record missing", "has ranges but no balance record"},
      {"range under the wrong key", "range under the wrong key"},
      {"serials minted out of thin air", "serials 151.. held but never issued"},
      {"serial held twice", "overlapping ranges at serial 40"},
      {"serials lost", "serials 101.. issued but neither held nor retired"},
      {"issued total wrong", "issued 151 t != held 150 t"},
      {"unmerged adjacent ranges", "not merged at serial 60"},
      {"holder may not hold", "role may not hold"},
  };
  for (const auto& corruption : corruptions) {
    SCOPED_TRACE(corruption.name);
    MemoryStateStore store = copy();
    corruption.apply(store);
    const Status status = check_invariants(store);
    EXPECT_FALSE(status.is_ok());
    EXPECT_NE(status.message().find(expected_violation.at(corruption.name)), std::string::npos)
        << status.message();
  }
}

}  // namespace
}  // namespace carbon::contracts
