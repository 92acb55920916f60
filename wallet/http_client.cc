#include "wallet/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <sys/socket.h>
#include <sys/time.h>

#include "wallet/amounts.h"

namespace carbon::wallet {

namespace beast = boost::beast;
namespace http = beast::http;
using tcp = boost::asio::ip::tcp;

constexpr auto kRequestTimeout = std::chrono::seconds(15);
constexpr std::uint64_t kMaxReplyBytes = 8 * 1024 * 1024;

core::Result<NodeClient> NodeClient::parse(const std::string& url) {
  const std::string scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    return core::Status::error(core::ErrorCode::kInvalidArgument, "--node must look like http://127.0.0.1:8101, got '" + url + "'");
  }
  std::string rest = url.substr(scheme.size());
  if (auto slash = rest.find('/'); slash != std::string::npos) {
    // The RPC lives at the root: a path would be ignored, and the user would not know it.
    if (slash + 1 != rest.size()) {
      return core::Status::error(core::ErrorCode::kInvalidArgument,
                                 "--node is the node's address only, like http://127.0.0.1:8101 (no path), got '" + url + "'");
    }
    rest = rest.substr(0, slash);
  }
  NodeClient client;
  client.url_ = url;
  if (!rest.empty() && rest.front() == '[') {
    // An IPv6 literal: http://[::1]:8101 (RFC 3986).
    const auto close = rest.find(']');
    if (close == std::string::npos || (close + 1 != rest.size() && rest[close + 1] != ':')) {
      return core::Status::error(core::ErrorCode::kInvalidArgument, "--node must look like http://[::1]:8101, got '" + url + "'");
    }
    client.host_ = rest.substr(1, close - 1);
    client.port_ = close + 1 == rest.size() ? "80" : rest.substr(close + 2);
  } else {
    const auto colon = rest.rfind(':');
    client.host_ = colon == std::string::npos ? rest : rest.substr(0, colon);
    client.port_ = colon == std::string::npos ? "80" : rest.substr(colon + 1);
    if (client.host_.find(':') != std::string::npos) {
      return core::Status::error(core::ErrorCode::kInvalidArgument,
                                 "--node: an IPv6 address goes in brackets, like http://[::1]:8101, got '" + url + "'");
    }
  }
  if (client.host_.empty() || client.port_.empty()) {
    return core::Status::error(core::ErrorCode::kInvalidArgument, "--node must look like http://127.0.0.1:8101");
  }
  // Decimal 1..65535: the resolver would read "73636" as 73636 mod 65536 (8100) and reach
  // another port than the one given.
  const auto port = parse_whole(client.port_);
  if (!port || *port == 0 || *port > 65535) {
    return core::Status::error(core::ErrorCode::kInvalidArgument,
                               "--node port '" + client.port_ + "' is not a port number (1..65535)");
  }
  return client;
}

core::Result<HttpReply> NodeClient::get(const std::string& target) const { return request("GET", target, ""); }
core::Result<HttpReply> NodeClient::post(const std::string& target, const std::string& json_body) const {
  return request("POST", target, json_body);
}

core::Result<HttpReply> NodeClient::request(const std::string& method, const std::string& target,
                                            const std::string& body) const {
  boost::asio::io_context io;
  beast::tcp_stream stream(io);
  beast::error_code error;
  tcp::resolver resolver(io);
  const auto endpoints = resolver.resolve(host_, port_, error);
  if (error) return core::Status::error(core::ErrorCode::kIoError, "cannot resolve " + url_ + ": " + error.message());
  stream.expires_after(kRequestTimeout);  // bounds the connect (asynchronous inside Beast)
  stream.connect(endpoints, error);
  if (error) {
    return core::Status::error(core::ErrorCode::kIoError,
                               "node unreachable at " + url_ + " (" + error.message() + "); is it running?");
  }
  // Blocking reads and writes ignore the stream's expiry: bound them at the socket.
  const timeval timeout{static_cast<time_t>(kRequestTimeout.count()), 0};
  ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  ::setsockopt(stream.socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  http::request<http::string_body> req(method == "POST" ? http::verb::post : http::verb::get, target, 11);
  // RFC 9110: an IPv6 literal goes in brackets in Host, as in the URL.
  req.set(http::field::host, host_.find(':') != std::string::npos ? "[" + host_ + "]" : host_);
  req.set(http::field::user_agent, "carbon-wallet");
  if (!body.empty()) {
    req.set(http::field::content_type, "application/json");
    req.body() = body;
  }
  req.prepare_payload();
  beast::error_code write_error;
  http::write(stream, req, write_error);
  // Even if sending failed, the node may have answered first (e.g. 413 for a body over its
  // limit, before closing): read what it said.
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxReplyBytes);
  http::read(stream, buffer, parser, error);
  if (error && write_error) {
    return core::Status::error(core::ErrorCode::kIoError, "cannot send to " + url_ + ": " + write_error.message());
  }
  if (error) return core::Status::error(core::ErrorCode::kIoError, "no answer from " + url_ + ": " + error.message());
  stream.socket().shutdown(tcp::socket::shutdown_both, error);
  return HttpReply{parser.get().result_int(), parser.get().body()};
}

}  // namespace carbon::wallet
