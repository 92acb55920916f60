#include "node/app.h"

#include <sys/resource.h>
#include <unistd.h>

#include <pthread.h>
#include <time.h>

#include <thread>
#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <nlohmann/json.hpp>

#include "core/codec.h"
#include "node/parallel.h"
#include "node/registry_json.h"
#include "node/rpc_query.h"

namespace carbon::node {

using core::ErrorCode;
using core::Status;
using json = nlohmann::json;

namespace {

// Receipts are stored under 't' <tx id> as (height, index in block, receipt).
struct StoredReceipt {
  std::uint64_t height = 0;
  std::uint32_t index = 0;
  contracts::Receipt receipt;
  template <class A>
  void serialize(A& archive) {
    archive(height, index, receipt);
  }
};

using rpcq::bad_request;
using rpcq::not_found;

std::string as_string(const core::Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }
core::ByteView as_view(const std::string& bytes) {
  return {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
}

}  // namespace

NodeApp::NodeApp(boost::asio::io_context& io, const Genesis& genesis, const NodeConfig& config, NodeStore& store)
    : io_(io),
      genesis_(genesis),
      config_(config),
      store_(store),
      mempool_(config.mempool_max_txs),
      read_state_(store.db()),
      gossip_strand_(boost::asio::make_strand(io)),
      gossip_timer_(gossip_strand_) {
  boost::asio::post(execution_, [] {
    ::pthread_setname_np(::pthread_self(), "carbon-exec");
    // Every block is executed by this one thread, while the rest of the node's work (admission,
    // signature checks, RPC) spreads over several: when the machine is short of CPU, an equal
    // share leaves committed blocks queueing here, which every transaction's latency then
    // includes. So it asks for a larger share. Raising a priority needs privilege (root,
    // CAP_SYS_NICE, or RLIMIT_NICE, e.g. systemd's LimitNICE=); without it the thread keeps the
    // default, which is correct, only slower to drain under overload.
    (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), kExecutionNice);
  });
}

NodeApp::~NodeApp() { execution_.join(); }

Status NodeApp::open() {
  auto state = std::make_unique<LevelDbStateStore>(store_.db(), /*mirror=*/true);
  const contracts::GenesisConfig genesis_config = genesis_.contracts_genesis();
  auto executor = contracts::Executor::open(genesis_.chain_id, genesis_config, std::move(state));
  if (!executor) return executor.status();
  executor_ = std::make_unique<contracts::Executor>(std::move(executor).value());
  // Signatures were checked at admission or before voting; execution only re-checks the rare
  // transaction this node never saw (same verdict either way: verification is deterministic).
  executor_->set_signature_check([this](const contracts::SignedTx& tx, const core::Hash256& id) -> Status {
    if (executing_checked_block_ || is_verified(id)) return Status::ok();
    return contracts::check_signatures(tx);
  });
  if (const auto& genesis_writes = executor_->last_block_writes(); !genesis_writes.empty()) {  // first start
    leveldb::WriteBatch batch;
    LevelDbStateStore::add_writes(batch, genesis_writes);
    leveldb::WriteOptions sync;
    sync.sync = true;
    const auto written = store_.db()->Write(sync, &batch);
    if (!written.ok()) return Status::error(ErrorCode::kIoError, "cannot write the genesis state: " + written.ToString());
  }
  // The Merkle root covers the move log only through its chain head (contracts/state_store.h),
  // so the records on disk are checked against that head here, as the root is below.
  CARBON_RETURN_IF_ERROR(executor_->check_history(read_state_));
  executed_height_ = store_.committed_height();
  {
    std::lock_guard lock(last_root_mutex_);
    last_root_ = executor_->state_root();
  }
  auto stored_root = store_.state_root(executed_height_);
  if (stored_root && *stored_root && **stored_root != last_root_) {
    return Status::error(ErrorCode::kInternal, "the state on disk does not match the recorded state root at height " +
                                                   std::to_string(executed_height_.load()));
  }
  spdlog::info("state: height {}, root {}", executed_height_.load(), last_root_.short_hex());
  return Status::ok();
}

// ------------------------------------------------------------------ admission

Status NodeApp::check_stateless(const contracts::SignedTx& tx, const core::Hash256& id) const {
  if (tx.tx.chain_id != genesis_.chain_id) {
    return Status::error(ErrorCode::kInvalidArgument, "wrong chain id: the transaction is for \"" + tx.tx.chain_id +
                                                          "\", this network is \"" + genesis_.chain_id + "\"");
  }
  if (is_verified(id)) return Status::ok();
  return contracts::check_signatures(tx);
}

core::Result<std::optional<contracts::Account>> NodeApp::committed_account(const core::PublicKey& key) const {
  {
    std::lock_guard lock(accounts_mutex_);
    if (auto it = account_cache_.find(key); it != account_cache_.end()) return std::optional(it->second);
  }
  return contracts::Ledger(static_cast<const contracts::StateStore&>(read_state_)).account(key);
}

void NodeApp::refresh_account_cache(const std::set<core::PublicKey>& senders) {
  // Only this (the execution) thread writes the cache, from the executor's own state right after
  // a block: an RPC or admission thread that read LevelDB earlier can never put an older nonce
  // back. A sender's nonce and signing key change only through its own transactions, so the
  // senders of each block are exactly the entries to refresh.
  std::vector<std::pair<core::PublicKey, contracts::Account>> fresh;
  fresh.reserve(senders.size());
  for (const auto& sender : senders) {
    auto account = executor_->account(sender);
    if (account && *account) fresh.emplace_back(sender, **account);
  }
  std::lock_guard lock(accounts_mutex_);
  if (account_cache_.size() + fresh.size() > kMaxCachedAccounts) account_cache_.clear();
  for (auto& [key, account] : fresh) account_cache_.insert_or_assign(key, std::move(account));
}

std::uint64_t NodeApp::committed_nonce(const core::PublicKey& sender) const {
  auto account = committed_account(sender);
  if (!account || !*account) return 0;
  return (*account)->nonce;
}

Admission NodeApp::admit(core::ByteView encoded, bool from_client) {
  if (config_.bench_ordering_only) return admit_raw(encoded, from_client);
  return std::move(admit_many(std::span<const core::ByteView>(&encoded, 1), from_client).front());
}

std::vector<Admission> NodeApp::admit_many(std::span<const core::ByteView> encoded, bool from_client) {
  std::vector<Admission> results(encoded.size());
  if (config_.bench_ordering_only) {
    for (std::size_t i = 0; i < encoded.size(); ++i) results[i] = admit_raw(encoded[i], from_client);
    return results;
  }
  // First the checks that need no signature, then the signatures of all that passed them and
  // were not verified before, as one batch (contracts::check_signatures_many), and then each
  // transaction's admission in order, which finds its verdict in the verified cache.
  struct Decoded {
    std::size_t index;
    contracts::SignedTx tx;
  };
  std::vector<Decoded> decoded;
  decoded.reserve(encoded.size());
  for (std::size_t i = 0; i < encoded.size(); ++i) {
    Admission& result = results[i];
    // The id is the hash of the canonical encoding, and the decoder accepts nothing else, so the
    // bytes as received hash to the id of whatever they decode to (no re-encoding needed).
    result.tx_id = core::sha3_256(encoded[i]);
    if (mempool_.contains(result.tx_id)) continue;  // already pending: accept idempotently
    auto tx = contracts::decode_signed_tx(encoded[i]);
    if (!tx) {
      result.tx_id = core::Hash256{};
      result.status = Status::error(ErrorCode::kDecodeError, "not a valid transaction: " + tx.status().message());
      continue;
    }
    decoded.push_back(Decoded{i, std::move(tx).value()});
  }
  // The verdicts on signatures, for those checked here (the others: verified before, or for
  // another chain, which check_stateless() reports).
  std::vector<std::optional<Status>> verdicts(decoded.size());
  if (!halted_) {
    std::vector<const contracts::SignedTx*> to_verify;
    std::vector<core::Hash256> to_verify_ids;
    std::vector<std::size_t> to_verify_at;
    for (std::size_t k = 0; k < decoded.size(); ++k) {
      const Decoded& entry = decoded[k];
      const core::Hash256& id = results[entry.index].tx_id;
      if (entry.tx.tx.chain_id != genesis_.chain_id || is_verified(id)) continue;
      to_verify.push_back(&entry.tx);
      to_verify_ids.push_back(id);
      to_verify_at.push_back(k);
    }
    std::vector<Status> checked = verify_and_remember(to_verify, to_verify_ids);
    for (std::size_t j = 0; j < checked.size(); ++j) verdicts[to_verify_at[j]] = std::move(checked[j]);
  }
  for (std::size_t k = 0; k < decoded.size(); ++k) {
    Decoded& entry = decoded[k];
    results[entry.index] =
        admit_decoded(encoded[entry.index], results[entry.index].tx_id, std::move(entry.tx), verdicts[k], from_client);
  }
  return results;
}

Admission NodeApp::admit_decoded(core::ByteView encoded, const core::Hash256& id, contracts::SignedTx tx,
                                 const std::optional<Status>& signatures, bool from_client) {
  Admission result;
  result.tx_id = id;
  auto fail = [&](Status status) {
    remember_rejection(result.tx_id, status.message());
    result.status = std::move(status);
    return result;
  };
  if (halted_) return fail(Status::error(ErrorCode::kInternal, "this node has halted; see its log"));
  if (signatures && !signatures->is_ok()) return fail(*signatures);
  if (!signatures) {  // (a verdict passed in was remembered where it was reached)
    if (auto status = check_stateless(tx, result.tx_id); !status.is_ok()) return fail(status);
    remember_verified(result.tx_id);
  }
  const auto used_nonce = check_pool_state(tx);
  if (!used_nonce) return fail(used_nonce.status());
  auto bytes = std::make_shared<const core::Bytes>(encoded.begin(), encoded.end());
  // `tx` is not used after this: the pool takes the decoded transaction without a copy.
  if (auto status = mempool_.add(PoolTx{result.tx_id, std::move(tx), bytes}, *used_nonce); !status.is_ok()) {
    if (status.code() == ErrorCode::kConflict && mempool_.contains(result.tx_id)) return result;
    if (!from_client && status.code() == ErrorCode::kOutOfBounds) {
      // Room here, not the transaction, is the problem: it may be pending at the node it was
      // sent to, so this node must not answer "rejected" for it.
      result.status = std::move(status);
      return result;
    }
    return fail(status);
  }
  if (from_client) gossip(bytes);
  return result;
}

core::Result<std::uint64_t> NodeApp::check_pool_state(const contracts::SignedTx& tx) const {
  const consensus::Height next_height = executed_height_.load() + 1;
  if (tx.tx.expiry_height > next_height + kMaxExpiryBlocks) {
    return Status::error(ErrorCode::kOutOfBounds, "expiry height " + std::to_string(tx.tx.expiry_height) +
                                                      " is too far ahead: at most " +
                                                      std::to_string(next_height + kMaxExpiryBlocks));
  }
  if (tx.tx.expiry_height < next_height) {
    return Status::error(ErrorCode::kConflict, "expired: valid up to height " + std::to_string(tx.tx.expiry_height) +
                                                   ", the chain is at height " + std::to_string(next_height - 1));
  }
  auto account = committed_account(tx.tx.sender);
  if (!account) return account.status();
  if (!*account) {
    return Status::error(ErrorCode::kNotFound, "unknown sender " + tx.tx.sender.to_hex() + ": not a registered participant");
  }
  if (auto status = contracts::check_signer(tx, **account); !status.is_ok()) return status;
  const std::uint64_t used = (*account)->nonce;
  if (tx.tx.nonce <= used) {
    return Status::error(ErrorCode::kConflict, "nonce " + std::to_string(tx.tx.nonce) + " already used (next is " +
                                                   std::to_string(used + 1) + ")");
  }
  if (tx.tx.nonce > used + contracts::kMaxNonceGap) {
    return Status::error(ErrorCode::kOutOfBounds, "nonce " + std::to_string(tx.tx.nonce) + " is too far ahead (next is " +
                                                      std::to_string(used + 1) + ")");
  }
  return used;
}

void NodeApp::gossip(std::shared_ptr<const core::Bytes> bytes) {
  if (!gossip_) return;
  boost::asio::post(gossip_strand_, [this, bytes = std::move(bytes)] {
    gossip_queue_.push_back(bytes);
    if (gossip_queue_.size() >= kGossipBatchTxs) {
      flush_gossip();
    } else if (!gossip_timer_armed_) {
      gossip_timer_armed_ = true;
      gossip_timer_.expires_after(std::chrono::milliseconds(kGossipDelayMs));
      gossip_timer_.async_wait([this](const boost::system::error_code&) {
        gossip_timer_armed_ = false;
        flush_gossip();
      });
    }
  });
}

Admission NodeApp::admit_raw(core::ByteView item, bool from_client) {
  Admission result;
  if (item.empty() || item.size() > contracts::kMaxTxBytes) {
    result.status = Status::error(ErrorCode::kInvalidArgument, "an item is 1.." + std::to_string(contracts::kMaxTxBytes) + " bytes");
    return result;
  }
  result.tx_id = core::sha3_256(item);
  auto raw = std::make_shared<RawItem>(RawItem{result.tx_id, core::Bytes(item.begin(), item.end())});
  {
    std::lock_guard lock(raw_mutex_);
    // Already waiting, or already ordered: accepted again, and nothing changes.
    if (raw_known_.count(result.tx_id) > 0) return result;
    if (raw_waiting_ >= config_.mempool_max_txs) {
      result.status = Status::error(ErrorCode::kOutOfBounds, "the mempool is full");
      return result;
    }
    raw_known_.emplace(result.tx_id, raw);
    ++raw_waiting_;
    raw_queue_.push_back(raw);
  }
  // The gossip holds the item alive through a view of its bytes.
  if (from_client) gossip(std::shared_ptr<const core::Bytes>(raw, &raw->bytes));
  return result;
}

namespace {

// A proposal's payload: the transactions in order, as many as fit under the payload limit.
// Leaves in `txs` those that fit.
core::Bytes proposal_payload(std::uint64_t executed_height, const core::Hash256& executed_root,
                             std::vector<core::ByteView>& txs) {
  std::size_t bytes = 64;
  for (std::size_t i = 0; i < txs.size(); ++i) {
    bytes += txs[i].size() + 4;
    if (bytes > consensus::kMaxPayloadBytes - 1024) {
      txs.resize(i);
      break;
    }
  }
  core::Bytes encoded;
  append_payload(encoded, executed_height, executed_root, txs);
  return encoded;
}

}  // namespace

core::Bytes NodeApp::build_raw_payload(const std::unordered_set<core::Hash256>& on_chain, std::uint64_t executed_height,
                                       const core::Hash256& executed_root, std::vector<core::Hash256>& ids) {
  std::lock_guard lock(raw_mutex_);
  // Items already executed leave the queue lazily, from the front.
  while (!raw_queue_.empty() && raw_queue_.front()->executed) raw_queue_.pop_front();
  const std::size_t limit = full_block_txs();
  std::vector<core::ByteView> items;  // views into the queue's items, which the lock keeps alive
  items.reserve(std::min(limit, raw_queue_.size()));
  ids.clear();
  for (const auto& raw : raw_queue_) {
    if (items.size() >= limit) break;
    if (raw->executed || on_chain.count(raw->id) > 0) continue;
    items.emplace_back(raw->bytes);
    ids.push_back(raw->id);
  }
  core::Bytes payload = proposal_payload(executed_height, executed_root, items);
  ids.resize(items.size());
  return payload;
}

void NodeApp::flush_gossip() {
  if (gossip_queue_.empty()) return;
  gossip_(encode_tx_gossip(gossip_queue_));
  gossip_queue_.clear();
}

void NodeApp::on_gossip_frames(std::span<const core::ByteView> bodies) {
  std::vector<core::ByteView> txs;
  for (const core::ByteView body : bodies) {
    auto batch = view_payload(body);
    if (!batch) {
      // Counted for the operator's 30 s summary (node/input_drops.h), not logged one by one.
      malformed_gossip_frames_.fetch_add(1, std::memory_order_relaxed);
      spdlog::debug("dropped a malformed gossip frame: {}", batch.status().message());
      continue;
    }
    txs.insert(txs.end(), batch->txs.begin(), batch->txs.end());
  }
  if (!txs.empty()) (void)admit_many(txs, /*from_client=*/false);
}

void NodeApp::remember_rejection(const core::Hash256& id, const std::string& reason) {
  std::lock_guard lock(caches_mutex_);
  if (rejections_.emplace(id, reason).second) rejection_order_.push_back(id);
  while (rejection_order_.size() > kMaxRememberedRejections) {
    rejections_.erase(rejection_order_.front());
    rejection_order_.pop_front();
  }
}

std::vector<Status> NodeApp::verify_and_remember(std::span<const contracts::SignedTx* const> txs,
                                                 std::span<const core::Hash256> ids) {
  std::vector<Status> verdicts(txs.size());
  // One batch at a time, leaving out what another thread verified meanwhile: the vote check of a
  // proposal verifies the transactions this node has not admitted yet, often the very ones
  // gossip admission is working through at that moment (each would otherwise be verified twice).
  for (std::size_t from = 0; from < txs.size(); from += contracts::kSignatureBatch) {
    const std::size_t to = std::min(txs.size(), from + contracts::kSignatureBatch);
    std::vector<const contracts::SignedTx*> chunk;
    const std::vector<std::size_t> positions = not_yet_verified(ids, from, to);
    for (const std::size_t i : positions) chunk.push_back(txs[i]);
    std::vector<Status> checked = contracts::check_signatures_many(chunk);
    for (std::size_t k = 0; k < positions.size(); ++k) {
      if (checked[k].is_ok()) remember_verified(ids[positions[k]]);
      verdicts[positions[k]] = std::move(checked[k]);
    }
  }
  return verdicts;
}

std::vector<std::size_t> NodeApp::not_yet_verified(std::span<const core::Hash256> ids, std::size_t from,
                                                   std::size_t to) const {
  std::vector<std::size_t> positions;
  for (std::size_t i = from; i < to; ++i) {
    if (!is_verified(ids[i])) positions.push_back(i);
  }
  return positions;
}

bool NodeApp::is_verified(const core::Hash256& id) const {
  std::lock_guard lock(caches_mutex_);
  return verified_.count(id) > 0;
}

void NodeApp::remember_verified(const core::Hash256& id) const {
  std::lock_guard lock(caches_mutex_);
  if (verified_.insert(id).second) verified_order_.push_back(id);
  while (verified_order_.size() > kMaxVerifiedCache) {
    verified_.erase(verified_order_.front());
    verified_order_.pop_front();
  }
}

// ------------------------------------------------------------------ consensus hooks

core::Bytes NodeApp::build_payload(const core::Hash256& parent_id, consensus::Height height) {
  // Claim the state root of the latest height this node executed (if any beyond genesis).
  std::uint64_t executed_height = executed_height_.load();
  core::Hash256 executed_root;
  if (auto stored = store_.state_root(executed_height); stored && *stored) {
    executed_root = **stored;
  } else {
    executed_height = 0;
  }
  // Transactions already on the chain this block extends (its uncommitted or unexecuted
  // ancestors), and the nonces they use up.
  std::unordered_set<core::Hash256> on_chain;
  std::map<core::PublicKey, std::uint64_t> chain_nonce;
  {
    std::lock_guard lock(seen_mutex_);
    std::vector<const SeenBlock*> chain;
    std::size_t chain_txs = 0;
    for (auto it = seen_blocks_.find(parent_id); it != seen_blocks_.end() && chain.size() < kMaxSeenBlocks;
         it = seen_blocks_.find(it->second.parent_id)) {
      chain.push_back(&it->second);
      chain_txs += it->second.tx_ids.size();
    }
    on_chain.reserve(chain_txs);  // one allocation of the table, no rehashing
    for (const SeenBlock* seen : chain) {
      on_chain.insert(seen->tx_ids.begin(), seen->tx_ids.end());
      for (const auto& [sender, nonce] : seen->highest_nonce) {
        auto& highest = chain_nonce[sender];
        highest = std::max(highest, nonce);
      }
    }
  }
  // This node votes for its own block too: the vote check finds the block's transactions here
  // (they are the pool's own, checked on admission) instead of hashing every one again.
  CheckedBlock own;
  own.seen.parent_id = parent_id;
  own.seen.height = height;
  if (config_.bench_ordering_only) {
    core::Bytes payload = build_raw_payload(on_chain, executed_height, executed_root, own.seen.tx_ids);
    remember_own_proposal(payload, std::move(own));
    return payload;
  }
  const auto selected = mempool_.select(
      full_block_txs(), height,
      [&](const core::PublicKey& sender) {
        auto it = chain_nonce.find(sender);
        return std::max(committed_nonce(sender), it == chain_nonce.end() ? 0 : it->second) + 1;
      },
      on_chain);
  std::vector<core::ByteView> txs;  // views into `selected`'s transactions
  txs.reserve(selected.size());
  for (const auto& tx : selected) txs.emplace_back(*tx->bytes);
  core::Bytes payload = proposal_payload(executed_height, executed_root, txs);
  own.seen.tx_ids.reserve(txs.size());
  own.seen.txs.reserve(txs.size());
  for (std::size_t i = 0; i < txs.size(); ++i) {  // those that fit, in payload order
    const std::shared_ptr<const PoolTx>& entry = selected[i];
    own.seen.tx_ids.push_back(entry->id);
    own.seen.txs.push_back(entry);
    own.seen.note_nonce(entry->tx);
  }
  remember_own_proposal(payload, std::move(own));
  return payload;
}

void NodeApp::remember_own_proposal(const core::Bytes& payload, CheckedBlock checked) {
  std::lock_guard lock(prepared_mutex_);
  own_proposal_ = OwnProposal{payload, std::move(checked)};
}

std::size_t NodeApp::unordered_tx_estimate() const {
  // The pool also holds the transactions of blocks not executed yet: those are not waiting for
  // a block. (An estimate: blocks on abandoned forks count too.)
  std::size_t ordered = 0;
  {
    std::lock_guard lock(seen_mutex_);
    for (const auto& [id, seen] : seen_blocks_) ordered += seen.tx_ids.size();
  }
  std::size_t pooled = 0;
  if (config_.bench_ordering_only) {
    std::lock_guard lock(raw_mutex_);
    pooled = raw_waiting_;
  } else {
    pooled = mempool_.size();
  }
  return pooled > ordered ? pooled - ordered : 0;
}

bool NodeApp::has_pending_work(consensus::Height height) const {
  // Transactions in blocks that consensus has not committed yet need successor blocks to
  // commit. So do those of the block two below this one: it may be committed here (this leader
  // holds the certificate on its child), but the other validators learn that only from the
  // certificate this block carries. Blocks committed further back and waiting for execution do
  // not: proposing for them would only fill the chain with empty blocks while the executor
  // catches up (each costing every validator signatures to make and check).
  const consensus::Height committed = consensus_committed_height_.load();
  std::map<core::PublicKey, std::uint64_t> ordered_nonce;  // highest nonce in any seen block
  {
    std::lock_guard lock(seen_mutex_);
    for (const auto& [id, seen] : seen_blocks_) {
      if (!seen.tx_ids.empty() && (seen.height > committed || seen.height + 2 >= height)) return true;
      for (const auto& [sender, nonce] : seen.highest_nonce) {
        auto& highest = ordered_nonce[sender];
        highest = std::max(highest, nonce);
      }
    }
  }
  if (config_.bench_ordering_only) {
    std::lock_guard lock(raw_mutex_);
    return raw_waiting_ > 0;
  }
  // Only a transaction that a block could take now counts: its sender's next nonce after both
  // the executed state and the blocks already ordered.
  return mempool_.has_ready([&](const core::PublicKey& sender) {
    const auto it = ordered_nonce.find(sender);
    return std::max(committed_nonce(sender), it == ordered_nonce.end() ? 0 : it->second);
  });
}

std::optional<NodeApp::CheckedBlock> NodeApp::check_block_txs(const consensus::Block& block, const PayloadView& payload,
                                                              std::size_t helpers) const {
  const std::size_t count = payload.txs.size();
  CheckedBlock checked;
  SeenBlock& seen = checked.seen;
  seen.parent_id = block.header.parent_id;
  seen.height = block.header.height;
  seen.tx_ids.resize(count);
  std::vector<char> is_fresh(count, 0);  // one element per item: written by one thread each
  std::function<bool(std::size_t)> check;
  if (config_.bench_ordering_only) {
    check = [&](std::size_t i) {
      seen.tx_ids[i] = core::sha3_256(payload.txs[i]);
      return true;
    };
  } else {
    seen.txs.resize(count);
    check = [&](std::size_t i) {
      // Canonical encodings only (see admit()): the hash of the bytes is the id, and a pending
      // transaction with that id was decoded, checked for this chain and verified on admission.
      const core::ByteView encoded = payload.txs[i];
      const core::Hash256 id = core::sha3_256(encoded);
      std::shared_ptr<const PoolTx> entry = mempool_.find(id);
      if (!entry) {
        // Its signatures are verified below, with the other new ones, as batches.
        auto tx = contracts::decode_signed_tx(encoded);
        if (!tx || tx->tx.chain_id != genesis_.chain_id) return false;
        entry = std::make_shared<const PoolTx>(
            PoolTx{id, std::move(tx).value(), std::make_shared<const core::Bytes>(encoded.begin(), encoded.end())});
        is_fresh[i] = 1;
      }
      seen.tx_ids[i] = id;
      seen.txs[i] = std::move(entry);
      return true;
    };
  }
  const auto run = [&](std::size_t items, const std::function<bool(std::size_t)>& work) {
    if (verify_pool_ != nullptr && helpers > 0) return parallel_for(*verify_pool_, helpers, items, work);
    for (std::size_t i = 0; i < items; ++i) {
      if (!work(i)) return false;
    }
    return true;
  };
  if (!run(count, check)) return std::nullopt;
  std::vector<const contracts::SignedTx*> unverified;
  std::vector<core::Hash256> unverified_ids;
  for (std::size_t i = 0; i < seen.txs.size(); ++i) {
    if (is_fresh[i] != 0 && !is_verified(seen.tx_ids[i])) {
      unverified.push_back(&seen.txs[i]->tx);
      unverified_ids.push_back(seen.tx_ids[i]);
    }
  }
  // One batch per chunk, spread over the pool; the first that fails ends the check (which
  // transaction failed does not matter: the block is refused).
  const std::size_t chunks = (unverified.size() + contracts::kSignatureBatch - 1) / contracts::kSignatureBatch;
  const auto verify_chunk = [&](std::size_t chunk) {
    const std::size_t from = chunk * contracts::kSignatureBatch;
    const std::size_t to = std::min(unverified.size(), from + contracts::kSignatureBatch);
    // Those gossip admission verified since the list was made are left out (their verdict is in).
    const std::vector<std::size_t> positions = not_yet_verified(unverified_ids, from, to);
    std::vector<const contracts::SignedTx*> still;
    for (const std::size_t i : positions) still.push_back(unverified[i]);
    if (!contracts::all_pass_check_signatures(still)) return false;
    // Every signature of the chunk passed: remembered now, so that gossip admission working
    // through the same transactions skips them.
    for (const std::size_t i : positions) remember_verified(unverified_ids[i]);
    return true;
  };
  if (!run(chunks, verify_chunk)) return std::nullopt;
  for (std::size_t i = 0; i < seen.txs.size(); ++i) {
    seen.note_nonce(seen.txs[i]->tx);
    if (is_fresh[i] != 0) checked.fresh.push_back(seen.txs[i]);
  }
  return checked;
}

void NodeApp::prepare_payload_check(const consensus::Block& block) {
  auto payload = view_payload(block.payload);
  if (!payload) return;  // payload_acceptable refuses it
  const std::size_t helpers = std::max(1u, std::thread::hardware_concurrency()) - 1;
  auto checked = check_block_txs(block, *payload, helpers);
  // A failure is not kept: the strand finds it again and refuses the block.
  if (!checked) return;
  // (check_block_txs remembered the verdicts of the signatures it verified: if this block is
  // never judged, its transactions' gossip skips the check.)
  const core::Hash256 block_id = block.id();
  std::lock_guard lock(prepared_mutex_);
  if (!prepared_.insert_or_assign(block_id, std::move(*checked)).second) return;
  prepared_order_.push_back(block_id);
  while (prepared_order_.size() > kMaxPreparedBlocks) {
    prepared_.erase(prepared_order_.front());
    prepared_order_.pop_front();
  }
}

void NodeApp::note_blocks(const std::vector<const consensus::Block*>& blocks) {
  const consensus::Height executed = executed_height_.load();
  for (const consensus::Block* block : blocks) {
    if (block->header.height <= executed) continue;  // its transactions left the pools already
    // A node catching up commits blocks by sync far ahead of its execution and proposes
    // nothing useful meanwhile: noting all of them would hold their ids in memory for nothing.
    if (block->header.height > executed + kMaxNotedBlocksAhead) continue;
    const core::Hash256 block_id = block->id();
    {
      std::lock_guard lock(seen_mutex_);
      if (seen_blocks_.count(block_id) > 0 || seen_blocks_.size() >= kMaxSeenBlocks) continue;
    }
    // A block this node did not check for a vote: indexed without checks (it was certified, or
    // is about to be extended by this node's own proposal), by ids and, for the transactions
    // this node holds, the nonces they use. Nothing is decoded or copied: execution decodes
    // such a block itself (seen.txs stays empty).
    SeenBlock seen;
    seen.parent_id = block->header.parent_id;
    seen.height = block->header.height;
    if (auto payload = view_payload(block->payload)) {
      seen.tx_ids.reserve(payload->txs.size());
      for (const auto& encoded : payload->txs) {
        const core::Hash256 id = core::sha3_256(encoded);
        seen.tx_ids.push_back(id);
        if (config_.bench_ordering_only) continue;
        // One the pool does not hold is not proposed by this node, whatever its nonce.
        if (const std::shared_ptr<const PoolTx> entry = mempool_.find(id)) seen.note_nonce(entry->tx);
      }
    }
    std::lock_guard lock(seen_mutex_);
    if (seen_blocks_.size() < kMaxSeenBlocks) seen_blocks_.emplace(block_id, std::move(seen));
  }
}

bool NodeApp::payload_acceptable(const consensus::Block& block) const {
  // Every transaction must decode, be for this chain and carry valid signatures; state-dependent
  // failures (nonce, balance) are for execution to report in receipts.
  auto payload = view_payload(block.payload);
  if (!payload) return false;
  // The proposer's state-root claim: about an earlier height, and, where this node has executed
  // that height, equal to its own root. (A voter still executing it cannot check and does not
  // hold up the vote; enough honest voters have it that a false claim does not gather a QC.)
  if (payload->executed_height >= block.header.height) return false;
  if (payload->executed_height > 0 && payload->executed_height <= executed_height_.load()) {
    auto mine = store_.state_root(payload->executed_height);
    if (mine && *mine && **mine != payload->executed_root) {
      spdlog::warn("refusing to vote for block {}: its proposer claims state root {} at height {}, this node has {}",
                   block.header.height, payload->executed_root.short_hex(), payload->executed_height,
                   (*mine)->short_hex());
      return false;
    }
  }
  // As prepare_payload_check() found it (almost always: the proposal passed through it), else
  // checked here.
  std::optional<CheckedBlock> checked;
  const core::Hash256 block_id = block.id();
  {
    std::lock_guard lock(prepared_mutex_);
    if (auto it = prepared_.find(block_id); it != prepared_.end()) {
      checked = std::move(it->second);
      prepared_.erase(it);  // its id leaves prepared_order_ when it reaches the front
    } else if (own_proposal_ && own_proposal_->checked.seen.parent_id == block.header.parent_id &&
               own_proposal_->checked.seen.height == block.header.height && own_proposal_->payload == block.payload) {
      // This node's own proposal: the very payload it built, for the same parent and height.
      checked = std::move(own_proposal_->checked);
      own_proposal_.reset();
    }
  }
  if (!checked) checked = check_block_txs(block, *payload, 0);
  if (!checked) return false;
  auto* self = const_cast<NodeApp*>(this);  // caches only; the verdict depends on the block alone
  // Kept until executed, so nothing is lost if this block never commits (its gossip may not have
  // reached us). Only for a block this node votes for: these transactions skipped admission's
  // checks of state (sender registered, nonce and expiry windows), so a proposal refused or
  // dropped must not feed the pool. (Their verdicts were remembered by check_block_txs.)
  for (const auto& tx : checked->fresh) {
    // Only what admission would take: a proposal's transactions from unknown senders, with
    // nonces that never come due or expiries far off would otherwise stay in the pool for good,
    // and a faulty leader could fill it with them (blocks that never commit).
    if (mempool_.contains(tx->id)) continue;
    if (const auto used_nonce = check_pool_state(tx->tx)) (void)self->mempool_.add(tx, *used_nonce);
  }
  std::lock_guard lock(seen_mutex_);
  if (seen_blocks_.size() < kMaxSeenBlocks) self->seen_blocks_.emplace(block_id, std::move(checked->seen));
  return true;
}

void NodeApp::on_commit(std::vector<consensus::Block> blocks) {
  if (!blocks.empty()) consensus_committed_height_ = blocks.back().header.height;
  for (auto& block : blocks) {
    if (queued_blocks_.fetch_add(1) >= kMaxQueuedBlocks) {
      // Execution is far behind consensus (a long catch-up): stop rather than queue without
      // bound. Nothing is lost: after a restart the node resumes from its last executed block.
      halt("execution fell more than " + std::to_string(kMaxQueuedBlocks) +
           " blocks behind consensus; restart the node to resume catching up");
      return;
    }
    boost::asio::post(execution_, [this, block = std::move(block), committed_at = std::chrono::steady_clock::now()] {
      execute(block, committed_at);
      queued_blocks_.fetch_sub(1);
    });
  }
}

void NodeApp::halt(const std::string& why) {
  if (halted_.exchange(true)) return;
  spdlog::critical("HALT: {}. This node stops executing and accepting transactions (consensus still orders "
                   "blocks); it must not go on with a state the others may not share.",
                   why);
}

bool NodeApp::store_executed(const consensus::Block& block, const core::Hash256& state_root, leveldb::WriteBatch& batch) {
  if (auto status = store_.commit_block(block, state_root, batch); !status.is_ok()) {
    halt(status.to_string());
    return false;
  }
  return true;
}

void NodeApp::advance_executed(const consensus::Block& block, const core::Hash256& state_root) {
  {
    std::lock_guard lock(last_root_mutex_);
    last_root_ = state_root;
  }
  const consensus::Height height = block.header.height;
  executed_height_ = height;
  std::lock_guard lock(seen_mutex_);
  std::erase_if(seen_blocks_, [height](const auto& entry) { return entry.second.height <= height; });
}

namespace {
// CPU time this thread has used, in microseconds (for the operator's per-block log line).
std::int64_t thread_cpu_us() {
  timespec now{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return static_cast<std::int64_t>(now.tv_sec) * 1'000'000 + now.tv_nsec / 1'000;
}
}  // namespace

void NodeApp::execute(const consensus::Block& block, std::chrono::steady_clock::time_point committed_at) {
  const auto started_at = std::chrono::steady_clock::now();
  const std::int64_t started_cpu_us = thread_cpu_us();
  if (halted_) return;
  const consensus::Height height = block.header.height;
  if (height <= executed_height_.load()) return;  // already executed before a restart
  if (height != executed_height_.load() + 1) {
    halt("blocks arrived out of order for execution (" + std::to_string(height) + " after " +
         std::to_string(executed_height_.load()) + ")");
    return;
  }
  // A payload that does not decode executes as empty on every honest node alike (honest
  // validators never vote for one; this only happens with more than f faulty).
  PayloadView payload;
  if (auto viewed = view_payload(block.payload)) payload = std::move(viewed).value();
  if (payload.executed_height > 0 && payload.executed_height < height) {
    auto mine = store_.state_root(payload.executed_height);
    if (mine && *mine && **mine != payload.executed_root) {
      halt("state root mismatch at height " + std::to_string(payload.executed_height) + ": this node has " +
           (*mine)->to_hex() + ", the proposer of block " + std::to_string(height) + " has " +
           payload.executed_root.to_hex());
      return;
    }
  }
  if (config_.bench_ordering_only) {
    // Benchmark mode: nothing to execute; record the block and forget its items.
    // The ids as the vote check hashed them (almost always there), else hashed here.
    std::vector<core::Hash256> ids;
    {
      std::lock_guard lock(seen_mutex_);
      if (auto it = seen_blocks_.find(block.id()); it != seen_blocks_.end()) ids = it->second.tx_ids;
    }
    if (ids.size() != payload.txs.size()) {
      ids.clear();
      for (const auto& item : payload.txs) ids.push_back(core::sha3_256(item));
    }
    {
      std::lock_guard lock(raw_mutex_);
      for (const auto& id : ids) {
        auto [it, unknown] = raw_known_.try_emplace(id);
        if (!unknown) {
          if (!it->second) continue;  // ordered before (a duplicate in a faulty leader's block)
          it->second->executed = true;
          it->second.reset();
          --raw_waiting_;
        }
        raw_ordered_order_.push_back(id);
      }
      // Only ordered (null) entries are in the order list: forgetting one never drops a waiting item.
      while (raw_ordered_order_.size() > kMaxRememberedOrderedItems) {
        raw_known_.erase(raw_ordered_order_.front());
        raw_ordered_order_.pop_front();
      }
    }
    core::Hash256 root;
    {
      std::lock_guard lock(last_root_mutex_);
      root = last_root_;
    }
    leveldb::WriteBatch& batch = block_batch_;
    batch.Clear();
    if (!store_executed(block, root, batch)) return;
    advance_executed(block, root);
    spdlog::info("committed height {} round {} items {} (ordering only)", height, block.header.round, payload.txs.size());
    return;
  }
  // The transactions as the vote check decoded and hashed them, when this node checked this
  // block (almost always); otherwise (a block learnt by sync) decoded here.
  std::vector<std::shared_ptr<const PoolTx>> checked;
  {
    std::lock_guard lock(seen_mutex_);
    if (auto it = seen_blocks_.find(block.id()); it != seen_blocks_.end()) checked = it->second.txs;
  }
  std::vector<const contracts::SignedTx*> txs;
  std::vector<core::Hash256> tx_ids;
  std::vector<contracts::SignedTx> decoded_here;
  if (checked.size() == payload.txs.size()) {
    txs.reserve(checked.size());
    tx_ids.reserve(checked.size());
    for (const auto& tx : checked) {
      txs.push_back(&tx->tx);
      tx_ids.push_back(tx->id);
    }
  } else {
    decoded_here.reserve(payload.txs.size());
    for (const auto& encoded : payload.txs) {
      auto tx = contracts::decode_signed_tx(encoded);
      if (!tx) continue;  // cannot happen in a block honest validators voted for; skipped alike everywhere
      decoded_here.push_back(std::move(tx).value());
    }
    for (const auto& tx : decoded_here) {
      txs.push_back(&tx);
      tx_ids.push_back(contracts::tx_id(tx));
    }
  }
  // Every transaction of a block the vote check passed was verified by this node. A block learnt
  // by sync is checked transaction by transaction against the verified cache; those it does not
  // hold are verified here first, as batches, and the executor's check then finds them there. A
  // failure (impossible in a block that honest validators certified) is checked once more by the
  // executor, for its receipt's message.
  executing_checked_block_ = checked.size() == payload.txs.size();
  if (!executing_checked_block_) {
    std::vector<const contracts::SignedTx*> unverified;
    std::vector<core::Hash256> unverified_ids;
    for (std::size_t i = 0; i < txs.size(); ++i) {
      if (is_verified(tx_ids[i])) continue;
      unverified.push_back(txs[i]);
      unverified_ids.push_back(tx_ids[i]);
    }
    (void)verify_and_remember(unverified, unverified_ids);
  }
  const std::int64_t execution_started_cpu_us = thread_cpu_us();
  const contracts::BlockResult result = executor_->execute_block(height, block.header.timestamp_ms, txs, tx_ids);
  const std::int64_t execution_cpu_us = thread_cpu_us() - execution_started_cpu_us;
  executing_checked_block_ = false;
  leveldb::WriteBatch& batch = block_batch_;
  batch.Clear();
  LevelDbStateStore::add_writes(batch, executor_->last_block_writes());
  std::set<core::Hash256> receipted;
  for (std::size_t i = 0; i < result.receipts.size(); ++i) {
    // A transaction included twice (possible when two leaders propose it before either block
    // commits) fails the second time on its nonce; its receipt stays that of the first time.
    const core::Hash256& id = result.receipts[i].tx_id;
    if (!receipted.insert(id).second) continue;
    // A transaction that failed its pre-checks (e.g. a nonce not yet due) may apply in a later
    // block: a success replaces the earlier failure; a later failure never replaces anything.
    if (!result.receipts[i].ok()) {
      if (auto existing = store_.get(NodeStore::id_key('t', id)); existing && *existing) continue;
    }
    StoredReceipt stored{height, static_cast<std::uint32_t>(i), result.receipts[i]};
    batch.Put(NodeStore::id_key('t', id), as_string(core::codec::encode(stored)));
  }
  std::size_t failed = 0;
  std::vector<core::Hash256> ids;  // the executor computed every tx id already, in its receipts
  ids.reserve(result.receipts.size());
  for (const auto& receipt : result.receipts) {
    failed += receipt.ok() ? 0u : 1u;
    ids.push_back(receipt.tx_id);
  }
  std::set<core::PublicKey> senders;
  for (const auto* tx : txs) senders.insert(tx->tx.sender);
  const std::int64_t write_started_cpu_us = thread_cpu_us();
  if (!store_executed(block, result.state_root, batch)) return;
  const std::int64_t write_cpu_us = thread_cpu_us() - write_started_cpu_us;
  // The pools let go of the block's transactions and nonces before the block leaves the seen
  // blocks (advance_executed(), node/app.h says why).
  refresh_account_cache(senders);
  const std::vector<Mempool::Dropped> dropped = mempool_.on_committed(
      height, ids, senders, [this](const core::PublicKey& sender) { return committed_nonce(sender); });
  for (const Mempool::Dropped& drop : dropped) remember_rejection(drop.id, drop.reason);
  if (!dropped.empty()) {
    // One line per block, not per transaction; each one's reason is in GET /tx/{id}.
    spdlog::info("dropped {} transaction(s) from the mempool after height {} (expired, or nonce used by another); "
                 "first: {} {}",
                 dropped.size(), height, dropped.front().id.short_hex(), dropped.front().reason);
  }
  advance_executed(block, result.state_root);
  // The block's age when consensus committed it (by the proposer's clock), how long it then
  // waited for the execution thread, and how long executing and writing it took, with the CPU
  // that took split between the contracts with the state root and the block's store write: where
  // a transaction's latency and a node's execution thread go, per block, for the operator.
  const auto now = std::chrono::steady_clock::now();
  const auto ms = [](auto duration) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
  };
  const auto wall_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
  const auto age_ms = wall_ms - static_cast<std::int64_t>(block.header.timestamp_ms) - ms(now - committed_at);
  spdlog::info("committed height {} round {} txs {} ({} failed) state_root {} (committed {} ms after its proposal, "
               "queued {} ms, executed in {} ms, {:.1f} ms of CPU: contracts and state root {:.1f}, store write {:.1f})",
               height, block.header.round, txs.size(), failed, result.state_root.short_hex(), age_ms,
               ms(started_at - committed_at), ms(now - started_at),
               static_cast<double>(thread_cpu_us() - started_cpu_us) / 1000.0,
               static_cast<double>(execution_cpu_us) / 1000.0, static_cast<double>(write_cpu_us) / 1000.0);
}

// ------------------------------------------------------------------ RPC

std::pair<unsigned, std::string> NodeApp::rpc_status() const {
  core::Hash256 root;
  {
    std::lock_guard lock(last_root_mutex_);
    root = last_root_;
  }
  const auto consensus_status = driver_ != nullptr ? driver_->status() : DriverStatus{};
  const GossipBacklog backlog = gossip_backlog_ ? gossip_backlog_() : GossipBacklog{};
  json out = {
      {"chain_id", genesis_.chain_id},
      {"node", config_.name},
      {"validator_index", validator_index_},
      {"validator_key", validator_key_.to_hex()},
      {"height", executed_height_.load()},
      {"state_root", root.to_hex()},
      {"epoch", 1},
      {"round", consensus_status.round},
      {"committed_height", consensus_status.committed_height},
      {"connected_peers", peer_count_ ? peer_count_() : 0},
      {"validators", genesis_.validators.size()},
      {"mempool_size", mempool_.size()},
      {"signatures_verified", contracts::signatures_verified()},
      {"gossip_backlog",
       {{"waiting_bytes", backlog.waiting_bytes},
        {"oldest_wait_ms", backlog.oldest_wait_ms},
        {"frames_dropped", backlog.frames_dropped}}},
      {"halted", halted_.load()},
  };
  return {200, rpcq::json_text(out)};
}

std::pair<unsigned, std::string> NodeApp::rpc_tx(const std::string& id_hex) const {
  auto id = core::Hash256::from_hex(id_hex);
  if (!id) return bad_request("a transaction id is 64 hex characters");
  auto stored = store_.get(NodeStore::id_key('t', *id));
  if (stored && *stored) {
    auto record = core::codec::decode<StoredReceipt>(as_view(**stored));
    if (!record) return rpcq::error_answer(500, "internal", "stored receipt is corrupt");
    json out = {{"tx_id", id->to_hex()},
                {"status", "committed"},
                {"height", record->height},
                {"index", record->index},
                {"receipt",
                 {{"ok", record->receipt.ok()},
                  {"code", std::string(core::error_code_name(record->receipt.code))},
                  {"message", record->receipt.message}}}};
    // The transaction itself, from its block (the receipt records where it is).
    if (auto block = store_.committed_block(record->height); block && *block) {
      if (auto payload = view_payload((**block).payload); payload && record->index < payload->txs.size()) {
        if (auto tx = contracts::decode_signed_tx(payload->txs[record->index])) {
          out["sender"] = tx->tx.sender.to_hex();
          out["nonce"] = tx->tx.nonce;
          out["call"] = render::call_json(tx->tx.call);
        }
      }
    }
    return {200, rpcq::json_text(out)};
  }
  if (mempool_.contains(*id)) return {200, rpcq::json_text(json{{"tx_id", id->to_hex()}, {"status", "pending"}})};
  {
    std::lock_guard lock(caches_mutex_);
    auto it = rejections_.find(*id);
    if (it != rejections_.end()) {
      return {200, rpcq::json_text(json{{"tx_id", id->to_hex()}, {"status", "rejected"}, {"reason", it->second}})};
    }
  }
  return not_found("no transaction " + id->to_hex() + " is known to this node");
}

std::pair<unsigned, std::string> NodeApp::rpc_account(const std::string& address_hex) const {
  auto key = core::PublicKey::from_hex(address_hex);
  if (!key) return bad_request("an address is the 64-hex-character public key");
  const auto& state = static_cast<const contracts::StateStore&>(read_state_);
  contracts::Ledger ledger(state);
  auto account = ledger.account(*key);
  if (!account) return rpcq::error_answer(500, "internal", account.status().message());
  if (!*account) return not_found("unknown account " + key->to_hex() + ": not a registered participant");
  auto held = ledger.balances(*key, kMaxAccountBalances);
  if (!held) return rpcq::error_answer(500, "internal", held.status().message());
  json balances = json::array();
  for (const auto& [product, quantity_t] : *held) {
    balances.push_back({{"product", product.code()}, {"quantity_t", quantity_t}});
  }
  json out = {{"address", key->to_hex()},
              {"name", (*account)->name},
              {"role", std::string(contracts::role_name((*account)->role))},
              {"nonce", (*account)->nonce},
              {"pending_nonce", mempool_.contiguous_pending_nonce(*key, (*account)->nonce)},
              {"frozen", (*account)->frozen != 0},
              {"balances", balances},
              {"height", executed_height_.load()}};
  return {200, rpcq::json_text(out)};
}

std::pair<unsigned, std::string> NodeApp::rpc_block(const std::string& height_text) const {
  char* end = nullptr;
  errno = 0;
  const unsigned long long height = std::strtoull(height_text.c_str(), &end, 10);
  if (height_text.empty() || height_text[0] < '0' || height_text[0] > '9' || errno != 0 || *end != '\0') {
    return bad_request("a block height is a non-negative number");
  }
  auto block = store_.committed_block(height);
  if (!block) return rpcq::error_answer(500, "internal", block.status().message());
  if (!*block) return not_found("no committed block at height " + height_text);
  const consensus::Block& b = **block;
  json txs = json::array();
  if (auto payload = view_payload(b.payload)) {
    for (const auto& encoded : payload->txs) {
      if (config_.bench_ordering_only) {
        txs.push_back({{"tx_id", core::sha3_256(encoded).to_hex()}});
        continue;
      }
      auto tx = contracts::decode_signed_tx(encoded);
      if (!tx) continue;
      txs.push_back({{"tx_id", contracts::tx_id(*tx).to_hex()},
                     {"sender", tx->tx.sender.to_hex()},
                     {"nonce", tx->tx.nonce},
                     {"call", render::call_json(tx->tx.call)}});
    }
  }
  json out = {{"height", b.header.height},
              {"round", b.header.round},
              {"id", b.id().to_hex()},
              {"parent_id", b.header.parent_id.to_hex()},
              {"proposer", b.header.proposer},
              {"timestamp_ms", b.header.timestamp_ms},
              {"tx_count", txs.size()},
              {"txs", txs}};
  if (auto root = store_.state_root(height); root && *root) out["state_root"] = (*root)->to_hex();
  return {200, rpcq::json_text(out)};
}

std::pair<unsigned, std::string> NodeApp::rpc_blocks(const std::string& query) const {
  auto params = rpcq::parse_query(query, {"from", "limit"});
  if (!params) return rpcq::bad_request(params.status().message());
  const consensus::Height executed = executed_height_.load();
  auto from = rpcq::number_param(*params, "from", 1, UINT64_MAX, 1);
  if (!from) return rpcq::bad_request(from.status().message());
  auto limit = rpcq::number_param(*params, "limit", 1, kMaxBlocksPerPage, kMaxBlocksPerPage);
  if (!limit) return rpcq::bad_request(limit.status().message());
  json blocks = json::array();
  for (consensus::Height height = *from; height <= executed && height - *from < *limit; ++height) {
    auto block = store_.committed_block(height);
    if (!block) return rpcq::error_answer(500, "internal", block.status().message());
    if (!*block) break;
    const consensus::Block& b = **block;
    json ids = json::array();
    // Canonical encodings only, so the hash of the bytes is the id (see admit()).
    if (auto payload = view_payload(b.payload)) {
      for (const auto& encoded : payload->txs) ids.push_back(core::sha3_256(encoded).to_hex());
    }
    blocks.push_back({{"height", b.header.height},
                      {"round", b.header.round},
                      {"timestamp_ms", b.header.timestamp_ms},
                      {"tx_ids", std::move(ids)}});
  }
  return {200, rpcq::json_text(json{{"blocks", std::move(blocks)}, {"height", executed}})};
}

}  // namespace carbon::node
