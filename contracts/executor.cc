#include "contracts/executor.h"

#include "contracts/ledger_internal.h"

#include <algorithm>
#include <array>
#include <cstdint>
#include <utility>

namespace carbon::contracts {

namespace {

// Cut at a UTF-8 character boundary so a stored message is always valid UTF-8 if its input was.
std::string truncate_message(std::string text) {
  if (text.size() <= kMaxReceiptMessageBytes) return text;
  std::size_t cut = kMaxReceiptMessageBytes;
  while (cut > 0 && (static_cast<std::uint8_t>(text[cut]) & 0xC0) == 0x80) --cut;
  text.resize(cut);
  return text;
}

Receipt make_receipt(const Hash256& id, const Status& status) {
  return Receipt{id, status.code(), truncate_message(status.message())};
}

}  // namespace

Executor::Executor(std::string chain_id, std::unique_ptr<StateStore> store)
    : chain_id_(std::move(chain_id)),
      store_(std::move(store)),
      signature_check_([](const SignedTx& tx, const Hash256&) { return check_signatures(tx); }) {}

Status validate_genesis(const GenesisConfig& genesis) {
  if (genesis.authority_name.empty() || genesis.authority_name.size() + 16 > kMaxNameBytes) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "authority name must be 1.." + std::to_string(kMaxNameBytes - 16) + " bytes");
  }
  const auto officers = genesis.officers();
  if (officers.size() > kMaxOfficers) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "at most " + std::to_string(kMaxOfficers) + " officers");
  }
  for (std::size_t i = 0; i < officers.size(); ++i) {
    if (!core::is_valid_public_key(officers[i])) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "officer key " + officers[i].to_hex() + " is not a valid Ed25519 public key");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (officers[i] == officers[j]) {
        return Status::error(ErrorCode::kInvalidArgument, "officer " + officers[i].short_hex() + " is listed twice");
      }
    }
  }
  if (genesis.threshold < 1 || genesis.threshold > officers.size()) {
    return Status::error(ErrorCode::kInvalidArgument, "approval threshold " + std::to_string(genesis.threshold) +
                                                          " must be 1.." + std::to_string(officers.size()));
  }
  return Status::ok();
}

Executor::Executor(std::string chain_id, const GenesisConfig& genesis)
    : Executor(std::move(chain_id), std::make_unique<MemoryStateStore>()) {
  CARBON_ASSERT_MSG(chain_id_.size() <= kMaxChainIdBytes, "chain id too long");
  CARBON_ASSERT_MSG(validate_genesis(genesis).is_ok(), "invalid genesis configuration");
  write_genesis(*store_, chain_id_, genesis.officers(), genesis.threshold, genesis.authority_name);
  tree_.rebuild(*store_);
}

Result<Executor> Executor::open(std::string chain_id, const GenesisConfig& genesis,
                                std::unique_ptr<StateStore> store) {
  CARBON_ASSERT(store != nullptr);
  if (chain_id.empty() || chain_id.size() > kMaxChainIdBytes) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "chain id must be 1.." + std::to_string(kMaxChainIdBytes) + " bytes");
  }
  CARBON_RETURN_IF_ERROR(validate_genesis(genesis));
  bool fresh = false;
  const Ledger stored(static_cast<const StateStore&>(*store));
  auto meta = stored.chain_meta();
  if (!meta) return meta.status();
  if (!*meta) {
    if (!store->scan("", "", 1).empty()) {
      return Status::error(ErrorCode::kConflict,
                           "the state store holds data but no chain metadata");
    }
    fresh = true;
  } else if ((*meta)->chain_id != chain_id || (*meta)->authority != genesis.authority) {
    return Status::error(ErrorCode::kConflict,
                         "the state store belongs to chain " + (*meta)->chain_id +
                             " with authority " + (*meta)->authority.short_hex() + ", not chain " +
                             chain_id + " with authority " + genesis.authority.short_hex());
  } else {
    auto format = stored.get<std::uint32_t>(std::string(keys::kStateFormat));
    if (!format) return format.status();
    if (!*format || **format != kStateFormat) {
      return Status::error(ErrorCode::kConflict,
                           "the state store was written in state format " +
                               (*format ? std::to_string(**format) : std::string("1 (unmarked)")) +
                               "; this build reads format " + std::to_string(kStateFormat) +
                               " only: start the network again from genesis with fresh data directories");
    }
  }
  Executor executor(std::move(chain_id), std::move(store));
  if (fresh) {
    // Written through commit(), so that last_block_writes() reports the genesis state to a
    // store that persists it.
    StateOverlay overlay(*executor.store_);
    write_genesis(overlay, executor.chain_id_, genesis.officers(), genesis.threshold, genesis.authority_name);
    executor.commit(overlay);
  }
  executor.tree_.rebuild(*executor.store_);
  return executor;
}

Status check_signer(const SignedTx& signed_tx, const Account& sender) {
  for (const auto& signature : signed_tx.signatures) {
    if (signature.signer == sender.signing_key) return Status::ok();
  }
  if (sender.signing_key != sender.key) {
    return Status::error(ErrorCode::kBadSignature,
                         "not signed with " + sender.name + "'s current key " +
                             sender.signing_key.short_hex() + " (the key was rotated)");
  }
  return Status::error(ErrorCode::kBadSignature,
                       "the sender " + sender.key.short_hex() + " did not sign the transaction");
}

Status Executor::precheck(Height height, const SignedTx& signed_tx, Account& sender) const {
  const Transaction& tx = signed_tx.tx;
  if (tx.chain_id != chain_id_) {
    return Status::error(ErrorCode::kInvalidArgument, "wrong chain id: the transaction is for \"" +
                                                          tx.chain_id + "\", this chain is \"" +
                                                          chain_id_ + "\"");
  }
  if (height > tx.expiry_height) {
    return Status::error(ErrorCode::kConflict, "expired: valid up to height " +
                                                   std::to_string(tx.expiry_height) +
                                                   ", block height is " + std::to_string(height));
  }
  auto account = Ledger(*store_).account(tx.sender);
  if (!account) return account.status();
  if (!*account) {
    return Status::error(ErrorCode::kNotFound, "unknown sender " + tx.sender.to_hex() +
                                                   ": the authority must register it first");
  }
  sender = std::move(**account);
  if (Status status = check_signer(signed_tx, sender); !status) return status;
  if (tx.nonce != sender.nonce + 1) {
    return Status::error(ErrorCode::kConflict, "wrong nonce: expected " +
                                                   std::to_string(sender.nonce + 1) + ", got " +
                                                   std::to_string(tx.nonce));
  }
  return Status::ok();
}

Hash256 chain_history(const Hash256& previous_head, const std::vector<StateEntry>& records) {
  core::Sha3Hasher hasher;
  const std::uint8_t domain = 0x02;
  hasher.update(core::ByteView(&domain, 1));
  hasher.update(previous_head.bytes);
  auto update_length = [&hasher](std::size_t length) {
    CARBON_ASSERT(length <= UINT32_MAX);
    std::array<std::uint8_t, 4> bytes{};
    for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(length >> (8 * i));
    hasher.update(bytes);
  };
  for (const auto& [key, value] : records) {
    update_length(key.size());
    hasher.update(core::as_bytes(key));
    update_length(value.size());
    hasher.update(value);
  }
  return hasher.finish();
}

namespace {

// Records per page of one product's cursor: small, as there is a cursor per product and a chain
// of many CCER products must not hold many records in memory at once.
constexpr std::size_t kHistoryPageRecords = 64;

// Reads one product's move records ("mv/<product>/...") in key order, a page at a time.
class HistoryCursor {
 public:
  HistoryCursor(const StateStore& store, std::string prefix) : store_(store), prefix_(std::move(prefix)) { fill(); }
  bool done() const { return next_ == page_.size(); }
  const StateEntry& current() const { return page_[next_]; }
  void advance() {
    if (++next_ == page_.size() && page_.size() == kHistoryPageRecords) fill();
  }
  // The block height in the current record's key (16 hex digits after the product), or nullopt
  // for a malformed key.
  std::optional<Height> height() const {
    const std::string_view key = current().first;
    if (key.size() < prefix_.size() + 16) return std::nullopt;
    const auto bytes = core::fixed_from_hex<8>(key.substr(prefix_.size(), 16));
    if (!bytes) return std::nullopt;
    Height height = 0;
    for (const std::uint8_t byte : *bytes) height = (height << 8) | byte;  // big-endian, as keys::hex16 writes it
    return height;
  }

 private:
  void fill() {
    const std::string start = page_.empty() ? std::string() : key_successor(page_.back().first);
    page_ = store_.scan(prefix_, start, kHistoryPageRecords);
    next_ = 0;
  }
  const StateStore& store_;
  std::string prefix_;
  std::vector<StateEntry> page_;
  std::size_t next_ = 0;
};

}  // namespace

Result<std::optional<Hash256>> recompute_history_head(const StateStore& store) {
  // One cursor per product, found by skipping from one product's records to the next's.
  std::vector<HistoryCursor> cursors;
  std::string start;
  for (;;) {
    const auto first = store.scan(kHistoryPrefix, start, 1);
    if (first.empty()) break;
    const std::string_view key = first.front().first;
    const std::size_t slash = key.find('/', kHistoryPrefix.size());
    if (slash == std::string_view::npos) {
      return Status::error(ErrorCode::kInternal, "malformed move record key " + std::string(key));
    }
    cursors.emplace_back(store, std::string(key.substr(0, slash + 1)));
    start = std::string(key.substr(0, slash)) + static_cast<char>('/' + 1);  // past this product
  }
  std::optional<Hash256> head;
  std::vector<StateEntry> block;
  for (;;) {
    // The lowest height any product has left; its records from every product, in product
    // order and within a product in key order: key order, as the executor hashed them.
    std::optional<Height> lowest;
    for (const auto& cursor : cursors) {
      if (cursor.done()) continue;
      const auto height = cursor.height();
      if (!height) return Status::error(ErrorCode::kInternal, "malformed move record key " + cursor.current().first);
      if (!lowest || *height < *lowest) lowest = height;
    }
    if (!lowest) return head;
    block.clear();
    for (auto& cursor : cursors) {
      while (!cursor.done() && cursor.height() == lowest) {
        block.push_back(cursor.current());
        cursor.advance();
      }
    }
    head = chain_history(head.value_or(Hash256{}), block);
  }
}

Status Executor::check_history(const StateStore& log) const {
  auto recomputed = recompute_history_head(log);
  if (!recomputed) return recomputed.status();
  auto stored = Ledger(*store_).get<Hash256>(std::string(keys::kHistoryHead));
  if (!stored) return stored.status();
  if (*recomputed == *stored) return Status::ok();
  return Status::error(ErrorCode::kInternal,
                       "the move log on disk does not match the history chain head in the state (" +
                           (*recomputed ? (*recomputed)->short_hex() : std::string("no records")) + " against " +
                           (*stored ? (*stored)->short_hex() : std::string("none")) +
                           "): the data directory is damaged; restore it from a backup or start this node "
                           "again from genesis with a fresh data directory");
}

void Executor::commit(StateOverlay& overlay) {
  if (tree_flushed_) start_block_writes();
  for (auto& [key, value] : overlay.take_writes()) {
    if (is_history_key(key)) {
      // Written once and never erased (contracts/state_store.h); the block's records reach the
      // tree only through the hash chain, in flush_tree().
      CARBON_ASSERT_MSG(value.has_value(), "a history record was erased");
      store_->put_history(key, *value);
      block_history_.emplace_back(key, std::move(*value));
      continue;
    }
    if (value) {
      store_->put(key, std::move(*value));
    } else {
      store_->erase(key);
    }
    tree_pending_.insert(key);  // a key already listed is only looked up
  }
}

void Executor::start_block_writes() {
  flush_tree();  // writes made outside a block (the genesis state) reach the tree first
  tree_pending_.clear();
  block_writes_.clear();
  block_history_.clear();
  tree_flushed_ = false;
}

void Executor::flush_tree() {
  if (tree_flushed_) return;
  if (!block_history_.empty()) {
    // Key order: the same on every node whatever order the records were written in, and the
    // order in which anyone can read a block's records back to check the chain.
    std::sort(block_history_.begin(), block_history_.end(),
              [](const StateEntry& a, const StateEntry& b) { return a.first < b.first; });
    for (std::size_t i = 1; i < block_history_.size(); ++i) {
      CARBON_ASSERT_MSG(block_history_[i - 1].first != block_history_[i].first, "a history record was written twice");
    }
    Ledger ledger(*store_);
    const std::string head_key(keys::kHistoryHead);
    auto previous = ledger.get<Hash256>(head_key);
    CARBON_ASSERT_MSG(previous.is_ok(), "the stored head of the history chain does not decode");
    ledger.put(head_key, chain_history(previous->value_or(Hash256{}), block_history_));
    tree_pending_.insert(head_key);
  }
  block_writes_.reserve(tree_pending_.size() + block_history_.size());
  for (const auto& [key, value] : block_history_) block_writes_.push_back(StateWrite{key, &value});
  for (const std::string& key : tree_pending_) {
    const Bytes* value = store_->find(key);
    if (value != nullptr) {
      tree_.put(key, *value);
    } else {
      tree_.erase(key);
    }
    block_writes_.push_back(StateWrite{key, value});
  }
  tree_flushed_ = true;
}

Receipt Executor::execute_tx(Height height, std::uint64_t timestamp_ms, std::uint32_t tx_index,
                             const SignedTx& signed_tx, const Hash256& id) {
  if (signature_check_) {
    Status verdict = signature_check_(signed_tx, id);
    if (!verdict) return make_receipt(id, verdict);
  }
  Account sender;
  if (Status status = precheck(height, signed_tx, sender); !status) return make_receipt(id, status);

  // The nonce is consumed whether or not the call succeeds (see the header).
  sender.nonce = signed_tx.tx.nonce;
  StateOverlay overlay(*store_);
  Context ctx{height, timestamp_ms, sender, {}, tx_index, books_.get()};
  for (const auto& signature : signed_tx.signatures) ctx.signers.push_back(signature.signer);
  Status status = apply_call(overlay, ctx, signed_tx.tx.call);
  if (status && !overlay.writes().contains(keys::account(sender.key))) {
    // Most calls (a transfer, an order) leave the sender's account alone: it is as precheck()
    // read it, with the new nonce.
    Ledger(overlay).put_account(sender);
  } else if (status) {
    // Re-read: the call wrote the sender's account (a key rotation, a name change).
    auto current = Ledger(static_cast<const StateStore&>(overlay)).account(sender.key);
    if (!current || !*current) {
      status = current ? Status::error(ErrorCode::kInternal, "sender account vanished")
                       : current.status();
    } else {
      Account updated = **current;
      updated.nonce = signed_tx.tx.nonce;
      Ledger(overlay).put_account(updated);
    }
  }
  if (!status) {
    overlay.discard();
    Ledger(overlay).put_account(sender);
    // The books the call touched may hold its discarded effects: rebuilt from state on use.
    books_->forget_touched();
  } else {
    books_->keep_touched();
  }
  commit(overlay);
  clock_due_ = true;
  return make_receipt(id, status);
}

BlockResult Executor::execute_block(Height height, std::uint64_t timestamp_ms,
                                    const std::vector<SignedTx>& txs) {
  std::vector<const SignedTx*> pointers;
  std::vector<Hash256> ids;
  pointers.reserve(txs.size());
  ids.reserve(txs.size());
  for (const SignedTx& tx : txs) {
    pointers.push_back(&tx);
    ids.push_back(tx_id(tx));
  }
  return execute_block(height, timestamp_ms, pointers, ids);
}

BlockResult Executor::execute_block(Height height, std::uint64_t timestamp_ms,
                                    const std::vector<const SignedTx*>& txs,
                                    const std::vector<Hash256>& ids) {
  CARBON_ASSERT_MSG(height > last_height_, "blocks must be executed in increasing height order");
  CARBON_ASSERT(txs.size() == ids.size());
  last_height_ = height;
  start_block_writes();  // an empty block reports no writes, not its predecessor's
  BlockResult result;
  result.receipts.reserve(txs.size());
  clock_due_ = false;
  for (std::size_t i = 0; i < txs.size(); ++i) {
    CARBON_ASSERT(txs[i] != nullptr);
    result.receipts.push_back(
        execute_tx(height, timestamp_ms, static_cast<std::uint32_t>(i), *txs[i], ids[i]));
  }
  if (clock_due_) {
    // The ledger clock: the time of the last block in which a transaction applied (consumed
    // its nonce). Queries judge deadlines and proposal expiry by it; the contracts take time
    // from their context. Written once per block, not per transaction.
    StateOverlay overlay(*store_);
    Ledger(overlay).put(std::string(keys::kClock), Clock{height, timestamp_ms});
    commit(overlay);
  }
  flush_tree();
  result.state_root = tree_.root();
  return result;
}

std::size_t Executor::order_books_held() const { return books_->books_held(); }

Status Executor::check_tx(const SignedTx& signed_tx, Height next_height) const {
  const Transaction& tx = signed_tx.tx;
  if (tx.chain_id != chain_id_) {
    return Status::error(ErrorCode::kInvalidArgument, "wrong chain id: the transaction is for \"" +
                                                          tx.chain_id + "\", this chain is \"" +
                                                          chain_id_ + "\"");
  }
  if (next_height > tx.expiry_height) {
    return Status::error(ErrorCode::kConflict,
                         "expired: valid up to height " + std::to_string(tx.expiry_height) +
                             ", the next block is " + std::to_string(next_height));
  }
  auto account = Ledger(*store_).account(tx.sender);
  if (!account) return account.status();
  if (!*account) {
    return Status::error(ErrorCode::kNotFound, "unknown sender " + tx.sender.to_hex() +
                                                   ": the authority must register it first");
  }
  if (Status status = check_signer(signed_tx, **account); !status) return status;
  const std::uint64_t next = (*account)->nonce + 1;
  if (tx.nonce < next) {
    return Status::error(
        ErrorCode::kConflict,
        "nonce " + std::to_string(tx.nonce) + " already used; next is " + std::to_string(next));
  }
  if (tx.nonce - next >= kMaxNonceGap) {
    return Status::error(
        ErrorCode::kOutOfBounds,
        "nonce " + std::to_string(tx.nonce) + " is too far ahead; next is " + std::to_string(next));
  }
  return Status::ok();
}

}  // namespace carbon::contracts
