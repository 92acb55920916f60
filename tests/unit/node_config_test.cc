// node/config.h: genesis.json and node.json are validated whole when they are read, and every
// problem is reported with the file and the field, before the node opens anything.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <unistd.h>
#include <string>

#include "core/keys.h"
#include "node/config.h"

namespace carbon::node {
namespace {

using json = nlohmann::json;

json good_genesis() {
  return {{"chain_id", "carbon-test"},
          {"genesis_time_ms", 1'767'225'600'000ULL},
          {"validators",
           json::array({{{"name", "node0"},
                         {"public_key", core::generate_secret_key().public_key().to_hex()},
                         {"p2p_address", "127.0.0.1:7100"}}})},
          {"authority", {{"public_key", core::generate_secret_key().public_key().to_hex()}}}};
}

// The message of the refusal of `doc`, or "" when it is accepted.
std::string genesis_refusal(const json& doc) {
  auto parsed = Genesis::parse(doc.dump());
  return parsed.is_ok() ? std::string() : parsed.status().message();
}

TEST(NodeConfig, AddressesAreIpLiteralsWithAPort) {
  EXPECT_EQ(parse_host_port("127.0.0.1:8100")->host, "127.0.0.1");
  EXPECT_EQ(parse_host_port("127.0.0.1:8100")->port, 8100);
  EXPECT_EQ(parse_host_port("0.0.0.0:7100")->host, "0.0.0.0");
  EXPECT_EQ(parse_host_port("[::1]:8100")->host, "::1");
  EXPECT_EQ(parse_host_port("[::]:65535")->port, 65535);
  for (const char* bad : {"localhost:8100", "example.com:7100", "::1:8100", "[127.0.0.1]:8100", "[::1]",
                          "127.0.0.1", "127.0.0.1:", ":8100", "127.0.0.1:0", "127.0.0.1:65536",
                          "127.0.0.1:-1", "127.0.0.1:80x", "127.0.0.1: 80", "1.2.3:80", "300.0.0.1:80"}) {
    auto parsed = parse_host_port(bad);
    ASSERT_FALSE(parsed.is_ok()) << bad;
    EXPECT_NE(parsed.status().message().find(bad), std::string::npos) << parsed.status().message();
  }
  EXPECT_NE(parse_host_port("localhost:8100").status().message().find("IP literals"), std::string::npos);
}

TEST(NodeConfig, GenesisRefusesUnknownFieldsAndNames) {
  EXPECT_EQ(genesis_refusal(good_genesis()), "");

  json typo = good_genesis();
  typo["approvals_requried"] = 2;
  EXPECT_NE(genesis_refusal(typo).find("genesis: unknown field 'approvals_requried'"), std::string::npos)
      << genesis_refusal(typo);

  json validator_typo = good_genesis();
  validator_typo["validators"][0]["p2p_adress"] = "127.0.0.1:7100";
  EXPECT_NE(genesis_refusal(validator_typo).find("genesis validator 0: unknown field 'p2p_adress'"), std::string::npos)
      << genesis_refusal(validator_typo);

  json named = good_genesis();
  named["validators"][0]["p2p_address"] = "example.com:7100";
  EXPECT_NE(genesis_refusal(named).find("genesis validator 0: field 'p2p_address'"), std::string::npos)
      << genesis_refusal(named);

  json no_time = good_genesis();
  no_time.erase("genesis_time_ms");
  EXPECT_NE(genesis_refusal(no_time).find("'genesis_time_ms' is missing"), std::string::npos) << genesis_refusal(no_time);
  json zero_time = good_genesis();
  zero_time["genesis_time_ms"] = 0;
  EXPECT_NE(genesis_refusal(zero_time).find("'genesis_time_ms' must be in 1.."), std::string::npos);
}

TEST(NodeConfig, TheGenesisDigestCoversWhatDefinesTheChainOnly) {
  const json base = good_genesis();
  const auto digest_of = [](const json& doc) {
    auto parsed = Genesis::parse(doc.dump());
    EXPECT_TRUE(parsed.is_ok()) << parsed.status().to_string();
    return parsed.is_ok() ? parsed->digest() : core::Hash256{};
  };
  const core::Hash256 digest = digest_of(base);
  EXPECT_EQ(digest_of(base), digest);
  json moved = base;  // a validator's name and address are not the chain's
  moved["validators"][0]["p2p_address"] = "10.0.0.9:7100";
  moved["validators"][0]["name"] = "renamed";
  EXPECT_EQ(digest_of(moved), digest);
  json later = base;
  later["genesis_time_ms"] = 1'767'225'600'001ULL;
  EXPECT_NE(digest_of(later), digest);
  json other_chain = base;
  other_chain["chain_id"] = "carbon-other";
  EXPECT_NE(digest_of(other_chain), digest);
  json other_authority = base;
  other_authority["authority"]["public_key"] = core::generate_secret_key().public_key().to_hex();
  EXPECT_NE(digest_of(other_authority), digest);
  json two_validators = base;
  two_validators["validators"].push_back({{"name", "node1"},
                                          {"public_key", core::generate_secret_key().public_key().to_hex()},
                                          {"p2p_address", "127.0.0.1:7101"}});
  json swapped = two_validators;
  std::swap(swapped["validators"][0], swapped["validators"][1]);
  EXPECT_NE(digest_of(swapped), digest_of(two_validators));  // the order is the leader rotation
  json other_key = base;
  other_key["validators"][0]["public_key"] = core::generate_secret_key().public_key().to_hex();
  EXPECT_NE(digest_of(other_key), digest);
  json officers = base;
  officers["officers"] = json::array({core::generate_secret_key().public_key().to_hex()});
  EXPECT_NE(digest_of(officers), digest);
  json one_approval = officers;
  one_approval["approvals_required"] = 1;
  json two_approvals = officers;
  two_approvals["approvals_required"] = 2;
  EXPECT_NE(digest_of(one_approval), digest_of(two_approvals));
}

class NodeConfigFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("carbon-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static json good() {
    return {{"name", "node0"},          {"data_dir", "."},
            {"genesis", "genesis.json"}, {"validator_key_file", "validator_key.json"},
            {"p2p_listen", "127.0.0.1:7100"}, {"rpc_listen", "127.0.0.1:8100"}};
  }
  // The refusal of a node.json holding `doc` (it names the file), or "".
  std::string refusal(const json& doc) {
    const auto path = dir_ / "node.json";
    std::ofstream(path) << doc.dump();
    auto loaded = NodeConfig::load(path);
    return loaded.is_ok() ? std::string() : loaded.status().message();
  }

  std::filesystem::path dir_;
};

TEST_F(NodeConfigFile, ASettingWithATypoIsRefusedNotIgnored) {
  EXPECT_EQ(refusal(good()), "");
  json typo = good();
  typo["mempool_max_tx"] = 5;
  const std::string message = refusal(typo);
  EXPECT_NE(message.find((dir_ / "node.json").string()), std::string::npos) << message;
  EXPECT_NE(message.find("unknown field 'mempool_max_tx'"), std::string::npos) << message;
  EXPECT_NE(message.find("mempool_max_txs"), std::string::npos) << message;  // the list of fields
}

TEST_F(NodeConfigFile, ListenAddressesAreCheckedWhenTheFileIsRead) {
  for (const auto& [field, value] : {std::pair<std::string, std::string>{"rpc_listen", "localhost:8195"},
                                     {"rpc_listen", "[::1]"},
                                     {"p2p_listen", "localhost:7195"},
                                     {"p2p_listen", "127.0.0.1:70000"}}) {
    json doc = good();
    doc[field] = value;
    const std::string message = refusal(doc);
    EXPECT_NE(message.find("field '" + field + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(value), std::string::npos) << message;
  }
  json v6 = good();
  v6["rpc_listen"] = "[::1]:8195";
  EXPECT_EQ(refusal(v6), "");
}

}  // namespace
}  // namespace carbon::node
