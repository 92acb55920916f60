// The contract state: an ordered key-value store behind an interface (LevelDB in the node,
// a std::map in tests), and an overlay that collects one transaction's writes so that the
// transaction applies whole or not at all.
//
// Keys are printable ASCII; their layout (contracts/ledger.h) puts fixed-width hex numbers in
// them so that lexicographic order is numeric order.
//
// Errors: get/put/erase/scan do not fail. A store that cannot read or write (disk error) must
// stop the node (halt loudly); it must never surface as a transaction failure, because then
// two nodes could disagree about a transaction's outcome.
//
// Thread safety: none. One executor owns a store; readers (RPC) need their own snapshot.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/bytes.h"

namespace carbon::contracts {

using core::Bytes;
using StateEntry = std::pair<std::string, Bytes>;

// Hashes a state key given as std::string or std::string_view alike, so that hash containers of
// keys (sets of the keys a block wrote) are searched without building a string.
struct StateKeyHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view key) const { return std::hash<std::string_view>{}(key); }
};

// A key's value after a block's writes, as Executor::last_block_writes() reports it: `value` is
// null when the key was erased. Views, valid until the next block begins: the key into the
// executor's set of the block's keys; the value into the store (until the key's next write), or,
// for a history record, into the executor's list of the block's records.
struct StateWrite {
  std::string_view key;
  const Bytes* value = nullptr;
};

class StateStore {
 public:
  virtual ~StateStore() = default;
  // The value without a copy, or null when the key is absent: for reading a record in place.
  // Valid until the next write to this store (or, for a store that reads from disk, the next
  // find() on the same thread).
  virtual const Bytes* find(std::string_view key) const = 0;
  // A copy of the value (find(), copied).
  std::optional<Bytes> get(std::string_view key) const {
    const Bytes* value = find(key);
    return value == nullptr ? std::nullopt : std::optional<Bytes>(*value);
  }
  virtual void put(std::string_view key, Bytes value) = 0;
  virtual void erase(std::string_view key) = 0;
  // Stores a history record (is_history_key(key)), written by the executor once per record. A
  // store that holds the state in memory for execution leaves it out: the record is in the
  // executor's block writes (Executor::last_block_writes()), and whoever persists those keeps
  // it. The default keeps it like any other key, so that queries on this store find it.
  virtual void put_history(std::string_view key, const Bytes& value) { put(key, value); }
  // Entries whose key starts with `prefix` and is >= `start` (an empty start means from the
  // beginning of the prefix), in ascending key order, at most `limit` of them.
  virtual std::vector<StateEntry> scan(std::string_view prefix, std::string_view start,
                                       std::size_t limit) const = 0;
};

// The smallest key greater than `key`: pass it as `start` to continue a scan after `key`.
std::string key_successor(std::string_view key);

// History records: the move log (mv/, contracts/records.h), one record for every serial range a
// transfer moves. Each is written once, by one transaction, and never changed or erased; only
// queries read them (GET /trace), never a transaction; and there are as many as there have
// been transfers. So they are kept out of the Merkle tree and out of a node's in-memory copy of
// the state, which therefore grow with the live state (accounts, holdings) and not with the
// number of transfers ever made. The state root still commits to every one of them: the
// executor folds each block's records, in order, into a hash chain whose head is a state key
// (keys::kHistoryHead, contracts/ledger.h).
inline constexpr std::string_view kHistoryPrefix = "mv/";
// The first key after every history key (the end of the mv/ range in key order).
inline constexpr std::string_view kHistoryEnd = "mv0";
inline bool is_history_key(std::string_view key) { return key.starts_with(kHistoryPrefix); }

class MemoryStateStore final : public StateStore {
 public:
  const Bytes* find(std::string_view key) const override;
  void put(std::string_view key, Bytes value) override;
  void erase(std::string_view key) override;
  std::vector<StateEntry> scan(std::string_view prefix, std::string_view start,
                               std::size_t limit) const override;

  const std::map<std::string, Bytes, std::less<>>& entries() const { return entries_; }
  std::size_t size() const { return entries_.size(); }

 private:
  std::map<std::string, Bytes, std::less<>> entries_;
};

// A write set on top of a base store: reads see the overlay's writes first, then the base.
// Nothing reaches the base until commit(); discard() (or destruction) drops the writes.
class StateOverlay final : public StateStore {
 public:
  // nullopt marks an erased key.
  using WriteSet = std::map<std::string, std::optional<Bytes>, std::less<>>;

  explicit StateOverlay(StateStore& base) : base_(base) {}
  StateOverlay(const StateOverlay&) = delete;
  StateOverlay& operator=(const StateOverlay&) = delete;

  const Bytes* find(std::string_view key) const override;
  void put(std::string_view key, Bytes value) override;
  void erase(std::string_view key) override;
  std::vector<StateEntry> scan(std::string_view prefix, std::string_view start,
                               std::size_t limit) const override;

  // In ascending key order.
  const WriteSet& writes() const { return writes_; }
  // Hands the writes over (the values are moved out, not copied) and leaves the overlay empty.
  WriteSet take_writes() { return std::exchange(writes_, WriteSet{}); }
  void commit();
  void discard() { writes_.clear(); }

 private:
  StateStore& base_;
  WriteSet writes_;
};

}  // namespace carbon::contracts
