// A seeded randomized run: thousands of valid and invalid transactions among ~25 keys, in
// blocks of 1..8. A small model of the rules predicts every receipt's code; after every
// block the ledger invariants hold, the model and the state agree on every nonce, frozen
// flag, role, balance and issued total, and the incremental state root equals a root
// computed from scratch. Single-transaction blocks also check that a failed transaction
// changed nothing but (when the call itself failed) its sender's nonce. Replaying the same
// blocks on a fresh executor gives the same receipts and roots (determinism).
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "contracts/ledger.h"
#include "contracts_harness.h"

namespace carbon::contracts {
namespace {

using testing::changed_keys;
using testing::make_tx;
using testing::snapshot;
using testing::test_key;
using testing::TestChain;

constexpr std::uint32_t kPoolSize = 25;      // key 0 is the authority
constexpr std::uint32_t kStrangerFrom = 23;  // keys 23, 24 are never registered
const std::vector<std::uint16_t> kVintages = {2024, 2025};

class Model {
 public:
  struct Acct {
    Role role = Role::kVoluntary;
    std::uint64_t nonce = 0;
    bool frozen = false;
  };

  Model() { accounts_[test_key(0).public_key()] = Acct{Role::kAuthority, 0, false}; }

  // Predicts the receipt code of `tx` executed at `height`, updating the model like the chain.
  ErrorCode apply(const SignedTx& tx, Height height) {
    if (!check_signatures(tx).is_ok()) return ErrorCode::kBadSignature;
    if (tx.tx.chain_id != testing::kTestChain) return ErrorCode::kInvalidArgument;
    if (height > tx.tx.expiry_height) return ErrorCode::kConflict;
    auto it = accounts_.find(tx.tx.sender);
    if (it == accounts_.end()) return ErrorCode::kNotFound;
    if (tx.tx.nonce != it->second.nonce + 1) return ErrorCode::kConflict;
    it->second.nonce = tx.tx.nonce;
    const Acct sender = it->second;
    return std::visit(
        [&](const auto& call) -> ErrorCode {
          using T = std::decay_t<decltype(call)>;
          if constexpr (std::is_same_v<T, Propose>) {
            // Authority acts travel as proposals; the only officer (threshold 1) executes them.
            if (sender.role != Role::kAuthority) return ErrorCode::kUnauthorized;
            return std::visit([&](const auto& act) { return apply_act(sender, act); }, call.act);
          } else if constexpr (std::is_same_v<T, TransferUnits>) {
            return apply_transfer(tx.tx.sender, sender, call);
          } else {
            return ErrorCode::kInternal;  // the generator makes no other calls
          }
        },
        tx.tx.call);
  }

  const std::map<PublicKey, Acct>& accounts() const { return accounts_; }
  std::uint64_t balance(const PublicKey& key, std::uint16_t vintage) const {
    const auto it = balances_.find({key, vintage});
    return it == balances_.end() ? 0 : it->second;
  }
  std::uint64_t issued(std::uint16_t vintage) const {
    const auto it = issued_.find(vintage);
    return it == issued_.end() ? 0 : it->second;
  }
  bool registered(const PublicKey& key) const { return accounts_.contains(key); }

 private:
  template <class Act>
  ErrorCode apply_act(const Acct&, const Act&) {
    return ErrorCode::kInternal;  // the generator makes no other acts
  }
  ErrorCode apply_act(const Acct&, const RegisterParticipant& call) {
    if (call.role == Role::kAuthority) return ErrorCode::kInvalidArgument;
    if (accounts_.contains(call.key)) return ErrorCode::kConflict;
    accounts_[call.key] = Acct{call.role, 0, false};
    return ErrorCode::kOk;
  }
  ErrorCode apply_act(const Acct&, const IssueAllowances& call) {
    if (call.quantity_t == 0) return ErrorCode::kInvalidArgument;
    if (call.vintage_year < kMinVintageYear || call.vintage_year > kMaxVintageYear) {
      return ErrorCode::kInvalidArgument;
    }
    const auto to = accounts_.find(call.to);
    if (to == accounts_.end()) return ErrorCode::kNotFound;
    if (!role_may_hold(to->second.role, ProductKind::kAllowance)) return ErrorCode::kConflict;
    balances_[{call.to, call.vintage_year}] += call.quantity_t;
    issued_[call.vintage_year] += call.quantity_t;
    return ErrorCode::kOk;
  }
  ErrorCode apply_transfer(const PublicKey& from, const Acct& sender, const TransferUnits& call) {
    if (call.quantity_t == 0) return ErrorCode::kInvalidArgument;
    if (sender.frozen) return ErrorCode::kConflict;
    if (call.to == from) return ErrorCode::kInvalidArgument;
    const auto to = accounts_.find(call.to);
    if (to == accounts_.end()) return ErrorCode::kNotFound;
    if (!role_may_hold(to->second.role, ProductKind::kAllowance)) return ErrorCode::kConflict;
    auto& held = balances_[{from, call.product.vintage_year}];
    if (held < call.quantity_t) return ErrorCode::kConflict;
    held -= call.quantity_t;
    balances_[{call.to, call.product.vintage_year}] += call.quantity_t;
    return ErrorCode::kOk;
  }
  ErrorCode apply_act(const Acct&, const SetFrozen& call) {
    const auto target = accounts_.find(call.account);
    if (target == accounts_.end()) return ErrorCode::kNotFound;
    if (target->second.role == Role::kAuthority) return ErrorCode::kInvalidArgument;
    if (target->second.frozen == (call.frozen != 0)) return ErrorCode::kConflict;
    target->second.frozen = call.frozen != 0;
    return ErrorCode::kOk;
  }

  std::map<PublicKey, Acct> accounts_;
  std::map<std::pair<PublicKey, std::uint16_t>, std::uint64_t> balances_;
  std::map<std::uint16_t, std::uint64_t> issued_;
};

Role role_for(std::uint32_t index) {
  static const Role kRoles[] = {
      Role::kCoveredEnterprise, Role::kCoveredEnterprise, Role::kVoluntary,
      Role::kReserve,           Role::kCoveredEnterprise, Role::kVerifier,
      Role::kExchange,          Role::kProjectOwner,      Role::kReportingEnterprise};
  return kRoles[index % std::size(kRoles)];
}

class Generator {
 public:
  Generator(std::uint32_t seed, const Model& model) : rng_(seed), model_(model) {
    for (std::uint32_t i = 0; i < kPoolSize; ++i) keys_.push_back(test_key(i));
  }

  SignedTx next(Height height) {
    const std::uint32_t pick = uniform(100);
    std::uint32_t sender = 0;
    Call call;
    if (pick < 45) {  // transfer, mostly affordable
      const std::uint16_t vintage = kVintages[uniform(2)];
      sender = 1 + uniform(kPoolSize - 1);
      const auto funded = with_balance(vintage);
      if (!funded.empty() && uniform(5) != 0)
        sender = funded[uniform(static_cast<std::uint32_t>(funded.size()))];
      const std::uint64_t held = model_.balance(keys_[sender].public_key(), vintage);
      std::uint64_t quantity = held == 0 ? 1 + uniform(50) : 1 + uniform64(held);
      if (uniform(10) == 0) quantity = held + 1 + uniform(100);
      if (uniform(50) == 0) quantity = 0;
      std::uint32_t to = 1 + uniform(kPoolSize - 1);
      const auto holders = with_balance(0);
      if (!holders.empty() && uniform(4) != 0)
        to = holders[uniform(static_cast<std::uint32_t>(holders.size()))];
      call = TransferUnits{keys_[to].public_key(), ProductId::allowance(vintage), quantity};
    } else if (pick < 65) {  // issue
      sender = uniform(8) == 0 ? 1 + uniform(kPoolSize - 1) : 0;
      std::uint16_t vintage = kVintages[uniform(2)];
      if (uniform(40) == 0) vintage = 1990;
      call = Propose{IssueAllowances{keys_[1 + uniform(kPoolSize - 1)].public_key(), vintage,
                                     uniform(40) == 0 ? 0 : 1 + uniform64(2000)}};
    } else if (pick < 80) {  // register
      sender = uniform(8) == 0 ? 1 + uniform(kPoolSize - 1) : 0;
      const std::uint32_t who = 1 + uniform(kStrangerFrom - 1);
      const Role role = uniform(30) == 0 ? Role::kAuthority : role_for(who);
      call = Propose{
          RegisterParticipant{keys_[who].public_key(), "participant " + std::to_string(who), role}};
    } else {  // freeze or unfreeze, biased toward unfreezing so transfers keep flowing
      sender = uniform(8) == 0 ? 1 + uniform(kPoolSize - 1) : 0;
      call = Propose{SetFrozen{keys_[uniform(kPoolSize)].public_key(),
                               static_cast<std::uint8_t>(uniform(3) == 0 ? 1 : 0)}};
    }
    const auto& key = keys_[sender];
    const auto account = model_.accounts().find(key.public_key());
    std::uint64_t nonce = account == model_.accounts().end() ? 1 : account->second.nonce + 1;
    Height expiry = height + uniform(5);
    std::string chain = testing::kTestChain;
    const std::uint32_t corrupt = uniform(100);
    bool bad_signature = false;
    if (corrupt < 4) {
      nonce = uniform(2) == 0 ? nonce + 1 + uniform(3) : nonce - 1;
    } else if (corrupt < 7) {
      expiry = height - 1;
    } else if (corrupt < 9) {
      chain = "carbon-other";
    } else if (corrupt < 12) {
      bad_signature = true;
    }
    SignedTx tx = make_tx(key, nonce, std::move(call), expiry, chain);
    if (bad_signature)
      tx.signatures[0].signature.bytes[uniform(64)] ^= static_cast<std::uint8_t>(1 + uniform(255));
    return tx;
  }

  // Pool indices of registered, unfrozen holders with units of vintage (0: any holder role).
  std::vector<std::uint32_t> with_balance(std::uint16_t vintage) const {
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 1; i < kPoolSize; ++i) {
      const auto it = model_.accounts().find(keys_[i].public_key());
      if (it == model_.accounts().end() || !role_may_hold(it->second.role, ProductKind::kAllowance))
        continue;
      if (vintage == 0 ||
          (!it->second.frozen && model_.balance(keys_[i].public_key(), vintage) > 0))
        out.push_back(i);
    }
    return out;
  }

  std::uint32_t uniform(std::uint32_t n) { return static_cast<std::uint32_t>(rng_() % n); }
  std::uint64_t uniform64(std::uint64_t n) { return rng_() % n; }

 private:
  std::mt19937_64 rng_;
  const Model& model_;
  std::vector<core::SecretKey> keys_;
};

void expect_model_matches_state(const Model& model, const Executor& executor, Height height) {
  for (std::uint32_t i = 0; i < kPoolSize; ++i) {
    const PublicKey key = test_key(i).public_key();
    auto account = executor.account(key);
    ASSERT_TRUE(account.is_ok());
    const auto expected = model.accounts().find(key);
    ASSERT_EQ(account->has_value(), expected != model.accounts().end())
        << "key " << i << " at height " << height;
    if (!account->has_value()) continue;
    EXPECT_EQ((*account)->nonce, expected->second.nonce) << "key " << i << " at height " << height;
    EXPECT_EQ((*account)->frozen != 0, expected->second.frozen)
        << "key " << i << " at height " << height;
    EXPECT_EQ((*account)->role, expected->second.role) << "key " << i;
    for (const std::uint16_t vintage : kVintages) {
      auto balance = executor.balance(key, ProductId::allowance(vintage));
      ASSERT_TRUE(balance.is_ok());
      EXPECT_EQ(*balance, model.balance(key, vintage))
          << "key " << i << " vintage " << vintage << " at " << height;
    }
  }
  for (const std::uint16_t vintage : kVintages) {
    auto product = Ledger(executor.state()).product(ProductId::allowance(vintage));
    ASSERT_TRUE(product.is_ok());
    EXPECT_EQ(product->has_value() ? (*product)->issued_t : 0, model.issued(vintage));
  }
}

struct RunRecord {
  std::vector<std::vector<SignedTx>> blocks;
  std::vector<BlockResult> results;
  std::size_t ok = 0;
  std::size_t failed = 0;
};

RunRecord run_random(std::uint32_t seed, std::size_t total_txs) {
  RunRecord record;
  TestChain chain;
  Model model;
  Generator generator(seed, model);

  // Register most of the pool up front so that the run starts with real traffic.
  std::vector<SignedTx> setup;
  std::vector<ErrorCode> setup_expected;
  for (std::uint32_t i = 1; i < 16; ++i) {
    setup.push_back(make_tx(
        chain.authority(), i,
        RegisterParticipant{test_key(i).public_key(), "p" + std::to_string(i), role_for(i)}));
  }
  std::size_t done = 0;
  std::vector<SignedTx> block = std::move(setup);
  while (done < total_txs) {
    const Height height = chain.height() + 1;
    if (block.empty()) {
      const std::uint32_t size = 1 + generator.uniform(8);
      for (std::uint32_t i = 0; i < size; ++i) {
        block.push_back(generator.next(height));
        // Predict immediately, so the next transaction's nonce sees this one's effect.
        setup_expected.push_back(model.apply(block.back(), height));
      }
    } else {
      for (const auto& tx : block) setup_expected.push_back(model.apply(tx, height));
    }
    const auto before = snapshot(chain.executor());
    const BlockResult result = chain.block(block);
    if (::testing::Test::HasFailure()) return record;
    EXPECT_EQ(result.receipts.size(), block.size());
    for (std::size_t i = 0; i < block.size(); ++i) {
      const Receipt& receipt = result.receipts[i];
      EXPECT_EQ(receipt.code, setup_expected[i])
          << "height " << height << " tx " << i << " (" << call_name(block[i].tx.call)
          << "): " << receipt.message;
      EXPECT_EQ(receipt.tx_id, tx_id(block[i]));
      if (receipt.ok()) {
        ++record.ok;
      } else {
        ++record.failed;
        EXPECT_FALSE(receipt.message.empty());
      }
    }
    if (block.size() == 1 && !result.receipts[0].ok()) {
      const auto changed = changed_keys(before, snapshot(chain.executor()));
      // A failed call consumes the nonce and moves the ledger clock, nothing else.
      const bool consumed = changed.size() == 2 && changed[0] == keys::account(block[0].tx.sender) &&
                            changed[1] == "meta/clock";
      EXPECT_TRUE(changed.empty() || consumed) << "failed tx changed " << changed.size() << " keys";
      if (changed.empty()) {
        EXPECT_EQ(result.state_root, compute_state_root(chain.executor().state()));
      }
    }
    expect_model_matches_state(model, chain.executor(), height);
    if (height % 16 == 0) {
      EXPECT_EQ(result.state_root, compute_state_root(chain.executor().state()));
    }
    if (::testing::Test::HasFailure()) return record;
    done += block.size();
    record.blocks.push_back(std::move(block));
    record.results.push_back(result);
    block.clear();
    setup_expected.clear();
  }
  EXPECT_EQ(chain.executor().state_root(), compute_state_root(chain.executor().state()));
  return record;
}

TEST(ContractsRandomized, ThousandsOfTransactionsKeepTheInvariants) {
  for (const std::uint32_t seed : {1u, 20261125u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const RunRecord record = run_random(seed, 3000);
    ASSERT_FALSE(HasFailure());
    RecordProperty("ok_" + std::to_string(seed), static_cast<int>(record.ok));
    RecordProperty("failed_" + std::to_string(seed), static_cast<int>(record.failed));
    // The mix must exercise both outcomes substantially.
    EXPECT_GT(record.ok, 1000u);
    EXPECT_GT(record.failed, 500u);
  }
}

TEST(ContractsRandomized, ReplayGivesTheSameReceiptsAndRoots) {
  const RunRecord record = run_random(77, 1500);
  ASSERT_FALSE(HasFailure());
  Executor replay(testing::kTestChain, GenesisConfig{test_key(0).public_key(), "Hubei DRC", {}, 1});
  for (std::size_t i = 0; i < record.blocks.size(); ++i) {
    // The same block times as TestChain (the clock is part of the state).
    const BlockResult result =
        replay.execute_block(i + 1, 1'700'000'000'000ULL + (i + 1) * 1000, record.blocks[i]);
    ASSERT_EQ(result.receipts, record.results[i].receipts) << "block " << i + 1;
    ASSERT_EQ(result.state_root, record.results[i].state_root) << "block " << i + 1;
  }
}

}  // namespace
}  // namespace carbon::contracts
