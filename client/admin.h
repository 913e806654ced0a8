// Admin: topic administration over the Kafka protocol, like Kafka's Admin client: create, delete,
// list and describe topics, and describe configs.
//
// Requests that change the cluster go to the controller named by the metadata (any broker before
// it is known). Per-topic outcomes are values (TopicResult.error); the Result of a call fails
// only when no answer came (connection, timeout, a malformed response). Calls retry nothing:
// the caller sees NOT_CONTROLLER and friends and decides.
//
// Callbacks run later from the event loop, never inside the call that registered them, and never
// after close() or destruction.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "client/client_types.h"
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

  void close();
  MetadataClient& metadata() { return metadata_; }

 private:
  // A ready connection to the controller (refreshing the metadata first if it is unknown).
  void controller(MetadataClient::ConnectionFn done);

  Env& env_;
  AdminConfig config_;
  MetadataClient metadata_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::client
