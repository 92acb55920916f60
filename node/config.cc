#include "node/config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <initializer_list>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string_view>

#include "contracts/executor.h"
#include "core/file.h"
#include "core/hash.h"

namespace carbon::node {
namespace {

using core::ErrorCode;
using core::Status;
using json = nlohmann::json;

constexpr std::uintmax_t kMaxConfigFileBytes = 1024 * 1024;

Status invalid(const std::string& message) { return Status::error(ErrorCode::kInvalidArgument, message); }

core::Result<std::string> read_file(const std::filesystem::path& path) {
  return core::read_small_file(path, kMaxConfigFileBytes);
}

core::Result<json> parse_object(const std::string& text, const std::string& what) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) return invalid(what + " is not a JSON object");
  return doc;
}

core::Result<std::string> get_string(const json& object, const std::string& field, const std::string& where) {
  auto it = object.find(field);
  if (it == object.end() || !it->is_string() || it->get<std::string>().empty()) {
    return invalid(where + ": field '" + field + "' must be a non-empty string");
  }
  return it->get<std::string>();
}

core::Result<std::uint64_t> get_u64(const json& object, const std::string& field, const std::string& where,
                                    std::uint64_t fallback, std::uint64_t min, std::uint64_t max) {
  auto it = object.find(field);
  if (it == object.end()) return fallback;
  if (!it->is_number_unsigned()) return invalid(where + ": field '" + field + "' must be a non-negative integer");
  const auto value = it->get<std::uint64_t>();
  if (value < min || value > max) {
    return invalid(where + ": field '" + field + "' must be in " + std::to_string(min) + ".." + std::to_string(max));
  }
  return value;
}

core::Result<core::PublicKey> get_key(const json& object, const std::string& field, const std::string& where) {
  auto text = get_string(object, field, where);
  if (!text) return text.status();
  auto key = core::PublicKey::from_hex(*text);
  if (!key) return invalid(where + ": field '" + field + "': " + key.status().message());
  if (!core::is_valid_public_key(*key)) return invalid(where + ": field '" + field + "' is not a valid Ed25519 key");
  return *key;
}

// Refuses a field `object` has beyond `known`: a misspelt setting would otherwise be ignored
// and its default used without a word.
Status check_fields(const json& object, std::initializer_list<std::string_view> known, const std::string& where) {
  for (const auto& [field, value] : object.items()) {
    if (std::find(known.begin(), known.end(), field) != known.end()) continue;
    std::string list;
    for (const std::string_view name : known) list += (list.empty() ? "" : ", ") + std::string(name);
    return invalid(where + ": unknown field '" + field.substr(0, 64) + "' (the fields are: " + list + ")");
  }
  return Status::ok();
}

std::filesystem::path relative_to(const std::filesystem::path& base_file, const std::string& value) {
  std::filesystem::path path(value);
  if (path.is_absolute()) return path;
  return base_file.parent_path() / path;
}

}  // namespace

core::Result<HostPort> parse_host_port(const std::string& text) {
  const auto colon = text.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == text.size()) {
    return invalid("'" + text + "' is not IP:port (e.g. 127.0.0.1:8100 or [::1]:8100)");
  }
  const std::string port_text = text.substr(colon + 1);
  std::uint64_t port = 0;
  const auto [end, error] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (error != std::errc() || end != port_text.data() + port_text.size() || port == 0 || port > 65535) {
    return invalid("'" + text + "' has a bad port (1..65535)");
  }
  // An IP literal, IPv6 in brackets: names are not resolved (a validator's address must not
  // depend on a resolver), and listening on one would fail only later, after the store opened.
  std::string host = text.substr(0, colon);
  const bool bracketed = host.size() >= 2 && host.front() == '[' && host.back() == ']';
  if (bracketed) host = host.substr(1, host.size() - 2);
  boost::system::error_code bad_address;
  const auto address = boost::asio::ip::make_address(host, bad_address);
  if (bad_address || address.is_v6() != bracketed) {
    return invalid("'" + text + "' is not IP:port: addresses must be IP literals (e.g. 127.0.0.1:8100 or [::1]:8100)");
  }
  return HostPort{host, static_cast<std::uint16_t>(port)};
}

contracts::GenesisConfig Genesis::contracts_genesis() const {
  contracts::GenesisConfig config;
  config.authority = authority_key;
  config.more_officers = more_officers;
  config.threshold = approvals_required;
  return config;
}

consensus::ValidatorSet Genesis::validator_set() const {
  consensus::ValidatorSet set;
  set.epoch = 1;
  for (const auto& validator : validators) set.validators.push_back({validator.public_key, validator.name});
  return set;
}

core::Hash256 Genesis::digest() const {
  core::Sha3Hasher hasher;
  const auto add_u64 = [&hasher](std::uint64_t value) {
    std::array<std::uint8_t, 8> bytes{};
    for (std::size_t i = 0; i < 8; ++i) bytes[i] = static_cast<std::uint8_t>(value >> (8 * (7 - i)));
    hasher.update(bytes);
  };
  const std::string_view domain = "carbonledger genesis v1";
  hasher.update(core::as_bytes(domain));
  add_u64(chain_id.size());
  hasher.update(core::as_bytes(chain_id));
  add_u64(genesis_time_ms);
  add_u64(validators.size());
  for (const auto& validator : validators) hasher.update(validator.public_key.bytes);
  hasher.update(authority_key.bytes);
  add_u64(more_officers.size());
  for (const auto& officer : more_officers) hasher.update(officer.bytes);
  add_u64(approvals_required);
  return hasher.finish();
}

core::Result<Genesis> Genesis::parse(const std::string& json_text) {
  auto doc = parse_object(json_text, "genesis");
  if (!doc) return doc.status();
  Genesis genesis;
  CARBON_RETURN_IF_ERROR(check_fields(
      *doc, {"chain_id", "genesis_time_ms", "validators", "authority", "officers", "approvals_required"}, "genesis"));
  auto chain_id = get_string(*doc, "chain_id", "genesis");
  if (!chain_id) return chain_id.status();
  if (chain_id->size() > consensus::kMaxChainIdBytes) return invalid("genesis: chain_id is longer than 64 bytes");
  genesis.chain_id = *chain_id;
  if (!doc->contains("genesis_time_ms")) {
    return invalid("genesis: field 'genesis_time_ms' is missing (the chain's start, in ms since 1970-01-01 UTC)");
  }
  auto time_ms = get_u64(*doc, "genesis_time_ms", "genesis", 0, 1, UINT64_MAX / 2);
  if (!time_ms) return time_ms.status();
  genesis.genesis_time_ms = *time_ms;
  auto validators = doc->find("validators");
  if (validators == doc->end() || !validators->is_array() || validators->empty() ||
      validators->size() > consensus::kMaxValidators) {
    return invalid("genesis: 'validators' must be a list of 1 to " + std::to_string(consensus::kMaxValidators));
  }
  for (std::size_t i = 0; i < validators->size(); ++i) {
    const json& entry = (*validators)[i];
    const std::string where = "genesis validator " + std::to_string(i);
    if (!entry.is_object()) return invalid(where + " is not an object");
    CARBON_RETURN_IF_ERROR(check_fields(entry, {"name", "public_key", "p2p_address"}, where));
    GenesisValidator validator;
    auto name = get_string(entry, "name", where);
    if (!name) return name.status();
    validator.name = *name;
    auto key = get_key(entry, "public_key", where);
    if (!key) return key.status();
    validator.public_key = *key;
    auto address_text = get_string(entry, "p2p_address", where);
    if (!address_text) return address_text.status();
    auto address = parse_host_port(*address_text);
    if (!address) return invalid(where + ": field 'p2p_address': " + address.status().message());
    validator.p2p_address = *address;
    for (const auto& other : genesis.validators) {
      if (other.public_key == validator.public_key) return invalid(where + " repeats the key of " + other.name);
    }
    genesis.validators.push_back(std::move(validator));
  }
  auto authority = doc->find("authority");
  if (authority == doc->end() || !authority->is_object()) return invalid("genesis: 'authority' must be an object");
  CARBON_RETURN_IF_ERROR(check_fields(*authority, {"public_key"}, "genesis authority"));
  auto authority_key = get_key(*authority, "public_key", "genesis authority");
  if (!authority_key) return authority_key.status();
  genesis.authority_key = *authority_key;
  if (auto officers = doc->find("officers"); officers != doc->end()) {
    if (!officers->is_array() || officers->size() + 1 > contracts::kMaxOfficers) {
      return invalid("genesis: 'officers' must be a list of at most " +
                     std::to_string(contracts::kMaxOfficers - 1) +
                     " hex public keys (the officers besides the authority)");
    }
    for (std::size_t i = 0; i < officers->size(); ++i) {
      const json& entry = (*officers)[i];
      const std::string where = "genesis officers[" + std::to_string(i) + "]";
      if (!entry.is_string()) return invalid(where + " must be a hex public key string");
      auto key = core::PublicKey::from_hex(entry.get<std::string>());
      if (!key) return invalid(where + ": " + key.status().message());
      if (!core::is_valid_public_key(*key)) return invalid(where + " is not a valid Ed25519 key");
      genesis.more_officers.push_back(*key);
    }
  }
  auto approvals = get_u64(*doc, "approvals_required", "genesis", 1, 1, contracts::kMaxOfficers);
  if (!approvals) return approvals.status();
  genesis.approvals_required = static_cast<std::uint8_t>(*approvals);
  if (genesis.approvals_required > genesis.more_officers.size() + 1) {
    return invalid("genesis: 'approvals_required' is " + std::to_string(genesis.approvals_required) +
                   " but there are only " + std::to_string(genesis.more_officers.size() + 1) +
                   " officers (the authority plus 'officers')");
  }
  if (Status valid = contracts::validate_genesis(genesis.contracts_genesis()); !valid) {
    return invalid("genesis: " + valid.message());
  }
  return genesis;
}

core::Result<Genesis> Genesis::load(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return text.status();
  auto genesis = parse(*text);
  if (!genesis) return Status::error(genesis.status().code(), path.string() + ": " + genesis.status().message());
  return genesis;
}

core::Result<NodeConfig> NodeConfig::load(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return text.status();
  const std::string where = path.string();
  auto doc = parse_object(*text, where);
  if (!doc) return doc.status();
  NodeConfig config;
  CARBON_RETURN_IF_ERROR(check_fields(*doc,
                                      {"name", "data_dir", "genesis", "validator_key_file", "p2p_listen", "rpc_listen",
                                       "tick_ms", "base_timeout_ticks", "max_block_txs", "min_block_interval_ms",
                                       "mempool_max_txs", "bench_ordering_only"},
                                      where));
  auto name = get_string(*doc, "name", where);
  if (!name) return name.status();
  config.name = *name;
  for (const auto& [field, target] : {std::pair<const char*, std::filesystem::path*>{"data_dir", &config.data_dir},
                                      {"genesis", &config.genesis_path},
                                      {"validator_key_file", &config.validator_key_file}}) {
    auto value = get_string(*doc, field, where);
    if (!value) return value.status();
    *target = relative_to(path, *value);
  }
  for (const auto& [field, target] : {std::pair<const char*, HostPort*>{"p2p_listen", &config.p2p_listen},
                                      {"rpc_listen", &config.rpc_listen}}) {
    auto value = get_string(*doc, field, where);
    if (!value) return value.status();
    auto parsed = parse_host_port(*value);
    if (!parsed) return invalid(where + ": field '" + field + "': " + parsed.status().message());
    *target = *parsed;
  }
  auto tick_ms = get_u64(*doc, "tick_ms", where, config.tick_ms, 1, 1000);
  if (!tick_ms) return tick_ms.status();
  config.tick_ms = *tick_ms;
  auto base_timeout = get_u64(*doc, "base_timeout_ticks", where, config.base_timeout_ticks, 1, 100'000);
  if (!base_timeout) return base_timeout.status();
  config.base_timeout_ticks = *base_timeout;
  auto max_block_txs = get_u64(*doc, "max_block_txs", where, config.max_block_txs, 1, 20'000);
  if (!max_block_txs) return max_block_txs.status();
  config.max_block_txs = static_cast<std::size_t>(*max_block_txs);
  auto min_interval = get_u64(*doc, "min_block_interval_ms", where, config.min_block_interval_ms, 0, 1000);
  if (!min_interval) return min_interval.status();
  config.min_block_interval_ms = *min_interval;
  auto mempool_max = get_u64(*doc, "mempool_max_txs", where, config.mempool_max_txs, 1, 1'000'000);
  if (!mempool_max) return mempool_max.status();
  config.mempool_max_txs = static_cast<std::size_t>(*mempool_max);
  if (auto it = doc->find("bench_ordering_only"); it != doc->end()) {
    if (!it->is_boolean()) return invalid(where + ": field 'bench_ordering_only' must be true or false");
    config.bench_ordering_only = it->get<bool>();
  }
  return config;
}

core::Result<core::SecretKey> load_validator_key(const std::filesystem::path& path) {
  auto text = read_file(path);
  if (!text) return text.status();
  auto doc = parse_object(*text, path.string());
  if (!doc) return doc.status();
  auto seed_hex = get_string(*doc, "seed", path.string());
  if (!seed_hex) return seed_hex.status();
  auto seed = core::fixed_from_hex<32>(*seed_hex);
  if (!seed) return invalid(path.string() + ": seed: " + seed.status().message());
  core::SecretKey key(*seed);
  auto stated = get_key(*doc, "public_key", path.string());
  if (!stated) return stated.status();
  if (*stated != key.public_key()) return invalid(path.string() + ": public_key does not match the seed");
  return key;
}

core::Status write_validator_key(const std::filesystem::path& path, const core::SecretKey& key) {
  const json doc = {{"public_key", key.public_key().to_hex()}, {"seed", core::to_hex(key.seed())}};
  const std::string text = doc.dump(2) + "\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Status::error(ErrorCode::kIoError, "cannot create " + path.string() + ": " + std::strerror(errno));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Status::error(ErrorCode::kIoError, "cannot write " + path.string());
  return Status::ok();
}

}  // namespace carbon::node
