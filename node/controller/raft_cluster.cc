// The host side of the Raft contract (raft_types.h, Ready), done in memory and synchronously, plus
// the invariant checks. Persisting happens before anything else of a Ready, as the contract says.
#include "node/controller/raft_cluster.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/assert.h"

namespace gregor::raft {

Bytes encode_applied(const std::vector<std::string>& applied) {
  std::string s;
  for (size_t i = 0; i < applied.size(); ++i) s += (i ? "," : "") + applied[i];
  return to_bytes(s);
}

std::vector<std::string> decode_applied(ByteView data) {
  std::vector<std::string> out;
  std::string_view s = as_chars(data);
  while (!s.empty()) {
    size_t comma = s.find(',');
    out.emplace_back(s.substr(0, comma));
    if (comma == std::string_view::npos) break;
    s.remove_prefix(comma + 1);
  }
  return out;
}

Cluster::Cluster(ClusterOptions options) : options_(options) {
  GREGOR_ASSERT(options_.nodes >= 1 && options_.nodes <= 5);
  GREGOR_ASSERT(options_.observers >= 0 && options_.observers <= kObserversMax);
  nodes_.resize(static_cast<size_t>(size()));
  for (NodeId id = 1; id <= size(); ++id) restart(id);
}

Cluster::Node& Cluster::node(NodeId id) {
  GREGOR_ASSERT(id >= 1 && id <= size(), "no node {}", id);
  return nodes_[static_cast<size_t>(id - 1)];
}
const Cluster::Node& Cluster::node(NodeId id) const {
  GREGOR_ASSERT(id >= 1 && id <= size(), "no node {}", id);
  return nodes_[static_cast<size_t>(id - 1)];
}

RaftConfig Cluster::config_for(NodeId id) const {
  RaftConfig c;
  c.id = id;
  for (NodeId v = 1; v <= options_.nodes; ++v) c.voters.push_back(v);
  c.election_timeout_ticks = options_.election_timeout_ticks;
  c.fetch_entries_max = options_.fetch_entries_max;
  c.pre_vote = options_.pre_vote;
  c.check_quorum = options_.check_quorum;
  // Each incarnation draws its own jitter, as a restarted process would.
  c.seed = mix64(options_.seed ^ mix64(static_cast<uint64_t>(id) * 1000003u +
                                       static_cast<uint64_t>(node(id).incarnation)));
  return c;
}

void Cluster::line(NodeId id, const std::string& text) {
  if (options_.record_lines) lines_.push_back(fmt::format("{}: {}", id, text));
}

void Cluster::violation(std::string what) {
  lines_.push_back("VIOLATION: " + what);
  violations_.push_back(std::move(what));
}

void Cluster::tick(NodeId id) {
  if (!up(id)) return;
  node(id).raft->tick();
  process(id);
}

void Cluster::campaign(NodeId id) {
  if (!up(id)) return;
  node(id).raft->campaign();
  process(id);
}

void Cluster::resign(NodeId id) {
  if (!up(id)) return;
  node(id).raft->resign();
  process(id);
}

int64_t Cluster::propose(NodeId id, const std::string& payload) {
  if (!up(id)) return -1;
  int64_t offset = node(id).raft->propose({to_bytes(payload)});
  process(id);
  return offset;
}

void Cluster::deliver(const Message& m) {
  if (!up(m.to)) return;
  node(m.to).raft->step(m);
  process(m.to);
}

void Cluster::crash(NodeId id) {
  Node& n = node(id);
  if (!n.raft) return;
  n.raft.reset();
  stats_.crashes++;
  n.applied.clear();
  n.applied_end = 0;
  n.last_status.clear();
  line(id, "crashed");
}

void Cluster::restart(NodeId id) {
  Node& n = node(id);
  if (n.raft) return;
  n.incarnation++;
  n.raft.emplace(config_for(id), n.disk);
  // The host reloads its state from the snapshot; the log after it is applied as it commits.
  n.applied = decode_applied(n.disk.snapshot.data);
  n.applied_end = n.disk.snapshot.id.end_offset;
  if (n.incarnation > 1) line(id, "restarted");
  process(id);
}

bool Cluster::compact(NodeId id) {
  if (!up(id)) return false;
  Node& n = node(id);
  if (n.applied_end <= n.raft->log().start_offset()) return false;
  Snapshot s{{n.applied_end, n.raft->log().epoch_at(n.applied_end - 1)}, encode_applied(n.applied)};
  n.disk.snapshot = s;  // the host writes its snapshot file first, then tells Raft
  n.raft->create_snapshot(s.id.end_offset, s.data);
  process(id);
  return true;
}

std::vector<Message> Cluster::take_outbox() {
  return std::exchange(outbox_, {});
}
std::vector<std::string> Cluster::take_lines() {
  return std::exchange(lines_, {});
}

void Cluster::persist(NodeId id, Ready& rd) {
  PersistentState& disk = node(id).disk;
  if (rd.snapshot) {
    disk.snapshot = *rd.snapshot;
    disk.entries.clear();
    stats_.snapshots_installed++;
    line(id,
         fmt::format("install snapshot(end_offset={} epoch={}) \"{}\"", rd.snapshot->id.end_offset,
                     rd.snapshot->id.epoch, as_chars(rd.snapshot->data)));
  }
  if (rd.truncate_to) {
    std::erase_if(disk.entries, [&](const Entry& e) { return e.offset >= *rd.truncate_to; });
    stats_.truncations++;
    line(id, fmt::format("truncate to {}", *rd.truncate_to));
  }
  if (!rd.entries.empty()) {
    int64_t end = disk.snapshot.id.end_offset + static_cast<int64_t>(disk.entries.size());
    GREGOR_ASSERT(rd.entries.front().offset == end, "append at {} to a log ending at {}",
                  rd.entries.front().offset, end);
    disk.entries.insert(disk.entries.end(), rd.entries.begin(), rd.entries.end());
    line(id, "append " + to_string(rd.entries));
  }
  if (rd.log_start_offset) {
    std::erase_if(disk.entries, [&](const Entry& e) { return e.offset < *rd.log_start_offset; });
    line(id, fmt::format("snapshot at {}; log starts there", *rd.log_start_offset));
  }
  if (rd.hard_state) disk.hard_state = *rd.hard_state;
}

void Cluster::process(NodeId id) {
  Node& n = node(id);
  while (n.raft->has_ready()) {
    Ready rd = n.raft->take_ready();
    persist(id, rd);
    if (rd.snapshot) {
      n.applied = decode_applied(rd.snapshot->data);
      n.applied_end = rd.snapshot->id.end_offset;
    }
    if (rd.high_watermark) apply_committed(id, *rd.high_watermark);
    if (is_observer(id)) check_observer(id, rd.messages);
    for (Message& m : rd.messages) outbox_.push_back(std::move(m));
  }
  const Raft& r = *n.raft;
  if (r.epoch() < n.max_epoch) {
    violation(fmt::format("node {} epoch went back {} -> {}", id, n.max_epoch, r.epoch()));
  }
  n.max_epoch = std::max(n.max_epoch, r.epoch());
  auto who = [](NodeId x) { return x == kNoNode ? std::string("none") : fmt::format("{}", x); };
  std::string status = fmt::format("{} epoch={} leader={} voted_for={}", to_string(r.role()),
                                   r.epoch(), who(r.leader_id()), who(r.voted_for()));
  if (status != n.last_status) line(id, "became " + status);
  n.last_status = status;
}

// What the host does with a high watermark: apply the newly committed entries. Every entry that
// any node applies at an offset must be the one every other node applied there.
void Cluster::apply_committed(NodeId id, int64_t hw) {
  Node& n = node(id);
  if (hw < n.applied_end) {
    violation(fmt::format("node {} high watermark went back {} -> {}", id, n.applied_end, hw));
    return;
  }
  const PersistentState& disk = n.disk;
  for (int64_t o = n.applied_end; o < hw; ++o) {
    int64_t index = o - disk.snapshot.id.end_offset;
    GREGOR_ASSERT(index >= 0 && index < static_cast<int64_t>(disk.entries.size()),
                  "node {} committed offset {} it does not hold", id, o);
    const Entry& e = disk.entries[static_cast<size_t>(index)];
    auto [it, inserted] = committed_.emplace(o, e);
    auto [epoch_it, first] = commit_epoch_.emplace(o, n.raft->epoch());
    epoch_it->second = std::min(epoch_it->second, n.raft->epoch());
    if (!inserted && !(it->second == e)) {
      violation(fmt::format("offset {} committed as {} on one node and {} on node {}", o,
                            to_string(it->second), to_string(e), id));
    }
    if (e.kind == EntryKind::kData) n.applied.emplace_back(as_chars(e.payload));
  }
  // An observer learns the high watermark from a leader that exposed it first.
  if (!is_observer(id)) {
    voters_committed_end_ = std::max(voters_committed_end_, hw);
  } else {
    stats_.observer_applied += hw - n.applied_end;
    if (hw > voters_committed_end_) {
      violation(fmt::format("observer {} committed up to {}, voters only up to {}", id, hw,
                            voters_committed_end_));
    }
  }
  n.applied_end = hw;
  line(id, fmt::format("commit hw={} applied=[{}]", hw, fmt::join(n.applied, ",")));
}

int64_t Cluster::committed_end() const {
  return committed_.empty() ? 0 : committed_.rbegin()->first + 1;
}

// An observer only ever fetches: no votes, no BeginQuorumEpoch, never a role of a voter.
void Cluster::check_observer(NodeId id, const std::vector<Message>& sent) {
  if (raft(id).role() != Role::kObserver) {
    violation(fmt::format("observer {} became {}", id, to_string(raft(id).role())));
  }
  for (const Message& m : sent) {
    if (!std::holds_alternative<FetchRequest>(m.body) &&
        !std::holds_alternative<FetchSnapshotRequest>(m.body)) {
      violation(fmt::format("observer {} sent {}", id, to_string(m)));
    }
  }
}

bool Cluster::persisted(NodeId id, const Entry& e) const {
  const PersistentState& d = node(id).disk;
  if (e.offset < d.snapshot.id.end_offset) return true;  // snapshots hold committed state only
  auto index = static_cast<size_t>(e.offset - d.snapshot.id.end_offset);
  return index < d.entries.size() && d.entries[index] == e;
}

// The high watermark counts voters only: the entry just below it must be in the persisted state
// of a majority of the voters, whatever the observers hold (crashed voters count: their disks do).
void Cluster::check_high_watermark_held(NodeId leader) {
  int64_t hw = raft(leader).high_watermark();
  if (hw <= 0) return;
  auto c = committed_.find(hw - 1);
  if (c == committed_.end()) return;
  int held = 0;
  for (NodeId v = 1; v <= voters(); ++v) held += persisted(v, c->second) ? 1 : 0;
  if (held < voters() / 2 + 1) {
    violation(fmt::format("leader {} has hw={} but only {} of {} voters hold {}", leader, hw, held,
                          voters(), to_string(c->second)));
  }
}

void Cluster::check_invariants() {
  for (NodeId id = 1; id <= size(); ++id) {
    if (!up(id) || raft(id).role() != Role::kLeader) continue;
    if (is_observer(id)) violation(fmt::format("observer {} leads", id));
    check_high_watermark_held(id);
    const Raft& r = raft(id);
    auto [it, inserted] = leader_of_epoch_.emplace(r.epoch(), id);
    if (inserted) stats_.leaders++;
    if (it->second != id) {
      violation(fmt::format("two leaders in epoch {}: {} and {}", r.epoch(), it->second, id));
    }
    // Leader completeness: a leader holds every entry committed in its epoch or before (a stale
    // leader of an older epoch may lack what newer epochs committed).
    const RaftLog& log = r.log();
    for (auto c = committed_.lower_bound(log.start_offset()); c != committed_.end(); ++c) {
      if (commit_epoch_.at(c->first) > r.epoch()) continue;
      if (c->first >= log.end_offset() || !(log.at(c->first) == c->second)) {
        violation(fmt::format("leader {} of epoch {} lacks committed entry {}", id, r.epoch(),
                              to_string(c->second)));
        break;
      }
    }
  }
}

std::string Cluster::status_line(NodeId id) const {
  if (!up(id)) return fmt::format("{}: down", id);
  const Raft& r = raft(id);
  return fmt::format(
      "{}: {} hw={} log=[{},{}) applied=[{}]", id, node(id).last_status,
      r.high_watermark() < 0 ? std::string("unknown") : fmt::format("{}", r.high_watermark()),
      r.log().start_offset(), r.log().end_offset(), fmt::join(applied(id), ","));
}

std::string Cluster::log_line(NodeId id) const {
  const PersistentState& d = node(id).disk;
  std::string s = fmt::format("{}: ", id);
  if (d.snapshot.id.end_offset > 0) {
    s += fmt::format("snapshot(end_offset={} epoch={}) ", d.snapshot.id.end_offset,
                     d.snapshot.id.epoch);
  }
  return s + to_string(d.entries);
}

}  // namespace gregor::raft
