// The wallet's encrypted keystore: one JSON file per key, the Ed25519 seed sealed with a key
// derived from a passphrase.
//
// Format (version 1):
//   {"version":1, "name":"...", "public_key":"<hex>",
//    "kdf":{"algorithm":"argon2id13","opslimit":N,"memlimit_bytes":N,"salt":"<hex 16>"},
//    "cipher":{"algorithm":"xsalsa20poly1305","nonce":"<hex 24>","ciphertext":"<hex 48>"}}
// The ciphertext is libsodium secretbox of the 32-byte seed under Argon2id(passphrase, salt).
// A wrong passphrase fails authentication ("wrong passphrase"); nothing is written on failure;
// files are created with mode 0600 and never overwritten.
//
// Thread safety: free functions, reentrant.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "core/keys.h"
#include "core/status.h"

namespace carbon::wallet {

struct KdfParams {
  std::uint64_t opslimit = 0;
  std::uint64_t memlimit_bytes = 0;
  // libsodium's "moderate" Argon2id profile: 3 passes over 256 MiB, about a second here.
  static KdfParams moderate();
  // libsodium's "interactive" profile (2 passes, 64 MiB): for tests and scripted demos.
  static KdfParams interactive();
};

// Seals `key` under `passphrase` into a new file at `path` (which must not exist).
core::Status write_keystore(const std::filesystem::path& path, const std::string& name, const core::SecretKey& key,
                            const std::string& passphrase, const KdfParams& params);

struct KeystoreInfo {
  std::string name;
  core::PublicKey public_key;
};

// Reads the public part only (no passphrase needed).
core::Result<KeystoreInfo> read_keystore_info(const std::filesystem::path& path);

// Opens the file with `passphrase`; checks that the sealed seed matches the stated public key.
core::Result<core::SecretKey> open_keystore(const std::filesystem::path& path, const std::string& passphrase);

}  // namespace carbon::wallet
