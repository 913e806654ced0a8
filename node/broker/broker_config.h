// Broker configuration for `gregor serve`: a TOML file whose keys are Kafka's broker config names
// ("log.dirs", "num.partitions", ...), with Kafka's defaults unless a field's comment says
// otherwise. node/ never reads files (the Env seam), so the parser takes the file's text and a
// display name; the CLI reads the file.
//
// Both TOML spellings of a dotted name are accepted and mean the same key:
//   "log.dirs" = "/var/lib/gregor"      # a quoted flat key
//   log.dirs = "/var/lib/gregor"        # TOML dotted keys (or a [log] table with dirs = ...)
//
// Every key is checked: an unknown key, a value of the wrong TOML type, a value out of range or
// unparsable is an Errc::invalid_argument whose message is "FILE:LINE: key 'KEY': what is wrong";
// a TOML syntax error is "FILE:LINE:COL: what toml++ says".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "base/time.h"
#include "node/broker/bug_switches.h"
#include "node/broker/replication_config.h"
#include "node/log/log_config.h"
#include "node/log/record_batch.h"

namespace gregor::broker {

// The bounds of Kafka's INT and LONG config types, for the key tables of broker_config.cc and
// topic_config.cc.
inline constexpr int64_t kConfigInt32Max = INT32_MAX;
inline constexpr int64_t kConfigInt64Max = INT64_MAX;

// Named limits.
inline constexpr size_t kConfigTextBytesMax = 1 << 20;    // a broker config file
inline constexpr int32_t kPartitionsPerTopicMax = 10000;  // num.partitions, offsets topic

// One listener, "PLAINTEXT://host:port". Only the PLAINTEXT security protocol is supported.
struct Listener {
  std::string host;  // empty: every interface (0.0.0.0); an IPv6 literal is kept without brackets
  uint16_t port = 9092;  // 0 in listeners: an ephemeral port chosen at bind time

  // Kafka's spelling: "PLAINTEXT://127.0.0.1:9092", "PLAINTEXT://[::1]:9092", "PLAINTEXT://:9092".
  std::string to_string() const;
  bool operator==(const Listener&) const = default;
};

// Parses one listener. Errors (Errc::invalid_argument, without a location) for: another scheme
// than PLAINTEXT (case-insensitive, as Kafka normalises listener names), a list of more than one
// listener, a missing or non-numeric port or one above 65535, an unbracketed IPv6 address, a bad
// host character.
Result<Listener> parse_listener(std::string_view text);

// One entry of controller.quorum.voters, "<id>@<host>:<port>" (Kafka's spelling).
struct QuorumVoter {
  int32_t id = 0;
  std::string host;
  uint16_t port = 0;
  bool operator==(const QuorumVoter&) const = default;
};
// Parses "1@host:9093,2@[::1]:9093,...": distinct ids >= 0, a host, a port 1..65535; 1, 3 or 5
// voters (Raft's static voter sets). Errc::invalid_argument naming the bad entry.
Result<std::vector<QuorumVoter>> parse_quorum_voters(std::string_view text);
std::string quorum_voters_string(const std::vector<QuorumVoter>& voters);

struct BrokerConfig {
  int32_t node_id = 0;           // node.id, and its alias broker.id (both given: they must agree)
  std::string log_dir = "data";  // log.dirs, else log.dir (Kafka: /tmp/kafka-logs); exactly one
  Listener listener{"127.0.0.1", 9092};             // listeners
  Listener advertised_listener{"127.0.0.1", 9092};  // advertised.listeners (default: listeners)

  int32_t num_partitions = 1;              // num.partitions, 1..kPartitionsPerTopicMax
  int16_t default_replication_factor = 1;  // default.replication.factor
  bool auto_create_topics_enable = true;   // auto.create.topics.enable
  bool delete_topic_enable = true;         // delete.topic.enable

  int32_t socket_request_max_bytes = 104857600;  // socket.request.max.bytes, >= 1024
  int32_t max_connections = 1000;                // max.connections
  // queued.max.requests: Kafka's bound on the broker's request queue; Gregor uses it as the limit
  // on requests in flight per connection (reading stops at the limit).
  int32_t queued_max_requests = 500;
  Duration connections_max_idle_ms = milliseconds(600000);  // connections.max.idle.ms

  // Log defaults for every topic (default_log_config() maps them onto a LogConfig).
  int32_t message_max_bytes = 1048588;   // message.max.bytes, 1..log::kBatchBytesMax
  int32_t log_segment_bytes = 1 << 30;   // log.segment.bytes, >= 14
  Duration log_roll_ms = hours(24 * 7);  // log.roll.ms, else log.roll.hours
  // log.retention.ms, else .minutes, else .hours (Kafka's precedence); nullopt: keep forever (-1).
  std::optional<Duration> log_retention_ms = hours(24 * 7);
  int64_t log_retention_bytes = -1;  // log.retention.bytes (-1: no limit)
  bool log_cleanup_delete = true;    // log.cleanup.policy contains "delete"
  bool log_cleanup_compact = false;  // log.cleanup.policy contains "compact"
  // log.flush.interval.messages; Kafka's default Long.MAX_VALUE (never) is UINT64_MAX here.
  uint64_t log_flush_interval_messages = UINT64_MAX;
  Duration log_flush_interval_ms = Duration::max();  // log.flush.interval.ms; max(): never
  log::TimestampType log_message_timestamp_type = log::TimestampType::create_time;
  Duration log_cleaner_delete_retention_ms = milliseconds(86400000);
  // How often retention (log.retention.check.interval.ms) and compaction (log.cleaner.backoff.ms,
  // Kafka's pause between cleaner passes) run over the hosted partitions.
  Duration log_retention_check_interval_ms = milliseconds(300000);
  Duration log_cleaner_backoff_ms = milliseconds(15000);
  int32_t min_insync_replicas = 1;          // min.insync.replicas
  int32_t log_index_interval_bytes = 4096;  // log.index.interval.bytes

  // Consumer groups (used by the group coordinator).
  Duration group_initial_rebalance_delay_ms = milliseconds(3000);
  int32_t offsets_topic_num_partitions = 50;
  Duration offsets_retention_minutes = minutes(10080);
  Duration offsets_retention_check_interval_ms = milliseconds(600000);
  int32_t offset_metadata_max_bytes = 4096;  // longer commit metadata: OFFSET_METADATA_TOO_LARGE
  Duration group_min_session_timeout_ms = milliseconds(6000);
  Duration group_max_session_timeout_ms = milliseconds(1800000);

  int32_t fetch_max_bytes = 57671680;  // fetch.max.bytes: the broker's cap on one fetch response

  // The KRaft quorum (node/controller/README.md). No voters: a single node that is its own
  // controller and keeps the metadata in one local file (LocalController), as before the quorum.
  // With voters, each node is a broker, a controller, or both (process.roles), the controllers
  // listen on their own voter entry's address, and the metadata lives in a Raft log.
  std::vector<QuorumVoter> quorum_voters;  // controller.quorum.voters
  bool role_broker = true;                 // process.roles contains "broker"
  bool role_controller = true;             // process.roles contains "controller"
  std::string metadata_log_dir;            // metadata.log.dir; empty: "<log dir>/metadata"
  Duration quorum_election_timeout_ms =
      milliseconds(1000);                                   // controller.quorum.election.timeout.ms
  Duration broker_session_timeout_ms = milliseconds(9000);  // broker.session.timeout.ms
  Duration broker_heartbeat_interval_ms = milliseconds(2000);  // broker.heartbeat.interval.ms
  bool unclean_leader_election_enable = false;                 // unclean.leader.election.enable
  // Legacy switches (config keys legacy.*, docs/legacy-switches.md): true restores a historic
  // behaviour to show the bug its fix removed. KIP-996: without pre-vote a node that comes back
  // from a partition bumps the epoch and deposes a healthy leader; without check-quorum a leader
  // cut off from the majority keeps believing it leads (KAFKA-15489).
  bool legacy_disable_pre_vote = false;      // legacy.quorum.pre.vote.disable
  bool legacy_disable_check_quorum = false;  // legacy.quorum.check.quorum.disable
  // KIP-903 off: AlterPartition no longer checks ISR members' broker epochs.
  bool legacy_disable_broker_epoch_fencing = false;  // legacy.broker.epoch.fencing.disable
  // KIP-966 off: no eligible leader replicas; the last ISR member stands (last replica standing).
  bool legacy_disable_eligible_leader_replicas = false;  // legacy.eligible.leader.replicas.disable

  // replica.* keys and the legacy.replication.* switches (replication_config.h).
  ReplicationConfig replication;

  // Not a config key (Kafka's trigger is metadata.log.max.record.bytes.between.snapshots): a
  // node snapshots its metadata image once this many entries followed the last snapshot. Tests
  // lower it to exercise snapshots and their installation.
  int64_t metadata_snapshot_every_entries = 1000;

  bool kraft() const { return !quorum_voters.empty(); }
  bool is_voter() const;
  std::string effective_metadata_dir() const {
    return metadata_log_dir.empty() ? log_dir + "/metadata" : metadata_log_dir;
  }

  // Simulation only (not a config key): planted and legacy bugs, all off.
  BugSwitches bugs;

  // The log.* defaults as the LogConfig of a topic without overrides.
  log::LogConfig default_log_config() const;

  // Every key with its effective value as Kafka spells it, sorted by key (DescribeConfigs).
  // Durations are whole units of the key (the hours and minutes forms of a key set in ms are
  // rounded down; the ms form is exact); "never" and "forever" are Kafka's Long.MAX_VALUE and -1.
  std::vector<std::pair<std::string, std::string>> describe() const;
};

// Parses and checks a broker config file's text; source_name is used in error messages only.
// Never throws. Text over kConfigTextBytesMax is refused.
Result<BrokerConfig> parse_broker_config(std::string_view toml_text, std::string_view source_name);

// Every key parse_broker_config accepts (and describe() reports), sorted.
std::vector<std::string_view> broker_config_keys();

// Kafka's spellings of config values, shared by broker and topic configs. Errors are
// Errc::invalid_argument without a key or location; callers add them.

// A decimal integer in [min, max]: surrounding whitespace is ignored (Kafka trims); a sign other
// than '-', junk after the digits, and an empty string are errors.
Result<int64_t> parse_config_int(std::string_view text, int64_t min, int64_t max);

struct CleanupPolicy {
  bool cleanup_delete = true;
  bool cleanup_compact = false;
};
// "delete", "compact" or both, comma-separated in either order (spaces around items allowed).
Result<CleanupPolicy> parse_cleanup_policy(std::string_view text);
std::string cleanup_policy_string(bool cleanup_delete, bool cleanup_compact);  // "compact,delete"

// "CreateTime" or "LogAppendTime" (exact case, as Kafka).
Result<log::TimestampType> parse_timestamp_type(std::string_view text);
std::string_view timestamp_type_string(log::TimestampType type);

// Milliseconds as a Duration, saturating at Duration::max() (Kafka's Long.MAX_VALUE ms does not
// fit in nanoseconds); and back, with Duration::max() as Long.MAX_VALUE.
Duration ms_to_duration(int64_t ms);
int64_t duration_to_ms(Duration d);

}  // namespace gregor::broker
