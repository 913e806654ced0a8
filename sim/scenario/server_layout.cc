#include "sim/scenario/server_layout.h"

#include <fmt/format.h>

#include "sim/scenario/scenario_toml.h"

namespace gregor::scenario {

std::string broker_name(uint32_t index) {
  return fmt::format("broker-{}", index);
}

std::string controller_name(uint32_t index) {
  return fmt::format("controller-{}", index);
}

std::string quorum_voters_text(const Scenario& s) {
  std::string out;
  for (uint32_t k = 1; k <= s.controllers; ++k) {
    uint32_t id = s.dedicated_controllers ? s.brokers + k : k;
    std::string host = s.dedicated_controllers ? controller_name(k) : broker_name(k);
    out += fmt::format("{}{}@{}:{}", out.empty() ? "" : ",", id, host, kControllerPort);
  }
  return out;
}

namespace {

// The scenario's keys, then the quorum keys (the scenario may not set those: they are the
// runner's, like node.id), parsed by the broker's own parser so a bad value reads as it would in
// `gregor serve`.
Result<ServerSpec> spec_of(const Scenario& s, std::string name, uint32_t node_id, bool broker,
                           bool controller) {
  std::string toml = broker_config_toml(s);
  if (s.controllers > 0) {
    toml += fmt::format("\"node.id\" = {}\n", node_id);  // the parser checks it against the voters
    toml += fmt::format("\"controller.quorum.voters\" = \"{}\"\n", quorum_voters_text(s));
    toml += fmt::format("\"process.roles\" = \"{}\"\n", broker && controller ? "broker,controller"
                                                        : broker             ? "broker"
                                                                             : "controller");
  }
  auto config = broker::parse_broker_config(toml, "cluster.config");
  if (!config.ok()) return config.status();
  config->node_id = static_cast<int32_t>(node_id);
  config->log_dir = "data";
  config->listener = {name, kBrokerPort};
  config->advertised_listener = config->listener;
  config->bugs.ack_before_append = s.bugs.ack_before_append;
  return ServerSpec{std::move(name), broker, controller, std::move(*config)};
}

}  // namespace

Result<std::vector<ServerSpec>> server_specs(const Scenario& s) {
  std::vector<ServerSpec> out;
  for (uint32_t i = 1; i <= s.brokers; ++i) {
    bool combined = s.controllers > 0 && !s.dedicated_controllers && i <= s.controllers;
    auto spec = spec_of(s, broker_name(i), i, true, combined);
    if (!spec.ok()) return spec.status();
    out.push_back(std::move(*spec));
  }
  if (s.dedicated_controllers) {
    for (uint32_t k = 1; k <= s.controllers; ++k) {
      auto spec = spec_of(s, controller_name(k), s.brokers + k, false, true);
      if (!spec.ok()) return spec.status();
      out.push_back(std::move(*spec));
    }
  }
  return out;
}

}  // namespace gregor::scenario
