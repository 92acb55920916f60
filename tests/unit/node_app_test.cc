// The validator's application (node/app.h) over a real LevelDB store, without the network: what
// it votes for, and that it halts rather than go on when a proposer's state root disagrees with
// its own.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <chrono>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <thread>

#include "contracts/limits.h"
#include "contracts/types.h"
#include "core/hash.h"
#include "core/keys.h"
#include "node/app.h"
#include "node/config.h"
#include "node/payload.h"
#include "node/store.h"

namespace carbon::node {
namespace {

constexpr char kChain[] = "app-test";

class NodeAppTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("carbon-app-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    genesis_.chain_id = kChain;
    genesis_.genesis_time_ms = 1'700'000'000'000;
    genesis_.validators.push_back({"node0", core::generate_secret_key().public_key(), {"127.0.0.1", 1}});
    genesis_.authority_key = authority_.public_key();
    config_.name = "node0";
    config_.data_dir = dir_;
    auto store = NodeStore::open(dir_);
    ASSERT_TRUE(store.is_ok()) << store.status().message();
    store_ = std::move(store).value();
    app_ = std::make_unique<NodeApp>(io_, genesis_, config_, *store_);
    ASSERT_TRUE(app_->open().is_ok());
  }
  void TearDown() override {
    app_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  // The authority's transaction with this nonce (a proposal to register a participant), as bytes.
  core::Bytes authority_tx(std::uint64_t nonce, const std::string& chain = kChain) const {
    contracts::SignedTx tx;
    tx.tx.chain_id = chain;
    tx.tx.sender = authority_.public_key();
    tx.tx.nonce = nonce;
    tx.tx.expiry_height = 1000;
    tx.tx.call = contracts::Propose{contracts::RegisterParticipant{
        core::generate_secret_key().public_key(), "firm " + std::to_string(nonce), contracts::Role::kCoveredEnterprise}};
    contracts::sign_tx(tx, authority_);
    return contracts::encode_signed_tx(tx);
  }

  // A block at `height` on top of `parent` carrying these transactions and a state-root claim.
  consensus::Block block(consensus::Height height, const core::Hash256& parent, const std::vector<core::Bytes>& txs,
                         std::uint64_t claimed_height = 0, const core::Hash256& claimed_root = {}) const {
    consensus::Block out;
    out.header.chain_id = kChain;
    out.header.epoch = 1;
    out.header.round = height;
    out.header.height = height;
    out.header.parent_id = parent;
    out.header.timestamp_ms = genesis_.genesis_time_ms + height * 1000;
    std::vector<core::ByteView> views(txs.begin(), txs.end());
    append_payload(out.payload, claimed_height, claimed_root, views);
    out.header.payload_digest = core::sha3_256(out.payload);
    return out;
  }

  bool wait_executed(consensus::Height height) {
    for (int i = 0; i < 500 && app_->executed_height() < height; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return app_->executed_height() >= height;
  }
  nlohmann::json status() const { return nlohmann::json::parse(app_->rpc_status().second); }

  std::filesystem::path dir_;
  core::SecretKey authority_ = core::generate_secret_key();
  Genesis genesis_;
  NodeConfig config_;
  boost::asio::io_context io_;
  std::unique_ptr<NodeStore> store_;
  std::unique_ptr<NodeApp> app_;
};

TEST_F(NodeAppTest, VotesOnlyForBlocksWhoseEveryTransactionItCanValidate) {
  const core::Hash256 parent = core::sha3_256(core::Bytes{1});
  EXPECT_TRUE(app_->payload_acceptable(block(1, parent, {authority_tx(1), authority_tx(2)})));
  // State-dependent failures (here a nonce far ahead) are execution's, not a reason to refuse.
  EXPECT_TRUE(app_->payload_acceptable(block(1, parent, {authority_tx(7)})));

  core::Bytes bad_signature = authority_tx(3);
  bad_signature[bad_signature.size() - 5] ^= 0x01;  // inside the signature, the encoding's last field
  {
    auto decoded = contracts::decode_signed_tx(bad_signature);
    ASSERT_TRUE(decoded.is_ok());  // well-formed: only its signature fails
    const core::Status verdict = contracts::check_signatures(*decoded);
    ASSERT_FALSE(verdict.is_ok());
    EXPECT_NE(verdict.message().find("signature"), std::string::npos) << verdict.message();
  }
  EXPECT_FALSE(app_->payload_acceptable(block(1, parent, {authority_tx(1), bad_signature})));
  EXPECT_FALSE(app_->payload_acceptable(block(1, parent, {authority_tx(1, "another-chain")})));
  EXPECT_FALSE(app_->payload_acceptable(block(1, parent, {core::Bytes{1, 2, 3}})));  // does not decode
  consensus::Block not_a_payload = block(1, parent, {});
  not_a_payload.payload = {0xff, 0xff};
  EXPECT_FALSE(app_->payload_acceptable(not_a_payload));
  // A claim about the block's own height or later is refused (a root is known only afterwards).
  EXPECT_FALSE(app_->payload_acceptable(block(1, parent, {}, 1, core::sha3_256(core::Bytes{2}))));
}

TEST_F(NodeAppTest, KeepsFromAVotedBlockOnlyWhatAdmissionWouldTake) {
  // A block's transactions this node had not seen are kept in its mempool (the block may never
  // commit), but only those admission would take: a faulty leader's blocks of validly signed
  // transactions from unknown senders, or with nonces that never come due, must not fill it.
  const core::Hash256 parent = core::sha3_256(core::Bytes{1});
  const core::SecretKey stranger = core::generate_secret_key();
  contracts::SignedTx junk;
  junk.tx.chain_id = kChain;
  junk.tx.sender = stranger.public_key();
  junk.tx.nonce = 2;
  junk.tx.expiry_height = UINT64_MAX;
  junk.tx.call = contracts::Propose{contracts::SetFrozen{stranger.public_key(), 1}};
  contracts::sign_tx(junk, stranger);
  const core::Bytes far_nonce = authority_tx(contracts::kMaxNonceGap + 5);
  ASSERT_TRUE(app_->payload_acceptable(block(1, parent, {contracts::encode_signed_tx(junk), far_nonce})));
  EXPECT_EQ(status().value("mempool_size", 99), 0);
  // What admission takes is kept.
  ASSERT_TRUE(app_->payload_acceptable(block(1, core::sha3_256(core::Bytes{2}), {authority_tx(1)})));
  EXPECT_EQ(status().value("mempool_size", 99), 1);
}

TEST_F(NodeAppTest, HaltsWhenAProposersStateRootDisagreesWithItsOwn) {
  const consensus::Block first = block(1, core::sha3_256(core::Bytes{1}), {authority_tx(1)});
  ASSERT_TRUE(app_->payload_acceptable(first));
  app_->on_commit({first});
  ASSERT_TRUE(wait_executed(1));
  const std::string root_1 = status().value("state_root", "");
  ASSERT_EQ(root_1.size(), 64u);

  // A proposer that agrees is voted for; one that claims another root at height 1 is not ...
  const auto ours = core::Hash256::from_hex(root_1);
  ASSERT_TRUE(ours.is_ok());
  const core::Hash256 wrong = core::sha3_256(core::Bytes{9});
  EXPECT_TRUE(app_->payload_acceptable(block(2, first.id(), {}, 1, *ours)));
  EXPECT_FALSE(app_->payload_acceptable(block(2, first.id(), {}, 1, wrong)));

  // ... and if such a block is committed anyway (more than f faulty validators agree with the
  // claim), this node stops executing instead of going on with a state the others do not share.
  const consensus::Block second = block(2, first.id(), {authority_tx(2)}, 1, wrong);
  app_->on_commit({second});
  for (int i = 0; i < 500 && !status().value("halted", false); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(status().value("halted", false));
  EXPECT_EQ(app_->executed_height(), 1u);
  EXPECT_EQ(status().value("state_root", ""), root_1);
  const Admission refused = app_->admit(authority_tx(3), /*from_client=*/true);
  EXPECT_FALSE(refused.status.is_ok());
  EXPECT_NE(refused.status.message().find("halted"), std::string::npos) << refused.status.message();
}

}  // namespace
}  // namespace carbon::node
