// The canonical codec: round trips, and every way decode() must refuse its input.
#include "core/codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "tests/unit/codec_sample.h"

namespace carbon::testing {
namespace {

using core::Bytes;
using core::ErrorCode;
using core::codec::decode;
using core::codec::encode;

constexpr std::uint8_t kLittleEndianFlag = 0x01;  // cereal's portable binary header byte
constexpr std::uint32_t kHugeLimit = std::numeric_limits<std::uint32_t>::max();

// Single-field types, so that a test can write the exact bytes it means.
struct Word {
  std::uint32_t value = 0;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
};

template <std::size_t kLimit>
struct Blob {
  Bytes data;
  template <class Archive>
  void serialize(Archive& archive) {
    core::codec::bounded_bytes(archive, data, kLimit);
  }
};

template <std::size_t kLimit>
struct Text {
  std::string text;
  template <class Archive>
  void serialize(Archive& archive) {
    core::codec::bounded_string(archive, text, kLimit);
  }
};

template <std::size_t kLimit>
struct Words {
  std::vector<std::uint64_t> values;
  template <class Archive>
  void serialize(Archive& archive) {
    core::codec::bounded_vector(archive, values, kLimit, sizeof(std::uint64_t));
  }
};

struct MaybeWord {
  std::optional<std::uint32_t> value;
  template <class Archive>
  void serialize(Archive& archive) {
    core::codec::optional_field(archive, value);
  }
};

struct Choice {
  std::variant<std::uint16_t, std::uint64_t> value;
  template <class Archive>
  void serialize(Archive& archive) {
    archive(value);
  }
};

void append_u32(Bytes& out, std::uint32_t value) {
  for (int shift = 0; shift < 32; shift += 8)
    out.push_back(static_cast<std::uint8_t>(value >> shift));
}

// The header byte followed by a little-endian 32-bit length or index.
Bytes header_and_u32(std::uint32_t value) {
  Bytes out = {kLittleEndianFlag};
  append_u32(out, value);
  return out;
}

template <class T>
void expect_decode_error(const Bytes& bytes, const std::string& message_part) {
  const auto result = decode<T>(bytes);
  ASSERT_FALSE(result.is_ok()) << "accepted " << core::to_hex(bytes);
  EXPECT_EQ(result.status().code(), ErrorCode::kDecodeError);
  EXPECT_NE(result.status().message().find(message_part), std::string::npos)
      << "expected \"" << message_part << "\" in \"" << result.status().message() << "\"";
}

TEST(CodecTest, LayoutIsLittleEndianWithAHeaderByte) {
  EXPECT_EQ(encode(Word{0x01020304}), (Bytes{kLittleEndianFlag, 0x04, 0x03, 0x02, 0x01}));
  EXPECT_EQ(encode(Blob<8>{{0xaa, 0xbb}}), (Bytes{kLittleEndianFlag, 2, 0, 0, 0, 0xaa, 0xbb}));
  EXPECT_EQ(encode(MaybeWord{}), (Bytes{kLittleEndianFlag, 0}));
  EXPECT_EQ(encode(Choice{std::uint64_t{1}}),
            (Bytes{kLittleEndianFlag, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}));
}

TEST(CodecTest, DefaultSampleRoundTrips) {
  const Sample sample;
  const Bytes bytes = encode(sample);
  // header, kind, delta, amount, balance, digest, three empty lengths, optional tag,
  // variant index and a uint16.
  EXPECT_EQ(bytes.size(), 1u + 1 + 4 + 8 + 8 + 32 + 4 + 4 + 4 + 1 + 4 + 2);
  const auto decoded = decode<Sample>(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(*decoded, sample);
}

TEST(CodecTest, FullSamplesRoundTripForEveryAlternative) {
  for (std::size_t alternative = 0; alternative < 3; ++alternative) {
    SCOPED_TRACE(alternative);
    const Sample sample = full_sample(alternative);
    const Bytes bytes = encode(sample);
    const auto decoded = decode<Sample>(bytes);
    ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
    EXPECT_EQ(*decoded, sample);
    EXPECT_EQ(decoded->payload.index(), alternative);
    EXPECT_EQ(encode(*decoded), bytes);
  }
}

TEST(CodecTest, EncodingIsDeterministic) {
  EXPECT_EQ(encode(full_sample(2)), encode(full_sample(2)));
  EXPECT_NE(encode(full_sample(1)), encode(full_sample(2)));
}

TEST(CodecTest, EmptyInputIsRejected) {
  EXPECT_FALSE(decode<Sample>(Bytes{}).is_ok());
  EXPECT_FALSE(decode<Word>(Bytes{}).is_ok());
  EXPECT_FALSE(decode<Word>(Bytes{kLittleEndianFlag}).is_ok());
}

TEST(CodecTest, EveryTruncationIsRejected) {
  for (std::size_t alternative = 0; alternative < 3; ++alternative) {
    const Bytes bytes = encode(full_sample(alternative));
    for (std::size_t length = 0; length < bytes.size(); ++length) {
      const auto result = decode<Sample>(core::ByteView(bytes.data(), length));
      EXPECT_FALSE(result.is_ok())
          << "alternative " << alternative << ", prefix of " << length << " bytes";
      if (!result.is_ok()) {
        EXPECT_EQ(result.status().code(), ErrorCode::kDecodeError);
      }
    }
  }
}

TEST(CodecTest, TrailingBytesAreRejected) {
  Bytes bytes = encode(full_sample(0));
  bytes.push_back(0x00);
  expect_decode_error<Sample>(bytes, "1 trailing bytes");
  bytes.push_back(0x00);
  expect_decode_error<Sample>(bytes, "2 trailing bytes");
  expect_decode_error<MaybeWord>(Bytes{kLittleEndianFlag, 0, 0}, "trailing");
}

TEST(CodecTest, TextMustBeWellFormedUtf8) {
  const auto text_bytes = [](const std::string& text) {
    Bytes out = header_and_u32(static_cast<std::uint32_t>(text.size()));
    out.insert(out.end(), text.begin(), text.end());
    return out;
  };
  const std::string chinese = "\xE6\xB9\x96\xE5\x8C\x97";  // 湖北, 3 bytes a character
  const auto decoded = decode<Text<64>>(text_bytes("Hubei " + chinese));
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->text, "Hubei " + chinese);
  for (const std::string& bad : {std::string("\xFF"), std::string("ab\x80"), chinese.substr(0, 4),
                                 std::string("\xC0\xAF"), std::string("\xED\xA0\x80")}) {
    expect_decode_error<Text<64>>(text_bytes(bad), "not valid UTF-8");
  }
}

TEST(CodecTest, LengthAtTheLimitIsAccepted) {
  Bytes blob = header_and_u32(4);
  blob.insert(blob.end(), {1, 2, 3, 4});
  const auto decoded = decode<Blob<4>>(blob);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->data, (Bytes{1, 2, 3, 4}));
}

TEST(CodecTest, LengthPrefixOverTheLimitIsRejected) {
  Bytes blob = header_and_u32(5);
  blob.insert(blob.end(), {1, 2, 3, 4, 5});
  expect_decode_error<Blob<4>>(blob, "exceeds limit 4");

  Bytes text = header_and_u32(5);
  text.insert(text.end(), {'a', 'b', 'c', 'd', 'e'});
  expect_decode_error<Text<4>>(text, "exceeds limit 4");

  Bytes words = header_and_u32(3);
  words.resize(words.size() + 3 * sizeof(std::uint64_t), 0);
  expect_decode_error<Words<2>>(words, "exceeds limit 2");

  // In the full sample: the memo length (after header, fixed fields and the serials).
  Bytes sample = encode(full_sample(0));
  const std::size_t memo_length_at = 1 + 1 + 4 + 8 + 8 + 32 + 4 + 8 * kMaxSampleSerials;
  ASSERT_EQ(std::size_t{sample[memo_length_at]}, kMaxSampleMemoBytes);
  sample[memo_length_at] = static_cast<std::uint8_t>(kMaxSampleMemoBytes + 1);
  expect_decode_error<Sample>(sample, "exceeds limit 64");
}

// A length far beyond the input must be refused before anything is allocated: 0xFFFFFFF0 is
// under these limits, so only the remaining-input check stands between it and a 4 GiB (or,
// for the vector, 32 GiB) allocation. The message proves which check fired; under ASan an
// allocation of that size would abort the test.
TEST(CodecTest, LengthPrefixOverTheRemainingInputIsRejectedWithoutAllocating) {
  Bytes blob = header_and_u32(0xFFFFFFF0u);
  blob.insert(blob.end(), {1, 2, 3});
  expect_decode_error<Blob<kHugeLimit>>(blob, "exceeds the remaining input");
  expect_decode_error<Text<kHugeLimit>>(blob, "exceeds the remaining input");
  expect_decode_error<Words<kHugeLimit>>(blob, "exceeds the remaining input");

  // One byte short, and exactly enough.
  Bytes short_by_one = header_and_u32(4);
  short_by_one.insert(short_by_one.end(), {1, 2, 3});
  expect_decode_error<Blob<kHugeLimit>>(short_by_one, "exceeds the remaining input");
  Bytes exact = header_and_u32(3);
  exact.insert(exact.end(), {1, 2, 3});
  EXPECT_TRUE(decode<Blob<kHugeLimit>>(exact).is_ok());

  // The vector bound counts element bytes: two uint64 need 16 bytes, 15 are there.
  Bytes words = header_and_u32(2);
  words.resize(words.size() + 15, 0);
  expect_decode_error<Words<kHugeLimit>>(words, "exceeds the remaining input");
}

TEST(CodecTest, OptionalTagMustBeZeroOrOne) {
  const auto absent = decode<MaybeWord>(Bytes{kLittleEndianFlag, 0});
  ASSERT_TRUE(absent.is_ok());
  EXPECT_FALSE(absent->value.has_value());
  const auto present = decode<MaybeWord>(Bytes{kLittleEndianFlag, 1, 7, 0, 0, 0});
  ASSERT_TRUE(present.is_ok());
  EXPECT_EQ(present->value, 7u);

  expect_decode_error<MaybeWord>(Bytes{kLittleEndianFlag, 2, 7, 0, 0, 0}, "optional tag 2");
  expect_decode_error<MaybeWord>(Bytes{kLittleEndianFlag, 0xff, 7, 0, 0, 0}, "optional tag 255");
  EXPECT_FALSE(decode<MaybeWord>(Bytes{kLittleEndianFlag, 1, 7, 0, 0}).is_ok());

  Bytes sample = encode(full_sample(0));
  const std::size_t tag_at = 1 + 1 + 4 + 8 + 8 + 32 + 4 + 8 * kMaxSampleSerials + 4 +
                             kMaxSampleMemoBytes + 4 + kMaxSampleNameBytes;
  ASSERT_EQ(sample[tag_at], 1);
  sample[tag_at] = 2;
  expect_decode_error<Sample>(sample, "optional tag 2");
}

TEST(CodecTest, VariantIndexOutOfRangeIsRejected) {
  Bytes good = header_and_u32(0);
  good.insert(good.end(), {0x34, 0x12});
  const auto decoded = decode<Choice>(good);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(std::get<std::uint16_t>(decoded->value), 0x1234);

  // 2 is one past the last alternative; 0xFFFFFFFF is -1 and 0x80000000 is INT32_MIN as the
  // signed 32-bit index cereal writes.
  for (const std::uint32_t index : {2u, 3u, 0x7FFFFFFFu, 0xFFFFFFFFu, 0x80000000u}) {
    Bytes bytes = header_and_u32(index);
    bytes.resize(bytes.size() + 8, 0);
    const auto result = decode<Choice>(bytes);
    EXPECT_FALSE(result.is_ok()) << "index " << index;
    if (!result.is_ok()) {
      EXPECT_EQ(result.status().code(), ErrorCode::kDecodeError);
    }
  }

  Bytes sample = encode(full_sample(2));
  const std::size_t index_at = 1 + 1 + 4 + 8 + 8 + 32 + 4 + 8 * kMaxSampleSerials + 4 +
                               kMaxSampleMemoBytes + 4 + kMaxSampleNameBytes + 1 + 4;
  ASSERT_EQ(sample[index_at], 2);
  sample[index_at] = 3;
  EXPECT_FALSE(decode<Sample>(sample).is_ok());
}

TEST(CodecTest, BigEndianHeaderIsNonCanonical) {
  // cereal would happily read a big-endian stream; our canonical form is little-endian only,
  // so the same value must not have a second encoding.
  expect_decode_error<Word>(Bytes{0x00, 0x01, 0x02, 0x03, 0x04}, "non-canonical");
  expect_decode_error<Word>(Bytes{0x02, 0x04, 0x03, 0x02, 0x01}, "non-canonical");
  for (std::size_t alternative = 0; alternative < 3; ++alternative) {
    Bytes bytes = encode(full_sample(alternative));
    bytes[0] = 0x00;
    EXPECT_FALSE(decode<Sample>(bytes).is_ok()) << alternative;
  }
}

TEST(CodecTest, SkippingTheCanonicalCheckStillRejectsMalformedInput) {
  using core::codec::CanonicalCheck;
  using core::codec::kMaxEncodedBytes;
  // A big-endian header: the value reads, but is not its one encoding. Accepted only when the
  // caller skips the check (records the program wrote itself), with the same value.
  const Bytes big_endian{0x00, 0x01, 0x02, 0x03, 0x04};
  EXPECT_FALSE(decode<Word>(big_endian).is_ok());
  const auto lenient = decode<Word>(big_endian, kMaxEncodedBytes, CanonicalCheck::kSkipped);
  ASSERT_TRUE(lenient.is_ok()) << lenient.status().to_string();
  const auto canonical = decode<Word>(Bytes{0x01, 0x04, 0x03, 0x02, 0x01});
  ASSERT_TRUE(canonical.is_ok());
  EXPECT_EQ(lenient->value, canonical->value);
  // Everything else is checked as before: trailing bytes, truncation, the size bound.
  const Bytes sample = encode(full_sample(1));
  Bytes trailing = sample;
  trailing.push_back(0);
  EXPECT_EQ(decode<Sample>(trailing, kMaxEncodedBytes, CanonicalCheck::kSkipped).status().code(),
            ErrorCode::kDecodeError);
  const Bytes truncated(sample.begin(), sample.end() - 1);
  EXPECT_FALSE(decode<Sample>(truncated, kMaxEncodedBytes, CanonicalCheck::kSkipped).is_ok());
  EXPECT_EQ(decode<Sample>(sample, sample.size() - 1, CanonicalCheck::kSkipped).status().code(),
            ErrorCode::kOutOfBounds);
  EXPECT_TRUE(decode<Sample>(sample, kMaxEncodedBytes, CanonicalCheck::kSkipped).is_ok());
}

TEST(CodecTest, InputOverMaxBytesIsRejectedBeforeDecoding) {
  const Bytes bytes = encode(full_sample(1));
  EXPECT_TRUE(decode<Sample>(bytes, bytes.size()).is_ok());
  const auto result = decode<Sample>(bytes, bytes.size() - 1);
  ASSERT_FALSE(result.is_ok());
  EXPECT_EQ(result.status().code(), ErrorCode::kOutOfBounds);
}

// A value whose encoding holds another value's encoding: encode() and decode() are called from
// inside a serialize(), while the thread's reused stream is in use by the outer call.
struct Envelope {
  Word inner;
  template <class Archive>
  void save(Archive& archive) const {
    Bytes bytes = encode(inner);
    core::codec::bounded_bytes(archive, bytes, 64);
  }
  template <class Archive>
  void load(Archive& archive) {
    Bytes bytes;
    core::codec::bounded_bytes(archive, bytes, 64);
    auto decoded = decode<Word>(bytes);
    if (!decoded) core::codec::throw_decode_error("inner value: " + decoded.status().message());
    inner = *decoded;
  }
};

TEST(CodecTest, NestedEncodeAndDecodeInsideASerializeWork) {
  const Envelope envelope{Word{0x0A0B0C0D}};
  const Bytes bytes = encode(envelope);
  // header, 4-byte length 5, then the inner encoding: its own header and the word
  const Bytes expected{kLittleEndianFlag, 5, 0, 0, 0, kLittleEndianFlag, 0x0D, 0x0C, 0x0B, 0x0A};
  EXPECT_EQ(bytes, expected);
  auto decoded = decode<Envelope>(bytes);
  ASSERT_TRUE(decoded.is_ok()) << decoded.status().to_string();
  EXPECT_EQ(decoded->inner.value, 0x0A0B0C0Du);
  // A malformed inner value fails the outer decode with the inner reason.
  Bytes bad_inner = bytes;
  bad_inner[5] = 0x00;  // the inner header turned big-endian: non-canonical
  expect_decode_error<Envelope>(bad_inner, "inner value: non-canonical");
}

TEST(CodecTest, AFailedDecodeLeavesTheThreadReadyForTheNext) {
  // The thread's streams are reused from call to call: a decode that threw half-way, or ended
  // with trailing bytes, must not leave an error state or a stale buffer behind.
  const Bytes good = encode(full_sample(2));
  for (std::size_t cut = 1; cut < good.size(); cut += 7) {
    const Bytes truncated(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(cut));
    EXPECT_FALSE(decode<Sample>(truncated).is_ok()) << cut;
    auto again = decode<Sample>(good);
    ASSERT_TRUE(again.is_ok()) << "after a cut at " << cut << ": " << again.status().to_string();
    EXPECT_EQ(encode(*again), good);
  }
  Bytes trailing = good;
  trailing.push_back(0);
  EXPECT_FALSE(decode<Sample>(trailing).is_ok());
  EXPECT_TRUE(decode<Sample>(good).is_ok());
}

TEST(CodecTest, CompareStreamBufMatchesOnlyTheExactBytes) {
  const Bytes expected{1, 2, 3, 4};
  auto written = [&](const std::string& text) {
    core::codec::CompareStreamBuf buffer(expected);
    buffer.sputn(text.data(), static_cast<std::streamsize>(text.size()));
    return buffer.matched();
  };
  EXPECT_TRUE(written(std::string{1, 2, 3, 4}));
  EXPECT_FALSE(written(std::string{1, 2, 3}));        // shorter
  EXPECT_FALSE(written(std::string{1, 2, 3, 4, 5}));  // longer
  EXPECT_FALSE(written(std::string{1, 2, 9, 4}));     // one byte differs
  core::codec::CompareStreamBuf split(expected);
  split.sputc(1);
  split.sputn("\x02\x03", 2);
  EXPECT_FALSE(split.matched());
  split.sputc(4);
  EXPECT_TRUE(split.matched());
}

TEST(CodecDeathTest, EncodingOverALimitIsAProgrammerError) {
  Sample sample;
  sample.serials.resize(kMaxSampleSerials + 1);
  EXPECT_DEATH((void)encode(sample), "encoding a sequence over its limit");
  Sample long_memo;
  long_memo.memo.resize(kMaxSampleMemoBytes + 1);
  EXPECT_DEATH((void)encode(long_memo), "encoding a byte string over its limit");
  Sample long_name;
  long_name.name.resize(kMaxSampleNameBytes + 1);
  EXPECT_DEATH((void)encode(long_name), "encoding a string over its limit");
}

}  // namespace
}  // namespace carbon::testing
