// Shared helpers for the contracts tests: deterministic keys, transaction builders, and a
// small chain fixture that executes one block per call and checks the ledger invariants.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "contracts/executor.h"
#include "contracts/invariants.h"
#include "contracts/merkle.h"
#include "contracts/types.h"
#include "core/keys.h"

namespace carbon::contracts::testing {

inline constexpr const char* kTestChain = "carbon-test";

inline core::SecretKey test_key(std::uint32_t index) {
  std::array<std::uint8_t, 32> seed{};
  for (std::size_t i = 0; i < 4; ++i) seed[i] = static_cast<std::uint8_t>(index >> (8 * i));
  seed[31] = 0xC0;
  return core::SecretKey(seed);
}

inline SignedTx make_tx(const core::SecretKey& sender, std::uint64_t nonce, Call call,
                        Height expiry_height = 1'000'000,
                        const std::string& chain_id = kTestChain);
// An authority act travels as a proposal (with one officer and threshold 1 it executes at once).
inline SignedTx make_tx(const core::SecretKey& sender, std::uint64_t nonce, AuthorityAct act,
                        Height expiry_height = 1'000'000,
                        const std::string& chain_id = kTestChain) {
  return make_tx(sender, nonce, Call{Propose{std::move(act)}}, expiry_height, chain_id);
}
inline SignedTx make_tx(const core::SecretKey& sender, std::uint64_t nonce, Call call,
                        Height expiry_height, const std::string& chain_id) {
  SignedTx signed_tx;
  signed_tx.tx.chain_id = chain_id;
  signed_tx.tx.sender = sender.public_key();
  signed_tx.tx.nonce = nonce;
  signed_tx.tx.expiry_height = expiry_height;
  signed_tx.tx.call = std::move(call);
  sign_tx(signed_tx, sender);
  return signed_tx;
}

using Snapshot = std::map<std::string, Bytes, std::less<>>;

inline Snapshot snapshot(const Executor& executor) {
  return dynamic_cast<const MemoryStateStore&>(executor.state()).entries();
}

// Keys whose value differs between two snapshots (present in one only, or changed).
inline std::vector<std::string> changed_keys(const Snapshot& before, const Snapshot& after) {
  std::vector<std::string> out;
  for (const auto& [key, value] : before) {
    const auto it = after.find(key);
    if (it == after.end() || it->second != value) out.push_back(key);
  }
  for (const auto& [key, value] : after) {
    if (!before.contains(key)) out.push_back(key);
  }
  return out;
}

// A chain with an authority (key 0); every submit() is one block at the next height.
class TestChain {
 public:
  TestChain()
      : authority_(test_key(0)),
        executor_(kTestChain, GenesisConfig{test_key(0).public_key(), "Hubei DRC", {}, 1}) {}

  Executor& executor() { return executor_; }
  const core::SecretKey& authority() const { return authority_; }
  Height height() const { return height_; }
  // Every following block at this one timestamp (until set_time_ms or hold_time_ms again).
  void hold_time_ms(std::uint64_t time_ms) {
    set_time_ms(time_ms);
    hold_ = true;
  }

  // The next nonce for key, as the chain sees it.
  std::uint64_t next_nonce(const core::SecretKey& key) const {
    auto account = executor_.account(key.public_key());
    return (account.is_ok() && account->has_value()) ? (*account)->nonce + 1 : 1;
  }

  // Block time: the next block runs at time_ms, and each block after it 1 s later (until the
  // next call). Without a call, block h runs at 1,700,000,000,000 + h x 1,000 ms.
  void set_time_ms(std::uint64_t time_ms) {
    time_base_ms_ = time_ms;
    time_base_height_ = height_ + 1;
    hold_ = false;
  }
  // The time of the last block executed.
  std::uint64_t time_ms() const { return last_time_ms_; }

  BlockResult block(const std::vector<SignedTx>& txs) {
    ++height_;
    last_time_ms_ = block_time_ms(height_);
    BlockResult result = executor_.execute_block(height_, last_time_ms_, txs);
    const Status invariants = check_invariants(executor_.state());
    EXPECT_TRUE(invariants.is_ok()) << invariants.to_string();
    return result;
  }

  Receipt submit(const SignedTx& tx) { return block({tx}).receipts.at(0); }

  // Signs call with key's next nonce and runs it in its own block.
  Receipt call(const core::SecretKey& key, Call call) {
    return submit(make_tx(key, next_nonce(key), std::move(call)));
  }
  Receipt call(const core::SecretKey& key, AuthorityAct act) {
    return submit(make_tx(key, next_nonce(key), std::move(act)));
  }

  Receipt register_participant(const core::SecretKey& key, Role role, const std::string& name) {
    return call(authority_, RegisterParticipant{key.public_key(), name, role});
  }
  Receipt issue(const core::SecretKey& to, std::uint16_t vintage, std::uint64_t quantity_t) {
    return call(authority_, IssueAllowances{to.public_key(), vintage, quantity_t});
  }
  Receipt transfer(const core::SecretKey& from, const core::SecretKey& to, std::uint16_t vintage,
                   std::uint64_t quantity_t) {
    return call(from, TransferUnits{to.public_key(), ProductId::allowance(vintage), quantity_t});
  }

  std::vector<SerialRange> ranges(const core::SecretKey& owner, std::uint16_t vintage) {
    auto result = Ledger(executor_.state())
                      .holdings(owner.public_key(), ProductId::allowance(vintage), 0, 10'000);
    EXPECT_TRUE(result.is_ok());
    return result.is_ok() ? *result : std::vector<SerialRange>{};
  }
  std::uint64_t balance(const core::SecretKey& owner, std::uint16_t vintage) {
    auto result = executor_.balance(owner.public_key(), ProductId::allowance(vintage));
    EXPECT_TRUE(result.is_ok());
    return result.is_ok() ? *result : 0;
  }

 private:
  std::uint64_t block_time_ms(Height height) const {
    return hold_ ? time_base_ms_ : time_base_ms_ + (height - time_base_height_) * 1000;
  }

  core::SecretKey authority_;
  Executor executor_;
  Height height_ = 0;
  std::uint64_t time_base_ms_ = 1'700'000'000'000ULL;
  Height time_base_height_ = 0;
  std::uint64_t last_time_ms_ = 0;
  bool hold_ = false;
};

}  // namespace carbon::contracts::testing
