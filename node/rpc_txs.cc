#include "node/rpc_txs.h"

#include <nlohmann/json.hpp>

#include "node/rpc_query.h"

namespace carbon::node {
namespace {

bool is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// A cursor over the body: each step skips the whitespace before its token.
class Reader {
 public:
  explicit Reader(std::string_view text) : text_(text) {}
  bool take(std::string_view token) {
    skip_space();
    if (text_.substr(at_, token.size()) != token) return false;
    at_ += token.size();
    return true;
  }
  bool peek(char c) {
    skip_space();
    return at_ < text_.size() && text_[at_] == c;
  }
  // A string whose every character is printable ASCII other than '"' and '\\' (JSON reads
  // such a string as exactly its characters); false for any other.
  bool take_plain_string(std::string_view& out) {
    if (!take("\"")) return false;
    const std::size_t start = at_;
    while (at_ < text_.size() && text_[at_] != '"') {
      const auto c = static_cast<unsigned char>(text_[at_]);
      if (c < 0x20 || c > 0x7E || c == '\\') return false;
      ++at_;
    }
    if (at_ == text_.size()) return false;
    out = text_.substr(start, at_ - start);
    ++at_;  // the closing quote
    return true;
  }
  bool at_end() {
    skip_space();
    return at_ == text_.size();
  }

 private:
  void skip_space() {
    while (at_ < text_.size() && is_json_space(text_[at_])) ++at_;
  }
  std::string_view text_;
  std::size_t at_ = 0;
};

}  // namespace

std::optional<std::vector<std::string_view>> read_simple_txs_body(std::string_view body) {
  Reader reader(body);
  std::vector<std::string_view> entries;
  if (!reader.take("{") || !reader.take("\"txs\"") || !reader.take(":") || !reader.take("[")) return std::nullopt;
  if (!reader.peek(']')) {
    // Bounded by the body's size: each entry takes at least three of its characters.
    for (;;) {
      std::string_view entry;
      if (!reader.take_plain_string(entry)) return std::nullopt;
      entries.push_back(entry);
      if (reader.take(",")) continue;
      break;
    }
  }
  if (!reader.take("]") || !reader.take("}") || !reader.at_end()) return std::nullopt;
  return entries;
}

std::string admission_json_text(const Admission& admission) {
  if (admission.status.is_ok()) {
    // Keys in nlohmann::json's (sorted) order.
    std::string out = R"({"status":"pending","tx_id":")";
    out += admission.tx_id.to_hex();
    out += "\"}";
    return out;
  }
  // Rare, and the message needs JSON escaping: written by the library.
  nlohmann::json out = {{"error",
                         {{"code", std::string(core::error_code_name(admission.status.code()))},
                          {"message", admission.status.message()}}}};
  if (!admission.tx_id.is_zero()) out["tx_id"] = admission.tx_id.to_hex();
  return rpcq::json_text(out);
}

std::string results_json_text(const std::vector<std::string>& results) {
  std::size_t size = 16;
  for (const auto& result : results) size += result.size() + 1;
  std::string out;
  out.reserve(size);
  out += "{\"results\":[";
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (i > 0) out += ',';
    out += results[i];
  }
  out += "]}";
  return out;
}

}  // namespace carbon::node
