// Broker: a Kafka broker on the Env seam. The same object serves real clients in `gregor serve`
// (TCP, POSIX files, the real clock) and simulated ones in the simulator.
//
// start(): loads or creates the cluster metadata in the log dir, opens every hosted partition
// (recovering its log), then listens. shutdown(): stops accepting, closes every connection,
// answers waiting fetches, and flushes and closes every log (checkpoints written), so a restart
// recovers without scanning. A crash instead of a shutdown loses only what was not flushed.
#pragma once

#include <functional>
#include <map>
#include <memory>

#include "base/env.h"
#include "net/network.h"
#include "node/broker/broker_config.h"
#include "node/broker/group_manager.h"
#include "node/broker/kafka_apis.h"
#include "node/broker/kafka_connection.h"
#include "node/broker/metadata_authority.h"
#include "node/broker/replica_manager.h"

namespace gregor::metadata {
class MetadataNode;
}

namespace gregor::broker {

class Broker {
 public:
  // Without controller.quorum.voters: a single node that is its own controller
  // (LocalController). With them, `metadata` is the process's MetadataNode (it must outlive the
  // broker) and cluster_id the quorum's.
  Broker(Env& env, BrokerConfig config, metadata::MetadataNode* metadata = nullptr,
         std::string cluster_id = "");
  ~Broker();

  void start(std::function<void(const Status&)> done);
  void shutdown(std::function<void(const Status&)> done);

  // The bound address (the port resolved when the listener asked for port 0).
  net::Address address() const;
  const BrokerConfig& config() const { return config_; }
  const BrokerCounters& counters() const { return apis_.counters(); }
  const MetadataImage& metadata() const { return controller_->image(); }
  MetadataAuthority& authority() { return *controller_; }
  ReplicaManager& replicas() { return replicas_; }
  GroupManager& groups() { return groups_; }
  size_t connection_count() const { return connections_.size(); }

 private:
  void accept(net::ConnectionPtr conn);
  void stop_serving(std::function<void(const Status&)> done);

  Env& env_;
  BrokerConfig config_;
  ReplicaManager replicas_;
  std::unique_ptr<MetadataAuthority> controller_;
  GroupManager groups_;
  KafkaApis apis_;
  std::unique_ptr<net::Listener> listener_;
  std::map<KafkaConnection*, std::shared_ptr<KafkaConnection>> connections_;
  bool stopping_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::broker
