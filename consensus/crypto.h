// How the consensus layer signs and verifies, behind an interface so that the deterministic
// simulator can swap in a cheap scheme (thousands of seeds must run in minutes) while the node
// uses Ed25519 (core/keys.h). Both sign the same domain-separated digests.
//
// Thread safety: implementations must be safe to call concurrently (verification runs on a
// thread pool in the node).
#pragma once

#include "consensus/types.h"
#include "core/keys.h"

namespace carbon::consensus {

class Signer {
 public:
  virtual ~Signer() = default;
  virtual PublicKey public_key() const = 0;
  virtual Signature sign(const Hash256& digest) const = 0;
};

class SignatureVerifier {
 public:
  virtual ~SignatureVerifier() = default;
  virtual bool verify(const PublicKey& key, const Hash256& digest, const Signature& signature) const = 0;
};

// Ed25519 via libsodium.
class Ed25519Signer final : public Signer {
 public:
  explicit Ed25519Signer(core::SecretKey key) : key_(std::move(key)) {}
  PublicKey public_key() const override { return key_.public_key(); }
  Signature sign(const Hash256& digest) const override { return key_.sign(digest.bytes); }

 private:
  core::SecretKey key_;
};

class Ed25519Verifier final : public SignatureVerifier {
 public:
  bool verify(const PublicKey& key, const Hash256& digest, const Signature& signature) const override {
    return core::verify_signature(key, digest.bytes, signature);
  }
};

}  // namespace carbon::consensus
