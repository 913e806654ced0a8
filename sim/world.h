// The World: virtual time, the one event queue, the run's seeded randomness, the registry of
// simulated processes (nodes and clients) and the trace. It knows nothing of services, disks or
// networks; sim/cluster.h composes those on top.
//
// Process model: each node has an incarnation number. Every event a node's code schedules
// (timers, network deliveries, disk completions) is tagged with the node and its incarnation;
// crash() bumps the incarnation, so events of the dead incarnation are dropped when they come
// due and no callback ever reaches a destroyed service. pause() defers a node's events until
// resume(), as a stopped process (SIGSTOP, a long GC pause) would experience.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "base/log.h"
#include "base/random.h"
#include "base/time.h"
#include "base/trace.h"
#include "sim/scheduler.h"
#include "sim/trace_log.h"

namespace gregor::sim {

using NodeId = uint32_t;  // 1-based; 0 is the world itself
inline constexpr NodeId kWorldNode = 0;

enum class NodeState : uint8_t { up, down, paused };

class World final : public LogContext {
 public:
  struct Options {
    uint64_t seed = 1;
    TraceLog::Options trace;
  };
  explicit World(Options options);
  ~World() override;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  uint64_t seed() const { return seed_; }
  MonoTime now() const { return scheduler_.now(); }
  Scheduler& scheduler() { return scheduler_; }
  // A named random stream of the world, derived from the seed (see base/random.h).
  Random& rng(const std::string& stream);

  // --- processes
  NodeId add_node(std::string name);
  size_t node_count() const { return nodes_.size(); }
  const std::string& node_name(NodeId id) const;
  NodeState state(NodeId id) const;
  uint32_t incarnation(NodeId id) const;
  // Ends the current incarnation: its pending and deferred events will never run.
  void kill(NodeId id);
  // Starts a new incarnation of a down node.
  void revive(NodeId id);
  void pause(NodeId id);
  void resume(NodeId id);

  // --- events. `at` with a node owner runs only in that node's current incarnation.
  EventId at(MonoTime when, NodeId owner, std::function<void()> fn);
  EventId after(Duration delay, NodeId owner, std::function<void()> fn) {
    return at(now() + delay, owner, std::move(fn));
  }
  void cancel(EventId id);

  // Runs one event. False when nothing is left.
  bool step();
  // Runs events up to and including time t; now() is t afterwards.
  void run_until(MonoTime t);
  void run_for(Duration d) { run_until(now() + d); }
  // Runs until pred() holds or virtual time passes deadline. Returns pred().
  bool run_until(const std::function<bool()>& pred, MonoTime deadline);

  // --- trace and logs
  void trace(NodeId node, std::string_view kind, const TraceFields& fields = {});
  TraceLog& trace_log() { return trace_; }
  NodeId current_node() const { return current_; }
  // Runs fn as if inside an event of `node` (logs show that node), e.g. a service's constructor.
  void run_as(NodeId node, const std::function<void()>& fn);
  std::string time_text() const override;
  std::string_view node_text() const override;

  struct Counters {
    uint64_t events_run = 0;
    uint64_t events_dropped = 0;   // owner crashed
    uint64_t events_deferred = 0;  // owner paused
  };
  const Counters& counters() const { return counters_; }

 private:
  struct Node {
    std::string name;
    NodeState state = NodeState::up;
    uint32_t incarnation = 1;
    std::vector<EventId> deferred;  // events that came due while paused, in due order
  };
  Node& node(NodeId id);
  const Node& node(NodeId id) const;
  void dispatch(const Scheduler::Due& due);

  uint64_t seed_;
  Random root_;
  Scheduler scheduler_;
  TraceLog trace_;
  std::vector<Node> nodes_;  // index id - 1
  std::map<std::string, Random> streams_;
  NodeId current_ = kWorldNode;
  Counters counters_;
};

}  // namespace gregor::sim
