// The node's durable storage: one LevelDB under <data_dir>/db.
//
// Key layout (prefix byte, then big-endian integers so keys sort by height):
//   's'                          SafetyData (consensus/types.h), written with sync
//   'p' <height u64be> <block id> a voted-for block (PersistBlockEffect); once committed it stays
//                                as the committed block's bytes, and the others at its height go
//   'c' <height u64be>           the committed block: its 32-byte id when this node holds it
//                                under 'p' (it voted for it: the block is written once), else
//                                the whole block (learnt by sync), written with everything the
//                                executor wrote for it
//   'm' "tip"                    the committed height
//   'r' <height u64be>           the state root after executing that height
//   't' <tx id>                  receipt of a committed transaction (height, index, result)
//   'k' <contract key>           contract state
// A committed block, its execution results and its state changes are one atomic, synced
// WriteBatch, so after kill -9 the store is at a block boundary.
//
// Thread safety: LevelDB is thread-safe for concurrent reads and writes; NodeStore adds no
// state of its own beyond the DB handle.
#pragma once

#include <leveldb/db.h>
#include <leveldb/write_batch.h>

#include <atomic>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "consensus/types.h"
#include "core/status.h"

namespace carbon::node {

class NodeStore {
 public:
  static core::Result<std::unique_ptr<NodeStore>> open(const std::filesystem::path& data_dir);
  ~NodeStore();
  NodeStore(const NodeStore&) = delete;
  NodeStore& operator=(const NodeStore&) = delete;

  // Ties the data directory to one genesis: records `digest` (Genesis::digest()) on the first
  // start, and refuses any other afterwards (kConflict), so that a changed genesis file cannot
  // make the node go on from data that another chain wrote. Data from before this record existed
  // takes the digest it is first started with.
  core::Status bind_genesis(const core::Hash256& digest);

  // --- consensus safety (sync writes) ---
  // Writes the blocks and the safety data in one synced batch; either may be empty.
  core::Status persist_for_vote(const std::vector<consensus::Block>& blocks, const consensus::SafetyData* safety);
  core::Result<std::optional<consensus::SafetyData>> load_safety() const;
  core::Result<std::vector<consensus::Block>> load_pending_blocks() const;

  // --- committed chain ---
  consensus::Height committed_height() const;
  core::Result<std::optional<consensus::Block>> committed_block(consensus::Height height) const;
  core::Result<std::optional<core::Hash256>> state_root(consensus::Height height) const;

  // Commits one block: the block (a reference to its pending entry when this node voted for it),
  // the state root after it, and everything in `batch` (state changes and receipts the executor
  // staged), plus removal of the other pending blocks at its height — atomically and durably. `batch` is extended with those (taken by reference: a
  // LevelDB batch has no move, and a block's is hundreds of kilobytes).
  core::Status commit_block(const consensus::Block& block, const core::Hash256& state_root, leveldb::WriteBatch& batch);

  // Raw reads for the executor's state store and the RPC.
  core::Result<std::optional<std::string>> get(const std::string& key) const;
  leveldb::DB* db() const { return db_.get(); }

  static std::string height_key(char prefix, consensus::Height height);
  static std::string id_key(char prefix, const core::Hash256& id);

 private:
  explicit NodeStore(std::unique_ptr<leveldb::DB> db);
  std::unique_ptr<leveldb::DB> db_;
  std::atomic<consensus::Height> committed_height_{0};  // written by the executor, read by RPC
};

}  // namespace carbon::node
