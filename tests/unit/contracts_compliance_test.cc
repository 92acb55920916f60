// Compliance: surrender (offset limit, eligibility, vintages, the inclusive deadline, frozen
// accounts, the obligation), the read side of contracts/compliance.h, and CloseYear (deadline,
// missing obligations, penalty with its cap, deduction into next year's allocation, untraded
// and no-banking cancellations). Table-driven where the setup is shared. The harness checks
// the ledger invariants (issued = held + surrendered + cancelled) after every block.
//
// The MRV and allocation modules are not exercised here: their records (EmissionRecord,
// AllocationRecord) are written straight into the store.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "contracts/compliance.h"
#include "contracts/ledger_internal.h"  // keys and typed reads of the registry records
#include "contracts_harness.h"

namespace carbon::contracts {
namespace {

using testing::test_key;
using testing::TestChain;

constexpr std::uint16_t kYear = 2025;
const std::uint64_t kDeadlineMs = default_rules(kYear).surrender_deadline_ms;

ProductId ccer(std::uint64_t project_id, std::uint16_t vintage) {
  return ProductId{ProductKind::kCcer, vintage, project_id};
}
const ProductId kHb2024 = ccer(1, 2024);      // HB renewable: eligible by default
const ProductId kGd2024 = ccer(2, 2024);      // GD: outside the allowed provinces
const ProductId kForest2024 = ccer(3, 2024);  // HB forestry carbon sink
const ProductId kHbea2024 = ProductId::allowance(2024);
const ProductId kHbea2025 = ProductId::allowance(2025);
const ProductId kHbea2026 = ProductId::allowance(2026);

// Test-only: writes a record of another module straight into the executor's store. The
// executor's Merkle tree does not see it; no test here reads the state root.
template <class T>
void put_record(TestChain& chain, const std::string& key, const T& record) {
  auto& store = const_cast<StateStore&>(chain.executor().state());
  store.put(key, core::codec::encode(record));
}

template <class T>
std::optional<T> read_record(TestChain& chain, const std::string& key) {
  auto stored = Ledger(chain.executor().state()).get<T>(key);
  EXPECT_TRUE(stored.is_ok()) << stored.status().to_string();
  return stored.is_ok() ? *stored : std::nullopt;
}

void set_obligation(TestChain& chain, const core::SecretKey& enterprise,
                    std::uint64_t obligation_t) {
  EmissionRecord record;
  record.enterprise = enterprise.public_key();
  record.year = kYear;
  record.status = MrvStatus::kApproved;
  record.approval_version = 1;
  record.obligation_t = obligation_t;
  put_record(chain, keys::emission(kYear, enterprise.public_key()), record);
}

void set_initial_allocation(TestChain& chain, const core::SecretKey& enterprise,
                            std::uint64_t initial_t) {
  AllocationRecord record;
  record.enterprise = enterprise.public_key();
  record.year = kYear;
  record.initial_t = initial_t;
  put_record(chain, keys::allocation(kYear, enterprise.public_key()), record);
}

Hash256 verification_hash() {
  Hash256 hash;
  hash.bytes[31] = 1;
  return hash;
}

// The world of the compliance tests:
//   Wuhan Steel (covered): obligation 150,000 t for 2025, initial allocation 124,000 t (offset
//     limit 12,400 t at the default 10%); holds 200,000 t HBEA-2025, 1,000 t HBEA-2024,
//     1,000 t HBEA-2026, 20,000 t CCER-1-2024 (HB), 1,000 t CCER-2-2024 (GD), 1,000 t
//     CCER-3-2024 (HB forestry).
//   Huangshi Cement (covered): no allocation, no obligation.
//   the project owner, and the reserve (holds 5,000 t HBEA-2025).
struct World {
  TestChain chain;
  core::SecretKey steel = test_key(21);
  core::SecretKey cement = test_key(22);
  core::SecretKey owner = test_key(23);
  core::SecretKey reserve = test_key(24);

  World() {
    EXPECT_TRUE(chain.register_participant(steel, Role::kCoveredEnterprise, "Wuhan Steel").ok());
    EXPECT_TRUE(
        chain.register_participant(cement, Role::kCoveredEnterprise, "Huangshi Cement").ok());
    EXPECT_TRUE(chain.register_participant(owner, Role::kProjectOwner, "Hubei Green").ok());
    EXPECT_TRUE(chain.register_participant(reserve, Role::kReserve, "Hubei Carbon Reserve").ok());
    EXPECT_TRUE(chain.issue(steel, 2025, 200'000).ok());
    EXPECT_TRUE(chain.issue(steel, 2024, 1'000).ok());
    EXPECT_TRUE(chain.issue(steel, 2026, 1'000).ok());
    EXPECT_TRUE(chain.issue(reserve, 2025, 5'000).ok());
    add_project("Suizhou Wind", ProjectType::kRenewableEnergy, "HB", 20'000);
    add_project("Shaoguan Hydro", ProjectType::kRenewableEnergy, "GD", 1'000);
    add_project("Xianning Forest", ProjectType::kForestryCarbonSink, "HB", 1'000);
    set_obligation(chain, steel, 150'000);
    set_initial_allocation(chain, steel, 124'000);
  }

  void add_project(const std::string& name, ProjectType type, const std::string& province,
                   std::uint64_t quantity_t) {
    EXPECT_TRUE(
        chain.call(owner, RegisterProject{name, "CM-001", type, province, 2020, 2030}).ok());
    auto set = read_record<OfficerSet>(chain, std::string(keys::kOfficers));
    const std::uint64_t id = set->next_project_id - 1;
    EXPECT_TRUE(chain.call(chain.authority(), ApproveProject{id}).ok());
    EXPECT_TRUE(
        chain.call(chain.authority(), IssueCcer{id, 2024, quantity_t, verification_hash()}).ok());
    EXPECT_TRUE(
        chain.call(owner, TransferUnits{steel.public_key(), ccer(id, 2024), quantity_t}).ok());
  }

  Receipt surrender(const core::SecretKey& who, const ProductId& product,
                    std::uint64_t quantity_t) {
    return chain.call(who, Surrender{kYear, product, quantity_t});
  }
  Receipt set_rules(const std::function<void(RuleSet&)>& edit) {
    RuleSet rules = default_rules(kYear);
    edit(rules);
    return chain.call(chain.authority(), SetRules{kYear, rules});
  }
  Receipt close() { return chain.call(chain.authority(), CloseYear{kYear}); }
  std::uint64_t held(const core::SecretKey& who, const ProductId& product) {
    auto quantity = chain.executor().balance(who.public_key(), product);
    EXPECT_TRUE(quantity.is_ok());
    return quantity.is_ok() ? *quantity : 0;
  }
  std::optional<ComplianceRow> row(const core::SecretKey& who) {
    return read_record<ComplianceRow>(chain, keys::compliance_row(kYear, who.public_key()));
  }
  ProductState product(const ProductId& id) {
    auto state = Ledger(chain.executor().state()).product(id);
    EXPECT_TRUE(state.is_ok() && state->has_value());
    return (state.is_ok() && state->has_value()) ? **state : ProductState{};
  }
};

// ---- surrender ------------------------------------------------------------------------------

struct SurrenderCase {
  const char* name;
  std::function<void(World&)> prepare;
  std::function<Receipt(World&)> run;
  ErrorCode code;  // kOk: accepted
  const char* message_part;
};

std::vector<SurrenderCase> surrender_cases() {
  const auto nothing = [](World&) {};
  const auto steel_gives = [](ProductId product, std::uint64_t quantity_t) {
    return [product, quantity_t](World& w) { return w.surrender(w.steel, product, quantity_t); };
  };
  return {
      {"allowances of the year", nothing, steel_gives(kHbea2025, 100'000), ErrorCode::kOk, ""},
      {"allowances of an earlier vintage", nothing, steel_gives(kHbea2024, 1'000), ErrorCode::kOk,
       ""},
      {"allowances of a later vintage", nothing, steel_gives(kHbea2026, 1), ErrorCode::kConflict,
       "allowances of vintage 2026 cannot be surrendered for 2025"},
      {"offsets exactly at the limit", nothing, steel_gives(kHb2024, 12'400), ErrorCode::kOk, ""},
      {"offsets 1 t over the limit", nothing, steel_gives(kHb2024, 12'401), ErrorCode::kConflict,
       "offset limit exceeded: 12,400 t eligible, 12,401 t given"},
      {"offsets over what is left of the limit",
       [](World& w) { EXPECT_TRUE(w.surrender(w.steel, kHb2024, 10'000).ok()); },
       steel_gives(kHb2024, 2'401), ErrorCode::kConflict,
       "offset limit exceeded: 2,400 t eligible, 2,401 t given"},
      {"offsets exactly what is left of the limit",
       [](World& w) { EXPECT_TRUE(w.surrender(w.steel, kHb2024, 10'000).ok()); },
       steel_gives(kHb2024, 2'400), ErrorCode::kOk, ""},
      {"offsets with no allocation record",
       [](World& w) { set_obligation(w.chain, w.cement, 100); },
       [](World& w) {
         EXPECT_TRUE(w.chain.call(w.steel, TransferUnits{w.cement.public_key(), kHb2024, 10}).ok());
         return w.surrender(w.cement, kHb2024, 1);
       },
       ErrorCode::kConflict, "offset limit exceeded: 0 t eligible, 1 t given"},
      {"CCERs from another province", nothing, steel_gives(kGd2024, 1), ErrorCode::kConflict,
       "CCER-2-2024: project in province GD, allowed: HB"},
      {"CCERs of a type not accepted",
       [](World& w) {
         EXPECT_TRUE(w.set_rules([](RuleSet& r) {
                        r.offset_types_mask =
                            kAllProjectTypes & ~project_type_bit(ProjectType::kForestryCarbonSink);
                      }).ok());
       },
       steel_gives(kForest2024, 1), ErrorCode::kConflict,
       "CCER-3-2024: project type forestry_carbon_sink is not accepted"},
      {"CCERs of a vintage before the minimum",
       [](World& w) {
         EXPECT_TRUE(w.set_rules([](RuleSet& r) { r.offset_min_vintage = 2025; }).ok());
       },
       steel_gives(kHb2024, 1), ErrorCode::kConflict,
       "CCER-1-2024: vintage 2024, earliest accepted vintage is 2025"},
      {"CCERs of a vintage after the maximum",
       [](World& w) {
         EXPECT_TRUE(w.set_rules([](RuleSet& r) { r.offset_max_vintage = 2023; }).ok());
       },
       steel_gives(kHb2024, 1), ErrorCode::kConflict,
       "CCER-1-2024: vintage 2024, latest accepted vintage is 2023"},
      {"CCERs of another accepted province",
       [](World& w) {
         EXPECT_TRUE(w.set_rules([](RuleSet& r) { r.offset_provinces = {"HB", "GD"}; }).ok());
       },
       steel_gives(kGd2024, 1'000), ErrorCode::kOk, ""},
      {"at the deadline exactly", [](World& w) { w.chain.hold_time_ms(kDeadlineMs); },
       steel_gives(kHbea2025, 1), ErrorCode::kOk, ""},
      {"1 ms after the deadline", [](World& w) { w.chain.hold_time_ms(kDeadlineMs + 1); },
       steel_gives(kHbea2025, 1), ErrorCode::kConflict, "the surrender deadline for 2025"},
      {"frozen account",
       [](World& w) {
         EXPECT_TRUE(w.chain.call(w.chain.authority(), SetFrozen{w.steel.public_key(), 1}).ok());
       },
       steel_gives(kHbea2025, 1), ErrorCode::kConflict,
       "account Wuhan Steel is frozen by the authority and cannot surrender"},
      {"no approved emissions",
       [](World& w) { EXPECT_TRUE(w.chain.transfer(w.steel, w.cement, kYear, 10).ok()); },
       [](World& w) { return w.surrender(w.cement, kHbea2025, 10); }, ErrorCode::kConflict,
       "no approved emissions for 2025 yet"},
      {"more than the obligation", nothing, steel_gives(kHbea2025, 150'001), ErrorCode::kConflict,
       "surrender of 150,001 t exceeds the remaining obligation of 150,000 t"},
      {"more than what is left of the obligation",
       [](World& w) { EXPECT_TRUE(w.surrender(w.steel, kHbea2025, 149'000).ok()); },
       steel_gives(kHb2024, 1'001), ErrorCode::kConflict,
       "surrender of 1,001 t exceeds the remaining obligation of 1,000 t"},
      {"more than held", [](World& w) { set_obligation(w.chain, w.steel, 500'000); },
       steel_gives(kHbea2025, 200'001), ErrorCode::kConflict,
       "not enough units: holds 200,000 t of HBEA-2025, needs 200,001 t"},
      {"not a covered enterprise", nothing,
       [](World& w) { return w.surrender(w.owner, kHb2024, 1); }, ErrorCode::kUnauthorized,
       "only a covered_enterprise may surrender units"},
      {"zero tonnes", nothing, steel_gives(kHbea2025, 0), ErrorCode::kInvalidArgument,
       "quantity must be at least 1 t"},
      {"year outside the range", nothing,
       [](World& w) {
         return w.chain.call(w.steel, Surrender{2004, kHbea2024, 1});
       },
       ErrorCode::kInvalidArgument, "year 2004 is outside 2005..2100"},
      {"after the year is closed",
       [](World& w) {
         w.chain.hold_time_ms(kDeadlineMs + 1);
         EXPECT_TRUE(w.close().ok());
       },
       steel_gives(kHbea2025, 1), ErrorCode::kConflict,
       "year 2025 is closed; surrenders for it are no longer accepted"},
  };
}

TEST(ContractsCompliance, SurrenderCases) {
  for (const SurrenderCase& c : surrender_cases()) {
    SCOPED_TRACE(c.name);
    World world;
    c.prepare(world);
    const Receipt receipt = c.run(world);
    EXPECT_EQ(receipt.code, c.code) << receipt.message;
    if (c.code != ErrorCode::kOk) {
      EXPECT_NE(receipt.message.find(c.message_part), std::string::npos) << receipt.message;
    }
  }
}

TEST(ContractsCompliance, SurrenderRetiresAndCounts) {
  World w;
  ASSERT_TRUE(w.surrender(w.steel, kHbea2025, 100'000).ok());
  ASSERT_TRUE(w.surrender(w.steel, kHb2024, 12'000).ok());
  EXPECT_EQ(w.held(w.steel, kHbea2025), 100'000u);
  EXPECT_EQ(w.held(w.steel, kHb2024), 8'000u);
  EXPECT_EQ(w.product(kHbea2025).surrendered_t, 100'000u);
  EXPECT_EQ(w.product(kHb2024).surrendered_t, 12'000u);

  auto totals =
      read_record<SurrenderTotals>(w.chain, keys::surrendered(kYear, w.steel.public_key()));
  ASSERT_TRUE(totals.has_value());
  EXPECT_EQ(totals->allowances_t, 100'000u);
  EXPECT_EQ(totals->ccers_t, 12'000u);
  auto history = Ledger(w.chain.executor().state()).history(w.steel.public_key(), kHbea2025);
  ASSERT_TRUE(history.is_ok());
  EXPECT_EQ(history->surrendered_t, 100'000u);
  // Lowest serials first; the retired range says who surrendered it and for which year.
  auto retired = read_record<RetiredRange>(w.chain, keys::retired(kHbea2025, 1));
  ASSERT_TRUE(retired.has_value());
  EXPECT_EQ(retired->range, (SerialRange{1, 100'001}));
  EXPECT_EQ(retired->owner, w.steel.public_key());
  EXPECT_EQ(retired->kind, RetirementKind::kSurrendered);
  EXPECT_EQ(retired->year, kYear);
}

TEST(ContractsCompliance, Position) {
  World w;
  ASSERT_TRUE(w.surrender(w.steel, kHbea2025, 100'000).ok());
  ASSERT_TRUE(w.surrender(w.steel, kHb2024, 2'400).ok());
  auto position =
      compliance_position(Ledger(w.chain.executor().state()), kYear, w.steel.public_key());
  ASSERT_TRUE(position.is_ok()) << position.status().to_string();
  EXPECT_EQ(position->year, kYear);
  EXPECT_TRUE(position->has_obligation);
  EXPECT_EQ(position->obligation_t, 150'000u);
  EXPECT_EQ(position->surrendered_allowances_t, 100'000u);
  EXPECT_EQ(position->surrendered_ccers_t, 2'400u);
  EXPECT_EQ(position->shortfall_t, 47'600u);
  // 100,000 t HBEA-2025 + 1,000 t HBEA-2024; HBEA-2026 is not eligible for 2025.
  EXPECT_EQ(position->eligible_allowances_t, 101'000u);
  // 17,600 t CCER-1-2024 + 1,000 t CCER-3-2024 (HB); CCER-2-2024 is from GD.
  EXPECT_EQ(position->eligible_ccers_t, 18'600u);
  EXPECT_EQ(position->offset_limit_t, 12'400u);
  EXPECT_EQ(position->offset_headroom_t, 10'000u);
  EXPECT_EQ(position->rules_version, 0u);
  EXPECT_FALSE(position->closed);
  EXPECT_FALSE(position->holdings_truncated);

  // No obligation and nothing held.
  auto cement =
      compliance_position(Ledger(w.chain.executor().state()), kYear, w.cement.public_key());
  ASSERT_TRUE(cement.is_ok());
  EXPECT_FALSE(cement->has_obligation);
  EXPECT_EQ(cement->shortfall_t, 0u);
  EXPECT_EQ(cement->offset_limit_t, 0u);

  EXPECT_FALSE(
      compliance_position(Ledger(w.chain.executor().state()), 1999, w.steel.public_key()).is_ok());
}

TEST(ContractsCompliance, Eligibility) {
  World w;
  const Ledger ledger(w.chain.executor().state());
  const RuleSet rules = default_rules(kYear);
  EXPECT_TRUE(ccer_eligible(ledger, rules, kHb2024).is_ok());
  const Status gd = ccer_eligible(ledger, rules, kGd2024);
  EXPECT_EQ(gd.code(), ErrorCode::kConflict);
  EXPECT_EQ(gd.message(), "CCER-2-2024: project in province GD, allowed: HB");
  EXPECT_EQ(ccer_eligible(ledger, rules, ccer(9, 2024)).code(), ErrorCode::kNotFound);
  EXPECT_EQ(ccer_eligible(ledger, rules, kHbea2025).code(), ErrorCode::kInvalidArgument);
  RuleSet no_provinces = rules;
  no_provinces.offset_provinces.clear();
  EXPECT_EQ(ccer_eligible(ledger, no_provinces, kHb2024).message(),
            "CCER-1-2024: project in province HB, allowed: none");
}

// ---- close ----------------------------------------------------------------------------------

TEST(ContractsCompliance, CloseOnlyStrictlyAfterTheDeadline) {
  World w;
  Receipt early = w.close();  // default block times are in 2023
  EXPECT_EQ(early.code, ErrorCode::kConflict);
  EXPECT_EQ(early.message,
            "year 2025 can be closed only after the surrender deadline, 2026-05-31 23:59:59.999 "
            "Beijing time");
  w.chain.hold_time_ms(kDeadlineMs);
  EXPECT_EQ(w.close().code, ErrorCode::kConflict);
  EXPECT_FALSE(read_record<YearClosed>(w.chain, keys::year_closed(kYear)).has_value());
  w.chain.hold_time_ms(kDeadlineMs + 1);
  const Receipt closed = w.close();
  ASSERT_TRUE(closed.ok()) << closed.message;
  EXPECT_TRUE(read_record<YearClosed>(w.chain, keys::year_closed(kYear)).has_value());
  const Receipt again = w.close();
  EXPECT_EQ(again.code, ErrorCode::kConflict);
  EXPECT_EQ(again.message, "year 2025 is already closed");
}

TEST(ContractsCompliance, CloseNeedsEveryObligation) {
  World w;
  set_initial_allocation(w.chain, w.cement, 1'000);
  w.chain.hold_time_ms(kDeadlineMs + 1);
  const Receipt one = w.close();
  EXPECT_EQ(one.code, ErrorCode::kConflict);
  EXPECT_EQ(one.message,
            "1 enterprise has no approved or estimated emissions for 2025: Huangshi Cement");

  // Six more: five names are listed, then "...".
  for (std::uint32_t i = 0; i < 6; ++i) {
    const core::SecretKey key = test_key(100 + i);
    ASSERT_TRUE(
        w.chain
            .register_participant(key, Role::kCoveredEnterprise, "Enterprise " + std::to_string(i))
            .ok());
    set_initial_allocation(w.chain, key, 1'000);
  }
  const Receipt many = w.close();
  EXPECT_EQ(many.code, ErrorCode::kConflict);
  EXPECT_EQ(
      many.message.rfind("7 enterprises have no approved or estimated emissions for 2025: ", 0), 0u)
      << many.message;
  EXPECT_TRUE(many.message.ends_with(", ...")) << many.message;

  // An allocation record of a participant that is not a covered enterprise does not block.
  World v;
  set_initial_allocation(v.chain, v.reserve, 1'000);
  v.chain.hold_time_ms(kDeadlineMs + 1);
  EXPECT_TRUE(v.close().ok());
}

struct CloseCase {
  const char* name;
  std::function<void(World&)> prepare;
  std::uint64_t shortfall_t;
  std::uint64_t penalty_fen;
  std::uint64_t deduction_t;
};

TEST(ContractsCompliance, ClosePenaltyAndDeduction) {
  const std::vector<CloseCase> cases = {
      {"compliant", [](World& w) { EXPECT_TRUE(w.surrender(w.steel, kHbea2025, 150'000).ok()); }, 0,
       0, 0},
      // 1,000 t x 2,000 fen x 100% = 2,000,000 fen, below the cap.
      {"small shortfall",
       [](World& w) { EXPECT_TRUE(w.surrender(w.steel, kHbea2025, 149'000).ok()); }, 1'000,
       2'000'000, 2'000},
      // 7,500 t x 2,000 fen = 15,000,000 fen: exactly the cap.
      {"shortfall at the cap",
       [](World& w) { EXPECT_TRUE(w.surrender(w.steel, kHbea2025, 142'500).ok()); }, 7'500,
       15'000'000, 15'000},
      // 50,000 t x 2,000 fen = 100,000,000 fen: capped at 15,000,000.
      {"shortfall above the cap",
       [](World& w) { EXPECT_TRUE(w.surrender(w.steel, kHbea2025, 100'000).ok()); }, 50'000,
       15'000'000, 100'000},
      // 1,000 t x 2,500 fen x 300% = 7,500,000 fen; deduction 3x.
      {"rules of the year: triple penalty and deduction",
       [](World& w) {
         EXPECT_TRUE(w.set_rules([](RuleSet& r) {
                        r.penalty_multiple_pct = 300;
                        r.reference_price_fen = 2'500;
                        r.deduction_multiple = 3;
                      }).ok());
         EXPECT_TRUE(w.surrender(w.steel, kHbea2025, 149'000).ok());
       },
       1'000, 7'500'000, 3'000},
      {"nothing surrendered", [](World&) {}, 150'000, 15'000'000, 300'000},
  };
  for (const CloseCase& c : cases) {
    SCOPED_TRACE(c.name);
    World w;
    c.prepare(w);
    w.chain.hold_time_ms(kDeadlineMs + 1);
    const Receipt closed = w.close();
    ASSERT_TRUE(closed.ok()) << closed.message;
    auto row = w.row(w.steel);
    ASSERT_TRUE(row.has_value());
    EXPECT_EQ(row->name, "Wuhan Steel");
    EXPECT_EQ(row->obligation_t, 150'000u);
    EXPECT_EQ(row->surrendered_t, 150'000u - c.shortfall_t);
    EXPECT_EQ(row->shortfall_t, c.shortfall_t);
    EXPECT_EQ(row->status,
              c.shortfall_t > 0 ? ComplianceStatus::kShort : ComplianceStatus::kCompliant);
    EXPECT_EQ(row->penalty_fen, c.penalty_fen);
    EXPECT_EQ(row->deduction_t, c.deduction_t);
    auto next =
        read_record<AllocationRecord>(w.chain, keys::allocation(kYear + 1, w.steel.public_key()));
    if (c.deduction_t == 0) {
      EXPECT_FALSE(next.has_value());
    } else {
      ASSERT_TRUE(next.has_value());
      EXPECT_EQ(next->deduction_t, c.deduction_t);
      EXPECT_EQ(next->enterprise, w.steel.public_key());
      EXPECT_EQ(next->year, kYear + 1);
      EXPECT_EQ(next->initial_t, 0u);
    }
    auto summary = read_record<YearClosed>(w.chain, keys::year_closed(kYear));
    ASSERT_TRUE(summary.has_value());
    EXPECT_EQ(summary->enterprises, 1u);
    EXPECT_EQ(summary->short_enterprises, c.shortfall_t > 0 ? 1u : 0u);
    EXPECT_EQ(summary->penalties_fen, c.penalty_fen);
  }
}

TEST(ContractsCompliance, CloseAddsToAnExistingAllocationOfNextYear) {
  World w;
  AllocationRecord next;
  next.enterprise = w.steel.public_key();
  next.year = kYear + 1;
  next.initial_t = 90'000;
  next.deduction_t = 7;
  put_record(w.chain, keys::allocation(kYear + 1, w.steel.public_key()), next);
  ASSERT_TRUE(w.surrender(w.steel, kHbea2025, 149'000).ok());
  w.chain.hold_time_ms(kDeadlineMs + 1);
  ASSERT_TRUE(w.close().ok());
  auto after =
      read_record<AllocationRecord>(w.chain, keys::allocation(kYear + 1, w.steel.public_key()));
  ASSERT_TRUE(after.has_value());
  EXPECT_EQ(after->deduction_t, 2'007u);
  EXPECT_EQ(after->initial_t, 90'000u);
}

TEST(ContractsCompliance, CloseCancelsUntradedAllowances) {
  World w;
  // Steel sells 30,000 t of its own issuance and buys 5,000 t from the reserve; it surrenders
  // 150,000 t. Held: 200,000 - 30,000 + 5,000 - 150,000 = 25,000 t, of which its own issuance
  // never traded: 200,000 - 30,000 - 150,000 = 20,000 t. The 5,000 t bought stay.
  ASSERT_TRUE(w.chain.transfer(w.steel, w.reserve, kYear, 30'000).ok());
  ASSERT_TRUE(w.chain.transfer(w.reserve, w.steel, kYear, 5'000).ok());
  ASSERT_TRUE(w.surrender(w.steel, kHbea2025, 150'000).ok());
  ASSERT_EQ(w.held(w.steel, kHbea2025), 25'000u);
  w.chain.hold_time_ms(kDeadlineMs + 1);
  ASSERT_TRUE(w.close().ok());
  EXPECT_EQ(w.held(w.steel, kHbea2025), 5'000u);
  EXPECT_EQ(w.row(w.steel)->cancelled_t, 20'000u);
  EXPECT_EQ(w.product(kHbea2025).cancelled_t, 20'000u);
  // Other vintages are banked.
  EXPECT_EQ(w.held(w.steel, kHbea2024), 1'000u);
  EXPECT_EQ(w.held(w.steel, kHbea2026), 1'000u);
  // The cancelled serials are the lowest the holder had left.
  bool found = false;
  for (const auto& [key, bytes] : w.chain.executor().state().scan("ret/HBEA-2025/", "", 100)) {
    auto range = core::codec::decode<RetiredRange>(bytes);
    ASSERT_TRUE(range.is_ok());
    if (range->kind != RetirementKind::kCancelledUntraded) continue;
    found = true;
    EXPECT_EQ(range->owner, w.steel.public_key());
    EXPECT_EQ(range->year, kYear);
  }
  EXPECT_TRUE(found);
}

TEST(ContractsCompliance, CloseWithoutUntradedCancellationKeepsEverything) {
  World w;
  ASSERT_TRUE(w.set_rules([](RuleSet& r) { r.cancel_untraded = 0; }).ok());
  ASSERT_TRUE(w.surrender(w.steel, kHbea2025, 150'000).ok());
  w.chain.hold_time_ms(kDeadlineMs + 1);
  ASSERT_TRUE(w.close().ok());
  EXPECT_EQ(w.held(w.steel, kHbea2025), 50'000u);
  EXPECT_EQ(w.row(w.steel)->cancelled_t, 0u);
}

TEST(ContractsCompliance, CloseWithoutBankingCancelsEveryVintageUpToTheYear) {
  World w;
  ASSERT_TRUE(w.set_rules([](RuleSet& r) { r.banking_allowed = 0; }).ok());
  // Scatter steel's HBEA-2025 over several ranges: the cancellation takes them all.
  ASSERT_TRUE(w.chain.transfer(w.steel, w.reserve, kYear, 30'000).ok());
  ASSERT_TRUE(w.chain.transfer(w.reserve, w.steel, kYear, 5'000).ok());
  ASSERT_TRUE(w.surrender(w.steel, kHbea2025, 140'000).ok());
  w.chain.hold_time_ms(kDeadlineMs + 1);
  ASSERT_TRUE(w.close().ok());
  EXPECT_EQ(w.held(w.steel, kHbea2025), 0u);
  EXPECT_EQ(w.held(w.steel, kHbea2024), 0u);
  EXPECT_EQ(w.held(w.steel, kHbea2026), 1'000u);
  EXPECT_EQ(w.held(w.steel, kHb2024), 20'000u);  // CCERs are not allowances
  // 200,000 - 30,000 + 5,000 - 140,000 = 35,000 t of 2025, and 1,000 t of 2024.
  EXPECT_EQ(w.row(w.steel)->cancelled_t, 36'000u);
  EXPECT_EQ(w.product(kHbea2025).cancelled_t, 35'000u);
  EXPECT_EQ(w.product(kHbea2024).cancelled_t, 1'000u);
  EXPECT_EQ(w.row(w.steel)->shortfall_t, 10'000u);
  // Only covered enterprises with an obligation are closed: the reserve keeps its units.
  EXPECT_EQ(w.held(w.reserve, kHbea2025), 30'000u);
}

TEST(ContractsCompliance, TableAfterClose) {
  World w;
  set_obligation(w.chain, w.cement, 10);
  ASSERT_TRUE(w.chain.transfer(w.steel, w.cement, kYear, 10).ok());
  ASSERT_TRUE(w.surrender(w.cement, kHbea2025, 10).ok());
  ASSERT_TRUE(w.surrender(w.steel, kHb2024, 12'400).ok());
  // A reporting enterprise's approved emissions are no surrender obligation.
  const core::SecretKey reporter = test_key(30);
  ASSERT_TRUE(
      w.chain.register_participant(reporter, Role::kReportingEnterprise, "Yichang Paper").ok());
  set_obligation(w.chain, reporter, 9'000);
  const auto table_before = compliance_table(Ledger(w.chain.executor().state()), kYear, 100);
  ASSERT_TRUE(table_before.is_ok());
  EXPECT_TRUE(table_before->empty());
  w.chain.hold_time_ms(kDeadlineMs + 1);
  ASSERT_TRUE(w.close().ok());
  const auto table = compliance_table(Ledger(w.chain.executor().state()), kYear, 100);
  ASSERT_TRUE(table.is_ok());
  ASSERT_EQ(table->size(), 2u);  // steel and cement; not the reporting enterprise
  std::uint32_t short_rows = 0;
  for (const ComplianceRow& row : *table) {
    if (row.enterprise == w.cement.public_key()) {
      EXPECT_EQ(row.status, ComplianceStatus::kCompliant);
      EXPECT_EQ(row.name, "Huangshi Cement");
    } else {
      EXPECT_EQ(row.enterprise, w.steel.public_key());
      EXPECT_EQ(row.ccers_t, 12'400u);
      EXPECT_EQ(row.status, ComplianceStatus::kShort);
      ++short_rows;
    }
  }
  EXPECT_EQ(short_rows, 1u);
  EXPECT_EQ(compliance_table(Ledger(w.chain.executor().state()), kYear, 1)->size(), 1u);
  auto position =
      compliance_position(Ledger(w.chain.executor().state()), kYear, w.steel.public_key());
  ASSERT_TRUE(position.is_ok());
  EXPECT_TRUE(position->closed);
  auto summary = read_record<YearClosed>(w.chain, keys::year_closed(kYear));
  EXPECT_EQ(summary->enterprises, 2u);
  EXPECT_EQ(summary->short_enterprises, 1u);
}

}  // namespace
}  // namespace carbon::contracts
