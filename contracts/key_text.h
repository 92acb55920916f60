// Building state keys (contracts/ledger.h, keys::) in one allocation.
//
// Why: the contracts build several keys per transaction ("hold/<owner hex>/<product>/<end>"),
// and a key built with operator+ from to_hex(), code() and hex16() temporaries allocated each
// piece and the growing result again: a fifth of a transfer's execution, measured with
// tests/bench/executor_bench. join() sizes the key first and writes every piece in place; the
// text is byte for byte what the operator+ form gave, so keys, roots and stored data are
// unchanged.
//
// Private to contracts/ (included by its .cc files only).
#pragma once

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include "contracts/basics.h"
#include "core/bytes.h"
#include "core/hash.h"
#include "core/keys.h"

namespace carbon::contracts::keys {

// Fixed-width lower-case hex pieces, so that key order is numeric order.
struct Hex16 {
  std::uint64_t value;
};
struct Hex8 {
  std::uint32_t value;
};
struct Hex4 {  // a year
  std::uint16_t value;
};

namespace key_text {

inline constexpr char kHexDigits[] = "0123456789abcdef";
// Longest product code: "CCER-" + 20 digits + "-" + 5 digits.
inline constexpr std::size_t kMaxProductCodeBytes = 31;

template <std::size_t Digits>
inline void append_fixed_hex(std::string& out, std::uint64_t value) {
  char text[Digits];
  for (std::size_t i = 0; i < Digits; ++i) text[Digits - 1 - i] = kHexDigits[(value >> (4 * i)) & 0x0F];
  out.append(text, Digits);
}

inline void append_decimal(std::string& out, std::uint64_t value) {
  char text[20];
  const auto end = std::to_chars(text, text + sizeof(text), value).ptr;
  out.append(text, static_cast<std::size_t>(end - text));
}

inline std::size_t size_bound(std::string_view text) { return text.size(); }
inline std::size_t size_bound(const core::PublicKey&) { return 64; }
inline std::size_t size_bound(const core::Hash256&) { return 64; }
inline std::size_t size_bound(const ProductId&) { return kMaxProductCodeBytes; }
inline std::size_t size_bound(Hex16) { return 16; }
inline std::size_t size_bound(Hex8) { return 8; }
inline std::size_t size_bound(Hex4) { return 4; }

inline void append(std::string& out, std::string_view text) { out.append(text); }
inline void append(std::string& out, const core::PublicKey& key) { core::append_hex(out, key.bytes); }
inline void append(std::string& out, const core::Hash256& hash) { core::append_hex(out, hash.bytes); }
// As ProductId::code() writes it.
inline void append(std::string& out, const ProductId& product) {
  if (product.kind == ProductKind::kAllowance) {
    out.append("HBEA-");
  } else {
    out.append("CCER-");
    append_decimal(out, product.project_id);
    out.push_back('-');
  }
  append_decimal(out, product.vintage_year);
}
inline void append(std::string& out, Hex16 piece) { append_fixed_hex<16>(out, piece.value); }
inline void append(std::string& out, Hex8 piece) { append_fixed_hex<8>(out, piece.value); }
inline void append(std::string& out, Hex4 piece) { append_fixed_hex<4>(out, piece.value); }

}  // namespace key_text

// The pieces' text, concatenated: string views as they are, keys and hashes as 64 hex digits,
// products as their code, HexN as N hex digits.
template <class... Pieces>
std::string join(const Pieces&... pieces) {
  std::string out;
  out.reserve((key_text::size_bound(pieces) + ...));
  (key_text::append(out, pieces), ...);
  return out;
}

}  // namespace carbon::contracts::keys
