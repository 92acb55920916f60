// The mempool: signed transactions waiting for a block, bounded and deduplicated by tx id.
//
// Entry checks (stateless ones, signatures included, are the caller's: NodeApp checks them
// before add(), off the consensus strand) are here only for what needs the pool's own state:
// the pool is full, the tx is already in it, or its sender already has another tx with the same
// nonce waiting.
//
// select() builds a leader's batch for a block extending a given chain: transactions in arrival
// order, skipping those already in the chain's uncommitted blocks, each included only if its
// nonce is the next one its sender needs on that chain, so a batch never holds a nonce gap.
// Transactions stay in the pool until a block holding them is executed, so a block that is
// never committed loses nothing.
//
// Thread safety: all methods lock one mutex; callable from any thread.
#pragma once

#include <algorithm>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "contracts/types.h"
#include "core/hash.h"

namespace carbon::node {

struct PoolTx {
  core::Hash256 id;
  contracts::SignedTx tx;
  std::shared_ptr<const core::Bytes> bytes;  // the canonical encoding, as gossiped and proposed
};

class Mempool {
 public:
  explicit Mempool(std::size_t max_txs) : max_txs_(max_txs) {}

  // Adds a transaction whose stateless checks passed. Errors: kOutOfBounds (full, or too many
  // waiting behind gaps), kConflict (already known, or another tx with this sender and nonce is
  // waiting).
  //
  // `committed_nonce` is the sender's last nonce used by the state. A transaction that would
  // wait behind a nonce gap (its sender's previous nonce neither used nor waiting here) is
  // taken only while fewer than max_gapped() such transactions wait: transactions that cannot
  // run until someone sends a missing nonce must not fill the pool until they expire (up to
  // kMaxExpiryBlocks away) and lock out transactions that can run. nullopt skips the rule (a
  // caller that does not know the state).
  core::Status add(PoolTx tx, std::optional<std::uint64_t> committed_nonce = std::nullopt);
  core::Status add(std::shared_ptr<const PoolTx> tx, std::optional<std::uint64_t> committed_nonce = std::nullopt);
  // At most this many transactions wait behind a gap at once: a quarter of the pool. (Not a
  // share per sender: an honest client that sends a run of nonces to several nodes at once has
  // up to kMaxNonceGap of them behind a gap at each node until the earlier ones arrive by gossip.
  // A node refusing such a gossiped copy for room does not record it as rejected: the node it
  // was sent to still holds it.)
  std::size_t max_gapped() const { return std::max<std::size_t>(1, max_txs_ / 4); }
  bool contains(const core::Hash256& id) const;
  // The pending transaction with this id, or null.
  std::shared_ptr<const PoolTx> find(const core::Hash256& id) const;
  // The last nonce of the unbroken run of the sender's waiting transactions that starts right
  // after `committed_nonce` (committed_nonce itself if the next one is not waiting): the nonce a
  // wallet should build on, never past a gap.
  std::uint64_t contiguous_pending_nonce(const core::PublicKey& sender, std::uint64_t committed_nonce) const;
  std::size_t size() const;

  // Up to max_txs transactions for a new block. next_nonce(sender) gives the nonce the sender
  // needs next on the chain being extended; `exclude` holds the transactions already on it.
  std::vector<std::shared_ptr<const PoolTx>> select(std::size_t max_txs, std::uint64_t height,
                                                    const std::function<std::uint64_t(const core::PublicKey&)>& next_nonce,
                                                    const std::unordered_set<core::Hash256>& exclude);
  // Whether some sender's next transaction (the last nonce used, by the state or by blocks already
  // ordered, + 1) is waiting: if not, a block now would be empty (transactions behind a nonce
  // gap wait for the missing one).
  bool has_ready(const std::function<std::uint64_t(const core::PublicKey&)>& used_nonce) const;
  // A transaction dropped without being included, and why, for its sender (GET /tx/{id}).
  struct Dropped {
    core::Hash256 id;
    std::string reason;
  };
  // A block at `height` was executed holding `ids`: remove them and drop whatever can no longer
  // apply (nonce used, expired), returning what was dropped (at most the pool's size).
  // `senders` are the senders of every transaction in the block (some may not be in this pool);
  // committed_nonce(sender) is the sender's last nonce used after this block.
  std::vector<Dropped> on_committed(std::uint64_t height, const std::vector<core::Hash256>& ids,
                                    const std::set<core::PublicKey>& senders,
                                    const std::function<std::uint64_t(const core::PublicKey&)>& committed_nonce);

 private:
  void erase_locked(const core::Hash256& id);

  const std::size_t max_txs_;
  mutable std::mutex mutex_;
  std::uint64_t next_seq_ = 0;
  std::unordered_map<core::Hash256, std::pair<std::uint64_t, std::shared_ptr<const PoolTx>>> by_id_;  // id -> (seq, tx)
  std::map<std::uint64_t, core::Hash256> by_seq_;                                           // arrival order
  // Per sender, its waiting nonces in order. Hashed by sender: an ordered map of (sender, nonce)
  // compared 32-byte keys a dozen times per look-up, on every admission and proposal.
  struct SenderHash {
    std::size_t operator()(const core::PublicKey& key) const noexcept {
      std::size_t out = 0;
      for (std::size_t i = 0; i < sizeof(std::size_t); ++i) out = (out << 8) | key.bytes[i];
      return out;
    }
  };
  std::unordered_map<core::PublicKey, std::map<std::uint64_t, core::Hash256>, SenderHash> by_sender_;
  // (expiry height, arrival seq): expiry after a block costs what expires, not a scan of the
  // pool (seq, not the id, breaks ties: most transactions share an expiry height).
  std::set<std::pair<std::uint64_t, std::uint64_t>> by_expiry_;
  // Those waiting behind a gap: taken off when the missing nonce arrives here (add) or is used
  // by a block (on_committed), and when they leave the pool.
  std::unordered_set<core::Hash256> gapped_;
  // Takes off gapped_ the sender's waiting transactions from nonce `from` on while their nonces
  // run unbroken (bounded by the sender's waiting transactions). Called under mutex_.
  void ungap_run_locked(const core::PublicKey& sender, std::uint64_t from);
  // contiguous_pending_nonce, called under mutex_.
  std::uint64_t run_end_locked(const core::PublicKey& sender, std::uint64_t committed_nonce) const;
};

}  // namespace carbon::node
