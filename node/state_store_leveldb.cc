#include "node/state_store_leveldb.h"

#include <memory>

#include "core/assert.h"

namespace carbon::node {
namespace {
constexpr char kStateKeyPrefix = 'k';  // the contract state's share of the node's LevelDB
std::string db_key(std::string_view key) { return kStateKeyPrefix + std::string(key); }
// Puts `value` under the state key `key` into `batch`, or deletes the key when value is null.
// `stored_key` is scratch space, reused across a batch's keys.
void add_to_batch(leveldb::WriteBatch& batch, std::string& stored_key, std::string_view key,
                  const core::Bytes* value) {
  stored_key.assign(1, kStateKeyPrefix).append(key);
  if (value != nullptr) {
    batch.Put(stored_key, leveldb::Slice(reinterpret_cast<const char*>(value->data()), value->size()));
  } else {
    batch.Delete(stored_key);
  }
}
core::Bytes to_bytes(const leveldb::Slice& slice) {
  const auto* data = reinterpret_cast<const std::uint8_t*>(slice.data());
  return core::Bytes(data, data + slice.size());
}
}  // namespace

LevelDbStateStore::LevelDbStateStore(leveldb::DB* db, bool mirror) : db_(db), mirrored_(mirror) {
  if (!mirrored_) return;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  const std::string history_start = db_key(contracts::kHistoryPrefix);
  const std::string history_end = db_key(contracts::kHistoryEnd);
  for (it->Seek("k"); it->Valid() && it->key().starts_with("k"); it->Next()) {
    if (it->key().starts_with(history_start)) {  // left on disk (see the header)
      it->Seek(history_end);
      if (!it->Valid()) break;
    }
    if (!it->key().starts_with("k")) break;
    auto [entry, inserted] = mirror_.emplace(it->key().ToString().substr(1), to_bytes(it->value()));
    if (inserted) mirror_index_.emplace(std::string_view(entry->first), entry);
  }
  CARBON_ASSERT_MSG(it->status().ok(), "LevelDB scan failed while loading the state");
}

const core::Bytes* LevelDbStateStore::find(std::string_view key) const {
  if (mirrored_) {
    auto it = mirror_index_.find(key);
    return it == mirror_index_.end() ? nullptr : &it->second->second;
  }
  if (auto it = pending_index_.find(key); it != pending_index_.end()) {
    return it->second->second ? &*it->second->second : nullptr;
  }
  // From disk: held per thread (RPC threads share a read-only instance) until the next find.
  std::string value;
  const auto status = db_->Get(leveldb::ReadOptions(), db_key(key), &value);
  if (status.IsNotFound()) return nullptr;
  // A disk that cannot be read must stop the node (contracts/state_store.h): never let it look
  // like a missing key, which could make this node's execution differ from the others'.
  CARBON_ASSERT_MSG(status.ok(), "LevelDB read failed; the node cannot execute safely");
  thread_local core::Bytes found;
  found.assign(value.begin(), value.end());
  return &found;
}

void LevelDbStateStore::buffer(std::string_view key, std::optional<core::Bytes> value) {
  if (auto it = pending_index_.find(key); it != pending_index_.end()) {
    it->second->second = std::move(value);
    return;
  }
  auto entry = pending_.emplace(std::string(key), std::move(value)).first;
  pending_index_.emplace(std::string_view(entry->first), entry);
}

void LevelDbStateStore::write_through(std::string_view key, std::optional<core::Bytes> value) {
  auto indexed = mirror_index_.find(key);
  if (value) {
    if (indexed != mirror_index_.end()) {
      indexed->second->second = std::move(*value);
    } else {
      auto entry = mirror_.emplace(std::string(key), std::move(*value)).first;
      mirror_index_.emplace(std::string_view(entry->first), entry);
    }
  } else if (indexed != mirror_index_.end()) {
    const auto entry = indexed->second;
    mirror_index_.erase(indexed);  // before the node (which holds the viewed key) goes
    mirror_.erase(entry);
  }
}

void LevelDbStateStore::put(std::string_view key, core::Bytes value) {
  if (mirrored_) {
    write_through(key, std::move(value));
  } else {
    buffer(key, std::move(value));
  }
}

void LevelDbStateStore::erase(std::string_view key) {
  if (mirrored_) {
    write_through(key, std::nullopt);
  } else {
    buffer(key, std::nullopt);
  }
}

void LevelDbStateStore::put_history(std::string_view key, const core::Bytes& value) {
  CARBON_ASSERT(contracts::is_history_key(key));
  if (!mirrored_) buffer(key, value);
}

std::vector<contracts::StateEntry> LevelDbStateStore::scan(std::string_view prefix, std::string_view start,
                                                           std::size_t limit) const {
  // Merge the committed entries with the buffered writes, both in key order.
  std::vector<contracts::StateEntry> out;
  const std::string_view from = start.empty() || start < prefix ? prefix : start;
  if (mirrored_) {  // the mirror already holds the block's writes
    for (auto it = mirror_.lower_bound(from);
         it != mirror_.end() && out.size() < limit && std::string_view(it->first).starts_with(prefix); ++it) {
      out.emplace_back(it->first, it->second);
    }
    return out;
  }
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  it->Seek(db_key(from));
  auto pending = pending_.lower_bound(from);
  const std::string db_prefix = db_key(prefix);
  while (out.size() < limit) {
    const bool db_valid = it->Valid() && it->key().starts_with(db_prefix);
    const bool pending_valid = pending != pending_.end() && std::string_view(pending->first).starts_with(prefix);
    if (!db_valid && !pending_valid) break;
    std::string db_entry_key = db_valid ? it->key().ToString().substr(1) : std::string();
    if (pending_valid && (!db_valid || pending->first <= db_entry_key)) {
      if (db_valid && pending->first == db_entry_key) it->Next();  // the buffer overrides the DB
      if (pending->second) out.emplace_back(pending->first, *pending->second);
      ++pending;
    } else {
      out.emplace_back(std::move(db_entry_key), to_bytes(it->value()));
      it->Next();
    }
  }
  CARBON_ASSERT_MSG(it->status().ok(), "LevelDB scan failed; the node cannot execute safely");
  return out;
}

void LevelDbStateStore::add_writes(leveldb::WriteBatch& batch, const std::vector<contracts::StateWrite>& writes) {
  // The order of a batch's entries does not matter to LevelDB: each key appears once.
  std::string stored_key;
  for (const auto& [key, value] : writes) add_to_batch(batch, stored_key, key, value);
}

void LevelDbStateStore::take_batch(leveldb::WriteBatch& batch) {
  CARBON_ASSERT_MSG(!mirrored_, "a mirrored state store's writes come from the executor (add_writes)");
  std::string stored_key;
  for (const auto& [key, value] : pending_) add_to_batch(batch, stored_key, key, value ? &*value : nullptr);
  pending_index_.clear();
  pending_.clear();
}

}  // namespace carbon::node
