#include "sim/determinism.h"

#include <fmt/format.h>

namespace gregor::sim {

std::optional<size_t> first_difference(const std::vector<std::string>& a,
                                       const std::vector<std::string>& b) {
  size_t n = std::min(a.size(), b.size());
  for (size_t i = 0; i < n; ++i)
    if (a[i] != b[i]) return i;
  if (a.size() != b.size()) return n;
  return std::nullopt;
}

std::string describe_difference(size_t index, const std::vector<std::string>& a,
                                const std::vector<std::string>& b) {
  auto at = [](const std::vector<std::string>& v, size_t i) {
    return i < v.size() ? v[i] : std::string("<end of trace>");
  };
  std::string s = fmt::format("determinism: traces differ at line {} (of {} and {})\n", index + 1,
                              a.size(), b.size());
  if (index > 0) s += fmt::format("  before: {}\n", at(a, index - 1));
  s += fmt::format("  run 1:  {}\n  run 2:  {}\n", at(a, index), at(b, index));
  return s;
}

}  // namespace gregor::sim
