// The mapping is field by field; the one thing to explain is the error handling: everything
// decoded from a peer is validated here, so the Raft core only ever sees well-formed messages.
#include "node/controller/raft_wire.h"

#include <type_traits>
#include <vector>

namespace gregor::raft {

namespace {

constexpr int16_t kNone = 0;
constexpr int16_t kNotLeaderOrFollower = 6;
constexpr int16_t kFencedLeaderEpoch = 74;
constexpr int16_t kSnapshotNotFound = 98;

// The one partition of a quorum RPC. name_of and index_of read the topic's name and the
// partition's index (their field names differ between Kafka's schemas).
template <typename Topic, typename NameOf, typename IndexOf>
auto metadata_partition(std::string_view message, const std::vector<Topic>& topics, NameOf name_of,
                        IndexOf index_of)
    -> Result<const std::remove_cvref_t<decltype(topics[0].partitions[0])>*> {
  if (topics.size() != 1 || name_of(topics[0]) != kMetadataTopic ||
      topics[0].partitions.size() != 1 || index_of(topics[0].partitions[0]) != kMetadataPartition)
    return errorf(Errc::invalid_argument, "{}: not exactly one partition {}-{}", message,
                  kMetadataTopic, kMetadataPartition);
  return &topics[0].partitions[0];
}

template <typename Msg>
Result<const typename Msg::PartitionData*> partition_data(const Msg& msg) {
  return metadata_partition(
      Msg::message_name, msg.topics, [](const auto& t) { return t.topic_name; },
      [](const auto& p) { return p.partition_index; });
}

Status top_level_error(std::string_view message, int16_t error_code) {
  if (error_code == kNone) return Status::Ok();
  return errorf(Errc::invalid_argument, "{}: error code {}", message, error_code);
}

}  // namespace

int16_t to_wire(FetchError error) {
  switch (error) {
    case FetchError::kNone:
      return kNone;
    case FetchError::kFencedLeaderEpoch:
      return kFencedLeaderEpoch;
    case FetchError::kNotLeader:
      return kNotLeaderOrFollower;
    case FetchError::kUnknownSnapshot:
      return kSnapshotNotFound;
  }
  GREGOR_UNREACHABLE("FetchError {}", static_cast<int>(error));
}

Result<FetchError> fetch_error_from_wire(int16_t error_code) {
  switch (error_code) {
    case kNone:
      return FetchError::kNone;
    case kFencedLeaderEpoch:
      return FetchError::kFencedLeaderEpoch;
    case kNotLeaderOrFollower:
      return FetchError::kNotLeader;
    case kSnapshotNotFound:
      return FetchError::kUnknownSnapshot;
    default:
      return errorf(Errc::invalid_argument, "error code {} has no FetchError", error_code);
  }
}

kafka::VoteRequest to_wire(const VoteRequest& req, NodeId candidate_id,
                           const std::optional<std::string>& cluster_id) {
  kafka::VoteRequest out;
  out.cluster_id = cluster_id;
  out.topics.push_back({.topic_name = std::string(kMetadataTopic),
                        .partitions = {{.partition_index = kMetadataPartition,
                                        .candidate_epoch = req.epoch,
                                        .candidate_id = candidate_id,
                                        .last_offset_epoch = req.last_epoch,
                                        .last_offset = req.end_offset,
                                        .pre_vote = req.pre_vote}}});
  return out;
}

kafka::VoteResponse to_wire(const VoteResponse& resp, NodeId leader_id) {
  kafka::VoteResponse out;
  out.topics.push_back({.topic_name = std::string(kMetadataTopic),
                        .partitions = {{.partition_index = kMetadataPartition,
                                        .error_code = kNone,
                                        .leader_id = leader_id,
                                        .leader_epoch = resp.epoch,
                                        .vote_granted = resp.granted,
                                        .pre_vote = resp.pre_vote}}});
  return out;
}

kafka::BeginQuorumEpochRequest to_wire(const BeginQuorumEpochRequest& req, NodeId leader_id,
                                       const std::optional<std::string>& cluster_id) {
  kafka::BeginQuorumEpochRequest out;
  out.cluster_id = cluster_id;
  out.topics.push_back({.topic_name = std::string(kMetadataTopic),
                        .partitions = {{.partition_index = kMetadataPartition,
                                        .leader_id = leader_id,
                                        .leader_epoch = req.epoch}}});
  return out;
}

kafka::EndQuorumEpochRequest to_wire(const EndQuorumEpochRequest& req, NodeId leader_id,
                                     const std::optional<std::string>& cluster_id) {
  kafka::EndQuorumEpochRequest out;
  out.cluster_id = cluster_id;
  out.topics.push_back({.topic_name = std::string(kMetadataTopic),
                        .partitions = {{.partition_index = kMetadataPartition,
                                        .leader_id = leader_id,
                                        .leader_epoch = req.epoch,
                                        .preferred_successors = req.preferred_successors}}});
  return out;
}

kafka::FetchSnapshotRequest to_wire(const FetchSnapshotRequest& req, NodeId replica_id,
                                    const std::optional<std::string>& cluster_id) {
  kafka::FetchSnapshotRequest out;
  out.cluster_id = cluster_id;
  out.replica_id = replica_id;
  out.topics.push_back({.name = std::string(kMetadataTopic),
                        .partitions = {{.partition = kMetadataPartition,
                                        .current_leader_epoch = req.epoch,
                                        .snapshot_id = {.end_offset = req.snapshot_id.end_offset,
                                                        .epoch = req.snapshot_id.epoch},
                                        .position = 0}}});
  return out;
}

kafka::FetchSnapshotResponse to_wire(const FetchSnapshotResponse& resp) {
  kafka::FetchSnapshotResponse out;
  const Snapshot& s = resp.snapshot;
  out.topics.push_back(
      {.name = std::string(kMetadataTopic),
       .partitions = {{.index = kMetadataPartition,
                       .error_code = to_wire(resp.error),
                       .snapshot_id = {.end_offset = s.id.end_offset, .epoch = s.id.epoch},
                       .current_leader = {.leader_id = resp.leader_id, .leader_epoch = resp.epoch},
                       .size = static_cast<int64_t>(s.data.size()),
                       .position = 0,
                       .unaligned_records = s.data}}});
  return out;
}

Result<Message> from_wire(const kafka::VoteRequest& req) {
  auto p = partition_data(req);
  if (!p.ok()) return p.status();
  const auto& d = **p;
  return Message{.from = d.candidate_id,
                 .to = kNoNode,
                 .body = VoteRequest{.epoch = d.candidate_epoch,
                                     .last_epoch = d.last_offset_epoch,
                                     .end_offset = d.last_offset,
                                     .pre_vote = d.pre_vote}};
}

Result<VoteResponse> from_wire(const kafka::VoteResponse& resp) {
  GREGOR_RETURN_IF_ERROR(top_level_error(kafka::VoteResponse::message_name, resp.error_code));
  auto p = partition_data(resp);
  if (!p.ok()) return p.status();
  const auto& d = **p;
  GREGOR_RETURN_IF_ERROR(top_level_error("VoteResponse partition", d.error_code));
  return VoteResponse{.epoch = d.leader_epoch, .granted = d.vote_granted, .pre_vote = d.pre_vote};
}

Result<Message> from_wire(const kafka::BeginQuorumEpochRequest& req) {
  auto p = partition_data(req);
  if (!p.ok()) return p.status();
  const auto& d = **p;
  return Message{
      .from = d.leader_id, .to = kNoNode, .body = BeginQuorumEpochRequest{.epoch = d.leader_epoch}};
}

Result<Message> from_wire(const kafka::EndQuorumEpochRequest& req) {
  auto p = partition_data(req);
  if (!p.ok()) return p.status();
  const auto& d = **p;
  return Message{.from = d.leader_id,
                 .to = kNoNode,
                 .body = EndQuorumEpochRequest{.epoch = d.leader_epoch,
                                               .preferred_successors = d.preferred_successors}};
}

Result<Message> from_wire(const kafka::FetchSnapshotRequest& req) {
  auto p = metadata_partition(
      kafka::FetchSnapshotRequest::message_name, req.topics, [](const auto& t) { return t.name; },
      [](const auto& p) { return p.partition; });
  if (!p.ok()) return p.status();
  const auto& d = **p;
  if (d.position != 0)
    return errorf(Errc::invalid_argument, "FetchSnapshotRequest: position {}: chunks not served",
                  d.position);
  return Message{
      .from = req.replica_id,
      .to = kNoNode,
      .body = FetchSnapshotRequest{
          .epoch = d.current_leader_epoch,
          .snapshot_id = {.end_offset = d.snapshot_id.end_offset, .epoch = d.snapshot_id.epoch}}};
}

Result<FetchSnapshotResponse> from_wire(const kafka::FetchSnapshotResponse& resp) {
  GREGOR_RETURN_IF_ERROR(
      top_level_error(kafka::FetchSnapshotResponse::message_name, resp.error_code));
  auto p = metadata_partition(
      kafka::FetchSnapshotResponse::message_name, resp.topics, [](const auto& t) { return t.name; },
      [](const auto& p) { return p.index; });
  if (!p.ok()) return p.status();
  const auto& d = **p;
  Result<FetchError> error = fetch_error_from_wire(d.error_code);
  if (!error.ok()) return error.status();
  if (d.position != 0 || d.size != static_cast<int64_t>(d.unaligned_records.size()))
    return errorf(Errc::invalid_argument,
                  "FetchSnapshotResponse: a chunk at {} of {} bytes of {}: chunks not supported",
                  d.position, d.unaligned_records.size(), d.size);
  FetchSnapshotResponse out;
  out.epoch = d.current_leader.leader_epoch;
  out.leader_id = d.current_leader.leader_id;
  out.error = *error;
  out.snapshot.id = {.end_offset = d.snapshot_id.end_offset, .epoch = d.snapshot_id.epoch};
  out.snapshot.data = d.unaligned_records;
  return out;
}

}  // namespace gregor::raft
