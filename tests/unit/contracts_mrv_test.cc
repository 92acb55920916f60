// MRV contracts, table-driven: each scenario runs its steps (reports, verifier assignments,
// verifications, approvals, estimates) in their own blocks at chosen block times and checks
// every receipt; then the records and the history of a full cycle with a correction.
#include <gtest/gtest.h>

#include "contracts_scenario.h"

namespace carbon::contracts {
namespace {

using namespace testing;  // NOLINT: the scenario vocabulary

constexpr std::uint16_t kYear = 2025;

const RuleSet& rules_2025() {
  static const RuleSet rules = default_rules(kYear);
  return rules;
}
std::uint64_t report_deadline() { return rules_2025().report_deadline_ms; }
std::uint64_t verification_deadline() { return rules_2025().verification_deadline_ms; }

Call report(std::uint64_t declared_t, std::uint8_t tag = 1) {
  return SubmitReport{kYear, test_hash(tag), declared_t};
}
Call verify(std::uint32_t enterprise, std::uint64_t verified_t, std::uint64_t production = 0) {
  return SubmitVerification{pk(enterprise), kYear, test_hash(0xA0), verified_t, production};
}
AuthorityAct assign(std::uint32_t enterprise, std::uint32_t verifier = kVerifier) {
  return AssignVerifier{pk(enterprise), kYear, pk(verifier)};
}
AuthorityAct approve(std::uint32_t enterprise) { return ApproveEmissions{pk(enterprise), kYear}; }
AuthorityAct estimate(std::uint32_t enterprise, std::uint64_t estimate_t) {
  return EstimateEmissions{pk(enterprise), kYear, estimate_t};
}

struct Scenario {
  const char* name;
  std::vector<Step> steps;
};

std::vector<Scenario> scenarios() {
  const std::uint64_t d = report_deadline();
  const std::uint64_t v = verification_deadline();
  RuleSet no_estimates = rules_2025();
  no_estimates.allow_estimate = 0;
  return {
      {"report exactly at the deadline is on time",
       {{.who = kSteel, .what = report(1'000), .time_ms = d}}},
      {"report 1 ms after the deadline is refused",
       {{.who = kSteel,
         .what = report(1'000),
         .time_ms = d + 1,
         .code = ErrorCode::kConflict,
         .message_part = "report deadline for 2025 passed at 2026-02-28 23:59:59.999 Beijing time "
                         "(block time 2026-03-01 00:00:00.000 Beijing time)"}}},
      {"a correction after the deadline is refused too",
       {{.who = kSteel, .what = report(1'000), .time_ms = d},
        {.who = kSteel,
         .what = report(900, 2),
         .time_ms = d + 1,
         .code = ErrorCode::kConflict,
         .message_part = "report deadline for 2025 passed"}}},
      {"a reporting enterprise reports", {{.who = kPaper, .what = report(80)}}},
      {"zero tonnes are refused",
       {{.who = kSteel,
         .what = report(0),
         .code = ErrorCode::kInvalidArgument,
         .message_part = "declared emissions must be at least 1 t"}}},
      {"tonnes above the bound are refused",
       {{.who = kSteel,
         .what = report(kMaxQuantityPerTx + 1),
         .code = ErrorCode::kOutOfBounds,
         .message_part = "exceeds the limit"}}},
      {"a zero document hash is refused",
       {{.who = kSteel,
         .what = Call{SubmitReport{kYear, Hash256{}, 1'000}},
         .code = ErrorCode::kInvalidArgument,
         .message_part = "document hash is zero"}}},
      {"a year outside the vintages is refused",
       {{.who = kSteel,
         .what = Call{SubmitReport{1999, test_hash(1), 1'000}},
         .code = ErrorCode::kInvalidArgument,
         .message_part = "year 1999 is outside"}}},
      {"only enterprises report",
       {{.who = kVerifier,
         .what = report(1'000),
         .code = ErrorCode::kUnauthorized,
         .message_part = "only a covered_enterprise or reporting_enterprise may submit emission reports"}}},
      {"the assigned verifier verifies a report",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000)},
        {.who = kVerifier, .what = verify(kSteel, 1'050)}}},
      {"a wrong verifier is refused",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000)},
        {.who = kOtherVerifier,
         .what = verify(kSteel, 1'050),
         .code = ErrorCode::kUnauthorized,
         .message_part = "only the verifier assigned to Wuhan Steel for 2025 may verify"}}},
      {"no verification without an assigned verifier",
       {{.who = kSteel, .what = report(1'000)},
        {.who = kVerifier,
         .what = verify(kSteel, 1'050),
         .code = ErrorCode::kUnauthorized,
         .message_part = "only the verifier assigned to Wuhan Steel"}}},
      {"verification before a report is refused",
       {{.what = assign(kSteel)},
        {.who = kVerifier,
         .what = verify(kSteel, 1'050),
         .code = ErrorCode::kConflict,
         .message_part = "Wuhan Steel has not reported its 2025 emissions yet"}}},
      {"verification exactly at its deadline is on time, 1 ms after is refused",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000), .time_ms = d},
        {.who = kVerifier, .what = verify(kSteel, 1'050), .time_ms = v},
        {.who = kVerifier,
         .what = verify(kSteel, 1'060),
         .time_ms = v + 1,
         .code = ErrorCode::kConflict,
         .message_part = "verification deadline for 2025 passed at 2026-04-30 23:59:59.999 "
                         "Beijing time"}}},
      {"zero verified tonnes are refused",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000)},
        {.who = kVerifier,
         .what = verify(kSteel, 0),
         .code = ErrorCode::kInvalidArgument,
         .message_part = "verified emissions must be at least 1 t"}}},
      {"only a verifier can be assigned",
       {{.what = assign(kSteel, kFund),
         .code = ErrorCode::kUnauthorized,
         .message_part = "Green Fund is a voluntary; only a verifier may verify emission reports"}}},
      {"a verifier is assigned only to an enterprise",
       {{.what = assign(kFund),
         .code = ErrorCode::kUnauthorized,
         .message_part = "only a covered_enterprise or reporting_enterprise may have a verifier assigned"}}},
      {"the same assignment twice is refused",
       {{.what = assign(kSteel)},
        {.what = assign(kSteel),
         .code = ErrorCode::kConflict,
         .message_part = "Hubei Verification Co is already the verifier of Wuhan Steel for 2025"}}},
      {"a reassigned verifier takes over",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000)},
        {.what = assign(kSteel, kOtherVerifier)},
        {.who = kVerifier,
         .what = verify(kSteel, 1'050),
         .code = ErrorCode::kUnauthorized,
         .message_part = "only the verifier assigned"},
        {.who = kOtherVerifier, .what = verify(kSteel, 1'050)}}},
      {"approval needs a verification",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000)},
        {.what = approve(kSteel),
         .code = ErrorCode::kConflict,
         .message_part = "no verification of Wuhan Steel's 2025 emissions newer than the last "
                         "report or approval (status: reported)"}}},
      {"a second approval needs a new verification",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000)},
        {.who = kVerifier, .what = verify(kSteel, 1'050)},
        {.what = approve(kSteel)},
        {.what = approve(kSteel), .code = ErrorCode::kConflict, .message_part = "status: approved"}}},
      {"a correction after approval needs a new verification before approval",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000)},
        {.who = kVerifier, .what = verify(kSteel, 1'050)},
        {.what = approve(kSteel)},
        {.who = kSteel, .what = report(1'100, 2)},
        {.what = approve(kSteel), .code = ErrorCode::kConflict, .message_part = "status: reported"},
        {.who = kVerifier, .what = verify(kSteel, 1'120)},
        {.what = approve(kSteel)}}},
      {"no approval without any record",
       {{.what = approve(kSteel), .code = ErrorCode::kConflict, .message_part = "status: no report"}}},
      {"an estimate at the deadline is refused",
       {{.what = estimate(kSteel, 5'000),
         .time_ms = d,
         .code = ErrorCode::kConflict,
         .message_part = "has not passed; Wuhan Steel may still report"}}},
      {"an estimate 1 ms after the deadline without a report",
       {{.what = estimate(kSteel, 5'000), .time_ms = d + 1}}},
      {"an estimate for a verifier-assigned enterprise that never reported",
       {{.what = assign(kPaper)}, {.what = estimate(kPaper, 90), .time_ms = d + 1}}},
      {"no estimate after a report while its verifier still has time",
       {{.who = kSteel, .what = report(1'000), .time_ms = d},
        {.what = estimate(kSteel, 5'000),
         .time_ms = v,
         .code = ErrorCode::kConflict,
         .message_part = "Wuhan Steel reported its 2025 emissions; its verifier has until "
                         "2026-04-30 23:59:59.999 Beijing time"}}},
      {"an estimate replaces a report never verified by the verification deadline",
       {{.who = kSteel, .what = report(1'000), .time_ms = d},
        {.what = estimate(kSteel, 5'000), .time_ms = v + 1}}},
      {"no estimate after a verification: approve it instead",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000), .time_ms = d},
        {.who = kVerifier, .what = verify(kSteel, 900), .time_ms = v},
        {.what = estimate(kSteel, 5'000),
         .time_ms = v + 1,
         .code = ErrorCode::kConflict,
         .message_part = "report was verified (version 1); approve the verified figure"}}},
      {"an estimate replaces a correction never verified again by the verification deadline",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000)},
        {.who = kVerifier, .what = verify(kSteel, 900)},
        {.who = kSteel, .what = report(1'100, 2), .time_ms = d},
        // The first verification is of an older report: there is nothing to approve.
        {.what = approve(kSteel), .time_ms = v, .code = ErrorCode::kConflict, .message_part = "status: reported"},
        {.what = estimate(kSteel, 5'000),
         .time_ms = v,
         .code = ErrorCode::kConflict,
         .message_part = "Wuhan Steel's latest 2025 report is not verified (it was corrected, or the verifier "
                         "changed, after the last verification); its verifier has until"},
        {.what = estimate(kSteel, 5'000), .time_ms = v + 1}}},
      {"no estimate over an approved figure",
       {{.what = assign(kSteel)},
        {.who = kSteel, .what = report(1'000), .time_ms = d},
        {.who = kVerifier, .what = verify(kSteel, 900), .time_ms = v},
        {.what = approve(kSteel), .time_ms = v + 1},
        {.what = estimate(kSteel, 5'000),
         .time_ms = v + 2,
         .code = ErrorCode::kConflict,
         .message_part = "emissions are approved (obligation 900 t)"}}},
      {"no estimate when the rules do not allow it",
       {{.what = SetRules{kYear, no_estimates}},
        {.what = estimate(kSteel, 5'000),
         .time_ms = d + 1,
         .code = ErrorCode::kConflict,
         .message_part = "the rules for 2025 (version 1) do not allow setting emissions by estimate"}}},
      {"a zero estimate is refused",
       {{.what = estimate(kSteel, 0),
         .time_ms = d + 1,
         .code = ErrorCode::kInvalidArgument,
         .message_part = "estimated emissions must be at least 1 t"}}},
  };
}

TEST(ContractsMrv, TableOfScenarios) {
  for (const Scenario& scenario : scenarios()) {
    SCOPED_TRACE(scenario.name);
    TestChain chain;
    register_cast(chain);
    run_steps(chain, scenario.name, scenario.steps);
  }
}

TEST(ContractsMrv, ApprovalSetsTheObligationAndHistoryKeepsEveryStep) {
  TestChain chain;
  register_cast(chain);
  run_steps(chain, "full cycle with a correction",
            {{.what = assign(kSteel)},
             {.who = kSteel, .what = report(1'000, 1)},
             {.who = kVerifier, .what = verify(kSteel, 1'050, 400)},
             {.what = approve(kSteel)}});
  auto approved = record<EmissionRecord>(chain, keys::emission(kYear, pk(kSteel)));
  ASSERT_TRUE(approved.has_value());
  EXPECT_EQ(approved->status, MrvStatus::kApproved);
  EXPECT_EQ(approved->obligation_t, 1'050u);
  EXPECT_EQ(approved->approval_version, 1u);
  EXPECT_EQ(approved->approved_ms, chain.time_ms());
  EXPECT_EQ(approved->verified_production_units, 400u);

  // The correction: a new report version sends the record back to "reported"; the approved
  // obligation stands until the new verification is approved.
  run_steps(chain, "correction", {{.who = kSteel, .what = report(1'200, 2)}});
  auto corrected = record<EmissionRecord>(chain, keys::emission(kYear, pk(kSteel)));
  ASSERT_TRUE(corrected.has_value());
  EXPECT_EQ(corrected->status, MrvStatus::kReported);
  EXPECT_EQ(corrected->report_version, 2u);
  EXPECT_EQ(corrected->declared_t, 1'200u);
  EXPECT_EQ(corrected->report_hash, test_hash(2));
  EXPECT_EQ(corrected->obligation_t, 1'050u);
  EXPECT_EQ(corrected->approval_version, 1u);

  run_steps(chain, "re-verification and approval",
            {{.who = kVerifier, .what = verify(kSteel, 1'230, 410)}, {.what = approve(kSteel)}});
  auto final_record = record<EmissionRecord>(chain, keys::emission(kYear, pk(kSteel)));
  ASSERT_TRUE(final_record.has_value());
  EXPECT_EQ(final_record->obligation_t, 1'230u);
  EXPECT_EQ(final_record->approval_version, 2u);
  EXPECT_EQ(final_record->verification_version, 2u);
  EXPECT_EQ(final_record->status, MrvStatus::kApproved);
  EXPECT_EQ(final_record->next_event, 7u);

  struct Expected {
    MrvEventKind kind;
    std::uint32_t actor;
    std::uint32_t version;
    std::uint64_t figure_t;
  };
  const Expected expected[] = {
      {MrvEventKind::kVerifierAssigned, kVerifier, 0, 0},
      {MrvEventKind::kReport, kSteel, 1, 1'000},
      {MrvEventKind::kVerification, kVerifier, 1, 1'050},
      {MrvEventKind::kApproval, kAuthority, 1, 1'050},
      {MrvEventKind::kReport, kSteel, 2, 1'200},
      {MrvEventKind::kVerification, kVerifier, 2, 1'230},
      {MrvEventKind::kApproval, kAuthority, 2, 1'230},
  };
  for (std::uint32_t seq = 0; seq < std::size(expected); ++seq) {
    auto event = record<MrvEvent>(chain, keys::emission_event(kYear, pk(kSteel), seq));
    ASSERT_TRUE(event.has_value()) << "event " << seq;
    EXPECT_EQ(event->seq, seq);
    EXPECT_EQ(event->kind, expected[seq].kind) << "event " << seq;
    EXPECT_EQ(event->actor, pk(expected[seq].actor)) << "event " << seq;
    EXPECT_EQ(event->version, expected[seq].version) << "event " << seq;
    EXPECT_EQ(event->figure_t, expected[seq].figure_t) << "event " << seq;
  }
  EXPECT_FALSE(record<MrvEvent>(chain, keys::emission_event(kYear, pk(kSteel), 7)).has_value());
}

TEST(ContractsMrv, EstimateSetsTheObligation) {
  TestChain chain;
  register_cast(chain);
  run_steps(chain, "estimate",
            {{.what = estimate(kSteel, 5'000), .time_ms = report_deadline() + 1},
             {.what = estimate(kSteel, 5'500)}});
  auto estimated = record<EmissionRecord>(chain, keys::emission(kYear, pk(kSteel)));
  ASSERT_TRUE(estimated.has_value());
  EXPECT_EQ(estimated->status, MrvStatus::kEstimated);
  EXPECT_EQ(estimated->estimated, 1u);
  EXPECT_EQ(estimated->obligation_t, 5'500u);
  EXPECT_EQ(estimated->approval_version, 2u);
  EXPECT_EQ(estimated->report_version, 0u);
  auto first = record<MrvEvent>(chain, keys::emission_event(kYear, pk(kSteel), 0));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->kind, MrvEventKind::kEstimate);
  EXPECT_EQ(first->figure_t, 5'000u);
}

// Every MRV step is refused once the year is closed (CloseYear writes closed/<year>; here the
// record is put straight into a store, and the contracts are called directly).
TEST(ContractsMrv, ClosedYearRefusesEveryStep) {
  MemoryStateStore store;
  write_genesis(store, kTestChain, {pk(kAuthority)}, 1, "Hubei DRC");
  Ledger ledger(store);
  auto authority = ledger.account(pk(kAuthority));
  ASSERT_TRUE(authority.is_ok() && authority->has_value());
  const Context by_authority{1, report_deadline() - 1, **authority, {}, 0};
  ASSERT_TRUE(apply_act(ledger, by_authority,
                        RegisterParticipant{pk(kSteel), "Wuhan Steel", Role::kCoveredEnterprise}));
  ASSERT_TRUE(apply_act(ledger, by_authority,
                        RegisterParticipant{pk(kVerifier), "Hubei Verification Co", Role::kVerifier}));
  auto steel = ledger.account(pk(kSteel));
  auto verifier = ledger.account(pk(kVerifier));
  ASSERT_TRUE(steel.is_ok() && steel->has_value() && verifier.is_ok() && verifier->has_value());
  const Context by_steel{2, report_deadline() - 1, **steel, {}, 0};
  const Context by_verifier{2, report_deadline() - 1, **verifier, {}, 0};
  ASSERT_TRUE(apply_act(ledger, by_authority, AssignVerifier{pk(kSteel), kYear, pk(kVerifier)}));
  ASSERT_TRUE(apply_call(ledger, by_steel, SubmitReport{kYear, test_hash(1), 1'000}));
  ASSERT_TRUE(apply_call(ledger, by_verifier,
                         SubmitVerification{pk(kSteel), kYear, test_hash(2), 1'000, 0}));

  ledger.put(keys::year_closed(kYear), YearClosed{kYear, 3, report_deadline() - 1, 1, 0, 0});
  const Status results[] = {
      apply_call(ledger, by_steel, SubmitReport{kYear, test_hash(1), 1'000}),
      apply_call(ledger, by_verifier, SubmitVerification{pk(kSteel), kYear, test_hash(2), 1'000, 0}),
      apply_act(ledger, by_authority, ApproveEmissions{pk(kSteel), kYear}),
      apply_act(ledger, by_authority, AssignVerifier{pk(kSteel), kYear, pk(kVerifier)}),
      apply_act(ledger,
                Context{3, report_deadline() + 1, **authority, {}, 0, nullptr},
                EstimateEmissions{pk(kSteel), kYear, 5}),
  };
  for (const Status& status : results) {
    EXPECT_EQ(status.code(), ErrorCode::kConflict) << status.to_string();
    EXPECT_NE(status.message().find("year 2025 is closed"), std::string::npos) << status.to_string();
  }
  EXPECT_TRUE(check_invariants(store).is_ok());
}

}  // namespace
}  // namespace carbon::contracts
