// Proves that scenario files mean what scenarios/README.md says: an empty file gives the
// Scenario defaults (name from the file's stem); a file using every key parses field by field;
// durations parse and print exactly (a property over all of int64); fault kind names and NodeRef
// texts match the enum; scenario_to_toml output parses back to the same Scenario for hand-built
// scenarios and, as a property, for generated valid scenarios of every fault kind; and every
// scenarios/**/*.toml file in the source tree parses and round-trips. Errors are proven in
// scenario_toml_errors_test.cc.
#include "sim/scenario/scenario_toml.h"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace gregor::scenario {
namespace {

Scenario parse_ok(std::string_view text, std::string_view file = "test.toml") {
  auto r = parse_scenario(text, file);
  EXPECT_TRUE(r.ok()) << r.status().message() << "\n" << text;
  return r.ok() ? *r : Scenario{};
}

NodeRef broker(uint32_t i) {
  return NodeRef{NodeRef::Kind::broker, i, ""};
}
NodeRef client(std::string name) {
  return NodeRef{NodeRef::Kind::client, 0, std::move(name)};
}
NodeRef leader(std::string tp) {
  return NodeRef{NodeRef::Kind::leader, 0, std::move(tp)};
}

TEST(ScenarioToml, EmptyFileGivesDefaultsAndTheStemAsName) {
  Scenario s = parse_ok("", "dir/sub/quiet.toml");
  Scenario expected;
  expected.name = "quiet";
  EXPECT_EQ(s, expected);
  EXPECT_EQ(parse_ok("", "noext").name, "noext");
}

constexpr std::string_view kFull = R"(name = "full"
description = "every key"
seed = 42
duration = "1m30s"
mode = "liveness"
recovery = "45s"
expect = "duplicate"

[cluster]
brokers = 1
controllers = 0
bugs = { ack_before_append = true }

[cluster.config]
"log.flush.interval.messages" = 1
log.retention.ms = 60000
"auto.create.topics.enable" = false
"log.cleanup.policy" = "compact,delete"

[[topic]]
name = "events"
partitions = 3
replication_factor = 1
config = { "cleanup.policy" = "compact", "retention.ms" = 1000 }

[[topic]]
name = "audit"

[[producer]]
name = "writer"
count = 2
topic = "events"
rate = 12.5
records = 1000
keys = 20
acks = -1
idempotence = true
max_in_flight = 3
value_bytes = 64
linger = "0s"
start = "1s"

[[producer]]
name = "lossy"
topic = "audit"
acks = 0

[[consumer]]
name = "reader"
count = 3
topics = ["audit", "events"]
mode = "group"
group = "g1"
isolation = "read_committed"
commit = "auto"
auto_commit_interval = "250ms"
from = "latest"
poll_timeout = "50ms"
start = "2.5s"

[[consumer]]

[[fault]]
at = "5s"
kind = "crash"
nodes = [1]
for = "2s"
lose_unsynced = false

[[fault]]
at = "8s"
kind = "partition"
groups = [[1], ["writer-2", "reader-3"]]
until = "heal"

[[fault]]
at = "12s"
kind = "hold"
from = "leader:events-2"
to = "broker-1"
until = "restart 1"

[[fault]]
at = "14s"
kind = "clock_jump"
nodes = 1
by = "-30s"

[[fault]]
at = "15s"
kind = "clock_drift"
nodes = ["consumer-1"]
ppm = -200

[[fault]]
at = "16s"
kind = "reset"

[nemesis]
families = ["crash", "clog"]
swarm = false
interval = ["100ms", "2s"]
fault_duration = ["10ms", "1s"]
)";

TEST(ScenarioToml, FullFileHeaderClusterAndTopics) {
  Scenario s = parse_ok(kFull);
  EXPECT_EQ(s.name, "full");
  EXPECT_EQ(s.description, "every key");
  EXPECT_EQ(s.seed, 42u);
  EXPECT_EQ(s.duration, seconds(90));
  EXPECT_EQ(s.mode, Mode::liveness);
  EXPECT_EQ(s.recovery, seconds(45));
  EXPECT_EQ(s.expect, "duplicate");
  EXPECT_EQ(s.brokers, 1u);
  EXPECT_EQ(s.controllers, 0u);
  EXPECT_TRUE(s.bugs.ack_before_append);
  using KV = std::pair<std::string, std::string>;
  EXPECT_EQ(s.broker_config, (std::vector<KV>{{"log.flush.interval.messages", "1"},
                                              {"log.retention.ms", "60000"},
                                              {"auto.create.topics.enable", "false"},
                                              {"log.cleanup.policy", "\"compact,delete\""}}));
  ASSERT_EQ(s.topics.size(), 2u);
  EXPECT_EQ(s.topics[0].name, "events");
  EXPECT_EQ(s.topics[0].partitions, 3);
  EXPECT_EQ(s.topics[0].replication_factor, 1);
  EXPECT_EQ(s.topics[0].config, (std::map<std::string, std::string>{{"cleanup.policy", "compact"},
                                                                    {"retention.ms", "1000"}}));
  EXPECT_EQ(s.topics[1], (TopicSpec{"audit", 1, 1, {}}));
  EXPECT_EQ(broker_config_toml(s),
            "\"log.flush.interval.messages\" = 1\n\"log.retention.ms\" = 60000\n"
            "\"auto.create.topics.enable\" = false\n\"log.cleanup.policy\" = \"compact,delete\"\n");
}

TEST(ScenarioToml, FullFileWorkloads) {
  Scenario s = parse_ok(kFull);
  ASSERT_EQ(s.producers.size(), 2u);
  const ProducerSpec& w = s.producers[0];
  EXPECT_EQ(w.name, "writer");
  EXPECT_EQ(w.count, 2u);
  EXPECT_EQ(w.topic, "events");
  EXPECT_EQ(w.rate, 12.5);
  EXPECT_EQ(w.records, 1000u);
  EXPECT_EQ(w.keys, 20u);
  EXPECT_EQ(w.acks, Acks::all);
  EXPECT_TRUE(w.idempotence);
  EXPECT_EQ(w.max_in_flight, 3u);
  EXPECT_EQ(w.value_bytes, 64u);
  EXPECT_EQ(w.linger, Duration::zero());
  EXPECT_EQ(w.start, seconds(1));
  EXPECT_EQ(s.producers[1].acks, Acks::none);
  EXPECT_FALSE(s.producers[1].idempotence) << "acks = 0 turns idempotence off by default";

  ASSERT_EQ(s.consumers.size(), 2u);
  const ConsumerSpec& r = s.consumers[0];
  EXPECT_EQ(r.name, "reader");
  EXPECT_EQ(r.count, 3u);
  EXPECT_EQ(r.topics, (std::vector<std::string>{"audit", "events"}));
  EXPECT_EQ(r.mode, ConsumerMode::group);
  EXPECT_EQ(r.group, "g1");
  EXPECT_EQ(r.isolation, Isolation::read_committed);
  EXPECT_EQ(r.commit, CommitPolicy::automatic);
  EXPECT_EQ(r.auto_commit_interval, milliseconds(250));
  EXPECT_FALSE(r.from_beginning);
  EXPECT_EQ(r.poll_timeout, milliseconds(50));
  EXPECT_EQ(r.start, milliseconds(2500));
  ConsumerSpec defaults;
  defaults.topics = {"events", "audit"};  // absent: every declared topic, in file order
  EXPECT_EQ(s.consumers[1], defaults);
}

TEST(ScenarioToml, FullFileFaultsAndNemesis) {
  Scenario s = parse_ok(kFull);
  ASSERT_EQ(s.timeline.size(), 6u);
  const FaultSpec& crash = s.timeline[0];
  EXPECT_EQ(crash.kind, FaultKind::crash);
  EXPECT_EQ(crash.at, seconds(5));
  EXPECT_EQ(crash.duration, std::optional<Duration>(seconds(2)));
  EXPECT_EQ(crash.nodes, std::vector<NodeRef>{broker(1)});
  EXPECT_FALSE(crash.lose_unsynced);
  const FaultSpec& split = s.timeline[1];
  EXPECT_EQ(split.groups, (std::vector<std::vector<NodeRef>>{
                              {broker(1)}, {client("writer-2"), client("reader-3")}}));
  EXPECT_EQ(split.until, "heal");
  EXPECT_FALSE(split.duration);
  EXPECT_EQ(s.timeline[2].from, leader("events-2"));
  EXPECT_EQ(s.timeline[2].to, broker(1));
  EXPECT_EQ(s.timeline[2].until, "restart 1");
  EXPECT_EQ(s.timeline[3].nodes, std::vector<NodeRef>{broker(1)});
  EXPECT_EQ(s.timeline[3].by, seconds(-30));
  EXPECT_EQ(s.timeline[4].nodes, std::vector<NodeRef>{client("consumer-1")});
  EXPECT_EQ(s.timeline[4].ppm, -200);
  EXPECT_FALSE(s.timeline[5].from);

  EXPECT_TRUE(s.nemesis.enabled) << "a [nemesis] table turns it on";
  EXPECT_EQ(s.nemesis.families, (std::vector<FaultKind>{FaultKind::crash, FaultKind::clog}));
  EXPECT_FALSE(s.nemesis.swarm);
  EXPECT_EQ(s.nemesis.interval_min, milliseconds(100));
  EXPECT_EQ(s.nemesis.interval_max, seconds(2));
  EXPECT_EQ(s.nemesis.fault_duration_min, milliseconds(10));
  EXPECT_EQ(s.nemesis.fault_duration_max, seconds(1));
}

TEST(ScenarioToml, ShorthandsAndAliases) {
  Scenario s = parse_ok(R"(
seed = "18446744073709551615"
[[topic]]
name = "only"
[[producer]]
acks = "1"
[nemesis]
families = "all"
enabled = false
)");
  EXPECT_EQ(s.seed, UINT64_MAX);
  EXPECT_EQ(s.producers[0].topic, "only") << "the only topic is the default";
  EXPECT_FALSE(s.producers[0].idempotence);
  EXPECT_FALSE(s.nemesis.enabled);
  EXPECT_TRUE(s.nemesis.families.empty());
}

TEST(ScenarioToml, DurationText) {
  struct Case {
    std::string_view text;
    Duration d;
  };
  for (const Case& c :
       {Case{"250ms", milliseconds(250)}, Case{"3s", seconds(3)}, Case{"1.5s", milliseconds(1500)},
        Case{"2m", minutes(2)}, Case{"1h", hours(1)}, Case{"10us", microseconds(10)},
        Case{"7ns", nanoseconds(7)}, Case{"1h30m", minutes(90)}, Case{"+30s", seconds(30)},
        Case{"-2.25s", milliseconds(-2250)}, Case{"0s", Duration::zero()},
        Case{"0.000000001s", nanoseconds(1)}}) {
    auto d = parse_duration_text(c.text);
    ASSERT_TRUE(d.ok()) << c.text << ": " << d.status();
    EXPECT_EQ(*d, c.d) << c.text;
  }
  for (std::string_view bad : {"", "20", "s", "3 s", "3x", "1.5ns", "1.s", "--1s", "1e3s",
                               "99999999999999999999s", "3000000h"}) {
    EXPECT_FALSE(parse_duration_text(bad).ok()) << bad;
  }
  EXPECT_EQ(format_duration_toml(Duration::zero()), "0s");
  EXPECT_EQ(format_duration_toml(milliseconds(250)), "250ms");
  EXPECT_EQ(format_duration_toml(milliseconds(1500)), "1.5s");
  EXPECT_EQ(format_duration_toml(seconds(90)), "90s");
  EXPECT_EQ(format_duration_toml(minutes(2)), "2m");
  EXPECT_EQ(format_duration_toml(hours(24)), "24h");
  EXPECT_EQ(format_duration_toml(seconds(-30)), "-30s");
  EXPECT_EQ(format_duration_toml(nanoseconds(1000001)), "1.000001ms");
  EXPECT_EQ(format_duration_toml(nanoseconds(999)), "999ns");
}

RC_GTEST_PROP(ScenarioTomlProperty, DurationTextRoundTrips, (int64_t ns)) {
  Duration d{ns};
  auto back = parse_duration_text(format_duration_toml(d));
  RC_ASSERT(back.ok());
  RC_ASSERT(*back == d);
}

TEST(ScenarioToml, DurationExtremesRoundTrip) {
  for (Duration d : {Duration::max(), Duration::min() + nanoseconds(1), nanoseconds(-1)}) {
    auto back = parse_duration_text(format_duration_toml(d));
    ASSERT_TRUE(back.ok()) << format_duration_toml(d);
    EXPECT_EQ(*back, d);
  }
}

TEST(ScenarioToml, FaultKindNamesAndNodeRefText) {
  for (int i = 0; i < kFaultKinds; ++i) {
    auto kind = static_cast<FaultKind>(i);
    EXPECT_EQ(parse_fault_kind(fault_kind_name(kind)), kind);
  }
  EXPECT_EQ(fault_kind_name(FaultKind::power_loss), "power_loss");
  EXPECT_EQ(fault_kind_name(FaultKind::slow_link), "slow_link");
  EXPECT_EQ(fault_kind_name(FaultKind::clock_jump), "clock_jump");
  EXPECT_FALSE(parse_fault_kind("Crash"));
  EXPECT_EQ(node_ref_text(broker(3)), "3");
  EXPECT_EQ(node_ref_text(client("producer-1")), "producer-1");
  EXPECT_EQ(node_ref_text(leader("t-0")), "leader:t-0");
  EXPECT_EQ(node_ref_text(NodeRef{NodeRef::Kind::controller, 2, ""}), "controller-2");
  EXPECT_EQ(node_ref_text(NodeRef{NodeRef::Kind::active_controller, 0, ""}), "controller:active");
}

// A quorum cluster: combined by default, dedicated on request; controller nodes in faults parse
// to their NodeRefs and the whole scenario round-trips.
TEST(ScenarioToml, ControllerQuorumLayouts) {
  Scenario combined = parse_ok("[cluster]\nbrokers = 3\ncontrollers = 3\n");
  EXPECT_EQ(combined.controllers, 3u);
  EXPECT_FALSE(combined.dedicated_controllers);
  Scenario s = parse_ok(R"([cluster]
brokers = 2
controllers = 3
dedicated_controllers = true

[[fault]]
at = "1s"
kind = "partition"
groups = [["controller:active"], [1, "controller-2"]]
for = "2s"

[[fault]]
at = "2s"
kind = "one_way"
from = "controller-1"
to = 2
)");
  EXPECT_TRUE(s.dedicated_controllers);
  ASSERT_EQ(s.timeline.size(), 2u);
  const NodeRef active{NodeRef::Kind::active_controller, 0, ""};
  const NodeRef c1{NodeRef::Kind::controller, 1, ""}, c2{NodeRef::Kind::controller, 2, ""};
  EXPECT_EQ(s.timeline[0].groups, (std::vector<std::vector<NodeRef>>{{active}, {broker(1), c2}}));
  EXPECT_EQ(s.timeline[1].from, c1);
  auto back = parse_scenario(scenario_to_toml(s), "back.toml");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
}

// A partition leader is "leader:TOPIC-PARTITION" or "leader:TOPIC/PARTITION"; both name the same
// NodeRef (so naming it in both spellings is naming it twice, scenario_toml_errors_test), and the
// slash keeps a topic with dashes unambiguous. It is written back dashed.
TEST(ScenarioToml, LeaderRefsInBothSpellings) {
  Scenario s = parse_ok(R"([cluster]
brokers = 3
controllers = 1

[[topic]]
name = "events"
partitions = 2

[[topic]]
name = "my-topic-1"
partitions = 3

[[fault]]
at = "1s"
kind = "crash"
nodes = ["leader:events/1", "leader:my-topic-1/2", "leader:my-topic-1-0"]

[[fault]]
at = "2s"
kind = "partition"
groups = [["leader:events/0"], [1, "controller:active"]]
for = "1s"
)");
  ASSERT_EQ(s.timeline.size(), 2u);
  EXPECT_EQ(s.timeline[0].nodes, (std::vector<NodeRef>{leader("events-1"), leader("my-topic-1-2"),
                                                       leader("my-topic-1-0")}));
  EXPECT_EQ(node_ref_text(s.timeline[0].nodes[1]), "leader:my-topic-1-2");
  const NodeRef active{NodeRef::Kind::active_controller, 0, ""};
  EXPECT_EQ(s.timeline[1].groups,
            (std::vector<std::vector<NodeRef>>{{leader("events-0")}, {broker(1), active}}));
  auto back = parse_scenario(scenario_to_toml(s), "back.toml");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
}

// "replica:TOPIC-PARTITION#K" (or with a slash) names the K-th broker of the partition's replica
// list when the fault fires; K is kept in NodeRef::broker, the partition in `name`, and the ref is
// written back dashed. A replica and the leader of the same partition are different refs.
TEST(ScenarioToml, ReplicaRefsInBothSpellings) {
  Scenario s = parse_ok(R"([cluster]
brokers = 3
controllers = 1

[[topic]]
name = "my-topic-1"
partitions = 2
replication_factor = 3

[[fault]]
at = "1s"
kind = "crash"
nodes = ["replica:my-topic-1/1#3", "replica:my-topic-1-0#1", "leader:my-topic-1-0"]

[[fault]]
at = "2s"
kind = "one_way"
from = "replica:my-topic-1/0#2"
to = "replica:my-topic-1-0#1"
)");
  ASSERT_EQ(s.timeline.size(), 2u);
  const NodeRef r13{NodeRef::Kind::replica, 3, "my-topic-1-1"};
  const NodeRef r01{NodeRef::Kind::replica, 1, "my-topic-1-0"};
  const NodeRef r02{NodeRef::Kind::replica, 2, "my-topic-1-0"};
  EXPECT_EQ(s.timeline[0].nodes, (std::vector<NodeRef>{r13, r01, leader("my-topic-1-0")}));
  EXPECT_EQ(node_ref_text(r13), "replica:my-topic-1-1#3");
  EXPECT_EQ(s.timeline[1].from, r02);
  EXPECT_EQ(s.timeline[1].to, r01);
  auto back = parse_scenario(scenario_to_toml(s), "back.toml");
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(*back, s);
}

TEST(ScenarioToml, TomlQuoteEscapes) {
  EXPECT_EQ(toml_quote("a\"b\\c\n\t\x01\x7f"), "\"a\\\"b\\\\c\\n\\t\\u0001\\u007F\"");
}

void expect_round_trip(const Scenario& s) {
  std::string text = scenario_to_toml(s);
  auto back = parse_scenario(text, "written.toml");
  ASSERT_TRUE(back.ok()) << back.status() << "\n" << text;
  EXPECT_EQ(*back, s) << text;
}

TEST(ScenarioToml, HandBuiltScenariosRoundTrip) {
  Scenario minimal;
  minimal.name = "minimal";
  expect_round_trip(minimal);

  Scenario s = parse_ok(kFull);
  expect_round_trip(s);

  s.name = "odd \"name\"\n";
  s.description = "tab\there, unicode \xc3\xa9, backslash \\";
  s.seed = uint64_t{1} << 63;
  s.duration = nanoseconds(123456789012);
  s.timeline.push_back(FaultSpec{FaultKind::slow_link,
                                 milliseconds(1),
                                 microseconds(3),
                                 "",
                                 {},
                                 {},
                                 client("reader-1"),
                                 leader("audit-0")});
  s.timeline.push_back(
      FaultSpec{FaultKind::fsync_eio, seconds(1), std::nullopt, "", {leader("events-0")}});
  s.nemesis = NemesisSpec{};
  s.nemesis.swarm = false;  // a table with `enabled = false` and one change
  expect_round_trip(s);
}

// ---- Generated valid scenarios ----------------------------------------------------------------

// What each kind takes, as scenarios/README.md states it (the test's own copy of the rule).
enum class Shape : uint8_t { nodes, groups, link, any_link };
enum class Ends : uint8_t { never, maybe, for_only };
struct KindShape {
  Shape shape;
  Ends ends;
  bool brokers_only;
};

KindShape shape_of(FaultKind k) {
  switch (k) {
    case FaultKind::partition:
      return {Shape::groups, Ends::maybe, false};
    case FaultKind::one_way:
    case FaultKind::hold:
    case FaultKind::slow_link:
      return {Shape::link, Ends::maybe, false};
    case FaultKind::reset:
      return {Shape::any_link, Ends::never, false};
    case FaultKind::clog:
      return {Shape::nodes, Ends::for_only, false};
    case FaultKind::disk_stall:
      return {Shape::nodes, Ends::for_only, true};
    case FaultKind::disk_full:
    case FaultKind::misdirect:
    case FaultKind::wipe:
      return {Shape::nodes, Ends::maybe, true};
    case FaultKind::fsync_eio:
    case FaultKind::bit_flip:
    case FaultKind::latent_read:
      return {Shape::nodes, Ends::never, true};
    case FaultKind::clock_jump:
      return {Shape::nodes, Ends::never, false};
    default:
      return {Shape::nodes, Ends::maybe, false};
  }
}

std::string gen_text() {
  // Printable ASCII with the characters TOML must escape mixed in.
  return *rc::gen::container<std::string>(rc::gen::oneOf(
      rc::gen::inRange<char>(32, 127), rc::gen::element('\n', '\t', '"', '\\', '\x01', '\x7f')));
}

Duration gen_duration(Duration min, Duration max) {
  int64_t ns = *rc::gen::oneOf(rc::gen::inRange<int64_t>(min.count(), max.count() + 1),
                               rc::gen::map(rc::gen::inRange<int64_t>(to_ms(min), to_ms(max) + 1),
                                            [](int64_t ms) { return ms * 1000000; }));
  return std::clamp(Duration(ns), min, max);
}

template <typename T>
std::vector<T> gen_subset(const std::vector<T>& all) {
  std::vector<T> out;
  for (const T& item : all) {
    if (*rc::gen::arbitrary<bool>()) out.push_back(item);
  }
  return out;
}

// Distinct nodes from the pool, at least one (the pool is never empty: broker 1 is in it).
std::vector<NodeRef> gen_nodes(const std::vector<NodeRef>& pool) {
  std::vector<NodeRef> out = gen_subset(pool);
  if (out.empty()) out.push_back(*rc::gen::elementOf(pool));
  return out;
}

FaultSpec gen_fault(const Scenario& s, const std::vector<NodeRef>& brokers,
                    const std::vector<NodeRef>& all) {
  FaultSpec f;
  f.kind = static_cast<FaultKind>(*rc::gen::inRange(0, kFaultKinds));
  KindShape shape = shape_of(f.kind);
  f.at = gen_duration(Duration::zero(), s.duration - nanoseconds(1));
  switch (shape.shape) {
    case Shape::nodes:
      f.nodes = gen_nodes(shape.brokers_only ? brokers : all);
      break;
    case Shape::groups: {
      std::vector<NodeRef> pool = gen_subset(all);
      if (pool.size() < 2) pool = {all[0], all[1]};
      size_t split = *rc::gen::inRange<size_t>(1, pool.size());
      f.groups = {{pool.begin(), pool.begin() + split}, {pool.begin() + split, pool.end()}};
      break;
    }
    case Shape::any_link:
      if (*rc::gen::arbitrary<bool>()) break;
      [[fallthrough]];
    case Shape::link: {
      size_t a = *rc::gen::inRange<size_t>(0, all.size());
      size_t b = (a + *rc::gen::inRange<size_t>(1, all.size())) % all.size();
      f.from = all[a];
      f.to = all[b];
      break;
    }
  }
  int end = shape.ends == Ends::never      ? 0
            : shape.ends == Ends::for_only ? 1
                                           : *rc::gen::inRange(0, 4);
  if (end == 1) f.duration = gen_duration(nanoseconds(1), kRunLengthMax);
  if (end == 2) f.until = "heal";
  if (end == 3) f.until = "restart 1";
  if (f.kind == FaultKind::crash) f.lose_unsynced = *rc::gen::arbitrary<bool>();
  if (f.kind == FaultKind::clock_jump) {
    f.by = gen_duration(nanoseconds(1), kClockJumpMax) * (*rc::gen::arbitrary<bool>() ? 1 : -1);
  }
  if (f.kind == FaultKind::clock_drift) {
    f.ppm = *rc::gen::inRange<int64_t>(1, kClockDriftPpmMax + 1) *
            (*rc::gen::arbitrary<bool>() ? 1 : -1);
  }
  return f;
}

ProducerSpec gen_producer(const Scenario& s, int i) {
  ProducerSpec p;
  p.name = "p" + std::to_string(i);
  p.count = *rc::gen::inRange<uint32_t>(1, kClientsPerWorkloadMax + 1);
  p.topic = (*rc::gen::elementOf(s.topics)).name;
  p.rate = *rc::gen::oneOf(rc::gen::map(rc::gen::inRange(1, 100000), [](int r) { return 1.0 * r; }),
                           rc::gen::map(rc::gen::inRange(1, 1 << 30), [](int r) {
                             return kRecordsPerSecondMax * r / (1 << 30);
                           }));
  p.records = *rc::gen::inRange<uint64_t>(0, uint64_t{1} << 62);
  p.keys = *rc::gen::inRange<uint32_t>(0, kKeysMax + 1);
  p.acks = *rc::gen::element(Acks::none, Acks::leader, Acks::all);
  p.max_in_flight = *rc::gen::inRange<uint32_t>(1, kMaxInFlightMax + 1);
  bool may = p.acks == Acks::all && p.max_in_flight <= kIdempotentInFlightMax;
  p.idempotence = may && *rc::gen::arbitrary<bool>();
  p.value_bytes = *rc::gen::inRange<uint32_t>(0, kValueBytesMax + 1);
  p.linger = gen_duration(Duration::zero(), seconds(10));
  p.start = gen_duration(Duration::zero(), s.duration - nanoseconds(1));
  return p;
}

ConsumerSpec gen_consumer(const Scenario& s, int i) {
  ConsumerSpec c;
  c.name = "c" + std::to_string(i);
  c.count = *rc::gen::inRange<uint32_t>(1, kClientsPerWorkloadMax + 1);
  for (const TopicSpec& t : s.topics) c.topics.push_back(t.name);
  c.topics = gen_subset(c.topics);
  if (c.topics.empty()) c.topics.push_back(s.topics[0].name);
  c.mode = *rc::gen::element(ConsumerMode::assign, ConsumerMode::group);
  bool grouped = c.mode == ConsumerMode::group;
  if (grouped) c.group = "g" + gen_text().substr(0, 5);
  c.isolation = *rc::gen::element(Isolation::read_uncommitted, Isolation::read_committed);
  if (grouped) {
    c.commit =
        *rc::gen::element(CommitPolicy::none, CommitPolicy::after_poll, CommitPolicy::automatic);
  }
  if (c.commit == CommitPolicy::automatic) {
    c.auto_commit_interval = gen_duration(nanoseconds(1), minutes(5));
  }
  c.from_beginning = *rc::gen::arbitrary<bool>();
  c.poll_timeout = gen_duration(nanoseconds(1), seconds(5));
  c.start = gen_duration(Duration::zero(), s.duration - nanoseconds(1));
  return c;
}

Scenario gen_scenario() {
  Scenario s;
  s.name = gen_text();
  s.description = gen_text();
  s.seed = *rc::gen::arbitrary<uint64_t>();
  s.duration = gen_duration(nanoseconds(1), kRunLengthMax);
  s.mode = *rc::gen::element(Mode::safety, Mode::liveness);
  s.recovery = gen_duration(Duration::zero(), kRunLengthMax);
  s.expect = *rc::gen::elementOf(
      std::vector<std::string>{"pass", "lost-write", "hw-regress", "poll-skip"});
  s.bugs.ack_before_append = *rc::gen::arbitrary<bool>();
  using KV = std::pair<std::string, std::string>;
  s.broker_config = gen_subset<KV>({{"log.flush.interval.messages", "1"},
                                    {"num.partitions", "7"},
                                    {"auto.create.topics.enable", "false"},
                                    {"log.cleanup.policy", "\"compact,delete\""},
                                    {"log.retention.ms", "-1"}});
  int topics = *rc::gen::inRange(1, 4);
  for (int i = 0; i < topics; ++i) {
    TopicSpec t{"t" + std::to_string(i), *rc::gen::inRange<int32_t>(1, kPartitionsPerTopicMax + 1)};
    if (*rc::gen::arbitrary<bool>())
      t.config["cleanup.policy"] =
          *rc::gen::elementOf(std::vector<std::string>{"compact", "delete"});
    if (*rc::gen::arbitrary<bool>()) t.config["retention.ms"] = "1000";
    if (*rc::gen::arbitrary<bool>()) t.config["message.timestamp.type"] = "LogAppendTime";
    s.topics.push_back(std::move(t));
  }
  std::vector<NodeRef> brokers = {broker(1), leader("t0-0")};
  std::vector<NodeRef> all = brokers;
  int producers = *rc::gen::inRange(0, 3), consumers = *rc::gen::inRange(0, 3);
  for (int i = 0; i < producers; ++i) s.producers.push_back(gen_producer(s, i));
  for (int i = 0; i < consumers; ++i) s.consumers.push_back(gen_consumer(s, i));
  for (const auto& p : s.producers) all.push_back(client(p.name + "-" + std::to_string(p.count)));
  for (const auto& c : s.consumers) all.push_back(client(c.name + "-1"));
  int faults = *rc::gen::inRange(0, 8);
  for (int i = 0; i < faults; ++i) s.timeline.push_back(gen_fault(s, brokers, all));
  if (*rc::gen::arbitrary<bool>()) {
    s.nemesis.enabled = *rc::gen::arbitrary<bool>();
    std::vector<FaultKind> kinds;
    for (int i = 0; i < kFaultKinds; ++i) kinds.push_back(static_cast<FaultKind>(i));
    s.nemesis.families = gen_subset(kinds);
    s.nemesis.swarm = *rc::gen::arbitrary<bool>();
    s.nemesis.interval_min = gen_duration(nanoseconds(1), seconds(10));
    s.nemesis.interval_max = gen_duration(s.nemesis.interval_min, minutes(1));
    s.nemesis.fault_duration_min = gen_duration(nanoseconds(1), seconds(10));
    s.nemesis.fault_duration_max = gen_duration(s.nemesis.fault_duration_min, minutes(1));
  }
  return s;
}

RC_GTEST_PROP(ScenarioTomlProperty, GeneratedScenariosRoundTrip, ()) {
  Scenario s = gen_scenario();
  std::string text = scenario_to_toml(s);
  auto back = parse_scenario(text, "generated.toml");
  if (!back.ok()) RC_FAIL(back.status().message() + "\n" + text);
  if (!(*back == s)) RC_FAIL("parsed back to a different scenario:\n" + text);
  // Writing is a function of the scenario: the second trip writes the same text.
  RC_ASSERT(scenario_to_toml(*back) == text);
}

// ---- The scenario files of the source tree ---------------------------------------------------

TEST(ScenarioFiles, EveryFileParsesAndRoundTrips) {
  namespace fs = std::filesystem;
  fs::path dir = GREGOR_SCENARIOS_DIR;
  ASSERT_TRUE(fs::is_directory(dir)) << dir;
  int files = 0;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file() || entry.path().extension() != ".toml") continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    std::string name = fs::relative(entry.path(), dir).string();
    auto s = parse_scenario(text.str(), name);
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_FALSE(s->description.empty()) << name;
    expect_round_trip(*s);
    ++files;
  }
  EXPECT_GE(files, 3);
}

Scenario parse_file(const std::string& relative) {
  std::ifstream in(std::string(GREGOR_SCENARIOS_DIR) + "/" + relative);
  std::stringstream text;
  text << in.rdbuf();
  return parse_ok(text.str(), relative);
}

// A bug reproduction (scenarios/bugs/X.toml, the legacy switches on) and its fixed twin
// (X_fixed.toml, the switches off) differ only in the switches (and their name, description and
// expected outcome): the bug is the switches.
void expect_twins_differ_only_in(const std::string& stem, const std::string& violation,
                                 const std::set<std::string>& switches) {
  SCOPED_TRACE(stem);
  Scenario bug = parse_file("bugs/" + stem + ".toml");
  Scenario fixed = parse_file("bugs/" + stem + "_fixed.toml");
  EXPECT_EQ(bug.expect, violation);
  EXPECT_EQ(fixed.expect, "pass");
  auto value_of = [&](const Scenario& s, const std::string& key) {
    for (auto& [k, v] : s.broker_config)
      if (k == key) return v;
    return std::string("(absent)");
  };
  for (const std::string& key : switches) {
    EXPECT_EQ(value_of(bug, key), "true") << key;
    EXPECT_EQ(value_of(fixed, key), "false") << key;
  }
  for (Scenario* s : {&bug, &fixed}) {
    s->name.clear();
    s->description.clear();
    s->expect.clear();
    std::erase_if(s->broker_config, [&](auto& kv) { return switches.count(kv.first) > 0; });
  }
  EXPECT_EQ(bug, fixed);
}

TEST(ScenarioFiles, Kafka15489TwinsDifferOnlyInTheSwitches) {
  expect_twins_differ_only_in(
      "kafka_15489", "controller-split-brain",
      {"legacy.quorum.pre.vote.disable", "legacy.quorum.check.quorum.disable"});
}

TEST(ScenarioFiles, Kafka7128TwinsDifferOnlyInTheSwitch) {
  expect_twins_differ_only_in("kafka_7128", "lost-write",
                              {"legacy.replication.isr.expand.without.epoch.start"});
}

TEST(ScenarioFiles, Kafka14704TwinsDifferOnlyInTheSwitch) {
  expect_twins_differ_only_in("kafka_14704", "hw-regress",
                              {"legacy.replication.high.watermark.before.truncation"});
}

TEST(ScenarioFiles, Kip101TwinsDifferOnlyInTheSwitch) {
  expect_twins_differ_only_in("kip_101", "lost-write",
                              {"legacy.replication.truncate.to.high.watermark"});
}

TEST(ScenarioFiles, Kip279TwinsDifferOnlyInTheSwitch) {
  expect_twins_differ_only_in("kip_279", "replica-divergence",
                              {"legacy.replication.epoch.answer.pre.kip.279"});
}

TEST(ScenarioFiles, Kip903TwinsDifferOnlyInTheSwitch) {
  expect_twins_differ_only_in("kip_903", "lost-write", {"legacy.broker.epoch.fencing.disable"});
}

TEST(ScenarioFiles, Kip966TwinsDifferOnlyInTheSwitch) {
  expect_twins_differ_only_in("kip_966", "lost-write", {"legacy.eligible.leader.replicas.disable"});
}

// unclean.leader.election.enable is a real Kafka config, not a legacy switch, but the twins are
// built the same way: true in the bug, false (Kafka's default) in the fixed twin.
TEST(ScenarioFiles, UncleanElectionTwinsDifferOnlyInTheConfig) {
  expect_twins_differ_only_in("unclean_election", "lost-write", {"unclean.leader.election.enable"});
}

// min.insync.replicas is a number: 1 (Kafka's default) in the bug, 2 in the fixed twin. Dropping
// the key from both and comparing what is left is the same check as for the switches.
TEST(ScenarioFiles, MinInsync1TwinsDifferOnlyInTheConfig) {
  Scenario bug = parse_file("bugs/min_insync_1.toml");
  Scenario fixed = parse_file("bugs/min_insync_1_fixed.toml");
  EXPECT_EQ(bug.expect, "lost-write");
  EXPECT_EQ(fixed.expect, "pass");
  const std::string key = "min.insync.replicas";
  auto value_of = [&](const Scenario& s) {
    for (auto& [k, v] : s.broker_config)
      if (k == key) return v;
    return std::string("(absent)");
  };
  EXPECT_EQ(value_of(bug), "1");
  EXPECT_EQ(value_of(fixed), "2");
  for (Scenario* s : {&bug, &fixed}) {
    s->name.clear();
    s->description.clear();
    s->expect.clear();
    std::erase_if(s->broker_config, [&](auto& kv) { return kv.first == key; });
  }
  EXPECT_EQ(bug, fixed);
}

TEST(ScenarioFiles, SmokeIsWhatCiExpects) {
  std::ifstream in(std::string(GREGOR_SCENARIOS_DIR) + "/smoke.toml");
  std::stringstream text;
  text << in.rdbuf();
  Scenario s = parse_ok(text.str(), "smoke.toml");
  EXPECT_EQ(s.name, "smoke");
  EXPECT_EQ(s.brokers, 1u);
  EXPECT_EQ(s.mode, Mode::liveness);
  ASSERT_EQ(s.producers.size(), 1u);
  EXPECT_TRUE(s.producers[0].idempotence);
  EXPECT_EQ(s.producers[0].acks, Acks::all);
  ASSERT_EQ(s.topics.size(), 1u);
  EXPECT_EQ(s.topics[0].partitions, 3);
  std::set<FaultKind> kinds;
  for (const FaultSpec& f : s.timeline) kinds.insert(f.kind);
  EXPECT_EQ(kinds,
            (std::set<FaultKind>{FaultKind::crash, FaultKind::partition, FaultKind::clock_jump}));
}

}  // namespace
}  // namespace gregor::scenario
