#include "base/assert.h"

#include <cstdio>
#include <cstdlib>

namespace gregor {

void assert_fail(const char* expr, const char* file, int line, std::string_view msg) {
  // stderr directly, not the logger: the logger may be what is broken.
  std::fprintf(stderr, "assertion failed: %s at %s:%d%s%.*s\n", expr, file, line,
               msg.empty() ? "" : ": ", static_cast<int>(msg.size()), msg.data());
  std::fflush(stderr);
  std::abort();
}

}  // namespace gregor
