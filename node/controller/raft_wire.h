// Maps the Raft core's plain messages (raft_types.h) onto Kafka's KRaft wire messages
// (node/kafka/messages_raft.h) and back. Every quorum RPC names the one metadata partition,
// __cluster_metadata-0. The sender's id travels in the wire requests (Vote's candidate_id, the
// leader_id of Begin/EndQuorumEpoch, FetchSnapshot's replica_id): to_wire takes it and from_wire
// returns a raft::Message with `from` set (`to` stays kNoNode: the receiver knows itself).
// Responses carry no sender id; the host knows which connection answered.
//
// Contracts:
// - raft -> wire -> raft is the identity for every field the raft structs have.
// - Vote's pre_vote rides in Gregor's tagged field (kafka::kGregorPreVoteTag, messages_raft.h):
//   Kafka 3.7's Vote has no pre-vote flag (KIP-996 adds one in Vote v2).
// - from_wire never asserts on what a peer sent: a message that is not exactly one topic
//   __cluster_metadata with one partition 0, an error code it cannot map, a top-level error, or a
//   FetchSnapshot chunk that is not the whole snapshot is Errc::invalid_argument. Checking the
//   cluster id is the host's business (it is in the kafka message).
// - Fetch (the follower's pull) is not mapped yet: Gregor's Fetch codec stops at v11 and KRaft
//   needs v13+ (topic ids; DivergingEpoch, CurrentLeader, SnapshotId tagged fields).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "node/controller/raft_types.h"
#include "node/kafka/messages_raft.h"

namespace gregor::raft {

inline constexpr std::string_view kMetadataTopic = "__cluster_metadata";
inline constexpr int32_t kMetadataPartition = 0;

// Wire error codes of FetchError (Kafka's SNAPSHOT_NOT_FOUND is 98).
int16_t to_wire(FetchError error);
Result<FetchError> fetch_error_from_wire(int16_t error_code);

kafka::VoteRequest to_wire(const VoteRequest& req, NodeId candidate_id,
                           const std::optional<std::string>& cluster_id = std::nullopt);
// leader_id: the leader the responder knows in its epoch (kNoNode if none).
kafka::VoteResponse to_wire(const VoteResponse& resp, NodeId leader_id = kNoNode);
kafka::BeginQuorumEpochRequest to_wire(const BeginQuorumEpochRequest& req, NodeId leader_id,
                                       const std::optional<std::string>& cluster_id = std::nullopt);
kafka::EndQuorumEpochRequest to_wire(const EndQuorumEpochRequest& req, NodeId leader_id,
                                     const std::optional<std::string>& cluster_id = std::nullopt);
kafka::FetchSnapshotRequest to_wire(const FetchSnapshotRequest& req, NodeId replica_id,
                                    const std::optional<std::string>& cluster_id = std::nullopt);
// The whole snapshot in one chunk (position 0, size = data size).
kafka::FetchSnapshotResponse to_wire(const FetchSnapshotResponse& resp);

Result<Message> from_wire(const kafka::VoteRequest& req);
Result<VoteResponse> from_wire(const kafka::VoteResponse& resp);
Result<Message> from_wire(const kafka::BeginQuorumEpochRequest& req);
Result<Message> from_wire(const kafka::EndQuorumEpochRequest& req);
Result<Message> from_wire(const kafka::FetchSnapshotRequest& req);
Result<FetchSnapshotResponse> from_wire(const kafka::FetchSnapshotResponse& resp);

}  // namespace gregor::raft
