#include "node/p2p/secure_channel.h"

#include <sodium.h>

#include <array>
#include <string>

#include "node/p2p/frame.h"

namespace carbon::node::p2p {

using core::Bytes;
using core::ByteView;
using core::ErrorCode;
using core::Result;
using core::Status;

static_assert(crypto_aead_chacha20poly1305_ietf_KEYBYTES == kSessionKeyBytes);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);

namespace {

std::array<std::uint8_t, 12> nonce_for(std::uint64_t counter) {
  std::array<std::uint8_t, 12> nonce{};
  for (std::size_t i = 0; i < 8; ++i) nonce[4 + i] = static_cast<std::uint8_t>(counter >> (8 * i));
  return nonce;
}

}  // namespace

SecureChannel::SecureChannel(const SessionKeys& keys) : SecureChannel(keys, 0, 0) {}

SecureChannel::SecureChannel(const SessionKeys& keys, std::uint64_t send_counter,
                             std::uint64_t receive_counter)
    : send_key_(keys.send_key),
      receive_key_(keys.receive_key),
      send_counter_(send_counter),
      receive_counter_(receive_counter) {}

SecureChannel SecureChannel::with_counters_for_testing(const SessionKeys& keys,
                                                       std::uint64_t send_counter,
                                                       std::uint64_t receive_counter) {
  return SecureChannel(keys, send_counter, receive_counter);
}

SecureChannel::~SecureChannel() {
  sodium_memzero(send_key_.data(), send_key_.size());
  sodium_memzero(receive_key_.data(), receive_key_.size());
}

Result<Bytes> SecureChannel::seal(ByteView plaintext) {
  if (failed_) return Status::error(ErrorCode::kConflict, "secure channel failed earlier");
  if (plaintext.size() > kMaxPlaintextBytes) {
    return Status::error(ErrorCode::kOutOfBounds, "message of " + std::to_string(plaintext.size()) +
                                                      " bytes exceeds limit " +
                                                      std::to_string(kMaxPlaintextBytes));
  }
  if (send_counter_ >= kMaxMessagesPerDirection) {
    failed_ = true;
    return Status::error(ErrorCode::kOutOfBounds,
                         "send nonce counter exhausted; reconnect for new keys");
  }
  const auto nonce = nonce_for(send_counter_);
  Bytes out(plaintext.size() + kAeadTagBytes);
  unsigned long long out_bytes = 0;
  CARBON_ASSERT(crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &out_bytes, plaintext.data(),
                                                          plaintext.size(), nullptr, 0, nullptr,
                                                          nonce.data(), send_key_.data()) == 0);
  CARBON_ASSERT(out_bytes == out.size());
  ++send_counter_;
  return out;
}

Result<Bytes> SecureChannel::open(ByteView ciphertext) {
  if (failed_) return Status::error(ErrorCode::kConflict, "secure channel failed earlier");
  if (ciphertext.size() < kAeadTagBytes || ciphertext.size() > kMaxFrameBytes) {
    failed_ = true;
    return Status::error(
        ErrorCode::kOutOfBounds,
        "ciphertext of " + std::to_string(ciphertext.size()) + " bytes is out of bounds");
  }
  if (receive_counter_ >= kMaxMessagesPerDirection) {
    failed_ = true;
    return Status::error(ErrorCode::kOutOfBounds,
                         "receive nonce counter exhausted; reconnect for new keys");
  }
  const auto nonce = nonce_for(receive_counter_);
  Bytes out(ciphertext.size() - kAeadTagBytes);
  unsigned long long out_bytes = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &out_bytes, nullptr, ciphertext.data(),
                                                ciphertext.size(), nullptr, 0, nonce.data(),
                                                receive_key_.data()) != 0) {
    failed_ = true;
    return Status::error(ErrorCode::kBadSignature,
                         "frame " + std::to_string(receive_counter_) +
                             " failed authentication (altered, forged, dropped or reordered)");
  }
  CARBON_ASSERT(out_bytes == out.size());
  ++receive_counter_;
  return out;
}

}  // namespace carbon::node::p2p
