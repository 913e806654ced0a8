// RaftNode: the host of one Raft state machine (raft.h) on the Env seam. It is what runs the
// metadata quorum in a controller, and the metadata log's observer in a broker that is not a
// voter.
//
//   - time: a timer calls Raft::tick() every `tick` (the state machine's only clock);
//   - disk: RaftStorage (quorum-state, the __cluster_metadata-0 log, snapshots); each Ready is
//     persisted whole, in order, one at a time, and only then are its messages sent and its high
//     watermark exposed (the Ready contract of raft_types.h: nothing is acknowledged unsynced);
//   - network: requests to other voters leave through one RpcChannel per peer, as Kafka requests
//     (Vote, BeginQuorumEpoch, EndQuorumEpoch, Fetch v13, FetchSnapshot; raft_wire.h); their
//     answers come back on the same channel and are stepped as messages from that peer. Requests
//     from peers arrive through handle() (the controller listener's RpcServer) and are answered
//     with the response message the state machine emits for them, after the Ready that holds it
//     is durable. A request the state machine answers with nothing (Begin/EndQuorumEpoch, whose
//     answer in the pull model is the next fetch; a stale or ignored request) gets a plain answer
//     carrying this node's epoch and leader once the Ready of its step is durable.
//
// Committed entries reach the owner through Listener::on_committed, in offset order, each once
// per incarnation; a snapshot installed from the leader arrives first through on_snapshot (the
// owner's state is replaced by it). LeaderChange entries are delivered too (the owner skips them).
//
// Failure: a storage failure (a failed fsync may have lost data the page cache held) halts the
// process through Env::halt, as Kafka does for a failed metadata log dir: the restart reloads
// what is durable.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/env.h"
#include "node/controller/raft.h"
#include "node/controller/raft_storage.h"
#include "node/rpc/rpc_channel.h"
#include "node/rpc/rpc_server.h"

namespace gregor::raft {

struct RaftNodeConfig {
  RaftConfig raft;  // id, voters (ids), timeouts in ticks, pre-vote, check-quorum, seed
  Duration tick = milliseconds(50);
  std::map<NodeId, net::Address> voter_addresses;  // controller.quorum.voters
  std::string metadata_dir;                        // metadata.log.dir
  std::string cluster_id;
  RaftStorageOptions storage;
  rpc::RpcChannelConfig channel;
  // A snapshot is taken once this many committed entries follow the last one (0: never).
  int64_t snapshot_every_entries = 1000;
};

class RaftNode {
 public:
  struct Listener {
    std::function<void(const Snapshot& snapshot)> on_snapshot;
    std::function<void(const std::vector<Entry>& entries)> on_committed;
    // The role, epoch or leader changed (after the change is durable).
    std::function<void()> on_state_change;
    // The owner's state at the high watermark, for a local snapshot (empty: no snapshot now).
    std::function<Bytes(int64_t end_offset)> snapshot_data;
  };

  RaftNode(Env& env, RaftNodeConfig config, Listener listener);
  ~RaftNode();
  RaftNode(const RaftNode&) = delete;
  RaftNode& operator=(const RaftNode&) = delete;

  // Loads the storage, builds the state machine and starts ticking. The loaded snapshot and the
  // committed entries are delivered as they become known committed (the high watermark is not
  // persisted: it is relearnt from the leader).
  void start(std::function<void(const Status&)> done);
  // Stops ticking, closes the channels; the storage stays as it is (every Ready was durable).
  void stop();

  // Whether the request is one of the quorum APIs this node answers, and the answer.
  static bool handles(kafka::ApiKey key);
  void handle(const kafka::RequestHeader& header, Reader& body, rpc::Responder responder);

  // Leader only: appends entries; the offset of the first, or -1 (not leader, backlog full).
  int64_t propose(const std::vector<Bytes>& payloads);
  // Gives up leadership (controlled shutdown of an active controller).
  void resign();

  bool started() const { return raft_.has_value(); }
  const Raft& raft() const { return *raft_; }
  NodeId id() const { return config_.raft.id; }
  bool is_leader() const { return raft_ && raft_->role() == Role::kLeader; }
  NodeId leader_id() const { return raft_ ? raft_->leader_id() : kNoNode; }
  int32_t epoch() const { return raft_ ? raft_->epoch() : 0; }
  // The high watermark exposed so far (durable on this node), and what was delivered.
  int64_t high_watermark() const { return exposed_high_watermark_; }
  int64_t applied_offset() const { return applied_; }
  const RaftNodeConfig& config() const { return config_; }
  std::optional<net::Address> address_of(NodeId id) const;

 private:
  // What an inbound request waits for: the response the state machine emits to its sender.
  enum class Answer : uint8_t { vote, fetch, fetch_snapshot, begin_quorum, end_quorum };
  struct Inbound {
    NodeId from;
    Answer answer;
    uint64_t step_seq;  // the value of step_seq_ when it was stepped
    rpc::Responder responder;
    std::optional<FetchRequest> fetch;  // what a fetch asked (the answer echoes it)
    MessageBody request;
  };

  void on_tick();
  void step(const Message& m);
  void process_ready();
  void on_persisted(Ready ready, uint64_t seq_at_take);
  void deliver_committed();
  void maybe_snapshot();
  void send_request(const Message& m);
  void answer(Inbound& in, const MessageBody* body);
  rpc::RpcChannel& channel(NodeId peer);
  void fail(const Status& why);

  Env& env_;
  RaftNodeConfig config_;
  Listener listener_;
  std::unique_ptr<RaftStorage> storage_;
  std::optional<Raft> raft_;
  std::map<NodeId, std::unique_ptr<rpc::RpcChannel>> channels_;
  std::deque<Inbound> inbound_;  // in arrival order
  uint64_t step_seq_ = 0;
  bool persisting_ = false;
  int64_t exposed_high_watermark_ = 0;
  int64_t applied_ = 0;  // the next offset to deliver
  int64_t last_snapshot_end_ = 0;
  bool snapshotting_ = false;
  Role last_role_ = Role::kUnattached;
  int32_t last_epoch_ = -1;
  NodeId last_leader_ = kNoNode;
  TimerId tick_timer_ = kNoTimer;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::raft
