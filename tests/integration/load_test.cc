// Integration test under load: 2,000 transfers from several senders while a validator, and then
// the current leader, are killed with SIGKILL and restarted (real processes, LevelDB, TCP).
#include "tests/integration/cluster_fixture.h"

namespace carbon::testing {
namespace {

TEST_F(ClusterTest, TwoThousandTransfersSurviveKillingAValidatorAndTheLeader) {
  constexpr std::size_t kSenders = 8;
  constexpr std::size_t kPerSender = 250;  // 2,000 transfers in all
  const auto& authority = cluster_->authority();
  std::vector<core::SecretKey> senders;
  std::string last_setup;
  for (std::size_t s = 0; s < kSenders; ++s) {
    senders.push_back(core::generate_secret_key());
    auto [id, doc] = submit(0, cluster_->sign(authority, s + 1, register_call(senders[s].public_key(), "firm " + std::to_string(s))));
    ASSERT_FALSE(id.empty()) << doc.dump();
  }
  for (std::size_t s = 0; s < kSenders; ++s) {
    auto [id, doc] = submit(0, cluster_->sign(authority, kSenders + s + 1, issue_call(senders[s].public_key(), 10'000)));
    ASSERT_FALSE(id.empty()) << doc.dump();
    last_setup = id;
  }
  bool ok = false;
  ASSERT_TRUE(Cluster::wait_until([&] { return committed(0, last_setup, &ok); }, 60s));
  ASSERT_TRUE(ok);
  // The transfers go to every node, and a node admits only senders it knows from the blocks it
  // has executed: wait until each has executed the setup (one may still be a block behind
  // node 0), as a client spreading its transactions over the nodes must.
  for (std::size_t i = 1; i < 4; ++i) {
    ASSERT_TRUE(Cluster::wait_until([&] { return committed(i, last_setup); }, 60s)) << cluster_->log_tail(i);
  }

  // 2,000 transfers, each sender giving 1 t at a time to the next; spread over the live nodes.
  std::vector<std::string> ids;
  std::map<std::string, std::string> hex_by_id;
  std::size_t next_node = 0;
  auto submit_batch = [&](std::size_t from_nonce, std::size_t to_nonce) {
    for (std::size_t nonce = from_nonce; nonce <= to_nonce; ++nonce) {
      for (std::size_t s = 0; s < kSenders; ++s) {
        do next_node = (next_node + 1) % 4; while (!cluster_->running(next_node));
        auto hex = cluster_->sign(senders[s], nonce, transfer_call(senders[(s + 1) % kSenders].public_key(), 1));
        auto [id, doc] = submit(next_node, hex);
        ASSERT_FALSE(id.empty()) << "node" << next_node << ": " << doc.dump();
        ids.push_back(id);
        hex_by_id[id] = hex;
      }
    }
  };
  // Like any client, resubmit what is not committed after a while: a transaction sent to a
  // validator just before it was killed may have died with it, ungossiped (and the sender's
  // later nonces then wait for it). Resubmitting a known transaction is harmless.
  std::size_t resubmitted = 0;
  auto all_committed_at = [&](std::size_t reader) {
    // Every sender's last transfer so far is in (nonces make the rest certain).
    for (std::size_t k = ids.size() - kSenders; k < ids.size(); ++k) {
      if (!committed(reader, ids[k])) return false;
    }
    return true;
  };
  auto wait_all_committed = [&](std::size_t reader, std::chrono::seconds timeout) {
    auto last_resubmit = std::chrono::steady_clock::now();
    return Cluster::wait_until(
        [&] {
          if (all_committed_at(reader)) return true;
          if (std::chrono::steady_clock::now() - last_resubmit > 5s) {
            for (const auto& id : ids) {
              if (committed(reader, id)) continue;
              cluster_->post(reader, "/tx", json{{"tx", hex_by_id[id]}}.dump());
              ++resubmitted;
            }
            last_resubmit = std::chrono::steady_clock::now();
          }
          return false;
        },
        timeout);
  };
  auto describe_nodes = [&] {
    std::string out;
    for (std::size_t i = 0; i < 4; ++i) {
      auto st = cluster_->status(i);
      out += "\nnode" + std::to_string(i) + ": " + (st ? st->dump() : "down");
    }
    return out;
  };

  submit_batch(1, 80);
  if (HasFatalFailure()) return;  // a refusal inside the lambda: nothing to go on with
  cluster_->kill9(1);  // a validator dies mid-stream
  submit_batch(81, 160);
  if (HasFatalFailure()) return;
  ASSERT_TRUE(wait_all_committed(0, 120s)) << "commits stopped with node1 down" << describe_nodes();
  cluster_->start(1);
  ASSERT_TRUE(Cluster::wait_until([&] { return cluster_->status(1).has_value(); }, 20s)) << cluster_->log_tail(1);
  // Now kill whichever validator leads the current round.
  auto status = cluster_->status(0);
  ASSERT_TRUE(status.has_value());
  const std::size_t leader = status->value("round", std::uint64_t{0}) % 4;
  cluster_->kill9(leader);
  submit_batch(161, kPerSender);
  if (HasFatalFailure()) return;
  const std::size_t live_reader = leader == 0 ? 2 : 0;
  ASSERT_TRUE(wait_all_committed(live_reader, 120s))
      << "commits stopped after killing the leader (node" << leader << ")" << describe_nodes();
  std::cout << "[          ] clients resubmitted " << resubmitted << " transactions after the kills\n";
  cluster_->start(leader);
  ASSERT_TRUE(Cluster::wait_until([&] { return cluster_->status(leader).has_value(); }, 20s));

  // Every transfer committed and succeeded.
  const std::size_t reader = leader == 0 ? 2 : 0;
  ASSERT_TRUE(Cluster::wait_until([&] { return committed(reader, ids.back()); }, 60s));
  std::size_t failed = 0;
  for (const auto& id : ids) {
    bool receipt_ok = false;
    ASSERT_TRUE(committed(reader, id, &receipt_ok)) << id;
    failed += receipt_ok ? 0 : 1;
  }
  EXPECT_EQ(ids.size(), kSenders * kPerSender);
  EXPECT_EQ(failed, 0u);

  // The restarted nodes catch up, and all four agree on the state root at every height.
  const std::uint64_t target = height(reader);
  for (std::size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(Cluster::wait_until([&] { return height(i) >= target; }, 90s))
        << "node" << i << " stuck at " << height(i) << " < " << target << "\n" << cluster_->log_tail(i);
  }
  for (std::uint64_t h = 1; h <= target; ++h) {
    const std::string expected = root_at(0, h);
    ASSERT_FALSE(expected.empty()) << "height " << h;
    for (std::size_t i = 1; i < 4; ++i) ASSERT_EQ(root_at(i, h), expected) << "node" << i << " height " << h;
  }
  // Balances: each sender gave 250 t and received 250 t.
  for (std::size_t i = 0; i < 4; ++i) {
    for (const auto& sender : senders) {
      auto [code, account] = cluster_->get(i, "/account/" + sender.public_key().to_hex());
      ASSERT_EQ(code, 200u);
      ASSERT_EQ(account["balances"].size(), 1u);
      EXPECT_EQ(account["balances"][0].value("quantity_t", std::uint64_t{0}), 10'000u);
      EXPECT_EQ(account.value("nonce", std::uint64_t{0}), kPerSender);
    }
  }
  // With the load over, every node admits the gossip it received (admission runs at a lower
  // priority, so it may still be at work for a moment): then nothing waits, and nothing was
  // dropped for a full queue.
  for (std::size_t i = 0; i < 4; ++i) {
    nlohmann::json backlog;
    ASSERT_TRUE(Cluster::wait_until(
        [&] {
          const auto node_status = cluster_->status(i);
          if (!node_status || !node_status->contains("gossip_backlog")) return false;
          backlog = (*node_status)["gossip_backlog"];
          return backlog.value("waiting_bytes", std::uint64_t{1}) == 0 &&
                 backlog.value("oldest_wait_ms", std::uint64_t{1}) == 0;
        },
        20s))
        << "node" << i << ": " << backlog.dump();
    EXPECT_EQ(backlog.value("frames_dropped", std::uint64_t{1}), 0u) << "node" << i;
  }
}

}  // namespace
}  // namespace carbon::testing
