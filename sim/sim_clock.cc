#include "sim/sim_clock.h"

#include "base/assert.h"

namespace gregor::sim {

MonoTime SimClock::now() {
  Duration elapsed = world_.now() - anchor_virtual_;
  Duration skew = Duration(elapsed.count() / 1'000'000 * drift_ppm_ +
                           elapsed.count() % 1'000'000 * drift_ppm_ / 1'000'000);
  return anchor_local_ + elapsed + skew;
}

WallTime SimClock::wall_now() {
  return WallTime(seconds(kSimWallEpochSeconds)) + now().time_since_epoch() + wall_offset_;
}

TimerId SimClock::schedule(Duration delay, std::function<void()> fn) {
  if (delay < Duration::zero()) delay = Duration::zero();
  // Local delay -> virtual delay, rounded up so the timer never fires early by the local clock.
  int64_t rate = 1'000'000 + drift_ppm_;
  __int128 scaled = static_cast<__int128>(delay.count()) * 1'000'000;
  int64_t virtual_ns = static_cast<int64_t>((scaled + rate - 1) / rate);
  return world_.after(Duration(virtual_ns), node_, std::move(fn));
}

void SimClock::set_drift_ppm(int64_t ppm) {
  GREGOR_ASSERT(ppm > -kClockDriftPpmMax && ppm < kClockDriftPpmMax, "drift {} ppm", ppm);
  anchor_local_ = now();
  anchor_virtual_ = world_.now();
  drift_ppm_ = ppm;
}

}  // namespace gregor::sim
