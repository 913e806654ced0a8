// Replication in KRaft's pull model: followers fetch, the leader answers, a fetch offset is an
// acknowledgement, and the high watermark follows the majority of fetch offsets.
#include <algorithm>

#include "base/assert.h"
#include "node/controller/raft.h"

namespace gregor::raft {

// ---- Leader ----

void Raft::on_fetch_request(NodeId from, const FetchRequest& req) {
  FetchResponse resp{hard_.epoch, hard_.leader_id, FetchError::kNone, req.fetch_offset,
                     req.last_fetched_epoch};
  if (req.epoch < hard_.epoch) {
    resp.error = FetchError::kFencedLeaderEpoch;  // tells the sender the epoch and its leader
  } else if (role_ != Role::kLeader) {
    resp.error = FetchError::kNotLeader;
  } else {
    resp = answer_fetch(from, req);
  }
  send(from, std::move(resp));
}

// KIP-595: (fetch_offset, last_fetched_epoch) must name a point of our log. If the follower's
// last epoch ends earlier here, or we never had it, answer where our log's version of that epoch
// ends; the follower truncates there and asks again.
FetchResponse Raft::answer_fetch(NodeId from, const FetchRequest& req) {
  FetchResponse resp{hard_.epoch, config_.id, FetchError::kNone, req.fetch_offset,
                     req.last_fetched_epoch};
  // Observers have no Progress: they count towards neither the high watermark nor check-quorum.
  auto p = progress_.find(from);
  if (p != progress_.end()) {
    p->second.fetched_this_epoch = true;
    p->second.last_fetch_tick = leader_ticks_;
  }
  std::optional<OffsetAndEpoch> end = log_.end_offset_for_epoch(req.last_fetched_epoch);
  if (req.fetch_offset < log_.start_offset() || !end) {
    // Behind our log start (or older than the snapshot can tell): only the snapshot helps.
    resp.snapshot_id = log_.snapshot().id;
  } else if (end->epoch != req.last_fetched_epoch || req.fetch_offset > end->offset) {
    resp.diverging_epoch = OffsetAndEpoch{std::min(end->offset, req.fetch_offset), end->epoch};
  } else {
    // Log matching: the follower holds [0, fetch_offset) exactly as we do.
    if (p != progress_.end()) {
      p->second.match_offset = std::max(p->second.match_offset, req.fetch_offset);
    }
    resp.records = log_.read(req.fetch_offset, config_.fetch_entries_max);
    maybe_advance_high_watermark();
  }
  resp.high_watermark = high_watermark();
  return resp;
}

// The largest offset held by a majority (our own log counts: Ready persists it before anything
// that could reveal the commit leaves the node), but only once it includes our LeaderChange.
void Raft::maybe_advance_high_watermark() {
  GREGOR_ASSERT(role_ == Role::kLeader);
  std::vector<int64_t> ends{log_.end_offset()};
  for (const auto& [id, p] : progress_) ends.push_back(p.match_offset);
  std::sort(ends.begin(), ends.end(), std::greater<>());
  int64_t majority_end = ends[majority() - 1];
  if (majority_end <= epoch_start_offset_) return;
  high_watermark_known_ = true;
  advance_high_watermark(majority_end);
}

void Raft::advance_high_watermark(int64_t hw) {
  if (hw <= high_watermark_) return;
  GREGOR_ASSERT(hw <= log_.end_offset(), "high watermark {} past log end {}", hw,
                log_.end_offset());
  high_watermark_ = hw;
  ready_.high_watermark = hw;
}

void Raft::on_fetch_snapshot_request(NodeId from, const FetchSnapshotRequest& req) {
  FetchSnapshotResponse resp{hard_.epoch, hard_.leader_id, FetchError::kNone, {}};
  if (req.epoch < hard_.epoch) {
    resp.error = FetchError::kFencedLeaderEpoch;
  } else if (role_ != Role::kLeader) {
    resp.error = FetchError::kNotLeader;
  } else if (req.snapshot_id != log_.snapshot().id) {
    resp.error = FetchError::kUnknownSnapshot;  // compacted again since; fetch anew
  } else {
    if (auto p = progress_.find(from); p != progress_.end()) {
      p->second.last_fetch_tick = leader_ticks_;  // a voter's (observers have no Progress)
    }
    resp.snapshot = log_.snapshot();
  }
  send(from, std::move(resp));
}

// ---- Follower ----

void Raft::send_fetch() {
  GREGOR_ASSERT(hard_.leader_id != kNoNode && hard_.leader_id != config_.id);
  send(hard_.leader_id, FetchRequest{hard_.epoch, log_.end_offset(), log_.last_epoch()});
  fetch_in_flight_ = true;
  fetch_elapsed_ = 0;
}

void Raft::tick_follower() {
  bool fetching =
      role_ == Role::kFollower || role_ == Role::kProspective || role_ == Role::kObserver;
  if (!fetching || hard_.leader_id == kNoNode) return;
  // One fetch at a time; a new one each tick when idle (the pull model's heartbeat), and a
  // retry when an answer is overdue (lost request or answer).
  if (!fetch_in_flight_ || ++fetch_elapsed_ >= config_.fetch_retry_ticks) send_fetch();
}

void Raft::on_fetch_response(NodeId from, const FetchResponse& resp) {
  if (resp.epoch != hard_.epoch || role_ == Role::kLeader) return;
  if (resp.error != FetchError::kNone) {
    fetch_in_flight_ = false;
    if (resp.leader_id != kNoNode && resp.leader_id != hard_.leader_id &&
        resp.leader_id != config_.id && role_ != Role::kCandidate) {
      become_follower(hard_.epoch, resp.leader_id);
    }
    return;
  }
  GREGOR_ASSERT(resp.leader_id == from, "fetch answered by {} for leader {}", from, resp.leader_id);
  if (role_ == Role::kProspective && hard_.leader_id == from) {
    role_ = Role::kFollower;  // the leader answers again: the pre-vote is moot
  } else if (!following(from)) {
    // An answer from this epoch's leader ends an unattached wait or a lost candidacy.
    GREGOR_ASSERT(hard_.leader_id == kNoNode || hard_.leader_id == from);
    become_follower(hard_.epoch, from);
    return;  // become_follower sent a fresh fetch; this answer may be for an older position
  }
  // A duplicated or overtaken answer is for a position we are no longer at.
  if (resp.fetch_offset != log_.end_offset() || resp.last_fetched_epoch != log_.last_epoch()) {
    return;
  }
  fetch_in_flight_ = false;
  leader_silent_ticks_ = 0;
  reset_election_timer();
  if (resp.snapshot_id) {
    send(from, FetchSnapshotRequest{hard_.epoch, *resp.snapshot_id});
    fetch_in_flight_ = true;
    fetch_elapsed_ = 0;
    return;
  }
  if (resp.diverging_epoch) {
    truncate_diverging(*resp.diverging_epoch);
    send_fetch();
    return;
  }
  for (const Entry& e : resp.records) {
    log_.append(e);
    ready_.entries.push_back(e);
  }
  // The leader's high watermark, capped by what we hold (all of it matches the leader's log).
  if (resp.high_watermark >= 0) {
    advance_high_watermark(std::min(resp.high_watermark, log_.end_offset()));
  }
  if (!resp.records.empty()) send_fetch();  // catching up: ask for the next batch at once
}

// Truncate to where our log and the leader's last agree, as far as one answer can tell: the
// smaller of the leader's end of that epoch and ours. Committed entries are identical on every
// log up to the high watermark, so this never goes below it.
void Raft::truncate_diverging(const OffsetAndEpoch& diverging) {
  std::optional<OffsetAndEpoch> mine = log_.end_offset_for_epoch(diverging.epoch);
  int64_t to = mine ? std::min(diverging.offset, mine->offset) : log_.start_offset();
  to = std::max(to, log_.start_offset());
  GREGOR_ASSERT(to >= high_watermark_, "truncating to {} below the high watermark {}", to,
                high_watermark_);
  GREGOR_ASSERT(to < log_.end_offset() || diverging.offset < log_.end_offset(),
                "diverging answer that truncates nothing");
  log_.truncate_to(to);
  std::erase_if(ready_.entries, [&](const Entry& e) { return e.offset >= to; });
  ready_.truncate_to = std::min(ready_.truncate_to.value_or(to), to);
}

void Raft::on_fetch_snapshot_response(NodeId from, const FetchSnapshotResponse& resp) {
  if (resp.epoch != hard_.epoch || !following(from)) return;
  fetch_in_flight_ = false;
  const SnapshotId& id = resp.snapshot.id;
  if (resp.error != FetchError::kNone || id.end_offset <= log_.start_offset() ||
      id.end_offset < high_watermark_) {
    send_fetch();
    return;
  }
  // Our log may have moved on while the snapshot was on its way (a late answer to an older fetch
  // brought entries). If it holds the snapshot's last entry, of the same epoch, it holds the same
  // prefix; installing would drop the entries after it, which our fetches may already have
  // acknowledged (the leader may have committed them counting us).
  if (id.end_offset <= log_.end_offset() && log_.epoch_at(id.end_offset - 1) == id.epoch) {
    send_fetch();
    return;
  }
  // The snapshot is the leader's committed state: it replaces our whole log.
  log_.install(resp.snapshot);
  ready_ = Ready{.snapshot = resp.snapshot,
                 .hard_state = ready_.hard_state,
                 .high_watermark = ready_.high_watermark,
                 .messages = std::move(ready_.messages)};
  leader_silent_ticks_ = 0;
  reset_election_timer();
  advance_high_watermark(id.end_offset);
  send_fetch();
}

// ---- Observer ----

// KRaft's observer: follow the leader it knows; a leader silent for an election timeout is
// forgotten (it may be gone for good), and then the voters are asked in turn, one fetch per retry
// period, until an answer names the leader (a NOT_LEADER or FENCED_LEADER_EPOCH answer naming it,
// or the leader's own answer).
void Raft::tick_observer() {
  if (hard_.leader_id != kNoNode && ++leader_silent_ticks_ >= config_.election_timeout_ticks) {
    become_unattached(hard_.epoch, kNoNode);
  }
  if (hard_.leader_id != kNoNode) {
    tick_follower();
    return;
  }
  if (++fetch_elapsed_ >= config_.fetch_retry_ticks) probe_next_voter();
}

void Raft::probe_next_voter() {
  GREGOR_ASSERT(observer_ && hard_.leader_id == kNoNode);
  NodeId to = config_.voters[probe_next_];
  probe_next_ = (probe_next_ + 1) % config_.voters.size();
  send(to, FetchRequest{hard_.epoch, log_.end_offset(), log_.last_epoch()});
  fetch_in_flight_ = true;
  fetch_elapsed_ = 0;
}

// ---- Snapshots taken locally ----

void Raft::create_snapshot(int64_t end_offset, Bytes data) {
  GREGOR_ASSERT(end_offset > log_.start_offset() && end_offset <= high_watermark_,
                "snapshot at {} outside (log start {}, high watermark {}]", end_offset,
                log_.start_offset(), high_watermark_);
  log_.compact(Snapshot{{end_offset, log_.epoch_at(end_offset - 1)}, std::move(data)});
  ready_.log_start_offset = end_offset;
}

}  // namespace gregor::raft
