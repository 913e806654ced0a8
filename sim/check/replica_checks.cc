// The replica-side checks: Raft-style invariants over brokers' replica.state lines as they
// stream by (one leader per epoch, epochs never going back on a replica, the high watermark
// never going back within one incarnation), and, at the end, the replica.log summaries compared
// across the replicas of each partition.
//
// Why the comparison windows are what they are:
// - replica-divergence compares only what every replica has committed: batches overlapping
//   [largest log start, smallest high watermark). Below the largest log start some replica has
//   deleted data by retention (whole segments, so a batch that straddles it is still whole on
//   every replica); above the smallest high watermark a replica may legitimately lag or hold an
//   uncommitted tail it will truncate.
// - replicas-differ-after-heal (liveness mode: faults healed, the cluster drained) compares the
//   log end and every batch from the largest log start on: retention runs on each replica on its
//   own, so the oldest segments may differ without anything being wrong.
// Each replica is compared with the first one in node-name order (deterministic reports).
#include <fmt/format.h>

#include <algorithm>

#include "sim/check/checker_state.h"

namespace gregor::check::internal {
namespace {

uint64_t replica_key(Id node, Id part) {
  return (uint64_t{node} << 32) | part;
}

Json replica_json(const State& s, Id node, Id part, int64_t t) {
  Json j;
  j["node"] = s.procs[node].name;
  j["topic"] = s.topics[s.parts[part].topic];
  j["partition"] = s.parts[part].index;
  j["t"] = t;
  return j;
}

void check_leader(State& s, Id node, Id part, int64_t epoch, int64_t t) {
  auto [it, fresh] = s.leaders.try_emplace({part, epoch}, LeaderMark{node, t});
  Id first = it->second.node;
  if (fresh || first == node || !s.leader_conflicts.emplace(part, epoch, node).second) return;
  s.report(Kind::leader_conflict, [&] {
    int64_t first_t = it->second.t;
    std::string text =
        fmt::format("{} and {} were both leader of {} in epoch {} (t={} and t={})",
                    s.procs[first].name, s.procs[node].name, s.part_name(part), epoch, first_t, t);
    Json e;
    e["topic"] = s.topics[s.parts[part].topic];
    e["partition"] = s.parts[part].index;
    e["epoch"] = epoch;
    e["first"] = Json{{"node", s.procs[first].name}, {"t", first_t}};
    e["second"] = Json{{"node", s.procs[node].name}, {"t", t}};
    return std::make_pair(std::move(text), std::move(e));
  });
}

// One replica's value of `field` went from `before` (at before_t) to `now` (at t).
void report_regress(State& s, Kind kind, const char* field, Id node, Id part, int64_t before,
                    int64_t before_t, int64_t now, int64_t t) {
  s.report(kind, [&] {
    std::string text = fmt::format("{} of {} on {} went from {} (t={}) to {} (t={})", field,
                                   s.part_name(part), s.procs[node].name, before, before_t, now, t);
    if (kind == Kind::hw_regress)
      text += fmt::format(" in incarnation {}", s.procs[node].incarnation);
    Json e = replica_json(s, node, part, t);
    e[field] = now;
    e[fmt::format("{}_before", field)] = before;
    e["t_before"] = before_t;
    if (kind == Kind::hw_regress) e["incarnation"] = s.procs[node].incarnation;
    return std::make_pair(std::move(text), std::move(e));
  });
}

// The batches of `log` that overlap [lo, hi).
std::vector<BatchSummary> window(const ReplicaLog& log, int64_t lo, int64_t hi) {
  std::vector<BatchSummary> out;
  for (const BatchSummary& b : log.batches)
    if (b.last_offset >= lo && b.base_offset < hi) out.push_back(b);
  return out;
}

Json batch_json(const std::vector<BatchSummary>& batches, size_t i) {
  if (i >= batches.size()) return Json();
  const BatchSummary& b = batches[i];
  return Json::array({b.base_offset, b.last_offset, b.crc});
}

std::string batch_text(const std::vector<BatchSummary>& batches, size_t i) {
  if (i >= batches.size()) return "nothing";
  const BatchSummary& b = batches[i];
  return fmt::format("[{}, {}] crc {}", b.base_offset, b.last_offset, b.crc);
}

// Compares replica `b` with the reference `a` over [lo, hi); reports the first batch that differs.
void compare_replicas(State& s, Kind kind, Id part, const ReplicaSummary& a,
                      const ReplicaSummary& b, int64_t lo, int64_t hi) {
  std::vector<BatchSummary> wa = window(a.log, lo, hi), wb = window(b.log, lo, hi);
  bool leo_differs = kind == Kind::replicas_differ_after_heal && a.log.leo != b.log.leo;
  if (wa == wb && !leo_differs) return;
  size_t i = 0;
  while (i < wa.size() && i < wb.size() && wa[i] == wb[i]) ++i;
  s.report(kind, [&] {
    std::string range =
        hi == INT64_MAX ? fmt::format("from offset {}", lo) : fmt::format("in [{}, {})", lo, hi);
    std::string text =
        wa == wb ? fmt::format("{} on {} ends at {} and on {} at {}", s.part_name(part),
                               s.procs[a.node].name, a.log.leo, s.procs[b.node].name, b.log.leo)
                 : fmt::format("{} {}: {} has {} where {} has {} (batch {} of the range)",
                               s.part_name(part), range, s.procs[a.node].name, batch_text(wa, i),
                               s.procs[b.node].name, batch_text(wb, i), i);
    Json e;
    e["topic"] = s.topics[s.parts[part].topic];
    e["partition"] = s.parts[part].index;
    e["from"] = lo;
    if (hi != INT64_MAX) e["to"] = hi;
    for (const ReplicaSummary* r : {&a, &b}) {
      Json side{{"node", s.procs[r->node].name},
                {"t", r->t},
                {"leo", r->log.leo},
                {"hw", r->log.hw},
                {"log_start", r->log.log_start}};
      side["batch"] = batch_json(r == &a ? wa : wb, i);
      e["replicas"].push_back(std::move(side));
    }
    return std::make_pair(std::move(text), std::move(e));
  });
}

void check_partition_logs(State& s, Id part) {
  std::vector<ReplicaSummary>& logs = s.parts[part].logs;
  if (logs.size() < 2) return;
  std::sort(logs.begin(), logs.end(), [&](const ReplicaSummary& x, const ReplicaSummary& y) {
    return s.procs[x.node].name < s.procs[y.node].name;
  });
  int64_t lo = INT64_MIN, hi = INT64_MAX;
  for (const ReplicaSummary& r : logs) {
    lo = std::max(lo, r.log.log_start);
    hi = std::min(hi, r.log.hw);
  }
  for (size_t i = 1; i < logs.size(); ++i) {
    if (lo < hi) compare_replicas(s, Kind::replica_divergence, part, logs[0], logs[i], lo, hi);
    if (s.mode == Mode::liveness)
      compare_replicas(s, Kind::replicas_differ_after_heal, part, logs[0], logs[i], lo, INT64_MAX);
  }
}

}  // namespace

void on_replica_state(State& s, Id node, const ReplicaState& st, int64_t t) {
  Id part = s.part_id(st.topic, st.partition);
  uint32_t incarnation = s.procs[node].incarnation;
  auto [it, fresh] =
      s.replicas.try_emplace(replica_key(node, part), Mark{st.epoch, t, st.hw, t, incarnation});
  Mark& m = it->second;
  if (!fresh) {
    if (st.epoch < m.epoch)
      report_regress(s, Kind::epoch_regress, "epoch", node, part, m.epoch, m.epoch_t, st.epoch, t);
    if (incarnation == m.incarnation && st.hw < m.hw)
      report_regress(s, Kind::hw_regress, "hw", node, part, m.hw, m.hw_t, st.hw, t);
    m = Mark{st.epoch, t, st.hw, t, incarnation};
  }
  if (st.role == Role::leader) check_leader(s, node, part, st.epoch, t);
}

void on_replica_log(State& s, Id node, ReplicaLog&& log, int64_t t) {
  Id part = s.part_id(log.topic, log.partition);
  std::vector<ReplicaSummary>& logs = s.parts[part].logs;
  auto it = std::find_if(logs.begin(), logs.end(),
                         [&](const ReplicaSummary& r) { return r.node == node; });
  if (it == logs.end()) it = logs.insert(logs.end(), ReplicaSummary{node});
  it->t = t;
  it->log = std::move(log);
}

void finish_replica_checks(State& s) {
  for (Id part = 0; part < s.parts.size(); ++part) check_partition_logs(s, part);
}

}  // namespace gregor::check::internal
