#include "core/keys.h"

#include <gtest/gtest.h>

#include <array>
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

}  // namespace
}  // namespace carbon::core
