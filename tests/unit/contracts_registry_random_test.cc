// A randomized compliance year: thousands of acts from every role, valid and invalid (wrong
// role, wrong verifier, unknown ids, over limits, after deadlines), one per block. After every
// block the ledger invariants hold (TestChain checks them); every failed act changed nothing
// but the sender's nonce and the ledger clock (or nothing at all when it failed its
// pre-checks); and the same seed replays to the same receipts and state roots.
#include <gtest/gtest.h>

#include <map>
#include <random>

#include "contracts/executor.h"
#include "contracts/ledger_internal.h"
#include "contracts_harness.h"

namespace carbon::contracts {
namespace {

using testing::changed_keys;
using testing::make_tx;
using testing::snapshot;
using testing::test_key;
using testing::TestChain;

constexpr std::uint16_t kYear = 2025;
// TestChain's block time is 1,700,000,000,000 ms + height x 1,000 ms.
constexpr std::uint64_t kBaseMs = 1'700'000'000'000ULL;
std::uint64_t time_at(Height height) { return kBaseMs + height * 1000; }

struct Cast {
  std::vector<core::SecretKey> enterprises;   // covered
  core::SecretKey reporting = test_key(40);   // reporting enterprise
  std::vector<core::SecretKey> verifiers;     // verifiers
  std::vector<core::SecretKey> owners;        // project owners
  core::SecretKey reserve = test_key(50);
  core::SecretKey voluntary = test_key(51);
  core::SecretKey stranger = test_key(52);    // never registered
  Cast() {
    for (std::uint32_t i = 0; i < 6; ++i) enterprises.push_back(test_key(30 + i));
    for (std::uint32_t i = 0; i < 2; ++i) verifiers.push_back(test_key(41 + i));
    for (std::uint32_t i = 0; i < 2; ++i) owners.push_back(test_key(43 + i));
  }
  std::vector<const core::SecretKey*> everyone() const {
    std::vector<const core::SecretKey*> out;
    for (const auto& k : enterprises) out.push_back(&k);
    out.push_back(&reporting);
    for (const auto& k : verifiers) out.push_back(&k);
    for (const auto& k : owners) out.push_back(&k);
    out.push_back(&reserve);
    out.push_back(&voluntary);
    out.push_back(&stranger);
    return out;
  }
};

struct Outcome {
  std::vector<Receipt> receipts;
  std::vector<Hash256> roots;
  std::map<std::string, std::pair<std::size_t, std::size_t>> by_kind;  // name -> (ok, failed)
};

class RandomYear {
 public:
  RandomYear(std::uint32_t seed, std::size_t acts) : rng_(seed), acts_(acts) {}

  Outcome run() {
    set_up();
    for (std::size_t i = 0; i < acts_ && !::testing::Test::HasFailure(); ++i) step(random_act());
    // Close the year once the surrender deadline has passed.
    while (time_at(chain_.height() + 1) <= rules_.surrender_deadline_ms) step({"wait", chain_.authority(), Call{Approve{999'999}}});
    step({"close_year", chain_.authority(), Call{Propose{CloseYear{kYear}}}});
    return std::move(outcome_);
  }

 private:
  struct Act {
    std::string kind;
    core::SecretKey sender;
    Call call;
  };

  void set_up() {
    const auto& authority = chain_.authority();
    auto must = [&](AuthorityAct act) {
      const Receipt receipt = chain_.call(authority, std::move(act));
      ASSERT_TRUE(receipt.ok()) << receipt.message;
    };
    for (std::size_t i = 0; i < cast_.enterprises.size(); ++i) {
      must(RegisterParticipant{cast_.enterprises[i].public_key(), "enterprise " + std::to_string(i),
                               Role::kCoveredEnterprise});
    }
    must(RegisterParticipant{cast_.reporting.public_key(), "reporting", Role::kReportingEnterprise});
    for (std::size_t i = 0; i < cast_.verifiers.size(); ++i) {
      must(RegisterParticipant{cast_.verifiers[i].public_key(), "verifier " + std::to_string(i),
                               Role::kVerifier});
    }
    for (std::size_t i = 0; i < cast_.owners.size(); ++i) {
      must(RegisterParticipant{cast_.owners[i].public_key(), "owner " + std::to_string(i),
                               Role::kProjectOwner});
    }
    must(RegisterParticipant{cast_.reserve.public_key(), "reserve", Role::kReserve});
    must(RegisterParticipant{cast_.voluntary.public_key(), "voluntary", Role::kVoluntary});
    // Deadlines within the run (one act per block, one block per second): reports close after
    // a third of it, verification after two thirds, surrender just after the last random act,
    // so every random attempt to close the year is early.
    const std::uint64_t now = time_at(chain_.height() + 2);  // after SetRules and SetCap
    rules_ = default_rules(kYear);
    rules_.report_deadline_ms = now + acts_ * 1000 / 3;
    rules_.verification_deadline_ms = now + acts_ * 1000 * 2 / 3;
    rules_.surrender_deadline_ms = now + acts_ * 1000 + 5000;
    rules_.offset_provinces = {"HB"};
    must(SetRules{kYear, rules_});
    must(SetCap{kYear, 50'000'000, 4'000'000, 1'000'000});
  }

  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[uniform(items.size())];
  }
  std::size_t uniform(std::size_t n) { return static_cast<std::size_t>(rng_() % n); }
  std::uint64_t quantity() {
    switch (uniform(6)) {
      case 0: return 0;  // invalid
      case 1: return 1 + uniform(10);
      case 2: return 1 + uniform(1'000);
      case 3: return 1 + uniform(100'000);
      case 4: return kMaxQuantityPerTx + 1;  // invalid
      default: return 1 + uniform(20'000);
    }
  }
  std::uint16_t year() { return uniform(10) == 0 ? static_cast<std::uint16_t>(kYear + 1) : kYear; }
  const core::SecretKey& anyone() { return *pick(cast_.everyone()); }
  const core::SecretKey& enterprise() {
    return uniform(8) == 0 ? anyone() : pick(cast_.enterprises);
  }
  Hash256 hash() {
    Hash256 out;
    if (uniform(15) == 0) return out;  // zero: invalid
    for (auto& b : out.bytes) b = static_cast<std::uint8_t>(rng_());
    return out;
  }
  ProductId product() {
    if (uniform(3) == 0 && next_project_ > 1) {
      return ProductId{ProductKind::kCcer, static_cast<std::uint16_t>(2020 + uniform(8)),
                       1 + uniform(next_project_)};
    }
    return ProductId::allowance(static_cast<std::uint16_t>(kYear - 1 + uniform(3)));
  }
  AllocationInputs inputs() {
    AllocationInputs in;
    in.method = static_cast<AllocationMethod>(uniform(3));
    in.historical_emissions_t = 1 + uniform(2'000'000);
    in.factor_ppm = static_cast<std::uint32_t>(800'000 + uniform(400'000));
    in.intensity_g_per_unit = 1 + uniform(3'000'000);
    in.benchmark_g_per_unit = 1 + uniform(3'000'000);
    in.base_production_units = 1 + uniform(1'000'000);
    if (uniform(12) == 0) in.factor_ppm = 0;  // invalid
    return in;
  }
  const core::SecretKey& officer_or_not() {
    return uniform(10) == 0 ? anyone() : chain_.authority();
  }

  Act random_act() {
    const auto propose = [&](std::string kind, AuthorityAct act) {
      return Act{std::move(kind), officer_or_not(), Call{Propose{std::move(act)}}};
    };
    switch (uniform(17)) {
      case 0: {
        const auto& from = uniform(4) == 0 ? anyone() : enterprise();
        return Act{"transfer", from, TransferUnits{anyone().public_key(), product(), quantity()}};
      }
      case 1:
        return Act{"report", enterprise(), SubmitReport{year(), hash(), quantity()}};
      case 2:
        return propose("assign_verifier",
                       AssignVerifier{enterprise().public_key(), year(),
                                      (uniform(6) == 0 ? anyone() : pick(cast_.verifiers)).public_key()});
      case 3:
        return Act{"verify", uniform(6) == 0 ? anyone() : pick(cast_.verifiers),
                   SubmitVerification{enterprise().public_key(), year(), hash(), quantity(),
                                      1 + uniform(1'000'000)}};
      case 4:
        return propose("approve_emissions", ApproveEmissions{enterprise().public_key(), year()});
      case 5:
        return propose("estimate_emissions", EstimateEmissions{enterprise().public_key(), year(), quantity()});
      case 6:
        return propose("set_allocation", SetAllocation{enterprise().public_key(), year(), inputs()});
      case 7:
        return propose("issue_pre_allocation", IssuePreAllocation{enterprise().public_key(), year()});
      case 8:
        return propose("true_up", TrueUpAllocation{enterprise().public_key(), year()});
      case 9:
        return propose("adjust", AdjustAllocation{enterprise().public_key(), year()});
      case 10: {
        RegisterProject project{"project", "CM-001", static_cast<ProjectType>(uniform(5)),
                                uniform(4) == 0 ? "GD" : "HB",
                                static_cast<std::uint16_t>(2018 + uniform(4)),
                                static_cast<std::uint16_t>(2024 + uniform(6))};
        if (uniform(15) == 0) project.crediting_end_year = 2010;  // invalid period
        const auto& owner = uniform(5) == 0 ? anyone() : pick(cast_.owners);
        return Act{"register_project", owner, project};
      }
      case 11:
        return propose("approve_project", ApproveProject{1 + uniform(next_project_ + 1)});
      case 12:
        return propose("issue_ccer", IssueCcer{1 + uniform(next_project_ + 1),
                                               static_cast<std::uint16_t>(2018 + uniform(10)),
                                               quantity(), hash()});
      case 13:
        return Act{"surrender", enterprise(), Surrender{year(), product(), quantity()}};
      case 14:
        return propose("set_frozen", SetFrozen{anyone().public_key(),
                                               static_cast<std::uint8_t>(uniform(3) == 0 ? 1 : 0)});
      case 15:
        return propose("close_year_early", CloseYear{kYear});
      default:
        return propose("issue_allowances",
                       IssueAllowances{(uniform(3) == 0 ? anyone() : cast_.reserve).public_key(),
                                       year(), quantity()});
    }
  }

  void step(const Act& act) {
    const auto before = snapshot(chain_.executor());
    const Hash256 root_before = chain_.executor().state_root();
    const SignedTx tx = make_tx(act.sender, chain_.next_nonce(act.sender), act.call);
    const Receipt receipt = chain_.submit(tx);
    auto& counts = outcome_.by_kind[act.kind];
    (receipt.ok() ? counts.first : counts.second) += 1;
    if (act.kind == "register_project" && receipt.ok()) ++next_project_;
    if (!receipt.ok()) {
      EXPECT_FALSE(receipt.message.empty()) << act.kind;
      const auto changed = changed_keys(before, snapshot(chain_.executor()));
      const std::vector<std::string> nonce_only = {keys::account(tx.tx.sender), "meta/clock"};
      EXPECT_TRUE(changed.empty() || changed == nonce_only)
          << act.kind << " failed (" << receipt.message << ") but changed " << changed.size()
          << " keys, first " << (changed.empty() ? "" : changed[0]);
      if (changed.empty()) {
        EXPECT_EQ(chain_.executor().state_root(), root_before);
      }
    }
    outcome_.receipts.push_back(receipt);
    outcome_.roots.push_back(chain_.executor().state_root());
  }

  std::mt19937_64 rng_;
  std::size_t acts_;
  TestChain chain_;
  Cast cast_;
  RuleSet rules_;
  std::uint64_t next_project_ = 1;  // ids handed out so far + 1
  Outcome outcome_;
};

TEST(ContractsRegistryRandomized, ThousandsOfActsKeepTheInvariantsAndInvalidActsChangeNothing) {
  for (const std::uint32_t seed : {7u, 20261125u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    RandomYear year(seed, 3000);
    const Outcome outcome = year.run();
    ASSERT_FALSE(HasFailure());
    // The mix must reach every part of the year, with successes and refusals.
    std::size_t ok = 0;
    std::size_t failed = 0;
    for (const auto& [kind, counts] : outcome.by_kind) {
      ok += counts.first;
      failed += counts.second;
    }
    for (const auto& [kind, counts] : outcome.by_kind) {
      RecordProperty(kind + "_ok", static_cast<int>(counts.first));
      RecordProperty(kind + "_failed", static_cast<int>(counts.second));
    }
    EXPECT_GT(ok, 300u);
    EXPECT_GT(failed, 1000u);
    for (const char* kind : {"transfer", "report", "assign_verifier", "verify", "approve_emissions",
                             "set_allocation", "issue_pre_allocation", "register_project",
                             "approve_project", "issue_ccer", "surrender", "close_year"}) {
      EXPECT_GT(outcome.by_kind.at(kind).first, 0u) << kind << " never succeeded";
    }
    EXPECT_EQ(outcome.by_kind.at("close_year_early").first, 0u);
    EXPECT_TRUE(outcome.receipts.back().ok()) << outcome.receipts.back().message;
  }
}

TEST(ContractsRegistryRandomized, SameSeedSameReceiptsAndRoots) {
  const Outcome first = RandomYear(99, 800).run();
  const Outcome second = RandomYear(99, 800).run();
  ASSERT_EQ(first.receipts.size(), second.receipts.size());
  EXPECT_EQ(first.receipts, second.receipts);
  EXPECT_EQ(first.roots, second.roots);
}

}  // namespace
}  // namespace carbon::contracts
