// Test support (tests only): a quorum of real Gregor processes in the simulator. QuorumWorld runs
// nodes 1..N as Servers (combined broker+controller by default, or brokers plus dedicated
// controllers) on SimDisk and SimNetwork, and a "client" process whose Env tests hand to the
// client Admin, Producer and Consumer. Shared by server_test.cc and
// replication_transcript_test.cc.
#pragma once

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/admin.h"
#include "client/client_sim_testing.h"
#include "node/server/server.h"
#include "sim/cluster.h"

namespace gregor::server::testing {

using client::testing::ClientHost;

inline constexpr uint16_t kBrokerPort = 9092;
inline constexpr uint16_t kControllerPort = 9093;

struct ServerService final : sim::Service {
  ServerService(Env& env, broker::BrokerConfig config) : server(env, std::move(config)) {
    server.start([this](const Status& s) { started = s; });
  }
  Server server;
  std::optional<Status> started;
};

struct Layout {
  int brokers = 3;      // nodes 1..brokers are brokers
  int controllers = 3;  // voters: nodes 1..controllers (combined) or after the brokers
  bool dedicated = false;
  int64_t snapshot_every_entries = 1000;
  // More lines of every node's config file (TOML), e.g. shorter replica.* timeouts.
  std::string extra_config;
};

class QuorumWorld {
 public:
  explicit QuorumWorld(Layout layout, uint64_t seed = 1)
      : layout_(layout), cluster_(options(seed)) {
    int nodes = layout.dedicated ? layout.brokers + layout.controllers : layout.brokers;
    std::string voters;
    for (int v = 0; v < layout.controllers; ++v) {
      int id = layout.dedicated ? layout.brokers + 1 + v : v + 1;
      voters += fmt::format("{}{}@n{}:{}", voters.empty() ? "" : ",", id, id, kControllerPort);
    }
    for (int id = 1; id <= nodes; ++id) {
      bool controller = layout.dedicated ? id > layout.brokers : id <= layout.controllers;
      bool broker = id <= layout.brokers;
      std::string roles = broker && controller ? "broker,controller"
                          : broker             ? "broker"
                                               : "controller";
      auto config = broker::parse_broker_config(fmt::format(R"(node.id = {}
"controller.quorum.voters" = "{}"
"process.roles" = "{}"
"group.initial.rebalance.delay.ms" = 0
"offsets.topic.num.partitions" = 3
{})",
                                                            id, voters, roles, layout.extra_config),
                                                "test.toml");
      EXPECT_TRUE(config.ok()) << config.status();
      config->log_dir = "data";
      config->metadata_snapshot_every_entries = layout.snapshot_every_entries;
      config->listener = {fmt::format("n{}", id), kBrokerPort};
      config->advertised_listener = config->listener;
      nodes_.push_back(cluster_.add_process(fmt::format("n{}", id), [c = *config](Env& env) {
        return std::make_unique<ServerService>(env, c);
      }));
    }
    client_ =
        cluster_.add_process("client", [](Env& env) { return std::make_unique<ClientHost>(env); });
  }

  sim::Cluster& cluster() { return cluster_; }
  sim::World& world() { return cluster_.world(); }
  sim::SimNetwork& network() { return cluster_.network(); }
  Env& client_env() { return cluster_.service_as<ClientHost>(client_)->env; }
  // The running server of node `id` (1-based), nullptr while it is down.
  Server* server(int id) {
    auto* s = cluster_.service_as<ServerService>(nodes_[id - 1]);
    return s ? &s->server : nullptr;
  }
  sim::NodeId node(int id) const { return nodes_[id - 1]; }
  sim::NodeId client_node() const { return client_; }
  std::vector<std::string> bootstrap() const {
    std::vector<std::string> out;
    for (int id = 1; id <= layout_.brokers; ++id)
      out.push_back(fmt::format("n{}:{}", id, kBrokerPort));
    return out;
  }

  void run_for(Duration d) { world().run_for(d); }
  bool run_until(const std::function<bool()>& pred, Duration timeout = seconds(60)) {
    return world().run_until(pred, world().now() + timeout);
  }
  // The node whose controller is active (0: none).
  int active_controller() {
    for (int id = 1; id <= static_cast<int>(nodes_.size()); ++id) {
      Server* s = server(id);
      if (s && s->controller() && s->controller()->active()) return id;
    }
    return 0;
  }
  // Every running broker sees `count` unfenced brokers.
  bool brokers_see(size_t count) {
    for (int id = 1; id <= layout_.brokers; ++id) {
      Server* s = server(id);
      if (!s || !s->broker() || s->broker()->metadata().brokers.size() != count) return false;
    }
    return true;
  }

 private:
  static sim::Cluster::Options options(uint64_t seed) {
    sim::Cluster::Options o;
    o.seed = seed;
    return o;
  }
  Layout layout_;
  sim::Cluster cluster_;
  std::vector<sim::NodeId> nodes_;
  sim::NodeId client_ = 0;
};

// Creates topics through the client Admin; each topic's error code (unknown_server_error for all
// when the request itself failed).
inline std::vector<kafka::ErrorCode> create_topics(QuorumWorld& w, client::Admin& admin,
                                                   std::vector<client::NewTopic> topics) {
  size_t count = topics.size();
  std::optional<Result<std::vector<client::TopicResult>>> got;
  admin.create_topics(std::move(topics), false, [&](auto r) { got = std::move(r); });
  EXPECT_TRUE(w.run_until([&] { return got.has_value(); }));
  if (got && !got->ok()) ADD_FAILURE() << got->status();
  if (!got || !got->ok()) return std::vector(count, kafka::ErrorCode::unknown_server_error);
  EXPECT_EQ((*got)->size(), count);
  std::vector<kafka::ErrorCode> out;
  for (const client::TopicResult& r : **got) out.push_back(r.error);
  return out;
}

// Creates one topic of replication factor 1; the error code.
inline kafka::ErrorCode create_topic(QuorumWorld& w, client::Admin& admin, const std::string& name,
                                     int partitions) {
  return create_topics(w, admin, {client::NewTopic{name, partitions, 1, {}}}).at(0);
}

}  // namespace gregor::server::testing
