#include "core/calendar.h"

#include "core/assert.h"

namespace carbon::core {

bool is_civil_date(int year, unsigned month, unsigned day) {
  static constexpr unsigned kDaysInMonth[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (month < 1 || month > 12 || day < 1) return false;
  return day <= kDaysInMonth[month - 1] + (month == 2 && is_leap_year(year) ? 1u : 0u);
}

std::uint64_t utc_ms_from_civil(int year, unsigned month, unsigned day) {
  // Days from 1970-01-01 to a civil date (H. Hinnant's days_from_civil), integers only.
  const int y = year - (month <= 2 ? 1 : 0);
  const int era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned shifted_month = month > 2 ? month - 3 : month + 9;  // March = 0
  const unsigned doy = (153 * shifted_month + 2) / 5 + day - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  const long long days = static_cast<long long>(era) * 146097 + static_cast<long long>(doe) - 719468;
  CARBON_ASSERT(days >= 0);
  return static_cast<std::uint64_t>(days) * kMsPerDay;
}

}  // namespace carbon::core
