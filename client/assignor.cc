#include "client/assignor.h"

#include <algorithm>
#include <set>

#include "base/assert.h"

namespace gregor::client {

namespace {

bool subscribes(const std::vector<std::string>& topics, const std::string& topic) {
  return std::find(topics.begin(), topics.end(), topic) != topics.end();
}

// Every member with an empty list, so members that get nothing still get an (empty) assignment.
GroupAssignment empty_for(const GroupSubscriptions& subscriptions) {
  GroupAssignment out;
  for (const auto& [member, topics] : subscriptions) out[member];
  return out;
}

void sort_each(GroupAssignment& assignment) {
  for (auto& [member, tps] : assignment) std::sort(tps.begin(), tps.end());
}

}  // namespace

GroupAssignment range_assign(const std::map<std::string, int32_t>& partitions_per_topic,
                             const GroupSubscriptions& subscriptions) {
  GroupAssignment out = empty_for(subscriptions);
  // topic -> its subscribers; std::map iteration keeps them sorted by member id.
  std::map<std::string, std::vector<std::string>> consumers_per_topic;
  for (const auto& [member, topics] : subscriptions) {
    for (const std::string& t : std::set<std::string>(topics.begin(), topics.end()))
      consumers_per_topic[t].push_back(member);
  }
  for (const auto& [topic, members] : consumers_per_topic) {
    auto it = partitions_per_topic.find(topic);
    if (it == partitions_per_topic.end() || it->second <= 0) continue;
    const int32_t partitions = it->second;
    const int32_t n = static_cast<int32_t>(members.size());
    const int32_t per_member = partitions / n;
    const int32_t extra = partitions % n;  // the first `extra` members get one more
    for (int32_t i = 0; i < n; ++i) {
      int32_t start = per_member * i + std::min(i, extra);
      int32_t length = per_member + (i < extra ? 1 : 0);
      for (int32_t p = start; p < start + length; ++p) out[members[i]].push_back({topic, p});
    }
  }
  sort_each(out);
  return out;
}

GroupAssignment round_robin_assign(const std::map<std::string, int32_t>& partitions_per_topic,
                                   const GroupSubscriptions& subscriptions) {
  GroupAssignment out = empty_for(subscriptions);
  if (subscriptions.empty()) return out;
  std::set<std::string> topics;
  for (const auto& [member, ts] : subscriptions) topics.insert(ts.begin(), ts.end());
  std::vector<const std::pair<const std::string, std::vector<std::string>>*> members;
  for (const auto& entry : subscriptions) members.push_back(&entry);  // sorted by member id
  size_t next = 0;  // Java's CircularIterator over the sorted members
  for (const std::string& topic : topics) {
    auto it = partitions_per_topic.find(topic);
    if (it == partitions_per_topic.end()) continue;
    for (int32_t p = 0; p < it->second; ++p) {
      // Some member subscribes to `topic` (it is in the union), so this ends within a lap.
      size_t skipped = 0;
      while (!subscribes(members[next]->second, topic)) {
        next = (next + 1) % members.size();
        GREGOR_ASSERT(++skipped <= members.size(), "no subscriber of {}", topic);
      }
      out[members[next]->first].push_back({topic, p});
      next = (next + 1) % members.size();
    }
  }
  sort_each(out);
  return out;
}

bool is_known_assignor(std::string_view name) {
  return name == kRangeAssignor || name == kRoundRobinAssignor;
}

std::optional<GroupAssignment> assign_with(
    std::string_view name, const std::map<std::string, int32_t>& partitions_per_topic,
    const GroupSubscriptions& subscriptions) {
  if (name == kRangeAssignor) return range_assign(partitions_per_topic, subscriptions);
  if (name == kRoundRobinAssignor) return round_robin_assign(partitions_per_topic, subscriptions);
  return std::nullopt;
}

}  // namespace gregor::client
