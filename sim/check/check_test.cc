// Hand-written histories for the history checker. Proven:
//  - every violation kind of docs/history-format.md is detected, each by a small history, and a
//    near-identical correct history (one line changed) raises nothing at all, so the rules that
//    keep false positives out (retention, acks after a final read began, seeks, unknown polls,
//    incarnations, gaps with nothing known inside, windows of replica logs) are each exercised;
//  - a violation's evidence is one JSON object and its text one line; the list is capped per
//    kind while counts stay exact;
//  - malformed lines of known kinds give errors naming the line number and the problem, lines
//    of other kinds (even invalid JSON) are skipped, and an operation never closed is unknown;
//  - to_text, to_json and check_history_file report what the CLI prints.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <map>

#include "sim/check/check_test_util.h"

namespace gregor::check {
namespace {

using testing::check;
using testing::History;

// `r` has exactly the violations `want` (kind -> count), none of any other kind.
void expect_counts(const CheckResult& r, const std::map<std::string, uint64_t>& want) {
  for (std::string_view kind : kViolationKinds) {
    auto it = want.find(std::string(kind));
    EXPECT_EQ(r.count(kind), it == want.end() ? 0 : it->second) << kind << "\n" << to_text(r);
  }
  for (const Violation& v : r.violations) {
    auto evidence = nlohmann::json::parse(v.evidence, nullptr, false);
    EXPECT_TRUE(evidence.is_object()) << v.evidence;
    EXPECT_EQ(v.text.find('\n'), std::string::npos) << v.text;
  }
}

void expect_clean(const History& h) {
  expect_counts(check(h), {});
}

// Two sends acked at t/0 offsets 0 and 1.
History two_sends() {
  History h;
  return std::move(h.send("producer-1", 1, "p1:1", 0, 0).send("producer-1", 2, "p1:2", 0, 1));
}

TEST(CheckLostWrite, FinalReadWithoutTheRecord) {
  History ok = two_sends();
  ok.final_read("reader", 1, 0, 0, 2, {{0, 0, "p1:1"}, {0, 1, "p1:2"}});
  expect_clean(ok);
  History bad = two_sends();
  bad.final_read("reader", 1, 0, 0, 2, {{0, 0, "p1:1"}});
  CheckResult r = check(bad);
  expect_counts(r, {{"lost-write", 1}});
  EXPECT_EQ(r.stats.records_lost, 1u);
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["value"], "p1:2");
  EXPECT_EQ(e["offset"], 1);
  EXPECT_EQ(e["ack"]["op"], 2);
  EXPECT_EQ(e["final_read"]["by"], "reader");
  EXPECT_TRUE(e["found"].is_null());
}

TEST(CheckLostWrite, LogEndedBelowTheAck) {
  History bad = two_sends();
  bad.final_read("reader", 1, 0, 0, 1, {{0, 0, "p1:1"}});
  expect_counts(check(bad), {{"lost-write", 1}});
}

TEST(CheckLostWrite, AnotherValueWhereTheAckWas) {
  History bad = two_sends();
  bad.send_invoke("producer-2", 1, "p2:1", false).close("producer-2", 1, "unknown");
  bad.final_read("reader", 1, 0, 0, 2, {{0, 0, "p1:1"}, {0, 1, "p2:1"}});
  // The read value at offset 1 is also a second value there.
  expect_counts(check(bad), {{"lost-write", 1}, {"inconsistent-offsets", 1}});
}

TEST(CheckLostWrite, RetentionAndLateAcksAreNotLosses) {
  History h;
  h.send("producer-1", 1, "p1:1", 0, 0).send("producer-1", 2, "p1:2", 0, 1);
  h.send_invoke("producer-1", 3, "p1:3");
  h.final_invoke("reader", 1, 0);
  h.send_ok("producer-1", 3, 0, 2);  // acked after the final read began: not held against it
  h.final_ok("reader", 1, 1, 2, {{0, 1, "p1:2"}});  // offset 0 deleted by retention
  // Acks without an offset (acks=0 answers -1) are counted and placed nowhere.
  h.send("producer-2", 1, "p2:1", 0, -1).send("producer-2", 2, "p2:2", 0, -1);
  expect_clean(h);
  EXPECT_EQ(check(h).stats.sends_acked, 5u);
}

TEST(CheckLostWrite, ConsumerSkippedAnAck) {
  History ok = two_sends();
  ok.send("producer-1", 3, "p1:3", 0, 2);
  ok.poll("consumer-1", 1, {{0, 0, "p1:1"}})
      .poll("consumer-1", 2, {{0, 1, "p1:2"}, {0, 2, "p1:3"}});
  expect_clean(ok);
  History bad = two_sends();
  bad.send("producer-1", 3, "p1:3", 0, 2);
  bad.poll("consumer-1", 1, {{0, 0, "p1:1"}}).poll("consumer-1", 2, {{0, 2, "p1:3"}});
  expect_counts(check(bad), {{"lost-write", 1}, {"poll-skip", 1}});
}

TEST(CheckDuplicate, OneValueAtTwoOffsets) {
  History ok = two_sends();
  ok.poll("consumer-1", 1, {{0, 0, "p1:1"}, {0, 1, "p1:2"}});
  expect_clean(ok);
  History bad = two_sends();
  bad.poll("consumer-1", 1, {{0, 0, "p1:1"}, {0, 1, "p1:2"}, {0, 2, "p1:2"}});
  CheckResult r = check(bad);
  expect_counts(r, {{"duplicate", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["value"], "p1:2");
  EXPECT_EQ(e["first"]["offset"], 1);
  EXPECT_EQ(e["first"]["via"], "send");
  EXPECT_EQ(e["second"]["offset"], 2);
  EXPECT_EQ(e["second"]["by"], "consumer-1");
}

TEST(CheckDuplicate, AckedInTwoPartitionsReportedOnce) {
  History bad;
  bad.send("producer-1", 1, "p1:1", 0, 0).send("producer-1", 2, "p1:1", 1, 0);
  bad.poll("consumer-1", 1, {{1, 0, "p1:1"}}).poll("consumer-2", 1, {{1, 0, "p1:1"}});
  expect_counts(check(bad), {{"duplicate", 1}});
}

TEST(CheckDuplicate, NotReportedForANonIdempotentProducersRetry) {
  // Without idempotence a retried batch may legally land twice: Kafka promises at-least-once.
  auto history = [](bool idempotent) {
    History h;
    h.line("producer-1", "op.invoke",
           fmt::format(R"("op":1,"f":"send","topic":"t","key":null,"value":"p1:1",)"
                       R"("ordered":false,"idempotent":{})",
                       idempotent));
    h.send_ok("producer-1", 1, 0, 0);
    h.poll("consumer-1", 1, {{0, 0, "p1:1"}, {0, 1, "p1:1"}});
    return h;
  };
  expect_clean(history(false));
  expect_counts(check(history(true)), {{"duplicate", 1}});
}

TEST(CheckInconsistentOffsets, TwoValuesAtOneOffset) {
  History ok = two_sends();
  ok.poll("consumer-1", 1, {{0, 0, "p1:1"}});
  expect_clean(ok);
  History bad = two_sends();
  bad.poll("consumer-1", 1, {{0, 0, "other:1"}});
  CheckResult r = check(bad);
  expect_counts(r, {{"inconsistent-offsets", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["first"]["value"], "p1:1");
  EXPECT_EQ(e["second"]["value"], "other:1");
}

TEST(CheckPollSkip, GapOverAKnownRecord) {
  // A gap with nothing known inside (a transaction marker, say) is fine.
  History ok;
  ok.send("producer-1", 1, "p1:1", 0, 0).send("producer-1", 2, "p1:2", 0, 2);
  ok.poll("consumer-1", 1, {{0, 0, "p1:1"}, {0, 2, "p1:2"}});
  expect_clean(ok);
  // The same gap when another consumer read a record there.
  History bad = ok;
  bad.poll("consumer-2", 1, {{0, 1, "p2:9"}});
  CheckResult r = check(bad);
  expect_counts(r, {{"poll-skip", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["read_before"], 0);
  EXPECT_EQ(e["read_after"], 2);
  EXPECT_EQ(e["skipped_count"], 1);
  EXPECT_EQ(e["skipped"][0][1], "p2:9");
}

TEST(CheckPollSkip, AfterASeek) {
  History base = two_sends();
  base.send("producer-1", 3, "p1:3", 0, 2);
  History ok = base;
  ok.poll("consumer-1", 1, {{0, 0, "p1:1"}}).seek("consumer-1", 2, {{0, 2}});
  ok.poll("consumer-1", 3, {{0, 2, "p1:3"}});
  expect_clean(ok);
  History bad = base;
  bad.poll("consumer-1", 1, {{0, 2, "p1:3"}}).seek("consumer-1", 2, {{0, 0}});
  bad.poll("consumer-1", 3, {{0, 2, "p1:3"}});
  // Offsets 0 and 1 were skipped after the seek to 0; both were acked.
  expect_counts(check(bad), {{"poll-skip", 1}, {"lost-write", 2}});
}

TEST(CheckNonmonotonicPoll, ReadBackWithoutSeek) {
  History base = two_sends();
  base.poll("consumer-1", 1, {{0, 0, "p1:1"}, {0, 1, "p1:2"}});
  History ok = base;
  ok.seek("consumer-1", 2, {{0, 1}}).poll("consumer-1", 3, {{0, 1, "p1:2"}});
  expect_clean(ok);
  History bad = base;
  bad.poll("consumer-1", 3, {{0, 1, "p1:2"}});
  CheckResult r = check(bad);
  expect_counts(r, {{"nonmonotonic-poll", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["previous_offset"], 1);
  EXPECT_EQ(e["offset"], 1);
}

TEST(CheckNonmonotonicPoll, BelowTheSeekPosition) {
  History bad = two_sends();
  bad.seek("consumer-1", 1, {{0, 1}}).poll("consumer-1", 2, {{0, 0, "p1:1"}});
  expect_counts(check(bad), {{"nonmonotonic-poll", 1}});
}

TEST(CheckNonmonotonicPoll, UnknownPollOrRestartForgetsPositions) {
  History h = two_sends();
  h.poll("consumer-1", 1, {{0, 0, "p1:1"}, {0, 1, "p1:2"}});
  h.line("consumer-1", "op.invoke", R"("op":2,"f":"poll")").close("consumer-1", 2, "unknown");
  h.poll("consumer-1", 3, {{0, 0, "p1:1"}});
  h.start("consumer-1").poll("consumer-1", 1, {{0, 0, "p1:1"}});
  expect_clean(h);
}

TEST(CheckNonmonotonicSend, OrderedProducerOutOfOrder) {
  auto build = [](bool ordered, int64_t first_offset) {
    History h;
    h.send_invoke("producer-1", 1, "p1:1", ordered).send_invoke("producer-1", 2, "p1:2", ordered);
    h.send_ok("producer-1", 2, 0, 1 - first_offset).send_ok("producer-1", 1, 0, first_offset);
    return h;
  };
  expect_clean(build(true, 0));   // acks out of order, offsets in send order
  expect_clean(build(false, 1));  // not ordered: any order is fine
  CheckResult r = check(build(true, 1));
  expect_counts(r, {{"nonmonotonic-send", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["earlier"]["op"], 1);
  EXPECT_EQ(e["later"]["op"], 2);
}

TEST(CheckCommittedOffsetRegress, CommitWentBack) {
  History ok;
  ok.commit("consumer-1", 1, "g", {{0, 3}}).commit("consumer-2", 1, "g", {{0, 5}});
  ok.commit("consumer-1", 2, "other", {{0, 1}});
  expect_clean(ok);
  History bad = ok;
  bad.commit("consumer-1", 3, "g", {{0, 4}});
  CheckResult r = check(bad);
  expect_counts(r, {{"committed-offset-regress", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["offset"], 4);
  EXPECT_EQ(e["earlier_offset"], 5);
  EXPECT_EQ(e["earlier"]["by"], "consumer-2");
}

// Found by scenarios/groups.toml: a member paused with its commit in flight is acknowledged
// long after the commit took effect, after a newer commit of another member. Overlapping commits
// may land in either order; only a commit invoked after a higher one was acknowledged regresses.
TEST(CheckCommittedOffsetRegress, OverlappingCommitsMayLandInEitherOrder) {
  History h;
  h.line("consumer-1", "op.invoke", R"("op":1,"f":"commit","group":"g")");
  h.commit("consumer-2", 1, "g", {{0, 9}});
  h.line("consumer-1", "op.ok", R"("op":1,"f":"commit","group":"g","offsets":[["t",0,4]])");
  expect_clean(h);
  h.commit("consumer-1", 2, "g", {{0, 6}});  // invoked after 9 was acknowledged
  CheckResult r = check(h);
  expect_counts(r, {{"committed-offset-regress", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["offset"], 6);
  EXPECT_EQ(e["earlier_offset"], 9);
}

TEST(CheckLeaderConflict, TwoLeadersInOneEpoch) {
  History ok;
  ok.state("broker-1", 0, "leader", 1, 0).state("broker-2", 0, "follower", 1, 0);
  ok.state("broker-2", 0, "leader", 2, 0).state("broker-1", 0, "leader", 1, 1);
  expect_clean(ok);
  History bad;
  bad.state("broker-1", 0, "leader", 1, 0).state("broker-2", 0, "leader", 1, 0);
  bad.state("broker-2", 0, "leader", 1, 1);  // the same conflict again: reported once
  expect_counts(check(bad), {{"leader-conflict", 1}});
}

TEST(CheckEpochRegress, EvenAcrossIncarnations) {
  History ok;
  ok.state("broker-1", 0, "leader", 1, 0).state("broker-1", 0, "follower", 2, 0);
  expect_clean(ok);
  History bad;
  bad.state("broker-1", 0, "leader", 2, 0).start("broker-1").state("broker-1", 0, "follower", 1, 0);
  CheckResult r = check(bad);
  expect_counts(r, {{"epoch-regress", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["epoch_before"], 2);
  EXPECT_EQ(e["epoch"], 1);
}

TEST(CheckHwRegress, WithinOneIncarnationOnly) {
  History ok;
  ok.state("broker-1", 0, "leader", 1, 5).start("broker-1").state("broker-1", 0, "leader", 1, 3);
  ok.line("broker-1", "broker.started", R"("node_id":1)").state("broker-1", 0, "leader", 1, 2);
  expect_clean(ok);
  History bad;
  bad.state("broker-1", 0, "leader", 1, 5).state("broker-1", 0, "leader", 1, 3);
  CheckResult r = check(bad);
  expect_counts(r, {{"hw-regress", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["hw_before"], 5);
  EXPECT_EQ(e["hw"], 3);
  EXPECT_EQ(e["node"], "broker-1");
}

// broker-1 and broker-2 with common high watermark 20; broker-2's third batch as given.
History two_replica_logs(uint64_t crc_of_third, const std::string& mode = "safety") {
  History h;
  h.run(mode);
  h.replica_log("broker-1", 0, 30, 20, 0, {{0, 9, 111}, {10, 19, 222}, {20, 29, 333}});
  h.replica_log("broker-2", 0, 30, 30, 10,
                {{10, 19, 222}, {20, 29, static_cast<int64_t>(crc_of_third)}});
  return h;
}

TEST(CheckReplicaDivergence, BelowTheCommonHighWatermark) {
  expect_clean(two_replica_logs(333));
  // Differs only above the common high watermark (broker-1's is 20): fine in safety mode.
  expect_clean(two_replica_logs(999));
  History bad;
  bad.replica_log("broker-1", 0, 30, 20, 0, {{0, 9, 111}, {10, 19, 222}, {20, 29, 333}});
  bad.replica_log("broker-2", 0, 30, 30, 10, {{10, 19, 223}, {20, 29, 333}});
  CheckResult r = check(bad);
  expect_counts(r, {{"replica-divergence", 1}});
  auto e = nlohmann::json::parse(r.violations.at(0).evidence);
  EXPECT_EQ(e["from"], 10);
  EXPECT_EQ(e["to"], 20);
  EXPECT_EQ(e["replicas"][1]["batch"][2], 223);
}

TEST(CheckReplicasDifferAfterHeal, LivenessModeOnly) {
  expect_clean(two_replica_logs(333, "liveness"));
  expect_counts(check(two_replica_logs(999, "liveness")), {{"replicas-differ-after-heal", 1}});
  History leo;  // same batches, one replica's log end further on
  leo.run("liveness");
  leo.replica_log("broker-1", 0, 10, 10, 0, {{0, 9, 111}});
  leo.replica_log("broker-2", 0, 12, 10, 0, {{0, 9, 111}});
  expect_counts(check(leo), {{"replicas-differ-after-heal", 1}});
}

TEST(CheckResultForm, CapPerKindKeepsCountsExact) {
  History h;
  for (int i = 0; i < 5; ++i)
    h.poll(fmt::format("consumer-{}", i), 1, {{0, 0, fmt::format("v{}", i)}});
  CheckOptions options;
  options.violations_per_kind_max = 2;
  CheckResult r = check(h, options);
  EXPECT_EQ(r.count("inconsistent-offsets"), 4u);
  EXPECT_EQ(r.violations.size(), 2u);
  EXPECT_NE(to_text(r).find("(2 more inconsistent-offsets not listed)"), std::string::npos);
}

TEST(CheckResultForm, FinishStartsOverWithTheSameOptions) {
  CheckOptions options;
  options.violations_per_kind_max = 1;
  Checker checker(options);
  History bad = two_sends();
  bad.final_read("reader", 1, 0, 0, 0, {});  // both acks lost
  for (int round = 0; round < 2; ++round) {
    for (const std::string& line : bad.lines) ASSERT_TRUE(checker.add_line(line).ok());
    CheckResult r = checker.finish();
    EXPECT_EQ(r.count("lost-write"), 2u);
    EXPECT_EQ(r.violations.size(), 1u);
    EXPECT_EQ(r.stats.lines, bad.lines.size());
  }
}

TEST(CheckResultForm, JsonAndTextAndStats) {
  History h = two_sends();
  h.send_invoke("producer-1", 3, "p1:3").close("producer-1", 3, "fail");
  h.send_invoke("producer-1", 4, "p1:4");  // never closed: unknown
  h.poll("consumer-1", 1, {{0, 0, "p1:1"}}).final_read("reader", 1, 0, 0, 1, {{0, 0, "p1:1"}});
  CheckResult r = check(h);
  EXPECT_EQ(r.stats.ops_invoked, 6u);
  EXPECT_EQ(r.stats.ops_ok, 4u);
  EXPECT_EQ(r.stats.ops_fail, 1u);
  EXPECT_EQ(r.stats.ops_unknown, 1u);
  EXPECT_EQ(r.stats.sends_acked, 2u);
  EXPECT_EQ(r.stats.records_polled, 1u);
  EXPECT_EQ(r.stats.records_lost, 1u);
  auto j = nlohmann::json::parse(to_json(r));
  EXPECT_EQ(j["verdict"], "fail");
  EXPECT_EQ(j["counts"]["lost-write"], 1);
  EXPECT_EQ(j["counts"]["duplicate"], 0);
  EXPECT_EQ(j["violations"][0]["kind"], "lost-write");
  EXPECT_TRUE(j["violations"][0]["evidence"].is_object());
  EXPECT_EQ(j["stats"]["sends_acked"], 2);
  EXPECT_NE(to_text(r).find("lost-write: acked send \"p1:2\""), std::string::npos) << to_text(r);
  EXPECT_EQ(nlohmann::json::parse(to_json(check(two_sends())))["verdict"], "pass");
}

TEST(CheckLines, UnknownKindsAndBlankLinesAreSkipped) {
  History h = two_sends();
  h.raw("").raw("not json at all").raw(R"({"t":1,"n":"broker-1","k":"net.send","x":)");
  h.raw(R"({"t":1,"n":"broker-1","k":"op.other.kind"})").raw(R"({"k":7})");
  h.line("consumer-1", "op.invoke", R"("op":9,"f":"subscribe","topics":["t"])");
  h.line("consumer-1", "op.ok", R"("op":9)");
  CheckResult r = check(h);
  expect_counts(r, {});
  EXPECT_EQ(r.stats.lines, 11u);
  EXPECT_EQ(r.stats.lines_checked, 6u);
}

TEST(CheckLines, KindFoundWithSpacesAndNotInsideValues) {
  EXPECT_EQ(known_kind(R"({"t": 1, "n": "a", "k" : "op.ok", "op": 1})"), LineKind::op_ok);
  EXPECT_EQ(known_kind(R"({"t":1,"n":"a","value":"\"k\":\"op.ok\"","k":"x"})"), std::nullopt);
  EXPECT_EQ(known_kind(R"({"t":1,"n":"a","key":"k","k":"replica.log"})"), LineKind::replica_log);
  EXPECT_EQ(known_kind(R"({"k":"broker.started"})"), LineKind::node_start);
}

// The error of the only malformed line (line 3) of a history.
std::string error_of(const std::string& bad_line) {
  History h = two_sends();
  h.lines.insert(h.lines.begin() + 2, bad_line);
  Checker checker;
  std::string error;
  for (const std::string& line : h.lines) {
    Status s = checker.add_line(line);
    if (!s.ok()) error += s.message();
  }
  return error;
}

TEST(CheckLines, MalformedLinesNameTheLineAndTheProblem) {
  EXPECT_EQ(error_of(R"({"t":1,"n":"p","k":"op.ok","op":)").substr(0, 16), "line 3: bad JSON");
  EXPECT_EQ(error_of(R"({"t":1,"n":"p","k":"op.invoke","op":5,"f":"send","topic":"t"})"),
            "line 3: op.invoke: missing field \"value\"");
  EXPECT_EQ(error_of(R"({"t":1,"n":"p","k":"replica.state","topic":"t","partition":0,)"
                     R"("role":"leader","epoch":"one","leo":1,"hw":1,"log_start":0})"),
            "line 3: replica.state: field \"epoch\": expected an integer");
  EXPECT_EQ(error_of(R"({"n":"p","k":"proc.start"})"), "line 3: proc.start: missing field \"t\"");
  EXPECT_EQ(error_of(R"({"t":1,"n":"c","k":"op.ok","op":1,"f":"poll","records":[["t",0]]})"),
            "line 3: op.ok: field \"records\"[0]: expected [topic, partition, offset, value]");
  EXPECT_EQ(error_of(R"({"t":1,"n":"w","k":"run.start","mode":"fast"})"),
            "line 3: run.start: field \"mode\": expected safety or liveness, got \"fast\"");
  EXPECT_EQ(error_of(R"(["op.ok","k"])"), "");  // no "k" key: skipped
}

TEST(CheckLines, OkLackingWhatItsInvokeNeeds) {
  // The ok line does not name its function: the invoke's (send) decides what it must carry.
  History h;
  h.send_invoke("producer-1", 1, "p1:1").line("producer-1", "op.ok", R"("op":1,"partition":0)");
  Checker checker;
  EXPECT_TRUE(checker.add_line(h.lines[0]).ok());
  Status s = checker.add_line(h.lines[1]);
  EXPECT_EQ(s.message(), "line 2: op.ok of send: missing field \"offset\"");
  // The bad line left no trace: the op is still open, and a good ok closes it.
  EXPECT_TRUE(checker.add_line(History().send_ok("producer-1", 1, 0, 0).lines[0]).ok());
  CheckResult r = checker.finish();
  EXPECT_EQ(r.stats.sends_acked, 1u);
  EXPECT_EQ(r.stats.ops_unknown, 0u);
}

TEST(CheckLines, StructuredEventsCheckLikeLines) {
  Checker checker;
  for (const std::string& line : two_sends().lines) {
    auto event = parse_line(line);
    ASSERT_TRUE(event.ok()) << event.status();
    ASSERT_TRUE(event->has_value());
    EXPECT_TRUE(checker.add(**event).ok());
  }
  Event read;
  read.t = 100;
  read.node = "consumer-1";
  read.kind = LineKind::op_invoke;
  read.body = OpLine{OpPhase::invoke, 1, OpFn::poll};
  EXPECT_TRUE(checker.add(read).ok());
  OpLine ok{OpPhase::ok, 1};
  ok.records = std::vector<ReadRecord>{{"t", 0, 0, "wrong"}};
  read.kind = LineKind::op_ok;
  read.body = ok;
  EXPECT_TRUE(checker.add(read).ok());
  expect_counts(checker.finish(), {{"inconsistent-offsets", 1}});
}

TEST(CheckLines, StructuredInvokeLackingAFieldIsAnError) {
  Checker checker;
  Event e;
  e.node = "producer-1";
  e.kind = LineKind::op_invoke;
  e.body = OpLine{OpPhase::invoke, 1, OpFn::send};  // no topic, no value
  EXPECT_EQ(checker.add(e).message(), "line 1: op.invoke: missing field \"topic\"");
}

TEST(CheckLines, ExtremeAndSentinelOffsetsAreHarmless) {
  // Offsets at the ends of int64 (no overflow anywhere), and a seek to a sentinel (-1: latest)
  // that leaves the position unknown rather than at -1.
  History h;
  h.poll("consumer-1", 1, {{0, INT64_MIN, "a"}, {0, 0, "b"}, {0, INT64_MAX, "c"}});
  h.poll("consumer-2", 1, {{2, 3, "d"}}).seek("consumer-2", 2, {{2, -1}});
  h.poll("consumer-2", 3, {{2, 3, "d"}});  // read again after the seek: fine
  h.send("producer-1", 1, "e", 1, INT64_MAX).final_read("reader", 1, 1, INT64_MIN, INT64_MAX, {});
  expect_counts(check(h), {{"lost-write", 1}});
}

TEST(CheckFile, ReadsAFileAndReportsMissingOnes) {
  auto missing = check_history_file("/nonexistent/history.jsonl");
  EXPECT_EQ(missing.code(), Errc::not_found);
  std::string path = ::testing::TempDir() + "check_test_history.jsonl";
  {
    std::ofstream out(path);
    History h = two_sends();
    h.final_read("reader", 1, 0, 0, 1, {{0, 0, "p1:1"}});
    for (const std::string& line : h.lines) out << line << "\n";
  }
  auto r = check_history_file(path);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count("lost-write"), 1u);
  {
    std::ofstream out(path);
    out << "{\"t\":1,\"n\":\"p\",\"k\":\"op.invoke\"}\n";
  }
  auto bad = check_history_file(path);
  EXPECT_EQ(bad.status().message(), path + ": line 1: op.invoke: missing field \"op\"");
  std::remove(path.c_str());
}

}  // namespace
}  // namespace gregor::check
