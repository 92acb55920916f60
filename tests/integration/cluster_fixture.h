// The fixture shared by the integration tests: a fresh 4-validator Cluster per test, and
// helpers to submit transactions and read receipts, heights and state roots.
#pragma once

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

using json = nlohmann::json;
using namespace std::chrono_literals;

inline std::uint16_t base_port() {
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
      // Our own node, not something else that happens to listen on that port.
      ASSERT_TRUE(Cluster::wait_until(
          [&] {
            auto status = cluster_->status(i);
            return status && status->value("chain_id", "") == cluster_->chain_id() && alive(i);
          },
          20s))
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

inline contracts::Call register_call(const core::PublicKey& key, const std::string& name) {
  return contracts::Propose{contracts::RegisterParticipant{key, name, contracts::Role::kCoveredEnterprise}};
}
inline contracts::Call issue_call(const core::PublicKey& to, std::uint64_t quantity) {
  contracts::IssueAllowances call;
  call.to = to;
  call.vintage_year = 2025;
  call.quantity_t = quantity;
  return contracts::Propose{call};
}
inline contracts::Call transfer_call(const core::PublicKey& to, std::uint64_t quantity) {
  contracts::TransferUnits call;
  call.to = to;
  call.product = contracts::ProductId::allowance(2025);
  call.quantity_t = quantity;
  return call;
}

}  // namespace carbon::testing
