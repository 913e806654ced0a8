// Proves the scenario runner end to end on the real broker and client in the simulator:
//   - a short scenario with crashes, a partition and a clock jump passes its checks, acknowledges
//     records and reads every one back, and replays to the same trace hash;
//   - every scripted fault kind can be played (fires, is counted, ends) without breaking a
//     flush-every-message single broker's guarantees;
//   - the nemesis draw is a pure function of (scenario, seed), and swarm mode varies the families;
//   - the planted ack_before_append bug is caught as lost-write, and the shrinker reduces it to a
//     file of at most 3 faults that parses and still reproduces.
#include <gtest/gtest.h>

#include <set>

#include "sim/scenario/nemesis_plan.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/scenario_toml.h"
#include "sim/scenario/shrink.h"

namespace gregor::scenario {
namespace {

Scenario parse_or_die(std::string_view text) {
  auto s = parse_scenario(text, "test.toml");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Scenario{};
}

std::string kinds_of(const RunResult& r) {
  std::string s;
  for (auto& v : r.violations) s += v.kind + ": " + v.text + "\n";
  return s;
}

constexpr std::string_view kBase = R"(
duration = "8s"
recovery = "20s"
mode = "liveness"
[cluster]
brokers = 1
[cluster.config]
"log.flush.interval.messages" = 1
[[topic]]
name = "events"
partitions = 2
[[producer]]
topic = "events"
rate = 50
keys = 5
[[consumer]]
topics = ["events"]
)";

TEST(Runner, ShortScenarioWithFaultsPassesAndReplays) {
  std::string text = std::string(kBase) + R"(
[[fault]]
at = "2s"
kind = "crash"
nodes = [1]
for = "1s"
[[fault]]
at = "4s"
kind = "partition"
groups = [[1], ["producer-1", "consumer-1"]]
for = "1s"
[[fault]]
at = "6s"
kind = "clock_jump"
nodes = [1]
by = "+30s"
)";
  Scenario s = parse_or_die(text);
  RunResult a = run_scenario(s, 7);
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_TRUE(a.pass) << kinds_of(a);
  EXPECT_GT(a.records_acked, 100u);
  EXPECT_GE(a.records_polled, a.records_acked);
  EXPECT_EQ(a.faults["crash"], 1u);
  EXPECT_EQ(a.faults["partition"], 1u);
  EXPECT_EQ(a.faults["clock_jump"], 1u);
  RunResult b = run_scenario(s, 7);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
  RunResult c = run_scenario(s, 8);
  EXPECT_NE(a.trace_hash, c.trace_hash);
}

TEST(Runner, EveryFaultKindPlays) {
  // Kinds that lose nothing a flush-every-message single broker acknowledged (the corrupting
  // kinds destroy data a lone replica cannot restore, so they only get played, not judged).
  std::string text = std::string(kBase) + R"(
[[fault]]
at = "1s"
kind = "power_loss"
nodes = [1]
for = "500ms"
[[fault]]
at = "2s"
kind = "pause"
nodes = [1]
for = "300ms"
[[fault]]
at = "2500ms"
kind = "one_way"
from = 1
to = "consumer-1"
for = "300ms"
[[fault]]
at = "3s"
kind = "clog"
nodes = ["producer-1"]
for = "300ms"
[[fault]]
at = "3500ms"
kind = "reset"
[[fault]]
at = "4s"
kind = "refuse"
nodes = [1]
for = "300ms"
[[fault]]
at = "4500ms"
kind = "hold"
from = "leader:events-0"
to = "consumer-1"
for = "300ms"
[[fault]]
at = "5s"
kind = "slow_link"
from = "producer-1"
to = 1
for = "500ms"
[[fault]]
at = "5500ms"
kind = "disk_full"
nodes = [1]
for = "300ms"
[[fault]]
at = "6s"
kind = "disk_stall"
nodes = [1]
for = "300ms"
[[fault]]
at = "6500ms"
kind = "fsync_eio"
nodes = [1]
[[fault]]
at = "7s"
kind = "clock_drift"
nodes = [1]
ppm = 20000
for = "500ms"
)";
  Scenario s = parse_or_die(text);
  RunResult r = run_scenario(s, 3);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.pass) << kinds_of(r);
  for (auto& f : s.timeline) {
    std::string kind(fault_kind_name(f.kind));
    if (kind == "reset") continue;  // needs an open connection at that instant
    EXPECT_EQ(r.faults[kind], 1u) << kind;
  }
}

TEST(Runner, NemesisDrawIsAFunctionOfTheSeedAndSwarmVaries) {
  Scenario s = parse_or_die(std::string(kBase) + R"(
[nemesis]
enabled = true
swarm = true
)");
  s.duration = seconds(120);
  std::set<std::set<FaultKind>> family_sets;
  for (uint64_t seed = 1; seed <= 8; ++seed) {
    Random a(seed), b(seed);
    auto x = draw_nemesis(s, a);
    auto y = draw_nemesis(s, b);
    ASSERT_EQ(x, y);
    ASSERT_FALSE(x.empty());
    std::set<FaultKind> kinds;
    for (auto& f : x) {
      EXPECT_LT(f.at, s.duration);
      kinds.insert(f.kind);
    }
    family_sets.insert(kinds);
  }
  EXPECT_GT(family_sets.size(), 4u) << "swarm mode should draw different families per seed";
}

constexpr std::string_view kPlanted = R"(
duration = "10s"
recovery = "20s"
expect = "lost-write"
[cluster]
brokers = 1
bugs = { ack_before_append = true }
[cluster.config]
"log.flush.interval.messages" = 1
[[topic]]
name = "events"
partitions = 2
[[producer]]
topic = "events"
rate = 100
count = 2
[[consumer]]
topics = ["events"]
[[fault]]
at = "1s"
kind = "partition"
groups = [[1], ["consumer-1"]]
for = "2s"
[[fault]]
at = "3s"
kind = "clock_jump"
nodes = [1]
by = "5s"
[[fault]]
at = "4s"
kind = "disk_stall"
nodes = [1]
for = "2s"
[[fault]]
at = "5s"
kind = "crash"
nodes = [1]
for = "1s"
[[fault]]
at = "7s"
kind = "pause"
nodes = ["consumer-1"]
for = "1s"
[[fault]]
at = "8s"
kind = "reset"
)";

TEST(Runner, PlantedAckBeforeAppendIsCaughtAndShrunk) {
  Scenario s = parse_or_die(kPlanted);
  RunResult r = run_scenario(s, 1);
  EXPECT_TRUE(r.pass) << "expected lost-write; got:\n" << kinds_of(r);
  ShrinkOptions o;
  o.seed = 1;
  o.runs_max = 200;
  ShrinkResult sr = shrink(s, o);
  ASSERT_TRUE(sr.reproduced) << sr.error;
  EXPECT_EQ(sr.kind, "lost-write");
  EXPECT_LE(sr.minimal.timeline.size(), 3u);
  EXPECT_LT(sr.minimal.duration, s.duration);
  // The file it writes parses back and reproduces the violation with its fixed seed.
  auto again = parse_scenario(scenario_to_toml(sr.minimal), "min.toml");
  ASSERT_TRUE(again.ok()) << again.status();
  RunResult replay = run_scenario(*again, again->seed);
  EXPECT_TRUE(replay.pass) << kinds_of(replay);
  EXPECT_EQ(replay.trace_hash, sr.minimal_run.trace_hash);
}

}  // namespace
}  // namespace gregor::scenario
