// One TCP link to one peer: the handshake (plaintext frames, bounded by a timeout), then
// encrypted frames both ways through a SecureChannel, with a bounded send queue.
//
// Any protocol error (oversize frame header, malformed or refused handshake message, AEAD
// failure, handshake timeout) closes the link at once and is counted; nothing a peer sends
// can make this allocate more than one frame of the current limit. The owner (PeerManager)
// learns of the outcome through ConnectionOwner; the close notification is always posted, so
// the owner may close a connection from inside its own callbacks.
//
// Thread safety: every method must be called on the strand given at construction, and all
// completion handlers run there. Handlers keep the Connection alive (shared_from_this); the
// owner is held weakly.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <optional>

#include "core/bytes.h"
#include "core/keys.h"
#include "core/status.h"
#include "node/p2p/frame.h"
#include "node/p2p/handshake.h"
#include "node/p2p/secure_channel.h"
#include "node/p2p/transport_stats.h"

namespace carbon::node::p2p {

class Connection;

// "127.0.0.1:7101": how logs name the far end of a link.
std::string endpoint_text(const boost::asio::ip::tcp::endpoint& endpoint);

class ConnectionOwner {
 public:
  virtual ~ConnectionOwner() = default;
  // The peer's Hello passed the handshake checks and names claimed_key (not yet proven): a
  // non-ok Status refuses the link before we send our Auth (e.g. wrong dialing direction). The
  // owner must not close the connection from here.
  virtual core::Status check_peer(const std::shared_ptr<Connection>& connection,
                                  const core::PublicKey& claimed_key) = 0;
  // The handshake succeeded; connection->peer_key() is authenticated.
  virtual void on_connection_established(const std::shared_ptr<Connection>& connection) = 0;
  virtual void on_connection_message(const std::shared_ptr<Connection>& connection,
                                     core::Bytes message) = 0;
  // Exactly once per connection, posted (never from inside a call into the connection).
  virtual void on_connection_closed(const std::shared_ptr<Connection>& connection,
                                    const core::Status& reason) = 0;
};

struct ConnectionLimits {
  std::uint32_t handshake_timeout_ms = 5000;  // covers TCP connect and the whole handshake
  std::size_t max_queued_frames = 1024;
  std::size_t max_queued_bytes = 64u * 1024u * 1024u;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Strand = boost::asio::strand<boost::asio::io_context::executor_type>;

  Connection(Strand strand, HandshakeRole role, std::shared_ptr<const HandshakeIdentity> identity,
             ConnectionLimits limits, std::weak_ptr<ConnectionOwner> owner,
             std::shared_ptr<TransportCounters> counters);
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Responder side; the socket must have been accepted with this strand as its executor.
  void start_inbound(boost::asio::ip::tcp::socket socket);
  // Initiator side: connect, then handshake, all within the handshake timeout.
  void start_outbound(const boost::asio::ip::tcp::endpoint& endpoint);

  // Seals and queues one message. False (and counted) if the link is not established, the
  // message is over kMaxPlaintextBytes, or the send queue is at its bound (new is refused).
  bool send(core::ByteView message);
  // Idempotent. Drops queued frames; the owner is notified once (posted).
  void close(core::Status reason);

  HandshakeRole role() const { return role_; }
  bool is_established() const { return state_ == State::kEstablished; }
  bool is_closed() const { return state_ == State::kClosed; }
  // The authenticated peer key; only once established.
  const core::PublicKey& peer_key() const;
  // For log lines: "127.0.0.1:7101" or "?".
  const std::string& remote() const { return remote_; }

 private:
  enum class State { kConnecting, kAwaitHello, kAwaitAuth, kEstablished, kClosed };
  struct OutFrame {
    std::array<std::uint8_t, kFrameHeaderBytes> header;
    core::Bytes body;
  };

  void begin_handshake();
  void arm_handshake_timer();
  void read_some();
  void on_read(const boost::system::error_code& error, std::size_t bytes);
  // False once the connection was closed while handling the frame.
  bool handle_frame(core::Bytes body);
  void queue_frame(core::Bytes body);
  void write_next();
  void on_write(const boost::system::error_code& error);
  core::Status fail_handshake(core::Status reason);

  static constexpr std::size_t kReadChunkBytes = 64u * 1024u;

  Strand strand_;
  HandshakeRole role_;
  ConnectionLimits limits_;
  std::weak_ptr<ConnectionOwner> owner_;
  std::shared_ptr<TransportCounters> counters_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer handshake_timer_;
  std::string remote_ = "?";

  State state_ = State::kConnecting;
  Handshake handshake_;
  std::optional<SecureChannel> channel_;
  core::PublicKey peer_key_;
  FrameDecoder decoder_{kMaxHandshakeFrameBytes};
  core::Bytes read_buffer_;
  std::deque<OutFrame> write_queue_;
  std::size_t queued_bytes_ = 0;
  bool writing_ = false;
};

}  // namespace carbon::node::p2p
