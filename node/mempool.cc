#include "node/mempool.h"

#include "core/assert.h"

namespace carbon::node {

using core::ErrorCode;
using core::Status;

core::Status Mempool::add(PoolTx tx, std::optional<std::uint64_t> committed_nonce) {
  return add(std::make_shared<const PoolTx>(std::move(tx)), committed_nonce);
}

core::Status Mempool::add(std::shared_ptr<const PoolTx> tx, std::optional<std::uint64_t> committed_nonce) {
  CARBON_ASSERT(tx != nullptr);
  std::lock_guard lock(mutex_);
  if (by_id_.count(tx->id) > 0) return Status::error(ErrorCode::kConflict, "transaction already pending");
  const core::PublicKey& sender = tx->tx.tx.sender;
  const std::uint64_t nonce = tx->tx.tx.nonce;
  if (auto it = by_sender_.find(sender); it != by_sender_.end() && it->second.count(nonce) > 0) {
    return Status::error(ErrorCode::kConflict,
                         "another transaction with nonce " + std::to_string(tx->tx.tx.nonce) + " from this sender is pending");
  }
  bool gapped = false;
  if (committed_nonce) {
    const std::uint64_t run_end = run_end_locked(sender, *committed_nonce);
    gapped = nonce > run_end + 1;
    if (gapped && gapped_.size() >= max_gapped()) {
      return Status::error(ErrorCode::kOutOfBounds,
                           "nonce " + std::to_string(nonce) + " would wait behind a gap (this sender's next nonce is " +
                               std::to_string(run_end + 1) + ") and " + std::to_string(gapped_.size()) +
                               (gapped_.size() == 1 ? " such transaction waits" : " such transactions wait") +
                               " already; send nonce " + std::to_string(run_end + 1) + " first");
    }
  }
  if (by_id_.size() >= max_txs_) {
    return Status::error(ErrorCode::kOutOfBounds, "the mempool is full (" + std::to_string(max_txs_) +
                                                      " transactions); try again shortly");
  }
  const std::uint64_t seq = next_seq_++;
  const core::Hash256 id = tx->id;
  if (gapped) gapped_.insert(id);
  by_sender_[sender].emplace(nonce, id);
  // This one may close the sender's gap: those after it that now run unbroken wait no more.
  if (committed_nonce && !gapped) ungap_run_locked(sender, nonce + 1);
  by_seq_.emplace(seq, id);
  by_expiry_.emplace(tx->tx.tx.expiry_height, seq);
  by_id_.emplace(id, std::make_pair(seq, std::move(tx)));
  return Status::ok();
}

std::shared_ptr<const PoolTx> Mempool::find(const core::Hash256& id) const {
  std::lock_guard lock(mutex_);
  const auto it = by_id_.find(id);
  return it == by_id_.end() ? nullptr : it->second.second;
}

bool Mempool::contains(const core::Hash256& id) const {
  std::lock_guard lock(mutex_);
  return by_id_.count(id) > 0;
}

std::uint64_t Mempool::contiguous_pending_nonce(const core::PublicKey& sender, std::uint64_t committed_nonce) const {
  std::lock_guard lock(mutex_);
  return run_end_locked(sender, committed_nonce);
}

std::uint64_t Mempool::run_end_locked(const core::PublicKey& sender, std::uint64_t committed_nonce) const {
  std::uint64_t nonce = committed_nonce;
  const auto waiting = by_sender_.find(sender);
  if (waiting == by_sender_.end()) return nonce;
  // Bounded by the sender's waiting transactions (at most kMaxNonceGap of them).
  for (auto it = waiting->second.find(nonce + 1); it != waiting->second.end() && it->first == nonce + 1; ++it) ++nonce;
  return nonce;
}

bool Mempool::has_ready(const std::function<std::uint64_t(const core::PublicKey&)>& used_nonce) const {
  std::lock_guard lock(mutex_);
  // One look-up per sender, for the nonce due (the order of senders does not matter: any will do).
  for (const auto& [sender, nonces] : by_sender_) {
    if (nonces.count(used_nonce(sender) + 1) > 0) return true;
  }
  return false;
}

std::size_t Mempool::size() const {
  std::lock_guard lock(mutex_);
  return by_id_.size();
}

std::vector<std::shared_ptr<const PoolTx>> Mempool::select(
    std::size_t max_txs, std::uint64_t height, const std::function<std::uint64_t(const core::PublicKey&)>& next_nonce,
    const std::unordered_set<core::Hash256>& exclude) {
  std::lock_guard lock(mutex_);
  std::vector<std::shared_ptr<const PoolTx>> out;
  std::unordered_map<core::PublicKey, std::uint64_t, SenderHash> wanted;  // per sender, for this batch
  for (const auto& [seq, id] : by_seq_) {
    if (out.size() >= max_txs) break;
    if (exclude.count(id) > 0) continue;
    const auto& entry = by_id_.at(id).second;
    if (entry->tx.tx.expiry_height < height) continue;  // would fail as expired
    const core::PublicKey& sender = entry->tx.tx.sender;
    auto it = wanted.find(sender);
    if (it == wanted.end()) it = wanted.emplace(sender, next_nonce(sender)).first;
    if (entry->tx.tx.nonce != it->second) continue;
    ++it->second;
    out.push_back(entry);
  }
  return out;
}

void Mempool::ungap_run_locked(const core::PublicKey& sender, std::uint64_t from) {
  if (gapped_.empty()) return;
  const auto waiting = by_sender_.find(sender);
  if (waiting == by_sender_.end()) return;
  for (auto it = waiting->second.find(from); it != waiting->second.end() && it->first == from; ++it, ++from) {
    gapped_.erase(it->second);
  }
}

void Mempool::erase_locked(const core::Hash256& id) {
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return;
  by_seq_.erase(it->second.first);
  if (auto waiting = by_sender_.find(it->second.second->tx.tx.sender); waiting != by_sender_.end()) {
    waiting->second.erase(it->second.second->tx.tx.nonce);
    if (waiting->second.empty()) by_sender_.erase(waiting);
  }
  by_expiry_.erase({it->second.second->tx.tx.expiry_height, it->second.first});
  gapped_.erase(id);
  by_id_.erase(it);
}

std::vector<Mempool::Dropped> Mempool::on_committed(
    std::uint64_t height, const std::vector<core::Hash256>& ids, const std::set<core::PublicKey>& senders,
    const std::function<std::uint64_t(const core::PublicKey&)>& committed_nonce) {
  std::lock_guard lock(mutex_);
  std::vector<Dropped> dropped;
  for (const auto& id : ids) erase_locked(id);
  // Transactions whose nonce is now used can never apply.
  for (const auto& sender : senders) {
    const auto waiting = by_sender_.find(sender);
    if (waiting == by_sender_.end()) continue;
    const std::uint64_t used = committed_nonce(sender);
    const std::size_t first_stale = dropped.size();
    for (auto it = waiting->second.begin(); it != waiting->second.end() && it->first <= used; ++it) {
      dropped.push_back({it->second, "dropped from the mempool: nonce " + std::to_string(it->first) +
                                         " of this sender was used by another transaction (the sender's last "
                                         "nonce is " + std::to_string(used) + " as of height " +
                                         std::to_string(height) + ")"});
    }
    // Erased after the walk: erasing the sender's last waiting nonce erases `waiting` itself.
    for (std::size_t i = first_stale; i < dropped.size(); ++i) erase_locked(dropped[i].id);
    // A nonce used by this block may have closed a gap here.
    ungap_run_locked(sender, used + 1);
  }
  // Expired ones cannot either (blocks from height + 1 on).
  while (!by_expiry_.empty() && by_expiry_.begin()->first <= height) {
    const core::Hash256 id = by_seq_.at(by_expiry_.begin()->second);  // a copy: erased next
    const contracts::Transaction& tx = by_id_.at(id).second->tx.tx;
    std::string reason = "expired: not included in a block by its expiry height " + std::to_string(tx.expiry_height);
    const std::uint64_t used = committed_nonce(tx.sender);
    if (tx.nonce > used + 1) {
      // Why it waited: a transaction runs only after the sender's previous nonce.
      reason += "; it had nonce " + std::to_string(tx.nonce) + " and waited for the sender's nonce " +
                std::to_string(used + 1) + ", which never arrived";
    }
    dropped.push_back({id, std::move(reason)});
    erase_locked(id);
  }
  return dropped;
}

}  // namespace carbon::node
