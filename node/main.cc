// carbon-node: one validator of a carbonledger network.
//
//   carbon-node --config node.json     run the validator described by node.json
//   carbon-node init-key --out FILE    create a validator key file (mode 0600), print its public key
//
// Exit codes: 0 after a clean stop (SIGINT/SIGTERM), 1 on a configuration or start-up error,
// 2 on bad command-line arguments.
#include <malloc.h>
#include <pthread.h>
#include <sys/resource.h>
#include <unistd.h>
#include <latch>
#include <memory>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <functional>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>

#include "consensus/crypto.h"
#include "node/app.h"
#include "node/config.h"
#include "node/driver.h"
#include "node/gossip_inbox.h"
#include "node/http_server.h"
#include "node/input_drops.h"
#include "node/p2p/peer_manager.h"
#include "node/payload.h"
#include "node/rpc_query.h"
#include "node/rpc_txs.h"
#include "node/store.h"

namespace {

using namespace carbon;  // NOLINT(google-build-using-namespace): a main file

class P2pNetwork final : public node::PeerNetwork {
 public:
  explicit P2pNetwork(node::p2p::PeerManager& peers) : peers_(peers) {}
  void send(consensus::ValidatorIndex to, std::shared_ptr<const core::Bytes> frame) override {
    peers_.send(to, tagged(*frame));
  }
  void broadcast(std::shared_ptr<const core::Bytes> frame) override { peers_.broadcast(tagged(*frame)); }

 private:
  static core::Bytes tagged(const core::Bytes& body) {
    core::Bytes out;
    out.reserve(body.size() + 1);
    out.push_back(static_cast<std::uint8_t>(node::FrameKind::kConsensus));
    out.insert(out.end(), body.begin(), body.end());
    return out;
  }
  node::p2p::PeerManager& peers_;
};

// See main(): buffers below this come from the heap, and the heap keeps this much free memory.
constexpr int kMallocMmapThresholdBytes = 32 * 1024 * 1024;
constexpr int kMallocTrimThresholdBytes = 64 * 1024 * 1024;

// How much less CPU a gossip admission thread gets than a default one when both want it
// (Linux nice: +5 gives about a third of the share).
constexpr int kAdmissionNice = 5;
// How often the operator log sums up what was refused or dropped at the edges (node/input_drops.h).
constexpr unsigned kInputDropReportSeconds = 30;

// Names every thread of `pool` (shown by top -H and perf, so an operator can see where a
// node's CPU goes) and lowers their priority by `nice` (0: unchanged; raising niceness needs no
// privilege). One job per thread: each waits for the others, so no thread takes two.
void name_pool_threads(boost::asio::thread_pool& pool, unsigned threads, const char* name, int nice) {
  // Shared, not on this stack: a pool thread may still be leaving arrive_and_wait() after the
  // wait below returns.
  auto all_named = std::make_shared<std::latch>(static_cast<std::ptrdiff_t>(threads));
  for (unsigned i = 0; i < threads; ++i) {
    boost::asio::post(pool, [all_named, name, nice] {
      ::pthread_setname_np(::pthread_self(), name);
      if (nice != 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
      all_named->arrive_and_wait();
    });
  }
  all_named->wait();
}

node::HttpResponse route(node::NodeApp& app, const node::HttpRequest& request) {
  auto reply = [](std::pair<unsigned, std::string> answer) { return node::HttpResponse{answer.first, answer.second}; };
  auto error = [](unsigned status, const std::string& code, const std::string& message) {
    return node::HttpResponse{status, node::rpcq::error_answer(status, code, message).second};
  };
  // A body object's field besides `only` is refused (a typo never passes), with what to send.
  auto other_field = [&error](const nlohmann::json& doc, const std::string& only,
                              const std::string& expected) -> std::optional<node::HttpResponse> {
    for (const auto& [field, value] : doc.items()) {
      if (field != only) {
        return error(400, "bad_request", "unknown field \"" + field.substr(0, 64) + "\": " + expected + ", nothing else");
      }
    }
    return std::nullopt;
  };
  std::string path = request.target.substr(0, request.target.find('?'));
  auto starts = [&](const char* prefix) { return path.rfind(prefix, 0) == 0; };
  if (request.method == "GET" && path.size() != request.target.size() &&
      (path == "/status" || starts("/tx/") || starts("/account/") || starts("/block/"))) {
    // As for every endpoint: a parameter it does not take is refused, so a typo never passes.
    const auto query = node::rpcq::parse_query(request.target.substr(path.size() + 1), {});
    if (!query) return error(400, "bad_request", query.status().message());
  }
  if (request.method == "GET" && path == "/status") return reply(app.rpc_status());
  if (request.method == "GET" && starts("/tx/")) return reply(app.rpc_tx(path.substr(4)));
  if (request.method == "GET" && starts("/account/")) return reply(app.rpc_account(path.substr(9)));
  if (request.method == "GET" && starts("/block/")) return reply(app.rpc_block(path.substr(7)));
  if (request.method == "GET" && path == "/blocks") {
    const std::size_t mark = request.target.find('?');
    return reply(app.rpc_blocks(mark == std::string::npos ? std::string() : request.target.substr(mark + 1)));
  }
  if (request.method == "GET") {
    if (auto answer = app.rpc_registry(request.target)) return reply(std::move(*answer));
    if (auto answer = app.rpc_market(request.target)) return reply(std::move(*answer));
  }
  if (request.method == "POST" && path == "/tx") {
    // Body: {"tx": "<hex>"} or the bare hex.
    static const std::string kExpected =
        "send {\"tx\": \"<hex of the encoded signed transaction>\"} or the bare hex";
    std::string hex = request.body;
    const auto is_space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; };
    const auto trim = [&is_space](std::string& text) {
      while (!text.empty() && is_space(text.back())) text.pop_back();
      text.erase(text.begin(), std::find_if_not(text.begin(), text.end(), is_space));
    };
    trim(hex);
    if (hex.empty()) return error(400, "bad_request", "empty body: " + kExpected);
    if (!std::isxdigit(static_cast<unsigned char>(hex.front()))) {
      // Not bare hex: it must be the JSON object, with that one field.
      auto doc = nlohmann::json::parse(hex, nullptr, false);
      if (doc.is_discarded() || !doc.is_object()) return error(400, "bad_request", "expected a JSON object: " + kExpected);
      if (auto refused = other_field(doc, "tx", kExpected)) return *refused;
      if (!doc.contains("tx") || !doc["tx"].is_string()) {
        return error(400, "bad_request", "\"tx\" must be a string of hex: " + kExpected);
      }
      hex = doc["tx"].get<std::string>();
      trim(hex);  // e.g. a hex file read with its newline
      if (hex.empty()) return error(400, "bad_request", "\"tx\" is empty: " + kExpected);
    }
    auto bytes = core::from_hex(hex);
    if (!bytes) return error(400, "bad_hex", "the transaction is not valid hex: " + bytes.status().message());
    const auto admission = app.admit(*bytes, /*from_client=*/true);
    return node::HttpResponse{admission.status.is_ok() ? 200u : 400u, node::admission_json_text(admission)};
  }
  if (request.method == "POST" && path == "/txs") {
    // A batch: {"txs": ["<hex>", ...]}, at most kMaxBatchTxs; one result per transaction.
    constexpr std::size_t kMaxBatchTxs = 2000;
    // The usual body is read in place (node/rpc_txs.h); any other goes to the JSON parser, whose
    // verdict and messages are the API's. An entry that is not a string is nullopt.
    std::vector<std::optional<std::string_view>> entries;
    nlohmann::json doc;  // the parsed body, when it is not of the usual shape: entries view it
    if (auto simple = node::read_simple_txs_body(request.body)) {
      entries.assign(simple->begin(), simple->end());
    } else {
      doc = nlohmann::json::parse(request.body, nullptr, false);
      if (doc.is_discarded() || !doc.is_object() || !doc.contains("txs") || !doc["txs"].is_array()) {
        return error(400, "bad_request", "expected {\"txs\": [\"<hex>\", ...]}");
      }
      if (auto refused = other_field(doc, "txs", "expected {\"txs\": [\"<hex>\", ...]}")) return *refused;
      for (const auto& item : doc["txs"]) {
        if (item.is_string()) {
          entries.emplace_back(std::string_view(item.get_ref<const std::string&>()));
        } else {
          entries.emplace_back(std::nullopt);
        }
      }
    }
    if (entries.size() > kMaxBatchTxs) {
      return error(400, "too_many", "at most " + std::to_string(kMaxBatchTxs) + " transactions per batch");
    }
    // Entries that are not hex answer at once; the others are admitted together, so that their
    // signatures are verified as batches (NodeApp::admit_many).
    std::vector<std::string> results(entries.size());
    std::vector<core::Bytes> decoded;
    std::vector<std::size_t> positions;
    decoded.reserve(entries.size());
    for (std::size_t i = 0; i < entries.size(); ++i) {
      if (!entries[i]) {
        results[i] = node::rpcq::error_answer(400, "bad_request", "each entry must be a hex string").second;
        continue;
      }
      auto bytes = core::from_hex(*entries[i]);
      if (!bytes) {
        results[i] = node::rpcq::error_answer(400, "bad_hex", bytes.status().message()).second;
        continue;
      }
      decoded.push_back(std::move(bytes).value());
      positions.push_back(i);
    }
    const std::vector<core::ByteView> views(decoded.begin(), decoded.end());
    const auto admissions = app.admit_many(views, /*from_client=*/true);
    for (std::size_t k = 0; k < admissions.size(); ++k) results[positions[k]] = node::admission_json_text(admissions[k]);
    return node::HttpResponse{200, node::results_json_text(results)};
  }
  if (path == "/status" || path == "/tx" || path == "/txs" || path == "/blocks" || starts("/tx/") ||
      starts("/account/") || starts("/block/")) {
    return error(405, "method_not_allowed", request.method + " is not allowed on " + path);
  }
  if (node::NodeApp::is_registry_path(path) || node::NodeApp::is_market_path(path)) {
    return error(405, "method_not_allowed", request.method + " is not allowed on " + path);
  }
  return error(404, "not_found", "no such endpoint: " + path);
}

int run_node(const std::string& config_path) {
  // One line format from the first line on (the node's name joins it once the config is read).
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [carbon-node] %^%l%$ %v");
  auto config = node::NodeConfig::load(config_path);
  if (!config) {
    spdlog::error("{}", config.status().message());
    return 1;
  }
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e [" + config->name + "] %^%l%$ %v");
  auto genesis = node::Genesis::load(config->genesis_path);
  if (!genesis) {
    spdlog::error("{}", genesis.status().message());
    return 1;
  }
  auto key = node::load_validator_key(config->validator_key_file);
  if (!key) {
    spdlog::error("{}", key.status().message());
    return 1;
  }
  const auto validators = genesis->validator_set();
  const auto self = validators.index_of(key->public_key());
  if (!self) {
    spdlog::error("this node's key {} is not a validator in {}", key->public_key().to_hex(),
                  config->genesis_path.string());
    return 1;
  }
  auto store = node::NodeStore::open(config->data_dir);
  if (!store) {
    spdlog::error("{}", store.status().message());
    return 1;
  }
  if (auto bound = (*store)->bind_genesis(genesis->digest()); !bound.is_ok()) {
    spdlog::error("{} ({}, genesis {})", bound.message(), config->data_dir.string(), config->genesis_path.string());
    return 1;
  }

  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  // At least two io threads: PeerManager::stop() (from the signal handler) waits for its strand,
  // which needs another thread to run it.
  const unsigned io_threads = std::max(2u, cores);
  boost::asio::io_context io;
  boost::asio::thread_pool verify_pool(cores);
  // Transactions gossiped by peers are verified on a pool of their own at a lower scheduling
  // priority. It is on a transaction's critical path too (a leader proposes only what it has
  // admitted, and a voter's check of a proposal verifies, within the round, what its admission
  // has not reached), but so are the RPC handlers and the consensus strand on the io threads,
  // and at the default priority clients' POST /txs were answered late enough under overload to
  // cost more than the gossip gained (docs/node.md, "Threads"). Without it, four validators on a
  // small machine also starve their execution threads (the CPU is shared per thread).
  boost::asio::thread_pool admission_pool(cores);
  name_pool_threads(verify_pool, cores, "carbon-verify", 0);
  name_pool_threads(admission_pool, cores, "carbon-admit", kAdmissionNice);

  // Declared before the app, which reads them for GET /status until it is destroyed.
  constexpr std::size_t kMaxGossipBytesInFlight = 32u * 1024u * 1024u;
  std::atomic<std::size_t> gossip_bytes_in_flight{0};
  std::atomic<std::uint64_t> gossip_frames_dropped{0};
  // Gossip frames wait here for the admission pool (node/gossip_inbox.h).
  node::GossipInbox gossip_inbox(cores);
  node::NodeApp app(io, *genesis, *config, **store);
  if (auto status = app.open(); !status.is_ok()) {
    spdlog::error("cannot open the state: {}", status.message());
    return 1;
  }

  node::p2p::PeerManagerConfig peer_config;
  peer_config.chain_id = genesis->chain_id;
  peer_config.node_key = *key;
  for (const auto& validator : genesis->validators) {
    peer_config.validators.push_back({validator.public_key, {validator.p2p_address.host, validator.p2p_address.port}});
  }
  peer_config.listen_address = {config->p2p_listen.host, config->p2p_listen.port};
  std::unique_ptr<node::Driver> driver;
  const auto admit_frames = [&](const std::vector<core::Bytes>& frames) {
    std::vector<core::ByteView> bodies;
    std::size_t bytes = 0;
    for (const auto& frame : frames) {
      bodies.push_back(core::ByteView(frame).subspan(1));
      bytes += frame.size();
    }
    app.on_gossip_frames(bodies);
    gossip_bytes_in_flight.fetch_sub(bytes);
  };
  const auto drain_gossip = [&] {
    for (std::vector<core::Bytes> frames; gossip_inbox.take(frames);) admit_frames(frames);
  };
  // A leader admits what waits before it builds its block (node/driver.h, gossip_waiting).
  app.set_waiting_gossip([&] { return !gossip_inbox.empty(); },
                         [&] {
                           std::vector<core::Bytes> frames;
                           if (gossip_inbox.take_waiting(frames)) admit_frames(frames);
                         });
  std::atomic<std::uint64_t> unknown_kind_frames{0};
  node::p2p::PeerCallbacks callbacks;
  callbacks.on_message = [&](std::size_t peer, core::Bytes frame) {
    if (frame.empty()) return;
    const auto kind = static_cast<node::FrameKind>(frame[0]);
    if (kind == node::FrameKind::kConsensus) {
      driver->on_peer_message(static_cast<consensus::ValidatorIndex>(peer), core::Bytes(frame.begin() + 1, frame.end()));
    } else if (kind == node::FrameKind::kTxGossip) {
      // Bounded: gossip waiting for verification may hold at most kMaxGossipBytesInFlight;
      // beyond that frames are dropped (the transactions reach the leader by other routes).
      const std::size_t bytes = frame.size();
      if (gossip_bytes_in_flight.fetch_add(bytes) + bytes > kMaxGossipBytesInFlight) {
        gossip_bytes_in_flight.fetch_sub(bytes);
        gossip_frames_dropped.fetch_add(1);
        return;
      }
      if (gossip_inbox.add(std::move(frame))) {
        boost::asio::post(admission_pool, [&] { drain_gossip(); });
      }
    } else {
      unknown_kind_frames.fetch_add(1, std::memory_order_relaxed);  // in the 30 s summary below
      spdlog::debug("dropped a frame of unknown kind {} from validator {}", frame[0], peer);
    }
  };
  callbacks.on_peer_up = [&](std::size_t peer) {
    spdlog::info("peer {} ({}) connected", peer, genesis->validators[peer].name);
  };
  callbacks.on_peer_down = [&](std::size_t peer) {
    spdlog::info("peer {} ({}) disconnected", peer, genesis->validators[peer].name);
  };
  callbacks.on_log = [](std::string_view line) { spdlog::info("p2p: {}", line); };
  node::p2p::PeerManager peers(io, peer_config, callbacks);
  if (auto status = peers.listen(); !status.is_ok()) {
    spdlog::error("{}", status.message());
    return 1;
  }
  P2pNetwork network(peers);

  consensus::Ed25519Signer signer(*key);
  node::Driver::Options options;
  options.chain_id = genesis->chain_id;
  options.validators = validators;
  options.self = *self;
  options.genesis = consensus::make_genesis_block(genesis->chain_id, validators.epoch, genesis->genesis_time_ms);
  options.tick_ms = config->tick_ms;
  options.base_timeout_ticks = config->base_timeout_ticks;
  // An idle leader's wait must stay well inside the round timeout, or idle rounds would time out.
  options.max_empty_block_delay_ms = std::min<std::uint64_t>(500, config->tick_ms * config->base_timeout_ticks / 3);
  options.min_block_interval_ms = std::min(config->min_block_interval_ms, options.max_empty_block_delay_ms);
  driver = std::make_unique<node::Driver>(io, verify_pool, options, signer, **store, network, app);
  app.set_driver(driver.get());
  app.set_identity(*self, key->public_key());
  app.set_verify_pool(&verify_pool);
  app.set_gossip([&peers](core::Bytes frame) { peers.broadcast(std::move(frame)); });
  app.set_peer_count([&peers] { return peers.connected_count(); });
  app.set_gossip_backlog([&] {
    node::NodeApp::GossipBacklog backlog;
    backlog.waiting_bytes = gossip_bytes_in_flight.load();
    backlog.frames_dropped = gossip_frames_dropped.load();
    if (const auto oldest = gossip_inbox.oldest_arrival()) {
      backlog.oldest_wait_ms = static_cast<std::uint64_t>(
          std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - *oldest).count());
    }
    return backlog;
  });

  node::HttpServer rpc(io, [&app](const node::HttpRequest& request) { return route(app, request); });
  if (auto status = rpc.start(config->rpc_listen.host, config->rpc_listen.port); !status.is_ok()) {
    spdlog::error("{}", status.message());
    return 1;
  }
  if (auto status = driver->start(); !status.is_ok()) {
    spdlog::error("cannot start consensus: {}", status.message());
    return 1;
  }
  if (auto status = peers.start(); !status.is_ok()) {
    spdlog::error("{}", status.message());
    return 1;
  }
  spdlog::info("validator {} of {} on chain {}: p2p {}, rpc http://{}", *self, validators.size(), genesis->chain_id,
               config->p2p_listen.to_string(), config->rpc_listen.to_string());

  // Every 30 s, one line for what was refused or dropped at the node's edges since the last one
  // (nothing when nothing was): the operator sees abuse without a line per event.
  const auto input_drops = [&] {
    const node::p2p::TransportStats transport = peers.stats();
    node::InputDropCounts counts;
    counts.inbound_failed = transport.inbound_failed;
    counts.handshakes_rejected = transport.handshakes_rejected;
    counts.handshake_timeouts = transport.handshake_timeouts;
    counts.inbound_over_limit = transport.inbound_over_limit;
    counts.frames_rejected_oversize = transport.frames_rejected_oversize;
    counts.frames_rejected_decrypt = transport.frames_rejected_decrypt;
    counts.unknown_kind_frames = unknown_kind_frames.load(std::memory_order_relaxed);
    counts.malformed_gossip_frames = app.malformed_gossip_frames();
    counts.gossip_frames_dropped = gossip_frames_dropped.load();
    return counts;
  };
  boost::asio::steady_timer drop_report_timer(io);
  node::InputDropCounts reported_drops = input_drops();
  std::function<void()> schedule_drop_report = [&] {
    drop_report_timer.expires_after(std::chrono::seconds(kInputDropReportSeconds));
    drop_report_timer.async_wait([&](const boost::system::error_code& error) {
      if (error) return;  // cancelled: the node is stopping
      const node::InputDropCounts now = input_drops();
      if (const std::string line = node::input_drop_summary(reported_drops, now, kInputDropReportSeconds); !line.empty()) {
        spdlog::info("{}", line);
      }
      reported_drops = now;
      schedule_drop_report();
    });
  };
  schedule_drop_report();

  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int signal) {
    spdlog::info("signal {}: stopping", signal);
    rpc.stop();
    peers.stop();
    io.stop();  // the drop report's timer is not cancelled here: it may be re-arming on another io thread
  });
  std::vector<std::thread> threads;
  for (unsigned i = 1; i < io_threads; ++i) {
    threads.emplace_back([&io] {
      ::pthread_setname_np(::pthread_self(), "carbon-io");
      io.run();
    });
  }
  ::pthread_setname_np(::pthread_self(), "carbon-io");
  io.run();
  for (auto& thread : threads) thread.join();
  verify_pool.join();
  admission_pool.join();
  spdlog::info("stopped at height {}", app.executed_height());
  return 0;
}

int init_key(const std::string& out) {
  const auto key = core::generate_secret_key();
  if (auto status = node::write_validator_key(out, key); !status.is_ok()) {
    std::fprintf(stderr, "carbon-node: %s\n", status.message().c_str());
    return 1;
  }
  std::printf("%s\n", key.public_key().to_hex().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // Blocks, payloads and RPC bodies are buffers of tens to hundreds of KiB, allocated and freed
  // many times a second. glibc serves those from fresh mmap()s (its threshold adapts only up to
  // a point) and gives freed memory back at once, so every such buffer page-faulted anew: a few
  // per cent of a busy validator's CPU. Keeping them in the heap makes the pages stay mapped;
  // the cost is that a node's RSS stays near its peak instead of shrinking after a burst.
  ::mallopt(M_MMAP_THRESHOLD, kMallocMmapThresholdBytes);
  ::mallopt(M_TRIM_THRESHOLD, kMallocTrimThresholdBytes);
  if (!carbon::core::init_crypto()) {
    std::fprintf(stderr, "carbon-node: libsodium failed to initialize\n");
    return 1;
  }
  CLI::App cli{"carbon-node: a carbonledger validator"};
  std::string config_path;
  cli.add_option("--config", config_path, "the node's JSON configuration file");
  auto* init = cli.add_subcommand("init-key", "create a validator key file and print its public key");
  std::string out;
  init->add_option("--out", out, "where to write the key (must not exist)")->required();
  try {
    cli.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return cli.exit(error) == 0 ? 0 : 2;
  }
  if (*init) return init_key(out);
  if (config_path.empty()) {
    std::fprintf(stderr, "carbon-node: --config FILE is required (or: carbon-node init-key --out FILE)\n");
    return 2;
  }
  return run_node(config_path);
}
