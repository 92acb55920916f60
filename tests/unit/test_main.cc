// Entry point for every unit-test executable: libsodium must be initialized once before any
// test signs, verifies or encrypts (see core/keys.h).
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
// No decoder may allocate on the word of a length prefix before checking it against the input,
// so a single allocation of this size means a missing bound: ASan then aborts the test instead
// of quietly zero-filling gigabytes. ASAN_OPTIONS from the environment still override this.
extern "C" const char* __asan_default_options() { return "max_allocation_size_mb=256"; }
#endif

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (!carbon::core::init_crypto()) {
    std::fprintf(stderr, "%s: libsodium could not be initialized\n", argc > 0 ? argv[0] : "tests");
    return 1;
  }
  // Death tests fork; "threadsafe" re-executes the binary so gtest's own threads and
  // sanitizer runtimes cannot leave the child in a bad state.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  return RUN_ALL_TESTS();
}
