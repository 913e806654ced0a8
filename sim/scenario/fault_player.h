// Plays a fault timeline (scenario.h FaultSpec entries) on a simulated cluster: each entry fires
// at its time, resolves its NodeRefs then (a "leader:t-0" is whoever leads t-0 at that moment,
// "replica:t-0#2" the second broker of t-0's replica list in the newest metadata then,
// "controller:active" whichever controller is active then) and, if it has an end, is undone
// after its duration, when its `until` event happens, or at heal_all(). Every firing and undo is
// a trace line ("fault.start" / "fault.end"), so the trace explains the run; a fault that cannot
// apply (crash of a node already down) is traced as "fault.skip" and not counted.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "sim/cluster.h"
#include "sim/scenario/scenario.h"

namespace gregor::scenario {

// How scenario names map onto the cluster's processes.
struct Topology {
  std::vector<sim::NodeId> brokers;            // index i is broker i+1
  std::map<std::string, sim::NodeId> clients;  // by process name
  // The broker index (1-based) leading "topic-partition" now, or 0 when unknown.
  std::function<uint32_t(const std::string& topic_partition)> leader_of;
  // The broker index (1-based) at 1-based position k of "topic-partition"'s replica list, or 0.
  std::function<uint32_t(const std::string& topic_partition, uint32_t k)> replica_of;
  std::vector<sim::NodeId> controllers;  // dedicated controllers: index k is controller-(k+1)
  // The process whose controller is active now, or 0 when none is (or there is no quorum).
  std::function<sim::NodeId()> active_controller;
};

class FaultPlayer {
 public:
  FaultPlayer(sim::Cluster& cluster, Topology topology);

  // Schedules the entry to fire at `start + spec.at`.
  void schedule(const FaultSpec& spec, MonoTime start);
  // Ends every active fault now, restarts crashed and resumes paused processes, and drops
  // entries that have not fired yet.
  void heal_all();
  // Injected faults by kind name.
  const std::map<std::string, uint64_t>& injected() const { return injected_; }

 private:
  struct Active {
    uint64_t id = 0;
    std::string until;  // "", "heal", "restart N"
    std::function<void()> undo;
  };
  void fire(const FaultSpec& spec);
  bool apply(const FaultSpec& spec, std::function<void()>& undo);
  bool apply_process(const FaultSpec& spec, const std::vector<sim::NodeId>& nodes,
                     std::function<void()>& undo);
  bool apply_network(const FaultSpec& spec, std::function<void()>& undo);
  bool apply_disk(const FaultSpec& spec, const std::vector<sim::NodeId>& nodes,
                  std::function<void()>& undo);
  bool apply_clock(const FaultSpec& spec, const std::vector<sim::NodeId>& nodes,
                   std::function<void()>& undo);
  void end(uint64_t id);
  void restart(sim::NodeId id);  // and end the faults waiting for it
  std::vector<sim::NodeId> resolve(const std::vector<NodeRef>& refs) const;
  sim::NodeId resolve(const NodeRef& ref) const;  // 0 when it names nobody now

  sim::Cluster& cluster_;
  sim::World& world_;
  Topology topology_;
  uint64_t next_id_ = 1;
  uint64_t generation_ = 0;  // bumped by heal_all: entries scheduled before it do not fire
  std::map<uint64_t, Active> active_;
  std::map<std::string, uint64_t> injected_;
};

}  // namespace gregor::scenario
