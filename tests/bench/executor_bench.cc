// The contracts' execution alone on one core: signed transfers (signatures already verified,
// as in the node, where the verdict is cached at admission) executed in blocks against an
// in-memory state, with the Merkle root computed after every block. Prints transfers per
// second and microseconds per transfer; asserts nothing. The node's share of a 4-validator
// run is this cost times four (every validator executes every block).
//
//   executor_bench [--senders S] [--blocks B] [--block-txs T] [--orders]
// Also prints the state root after the last block (the same on every build for the same
// arguments, unless the state format changed).
// --orders: limit orders on the exchange instead of transfers (one product, alternating buys
// and sells over 20 price levels of which 6 cross, 1-10 t), each matched and settled
// (delivery versus payment) in the transaction that places it.
// --leveldb DIR: the node's state store instead (node/state_store_leveldb.h: LevelDB in a fresh
// DIR with the in-memory mirror), and each block's writes taken as a batch and written with
// sync, as the node's execution thread does (without its receipts and block records).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <filesystem>
#include <memory>

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include "contracts/executor.h"
#include "node/state_store_leveldb.h"

namespace {

using namespace carbon;
using namespace carbon::contracts;

core::SecretKey key_for(std::uint32_t index) {
  std::array<std::uint8_t, 32> seed{};
  for (std::size_t i = 0; i < 4; ++i) seed[i] = static_cast<std::uint8_t>(index >> (8 * i));
  seed[31] = 0xB7;
  return core::SecretKey(seed);
}

SignedTx signed_call(const std::string& chain, const core::SecretKey& key, std::uint64_t nonce, Call call) {
  SignedTx tx;
  tx.tx.chain_id = chain;
  tx.tx.sender = key.public_key();
  tx.tx.nonce = nonce;
  tx.tx.expiry_height = 1'000'000'000;
  tx.tx.call = std::move(call);
  sign_tx(tx, key);
  return tx;
}

}  // namespace

int main(int argc, char** argv) {
  std::size_t senders = 200;
  std::size_t blocks = 20;
  std::size_t block_txs = 2000;
  bool orders = false;
  std::string leveldb_dir;
  for (int i = 1; i < argc; ++i) orders = orders || std::string(argv[i]) == "--orders";
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--orders") {
      --i;
      continue;
    }
    if (flag == "--leveldb") {
      leveldb_dir = argv[i + 1];
      continue;
    }
    const auto value = static_cast<std::size_t>(std::strtoull(argv[i + 1], nullptr, 10));
    if (flag == "--senders") senders = value;
    if (flag == "--blocks") blocks = value;
    if (flag == "--block-txs") block_txs = value;
  }
  if (senders < 2 || blocks == 0 || block_txs == 0) {
    std::fprintf(stderr,
                 "usage: executor_bench [--senders S>=2] [--blocks B>=1] [--block-txs T>=1] [--orders] "
                 "[--leveldb NEW_DIR]\n");
    return 2;
  }
  if (!core::init_crypto()) return 1;
  const std::string chain = "carbon-bench";
  const core::SecretKey authority = key_for(0);
  const GenesisConfig genesis{authority.public_key(), "authority", {}, 1};
  std::unique_ptr<leveldb::DB> db;
  node::LevelDbStateStore* leveldb_state = nullptr;
  std::unique_ptr<Executor> opened;
  if (leveldb_dir.empty()) {
    opened = std::make_unique<Executor>(chain, genesis);
  } else {
    if (std::filesystem::exists(leveldb_dir)) {
      std::fprintf(stderr, "executor_bench: %s exists; give a new directory\n", leveldb_dir.c_str());
      return 2;
    }
    leveldb::Options options;
    options.create_if_missing = true;
    leveldb::DB* raw = nullptr;
    if (const auto status = leveldb::DB::Open(options, leveldb_dir, &raw); !status.ok()) {
      std::fprintf(stderr, "executor_bench: %s\n", status.ToString().c_str());
      return 1;
    }
    db.reset(raw);
    auto store = std::make_unique<node::LevelDbStateStore>(db.get(), /*mirror=*/true);
    leveldb_state = store.get();
    auto executor = Executor::open(chain, genesis, std::move(store));
    if (!executor) {
      std::fprintf(stderr, "executor_bench: %s\n", executor.status().message().c_str());
      return 1;
    }
    opened = std::make_unique<Executor>(std::move(executor).value());
  }
  Executor& executor = *opened;
  // What the node does after each block: the block's state writes in one synced batch (one
  // batch, cleared and reused, as the node's execution thread does).
  leveldb::WriteBatch batch;
  const auto persist = [&] {
    if (leveldb_state == nullptr) return true;
    batch.Clear();
    node::LevelDbStateStore::add_writes(batch, executor.last_block_writes());
    leveldb::WriteOptions sync;
    sync.sync = true;
    return db->Write(sync, &batch).ok();
  };
  if (!persist()) return 1;  // the genesis state
  executor.set_signature_check({});  // verified once at admission in the node, not here

  std::vector<core::SecretKey> keys;
  for (std::size_t s = 0; s < senders; ++s) keys.push_back(key_for(static_cast<std::uint32_t>(s + 1)));
  std::vector<std::uint64_t> nonces(senders, 0);
  std::uint64_t authority_nonce = 0;
  Height height = 0;
  std::uint64_t time_ms = 1'767'225'600'000ULL;
  {
    std::vector<SignedTx> setup;
    for (std::size_t s = 0; s < senders; ++s) {
      setup.push_back(signed_call(chain, authority, ++authority_nonce,
                                  Propose{RegisterParticipant{keys[s].public_key(), "sender " + std::to_string(s),
                                                              Role::kCoveredEnterprise}}));
      setup.push_back(signed_call(chain, authority, ++authority_nonce,
                                  Propose{IssueAllowances{keys[s].public_key(), 2025, 1'000'000'000}}));
    }
    const core::SecretKey exchange = key_for(1'000'000);
    const core::SecretKey bank = key_for(1'000'001);
    setup.push_back(signed_call(chain, authority, ++authority_nonce,
                                Propose{RegisterParticipant{exchange.public_key(), "exchange", Role::kExchange}}));
    setup.push_back(signed_call(chain, authority, ++authority_nonce,
                                Propose{RegisterParticipant{bank.public_key(), "bank", Role::kSettlementBank}}));
    MarketParams params;
    params.sessions = {{0, kMinutesPerDay}};
    setup.push_back(signed_call(chain, exchange, 1, SetMarketParams{params}));
    setup.push_back(signed_call(chain, exchange, 2, ListProduct{ProductId::allowance(2025), 2'000}));
    setup.push_back(signed_call(chain, exchange, 3, OpenDay{}));
    for (std::size_t s = 0; s < senders; ++s) {
      core::Hash256 bank_ref;
      bank_ref.bytes = keys[s].public_key().bytes;
      setup.push_back(signed_call(chain, bank, s + 1, Deposit{keys[s].public_key(), 1'000'000'000'000ULL, bank_ref}));
    }
    const BlockResult result = executor.execute_block(++height, time_ms += 1000, setup);
    if (!persist()) return 1;
    for (const auto& receipt : result.receipts) {
      if (!receipt.ok()) {
        std::fprintf(stderr, "setup failed: %s\n", receipt.message.c_str());
        return 1;
      }
    }
  }

  // Pre-sign every block (signing is not what is measured).
  std::vector<std::vector<SignedTx>> prepared(blocks);
  std::size_t next = 0;
  for (auto& block : prepared) {
    for (std::size_t i = 0; i < block_txs; ++i, ++next) {
      const std::size_t from = next % senders;
      const std::size_t to = (next * 7 + 1) % senders == from ? (from + 1) % senders : (next * 7 + 1) % senders;
      if (orders) {
        const std::size_t n = next * 104729;
        PlaceOrder order;
        order.product = ProductId::allowance(2025);
        order.side = next % 2 == 0 ? Side::kBuy : Side::kSell;
        order.price_fen = 1'990 + (order.side == Side::kBuy ? n % 13 : 7 + n % 13);
        order.quantity_t = 1 + n % 10;
        block.push_back(signed_call(chain, keys[from], ++nonces[from], order));
      } else {
        block.push_back(signed_call(chain, keys[from], ++nonces[from],
                                    TransferUnits{keys[to].public_key(), ProductId::allowance(2025), 1 + next % 50}));
      }
    }
  }

  std::size_t failed = 0;
  core::Hash256 last_root;
  const auto start = std::chrono::steady_clock::now();
  for (const auto& block : prepared) {
    const BlockResult result = executor.execute_block(++height, time_ms += 1000, block);
    if (!persist()) {
      std::fprintf(stderr, "executor_bench: the LevelDB write failed\n");
      return 1;
    }
    for (const auto& receipt : result.receipts) failed += receipt.ok() ? 0u : 1u;
    last_root = result.state_root;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double total = static_cast<double>(blocks * block_txs);
  const char* what = orders ? "limit orders" : "transfers";
  std::printf("executor: %zu blocks of %zu %s from %zu senders (%zu failed), state in %s\n", blocks, block_txs,
              what, senders, failed, leveldb_state == nullptr ? "memory" : "LevelDB with the node's mirror");
  std::printf("  %.0f %s/s on one core, %.1f us per transaction (Merkle root included)\n", total / seconds, what,
              seconds * 1e6 / total);
  // The same for the same arguments on every build that keeps the state's format: a check that
  // a change made for speed changed no result.
  std::printf("  state root after the last block: %s\n", last_root.to_hex().c_str());
  return failed == 0 ? 0 : 1;
}
