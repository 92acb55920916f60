// The read-only queries of contracts/queries.h over a chain built with the parts of the
// registry that are implemented (participants, issuance, transfers, proposals, rules).
#include "contracts/queries.h"

#include <gtest/gtest.h>

#include "contracts_harness.h"

namespace carbon::contracts::testing {
namespace {

using namespace carbon::contracts::queries;

class QueriesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(chain.register_participant(steel, Role::kCoveredEnterprise, "Hubei Steel").ok());
    ASSERT_TRUE(chain.register_participant(cement, Role::kCoveredEnterprise, "Wuhan Cement").ok());
    ASSERT_TRUE(chain.issue(steel, 2025, 1'000).ok());   // serials [1, 1001)
    ASSERT_TRUE(chain.issue(cement, 2025, 500).ok());    // serials [1001, 1501)
  }
  Ledger ledger() { return Ledger(chain.executor().state()); }

  TestChain chain;
  core::SecretKey steel = test_key(1);
  core::SecretKey cement = test_key(2);
  core::SecretKey officer2 = test_key(3);
  const ProductId hbea = ProductId::allowance(2025);
};

TEST_F(QueriesTest, ParticipantsInAddressOrderWithLimit) {
  auto all = participants(ledger(), 10);
  ASSERT_TRUE(all.is_ok());
  ASSERT_EQ(all->items.size(), 3u);  // the authority and two enterprises
  EXPECT_FALSE(all->more);
  for (std::size_t i = 1; i < all->items.size(); ++i) {
    EXPECT_LT(all->items[i - 1].key.to_hex(), all->items[i].key.to_hex());
  }
  auto first = participants(ledger(), 2);
  ASSERT_TRUE(first.is_ok());
  EXPECT_EQ(first->items.size(), 2u);
  EXPECT_TRUE(first->more);
  auto rest = participants(ledger(), 2, first->items.back().key);
  ASSERT_TRUE(rest.is_ok());
  ASSERT_EQ(rest->items.size(), 1u);
  EXPECT_EQ(rest->items[0].key, all->items[2].key);
}

TEST_F(QueriesTest, HoldingsTransfersAndTrace) {
  ASSERT_TRUE(chain.transfer(steel, cement, 2025, 100).ok());   // [1, 101) -> cement
  ASSERT_TRUE(chain.transfer(cement, steel, 2025, 50).ok());    // [1, 51) back to steel

  auto held = holdings(ledger(), cement.public_key(), 10);
  ASSERT_TRUE(held.is_ok());
  ASSERT_EQ(held->items.size(), 1u);
  EXPECT_EQ(held->items[0].product, hbea);
  EXPECT_EQ(held->items[0].quantity_t, 550u);
  ASSERT_EQ(held->items[0].ranges.size(), 2u);
  EXPECT_EQ(held->items[0].ranges[0], (SerialRange{51, 101}));
  EXPECT_EQ(held->items[0].ranges[1], (SerialRange{1001, 1501}));

  auto batches = issuances(ledger(), hbea, 10);
  ASSERT_TRUE(batches.is_ok());
  ASSERT_EQ(batches->items.size(), 2u);
  EXPECT_EQ(batches->items[1].range, (SerialRange{1001, 1501}));
  EXPECT_EQ(batches->items[1].to, cement.public_key());

  // Serial 10 went steel -> cement -> steel.
  auto ten = trace(ledger(), hbea, 10);
  ASSERT_TRUE(ten.is_ok()) << ten.status().to_string();
  EXPECT_EQ(ten->issuance.range, (SerialRange{1, 1001}));
  ASSERT_EQ(ten->moves.size(), 2u);
  EXPECT_EQ(ten->moves[0].from, steel.public_key());
  EXPECT_EQ(ten->moves[1].to, steel.public_key());
  EXPECT_FALSE(ten->moves_truncated);
  ASSERT_TRUE(ten->holder.has_value());
  EXPECT_EQ(ten->holder->owner, steel.public_key());
  EXPECT_LE(ten->held_range.start, 10u);
  EXPECT_GT(ten->held_range.end, 10u);
  EXPECT_FALSE(ten->retirement.has_value());

  // Serial 70 moved once and stays with cement; serial 1200 never moved.
  auto seventy = trace(ledger(), hbea, 70);
  ASSERT_TRUE(seventy.is_ok());
  EXPECT_EQ(seventy->moves.size(), 1u);
  EXPECT_EQ(seventy->holder->owner, cement.public_key());
  EXPECT_EQ(seventy->held_range, (SerialRange{51, 101}));
  auto untouched = trace(ledger(), hbea, 1200);
  ASSERT_TRUE(untouched.is_ok());
  EXPECT_TRUE(untouched->moves.empty());
  EXPECT_EQ(untouched->issuance.to, cement.public_key());

  EXPECT_EQ(trace(ledger(), hbea, 1501).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(trace(ledger(), hbea, 0).status().code(), ErrorCode::kNotFound);
  EXPECT_EQ(trace(ledger(), ProductId::allowance(2026), 1).status().code(), ErrorCode::kNotFound);
  auto none = retired(ledger(), hbea, 10);
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->items.empty());
}

TEST_F(QueriesTest, ProposalsNewestFirstWithTheirState) {
  // Two officers, two approvals needed from here on.
  ASSERT_TRUE(chain.call(chain.authority(),
                         SetOfficers{{chain.authority().public_key(), officer2.public_key()}, 2})
                  .ok());
  auto set = officers(ledger());
  ASSERT_TRUE(set.is_ok());
  EXPECT_EQ(set->officers.size(), 2u);
  EXPECT_EQ(set->threshold, 2u);

  const auto open_receipt =
      chain.call(chain.authority(), SetFrozen{steel.public_key(), 1});
  ASSERT_TRUE(open_receipt.ok()) << open_receipt.message;
  auto page = proposals(ledger(), 10);
  ASSERT_TRUE(page.is_ok());
  ASSERT_GE(page->items.size(), 2u);
  const std::uint64_t newest = page->items[0].proposal.id;
  EXPECT_EQ(page->items[0].state, ProposalState::kOpen);
  EXPECT_EQ(page->items[0].proposal.approvals.size(), 1u);
  EXPECT_EQ(page->items[1].proposal.id, newest - 1);
  EXPECT_EQ(page->items[1].state, ProposalState::kExecuted);

  ASSERT_TRUE(chain.call(officer2, Call{Approve{newest}}).ok());
  auto approved = proposal(ledger(), newest);
  ASSERT_TRUE(approved.is_ok());
  EXPECT_EQ(approved->state, ProposalState::kExecuted);
  EXPECT_EQ(approved->proposal.approvals.size(), 2u);
  EXPECT_EQ(proposal(ledger(), 999).status().code(), ErrorCode::kNotFound);

  auto one = proposals(ledger(), 1);
  ASSERT_TRUE(one.is_ok());
  EXPECT_EQ(one->items.size(), 1u);
  EXPECT_TRUE(one->more);
  auto older = proposals(ledger(), 10, newest);
  ASSERT_TRUE(older.is_ok());
  EXPECT_EQ(older->items[0].proposal.id, newest - 1);
}

TEST_F(QueriesTest, ProposalsExpireByTheLedgerClock) {
  RuleSet short_lived = default_rules(2023);
  short_lived.proposal_ttl_ms = 1;  // the harness's blocks are a second apart
  ASSERT_TRUE(chain.call(chain.authority(), SetRules{2023, short_lived}).ok());
  ASSERT_TRUE(chain.call(chain.authority(),
                         SetOfficers{{chain.authority().public_key(), officer2.public_key()}, 2})
                  .ok());
  ASSERT_TRUE(chain.call(chain.authority(), SetFrozen{steel.public_key(), 1}).ok());
  ASSERT_TRUE(chain.transfer(cement, steel, 2025, 1).ok());  // one more block moves the clock
  auto page = proposals(ledger(), 1);
  ASSERT_TRUE(page.is_ok());
  EXPECT_EQ(page->items[0].state, ProposalState::kExpired);
}

TEST_F(QueriesTest, RulesInForceAndHistory) {
  auto defaults = rules(ledger(), 2025);
  ASSERT_TRUE(defaults.is_ok());
  EXPECT_EQ(defaults->version, 0u);
  EXPECT_EQ(defaults->rules, default_rules(2025));

  RuleSet changed = default_rules(2025);
  changed.offset_limit_bp = 500;
  ASSERT_TRUE(chain.call(chain.authority(), SetRules{2025, changed}).ok());
  changed.penalty_multiple_pct = 300;
  ASSERT_TRUE(chain.call(chain.authority(), SetRules{2025, changed}).ok());

  auto now = rules(ledger(), 2025);
  ASSERT_TRUE(now.is_ok());
  EXPECT_EQ(now->version, 2u);
  EXPECT_EQ(now->rules.penalty_multiple_pct, 300u);
  auto history = rules_history(ledger(), 2025, 10);
  ASSERT_TRUE(history.is_ok());
  ASSERT_EQ(history->items.size(), 2u);
  EXPECT_EQ(history->items[0].version, 1u);
  EXPECT_EQ(history->items[0].rules.offset_limit_bp, 500u);
  EXPECT_EQ(history->items[0].rules.penalty_multiple_pct, 100u);
  EXPECT_EQ(rules(ledger(), 1999).status().code(), ErrorCode::kInvalidArgument);
}

TEST_F(QueriesTest, AbsentRecordsAreEmptyNotErrors) {
  auto no_cap = cap(ledger(), 2025);
  ASSERT_TRUE(no_cap.is_ok());
  EXPECT_FALSE(no_cap->has_value());
  auto no_alloc = allocation(ledger(), 2025, steel.public_key());
  ASSERT_TRUE(no_alloc.is_ok());
  EXPECT_FALSE(no_alloc->has_value());
  auto no_mrv = emissions(ledger(), 2025, steel.public_key(), 10);
  ASSERT_TRUE(no_mrv.is_ok());
  EXPECT_FALSE(no_mrv->record.has_value());
  EXPECT_TRUE(no_mrv->history.items.empty());
  auto no_projects = projects(ledger(), 10);
  ASSERT_TRUE(no_projects.is_ok());
  EXPECT_TRUE(no_projects->items.empty());
  EXPECT_EQ(project(ledger(), 1).status().code(), ErrorCode::kNotFound);
  auto open_year = year_closed(ledger(), 2025);
  ASSERT_TRUE(open_year.is_ok());
  EXPECT_FALSE(open_year->has_value());
  auto table = compliance_rows(ledger(), 2025, 10);
  ASSERT_TRUE(table.is_ok());
  EXPECT_TRUE(table->items.empty());
}

}  // namespace
}  // namespace carbon::contracts::testing
