#include "node/http_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <algorithm>
#include <chrono>
#include <limits>
#include <mutex>
#include <optional>

namespace carbon::node {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const HttpHandler> handler, std::shared_ptr<std::atomic<std::size_t>> open)
      : stream_(std::move(socket)), handler_(std::move(handler)), open_(std::move(open)) {}
  ~Session() { open_->fetch_sub(1); }

  void run() { read(); }

  // Since when this connection has waited for a request to arrive whole (0: it is being
  // answered). Read from the accepting thread to pick a connection to evict.
  std::int64_t waiting_since_ms() const { return waiting_since_ms_.load(std::memory_order_relaxed); }

  // Claims this connection for eviction if it still waits since `since`: a claimed one is never
  // picked again, and one whose request arrived meanwhile is left alone.
  bool claim_for_eviction(std::int64_t since) {
    return waiting_since_ms_.compare_exchange_strong(since, kEvicted, std::memory_order_relaxed);
  }

  // Closes a claimed connection (on its own strand): the pending read ends and the session with
  // it. If its request arrived first (on_read took the claim back), it is answered instead.
  void evict() {
    boost::asio::post(stream_.get_executor(), [self = shared_from_this()] {
      if (self->waiting_since_ms_.load(std::memory_order_relaxed) != kEvicted) return;
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
      self->stream_.socket().close(ignored);
    });
  }

  static constexpr std::int64_t kEvicted = -1;

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(HttpServer::kMaxRequestBodyBytes);
    stream_.expires_after(kIdleTimeout);
    waiting_since_ms_.store(now_ms(), std::memory_order_relaxed);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
  }

  void on_read(beast::error_code error) {
    // 0: being answered. A claim for eviction that lost the race to this read is taken back.
    waiting_since_ms_.store(0, std::memory_order_relaxed);
    if (error == http::error::end_of_stream) {
      close();
      return;
    }
    HttpResponse reply;
    bool keep_alive = false;
    bool head = false;
    if (error) {
      if (error == http::error::body_limit || error == http::error::header_limit) {
        reply = {413, R"({"error":{"code":"too_large","message":"request too large"}})"};
      } else if (error.category() == http::make_error_code(http::error::bad_method).category() &&
                 error != http::error::partial_message) {
        // The parser refused what arrived (a bad request line, header or length): the client
        // gets a 400 saying so, then the connection closes (the stream cannot be resynchronised).
        // Beast's messages are fixed strings ("bad method"), safe to put in JSON as they are.
        reply = {400, R"({"error":{"code":"bad_request","message":"malformed HTTP request: )" + error.message() + R"("}})"};
      } else {
        close();  // the peer went away, timed out, or the connection failed
        return;
      }
    } else {
      const auto& request = parser_->get();
      keep_alive = request.keep_alive();
      head = request.method() == http::verb::head;
      // HEAD is answered as GET would be, without the body (RFC 9110 9.3.2).
      HttpRequest req{head ? std::string("GET") : std::string(request.method_string()), std::string(request.target()),
                      request.body()};
      try {
        reply = (*handler_)(req);
      } catch (const std::exception&) {
        // A handler's bug must cost this request only: an exception leaving io_context::run()
        // would end the whole node.
        reply = {500, R"({"error":{"code":"internal","message":"internal error while answering this request"}})"};
      }
    }
    if (head) {
      // The header GET would have sent, Content-Length included, and no body: a keep-alive
      // client must not read a body as the start of its next reply.
      auto response = std::make_shared<http::response<http::empty_body>>();
      response->content_length(reply.body.size());
      send(response, reply, keep_alive);
      return;
    }
    auto response = std::make_shared<http::response<http::string_body>>();
    response->body() = std::move(reply.body);
    response->prepare_payload();
    send(response, reply, keep_alive);
  }

  // Sets what every answer carries (status, server, content type, keep-alive) and writes it.
  template <class Response>
  void send(const std::shared_ptr<Response>& response, const HttpResponse& reply, bool keep_alive) {
    response->version(11);
    response->result(http::status(reply.status));
    response->set(http::field::server, "carbon-node");
    response->set(http::field::content_type, reply.content_type);
    response->keep_alive(keep_alive);
    stream_.expires_after(kIdleTimeout);
    http::async_write(stream_, *response,
                      [self = shared_from_this(), response, keep_alive](beast::error_code write_error, std::size_t) {
                        if (write_error || !keep_alive) {
                          self->close();
                          return;
                        }
                        self->read();
                      });
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::shared_ptr<const HttpHandler> handler_;  // shared: a session may outlive the server
  std::shared_ptr<std::atomic<std::size_t>> open_;
  std::atomic<std::int64_t> waiting_since_ms_{0};
};

namespace {
// A connection is evicted for a new one only after waiting this long for its request: a client
// that has just connected is about to send.
constexpr std::int64_t kMinWaitBeforeEviction_ms = 1000;
}  // namespace

HttpServer::HttpServer(boost::asio::io_context& io, HttpHandler handler)
    : io_(io),
      handler_(std::make_shared<const HttpHandler>(std::move(handler))),
      acceptor_(io),
      open_connections_(std::make_shared<std::atomic<std::size_t>>(0)) {}

HttpServer::~HttpServer() {
  // By now the io_context no longer runs our handlers: close directly.
  beast::error_code ignored;
  acceptor_.close(ignored);
}

core::Status HttpServer::start(const std::string& host, std::uint16_t port) {
  beast::error_code error;
  const auto address = boost::asio::ip::make_address(host, error);
  if (error) return core::Status::error(core::ErrorCode::kInvalidArgument, "bad RPC address '" + host + "'");
  const tcp::endpoint endpoint(address, port);
  acceptor_.open(endpoint.protocol(), error);
  if (!error) acceptor_.set_option(boost::asio::socket_base::reuse_address(true), error);
  if (!error) acceptor_.bind(endpoint, error);
  if (!error) acceptor_.listen(boost::asio::socket_base::max_listen_connections, error);
  if (error) {
    return core::Status::error(core::ErrorCode::kIoError,
                               "cannot listen for RPC on " + host + ":" + std::to_string(port) + ": " + error.message());
  }
  port_ = acceptor_.local_endpoint().port();
  accept();
  return core::Status::ok();
}

void HttpServer::stop() {
  // Closed on the io_context, not racing an accept handler that may be re-arming it.
  boost::asio::post(acceptor_.get_executor(), [this] {
    beast::error_code ignored;
    acceptor_.close(ignored);
  });
}

void HttpServer::accept() {
  acceptor_.async_accept(boost::asio::make_strand(io_), [this](beast::error_code error, tcp::socket socket) {
    if (error == boost::asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (error) {
      // Out of file descriptors, most likely: wait a little instead of spinning on accept.
      auto timer = std::make_shared<boost::asio::steady_timer>(io_, std::chrono::milliseconds(100));
      timer->async_wait([this, timer](const beast::error_code&) {
        if (acceptor_.is_open()) accept();
      });
      return;
    }
    if (open_connections_->fetch_add(1) >= kMaxConnections && !evict_longest_waiting()) {
      // Every connection is busy, or waited too briefly to be idle: refuse the new one.
      open_connections_->fetch_sub(1);
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      auto session = std::make_shared<Session>(std::move(socket), handler_, open_connections_);
      {
        std::lock_guard lock(sessions_mutex_);
        // Bounded: the entries of sessions gone are dropped once they could outnumber the live.
        if (sessions_.size() >= 2 * (kMaxConnections + kMaxEvictionsInFlight)) {
          std::erase_if(sessions_, [](const std::weak_ptr<Session>& entry) { return entry.expired(); });
        }
        sessions_.push_back(session);
      }
      session->run();
    }
    accept();
  });
}

bool HttpServer::evict_longest_waiting() {
  // Bounded: past kMaxConnections + kMaxEvictionsInFlight the new connection is refused even if
  // some wait, until the evicted ones are gone.
  if (open_connections_->load() > kMaxConnections + kMaxEvictionsInFlight) return false;
  std::lock_guard lock(sessions_mutex_);
  std::shared_ptr<Session> oldest;
  std::int64_t oldest_since = std::numeric_limits<std::int64_t>::max();
  // At most kMaxConnections + kMaxEvictionsInFlight live entries, plus those of sessions gone,
  // dropped here as they are met.
  std::erase_if(sessions_, [&](const std::weak_ptr<Session>& entry) {
    auto session = entry.lock();
    if (!session) return true;
    const std::int64_t since = session->waiting_since_ms();
    if (since > 0 && since < oldest_since) {  // not being answered, not already claimed
      oldest_since = since;
      oldest = std::move(session);
    }
    return false;
  });
  if (!oldest || now_ms() - oldest_since < kMinWaitBeforeEviction_ms) return false;
  if (!oldest->claim_for_eviction(oldest_since)) return false;  // its request arrived just now
  oldest->evict();
  return true;
}

}  // namespace carbon::node
