// The Raft state machine of the KRaft-style metadata quorum, in the etcd-raft style of DESIGN.md:
// pure, single-threaded, no I/O and no clock. Inputs are step(message), tick() (the only clock),
// propose() on the leader and a few host commands (campaign, resign, create_snapshot); outputs
// accumulate in a Ready batch (raft_types.h) that the host takes, persists, fsyncs and only then
// acts on. Randomness (the election timeout jitter) comes from an injected seed.
//
// Replication is KRaft's pull model (KIP-595), not etcd's push: followers Fetch from the leader
// with (fetch_offset, last_fetched_epoch); the leader answers records, or the diverging epoch and
// its end offset so the follower truncates (the partition log's KIP-279 leader-epoch rule), or a
// snapshot id when the follower is behind the leader's log start (then FetchSnapshot). A fetch
// offset is the follower's acknowledgement: it holds [0, fetch_offset) identical to the leader.
// Elections use Vote, with KIP-996 pre-vote first; a new leader announces itself with
// BeginQuorumEpoch (repeated until each voter fetches) and appends a LeaderChange entry; a
// resigning leader sends EndQuorumEpoch. README.md explains the choice.
//
// Contracts the state machine keeps, and that the safety test checks:
//   - at most one leader per epoch; a node's epoch never decreases (it is persisted before any
//     message that depends on it leaves, see Ready);
//   - high watermark = the largest offset replicated on a majority, advanced only once it covers
//     an entry of the leader's own epoch; a new leader reports "unknown" (-1) until then;
//   - a node's high watermark never decreases while it runs, and no committed entry is truncated
//     (asserted: a broken invariant stops the node).
// Voters are a static set of 1, 3 or 5 node ids. A node whose id is not among them is an
// *observer* (KRaft's brokers follow the metadata log so): it never campaigns and never votes,
// and fetches from the leader it knows like a follower; without one it probes the voters in turn
// (one fetch per fetch_retry_ticks, from a seeded starting point) until an answer names the
// leader, and it forgets a leader that stays silent for an election timeout. The leader answers
// an observer's fetch as a voter's, but observers never count towards the high watermark or
// check-quorum and get no BeginQuorumEpoch.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "base/random.h"
#include "node/controller/raft_log.h"
#include "node/controller/raft_types.h"

namespace gregor::raft {

struct RaftConfig {
  NodeId id = kNoNode;
  std::vector<NodeId> voters;  // 1, 3 or 5 ids; a node not among them is an observer
  // Followers that have not had a fetch answered, and candidates that have not won, start an
  // election after a timeout drawn uniformly from [election_timeout_ticks, 2x) (Raft's jitter).
  int election_timeout_ticks = 10;
  // A follower resends a fetch that got no answer after this many ticks (a lost request).
  int fetch_retry_ticks = 3;
  // A leader repeats BeginQuorumEpoch to voters that have not fetched in its epoch this often.
  int begin_quorum_retry_ticks = 3;
  // Named limits: entries in one fetch answer, and uncommitted entries a leader accepts.
  size_t fetch_entries_max = 16;
  int64_t uncommitted_entries_max = 1024;
  // KIP-996. Switched off only to reproduce the legacy behaviour (KAFKA-15489).
  bool pre_vote = true;      // a prospective candidate asks first; epochs bump only on a win
  bool check_quorum = true;  // a leader not fetched from by a majority for a timeout resigns
  uint64_t seed = 0;         // election jitter
};

enum class Role : uint8_t {
  kUnattached,   // no known leader in this epoch (maybe voted); also a resigned leader
  kFollower,     // knows the leader of this epoch and fetches from it
  kProspective,  // pre-voting (KIP-996); keeps fetching from a known leader meanwhile
  kCandidate,    // voted for itself in a new epoch, collecting votes
  kLeader,
  kObserver,  // not a voter: follows the leader it knows (leader_id), or probes the voters
};
const char* to_string(Role role);

class Raft {
 public:
  Raft(RaftConfig config, const PersistentState& restored);

  void tick();
  void step(const Message& message);
  // Appends data entries on the leader. Returns the offset of the first, or -1 when this node is
  // not the leader or the uncommitted backlog is at its limit (the caller retries elsewhere).
  int64_t propose(const std::vector<Bytes>& payloads);
  // Starts an election now, as if the election timeout had passed (tools and tests).
  void campaign();
  // Leader only: gives up leadership (EndQuorumEpoch to the others). No-op otherwise.
  void resign();
  // The host's state at end_offset (<= high watermark) becomes the snapshot; older entries go.
  void create_snapshot(int64_t end_offset, Bytes data);

  bool has_ready() const { return !ready_.empty(); }
  Ready take_ready();

  NodeId id() const { return config_.id; }
  Role role() const { return role_; }
  int32_t epoch() const { return hard_.epoch; }
  NodeId leader_id() const { return hard_.leader_id; }
  NodeId voted_for() const { return hard_.voted_for; }
  bool observer() const { return observer_; }
  // The high watermark this node knows; -1 for a leader that has not committed in its epoch.
  int64_t high_watermark() const;
  const RaftLog& log() const { return log_; }

 private:
  struct Progress {
    int64_t match_offset = 0;  // the follower holds [0, match_offset) as the leader does
    bool fetched_this_epoch = false;
    int64_t last_fetch_tick = 0;  // leader_ticks_ when it last fetched (check-quorum)
  };

  // Role transitions.
  void become_unattached(int32_t epoch, NodeId voted_for);
  void become_follower(int32_t epoch, NodeId leader);
  void become_prospective();
  void become_candidate();
  void become_leader();
  // Role::kUnattached, or kObserver for an observer (whose role never changes).
  Role waiting_role() const;
  Role following_role() const;
  void start_election();
  void reset_election_timer();
  void set_hard_state(HardState hs);

  // Message handlers.
  void on_vote_request(NodeId from, const VoteRequest& req);
  void on_vote_response(NodeId from, const VoteResponse& resp);
  void on_begin_quorum_epoch(NodeId from, const BeginQuorumEpochRequest& req);
  void on_end_quorum_epoch(NodeId from, const EndQuorumEpochRequest& req);
  void on_fetch_request(NodeId from, const FetchRequest& req);
  void on_fetch_response(NodeId from, const FetchResponse& resp);
  void on_fetch_snapshot_request(NodeId from, const FetchSnapshotRequest& req);
  void on_fetch_snapshot_response(NodeId from, const FetchSnapshotResponse& resp);
  // The epoch a message speaks for, and whether it names its sender as that epoch's leader.
  void observe_epoch(NodeId from, const MessageBody& body);

  // Leader side of replication.
  FetchResponse answer_fetch(NodeId from, const FetchRequest& req);
  void maybe_advance_high_watermark();
  void tick_leader();
  // Follower side.
  void send_fetch();
  void tick_follower();
  void tick_observer();
  // Observer without a known leader: fetches from the next voter in turn.
  void probe_next_voter();
  void advance_high_watermark(int64_t hw);
  void truncate_diverging(const OffsetAndEpoch& diverging);

  void send(NodeId to, MessageBody body);
  bool is_voter(NodeId id) const;
  // Follower (or observer) of `leader` in the current epoch.
  bool following(NodeId leader) const;
  size_t majority() const { return config_.voters.size() / 2 + 1; }
  bool log_up_to_date(int32_t last_epoch, int64_t end_offset) const;

  RaftConfig config_;
  bool observer_ = false;
  Random random_;
  HardState hard_;
  RaftLog log_;
  Role role_ = Role::kUnattached;
  int64_t high_watermark_ = 0;
  Ready ready_;

  // Timers, in ticks.
  int election_elapsed_ = 0;
  int election_timeout_ = 0;  // randomized
  int fetch_elapsed_ = 0;
  bool fetch_in_flight_ = false;
  int begin_quorum_elapsed_ = 0;
  // Follower: ticks since the leader last answered a fetch (KIP-996 pre-vote rejection; an
  // observer forgets a leader silent for an election timeout).
  int leader_silent_ticks_ = 0;
  // Observer: the index in voters of the next voter to probe.
  size_t probe_next_ = 0;

  std::set<NodeId> votes_granted_;
  // Leader state.
  std::map<NodeId, Progress> progress_;
  int64_t leader_ticks_ = 0;        // ticks since this node became leader
  int64_t epoch_start_offset_ = 0;  // offset of this leader's LeaderChange entry
  bool high_watermark_known_ = false;
};

}  // namespace gregor::raft
