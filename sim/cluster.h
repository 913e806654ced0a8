// A simulated cluster: the World plus one SimDisk, SimClock and network endpoint per process, and
// the process lifecycle (start, crash, restart, pause, power loss). A process runs a Service: any
// object built from an Env. The same Service classes run in production on the real backends.
//
// Crash order matters and is fixed here: the network forgets the node first (so nothing the dying
// service does reaches a peer), then the service is destroyed while its incarnation is still
// current, then the World ends the incarnation (every event it left behind is dropped), and
// finally the disk loses what was not synced.
//
// Fault points (base/fault_points.h): the cluster owns the world's one FaultPoints, seeded from
// the world's "buggify" stream, and hands it to every process through Env::fault_points. Probes
// always count; fault points fire only with Options::buggify (or after
// fault_points().set_buggify(true)). Every firing is traced as kind "buggify" with field "site",
// on the node whose code evaluated it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "base/fault_points.h"
#include "sim/sim_clock.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/world.h"

namespace gregor::sim {

class Service {
 public:
  virtual ~Service() = default;
};
using ServiceFactory = std::function<std::unique_ptr<Service>(Env&)>;

struct CrashOptions {
  bool lose_unsynced = true;  // the page cache goes too (kernel panic, VM reset)
  bool power_loss = false;    // no RST reaches peers; they learn only by timeouts
};

class Cluster {
 public:
  struct Options {
    uint64_t seed = 1;
    TraceLog::Options trace;
    SimNetwork::Options network;
    SimDisk::Options disk;
    bool buggify = false;  // BUGGIFY fault points fire (probes count either way)
    // After Env::halt, the process's supervisor (systemd, Kubernetes) restarts it this much later.
    Duration supervisor_restart_delay = seconds(1);
  };
  explicit Cluster(Options options);
  ~Cluster();

  World& world() { return world_; }
  SimNetwork& network() { return network_; }
  SimDisk& disk(NodeId id) { return *proc(id).disk; }
  SimClock& clock(NodeId id) { return *proc(id).clock; }
  // The world's fault points and probe counts (shared by every process and incarnation).
  FaultPoints& fault_points() { return fault_points_; }

  // Adds a process and starts it.
  NodeId add_process(std::string name, ServiceFactory factory);
  bool is_up(NodeId id) const { return world_.state(id) != NodeState::down; }
  void crash(NodeId id, CrashOptions options = {});
  void restart(NodeId id);
  void pause(NodeId id);
  void resume(NodeId id);
  // Power loss of several machines at once: all crash with unsynced data lost and no RSTs.
  void power_loss(const std::vector<NodeId>& ids);

  // The running service of a process (nullptr while down), for checkers and tests.
  Service* service(NodeId id) { return proc(id).service.get(); }
  template <typename S>
  S* service_as(NodeId id) {
    return dynamic_cast<S*>(service(id));
  }
  std::vector<NodeId> processes() const;

 private:
  class NodeTracer final : public Tracer {
   public:
    NodeTracer(World& world, NodeId node) : world_(world), node_(node) {}
    void event(std::string_view kind, const TraceFields& fields) override {
      world_.trace(node_, kind, fields);
    }

   private:
    World& world_;
    NodeId node_;
  };
  struct Process {
    std::string name;
    ServiceFactory factory;
    std::unique_ptr<SimClock> clock;
    std::unique_ptr<NodeTracer> tracer;
    std::unique_ptr<Random> random;  // renewed per incarnation
    std::unique_ptr<Env> env;
    // Destroyed before the Env (members go in reverse order): operations still queued on the
    // disk hold callbacks whose captured objects (a log being opened) use the Env as they go.
    std::unique_ptr<SimDisk> disk;
    std::unique_ptr<Service> service;
  };
  Process& proc(NodeId id);
  void start(NodeId id);

  World world_;
  void halt(NodeId id, uint32_t incarnation, const Status& why);

  FaultPoints fault_points_;
  Duration supervisor_restart_delay_;
  SimNetwork network_;
  SimDisk::Options disk_options_;
  std::vector<Process> procs_;  // index id - 1
};

}  // namespace gregor::sim
