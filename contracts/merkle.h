// The state root: a 16-ary sparse Merkle tree (Jellyfish-style) over SHA3-256(key).
//
// Shape: the path of a key is the 64 nibbles of SHA3-256(key), high nibble first. A leaf sits
// at the shallowest depth at which no other key shares its path prefix; an internal node
// exists exactly where two or more keys share a prefix. The shape therefore depends only on
// the set of keys, never on the order of updates, and deleting a key restores the previous
// shape (a node left with a single leaf below it collapses into that leaf).
//
// Hashes (SHA3-256, one domain byte first):
//   leaf     = H(0x00 || key_hash || value)
//   internal = H(0x01 || bitmap || hash of each present child, in nibble order), where
//              bitmap is 16 bits, little-endian, bit i set when child i is present
//   root of the empty tree = 32 zero bytes.
//
// Cost: an update marks the nodes on its path dirty; root() rehashes only dirty nodes, so a
// block costs about (keys touched) x log16(keys in state) internal hashes, computed once.
//
// Storage: nodes live in memory only, rebuilt from the state store at start-up (rebuild()).
// Inclusion proofs and persisted nodes are not done yet (docs/contracts.md).
//
// Thread safety: none.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>

#include "contracts/state_store.h"
#include "core/bytes.h"
#include "core/hash.h"

namespace carbon::contracts {

class SparseMerkleTree {
 public:
  SparseMerkleTree();
  ~SparseMerkleTree();
  SparseMerkleTree(SparseMerkleTree&&) noexcept;
  SparseMerkleTree& operator=(SparseMerkleTree&&) noexcept;

  // Sets key to value (insert or replace).
  void put(std::string_view key, core::ByteView value);
  // Removes key; a missing key is a no-op.
  void erase(std::string_view key);
  core::Hash256 root();
  std::size_t size() const { return size_; }

  // Replaces the tree with one over every entry of `store` (scanned in pages) except the history
  // records (contracts/state_store.h), which the tree covers through the history chain's head.
  void rebuild(const StateStore& store);

  struct Node;

  // Key hashes remembered (most writes are to keys written before: accounts, balances).
  static constexpr std::size_t kMaxCachedKeyHashes = 65'536;

 private:
  // SHA3-256(key), from the cache when the key was hashed recently. A cache of a pure function:
  // what it holds never changes a result.
  core::Hash256 key_hash(std::string_view key);
  // put() for a key whose hash is known.
  void put_hashed(const core::Hash256& key_hash, core::ByteView value);

  std::unique_ptr<Node> root_;
  std::size_t size_ = 0;
  std::unordered_map<std::string, core::Hash256, StateKeyHash, std::equal_to<>> key_hashes_;
};

// The root of a whole store (history records aside, as in rebuild()), computed from scratch
// (tests compare it with the incremental one).
core::Hash256 compute_state_root(const StateStore& store);

}  // namespace carbon::contracts
