// The Raft checker (raft_checks.h): each kind is raised by a small trace that breaks its rule and
// not by a near-identical trace that keeps it; the split brain counts only the running time of
// a superseded leader; the stats count elections, the highest epoch and fences.
#include "sim/check/raft_checks.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace gregor::check {
namespace {

constexpr int64_t kSecond = 1'000'000'000;

std::string state(int64_t t, const std::string& node, const std::string& role, int64_t epoch,
                  int64_t hw = 0) {
  return fmt::format(
      R"({{"t":{},"n":"{}","k":"raft.state","role":"{}","epoch":{},"leader":1,"hw":{}}})", t, node,
      role, epoch, hw);
}
std::string start(int64_t t, const std::string& node, int64_t epoch) {
  return fmt::format(R"({{"t":{},"n":"{}","k":"raft.start","epoch":{},"log_end":0,"snapshot":0}})",
                     t, node, epoch);
}
std::string commit(int64_t t, const std::string& node, int64_t offset, int64_t epoch, int64_t crc) {
  return fmt::format(R"({{"t":{},"n":"{}","k":"raft.commit","offset":{},"epoch":{},"crc":{}}})", t,
                     node, offset, epoch, crc);
}
std::string proc(int64_t t, const std::string& node, const std::string& what) {
  return fmt::format(R"({{"t":{},"n":"{}","k":"proc.{}"}})", t, node, what);
}

RaftCheckResult check(const std::vector<std::string>& lines) {
  RaftChecker checker;
  for (const auto& l : lines) EXPECT_TRUE(checker.add_line(l).ok()) << l;
  return checker.finish();
}

uint64_t count(const RaftCheckResult& r, std::string_view kind) {
  for (size_t i = 0; i < kRaftViolationKinds.size(); ++i)
    if (kRaftViolationKinds[i] == kind) return r.counts[i];
  ADD_FAILURE() << kind;
  return 0;
}

uint64_t total(const RaftCheckResult& r) {
  uint64_t n = 0;
  for (uint64_t c : r.counts) n += c;
  return n;
}

TEST(RaftChecks, TwoLeadersInOneEpoch) {
  auto bad = check({state(1, "a", "leader", 3), state(2, "b", "leader", 3)});
  EXPECT_EQ(count(bad, "raft-two-leaders"), 1u);
  ASSERT_EQ(bad.violations.size(), 1u);
  EXPECT_NE(bad.violations[0].evidence.find("\"epoch\":3"), std::string::npos);
  // One node reporting its leadership again (a hw change), and a later epoch: fine.
  auto good = check({state(1, "a", "leader", 3), state(2, "a", "leader", 3, 5),
                     state(3, "a", "follower", 4, 5), state(4, "b", "leader", 4)});
  EXPECT_EQ(total(good), 0u);
  EXPECT_EQ(good.stats.elections, 2u);
  EXPECT_EQ(good.stats.max_epoch, 4);
}

TEST(RaftChecks, EpochRegressAcrossRestart) {
  auto bad = check({state(1, "a", "follower", 5), proc(2, "a", "crash"), proc(3, "a", "start"),
                    start(4, "a", 4)});
  EXPECT_EQ(count(bad, "raft-epoch-regress"), 1u);
  auto good = check({state(1, "a", "follower", 5), proc(2, "a", "crash"), proc(3, "a", "start"),
                     start(4, "a", 5), state(5, "a", "candidate", 6)});
  EXPECT_EQ(total(good), 0u);
}

TEST(RaftChecks, HwRegressOnlyWithinAnIncarnation) {
  auto bad = check({state(1, "a", "leader", 1, 10), state(2, "a", "follower", 2, 7)});
  EXPECT_EQ(count(bad, "raft-hw-regress"), 1u);
  // A restart forgets the high watermark (it is not persisted).
  auto good = check({state(1, "a", "leader", 1, 10), proc(2, "a", "crash"), proc(3, "a", "start"),
                     state(4, "a", "follower", 2, 0)});
  EXPECT_EQ(total(good), 0u);
}

TEST(RaftChecks, CommittedEntriesNeverChange) {
  auto between_nodes = check({commit(1, "a", 0, 1, 111), commit(2, "b", 0, 1, 222)});
  EXPECT_EQ(count(between_nodes, "raft-committed-changed"), 1u);
  auto over_time = check({commit(1, "a", 4, 1, 111), proc(2, "a", "crash"), proc(3, "a", "start"),
                          commit(4, "a", 4, 2, 111)});
  EXPECT_EQ(count(over_time, "raft-committed-changed"), 1u);
  auto good = check({commit(1, "a", 0, 1, 111), commit(2, "b", 0, 1, 111),
                     commit(3, "b", 1, 2, 333), proc(4, "a", "crash"), proc(5, "a", "start"),
                     commit(6, "a", 0, 1, 111), commit(7, "a", 1, 2, 333)});
  EXPECT_EQ(total(good), 0u);
  EXPECT_EQ(good.stats.commits, 5u);
}

TEST(RaftChecks, SplitBrainIsASupersededLeaderRunningPastTheAllowance) {
  // a leads epoch 1; b is elected in epoch 2 at 1s; a never finds out.
  auto bad = check({state(0, "a", "leader", 1), state(1 * kSecond, "b", "leader", 2),
                    proc(4 * kSecond, "producer-1", "start")});
  EXPECT_EQ(count(bad, "controller-split-brain"), 1u);
  // Noticed by the end of the trace too (finish closes the interval at the last t).
  auto at_end = check({state(0, "a", "leader", 1), state(1 * kSecond, "b", "leader", 2),
                       state(4 * kSecond, "b", "leader", 2, 9)});
  EXPECT_EQ(count(at_end, "controller-split-brain"), 1u);
  // a resigns 1.5s after b's election: within 2s.
  auto resigned =
      check({state(0, "a", "leader", 1), state(1 * kSecond, "b", "leader", 2),
             state(2500'000'000, "a", "follower", 2), proc(9 * kSecond, "producer-1", "start")});
  EXPECT_EQ(total(resigned), 0u);
  // a is paused most of the time (it cannot notice anything then), then crashes.
  auto paused = check({state(0, "a", "leader", 1), state(1 * kSecond, "b", "leader", 2),
                       proc(1500'000'000, "a", "pause"), proc(8 * kSecond, "a", "resume"),
                       proc(9 * kSecond, "a", "crash"), proc(20 * kSecond, "b", "pause")});
  EXPECT_EQ(total(paused), 0u);
}

TEST(RaftChecks, FencesAndOtherLinesAreCountedOrSkipped) {
  RaftChecker checker;
  EXPECT_TRUE(checker.add_line(R"({"t":1,"n":"broker-1","k":"controller.fence","broker":2})").ok());
  EXPECT_TRUE(checker.add_line(R"({"t":2,"n":"x","k":"op.invoke"})").ok());
  EXPECT_TRUE(checker.add_line("not json at all").ok());
  auto r = checker.finish();
  EXPECT_EQ(r.stats.fences, 1u);
  EXPECT_FALSE(r.stats.any);
}

TEST(RaftChecks, MalformedLinesOfItsKindsAreErrors) {
  RaftChecker checker;
  Status s = checker.add_line(R"({"t":1,"n":"a","k":"raft.state","role":"leader"})");
  EXPECT_EQ(s.code(), Errc::invalid_argument);
  EXPECT_NE(s.message().find("line 1"), std::string::npos) << s;
  EXPECT_FALSE(checker.add_line(R"({"t":1,"n":"a","k":"raft.commit",)").ok());
}

}  // namespace
}  // namespace gregor::check
