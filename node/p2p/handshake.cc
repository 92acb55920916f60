#include "node/p2p/handshake.h"

#include <sodium.h>

#include <algorithm>
#include <string_view>
#include <utility>

namespace carbon::node::p2p {

using core::Bytes;
using core::ByteView;
using core::ErrorCode;
using core::Hash256;
using core::Result;
using core::Status;

static_assert(crypto_kx_PUBLICKEYBYTES == kX25519KeyBytes);
static_assert(crypto_kx_SECRETKEYBYTES == 32);
static_assert(crypto_kx_SESSIONKEYBYTES == kSessionKeyBytes);
static_assert(crypto_scalarmult_BYTES == 32);

namespace {

constexpr std::uint8_t kHelloType = 1;
constexpr std::uint8_t kAuthType = 2;
constexpr std::size_t kHelloFixedBytes = 1 + 4 + 1 + 32 + kX25519KeyBytes;  // without chain id
constexpr std::size_t kAuthBytes = 1 + 64;

constexpr std::string_view kTranscriptDomain = "carbonledger/p2p/transcript/v1";
constexpr std::string_view kAuthDomain = "carbonledger/p2p/auth/v1";
constexpr std::string_view kInitiatorToResponderLabel = "carbonledger/p2p/key/initiator->responder";
constexpr std::string_view kResponderToInitiatorLabel = "carbonledger/p2p/key/responder->initiator";

void append_u32_be(Bytes& out, std::uint32_t value) {
  out.push_back(static_cast<std::uint8_t>(value >> 24));
  out.push_back(static_cast<std::uint8_t>(value >> 16));
  out.push_back(static_cast<std::uint8_t>(value >> 8));
  out.push_back(static_cast<std::uint8_t>(value));
}

std::uint32_t read_u32_be(const std::uint8_t* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

Hash256 transcript_hash(ByteView initiator_hello, ByteView responder_hello) {
  core::Sha3Hasher hasher;
  hasher.update(core::as_bytes(kTranscriptDomain));
  for (ByteView hello : {initiator_hello, responder_hello}) {
    Bytes length;
    append_u32_be(length, static_cast<std::uint32_t>(hello.size()));
    hasher.update(length);
    hasher.update(hello);
  }
  return hasher.finish();
}

// Keyed BLAKE2b of (label || kx key) under the transcript hash: the direction key of this
// authenticated session only.
SessionKey bind_to_transcript(const SessionKey& kx_key, std::string_view label,
                              const Hash256& transcript) {
  SessionKey out{};
  crypto_generichash_state state;
  CARBON_ASSERT(crypto_generichash_init(&state, transcript.bytes.data(), transcript.bytes.size(),
                                        out.size()) == 0);
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(label.data()),
                            label.size());
  crypto_generichash_update(&state, kx_key.data(), kx_key.size());
  CARBON_ASSERT(crypto_generichash_final(&state, out.data(), out.size()) == 0);
  sodium_memzero(&state, sizeof(state));
  return out;
}

HandshakeRole other_role(HandshakeRole role) {
  return role == HandshakeRole::kInitiator ? HandshakeRole::kResponder : HandshakeRole::kInitiator;
}

}  // namespace

Bytes encode_hello(const Hello& hello) {
  CARBON_ASSERT(hello.chain_id.size() <= kMaxChainIdBytes);
  Bytes out;
  out.reserve(kHelloFixedBytes + hello.chain_id.size());
  out.push_back(kHelloType);
  append_u32_be(out, hello.protocol_version);
  out.push_back(static_cast<std::uint8_t>(hello.chain_id.size()));
  out.insert(out.end(), hello.chain_id.begin(), hello.chain_id.end());
  out.insert(out.end(), hello.static_key.bytes.begin(), hello.static_key.bytes.end());
  out.insert(out.end(), hello.ephemeral_key.begin(), hello.ephemeral_key.end());
  return out;
}

Result<Hello> decode_hello(ByteView message) {
  if (message.size() < kHelloFixedBytes) {
    return Status::error(ErrorCode::kDecodeError,
                         "hello too short: " + std::to_string(message.size()) + " bytes");
  }
  if (message[0] != kHelloType) {
    return Status::error(ErrorCode::kDecodeError,
                         "expected a hello message, got type " + std::to_string(message[0]));
  }
  Hello hello;
  hello.protocol_version = read_u32_be(message.data() + 1);
  const std::size_t chain_id_bytes = message[5];
  if (chain_id_bytes > kMaxChainIdBytes) {
    return Status::error(ErrorCode::kDecodeError,
                         "hello chain id length " + std::to_string(chain_id_bytes) +
                             " exceeds limit " + std::to_string(kMaxChainIdBytes));
  }
  if (message.size() != kHelloFixedBytes + chain_id_bytes) {
    return Status::error(ErrorCode::kDecodeError,
                         "hello has " + std::to_string(message.size()) + " bytes, expected " +
                             std::to_string(kHelloFixedBytes + chain_id_bytes));
  }
  const std::uint8_t* p = message.data() + 6;
  hello.chain_id.assign(reinterpret_cast<const char*>(p), chain_id_bytes);
  p += chain_id_bytes;
  std::copy_n(p, 32, hello.static_key.bytes.begin());
  p += 32;
  std::copy_n(p, kX25519KeyBytes, hello.ephemeral_key.begin());
  return hello;
}

Bytes encode_auth(const Auth& auth) {
  Bytes out;
  out.reserve(kAuthBytes);
  out.push_back(kAuthType);
  out.insert(out.end(), auth.signature.bytes.begin(), auth.signature.bytes.end());
  return out;
}

Result<Auth> decode_auth(ByteView message) {
  if (message.size() != kAuthBytes) {
    return Status::error(ErrorCode::kDecodeError, "auth has " + std::to_string(message.size()) +
                                                      " bytes, expected " +
                                                      std::to_string(kAuthBytes));
  }
  if (message[0] != kAuthType) {
    return Status::error(ErrorCode::kDecodeError,
                         "expected an auth message, got type " + std::to_string(message[0]));
  }
  Auth auth;
  std::copy_n(message.data() + 1, 64, auth.signature.bytes.begin());
  return auth;
}

EphemeralKeyPair EphemeralKeyPair::generate() {
  EphemeralKeyPair pair;
  CARBON_ASSERT(crypto_kx_keypair(pair.public_key_.data(), pair.secret_key_.data()) == 0);
  return pair;
}

EphemeralKeyPair EphemeralKeyPair::from_secret(const std::array<std::uint8_t, 32>& secret) {
  EphemeralKeyPair pair;
  pair.secret_key_ = secret;
  CARBON_ASSERT(crypto_scalarmult_base(pair.public_key_.data(), pair.secret_key_.data()) == 0);
  return pair;
}

EphemeralKeyPair::~EphemeralKeyPair() { wipe(); }

void EphemeralKeyPair::wipe() { sodium_memzero(secret_key_.data(), secret_key_.size()); }

SessionKeys::~SessionKeys() {
  sodium_memzero(send_key.data(), send_key.size());
  sodium_memzero(receive_key.data(), receive_key.size());
}

Result<std::pair<SessionKey, SessionKey>> derive_session_keys(HandshakeRole role,
                                                              const EphemeralKeyPair& ours,
                                                              const X25519PublicKey& theirs,
                                                              const Hash256& transcript) {
  // crypto_kx checks this as well; doing it first gives the rejection its own clear reason and
  // does not depend on which libsodium version blacklists which points.
  std::array<std::uint8_t, 32> shared{};
  const int rc = crypto_scalarmult(shared.data(), ours.secret_key().data(), theirs.data());
  const bool zero = sodium_is_zero(shared.data(), shared.size()) == 1;
  sodium_memzero(shared.data(), shared.size());
  if (rc != 0 || zero) {
    return Status::error(
        ErrorCode::kBadSignature,
        "peer ephemeral X25519 key is of low order or invalid (zero shared secret)");
  }
  SessionKey rx{};
  SessionKey tx{};
  const int kx_rc =
      role == HandshakeRole::kInitiator
          ? crypto_kx_client_session_keys(rx.data(), tx.data(), ours.public_key().data(),
                                          ours.secret_key().data(), theirs.data())
          : crypto_kx_server_session_keys(rx.data(), tx.data(), ours.public_key().data(),
                                          ours.secret_key().data(), theirs.data());
  if (kx_rc != 0) {
    return Status::error(ErrorCode::kBadSignature,
                         "X25519 key exchange rejected the peer's ephemeral key");
  }
  const bool initiator = role == HandshakeRole::kInitiator;
  std::pair<SessionKey, SessionKey> out{
      bind_to_transcript(tx, initiator ? kInitiatorToResponderLabel : kResponderToInitiatorLabel,
                         transcript),
      bind_to_transcript(rx, initiator ? kResponderToInitiatorLabel : kInitiatorToResponderLabel,
                         transcript)};
  sodium_memzero(rx.data(), rx.size());
  sodium_memzero(tx.data(), tx.size());
  return out;
}

Bytes auth_message(HandshakeRole signer, const Hash256& transcript) {
  Bytes out(kAuthDomain.begin(), kAuthDomain.end());
  out.push_back(static_cast<std::uint8_t>(signer));
  out.insert(out.end(), transcript.bytes.begin(), transcript.bytes.end());
  return out;
}

Handshake::Handshake(HandshakeRole role, std::shared_ptr<const HandshakeIdentity> identity)
    : Handshake(role, std::move(identity), EphemeralKeyPair::generate()) {}

Handshake::Handshake(HandshakeRole role, std::shared_ptr<const HandshakeIdentity> identity,
                     EphemeralKeyPair ephemeral)
    : role_(role), identity_(std::move(identity)), ephemeral_(std::move(ephemeral)) {
  CARBON_ASSERT(identity_ != nullptr);
  Hello hello;
  hello.chain_id = identity_->chain_id;
  hello.static_key = identity_->static_key.public_key();
  hello.ephemeral_key = ephemeral_.public_key();
  our_hello_ = encode_hello(hello);
}

void Handshake::wipe_secrets() {
  ephemeral_.wipe();
  sodium_memzero(keys_.send_key.data(), keys_.send_key.size());
  sodium_memzero(keys_.receive_key.data(), keys_.receive_key.size());
}

Status Handshake::receive_hello(ByteView message) {
  CARBON_ASSERT(state_ == State::kAwaitHello);
  Status status = check_hello_and_agree(message);
  if (!status) {
    state_ = State::kFailed;
    wipe_secrets();
    return status;
  }
  ephemeral_.wipe();  // the session keys are agreed; the ephemeral secret has done its job
  state_ = State::kAwaitAuth;
  return Status::ok();
}

Status Handshake::check_hello_and_agree(ByteView message) {
  auto hello = decode_hello(message);
  if (!hello) return hello.status();
  if (hello->protocol_version != kProtocolVersion) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "peer speaks protocol version " + std::to_string(hello->protocol_version) +
                             ", we speak " + std::to_string(kProtocolVersion));
  }
  if (hello->chain_id != identity_->chain_id) {
    return Status::error(
        ErrorCode::kInvalidArgument,
        "peer is on chain '" + hello->chain_id + "', we are on '" + identity_->chain_id + "'");
  }
  if (hello->static_key == identity_->static_key.public_key()) {
    return Status::error(ErrorCode::kUnauthorized,
                         "peer claims our own node key " + hello->static_key.short_hex());
  }
  const auto& allowed = identity_->allowed_keys;
  if (std::find(allowed.begin(), allowed.end(), hello->static_key) == allowed.end()) {
    return Status::error(ErrorCode::kUnauthorized, "peer key " + hello->static_key.short_hex() +
                                                       " is not in the validator set");
  }
  const bool initiator = role_ == HandshakeRole::kInitiator;
  const Hash256 transcript = transcript_hash(initiator ? ByteView(our_hello_) : message,
                                             initiator ? message : ByteView(our_hello_));
  auto keys = derive_session_keys(role_, ephemeral_, hello->ephemeral_key, transcript);
  if (!keys) return keys.status();
  keys_.send_key = keys->first;
  keys_.receive_key = keys->second;
  sodium_memzero(keys->first.data(), keys->first.size());
  sodium_memzero(keys->second.data(), keys->second.size());
  keys_.peer_key = hello->static_key;
  keys_.transcript_hash = transcript;
  return Status::ok();
}

const core::PublicKey& Handshake::peer_key() const {
  CARBON_ASSERT(state_ == State::kAwaitAuth || state_ == State::kDone);
  return keys_.peer_key;
}

Bytes Handshake::auth() const {
  CARBON_ASSERT(state_ == State::kAwaitAuth || state_ == State::kDone);
  Auth auth;
  auth.signature = identity_->static_key.sign(auth_message(role_, keys_.transcript_hash));
  return encode_auth(auth);
}

Result<SessionKeys> Handshake::receive_auth(ByteView message) {
  CARBON_ASSERT(state_ == State::kAwaitAuth);
  state_ = State::kFailed;
  auto auth = decode_auth(message);
  if (!auth) {
    wipe_secrets();
    return auth.status();
  }
  if (!core::verify_signature(keys_.peer_key,
                              auth_message(other_role(role_), keys_.transcript_hash),
                              auth->signature)) {
    wipe_secrets();
    return Status::error(ErrorCode::kBadSignature,
                         "peer " + keys_.peer_key.short_hex() +
                             " auth signature does not verify over our transcript (bad signature "
                             "or tampered hello)");
  }
  state_ = State::kDone;
  SessionKeys out = keys_;
  wipe_secrets();
  return out;
}

}  // namespace carbon::node::p2p
