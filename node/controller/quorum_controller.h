// QuorumController: a controller process's request side (Kafka's ControllerServer +
// QuorumController). It listens on this voter's address (its controller.quorum.voters entry) and
// answers two kinds of requests there:
//   - the quorum RPCs of the other voters and observers (Vote, BeginQuorumEpoch, EndQuorumEpoch,
//     Fetch v13, FetchSnapshot): handed to the MetadataNode's RaftNode;
//   - the broker-to-controller APIs (BrokerRegistration, BrokerHeartbeat, AllocateProducerIds,
//     AlterPartition, CreateTopics, DeleteTopics): decided by controller_logic.h on the *active*
//     controller, i.e. the Raft leader once it has applied its whole log up to the LeaderChange
//     entry of its epoch. Anywhere else they are answered NOT_CONTROLLER (clients find the leader
//     through the quorum).
//
// Writes: a decision's records are replayed onto the active controller's pending image (the
// committed image plus every proposed record), proposed as one metadata-log entry, and answered
// once that entry is committed and applied here. Losing leadership fails every write waiting
// with NOT_CONTROLLER (its entry may still commit: a retry sees the result, as in Kafka). Broker
// sessions live in memory on the active controller (BrokerHeartbeatTracker); a timer fences the
// brokers whose session expired.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>

#include "base/env.h"
#include "node/controller/controller_logic.h"
#include "node/controller/metadata_node.h"
#include "node/kafka/messages_admin.h"
#include "node/kafka/messages_controller.h"
#include "node/rpc/rpc_server.h"

namespace gregor::controller {

struct QuorumControllerConfig {
  int32_t node_id = 0;
  net::Address listen;  // this voter's controller.quorum.voters entry
  ControllerConfig logic;
  // How often the active controller looks for expired broker sessions.
  Duration fence_check_interval = milliseconds(250);
};

class QuorumController {
 public:
  QuorumController(Env& env, metadata::MetadataNode& node, QuorumControllerConfig config);
  ~QuorumController();
  QuorumController(const QuorumController&) = delete;
  QuorumController& operator=(const QuorumController&) = delete;

  // Listens (Errc::address_in_use, ...) and starts following the node's state.
  Status start();
  void stop();

  bool active() const { return active_; }
  net::Address address() const { return server_.address(); }
  const ControllerImage& pending_image() const { return pending_; }

 private:
  void handle(const kafka::RequestHeader& header, Reader& body, rpc::Responder responder);
  void on_state_change();
  void on_applied();
  void activate();
  void deactivate();
  void check_sessions();

  // Proposes the records (if any) and runs `reply` once they are committed and applied here;
  // `reply(false)` when they will not be (not active, backlog full, leadership lost).
  void write(std::vector<MetadataRecord> records, std::function<void(bool committed)> reply);

  // Request handlers (quorum_controller_apis.cc).
  void on_register(const kafka::BrokerRegistrationRequest& req, rpc::Responder responder);
  void on_heartbeat(const kafka::BrokerHeartbeatRequest& req, rpc::Responder responder);
  void on_allocate_producer_ids(const kafka::AllocateProducerIdsRequest& req,
                                rpc::Responder responder);
  void on_alter_partition(const kafka::AlterPartitionRequest& req, int16_t version,
                          rpc::Responder responder);
  void on_create_topics(const kafka::CreateTopicsRequest& req, rpc::Responder responder);
  void on_delete_topics(const kafka::DeleteTopicsRequest& req, rpc::Responder responder);

  Env& env_;
  metadata::MetadataNode& node_;
  QuorumControllerConfig config_;
  rpc::RpcServer server_;
  int subscription_ = 0;
  bool active_ = false;
  int32_t active_epoch_ = -1;
  ControllerImage pending_;  // committed image + proposed records (active only)
  BrokerHeartbeatTracker tracker_;
  // Writes waiting for their entry to be applied, by entry offset.
  std::multimap<int64_t, std::function<void(bool)>> waiting_;
  TimerId session_timer_ = kNoTimer;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::controller
