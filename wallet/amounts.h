// Exact parsing and printing of the amounts people type and read at the wallet: yuan with at
// most two decimals (to integer fen, no floating point), percentages to basis points, numbers
// with thousands separators, and the exchange's trading sessions ("09:30-11:30,13:00-15:00").
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace carbon::wallet {

// "1000.5" -> 100050, "20" -> 2000, "0.05" -> 5: a number with at most two decimals, in
// hundredths (fen of a yuan amount, basis points of a percentage). nullopt for anything else
// (signs, spaces, separators, exponents, three decimals, a bare ".") or beyond 2^64 - 1.
std::optional<std::uint64_t> parse_fixed2(const std::string& text);
// "42" -> 42, "007" -> 7: decimal digits only (no sign, spaces, "0x" or exponent), at most
// 2^64 - 1; nullopt for anything else.
std::optional<std::uint64_t> parse_whole(const std::string& text);
// A time as the wallet's options take it, in ms since the Unix epoch: "2026-02-28T15:59:59Z"
// (ISO-8601 UTC, exactly this shape, a real calendar date, seconds 00-59), epoch milliseconds
// ("1772294399000"), or an offset from `now_ms` ("+90s", "+5m", "+2h", "+1d"). nullopt for
// anything else: a sign inside the offset, a date that does not exist (2026-02-31), trailing
// text, or a result beyond 2^64 - 1 ms.
std::optional<std::uint64_t> parse_time_ms(const std::string& text, std::uint64_t now_ms);
// 1234567 -> "1,234,567"
std::string grouped(std::uint64_t value);
// 123456789 fen -> "1,234,567.89"
std::string yuan_grouped(std::uint64_t fen);
// 1050 bp -> "10.50 %"
std::string percent_text(std::uint64_t bp);
// "HH:MM-HH:MM[,HH:MM-HH:MM...]" -> [start, end) minutes after midnight (24:00 = 1440 allowed);
// nullopt if malformed. Order and overlap are the contracts' check (validate_market_params).
std::optional<std::vector<std::pair<std::uint32_t, std::uint32_t>>> parse_sessions(
    const std::string& text);
// 570 -> "09:30"
std::string clock_text(std::uint32_t minutes);

}  // namespace carbon::wallet
