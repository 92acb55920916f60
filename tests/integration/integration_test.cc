// Integration tests: real carbon-node processes on 127.0.0.1 with real LevelDB and real TCP:
// bad input from clients and from the network.
#include <algorithm>
#include <boost/asio/read.hpp>
#include <thread>

#include "tests/integration/cluster_fixture.h"

namespace carbon::testing {
namespace {

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
  expect_refused("", "empty body");
  expect_refused("  \n", "empty body");
  expect_refused("[1,2]", "expected a JSON object");
  expect_refused("null", "expected a JSON object");
  expect_refused(json{{"tx", ""}}.dump(), "\"tx\" is empty");
  expect_refused(json{{"tx", 42}}.dump(), "\"tx\" must be a string of hex");
  expect_refused(json{{"tx", "00"}, {"fee", 1}}.dump(), "unknown field \"fee\"");
  expect_refused(json{{"tx", "zz11"}}.dump(), "hex");
  {
    // Bytes that are not UTF-8 never reach a JSON answer as they are (the library would throw,
    // ending the node): a field name cut inside a character, a name inside a signed transaction.
    std::string long_key;
    for (int i = 0; i < 22; ++i) long_key += "\xE2\x82\xAC";  // 66 bytes of euro signs
    expect_refused("{\"tx\": \"00\", \"" + long_key + "\": 1}", "unknown field");
    contracts::RegisterParticipant bad_name{firm.public_key(), "Firm \xFF", contracts::Role::kCoveredEnterprise};
    expect_refused(json{{"tx", cluster_->sign(authority, 2, contracts::Propose{bad_name})}}.dump(), "not valid UTF-8");
  }
  expect_refused(json{{"tx", "00112233"}}.dump(), "not a valid transaction: truncated: the 4 bytes end before");
  expect_refused("deadbeef", "not a valid transaction: truncated");
  std::string bad_signature = cluster_->sign(authority, 2, issue_call(firm.public_key(), 5));
  bad_signature[bad_signature.size() - 2] = bad_signature[bad_signature.size() - 2] == 'a' ? 'b' : 'a';
  expect_refused(json{{"tx", bad_signature}}.dump(), "signature");
  // Signed properly, but for another chain.
  const std::string other_chain_hex = [&] {
    contracts::SignedTx tx;
    tx.tx.chain_id = "another-chain";
    tx.tx.sender = authority.public_key();
    tx.tx.nonce = 2;
    tx.tx.expiry_height = 50'000;
    tx.tx.call = issue_call(firm.public_key(), 5);
    contracts::sign_tx(tx, authority);
    return core::to_hex(contracts::encode_signed_tx(tx));
  }();
  expect_refused(json{{"tx", other_chain_hex}}.dump(), "wrong chain id");
  expect_refused(json{{"tx", cluster_->sign(authority, 1, issue_call(firm.public_key(), 5))}}.dump(), "already used");
  expect_refused(json{{"tx", cluster_->sign(authority, 2, issue_call(firm.public_key(), 5), 0)}}.dump(), "expired");
  {
    // Over the 2 MiB body limit: the node answers 413 and closes; if it closes while the client
    // is still sending, the client may see the reset instead of the answer.
    auto [code, doc] = cluster_->post(0, "/tx", std::string(3 * 1024 * 1024, 'a'));
    EXPECT_TRUE(code == 413u || code == 0u) << code;
    EXPECT_TRUE(cluster_->status(0).has_value());
  }
  EXPECT_EQ(cluster_->get(0, "/tx/nothex").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/block/abc").first, 400u);
  {
    // GET /blocks pages through executed blocks with their transaction ids only.
    auto [tx_code, tx_doc] = cluster_->get(0, "/tx/" + first);
    ASSERT_EQ(tx_code, 200u) << tx_doc.dump();
    const std::uint64_t tx_height = tx_doc.value("height", std::uint64_t{0});
    auto [code, doc] = cluster_->get(0, "/blocks?from=" + std::to_string(tx_height) + "&limit=1");
    ASSERT_EQ(code, 200u) << doc.dump();
    ASSERT_EQ(doc["blocks"].size(), 1u) << doc.dump();
    EXPECT_EQ(doc["blocks"][0].value("height", std::uint64_t{0}), tx_height);
    const auto& ids = doc["blocks"][0]["tx_ids"];
    EXPECT_NE(std::find(ids.begin(), ids.end(), first), ids.end()) << doc.dump();
    auto [past_code, past_doc] = cluster_->get(0, "/blocks?from=1000000000");
    EXPECT_EQ(past_code, 200u);
    EXPECT_TRUE(past_doc["blocks"].empty()) << past_doc.dump();
  }
  EXPECT_EQ(cluster_->get(0, "/blocks?from=0").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/blocks?limit=101").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/blocks?start=1").first, 400u);
  EXPECT_EQ(cluster_->post(0, "/blocks", "").first, 405u);
  EXPECT_EQ(cluster_->get(0, "/account/12").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/status?verbose=1").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/block/1?x=1").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/tx/" + first + "?x").first, 400u);
  EXPECT_EQ(cluster_->get(0, "/nowhere").first, 404u);
  {
    // A request target with a byte that is not UTF-8 gets its 404 like any other.
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"),
                    static_cast<std::uint16_t>(std::stoi(cluster_->rpc_url(0).substr(cluster_->rpc_url(0).rfind(':') + 1)))});
    boost::asio::write(socket, boost::asio::buffer(std::string("GET /\xFF\xFE HTTP/1.1\r\nConnection: close\r\n\r\n")));
    std::string answer;
    boost::system::error_code ignored;
    boost::asio::read(socket, boost::asio::dynamic_buffer(answer), ignored);
    EXPECT_EQ(answer.substr(0, answer.find("\r\n")), "HTTP/1.1 404 Not Found") << answer;
    EXPECT_NE(answer.find("no such endpoint"), std::string::npos) << answer;
    EXPECT_TRUE(alive(0));
  }
  EXPECT_EQ(cluster_->get(0, "/account/" + core::generate_secret_key().public_key().to_hex()).first, 404u);

  {
    // A batch (POST /txs) of refusals, each with its own reason in its own place. The signatures
    // of a batch are verified together (NodeApp::admit_many): the bad one makes its batch fail
    // and each is then judged alone, so the valid signature beside it is refused for its nonce.
    const json batch = {{"txs", json::array({bad_signature, "zz11", 42, other_chain_hex,
                                             cluster_->sign(authority, 1, issue_call(firm.public_key(), 7)),
                                             "00112233", bad_signature})}};
    auto [code, doc] = cluster_->post(0, "/txs", batch.dump());
    ASSERT_EQ(code, 200u) << doc.dump();
    const auto& results = doc["results"];
    ASSERT_EQ(results.size(), 7u) << doc.dump();
    const std::vector<std::string> reasons = {"signature", "hex", "hex string", "wrong chain id", "already used",
                                              "not a valid transaction", "signature"};
    for (std::size_t i = 0; i < reasons.size(); ++i) {
      ASSERT_TRUE(results[i].contains("error")) << i << ": " << results[i].dump();
      const std::string message = results[i]["error"].value("message", "");
      EXPECT_NE(message.find(reasons[i]), std::string::npos) << i << ": '" << message << "' lacks '" << reasons[i] << "'";
    }
    // A field beside "txs" is refused, as beside "tx" (a typo never passes unnoticed).
    auto [extra_code, extra] = cluster_->post(0, "/txs", json{{"txs", json::array()}, {"fee", 1}}.dump());
    EXPECT_EQ(extra_code, 400u) << extra.dump();
    EXPECT_NE(extra["error"].value("message", "").find("unknown field \"fee\""), std::string::npos) << extra.dump();
  }

  {
    // Accepted while it could still apply, then dropped when it expires behind a nonce gap (the
    // authority's nonce 2 never comes): its sender learns why instead of "unknown transaction".
    const std::uint64_t expiry = height(0) + 3;
    auto [id, doc] = submit(0, cluster_->sign(authority, 3, issue_call(firm.public_key(), 5), expiry));
    ASSERT_FALSE(id.empty()) << doc.dump();
    EXPECT_EQ(cluster_->get(0, "/tx/" + id).second.value("status", ""), "pending");
    json record;
    ASSERT_TRUE(Cluster::wait_until(
        [&] {
          record = cluster_->get(0, "/tx/" + id).second;
          return record.value("status", "") == "rejected";
        },
        30s))
        << record.dump();
    const std::string reason = record.value("reason", "");
    EXPECT_NE(reason.find("expired: not included in a block by its expiry height " + std::to_string(expiry)),
              std::string::npos)
        << reason;
    EXPECT_NE(reason.find("waited for the sender's nonce 2, which never arrived"), std::string::npos) << reason;
    EXPECT_GE(height(0), expiry);  // dropped once the block at its expiry height was executed, not before
    EXPECT_NE(cluster_->log_tail(0, 400).find("dropped 1 transaction(s) from the mempool"), std::string::npos);
  }

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
  // Its links to the 3 real peers stand (or come back: in a cluster just started, one may still
  // be in its reconnect backoff at this instant), with the idle intruder still connected.
  EXPECT_TRUE(Cluster::wait_until(
      [&] {
        auto status = cluster_->status(2);
        return status && status->value("connected_peers", 0) == 3;
      },
      15s))
      << "node 2 reports " << cluster_->status(2)->value("connected_peers", 0)
      << " connected peers\n" << cluster_->log_tail(2);

  // Whoever reaches the port cannot grow the operator log without bound: 200 more bad
  // connections add at most a handful of lines (the first of each 30 s window in full, the rest
  // counted and summed up).
  const auto count_lines = [&](const std::string& needle) {
    const std::string log = cluster_->log_tail(2, 100'000);
    std::size_t count = 0;
    for (std::size_t at = log.find(needle); at != std::string::npos; at = log.find(needle, at + 1)) ++count;
    return count;
  };
  const std::size_t lines_before = count_lines("p2p: inbound connection from");
  for (int i = 0; i < 200; ++i) send_and_close({0xff, 0xff, 0xff, 0xff});
  ASSERT_TRUE(Cluster::wait_until([&] { return cluster_->status(2).has_value(); }, 10s));
  std::this_thread::sleep_for(500ms);  // the last closes reach the log
  // At most 5 per 30 s window; the 200 take a second or two, so they may straddle two windows.
  EXPECT_LE(count_lines("p2p: inbound connection from"), lines_before + 10) << cluster_->log_tail(2);
  EXPECT_NE(count_lines("further such lines in this 30 s window are only counted"), 0u) << cluster_->log_tail(2);
  EXPECT_TRUE(alive(2));
}

}  // namespace
}  // namespace carbon::testing
