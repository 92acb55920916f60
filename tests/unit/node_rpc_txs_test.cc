// POST /txs's in-place body reader and answer writer (node/rpc_txs.h) against nlohmann::json,
// which they stand in for: whatever the reader accepts, the JSON parser reads as the same
// entries; and the answers are the same text the library would write.
#include "node/rpc_query.h"
#include "node/rpc_txs.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace carbon::node {
namespace {

// The entries as nlohmann::json reads the body, or nullopt when it is not {"txs": [strings]}.
std::optional<std::vector<std::string>> parsed_by_library(const std::string& body) {
  const auto doc = nlohmann::json::parse(body, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || doc.size() != 1 || !doc.contains("txs") || !doc["txs"].is_array()) {
    return std::nullopt;
  }
  std::vector<std::string> out;
  for (const auto& item : doc["txs"]) {
    if (!item.is_string()) return std::nullopt;
    out.push_back(item.get<std::string>());
  }
  return out;
}

TEST(RpcTxsBody, UsualBodiesAreReadInPlaceAsTheJsonParserReadsThem) {
  const std::vector<std::string> bodies = {
      R"({"txs":[]})",
      R"({"txs":["00ff"]})",
      R"({"txs":["0a0b","0c","zz-not-hex"]})",
      " \n{ \"txs\" :\t[ \"ab\" ,\r\n \"cd\" ] } \n",
      R"({"txs":[""]})",
  };
  for (const auto& body : bodies) {
    const auto mine = read_simple_txs_body(body);
    ASSERT_TRUE(mine.has_value()) << body;
    const auto theirs = parsed_by_library(body);
    ASSERT_TRUE(theirs.has_value()) << body;
    ASSERT_EQ(mine->size(), theirs->size()) << body;
    for (std::size_t i = 0; i < mine->size(); ++i) EXPECT_EQ(std::string((*mine)[i]), (*theirs)[i]) << body;
  }
}

TEST(RpcTxsBody, AnythingElseIsLeftToTheJsonParser) {
  // Valid JSON of another shape, strings the in-place reader does not read (escapes, non-ASCII,
  // control characters), and malformed bodies: all nullopt, so the parser's verdict stands.
  const std::vector<std::string> bodies = {
      "",
      "{}",
      "[]",
      R"({"txs":"ab"})",
      R"({"txs":[1]})",
      R"({"txs":[null]})",
      R"({"txs":["ab",]})",
      R"({"txs":["ab"],})",
      R"({"txs":["ab"]} x)",
      R"({"txs":["ab"],"txs":["cd"]})",
      R"({"txs":["ab"],"more":1})",
      R"({"tx":["ab"]})",
      R"({"txs":["a\"b"]})",
      R"({"txs":["\u0041"]})",
      "{\"txs\":[\"caf\xc3\xa9\"]}",
      "{\"txs\":[\"a\tb\"]}",
      "{\"txs\":[\"a\x7f\"]}",
      R"({"txs":["ab")",
      R"({"txs":["ab"])",
      R"({"txs":["ab)",
      std::string(R"({"txs":["ab"]})") + std::string(1, '\0'),
  };
  for (const auto& body : bodies) EXPECT_FALSE(read_simple_txs_body(body).has_value()) << body;
}

TEST(RpcTxsBody, AnswersAreTheTextTheJsonLibraryWrites) {
  core::Hash256 id;
  for (std::size_t i = 0; i < id.bytes.size(); ++i) id.bytes[i] = static_cast<std::uint8_t>(i * 7);
  const Admission accepted{id, core::Status::ok()};
  EXPECT_EQ(admission_json_text(accepted),
            nlohmann::json({{"tx_id", id.to_hex()}, {"status", "pending"}}).dump());
  const Admission refused{id, core::Status::error(core::ErrorCode::kConflict, "nonce 3 \"already\" used\n")};
  const auto refused_text = nlohmann::json::parse(admission_json_text(refused));
  EXPECT_EQ(refused_text["tx_id"], id.to_hex());
  EXPECT_EQ(refused_text["error"]["message"], "nonce 3 \"already\" used\n");
  const Admission unknown_id{core::Hash256{}, core::Status::error(core::ErrorCode::kDecodeError, "bad")};
  EXPECT_FALSE(nlohmann::json::parse(admission_json_text(unknown_id)).contains("tx_id"));

  const std::vector<std::string> results = {admission_json_text(accepted),
                                           nlohmann::json({{"error", {{"code", "bad_hex"}, {"message", "x"}}}}).dump()};
  std::vector<nlohmann::json> as_json;
  for (const auto& result : results) as_json.push_back(nlohmann::json::parse(result));
  EXPECT_EQ(results_json_text(results), nlohmann::json({{"results", as_json}}).dump());
  EXPECT_EQ(results_json_text({}), nlohmann::json({{"results", std::vector<nlohmann::json>{}}}).dump());
}

TEST(RpcQuery, ParametersArePercentDecodedAndCheckedWhole) {
  auto parsed = rpcq::parse_query("limit=%31%30&from=5", {"limit", "from"});
  ASSERT_TRUE(parsed.is_ok()) << parsed.status().to_string();
  EXPECT_EQ(parsed->at("limit"), "10");
  EXPECT_EQ(parsed->at("from"), "5");
  EXPECT_EQ(rpcq::parse_query("%6cimit=1", {"limit"})->at("limit"), "1");  // the name too
  EXPECT_EQ(rpcq::parse_query("limit=1+2", {"limit"})->at("limit"), "1+2");  // '+' is not a space here
  for (const char* bad : {"limit=%3", "limit=%zz", "limit=1%", "li%mit=1"}) {
    auto refused = rpcq::parse_query(bad, {"limit"});
    ASSERT_FALSE(refused.is_ok()) << bad;
    EXPECT_NE(refused.status().message().find("percent-escape"), std::string::npos) << refused.status().message();
  }
  EXPECT_NE(rpcq::parse_query("limit=1&limit=%32", {"limit"}).status().message().find("given twice"), std::string::npos);
  EXPECT_NE(rpcq::parse_query("lim%69t=1", {"from"}).status().message().find("unknown query parameter 'limit'"),
            std::string::npos);
}

}  // namespace
}  // namespace carbon::node
