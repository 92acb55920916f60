// NodeStore (node/store.h): a committed block this node voted for is written once and read back
// through its pending entry; one learnt otherwise is stored whole; pending blocks that lost at a
// committed height go; restart sees the same.
#include "node/store.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "consensus/types.h"

namespace carbon::node {
namespace {

consensus::Block child_of(const consensus::Block& parent, consensus::Round round, std::uint8_t payload_byte) {
  consensus::Block block;
  block.header.chain_id = parent.header.chain_id;
  block.header.epoch = parent.header.epoch;
  block.header.round = round;
  block.header.height = parent.header.height + 1;
  block.header.parent_id = parent.id();
  block.header.parent_round = parent.header.round;
  block.header.timestamp_ms = parent.header.timestamp_ms + 1;
  block.payload = core::Bytes(1000, payload_byte);
  block.header.payload_digest = core::sha3_256(block.payload);
  return block;
}

class NodeStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("carbon-node-store-test-" + std::to_string(::testing::UnitTest::GetInstance()->random_seed()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(NodeStoreTest, CommittedBlocksReadBackWhetherVotedForOrNot) {
  const consensus::Block genesis = consensus::make_genesis_block("store-test", 1, 1000);
  const consensus::Block voted = child_of(genesis, 1, 0xAA);
  const consensus::Block rival = child_of(genesis, 2, 0xBB);  // same height, lost
  const consensus::Block synced = child_of(voted, 3, 0xCC);   // never voted for here
  const consensus::Block pending = child_of(synced, 4, 0xDD); // voted for, not committed
  {
    auto store = NodeStore::open(dir_);
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    ASSERT_TRUE((*store)->persist_for_vote({voted, rival}, nullptr).is_ok());
    ASSERT_TRUE((*store)->persist_for_vote({pending}, nullptr).is_ok());
    leveldb::WriteBatch first;
    ASSERT_TRUE((*store)->commit_block(voted, core::Hash256{}, first).is_ok());
    leveldb::WriteBatch second;
    ASSERT_TRUE((*store)->commit_block(synced, core::Hash256{}, second).is_ok());
    // The block voted for is stored once: its commit entry is its id.
    auto reference = (*store)->get(NodeStore::height_key('c', 1));
    ASSERT_TRUE(reference.is_ok() && reference->has_value());
    EXPECT_EQ((*reference)->size(), 32u);
    auto whole = (*store)->get(NodeStore::height_key('c', 2));
    ASSERT_TRUE(whole.is_ok() && whole->has_value());
    EXPECT_GT((*whole)->size(), 1000u);
    // The rival at the committed height is gone.
    const core::Hash256 rival_id = rival.id();
    auto rival_entry =
        (*store)->get(NodeStore::height_key('p', 1) + std::string(rival_id.bytes.begin(), rival_id.bytes.end()));
    ASSERT_TRUE(rival_entry.is_ok());
    EXPECT_FALSE(rival_entry->has_value());
  }
  // After a restart: the same blocks, and only the uncommitted one is pending.
  auto store = NodeStore::open(dir_);
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  EXPECT_EQ((*store)->committed_height(), 2u);
  for (const auto& [height, expected] : {std::pair{1u, &voted}, std::pair{2u, &synced}}) {
    auto block = (*store)->committed_block(height);
    ASSERT_TRUE(block.is_ok()) << block.status().to_string();
    ASSERT_TRUE(block->has_value()) << "height " << height;
    EXPECT_EQ((*block)->id(), expected->id());
    EXPECT_EQ((*block)->payload, expected->payload);
  }
  auto missing = (*store)->committed_block(3);
  ASSERT_TRUE(missing.is_ok());
  EXPECT_FALSE(missing->has_value());
  auto loaded = (*store)->load_pending_blocks();
  ASSERT_TRUE(loaded.is_ok());
  ASSERT_EQ(loaded->size(), 1u);
  EXPECT_EQ(loaded->front().id(), pending.id());
}

TEST_F(NodeStoreTest, ADataDirectoryStaysWithTheGenesisItWasMadeFor) {
  const core::Hash256 first = core::sha3_256(core::as_bytes(std::string_view("genesis one")));
  const core::Hash256 second = core::sha3_256(core::as_bytes(std::string_view("genesis two")));
  {
    auto store = NodeStore::open(dir_);
    ASSERT_TRUE(store.is_ok()) << store.status().to_string();
    EXPECT_TRUE((*store)->bind_genesis(first).is_ok());
    EXPECT_TRUE((*store)->bind_genesis(first).is_ok());
  }
  auto store = NodeStore::open(dir_);  // after a restart too
  ASSERT_TRUE(store.is_ok()) << store.status().to_string();
  EXPECT_TRUE((*store)->bind_genesis(first).is_ok());
  const core::Status other = (*store)->bind_genesis(second);
  EXPECT_EQ(other.code(), core::ErrorCode::kConflict);
  EXPECT_NE(other.message().find("made for another genesis"), std::string::npos) << other.message();
}

}  // namespace
}  // namespace carbon::node
