// A small HTTP/1.1 server (Boost.Beast) for the node's JSON RPC.
//
// Bounds: request header 8 KiB, body kMaxRequestBodyBytes, kMaxConnections open at once (plus at
// most kMaxEvictionsInFlight while evicted ones close), 30 s for a request to arrive whole. A new
// connection beyond kMaxConnections takes the place of the one that has waited longest for a
// request (at least 1 s), so that idle or trickling connections do not lock clients out; if none
// has, it is closed at once.
// The handler runs on the io_context threads and must not block for long.
//
// Thread safety: start() before the io_context runs; stop() from any thread (it closes the
// acceptor on the io_context); destroy only after the io_context stopped running. The handler may
// be called concurrently from several io_context threads.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"

namespace carbon::node {

class Session;  // node/http_server.cc

struct HttpRequest {
  std::string method;  // "GET", "POST", ...
  std::string target;  // path and query, e.g. "/tx/ab12..."
  std::string body;
};

struct HttpResponse {
  unsigned status = 200;
  std::string body;  // JSON
  std::string content_type = "application/json";
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  static constexpr std::size_t kMaxRequestBodyBytes = 2 * 1024 * 1024;  // POST /txs batches
  static constexpr std::size_t kMaxConnections = 256;
  static constexpr std::size_t kMaxEvictionsInFlight = 16;

  HttpServer(boost::asio::io_context& io, HttpHandler handler);
  ~HttpServer();
  // Binds and listens; reports a clear error if the address is taken.
  core::Status start(const std::string& host, std::uint16_t port);
  void stop();
  std::uint16_t port() const { return port_; }

 private:
  void accept();
  // Closes the connection that has waited longest for a request, if it waited long enough;
  // true if one was.
  bool evict_longest_waiting();

  boost::asio::io_context& io_;
  std::shared_ptr<const HttpHandler> handler_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<std::atomic<std::size_t>> open_connections_;
  std::mutex sessions_mutex_;
  std::vector<std::weak_ptr<Session>> sessions_;  // guarded by sessions_mutex_
  std::uint16_t port_ = 0;
};

}  // namespace carbon::node
