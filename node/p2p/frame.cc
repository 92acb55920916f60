#include "node/p2p/frame.h"

#include <sodium.h>

#include <algorithm>
#include <string>

namespace carbon::node::p2p {

static_assert(kAeadTagBytes == crypto_aead_chacha20poly1305_ietf_ABYTES);

using core::Bytes;
using core::ByteView;
using core::ErrorCode;
using core::Result;
using core::Status;

std::array<std::uint8_t, kFrameHeaderBytes> encode_frame_header(std::uint32_t body_bytes) {
  return {static_cast<std::uint8_t>(body_bytes >> 24), static_cast<std::uint8_t>(body_bytes >> 16),
          static_cast<std::uint8_t>(body_bytes >> 8), static_cast<std::uint8_t>(body_bytes)};
}

Bytes encode_frame(ByteView body) {
  CARBON_ASSERT(body.size() <= kMaxFrameBytes);
  const auto header = encode_frame_header(static_cast<std::uint32_t>(body.size()));
  Bytes out;
  out.reserve(kFrameHeaderBytes + body.size());
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

Result<std::uint32_t> decode_frame_header(std::span<const std::uint8_t, kFrameHeaderBytes> header,
                                          std::uint32_t max_body_bytes) {
  const std::uint32_t length = (std::uint32_t{header[0]} << 24) | (std::uint32_t{header[1]} << 16) |
                               (std::uint32_t{header[2]} << 8) | std::uint32_t{header[3]};
  if (length > max_body_bytes) {
    return Status::error(ErrorCode::kOutOfBounds, "frame length " + std::to_string(length) +
                                                      " exceeds limit " +
                                                      std::to_string(max_body_bytes));
  }
  return length;
}

void FrameDecoder::append(ByteView data) {
  if (failed_) return;
  // Drop what was already handed out before growing, so the buffer holds only pending bytes.
  if (consumed_ > 0) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buffer_.insert(buffer_.end(), data.begin(), data.end());
}

Result<std::optional<Bytes>> FrameDecoder::next() {
  if (failed_) return Status::error(ErrorCode::kOutOfBounds, "frame decoder failed earlier");
  const std::size_t pending = buffered_bytes();
  if (pending < kFrameHeaderBytes) return std::optional<Bytes>();
  const std::span<const std::uint8_t, kFrameHeaderBytes> header(buffer_.data() + consumed_,
                                                                kFrameHeaderBytes);
  auto length = decode_frame_header(header, max_body_bytes_);
  if (!length) {
    failed_ = true;
    buffer_.clear();
    consumed_ = 0;
    return length.status();
  }
  if (pending - kFrameHeaderBytes < *length) return std::optional<Bytes>();
  const auto body_begin =
      buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_ + kFrameHeaderBytes);
  Bytes body(body_begin, body_begin + static_cast<std::ptrdiff_t>(*length));
  consumed_ += kFrameHeaderBytes + *length;
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  }
  return std::optional<Bytes>(std::move(body));
}

}  // namespace carbon::node::p2p
