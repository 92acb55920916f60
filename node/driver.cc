#include "node/driver.h"

#include "core/assert.h"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <chrono>

namespace carbon::node {

using consensus::Block;
using consensus::Effects;

namespace {
// The proposer's clock for a block's timestamp (the core reads no clock: docs/consensus.md).
std::uint64_t wall_clock_ms() {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
}
}  // namespace

Driver::Driver(boost::asio::io_context& io, boost::asio::thread_pool& verify_pool, Options options,
               const consensus::Signer& signer, NodeStore& store, PeerNetwork& network, Application& app)
    : io_(io),
      strand_(boost::asio::make_strand(io)),
      verify_pool_(verify_pool),
      options_(std::move(options)),
      signer_(signer),
      store_(store),
      network_(network),
      app_(app),
      message_verifier_(options_.chain_id, options_.validators, options_.genesis.id(), signature_verifier_),
      timer_(strand_),
      payload_timer_(strand_),
      admission_deadline_(strand_),
      report_timer_(strand_),
      serving_(new std::atomic<bool>[options_.validators.size()]) {
  for (std::size_t i = 0; i < options_.validators.size(); ++i) serving_[i] = false;
}

Driver::~Driver() = default;

core::Status Driver::start() {
  consensus::RestoredState state;
  auto safety = store_.load_safety();
  if (!safety) return safety.status();
  if (*safety) state.safety = std::move(**safety);
  auto pending = store_.load_pending_blocks();
  if (!pending) return pending.status();
  state.uncommitted_blocks = std::move(pending).value();
  const consensus::Height tip_height = store_.committed_height();
  if (tip_height == 0) {
    state.committed_tip = options_.genesis;
  } else {
    auto tip = store_.committed_block(tip_height);
    if (!tip) return tip.status();
    if (!*tip) return core::Status::error(core::ErrorCode::kIoError, "the store lost its committed tip block");
    state.committed_tip = std::move(**tip);
  }
  consensus::CoreConfig config;
  config.chain_id = options_.chain_id;
  config.validators = options_.validators;
  config.self = options_.self;
  config.base_timeout_ticks = options_.base_timeout_ticks;
  config.payload_validator = this;
  core_ = std::make_unique<consensus::ConsensusCore>(std::move(config), signer_, std::move(state));
  committed_height_ = tip_height;
  spdlog::info("consensus: starting at committed height {}, round {}", tip_height, core_->current_round());
  boost::asio::post(strand_, [this] {
    perform(core_->start());
    report_drops();
  });
  return core::Status::ok();
}

bool Driver::is_valid(const Block& block) const { return app_.payload_acceptable(block); }

void Driver::on_peer_message(consensus::ValidatorIndex from, core::Bytes bytes) {
  const std::size_t size = bytes.size();
  const std::size_t waiting = inflight_verifications_.fetch_add(1);
  const std::size_t waiting_bytes = inflight_verification_bytes_.fetch_add(size);
  if (waiting >= kMaxInflightVerifications || waiting_bytes + size > kMaxInflightVerificationBytes) {
    inflight_verifications_.fetch_sub(1);
    inflight_verification_bytes_.fetch_sub(size);
    dropped_.fetch_add(1);
    return;
  }
  boost::asio::post(verify_pool_, [this, from, size, bytes = std::move(bytes)]() mutable {
    auto decoded = consensus::decode_message(bytes);
    std::optional<consensus::Rejection> rejection;
    if (!decoded) {
      rejection = consensus::Rejection{consensus::DropReason::kDecode, decoded.status().message()};
    } else {
      rejection = message_verifier_.verify(from, *decoded);
    }
    // Counted as in flight until its signature checks are done too (the pool's bound covers them).
    if (!rejection) {
      if (const auto* proposal = std::get_if<consensus::Proposal>(&*decoded)) prepare_payload(*proposal);
    }
    inflight_verifications_.fetch_sub(1);
    inflight_verification_bytes_.fetch_sub(size);
    if (rejection) {
      dropped_.fetch_add(1);
      std::lock_guard lock(drops_mutex_);
      verifier_drops_.add(rejection->reason);
      // Logged at debug only: a hostile peer must not be able to flood the operator's log.
      spdlog::debug("dropped a consensus message from validator {}: {} ({})", from,
                    consensus::drop_reason_name(rejection->reason), rejection->detail);
      return;
    }
    boost::asio::post(strand_, [this, from, message = std::move(decoded).value()]() mutable {
      step(consensus::MessageEvent{from, std::move(message)});
    });
  });
}

void Driver::prepare_payload(const consensus::Proposal& proposal) {
  const consensus::Round round = proposal.block.header.round;
  if (proposal.block.header.proposer != options_.validators.leader(round) || round < round_.load()) return;
  consensus::Round prepared = last_prepared_round_.load();
  do {
    if (round <= prepared) return;  // one already (or a later round's, arrived first: the strand checks)
  } while (!last_prepared_round_.compare_exchange_weak(prepared, round));
  app_.prepare_payload_check(proposal.block);
}

void Driver::step(consensus::Event event) {
  if (halted_ || !core_) return;
  perform(core_->step(std::move(event)));
}

void Driver::perform(Effects effects) {
  // Consecutive PersistBlock / PersistSafety effects are written as one synced batch before
  // anything after them is performed.
  std::vector<Block> blocks_to_persist;
  const consensus::SafetyData* safety_to_persist = nullptr;
  auto flush = [&]() -> bool {
    if (blocks_to_persist.empty() && safety_to_persist == nullptr) return true;
    const auto status = store_.persist_for_vote(blocks_to_persist, safety_to_persist);
    blocks_to_persist.clear();
    safety_to_persist = nullptr;
    if (!status.is_ok()) {
      // Without durable safety data we must not sign anything more: stop, loudly.
      spdlog::critical("HALT: {}; consensus stopped to avoid signing conflicting messages", status.to_string());
      halted_ = true;
      return false;
    }
    return true;
  };
  for (auto& effect : effects) {
    if (auto* block = std::get_if<consensus::PersistBlockEffect>(&effect)) {
      blocks_to_persist.push_back(std::move(block->block));
      continue;
    }
    if (auto* safety = std::get_if<consensus::PersistSafetyEffect>(&effect)) {
      safety_to_persist = &safety->data;
      continue;
    }
    if (!flush()) return;
    if (auto* send = std::get_if<consensus::SendEffect>(&effect)) {
      network_.send(send->to, std::make_shared<const core::Bytes>(consensus::encode_message(send->message)));
    } else if (auto* cast = std::get_if<consensus::BroadcastEffect>(&effect)) {
      network_.broadcast(std::make_shared<const core::Bytes>(consensus::encode_message(cast->message)));
    } else if (auto* timer = std::get_if<consensus::SetTimerEffect>(&effect)) {
      arm_timer(timer->round, timer->duration_ticks);
    } else if (auto* commit = std::get_if<consensus::CommitEffect>(&effect)) {
      committed_height_ = commit->blocks.back().header.height;
      std::vector<const consensus::Block*> committed;
      for (const auto& block : commit->blocks) committed.push_back(&block);
      app_.note_blocks(committed);
      app_.on_commit(std::move(commit->blocks));
    } else if (auto* need = std::get_if<consensus::NeedPayloadEffect>(&effect)) {
      prepare_payload(*need, 0);
    } else if (auto* serve = std::get_if<consensus::ServeCommittedBlocksEffect>(&effect)) {
      serve_committed(serve->to, serve->from_height, serve->max_blocks);
    }
  }
  if (!flush()) return;
  round_ = core_->current_round();
  if (core_->halted_on_conflict() && !halted_) {
    halted_ = true;
    spdlog::critical("HALT: a certified chain conflicts with this node's committed chain; more than f validators "
                     "are faulty. Consensus stopped; investigate before restarting.");
  }
}

void Driver::prepare_payload(consensus::NeedPayloadEffect need, std::uint64_t waited_ms, std::uint64_t generation) {
  if (generation == 0) generation = ++payload_generation_;
  // Gossip waiting for admission does not count as work here: it may be junk, and an idle
  // network's drainers admit real transactions within a tick anyway.
  if (!app_.has_pending_work(need.height) && waited_ms < options_.max_empty_block_delay_ms) {
    // Nothing to order: wait a tick and look again, rather than filling the chain (and the
    // disk) with empty blocks.
    retry_payload_after_a_tick(need, waited_ms, generation);
    return;
  }
  const auto now_ms = wall_clock_ms();
  const std::size_t waiting_txs = app_.unordered_tx_estimate();
  if (waited_ms < options_.min_block_interval_ms && now_ms < need.parent_timestamp_ms + options_.min_block_interval_ms &&
      waiting_txs > 0 && waiting_txs < app_.full_block_txs()) {
    // Batching: let more transactions arrive rather than propose a small block right behind
    // its parent. Bounded by waited_ms, whatever the parent's (proposer's) clock says.
    retry_payload_after_a_tick(need, waited_ms, generation);
    return;
  }
  if (need.round != gossip_admitted_round_ && !leader_admission_running_.load() && app_.gossip_waiting()) {
    gossip_admitted_round_ = need.round;
    admit_gossip_then_build(need, generation);
    return;
  }
  build_and_propose(need, generation);
}

void Driver::admit_gossip_then_build(consensus::NeedPayloadEffect need, std::uint64_t generation) {
  const auto build_if_current = [this, need, generation] {
    if (payload_request_current(need, generation)) build_and_propose(need, generation);
  };
  // Off the strand: votes and timeouts go on meanwhile.
  leader_admission_running_ = true;
  boost::asio::post(verify_pool_, [this, build_if_current] {
    app_.admit_waiting_gossip();
    leader_admission_running_ = false;
    boost::asio::post(strand_, build_if_current);
  });
  admission_deadline_.expires_after(std::chrono::milliseconds(options_.max_gossip_admission_wait_ms));
  admission_deadline_.async_wait([build_if_current](const boost::system::error_code& error) {
    if (!error) build_if_current();
  });
}

bool Driver::payload_request_current(const consensus::NeedPayloadEffect& need, std::uint64_t generation) {
  if (generation != payload_generation_ || halted_ || !core_ || core_->current_round() != need.round) return false;
  if (core_->high_qc().block_id != need.parent_id) {
    // A higher QC arrived meanwhile: the core drops a payload for the old parent and asks again
    // for the new one, at once.
    ++payload_generation_;
    step(consensus::PayloadEvent{need.round, need.parent_id, {}, 0});
    return false;
  }
  return true;
}

void Driver::build_and_propose(const consensus::NeedPayloadEffect& need, std::uint64_t generation) {
  CARBON_ASSERT(generation == payload_generation_);
  ++payload_generation_;  // built: whatever else waits for this request does nothing
  const auto now_ms = wall_clock_ms();
  app_.note_blocks(core_->uncommitted_chain(need.parent_id));
  consensus::PayloadEvent payload{need.round, need.parent_id, app_.build_payload(need.parent_id, need.height), now_ms};
  // Handled as a new event, after the effects being performed now.
  boost::asio::post(strand_, [this, payload = std::move(payload)]() mutable { step(std::move(payload)); });
}

void Driver::retry_payload_after_a_tick(consensus::NeedPayloadEffect need, std::uint64_t waited_ms,
                                        std::uint64_t generation) {
  payload_timer_.expires_after(std::chrono::milliseconds(options_.tick_ms));
  payload_timer_.async_wait([this, need, waited_ms, generation](const boost::system::error_code& error) {
    if (error || !payload_request_current(need, generation)) return;
    prepare_payload(need, waited_ms + options_.tick_ms, generation);
  });
}

void Driver::report_drops() {
  const std::uint64_t dropped = dropped_.load() + (core_ ? core_->drops().total() : 0);
  if (dropped != reported_drops_) {
    // Messages from peers are dropped for many honest reasons (stale rounds after a timeout,
    // duplicates); a summary every interval keeps the log readable while showing abuse.
    spdlog::info("dropped consensus messages so far: {} (checks: {}; protocol: {})", dropped, drop_summary(),
                 core_ ? core_->drops().to_string() : "none");
    reported_drops_ = dropped;
  }
  report_timer_.expires_after(kDropReportInterval);
  report_timer_.async_wait([this](const boost::system::error_code& error) {
    if (!error) report_drops();
  });
}

void Driver::arm_timer(consensus::Round round, std::uint64_t ticks) {
  timer_.expires_after(std::chrono::milliseconds(ticks * options_.tick_ms));
  timer_.async_wait([this, round](const boost::system::error_code& error) {
    if (error) return;  // cancelled by a newer timer
    step(consensus::TimerEvent{round});
  });
}

void Driver::serve_committed(consensus::ValidatorIndex to, consensus::Height from, std::uint32_t max_blocks) {
  if (to >= options_.validators.size() || serving_[to].exchange(true)) {
    dropped_.fetch_add(1);
    return;
  }
  boost::asio::post(verify_pool_, [this, to, from, max_blocks] {
    answer_from_store(to, from, max_blocks);
    serving_[to] = false;
  });
}

void Driver::answer_from_store(consensus::ValidatorIndex to, consensus::Height from, std::uint32_t max_blocks) {
  consensus::SyncResponse response;
  response.chain_id = options_.chain_id;
  response.epoch = options_.validators.epoch;
  std::size_t bytes = 0;
  for (consensus::Height height = std::max<consensus::Height>(from, 1);
       response.blocks.size() < std::min<std::size_t>(max_blocks, consensus::kMaxSyncBlocks); ++height) {
    auto block = store_.committed_block(height);
    if (!block || !*block) break;
    bytes += (*block)->payload.size() + 1024;
    if (!response.blocks.empty() && bytes > consensus::kMaxMessageBytes / 2) break;
    response.blocks.push_back(std::move(**block));
  }
  if (response.blocks.empty()) return;
  network_.send(to, std::make_shared<const core::Bytes>(consensus::encode_message(response)));
}

DriverStatus Driver::status() const { return DriverStatus{round_.load(), committed_height_.load(), dropped_.load()}; }

std::string Driver::drop_summary() const {
  std::lock_guard lock(drops_mutex_);
  return verifier_drops_.to_string();
}

}  // namespace carbon::node
