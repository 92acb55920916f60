// Driver (node/driver.h): how a leader treats peers' gossip that waits for admission. A single
// validator (n = 1, a quorum of itself) leads every round, with a real store, real timers and a
// fake application that records what the driver asked of it. The bounds asserted are loose
// (several times what the behaviour needs): these check what happens, not how fast.
#include "node/driver.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <thread>

#include "consensus/crypto.h"
#include "core/keys.h"

namespace carbon::node {
namespace {

using namespace std::chrono_literals;

class NoPeers final : public PeerNetwork {
 public:
  void send(consensus::ValidatorIndex, std::shared_ptr<const core::Bytes>) override {}
  void broadcast(std::shared_ptr<const core::Bytes>) override {}
};

class RecordingApp final : public Application {
 public:
  std::atomic<bool> pending_work{true};
  std::atomic<bool> gossip{false};
  // How long an admission takes, and whether it clears the gossip it admits.
  std::chrono::milliseconds admission_takes{0};
  bool admission_clears_gossip = true;

  std::atomic<int> builds{0};
  std::atomic<int> builds_while_admitting{0};
  std::atomic<int> builds_before_any_admission{0};
  std::atomic<int> admissions{0};
  std::atomic<int> admissions_running{0};
  std::atomic<int> max_admissions_running{0};
  std::atomic<std::size_t> committed_blocks{0};

  core::Bytes build_payload(const core::Hash256&, consensus::Height) override {
    ++builds;
    if (admissions_running.load() > 0) ++builds_while_admitting;
    if (admissions.load() == 0) ++builds_before_any_admission;
    return core::Bytes{0x01};
  }
  bool has_pending_work(consensus::Height) const override { return pending_work.load(); }
  std::size_t unordered_tx_estimate() const override { return 0; }
  std::size_t full_block_txs() const override { return 2000; }
  bool payload_acceptable(const consensus::Block&) const override { return true; }
  void on_commit(std::vector<consensus::Block> blocks) override { committed_blocks += blocks.size(); }
  bool gossip_waiting() const override { return gossip.load(); }
  void admit_waiting_gossip() override {
    const int running = ++admissions_running;
    for (int seen = max_admissions_running.load(); running > seen && !max_admissions_running.compare_exchange_weak(seen, running);) {
    }
    std::this_thread::sleep_for(admission_takes);
    if (admission_clears_gossip) gossip = false;
    ++admissions;
    --admissions_running;
  }
};

class DriverGossipTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core::init_crypto());
    dir_ = std::filesystem::temp_directory_path() /
           ("carbon-driver-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs one validator for `run_for` with `app`, then stops.
  // Returns how long the validator ran.
  std::chrono::milliseconds run(RecordingApp& app, std::chrono::milliseconds run_for, Driver::Options overrides) {
    const auto started = std::chrono::steady_clock::now();
    auto store = NodeStore::open(dir_);
    EXPECT_TRUE(store.is_ok()) << store.status().message();
    if (!store.is_ok()) return {};
    const core::SecretKey key = core::generate_secret_key();
    consensus::Ed25519Signer signer(key);
    Driver::Options options = overrides;
    options.chain_id = "carbon-driver-test";
    options.validators.epoch = 0;
    options.validators.validators = {consensus::Validator{key.public_key(), "only"}};
    options.self = 0;
    options.genesis = consensus::make_genesis_block(options.chain_id, 0, 1'767'225'600'000ULL);
    boost::asio::io_context io;
    boost::asio::thread_pool verify_pool(2);
    NoPeers peers;
    Driver driver(io, verify_pool, options, signer, **store, peers, app);
    EXPECT_TRUE(driver.start().is_ok());
    std::thread stopper([&] {
      std::this_thread::sleep_for(run_for);
      io.stop();
    });
    std::thread second([&] { io.run(); });
    io.run();
    second.join();
    stopper.join();
    verify_pool.join();
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started);
  }

  static Driver::Options tuned() {
    Driver::Options options;
    options.tick_ms = 10;
    options.base_timeout_ticks = 100;
    options.max_empty_block_delay_ms = 200;
    options.min_block_interval_ms = 0;
    options.max_gossip_admission_wait_ms = 30;
    return options;
  }

  std::filesystem::path dir_;
};

TEST_F(DriverGossipTest, ALeaderAdmitsWaitingGossipBeforeItBuilds) {
  RecordingApp app;
  app.gossip = true;
  app.admission_takes = 5ms;
  // About ordering, not the deadline: one long enough that a loaded machine meets it (and still
  // well inside the 1 s round timeout).
  Driver::Options options = tuned();
  options.max_gossip_admission_wait_ms = 500;
  run(app, 600ms, options);
  EXPECT_GE(app.admissions.load(), 1);
  EXPECT_EQ(app.builds_before_any_admission.load(), 0);  // the first block waited for it
  EXPECT_GE(app.builds.load(), 3);
  EXPECT_GE(app.committed_blocks.load(), 1u);
}

TEST_F(DriverGossipTest, SlowAdmissionHoldsAProposalNoLongerThanTheDeadline) {
  RecordingApp app;
  app.gossip = true;
  app.admission_clears_gossip = false;  // gossip keeps coming
  app.admission_takes = 400ms;          // far beyond the 30 ms the leader waits
  const std::chrono::milliseconds ran = run(app, 1'500ms, tuned());
  // Blocks were built while admissions ran, and consensus went on: with the proposal waiting for
  // each admission, 1.5 s would hold about 3 blocks.
  EXPECT_GE(app.builds_while_admitting.load(), 1);
  EXPECT_GE(app.builds.load(), 10);
  EXPECT_GE(app.committed_blocks.load(), 8u);
  // One leader admission at a time: a slow one is not joined by the next round's (with one per
  // round instead, a pool thread each, two would run at once).
  EXPECT_LE(app.max_admissions_running.load(), 1);
  EXPECT_LE(app.admissions.load(), ran.count() / 400 + 1);
}

TEST_F(DriverGossipTest, GossipThatIsNotWorkDoesNotFillTheChainWithEmptyBlocks) {
  RecordingApp app;
  app.pending_work = false;             // nothing to order
  app.gossip = true;                    // but a peer keeps sending what never admits
  app.admission_clears_gossip = false;
  run(app, 1'000ms, tuned());
  // An idle leader proposes an empty block every max_empty_block_delay_ms (200): about 5 in
  // 1 s. Counting waiting gossip as work would propose one every round, every few ms.
  EXPECT_LE(app.builds.load(), 10);
  EXPECT_GE(app.builds.load(), 2);
}

}  // namespace
}  // namespace carbon::node
