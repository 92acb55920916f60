// Civil (proleptic Gregorian) dates and milliseconds since 1970-01-01 UTC, in integers only:
// the contracts' deadlines and the wallet's time options share them.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>

namespace carbon::core {

inline constexpr std::uint64_t kMsPerDay = 86'400'000ULL;

inline bool is_leap_year(int year) { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0; }

// Whether year-month-day names a day of the calendar (2026-02-31 does not).
bool is_civil_date(int year, unsigned month, unsigned day);

// Milliseconds since the epoch of 00:00 UTC on a civil date on or after 1970-01-01.
std::uint64_t utc_ms_from_civil(int year, unsigned month, unsigned day);

}  // namespace carbon::core
