#include "core/hash.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <string_view>

namespace carbon::core {
namespace {

// FIPS 202 SHA3-256 known answers (checked against Python's hashlib.sha3_256).
constexpr char kEmptyDigest[] = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
constexpr char kAbcDigest[] = "3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532";
constexpr char k448BitMessage[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
constexpr char k448BitDigest[] = "41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376";
constexpr char kMillionADigest[] =
    "5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1";

TEST(Sha3Test, KnownAnswers) {
  EXPECT_EQ(sha3_256(as_bytes("")).to_hex(), kEmptyDigest);
  EXPECT_EQ(sha3_256(as_bytes("abc")).to_hex(), kAbcDigest);
  EXPECT_EQ(sha3_256(as_bytes(k448BitMessage)).to_hex(), k448BitDigest);
}

TEST(Sha3Test, MillionAs) {
  const std::string million(1'000'000, 'a');
  EXPECT_EQ(sha3_256(as_bytes(million)).to_hex(), kMillionADigest);
}

TEST(Sha3Test, IncrementalMatchesOneShot) {
  // Chunks that straddle the 136-byte SHA3-256 rate in uneven steps.
  const std::string million(1'000'000, 'a');
  Sha3Hasher hasher;
  std::size_t offset = 0;
  std::size_t step = 1;
  while (offset < million.size()) {
    const std::size_t take = std::min(step, million.size() - offset);
    hasher.update(as_bytes(std::string_view(million).substr(offset, take)));
    offset += take;
    step = step * 7 % 1000 + 1;
  }
  EXPECT_EQ(hasher.finish().to_hex(), kMillionADigest);

  Sha3Hasher parts;
  parts.update(as_bytes("a")).update(as_bytes("")).update(as_bytes("bc"));
  EXPECT_EQ(parts.finish().to_hex(), kAbcDigest);

  Sha3Hasher nothing;
  EXPECT_EQ(nothing.finish().to_hex(), kEmptyDigest);
}

TEST(Hash256Test, HexRoundTripAndShortForm) {
  const auto parsed = Hash256::from_hex(kAbcDigest);
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, sha3_256(as_bytes("abc")));
  EXPECT_EQ(parsed->to_hex(), kAbcDigest);
  EXPECT_EQ(parsed->short_hex(), "3a985da7");

  const auto upper =
      Hash256::from_hex("3A985DA74FE225B2045C172D6BD390BD855F086E3E9D525B46BFE24511431532");
  ASSERT_TRUE(upper.is_ok());
  EXPECT_EQ(*upper, *parsed);

  EXPECT_FALSE(Hash256::from_hex("3a985da7").is_ok());
  EXPECT_FALSE(Hash256::from_hex(std::string(kAbcDigest) + "00").is_ok());
  EXPECT_FALSE(Hash256::from_hex(std::string(63, 'a')).is_ok());
}

TEST(Hash256Test, ZeroOrderingAndStdHash) {
  Hash256 zero;
  EXPECT_TRUE(zero.is_zero());
  Hash256 one;
  one.bytes[31] = 1;
  EXPECT_FALSE(one.is_zero());
  EXPECT_LT(zero, one);
  Hash256 high;
  high.bytes[0] = 1;
  EXPECT_LT(one, high);  // lexicographic from the first byte

  const Hash256 abc = sha3_256(as_bytes("abc"));
  EXPECT_EQ(std::hash<Hash256>{}(abc), std::hash<Hash256>{}(*Hash256::from_hex(kAbcDigest)));
  EXPECT_NE(std::hash<Hash256>{}(abc), std::hash<Hash256>{}(sha3_256(as_bytes(""))));
}

}  // namespace
}  // namespace carbon::core
