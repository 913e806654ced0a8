// Kafka's embedded "consumer" protocol: the opaque bytes a consumer puts in JoinGroup's protocol
// metadata (its subscription) and the leader puts in SyncGroup's assignments (each member's
// partitions). The broker never interprets them; consumers and tools (`gregor groups describe`)
// do. Layouts after Kafka's ConsumerProtocolSubscription.json and ConsumerProtocolAssignment.json,
// always non-flexible (int16 string lengths, int32 array counts and byte lengths):
//
//   Subscription: version int16, topics [string], user_data nullable bytes,
//                 v1+ owned_partitions [(topic string, partitions [int32])],
//                 v2+ generation_id int32, v3+ rack_id nullable string
//   Assignment:   version int16, assigned_partitions [(topic string, partitions [int32])],
//                 user_data nullable bytes              (v1..v3 add nothing)
//
// Decoding follows Kafka's ConsumerProtocol: a version above the highest known one is read as the
// highest known one, and what follows is ignored, because newer versions only append fields. For
// a known version the input must end exactly where the fields do (trailing bytes mean garbage).
// Negative versions, truncation, negative lengths (other than -1 where nullable), counts larger
// than the input or than kConsumerProtocolArrayMax are Errc::corrupt; decoding never asserts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/bytes.h"
#include "base/status.h"

namespace gregor::kafka {

// JoinGroup's protocol_type for consumers.
inline constexpr std::string_view kConsumerProtocolType = "consumer";

// Highest versions whose fields this codec knows (Kafka 3.x).
inline constexpr int16_t kConsumerSubscriptionVersionMax = 3;
inline constexpr int16_t kConsumerAssignmentVersionMax = 3;

// Most elements any one array in these messages may hold (topics, partitions of a topic). A real
// group is far below it; it bounds what a forged count makes the decoder try to build, on top of
// the rule that a count cannot exceed the bytes left.
inline constexpr size_t kConsumerProtocolArrayMax = 1 << 20;

// A topic and some of its partitions (owned or assigned).
struct ConsumerTopicPartitions {
  std::string topic;
  std::vector<int32_t> partitions;
  bool operator==(const ConsumerTopicPartitions&) const = default;
};

struct ConsumerSubscription {
  // On encode: the version written (0..kConsumerSubscriptionVersionMax; fields absent from it
  // are not written). On decode: the version on the wire, possibly above the known maximum.
  int16_t version = 1;
  std::vector<std::string> topics;
  std::optional<Bytes> user_data;
  std::vector<ConsumerTopicPartitions> owned_partitions;  // v1+
  int32_t generation_id = -1;                             // v2+
  std::optional<std::string> rack_id;                     // v3+
  bool operator==(const ConsumerSubscription&) const = default;
};

struct ConsumerAssignment {
  // As ConsumerSubscription::version.
  int16_t version = 1;
  std::vector<ConsumerTopicPartitions> partitions;
  std::optional<Bytes> user_data;
  bool operator==(const ConsumerAssignment&) const = default;
};

// Encoders. Contract (asserted: a violation is a bug in the caller): version in
// 0..k*VersionMax, strings at most kStringBytesMax bytes (Kafka topic names are <= 249).
Bytes encode_subscription(const ConsumerSubscription& subscription);
Bytes encode_assignment(const ConsumerAssignment& assignment);

// Decoders; Errc::corrupt with a message naming the field on malformed input. Empty input is
// corrupt too, though the coordinator hands exactly that to a member the leader assigned nothing
// (and DescribeGroups shows it for members of a group that is rebalancing): callers that may see
// it check for it first and read it as no partitions.
Result<ConsumerSubscription> decode_subscription(ByteView bytes);
Result<ConsumerAssignment> decode_assignment(ByteView bytes);

}  // namespace gregor::kafka
