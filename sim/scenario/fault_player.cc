#include "sim/scenario/fault_player.h"

#include <fmt/format.h>

#include <algorithm>

#include "base/assert.h"

namespace gregor::scenario {
namespace {

// A slow link: what a congested or lossy path looks like to TCP (latency with a long tail, and
// little bandwidth).
const sim::SimLatency kSlowLink{.min = milliseconds(5),
                                .median = milliseconds(50),
                                .tail_probability = 0.05,
                                .tail_mean = milliseconds(300),
                                .max = seconds(2)};
constexpr uint64_t kSlowLinkBytesPerSecond = 64 * 1024;
constexpr double kMisdirectProbability = 0.2;

std::string nodes_text(const std::vector<NodeRef>& refs) {
  std::string s;
  for (auto& r : refs) s += (s.empty() ? "" : ",") + node_ref_text(r);
  return "[" + s + "]";
}

}  // namespace

FaultPlayer::FaultPlayer(sim::Cluster& cluster, Topology topology)
    : cluster_(cluster), world_(cluster.world()), topology_(std::move(topology)) {}

sim::NodeId FaultPlayer::resolve(const NodeRef& ref) const {
  switch (ref.kind) {
    case NodeRef::Kind::broker:
      return ref.broker >= 1 && ref.broker <= topology_.brokers.size()
                 ? topology_.brokers[ref.broker - 1]
                 : 0;
    case NodeRef::Kind::client: {
      auto it = topology_.clients.find(ref.name);
      return it == topology_.clients.end() ? 0 : it->second;
    }
    case NodeRef::Kind::leader: {
      uint32_t b = topology_.leader_of ? topology_.leader_of(ref.name) : 0;
      return b >= 1 && b <= topology_.brokers.size() ? topology_.brokers[b - 1] : 0;
    }
    case NodeRef::Kind::replica: {
      uint32_t b = topology_.replica_of ? topology_.replica_of(ref.name, ref.broker) : 0;
      return b >= 1 && b <= topology_.brokers.size() ? topology_.brokers[b - 1] : 0;
    }
    case NodeRef::Kind::controller:
      return ref.broker >= 1 && ref.broker <= topology_.controllers.size()
                 ? topology_.controllers[ref.broker - 1]
                 : 0;
    case NodeRef::Kind::active_controller:
      return topology_.active_controller ? topology_.active_controller() : 0;
  }
  return 0;
}

std::vector<sim::NodeId> FaultPlayer::resolve(const std::vector<NodeRef>& refs) const {
  std::vector<sim::NodeId> out;
  for (auto& r : refs) {
    sim::NodeId id = resolve(r);
    if (id && std::find(out.begin(), out.end(), id) == out.end()) out.push_back(id);
  }
  return out;
}

void FaultPlayer::schedule(const FaultSpec& spec, MonoTime start) {
  uint64_t generation = generation_;
  world_.at(start + spec.at, sim::kWorldNode, [this, spec, generation] {
    if (generation == generation_) fire(spec);
  });
}

void FaultPlayer::fire(const FaultSpec& spec) {
  std::function<void()> undo;
  std::string kind(fault_kind_name(spec.kind));
  TraceFields f;
  f.add("kind", kind).add("nodes", nodes_text(spec.nodes));
  if (spec.from) f.add("from", node_ref_text(*spec.from));
  if (spec.to) f.add("to", node_ref_text(*spec.to));
  if (!apply(spec, undo)) {
    world_.trace(sim::kWorldNode, "fault.skip", f);
    return;
  }
  ++injected_[kind];
  uint64_t id = next_id_++;
  world_.trace(sim::kWorldNode, "fault.start", f.add("id", id));
  if (!undo) return;
  active_[id] = Active{id, spec.until, std::move(undo)};
  if (spec.duration) {
    world_.after(*spec.duration, sim::kWorldNode, [this, id] { end(id); });
  }
}

void FaultPlayer::end(uint64_t id) {
  auto it = active_.find(id);
  if (it == active_.end()) return;  // healed already
  auto undo = std::move(it->second.undo);
  active_.erase(it);
  world_.trace(sim::kWorldNode, "fault.end", TraceFields().add("id", id));
  undo();
}

void FaultPlayer::restart(sim::NodeId id) {
  if (cluster_.is_up(id)) return;
  cluster_.restart(id);
  for (size_t b = 0; b < topology_.brokers.size(); ++b) {
    if (topology_.brokers[b] != id) continue;
    std::string event = fmt::format("restart {}", b + 1);
    std::vector<uint64_t> waiting;
    for (auto& [aid, a] : active_)
      if (a.until == event) waiting.push_back(aid);
    for (uint64_t aid : waiting) end(aid);
  }
}

void FaultPlayer::heal_all() {
  ++generation_;
  // Undo in reverse start order: a later fault may rest on an earlier one.
  while (!active_.empty()) end(active_.rbegin()->first);
  sim::SimNetwork& net = cluster_.network();
  net.heal_all();
  for (sim::NodeId id : cluster_.processes()) {
    net.refuse_connects(id, false);
    cluster_.disk(id).cancel_fsync_failure();  // an armed fsync_eio must not fire after healing
    if (world_.state(id) == sim::NodeState::paused) cluster_.resume(id);
    if (!cluster_.is_up(id)) restart(id);
  }
  world_.trace(sim::kWorldNode, "fault.heal_all");
}

bool FaultPlayer::apply(const FaultSpec& spec, std::function<void()>& undo) {
  std::vector<sim::NodeId> nodes = resolve(spec.nodes);
  switch (spec.kind) {
    case FaultKind::crash:
    case FaultKind::power_loss:
    case FaultKind::pause:
    case FaultKind::wipe:
      return apply_process(spec, nodes, undo);
    case FaultKind::partition:
    case FaultKind::one_way:
    case FaultKind::clog:
    case FaultKind::reset:
    case FaultKind::refuse:
    case FaultKind::hold:
    case FaultKind::slow_link:
      return apply_network(spec, undo);
    case FaultKind::fsync_eio:
    case FaultKind::disk_full:
    case FaultKind::disk_stall:
    case FaultKind::bit_flip:
    case FaultKind::latent_read:
    case FaultKind::misdirect:
      return apply_disk(spec, nodes, undo);
    case FaultKind::clock_drift:
    case FaultKind::clock_jump:
      return apply_clock(spec, nodes, undo);
  }
  return false;
}

bool FaultPlayer::apply_process(const FaultSpec& spec, const std::vector<sim::NodeId>& nodes,
                                std::function<void()>& undo) {
  std::vector<sim::NodeId> up;
  for (sim::NodeId id : nodes)
    if (cluster_.is_up(id)) up.push_back(id);
  if (spec.kind == FaultKind::wipe) {
    if (nodes.empty()) return false;
    for (sim::NodeId id : nodes) {
      if (cluster_.is_up(id)) cluster_.crash(id);
      cluster_.disk(id).wipe();
    }
  } else if (up.empty()) {
    return false;
  } else if (spec.kind == FaultKind::crash) {
    for (sim::NodeId id : up)
      cluster_.crash(id, sim::CrashOptions{.lose_unsynced = spec.lose_unsynced});
  } else if (spec.kind == FaultKind::power_loss) {
    cluster_.power_loss(up);
  } else {  // pause
    std::vector<sim::NodeId> running;
    for (sim::NodeId id : up)
      if (world_.state(id) == sim::NodeState::up) running.push_back(id);
    if (running.empty()) return false;
    for (sim::NodeId id : running) cluster_.pause(id);
    undo = [this, running] {
      for (sim::NodeId id : running)
        if (world_.state(id) == sim::NodeState::paused) cluster_.resume(id);
    };
    return true;
  }
  std::vector<sim::NodeId> down = spec.kind == FaultKind::wipe ? nodes : up;
  undo = [this, down] {
    for (sim::NodeId id : down) restart(id);
  };
  return true;
}

bool FaultPlayer::apply_network(const FaultSpec& spec, std::function<void()>& undo) {
  sim::SimNetwork& net = cluster_.network();
  sim::NodeId from = spec.from ? resolve(*spec.from) : 0;
  sim::NodeId to = spec.to ? resolve(*spec.to) : 0;
  switch (spec.kind) {
    case FaultKind::partition: {
      // A node named twice (a "controller:active" or "leader:t-0" that resolves to a node
      // another side names) stays on the first side that names it.
      std::vector<std::vector<sim::NodeId>> sides;
      std::vector<sim::NodeId> placed;
      for (auto& g : spec.groups) {
        auto side = resolve(g);
        std::erase_if(side, [&](sim::NodeId id) {
          return std::find(placed.begin(), placed.end(), id) != placed.end();
        });
        placed.insert(placed.end(), side.begin(), side.end());
        if (!side.empty()) sides.push_back(std::move(side));
      }
      if (sides.size() < 2) return false;
      for (size_t i = 0; i < sides.size(); ++i)
        for (size_t j = i + 1; j < sides.size(); ++j) net.partition(sides[i], sides[j]);
      undo = [&net, sides] {
        for (size_t i = 0; i < sides.size(); ++i)
          for (size_t j = i + 1; j < sides.size(); ++j) net.heal(sides[i], sides[j]);
      };
      return true;
    }
    case FaultKind::one_way:
      if (!from || !to || from == to) return false;
      net.block(from, to);
      undo = [&net, from, to] { net.heal(from, to); };
      return true;
    case FaultKind::clog:
      for (sim::NodeId id : resolve(spec.nodes)) net.clog(id, spec.duration.value_or(seconds(1)));
      return !spec.nodes.empty();
    case FaultKind::reset:
      if (from && to) return net.reset_connection(from, to) > 0;
      return net.reset_random_connection().has_value();
    case FaultKind::refuse: {
      auto nodes = resolve(spec.nodes);
      if (nodes.empty()) return false;
      for (sim::NodeId id : nodes) net.refuse_connects(id, true);
      undo = [&net, nodes] {
        for (sim::NodeId id : nodes) net.refuse_connects(id, false);
      };
      return true;
    }
    case FaultKind::hold: {
      if (!from || !to || from == to) return false;
      sim::SimNetwork::HoldId hold = net.hold(from, to);
      undo = [&net, hold] { net.release(hold); };
      return true;
    }
    case FaultKind::slow_link:
      if (!from || !to || from == to) return false;
      net.set_link_latency(from, to, kSlowLink);
      net.set_link_bandwidth(from, to, kSlowLinkBytesPerSecond);
      undo = [&net, from, to] {
        net.set_link_latency(from, to, std::nullopt);
        net.set_link_bandwidth(from, to, std::nullopt);
      };
      return true;
    default:
      return false;
  }
}

bool FaultPlayer::apply_disk(const FaultSpec& spec, const std::vector<sim::NodeId>& nodes,
                             std::function<void()>& undo) {
  if (nodes.empty()) return false;
  bool any = false;
  for (sim::NodeId id : nodes) {
    sim::SimDisk& disk = cluster_.disk(id);
    switch (spec.kind) {
      case FaultKind::fsync_eio:
        disk.fail_next_fsync();
        any = true;
        break;
      case FaultKind::disk_full:
        disk.set_quota_bytes(disk.current_bytes());
        any = true;
        break;
      case FaultKind::disk_stall:
        disk.stall(world_.now() + spec.duration.value_or(seconds(1)));
        any = true;
        break;
      case FaultKind::bit_flip:
        any = disk.flip_random_bit() || any;
        break;
      case FaultKind::latent_read:
        any = disk.mark_bad_sector() || any;
        break;
      case FaultKind::misdirect: {
        sim::SimDisk::Faults faults = disk.faults();
        faults.misdirected_write_probability = kMisdirectProbability;
        disk.set_faults(faults);
        any = true;
        break;
      }
      default:
        return false;
    }
  }
  if (spec.kind == FaultKind::disk_full) {
    undo = [this, nodes] {
      for (sim::NodeId id : nodes) cluster_.disk(id).set_quota_bytes(UINT64_MAX);
    };
  } else if (spec.kind == FaultKind::misdirect) {
    undo = [this, nodes] {
      for (sim::NodeId id : nodes) {
        sim::SimDisk::Faults faults = cluster_.disk(id).faults();
        faults.misdirected_write_probability = 0;
        cluster_.disk(id).set_faults(faults);
      }
    };
  }
  return any;
}

bool FaultPlayer::apply_clock(const FaultSpec& spec, const std::vector<sim::NodeId>& nodes,
                              std::function<void()>& undo) {
  if (nodes.empty()) return false;
  for (sim::NodeId id : nodes) {
    if (spec.kind == FaultKind::clock_jump) {
      cluster_.clock(id).jump_wall(spec.by);
    } else {
      cluster_.clock(id).set_drift_ppm(spec.ppm);
    }
  }
  if (spec.kind == FaultKind::clock_drift) {
    undo = [this, nodes] {
      for (sim::NodeId id : nodes) cluster_.clock(id).set_drift_ppm(0);
    };
  }
  return true;
}

}  // namespace gregor::scenario
