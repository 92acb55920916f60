// The contract state in the node's LevelDB (keys under the 'k' prefix), as a
// contracts::StateStore.
//
// Writes are buffered for the block being executed and reach LevelDB only through
// take_batch(), which the executor thread folds into the block's atomic commit
// (NodeStore::commit_block): after kill -9 the state is exactly that of the last committed
// block. Reads see the buffer first, then LevelDB. A mirrored instance writes through to its
// in-memory mirror at once and keeps no buffer: the executor lists the keys each block wrote
// (contracts::Executor::last_block_writes()), and add_writes() puts their final values into the
// block's batch (the mirror is then ahead of LevelDB for the block being executed, and a node
// whose block commit fails halts, so the difference is never served). The mirror leaves out the
// history records (the move log, contracts/state_store.h): only queries read them, from
// LevelDB, so a node's memory grows with the live state and not with the number of transfers.
//
// Thread safety: the executor thread owns a writable instance. RPC threads use their own
// read-only instance (no buffer) over the same DB; LevelDB makes each read consistent and a
// block's writes land in one batch, so readers see whole blocks only.
#pragma once

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <map>
#include <string_view>
#include <unordered_map>
#include <optional>

#include "contracts/state_store.h"

namespace carbon::node {

class LevelDbStateStore final : public contracts::StateStore {
 public:
  // mirror: keep every committed entry in memory too (loaded here, kept current by writing
  // through), so the executor's reads and scans never go to LevelDB. Only the executor's
  // instance uses it.
  explicit LevelDbStateStore(leveldb::DB* db, bool mirror = false);

  const core::Bytes* find(std::string_view key) const override;
  void put(std::string_view key, core::Bytes value) override;
  void erase(std::string_view key) override;
  // Not mirrored: buffered like put(). Mirrored: nothing; the record reaches LevelDB through the
  // block's writes (add_writes), and reads of it go to a non-mirrored instance.
  void put_history(std::string_view key, const core::Bytes& value) override;
  std::vector<contracts::StateEntry> scan(std::string_view prefix, std::string_view start,
                                          std::size_t limit) const override;

  // Not mirrored: moves the buffered writes into `batch` (as 'k'-prefixed puts and deletes) and
  // clears them.
  void take_batch(leveldb::WriteBatch& batch);
  // Mirrored: puts `writes` (a block's, as the executor reports them) into `batch`.
  static void add_writes(leveldb::WriteBatch& batch, const std::vector<contracts::StateWrite>& writes);

 private:
  void buffer(std::string_view key, std::optional<core::Bytes> value);
  void write_through(std::string_view key, std::optional<core::Bytes> value);

  leveldb::DB* db_;
  bool mirrored_ = false;
  // The ordered maps serve scans (and the write batch, in key order); the hash indexes in front
  // of them serve point reads, the executor's most frequent access, without walking a tree of
  // long keys with shared prefixes. They only ever find, never iterate, so their order cannot
  // leak into anything. Map nodes are stable, so the indexes hold views of the maps' keys.
  using PendingMap = std::map<std::string, std::optional<core::Bytes>, std::less<>>;
  using MirrorMap = std::map<std::string, core::Bytes, std::less<>>;
  PendingMap pending_;  // nullopt = erased; when not mirrored_
  MirrorMap mirror_;    // when mirrored_
  std::unordered_map<std::string_view, PendingMap::iterator> pending_index_;
  std::unordered_map<std::string_view, MirrorMap::iterator> mirror_index_;
};

}  // namespace carbon::node
