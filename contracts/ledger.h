// The ledger's core records in the state store (chain, accounts, products, holdings), typed
// access to them and to the registry records of contracts/records.h, and the unit movements
// every contract is built from: issue, take (lowest serials first), give, retire.
//
// Key layout (all numbers in keys are fixed-width lower-case hex, so key order = number order;
// <owner> and <key> are the 64-hex-character Ed25519 public key; <product> is
// ProductId::code(), e.g. "HBEA-2025", which never contains '/'):
//
//   meta/chain                                  ChainMeta    chain id and the authority's key
//   meta/format                                 u32          the state layout (kStateFormat)
//   meta/history                                Hash256      head of the move log's hash chain
//   acct/<key>                                  Account      name, role, nonce, frozen flag
//   prod/<product>                              ProductState issued, retired, next serial
//   bal/<owner>/<product>                       BalanceRecord  tonnes held (never 0) and the
//                                                              holder's history with the product
//   hist/<owner>/<product>                      HolderHistory  that history once the balance is 0
//   hold/<owner>/<product>/<end:016x>           SerialRange  held serials [start, end)
//
// The registry's records (governance, rules, MRV, allocation, CCER, compliance) are listed in
// contracts/records.h.
//
// A holder's ranges of one product never overlap or touch: adjacent ranges are merged as
// they arrive, so each holding is stored in the fewest ranges. A range is keyed by its end, not
// its start, because units leave a holding from its lowest serials: taking part of a range
// rewrites its start in place (one write), and the range just below a new one is found by a
// point lookup at the new one's start (the one just above by a scan of one entry). Key order
// is still serial order, as ranges never overlap. Serial numbers of a product start at 1 and
// are never reused.
//
// Failure: every call either returns ok having written its whole effect into `store`, or
// returns an error having possibly written part of it; the executor therefore runs each
// call against a StateOverlay and commits only on success.
//
// Thread safety: none (works on the store it is given).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "contracts/state_store.h"
#include "contracts/records.h"
#include "contracts/types.h"

namespace carbon::contracts {

struct ChainMeta {
  std::string chain_id;
  PublicKey authority;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(authority);
  }
};

struct Account {
  PublicKey key;  // the address: the key it was registered with, for good
  std::string name;
  Role role = Role::kVoluntary;
  std::uint64_t nonce = 0;  // of the sender's last applied transaction; 0 before the first
  std::uint8_t frozen = 0;  // 1: may neither transfer nor surrender
  PublicKey signing_key;    // signs its transactions; equals key until a RotateKey
  Height registered_height = 0;

  friend bool operator==(const Account&, const Account&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(key);
    core::codec::bounded_string(archive, name, kMaxNameBytes);
    enum_field<A, Role, kMaxRole>(archive, role);
    archive(nonce);
    flag_field(archive, frozen);
    archive(signing_key, registered_height);
  }
};

struct ProductState {
  ProductId product;
  std::uint64_t issued_t = 0;
  std::uint64_t surrendered_t = 0;
  std::uint64_t cancelled_t = 0;  // cancelled at year close or withdrawn from an allocation
  std::uint64_t next_serial = 1;  // the next issuance starts here
  std::uint64_t retired_t() const { return surrendered_t + cancelled_t; }
  friend bool operator==(const ProductState&, const ProductState&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(product, issued_t, surrendered_t, cancelled_t, next_serial);
  }
};

// The state layout this build reads and writes. 3: the move log (mv/) out of the Merkle tree,
// committed by the hash chain meta/history (2: in the tree; 2 and later: holdings keyed by their
// end, and the balance and history of a holder in one record; 1: keyed by start with an end
// index, history apart).
inline constexpr std::uint32_t kStateFormat = 3;

namespace keys {
inline constexpr std::string_view kChainMeta = "meta/chain";
// The layout of the state (u32 kStateFormat), written at genesis: a node never runs on a state
// written in another layout (Executor::open refuses it).
inline constexpr std::string_view kStateFormat = "meta/format";
// The head of the hash chain over every history record (contracts/state_store.h), a Hash256:
// after a block that wrote records r1..rn, head = SHA3-256(0x02 || previous head || for each
// record in key order: u32 key length || key || u32 value length || value), lengths
// little-endian; absent until the first record. The executor writes it.
inline constexpr std::string_view kHistoryHead = "meta/history";
std::string account(const PublicKey& key);
std::string product(const ProductId& product);
std::string balance(const PublicKey& owner, const ProductId& product);
// Prefix of all of owner's ranges of product ("hold/<owner>/<product>/").
std::string holdings_prefix(const PublicKey& owner, const ProductId& product);
// The range of owner's product that ends at `end` (exclusive).
std::string holding(const PublicKey& owner, const ProductId& product, std::uint64_t end);
std::string hex16(std::uint64_t value);
std::string hex8(std::uint32_t value);
std::string year(std::uint16_t year);  // 4 hex digits
}  // namespace keys

struct Context;  // contracts/context.h

// Typed reads and writes over a store. Reads return kInternal if a record does not decode
// (state corruption, never a transaction's fault).
class Ledger {
 public:
  explicit Ledger(StateStore& store) : reader_(store), writer_(&store) {}
  // Read-only: the write methods must not be called (asserted).
  explicit Ledger(const StateStore& store) : reader_(store), writer_(nullptr) {}

  Result<std::optional<ChainMeta>> chain_meta() const;
  void put_chain_meta(const ChainMeta& meta);

  Result<std::optional<Account>> account(const PublicKey& key) const;
  void put_account(const Account& account);

  Result<std::optional<ProductState>> product(const ProductId& product) const;
  void put_product(const ProductState& state);

  // The balance and history: from bal/, else the history alone from hist/, else empty.
  Result<BalanceRecord> balance_record(const PublicKey& owner, const ProductId& product) const;
  // Under bal/ while the balance is non-zero, else under hist/ while the history is not empty;
  // erases the key the record was read from when it moves.
  void put_balance_record(const PublicKey& owner, const ProductId& product, BalanceRecord& record);
  Result<std::uint64_t> balance(const PublicKey& owner, const ProductId& product) const;
  // Every product the owner holds, with its balance, in product-code order, at most `limit`.
  Result<std::vector<std::pair<ProductId, std::uint64_t>>> balances(const PublicKey& owner,
                                                                    std::size_t limit) const;
  // Sets the balance and keeps the history (read-modify-write of the balance record).
  Status put_balance(const PublicKey& owner, const ProductId& product, std::uint64_t quantity_t);

  // The owner's ranges of product that end above from_serial (for from_serial 0 or the end of
  // a range already read: those that start at or above it), in ascending serial order, at most
  // `limit`.
  Result<std::vector<SerialRange>> holdings(const PublicKey& owner, const ProductId& product,
                                            std::uint64_t from_serial, std::size_t limit) const;
  // Adds serials [range.start, range.end) to owner's holdings, merging with the ranges that
  // end at range.start and start at range.end. Does not touch the balance.
  Status add_range(const PublicKey& owner, const ProductId& product, SerialRange range);
  void erase_range(const PublicKey& owner, const ProductId& product, const SerialRange& range);

  // ---- unit movements (each keeps balances, ranges and indexes consistent) ----

  // Mints quantity_t new serials of product to `to` (whose role may hold it), records the
  // issuance batch and returns its range.
  Result<SerialRange> issue(const Context& ctx, const PublicKey& to, const ProductId& product,
                            std::uint64_t quantity_t, IssuanceKind kind,
                            const Hash256& reference);
  // Removes quantity_t units of product from owner's holdings, lowest serials first, and
  // returns the ranges taken. Fails with a clear message when the owner holds less than
  // quantity_t beyond what is locked for sale on the exchange (UnitLocks::sell_locked_t; the
  // exchange releases a lock before it delivers the units). kSent also adds quantity_t to the
  // owner's history of units sent (a transfer), in the same write of the balance record.
  enum class TakeFor { kRetirement, kSent };
  Result<std::vector<SerialRange>> take(const PublicKey& owner, const ProductId& product,
                                        std::uint64_t quantity_t, TakeFor purpose = TakeFor::kRetirement);
  // Adds ranges (taken from someone) to owner's holdings and balance.
  Status give(const PublicKey& owner, const ProductId& product,
              const std::vector<SerialRange>& ranges);
  // Records taken ranges as retired for good (surrendered, cancelled or withdrawn).
  Status retire(const Context& ctx, const PublicKey& owner, const ProductId& product,
                const std::vector<SerialRange>& ranges, RetirementKind kind, std::uint16_t year);
  // take + retire for quantities that may span more ranges than one take allows (withdrawals
  // and cancellations by the authority must not fail because the holder's serials are
  // scattered): retires in chunks of at most kMaxRangesPerTransfer ranges, at most
  // kMaxRetireChunks of them.
  Status retire_quantity(const Context& ctx, const PublicKey& owner, const ProductId& product,
                         std::uint64_t quantity_t, RetirementKind kind, std::uint16_t year);
  // take + give + one move record per range + the sender's history. Fails when the
  // transaction has moved more than kMaxRangesMovedPerTx ranges in all.
  Status transfer(const Context& ctx, const PublicKey& from, const PublicKey& to,
                  const ProductId& product, std::uint64_t quantity_t);
  // transfer() in chunks of at most kMaxRangesPerTransfer ranges (at most kMaxRetireChunks
  // of them), for trades: a seller's scattered serials must not block a sale the book made.
  Status transfer_chunked(const Context& ctx, const PublicKey& from, const PublicKey& to,
                          const ProductId& product, std::uint64_t quantity_t);

  Result<HolderHistory> history(const PublicKey& owner, const ProductId& product) const;
  // Adds to and removes from owner's count of intervention allowances still held
  // (HolderHistory::intervention_t) and keeps the ivh/ index of such holders.
  Status add_intervention(const PublicKey& owner, const ProductId& product, std::uint64_t add_t,
                          std::uint64_t remove_t);
  // Sets the history and keeps the balance (read-modify-write of the balance record).
  Status put_history(const PublicKey& owner, const ProductId& product, const HolderHistory& history);

  // Raw access for the registry modules: decode/encode a record at a key.
  template <class T>
  Result<std::optional<T>> get(const std::string& key) const;
  template <class T>
  void put(const std::string& key, const T& value);
  void erase(const std::string& key);
  // Entries under prefix from start, at most limit (the store's scan).
  std::vector<StateEntry> scan(std::string_view prefix, std::string_view start,
                               std::size_t limit) const {
    return reader_.scan(prefix, start, limit);
  }
  const StateStore& reader() const { return reader_; }

 private:
  void put_range(const PublicKey& owner, const ProductId& product, const SerialRange& range);
  StateStore& writer();
  const StateStore& reader_;
  StateStore* writer_;
  // Legs of the move records written so far by this transaction (one Ledger serves one call):
  // a trade settles many transfers in one transaction, each needs its own key.
  std::uint32_t next_move_leg_ = 0;
  std::size_t ranges_moved_ = 0;  // by this transaction, against kMaxRangesMovedPerTx
  std::uint64_t taken_intervention_t_ = 0;  // intervention allowances in the last take()
};

// Writes the genesis state: chain meta, the officers' accounts (role authority; the first is
// named authority_name) and the officer set with its threshold. Store must be empty.
void write_genesis(StateStore& store, const std::string& chain_id,
                   const std::vector<PublicKey>& officers, std::uint8_t threshold,
                   const std::string& authority_name);

// Applies one contract call by ctx.sender (whose account exists and whose nonce and signature
// the executor has already checked). See the failure note at the top of this header.
Status apply_call(StateStore& store, const Context& ctx, const Call& call);

}  // namespace carbon::contracts
