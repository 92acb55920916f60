#include "contracts/ledger.h"

#include <algorithm>
#include <limits>

#include "contracts/key_text.h"
#include "contracts/ledger_internal.h"
#include "contracts/market_internal.h"
#include "core/checked_math.h"
#include "core/codec.h"

namespace carbon::contracts {

namespace keys {
std::string hex16(std::uint64_t value) { return join(Hex16{value}); }
std::string hex8(std::uint32_t value) { return join(Hex8{value}); }
std::string year(std::uint16_t year) { return join(Hex4{year}); }
std::string account(const PublicKey& key) { return join("acct/", key); }
std::string product(const ProductId& product) { return join("prod/", product); }
std::string balance(const PublicKey& owner, const ProductId& product) { return join("bal/", owner, "/", product); }
std::string holdings_prefix(const PublicKey& owner, const ProductId& product) {
  return join("hold/", owner, "/", product, "/");
}
std::string holding(const PublicKey& owner, const ProductId& product, std::uint64_t end) {
  return join("hold/", owner, "/", product, "/", Hex16{end});
}
std::string proposal(std::uint64_t id) { return join("prop/", Hex16{id}); }
std::string rules(std::uint16_t y) { return join("rules/", Hex4{y}); }
std::string rules_version(std::uint16_t y, std::uint32_t version) { return join("rulesv/", Hex4{y}, "/", Hex8{version}); }
std::string signing_key(const PublicKey& key) { return join("skey/", key); }
std::string cap(std::uint16_t y) { return join("cap/", Hex4{y}); }
std::string allocation(std::uint16_t y, const PublicKey& enterprise) { return join("alloc/", Hex4{y}, "/", enterprise); }
std::string emission(std::uint16_t y, const PublicKey& enterprise) { return join("mrv/", Hex4{y}, "/", enterprise); }
std::string emission_event(std::uint16_t y, const PublicKey& enterprise, std::uint32_t seq) {
  return join("mrvh/", Hex4{y}, "/", enterprise, "/", Hex8{seq});
}
std::string project(std::uint64_t id) { return join("proj/", Hex16{id}); }
std::string issuance(const ProductId& product, std::uint64_t start) { return join("iss/", product, "/", Hex16{start}); }
std::string retired(const ProductId& product, std::uint64_t start) { return join("ret/", product, "/", Hex16{start}); }
std::string move(const ProductId& product, Height height, std::uint32_t tx_index, std::uint32_t leg) {
  return join(kHistoryPrefix, product, "/", Hex16{height}, "/", Hex8{tx_index}, "/", Hex8{leg});
}
std::string holder_history(const PublicKey& owner, const ProductId& product) {
  return join("hist/", owner, "/", product);
}
std::string intervention_holders_prefix(const ProductId& product) { return join("ivh/", product, "/"); }
std::string intervention_holder(const ProductId& product, const PublicKey& owner) {
  return join("ivh/", product, "/", owner);
}
std::string surrendered(std::uint16_t y, const PublicKey& enterprise) { return join("surr/", Hex4{y}, "/", enterprise); }
std::string compliance_row(std::uint16_t y, const PublicKey& enterprise) {
  return join("ctab/", Hex4{y}, "/", enterprise);
}
std::string year_closed(std::uint16_t y) { return join("closed/", Hex4{y}); }
}  // namespace keys

namespace {

// Ranges read per store scan while taking units: the first page is small because most
// transfers are served by the owner's lowest range; each later page is twice as large.
constexpr std::size_t kTakeFirstPageRanges = 2;
constexpr std::size_t kTakePageRanges = 16;

}  // namespace

// ---- shared helpers (ledger_internal.h) -----------------------------------------------------

std::string grouped(std::uint64_t value) {
  std::string digits = std::to_string(value);
  std::string out;
  const std::size_t first = digits.size() % 3 == 0 ? 3 : digits.size() % 3;
  out.append(digits, 0, first);
  for (std::size_t i = first; i < digits.size(); i += 3) {
    out.push_back(',');
    out.append(digits, i, 3);
  }
  return out;
}

std::string tonnes(std::uint64_t quantity_t) { return grouped(quantity_t) + " t"; }

Status unauthorized(std::string_view what) {
  return Status::error(ErrorCode::kUnauthorized, "only the authority may " + std::string(what));
}

Status check_quantity(std::uint64_t quantity_t) {
  if (quantity_t == 0)
    return Status::error(ErrorCode::kInvalidArgument, "quantity must be at least 1 t");
  if (quantity_t > kMaxQuantityPerTx) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "quantity " + tonnes(quantity_t) + " exceeds the limit of " +
                             tonnes(kMaxQuantityPerTx) + " per transaction");
  }
  return Status::ok();
}

Status check_year(std::uint16_t year) {
  if (year < kMinVintageYear || year > kMaxVintageYear) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "year " + std::to_string(year) + " is outside " +
                             std::to_string(kMinVintageYear) + ".." +
                             std::to_string(kMaxVintageYear));
  }
  return Status::ok();
}

Result<Account> require_account(const Ledger& ledger, const PublicKey& key, std::string_view what) {
  auto account = ledger.account(key);
  if (!account) return account.status();
  if (!*account) {
    return Status::error(ErrorCode::kNotFound, "unknown " + std::string(what) + " " +
                                                   key.to_hex() +
                                                   ": not a registered participant");
  }
  return std::move(**account);
}

Status require_role(const Account& account, std::initializer_list<Role> roles,
                    std::string_view doing) {
  for (Role role : roles)
    if (account.role == role) return Status::ok();
  std::string allowed;
  for (Role role : roles) {
    if (!allowed.empty()) allowed += " or ";
    allowed += role_name(role);
  }
  return Status::error(ErrorCode::kUnauthorized,
                       account.name + " is a " + std::string(role_name(account.role)) + "; only a " +
                           allowed + " may " + std::string(doing));
}

// ---- Ledger ---------------------------------------------------------------------------------

StateStore& Ledger::writer() {
  CARBON_ASSERT_MSG(writer_ != nullptr, "write through a read-only Ledger");
  return *writer_;
}

void Ledger::erase(const std::string& key) { writer().erase(key); }

Result<std::optional<ChainMeta>> Ledger::chain_meta() const {
  return get<ChainMeta>(std::string(keys::kChainMeta));
}
void Ledger::put_chain_meta(const ChainMeta& meta) { put(std::string(keys::kChainMeta), meta); }

Result<std::optional<Account>> Ledger::account(const PublicKey& key) const {
  return get<Account>(keys::account(key));
}
void Ledger::put_account(const Account& account) { put(keys::account(account.key), account); }

Result<std::optional<ProductState>> Ledger::product(const ProductId& product) const {
  return get<ProductState>(keys::product(product));
}
void Ledger::put_product(const ProductState& state) { put(keys::product(state.product), state); }

Result<BalanceRecord> Ledger::balance_record(const PublicKey& owner, const ProductId& product) const {
  auto held = get<BalanceRecord>(keys::balance(owner, product));
  if (!held) return held.status();
  if (*held) {
    if ((*held)->held_t == 0) {
      return Status::error(ErrorCode::kInternal, "zero balance record at " + keys::balance(owner, product));
    }
    (*held)->stored = BalanceRecord::Stored::kBalance;
    return std::move(**held);
  }
  auto past = get<HolderHistory>(keys::holder_history(owner, product));
  if (!past) return past.status();
  BalanceRecord record;
  if (*past) {
    record.history = **past;
    record.stored = BalanceRecord::Stored::kHistory;
  }
  return record;
}

void Ledger::put_balance_record(const PublicKey& owner, const ProductId& product, BalanceRecord& record) {
  using Stored = BalanceRecord::Stored;
  Stored target = Stored::kNowhere;
  if (record.held_t > 0) {
    target = Stored::kBalance;
  } else if (!(record.history == HolderHistory{})) {
    target = Stored::kHistory;
  }
  if (record.stored != target) {  // moves (or goes): the old key is erased
    if (record.stored == Stored::kBalance) writer().erase(keys::balance(owner, product));
    if (record.stored == Stored::kHistory) writer().erase(keys::holder_history(owner, product));
  }
  if (target == Stored::kBalance) put(keys::balance(owner, product), record);
  if (target == Stored::kHistory) put(keys::holder_history(owner, product), record.history);
  record.stored = target;  // so that writing the same record again stays right
}

Result<std::uint64_t> Ledger::balance(const PublicKey& owner, const ProductId& product) const {
  auto stored = balance_record(owner, product);
  if (!stored) return stored.status();
  return stored->held_t;
}

Result<std::vector<std::pair<ProductId, std::uint64_t>>> Ledger::balances(const PublicKey& owner,
                                                                          std::size_t limit) const {
  const std::string prefix = "bal/" + owner.to_hex() + "/";
  std::vector<std::pair<ProductId, std::uint64_t>> out;
  for (const auto& [key, bytes] : reader_.scan(prefix, "", limit)) {
    auto product = ProductId::from_code(std::string_view(key).substr(prefix.size()));
    auto stored = core::codec::decode<BalanceRecord>(bytes);
    if (!product || !stored || stored->held_t == 0) {
      return Status::error(ErrorCode::kInternal, "corrupt balance record at " + key);
    }
    out.emplace_back(*product, stored->held_t);
  }
  return out;
}

Status Ledger::put_balance(const PublicKey& owner, const ProductId& product,
                           std::uint64_t quantity_t) {
  auto stored = balance_record(owner, product);
  if (!stored) return stored.status();
  stored->held_t = quantity_t;
  put_balance_record(owner, product, *stored);
  return Status::ok();
}

Result<std::vector<SerialRange>> Ledger::holdings(const PublicKey& owner, const ProductId& product,
                                                  std::uint64_t from_serial,
                                                  std::size_t limit) const {
  const std::string prefix = keys::holdings_prefix(owner, product);
  std::vector<SerialRange> out;
  if (from_serial == std::numeric_limits<std::uint64_t>::max()) return out;  // nothing ends above it
  // The key each range must have, rebuilt in one buffer.
  std::string expected_key = keys::join(prefix, keys::Hex16{from_serial + 1});
  for (const auto& [key, bytes] : reader_.scan(prefix, expected_key, limit)) {
    // Written by this ledger (Ledger::get's reasoning: core/codec.h, CanonicalCheck::kSkipped).
    auto range = core::codec::decode<SerialRange>(bytes, core::codec::kMaxEncodedBytes,
                                                  core::codec::CanonicalCheck::kSkipped);
    if (range) {
      expected_key.resize(prefix.size());
      keys::key_text::append(expected_key, keys::Hex16{range->end});
    }
    if (!range || range->start >= range->end || key != expected_key) {
      return Status::error(ErrorCode::kInternal, "corrupt holding record at " + key);
    }
    out.push_back(*range);
  }
  return out;
}

void Ledger::put_range(const PublicKey& owner, const ProductId& product, const SerialRange& range) {
  put(keys::holding(owner, product, range.end), range);
}

void Ledger::erase_range(const PublicKey& owner, const ProductId& product,
                         const SerialRange& range) {
  writer().erase(keys::holding(owner, product, range.end));
}

Status Ledger::add_range(const PublicKey& owner, const ProductId& product, SerialRange range) {
  CARBON_ASSERT(range.start < range.end);
  // The range ending exactly where this one starts: a point lookup.
  auto below = get<SerialRange>(keys::holding(owner, product, range.start));
  if (!below) return below.status();
  if (*below) {
    if ((*below)->end != range.start || (*below)->start >= range.start) {
      return Status::error(ErrorCode::kInternal, "corrupt holding record at " +
                                                     keys::holding(owner, product, range.start));
    }
    erase_range(owner, product, **below);
    range.start = (*below)->start;
  }
  // The range starting exactly where this one ends: if any, it is the first one ending above.
  auto above = holdings(owner, product, range.end, 1);
  if (!above) return above.status();
  if (!above->empty() && above->front().start <= range.end) {
    if (above->front().start < range.end) {
      return Status::error(ErrorCode::kInternal, "serials " + std::to_string(range.start) + ".." +
                                                     std::to_string(range.end) + " of " + product.code() +
                                                     " are already held by their recipient");
    }
    erase_range(owner, product, above->front());
    range.end = above->front().end;
  }
  put_range(owner, product, range);
  return Status::ok();
}

Result<HolderHistory> Ledger::history(const PublicKey& owner, const ProductId& product) const {
  auto stored = balance_record(owner, product);
  if (!stored) return stored.status();
  return stored->history;
}

Status Ledger::put_history(const PublicKey& owner, const ProductId& product,
                           const HolderHistory& history) {
  auto stored = balance_record(owner, product);
  if (!stored) return stored.status();
  stored->history = history;
  put_balance_record(owner, product, *stored);
  return Status::ok();
}

namespace {

// The participant `key` if registered and allowed to hold units of `kind`.
Result<Account> holder(const Ledger& ledger, const PublicKey& key, ProductKind kind) {
  auto account = ledger.account(key);
  if (!account) return account.status();
  if (!*account) {
    return Status::error(ErrorCode::kNotFound,
                         "unknown recipient " + key.to_hex() + ": register the participant first");
  }
  if (!role_may_hold((*account)->role, kind)) {
    return Status::error(ErrorCode::kConflict,
                         "recipient " + (*account)->name + " is a " +
                             std::string(role_name((*account)->role)) +
                             ", a role that may not hold " +
                             (kind == ProductKind::kAllowance ? "allowances" : "CCERs"));
  }
  return std::move(**account);
}

Result<ProductState> product_state(const Ledger& ledger, const ProductId& product) {
  auto existing = ledger.product(product);
  if (!existing) return existing.status();
  ProductState state;
  state.product = product;
  return existing->value_or(state);
}

}  // namespace

Result<SerialRange> Ledger::issue(const Context& ctx, const PublicKey& to, const ProductId& product,
                                  std::uint64_t quantity_t, IssuanceKind kind,
                                  const Hash256& reference) {
  CARBON_RETURN_IF_ERROR(check_quantity(quantity_t));
  auto recipient = holder(*this, to, product.kind);
  if (!recipient) return recipient.status();
  auto state = product_state(*this, product);
  if (!state) return state.status();
  auto end = core::checked_add(state->next_serial, quantity_t);
  if (!end) return end.status();
  auto issued = core::checked_add(state->issued_t, quantity_t);
  if (!issued) return issued.status();
  auto record = balance_record(to, product);  // balance and history, read and written once
  if (!record) return record.status();
  auto new_balance = core::checked_add(record->held_t, quantity_t);
  if (!new_balance) return new_balance.status();

  const SerialRange range{state->next_serial, *end};
  state->next_serial = *end;
  state->issued_t = *issued;
  put_product(*state);
  CARBON_RETURN_IF_ERROR(add_range(to, product, range));
  record->held_t = *new_balance;
  record->history.issued_t += quantity_t;  // bounded by issued_t, which did not overflow
  put_balance_record(to, product, *record);
  put(keys::issuance(product, range.start),
      IssuanceRecord{product, range, to, kind, ctx.height, ctx.time_ms, reference});
  return range;
}

Result<std::vector<SerialRange>> Ledger::take(const PublicKey& owner, const ProductId& product,
                                              std::uint64_t quantity_t, TakeFor purpose) {
  CARBON_RETURN_IF_ERROR(check_quantity(quantity_t));
  auto record = balance_record(owner, product);  // read once, written once below
  if (!record) return record.status();
  const std::uint64_t held = record->held_t;
  auto locks = get<UnitLocks>(keys::unit_locks(owner, product));
  if (!locks) return locks.status();
  const std::uint64_t locked_t = *locks ? (*locks)->sell_locked_t : 0;
  if (locked_t > held) {
    return Status::error(ErrorCode::kInternal, "units locked for sale exceed the balance of " +
                                                   product.code());
  }
  if (held - locked_t < quantity_t) {
    if (locked_t > 0) {
      return Status::error(ErrorCode::kConflict,
                           "not enough units: holds " + tonnes(held) + " of " + product.code() +
                               ", of which " + tonnes(locked_t) +
                               " are locked in open sell orders, listings or auctions; needs " +
                               tonnes(quantity_t));
    }
    return Status::error(ErrorCode::kConflict, "not enough units: holds " + tonnes(held) + " of " +
                                                   product.code() + ", needs " +
                                                   tonnes(quantity_t));
  }
  // Lowest serials first, read in small pages so that a large holding costs only what is
  // consumed. The owner's ranges never touch, so a later range starts above the end of the
  // one before it.
  std::vector<SerialRange> taken;
  std::uint64_t remaining = quantity_t;
  std::uint64_t from_serial = 0;
  std::size_t page_ranges = kTakeFirstPageRanges;
  while (remaining > 0 && taken.size() < kMaxRangesPerTransfer) {
    const std::size_t page_size = std::min(page_ranges, kMaxRangesPerTransfer - taken.size());
    page_ranges = std::min(page_ranges * 2, kTakePageRanges);
    auto page = holdings(owner, product, from_serial, page_size);
    if (!page) return page.status();
    if (page->empty()) break;
    for (const SerialRange& range : *page) {
      const std::uint64_t take_t = std::min(range.size(), remaining);
      if (take_t < range.size()) {
        // Split: the owner keeps the upper part, under the same key (its end), and it touches
        // none of the owner's other ranges.
        put_range(owner, product, SerialRange{range.start + take_t, range.end});
      } else {
        erase_range(owner, product, range);
      }
      taken.push_back(SerialRange{range.start, range.start + take_t});
      remaining -= take_t;
      from_serial = range.end;
      if (remaining == 0) break;
    }
  }
  if (remaining > 0) {
    if (taken.size() == kMaxRangesPerTransfer) {
      return Status::error(ErrorCode::kOutOfBounds,
                           "holdings of " + product.code() + " are split into more than " +
                               std::to_string(kMaxRangesPerTransfer) +
                               " serial ranges; move at most " +
                               tonnes(quantity_t - remaining) + " per transaction");
    }
    return Status::error(ErrorCode::kInternal,
                         "balance of " + product.code() + " exceeds the serial ranges held");
  }
  record->held_t -= quantity_t;  // at least quantity_t is unlocked (checked above)
  // Only what the rules need: the "never traded" rule at year close counts what a holder sent.
  // Units sent back and forth add up without bound, but 2^64 t is out of reach.
  if (purpose == TakeFor::kSent) record->history.sent_t += quantity_t;
  put_balance_record(owner, product, *record);
  // Intervention allowances leave a holding first (sold on, surrendered or cancelled), so the
  // count of them still held never exceeds the balance; transfer() hands it to the recipient.
  taken_intervention_t_ = 0;
  if (product.kind == ProductKind::kAllowance && reader_.get(keys::intervention_holder(product, owner))) {
    auto owner_history = history(owner, product);
    if (!owner_history) return owner_history.status();
    taken_intervention_t_ = std::min(quantity_t, owner_history->intervention_t);
    CARBON_RETURN_IF_ERROR(add_intervention(owner, product, 0, taken_intervention_t_));
  }
  return taken;
}

Status Ledger::add_intervention(const PublicKey& owner, const ProductId& product,
                                std::uint64_t add_t, std::uint64_t remove_t) {
  auto owner_history = history(owner, product);
  if (!owner_history) return owner_history.status();
  if (owner_history->intervention_t + add_t < remove_t) {
    return Status::error(ErrorCode::kInternal, "intervention count underflows");
  }
  owner_history->intervention_t = owner_history->intervention_t + add_t - remove_t;
  CARBON_RETURN_IF_ERROR(put_history(owner, product, *owner_history));
  if (owner_history->intervention_t == 0) {
    erase(keys::intervention_holder(product, owner));
  } else {
    put(keys::intervention_holder(product, owner), std::uint8_t{1});
  }
  return Status::ok();
}

Status Ledger::give(const PublicKey& owner, const ProductId& product,
                    const std::vector<SerialRange>& ranges) {
  std::uint64_t total = 0;
  for (const SerialRange& range : ranges) {
    CARBON_RETURN_IF_ERROR(add_range(owner, product, range));
    total += range.size();  // bounded by the product's issued total
  }
  auto record = balance_record(owner, product);
  if (!record) return record.status();
  auto new_balance = core::checked_add(record->held_t, total);
  if (!new_balance) return new_balance.status();
  record->held_t = *new_balance;
  put_balance_record(owner, product, *record);
  return Status::ok();
}

Status Ledger::retire(const Context& ctx, const PublicKey& owner, const ProductId& product,
                      const std::vector<SerialRange>& ranges, RetirementKind kind,
                      std::uint16_t year) {
  auto state = product_state(*this, product);
  if (!state) return state.status();
  std::uint64_t total = 0;
  for (const SerialRange& range : ranges) {
    put(keys::retired(product, range.start),
        RetiredRange{product, range, owner, kind, year, ctx.height, ctx.time_ms});
    total += range.size();
  }
  if (kind == RetirementKind::kSurrendered) {
    state->surrendered_t += total;
  } else {
    state->cancelled_t += total;
  }
  put_product(*state);
  return Status::ok();
}

Status Ledger::retire_quantity(const Context& ctx, const PublicKey& owner,
                               const ProductId& product, std::uint64_t quantity_t,
                               RetirementKind kind, std::uint16_t year) {
  // Units the authority retires (withdrawals, cancellations at close) may be offered for sale
  // on the exchange; the offers go first (the units will no longer exist).
  auto held = balance(owner, product);
  if (!held) return held.status();
  auto locks = get<UnitLocks>(keys::unit_locks(owner, product));
  if (!locks) return locks.status();
  if (*locks && (*locks)->sell_locked_t > 0 && *held - (*locks)->sell_locked_t < quantity_t) {
    CARBON_RETURN_IF_ERROR(release_sell_offers(*this, ctx, owner, product));
  }
  std::uint64_t remaining = quantity_t;
  for (std::size_t chunk = 0; remaining > 0; ++chunk) {
    if (chunk == kMaxRetireChunks) {
      return Status::error(ErrorCode::kOutOfBounds,
                           "the holding of " + product.code() + " is split into more than " +
                               grouped(kMaxRetireChunks * kMaxRangesPerTransfer) +
                               " serial ranges; " + tonnes(remaining) + " could not be retired");
    }
    // The tonnes the owner's lowest kMaxRangesPerTransfer ranges hold (the earlier chunks'
    // ranges are already gone from the holdings).
    auto ranges = holdings(owner, product, 0, kMaxRangesPerTransfer);
    if (!ranges) return ranges.status();
    std::uint64_t chunk_t = 0;
    for (const SerialRange& range : *ranges) {
      chunk_t += range.size();  // bounded by the product's issued total
      if (chunk_t >= remaining) break;
    }
    if (chunk_t == 0) {
      return Status::error(ErrorCode::kConflict, "not enough units: " + tonnes(remaining) + " of " +
                                                     product.code() + " missing");
    }
    chunk_t = std::min(chunk_t, remaining);
    auto taken = take(owner, product, chunk_t);
    if (!taken) return taken.status();
    CARBON_RETURN_IF_ERROR(retire(ctx, owner, product, *taken, kind, year));
    remaining -= chunk_t;
  }
  return Status::ok();
}

Status Ledger::transfer(const Context& ctx, const PublicKey& from, const PublicKey& to,
                        const ProductId& product, std::uint64_t quantity_t) {
  auto recipient = holder(*this, to, product.kind);
  if (!recipient) return recipient.status();
  auto taken = take(from, product, quantity_t, TakeFor::kSent);
  if (!taken) return taken.status();
  ranges_moved_ += taken->size();
  if (ranges_moved_ > kMaxRangesMovedPerTx) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "this transaction would move more than " +
                             std::to_string(kMaxRangesMovedPerTx) +
                             " serial ranges of units; trade a smaller quantity");
  }
  CARBON_RETURN_IF_ERROR(give(to, product, *taken));
  if (taken_intervention_t_ > 0) {
    CARBON_RETURN_IF_ERROR(add_intervention(to, product, taken_intervention_t_, 0));
  }
  // Keyed by block, transaction and leg: in time order, and with no counter to read and write
  // on every transfer.
  CARBON_ASSERT(taken->size() <= kMaxRangesPerTransfer);
  for (const SerialRange& range : *taken) {
    put(keys::move(product, ctx.height, ctx.tx_index, next_move_leg_++),
        MoveRecord{range, from, to, ctx.height, ctx.time_ms});
  }
  return Status::ok();
}

Status Ledger::transfer_chunked(const Context& ctx, const PublicKey& from, const PublicKey& to,
                                const ProductId& product, std::uint64_t quantity_t) {
  std::uint64_t remaining = quantity_t;
  for (std::size_t chunk = 0; remaining > 0; ++chunk) {
    if (chunk == kMaxRetireChunks) {
      return Status::error(ErrorCode::kOutOfBounds,
                           "the seller's " + product.code() + " are split into too many serial "
                           "ranges to deliver " + tonnes(quantity_t) + " at once");
    }
    // The lowest ranges, as take() consumes them: how much one transfer can carry.
    auto ranges = holdings(from, product, 0, kMaxRangesPerTransfer);
    if (!ranges) return ranges.status();
    std::uint64_t chunk_t = 0;
    for (const SerialRange& range : *ranges) {
      chunk_t += range.size();  // bounded by the product's issued total
      if (chunk_t >= remaining) break;
    }
    chunk_t = std::min(chunk_t, remaining);
    if (chunk_t == 0) {
      return Status::error(ErrorCode::kConflict, "not enough units: " + tonnes(remaining) + " of " +
                                                     product.code() + " missing");
    }
    CARBON_RETURN_IF_ERROR(transfer(ctx, from, to, product, chunk_t));
    remaining -= chunk_t;
  }
  return Status::ok();
}

// ---- genesis --------------------------------------------------------------------------------

void write_genesis(StateStore& store, const std::string& chain_id,
                   const std::vector<PublicKey>& officers, std::uint8_t threshold,
                   const std::string& authority_name) {
  CARBON_ASSERT(!officers.empty() && officers.size() <= kMaxOfficers);
  CARBON_ASSERT(threshold >= 1 && threshold <= officers.size());
  Ledger ledger(store);
  ledger.put_chain_meta(ChainMeta{chain_id, officers.front()});
  ledger.put(std::string(keys::kStateFormat), kStateFormat);
  for (std::size_t i = 0; i < officers.size(); ++i) {
    Account account;
    account.key = officers[i];
    account.signing_key = officers[i];
    account.name = i == 0 ? authority_name : authority_name + " officer " + std::to_string(i + 1);
    account.role = Role::kAuthority;
    ledger.put_account(account);
  }
  OfficerSet set;
  set.officers = officers;
  set.threshold = threshold;
  ledger.put(std::string(keys::kOfficers), set);
}

// ---- participants and units -----------------------------------------------------------------

namespace {

// Products read when checking a role change against what an account holds.
constexpr std::size_t kMaxProductsChecked = 4096;

Status check_new_key(const Ledger& ledger, const PublicKey& key) {
  if (!core::is_valid_public_key(key)) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "key " + key.to_hex() + " is not a valid Ed25519 public key");
  }
  auto existing = ledger.account(key);
  if (!existing) return existing.status();
  if (*existing) {
    return Status::error(ErrorCode::kConflict, "participant " + key.short_hex() +
                                                   " is already registered as " + (*existing)->name +
                                                   " (" + std::string(role_name((*existing)->role)) + ")");
  }
  auto used = ledger.get<PublicKey>(keys::signing_key(key));
  if (!used) return used.status();
  if (*used) {
    return Status::error(ErrorCode::kConflict,
                         "key " + key.short_hex() + " already signs for account " +
                             (*used)->short_hex());
  }
  return Status::ok();
}

Status check_name(const std::string& name) {
  if (name.empty())
    return Status::error(ErrorCode::kInvalidArgument, "participant name must not be empty");
  return Status::ok();
}

}  // namespace

Status apply_act(Ledger& ledger, const Context& ctx, const RegisterParticipant& act) {
  CARBON_RETURN_IF_ERROR(check_name(act.name));
  if (act.role == Role::kAuthority) {
    return Status::error(
        ErrorCode::kInvalidArgument,
        "the authority role belongs to the officers (set at genesis or by set-officers)");
  }
  CARBON_RETURN_IF_ERROR(check_new_key(ledger, act.key));
  Account account;
  account.key = act.key;
  account.signing_key = act.key;
  account.name = act.name;
  account.role = act.role;
  account.registered_height = ctx.height;
  ledger.put_account(account);
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& /*ctx*/, const UpdateParticipant& act) {
  CARBON_RETURN_IF_ERROR(check_name(act.name));
  auto account = require_account(ledger, act.account, "participant");
  if (!account) return account.status();
  if (account->role == Role::kAuthority || act.role == Role::kAuthority) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "officers' accounts change only through set-officers");
  }
  // The new role must be allowed to hold what the account holds (units never sit with a
  // holder that may not hold them).
  auto held = ledger.balances(act.account, kMaxProductsChecked);
  if (!held) return held.status();
  if (held->size() == kMaxProductsChecked) {
    return Status::error(ErrorCode::kOutOfBounds, account->name + " holds too many products to change its role");
  }
  for (const auto& [product, quantity_t] : *held) {
    if (!role_may_hold(act.role, product.kind)) {
      return Status::error(ErrorCode::kConflict,
                           account->name + " holds " + tonnes(quantity_t) + " of " + product.code() +
                               ", which a " + std::string(role_name(act.role)) +
                               " may not hold; it must transfer them first");
    }
  }
  // Nor may units arrive later: an open buy order or auction bid (funds locked) of a role that
  // may not hold the product would make every crossing sell, or the auction's clearing, fail.
  if (!role_may_hold(act.role, ProductKind::kAllowance) ||
      !role_may_hold(act.role, ProductKind::kCcer)) {
    auto fund = load_fund(ledger, act.account);
    if (!fund) return fund.status();
    if (fund->locked_fen > 0) {
      return Status::error(ErrorCode::kConflict,
                           account->name + " has " + yuan(fund->locked_fen) +
                               " locked in open buy orders or auction bids, which a " +
                               std::string(role_name(act.role)) +
                               " could not receive units for; they must be cancelled or cleared "
                               "first");
    }
  }
  account->name = act.name;
  account->role = act.role;
  ledger.put_account(*account);
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& ctx, const SetFrozen& act) {
  auto account = require_account(ledger, act.account, "account");
  if (!account) return account.status();
  if (account->role == Role::kAuthority) {
    return Status::error(ErrorCode::kInvalidArgument, "an officer's account cannot be frozen");
  }
  if (account->frozen == act.frozen) {
    return Status::error(ErrorCode::kConflict, account->name + " is already " +
                                                   (act.frozen ? "frozen" : "not frozen"));
  }
  account->frozen = act.frozen;
  ledger.put_account(*account);
  // A frozen account makes no orders (RULES.md): what it has resting on the exchange goes.
  if (act.frozen != 0) CARBON_RETURN_IF_ERROR(cancel_offers_of(ledger, ctx, act.account));
  return Status::ok();
}

Status apply_act(Ledger& ledger, const Context& ctx, const IssueAllowances& act) {
  CARBON_RETURN_IF_ERROR(check_year(act.vintage_year));
  CARBON_RETURN_IF_ERROR(check_quantity(act.quantity_t));
  auto closed = ledger.get<YearClosed>(keys::year_closed(act.vintage_year));
  if (!closed) return closed.status();
  if (*closed) {
    return Status::error(ErrorCode::kConflict, "year " + std::to_string(act.vintage_year) +
                                                   " is closed; no more allowances of its vintage");
  }
  // Once the year has a cap, direct issuance (units for auctions) comes out of its auction
  // share; the free part and the reserve go out only through allocation and adjustment.
  auto cap = ledger.get<CapRecord>(keys::cap(act.vintage_year));
  if (!cap) return cap.status();
  if (*cap) {
    const std::uint64_t left = (*cap)->auction_t - std::min((*cap)->auction_t, (*cap)->auction_issued_t);
    if (act.quantity_t > left) {
      return Status::error(ErrorCode::kConflict,
                           "the auction share of the " + std::to_string(act.vintage_year) + " cap leaves " +
                               tonnes(left) + ", the issuance needs " + tonnes(act.quantity_t));
    }
    (*cap)->auction_issued_t += act.quantity_t;  // <= auction_t, checked above
    ledger.put(keys::cap(act.vintage_year), **cap);
  }
  auto range = ledger.issue(ctx, act.to, ProductId::allowance(act.vintage_year), act.quantity_t,
                            IssuanceKind::kDirect, Hash256{});
  return range ? Status::ok() : range.status();
}

Status apply_call(Ledger& ledger, const Context& ctx, const TransferUnits& call) {
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  const Account& sender = ctx.sender;
  if (sender.frozen) {
    return Status::error(ErrorCode::kConflict, "account " + sender.name +
                                                   " is frozen by the authority and cannot transfer");
  }
  if (call.to == sender.key)
    return Status::error(ErrorCode::kInvalidArgument, "cannot transfer units to yourself");
  if (call.product.kind == ProductKind::kAllowance && call.product.project_id != 0) {
    return Status::error(ErrorCode::kInvalidArgument, "an allowance product has no project id");
  }
  return ledger.transfer(ctx, sender.key, call.to, call.product, call.quantity_t);
}

Status apply_call(Ledger& ledger, const Context& ctx, const RotateKey& call) {
  if (call.new_key == ctx.sender.signing_key) {
    return Status::error(ErrorCode::kInvalidArgument, "the new key is the key already in use");
  }
  // Proof of possession: without it an account could take over a key it does not hold (one
  // named in a pending registration, say), which its owner could then never register.
  if (std::find(ctx.signers.begin(), ctx.signers.end(), call.new_key) == ctx.signers.end()) {
    return Status::error(ErrorCode::kBadSignature,
                         "the new key " + call.new_key.short_hex() +
                             " must co-sign its rotation (proof that the account holds it)");
  }
  // The account's own address may come back as its signing key; any other key must be unused.
  if (call.new_key != ctx.sender.key) CARBON_RETURN_IF_ERROR(check_new_key(ledger, call.new_key));
  if (ctx.sender.signing_key != ctx.sender.key) ledger.erase(keys::signing_key(ctx.sender.signing_key));
  Account updated = ctx.sender;
  updated.signing_key = call.new_key;
  ledger.put_account(updated);
  if (call.new_key != ctx.sender.key) ledger.put(keys::signing_key(call.new_key), ctx.sender.key);
  return Status::ok();
}

}  // namespace carbon::contracts
