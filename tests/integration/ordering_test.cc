// The load generator's ordering-only mode (node config bench_ordering_only): opaque items, no
// signatures, no execution. Its figures are only worth something if the mode loses and
// duplicates nothing, so this checks that every item submitted, to any node and to several at
// once, is ordered exactly once and that every node commits the same blocks.
#include "tests/integration/cluster_fixture.h"

namespace carbon::testing {
namespace {

TEST(OrderingOnlyTest, EveryItemIsOrderedExactlyOnceAndEveryNodeCommitsTheSameBlocks) {
  ASSERT_TRUE(core::init_crypto());
  const auto dir = std::filesystem::temp_directory_path() / ("carbon-itest-ordering-" + std::to_string(::getpid()));
  // Small blocks, so that the items spread over many blocks and leaders, and each leader has
  // to leave out what the uncommitted blocks before its own already hold.
  Cluster cluster(CARBON_NODE_BIN, dir, 4, base_port(), json{{"bench_ordering_only", true}, {"max_block_txs", 40}});
  cluster.start_all();
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(Cluster::wait_until([&] { return cluster.status(i).has_value(); }, 20s)) << cluster.log_tail(i);
  }
  constexpr std::size_t kItems = 1'200;
  std::vector<std::string> hex(kItems);
  for (std::size_t k = 0; k < kItems; ++k) {
    core::Bytes item(60, static_cast<std::uint8_t>(k % 251));
    for (std::size_t b = 0; b < 8; ++b) item[b] = static_cast<std::uint8_t>(k >> (8 * b));
    hex[k] = core::to_hex(item);
  }
  // Item k goes to node k % 4; every fifth one also to the next node (the same item reaching
  // two validators, as a client retrying elsewhere would send it).
  for (std::size_t node = 0; node < 4; ++node) {
    for (std::size_t from = 0; from < kItems; from += 200) {
      json batch = json::array();
      for (std::size_t k = from; k < std::min(kItems, from + 200); ++k) {
        if (k % 4 == node || (k % 5 == 0 && (k + 1) % 4 == node)) batch.push_back(hex[k]);
      }
      auto [code, answer] = cluster.post(node, "/txs", json{{"txs", batch}}.dump());
      ASSERT_EQ(code, 200u) << answer.dump();
      for (const auto& result : answer["results"]) ASSERT_TRUE(result.contains("tx_id")) << result.dump();
    }
  }
  std::set<std::string> wanted;
  for (const auto& item : hex) wanted.insert(core::sha3_256(*core::from_hex(item)).to_hex());

  // Read every node's blocks from height 1 until all items are in node 0's.
  auto blocks_of = [&](std::size_t node) {
    std::vector<json> blocks;
    for (std::uint64_t from = 1;;) {
      auto [code, page] = cluster.get(node, "/blocks?from=" + std::to_string(from) + "&limit=100");
      if (code != 200 || page["blocks"].empty()) break;
      for (const auto& block : page["blocks"]) blocks.push_back(block);
      from = blocks.back().value("height", std::uint64_t{0}) + 1;
    }
    return blocks;
  };
  auto height_of = [&](std::size_t node) {
    const auto status = cluster.status(node);
    return status ? status->value("height", std::uint64_t{0}) : std::uint64_t{0};
  };
  std::map<std::string, std::vector<std::uint64_t>> seen;  // item -> heights it was ordered at
  auto count_items = [&](const std::vector<json>& blocks) {
    seen.clear();
    for (const auto& block : blocks) {
      for (const auto& id : block["tx_ids"]) seen[id.get<std::string>()].push_back(block.value("height", std::uint64_t{0}));
    }
  };
  std::vector<json> node0_blocks;
  ASSERT_TRUE(Cluster::wait_until(
      [&] {
        node0_blocks = blocks_of(0);
        count_items(node0_blocks);
        return seen.size() >= wanted.size();
      },
      60s))
      << seen.size() << " of " << wanted.size() << " items ordered\n" << cluster.log_tail(0);
  // A copy that arrives late (by gossip, after its item's block executed) would be ordered in a
  // later block: let every node commit a few more before looking at whole chains.
  const std::uint64_t all_in = node0_blocks.back().value("height", std::uint64_t{0});
  for (std::size_t node = 0; node < 4; ++node) {
    ASSERT_TRUE(Cluster::wait_until([&] { return height_of(node) >= all_in + 5; }, 30s)) << cluster.log_tail(node);
  }
  node0_blocks = blocks_of(0);
  count_items(node0_blocks);
  for (const auto& [id, heights] : seen) {
    EXPECT_EQ(heights.size(), 1u) << "item " << id << " ordered " << heights.size() << " times, at heights "
                                  << json(heights).dump();
    EXPECT_EQ(wanted.count(id), 1u) << "item " << id << " was never submitted";
  }
  EXPECT_EQ(seen.size(), wanted.size());
  std::size_t full_blocks = 0;
  for (const auto& block : node0_blocks) {
    EXPECT_LE(block["tx_ids"].size(), 40u) << "height " << block.value("height", 0);  // max_block_txs held
    if (block["tx_ids"].size() == 40) ++full_blocks;
  }
  EXPECT_GE(full_blocks, 1u);  // the backlog filled blocks to the limit

  // Every node commits the same blocks (the same items at the same heights).
  for (std::size_t node = 1; node < 4; ++node) {
    const auto blocks = blocks_of(node);
    ASSERT_GE(blocks.size(), all_in + 5) << "node" << node;
    const std::size_t common = std::min(blocks.size(), node0_blocks.size());
    for (std::size_t b = 0; b < common; ++b) {
      EXPECT_EQ(blocks[b]["tx_ids"], node0_blocks[b]["tx_ids"]) << "node" << node << " height " << b + 1;
    }
  }
  cluster.stop_all();
  if (!::testing::Test::HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carbon::testing
