// A random nemesis over a simulated cluster: at random intervals it injects one fault from every
// family of DESIGN.md section 3 (network, disk, process, clock), undoes timed faults after a
// random duration, and can heal everything at once. Silent-corruption faults (bit flips,
// misdirected writes, latent read errors, wipes) go only to one designated node, the standard
// "one faulty disk" model that replicated systems promise to survive.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "sim/cluster.h"

namespace gregor::sim {

enum class Fault : uint8_t {
  crash,        // process crash, restarted later; unsynced data lost or kept at random
  power_loss,   // two nodes at once, unsynced data lost, no RSTs
  pause,        // SIGSTOP-like pause, resumed later
  partition,    // random split of the nodes, healed later
  one_way,      // one direction of one link blocked, healed later
  clog,         // all links of a node blocked for a while
  reset,        // a random connection reset
  refuse,       // connects to a node refused for a while
  hold,         // one link's messages held, released later
  slow_link,    // latency and bandwidth of one link degraded for a while
  fsync_eio,    // next fsync fails, dropping dirty pages
  disk_full,    // quota set to current usage for a while
  disk_stall,   // disk answers nothing for a while
  bit_flip,     // faulty node: a bit of a file at rest
  latent_read,  // faulty node: a bad sector
  misdirect,    // faulty node: misdirected writes on for a while
  wipe,         // faulty node: disk wiped, process crashed and restarted
  clock_drift,  // a node's clock rate changes
  clock_jump,   // a node's wall clock steps
};
inline constexpr int kFaultFamilies = 19;
std::string_view fault_name(Fault f);

class Nemesis {
 public:
  struct Options {
    Duration interval_min = milliseconds(300);
    Duration interval_max = seconds(2);
    Duration fault_duration_min = milliseconds(200);
    Duration fault_duration_max = seconds(3);
    std::set<Fault> enabled;  // empty: all families
  };
  Nemesis(Cluster& cluster, Options options);

  // The nodes faults may hit; the first is the one with the faulty disk.
  void set_targets(std::vector<NodeId> nodes) { targets_ = std::move(nodes); }
  // Injects faults from now until now + duration.
  void start(Duration duration);
  // Undoes every fault: heals the network, lifts disk faults, resumes paused and restarts
  // crashed nodes, and stops injecting.
  void heal_all();
  const std::map<std::string, uint64_t>& injected() const { return injected_; }

 private:
  void schedule_next();
  void inject(Fault f);
  void inject_process(Fault f);
  void inject_network(Fault f);
  void inject_disk(Fault f);
  void inject_clock(Fault f);
  void later(std::function<void()> undo);  // runs undo after a random fault duration
  NodeId pick();
  NodeId pick_up();  // a node that is up, or 0
  void restart_later(NodeId id);
  void count(Fault f) { ++injected_[std::string(fault_name(f))]; }

  Cluster& cluster_;
  World& world_;
  Options options_;
  Random& rng_;
  std::vector<NodeId> targets_;
  std::vector<Fault> families_;
  MonoTime end_{};
  bool active_ = false;
  uint64_t epoch_ = 0;  // bumped by heal_all: pending undo/inject events of older epochs skip
  std::map<std::string, uint64_t> injected_;
  std::set<SimNetwork::HoldId> holds_;
  std::set<NodeId> paused_;
};

}  // namespace gregor::sim
