#include "sim/scenario/runner.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <set>

#include "base/assert.h"
#include "client/admin.h"
#include "node/broker/broker.h"
#include "node/broker/kraft_metadata.h"
#include "sim/check/checker.h"
#include "sim/check/raft_checks.h"
#include "sim/scenario/fault_player.h"
#include "sim/scenario/nemesis_plan.h"
#include "sim/scenario/replica_logs.h"
#include "sim/scenario/scenario_toml.h"
#include "sim/scenario/server_layout.h"
#include "sim/scenario/server_process.h"
#include "sim/scenario/workload.h"

namespace gregor::scenario {
namespace {

constexpr Duration kBootDeadline = seconds(30);  // servers started, quorum ready, topics created
constexpr Duration kProgressSlice = seconds(1);
constexpr Duration kSetupRetryBackoff =
    milliseconds(100);                         // of simulated time between progress calls
constexpr double kDrainShareOfRecovery = 0.5;  // sends settle, then the final read
// The topic the liveness probe creates after healing (quorum runs): a controller that cannot
// commit a topic creation is not available, whatever else works.
constexpr std::string_view kProbeTopic = "gregor-controller-probe";
constexpr Duration kProbeRequestTimeout = seconds(3);

struct IdleHost final : sim::Service {
  explicit IdleHost(Env& e) : env(e) {}
  Env& env;
};

class Run {
 public:
  Run(const Scenario& s, uint64_t seed, const RunOptions& o)
      : s_(s),
        seed_(seed),
        options_(o),
        cluster_(cluster_options(s, seed, o)),
        raft_checker_(raft_options(s)) {}

  RunResult go();

 private:
  static sim::Cluster::Options cluster_options(const Scenario& s, uint64_t seed,
                                               const RunOptions& o) {
    sim::Cluster::Options c;
    c.seed = seed;
    c.trace.keep_lines = o.keep_trace_lines;
    c.trace.path = o.trace_path;
    c.buggify = s.buggify;
    return c;
  }
  sim::World& world() { return cluster_.world(); }
  bool boot();
  bool quorum_ready();
  std::string boot_failure();
  client::Admin& admin();
  // Creates `topics`, retrying lost answers and retriable errors until `deadline`; sets `error`
  // to why not when it fails.
  // `persistent`: every error is retried (the probe: brokers fenced right after an election
  // make INVALID_REPLICATION_FACTOR for a while).
  bool create(client::Admin& admin, const std::vector<TopicSpec>& topics, MonoTime deadline,
              std::string& error, bool persistent = false);
  bool create_topics();
  bool probe_controller(MonoTime deadline);
  void start_clients();
  void play_faults(MonoTime start);
  void run_load(MonoTime end, MonoTime start);
  void drain_and_read(MonoTime deadline);
  void judge(bool read_complete, bool controller_available);
  std::vector<std::string> bootstrap() const;
  std::vector<client::TopicPartition> partitions_of(const std::vector<std::string>& topics) const;
  const broker::PartitionImage* newest_image(const std::string& topic_partition);
  uint32_t leader_of(const std::string& topic_partition);
  uint32_t replica_of(const std::string& topic_partition, uint32_t k);
  sim::NodeId active_controller();
  static check::RaftCheckOptions raft_options(const Scenario& s);
  ClientState& client_state(const std::string& name);

  const Scenario& s_;
  uint64_t seed_;
  RunOptions options_;
  sim::Cluster cluster_;
  check::Checker checker_;
  check::RaftChecker raft_checker_;
  Status history_error_;
  std::vector<sim::NodeId> brokers_;      // index i is broker-(i+1)
  std::vector<sim::NodeId> controllers_;  // dedicated controllers: index k is controller-(k+1)
  std::vector<sim::NodeId> servers_;      // brokers, then dedicated controllers
  sim::NodeId admin_node_ = 0;
  std::unique_ptr<client::Admin> admin_;
  std::unique_ptr<client::Admin> probe_admin_;
  std::map<std::string, sim::NodeId> clients_;
  std::deque<ClientState> states_;  // stable addresses: processes hold references
  std::unique_ptr<FaultPlayer> player_;
  RunResult r_;
};

std::vector<std::string> Run::bootstrap() const {
  std::vector<std::string> out;
  for (uint32_t i = 1; i <= brokers_.size(); ++i)
    out.push_back(fmt::format("{}:{}", broker_name(i), kBrokerPort));
  return out;
}

std::vector<client::TopicPartition> Run::partitions_of(
    const std::vector<std::string>& topics) const {
  std::vector<client::TopicPartition> out;
  for (auto& t : s_.topics) {
    if (std::find(topics.begin(), topics.end(), t.name) == topics.end()) continue;
    for (int32_t p = 0; p < t.partitions; ++p) out.push_back({t.name, p});
  }
  return out;
}

// The partition as the running broker with the highest leader epoch for it sees it, or null: a
// leader cut off from the controller still names itself at its old epoch.
const broker::PartitionImage* Run::newest_image(const std::string& topic_partition) {
  size_t dash = topic_partition.rfind('-');
  if (dash == std::string::npos) return nullptr;
  std::string topic = topic_partition.substr(0, dash);
  int32_t index = std::atoi(topic_partition.c_str() + dash + 1);
  const broker::PartitionImage* best = nullptr;
  for (uint32_t b = 1; b <= brokers_.size(); ++b) {
    auto* svc = cluster_.service_as<ServerProcess>(brokers_[b - 1]);
    if (!svc || !svc->server.broker()) continue;
    const auto& image = svc->server.broker()->metadata();
    auto t = image.topics.find(topic);
    if (t == image.topics.end() || index < 0 ||
        static_cast<size_t>(index) >= t->second.partitions.size())
      continue;
    const broker::PartitionImage& p = t->second.partitions[index];
    if (p.leader >= 1 && static_cast<uint32_t>(p.leader) <= brokers_.size() &&
        (!best || p.leader_epoch > best->leader_epoch))
      best = &p;
  }
  return best;
}

uint32_t Run::leader_of(const std::string& topic_partition) {
  const broker::PartitionImage* p = newest_image(topic_partition);
  return p ? static_cast<uint32_t>(p->leader) : 0;
}

uint32_t Run::replica_of(const std::string& topic_partition, uint32_t k) {
  const broker::PartitionImage* p = newest_image(topic_partition);
  if (!p || k < 1 || k > p->replicas.size()) return 0;
  int32_t b = p->replicas[k - 1];
  return b >= 1 && static_cast<uint32_t>(b) <= brokers_.size() ? static_cast<uint32_t>(b) : 0;
}

ClientState& Run::client_state(const std::string& name) {
  states_.push_back(ClientState{.name = name});
  return states_.back();
}

// The process whose controller is active now (the first found: in a split brain there may be
// two), or 0.
// The split brain allowance is twice the election timeout the servers run with: check-quorum
// makes a leader cut off from the majority resign within one.
check::RaftCheckOptions Run::raft_options(const Scenario& s) {
  check::RaftCheckOptions o;
  auto config = broker::parse_broker_config(broker_config_toml(s), "cluster.config");
  if (config.ok())
    o.split_brain_ns =
        2 * std::chrono::duration_cast<Duration>(config->quorum_election_timeout_ms).count();
  return o;
}

sim::NodeId Run::active_controller() {
  for (sim::NodeId id : servers_) {
    auto* svc = cluster_.service_as<ServerProcess>(id);
    if (svc && svc->server.controller() && svc->server.controller()->active()) return id;
  }
  return 0;
}

// With a quorum: an active controller, and every broker registered and unfenced in its own
// image (so topic creation places partitions on all of them).
bool Run::quorum_ready() {
  if (s_.controllers == 0) return true;
  if (active_controller() == 0) return false;
  for (sim::NodeId id : brokers_) {
    auto* svc = cluster_.service_as<ServerProcess>(id);
    broker::Broker* b = svc ? svc->server.broker() : nullptr;
    if (!b || b->metadata().brokers.size() != s_.brokers) return false;
    auto* kraft = dynamic_cast<broker::KRaftMetadata*>(&b->authority());
    if (kraft && kraft->fenced()) return false;
  }
  return true;
}

std::string Run::boot_failure() {
  for (sim::NodeId id : servers_) {
    auto* svc = cluster_.service_as<ServerProcess>(id);
    if (!svc || !svc->started)
      return fmt::format("{} did not start: timed out", world().node_name(id));
    if (!svc->started->ok())
      return fmt::format("{} did not start: {}", world().node_name(id), svc->started->to_string());
  }
  if (active_controller() == 0) return "no active controller within the boot deadline";
  return "not every broker registered and unfenced within the boot deadline";
}

bool Run::boot() {
  auto specs = server_specs(s_);
  if (!specs.ok()) {
    r_.error = specs.status().to_string();
    return false;
  }
  for (ServerSpec& spec : *specs) {
    sim::NodeId id = cluster_.add_process(
        spec.name, [c = spec.config](Env& env) { return std::make_unique<ServerProcess>(env, c); });
    servers_.push_back(id);
    (spec.broker ? brokers_ : controllers_).push_back(id);
  }
  bool ready = world().run_until(
      [&] {
        for (sim::NodeId id : servers_) {
          auto* svc = cluster_.service_as<ServerProcess>(id);
          if (!svc || !svc->started) return false;
        }
        return quorum_ready();
      },
      world().now() + kBootDeadline);
  for (sim::NodeId id : servers_) {
    auto* svc = cluster_.service_as<ServerProcess>(id);
    if (!ready || !svc || !svc->started->ok()) {
      r_.error = boot_failure();
      return false;
    }
  }
  return create_topics();
}

client::Admin& Run::admin() {
  if (!admin_) {
    admin_node_ =
        cluster_.add_process("admin", [](Env& env) { return std::make_unique<IdleHost>(env); });
    client::AdminConfig config;
    config.bootstrap_servers = bootstrap();
    admin_ =
        std::make_unique<client::Admin>(cluster_.service_as<IdleHost>(admin_node_)->env, config);
  }
  return *admin_;
}

// Setup is not under test: a lost answer (BUGGIFY drops responses) is retried until every topic
// exists, TOPIC_ALREADY_EXISTS meaning an earlier attempt made it.
bool Run::create(client::Admin& admin, const std::vector<TopicSpec>& specs, MonoTime deadline,
                 std::string& error, bool persistent) {
  std::set<std::string> missing;
  for (auto& t : specs) missing.insert(t.name);
  std::string last_error = "timed out";
  while (!missing.empty() && world().now() < deadline) {
    std::vector<client::NewTopic> topics;
    for (auto& t : specs)
      if (missing.count(t.name))
        topics.push_back(client::NewTopic{t.name, t.partitions, t.replication_factor, t.config});
    std::optional<Result<std::vector<client::TopicResult>>> result;
    admin.create_topics(std::move(topics), false, [&](auto res) { result = std::move(res); });
    world().run_until([&] { return result.has_value(); }, deadline);
    if (!result) break;
    if (!result->ok()) {
      last_error = result->status().to_string();
      world().run_for(kSetupRetryBackoff);
      continue;
    }
    bool retry = false;
    for (auto& t : **result) {
      if (t.ok() || t.error == kafka::ErrorCode::topic_already_exists) {
        missing.erase(t.name);
      } else if (persistent) {
        last_error = fmt::format("topic {}: {}", t.name, t.message);
        retry = true;
      } else if (!client::is_retriable(t.error)) {
        error = fmt::format("creating topic {}: {}", t.name, t.message);
        return false;
      }
    }
    if (retry) world().run_for(kSetupRetryBackoff);
  }
  if (!missing.empty()) error = "creating topics: " + last_error;
  return missing.empty();
}

bool Run::create_topics() {
  if (s_.topics.empty()) return true;
  return create(admin(), s_.topics, world().now() + kBootDeadline, r_.error);
}

// Liveness with a quorum: after healing, an active controller exists and a topic creation
// commits, both before `deadline`. The probe has its own Admin: the boot one's connections may
// be half-open after the faults (a power loss sends no RST) and would spend a whole request
// timeout finding out; its requests time out sooner, and are retried, for the same reason.
bool Run::probe_controller(MonoTime deadline) {
  bool active = world().run_until([&] { return active_controller() != 0; }, deadline);
  admin();  // the admin process
  client::AdminConfig config;
  config.bootstrap_servers = bootstrap();
  config.request_timeout_ms = kProbeRequestTimeout;
  probe_admin_ =
      std::make_unique<client::Admin>(cluster_.service_as<IdleHost>(admin_node_)->env, config);
  std::string error;
  bool created = active && create(*probe_admin_, {TopicSpec{.name = std::string(kProbeTopic)}},
                                  deadline, error, true);
  world().trace(sim::kWorldNode, "controller.probe",
                TraceFields().add("active", active).add("created", created).add("error", error));
  return created;
}

void Run::start_clients() {
  for (auto& p : s_.producers) {
    for (uint32_t i = 1; i <= p.count; ++i) {
      std::string name = fmt::format("{}-{}", p.name, i);
      ClientState& state = client_state(name);
      clients_[name] = cluster_.add_process(name, [&p, &state, b = bootstrap()](Env& env) {
        return std::make_unique<ProducerProcess>(env, p, b, state);
      });
    }
  }
  for (auto& c : s_.consumers) {
    for (uint32_t i = 1; i <= c.count; ++i) {
      std::string name = fmt::format("{}-{}", c.name, i);
      ClientState& state = client_state(name);
      if (c.mode == ConsumerMode::group) {
        clients_[name] = cluster_.add_process(name, [&c, &state, b = bootstrap()](Env& env) {
          return std::make_unique<GroupConsumerProcess>(env, c, b, state);
        });
        continue;
      }
      clients_[name] = cluster_.add_process(
          name, [&c, &state, parts = partitions_of(c.topics), b = bootstrap()](Env& env) {
            return std::make_unique<ConsumerProcess>(env, c, parts, b, state);
          });
    }
  }
}

void Run::play_faults(MonoTime start) {
  std::vector<FaultSpec> timeline = s_.timeline;
  Random nemesis_rng = world().rng("nemesis").fork("plan");
  for (auto& f : draw_nemesis(s_, nemesis_rng)) timeline.push_back(std::move(f));
  std::stable_sort(timeline.begin(), timeline.end(),
                   [](const FaultSpec& a, const FaultSpec& b) { return a.at < b.at; });
  r_.timeline = timeline;
  Topology topology{brokers_,
                    clients_,
                    [this](const std::string& tp) { return leader_of(tp); },
                    [this](const std::string& tp, uint32_t k) { return replica_of(tp, k); },
                    controllers_,
                    [this] { return active_controller(); }};
  player_ = std::make_unique<FaultPlayer>(cluster_, std::move(topology));
  for (auto& f : timeline) player_->schedule(f, start);
}

void Run::run_load(MonoTime end, MonoTime start) {
  double total = to_seconds(end - start) + to_seconds(s_.recovery);
  while (world().now() < end) {
    world().run_until(std::min(end, world().now() + kProgressSlice));
    if (options_.progress) options_.progress(to_seconds(world().now() - start), total);
  }
}

void Run::drain_and_read(MonoTime deadline) {
  // The quiet phase, as FoundationDB's: with the faults, BUGGIFY stops too, so `recovery` measures
  // recovery from the faults, not from fault points that would keep firing (probes still count).
  cluster_.fault_points().set_buggify(false);
  player_->heal_all();
  for (auto& st : states_) st.load_on = false;
  for (auto& [name, id] : clients_) {
    if (auto* p = cluster_.service_as<ProducerProcess>(id)) p->flush();
  }
  MonoTime drain_end =
      world().now() + Duration(static_cast<int64_t>(s_.recovery.count() * kDrainShareOfRecovery));
  world().run_until(
      [&] {
        for (auto& st : states_)
          if (st.pending > 0) return false;
        return true;
      },
      std::min(drain_end, deadline));
  bool controller_available = true;
  if (s_.mode == Mode::liveness && s_.controllers > 0)
    controller_available = probe_controller(deadline);
  // Liveness: followers get until the deadline to catch up before the final read and the replica
  // comparison (replicas-differ-after-heal). A new leader's high watermark can trail the log end
  // its predecessor acknowledged until its followers fetch again: read before that and an
  // acknowledged record past it looks lost (standard.toml seed 3298). A safety run reads and
  // compares as things are.
  if (s_.mode == Mode::liveness)
    world().run_until([&] { return replicas_in_sync(cluster_, brokers_); }, deadline);
  std::vector<std::string> topics;
  for (auto& t : s_.topics) topics.push_back(t.name);
  ClientState& state = client_state("reader");
  sim::NodeId reader = cluster_.add_process(
      "reader", [&state, parts = partitions_of(topics), b = bootstrap()](Env& env) {
        return std::make_unique<FinalReader>(env, parts, b, state);
      });
  bool read = world().run_until(
      [&] {
        auto* fr = cluster_.service_as<FinalReader>(reader);
        return fr && fr->done();
      },
      deadline);
  trace_replica_logs(cluster_, brokers_);
  judge(read, controller_available);
}

void Run::judge(bool read_complete, bool controller_available) {
  check::CheckResult cr = checker_.finish();
  for (auto& v : cr.violations) r_.violations.push_back({v.kind, v.text, v.evidence});
  for (size_t i = 0; i < check::kViolationKinds.size(); ++i)
    if (cr.counts[i] > 0)
      r_.violation_counts[std::string(check::kViolationKinds[i])] = cr.counts[i];
  check::RaftCheckResult raft = raft_checker_.finish();
  for (auto& v : raft.violations) r_.violations.push_back({v.kind, v.text, v.evidence});
  for (size_t i = 0; i < check::kRaftViolationKinds.size(); ++i)
    if (raft.counts[i] > 0)
      r_.violation_counts[std::string(check::kRaftViolationKinds[i])] = raft.counts[i];
  r_.raft_elections = raft.stats.elections;
  r_.raft_max_epoch = raft.stats.max_epoch;
  r_.controller_fences = raft.stats.fences;
  if (!controller_available) {
    r_.violations.push_back({std::string(kRunnerControllerUnavailable),
                             fmt::format("no active controller, or the probe topic could not be "
                                         "created, within recovery = {}s after the faults stopped",
                                         to_seconds(s_.recovery)),
                             "{}"});
    ++r_.violation_counts[std::string(kRunnerControllerUnavailable)];
  }
  if (!read_complete) {
    std::string text =
        fmt::format("the final read did not finish within recovery = {}s after the faults stopped",
                    to_seconds(s_.recovery));
    // Safety mode promises nothing about availability; liveness mode does.
    if (s_.mode == Mode::liveness) {
      r_.violations.push_back({std::string(kRunnerUnavailable), text, "{}"});
      ++r_.violation_counts[std::string(kRunnerUnavailable)];
    }
  }
  if (!history_error_.ok()) {
    r_.violations.push_back({"bad-history", history_error_.to_string(), "{}"});
    ++r_.violation_counts["bad-history"];
  }
  r_.records_lost = cr.stats.records_lost;
  if (s_.expect == "pass") {
    r_.pass = r_.violations.empty();
  } else {
    r_.pass = std::any_of(r_.violations.begin(), r_.violations.end(),
                          [&](const Violation& v) { return v.kind == s_.expect; });
  }
}

RunResult Run::go() {
  auto wall_start = std::chrono::steady_clock::now();
  r_.seed = seed_;
  r_.scenario = s_.name;
  r_.expect = s_.expect;
  r_.controllers = s_.controllers;
  world().trace_log().set_sink([this](std::string_view line) {
    Status st = checker_.add_line(line);
    if (!st.ok() && history_error_.ok()) history_error_ = st;
    if (s_.controllers == 0) return;  // no Raft without a quorum
    st = raft_checker_.add_line(line);
    if (!st.ok() && history_error_.ok()) history_error_ = st;
  });
  world().trace(sim::kWorldNode, "run.start",
                TraceFields()
                    .add("scenario", s_.name)
                    .add("seed", seed_)
                    .add("mode", s_.mode == Mode::liveness ? "liveness" : "safety"));
  if (boot()) {
    start_clients();
    MonoTime start = world().now();
    play_faults(start);
    run_load(start + s_.duration, start);
    drain_and_read(start + s_.duration + s_.recovery);
  }
  world().trace_log().set_sink(nullptr);
  for (auto& st : states_) {
    r_.records_sent += st.sent;
    r_.records_acked += st.acked;
    r_.records_failed += st.failed;
    r_.records_unknown += st.unknown + st.pending;
    r_.records_polled += st.polled;
  }
  if (player_) r_.faults = player_->injected();
  for (size_t i = 0; i < kProbeSiteCount; ++i)
    if (cluster_.fault_points().probe_hits()[i] > 0)
      r_.probes_hit.push_back(std::string(kProbeSites[i].name));
  std::sort(r_.probes_hit.begin(), r_.probes_hit.end());
  r_.buggify_fires = cluster_.fault_points().total_fires();
  auto& log = world().trace_log();
  r_.trace_hash = log.hash_hex();
  r_.trace_lines = log.lines();
  r_.events = world().counters().events_run;
  r_.sim_seconds = to_seconds(world().now() - MonoTime{});
  if (options_.keep_trace_lines) r_.trace_kept = log.kept_lines();
  r_.wall_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  if (!r_.error.empty()) r_.pass = false;
  return std::move(r_);
}

}  // namespace

RunResult run_scenario(const Scenario& scenario, uint64_t seed, const RunOptions& options) {
  Run run(scenario, seed, options);
  return run.go();
}

}  // namespace gregor::scenario
