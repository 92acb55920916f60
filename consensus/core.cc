#include "consensus/core.h"

#include <algorithm>

namespace carbon::consensus {

ConsensusCore::ConsensusCore(CoreConfig config, const Signer& signer, RestoredState state)
    : config_(std::move(config)),
      signer_(signer),
      quorum_(config_.validators.quorum()),
      faulty_limit_(config_.validators.max_faulty()),
      safety_(std::move(state.safety)),
      committed_tip_(std::move(state.committed_tip)) {
  CARBON_ASSERT(!config_.validators.validators.empty());
  CARBON_ASSERT(config_.self < config_.validators.size());
  CARBON_ASSERT(config_.validators.validators[config_.self].key == signer_.public_key());
  CARBON_ASSERT(config_.base_timeout_ticks > 0);
  safety_.epoch = config_.validators.epoch;
  committed_tip_id_ = committed_tip_.id();
  blocks_.emplace(committed_tip_id_, committed_tip_);
  committed_window_.emplace(committed_tip_.header.height, committed_tip_id_);
  // Re-insert persisted uncommitted blocks, parents first.
  std::sort(state.uncommitted_blocks.begin(), state.uncommitted_blocks.end(),
            [](const Block& a, const Block& b) { return a.header.height < b.header.height; });
  for (const Block& block : state.uncommitted_blocks) {
    DropReason ignored{};
    if (block.header.epoch == config_.validators.epoch) (void)insert_block(block, &ignored);
  }
  // A fresh replica's high QC is the genesis QC; a restored one never regresses below its tip.
  if (safety_.high_qc.chain_id.empty()) safety_.high_qc = make_genesis_qc(committed_tip_);
  Round entered = safety_.high_qc.round;
  if (safety_.high_tc) entered = std::max(entered, safety_.high_tc->round);
  // Rounds only advance through certificates, so max(qc, tc) + 1 >= highest_voted_round.
  current_round_ = entered + 1;
  last_proposed_round_ = safety_.highest_voted_round;
}

const Block* ConsensusCore::find_block(const Hash256& id) const {
  auto it = blocks_.find(id);
  return it == blocks_.end() ? nullptr : &it->second;
}

std::vector<const Block*> ConsensusCore::uncommitted_chain(const Hash256& tip_id) const {
  std::vector<const Block*> chain;
  for (const Block* block = find_block(tip_id);
       block != nullptr && block->header.height > committed_tip_.header.height && chain.size() < blocks_.size();
       block = find_block(block->header.parent_id)) {
    chain.push_back(block);
  }
  return chain;
}

Effects ConsensusCore::start() {
  effects_.clear();
  effects_.push_back(SetTimerEffect{current_round_, round_timeout_ticks()});
  maybe_propose();
  return std::move(effects_);
}

Effects ConsensusCore::step(Event event) {
  effects_.clear();
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, MessageEvent>) on_message(body.from, std::move(body.message));
        if constexpr (std::is_same_v<T, TimerEvent>) on_timer(body.round);
        if constexpr (std::is_same_v<T, PayloadEvent>) on_payload(std::move(body));
      },
      event);
  // Messages to ourselves (our own vote, our own timeout) are
  // handled here, after the handler that produced them, as if they had arrived.
  for (std::size_t handled = 0; !self_messages_.empty(); ++handled) {
    CARBON_ASSERT(handled < 64);  // each handler sends itself at most a few messages
    Message message = std::move(self_messages_.front());
    self_messages_.pop_front();
    on_message(config_.self, std::move(message));
  }
  return std::move(effects_);
}

void ConsensusCore::on_message(ValidatorIndex from, Message&& message) {
  std::visit(
      [&](auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, Proposal>) on_proposal(from, std::move(body));
        if constexpr (std::is_same_v<T, Vote>) on_vote(body);
        if constexpr (std::is_same_v<T, Timeout>) on_timeout(from, body);
        if constexpr (std::is_same_v<T, SyncRequest>) on_sync_request(from, body);
        if constexpr (std::is_same_v<T, SyncResponse>) on_sync_response(from, std::move(body));
      },
      message);
}

// ---------------------------------------------------------------- certificates and rounds

void ConsensusCore::process_certificates(ValidatorIndex from, const QuorumCert& qc,
                                         const std::optional<TimeoutCert>& tc) {
  if (tc) process_tc(*tc);
  process_qc(from, qc);
}

void ConsensusCore::process_qc(ValidatorIndex from, const QuorumCert& qc) {
  if (qc.round > safety_.high_qc.round) safety_.high_qc = qc;
  if (find_block(qc.block_id) != nullptr) {
    try_commit(qc);
  } else if (qc.round > committed_tip_.header.round) {
    request_sync(from, qc.block_id, false, committed_height() + 1);
  }
  if (qc.round >= current_round_) advance_round(qc.round + 1, false);
}

void ConsensusCore::process_tc(const TimeoutCert& tc) {
  if (!safety_.high_tc || tc.round > safety_.high_tc->round) safety_.high_tc = tc;
  if (tc.round >= current_round_) advance_round(tc.round + 1, true);
}

void ConsensusCore::advance_round(Round new_round, bool via_tc) {
  CARBON_ASSERT(new_round > current_round_);
  current_round_ = new_round;
  rounds_since_qc_ = via_tc ? rounds_since_qc_ + 1 : 0;
  waiting_payload_.reset();
  prune_below_round();
  effects_.push_back(SetTimerEffect{current_round_, round_timeout_ticks()});
  maybe_propose();
}

std::uint64_t ConsensusCore::round_timeout_ticks() const {
  const std::uint32_t exponent = std::min<std::uint32_t>(rounds_since_qc_, kMaxBackoffExponent);
  return config_.base_timeout_ticks << exponent;
}

void ConsensusCore::prune_below_round() {
  const Round keep_from = current_round_ > kVoteRoundsKept ? current_round_ - kVoteRoundsKept : 0;
  votes_.erase(votes_.begin(), votes_.lower_bound(keep_from));
  voted_for_.erase(voted_for_.begin(), voted_for_.lower_bound(keep_from));
  qc_formed_.erase(qc_formed_.begin(), qc_formed_.lower_bound(keep_from));
  timeouts_.erase(timeouts_.begin(), timeouts_.lower_bound(current_round_));
  stashed_proposals_.erase(stashed_proposals_.begin(), stashed_proposals_.lower_bound(current_round_));
}

// ---------------------------------------------------------------- commit

void ConsensusCore::try_commit(const QuorumCert& qc) {
  // Two-chain rule: a QC for block B whose parent was certified in the round just before
  // B's round commits B's parent (and with it every uncommitted ancestor).
  const Block* block = find_block(qc.block_id);
  if (block == nullptr || block->header.height == 0) return;
  if (block->header.parent_round + 1 != block->header.round) return;
  commit_through(block->header.parent_id);
}

void ConsensusCore::commit_through(const Hash256& block_id) {
  if (halted_on_conflict_) return;
  const Block* target = find_block(block_id);
  if (target == nullptr) return;
  const Height target_height = target->header.height;
  if (target_height <= committed_height()) {
    auto it = committed_window_.find(target_height);
    if (it != committed_window_.end() && it->second != block_id) halted_on_conflict_ = true;
    return;
  }
  // Walk back to the committed tip; every block in the tree has its parent in the tree.
  std::vector<const Block*> chain;
  const Block* cursor = target;
  while (cursor != nullptr && cursor->header.height > committed_height()) {
    chain.push_back(cursor);
    cursor = find_block(cursor->header.parent_id);
  }
  // A missing ancestor means the chain hangs off a fork we pruned as conflicting.
  if (cursor == nullptr || cursor->id() != committed_tip_id_) {
    halted_on_conflict_ = true;  // the certified chain does not extend what we committed
    return;
  }
  CommitEffect commit;
  commit.blocks.reserve(chain.size());
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    const Block* block = *it;
    commit.blocks.push_back(*block);
    committed_window_.emplace(block->header.height, block->id());
  }
  committed_tip_ = *target;
  committed_tip_id_ = block_id;
  effects_.push_back(std::move(commit));

  // Forget forks that can no longer commit and committed blocks beyond the window.
  for (auto it = blocks_.begin(); it != blocks_.end();) {
    const Height height = it->second.header.height;
    const bool on_committed_chain = height <= committed_height() && committed_window_.count(height) > 0 &&
                                    committed_window_.at(height) == it->first;
    if (height <= committed_height() && !on_committed_chain) {
      it = blocks_.erase(it);
    } else {
      ++it;
    }
  }
  while (committed_window_.size() > kCommittedBlocksKept) {
    blocks_.erase(committed_window_.begin()->second);
    committed_window_.erase(committed_window_.begin());
  }
}

// ---------------------------------------------------------------- blocks

bool ConsensusCore::insert_block(const Block& block, DropReason* why) {
  const Hash256 id = block.id();
  if (find_block(id) != nullptr) {
    *why = DropReason::kDuplicate;
    return true;  // already have it: not an error for the caller
  }
  if (block.header.height <= committed_height()) {
    *why = DropReason::kStale;
    return false;
  }
  const Block* parent = find_block(block.header.parent_id);
  if (parent == nullptr) {
    *why = DropReason::kUnsolicited;
    return false;
  }
  if (block.header.height != parent->header.height + 1 || parent->header.round != block.parent_qc.round ||
      block.header.timestamp_ms <= parent->header.timestamp_ms) {
    *why = DropReason::kMalformed;  // height, round or timestamp does not follow the parent
    return false;
  }
  if (blocks_.size() >= kMaxPendingBlocks + committed_window_.size()) {
    *why = DropReason::kOverCapacity;
    return false;
  }
  blocks_.emplace(id, block);
  return true;
}

void ConsensusCore::on_proposal(ValidatorIndex from, Proposal&& proposal) {
  const Block& block = proposal.block;
  process_certificates(from, block.parent_qc, proposal.last_round_tc);
  if (block.header.round < current_round_) {
    // Too late to vote for. Still wanted if it is the block our highest QC certifies: the next
    // leader formed that QC from votes that came first, and needs the block to propose on it
    // (it would otherwise fetch the block by sync). Only that one block is taken this way.
    if (block.id() == safety_.high_qc.block_id && find_block(block.header.parent_id) != nullptr) {
      DropReason why{};
      if (insert_block(block, &why) && why != DropReason::kDuplicate) {
        try_commit(safety_.high_qc);  // (its parent QC was processed above, with the parent held)
        if (sync_target_ == block.id()) sync_peer_.reset();
        retry_stashed_proposals();
        maybe_propose();
        return;
      }
    }
    drops_.add(DropReason::kStale);
    return;
  }
  if (block.header.round > current_round_) {
    // The proposer knows a certificate for round - 1 that did not travel with the proposal.
    drops_.add(DropReason::kFarAhead);
    return;
  }
  if (find_block(block.header.parent_id) == nullptr) {
    if (stashed_proposals_.size() >= kMaxStashedProposals && stashed_proposals_.count(block.header.round) == 0) {
      drops_.add(DropReason::kOverCapacity);
      return;
    }
    const Hash256 parent_id = block.header.parent_id;
    stashed_proposals_[block.header.round] = {from, std::move(proposal)};
    // Processing the parent QC above has normally just asked for this very block (a block's
    // parent_qc certifies its parent); a second request would only fetch it twice.
    if (!sync_peer_ || sync_target_ != parent_id) {
      request_sync(from, parent_id, false, committed_height() + 1);
    }
    return;
  }
  DropReason why{};
  if (!insert_block(block, &why)) {
    drops_.add(why);
    return;
  }
  if (why == DropReason::kDuplicate) {
    // A second copy of a block we hold; a different block for this round from the same
    // leader is an equivocation, which the vote rule (one vote per round) makes harmless. We may
    // hold it from block sync or from before a restart, with its votes already in.
    drops_.add(DropReason::kDuplicate);
    maybe_form_qc(block.header.round, block.id());
    return;
  }
  try_commit(block.parent_qc);
  maybe_vote(block, proposal.last_round_tc);
  maybe_form_qc(block.header.round, block.id());  // its votes may have come first
}

bool ConsensusCore::safe_to_vote(Round block_round, Round qc_round, const std::optional<TimeoutCert>& tc) const {
  if (config_.unsafe_disable_safety_rules) return true;
  if (block_round <= std::max(safety_.highest_voted_round, qc_round)) return false;
  if (qc_round < safety_.locked_round) return false;  // implied by the rules below; kept explicit
  if (block_round == qc_round + 1) return true;
  // After a timeout, extend a QC at least as high as any the timeout certificate reports.
  return tc && block_round == tc->round + 1 && qc_round >= tc->max_high_qc_round();
}

bool ConsensusCore::safe_to_timeout(Round round, Round qc_round, const std::optional<TimeoutCert>& tc) const {
  if (qc_round < safety_.locked_round || round < safety_.highest_voted_round || round <= qc_round) return false;
  return round == qc_round + 1 || (tc && round == tc->round + 1);
}

void ConsensusCore::maybe_vote(const Block& block, const std::optional<TimeoutCert>& last_round_tc) {
  const Round round = block.header.round;
  if (round != current_round_) return;
  if (!safe_to_vote(round, block.parent_qc.round, last_round_tc)) {
    drops_.add(DropReason::kEquivocation);
    return;
  }
  if (config_.payload_validator != nullptr && !config_.payload_validator->is_valid(block)) {
    drops_.add(DropReason::kMalformed);
    return;
  }
  safety_.highest_voted_round = std::max(safety_.highest_voted_round, round);
  safety_.locked_round = std::max(safety_.locked_round, block.parent_qc.round);
  effects_.push_back(PersistBlockEffect{block});
  persist_safety();
  Vote vote;
  vote.chain_id = config_.chain_id;
  vote.epoch = validators().epoch;
  vote.round = round;
  vote.block_id = block.id();
  vote.voter = config_.self;
  vote.signature = signer_.sign(signing_digest_vote(vote.chain_id, vote.epoch, round, vote.block_id));
  // To every validator, not only the next leader: each then forms the QC itself and learns a
  // commit as soon as the child's votes are in, instead of a round later from the next
  // proposal (after that leader built its payload and every receiver checked it).
  self_messages_.push_back(vote);
  broadcast(std::move(vote));
}

void ConsensusCore::on_vote(const Vote& vote) {
  const Round keep_from = current_round_ > kVoteRoundsKept ? current_round_ - kVoteRoundsKept : 0;
  if (vote.round < keep_from) {
    drops_.add(DropReason::kStale);
    return;
  }
  if (vote.round > current_round_ + kMaxRoundsAhead) {
    drops_.add(DropReason::kFarAhead);
    return;
  }
  if (qc_formed_.count(vote.round) > 0) return;  // late vote for a QC we already made
  auto& voted = voted_for_[vote.round];
  auto previous = voted.find(vote.voter);
  if (previous != voted.end()) {
    drops_.add(previous->second == vote.block_id ? DropReason::kDuplicate : DropReason::kEquivocation);
    return;
  }
  voted.emplace(vote.voter, vote.block_id);
  votes_[vote.round][vote.block_id].emplace(vote.voter, vote.signature);
  maybe_form_qc(vote.round, vote.block_id);
}

void ConsensusCore::maybe_form_qc(Round round, const Hash256& block_id) {
  if (qc_formed_.count(round) > 0) return;
  auto round_votes = votes_.find(round);
  if (round_votes == votes_.end()) return;
  auto block_votes = round_votes->second.find(block_id);
  if (block_votes == round_votes->second.end() || block_votes->second.size() < quorum_) return;
  // Every validator receives the votes, and they can outrun the proposal (still being checked
  // here, or on its way). Only the next leader, which needs the QC to propose, forms it without
  // the block (and fetches the block by sync); the others wait for the proposal, which forms it
  // on arrival, so that they do not move to the next round and then refuse the proposal as
  // stale, or ask a peer for a block that is already on its way.
  if (leader(round + 1) != config_.self && find_block(block_id) == nullptr) return;
  const auto& signatures = block_votes->second;
  QuorumCert qc;
  qc.chain_id = config_.chain_id;
  qc.epoch = validators().epoch;
  qc.round = round;
  qc.block_id = block_id;
  for (const auto& [voter, signature] : signatures) {  // std::map: ascending voters
    qc.signers.push_back(voter);
    qc.signatures.push_back(signature);
  }
  qc_formed_.insert(round);
  process_qc(config_.self, qc);
}

// ---------------------------------------------------------------- proposing

void ConsensusCore::maybe_propose() {
  if (leader(current_round_) != config_.self) return;
  if (current_round_ <= last_proposed_round_ || current_round_ <= safety_.highest_voted_round) return;
  const Block* parent = find_block(safety_.high_qc.block_id);
  if (waiting_payload_ && waiting_payload_->round == current_round_) {
    if (parent == nullptr) return;  // still fetching the parent
    PayloadEvent event = std::move(*waiting_payload_);
    waiting_payload_.reset();
    on_payload(std::move(event));
    return;
  }
  // Not before the parent is here (block sync calls this again when it delivers it): the
  // application leaves out what the parent's chain holds, which it can know only from the
  // parent and its ancestors.
  if (parent == nullptr) return;
  NeedPayloadEffect need;
  need.round = current_round_;
  need.parent_id = safety_.high_qc.block_id;
  need.height = parent->header.height + 1;
  need.parent_timestamp_ms = parent->header.timestamp_ms;
  effects_.push_back(need);
}

void ConsensusCore::on_payload(PayloadEvent event) {
  if (event.round != current_round_ || leader(current_round_) != config_.self) return;
  if (current_round_ <= last_proposed_round_ || current_round_ <= safety_.highest_voted_round) return;
  if (event.parent_id != safety_.high_qc.block_id) {
    // Built for an older parent: a higher QC arrived in this round while the payload was being
    // prepared (after a timeout certificate, say). The application left out what that older
    // chain holds, not what the block's real ancestors hold, so the payload could repeat their
    // transactions. Ask for one built for the current parent instead.
    waiting_payload_.reset();
    drops_.add(DropReason::kStale);
    maybe_propose();
    return;
  }
  if (event.payload.size() > kMaxPayloadBytes) {
    drops_.add(DropReason::kOverCapacity);
    event.payload.clear();  // propose an empty block rather than none
  }
  const Block* parent = find_block(safety_.high_qc.block_id);
  if (parent == nullptr) {
    waiting_payload_ = std::move(event);  // proposed once block sync delivers the parent
    return;
  }
  waiting_payload_.reset();
  Proposal proposal;
  Block& block = proposal.block;
  block.header.chain_id = config_.chain_id;
  block.header.epoch = validators().epoch;
  block.header.round = current_round_;
  block.header.height = parent->header.height + 1;
  block.header.parent_id = safety_.high_qc.block_id;
  block.header.parent_round = safety_.high_qc.round;
  block.header.payload_digest = core::sha3_256(event.payload);
  block.header.proposer = config_.self;
  block.header.timestamp_ms = std::max(event.timestamp_ms, parent->header.timestamp_ms + 1);
  block.parent_qc = safety_.high_qc;
  block.payload = std::move(event.payload);
  block.proposer_signature = signer_.sign(signing_digest_block(block.id()));
  if (safety_.high_tc && safety_.high_tc->round + 1 == current_round_) proposal.last_round_tc = safety_.high_tc;
  last_proposed_round_ = current_round_;

  DropReason why{};
  const bool inserted = insert_block(block, &why);
  CARBON_ASSERT(inserted);  // our own block extends a block we hold
  // Vote for our own block first: the persisted highest_voted_round then also stops a
  // restarted replica from proposing a second block for this round.
  maybe_vote(block, proposal.last_round_tc);
  broadcast(std::move(proposal));
}

// ---------------------------------------------------------------- timeouts

void ConsensusCore::on_timer(Round round) {
  if (round != current_round_) return;
  local_timeout();
}

void ConsensusCore::local_timeout() {
  const Round round = current_round_;
  if (safety_.last_timeout && safety_.last_timeout->round == round) {
    broadcast(*safety_.last_timeout);  // retransmit the one we signed; never sign another
    // Count it ourselves too: after a restart our collection starts empty.
    if (timeouts_[round].count(config_.self) == 0) self_messages_.push_back(*safety_.last_timeout);
  } else {
    std::optional<TimeoutCert> last_round_tc;
    if (safety_.high_tc && safety_.high_tc->round + 1 == round) last_round_tc = safety_.high_tc;
    if (!safe_to_timeout(round, safety_.high_qc.round, last_round_tc)) {
      effects_.push_back(SetTimerEffect{round, round_timeout_ticks()});
      return;
    }
    Timeout timeout;
    timeout.chain_id = config_.chain_id;
    timeout.epoch = validators().epoch;
    timeout.round = round;
    timeout.high_qc = safety_.high_qc;
    timeout.last_round_tc = std::move(last_round_tc);
    timeout.author = config_.self;
    timeout.signature =
        signer_.sign(signing_digest_timeout(timeout.chain_id, timeout.epoch, round, timeout.high_qc.round));
    safety_.highest_voted_round = std::max(safety_.highest_voted_round, round);
    safety_.last_timeout = timeout;
    persist_safety();
    broadcast(timeout);
    self_messages_.push_back(std::move(timeout));
  }
  // Re-arm: if the round still does not end, retransmit the timeout (messages may be lost).
  effects_.push_back(SetTimerEffect{round, round_timeout_ticks()});
}

void ConsensusCore::on_timeout(ValidatorIndex from, const Timeout& timeout) {
  process_certificates(from, timeout.high_qc, timeout.last_round_tc);
  if (timeout.round < current_round_) {
    drops_.add(DropReason::kStale);
    return;
  }
  if (timeout.round > current_round_ + kMaxRoundsAhead) {
    drops_.add(DropReason::kFarAhead);
    return;
  }
  auto& collected = timeouts_[timeout.round];
  if (collected.count(timeout.author) > 0) {
    drops_.add(DropReason::kDuplicate);
    return;
  }
  collected.emplace(timeout.author, TimeoutSignature{timeout.author, timeout.high_qc.round, timeout.signature});
  const bool timed_out_here = safety_.last_timeout && safety_.last_timeout->round == timeout.round;
  if (timeout.round == current_round_ && collected.size() == faulty_limit_ + 1 && !timed_out_here) {
    // f+1 timeouts mean at least one honest replica gave up on this round: join it, so that
    // a TC forms even if our own timer would fire later (Bracha-style amplification).
    local_timeout();
  }
  if (collected.size() < quorum_) return;
  TimeoutCert tc;
  tc.chain_id = config_.chain_id;
  tc.epoch = validators().epoch;
  tc.round = timeout.round;
  for (const auto& [author, entry] : collected) tc.entries.push_back(entry);  // ascending authors
  timeouts_.erase(timeout.round);
  process_tc(tc);
}

// ---------------------------------------------------------------- block sync

void ConsensusCore::request_sync(ValidatorIndex peer, const Hash256& target, bool continuation, Height from_height) {
  if (peer == config_.self) {
    // We learned of the block from our own certificate; ask the block's likely holder.
    peer = leader(current_round_ > 0 ? current_round_ - 1 : 0);
    if (peer == config_.self) peer = static_cast<ValidatorIndex>((config_.self + 1) % validators().size());
  }
  // At most one request per target per round, except to continue a sync under way.
  if (!continuation && sync_peer_ && sync_target_ == target && sync_requested_round_ == current_round_) return;
  sync_peer_ = peer;
  sync_target_ = target;
  sync_requested_round_ = current_round_;
  sync_from_height_ = from_height;
  SyncRequest request;
  request.chain_id = config_.chain_id;
  request.epoch = validators().epoch;
  request.from_height = from_height;
  request.target_id = target;
  request.max_blocks = static_cast<std::uint32_t>(kMaxSyncBlocks);
  send(peer, std::move(request));
}

void ConsensusCore::on_sync_request(ValidatorIndex from, const SyncRequest& request) {
  if (from == config_.self) return;
  // Serve the chain towards the target if we hold it, else towards our highest certified block.
  Hash256 tip = committed_tip_id_;
  if (find_block(request.target_id) != nullptr) {
    tip = request.target_id;
  } else if (find_block(safety_.high_qc.block_id) != nullptr) {
    tip = safety_.high_qc.block_id;
  }
  std::vector<const Block*> path;
  const Block* cursor = find_block(tip);
  while (cursor != nullptr && cursor->header.height >= request.from_height && cursor->header.height > 0) {
    CARBON_ASSERT(path.size() <= kMaxPendingBlocks + kCommittedBlocksKept);
    path.push_back(cursor);
    cursor = find_block(cursor->header.parent_id);
  }
  const Height lowest_held = path.empty() ? committed_height() + 1 : path.back()->header.height;
  if (request.from_height < lowest_held && request.from_height <= committed_height()) {
    // Older than our in-memory window: the driver serves committed blocks from its store.
    effects_.push_back(ServeCommittedBlocksEffect{from, request.from_height, request.max_blocks});
    return;
  }
  if (path.empty()) return;
  SyncResponse response;
  response.chain_id = config_.chain_id;
  response.epoch = validators().epoch;
  std::size_t bytes = 0;
  for (auto it = path.rbegin(); it != path.rend() && response.blocks.size() < request.max_blocks; ++it) {
    bytes += (*it)->payload.size() + 1024;
    if (!response.blocks.empty() && bytes > kMaxMessageBytes / 2) break;
    response.blocks.push_back(**it);
  }
  send(from, std::move(response));
}

void ConsensusCore::on_sync_response(ValidatorIndex from, SyncResponse&& response) {
  if (!sync_peer_ || *sync_peer_ != from) {
    drops_.add(DropReason::kUnsolicited);
    return;
  }
  // Blocks now in the tree, whether this response inserted them or we held them already (the
  // blocks this replica voted for survive a restart; a peer below its in-memory window answers
  // from its store with committed blocks only, which such a replica may hold).
  std::optional<Height> last_held;
  for (const Block& block : response.blocks) {
    DropReason why{};
    if (!insert_block(block, &why)) {
      if (why == DropReason::kStale) continue;  // overlaps what we already committed
      drops_.add(why);
      break;
    }
    last_held = block.header.height;
    process_qc(from, block.parent_qc);
    // Votes for it may have come before it did (every validator receives the votes).
    maybe_form_qc(block.header.round, block.id());
  }
  try_commit(safety_.high_qc);
  if (find_block(sync_target_) != nullptr) {
    sync_peer_.reset();
  } else if (last_held && *last_held + 1 > sync_from_height_) {
    // Continue above the last block now held. Each continuation asks from a greater height
    // than the one before, so a sync ends even if every block is one we already held.
    request_sync(from, sync_target_, true, *last_held + 1);
  }
  retry_stashed_proposals();
  maybe_propose();
}

void ConsensusCore::retry_stashed_proposals() {
  auto it = stashed_proposals_.find(current_round_);
  if (it == stashed_proposals_.end()) return;
  if (find_block(it->second.second.block.header.parent_id) == nullptr) return;
  auto [from, proposal] = std::move(it->second);
  stashed_proposals_.erase(it);
  on_proposal(from, std::move(proposal));
}

// ---------------------------------------------------------------- output

void ConsensusCore::persist_safety() { effects_.push_back(PersistSafetyEffect{safety_}); }

void ConsensusCore::send(ValidatorIndex to, Message message) {
  if (to == config_.self) {
    self_messages_.push_back(std::move(message));
  } else {
    effects_.push_back(SendEffect{to, std::move(message)});
  }
}

void ConsensusCore::broadcast(Message message) { effects_.push_back(BroadcastEffect{std::move(message)}); }

}  // namespace carbon::consensus
