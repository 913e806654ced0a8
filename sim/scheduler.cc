#include "sim/scheduler.h"

#include <algorithm>

#include "base/assert.h"

namespace gregor::sim {
namespace {
EventId make_id(uint32_t slot, uint32_t generation) {
  return (static_cast<uint64_t>(generation) << 32) | slot;
}
uint32_t id_slot(EventId id) {
  return static_cast<uint32_t>(id);
}
uint32_t id_generation(EventId id) {
  return static_cast<uint32_t>(id >> 32);
}
}  // namespace

EventId Scheduler::schedule(MonoTime at, std::function<void()> fn, EventOwner owner) {
  GREGOR_ASSERT(fn, "scheduling an empty callback");
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    GREGOR_ASSERT(slots_.size() < UINT32_MAX, "event slots exhausted");
    index = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  Slot& s = slots_[index];
  s.fn = std::move(fn);
  s.owner = owner;
  s.live = true;
  ++live_;
  push(std::max(at, now_).time_since_epoch().count(), index);
  return make_id(index, s.generation);
}

void Scheduler::push(int64_t time_ns, uint32_t index) {
  heap_.push_back(Entry{time_ns, seq_++, index, slots_[index].generation});
  std::push_heap(heap_.begin(), heap_.end(), later);
}

Scheduler::Slot* Scheduler::live_slot(EventId id) {
  uint32_t index = id_slot(id);
  if (index >= slots_.size()) return nullptr;
  Slot& s = slots_[index];
  return (s.live && s.generation == id_generation(id)) ? &s : nullptr;
}

const Scheduler::Slot* Scheduler::live_slot(EventId id) const {
  return const_cast<Scheduler*>(this)->live_slot(id);
}

void Scheduler::retire(uint32_t index) {
  Slot& s = slots_[index];
  s.fn = nullptr;
  s.live = false;
  ++s.generation;  // stale heap entries and ids of this slot no longer match
  if (s.generation == 0) s.generation = 1;
  --live_;
  free_.push_back(index);
}

bool Scheduler::cancel(EventId id) {
  if (!live_slot(id)) return false;
  retire(id_slot(id));
  return true;
}

bool Scheduler::is_pending(EventId id) const {
  return live_slot(id) != nullptr;
}

bool Scheduler::pop(Due& due) {
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    Entry e = heap_.back();
    heap_.pop_back();
    Slot& s = slots_[e.slot];
    if (!s.live || s.generation != e.generation) continue;  // cancelled
    GREGOR_ASSERT(e.time_ns >= now_.time_since_epoch().count(), "time went backwards");
    now_ = MonoTime(Duration(e.time_ns));
    due = Due{make_id(e.slot, e.generation), now_, s.owner};
    return true;
  }
  return false;
}

void Scheduler::run(EventId id) {
  Slot* s = live_slot(id);
  GREGOR_ASSERT(s, "run() of an event that is not pending");
  // Move the callback out first: it may schedule events, which can reallocate slots_.
  std::function<void()> fn = std::move(s->fn);
  retire(id_slot(id));
  ++executed_;
  fn();
}

void Scheduler::discard(EventId id) {
  GREGOR_ASSERT(live_slot(id), "discard() of an event that is not pending");
  retire(id_slot(id));
}

void Scheduler::requeue(EventId id, MonoTime at) {
  GREGOR_ASSERT(live_slot(id), "requeue() of an event that is not pending");
  push(std::max(at, now_).time_since_epoch().count(), id_slot(id));
}

bool Scheduler::run_next() {
  Due due;
  if (!pop(due)) return false;
  run(due.id);
  return true;
}

MonoTime Scheduler::next_time() {
  // Cancelled entries on top are dropped first: an early estimate would let run_until(t) step
  // past t (step() skips the cancelled entry and runs the next live event, however late).
  while (!heap_.empty()) {
    const Entry& e = heap_.front();
    const Slot& s = slots_[e.slot];
    if (s.live && s.generation == e.generation) return MonoTime(Duration(e.time_ns));
    std::pop_heap(heap_.begin(), heap_.end(), later);
    heap_.pop_back();
  }
  return MonoTime::max();
}

}  // namespace gregor::sim
