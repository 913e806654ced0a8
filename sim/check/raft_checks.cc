// The Raft checker (raft_checks.h). Why it reads what it reads:
//  - "raft.state" is written after every durable change of role, epoch or leader, so the epochs
//    it shows were persisted: a later "raft.start" (the epoch loaded from disk) or "raft.state"
//    below one is a regress even across a crash.
//  - A crash, halt or pause is a "proc.*" line of the simulator: a crashed node believes nothing
//    any more (it starts as a follower), and a paused one cannot notice anything, so only the
//    time a superseded leader runs counts toward the split brain.
//  - "raft.commit" is one line per delivered entry with its epoch and the payload's CRC32C:
//    whatever any node delivered at an offset is what every node must deliver there, forever.
#include "sim/check/raft_checks.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "sim/check/json_scan.h"

namespace gregor::check {
namespace {

enum class RaftKind : uint8_t {
  two_leaders,
  epoch_regress,
  hw_regress,
  committed_changed,
  split_brain,
};

enum class LineKind : uint8_t {
  raft_start,
  raft_state,
  raft_commit,
  fence,
  start,
  down,
  pause,
  resume
};

constexpr std::pair<std::string_view, LineKind> kKinds[] = {
    {"raft.start", LineKind::raft_start},   {"raft.state", LineKind::raft_state},
    {"raft.commit", LineKind::raft_commit}, {"controller.fence", LineKind::fence},
    {"proc.start", LineKind::start},        {"proc.crash", LineKind::down},
    {"proc.halt", LineKind::down},          {"proc.pause", LineKind::pause},
    {"proc.resume", LineKind::resume},
};

// The value of the first "k" key, found without parsing (as history.cc's known_kind does).
std::optional<LineKind> kind_of(std::string_view line) {
  size_t at = line.find("\"k\":\"");
  if (at == std::string_view::npos) return std::nullopt;
  at += 5;
  size_t end = line.find('"', at);
  if (end == std::string_view::npos) return std::nullopt;
  std::string_view kind = line.substr(at, end - at);
  for (auto& [name, k] : kKinds)
    if (name == kind) return k;
  return std::nullopt;
}

struct Node {
  bool running = true;  // up and not paused
  int64_t epoch = -1;   // the highest epoch seen (persisted); -1: none yet
  int64_t hw = -1;      // this incarnation's last high watermark; -1: none yet
  bool leader = false;  // believes it leads, at leader_epoch
  int64_t leader_epoch = 0;
  int64_t stale_ns = 0;     // running time as a superseded leader, at this leader_epoch
  int64_t stale_from = -1;  // when the current stale running interval began; -1: not in one
  bool split_reported = false;
};

struct Commit {
  int64_t epoch = 0;
  uint32_t crc = 0;
  std::string node;
  int64_t t = 0;
};

}  // namespace

struct RaftChecker::State {
  RaftCheckOptions options;
  std::map<std::string, Node> nodes;
  std::map<int64_t, std::string> leader_of_epoch;
  std::map<int64_t, Commit> commits;
  int64_t max_leader_epoch = -1;
  int64_t now = 0;
  uint64_t line = 0;
  RaftCheckResult result;
  JsonDoc doc;

  void violate(RaftKind kind, std::string text, nlohmann::json evidence) {
    auto i = static_cast<size_t>(kind);
    if (result.counts[i]++ >= options.violations_per_kind_max) return;
    result.violations.push_back(
        Violation{std::string(kRaftViolationKinds[i]), std::move(text), evidence.dump()});
  }

  bool stale(const Node& n) const { return n.leader && max_leader_epoch > n.leader_epoch; }

  // Brings every superseded leader's running time up to `t` and reports the ones past the
  // allowance.
  void advance(int64_t t) {
    now = std::max(now, t);
    for (auto& [name, n] : nodes) {
      if (n.stale_from < 0) continue;
      if (n.stale_ns + (now - n.stale_from) <= options.split_brain_ns || n.split_reported) continue;
      n.split_reported = true;
      violate(RaftKind::split_brain,
              fmt::format("{} still leads epoch {} {:.3f}s (running) after epoch {} got a leader "
                          "({}), past the {:.3f}s allowance",
                          name, n.leader_epoch, (n.stale_ns + now - n.stale_from) / 1e9,
                          max_leader_epoch, leader_of_epoch[max_leader_epoch],
                          options.split_brain_ns / 1e9),
              {{"node", name},
               {"epoch", n.leader_epoch},
               {"newer_epoch", max_leader_epoch},
               {"newer_leader", leader_of_epoch[max_leader_epoch]},
               {"t", now}});
    }
  }

  // Opens or closes a node's stale interval after its state changed.
  void restamp(Node& n) {
    bool counting = n.running && stale(n);
    if (counting && n.stale_from < 0) n.stale_from = now;
    if (!counting && n.stale_from >= 0) {
      n.stale_ns += now - n.stale_from;
      n.stale_from = -1;
    }
  }
  void restamp_all() {
    for (auto& [name, n] : nodes) restamp(n);
  }

  void stop_leading(Node& n) {
    if (n.stale_from >= 0) n.stale_ns += now - n.stale_from;
    n.leader = false;
    n.stale_ns = 0;
    n.stale_from = -1;
    n.split_reported = false;
  }

  void see_epoch(const std::string& name, Node& n, int64_t epoch, std::string_view what) {
    if (epoch < n.epoch) {
      violate(RaftKind::epoch_regress,
              fmt::format("{}'s epoch went from {} down to {} ({})", name, n.epoch, epoch, what),
              {{"node", name}, {"from", n.epoch}, {"to", epoch}, {"via", what}, {"t", now}});
    }
    n.epoch = std::max(n.epoch, epoch);
    result.stats.max_epoch = std::max(result.stats.max_epoch, epoch);
  }
};

namespace {

using RaftState = RaftChecker::State;
using Type = JsonNode::Type;

Status int_field(const JsonDoc& doc, std::string_view key, int64_t& out) {
  uint32_t i = doc.find(JsonDoc::kRoot, key);
  if (i == JsonDoc::kNotFound || doc.node(i).type != Type::integer)
    return errorf(Errc::invalid_argument, "`{}` must be an integer", key);
  out = doc.node(i).integer;
  return Status::Ok();
}

Status string_field(const JsonDoc& doc, std::string_view key, std::string_view& out) {
  uint32_t i = doc.find(JsonDoc::kRoot, key);
  if (i == JsonDoc::kNotFound || doc.node(i).type != Type::string)
    return errorf(Errc::invalid_argument, "`{}` must be a string", key);
  out = doc.node(i).string;
  return Status::Ok();
}

Status on_state(RaftState& s, const std::string& name, Node& n) {
  std::string_view role;
  int64_t epoch = 0, hw = 0;
  GREGOR_RETURN_IF_ERROR(string_field(s.doc, "role", role));
  GREGOR_RETURN_IF_ERROR(int_field(s.doc, "epoch", epoch));
  GREGOR_RETURN_IF_ERROR(int_field(s.doc, "hw", hw));
  s.see_epoch(name, n, epoch, "raft.state");
  if (hw < n.hw) {
    s.violate(RaftKind::hw_regress,
              fmt::format("{}'s high watermark went from {} down to {} in one incarnation", name,
                          n.hw, hw),
              {{"node", name}, {"from", n.hw}, {"to", hw}, {"epoch", epoch}, {"t", s.now}});
  }
  n.hw = std::max(n.hw, hw);
  bool leads = role == "leader";
  if (n.leader && (!leads || epoch != n.leader_epoch)) s.stop_leading(n);
  if (leads && !n.leader) {
    n.leader = true;
    n.leader_epoch = epoch;
    auto [it, fresh] = s.leader_of_epoch.try_emplace(epoch, name);
    if (fresh) ++s.result.stats.elections;
    if (!fresh && it->second != name) {
      s.violate(RaftKind::two_leaders,
                fmt::format("{} and {} were both leader in epoch {}", it->second, name, epoch),
                {{"epoch", epoch}, {"first", it->second}, {"second", name}, {"t", s.now}});
    }
    s.max_leader_epoch = std::max(s.max_leader_epoch, epoch);
  }
  s.restamp_all();
  return Status::Ok();
}

Status on_commit(RaftState& s, const std::string& name) {
  int64_t offset = 0, epoch = 0, crc = 0;
  GREGOR_RETURN_IF_ERROR(int_field(s.doc, "offset", offset));
  GREGOR_RETURN_IF_ERROR(int_field(s.doc, "epoch", epoch));
  GREGOR_RETURN_IF_ERROR(int_field(s.doc, "crc", crc));
  ++s.result.stats.commits;
  Commit c{epoch, static_cast<uint32_t>(crc), name, s.now};
  auto [it, fresh] = s.commits.try_emplace(offset, c);
  if (fresh || (it->second.epoch == epoch && it->second.crc == c.crc)) return Status::Ok();
  const Commit& first = it->second;
  s.violate(
      RaftKind::committed_changed,
      fmt::format("offset {} of the metadata log was delivered as (epoch {}, crc {:08x}) by "
                  "{} at t={} and as (epoch {}, crc {:08x}) by {} at t={}",
                  offset, first.epoch, first.crc, first.node, first.t, epoch, c.crc, name, s.now),
      {{"offset", offset},
       {"first", {{"node", first.node}, {"epoch", first.epoch}, {"crc", first.crc}}},
       {"second", {{"node", name}, {"epoch", epoch}, {"crc", c.crc}}},
       {"t", s.now}});
  return Status::Ok();
}

Status apply(RaftState& s, LineKind kind) {
  std::string_view node_text;
  int64_t t = 0;
  GREGOR_RETURN_IF_ERROR(string_field(s.doc, "n", node_text));
  GREGOR_RETURN_IF_ERROR(int_field(s.doc, "t", t));
  s.advance(t);
  std::string name(node_text);
  auto found = s.nodes.find(name);
  // Process lines of nodes that never spoke Raft (clients) are not kept.
  bool raft_line =
      kind == LineKind::raft_start || kind == LineKind::raft_state || kind == LineKind::raft_commit;
  if (found == s.nodes.end() && !raft_line) {
    if (kind == LineKind::fence) ++s.result.stats.fences;
    return Status::Ok();
  }
  if (raft_line) s.result.stats.any = true;
  Node& n = found != s.nodes.end() ? found->second : s.nodes[name];
  switch (kind) {
    case LineKind::raft_start: {
      int64_t epoch = 0;
      GREGOR_RETURN_IF_ERROR(int_field(s.doc, "epoch", epoch));
      s.see_epoch(name, n, epoch, "raft.start");
      return Status::Ok();
    }
    case LineKind::raft_state:
      return on_state(s, name, n);
    case LineKind::raft_commit:
      return on_commit(s, name);
    case LineKind::fence:
      ++s.result.stats.fences;
      return Status::Ok();
    case LineKind::start:
      n.running = true;
      n.hw = -1;
      break;
    case LineKind::down:
      n.running = false;
      s.stop_leading(n);
      break;
    case LineKind::pause:
      n.running = false;
      break;
    case LineKind::resume:
      n.running = true;
      break;
  }
  s.restamp(n);
  return Status::Ok();
}

}  // namespace

RaftChecker::RaftChecker(RaftCheckOptions options) : state_(std::make_unique<RaftState>()) {
  state_->options = options;
}

RaftChecker::~RaftChecker() = default;

Status RaftChecker::add_line(std::string_view line) {
  RaftState& s = *state_;
  ++s.line;
  auto kind = kind_of(line);
  if (!kind) return Status::Ok();
  Status parsed = s.doc.parse(line);
  if (parsed.ok()) parsed = apply(s, *kind);
  if (!parsed.ok()) return errorf(Errc::invalid_argument, "line {}: {}", s.line, parsed.message());
  return Status::Ok();
}

RaftCheckResult RaftChecker::finish() {
  RaftState& s = *state_;
  s.advance(s.now);
  RaftCheckResult out = std::move(s.result);
  std::stable_sort(out.violations.begin(), out.violations.end(),
                   [](const Violation& a, const Violation& b) {
                     auto rank = [](const std::string& k) {
                       for (size_t i = 0; i < kRaftViolationKinds.size(); ++i)
                         if (kRaftViolationKinds[i] == k) return i;
                       return kRaftViolationKinds.size();
                     };
                     return rank(a.kind) < rank(b.kind);
                   });
  RaftCheckOptions options = s.options;
  state_ = std::make_unique<RaftState>();
  state_->options = options;
  return out;
}

}  // namespace gregor::check
