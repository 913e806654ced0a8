// MetadataClient: what a client knows of the cluster, and its connections to the brokers.
//
// Metadata: bootstraps from CommonConfig::bootstrap_servers, then asks Metadata of the brokers it
// learns. It keeps topic -> partitions -> leader for the topics it is told to track (or every
// topic after refresh_all), and the broker list. Leaders are looked up per partition, so the
// producer and consumer already route each partition to its own leader when replication comes.
// A refresh is asked for after NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION,
// LEADER_NOT_AVAILABLE (needs_metadata_refresh) and after a connection to a broker ends;
// refreshes are coalesced and spaced by retry_backoff_ms, and metadata older than
// metadata_max_age_ms is refreshed when next asked for. A refresh that fails (no broker
// reachable, the request timed out) is tried again after retry_backoff_ms while topics are
// tracked, as Kafka's clients do: a producer must not wait out its delivery timeout because its
// first metadata request was lost.
//
// Connections: at most one per broker address (bootstrap entries and advertised brokers that
// name the same address share it). connection_to() connects on demand; a failed connect is not
// retried for reconnect_backoff_ms.
//
// Callbacks run later from the event loop, never inside the call that registered them, and never
// after close() or destruction. on_change (set_on_change) runs after every metadata update and
// every connection that became ready or ended, so an owner can drive its state machine from it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "base/env.h"
#include "client/client_types.h"
#include "client/connection.h"

namespace gregor::client {

struct BrokerMetadata {
  int32_t node_id = -1;
  std::string host;
  int32_t port = 0;
  std::optional<std::string> rack;
};

struct PartitionMetadata {
  int32_t partition = 0;
  kafka::ErrorCode error = kafka::ErrorCode::none;
  int32_t leader = -1;  // -1: no leader now
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> offline_replicas;
};

struct TopicMetadata {
  std::string name;
  kafka::ErrorCode error = kafka::ErrorCode::none;
  bool is_internal = false;
  std::vector<PartitionMetadata> partitions;  // sorted by partition
};

// One Metadata answer, as returned by fetch() (admin's list and describe).
struct ClusterMetadata {
  std::optional<std::string> cluster_id;
  int32_t controller_id = -1;
  std::vector<BrokerMetadata> brokers;  // sorted by node id
  std::vector<TopicMetadata> topics;    // in the broker's order
};

class MetadataClient {
 public:
  using ConnectionPtr = std::shared_ptr<KafkaClientConnection>;
  using ConnectionFn = std::function<void(Result<ConnectionPtr>)>;

  // Asserts that the bootstrap servers parse (owners validate their config first).
  MetadataClient(Env& env, CommonConfig config);
  ~MetadataClient();
  MetadataClient(const MetadataClient&) = delete;
  MetadataClient& operator=(const MetadataClient&) = delete;

  void set_on_change(std::function<void()> on_change) { on_change_ = std::move(on_change); }

  // Adds topics to track; a refresh follows if any is new.
  void track(const std::vector<std::string>& topics);
  // Refreshes the tracked topics now, or joins the refresh under way; done after the answer.
  void refresh(std::function<void(const Status&)> done);
  // Asks for a refresh soon: coalesced, no sooner than retry_backoff_ms after the last one.
  void request_refresh();
  // One Metadata request outside the cache: every topic (topics nullopt) or the given ones,
  // never auto-creating. The answer also updates the broker list.
  void fetch(std::optional<std::vector<std::string>> topics,
             std::function<void(Result<ClusterMetadata>)> done);

  // The cached metadata of a tracked topic, nullptr before its first answer.
  const TopicMetadata* topic(const std::string& name) const;
  // The leader of a partition, nullopt when unknown or leaderless.
  std::optional<int32_t> leader(const TopicPartition& tp) const;
  std::optional<net::Address> broker_address(int32_t node_id) const;
  int32_t controller_id() const { return controller_id_; }
  bool has_metadata() const { return refreshed_once_; }

  // A ready connection to broker `node_id`, connecting if needed.
  void connection_to(int32_t node_id, ConnectionFn done);
  // A ready connection to any broker: the controller's or any open one first, else the known
  // brokers and the bootstrap servers in turn.
  void any_connection(ConnectionFn done);
  // The ready connection to node_id, or nullptr; starts connecting when there is none.
  ConnectionPtr ready_connection(int32_t node_id);

  // Ends every connection; no callback runs afterwards.
  void close();
  const CommonConfig& config() const { return config_; }

 private:
  struct Link {
    ConnectionPtr conn;
    std::vector<ConnectionFn> waiters;
  };
  void connect(const net::Address& address, ConnectionFn done);
  void start_connect(const net::Address& address);
  void on_link_ready(const net::Address& address, const Status& s);
  void on_link_closed(const net::Address& address, const Status& s);
  void any_from(size_t index, ConnectionFn done);
  std::vector<net::Address> candidates() const;
  void send_refresh();
  void finish_refresh(const Status& s);
  void apply(const kafka::MetadataResponse& resp, bool cache_topics);
  void changed();

  Env& env_;
  CommonConfig config_;
  ConnectionConfig connection_config_;
  std::vector<net::Address> bootstrap_;
  std::map<net::Address, Link> links_;
  std::map<net::Address, MonoTime> connect_failed_at_;
  std::map<int32_t, BrokerMetadata> brokers_;
  std::map<std::string, TopicMetadata> topics_;
  std::set<std::string> tracked_;
  int32_t controller_id_ = -1;
  bool refreshed_once_ = false;
  bool refreshing_ = false;
  bool refresh_again_ = false;            // asked while one was under way
  std::optional<MonoTime> last_refresh_;  // when the last refresh ended
  TimerId refresh_timer_ = kNoTimer;
  TimerId age_timer_ = kNoTimer;  // metadata.max.age.ms
  std::vector<std::function<void(const Status&)>> refresh_waiters_;
  std::function<void()> on_change_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::client
