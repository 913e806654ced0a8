// Proves the World's process model: events of a killed incarnation never run (so no callback
// reaches a destroyed service), a paused node's events wait and keep their order and ids, named
// random streams are stable, and node clocks drift and jump without going back.
#include "sim/world.h"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>

#include <sstream>

#include "base/log.h"
#include "sim/sim_clock.h"

namespace gregor::sim {
namespace {

TEST(World, KilledIncarnationEventsAreDropped) {
  World w(World::Options{1, {}});
  NodeId n = w.add_node("n1");
  int ran = 0;
  w.after(milliseconds(10), n, [&] { ++ran; });
  w.kill(n);
  w.revive(n);
  w.after(milliseconds(20), n, [&] { ran += 10; });
  w.run_for(seconds(1));
  EXPECT_EQ(ran, 10);
  EXPECT_EQ(w.counters().events_dropped, 1u);
}

TEST(World, PausedNodeEventsWaitAndKeepOrder) {
  World w(World::Options{1, {}});
  NodeId n = w.add_node("n1");
  std::vector<int> order;
  std::vector<MonoTime> when;
  w.after(milliseconds(10), n, [&] {
    order.push_back(1);
    when.push_back(w.now());
  });
  EventId cancelled = w.after(milliseconds(15), n, [&] { order.push_back(99); });
  w.after(milliseconds(20), n, [&] {
    order.push_back(2);
    when.push_back(w.now());
  });
  w.after(milliseconds(5), kWorldNode, [&] { w.pause(n); });
  w.after(milliseconds(100), kWorldNode, [&] {
    w.cancel(cancelled);  // ids of deferred events still cancel
    w.resume(n);
  });
  w.run_for(seconds(1));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  ASSERT_EQ(when.size(), 2u);
  EXPECT_EQ(when[0], MonoTime(milliseconds(100)));
  EXPECT_EQ(when[1], MonoTime(milliseconds(100)));
}

TEST(World, RunUntilPredicateStopsEarly) {
  World w(World::Options{1, {}});
  int count = 0;
  for (int i = 1; i <= 10; ++i) w.after(seconds(i), kWorldNode, [&] { ++count; });
  EXPECT_TRUE(w.run_until([&] { return count == 3; }, MonoTime(seconds(100))));
  EXPECT_EQ(w.now(), MonoTime(seconds(3)));
  EXPECT_FALSE(w.run_until([&] { return count == 100; }, MonoTime(seconds(50))));
  EXPECT_EQ(w.now(), MonoTime(seconds(50)));
}

// Regression: a cancelled event on top of the queue made run_until(t) run a later live event
// (found by the group coordinator's tests: run_for(10s) fired a timer due at 16s).
TEST(World, RunUntilNeverRunsPastItsTimeBehindACancelledEvent) {
  World w(World::Options{.seed = 1});
  NodeId n = w.add_node("n1");
  bool late_ran = false;
  EventId early = w.after(seconds(1), n, [] {});
  w.after(seconds(16), n, [&] { late_ran = true; });
  w.cancel(early);
  w.run_until(MonoTime{} + seconds(10));
  EXPECT_FALSE(late_ran);
  EXPECT_EQ(w.now(), MonoTime{} + seconds(10));
  w.run_until(MonoTime{} + seconds(16));
  EXPECT_TRUE(late_ran);
}

TEST(World, NamedStreamsAreStableAcrossUse) {
  World a(World::Options{7, {}}), b(World::Options{7, {}});
  a.rng("faults").next_u64();  // drawing from one stream does not move another
  EXPECT_EQ(a.rng("workload").next_u64(), b.rng("workload").next_u64());
}

TEST(World, TraceIsStampedAndHashed) {
  World a(World::Options{1, {.keep_lines = true}});
  NodeId n = a.add_node("n1");
  a.after(milliseconds(2), n, [&] { a.trace(n, "hello", TraceFields().add("x", 1)); });
  a.run_for(seconds(1));
  ASSERT_EQ(a.trace_log().kept_lines().size(), 2u);
  EXPECT_EQ(a.trace_log().kept_lines()[1], R"({"t":2000000,"n":"n1","k":"hello","x":1})");
  EXPECT_EQ(a.trace_log().hash_hex().size(), 16u);
}

TEST(World, LogLinesCarrySimulatedTimeAndNode) {
  std::ostringstream out;
  init_logging("info", std::make_shared<spdlog::sinks::ostream_sink_st>(out));
  {
    World w(World::Options{1, {}});
    NodeId n = w.add_node("n7");
    w.after(milliseconds(2500), n, [] { spdlog::info("hello from a node"); });
    w.run_for(seconds(5));
    spdlog::info("outside any event");
  }
  init_logging("warn");  // back to stderr for the other tests
  std::string text = out.str();
  EXPECT_NE(text.find("[    2.500000s] [n7] [info] hello from a node"), std::string::npos) << text;
  EXPECT_NE(text.find("[    5.000000s] [world] [info] outside any event"), std::string::npos)
      << text;
}

TEST(SimClock, DriftAndJumpsKeepMonotonicTimeMonotonic) {
  World w(World::Options{1, {}});
  NodeId n = w.add_node("n1");
  SimClock clock(w, n);
  w.run_for(seconds(10));
  EXPECT_EQ(clock.now(), MonoTime(seconds(10)));
  clock.set_drift_ppm(50'000);  // 5% fast
  w.run_for(seconds(10));
  EXPECT_EQ(clock.now(), MonoTime(milliseconds(20'500)));
  MonoTime before = clock.now();
  WallTime wall_before = clock.wall_now();
  clock.jump_wall(-seconds(30));
  EXPECT_EQ(clock.now(), before);  // a wall-clock step leaves monotonic time alone
  EXPECT_EQ(clock.wall_now(), wall_before - seconds(30));
  clock.set_drift_ppm(-50'000);
  w.run_for(seconds(1));
  EXPECT_GT(clock.now(), before);
}

TEST(SimClock, TimersFireByTheLocalClock) {
  World w(World::Options{1, {}});
  NodeId n = w.add_node("n1");
  SimClock clock(w, n);
  clock.set_drift_ppm(-100'00);  // 1% slow
  MonoTime local_at_fire{};
  MonoTime start = clock.now();
  clock.schedule(seconds(1), [&] { local_at_fire = clock.now(); });
  w.run_for(seconds(5));
  EXPECT_GE(local_at_fire - start, seconds(1));
  EXPECT_LT(local_at_fire - start, seconds(1) + microseconds(1));
}

}  // namespace
}  // namespace gregor::sim
