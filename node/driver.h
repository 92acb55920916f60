// The consensus driver: runs the pure ConsensusCore on one strand and performs its effects
// with real I/O.
//
//   inbound bytes ──(verify pool: decode + MessageVerifier)──▶ strand: core.step() ──▶ effects
//   effects: send/broadcast → PeerNetwork; SetTimer → steady_timer (tick_ms per tick);
//            PersistBlock/PersistSafety → NodeStore sync write, before any later effect;
//            NeedPayload → Application::build_payload; Commit → Application::on_commit;
//            ServeCommittedBlocks → NodeStore reads.
// Signature checks run on the verify pool, never on the strand, and bounded: at most
// kMaxInflightVerifications messages wait for verification; beyond that inbound messages are
// dropped and counted (consensus retransmits what matters).
//
// Thread safety: on_peer_message() may be called from any thread; everything else runs on the
// strand. Counters are atomics readable from any thread.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>

#include "consensus/core.h"
#include "consensus/verifier.h"
#include "node/store.h"

namespace carbon::node {

// Where consensus messages go; implemented by the p2p layer.
class PeerNetwork {
 public:
  virtual ~PeerNetwork() = default;
  virtual void send(consensus::ValidatorIndex to, std::shared_ptr<const core::Bytes> frame) = 0;
  virtual void broadcast(std::shared_ptr<const core::Bytes> frame) = 0;
};

// The application above consensus: the mempool and the executor.
class Application {
 public:
  virtual ~Application() = default;
  // Called on the consensus strand when this node leads a round; must not block for long.
  // The block will extend parent_id at `height`.
  virtual core::Bytes build_payload(const core::Hash256& parent_id, consensus::Height height) = 0;
  // Whether a block at `height` would carry transactions or help commit some; when not, the
  // leader waits (up to Options::max_empty_block_delay_ms) before proposing an empty block.
  virtual bool has_pending_work(consensus::Height height) const = 0;
  // About how many transactions wait for a block (not in any block yet), and how many fill one.
  // The leader waits for Options::min_block_interval_ms only while some wait but not a full
  // block's worth (a block that only carries certificates gains nothing by waiting).
  virtual std::size_t unordered_tx_estimate() const = 0;
  virtual std::size_t full_block_txs() const = 0;
  // Called on the consensus strand before voting; deterministic given the block.
  virtual bool payload_acceptable(const consensus::Block& block) const = 0;
  // Called on the verify pool, off the strand, for a proposed block whose proposal passed
  // message verification, before the strand sees it: the place for the costly, state-free part
  // of payload_acceptable (signature checks), so that the strand, which every vote and timeout
  // waits for, does not do it. It must not change what payload_acceptable decides.
  virtual void prepare_payload_check(const consensus::Block& block) { (void)block; }
  // The blocks a proposal is about to extend, newest first (on the strand, before
  // build_payload): the application learns those it did not check for a vote (a replica that
  // had moved on to a later round does not), so that build_payload leaves out their
  // transactions too. Also called with every newly committed block.
  virtual void note_blocks(const std::vector<const consensus::Block*>& blocks) { (void)blocks; }
  // Transactions gossiped by peers that still wait for admission (verified at a lower priority,
  // node/gossip_inbox.h). A leader admits them first, on the verify pool, so that its block
  // carries what has reached it rather than what its admission had got through: under load
  // gossip waits there for 100 ms or more, and a transaction submitted to another validator
  // would otherwise wait for that validator's own turn to lead.
  virtual bool gossip_waiting() const { return false; }
  // Admits what gossip_waiting() reported (a bounded amount, node/gossip_inbox.h); called on the
  // verify pool, never on the strand.
  virtual void admit_waiting_gossip() {}
  // Newly committed blocks in height order; executes and persists them (may be asynchronous,
  // but in order).
  virtual void on_commit(std::vector<consensus::Block> blocks) = 0;
};

struct DriverStatus {
  consensus::Round round = 0;
  consensus::Height committed_height = 0;
  std::uint64_t dropped_messages = 0;
};

class Driver final : private consensus::PayloadValidator {
 public:
  struct Options {
    std::string chain_id;
    consensus::ValidatorSet validators;
    consensus::ValidatorIndex self = 0;
    consensus::Block genesis;
    std::uint64_t tick_ms = 10;
    std::uint64_t base_timeout_ticks = 100;
    // An idle network proposes an empty block at most this often (must stay well below the
    // round timeout, base_timeout_ticks * tick_ms).
    std::uint64_t max_empty_block_delay_ms = 500;
    // A block that is not full is proposed no sooner than this after its parent's timestamp
    // (must also stay well below the round timeout).
    std::uint64_t min_block_interval_ms = 0;
    // How long a leader waits for the gossip it is admitting before it builds its block
    // (Application::admit_waiting_gossip); the admission goes on without it afterwards. Keeps a
    // flood of gossip, or gossip that is costly to check, from holding a proposal back.
    std::uint64_t max_gossip_admission_wait_ms = 30;
  };
  static constexpr std::size_t kMaxInflightVerifications = 4096;
  static constexpr std::size_t kMaxInflightVerificationBytes = 64u * 1024u * 1024u;
  static constexpr std::chrono::seconds kDropReportInterval{30};

  Driver(boost::asio::io_context& io, boost::asio::thread_pool& verify_pool, Options options,
         const consensus::Signer& signer, NodeStore& store, PeerNetwork& network, Application& app);
  ~Driver() override;

  // Restores from the store and enters the first round. Fails if the store is unreadable.
  core::Status start();
  // Bytes of one consensus message from an authenticated peer.
  void on_peer_message(consensus::ValidatorIndex from, core::Bytes bytes);

  DriverStatus status() const;
  std::string drop_summary() const;

 private:
  bool is_valid(const consensus::Block& block) const override;
  void step(consensus::Event event);
  void perform(consensus::Effects effects);
  void arm_timer(consensus::Round round, std::uint64_t ticks);
  // `generation`: the request's (payload_generation_); 0 for a new request from the core.
  void prepare_payload(consensus::NeedPayloadEffect need, std::uint64_t waited_ms, std::uint64_t generation = 0);
  // Builds the payload for `need` and hands it to the core (as a new event).
  void build_and_propose(const consensus::NeedPayloadEffect& need, std::uint64_t generation);
  // Looks again one tick later (waiting for work or a fuller block), unless the round or the
  // parent changed meanwhile.
  void retry_payload_after_a_tick(consensus::NeedPayloadEffect need, std::uint64_t waited_ms, std::uint64_t generation);
  // Admits the waiting gossip on the verify pool, then builds, when the admission is done or
  // options_.max_gossip_admission_wait_ms have passed, whichever comes first.
  void admit_gossip_then_build(consensus::NeedPayloadEffect need, std::uint64_t generation);
  // Whether the request of `generation` still stands for `need`: nothing built for it yet, the
  // same round, the same parent. When only the parent changed, the core is told (it asks again).
  bool payload_request_current(const consensus::NeedPayloadEffect& need, std::uint64_t generation);
  // Every kDropReportInterval, one log line with what was dropped since the last one (if any).
  void report_drops();
  // Runs Application::prepare_payload_check for a verified proposal, on the verify pool: only
  // for one from its round's leader, for a round not behind this node's, and at most once per
  // round. The vote check needs no more, and so a faulty validator cannot make every node check
  // a block's worth of signatures for each message it sends.
  void prepare_payload(const consensus::Proposal& proposal);
  void serve_committed(consensus::ValidatorIndex to, consensus::Height from, std::uint32_t max_blocks);
  void answer_from_store(consensus::ValidatorIndex to, consensus::Height from, std::uint32_t max_blocks);

  boost::asio::io_context& io_;
  boost::asio::strand<boost::asio::io_context::executor_type> strand_;
  boost::asio::thread_pool& verify_pool_;
  Options options_;
  const consensus::Signer& signer_;
  NodeStore& store_;
  PeerNetwork& network_;
  Application& app_;
  consensus::Ed25519Verifier signature_verifier_;
  consensus::MessageVerifier message_verifier_;
  std::unique_ptr<consensus::ConsensusCore> core_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer payload_timer_;
  boost::asio::steady_timer admission_deadline_;
  boost::asio::steady_timer report_timer_;
  std::uint64_t reported_drops_ = 0;  // on the strand
  bool halted_ = false;
  // On the strand. Each payload request from the core starts a new generation; a wait, an
  // admission or a deadline of an older one does nothing (the core may ask twice in a round, and
  // only one payload per request is built).
  std::uint64_t payload_generation_ = 0;
  // The last round whose leader admitted waiting gossip: at most once per round, so that gossip
  // that keeps coming cannot keep a leader admitting instead of proposing.
  consensus::Round gossip_admitted_round_ = 0;
  // A leader's admission still running on the verify pool (past its deadline): no second one
  // starts until it ends, so that slow admissions cannot pile up on the pool that consensus
  // messages are verified on.
  std::atomic<bool> leader_admission_running_{false};

  // Block-sync answers from the store run on the verify pool, at most one per peer at a time
  // (requests beyond that are dropped: a peer cannot make this node read its disk without bound).
  std::unique_ptr<std::atomic<bool>[]> serving_;
  std::atomic<std::size_t> inflight_verifications_{0};
  std::atomic<std::size_t> inflight_verification_bytes_{0};
  std::atomic<consensus::Round> round_{0};
  std::atomic<consensus::Round> last_prepared_round_{0};
  std::atomic<consensus::Height> committed_height_{0};
  std::atomic<std::uint64_t> dropped_{0};
  mutable std::mutex drops_mutex_;
  consensus::DropCounters verifier_drops_;  // guarded by drops_mutex_
};

}  // namespace carbon::node
