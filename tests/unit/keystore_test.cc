// The wallet keystore: round trip, wrong passphrase, tampering, and refusing bad files.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/keys.h"
#include "wallet/keystore.h"

namespace carbon::wallet {
namespace {

class KeystoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(core::init_crypto());
    dir_ = std::filesystem::temp_directory_path() /
           ("carbon-keystore-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  core::SecretKey fixed_key() const {
    std::array<std::uint8_t, 32> seed{};
    for (std::size_t i = 0; i < seed.size(); ++i) seed[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return core::SecretKey(seed);
  }

  std::string read(const std::filesystem::path& path) const {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  void write(const std::filesystem::path& path, const std::string& text) const {
    std::ofstream out(path, std::ios::trunc);
    out << text;
  }

  std::filesystem::path dir_;
};

TEST_F(KeystoreTest, RoundTripRecoversTheSameKeyAndFileIsPrivate) {
  const auto path = dir_ / "alice.json";
  const auto key = fixed_key();
  ASSERT_TRUE(write_keystore(path, "alice", key, "correct horse", KdfParams::interactive()).is_ok());
  struct stat info {};
  ASSERT_EQ(::stat(path.c_str(), &info), 0);
  EXPECT_EQ(info.st_mode & 0777, 0600u);
  EXPECT_EQ(read(path).find(core::to_hex(key.seed())), std::string::npos) << "the seed must not appear in clear";

  auto opened = open_keystore(path, "correct horse");
  ASSERT_TRUE(opened.is_ok()) << opened.status().to_string();
  EXPECT_EQ(opened->seed(), key.seed());
  auto public_info = read_keystore_info(path);
  ASSERT_TRUE(public_info.is_ok());
  EXPECT_EQ(public_info->name, "alice");
  EXPECT_EQ(public_info->public_key, key.public_key());
}

TEST_F(KeystoreTest, WrongPassphraseIsRefusedClearly) {
  const auto path = dir_ / "bob.json";
  ASSERT_TRUE(write_keystore(path, "bob", fixed_key(), "right", KdfParams::interactive()).is_ok());
  auto opened = open_keystore(path, "wrong");
  ASSERT_FALSE(opened.is_ok());
  EXPECT_EQ(opened.status().code(), core::ErrorCode::kUnauthorized);
  EXPECT_NE(opened.status().message().find("wrong passphrase"), std::string::npos);
}

TEST_F(KeystoreTest, NeverOverwritesAnExistingKeystore) {
  const auto path = dir_ / "carol.json";
  ASSERT_TRUE(write_keystore(path, "carol", fixed_key(), "pw", KdfParams::interactive()).is_ok());
  const std::string before = read(path);
  auto again = write_keystore(path, "carol", core::generate_secret_key(), "pw", KdfParams::interactive());
  EXPECT_EQ(again.code(), core::ErrorCode::kConflict);
  EXPECT_EQ(read(path), before);
}

TEST_F(KeystoreTest, EmptyPassphraseIsRefused) {
  EXPECT_EQ(write_keystore(dir_ / "x.json", "x", fixed_key(), "", KdfParams::interactive()).code(),
            core::ErrorCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_ / "x.json"));
}

TEST_F(KeystoreTest, TamperedCiphertextOrSwappedPublicKeyIsRefused) {
  const auto path = dir_ / "dave.json";
  ASSERT_TRUE(write_keystore(path, "dave", fixed_key(), "pw", KdfParams::interactive()).is_ok());
  std::string text = read(path);
  const auto at = text.find("\"ciphertext\": \"") + 15;
  text[at] = text[at] == 'a' ? 'b' : 'a';
  write(path, text);
  EXPECT_EQ(open_keystore(path, "pw").status().code(), core::ErrorCode::kUnauthorized);

  const auto other = dir_ / "erin.json";
  ASSERT_TRUE(write_keystore(other, "erin", fixed_key(), "pw", KdfParams::interactive()).is_ok());
  std::string swapped = read(other);
  const std::string real_key = fixed_key().public_key().to_hex();
  const std::string fake_key = core::generate_secret_key().public_key().to_hex();
  swapped.replace(swapped.find(real_key), real_key.size(), fake_key);
  write(other, swapped);
  auto opened = open_keystore(other, "pw");
  ASSERT_FALSE(opened.is_ok());
  EXPECT_NE(opened.status().message().find("does not match"), std::string::npos);
}

TEST_F(KeystoreTest, MalformedFilesGiveClearErrorsNotCrashes) {
  const auto path = dir_ / "bad.json";
  const std::vector<std::string> bad_files = {
      "",
      "not json",
      "[]",
      R"({"version":2})",
      R"({"version":1,"name":"x","public_key":"zz"})",
      R"({"version":1,"name":"x","public_key":"00"})",
      R"({"version":1,"name":"x","public_key":")" + fixed_key().public_key().to_hex() +
          R"(","kdf":{"algorithm":"argon2id13","opslimit":1000000,"memlimit_bytes":67108864,"salt":"00"},"cipher":{}})",
      R"({"version":1,"name":"x","public_key":")" + fixed_key().public_key().to_hex() +
          R"(","kdf":{"algorithm":"scrypt","opslimit":2,"memlimit_bytes":67108864,"salt":"00"},"cipher":{}})",
  };
  for (const auto& text : bad_files) {
    write(path, text);
    auto opened = open_keystore(path, "pw");
    EXPECT_FALSE(opened.is_ok()) << text;
    EXPECT_FALSE(opened.status().message().empty()) << text;
  }
  EXPECT_EQ(open_keystore(dir_ / "missing.json", "pw").status().code(), core::ErrorCode::kNotFound);
}

}  // namespace
}  // namespace carbon::wallet
