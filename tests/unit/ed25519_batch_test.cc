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
#include <thread>
#include <algorithm>
#include <vector>

#include "core/bytes.h"
#include "core/ed25519_batch.h"
#include "core/keys.h"
#include "crafted_signature.h"

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

// Keys' tables are cached and shared by threads (core/ed25519_batch.h): more distinct keys than
// the cache holds, checked from two threads at once in opposite orders, so tables are built,
// shared, moved between generations, dropped and built again while the other thread reads.
TEST(Ed25519Batch, KeyTablesStayRightWhenThreadsShareTheCacheAndItDropsSome) {
  ASSERT_TRUE(init_crypto());
  const auto items = make_signed(kKeyTableCacheEntries + 200, 7);
  constexpr std::size_t kBatch = 64;
  auto check_all = [&](bool forward, int& wrong) {
    std::vector<std::size_t> starts;
    for (std::size_t from = 0; from < items.size(); from += kBatch) starts.push_back(from);
    if (!forward) std::reverse(starts.begin(), starts.end());
    for (const std::size_t from : starts) {
      std::vector<Signed> chunk(items.begin() + static_cast<std::ptrdiff_t>(from),
                                items.begin() + static_cast<std::ptrdiff_t>(std::min(items.size(), from + kBatch)));
      if (!verify_batch(as_batch(chunk))) ++wrong;
      chunk[chunk.size() / 2].signature.bytes[5] ^= 0x01;  // R of one signature changed
      if (verify_batch(as_batch(chunk))) ++wrong;
    }
  };
  int wrong_forward = 0, wrong_backward = 0;
  std::thread other([&] { check_all(false, wrong_backward); });
  check_all(true, wrong_forward);
  other.join();
  EXPECT_EQ(wrong_forward, 0);
  EXPECT_EQ(wrong_backward, 0);
  // The first keys' tables were dropped when the cache filled up: built again, still right.
  const std::vector<Signed> first(items.begin(), items.begin() + kBatch);
  EXPECT_TRUE(verify_batch(as_batch(first)));
  EXPECT_TRUE(verify_cofactored(first[0].key, first[0].message, first[0].signature));
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
  const auto& order8 = test_crypto::kOrder8Point;
  Signed small_r = items[2];
  std::copy(order8.begin(), order8.end(), small_r.signature.bytes.begin());
  EXPECT_FALSE(verify_cofactored(small_r.key, small_r.message, small_r.signature));

  // R whose y is not below p (y = p + 1 would be the identity in disguise).
  Signed big_y = items[3];
  std::fill(big_y.signature.bytes.begin(), big_y.signature.bytes.begin() + 32, 0xff);
  big_y.signature.bytes[31] = 0x7f;
  big_y.signature.bytes[0] = 0xee;  // p + 1
  EXPECT_FALSE(verify_cofactored(big_y.key, big_y.message, big_y.signature));

  // A small-order key.
  Signed small_key = items[0];
  std::copy(order8.begin(), order8.end(), small_key.key.bytes.begin());
  EXPECT_FALSE(verify_cofactored(small_key.key, small_key.message, small_key.signature));

  EXPECT_FALSE(verify_batch({}));
  const auto many = make_signed(1, 4);
  std::vector<BatchSignature> too_many(kMaxBatchSignatures + 1, as_batch(many)[0]);
  EXPECT_FALSE(verify_batch(too_many));
  too_many.resize(kMaxBatchSignatures);
  EXPECT_TRUE(verify_batch(too_many));
}

// The one difference between the rules (tests/unit/crafted_signature.h), and why only the key's
// owner can make use of it.
TEST(Ed25519Batch, ASignerCanMakeASignatureOnlyTheCofactoredRuleAccepts) {
  ASSERT_TRUE(init_crypto());
  const std::array<std::uint8_t, 32> seed{42};
  const PublicKey key = SecretKey(seed).public_key();
  const Bytes message{1, 2, 3, 4};
  const Signature signature = test_crypto::sign_with_small_order_part(seed, message);
  EXPECT_FALSE(verify_signature(key, message, signature));
  EXPECT_TRUE(verify_cofactored(key, message, signature));
  auto items = make_signed(5, 5);
  items[0] = {key, message, signature};
  EXPECT_TRUE(verify_batch(as_batch(items)));
  // A third party who adds a small-order point to an honest signature's R breaks it under both
  // rules: R is hashed into h.
  Signature twin = items[1].signature;
  ASSERT_EQ(crypto_core_ed25519_add(twin.bytes.data(), items[1].signature.bytes.data(), test_crypto::kOrder8Point.data()), 0);
  EXPECT_FALSE(verify_signature(items[1].key, items[1].message, twin));
  EXPECT_FALSE(verify_cofactored(items[1].key, items[1].message, twin));
}

// Each of the checks before the equation, on a signature that satisfies the cofactored equation
// and that only that check refuses (with an honest S, as in the test above, the equation would
// refuse them anyway).
TEST(Ed25519Batch, EachCheckRefusesASignatureThatSatisfiesTheEquation) {
  ASSERT_TRUE(init_crypto());
  const Bytes message{5, 6, 7};
  const test_crypto::Scalar r = {3, 1, 4, 1, 5, 9, 2, 6};
  const auto r_point = test_crypto::times_base(r);
  auto others = make_signed(4, 9);
  const auto refused_alone_and_in_a_batch = [&](const PublicKey& key, const Signature& signature) {
    EXPECT_FALSE(verify_cofactored(key, message, signature));
    EXPECT_FALSE(verify_signature(key, message, signature));
    auto items = others;
    items.push_back({key, message, signature});
    EXPECT_FALSE(verify_batch(as_batch(items)));
  };
  // A small-order key T: with R = rB and S = r, [8]([S]B - R - [h]T) is the identity for any
  // message, which would make anyone able to sign for T. Only the key check refuses it.
  {
    PublicKey key;
    key.bytes = test_crypto::kOrder8Point;
    refused_alone_and_in_a_batch(key, test_crypto::sign_raw(test_crypto::Scalar{}, r, r_point, key.bytes, message));
  }
  // A mixed-order key A + T, signed by A's owner: [S]B - R - [h](A + T) = -[h]T, which the
  // multiplication by 8 removes. Only the subgroup check on the key refuses it.
  {
    const std::array<std::uint8_t, 32> seed{77};
    PublicKey key;
    ASSERT_EQ(crypto_core_ed25519_add(key.bytes.data(), SecretKey(seed).public_key().bytes.data(),
                                      test_crypto::kOrder8Point.data()),
              0);
    refused_alone_and_in_a_batch(
        key, test_crypto::sign_raw(test_crypto::secret_scalar(seed), r, r_point, key.bytes, message));
  }
  // R = T of order 8 with S = h a: [S]B - T - [h]A = -T. Only the small-order check on R refuses.
  {
    const std::array<std::uint8_t, 32> seed{78};
    const PublicKey key = SecretKey(seed).public_key();
    refused_alone_and_in_a_batch(key, test_crypto::sign_raw(test_crypto::secret_scalar(seed), test_crypto::Scalar{},
                                                            test_crypto::kOrder8Point, key.bytes, message));
  }
  // The same constructions with nothing wrong are accepted (so the refusals above come from the
  // checks, not from a construction that fails anyway).
  {
    const std::array<std::uint8_t, 32> seed{79};
    const PublicKey key = SecretKey(seed).public_key();
    const Signature good = test_crypto::sign_raw(test_crypto::secret_scalar(seed), r, r_point, key.bytes, message);
    EXPECT_TRUE(verify_signature(key, message, good));
    EXPECT_TRUE(verify_cofactored(key, message, good));
  }
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
