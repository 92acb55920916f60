#include "consensus/verifier.h"

namespace carbon::consensus {
namespace {
std::optional<Rejection> reject(DropReason reason, std::string detail) {
  return Rejection{reason, std::move(detail)};
}
}  // namespace

const char* drop_reason_name(DropReason reason) {
  switch (reason) {
    case DropReason::kDecode: return "decode";
    case DropReason::kWrongChain: return "wrong_chain";
    case DropReason::kWrongEpoch: return "wrong_epoch";
    case DropReason::kUnknownValidator: return "unknown_validator";
    case DropReason::kSenderMismatch: return "sender_mismatch";
    case DropReason::kBadSignature: return "bad_signature";
    case DropReason::kBadCertificate: return "bad_certificate";
    case DropReason::kMalformed: return "malformed";
    case DropReason::kStale: return "stale";
    case DropReason::kFarAhead: return "far_ahead";
    case DropReason::kDuplicate: return "duplicate";
    case DropReason::kEquivocation: return "equivocation";
    case DropReason::kOverCapacity: return "over_capacity";
    case DropReason::kUnsolicited: return "unsolicited";
    case DropReason::kCount: break;
  }
  return "unknown";
}

std::uint64_t DropCounters::total() const {
  std::uint64_t sum = 0;
  for (auto count : counts) sum += count;
  return sum;
}

std::string DropCounters::to_string() const {
  std::string out;
  for (std::size_t i = 0; i < counts.size(); ++i) {
    if (counts[i] == 0) continue;
    if (!out.empty()) out += ' ';
    out += drop_reason_name(static_cast<DropReason>(i));
    out += '=';
    out += std::to_string(counts[i]);
  }
  return out.empty() ? "none" : out;
}

MessageVerifier::MessageVerifier(std::string chain_id, ValidatorSet validators, Hash256 genesis_id,
                                 const SignatureVerifier& signatures)
    : chain_id_(std::move(chain_id)),
      validators_(std::move(validators)),
      genesis_id_(genesis_id),
      signatures_(signatures) {
  CARBON_ASSERT(!validators_.validators.empty() && validators_.size() <= kMaxValidators);
}

std::optional<Rejection> MessageVerifier::check_scope(const std::string& chain_id, Epoch epoch) const {
  if (chain_id != chain_id_) return reject(DropReason::kWrongChain, "chain id '" + chain_id + "'");
  if (epoch != validators_.epoch) return reject(DropReason::kWrongEpoch, "epoch " + std::to_string(epoch));
  return std::nullopt;
}

std::optional<Rejection> MessageVerifier::verify_qc(const QuorumCert& qc) const {
  if (auto r = check_scope(qc.chain_id, qc.epoch)) return reject(DropReason::kBadCertificate, "qc: " + r->detail);
  if (qc.is_genesis()) {
    if (qc.block_id != genesis_id_ || !qc.signatures.empty()) {
      return reject(DropReason::kBadCertificate, "round-0 qc that is not the genesis qc");
    }
    return std::nullopt;
  }
  if (qc.round == 0) return reject(DropReason::kBadCertificate, "signed qc for round 0");
  if (qc.signers.size() != qc.signatures.size()) {
    return reject(DropReason::kBadCertificate, "qc signer and signature counts differ");
  }
  if (qc.signers.size() < validators_.quorum()) {
    return reject(DropReason::kBadCertificate, "qc has " + std::to_string(qc.signers.size()) + " signers, quorum is " +
                                                   std::to_string(validators_.quorum()));
  }
  const Hash256 digest = signing_digest_vote(qc.chain_id, qc.epoch, qc.round, qc.block_id);
  for (std::size_t i = 0; i < qc.signers.size(); ++i) {
    const ValidatorIndex signer = qc.signers[i];
    if (signer >= validators_.size()) return reject(DropReason::kBadCertificate, "qc signer out of range");
    if (i > 0 && qc.signers[i - 1] >= signer) return reject(DropReason::kBadCertificate, "qc signers not ascending");
    if (!signatures_.verify(validators_.validators[signer].key, digest, qc.signatures[i])) {
      return reject(DropReason::kBadCertificate, "qc signature of validator " + std::to_string(signer) + " invalid");
    }
  }
  return std::nullopt;
}

std::optional<Rejection> MessageVerifier::verify_tc(const TimeoutCert& tc) const {
  if (auto r = check_scope(tc.chain_id, tc.epoch)) return reject(DropReason::kBadCertificate, "tc: " + r->detail);
  if (tc.round == 0) return reject(DropReason::kBadCertificate, "tc for round 0");
  if (tc.entries.size() < validators_.quorum()) {
    return reject(DropReason::kBadCertificate, "tc has " + std::to_string(tc.entries.size()) + " signers, quorum is " +
                                                   std::to_string(validators_.quorum()));
  }
  for (std::size_t i = 0; i < tc.entries.size(); ++i) {
    const auto& entry = tc.entries[i];
    if (entry.signer >= validators_.size()) return reject(DropReason::kBadCertificate, "tc signer out of range");
    if (i > 0 && tc.entries[i - 1].signer >= entry.signer) {
      return reject(DropReason::kBadCertificate, "tc signers not ascending");
    }
    if (entry.high_qc_round >= tc.round) return reject(DropReason::kBadCertificate, "tc entry's qc round not below tc round");
    const Hash256 digest = signing_digest_timeout(tc.chain_id, tc.epoch, tc.round, entry.high_qc_round);
    if (!signatures_.verify(validators_.validators[entry.signer].key, digest, entry.signature)) {
      return reject(DropReason::kBadCertificate, "tc signature of validator " + std::to_string(entry.signer) + " invalid");
    }
  }
  return std::nullopt;
}

std::optional<Rejection> MessageVerifier::verify_block(const Block& block) const {
  const BlockHeader& header = block.header;
  if (auto r = check_scope(header.chain_id, header.epoch)) return r;
  if (header.round == 0 || header.height == 0) return reject(DropReason::kMalformed, "block at round or height 0");
  if (header.proposer >= validators_.size()) return reject(DropReason::kUnknownValidator, "proposer out of range");
  if (header.proposer != validators_.leader(header.round)) {
    return reject(DropReason::kMalformed, "proposer " + std::to_string(header.proposer) + " is not the leader of round " +
                                              std::to_string(header.round));
  }
  if (header.parent_id != block.parent_qc.block_id || header.parent_round != block.parent_qc.round) {
    return reject(DropReason::kMalformed, "parent does not match the parent qc");
  }
  if (block.parent_qc.round >= header.round) return reject(DropReason::kMalformed, "parent qc round not below block round");
  if (block.payload.size() > kMaxPayloadBytes) return reject(DropReason::kMalformed, "payload over limit");
  if (core::sha3_256(block.payload) != header.payload_digest) {
    return reject(DropReason::kMalformed, "payload does not match its digest");
  }
  if (!signatures_.verify(validators_.validators[header.proposer].key, signing_digest_block(block.id()),
                          block.proposer_signature)) {
    return reject(DropReason::kBadSignature, "block signature invalid");
  }
  return verify_qc(block.parent_qc);
}

std::optional<Rejection> MessageVerifier::verify_proposal(ValidatorIndex sender, const Proposal& proposal) const {
  if (proposal.block.header.proposer != sender) {
    return reject(DropReason::kSenderMismatch, "proposal relayed by a validator other than its proposer");
  }
  if (auto r = verify_block(proposal.block)) return r;
  if (proposal.last_round_tc) {
    if (proposal.last_round_tc->round + 1 != proposal.block.header.round) {
      return reject(DropReason::kMalformed, "proposal's tc is not for the previous round");
    }
    if (auto r = verify_tc(*proposal.last_round_tc)) return r;
  }
  return std::nullopt;
}

std::optional<Rejection> MessageVerifier::verify_vote(ValidatorIndex sender, const Vote& vote) const {
  if (auto r = check_scope(vote.chain_id, vote.epoch)) return r;
  if (vote.voter >= validators_.size()) return reject(DropReason::kUnknownValidator, "voter out of range");
  if (vote.voter != sender) return reject(DropReason::kSenderMismatch, "vote relayed by another validator");
  if (vote.round == 0) return reject(DropReason::kMalformed, "vote for round 0");
  if (!signatures_.verify(validators_.validators[vote.voter].key,
                          signing_digest_vote(vote.chain_id, vote.epoch, vote.round, vote.block_id), vote.signature)) {
    return reject(DropReason::kBadSignature, "vote signature invalid");
  }
  return std::nullopt;
}

std::optional<Rejection> MessageVerifier::verify_timeout(ValidatorIndex sender, const Timeout& timeout) const {
  if (auto r = check_scope(timeout.chain_id, timeout.epoch)) return r;
  if (timeout.author >= validators_.size()) return reject(DropReason::kUnknownValidator, "timeout author out of range");
  if (timeout.author != sender) return reject(DropReason::kSenderMismatch, "timeout relayed by another validator");
  if (timeout.round == 0 || timeout.high_qc.round >= timeout.round) {
    return reject(DropReason::kMalformed, "timeout's qc round not below its round");
  }
  if (timeout.last_round_tc && timeout.last_round_tc->round + 1 != timeout.round) {
    return reject(DropReason::kMalformed, "timeout's tc is not for the previous round");
  }
  if (!signatures_.verify(validators_.validators[timeout.author].key,
                          signing_digest_timeout(timeout.chain_id, timeout.epoch, timeout.round, timeout.high_qc.round),
                          timeout.signature)) {
    return reject(DropReason::kBadSignature, "timeout signature invalid");
  }
  if (auto r = verify_qc(timeout.high_qc)) return r;
  if (timeout.last_round_tc) {
    if (auto r = verify_tc(*timeout.last_round_tc)) return r;
  }
  return std::nullopt;
}

std::optional<Rejection> MessageVerifier::verify_sync_request(const SyncRequest& request) const {
  if (auto r = check_scope(request.chain_id, request.epoch)) return r;
  if (request.max_blocks == 0 || request.max_blocks > kMaxSyncBlocks) {
    return reject(DropReason::kMalformed, "sync request for " + std::to_string(request.max_blocks) + " blocks");
  }
  return std::nullopt;
}

std::optional<Rejection> MessageVerifier::verify_sync_response(const SyncResponse& response) const {
  if (auto r = check_scope(response.chain_id, response.epoch)) return r;
  if (response.blocks.empty()) return reject(DropReason::kMalformed, "empty sync response");
  for (std::size_t i = 0; i < response.blocks.size(); ++i) {
    const Block& block = response.blocks[i];
    if (i > 0) {
      const Block& previous = response.blocks[i - 1];
      if (block.header.parent_id != previous.id() || block.header.height != previous.header.height + 1) {
        return reject(DropReason::kMalformed, "sync response blocks are not a chain");
      }
    }
    if (auto r = verify_block(block)) return r;
  }
  return std::nullopt;
}

std::optional<Rejection> MessageVerifier::verify(ValidatorIndex sender, const Message& message) const {
  if (sender >= validators_.size()) return reject(DropReason::kUnknownValidator, "sender out of range");
  return std::visit(
      [&](const auto& body) -> std::optional<Rejection> {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Proposal>) return verify_proposal(sender, body);
        if constexpr (std::is_same_v<T, Vote>) return verify_vote(sender, body);
        if constexpr (std::is_same_v<T, Timeout>) return verify_timeout(sender, body);
        if constexpr (std::is_same_v<T, SyncRequest>) return verify_sync_request(body);
        if constexpr (std::is_same_v<T, SyncResponse>) return verify_sync_response(body);
      },
      message);
}

}  // namespace carbon::consensus
