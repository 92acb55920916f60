// Stateless checks of a consensus message before it reaches the core: chain id, epoch,
// membership, bounds, structure and every signature (including every signature inside a
// quorum or timeout certificate). The core trusts what passes and never sees what fails.
//
// Thread safety: const methods only; one verifier may be used from many threads at once (the
// node verifies on a thread pool), provided the SignatureVerifier is thread-safe.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "consensus/crypto.h"
#include "consensus/types.h"

namespace carbon::consensus {

enum class DropReason : std::uint8_t {
  kDecode,            // bytes did not decode (or were over kMaxMessageBytes)
  kWrongChain,        // another chain id
  kWrongEpoch,        // another epoch
  kUnknownValidator,  // an index outside the validator set
  kSenderMismatch,    // signed by someone other than the authenticated sender
  kBadSignature,      // the message's own signature is invalid
  kBadCertificate,    // an invalid QC or TC inside
  kMalformed,         // structurally inconsistent (links, rounds, digest, leader)
  kStale,             // for a round or height already past
  kFarAhead,          // beyond kMaxRoundsAhead, not stored
  kDuplicate,         // already have it
  kEquivocation,      // a second, different vote or proposal for one round from one validator
  kOverCapacity,      // a bounded buffer was full
  kUnsolicited,       // a sync response nobody asked for
  kCount,
};
const char* drop_reason_name(DropReason reason);

struct DropCounters {
  std::array<std::uint64_t, static_cast<std::size_t>(DropReason::kCount)> counts{};
  void add(DropReason reason) { ++counts[static_cast<std::size_t>(reason)]; }
  std::uint64_t get(DropReason reason) const { return counts[static_cast<std::size_t>(reason)]; }
  std::uint64_t total() const;
  // "bad_signature=3 stale=12" (non-zero counters only)
  std::string to_string() const;
};

struct Rejection {
  DropReason reason;
  std::string detail;
};

class MessageVerifier {
 public:
  MessageVerifier(std::string chain_id, ValidatorSet validators, Hash256 genesis_id,
                  const SignatureVerifier& signatures);

  // nullopt: the message may be given to the core as coming from `sender`.
  std::optional<Rejection> verify(ValidatorIndex sender, const Message& message) const;

  std::optional<Rejection> verify_qc(const QuorumCert& qc) const;
  std::optional<Rejection> verify_tc(const TimeoutCert& tc) const;
  std::optional<Rejection> verify_block(const Block& block) const;

  const ValidatorSet& validators() const { return validators_; }
  const std::string& chain_id() const { return chain_id_; }

 private:
  std::optional<Rejection> check_scope(const std::string& chain_id, Epoch epoch) const;
  std::optional<Rejection> verify_proposal(ValidatorIndex sender, const Proposal& proposal) const;
  std::optional<Rejection> verify_vote(ValidatorIndex sender, const Vote& vote) const;
  std::optional<Rejection> verify_timeout(ValidatorIndex sender, const Timeout& timeout) const;
  std::optional<Rejection> verify_sync_request(const SyncRequest& request) const;
  std::optional<Rejection> verify_sync_response(const SyncResponse& response) const;

  std::string chain_id_;
  ValidatorSet validators_;
  Hash256 genesis_id_;
  const SignatureVerifier& signatures_;
};

}  // namespace carbon::consensus
