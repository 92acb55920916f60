// Cap and allocation: the allocation function's rounding per method (pure, table-driven), then
// the acts in scenario tables (each step its own block, receipts and balances checked, ledger
// invariants after every block), the deduction carried from last year's close, and that the
// ledger issues exactly what compute_allocation says.
#include <gtest/gtest.h>

#include "contracts/allocation.h"
#include "contracts_scenario.h"

namespace carbon::contracts {
namespace {

using namespace testing;  // NOLINT: the scenario vocabulary

constexpr std::uint16_t kYear = 2025;
const ProductId kHbea = ProductId::allowance(kYear);

AllocationInputs grandfathering(std::uint64_t historical_t, std::uint32_t factor_ppm = 1'000'000) {
  AllocationInputs inputs;
  inputs.method = AllocationMethod::kGrandfathering;
  inputs.historical_emissions_t = historical_t;
  inputs.factor_ppm = factor_ppm;
  return inputs;
}
AllocationInputs intensity(std::uint64_t g_per_unit, std::uint64_t units, std::uint32_t factor_ppm) {
  AllocationInputs inputs;
  inputs.method = AllocationMethod::kHistoricalIntensity;
  inputs.intensity_g_per_unit = g_per_unit;
  inputs.base_production_units = units;
  inputs.factor_ppm = factor_ppm;
  return inputs;
}
AllocationInputs benchmark(std::uint64_t g_per_unit, std::uint64_t units) {
  AllocationInputs inputs;
  inputs.method = AllocationMethod::kBenchmark;
  inputs.benchmark_g_per_unit = g_per_unit;
  inputs.base_production_units = units;
  return inputs;
}

// ---- the pure function ----------------------------------------------------------------------

TEST(ContractsAllocation, ComputeRoundsDownToWholeTonnes) {
  constexpr std::uint64_t kMax = kMaxQuantityPerTx;
  const struct {
    const char* name;
    AllocationInputs inputs;
    std::uint64_t production;
    ErrorCode code;
    std::uint64_t expected_t;
  } cases[] = {
      {"grandfathering x 1.0", grandfathering(1'000), 0, ErrorCode::kOk, 1'000},
      {"grandfathering 999 t x 0.999999 = 998.999001 t", grandfathering(999, 999'999), 0,
       ErrorCode::kOk, 998},
      {"grandfathering 1 t x 0.5 = 0.5 t", grandfathering(1, 500'000), 0, ErrorCode::kOk, 0},
      {"grandfathering ignores production", grandfathering(1'000, 970'000), 123'456, ErrorCode::kOk,
       970},
      {"grandfathering exactly at the bound", grandfathering(kMax), 0, ErrorCode::kOk, kMax},
      {"grandfathering 1 t over the bound", grandfathering(kMax + 1), 0, ErrorCode::kOutOfBounds, 0},
      {"grandfathering with the largest factor", grandfathering(UINT64_MAX, kMaxFactorPpm), 0,
       ErrorCode::kOutOfBounds, 0},
      {"intensity 2,500,000 g x 1,001 x 0.97 = 2,427.425 t", intensity(2'500'000, 1'001, 970'000),
       1'001, ErrorCode::kOk, 2'427},
      {"intensity uses the production given, not the base", intensity(2'500'000, 1'001, 970'000),
       1'100, ErrorCode::kOk, 2'667},
      {"intensity just under 1 t", intensity(999'999, 1, 1'000'000), 1, ErrorCode::kOk, 0},
      {"intensity product beyond 128 bits", intensity(UINT64_MAX, 1, kMaxFactorPpm), UINT64_MAX,
       ErrorCode::kOutOfBounds, 0},
      {"benchmark 850,000 g x 1,001 = 850.85 t", benchmark(850'000, 1'001), 1'001, ErrorCode::kOk,
       850},
      {"benchmark 999,999 g x 1 = 0.999999 t", benchmark(999'999, 1), 1, ErrorCode::kOk, 0},
      {"benchmark with zero verified production", benchmark(850'000, 1'001), 0, ErrorCode::kOk, 0},
      {"benchmark far beyond the bound", benchmark(UINT64_MAX, 1), UINT64_MAX,
       ErrorCode::kOutOfBounds, 0},
  };
  for (const auto& c : cases) {
    auto result = compute_allocation(c.inputs, c.production);
    EXPECT_EQ(result.status().code(), c.code) << c.name << ": " << result.status().to_string();
    if (c.code == ErrorCode::kOk && result.is_ok()) {
      EXPECT_EQ(*result, c.expected_t) << c.name;
    }
  }
}

TEST(ContractsAllocation, ShareInBasisPointsRoundsDown) {
  const struct {
    std::uint64_t amount;
    std::uint32_t bp;
    std::uint64_t expected;
  } cases[] = {
      {850, 5'000, 425},        {2'427, 5'000, 1'213}, {1, 5'000, 0},
      {1'000, 10'000, 1'000},   {1'000, 0, 0},         {UINT64_MAX, 10'000, UINT64_MAX},
      {UINT64_MAX, 20'000, UINT64_MAX},  // saturates
  };
  for (const auto& c : cases) {
    EXPECT_EQ(share_bp(c.amount, c.bp), c.expected) << c.amount << " x " << c.bp << " bp";
  }
}

TEST(ContractsAllocation, InputsAreValidatedPerMethod) {
  const struct {
    const char* name;
    AllocationInputs inputs;
    const char* error_part;  // nullptr: valid
  } cases[] = {
      {"grandfathering ok", grandfathering(1'000), nullptr},
      {"grandfathering factor 0", grandfathering(1'000, 0), "factor_ppm 0 must be 1..10,000,000"},
      {"grandfathering factor 10.0", grandfathering(1'000, 10'000'000), nullptr},
      {"grandfathering factor above 10.0", grandfathering(1'000, 10'000'001), "factor_ppm"},
      {"grandfathering without history", grandfathering(0), "historical_emissions_t"},
      {"intensity ok", intensity(1, 1, 1), nullptr},
      {"intensity factor 0", intensity(1, 1, 0), "factor_ppm"},
      {"intensity without intensity", intensity(0, 1, 1'000'000), "intensity_g_per_unit"},
      {"intensity without production", intensity(1, 0, 1'000'000), "base_production_units"},
      {"benchmark ok, factor unused", [] {
         AllocationInputs inputs = benchmark(1, 1);
         inputs.factor_ppm = 0;
         return inputs;
       }(), nullptr},
      {"benchmark without benchmark", benchmark(0, 1), "benchmark_g_per_unit"},
      {"benchmark without production", benchmark(1, 0), "base_production_units"},
  };
  for (const auto& c : cases) {
    const Status status = validate_allocation_inputs(c.inputs);
    if (c.error_part == nullptr) {
      EXPECT_TRUE(status.is_ok()) << c.name << ": " << status.to_string();
    } else {
      EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument) << c.name;
      EXPECT_NE(status.message().find(c.error_part), std::string::npos) << c.name << ": " << status.to_string();
    }
  }
}

// ---- the acts -------------------------------------------------------------------------------

AuthorityAct cap(std::uint64_t cap_t, std::uint64_t reserve_t, std::uint64_t auction_t = 0) {
  return SetCap{kYear, cap_t, reserve_t, auction_t};
}
AuthorityAct allocate(std::uint32_t enterprise, const AllocationInputs& inputs) {
  return SetAllocation{pk(enterprise), kYear, inputs};
}
AuthorityAct pre_allocate(std::uint32_t enterprise) { return IssuePreAllocation{pk(enterprise), kYear}; }
AuthorityAct true_up(std::uint32_t enterprise) { return TrueUpAllocation{pk(enterprise), kYear}; }
AuthorityAct adjust(std::uint32_t enterprise) { return AdjustAllocation{pk(enterprise), kYear}; }

// Assign the verifier, report, verify (figure and production) and, if asked, approve.
std::vector<Step> mrv(std::uint32_t enterprise, std::uint64_t verified_t, std::uint64_t production,
                      bool approve) {
  std::vector<Step> steps = {
      {.what = AssignVerifier{pk(enterprise), kYear, pk(kVerifier)}},
      {.who = enterprise, .what = Call{SubmitReport{kYear, test_hash(1), verified_t}}},
      {.who = kVerifier,
       .what = Call{SubmitVerification{pk(enterprise), kYear, test_hash(2), verified_t, production}}},
  };
  if (approve) steps.push_back({.what = ApproveEmissions{pk(enterprise), kYear}});
  return steps;
}

std::vector<Step> concat(std::initializer_list<std::vector<Step>> parts) {
  std::vector<Step> out;
  for (const auto& part : parts) out.insert(out.end(), part.begin(), part.end());
  return out;
}

struct Expect {
  std::uint64_t steel_balance_t = 0;
  std::uint64_t free_issued_t = 0;
  std::uint64_t reserve_issued_t = 0;
  std::uint64_t withdrawn_t = 0;
};

struct Scenario {
  const char* name;
  std::vector<Step> steps;
  std::optional<Expect> expect = std::nullopt;  // checked after the last step
};

// A grandfathered allocation of allocation_t, pre-allocated, trued up, emissions approved at
// obligation_t, then the ex-post adjustment with the default thresholds (20% or 200,000 t).
std::vector<Step> adjustment(std::uint64_t allocation_t, std::uint64_t obligation_t,
                             std::uint64_t reserve_t, ErrorCode code, std::string message_part) {
  return concat({{{.what = cap(allocation_t * 3, reserve_t)},
                  {.what = allocate(kSteel, grandfathering(allocation_t))},
                  {.what = pre_allocate(kSteel)}},
                 mrv(kSteel, obligation_t, 0, true),
                 {{.what = true_up(kSteel)},
                  {.what = adjust(kSteel), .code = code, .message_part = std::move(message_part)}}});
}

std::vector<Scenario> scenarios() {
  RuleSet pre_60 = default_rules(kYear);
  pre_60.pre_allocation_bp = 6'000;
  return {
      // -- caps
      {"a cap of 0 t is refused",
       {{.what = cap(0, 0), .code = ErrorCode::kInvalidArgument, .message_part = "at least 1 t"}}},
      {"reserve plus auction above the cap is refused",
       {{.what = cap(1'000, 800, 201),
         .code = ErrorCode::kInvalidArgument,
         .message_part = "reserve 800 t plus auction 201 t exceed the cap of 1,000 t"}}},
      {"reserve plus auction overflowing is refused",
       {{.what = cap(1'000, UINT64_MAX, 1), .code = ErrorCode::kInvalidArgument}}},
      {"a revised cap may not go below what was issued",
       {{.what = cap(10'000, 800, 200)},
        {.what = allocate(kSteel, grandfathering(10'000))},
        {.what = pre_allocate(kSteel)},
        {.what = cap(6'000, 800, 200)},  // free 5,000: exactly what was issued
        {.what = cap(5'999, 800, 200),
         .code = ErrorCode::kConflict,
         .message_part = "the new free part 4,999 t is below the 5,000 t already issued"}},
       Expect{5'000, 5'000, 0, 0}},
      // -- allocation inputs
      {"an allocation needs a cap",
       {{.what = allocate(kSteel, grandfathering(1'000)),
         .code = ErrorCode::kNotFound,
         .message_part = "no cap is set for 2025; set the cap first"}}},
      {"only covered enterprises get free allocation",
       {{.what = cap(10'000, 800)},
        {.what = allocate(kPaper, grandfathering(1'000)),
         .code = ErrorCode::kUnauthorized,
         .message_part = "Jingzhou Paper is a reporting_enterprise; only a covered_enterprise may "
                         "receive free allocation"}}},
      {"invalid inputs are refused",
       {{.what = cap(10'000, 800)},
        {.what = allocate(kSteel, grandfathering(1'000, 0)),
         .code = ErrorCode::kInvalidArgument,
         .message_part = "factor_ppm"}}},
      {"an allocation out of bounds is refused",
       {{.what = cap(10'000, 800)},
        {.what = allocate(kSteel, benchmark(UINT64_MAX, UINT64_MAX)),
         .code = ErrorCode::kOutOfBounds,
         .message_part = "benchmark allocation of more than"}}},
      {"inputs may change until the pre-allocation, not after",
       {{.what = cap(10'000, 800)},
        {.what = allocate(kSteel, grandfathering(1'000))},
        {.what = allocate(kSteel, grandfathering(2'000))},
        {.what = pre_allocate(kSteel)},
        {.what = allocate(kSteel, grandfathering(3'000)),
         .code = ErrorCode::kConflict,
         .message_part = "the pre-allocation of Wuhan Steel for 2025 was issued (1,000 t)"}},
       Expect{1'000, 1'000, 0, 0}},
      // -- pre-allocation
      {"pre-allocation 50% of a benchmark allocation rounded down (850.85 t -> 850 t -> 425 t)",
       {{.what = cap(10'000, 800)},
        {.what = allocate(kSteel, benchmark(850'000, 1'001))},
        {.what = pre_allocate(kSteel)}},
       Expect{425, 425, 0, 0}},
      {"pre-allocation by the share in force (60%)",
       {{.what = SetRules{kYear, pre_60}},
        {.what = cap(10'000, 800)},
        {.what = allocate(kSteel, grandfathering(1'001))},
        {.what = pre_allocate(kSteel)}},
       Expect{600, 600, 0, 0}},
      {"pre-allocation without inputs is refused",
       {{.what = cap(10'000, 800)},
        {.what = pre_allocate(kSteel),
         .code = ErrorCode::kNotFound,
         .message_part = "no allocation inputs for Wuhan Steel in 2025; set the allocation first"}}},
      {"pre-allocation twice is refused",
       {{.what = cap(10'000, 800)},
        {.what = allocate(kSteel, grandfathering(1'000))},
        {.what = pre_allocate(kSteel)},
        {.what = pre_allocate(kSteel),
         .code = ErrorCode::kConflict,
         .message_part = "was already issued (500 t)"}},
       Expect{500, 500, 0, 0}},
      {"allocation above the cap's free part is refused",
       {{.what = cap(2'000, 800)},
        {.what = allocate(kSteel, grandfathering(10'000))},
        {.what = pre_allocate(kSteel),
         .code = ErrorCode::kConflict,
         .message_part = "allocation exceeds what the cap leaves: 1,200 t free, 5,000 t needed"}},
       Expect{0, 0, 0, 0}},
      {"the free part is shared between enterprises",
       {{.what = cap(2'000, 800)},
        {.what = allocate(kCement, grandfathering(2'000))},
        {.what = pre_allocate(kCement)},
        {.what = allocate(kSteel, grandfathering(1'000))},
        {.what = pre_allocate(kSteel),
         .code = ErrorCode::kConflict,
         .message_part = "200 t free, 500 t needed"}},
       Expect{0, 1'000, 0, 0}},
      // -- true-up
      {"true-up before verification is refused",
       {{.what = cap(10'000, 800)},
        {.what = allocate(kSteel, benchmark(850'000, 1'001))},
        {.what = pre_allocate(kSteel)},
        {.who = kSteel, .what = Call{SubmitReport{kYear, test_hash(1), 900}}},
        {.what = true_up(kSteel),
         .code = ErrorCode::kConflict,
         .message_part = "the verified production of Wuhan Steel for 2025 is not known yet"}}},
      {"true-up before pre-allocation is refused",
       concat({{{.what = cap(10'000, 800)}, {.what = allocate(kSteel, benchmark(850'000, 1'001))}},
               mrv(kSteel, 900, 2'000, false),
               {{.what = true_up(kSteel),
                 .code = ErrorCode::kConflict,
                 .message_part = "issue the pre-allocation of Wuhan Steel for 2025 before the true-up"}}})},
      {"true-up issues the rest (benchmark, verified production 2,000 units: 1,700 t)",
       concat({{{.what = cap(10'000, 800)},
                {.what = allocate(kSteel, benchmark(850'000, 1'001))},
                {.what = pre_allocate(kSteel)}},
               mrv(kSteel, 1'800, 2'000, true),
               {{.what = true_up(kSteel)},
                {.what = true_up(kSteel),
                 .code = ErrorCode::kConflict,
                 .message_part = "was already trued up (final 1,700 t)"}}}),
       Expect{1'700, 1'700, 0, 0}},
      {"true-up withdraws the excess (verified production 400 units: 340 t)",
       concat({{{.what = cap(10'000, 800)},
                {.what = allocate(kSteel, benchmark(850'000, 1'001))},
                {.what = pre_allocate(kSteel)}},
               mrv(kSteel, 300, 400, true),
               {{.what = true_up(kSteel)}}}),
       Expect{340, 425, 0, 85}},
      {"true-up withdrawal from an enterprise that sold its units is refused",
       concat({{{.what = cap(10'000, 800)},
                {.what = allocate(kSteel, benchmark(850'000, 1'001))},
                {.what = pre_allocate(kSteel)},
                {.who = kSteel, .what = Call{TransferUnits{pk(kCement), kHbea, 400}}}},
               mrv(kSteel, 300, 400, true),
               {{.what = true_up(kSteel),
                 .code = ErrorCode::kConflict,
                 .message_part = "the true-up withdraws 85 t of HBEA-2025 from Wuhan Steel, which "
                                 "holds only 25 t; it must get back 60 t of HBEA-2025 first"}}}),
       Expect{25, 425, 0, 0}},
      {"true-up within the cap's free part only",
       concat({{{.what = cap(1'800, 800)},
                {.what = allocate(kSteel, benchmark(850'000, 1'001))},
                {.what = pre_allocate(kSteel)}},
               mrv(kSteel, 1'800, 2'000, true),
               {{.what = true_up(kSteel),
                 .code = ErrorCode::kConflict,
                 .message_part = "allocation exceeds what the cap leaves: 575 t free, 1,275 t needed"}}}),
       Expect{425, 425, 0, 0}},
      {"grandfathering trues up to the initial allocation whatever the production",
       concat({{{.what = cap(10'000, 800)},
                {.what = allocate(kSteel, grandfathering(999, 999'999))},
                {.what = pre_allocate(kSteel)}},
               mrv(kSteel, 900, 5, true),
               {{.what = true_up(kSteel)}}}),
       Expect{998, 998, 0, 0}},
      // -- ex-post adjustment (default thresholds: more than 20% or more than 200,000 t)
      {"adjustment before the true-up is refused",
       concat({{{.what = cap(10'000, 800)},
                {.what = allocate(kSteel, grandfathering(1'000))},
                {.what = pre_allocate(kSteel)}},
               mrv(kSteel, 5'000, 0, true),
               {{.what = adjust(kSteel),
                 .code = ErrorCode::kConflict,
                 .message_part = "true up the allocation of Wuhan Steel for 2025 before the ex-post "
                                 "adjustment"}}})},
      {"true-up (and so the adjustment) without approved emissions is refused",
       concat({{{.what = cap(10'000, 800)},
                {.what = allocate(kSteel, grandfathering(1'000))},
                {.what = pre_allocate(kSteel)}},
               mrv(kSteel, 5'000, 0, false),
               {{.what = true_up(kSteel),
                 .code = ErrorCode::kConflict,
                 .message_part = "the verified figures of Wuhan Steel for 2025 are not approved yet"},
                {.what = adjust(kSteel),
                 .code = ErrorCode::kConflict,
                 .message_part = "true up the allocation of Wuhan Steel for 2025 before"}}})},
      {"adjustment: 2.5% and 3,000 t do not trigger",
       adjustment(120'000, 123'000, 10'000, ErrorCode::kConflict,
                  "no adjustment: emissions differ from allocation by 3,000 t (2.5%), thresholds "
                  "20% or 200,000 t"),
       Expect{120'000, 120'000, 0, 0}},
      {"adjustment: exactly 20% and exactly 200,000 t above do not trigger",
       adjustment(1'000'000, 1'200'000, 300'000, ErrorCode::kConflict,
                  "differ from allocation by 200,000 t (20%), thresholds 20% or 200,000 t"),
       Expect{1'000'000, 1'000'000, 0, 0}},
      {"adjustment: 1 t over both thresholds issues the whole difference from the reserve",
       adjustment(1'000'000, 1'200'001, 300'000, ErrorCode::kOk, ""),
       Expect{1'200'001, 1'000'000, 200'001, 0}},
      {"adjustment: exactly 20% below does not trigger",
       adjustment(1'000'000, 800'000, 300'000, ErrorCode::kConflict, "by 200,000 t (20%)"),
       Expect{1'000'000, 1'000'000, 0, 0}},
      {"adjustment: 1 t more below withdraws the whole difference",
       adjustment(1'000'000, 799'999, 300'000, ErrorCode::kOk, ""),
       Expect{799'999, 1'000'000, 0, 200'001}},
      {"adjustment: 1 t over 20% of a small allocation triggers",
       adjustment(1'000, 1'201, 300, ErrorCode::kOk, ""), Expect{1'201, 1'000, 201, 0}},
      {"adjustment: 200,001 t (10%) triggers on tonnes alone",
       adjustment(2'000'000, 2'200'001, 300'000, ErrorCode::kOk, ""),
       Expect{2'200'001, 2'000'000, 200'001, 0}},
      {"adjustment: a reserve too small is refused",
       adjustment(1'000'000, 1'300'001, 300'000, ErrorCode::kConflict,
                  "the government reserve for 2025 leaves 300,000 t, the adjustment of Wuhan Steel "
                  "needs 300,001 t"),
       Expect{1'000'000, 1'000'000, 0, 0}},
      {"adjustment only once",
       concat({adjustment(1'000, 1'500, 1'000, ErrorCode::kOk, ""),
               {{.what = adjust(kSteel),
                 .code = ErrorCode::kConflict,
                 .message_part = "the allocation of Wuhan Steel for 2025 was already adjusted"}}}),
       Expect{1'500, 1'000, 500, 0}},
  };
}

TEST(ContractsAllocation, TableOfScenarios) {
  for (const Scenario& scenario : scenarios()) {
    SCOPED_TRACE(scenario.name);
    TestChain chain;
    register_cast(chain);
    run_steps(chain, scenario.name, scenario.steps);
    if (!scenario.expect) continue;
    EXPECT_EQ(chain.balance(test_key(kSteel), kYear), scenario.expect->steel_balance_t);
    auto cap_record = record<CapRecord>(chain, keys::cap(kYear));
    ASSERT_TRUE(cap_record.has_value());
    EXPECT_EQ(cap_record->free_issued_t, scenario.expect->free_issued_t);
    EXPECT_EQ(cap_record->reserve_issued_t, scenario.expect->reserve_issued_t);
    EXPECT_EQ(cap_record->withdrawn_t, scenario.expect->withdrawn_t);
  }
}

// The ledger issues, for each method, exactly what the public allocation function computes:
// the initial allocation from the base production, the final one from the verified production.
TEST(ContractsAllocation, LedgerIssuesWhatComputeAllocationSays) {
  const struct {
    const char* name;
    AllocationInputs inputs;
    std::uint64_t verified_production;
  } cases[] = {
      {"grandfathering", grandfathering(12'345, 987'654), 777},
      {"historical intensity, production up", intensity(2'500'000, 1'001, 970'000), 1'100},
      {"historical intensity, production down", intensity(2'500'000, 1'001, 970'000), 333},
      {"benchmark, production up", benchmark(850'000, 1'001), 2'003},
      {"benchmark, production down", benchmark(850'000, 1'001), 401},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    TestChain chain;
    register_cast(chain);
    const std::uint64_t production =
        c.inputs.method == AllocationMethod::kGrandfathering ? c.inputs.base_production_units
                                                             : c.verified_production;
    auto initial = compute_allocation(c.inputs, c.inputs.base_production_units);
    auto final_t = compute_allocation(c.inputs, production);
    ASSERT_TRUE(initial.is_ok() && final_t.is_ok());
    run_steps(chain, c.name,
              concat({{{.what = cap(100'000, 8'000)},
                       {.what = allocate(kSteel, c.inputs)},
                       {.what = pre_allocate(kSteel)}},
                      mrv(kSteel, 1'000, c.verified_production, true)}));
    EXPECT_EQ(chain.balance(test_key(kSteel), kYear), share_bp(*initial, 5'000));
    run_steps(chain, c.name, {{.what = true_up(kSteel)}});
    EXPECT_EQ(chain.balance(test_key(kSteel), kYear), *final_t);
    auto allocation = record<AllocationRecord>(chain, keys::allocation(kYear, pk(kSteel)));
    ASSERT_TRUE(allocation.has_value());
    EXPECT_EQ(allocation->initial_t, *initial);
    EXPECT_EQ(allocation->final_t, *final_t);
    EXPECT_EQ(allocation->issued_t - allocation->withdrawn_t, *final_t);
    EXPECT_EQ(allocation->trued_up, 1u);
    // Issued as pre-allocation first, the rest as a true-up batch.
    auto first = record<IssuanceRecord>(chain, keys::issuance(kHbea, 1));
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(first->kind, IssuanceKind::kPreAllocation);
    EXPECT_EQ(first->range.size(), share_bp(*initial, 5'000));
  }
}

// A ledger on a plain store, driven by calling the contracts directly as the authority (for
// states the chain cannot reach in a few blocks, such as a closed year or a carried deduction):
// Wuhan Steel registered and a 2025 cap of 10,000 t with 800 t in reserve.
struct DirectLedger {
  MemoryStateStore store;
  Ledger ledger{store};
  Context ctx;
  DirectLedger() {
    write_genesis(store, kTestChain, {pk(kAuthority)}, 1, "Hubei DRC");
    auto authority = ledger.account(pk(kAuthority));
    EXPECT_TRUE(authority.is_ok() && authority->has_value());
    ctx = Context{1, 1'700'000'000'000ULL,
                  authority.is_ok() && authority->has_value() ? **authority : Account{}, {}, 0,
                  nullptr};
    EXPECT_TRUE(apply_act(ledger, ctx,
                          RegisterParticipant{pk(kSteel), "Wuhan Steel", Role::kCoveredEnterprise}));
    EXPECT_TRUE(apply_act(ledger, ctx, SetCap{kYear, 10'000, 800, 0}));
  }
};

// Last year's deduction (written by CloseYear into alloc/<Y>/<ent> before any inputs) comes off
// the pre-allocation first and the rest off the final allocation. CloseYear is another
// module, so the record is put straight into a store and the acts are called directly.
TEST(ContractsAllocation, DeductionFromLastYearComesOffTheAllocation) {
  const struct {
    const char* name;
    std::uint64_t deduction_t;
    std::uint64_t pre_issued_t;  // 50% of 1,000 t, less the deduction
    std::uint64_t final_balance_t;
  } cases[] = {
      {"deduction absorbed by the pre-allocation", 200, 300, 800},
      {"deduction larger than the pre-allocation", 600, 0, 400},
      {"deduction larger than the whole allocation", 1'500, 0, 0},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.name);
    DirectLedger direct;
    MemoryStateStore& store = direct.store;
    Ledger& ledger = direct.ledger;
    const Context& ctx = direct.ctx;
    AllocationRecord carried;
    carried.enterprise = pk(kSteel);
    carried.year = kYear;
    carried.deduction_t = c.deduction_t;
    ledger.put(keys::allocation(kYear, pk(kSteel)), carried);

    // Only a deduction: no inputs yet.
    const Status early = apply_act(ledger, ctx, IssuePreAllocation{pk(kSteel), kYear});
    EXPECT_EQ(early.code(), ErrorCode::kNotFound) << early.to_string();

    ASSERT_TRUE(apply_act(ledger, ctx, SetAllocation{pk(kSteel), kYear, grandfathering(1'000)}));
    ASSERT_TRUE(apply_act(ledger, ctx, IssuePreAllocation{pk(kSteel), kYear}));
    auto after_pre = ledger.get<AllocationRecord>(keys::allocation(kYear, pk(kSteel)));
    ASSERT_TRUE(after_pre.is_ok() && after_pre->has_value());
    EXPECT_EQ((*after_pre)->deduction_t, c.deduction_t);
    EXPECT_EQ((*after_pre)->initial_t, 1'000u);
    EXPECT_EQ((*after_pre)->pre_issued_t, c.pre_issued_t);
    EXPECT_EQ((*after_pre)->pre_allocated, 1u);
    EXPECT_EQ(*ledger.balance(pk(kSteel), kHbea), c.pre_issued_t);
    // Even when it issued nothing, the pre-allocation happened once.
    EXPECT_EQ(apply_act(ledger, ctx, IssuePreAllocation{pk(kSteel), kYear}).code(), ErrorCode::kConflict);
    EXPECT_EQ(apply_act(ledger, ctx, SetAllocation{pk(kSteel), kYear, grandfathering(2'000)}).code(),
              ErrorCode::kConflict);

    EmissionRecord verified;
    verified.enterprise = pk(kSteel);
    verified.year = kYear;
    verified.status = MrvStatus::kApproved;  // the true-up takes approved figures only
    verified.approval_version = 1;
    verified.report_version = 1;
    verified.verification_version = 1;
    verified.verified_t = 1'000;
    ledger.put(keys::emission(kYear, pk(kSteel)), verified);
    ASSERT_TRUE(apply_act(ledger, ctx, TrueUpAllocation{pk(kSteel), kYear}));
    EXPECT_EQ(*ledger.balance(pk(kSteel), kHbea), c.final_balance_t);
    const Status invariants = check_invariants(store);
    EXPECT_TRUE(invariants.is_ok()) << invariants.to_string();
  }
}

// Every allocation act is refused once the year is closed.
TEST(ContractsAllocation, ClosedYearRefusesEveryAct) {
  DirectLedger direct;
  Ledger& ledger = direct.ledger;
  const Context& ctx = direct.ctx;
  ASSERT_TRUE(apply_act(ledger, ctx, SetAllocation{pk(kSteel), kYear, grandfathering(1'000)}));
  ledger.put(keys::year_closed(kYear), YearClosed{kYear, 2, ctx.time_ms, 1, 0, 0});
  const Status results[] = {
      apply_act(ledger, ctx, SetCap{kYear, 10'000, 800, 0}),
      apply_act(ledger, ctx, SetAllocation{pk(kSteel), kYear, grandfathering(1'000)}),
      apply_act(ledger, ctx, IssuePreAllocation{pk(kSteel), kYear}),
      apply_act(ledger, ctx, TrueUpAllocation{pk(kSteel), kYear}),
      apply_act(ledger, ctx, AdjustAllocation{pk(kSteel), kYear}),
  };
  for (const Status& status : results) {
    EXPECT_EQ(status.code(), ErrorCode::kConflict) << status.to_string();
    EXPECT_NE(status.message().find("year 2025 is closed"), std::string::npos) << status.to_string();
  }
}

}  // namespace
}  // namespace carbon::contracts
