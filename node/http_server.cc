#include "node/http_server.h"

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <optional>

namespace carbon::node {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr auto kIdleTimeout = std::chrono::seconds(30);
constexpr std::uint32_t kMaxHeaderBytes = 8 * 1024;

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, std::shared_ptr<const HttpHandler> handler, std::shared_ptr<std::atomic<std::size_t>> open)
      : stream_(std::move(socket)), handler_(std::move(handler)), open_(std::move(open)) {}
  ~Session() { open_->fetch_sub(1); }

  void run() { read(); }

 private:
  void read() {
    parser_.emplace();
    parser_->header_limit(kMaxHeaderBytes);
    parser_->body_limit(HttpServer::kMaxRequestBodyBytes);
    stream_.expires_after(kIdleTimeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code error, std::size_t) { self->on_read(error); });
  }

  void on_read(beast::error_code error) {
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
      auto response = std::make_shared<http::response<http::empty_body>>(http::status(reply.status), 11);
      response->set(http::field::server, "carbon-node");
      response->set(http::field::content_type, reply.content_type);
      response->keep_alive(keep_alive);
      response->content_length(reply.body.size());
      send(response, keep_alive);
      return;
    }
    auto response = std::make_shared<http::response<http::string_body>>(http::status(reply.status), 11);
    response->set(http::field::server, "carbon-node");
    response->set(http::field::content_type, reply.content_type);
    response->keep_alive(keep_alive);
    response->body() = std::move(reply.body);
    response->prepare_payload();
    send(response, keep_alive);
  }

  template <class Response>
  void send(const std::shared_ptr<Response>& response, bool keep_alive) {
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
};

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
    {
      if (open_connections_->fetch_add(1) >= kMaxConnections) {
        open_connections_->fetch_sub(1);
        beast::error_code ignored;
        socket.close(ignored);
      } else {
        std::make_shared<Session>(std::move(socket), handler_, open_connections_)->run();
      }
    }
    accept();
  });
}

}  // namespace carbon::node
