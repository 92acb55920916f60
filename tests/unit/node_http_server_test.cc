// The RPC's HTTP server (node/http_server.h) on a real socket: what it answers to requests that
// are not HTTP, or not well-formed HTTP.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "node/http_server.h"

namespace carbon::node {
namespace {

using boost::asio::ip::tcp;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<HttpServer>(io_, [](const HttpRequest& request) {
      return HttpResponse{200, nlohmann::json{{"method", request.method}, {"target", request.target}}.dump()};
    });
    ASSERT_TRUE(server_->start("127.0.0.1", 0).is_ok());
    thread_ = std::thread([this] { io_.run(); });
  }
  void TearDown() override {
    server_->stop();
    io_.stop();
    thread_.join();
    server_.reset();
  }

  // Sends `bytes`, half-closes, and returns everything the server wrote back before closing.
  std::string exchange(const std::string& bytes) {
    boost::asio::io_context client_io;
    tcp::socket socket(client_io);
    socket.connect({boost::asio::ip::make_address("127.0.0.1"), server_->port()});
    boost::asio::write(socket, boost::asio::buffer(bytes));
    socket.shutdown(tcp::socket::shutdown_send);
    std::string answer;
    boost::system::error_code error;
    boost::asio::read(socket, boost::asio::dynamic_buffer(answer), error);  // until the server closes
    return answer;
  }

  boost::asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

// The status line and the JSON body of an HTTP/1.1 answer.
std::pair<std::string, nlohmann::json> parse(const std::string& answer) {
  const std::string status_line = answer.substr(0, answer.find("\r\n"));
  const auto body_at = answer.find("\r\n\r\n");
  if (body_at == std::string::npos) return {status_line, nullptr};
  return {status_line, nlohmann::json::parse(answer.substr(body_at + 4), nullptr, false)};
}

TEST_F(HttpServerTest, AnswersAWellFormedRequest) {
  const auto [status, body] = parse(exchange("GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  EXPECT_EQ(status, "HTTP/1.1 200 OK");
  EXPECT_EQ(body.value("target", ""), "/status");
}

TEST_F(HttpServerTest, MalformedRequestsGetA400InJson) {
  for (const std::string& bad : {
           std::string("GARBAGE\r\n\r\n"),
           std::string("POST /tx HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"),
           std::string("GET /status HTTP/9.9\r\n\r\n"),
           std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"),
           std::string("GET /status HTTP/1.1\r\nBad Header Name: x\r\n\r\n"),
           std::string("\x01\x02\x03\xff\r\n\r\n", 8),
       }) {
    const auto [status, body] = parse(exchange(bad));
    EXPECT_EQ(status, "HTTP/1.1 400 Bad Request") << bad;
    ASSERT_TRUE(body.is_object()) << bad;
    EXPECT_EQ(body["error"].value("code", ""), "bad_request") << body.dump();
    EXPECT_NE(body["error"].value("message", "").find("malformed HTTP request"), std::string::npos) << body.dump();
  }
  // The server lives on.
  EXPECT_EQ(parse(exchange("GET /x HTTP/1.1\r\nConnection: close\r\n\r\n")).first, "HTTP/1.1 200 OK");
}

TEST_F(HttpServerTest, AClientThatLeavesMidRequestGetsNothing) {
  EXPECT_EQ(exchange("POST /tx HTTP/1.1\r\nContent-Length: 100\r\n\r\nabc"), "");
  EXPECT_EQ(exchange(""), "");
}

TEST_F(HttpServerTest, HeadGetsTheHeaderOfGetAndNoBody) {
  // HEAD then GET on one keep-alive connection: the HEAD answer has GET's Content-Length but no
  // body, so the next bytes on the connection are the GET's status line.
  const std::string get_body = nlohmann::json{{"method", "GET"}, {"target", "/status"}}.dump();
  const std::string answer = exchange("HEAD /status HTTP/1.1\r\nHost: x\r\n\r\n"
                                      "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_EQ(answer.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << answer;
  const auto head_end = answer.find("\r\n\r\n");
  ASSERT_NE(head_end, std::string::npos);
  const std::string head_header = answer.substr(0, head_end);
  EXPECT_NE(head_header.find("Content-Length: " + std::to_string(get_body.size())), std::string::npos) << head_header;
  const std::string rest = answer.substr(head_end + 4);
  ASSERT_EQ(rest.rfind("HTTP/1.1 200 OK\r\n", 0), 0u) << "a body followed the HEAD answer: " << rest;
  EXPECT_EQ(parse(rest).second, nlohmann::json::parse(get_body));
}

// Idle connections up to the limit cannot lock clients out: a new one takes the place of the one
// that has waited longest for a request.
TEST_F(HttpServerTest, AnIdleConnectionMakesRoomForANewClient) {
  boost::asio::io_context client_io;
  std::vector<tcp::socket> idle;
  const tcp::endpoint server{boost::asio::ip::make_address("127.0.0.1"), server_->port()};
  for (std::size_t i = 0; i < HttpServer::kMaxConnections; ++i) {
    idle.emplace_back(client_io);
    idle.back().connect(server);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // idle long enough to give way
  EXPECT_EQ(parse(exchange("GET /status HTTP/1.1\r\nConnection: close\r\n\r\n")).first, "HTTP/1.1 200 OK");
  // The first idle connection (the longest waiting) was closed by the server (a read that would
  // wait gives up after 5 s instead of hanging the test).
  const timeval five_seconds{5, 0};
  ::setsockopt(idle.front().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &five_seconds, sizeof(five_seconds));
  boost::system::error_code error;
  char byte = 0;
  idle.front().read_some(boost::asio::buffer(&byte, 1), error);
  EXPECT_TRUE(error == boost::asio::error::eof || error == boost::asio::error::connection_reset) << error.message();
}

}  // namespace
}  // namespace carbon::node
