// SecureChannel: round trips in order, and any alteration, reordering or replay fails and
// leaves the channel failed; counters refuse to wrap.
#include <gtest/gtest.h>
#include <sodium.h>

#include "node/p2p/frame.h"
#include "node/p2p/secure_channel.h"

namespace carbon::node::p2p {
namespace {

using core::Bytes;

// Two matching ends: a's send key is b's receive key and the other way round.
std::pair<SessionKeys, SessionKeys> key_pair() {
  SessionKeys a;
  SessionKeys b;
  randombytes_buf(a.send_key.data(), a.send_key.size());
  randombytes_buf(a.receive_key.data(), a.receive_key.size());
  b.send_key = a.receive_key;
  b.receive_key = a.send_key;
  return {a, b};
}

TEST(SecureChannelTest, RoundTripsBothWaysInOrder) {
  auto [ka, kb] = key_pair();
  SecureChannel a(ka);
  SecureChannel b(kb);
  for (std::uint8_t i = 0; i < 20; ++i) {
    auto sealed = a.seal(Bytes(i, i));
    ASSERT_TRUE(sealed.is_ok());
    EXPECT_EQ(sealed->size(), i + kAeadTagBytes);
    auto opened = b.open(*sealed);
    ASSERT_TRUE(opened.is_ok());
    EXPECT_EQ(*opened, Bytes(i, i));
    auto back = b.seal(Bytes{i});
    ASSERT_TRUE(back.is_ok());
    ASSERT_TRUE(a.open(*back).is_ok());
  }
  EXPECT_EQ(a.messages_sent(), 20u);
  EXPECT_EQ(b.messages_received(), 20u);
}

TEST(SecureChannelTest, SameMessageTwiceGivesDifferentCiphertexts) {
  auto [ka, kb] = key_pair();
  SecureChannel a(ka);
  auto first = a.seal(Bytes(16, 7));
  auto second = a.seal(Bytes(16, 7));
  ASSERT_TRUE(first.is_ok() && second.is_ok());
  EXPECT_NE(*first, *second);  // distinct nonces
}

TEST(SecureChannelTest, FlippedBitFailsAndChannelStaysFailed) {
  auto [ka, kb] = key_pair();
  SecureChannel a(ka);
  SecureChannel b(kb);
  auto sealed = a.seal(Bytes(32, 1));
  ASSERT_TRUE(sealed.is_ok());
  (*sealed)[5] ^= 0x01;
  auto opened = b.open(*sealed);
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), core::ErrorCode::kBadSignature);
  EXPECT_TRUE(b.failed());
  auto next = a.seal(Bytes(4, 2));
  EXPECT_FALSE(b.open(*next).is_ok());
}

TEST(SecureChannelTest, ReorderedOrReplayedFramesFail) {
  auto [ka, kb] = key_pair();
  SecureChannel a(ka);
  auto first = a.seal(Bytes{1});
  auto second = a.seal(Bytes{2});
  {
    SecureChannel b(kb);
    EXPECT_FALSE(b.open(*second).is_ok());  // reordered
  }
  {
    SecureChannel b(kb);
    ASSERT_TRUE(b.open(*first).is_ok());
    EXPECT_FALSE(b.open(*first).is_ok());  // replayed
  }
}

TEST(SecureChannelTest, WrongDirectionKeyFails) {
  auto [ka, kb] = key_pair();
  SecureChannel a(ka);
  SecureChannel a2(ka);  // same keys as a: a's own frames must not open on a receive side of a
  auto sealed = a.seal(Bytes{1, 2, 3});
  EXPECT_FALSE(a2.open(*sealed).is_ok());
}

TEST(SecureChannelTest, ShortCiphertextIsRejected) {
  auto [ka, kb] = key_pair();
  SecureChannel b(kb);
  EXPECT_FALSE(b.open(Bytes(kAeadTagBytes - 1, 0)).is_ok());
}

TEST(SecureChannelTest, RefusesToReuseANonceAtTheCounterLimit) {
  auto [ka, kb] = key_pair();
  auto a = SecureChannel::with_counters_for_testing(ka, kMaxMessagesPerDirection - 1, 0);
  auto b = SecureChannel::with_counters_for_testing(kb, 0, kMaxMessagesPerDirection - 1);
  auto last = a.seal(Bytes{1});
  ASSERT_TRUE(last.is_ok());
  ASSERT_TRUE(b.open(*last).is_ok());
  auto over = a.seal(Bytes{2});
  ASSERT_FALSE(over.is_ok());
  EXPECT_EQ(over.status().code(), core::ErrorCode::kOutOfBounds);
  EXPECT_FALSE(b.open(*last).is_ok());
}

TEST(SecureChannelTest, OversizePlaintextIsRefused) {
  auto [ka, kb] = key_pair();
  SecureChannel a(ka);
  EXPECT_FALSE(a.seal(Bytes(kMaxPlaintextBytes + 1u, 0)).is_ok());
}

}  // namespace
}  // namespace carbon::node::p2p
