// The consensus core: a pure, deterministic state machine for two-chain HotStuff with
// timeout certificates, after
//   R. Gelashvili, L. Kokoris-Kogias, A. Sonnino, A. Spiegelman, Z. Xiang,
//   "Jolteon and Ditto: Network-Adaptive Efficient Consensus with Asynchronous Fallback",
//   FC 2022 (arXiv:2106.10362), and the DiemBFT v4 specification (Diem Team, 2021).
// docs/consensus.md walks through the protocol and lists where we deviate.
//
// Interface: Effects step(Event). Events are messages that already passed MessageVerifier
// (consensus/verifier.h), timer expiries and payloads the driver was asked for. Effects are
// sends, broadcasts, timers, safety data to persist, committed blocks, payload requests and
// requests to serve old committed blocks from storage. The driver must perform effects in
// order and must make a PersistSafety durable before performing any later effect of the same
// step (that is what keeps a restarted replica from signing two conflicting messages).
//
// The core has no I/O, no clock (time arrives in PayloadEvent, timers in logical ticks), no
// threads and no randomness; given the same events it produces the same effects.
//
// Thread safety: none; one thread (the node's consensus strand) owns a core.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "consensus/crypto.h"
#include "consensus/types.h"
#include "consensus/verifier.h"

namespace carbon::consensus {

// --- events ---
struct MessageEvent {
  ValidatorIndex from = 0;
  Message message;
};
// The timer set by the latest SetTimerEffect expired.
struct TimerEvent {
  Round round = 0;
};
// The payload asked for by NeedPayloadEffect; timestamp_ms is the driver's clock reading.
struct PayloadEvent {
  Round round = 0;
  Hash256 parent_id;  // NeedPayloadEffect::parent_id: the parent the payload was built for
  Bytes payload;
  std::uint64_t timestamp_ms = 0;
};
using Event = std::variant<MessageEvent, TimerEvent, PayloadEvent>;

// --- effects ---
struct SendEffect {
  ValidatorIndex to = 0;
  Message message;
};
// To every validator of the epoch except this one.
struct BroadcastEffect {
  Message message;
};
// Replaces any earlier timer: after duration_ticks, deliver TimerEvent{round}.
struct SetTimerEffect {
  Round round = 0;
  std::uint64_t duration_ticks = 0;
};
// Write durably before performing the effects that follow it.
struct PersistSafetyEffect {
  SafetyData data;
};
// Store this block durably (with the PersistSafety that follows it) before the vote that
// follows: every certified block then survives at f+1 honest replicas even if all of them
// crash, so a QC never certifies a block nobody can serve. Returned in RestoredState.
struct PersistBlockEffect {
  Block block;
};
// Newly committed blocks in ascending height; the first extends the previous commit.
struct CommitEffect {
  std::vector<Block> blocks;
};
// This replica leads `round`: answer with PayloadEvent{round, ...}.
struct NeedPayloadEffect {
  Round round = 0;
  Height height = 0;
  Hash256 parent_id;
  std::uint64_t parent_timestamp_ms = 0;
};
// A peer asked for committed blocks older than the core keeps in memory: the driver answers
// with a SyncResponse of at most max_blocks committed blocks from its store, from from_height.
struct ServeCommittedBlocksEffect {
  ValidatorIndex to = 0;
  Height from_height = 0;
  std::uint32_t max_blocks = 0;
};
using Effect = std::variant<SendEffect, BroadcastEffect, SetTimerEffect, PersistSafetyEffect, PersistBlockEffect,
                            CommitEffect, NeedPayloadEffect, ServeCommittedBlocksEffect>;
using Effects = std::vector<Effect>;

// Decides whether this replica may vote for a block's payload (the node: every transaction
// in it is valid). Must be deterministic. The default accepts every payload.
class PayloadValidator {
 public:
  virtual ~PayloadValidator() = default;
  virtual bool is_valid(const Block& block) const = 0;
};

struct CoreConfig {
  std::string chain_id;
  ValidatorSet validators;
  ValidatorIndex self = 0;
  // Round timeout before any backoff; each round that ends in a TC doubles it (capped).
  std::uint64_t base_timeout_ticks = 100;
  const PayloadValidator* payload_validator = nullptr;  // not owned; may be null
  // TEST ONLY: vote for any proposal of the current round, ignoring the last-voted round and
  // the lock. The simulator must find a safety violation with this set (testing the test).
  bool unsafe_disable_safety_rules = false;
};

// What a replica starts from: safety data as last persisted, the highest committed block (the
// genesis block on first start) and the blocks above it persisted by PersistBlockEffect (any
// order; those that do not link to the committed tip are ignored). The driver may drop
// persisted blocks at or below the committed height.
struct RestoredState {
  SafetyData safety;
  Block committed_tip;
  std::vector<Block> uncommitted_blocks;
};

class ConsensusCore {
 public:
  ConsensusCore(CoreConfig config, const Signer& signer, RestoredState state);

  // Enter the first round: arm the timer, ask for a payload if leading.
  Effects start();
  Effects step(Event event);

  Round current_round() const { return current_round_; }
  Height committed_height() const { return committed_tip_.header.height; }
  Hash256 committed_id() const { return committed_tip_id_; }
  const SafetyData& safety() const { return safety_; }
  const QuorumCert& high_qc() const { return safety_.high_qc; }
  const DropCounters& drops() const { return drops_; }
  std::size_t blocks_in_memory() const { return blocks_.size(); }
  // The blocks this replica holds from `tip_id` back towards its committed tip (which is not
  // included), newest first: the uncommitted ancestors a block extending `tip_id` would have,
  // whether or not this replica voted for them. Bounded by the blocks in memory.
  std::vector<const Block*> uncommitted_chain(const Hash256& tip_id) const;
  // Set if a commit conflicting with an earlier one was ever attempted (possible only with
  // more than f Byzantine validators); the core then refuses to commit further.
  bool halted_on_conflict() const { return halted_on_conflict_; }

 private:
  const Block* find_block(const Hash256& id) const;
  const ValidatorSet& validators() const { return config_.validators; }
  ValidatorIndex leader(Round round) const { return config_.validators.leader(round); }

  void on_message(ValidatorIndex from, Message&& message);
  void on_proposal(ValidatorIndex from, Proposal&& proposal);
  void on_vote(const Vote& vote);
  void on_timeout(ValidatorIndex from, const Timeout& timeout);
  void on_sync_request(ValidatorIndex from, const SyncRequest& request);
  void on_sync_response(ValidatorIndex from, SyncResponse&& response);
  void on_timer(Round round);
  void on_payload(PayloadEvent event);

  void process_certificates(ValidatorIndex from, const QuorumCert& qc, const std::optional<TimeoutCert>& tc);
  void process_qc(ValidatorIndex from, const QuorumCert& qc);
  void process_tc(const TimeoutCert& tc);
  void advance_round(Round new_round, bool via_tc);
  void try_commit(const QuorumCert& qc);
  void commit_through(const Hash256& block_id);
  bool insert_block(const Block& block, DropReason* why);
  void maybe_form_qc(Round round, const Hash256& block_id);
  void maybe_vote(const Block& block, const std::optional<TimeoutCert>& last_round_tc);
  void maybe_propose();
  void local_timeout();
  void request_sync(ValidatorIndex peer, const Hash256& target, bool continuation, Height from_height);
  void retry_stashed_proposals();
  void prune_below_round();

  bool safe_to_vote(Round block_round, Round qc_round, const std::optional<TimeoutCert>& tc) const;
  bool safe_to_timeout(Round round, Round qc_round, const std::optional<TimeoutCert>& tc) const;
  std::uint64_t round_timeout_ticks() const;
  void persist_safety();
  void send(ValidatorIndex to, Message message);
  void broadcast(Message message);

  CoreConfig config_;
  const Signer& signer_;
  std::size_t quorum_;
  std::size_t faulty_limit_;

  SafetyData safety_;
  Round current_round_ = 0;
  Round last_proposed_round_ = 0;
  std::uint32_t rounds_since_qc_ = 0;  // drives the backoff
  std::optional<PayloadEvent> waiting_payload_;  // for a proposal whose parent is being fetched

  // Block tree: uncommitted blocks above the committed tip, plus a window of committed blocks.
  std::map<Hash256, Block> blocks_;
  std::map<Height, Hash256> committed_window_;  // height -> id, at most kCommittedBlocksKept
  Block committed_tip_;
  Hash256 committed_tip_id_;
  bool halted_on_conflict_ = false;

  // Vote collection (as leader of round + 1): round -> block -> voter -> signature.
  std::map<Round, std::map<Hash256, std::map<ValidatorIndex, Signature>>> votes_;
  std::map<Round, std::map<ValidatorIndex, Hash256>> voted_for_;  // equivocation detection
  std::set<Round> qc_formed_;
  // Timeout collection: round -> author -> (high qc round, signature).
  std::map<Round, std::map<ValidatorIndex, TimeoutSignature>> timeouts_;

  std::map<Round, std::pair<ValidatorIndex, Proposal>> stashed_proposals_;
  // Block sync in flight (at most one peer and target at a time).
  std::optional<ValidatorIndex> sync_peer_;
  Hash256 sync_target_;
  Round sync_requested_round_ = 0;
  Height sync_from_height_ = 0;  // of the request under way: a continuation asks from higher

  DropCounters drops_;
  Effects effects_;  // filled during one step
  std::deque<Message> self_messages_;  // messages this replica sends to itself
};

}  // namespace carbon::consensus
