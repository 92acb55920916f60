// The peer transport of a validator: one authenticated, encrypted TCP link to every other
// validator in genesis, kept up for the life of the node.
//
// Validators are numbered by their position in the configured list (genesis order); this
// node is the one whose key is node_key. The lower index dials the higher one, so each pair has
// exactly one link; a validator that should be dialed by us but dials in is refused (counted),
// and a new link from a peer replaces an older one (the peer has evidently lost the old one).
// Links are dialed again after a loss with capped exponential backoff plus jitter. Handshakes
// (connect included) are bounded by a timeout, unauthenticated inbound connections by a count,
// each peer's send queue by frames and bytes (new messages are refused and counted when full).
//
// Thread safety: all work runs on one strand of the given io_context; callbacks are invoked
// on that strand, never concurrently, and never after stop() has returned. send(),
// broadcast(), stats(), is_connected() and connected_count() are safe from any thread.
// listen() (optional) and start() are called once each, in that order, by the owner before it
// shares the manager; set_peer_address() by the owner before start(), from any thread after. stop()
// is idempotent and safe from any thread: on the strand (e.g. inside a callback) it takes effect at
// once; elsewhere it blocks until the shutdown ran on the strand, so the io_context must be running
// then and stop() must not be called from another handler of that io_context. The destructor calls
// stop() if the manager was started.
#pragma once

#include <boost/asio/io_context.hpp>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/bytes.h"
#include "core/keys.h"
#include "core/status.h"
#include "node/p2p/transport_stats.h"

namespace carbon::node::p2p {

// Bounds on one peer's send queue (messages refused beyond either).
inline constexpr std::size_t kMaxQueuedFramesPerPeer = 4096;
inline constexpr std::size_t kMaxQueuedBytesPerPeer = 64u * 1024u * 1024u;
// Inbound connections that have not completed the handshake yet.
inline constexpr std::size_t kMaxPendingInboundHandshakes = 64;

struct PeerAddress {
  std::string host;  // an IP address literal ("127.0.0.1", "::1")
  std::uint16_t port = 0;
};

struct ValidatorPeer {
  core::PublicKey key;
  PeerAddress address;  // where it listens; port 0 = not known yet (see set_peer_address)
};

struct PeerManagerConfig {
  std::string chain_id;
  core::SecretKey node_key;
  std::vector<ValidatorPeer> validators;  // genesis order; must contain node_key's public key once
  PeerAddress listen_address;             // port 0 = an ephemeral port (tests)
  std::uint32_t handshake_timeout_ms = 5000;
  std::uint32_t reconnect_initial_ms = 100;
  std::uint32_t reconnect_max_ms = 10000;
  std::size_t max_queued_frames_per_peer = kMaxQueuedFramesPerPeer;
  std::size_t max_queued_bytes_per_peer = kMaxQueuedBytesPerPeer;
  std::size_t max_pending_inbound_handshakes = kMaxPendingInboundHandshakes;
};

struct PeerCallbacks {
  std::function<void(std::size_t peer_index, core::Bytes message)> on_message;
  std::function<void(std::size_t peer_index)> on_peer_up;
  std::function<void(std::size_t peer_index)> on_peer_down;
  // One line per notable event (peer up/down, anything refused or dropped and why).
  std::function<void(std::string_view line)> on_log;
};

class PeerManager {
 public:
  PeerManager(boost::asio::io_context& io, PeerManagerConfig config, PeerCallbacks callbacks);
  ~PeerManager();
  PeerManager(const PeerManager&) = delete;
  PeerManager& operator=(const PeerManager&) = delete;

  // Checks the configuration and binds the listening socket (optional before start()).
  core::Status listen();
  // The bound port, once listen() succeeded.
  std::uint16_t listen_port() const;
  // Sets or changes where a validator listens (tests learn ephemeral ports after listen()).
  void set_peer_address(std::size_t peer_index, PeerAddress address);
  // Starts accepting and dialing (listens first if listen() was not called).
  core::Status start();
  void stop();

  std::size_t self_index() const;
  std::size_t validator_count() const;

  // Queues one message for a peer (index into validators, not our own). Dropped and counted if
  // the peer is not connected or its queue is full.
  void send(std::size_t peer_index, core::Bytes message);
  // Queues one message for every connected peer.
  void broadcast(core::Bytes message);

  bool is_connected(std::size_t peer_index) const;
  std::size_t connected_count() const;
  TransportStats stats() const;

 private:
  class Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace carbon::node::p2p
