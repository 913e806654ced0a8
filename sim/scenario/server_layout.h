// The server processes of a scenario's cluster and their configs: `broker-1`..`broker-N` and, with
// dedicated controllers, `controller-1`..`controller-K`. The scenario's [cluster.config] keys
// come first; the runner then fixes each process's identity, storage, addresses and, with a
// quorum (controllers > 0), controller.quorum.voters and process.roles:
//
//   controllers = 0                 one broker, its own LocalController (no voters)
//   controllers = K, combined       broker-1..K are broker+controller voters (node ids 1..K)
//   controllers = K, dedicated      controller-1..K are controller-only voters (node ids N+1..N+K)
//
// Brokers listen on 9092, controllers on 9093 (Kafka's customary ports), each at its node name.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "base/status.h"
#include "node/broker/broker_config.h"
#include "sim/scenario/scenario.h"

namespace gregor::scenario {

inline constexpr uint16_t kBrokerPort = 9092;
inline constexpr uint16_t kControllerPort = 9093;

struct ServerSpec {
  std::string name;  // process name: "broker-2", "controller-1"
  bool broker = true;
  bool controller = false;
  broker::BrokerConfig config;
};

std::string broker_name(uint32_t index);      // "broker-INDEX"
std::string controller_name(uint32_t index);  // "controller-INDEX"
// "1@broker-1:9093,..." (combined) or "4@controller-1:9093,..." (dedicated); "" without a quorum.
std::string quorum_voters_text(const Scenario& s);

// Every server process of the scenario, brokers first (index i is broker i+1), then dedicated
// controllers. An error when the scenario's broker keys do not parse.
Result<std::vector<ServerSpec>> server_specs(const Scenario& s);

}  // namespace gregor::scenario
