// Always-on assertions for programmer errors.
//
// These stay enabled in release builds (TigerBeetle style): a broken invariant stops the
// process at once, loudly, rather than letting it go on with corrupt state. They must never
// fire because of input from a peer, a client or a file; such input is a Status instead.
#pragma once

namespace carbon::core {
[[noreturn]] void assertion_failed(const char* expr, const char* file, int line, const char* message);
}  // namespace carbon::core

#define CARBON_ASSERT(expr)                                                              \
  do {                                                                                   \
    if (!(expr)) ::carbon::core::assertion_failed(#expr, __FILE__, __LINE__, nullptr);  \
  } while (0)

#define CARBON_ASSERT_MSG(expr, message)                                                 \
  do {                                                                                   \
    if (!(expr)) ::carbon::core::assertion_failed(#expr, __FILE__, __LINE__, (message)); \
  } while (0)
