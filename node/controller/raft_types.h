// Plain data of the KRaft-style metadata quorum: log entries, snapshot ids, the persisted hard
// state, the RPC messages, and the Ready batch of effects the Raft state machine (raft.h) hands
// to its host. No behaviour lives here, only shapes; the wire codecs come later and will map these
// structs onto Kafka's Vote / BeginQuorumEpoch / EndQuorumEpoch / Fetch / FetchSnapshot schemas.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.h"

namespace gregor::raft {

using NodeId = int32_t;
inline constexpr NodeId kNoNode = -1;

enum class EntryKind : uint8_t {
  kData,          // a metadata record batch proposed by the host
  kLeaderChange,  // appended by every new leader at the start of its epoch (KRaft's control record)
};

// One entry of the metadata log. Offsets are contiguous from 0; epochs never decrease along it.
struct Entry {
  int64_t offset = 0;
  int32_t epoch = 0;
  EntryKind kind = EntryKind::kData;
  Bytes payload;
  bool operator==(const Entry&) const = default;
};

// A snapshot covers the offsets [0, end_offset); epoch is the epoch of the entry at end_offset - 1
// (KRaft's OffsetAndEpoch snapshot id). The empty snapshot {0, 0} is "no snapshot".
struct SnapshotId {
  int64_t end_offset = 0;
  int32_t epoch = 0;
  bool operator==(const SnapshotId&) const = default;
};

struct Snapshot {
  SnapshotId id;
  Bytes data;  // the host's state machine at id.end_offset, opaque to Raft
};

// KIP-279 style answer: the largest epoch <= the asked one, and the offset where it ends.
struct OffsetAndEpoch {
  int64_t offset = 0;
  int32_t epoch = 0;
  bool operator==(const OffsetAndEpoch&) const = default;
};

// What must survive a crash besides the log (KRaft's quorum-state file).
struct HardState {
  int32_t epoch = 0;
  NodeId voted_for = kNoNode;
  NodeId leader_id = kNoNode;
  bool operator==(const HardState&) const = default;
};

// Everything a node restarts from: the quorum state, the latest snapshot and the log after it.
struct PersistentState {
  HardState hard_state;
  Snapshot snapshot;
  std::vector<Entry> entries;  // entries[0].offset == snapshot.id.end_offset
};

// ---- RPCs (KRaft's pull model; see README.md) ----

// Vote. With pre_vote (KIP-996) epoch is the epoch the candidate *would* take; nobody changes
// state for a pre-vote.
struct VoteRequest {
  int32_t epoch = 0;
  int32_t last_epoch = 0;  // candidate's last log epoch
  int64_t end_offset = 0;  // candidate's log end offset
  bool pre_vote = false;
};
struct VoteResponse {
  int32_t epoch = 0;  // the responder's epoch
  bool granted = false;
  bool pre_vote = false;
};

// Sent by a new leader to every voter until it fetches: "I lead epoch E, fetch from me".
struct BeginQuorumEpochRequest {
  int32_t epoch = 0;
};

// Sent by a resigning leader: forget me and elect someone, best candidates first.
struct EndQuorumEpochRequest {
  int32_t epoch = 0;
  std::vector<NodeId> preferred_successors;
};

// Fetch: the follower's position. The leader answers records from fetch_offset, or the epoch
// where the follower's log diverges (KIP-595), or the id of the snapshot to fetch.
struct FetchRequest {
  int32_t epoch = 0;
  int64_t fetch_offset = 0;
  int32_t last_fetched_epoch = 0;
};

enum class FetchError : uint8_t {
  kNone,
  kFencedLeaderEpoch,  // the request's epoch is older than the responder's
  kNotLeader,          // the responder does not lead this epoch (leader_id says who, if known)
  kUnknownSnapshot,    // FetchSnapshot for a snapshot the leader no longer has
};

struct FetchResponse {
  int32_t epoch = 0;
  NodeId leader_id = kNoNode;
  FetchError error = FetchError::kNone;
  int64_t fetch_offset = 0;  // echoed, so a stale or duplicated response is recognised
  int32_t last_fetched_epoch = 0;
  int64_t high_watermark = -1;  // -1: not known yet (new leader before its first commit)
  std::vector<Entry> records;
  std::optional<OffsetAndEpoch> diverging_epoch;
  std::optional<SnapshotId> snapshot_id;
};

struct FetchSnapshotRequest {
  int32_t epoch = 0;
  SnapshotId snapshot_id;
};
struct FetchSnapshotResponse {
  int32_t epoch = 0;
  NodeId leader_id = kNoNode;
  FetchError error = FetchError::kNone;
  Snapshot snapshot;  // whole, in one response (chunking comes with the wire codec)
};

using MessageBody =
    std::variant<VoteRequest, VoteResponse, BeginQuorumEpochRequest, EndQuorumEpochRequest,
                 FetchRequest, FetchResponse, FetchSnapshotRequest, FetchSnapshotResponse>;

struct Message {
  NodeId from = kNoNode;
  NodeId to = kNoNode;
  MessageBody body;
};

// The effects of the inputs since the last take_ready(). The host must apply them in this order:
//   1. install `snapshot` (replaces the whole log), 2. truncate the log to `truncate_to`,
//   3. append `entries`, 4. delete entries below `log_start_offset` (a local snapshot the host
//   already wrote), 5. write `hard_state`, 6. fsync all of it, and only then 7. expose
//   `high_watermark` (apply committed entries) and 8. send `messages`.
// Because nothing leaves the node before step 6, a leader may count its own appended entries
// towards the majority at once, and a vote or a fetch offset is never acknowledged unsynced.
struct Ready {
  std::optional<Snapshot> snapshot;
  std::optional<int64_t> log_start_offset;
  std::optional<int64_t> truncate_to;
  std::vector<Entry> entries;
  std::optional<HardState> hard_state;
  std::optional<int64_t> high_watermark;
  std::vector<Message> messages;

  bool empty() const {
    return !snapshot && !log_start_offset && !truncate_to && entries.empty() && !hard_state &&
           !high_watermark && messages.empty();
  }
};

// ---- Formatting, for golden transcripts and failure messages ----
std::string to_string(const Entry& e);
std::string to_string(const std::vector<Entry>& entries);
std::string to_string(const Message& m);

}  // namespace gregor::raft
