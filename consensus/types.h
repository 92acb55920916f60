// The consensus protocol's data: validator sets, blocks, votes, quorum certificates,
// timeouts, timeout certificates, the messages that carry them, and the safety data.
//
// Every message and certificate carries the chain id and the epoch; every signature is over
// a domain-separated digest (see signing_digest_* in types.cc) that includes both, so a
// signature from one chain, epoch or message kind cannot be replayed as another.
//
// Thread safety: plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "consensus/limits.h"
#include "core/bytes.h"
#include "core/codec_fields.h"
#include "core/hash.h"
#include "core/keys.h"

namespace carbon::consensus {

using core::Bytes;
using core::Hash256;
using core::PublicKey;
using core::Signature;

using Round = std::uint64_t;
using Height = std::uint64_t;
using Epoch = std::uint64_t;
// A validator's position in its epoch's validator set.
using ValidatorIndex = std::uint16_t;

struct Validator {
  PublicKey key;
  std::string name;  // operator-facing label, e.g. "hubei-drc"
  template <class A>
  void serialize(A& archive) {
    archive(key);
    core::codec::bounded_string(archive, name, 64);
  }
};

// The validators of one epoch. Quorum is the smallest count q with q > 2n/3 (2f+1 when
// n = 3f+1); round r is led by validator r mod n.
struct ValidatorSet {
  Epoch epoch = 0;
  std::vector<Validator> validators;

  std::size_t size() const { return validators.size(); }
  std::size_t quorum() const { return validators.size() * 2 / 3 + 1; }
  // Largest number of faulty validators tolerated: f = n - quorum.
  std::size_t max_faulty() const { return validators.size() - quorum(); }
  ValidatorIndex leader(Round round) const {
    return static_cast<ValidatorIndex>(round % validators.size());
  }
  std::optional<ValidatorIndex> index_of(const PublicKey& key) const;

  template <class A>
  void serialize(A& archive) {
    archive(epoch);
    core::codec::bounded_vector(archive, validators, kMaxValidators, 33);
  }
};

// 2f+1 votes for one block in one round. The genesis QC (round 0, no signatures) certifies
// the genesis block by definition.
struct QuorumCert {
  std::string chain_id;
  Epoch epoch = 0;
  Round round = 0;
  Hash256 block_id;
  std::vector<ValidatorIndex> signers;  // strictly ascending
  std::vector<Signature> signatures;    // signatures[i] is by signers[i]

  bool is_genesis() const { return round == 0 && signers.empty(); }
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(epoch, round, block_id);
    core::codec::bounded_vector(archive, signers, kMaxValidators, 2);
    core::codec::bounded_vector(archive, signatures, kMaxValidators, 64);
  }
};

// One validator's timeout inside a TC: it signed (round, its highest QC round).
struct TimeoutSignature {
  ValidatorIndex signer = 0;
  Round high_qc_round = 0;
  Signature signature;
  template <class A>
  void serialize(A& archive) {
    archive(signer, high_qc_round, signature);
  }
};

// 2f+1 timeouts for one round.
struct TimeoutCert {
  std::string chain_id;
  Epoch epoch = 0;
  Round round = 0;
  std::vector<TimeoutSignature> entries;  // strictly ascending by signer

  Round max_high_qc_round() const;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(epoch, round);
    core::codec::bounded_vector(archive, entries, kMaxValidators, 74);
  }
};

// The part of a block its id is the hash of.
struct BlockHeader {
  std::string chain_id;
  Epoch epoch = 0;
  Round round = 0;
  Height height = 0;
  Hash256 parent_id;
  Round parent_round = 0;  // the round of parent_qc, bound into the id
  Hash256 payload_digest;
  ValidatorIndex proposer = 0;
  std::uint64_t timestamp_ms = 0;  // strictly greater than the parent's

  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(epoch, round, height, parent_id, parent_round, payload_digest, proposer, timestamp_ms);
  }
};

struct Block {
  BlockHeader header;
  QuorumCert parent_qc;  // certifies header.parent_id
  Bytes payload;         // opaque to consensus; sha3_256(payload) == header.payload_digest
  Signature proposer_signature;  // over signing_digest_block(id)

  Hash256 id() const;
  template <class A>
  void serialize(A& archive) {
    archive(header, parent_qc);
    core::codec::bounded_bytes(archive, payload, kMaxPayloadBytes);
    archive(proposer_signature);
  }
};

// The genesis block of a chain: round 0, height 0, no parent, no payload.
Block make_genesis_block(const std::string& chain_id, Epoch epoch, std::uint64_t genesis_time_ms);
QuorumCert make_genesis_qc(const Block& genesis);

struct Proposal {
  Block block;
  std::optional<TimeoutCert> last_round_tc;  // present when block.round - 1 ended in a timeout
  template <class A>
  void serialize(A& archive) {
    archive(block);
    core::codec::optional_field(archive, last_round_tc);
  }
};

struct Vote {
  std::string chain_id;
  Epoch epoch = 0;
  Round round = 0;
  Hash256 block_id;
  ValidatorIndex voter = 0;
  Signature signature;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(epoch, round, block_id, voter, signature);
  }
};

struct Timeout {
  std::string chain_id;
  Epoch epoch = 0;
  Round round = 0;
  QuorumCert high_qc;
  std::optional<TimeoutCert> last_round_tc;  // lets laggards enter `round`
  ValidatorIndex author = 0;
  Signature signature;  // over signing_digest_timeout(chain, epoch, round, high_qc.round)
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(epoch, round, high_qc);
    core::codec::optional_field(archive, last_round_tc);
    archive(author, signature);
  }
};

// Asks for the blocks from from_height up to (and including, when known) target_id.
struct SyncRequest {
  std::string chain_id;
  Epoch epoch = 0;
  Height from_height = 0;
  Hash256 target_id;
  std::uint32_t max_blocks = 0;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(epoch, from_height, target_id, max_blocks);
  }
};

// Consecutive blocks in ascending height; each is checked on its own (signature, QC, payload
// digest) and the links between them are checked by the receiver.
struct SyncResponse {
  std::string chain_id;
  Epoch epoch = 0;
  std::vector<Block> blocks;
  template <class A>
  void serialize(A& archive) {
    core::codec::bounded_string(archive, chain_id, kMaxChainIdBytes);
    archive(epoch);
    core::codec::bounded_vector(archive, blocks, kMaxSyncBlocks, 64);
  }
};

using Message = std::variant<Proposal, Vote, Timeout, SyncRequest, SyncResponse>;
const char* message_kind(const Message& message);

// What a replica must never forget across a crash. The driver writes it durably (a sync
// write) before sending the vote or timeout that follows it in the same Effects.
struct SafetyData {
  Epoch epoch = 0;
  Round highest_voted_round = 0;  // no vote or (new) timeout at or below this round again
  Round locked_round = 0;         // highest QC round of any block voted for (the 2-chain lock)
  QuorumCert high_qc;
  std::optional<TimeoutCert> high_tc;
  // The timeout signed for highest_voted_round, if any: re-sent as is, never re-signed.
  std::optional<Timeout> last_timeout;

  template <class A>
  void serialize(A& archive) {
    archive(epoch, highest_voted_round, locked_round, high_qc);
    core::codec::optional_field(archive, high_tc);
    core::codec::optional_field(archive, last_timeout);
  }
};

// Domain-separated digests that validators sign.
Hash256 signing_digest_block(const Hash256& block_id);
Hash256 signing_digest_vote(const std::string& chain_id, Epoch epoch, Round round, const Hash256& block_id);
Hash256 signing_digest_timeout(const std::string& chain_id, Epoch epoch, Round round, Round high_qc_round);

// Canonical encoding of the types above (core/codec.h); decode is bounded and total.
Bytes encode_message(const Message& message);
core::Result<Message> decode_message(core::ByteView bytes);
Bytes encode_safety_data(const SafetyData& data);
core::Result<SafetyData> decode_safety_data(core::ByteView bytes);
Bytes encode_block(const Block& block);
core::Result<Block> decode_block(core::ByteView bytes);

}  // namespace carbon::consensus
