// Whole compliance years through the contracts only (no record written by hand): the
// interactions between MRV, allocation, surrender and year close that single-module tests do
// not reach — a penalty deduction carried into the next year and not undone by the ex-post
// adjustment, the "never traded" cancellation after a withdrawal, verifier reassignment,
// banking, role changes and the cap's auction share.
#include <gtest/gtest.h>

#include "contracts/compliance.h"
#include "contracts/ledger_internal.h"
#include "contracts_harness.h"

namespace carbon::contracts {
namespace {

using testing::test_key;
using testing::TestChain;

Hash256 hash_of(std::uint8_t tag) {
  Hash256 hash;
  hash.bytes[0] = tag;
  hash.bytes[31] = 1;
  return hash;
}

// Beijing-time noon of a civil date, in ms (clear of every default deadline's edge).
std::uint64_t noon(int year, unsigned month, unsigned day) {
  return utc_ms_from_civil(year, month, day) + 4 * 3'600'000ULL;
}

AllocationInputs grandfathering(std::uint64_t historical_t) {
  AllocationInputs inputs;
  inputs.method = AllocationMethod::kGrandfathering;
  inputs.historical_emissions_t = historical_t;
  inputs.factor_ppm = 1'000'000;
  return inputs;
}

AllocationInputs one_tonne_per_unit(std::uint64_t base_production_units) {
  AllocationInputs inputs;
  inputs.method = AllocationMethod::kBenchmark;
  inputs.benchmark_g_per_unit = 1'000'000;
  inputs.base_production_units = base_production_units;
  return inputs;
}

struct Year : ::testing::Test {
  TestChain chain;
  core::SecretKey steel = test_key(61);
  core::SecretKey cement = test_key(62);
  core::SecretKey verifier = test_key(63);
  core::SecretKey verifier2 = test_key(64);
  core::SecretKey reserve = test_key(65);

  void SetUp() override {
    ok(RegisterParticipant{steel.public_key(), "Wuhan Steel", Role::kCoveredEnterprise});
    ok(RegisterParticipant{cement.public_key(), "Huaxin Cement", Role::kCoveredEnterprise});
    ok(RegisterParticipant{verifier.public_key(), "Hubei Verification", Role::kVerifier});
    ok(RegisterParticipant{verifier2.public_key(), "Wuhan Audit", Role::kVerifier});
    ok(RegisterParticipant{reserve.public_key(), "Hubei Carbon Reserve", Role::kReserve});
  }
  void ok(AuthorityAct act) {
    const std::string name(act_name(act));
    const Receipt receipt = chain.call(chain.authority(), std::move(act));
    ASSERT_TRUE(receipt.ok()) << name << ": " << receipt.message;
  }
  void ok(const core::SecretKey& key, Call call) {
    const std::string name(call_name(call));
    const Receipt receipt = chain.call(key, std::move(call));
    ASSERT_TRUE(receipt.ok()) << name << ": " << receipt.message;
  }
  // Report, verify (figure and production) and approve: the obligation of year Y.
  void verified(const core::SecretKey& enterprise, std::uint16_t year, std::uint64_t emissions_t,
                std::uint64_t production_units) {
    ok(AssignVerifier{enterprise.public_key(), year, verifier.public_key()});
    ok(enterprise, SubmitReport{year, hash_of(1), emissions_t});
    ok(verifier, SubmitVerification{enterprise.public_key(), year, hash_of(2), emissions_t,
                                    production_units});
    ok(ApproveEmissions{enterprise.public_key(), year});
  }
  std::uint64_t balance(const core::SecretKey& owner, std::uint16_t vintage) {
    return chain.balance(owner, vintage);
  }
  template <class T>
  T record(const std::string& key) {
    auto stored = Ledger(chain.executor().state()).get<T>(key);
    EXPECT_TRUE(stored.is_ok() && stored->has_value()) << key;
    return stored.is_ok() && stored->has_value() ? **stored : T{};
  }
};

TEST_F(Year, DeductionCarriesIntoNextYearAndTheAdjustmentDoesNotUndoIt) {
  // 2024: allocation 1,000,000 t, emissions 1,100,000 t, surrenders 1,000,000 t: short 100,000.
  chain.set_time_ms(noon(2025, 1, 10));
  ok(SetCap{2024, 10'000'000, 1'000'000, 0});
  ok(SetAllocation{steel.public_key(), 2024, grandfathering(1'000'000)});
  ok(IssuePreAllocation{steel.public_key(), 2024});
  verified(steel, 2024, 1'100'000, 0);
  ok(TrueUpAllocation{steel.public_key(), 2024});
  EXPECT_EQ(balance(steel, 2024), 1'000'000u);
  ok(steel, Surrender{2024, ProductId::allowance(2024), 1'000'000});
  chain.set_time_ms(noon(2025, 6, 5));  // after the 2024 surrender deadline (31 May 2025)
  ok(CloseYear{2024});
  const auto row = record<ComplianceRow>(keys::compliance_row(2024, steel.public_key()));
  EXPECT_EQ(row.shortfall_t, 100'000u);
  EXPECT_EQ(row.deduction_t, 200'000u);
  // Penalty: 100,000 t x 20 CNY x 100%, capped at 150,000 CNY.
  EXPECT_EQ(row.penalty_fen, 15'000'000u);

  // 2025: the same allocation, less the 200,000 t deduction.
  ok(SetCap{2025, 10'000'000, 1'000'000, 0});
  ok(SetAllocation{steel.public_key(), 2025, grandfathering(1'000'000)});
  ok(IssuePreAllocation{steel.public_key(), 2025});
  EXPECT_EQ(balance(steel, 2025), 300'000u);  // 500,000 pre-allocated less 200,000
  verified(steel, 2025, 1'000'000, 0);
  ok(TrueUpAllocation{steel.public_key(), 2025});
  EXPECT_EQ(balance(steel, 2025), 800'000u);
  // Emissions equal the allocation (1,000,000 t): nothing to adjust. Compared with what was
  // issued (800,000 t) they would look 25% over and the reserve would hand back the penalty.
  const Receipt adjust = chain.call(chain.authority(), AdjustAllocation{steel.public_key(), 2025});
  EXPECT_EQ(adjust.code, ErrorCode::kConflict) << adjust.message;
  EXPECT_NE(adjust.message.find("no adjustment"), std::string::npos) << adjust.message;
  EXPECT_EQ(balance(steel, 2025), 800'000u);
}

TEST_F(Year, NeverTradedCancellationSparesUnitsBoughtAfterAWithdrawal) {
  chain.set_time_ms(noon(2025, 6, 1));
  ok(SetCap{2025, 1'000'000, 0, 1'000});
  ok(SetAllocation{steel.public_key(), 2025, one_tonne_per_unit(200)});  // initial 200 t
  ok(IssuePreAllocation{steel.public_key(), 2025});                       // 100 t
  ok(IssueAllowances{cement.public_key(), 2025, 500});                    // from the auction share
  verified(steel, 2025, 60, 70);
  ok(TrueUpAllocation{steel.public_key(), 2025});  // final 70 t: 30 t withdrawn
  EXPECT_EQ(balance(steel, 2025), 70u);
  ok(cement, TransferUnits{steel.public_key(), ProductId::allowance(2025), 30});  // bought
  ok(steel, Surrender{2025, ProductId::allowance(2025), 60});
  EXPECT_EQ(balance(steel, 2025), 40u);
  chain.set_time_ms(default_rules(2025).surrender_deadline_ms + 1);
  ok(CloseYear{2025});
  // Own units never traded: 100 issued - 30 withdrawn - 60 surrendered = 10 t. The 30 t bought
  // stay.
  const auto row = record<ComplianceRow>(keys::compliance_row(2025, steel.public_key()));
  EXPECT_EQ(row.status, ComplianceStatus::kCompliant);
  EXPECT_EQ(row.cancelled_t, 10u);
  EXPECT_EQ(balance(steel, 2025), 30u);
}

TEST_F(Year, ReassignedVerifierMustVerifyAgainBeforeApproval) {
  chain.set_time_ms(noon(2026, 1, 10));
  ok(AssignVerifier{steel.public_key(), 2025, verifier.public_key()});
  ok(steel, SubmitReport{2025, hash_of(1), 1'000});
  ok(verifier, SubmitVerification{steel.public_key(), 2025, hash_of(2), 990, 0});
  ok(AssignVerifier{steel.public_key(), 2025, verifier2.public_key()});
  const Receipt approve = chain.call(chain.authority(), ApproveEmissions{steel.public_key(), 2025});
  EXPECT_FALSE(approve.ok());
  const Receipt old = chain.call(
      verifier, SubmitVerification{steel.public_key(), 2025, hash_of(3), 995, 0});
  EXPECT_EQ(old.code, ErrorCode::kUnauthorized) << old.message;
  ok(verifier2, SubmitVerification{steel.public_key(), 2025, hash_of(4), 1'010, 0});
  ok(ApproveEmissions{steel.public_key(), 2025});
  EXPECT_EQ(record<EmissionRecord>(keys::emission(2025, steel.public_key())).obligation_t, 1'010u);
}

TEST_F(Year, AllowancesOfAClosedYearWithoutBankingCannotBeSurrenderedLater) {
  chain.set_time_ms(noon(2025, 1, 10));
  RuleSet no_banking = default_rules(2024);
  no_banking.banking_allowed = 0;
  ok(SetRules{2024, no_banking});
  ok(IssueAllowances{reserve.public_key(), 2024, 1'000});
  chain.set_time_ms(noon(2025, 6, 5));
  ok(CloseYear{2024});  // no allocations in 2024: nothing to settle
  ok(reserve, TransferUnits{steel.public_key(), ProductId::allowance(2024), 500});
  chain.set_time_ms(noon(2026, 1, 10));
  verified(steel, 2025, 800, 0);
  const Receipt refused = chain.call(steel, Surrender{2025, ProductId::allowance(2024), 100});
  EXPECT_EQ(refused.code, ErrorCode::kConflict);
  EXPECT_NE(refused.message.find("were not banked"), std::string::npos) << refused.message;
  EXPECT_EQ(balance(steel, 2024), 500u);
}

TEST_F(Year, RoleChangeMayNotStrandUnits) {
  ok(IssueAllowances{steel.public_key(), 2025, 10});
  const Receipt refused = chain.call(
      chain.authority(), UpdateParticipant{steel.public_key(), "Wuhan Steel", Role::kVerifier});
  EXPECT_EQ(refused.code, ErrorCode::kConflict);
  EXPECT_NE(refused.message.find("which a verifier may not hold"), std::string::npos)
      << refused.message;
  ok(UpdateParticipant{steel.public_key(), "Wuhan Steel", Role::kVoluntary});  // may hold
}

TEST_F(Year, DirectIssuanceComesOutOfTheAuctionShareAndStopsAtClose) {
  chain.set_time_ms(noon(2025, 1, 10));
  ok(SetCap{2024, 10'000, 1'000, 2'000});
  ok(IssueAllowances{reserve.public_key(), 2024, 2'000});
  const Receipt over = chain.call(chain.authority(), IssueAllowances{reserve.public_key(), 2024, 1});
  EXPECT_EQ(over.code, ErrorCode::kConflict);
  EXPECT_NE(over.message.find("auction share of the 2024 cap leaves 0 t"), std::string::npos)
      << over.message;
  // The cap cannot shrink below what was issued from its auction share.
  const Receipt shrink = chain.call(chain.authority(), SetCap{2024, 10'000, 1'000, 1'999});
  EXPECT_EQ(shrink.code, ErrorCode::kConflict) << shrink.message;
  chain.set_time_ms(noon(2025, 6, 5));
  ok(CloseYear{2024});
  ok(IssueAllowances{reserve.public_key(), 2025, 5});  // no 2025 cap yet: not bounded by one
  const Receipt closed = chain.call(chain.authority(), IssueAllowances{reserve.public_key(), 2024, 1});
  EXPECT_EQ(closed.code, ErrorCode::kConflict);
  EXPECT_NE(closed.message.find("is closed"), std::string::npos) << closed.message;
}

}  // namespace
}  // namespace carbon::contracts
