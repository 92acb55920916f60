// libFuzzer target for the transaction decoder: arbitrary bytes must never crash, hang or
// allocate without bound; whatever decodes re-encodes to exactly the input, and the stateless
// signature check runs on it without crashing.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "contracts/types.h"
#include "core/assert.h"
#include "core/keys.h"

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool initialized = carbon::core::init_crypto();
  CARBON_ASSERT(initialized);
  const carbon::core::ByteView input(data, size);
  const auto decoded = carbon::contracts::decode_signed_tx(input);
  if (decoded.is_ok()) {
    const carbon::core::Bytes again = carbon::contracts::encode_signed_tx(*decoded);
    CARBON_ASSERT_MSG(again.size() == size && std::equal(again.begin(), again.end(), input.begin()),
                      "an accepted transaction does not re-encode to itself");
    (void)carbon::contracts::check_signatures(*decoded);
  }
  return 0;
}
