// The KRaft quorum APIs: Vote (52), BeginQuorumEpoch (53), EndQuorumEpoch (54), DescribeQuorum
// (55) and FetchSnapshot (59), described after Kafka 3.7's JSON schemas (versions 0, 0, 0, 0-1
// and 0). Vote, DescribeQuorum and FetchSnapshot are flexible from v0; BeginQuorumEpoch and
// EndQuorumEpoch v0 are NOT flexible in 3.7 (Kafka's "flexibleVersions": "none"; KIP-853 makes
// their v1 flexible, hence flexible_min = 1 here).
//
// These are controller-listener APIs: api.h lists them in kControllerApis, never in kApis, so the
// broker neither serves nor advertises them (see the comment there). Their keys are not in
// protocol.h's ApiKey enum (which lists what the broker knows); they are the RaftApiKey constants
// below, of the same type.
//
// Gregor extension: Kafka 3.7's Vote has no pre-vote flag (KIP-996 adds a plain `PreVote` field in
// Vote v2). Gregor's Raft core pre-votes, so Vote v0 carries `pre_vote` as a tagged field of the
// partition data, in both request and response, with the private tag kGregorPreVoteTag. A Kafka
// peer skips the unknown tag (it would then count a pre-vote as a real vote: Gregor's controllers
// only talk to each other). It is not written when false, so a plain vote is byte-identical to
// Kafka's.
#pragma once

#include "node/kafka/protocol.h"

namespace gregor::kafka {

struct RaftApiKey {
  static constexpr ApiKey Vote = static_cast<ApiKey>(52);
  static constexpr ApiKey BeginQuorumEpoch = static_cast<ApiKey>(53);
  static constexpr ApiKey EndQuorumEpoch = static_cast<ApiKey>(54);
  static constexpr ApiKey DescribeQuorum = static_cast<ApiKey>(55);
  static constexpr ApiKey FetchSnapshot = static_cast<ApiKey>(59);
};

// A tag far above any Kafka is likely to assign in these structs (Kafka numbers tags from 0).
inline constexpr int32_t kGregorPreVoteTag = 10000;

// ---- Vote (52) ----------------------------------------------------------------------------------

struct VoteRequest {
  struct PartitionData {
    int32_t partition_index = 0;
    int32_t candidate_epoch = 0;
    int32_t candidate_id = 0;
    int32_t last_offset_epoch = 0;
    int64_t last_offset = 0;  // the candidate's log end offset
    bool pre_vote = false;    // Gregor extension (tagged, see above)
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
        field("candidate_epoch", &PartitionData::candidate_epoch, "0+"),
        field("candidate_id", &PartitionData::candidate_id, "0+"),
        field("last_offset_epoch", &PartitionData::last_offset_epoch, "0+"),
        field("last_offset", &PartitionData::last_offset, "0+"),
        field("pre_vote", &PartitionData::pre_vote, "0+", tagged(kGregorPreVoteTag)),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct TopicData {
    std::string topic_name;
    std::vector<PartitionData> partitions;
    static constexpr auto fields = std::tuple{
        field("topic_name", &TopicData::topic_name, "0+"),
        field("partitions", &TopicData::partitions, "0+"),
    };
    bool operator==(const TopicData&) const = default;
  };

  std::optional<std::string> cluster_id;  // Kafka's default: null
  std::vector<TopicData> topics;

  static constexpr std::string_view message_name = "VoteRequest";
  static constexpr ApiKey api_key = RaftApiKey::Vote;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("cluster_id", &VoteRequest::cluster_id, "0+", nullable("0+")),
      field("topics", &VoteRequest::topics, "0+"),
  };
  bool operator==(const VoteRequest&) const = default;
};

struct VoteResponse {
  struct PartitionData {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = 0;
    bool vote_granted = false;
    bool pre_vote = false;  // Gregor extension (tagged): the answer is to a pre-vote
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
        field("error_code", &PartitionData::error_code, "0+"),
        field("leader_id", &PartitionData::leader_id, "0+"),
        field("leader_epoch", &PartitionData::leader_epoch, "0+"),
        field("vote_granted", &PartitionData::vote_granted, "0+"),
        field("pre_vote", &PartitionData::pre_vote, "0+", tagged(kGregorPreVoteTag)),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct TopicData {
    std::string topic_name;
    std::vector<PartitionData> partitions;
    static constexpr auto fields = std::tuple{
        field("topic_name", &TopicData::topic_name, "0+"),
        field("partitions", &TopicData::partitions, "0+"),
    };
    bool operator==(const TopicData&) const = default;
  };

  int16_t error_code = 0;
  std::vector<TopicData> topics;

  static constexpr std::string_view message_name = "VoteResponse";
  static constexpr ApiKey api_key = RaftApiKey::Vote;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("error_code", &VoteResponse::error_code, "0+"),
      field("topics", &VoteResponse::topics, "0+"),
  };
  bool operator==(const VoteResponse&) const = default;
};

// ---- BeginQuorumEpoch (53), EndQuorumEpoch (54): not flexible in v0 ----------------------------

struct BeginQuorumEpochRequest {
  struct PartitionData {
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = 0;
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
        field("leader_id", &PartitionData::leader_id, "0+"),
        field("leader_epoch", &PartitionData::leader_epoch, "0+"),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct TopicData {
    std::string topic_name;
    std::vector<PartitionData> partitions;
    static constexpr auto fields = std::tuple{
        field("topic_name", &TopicData::topic_name, "0+"),
        field("partitions", &TopicData::partitions, "0+"),
    };
    bool operator==(const TopicData&) const = default;
  };

  std::optional<std::string> cluster_id;
  std::vector<TopicData> topics;

  static constexpr std::string_view message_name = "BeginQuorumEpochRequest";
  static constexpr ApiKey api_key = RaftApiKey::BeginQuorumEpoch;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 1;
  static constexpr auto fields = std::tuple{
      field("cluster_id", &BeginQuorumEpochRequest::cluster_id, "0+", nullable("0+")),
      field("topics", &BeginQuorumEpochRequest::topics, "0+"),
  };
  bool operator==(const BeginQuorumEpochRequest&) const = default;
};

// BeginQuorumEpoch's and EndQuorumEpoch's responses have the same shape.
struct QuorumEpochPartitionResult {
  int32_t partition_index = 0;
  int16_t error_code = 0;
  int32_t leader_id = 0;
  int32_t leader_epoch = 0;
  static constexpr auto fields = std::tuple{
      field("partition_index", &QuorumEpochPartitionResult::partition_index, "0+"),
      field("error_code", &QuorumEpochPartitionResult::error_code, "0+"),
      field("leader_id", &QuorumEpochPartitionResult::leader_id, "0+"),
      field("leader_epoch", &QuorumEpochPartitionResult::leader_epoch, "0+"),
  };
  bool operator==(const QuorumEpochPartitionResult&) const = default;
};
struct QuorumEpochTopicResult {
  std::string topic_name;
  std::vector<QuorumEpochPartitionResult> partitions;
  static constexpr auto fields = std::tuple{
      field("topic_name", &QuorumEpochTopicResult::topic_name, "0+"),
      field("partitions", &QuorumEpochTopicResult::partitions, "0+"),
  };
  bool operator==(const QuorumEpochTopicResult&) const = default;
};

struct BeginQuorumEpochResponse {
  int16_t error_code = 0;
  std::vector<QuorumEpochTopicResult> topics;

  static constexpr std::string_view message_name = "BeginQuorumEpochResponse";
  static constexpr ApiKey api_key = RaftApiKey::BeginQuorumEpoch;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 1;
  static constexpr auto fields = std::tuple{
      field("error_code", &BeginQuorumEpochResponse::error_code, "0+"),
      field("topics", &BeginQuorumEpochResponse::topics, "0+"),
  };
  bool operator==(const BeginQuorumEpochResponse&) const = default;
};

struct EndQuorumEpochRequest {
  struct PartitionData {
    int32_t partition_index = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = 0;
    std::vector<int32_t> preferred_successors;
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
        field("leader_id", &PartitionData::leader_id, "0+"),
        field("leader_epoch", &PartitionData::leader_epoch, "0+"),
        field("preferred_successors", &PartitionData::preferred_successors, "0+"),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct TopicData {
    std::string topic_name;
    std::vector<PartitionData> partitions;
    static constexpr auto fields = std::tuple{
        field("topic_name", &TopicData::topic_name, "0+"),
        field("partitions", &TopicData::partitions, "0+"),
    };
    bool operator==(const TopicData&) const = default;
  };

  std::optional<std::string> cluster_id;
  std::vector<TopicData> topics;

  static constexpr std::string_view message_name = "EndQuorumEpochRequest";
  static constexpr ApiKey api_key = RaftApiKey::EndQuorumEpoch;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 1;
  static constexpr auto fields = std::tuple{
      field("cluster_id", &EndQuorumEpochRequest::cluster_id, "0+", nullable("0+")),
      field("topics", &EndQuorumEpochRequest::topics, "0+"),
  };
  bool operator==(const EndQuorumEpochRequest&) const = default;
};

struct EndQuorumEpochResponse {
  int16_t error_code = 0;
  std::vector<QuorumEpochTopicResult> topics;

  static constexpr std::string_view message_name = "EndQuorumEpochResponse";
  static constexpr ApiKey api_key = RaftApiKey::EndQuorumEpoch;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 1;
  static constexpr auto fields = std::tuple{
      field("error_code", &EndQuorumEpochResponse::error_code, "0+"),
      field("topics", &EndQuorumEpochResponse::topics, "0+"),
  };
  bool operator==(const EndQuorumEpochResponse&) const = default;
};

// ---- DescribeQuorum (55) ------------------------------------------------------------------------

struct DescribeQuorumRequest {
  struct PartitionData {
    int32_t partition_index = 0;
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct TopicData {
    std::string topic_name;
    std::vector<PartitionData> partitions;
    static constexpr auto fields = std::tuple{
        field("topic_name", &TopicData::topic_name, "0+"),
        field("partitions", &TopicData::partitions, "0+"),
    };
    bool operator==(const TopicData&) const = default;
  };

  std::vector<TopicData> topics;

  static constexpr std::string_view message_name = "DescribeQuorumRequest";
  static constexpr ApiKey api_key = RaftApiKey::DescribeQuorum;
  static constexpr int16_t max_version = 1;  // v1 changes only the response (KIP-836)
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("topics", &DescribeQuorumRequest::topics, "0+"),
  };
  bool operator==(const DescribeQuorumRequest&) const = default;
};

struct DescribeQuorumResponse {
  struct ReplicaState {
    int32_t replica_id = 0;
    int64_t log_end_offset = 0;
    int64_t last_fetch_timestamp = -1;      // v1+
    int64_t last_caught_up_timestamp = -1;  // v1+
    static constexpr auto fields = std::tuple{
        field("replica_id", &ReplicaState::replica_id, "0+"),
        field("log_end_offset", &ReplicaState::log_end_offset, "0+"),
        field("last_fetch_timestamp", &ReplicaState::last_fetch_timestamp, "1+"),
        field("last_caught_up_timestamp", &ReplicaState::last_caught_up_timestamp, "1+"),
    };
    bool operator==(const ReplicaState&) const = default;
  };
  struct PartitionData {
    int32_t partition_index = 0;
    int16_t error_code = 0;
    int32_t leader_id = 0;
    int32_t leader_epoch = 0;
    int64_t high_watermark = 0;
    std::vector<ReplicaState> current_voters;
    std::vector<ReplicaState> observers;
    static constexpr auto fields = std::tuple{
        field("partition_index", &PartitionData::partition_index, "0+"),
        field("error_code", &PartitionData::error_code, "0+"),
        field("leader_id", &PartitionData::leader_id, "0+"),
        field("leader_epoch", &PartitionData::leader_epoch, "0+"),
        field("high_watermark", &PartitionData::high_watermark, "0+"),
        field("current_voters", &PartitionData::current_voters, "0+"),
        field("observers", &PartitionData::observers, "0+"),
    };
    bool operator==(const PartitionData&) const = default;
  };
  struct TopicData {
    std::string topic_name;
    std::vector<PartitionData> partitions;
    static constexpr auto fields = std::tuple{
        field("topic_name", &TopicData::topic_name, "0+"),
        field("partitions", &TopicData::partitions, "0+"),
    };
    bool operator==(const TopicData&) const = default;
  };

  int16_t error_code = 0;
  std::vector<TopicData> topics;

  static constexpr std::string_view message_name = "DescribeQuorumResponse";
  static constexpr ApiKey api_key = RaftApiKey::DescribeQuorum;
  static constexpr int16_t max_version = 1;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("error_code", &DescribeQuorumResponse::error_code, "0+"),
      field("topics", &DescribeQuorumResponse::topics, "0+"),
  };
  bool operator==(const DescribeQuorumResponse&) const = default;
};

// ---- FetchSnapshot (59) -------------------------------------------------------------------------

struct SnapshotIdData {
  int64_t end_offset = 0;
  int32_t epoch = 0;
  static constexpr auto fields = std::tuple{
      field("end_offset", &SnapshotIdData::end_offset, "0+"),
      field("epoch", &SnapshotIdData::epoch, "0+"),
  };
  bool operator==(const SnapshotIdData&) const = default;
};

struct FetchSnapshotRequest {
  struct PartitionSnapshot {
    int32_t partition = 0;
    int32_t current_leader_epoch = 0;
    SnapshotIdData snapshot_id;
    int64_t position = 0;  // the byte of the snapshot to send from
    static constexpr auto fields = std::tuple{
        field("partition", &PartitionSnapshot::partition, "0+"),
        field("current_leader_epoch", &PartitionSnapshot::current_leader_epoch, "0+"),
        field("snapshot_id", &PartitionSnapshot::snapshot_id, "0+"),
        field("position", &PartitionSnapshot::position, "0+"),
    };
    bool operator==(const PartitionSnapshot&) const = default;
  };
  struct TopicSnapshot {
    std::string name;
    std::vector<PartitionSnapshot> partitions;
    static constexpr auto fields = std::tuple{
        field("name", &TopicSnapshot::name, "0+"),
        field("partitions", &TopicSnapshot::partitions, "0+"),
    };
    bool operator==(const TopicSnapshot&) const = default;
  };

  std::optional<std::string> cluster_id;  // tagged 0, default null
  int32_t replica_id = -1;
  int32_t max_bytes = 0x7fffffff;
  std::vector<TopicSnapshot> topics;

  static constexpr std::string_view message_name = "FetchSnapshotRequest";
  static constexpr ApiKey api_key = RaftApiKey::FetchSnapshot;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("cluster_id", &FetchSnapshotRequest::cluster_id, "0+", nullable("0+"), tagged(0)),
      field("replica_id", &FetchSnapshotRequest::replica_id, "0+"),
      field("max_bytes", &FetchSnapshotRequest::max_bytes, "0+"),
      field("topics", &FetchSnapshotRequest::topics, "0+"),
  };
  bool operator==(const FetchSnapshotRequest&) const = default;
};

struct FetchSnapshotResponse {
  struct LeaderIdAndEpoch {
    int32_t leader_id = -1;
    int32_t leader_epoch = -1;
    static constexpr auto fields = std::tuple{
        field("leader_id", &LeaderIdAndEpoch::leader_id, "0+"),
        field("leader_epoch", &LeaderIdAndEpoch::leader_epoch, "0+"),
    };
    bool operator==(const LeaderIdAndEpoch&) const = default;
  };
  struct PartitionSnapshot {
    int32_t index = 0;
    int16_t error_code = 0;
    SnapshotIdData snapshot_id;
    LeaderIdAndEpoch current_leader;  // tagged 0; not written when {-1, -1}
    int64_t size = 0;                 // of the whole snapshot
    int64_t position = 0;             // of unaligned_records within it
    Bytes unaligned_records;
    static constexpr auto fields = std::tuple{
        field("index", &PartitionSnapshot::index, "0+"),
        field("error_code", &PartitionSnapshot::error_code, "0+"),
        field("snapshot_id", &PartitionSnapshot::snapshot_id, "0+"),
        field("current_leader", &PartitionSnapshot::current_leader, "0+", tagged(0)),
        field("size", &PartitionSnapshot::size, "0+"),
        field("position", &PartitionSnapshot::position, "0+"),
        field("unaligned_records", &PartitionSnapshot::unaligned_records, "0+"),
    };
    bool operator==(const PartitionSnapshot&) const = default;
  };
  struct TopicSnapshot {
    std::string name;
    std::vector<PartitionSnapshot> partitions;
    static constexpr auto fields = std::tuple{
        field("name", &TopicSnapshot::name, "0+"),
        field("partitions", &TopicSnapshot::partitions, "0+"),
    };
    bool operator==(const TopicSnapshot&) const = default;
  };

  int32_t throttle_time_ms = 0;
  int16_t error_code = 0;
  std::vector<TopicSnapshot> topics;

  static constexpr std::string_view message_name = "FetchSnapshotResponse";
  static constexpr ApiKey api_key = RaftApiKey::FetchSnapshot;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t flexible_min = 0;
  static constexpr auto fields = std::tuple{
      field("throttle_time_ms", &FetchSnapshotResponse::throttle_time_ms, "0+"),
      field("error_code", &FetchSnapshotResponse::error_code, "0+"),
      field("topics", &FetchSnapshotResponse::topics, "0+"),
  };
  bool operator==(const FetchSnapshotResponse&) const = default;
};

GREGOR_KAFKA_DECLARE_CODEC(VoteRequest);
GREGOR_KAFKA_DECLARE_CODEC(VoteResponse);
GREGOR_KAFKA_DECLARE_CODEC(BeginQuorumEpochRequest);
GREGOR_KAFKA_DECLARE_CODEC(BeginQuorumEpochResponse);
GREGOR_KAFKA_DECLARE_CODEC(EndQuorumEpochRequest);
GREGOR_KAFKA_DECLARE_CODEC(EndQuorumEpochResponse);
GREGOR_KAFKA_DECLARE_CODEC(DescribeQuorumRequest);
GREGOR_KAFKA_DECLARE_CODEC(DescribeQuorumResponse);
GREGOR_KAFKA_DECLARE_CODEC(FetchSnapshotRequest);
GREGOR_KAFKA_DECLARE_CODEC(FetchSnapshotResponse);

}  // namespace gregor::kafka
