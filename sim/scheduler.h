// The simulator's event queue: events ordered by (virtual time, sequence number), where the
// sequence number is the order of scheduling. Two events at the same instant therefore always run
// in the order they were scheduled, which is what makes a run replay exactly from its seed.
//
// Each event may carry an owner tag (node id, incarnation) that the World reads when the event
// comes due, so that events of crashed processes are dropped and those of paused ones deferred.
// An event's id stays valid while it is pending, including while the World holds it deferred.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "base/time.h"

namespace gregor::sim {

using EventId = uint64_t;  // never 0
inline constexpr EventId kNoEvent = 0;

struct EventOwner {
  uint32_t node = 0;  // 0: the world itself (faults, workload drivers)
  uint32_t incarnation = 0;
};

class Scheduler {
 public:
  struct Due {
    EventId id;
    MonoTime time;
    EventOwner owner;
  };

  MonoTime now() const { return now_; }
  // Schedules fn at `at` (clamped to now: the past cannot be scheduled).
  EventId schedule(MonoTime at, std::function<void()> fn, EventOwner owner = {});
  // Cancels a pending event. Returns false if it already ran, was cancelled or never existed.
  bool cancel(EventId id);
  bool is_pending(EventId id) const;

  // Pops the next due event and advances now() to its time; the event stays pending (its slot
  // alive) until run() or discard(). Returns false when no events remain.
  bool pop(Due& due);
  void run(EventId id);                   // runs and retires a popped event
  void discard(EventId id);               // retires a popped event without running it
  void requeue(EventId id, MonoTime at);  // puts a popped (deferred) event back in the queue

  // pop + run, for callers with no owners (tests, benchmarks).
  bool run_next();

  // The time of the next live event (cancelled ones are dropped on the way); MonoTime::max()
  // when none is pending.
  MonoTime next_time();
  size_t pending() const { return live_; }
  uint64_t executed() const { return executed_; }

 private:
  struct Slot {
    std::function<void()> fn;
    EventOwner owner;
    uint32_t generation = 1;
    bool live = false;
  };
  struct Entry {
    int64_t time_ns;
    uint64_t seq;
    uint32_t slot;
    uint32_t generation;
  };
  static bool later(const Entry& a, const Entry& b) {
    return a.time_ns != b.time_ns ? a.time_ns > b.time_ns : a.seq > b.seq;
  }
  Slot* live_slot(EventId id);
  const Slot* live_slot(EventId id) const;
  void push(int64_t time_ns, uint32_t slot);
  void retire(uint32_t index);

  std::vector<Entry> heap_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_;
  MonoTime now_{};
  uint64_t seq_ = 0;
  uint64_t executed_ = 0;
  size_t live_ = 0;
};

}  // namespace gregor::sim
