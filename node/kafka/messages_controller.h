// The APIs a broker calls on the KRaft controller: AlterPartition (56), BrokerRegistration (62),
// BrokerHeartbeat (63), UnregisterBroker (64) and AllocateProducerIds (67), described after
// Kafka 3.7's JSON schemas (versions 0-3, 0-3, 0-1, 0 and 0). All are flexible from v0.
//
// Like the quorum APIs of messages_raft.h these are controller-listener APIs: api.h lists them in
// kControllerApis, never in kApis, so the broker neither serves nor advertises them. Their keys
// are the ControllerApiKey constants below, which also carry RaftApiKey's names
// (ControllerApiKey::Vote == RaftApiKey::Vote): one spelling for every controller api.
//
// Defaults are Kafka's: a field the JSON gives no "default" gets 0, false, "" or empty (also
// when it is nullable, e.g. BrokerRegistrationRequest's rack); the others say so.
#pragma once

#include "node/kafka/messages_raft.h"
#include "node/kafka/protocol.h"

namespace gregor::kafka {

struct ControllerApiKey : RaftApiKey {
  static constexpr ApiKey AlterPartition = static_cast<ApiKey>(56);
  static constexpr ApiKey BrokerRegistration = static_cast<ApiKey>(62);
  static constexpr ApiKey BrokerHeartbeat = static_cast<ApiKey>(63);
  static constexpr ApiKey UnregisterBroker = static_cast<ApiKey>(64);
  static constexpr ApiKey AllocateProducerIds = static_cast<ApiKey>(67);
};

// ---- AlterPartition (56) ------------------------------------------------------------------------
// v1 adds leader_recovery_state (KIP-704), v2 names topics by id instead of name (KIP-841), v3
// replaces new_isr by new_isr_with_epochs (KIP-903: the leader states each ISR member's broker
// epoch, so the controller can refuse a member that restarted since it was seen in sync).

struct AlterPartitionRequest {
  struct BrokerState {
    int32_t broker_id = 0;
    int64_t broker_epoch = -1;  // -1: the leader cannot check epochs
    static constexpr auto fields = std::tuple{
        field("broker_id", &BrokerState::broker_id, "3+"),
        field("broker_epoch", &BrokerState::broker_epoch, "3+"),
    };
    bool operator==(const BrokerState&) const = default;
  };
  struct PartitionData {
    int32_t partition_index = 0;
    int32_t leader_epoch = 0;
    std::vector<int32_t> new_isr;                  // v0-2
    std::vector<BrokerState> new_isr_with_epochs;  // v3+
    int8_t leader_recovery_state = 0;              // v1+; 1: recovering from an unclean election
    int32_t partition_epoch = 0;                   // the epoch the leader expects to update
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
        field("leader_epoch", &PartitionData::leader_epoch, "0+"),
        field("new_isr", &PartitionData::new_isr, "0-2"),
        field("new_isr_with_epochs", &PartitionData::new_isr_with_epochs, "3+"),
        field("leader_recovery_state", &PartitionData::leader_recovery_state, "1+"),
        field("partition_epoch", &PartitionData::partition_epoch, "0+"),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct TopicData {
    std::string topic_name;  // v0-1
    Uuid topic_id;           // v2+
    std::vector<PartitionData> partitions;
    static constexpr auto fields = std::tuple{
        field("topic_name", &TopicData::topic_name, "0-1"),
        field("topic_id", &TopicData::topic_id, "2+"),
        field("partitions", &TopicData::partitions, "0+"),
    };
    bool operator==(const TopicData&) const = default;
  };

  int32_t broker_id = 0;
  int64_t broker_epoch = -1;
  std::vector<TopicData> topics;

  static constexpr std::string_view message_name = "AlterPartitionRequest";
  static constexpr ApiKey api_key = ControllerApiKey::AlterPartition;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("broker_id", &AlterPartitionRequest::broker_id, "0+"),
      field("broker_epoch", &AlterPartitionRequest::broker_epoch, "0+"),
      field("topics", &AlterPartitionRequest::topics, "0+"),
  };
  bool operator==(const AlterPartitionRequest&) const = default;
};

// v3 is the same as v2.
struct AlterPartitionResponse {
  struct PartitionData {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = 0;
    std::vector<int32_t> isr;
    int8_t leader_recovery_state = 0;  // v1+
    int32_t partition_epoch = 0;
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
        field("error_code", &PartitionData::error_code, "0+"),
        field("leader_id", &PartitionData::leader_id, "0+"),
        field("leader_epoch", &PartitionData::leader_epoch, "0+"),
        field("isr", &PartitionData::isr, "0+"),
        field("leader_recovery_state", &PartitionData::leader_recovery_state, "1+"),
        field("partition_epoch", &PartitionData::partition_epoch, "0+"),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct TopicData {
    std::string topic_name;  // v0-1
    Uuid topic_id;           // v2+
    std::vector<PartitionData> partitions;
    static constexpr auto fields = std::tuple{
        field("topic_name", &TopicData::topic_name, "0-1"),
        field("topic_id", &TopicData::topic_id, "2+"),
        field("partitions", &TopicData::partitions, "0+"),
    };
    bool operator==(const TopicData&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<TopicData> topics;

  static constexpr std::string_view message_name = "AlterPartitionResponse";
  static constexpr ApiKey api_key = ControllerApiKey::AlterPartition;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &AlterPartitionResponse::throttle_time_ms, "0+"),
      field("error_code", &AlterPartitionResponse::error_code, "0+"),
      field("topics", &AlterPartitionResponse::topics, "0+"),
  };
  bool operator==(const AlterPartitionResponse&) const = default;
};

// ---- BrokerRegistration (62) --------------------------------------------------------------------
// v1 adds is_migrating_zk_broker (KIP-866), v2 log_dirs (KIP-858), v3 previous_broker_epoch
// (KIP-966).

struct BrokerRegistrationRequest {
  struct Listener {
    std::string name;
    std::string host;
    uint16_t port = 0;
    int16_t security_protocol = 0;
    static constexpr auto fields = std::tuple{
        field("name", &Listener::name, "0+"),
        field("host", &Listener::host, "0+"),
        field("port", &Listener::port, "0+"),
        field("security_protocol", &Listener::security_protocol, "0+"),
    };
    bool operator==(const Listener&) const = default;
  };
  struct Feature {
    std::string name;
    int16_t min_supported_version = 0;
    int16_t max_supported_version = 0;
    static constexpr auto fields = std::tuple{
        field("name", &Feature::name, "0+"),
        field("min_supported_version", &Feature::min_supported_version, "0+"),
        field("max_supported_version", &Feature::max_supported_version, "0+"),
    };
    bool operator==(const Feature&) const = default;
  };

  int32_t broker_id = 0;
  std::string cluster_id;
  Uuid incarnation_id;  // new at every start of the broker process
  std::vector<Listener> listeners;
  std::vector<Feature> features;
  std::optional<std::string> rack = "";  // null: no rack
  bool is_migrating_zk_broker = false;   // v1+
  std::vector<Uuid> log_dirs;            // v2+: the available ones
  int64_t previous_broker_epoch = -1;    // v3+: the epoch before a clean shutdown

  static constexpr std::string_view message_name = "BrokerRegistrationRequest";
  static constexpr ApiKey api_key = ControllerApiKey::BrokerRegistration;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("broker_id", &BrokerRegistrationRequest::broker_id, "0+"),
      field("cluster_id", &BrokerRegistrationRequest::cluster_id, "0+"),
      field("incarnation_id", &BrokerRegistrationRequest::incarnation_id, "0+"),
      field("listeners", &BrokerRegistrationRequest::listeners, "0+"),
      field("features", &BrokerRegistrationRequest::features, "0+"),
      field("rack", &BrokerRegistrationRequest::rack, "0+", nullable("0+")),
      field("is_migrating_zk_broker", &BrokerRegistrationRequest::is_migrating_zk_broker, "1+"),
      field("log_dirs", &BrokerRegistrationRequest::log_dirs, "2+"),
      field("previous_broker_epoch", &BrokerRegistrationRequest::previous_broker_epoch, "3+"),
  };
  bool operator==(const BrokerRegistrationRequest&) const = default;
};

struct BrokerRegistrationResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int64_t broker_epoch = -1;  // -1: none assigned

  static constexpr std::string_view message_name = "BrokerRegistrationResponse";
  static constexpr ApiKey api_key = ControllerApiKey::BrokerRegistration;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &BrokerRegistrationResponse::throttle_time_ms, "0+"),
      field("error_code", &BrokerRegistrationResponse::error_code, "0+"),
      field("broker_epoch", &BrokerRegistrationResponse::broker_epoch, "0+"),
  };
  bool operator==(const BrokerRegistrationResponse&) const = default;
};

// ---- BrokerHeartbeat (63) -----------------------------------------------------------------------
// v1 adds offline_log_dirs (KIP-858) as tagged field 0: not written when empty.

struct BrokerHeartbeatRequest {
  int32_t broker_id = 0;
  int64_t broker_epoch = -1;
  int64_t current_metadata_offset = 0;  // the highest metadata offset the broker has reached
  bool want_fence = false;
  bool want_shut_down = false;
  std::vector<Uuid> offline_log_dirs;  // v1+, tagged 0

  static constexpr std::string_view message_name = "BrokerHeartbeatRequest";
  static constexpr ApiKey api_key = ControllerApiKey::BrokerHeartbeat;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("broker_id", &BrokerHeartbeatRequest::broker_id, "0+"),
      field("broker_epoch", &BrokerHeartbeatRequest::broker_epoch, "0+"),
      field("current_metadata_offset", &BrokerHeartbeatRequest::current_metadata_offset, "0+"),
      field("want_fence", &BrokerHeartbeatRequest::want_fence, "0+"),
      field("want_shut_down", &BrokerHeartbeatRequest::want_shut_down, "0+"),
      field("offline_log_dirs", &BrokerHeartbeatRequest::offline_log_dirs, "1+", tagged(0)),
  };
  bool operator==(const BrokerHeartbeatRequest&) const = default;
};

// v1 is the same as v0.
struct BrokerHeartbeatResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  bool is_caught_up = false;  // with the latest metadata, approximately
  bool is_fenced = true;
  bool should_shut_down = false;

  static constexpr std::string_view message_name = "BrokerHeartbeatResponse";
  static constexpr ApiKey api_key = ControllerApiKey::BrokerHeartbeat;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &BrokerHeartbeatResponse::throttle_time_ms, "0+"),
      field("error_code", &BrokerHeartbeatResponse::error_code, "0+"),
      field("is_caught_up", &BrokerHeartbeatResponse::is_caught_up, "0+"),
      field("is_fenced", &BrokerHeartbeatResponse::is_fenced, "0+"),
      field("should_shut_down", &BrokerHeartbeatResponse::should_shut_down, "0+"),
  };
  bool operator==(const BrokerHeartbeatResponse&) const = default;
};

// ---- UnregisterBroker (64) ----------------------------------------------------------------------

struct UnregisterBrokerRequest {
  int32_t broker_id = 0;

  static constexpr std::string_view message_name = "UnregisterBrokerRequest";
  static constexpr ApiKey api_key = ControllerApiKey::UnregisterBroker;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("broker_id", &UnregisterBrokerRequest::broker_id, "0+"),
  };
  bool operator==(const UnregisterBrokerRequest&) const = default;
};

struct UnregisterBrokerResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::optional<std::string> error_message = "";  // null when there is no error

  static constexpr std::string_view message_name = "UnregisterBrokerResponse";
  static constexpr ApiKey api_key = ControllerApiKey::UnregisterBroker;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &UnregisterBrokerResponse::throttle_time_ms, "0+"),
      field("error_code", &UnregisterBrokerResponse::error_code, "0+"),
      field("error_message", &UnregisterBrokerResponse::error_message, "0+", nullable("0+")),
  };
  bool operator==(const UnregisterBrokerResponse&) const = default;
};

// ---- AllocateProducerIds (67) -------------------------------------------------------------------

struct AllocateProducerIdsRequest {
  int32_t broker_id = 0;
  int64_t broker_epoch = -1;

  static constexpr std::string_view message_name = "AllocateProducerIdsRequest";
  static constexpr ApiKey api_key = ControllerApiKey::AllocateProducerIds;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("broker_id", &AllocateProducerIdsRequest::broker_id, "0+"),
      field("broker_epoch", &AllocateProducerIdsRequest::broker_epoch, "0+"),
  };
  bool operator==(const AllocateProducerIdsRequest&) const = default;
};

// The block [producer_id_start, producer_id_start + producer_id_len) now belongs to the broker.
struct AllocateProducerIdsResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int64_t producer_id_start = 0;
  int32_t producer_id_len = 0;

  static constexpr std::string_view message_name = "AllocateProducerIdsResponse";
  static constexpr ApiKey api_key = ControllerApiKey::AllocateProducerIds;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &AllocateProducerIdsResponse::throttle_time_ms, "0+"),
      field("error_code", &AllocateProducerIdsResponse::error_code, "0+"),
      field("producer_id_start", &AllocateProducerIdsResponse::producer_id_start, "0+"),
      field("producer_id_len", &AllocateProducerIdsResponse::producer_id_len, "0+"),
  };
  bool operator==(const AllocateProducerIdsResponse&) const = default;
};

GREGOR_KAFKA_DECLARE_CODEC(AlterPartitionRequest);
GREGOR_KAFKA_DECLARE_CODEC(AlterPartitionResponse);
GREGOR_KAFKA_DECLARE_CODEC(BrokerRegistrationRequest);
GREGOR_KAFKA_DECLARE_CODEC(BrokerRegistrationResponse);
GREGOR_KAFKA_DECLARE_CODEC(BrokerHeartbeatRequest);
GREGOR_KAFKA_DECLARE_CODEC(BrokerHeartbeatResponse);
GREGOR_KAFKA_DECLARE_CODEC(UnregisterBrokerRequest);
GREGOR_KAFKA_DECLARE_CODEC(UnregisterBrokerResponse);
GREGOR_KAFKA_DECLARE_CODEC(AllocateProducerIdsRequest);
GREGOR_KAFKA_DECLARE_CODEC(AllocateProducerIdsResponse);

}  // namespace gregor::kafka
