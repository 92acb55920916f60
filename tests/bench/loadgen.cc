// loadgen: end-to-end throughput and latency of a real 4-validator network on this machine.
//
// Starts 4 carbon-node processes (tests/integration/cluster.h), registers S senders and gives
// them allowances, pre-signs transfers, and then:
//   1. saturation: submits N transfers as fast as the RPC takes them (batches of 500 to all 4
//      nodes) and reports committed tx/s from first submission to last commit;
//   2. latency: submits at a fixed rate for a few seconds and reports p50/p99 submit-to-commit
//      latency (commit = first seen in a committed block on node 0, polled every 5 ms; submit =
//      the time the batch was due, so a node slow to answer pays for the batches it delayed);
// and prints every node's peak RSS (VmHWM). A program that prints figures, not a test.
//
//   loadgen [--txs N] [--senders S] [--rate TX_PER_S] [--seconds T] [--block-txs N] [--block-interval-ms N]
//           [--ordering-only | --orders]
// Environment: CARBON_NODE_BIN=/path/to/carbon-node runs that build of the node instead;
// CARBON_LOADGEN_KEEP=1 keeps the nodes' directories (data and node.log) for a look afterwards.
// --block-txs N: the validators' max_block_txs (default 2,000, as in a real network).
// --block-interval-ms N: the validators' min_block_interval_ms (default 40).
// --ordering-only: the nodes order opaque 100-byte items with no signatures and no execution
// (node config bench_ordering_only), which measures consensus and the node around it alone.
// --orders: instead of transfers, every transaction is a signed limit order on the exchange
// (one product, trading day open all day, every sender funded by the settlement bank):
// alternating buys and sells over 20 price levels of which 6 cross, 1-10 t each, so a large
// share of orders match and settle (delivery versus payment) in the transaction that places
// them. Afterwards a sample of receipts and the product's trade count are printed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <unordered_map>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "tests/integration/cluster.h"

namespace {

using namespace carbon;  // NOLINT(google-build-using-namespace): a benchmark program
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

std::uint64_t peak_rss_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("VmHWM:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10);
  }
  return 0;
}

// A /proc stat file (of a process or a thread): its command name, and the CPU time (user +
// system) used so far in microseconds; nullopt when it cannot be read (the task ended).
struct StatCpu {
  std::string name;
  std::uint64_t cpu_us = 0;
};
std::optional<StatCpu> read_stat_cpu(const std::filesystem::path& stat_path) {
  std::ifstream in(stat_path);
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Fields after the command name (which may hold spaces) start past its closing parenthesis;
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after it.
  const std::size_t open = stat.find('(');
  const std::size_t close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return std::nullopt;
  std::istringstream fields(stat.substr(close + 2));
  std::string field;
  std::uint64_t ticks = 0;
  for (int i = 1; i <= 13 && fields >> field; ++i) {
    if (i >= 12) ticks += std::strtoull(field.c_str(), nullptr, 10);
  }
  return StatCpu{stat.substr(open + 1, close - open - 1),
                 ticks * 1'000'000 / static_cast<std::uint64_t>(::sysconf(_SC_CLK_TCK))};
}

// CPU time (user + system) a process has used so far, in microseconds.
std::uint64_t cpu_us(pid_t pid) {
  const auto stat = read_stat_cpu("/proc/" + std::to_string(pid) + "/stat");
  return stat ? stat->cpu_us : 0;
}

// CPU time used so far by each thread of a process, summed per thread name (the node names its
// threads: carbon-io (the main thread too), carbon-verify, carbon-admit, carbon-exec, and
// carbon-compact for LevelDB's), in microseconds. Threads that ended in between are missed,
// which the node's long-lived pools make rare.
std::map<std::string, std::uint64_t> cpu_us_by_thread(pid_t pid) {
  std::map<std::string, std::uint64_t> by_name;
  const std::filesystem::path tasks = "/proc/" + std::to_string(pid) + "/task";
  std::error_code error;
  for (const auto& task : std::filesystem::directory_iterator(tasks, error)) {
    if (const auto stat = read_stat_cpu(task.path() / "stat")) by_name[stat->name] += stat->cpu_us;
  }
  return by_name;
}

// One keep-alive HTTP connection to a node, reopened when the node closes it. The load generator
// shares the 2 cores with the validators it measures: a new TCP connection per request (the
// wallet's way, fine for a person) cost the generator and the nodes together about 3% of the
// machine at 7,000 tx/s (connect, accept, close), as a frame-pointer profile showed.
class Connection {
 public:
  Connection(const testing::Cluster& cluster, std::size_t node) {
    const std::string url = cluster.rpc_url(node);  // http://127.0.0.1:PORT
    port_ = url.substr(url.rfind(':') + 1);
  }
  // The answer's status and body as received (0 and empty when there was none).
  std::pair<unsigned, std::string> request_text(boost::beast::http::verb method, const std::string& target,
                                                std::string body = "") {
    namespace http = boost::beast::http;
    for (int attempt = 0; attempt < 2; ++attempt) {
      boost::beast::error_code error;
      const bool reused = stream_.has_value();
      if (!stream_) {
        stream_.emplace(io_);
        boost::asio::ip::tcp::resolver resolver(io_);
        const auto endpoints = resolver.resolve("127.0.0.1", port_, error);
        stream_->expires_after(kTimeout);  // bounds the connect
        if (!error) stream_->connect(endpoints, error);
        if (error) {
          stream_.reset();
          return {0, std::string()};
        }
        // Blocking reads and writes ignore the stream's expiry: bound them at the socket, so that
        // a stalled node cannot hang the benchmark.
        const timeval timeout{static_cast<time_t>(kTimeout.count()), 0};
        ::setsockopt(stream_->socket().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        ::setsockopt(stream_->socket().native_handle(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
      }
      http::request<http::string_body> req(method, target, 11);
      req.set(http::field::host, "127.0.0.1");
      req.keep_alive(true);
      if (!body.empty()) {
        req.set(http::field::content_type, "application/json");
        req.body() = std::move(body);
      }
      req.prepare_payload();
      http::write(*stream_, req, error);
      http::response_parser<http::string_body> parser;
      parser.body_limit(64 * 1024 * 1024);
      if (!error) http::read(*stream_, buffer_, parser, error);
      if (error) {
        stream_.reset();
        buffer_.clear();
        // Sent again only on a kept-alive connection the node had closed (it closes idle ones
        // before reading anything more from them), never after a request it may have taken.
        const bool closed_before = error == http::error::end_of_stream || error == boost::asio::error::eof ||
                                   error == boost::asio::error::connection_reset ||
                                   error == boost::asio::error::broken_pipe;
        if (reused && closed_before) {
          req.body().swap(body);  // sent again
          continue;
        }
        return {0, std::string()};
      }
      const bool keep = parser.get().keep_alive();
      std::pair<unsigned, std::string> out{parser.get().result_int(), std::move(parser.get().body())};
      if (!keep) {
        stream_.reset();
        buffer_.clear();
      }
      return out;
    }
    return {0, std::string()};
  }

 private:
  static constexpr std::chrono::seconds kTimeout{15};
  std::string port_;
  boost::asio::io_context io_;
  std::optional<boost::beast::tcp_stream> stream_;
  boost::beast::flat_buffer buffer_;
};

struct Signed {
  std::string id;
  std::string hex;
};

// GET /blocks's answer, {"blocks": [{"height", "timestamp_ms", "tx_ids": [...], ...}, ...], ...},
// read as SAX events: the fields the observer needs, each block's as it closes.
struct BlocksReader : nlohmann::json_sax<json> {
  struct Block {
    std::uint64_t height = 0;
    std::uint64_t timestamp_ms = 0;
    std::vector<std::string> tx_ids;
  };
  std::vector<Block> blocks;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t value) override {
    if (in_block() && key_ == "height") current_.height = value;
    if (in_block() && key_ == "timestamp_ms") current_.timestamp_ms = value;
    return true;
  }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t& value) override {
    if (depth_ == 4 && key_ == "tx_ids") current_.tx_ids.push_back(std::move(value));
    return true;
  }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override {
    ++depth_;
    if (in_block()) current_ = Block{};
    return true;
  }
  bool key(string_t& key) override {
    if (depth_ == 1) top_key_ = key;
    key_ = key;
    return true;
  }
  bool end_object() override {
    if (in_block()) blocks.push_back(std::move(current_));
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override {
    ++depth_;
    return true;
  }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  // An object directly inside the top-level "blocks" array: {(1) "blocks": [(2) {(3) ...
  bool in_block() const { return depth_ == 3 && top_key_ == "blocks"; }
  int depth_ = 0;
  std::string top_key_;
  std::string key_;
  Block current_;
};

class Observer {
 public:
  Observer(const testing::Cluster& cluster, std::uint64_t from_height) : connection_(cluster, 0), next_height_(from_height + 1) {}
  // Polls node 0 for newly executed blocks, a page of ids at a time (GET /blocks): one request
  // per block would make the observer itself lag at tens of blocks per second on a loaded
  // machine. Records when each transaction was first seen committed.
  void poll_once() {
    for (int page = 0; page < 100; ++page) {
      auto [code, text] = connection_.request_text(boost::beast::http::verb::get,
                                                   "/blocks?from=" + std::to_string(next_height_) + "&limit=100");
      if (code != 200) return;
      // Read as events, not as a document: a page holds thousands of ids, and the generator
      // shares the 2 cores with the nodes it measures.
      BlocksReader reader;
      if (!json::sax_parse(text, &reader) || reader.blocks.empty()) return;
      const auto now = Clock::now();
      std::lock_guard lock(mutex_);
      for (auto& block : reader.blocks) {
        for (auto& id : block.tx_ids) {
          if (!committed_.emplace(std::move(id), Seen{now, block.timestamp_ms}).second) ++included_again_;
        }
        next_height_ = block.height + 1;
      }
    }
  }
  std::optional<Clock::time_point> committed_at(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = committed_.find(id);
    if (it == committed_.end()) return std::nullopt;
    return it->second.at;
  }
  // The proposer's clock (wall time, ms) on the block that holds the transaction.
  std::optional<std::uint64_t> proposed_ms(const std::string& id) {
    std::lock_guard lock(mutex_);
    auto it = committed_.find(id);
    if (it == committed_.end()) return std::nullopt;
    return it->second.proposed_ms;
  }
  std::size_t count() {
    std::lock_guard lock(mutex_);
    return committed_.size();
  }
  // Transactions found in a block after an earlier one already held them: each fails on its
  // nonce and takes a block's room for nothing (a leader should never propose what the chain it
  // extends already holds).
  std::size_t included_again() {
    std::lock_guard lock(mutex_);
    return included_again_;
  }

 private:
  Connection connection_;  // used by the observing thread only
  std::uint64_t next_height_;
  std::mutex mutex_;
  // When each transaction was first seen committed, and its block's proposal time. One hash map
  // (the observer shares the 2 cores with the nodes it measures: at tens of thousands of
  // transactions per second, two ordered maps of hex ids cost it a noticeable share of them).
  struct Seen {
    Clock::time_point at;
    std::uint64_t proposed_ms = 0;
  };
  std::unordered_map<std::string, Seen> committed_;
  std::size_t included_again_ = 0;
};

// How fast this machine is at the moment: microseconds per strict Ed25519 verification
// (core::verify_signature) on one core, the median of 5 runs of 80. Taken just before the
// saturation phase and just after the paced one, while the validators are idle: on a shared or
// virtual machine the speed drifts by tens of percent from one minute to the next, and every
// figure this program prints moves with it.
double machine_check_us() {
  const core::SecretKey key = core::generate_secret_key();
  const core::Bytes message(160, 0x5a);
  const core::Signature signature = key.sign(message);
  const core::PublicKey public_key = key.public_key();
  std::vector<double> runs_us;
  for (int run = 0; run < 5; ++run) {
    const auto start = Clock::now();
    std::size_t accepted = 0;
    for (int i = 0; i < 80; ++i) accepted += core::verify_signature(public_key, message, signature) ? 1u : 0u;
    if (accepted != 80) std::fprintf(stderr, "loadgen: the machine check refused a genuine signature\n");
    runs_us.push_back(std::chrono::duration<double, std::micro>(Clock::now() - start).count() / 80.0);
  }
  std::sort(runs_us.begin(), runs_us.end());
  return runs_us[runs_us.size() / 2];
}

std::atomic<std::size_t> refused{0};

void submit_batch(Connection& connection, std::size_t node, const std::vector<Signed>& txs, std::size_t from,
                  std::size_t to) {
  // Written out rather than built as a JSON document: the generator shares the 2 cores with the
  // nodes it measures, and the hex strings need no escaping.
  std::string body = "{\"txs\":[";
  for (std::size_t i = from; i < to; ++i) {
    if (i > from) body += ',';
    body += '"';
    body += txs[i].hex;
    body += '"';
  }
  body += "]}";
  auto [code, text] = connection.request_text(boost::beast::http::verb::post, "/txs", std::move(body));
  if (code != 200) {
    std::fprintf(stderr, "loadgen: node%zu refused a batch (HTTP %u): %s\n", node, code, text.c_str());
    refused += to - from;
    return;
  }
  // Each refused entry answers {"error": ...}; an answer without one needs no parsing.
  if (text.find("\"error\"") == std::string::npos) return;
  const json doc = json::parse(text, nullptr, false);
  for (const auto& result : doc.value("results", json::array())) {
    if (result.contains("error")) {
      if (refused.fetch_add(1) == 0) std::fprintf(stderr, "loadgen: first refusal: %s\n", result.dump().c_str());
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (!core::init_crypto()) return 1;
  std::size_t total = 20'000, senders = 200, rate = 3'000, seconds = 5, block_txs = 0, block_interval_ms = 0;
  bool ordering_only = false;
  bool orders = false;
  std::size_t submitted_total = 0;  // every transaction this program submits, setup included
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--ordering-only") ordering_only = true;
    if (std::string(argv[i]) == "--orders") orders = true;
  }
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--ordering-only" || flag == "--orders") {
      --i;
      continue;
    }
    const std::size_t value = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--txs") total = value;
    else if (flag == "--senders") senders = value;
    else if (flag == "--rate") rate = value;
    else if (flag == "--seconds") seconds = value;
    else if (flag == "--block-txs") block_txs = value;
    else if (flag == "--block-interval-ms") block_interval_ms = value;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("carbon-loadgen-" + std::to_string(::getpid()));
  // A mempool large enough for the whole saturation run at every node (gossip included).
  json extra = {{"mempool_max_txs", 400'000}};
  if (ordering_only) extra["bench_ordering_only"] = true;
  if (block_txs > 0) extra["max_block_txs"] = block_txs;
  if (block_interval_ms > 0) extra["min_block_interval_ms"] = block_interval_ms;
  // CARBON_NODE_BIN in the environment: run another build's carbon-node (to compare two builds
  // under the same load generator).
  const char* node_binary = std::getenv("CARBON_NODE_BIN");
  testing::Cluster cluster(node_binary != nullptr && *node_binary != '\0' ? node_binary : CARBON_NODE_BIN, dir, 4, static_cast<std::uint16_t>(21000 + (::getpid() % 80) * 100), extra);
  cluster.start_all();
  for (std::size_t i = 0; i < 4; ++i) {
    if (!testing::Cluster::wait_until([&] { return cluster.status(i).has_value(); }, std::chrono::seconds(20))) {
      std::fprintf(stderr, "node%zu did not start:\n%s", i, cluster.log_tail(i).c_str());
      return 1;
    }
  }
  std::printf("loadgen: 4 validators up (%u cores on this machine)%s\n", std::thread::hardware_concurrency(),
              ordering_only ? ", ordering only: unsigned items, no execution"
                            : (orders ? ", signed limit orders on the exchange" : ", signed transfers"));

  const std::size_t latency_txs = rate * seconds;
  const std::size_t per_sender = (total + latency_txs) / senders + 1;
  std::vector<std::vector<Signed>> by_sender(senders);
  double sign_seconds = 0;
  if (ordering_only) {
    // Opaque items: 100 bytes each, distinct, no signature.
    for (std::size_t s = 0; s < senders; ++s) {
      for (std::size_t k = 1; k <= per_sender; ++k) {
        core::Bytes item(100, 0);
        for (std::size_t b = 0; b < 8; ++b) {
          item[b] = static_cast<std::uint8_t>(s >> (8 * b));
          item[8 + b] = static_cast<std::uint8_t>(k >> (8 * b));
        }
        by_sender[s].push_back({core::sha3_256(item).to_hex(), core::to_hex(item)});
      }
    }
  } else {
  // Setup: register and fund the senders.
  std::vector<core::SecretKey> keys;
  std::vector<Signed> setup;
  for (std::size_t s = 0; s < senders; ++s) keys.push_back(core::generate_secret_key());
  std::uint64_t nonce = 0;
  for (std::size_t s = 0; s < senders; ++s) {
    setup.push_back({"", cluster.sign(cluster.authority(), ++nonce,
                                      contracts::Propose{contracts::RegisterParticipant{
                                          keys[s].public_key(), "sender " + std::to_string(s),
                                          contracts::Role::kCoveredEnterprise}})});
  }
  for (std::size_t s = 0; s < senders; ++s) {
    contracts::IssueAllowances issue;
    issue.to = keys[s].public_key();
    issue.vintage_year = 2025;
    issue.quantity_t = 1'000'000;
    setup.push_back({"", cluster.sign(cluster.authority(), ++nonce, contracts::Propose{issue})});
  }
  const core::SecretKey exchange = core::generate_secret_key();
  const core::SecretKey bank = core::generate_secret_key();
  const contracts::ProductId product = contracts::ProductId::allowance(2025);
  if (orders) {
    setup.push_back({"", cluster.sign(cluster.authority(), ++nonce,
                                      contracts::Propose{contracts::RegisterParticipant{
                                          exchange.public_key(), "exchange", contracts::Role::kExchange}})});
    setup.push_back({"", cluster.sign(cluster.authority(), ++nonce,
                                      contracts::Propose{contracts::RegisterParticipant{
                                          bank.public_key(), "bank", contracts::Role::kSettlementBank}})});
  }
  // Every node, not only node 0, must have executed the setup: a node still behind would refuse
  // its share of the transfers as from unknown senders, and their later nonces would never commit.
  const auto wait_nonce = [&](const core::SecretKey& key, std::uint64_t want) {
    return testing::Cluster::wait_until(
        [&] {
          for (std::size_t node = 0; node < 4; ++node) {
            auto [code, account] = cluster.get(node, "/account/" + key.public_key().to_hex());
            if (code != 200 || account.value("nonce", std::uint64_t{0}) != want) return false;
          }
          return true;
        },
        std::chrono::seconds(120));
  };
  Connection setup_connection(cluster, 0);
  for (std::size_t from = 0; from < setup.size(); from += 500) {
    submit_batch(setup_connection, 0, setup, from, std::min(setup.size(), from + 500));
  }
  submitted_total += setup.size();
  if (!wait_nonce(cluster.authority(), nonce)) {
    std::fprintf(stderr, "loadgen: setup did not commit\n");
    return 1;
  }
  if (orders) {
    // The exchange opens an all-day market; the bank funds every sender.
    std::vector<Signed> market;
    contracts::MarketParams params;
    params.sessions = {{0, contracts::kMinutesPerDay}};
    market.push_back({"", cluster.sign(exchange, 1, contracts::SetMarketParams{params})});
    market.push_back({"", cluster.sign(exchange, 2, contracts::ListProduct{product, 2'000})});
    market.push_back({"", cluster.sign(exchange, 3, contracts::OpenDay{})});
    for (std::size_t s = 0; s < senders; ++s) {
      core::Hash256 bank_ref = core::sha3_256(core::Bytes(keys[s].public_key().bytes.begin(),
                                                          keys[s].public_key().bytes.end()));
      market.push_back({"", cluster.sign(bank, s + 1,
                                         contracts::Deposit{keys[s].public_key(), 1'000'000'000'000ULL, bank_ref})});
    }
    for (std::size_t from = 0; from < market.size(); from += 500) {
      submit_batch(setup_connection, 0, market, from, std::min(market.size(), from + 500));
    }
    submitted_total += market.size();
    if (!wait_nonce(bank, senders) || !wait_nonce(exchange, 3)) {
      std::fprintf(stderr, "loadgen: market setup did not commit\n");
      return 1;
    }
  }

  // Pre-sign every transfer: sender s, nonces 1.., 1 t to the next sender.
  const auto sign_start = Clock::now();
  for (std::size_t s = 0; s < senders; ++s) {
    for (std::size_t k = 1; k <= per_sender; ++k) {
      contracts::SignedTx tx;
      tx.tx.chain_id = cluster.chain_id();
      tx.tx.sender = keys[s].public_key();
      tx.tx.nonce = k;
      tx.tx.expiry_height = 50'000;
      if (orders) {
        // Buys at levels 0-12, sells at levels 7-19 (20 levels, 6 where they cross), by a
        // deterministic pattern over sender and nonce.
        const std::size_t n = s * 7919 + k * 104729;
        contracts::PlaceOrder order;
        order.product = product;
        order.side = (s + k) % 2 == 0 ? contracts::Side::kBuy : contracts::Side::kSell;
        const std::uint64_t level = order.side == contracts::Side::kBuy ? n % 13 : 7 + n % 13;
        order.price_fen = 1'990 + level;
        order.quantity_t = 1 + n % 10;
        order.tif = contracts::TimeInForce::kDay;
        tx.tx.call = order;
      } else {
        contracts::TransferUnits transfer;
        transfer.to = keys[(s + 1) % senders].public_key();
        transfer.product = product;
        transfer.quantity_t = 1;
        tx.tx.call = transfer;
      }
      contracts::sign_tx(tx, keys[s]);
      by_sender[s].push_back({contracts::tx_id(tx).to_hex(), core::to_hex(contracts::encode_signed_tx(tx))});
    }
  }
  sign_seconds = std::chrono::duration<double>(Clock::now() - sign_start).count();
  }
  // Interleave senders so every batch holds consecutive nonces of many senders; sender s always
  // goes to node s % 4 (as a client sticks to one node).
  std::vector<std::vector<Signed>> saturation(4), paced(4);
  for (std::size_t k = 0; k < per_sender; ++k) {
    for (std::size_t s = 0; s < senders; ++s) {
      const bool in_saturation = k * senders + s < total;
      (in_saturation ? saturation : paced)[s % 4].push_back(by_sender[s][k]);
    }
  }

  auto status = cluster.status(0);
  Observer observer(cluster, status->value("height", std::uint64_t{0}));
  std::atomic<bool> observing{true};
  std::thread observe([&] {
    while (observing) {
      observer.poll_once();
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });

  // CPU time of the 4 validators together, to report per committed transaction: steadier than
  // throughput on a machine whose speed drifts, and the figure that says where capacity goes.
  const auto nodes_cpu_us = [&] {
    std::uint64_t sum_us = 0;
    for (std::size_t i = 0; i < 4; ++i) sum_us += cpu_us(cluster.pid(i));
    return sum_us;
  };
  const auto nodes_cpu_by_thread = [&] {
    std::map<std::string, std::uint64_t> sum_us;
    for (std::size_t i = 0; i < 4; ++i) {
      for (const auto& [name, us] : cpu_us_by_thread(cluster.pid(i))) sum_us[name] += us;
    }
    sum_us["(loadgen)"] = cpu_us(::getpid());
    return sum_us;
  };
  // CPU per thread name between two readings, per committed transaction, as one line.
  const auto print_cpu_by_thread = [](const std::map<std::string, std::uint64_t>& before,
                                      const std::map<std::string, std::uint64_t>& after, std::size_t committed_count,
                                      const char* unit) {
    if (committed_count == 0) return;
    std::printf("  by thread, us per committed %s:", unit);
    for (const auto& [name, us] : after) {
      const auto earlier = before.find(name);
      const std::uint64_t used = us - std::min(us, earlier == before.end() ? 0 : earlier->second);
      std::printf(" %s %.0f", name.c_str(), static_cast<double>(used) / static_cast<double>(committed_count));
    }
    std::printf("\n");
  };
  const double machine_before_us = machine_check_us();
  // Phase 1: saturation.
  const auto saturation_cpu_by_thread_start = nodes_cpu_by_thread();
  const std::uint64_t saturation_cpu_start_us = nodes_cpu_us();
  const auto start = Clock::now();
  std::vector<std::thread> submitters;
  for (std::size_t node = 0; node < 4; ++node) {
    submitters.emplace_back([&, node] {
      Connection connection(cluster, node);
      for (std::size_t from = 0; from < saturation[node].size(); from += 500) {
        submit_batch(connection, node, saturation[node], from, std::min(saturation[node].size(), from + 500));
      }
    });
  }
  for (auto& thread : submitters) thread.join();
  const double submit_seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::size_t saturation_total = 0;
  for (const auto& list : saturation) saturation_total += list.size();
  testing::Cluster::wait_until([&] { return observer.count() >= saturation_total; }, std::chrono::seconds(180));
  Clock::time_point last_commit = start;
  std::size_t committed = 0;
  for (const auto& list : saturation) {
    for (const auto& tx : list) {
      if (auto at = observer.committed_at(tx.id)) {
        ++committed;
        last_commit = std::max(last_commit, *at);
      }
    }
  }
  const double saturation_seconds = std::chrono::duration<double>(last_commit - start).count();
  const std::uint64_t saturation_cpu_us = nodes_cpu_us() - saturation_cpu_start_us;
  const auto saturation_cpu_by_thread = nodes_cpu_by_thread();

  // Phase 2: paced submission for latency.
  const auto paced_cpu_by_thread_start = nodes_cpu_by_thread();
  const std::uint64_t paced_cpu_start_us = nodes_cpu_us();
  // Each paced transaction as it went out: its id (a view of paced[], which stays as it is),
  // the tick it was due at, and the wall clock then (for the split at the block's proposal).
  // A vector, not a map of ids: the generator shares the 2 cores with the nodes it measures.
  struct Submitted {
    const std::string* id = nullptr;
    Clock::time_point at;
    std::uint64_t wall_ms = 0;
  };
  std::vector<Submitted> submitted;
  submitted.reserve(paced[0].size() + paced[1].size() + paced[2].size() + paced[3].size());
  std::mutex submitted_mutex;
  const auto paced_start = Clock::now();
  // How long peers' gossip waits for admission on each node (GET /status gossip_backlog), sampled
  // every 100 ms while the paced submitters run: a leader proposes only what it has admitted.
  std::atomic<bool> sampling_backlog{true};
  std::vector<std::vector<std::uint64_t>> backlog_wait_ms(4);
  std::thread backlog_sampler([&] {
    while (sampling_backlog) {
      for (std::size_t node = 0; node < 4; ++node) {
        const auto node_status = cluster.status(node);
        if (node_status && node_status->contains("gossip_backlog")) {
          backlog_wait_ms[node].push_back((*node_status)["gossip_backlog"].value("oldest_wait_ms", std::uint64_t{0}));
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  submitters.clear();
  constexpr auto kTick = std::chrono::milliseconds(20);
  for (std::size_t node = 0; node < 4; ++node) {
    submitters.emplace_back([&, node] {
      Connection connection(cluster, node);
      const std::size_t per_tick = std::max<std::size_t>(1, rate / 4 / 50);
      auto next = Clock::now();
      for (std::size_t from = 0; from < paced[node].size(); from += per_tick) {
        std::this_thread::sleep_until(next);
        // Latency counts from the tick this batch was due at, not from when it went out: a node
        // slow to answer the previous batch delays this one, and that wait is the node's too
        // (otherwise a slow node would lower its own load and hide the delay it caused).
        const auto now = next;
        next += kTick;
        const std::size_t to = std::min(paced[node].size(), from + per_tick);
        const auto late = Clock::now() - now;
        const auto wall_ms = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::milliseconds>(
                (std::chrono::system_clock::now() - late).time_since_epoch())
                .count());
        submit_batch(connection, node, paced[node], from, to);
        std::lock_guard lock(submitted_mutex);
        for (std::size_t i = from; i < to; ++i) submitted.push_back({&paced[node][i].id, now, wall_ms});
      }
    });
  }
  for (auto& thread : submitters) thread.join();
  sampling_backlog = false;
  backlog_sampler.join();
  // A submitter waits for each answer before its next tick, so a slow node lowers the rate it is
  // really offered: the rate achieved is printed beside the latency, which means little if it
  // falls well short of the one asked for.
  const double paced_submit_seconds = std::chrono::duration<double>(Clock::now() - paced_start).count();
  testing::Cluster::wait_until([&] { return observer.count() >= saturation_total + submitted.size(); },
                               std::chrono::seconds(60));
  const std::uint64_t paced_cpu_us = nodes_cpu_us() - paced_cpu_start_us;
  const auto paced_cpu_by_thread = nodes_cpu_by_thread();
  observing = false;
  observe.join();
  const double machine_after_us = machine_check_us();
  std::vector<double> latencies_ms;
  for (const auto& entry : submitted) {
    if (auto done = observer.committed_at(*entry.id)) {
      latencies_ms.push_back(std::chrono::duration<double, std::milli>(*done - entry.at).count());
    }
  }
  // Where the latency goes: submission to the proposal of the block that holds the transaction
  // (admission, gossip, waiting for a leader), and the proposal to its execution on node 0 as
  // the observer saw it (votes, the two-chain commit, execution, the observer's poll).
  std::vector<double> to_proposal_ms, proposal_to_seen_ms;
  for (const auto& entry : submitted) {
    auto proposed = observer.proposed_ms(*entry.id);
    auto done = observer.committed_at(*entry.id);
    if (!proposed || !done) continue;
    const double submit_ms = static_cast<double>(entry.wall_ms);
    const double latency = std::chrono::duration<double, std::milli>(*done - entry.at).count();
    to_proposal_ms.push_back(static_cast<double>(*proposed) - submit_ms);
    proposal_to_seen_ms.push_back(latency - (static_cast<double>(*proposed) - submit_ms));
  }
  std::sort(to_proposal_ms.begin(), to_proposal_ms.end());
  std::sort(proposal_to_seen_ms.begin(), proposal_to_seen_ms.end());
  auto median = [](const std::vector<double>& sorted) { return sorted.empty() ? 0.0 : sorted[sorted.size() / 2]; };
  std::sort(latencies_ms.begin(), latencies_ms.end());
  auto percentile = [&](double p) {
    return latencies_ms.empty() ? 0.0 : latencies_ms[static_cast<std::size_t>(p * static_cast<double>(latencies_ms.size() - 1))];
  };
  const double paced_seconds = std::chrono::duration<double>(Clock::now() - paced_start).count();

  if (!ordering_only) {
    std::printf("signing: %zu transfers pre-signed in %.2f s (%.0f/s on one core)\n", senders * per_sender, sign_seconds,
                static_cast<double>(senders * per_sender) / sign_seconds);
  }
  std::printf("machine check: one core verifies an Ed25519 signature (strict) in %.1f us before the run, %.1f us "
              "after (the machine's speed at the time; every figure below moves with it)\n",
              machine_before_us, machine_after_us);
  std::printf("saturation: %zu of %zu submitted committed in %.2f s (submitted in %.2f s): %.0f committed tx/s\n",
              committed, saturation_total, saturation_seconds, submit_seconds,
              static_cast<double>(committed) / saturation_seconds);
  std::printf("  CPU of the 4 validators: %.2f s, %.0f us per committed %s\n", static_cast<double>(saturation_cpu_us) / 1e6,
              committed > 0 ? static_cast<double>(saturation_cpu_us) / static_cast<double>(committed) : 0.0,
              ordering_only ? "item" : "transaction");
  print_cpu_by_thread(saturation_cpu_by_thread_start, saturation_cpu_by_thread, committed,
                      ordering_only ? "item" : "transaction");
  std::printf("latency at %zu tx/s offered for %zu s: %zu of %zu committed, p50 %.0f ms, p99 %.0f ms (%.1f s)\n", rate,
              seconds, latencies_ms.size(), submitted.size(), percentile(0.50), percentile(0.99), paced_seconds);
  const double achieved_rate = static_cast<double>(submitted.size()) / paced_submit_seconds;
  std::printf("  offered rate achieved: %.0f tx/s%s\n", achieved_rate,
              achieved_rate < 0.95 * static_cast<double>(rate) ? " (the submitters fell behind: the nodes answered slowly)" : "");
  std::printf("  split (medians): submission to the block's proposal %.0f ms, proposal to seen executed on node0 %.0f ms\n",
              median(to_proposal_ms), median(proposal_to_seen_ms));
  std::printf("  CPU of the 4 validators: %.2f s, %.0f us per committed %s\n", static_cast<double>(paced_cpu_us) / 1e6,
              latencies_ms.empty() ? 0.0 : static_cast<double>(paced_cpu_us) / static_cast<double>(latencies_ms.size()),
              ordering_only ? "item" : "transaction");
  print_cpu_by_thread(paced_cpu_by_thread_start, paced_cpu_by_thread, latencies_ms.size(),
                      ordering_only ? "item" : "transaction");
  if (!ordering_only) {
    std::printf("  gossip waiting for admission (oldest frame, sampled every 100 ms), median/max:");
    for (std::size_t node = 0; node < 4; ++node) {
      auto& samples = backlog_wait_ms[node];
      if (samples.empty()) {
        std::printf(" node%zu n/a", node);  // a build without the field (CARBON_NODE_BIN)
        continue;
      }
      std::sort(samples.begin(), samples.end());
      std::printf(" node%zu %llu/%llu ms", node, static_cast<unsigned long long>(samples[samples.size() / 2]),
                  static_cast<unsigned long long>(samples.back()));
    }
    std::printf("\n");
  }
  if (refused > 0) std::printf("refused by the nodes: %zu (see the first reason above)\n", refused.load());
  std::printf("transactions included in a block again after an earlier block held them: %zu\n",
              observer.included_again());
  if (orders) {
    // How the committed orders fared: receipts of a sample, and the trades they made.
    std::size_t sampled = 0, ok = 0;
    std::string first_error;
    for (std::size_t node = 0; node < 4 && sampled < 200; ++node) {
      for (std::size_t i = 0; i < saturation[node].size() && sampled < 200; i += 97) {
        auto [code, doc] = cluster.get(0, "/tx/" + saturation[node][i].id);
        if (code != 200) continue;
        ++sampled;
        const auto& receipt = doc.contains("receipt") ? doc["receipt"] : doc;
        if (receipt.value("ok", false) || receipt.value("code", std::string()) == "ok") {
          ++ok;
        } else if (first_error.empty()) {
          first_error = receipt.dump();
        }
      }
    }
    std::printf("orders: %zu of %zu sampled receipts ok%s%s\n", ok, sampled,
                first_error.empty() ? "" : "; first failure: ", first_error.c_str());
    auto [code, trades] = cluster.get(0, "/trades/" + contracts::ProductId::allowance(2025).code() + "?limit=1");
    if (code == 200 && trades.contains("trades") && !trades["trades"].empty()) {
      std::printf("trades settled: %llu (the last trade id)\n",
                  static_cast<unsigned long long>(trades["trades"][0].value("id", std::uint64_t{0})));
    }
  }
  for (std::size_t i = 0; i < 4; ++i) {
    std::printf("node%zu peak RSS: %.1f MiB\n", i, static_cast<double>(peak_rss_kib(cluster.pid(i))) / 1024.0);
  }
  // Each validator should check each signature once (GET /status: signatures_verified).
  submitted_total += saturation_total + submitted.size();
  if (!ordering_only) {
    std::printf("signature checks per submitted transaction:");
    for (std::size_t i = 0; i < 4; ++i) {
      const auto node_status = cluster.status(i);
      if (!node_status || !node_status->contains("signatures_verified")) {
        std::printf(" node%zu n/a", i);  // a build without the counter (CARBON_NODE_BIN)
        continue;
      }
      const auto checks = node_status->value("signatures_verified", std::uint64_t{0});
      std::printf(" node%zu %.3f", i, static_cast<double>(checks) / static_cast<double>(submitted_total));
    }
    std::printf("\n");
  }
  cluster.stop_all();
  if (const char* keep = std::getenv("CARBON_LOADGEN_KEEP"); keep != nullptr && std::string(keep) == "1") {
    std::printf("nodes' data and logs kept in %s\n", dir.c_str());
  } else {
    std::filesystem::remove_all(dir);
  }
  return 0;
}
