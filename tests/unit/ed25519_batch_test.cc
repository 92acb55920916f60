// core/ed25519_batch.h: batch verification against libsodium's signatures, corrupted ones,
// Project Wycheproof's vectors, and the one place where its (cofactored) rule parts from
// verify_signature's (an R with a small-order component).
#include <gtest/gtest.h>
#include <sodium.h>

#include <cstdint>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/ed25519_batch.h"
#include "core/keys.h"

namespace carbon::core {
namespace {

struct Signed {
  PublicKey key;
  Bytes message;
  Signature signature;
};

// Deterministic keys and messages of varied lengths (0..299 bytes).
std::vector<Signed> make_signed(std::size_t count, std::uint32_t seed) {
  std::mt19937 random(seed);
  std::vector<Signed> out;
  out.reserve(count);
  for (std::size_t i = 0; i < count; ++i) {
    std::array<std::uint8_t, 32> key_seed{};
    for (auto& byte : key_seed) byte = static_cast<std::uint8_t>(random());
    const SecretKey key(key_seed);
    Bytes message(random() % 300);
    for (auto& byte : message) byte = static_cast<std::uint8_t>(random());
    out.push_back({key.public_key(), message, key.sign(message)});
  }
  return out;
}

std::vector<BatchSignature> as_batch(const std::vector<Signed>& items) {
  std::vector<BatchSignature> batch;
  for (const auto& item : items) batch.push_back({&item.key, item.message, &item.signature});
  return batch;
}

TEST(Ed25519Batch, AcceptsEverySignatureLibsodiumMakesAloneAndInBatchesOfEverySize) {
  ASSERT_TRUE(init_crypto());
  const auto items = make_signed(130, 1);
  for (const auto& item : items) {
    EXPECT_TRUE(verify_cofactored(item.key, item.message, item.signature));
    ASSERT_TRUE(verify_signature(item.key, item.message, item.signature));
  }
  const auto all = as_batch(items);
  for (std::size_t size : {1u, 2u, 3u, 16u, 64u, 130u}) {
    EXPECT_TRUE(verify_batch(std::span<const BatchSignature>(all.data(), size))) << size;
  }
  // The same key signing many messages, as a trader does.
  std::vector<Signed> same_key;
  const SecretKey key(std::array<std::uint8_t, 32>{7});
  for (std::uint8_t i = 0; i < 20; ++i) {
    const Bytes message{i, 1, 2};
    same_key.push_back({key.public_key(), message, key.sign(message)});
  }
  EXPECT_TRUE(verify_batch(as_batch(same_key)));
}

TEST(Ed25519Batch, OneCorruptedSignatureFailsTheWholeBatch) {
  ASSERT_TRUE(init_crypto());
  std::mt19937 random(2);
  for (int round = 0; round < 60; ++round) {
    auto items = make_signed(9, 100u + static_cast<std::uint32_t>(round));
    Signed& victim = items[random() % items.size()];
    switch (round % 4) {
      case 0:  // the message
        if (victim.message.empty()) victim.message.push_back(0);
        victim.message[random() % victim.message.size()] ^= static_cast<std::uint8_t>(1u << (random() % 8));
        break;
      case 1:  // R
        victim.signature.bytes[random() % 32] ^= static_cast<std::uint8_t>(1u << (random() % 8));
        break;
      case 2:  // S (below 2^252, so still canonical, almost always)
        victim.signature.bytes[32 + random() % 31] ^= static_cast<std::uint8_t>(1u << (random() % 8));
        break;
      default:  // another valid key
        victim.key = SecretKey(std::array<std::uint8_t, 32>{static_cast<std::uint8_t>(round), 9}).public_key();
        break;
    }
    EXPECT_FALSE(verify_cofactored(victim.key, victim.message, victim.signature)) << round;
    EXPECT_FALSE(verify_signature(victim.key, victim.message, victim.signature)) << round;
    EXPECT_FALSE(verify_batch(as_batch(items))) << round;
  }
}

TEST(Ed25519Batch, RefusesNonCanonicalSSmallOrderROrKeyAndBadBatchSizes) {
  ASSERT_TRUE(init_crypto());
  auto items = make_signed(4, 3);
  // S + L verifies the same equation but is not canonical.
  Signed malleated = items[0];
  std::array<std::uint8_t, 32> s_plus_l{};
  const std::array<std::uint8_t, 32> group_order = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                                    0xa2, 0xde, 0xf9, 0xde, 0x14, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                                    0, 0, 0, 0x10};
  unsigned carry = 0;
  for (std::size_t i = 0; i < 32; ++i) {
    const unsigned sum = malleated.signature.bytes[32 + i] + group_order[i] + carry;
    s_plus_l[i] = static_cast<std::uint8_t>(sum);
    carry = sum >> 8;
  }
  ASSERT_EQ(carry, 0u);
  std::copy(s_plus_l.begin(), s_plus_l.end(), malleated.signature.bytes.begin() + 32);
  EXPECT_FALSE(verify_cofactored(malleated.key, malleated.message, malleated.signature));

  // R = the identity, and R = a point of order 8.
  Signed identity_r = items[1];
  std::fill(identity_r.signature.bytes.begin(), identity_r.signature.bytes.begin() + 32, 0);
  identity_r.signature.bytes[0] = 1;
  EXPECT_FALSE(verify_cofactored(identity_r.key, identity_r.message, identity_r.signature));
  const auto order8 = from_hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
  ASSERT_TRUE(order8.is_ok());
  Signed small_r = items[2];
  std::copy(order8->begin(), order8->end(), small_r.signature.bytes.begin());
  EXPECT_FALSE(verify_cofactored(small_r.key, small_r.message, small_r.signature));

  // R whose y is not below p (y = p + 1 would be the identity in disguise).
  Signed big_y = items[3];
  std::fill(big_y.signature.bytes.begin(), big_y.signature.bytes.begin() + 32, 0xff);
  big_y.signature.bytes[31] = 0x7f;
  big_y.signature.bytes[0] = 0xee;  // p + 1
  EXPECT_FALSE(verify_cofactored(big_y.key, big_y.message, big_y.signature));

  // A small-order key.
  Signed small_key = items[0];
  std::copy(order8->begin(), order8->end(), small_key.key.bytes.begin());
  EXPECT_FALSE(verify_cofactored(small_key.key, small_key.message, small_key.signature));

  EXPECT_FALSE(verify_batch({}));
  const auto many = make_signed(1, 4);
  std::vector<BatchSignature> too_many(kMaxBatchSignatures + 1, as_batch(many)[0]);
  EXPECT_FALSE(verify_batch(too_many));
  too_many.resize(kMaxBatchSignatures);
  EXPECT_TRUE(verify_batch(too_many));
}

// The documented difference between the rules. A third party cannot use it: R is hashed into
// h, so changing R breaks the equation under either rule. But the key's owner can sign with a
// commitment R = rB + T, T of order 8: [S]B - [h]A = rB misses R by T, which the strict rule
// sees and the cofactored one (multiplied by 8) does not.
TEST(Ed25519Batch, ASignerCanMakeASignatureOnlyTheCofactoredRuleAccepts) {
  ASSERT_TRUE(init_crypto());
  const std::array<std::uint8_t, 32> seed{42};
  const SecretKey key(seed);
  // The secret scalar a: SHA-512(seed), first half, clamped (RFC 8032), reduced mod L.
  std::array<std::uint8_t, 64> expanded{};
  crypto_hash_sha512(expanded.data(), seed.data(), seed.size());
  expanded[0] &= 248;
  expanded[31] &= 127;
  expanded[31] |= 64;
  std::array<std::uint8_t, 64> wide{};
  std::copy(expanded.begin(), expanded.begin() + 32, wide.begin());
  std::array<std::uint8_t, 32> a{};
  crypto_core_ed25519_scalar_reduce(a.data(), wide.data());
  // Sanity: this a is the key's secret (aB is the public key).
  std::array<std::uint8_t, 32> public_check{};
  ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(public_check.data(), a.data()), 0);
  ASSERT_EQ(public_check, key.public_key().bytes);

  const Bytes message{1, 2, 3, 4};
  const std::array<std::uint8_t, 32> r = {9, 8, 7, 6, 5, 4, 3, 2, 1};
  std::array<std::uint8_t, 32> r_point{};
  ASSERT_EQ(crypto_scalarmult_ed25519_base_noclamp(r_point.data(), r.data()), 0);
  const auto order8 = from_hex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
  ASSERT_TRUE(order8.is_ok());
  Signature signature;
  ASSERT_EQ(crypto_core_ed25519_add(signature.bytes.data(), r_point.data(), order8->data()), 0);
  // h = SHA-512(R || A || M) mod L; S = r + h a.
  std::array<std::uint8_t, 64> digest{};
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, signature.bytes.data(), 32);
  crypto_hash_sha512_update(&state, key.public_key().bytes.data(), 32);
  crypto_hash_sha512_update(&state, message.data(), message.size());
  crypto_hash_sha512_final(&state, digest.data());
  std::array<std::uint8_t, 32> h{}, ha{}, s{};
  crypto_core_ed25519_scalar_reduce(h.data(), digest.data());
  crypto_core_ed25519_scalar_mul(ha.data(), h.data(), a.data());
  crypto_core_ed25519_scalar_add(s.data(), r.data(), ha.data());
  std::copy(s.begin(), s.end(), signature.bytes.begin() + 32);

  EXPECT_FALSE(verify_signature(key.public_key(), message, signature));
  EXPECT_TRUE(verify_cofactored(key.public_key(), message, signature));
  auto items = make_signed(5, 5);
  items[0] = {key.public_key(), message, signature};
  EXPECT_TRUE(verify_batch(as_batch(items)));
  // Without the small-order part, the same construction is an ordinary valid signature.
  Signature plain = signature;
  std::copy(r_point.begin(), r_point.end(), plain.bytes.begin());
  EXPECT_FALSE(verify_cofactored(key.public_key(), message, plain));  // h was computed over the other R
}

TEST(Ed25519Batch, AgreesWithWycheproofOnEveryValidAndInvalidVector) {
  ASSERT_TRUE(init_crypto());
  const std::string path = std::string(CARBON_TEST_DATA_DIR) + "/wycheproof/ed25519_test.json";
  std::ifstream file(path);
  const auto root = nlohmann::json::parse(file, nullptr, false);
  ASSERT_TRUE(root.is_object()) << "cannot read or parse " << path;
  std::size_t checked = 0;
  for (const auto& group : root.at("testGroups")) {
    const auto key = PublicKey::from_hex(group.at("publicKey").at("pk").get<std::string>());
    for (const auto& test : group.at("tests")) {
      const std::string result = test.at("result").get<std::string>();
      const auto message = from_hex(test.at("msg").get<std::string>());
      const auto signature = Signature::from_hex(test.at("sig").get<std::string>());
      ASSERT_TRUE(message.is_ok());
      const bool accepted =
          key.is_ok() && signature.is_ok() && verify_cofactored(*key, *message, *signature);
      const std::string context = "tcId " + std::to_string(test.at("tcId").get<int>()) + " " + test.value("comment", "");
      if (result == "valid") {
        EXPECT_TRUE(accepted) << context;
      }
      if (result == "invalid") {
        EXPECT_FALSE(accepted) << context;
      }
      // Whatever the strict verifier accepts, the cofactored rule accepts too.
      if (key.is_ok() && signature.is_ok() && verify_signature(*key, *message, *signature)) {
        EXPECT_TRUE(accepted) << context;
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

}  // namespace
}  // namespace carbon::core
