// A small value type that exercises every field helper of the canonical codec. Shared by the
// codec unit tests and the codec fuzz target (tests/fuzz), so both check the same decoder.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/bytes.h"
#include "core/codec_fields.h"
#include "core/hash.h"

namespace carbon::testing {

inline constexpr std::size_t kMaxSampleSerials = 8;
inline constexpr std::size_t kMaxSampleMemoBytes = 64;
inline constexpr std::size_t kMaxSampleNameBytes = 32;
inline constexpr std::size_t kMaxSampleLabelBytes = 16;

// Nested inside Sample's variant, so a bound inside an alternative is exercised too.
struct SampleInner {
  std::uint32_t id = 0;
  std::string label;

  friend bool operator==(const SampleInner&, const SampleInner&) = default;

  template <class Archive>
  void serialize(Archive& archive) {
    archive(id);
    core::codec::bounded_string(archive, label, kMaxSampleLabelBytes);
  }
};

struct Sample {
  std::uint8_t kind = 0;
  std::int32_t delta = 0;
  std::uint64_t amount = 0;
  std::int64_t balance = 0;
  core::Hash256 digest;
  std::vector<std::uint64_t> serials;
  core::Bytes memo;
  std::string name;
  std::optional<std::uint32_t> expiry;
  std::variant<std::uint16_t, core::Hash256, SampleInner> payload;

  friend bool operator==(const Sample&, const Sample&) = default;

  template <class Archive>
  void serialize(Archive& archive) {
    archive(kind, delta, amount, balance, digest);
    core::codec::bounded_vector(archive, serials, kMaxSampleSerials, sizeof(std::uint64_t));
    core::codec::bounded_bytes(archive, memo, kMaxSampleMemoBytes);
    core::codec::bounded_string(archive, name, kMaxSampleNameBytes);
    core::codec::optional_field(archive, expiry);
    archive(payload);
  }
};

// A Sample with every variable-length field at its limit and the given variant alternative
// (0, 1 or 2), so that encodings exercise every branch of the decoder.
inline Sample full_sample(std::size_t alternative) {
  Sample sample;
  sample.kind = 0xfe;
  sample.delta = -123456789;
  sample.amount = 0xfedcba9876543210u;
  sample.balance = -9'000'000'000'000'000'000;
  sample.digest = core::sha3_256(core::as_bytes("sample"));
  for (std::uint64_t i = 0; i < kMaxSampleSerials; ++i) sample.serials.push_back(1000 + i);
  sample.memo.assign(kMaxSampleMemoBytes, 0xab);
  sample.name.assign(kMaxSampleNameBytes, 'n');
  sample.expiry = 4'000'000'000u;
  switch (alternative) {
    case 0:
      sample.payload = std::uint16_t{0xbeef};
      break;
    case 1:
      sample.payload = core::sha3_256(core::as_bytes("payload"));
      break;
    default:
      sample.payload = SampleInner{7, std::string(kMaxSampleLabelBytes, 'l')};
      break;
  }
  return sample;
}

}  // namespace carbon::testing
