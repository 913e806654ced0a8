// Maps the Raft core's plain messages (raft_types.h) onto Kafka's KRaft wire messages
// (node/kafka/messages_raft.h; Fetch from node/kafka/messages_data.h) and back. Every quorum RPC
// names the one metadata partition, __cluster_metadata-0. The sender's id travels in the wire
// requests (Vote's candidate_id, the leader_id of Begin/EndQuorumEpoch, the replica_id of Fetch
// and FetchSnapshot): to_wire takes it and from_wire
// returns a raft::Message with `from` set (`to` stays kNoNode: the receiver knows itself).
// Responses carry no sender id; the host knows which connection answered.
//
// Contracts:
// - raft -> wire -> raft is the identity for every field the raft structs have (Fetch's echo
//   through the requester, see below).
// - Vote's pre_vote rides in Gregor's tagged field (kafka::kGregorPreVoteTag, messages_raft.h):
//   Kafka 3.7's Vote has no pre-vote flag (KIP-996 adds one in Vote v2).
// - from_wire never asserts on what a peer sent: a message that is not exactly one topic
//   __cluster_metadata with one partition 0, an error code it cannot map, a top-level error, or a
//   FetchSnapshot chunk that is not the whole snapshot is Errc::invalid_argument. Checking the
//   cluster id is the host's business (it is in the kafka message).
// - Fetch (the follower's and the observer's pull) is Kafka's Fetch v13, as KRaft sends it: one
//   topic named by its topic id metadata_topic_id() (v13 has no topic name), one partition 0.
//   Request: replica_id = the fetcher (v13 has no replica_state, that is v15+),
//   current_leader_epoch = epoch, fetch_offset, last_fetched_epoch, log_start_offset -1.
//   Response: the partition's error code, high_watermark (-1: unknown), current_leader = {leader,
//   epoch}, the tagged diverging_epoch and snapshot_id ({-1, -1}, Kafka's default, is "absent"),
//   and the records: each entry one record batch (raft_entry_codec.h), concatenated.
// - Kafka's FetchResponse has no room for the raft FetchResponse's echo of the request
//   (fetch_offset, last_fetched_epoch), by which the Raft core recognises a stale or duplicated
//   answer. The requester knows it: a Kafka response answers exactly one request (the
//   correlation id), so the host keeps the FetchRequest it sent and from_wire takes it as
//   `asked` and copies the echo from it. The records must then start exactly at
//   asked.fetch_offset, be contiguous, with epochs from asked.last_fetched_epoch up to the
//   response's epoch, non-decreasing (the leader answers records only from a point of its log
//   that matches the fetcher's); anything else is refused, so a confused or hostile peer cannot
//   make the core append a log that breaks its invariants.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "node/controller/raft_types.h"
#include "node/kafka/messages_data.h"
#include "node/kafka/messages_raft.h"

namespace gregor::raft {

inline constexpr std::string_view kMetadataTopic = "__cluster_metadata";
inline constexpr int32_t kMetadataPartition = 0;

// The Fetch version of the quorum (the first with topic ids and every KRaft tagged field).
inline constexpr int16_t kRaftFetchVersion = 13;
// Fetch's max_wait_ms. Small: the Raft core answers a fetch at once and fetches again each tick
// on its own (its pull is the heartbeat), so a long poll would only delay elections' timers.
inline constexpr int32_t kRaftFetchMaxWaitMs = 50;
// Fetch's max_bytes and partition_max_bytes (KRaft's MAX_FETCH_SIZE_BYTES); the core bounds an
// answer by entries (RaftConfig::fetch_entries_max).
inline constexpr int32_t kRaftFetchBytesMax = 8 << 20;

// KRaft's Topic.CLUSTER_METADATA_TOPIC_ID: Uuid(0, 1).
kafka::Uuid metadata_topic_id();

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
kafka::FetchRequest to_wire(const FetchRequest& req, NodeId replica_id,
                            const std::optional<std::string>& cluster_id = std::nullopt);
// The echo (fetch_offset, last_fetched_epoch) does not travel; see the contracts above.
kafka::FetchResponse to_wire(const FetchResponse& resp);

Result<Message> from_wire(const kafka::VoteRequest& req);
Result<VoteResponse> from_wire(const kafka::VoteResponse& resp);
Result<Message> from_wire(const kafka::BeginQuorumEpochRequest& req);
Result<Message> from_wire(const kafka::EndQuorumEpochRequest& req);
Result<Message> from_wire(const kafka::FetchSnapshotRequest& req);
Result<FetchSnapshotResponse> from_wire(const kafka::FetchSnapshotResponse& resp);
// from = replica_id. Refused (invalid_argument): a negative replica id, fetch offset, epoch or
// last fetched epoch, or a last fetched epoch past the epoch (KRaft's INVALID_REQUEST checks).
Result<Message> from_wire(const kafka::FetchRequest& req);
// `asked` is the request this answers; its fetch_offset and last_fetched_epoch become the echo.
// Refused: a top-level error, not exactly the metadata partition, an unknown error code, a
// diverging epoch or snapshot id half set or both set, records along with an error, a diverging
// epoch or a snapshot id (invalid_argument); records that do not continue the asked position as
// described above (invalid_argument) or are not well-formed entry batches (corrupt).
Result<FetchResponse> from_wire(const kafka::FetchResponse& resp, const FetchRequest& asked);

}  // namespace gregor::raft
