// Runs the demo counter in a simulated 3-node cluster with clients, injects faults of every
// family, heals, waits for convergence and checks the history. See counter_node.h for the fault
// model the counter promises to survive.
#include "sim/demo/counter_sim.h"

#include <fmt/format.h>

#include <algorithm>

#include "sim/cluster.h"
#include "sim/demo/counter_client.h"
#include "sim/demo/counter_node.h"
#include "sim/nemesis.h"

namespace gregor::demo {
namespace {

constexpr uint16_t kCounterPort = 7000;

template <typename T>
struct Hosted final : sim::Service {
  template <typename... Args>
  explicit Hosted(Args&&... args) : value(std::forward<Args>(args)...) {}
  T value;
};

class CounterSim {
 public:
  explicit CounterSim(const CounterSimOptions& o)
      : options_(o),
        cluster_(cluster_options(o)),
        nemesis_(cluster_, sim::Nemesis::Options{.interval_min = o.fault_interval_min,
                                                 .interval_max = o.fault_interval_max}) {}

  CounterSimResult run();

 private:
  static sim::Cluster::Options cluster_options(const CounterSimOptions& o) {
    sim::Cluster::Options c;
    c.seed = o.seed;
    c.trace.keep_lines = o.keep_trace_lines;
    c.trace.path = o.trace_path;
    return c;
  }
  void add_processes();
  void add_clients();
  bool converged();
  void heal_and_settle(CounterSimResult& result);
  void check(CounterSimResult& result);

  CounterSimOptions options_;
  sim::Cluster cluster_;
  sim::Nemesis nemesis_;
  std::vector<sim::NodeId> nodes_, clients_;
  std::vector<net::Address> addresses_;
  CounterHistory history_;
};

void CounterSim::add_processes() {
  for (uint32_t i = 0; i < options_.nodes; ++i)
    addresses_.push_back(net::Address{fmt::format("n{}", i + 1), kCounterPort});
  for (uint32_t i = 0; i < options_.nodes; ++i) {
    CounterConfig config{.self = i, .nodes = addresses_};
    config.bug_ack_before_fsync = options_.plant_ack_before_persist;
    nodes_.push_back(cluster_.add_process(addresses_[i].host, [config](Env& env) {
      return std::make_unique<Hosted<CounterNode>>(env, config);
    }));
  }
  nemesis_.set_targets(nodes_);
}

void CounterSim::add_clients() {
  for (uint32_t c = 0; c < options_.clients; ++c) {
    CounterClientConfig config{.client = c, .nodes = addresses_};
    clients_.push_back(
        cluster_.add_process(fmt::format("client{}", c + 1), [config, this](Env& env) {
          return std::make_unique<Hosted<CounterClient>>(env, config, &history_);
        }));
  }
}

bool CounterSim::converged() {
  const std::vector<uint64_t>* first = nullptr;
  for (sim::NodeId id : nodes_) {
    auto* node = cluster_.service_as<Hosted<CounterNode>>(id);
    if (!node || !node->value.ready()) return false;
    if (!first) first = &node->value.counts();
    if (node->value.counts() != *first) return false;
  }
  return true;
}

void CounterSim::heal_and_settle(CounterSimResult& result) {
  for (sim::NodeId id : clients_) {
    if (auto* c = cluster_.service_as<Hosted<CounterClient>>(id)) c->value.stop();
  }
  nemesis_.heal_all();
  MonoTime deadline = cluster_.world().now() + options_.heal_deadline;
  auto clients_idle = [&] {
    for (sim::NodeId id : clients_) {
      auto* c = cluster_.service_as<Hosted<CounterClient>>(id);
      if (c && !c->value.idle()) return false;
    }
    return true;
  };
  cluster_.world().run_until([&] { return clients_idle() && converged(); }, deadline);
  result.converged = converged();
}

void CounterSim::check(CounterSimResult& result) {
  for (const CounterOp& op : history_.ops) {
    switch (op.outcome) {
      case CounterOp::Outcome::ok:
        ++result.ops_ok;
        break;
      case CounterOp::Outcome::fail:
        ++result.ops_failed;
        break;
      case CounterOp::Outcome::unknown:
        ++result.ops_unknown;
        break;
    }
  }
  if (!result.converged) {
    result.violations.push_back(
        fmt::format("liveness: nodes did not converge within {} after healing",
                    format_duration(options_.heal_deadline)));
    return;
  }
  auto& counts = cluster_.service_as<Hosted<CounterNode>>(nodes_[0])->value.counts();
  result.final_total = 0;
  for (uint64_t c : counts) result.final_total += c;
  // Every acknowledged increment's count is still there.
  for (const CounterOp& op : history_.ops) {
    if (op.outcome != CounterOp::Outcome::ok) continue;
    if (op.slot >= counts.size() || counts[op.slot] < op.count) {
      result.violations.push_back(fmt::format(
          "lost-write: client{} op {} acknowledged slot {} count {} at {}, final slot value {}",
          op.client + 1, op.id, op.slot, op.count, format_duration(op.completed.time_since_epoch()),
          op.slot < counts.size() ? counts[op.slot] : 0));
      if (result.violations.size() > 20) return;
    }
  }
  // No more than ok + unknown increments were applied, no fewer than ok.
  if (result.final_total < result.ops_ok) {
    result.violations.push_back(fmt::format("lost-write: final total {} < {} acknowledged",
                                            result.final_total, result.ops_ok));
  }
  if (result.final_total > result.ops_ok + result.ops_unknown) {
    result.violations.push_back(
        fmt::format("phantom-write: final total {} > {} acknowledged + {} indefinite",
                    result.final_total, result.ops_ok, result.ops_unknown));
  }
}

CounterSimResult CounterSim::run() {
  CounterSimResult result;
  add_processes();
  cluster_.world().run_for(options_.client_start);
  add_clients();
  if (options_.faults) nemesis_.start(options_.duration);
  cluster_.world().run_for(options_.duration);
  heal_and_settle(result);
  check(result);
  result.pass = result.violations.empty();
  result.faults = nemesis_.injected();
  auto& log = cluster_.world().trace_log();
  cluster_.world().trace(sim::kWorldNode, "run.end",
                         TraceFields()
                             .add("pass", result.pass)
                             .add("ok", result.ops_ok)
                             .add("unknown", result.ops_unknown)
                             .add("total", result.final_total));
  result.trace_hash = log.hash_hex();
  result.trace_lines = log.lines();
  result.events = cluster_.world().counters().events_run;
  result.sim_seconds = to_seconds(cluster_.world().now().time_since_epoch());
  if (options_.keep_trace_lines) result.trace_kept = log.kept_lines();
  return result;
}

}  // namespace

CounterSimResult run_counter_sim(const CounterSimOptions& options) {
  CounterSim sim(options);
  return sim.run();
}

}  // namespace gregor::demo
