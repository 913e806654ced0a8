// KafkaApis: Kafka requests in, responses out. Decodes a request frame with the protocol tables,
// runs the handler of its API against the broker's state (the MetadataAuthority for metadata,
// ReplicaManager for partitions), and encodes the response in the request's version. As Kafka's
// KafkaApis, one handler per API; they live in kafka_apis*.cc by family.
//
// Contract of handle(): the reply runs exactly once, with
//   - a response frame (size prefix included),
//   - nullopt when the request gets no response (Produce with acks=0),
//   - or an error: the request was malformed, or of an API or version this broker does not serve
//     (except ApiVersions, which is always answered); the connection must then be closed.
#pragma once

#include <functional>
#include <list>
#include <memory>
#include <optional>

#include "base/env.h"
#include "net/network.h"
#include "node/broker/broker_config.h"
#include "node/broker/group_manager.h"
#include "node/broker/metadata_authority.h"
#include "node/broker/replica_manager.h"
#include "node/kafka/api.h"

namespace gregor::broker {

// Named limits of request handling.
inline constexpr int32_t kFetchWaitMaxMs = 5 * 60 * 1000;  // a longer max_wait_ms is capped
inline constexpr size_t kDelayedFetchesMax = 10000;        // more wait no longer: answered now

struct BrokerCounters {
  uint64_t requests = 0;
  uint64_t bad_requests = 0;  // malformed, unknown api or version: connection closed
  uint64_t produced_batches = 0;
  uint64_t produce_errors = 0;
  uint64_t fetches = 0;
  uint64_t delayed_fetches = 0;
  uint64_t follower_fetches = 0;
};

class KafkaApis {
 public:
  using Reply = std::function<void(Result<std::optional<Bytes>>)>;

  KafkaApis(Env& env, const BrokerConfig& config, MetadataAuthority& controller,
            ReplicaManager& replicas, GroupManager& groups);
  ~KafkaApis();

  // `client_host` is the peer's address (DescribeGroups shows it for each member).
  void handle(ByteView frame, std::string_view client_host, Reply reply);
  // Answers every waiting fetch now (shutdown).
  void complete_delayed_fetches();
  // Whether this broker serves `version` of `api` (the ApiVersions response lists exactly these).
  static bool serves(kafka::ApiKey api, int16_t version);
  static kafka::ApiVersionsResponse api_versions(kafka::ErrorCode error);
  const BrokerCounters& counters() const { return counters_; }

  // Handlers (public so that the dispatch template can find them; each answers through `done`).
  void on(const kafka::RequestHeader& h, kafka::ApiVersionsRequest req,
          std::function<void(kafka::ApiVersionsResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::MetadataRequest req,
          std::function<void(kafka::MetadataResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::CreateTopicsRequest req,
          std::function<void(kafka::CreateTopicsResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::DeleteTopicsRequest req,
          std::function<void(kafka::DeleteTopicsResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::DescribeConfigsRequest req,
          std::function<void(kafka::DescribeConfigsResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::InitProducerIdRequest req,
          std::function<void(kafka::InitProducerIdResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::ProduceRequest req,
          std::function<void(kafka::ProduceResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::ListOffsetsRequest req,
          std::function<void(kafka::ListOffsetsResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::FetchRequest req,
          std::function<void(kafka::FetchResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::OffsetForLeaderEpochRequest req,
          std::function<void(kafka::OffsetForLeaderEpochResponse)> done);
  // Consumer groups (kafka_apis_group.cc).
  void on(const kafka::RequestHeader& h, kafka::FindCoordinatorRequest req,
          std::function<void(kafka::FindCoordinatorResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::JoinGroupRequest req,
          std::function<void(kafka::JoinGroupResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::SyncGroupRequest req,
          std::function<void(kafka::SyncGroupResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::HeartbeatRequest req,
          std::function<void(kafka::HeartbeatResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::LeaveGroupRequest req,
          std::function<void(kafka::LeaveGroupResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::OffsetCommitRequest req,
          std::function<void(kafka::OffsetCommitResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::OffsetFetchRequest req,
          std::function<void(kafka::OffsetFetchResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::DescribeGroupsRequest req,
          std::function<void(kafka::DescribeGroupsResponse)> done);
  void on(const kafka::RequestHeader& h, kafka::ListGroupsRequest req,
          std::function<void(kafka::ListGroupsResponse)> done);

 private:
  struct DelayedFetch;
  void metadata_response(const kafka::RequestHeader& h, const kafka::MetadataRequest& req,
                         std::function<void(kafka::MetadataResponse)> done);
  void read_fetch(std::shared_ptr<DelayedFetch> fetch);
  void on_new_data(Partition& partition, size_t bytes, DataEvent event);
  void finish_fetch(const std::shared_ptr<DelayedFetch>& fetch);

  Env& env_;
  const BrokerConfig& config_;
  MetadataAuthority& controller_;
  ReplicaManager& replicas_;
  GroupManager& groups_;
  // The peer of the request being dispatched; handlers read it before they return.
  std::string client_host_;
  BrokerCounters counters_;
  std::list<std::shared_ptr<DelayedFetch>> delayed_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::broker
