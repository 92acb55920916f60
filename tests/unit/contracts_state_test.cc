// The state store, the per-transaction overlay and the sparse Merkle tree.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "contracts/merkle.h"
#include "contracts/state_store.h"

namespace carbon::contracts {
namespace {

using core::Hash256;

Bytes value_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

std::vector<std::string> keys_of(const std::vector<StateEntry>& entries) {
  std::vector<std::string> out;
  out.reserve(entries.size());
  for (const auto& entry : entries) out.push_back(entry.first);
  return out;
}

TEST(ContractsStateStore, MemoryStoreGetPutEraseScan) {
  MemoryStateStore store;
  EXPECT_FALSE(store.get("a/1").has_value());
  store.put("a/1", value_of("x"));
  store.put("a/2", value_of("y"));
  store.put("a/3", value_of("z"));
  store.put("b/1", value_of("w"));
  store.put("a", value_of("root"));
  EXPECT_EQ(*store.get("a/2"), value_of("y"));
  store.put("a/2", value_of("y2"));
  EXPECT_EQ(*store.get("a/2"), value_of("y2"));

  EXPECT_EQ(keys_of(store.scan("a/", "", 10)), (std::vector<std::string>{"a/1", "a/2", "a/3"}));
  EXPECT_EQ(keys_of(store.scan("a/", "", 2)), (std::vector<std::string>{"a/1", "a/2"}));
  EXPECT_EQ(keys_of(store.scan("a/", key_successor("a/1"), 10)),
            (std::vector<std::string>{"a/2", "a/3"}));
  EXPECT_EQ(keys_of(store.scan("", "", 10)).size(), 5u);
  EXPECT_TRUE(store.scan("c/", "", 10).empty());
  store.erase("a/2");
  store.erase("missing");
  EXPECT_EQ(keys_of(store.scan("a/", "", 10)), (std::vector<std::string>{"a/1", "a/3"}));
}

TEST(ContractsStateStore, OverlayShadowsAndCommitsOrDiscards) {
  MemoryStateStore base;
  base.put("k/1", value_of("1"));
  base.put("k/2", value_of("2"));
  {
    StateOverlay overlay(base);
    overlay.put("k/3", value_of("3"));
    overlay.erase("k/1");
    overlay.put("k/2", value_of("two"));
    EXPECT_FALSE(overlay.get("k/1").has_value());
    EXPECT_EQ(*overlay.get("k/2"), value_of("two"));
    EXPECT_EQ(keys_of(overlay.scan("k/", "", 10)), (std::vector<std::string>{"k/2", "k/3"}));
    EXPECT_EQ(*base.get("k/1"), value_of("1"));  // untouched until commit
    overlay.discard();
    EXPECT_EQ(*overlay.get("k/1"), value_of("1"));
  }
  EXPECT_EQ(base.size(), 2u);
  StateOverlay overlay(base);
  overlay.erase("k/1");
  overlay.put("k/9", value_of("9"));
  overlay.commit();
  EXPECT_EQ(keys_of(base.scan("", "", 10)), (std::vector<std::string>{"k/2", "k/9"}));
}

// The overlay's merged scan must equal a scan of the same writes applied to a plain store.
TEST(ContractsStateStore, OverlayScanMatchesModelRandomized) {
  std::mt19937 rng(20261125);
  for (int round = 0; round < 200; ++round) {
    MemoryStateStore base;
    MemoryStateStore model;
    auto key = [&] { return std::string(1, "pq"[rng() % 2]) + "/" + std::to_string(rng() % 40); };
    for (int i = 0; i < 30; ++i) {
      const std::string k = key();
      base.put(k, value_of("b" + k));
      model.put(k, value_of("b" + k));
    }
    StateOverlay overlay(base);
    for (int i = 0; i < 30; ++i) {
      const std::string k = key();
      if (rng() % 3 == 0) {
        overlay.erase(k);
        model.erase(k);
      } else {
        overlay.put(k, value_of("o" + k));
        model.put(k, value_of("o" + k));
      }
    }
    for (const char* prefix : {"", "p/", "q/", "p/1"}) {
      for (std::size_t limit : {1u, 3u, 7u, 100u}) {
        const std::string start = (rng() % 2 == 0) ? "" : key();
        EXPECT_EQ(overlay.scan(prefix, start, limit), model.scan(prefix, start, limit))
            << "prefix " << prefix << " start " << start << " limit " << limit;
      }
    }
    overlay.commit();
    EXPECT_EQ(base.entries(), model.entries());
  }
}

TEST(ContractsMerkle, EmptyAndSingleKey) {
  SparseMerkleTree tree;
  EXPECT_TRUE(tree.root().is_zero());
  tree.put("a", value_of("1"));
  const Hash256 one = tree.root();
  EXPECT_FALSE(one.is_zero());
  tree.put("a", value_of("2"));
  EXPECT_NE(tree.root(), one);
  tree.put("a", value_of("1"));
  EXPECT_EQ(tree.root(), one);
  tree.erase("a");
  EXPECT_TRUE(tree.root().is_zero());
  EXPECT_EQ(tree.size(), 0u);
}

TEST(ContractsMerkle, RootIndependentOfInsertionOrder) {
  std::vector<std::pair<std::string, Bytes>> entries;
  entries.reserve(600);
  for (int i = 0; i < 600; ++i)
    entries.emplace_back("key/" + std::to_string(i), value_of("v" + std::to_string(i * 7)));
  std::mt19937 rng(7);
  Hash256 first;
  for (int order = 0; order < 4; ++order) {
    std::shuffle(entries.begin(), entries.end(), rng);
    SparseMerkleTree tree;
    for (const auto& [k, v] : entries) {
      tree.put(k, v);
      if (rng() % 5 == 0) (void)tree.root();  // interleave hashing with updates
    }
    EXPECT_EQ(tree.size(), entries.size());
    if (order == 0) {
      first = tree.root();
    } else {
      EXPECT_EQ(tree.root(), first);
    }
  }
}

TEST(ContractsMerkle, AnyChangeChangesRootAndDeletionRestoresIt) {
  SparseMerkleTree tree;
  for (int i = 0; i < 300; ++i) tree.put("k" + std::to_string(i), value_of(std::to_string(i)));
  const Hash256 base = tree.root();
  for (int i = 0; i < 300; i += 7) {
    const std::string k = "k" + std::to_string(i);
    tree.put(k, value_of("changed"));
    EXPECT_NE(tree.root(), base);
    tree.put(k, value_of(std::to_string(i)));
    EXPECT_EQ(tree.root(), base);

    const std::string extra = "extra" + std::to_string(i);
    tree.put(extra, value_of(""));
    EXPECT_NE(tree.root(), base);
    tree.erase(extra);
    EXPECT_EQ(tree.root(), base);

    tree.erase(k);
    EXPECT_NE(tree.root(), base);
    tree.put(k, value_of(std::to_string(i)));
    EXPECT_EQ(tree.root(), base);
  }
  tree.erase("not-there");
  EXPECT_EQ(tree.root(), base);
}

TEST(ContractsMerkle, IncrementalMatchesRebuildRandomized) {
  std::mt19937 rng(99);
  MemoryStateStore store;
  SparseMerkleTree tree;
  for (int step = 0; step < 3000; ++step) {
    const std::string k = "s/" + std::to_string(rng() % 500);
    if (rng() % 3 == 0) {
      store.erase(k);
      tree.erase(k);
    } else {
      const Bytes v = value_of(std::to_string(rng() % 10));
      store.put(k, v);
      tree.put(k, v);
    }
    if (step % 250 == 0) {
      EXPECT_EQ(tree.root(), compute_state_root(store));
      EXPECT_EQ(tree.size(), store.size());
    }
  }
  EXPECT_EQ(tree.root(), compute_state_root(store));
  // Deleting everything returns to the empty root.
  for (const auto& [k, v] : store.entries()) tree.erase(k);
  EXPECT_TRUE(tree.root().is_zero());
}

TEST(ContractsMerkle, RebuildPagesThroughLargeStores) {
  MemoryStateStore store;
  SparseMerkleTree tree;
  for (int i = 0; i < 2500; ++i) {  // more than two scan pages
    const std::string k = "p/" + std::to_string(i);
    store.put(k, value_of("x"));
    tree.put(k, value_of("x"));
  }
  SparseMerkleTree rebuilt;
  rebuilt.rebuild(store);
  EXPECT_EQ(rebuilt.size(), 2500u);
  EXPECT_EQ(rebuilt.root(), tree.root());
}

TEST(ContractsMerkle, KeyHashCacheStartingOverChangesNoRoot) {
  // More distinct keys than the key-hash cache holds, so it starts over mid-way; then keys
  // hashed before and after that are updated and erased. The root must equal that of a tree
  // built from scratch over the same entries.
  const int kKeys = static_cast<int>(SparseMerkleTree::kMaxCachedKeyHashes) + 3000;
  MemoryStateStore store;
  SparseMerkleTree tree;
  for (int i = 0; i < kKeys; ++i) {
    const std::string k = "c/" + std::to_string(i);
    store.put(k, value_of("a"));
    tree.put(k, value_of("a"));
  }
  for (int i = 0; i < kKeys; i += 97) {
    const std::string k = "c/" + std::to_string(i);
    if (i % 2 == 0) {
      store.erase(k);
      tree.erase(k);
    } else {
      store.put(k, value_of("b"));
      tree.put(k, value_of("b"));
    }
  }
  EXPECT_EQ(tree.size(), store.size());
  EXPECT_EQ(tree.root(), compute_state_root(store));
}

}  // namespace
}  // namespace carbon::contracts
