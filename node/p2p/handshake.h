// The peer-link handshake: mutual authentication with Ed25519 validator keys, bound to an
// ephemeral X25519 key agreement. Pure (no sockets, no clock), so it is tested on its own.
//
// Both sides send Hello{protocol version, chain id, static Ed25519 key, ephemeral X25519 key}
// at once, then on receiving the other's Hello each checks it (version, chain id, a key in the
// allowed set that is not our own, an X25519 point that yields a non-zero shared secret) and
// sends Auth{Ed25519 signature over (role, transcript hash)}. The transcript hash is
// SHA3-256(domain || initiator Hello || responder Hello), so a signature covers both fresh
// ephemeral keys: it cannot be replayed into another session, and a man in the middle who
// swaps a Hello makes the transcripts differ and the signatures fail. Session keys come from
// crypto_kx (initiator = client) and are then keyed-hashed with the transcript hash, so the
// keys belong to this authenticated session only. See docs/p2p.md.
//
// Thread safety: a Handshake is owned by one connection and used from one thread at a time.
// HandshakeIdentity is immutable once built and may be shared between threads.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/bytes.h"
#include "core/hash.h"
#include "core/keys.h"
#include "core/status.h"

namespace carbon::node::p2p {

// 2: transactions' signatures follow the cofactored rule (docs/node.md "Signatures"). A
// validator of version 1 would judge some signatures differently, so the two do not connect:
// a network upgrades all its validators together.
// 3: RotateKey needs the new key's co-signature, intervention allowances resold by the reserve
// count once, and an estimate can settle a report corrected after its verification: a node of
// version 2 would compute other state roots for the same blocks.
inline constexpr std::uint32_t kProtocolVersion = 3;
// Matches consensus::kMaxChainIdBytes (node may link consensus; the transport does not need to).
inline constexpr std::size_t kMaxChainIdBytes = 64;
inline constexpr std::size_t kX25519KeyBytes = 32;
inline constexpr std::size_t kSessionKeyBytes = 32;

using X25519PublicKey = std::array<std::uint8_t, kX25519KeyBytes>;
using SessionKey = std::array<std::uint8_t, kSessionKeyBytes>;

// Who this node is and whom it accepts.
struct HandshakeIdentity {
  std::string chain_id;
  core::SecretKey static_key;
  std::vector<core::PublicKey> allowed_keys;  // the validators in genesis (may include ours)
};

struct Hello {
  std::uint32_t protocol_version = kProtocolVersion;
  std::string chain_id;
  core::PublicKey static_key;
  X25519PublicKey ephemeral_key{};
};
core::Bytes encode_hello(const Hello& hello);
core::Result<Hello> decode_hello(core::ByteView message);

struct Auth {
  core::Signature signature;
};
core::Bytes encode_auth(const Auth& auth);
core::Result<Auth> decode_auth(core::ByteView message);

// A fresh X25519 key pair for one handshake; the secret is wiped on destruction.
class EphemeralKeyPair {
 public:
  static EphemeralKeyPair generate();
  // Tests only: a fixed secret (e.g. from Wycheproof vectors).
  static EphemeralKeyPair from_secret(const std::array<std::uint8_t, 32>& secret);
  ~EphemeralKeyPair();
  EphemeralKeyPair(const EphemeralKeyPair& other) = default;
  EphemeralKeyPair& operator=(const EphemeralKeyPair& other) = default;

  const X25519PublicKey& public_key() const { return public_key_; }
  const std::array<std::uint8_t, 32>& secret_key() const { return secret_key_; }
  // Zeroes the secret once it is no longer needed.
  void wipe();

 private:
  EphemeralKeyPair() = default;
  X25519PublicKey public_key_{};
  std::array<std::uint8_t, 32> secret_key_{};
};

// The keys of one authenticated session; wiped on destruction.
struct SessionKeys {
  SessionKey send_key{};
  SessionKey receive_key{};
  core::PublicKey peer_key;
  core::Hash256 transcript_hash;
  SessionKeys() = default;
  SessionKeys(const SessionKeys&) = default;
  SessionKeys& operator=(const SessionKeys&) = default;
  ~SessionKeys();
};

enum class HandshakeRole : std::uint8_t { kInitiator = 1, kResponder = 2 };

// Derives the two direction keys from our ephemeral secret and the peer's ephemeral public
// key (crypto_kx, initiator = client) and binds them to the transcript. Refuses a peer key for
// which X25519 fails or yields the all-zero secret (low-order points). Exposed for tests.
core::Result<std::pair<SessionKey, SessionKey>> derive_session_keys(
    HandshakeRole role, const EphemeralKeyPair& ours, const X25519PublicKey& theirs,
    const core::Hash256& transcript_hash);

// The message an Auth signature covers: domain || role of the signer || transcript hash.
core::Bytes auth_message(HandshakeRole signer, const core::Hash256& transcript_hash);

// One side of one handshake: hello() → receive_hello() → auth() → receive_auth().
class Handshake {
 public:
  Handshake(HandshakeRole role, std::shared_ptr<const HandshakeIdentity> identity);
  Handshake(HandshakeRole role, std::shared_ptr<const HandshakeIdentity> identity,
            EphemeralKeyPair ephemeral);

  HandshakeRole role() const { return role_; }
  // Our Hello, to send first.
  const core::Bytes& hello() const { return our_hello_; }
  // Checks the peer's Hello and agrees the session keys. Errors: kDecodeError (malformed),
  // kInvalidArgument (protocol version, chain id), kUnauthorized (key not allowed, or our own
  // key), kBadSignature (invalid or low-order ephemeral key). Callable once.
  core::Status receive_hello(core::ByteView message);
  // The peer's static key, once its Hello was accepted.
  const core::PublicKey& peer_key() const;
  // Our Auth, after receive_hello succeeded.
  core::Bytes auth() const;
  // Checks the peer's signature over the transcript; on success the session is established.
  // Errors: kDecodeError, kBadSignature (bad signature or a transcript that differs).
  core::Result<SessionKeys> receive_auth(core::ByteView message);

 private:
  enum class State { kAwaitHello, kAwaitAuth, kDone, kFailed };

  // Zeroes the ephemeral secret and our copy of the session keys (done or failed).
  void wipe_secrets();
  // The checks of receive_hello() and the key agreement; no state change.
  core::Status check_hello_and_agree(core::ByteView message);

  HandshakeRole role_;
  std::shared_ptr<const HandshakeIdentity> identity_;
  EphemeralKeyPair ephemeral_;
  core::Bytes our_hello_;
  State state_ = State::kAwaitHello;
  SessionKeys keys_;
};

}  // namespace carbon::node::p2p
