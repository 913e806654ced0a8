// The clock benchmarks time real runs with (never node/'s: node/ sees time only through Env).
#pragma once

#include <chrono>

namespace gregor::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

}  // namespace gregor::bench
