// GroupManager: routing, committed offsets, and __consumer_offsets (see group_manager.h).
#include "node/broker/group_manager.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/assert.h"
#include "base/guarded.h"
#include "node/log/record_batch.h"

namespace gregor::broker {

using kafka::ErrorCode;
namespace k = kafka;

namespace {

// Kafka's isValidGroupId: the offset APIs and DescribeGroups accept an empty group id (old
// clients commit with one); membership needs a name.
bool valid_group_id(const std::string& group_id, bool allow_empty) {
  return (allow_empty || !group_id.empty()) && group_id.size() <= kGroupIdBytesMax;
}

}  // namespace

ErrorCode coordinator_append_error(ErrorCode e, bool for_offsets) {
  switch (e) {
    case ErrorCode::none:
      return e;
    case ErrorCode::unknown_topic_or_partition:
    case ErrorCode::not_enough_replicas:
    case ErrorCode::not_enough_replicas_after_append:
      return ErrorCode::coordinator_not_available;
    case ErrorCode::not_leader_or_follower:
    case ErrorCode::kafka_storage_error:
      return ErrorCode::not_coordinator;
    case ErrorCode::message_too_large:
    case ErrorCode::record_list_too_large:
    case ErrorCode::invalid_fetch_size:
      return for_offsets ? ErrorCode::invalid_commit_offset_size : ErrorCode::unknown_server_error;
    default:
      return e;
  }
}

GroupManager::GroupManager(Env& env, const BrokerConfig& config, MetadataAuthority& controller,
                           ReplicaManager& replicas)
    : env_(env),
      config_(config),
      controller_(controller),
      replicas_(replicas),
      coordinator_(env, GroupCoordinatorConfig::from(config)) {
  coordinator_.set_store(
      [this](const std::string& group_id, GroupValue value, std::function<void(ErrorCode)> done) {
        store_group(group_id, std::move(value), std::move(done));
      });
}

GroupManager::~GroupManager() {
  *alive_ = false;
  env_.clock.cancel(expiry_timer_);
}

void GroupManager::start() {
  sync_coordination();
  schedule_expiry();
  schedule_coordination_check();
}

void GroupManager::stop() {
  stopped_ = true;
  env_.clock.cancel(expiry_timer_);
  expiry_timer_ = kNoTimer;
  env_.clock.cancel(coordination_timer_);
  coordination_timer_ = kNoTimer;
}

void GroupManager::schedule_coordination_check() {
  coordination_timer_ = env_.clock.schedule(kCoordinationCheckInterval, guarded(alive_, [this] {
                                              coordination_timer_ = kNoTimer;
                                              if (stopped_) return;
                                              sync_coordination();
                                              schedule_coordination_check();
                                            }));
}

void GroupManager::sync_coordination() {
  if (stopped_) return;
  const TopicImage* topic = controller_.image().topic(std::string(kOffsetsTopic));
  int32_t count = topic ? static_cast<int32_t>(topic->partitions.size()) : 0;
  // Partitions gone from the image (the topic deleted) are forgotten too.
  for (auto it = coordinated_epoch_.begin(); it != coordinated_epoch_.end();) {
    int32_t index = it->first;
    ++it;
    if (index >= count) {
      unload_partition(index);
      coordinated_epoch_.erase(index);
    }
  }
  for (int32_t index = 0; index < count; ++index) {
    Partition* part = offsets_partition(index);
    bool leads = part != nullptr && part->is_leader();
    auto it = coordinated_epoch_.find(index);
    if (leads && (it == coordinated_epoch_.end() || it->second != part->leader_epoch())) {
      // Elected (again): whatever was served here before is stale; load anew.
      if (it != coordinated_epoch_.end()) unload_partition(index);
      coordinated_epoch_[index] = part->leader_epoch();
      load_partition(index);
    } else if (!leads && it != coordinated_epoch_.end()) {
      unload_partition(index);
      coordinated_epoch_.erase(it);
    }
  }
}

void GroupManager::unload_partition(int32_t index) {
  loading_.erase(index);
  loaded_.erase(index);
  const TopicImage* topic = controller_.image().topic(std::string(kOffsetsTopic));
  int32_t count = topic ? static_cast<int32_t>(topic->partitions.size()) : 0;
  auto here = [&](const std::string& group_id) {
    return count == 0 || offsets_partition_for(group_id, count) == index;
  };
  for (const std::string& id : coordinator_.group_ids()) {
    if (here(id)) coordinator_.unload_group(id);
  }
  std::erase_if(offsets_, [&](const auto& entry) { return here(entry.first); });
  env_.tracer.event("group.partition_unloaded", TraceFields().add("partition", index));
}

// ---- Routing ----------------------------------------------------------------------------------

int32_t GroupManager::partition_for(const std::string& group_id) const {
  const TopicImage* topic = controller_.image().topic(std::string(kOffsetsTopic));
  GREGOR_ASSERT(topic != nullptr && !topic->partitions.empty(), "no offsets topic");
  // The topic's real partition count, not the config's: the config may change across restarts,
  // the placement of existing groups must not.
  return offsets_partition_for(group_id, static_cast<int32_t>(topic->partitions.size()));
}

Partition* GroupManager::offsets_partition(int32_t index) const {
  return replicas_.partition(std::string(kOffsetsTopic), index);
}

ErrorCode GroupManager::route(const std::string& group_id) {
  if (stopped_) return ErrorCode::coordinator_not_available;
  if (controller_.image().topic(std::string(kOffsetsTopic)) == nullptr) {
    return ErrorCode::not_coordinator;  // FindCoordinator creates the topic
  }
  sync_coordination();
  int32_t p = partition_for(group_id);
  if (loading_.contains(p)) return ErrorCode::coordinator_load_in_progress;
  if (!loaded_.contains(p)) return ErrorCode::not_coordinator;
  return ErrorCode::none;
}

void GroupManager::find_coordinator(const std::string& group_id,
                                    std::function<void(ErrorCode, const BrokerImage*)> done) {
  if (stopped_) return done(ErrorCode::coordinator_not_available, nullptr);
  const MetadataImage& image = controller_.image();
  const TopicImage* topic = image.topic(std::string(kOffsetsTopic));
  if (topic == nullptr) {
    create_offsets_topic();
    return done(ErrorCode::coordinator_not_available, nullptr);
  }
  const PartitionImage& p = topic->partitions.at(static_cast<size_t>(partition_for(group_id)));
  auto broker = image.brokers.find(p.leader);
  if (broker == image.brokers.end()) return done(ErrorCode::coordinator_not_available, nullptr);
  done(ErrorCode::none, &broker->second);
}

void GroupManager::create_offsets_topic() {
  if (creating_topic_) return;
  creating_topic_ = true;
  TopicRequest request;
  request.name = std::string(kOffsetsTopic);
  request.num_partitions = config_.offsets_topic_num_partitions;
  request.configs = {{"cleanup.policy", "compact"},
                     {"segment.bytes", std::to_string(kOffsetsSegmentBytes)}};
  spdlog::info("creating {} with {} partitions", kOffsetsTopic, request.num_partitions);
  controller_.create_topic(
      request, guarded(alive_, [this](TopicResult r) {
        creating_topic_ = false;
        if (r.error != ErrorCode::none && r.error != ErrorCode::topic_already_exists) {
          spdlog::warn("creating {}: {}", kOffsetsTopic, r.message);
          return;
        }
        // New and empty: the partitions led here load (nothing) and serve at once.
        sync_coordination();
      }));
}

// ---- Membership: route, then the coordinator -----------------------------------------------

void GroupManager::join_group(const k::JoinGroupRequest& request, const GroupClient& client,
                              JoinGroupCallback done) {
  ErrorCode error = valid_group_id(request.group_id, false) ? route(request.group_id)
                                                            : ErrorCode::invalid_group_id;
  if (error != ErrorCode::none) {
    JoinGroupResult r;
    r.error = error;
    r.member_id = request.member_id;
    return done(std::move(r));
  }
  coordinator_.join_group(request, client, std::move(done));
}

void GroupManager::sync_group(const k::SyncGroupRequest& request, SyncGroupCallback done) {
  ErrorCode error = valid_group_id(request.group_id, false) ? route(request.group_id)
                                                            : ErrorCode::invalid_group_id;
  if (error != ErrorCode::none) {
    SyncGroupResult r;
    r.error = error;
    return done(std::move(r));
  }
  coordinator_.sync_group(request, std::move(done));
}

ErrorCode GroupManager::heartbeat(const k::HeartbeatRequest& request) {
  if (!valid_group_id(request.group_id, false)) return ErrorCode::invalid_group_id;
  if (ErrorCode error = route(request.group_id); error != ErrorCode::none) return error;
  return coordinator_.heartbeat(request);
}

k::LeaveGroupResponse GroupManager::leave_group(const k::LeaveGroupRequest& request,
                                                int16_t api_version) {
  ErrorCode error = valid_group_id(request.group_id, false) ? route(request.group_id)
                                                            : ErrorCode::invalid_group_id;
  if (error != ErrorCode::none) {
    k::LeaveGroupResponse r;
    r.error_code = code(error);
    return r;
  }
  return coordinator_.leave_group(request, api_version);
}

k::DescribeGroupsResponse::DescribedGroup GroupManager::describe_group(
    const std::string& group_id) {
  ErrorCode error = valid_group_id(group_id, true) ? route(group_id) : ErrorCode::invalid_group_id;
  if (error != ErrorCode::none) {
    k::DescribeGroupsResponse::DescribedGroup g;
    g.group_id = group_id;
    g.error_code = code(error);
    return g;
  }
  return coordinator_.describe_group(group_id);
}

k::ListGroupsResponse GroupManager::list_groups(const std::vector<std::string>&) {
  k::ListGroupsResponse resp;
  if (stopped_) {
    resp.error_code = code(ErrorCode::coordinator_not_available);
    return resp;
  }
  // Kafka answers nothing while any partition loads: a partial list would look complete.
  if (!loading_.empty()) {
    resp.error_code = code(ErrorCode::coordinator_load_in_progress);
    return resp;
  }
  std::vector<ListedGroup> groups;
  resp.error_code = code(coordinator_.list_groups(groups));
  for (const ListedGroup& g : groups) {
    if (route(g.group_id) != ErrorCode::none) continue;
    resp.groups.push_back({g.group_id, g.protocol_type});
  }
  return resp;
}

// ---- Offsets ----------------------------------------------------------------------------------

void GroupManager::commit_offsets(const k::OffsetCommitRequest& request, int16_t api_version,
                                  std::function<void(k::OffsetCommitResponse)> done) {
  auto resp = std::make_shared<k::OffsetCommitResponse>();
  for (const auto& t : request.topics) {
    auto& rt = resp->topics.emplace_back();
    rt.name = t.name;
    for (const auto& p : t.partitions) rt.partitions.push_back({p.partition_index, 0});
  }
  auto fail_all = [&](ErrorCode e) {
    for (auto& t : resp->topics) {
      for (auto& p : t.partitions) p.error_code = code(e);
    }
    done(std::move(*resp));
  };
  if (!valid_group_id(request.group_id, true)) return fail_all(ErrorCode::invalid_group_id);
  if (ErrorCode e = route(request.group_id); e != ErrorCode::none) return fail_all(e);
  // v0 has no generation or member: a group that only stores offsets.
  int32_t generation = api_version >= 1 ? request.generation_id_or_member_epoch : -1;
  ErrorCode e = coordinator_.validate_commit(request.group_id, request.member_id, generation,
                                             request.group_instance_id);
  if (e != ErrorCode::none) return fail_all(e);

  const int64_t now_ms = to_ms(env_.clock.wall_now());
  const MetadataImage& image = controller_.image();
  OffsetMap& current = offsets_[request.group_id];
  std::vector<KeyValue> records;
  auto accepted = std::make_shared<OffsetMap>();
  std::vector<std::pair<size_t, size_t>> slots;  // (topic, partition) indexes in resp
  for (size_t ti = 0; ti < request.topics.size(); ++ti) {
    const auto& t = request.topics[ti];
    const TopicImage* topic = image.topic(t.name);
    for (size_t pi = 0; pi < t.partitions.size(); ++pi) {
      const auto& p = t.partitions[pi];
      int16_t& error = resp->topics[ti].partitions[pi].error_code;
      std::string metadata = p.committed_metadata.value_or("");
      if (topic == nullptr || p.partition_index < 0 ||
          static_cast<size_t>(p.partition_index) >= topic->partitions.size()) {
        error = code(ErrorCode::unknown_topic_or_partition);
        continue;
      }
      if (metadata.size() > static_cast<size_t>(config_.offset_metadata_max_bytes)) {
        error = code(ErrorCode::offset_metadata_too_large);
        continue;
      }
      auto key = std::make_pair(t.name, p.partition_index);
      if (!current.contains(key) && current.size() + accepted->size() >= kOffsetsPerGroupMax) {
        error = code(ErrorCode::invalid_commit_offset_size);
        continue;
      }
      OffsetValue v;
      v.offset = p.committed_offset;
      v.leader_epoch = p.committed_leader_epoch;
      v.metadata = std::move(metadata);
      // v1 lets the client set the commit time; v2-v4 a retention that becomes an expiry time
      // (KIP-211 removed it in v5).
      v.commit_timestamp =
          api_version == 1 && p.commit_timestamp != -1 ? p.commit_timestamp : now_ms;
      if (request.retention_time_ms != -1 && api_version >= 2 && api_version <= 4) {
        v.expire_timestamp = now_ms + request.retention_time_ms;
      }
      records.emplace_back(encode_key(OffsetKey{request.group_id, t.name, p.partition_index}),
                           encode_value(v));
      (*accepted)[key] = std::move(v);
      slots.emplace_back(ti, pi);
    }
  }
  if (records.empty()) {
    if (current.empty()) offsets_.erase(request.group_id);
    return done(std::move(*resp));
  }
  append(request.group_id, std::move(records), true,
         [this, resp, accepted, slots, group_id = request.group_id, done](ErrorCode error) {
           for (auto [ti, pi] : slots) resp->topics[ti].partitions[pi].error_code = code(error);
           if (error == ErrorCode::none) {
             OffsetMap& m = offsets_[group_id];
             for (auto& [key, value] : *accepted) m[key] = value;
             counters_.offsets_committed += accepted->size();
           }
           done(std::move(*resp));
         });
}

k::OffsetFetchResponse GroupManager::fetch_offsets(const k::OffsetFetchRequest& request,
                                                   int16_t api_version) {
  k::OffsetFetchResponse resp;
  ErrorCode error = valid_group_id(request.group_id, true) ? route(request.group_id)
                                                           : ErrorCode::invalid_group_id;
  auto unknown = [](int32_t partition, ErrorCode e) {
    return k::OffsetFetchResponse::OffsetFetchResponsePartition{partition, -1, -1, "", code(e)};
  };
  if (error != ErrorCode::none) {
    if (api_version >= 2) {
      resp.error_code = code(error);
      return resp;
    }
    // v0-1 have no top-level error: every partition carries it.
    for (const auto& t :
         request.topics.value_or(std::vector<k::OffsetFetchRequest::OffsetFetchRequestTopic>{})) {
      auto& rt = resp.topics.emplace_back();
      rt.name = t.name;
      for (int32_t p : t.partition_indexes) rt.partitions.push_back(unknown(p, error));
    }
    return resp;
  }
  auto it = offsets_.find(request.group_id);
  static const OffsetMap kNone;
  const OffsetMap& offsets = it == offsets_.end() ? kNone : it->second;
  auto entry = [](int32_t partition, const OffsetValue& v) {
    return k::OffsetFetchResponse::OffsetFetchResponsePartition{partition, v.offset, v.leader_epoch,
                                                                v.metadata, code(ErrorCode::none)};
  };
  if (!request.topics) {  // v2+: every committed offset of the group
    for (const auto& [key, v] : offsets) {
      if (resp.topics.empty() || resp.topics.back().name != key.first) {
        resp.topics.emplace_back().name = key.first;
      }
      resp.topics.back().partitions.push_back(entry(key.second, v));
    }
    return resp;
  }
  for (const auto& t : *request.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.name = t.name;
    for (int32_t p : t.partition_indexes) {
      auto found = offsets.find({t.name, p});
      rt.partitions.push_back(found == offsets.end() ? unknown(p, ErrorCode::none)
                                                     : entry(p, found->second));
    }
  }
  return resp;
}

// ---- Writing __consumer_offsets -----------------------------------------------------------------

void GroupManager::store_group(const std::string& group_id, GroupValue value,
                               std::function<void(ErrorCode)> done) {
  if (ErrorCode e = route(group_id); e != ErrorCode::none) return done(e);
  append(group_id, {{encode_key(GroupKey{group_id}), encode_value(value)}}, false, std::move(done));
}

void GroupManager::append(const std::string& group_id, std::vector<KeyValue> records,
                          bool for_offsets, std::function<void(ErrorCode)> done) {
  Partition* partition = offsets_partition(partition_for(group_id));
  if (partition == nullptr) return done(ErrorCode::not_coordinator);
  log::BatchBuilder builder({});
  int64_t now_ms = to_ms(env_.clock.wall_now());
  for (const auto& [key, value] : records) {
    builder.add(now_ms, ByteView(key),
                value ? std::optional<ByteView>(ByteView(*value)) : std::nullopt);
  }
  auto batch = builder.build();
  if (!batch.ok()) {
    spdlog::warn("building a {} batch for group {}: {}", kOffsetsTopic, group_id,
                 batch.status().to_string());
    return done(coordinator_append_error(ErrorCode::record_list_too_large, for_offsets));
  }
  partition->append(std::move(batch).value(), -1, kOffsetsCommitTimeout,
                    guarded(alive_, [done, for_offsets, group_id](AppendOutcome out) {
                      if (out.error != ErrorCode::none) {
                        spdlog::warn("appending to {} for group {}: {} {}", kOffsetsTopic, group_id,
                                     k::error_name(out.error), out.message);
                      }
                      done(coordinator_append_error(out.error, for_offsets));
                    }));
}

// ---- Offset expiry (KIP-211) ------------------------------------------------------------------

void GroupManager::schedule_expiry() {
  if (stopped_) return;
  expiry_timer_ =
      env_.clock.schedule(config_.offsets_retention_check_interval_ms, guarded(alive_, [this] {
                            expiry_timer_ = kNoTimer;
                            expire_offsets();
                            schedule_expiry();
                          }));
}

void GroupManager::expire_offsets() {
  const int64_t now_ms = to_ms(env_.clock.wall_now());
  const int64_t retention_ms = to_ms(config_.offsets_retention_minutes);
  std::set<std::string> ids;
  for (const auto& [id, m] : offsets_) ids.insert(id);
  for (const auto& id : coordinator_.group_ids()) ids.insert(id);
  for (const std::string& id : ids) {
    if (route(id) != ErrorCode::none) continue;  // loading, or not ours
    std::optional<GroupInfo> info = coordinator_.group_info(id);
    bool consumer_group = info && info->protocol_type.has_value();
    bool empty = !info || info->state == GroupState::empty;
    std::vector<KeyValue> tombstones;
    auto it = offsets_.find(id);
    if (it != offsets_.end()) {
      OffsetMap& m = it->second;
      for (auto entry = m.begin(); entry != m.end();) {
        const OffsetValue& v = entry->second;
        bool expired = false;
        if (v.expire_timestamp >= 0) {
          expired = now_ms >= v.expire_timestamp;  // an explicit retention from v2-v4 commits
        } else if (!consumer_group) {
          expired = now_ms - v.commit_timestamp >= retention_ms;
        } else if (empty) {
          // KIP-211: the clock starts when the group became Empty, not at the commit.
          int64_t base =
              info->state_timestamp_ms >= 0 ? info->state_timestamp_ms : v.commit_timestamp;
          expired = now_ms - base >= retention_ms;
        }
        if (!expired) {
          ++entry;
          continue;
        }
        tombstones.emplace_back(encode_key(OffsetKey{id, entry->first.first, entry->first.second}),
                                std::nullopt);
        entry = m.erase(entry);
        ++counters_.offsets_expired;
      }
      if (m.empty()) offsets_.erase(it);
    }
    // An Empty group without offsets is gone (Kafka moves it to Dead and writes a tombstone).
    if (empty && !offsets_.contains(id) && coordinator_.remove_empty_group(id)) {
      tombstones.emplace_back(encode_key(GroupKey{id}), std::nullopt);
    }
    if (tombstones.empty()) continue;
    spdlog::info("group {}: {} offsets expired{}", id, tombstones.size(),
                 offsets_.contains(id) ? "" : ", group removed");
    // Best effort, as Kafka: the cache already forgot them; a failed write only means they come
    // back after a restart and expire again then.
    append(id, std::move(tombstones), true, [](ErrorCode) {});
  }
}

}  // namespace gregor::broker
