// Admin: cluster administration over the Kafka protocol, like Kafka's Admin client: create,
// delete, list and describe topics, describe configs, and list and describe consumer groups and
// their committed offsets.
//
// Requests that change the cluster go to the controller named by the metadata (any broker before
// it is known); group requests go to the group's coordinator (FindCoordinator first). Per-topic
// and per-group outcomes are values (TopicResult.error, GroupDescription.error); the Result of a
// call fails only when no answer came (connection, timeout, a malformed response). Calls retry
// nothing: the caller sees NOT_CONTROLLER, COORDINATOR_LOAD_IN_PROGRESS and friends and decides.
//
// Callbacks run later from the event loop, never inside the call that registered them, and never
// after close() or destruction.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/bytes.h"
#include "base/env.h"
#include "client/metadata.h"

namespace gregor::client {

struct AdminConfig : CommonConfig {
  AdminConfig() {
    client_id = "gregor-admin";
    allow_auto_create_topics = false;
  }
  Duration operation_timeout_ms = milliseconds(60000);  // CreateTopics / DeleteTopics timeout_ms
};

Status validate(const AdminConfig& config);

struct NewTopic {
  std::string name;
  int32_t num_partitions = -1;      // -1: the broker's num.partitions
  int16_t replication_factor = -1;  // -1: the broker's default.replication.factor
  std::map<std::string, std::string> configs;
};

struct TopicResult {
  std::string name;
  kafka::ErrorCode error = kafka::ErrorCode::none;
  std::string message;  // the broker's message, or the error's name
  bool ok() const { return error == kafka::ErrorCode::none; }
};

enum class ConfigResourceType : int8_t { topic = 2, broker = 4 };

struct ConfigResource {
  ConfigResourceType type = ConfigResourceType::topic;
  std::string name;  // topic name, or broker id ("" for the broker answering)
};

struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;
  bool read_only = false;
  bool is_default = false;
  int8_t source = -1;  // Kafka's ConfigSource (v1+), -1 unknown
  bool is_sensitive = false;
};

struct ConfigResult {
  ConfigResource resource;
  kafka::ErrorCode error = kafka::ErrorCode::none;
  std::string message;
  std::vector<ConfigEntry> entries;  // in the broker's order
};

// One group of ListGroups.
struct ListedGroup {
  std::string group_id;
  std::string protocol_type;  // "consumer" for consumer groups, "" for offsets-only groups
  int32_t coordinator = -1;   // the broker that listed it
  auto operator<=>(const ListedGroup&) const = default;
};

struct GroupMember {
  std::string member_id;
  std::string client_id;
  std::string client_host;
  Bytes metadata;    // the protocol's member metadata (a consumer's subscription)
  Bytes assignment;  // the protocol's assignment (kafka::decode_assignment for consumers)
};

// DescribeGroups of one group, as its coordinator answered. An unknown group comes back with
// error NONE and state "Dead" (Kafka's answer). Members' metadata and assignments are empty
// unless the group is Stable.
struct GroupDescription {
  std::string group_id;
  kafka::ErrorCode error = kafka::ErrorCode::none;  // FindCoordinator's or DescribeGroups'
  std::string message;                              // the error's name, or the broker's message
  int32_t coordinator = -1;                         // node id, -1 when not found
  std::string state;  // "Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead"
  std::string protocol_type;  // "consumer", ...
  std::string protocol;       // the elected protocol: the assignor, "range", ...
  std::vector<GroupMember> members;
  bool ok() const { return error == kafka::ErrorCode::none; }
};

struct CommittedOffset {
  int64_t offset = -1;
  int32_t leader_epoch = -1;
  std::optional<std::string> metadata;
  kafka::ErrorCode error = kafka::ErrorCode::none;
};

// Every committed offset of a group (OffsetFetch with null topics).
struct GroupOffsets {
  std::string group_id;
  kafka::ErrorCode error = kafka::ErrorCode::none;  // FindCoordinator's or OffsetFetch's
  std::string message;
  int32_t coordinator = -1;
  std::map<TopicPartition, CommittedOffset> offsets;
  bool ok() const { return error == kafka::ErrorCode::none; }
};

class Admin {
 public:
  template <typename T>
  using Done = std::function<void(Result<T>)>;

  // The config must pass validate() (asserted).
  Admin(Env& env, AdminConfig config);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  void create_topics(std::vector<NewTopic> topics, bool validate_only,
                     Done<std::vector<TopicResult>> done);
  void delete_topics(std::vector<std::string> names, Done<std::vector<TopicResult>> done);
  // Every topic (internal ones too) with partitions, leaders, replicas and ISR.
  void list_topics(Done<ClusterMetadata> done);
  // The given topics; an unknown one comes back with UNKNOWN_TOPIC_OR_PARTITION in its entry.
  void describe_topics(std::vector<std::string> names, Done<ClusterMetadata> done);
  // keys empty: every config of the resource.
  void describe_configs(std::vector<ConfigResource> resources, std::vector<std::string> keys,
                        Done<std::vector<ConfigResult>> done);

  // ListGroups to every broker of the metadata, merged and sorted by group id. Fails when any
  // broker gave no answer or an error (naming it): a partial list would look complete.
  void list_groups(Done<std::vector<ListedGroup>> done);
  // FindCoordinator for each group, then DescribeGroups to each coordinator; one description per
  // name, in the order given (duplicates answered once each).
  void describe_groups(std::vector<std::string> groups, Done<std::vector<GroupDescription>> done);
  // Every committed offset of the group (OffsetFetch v2+ with null topics, to its coordinator).
  // An unknown group has none. Errc::invalid_argument when the broker serves only OffsetFetch v1.
  void list_group_offsets(std::string group, Done<GroupOffsets> done);

  void close();
  MetadataClient& metadata() { return metadata_; }

 private:
  struct Coordinator {
    kafka::ErrorCode error = kafka::ErrorCode::none;
    std::string message;
    int32_t node_id = -1;
  };
  using CoordinatorFn = std::function<void(Result<Coordinator>)>;

  // A ready connection to the controller (refreshing the metadata first if it is unknown).
  void controller(MetadataClient::ConnectionFn done);
  // FindCoordinator for a group, asked of any broker. An error answer is a value.
  void find_coordinator(const std::string& group, CoordinatorFn done);
  // A ready connection to broker `node_id`, refreshing the metadata first if its address is not
  // known (a coordinator named by FindCoordinator before any Metadata answer).
  void connection_to_node(int32_t node_id, MetadataClient::ConnectionFn done);
  void describe_at(int32_t node_id, std::vector<std::string> groups,
                   std::function<void(Result<std::vector<GroupDescription>>)> done);

  Env& env_;
  AdminConfig config_;
  MetadataClient metadata_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::client
