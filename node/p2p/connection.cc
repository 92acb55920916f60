#include "node/p2p/connection.h"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <string>
#include <utility>

namespace carbon::node::p2p {

namespace asio = boost::asio;
using asio::ip::tcp;
using core::Bytes;
using core::ByteView;
using core::ErrorCode;
using core::Status;

Connection::Connection(Strand strand, HandshakeRole role,
                       std::shared_ptr<const HandshakeIdentity> identity, ConnectionLimits limits,
                       std::weak_ptr<ConnectionOwner> owner,
                       std::shared_ptr<TransportCounters> counters)
    : strand_(std::move(strand)),
      role_(role),
      limits_(limits),
      owner_(std::move(owner)),
      counters_(std::move(counters)),
      socket_(strand_),
      handshake_timer_(strand_),
      handshake_(role, std::move(identity)),
      read_buffer_(kReadChunkBytes) {
  CARBON_ASSERT(counters_ != nullptr);
}

const core::PublicKey& Connection::peer_key() const {
  CARBON_ASSERT(channel_.has_value());
  return peer_key_;
}

void Connection::start_inbound(tcp::socket socket) {
  CARBON_ASSERT(state_ == State::kConnecting);
  socket_ = std::move(socket);
  arm_handshake_timer();
  begin_handshake();
}

std::string endpoint_text(const tcp::endpoint& endpoint) {
  return endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void Connection::start_outbound(const tcp::endpoint& endpoint) {
  CARBON_ASSERT(state_ == State::kConnecting);
  remote_ = endpoint_text(endpoint);
  arm_handshake_timer();
  socket_.async_connect(
      endpoint, [self = shared_from_this()](const boost::system::error_code& error) {
        if (self->state_ == State::kClosed) return;
        if (error) {
          self->close(Status::error(ErrorCode::kIoError,
                                    "connect to " + self->remote_ + " failed: " + error.message()));
          return;
        }
        self->begin_handshake();
      });
}

void Connection::arm_handshake_timer() {
  handshake_timer_.expires_after(std::chrono::milliseconds(limits_.handshake_timeout_ms));
  handshake_timer_.async_wait([self = shared_from_this()](const boost::system::error_code& error) {
    if (error || self->state_ == State::kEstablished || self->state_ == State::kClosed) return;
    TransportCounters::bump(self->counters_->handshake_timeouts);
    self->close(Status::error(ErrorCode::kIoError,
                              "handshake with " + self->remote_ + " did not complete within " +
                                  std::to_string(self->limits_.handshake_timeout_ms) + " ms"));
  });
}

void Connection::begin_handshake() {
  boost::system::error_code ignored;
  if (remote_ == "?") {
    const auto endpoint = socket_.remote_endpoint(ignored);
    if (!ignored) remote_ = endpoint_text(endpoint);
  }
  socket_.set_option(tcp::no_delay(true), ignored);
  socket_.set_option(asio::socket_base::keep_alive(true), ignored);
  state_ = State::kAwaitHello;
  queue_frame(handshake_.hello());
  read_some();
}

void Connection::read_some() {
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [self = shared_from_this()](const boost::system::error_code& error, std::size_t bytes) {
        self->on_read(error, bytes);
      });
}

void Connection::on_read(const boost::system::error_code& error, std::size_t bytes) {
  if (state_ == State::kClosed) return;
  if (error) {
    close(Status::error(ErrorCode::kIoError,
                        error == asio::error::eof
                            ? "connection closed by " + remote_
                            : "read from " + remote_ + " failed: " + error.message()));
    return;
  }
  decoder_.append(ByteView(read_buffer_.data(), bytes));
  for (;;) {
    auto frame = decoder_.next();
    if (!frame) {
      TransportCounters::bump(counters_->frames_rejected_oversize);
      close(Status::error(ErrorCode::kOutOfBounds,
                          "protocol error from " + remote_ + ": " + frame.status().message()));
      return;
    }
    if (!frame->has_value()) break;
    if (!handle_frame(std::move(**frame))) return;
  }
  read_some();
}

Status Connection::fail_handshake(Status reason) {
  TransportCounters::bump(counters_->handshakes_rejected);
  Status status(reason.code(), "handshake with " + remote_ + " refused: " + reason.message());
  close(status);
  return status;
}

bool Connection::handle_frame(Bytes body) {
  switch (state_) {
    case State::kAwaitHello: {
      if (Status status = handshake_.receive_hello(body); !status) {
        (void)fail_handshake(std::move(status));
        return false;
      }
      if (auto owner = owner_.lock()) {
        if (Status status = owner->check_peer(shared_from_this(), handshake_.peer_key()); !status) {
          TransportCounters::bump(counters_->connections_refused);
          close(std::move(status));
          return false;
        }
      }
      queue_frame(handshake_.auth());
      state_ = State::kAwaitAuth;
      return true;
    }
    case State::kAwaitAuth: {
      auto keys = handshake_.receive_auth(body);
      if (!keys) {
        (void)fail_handshake(keys.status());
        return false;
      }
      peer_key_ = keys->peer_key;
      channel_.emplace(*keys);
      decoder_.set_max_body_bytes(kMaxFrameBytes);
      state_ = State::kEstablished;
      handshake_timer_.cancel();
      TransportCounters::bump(counters_->handshakes_completed);
      if (auto owner = owner_.lock()) owner->on_connection_established(shared_from_this());
      return state_ != State::kClosed;
    }
    case State::kEstablished: {
      auto plaintext = channel_->open(body);
      if (!plaintext) {
        TransportCounters::bump(counters_->frames_rejected_decrypt);
        close(Status::error(plaintext.status().code(), "frame from " + remote_ + " rejected: " +
                                                           plaintext.status().message()));
        return false;
      }
      TransportCounters::bump(counters_->messages_received);
      if (auto owner = owner_.lock())
        owner->on_connection_message(shared_from_this(), std::move(*plaintext));
      return state_ != State::kClosed;
    }
    case State::kConnecting:
    case State::kClosed:
      break;
  }
  CARBON_ASSERT_MSG(false, "frame handled in a state that does not read");
  return false;
}

bool Connection::send(ByteView message) {
  if (state_ != State::kEstablished) {
    TransportCounters::bump(counters_->frames_dropped_not_connected);
    return false;
  }
  if (message.size() > kMaxPlaintextBytes) {
    TransportCounters::bump(counters_->frames_dropped_too_large);
    return false;
  }
  const std::size_t frame_bytes = kFrameHeaderBytes + message.size() + kAeadTagBytes;
  if (write_queue_.size() >= limits_.max_queued_frames ||
      queued_bytes_ + frame_bytes > limits_.max_queued_bytes) {
    TransportCounters::bump(counters_->frames_dropped_queue_full);
    return false;
  }
  auto sealed = channel_->seal(message);
  if (!sealed) {
    // Only the nonce counter can run out here: the session is spent; a new one gets new keys.
    close(Status::error(sealed.status().code(),
                        "closing link to " + remote_ + ": " + sealed.status().message()));
    return false;
  }
  TransportCounters::bump(counters_->messages_sent);
  queue_frame(std::move(*sealed));
  return true;
}

void Connection::queue_frame(Bytes body) {
  CARBON_ASSERT(body.size() <= kMaxFrameBytes);
  OutFrame frame{encode_frame_header(static_cast<std::uint32_t>(body.size())), std::move(body)};
  queued_bytes_ += kFrameHeaderBytes + frame.body.size();
  write_queue_.push_back(std::move(frame));
  if (!writing_) write_next();
}

void Connection::write_next() {
  if (write_queue_.empty() || state_ == State::kClosed) {
    writing_ = false;
    return;
  }
  writing_ = true;
  const OutFrame& frame = write_queue_.front();
  const std::array<asio::const_buffer, 2> buffers{asio::buffer(frame.header),
                                                  asio::buffer(frame.body)};
  asio::async_write(socket_, buffers,
                    [self = shared_from_this()](const boost::system::error_code& error,
                                                std::size_t) { self->on_write(error); });
}

void Connection::on_write(const boost::system::error_code& error) {
  if (state_ == State::kClosed) {
    writing_ = false;
    write_queue_.clear();
    return;
  }
  if (error) {
    close(
        Status::error(ErrorCode::kIoError, "write to " + remote_ + " failed: " + error.message()));
    return;
  }
  queued_bytes_ -= kFrameHeaderBytes + write_queue_.front().body.size();
  write_queue_.pop_front();
  write_next();
}

void Connection::close(Status reason) {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  handshake_timer_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  // A write in flight still refers to the front frame until its handler runs.
  while (write_queue_.size() > (writing_ ? 1u : 0u)) write_queue_.pop_back();
  queued_bytes_ = 0;
  asio::post(strand_, [self = shared_from_this(), reason = std::move(reason)]() {
    if (auto owner = self->owner_.lock()) owner->on_connection_closed(self, reason);
  });
}

}  // namespace carbon::node::p2p
