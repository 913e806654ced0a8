// MetadataAuthority: where a broker's cluster metadata comes from and where its metadata changes
// go. Two implementations:
//   - LocalController (local_controller.h): a single node that is its own controller, with the
//     image in one local file (no controller.quorum.voters);
//   - KRaftMetadata (kraft_metadata.h): the image follows the Raft metadata log; topic changes and
//     producer-id blocks are requests to the active controller of the quorum.
// The request path (KafkaApis) and the group coordinator only see this interface.
#pragma once

#include <functional>
#include <string>

#include "base/status.h"
#include "node/broker/broker_config.h"
#include "node/broker/metadata_image.h"
#include "node/broker/topic_config.h"
#include "node/kafka/error_code.h"

namespace gregor::broker {

class Partition;

struct TopicRequest {
  std::string name;
  int32_t num_partitions = -1;      // -1: num.partitions
  int16_t replication_factor = -1;  // -1: default.replication.factor
  ConfigOverrides configs;
  bool validate_only = false;
};

struct TopicResult {
  kafka::ErrorCode error = kafka::ErrorCode::none;
  std::string message;
};

class MetadataAuthority {
 public:
  virtual ~MetadataAuthority() = default;

  // Loads the metadata and opens the hosted partitions; done once the broker may serve.
  virtual void start(std::function<void(const Status&)> done) = 0;
  // Stops (a controlled shutdown first where there is a quorum to hand leadership to).
  virtual void shutdown(std::function<void(const Status&)> done) { done(Status::Ok()); }
  // After shutdown, once every log closed cleanly (flushed): a last durable word (KRaft: the
  // clean-shutdown file).
  virtual void logs_closed(std::function<void()> done) { done(); }
  // A follower fetched from `partition`, led here: the ISR may grow (replication only).
  virtual void on_follower_fetch(Partition& /*partition*/, int32_t /*replica*/) {}

  virtual const MetadataImage& image() const = 0;
  // Whether a topic of that name is being created or deleted right now.
  virtual bool in_progress(const std::string& topic) const = 0;
  // Records where clients reach this broker (once it listens: the port may be chosen at bind).
  virtual void register_broker(const std::string& host, int32_t port) = 0;

  virtual void create_topic(TopicRequest request, std::function<void(TopicResult)> done) = 0;
  virtual void delete_topic(const std::string& name, std::function<void(TopicResult)> done) = 0;
  // A fresh producer id (InitProducerId for an idempotent producer).
  virtual void allocate_producer_id(std::function<void(Result<int64_t>)> done) = 0;
};

}  // namespace gregor::broker
