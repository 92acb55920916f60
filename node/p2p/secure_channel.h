// Encryption and authentication of every frame after the handshake: ChaCha20-Poly1305-IETF
// (libsodium), one key per direction (from SessionKeys), nonce = 64-bit message counter of that
// direction (4 zero bytes || counter little-endian), never sent on the wire.
//
// Each direction's counter starts at 0 and counts the messages sealed (or opened). TCP keeps
// order, so the receiver knows the nonce; a dropped, duplicated, reordered or altered frame
// fails to open. A nonce is never reused: the channel refuses to seal or open once a counter
// reaches kMaxMessagesPerDirection, and after any failure it refuses everything (the
// connection must be closed).
//
// Thread safety: owned by one connection and used from its strand only; not shared.
#pragma once

#include <cstdint>
#include <limits>

#include "core/bytes.h"
#include "core/status.h"
#include "node/p2p/handshake.h"

namespace carbon::node::p2p {

inline constexpr std::uint64_t kMaxMessagesPerDirection = std::numeric_limits<std::uint64_t>::max();

class SecureChannel {
 public:
  explicit SecureChannel(const SessionKeys& keys);
  ~SecureChannel();
  SecureChannel(const SecureChannel&) = delete;
  SecureChannel& operator=(const SecureChannel&) = delete;

  // Tests only: start the counters elsewhere (to reach the limit without 2^64 messages).
  static SecureChannel with_counters_for_testing(const SessionKeys& keys,
                                                 std::uint64_t send_counter,
                                                 std::uint64_t receive_counter);

  // Ciphertext of the next outgoing message (plaintext + 16-byte tag). Errors: kOutOfBounds
  // (plaintext over kMaxPlaintextBytes, or the send counter is exhausted), kConflict (failed).
  core::Result<core::Bytes> seal(core::ByteView plaintext);
  // Plaintext of the next incoming message. Errors: kBadSignature (forged, altered or out of
  // order), kOutOfBounds (too short/long, or counter exhausted), kConflict (failed earlier).
  core::Result<core::Bytes> open(core::ByteView ciphertext);

  std::uint64_t messages_sent() const { return send_counter_; }
  std::uint64_t messages_received() const { return receive_counter_; }
  bool failed() const { return failed_; }

 private:
  SecureChannel(const SessionKeys& keys, std::uint64_t send_counter, std::uint64_t receive_counter);

  SessionKey send_key_{};
  SessionKey receive_key_{};
  std::uint64_t send_counter_ = 0;
  std::uint64_t receive_counter_ = 0;
  bool failed_ = false;
};

}  // namespace carbon::node::p2p
