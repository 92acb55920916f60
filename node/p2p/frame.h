// Length-prefixed frames on a peer link: a 4-byte big-endian body length, then the body.
//
// The limit is checked on the header before a single body byte is buffered, and the decoder
// grows its buffer only with bytes that actually arrived, so a peer cannot make us allocate
// by announcing a large length. A header over the limit is a protocol error: the caller
// closes the connection and counts it. Before the handshake completes the limit is the small
// kMaxHandshakeFrameBytes, so an unauthenticated peer can make us buffer at most that much.
//
// Thread safety: FrameDecoder is a plain value owned by one connection; not shared.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "core/bytes.h"
#include "core/status.h"

namespace carbon::node::p2p {

inline constexpr std::size_t kFrameHeaderBytes = 4;
// Largest application message (a block with its payload is the largest; matches
// core::codec::kMaxEncodedBytes).
inline constexpr std::uint32_t kMaxPlaintextBytes = 16u * 1024u * 1024u;
// ChaCha20-Poly1305 tag (crypto_aead_chacha20poly1305_ietf_ABYTES; checked in frame.cc).
inline constexpr std::uint32_t kAeadTagBytes = 16;
// Largest body of an encrypted frame.
inline constexpr std::uint32_t kMaxFrameBytes = kMaxPlaintextBytes + kAeadTagBytes;
// Largest body of a plaintext handshake frame (Hello and Auth are far smaller).
inline constexpr std::uint32_t kMaxHandshakeFrameBytes = 512;

std::array<std::uint8_t, kFrameHeaderBytes> encode_frame_header(std::uint32_t body_bytes);

// Header plus body, for tests and handshake messages. The body must fit kMaxFrameBytes.
core::Bytes encode_frame(core::ByteView body);

// The body length a header announces, or kOutOfBounds if it exceeds max_body_bytes.
core::Result<std::uint32_t> decode_frame_header(
    std::span<const std::uint8_t, kFrameHeaderBytes> header, std::uint32_t max_body_bytes);

// Splits a byte stream into frame bodies. Append what the socket delivered, then call next()
// until it yields no frame; the limit applies to each frame when its header is parsed, so it
// may be raised between frames (after the handshake) without affecting earlier ones.
class FrameDecoder {
 public:
  explicit FrameDecoder(std::uint32_t max_body_bytes) : max_body_bytes_(max_body_bytes) {}

  void set_max_body_bytes(std::uint32_t max_body_bytes) { max_body_bytes_ = max_body_bytes; }
  std::uint32_t max_body_bytes() const { return max_body_bytes_; }

  void append(core::ByteView data);

  // A complete frame body; std::nullopt if more bytes are needed; kOutOfBounds on a header
  // over the limit, after which the decoder stays failed (the connection must be closed).
  core::Result<std::optional<core::Bytes>> next();

  // Bytes received but not yet returned as frames (at most one partial frame plus one read).
  std::size_t buffered_bytes() const { return buffer_.size() - consumed_; }

 private:
  std::uint32_t max_body_bytes_;
  core::Bytes buffer_;
  std::size_t consumed_ = 0;
  bool failed_ = false;
};

}  // namespace carbon::node::p2p
