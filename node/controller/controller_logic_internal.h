// Shared pieces of the controller's decisions (controller_logic*.cc): the batch of records a
// decision builds, and Kafka's PartitionChangeBuilder. Not part of the API.
#pragma once

#include <optional>
#include <vector>

#include "base/assert.h"
#include "node/controller/controller_logic.h"

namespace gregor::controller::internal {

// A refused request's answer.
inline ApiError refuse(ErrorCode code, std::string message) {
  return ApiError{.code = code, .message = std::move(message)};
}

// The records of one decision, each replayed as it is added, so that every later decision of the
// same operation sees the image as the earlier records leave it (a partition elects its leader
// knowing the broker fenced a record before), and so that the records are known to replay.
class Batch {
 public:
  explicit Batch(const ControllerImage& image) : delta_(image) {}

  const ControllerImage& image() const { return delta_.apply(); }
  void add(MetadataRecord record);
  std::vector<MetadataRecord> take() && { return std::move(records_); }

 private:
  metadata::MetadataDelta delta_;
  std::vector<MetadataRecord> records_;
};

// What a change wants of one partition (Kafka's PartitionChangeBuilder setters).
struct PartitionTarget {
  std::vector<int32_t> isr;
  int8_t leader_recovery_state = -1;  // -1: as it is
  // KIP-966: replicas whose broker shut down uncleanly; they leave the ELR.
  std::vector<int32_t> unclean_shutdown;
};

// Kafka's PartitionChangeBuilder.build (ONLINE election, or UNCLEAN when the topic allows it):
// the record that moves the partition to `target`, electing as the header of controller_logic.h
// says, or nullopt when nothing would change. `target.isr` must be a subset of the replicas.
std::optional<metadata::PartitionChangeRecord> build_partition_change(
    const ControllerImage& image, const ControllerConfig& config,
    const metadata::TopicRegistration& topic, int32_t partition_id, const PartitionTarget& target);

// Builds and adds the change of one partition; returns whether a record was added.
bool change_partition(Batch& batch, const ControllerConfig& config, const Uuid& topic_id,
                      int32_t partition_id, const PartitionTarget& target);

// Removes `broker_id` from every ISR it is in (and, with `unclean_shutdown`, from every ELR),
// each partition electing again. The broker must already be unacceptable as a leader in the
// batch's image (fenced or in controlled shutdown).
void remove_from_isrs(Batch& batch, const ControllerConfig& config, int32_t broker_id,
                      bool unclean_shutdown);

// Every leaderless partition tries to elect (after a broker was unfenced).
void elect_leaderless(Batch& batch, const ControllerConfig& config);

// FenceBrokerRecord for an unfenced broker, then its partitions' changes.
void fence_broker(Batch& batch, const ControllerConfig& config, int32_t broker_id);

bool contains(const std::vector<int32_t>& v, int32_t x);

}  // namespace gregor::controller::internal
