#include "contracts/queries.h"

#include <algorithm>

#include "contracts/ledger_internal.h"

namespace carbon::contracts::queries {

namespace {

std::size_t clamp_limit(std::size_t limit) {
  return std::clamp<std::size_t>(limit, 1, kMaxQueryLimit);
}

Status corrupt(const std::string& key, const Status& why) {
  return Status::error(ErrorCode::kInternal, "corrupt state record at " + key + ": " + why.message());
}

// Decodes up to `limit` records under `prefix` from `start`, one store page at a time; sets
// `more` when another record follows.
template <class T>
Result<Page<T>> scan_records(const Ledger& ledger, const std::string& prefix, std::string start,
                             std::size_t limit) {
  limit = clamp_limit(limit);
  Page<T> page;
  while (true) {
    const std::size_t want = std::min(kScanPage, limit - page.items.size() + 1);
    const auto entries = ledger.scan(prefix, start, want);
    for (const auto& [key, bytes] : entries) {
      if (page.items.size() == limit) {
        page.more = true;
        return page;
      }
      auto decoded = core::codec::decode<T>(bytes);
      if (!decoded) return corrupt(key, decoded.status());
      page.items.push_back(std::move(*decoded));
    }
    if (entries.size() < want) return page;
    start = key_successor(entries.back().first);
  }
}

std::string product_prefix(std::string_view kind, const ProductId& product) {
  return std::string(kind) + "/" + product.code() + "/";
}

}  // namespace

std::string_view proposal_state_name(ProposalState state) {
  switch (state) {
    case ProposalState::kOpen: return "open";
    case ProposalState::kExecuted: return "executed";
    case ProposalState::kExpired: return "expired";
  }
  return "unknown";
}

Result<Clock> clock(const Ledger& ledger) {
  auto stored = ledger.get<Clock>(std::string(keys::kClock));
  if (!stored) return stored.status();
  return stored->value_or(Clock{});
}

Result<Page<Account>> participants(const Ledger& ledger, std::size_t limit,
                                   const std::optional<PublicKey>& after) {
  const std::string start = after ? key_successor(keys::account(*after)) : std::string();
  return scan_records<Account>(ledger, "acct/", start, limit);
}

Result<OfficerSet> officers(const Ledger& ledger) {
  auto set = ledger.get<OfficerSet>(std::string(keys::kOfficers));
  if (!set) return set.status();
  if (!*set) return Status::error(ErrorCode::kInternal, "the officer set is missing from the state");
  return std::move(**set);
}

namespace {
ProposalView view_of(Proposal proposal, const Clock& now) {
  ProposalState state = ProposalState::kOpen;
  if (proposal.status == ProposalStatus::kExecuted) {
    state = ProposalState::kExecuted;
  } else if (now.time_ms > proposal.expires_ms) {
    state = ProposalState::kExpired;
  }
  return ProposalView{std::move(proposal), state};
}
}  // namespace

Result<ProposalView> proposal(const Ledger& ledger, std::uint64_t id) {
  auto now = clock(ledger);
  if (!now) return now.status();
  auto stored = ledger.get<Proposal>(keys::proposal(id));
  if (!stored) return stored.status();
  if (!*stored) return Status::error(ErrorCode::kNotFound, "no proposal " + std::to_string(id));
  return view_of(std::move(**stored), *now);
}

Result<Page<ProposalView>> proposals(const Ledger& ledger, std::size_t limit,
                                     std::uint64_t before_id) {
  limit = clamp_limit(limit);
  auto set = officers(ledger);
  if (!set) return set.status();
  auto now = clock(ledger);
  if (!now) return now.status();
  // Proposal ids are dense (1 .. next - 1): newest first is a walk down by point lookups.
  std::uint64_t id = set->next_proposal_id;
  if (before_id != 0 && before_id < id) id = before_id;
  Page<ProposalView> page;
  while (id > 1) {
    --id;
    if (page.items.size() == limit) {
      page.more = true;
      break;
    }
    auto stored = ledger.get<Proposal>(keys::proposal(id));
    if (!stored) return stored.status();
    if (!*stored) continue;  // a proposal whose act failed at once was never stored
    page.items.push_back(view_of(std::move(**stored), *now));
  }
  return page;
}

Result<RulesRecord> rules(const Ledger& ledger, std::uint16_t year) {
  CARBON_RETURN_IF_ERROR(check_year(year));
  return rules_in_force(ledger, year);
}

Result<Page<RulesRecord>> rules_history(const Ledger& ledger, std::uint16_t year,
                                        std::size_t limit) {
  CARBON_RETURN_IF_ERROR(check_year(year));
  return scan_records<RulesRecord>(ledger, "rulesv/" + keys::year(year) + "/", "", limit);
}

Result<std::optional<CapRecord>> cap(const Ledger& ledger, std::uint16_t year) {
  return ledger.get<CapRecord>(keys::cap(year));
}

Result<std::optional<AllocationRecord>> allocation(const Ledger& ledger, std::uint16_t year,
                                                   const PublicKey& enterprise) {
  return ledger.get<AllocationRecord>(keys::allocation(year, enterprise));
}

Result<EmissionView> emissions(const Ledger& ledger, std::uint16_t year,
                               const PublicKey& enterprise, std::size_t history_limit) {
  EmissionView view;
  auto record = ledger.get<EmissionRecord>(keys::emission(year, enterprise));
  if (!record) return record.status();
  view.record = std::move(*record);
  auto history = scan_records<MrvEvent>(
      ledger, "mrvh/" + keys::year(year) + "/" + enterprise.to_hex() + "/", "", history_limit);
  if (!history) return history.status();
  view.history = std::move(*history);
  return view;
}

Result<Page<Project>> projects(const Ledger& ledger, std::size_t limit) {
  return scan_records<Project>(ledger, "proj/", "", limit);
}

Result<Project> project(const Ledger& ledger, std::uint64_t id) {
  auto stored = ledger.get<Project>(keys::project(id));
  if (!stored) return stored.status();
  if (!*stored) return Status::error(ErrorCode::kNotFound, "no project " + std::to_string(id));
  return std::move(**stored);
}

Result<Page<IssuanceRecord>> issuances(const Ledger& ledger, const ProductId& product,
                                       std::size_t limit) {
  return scan_records<IssuanceRecord>(ledger, product_prefix("iss", product), "", limit);
}

Result<Page<Holding>> holdings(const Ledger& ledger, const PublicKey& owner, std::size_t limit) {
  limit = clamp_limit(limit);
  auto balances = ledger.balances(owner, limit + 1);
  if (!balances) return balances.status();
  Page<Holding> page;
  for (const auto& [product, quantity_t] : *balances) {
    if (page.items.size() == limit) {
      page.more = true;
      break;
    }
    Holding holding;
    holding.product = product;
    holding.quantity_t = quantity_t;
    auto ranges = ledger.holdings(owner, product, 0, kMaxRangesPerHolding + 1);
    if (!ranges) return ranges.status();
    holding.ranges = std::move(*ranges);
    if (holding.ranges.size() > kMaxRangesPerHolding) {
      holding.ranges.resize(kMaxRangesPerHolding);
      holding.more_ranges = true;
    }
    page.items.push_back(std::move(holding));
  }
  return page;
}

Result<Page<RetiredRange>> retired(const Ledger& ledger, const ProductId& product,
                                   std::size_t limit) {
  return scan_records<RetiredRange>(ledger, product_prefix("ret", product), "", limit);
}

namespace {

// The record under `prefix` (keyed by range start) whose range contains `serial`: the last
// one starting at or below it. The store scans forward only, so this walks the records in
// pages up to the first start above `serial`, at most kMaxTraceMoves of them.
template <class T>
Result<std::optional<T>> containing_range(const Ledger& ledger, const std::string& prefix,
                                          std::uint64_t serial) {
  std::optional<T> best;
  std::string start;
  std::size_t seen = 0;
  const std::string stop = prefix + keys::hex16(serial);
  while (seen < kMaxTraceMoves) {
    const auto entries = ledger.scan(prefix, start, kScanPage);
    for (const auto& [key, bytes] : entries) {
      if (key > stop) return best;
      auto decoded = core::codec::decode<T>(bytes);
      if (!decoded) return corrupt(key, decoded.status());
      if (decoded->range.start <= serial && serial < decoded->range.end) {
        best = std::move(*decoded);
      } else {
        best.reset();
      }
    }
    seen += entries.size();
    if (entries.size() < kScanPage) break;
    start = key_successor(entries.back().first);
  }
  return best;
}

}  // namespace

Result<Trace> trace(const Ledger& ledger, const ProductId& product, std::uint64_t serial) {
  auto state = ledger.product(product);
  if (!state) return state.status();
  if (!*state || serial == 0 || serial >= (*state)->next_serial) {
    return Status::error(ErrorCode::kNotFound, "serial " + std::to_string(serial) + " of " +
                                                   product.code() + " was never issued");
  }
  Trace trace;
  trace.product = product;
  trace.serial = serial;
  auto issuance = containing_range<IssuanceRecord>(ledger, product_prefix("iss", product), serial);
  if (!issuance) return issuance.status();
  if (!*issuance) {
    return Status::error(ErrorCode::kInternal, "no issuance record holds serial " +
                                                   std::to_string(serial) + " of " + product.code());
  }
  trace.issuance = std::move(**issuance);

  // Transfers, in order; every record is read (a range's moves are not indexed by serial).
  const std::string moves_prefix = product_prefix("mv", product);
  std::string start;
  std::size_t scanned = 0;
  while (true) {
    const std::size_t budget = kMaxTraceMoves - scanned;
    if (budget == 0) {
      trace.moves_truncated = !ledger.scan(moves_prefix, start, 1).empty();
      break;
    }
    const std::size_t want = std::min(kScanPage, budget);
    const auto entries = ledger.scan(moves_prefix, start, want);
    for (const auto& [key, bytes] : entries) {
      auto move = core::codec::decode<MoveRecord>(bytes);
      if (!move) return corrupt(key, move.status());
      if (move->range.start <= serial && serial < move->range.end) trace.moves.push_back(*move);
    }
    scanned += entries.size();
    if (entries.size() < want) break;
    start = key_successor(entries.back().first);
  }

  // Retired, or held by whoever received it last (the issuance's recipient if it never moved),
  // confirmed against that holder's ranges: the first one ending above the serial holds it if
  // it starts at or below it.
  auto retirement = containing_range<RetiredRange>(ledger, product_prefix("ret", product), serial);
  if (!retirement) return retirement.status();
  if (*retirement) {
    trace.retirement = std::move(**retirement);
    return trace;
  }
  const PublicKey candidate = trace.moves.empty() ? trace.issuance.to : trace.moves.back().to;
  auto held = ledger.holdings(candidate, product, serial, 1);
  if (!held) return held.status();
  if (!held->empty() && held->front().start <= serial) {
    trace.held_range = held->front();
    trace.holder = Holder{candidate, held->front().start};
    return trace;
  }
  if (trace.moves_truncated) {
    return Status::error(ErrorCode::kOutOfBounds,
                         "serial " + std::to_string(serial) + " of " + product.code() + " moved more than " +
                             std::to_string(kMaxTraceMoves) + " times; its holder is past the trace's bound");
  }
  return Status::error(ErrorCode::kInternal, "serial " + std::to_string(serial) + " of " + product.code() +
                                                 " is neither held nor retired");
}

Result<Page<ComplianceRow>> compliance_rows(const Ledger& ledger, std::uint16_t year,
                                            std::size_t limit) {
  CARBON_RETURN_IF_ERROR(check_year(year));
  return scan_records<ComplianceRow>(ledger, "ctab/" + keys::year(year) + "/", "", limit);
}

Result<std::optional<YearClosed>> year_closed(const Ledger& ledger, std::uint16_t year) {
  return ledger.get<YearClosed>(keys::year_closed(year));
}

Result<SurrenderTotals> surrendered(const Ledger& ledger, std::uint16_t year,
                                    const PublicKey& enterprise) {
  auto stored = ledger.get<SurrenderTotals>(keys::surrendered(year, enterprise));
  if (!stored) return stored.status();
  return stored->value_or(SurrenderTotals{});
}

}  // namespace carbon::contracts::queries
