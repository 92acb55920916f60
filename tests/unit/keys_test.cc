#include "core/keys.h"

#include <cryptopp/donna.h>
#include <gtest/gtest.h>
#include <sodium.h>

#include <array>
#include <cstring>
#include <random>
#include <string>

namespace carbon::core {
namespace {

SecretKey key_from_seed_hex(std::string_view seed_hex) {
  const auto seed = fixed_from_hex<32>(seed_hex);
  CARBON_ASSERT(seed.is_ok());
  return SecretKey(*seed);
}

Signature signature_from_hex(std::string_view hex) {
  const auto signature = Signature::from_hex(hex);
  CARBON_ASSERT(signature.is_ok());
  return *signature;
}

struct Rfc8032Vector {
  const char* name;
  const char* seed_hex;
  const char* public_key_hex;
  const char* message_hex;
  const char* signature_hex;
};

// RFC 8032 section 7.1, TEST 1 and TEST 2 (values checked against an independent
// implementation, Python's cryptography package).
constexpr Rfc8032Vector kRfc8032Vectors[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b"
     "46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11"
     "d8c387b2eaeb4302aeeb00d291612bb0c00"},
};

TEST(Ed25519Test, Rfc8032Vectors) {
  for (const Rfc8032Vector& vector : kRfc8032Vectors) {
    SCOPED_TRACE(vector.name);
    const SecretKey key = key_from_seed_hex(vector.seed_hex);
    EXPECT_EQ(key.public_key().to_hex(), vector.public_key_hex);
    const auto message = from_hex(vector.message_hex);
    ASSERT_TRUE(message.is_ok());
    const Signature signature = key.sign(*message);
    EXPECT_EQ(signature.to_hex(), vector.signature_hex);
    const auto public_key = PublicKey::from_hex(vector.public_key_hex);
    ASSERT_TRUE(public_key.is_ok());
    EXPECT_TRUE(is_valid_public_key(*public_key));
    EXPECT_TRUE(verify_signature(*public_key, *message, signature_from_hex(vector.signature_hex)));
  }
}

TEST(Ed25519Test, SignVerifyRoundTrip) {
  const SecretKey key = generate_secret_key();
  const std::string message = "transfer 100 t CO2e from A to B, nonce 7";
  const Signature signature = key.sign(as_bytes(message));
  EXPECT_TRUE(verify_signature(key.public_key(), as_bytes(message), signature));
  // Ed25519 is deterministic: the same key and message give the same signature.
  EXPECT_EQ(key.sign(as_bytes(message)), signature);
  EXPECT_TRUE(verify_signature(key.public_key(), as_bytes(""), key.sign(as_bytes(""))));
}

TEST(Ed25519Test, SeedReproducesTheKey) {
  const SecretKey key = generate_secret_key();
  const SecretKey again(key.seed());
  EXPECT_EQ(again.public_key(), key.public_key());
  const SecretKey copy = key;  // NOLINT(performance-unnecessary-copy-initialization): testing copy
  EXPECT_EQ(copy.sign(as_bytes("m")), key.sign(as_bytes("m")));
  EXPECT_NE(generate_secret_key().public_key(), key.public_key());
}

TEST(Ed25519Test, TamperedMessageIsRejected) {
  const SecretKey key = generate_secret_key();
  const std::string message = "retire serials 1000-1099";
  const Signature signature = key.sign(as_bytes(message));
  for (std::size_t i = 0; i < message.size(); ++i) {
    std::string tampered = message;
    tampered[i] = static_cast<char>(tampered[i] ^ 0x01);
    EXPECT_FALSE(verify_signature(key.public_key(), as_bytes(tampered), signature)) << "byte " << i;
  }
  EXPECT_FALSE(verify_signature(key.public_key(), as_bytes(message + "!"), signature));
  EXPECT_FALSE(verify_signature(key.public_key(), as_bytes(message.substr(1)), signature));
}

TEST(Ed25519Test, TamperedSignatureIsRejected) {
  const SecretKey key = generate_secret_key();
  const std::string message = "allocate 5000 t to plant 17";
  const Signature signature = key.sign(as_bytes(message));
  for (std::size_t i = 0; i < signature.bytes.size(); ++i) {
    for (const std::uint8_t flip : {std::uint8_t{0x01}, std::uint8_t{0x80}}) {
      Signature tampered = signature;
      tampered.bytes[i] = static_cast<std::uint8_t>(tampered.bytes[i] ^ flip);
      EXPECT_FALSE(verify_signature(key.public_key(), as_bytes(message), tampered))
          << "byte " << i << " flip " << int{flip};
    }
  }
  EXPECT_FALSE(verify_signature(key.public_key(), as_bytes(message), Signature{}));
}

TEST(Ed25519Test, WrongKeyIsRejected) {
  const SecretKey signer = generate_secret_key();
  const SecretKey other = generate_secret_key();
  const Signature signature = signer.sign(as_bytes("m"));
  EXPECT_FALSE(verify_signature(other.public_key(), as_bytes("m"), signature));
}

TEST(Ed25519Test, SmallOrderAndNonCanonicalKeysAreInvalid) {
  // The identity point (y = 1) and the all-zero encoding (y = 0, a point of order 4) are of
  // small order; y = 2^255 - 1 is not reduced mod p. None may be used as a validator key.
  const char* bad_keys[] = {
      "0100000000000000000000000000000000000000000000000000000000000000",
      "0000000000000000000000000000000000000000000000000000000000000000",
      "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
  };
  const SecretKey signer = generate_secret_key();
  const Signature signature = signer.sign(as_bytes("m"));
  for (const char* hex : bad_keys) {
    const auto key = PublicKey::from_hex(hex);
    ASSERT_TRUE(key.is_ok());
    EXPECT_FALSE(is_valid_public_key(*key)) << hex;
    EXPECT_FALSE(verify_signature(*key, as_bytes("m"), signature)) << hex;
  }
  EXPECT_TRUE(is_valid_public_key(signer.public_key()));
}

TEST(Ed25519Test, HexForms) {
  const SecretKey key = generate_secret_key();
  const PublicKey public_key = key.public_key();
  EXPECT_EQ(public_key.to_hex().size(), 64u);
  EXPECT_EQ(public_key.short_hex(), public_key.to_hex().substr(0, 8));
  const auto parsed = PublicKey::from_hex(public_key.to_hex());
  ASSERT_TRUE(parsed.is_ok());
  EXPECT_EQ(*parsed, public_key);
  EXPECT_FALSE(PublicKey::from_hex(public_key.to_hex().substr(2)).is_ok());

  const Signature signature = key.sign(as_bytes("m"));
  const auto parsed_signature = Signature::from_hex(signature.to_hex());
  ASSERT_TRUE(parsed_signature.is_ok());
  EXPECT_EQ(*parsed_signature, signature);
  EXPECT_FALSE(Signature::from_hex(public_key.to_hex()).is_ok());
}


// ---- verification: the Crypto++ equation behind libsodium's strict rules (keys.cc)

bool libsodium_accepts(const PublicKey& key, ByteView message, const Signature& signature) {
  return crypto_sign_verify_detached(signature.bytes.data(), message.data(), message.size(), key.bytes.data()) == 0;
}

bool equation_alone_holds(const PublicKey& key, ByteView message, const Signature& signature) {
  return CryptoPP::Donna::ed25519_sign_open(message.data(), message.size(), key.bytes.data(), signature.bytes.data()) == 0;
}

// Adds two 32-byte little-endian numbers (the caller keeps the sum below 2^256).
std::array<std::uint8_t, 32> add_le(const std::uint8_t* a, const std::uint8_t* b) {
  std::array<std::uint8_t, 32> sum{};
  unsigned carry = 0;
  for (std::size_t i = 0; i < sum.size(); ++i) {
    const unsigned digit = unsigned{a[i]} + unsigned{b[i]} + carry;
    sum[i] = static_cast<std::uint8_t>(digit);
    carry = digit >> 8;
  }
  return sum;
}

std::array<std::uint8_t, 32> group_order() {
  return *fixed_from_hex<32>("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
}

TEST(Ed25519Test, CanonicalScalarBoundsAreTheGroupOrder) {
  const auto order = group_order();
  // The constant is the group order: it reduces to zero.
  std::array<std::uint8_t, 64> wide{};
  std::memcpy(wide.data(), order.data(), order.size());
  std::array<std::uint8_t, 32> reduced{};
  crypto_core_ed25519_scalar_reduce(reduced.data(), wide.data());
  EXPECT_EQ(reduced, (std::array<std::uint8_t, 32>{}));

  const std::array<std::uint8_t, 32> one = {1};
  std::array<std::uint8_t, 32> below = order;
  below[0] = static_cast<std::uint8_t>(below[0] - 1);
  std::array<std::uint8_t, 32> top_bit{};
  top_bit[31] = 0x80;
  EXPECT_TRUE(is_canonical_scalar(std::array<std::uint8_t, 32>{}.data()));
  EXPECT_TRUE(is_canonical_scalar(below.data()));
  EXPECT_FALSE(is_canonical_scalar(order.data()));
  EXPECT_FALSE(is_canonical_scalar(add_le(order.data(), one.data()).data()));
  EXPECT_FALSE(is_canonical_scalar(top_bit.data()));
}

TEST(Ed25519Test, SAboveTheGroupOrderIsRejected) {
  const SecretKey key = key_from_seed_hex("0101010101010101010101010101010101010101010101010101010101010101");
  const std::string message = "surrender 700 t for 2025";
  const Signature signature = key.sign(as_bytes(message));
  Signature malleated = signature;
  const auto order = group_order();
  const auto s_plus_l = add_le(signature.bytes.data() + 32, order.data());
  std::memcpy(malleated.bytes.data() + 32, s_plus_l.data(), s_plus_l.size());
  // S + L satisfies the equation (the looser check alone takes it), so only the S < L rule
  // stands between it and a second valid signature on the same message.
  EXPECT_TRUE(equation_alone_holds(key.public_key(), as_bytes(message), malleated));
  EXPECT_FALSE(libsodium_accepts(key.public_key(), as_bytes(message), malleated));
  EXPECT_FALSE(verify_signature(key.public_key(), as_bytes(message), malleated));
  EXPECT_TRUE(verify_signature(key.public_key(), as_bytes(message), signature));
}

TEST(Ed25519Test, IdentityRIsRejected) {
  // A key holder can sign with r = 0: R is the identity and S = h·a. The equation holds, but
  // R is of small order and libsodium refuses it; so must we.
  const SecretKey key = key_from_seed_hex("0202020202020202020202020202020202020202020202020202020202020202");
  const std::string message = "issue 1000 t";
  std::array<std::uint8_t, 64> expanded{};
  std::array<std::uint8_t, 32> ignored_public{};
  ASSERT_EQ(crypto_sign_seed_keypair(ignored_public.data(), expanded.data(), key.seed().data()), 0);
  std::array<std::uint8_t, 64> wide_secret{};  // a, the clamped secret scalar, reduced mod L below
  ASSERT_EQ(crypto_sign_ed25519_sk_to_curve25519(wide_secret.data(), expanded.data()), 0);
  std::array<std::uint8_t, 32> secret_scalar{};
  crypto_core_ed25519_scalar_reduce(secret_scalar.data(), wide_secret.data());

  Signature forged;
  forged.bytes[0] = 0x01;  // R = identity
  std::array<std::uint8_t, 64> digest{};
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, forged.bytes.data(), 32);
  crypto_hash_sha512_update(&state, key.public_key().bytes.data(), 32);
  crypto_hash_sha512_update(&state, reinterpret_cast<const unsigned char*>(message.data()), message.size());
  crypto_hash_sha512_final(&state, digest.data());
  std::array<std::uint8_t, 32> h{};
  crypto_core_ed25519_scalar_reduce(h.data(), digest.data());
  crypto_core_ed25519_scalar_mul(forged.bytes.data() + 32, h.data(), secret_scalar.data());

  EXPECT_TRUE(equation_alone_holds(key.public_key(), as_bytes(message), forged));
  EXPECT_FALSE(libsodium_accepts(key.public_key(), as_bytes(message), forged));
  EXPECT_FALSE(verify_signature(key.public_key(), as_bytes(message), forged));
}

TEST(Ed25519Test, AgreesWithLibsodiumOnValidAndMangledSignatures) {
  // Differential: genuine signatures, and signatures, messages and keys with bits flipped or
  // bytes replaced (including R and S set to small-order encodings and edge scalars), must get
  // the same verdict from our verifier as from libsodium's strict one (for a key that passes
  // is_valid_public_key, which is checked first and is stricter than libsodium's key rule).
  std::mt19937_64 random(20261206);
  const std::array<std::array<std::uint8_t, 32>, 6> special_halves = {{
      {},                                         // 0: y = 0, order 4 as R; zero as S
      {0x01},                                     // the identity as R; one as S
      group_order(),                              // L
      *fixed_from_hex<32>("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  // y = p - 1
      *fixed_from_hex<32>("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  // y = p
      *fixed_from_hex<32>("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),  // order 8
  }};
  std::size_t accepted = 0;
  std::size_t rejected = 0;
  for (int k = 0; k < 64; ++k) {
    std::array<std::uint8_t, 32> seed{};
    for (auto& b : seed) b = static_cast<std::uint8_t>(random());
    const SecretKey key(seed);
    std::string message(static_cast<std::size_t>(random() % 200), '\0');
    for (auto& c : message) c = static_cast<char>(random());
    const Signature signature = key.sign(as_bytes(message));
    auto compare = [&](const PublicKey& public_key, const std::string& text, const Signature& sig, const char* what) {
      const bool ours = verify_signature(public_key, as_bytes(text), sig);
      const bool reference = is_valid_public_key(public_key) && libsodium_accepts(public_key, as_bytes(text), sig);
      EXPECT_EQ(ours, reference) << what << " (case " << k << ")";
      ++(ours ? accepted : rejected);
    };
    compare(key.public_key(), message, signature, "genuine");
    for (int flip = 0; flip < 16; ++flip) {
      Signature mangled = signature;
      const auto bit = random() % 512;
      mangled.bytes[bit / 8] = static_cast<std::uint8_t>(mangled.bytes[bit / 8] ^ (1u << (bit % 8)));
      compare(key.public_key(), message, mangled, "signature bit flipped");
    }
    for (const auto& half : special_halves) {
      Signature with_r = signature;
      std::memcpy(with_r.bytes.data(), half.data(), 32);
      compare(key.public_key(), message, with_r, "special R");
      Signature with_s = signature;
      std::memcpy(with_s.bytes.data() + 32, half.data(), 32);
      compare(key.public_key(), message, with_s, "special S");
    }
    if (!message.empty()) {
      std::string altered = message;
      altered[random() % altered.size()] ^= 0x10;
      compare(key.public_key(), altered, signature, "message altered");
    }
    PublicKey other = key.public_key();
    other.bytes[random() % 32] ^= static_cast<std::uint8_t>(1u << (random() % 8));
    compare(other, message, signature, "key bit flipped");
  }
  EXPECT_EQ(accepted, 64u);  // exactly the genuine ones
  EXPECT_GT(rejected, 64u * 16u);
}

}  // namespace
}  // namespace carbon::core
