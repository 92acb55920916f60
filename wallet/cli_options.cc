#include "wallet/cli_options.h"

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "wallet/amounts.h"

namespace carbon::wallet {
namespace {

// "12" -> "12", "0012" -> "12"; throws CLI::ValidationError (CLI11 reports it as a usage error
// naming the option) for anything but decimal digits, or a value beyond 2^64 - 1.
std::string plain_decimal(const std::string& text) {
  if (text.empty() || text.find_first_not_of("0123456789") != std::string::npos) {
    throw CLI::ValidationError("'" + text + "' is not a whole number in decimal digits (no sign, no 0x, no exponent)");
  }
  const std::optional<std::uint64_t> value = parse_whole(text);
  if (!value) throw CLI::ValidationError(text + " is too large (at most 18446744073709551615)");
  return std::to_string(*value);
}

// CLI11 names an option's type "INT" or "UINT" for integers (then ":<validator>" for each
// validator with a description).
bool is_integer_type(const std::string& type_name) {
  for (const std::string prefix : {"UINT", "INT"}) {
    if (type_name.compare(0, prefix.size(), prefix) == 0 &&
        (type_name.size() == prefix.size() || type_name[prefix.size()] == ':')) {
      return true;
    }
  }
  return false;
}

// plain_decimal, and at least 1: a quantity of 0 t is refused by every contract, so signing it
// would only spend a nonce on a failed transaction.
std::string positive_decimal(const std::string& text) {
  std::string value = plain_decimal(text);
  if (value == "0") throw CLI::ValidationError("a quantity of 0 t moves nothing: give at least 1");
  return value;
}

}  // namespace

void require_decimal_integers(CLI::App& app) {
  for (CLI::Option* option : app.get_options()) {
    if (!is_integer_type(option->get_type_name())) continue;
    if (option->check_lname("quantity")) {
      option->transform(positive_decimal, "", "decimal >= 1");
    } else {
      option->transform(plain_decimal, "", "decimal");
    }
  }
  for (CLI::App* subcommand : app.get_subcommands(std::function<bool(CLI::App*)>{})) {
    require_decimal_integers(*subcommand);
  }
}

void refuse_empty_values(CLI::App& app) {
  const CLI::Validator non_empty(
      [](std::string& value) -> std::string {
        return value.empty() ? "an empty value is not allowed (leave the option out to keep what it sets)" : "";
      },
      "");
  for (CLI::Option* option : app.get_options()) {
    if (option->get_expected_min() > 0) option->check(non_empty);
  }
  for (CLI::App* subcommand : app.get_subcommands(std::function<bool(CLI::App*)>{})) refuse_empty_values(*subcommand);
}

}  // namespace carbon::wallet
