// The Raft state machine: roles and elections here; replication (Fetch, FetchSnapshot) in
// raft_replication.cc. Why each rule exists is said where it is applied.
#include "node/controller/raft.h"

#include <algorithm>

#include "base/assert.h"

namespace gregor::raft {

const char* to_string(Role role) {
  switch (role) {
    case Role::kUnattached:
      return "unattached";
    case Role::kFollower:
      return "follower";
    case Role::kProspective:
      return "prospective";
    case Role::kCandidate:
      return "candidate";
    case Role::kLeader:
      return "leader";
    case Role::kObserver:
      return "observer";
  }
  GREGOR_UNREACHABLE("role");
}

Raft::Raft(RaftConfig config, const PersistentState& restored)
    : config_(std::move(config)),
      observer_(!is_voter(config_.id)),
      random_(config_.seed),
      hard_(restored.hard_state),
      log_(restored),
      high_watermark_(restored.snapshot.id.end_offset) {
  size_t n = config_.voters.size();
  GREGOR_ASSERT(n == 1 || n == 3 || n == 5, "{} voters; a quorum has 1, 3 or 5", n);
  GREGOR_ASSERT(config_.id != kNoNode, "a node needs an id");
  GREGOR_ASSERT(config_.election_timeout_ticks > 0 && config_.fetch_retry_ticks > 0 &&
                config_.begin_quorum_retry_ticks > 0 && config_.fetch_entries_max > 0);
  // A leader that crashed comes back resigned (KRaft): it may not lead this epoch again, and it
  // has voted for itself, so it cannot vote for anyone else in it either. The high watermark is
  // not persisted; it is learnt again from the next leader (or the snapshot, which is committed).
  if (hard_.leader_id == config_.id) {
    set_hard_state({hard_.epoch, hard_.voted_for, kNoNode});
  }
  role_ = hard_.leader_id == kNoNode ? waiting_role() : following_role();
  if (observer_) {
    // Observers spread their probes over the voters rather than all asking the same one first;
    // the seed keeps it deterministic. (Voters draw nothing here: their jitter stays as it was.)
    probe_next_ = static_cast<size_t>(random_.uniform(0, config_.voters.size() - 1));
    fetch_elapsed_ = config_.fetch_retry_ticks;  // the first tick probes
  }
  reset_election_timer();
}

int64_t Raft::high_watermark() const {
  return role_ == Role::kLeader && !high_watermark_known_ ? -1 : high_watermark_;
}

Ready Raft::take_ready() {
  Ready out = std::move(ready_);
  ready_ = Ready{};
  return out;
}

bool Raft::is_voter(NodeId id) const {
  return std::find(config_.voters.begin(), config_.voters.end(), id) != config_.voters.end();
}

bool Raft::following(NodeId leader) const {
  return (role_ == Role::kFollower || role_ == Role::kObserver) && hard_.leader_id == leader;
}

Role Raft::waiting_role() const {
  return observer_ ? Role::kObserver : Role::kUnattached;
}

Role Raft::following_role() const {
  return observer_ ? Role::kObserver : Role::kFollower;
}

void Raft::send(NodeId to, MessageBody body) {
  GREGOR_ASSERT(to != config_.id, "message to self");
  ready_.messages.push_back(Message{config_.id, to, std::move(body)});
}

void Raft::set_hard_state(HardState hs) {
  GREGOR_ASSERT(hs.epoch >= hard_.epoch, "epoch {} -> {}", hard_.epoch, hs.epoch);
  if (hs == hard_) return;
  hard_ = hs;
  ready_.hard_state = hs;
}

void Raft::reset_election_timer() {
  election_elapsed_ = 0;
  int t = config_.election_timeout_ticks;
  election_timeout_ = t + static_cast<int>(random_.uniform(0, static_cast<uint64_t>(t - 1)));
}

// Candidate's log is at least as up to date as ours: compare (last epoch, end offset).
bool Raft::log_up_to_date(int32_t last_epoch, int64_t end_offset) const {
  if (last_epoch != log_.last_epoch()) return last_epoch > log_.last_epoch();
  return end_offset >= log_.end_offset();
}

// ---- Inputs ----

void Raft::tick() {
  if (role_ == Role::kLeader) {
    tick_leader();
    return;
  }
  if (observer_) {
    tick_observer();
    return;
  }
  tick_follower();
  leader_silent_ticks_++;
  if (++election_elapsed_ >= election_timeout_) start_election();
}

void Raft::campaign() {
  if (role_ != Role::kLeader && !observer_) start_election();
}

int64_t Raft::propose(const std::vector<Bytes>& payloads) {
  if (role_ != Role::kLeader) return -1;
  // A leader cut off from its quorum would otherwise grow its log without bound.
  if (log_.end_offset() - high_watermark_ >= config_.uncommitted_entries_max) return -1;
  int64_t first = log_.end_offset();
  for (const Bytes& p : payloads) {
    Entry e{log_.end_offset(), hard_.epoch, EntryKind::kData, p};
    log_.append(e);
    ready_.entries.push_back(std::move(e));
  }
  maybe_advance_high_watermark();
  return first;
}

void Raft::resign() {
  if (role_ != Role::kLeader) return;
  // Best successors first: the voters known to hold the most of our log win elections soonest.
  std::vector<NodeId> successors;
  for (const auto& [id, p] : progress_) successors.push_back(id);
  std::stable_sort(successors.begin(), successors.end(), [&](NodeId a, NodeId b) {
    return progress_.at(a).match_offset > progress_.at(b).match_offset;
  });
  for (NodeId id : successors) send(id, EndQuorumEpochRequest{hard_.epoch, successors});
  become_unattached(hard_.epoch, hard_.voted_for);
}

void Raft::step(const Message& message) {
  GREGOR_ASSERT(message.to == config_.id, "message for {} stepped into {}", message.to, config_.id);
  // Non-voters only fetch (they never campaign), and nobody asks an observer for a vote: anything
  // else is a confused peer's, and taking it could let a non-voter sway an election.
  bool fetching = std::holds_alternative<FetchRequest>(message.body) ||
                  std::holds_alternative<FetchSnapshotRequest>(message.body);
  if (!is_voter(message.from) && !fetching) return;
  bool vote = std::holds_alternative<VoteRequest>(message.body) ||
              std::holds_alternative<VoteResponse>(message.body);
  if (observer_ && vote) return;
  observe_epoch(message.from, message.body);
  std::visit(
      [&](const auto& body) {
        using T = std::decay_t<decltype(body)>;
        if constexpr (std::is_same_v<T, VoteRequest>) on_vote_request(message.from, body);
        if constexpr (std::is_same_v<T, VoteResponse>) on_vote_response(message.from, body);
        if constexpr (std::is_same_v<T, BeginQuorumEpochRequest>) {
          on_begin_quorum_epoch(message.from, body);
        }
        if constexpr (std::is_same_v<T, EndQuorumEpochRequest>) {
          on_end_quorum_epoch(message.from, body);
        }
        if constexpr (std::is_same_v<T, FetchRequest>) on_fetch_request(message.from, body);
        if constexpr (std::is_same_v<T, FetchResponse>) on_fetch_response(message.from, body);
        if constexpr (std::is_same_v<T, FetchSnapshotRequest>) {
          on_fetch_snapshot_request(message.from, body);
        }
        if constexpr (std::is_same_v<T, FetchSnapshotResponse>) {
          on_fetch_snapshot_response(message.from, body);
        }
      },
      message.body);
}

// Every message but a pre-vote request speaks for an epoch its sender really is in; a larger one
// than ours means ours is over. Messages that come from that epoch's leader make us follow it.
void Raft::observe_epoch(NodeId from, const MessageBody& body) {
  int32_t epoch = std::visit([](const auto& b) { return b.epoch; }, body);
  if (const auto* v = std::get_if<VoteRequest>(&body); v != nullptr && v->pre_vote) return;
  if (epoch <= hard_.epoch) return;
  NodeId leader = kNoNode;
  if (std::holds_alternative<BeginQuorumEpochRequest>(body)) leader = from;
  if (const auto* r = std::get_if<FetchResponse>(&body)) leader = r->leader_id;
  if (const auto* r = std::get_if<FetchSnapshotResponse>(&body)) leader = r->leader_id;
  if (leader != kNoNode && leader != config_.id) {
    become_follower(epoch, leader);
  } else {
    become_unattached(epoch, kNoNode);
  }
}

// ---- Roles ----

void Raft::become_unattached(int32_t epoch, NodeId voted_for) {
  set_hard_state({epoch, voted_for, kNoNode});
  role_ = waiting_role();
  fetch_in_flight_ = false;
  if (observer_) fetch_elapsed_ = config_.fetch_retry_ticks;  // probe the voters at the next tick
  progress_.clear();
  reset_election_timer();
}

void Raft::become_follower(int32_t epoch, NodeId leader) {
  GREGOR_ASSERT(leader != config_.id && leader != kNoNode);
  NodeId voted = epoch == hard_.epoch ? hard_.voted_for : kNoNode;
  set_hard_state({epoch, voted, leader});
  role_ = following_role();
  progress_.clear();
  leader_silent_ticks_ = 0;
  reset_election_timer();
  send_fetch();
}

void Raft::start_election() {
  GREGOR_ASSERT(!observer_, "observer {} campaigns", config_.id);
  if (config_.pre_vote) {
    become_prospective();
  } else {
    become_candidate();
  }
}

// KIP-996: ask before bumping the epoch. A node cut off from the quorum keeps failing here at
// its old epoch, so when it comes back it has no larger epoch to disrupt the leader with. It
// keeps a known leader and keeps fetching: an answer makes it a follower again.
void Raft::become_prospective() {
  role_ = Role::kProspective;
  votes_granted_ = {config_.id};
  reset_election_timer();
  if (votes_granted_.size() >= majority()) {
    become_candidate();
    return;
  }
  for (NodeId v : config_.voters) {
    if (v == config_.id) continue;
    send(v, VoteRequest{hard_.epoch + 1, log_.last_epoch(), log_.end_offset(), true});
  }
}

void Raft::become_candidate() {
  set_hard_state({hard_.epoch + 1, config_.id, kNoNode});
  role_ = Role::kCandidate;
  fetch_in_flight_ = false;
  votes_granted_ = {config_.id};
  reset_election_timer();
  if (votes_granted_.size() >= majority()) {
    become_leader();
    return;
  }
  for (NodeId v : config_.voters) {
    if (v == config_.id) continue;
    send(v, VoteRequest{hard_.epoch, log_.last_epoch(), log_.end_offset(), false});
  }
}

// The LeaderChange entry gives the new epoch an entry of its own: the high watermark stays
// unknown until that entry is on a majority, because only then is every entry before it (written
// by older leaders) known to be committed (Raft's figure 8).
void Raft::become_leader() {
  GREGOR_ASSERT(role_ == Role::kCandidate);
  set_hard_state({hard_.epoch, config_.id, config_.id});
  role_ = Role::kLeader;
  progress_.clear();
  for (NodeId v : config_.voters) {
    if (v != config_.id) progress_[v] = Progress{};
  }
  leader_ticks_ = 0;
  begin_quorum_elapsed_ = 0;
  high_watermark_known_ = false;
  epoch_start_offset_ = log_.end_offset();
  Entry e{epoch_start_offset_, hard_.epoch, EntryKind::kLeaderChange, {}};
  log_.append(e);
  ready_.entries.push_back(std::move(e));
  for (const auto& [id, p] : progress_) send(id, BeginQuorumEpochRequest{hard_.epoch});
  maybe_advance_high_watermark();
}

void Raft::tick_leader() {
  if (++begin_quorum_elapsed_ >= config_.begin_quorum_retry_ticks) {
    begin_quorum_elapsed_ = 0;
    for (const auto& [id, p] : progress_) {
      if (!p.fetched_this_epoch) send(id, BeginQuorumEpochRequest{hard_.epoch});
    }
  }
  if (!config_.check_quorum) return;
  // Check-quorum: without it a leader cut off from the majority leads on forever at its old
  // epoch while the others elect a new one (KAFKA-15489). A voter counts while its last fetch is
  // less than an election timeout old; a new leader gives every voter one timeout of grace.
  leader_ticks_++;
  size_t heard = 1;
  for (const auto& [id, p] : progress_) {
    if (leader_ticks_ - p.last_fetch_tick < config_.election_timeout_ticks) heard++;
  }
  if (heard < majority()) resign();
}

// ---- Votes ----

void Raft::on_vote_request(NodeId from, const VoteRequest& req) {
  bool up_to_date = log_up_to_date(req.last_epoch, req.end_offset);
  if (req.pre_vote) {
    // KIP-996: refuse while a leader is alive for us, so one node's lost link cannot start an
    // election the rest of the quorum does not need.
    bool leader_alive =
        role_ == Role::kLeader ||
        (hard_.leader_id != kNoNode && leader_silent_ticks_ < config_.election_timeout_ticks);
    bool granted = req.epoch > hard_.epoch && up_to_date && !leader_alive;
    send(from, VoteResponse{hard_.epoch, granted, true});
    return;
  }
  // observe_epoch has moved us to req.epoch if it was larger.
  bool granted = req.epoch == hard_.epoch && hard_.leader_id == kNoNode &&
                 (hard_.voted_for == kNoNode || hard_.voted_for == from) && up_to_date &&
                 role_ != Role::kLeader && role_ != Role::kCandidate;
  if (granted) {
    set_hard_state({hard_.epoch, from, kNoNode});
    role_ = Role::kUnattached;
    reset_election_timer();
  }
  send(from, VoteResponse{hard_.epoch, granted, false});
}

void Raft::on_vote_response(NodeId from, const VoteResponse& resp) {
  if (!resp.granted || resp.epoch > hard_.epoch) return;
  if (resp.pre_vote && role_ == Role::kProspective) {
    votes_granted_.insert(from);
    if (votes_granted_.size() >= majority()) become_candidate();
  } else if (!resp.pre_vote && role_ == Role::kCandidate && resp.epoch == hard_.epoch) {
    votes_granted_.insert(from);
    if (votes_granted_.size() >= majority()) become_leader();
  }
}

void Raft::on_begin_quorum_epoch(NodeId from, const BeginQuorumEpochRequest& req) {
  if (req.epoch != hard_.epoch) return;  // older: our fetches will tell it
  GREGOR_ASSERT(role_ != Role::kLeader, "two leaders in epoch {}: {} and {}", hard_.epoch,
                config_.id, from);
  if (following(from)) return;
  become_follower(hard_.epoch, from);
}

void Raft::on_end_quorum_epoch(NodeId from, const EndQuorumEpochRequest& req) {
  if (req.epoch != hard_.epoch || hard_.leader_id != from || role_ == Role::kLeader) return;
  become_unattached(hard_.epoch, hard_.voted_for);
  // The first preferred successor campaigns at once; the others wait a normal timeout, which
  // gives it the time to win.
  if (!observer_ && !req.preferred_successors.empty() &&
      req.preferred_successors.front() == config_.id) {
    start_election();
  }
}

}  // namespace gregor::raft
