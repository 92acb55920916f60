// The mempool's answers that decide when a leader proposes and what: find() by id (the vote
// check reuses pooled transactions), has_ready() against the nonces already used (by the state
// or by blocks ordered but not executed), and select() never leaving a nonce gap.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "contracts/types.h"
#include "core/codec.h"
#include "node/mempool.h"

namespace carbon::node {
namespace {

core::SecretKey key_for(std::uint8_t index) {
  std::array<std::uint8_t, 32> seed{};
  seed[0] = index;
  seed[31] = 0x5A;
  return core::SecretKey(seed);
}

PoolTx pool_tx(const core::SecretKey& key, std::uint64_t nonce, std::uint64_t expiry_height = 1000) {
  contracts::SignedTx tx;
  tx.tx.chain_id = "mempool-test";
  tx.tx.sender = key.public_key();
  tx.tx.nonce = nonce;
  tx.tx.expiry_height = expiry_height;
  contracts::TransferUnits transfer;
  transfer.to = key_for(99).public_key();
  transfer.product = contracts::ProductId::allowance(2025);
  transfer.quantity_t = 1;
  tx.tx.call = transfer;
  contracts::sign_tx(tx, key);
  auto bytes = std::make_shared<const core::Bytes>(contracts::encode_signed_tx(tx));
  return PoolTx{contracts::tx_id(tx), tx, bytes};
}

TEST(Mempool, FindsPendingTransactionsById) {
  Mempool pool(10);
  const PoolTx first = pool_tx(key_for(1), 1);
  ASSERT_TRUE(pool.add(first).is_ok());
  auto found = pool.find(first.id);
  ASSERT_NE(found, nullptr);
  EXPECT_EQ(found->tx.tx.nonce, 1u);
  EXPECT_EQ(*found->bytes, *first.bytes);
  // The id is the hash of the canonical bytes, as the vote check computes it.
  EXPECT_EQ(core::sha3_256(*first.bytes), first.id);
  EXPECT_EQ(pool.find(pool_tx(key_for(1), 2).id), nullptr);
  pool.on_committed(1, {first.id}, {first.tx.tx.sender}, [](const core::PublicKey&) { return 1u; });
  EXPECT_EQ(pool.find(first.id), nullptr);
}

TEST(Mempool, ReadyOnlyWhenTheDueNonceWaits) {
  Mempool pool(10);
  const auto alice = key_for(1);
  const auto bob = key_for(2);
  ASSERT_TRUE(pool.add(pool_tx(alice, 1)).is_ok());
  ASSERT_TRUE(pool.add(pool_tx(alice, 2)).is_ok());
  ASSERT_TRUE(pool.add(pool_tx(bob, 5)).is_ok());
  std::map<core::PublicKey, std::uint64_t> used;
  const auto used_nonce = [&](const core::PublicKey& sender) {
    auto it = used.find(sender);
    return it == used.end() ? std::uint64_t{0} : it->second;
  };
  // Alice's nonce 1 is due.
  EXPECT_TRUE(pool.has_ready(used_nonce));
  // Both of alice's transactions are in blocks already ordered (not executed: still pooled),
  // and bob's 5 waits behind a gap: nothing a new block could take.
  used[alice.public_key()] = 2;
  EXPECT_FALSE(pool.has_ready(used_nonce));
  // Bob's 4 is used: his 5 is due.
  used[bob.public_key()] = 4;
  EXPECT_TRUE(pool.has_ready(used_nonce));
}

TEST(Mempool, SelectTakesEachSendersNoncesInSequenceOnly) {
  Mempool pool(10);
  const auto alice = key_for(1);
  const PoolTx a1 = pool_tx(alice, 1);
  const PoolTx a3 = pool_tx(alice, 3);
  const PoolTx a2 = pool_tx(alice, 2);
  ASSERT_TRUE(pool.add(a1).is_ok());
  ASSERT_TRUE(pool.add(a3).is_ok());  // arrives before 2
  ASSERT_TRUE(pool.add(a2).is_ok());
  const auto next = [](const core::PublicKey&) { return std::uint64_t{1}; };
  auto batch = pool.select(10, 1, next, {});
  ASSERT_EQ(batch.size(), 2u);  // 1 and 2; 3 arrived before 2 and would leave a gap in this pass
  EXPECT_EQ(batch[0]->tx.tx.nonce, 1u);
  EXPECT_EQ(batch[1]->tx.tx.nonce, 2u);
  // On a chain that already holds 1: 2 first.
  batch = pool.select(10, 1, [](const core::PublicKey&) { return std::uint64_t{2}; }, {a1.id});
  ASSERT_FALSE(batch.empty());
  EXPECT_EQ(batch[0]->tx.tx.nonce, 2u);
}

TEST(Mempool, KeepsOneTransactionPerSenderAndNonceAndDropsWhatCanNoLongerApply) {
  Mempool pool(6);
  const auto alice = key_for(1);
  const auto bob = key_for(2);
  const auto carol = key_for(3);
  for (std::uint64_t nonce = 1; nonce <= 3; ++nonce) ASSERT_TRUE(pool.add(pool_tx(alice, nonce)).is_ok());
  ASSERT_TRUE(pool.add(pool_tx(bob, 1)).is_ok());
  ASSERT_TRUE(pool.add(pool_tx(bob, 3)).is_ok());  // behind a gap
  // Another transaction with a nonce already waiting (here: a different expiry) is refused.
  const auto again = pool.add(pool_tx(alice, 2, 999));
  EXPECT_EQ(again.code(), core::ErrorCode::kConflict);
  EXPECT_EQ(pool.size(), 5u);
  EXPECT_EQ(pool.contiguous_pending_nonce(alice.public_key(), 0), 3u);
  EXPECT_EQ(pool.contiguous_pending_nonce(bob.public_key(), 0), 1u);  // stops at the gap
  EXPECT_EQ(pool.contiguous_pending_nonce(carol.public_key(), 7), 7u);
  ASSERT_TRUE(pool.add(pool_tx(carol, 1, 10)).is_ok());  // expires after height 10
  EXPECT_EQ(pool.add(pool_tx(carol, 2)).code(), core::ErrorCode::kOutOfBounds);  // full
  // A block at height 11 used alice's nonces up to 2 (through transactions this pool never held)
  // and bob's up to 3: alice keeps 3, bob keeps nothing, carol's expired.
  std::map<core::PublicKey, std::uint64_t> used = {{alice.public_key(), 2}, {bob.public_key(), 3}, {carol.public_key(), 0}};
  const auto dropped = pool.on_committed(11, {}, {alice.public_key(), bob.public_key()},
                                         [&](const core::PublicKey& sender) { return used.at(sender); });
  EXPECT_EQ(pool.size(), 1u);
  // Each dropped one is reported with its reason, for GET /tx/{id}.
  std::map<core::Hash256, std::string> reasons;
  for (const auto& drop : dropped) reasons[drop.id] = drop.reason;
  ASSERT_EQ(reasons.size(), 5u);
  EXPECT_NE(reasons[pool_tx(alice, 1).id].find("nonce 1 of this sender was used by another transaction"), std::string::npos)
      << reasons[pool_tx(alice, 1).id];
  EXPECT_NE(reasons[pool_tx(bob, 3).id].find("nonce 3"), std::string::npos);
  const std::string& expired = reasons[pool_tx(carol, 1, 10).id];
  EXPECT_NE(expired.find("expired: not included in a block by its expiry height 10"), std::string::npos) << expired;
  EXPECT_EQ(expired.find("never arrived"), std::string::npos) << expired;  // its nonce was due
  EXPECT_NE(pool.find(pool_tx(alice, 3).id), nullptr);
  EXPECT_EQ(pool.contiguous_pending_nonce(alice.public_key(), 2), 3u);
  EXPECT_EQ(pool.contiguous_pending_nonce(bob.public_key(), 3), 3u);
  // Their nonces are free to be used again by new transactions.
  EXPECT_TRUE(pool.add(pool_tx(bob, 4)).is_ok());
  EXPECT_TRUE(pool.add(pool_tx(carol, 1)).is_ok());
  EXPECT_EQ(pool.size(), 3u);
}

TEST(Mempool, AnExpiredTransactionBehindANonceGapSaysWhatItWaitedFor) {
  Mempool pool(10);
  const auto dave = key_for(4);
  const PoolTx behind_gap = pool_tx(dave, 3, 20);  // nonce 2 never comes
  ASSERT_TRUE(pool.add(behind_gap).is_ok());
  // Height 20 is the last at which it could still be included: not dropped yet.
  EXPECT_TRUE(pool.on_committed(19, {}, {}, [](const core::PublicKey&) { return 1u; }).empty());
  EXPECT_TRUE(pool.contains(behind_gap.id));
  const auto dropped = pool.on_committed(20, {}, {}, [](const core::PublicKey&) { return 1u; });
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped.front().id, behind_gap.id);
  EXPECT_NE(dropped.front().reason.find("had nonce 3 and waited for the sender's nonce 2, which never arrived"),
            std::string::npos)
      << dropped.front().reason;
  EXPECT_FALSE(pool.contains(behind_gap.id));
}

// Transactions behind a nonce gap may hold at most a quarter of the pool: they cannot run until
// their sender sends the missing nonce, and must not lock out those that can (here, the very
// nonce that would close the gap, refused before as "the mempool is full").
TEST(Mempool, TransactionsBehindAGapCannotFillThePool) {
  Mempool pool(8);
  ASSERT_EQ(pool.max_gapped(), 2u);
  const auto alice = key_for(1);
  const auto bob = key_for(2);
  EXPECT_TRUE(pool.add(pool_tx(alice, 3), 0).is_ok());  // behind nonce 1 and 2
  EXPECT_TRUE(pool.add(pool_tx(alice, 5), 0).is_ok());
  const core::Status third = pool.add(pool_tx(bob, 9), 0);
  ASSERT_EQ(third.code(), core::ErrorCode::kOutOfBounds) << third.to_string();
  EXPECT_NE(third.message().find("would wait behind a gap (this sender's next nonce is 1)"), std::string::npos)
      << third.message();
  // Transactions that can run still get in, and fill the pool.
  EXPECT_TRUE(pool.add(pool_tx(alice, 1), 0).is_ok());
  EXPECT_TRUE(pool.add(pool_tx(alice, 2), 0).is_ok());  // now 3 is in an unbroken run
  EXPECT_TRUE(pool.add(pool_tx(alice, 4), 0).is_ok());  // so is 4: 1..5 without a gap
  EXPECT_TRUE(pool.add(pool_tx(bob, 1), 0).is_ok());
  EXPECT_TRUE(pool.add(pool_tx(bob, 2), 0).is_ok());
  EXPECT_TRUE(pool.add(pool_tx(bob, 3), 0).is_ok());
  EXPECT_EQ(pool.size(), 8u);
  EXPECT_EQ(pool.add(pool_tx(bob, 4), 0).code(), core::ErrorCode::kOutOfBounds);  // full
  // The two counted behind a gap leave with their block: room for two more behind gaps.
  std::set<core::PublicKey> senders = {alice.public_key()};
  pool.on_committed(1, {pool_tx(alice, 1).id, pool_tx(alice, 2).id, pool_tx(alice, 3).id, pool_tx(alice, 4).id,
                        pool_tx(alice, 5).id},
                    senders, [](const core::PublicKey&) { return 5u; });
  EXPECT_TRUE(pool.add(pool_tx(alice, 7), 5).is_ok());
  EXPECT_TRUE(pool.add(pool_tx(bob, 9), 3).is_ok());
  EXPECT_EQ(pool.add(pool_tx(alice, 9), 5).code(), core::ErrorCode::kOutOfBounds);
  // Without the state's nonce (nullopt) there is no such rule.
  EXPECT_TRUE(pool.add(pool_tx(alice, 9)).is_ok());
}

// A transaction stops counting as behind a gap once the missing nonce arrives here or is used by
// a block, which frees its place in the pool's share for transactions behind gaps.
TEST(Mempool, AGapThatClosesFreesItsShare) {
  const auto alice = key_for(1);
  const auto bob = key_for(2);
  Mempool small(8);
  ASSERT_EQ(small.max_gapped(), 2u);
  const auto carol = key_for(3);
  ASSERT_TRUE(small.add(pool_tx(alice, 3), 0).is_ok());
  ASSERT_TRUE(small.add(pool_tx(bob, 3), 0).is_ok());
  EXPECT_EQ(small.add(pool_tx(carol, 5), 0).code(), core::ErrorCode::kOutOfBounds);
  small.on_committed(1, {}, {alice.public_key()}, [&](const core::PublicKey& sender) {
    return sender == alice.public_key() ? 2u : 0u;  // alice's 1 and 2 went through another node
  });
  EXPECT_TRUE(small.add(pool_tx(carol, 5), 0).is_ok());
  EXPECT_EQ(small.add(pool_tx(carol, 7), 0).code(), core::ErrorCode::kOutOfBounds);
  ASSERT_TRUE(small.add(pool_tx(bob, 1), 0).is_ok());
  ASSERT_TRUE(small.add(pool_tx(bob, 2), 0).is_ok());  // bob's 3 runs now
  EXPECT_TRUE(small.add(pool_tx(carol, 7), 0).is_ok());
}

}  // namespace
}  // namespace carbon::node
