#include "sim/cluster.h"

#include "base/assert.h"

namespace gregor::sim {

Cluster::Cluster(Options options)
    : world_(World::Options{options.seed, std::move(options.trace)}),
      fault_points_(world_.rng("buggify"), FaultPoints::Options{.buggify = options.buggify}),
      supervisor_restart_delay_(options.supervisor_restart_delay),
      network_(world_, options.network),
      disk_options_(options.disk) {
  // Traced on the node whose event evaluated the site, so a trace explains the odd path it took.
  fault_points_.set_on_fire([this](FaultSite site) {
    world_.trace(world_.current_node(), "buggify", TraceFields().add("site", site_info(site).name));
  });
}

Cluster::~Cluster() {
  // Services go first: their destructors may still touch the network and disks.
  for (auto& p : procs_) p.service.reset();
}

Cluster::Process& Cluster::proc(NodeId id) {
  GREGOR_ASSERT(id >= 1 && id <= procs_.size(), "no process {}", id);
  return procs_[id - 1];
}

std::vector<NodeId> Cluster::processes() const {
  std::vector<NodeId> ids;
  for (NodeId id = 1; id <= procs_.size(); ++id) ids.push_back(id);
  return ids;
}

NodeId Cluster::add_process(std::string name, ServiceFactory factory) {
  NodeId id = world_.add_node(name);
  GREGOR_ASSERT(id == procs_.size() + 1, "processes must be added through the Cluster");
  Process p;
  p.name = std::move(name);
  p.factory = std::move(factory);
  p.clock = std::make_unique<SimClock>(world_, id);
  p.disk = std::make_unique<SimDisk>(world_, id, disk_options_);
  p.tracer = std::make_unique<NodeTracer>(world_, id);
  procs_.push_back(std::move(p));
  start(id);
  return id;
}

void Cluster::start(NodeId id) {
  Process& p = proc(id);
  // A fresh random stream per incarnation, derived from the seed, the name and the incarnation.
  p.random = std::make_unique<Random>(
      world_.rng("process").fork(p.name).fork(world_.incarnation(id)).next_u64());
  p.env = std::make_unique<Env>(Env{*p.clock, *p.random, network_.endpoint(id), *p.disk, *p.tracer,
                                    p.name, /*simulated=*/true});
  p.env->fault_points = &fault_points_;
  p.env->halt = [this, id, incarnation = world_.incarnation(id)](const Status& why) {
    halt(id, incarnation, why);
  };
  world_.trace(id, "proc.start", TraceFields().add("incarnation", world_.incarnation(id)));
  world_.run_as(id, [&] { p.service = p.factory(*p.env); });
}

// Env::halt: the process exits (its page cache survives: a process exit, not a machine crash), and
// a supervisor restarts it after supervisor_restart_delay. Both happen later as world events, never
// inside the halting code, and only if that incarnation is still the one running (a fault may have
// crashed or restarted it meanwhile).
void Cluster::halt(NodeId id, uint32_t incarnation, const Status& why) {
  world_.trace(id, "proc.halt", TraceFields().add("why", why.message()));
  world_.after(Duration::zero(), kWorldNode, [this, id, incarnation] {
    if (!is_up(id) || world_.incarnation(id) != incarnation) return;
    crash(id, CrashOptions{.lose_unsynced = false});
    world_.after(supervisor_restart_delay_, kWorldNode, [this, id, incarnation] {
      if (!is_up(id) && world_.incarnation(id) == incarnation + 1) restart(id);
    });
  });
}

void Cluster::crash(NodeId id, CrashOptions options) {
  Process& p = proc(id);
  GREGOR_ASSERT(is_up(id), "crash of {} which is down", p.name);
  if (world_.state(id) == NodeState::paused) world_.resume(id);
  world_.trace(id, "proc.crash",
               TraceFields()
                   .add("lose_unsynced", options.lose_unsynced)
                   .add("power_loss", options.power_loss));
  network_.crash(id, /*send_reset=*/!options.power_loss);
  p.service.reset();
  world_.kill(id);
  if (options.lose_unsynced || options.power_loss) {
    p.disk->crash(world_.rng("crash"));
  } else {
    p.disk->process_crash();
  }
  p.env.reset();
}

void Cluster::restart(NodeId id) {
  GREGOR_ASSERT(!is_up(id), "restart of {} which is up", proc(id).name);
  world_.revive(id);
  start(id);
}

void Cluster::pause(NodeId id) {
  world_.trace(id, "proc.pause");
  world_.pause(id);
}

void Cluster::resume(NodeId id) {
  world_.trace(id, "proc.resume");
  world_.resume(id);
}

void Cluster::power_loss(const std::vector<NodeId>& ids) {
  for (NodeId id : ids) {
    if (is_up(id)) crash(id, CrashOptions{.lose_unsynced = true, .power_loss = true});
  }
}

}  // namespace gregor::sim
