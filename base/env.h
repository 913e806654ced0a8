// The Env seam: the only way node/ and client/ code reaches time, randomness, the network, the
// disk and the trace. Production wires it to epoll, POSIX files and the real clocks (net/, disk/);
// the simulator wires it to virtual time and fault-injecting doubles (sim/).
//
// Contract for every callback-taking call in the seam: the callback runs later, from the event
// loop, never re-entrantly inside the call that registered it; and it never runs after the
// owning process has crashed (the simulator drops it) or after the object it belongs to was
// closed by its owner.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "base/random.h"
#include "base/status.h"
#include "base/time.h"
#include "base/trace.h"

namespace gregor {

namespace net {
class Network;
}
namespace disk {
class Disk;
}

class FaultPoints;  // base/fault_points.h

using TimerId = uint64_t;
inline constexpr TimerId kNoTimer = 0;

class Clock {
 public:
  virtual ~Clock() = default;
  // Monotonic time: never goes back. Use for timeouts and intervals.
  virtual MonoTime now() = 0;
  // Wall-clock time: may jump either way (NTP, operators, skew). Use for record timestamps only.
  virtual WallTime wall_now() = 0;
  // Runs fn once after `delay` of monotonic time. Returns an id for cancel(); never kNoTimer.
  virtual TimerId schedule(Duration delay, std::function<void()> fn) = 0;
  // Cancels a pending timer. No-op for ids that already fired or were cancelled.
  virtual void cancel(TimerId id) = 0;
};

struct Env {
  Clock& clock;
  Random& random;  // this process's own stream
  net::Network& network;
  disk::Disk& disk;
  Tracer& tracer;
  std::string node_name;  // "n1", "client-3", or the broker id in production
  bool simulated = false;
  // BUGGIFY fault points and coverage probes (base/fault_points.h): set by the simulator only;
  // null in production, where GREGOR_BUGGIFY is false and GREGOR_PROBE a no-op. Last, so that
  // aggregate initializations naming the fields above need not mention it.
  FaultPoints* fault_points = nullptr;
  // The process cannot go on and must be restarted (Kafka's Exit.halt, e.g. its only log dir
  // failed). Production exits with status 1 so a supervisor (systemd, Kubernetes) restarts it;
  // the simulator ends the process (a process exit: the page cache survives) and restarts it
  // after a supervisor delay. Runs later, never inside the call. Null: nobody restarts it (unit
  // tests), so callers log and carry on degraded.
  std::function<void(const Status& why)> halt;
};

}  // namespace gregor
