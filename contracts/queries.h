// Typed read-only queries over the contract state, for the node's RPC and the tests: the
// registry as participants, officers, auditors and the public see it.
//
// Every query is bounded: lists take a `limit` (clamped to kMaxQueryLimit) and report `more`
// when entries were left out; stores are scanned in pages of kScanPage entries, so a query
// never reads more than its limit (plus one page) from the store, except trace(), whose scan of
// the product's transfer records is bounded by kMaxTraceMoves and reports `moves_truncated`.
//
// Errors: kNotFound for what does not exist where the caller named it (a proposal id, a
// project, a serial never issued); kInternal when a record does not decode (state corruption).
//
// Thread safety: none beyond the store's; the node runs these on its read snapshot.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "contracts/ledger.h"
#include "contracts/records.h"
#include "contracts/rules.h"

namespace carbon::contracts::queries {

inline constexpr std::size_t kMaxQueryLimit = 1'000;
inline constexpr std::size_t kDefaultQueryLimit = 100;
inline constexpr std::size_t kScanPage = 256;
inline constexpr std::size_t kMaxTraceMoves = 100'000;
// Ranges listed per product by holdings() (a holding is normally a handful of ranges).
inline constexpr std::size_t kMaxRangesPerHolding = 1'000;

template <class T>
struct Page {
  std::vector<T> items;
  bool more = false;  // entries beyond the limit exist
};

// Time and height of the last block that executed a transaction (zero before the first).
Result<Clock> clock(const Ledger& ledger);

// Registered accounts (officers included), in address order; from `after` (exclusive) if set.
Result<Page<Account>> participants(const Ledger& ledger, std::size_t limit,
                                   const std::optional<PublicKey>& after = std::nullopt);

Result<OfficerSet> officers(const Ledger& ledger);

// A proposal's state as of the last block: open, executed, or expired (open but past its
// expiry by the ledger's clock; an approval can no longer execute it).
enum class ProposalState : std::uint8_t { kOpen = 0, kExecuted = 1, kExpired = 2 };
std::string_view proposal_state_name(ProposalState state);

struct ProposalView {
  Proposal proposal;
  ProposalState state = ProposalState::kOpen;
};
Result<ProposalView> proposal(const Ledger& ledger, std::uint64_t id);
// Newest first, starting below `before_id` (0: from the newest).
Result<Page<ProposalView>> proposals(const Ledger& ledger, std::size_t limit,
                                     std::uint64_t before_id = 0);

// The rules in force for a year (version 0 = the built-in defaults) and every stored version,
// oldest first.
Result<RulesRecord> rules(const Ledger& ledger, std::uint16_t year);
Result<Page<RulesRecord>> rules_history(const Ledger& ledger, std::uint16_t year,
                                        std::size_t limit);

Result<std::optional<CapRecord>> cap(const Ledger& ledger, std::uint16_t year);
Result<std::optional<AllocationRecord>> allocation(const Ledger& ledger, std::uint16_t year,
                                                   const PublicKey& enterprise);

struct EmissionView {
  std::optional<EmissionRecord> record;
  Page<MrvEvent> history;  // oldest first
};
Result<EmissionView> emissions(const Ledger& ledger, std::uint16_t year,
                               const PublicKey& enterprise, std::size_t history_limit);

Result<Page<Project>> projects(const Ledger& ledger, std::size_t limit);
Result<Project> project(const Ledger& ledger, std::uint64_t id);

// Issued batches of a product, in serial order.
Result<Page<IssuanceRecord>> issuances(const Ledger& ledger, const ProductId& product,
                                       std::size_t limit);

struct Holding {
  ProductId product;
  std::uint64_t quantity_t = 0;
  std::vector<SerialRange> ranges;  // ascending
  bool more_ranges = false;
};
// The owner's products (at most `limit`, in product-code order) with their serial ranges.
Result<Page<Holding>> holdings(const Ledger& ledger, const PublicKey& owner, std::size_t limit);

// Retired ranges of a product (surrendered, cancelled, withdrawn), in serial order.
Result<Page<RetiredRange>> retired(const Ledger& ledger, const ProductId& product,
                                   std::size_t limit);

// Who holds a serial now, and the start of the held range that contains it.
struct Holder {
  PublicKey owner;
  std::uint64_t start = 0;
};

// The life of one tonne: the batch that issued it, every transfer of a range containing it (in
// order), and where it is now: held (owner and the held range) or retired.
struct Trace {
  ProductId product;
  std::uint64_t serial = 0;
  IssuanceRecord issuance;
  std::vector<MoveRecord> moves;
  bool moves_truncated = false;  // more than kMaxTraceMoves transfer records were not scanned
  std::optional<Holder> holder;
  SerialRange held_range;  // when holder is set
  std::optional<RetiredRange> retirement;
};
Result<Trace> trace(const Ledger& ledger, const ProductId& product, std::uint64_t serial);

// The published compliance table of a closed year (in enterprise address order) and its
// summary (nullopt while the year is open).
Result<Page<ComplianceRow>> compliance_rows(const Ledger& ledger, std::uint16_t year,
                                            std::size_t limit);
Result<std::optional<YearClosed>> year_closed(const Ledger& ledger, std::uint16_t year);
Result<SurrenderTotals> surrendered(const Ledger& ledger, std::uint16_t year,
                                    const PublicKey& enterprise);

}  // namespace carbon::contracts::queries
