// Scenario tables for the registry tests (MRV, allocation): a scenario is a list of steps, each
// one call or authority act by a participant in its own block (optionally at a given block
// time) with the receipt it must get. The cast is fixed: test_key(i) below, registered by
// register_cast(); the ledger invariants are checked after every block (TestChain::block).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "contracts/ledger_internal.h"
#include "contracts_harness.h"

namespace carbon::contracts::testing {

// The cast, by test_key index (0 is the authority, officer and threshold 1).
inline constexpr std::uint32_t kAuthority = 0;
inline constexpr std::uint32_t kSteel = 1;          // covered enterprise
inline constexpr std::uint32_t kPaper = 2;          // reporting enterprise
inline constexpr std::uint32_t kVerifier = 3;       // verifier
inline constexpr std::uint32_t kOtherVerifier = 4;  // verifier, not assigned to anyone
inline constexpr std::uint32_t kFund = 5;           // voluntary participant
inline constexpr std::uint32_t kCement = 6;         // covered enterprise
inline constexpr std::uint32_t kReserve = 7;        // reserve institution

inline PublicKey pk(std::uint32_t who) { return test_key(who).public_key(); }

inline void register_cast(TestChain& chain) {
  const struct {
    std::uint32_t who;
    Role role;
    const char* name;
  } cast[] = {
      {kSteel, Role::kCoveredEnterprise, "Wuhan Steel"},
      {kPaper, Role::kReportingEnterprise, "Jingzhou Paper"},
      {kVerifier, Role::kVerifier, "Hubei Verification Co"},
      {kOtherVerifier, Role::kVerifier, "Wuhan Audit Co"},
      {kFund, Role::kVoluntary, "Green Fund"},
      {kCement, Role::kCoveredEnterprise, "Huangshi Cement"},
      {kReserve, Role::kReserve, "Hubei Carbon Reserve"},
  };
  for (const auto& member : cast) {
    const Receipt receipt = chain.register_participant(test_key(member.who), member.role, member.name);
    ASSERT_TRUE(receipt.ok()) << receipt.message;
  }
}

inline Hash256 test_hash(std::uint8_t tag) {
  Hash256 hash;
  hash.bytes.fill(tag);
  return hash;
}

struct Step {
  std::uint32_t who = kAuthority;
  std::variant<Call, AuthorityAct> what;
  std::optional<std::uint64_t> time_ms = std::nullopt;  // block time; default: 1 s after the last
  ErrorCode code = ErrorCode::kOk;
  std::string message_part = {};  // the receipt's message must contain it
};

// Runs the steps in order, one block each; every receipt must match its step.
inline void run_steps(TestChain& chain, const std::string& scenario, const std::vector<Step>& steps) {
  for (std::size_t i = 0; i < steps.size(); ++i) {
    const Step& step = steps[i];
    if (step.time_ms) chain.set_time_ms(*step.time_ms);
    const core::SecretKey key = test_key(step.who);
    const Receipt receipt =
        std::visit([&](const auto& what) { return chain.call(key, what); }, step.what);
    EXPECT_EQ(receipt.code, step.code)
        << scenario << ", step " << i << ": " << error_code_name(receipt.code) << " "
        << receipt.message;
    if (!step.message_part.empty()) {
      EXPECT_NE(receipt.message.find(step.message_part), std::string::npos)
          << scenario << ", step " << i << ": message \"" << receipt.message
          << "\" lacks \"" << step.message_part << "\"";
    }
    const Status invariants = check_invariants(chain.executor().state());
    ASSERT_TRUE(invariants.is_ok()) << scenario << ", step " << i << ": " << invariants.to_string();
  }
}

// A record of the current state, decoded (nullopt when absent).
template <class T>
std::optional<T> record(TestChain& chain, const std::string& key) {
  auto result = Ledger(chain.executor().state()).get<T>(key);
  EXPECT_TRUE(result.is_ok()) << result.status().to_string();
  return result.is_ok() ? *result : std::nullopt;
}

}  // namespace carbon::contracts::testing
