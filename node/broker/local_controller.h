// LocalController: the metadata authority of a single-node cluster without a quorum (no
// controller.quorum.voters). It owns the MetadataImage, makes every change durable in the
// MetadataStore before anyone sees it, and tells the ReplicaManager to open or delete partitions.
// With a quorum, KRaftMetadata (kraft_metadata.h) offers the same operations.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "base/env.h"
#include "node/broker/broker_config.h"
#include "node/broker/metadata_authority.h"
#include "node/broker/metadata_store.h"
#include "node/broker/replica_manager.h"
#include "node/kafka/error_code.h"

namespace gregor::broker {

// Producer ids are reserved in blocks, persisted before any id of the block is handed out, so a
// restart never hands out an id twice (Kafka's ProducerIdManager does the same).
inline constexpr int64_t kProducerIdBlockSize = 1000;

class LocalController final : public MetadataAuthority {
 public:
  LocalController(Env& env, const BrokerConfig& config, ReplicaManager& replicas);
  ~LocalController();

  // Loads the image (or starts a new cluster), opens every hosted partition and removes orphaned
  // partition directories.
  void start(std::function<void(const Status&)> done) override;

  const MetadataImage& image() const override { return image_; }
  bool in_progress(const std::string& topic) const override { return in_progress_.contains(topic); }
  void register_broker(const std::string& host, int32_t port) override;

  void create_topic(TopicRequest request, std::function<void(TopicResult)> done) override;
  void delete_topic(const std::string& name, std::function<void(TopicResult)> done) override;
  void allocate_producer_id(std::function<void(Result<int64_t>)> done) override;

 private:
  TopicResult check(const TopicRequest& r) const;
  void save(std::function<void(const Status&)> done);

  Env& env_;
  const BrokerConfig& config_;
  ReplicaManager& replicas_;
  MetadataStore store_;
  MetadataImage image_;
  // The next producer id to hand out; image_.next_producer_id is the end of the block reserved
  // durably, so ids below it never repeat after a restart.
  int64_t next_producer_id_ = 0;
  std::set<std::string> in_progress_;  // topics being created or deleted
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::broker
