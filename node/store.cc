#include "node/store.h"

#include <leveldb/env.h>
#include <leveldb/options.h>
#include <pthread.h>

namespace carbon::node {
namespace {

using core::ErrorCode;
using core::Status;

const std::string kSafetyKey = "s";
const std::string kTipKey = "mtip";
const std::string kGenesisKey = "mgenesis";

Status io_error(const std::string& what, const leveldb::Status& status) {
  return Status::error(ErrorCode::kIoError, what + ": " + status.ToString());
}

std::string u64be(std::uint64_t value) {
  std::string out(8, '\0');
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(value & 0xff);
    value >>= 8;
  }
  return out;
}

std::uint64_t read_u64be(const std::string& bytes) {
  std::uint64_t value = 0;
  for (std::size_t i = 0; i < 8 && i < bytes.size(); ++i) value = (value << 8) | static_cast<std::uint8_t>(bytes[i]);
  return value;
}

core::ByteView view(const std::string& bytes) {
  return {reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()};
}

// A view for LevelDB, which copies what it is given into its batch: no string copy in between.
leveldb::Slice slice(const core::Bytes& bytes) {
  return leveldb::Slice(reinterpret_cast<const char*>(bytes.data()), bytes.size());
}

}  // namespace

std::string NodeStore::height_key(char prefix, consensus::Height height) { return std::string(1, prefix) + u64be(height); }

std::string NodeStore::id_key(char prefix, const core::Hash256& id) {
  return std::string(1, prefix) + std::string(id.bytes.begin(), id.bytes.end());
}

NodeStore::NodeStore(std::unique_ptr<leveldb::DB> db) : db_(std::move(db)) {}
NodeStore::~NodeStore() = default;

core::Result<std::unique_ptr<NodeStore>> NodeStore::open(const std::filesystem::path& data_dir) {
  std::error_code ec;
  std::filesystem::create_directories(data_dir, ec);
  if (ec) return Status::error(ErrorCode::kIoError, "cannot create " + data_dir.string() + ": " + ec.message());
  // LevelDB starts its one background (compaction) thread on first need, as a child of whichever
  // thread needs it, whose priority and name it would inherit: started here, by a first job that
  // names it (for top -H and perf), from the thread that opens the store, so that it keeps the
  // default priority and never inherits the execution thread's raised one. Not lowered either:
  // when compaction falls behind, LevelDB holds writes until it catches up, and the execution
  // thread would then wait on a thread that everything else outranks (nice +5 was tried on
  // 2026-12-06 and made no difference measurable on this machine).
  leveldb::Env::Default()->Schedule(
      [](void*) { (void)::pthread_setname_np(::pthread_self(), "carbon-compact"); }, nullptr);
  leveldb::Options options;
  options.create_if_missing = true;
  options.paranoid_checks = true;
  // Leave file descriptors for peers and RPC clients (the default is 1000).
  options.max_open_files = 256;
  // Blocks are mostly signatures, keys and hashes, which do not compress: Snappy would cost
  // CPU on every write and compaction for little disk saved.
  options.compression = leveldb::kNoCompression;
  leveldb::DB* raw = nullptr;
  const auto status = leveldb::DB::Open(options, (data_dir / "db").string(), &raw);
  if (!status.ok()) return io_error("cannot open the database in " + data_dir.string(), status);
  std::unique_ptr<NodeStore> store(new NodeStore(std::unique_ptr<leveldb::DB>(raw)));
  std::string tip;
  const auto tip_status = store->db_->Get(leveldb::ReadOptions(), kTipKey, &tip);
  if (tip_status.ok()) {
    store->committed_height_ = read_u64be(tip);
  } else if (!tip_status.IsNotFound()) {
    return io_error("cannot read the committed height", tip_status);
  }
  return store;
}

Status NodeStore::bind_genesis(const core::Hash256& digest) {
  const std::string wanted(digest.bytes.begin(), digest.bytes.end());
  std::string stored;
  const auto status = db_->Get(leveldb::ReadOptions(), kGenesisKey, &stored);
  if (status.ok()) {
    if (stored == wanted) return Status::ok();
    return Status::error(ErrorCode::kConflict,
                         "this data directory was made for another genesis (chain id, genesis time, validator keys, "
                         "authority officers or approvals_required differ): start it with the genesis file it was "
                         "made with, or move the data directory away to join afresh");
  }
  if (!status.IsNotFound()) return io_error("cannot read the genesis record", status);
  leveldb::WriteOptions options;
  options.sync = true;
  const auto written = db_->Put(options, kGenesisKey, wanted);
  if (!written.ok()) return io_error("cannot write the genesis record", written);
  return Status::ok();
}

Status NodeStore::persist_for_vote(const std::vector<consensus::Block>& blocks, const consensus::SafetyData* safety) {
  leveldb::WriteBatch batch;
  for (const auto& block : blocks) {
    const core::Hash256 id = block.id();
    batch.Put(height_key('p', block.header.height) + std::string(id.bytes.begin(), id.bytes.end()),
              slice(consensus::encode_block(block)));
  }
  if (safety != nullptr) batch.Put(kSafetyKey, slice(consensus::encode_safety_data(*safety)));
  leveldb::WriteOptions options;
  options.sync = true;  // the vote or timeout that follows must not outlive this write
  const auto status = db_->Write(options, &batch);
  if (!status.ok()) return io_error("cannot persist safety data", status);
  return Status::ok();
}

core::Result<std::optional<consensus::SafetyData>> NodeStore::load_safety() const {
  std::string value;
  const auto status = db_->Get(leveldb::ReadOptions(), kSafetyKey, &value);
  if (status.IsNotFound()) return std::optional<consensus::SafetyData>();
  if (!status.ok()) return io_error("cannot read safety data", status);
  auto decoded = consensus::decode_safety_data(view(value));
  if (!decoded) return Status::error(ErrorCode::kIoError, "stored safety data is corrupt: " + decoded.status().message());
  return std::optional<consensus::SafetyData>(std::move(decoded).value());
}

core::Result<std::vector<consensus::Block>> NodeStore::load_pending_blocks() const {
  std::vector<consensus::Block> blocks;
  std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
  // Those above the committed height: the 'p' entries at or below it are committed blocks.
  for (it->Seek(height_key('p', committed_height_ + 1)); it->Valid() && it->key().starts_with("p"); it->Next()) {
    auto decoded = consensus::decode_block(view(it->value().ToString()));
    if (!decoded) return Status::error(ErrorCode::kIoError, "a stored pending block is corrupt");
    blocks.push_back(std::move(decoded).value());
    // Bounded: the core persists only blocks it votes for, one per round, pruned on commit.
    if (blocks.size() > consensus::kMaxPendingBlocks) break;
  }
  if (!it->status().ok()) return io_error("cannot scan pending blocks", it->status());
  return blocks;
}

consensus::Height NodeStore::committed_height() const { return committed_height_; }

core::Result<std::optional<consensus::Block>> NodeStore::committed_block(consensus::Height height) const {
  std::string value;
  const auto status = db_->Get(leveldb::ReadOptions(), height_key('c', height), &value);
  if (status.IsNotFound()) return std::optional<consensus::Block>();
  if (!status.ok()) return io_error("cannot read block " + std::to_string(height), status);
  if (value.size() == sizeof(core::Hash256::bytes)) {
    // The id of the block this node voted for, stored once under 'p' (no block encodes to 32
    // bytes: its header alone is longer).
    const std::string key = height_key('p', height) + value;
    const auto voted = db_->Get(leveldb::ReadOptions(), key, &value);
    if (!voted.ok()) return io_error("cannot read block " + std::to_string(height), voted);
  }
  auto decoded = consensus::decode_block(view(value));
  if (!decoded) return Status::error(ErrorCode::kIoError, "stored block " + std::to_string(height) + " is corrupt");
  return std::optional<consensus::Block>(std::move(decoded).value());
}

core::Result<std::optional<core::Hash256>> NodeStore::state_root(consensus::Height height) const {
  std::string value;
  const auto status = db_->Get(leveldb::ReadOptions(), height_key('r', height), &value);
  if (status.IsNotFound()) return std::optional<core::Hash256>();
  if (!status.ok() || value.size() != 32) return Status::error(ErrorCode::kIoError, "cannot read state root");
  core::Hash256 root;
  std::copy(value.begin(), value.end(), root.bytes.begin());
  return std::optional<core::Hash256>(root);
}

Status NodeStore::commit_block(const consensus::Block& block, const core::Hash256& state_root,
                               leveldb::WriteBatch& batch) {
  CARBON_ASSERT(block.header.height == committed_height_ + 1);
  const core::Hash256 id = block.id();
  const std::string id_bytes(id.bytes.begin(), id.bytes.end());
  bool voted_for_it = false;
  {
    // Pending blocks sort by height, and those below were settled when their heights committed:
    // at this height, keep the committed block's entry and forget the others.
    const std::string end = height_key('p', block.header.height + 1);
    const std::string committed_key = height_key('p', block.header.height) + id_bytes;
    std::unique_ptr<leveldb::Iterator> it(db_->NewIterator(leveldb::ReadOptions()));
    for (it->Seek(height_key('p', block.header.height)); it->Valid() && it->key().starts_with("p") &&
                                                             it->key().ToString() < end;
         it->Next()) {
      if (it->key().ToString() == committed_key) {
        voted_for_it = true;
      } else {
        batch.Delete(it->key());
      }
    }
    if (!it->status().ok()) return io_error("cannot scan pending blocks", it->status());
  }
  // A block this node voted for is on disk already (written before the vote): refer to it.
  batch.Put(height_key('c', block.header.height), voted_for_it ? id_bytes : slice(consensus::encode_block(block)));
  batch.Put(height_key('r', block.header.height), std::string(state_root.bytes.begin(), state_root.bytes.end()));
  batch.Put(kTipKey, u64be(block.header.height));
  leveldb::WriteOptions options;
  options.sync = true;
  const auto status = db_->Write(options, &batch);
  if (!status.ok()) return io_error("cannot commit block " + std::to_string(block.header.height), status);
  committed_height_ = block.header.height;
  return Status::ok();
}

core::Result<std::optional<std::string>> NodeStore::get(const std::string& key) const {
  std::string value;
  const auto status = db_->Get(leveldb::ReadOptions(), key, &value);
  if (status.IsNotFound()) return std::optional<std::string>();
  if (!status.ok()) return io_error("cannot read", status);
  return std::optional<std::string>(std::move(value));
}

}  // namespace carbon::node
