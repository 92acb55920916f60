// libFuzzer target for the canonical codec: decoding arbitrary bytes must never crash, hang
// or allocate without bound, and whatever decodes must re-encode to exactly the input (one
// encoding per value). Uses the same Sample type as the codec unit tests.
#include <algorithm>
#include <cstddef>
#include <cstdint>

#include "core/assert.h"
#include "core/codec.h"
#include "tests/unit/codec_sample.h"

// NOLINTNEXTLINE(readability-identifier-naming): the name libFuzzer calls.
extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  namespace codec = carbon::core::codec;
  const carbon::core::ByteView input(data, size);
  const auto decoded = codec::decode<carbon::testing::Sample>(input);
  if (decoded.is_ok()) {
    const carbon::core::Bytes again = codec::encode(*decoded);
    CARBON_ASSERT_MSG(again.size() == size && std::equal(again.begin(), again.end(), input.begin()),
                      "an accepted input does not re-encode to itself");
  }
  return 0;
}
