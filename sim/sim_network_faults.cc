// SimNetwork, part 3: process crashes and the fault methods. Faults only change link state or
// queue terminal segments; deliveries themselves stay in sim_network_stream.cc.
#include <algorithm>
#include <vector>

#include "sim/sim_network.h"
#include "sim/sim_network_internal.h"

namespace gregor::sim {

using simnet::Conn;
using simnet::EndState;
using simnet::Flow;
using simnet::Segment;

namespace {

std::string names_json(const World& world, const std::vector<NodeId>& nodes) {
  std::string out = "[";
  for (NodeId n : nodes) {
    if (out.size() > 1) out += ',';
    append_json_string(out, world.node_name(n));
  }
  return out + "]";
}

}  // namespace

void SimNetwork::trace_fault(NodeId node, TraceFields fields) {
  ++counters_.faults;
  world_.trace(node, "net.fault", fields);
}

void SimNetwork::crash(NodeId n, bool send_reset) {
  if (send_reset) {
    powered_off_.erase(n);
  } else {
    powered_off_.insert(n);
  }
  for (auto it = listeners_.begin(); it != listeners_.end();) {
    if (it->first.first != n) {
      ++it;
      continue;
    }
    it->second.listener->detach();  // its owner dies with the process; the object may linger
    it = listeners_.erase(it);
  }
  std::vector<ConnPtr> affected;
  for (const auto& [id, c] : conns_) {
    if ((c->end[0].node == n && simnet::is_live(c->end[0].state)) ||
        (c->end[1].node == n && simnet::is_live(c->end[1].state))) {
      affected.push_back(c);
    }
  }
  for (const ConnPtr& c : affected) {
    for (int side = 0; side < 2; ++side) {
      if (c->end[side].node == n && simnet::is_live(c->end[side].state)) {
        crash_end(*c, side, send_reset);
      }
    }
    maybe_erase(*c);
  }
  world_.trace(n, "net.crash",
               TraceFields().add("reset", send_reset).add("conns", affected.size()));
}

void SimNetwork::crash_end(Conn& c, int side, bool send_reset) {
  c.end[side].state = send_reset ? EndState::crashed : EndState::vanished;
  int in = 1 - side;
  Flow& incoming = c.flow[in];
  if (send_reset || incoming.queue.empty()) {
    clear_flow(c, in);
  } else {
    // Nobody acknowledges these bytes any more: they wait, counted in the sender's queue.
    incoming.event_pending = false;
    if (!incoming.stalled) stall(c, in, Stall::vanished);
  }
  Flow& out = c.flow[side];
  if (out.sealed) return;
  if (!send_reset || !simnet::is_live(c.end[in].state)) {
    if (!send_reset) clear_flow(c, side);  // a machine without power sends nothing more
    out.sealed = true;
    return;
  }
  // The kernel of a crashed process resets its connections after the bytes already sent.
  MonoTime due = std::max({out.last_due, out.not_before, arrival(out.from, out.to, 0)});
  append(c, side, Segment{Segment::Kind::reset, false, due, {}});
}

void SimNetwork::set_link_latency(NodeId from, NodeId to, std::optional<SimLatency> latency) {
  links_[{from, to}].latency = latency;
  trace_fault(kWorldNode, TraceFields()
                              .add("fault", "latency")
                              .add("from", world_.node_name(from))
                              .add("to", world_.node_name(to))
                              .add("min_ns", latency ? to_ns(latency->min) : int64_t{-1})
                              .add("median_ns", latency ? to_ns(latency->median) : int64_t{-1}));
}

void SimNetwork::set_link_bandwidth(NodeId from, NodeId to, std::optional<uint64_t> bytes_per_s) {
  links_[{from, to}].bandwidth_bytes_per_s = bytes_per_s;
  trace_fault(kWorldNode,
              TraceFields()
                  .add("fault", "bandwidth")
                  .add("from", world_.node_name(from))
                  .add("to", world_.node_name(to))
                  .add("bytes_per_s", bytes_per_s.value_or(options_.bandwidth_bytes_per_s)));
}

void SimNetwork::refuse_connects(NodeId n, bool on) {
  if (on) {
    refused_nodes_.insert(n);
  } else {
    refused_nodes_.erase(n);
  }
  trace_fault(n, TraceFields().add("fault", "refuse_connects").add("on", on));
}

size_t SimNetwork::reset_connection(NodeId a, NodeId b) {
  std::vector<ConnPtr> targets;
  for (const auto& [id, c] : conns_) {
    NodeId x = c->end[0].node, y = c->end[1].node;
    if ((x == a && y == b) || (x == b && y == a)) targets.push_back(c);
  }
  for (const ConnPtr& c : targets) reset_conn(*c);
  trace_fault(kWorldNode, TraceFields()
                              .add("fault", "reset")
                              .add("a", world_.node_name(a))
                              .add("b", world_.node_name(b))
                              .add("conns", targets.size()));
  return targets.size();
}

std::optional<uint64_t> SimNetwork::reset_random_connection() {
  std::vector<ConnPtr> open;
  for (const auto& [id, c] : conns_) {
    if (c->end[0].state == EndState::open || c->end[1].state == EndState::open) open.push_back(c);
  }
  if (open.empty()) return std::nullopt;
  ConnPtr c = open[fault_rng_.uniform(0, open.size() - 1)];
  reset_conn(*c);
  trace_fault(kWorldNode, TraceFields().add("fault", "reset").add("conn", c->id));
  return c->id;
}

void SimNetwork::partition(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  for (NodeId x : a) {
    for (NodeId y : b) {
      if (x == y) continue;
      blocked_.insert({x, y});
      blocked_.insert({y, x});
    }
  }
  trace_fault(kWorldNode, TraceFields()
                              .add("fault", "partition")
                              .add_raw("a", names_json(world_, a))
                              .add_raw("b", names_json(world_, b)));
}

void SimNetwork::block(NodeId from, NodeId to) {
  if (from != to) blocked_.insert({from, to});
  trace_fault(kWorldNode, TraceFields()
                              .add("fault", "block")
                              .add("from", world_.node_name(from))
                              .add("to", world_.node_name(to)));
}

void SimNetwork::heal(NodeId from, NodeId to) {
  blocked_.erase({from, to});
  trace_fault(kWorldNode, TraceFields()
                              .add("fault", "heal")
                              .add("from", world_.node_name(from))
                              .add("to", world_.node_name(to)));
  restart_stalled();
}

void SimNetwork::heal(const std::vector<NodeId>& a, const std::vector<NodeId>& b) {
  for (NodeId x : a) {
    for (NodeId y : b) {
      blocked_.erase({x, y});
      blocked_.erase({y, x});
    }
  }
  trace_fault(kWorldNode, TraceFields()
                              .add("fault", "heal_partition")
                              .add_raw("a", names_json(world_, a))
                              .add_raw("b", names_json(world_, b)));
  restart_stalled();
}

void SimNetwork::heal_all() {
  blocked_.clear();
  clogged_until_.clear();
  trace_fault(kWorldNode, TraceFields().add("fault", "heal_all"));
  restart_stalled();
}

void SimNetwork::clog(NodeId n, Duration duration) {
  MonoTime until = world_.now() + std::max(duration, Duration::zero());
  MonoTime& slot = clogged_until_[n];
  slot = std::max(slot, until);
  trace_fault(n, TraceFields().add("fault", "clog").add("ns", to_ns(duration)));
  post(until, kWorldNode, [this, n] { end_clog(n); });
}

void SimNetwork::end_clog(NodeId n) {
  auto it = clogged_until_.find(n);
  if (it == clogged_until_.end() || it->second > world_.now()) return;  // extended, or healed
  clogged_until_.erase(it);
  trace_fault(n, TraceFields().add("fault", "unclog"));
  restart_stalled();
}

SimNetwork::HoldId SimNetwork::hold(NodeId from, NodeId to) {
  HoldId id = next_hold_id_++;
  holds_.emplace(id, std::pair{from, to});
  trace_fault(kWorldNode, TraceFields()
                              .add("fault", "hold")
                              .add("id", id)
                              .add("from", world_.node_name(from))
                              .add("to", world_.node_name(to)));
  return id;
}

void SimNetwork::release(HoldId id) {
  if (holds_.erase(id) == 0) return;
  trace_fault(kWorldNode, TraceFields().add("fault", "release").add("id", id));
  restart_stalled();
}

bool SimNetwork::is_blocked(NodeId from, NodeId to) const {
  if (from == to) return false;
  if (blocked_.contains({from, to})) return true;
  MonoTime now = world_.now();
  for (NodeId n : {from, to}) {
    auto it = clogged_until_.find(n);
    if (it != clogged_until_.end() && now < it->second) return true;
  }
  return false;
}

bool SimNetwork::is_held(NodeId from, NodeId to) const {
  return link_stall(from, to) == Stall::held;
}

}  // namespace gregor::sim
