#include "contracts/merkle.h"

#include "contracts/limits.h"
#include "core/assert.h"

namespace carbon::contracts {

using core::Hash256;

// About 112 bytes per leaf: the child table is allocated only for internal nodes, which are
// about one in fifteen of the nodes of a large tree.
struct SparseMerkleTree::Node {
  using Children = std::array<std::unique_ptr<Node>, 16>;
  Hash256 hash;                        // cached; stale while dirty (a leaf's is never stale)
  Hash256 key_hash;                    // leaf only
  std::unique_ptr<Children> children;  // internal only
  bool is_leaf = false;
  bool dirty = true;
};

namespace {

using Node = SparseMerkleTree::Node;
constexpr std::size_t kMaxDepth = 64;  // nibbles in a SHA3-256 digest

std::size_t nibble(const Hash256& hash, std::size_t depth) {
  const std::uint8_t byte = hash.bytes[depth / 2];
  return (depth % 2 == 0) ? static_cast<std::size_t>(byte >> 4)
                          : static_cast<std::size_t>(byte & 0x0F);
}

// H(0x00 || key_hash || value): one hash over the value itself, computed when the value is set
// (a separate hash of the value would cost a second SHA3 per written key and block).
Hash256 leaf_hash(const Hash256& key_hash, core::ByteView value) {
  core::Sha3Hasher hasher;
  const std::uint8_t domain = 0x00;
  hasher.update(core::ByteView(&domain, 1));
  hasher.update(key_hash.bytes);
  hasher.update(value);
  return hasher.finish();
}

std::unique_ptr<Node> make_leaf(const Hash256& key_hash, const Hash256& hash) {
  auto leaf = std::make_unique<Node>();
  leaf->is_leaf = true;
  leaf->key_hash = key_hash;
  leaf->hash = hash;
  leaf->dirty = false;
  return leaf;
}

// Returns true if a new key was added.
// `hash` is the new leaf's hash. A parent is marked dirty only where something below changed.
bool insert(std::unique_ptr<Node>& slot, const Hash256& key_hash, const Hash256& hash,
            std::size_t depth, bool* changed) {
  if (!slot) {
    slot = make_leaf(key_hash, hash);
    *changed = true;
    return true;
  }
  if (slot->is_leaf) {
    if (slot->key_hash == key_hash) {
      if (slot->hash != hash) {
        slot->hash = hash;
        *changed = true;
      }
      return false;
    }
    // Two different keys share this prefix: the leaf moves down under a new internal node.
    CARBON_ASSERT_MSG(depth < kMaxDepth, "SHA3-256 collision between two state keys");
    std::unique_ptr<Node> old_leaf = std::move(slot);
    slot = std::make_unique<Node>();
    slot->children = std::make_unique<Node::Children>();
    const std::size_t old_nibble = nibble(old_leaf->key_hash, depth);
    (*slot->children)[old_nibble] = std::move(old_leaf);
  }
  const bool added = insert((*slot->children)[nibble(key_hash, depth)], key_hash, hash, depth + 1, changed);
  if (*changed) slot->dirty = true;
  return added;
}

// Returns true if the key was present and removed.
bool remove(std::unique_ptr<Node>& slot, const Hash256& key_hash, std::size_t depth) {
  if (!slot) return false;
  if (slot->is_leaf) {
    if (slot->key_hash != key_hash) return false;
    slot.reset();
    return true;
  }
  Node::Children& children = *slot->children;
  if (!remove(children[nibble(key_hash, depth)], key_hash, depth + 1)) return false;
  slot->dirty = true;
  std::size_t count = 0;
  std::size_t last = 0;
  for (std::size_t i = 0; i < 16; ++i) {
    if (children[i]) {
      ++count;
      last = i;
    }
  }
  if (count == 0) {
    slot.reset();
  } else if (count == 1 && children[last]->is_leaf) {
    // Keep the shape canonical: a subtree holding one key is just that key's leaf.
    std::unique_ptr<Node> leaf = std::move(children[last]);
    slot = std::move(leaf);
  }
  return true;
}

const Hash256& node_hash(Node& node) {
  if (!node.dirty) return node.hash;
  CARBON_ASSERT(!node.is_leaf);  // a leaf's hash is set with its value
  core::Sha3Hasher hasher;
  {
    // Domain byte, then a 16-bit little-endian bitmap of the present children, then their
    // hashes in nibble order: sparse nodes (most of those below the top levels) hash less.
    std::uint16_t bitmap = 0;
    for (std::size_t i = 0; i < 16; ++i) {
      if ((*node.children)[i]) bitmap = static_cast<std::uint16_t>(bitmap | (1u << i));
    }
    const std::array<std::uint8_t, 3> header = {0x01, static_cast<std::uint8_t>(bitmap & 0xFF),
                                                static_cast<std::uint8_t>(bitmap >> 8)};
    hasher.update(header);
    for (auto& child : *node.children) {
      if (child) hasher.update(node_hash(*child).bytes);
    }
  }
  node.hash = hasher.finish();
  node.dirty = false;
  return node.hash;
}

}  // namespace

SparseMerkleTree::SparseMerkleTree() = default;
SparseMerkleTree::~SparseMerkleTree() = default;
SparseMerkleTree::SparseMerkleTree(SparseMerkleTree&&) noexcept = default;
SparseMerkleTree& SparseMerkleTree::operator=(SparseMerkleTree&&) noexcept = default;

Hash256 SparseMerkleTree::key_hash(std::string_view key) {
  if (auto it = key_hashes_.find(key); it != key_hashes_.end()) return it->second;
  const Hash256 hash = core::sha3_256(core::as_bytes(key));
  // Bounded by starting over: simpler than an eviction order, and the keys written often are
  // back in it within a block or two.
  if (key_hashes_.size() >= kMaxCachedKeyHashes) key_hashes_.clear();
  key_hashes_.emplace(std::string(key), hash);
  return hash;
}

void SparseMerkleTree::put(std::string_view key, core::ByteView value) { put_hashed(key_hash(key), value); }

void SparseMerkleTree::put_hashed(const Hash256& hash, core::ByteView value) {
  bool changed = false;
  if (insert(root_, hash, leaf_hash(hash, value), 0, &changed)) ++size_;
}

void SparseMerkleTree::erase(std::string_view key) {
  if (remove(root_, key_hash(key), 0)) --size_;
}

Hash256 SparseMerkleTree::root() {
  if (!root_) return Hash256{};
  return node_hash(*root_);
}

void SparseMerkleTree::rebuild(const StateStore& store) {
  root_.reset();
  size_ = 0;
  key_hashes_.clear();
  std::string start;
  for (;;) {
    const auto page = store.scan("", start, kScanPageSize);
    bool skipped_history = false;
    for (const auto& [key, value] : page) {
      if (is_history_key(key)) {  // committed through the history chain's head instead
        skipped_history = true;
        break;
      }
      // Not through the key-hash cache: a start-up scan would fill it with every key in turn.
      put_hashed(core::sha3_256(core::as_bytes(key)), value);
    }
    if (skipped_history) {
      start = std::string(kHistoryEnd);
      continue;
    }
    if (page.size() < kScanPageSize) break;
    start = key_successor(page.back().first);
  }
}

Hash256 compute_state_root(const StateStore& store) {
  SparseMerkleTree tree;
  tree.rebuild(store);
  return tree.root();
}

}  // namespace carbon::contracts
