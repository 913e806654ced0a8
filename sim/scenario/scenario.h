// A scenario: the cluster, the client workloads, the faults, the run length and the expected
// outcome of one simulated run. Scenario files (scenarios/*.toml) parse into this struct
// (scenario_toml.h); the shrinker edits it and writes it back as TOML. The runner (runner.h)
// turns (Scenario, seed) into a run; the same pair always gives the same trace.
//
// Nodes are named by a NodeRef: a broker by its 1-based index ("1" in TOML, an integer), a client
// process by its name ("producer-1"), the leader of a partition at the moment the fault fires
// ("leader:events-0"), the K-th replica of a partition's replica list at the moment the fault
// fires ("replica:events-0#2"), a dedicated controller ("controller-2"), or the active controller
// at the moment the fault fires ("controller:active").
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/time.h"

namespace gregor::scenario {

// Named limits on what a scenario may ask for.
inline constexpr uint32_t kBrokersMax = 9;
inline constexpr uint32_t kControllersMax = 5;  // a quorum of 1, 3 or 5 voters
inline constexpr uint32_t kClientsPerWorkloadMax = 64;
inline constexpr int32_t kPartitionsPerTopicMax = 1000;
inline constexpr size_t kTimelineEntriesMax = 10000;
inline constexpr Duration kRunLengthMax = hours(24);
inline constexpr uint32_t kValueBytesMax = 1 << 20;
inline constexpr double kRecordsPerSecondMax = 1e6;

struct NodeRef {
  enum class Kind : uint8_t { broker, client, leader, controller, active_controller, replica };
  Kind kind = Kind::broker;
  // kind == broker: 1-based index; kind == controller: K of controller-K; kind == replica: K,
  // the 1-based position in the partition's replica list
  uint32_t broker = 0;
  std::string name;  // kind == client: process name; kind == leader/replica: "topic-partition"
  bool operator==(const NodeRef&) const = default;
};

struct TopicSpec {
  std::string name;
  int32_t partitions = 1;
  int16_t replication_factor = 1;
  std::map<std::string, std::string> config;  // topic configs, Kafka names, values as text
  bool operator==(const TopicSpec&) const = default;
};

enum class Acks : int8_t { none = 0, leader = 1, all = -1 };

// `count` producers named "NAME-1".."NAME-count" (NAME defaults to "producer"), each sending
// `rate` records per simulated second from `start` until the run's load ends or `records` were
// sent. Values are unique ("NAME-i:SEQ" plus padding to value_bytes) so the checker can follow
// every record.
struct ProducerSpec {
  std::string name = "producer";
  uint32_t count = 1;
  std::string topic;
  double rate = 100;     // records per simulated second, per producer
  uint64_t records = 0;  // per producer; 0: no limit
  uint32_t keys = 0;     // distinct keys; 0: null keys (sticky/round-robin partitioning)
  Acks acks = Acks::all;
  bool idempotence = true;
  uint32_t max_in_flight = 5;  // max.in.flight.requests.per.connection
  uint32_t value_bytes = 0;    // pad values to at least this size
  Duration linger = milliseconds(5);
  Duration start = Duration::zero();
  bool operator==(const ProducerSpec&) const = default;
};

enum class ConsumerMode : uint8_t { assign, group };
enum class Isolation : uint8_t { read_uncommitted, read_committed };
// none: never commit; after_poll: commit the positions after every poll (synchronously, the
// next poll waits); auto: enable.auto.commit with auto.commit.interval.ms.
enum class CommitPolicy : uint8_t { none, after_poll, automatic };

struct ConsumerSpec {
  std::string name = "consumer";
  uint32_t count = 1;
  std::vector<std::string> topics;
  ConsumerMode mode = ConsumerMode::assign;
  std::string group;  // mode == group
  Isolation isolation = Isolation::read_uncommitted;
  CommitPolicy commit = CommitPolicy::none;
  Duration auto_commit_interval = seconds(5);
  bool from_beginning = true;  // auto.offset.reset earliest (else latest)
  Duration poll_timeout = milliseconds(200);
  Duration start = Duration::zero();
  bool operator==(const ConsumerSpec&) const = default;
};

// One scripted fault. It fires at `at`; a fault with an end is undone after `duration`, or when
// `until` happens ("restart N": broker N's next start; "heal": the end of the fault phase),
// whichever the entry gives (at most one). Faults without an end (reset, fsync_eio, clock_jump,
// bit_flip) ignore both.
enum class FaultKind : uint8_t {
  crash,        // nodes; lose_unsynced; ends with a restart
  power_loss,   // nodes at once, unsynced data lost, no RSTs; ends with restarts
  pause,        // nodes; ends with resume
  partition,    // groups (two or more sides); ends with heal
  one_way,      // from -> to blocked; ends with heal
  clog,         // nodes: every link of each; needs duration
  reset,        // a connection reset between from and to (or any, when both empty)
  refuse,       // nodes refuse new connections; ends with accept again
  hold,         // messages from -> to held; ends with release (held messages then deliver)
  slow_link,    // from -> to latency and bandwidth degraded; ends with normal
  fsync_eio,    // nodes: their next fsync fails and drops dirty pages
  disk_full,    // nodes: quota = current usage; ends with no quota
  disk_stall,   // nodes: the disk answers nothing; needs duration
  bit_flip,     // nodes: one bit of a file at rest
  latent_read,  // nodes: a bad sector
  misdirect,    // nodes: writes land at wrong offsets (probability 0.2); ends with off
  wipe,         // nodes: disk wiped and process crashed; ends with a restart
  clock_drift,  // nodes: wall and monotonic rate off by `ppm`; ends with 0
  clock_jump,   // nodes: wall clock steps by `by`
};
inline constexpr int kFaultKinds = 19;

struct FaultSpec {
  FaultKind kind = FaultKind::crash;
  Duration at = Duration::zero();
  std::optional<Duration> duration;  // "for" in TOML
  std::string until;                 // "", "restart N" or "heal"
  std::vector<NodeRef> nodes;
  std::vector<std::vector<NodeRef>> groups;  // partition
  std::optional<NodeRef> from, to;           // one_way, reset, hold, slow_link
  bool lose_unsynced = true;                 // crash
  Duration by = Duration::zero();            // clock_jump (signed)
  int64_t ppm = 0;                           // clock_drift
  bool operator==(const FaultSpec&) const = default;
};

// The random nemesis, swarm style: with `swarm`, each seed draws which of `families` are on
// (each with probability 1/2, at least one) and scales their rate; without it every family in
// `families` is on at the given rate. It generates a concrete fault timeline from the seed before
// the run starts (the shrinker then edits that timeline like a scripted one).
struct NemesisSpec {
  bool enabled = false;
  std::vector<FaultKind> families;  // empty: every family
  bool swarm = true;
  Duration interval_min = milliseconds(500), interval_max = seconds(3);
  Duration fault_duration_min = milliseconds(200), fault_duration_max = seconds(4);
  bool operator==(const NemesisSpec&) const = default;
};

enum class Mode : uint8_t { safety, liveness };

// Legacy and planted bug switches the broker honours (node/broker/bug_switches.h).
struct BugSwitches {
  bool ack_before_append = false;  // planted: Produce is acknowledged before the append
  bool operator==(const BugSwitches&) const = default;
};

struct Scenario {
  std::string name;  // default: the file's stem
  std::string description;
  uint64_t seed = 1;  // used when the command line gives none

  uint32_t brokers = 1;
  // 0: one broker with its local controller. 1, 3 or 5: a Raft controller quorum of that many
  // voters, the first `controllers` brokers (combined broker+controller processes) or, with
  // `dedicated_controllers`, extra processes controller-1..N that only run the controller.
  uint32_t controllers = 0;
  bool dedicated_controllers = false;
  // Broker config keys (Kafka names) with their TOML value text, e.g. {"num.partitions", "3"}.
  std::vector<std::pair<std::string, std::string>> broker_config;
  BugSwitches bugs;
  std::vector<TopicSpec> topics;

  std::vector<ProducerSpec> producers;
  std::vector<ConsumerSpec> consumers;

  std::vector<FaultSpec> timeline;
  NemesisSpec nemesis;

  Duration duration = seconds(30);  // load and faults; faults end (healed) at `duration`
  Mode mode = Mode::safety;
  Duration recovery = seconds(30);  // after `duration`: time allowed to recover and drain
  std::string expect = "pass";      // "pass" or a violation kind, e.g. "lost-write"
  // BUGGIFY fault points (base/fault_points.h) fire in this run: rare-but-legal paths of the
  // broker and client, drawn from the seed. Off only to rule them out while debugging.
  bool buggify = true;

  bool operator==(const Scenario&) const = default;
};

// The runner's own violation kind (liveness mode: the final read did not finish within
// `recovery`), beside the checker's kinds of docs/history-format.md.
inline constexpr std::string_view kRunnerUnavailable = "unavailable";
// The runner's liveness kind for the controller quorum: after healing, no active controller
// within `recovery`, or a probe topic could not be created.
inline constexpr std::string_view kRunnerControllerUnavailable = "controller-unavailable";

std::string_view fault_kind_name(FaultKind k);  // "crash", "power_loss", ...
std::optional<FaultKind> parse_fault_kind(std::string_view name);
// "1", "producer-1", "leader:t-0", "replica:t-0#2", "controller-2", "controller:active"
std::string node_ref_text(const NodeRef& r);

}  // namespace gregor::scenario
