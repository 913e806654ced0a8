// One line per message, in the words of the README's protocol table: golden transcripts are
// documentation, so the formats favour a reader over compactness.
#include "node/controller/raft_types.h"

#include <fmt/format.h>

namespace gregor::raft {

namespace {

const char* to_string(FetchError e) {
  switch (e) {
    case FetchError::kNone:
      return "none";
    case FetchError::kFencedLeaderEpoch:
      return "FENCED_LEADER_EPOCH";
    case FetchError::kNotLeader:
      return "NOT_LEADER";
    case FetchError::kUnknownSnapshot:
      return "UNKNOWN_SNAPSHOT";
  }
  return "?";
}

std::string node(NodeId id) {
  return id == kNoNode ? "none" : fmt::format("{}", id);
}

std::string hw(int64_t hw) {
  return hw < 0 ? "unknown" : fmt::format("{}", hw);
}

std::string body_string(const MessageBody& body) {
  struct Visitor {
    std::string operator()(const VoteRequest& r) {
      return fmt::format("{} epoch={} last_epoch={} end_offset={}", r.pre_vote ? "PreVote" : "Vote",
                         r.epoch, r.last_epoch, r.end_offset);
    }
    std::string operator()(const VoteResponse& r) {
      return fmt::format("{} epoch={} {}", r.pre_vote ? "PreVoteResponse" : "VoteResponse", r.epoch,
                         r.granted ? "granted" : "rejected");
    }
    std::string operator()(const BeginQuorumEpochRequest& r) {
      return fmt::format("BeginQuorumEpoch epoch={}", r.epoch);
    }
    std::string operator()(const EndQuorumEpochRequest& r) {
      return fmt::format("EndQuorumEpoch epoch={} successors=[{}]", r.epoch,
                         fmt::join(r.preferred_successors, ","));
    }
    std::string operator()(const FetchRequest& r) {
      return fmt::format("Fetch epoch={} offset={} last_epoch={}", r.epoch, r.fetch_offset,
                         r.last_fetched_epoch);
    }
    std::string operator()(const FetchResponse& r) {
      std::string s = fmt::format("FetchResponse epoch={} leader={}", r.epoch, node(r.leader_id));
      if (r.error != FetchError::kNone) return s + " error=" + to_string(r.error);
      s += fmt::format(" hw={}", hw(r.high_watermark));
      if (r.diverging_epoch) {
        s += fmt::format(" diverging(epoch={} end_offset={})", r.diverging_epoch->epoch,
                         r.diverging_epoch->offset);
      } else if (r.snapshot_id) {
        s += fmt::format(" snapshot(end_offset={} epoch={})", r.snapshot_id->end_offset,
                         r.snapshot_id->epoch);
      } else {
        s += " records=" + raft::to_string(r.records);
      }
      return s;
    }
    std::string operator()(const FetchSnapshotRequest& r) {
      return fmt::format("FetchSnapshot epoch={} snapshot(end_offset={} epoch={})", r.epoch,
                         r.snapshot_id.end_offset, r.snapshot_id.epoch);
    }
    std::string operator()(const FetchSnapshotResponse& r) {
      std::string s =
          fmt::format("FetchSnapshotResponse epoch={} leader={}", r.epoch, node(r.leader_id));
      if (r.error != FetchError::kNone) return s + " error=" + to_string(r.error);
      return s + fmt::format(" snapshot(end_offset={} epoch={}) {} bytes", r.snapshot.id.end_offset,
                             r.snapshot.id.epoch, r.snapshot.data.size());
    }
  };
  return std::visit(Visitor{}, body);
}

}  // namespace

std::string to_string(const Entry& e) {
  if (e.kind == EntryKind::kLeaderChange)
    return fmt::format("{}@{}:LeaderChange", e.offset, e.epoch);
  return fmt::format("{}@{}:\"{}\"", e.offset, e.epoch, as_chars(e.payload));
}

std::string to_string(const std::vector<Entry>& entries) {
  std::string s = "[";
  for (size_t i = 0; i < entries.size(); ++i) s += (i ? " " : "") + to_string(entries[i]);
  return s + "]";
}

std::string to_string(const Message& m) {
  return fmt::format("{}->{} {}", m.from, m.to, body_string(m.body));
}

}  // namespace gregor::raft
