// verify_bench: the cost of one Ed25519 verification on this machine, for the strict verifier
// (core::verify_signature: libsodium's strict rules, Crypto++'s equation), for libsodium's
// crypto_sign_verify_detached alone and for the cofactored rule one at a time
// (core::verify_cofactored), in alternation so that all see the same machine; then the cost per
// signature of batch verification (core::verify_batch, batches of 4 to 256), which is how the
// node checks transactions' signatures. A program that prints figures, not a test.
//
//   verify_bench [--verifications N] [--rounds R]
#include <sodium.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/ed25519_batch.h"
#include "core/keys.h"

namespace {

using Clock = std::chrono::steady_clock;
using carbon::core::Bytes;
using carbon::core::SecretKey;
using carbon::core::Signature;

struct Signed {
  SecretKey key;
  Bytes message;
  Signature signature;
};

}  // namespace

int main(int argc, char** argv) {
  if (!carbon::core::init_crypto()) return 1;
  std::size_t verifications = 10'000, rounds = 3;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    const std::size_t value = std::strtoull(argv[i + 1], nullptr, 10);
    if (flag == "--verifications") verifications = value;
    else if (flag == "--rounds") rounds = value;
  }
  // 256 keys and 160-byte messages, about the size of a signed transfer's body.
  std::vector<Signed> samples;
  for (std::size_t k = 0; k < 256; ++k) {
    Signed sample{carbon::core::generate_secret_key(), Bytes(160), {}};
    randombytes_buf(sample.message.data(), sample.message.size());
    sample.signature = sample.key.sign(sample.message);
    samples.push_back(std::move(sample));
  }
  const auto micros_each = [&](auto verify) {
    std::size_t accepted = 0;
    const auto start = Clock::now();
    for (std::size_t i = 0; i < verifications; ++i) {
      if (verify(samples[i % samples.size()])) ++accepted;
    }
    const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
    if (accepted != verifications) std::fprintf(stderr, "verify_bench: a genuine signature was refused\n");
    return us / static_cast<double>(verifications);
  };
  std::printf("Ed25519 verification, %zu signatures per measurement, one core:\n", verifications);
  for (std::size_t round = 1; round <= rounds; ++round) {
    const double ours = micros_each([](const Signed& s) {
      return carbon::core::verify_signature(s.key.public_key(), s.message, s.signature);
    });
    const double sodium = micros_each([](const Signed& s) {
      return crypto_sign_verify_detached(s.signature.bytes.data(), s.message.data(), s.message.size(),
                                         s.key.public_key().bytes.data()) == 0;
    });
    const double cofactored = micros_each([](const Signed& s) {
      return carbon::core::verify_cofactored(s.key.public_key(), s.message, s.signature);
    });
    std::printf("  round %zu: node's verifier %.1f us (%.0f/s), libsodium alone %.1f us (%.0f/s), "
                "cofactored one at a time %.1f us\n",
                round, ours, 1e6 / ours, sodium, 1e6 / sodium, cofactored);
    // Batches (core/ed25519_batch.h): the cost per signature.
    std::printf("    batches:");
    for (const std::size_t batch_size : {4u, 16u, 64u, 256u}) {
      std::vector<carbon::core::BatchSignature> batch;
      std::vector<carbon::core::PublicKey> keys(batch_size);
      for (std::size_t i = 0; i < batch_size; ++i) keys[i] = samples[i % samples.size()].key.public_key();
      for (std::size_t i = 0; i < batch_size; ++i) {
        const Signed& s = samples[i % samples.size()];
        batch.push_back({&keys[i], s.message, &s.signature});
      }
      const std::size_t batches = std::max<std::size_t>(1, verifications / batch_size);
      std::size_t passed = 0;
      const auto start = Clock::now();
      for (std::size_t b = 0; b < batches; ++b) passed += carbon::core::verify_batch(batch) ? 1u : 0u;
      const double us = std::chrono::duration<double, std::micro>(Clock::now() - start).count();
      if (passed != batches) std::fprintf(stderr, "verify_bench: a batch of genuine signatures was refused\n");
      std::printf("  %zu: %.1f us", batch_size, us / static_cast<double>(batches * batch_size));
    }
    std::printf(" per signature\n");
  }
  return 0;
}
