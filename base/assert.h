// Always-on assertions (TigerBeetle style): a broken invariant stops the process, in release
// builds too. Operating errors (ENOSPC, bad CRC, peer gone, bad request) are Status values, never
// assertions: use GREGOR_ASSERT only for things that cannot happen unless our code is wrong.
#pragma once

#include <fmt/format.h>

#include <string_view>

namespace gregor {

[[noreturn]] void assert_fail(const char* expr, const char* file, int line, std::string_view msg);

}  // namespace gregor

#define GREGOR_ASSERT(cond, ...)                                                       \
  do {                                                                                 \
    if (__builtin_expect(!(cond), 0)) {                                                \
      ::gregor::assert_fail(#cond, __FILE__, __LINE__, ::fmt::format("" __VA_ARGS__)); \
    }                                                                                  \
  } while (0)

#define GREGOR_UNREACHABLE(...) \
  ::gregor::assert_fail("unreachable", __FILE__, __LINE__, ::fmt::format("" __VA_ARGS__))
