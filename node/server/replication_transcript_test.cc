// Golden transcripts of partition replication in a real 3-node cluster (combined broker and
// controller nodes, QuorumWorld) in the simulator: a topic `t` with one partition, replication
// factor 3 and min.insync.replicas=2, driven through leader changes, divergence and ISR changes.
// Each transcript (tests/testdata/replication/*.txt) lists, one line per event, what the
// brokers traced for `t`: replica.state (role, leader epoch, log end, high watermark, log start,
// ISR), replica.truncate (the leader's answer on where the logs diverge and where the follower
// cut its log) and replica.isr_change (a leader proposing an ISR), interleaved with the test's
// own steps. Run with --rewrite (or GREGOR_REWRITE=1) to regenerate them, then review the diff.
//
// Besides the text, each test asserts the story's facts directly: acknowledged records are read
// back from the new leader, the leader epoch goes up, a diverged replica truncates exactly where
// the logs part, the ISR shrinks and expands, no replica's high watermark goes back.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "client/consumer.h"
#include "client/producer.h"
#include "node/log/record_batch.h"
#include "node/server/server_testing.h"

namespace gregor::server {
namespace {

namespace fs = std::filesystem;
using client::testing::bytes_of;
using client::testing::text_of;
using testing::kBrokerPort;
using testing::Layout;
using testing::QuorumWorld;

constexpr const char* kTopic = "t";
// Short replication timeouts: each scenario spans a few virtual seconds. The session timeout
// stays well above the lag time, so a follower cut off from its leader leaves the ISR by the
// leader's shrink before the controller would fence it; and above the brokers' RPC timeout
// (5 s), so a heartbeat stuck at an unreachable old controller cannot outlast the session the new
// one grants at activation (below it, a controller failover fences every broker).
constexpr const char* kConfig = R"("replica.lag.time.max.ms" = 400
"replica.fetch.wait.max.ms" = 100
"replica.fetch.backoff.ms" = 50
"broker.heartbeat.interval.ms" = 250
"broker.session.timeout.ms" = 6000)";
constexpr Duration kLagTimeMax = milliseconds(400);
constexpr Duration kWaitMax = seconds(30);  // any single step of a scenario
constexpr size_t kReadBytesMax = 1 << 20;

// One traced replication event of topic kTopic.
struct Event {
  int64_t ms = 0;
  std::string node;
  std::string kind;  // replica.state, replica.truncate, replica.isr_change
  nlohmann::ordered_json fields;
};

// Collects the replication events of kTopic from the world's trace, and the test's own steps,
// as transcript lines: "<ms> <node> <event> key=value ...".
class Transcript {
 public:
  explicit Transcript(QuorumWorld& w) : w_(w) {
    w.world().trace_log().set_sink([this](std::string_view line) { take(line); });
  }
  ~Transcript() { w_.world().trace_log().set_sink(nullptr); }

  void step(const std::string& what) {
    lines_.push_back(fmt::format("{:>6} test {}", now_ms(), what));
  }
  const std::vector<std::string>& lines() const { return lines_; }
  const std::vector<Event>& events() const { return events_; }
  std::vector<Event> events_of(const std::string& kind, const std::string& node = "") const {
    std::vector<Event> out;
    for (const Event& e : events_) {
      if (e.kind == kind && (node.empty() || e.node == node)) out.push_back(e);
    }
    return out;
  }
  int64_t now_ms() const { return to_ns(w_.world().now()) / 1'000'000; }

 private:
  void take(std::string_view line) {
    if (line.find("\"k\":\"replica.") == std::string_view::npos) return;
    auto j = nlohmann::ordered_json::parse(line);
    if (j.value("topic", "") != kTopic) return;
    Event e{j["t"].get<int64_t>() / 1'000'000, j["n"], j["k"], {}};
    std::string text = fmt::format("{:>6} {} {}", e.ms, e.node, e.kind.substr(8));
    for (auto& [key, value] : j.items()) {
      if (key == "t" || key == "n" || key == "k" || key == "topic" || key == "partition") continue;
      e.fields[key] = value;
      text +=
          fmt::format(" {}={}", key, value.is_string() ? value.get<std::string>() : value.dump());
    }
    lines_.push_back(std::move(text));
    events_.push_back(std::move(e));
  }

  QuorumWorld& w_;
  std::vector<std::string> lines_;
  std::vector<Event> events_;
};

bool rewrite_requested() {
  const char* env = std::getenv("GREGOR_REWRITE");
  if (env != nullptr && std::string(env) == "1") return true;
  for (const std::string& arg : ::testing::internal::GetArgvs()) {
    if (arg == "--rewrite") return true;
  }
  return false;
}

// Compares header + transcript with tests/testdata/replication/<name>.txt (or rewrites it).
void check_golden(const std::string& name, const std::string& header, const Transcript& t) {
  std::string actual = header;
  for (const std::string& l : t.lines()) actual += l + "\n";
  fs::path path = fs::path(GREGOR_REPLICATION_TESTDATA) / (name + ".txt");
  if (rewrite_requested()) {
    std::ofstream(path) << actual;
    return;
  }
  std::ifstream in(path);
  ASSERT_TRUE(in) << path << " is missing: run with --rewrite";
  std::stringstream expected;
  expected << in.rdbuf();
  // The first differing line, then the whole text (gtest's diff of long strings is unreadable).
  std::istringstream a(actual), e(expected.str());
  for (int n = 1; a || e; ++n) {
    std::string la, le;
    std::getline(a, la);
    std::getline(e, le);
    if (la != le) {
      ADD_FAILURE() << path << ":" << n << ": expected `" << le << "`, got `" << la << "`";
      break;
    }
  }
  EXPECT_EQ(expected.str(), actual) << path;
}

// A cluster with topic t created, every replica hosting it and in the ISR.
class Scenario {
 public:
  Scenario() : w_(Layout{.extra_config = kConfig}), transcript_(w_) {
    EXPECT_TRUE(w_.run_until([&] { return w_.brokers_see(3); }, kWaitMax));
    client::AdminConfig ac;
    ac.bootstrap_servers = w_.bootstrap();
    client::Admin admin(w_.client_env(), ac);
    transcript_.step("create topic t: 1 partition, replication factor 3, min.insync.replicas=2");
    auto errors = testing::create_topics(
        w_, admin, {client::NewTopic{kTopic, 1, 3, {{"min.insync.replicas", "2"}}}});
    EXPECT_EQ(errors, std::vector{kafka::ErrorCode::none});
    EXPECT_TRUE(w_.run_until([&] { return leader() != 0 && isr_size(leader()) == 3; }, kWaitMax));
  }

  // A failed scenario prints its transcript: the story of what went wrong.
  ~Scenario() {
    if (!::testing::Test::HasFailure()) return;
    std::string text;
    for (const std::string& l : transcript_.lines()) text += l + "\n";
    fmt::print(stderr, "transcript so far:\n{}", text);
  }

  QuorumWorld& w() { return w_; }
  Transcript& transcript() { return transcript_; }

  broker::Partition* partition(int id) {
    Server* s = w_.server(id);
    return s && s->broker() ? s->broker()->replicas().partition(kTopic, 0) : nullptr;
  }
  // The running replica that leads at the highest epoch (0: none).
  int leader() {
    int best = 0;
    for (int id = 1; id <= 3; ++id) {
      broker::Partition* p = partition(id);
      if (p && p->is_leader() && (!best || p->leader_epoch() > partition(best)->leader_epoch()))
        best = id;
    }
    return best;
  }
  size_t isr_size(int id) { return partition(id) ? partition(id)->isr().size() : 0; }
  int64_t log_end(int id) { return partition(id) ? partition(id)->log().log_end_offset() : -1; }
  int64_t high_watermark(int id) { return partition(id) ? partition(id)->high_watermark() : -1; }
  // Every running replica holds the leader's log end as its high watermark.
  bool replicas_caught_up() {
    int l = leader();
    if (!l) return false;
    for (int id = 1; id <= 3; ++id) {
      if (w_.cluster().is_up(w_.node(id)) && high_watermark(id) != log_end(l)) return false;
    }
    return true;
  }

  // Sends each value in turn (the next once the previous is answered); the offsets of the
  // acknowledged ones, -1 for the others.
  std::vector<int64_t> produce(client::Producer& producer, const std::vector<std::string>& values) {
    std::vector<int64_t> offsets;
    for (const std::string& v : values) {
      // Shared: a report that comes after the wait gave up must not write to a dead frame.
      auto report = std::make_shared<std::optional<client::DeliveryReport>>();
      producer.send(client::ProducerRecord{kTopic, 0, std::nullopt, bytes_of(v)},
                    [report](const client::DeliveryReport& r) { *report = r; });
      EXPECT_TRUE(w_.run_until([&] { return report->has_value(); }, kWaitMax)) << v;
      offsets.push_back(*report && (*report)->result.ok() ? (*report)->result->offset : -1);
    }
    return offsets;
  }
  std::unique_ptr<client::Producer> producer(int16_t acks, std::vector<std::string> bootstrap) {
    client::ProducerConfig pc;
    pc.bootstrap_servers = std::move(bootstrap);
    pc.acks = acks;
    pc.enable_idempotence = acks == -1;
    pc.linger_ms = Duration::zero();
    pc.request_timeout_ms = seconds(2);
    return std::make_unique<client::Producer>(w_.client_env(), pc);
  }

  // (offset, value) of every record in replica `id`'s log, read from the log start.
  std::vector<std::pair<int64_t, std::string>> log_of(int id) {
    auto got = std::make_shared<std::optional<broker::FetchOutcome>>();
    partition(id)->read_for_follower(0, kReadBytesMax,
                                     [got](broker::FetchOutcome o) { *got = std::move(o); });
    EXPECT_TRUE(w_.run_until([&] { return got->has_value(); }, kWaitMax));
    return *got ? values_of((*got)->records) : std::vector<std::pair<int64_t, std::string>>{};
  }
  // (offset, value) of every record a consumer reads from the partition's leader.
  std::vector<std::pair<int64_t, std::string>> consume_all(int64_t expected) {
    client::ConsumerConfig cc;
    cc.bootstrap_servers = w_.bootstrap();
    cc.auto_offset_reset = client::OffsetReset::earliest;
    client::Consumer consumer(w_.client_env(), cc);
    consumer.assign({client::TopicPartition{kTopic, 0}});
    std::vector<std::pair<int64_t, std::string>> out;
    MonoTime deadline = w_.world().now() + kWaitMax;
    while (static_cast<int64_t>(out.size()) < expected && w_.world().now() < deadline) {
      auto got = std::make_shared<std::optional<Result<std::vector<client::ConsumerRecord>>>>();
      consumer.poll(milliseconds(200), [got](auto r) { *got = std::move(r); });
      EXPECT_TRUE(w_.run_until([&] { return got->has_value(); }, kWaitMax));
      if (!*got || !(*got)->ok()) break;
      for (const auto& r : ***got) out.emplace_back(r.offset, text_of(r.value));
    }
    consumer.close();
    return out;
  }

  // No replica's high watermark goes back while its process lives (a crash resets the count).
  void expect_high_watermarks_monotonic() {
    std::map<std::string, int64_t> last;
    for (const Event& e : transcript_.events()) {
      if (e.kind != "replica.state") continue;
      int64_t hw = e.fields["hw"].get<int64_t>();
      auto [it, first] = last.try_emplace(e.node, hw);
      bool restarted = restarted_at_.contains(e.node) && e.ms >= restarted_at_[e.node] &&
                       !checked_restart_.contains(e.node);
      if (restarted) {
        checked_restart_.insert(e.node);
        it->second = hw;
        continue;
      }
      EXPECT_GE(hw, it->second) << e.node << " at " << e.ms << " ms";
      it->second = hw;
    }
  }
  // A killed process: the page cache survives, so its log comes back whole.
  void crash(int id) {
    transcript_.step(fmt::format("kill n{} (its page cache survives)", id));
    w_.cluster().crash(w_.node(id), sim::CrashOptions{.lose_unsynced = false});
  }
  void restart(int id) {
    transcript_.step(fmt::format("restart n{}", id));
    restarted_at_[fmt::format("n{}", id)] = transcript_.now_ms();
    w_.cluster().restart(w_.node(id));
  }

 private:
  static std::vector<std::pair<int64_t, std::string>> values_of(const ReadBuffer& records) {
    std::vector<std::pair<int64_t, std::string>> out;
    log::BatchIterator it{ByteView(records.data(), records.size())};
    while (auto batch = it.next()) {
      auto decoded = log::decode_records(*batch);
      EXPECT_TRUE(decoded.ok()) << decoded.status();
      if (!decoded.ok()) break;
      for (const log::Record& r : *decoded) out.emplace_back(r.offset, text_of(r.value));
    }
    return out;
  }

  QuorumWorld w_;
  Transcript transcript_;
  std::map<std::string, int64_t> restarted_at_;
  std::set<std::string> checked_restart_;
};

std::vector<std::pair<int64_t, std::string>> numbered(const std::vector<std::string>& values) {
  std::vector<std::pair<int64_t, std::string>> out;
  for (size_t i = 0; i < values.size(); ++i) out.emplace_back(i, values[i]);
  return out;
}

// The ISR sizes a node's replica.state lines went through, consecutive repeats merged.
std::vector<size_t> isr_sizes(const Transcript& t, const std::string& node) {
  std::vector<size_t> out;
  for (const Event& e : t.events_of("replica.state", node)) {
    if (e.fields["role"] != "leader") continue;
    size_t n = e.fields["isr"].size();
    if (out.empty() || out.back() != n) out.push_back(n);
  }
  return out;
}

std::string node_name(int id) {
  return fmt::format("n{}", id);
}

TEST(ReplicationTranscript, LeaderChange) {
  Scenario s;
  QuorumWorld& w = s.w();
  Transcript& t = s.transcript();
  int old_leader = s.leader();
  ASSERT_NE(old_leader, 0);
  int32_t old_epoch = s.partition(old_leader)->leader_epoch();
  auto producer = s.producer(-1, w.bootstrap());
  t.step("produce a0 a1 a2 with acks=all");
  EXPECT_EQ(s.produce(*producer, {"a0", "a1", "a2"}), (std::vector<int64_t>{0, 1, 2}));
  ASSERT_TRUE(w.run_until([&] { return s.replicas_caught_up(); }, kWaitMax));

  s.crash(old_leader);
  ASSERT_TRUE(w.run_until([&] { return s.leader() != 0 && s.leader() != old_leader; }, kWaitMax));
  int new_leader = s.leader();
  int32_t new_epoch = s.partition(new_leader)->leader_epoch();
  t.step(fmt::format("n{} leads at epoch {}", new_leader, new_epoch));
  EXPECT_GT(new_epoch, old_epoch);
  // A fresh producer: the story is the replicas', not how soon the first producer notices that
  // its leader is gone (a failed connect refreshes metadata only since client/metadata.cc does).
  producer = s.producer(-1, w.bootstrap());
  t.step("produce b0 b1 b2 with acks=all");
  EXPECT_EQ(s.produce(*producer, {"b0", "b1", "b2"}), (std::vector<int64_t>{3, 4, 5}));
  EXPECT_EQ(s.isr_size(new_leader), 2u);

  s.restart(old_leader);
  ASSERT_TRUE(
      w.run_until([&] { return s.isr_size(s.leader()) == 3 && s.replicas_caught_up(); }, kWaitMax))
      << "n" << old_leader << " never rejoined the ISR";
  t.step(fmt::format("n{} is back in the ISR", old_leader));
  EXPECT_EQ(s.leader(), new_leader);

  auto all = numbered({"a0", "a1", "a2", "b0", "b1", "b2"});
  EXPECT_EQ(s.consume_all(6), all);
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(s.log_of(id), all) << "n" << id;
  // The new leader's ISR: 2 while the old leader was down, then 3.
  std::vector<size_t> sizes = isr_sizes(t, node_name(new_leader));
  ASSERT_GE(sizes.size(), 2u);
  EXPECT_EQ(std::vector<size_t>(sizes.end() - 2, sizes.end()), (std::vector<size_t>{2, 3}));
  // The restarted replica fetched from its log end (3) with the epoch of its last record
  // (KIP-320); the new leader's log holds that epoch up to 3, so no divergence was answered and
  // nothing was cut.
  EXPECT_TRUE(t.events_of("replica.truncate", node_name(old_leader)).empty());
  s.expect_high_watermarks_monotonic();
  check_golden(
      "leader_change",
      R"(# Leader change: the leader of t-0 (RF=3, min.insync.replicas=2) is killed after three records
# acknowledged with acks=all. The controller fences it once its session expires and elects
# another ISR member at a higher leader epoch; with two replicas in the ISR, three more records are
# acknowledged. The old leader restarts with its three records and fetches from 3 with the epoch
# of its last record; the new leader holds that epoch up to 3 (no divergence, nothing to cut) and
# answers the rest; the old leader rejoins the ISR.
#
# Columns: virtual ms, node, event, fields (replica.state: role, leader epoch, log end offset,
# high watermark, log start, ISR).
)",
      t);
}

TEST(ReplicationTranscript, TruncationAfterDivergence) {
  Scenario s;
  QuorumWorld& w = s.w();
  Transcript& t = s.transcript();
  int old_leader = s.leader();
  ASSERT_NE(old_leader, 0);
  int32_t old_epoch = s.partition(old_leader)->leader_epoch();
  std::vector<int> followers;
  for (int id = 1; id <= 3; ++id)
    if (id != old_leader) followers.push_back(id);
  t.step("produce a0 a1 a2 with acks=all");
  EXPECT_EQ(s.produce(*s.producer(-1, w.bootstrap()), {"a0", "a1", "a2"}),
            (std::vector<int64_t>{0, 1, 2}));
  ASSERT_TRUE(w.run_until([&] { return s.replicas_caught_up(); }, kWaitMax));

  t.step(fmt::format("cut n{} off from n{} and n{} (the client still reaches every node)",
                     old_leader, followers[0], followers[1]));
  w.network().partition({w.node(old_leader)}, {w.node(followers[0]), w.node(followers[1])});
  t.step(fmt::format("produce x0 x1 with acks=1 to n{} only", old_leader));
  EXPECT_EQ(
      s.produce(*s.producer(1, {fmt::format("n{}:{}", old_leader, kBrokerPort)}), {"x0", "x1"}),
      (std::vector<int64_t>{3, 4}));
  ASSERT_TRUE(w.run_until(
      [&] {
        return s.partition(followers[0])->is_leader() || s.partition(followers[1])->is_leader();
      },
      kWaitMax));
  int new_leader = s.partition(followers[0])->is_leader() ? followers[0] : followers[1];
  int32_t new_epoch = s.partition(new_leader)->leader_epoch();
  t.step(fmt::format("n{} leads at epoch {}", new_leader, new_epoch));
  EXPECT_GT(new_epoch, old_epoch);
  t.step(fmt::format("produce y0 y1 y2 with acks=all to n{} and n{}", followers[0], followers[1]));
  auto majority = s.producer(-1, {fmt::format("n{}:{}", followers[0], kBrokerPort),
                                  fmt::format("n{}:{}", followers[1], kBrokerPort)});
  EXPECT_EQ(s.produce(*majority, {"y0", "y1", "y2"}), (std::vector<int64_t>{3, 4, 5}));

  t.step("heal the network");
  w.network().heal_all();
  ASSERT_TRUE(
      w.run_until([&] { return s.isr_size(new_leader) == 3 && s.replicas_caught_up(); }, kWaitMax))
      << "n" << old_leader << " never rejoined the ISR";
  t.step(fmt::format("n{} is back in the ISR", old_leader));

  // The old leader cut its log exactly where it parts from the new leader's: after the three
  // records both hold, dropping x0 x1 (never acknowledged with acks=all). The new leader said so
  // in its Fetch answer (a diverging epoch, KIP-320).
  std::optional<Event> cut;
  for (const Event& e : t.events_of("replica.truncate", node_name(old_leader))) {
    if (e.fields["to"].get<int64_t>() < e.fields["leo"].get<int64_t>()) cut = e;
  }
  ASSERT_TRUE(cut.has_value()) << "n" << old_leader << " never truncated";
  EXPECT_EQ(cut->fields["to"].get<int64_t>(), 3);
  EXPECT_EQ(cut->fields["leo"].get<int64_t>(), 5);
  EXPECT_EQ(cut->fields["leader_epoch"].get<int32_t>(), old_epoch);
  EXPECT_EQ(cut->fields["leader_end"].get<int64_t>(), 3);
  EXPECT_EQ(cut->fields["via"].get<std::string>(), "fetch");
  auto all = numbered({"a0", "a1", "a2", "y0", "y1", "y2"});
  EXPECT_EQ(s.consume_all(6), all);
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(s.log_of(id), all) << "n" << id;
  s.expect_high_watermarks_monotonic();
  check_golden(
      "truncation_after_divergence",
      R"(# Truncation after divergence: the leader of t-0 is cut off from both followers (and so from
# the controller quorum's majority) but not from clients. It appends x0 x1 with acks=1, which no
# follower gets. The controller fences it when its session expires and elects a follower at a
# higher leader epoch, which appends y0 y1 y2 at the same offsets. Healed, the old leader learns
# the new epoch and fetches from its log end (5) with the epoch of its last record; the new
# leader answers a diverging epoch instead of records: its log ends at 3 for that epoch (KIP-320).
# The old leader truncates there (the records both hold), only then applies the leader's high
# watermark (KAFKA-14704), fetches y0 y1 y2 and rejoins the ISR.
#
# Columns: virtual ms, node, event, fields (replica.truncate: the leader, the leader's answer
# for the follower's last epoch, the truncation offset, the follower's log end before it, and
# via=fetch when the answer was a Fetch's diverging epoch).
)",
      t);
}

TEST(ReplicationTranscript, IsrShrinkExpand) {
  Scenario s;
  QuorumWorld& w = s.w();
  Transcript& t = s.transcript();
  int leader = s.leader();
  ASSERT_NE(leader, 0);
  int lagging = leader == 1 ? 2 : 1;
  auto producer = s.producer(-1, w.bootstrap());
  t.step("produce a0 a1 a2 with acks=all");
  EXPECT_EQ(s.produce(*producer, {"a0", "a1", "a2"}), (std::vector<int64_t>{0, 1, 2}));
  ASSERT_TRUE(w.run_until([&] { return s.replicas_caught_up(); }, kWaitMax));

  t.step(fmt::format("cut n{} off from the leader n{}", lagging, leader));
  int64_t cut_ms = t.now_ms();
  w.network().partition({w.node(leader)}, {w.node(lagging)});
  // b0 waits at the leader until the ISR no longer counts the lagging follower.
  t.step("produce b0 b1 b2 with acks=all");
  EXPECT_EQ(s.produce(*producer, {"b0", "b1", "b2"}), (std::vector<int64_t>{3, 4, 5}));
  int64_t acked_ms = t.now_ms();
  EXPECT_EQ(s.isr_size(leader), 2u);
  EXPECT_EQ(s.log_end(lagging), 3);

  t.step("heal the network");
  w.network().heal_all();
  ASSERT_TRUE(
      w.run_until([&] { return s.isr_size(leader) == 3 && s.replicas_caught_up(); }, kWaitMax))
      << "n" << lagging << " never rejoined the ISR";
  t.step(fmt::format("n{} is back in the ISR", lagging));
  EXPECT_EQ(s.leader(), leader);

  // The leader proposed the shrink no sooner than replica.lag.time.max.ms after the cut, then
  // the expansion; its ISR went 3 -> 2 -> 3.
  auto changes = t.events_of("replica.isr_change", node_name(leader));
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].fields["isr"].size(), 2u);
  EXPECT_GE(changes[0].ms - cut_ms, to_ns(kLagTimeMax) / 1'000'000);
  EXPECT_LT(changes[0].ms, acked_ms);
  EXPECT_GT(changes[1].ms, acked_ms);
  EXPECT_EQ(changes[1].fields["isr"].size(), 3u);
  EXPECT_EQ(isr_sizes(t, node_name(leader)), (std::vector<size_t>{3, 2, 3}));
  // The expansion came once the follower held the high watermark (and so the epoch's start).
  int64_t expanded_ms = changes[1].ms;
  int64_t follower_leo = -1;
  for (const Event& e : t.events_of("replica.state", node_name(lagging))) {
    if (e.ms <= expanded_ms) follower_leo = e.fields["leo"].get<int64_t>();
  }
  EXPECT_EQ(follower_leo, 6);
  auto all = numbered({"a0", "a1", "a2", "b0", "b1", "b2"});
  EXPECT_EQ(s.consume_all(6), all);
  for (int id = 1; id <= 3; ++id) EXPECT_EQ(s.log_of(id), all) << "n" << id;
  s.expect_high_watermarks_monotonic();
  check_golden(
      "isr_shrink_expand",
      R"(# ISR shrink and expand: a follower of t-0 is cut off from the leader (not from the third
# node). b0, produced with acks=all, waits at the leader: the high watermark cannot pass the
# lagging follower. After replica.lag.time.max.ms (400 ms here) without catching up, the leader
# proposes the ISR without it (isr_change); once the controller commits it, b0 and then b1 b2 are
# acknowledged by the two replicas left (min.insync.replicas=2). Healed, the follower fetches up
# to the high watermark and the start of the leader's epoch, and the leader proposes it back.
#
# Columns: virtual ms, node, event, fields (replica.isr_change: leader epoch, partition epoch,
# the proposed ISR).
)",
      t);
}

}  // namespace
}  // namespace gregor::server
