#include "node/broker/local_controller.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/guarded.h"
#include "base/steps.h"

namespace gregor::broker {

using kafka::ErrorCode;

LocalController::LocalController(Env& env, const BrokerConfig& config, ReplicaManager& replicas)
    : env_(env), config_(config), replicas_(replicas), store_(env, config.log_dir) {}

LocalController::~LocalController() {
  *alive_ = false;
}

void LocalController::save(std::function<void(const Status&)> done) {
  store_.save(image_, guarded(alive_, std::move(done)));
}

void LocalController::start(std::function<void(const Status&)> done) {
  run_steps(
      {
          [this](Next next) {
            env_.disk.mkdir(config_.log_dir, [next](const Status& s) {
              next(s.code() == Errc::already_exists ? Status::Ok() : s);
            });
          },
          // The log dir's own entry must be durable before anything in it is.
          [this](Next next) { env_.disk.fsync_dir(disk::parent_dir(config_.log_dir), next); },
          [this](Next next) {
            store_.load(guarded(alive_, [this, next](Result<std::optional<MetadataImage>> r) {
              if (!r.ok()) return next(r.status());
              if (*r) {
                image_ = std::move(**r);
              } else {
                // A new cluster: its id is random, as Kafka's (from the seeded stream in
                // simulation).
                image_.cluster_id = fmt::format("{:016x}", env_.random.next_u64());
              }
              image_.controller_id = config_.node_id;
              // The rest of the last reserved block is skipped, as Kafka does after a restart.
              next_producer_id_ = image_.next_producer_id;
              save(next);
            }));
          },
          [this](Next next) { replicas_.remove_orphans(image_, next); },
          [this](Next next) {
            std::vector<Step> opens;
            for (auto& [name, topic] : image_.topics) {
              opens.push_back([this, &topic](Next next) { replicas_.open_topic(topic, next); });
            }
            run_steps(std::move(opens), next);
          },
      },
      std::move(done));
}

void LocalController::register_broker(const std::string& host, int32_t port) {
  image_.brokers[config_.node_id] = BrokerImage{config_.node_id, host, port};
}

TopicResult LocalController::check(const TopicRequest& r) const {
  if (auto why = invalid_topic_name(r.name)) {
    return {ErrorCode::invalid_topic_exception, fmt::format("topic '{}': {}", r.name, *why)};
  }
  if (image_.topic(r.name) || in_progress_.contains(r.name)) {
    return {ErrorCode::topic_already_exists, fmt::format("topic '{}' already exists", r.name)};
  }
  if (r.num_partitions == 0 || r.num_partitions < -1 || r.num_partitions > kPartitionsPerTopicMax) {
    return {ErrorCode::invalid_partitions,
            fmt::format("{} partitions: must be 1..{}", r.num_partitions, kPartitionsPerTopicMax)};
  }
  if (r.replication_factor != -1 && r.replication_factor != 1) {
    return {ErrorCode::invalid_replication_factor,
            fmt::format("replication factor {} is larger than the 1 available broker",
                        r.replication_factor)};
  }
  auto config = apply_topic_configs(config_, r.configs);
  if (!config.ok()) return {ErrorCode::invalid_config, config.status().message()};
  return {};
}

void LocalController::create_topic(TopicRequest request, std::function<void(TopicResult)> done) {
  TopicResult checked = check(request);
  if (checked.error != ErrorCode::none || request.validate_only) return done(checked);
  TopicImage topic;
  topic.name = request.name;
  topic.id = kafka::Uuid{env_.random.next_u64(), env_.random.next_u64()};
  for (auto& [key, value] : request.configs) topic.configs[key] = value.value_or("");
  int32_t count = request.num_partitions == -1 ? config_.num_partitions : request.num_partitions;
  for (int32_t i = 0; i < count; ++i) {
    PartitionImage p;
    p.partition = i;
    p.leader = config_.node_id;
    p.replicas = {config_.node_id};
    p.isr = {config_.node_id};
    topic.partitions.push_back(p);
  }
  in_progress_.insert(topic.name);
  // The partitions exist on disk before the image names them, so a crash in between leaves only
  // orphan directories (removed at the next start), never a topic without its logs.
  replicas_.open_topic(topic, guarded(alive_, [this, topic, done](const Status& s) {
                         if (!s.ok()) {
                           in_progress_.erase(topic.name);
                           spdlog::error("creating topic {}: {}", topic.name, s);
                           return done({ErrorCode::kafka_storage_error, s.message()});
                         }
                         image_.topics[topic.name] = topic;
                         save([this, name = topic.name, done](const Status& s) {
                           in_progress_.erase(name);
                           if (!s.ok()) return done({ErrorCode::kafka_storage_error, s.message()});
                           spdlog::info("created topic {}", name);
                           env_.tracer.event("broker.topic_created",
                                             TraceFields().add("topic", name));
                           done({});
                         });
                       }));
}

void LocalController::delete_topic(const std::string& name, std::function<void(TopicResult)> done) {
  if (!config_.delete_topic_enable) {
    return done({ErrorCode::topic_deletion_disabled, "delete.topic.enable is false"});
  }
  if (!image_.topic(name) || in_progress_.contains(name)) {
    return done({ErrorCode::unknown_topic_or_partition, fmt::format("no topic '{}'", name)});
  }
  // Out of the image (durably) first: then a crash leaves orphan directories, removed at start.
  image_.topics.erase(name);
  in_progress_.insert(name);
  save([this, name, done](const Status& s) {
    if (!s.ok()) {
      in_progress_.erase(name);
      return done({ErrorCode::kafka_storage_error, s.message()});
    }
    replicas_.delete_topic(name, guarded(alive_, [this, name, done](const Status& s) {
                             in_progress_.erase(name);
                             if (!s.ok()) spdlog::error("deleting topic {}: {}", name, s);
                             env_.tracer.event("broker.topic_deleted",
                                               TraceFields().add("topic", name));
                             done({});  // gone from metadata; leftovers go at the next start
                           }));
  });
}

void LocalController::allocate_producer_id(std::function<void(Result<int64_t>)> done) {
  int64_t id = next_producer_id_++;
  if (id < image_.next_producer_id) return done(id);
  // Reserve the next block durably before handing out its first id.
  image_.next_producer_id = id + kProducerIdBlockSize;
  save([id, done](const Status& s) {
    if (!s.ok()) return done(s);
    done(id);
  });
}

}  // namespace gregor::broker
