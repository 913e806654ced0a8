// The active controller's decisions (Kafka's ClusterControlManager, BrokerHeartbeatManager,
// ReplicationControlManager, ProducerIdControlManager and PartitionChangeBuilder), as pure
// functions: (image, request, time) -> (records, answer). No I/O, no clock, no randomness: the
// host passes the time, the offset a record will get, and whatever it draws from its seeded
// Random (topic ids, placement start indexes).
//
// Contract of every operation: `image` is the active controller's *current* image (the committed
// image with every record proposed but not yet committed replayed on top), and the records of the
// returned Decision replay cleanly, in order, on that image with MetadataDelta (each is replayed
// while the decision is built, and an assertion stops the node if one does not fit: that is a bug
// here, never a bad request). The host proposes the records as one batch and sends the answer
// once they commit; an answer with an error has no records.
//
// Partition changes follow Kafka 3.7's PartitionChangeBuilder: a partition's leader is kept while
// it stays acceptable (registered, unfenced, not in controlled shutdown) and in the target ISR;
// otherwise the first acceptable replica in `replicas` order (the preferred-replica order) that
// is in the target ISR, or, when the target ISR is empty, in the ELR (KIP-966); otherwise, when
// unclean.leader.election.enable holds for the topic, the first acceptable replica at all (the ISR
// becomes that leader alone, leader recovery state RECOVERING); otherwise no leader (-1). Without
// ELR an ISR never becomes empty: its last member stays ("last replica standing") and the
// partition is leaderless until that member comes back. With ELR, when the target ISR is below
// the topic's min.insync.replicas, the members leaving the ISR join the ELR (and the last known
// ELR); at or above it, both are cleared. Leader epochs and partition epochs move as
// PartitionChangeRecord replay moves them (metadata_delta.cc): a leader change bumps both, any
// other change the partition epoch.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/time.h"
#include "node/controller/metadata_delta.h"
#include "node/controller/metadata_records.h"
#include "node/kafka/error_code.h"

namespace gregor::controller {

using kafka::ErrorCode;
using metadata::ControllerImage;
using metadata::MetadataRecord;
using metadata::Uuid;

// Short names for the controller's own error codes (node/kafka/error_code.h).
inline constexpr ErrorCode kInvalidUpdateVersion = ErrorCode::invalid_update_version;
inline constexpr ErrorCode kDuplicateBrokerRegistration = ErrorCode::duplicate_broker_registration;
inline constexpr ErrorCode kBrokerIdNotRegistered = ErrorCode::broker_id_not_registered;
inline constexpr ErrorCode kIneligibleReplica = ErrorCode::ineligible_replica;

// Kafka's topic config keys the controller itself reads.
inline constexpr std::string_view kMinInsyncReplicasKey = "min.insync.replicas";
inline constexpr std::string_view kUncleanLeaderElectionKey = "unclean.leader.election.enable";

// Named limits.
inline constexpr int32_t kReplicationFactorMax = 32767;  // CreateTopics carries an int16
inline constexpr int32_t kProducerIdBlockSizeMax = 1'000'000;

struct ControllerConfig {
  int32_t default_num_partitions = 1;       // num.partitions
  int16_t default_replication_factor = 1;   // default.replication.factor
  int32_t default_min_insync_replicas = 1;  // min.insync.replicas (topic and broker configs win)
  Duration session_timeout = milliseconds(9000);  // broker.session.timeout.ms
  bool unclean_leader_election = false;           // unclean.leader.election.enable (configs win)
  bool eligible_leader_replicas = true;           // KIP-966 ELR
  // KIP-903: AlterPartition checks the broker epoch of every new ISR member. false: the legacy
  // behaviour before it (a replica that restarted with a new epoch, and lost data, can rejoin an
  // ISR on the strength of a fetch made by its previous incarnation).
  bool broker_epoch_fencing = true;
  int32_t producer_id_block_size = 1000;  // Kafka's ProducerIdsBlock size
};

struct ApiError {
  ErrorCode code = ErrorCode::none;
  std::string message;
  bool ok() const { return code == ErrorCode::none; }
};

template <typename T>
struct Decision {
  std::vector<MetadataRecord> records;
  T answer;
};

// The active controller's broker sessions (Kafka's BrokerHeartbeatManager): in memory only. A
// controller that becomes active calls reset(), which gives every registered broker a fresh
// session, as Kafka does (a new controller cannot know when a broker last spoke to the old one).
class BrokerHeartbeatTracker {
 public:
  explicit BrokerHeartbeatTracker(Duration session_timeout) : session_timeout_(session_timeout) {}

  void reset(const ControllerImage& image, MonoTime now);
  void touch(int32_t broker_id, MonoTime now);
  void remove(int32_t broker_id);
  // A session is alive while now <= last contact + session timeout. Untracked: not alive.
  bool session_alive(int32_t broker_id, MonoTime now) const;
  // Tracked brokers whose session has expired, in id order.
  std::vector<int32_t> expired(MonoTime now) const;
  Duration session_timeout() const { return session_timeout_; }

 private:
  Duration session_timeout_;
  std::map<int32_t, MonoTime> last_contact_;
};

// --- Brokers -------------------------------------------------------------------------------

struct RegisterBrokerRequest {
  int32_t broker_id = 0;
  Uuid incarnation_id;
  std::vector<metadata::BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
  // KIP-966: the epoch of the broker's previous incarnation when it shut down cleanly, else -1.
  // A different value marks an unclean shutdown: with ELR the broker leaves every ELR.
  int64_t previous_broker_epoch = -1;
};
struct RegisterBrokerAnswer {
  ApiError error;
  int64_t broker_epoch = -1;
};

// Kafka's ClusterControlManager.registerBroker. The new broker epoch is `record_offset`, the
// offset the RegisterBrokerRecord (the batch's first record) will get in the metadata log; it must
// exceed the broker's current epoch (asserted: offsets only grow). The broker starts fenced. The
// same incarnation again is a retry: the same epoch, no record. Another incarnation while the
// current one is unfenced with a live session: DUPLICATE_BROKER_REGISTRATION (unless it names the
// current epoch as its previous one: a clean restart). A new incarnation of a known broker leaves
// every ISR (as a fence does). Touches the broker's session on success.
Decision<RegisterBrokerAnswer> register_broker(const ControllerImage& image,
                                               BrokerHeartbeatTracker& tracker,
                                               const ControllerConfig& config,
                                               const RegisterBrokerRequest& request,
                                               int64_t record_offset, MonoTime now);

struct HeartbeatRequest {
  int32_t broker_id = 0;
  int64_t broker_epoch = -1;
  int64_t current_metadata_offset = -1;
  bool want_fence = false;
  bool want_shutdown_now = false;
};
struct HeartbeatAnswer {
  ApiError error;
  bool is_caught_up = false;
  bool is_fenced = true;
  bool in_controlled_shutdown = false;
  bool should_shut_down = false;
};

// Kafka's BrokerHeartbeatManager.calculateNextBrokerState + processBrokerHeartbeat. Unknown
// broker: BROKER_ID_NOT_REGISTERED; another epoch: STALE_BROKER_EPOCH (no session touched). The
// broker is caught up when current_metadata_offset >= `registration_offset` (the offset of its
// RegisterBrokerRecord, which is its epoch). States and moves:
//   fenced:   want_shutdown_now -> shut down now; caught up and not want_fence -> unfenced
//   unfenced: want_fence -> fenced (shut down now if also want_shutdown_now);
//             want_shutdown_now -> controlled shutdown if it leads a partition, else shut down now
//   controlled shutdown: want_fence, or leading nothing -> shut down now
// Entering controlled shutdown writes BrokerRegistrationChangeRecord(in_controlled_shutdown) and
// removes the broker from every ISR (its partitions elect other leaders); fencing (and shutting
// down) writes FenceBrokerRecord and does the same; unfencing writes UnfenceBrokerRecord and lets
// every leaderless partition elect. A fenced broker in controlled shutdown is "shut down now".
Decision<HeartbeatAnswer> heartbeat(const ControllerImage& image, BrokerHeartbeatTracker& tracker,
                                    const ControllerConfig& config, const HeartbeatRequest& request,
                                    MonoTime now, int64_t registration_offset);

// Fences every unfenced broker whose session expired (Kafka fences one per call; all at once here,
// each seeing the changes of the previous ones), with the partition changes of each fence.
Decision<std::vector<int32_t>> fence_expired(const ControllerImage& image,
                                             const BrokerHeartbeatTracker& tracker,
                                             const ControllerConfig& config, MonoTime now);

struct ProducerIdBlock {
  ApiError error;
  int64_t start = -1;
  int32_t length = 0;
};
// Kafka's ProducerIdControlManager: the next block [next_producer_id, + block_size).
// STALE_BROKER_EPOCH for an unknown broker or another epoch; UNKNOWN_SERVER_ERROR when the ids
// are exhausted. block_size must be 1..kProducerIdBlockSizeMax (asserted: it is configuration).
Decision<ProducerIdBlock> allocate_producer_ids(const ControllerImage& image, int32_t broker_id,
                                                int64_t broker_epoch, int32_t block_size);

// --- Topics --------------------------------------------------------------------------------

struct CreatableTopic {
  std::string name;
  int32_t num_partitions = -1;      // -1: the configured default
  int32_t replication_factor = -1;  // -1: the configured default
  std::vector<std::pair<std::string, std::optional<std::string>>> configs;
};
struct CreateTopicsRequest {
  std::vector<CreatableTopic> topics;
  bool validate_only = false;
};
struct CreatedTopic {
  std::string name;
  ApiError error;
  Uuid topic_id;  // zero when refused or validate_only
  int32_t num_partitions = -1;
  int32_t replication_factor = -1;
  std::map<std::string, std::string> configs;  // the topic's own configs
};

// Draws a fresh topic id (the host's seeded Random); drawn again on zero or a clash.
using TopicIdSource = std::function<Uuid()>;
// Draws the placement start index of one topic (the host's seeded Random).
using PlacementSource = std::function<uint32_t()>;

// Per topic, in request order: INVALID_REQUEST for a name given twice, INVALID_TOPIC_EXCEPTION,
// TOPIC_ALREADY_EXISTS, INVALID_PARTITIONS, INVALID_REPLICATION_FACTOR (also when it exceeds the
// usable brokers: unfenced and not in controlled shutdown), INVALID_CONFIG (unknown keys or bad
// values, checked with broker::apply_topic_configs over its defaults, plus
// unclean.leader.election.enable). Then a TopicRecord, its PartitionRecords and ConfigRecords.
// Placement (Kafka's StripedReplicaPlacer, simplified): over the usable brokers sorted by id, from
// the topic's start index s, partition p gets brokers[(s + p + k) % n] for k in 0..rf-1; leader
// the first, ISR all, epochs 0.
Decision<std::vector<CreatedTopic>> create_topics(const ControllerImage& image,
                                                  const ControllerConfig& config,
                                                  const CreateTopicsRequest& request,
                                                  const TopicIdSource& new_topic_id,
                                                  const PlacementSource& placement_start);

// A topic by id, or by name when the id is zero (DeleteTopics v6).
struct TopicRef {
  std::string name;
  Uuid id;
};
struct DeletedTopic {
  std::string name;
  Uuid id;
  ApiError error;
};
// RemoveTopicRecord per known topic. UNKNOWN_TOPIC_OR_PARTITION for an unknown name,
// UNKNOWN_TOPIC_ID for an unknown id, INVALID_REQUEST for a topic named twice (not deleted).
Decision<std::vector<DeletedTopic>> delete_topics(const ControllerImage& image,
                                                  const std::vector<TopicRef>& topics);

// --- AlterPartition ------------------------------------------------------------------------

struct IsrMember {
  int32_t broker_id = 0;
  int64_t broker_epoch = -1;  // -1: unknown (AlterPartition before v3): not checked
};
struct AlterPartitionItem {
  int32_t partition = 0;
  int32_t leader_epoch = 0;
  std::vector<IsrMember> new_isr;
  int8_t leader_recovery_state = 0;
  int32_t partition_epoch = 0;
};
struct AlterPartitionTopic {
  Uuid topic_id;
  std::vector<AlterPartitionItem> partitions;
};
struct AlterPartitionRequest {
  int32_t broker_id = 0;
  int64_t broker_epoch = -1;
  std::vector<AlterPartitionTopic> topics;
};
struct AlteredPartition {
  int32_t partition = 0;
  ApiError error;
  // The partition's state after the change (or as it is, when nothing changed).
  int32_t leader = -1;
  int32_t leader_epoch = -1;
  std::vector<int32_t> isr;
  int8_t leader_recovery_state = 0;
  int32_t partition_epoch = -1;
};
struct AlteredTopic {
  Uuid topic_id;
  std::vector<AlteredPartition> partitions;
};
struct AlterPartitionAnswer {
  ApiError error;  // STALE_BROKER_EPOCH for the whole request
  std::vector<AlteredTopic> topics;
};

// Kafka's ReplicationControlManager.alterPartition with KIP-903, per partition in this order:
// UNKNOWN_TOPIC_ID (the topic), UNKNOWN_TOPIC_OR_PARTITION, FENCED_LEADER_EPOCH (another leader
// epoch), NOT_LEADER_OR_FOLLOWER (the requester does not lead it), INVALID_UPDATE_VERSION (another
// partition epoch), INVALID_REQUEST (a member twice, the leader missing, a leader recovery state
// going back to RECOVERING or RECOVERING with more than one member), INELIGIBLE_REPLICA (a member
// unknown, not a replica, fenced, in controlled shutdown, or, with broker_epoch_fencing, whose
// given epoch is not its registration's). Accepted: a PartitionChangeRecord (with the ELR rules
// above); an unchanged ISR is answered with the current state and no record. Where Kafka 3.7
// answers otherwise: a requester that is not the leader gets INVALID_REQUEST there, a leader
// epoch above the controller's NOT_CONTROLLER, a member that is not a replica INVALID_REQUEST.
// The requester stays the leader (it is in its new ISR and must be eligible), so Kafka's
// NEW_LEADER_ELECTED (a reassignment completing) cannot happen here.
Decision<AlterPartitionAnswer> alter_partition(const ControllerImage& image,
                                               const ControllerConfig& config,
                                               const AlterPartitionRequest& request);

// --- Helpers shared with tests and the host ------------------------------------------------

// The topic's effective min.insync.replicas and unclean.leader.election.enable: the topic's
// config, else the cluster-wide broker config (resource name ""), else ControllerConfig.
int32_t min_insync_replicas(const ControllerImage& image, const ControllerConfig& config,
                            const std::string& topic);
bool unclean_leader_election(const ControllerImage& image, const ControllerConfig& config,
                             const std::string& topic);

// A broker that may lead: registered, unfenced and not in controlled shutdown.
bool acceptable_leader(const ControllerImage& image, int32_t broker_id);

}  // namespace gregor::controller
