// Randomized decoding: random and mutated byte strings must never crash the decoder, and
// anything it accepts must be the one canonical encoding of its value. A fixed seed keeps
// failures reproducible; the fuzz target (tests/fuzz) explores further with coverage.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <iterator>
#include <random>
#include <vector>

#include "core/codec.h"
#include "tests/unit/codec_sample.h"

namespace carbon::testing {
namespace {

using core::Bytes;
using core::codec::decode;
using core::codec::encode;

constexpr std::uint32_t kSeed = 20240601;
constexpr int kIterations = 100'000;
constexpr int kRoundTrips = 2'000;

class Generator {
 public:
  explicit Generator(std::uint32_t seed) : engine_(seed) {}

  std::uint64_t below(std::uint64_t bound) {  // uniform in [0, bound)
    return std::uniform_int_distribution<std::uint64_t>(0, bound - 1)(engine_);
  }
  std::uint64_t any() { return std::uniform_int_distribution<std::uint64_t>()(engine_); }
  std::uint8_t byte() { return static_cast<std::uint8_t>(below(256)); }

  Bytes bytes(std::size_t count) {
    Bytes out(count);
    for (auto& b : out) b = byte();
    return out;
  }

  // Well-formed UTF-8 (text fields refuse anything else) of at most max_bytes: characters of
  // 1 to 4 bytes, each from its whole range of code points.
  std::string text(std::size_t max_bytes) {
    const std::size_t target = below(max_bytes + 1);
    std::string out;
    for (;;) {
      const std::size_t length = 1 + below(4);
      if (out.size() + length > target) break;
      std::uint32_t code = 0;
      switch (length) {
        case 1: code = static_cast<std::uint32_t>(below(0x80)); break;
        case 2: code = static_cast<std::uint32_t>(0x80 + below(0x800 - 0x80)); break;
        case 3:
          do {
            code = static_cast<std::uint32_t>(0x800 + below(0x10000 - 0x800));
          } while (code >= 0xD800 && code <= 0xDFFF);  // surrogates are not characters
          break;
        default: code = static_cast<std::uint32_t>(0x10000 + below(0x110000 - 0x10000)); break;
      }
      if (length == 1) {
        out += static_cast<char>(code);
      } else {
        const std::uint8_t lead_marks[] = {0, 0, 0xC0, 0xE0, 0xF0};
        out += static_cast<char>(lead_marks[length] | (code >> (6 * (length - 1))));
        for (std::size_t k = length - 1; k-- > 0;) out += static_cast<char>(0x80 | ((code >> (6 * k)) & 0x3F));
      }
    }
    return out;
  }

  Sample sample() {
    Sample out;
    out.kind = byte();
    out.delta = static_cast<std::int32_t>(any());
    out.amount = any();
    out.balance = static_cast<std::int64_t>(any());
    for (auto& b : out.digest.bytes) b = byte();
    out.serials.resize(below(kMaxSampleSerials + 1));
    for (auto& serial : out.serials) serial = any();
    out.memo = bytes(below(kMaxSampleMemoBytes + 1));
    out.name = text(kMaxSampleNameBytes);
    if (below(2) == 1) out.expiry = static_cast<std::uint32_t>(any());
    switch (below(3)) {
      case 0:
        out.payload = static_cast<std::uint16_t>(any());
        break;
      case 1: {
        core::Hash256 hash;
        for (auto& b : hash.bytes) b = byte();
        out.payload = hash;
        break;
      }
      default: {
        SampleInner inner;
        inner.id = static_cast<std::uint32_t>(any());
        inner.label = text(kMaxSampleLabelBytes);
        out.payload = inner;
        break;
      }
    }
    return out;
  }

  // Values a length prefix or index is most likely to go wrong at.
  std::uint32_t interesting_u32() {
    static constexpr std::uint32_t kValues[] = {
        0,  1,  2,    3,    7,    8,     9,      16,         17,         32,         33,
        64, 65, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x7fffffff, 0x80000000, 0xfffffff0, 0xffffffff};
    return kValues[below(std::size(kValues))];
  }

 private:
  std::mt19937 engine_;
};

// One mutation of a valid encoding, or plain noise.
Bytes mutate(Generator& gen, const std::vector<Bytes>& valid) {
  Bytes input = valid[gen.below(valid.size())];
  switch (gen.below(8)) {
    case 0:
      return gen.bytes(gen.below(200));
    case 1: {  // a few random bytes overwritten
      const std::uint64_t count = 1 + gen.below(4);
      for (std::uint64_t i = 0; i < count; ++i) input[gen.below(input.size())] = gen.byte();
      return input;
    }
    case 2:  // one bit flipped
      input[gen.below(input.size())] ^= static_cast<std::uint8_t>(1u << gen.below(8));
      return input;
    case 3:  // truncated
      input.resize(gen.below(input.size()));
      return input;
    case 4: {  // bytes inserted
      const Bytes extra = gen.bytes(1 + gen.below(8));
      input.insert(input.begin() + static_cast<std::ptrdiff_t>(gen.below(input.size() + 1)),
                   extra.begin(), extra.end());
      return input;
    }
    case 5: {  // a range deleted
      const std::uint64_t from = gen.below(input.size());
      const std::uint64_t count = 1 + gen.below(std::min<std::uint64_t>(16, input.size() - from));
      input.erase(input.begin() + static_cast<std::ptrdiff_t>(from),
                  input.begin() + static_cast<std::ptrdiff_t>(from + count));
      return input;
    }
    case 6: {  // a 32-bit window (a length, an index, a tag) set to an edge value
      if (input.size() < 4) return input;
      const std::uint64_t at = gen.below(input.size() - 3);
      const std::uint32_t value = gen.interesting_u32();
      for (std::uint64_t i = 0; i < 4; ++i)
        input[at + i] = static_cast<std::uint8_t>(value >> (8 * i));
      return input;
    }
    default: {  // the head of one encoding spliced onto the tail of another
      const Bytes& other = valid[gen.below(valid.size())];
      input.resize(gen.below(input.size() + 1));
      input.insert(input.end(),
                   other.begin() + static_cast<std::ptrdiff_t>(gen.below(other.size())),
                   other.end());
      return input;
    }
  }
}

TEST(CodecRandomTest, RandomSamplesRoundTrip) {
  Generator gen(kSeed);
  for (int i = 0; i < kRoundTrips; ++i) {
    const Sample sample = gen.sample();
    const Bytes bytes = encode(sample);
    const auto decoded = decode<Sample>(bytes);
    ASSERT_TRUE(core::is_valid_utf8(sample.name));
    ASSERT_TRUE(decoded.is_ok()) << "iteration " << i << ": " << decoded.status().to_string();
    ASSERT_EQ(*decoded, sample) << "iteration " << i;
  }
}

TEST(CodecRandomTest, RandomAndMutatedInputsNeverCrashAndAcceptedOnesAreCanonical) {
  Generator gen(kSeed + 1);
  std::vector<Bytes> valid;
  for (std::size_t alternative = 0; alternative < 3; ++alternative)
    valid.push_back(encode(full_sample(alternative)));
  valid.push_back(encode(Sample{}));
  for (int i = 0; i < 60; ++i) valid.push_back(encode(gen.sample()));

  int accepted = 0;
  int rejected = 0;
  for (int i = 0; i < kIterations; ++i) {
    const Bytes input = mutate(gen, valid);
    const auto decoded = decode<Sample>(input);
    if (!decoded.is_ok()) {
      ++rejected;
      ASSERT_EQ(decoded.status().code(), core::ErrorCode::kDecodeError)
          << decoded.status().to_string();
      continue;
    }
    ++accepted;
    ASSERT_LE(decoded->serials.size(), kMaxSampleSerials);
    ASSERT_LE(decoded->memo.size(), kMaxSampleMemoBytes);
    ASSERT_LE(decoded->name.size(), kMaxSampleNameBytes);
    ASSERT_TRUE(core::is_valid_utf8(decoded->name));  // whatever the mutation, accepted text is UTF-8
    ASSERT_EQ(encode(*decoded), input)
        << "iteration " << i << ": accepted a non-canonical input " << core::to_hex(input);
  }
  // Both outcomes must be common, or the test is not exercising what it claims to.
  EXPECT_GT(accepted, kIterations / 100);
  EXPECT_GT(rejected, kIterations / 10);
  std::printf("codec random: %d inputs, %d accepted, %d rejected\n", kIterations, accepted,
              rejected);
}

}  // namespace
}  // namespace carbon::testing
