#include "base/time.h"

#include <fmt/format.h>

namespace gregor {

std::string format_duration(Duration d) {
  int64_t ns = d.count();
  int64_t abs = ns < 0 ? -ns : ns;
  if (abs >= 1'000'000'000) return fmt::format("{:.3f}s", static_cast<double>(ns) / 1e9);
  if (abs >= 1'000'000) return fmt::format("{:.3f}ms", static_cast<double>(ns) / 1e6);
  if (abs >= 1'000) return fmt::format("{:.3f}us", static_cast<double>(ns) / 1e3);
  return fmt::format("{}ns", ns);
}

}  // namespace gregor
