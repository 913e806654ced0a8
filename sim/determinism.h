// Helpers for the determinism check: the same (scenario, seed) must give byte-identical traces.
// When two runs differ, the first differing line is what a developer needs to find the cause
// (an unordered container, an uninitialised field, a wall-clock read).
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

namespace gregor::sim {

// Index of the first line where a and b differ (or where one ends), nullopt if identical.
std::optional<size_t> first_difference(const std::vector<std::string>& a,
                                       const std::vector<std::string>& b);
// A readable report of that difference, with a line of context before it.
std::string describe_difference(size_t index, const std::vector<std::string>& a,
                                const std::vector<std::string>& b);

}  // namespace gregor::sim
