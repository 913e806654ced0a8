#include "sim/world.h"

#include <fmt/format.h>

#include "base/assert.h"

namespace gregor::sim {

World::World(Options options)
    : seed_(options.seed), root_(options.seed), trace_(std::move(options.trace)) {
  set_log_context(this);
}

World::~World() {
  set_log_context(nullptr);
}

Random& World::rng(const std::string& stream) {
  auto it = streams_.find(stream);
  if (it == streams_.end()) it = streams_.emplace(stream, root_.fork(stream)).first;
  return it->second;
}

NodeId World::add_node(std::string name) {
  nodes_.push_back(Node{std::move(name)});
  NodeId id = static_cast<NodeId>(nodes_.size());
  trace(id, "node.add");
  return id;
}

World::Node& World::node(NodeId id) {
  GREGOR_ASSERT(id >= 1 && id <= nodes_.size(), "no node {}", id);
  return nodes_[id - 1];
}
const World::Node& World::node(NodeId id) const {
  GREGOR_ASSERT(id >= 1 && id <= nodes_.size(), "no node {}", id);
  return nodes_[id - 1];
}

const std::string& World::node_name(NodeId id) const {
  static const std::string world = "world";
  return id == kWorldNode ? world : node(id).name;
}
NodeState World::state(NodeId id) const {
  return node(id).state;
}
uint32_t World::incarnation(NodeId id) const {
  return node(id).incarnation;
}

void World::kill(NodeId id) {
  Node& n = node(id);
  GREGOR_ASSERT(n.state != NodeState::down, "kill of {} which is down", n.name);
  for (EventId e : n.deferred) {
    if (scheduler_.is_pending(e)) scheduler_.discard(e);
  }
  n.deferred.clear();
  n.state = NodeState::down;
  ++n.incarnation;  // every pending event of the old incarnation is now stale
}

void World::revive(NodeId id) {
  Node& n = node(id);
  GREGOR_ASSERT(n.state == NodeState::down, "revive of {} which is not down", n.name);
  n.state = NodeState::up;
  ++n.incarnation;  // nothing scheduled while down may run in the new life
}

void World::pause(NodeId id) {
  Node& n = node(id);
  GREGOR_ASSERT(n.state == NodeState::up, "pause of {} which is not up", n.name);
  n.state = NodeState::paused;
}

void World::resume(NodeId id) {
  Node& n = node(id);
  GREGOR_ASSERT(n.state == NodeState::paused, "resume of {} which is not paused", n.name);
  n.state = NodeState::up;
  for (EventId e : n.deferred) {
    // A deferred event may have been cancelled while it waited.
    if (scheduler_.is_pending(e)) scheduler_.requeue(e, now());
  }
  n.deferred.clear();
}

EventId World::at(MonoTime when, NodeId owner, std::function<void()> fn) {
  EventOwner tag{owner, owner == kWorldNode ? 0 : node(owner).incarnation};
  return scheduler_.schedule(when, std::move(fn), tag);
}

void World::cancel(EventId id) {
  scheduler_.cancel(id);
}

void World::dispatch(const Scheduler::Due& due) {
  if (due.owner.node != kWorldNode) {
    Node& n = node(due.owner.node);
    if (n.incarnation != due.owner.incarnation || n.state == NodeState::down) {
      scheduler_.discard(due.id);
      ++counters_.events_dropped;
      return;
    }
    if (n.state == NodeState::paused) {
      n.deferred.push_back(due.id);
      ++counters_.events_deferred;
      return;
    }
  }
  current_ = due.owner.node;
  ++counters_.events_run;
  scheduler_.run(due.id);
  current_ = kWorldNode;
}

bool World::step() {
  Scheduler::Due due;
  if (!scheduler_.pop(due)) return false;
  dispatch(due);
  return true;
}

void World::run_until(MonoTime t) {
  while (scheduler_.next_time() <= t) {
    if (!step()) break;
  }
  if (now() < t) {
    // Advance the clock to t with a no-op event so that now() == t afterwards.
    scheduler_.schedule(t, [] {});
    step();
  }
}

bool World::run_until(const std::function<bool()>& pred, MonoTime deadline) {
  while (!pred()) {
    if (scheduler_.next_time() > deadline) {
      run_until(deadline);
      return pred();
    }
    if (!step()) return pred();
  }
  return true;
}

void World::run_as(NodeId node, const std::function<void()>& fn) {
  NodeId saved = current_;
  current_ = node;
  fn();
  current_ = saved;
}

void World::trace(NodeId node_id, std::string_view kind, const TraceFields& fields) {
  trace_.write(now(), node_name(node_id), kind, fields);
}

std::string World::time_text() const {
  return fmt::format("{:>12.6f}s", to_seconds(now().time_since_epoch()));
}

std::string_view World::node_text() const {
  return node_name(current_);
}

}  // namespace gregor::sim
