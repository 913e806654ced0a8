// The records of __consumer_offsets, byte for byte as Kafka writes them (GroupMetadataManager's
// schemas: OffsetCommitKey/Value, GroupMetadataKey/Value), so a dump of Gregor's offsets topic
// reads like Kafka's and Kafka's tools could read Gregor's.
//
// Every key and value starts with an int16 schema version; strings have an int16 length, bytes
// an int32 length (the classic, non-flexible encoding; the flexible v4 values are refused).
//   key v0/v1  offset commit:   group, topic, partition
//   key v2     group metadata:  group
//   OffsetCommitValue v0: offset, metadata, commit_timestamp
//                     v1: offset, metadata, commit_timestamp, expire_timestamp
//                     v2: offset, metadata, commit_timestamp
//                     v3: offset, leader_epoch, metadata, commit_timestamp   (Gregor writes v3)
//   GroupMetadataValue v0: protocol_type, generation, protocol?, leader?, members[
//                            member_id, client_id, client_host, session_timeout,
//                            subscription, assignment]
//                      v1: members gain rebalance_timeout (after client_host)
//                      v2: current_state_timestamp (after leader)
//                      v3: members gain group_instance_id? (after member_id) (Gregor writes v3)
// A null value is a tombstone: the offset, or the whole group, is gone (compaction removes it).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::broker {

// Named limit: members in one stored group (a decoded value with more is corrupt).
inline constexpr int32_t kStoredMembersMax = 100'000;

struct OffsetKey {
  std::string group;
  std::string topic;
  int32_t partition = 0;
  bool operator==(const OffsetKey&) const = default;
};

struct GroupKey {
  std::string group;
  bool operator==(const GroupKey&) const = default;
};

using GroupRecordKey = std::variant<OffsetKey, GroupKey>;

struct OffsetValue {
  int64_t offset = 0;
  int32_t leader_epoch = -1;
  std::string metadata;
  int64_t commit_timestamp = -1;
  int64_t expire_timestamp = -1;  // v1 only; -1 otherwise (KIP-211 dropped per-commit expiry)
  bool operator==(const OffsetValue&) const = default;
};

struct StoredMember {
  std::string member_id;
  std::optional<std::string> group_instance_id;
  std::string client_id;
  std::string client_host;
  int32_t rebalance_timeout_ms = 0;
  int32_t session_timeout_ms = 0;
  Bytes subscription;  // the member's metadata for the group's protocol
  Bytes assignment;
  bool operator==(const StoredMember&) const = default;
};

struct GroupValue {
  std::string protocol_type;
  int32_t generation = 0;
  std::optional<std::string> protocol;
  std::optional<std::string> leader;
  int64_t current_state_timestamp = -1;  // v2+
  std::vector<StoredMember> members;
  bool operator==(const GroupValue&) const = default;
};

Bytes encode_key(const OffsetKey& key);        // version 1
Bytes encode_key(const GroupKey& key);         // version 2
Bytes encode_value(const OffsetValue& value);  // version 3 (version 1 if expire_timestamp set)
Bytes encode_value(const GroupValue& value);   // version 3

// Errc::corrupt for truncated or trailing bytes and for a version this broker cannot read.
Result<GroupRecordKey> decode_group_record_key(ByteView bytes);
Result<OffsetValue> decode_offset_value(ByteView bytes);
Result<GroupValue> decode_group_value(ByteView bytes);

// Kafka's GroupMetadataManager.partitionFor: Utils.abs(groupId.hashCode) % partitions, with
// Java's String.hashCode over the id's UTF-16 code units. Bytes that are not valid UTF-8 count as
// U+FFFD each (Java's decoder replaces them; only the placement depends on it).
int32_t java_string_hash(std::string_view s);
int32_t offsets_partition_for(std::string_view group_id, int32_t partitions);

}  // namespace gregor::broker
