// ApiVersions and the admin APIs: CreateTopics, DeleteTopics, InitProducerId, DescribeConfigs.
// Described for versions 0..max_version after Kafka's JSON schemas, as in messages_data.h.
#pragma once

#include "node/kafka/protocol.h"

namespace gregor::kafka {

struct ApiVersionsRequest {
  std::string client_software_name;
  std::string client_software_version;

  static constexpr std::string_view message_name = "ApiVersionsRequest";
  static constexpr ApiKey api_key = ApiKey::ApiVersions;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 3;
  static constexpr auto fields = std::tuple{
      field("client_software_name", &ApiVersionsRequest::client_software_name, "3+"),
      field("client_software_version", &ApiVersionsRequest::client_software_version, "3+"),
  };
  bool operator==(const ApiVersionsRequest&) const = default;
};

// Always sent with response header v0, whatever its version (clients must read it before they
// know which versions the broker speaks).
struct ApiVersionsResponse {
  struct ApiVersion {
    int16_t api_key = 0;
    int16_t min_version = 0;
    int16_t max_version = 0;
    static constexpr auto fields = std::tuple{
        field("api_key", &ApiVersion::api_key, "0+"),
        field("min_version", &ApiVersion::min_version, "0+"),
        field("max_version", &ApiVersion::max_version, "0+"),
    };
    bool operator==(const ApiVersion&) const = default;
  };
  struct SupportedFeatureKey {
    std::string name;
    int16_t min_version = 0;
    int16_t max_version = 0;
    static constexpr auto fields = std::tuple{
        field("name", &SupportedFeatureKey::name, "3+"),
        field("min_version", &SupportedFeatureKey::min_version, "3+"),
        field("max_version", &SupportedFeatureKey::max_version, "3+"),
    };
    bool operator==(const SupportedFeatureKey&) const = default;
  };
  struct FinalizedFeatureKey {
    std::string name;
    int16_t max_version_level = 0;
    int16_t min_version_level = 0;
    static constexpr auto fields = std::tuple{
        field("name", &FinalizedFeatureKey::name, "3+"),
        field("max_version_level", &FinalizedFeatureKey::max_version_level, "3+"),
        field("min_version_level", &FinalizedFeatureKey::min_version_level, "3+"),
    };
    bool operator==(const FinalizedFeatureKey&) const = default;
  };

  int16_t error_code = 0;
  std::vector<ApiVersion> api_keys;
  int32_t throttle_time_ms = 0;
  std::vector<SupportedFeatureKey> supported_features;
  int64_t finalized_features_epoch = -1;
  std::vector<FinalizedFeatureKey> finalized_features;
  bool zk_migration_ready = false;

  static constexpr std::string_view message_name = "ApiVersionsResponse";
  static constexpr ApiKey api_key = ApiKey::ApiVersions;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 3;
  static constexpr auto fields = std::tuple{
      field("error_code", &ApiVersionsResponse::error_code, "0+"),
      field("api_keys", &ApiVersionsResponse::api_keys, "0+"),
      field("throttle_time_ms", &ApiVersionsResponse::throttle_time_ms, "1+"),
      field("supported_features", &ApiVersionsResponse::supported_features, "3+", tagged(0)),
      field("finalized_features_epoch", &ApiVersionsResponse::finalized_features_epoch, "3+",
            tagged(1)),
      field("finalized_features", &ApiVersionsResponse::finalized_features, "3+", tagged(2)),
      field("zk_migration_ready", &ApiVersionsResponse::zk_migration_ready, "3+", tagged(3)),
  };
  bool operator==(const ApiVersionsResponse&) const = default;
};

struct CreateTopicsRequest {
  struct CreatableReplicaAssignment {
    int32_t partition_index = 0;
    std::vector<int32_t> broker_ids;
    static constexpr auto fields = std::tuple{
        field("partition_index", &CreatableReplicaAssignment::partition_index, "0+"),
        field("broker_ids", &CreatableReplicaAssignment::broker_ids, "0+"),
    };
    bool operator==(const CreatableReplicaAssignment&) const = default;
  };
  struct CreatableTopicConfig {
    std::string name;
    std::optional<std::string> value = "";
    static constexpr auto fields = std::tuple{
        field("name", &CreatableTopicConfig::name, "0+"),
        field("value", &CreatableTopicConfig::value, "0+", nullable("0+")),
    };
    bool operator==(const CreatableTopicConfig&) const = default;
  };
  struct CreatableTopic {
    std::string name;
    int32_t num_partitions = 0;      // -1: the broker default (with explicit assignments, -1)
    int16_t replication_factor = 0;  // -1: the broker default
    std::vector<CreatableReplicaAssignment> assignments;
    std::vector<CreatableTopicConfig> configs;
    static constexpr auto fields = std::tuple{
        field("name", &CreatableTopic::name, "0+"),
        field("num_partitions", &CreatableTopic::num_partitions, "0+"),
        field("replication_factor", &CreatableTopic::replication_factor, "0+"),
        field("assignments", &CreatableTopic::assignments, "0+"),
        field("configs", &CreatableTopic::configs, "0+"),
    };
    bool operator==(const CreatableTopic&) const = default;
  };

  std::vector<CreatableTopic> topics;
  int32_t timeout_ms = 60000;
  bool validate_only = false;

  static constexpr std::string_view message_name = "CreateTopicsRequest";
  static constexpr ApiKey api_key = ApiKey::CreateTopics;
  static constexpr int16_t max_version = 4;
  static constexpr int16_t flexible_min = 5;
  static constexpr auto fields = std::tuple{
      field("topics", &CreateTopicsRequest::topics, "0+"),
      field("timeout_ms", &CreateTopicsRequest::timeout_ms, "0+"),
      field("validate_only", &CreateTopicsRequest::validate_only, "1+"),
  };
  bool operator==(const CreateTopicsRequest&) const = default;
};

struct CreateTopicsResponse {
  struct CreatableTopicResult {
    std::string name;
    int16_t error_code = 0;
    std::optional<std::string> error_message = "";
    static constexpr auto fields = std::tuple{
        field("name", &CreatableTopicResult::name, "0+"),
        field("error_code", &CreatableTopicResult::error_code, "0+"),
        field("error_message", &CreatableTopicResult::error_message, "1+", nullable("0+")),
    };
    bool operator==(const CreatableTopicResult&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<CreatableTopicResult> topics;

  static constexpr std::string_view message_name = "CreateTopicsResponse";
  static constexpr ApiKey api_key = ApiKey::CreateTopics;
  static constexpr int16_t max_version = 4;
  static constexpr int16_t flexible_min = 5;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &CreateTopicsResponse::throttle_time_ms, "2+"),
      field("topics", &CreateTopicsResponse::topics, "0+"),
  };
  bool operator==(const CreateTopicsResponse&) const = default;
};

struct DeleteTopicsRequest {
  std::vector<std::string> topic_names;
  int32_t timeout_ms = 0;

  static constexpr std::string_view message_name = "DeleteTopicsRequest";
  static constexpr ApiKey api_key = ApiKey::DeleteTopics;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("topic_names", &DeleteTopicsRequest::topic_names, "0-5"),
      field("timeout_ms", &DeleteTopicsRequest::timeout_ms, "0+"),
  };
  bool operator==(const DeleteTopicsRequest&) const = default;
};

struct DeleteTopicsResponse {
  struct DeletableTopicResult {
    std::string name;  // nullable from v6
    int16_t error_code = 0;
    static constexpr auto fields = std::tuple{
        field("name", &DeletableTopicResult::name, "0+"),
        field("error_code", &DeletableTopicResult::error_code, "0+"),
    };
    bool operator==(const DeletableTopicResult&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DeletableTopicResult> responses;

  static constexpr std::string_view message_name = "DeleteTopicsResponse";
  static constexpr ApiKey api_key = ApiKey::DeleteTopics;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &DeleteTopicsResponse::throttle_time_ms, "1+"),
      field("responses", &DeleteTopicsResponse::responses, "0+"),
  };
  bool operator==(const DeleteTopicsResponse&) const = default;
};

struct InitProducerIdRequest {
  std::optional<std::string> transactional_id = "";  // null for an idempotent producer
  int32_t transaction_timeout_ms = 0;

  static constexpr std::string_view message_name = "InitProducerIdRequest";
  static constexpr ApiKey api_key = ApiKey::InitProducerId;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 2;
  static constexpr auto fields = std::tuple{
      field("transactional_id", &InitProducerIdRequest::transactional_id, "0+", nullable("0+")),
      field("transaction_timeout_ms", &InitProducerIdRequest::transaction_timeout_ms, "0+"),
  };
  bool operator==(const InitProducerIdRequest&) const = default;
};

struct InitProducerIdResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int64_t producer_id = -1;
  int16_t producer_epoch = 0;

  static constexpr std::string_view message_name = "InitProducerIdResponse";
  static constexpr ApiKey api_key = ApiKey::InitProducerId;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 2;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &InitProducerIdResponse::throttle_time_ms, "0+"),
      field("error_code", &InitProducerIdResponse::error_code, "0+"),
      field("producer_id", &InitProducerIdResponse::producer_id, "0+"),
      field("producer_epoch", &InitProducerIdResponse::producer_epoch, "0+"),
  };
  bool operator==(const InitProducerIdResponse&) const = default;
};

struct DescribeConfigsRequest {
  struct DescribeConfigsResource {
    int8_t resource_type = 0;  // 2 topic, 4 broker
    std::string resource_name;
    // Null asks for every config of the resource.
    std::optional<std::vector<std::string>> configuration_keys = std::vector<std::string>{};
    static constexpr auto fields = std::tuple{
        field("resource_type", &DescribeConfigsResource::resource_type, "0+"),
        field("resource_name", &DescribeConfigsResource::resource_name, "0+"),
        field("configuration_keys", &DescribeConfigsResource::configuration_keys, "0+",
              nullable("0+")),
    };
    bool operator==(const DescribeConfigsResource&) const = default;
  };

  std::vector<DescribeConfigsResource> resources;
  bool include_synonyms = false;

  static constexpr std::string_view message_name = "DescribeConfigsRequest";
  static constexpr ApiKey api_key = ApiKey::DescribeConfigs;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("resources", &DescribeConfigsRequest::resources, "0+"),
      field("include_synonyms", &DescribeConfigsRequest::include_synonyms, "1+"),
  };
  bool operator==(const DescribeConfigsRequest&) const = default;
};

struct DescribeConfigsResponse {
  struct DescribeConfigsSynonym {
    std::string name;
    std::optional<std::string> value = "";
    int8_t source = 0;
    static constexpr auto fields = std::tuple{
        field("name", &DescribeConfigsSynonym::name, "1+"),
        field("value", &DescribeConfigsSynonym::value, "1+", nullable("0+")),
        field("source", &DescribeConfigsSynonym::source, "1+"),
    };
    bool operator==(const DescribeConfigsSynonym&) const = default;
  };
  struct DescribeConfigsResourceResult {
    std::string name;
    std::optional<std::string> value = "";
    bool read_only = false;
    bool is_default = false;
    int8_t config_source = -1;
    bool is_sensitive = false;
    std::vector<DescribeConfigsSynonym> synonyms;
    static constexpr auto fields = std::tuple{
        field("name", &DescribeConfigsResourceResult::name, "0+"),
        field("value", &DescribeConfigsResourceResult::value, "0+", nullable("0+")),
        field("read_only", &DescribeConfigsResourceResult::read_only, "0+"),
        field("is_default", &DescribeConfigsResourceResult::is_default, "0"),
        field("config_source", &DescribeConfigsResourceResult::config_source, "1+"),
        field("is_sensitive", &DescribeConfigsResourceResult::is_sensitive, "0+"),
        field("synonyms", &DescribeConfigsResourceResult::synonyms, "1+"),
    };
    bool operator==(const DescribeConfigsResourceResult&) const = default;
  };
  struct DescribeConfigsResult {
    int16_t error_code = 0;
    std::optional<std::string> error_message = "";
    int8_t resource_type = 0;
    std::string resource_name;
    std::vector<DescribeConfigsResourceResult> configs;
    static constexpr auto fields = std::tuple{
        field("error_code", &DescribeConfigsResult::error_code, "0+"),
        field("error_message", &DescribeConfigsResult::error_message, "0+", nullable("0+")),
        field("resource_type", &DescribeConfigsResult::resource_type, "0+"),
        field("resource_name", &DescribeConfigsResult::resource_name, "0+"),
        field("configs", &DescribeConfigsResult::configs, "0+"),
    };
    bool operator==(const DescribeConfigsResult&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DescribeConfigsResult> results;

  static constexpr std::string_view message_name = "DescribeConfigsResponse";
  static constexpr ApiKey api_key = ApiKey::DescribeConfigs;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &DescribeConfigsResponse::throttle_time_ms, "0+"),
      field("results", &DescribeConfigsResponse::results, "0+"),
  };
  bool operator==(const DescribeConfigsResponse&) const = default;
};

GREGOR_KAFKA_DECLARE_CODEC(ApiVersionsRequest);
GREGOR_KAFKA_DECLARE_CODEC(ApiVersionsResponse);
GREGOR_KAFKA_DECLARE_CODEC(CreateTopicsRequest);
GREGOR_KAFKA_DECLARE_CODEC(CreateTopicsResponse);
GREGOR_KAFKA_DECLARE_CODEC(DeleteTopicsRequest);
GREGOR_KAFKA_DECLARE_CODEC(DeleteTopicsResponse);
GREGOR_KAFKA_DECLARE_CODEC(InitProducerIdRequest);
GREGOR_KAFKA_DECLARE_CODEC(InitProducerIdResponse);
GREGOR_KAFKA_DECLARE_CODEC(DescribeConfigsRequest);
GREGOR_KAFKA_DECLARE_CODEC(DescribeConfigsResponse);

}  // namespace gregor::kafka
