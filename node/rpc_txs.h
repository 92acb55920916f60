// POST /txs, the batch submission: reading the body and writing the answer.
//
// Why not only nlohmann::json: under load a validator answers a batch of 500 transactions
// every few milliseconds, and a JSON document of the body and of 500 results (each a map with
// two strings) was several per cent of its io threads' CPU. The usual body,
// {"txs":["<hex>",...]}, is read in place here, and every answer is written out directly; any
// other body, valid JSON or not, goes to the JSON parser (route() in node/main.cc), so that
// what is accepted and every error message stay the same.
//
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "node/app.h"

namespace carbon::node {

// The entries of a body of exactly the shape {"txs": ["...", ...]} (JSON whitespace between
// tokens allowed), as views into `body`, when every entry is a string of printable ASCII
// without escapes, which is the only kind of string JSON reads as itself; nullopt for any
// other body (it may still be valid JSON: the caller parses it as such).
std::optional<std::vector<std::string_view>> read_simple_txs_body(std::string_view body);

// The answer for one submitted entry, as nlohmann::json would write it: {"status":"pending",
// "tx_id":...} or {"error":{"code","message"}} with the tx_id when known. (An entry refused before
// admission, not hex, answers rpcq::error_answer's text, node/rpc_query.h.)
std::string admission_json_text(const Admission& admission);
// {"results":[...]} from the entries' answers, in order.
std::string results_json_text(const std::vector<std::string>& results);

}  // namespace carbon::node
