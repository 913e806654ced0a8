// Proves that every bad scenario file is refused with a message that names the file and the line
// of the fault (and the key, with the nearest known key for a typo): TOML syntax, unknown keys
// in every table, wrong TOML types, bad duration text, values out of range or not positive,
// nodes that do not exist, undeclared topics, fault keys another kind uses, `for` with `until`,
// bad `until`, partitions with fewer than two sides, clog and disk_stall without `for`, faults
// after the load ends, unknown expectations, consumers committing without a group, duplicate
// names, the staged one-broker limit, bad broker and topic config keys (at the scenario line of
// the key); and that no input, however mangled, throws or crashes (a property).
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include <string>

#include "sim/scenario/scenario_toml.h"

namespace gregor::scenario {
namespace {

// The message of a refused file.
std::string error_of(std::string_view text) {
  auto r = parse_scenario(text, "f.toml");
  EXPECT_FALSE(r.ok()) << "accepted:\n" << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  return r.status().message();
}

// A valid start to append to: line 1..6.
constexpr std::string_view kBase = R"(duration = "20s"
[[topic]]
name = "events"
partitions = 2
[[producer]]
[[consumer]]
)";

std::string with_base(std::string_view rest) {
  return std::string(kBase) + std::string(rest);
}

TEST(ScenarioTomlErrors, SyntaxErrorHasLineAndColumn) {
  std::string m = error_of("seed = 1\nduration = \"3s\nmode = \"safety\"\n");
  // "f.toml:2:COLUMN: what toml++ says"
  ASSERT_EQ(m.rfind("f.toml:2:", 0), 0u) << m;
  size_t column_end = m.find(": ", 9);
  ASSERT_NE(column_end, std::string::npos) << m;
  EXPECT_GT(std::stoi(m.substr(9, column_end - 9)), 0) << m;
}

TEST(ScenarioTomlErrors, UnknownKeysNameTheKeyAndTheNearestOne) {
  EXPECT_EQ(error_of("seed = 1\ndurations = \"1s\"\n"),
            "f.toml:2: key 'durations': unknown key (did you mean 'duration'?)");
  EXPECT_EQ(error_of(with_base("rat = 5\n")), "f.toml:7: key 'consumer[1].rat': unknown key");
  EXPECT_EQ(error_of(std::string(kBase.substr(0, kBase.find("[[consumer]]"))) + "rat = 5\n"),
            "f.toml:6: key 'producer[1].rat': unknown key (did you mean 'rate'?)");
  EXPECT_EQ(error_of("[cluster]\nbrokers = 1\nbroker = 2\n"),
            "f.toml:3: key 'cluster.broker': unknown key (did you mean 'brokers'?)");
  EXPECT_EQ(error_of("[cluster]\nbugs = { ack_before_apend = true }\n"),
            "f.toml:2: key 'cluster.bugs.ack_before_apend': unknown key (did you mean "
            "'ack_before_append'?)");
  EXPECT_EQ(error_of("[[topics]]\nname = \"x\"\n"),
            "f.toml:1: key 'topics': unknown key (did you mean 'topic'?)");
  EXPECT_EQ(error_of("[nemesis]\nfamily = \"all\"\n"),
            "f.toml:2: key 'nemesis.family': unknown key (did you mean 'families'?)");
  EXPECT_EQ(error_of(with_base("[[fault]]\nat = \"1s\"\nkind = \"crash\"\nnode = [1]\n")),
            "f.toml:10: key 'fault[1].node': unknown key (did you mean 'nodes'?)");
  EXPECT_EQ(error_of("[[topic]]\nname = \"t\"\nconfig = { \"retention.mss\" = 1 }\n"),
            "f.toml:3: key 'topic[1].config.\"retention.mss\"': unknown topic config (did you "
            "mean 'retention.ms'?)");
}

TEST(ScenarioTomlErrors, WrongTomlTypes) {
  EXPECT_EQ(error_of("[cluster]\nbrokers = \"1\"\n"),
            "f.toml:2: key 'cluster.brokers': expected an integer, got a string");
  EXPECT_EQ(error_of("description = 3\n"),
            "f.toml:1: key 'description': expected a string, got an integer");
  EXPECT_EQ(error_of("duration = 20\n"),
            "f.toml:1: key 'duration': expected a duration string such as \"3s\", got an integer");
  EXPECT_EQ(error_of("cluster = 1\n"), "f.toml:1: key 'cluster': expected a table, got an integer");
  EXPECT_EQ(error_of("[producer]\nrate = 1\n"),
            "f.toml:1: key 'producer': expected an array of tables ([[producer]]), got a table");
  EXPECT_EQ(error_of(with_base("idempotence = \"yes\"\n")),
            "f.toml:7: key 'consumer[1].idempotence': unknown key");
  EXPECT_EQ(error_of("[[topic]]\nname = \"t\"\n[[producer]]\nidempotence = \"yes\"\n"),
            "f.toml:4: key 'producer[1].idempotence': expected a boolean (true or false), got a "
            "string");
  EXPECT_EQ(error_of(with_base("topics = \"events\"\n")),
            "f.toml:7: key 'consumer[1].topics': expected an array, got a string");
  EXPECT_EQ(error_of("seed = -1\n"), "f.toml:1: key 'seed': -1 is negative");
  EXPECT_EQ(error_of("seed = \"12a\"\n"),
            "f.toml:1: key 'seed': \"12a\" is not a seed (0..18446744073709551615)");
}

TEST(ScenarioTomlErrors, BadDurations) {
  EXPECT_EQ(error_of("recovery = \"20\"\n"),
            "f.toml:1: key 'recovery': \"20\" is not a duration: missing unit (ns, us, ms, s, m, "
            "h) (write e.g. \"250ms\", \"1.5s\", \"2m\", \"1h\")");
  EXPECT_NE(error_of("recovery = \"3 s\"\n")
                .find("f.toml:1: key 'recovery': \"3 s\" is not a "
                      "duration: unexpected ' '"),
            std::string::npos);
  EXPECT_NE(error_of("recovery = \"1.5ns\"\n").find("finer than a nanosecond"), std::string::npos);
  EXPECT_EQ(error_of("duration = \"0s\"\n"), "f.toml:1: key 'duration': 0s is not positive");
  EXPECT_EQ(error_of("recovery = \"-1s\"\n"), "f.toml:1: key 'recovery': -1s is negative");
  EXPECT_EQ(error_of("duration = \"25h\"\n"),
            "f.toml:1: key 'duration': 25h is over the limit of 24h");
}

TEST(ScenarioTomlErrors, ValuesOutOfRange) {
  EXPECT_EQ(error_of("[cluster]\nbrokers = 10\n"),
            "f.toml:2: key 'cluster.brokers': 10 is outside [1, 9]");
  EXPECT_EQ(error_of("[cluster]\nbrokers = 0\n"),
            "f.toml:2: key 'cluster.brokers': 0 is outside [1, 9]");
  EXPECT_EQ(error_of("[[topic]]\nname = \"t\"\npartitions = 1001\n"),
            "f.toml:3: key 'topic[1].partitions': 1001 is outside [1, 1000]");
  std::string producer = "[[topic]]\nname = \"t\"\n[[producer]]\n";
  EXPECT_EQ(error_of(producer + "count = 65\n"),
            "f.toml:4: key 'producer[1].count': 65 is outside [1, 64]");
  EXPECT_EQ(error_of(producer + "rate = 0\n"),
            "f.toml:4: key 'producer[1].rate': must be more than 0 records per second");
  EXPECT_EQ(error_of(producer + "rate = 2e6\n"),
            "f.toml:4: key 'producer[1].rate': 2000000 is outside [0, 1000000]");
  EXPECT_EQ(error_of(producer + "value_bytes = 2000000\n"),
            "f.toml:4: key 'producer[1].value_bytes': 2000000 is outside [0, 1048576]");
  EXPECT_EQ(error_of(producer + "acks = \"2\"\n"),
            "f.toml:4: key 'producer[1].acks': \"2\" is not one of \"all\", \"1\", \"0\", \"-1\"");
  EXPECT_EQ(error_of(producer + "acks = 2\n"),
            "f.toml:4: key 'producer[1].acks': 2 is outside [-1, 1]");
  EXPECT_EQ(error_of(producer + "linger = \"-5ms\"\n"),
            "f.toml:4: key 'producer[1].linger': -5ms is negative");
  EXPECT_EQ(error_of(producer + "start = \"30s\"\n"),
            "f.toml:4: key 'producer[1].start': start = 30s is not before duration = 30s");
  EXPECT_EQ(error_of(producer + "acks = \"1\"\nidempotence = true\n"),
            "f.toml:5: key 'producer[1].idempotence': an idempotent producer needs acks = \"all\"");
  EXPECT_EQ(error_of(producer + "max_in_flight = 6\nidempotence = true\n"),
            "f.toml:5: key 'producer[1].idempotence': an idempotent producer needs max_in_flight "
            "<= 5");
  EXPECT_EQ(error_of("mode = \"fast\"\n"),
            "f.toml:1: key 'mode': \"fast\" is not one of \"safety\", \"liveness\"");
}

TEST(ScenarioTomlErrors, ExpectMustBePassOrAViolationKind) {
  EXPECT_EQ(error_of("expect = \"lost-writes\"\n"),
            "f.toml:1: key 'expect': \"lost-writes\" is not \"pass\" nor a violation kind of "
            "docs/history-format.md (did you mean \"lost-write\"?)");
  EXPECT_TRUE(parse_scenario("expect = \"replicas-differ-after-heal\"\n", "f.toml").ok());
}

TEST(ScenarioTomlErrors, StagedLimitsAndReplication) {
  EXPECT_EQ(error_of("seed = 2\n[cluster]\nbrokers = 3\n"),
            "f.toml:3: brokers = 3: several brokers need a controller quorum (controllers = 1, 3 "
            "or 5)");
  EXPECT_EQ(error_of("[cluster]\nbrokers = 3\ncontrollers = 2\n"),
            "f.toml:3: controllers = 2: a quorum has 1, 3 or 5 voters (0: the broker's local "
            "controller)");
  EXPECT_EQ(error_of("[cluster]\ncontrollers = 6\n"),
            "f.toml:2: key 'cluster.controllers': 6 is outside [0, 5]");
  EXPECT_EQ(error_of("[cluster]\nbrokers = 1\ncontrollers = 3\n"),
            "f.toml:3: controllers = 3: combined controllers are the first brokers, and there are "
            "only 1 (or set dedicated_controllers = true)");
  EXPECT_EQ(error_of("[cluster]\nbrokers = 1\ndedicated_controllers = true\n"),
            "f.toml:3: dedicated_controllers = true needs controllers = 1, 3 or 5");
  EXPECT_EQ(error_of("[[topic]]\nname = \"t\"\nreplication_factor = 2\n"),
            "f.toml:3: key 'topic[1].replication_factor': replication_factor = 2 is more than "
            "brokers = 1");
  EXPECT_EQ(error_of("[cluster]\nbrokers = 3\ncontrollers = 3\n[[topic]]\nname = \"t\"\n"
                     "replication_factor = 4\n"),
            "f.toml:6: key 'topic[1].replication_factor': replication_factor = 4 is more than "
            "brokers = 3");
  EXPECT_EQ(error_of("[cluster]\nbrokers = 3\ncontrollers = 3\n[cluster.config]\n"
                     "\"process.roles\" = \"broker\"\n"),
            "f.toml:5: key 'cluster.config.\"process.roles\"': set by the runner for each broker; "
            "a scenario cannot set it");
}

// Controller nodes: "controller-K" only for dedicated controllers, "controller:active" only with
// a quorum.
TEST(ScenarioTomlErrors, ControllerNodes) {
  std::string crash = "[[fault]]\nat = \"1s\"\nkind = \"crash\"\n";
  EXPECT_EQ(error_of(crash + "nodes = [\"controller:active\"]\n"),
            "f.toml:4: key 'fault[1].nodes[1]': \"controller:active\" needs a controller quorum "
            "([cluster] controllers = 1, 3 or 5)");
  std::string combined = "[cluster]\nbrokers = 3\ncontrollers = 3\n";
  EXPECT_EQ(error_of(combined + crash + "nodes = [\"controller-1\"]\n"),
            "f.toml:7: key 'fault[1].nodes[1]': \"controller-1\": the controllers are combined "
            "with brokers 1..3; name them by broker, or set dedicated_controllers = true");
  std::string dedicated = "[cluster]\nbrokers = 2\ncontrollers = 3\ndedicated_controllers = true\n";
  EXPECT_EQ(error_of(dedicated + crash + "nodes = [\"controller-4\"]\n"),
            "f.toml:8: key 'fault[1].nodes[1]': \"controller-4\" does not exist (controllers are "
            "controller-1..controller-3)");
  EXPECT_TRUE(
      parse_scenario(dedicated + crash + "nodes = [\"controller-3\", \"controller:active\", 2]\n",
                     "f.toml")
          .ok());
}

TEST(ScenarioTomlErrors, TopicsOfWorkloads) {
  EXPECT_EQ(error_of("[[producer]]\nrate = 1\n"),
            "f.toml:1: producer[1]: no [[topic]] is declared for it to use");
  EXPECT_EQ(error_of("[[consumer]]\n"),
            "f.toml:1: consumer[1]: no [[topic]] is declared for it to read");
  EXPECT_EQ(error_of("[[topic]]\nname = \"a\"\n[[topic]]\nname = \"b\"\n[[producer]]\n"),
            "f.toml:5: producer[1]: needs a topic (one of a, b)");
  EXPECT_EQ(error_of(with_base("").replace(with_base("").find("[[producer]]"), 12,
                                           "[[producer]]\ntopic = \"event\"")),
            "f.toml:6: key 'producer[1].topic': topic \"event\" is not declared in a [[topic]] "
            "(did you mean \"events\"?)");
  EXPECT_EQ(error_of(with_base("topics = [\"events\", \"other\"]\n")),
            "f.toml:7: key 'consumer[1].topics[2]': topic \"other\" is not declared in a "
            "[[topic]]");
  EXPECT_EQ(error_of(with_base("topics = [\"events\", \"events\"]\n")),
            "f.toml:7: key 'consumer[1].topics[2]': topic \"events\" is listed twice");
  EXPECT_EQ(error_of("[[topic]]\nname = \"bad name\"\n"),
            "f.toml:2: key 'topic[1].name': \"bad name\" is not a topic name (1 to 249 of a-z A-Z "
            "0-9 . _ -)");
  EXPECT_EQ(error_of("[[topic]]\npartitions = 2\n"), "f.toml:1: topic[1]: a topic needs a name");
}

TEST(ScenarioTomlErrors, DuplicateNames) {
  EXPECT_EQ(error_of("[[topic]]\nname = \"t\"\n[[topic]]\nname = \"t\"\n"),
            "f.toml:4: key 'topic[2].name': topic \"t\" is declared twice");
  EXPECT_EQ(error_of(with_base("name = \"producer\"\n")),
            "f.toml:7: key 'consumer[1].name': workload \"producer\" is declared twice (first on "
            "line 5)");
  EXPECT_EQ(error_of(with_base("name = \"broker\"\n")),
            "f.toml:7: key 'consumer[1].name': \"broker\" is reserved (processes broker-N exist "
            "already)");
  EXPECT_EQ(error_of("[nemesis]\nfamilies = [\"crash\", \"crash\"]\n"),
            "f.toml:2: key 'nemesis.families[2]': \"crash\" is listed twice");
}

TEST(ScenarioTomlErrors, Consumers) {
  EXPECT_EQ(error_of(with_base("mode = \"group\"\n")),
            "f.toml:7: key 'consumer[1].mode': mode = \"group\" needs a group");
  EXPECT_EQ(error_of(with_base("commit = \"after_poll\"\n")),
            "f.toml:7: key 'consumer[1].commit': committing needs a group (committed offsets "
            "belong to one)");
  EXPECT_EQ(
      error_of(with_base("mode = \"group\"\ngroup = \"g\"\nauto_commit_interval = \"1s\"\n")),
      "f.toml:9: key 'consumer[1].auto_commit_interval': applies only with commit = \"auto\"");
  EXPECT_EQ(error_of(with_base("group = \"g\"\ncommit = \"auto\"\n")),
            "f.toml:8: key 'consumer[1].commit': committing needs mode = \"group\" (assigned "
            "consumers do not commit)");
  EXPECT_EQ(error_of(with_base("group = \"g\"\n")),
            "f.toml:7: key 'consumer[1].group': applies only with mode = \"group\"");
  EXPECT_EQ(error_of(with_base("commit = \"always\"\n")),
            "f.toml:7: key 'consumer[1].commit': \"always\" is not one of \"none\", "
            "\"after_poll\", \"auto\"");
  EXPECT_EQ(error_of(with_base("poll_timeout = \"0s\"\n")),
            "f.toml:7: key 'consumer[1].poll_timeout': 0s is not positive");
}

// Faults after kBase (lines 1-6): the [[fault]] header is line 7.
std::string fault(std::string_view body) {
  return with_base("[[fault]]\n" + std::string(body));
}

TEST(ScenarioTomlErrors, FaultKindsAndTimes) {
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"crahs\"\nnodes = [1]\n")),
            "f.toml:9: key 'fault[1].kind': \"crahs\" is not a fault kind (did you mean "
            "\"crash\"?)");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nnodes = [1]\n")),
            "f.toml:7: fault[1]: a fault needs a kind");
  EXPECT_EQ(error_of(fault("kind = \"crash\"\nnodes = [1]\n")),
            "f.toml:7: fault[1]: a fault needs `at`, the time it fires");
  EXPECT_EQ(error_of(fault("at = \"20s\"\nkind = \"crash\"\nnodes = [1]\n")),
            "f.toml:8: key 'fault[1].at': at = 20s is not before duration = 20s");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"crash\"\n")),
            "f.toml:7: fault[1]: needs `nodes`, the nodes it hits");
}

TEST(ScenarioTomlErrors, FaultKeysOfOtherKinds) {
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"crash\"\nnodes = [1]\ngroups = [[1], [2]]\n")),
            "f.toml:11: key 'fault[1].groups': does not apply to kind \"crash\" (its keys: at, "
            "kind, nodes, for, until, lose_unsynced)");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"partition\"\nby = \"1s\"\n")),
            "f.toml:10: key 'fault[1].by': does not apply to kind \"partition\" (its keys: at, "
            "kind, groups, for, until)");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"clock_jump\"\nnodes = [1]\nby = \"1s\"\n"
                           "for = \"1s\"\n")),
            "f.toml:12: key 'fault[1].for': does not apply to kind \"clock_jump\" (its keys: at, "
            "kind, nodes, by)");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"pause\"\nnodes = [1]\nlose_unsynced = true\n")),
            "f.toml:11: key 'fault[1].lose_unsynced': does not apply to kind \"pause\" (its keys: "
            "at, kind, nodes, for, until)");
}

TEST(ScenarioTomlErrors, FaultEnds) {
  std::string crash = "at = \"1s\"\nkind = \"crash\"\nnodes = [1]\n";
  EXPECT_EQ(error_of(fault(crash + "for = \"1s\"\nuntil = \"heal\"\n")),
            "f.toml:12: key 'fault[1].until': give `for` or `until`, not both");
  EXPECT_EQ(error_of(fault(crash + "until = \"restart\"\n")),
            "f.toml:11: key 'fault[1].until': \"restart\" is not \"heal\" or \"restart N\"");
  EXPECT_EQ(error_of(fault(crash + "until = \"restart 2\"\n")),
            "f.toml:11: key 'fault[1].until': broker 2 does not exist (brokers are 1..1)");
  EXPECT_EQ(error_of(fault(crash + "for = \"0s\"\n")),
            "f.toml:11: key 'fault[1].for': 0s is not positive");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"clog\"\nnodes = [1]\n")),
            "f.toml:7: fault[1]: a clog fault needs `for`, how long it lasts");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"disk_stall\"\nnodes = [1]\n")),
            "f.toml:7: fault[1]: a disk_stall fault needs `for`, how long it lasts");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"clog\"\nnodes = [1]\nuntil = \"heal\"\n")),
            "f.toml:11: key 'fault[1].until': does not apply to kind \"clog\" (its keys: at, kind, "
            "nodes, for)");
}

TEST(ScenarioTomlErrors, FaultNodes) {
  std::string crash = "at = \"1s\"\nkind = \"crash\"\n";
  EXPECT_EQ(error_of(fault(crash + "nodes = [2]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': broker 2 does not exist (brokers are 1..1)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"producer-2\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': no client \"producer-2\" (did you mean "
            "\"producer-1\"?); a node is a broker (1..1), \"leader:TOPIC-PARTITION\", "
            "\"replica:TOPIC-PARTITION#K\", \"controller-K\", \"controller:active\" or a "
            "client name");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"leader:evnts-0\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': topic \"evnts\" is not declared in a [[topic]] "
            "(did you mean \"events\"?)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"leader:events-2\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': topic \"events\" has no partition 2 (it has 2)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"leader:events\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"leader:events\" is not leader:TOPIC-PARTITION "
            "or leader:TOPIC/PARTITION (e.g. \"leader:events-0\")");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"leader:events/x\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"leader:events/x\" is not "
            "leader:TOPIC-PARTITION or leader:TOPIC/PARTITION (e.g. \"leader:events-0\")");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"leader:/0\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"leader:/0\" is not leader:TOPIC-PARTITION or "
            "leader:TOPIC/PARTITION (e.g. \"leader:events-0\")");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"leader:events/2\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': topic \"events\" has no partition 2 (it has 2)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"leader:events/1\", \"leader:events-1\"]\n")),
            "f.toml:10: key 'fault[1].nodes[2]': node leader:events-1 is listed twice");
  // replica:TOPIC-PARTITION#K: K is 1-based and bounded by the brokers (here 1).
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"replica:events-0\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"replica:events-0\" is not "
            "replica:TOPIC-PARTITION#K or replica:TOPIC/PARTITION#K (e.g. \"replica:events-0#2\", "
            "the second broker of the partition's replica list)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"replica:events-0#x\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"replica:events-0#x\" is not "
            "replica:TOPIC-PARTITION#K or replica:TOPIC/PARTITION#K (e.g. \"replica:events-0#2\", "
            "the second broker of the partition's replica list)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"replica:events-0#0\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"replica:events-0#0\": K must be 1..1 (a "
            "replica list holds at most one entry per broker)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"replica:events-0#2\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"replica:events-0#2\": K must be 1..1 (a "
            "replica list holds at most one entry per broker)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"replica:events#1\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"replica:events\" is not "
            "replica:TOPIC-PARTITION#K or replica:TOPIC/PARTITION#K (e.g. \"replica:events-0#2\")");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"replica:evnts/0#1\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': topic \"evnts\" is not declared in a [[topic]] "
            "(did you mean \"events\"?)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"replica:events/2#1\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': topic \"events\" has no partition 2 (it has 2)");
  EXPECT_EQ(error_of(fault(crash + "nodes = [\"replica:events/1#1\", \"replica:events-1#1\"]\n")),
            "f.toml:10: key 'fault[1].nodes[2]': node replica:events-1#1 is listed twice");
  EXPECT_EQ(error_of(fault(crash + "nodes = [1, \"broker-1\"]\n")),
            "f.toml:10: key 'fault[1].nodes[2]': node 1 is listed twice");
  EXPECT_EQ(error_of(fault(crash + "nodes = []\n")),
            "f.toml:10: key 'fault[1].nodes': no nodes listed");
  EXPECT_EQ(error_of(fault(crash + "nodes = [true]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': expected a node, got a boolean; a node is a "
            "broker (1..1), \"leader:TOPIC-PARTITION\", \"replica:TOPIC-PARTITION#K\", "
            "\"controller-K\", \"controller:active\" or a client name");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"fsync_eio\"\nnodes = [\"consumer-1\"]\n")),
            "f.toml:10: key 'fault[1].nodes[1]': \"consumer-1\" is not a broker, and this kind "
            "hits brokers' disks only");
}

TEST(ScenarioTomlErrors, PartitionsAndLinks) {
  std::string partition = "at = \"1s\"\nkind = \"partition\"\n";
  EXPECT_EQ(error_of(fault(partition + "groups = [[1]]\n")),
            "f.toml:10: key 'fault[1].groups': a partition needs two or more groups");
  EXPECT_EQ(error_of(fault(partition + "groups = [[1], []]\n")),
            "f.toml:10: key 'fault[1].groups[2]': an empty group");
  EXPECT_EQ(error_of(fault(partition + "groups = [[1], [\"producer-1\", 1]]\n")),
            "f.toml:10: key 'fault[1].groups[2][2]': node 1 is listed twice");
  EXPECT_EQ(error_of(fault(partition)),
            "f.toml:7: fault[1]: needs `groups`, the sides of the "
            "partition");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"one_way\"\nfrom = 1\nto = \"broker-1\"\n")),
            "f.toml:11: key 'fault[1].to': is the same node as `from`");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"hold\"\nfrom = 1\n")),
            "f.toml:7: fault[1]: needs `from` and `to`, the two ends of the link");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"reset\"\nto = 1\n")),
            "f.toml:7: fault[1]: needs both `from` and `to`, or neither (any connection)");
}

TEST(ScenarioTomlErrors, ClockFaults) {
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"clock_jump\"\nnodes = [1]\n")),
            "f.toml:7: fault[1]: a clock_jump needs `by`, a signed duration (\"+30s\")");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"clock_jump\"\nnodes = [1]\nby = \"-0s\"\n")),
            "f.toml:11: key 'fault[1].by': a jump of 0s does nothing");
  EXPECT_EQ(error_of(fault("at = \"1s\"\nkind = \"clock_drift\"\nnodes = [1]\nppm = 200000\n")),
            "f.toml:11: key 'fault[1].ppm': 200000 is outside [-100000, 100000]");
}

TEST(ScenarioTomlErrors, Nemesis) {
  EXPECT_EQ(error_of("[nemesis]\ninterval = [\"3s\", \"1s\"]\n"),
            "f.toml:2: key 'nemesis.interval': MIN 3s is above MAX 1s");
  EXPECT_EQ(error_of("[nemesis]\ninterval = [\"3s\"]\n"),
            "f.toml:2: key 'nemesis.interval': expected [MIN, MAX], got 1 values");
  EXPECT_EQ(error_of("[nemesis]\nfault_duration = [\"0s\", \"1s\"]\n"),
            "f.toml:2: key 'nemesis.fault_duration[1]': 0s is outside (0s, 24h]");
  EXPECT_EQ(error_of("[nemesis]\nfamilies = [\"crash\", \"clogg\"]\n"),
            "f.toml:2: key 'nemesis.families[2]': \"clogg\" is not a fault kind (did you mean "
            "\"clog\"?)");
  EXPECT_EQ(
      error_of("[nemesis]\nfamilies = []\n"),
      "f.toml:2: key 'nemesis.families': expected \"all\" or a non-empty list of fault kinds");
}

TEST(ScenarioTomlErrors, BrokerConfigKeysAtTheirScenarioLine) {
  EXPECT_EQ(error_of("seed = 1\n[cluster.config]\n\"num.partitions\" = 3\n"
                     "\"log.flush.interval.mesages\" = 1\n"),
            "f.toml:4: key 'cluster.config.\"log.flush.interval.mesages\"': unknown key (did you "
            "mean 'log.flush.interval.messages'?)");
  EXPECT_EQ(error_of("[cluster.config]\n\"num.partitions\" = 3\nlog.flush.interval.messages = 0\n"),
            "f.toml:3: key 'cluster.config.\"log.flush.interval.messages\"': 0 is outside [1, "
            "9223372036854775807]");
  EXPECT_EQ(error_of("[cluster.config]\n\"num.partitions\" = \"3\"\n"),
            "f.toml:2: key 'cluster.config.\"num.partitions\"': expected an integer, got a string");
  EXPECT_EQ(error_of("[cluster.config]\n\"num.partitions\" = [3]\n"),
            "f.toml:2: key 'cluster.config.\"num.partitions\"': expected a string, an integer or "
            "a boolean, got an array");
  EXPECT_EQ(error_of("[cluster.config]\n\"log.dirs\" = \"/tmp\"\n"),
            "f.toml:2: key 'cluster.config.\"log.dirs\"': set by the runner for each broker; a "
            "scenario cannot set it");
  EXPECT_EQ(error_of("[cluster.config]\n\"num.partitions\" = 3\nnum.partitions = 4\n"),
            "f.toml:3: key 'cluster.config.\"num.partitions\"': given twice (first on line 2)");
  EXPECT_EQ(error_of("[cluster.config]\n\"log.cleanup.policy\" = \"nope\"\n"),
            "f.toml:2: key 'cluster.config.\"log.cleanup.policy\"': 'nope' is not delete, compact "
            "or compact,delete");
  EXPECT_EQ(error_of("[cluster.config]\n\"group.min.session.timeout.ms\" = 10\n"
                     "\"group.max.session.timeout.ms\" = 5\n"),
            "f.toml:3: key 'cluster.config.\"group.max.session.timeout.ms\"': 5 is below "
            "group.min.session.timeout.ms (10)");
}

TEST(ScenarioTomlErrors, TopicConfigKeys) {
  EXPECT_EQ(error_of("[[topic]]\nname = \"t\"\n[topic.config]\n\"cleanup.policy\" = \"nope\"\n"),
            "f.toml:4: key 'topic[1].config.\"cleanup.policy\"': 'nope' is not delete, compact or "
            "compact,delete");
  EXPECT_EQ(error_of("[[topic]]\nname = \"t\"\nconfig = { \"retention.ms\" = \"soon\" }\n"),
            "f.toml:3: key 'topic[1].config.\"retention.ms\"': 'soon' is not an integer");
}

TEST(ScenarioTomlErrors, OversizedTextIsRefused) {
  std::string text(kScenarioTextBytesMax + 1, '#');
  EXPECT_EQ(error_of(text), "f.toml: 1048577 bytes is over the limit of 1048576");
}

// No input throws, crashes or is accepted with an error status lacking the file name.
RC_GTEST_PROP(ScenarioTomlErrorsProperty, MangledFilesNeverCrash, ()) {
  std::string text = with_base(
      "[[fault]]\nat = \"1s\"\nkind = \"partition\"\ngroups = [[1], [\"producer-1\"]]\n"
      "[nemesis]\ninterval = [\"1s\", \"2s\"]\n");
  int edits = *rc::gen::inRange(1, 6);
  for (int i = 0; i < edits; ++i) {
    size_t at = *rc::gen::inRange<size_t>(0, text.size());
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        text.erase(at, *rc::gen::inRange<size_t>(1, 8));
        break;
      case 1:
        text.insert(at, *rc::gen::container<std::string>(
                            rc::gen::element('[', ']', '"', '=', '\n', '1', 'a', '-', ',', '.')));
        break;
      default:
        text[at] = *rc::gen::arbitrary<char>();
    }
  }
  auto r = parse_scenario(text, "m.toml");
  if (!r.ok()) RC_ASSERT(r.status().message().rfind("m.toml:", 0) == 0);
}

}  // namespace
}  // namespace gregor::scenario
