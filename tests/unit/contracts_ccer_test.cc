// CCER projects: registration by a project owner, approval and issuance by the authority, and
// their refusals (table-driven). The harness checks the ledger invariants after every block.
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "contracts/ledger_internal.h"  // white-box reads of the project records
#include "contracts_harness.h"

namespace carbon::contracts {
namespace {

using testing::test_key;
using testing::TestChain;

struct Cast {
  core::SecretKey owner = test_key(11);  // project owner
  core::SecretKey steel = test_key(12);  // covered enterprise
};

RegisterProject hubei_wind() {
  return RegisterProject{
      "Suizhou Wind Farm", "CM-001-V01", ProjectType::kRenewableEnergy, "HB", 2020, 2030};
}

Hash256 verification_hash() {
  Hash256 hash;
  hash.bytes[0] = 0xAB;
  return hash;
}

std::optional<Project> project(TestChain& chain, std::uint64_t id) {
  auto stored = Ledger(chain.executor().state()).get<Project>(keys::project(id));
  EXPECT_TRUE(stored.is_ok());
  return stored.is_ok() ? *stored : std::nullopt;
}

void set_up(TestChain& chain, const Cast& cast) {
  ASSERT_TRUE(
      chain.register_participant(cast.owner, Role::kProjectOwner, "Hubei Green Projects").ok());
  ASSERT_TRUE(chain.register_participant(cast.steel, Role::kCoveredEnterprise, "Wuhan Steel").ok());
}

TEST(ContractsCcer, RegisterApproveIssueAndTransfer) {
  TestChain chain;
  Cast cast;
  set_up(chain, cast);

  const Receipt registered = chain.call(cast.owner, hubei_wind());
  ASSERT_TRUE(registered.ok()) << registered.message;
  auto first = project(chain, 1);
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->id, 1u);
  EXPECT_EQ(first->owner, cast.owner.public_key());
  EXPECT_EQ(first->status, ProjectStatus::kPending);
  EXPECT_EQ(first->details, hubei_wind());
  EXPECT_EQ(first->registered_height, chain.height());

  // Ids come from the officer set's counter, one per project.
  RegisterProject second = hubei_wind();
  second.name = "Xianning Forest";
  second.type = ProjectType::kForestryCarbonSink;
  ASSERT_TRUE(chain.call(cast.owner, second).ok());
  ASSERT_TRUE(project(chain, 2).has_value());
  EXPECT_EQ(project(chain, 2)->details.name, "Xianning Forest");

  const Receipt approved = chain.call(chain.authority(), ApproveProject{1});
  ASSERT_TRUE(approved.ok()) << approved.message;
  EXPECT_EQ(project(chain, 1)->status, ProjectStatus::kApproved);
  EXPECT_GT(project(chain, 1)->approved_ms, 0u);

  const Receipt issued =
      chain.call(chain.authority(), IssueCcer{1, 2024, 20'000, verification_hash()});
  ASSERT_TRUE(issued.ok()) << issued.message;
  const ProductId ccer{ProductKind::kCcer, 2024, 1};
  EXPECT_EQ(ccer.code(), "CCER-1-2024");
  EXPECT_EQ(*chain.executor().balance(cast.owner.public_key(), ccer), 20'000u);
  EXPECT_EQ(project(chain, 1)->issued_t, 20'000u);
  auto batch = Ledger(chain.executor().state()).get<IssuanceRecord>(keys::issuance(ccer, 1));
  ASSERT_TRUE(batch.is_ok() && batch->has_value());
  EXPECT_EQ((*batch)->kind, IssuanceKind::kCcer);
  EXPECT_EQ((*batch)->reference, verification_hash());
  EXPECT_EQ((*batch)->range, (SerialRange{1, 20'001}));

  // A second batch of the same vintage continues the serials; the project total adds up.
  ASSERT_TRUE(chain.call(chain.authority(), IssueCcer{1, 2024, 500, verification_hash()}).ok());
  EXPECT_EQ(project(chain, 1)->issued_t, 20'500u);
  EXPECT_EQ(*chain.executor().balance(cast.owner.public_key(), ccer), 20'500u);

  // The owner sells to a covered enterprise.
  ASSERT_TRUE(chain.call(cast.owner, TransferUnits{cast.steel.public_key(), ccer, 5'000}).ok());
  EXPECT_EQ(*chain.executor().balance(cast.steel.public_key(), ccer), 5'000u);
}

struct Refusal {
  const char* name;
  std::function<Receipt(TestChain&, const Cast&)> run;
  ErrorCode code;
  const char* message_part;
};

std::vector<Refusal> refusals() {
  const auto with = [](std::function<void(RegisterProject&)> edit) {
    return [edit](TestChain& c, const Cast& k) {
      RegisterProject call = hubei_wind();
      edit(call);
      return c.call(k.owner, call);
    };
  };
  return {
      {"register by a covered enterprise",
       [](TestChain& c, const Cast& k) { return c.call(k.steel, hubei_wind()); },
       ErrorCode::kUnauthorized, "only a project_owner may register CCER projects"},
      {"empty name", with([](RegisterProject& p) { p.name.clear(); }), ErrorCode::kInvalidArgument,
       "project name must not be empty"},
      {"empty methodology", with([](RegisterProject& p) { p.methodology.clear(); }),
       ErrorCode::kInvalidArgument, "project methodology must not be empty"},
      {"empty province", with([](RegisterProject& p) { p.province.clear(); }),
       ErrorCode::kInvalidArgument, "province code \"\" must be 1..8 letters A-Z"},
      {"lower-case province", with([](RegisterProject& p) { p.province = "hb"; }),
       ErrorCode::kInvalidArgument, "province code \"hb\" must be upper-case letters A-Z"},
      {"province with a digit", with([](RegisterProject& p) { p.province = "H1"; }),
       ErrorCode::kInvalidArgument, "must be upper-case letters A-Z"},
      {"crediting period reversed", with([](RegisterProject& p) {
         p.crediting_start_year = 2030;
         p.crediting_end_year = 2020;
       }),
       ErrorCode::kInvalidArgument, "crediting period 2030..2020 ends before it starts"},
      {"crediting start before 2005",
       with([](RegisterProject& p) { p.crediting_start_year = 2004; }), ErrorCode::kInvalidArgument,
       "year 2004 is outside 2005..2100"},
      {"crediting end after 2100", with([](RegisterProject& p) { p.crediting_end_year = 2101; }),
       ErrorCode::kInvalidArgument, "year 2101 is outside 2005..2100"},
      {"approve an unknown project",
       [](TestChain& c, const Cast&) { return c.call(c.authority(), ApproveProject{7}); },
       ErrorCode::kNotFound, "no CCER project 7 is registered"},
      {"approve twice",
       [](TestChain& c, const Cast& k) {
         EXPECT_TRUE(c.call(k.owner, hubei_wind()).ok());
         EXPECT_TRUE(c.call(c.authority(), ApproveProject{1}).ok());
         return c.call(c.authority(), ApproveProject{1});
       },
       ErrorCode::kConflict, "CCER project 1 (Suizhou Wind Farm) is already approved"},
      {"issue for a pending project",
       [](TestChain& c, const Cast& k) {
         EXPECT_TRUE(c.call(k.owner, hubei_wind()).ok());
         return c.call(c.authority(), IssueCcer{1, 2024, 10, verification_hash()});
       },
       ErrorCode::kConflict, "CCER project 1 (Suizhou Wind Farm) is not approved yet"},
      {"issue for an unknown project",
       [](TestChain& c, const Cast&) {
         return c.call(c.authority(), IssueCcer{3, 2024, 10, verification_hash()});
       },
       ErrorCode::kNotFound, "no CCER project 3 is registered"},
      {"issue a vintage before the crediting period",
       [](TestChain& c, const Cast& k) {
         EXPECT_TRUE(c.call(k.owner, hubei_wind()).ok());
         EXPECT_TRUE(c.call(c.authority(), ApproveProject{1}).ok());
         return c.call(c.authority(), IssueCcer{1, 2019, 10, verification_hash()});
       },
       ErrorCode::kInvalidArgument, "vintage 2019 is outside the crediting period 2020..2030"},
      {"issue a vintage after the crediting period",
       [](TestChain& c, const Cast& k) {
         EXPECT_TRUE(c.call(k.owner, hubei_wind()).ok());
         EXPECT_TRUE(c.call(c.authority(), ApproveProject{1}).ok());
         return c.call(c.authority(), IssueCcer{1, 2031, 10, verification_hash()});
       },
       ErrorCode::kInvalidArgument, "vintage 2031 is outside the crediting period 2020..2030"},
      {"issue zero tonnes",
       [](TestChain& c, const Cast& k) {
         EXPECT_TRUE(c.call(k.owner, hubei_wind()).ok());
         EXPECT_TRUE(c.call(c.authority(), ApproveProject{1}).ok());
         return c.call(c.authority(), IssueCcer{1, 2024, 0, verification_hash()});
       },
       ErrorCode::kInvalidArgument, "quantity must be at least 1 t"},
      {"issue without a verification hash",
       [](TestChain& c, const Cast& k) {
         EXPECT_TRUE(c.call(k.owner, hubei_wind()).ok());
         EXPECT_TRUE(c.call(c.authority(), ApproveProject{1}).ok());
         return c.call(c.authority(), IssueCcer{1, 2024, 10, Hash256{}});
       },
       ErrorCode::kInvalidArgument, "needs the hash of the verification report"},
  };
}

TEST(ContractsCcer, Refusals) {
  for (const Refusal& refusal : refusals()) {
    SCOPED_TRACE(refusal.name);
    TestChain chain;
    Cast cast;
    set_up(chain, cast);
    const Receipt receipt = refusal.run(chain, cast);
    EXPECT_EQ(receipt.code, refusal.code) << receipt.message;
    EXPECT_NE(receipt.message.find(refusal.message_part), std::string::npos) << receipt.message;
  }
}

TEST(ContractsCcer, RefusedRegistrationDoesNotUseAnId) {
  TestChain chain;
  Cast cast;
  set_up(chain, cast);
  RegisterProject bad = hubei_wind();
  bad.name.clear();
  EXPECT_FALSE(chain.call(cast.owner, bad).ok());
  ASSERT_TRUE(chain.call(cast.owner, hubei_wind()).ok());
  EXPECT_TRUE(project(chain, 1).has_value());
  EXPECT_FALSE(project(chain, 2).has_value());
}

}  // namespace
}  // namespace carbon::contracts
