// Small helpers shared by the read-only RPC endpoints (node/rpc_registry.cc, node/rpc_market.cc):
// JSON error answers {"error": {"code", "message"}}, path splitting, strict number and address
// parsing, and the query string (?limit=N&open=1...) with a fixed set of accepted names per
// endpoint, so that a typo is refused rather than silently ignored.
//
// Thread safety: pure functions.
#pragma once

#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "consensus/types.h"
#include "core/bytes.h"
#include "core/keys.h"
#include "core/status.h"

namespace carbon::node::rpcq {

using json = nlohmann::json;
using Answer = std::pair<unsigned, std::string>;

// JSON text for an answer. Strings that are not valid UTF-8 (the bytes of a request path or a
// field name a client sent) become U+FFFD instead of throwing, which would end the process.
inline std::string json_text(const json& value) { return value.dump(-1, ' ', false, json::error_handler_t::replace); }

inline Answer error_answer(unsigned status, const std::string& code, const std::string& message) {
  return {status, json_text(json{{"error", {{"code", code}, {"message", message}}}})};
}
inline Answer bad_request(const std::string& message) {
  return error_answer(400, "bad_request", message);
}
inline Answer not_found(const std::string& message) {
  return error_answer(404, "not_found", message);
}
inline Answer from_status(const core::Status& status) {
  switch (status.code()) {
    case core::ErrorCode::kNotFound:
      return not_found(status.message());
    case core::ErrorCode::kInvalidArgument:
      return bad_request(status.message());
    default:
      return error_answer(500, "internal", status.message());
  }
}
// The answer with the height it is about.
inline Answer ok(json body, consensus::Height height) {
  body["height"] = height;
  return {200, json_text(body)};
}

// "/a/b/c" -> {"a", "b", "c"}; "/" -> {""}.
inline std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t at = 1;  // after the leading '/'
  while (at <= path.size()) {
    const std::size_t slash = path.find('/', at);
    const std::size_t end = slash == std::string::npos ? path.size() : slash;
    parts.push_back(path.substr(at, end - at));
    if (slash == std::string::npos) break;
    at = slash + 1;
  }
  return parts;
}

// A whole decimal number (no sign, no spaces, no trailing text).
template <class T>
std::optional<T> parse_number(const std::string& text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

inline core::Result<core::PublicKey> parse_address(const std::string& text) {
  auto key = core::PublicKey::from_hex(text);
  if (!key) {
    return core::Status::error(core::ErrorCode::kInvalidArgument,
                               "an address is the 64-hex-character public key, not '" + text + "'");
  }
  return *key;
}

// RFC 3986 percent-decoding ("%31" -> "1"; '+' stays '+'); nullopt for a '%' not followed by
// two hex digits.
inline std::optional<std::string> percent_decode(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '%') {
      out += text[i];
      continue;
    }
    if (i + 2 >= text.size()) return std::nullopt;
    auto byte = core::from_hex(std::string_view(text).substr(i + 1, 2));
    if (!byte) return std::nullopt;
    out += static_cast<char>(byte->front());
    i += 2;
  }
  return out;
}

// The query string as name -> value (percent-decoded); only `allowed` names, each at most once.
inline core::Result<std::map<std::string, std::string>> parse_query(
    const std::string& query, const std::set<std::string>& allowed) {
  std::map<std::string, std::string> out;
  if (query.empty()) return out;
  const auto known = [&] {
    if (allowed.empty()) return std::string("this endpoint takes no query parameters");
    std::string list;
    for (const auto& name : allowed) list += (list.empty() ? "" : ", ") + name;
    return "the query parameters here are " + list;
  };
  std::size_t at = 0;
  while (at <= query.size()) {
    const std::size_t amp = query.find('&', at);
    const std::string item =
        query.substr(at, amp == std::string::npos ? std::string::npos : amp - at);
    const std::size_t eq = item.find('=');
    const auto decoded_name = percent_decode(item.substr(0, eq));
    const auto decoded_value = eq == std::string::npos ? std::optional<std::string>("") : percent_decode(item.substr(eq + 1));
    if (!decoded_name || !decoded_value) {
      return core::Status::error(core::ErrorCode::kInvalidArgument,
                                 "bad percent-escape in the query: a '%' must be followed by two hex digits");
    }
    const std::string& name = *decoded_name;
    if (!allowed.contains(name)) {
      return core::Status::error(core::ErrorCode::kInvalidArgument,
                                 "unknown query parameter '" + name + "': " + known());
    }
    if (eq == std::string::npos) {
      return core::Status::error(core::ErrorCode::kInvalidArgument,
                                 "query parameter '" + name + "' needs a value (" + name + "=...)");
    }
    if (!out.emplace(name, *decoded_value).second) {
      return core::Status::error(core::ErrorCode::kInvalidArgument,
                                 "query parameter '" + name + "' is given twice");
    }
    if (amp == std::string::npos) break;
    at = amp + 1;
  }
  return out;
}

// A number parameter in [low, high], or `fallback` when absent.
inline core::Result<std::uint64_t> number_param(const std::map<std::string, std::string>& params,
                                                const std::string& name, std::uint64_t low,
                                                std::uint64_t high, std::uint64_t fallback) {
  auto it = params.find(name);
  if (it == params.end()) return fallback;
  auto value = parse_number<std::uint64_t>(it->second);
  if (!value || *value < low || *value > high) {
    return core::Status::error(core::ErrorCode::kInvalidArgument,
                               name + " must be a number in " + std::to_string(low) + ".." +
                                   std::to_string(high) + ", not '" + it->second + "'");
  }
  return *value;
}

// A flag parameter: 1/true or 0/false; `fallback` when absent.
inline core::Result<bool> flag_param(const std::map<std::string, std::string>& params,
                                     const std::string& name, bool fallback) {
  auto it = params.find(name);
  if (it == params.end()) return fallback;
  if (it->second == "1" || it->second == "true") return true;
  if (it->second == "0" || it->second == "false") return false;
  return core::Status::error(core::ErrorCode::kInvalidArgument,
                             name + " must be 1 or 0, not '" + it->second + "'");
}

}  // namespace carbon::node::rpcq
