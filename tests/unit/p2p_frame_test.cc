// FrameDecoder: reassembly across arbitrary splits, the limit checked on the header before
// anything is buffered, and a changed limit applying to later frames only.
#include <gtest/gtest.h>

#include "node/p2p/frame.h"

namespace carbon::node::p2p {
namespace {

using core::Bytes;
using core::ByteView;

TEST(FrameTest, HeaderIsBigEndian) {
  const auto header = encode_frame_header(0x01020304u);
  EXPECT_EQ(header[0], 0x01);
  EXPECT_EQ(header[3], 0x04);
  auto length = decode_frame_header(header, 0xFFFFFFFFu);
  ASSERT_TRUE(length.is_ok());
  EXPECT_EQ(*length, 0x01020304u);
}

TEST(FrameTest, ReassemblesFramesFedOneByteAtATime) {
  Bytes stream;
  for (std::uint8_t i = 0; i < 5; ++i) {
    Bytes body(i * 7u, i);
    auto frame = encode_frame(body);
    stream.insert(stream.end(), frame.begin(), frame.end());
  }
  FrameDecoder decoder(1024);
  std::vector<Bytes> bodies;
  for (std::uint8_t byte : stream) {
    decoder.append(ByteView(&byte, 1));
    for (;;) {
      auto next = decoder.next();
      ASSERT_TRUE(next.is_ok());
      if (!next->has_value()) break;
      bodies.push_back(std::move(**next));
    }
  }
  ASSERT_EQ(bodies.size(), 5u);
  for (std::uint8_t i = 0; i < 5; ++i) EXPECT_EQ(bodies[i], Bytes(i * 7u, i));
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
}

TEST(FrameTest, OversizeHeaderFailsBeforeTheBodyArrives) {
  FrameDecoder decoder(kMaxFrameBytes);
  const auto header = encode_frame_header(kMaxFrameBytes + 1);
  decoder.append(header);
  auto next = decoder.next();
  ASSERT_FALSE(next.is_ok());
  EXPECT_EQ(next.status().code(), core::ErrorCode::kOutOfBounds);
  EXPECT_EQ(decoder.buffered_bytes(), 0u);
  // Stays failed.
  decoder.append(Bytes(10, 0));
  EXPECT_FALSE(decoder.next().is_ok());
}

TEST(FrameTest, MaxLengthHeaderIsRejectedWithoutAllocating) {
  FrameDecoder decoder(kMaxHandshakeFrameBytes);
  decoder.append(Bytes{0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3});
  EXPECT_FALSE(decoder.next().is_ok());
}

TEST(FrameTest, RaisedLimitAppliesToLaterFrames) {
  FrameDecoder decoder(8);
  auto small = encode_frame(Bytes(8, 1));
  auto large = encode_frame(Bytes(100, 2));
  decoder.append(small);
  decoder.append(large);
  auto first = decoder.next();
  ASSERT_TRUE(first.is_ok() && first->has_value());
  decoder.set_max_body_bytes(100);
  auto second = decoder.next();
  ASSERT_TRUE(second.is_ok() && second->has_value());
  EXPECT_EQ(**second, Bytes(100, 2));
}

TEST(FrameTest, TruncatedFrameWaitsForMore) {
  FrameDecoder decoder(1024);
  auto frame = encode_frame(Bytes(50, 9));
  decoder.append(ByteView(frame.data(), 30));
  auto next = decoder.next();
  ASSERT_TRUE(next.is_ok());
  EXPECT_FALSE(next->has_value());
  EXPECT_EQ(decoder.buffered_bytes(), 30u);
}

}  // namespace
}  // namespace carbon::node::p2p
