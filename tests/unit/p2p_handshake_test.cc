// The handshake without sockets: both sides agree on mirrored keys; every refusal has its own
// clear Status; a tampered transcript or signature fails; the Wycheproof X25519 vectors with a
// low-order public key (zero shared secret) are refused
// (tests/data/wycheproof/x25519_test.json, Apache 2.0, see the LICENSE next to it).
#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "core/bytes.h"
#include "core/keys.h"
#include "node/p2p/handshake.h"

namespace carbon::node::p2p {
namespace {

using core::Bytes;
using core::ErrorCode;

core::SecretKey key_from_byte(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return core::SecretKey(seed);
}

std::shared_ptr<const HandshakeIdentity> identity(const core::SecretKey& key, std::string chain,
                                                  std::vector<core::PublicKey> allowed) {
  auto id = std::make_shared<HandshakeIdentity>();
  id->chain_id = std::move(chain);
  id->static_key = key;
  id->allowed_keys = std::move(allowed);
  return id;
}

class HandshakeTest : public ::testing::Test {
 protected:
  core::SecretKey a_ = key_from_byte(1);
  core::SecretKey b_ = key_from_byte(2);
  core::SecretKey outsider_ = key_from_byte(3);
  std::vector<core::PublicKey> set_{a_.public_key(), b_.public_key()};
};

TEST_F(HandshakeTest, BothSidesAgreeOnMirroredKeys) {
  Handshake init(HandshakeRole::kInitiator, identity(a_, "chain", set_));
  Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
  ASSERT_TRUE(resp.receive_hello(init.hello()).is_ok());
  ASSERT_TRUE(init.receive_hello(resp.hello()).is_ok());
  auto init_keys = init.receive_auth(resp.auth());
  auto resp_keys = resp.receive_auth(init.auth());
  ASSERT_TRUE(init_keys.is_ok()) << init_keys.status().to_string();
  ASSERT_TRUE(resp_keys.is_ok()) << resp_keys.status().to_string();
  EXPECT_EQ(init_keys->send_key, resp_keys->receive_key);
  EXPECT_EQ(init_keys->receive_key, resp_keys->send_key);
  EXPECT_NE(init_keys->send_key, init_keys->receive_key);
  EXPECT_EQ(init_keys->transcript_hash, resp_keys->transcript_hash);
  EXPECT_EQ(init_keys->peer_key, b_.public_key());
  EXPECT_EQ(resp_keys->peer_key, a_.public_key());
}

TEST_F(HandshakeTest, FreshEphemeralKeysGiveFreshSessionKeys) {
  auto run = [&] {
    Handshake init(HandshakeRole::kInitiator, identity(a_, "chain", set_));
    Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
    EXPECT_TRUE(resp.receive_hello(init.hello()).is_ok());
    EXPECT_TRUE(init.receive_hello(resp.hello()).is_ok());
    return init.receive_auth(resp.auth()).value().send_key;
  };
  EXPECT_NE(run(), run());
}

TEST_F(HandshakeTest, UnknownStaticKeyIsRefused) {
  Handshake init(HandshakeRole::kInitiator,
                 identity(outsider_, "chain", {outsider_.public_key(), b_.public_key()}));
  Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
  const auto status = resp.receive_hello(init.hello());
  EXPECT_EQ(status.code(), ErrorCode::kUnauthorized);
  EXPECT_NE(status.message().find("not in the validator set"), std::string::npos)
      << status.message();
}

TEST_F(HandshakeTest, PeerClaimingOurOwnKeyIsRefused) {
  Handshake init(HandshakeRole::kInitiator, identity(b_, "chain", set_));
  Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
  const auto status = resp.receive_hello(init.hello());
  EXPECT_EQ(status.code(), ErrorCode::kUnauthorized);
  EXPECT_NE(status.message().find("our own"), std::string::npos) << status.message();
}

TEST_F(HandshakeTest, WrongChainIdIsRefused) {
  Handshake init(HandshakeRole::kInitiator, identity(a_, "other-chain", set_));
  Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
  const auto status = resp.receive_hello(init.hello());
  EXPECT_EQ(status.code(), ErrorCode::kInvalidArgument);
  EXPECT_NE(status.message().find("other-chain"), std::string::npos) << status.message();
}

TEST_F(HandshakeTest, WrongProtocolVersionIsRefused) {
  Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
  Hello hello;
  hello.protocol_version = kProtocolVersion + 1;
  hello.chain_id = "chain";
  hello.static_key = a_.public_key();
  hello.ephemeral_key = EphemeralKeyPair::generate().public_key();
  EXPECT_EQ(resp.receive_hello(encode_hello(hello)).code(), ErrorCode::kInvalidArgument);
}

TEST_F(HandshakeTest, MalformedHellosAreDecodeErrors) {
  Handshake init(HandshakeRole::kInitiator, identity(a_, "chain", set_));
  Bytes hello = init.hello();
  const std::vector<Bytes> bad = {
      Bytes{},
      Bytes(hello.begin(), hello.end() - 1),  // truncated
      [&] {
        Bytes h = hello;
        h.push_back(0);
        return h;
      }(),  // trailing byte
      [&] {
        Bytes h = hello;
        h[0] = 2;
        return h;
      }(),  // an Auth type byte
      [&] {
        Bytes h = hello;
        h[5] = 200;
        return h;
      }(),  // chain id length over the limit
  };
  for (const auto& message : bad) {
    Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
    EXPECT_EQ(resp.receive_hello(message).code(), ErrorCode::kDecodeError);
  }
}

TEST_F(HandshakeTest, TamperedHelloMakesTranscriptsDifferAndAuthFail) {
  // A man in the middle swaps the initiator's ephemeral key for its own.
  Handshake init(HandshakeRole::kInitiator, identity(a_, "chain", set_));
  Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
  auto hello = decode_hello(init.hello());
  ASSERT_TRUE(hello.is_ok());
  hello->ephemeral_key = EphemeralKeyPair::generate().public_key();
  ASSERT_TRUE(resp.receive_hello(encode_hello(*hello)).is_ok());
  ASSERT_TRUE(init.receive_hello(resp.hello()).is_ok());
  const Bytes init_auth = init.auth();
  const Bytes resp_auth = resp.auth();
  auto at_init = init.receive_auth(resp_auth);
  ASSERT_FALSE(at_init.is_ok());
  EXPECT_EQ(at_init.status().code(), ErrorCode::kBadSignature);
  auto at_resp = resp.receive_auth(init_auth);
  EXPECT_EQ(at_resp.status().code(), ErrorCode::kBadSignature);
}

TEST_F(HandshakeTest, BadSignatureIsRefused) {
  Handshake init(HandshakeRole::kInitiator, identity(a_, "chain", set_));
  Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
  ASSERT_TRUE(resp.receive_hello(init.hello()).is_ok());
  ASSERT_TRUE(init.receive_hello(resp.hello()).is_ok());
  Bytes auth = resp.auth();
  auth[10] ^= 0x40;
  auto keys = init.receive_auth(auth);
  ASSERT_FALSE(keys.is_ok());
  EXPECT_EQ(keys.status().code(), ErrorCode::kBadSignature);
}

TEST_F(HandshakeTest, AuthReflectedBackIsRefused) {
  // The signer's role is signed, so our own Auth sent back to us does not verify (and it is
  // signed by the wrong key anyway).
  Handshake init(HandshakeRole::kInitiator, identity(a_, "chain", set_));
  Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
  ASSERT_TRUE(resp.receive_hello(init.hello()).is_ok());
  ASSERT_TRUE(init.receive_hello(resp.hello()).is_ok());
  EXPECT_FALSE(init.receive_auth(init.auth()).is_ok());
}

TEST_F(HandshakeTest, AuthFromAnEarlierSessionIsRefused) {
  Handshake init1(HandshakeRole::kInitiator, identity(a_, "chain", set_));
  Handshake resp1(HandshakeRole::kResponder, identity(b_, "chain", set_));
  ASSERT_TRUE(resp1.receive_hello(init1.hello()).is_ok());
  ASSERT_TRUE(init1.receive_hello(resp1.hello()).is_ok());
  const Bytes old_auth = resp1.auth();

  Handshake init2(HandshakeRole::kInitiator, identity(a_, "chain", set_));
  Handshake resp2(HandshakeRole::kResponder, identity(b_, "chain", set_));
  ASSERT_TRUE(init2.receive_hello(resp2.hello()).is_ok());
  EXPECT_EQ(init2.receive_auth(old_auth).status().code(), ErrorCode::kBadSignature);
}

TEST_F(HandshakeTest, LowOrderEphemeralKeysInAHelloAreRefused) {
  // 0 and 1 are points of order 1 and 4 on Curve25519; any multiple is the zero point.
  for (std::uint8_t first : {std::uint8_t{0}, std::uint8_t{1}}) {
    Handshake resp(HandshakeRole::kResponder, identity(b_, "chain", set_));
    Hello hello;
    hello.chain_id = "chain";
    hello.static_key = a_.public_key();
    hello.ephemeral_key[0] = first;
    const auto status = resp.receive_hello(encode_hello(hello));
    EXPECT_EQ(status.code(), ErrorCode::kBadSignature);
    EXPECT_NE(status.message().find("low order"), std::string::npos) << status.message();
  }
}

TEST(HandshakeWycheproofTest, LowOrderX25519KeysAreRefused) {
  std::ifstream file(std::string(CARBON_TEST_DATA_DIR) + "/wycheproof/x25519_test.json");
  ASSERT_TRUE(file) << "missing tests/data/wycheproof/x25519_test.json";
  const auto vectors = nlohmann::json::parse(file, nullptr, /*allow_exceptions=*/false);
  ASSERT_FALSE(vectors.is_discarded());
  core::Hash256 transcript;
  transcript.bytes.fill(0x5a);
  std::size_t refused = 0;
  std::size_t accepted = 0;
  for (const auto& group : vectors["testGroups"]) {
    for (const auto& test : group["tests"]) {
      const auto secret = core::fixed_from_hex<32>(test["private"].get<std::string>());
      const auto public_key = core::fixed_from_hex<32>(test["public"].get<std::string>());
      ASSERT_TRUE(secret.is_ok() && public_key.is_ok());
      const auto& flags = test["flags"];
      const bool low_order =
          std::find(flags.begin(), flags.end(), "LowOrderPublic") != flags.end() ||
          std::find(flags.begin(), flags.end(), "ZeroSharedSecret") != flags.end() ||
          test["shared"].get<std::string>() == std::string(64, '0');
      const auto ours = EphemeralKeyPair::from_secret(*secret);
      for (auto role : {HandshakeRole::kInitiator, HandshakeRole::kResponder}) {
        const auto keys = derive_session_keys(role, ours, *public_key, transcript);
        if (low_order) {
          EXPECT_FALSE(keys.is_ok()) << "tcId " << test["tcId"] << " low-order key accepted";
          if (!keys.is_ok()) {
            EXPECT_EQ(keys.status().code(), ErrorCode::kBadSignature);
          }
        } else if (test["result"] == "valid") {
          EXPECT_TRUE(keys.is_ok()) << "tcId " << test["tcId"] << ": " << keys.status().to_string();
        }
      }
      (low_order ? refused : accepted) += 1;
    }
  }
  EXPECT_GE(refused, 20u);  // the file holds 31 such vectors
  EXPECT_GE(accepted, 100u);
}

}  // namespace
}  // namespace carbon::node::p2p
