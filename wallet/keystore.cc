#include "wallet/keystore.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/file.h"

namespace carbon::wallet {
namespace {

using core::ErrorCode;
using core::Status;
using json = nlohmann::json;

// Bounds on what a keystore file may ask of us, so a crafted file cannot make us allocate
// or compute without limit.
constexpr std::uintmax_t kMaxKeystoreFileBytes = 64 * 1024;
constexpr std::uint64_t kMaxMemlimitBytes = 1ULL << 30;
constexpr std::uint64_t kMaxOpslimit = 16;

Status error(ErrorCode code, std::string message) { return Status::error(code, std::move(message)); }

core::Result<std::array<std::uint8_t, crypto_secretbox_KEYBYTES>> derive_key(const std::string& passphrase,
                                                                          const std::uint8_t* salt,
                                                                          const KdfParams& params) {
  std::array<std::uint8_t, crypto_secretbox_KEYBYTES> key{};
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(), passphrase.size(), salt, params.opslimit,
                    static_cast<std::size_t>(params.memlimit_bytes), crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return error(ErrorCode::kInternal, "key derivation failed (out of memory?)");
  }
  return key;
}

core::Result<json> read_json(const std::filesystem::path& path) {
  auto text = core::read_small_file(path, kMaxKeystoreFileBytes);
  if (!text) return error(text.status().code(), "keystore: " + text.status().message());
  json doc = json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return error(ErrorCode::kInvalidArgument, "keystore " + path.string() + " is not valid JSON");
  }
  return doc;
}

// Fetches a string field; reports which one is missing.
core::Result<std::string> string_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_string()) {
    return error(ErrorCode::kInvalidArgument, std::string("keystore field '") + name + "' missing or not a string");
  }
  return it->get<std::string>();
}

core::Result<std::uint64_t> number_field(const json& object, const char* name) {
  auto it = object.find(name);
  if (it == object.end() || !it->is_number_unsigned()) {
    return error(ErrorCode::kInvalidArgument, std::string("keystore field '") + name + "' missing or not a number");
  }
  return it->get<std::uint64_t>();
}

}  // namespace

KdfParams KdfParams::moderate() {
  return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
}
KdfParams KdfParams::interactive() {
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

Status write_keystore(const std::filesystem::path& path, const std::string& name, const core::SecretKey& key,
                      const std::string& passphrase, const KdfParams& params) {
  if (passphrase.empty()) return error(ErrorCode::kInvalidArgument, "the passphrase must not be empty");
  if (params.memlimit_bytes > kMaxMemlimitBytes || params.opslimit > kMaxOpslimit) {
    return error(ErrorCode::kInvalidArgument, "key derivation parameters out of range");
  }
  std::array<std::uint8_t, crypto_pwhash_SALTBYTES> salt{};
  std::array<std::uint8_t, crypto_secretbox_NONCEBYTES> nonce{};
  randombytes_buf(salt.data(), salt.size());
  randombytes_buf(nonce.data(), nonce.size());
  auto derived = derive_key(passphrase, salt.data(), params);
  if (!derived) return derived.status();
  std::array<std::uint8_t, 32 + crypto_secretbox_MACBYTES> sealed{};
  crypto_secretbox_easy(sealed.data(), key.seed().data(), key.seed().size(), nonce.data(), derived->data());
  sodium_memzero(derived->data(), derived->size());

  json doc = {
      {"version", 1},
      {"name", name},
      {"public_key", key.public_key().to_hex()},
      {"kdf",
       {{"algorithm", "argon2id13"},
        {"opslimit", params.opslimit},
        {"memlimit_bytes", params.memlimit_bytes},
        {"salt", core::to_hex(salt)}}},
      {"cipher", {{"algorithm", "xsalsa20poly1305"}, {"nonce", core::to_hex(nonce)}, {"ciphertext", core::to_hex(sealed)}}},
  };
  const std::string text = doc.dump(2) + "\n";
  // O_EXCL: never overwrite a key; 0600: only the owner may read it.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    if (errno == EEXIST) return error(ErrorCode::kConflict, "keystore " + path.string() + " already exists; not overwriting it");
    return error(ErrorCode::kIoError, "cannot create keystore " + path.string() + ": " + std::strerror(errno));
  }
  std::size_t written = 0;
  while (written < text.size()) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const std::string why = std::strerror(errno);
      ::close(fd);
      ::unlink(path.c_str());
      return error(ErrorCode::kIoError, "cannot write keystore " + path.string() + ": " + why);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    return error(ErrorCode::kIoError, "cannot flush keystore " + path.string());
  }
  return Status::ok();
}

namespace {
// An error about a keystore names its file (once).
Status naming_file(const Status& status, const std::filesystem::path& path) {
  if (status.message().find(path.string()) != std::string::npos) return status;
  return Status::error(status.code(), path.string() + ": " + status.message());
}

// The name and public key of a keystore document already read.
core::Result<KeystoreInfo> keystore_info(const json& doc) {
  auto name = string_field(doc, "name");
  if (!name) return name.status();
  auto key_hex = string_field(doc, "public_key");
  if (!key_hex) return key_hex.status();
  auto key = core::PublicKey::from_hex(*key_hex);
  if (!key) return error(ErrorCode::kInvalidArgument, "keystore public_key: " + key.status().message());
  return KeystoreInfo{*name, *key};
}

core::Result<core::SecretKey> open_keystore_unnamed(const std::filesystem::path& path, const std::string& passphrase) {
  auto doc = read_json(path);
  if (!doc) return doc.status();
  auto version = number_field(*doc, "version");
  if (!version) return version.status();
  if (*version != 1) return error(ErrorCode::kInvalidArgument, "unsupported keystore version " + std::to_string(*version));
  auto info = keystore_info(*doc);  // from the document read above: the file is read once
  if (!info) return info.status();
  const auto kdf_it = doc->find("kdf");
  const auto cipher_it = doc->find("cipher");
  if (kdf_it == doc->end() || !kdf_it->is_object() || cipher_it == doc->end() || !cipher_it->is_object()) {
    return error(ErrorCode::kInvalidArgument, "keystore lacks its 'kdf' or 'cipher' section");
  }
  auto algorithm = string_field(*kdf_it, "algorithm");
  if (!algorithm) return algorithm.status();
  if (*algorithm != "argon2id13") return error(ErrorCode::kInvalidArgument, "unsupported key derivation " + *algorithm);
  auto opslimit = number_field(*kdf_it, "opslimit");
  if (!opslimit) return opslimit.status();
  auto memlimit = number_field(*kdf_it, "memlimit_bytes");
  if (!memlimit) return memlimit.status();
  if (*opslimit < crypto_pwhash_OPSLIMIT_MIN || *opslimit > kMaxOpslimit || *memlimit < crypto_pwhash_MEMLIMIT_MIN ||
      *memlimit > kMaxMemlimitBytes) {
    return error(ErrorCode::kInvalidArgument, "keystore key derivation parameters out of range");
  }
  auto salt_hex = string_field(*kdf_it, "salt");
  if (!salt_hex) return salt_hex.status();
  auto salt = core::fixed_from_hex<crypto_pwhash_SALTBYTES>(*salt_hex);
  if (!salt) return error(ErrorCode::kInvalidArgument, "keystore salt: " + salt.status().message());
  auto nonce_hex = string_field(*cipher_it, "nonce");
  if (!nonce_hex) return nonce_hex.status();
  auto nonce = core::fixed_from_hex<crypto_secretbox_NONCEBYTES>(*nonce_hex);
  if (!nonce) return error(ErrorCode::kInvalidArgument, "keystore nonce: " + nonce.status().message());
  auto sealed_hex = string_field(*cipher_it, "ciphertext");
  if (!sealed_hex) return sealed_hex.status();
  auto sealed = core::fixed_from_hex<32 + crypto_secretbox_MACBYTES>(*sealed_hex);
  if (!sealed) return error(ErrorCode::kInvalidArgument, "keystore ciphertext: " + sealed.status().message());

  auto derived = derive_key(passphrase, salt->data(), KdfParams{*opslimit, *memlimit});
  if (!derived) return derived.status();
  std::array<std::uint8_t, 32> seed{};
  const int opened = crypto_secretbox_open_easy(seed.data(), sealed->data(), sealed->size(), nonce->data(), derived->data());
  sodium_memzero(derived->data(), derived->size());
  // Authenticated encryption cannot tell a wrong passphrase from altered ciphertext: say both.
  if (opened != 0) {
    return error(ErrorCode::kUnauthorized,
                 "wrong passphrase for keystore " + path.string() + " (or the file's encrypted key was altered)");
  }
  core::SecretKey key(seed);
  sodium_memzero(seed.data(), seed.size());
  if (key.public_key() != info->public_key) {
    return error(ErrorCode::kInvalidArgument, "keystore " + path.string() + " is corrupt: its key does not match its public_key");
  }
  return key;
}
}  // namespace

core::Result<KeystoreInfo> read_keystore_info(const std::filesystem::path& path) {
  auto doc = read_json(path);
  if (!doc) return naming_file(doc.status(), path);
  auto info = keystore_info(*doc);
  if (!info) return naming_file(info.status(), path);
  return info;
}

core::Result<core::SecretKey> open_keystore(const std::filesystem::path& path, const std::string& passphrase) {
  auto key = open_keystore_unnamed(path, passphrase);
  if (!key) return naming_file(key.status(), path);
  return key;
}

}  // namespace carbon::wallet
