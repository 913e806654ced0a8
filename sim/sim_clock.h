// A simulated node's clocks. The monotonic clock runs at (1 + drift) times virtual time and never
// goes back; the wall clock is the monotonic clock plus an offset that jumps (NTP steps,
// operators, bad hardware). Timers are World events owned by the node, so a crash drops them and
// a pause defers them.
#pragma once

#include <cstdint>

#include "base/env.h"
#include "sim/world.h"

namespace gregor::sim {

// The simulated wall clock's epoch: 2026-01-01T00:00:00Z. A fixed date keeps traces identical.
inline constexpr int64_t kSimWallEpochSeconds = 1767225600;
// Clock drift is bounded like real oscillators (and so that timers stay meaningful).
inline constexpr int64_t kClockDriftPpmMax = 100'000;

class SimClock final : public Clock {
 public:
  SimClock(World& world, NodeId node) : world_(world), node_(node) {}

  MonoTime now() override;
  WallTime wall_now() override;
  TimerId schedule(Duration delay, std::function<void()> fn) override;
  void cancel(TimerId id) override { world_.cancel(id); }

  // Drift in parts per million (+: fast). Re-anchored so now() stays continuous.
  void set_drift_ppm(int64_t ppm);
  int64_t drift_ppm() const { return drift_ppm_; }
  // Steps the wall clock by delta (either sign); monotonic time is untouched.
  void jump_wall(Duration delta) { wall_offset_ += delta; }
  Duration wall_offset() const { return wall_offset_; }

 private:
  World& world_;
  NodeId node_;
  int64_t drift_ppm_ = 0;
  MonoTime anchor_virtual_{};  // virtual time of the last re-anchor
  MonoTime anchor_local_{};    // node's monotonic time then
  Duration wall_offset_{};
};

}  // namespace gregor::sim
