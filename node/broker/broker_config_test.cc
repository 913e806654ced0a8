// Proves the broker config file and topic configs behave as Kafka's do where Gregor follows Kafka:
// an empty file gives Kafka's defaults; every key is read, in the quoted flat form and the TOML
// dotted/table form alike; log.retention.ms beats .minutes beats .hours and log.roll.ms beats
// .hours; every bad file (syntax, unknown key, wrong type, out of range, several log dirs, bad
// listener, conflicting aliases) is refused with "FILE:LINE" and the key in the message, without
// throwing; listeners parse into host and port (IPv6 in brackets); topic overrides are parsed
// strictly, named in errors, and reported by describe_topic_config as overrides.
#include "node/broker/broker_config.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "node/broker/topic_config.h"

namespace gregor::broker {
namespace {

using ::testing::HasSubstr;

Result<BrokerConfig> parse(std::string_view text) {
  return parse_broker_config(text, "broker.toml");
}

// The message of a refused file.
std::string error_of(std::string_view text) {
  auto r = parse(text);
  EXPECT_FALSE(r.ok()) << "accepted: " << text;
  if (r.ok()) return "";
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  return r.status().message();
}

std::map<std::string, std::string> described(const BrokerConfig& c) {
  auto rows = c.describe();
  return {rows.begin(), rows.end()};
}

TEST(BrokerConfig, EmptyFileGivesKafkaDefaults) {
  auto r = parse("");
  ASSERT_TRUE(r.ok()) << r.status();
  const BrokerConfig& c = *r;
  EXPECT_EQ(c.node_id, 0);
  EXPECT_EQ(c.log_dir, "data");
  EXPECT_EQ(c.listener, (Listener{"127.0.0.1", 9092}));
  EXPECT_EQ(c.advertised_listener, c.listener);
  EXPECT_EQ(c.num_partitions, 1);
  EXPECT_EQ(c.default_replication_factor, 1);
  EXPECT_TRUE(c.auto_create_topics_enable);
  EXPECT_TRUE(c.delete_topic_enable);
  EXPECT_EQ(c.socket_request_max_bytes, 104857600);
  EXPECT_EQ(c.max_connections, 1000);
  EXPECT_EQ(c.queued_max_requests, 500);
  EXPECT_EQ(c.connections_max_idle_ms, milliseconds(600000));
  EXPECT_EQ(c.message_max_bytes, 1048588);
  EXPECT_EQ(c.log_retention_ms, std::optional<Duration>(hours(168)));
  EXPECT_EQ(c.group_max_session_timeout_ms, milliseconds(1800000));
  EXPECT_EQ(c.fetch_max_bytes, 57671680);

  // The log defaults are exactly LogConfig's (which are Kafka's topic defaults).
  log::LogConfig got = c.default_log_config();
  log::LogConfig want;
  EXPECT_EQ(got.segment_bytes, want.segment_bytes);
  EXPECT_EQ(got.segment_ms, want.segment_ms);
  EXPECT_EQ(got.index_interval_bytes, want.index_interval_bytes);
  EXPECT_EQ(got.retention_ms, want.retention_ms);
  EXPECT_EQ(got.retention_bytes, want.retention_bytes);
  EXPECT_EQ(got.flush_messages, want.flush_messages);
  EXPECT_EQ(got.flush_ms, want.flush_ms);
  EXPECT_EQ(got.message_timestamp_type, want.message_timestamp_type);
  EXPECT_EQ(got.max_message_bytes, want.max_message_bytes);
  EXPECT_EQ(got.cleanup_delete, want.cleanup_delete);
  EXPECT_EQ(got.cleanup_compact, want.cleanup_compact);
  EXPECT_EQ(got.delete_retention_ms, want.delete_retention_ms);

  auto d = described(c);
  EXPECT_EQ(d["listeners"], "PLAINTEXT://127.0.0.1:9092");
  EXPECT_EQ(d["log.retention.hours"], "168");
  EXPECT_EQ(d["log.retention.ms"], "604800000");
  EXPECT_EQ(d["log.roll.hours"], "168");
  EXPECT_EQ(d["log.flush.interval.messages"], "9223372036854775807");
  EXPECT_EQ(d["log.flush.interval.ms"], "9223372036854775807");
  EXPECT_EQ(d["log.cleanup.policy"], "delete");
  EXPECT_EQ(d["log.message.timestamp.type"], "CreateTime");
  EXPECT_EQ(d["auto.create.topics.enable"], "true");
  EXPECT_EQ(d["offsets.retention.minutes"], "10080");
}

TEST(BrokerConfig, ReplicationKeysAndLegacySwitches) {
  auto r = parse(R"(node.id = 1
controller.quorum.voters = "1@h1:9093,2@h2:9093,3@h3:9093"
default.replication.factor = 3
"replica.lag.time.max.ms" = 2000
"replica.fetch.wait.max.ms" = 100
"replica.fetch.max.bytes" = 4096
"replica.fetch.response.max.bytes" = 65536
"replica.fetch.backoff.ms" = 50
"legacy.replication.truncate.to.high.watermark" = true
"legacy.replication.epoch.answer.pre.kip.279" = true
"legacy.replication.isr.expand.without.epoch.start" = true
"legacy.replication.high.watermark.before.truncation" = true
"legacy.broker.epoch.fencing.disable" = true
"legacy.eligible.leader.replicas.disable" = true
)");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->default_replication_factor, 3);
  EXPECT_EQ(r->replication.lag_time_max, milliseconds(2000));
  EXPECT_EQ(r->replication.fetch_wait_max, milliseconds(100));
  EXPECT_EQ(r->replication.fetch_max_bytes, 4096);
  EXPECT_EQ(r->replication.fetch_response_max_bytes, 65536);
  EXPECT_EQ(r->replication.fetch_backoff, milliseconds(50));
  EXPECT_TRUE(r->replication.truncate_to_high_watermark);
  EXPECT_TRUE(r->replication.epoch_answer_pre_kip279);
  EXPECT_TRUE(r->replication.isr_expand_without_epoch_start);
  EXPECT_TRUE(r->replication.high_watermark_before_truncation);
  EXPECT_TRUE(r->legacy_disable_broker_epoch_fencing);
  EXPECT_TRUE(r->legacy_disable_eligible_leader_replicas);
  // The defaults are Kafka's, with every historic behaviour off.
  auto d = parse("");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->replication, ReplicationConfig{});
  EXPECT_EQ(d->replication.lag_time_max, milliseconds(30000));
  EXPECT_FALSE(d->legacy_disable_broker_epoch_fencing);
  EXPECT_FALSE(d->legacy_disable_eligible_leader_replicas);
}

TEST(BrokerConfig, DescribeListsEveryKeySorted) {
  auto r = parse("");
  ASSERT_TRUE(r.ok());
  auto rows = r->describe();
  std::vector<std::string_view> names;
  for (auto& [k, v] : rows) names.push_back(k);
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
  EXPECT_EQ(names, broker_config_keys());
  EXPECT_EQ(names.size(), 59u);
}

// Every key set to a value other than its default, in the quoted flat form.
constexpr std::string_view kEveryKeyFlat = R"("node.id" = 7
"log.dirs" = "/var/lib/gregor"
"listeners" = "PLAINTEXT://0.0.0.0:19092"
"advertised.listeners" = "plaintext://broker7.example:29092"
"num.partitions" = 12
"default.replication.factor" = 1
"auto.create.topics.enable" = false
"delete.topic.enable" = false
"socket.request.max.bytes" = 2048
"max.connections" = 64
"queued.max.requests" = 16
"connections.max.idle.ms" = 30000
"message.max.bytes" = 2000000
"log.segment.bytes" = 1048576
"log.roll.ms" = 3600000
"log.retention.ms" = 120000
"log.retention.bytes" = 1000000000
"log.cleanup.policy" = "compact, delete"
"log.flush.interval.messages" = 1
"log.flush.interval.ms" = 1000
"log.message.timestamp.type" = "LogAppendTime"
"log.cleaner.delete.retention.ms" = 1000
"log.retention.check.interval.ms" = 5000
"log.cleaner.backoff.ms" = 2000
"min.insync.replicas" = 2
"log.index.interval.bytes" = 512
"group.initial.rebalance.delay.ms" = 0
"offsets.topic.num.partitions" = 3
"offsets.retention.minutes" = 60
"offsets.retention.check.interval.ms" = 30000
"offset.metadata.max.bytes" = 100
"group.min.session.timeout.ms" = 100
"group.max.session.timeout.ms" = 60000
"fetch.max.bytes" = 1048576
)";

void expect_every_key(const BrokerConfig& c) {
  EXPECT_EQ(c.node_id, 7);
  EXPECT_EQ(c.log_dir, "/var/lib/gregor");
  EXPECT_EQ(c.listener, (Listener{"0.0.0.0", 19092}));
  EXPECT_EQ(c.advertised_listener, (Listener{"broker7.example", 29092}));
  EXPECT_EQ(c.num_partitions, 12);
  EXPECT_FALSE(c.auto_create_topics_enable);
  EXPECT_FALSE(c.delete_topic_enable);
  EXPECT_EQ(c.socket_request_max_bytes, 2048);
  EXPECT_EQ(c.max_connections, 64);
  EXPECT_EQ(c.queued_max_requests, 16);
  EXPECT_EQ(c.connections_max_idle_ms, seconds(30));
  EXPECT_EQ(c.message_max_bytes, 2000000);
  EXPECT_EQ(c.log_segment_bytes, 1048576);
  EXPECT_EQ(c.log_roll_ms, hours(1));
  EXPECT_EQ(c.log_retention_ms, std::optional<Duration>(minutes(2)));
  EXPECT_EQ(c.log_retention_bytes, 1000000000);
  EXPECT_TRUE(c.log_cleanup_delete);
  EXPECT_TRUE(c.log_cleanup_compact);
  EXPECT_EQ(c.log_flush_interval_messages, 1u);
  EXPECT_EQ(c.log_flush_interval_ms, seconds(1));
  EXPECT_EQ(c.log_message_timestamp_type, log::TimestampType::log_append_time);
  EXPECT_EQ(c.log_cleaner_delete_retention_ms, seconds(1));
  EXPECT_EQ(c.log_retention_check_interval_ms, seconds(5));
  EXPECT_EQ(c.log_cleaner_backoff_ms, seconds(2));
  EXPECT_EQ(c.min_insync_replicas, 2);
  EXPECT_EQ(c.log_index_interval_bytes, 512);
  EXPECT_EQ(c.group_initial_rebalance_delay_ms, Duration::zero());
  EXPECT_EQ(c.offsets_topic_num_partitions, 3);
  EXPECT_EQ(c.offsets_retention_minutes, hours(1));
  EXPECT_EQ(c.offsets_retention_check_interval_ms, seconds(30));
  EXPECT_EQ(c.offset_metadata_max_bytes, 100);
  EXPECT_EQ(c.group_min_session_timeout_ms, milliseconds(100));
  EXPECT_EQ(c.group_max_session_timeout_ms, minutes(1));
  EXPECT_EQ(c.fetch_max_bytes, 1048576);

  log::LogConfig l = c.default_log_config();
  EXPECT_EQ(l.segment_bytes, 1048576u);
  EXPECT_EQ(l.segment_ms, hours(1));
  EXPECT_EQ(l.retention_ms, 120000);
  EXPECT_EQ(l.flush_messages, 1u);
  EXPECT_EQ(l.max_message_bytes, 2000000u);
  EXPECT_EQ(l.delete_retention_ms, 1000);
  EXPECT_TRUE(log::validate_config(l).ok());

  auto d = described(c);
  EXPECT_EQ(d["advertised.listeners"], "PLAINTEXT://broker7.example:29092");
  EXPECT_EQ(d["log.cleanup.policy"], "compact,delete");
  EXPECT_EQ(d["log.retention.ms"], "120000");
  EXPECT_EQ(d["log.retention.minutes"], "2");
  EXPECT_EQ(d["log.retention.hours"], "0");  // rounded down; the ms form is exact
  EXPECT_EQ(d["broker.id"], "7");
  EXPECT_EQ(d["log.dir"], "/var/lib/gregor");
}

TEST(BrokerConfig, QuorumVotersAndRoles) {
  auto c = parse(R"(node.id = 2
"controller.quorum.voters" = "1@n1:9093, 2@[::1]:9094,3@10.0.0.3:9095"
"process.roles" = "broker,controller")");
  ASSERT_TRUE(c.ok()) << c.status();
  ASSERT_EQ(c->quorum_voters.size(), 3u);
  EXPECT_EQ(c->quorum_voters[1], (QuorumVoter{2, "::1", 9094}));
  EXPECT_TRUE(c->kraft());
  EXPECT_TRUE(c->is_voter());
  EXPECT_TRUE(c->role_broker && c->role_controller);
  EXPECT_EQ(described(*c)["controller.quorum.voters"], "1@n1:9093,2@[::1]:9094,3@10.0.0.3:9095");
  EXPECT_EQ(described(*c)["metadata.log.dir"], "data/metadata");

  auto broker_only = parse(R"(node.id = 7
"controller.quorum.voters" = "1@n1:9093"
"process.roles" = "broker")");
  ASSERT_TRUE(broker_only.ok()) << broker_only.status();
  EXPECT_FALSE(broker_only->is_voter());
  EXPECT_FALSE(broker_only->role_controller);

  EXPECT_FALSE(parse("").value().kraft());  // no voters: the single-node local controller
}

TEST(BrokerConfig, QuorumErrorsNameTheProblem) {
  EXPECT_THAT(error_of(R"("controller.quorum.voters" = "1@a:1,2@b:2")"),
              HasSubstr("2 voters: Gregor's quorum has a static set of 1, 3 or 5 voters"));
  EXPECT_THAT(error_of(R"("controller.quorum.voters" = "1@a:1,1@b:2,3@c:3")"),
              HasSubstr("id 1 given twice"));
  EXPECT_THAT(error_of(R"("controller.quorum.voters" = "x@a:1")"), HasSubstr("the id is not"));
  EXPECT_THAT(error_of(R"("controller.quorum.voters" = "1a:1")"), HasSubstr("no '@'"));
  EXPECT_THAT(error_of(R"("controller.quorum.voters" = "1@a:0")"), HasSubstr("bad port '0'"));
  EXPECT_THAT(error_of(R"("process.roles" = "broker")"),
              HasSubstr("needs controller.quorum.voters"));
  EXPECT_THAT(error_of(R"("controller.quorum.voters" = "1@a:1"
"process.roles" = "broker,broker")"),
              HasSubstr("expected broker, controller or both"));
  EXPECT_THAT(error_of(R"(node.id = 4
"controller.quorum.voters" = "1@a:1")"),
              HasSubstr("node 4 is a controller but not among the voters 1@a:1"));
  EXPECT_THAT(error_of(R"("broker.heartbeat.interval.ms" = 9000)"),
              HasSubstr("must be below broker.session.timeout.ms"));
}

TEST(BrokerConfig, EveryKeyParsedInFlatForm) {
  auto r = parse(kEveryKeyFlat);
  ASSERT_TRUE(r.ok()) << r.status();
  expect_every_key(*r);
}

TEST(BrokerConfig, DottedKeysAndTablesMeanTheSameKeys) {
  // The same file with TOML dotted keys: toml++ nests them (log -> dirs) and the parser flattens.
  std::string dotted;
  for (char ch : kEveryKeyFlat) {
    if (ch != '"' || dotted.find('=', dotted.rfind('\n') + 1) != std::string::npos) {
      dotted += ch;
    }
  }
  ASSERT_THAT(dotted, HasSubstr("\nlog.dirs = \"/var/lib/gregor\"\n"));
  auto r = parse(dotted);
  ASSERT_TRUE(r.ok()) << r.status();
  expect_every_key(*r);
  EXPECT_EQ(r->describe(), parse(kEveryKeyFlat)->describe());

  // Tables, and a mix of the forms in one file.
  auto t = parse(
      "node.id = 3\n"
      "[log]\n"
      "dirs = \"/d\"\n"
      "\"retention.ms\" = 5000\n"
      "segment.bytes = 4096\n"
      "[group.max.session]\n"
      "timeout.ms = 9000\n");
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->node_id, 3);
  EXPECT_EQ(t->log_dir, "/d");
  EXPECT_EQ(t->log_retention_ms, std::optional<Duration>(seconds(5)));
  EXPECT_EQ(t->log_segment_bytes, 4096);
  EXPECT_EQ(t->group_max_session_timeout_ms, seconds(9));
}

TEST(BrokerConfig, FlatAndDottedFormOfOneKeyIsGivenTwice) {
  std::string e = error_of(
      "\"log.dirs\" = \"/a\"\n"
      "log.dirs = \"/b\"\n");
  EXPECT_THAT(e, HasSubstr("broker.toml:2: key 'log.dirs': given twice (first on line 1)"));
}

TEST(BrokerConfig, RetentionPrecedenceIsMsThenMinutesThenHours) {
  auto hours_only = parse("log.retention.hours = 2\n");
  ASSERT_TRUE(hours_only.ok());
  EXPECT_EQ(hours_only->log_retention_ms, std::optional<Duration>(hours(2)));

  auto minutes_win = parse("log.retention.hours = 2\nlog.retention.minutes = 7\n");
  ASSERT_TRUE(minutes_win.ok());
  EXPECT_EQ(minutes_win->log_retention_ms, std::optional<Duration>(minutes(7)));

  auto ms_wins =
      parse("log.retention.ms = 1500\nlog.retention.minutes = 7\nlog.retention.hours = 2\n");
  ASSERT_TRUE(ms_wins.ok());
  EXPECT_EQ(ms_wins->log_retention_ms, std::optional<Duration>(milliseconds(1500)));
  EXPECT_EQ(ms_wins->default_log_config().retention_ms, 1500);

  // -1 is forever in any unit, and a higher-precedence key can turn a lower one's limit off.
  auto forever = parse("log.retention.hours = 5\nlog.retention.ms = -1\n");
  ASSERT_TRUE(forever.ok());
  EXPECT_EQ(forever->log_retention_ms, std::nullopt);
  EXPECT_EQ(forever->default_log_config().retention_ms, -1);
  EXPECT_EQ(described(*forever)["log.retention.hours"], "-1");
  auto forever_hours = parse("log.retention.hours = -1\n");
  ASSERT_TRUE(forever_hours.ok());
  EXPECT_EQ(forever_hours->log_retention_ms, std::nullopt);

  auto roll = parse("log.roll.hours = 3\nlog.roll.ms = 60000\n");
  ASSERT_TRUE(roll.ok());
  EXPECT_EQ(roll->log_roll_ms, minutes(1));
  auto roll_hours = parse("log.roll.hours = 3\n");
  ASSERT_TRUE(roll_hours.ok());
  EXPECT_EQ(roll_hours->log_roll_ms, hours(3));

  // Kafka's Long.MAX_VALUE saturates instead of overflowing nanoseconds.
  auto huge = parse("log.roll.ms = 9223372036854775807\n");
  ASSERT_TRUE(huge.ok());
  EXPECT_EQ(huge->log_roll_ms, Duration::max());
  EXPECT_EQ(described(*huge)["log.roll.ms"], "9223372036854775807");
}

TEST(BrokerConfig, IdAliases) {
  auto broker_id = parse("broker.id = 4\n");
  ASSERT_TRUE(broker_id.ok());
  EXPECT_EQ(broker_id->node_id, 4);
  auto both_same = parse("broker.id = 4\nnode.id = 4\n");
  ASSERT_TRUE(both_same.ok());
  EXPECT_EQ(both_same->node_id, 4);
  EXPECT_THAT(error_of("node.id = 4\n\nbroker.id = 5\n"),
              HasSubstr("broker.toml:3: key 'broker.id': 5 differs from node.id = 4 (line 1)"));
  EXPECT_THAT(error_of("node.id = -1\n"), HasSubstr("broker.toml:1: key 'node.id': -1 is outside"));
}

TEST(BrokerConfig, LogDirs) {
  auto dir = parse("log.dir = \"/old\"\n");
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(dir->log_dir, "/old");
  auto dirs_wins = parse("log.dir = \"/old\"\nlog.dirs = \"/new\"\n");
  ASSERT_TRUE(dirs_wins.ok());
  EXPECT_EQ(dirs_wins->log_dir, "/new");

  std::string several = error_of("num.partitions = 2\nlog.dirs = \"/a,/b\"\n");
  EXPECT_THAT(several, HasSubstr("broker.toml:2: key 'log.dirs': 2 directories given"));
  EXPECT_THAT(several, HasSubstr("exactly one"));
  EXPECT_THAT(error_of("log.dirs = \"\"\n"),
              HasSubstr("broker.toml:1: key 'log.dirs': no directory given"));
  EXPECT_THAT(error_of("log.dirs = \"/a,\"\n"),
              HasSubstr("broker.toml:1: key 'log.dirs': empty directory name"));
}

TEST(BrokerConfig, SyntaxErrorHasLineAndColumn) {
  std::string e = error_of("num.partitions = 3\nlog.dirs = \n");
  EXPECT_THAT(e, HasSubstr("broker.toml:2:"));
  std::string unterminated = error_of("\n\nlisteners = \"PLAINTEXT://:9092\n");
  EXPECT_THAT(unterminated, HasSubstr("broker.toml:3:"));
  EXPECT_THAT(error_of("a = 1\na = 2\n"), HasSubstr("broker.toml:2:"));
}

TEST(BrokerConfig, UnknownKey) {
  std::string e = error_of(
      "num.partitions = 3\n"
      "# a comment\n"
      "log.retention.dayz = 3\n"
      "zzz = 1\n");
  EXPECT_THAT(e, HasSubstr("broker.toml:3: key 'log.retention.dayz': unknown key"));
  EXPECT_THAT(error_of("[log]\nretention.ms = 1\nflux = 2\n"),
              HasSubstr("broker.toml:3: key 'log.flux': unknown key"));
  EXPECT_THAT(error_of("log = {}\n"), HasSubstr("broker.toml:1: key 'log': unknown key"));
}

TEST(BrokerConfig, WrongType) {
  EXPECT_THAT(error_of("\n\"num.partitions\" = \"3\"\n"),
              HasSubstr("broker.toml:2: key 'num.partitions': expected an integer, got a string"));
  EXPECT_THAT(
      error_of("log.segment.bytes = 1.5\n"),
      HasSubstr("broker.toml:1: key 'log.segment.bytes': expected an integer, got a float"));
  EXPECT_THAT(error_of("delete.topic.enable = 1\n"),
              HasSubstr("key 'delete.topic.enable': expected a boolean, got an integer"));
  EXPECT_THAT(error_of("log.dirs = [\"/a\"]\n"),
              HasSubstr("key 'log.dirs': expected a string, got an array"));
  EXPECT_THAT(error_of("listeners = 9092\n"),
              HasSubstr("key 'listeners': expected a string, got an integer"));
  EXPECT_THAT(error_of("log.flush.interval.ms = 1979-05-27\n"),
              HasSubstr("key 'log.flush.interval.ms': expected an integer, got a date/time"));
}

TEST(BrokerConfig, OutOfRange) {
  EXPECT_THAT(error_of("num.partitions = 0\n"),
              HasSubstr("broker.toml:1: key 'num.partitions': 0 is outside [1, 10000]"));
  EXPECT_THAT(error_of("\nnum.partitions = 10001\n"),
              HasSubstr("broker.toml:2: key 'num.partitions': 10001 is outside [1, 10000]"));
  EXPECT_THAT(error_of("log.segment.bytes = 13\n"), HasSubstr("key 'log.segment.bytes': 13"));
  EXPECT_THAT(error_of("log.segment.bytes = 4294967296\n"), HasSubstr("key 'log.segment.bytes'"));
  EXPECT_THAT(error_of("socket.request.max.bytes = 1023\n"),
              HasSubstr("key 'socket.request.max.bytes'"));
  EXPECT_THAT(error_of("max.connections = 0\n"), HasSubstr("key 'max.connections'"));
  EXPECT_THAT(error_of("log.retention.ms = -2\n"), HasSubstr("key 'log.retention.ms': -2"));
  EXPECT_THAT(error_of("log.retention.bytes = -2\n"), HasSubstr("key 'log.retention.bytes'"));
  EXPECT_THAT(error_of("min.insync.replicas = 0\n"), HasSubstr("key 'min.insync.replicas'"));
  EXPECT_THAT(error_of("message.max.bytes = 0\n"), HasSubstr("key 'message.max.bytes'"));
  EXPECT_THAT(error_of("log.flush.interval.messages = 0\n"),
              HasSubstr("key 'log.flush.interval.messages'"));
  EXPECT_THAT(error_of("fetch.max.bytes = 10\n"), HasSubstr("key 'fetch.max.bytes'"));
  EXPECT_THAT(error_of("log.roll.hours = 0\n"), HasSubstr("key 'log.roll.hours'"));
  EXPECT_THAT(error_of("log.index.interval.bytes = 0\n"),
              HasSubstr("key 'log.index.interval.bytes'"));

  std::string rf = error_of("num.partitions = 2\ndefault.replication.factor = 3\n");
  EXPECT_THAT(rf, HasSubstr("broker.toml:2: key 'default.replication.factor': 3 needs more "
                            "brokers: without controller.quorum.voters"));
  EXPECT_THAT(error_of("replica.lag.time.max.ms = 400\n"),
              HasSubstr("replica.fetch.wait.max.ms (500) must be below replica.lag.time.max.ms "
                        "(400)"));
  EXPECT_THAT(error_of("replica.fetch.max.bytes = 0\n"),
              HasSubstr("key 'replica.fetch.max.bytes'"));
  EXPECT_THAT(
      error_of("group.min.session.timeout.ms = 7000\ngroup.max.session.timeout.ms = 6000\n"),
      HasSubstr("broker.toml:2: key 'group.max.session.timeout.ms'"));
  EXPECT_THAT(error_of("group.min.session.timeout.ms = 1800001\n"),
              HasSubstr("broker.toml:1: key 'group.min.session.timeout.ms'"));
}

TEST(BrokerConfig, UnparsableStringValues) {
  EXPECT_THAT(error_of("\n\nlog.cleanup.policy = \"shred\"\n"),
              HasSubstr("broker.toml:3: key 'log.cleanup.policy': 'shred' is not delete"));
  EXPECT_THAT(error_of("log.cleanup.policy = \"\"\n"), HasSubstr("key 'log.cleanup.policy'"));
  EXPECT_THAT(error_of("log.message.timestamp.type = \"createtime\"\n"),
              HasSubstr("key 'log.message.timestamp.type': 'createtime' is not CreateTime"));
  auto compact = parse("log.cleanup.policy = \"compact\"\n");
  ASSERT_TRUE(compact.ok());
  EXPECT_FALSE(compact->log_cleanup_delete);
  EXPECT_TRUE(compact->log_cleanup_compact);
}

TEST(BrokerConfig, ListenersInFile) {
  auto r = parse("listeners = \"PLAINTEXT://[::1]:9093\"\n");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->listener, (Listener{"::1", 9093}));
  EXPECT_EQ(r->advertised_listener, r->listener);  // defaults to listeners
  EXPECT_EQ(described(*r)["listeners"], "PLAINTEXT://[::1]:9093");

  EXPECT_THAT(
      error_of("\nlisteners = \"SSL://:9093\"\n"),
      HasSubstr("broker.toml:2: key 'listeners': security protocol 'SSL' is not supported"));
  EXPECT_THAT(error_of("advertised.listeners = \"PLAINTEXT://:9092\"\n"),
              HasSubstr("broker.toml:1: key 'advertised.listeners': cannot advertise a wildcard"));
  EXPECT_THAT(error_of("advertised.listeners = \"PLAINTEXT://0.0.0.0:9092\"\n"),
              HasSubstr("key 'advertised.listeners': cannot advertise a wildcard"));
  EXPECT_THAT(error_of("advertised.listeners = \"PLAINTEXT://h:0\"\n"),
              HasSubstr("key 'advertised.listeners': cannot advertise port 0"));
  EXPECT_THAT(error_of("listeners = \"PLAINTEXT://a:1,PLAINTEXT://b:2\"\n"),
              HasSubstr("key 'listeners': more than one listener"));
}

TEST(Listener, Parses) {
  struct Case {
    std::string_view text;
    std::string host;
    uint16_t port;
  };
  for (const Case& c : {
           Case{"PLAINTEXT://127.0.0.1:9092", "127.0.0.1", 9092},
           Case{"PLAINTEXT://broker-1.example.com:19092", "broker-1.example.com", 19092},
           Case{"PLAINTEXT://:9092", "", 9092},
           Case{"plaintext://localhost:0", "localhost", 0},
           Case{"PLAINTEXT://[::1]:9092", "::1", 9092},
           Case{"PLAINTEXT://[fe80::1%eth0]:65535", "fe80::1%eth0", 65535},
           Case{"PLAINTEXT://[::ffff:10.0.0.1]:1", "::ffff:10.0.0.1", 1},
           Case{"  PLAINTEXT://h:1  ", "h", 1},
       }) {
    auto l = parse_listener(c.text);
    ASSERT_TRUE(l.ok()) << c.text << ": " << l.status();
    EXPECT_EQ(l->host, c.host) << c.text;
    EXPECT_EQ(l->port, c.port) << c.text;
    auto again = parse_listener(l->to_string());  // to_string round-trips
    ASSERT_TRUE(again.ok()) << l->to_string();
    EXPECT_EQ(*again, *l);
  }
}

TEST(Listener, RefusesBadOnes) {
  struct Case {
    std::string_view text;
    std::string_view why;
  };
  for (const Case& c : {
           Case{"", "no listener"},
           Case{"SSL://h:9093", "security protocol 'SSL' is not supported"},
           Case{"SASL_PLAINTEXT://h:9093", "not supported"},
           Case{"127.0.0.1:9092", "is not PROTOCOL://HOST:PORT"},
           Case{"PLAINTEXT://localhost", "missing port"},
           Case{"PLAINTEXT://localhost:", "missing port"},
           Case{"PLAINTEXT://[::1]", "missing port"},
           Case{"PLAINTEXT://[::1]9092", "missing port"},
           Case{"PLAINTEXT://h:65536", "bad port '65536'"},
           Case{"PLAINTEXT://h:-1", "bad port '-1'"},
           Case{"PLAINTEXT://h:90x", "bad port '90x'"},
           Case{"PLAINTEXT://h: 90", "bad port ' 90'"},
           Case{"PLAINTEXT://::1:9092", "must be in brackets"},
           Case{"PLAINTEXT://[::1:9092", "without ']'"},
           Case{"PLAINTEXT://[zz]:9092", "bad IPv6 address 'zz'"},
           Case{"PLAINTEXT://[fe80::1%]:9092", "bad IPv6 address"},
           Case{"PLAINTEXT://[]:9092", "bad IPv6 address"},
           Case{"PLAINTEXT://bad/host:9092", "bad host 'bad/host'"},
           Case{"PLAINTEXT://a:1,PLAINTEXT://b:2", "more than one listener"},
       }) {
    auto l = parse_listener(c.text);
    ASSERT_FALSE(l.ok()) << "accepted: " << c.text;
    EXPECT_EQ(l.code(), Errc::invalid_argument);
    EXPECT_THAT(l.status().message(), HasSubstr(c.why)) << c.text;
  }
}

TEST(BrokerConfig, NeverThrowsOnGarbage) {
  const std::string_view inputs[] = {
      std::string_view("\0\xff\xfe", 3),
      "[[[[",
      "= 1",
      "\"\"\" unterminated",
      "[log]\n[log]\n",
      "x = {a = 1, a = 2}",
      "log.dirs.x = 1\nlog.dirs = \"a\"",
      "\xc3\x28 = 1",
      "num.partitions = 99999999999999999999999",
  };
  for (std::string_view input : inputs) {
    auto r = parse(input);
    EXPECT_FALSE(r.ok()) << input;
    EXPECT_THAT(r.status().message(), HasSubstr("broker.toml:")) << input;
  }
  std::string big(kConfigTextBytesMax + 1, '#');
  EXPECT_THAT(error_of(big), HasSubstr("over the limit"));
}

// ---- Topic configs ---------------------------------------------------------------------------

Result<TopicConfig> topic(const ConfigOverrides& overrides, const BrokerConfig& b = {}) {
  return apply_topic_configs(b, overrides);
}

std::string topic_error(const ConfigOverrides& overrides) {
  auto r = topic(overrides);
  EXPECT_FALSE(r.ok());
  if (r.ok()) return "";
  EXPECT_EQ(r.code(), Errc::invalid_argument);
  return r.status().message();
}

TEST(TopicConfig, NoOverridesIsTheBrokerDefaults) {
  BrokerConfig b;
  b.log_retention_ms = hours(1);
  b.min_insync_replicas = 2;
  auto t = topic({}, b);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->log.retention_ms, 3600000);
  EXPECT_EQ(t->min_insync_replicas, 2);
  EXPECT_TRUE(t->overrides.empty());
  auto entries = describe_topic_config(*t);
  ASSERT_EQ(entries.size(), 12u);
  for (const ConfigEntry& e : entries) {
    EXPECT_TRUE(e.is_default) << e.name;
    EXPECT_FALSE(e.read_only);
  }
  std::vector<std::string_view> names;
  for (const ConfigEntry& e : entries) names.push_back(e.name);
  EXPECT_EQ(names, topic_config_keys());
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end()));
}

TEST(TopicConfig, EveryKeyApplied) {
  auto t = topic({
      {"retention.ms", "60000"},
      {"retention.bytes", "1048576"},
      {"cleanup.policy", "compact"},
      {"segment.bytes", "14"},
      {"segment.ms", "1000"},
      {"min.insync.replicas", "2"},
      {"message.timestamp.type", "LogAppendTime"},
      {"max.message.bytes", "1000"},
      {"delete.retention.ms", "0"},
      {"flush.messages", "1"},
      {"flush.ms", "500"},
      {"index.interval.bytes", " 128 "},  // Kafka trims values
  });
  ASSERT_TRUE(t.ok()) << t.status();
  const log::LogConfig& l = t->log;
  EXPECT_EQ(l.retention_ms, 60000);
  EXPECT_EQ(l.retention_bytes, 1048576);
  EXPECT_FALSE(l.cleanup_delete);
  EXPECT_TRUE(l.cleanup_compact);
  EXPECT_EQ(l.segment_bytes, 14u);
  EXPECT_EQ(l.segment_ms, seconds(1));
  EXPECT_EQ(t->min_insync_replicas, 2);
  EXPECT_EQ(l.message_timestamp_type, log::TimestampType::log_append_time);
  EXPECT_EQ(l.max_message_bytes, 1000u);
  EXPECT_EQ(l.delete_retention_ms, 0);
  EXPECT_EQ(l.flush_messages, 1u);
  EXPECT_EQ(l.flush_ms, milliseconds(500));
  EXPECT_EQ(l.index_interval_bytes, 128u);
  EXPECT_EQ(t->overrides.size(), 12u);
  EXPECT_EQ(t->overrides.at("index.interval.bytes"), " 128 ");

  std::map<std::string, ConfigEntry> by_name;
  for (ConfigEntry& e : describe_topic_config(*t)) by_name[e.name] = e;
  EXPECT_EQ(by_name["index.interval.bytes"].value, "128");
  EXPECT_EQ(by_name["cleanup.policy"].value, "compact");
  EXPECT_EQ(by_name["message.timestamp.type"].value, "LogAppendTime");
  for (auto& [name, e] : by_name) EXPECT_FALSE(e.is_default) << name;
}

TEST(TopicConfig, DescribeMarksOnlyOverridesAndUsesKafkaSpellings) {
  auto t = topic({{"retention.ms", "-1"}, {"flush.messages", "9223372036854775807"}});
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->log.flush_messages, UINT64_MAX);
  std::map<std::string, ConfigEntry> by_name;
  for (ConfigEntry& e : describe_topic_config(*t)) by_name[e.name] = e;
  EXPECT_EQ(by_name["retention.ms"].value, "-1");
  EXPECT_FALSE(by_name["retention.ms"].is_default);
  EXPECT_EQ(by_name["flush.messages"].value, "9223372036854775807");
  EXPECT_EQ(by_name["flush.ms"].value, "9223372036854775807");
  EXPECT_TRUE(by_name["flush.ms"].is_default);
  EXPECT_EQ(by_name["segment.ms"].value, "604800000");
  EXPECT_EQ(by_name["max.message.bytes"].value, "1048588");
}

TEST(TopicConfig, StrictParsing) {
  EXPECT_THAT(topic_error({{"retention.ms", "100x"}}),
              HasSubstr("topic config 'retention.ms': '100x' is not an integer"));
  EXPECT_THAT(topic_error({{"retention.ms", "-2"}}),
              HasSubstr("topic config 'retention.ms': -2 is outside [-1, "));
  EXPECT_THAT(topic_error({{"retention.ms", ""}}), HasSubstr("'retention.ms'"));
  EXPECT_THAT(topic_error({{"retention.ms", "1.5"}}), HasSubstr("'retention.ms'"));
  EXPECT_THAT(topic_error({{"retention.ms", "+5"}}), HasSubstr("'retention.ms'"));
  EXPECT_THAT(topic_error({{"retention.ms", "0x10"}}), HasSubstr("'retention.ms'"));
  EXPECT_THAT(topic_error({{"retention.ms", "99999999999999999999"}}), HasSubstr("'retention.ms'"));
  EXPECT_THAT(topic_error({{"segment.bytes", "13"}}),
              HasSubstr("topic config 'segment.bytes': 13 is outside [14, 2147483647]"));
  EXPECT_THAT(topic_error({{"segment.bytes", "2147483648"}}), HasSubstr("'segment.bytes'"));
  EXPECT_THAT(topic_error({{"max.message.bytes", "-1"}}), HasSubstr("'max.message.bytes'"));
  EXPECT_THAT(topic_error({{"min.insync.replicas", "0"}}), HasSubstr("'min.insync.replicas'"));
  EXPECT_THAT(topic_error({{"segment.ms", "0"}}), HasSubstr("'segment.ms'"));
  EXPECT_THAT(topic_error({{"cleanup.policy", "delete,shred"}}), HasSubstr("'cleanup.policy'"));
  EXPECT_THAT(topic_error({{"message.timestamp.type", "Now"}}),
              HasSubstr("'message.timestamp.type'"));
  // In Kafka's range but beyond what the log can hold: log::validate_config names the key.
  EXPECT_THAT(topic_error({{"max.message.bytes", "0"}}), HasSubstr("max.message.bytes"));
  EXPECT_THAT(topic_error({{"index.interval.bytes", "0"}}), HasSubstr("index.interval.bytes"));
  EXPECT_THAT(topic_error({{"flush.ms", "0"}}), HasSubstr("flush.ms"));
}

TEST(TopicConfig, UnknownNullAndRepeatedKeys) {
  EXPECT_THAT(topic_error({{"retention.ms", "1"}, {"retention.days", "1"}}),
              HasSubstr("unknown topic config 'retention.days'"));
  // Broker key names are not topic key names.
  EXPECT_THAT(topic_error({{"log.retention.ms", "1"}}),
              HasSubstr("unknown topic config 'log.retention.ms'"));
  EXPECT_THAT(topic_error({{"segment.ms", std::nullopt}}),
              HasSubstr("topic config 'segment.ms': a null value"));
  EXPECT_THAT(topic_error({{"segment.ms", "1"}, {"segment.ms", "2"}}),
              HasSubstr("topic config 'segment.ms' given twice"));
}

}  // namespace
}  // namespace gregor::broker
