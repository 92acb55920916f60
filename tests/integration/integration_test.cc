// Integration tests: real carbon-node processes on 127.0.0.1 with real LevelDB and real TCP.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "tests/integration/cluster.h"

namespace carbon::testing {
namespace {

using json = nlohmann::json;
using namespace std::chrono_literals;

std::uint16_t base_port() {
  // Distinct per test process so parallel runs and a developer's localnet do not collide.
  // Below the kernel's ephemeral range (32768+), where outgoing connections take their ports.
  return static_cast<std::uint16_t>(20000 + (::getpid() % 120) * 100);
}

class ClusterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core::init_crypto());
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::temp_directory_path() / ("carbon-itest-" + std::to_string(::getpid()) + "-" + info->name());
    cluster_ = std::make_unique<Cluster>(CARBON_NODE_BIN, dir_, 4, base_port());
    cluster_->start_all();
    for (std::size_t i = 0; i < 4; ++i) {
      ASSERT_TRUE(Cluster::wait_until([&] { return cluster_->status(i).has_value(); }, 20s))
          << "node" << i << " did not start:\n" << cluster_->log_tail(i);
    }
  }
  void TearDown() override {
    cluster_.reset();
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Submits to node `i`; returns the tx id (empty if refused) and the answer.
  std::pair<std::string, json> submit(std::size_t i, const std::string& hex) {
    auto [code, doc] = cluster_->post(i, "/tx", json{{"tx", hex}}.dump());
    if (code == 200) return {doc.value("tx_id", ""), doc};
    return {"", doc};
  }
  bool committed(std::size_t i, const std::string& id, bool* ok = nullptr) {
    auto [code, doc] = cluster_->get(i, "/tx/" + id);
    if (code != 200 || doc.value("status", "") != "committed") return false;
    if (ok != nullptr) *ok = doc["receipt"].value("ok", false);
    return true;
  }
  std::uint64_t height(std::size_t i) {
    auto status = cluster_->status(i);
    return status ? status->value("height", std::uint64_t{0}) : 0;
  }
  std::string root_at(std::size_t i, std::uint64_t h) {
    auto [code, doc] = cluster_->get(i, "/block/" + std::to_string(h));
    return code == 200 ? doc.value("state_root", "") : "";
  }
  bool alive(std::size_t i) { return ::waitpid(cluster_->pid(i), nullptr, WNOHANG) == 0; }

  std::filesystem::path dir_;
  std::unique_ptr<Cluster> cluster_;
};

contracts::Call register_call(const core::PublicKey& key, const std::string& name) {
  return contracts::RegisterParticipant{key, name, contracts::Role::kCoveredEnterprise};
}
contracts::Call issue_call(const core::PublicKey& to, std::uint64_t quantity) {
  contracts::IssueAllowances call;
  call.to = to;
  call.vintage_year = 2025;
  call.quantity_t = quantity;
  return call;
}
contracts::Call transfer_call(const core::PublicKey& to, std::uint64_t quantity) {
  contracts::TransferUnits call;
  call.to = to;
  call.product = contracts::ProductId::allowance(2025);
  call.quantity_t = quantity;
  return call;
}

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
  cluster_->kill9(1);  // a validator dies mid-stream
  submit_batch(81, 160);
  ASSERT_TRUE(wait_all_committed(0, 120s)) << "commits stopped with node1 down" << describe_nodes();
  cluster_->start(1);
  ASSERT_TRUE(Cluster::wait_until([&] { return cluster_->status(1).has_value(); }, 20s)) << cluster_->log_tail(1);
  // Now kill whichever validator leads the current round.
  auto status = cluster_->status(0);
  ASSERT_TRUE(status.has_value());
  const std::size_t leader = status->value("round", std::uint64_t{0}) % 4;
  cluster_->kill9(leader);
  submit_batch(161, kPerSender);
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
}

TEST_F(ClusterTest, BadRpcInputGetsClearErrorsAndChangesNothing) {
  const auto& authority = cluster_->authority();
  const auto firm = core::generate_secret_key();
  auto [first, first_doc] = submit(0, cluster_->sign(authority, 1, register_call(firm.public_key(), "firm")));
  ASSERT_FALSE(first.empty()) << first_doc.dump();
  ASSERT_TRUE(Cluster::wait_until([&] { return committed(0, first); }, 30s));
  const std::string root_before = cluster_->status(0)->value("state_root", "");

  auto expect_refused = [&](const std::string& body, const std::string& needle) {
    auto [code, doc] = cluster_->post(0, "/tx", body);
    EXPECT_EQ(code, 400u) << body.substr(0, 80);
    ASSERT_TRUE(doc.is_object() && doc.contains("error")) << doc.dump();
    const std::string message = doc["error"].value("message", "");
    EXPECT_NE(message.find(needle), std::string::npos) << "'" << message << "' lacks '" << needle << "'";
  };
  expect_refused("{\"tx\": ", "expected");
  expect_refused(json{{"tx", "zz11"}}.dump(), "hex");
  expect_refused(json{{"tx", "00112233"}}.dump(), "not a valid transaction");
  std::string bad_signature = cluster_->sign(authority, 2, issue_call(firm.public_key(), 5));
  bad_signature[bad_signature.size() - 2] = bad_signature[bad_signature.size() - 2] == 'a' ? 'b' : 'a';
  expect_refused(json{{"tx", bad_signature}}.dump(), "signature");
  {
    contracts::SignedTx tx;
    tx.tx.chain_id = "another-chain";
    tx.tx.sender = authority.public_key();
    tx.tx.nonce = 2;
    tx.tx.expiry_height = 1'000'000;
    tx.tx.call = issue_call(firm.public_key(), 5);
    contracts::sign_tx(tx, authority);
    expect_refused(json{{"tx", core::to_hex(contracts::encode_signed_tx(tx))}}.dump(), "wrong chain id");
  }
  expect_refused(json{{"tx", cluster_->sign(authority, 1, issue_call(firm.public_key(), 5))}}.dump(), "already used");
  expect_refused(json{{"tx", cluster_->sign(authority, 2, issue_call(firm.public_key(), 5), 0)}}.dump(), "expired");
  {
    auto [code, doc] = cluster_->post(0, "/tx", std::string(3 * 1024 * 1024, 'a'));
    EXPECT_EQ(code, 413u);
  }
  EXPECT_EQ(cluster_->get(0, "/tx/nothex").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/block/abc").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/account/12").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/nowhere").first, 404u);
  EXPECT_EQ(cluster_->get(0, "/account/" + core::generate_secret_key().public_key().to_hex()).first, 404u);

  // Nothing above changed the state: wait for more blocks, compare the root.
  const std::uint64_t h = height(0);
  ASSERT_TRUE(Cluster::wait_until([&] { return height(0) > h + 2; }, 30s));
  EXPECT_EQ(cluster_->status(0)->value("state_root", ""), root_before);
  for (std::size_t i = 0; i < 4; ++i) EXPECT_TRUE(alive(i));
}

TEST_F(ClusterTest, GarbageOnThePeerPortChangesNothing) {
  const std::string root_before = cluster_->status(2)->value("state_root", "");
  boost::asio::io_context io;
  auto connect = [&] {
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), cluster_->p2p_port(2)});
    return socket;
  };
  auto send_and_close = [&](const std::vector<std::uint8_t>& bytes) {
    auto socket = connect();
    boost::system::error_code ignored;
    boost::asio::write(socket, boost::asio::buffer(bytes), ignored);
    socket.close(ignored);
  };
  std::vector<std::uint8_t> garbage(4096);
  for (std::size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<std::uint8_t>((i * 131 + 7) & 0xff);
  send_and_close(garbage);                                  // random bytes
  send_and_close({0, 0, 0, 100, 1, 2, 3, 4, 5});              // a frame cut short
  send_and_close({0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0});       // a 4 GiB length header
  send_and_close({0x7f, 0xff, 0xff, 0xff});                   // oversize, nothing after
  auto idle = connect();                                      // a peer that never speaks

  // Node 2 lives on, keeps committing with the others, and its state is what it was.
  const auto& authority = cluster_->authority();
  auto [id, doc] = submit(2, cluster_->sign(authority, 1, register_call(core::generate_secret_key().public_key(), "x")));
  ASSERT_FALSE(id.empty()) << doc.dump();
  ASSERT_TRUE(Cluster::wait_until([&] { return committed(2, id); }, 30s)) << cluster_->log_tail(2);
  EXPECT_TRUE(alive(2));
  EXPECT_NE(cluster_->status(2)->value("state_root", ""), root_before);  // only the real tx changed it
  std::uint64_t h = std::min(height(0), height(2));
  EXPECT_EQ(root_at(0, h), root_at(2, h));
  EXPECT_EQ(cluster_->status(2)->value("connected_peers", 0), 3);
}

}  // namespace
}  // namespace carbon::testing
