// PeerManager over real loopback TCP (127.0.0.1, ephemeral ports): links come up, messages
// flow both ways in order, strangers and bad input are refused without harming the
// legitimate links, tampering closes a link, and links return after a restart.
//
// No timing is asserted: every wait polls a condition (sleeping between polls) and gives up
// after kWaitLimit, which only a broken transport reaches.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/bytes.h"
#include "core/keys.h"
#include "node/p2p/frame.h"
#include "node/p2p/peer_manager.h"

namespace carbon::node::p2p {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using core::Bytes;
using namespace std::chrono_literals;

constexpr auto kWaitLimit = 10s;
constexpr auto kPollInterval = 5ms;

// Polls pred until it holds or kWaitLimit passed.
bool eventually(const std::function<bool()>& pred) {
  const auto deadline = std::chrono::steady_clock::now() + kWaitLimit;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(kPollInterval);
  }
  return pred();
}

core::SecretKey key_from_byte(std::uint8_t b) {
  std::array<std::uint8_t, 32> seed{};
  seed.fill(b);
  return core::SecretKey(seed);
}

Bytes message_bytes(std::size_t from, std::size_t seq) {
  Bytes m{static_cast<std::uint8_t>(from)};
  for (int i = 0; i < 4; ++i) m.push_back(static_cast<std::uint8_t>(seq >> (8 * i)));
  m.resize(m.size() + seq % 300, static_cast<std::uint8_t>(seq));  // varied lengths
  return m;
}

// One node: its own io_context on one thread, a PeerManager, and what it received.
class TestNode {
 public:
  explicit TestNode(PeerManagerConfig config) : guard_(asio::make_work_guard(io_)) {
    PeerCallbacks callbacks;
    callbacks.on_message = [this](std::size_t peer, Bytes message) {
      std::lock_guard lock(mutex_);
      messages_[peer].push_back(std::move(message));
    };
    callbacks.on_peer_up = [this](std::size_t peer) {
      {
        std::lock_guard lock(mutex_);
        ++ups_[peer];
      }
      if (on_up_hook) on_up_hook(peer);
    };
    callbacks.on_peer_down = [this](std::size_t peer) {
      std::lock_guard lock(mutex_);
      ++downs_[peer];
    };
    manager_ = std::make_unique<PeerManager>(io_, std::move(config), std::move(callbacks));
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TestNode() {
    manager_->stop();
    guard_.reset();
    thread_.join();
  }
  TestNode(const TestNode&) = delete;
  TestNode& operator=(const TestNode&) = delete;

  PeerManager& manager() { return *manager_; }
  std::vector<Bytes> messages_from(std::size_t peer) {
    std::lock_guard lock(mutex_);
    return messages_[peer];
  }
  std::size_t message_count(std::size_t peer) {
    std::lock_guard lock(mutex_);
    return messages_[peer].size();
  }
  int ups(std::size_t peer) {
    std::lock_guard lock(mutex_);
    return ups_[peer];
  }
  int downs(std::size_t peer) {
    std::lock_guard lock(mutex_);
    return downs_[peer];
  }

  // Runs on the manager's strand (from on_peer_up); set before start().
  std::function<void(std::size_t)> on_up_hook;

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::unique_ptr<PeerManager> manager_;
  std::thread thread_;
  std::mutex mutex_;
  std::map<std::size_t, std::vector<Bytes>> messages_;
  std::map<std::size_t, int> ups_;
  std::map<std::size_t, int> downs_;
};

PeerManagerConfig base_config(const core::SecretKey& key,
                              const std::vector<core::PublicKey>& validators,
                              std::string chain = "test-chain") {
  PeerManagerConfig config;
  config.chain_id = std::move(chain);
  config.node_key = key;
  for (const auto& validator : validators) config.validators.push_back({validator, {}});
  config.listen_address = {"127.0.0.1", 0};
  config.handshake_timeout_ms = 2000;
  config.reconnect_initial_ms = 20;
  config.reconnect_max_ms = 400;
  return config;
}

// n validators (keys 1..n), all listening on ephemeral ports, all dialing.
class Cluster {
 public:
  explicit Cluster(std::size_t n, std::function<void(std::size_t, PeerManagerConfig&)> tweak = {}) {
    for (std::size_t i = 0; i < n; ++i)
      keys_.push_back(key_from_byte(static_cast<std::uint8_t>(i + 1)));
    for (const auto& key : keys_) public_keys_.push_back(key.public_key());
    ports_.assign(n, 0);
    for (std::size_t i = 0; i < n; ++i) {
      auto config = base_config(keys_[i], public_keys_);
      if (tweak) tweak(i, config);
      nodes_.push_back(std::make_unique<TestNode>(std::move(config)));
      EXPECT_TRUE(nodes_[i]->manager().listen().is_ok());
      ports_[i] = nodes_[i]->manager().listen_port();
    }
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t j = 0; j < n; ++j)
        nodes_[i]->manager().set_peer_address(j, {"127.0.0.1", ports_[j]});
      EXPECT_TRUE(nodes_[i]->manager().start().is_ok());
    }
  }

  TestNode& node(std::size_t i) { return *nodes_[i]; }
  std::uint16_t port(std::size_t i) const { return ports_[i]; }
  const std::vector<core::PublicKey>& public_keys() const { return public_keys_; }
  std::size_t size() const { return nodes_.size(); }

  bool all_connected() {
    for (auto& node : nodes_) {
      if (!node || node->manager().connected_count() != nodes_.size() - 1) return false;
    }
    return true;
  }

  void stop_node(std::size_t i) { nodes_[i].reset(); }

  // Starts node i again on its old port (the port may take a moment to be free again).
  void restart_node(std::size_t i) {
    ASSERT_TRUE(eventually([&] {
      auto config = base_config(keys_[i], public_keys_);
      config.listen_address.port = ports_[i];
      nodes_[i] = std::make_unique<TestNode>(std::move(config));
      return nodes_[i]->manager().listen().is_ok();
    }));
    for (std::size_t j = 0; j < nodes_.size(); ++j)
      nodes_[i]->manager().set_peer_address(j, {"127.0.0.1", ports_[j]});
    ASSERT_TRUE(nodes_[i]->manager().start().is_ok());
  }

 private:
  std::vector<core::SecretKey> keys_;
  std::vector<core::PublicKey> public_keys_;
  std::vector<std::uint16_t> ports_;
  std::vector<std::unique_ptr<TestNode>> nodes_;
};

// Sends count messages between every ordered pair and checks each arrives, in order.
void exchange_and_check(Cluster& cluster, std::size_t count, std::size_t first_seq = 0) {
  const std::size_t n = cluster.size();
  std::vector<std::vector<std::size_t>> before(n, std::vector<std::size_t>(n));
  for (std::size_t to = 0; to < n; ++to) {
    for (std::size_t from = 0; from < n; ++from)
      before[to][from] = cluster.node(to).message_count(from);
  }
  for (std::size_t seq = first_seq; seq < first_seq + count; ++seq) {
    for (std::size_t from = 0; from < n; ++from) {
      for (std::size_t to = 0; to < n; ++to) {
        if (from != to) cluster.node(from).manager().send(to, message_bytes(from, seq));
      }
    }
  }
  for (std::size_t to = 0; to < n; ++to) {
    for (std::size_t from = 0; from < n; ++from) {
      if (from == to) continue;
      ASSERT_TRUE(eventually([&] {
        return cluster.node(to).message_count(from) >= before[to][from] + count;
      })) << "node "
          << to << " got " << cluster.node(to).message_count(from) - before[to][from] << " of "
          << count << " messages from " << from;
      const auto got = cluster.node(to).messages_from(from);
      ASSERT_EQ(got.size(), before[to][from] + count);
      for (std::size_t k = 0; k < count; ++k) {
        ASSERT_EQ(got[before[to][from] + k], message_bytes(from, first_seq + k))
            << "out of order at " << k;
      }
    }
  }
}

// --- raw sockets for misbehaving clients (blocking POSIX, bounded by SO_RCVTIMEO) ---

class RawClient {
 public:
  explicit RawClient(std::uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
    timeval timeout{};
    timeout.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kWaitLimit).count();
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~RawClient() { ::close(fd_); }
  RawClient(const RawClient&) = delete;
  RawClient& operator=(const RawClient&) = delete;

  bool connected() const { return connected_; }
  void write(const Bytes& bytes) {
    // The server may already have closed; a failed send is part of what is being tested.
    (void)::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  }
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Reads until the server closes the connection (true) or the wait limit passes (false).
  bool closed_by_server() {
    std::uint8_t buffer[4096];
    for (;;) {
      const ssize_t n = ::recv(fd_, buffer, sizeof(buffer), 0);
      if (n == 0) return true;
      if (n < 0) return errno == ECONNRESET;
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

// Forwards one TCP stream to an upstream port, flipping one byte in the body of the n-th
// frame (0-based) sent from the client side of the first connection only.
class TamperProxy {
 public:
  TamperProxy(std::uint16_t upstream_port, std::size_t tamper_frame)
      : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)),
        upstream_(asio::ip::make_address("127.0.0.1"), upstream_port),
        tamper_frame_(tamper_frame) {
    accept();
    thread_ = std::thread([this] { io_.run(); });
  }
  ~TamperProxy() {
    asio::post(io_, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      for (auto& session : sessions_) session->close();
    });
    thread_.join();
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  int tampered() const { return tampered_.load(); }

 private:
  struct Session : std::enable_shared_from_this<Session> {
    Session(asio::io_context& io, tcp::socket client_socket, bool tamper, std::size_t frame,
            std::atomic<int>& count)
        : client(std::move(client_socket)),
          server(io),
          tamper_enabled(tamper),
          tamper_frame(frame),
          tampered(count) {}
    tcp::socket client;
    tcp::socket server;
    std::array<std::uint8_t, 65536> up_buffer{};
    std::array<std::uint8_t, 65536> down_buffer{};
    Bytes pending;  // client → server bytes not yet forwarded (partial frame)
    std::size_t frames_seen = 0;
    bool tamper_enabled;
    std::size_t tamper_frame;
    std::atomic<int>& tampered;

    void close() {
      boost::system::error_code ignored;
      client.close(ignored);
      server.close(ignored);
    }
    void pump_up() {
      client.async_read_some(asio::buffer(up_buffer), [self = shared_from_this()](auto error,
                                                                                  std::size_t n) {
        if (error) return self->close();
        self->pending.insert(self->pending.end(), self->up_buffer.begin(),
                             self->up_buffer.begin() + static_cast<std::ptrdiff_t>(n));
        // Forward every complete frame, altering the chosen one.
        Bytes out;
        std::size_t at = 0;
        while (self->pending.size() - at >= kFrameHeaderBytes) {
          const std::size_t length =
              (std::size_t{self->pending[at]} << 24) | (std::size_t{self->pending[at + 1]} << 16) |
              (std::size_t{self->pending[at + 2]} << 8) | std::size_t{self->pending[at + 3]};
          if (self->pending.size() - at - kFrameHeaderBytes < length) break;
          if (self->tamper_enabled && self->frames_seen == self->tamper_frame && length > 0) {
            self->pending[at + kFrameHeaderBytes + length / 2] ^= 0x01;
            self->tampered.fetch_add(1);
          }
          ++self->frames_seen;
          out.insert(
              out.end(), self->pending.begin() + static_cast<std::ptrdiff_t>(at),
              self->pending.begin() + static_cast<std::ptrdiff_t>(at + kFrameHeaderBytes + length));
          at += kFrameHeaderBytes + length;
        }
        self->pending.erase(self->pending.begin(),
                            self->pending.begin() + static_cast<std::ptrdiff_t>(at));
        auto data = std::make_shared<Bytes>(std::move(out));
        asio::async_write(self->server, asio::buffer(*data),
                          [self, data](auto write_error, std::size_t) {
                            if (write_error) return self->close();
                            self->pump_up();
                          });
      });
    }
    void pump_down() {
      server.async_read_some(
          asio::buffer(down_buffer), [self = shared_from_this()](auto error, std::size_t n) {
            if (error) return self->close();
            asio::async_write(self->client, asio::buffer(self->down_buffer.data(), n),
                              [self](auto write_error, std::size_t) {
                                if (write_error) return self->close();
                                self->pump_down();
                              });
          });
    }
  };

  void accept() {
    acceptor_.async_accept([this](const boost::system::error_code& error, tcp::socket socket) {
      if (error) return;
      auto session = std::make_shared<Session>(io_, std::move(socket), sessions_.empty(),
                                               tamper_frame_, tampered_);
      sessions_.push_back(session);
      session->server.async_connect(upstream_,
                                    [session](const boost::system::error_code& connect_error) {
                                      if (connect_error) return session->close();
                                      session->pump_up();
                                      session->pump_down();
                                    });
      accept();
    });
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  tcp::endpoint upstream_;
  std::size_t tamper_frame_;
  std::atomic<int> tampered_{0};
  std::vector<std::shared_ptr<Session>> sessions_;
  std::thread thread_;
};

// --- tests ---

TEST(PeerManagerTest, TwoPeersConnectAndExchangeInOrder) {
  Cluster cluster(2);
  ASSERT_TRUE(eventually([&] { return cluster.all_connected(); }));
  EXPECT_EQ(cluster.node(0).ups(1), 1);
  EXPECT_EQ(cluster.node(1).ups(0), 1);
  exchange_and_check(cluster, 200);
  const auto stats = cluster.node(0).manager().stats();
  EXPECT_EQ(stats.handshakes_rejected, 0u);
  EXPECT_EQ(stats.frames_rejected_decrypt, 0u);
  EXPECT_EQ(stats.frames_dropped_queue_full, 0u);
}

TEST(PeerManagerTest, ThreePeersConnectAndExchangeInOrder) {
  Cluster cluster(3);
  ASSERT_TRUE(eventually([&] { return cluster.all_connected(); }));
  exchange_and_check(cluster, 100);
  // The lower index dials: exactly one link per pair.
  EXPECT_EQ(cluster.node(0).manager().stats().connections_dialed, 2u);
  EXPECT_EQ(cluster.node(2).manager().stats().connections_dialed, 0u);
  EXPECT_EQ(cluster.node(0).manager().stats().connections_refused, 0u);
}

TEST(PeerManagerTest, LargeMessageCrossesAndOversizeSendIsRefused) {
  Cluster cluster(2);
  ASSERT_TRUE(eventually([&] { return cluster.all_connected(); }));
  Bytes big(kMaxPlaintextBytes);
  randombytes_buf(big.data(), big.size());
  cluster.node(0).manager().send(1, big);
  cluster.node(0).manager().send(1, Bytes(kMaxPlaintextBytes + 1u, 0));
  ASSERT_TRUE(eventually([&] { return cluster.node(1).message_count(0) == 1; }));
  EXPECT_EQ(cluster.node(1).messages_from(0)[0], big);
  EXPECT_TRUE(
      eventually([&] { return cluster.node(0).manager().stats().frames_dropped_too_large == 1; }));
}

TEST(PeerManagerTest, SendQueueIsBounded) {
  constexpr std::size_t kBurst = 10;
  constexpr std::size_t kQueueBound = 4;
  std::vector<core::PublicKey> keys{key_from_byte(1).public_key(), key_from_byte(2).public_key()};
  TestNode b(base_config(key_from_byte(2), keys));
  ASSERT_TRUE(b.manager().start().is_ok());
  auto config_a = base_config(key_from_byte(1), keys);
  config_a.max_queued_frames_per_peer = kQueueBound;
  config_a.validators[1].address = {"127.0.0.1", b.manager().listen_port()};
  TestNode a(std::move(config_a));
  // From the strand (on_peer_up): the posted sends run back to back, before any write of the
  // burst can complete, so at most kQueueBound fit and the rest is refused and counted.
  bool fired = false;
  a.on_up_hook = [&](std::size_t peer) {
    if (fired) return;
    fired = true;
    for (std::size_t i = 0; i < kBurst; ++i) a.manager().send(peer, message_bytes(0, i));
  };
  ASSERT_TRUE(a.manager().start().is_ok());
  ASSERT_TRUE(eventually([&] {
    const auto stats = a.manager().stats();
    return stats.messages_sent + stats.frames_dropped_queue_full == kBurst;
  }));
  const auto stats = a.manager().stats();
  EXPECT_LE(stats.messages_sent, kQueueBound);
  EXPECT_GE(stats.frames_dropped_queue_full, kBurst - kQueueBound);
  ASSERT_TRUE(eventually([&] { return b.message_count(0) == stats.messages_sent; }));
  // The accepted ones arrive in order: the first messages_sent of the burst.
  const auto got = b.messages_from(0);
  for (std::size_t k = 0; k < got.size(); ++k) EXPECT_EQ(got[k], message_bytes(0, k));
}

TEST(PeerManagerTest, KeyOutsideTheValidatorSetIsRefused) {
  Cluster cluster(2);
  ASSERT_TRUE(eventually([&] { return cluster.all_connected(); }));
  // The stranger believes it is validator 0 of {stranger, 0, 1} and dials both.
  const auto stranger_key = key_from_byte(99);
  std::vector<core::PublicKey> its_view{stranger_key.public_key(), cluster.public_keys()[0],
                                        cluster.public_keys()[1]};
  auto config = base_config(stranger_key, its_view);
  config.validators[1].address = {"127.0.0.1", cluster.port(0)};
  config.validators[2].address = {"127.0.0.1", cluster.port(1)};
  TestNode stranger(std::move(config));
  ASSERT_TRUE(stranger.manager().start().is_ok());
  EXPECT_TRUE(eventually([&] {
    return cluster.node(0).manager().stats().handshakes_rejected >= 1 &&
           cluster.node(1).manager().stats().handshakes_rejected >= 1;
  }));
  EXPECT_EQ(stranger.manager().connected_count(), 0u);
  EXPECT_EQ(cluster.node(0).manager().connected_count(), 1u);
  exchange_and_check(cluster, 20);
}

TEST(PeerManagerTest, WrongChainIdIsRefused) {
  Cluster cluster(2, [](std::size_t i, PeerManagerConfig& config) {
    if (i == 1) config.chain_id = "another-chain";
  });
  EXPECT_TRUE(eventually([&] {
    return cluster.node(0).manager().stats().handshakes_rejected >= 1 &&
           cluster.node(1).manager().stats().handshakes_rejected >= 1;
  }));
  EXPECT_EQ(cluster.node(0).manager().connected_count(), 0u);
  EXPECT_EQ(cluster.node(1).manager().connected_count(), 0u);
  EXPECT_EQ(cluster.node(0).ups(1), 0);
}

TEST(PeerManagerTest, GarbageTruncatedAndOversizeInputIsRejectedAndLinksKeepWorking) {
  Cluster cluster(2);
  ASSERT_TRUE(eventually([&] { return cluster.all_connected(); }));
  const std::uint16_t port = cluster.port(1);
  auto& target = cluster.node(1).manager();

  {  // Random bytes.
    RawClient client(port);
    ASSERT_TRUE(client.connected());
    Bytes garbage(4096);
    randombytes_buf(garbage.data(), garbage.size());
    client.write(garbage);
    EXPECT_TRUE(client.closed_by_server());
  }
  {  // Random bytes in a well-formed small frame: not a Hello.
    RawClient client(port);
    Bytes body(100);
    randombytes_buf(body.data(), body.size());
    client.write(encode_frame(body));
    EXPECT_TRUE(client.closed_by_server());
  }
  {  // Oversize length header: refused at the header, nothing allocated.
    const auto before = target.stats().frames_rejected_oversize;
    RawClient client(port);
    client.write(Bytes{0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3});
    EXPECT_TRUE(client.closed_by_server());
    EXPECT_TRUE(eventually([&] { return target.stats().frames_rejected_oversize > before; }));
  }
  {  // Truncated frame, then end of stream.
    RawClient client(port);
    Bytes frame = encode_frame(Bytes(100, 7));
    frame.resize(50);
    client.write(frame);
    client.shutdown_write();
    EXPECT_TRUE(client.closed_by_server());
  }
  {  // Truncated frame held open: the handshake timeout closes it.
    const auto before = target.stats().handshake_timeouts;
    RawClient client(port);
    Bytes frame = encode_frame(Bytes(100, 7));
    frame.resize(50);
    client.write(frame);
    EXPECT_TRUE(client.closed_by_server());
    EXPECT_TRUE(eventually([&] { return target.stats().handshake_timeouts > before; }));
  }
  {  // Silent client: also bounded by the handshake timeout.
    RawClient client(port);
    EXPECT_TRUE(client.closed_by_server());
  }
  EXPECT_TRUE(
      eventually([&] { return target.stats().handshakes_rejected >= 1; }));  // the non-Hello frame
  // The legitimate link never went down.
  EXPECT_EQ(cluster.node(0).downs(1), 0);
  EXPECT_EQ(cluster.node(1).downs(0), 0);
  exchange_and_check(cluster, 50);
}

TEST(PeerManagerTest, TamperedCiphertextClosesTheLinkWhichThenRecovers) {
  // Node 0 dials node 1 through a proxy that flips a byte in frame 2 (after Hello and Auth:
  // the first encrypted frame) of the first connection.
  std::vector<core::PublicKey> keys{key_from_byte(1).public_key(), key_from_byte(2).public_key()};
  TestNode b(base_config(key_from_byte(2), keys));
  ASSERT_TRUE(b.manager().start().is_ok());
  TamperProxy proxy(b.manager().listen_port(), 2);
  auto config_a = base_config(key_from_byte(1), keys);
  config_a.validators[1].address = {"127.0.0.1", proxy.port()};
  TestNode a(std::move(config_a));
  ASSERT_TRUE(a.manager().start().is_ok());
  ASSERT_TRUE(
      eventually([&] { return a.manager().is_connected(1) && b.manager().is_connected(0); }));

  a.manager().send(1, Bytes{1, 2, 3});
  ASSERT_TRUE(eventually([&] { return b.manager().stats().frames_rejected_decrypt == 1; }));
  EXPECT_EQ(proxy.tampered(), 1);
  EXPECT_EQ(b.message_count(0), 0u);  // the altered message was never delivered
  EXPECT_TRUE(eventually([&] { return b.downs(0) >= 1 && a.downs(1) >= 1; }));
  // Node 0 dials again (through the proxy, which now passes everything) and the link is back.
  ASSERT_TRUE(
      eventually([&] { return a.manager().is_connected(1) && b.manager().is_connected(0); }));
  a.manager().send(1, Bytes{4, 5, 6});
  b.manager().send(0, Bytes{7});
  ASSERT_TRUE(eventually([&] { return b.message_count(0) == 1 && a.message_count(1) == 1; }));
  EXPECT_EQ(b.messages_from(0)[0], (Bytes{4, 5, 6}));
}

TEST(PeerManagerTest, ReconnectsAfterEitherSideRestarts) {
  Cluster cluster(3);
  ASSERT_TRUE(eventually([&] { return cluster.all_connected(); }));
  exchange_and_check(cluster, 10);

  // Node 2 is dialed by 0 and 1: they notice it went and dial it again when it is back.
  cluster.stop_node(2);
  ASSERT_TRUE(eventually([&] {
    return !cluster.node(0).manager().is_connected(2) && !cluster.node(1).manager().is_connected(2);
  }));
  EXPECT_GE(cluster.node(0).downs(2), 1);
  cluster.restart_node(2);
  ASSERT_TRUE(eventually([&] { return cluster.all_connected(); }));
  exchange_and_check(cluster, 10, 1000);

  // Node 0 dials the others: when it comes back, it dials them again.
  cluster.stop_node(0);
  ASSERT_TRUE(eventually([&] { return !cluster.node(1).manager().is_connected(0); }));
  cluster.restart_node(0);
  ASSERT_TRUE(eventually([&] { return cluster.all_connected(); }));
  exchange_and_check(cluster, 10, 2000);
}

TEST(PeerManagerTest, InboundFromTheSideWeShouldDialIsRefused) {
  // Misconfigured order: each believes it is validator 0, so each dials the other and each
  // refuses the other's inbound link (the lower index dials).
  const auto ka = key_from_byte(1);
  const auto kb = key_from_byte(2);
  TestNode a(base_config(ka, {ka.public_key(), kb.public_key()}));
  TestNode b(base_config(kb, {kb.public_key(), ka.public_key()}));
  ASSERT_TRUE(a.manager().listen().is_ok());
  ASSERT_TRUE(b.manager().listen().is_ok());
  a.manager().set_peer_address(1, {"127.0.0.1", b.manager().listen_port()});
  b.manager().set_peer_address(1, {"127.0.0.1", a.manager().listen_port()});
  ASSERT_TRUE(a.manager().start().is_ok());
  ASSERT_TRUE(b.manager().start().is_ok());
  EXPECT_TRUE(eventually([&] {
    return a.manager().stats().connections_refused >= 1 &&
           b.manager().stats().connections_refused >= 1;
  }));
  EXPECT_EQ(a.ups(1), 0);
  EXPECT_EQ(b.ups(1), 0);
}

TEST(PeerManagerTest, DialedAddressAnsweringWithAnotherKeyIsRefused) {
  std::vector<core::SecretKey> keys{key_from_byte(1), key_from_byte(2), key_from_byte(3)};
  std::vector<core::PublicKey> public_keys{keys[0].public_key(), keys[1].public_key(),
                                           keys[2].public_key()};
  TestNode c(base_config(keys[2], public_keys));
  ASSERT_TRUE(c.manager().start().is_ok());
  auto config = base_config(keys[0], public_keys);
  config.validators[1].address = {"127.0.0.1", c.manager().listen_port()};  // wrong: that is 2
  config.validators[2].address = {"127.0.0.1", c.manager().listen_port()};
  TestNode a(std::move(config));
  ASSERT_TRUE(a.manager().start().is_ok());
  EXPECT_TRUE(eventually([&] { return a.manager().stats().connections_refused >= 1; }));
  EXPECT_TRUE(
      eventually([&] { return a.manager().is_connected(2) && c.manager().is_connected(0); }));
  EXPECT_FALSE(a.manager().is_connected(1));
  EXPECT_EQ(a.ups(1), 0);
}

// At the limit the oldest pending handshake gives way to the new connection (refusing the new one
// let a few idle connections per handshake timeout keep every validator out).
TEST(PeerManagerTest, PendingInboundHandshakesAreBoundedAndTheOldestGivesWay) {
  const auto key = key_from_byte(1);
  auto config = base_config(key, {key.public_key()});
  config.max_pending_inbound_handshakes = 1;
  config.handshake_timeout_ms = 60'000;  // nothing times out during the test
  TestNode node(std::move(config));
  ASSERT_TRUE(node.manager().start().is_ok());
  RawClient first(node.manager().listen_port());
  ASSERT_TRUE(first.connected());
  ASSERT_TRUE(eventually([&] { return node.manager().stats().connections_accepted == 1; }));
  RawClient second(node.manager().listen_port());
  ASSERT_TRUE(second.connected());
  EXPECT_TRUE(first.closed_by_server());
  EXPECT_TRUE(eventually([&] { return node.manager().stats().inbound_over_limit == 1; }));
  EXPECT_EQ(node.manager().stats().connections_accepted, 2u);
}

TEST(PeerManagerTest, AValidatorLinksWhileIdleConnectionsFillTheHandshakeLimit) {
  std::vector<core::PublicKey> keys{key_from_byte(1).public_key(), key_from_byte(2).public_key()};
  auto config_b = base_config(key_from_byte(2), keys);
  config_b.max_pending_inbound_handshakes = 4;
  config_b.handshake_timeout_ms = 60'000;  // the idle connections would hold their slots all along
  TestNode b(std::move(config_b));
  ASSERT_TRUE(b.manager().start().is_ok());
  std::vector<std::unique_ptr<RawClient>> idle;
  for (int i = 0; i < 4; ++i) {
    idle.push_back(std::make_unique<RawClient>(b.manager().listen_port()));
    ASSERT_TRUE(idle.back()->connected());
  }
  ASSERT_TRUE(eventually([&] { return b.manager().stats().connections_accepted == 4; }));
  auto config_a = base_config(key_from_byte(1), keys);
  config_a.validators[1].address = {"127.0.0.1", b.manager().listen_port()};
  TestNode a(std::move(config_a));
  ASSERT_TRUE(a.manager().start().is_ok());
  EXPECT_TRUE(eventually([&] { return a.manager().is_connected(1) && b.manager().is_connected(0); }));
}

TEST(PeerManagerTest, StopFromACallbackAndFromSeveralThreadsIsSafe) {
  std::vector<core::PublicKey> keys{key_from_byte(1).public_key(), key_from_byte(2).public_key()};
  TestNode b(base_config(key_from_byte(2), keys));
  ASSERT_TRUE(b.manager().start().is_ok());
  auto config_a = base_config(key_from_byte(1), keys);
  config_a.validators[1].address = {"127.0.0.1", b.manager().listen_port()};
  TestNode a(std::move(config_a));
  std::atomic<bool> stopped_in_callback{false};
  a.on_up_hook = [&](std::size_t) {
    a.manager().stop();  // on the strand: immediate
    stopped_in_callback = true;
  };
  ASSERT_TRUE(a.manager().start().is_ok());
  ASSERT_TRUE(eventually([&] { return stopped_in_callback.load(); }));
  EXPECT_EQ(a.manager().connected_count(), 0u);
  a.manager().send(1, Bytes{1});  // after stop: ignored
  std::vector<std::thread> stoppers;
  for (int i = 0; i < 3; ++i) stoppers.emplace_back([&] { b.manager().stop(); });
  for (auto& t : stoppers) t.join();
  EXPECT_EQ(b.manager().connected_count(), 0u);
}

TEST(PeerManagerTest, ConfigErrorsAreReported) {
  asio::io_context io;
  const auto key = key_from_byte(1);
  {
    PeerManager manager(io, base_config(key, {key_from_byte(2).public_key()}), {});
    const auto status = manager.listen();
    EXPECT_EQ(status.code(), core::ErrorCode::kInvalidArgument);
    EXPECT_NE(status.message().find("not in the validator list"), std::string::npos);
  }
  {
    auto config = base_config(key, {key.public_key()});
    config.listen_address.host = "not-an-ip";
    PeerManager manager(io, std::move(config), {});
    EXPECT_EQ(manager.listen().code(), core::ErrorCode::kInvalidArgument);
  }
}

}  // namespace
}  // namespace carbon::node::p2p
