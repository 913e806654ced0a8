// The consumer-group APIs: OffsetCommit, OffsetFetch, FindCoordinator, JoinGroup, Heartbeat,
// LeaveGroup, SyncGroup, DescribeGroups, ListGroups. Described for versions 0..max_version after
// Kafka's JSON schemas, as in messages_data.h.
#pragma once

#include "node/kafka/protocol.h"

namespace gregor::kafka {

struct OffsetCommitRequest {
  struct OffsetCommitRequestPartition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;
    int64_t commit_timestamp = -1;
    std::optional<std::string> committed_metadata = "";
    static constexpr auto fields = std::tuple{
        field("partition_index", &OffsetCommitRequestPartition::partition_index, "0+"),
        field("committed_offset", &OffsetCommitRequestPartition::committed_offset, "0+"),
        field("committed_leader_epoch", &OffsetCommitRequestPartition::committed_leader_epoch,
              "6+"),
        field("commit_timestamp", &OffsetCommitRequestPartition::commit_timestamp, "1"),
        field("committed_metadata", &OffsetCommitRequestPartition::committed_metadata, "0+",
              nullable("0+")),
    };
    bool operator==(const OffsetCommitRequestPartition&) const = default;
  };
  struct OffsetCommitRequestTopic {
    std::string name;
    std::vector<OffsetCommitRequestPartition> partitions;
    static constexpr auto fields = std::tuple{
        field("name", &OffsetCommitRequestTopic::name, "0+"),
        field("partitions", &OffsetCommitRequestTopic::partitions, "0+"),
    };
    bool operator==(const OffsetCommitRequestTopic&) const = default;
  };

  std::string group_id;
  int32_t generation_id_or_member_epoch = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  int64_t retention_time_ms = -1;
  std::vector<OffsetCommitRequestTopic> topics;

  static constexpr std::string_view message_name = "OffsetCommitRequest";
  static constexpr ApiKey api_key = ApiKey::OffsetCommit;
  static constexpr int16_t max_version = 7;
  static constexpr int16_t flexible_min = 8;
  static constexpr auto fields = std::tuple{
      field("group_id", &OffsetCommitRequest::group_id, "0+"),
      field("generation_id_or_member_epoch", &OffsetCommitRequest::generation_id_or_member_epoch,
            "1+"),
      field("member_id", &OffsetCommitRequest::member_id, "1+"),
      field("group_instance_id", &OffsetCommitRequest::group_instance_id, "7+", nullable("7+")),
      field("retention_time_ms", &OffsetCommitRequest::retention_time_ms, "2-4"),
      field("topics", &OffsetCommitRequest::topics, "0+"),
  };
  bool operator==(const OffsetCommitRequest&) const = default;
};

struct OffsetCommitResponse {
  struct OffsetCommitResponsePartition {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    static constexpr auto fields = std::tuple{
        field("partition_index", &OffsetCommitResponsePartition::partition_index, "0+"),
        field("error_code", &OffsetCommitResponsePartition::error_code, "0+"),
    };
    bool operator==(const OffsetCommitResponsePartition&) const = default;
  };
  struct OffsetCommitResponseTopic {
    std::string name;
    std::vector<OffsetCommitResponsePartition> partitions;
    static constexpr auto fields = std::tuple{
        field("name", &OffsetCommitResponseTopic::name, "0+"),
        field("partitions", &OffsetCommitResponseTopic::partitions, "0+"),
    };
    bool operator==(const OffsetCommitResponseTopic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<OffsetCommitResponseTopic> topics;

  static constexpr std::string_view message_name = "OffsetCommitResponse";
  static constexpr ApiKey api_key = ApiKey::OffsetCommit;
  static constexpr int16_t max_version = 7;
  static constexpr int16_t flexible_min = 8;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &OffsetCommitResponse::throttle_time_ms, "3+"),
      field("topics", &OffsetCommitResponse::topics, "0+"),
  };
  bool operator==(const OffsetCommitResponse&) const = default;
};

struct OffsetFetchRequest {
  struct OffsetFetchRequestTopic {
    std::string name;
    std::vector<int32_t> partition_indexes;
    static constexpr auto fields = std::tuple{
        field("name", &OffsetFetchRequestTopic::name, "0-7"),
        field("partition_indexes", &OffsetFetchRequestTopic::partition_indexes, "0-7"),
    };
    bool operator==(const OffsetFetchRequestTopic&) const = default;
  };

  std::string group_id;
  // Null (v2+) asks for every partition with a committed offset.
  std::optional<std::vector<OffsetFetchRequestTopic>> topics =
      std::vector<OffsetFetchRequestTopic>{};

  static constexpr std::string_view message_name = "OffsetFetchRequest";
  static constexpr ApiKey api_key = ApiKey::OffsetFetch;
  static constexpr int16_t max_version = 5;
  static constexpr int16_t flexible_min = 6;
  static constexpr auto fields = std::tuple{
      field("group_id", &OffsetFetchRequest::group_id, "0-7"),
      field("topics", &OffsetFetchRequest::topics, "0-7", nullable("2-7")),
  };
  bool operator==(const OffsetFetchRequest&) const = default;
};

struct OffsetFetchResponse {
  struct OffsetFetchResponsePartition {
    int32_t partition_index = 0;
    int64_t committed_offset = 0;
    int32_t committed_leader_epoch = -1;
    std::optional<std::string> metadata = "";
    int16_t error_code = 0;
    static constexpr auto fields = std::tuple{
        field("partition_index", &OffsetFetchResponsePartition::partition_index, "0-7"),
        field("committed_offset", &OffsetFetchResponsePartition::committed_offset, "0-7"),
        field("committed_leader_epoch", &OffsetFetchResponsePartition::committed_leader_epoch,
              "5-7"),
        field("metadata", &OffsetFetchResponsePartition::metadata, "0-7", nullable("0-7")),
        field("error_code", &OffsetFetchResponsePartition::error_code, "0-7"),
    };
    bool operator==(const OffsetFetchResponsePartition&) const = default;
  };
  struct OffsetFetchResponseTopic {
    std::string name;
    std::vector<OffsetFetchResponsePartition> partitions;
    static constexpr auto fields = std::tuple{
        field("name", &OffsetFetchResponseTopic::name, "0-7"),
        field("partitions", &OffsetFetchResponseTopic::partitions, "0-7"),
    };
    bool operator==(const OffsetFetchResponseTopic&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<OffsetFetchResponseTopic> topics;
  int16_t error_code = 0;

  static constexpr std::string_view message_name = "OffsetFetchResponse";
  static constexpr ApiKey api_key = ApiKey::OffsetFetch;
  static constexpr int16_t max_version = 5;
  static constexpr int16_t flexible_min = 6;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &OffsetFetchResponse::throttle_time_ms, "3+"),
      field("topics", &OffsetFetchResponse::topics, "0-7"),
      field("error_code", &OffsetFetchResponse::error_code, "2-7"),
  };
  bool operator==(const OffsetFetchResponse&) const = default;
};

struct FindCoordinatorRequest {
  std::string key;
  int8_t key_type = 0;  // 0 group, 1 transaction

  static constexpr std::string_view message_name = "FindCoordinatorRequest";
  static constexpr ApiKey api_key = ApiKey::FindCoordinator;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t flexible_min = 3;
  static constexpr auto fields = std::tuple{
      field("key", &FindCoordinatorRequest::key, "0-3"),
      field("key_type", &FindCoordinatorRequest::key_type, "1+"),
  };
  bool operator==(const FindCoordinatorRequest&) const = default;
};

struct FindCoordinatorResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::optional<std::string> error_message = "";
  int32_t node_id = 0;
  std::string host;
  int32_t port = 0;

  static constexpr std::string_view message_name = "FindCoordinatorResponse";
  static constexpr ApiKey api_key = ApiKey::FindCoordinator;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t flexible_min = 3;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &FindCoordinatorResponse::throttle_time_ms, "1+"),
      field("error_code", &FindCoordinatorResponse::error_code, "0-3"),
      field("error_message", &FindCoordinatorResponse::error_message, "1-3", nullable("1-3")),
      field("node_id", &FindCoordinatorResponse::node_id, "0-3"),
      field("host", &FindCoordinatorResponse::host, "0-3"),
      field("port", &FindCoordinatorResponse::port, "0-3"),
  };
  bool operator==(const FindCoordinatorResponse&) const = default;
};

struct JoinGroupRequest {
  struct JoinGroupRequestProtocol {
    std::string name;
    Bytes metadata;
    static constexpr auto fields = std::tuple{
        field("name", &JoinGroupRequestProtocol::name, "0+"),
        field("metadata", &JoinGroupRequestProtocol::metadata, "0+"),
    };
    bool operator==(const JoinGroupRequestProtocol&) const = default;
  };

  std::string group_id;
  int32_t session_timeout_ms = 0;
  int32_t rebalance_timeout_ms = -1;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string protocol_type;
  std::vector<JoinGroupRequestProtocol> protocols;

  static constexpr std::string_view message_name = "JoinGroupRequest";
  static constexpr ApiKey api_key = ApiKey::JoinGroup;
  static constexpr int16_t max_version = 5;
  static constexpr int16_t flexible_min = 6;
  static constexpr auto fields = std::tuple{
      field("group_id", &JoinGroupRequest::group_id, "0+"),
      field("session_timeout_ms", &JoinGroupRequest::session_timeout_ms, "0+"),
      field("rebalance_timeout_ms", &JoinGroupRequest::rebalance_timeout_ms, "1+"),
      field("member_id", &JoinGroupRequest::member_id, "0+"),
      field("group_instance_id", &JoinGroupRequest::group_instance_id, "5+", nullable("5+")),
      field("protocol_type", &JoinGroupRequest::protocol_type, "0+"),
      field("protocols", &JoinGroupRequest::protocols, "0+"),
  };
  bool operator==(const JoinGroupRequest&) const = default;
};

struct JoinGroupResponse {
  struct JoinGroupResponseMember {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    Bytes metadata;
    static constexpr auto fields = std::tuple{
        field("member_id", &JoinGroupResponseMember::member_id, "0+"),
        field("group_instance_id", &JoinGroupResponseMember::group_instance_id, "5+",
              nullable("5+")),
        field("metadata", &JoinGroupResponseMember::metadata, "0+"),
    };
    bool operator==(const JoinGroupResponseMember&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  int32_t generation_id = -1;
  std::string protocol_name;  // nullable from v7
  std::string leader;
  std::string member_id;
  std::vector<JoinGroupResponseMember> members;

  static constexpr std::string_view message_name = "JoinGroupResponse";
  static constexpr ApiKey api_key = ApiKey::JoinGroup;
  static constexpr int16_t max_version = 5;
  static constexpr int16_t flexible_min = 6;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &JoinGroupResponse::throttle_time_ms, "2+"),
      field("error_code", &JoinGroupResponse::error_code, "0+"),
      field("generation_id", &JoinGroupResponse::generation_id, "0+"),
      field("protocol_name", &JoinGroupResponse::protocol_name, "0+"),
      field("leader", &JoinGroupResponse::leader, "0+"),
      field("member_id", &JoinGroupResponse::member_id, "0+"),
      field("members", &JoinGroupResponse::members, "0+"),
  };
  bool operator==(const JoinGroupResponse&) const = default;
};

struct HeartbeatRequest {
  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;

  static constexpr std::string_view message_name = "HeartbeatRequest";
  static constexpr ApiKey api_key = ApiKey::Heartbeat;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("group_id", &HeartbeatRequest::group_id, "0+"),
      field("generation_id", &HeartbeatRequest::generation_id, "0+"),
      field("member_id", &HeartbeatRequest::member_id, "0+"),
      field("group_instance_id", &HeartbeatRequest::group_instance_id, "3+", nullable("3+")),
  };
  bool operator==(const HeartbeatRequest&) const = default;
};

struct HeartbeatResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;

  static constexpr std::string_view message_name = "HeartbeatResponse";
  static constexpr ApiKey api_key = ApiKey::Heartbeat;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &HeartbeatResponse::throttle_time_ms, "1+"),
      field("error_code", &HeartbeatResponse::error_code, "0+"),
  };
  bool operator==(const HeartbeatResponse&) const = default;
};

struct LeaveGroupRequest {
  struct MemberIdentity {
    std::string member_id;
    std::optional<std::string> group_instance_id;
    static constexpr auto fields = std::tuple{
        field("member_id", &MemberIdentity::member_id, "3+"),
        field("group_instance_id", &MemberIdentity::group_instance_id, "3+", nullable("3+")),
    };
    bool operator==(const MemberIdentity&) const = default;
  };

  std::string group_id;
  std::string member_id;                // v0-2: one member
  std::vector<MemberIdentity> members;  // v3+: a batch

  static constexpr std::string_view message_name = "LeaveGroupRequest";
  static constexpr ApiKey api_key = ApiKey::LeaveGroup;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("group_id", &LeaveGroupRequest::group_id, "0+"),
      field("member_id", &LeaveGroupRequest::member_id, "0-2"),
      field("members", &LeaveGroupRequest::members, "3+"),
  };
  bool operator==(const LeaveGroupRequest&) const = default;
};

struct LeaveGroupResponse {
  struct MemberResponse {
    std::string member_id;
    std::optional<std::string> group_instance_id = "";
    int16_t error_code = 0;
    static constexpr auto fields = std::tuple{
        field("member_id", &MemberResponse::member_id, "3+"),
        field("group_instance_id", &MemberResponse::group_instance_id, "3+", nullable("3+")),
        field("error_code", &MemberResponse::error_code, "3+"),
    };
    bool operator==(const MemberResponse&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<MemberResponse> members;

  static constexpr std::string_view message_name = "LeaveGroupResponse";
  static constexpr ApiKey api_key = ApiKey::LeaveGroup;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &LeaveGroupResponse::throttle_time_ms, "1+"),
      field("error_code", &LeaveGroupResponse::error_code, "0+"),
      field("members", &LeaveGroupResponse::members, "3+"),
  };
  bool operator==(const LeaveGroupResponse&) const = default;
};

struct SyncGroupRequest {
  struct SyncGroupRequestAssignment {
    std::string member_id;
    Bytes assignment;
    static constexpr auto fields = std::tuple{
        field("member_id", &SyncGroupRequestAssignment::member_id, "0+"),
        field("assignment", &SyncGroupRequestAssignment::assignment, "0+"),
    };
    bool operator==(const SyncGroupRequestAssignment&) const = default;
  };

  std::string group_id;
  int32_t generation_id = 0;
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::vector<SyncGroupRequestAssignment> assignments;

  static constexpr std::string_view message_name = "SyncGroupRequest";
  static constexpr ApiKey api_key = ApiKey::SyncGroup;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("group_id", &SyncGroupRequest::group_id, "0+"),
      field("generation_id", &SyncGroupRequest::generation_id, "0+"),
      field("member_id", &SyncGroupRequest::member_id, "0+"),
      field("group_instance_id", &SyncGroupRequest::group_instance_id, "3+", nullable("3+")),
      field("assignments", &SyncGroupRequest::assignments, "0+"),
  };
  bool operator==(const SyncGroupRequest&) const = default;
};

struct SyncGroupResponse {
  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  Bytes assignment;

  static constexpr std::string_view message_name = "SyncGroupResponse";
  static constexpr ApiKey api_key = ApiKey::SyncGroup;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t flexible_min = 4;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &SyncGroupResponse::throttle_time_ms, "1+"),
      field("error_code", &SyncGroupResponse::error_code, "0+"),
      field("assignment", &SyncGroupResponse::assignment, "0+"),
  };
  bool operator==(const SyncGroupResponse&) const = default;
};

struct DescribeGroupsRequest {
  std::vector<std::string> groups;

  static constexpr std::string_view message_name = "DescribeGroupsRequest";
  static constexpr ApiKey api_key = ApiKey::DescribeGroups;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t flexible_min = 5;
  static constexpr auto fields = std::tuple{
      field("groups", &DescribeGroupsRequest::groups, "0+"),
  };
  bool operator==(const DescribeGroupsRequest&) const = default;
};

struct DescribeGroupsResponse {
  struct DescribedGroupMember {
    std::string member_id;
    std::string client_id;
    std::string client_host;
    Bytes member_metadata;
    Bytes member_assignment;
    static constexpr auto fields = std::tuple{
        field("member_id", &DescribedGroupMember::member_id, "0+"),
        field("client_id", &DescribedGroupMember::client_id, "0+"),
        field("client_host", &DescribedGroupMember::client_host, "0+"),
        field("member_metadata", &DescribedGroupMember::member_metadata, "0+"),
        field("member_assignment", &DescribedGroupMember::member_assignment, "0+"),
    };
    bool operator==(const DescribedGroupMember&) const = default;
  };
  struct DescribedGroup {
    int16_t error_code = 0;
    std::string group_id;
    std::string group_state;
    std::string protocol_type;
    std::string protocol_data;
    std::vector<DescribedGroupMember> members;
    static constexpr auto fields = std::tuple{
        field("error_code", &DescribedGroup::error_code, "0+"),
        field("group_id", &DescribedGroup::group_id, "0+"),
        field("group_state", &DescribedGroup::group_state, "0+"),
        field("protocol_type", &DescribedGroup::protocol_type, "0+"),
        field("protocol_data", &DescribedGroup::protocol_data, "0+"),
        field("members", &DescribedGroup::members, "0+"),
    };
    bool operator==(const DescribedGroup&) const = default;
  };

  int32_t throttle_time_ms = 0;
  std::vector<DescribedGroup> groups;

  static constexpr std::string_view message_name = "DescribeGroupsResponse";
  static constexpr ApiKey api_key = ApiKey::DescribeGroups;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t flexible_min = 5;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &DescribeGroupsResponse::throttle_time_ms, "1+"),
      field("groups", &DescribeGroupsResponse::groups, "0+"),
  };
  bool operator==(const DescribeGroupsResponse&) const = default;
};

struct ListGroupsRequest {
  static constexpr std::string_view message_name = "ListGroupsRequest";
  static constexpr ApiKey api_key = ApiKey::ListGroups;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t flexible_min = 3;
  static constexpr auto fields = std::tuple{};
  bool operator==(const ListGroupsRequest&) const = default;
};

struct ListGroupsResponse {
  struct ListedGroup {
    std::string group_id;
    std::string protocol_type;
    static constexpr auto fields = std::tuple{
        field("group_id", &ListedGroup::group_id, "0+"),
        field("protocol_type", &ListedGroup::protocol_type, "0+"),
    };
    bool operator==(const ListedGroup&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<ListedGroup> groups;

  static constexpr std::string_view message_name = "ListGroupsResponse";
  static constexpr ApiKey api_key = ApiKey::ListGroups;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t flexible_min = 3;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &ListGroupsResponse::throttle_time_ms, "1+"),
      field("error_code", &ListGroupsResponse::error_code, "0+"),
      field("groups", &ListGroupsResponse::groups, "0+"),
  };
  bool operator==(const ListGroupsResponse&) const = default;
};

GREGOR_KAFKA_DECLARE_CODEC(OffsetCommitRequest);
GREGOR_KAFKA_DECLARE_CODEC(OffsetCommitResponse);
GREGOR_KAFKA_DECLARE_CODEC(OffsetFetchRequest);
GREGOR_KAFKA_DECLARE_CODEC(OffsetFetchResponse);
GREGOR_KAFKA_DECLARE_CODEC(FindCoordinatorRequest);
GREGOR_KAFKA_DECLARE_CODEC(FindCoordinatorResponse);
GREGOR_KAFKA_DECLARE_CODEC(JoinGroupRequest);
GREGOR_KAFKA_DECLARE_CODEC(JoinGroupResponse);
GREGOR_KAFKA_DECLARE_CODEC(HeartbeatRequest);
GREGOR_KAFKA_DECLARE_CODEC(HeartbeatResponse);
GREGOR_KAFKA_DECLARE_CODEC(LeaveGroupRequest);
GREGOR_KAFKA_DECLARE_CODEC(LeaveGroupResponse);
GREGOR_KAFKA_DECLARE_CODEC(SyncGroupRequest);
GREGOR_KAFKA_DECLARE_CODEC(SyncGroupResponse);
GREGOR_KAFKA_DECLARE_CODEC(DescribeGroupsRequest);
GREGOR_KAFKA_DECLARE_CODEC(DescribeGroupsResponse);
GREGOR_KAFKA_DECLARE_CODEC(ListGroupsRequest);
GREGOR_KAFKA_DECLARE_CODEC(ListGroupsResponse);

}  // namespace gregor::kafka
