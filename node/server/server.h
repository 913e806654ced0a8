// Server: one Gregor process as `gregor serve` and the simulator run it: a broker, a controller,
// or both (process.roles), over the Env seam.
//
//   - Without controller.quorum.voters: a broker that is its own controller (LocalController),
//     the single-node mode from before the quorum.
//   - With them: the MetadataNode (the Raft metadata log: a voter when this node is a
//     controller, an observer otherwise), the QuorumController listening on this voter's
//     address when the node is a controller, and the Broker following the metadata log when it is
//     a broker. A node that is both ("combined", Kafka's default for small clusters) shares one
//     metadata log between its two roles.
//
// The cluster id of a quorum is derived from its voter set (every node of a cluster is configured
// with the same voters), so no separate "format" step is needed; a request from a node with
// another voter set is refused as from another cluster.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "base/env.h"
#include "node/broker/broker.h"
#include "node/broker/broker_config.h"
#include "node/controller/metadata_node.h"
#include "node/controller/quorum_controller.h"

namespace gregor::server {

// Raft ticks: the state machine's clock. The election timeout is a whole number of ticks.
inline constexpr Duration kRaftTick = milliseconds(50);

std::string cluster_id_of(const broker::BrokerConfig& config);

class Server {
 public:
  Server(Env& env, broker::BrokerConfig config);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void start(std::function<void(const Status&)> done);
  // A controlled shutdown of the broker, then everything stops.
  void shutdown(std::function<void(const Status&)> done);

  const broker::BrokerConfig& config() const { return config_; }
  // Each nullptr when this process does not have that role.
  broker::Broker* broker() { return broker_.get(); }
  controller::QuorumController* controller() { return controller_.get(); }
  metadata::MetadataNode* metadata() { return metadata_.get(); }

 private:
  Env& env_;
  broker::BrokerConfig config_;
  std::unique_ptr<metadata::MetadataNode> metadata_;
  std::unique_ptr<controller::QuorumController> controller_;
  std::unique_ptr<broker::Broker> broker_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::server
