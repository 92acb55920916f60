#include "contracts/ledger.h"

#include <algorithm>

#include "core/checked_math.h"
#include "core/codec.h"

namespace carbon::contracts {

namespace keys {
std::string hex16(std::uint64_t value) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (std::size_t i = 0; i < 16; ++i) out[15 - i] = kDigits[(value >> (4 * i)) & 0x0F];
  return out;
}
std::string account(const PublicKey& key) { return "acct/" + key.to_hex(); }
std::string product(const ProductId& product) { return "prod/" + product.code(); }
std::string balance(const PublicKey& owner, const ProductId& product) {
  return "bal/" + owner.to_hex() + "/" + product.code();
}
std::string holdings_prefix(const PublicKey& owner, const ProductId& product) {
  return "hold/" + owner.to_hex() + "/" + product.code() + "/";
}
std::string holding(const PublicKey& owner, const ProductId& product, std::uint64_t start) {
  return holdings_prefix(owner, product) + hex16(start);
}
std::string holding_end(const PublicKey& owner, const ProductId& product, std::uint64_t end) {
  return "hend/" + owner.to_hex() + "/" + product.code() + "/" + hex16(end);
}
}  // namespace keys

namespace {

// Ranges read per store scan while a transfer walks the sender's holdings: the first page is
// small because most transfers are served by the sender's lowest range; pages then double.
constexpr std::size_t kTransferFirstPageRanges = 2;
constexpr std::size_t kTransferPageRanges = 16;

template <class T>
Result<std::optional<T>> read_record(const StateStore& store, const std::string& key) {
  const auto bytes = store.get(key);
  if (!bytes) return std::optional<T>{};
  auto decoded = core::codec::decode<T>(*bytes);
  if (!decoded) {
    return Status::error(ErrorCode::kInternal,
                         "corrupt state record at " + key + ": " + decoded.status().message());
  }
  return std::optional<T>(std::move(*decoded));
}

template <class T>
void write_record(StateStore& store, const std::string& key, const T& value) {
  store.put(key, core::codec::encode(value));
}

Status unauthorized(std::string_view what) {
  return Status::error(ErrorCode::kUnauthorized, "only the authority may " + std::string(what));
}

std::string tonnes(std::uint64_t quantity_t) { return std::to_string(quantity_t) + " t"; }

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

}  // namespace

StateStore& Ledger::writer() {
  CARBON_ASSERT_MSG(writer_ != nullptr, "write through a read-only Ledger");
  return *writer_;
}

Result<std::optional<ChainMeta>> Ledger::chain_meta() const {
  return read_record<ChainMeta>(reader_, std::string(keys::kChainMeta));
}
void Ledger::put_chain_meta(const ChainMeta& meta) {
  write_record(writer(), std::string(keys::kChainMeta), meta);
}

Result<std::optional<Account>> Ledger::account(const PublicKey& key) const {
  return read_record<Account>(reader_, keys::account(key));
}
void Ledger::put_account(const Account& account) {
  write_record(writer(), keys::account(account.key), account);
}

Result<std::optional<ProductState>> Ledger::product(const ProductId& product) const {
  return read_record<ProductState>(reader_, keys::product(product));
}
void Ledger::put_product(const ProductState& state) {
  write_record(writer(), keys::product(state.product), state);
}

Result<std::uint64_t> Ledger::balance(const PublicKey& owner, const ProductId& product) const {
  auto value = read_record<std::uint64_t>(reader_, keys::balance(owner, product));
  if (!value) return value.status();
  return value->value_or(0);
}

Result<std::vector<std::pair<ProductId, std::uint64_t>>> Ledger::balances(const PublicKey& owner,
                                                                          std::size_t limit) const {
  const std::string prefix = "bal/" + owner.to_hex() + "/";
  std::vector<std::pair<ProductId, std::uint64_t>> out;
  for (const auto& [key, bytes] : reader_.scan(prefix, "", limit)) {
    auto product = ProductId::from_code(std::string_view(key).substr(prefix.size()));
    auto quantity = core::codec::decode<std::uint64_t>(bytes);
    if (!product || !quantity) {
      return Status::error(ErrorCode::kInternal, "corrupt balance record at " + key);
    }
    out.emplace_back(*product, *quantity);
  }
  return out;
}

void Ledger::put_balance(const PublicKey& owner, const ProductId& product,
                         std::uint64_t quantity_t) {
  if (quantity_t == 0) {
    writer().erase(keys::balance(owner, product));
  } else {
    write_record(writer(), keys::balance(owner, product), quantity_t);
  }
}

Result<std::vector<SerialRange>> Ledger::holdings(const PublicKey& owner, const ProductId& product,
                                                  std::uint64_t from_serial,
                                                  std::size_t limit) const {
  const std::string prefix = keys::holdings_prefix(owner, product);
  std::vector<SerialRange> out;
  for (const auto& [key, bytes] : reader_.scan(prefix, prefix + keys::hex16(from_serial), limit)) {
    auto range = core::codec::decode<SerialRange>(bytes);
    if (!range || range->start >= range->end || key != prefix + keys::hex16(range->start)) {
      return Status::error(ErrorCode::kInternal, "corrupt holding record at " + key);
    }
    out.push_back(*range);
  }
  return out;
}

void Ledger::put_range(const PublicKey& owner, const ProductId& product, const SerialRange& range) {
  write_record(writer(), keys::holding(owner, product, range.start), range);
  write_record(writer(), keys::holding_end(owner, product, range.end), range.start);
}

void Ledger::erase_range(const PublicKey& owner, const ProductId& product,
                         const SerialRange& range) {
  writer().erase(keys::holding(owner, product, range.start));
  writer().erase(keys::holding_end(owner, product, range.end));
}

Status Ledger::add_range(const PublicKey& owner, const ProductId& product, SerialRange range) {
  CARBON_ASSERT(range.start < range.end);
  // The range ending exactly where this one starts.
  auto below_start =
      read_record<std::uint64_t>(reader_, keys::holding_end(owner, product, range.start));
  if (!below_start) return below_start.status();
  if (*below_start) {
    erase_range(owner, product, SerialRange{**below_start, range.start});
    range.start = **below_start;
  }
  // The range starting exactly where this one ends.
  auto above = read_record<SerialRange>(reader_, keys::holding(owner, product, range.end));
  if (!above) return above.status();
  if (*above) {
    erase_range(owner, product, **above);
    range.end = (*above)->end;
  }
  put_range(owner, product, range);
  return Status::ok();
}

void write_genesis(StateStore& store, const std::string& chain_id, const PublicKey& authority,
                   const std::string& authority_name) {
  Ledger ledger(store);
  ledger.put_chain_meta(ChainMeta{chain_id, authority});
  Account account;
  account.key = authority;
  account.name = authority_name;
  account.role = Role::kAuthority;
  ledger.put_account(account);
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

Status apply(Ledger& ledger, const Account& sender, const RegisterParticipant& call) {
  if (sender.role != Role::kAuthority) return unauthorized("register participants");
  if (!core::is_valid_public_key(call.key)) {
    return Status::error(ErrorCode::kInvalidArgument, "participant key " + call.key.to_hex() +
                                                          " is not a valid Ed25519 public key");
  }
  if (call.name.empty())
    return Status::error(ErrorCode::kInvalidArgument, "participant name must not be empty");
  if (call.role == Role::kAuthority) {
    return Status::error(
        ErrorCode::kInvalidArgument,
        "the authority role is set at genesis and cannot be granted by registration");
  }
  auto existing = ledger.account(call.key);
  if (!existing) return existing.status();
  if (*existing) {
    return Status::error(ErrorCode::kConflict, "participant " + call.key.short_hex() +
                                                   " is already registered as " +
                                                   (*existing)->name + " (" +
                                                   std::string(role_name((*existing)->role)) + ")");
  }
  Account account;
  account.key = call.key;
  account.name = call.name;
  account.role = call.role;
  ledger.put_account(account);
  return Status::ok();
}

Status apply(Ledger& ledger, const Account& sender, const IssueAllowances& call) {
  if (sender.role != Role::kAuthority) return unauthorized("issue allowances");
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  if (call.vintage_year < kMinVintageYear || call.vintage_year > kMaxVintageYear) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "vintage year " + std::to_string(call.vintage_year) + " is outside " +
                             std::to_string(kMinVintageYear) + ".." +
                             std::to_string(kMaxVintageYear));
  }
  const ProductId product = ProductId::allowance(call.vintage_year);
  auto recipient = holder(ledger, call.to, product.kind);
  if (!recipient) return recipient.status();

  auto existing = ledger.product(product);
  if (!existing) return existing.status();
  ProductState state = existing->value_or(ProductState{product, 0, 0, 1});
  const SerialRange range{state.next_serial, 0};
  auto end = core::checked_add(range.start, call.quantity_t);
  if (!end) return end.status();
  auto issued = core::checked_add(state.issued_t, call.quantity_t);
  if (!issued) return issued.status();
  auto balance = ledger.balance(call.to, product);
  if (!balance) return balance.status();
  auto new_balance = core::checked_add(*balance, call.quantity_t);
  if (!new_balance) return new_balance.status();

  state.next_serial = *end;
  state.issued_t = *issued;
  ledger.put_product(state);
  CARBON_RETURN_IF_ERROR(ledger.add_range(call.to, product, SerialRange{range.start, *end}));
  ledger.put_balance(call.to, product, *new_balance);
  return Status::ok();
}

Status apply(Ledger& ledger, const Account& sender, const TransferUnits& call) {
  CARBON_RETURN_IF_ERROR(check_quantity(call.quantity_t));
  if (sender.frozen) {
    return Status::error(
        ErrorCode::kConflict,
        "account " + sender.name + " is frozen by the authority and cannot transfer");
  }
  if (call.to == sender.key)
    return Status::error(ErrorCode::kInvalidArgument, "cannot transfer units to yourself");
  const ProductId& product = call.product;
  if (product.kind == ProductKind::kAllowance && product.project_id != 0) {
    return Status::error(ErrorCode::kInvalidArgument, "an allowance product has no project id");
  }
  auto recipient = holder(ledger, call.to, product.kind);
  if (!recipient) return recipient.status();

  auto held = ledger.balance(sender.key, product);
  if (!held) return held.status();
  if (*held < call.quantity_t) {
    return Status::error(ErrorCode::kConflict, "not enough units: holds " + tonnes(*held) + " of " +
                                                   product.code() + ", transfer needs " +
                                                   tonnes(call.quantity_t));
  }
  // Lowest serials first, read in small pages so that a large holding costs only what the
  // transfer consumes. The sender's ranges never touch, so a later range starts above the
  // end of the one before it.
  std::uint64_t remaining = call.quantity_t;
  std::uint64_t from_serial = 0;
  std::size_t consumed = 0;
  std::size_t page_ranges = kTransferFirstPageRanges;
  while (remaining > 0 && consumed < kMaxRangesPerTransfer) {
    const std::size_t page_size = std::min(page_ranges, kMaxRangesPerTransfer - consumed);
    page_ranges = std::min(page_ranges * 2, kTransferPageRanges);
    auto page = ledger.holdings(sender.key, product, from_serial, page_size);
    if (!page) return page.status();
    if (page->empty()) break;
    for (const SerialRange& range : *page) {
      const std::uint64_t take = std::min(range.size(), remaining);
      ledger.erase_range(sender.key, product, range);
      if (take < range.size()) {
        // Split: the sender keeps the upper part, which touches none of its other ranges.
        CARBON_RETURN_IF_ERROR(
            ledger.add_range(sender.key, product, SerialRange{range.start + take, range.end}));
      }
      CARBON_RETURN_IF_ERROR(
          ledger.add_range(call.to, product, SerialRange{range.start, range.start + take}));
      remaining -= take;
      ++consumed;
      from_serial = range.end;
      if (remaining == 0) break;
    }
  }
  if (remaining > 0) {
    if (consumed == kMaxRangesPerTransfer) {
      return Status::error(ErrorCode::kOutOfBounds,
                           "holdings of " + product.code() + " are split into more than " +
                               std::to_string(kMaxRangesPerTransfer) +
                               " serial ranges; transfer at most " +
                               tonnes(call.quantity_t - remaining) + " per transaction");
    }
    return Status::error(ErrorCode::kInternal,
                         "balance of " + product.code() + " exceeds the serial ranges held");
  }
  auto received = ledger.balance(call.to, product);
  if (!received) return received.status();
  auto new_received = core::checked_add(*received, call.quantity_t);
  if (!new_received) return new_received.status();
  ledger.put_balance(sender.key, product, *held - call.quantity_t);
  ledger.put_balance(call.to, product, *new_received);
  return Status::ok();
}

Status apply(Ledger& ledger, const Account& sender, const SetFrozen& call) {
  if (sender.role != Role::kAuthority)
    return unauthorized(call.frozen ? "freeze accounts" : "unfreeze accounts");
  auto target = ledger.account(call.account);
  if (!target) return target.status();
  if (!*target)
    return Status::error(ErrorCode::kNotFound, "unknown account " + call.account.to_hex());
  if ((*target)->role == Role::kAuthority) {
    return Status::error(ErrorCode::kInvalidArgument, "the authority's account cannot be frozen");
  }
  Account updated = **target;
  updated.frozen = call.frozen;
  ledger.put_account(updated);
  return Status::ok();
}

}  // namespace

Status apply_call(StateStore& store, const PublicKey& sender, const Call& call) {
  Ledger ledger(store);
  auto account = ledger.account(sender);
  if (!account) return account.status();
  if (!*account) return Status::error(ErrorCode::kNotFound, "unknown sender " + sender.to_hex());
  const Account sender_account = **account;
  return std::visit([&](const auto& c) { return apply(ledger, sender_account, c); }, call);
}

}  // namespace carbon::contracts
