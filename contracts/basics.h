// The vocabulary shared by transactions, records and rules: encoding helpers for enums and
// flags, the roles of RULES.md and product ids.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "contracts/limits.h"
#include "core/bytes.h"
#include "core/codec_fields.h"
#include "core/hash.h"
#include "core/keys.h"
#include "core/status.h"

namespace carbon::contracts {

using core::Bytes;
using core::ByteView;
using core::ErrorCode;
using core::Hash256;
using core::PublicKey;
using core::Result;
using core::Signature;
using core::Status;
using Height = std::uint64_t;

// 100% in basis points (shares, fees and bands are in bp).
inline constexpr std::uint32_t kBasisPoints = 10'000;

// An enum carried as one byte; values above kMax are refused when decoding.
template <class Archive, class E, E kMax>
void enum_field(Archive& archive, E& value) {
  if constexpr (core::codec::kIsLoading<Archive>) {
    std::uint8_t raw = 0;
    archive(raw);
    if (raw > static_cast<std::uint8_t>(kMax)) {
      core::codec::throw_decode_error("enum value " + std::to_string(raw) + " out of range");
    }
    value = static_cast<E>(raw);
  } else {
    archive(static_cast<std::uint8_t>(value));
  }
}

// A flag carried as one byte that must be 0 or 1 (a bare bool would accept any byte).
template <class Archive>
void flag_field(Archive& archive, std::uint8_t& flag) {
  archive(flag);
  if constexpr (core::codec::kIsLoading<Archive>) {
    if (flag > 1)
      core::codec::throw_decode_error("flag " + std::to_string(flag) + " is neither 0 nor 1");
  }
}

// The roles of RULES.md, "Who takes part". Values are part of the encoding: append only.
enum class Role : std::uint8_t {
  kAuthority = 0,
  kRegistryOperator = 1,
  kExchange = 2,
  kSettlementBank = 3,
  kVerifier = 4,
  kCoveredEnterprise = 5,
  kReportingEnterprise = 6,
  kReserve = 7,
  kVoluntary = 8,
  kProjectOwner = 9,
};
inline constexpr Role kMaxRole = Role::kProjectOwner;
std::string_view role_name(Role role);

enum class ProductKind : std::uint8_t {
  kAllowance = 0,  // HBEA, per compliance year (vintage)
  kCcer = 1,       // per project and vintage (not issuable yet)
};
inline constexpr ProductKind kMaxProductKind = ProductKind::kCcer;

// Whether a participant of this role may hold units of this kind (RULES.md: covered
// enterprises, the reserve and voluntary participants hold allowances and CCERs; project
// owners receive CCER issuance).
bool role_may_hold(Role role, ProductKind kind);

// One fungible product. Allowances have project_id 0.
struct ProductId {
  ProductKind kind = ProductKind::kAllowance;
  std::uint16_t vintage_year = 0;
  std::uint64_t project_id = 0;

  auto operator<=>(const ProductId&) const = default;
  // "HBEA-2025" or "CCER-<project>-2025": the display name, also used in state keys.
  std::string code() const;
  // The inverse of code(): "HBEA-<year>" or "CCER-<project>-<year>", decimal without leading
  // zeros (so each product has exactly one code).
  static Result<ProductId> from_code(std::string_view code);
  static ProductId allowance(std::uint16_t vintage_year) {
    return ProductId{ProductKind::kAllowance, vintage_year, 0};
  }

  template <class A>
  void serialize(A& archive) {
    enum_field<A, ProductKind, kMaxProductKind>(archive, kind);
    archive(vintage_year, project_id);
    if constexpr (core::codec::kIsLoading<A>) {
      // One product, one id: code() (and so every state key) leaves an allowance's project out,
      // so {allowance, 2025, 1} would reach HBEA-2025's records while comparing unequal to
      // {allowance, 2025, 0} everywhere ids are compared (the exchange's books among them).
      if (kind == ProductKind::kAllowance && project_id != 0) {
        core::codec::throw_decode_error("an allowance (HBEA) product has no project id, got " + std::to_string(project_id));
      }
    }
  }
};

// Serials [start, end), start < end.
struct SerialRange {
  std::uint64_t start = 0;
  std::uint64_t end = 0;
  std::uint64_t size() const { return end - start; }
  friend bool operator==(const SerialRange&, const SerialRange&) = default;
  template <class A>
  void serialize(A& archive) {
    archive(start, end);
  }
};

}  // namespace carbon::contracts
