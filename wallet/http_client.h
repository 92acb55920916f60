// A minimal blocking HTTP/1.1 client for the wallet's calls to a node's RPC.
//
// Thread safety: one call at a time per client object.
#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace carbon::wallet {

struct HttpReply {
  unsigned status = 0;
  std::string body;
};

class NodeClient {
 public:
  // url: "http://host:port" (https is not supported: the RPC listens on loopback by default).
  static core::Result<NodeClient> parse(const std::string& url);
  core::Result<HttpReply> get(const std::string& target) const;
  core::Result<HttpReply> post(const std::string& target, const std::string& json_body) const;
  const std::string& url() const { return url_; }

 private:
  core::Result<HttpReply> request(const std::string& method, const std::string& target, const std::string& body) const;
  std::string url_;
  std::string host_;
  std::string port_;
};

}  // namespace carbon::wallet
