// Proves the Cluster's fault points: with Options::buggify every process's Env reaches the
// cluster's one FaultPoints, every firing is traced (kind "buggify", field "site") on the node
// that evaluated it, and the same seed gives the same firings and the same trace hash; without it
// nothing fires while probes still count. Then the real broker and Gregor's client with every
// fault point enabled: whatever fires, each record the idempotent producer had acknowledged is
// read back exactly once, in send order, at its acknowledged offset, across a broker crash.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "base/fault_points.h"
#include "client/client_test_helpers.h"
#include "sim/cluster.h"

namespace gregor::sim {
namespace {

// Evaluates one fault site and one probe every millisecond of virtual time.
class Evaluator final : public Service {
 public:
  explicit Evaluator(Env& env) : env_(env) { tick(); }
  ~Evaluator() override { env_.clock.cancel(timer_); }
  uint64_t fired() const { return fired_; }

 private:
  void tick() {
    timer_ = env_.clock.schedule(milliseconds(1), [this] {
      if (GREGOR_BUGGIFY(env_, log_read_short)) ++fired_;
      GREGOR_PROBE(env_, log_offline);
      tick();
    });
  }
  Env& env_;
  uint64_t fired_ = 0;
  TimerId timer_ = kNoTimer;
};

struct EvaluatorRun {
  uint64_t trace_hash = 0;
  uint64_t fired = 0;  // as the service saw it
  uint64_t fires = 0;  // as FaultPoints counted
  uint64_t probe_hits = 0;
  std::vector<std::string> buggify_lines;
};

EvaluatorRun run_evaluators(uint64_t seed, bool buggify) {
  Cluster::Options options;
  options.seed = seed;
  options.buggify = buggify;
  options.trace.keep_lines = true;
  Cluster cluster(options);
  cluster.fault_points().force(FaultSite::log_read_short, true);
  NodeId a = cluster.add_process("a", [](Env& env) { return std::make_unique<Evaluator>(env); });
  NodeId b = cluster.add_process("b", [](Env& env) { return std::make_unique<Evaluator>(env); });
  cluster.world().run_for(milliseconds(500));
  cluster.crash(b);  // the FaultPoints outlive incarnations
  cluster.restart(b);
  cluster.world().run_for(milliseconds(500));
  EvaluatorRun run;
  run.trace_hash = cluster.world().trace_log().hash();
  run.fired = cluster.service_as<Evaluator>(a)->fired() + cluster.service_as<Evaluator>(b)->fired();
  run.fires = cluster.fault_points().fires(FaultSite::log_read_short);
  run.probe_hits = cluster.fault_points().hits(ProbeSite::log_offline);
  for (const std::string& line : cluster.world().trace_log().kept_lines()) {
    if (line.find("\"k\":\"buggify\"") != std::string::npos) run.buggify_lines.push_back(line);
  }
  return run;
}

TEST(ClusterBuggify, FiresDeterministicallyAndTracesEveryFiring) {
  EvaluatorRun first = run_evaluators(42, true);
  EvaluatorRun again = run_evaluators(42, true);
  EXPECT_GT(first.fires, 100u);  // about a quarter of ~2000 evaluations
  EXPECT_LT(first.fires, 1000u);
  EXPECT_EQ(first.buggify_lines.size(), first.fires);
  for (const std::string& line : first.buggify_lines) {
    EXPECT_NE(line.find("\"site\":\"log_read_short\""), std::string::npos) << line;
  }
  EXPECT_TRUE(std::any_of(first.buggify_lines.begin(), first.buggify_lines.end(),
                          [](auto& l) { return l.find("\"n\":\"b\"") != std::string::npos; }));
  EXPECT_EQ(again.trace_hash, first.trace_hash);
  EXPECT_EQ(again.fires, first.fires);
  EXPECT_EQ(again.buggify_lines, first.buggify_lines);
  EXPECT_NE(run_evaluators(43, true).trace_hash, first.trace_hash);
}

TEST(ClusterBuggify, OffByDefaultWhileProbesCount) {
  EXPECT_FALSE(Cluster::Options{}.buggify);
  EvaluatorRun off = run_evaluators(42, false);
  EXPECT_EQ(off.fired, 0u);
  EXPECT_EQ(off.fires, 0u);
  EXPECT_TRUE(off.buggify_lines.empty());
  EXPECT_GT(off.probe_hits, 1500u);
  EXPECT_EQ(off.trace_hash, run_evaluators(42, false).trace_hash);
}

// --- The broker and the client under every fault point --------------------------------------

using client::testing::bytes_of;
using client::testing::SimBrokerWorld;
using client::testing::text_of;

struct WorkloadRun {
  uint64_t trace_hash = 0;
  std::vector<uint64_t> fires;  // per fault site
  uint64_t duplicates = 0;      // probe log_append_duplicate
};

constexpr int kPartitions = 2;
constexpr int kWaves = 12;
constexpr int kRecordsPerWave = 25;
// Values long enough that each partition outgrows the smallest segment log_roll_early cuts.
constexpr size_t kValuePadding = 200;

// Produces kWaves waves of records idempotently with every fault point enabled (a wave at a time,
// so the log sees many appends), crashes the broker process (its page cache survives, so every
// acknowledged record does) and restarts it, then reads everything back.
WorkloadRun run_workload(uint64_t seed) {
  SimBrokerWorld w(SimBrokerWorld::Options{.seed = seed});
  client::testing::create_topic(w, "t", kPartitions);
  FaultPoints& fp = w.cluster().fault_points();
  for (size_t i = 0; i < kFaultSiteCount; ++i) fp.force(static_cast<FaultSite>(i), true);
  fp.set_buggify(true);

  std::map<int32_t, std::vector<std::string>> sent;  // partition -> values in send order
  std::map<int32_t, std::vector<int64_t>> acked;     // partition -> offsets in send order
  {
    client::Producer producer(w.client_env(), client::testing::producer_config(w));
    for (int wave = 0; wave < kWaves; ++wave) {
      std::vector<client::ProducerRecord> records;
      for (int i = wave * kRecordsPerWave; i < (wave + 1) * kRecordsPerWave; ++i) {
        client::ProducerRecord r;
        r.topic = "t";
        r.partition = i % kPartitions;
        r.key = bytes_of("k" + std::to_string(i));
        std::string value = "v" + std::to_string(i) + std::string(kValuePadding, '.');
        r.value = bytes_of(value);
        sent[*r.partition].push_back(value);
        records.push_back(std::move(r));
      }
      auto reports = client::testing::produce_all(w, producer, std::move(records));
      EXPECT_EQ(reports.size(), static_cast<size_t>(kRecordsPerWave));
      for (auto& r : reports) {
        EXPECT_TRUE(r.result.ok()) << r.result.status();
        if (r.result.ok()) acked[r.result->partition].push_back(r.result->offset);
      }
    }
  }
  w.crash_broker(CrashOptions{.lose_unsynced = false});
  EXPECT_TRUE(w.restart_broker());

  std::vector<client::TopicPartition> tps;
  for (int32_t p = 0; p < kPartitions; ++p) tps.push_back({"t", p});
  auto read = client::testing::read_all(w, tps);
  std::map<int32_t, std::vector<std::string>> values;
  std::map<int32_t, std::vector<int64_t>> offsets;
  for (auto& r : read) {
    values[r.partition].push_back(text_of(r.value));
    offsets[r.partition].push_back(r.offset);
  }
  for (int32_t p = 0; p < kPartitions; ++p) {
    EXPECT_EQ(values[p], sent[p]) << "partition " << p << ", seed " << seed;
    EXPECT_EQ(offsets[p], acked[p]) << "partition " << p << ", seed " << seed;
  }

  WorkloadRun run;
  run.trace_hash = w.world().trace_log().hash();
  for (size_t i = 0; i < kFaultSiteCount; ++i) run.fires.push_back(fp.fires(FaultSite(i)));
  run.duplicates = fp.hits(ProbeSite::log_append_duplicate);
  return run;
}

TEST(BrokerBuggify, EveryAcknowledgedRecordIsReadBackExactlyOnce) {
  std::vector<uint64_t> fires(kFaultSiteCount);
  uint64_t duplicates = 0;
  for (uint64_t seed : {1, 2, 3}) {
    WorkloadRun run = run_workload(seed);
    for (size_t i = 0; i < kFaultSiteCount; ++i) fires[i] += run.fires[i];
    duplicates += run.duplicates;
    if (::testing::Test::HasFailure()) return;
  }
  // The fault points on the paths this workload takes fired (each run evaluates them only a few
  // dozen times, so one run alone may miss one).
  for (FaultSite site :
       {FaultSite::log_roll_early, FaultSite::log_flush_early, FaultSite::log_read_short,
        FaultSite::broker_refuse_connection, FaultSite::client_lose_response,
        FaultSite::client_short_request_timeout, FaultSite::client_metadata_refresh_fails,
        FaultSite::producer_send_early, FaultSite::consumer_fetch_one_batch}) {
    EXPECT_GT(fires[static_cast<size_t>(site)], 0u) << site_info(site).name;
  }
  // Lost produce responses were settled by the broker's duplicate detection.
  EXPECT_GT(duplicates, 0u);
}

TEST(BrokerBuggify, SameSeedSameRun) {
  WorkloadRun first = run_workload(7);
  WorkloadRun again = run_workload(7);
  EXPECT_EQ(again.trace_hash, first.trace_hash);
  EXPECT_EQ(again.fires, first.fires);
}

}  // namespace
}  // namespace gregor::sim
