// Integration: the registry on real carbon-node processes. One enterprise's compliance steps
// (allocation, report, verification, approval, true-up, surrender) submitted as signed
// transactions over RPC; every validator answers the registry queries alike; bad query input
// gets clear errors.
#include "contracts/calls.h"
#include "tests/integration/cluster_fixture.h"

namespace carbon::testing {
namespace {

constexpr std::uint16_t kYear = 2026;

core::Hash256 document(std::uint8_t tag) {
  core::Hash256 hash;
  hash.bytes[0] = tag;
  hash.bytes[31] = 0x5a;
  return hash;
}

class RegistryTest : public ClusterTest {
 protected:
  // Signs `call` with key's next nonce, submits it to node (nonce % 4), waits for the commit
  // and returns the receipt.
  json run(const core::SecretKey& key, contracts::Call call) {
    std::uint64_t& nonce = nonces_[key.public_key()];
    ++nonce;
    const std::size_t node = nonce % 4;
    auto [id, doc] = submit(node, cluster_->sign(key, nonce, std::move(call)));
    EXPECT_FALSE(id.empty()) << doc.dump();
    if (id.empty()) return json::object();
    auto receipt = cluster_->wait_for_receipt(node, id, 30s);
    EXPECT_TRUE(receipt.has_value()) << "transaction " << id << " not committed in 30 s";
    return receipt.value_or(json::object());
  }
  void ok(const core::SecretKey& key, contracts::Call call) {
    const json receipt = run(key, std::move(call));
    ASSERT_TRUE(receipt.value("ok", false)) << receipt.dump();
  }
  void act(contracts::AuthorityAct act) { ok(cluster_->authority(), contracts::Propose{std::move(act)}); }

  std::map<core::PublicKey, std::uint64_t> nonces_;
};

TEST_F(RegistryTest, ComplianceStepsOnRealNodesAndTheQueriesAgree) {
  using namespace contracts;
  const auto steel = core::generate_secret_key();
  const auto verifier = core::generate_secret_key();
  const std::string steel_hex = steel.public_key().to_hex();
  // Deadlines from the wall clock (block times follow it), so the test never ages out.
  const auto now_ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                                     std::chrono::system_clock::now().time_since_epoch())
                                                     .count());
  RuleSet rules = default_rules(kYear);
  rules.report_deadline_ms = now_ms + 3'600'000;
  rules.verification_deadline_ms = now_ms + 2 * 3'600'000;
  rules.surrender_deadline_ms = now_ms + 3 * 3'600'000;
  act(SetRules{kYear, rules});
  act(RegisterParticipant{steel.public_key(), "Wuhan Steel", Role::kCoveredEnterprise});
  act(RegisterParticipant{verifier.public_key(), "CEC Verification", Role::kVerifier});
  act(SetCap{kYear, 1'000'000, 80'000, 20'000});
  AllocationInputs inputs;
  inputs.method = AllocationMethod::kBenchmark;
  inputs.benchmark_g_per_unit = 500'000;
  inputs.base_production_units = 100'000;  // 50,000 t
  act(SetAllocation{steel.public_key(), kYear, inputs});
  act(IssuePreAllocation{steel.public_key(), kYear});  // 25,000 t
  act(AssignVerifier{steel.public_key(), kYear, verifier.public_key()});
  ok(steel, SubmitReport{kYear, document(1), 30'000});
  ok(verifier, SubmitVerification{steel.public_key(), kYear, document(2), 30'000, 110'000});
  act(ApproveEmissions{steel.public_key(), kYear});
  act(TrueUpAllocation{steel.public_key(), kYear});  // final 55,000 t: 30,000 t more
  // Over the obligation: refused with the reason, nothing retired.
  const json over = run(steel, Surrender{kYear, ProductId::allowance(kYear), 30'001});
  EXPECT_FALSE(over.value("ok", true));
  EXPECT_NE(over.value("message", "").find("remaining obligation"), std::string::npos) << over.dump();
  ok(steel, Surrender{kYear, ProductId::allowance(kYear), 30'000});

  // Every validator has executed the last transaction and answers the same.
  const std::uint64_t last = height(0);
  ASSERT_TRUE(Cluster::wait_until(
      [&] {
        for (std::size_t i = 0; i < 4; ++i)
          if (height(i) < last) return false;
        return true;
      },
      30s));
  std::set<std::string> roots;
  for (std::size_t i = 0; i < 4; ++i) {
    roots.insert(root_at(i, last));
    auto [code, position] = cluster_->get(i, "/position/" + std::to_string(kYear) + "/" + steel_hex);
    ASSERT_EQ(code, 200u) << position.dump();
    EXPECT_EQ(position.value("obligation_t", 0), 30'000);
    EXPECT_EQ(position.value("surrendered_t", 0), 30'000);
    EXPECT_EQ(position.value("shortfall_t", 1), 0);
    EXPECT_EQ(position.value("offset_limit_t", 0), 5'000);  // 10% of the 50,000 t initial allocation

    auto [mrv_code, mrv] = cluster_->get(i, "/mrv/" + std::to_string(kYear) + "/" + steel_hex);
    ASSERT_EQ(mrv_code, 200u) << mrv.dump();
    EXPECT_EQ(mrv["history"].size(), 4u) << mrv.dump();  // assigned, report, verification, approval

    auto [holdings_code, holdings] = cluster_->get(i, "/holdings/" + steel_hex);
    ASSERT_EQ(holdings_code, 200u);
    EXPECT_NE(holdings.dump().find("25000"), std::string::npos) << holdings.dump();  // 55,000 - 30,000

    auto [trace_code, trace] = cluster_->get(i, "/trace/HBEA-" + std::to_string(kYear) + "/1");
    ASSERT_EQ(trace_code, 200u) << trace.dump();
    EXPECT_TRUE(trace.contains("retirement")) << trace.dump();  // the lowest serials were surrendered
  }
  EXPECT_EQ(roots.size(), 1u);
  EXPECT_FALSE(roots.begin()->empty());

  // Bad query input: clear errors, no crash.
  const auto expect_error = [&](const std::string& target, unsigned status) {
    auto [code, doc] = cluster_->get(1, target);
    EXPECT_EQ(code, status) << target << " -> " << doc.dump();
    EXPECT_TRUE(doc.is_object() && doc.contains("error")) << target;
  };
  expect_error("/holdings/" + core::generate_secret_key().public_key().to_hex(), 404);  // nobody registered it
  expect_error("/trace/HBEA-2026/abc", 400);
  expect_error("/trace/NOPE-1/1", 400);
  expect_error("/position/1999/" + steel_hex, 400);
  expect_error("/mrv/2026/not-an-address", 400);
  expect_error("/rules/twenty", 400);
  expect_error("/proposal/999999", 404);
  expect_error("/participants?limit=0", 400);
  expect_error("/participants?limit=5&x=1", 400);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(alive(i));
}

}  // namespace
}  // namespace carbon::testing
