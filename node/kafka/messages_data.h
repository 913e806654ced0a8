// Produce, Fetch, ListOffsets and Metadata: requests and responses, described for versions
// 0..max_version (see protocol.h for the table syntax). Field names, types, version ranges and
// defaults follow Kafka's JSON schemas (clients/src/main/resources/common/message/); fields that
// only exist after max_version are left out until we serve those versions.
#pragma once

#include "node/kafka/protocol.h"

namespace gregor::kafka {

struct ProduceRequest {
  struct PartitionProduceData {
    int32_t index = 0;
    std::optional<Bytes> records;  // a record set: concatenated record batches
    static constexpr auto fields = std::tuple{
        field("index", &PartitionProduceData::index, "0+"),
        field("records", &PartitionProduceData::records, "0+", nullable("0+")),
    };
    bool operator==(const PartitionProduceData&) const = default;
  };
  struct TopicProduceData {
    std::string name;
    std::vector<PartitionProduceData> partition_data;
    static constexpr auto fields = std::tuple{
        field("name", &TopicProduceData::name, "0+"),
        field("partition_data", &TopicProduceData::partition_data, "0+"),
    };
    bool operator==(const TopicProduceData&) const = default;
  };

  std::optional<std::string> transactional_id;
  int16_t acks = 0;
  int32_t timeout_ms = 0;
  std::vector<TopicProduceData> topic_data;

  static constexpr std::string_view message_name = "ProduceRequest";
  static constexpr ApiKey api_key = ApiKey::Produce;
  static constexpr int16_t max_version = 7;
  static constexpr int16_t flexible_min = 9;
  static constexpr auto fields = std::tuple{
      field("transactional_id", &ProduceRequest::transactional_id, "3+", nullable("3+")),
      field("acks", &ProduceRequest::acks, "0+"),
      field("timeout_ms", &ProduceRequest::timeout_ms, "0+"),
      field("topic_data", &ProduceRequest::topic_data, "0+"),
  };
  bool operator==(const ProduceRequest&) const = default;
};

struct ProduceResponse {
  struct PartitionProduceResponse {
    int32_t index = 0;
    int16_t error_code = 0;
    int64_t base_offset = 0;
    int64_t log_append_time_ms = -1;
    int64_t log_start_offset = -1;
    static constexpr auto fields = std::tuple{
        field("index", &PartitionProduceResponse::index, "0+"),
        field("error_code", &PartitionProduceResponse::error_code, "0+"),
        field("base_offset", &PartitionProduceResponse::base_offset, "0+"),
        field("log_append_time_ms", &PartitionProduceResponse::log_append_time_ms, "2+"),
        field("log_start_offset", &PartitionProduceResponse::log_start_offset, "5+"),
    };
    bool operator==(const PartitionProduceResponse&) const = default;
  };
  struct TopicProduceResponse {
    std::string name;
    std::vector<PartitionProduceResponse> partition_responses;
    static constexpr auto fields = std::tuple{
        field("name", &TopicProduceResponse::name, "0+"),
        field("partition_responses", &TopicProduceResponse::partition_responses, "0+"),
    };
    bool operator==(const TopicProduceResponse&) const = default;
  };

  std::vector<TopicProduceResponse> responses;
  int32_t throttle_time_ms = 0;

  static constexpr std::string_view message_name = "ProduceResponse";
  static constexpr ApiKey api_key = ApiKey::Produce;
  static constexpr int16_t max_version = 7;
  static constexpr int16_t flexible_min = 9;
  static constexpr auto fields = std::tuple{
      field("responses", &ProduceResponse::responses, "0+"),
      field("throttle_time_ms", &ProduceResponse::throttle_time_ms, "1+"),
  };
  bool operator==(const ProduceResponse&) const = default;
};

struct FetchRequest {
  struct FetchPartition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;
    int64_t fetch_offset = 0;
    int64_t log_start_offset = -1;
    int32_t partition_max_bytes = 0;
    // Members added with v12+ come last (aggregate initialisers elsewhere are positional); the
    // table below gives the wire order.
    int32_t last_fetched_epoch = -1;
    static constexpr auto fields = std::tuple{
        field("partition", &FetchPartition::partition, "0+"),
        field("current_leader_epoch", &FetchPartition::current_leader_epoch, "9+"),
        field("fetch_offset", &FetchPartition::fetch_offset, "0+"),
        field("last_fetched_epoch", &FetchPartition::last_fetched_epoch, "12+"),
        field("log_start_offset", &FetchPartition::log_start_offset, "5+"),
        field("partition_max_bytes", &FetchPartition::partition_max_bytes, "0+"),
    };
    bool operator==(const FetchPartition&) const = default;
  };
  struct FetchTopic {
    std::string topic;  // v0-12; v13+ names the topic by topic_id
    std::vector<FetchPartition> partitions;
    Uuid topic_id;
    static constexpr auto fields = std::tuple{
        field("topic", &FetchTopic::topic, "0-12"),
        field("topic_id", &FetchTopic::topic_id, "13+"),
        field("partitions", &FetchTopic::partitions, "0+"),
    };
    bool operator==(const FetchTopic&) const = default;
  };
  struct ForgottenTopic {
    std::string topic;
    std::vector<int32_t> partitions;
    Uuid topic_id;
    static constexpr auto fields = std::tuple{
        field("topic", &ForgottenTopic::topic, "7-12"),
        field("topic_id", &ForgottenTopic::topic_id, "13+"),
        field("partitions", &ForgottenTopic::partitions, "7+"),
    };
    bool operator==(const ForgottenTopic&) const = default;
  };
  // The fetching follower (KIP-903), replacing replica_id from v15; {-1, -1} from a consumer.
  struct ReplicaState {
    int32_t replica_id = -1;
    int64_t replica_epoch = -1;  // the follower's broker epoch, -1 if unknown
    static constexpr auto fields = std::tuple{
        field("replica_id", &ReplicaState::replica_id, "15+"),
        field("replica_epoch", &ReplicaState::replica_epoch, "15+"),
    };
    bool operator==(const ReplicaState&) const = default;
  };

  int32_t replica_id = -1;  // v0-14; v15+ sends replica_state instead
  int32_t max_wait_ms = 0;
  int32_t min_bytes = 0;
  int32_t max_bytes = 0x7fffffff;
  int8_t isolation_level = 0;
  int32_t session_id = 0;
  int32_t session_epoch = -1;
  std::vector<FetchTopic> topics;
  std::vector<ForgottenTopic> forgotten_topics_data;
  std::string rack_id;
  std::optional<std::string> cluster_id;  // tagged 0 (v12+), default null
  // Members added with v15+ come last (positional initialisers elsewhere); the table gives the
  // wire order.
  ReplicaState replica_state;  // tagged 1 (v15+); not written when {-1, -1}

  static constexpr std::string_view message_name = "FetchRequest";
  static constexpr ApiKey api_key = ApiKey::Fetch;
  // The table knows v0-15: v12-13 for the controller quorum's KRaft Fetch (raft_wire.h), v12-15
  // for brokers' replica fetch (kInterBrokerVersions in api.h; v14 is v13 again). The broker
  // advertises only what kApis says.
  static constexpr int16_t max_version = 15;
  static constexpr int16_t flexible_min = 12;
  static constexpr auto fields = std::tuple{
      field("cluster_id", &FetchRequest::cluster_id, "12+", nullable("12+"), tagged(0)),
      field("replica_id", &FetchRequest::replica_id, "0-14"),
      field("replica_state", &FetchRequest::replica_state, "15+", tagged(1)),
      field("max_wait_ms", &FetchRequest::max_wait_ms, "0+"),
      field("min_bytes", &FetchRequest::min_bytes, "0+"),
      field("max_bytes", &FetchRequest::max_bytes, "3+"),
      field("isolation_level", &FetchRequest::isolation_level, "4+"),
      field("session_id", &FetchRequest::session_id, "7+"),
      field("session_epoch", &FetchRequest::session_epoch, "7+"),
      field("topics", &FetchRequest::topics, "0+"),
      field("forgotten_topics_data", &FetchRequest::forgotten_topics_data, "7+"),
      field("rack_id", &FetchRequest::rack_id, "11+"),
  };
  bool operator==(const FetchRequest&) const = default;
};

struct FetchResponse {
  struct AbortedTransaction {
    int64_t producer_id = 0;
    int64_t first_offset = 0;
    static constexpr auto fields = std::tuple{
        field("producer_id", &AbortedTransaction::producer_id, "4+"),
        field("first_offset", &AbortedTransaction::first_offset, "4+"),
    };
    bool operator==(const AbortedTransaction&) const = default;
  };
  struct EpochEndOffset {
    int32_t epoch = -1;
    int64_t end_offset = -1;
    static constexpr auto fields = std::tuple{
        field("epoch", &EpochEndOffset::epoch, "12+"),
        field("end_offset", &EpochEndOffset::end_offset, "12+"),
    };
    bool operator==(const EpochEndOffset&) const = default;
  };
  struct LeaderIdAndEpoch {
    int32_t leader_id = -1;
    int32_t leader_epoch = -1;
    static constexpr auto fields = std::tuple{
        field("leader_id", &LeaderIdAndEpoch::leader_id, "12+"),
        field("leader_epoch", &LeaderIdAndEpoch::leader_epoch, "12+"),
    };
    bool operator==(const LeaderIdAndEpoch&) const = default;
  };
  struct SnapshotId {
    int64_t end_offset = -1;
    int32_t epoch = -1;
    static constexpr auto fields = std::tuple{
        field("end_offset", &SnapshotId::end_offset, "0+"),
        field("epoch", &SnapshotId::epoch, "0+"),
    };
    bool operator==(const SnapshotId&) const = default;
  };
  struct PartitionData {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int64_t high_watermark = 0;
    int64_t last_stable_offset = -1;
    int64_t log_start_offset = -1;
    std::optional<std::vector<AbortedTransaction>> aborted_transactions =
        std::vector<AbortedTransaction>{};
    int32_t preferred_read_replica = -1;
    std::optional<Bytes> records;
    // v12+ members come last (positional initialisers elsewhere); the table gives the wire order.
    EpochEndOffset diverging_epoch;   // tagged 0 (v12+); not written when {-1, -1}
    LeaderIdAndEpoch current_leader;  // tagged 1 (v12+); not written when {-1, -1}
    SnapshotId snapshot_id;           // tagged 2 (v12+); not written when {-1, -1}
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
        field("error_code", &PartitionData::error_code, "0+"),
        field("high_watermark", &PartitionData::high_watermark, "0+"),
        field("last_stable_offset", &PartitionData::last_stable_offset, "4+"),
        field("log_start_offset", &PartitionData::log_start_offset, "5+"),
        field("diverging_epoch", &PartitionData::diverging_epoch, "12+", tagged(0)),
        field("current_leader", &PartitionData::current_leader, "12+", tagged(1)),
        field("snapshot_id", &PartitionData::snapshot_id, "12+", tagged(2)),
        field("aborted_transactions", &PartitionData::aborted_transactions, "4+", nullable("4+")),
        field("preferred_read_replica", &PartitionData::preferred_read_replica, "11+"),
        field("records", &PartitionData::records, "0+", nullable("0+")),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct FetchableTopicResponse {
    std::string topic;  // v0-12; v13+ names the topic by topic_id
    std::vector<PartitionData> partitions;
    Uuid topic_id;
    static constexpr auto fields = std::tuple{
        field("topic", &FetchableTopicResponse::topic, "0-12"),
        field("topic_id", &FetchableTopicResponse::topic_id, "13+"),
        field("partitions", &FetchableTopicResponse::partitions, "0+"),
    };
    bool operator==(const FetchableTopicResponse&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int32_t session_id = 0;
  std::vector<FetchableTopicResponse> responses;

  static constexpr std::string_view message_name = "FetchResponse";
  static constexpr ApiKey api_key = ApiKey::Fetch;
  // v14 and v15 are v13 again (v16 adds node_endpoints). Served: kApis and kInterBrokerVersions.
  static constexpr int16_t max_version = 15;
  static constexpr int16_t flexible_min = 12;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &FetchResponse::throttle_time_ms, "1+"),
      field("error_code", &FetchResponse::error_code, "7+"),
      field("session_id", &FetchResponse::session_id, "7+"),
      field("responses", &FetchResponse::responses, "0+"),
  };
  bool operator==(const FetchResponse&) const = default;
};

struct ListOffsetsRequest {
  struct ListOffsetsPartition {
    int32_t partition_index = 0;
    int64_t timestamp = 0;
    int32_t max_num_offsets = 1;
    static constexpr auto fields = std::tuple{
        field("partition_index", &ListOffsetsPartition::partition_index, "0+"),
        field("timestamp", &ListOffsetsPartition::timestamp, "0+"),
        field("max_num_offsets", &ListOffsetsPartition::max_num_offsets, "0"),
    };
    bool operator==(const ListOffsetsPartition&) const = default;
  };
  struct ListOffsetsTopic {
    std::string name;
    std::vector<ListOffsetsPartition> partitions;
    static constexpr auto fields = std::tuple{
        field("name", &ListOffsetsTopic::name, "0+"),
        field("partitions", &ListOffsetsTopic::partitions, "0+"),
    };
    bool operator==(const ListOffsetsTopic&) const = default;
  };

  int32_t replica_id = 0;
  int8_t isolation_level = 0;
  std::vector<ListOffsetsTopic> topics;

  static constexpr std::string_view message_name = "ListOffsetsRequest";
  static constexpr ApiKey api_key = ApiKey::ListOffsets;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 6;
  static constexpr auto fields = std::tuple{
      field("replica_id", &ListOffsetsRequest::replica_id, "0+"),
      field("isolation_level", &ListOffsetsRequest::isolation_level, "2+"),
      field("topics", &ListOffsetsRequest::topics, "0+"),
  };
  bool operator==(const ListOffsetsRequest&) const = default;
};

struct ListOffsetsResponse {
  struct ListOffsetsPartitionResponse {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    std::vector<int64_t> old_style_offsets;
    int64_t timestamp = -1;
    int64_t offset = -1;
    static constexpr auto fields = std::tuple{
        field("partition_index", &ListOffsetsPartitionResponse::partition_index, "0+"),
        field("error_code", &ListOffsetsPartitionResponse::error_code, "0+"),
        field("old_style_offsets", &ListOffsetsPartitionResponse::old_style_offsets, "0"),
        field("timestamp", &ListOffsetsPartitionResponse::timestamp, "1+"),
        field("offset", &ListOffsetsPartitionResponse::offset, "1+"),
    };
    bool operator==(const ListOffsetsPartitionResponse&) const = default;
  };
  struct ListOffsetsTopicResponse {
    std::string name;
    std::vector<ListOffsetsPartitionResponse> partitions;
    static constexpr auto fields = std::tuple{
        field("name", &ListOffsetsTopicResponse::name, "0+"),
        field("partitions", &ListOffsetsTopicResponse::partitions, "0+"),
    };
    bool operator==(const ListOffsetsTopicResponse&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<ListOffsetsTopicResponse> topics;

  static constexpr std::string_view message_name = "ListOffsetsResponse";
  static constexpr ApiKey api_key = ApiKey::ListOffsets;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 6;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &ListOffsetsResponse::throttle_time_ms, "2+"),
      field("topics", &ListOffsetsResponse::topics, "0+"),
  };
  bool operator==(const ListOffsetsResponse&) const = default;
};

struct MetadataRequest {
  struct MetadataRequestTopic {
    std::string name;
    static constexpr auto fields = std::tuple{
        field("name", &MetadataRequestTopic::name, "0+"),
    };
    bool operator==(const MetadataRequestTopic&) const = default;
  };

  // Null (v1+) asks for every topic; empty asks for none (in v0 empty meant all).
  std::optional<std::vector<MetadataRequestTopic>> topics = std::vector<MetadataRequestTopic>{};
  bool allow_auto_topic_creation = true;

  static constexpr std::string_view message_name = "MetadataRequest";
  static constexpr ApiKey api_key = ApiKey::Metadata;
  static constexpr int16_t max_version = 6;
  static constexpr int16_t flexible_min = 9;
  static constexpr auto fields = std::tuple{
      field("topics", &MetadataRequest::topics, "0+", nullable("1+")),
      field("allow_auto_topic_creation", &MetadataRequest::allow_auto_topic_creation, "4+"),
  };
  bool operator==(const MetadataRequest&) const = default;
};

struct MetadataResponse {
  struct MetadataResponseBroker {
    int32_t node_id = 0;
    std::string host;
    int32_t port = 0;
    std::optional<std::string> rack;
    static constexpr auto fields = std::tuple{
        field("node_id", &MetadataResponseBroker::node_id, "0+"),
        field("host", &MetadataResponseBroker::host, "0+"),
        field("port", &MetadataResponseBroker::port, "0+"),
        field("rack", &MetadataResponseBroker::rack, "1+", nullable("1+")),
    };
    bool operator==(const MetadataResponseBroker&) const = default;
  };
  struct MetadataResponsePartition {
    int16_t error_code = 0;
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    std::vector<int32_t> replica_nodes;
    std::vector<int32_t> isr_nodes;
    std::vector<int32_t> offline_replicas;
    static constexpr auto fields = std::tuple{
        field("error_code", &MetadataResponsePartition::error_code, "0+"),
        field("partition_index", &MetadataResponsePartition::partition_index, "0+"),
        field("leader_id", &MetadataResponsePartition::leader_id, "0+"),
        field("replica_nodes", &MetadataResponsePartition::replica_nodes, "0+"),
        field("isr_nodes", &MetadataResponsePartition::isr_nodes, "0+"),
        field("offline_replicas", &MetadataResponsePartition::offline_replicas, "5+"),
    };
    bool operator==(const MetadataResponsePartition&) const = default;
  };
  struct MetadataResponseTopic {
    int16_t error_code = 0;
    std::string name;
    bool is_internal = false;
    std::vector<MetadataResponsePartition> partitions;
    static constexpr auto fields = std::tuple{
        field("error_code", &MetadataResponseTopic::error_code, "0+"),
        field("name", &MetadataResponseTopic::name, "0+"),
        field("is_internal", &MetadataResponseTopic::is_internal, "1+"),
        field("partitions", &MetadataResponseTopic::partitions, "0+"),
    };
    bool operator==(const MetadataResponseTopic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<MetadataResponseBroker> brokers;
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::vector<MetadataResponseTopic> topics;

  static constexpr std::string_view message_name = "MetadataResponse";
  static constexpr ApiKey api_key = ApiKey::Metadata;
  static constexpr int16_t max_version = 6;
  static constexpr int16_t flexible_min = 9;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &MetadataResponse::throttle_time_ms, "3+"),
      field("brokers", &MetadataResponse::brokers, "0+"),
      field("cluster_id", &MetadataResponse::cluster_id, "2+", nullable("2+")),
      field("controller_id", &MetadataResponse::controller_id, "1+"),
      field("topics", &MetadataResponse::topics, "0+"),
  };
  bool operator==(const MetadataResponse&) const = default;
};

GREGOR_KAFKA_DECLARE_CODEC(ProduceRequest);
GREGOR_KAFKA_DECLARE_CODEC(ProduceResponse);
GREGOR_KAFKA_DECLARE_CODEC(FetchRequest);
GREGOR_KAFKA_DECLARE_CODEC(FetchResponse);
GREGOR_KAFKA_DECLARE_CODEC(ListOffsetsRequest);
GREGOR_KAFKA_DECLARE_CODEC(ListOffsetsResponse);
GREGOR_KAFKA_DECLARE_CODEC(MetadataRequest);
GREGOR_KAFKA_DECLARE_CODEC(MetadataResponse);

}  // namespace gregor::kafka
