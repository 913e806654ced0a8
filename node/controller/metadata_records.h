// The KRaft metadata log's records, as Kafka 3.7 defines them
// (metadata/src/main/resources/common/metadata/*.json), and their encoding in the metadata log.
//
// Each record is a plain struct with a `fields` table for the codec engine (node/kafka/protocol.h),
// describing every version Kafka 3.7 knows; all of them are flexible from version 0 (compact
// strings and arrays, a tagged-field section at the end of every struct).
//
// Why not kafka::encode/decode: the engine's Message concept wants an `api_key` of type
// kafka::ApiKey (the wire APIs), and a record type is a different number space (RegisterBroker is
// 0 like Produce). So records satisfy their own concept, `Record` (a `record_type` instead of an
// `api_key`), and encode_body/decode_body drive the engine's struct walkers
// (kafka::detail::write_struct / read_struct) with the same contracts as kafka::encode/decode:
// versions outside 0..max_version are Errc::out_of_range, hostile bytes are Errc::corrupt with a
// path ("PartitionRecord v2: isr: ..."), never an assertion.
//
// Frame (Kafka's AbstractApiMessageSerde): unsigned varint frame version (always 1), unsigned
// varint record type (the schema's apiKey), unsigned varint record version, then the body. The
// frame version is Kafka's, so a frame written here reads in Kafka's tools and vice versa.
//
// Versions written by default (the newest in 3.7): RegisterBroker 3, BrokerRegistrationChange 2,
// Partition 2, PartitionChange 2 (KIP-966 ELR fields), every other record 0. Decoding accepts
// every version 0..max_version.
//
// Not kept by the image yet (decoded and re-encoded, but ControllerImage ignores them): log
// directories (KIP-858: LogDirs, Directories), IsMigratingZkBroker, broker features.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"
#include "node/kafka/protocol.h"

namespace gregor::metadata {

using kafka::field;
using kafka::nullable;
using kafka::tagged;
using kafka::Uuid;

// Kafka's metadata record types (the schemas' apiKey).
enum class RecordType : int16_t {
  RegisterBroker = 0,
  UnregisterBroker = 1,
  Topic = 2,
  Partition = 3,
  Config = 4,
  PartitionChange = 5,
  FenceBroker = 7,
  UnfenceBroker = 8,
  RemoveTopic = 9,
  FeatureLevel = 12,
  ProducerIds = 15,
  BrokerRegistrationChange = 17,
  NoOp = 20,
};

// Kafka's frame version for metadata records (AbstractApiMessageSerde.DEFAULT_FRAME_VERSION).
inline constexpr uint64_t kRecordFrameVersion = 1;

// Kafka's ConfigResource.Type values used in ConfigRecord.resource_type.
inline constexpr int8_t kConfigResourceTopic = 2;
inline constexpr int8_t kConfigResourceBroker = 4;
inline constexpr int8_t kConfigResourceBrokerLogger = 8;
inline constexpr int8_t kConfigResourceClientMetrics = 16;  // KIP-714

// PartitionChangeRecord.leader: the leader did not change (Kafka's NO_LEADER_CHANGE).
inline constexpr int32_t kNoLeaderChange = -2;
inline constexpr int32_t kNoLeader = -1;

struct BrokerEndpoint {
  std::string name;  // the listener name, e.g. "PLAINTEXT"
  std::string host;
  uint16_t port = 0;
  int16_t security_protocol = 0;  // Kafka's SecurityProtocol id (0 = PLAINTEXT)
  static constexpr auto fields = std::tuple{
      field("name", &BrokerEndpoint::name, "0+"),
      field("host", &BrokerEndpoint::host, "0+"),
      field("port", &BrokerEndpoint::port, "0+"),
      field("security_protocol", &BrokerEndpoint::security_protocol, "0+"),
  };
  bool operator==(const BrokerEndpoint&) const = default;
};

struct BrokerFeature {
  std::string name;
  int16_t min_supported_version = 0;
  int16_t max_supported_version = 0;
  static constexpr auto fields = std::tuple{
      field("name", &BrokerFeature::name, "0+"),
      field("min_supported_version", &BrokerFeature::min_supported_version, "0+"),
      field("max_supported_version", &BrokerFeature::max_supported_version, "0+"),
  };
  bool operator==(const BrokerFeature&) const = default;
};

struct RegisterBrokerRecord {
  int32_t broker_id = 0;
  bool is_migrating_zk_broker = false;
  Uuid incarnation_id;
  int64_t broker_epoch = 0;
  std::vector<BrokerEndpoint> endpoints;
  std::vector<BrokerFeature> features;
  std::optional<std::string> rack;
  bool fenced = true;
  bool in_controlled_shutdown = false;
  std::vector<Uuid> log_dirs;

  static constexpr std::string_view record_name = "RegisterBrokerRecord";
  static constexpr RecordType record_type = RecordType::RegisterBroker;
  static constexpr int16_t max_version = 3;
  static constexpr int16_t write_version = 3;
  static constexpr auto fields = std::tuple{
      field("broker_id", &RegisterBrokerRecord::broker_id, "0+"),
      field("is_migrating_zk_broker", &RegisterBrokerRecord::is_migrating_zk_broker, "2+"),
      field("incarnation_id", &RegisterBrokerRecord::incarnation_id, "0+"),
      field("broker_epoch", &RegisterBrokerRecord::broker_epoch, "0+"),
      field("endpoints", &RegisterBrokerRecord::endpoints, "0+"),
      field("features", &RegisterBrokerRecord::features, "0+"),
      field("rack", &RegisterBrokerRecord::rack, "0+", nullable("0+")),
      field("fenced", &RegisterBrokerRecord::fenced, "0+"),
      field("in_controlled_shutdown", &RegisterBrokerRecord::in_controlled_shutdown, "1+"),
      field("log_dirs", &RegisterBrokerRecord::log_dirs, "3+", tagged(0)),
  };
  bool operator==(const RegisterBrokerRecord&) const = default;
};

struct UnregisterBrokerRecord {
  int32_t broker_id = 0;
  int64_t broker_epoch = 0;
  static constexpr std::string_view record_name = "UnregisterBrokerRecord";
  static constexpr RecordType record_type = RecordType::UnregisterBroker;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{
      field("broker_id", &UnregisterBrokerRecord::broker_id, "0+"),
      field("broker_epoch", &UnregisterBrokerRecord::broker_epoch, "0+"),
  };
  bool operator==(const UnregisterBrokerRecord&) const = default;
};

struct FenceBrokerRecord {
  int32_t id = 0;
  int64_t epoch = 0;
  static constexpr std::string_view record_name = "FenceBrokerRecord";
  static constexpr RecordType record_type = RecordType::FenceBroker;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{
      field("id", &FenceBrokerRecord::id, "0+"),
      field("epoch", &FenceBrokerRecord::epoch, "0+"),
  };
  bool operator==(const FenceBrokerRecord&) const = default;
};

struct UnfenceBrokerRecord {
  int32_t id = 0;
  int64_t epoch = 0;
  static constexpr std::string_view record_name = "UnfenceBrokerRecord";
  static constexpr RecordType record_type = RecordType::UnfenceBroker;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{
      field("id", &UnfenceBrokerRecord::id, "0+"),
      field("epoch", &UnfenceBrokerRecord::epoch, "0+"),
  };
  bool operator==(const UnfenceBrokerRecord&) const = default;
};

struct BrokerRegistrationChangeRecord {
  int32_t broker_id = 0;
  int64_t broker_epoch = 0;
  int8_t fenced = 0;                  // -1 unfenced, 0 no change, 1 fenced
  int8_t in_controlled_shutdown = 0;  // 0 no change, 1 in controlled shutdown
  std::vector<Uuid> log_dirs;
  static constexpr std::string_view record_name = "BrokerRegistrationChangeRecord";
  static constexpr RecordType record_type = RecordType::BrokerRegistrationChange;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t write_version = 2;
  static constexpr auto fields = std::tuple{
      field("broker_id", &BrokerRegistrationChangeRecord::broker_id, "0+"),
      field("broker_epoch", &BrokerRegistrationChangeRecord::broker_epoch, "0+"),
      field("fenced", &BrokerRegistrationChangeRecord::fenced, "0+", tagged(0)),
      field("in_controlled_shutdown", &BrokerRegistrationChangeRecord::in_controlled_shutdown, "1+",
            tagged(1)),
      field("log_dirs", &BrokerRegistrationChangeRecord::log_dirs, "2+", tagged(2)),
  };
  bool operator==(const BrokerRegistrationChangeRecord&) const = default;
};

struct TopicRecord {
  std::string name;
  Uuid topic_id;
  static constexpr std::string_view record_name = "TopicRecord";
  static constexpr RecordType record_type = RecordType::Topic;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{
      field("name", &TopicRecord::name, "0+"),
      field("topic_id", &TopicRecord::topic_id, "0+"),
  };
  bool operator==(const TopicRecord&) const = default;
};

struct PartitionRecord {
  int32_t partition_id = -1;
  Uuid topic_id;
  std::vector<int32_t> replicas;
  std::vector<int32_t> isr;
  std::vector<int32_t> removing_replicas;
  std::vector<int32_t> adding_replicas;
  int32_t leader = -1;
  int8_t leader_recovery_state = 0;  // 1: recovering from an unclean election
  int32_t leader_epoch = -1;
  int32_t partition_epoch = -1;
  std::vector<Uuid> directories;
  std::optional<std::vector<int32_t>> eligible_leader_replicas;  // KIP-966
  std::optional<std::vector<int32_t>> last_known_elr;
  static constexpr std::string_view record_name = "PartitionRecord";
  static constexpr RecordType record_type = RecordType::Partition;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t write_version = 2;
  static constexpr auto fields = std::tuple{
      field("partition_id", &PartitionRecord::partition_id, "0+"),
      field("topic_id", &PartitionRecord::topic_id, "0+"),
      field("replicas", &PartitionRecord::replicas, "0+"),
      field("isr", &PartitionRecord::isr, "0+"),
      field("removing_replicas", &PartitionRecord::removing_replicas, "0+"),
      field("adding_replicas", &PartitionRecord::adding_replicas, "0+"),
      field("leader", &PartitionRecord::leader, "0+"),
      field("leader_recovery_state", &PartitionRecord::leader_recovery_state, "0+", tagged(0)),
      field("leader_epoch", &PartitionRecord::leader_epoch, "0+"),
      field("partition_epoch", &PartitionRecord::partition_epoch, "0+"),
      field("directories", &PartitionRecord::directories, "1+"),
      field("eligible_leader_replicas", &PartitionRecord::eligible_leader_replicas, "2+",
            nullable("2+"), tagged(1)),
      field("last_known_elr", &PartitionRecord::last_known_elr, "2+", nullable("2+"), tagged(2)),
  };
  bool operator==(const PartitionRecord&) const = default;
};

// Every optional field is "no change" when null (Kafka's semantics). Applying one bumps the
// partition epoch, and the leader epoch when `leader` is not kNoLeaderChange.
struct PartitionChangeRecord {
  int32_t partition_id = -1;
  Uuid topic_id;
  std::optional<std::vector<int32_t>> isr;
  int32_t leader = kNoLeaderChange;
  std::optional<std::vector<int32_t>> replicas;
  std::optional<std::vector<int32_t>> removing_replicas;
  std::optional<std::vector<int32_t>> adding_replicas;
  int8_t leader_recovery_state = -1;  // -1: no change
  std::optional<std::vector<int32_t>> eligible_leader_replicas;
  std::optional<std::vector<int32_t>> last_known_elr;
  std::optional<std::vector<Uuid>> directories;
  static constexpr std::string_view record_name = "PartitionChangeRecord";
  static constexpr RecordType record_type = RecordType::PartitionChange;
  static constexpr int16_t max_version = 2;
  static constexpr int16_t write_version = 2;
  // Tagged fields in tag order (the engine requires it; the schema lists Directories, tag 8,
  // before the ELR fields, tags 6 and 7).
  static constexpr auto fields = std::tuple{
      field("partition_id", &PartitionChangeRecord::partition_id, "0+"),
      field("topic_id", &PartitionChangeRecord::topic_id, "0+"),
      field("isr", &PartitionChangeRecord::isr, "0+", nullable("0+"), tagged(0)),
      field("leader", &PartitionChangeRecord::leader, "0+", tagged(1)),
      field("replicas", &PartitionChangeRecord::replicas, "0+", nullable("0+"), tagged(2)),
      field("removing_replicas", &PartitionChangeRecord::removing_replicas, "0+", nullable("0+"),
            tagged(3)),
      field("adding_replicas", &PartitionChangeRecord::adding_replicas, "0+", nullable("0+"),
            tagged(4)),
      field("leader_recovery_state", &PartitionChangeRecord::leader_recovery_state, "0+",
            tagged(5)),
      field("eligible_leader_replicas", &PartitionChangeRecord::eligible_leader_replicas, "2+",
            nullable("2+"), tagged(6)),
      field("last_known_elr", &PartitionChangeRecord::last_known_elr, "2+", nullable("2+"),
            tagged(7)),
      field("directories", &PartitionChangeRecord::directories, "1+", nullable("1+"), tagged(8)),
  };
  bool operator==(const PartitionChangeRecord&) const = default;
};

struct RemoveTopicRecord {
  Uuid topic_id;
  static constexpr std::string_view record_name = "RemoveTopicRecord";
  static constexpr RecordType record_type = RecordType::RemoveTopic;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{
      field("topic_id", &RemoveTopicRecord::topic_id, "0+"),
  };
  bool operator==(const RemoveTopicRecord&) const = default;
};

struct ConfigRecord {
  int8_t resource_type = 0;
  std::string resource_name;
  std::string name;
  std::optional<std::string> value;  // null: the key is deleted
  static constexpr std::string_view record_name = "ConfigRecord";
  static constexpr RecordType record_type = RecordType::Config;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{
      field("resource_type", &ConfigRecord::resource_type, "0+"),
      field("resource_name", &ConfigRecord::resource_name, "0+"),
      field("name", &ConfigRecord::name, "0+"),
      field("value", &ConfigRecord::value, "0+", nullable("0+")),
  };
  bool operator==(const ConfigRecord&) const = default;
};

struct ProducerIdsRecord {
  int32_t broker_id = 0;
  int64_t broker_epoch = -1;
  int64_t next_producer_id = 0;  // the first id of the next block to hand out
  static constexpr std::string_view record_name = "ProducerIdsRecord";
  static constexpr RecordType record_type = RecordType::ProducerIds;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{
      field("broker_id", &ProducerIdsRecord::broker_id, "0+"),
      field("broker_epoch", &ProducerIdsRecord::broker_epoch, "0+"),
      field("next_producer_id", &ProducerIdsRecord::next_producer_id, "0+"),
  };
  bool operator==(const ProducerIdsRecord&) const = default;
};

struct FeatureLevelRecord {
  std::string name;
  int16_t feature_level = 0;  // 0: the feature is not enabled (removed from the image)
  static constexpr std::string_view record_name = "FeatureLevelRecord";
  static constexpr RecordType record_type = RecordType::FeatureLevel;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{
      field("name", &FeatureLevelRecord::name, "0+"),
      field("feature_level", &FeatureLevelRecord::feature_level, "0+"),
  };
  bool operator==(const FeatureLevelRecord&) const = default;
};

// Written by Kafka's active controller now and then so that the log (and the high watermark)
// advances while nothing changes (KIP-835); replaying it changes nothing.
struct NoOpRecord {
  static constexpr std::string_view record_name = "NoOpRecord";
  static constexpr RecordType record_type = RecordType::NoOp;
  static constexpr int16_t max_version = 0;
  static constexpr int16_t write_version = 0;
  static constexpr auto fields = std::tuple{};
  bool operator==(const NoOpRecord&) const = default;
};

// A metadata record struct (the engine's Struct plus what the frame and the messages need).
template <typename T>
concept Record = kafka::Struct<T> && requires {
  { T::record_name } -> std::convertible_to<std::string_view>;
  { T::record_type } -> std::convertible_to<RecordType>;
  { T::max_version } -> std::convertible_to<int16_t>;
  { T::write_version } -> std::convertible_to<int16_t>;
};

using MetadataRecord =
    std::variant<RegisterBrokerRecord, UnregisterBrokerRecord, TopicRecord, PartitionRecord,
                 ConfigRecord, PartitionChangeRecord, FenceBrokerRecord, UnfenceBrokerRecord,
                 RemoveTopicRecord, FeatureLevelRecord, ProducerIdsRecord,
                 BrokerRegistrationChangeRecord, NoOpRecord>;

// The record's schema name ("PartitionChangeRecord"), for error messages.
std::string_view record_name(const MetadataRecord& record);

// The body alone (no frame). Defined for every alternative of MetadataRecord.
template <Record T>
Status encode_body(const T& record, int16_t version, Writer& w);
template <Record T>
Result<T> decode_body(Reader& r, int16_t version);  // must consume all of r

// One framed record at `version` (default: the record's write_version). Errc::out_of_range for
// an unknown version, Errc::invalid_argument for a value the schema cannot carry (a string over
// 32767 bytes, a null where the version has none).
Result<Bytes> encode_record(const MetadataRecord& record);
Result<Bytes> encode_record(const MetadataRecord& record, int16_t version);

struct DecodedRecord {
  MetadataRecord record;
  int16_t version = 0;
};
// Exactly one framed record. Errc::corrupt for a bad frame version, an unknown record type or
// version, truncated or damaged bodies and bytes after the body.
Result<DecodedRecord> decode_record(ByteView bytes);

// Named limit: records in one decoded record sequence (a snapshot).
inline constexpr size_t kRecordsPerSequenceMax = 10'000'000;

// A sequence of framed records, each preceded by its length as an unsigned varint: Gregor's
// container for a snapshot's records (the Raft snapshot payload) until metadata snapshots move to
// Kafka's record-batch files.
Result<Bytes> encode_records(std::span<const MetadataRecord> records);
Result<std::vector<MetadataRecord>> decode_records(ByteView bytes);

}  // namespace gregor::metadata
