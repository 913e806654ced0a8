// Proves the scenario runner with a controller quorum (server::Server processes):
//   - three combined broker+controller nodes boot, elect, register, take topics, survive a crash
//     of the active controller ("controller:active", resolved when the fault fires) and pass the
//     Raft checker and the liveness probe (a topic created after healing), and replay to the same
//     trace hash;
//   - dedicated controllers (controller-1..3 beside two brokers) boot and can be faulted by name;
//   - the nemesis aims at controllers: dedicated ones and the active one;
//   - an isolated leader without check-quorum is reported as controller-split-brain;
//   - "leader:TOPIC/PARTITION" names the partition's leader when the fault fires, and a later
//     entry names its successor.
#include <gtest/gtest.h>

#include <algorithm>

#include "sim/scenario/nemesis_plan.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/scenario_toml.h"

namespace gregor::scenario {
namespace {

Scenario parse_or_die(std::string_view text) {
  auto s = parse_scenario(text, "test.toml");
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : Scenario{};
}

std::string kinds_of(const RunResult& r) {
  std::string s = r.error;
  for (auto& v : r.violations) s += v.kind + ": " + v.text + "\n";
  return s;
}

constexpr std::string_view kCombined = R"(
duration = "10s"
recovery = "20s"
mode = "liveness"
[cluster]
brokers = 3
controllers = 3
[cluster.config]
"log.flush.interval.messages" = 1
# One replica per partition: a crashed broker restarts uncleanly and (KIP-966) leaves the ELR, so
# its partitions need unclean election to lead again; with every append fsynced it loses nothing.
"unclean.leader.election.enable" = true
[[topic]]
name = "events"
partitions = 3
[[producer]]
topic = "events"
rate = 50
[[consumer]]
topics = ["events"]
)";

TEST(RunnerQuorum, CombinedNodesSurviveTheActiveControllersCrash) {
  std::string text = std::string(kCombined) + R"(
[[fault]]
at = "2s"
kind = "crash"
nodes = ["controller:active"]
for = "2s"
)";
  Scenario s = parse_or_die(text);
  RunOptions o;
  o.keep_trace_lines = true;
  RunResult a = run_scenario(s, 3, o);
  EXPECT_TRUE(a.error.empty()) << a.error;
  EXPECT_TRUE(a.pass) << kinds_of(a);
  EXPECT_EQ(a.faults["crash"], 1u);
  EXPECT_GT(a.records_acked, 100u);
  EXPECT_GE(a.records_polled, a.records_acked);
  // The first leader was crashed: someone else was elected in a later epoch.
  EXPECT_GE(a.raft_elections, 2u);
  EXPECT_GE(a.raft_max_epoch, 2);
  auto has = [&](std::string_view needle) {
    return std::any_of(a.trace_kept.begin(), a.trace_kept.end(),
                       [&](const std::string& l) { return l.find(needle) != std::string::npos; });
  };
  EXPECT_TRUE(has(R"("k":"raft.commit")"));
  EXPECT_TRUE(has(R"("k":"controller.probe","active":true,"created":true)"));
  RunResult b = run_scenario(s, 3);
  EXPECT_EQ(a.trace_hash, b.trace_hash);
}

TEST(RunnerQuorum, DedicatedControllersBootAndCanBeFaultedByName) {
  Scenario s = parse_or_die(R"(
duration = "8s"
recovery = "20s"
mode = "liveness"
[cluster]
brokers = 2
controllers = 3
dedicated_controllers = true
[cluster.config]
"log.flush.interval.messages" = 1
[[topic]]
name = "events"
partitions = 2
[[producer]]
topic = "events"
rate = 50
[[consumer]]
topics = ["events"]
[[fault]]
at = "2s"
kind = "crash"
nodes = ["controller-1"]
for = "1s"
[[fault]]
at = "4s"
kind = "partition"
groups = [["controller:active"], ["controller-1", "controller-2", "controller-3", 1, 2]]
for = "2s"
)");
  RunResult r = run_scenario(s, 5);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.pass) << kinds_of(r);
  EXPECT_EQ(r.faults["crash"], 1u);
  EXPECT_EQ(r.faults["partition"], 1u);
  EXPECT_GT(r.records_acked, 50u);
}

TEST(RunnerQuorum, NemesisAimsAtControllers) {
  Scenario s = parse_or_die(R"(
duration = "60s"
[cluster]
brokers = 2
controllers = 3
dedicated_controllers = true
[nemesis]
families = ["crash", "pause", "one_way"]
swarm = false
)");
  bool active = false, dedicated = false;
  for (uint64_t seed = 1; seed <= 5; ++seed) {
    Random rng(seed);
    for (const FaultSpec& f : draw_nemesis(s, rng)) {
      std::vector<NodeRef> refs = f.nodes;
      if (f.from) refs.push_back(*f.from);
      if (f.to) refs.push_back(*f.to);
      for (const NodeRef& r : refs) {
        active = active || r.kind == NodeRef::Kind::active_controller;
        dedicated = dedicated || r.kind == NodeRef::Kind::controller;
      }
    }
  }
  EXPECT_TRUE(active);
  EXPECT_TRUE(dedicated);
}

TEST(RunnerQuorum, IsolatedLeaderWithoutCheckQuorumIsASplitBrain) {
  std::string base = std::string(kCombined) + R"(
[[fault]]
at = "2s"
kind = "partition"
groups = [["controller:active"], [1, 2, 3]]
for = "6s"
)";
  std::string legacy = base;
  legacy.replace(legacy.find("[cluster.config]\n"), 17,
                 "[cluster.config]\n\"legacy.quorum.check.quorum.disable\" = true\n"
                 "\"legacy.quorum.pre.vote.disable\" = true\n");
  RunResult bug = run_scenario(parse_or_die(legacy), 2);
  EXPECT_GE(bug.violation_counts["controller-split-brain"], 1u) << kinds_of(bug);
  RunResult fixed = run_scenario(parse_or_die(base), 2);
  EXPECT_TRUE(fixed.pass) << kinds_of(fixed);
  EXPECT_EQ(fixed.violation_counts.count("controller-split-brain"), 0u);
}

// The node a trace line was written by ("broker-2"), and whether it is a leader's replica.state.
std::string node_of(const std::string& line) {
  size_t at = line.find(R"("n":")");
  if (at == std::string::npos) return "";
  size_t end = line.find('"', at + 5);
  return line.substr(at + 5, end - at - 5);
}

bool leads_events_0(const std::string& line) {
  return line.find(R"("k":"replica.state","topic":"events","partition":0,"role":"leader")") !=
         std::string::npos;
}

// Two crashes of "leader:events/0", 3s apart: each hits the broker that led the partition when
// it fired (the last replica.state of a leader before it), so the second hits the first's
// successor and not the first again.
TEST(RunnerQuorum, LeaderRefsCrashTheLeaderOfTheMoment) {
  Scenario s = parse_or_die(R"(
duration = "10s"
recovery = "20s"
mode = "liveness"
[cluster]
brokers = 3
controllers = 1
dedicated_controllers = true
[cluster.config]
"log.flush.interval.messages" = 1
"broker.session.timeout.ms" = 1000
"broker.heartbeat.interval.ms" = 200
[[topic]]
name = "events"
partitions = 1
replication_factor = 3
[[producer]]
topic = "events"
rate = 20
[[consumer]]
topics = ["events"]
[[fault]]
at = "2s"
kind = "crash"
nodes = ["leader:events/0"]
for = "6s"
[[fault]]
at = "5s"
kind = "crash"
nodes = ["leader:events-0"]
for = "1s"
)");
  RunOptions o;
  o.keep_trace_lines = true;
  RunResult r = run_scenario(s, 4, o);
  EXPECT_TRUE(r.error.empty()) << r.error;
  EXPECT_TRUE(r.pass) << kinds_of(r);
  EXPECT_EQ(r.faults["crash"], 2u);
  std::string leader;
  std::vector<std::pair<std::string, std::string>> crashes;  // (crashed, leader then)
  for (const std::string& line : r.trace_kept) {
    if (leads_events_0(line)) leader = node_of(line);
    if (line.find(R"("k":"proc.crash")") != std::string::npos)
      crashes.emplace_back(node_of(line), leader);
  }
  ASSERT_EQ(crashes.size(), 2u);
  for (const auto& [crashed, leader_then] : crashes) {
    EXPECT_FALSE(crashed.empty());
    EXPECT_EQ(crashed, leader_then);
  }
  EXPECT_NE(crashes[0].first, crashes[1].first);
}

}  // namespace
}  // namespace gregor::scenario
