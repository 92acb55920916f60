// The node's LevelDB-backed contract state must behave exactly like the in-memory reference
// store (contracts::MemoryStateStore), buffered writes and mirror mode included, across
// "blocks" (take_batch, or for the mirror add_writes of the keys written, then a LevelDB write)
// and a reopen.
#include <gtest/gtest.h>
#include <leveldb/db.h>
#include <unistd.h>

#include <filesystem>
#include <memory>
#include <random>
#include <set>

#include "contracts/merkle.h"
#include "contracts/state_store.h"
#include "contracts_harness.h"
#include "node/state_store_leveldb.h"

namespace carbon::node {
namespace {

std::unique_ptr<leveldb::DB> open_db(const std::filesystem::path& dir) {
  leveldb::Options options;
  options.create_if_missing = true;
  leveldb::DB* raw = nullptr;
  EXPECT_TRUE(leveldb::DB::Open(options, dir.string(), &raw).ok());
  return std::unique_ptr<leveldb::DB>(raw);
}

// `written`: every key written since the last flush, as the executor lists a block's writes
// for the mirrored store (Executor::last_block_writes()).
void flush(LevelDbStateStore& store, bool mirror, const std::set<std::string>& written, leveldb::DB& db) {
  leveldb::WriteBatch batch;
  if (mirror) {
    std::vector<contracts::StateWrite> writes;
    for (const auto& key : written) writes.push_back(contracts::StateWrite{key, store.find(key)});
    LevelDbStateStore::add_writes(batch, writes);
  } else {
    store.take_batch(batch);
  }
  ASSERT_TRUE(db.Write(leveldb::WriteOptions(), &batch).ok());
}

void expect_same(const contracts::StateStore& actual, const contracts::MemoryStateStore& expected,
                 const std::vector<std::string>& prefixes) {
  for (const auto& [key, value] : expected.entries()) {
    ASSERT_EQ(actual.get(key), value) << key;
    const core::Bytes* found = actual.find(key);
    ASSERT_NE(found, nullptr) << key;
    ASSERT_EQ(*found, value) << key;
  }
  for (const std::string& absent : {std::string("acct/none"), std::string("zz")}) {
    ASSERT_EQ(actual.find(absent), nullptr);
    ASSERT_FALSE(actual.get(absent).has_value());
  }
  for (const auto& prefix : prefixes) {
    for (const std::size_t limit : {std::size_t{1}, std::size_t{3}, std::size_t{1000}}) {
      for (const std::string& start : {std::string(), prefix + "5", prefix + "zz"}) {
        ASSERT_EQ(actual.scan(prefix, start, limit), expected.scan(prefix, start, limit))
            << "prefix " << prefix << " start " << start << " limit " << limit;
      }
    }
  }
}

class LevelDbStateStoreTest : public ::testing::TestWithParam<bool> {};

TEST_P(LevelDbStateStoreTest, MatchesTheReferenceStoreThroughBlocksAndAReopen) {
  const bool mirror = GetParam();
  const auto dir = std::filesystem::temp_directory_path() /
                   ("carbon-statestore-" + std::to_string(::getpid()) + (mirror ? "-m" : "-d"));
  std::filesystem::remove_all(dir);
  auto db = open_db(dir);
  auto store = std::make_unique<LevelDbStateStore>(db.get(), mirror);
  contracts::MemoryStateStore reference;
  const std::vector<std::string> prefixes = {"acct/", "bal/", "hold/", ""};
  std::mt19937 rng(42);
  for (int block = 0; block < 40; ++block) {
    std::set<std::string> written;
    for (int op = 0; op < 60; ++op) {
      const std::string key = prefixes[rng() % 3] + std::to_string(rng() % 40);
      written.insert(key);
      if (rng() % 4 == 0) {
        store->erase(key);
        reference.erase(key);
      } else {
        const core::Bytes value(1 + rng() % 5, static_cast<std::uint8_t>(rng()));
        store->put(key, value);
        reference.put(key, value);
      }
    }
    expect_same(*store, reference, prefixes);  // with writes still buffered
    flush(*store, mirror, written, *db);
    expect_same(*store, reference, prefixes);  // after the block is written
    if (block == 20) {                          // a restart: state comes back from disk
      store.reset();
      store = std::make_unique<LevelDbStateStore>(db.get(), mirror);
      expect_same(*store, reference, prefixes);
    }
  }
  store.reset();
  db.reset();
  std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(DiskAndMirror, LevelDbStateStoreTest, ::testing::Values(false, true));

TEST(LevelDbStateStoreHistory, HistoryRecordsReachDiskButNeverTheMirror) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("carbon-statestore-history-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto db = open_db(dir);
  const core::Bytes record{7, 7};
  {
    // The executor's store: keys on both sides of the mv/ range, and two history records.
    LevelDbStateStore mirrored(db.get(), /*mirror=*/true);
    mirrored.put("acct/a", core::Bytes{1});
    mirrored.put("mkt/z", core::Bytes{2});
    mirrored.put("prod/p", core::Bytes{3});
    mirrored.put_history("mv/P/1", record);
    mirrored.put_history("mv/P/2", record);
    EXPECT_EQ(mirrored.find("mv/P/1"), nullptr);
    EXPECT_TRUE(mirrored.scan("mv/", "", 10).empty());
    // The block's writes, as the executor reports them, carry the records to disk.
    std::vector<contracts::StateWrite> writes;
    for (const char* key : {"acct/a", "mkt/z", "prod/p"}) writes.push_back({key, mirrored.find(key)});
    writes.push_back({"mv/P/1", &record});
    writes.push_back({"mv/P/2", &record});
    leveldb::WriteBatch batch;
    LevelDbStateStore::add_writes(batch, writes);
    ASSERT_TRUE(db->Write(leveldb::WriteOptions(), &batch).ok());
  }
  LevelDbStateStore reader(db.get(), /*mirror=*/false);  // as RPC reads
  EXPECT_EQ(reader.get("mv/P/1"), record);
  EXPECT_EQ(reader.scan("mv/", "", 10).size(), 2u);
  // A restart loads everything but the records: the keys after the mv/ range too.
  LevelDbStateStore reopened(db.get(), /*mirror=*/true);
  const auto loaded = reopened.scan("", "", 100);
  ASSERT_EQ(loaded.size(), 3u);
  EXPECT_EQ(loaded[0].first, "acct/a");
  EXPECT_EQ(loaded[1].first, "mkt/z");
  EXPECT_EQ(loaded[2].first, "prod/p");
  EXPECT_EQ(reopened.find("mv/P/2"), nullptr);
  // A non-mirrored store buffers a record like any write until its batch is taken.
  LevelDbStateStore buffered(db.get(), /*mirror=*/false);
  buffered.put_history("mv/P/3", record);
  EXPECT_EQ(buffered.get("mv/P/3"), record);
  EXPECT_FALSE(reader.get("mv/P/3").has_value());
  leveldb::WriteBatch batch;
  buffered.take_batch(batch);
  ASSERT_TRUE(db->Write(leveldb::WriteOptions(), &batch).ok());
  EXPECT_EQ(reader.get("mv/P/3"), record);
  db.reset();
  std::filesystem::remove_all(dir);
}

// The executor over the node's mirrored store and over the in-memory reference store compute
// the same receipts and state root at every height, equal to the root computed from scratch,
// through transfers that split, merge and consume serial ranges (keys written, erased and
// written again), and after a reopen from what reached disk.
TEST(LevelDbStateStoreExecution, ExecutorRootsMatchTheReferenceStoreAndARebuild) {
  using contracts::testing::make_tx;
  using contracts::testing::test_key;
  const auto dir = std::filesystem::temp_directory_path() /
                   ("carbon-statestore-exec-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  auto db = open_db(dir);
  const core::SecretKey authority = test_key(0);
  const contracts::GenesisConfig genesis{authority.public_key(), "Hubei DRC", {}, 1};
  auto node_store = std::make_unique<LevelDbStateStore>(db.get(), /*mirror=*/true);
  LevelDbStateStore* node_raw = node_store.get();
  auto node_opened = contracts::Executor::open(contracts::testing::kTestChain, genesis, std::move(node_store));
  ASSERT_TRUE(node_opened.is_ok()) << node_opened.status().to_string();
  contracts::Executor node_executor = std::move(node_opened).value();
  auto reference_opened = contracts::Executor::open(contracts::testing::kTestChain, genesis,
                                                    std::make_unique<contracts::MemoryStateStore>());
  ASSERT_TRUE(reference_opened.is_ok());
  contracts::Executor reference = std::move(reference_opened).value();

  // The node's way to disk: the block's writes in one batch (NodeApp::store_executed).
  const auto persist = [&](contracts::Executor& executor) {
    leveldb::WriteBatch batch;
    LevelDbStateStore::add_writes(batch, executor.last_block_writes());
    ASSERT_TRUE(db->Write(leveldb::WriteOptions(), &batch).ok());
  };
  persist(node_executor);  // the genesis state, as a node's first start writes it (NodeApp::open)
  constexpr std::size_t kHolders = 6;
  std::vector<core::SecretKey> holders;
  std::vector<std::uint64_t> nonces(kHolders, 0);
  std::uint64_t authority_nonce = 0;
  std::vector<contracts::SignedTx> setup;
  for (std::uint32_t i = 0; i < kHolders; ++i) {
    holders.push_back(test_key(100 + i));
    setup.push_back(make_tx(authority, ++authority_nonce,
                            contracts::RegisterParticipant{holders.back().public_key(), "H" + std::to_string(i),
                                                           contracts::Role::kCoveredEnterprise}));
    setup.push_back(make_tx(authority, ++authority_nonce,
                            contracts::IssueAllowances{holders.back().public_key(), 2025, 1'000}));
  }
  contracts::Height height = 1;
  auto node_result = node_executor.execute_block(height, 1'000, setup);
  auto reference_result = reference.execute_block(height, 1'000, setup);
  for (const auto& receipt : node_result.receipts) ASSERT_TRUE(receipt.ok()) << receipt.message;
  ASSERT_EQ(node_result.state_root, reference_result.state_root);
  persist(node_executor);

  std::mt19937 rng(7);  // fixed: the same blocks every run
  std::uint32_t failed = 0;
  for (int block = 0; block < 40; ++block) {
    ++height;
    std::vector<contracts::SignedTx> txs;
    const std::size_t count = rng() % 12;
    for (std::size_t t = 0; t < count; ++t) {
      const std::size_t from = rng() % kHolders;
      const std::size_t to = (from + 1 + rng() % (kHolders - 1)) % kHolders;
      const std::uint64_t quantity = 1 + rng() % 400;  // sometimes more than held: a failure
      txs.push_back(make_tx(holders[from], ++nonces[from],
                            contracts::TransferUnits{holders[to].public_key(),
                                                     contracts::ProductId::allowance(2025), quantity}));
    }
    node_result = node_executor.execute_block(height, 1'000 * height, txs);
    reference_result = reference.execute_block(height, 1'000 * height, txs);
    ASSERT_EQ(node_result.receipts.size(), reference_result.receipts.size());
    for (std::size_t i = 0; i < node_result.receipts.size(); ++i) {
      EXPECT_EQ(node_result.receipts[i].ok(), reference_result.receipts[i].ok());
      if (!node_result.receipts[i].ok()) ++failed;
    }
    ASSERT_EQ(node_result.state_root, reference_result.state_root) << "height " << height;
    ASSERT_EQ(node_result.state_root, contracts::compute_state_root(*node_raw)) << "height " << height;
    persist(node_executor);
  }
  EXPECT_GT(failed, 0u);  // the blocks did include refused transfers
  // A restart: the mirror loaded from disk, the tree rebuilt from it; the next blocks still agree.
  const core::Hash256 before_restart = node_executor.state_root();
  {
    contracts::Executor closing = std::move(node_executor);
  }
  auto reopened_store = std::make_unique<LevelDbStateStore>(db.get(), /*mirror=*/true);
  node_raw = reopened_store.get();
  auto reopened = contracts::Executor::open(contracts::testing::kTestChain, genesis, std::move(reopened_store));
  ASSERT_TRUE(reopened.is_ok()) << reopened.status().to_string();
  contracts::Executor restarted = std::move(reopened).value();
  EXPECT_EQ(restarted.state_root(), before_restart);
  for (int block = 0; block < 10; ++block) {
    ++height;
    std::vector<contracts::SignedTx> txs;
    for (std::size_t from = 0; from < kHolders; ++from) {
      txs.push_back(make_tx(holders[from], ++nonces[from],
                            contracts::TransferUnits{holders[(from + 1) % kHolders].public_key(),
                                                     contracts::ProductId::allowance(2025), 1 + rng() % 50}));
    }
    node_result = restarted.execute_block(height, 1'000 * height, txs);
    reference_result = reference.execute_block(height, 1'000 * height, txs);
    ASSERT_EQ(node_result.state_root, reference_result.state_root) << "height " << height;
    ASSERT_EQ(node_result.state_root, contracts::compute_state_root(*node_raw)) << "height " << height;
    persist(restarted);
  }
  db.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace carbon::node
