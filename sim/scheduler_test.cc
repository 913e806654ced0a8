// Proves the scheduler's ordering contract: events run in (time, scheduling order), cancelled
// events never run, time never goes back, and ids stay valid exactly while an event is pending.
#include "sim/scheduler.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>

namespace gregor::sim {
namespace {

MonoTime at_ns(int64_t ns) {
  return MonoTime(Duration(ns));
}

TEST(Scheduler, RunsInTimeThenSchedulingOrder) {
  Scheduler s;
  std::vector<int> order;
  s.schedule(at_ns(20), [&] { order.push_back(3); });
  s.schedule(at_ns(10), [&] { order.push_back(1); });
  s.schedule(at_ns(10), [&] { order.push_back(2); });
  while (s.run_next()) {
  }
  EXPECT_EQ(order, (std::vector<int>{1, 2, 3}));
  EXPECT_EQ(s.now(), at_ns(20));
  EXPECT_EQ(s.executed(), 3u);
}

TEST(Scheduler, CancelledEventsNeverRunAndIdsExpire) {
  Scheduler s;
  int ran = 0;
  EventId a = s.schedule(at_ns(5), [&] { ++ran; });
  EventId b = s.schedule(at_ns(6), [&] { ++ran; });
  EXPECT_TRUE(s.is_pending(a));
  EXPECT_TRUE(s.cancel(a));
  EXPECT_FALSE(s.cancel(a));
  EXPECT_FALSE(s.is_pending(a));
  while (s.run_next()) {
  }
  EXPECT_EQ(ran, 1);
  EXPECT_FALSE(s.is_pending(b));
  EXPECT_FALSE(s.cancel(b));
  // A recycled slot gets a new generation: the old id does not cancel the new event.
  EventId c = s.schedule(at_ns(7), [&] { ++ran; });
  EXPECT_FALSE(s.cancel(a));
  EXPECT_TRUE(s.is_pending(c));
}

TEST(Scheduler, PastIsClampedToNow) {
  Scheduler s;
  s.schedule(at_ns(100), [] {});
  s.run_next();
  MonoTime seen{};
  s.schedule(at_ns(1), [&] { seen = s.now(); });
  s.run_next();
  EXPECT_EQ(seen, at_ns(100));
}

TEST(Scheduler, EventsScheduledFromEventsInterleave) {
  Scheduler s;
  std::vector<int64_t> times;
  int links = 0;
  std::function<void()> chain = [&] {
    times.push_back(to_ns(s.now()));
    if (++links < 5) s.schedule(s.now() + Duration(10), chain);
  };
  s.schedule(at_ns(0), chain);
  s.schedule(at_ns(25), [&] { times.push_back(-25); });
  while (s.run_next()) {
  }
  EXPECT_EQ(times, (std::vector<int64_t>{0, 10, 20, -25, 30, 40}));
}

TEST(Scheduler, DeferredEventKeepsItsIdUntilRequeued) {
  Scheduler s;
  int ran = 0;
  EventId id = s.schedule(at_ns(10), [&] { ++ran; });
  Scheduler::Due due;
  ASSERT_TRUE(s.pop(due));
  EXPECT_EQ(due.id, id);
  EXPECT_TRUE(s.is_pending(id));  // popped but not run: deferred
  s.requeue(id, at_ns(50));
  while (s.run_next()) {
  }
  EXPECT_EQ(ran, 1);
  EXPECT_EQ(s.now(), at_ns(50));
}

// Random schedules and cancellations: the execution order equals sorting the surviving events by
// (time, scheduling order), and now() never decreases.
RC_GTEST_PROP(SchedulerProperty, OrderMatchesModel, ()) {
  auto times = *rc::gen::container<std::vector<int64_t>>(rc::gen::inRange<int64_t>(0, 50));
  auto cancels = *rc::gen::container<std::vector<bool>>(times.size(), rc::gen::arbitrary<bool>());
  Scheduler s;
  std::vector<size_t> ran;
  std::vector<EventId> ids;
  for (size_t i = 0; i < times.size(); ++i)
    ids.push_back(s.schedule(at_ns(times[i]), [&ran, i] { ran.push_back(i); }));
  std::vector<size_t> expected;
  for (size_t i = 0; i < times.size(); ++i) {
    if (cancels[i]) {
      RC_ASSERT(s.cancel(ids[i]));
    } else {
      expected.push_back(i);
    }
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [&](size_t a, size_t b) { return times[a] < times[b]; });
  MonoTime last{};
  Scheduler::Due due;
  while (s.pop(due)) {
    RC_ASSERT(due.time >= last);
    last = due.time;
    s.run(due.id);
  }
  RC_ASSERT(ran == expected);
  RC_ASSERT(s.pending() == 0u);
}

}  // namespace
}  // namespace gregor::sim
