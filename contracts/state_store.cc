#include "contracts/state_store.h"

#include <algorithm>

namespace carbon::contracts {

std::string key_successor(std::string_view key) {
  std::string out(key);
  out.push_back('\0');
  return out;
}

namespace {
bool has_prefix(std::string_view key, std::string_view prefix) {
  return key.size() >= prefix.size() && key.compare(0, prefix.size(), prefix) == 0;
}
}  // namespace

const Bytes* MemoryStateStore::find(std::string_view key) const {
  const auto it = entries_.find(key);
  return it == entries_.end() ? nullptr : &it->second;
}

void MemoryStateStore::put(std::string_view key, Bytes value) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) {
    entries_.emplace(std::string(key), std::move(value));
  } else {
    it->second = std::move(value);
  }
}

void MemoryStateStore::erase(std::string_view key) {
  const auto it = entries_.find(key);
  if (it != entries_.end()) entries_.erase(it);
}

std::vector<StateEntry> MemoryStateStore::scan(std::string_view prefix, std::string_view start,
                                               std::size_t limit) const {
  std::vector<StateEntry> out;
  const std::string_view from = std::max(prefix, start);
  for (auto it = entries_.lower_bound(from); it != entries_.end() && out.size() < limit; ++it) {
    if (!has_prefix(it->first, prefix)) break;
    out.emplace_back(it->first, it->second);
  }
  return out;
}

const Bytes* StateOverlay::find(std::string_view key) const {
  const auto it = writes_.find(key);
  if (it == writes_.end()) return base_.find(key);
  return it->second ? &*it->second : nullptr;
}

void StateOverlay::put(std::string_view key, Bytes value) {
  const auto it = writes_.find(key);
  if (it == writes_.end()) {
    writes_.emplace(std::string(key), std::move(value));
  } else {
    it->second = std::move(value);
  }
}

void StateOverlay::erase(std::string_view key) {
  const auto it = writes_.find(key);
  if (it == writes_.end()) {
    writes_.emplace(std::string(key), std::nullopt);
  } else {
    it->second = std::nullopt;
  }
}

std::vector<StateEntry> StateOverlay::scan(std::string_view prefix, std::string_view start,
                                           std::size_t limit) const {
  const std::string_view from = std::max(prefix, start);
  // Overlay entries in range; each can shadow at most one base entry, so asking the base for
  // `limit` more than their count is always enough.
  std::vector<WriteSet::const_iterator> mine;
  for (auto it = writes_.lower_bound(from); it != writes_.end() && has_prefix(it->first, prefix);
       ++it) {
    mine.push_back(it);
  }
  // Nothing of this overlay's in range (the common case: a transaction reads what others
  // wrote): the base's entries are the answer, without a second copy of each.
  if (mine.empty()) return base_.scan(prefix, start, limit);
  const std::vector<StateEntry> theirs = base_.scan(prefix, start, limit + mine.size());

  std::vector<StateEntry> out;
  std::size_t i = 0;
  std::size_t j = 0;
  while (out.size() < limit && (i < mine.size() || j < theirs.size())) {
    const bool take_mine =
        j == theirs.size() || (i < mine.size() && mine[i]->first <= theirs[j].first);
    if (take_mine) {
      if (j < theirs.size() && mine[i]->first == theirs[j].first) ++j;  // shadowed
      if (mine[i]->second) out.emplace_back(mine[i]->first, *mine[i]->second);
      ++i;
    } else {
      out.push_back(theirs[j]);
      ++j;
    }
  }
  return out;
}

void StateOverlay::commit() {
  for (auto& [key, value] : writes_) {
    if (value) {
      base_.put(key, std::move(*value));
    } else {
      base_.erase(key);
    }
  }
  writes_.clear();
}

}  // namespace carbon::contracts
