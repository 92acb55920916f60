// Test harness for the consensus unit tests: a 4-validator chain ("test-chain", epoch 1) with
// real Ed25519 keys from fixed seeds, builders for signed blocks, proposals, votes, timeouts
// and certificates made by hand, cores that start from genesis, and helpers that pick effects
// out of a step's output.
//
// Messages handed to a core go through the MessageVerifier first (as in the node), so every
// hand-made message is also checked to be one an honest network could carry.
#pragma once

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "consensus/core.h"
#include "consensus/crypto.h"
#include "consensus/types.h"
#include "consensus/verifier.h"
#include "core/hash.h"
#include "core/keys.h"

namespace carbon::core {
// Readable gtest failure messages for ids.
inline void PrintTo(const Hash256& hash, std::ostream* out) { *out << hash.to_hex(); }
}  // namespace carbon::core

namespace carbon::consensus::harness {

inline constexpr const char* kChainId = "test-chain";
inline constexpr Epoch kEpoch = 1;
inline constexpr std::size_t kValidatorCount = 4;  // n = 3f+1 with f = 1, quorum 3
inline constexpr std::uint64_t kGenesisTimeMs = 1'700'000'000'000;
inline constexpr std::uint64_t kBaseTimeoutTicks = 100;

inline core::SecretKey validator_key(std::size_t index) {
  std::array<std::uint8_t, 32> seed{};
  for (std::size_t i = 0; i < seed.size(); ++i)
    seed[i] = static_cast<std::uint8_t>(0x40 + 7 * index + i);
  return core::SecretKey(seed);
}

inline Bytes bytes_of(std::string_view text) { return Bytes(text.begin(), text.end()); }

// Flips one bit: an Ed25519 signature with any bit changed no longer verifies.
inline Signature flipped(Signature signature) {
  signature.bytes[17] ^= 0x08;
  return signature;
}

struct TimeoutEntrySpec {
  ValidatorIndex signer = 0;
  Round high_qc_round = 0;
};

struct Harness {
  Harness()
      : signers(make_signers()),
        validators(make_validator_set(signers)),
        genesis(make_genesis_block(kChainId, kEpoch, kGenesisTimeMs)),
        genesis_qc(make_genesis_qc(genesis)),
        verifier(kChainId, validators, genesis.id(), signature_verifier) {}
  Harness(const Harness&) = delete;
  Harness& operator=(const Harness&) = delete;

  // ------------------------------------------------------------ signed messages by hand

  // A block for `round` led by its rightful leader, extending `parent` through `parent_qc`,
  // 10 ms after its parent unless a timestamp is given.
  Block make_block(Round round, const Block& parent, const QuorumCert& parent_qc,
                   std::string_view payload = "txs",
                   std::optional<std::uint64_t> timestamp_ms = std::nullopt) const {
    Block block;
    BlockHeader& header = block.header;
    header.chain_id = kChainId;
    header.epoch = kEpoch;
    header.round = round;
    header.height = parent.header.height + 1;
    header.parent_id = parent_qc.block_id;
    header.parent_round = parent_qc.round;
    block.payload = bytes_of(payload);
    header.payload_digest = core::sha3_256(block.payload);
    header.proposer = validators.leader(round);
    header.timestamp_ms = timestamp_ms.value_or(parent.header.timestamp_ms + 10);
    block.parent_qc = parent_qc;
    sign_block(block);
    return block;
  }

  // A block for `round` extending `parent` with a QC for it (signed by 0, 1, 2).
  Block extend(Round round, const Block& parent, std::string_view payload = "txs") const {
    const QuorumCert qc = parent.header.height == 0 ? genesis_qc : make_qc(parent);
    return make_block(round, parent, qc, payload);
  }

  // Re-signs a block after its header was edited, as its (possibly new) proposer.
  void sign_block(Block& block) const {
    block.proposer_signature =
        signers.at(block.header.proposer).sign(signing_digest_block(block.id()));
  }

  Signature sign_vote(ValidatorIndex voter, Round round, const Hash256& block_id) const {
    return signers.at(voter).sign(signing_digest_vote(kChainId, kEpoch, round, block_id));
  }

  Vote make_vote(ValidatorIndex voter, Round round, const Hash256& block_id) const {
    Vote vote;
    vote.chain_id = kChainId;
    vote.epoch = kEpoch;
    vote.round = round;
    vote.block_id = block_id;
    vote.voter = voter;
    vote.signature = sign_vote(voter, round, block_id);
    return vote;
  }
  Vote make_vote(ValidatorIndex voter, const Block& block) const {
    return make_vote(voter, block.header.round, block.id());
  }

  QuorumCert make_qc(const Block& block,
                     const std::vector<ValidatorIndex>& signer_indices = {0, 1, 2}) const {
    QuorumCert qc;
    qc.chain_id = kChainId;
    qc.epoch = kEpoch;
    qc.round = block.header.round;
    qc.block_id = block.id();
    for (ValidatorIndex signer : signer_indices) {
      qc.signers.push_back(signer);
      qc.signatures.push_back(sign_vote(signer, qc.round, qc.block_id));
    }
    return qc;
  }

  TimeoutCert make_tc(Round round, const std::vector<TimeoutEntrySpec>& entries) const {
    TimeoutCert tc;
    tc.chain_id = kChainId;
    tc.epoch = kEpoch;
    tc.round = round;
    for (const TimeoutEntrySpec& spec : entries) {
      tc.entries.push_back(TimeoutSignature{
          spec.signer, spec.high_qc_round,
          signers.at(spec.signer)
              .sign(signing_digest_timeout(kChainId, kEpoch, round, spec.high_qc_round))});
    }
    return tc;
  }

  Timeout make_timeout(ValidatorIndex author, Round round, const QuorumCert& high_qc,
                       std::optional<TimeoutCert> last_round_tc = std::nullopt) const {
    Timeout timeout;
    timeout.chain_id = kChainId;
    timeout.epoch = kEpoch;
    timeout.round = round;
    timeout.high_qc = high_qc;
    timeout.last_round_tc = std::move(last_round_tc);
    timeout.author = author;
    timeout.signature =
        signers.at(author).sign(signing_digest_timeout(kChainId, kEpoch, round, high_qc.round));
    return timeout;
  }

  static Proposal proposal(Block block, std::optional<TimeoutCert> last_round_tc = std::nullopt) {
    return Proposal{std::move(block), std::move(last_round_tc)};
  }

  // ------------------------------------------------------------ cores

  CoreConfig config_for(ValidatorIndex self) const {
    CoreConfig config;
    config.chain_id = kChainId;
    config.validators = validators;
    config.self = self;
    config.base_timeout_ticks = kBaseTimeoutTicks;
    return config;
  }

  std::unique_ptr<ConsensusCore> make_core(ValidatorIndex self) const {
    return make_core(self, RestoredState{SafetyData{}, genesis, {}});
  }
  std::unique_ptr<ConsensusCore> make_core(ValidatorIndex self, RestoredState state) const {
    return std::make_unique<ConsensusCore>(config_for(self), signers.at(self), std::move(state));
  }

  // Verifies `message` as coming from `from` (as the node does) and steps the core with it.
  Effects deliver(ConsensusCore& core, ValidatorIndex from, Message message) const {
    if (auto rejection = verifier.verify(from, message)) {
      ADD_FAILURE() << "harness built an invalid " << message_kind(message) << ": "
                    << drop_reason_name(rejection->reason) << " (" << rejection->detail << ")";
      return {};
    }
    return core.step(MessageEvent{from, std::move(message)});
  }

  // Members, in construction order.
  std::vector<Ed25519Signer> signers;  // signers[i] holds validator i's key; never resized
  ValidatorSet validators;
  Block genesis;
  QuorumCert genesis_qc;
  Ed25519Verifier signature_verifier;
  MessageVerifier verifier;

 private:
  static std::vector<Ed25519Signer> make_signers() {
    std::vector<Ed25519Signer> out;
    out.reserve(kValidatorCount);
    for (std::size_t i = 0; i < kValidatorCount; ++i) out.emplace_back(validator_key(i));
    return out;
  }
  static ValidatorSet make_validator_set(const std::vector<Ed25519Signer>& keys) {
    ValidatorSet set;
    set.epoch = kEpoch;
    for (std::size_t i = 0; i < keys.size(); ++i) {
      set.validators.push_back(Validator{keys[i].public_key(), "validator-" + std::to_string(i)});
    }
    return set;
  }
};

// ------------------------------------------------------------ reading effects

// Positions in `effects` of every effect of type E.
template <class E>
std::vector<std::size_t> positions_of(const Effects& effects) {
  std::vector<std::size_t> out;
  for (std::size_t i = 0; i < effects.size(); ++i) {
    if (std::holds_alternative<E>(effects[i])) out.push_back(i);
  }
  return out;
}

template <class E>
std::vector<E> all_of(const Effects& effects) {
  std::vector<E> out;
  for (const Effect& effect : effects) {
    if (const E* found = std::get_if<E>(&effect)) out.push_back(*found);
  }
  return out;
}

// A message of kind M leaving the replica: sent to one validator, or broadcast (no `to`).
template <class M>
struct Outgoing {
  std::size_t position = 0;
  std::optional<ValidatorIndex> to;
  M message;
};

template <class M>
std::vector<Outgoing<M>> outgoing(const Effects& effects) {
  std::vector<Outgoing<M>> out;
  for (std::size_t i = 0; i < effects.size(); ++i) {
    if (const auto* send = std::get_if<SendEffect>(&effects[i])) {
      if (const M* message = std::get_if<M>(&send->message)) out.push_back({i, send->to, *message});
    } else if (const auto* broadcast = std::get_if<BroadcastEffect>(&effects[i])) {
      if (const M* message = std::get_if<M>(&broadcast->message))
        out.push_back({i, std::nullopt, *message});
    }
  }
  return out;
}

inline std::vector<Hash256> ids_of(const std::vector<Block>& blocks) {
  std::vector<Hash256> out;
  for (const Block& block : blocks) out.push_back(block.id());
  return out;
}

// Every block committed by these effects, in the order the CommitEffects list them.
inline std::vector<Hash256> committed_ids(const Effects& effects) {
  std::vector<Hash256> out;
  for (const CommitEffect& commit : all_of<CommitEffect>(effects)) {
    for (const Block& block : commit.blocks) out.push_back(block.id());
  }
  return out;
}

}  // namespace carbon::consensus::harness
