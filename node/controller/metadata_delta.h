// The KRaft metadata state machine's data: ControllerImage (Kafka's MetadataImage, the cluster
// metadata at one offset of the metadata log) and MetadataDelta (Kafka's MetadataDelta: records
// replayed on top of an image, then applied to give the next image); snapshots of an image as a
// record sequence; the broker's serving view (broker::MetadataImage) of an image.
//
// Why a separate image and not broker::MetadataImage: the broker's image is the serving view of
// a one-broker cluster (topics by name, one host:port per broker, no broker epochs, fencing,
// incarnations or ELR) and is also the JSON of today's MetadataStore; the controller's image
// must hold everything the records carry so that image -> snapshot -> image is exact.
// to_broker_image() derives the broker's view, so the broker can serve from either source.
//
// Validation: replay() checks each record against the image as changed so far, as Kafka's
// controller relies on when it replays its log: an unknown topic or partition, an unknown broker
// or a stale broker epoch, a broker epoch going back, a partition epoch going back, a leader
// outside the ISR, an ISR outside the replicas, a producer-id block going back... are
// Errc::invalid_argument naming the record ("PartitionChangeRecord topic 0b1e...-.. partition 3:
// unknown topic id"). A rejected record changes nothing: the delta stays as it was.
//
// Not kept: log directories (KIP-858), broker features and IsMigratingZkBroker; records carrying
// them replay, but the values are dropped.
#pragma once

#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "base/status.h"
#include "node/broker/metadata_image.h"
#include "node/controller/metadata_records.h"

namespace gregor::metadata {

// Named limits checked on replay.
inline constexpr size_t kTopicNameBytesMax = 249;  // Kafka's topic name limit
inline constexpr int32_t kPartitionsPerTopicMax = 100'000;

struct UuidLess {
  bool operator()(const Uuid& a, const Uuid& b) const {
    return a.high != b.high ? a.high < b.high : a.low < b.low;
  }
};

// "0123456789abcdef-0123456789abcdef": both halves in hex, for messages.
std::string to_string(const Uuid& id);

struct BrokerRegistration {
  int32_t id = 0;
  Uuid incarnation_id;
  int64_t epoch = 0;  // the broker epoch the controller assigned at registration
  std::vector<BrokerEndpoint> endpoints;
  std::optional<std::string> rack;
  bool fenced = true;
  bool in_controlled_shutdown = false;
  bool operator==(const BrokerRegistration&) const = default;
};

// Invariants (checked on replay): replicas non-empty, distinct, >= 0; isr, elr, last_known_elr,
// removing and adding replicas within replicas and distinct; elr disjoint from isr; leader is
// kNoLeader or in the isr; epochs >= 0; leader_recovery_state 0 or 1.
struct PartitionRegistration {
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> removing_replicas;
  std::vector<int32_t> adding_replicas;
  int32_t leader = kNoLeader;
  int8_t leader_recovery_state = 0;
  int32_t leader_epoch = 0;
  int32_t partition_epoch = 0;
  std::vector<int32_t> elr;  // KIP-966 eligible leader replicas
  std::vector<int32_t> last_known_elr;
  bool operator==(const PartitionRegistration&) const = default;
};

struct TopicRegistration {
  std::string name;
  Uuid id;
  std::map<int32_t, PartitionRegistration> partitions;  // always 0..n-1
  bool operator==(const TopicRegistration&) const = default;
};

struct ConfigResource {
  int8_t type = 0;  // kConfigResourceTopic, kConfigResourceBroker, ...
  std::string name;
  auto operator<=>(const ConfigResource&) const = default;
  bool operator==(const ConfigResource&) const = default;
};

struct ControllerImage {
  std::map<std::string, int16_t> features;  // finalized feature levels (level 0 is absent)
  std::map<int32_t, BrokerRegistration> brokers;
  std::map<Uuid, TopicRegistration, UuidLess> topics;
  std::map<std::string, Uuid> topic_ids;  // name -> id, always the inverse of topics
  std::map<ConfigResource, std::map<std::string, std::string>> configs;  // no empty maps
  int64_t next_producer_id = 0;  // first id of the next producer-id block
  bool operator==(const ControllerImage&) const = default;

  const TopicRegistration* topic(const Uuid& id) const;
  const TopicRegistration* topic(const std::string& name) const;
};

// Records replayed on top of a base image. Each replay() validates and applies one record to the
// delta's copy of the image (a whole copy: the image is small today; Kafka shares unchanged
// parts between images, a later optimisation that keeps this API).
class MetadataDelta {
 public:
  explicit MetadataDelta(ControllerImage base) : image_(std::move(base)) {}

  // Errc::invalid_argument naming the record when it does not fit; the delta is then unchanged.
  Status replay(const MetadataRecord& record);
  size_t replayed() const { return replayed_; }

  // The next image: the base with every replayed record applied.
  const ControllerImage& apply() const& { return image_; }
  ControllerImage apply() && { return std::move(image_); }

  // What the replayed records touched, for a broker to act on (Kafka's TopicsDelta and
  // ClusterDelta): topics created or changed and still present, by id; topics of the base image
  // that were removed (a topic created and removed within the delta appears in neither; an id
  // removed and then created again, in both); brokers registered, changed or unregistered.
  const std::set<Uuid, UuidLess>& changed_topics() const { return changed_topics_; }
  const std::map<Uuid, std::string, UuidLess>& removed_topics() const { return removed_topics_; }
  const std::set<int32_t>& changed_brokers() const { return changed_brokers_; }

 private:
  void track(const MetadataRecord& record, const std::optional<std::string>& removed_name);

  ControllerImage image_;
  size_t replayed_ = 0;
  std::set<Uuid, UuidLess> created_topics_;
  std::set<Uuid, UuidLess> changed_topics_;
  std::map<Uuid, std::string, UuidLess> removed_topics_;
  std::set<int32_t> changed_brokers_;
};

// Replays `records` in order on top of `base`; the first error names the record's index.
Result<ControllerImage> apply_records(const ControllerImage& base,
                                      std::span<const MetadataRecord> records);

// The records that rebuild `image` from an empty image (Kafka's snapshot order: features with
// metadata.version first, brokers, topics each followed by its partitions, configs, producer
// ids). apply_records({}, snapshot_records(image)) == image.
std::vector<MetadataRecord> snapshot_records(const ControllerImage& image);
// The snapshot as bytes (encode_records of snapshot_records), e.g. a Raft snapshot payload, and
// back: Errc::corrupt for damaged bytes, Errc::invalid_argument for records that do not fit.
Result<Bytes> encode_snapshot(const ControllerImage& image);
Result<ControllerImage> decode_snapshot(ByteView bytes);

// The broker's serving view: unfenced brokers with an endpoint named `listener_name`, topics by
// name with partitions in index order and their topic-level configs, the producer-id block end.
struct BrokerViewOptions {
  std::string cluster_id;
  int32_t controller_id = -1;
  std::string listener_name = "PLAINTEXT";
};
broker::MetadataImage to_broker_image(const ControllerImage& image,
                                      const BrokerViewOptions& options);

}  // namespace gregor::metadata
