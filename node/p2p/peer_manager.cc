#include "node/p2p/peer_manager.h"

#include <sodium.h>

#include <algorithm>
#include <atomic>
#include <deque>
#include <chrono>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <future>
#include <limits>
#include <mutex>
#include <set>
#include <utility>

#include "node/p2p/backoff.h"
#include "node/p2p/connection.h"
#include "node/p2p/handshake.h"

namespace carbon::node::p2p {

namespace asio = boost::asio;
using asio::ip::tcp;
using core::Bytes;
using core::ErrorCode;
using core::Status;

namespace {

constexpr std::size_t kNoIndex = std::numeric_limits<std::size_t>::max();
// After a failed accept (e.g. out of file descriptors), wait before accepting again.
constexpr std::uint32_t kAcceptRetryMs = 100;
// Log lines about inbound connections that never authenticated, in full, per window: anyone who
// reaches the peer port can cause them, and must not be able to grow the log without bound.
constexpr std::size_t kMaxUnauthenticatedLinesPerWindow = 5;
constexpr auto kUnauthenticatedLogWindow = std::chrono::seconds(30);

core::Result<tcp::endpoint> to_endpoint(const PeerAddress& address) {
  boost::system::error_code error;
  const auto ip = asio::ip::make_address(address.host, error);
  if (error) {
    return Status::error(ErrorCode::kInvalidArgument,
                         "'" + address.host + "' is not an IP address: " + error.message());
  }
  return tcp::endpoint(ip, address.port);
}

}  // namespace

class PeerManager::Impl : public ConnectionOwner, public std::enable_shared_from_this<Impl> {
 public:
  Impl(asio::io_context& io, PeerManagerConfig config, PeerCallbacks callbacks)
      : strand_(asio::make_strand(io)),
        config_(std::move(config)),
        callbacks_(std::move(callbacks)),
        counters_(std::make_shared<TransportCounters>()),
        acceptor_(strand_),
        accept_retry_timer_(strand_),
        connected_(std::make_unique<std::atomic<bool>[]>(config_.validators.size())) {
    auto identity = std::make_shared<HandshakeIdentity>();
    identity->chain_id = config_.chain_id;
    identity->static_key = config_.node_key;
    for (std::size_t i = 0; i < config_.validators.size(); ++i) {
      const auto& validator = config_.validators[i];
      identity->allowed_keys.push_back(validator.key);
      if (validator.key == config_.node_key.public_key() && self_index_ == kNoIndex)
        self_index_ = i;
      peers_.push_back(std::make_unique<Peer>(
          strand_, validator.address, config_.reconnect_initial_ms, config_.reconnect_max_ms));
      connected_[i].store(false);
    }
    identity_ = std::move(identity);
  }

  Status validate() const {
    if (config_.chain_id.empty() || config_.chain_id.size() > kMaxChainIdBytes) {
      return Status::error(
          ErrorCode::kInvalidArgument,
          "chain id must have 1 to " + std::to_string(kMaxChainIdBytes) + " bytes");
    }
    if (self_index_ == kNoIndex) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "node key " + config_.node_key.public_key().short_hex() +
                               " is not in the validator list");
    }
    for (std::size_t i = 0; i < config_.validators.size(); ++i) {
      for (std::size_t j = i + 1; j < config_.validators.size(); ++j) {
        if (config_.validators[i].key == config_.validators[j].key) {
          return Status::error(
              ErrorCode::kInvalidArgument,
              "validators " + std::to_string(i) + " and " + std::to_string(j) + " share a key");
        }
      }
    }
    if (config_.reconnect_initial_ms == 0 ||
        config_.reconnect_initial_ms > config_.reconnect_max_ms ||
        config_.handshake_timeout_ms == 0 || config_.max_queued_frames_per_peer == 0 ||
        config_.max_queued_bytes_per_peer == 0 || config_.max_pending_inbound_handshakes == 0) {
      return Status::error(ErrorCode::kInvalidArgument,
                           "peer manager timeouts and bounds must be positive");
    }
    return Status::ok();
  }

  Status listen() {
    CARBON_ASSERT(!listening_);
    CARBON_RETURN_IF_ERROR(validate());
    auto endpoint = to_endpoint(config_.listen_address);
    if (!endpoint) return endpoint.status();
    boost::system::error_code error;
    acceptor_.open(endpoint->protocol(), error);
    if (!error) acceptor_.set_option(tcp::acceptor::reuse_address(true), error);
    if (!error) acceptor_.bind(*endpoint, error);
    if (!error) acceptor_.listen(asio::socket_base::max_listen_connections, error);
    if (error) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      return Status::error(ErrorCode::kIoError, "cannot listen on " + config_.listen_address.host +
                                                    ":" +
                                                    std::to_string(config_.listen_address.port) +
                                                    ": " + error.message());
    }
    listen_port_ = acceptor_.local_endpoint(error).port();
    listening_ = true;
    return Status::ok();
  }

  void set_peer_address(std::size_t index, PeerAddress address) {
    CARBON_ASSERT(index < peers_.size());
    if (!started_.load()) {
      peers_[index]->address = std::move(address);
      return;
    }
    asio::post(strand_, [self = shared_from_this(), index, address = std::move(address)]() mutable {
      self->peers_[index]->address = std::move(address);
      // A peer we dial whose address was unknown (or changed while it was down) is dialed now.
      if (index > self->self_index_ && !self->peers_[index]->reconnect_pending) self->dial(index);
    });
  }

  Status start() {
    CARBON_ASSERT(!started_.load());
    if (!listening_) CARBON_RETURN_IF_ERROR(listen());
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      const auto& address = peers_[i]->address;
      if (i != self_index_ && !address.host.empty()) {
        auto endpoint = to_endpoint(address);
        if (!endpoint)
          return Status::error(endpoint.status().code(), "validator " + std::to_string(i) + ": " +
                                                             endpoint.status().message());
      }
    }
    started_.store(true);
    asio::post(strand_, [self = shared_from_this()]() {
      if (self->stopped_) return;
      self->accept_next();
      for (std::size_t i = self->self_index_ + 1; i < self->peers_.size(); ++i) self->dial(i);
    });
    return Status::ok();
  }

  void stop() {
    if (!started_.load()) {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      return;
    }
    if (strand_.running_in_this_thread()) {
      do_stop();  // idempotent
      return;
    }
    std::shared_future<void> done;
    {
      std::lock_guard lock(stop_mutex_);
      if (!stop_done_.valid()) {
        auto promise = std::make_shared<std::promise<void>>();
        stop_done_ = promise->get_future().share();
        asio::post(strand_, [self = shared_from_this(), promise]() {
          self->do_stop();
          promise->set_value();
        });
      }
      done = stop_done_;
    }
    done.wait();
  }

  void send(std::size_t index, Bytes message) {
    CARBON_ASSERT(index < peers_.size() && index != self_index_);
    asio::post(strand_, [self = shared_from_this(), index, message = std::move(message)]() {
      if (self->stopped_) return;
      auto& connection = self->peers_[index]->established;
      if (!connection) {
        TransportCounters::bump(self->counters_->frames_dropped_not_connected);
        return;
      }
      connection->send(message);
    });
  }

  void broadcast(Bytes message) {
    asio::post(strand_, [self = shared_from_this(), message = std::move(message)]() {
      if (self->stopped_) return;
      for (auto& peer : self->peers_) {
        if (peer->established) peer->established->send(message);
      }
    });
  }

  // ConnectionOwner (on the strand).
  Status check_peer(const std::shared_ptr<Connection>& connection,
                    const core::PublicKey& claimed_key) override {
    if (stopped_) return Status::error(ErrorCode::kIoError, "transport stopped");
    const std::size_t index = index_of(claimed_key);
    CARBON_ASSERT(index != kNoIndex &&
                  index != self_index_);  // the handshake admits only validators
    if (connection->role() == HandshakeRole::kInitiator) {
      const std::size_t dialed = dialed_index(connection);
      if (dialed != index) {
        const std::string why = "dialed validator " + std::to_string(dialed) + " at " +
                                connection->remote() + " but validator " + std::to_string(index) +
                                " answered";
        log("refused link: " + why);
        return Status::error(ErrorCode::kConflict, why);
      }
    } else if (index > self_index_) {
      const std::string why = "validator " + std::to_string(index) + " dialed in from " +
                              connection->remote() + ", but the lower index dials (we dial it)";
      log("refused link: " + why);
      return Status::error(ErrorCode::kConflict, why);
    }
    return Status::ok();
  }

  void on_connection_established(const std::shared_ptr<Connection>& connection) override {
    if (stopped_) return;
    // check_peer() accepted this key for this direction before we sent our Auth, and the Auth
    // proved the same key.
    const std::size_t index = index_of(connection->peer_key());
    CARBON_ASSERT(index != kNoIndex && index != self_index_);
    if (connection->role() == HandshakeRole::kInitiator) {
      CARBON_ASSERT(dialed_index(connection) == index);
      peers_[index]->dialing.reset();
    } else {
      CARBON_ASSERT(index < self_index_);
      pending_inbound_.erase(connection);
    }
    adopt(index, connection);
  }

  void on_connection_message(const std::shared_ptr<Connection>& connection,
                             Bytes message) override {
    if (stopped_) return;
    const std::size_t index = established_index(connection);
    if (index == kNoIndex) return;  // a replaced link; its messages no longer count
    if (callbacks_.on_message) callbacks_.on_message(index, std::move(message));
  }

  void on_connection_closed(const std::shared_ptr<Connection>& connection,
                            const Status& reason) override {
    if (stopped_) return;
    if (pending_inbound_.erase(connection) > 0) {
      TransportCounters::bump(counters_->inbound_failed);
      log_unauthenticated("inbound connection from " + connection->remote() + " closed: " + reason.message());
      return;
    }
    if (const std::size_t index = dialed_index(connection); index != kNoIndex) {
      peers_[index]->dialing.reset();
      log("link to validator " + std::to_string(index) + " not established: " + reason.message());
      schedule_reconnect(index);
      return;
    }
    if (const std::size_t index = established_index(connection); index != kNoIndex) {
      peers_[index]->established.reset();
      mark_down(index, reason.message());
      if (index > self_index_) schedule_reconnect(index);
    }
    // Otherwise a link that was refused or replaced; already accounted for.
  }

  std::size_t self_index() const { return self_index_; }
  std::size_t validator_count() const { return peers_.size(); }
  std::uint16_t listen_port() const { return listen_port_; }
  bool is_connected(std::size_t index) const {
    return index < peers_.size() && connected_[index].load(std::memory_order_acquire);
  }
  std::size_t connected_count() const { return connected_count_.load(std::memory_order_acquire); }
  TransportStats stats() const { return counters_->snapshot(); }
  bool started() const { return started_.load(); }

 private:
  struct Peer {
    Peer(const Connection::Strand& strand, PeerAddress peer_address, std::uint32_t initial_ms,
         std::uint32_t max_ms)
        : address(std::move(peer_address)), backoff(initial_ms, max_ms), reconnect_timer(strand) {}
    PeerAddress address;
    std::shared_ptr<Connection> established;
    std::shared_ptr<Connection> dialing;
    Backoff backoff;
    asio::steady_timer reconnect_timer;
    bool reconnect_pending = false;
  };

  void log(const std::string& line) {
    if (callbacks_.on_log && !stopped_) callbacks_.on_log(line);
  }

  // The first kMaxUnauthenticatedLinesPerWindow lines of each window in full; the others are
  // counted, and their number is logged with the next such line after the window (the node's
  // 30 s summary counts them from stats() in any case: inbound_failed, inbound_over_limit).
  void log_unauthenticated(const std::string& line) {
    const auto now = std::chrono::steady_clock::now();
    if (now - unauthenticated_window_start_ >= kUnauthenticatedLogWindow) {
      if (unauthenticated_lines_suppressed_ > 0) {
        log(std::to_string(unauthenticated_lines_suppressed_) +
            " more inbound connections failed before authenticating in the previous 30 s (not logged one by one)");
      }
      unauthenticated_window_start_ = now;
      unauthenticated_lines_logged_ = 0;
      unauthenticated_lines_suppressed_ = 0;
    }
    if (unauthenticated_lines_logged_ < kMaxUnauthenticatedLinesPerWindow) {
      ++unauthenticated_lines_logged_;
      log(line + (unauthenticated_lines_logged_ == kMaxUnauthenticatedLinesPerWindow
                      ? " (further such lines in this 30 s window are only counted)"
                      : ""));
    } else {
      ++unauthenticated_lines_suppressed_;
    }
  }

  std::size_t index_of(const core::PublicKey& key) const {
    for (std::size_t i = 0; i < config_.validators.size(); ++i) {
      if (config_.validators[i].key == key) return i;
    }
    return kNoIndex;
  }
  std::size_t dialed_index(const std::shared_ptr<Connection>& connection) const {
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i]->dialing == connection) return i;
    }
    return kNoIndex;
  }
  std::size_t established_index(const std::shared_ptr<Connection>& connection) const {
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      if (peers_[i]->established == connection) return i;
    }
    return kNoIndex;
  }

  ConnectionLimits limits() const {
    return ConnectionLimits{config_.handshake_timeout_ms, config_.max_queued_frames_per_peer,
                            config_.max_queued_bytes_per_peer};
  }

  void adopt(std::size_t index, const std::shared_ptr<Connection>& connection) {
    Peer& peer = *peers_[index];
    if (auto old = std::move(peer.established)) {
      peer.established.reset();
      old->close(Status::error(ErrorCode::kConflict, "replaced by a newer link"));
      mark_down(index, "replaced by a newer link from " + connection->remote());
    }
    peer.established = connection;
    peer.backoff.reset();
    connected_[index].store(true, std::memory_order_release);
    connected_count_.fetch_add(1, std::memory_order_acq_rel);
    log("validator " + std::to_string(index) + " up (" + connection->remote() + ", key " +
        connection->peer_key().short_hex() + ")");
    if (callbacks_.on_peer_up) callbacks_.on_peer_up(index);
  }

  void mark_down(std::size_t index, const std::string& why) {
    connected_[index].store(false, std::memory_order_release);
    connected_count_.fetch_sub(1, std::memory_order_acq_rel);
    log("validator " + std::to_string(index) + " down: " + why);
    if (callbacks_.on_peer_down) callbacks_.on_peer_down(index);
  }

  void accept_next() {
    acceptor_.async_accept([self = shared_from_this()](const boost::system::error_code& error,
                                                       tcp::socket socket) {
      if (self->stopped_) return;
      if (error) {
        if (error == asio::error::operation_aborted) return;
        self->log(std::string("accept failed: ") + error.message());
        self->accept_retry_timer_.expires_after(std::chrono::milliseconds(kAcceptRetryMs));
        self->accept_retry_timer_.async_wait([self](const boost::system::error_code& wait_error) {
          if (!wait_error && !self->stopped_) self->accept_next();
        });
        return;
      }
      TransportCounters::bump(self->counters_->connections_accepted);
      if (self->pending_inbound_.size() >= self->config_.max_pending_inbound_handshakes) {
        // The oldest pending handshake makes room: a validator's completes in milliseconds,
        // so what has waited longest is most likely a connection that never will. Refusing the
        // new one instead let anyone who reaches the port keep every validator out with a few
        // connections per handshake timeout.
        TransportCounters::bump(self->counters_->inbound_over_limit);
        if (auto oldest = self->oldest_pending_inbound()) {
          self->pending_inbound_.erase(oldest);
          self->log_unauthenticated("inbound connection from " + oldest->remote() + " closed: " +
                                    std::to_string(self->config_.max_pending_inbound_handshakes) +
                                    " handshakes were pending (the limit) and it had waited longest");
          oldest->close(Status::error(ErrorCode::kOutOfBounds, "closed for a newer connection at the handshake limit"));
        }
      }
      auto connection = std::make_shared<Connection>(self->strand_, HandshakeRole::kResponder, self->identity_,
                                                     self->limits(), self->weak_from_this(), self->counters_);
      self->pending_inbound_.insert(connection);
      self->pending_order_.push_back(connection);
      if (self->pending_order_.size() > 2 * self->config_.max_pending_inbound_handshakes) {
        // Bounded: entries of connections no longer pending go once they could outnumber the rest.
        std::erase_if(self->pending_order_, [&](const std::weak_ptr<Connection>& entry) {
          const auto pending = entry.lock();
          return !pending || self->pending_inbound_.count(pending) == 0;
        });
      }
      connection->start_inbound(std::move(socket));
      self->accept_next();
    });
  }

  // The pending inbound connection accepted first, or null; entries passed over leave the order.
  std::shared_ptr<Connection> oldest_pending_inbound() {
    while (!pending_order_.empty()) {
      auto candidate = pending_order_.front().lock();
      pending_order_.pop_front();
      if (candidate && pending_inbound_.count(candidate) > 0) return candidate;
    }
    return nullptr;
  }

  void dial(std::size_t index) {
    Peer& peer = *peers_[index];
    if (stopped_ || peer.established || peer.dialing) return;
    if (peer.address.host.empty() || peer.address.port == 0) {
      log("validator " + std::to_string(index) + " has no address; not dialing");
      return;
    }
    auto endpoint = to_endpoint(peer.address);
    if (!endpoint) {
      log("validator " + std::to_string(index) + ": " + endpoint.status().message());
      return;
    }
    TransportCounters::bump(counters_->connections_dialed);
    peer.dialing = std::make_shared<Connection>(strand_, HandshakeRole::kInitiator, identity_,
                                                limits(), weak_from_this(), counters_);
    peer.dialing->start_outbound(*endpoint);
  }

  void schedule_reconnect(std::size_t index) {
    Peer& peer = *peers_[index];
    if (stopped_ || peer.reconnect_pending) return;
    const std::uint32_t delay_ms = peer.backoff.next_delay_ms();
    // Jitter (up to a quarter) so that peers restarted together do not dial in lockstep.
    const std::uint32_t jitter_ms = randombytes_uniform(delay_ms / 4 + 1);
    peer.reconnect_pending = true;
    peer.reconnect_timer.expires_after(
        std::chrono::milliseconds(std::uint64_t{delay_ms} + jitter_ms));
    peer.reconnect_timer.async_wait(
        [self = shared_from_this(), index](const boost::system::error_code& error) {
          self->peers_[index]->reconnect_pending = false;
          if (error || self->stopped_) return;
          self->dial(index);
        });
  }

  void do_stop() {
    if (stopped_) return;
    stopped_ = true;
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    accept_retry_timer_.cancel();
    for (std::size_t i = 0; i < peers_.size(); ++i) {
      Peer& peer = *peers_[i];
      peer.reconnect_timer.cancel();
      const Status reason = Status::error(ErrorCode::kIoError, "transport stopped");
      if (peer.established) peer.established->close(reason);
      if (peer.dialing) peer.dialing->close(reason);
      peer.established.reset();
      peer.dialing.reset();
      connected_[i].store(false, std::memory_order_release);
    }
    connected_count_.store(0, std::memory_order_release);
    for (const auto& connection : pending_inbound_) {
      connection->close(Status::error(ErrorCode::kIoError, "transport stopped"));
    }
    pending_inbound_.clear();
  }

  Connection::Strand strand_;
  PeerManagerConfig config_;
  PeerCallbacks callbacks_;
  std::shared_ptr<const HandshakeIdentity> identity_;
  std::shared_ptr<TransportCounters> counters_;
  std::size_t self_index_ = kNoIndex;
  tcp::acceptor acceptor_;
  asio::steady_timer accept_retry_timer_;
  std::uint16_t listen_port_ = 0;
  std::vector<std::unique_ptr<Peer>> peers_;
  std::set<std::shared_ptr<Connection>> pending_inbound_;
  // Inbound connections in the order they were accepted (some no longer pending), for evicting
  // the oldest pending one at the limit. At most 2 * max_pending_inbound_handshakes + 1 entries.
  std::deque<std::weak_ptr<Connection>> pending_order_;
  std::chrono::steady_clock::time_point unauthenticated_window_start_{};  // on the strand
  std::size_t unauthenticated_lines_logged_ = 0;                          // in this window
  std::uint64_t unauthenticated_lines_suppressed_ = 0;                    // in this window
  std::unique_ptr<std::atomic<bool>[]> connected_;
  std::atomic<std::size_t> connected_count_{0};
  bool listening_ = false;
  std::atomic<bool> started_{false};
  std::mutex stop_mutex_;
  std::shared_future<void> stop_done_;  // guarded by stop_mutex_
  bool stopped_ = false;                // on the strand
};

PeerManager::PeerManager(asio::io_context& io, PeerManagerConfig config, PeerCallbacks callbacks)
    : impl_(std::make_shared<Impl>(io, std::move(config), std::move(callbacks))) {}

PeerManager::~PeerManager() {
  if (impl_->started()) impl_->stop();
}

Status PeerManager::listen() { return impl_->listen(); }
std::uint16_t PeerManager::listen_port() const { return impl_->listen_port(); }
void PeerManager::set_peer_address(std::size_t peer_index, PeerAddress address) {
  impl_->set_peer_address(peer_index, std::move(address));
}
Status PeerManager::start() { return impl_->start(); }
void PeerManager::stop() { impl_->stop(); }
std::size_t PeerManager::self_index() const { return impl_->self_index(); }
std::size_t PeerManager::validator_count() const { return impl_->validator_count(); }
void PeerManager::send(std::size_t peer_index, Bytes message) {
  impl_->send(peer_index, std::move(message));
}
void PeerManager::broadcast(Bytes message) { impl_->broadcast(std::move(message)); }
bool PeerManager::is_connected(std::size_t peer_index) const {
  return impl_->is_connected(peer_index);
}
std::size_t PeerManager::connected_count() const { return impl_->connected_count(); }
TransportStats PeerManager::stats() const { return impl_->stats(); }

}  // namespace carbon::node::p2p
