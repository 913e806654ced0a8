// Strong time types. Durations are std::chrono::nanoseconds; instants are time_points of two
// distinct tag clocks so that a monotonic instant can never be mixed with a wall-clock one.
// The tags have no now(): time comes only from the Env's Clock.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace gregor {

using Duration = std::chrono::nanoseconds;
using std::chrono::hours;
using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// Tag for the monotonic clock: never goes back, starts at an arbitrary origin.
struct MonoClock {
  using rep = int64_t;
  using period = std::nano;
  using duration = Duration;
  static constexpr bool is_steady = true;
};
// Tag for the wall clock: nanoseconds since the Unix epoch; may jump in either direction.
struct WallClock {
  using rep = int64_t;
  using period = std::nano;
  using duration = Duration;
  static constexpr bool is_steady = false;
};

using MonoTime = std::chrono::time_point<MonoClock, Duration>;
using WallTime = std::chrono::time_point<WallClock, Duration>;

inline int64_t to_ns(Duration d) {
  return d.count();
}
inline int64_t to_ms(Duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}
inline double to_seconds(Duration d) {
  return static_cast<double>(d.count()) / 1e9;
}
inline int64_t to_ns(MonoTime t) {
  return t.time_since_epoch().count();
}
inline int64_t to_ms(WallTime t) {
  return to_ms(t.time_since_epoch());
}

// "1.250s", "15ms", "3us": compact human form used in logs and reports.
std::string format_duration(Duration d);

}  // namespace gregor
