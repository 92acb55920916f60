// The executor: runs committed blocks of signed transactions against the contract state and
// returns one receipt per transaction and the state root after the block. This is the narrow
// application boundary the node sees (check_tx for the mempool, execute_block for commits).
//
// Per transaction, in order:
//   1. signatures (the injected check, by default check_signatures; the node swaps in a
//      lookup of the verdict it cached when the tx entered its mempool),
//   2. chain id, 3. expiry (block height <= expiry_height), 4. sender is a registered account
//      whose current signing key is among the signers (keys rotate; the address stays),
//   5. nonce == the sender's nonce + 1,
//   6. the call, applied in a StateOverlay and committed only if it succeeds.
// A failure in 1-5 leaves no trace at all: the nonce is NOT consumed (the sender never
// validly authorised this nonce on this chain at this height, so consuming it would let
// anyone burn a sender's nonces). A failure in 6 discards every write of the call but DOES
// consume the nonce (Ethereum-style): the signed transaction can never be replayed, and the
// receipt records why it failed.
//
// Determinism: the outcome depends only on the state, the height and the transactions;
// timestamp_ms is the block time agreed by consensus, the only clock the contracts read (a block
// in which some transaction passes steps 1-5 records it as meta/clock, the ledger's clock for
// queries).
//
// Thread safety: none; one thread (the node's executor strand) owns an Executor.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <unordered_map>
#include <unordered_set>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "contracts/ledger.h"
#include "contracts/market_books.h"
#include "contracts/merkle.h"
#include "contracts/state_store.h"
#include "contracts/types.h"

namespace carbon::contracts {

struct GenesisConfig {
  PublicKey authority;  // the first officer: an account with role authority
  std::string authority_name = "authority";
  std::vector<PublicKey> more_officers;  // the other officers, if any
  std::uint8_t threshold = 1;            // approvals an authority act needs (M of N)
  std::vector<PublicKey> officers() const {
    std::vector<PublicKey> all = {authority};
    all.insert(all.end(), more_officers.begin(), more_officers.end());
    return all;
  }
};

// Checks a genesis configuration (valid distinct keys, 1 <= threshold <= officers <= 7).
Status validate_genesis(const GenesisConfig& genesis);

struct BlockResult {
  std::vector<Receipt> receipts;  // receipts[i] is for txs[i]
  Hash256 state_root;
};

// Whether the sender's current signing key is among the transaction's signers.
Status check_signer(const SignedTx& signed_tx, const Account& sender);

// The next head of the history chain (keys::kHistoryHead, contracts/ledger.h) after a block that
// wrote `records`, given in key order: what the executor stores, and what anyone holding the
// move log can recompute block by block to check it against a state root.
Hash256 chain_history(const Hash256& previous_head, const std::vector<StateEntry>& records);

// The head of the history chain recomputed from the records in `store` alone (nullopt when there
// are none), block by block: what a node checks against the head in its state at start-up, since
// the Merkle tree does not cover the records themselves. Reads the log once, a page per product
// at a time, so its memory is bounded by the number of products, not of records. An error for a
// record whose key does not have the layout of contracts/records.h.
Result<std::optional<Hash256>> recompute_history_head(const StateStore& store);

class Executor {
 public:
  // Called with the transaction and its id (tx_id), computed once by the executor.
  using SignatureCheck = std::function<Status(const SignedTx&, const Hash256&)>;

  // A fresh chain on an in-memory store.
  Executor(std::string chain_id, const GenesisConfig& genesis);
  // Opens `store`: writes genesis into an empty store, or checks that a non-empty store was
  // made for this chain id and authority; then builds the Merkle tree from the store.
  static Result<Executor> open(std::string chain_id, const GenesisConfig& genesis,
                               std::unique_ptr<StateStore> store);

  Executor(Executor&&) noexcept = default;
  Executor& operator=(Executor&&) noexcept = default;

  // Heights must increase from call to call (the node executes committed blocks in order).
  BlockResult execute_block(Height height, std::uint64_t timestamp_ms,
                            const std::vector<SignedTx>& txs);
  // The same, for callers that hold the transactions elsewhere and already know their ids
  // (ids[i] must be tx_id(*txs[i]); asserted sizes only, the node computed them itself).
  BlockResult execute_block(Height height, std::uint64_t timestamp_ms,
                            const std::vector<const SignedTx*>& txs,
                            const std::vector<Hash256>& ids);

  // Mempool pre-check against the current state for inclusion at `next_height`: chain id,
  // not expired, sender registered, nonce ahead of the sender's (by at most kMaxNonceGap).
  // Does not check signatures (check_signatures, on the node's pool).
  Status check_tx(const SignedTx& signed_tx, Height next_height) const;

  // Replaces the signature check of step 1; an empty function skips it.
  void set_signature_check(SignatureCheck check) { signature_check_ = std::move(check); }

  // Whether the history records in `log` (a store that holds them, unlike a node's in-memory
  // copy of the state) recompute to the history chain head in this executor's state: an error
  // saying the data directory is damaged when they do not (recompute_history_head).
  Status check_history(const StateStore& log) const;

  const std::string& chain_id() const { return chain_id_; }
  const StateStore& state() const { return *store_; }
  // Order books held in memory (tests check that a refused order costs no rebuild).
  std::size_t order_books_held() const;
  // The root over the current state (recomputed only where something changed).
  Hash256 state_root() {
    flush_tree();
    return tree_.root();
  }
  // Every key the last block wrote (or, after open() on an empty store, the genesis state) with
  // its final value, each key once: what a store that persists blocks (the node's) must write.
  // Views (StateWrite), valid until the next block is executed. Order: none to rely on.
  const std::vector<StateWrite>& last_block_writes() {
    flush_tree();
    return block_writes_;
  }

  Result<std::optional<Account>> account(const PublicKey& key) const {
    return Ledger(*store_).account(key);
  }
  Result<std::uint64_t> balance(const PublicKey& owner, const ProductId& product) const {
    return Ledger(*store_).balance(owner, product);
  }
  Result<std::vector<std::pair<ProductId, std::uint64_t>>> balances(const PublicKey& owner,
                                                                    std::size_t limit) const {
    return Ledger(*store_).balances(owner, limit);
  }

 private:
  Executor(std::string chain_id, std::unique_ptr<StateStore> store);
  Receipt execute_tx(Height height, std::uint64_t timestamp_ms, std::uint32_t tx_index,
                     const SignedTx& signed_tx, const Hash256& id);
  Status precheck(Height height, const SignedTx& signed_tx, Account& sender) const;
  // Moves the overlay's writes into the store (the overlay is left empty). The first write after
  // a flush starts a new set of block writes.
  void commit(StateOverlay& overlay);
  // Begins the next block's set of writes (the last block's are no longer reported).
  void start_block_writes();
  // Applies the block's final value of every key it wrote to the Merkle tree, once per block
  // (later calls do nothing until the next write), and lists them in block_writes_. A key
  // written by many transactions of a block (the sender's account, a busy balance) is hashed
  // once, and a serial range created and consumed within the block is never hashed at all.
  void flush_tree();

  std::string chain_id_;
  std::unique_ptr<StateStore> store_;
  SparseMerkleTree tree_;
  // Every key the block wrote, for flush_tree(), which reads their final values from the store.
  // A hash set, deliberately: the tree's shape and every hash depend only on the set of keys and
  // values (contracts/merkle.h), never on the order of updates, so this iteration order cannot
  // reach the state root; and it spares an ordered insert of a long key for every write.
  // Kept after the flush, until the next block's first write: block_writes_ views these keys.
  std::unordered_set<std::string, StateKeyHash, std::equal_to<>> tree_pending_;
  bool tree_flushed_ = true;
  std::vector<StateWrite> block_writes_;
  // The history records the block wrote (contracts/state_store.h), in key order after the flush:
  // folded into the hash chain, reported in block_writes_ (which views them), never in the tree.
  std::vector<StateEntry> block_history_;
  SignatureCheck signature_check_;
  // The exchange's order books, an in-memory index over the open orders in the state
  // (contracts/market_books.h). Held by pointer so the executor stays movable.
  std::unique_ptr<MarketBooks> books_ = std::make_unique<MarketBooks>();
  Height last_height_ = 0;
  bool clock_due_ = false;  // a transaction of the block being executed applied
};

}  // namespace carbon::contracts
