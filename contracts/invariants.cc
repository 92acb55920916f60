#include "contracts/invariants.h"

#include <algorithm>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "contracts/ledger.h"
#include "contracts/ledger_internal.h"
#include "core/checked_math.h"
#include "core/codec.h"

namespace carbon::contracts {

namespace {

using core::ErrorCode;
using core::Status;

Status violation(const std::string& text) {
  return Status::error(ErrorCode::kInternal, "invariant: " + text);
}

// Visits every entry under prefix in key order, page by page; stops at the first error.
Status for_each(const StateStore& store, std::string_view prefix,
                const std::function<Status(const std::string&, const Bytes&)>& visit) {
  std::string start;
  for (;;) {
    const auto page = store.scan(prefix, start, kScanPageSize);
    for (const auto& [key, value] : page) CARBON_RETURN_IF_ERROR(visit(key, value));
    if (page.size() < kScanPageSize) return Status::ok();
    start = key_successor(page.back().first);
  }
}

std::vector<std::string> split(const std::string& text, char separator) {
  std::vector<std::string> parts;
  std::string current;
  for (char c : text) {
    if (c == separator) {
      parts.push_back(current);
      current.clear();
    } else {
      current.push_back(c);
    }
  }
  parts.push_back(current);
  return parts;
}

struct HeldRange {
  SerialRange range;
  std::string owner;
};

}  // namespace

Status check_invariants(const StateStore& store) {
  const Ledger ledger(store);
  std::map<std::string, ProductState> products;  // by code
  CARBON_RETURN_IF_ERROR(for_each(store, "prod/", [&](const std::string& key, const Bytes& value) {
    auto state = core::codec::decode<ProductState>(value);
    if (!state) return violation("undecodable product record " + key);
    if (key != keys::product(state->product))
      return violation("product record under the wrong key " + key);
    products.emplace(state->product.code(), *state);
    return Status::ok();
  }));

  std::map<std::string, std::vector<HeldRange>> ranges_by_product;    // code -> ranges
  std::map<std::pair<std::string, std::string>, std::uint64_t> sums;  // (owner, code) -> t
  CARBON_RETURN_IF_ERROR(for_each(store, "hold/", [&](const std::string& key, const Bytes& value) {
    const auto parts = split(key, '/');
    if (parts.size() != 4) return violation("malformed holding key " + key);
    const auto found = products.find(parts[2]);
    if (found == products.end()) return violation("holding of an unknown product: " + key);
    const ProductId& product = found->second.product;
    auto range = core::codec::decode<SerialRange>(value);
    if (!range) return violation("undecodable holding " + key);
    if (range->start >= range->end) return violation("empty or negative range at " + key);
    auto owner = PublicKey::from_hex(parts[1]);
    if (!owner) return violation("bad owner in " + key);
    if (key != keys::holding(*owner, product, range->start))
      return violation("range under the wrong key " + key);
    const auto index = store.get(keys::holding_end(*owner, product, range->end));
    auto index_start = index ? core::codec::decode<std::uint64_t>(*index)
                             : Status::error(ErrorCode::kNotFound, "");
    if (!index_start || *index_start != range->start)
      return violation("missing or wrong end index for " + key);
    auto account = ledger.account(*owner);
    if (!account || !*account) return violation("holder is not a registered participant: " + key);
    if (!role_may_hold((*account)->role, product.kind))
      return violation("holder's role may not hold: " + key);
    ranges_by_product[parts[2]].push_back(HeldRange{*range, parts[1]});
    auto& sum = sums[{parts[1], parts[2]}];
    auto added = core::checked_add(sum, range->size());
    if (!added) return violation("holding sum overflows at " + key);
    sum = *added;
    return Status::ok();
  }));

  // Retired ranges: surrendered, cancelled or withdrawn, each once.
  std::map<std::string, std::uint64_t> surrendered_by_product;
  std::map<std::string, std::uint64_t> cancelled_by_product;
  CARBON_RETURN_IF_ERROR(for_each(store, "ret/", [&](const std::string& key, const Bytes& value) {
    auto retired = core::codec::decode<RetiredRange>(value);
    if (!retired) return violation("undecodable retired range " + key);
    if (retired->range.start >= retired->range.end) return violation("empty retired range " + key);
    if (key != keys::retired(retired->product, retired->range.start))
      return violation("retired range under the wrong key " + key);
    const std::string code = retired->product.code();
    if (products.find(code) == products.end()) return violation("retired range of an unknown product " + key);
    ranges_by_product[code].push_back(HeldRange{retired->range, "retired"});
    auto& total = retired->kind == RetirementKind::kSurrendered ? surrendered_by_product[code]
                                                                 : cancelled_by_product[code];
    total += retired->range.size();  // bounded by next_serial, checked below
    return Status::ok();
  }));

  std::size_t end_index_count = 0;
  CARBON_RETURN_IF_ERROR(for_each(store, "hend/", [&](const std::string&, const Bytes&) {
    ++end_index_count;
    return Status::ok();
  }));
  std::size_t range_count = 0;
  for (const auto& [code, ranges] : ranges_by_product) {
    for (const auto& range : ranges) range_count += range.owner == "retired" ? 0u : 1u;
  }
  if (end_index_count != range_count) {
    return violation(std::to_string(end_index_count) + " end-index entries for " +
                     std::to_string(range_count) + " ranges");
  }

  std::size_t balance_count = 0;
  CARBON_RETURN_IF_ERROR(for_each(store, "bal/", [&](const std::string& key, const Bytes& value) {
    const auto parts = split(key, '/');
    if (parts.size() != 3) return violation("malformed balance key " + key);
    auto balance = core::codec::decode<std::uint64_t>(value);
    if (!balance || *balance == 0) return violation("undecodable or zero balance at " + key);
    const auto sum = sums.find({parts[1], parts[2]});
    if (sum == sums.end() || sum->second != *balance) {
      return violation("balance " + std::to_string(*balance) + " at " + key +
                       " differs from its ranges' sum " +
                       std::to_string(sum == sums.end() ? 0 : sum->second));
    }
    ++balance_count;
    return Status::ok();
  }));
  if (balance_count != sums.size()) return violation("a holder has ranges but no balance record");

  for (const auto& [code, state] : products) {
    auto& ranges = ranges_by_product[code];
    std::sort(ranges.begin(), ranges.end(),
              [](const HeldRange& a, const HeldRange& b) { return a.range.start < b.range.start; });
    std::uint64_t held = 0;
    std::uint64_t expected = 1;  // held and retired ranges together tile [1, next_serial)
    for (std::size_t i = 0; i < ranges.size(); ++i) {
      if (ranges[i].range.start != expected) {
        return violation(code + (ranges[i].range.start < expected ? ": overlapping ranges at serial "
                                                                  : ": serial neither held nor retired: ") +
                         std::to_string(std::min(expected, ranges[i].range.start)));
      }
      expected = ranges[i].range.end;
      if (ranges[i].owner != "retired") held += ranges[i].range.size();  // bounded by next_serial
      if (i == 0) continue;
      const HeldRange& previous = ranges[i - 1];
      if (previous.range.end == ranges[i].range.start && previous.owner == ranges[i].owner &&
          previous.owner != "retired") {
        return violation(code + ": adjacent ranges of one holder not merged at serial " +
                         std::to_string(ranges[i].range.start));
      }
    }
    if (expected < state.next_serial) {
      return violation(code + ": serials " + std::to_string(expected) + ".. issued but neither held nor retired");
    }
    if (expected > state.next_serial) {
      return violation(code + ": serials " + std::to_string(state.next_serial) + ".. held but never issued");
    }
    if (surrendered_by_product[code] != state.surrendered_t || cancelled_by_product[code] != state.cancelled_t) {
      return violation(code + ": retired ranges (" + std::to_string(surrendered_by_product[code]) + " t surrendered, " +
                       std::to_string(cancelled_by_product[code]) + " t cancelled) differ from the product's totals");
    }
    auto accounted = core::checked_add(held, state.retired_t());
    if (!accounted || *accounted != state.issued_t) {
      return violation(code + ": issued " + std::to_string(state.issued_t) + " t != held " +
                       std::to_string(held) + " t + surrendered " + std::to_string(state.surrendered_t) +
                       " t + cancelled " + std::to_string(state.cancelled_t) + " t");
    }
    if (state.next_serial != state.issued_t + 1) {
      return violation(code + ": next serial " + std::to_string(state.next_serial) +
                       " after issuing " + std::to_string(state.issued_t) + " t");
    }
  }
  return Status::ok();
}

}  // namespace carbon::contracts
