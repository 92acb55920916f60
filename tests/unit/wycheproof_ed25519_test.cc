// Agreement with Project Wycheproof's Ed25519 verification vectors
// (tests/data/wycheproof/ed25519_test.json, Apache 2.0, see the LICENSE next to it).
//
// Our verifier is strict (core/keys.h), so every "valid" vector must verify and every
// "invalid" one must not; a signature or key of the wrong length cannot even be represented
// and counts as rejected.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

#include "core/bytes.h"
#include "core/keys.h"

namespace carbon::core {
namespace {

// The file holds 151 vectors; fewer than this means the parser went wrong, not the verifier.
constexpr std::size_t kMinimumVectors = 100;

nlohmann::json load_vectors(const std::string& path) {
  std::ifstream file(path);
  if (!file) return nullptr;
  return nlohmann::json::parse(file, /*cb=*/nullptr, /*allow_exceptions=*/false);
}

// What our verifier says about one vector; false for anything it cannot even represent.
bool we_accept(const std::string& public_key_hex, const std::string& message_hex,
               const std::string& signature_hex) {
  const auto public_key = PublicKey::from_hex(public_key_hex);
  const auto message = from_hex(message_hex);
  const auto signature = Signature::from_hex(signature_hex);
  if (!public_key.is_ok() || !signature.is_ok()) return false;
  CARBON_ASSERT(message.is_ok());  // messages in the file are well-formed hex
  return verify_signature(*public_key, *message, *signature);
}

TEST(WycheproofEd25519Test, VerifierAgreesWithEveryVector) {
  const std::string path = std::string(CARBON_TEST_DATA_DIR) + "/wycheproof/ed25519_test.json";
  const nlohmann::json root = load_vectors(path);
  ASSERT_TRUE(root.is_object()) << "cannot read or parse " << path;
  ASSERT_EQ(root.value("algorithm", ""), "EDDSA");

  std::size_t checked = 0;
  std::size_t valid = 0;
  std::size_t invalid = 0;
  std::size_t acceptable = 0;
  for (const auto& group : root.at("testGroups")) {
    ASSERT_EQ(group.value("type", ""), "EddsaVerify");
    const auto& key = group.at("publicKey");
    ASSERT_EQ(key.value("curve", ""), "edwards25519");
    const std::string public_key_hex = key.at("pk").get<std::string>();
    for (const auto& test : group.at("tests")) {
      const int id = test.at("tcId").get<int>();
      const std::string result = test.at("result").get<std::string>();
      const std::string message_hex = test.at("msg").get<std::string>();
      const std::string signature_hex = test.at("sig").get<std::string>();
      const bool accepted = we_accept(public_key_hex, message_hex, signature_hex);
      const std::string context = "tcId " + std::to_string(id) + " (" + test.value("comment", "") +
                                  ", flags " + test.value("flags", nlohmann::json::array()).dump() +
                                  ")";
      if (result == "valid") {
        ++valid;
        EXPECT_TRUE(accepted) << "valid vector rejected: " << context;
      } else if (result == "invalid") {
        ++invalid;
        EXPECT_FALSE(accepted) << "invalid vector accepted: " << context;
      } else {
        // "acceptable": either answer is allowed, but it must be a stable one.
        ASSERT_EQ(result, "acceptable") << context;
        ++acceptable;
        EXPECT_EQ(we_accept(public_key_hex, message_hex, signature_hex), accepted) << context;
        RecordProperty("acceptable_tcId_" + std::to_string(id), accepted ? "accepted" : "rejected");
      }
      ++checked;
    }
  }
  EXPECT_GT(checked, kMinimumVectors);
  EXPECT_EQ(checked, root.at("numberOfTests").get<std::size_t>());
  EXPECT_GT(valid, 0u);
  EXPECT_GT(invalid, 0u);
  RecordProperty("vectors_checked", static_cast<int>(checked));
  std::printf("wycheproof ed25519: %zu vectors checked (%zu valid, %zu invalid, %zu acceptable)\n",
              checked, valid, invalid, acceptable);
}

}  // namespace
}  // namespace carbon::core
