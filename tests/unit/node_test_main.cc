// Entry point for node_transport_tests: libsodium must be initialized once before any test
// signs, verifies or encrypts (see core/keys.h).
#include <gtest/gtest.h>

#include <cstdio>

#include "core/keys.h"

#if defined(__SANITIZE_ADDRESS__)
#define CARBON_TESTS_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CARBON_TESTS_UNDER_ASAN 1
#endif
#endif

#ifdef CARBON_TESTS_UNDER_ASAN
// A frame header is checked before anything is buffered, so a single allocation this large
// means a missing bound: ASan then aborts the test. ASAN_OPTIONS still override this.
extern "C" const char* __asan_default_options() { return "max_allocation_size_mb=256"; }
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!carbon::core::init_crypto()) {
    std::fprintf(stderr, "node_transport_tests: libsodium could not be initialized\n");
    return 1;
  }
  return RUN_ALL_TESTS();
}
