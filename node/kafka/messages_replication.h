// The broker-to-broker API of partition replication beside Fetch: OffsetForLeaderEpoch (23),
// described after Kafka 3.7's OffsetForLeaderEpochRequest.json / OffsetForLeaderEpochResponse.json
// (versions 0-4, flexible from v4). A follower that becomes one (or sees a new leader epoch)
// asks the leader where its last epoch ended and truncates its log there (KIP-101, KIP-279);
// v2 adds current_leader_epoch so a stale leader or follower is fenced (KIP-320), v3 adds
// replica_id so the leader can tell a follower from a consumer (KIP-392).
//
// Defaults are Kafka's: a field the JSON gives no "default" gets 0 or empty; the others say so.
#pragma once

#include "node/kafka/protocol.h"

namespace gregor::kafka {

// OffsetForLeaderEpoch's key. A constant beside ApiKey's enumerators, spelled like
// ControllerApiKey's: visit_api (api.h) checks it before its switch, which -Wswitch keeps to
// enumerators.
struct ReplicationApiKey {
  static constexpr ApiKey OffsetForLeaderEpoch = static_cast<ApiKey>(23);
};

// Kafka's replica ids of a requester that is not a broker: a consumer sets -1; -2 (Kafka's
// DEBUGGING_REPLICA_ID) is the JSON's default for ReplicaId, also what a v0-2 request implies.
inline constexpr int32_t kConsumerReplicaId = -1;
inline constexpr int32_t kDebuggingReplicaId = -2;

struct OffsetForLeaderEpochRequest {
  struct OffsetForLeaderPartition {
    int32_t partition = 0;
    int32_t current_leader_epoch = -1;  // v2+; -1: not checked against the leader's epoch
    int32_t leader_epoch = 0;           // the epoch whose end offset is asked for
    static constexpr auto fields = std::tuple{
        field("partition", &OffsetForLeaderPartition::partition, "0+"),
        field("current_leader_epoch", &OffsetForLeaderPartition::current_leader_epoch, "2+"),
        field("leader_epoch", &OffsetForLeaderPartition::leader_epoch, "0+"),
    };
    bool operator==(const OffsetForLeaderPartition&) const = default;
  };
  struct OffsetForLeaderTopic {
    std::string topic;
    std::vector<OffsetForLeaderPartition> partitions;
    static constexpr auto fields = std::tuple{
        field("topic", &OffsetForLeaderTopic::topic, "0+"),
        field("partitions", &OffsetForLeaderTopic::partitions, "0+"),
    };
    bool operator==(const OffsetForLeaderTopic&) const = default;
  };

  int32_t replica_id = kDebuggingReplicaId;  // v3+: the follower's broker id
  std::vector<OffsetForLeaderTopic> topics;

  static constexpr std::string_view message_name = "OffsetForLeaderEpochRequest";
  static constexpr ApiKey api_key = ReplicationApiKey::OffsetForLeaderEpoch;
  static constexpr int16_t max_version = 4;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("replica_id", &OffsetForLeaderEpochRequest::replica_id, "3+"),
      field("topics", &OffsetForLeaderEpochRequest::topics, "0+"),
  };
  bool operator==(const OffsetForLeaderEpochRequest&) const = default;
};

struct OffsetForLeaderEpochResponse {
  struct EpochEndOffset {
    int16_t error_code = 0;
    int32_t partition = 0;
    int32_t leader_epoch = -1;  // v1+: the largest epoch <= the one asked for, -1 if none
    int64_t end_offset = -1;    // the first offset past that epoch (the log end offset for the
                                // leader's current epoch), -1 if unknown
    static constexpr auto fields = std::tuple{
        field("error_code", &EpochEndOffset::error_code, "0+"),
        field("partition", &EpochEndOffset::partition, "0+"),
        field("leader_epoch", &EpochEndOffset::leader_epoch, "1+"),
        field("end_offset", &EpochEndOffset::end_offset, "0+"),
    };
    bool operator==(const EpochEndOffset&) const = default;
  };
  struct OffsetForLeaderTopicResult {
    std::string topic;
    std::vector<EpochEndOffset> partitions;
    static constexpr auto fields = std::tuple{
        field("topic", &OffsetForLeaderTopicResult::topic, "0+"),
        field("partitions", &OffsetForLeaderTopicResult::partitions, "0+"),
    };
    bool operator==(const OffsetForLeaderTopicResult&) const = default;
  };

  int32_t throttle_time_ms = 0;  // v2+
  std::vector<OffsetForLeaderTopicResult> topics;

  static constexpr std::string_view message_name = "OffsetForLeaderEpochResponse";
  static constexpr ApiKey api_key = ReplicationApiKey::OffsetForLeaderEpoch;
  static constexpr int16_t max_version = 4;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &OffsetForLeaderEpochResponse::throttle_time_ms, "2+"),
      field("topics", &OffsetForLeaderEpochResponse::topics, "0+"),
  };
  bool operator==(const OffsetForLeaderEpochResponse&) const = default;
};

GREGOR_KAFKA_DECLARE_CODEC(OffsetForLeaderEpochRequest);
GREGOR_KAFKA_DECLARE_CODEC(OffsetForLeaderEpochResponse);

}  // namespace gregor::kafka
