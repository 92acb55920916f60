// Strict reading of the numbers people type on carbon-wallet's command line.
//
// Thread safety: none (configures a CLI::App before it parses).
#pragma once

namespace CLI {
class App;
}  // namespace CLI

namespace carbon::wallet {

// Makes every integer option of `app` and of its subcommands take decimal digits only. CLI11 on
// its own reads "010" as octal 8 and "0x10" as 16, wraps "-5" to 2^64 - 5 and saturates anything
// beyond 2^64 - 1, so a transfer could be signed for tonnes nobody typed. Leading zeros are
// decimal ("010" is 10). Options narrower than 64 bits keep CLI11's own range check. A
// `--quantity` must also be at least 1 (0 t would only spend a nonce on a failed transaction).
// Call it after every option has been added and before parsing.
void require_decimal_integers(CLI::App& app);

// Makes every option of `app` and of its subcommands that takes a value refuse an empty one
// (`--report-deadline ""`, an unset shell variable): the wallet reads an empty value as "not
// given" and would sign what the user meant to change, unchanged. Call it before parsing.
void refuse_empty_values(CLI::App& app);

}  // namespace carbon::wallet
