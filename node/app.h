// NodeApp: everything above consensus in a validator — transaction admission (RPC and
// gossip), the mempool, block payloads, execution of committed blocks through the contracts,
// the state-root check, and the answers to RPC queries.
//
// Threads: admit() runs on the caller's thread (RPC or p2p); signature checks happen there, never
// on the consensus strand. build_payload()/payload_acceptable()/on_commit() are called by the
// Driver on the consensus strand; on_commit() only queues the blocks: execution runs in order
// on one dedicated thread, which owns the Executor. Queries read committed state from LevelDB.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "contracts/executor.h"
#include "node/config.h"
#include "node/driver.h"
#include "node/mempool.h"
#include "node/payload.h"
#include "node/state_store_leveldb.h"
#include "node/store.h"

namespace carbon::node {

// Outcome of admitting a transaction.
struct Admission {
  core::Hash256 tx_id;
  core::Status status;  // ok: accepted (or already pending)
};

class NodeApp final : public Application {
 public:
  static constexpr std::size_t kMaxRememberedRejections = 10'000;
  static constexpr std::size_t kMaxVerifiedCache = 200'000;
  // Ordering only: ids of items already ordered and executed, so that a copy arriving late (by
  // gossip from a validator the client also sent it to) is not ordered a second time.
  static constexpr std::size_t kMaxRememberedOrderedItems = 200'000;
  // note_blocks() indexes committed blocks at most this far beyond the executed height.
  static constexpr consensus::Height kMaxNotedBlocksAhead = 256;
  static constexpr std::size_t kGossipBatchTxs = 256;
  static constexpr std::uint64_t kGossipDelayMs = 5;
  static constexpr std::size_t kMaxQueuedBlocks = 65'536;
  // The execution thread's niceness (Linux: -5 weighs about three times the default), applied
  // when the process may raise a priority (see the constructor).
  static constexpr int kExecutionNice = -5;
  // Proposed blocks remembered (above the executed height) to know which transactions a new
  // block's ancestors already hold.
  static constexpr std::size_t kMaxSeenBlocks = 4096;
  // A transaction may name an expiry at most this many blocks ahead (so none lingers forever).
  static constexpr std::uint64_t kMaxExpiryBlocks = 100'000;

  NodeApp(boost::asio::io_context& io, const Genesis& genesis, const NodeConfig& config, NodeStore& store);
  ~NodeApp() override;

  // Opens the executor over the stored state (writing the genesis state on first start).
  core::Status open();
  // Gossip goes out through this (set before traffic starts).
  void set_gossip(std::function<void(core::Bytes frame)> gossip) { gossip_ = std::move(gossip); }
  void set_driver(const Driver* driver) { driver_ = driver; }
  // This node's place in genesis's validator list and its validator key, for GET /status.
  void set_identity(std::size_t validator_index, const core::PublicKey& validator_key) {
    validator_index_ = validator_index;
    validator_key_ = validator_key;
  }
  void set_peer_count(std::function<std::size_t()> peers) { peer_count_ = std::move(peers); }
  // Gossip waiting for admission, for GET /status: bytes queued, how long the oldest frame has
  // waited (0 when none waits), and frames dropped because the queue was full.
  struct GossipBacklog {
    std::size_t waiting_bytes = 0;
    std::uint64_t oldest_wait_ms = 0;
    std::uint64_t frames_dropped = 0;
  };
  void set_gossip_backlog(std::function<GossipBacklog()> backlog) { gossip_backlog_ = std::move(backlog); }
  // Gossip frames from validators that did not decode (on_gossip_frames), since start.
  std::uint64_t malformed_gossip_frames() const { return malformed_gossip_frames_.load(std::memory_order_relaxed); }
  // The pool whose idle threads help check a proposal's transactions (prepare_payload_check);
  // without one, the calling thread checks them alone.
  void set_verify_pool(boost::asio::thread_pool* pool) { verify_pool_ = pool; }
  // Where a leader finds the gossip that waits for admission (node/main.cc: the GossipInbox):
  // whether any waits, and admitting it now (Application::admit_waiting_gossip).
  void set_waiting_gossip(std::function<bool()> waiting, std::function<void()> admit) {
    gossip_waiting_ = std::move(waiting);
    admit_waiting_gossip_ = std::move(admit);
  }

  // A transaction from a client (gossip it on) or from a peer's gossip (do not).
  Admission admit(core::ByteView encoded, bool from_client);
  // admit() for each, in order, with the same answers; the signatures of those not verified
  // before are verified as batches (contracts::check_signatures_many), at about half the cost.
  // (A transaction that appears twice in one call is admitted the first time and found pending
  // the second, as with two admit() calls.)
  std::vector<Admission> admit_many(std::span<const core::ByteView> encoded, bool from_client);
  // Several frames' transactions admitted as one set (admit_many): malformed frames are dropped
  // alone.
  void on_gossip_frames(std::span<const core::ByteView> bodies);

  // Application (consensus strand).
  core::Bytes build_payload(const core::Hash256& parent_id, consensus::Height height) override;
  bool payload_acceptable(const consensus::Block& block) const override;
  // Hashes, decodes and checks the signatures of the block's transactions (those this node has
  // not admitted yet), on the calling (verify pool) thread and the pool's idle ones, and keeps
  // the result for payload_acceptable, which then only looks it up.
  void prepare_payload_check(const consensus::Block& block) override;
  bool gossip_waiting() const override { return gossip_waiting_ && gossip_waiting_(); }
  void admit_waiting_gossip() override {
    if (admit_waiting_gossip_) admit_waiting_gossip_();
  }
  void note_blocks(const std::vector<const consensus::Block*>& blocks) override;
  bool has_pending_work(consensus::Height height) const override;
  std::size_t unordered_tx_estimate() const override;
  std::size_t full_block_txs() const override { return std::min(config_.max_block_txs, kMaxTxsPerPayload); }
  void on_commit(std::vector<consensus::Block> blocks) override;

  // RPC answers: JSON text and an HTTP status.
  std::pair<unsigned, std::string> rpc_status() const;
  std::pair<unsigned, std::string> rpc_tx(const std::string& id_hex) const;
  std::pair<unsigned, std::string> rpc_account(const std::string& address_hex) const;
  std::pair<unsigned, std::string> rpc_block(const std::string& height_text) const;
  // GET /blocks?from=H&limit=N: executed blocks from height H (at most N, 1..kMaxBlocksPerPage)
  // with their transaction ids only, for a client tailing the chain (an exchange's back office,
  // an indexer, the load generator) at one request per page instead of one per block.
  std::pair<unsigned, std::string> rpc_blocks(const std::string& query) const;
  static constexpr std::uint64_t kMaxBlocksPerPage = 100;
  // Products listed by GET /account (one per vintage and CCER batch held).
  static constexpr std::size_t kMaxAccountBalances = 1000;
  // The registry's read-only queries (node/rpc_registry.cc): GET /participants, /officers,
  // /proposals, /proposal/{id}, /rules/{year}, /cap/{year}, /allocation/{year}/{address},
  // /mrv/{year}/{address}, /projects, /project/{id}, /issuances/{product},
  // /holdings/{address}, /trace/{product}/{serial}, /position/{year}/{address},
  // /compliance/{year}. `target` is the request target with its query (?limit=N). nullopt:
  // not one of these paths.
  std::optional<std::pair<unsigned, std::string>> rpc_registry(const std::string& target) const;
  static bool is_registry_path(const std::string& path);
  // The exchange's read-only queries (node/rpc_market.cc): GET /market, /market/products,
  // /market/{product}, /market/{product}/days, /book/{product}, /trades/{product},
  // /order/{id}, /orders/{owner}, /funds/{owner}, /money, /listings, /listing/{id},
  // /auctions, /auction/{id}, /alerts, /stabilisation/{product}, /mandate/{reserve}/{product},
  // /locks/{owner}/{product}. nullopt: not one of these paths.
  std::optional<std::pair<unsigned, std::string>> rpc_market(const std::string& target) const;
  static bool is_market_path(const std::string& path);

  consensus::Height executed_height() const { return executed_height_.load(); }

 private:
  core::Status check_stateless(const contracts::SignedTx& tx, const core::Hash256& id) const;
  std::uint64_t committed_nonce(const core::PublicKey& sender) const;
  // The committed account (nonce and signing key are current; other fields may lag): from the
  // cache of recent senders, else from LevelDB.
  core::Result<std::optional<contracts::Account>> committed_account(const core::PublicKey& key) const;
  void refresh_account_cache(const std::set<core::PublicKey>& senders);
  void remember_rejection(const core::Hash256& id, const std::string& reason);
  // Admission's checks against the executed state: expiry window, a registered sender whose key
  // signed, a nonce unused and at most kMaxNonceGap ahead. What enters the mempool passes them.
  // Returns the sender's last nonce used by the state (the mempool's gap rule needs it).
  core::Result<std::uint64_t> check_pool_state(const contracts::SignedTx& tx) const;
  bool is_verified(const core::Hash256& id) const;
  // const: the cache holds verdicts of a pure function (a signature check), which the const vote
  // check records as each batch passes.
  void remember_verified(const core::Hash256& id) const;
  void flush_gossip();
  void execute(const consensus::Block& block, std::chrono::steady_clock::time_point committed_at);
  // Writes an executed block (with `batch`: its state changes and receipts); false (and halted)
  // if the store failed.
  bool store_executed(const consensus::Block& block, const core::Hash256& state_root, leveldb::WriteBatch& batch);
  // Then advances the executed height and drops the block from the seen blocks. Call it only
  // after the pools have forgotten the block's transactions: a leader knows the transactions of
  // the blocks it extends from the seen blocks down to the executed height, and from the pools
  // above it, so the pools must have let go of a block's transactions and nonces before the
  // block leaves the seen blocks (otherwise a proposal built in between would carry them again,
  // and they would fail on their nonces). Meanwhile, for a few milliseconds, RPC shows the
  // block's receipts and nonces while GET /status still gives the height before it.
  void advance_executed(const consensus::Block& block, const core::Hash256& state_root);
  void halt(const std::string& why);

  boost::asio::io_context& io_;
  Genesis genesis_;
  NodeConfig config_;
  NodeStore& store_;
  Mempool mempool_;
  const Driver* driver_ = nullptr;
  std::size_t validator_index_ = 0;
  core::PublicKey validator_key_;
  std::function<void(core::Bytes)> gossip_;
  std::function<std::size_t()> peer_count_;
  std::function<GossipBacklog()> gossip_backlog_;
  std::function<bool()> gossip_waiting_;
  std::function<void()> admit_waiting_gossip_;

  // Execution thread: owns executor_ and its state store.
  boost::asio::thread_pool execution_{1};
  std::unique_ptr<contracts::Executor> executor_;
  // Execution thread only: the block being executed passed this node's vote check, so every
  // signature in it was verified here already.
  bool executing_checked_block_ = false;
  // Execution thread only: each block's store write, cleared and reused. A block's batch runs to
  // hundreds of KiB; built afresh it grew by doubling (copying itself each time) and its
  // allocation made glibc consolidate its free lists, about a tenth of the thread's CPU.
  leveldb::WriteBatch block_batch_;
  std::atomic<consensus::Height> executed_height_{0};
  std::atomic<std::size_t> queued_blocks_{0};
  std::atomic<bool> halted_{false};
  std::atomic<std::uint64_t> malformed_gossip_frames_{0};
  mutable std::mutex last_root_mutex_;
  core::Hash256 last_root_;  // after executed_height_

  // Read-only view of committed state for RPC and admission.
  LevelDbStateStore read_state_;

  // Recent senders' committed accounts: admission and the mempool ask for nonces per
  // transaction and per sender, which would otherwise be a LevelDB read each. Bounded: cleared
  // when full.
  static constexpr std::size_t kMaxCachedAccounts = 100'000;
  mutable std::mutex accounts_mutex_;
  std::map<core::PublicKey, contracts::Account> account_cache_;

  mutable std::mutex caches_mutex_;
  mutable std::unordered_set<core::Hash256> verified_;  // signature checked once; bounded FIFO
  mutable std::deque<core::Hash256> verified_order_;
  std::map<core::Hash256, std::string> rejections_;  // bounded FIFO, for GET /tx/{id}
  std::deque<core::Hash256> rejection_order_;

  struct SeenBlock {
    core::Hash256 parent_id;
    consensus::Height height = 0;
    std::vector<core::Hash256> tx_ids;
    std::map<core::PublicKey, std::uint64_t> highest_nonce;
    // Records the nonce `tx` uses, if it can still apply at this block's height (an expired one
    // will not use its nonce).
    void note_nonce(const contracts::SignedTx& tx) {
      if (tx.tx.expiry_height < height) return;
      auto& highest = highest_nonce[tx.tx.sender];
      highest = std::max(highest, tx.tx.nonce);
    }
    // The payload's transactions as decoded and hashed by the vote check, in payload order:
    // execution reuses them instead of decoding and hashing every transaction again. Mostly
    // shared with the mempool, so they cost pointers only. Empty for a block note_blocks()
    // indexed (execution decodes that one itself).
    std::vector<std::shared_ptr<const PoolTx>> txs;
  };
  // A block's transactions as the vote check found them: `seen` as payload_acceptable records
  // it, and those of them this node had not admitted (to pool once the whole block passed).
  struct CheckedBlock {
    SeenBlock seen;
    std::vector<std::shared_ptr<const PoolTx>> fresh;
  };
  // Every transaction decoded, for this chain and signed (nullopt if one is not). Stateless, so
  // the same verdict on any thread at any time. helpers: pool tasks that may join in.
  std::optional<CheckedBlock> check_block_txs(const consensus::Block& block, const PayloadView& payload,
                                              std::size_t helpers) const;
  boost::asio::thread_pool* verify_pool_ = nullptr;
  // Proposals prepare_payload_check() checked, by block id, until payload_acceptable() takes
  // them. Bounded FIFO: a proposal the strand never judges (its round passed) is dropped later.
  static constexpr std::size_t kMaxPreparedBlocks = 16;
  mutable std::mutex prepared_mutex_;
  mutable std::map<core::Hash256, CheckedBlock> prepared_;   // guarded by prepared_mutex_
  mutable std::deque<core::Hash256> prepared_order_;         // guarded, oldest first
  // The payload this node built last as a leader, with its transactions as the pool holds them.
  struct OwnProposal {
    core::Bytes payload;
    CheckedBlock checked;
  };
  mutable std::optional<OwnProposal> own_proposal_;  // guarded by prepared_mutex_
  void remember_own_proposal(const core::Bytes& payload, CheckedBlock checked);

  mutable std::mutex seen_mutex_;
  std::atomic<consensus::Height> consensus_committed_height_{0};  // the last block on_commit() got
  std::map<core::Hash256, SeenBlock> seen_blocks_;  // guarded by seen_mutex_

  // config_.bench_ordering_only: opaque items instead of transactions (see node/config.h).
  Admission admit_raw(core::ByteView item, bool from_client);
  // contracts::check_signatures_many one batch at a time, remembering the ids (same order) of
  // those that pass; ids already verified (by another thread meanwhile, too) are not checked
  // again and get an ok verdict (the cache holds only ids that passed every check).
  std::vector<core::Status> verify_and_remember(std::span<const contracts::SignedTx* const> txs,
                                                std::span<const core::Hash256> ids);
  // The positions in [from, to) of `ids` not in the verified cache (yet): a batch's worth at a
  // time, so that what another thread verified meanwhile is left out of the next batch.
  std::vector<std::size_t> not_yet_verified(std::span<const core::Hash256> ids, std::size_t from,
                                            std::size_t to) const;
  // The rest of admit() for a transaction already hashed (id) and decoded (tx).
  // `signatures`: check_signatures' verdict when already known (admit_many), else checked here.
  Admission admit_decoded(core::ByteView encoded, const core::Hash256& id, contracts::SignedTx tx,
                          const std::optional<core::Status>& signatures, bool from_client);
  // `ids`: set to the ids of the items the payload holds, in order.
  core::Bytes build_raw_payload(const std::unordered_set<core::Hash256>& on_chain, std::uint64_t executed_height,
                                const core::Hash256& executed_root, std::vector<core::Hash256>& ids);
  void gossip(std::shared_ptr<const core::Bytes> bytes);
  struct RawItem {
    core::Hash256 id;
    core::Bytes bytes;
    bool executed = false;  // guarded by raw_mutex_; the queue drops executed items lazily
  };
  mutable std::mutex raw_mutex_;
  // Arrival order, for proposals; a leader walks it from the front without a look-up per item.
  std::deque<std::shared_ptr<RawItem>> raw_queue_;                            // guarded
  // Every item this node knows: waiting (the item) or ordered recently (null). One table, so
  // that admitting and executing an item is one look-up each (these tables are the largest cost
  // of ordering an item: their look-ups miss the cache).
  std::unordered_map<core::Hash256, std::shared_ptr<RawItem>> raw_known_;  // guarded
  std::size_t raw_waiting_ = 0;                                             // guarded: non-null entries
  std::deque<core::Hash256> raw_ordered_order_;                             // guarded, oldest first

  boost::asio::strand<boost::asio::io_context::executor_type> gossip_strand_;
  boost::asio::steady_timer gossip_timer_;
  std::vector<std::shared_ptr<const core::Bytes>> gossip_queue_;  // on gossip_strand_
  bool gossip_timer_armed_ = false;
};

}  // namespace carbon::node
