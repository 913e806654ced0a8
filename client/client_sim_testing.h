// Test support (tests only): a simulated world with one real broker::Broker process on node
// "broker" (SimDisk, SimNetwork, listener broker:9092) and a process "client" whose Env the test
// hands to Gregor's producer, consumer and admin. Also run-until helpers for callback results.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "node/broker/broker.h"
#include "sim/cluster.h"

namespace gregor::client::testing {

inline constexpr uint16_t kBrokerPort = 9092;

struct BrokerService final : sim::Service {
  BrokerService(Env& env, broker::BrokerConfig config) : broker(env, std::move(config)) {
    broker.start([this](const Status& s) { started = s; });
  }
  broker::Broker broker;
  std::optional<Status> started;
};

struct ClientHost final : sim::Service {
  explicit ClientHost(Env& e) : env(e) {}
  Env& env;
};

// A broker config for node `host` with Kafka's defaults, except those the arguments set.
inline broker::BrokerConfig sim_broker_config(const std::string& host,
                                              uint64_t flush_interval_messages = UINT64_MAX,
                                              int32_t num_partitions = 1) {
  auto config = broker::parse_broker_config("", "test");
  GREGOR_ASSERT(config.ok(), "default broker config: {}", config.status().to_string());
  config->log_dir = "data";
  config->listener = {host, kBrokerPort};
  config->advertised_listener = {host, kBrokerPort};
  config->log_flush_interval_messages = flush_interval_messages;
  config->num_partitions = num_partitions;
  return *config;
}

class SimBrokerWorld {
 public:
  struct Options {
    uint64_t seed = 1;
    uint64_t flush_interval_messages = UINT64_MAX;
    int32_t num_partitions = 1;
    bool keep_trace_lines = false;
    sim::SimNetwork::Options network;
  };

  explicit SimBrokerWorld(Options options) : options_(options), cluster_(cluster_options(options)) {
    auto config =
        sim_broker_config("broker", options.flush_interval_messages, options.num_partitions);
    broker_node_ = cluster_.add_process(
        "broker", [config](Env& env) { return std::make_unique<BrokerService>(env, config); });
    client_node_ =
        cluster_.add_process("client", [](Env& env) { return std::make_unique<ClientHost>(env); });
    EXPECT_TRUE(wait_broker_started());
  }
  SimBrokerWorld() : SimBrokerWorld(Options{}) {}

  sim::Cluster& cluster() { return cluster_; }
  sim::World& world() { return cluster_.world(); }
  sim::SimNetwork& network() { return cluster_.network(); }
  sim::NodeId broker_node() const { return broker_node_; }
  sim::NodeId client_node() const { return client_node_; }
  Env& client_env() { return cluster_.service_as<ClientHost>(client_node_)->env; }
  std::vector<std::string> bootstrap() const { return {fmt::format("broker:{}", kBrokerPort)}; }
  // The running broker, nullptr while it is down.
  broker::Broker* broker() {
    auto* s = cluster_.service_as<BrokerService>(broker_node_);
    return s ? &s->broker : nullptr;
  }

  // Runs the world until pred() holds or `timeout` of virtual time passed; returns pred().
  bool run_until(const std::function<bool()>& pred, Duration timeout = seconds(60)) {
    return world().run_until(pred, world().now() + timeout);
  }
  // Runs until `slot` is filled; fails the test (and returns false) on timeout.
  template <typename T>
  bool wait(const std::optional<T>& slot, Duration timeout = seconds(60)) {
    bool ok = run_until([&] { return slot.has_value(); }, timeout);
    EXPECT_TRUE(ok) << "no result within " << format_duration(timeout);
    return ok;
  }
  bool wait_broker_started(Duration timeout = seconds(30)) {
    bool ok = run_until(
        [&] {
          auto* s = cluster_.service_as<BrokerService>(broker_node_);
          return s && s->started.has_value();
        },
        timeout);
    auto* s = cluster_.service_as<BrokerService>(broker_node_);
    return ok && s && s->started->ok();
  }
  // Adds another client process; its Env lives as long as the world (clients never crash here).
  Env& add_client(const std::string& name) {
    sim::NodeId id =
        cluster_.add_process(name, [](Env& env) { return std::make_unique<ClientHost>(env); });
    return cluster_.service_as<ClientHost>(id)->env;
  }
  void crash_broker(sim::CrashOptions options = {}) { cluster_.crash(broker_node_, options); }
  bool restart_broker() {
    cluster_.restart(broker_node_);
    return wait_broker_started();
  }

 private:
  static sim::Cluster::Options cluster_options(const Options& o) {
    sim::Cluster::Options c;
    c.seed = o.seed;
    c.trace.keep_lines = o.keep_trace_lines;
    c.network = o.network;
    return c;
  }

  Options options_;
  sim::Cluster cluster_;
  sim::NodeId broker_node_ = 0;
  sim::NodeId client_node_ = 0;
};

inline Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}
inline std::string text_of(const std::optional<Bytes>& b) {
  return b ? std::string(b->begin(), b->end()) : std::string("<null>");
}

}  // namespace gregor::client::testing
