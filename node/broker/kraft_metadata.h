// KRaftMetadata: the MetadataAuthority of a broker in a cluster with a controller quorum (Kafka's
// BrokerMetadataPublisher + BrokerLifecycleManager + the forwarding of admin requests).
//
//   - Metadata: the process's MetadataNode follows the metadata log; after every applied entry
//     this broker's serving image (broker::MetadataImage) is rebuilt from the controller's image,
//     partitions newly hosted here are opened (their logs created), partitions of removed topics
//     closed and deleted, and partitions this broker now leads take the new leader epoch. These
//     disk operations run one at a time, in log order.
//   - Lifecycle: once the broker listens, it registers with the active controller
//     (BrokerRegistration: a new incarnation id per process start, its advertised listener) and
//     then heartbeats every broker.heartbeat.interval.ms with the metadata offset it has applied.
//     The controller unfences it once it has caught up to its own registration, and fences it
//     when heartbeats stop for broker.session.timeout.ms. Errors that mean "register again"
//     (STALE_BROKER_EPOCH, BROKER_ID_NOT_REGISTERED) do so; NOT_CONTROLLER or a failed request
//     retries against whoever the quorum names as leader next.
//   - Shutdown is controlled: heartbeats ask to shut down until the controller has moved this
//     broker's leaderships away and answers should_shut_down (bounded by kControlledShutdownMax).
//     A confirmed controlled shutdown then writes the clean-shutdown file (kCleanShutdownFile in
//     the log dir, the broker epoch it shut down with: Kafka's .kafka_cleanshutdown). The next
//     start reads and removes it and registers with that epoch as its previous one; without it
//     (a crash) the registration says -1 and the controller treats the restart as unclean
//     (KIP-966: the broker leaves every ELR, its unflushed writes may be gone).
//   - CreateTopics, DeleteTopics and producer-id blocks are requests to the active controller; a
//     topic change is answered once this broker's own image shows it (bounded by
//     kMetadataPropagationMax), so the client's next Metadata request finds it.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "node/broker/metadata_authority.h"
#include "node/broker/replica_fetcher.h"
#include "node/broker/replica_manager.h"
#include "node/controller/metadata_node.h"
#include "node/kafka/messages_controller.h"
#include "node/log/checkpoint_file.h"
#include "node/rpc/rpc_channel.h"

namespace gregor::broker {

// Named limits.
inline constexpr Duration kMetadataPropagationMax = seconds(10);
inline constexpr Duration kControlledShutdownMax = seconds(10);
inline constexpr Duration kControllerRetryBackoff = milliseconds(100);
inline constexpr std::string_view kCleanShutdownFile = ".gregor_cleanshutdown";

class KRaftMetadata final : public MetadataAuthority {
 public:
  KRaftMetadata(Env& env, const BrokerConfig& config, ReplicaManager& replicas,
                metadata::MetadataNode& node, std::string cluster_id);
  ~KRaftMetadata() override;

  void start(std::function<void(const Status&)> done) override;
  void shutdown(std::function<void(const Status&)> done) override;
  const MetadataImage& image() const override { return image_; }
  bool in_progress(const std::string& topic) const override;
  void register_broker(const std::string& host, int32_t port) override;
  void create_topic(TopicRequest request, std::function<void(TopicResult)> done) override;
  void delete_topic(const std::string& name, std::function<void(TopicResult)> done) override;
  void allocate_producer_id(std::function<void(Result<int64_t>)> done) override;
  void logs_closed(std::function<void()> done) override;
  void on_follower_fetch(Partition& partition, int32_t replica) override;

  int64_t broker_epoch() const { return broker_epoch_; }
  bool fenced() const { return fenced_; }

 private:
  // Metadata publishing.
  void on_applied(const metadata::ControllerImage& image);
  void run_disk_ops();
  // Leader or follower, at the epoch the current image gives, for each open partition of the
  // topic (kraft_metadata_replication.cc).
  void take_leadership(const std::string& name);
  // Partition replication (kraft_metadata_replication.cc): the periodic ISR check (Kafka's
  // isr-expiration task, every replica.lag.time.max.ms / 2), and ISR changes sent to the
  // controller with AlterPartition.
  void schedule_isr_check();
  // `fetched`: the follower whose fetch prompted the check (expansion is judged on fetches).
  void maybe_change_isr(Partition& partition, std::optional<int32_t> fetched);
  void send_alter_partition(Partition& partition, std::vector<int32_t> isr);
  void check_waiters();
  void maybe_started();

  // The channel to the active controller (nullptr while no leader is known).
  rpc::RpcChannel* controller_channel();
  void forget_controller();

  // Lifecycle.
  void send_registration();
  void schedule_heartbeat(Duration delay);
  void send_heartbeat();
  void on_heartbeat(Result<kafka::BrokerHeartbeatResponse> r);
  // Ends a controlled shutdown that passed kControlledShutdownMax; true when it did.
  bool shutdown_overdue();

  void fetch_producer_ids();
  // The clean-shutdown file: read and removed at start, written after a controlled shutdown.
  void take_clean_shutdown(std::function<void()> next);

  Env& env_;
  const BrokerConfig& config_;
  ReplicaManager& replicas_;
  metadata::MetadataNode& node_;
  std::string cluster_id_;
  int subscription_ = 0;
  MetadataImage image_;
  kafka::Uuid incarnation_id_;

  // Disk operations derived from the image, in log order.
  std::deque<std::function<void(std::function<void()> next)>> disk_ops_;
  bool disk_op_running_ = false;
  bool disk_kick_scheduled_ = false;
  std::function<void(const Status&)> start_done_;  // until the first disk ops are done
  std::set<std::string> in_progress_;              // topics with a disk op queued or running

  // Callbacks waiting for the local image to show a condition (or their deadline).
  struct Waiter {
    std::function<bool()> ready;
    std::function<void(bool shown)> done;
    MonoTime deadline;
  };
  std::vector<Waiter> waiters_;
  TimerId waiter_timer_ = kNoTimer;

  int32_t controller_id_ = -1;
  std::unique_ptr<rpc::RpcChannel> channel_;
  std::vector<std::unique_ptr<rpc::RpcChannel>> retired_;  // replaced, with requests in flight

  std::optional<kafka::BrokerRegistrationRequest::Listener> endpoint_;
  int64_t broker_epoch_ = -1;
  int64_t previous_broker_epoch_ = -1;  // from the clean-shutdown file, else -1
  bool registering_ = false;
  kafka::ErrorCode last_refusal_ = kafka::ErrorCode::none;
  bool fenced_ = true;
  TimerId heartbeat_timer_ = kNoTimer;
  bool heartbeat_in_flight_ = false;
  uint64_t heartbeat_generation_ = 0;  // answers to heartbeats of an older one are ignored
  bool shutting_down_ = false;
  bool shutdown_confirmed_ = false;  // the controller answered should_shut_down
  std::function<void(const Status&)> shutdown_done_;
  MonoTime shutdown_deadline_{};

  int64_t next_producer_id_ = 0;
  int64_t producer_id_end_ = 0;
  bool producer_ids_in_flight_ = false;
  std::deque<std::function<void(Result<int64_t>)>> producer_id_waiters_;

  ReplicaFetchers fetchers_;
  TimerId isr_timer_ = kNoTimer;

  log::CheckpointFile clean_shutdown_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::broker
