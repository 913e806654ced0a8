// The mapping is field by field; the one thing to explain is the error handling: everything
// decoded from a peer is validated here, so the Raft core only ever sees well-formed messages.
#include "node/controller/raft_wire.h"

#include <type_traits>
#include <vector>

#include "node/controller/raft_entry_codec.h"

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

// Fetch v13 names its topic by id only: the one topic must be the metadata topic's id.
template <typename Topic, typename IndexOf>
auto metadata_fetch_partition(std::string_view message, const std::vector<Topic>& topics,
                              IndexOf index_of)
    -> Result<const std::remove_cvref_t<decltype(topics[0].partitions[0])>*> {
  if (topics.size() != 1 || topics[0].topic_id != metadata_topic_id() ||
      topics[0].partitions.size() != 1 || index_of(topics[0].partitions[0]) != kMetadataPartition)
    return errorf(Errc::invalid_argument,
                  "{}: not exactly one partition {} of the metadata topic id", message,
                  kMetadataPartition);
  return &topics[0].partitions[0];
}

// Kafka leaves a tagged {epoch, offset} pair at {-1, -1} for "absent"; a half-set one is neither.
Result<bool> present_pair(std::string_view what, int64_t offset, int32_t epoch) {
  if (offset == -1 && epoch == -1) return false;
  if (offset < 0 || epoch < 0) {
    return errorf(Errc::invalid_argument, "FetchResponse: {} offset {} epoch {}", what, offset,
                  epoch);
  }
  return true;
}

}  // namespace

kafka::Uuid metadata_topic_id() {
  return kafka::Uuid{.high = 0, .low = 1};
}

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

kafka::FetchRequest to_wire(const FetchRequest& req, NodeId replica_id,
                            const std::optional<std::string>& cluster_id) {
  kafka::FetchRequest out;
  out.cluster_id = cluster_id;
  out.replica_id = replica_id;
  out.max_wait_ms = kRaftFetchMaxWaitMs;
  out.min_bytes = 0;
  out.max_bytes = kRaftFetchBytesMax;
  kafka::FetchRequest::FetchPartition p;
  p.partition = kMetadataPartition;
  p.current_leader_epoch = req.epoch;
  p.fetch_offset = req.fetch_offset;
  p.last_fetched_epoch = req.last_fetched_epoch;
  p.log_start_offset = -1;
  p.partition_max_bytes = kRaftFetchBytesMax;
  out.topics.push_back({.topic = {}, .partitions = {p}, .topic_id = metadata_topic_id()});
  return out;
}

kafka::FetchResponse to_wire(const FetchResponse& resp) {
  kafka::FetchResponse::PartitionData p;
  p.partition_index = kMetadataPartition;
  p.error_code = to_wire(resp.error);
  p.high_watermark = resp.high_watermark;
  p.records = encode_entry_batches(resp.records, kEntryNoTimestamp);
  p.current_leader = {.leader_id = resp.leader_id, .leader_epoch = resp.epoch};
  if (resp.diverging_epoch) {
    p.diverging_epoch = {.epoch = resp.diverging_epoch->epoch,
                         .end_offset = resp.diverging_epoch->offset};
  }
  if (resp.snapshot_id) {
    p.snapshot_id = {.end_offset = resp.snapshot_id->end_offset, .epoch = resp.snapshot_id->epoch};
  }
  kafka::FetchResponse out;
  out.responses.push_back({.topic = {}, .partitions = {p}, .topic_id = metadata_topic_id()});
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

Result<Message> from_wire(const kafka::FetchRequest& req) {
  auto p = metadata_fetch_partition(kafka::FetchRequest::message_name, req.topics,
                                    [](const auto& p) { return p.partition; });
  if (!p.ok()) return p.status();
  const auto& d = **p;
  if (req.replica_id < 0 || d.current_leader_epoch < 0 || d.fetch_offset < 0 ||
      d.last_fetched_epoch < 0 || d.last_fetched_epoch > d.current_leader_epoch)
    return errorf(Errc::invalid_argument,
                  "FetchRequest: replica {} epoch {} fetch offset {} last fetched epoch {}",
                  req.replica_id, d.current_leader_epoch, d.fetch_offset, d.last_fetched_epoch);
  return Message{.from = req.replica_id,
                 .to = kNoNode,
                 .body = FetchRequest{.epoch = d.current_leader_epoch,
                                      .fetch_offset = d.fetch_offset,
                                      .last_fetched_epoch = d.last_fetched_epoch}};
}

Result<FetchResponse> from_wire(const kafka::FetchResponse& resp, const FetchRequest& asked) {
  GREGOR_RETURN_IF_ERROR(top_level_error(kafka::FetchResponse::message_name, resp.error_code));
  auto p = metadata_fetch_partition(kafka::FetchResponse::message_name, resp.responses,
                                    [](const auto& p) { return p.partition_index; });
  if (!p.ok()) return p.status();
  const auto& d = **p;
  Result<FetchError> error = fetch_error_from_wire(d.error_code);
  if (!error.ok()) return error.status();
  Result<bool> diverging =
      present_pair("diverging epoch", d.diverging_epoch.end_offset, d.diverging_epoch.epoch);
  if (!diverging.ok()) return diverging.status();
  Result<bool> snapshot =
      present_pair("snapshot id", d.snapshot_id.end_offset, d.snapshot_id.epoch);
  if (!snapshot.ok()) return snapshot.status();
  bool has_records = d.records && !d.records->empty();
  int answers = 0;  // the core reads an answer as exactly one of these (or none: caught up)
  for (bool given : {*diverging, *snapshot, has_records, *error != FetchError::kNone}) {
    answers += given ? 1 : 0;
  }
  if (answers > 1)
    return errorf(Errc::invalid_argument,
                  "FetchResponse: more than one of error, records, diverging epoch, snapshot id");
  if (d.high_watermark < -1)
    return errorf(Errc::invalid_argument, "FetchResponse: high watermark {}", d.high_watermark);

  FetchResponse out;
  out.epoch = d.current_leader.leader_epoch;
  out.leader_id = d.current_leader.leader_id;
  out.error = *error;
  out.fetch_offset = asked.fetch_offset;
  out.last_fetched_epoch = asked.last_fetched_epoch;
  out.high_watermark = d.high_watermark;
  if (*diverging) {
    out.diverging_epoch =
        OffsetAndEpoch{.offset = d.diverging_epoch.end_offset, .epoch = d.diverging_epoch.epoch};
  }
  if (*snapshot) {
    out.snapshot_id =
        SnapshotId{.end_offset = d.snapshot_id.end_offset, .epoch = d.snapshot_id.epoch};
  }
  if (has_records) {
    auto entries = decode_entry_batches(*d.records, asked.fetch_offset);
    if (!entries.ok()) return entries.status();
    // Contiguity and order inside the batches are checked by the decoder; here, that they go
    // on from the asked position and stay within the leader's epoch.
    if (entries->front().epoch < asked.last_fetched_epoch || entries->back().epoch > out.epoch)
      return errorf(Errc::invalid_argument,
                    "FetchResponse: epochs {}..{} outside [{}, {}] (last fetched, leader's)",
                    entries->front().epoch, entries->back().epoch, asked.last_fetched_epoch,
                    out.epoch);
    out.records = std::move(entries).value();
  }
  return out;
}

}  // namespace gregor::raft
