// ReplicaManager: the partitions this broker hosts. It opens (or creates) their logs as the
// metadata image says, closes and deletes them when their topic goes, and closes everything on
// shutdown. Partition directories are "<log dir>/<topic>-<partition>" as in Kafka.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>

#include "base/env.h"
#include "node/broker/broker_config.h"
#include "node/broker/metadata_image.h"
#include "node/broker/partition.h"

namespace gregor::broker {

class ReplicaManager {
 public:
  ReplicaManager(Env& env, const BrokerConfig& config);
  ~ReplicaManager();

  // Opens every partition of `topic` hosted here (creating empty logs for new ones) with the
  // topic's effective config. Errc::invalid_argument when the stored overrides no longer parse.
  // lead: a partition the image says this broker leads becomes leader as it opens (the local
  // controller's case); false leaves every partition opened here not leading, for the caller to
  // decide (a quorum member leads only once the controller has unfenced it).
  void open_topic(const TopicImage& topic, std::function<void(const Status&)> done,
                  bool lead = true);
  // Closes the topic's partitions and deletes their directories.
  void delete_topic(const std::string& name, std::function<void(const Status&)> done);
  // Deletes partition directories of the log dir that no topic of `image` owns (a crash in the
  // middle of a topic deletion leaves some). Other unknown entries are left alone, with a warning.
  void remove_orphans(const MetadataImage& image, std::function<void(const Status&)> done);
  // Flushes and closes every log (clean shutdown). Stops maintenance.
  void close_all(std::function<void(const Status&)> done);
  // Starts the periodic passes: retention (delete policy) every log.retention.check.interval.ms,
  // compaction (compact policy) every log.cleaner.backoff.ms. One pass of each kind at a time;
  // a pass visits the partitions one after another.
  void start_maintenance();

  Partition* partition(const std::string& topic, int32_t index);
  // Runs after any partition's log end or high watermark advanced (delayed fetches wait on it).
  void set_on_new_data(std::function<void(Partition&, size_t bytes, DataEvent)> f) {
    on_new_data_ = std::move(f);
  }
  const std::map<std::pair<std::string, int32_t>, std::unique_ptr<Partition>>& partitions() const {
    return partitions_;
  }

 private:
  void open_partition(const std::string& topic, const PartitionImage& p, const TopicConfig& config,
                      bool lead, std::function<void(const Status&)> done);
  void remove_dir(const std::string& path, std::function<void(const Status&)> done);
  enum class Pass { retention, compaction };
  void on_log_dir_failure(const Status& why);
  void schedule_pass(Pass pass);
  void run_pass(Pass pass);

  Env& env_;
  const BrokerConfig& config_;
  std::map<std::pair<std::string, int32_t>, std::unique_ptr<Partition>> partitions_;
  std::function<void(Partition&, size_t bytes, DataEvent)> on_new_data_;
  bool halting_ = false;  // a log dir failure asked the process to halt
  bool maintaining_ = false;
  TimerId retention_timer_ = kNoTimer;
  TimerId cleaner_timer_ = kNoTimer;
  // Partitions a maintenance pass is waiting on, with the function that moves the pass on.
  std::map<std::pair<std::string, int32_t>, std::function<void()>> in_pass_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// The effective config of a topic: the broker's log defaults with the topic's overrides.
Result<TopicConfig> topic_config_of(const BrokerConfig& config, const TopicImage& topic);

}  // namespace gregor::broker
