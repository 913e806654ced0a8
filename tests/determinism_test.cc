// Proves the determinism contract on the demo run under every fault family: the same seed twice
// gives an identical trace (and hash), different seeds give different traces, and the first
// difference is reported readably when two traces do differ.
#include <gtest/gtest.h>

#include "sim/demo/counter_sim.h"
#include "sim/determinism.h"

namespace gregor {
namespace {

demo::CounterSimResult run(uint64_t seed) {
  demo::CounterSimOptions o;
  o.seed = seed;
  o.duration = seconds(20);
  o.keep_trace_lines = true;
  return demo::run_counter_sim(o);
}

TEST(Determinism, SameSeedGivesIdenticalTrace) {
  for (uint64_t seed : {1, 2, 3}) {
    auto a = run(seed), b = run(seed);
    auto diff = sim::first_difference(a.trace_kept, b.trace_kept);
    ASSERT_FALSE(diff.has_value()) << sim::describe_difference(*diff, a.trace_kept, b.trace_kept);
    EXPECT_EQ(a.trace_hash, b.trace_hash);
    EXPECT_GT(a.trace_lines, 1000u) << "the run should do real work";
    EXPECT_FALSE(a.faults.empty()) << "faults were injected";
  }
}

TEST(Determinism, DifferentSeedsGiveDifferentTraces) {
  auto a = run(11), b = run(12);
  EXPECT_NE(a.trace_hash, b.trace_hash);
  EXPECT_TRUE(sim::first_difference(a.trace_kept, b.trace_kept).has_value());
}

TEST(Determinism, DifferenceReportNamesTheFirstDifferingLine) {
  std::vector<std::string> a = {"{\"t\":1}", "{\"t\":2,\"x\":1}", "{\"t\":3}"};
  std::vector<std::string> b = {"{\"t\":1}", "{\"t\":2,\"x\":2}", "{\"t\":3}"};
  auto diff = sim::first_difference(a, b);
  ASSERT_TRUE(diff.has_value());
  EXPECT_EQ(*diff, 1u);
  std::string report = sim::describe_difference(*diff, a, b);
  EXPECT_NE(report.find("line 2"), std::string::npos) << report;
  EXPECT_NE(report.find("\"x\":1"), std::string::npos) << report;
  EXPECT_NE(report.find("\"x\":2"), std::string::npos) << report;
  // A trace that is a prefix of the other differs where the shorter one ends.
  std::vector<std::string> prefix(a.begin(), a.end() - 1);
  EXPECT_EQ(sim::first_difference(a, prefix), 2u);
  EXPECT_FALSE(sim::first_difference(a, a).has_value());
}

}  // namespace
}  // namespace gregor
