#include "wallet/amounts.h"

#include <charconv>
#include <cstdio>
#include <limits>
#include <sstream>
#include <string_view>

#include "core/calendar.h"
#include "core/checked_math.h"

namespace carbon::wallet {

namespace {
constexpr std::uint64_t kMaxU64 = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint32_t kMinutesPerDay = 24 * 60;
}  // namespace

std::optional<std::uint64_t> parse_fixed2(const std::string& text) {
  const std::size_t dot = text.find('.');
  const std::string whole = text.substr(0, dot);
  const std::string fraction = dot == std::string::npos ? "" : text.substr(dot + 1);
  if (whole.empty() || (dot != std::string::npos && (fraction.empty() || fraction.size() > 2)))
    return std::nullopt;
  for (char ch : whole + fraction) {
    if (ch < '0' || ch > '9') return std::nullopt;
  }
  std::uint64_t units = 0;
  for (char ch : whole) {
    const auto digit = static_cast<std::uint64_t>(ch - '0');
    if (units > (kMaxU64 - digit) / 10) return std::nullopt;
    units = units * 10 + digit;
  }
  std::uint64_t cents = 0;
  if (!fraction.empty()) {
    cents = static_cast<std::uint64_t>(fraction[0] - '0') * 10;
    if (fraction.size() == 2) cents += static_cast<std::uint64_t>(fraction[1] - '0');
  }
  if (units > (kMaxU64 - cents) / 100) return std::nullopt;
  return units * 100 + cents;
}

std::optional<std::uint64_t> parse_whole(const std::string& text) {
  // from_chars reads decimal digits only for an unsigned type (no sign, space or prefix) and
  // reports overflow; the whole text must be the number.
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint64_t> parse_time_ms(const std::string& text, std::uint64_t now_ms) {
  if (text.empty()) return std::nullopt;
  if (text[0] == '+') {
    if (text.size() < 3) return std::nullopt;
    const auto amount = parse_whole(text.substr(1, text.size() - 2));
    if (!amount) return std::nullopt;
    std::uint64_t unit_ms = 0;
    switch (text.back()) {
      case 's': unit_ms = 1000; break;
      case 'm': unit_ms = 60'000; break;
      case 'h': unit_ms = 3'600'000; break;
      case 'd': unit_ms = core::kMsPerDay; break;
      default: return std::nullopt;
    }
    auto offset = core::checked_mul(*amount, unit_ms);
    if (!offset) return std::nullopt;
    auto at = core::checked_add(now_ms, *offset);
    if (!at) return std::nullopt;
    return *at;
  }
  if (auto epoch_ms = parse_whole(text)) return epoch_ms;
  // YYYY-MM-DDTHH:MM:SSZ, every field its exact width in digits.
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:ddZ";
  if (text.size() != kShape.size()) return std::nullopt;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return std::nullopt;
  }
  const auto field = [&](std::size_t at, std::size_t width) {
    unsigned value = 0;
    for (std::size_t i = at; i < at + width; ++i) value = value * 10 + static_cast<unsigned>(text[i] - '0');
    return value;
  };
  const unsigned year = field(0, 4), month = field(5, 2), day = field(8, 2);
  const unsigned hour = field(11, 2), minute = field(14, 2), second = field(17, 2);
  if (year < 1970 || !core::is_civil_date(static_cast<int>(year), month, day) || hour > 23 || minute > 59 ||
      second > 59) {
    return std::nullopt;
  }
  return core::utc_ms_from_civil(static_cast<int>(year), month, day) +
         static_cast<std::uint64_t>((hour * 60 + minute) * 60 + second) * 1000;
}

std::string grouped(std::uint64_t value) {
  const std::string digits = std::to_string(value);
  std::string out;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string yuan_grouped(std::uint64_t fen) {
  const std::uint64_t rest = fen % 100;
  return grouped(fen / 100) + (rest < 10 ? ".0" : ".") + std::to_string(rest);
}

std::string percent_text(std::uint64_t bp) {
  const std::uint64_t rest = bp % 100;
  return std::to_string(bp / 100) + (rest < 10 ? ".0" : ".") + std::to_string(rest) + " %";
}

std::optional<std::vector<std::pair<std::uint32_t, std::uint32_t>>> parse_sessions(
    const std::string& text) {
  std::vector<std::pair<std::uint32_t, std::uint32_t>> sessions;
  const auto minute_of = [](const std::string& hhmm) -> std::optional<std::uint32_t> {
    if (hhmm.size() != 5 || hhmm[2] != ':') return std::nullopt;
    for (std::size_t i : {0u, 1u, 3u, 4u}) {
      if (hhmm[i] < '0' || hhmm[i] > '9') return std::nullopt;
    }
    const auto hours = static_cast<std::uint32_t>((hhmm[0] - '0') * 10 + (hhmm[1] - '0'));
    const auto minutes = static_cast<std::uint32_t>((hhmm[3] - '0') * 10 + (hhmm[4] - '0'));
    if (minutes > 59 || hours * 60 + minutes > kMinutesPerDay) return std::nullopt;
    return hours * 60 + minutes;
  };
  if (text.empty() || text.back() == ',') return std::nullopt;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) {
    const std::size_t dash = item.find('-');
    if (dash == std::string::npos) return std::nullopt;
    auto start = minute_of(item.substr(0, dash));
    auto end = minute_of(item.substr(dash + 1));
    if (!start || !end) return std::nullopt;
    sessions.emplace_back(*start, *end);
  }
  if (sessions.empty()) return std::nullopt;
  return sessions;
}

std::string clock_text(std::uint32_t minutes) {
  char text[32];
  std::snprintf(text, sizeof text, "%02u:%02u", minutes / 60, minutes % 60);
  return text;
}

}  // namespace carbon::wallet
