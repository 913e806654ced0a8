// The consumer group's partition assignors, run by the group leader: Kafka's RangeAssignor
// ("range") and RoundRobinAssignor ("roundrobin"), with the same output as the Java ones for the
// same input (without rack awareness), so a Gregor leader and a Java leader assign alike.
//
// - range: per topic, the members subscribed to it sorted by member id; its partitions split into
//   contiguous ranges in member order, the first (partitions % members) members getting one more.
//   Guarantee: per topic, the counts of its subscribers differ by at most one.
// - roundrobin: every partition of every subscribed topic, sorted by topic then partition, dealt
//   in turn to the members sorted by member id, skipping a member not subscribed to the
//   partition's topic. Guarantee: when every member subscribes to the same topics, the members'
//   total counts differ by at most one.
//
// Both assign each partition of a subscribed topic with known metadata to exactly one member
// subscribed to it; a topic absent from `partitions_per_topic` (unknown, or in error) is skipped.
// Every member appears in the result, with an empty list if it gets nothing. Member ids are
// unique (keys of a map) and order members as Java's String.compareTo does for ASCII ids.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/client_types.h"

namespace gregor::client {

inline constexpr std::string_view kRangeAssignor = "range";
inline constexpr std::string_view kRoundRobinAssignor = "roundrobin";

// Member id -> the topics it subscribes to (from its ConsumerProtocolSubscription).
using GroupSubscriptions = std::map<std::string, std::vector<std::string>>;
// Member id -> its partitions, sorted by topic then partition.
using GroupAssignment = std::map<std::string, std::vector<TopicPartition>>;

GroupAssignment range_assign(const std::map<std::string, int32_t>& partitions_per_topic,
                             const GroupSubscriptions& subscriptions);
GroupAssignment round_robin_assign(const std::map<std::string, int32_t>& partitions_per_topic,
                                   const GroupSubscriptions& subscriptions);

// The assignor called `name` ("range" or "roundrobin"); nullopt for any other name.
std::optional<GroupAssignment> assign_with(
    std::string_view name, const std::map<std::string, int32_t>& partitions_per_topic,
    const GroupSubscriptions& subscriptions);
bool is_known_assignor(std::string_view name);

}  // namespace gregor::client
