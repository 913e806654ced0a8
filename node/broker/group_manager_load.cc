// GroupManager: loading an offsets partition (Kafka's GroupMetadataManager.doLoadGroupsAndOffsets).
#include <spdlog/spdlog.h>

#include "base/guarded.h"
#include "node/broker/group_manager.h"
#include "node/log/record_batch.h"

namespace gregor::broker {

using kafka::ErrorCode;

// Named limit: a read that fails (the partition is going offline, the broker will halt) is tried
// again after this.
inline constexpr Duration kLoadRetryBackoff = milliseconds(100);

// The state of one partition's load: the latest value of every key read so far (nullopt: a
// tombstone), applied to the manager only at the end so a half-read partition is never served.
struct GroupManager::Load {
  int32_t index = 0;
  int64_t next_offset = 0;
  std::map<std::string, std::map<std::pair<std::string, int32_t>, std::optional<OffsetValue>>>
      offsets;
  std::map<std::string, std::optional<GroupValue>> groups;
  uint64_t records = 0;
  MonoTime started{};
  int32_t epoch = -1;  // the leader epoch it loads for
};

void GroupManager::load_partition(int32_t index) {
  Partition* partition = offsets_partition(index);
  if (partition == nullptr) {
    spdlog::warn("{}-{} is led here but not hosted; its groups are not served", kOffsetsTopic,
                 index);
    return;
  }
  auto load = std::make_shared<Load>();
  load->index = index;
  load->next_offset = partition->log().log_start_offset();
  load->epoch = partition->leader_epoch();
  load->started = env_.clock.now();
  loading_.insert(index);
  loaded_.erase(index);
  read_more(load);
}

void GroupManager::read_more(std::shared_ptr<Load> load) {
  if (stopped_) return;
  Partition* partition = offsets_partition(load->index);
  if (partition == nullptr) {  // the topic went away while loading
    loading_.erase(load->index);
    return;
  }
  // A newer election started another load (or the partition was unloaded): this one is void.
  auto epoch = coordinated_epoch_.find(load->index);
  if (epoch == coordinated_epoch_.end() || epoch->second != load->epoch ||
      !loading_.contains(load->index)) {
    return;
  }
  // To the log end, as Kafka loads: what this leader holds is what the partition will hold.
  if (load->next_offset >= partition->log().log_end_offset()) return finish_load(load);
  partition->read_for_follower(
      load->next_offset, kLoadReadBytes, guarded(alive_, [this, load](FetchOutcome out) {
        if (out.error == ErrorCode::offset_out_of_range && out.log_start_offset >= 0 &&
            load->next_offset < out.log_start_offset) {
          load->next_offset = out.log_start_offset;  // compaction or retention moved the start
          return read_more(load);
        }
        if (out.error != ErrorCode::none) {
          spdlog::warn("loading {}-{} at offset {}: {}", kOffsetsTopic, load->index,
                       load->next_offset, kafka::error_name(out.error));
          env_.clock.schedule(kLoadRetryBackoff,
                              guarded(alive_, [this, load] { read_more(load); }));
          return;
        }
        log::BatchIterator it(ByteView(out.records.data(), out.records.size()));
        int64_t before = load->next_offset;
        while (auto batch = it.next()) {
          auto header = log::parse_batch_header(*batch);
          if (!header.ok()) break;
          if (!header->is_control()) {
            auto records = log::decode_records(*batch);
            if (!records.ok()) {
              ++counters_.records_skipped;
              spdlog::error("{}-{}: batch at offset {} does not decode ({}); skipped",
                            kOffsetsTopic, load->index, header->base_offset,
                            records.status().to_string());
            } else {
              for (const log::Record& record : *records) {
                if (record.offset >= load->next_offset) apply(*load, record);
              }
            }
          }
          load->next_offset = std::max(load->next_offset, header->last_offset() + 1);
        }
        if (load->next_offset == before) {
          // No whole batch came back below the high watermark: nothing more to read now.
          return finish_load(load);
        }
        read_more(load);
      }));
}

void GroupManager::apply(Load& load, const log::Record& record) {
  ++load.records;
  if (!record.key) {
    ++counters_.records_skipped;
    return;
  }
  auto key = decode_group_record_key(*record.key);
  if (!key.ok()) {
    ++counters_.records_skipped;
    spdlog::warn("{}-{} offset {}: {}", kOffsetsTopic, load.index, record.offset,
                 key.status().to_string());
    return;
  }
  if (const auto* ok = std::get_if<OffsetKey>(&*key)) {
    auto& slot = load.offsets[ok->group][{ok->topic, ok->partition}];
    if (!record.value) {
      slot.reset();
      return;
    }
    auto value = decode_offset_value(*record.value);
    if (!value.ok()) {
      ++counters_.records_skipped;
      spdlog::warn("{}-{} offset {}: {}", kOffsetsTopic, load.index, record.offset,
                   value.status().to_string());
      return;
    }
    slot = std::move(value).value();
    return;
  }
  const auto& gk = std::get<GroupKey>(*key);
  if (!record.value) {
    load.groups[gk.group].reset();
    return;
  }
  auto value = decode_group_value(*record.value);
  if (!value.ok()) {
    ++counters_.records_skipped;
    spdlog::warn("{}-{} offset {}: {}", kOffsetsTopic, load.index, record.offset,
                 value.status().to_string());
    return;
  }
  load.groups[gk.group] = std::move(value).value();
}

void GroupManager::finish_load(std::shared_ptr<Load> load) {
  size_t groups = 0;
  size_t offsets = 0;
  std::set<std::string> ids;
  for (auto& [group_id, m] : load->offsets) {
    OffsetMap kept;
    for (auto& [key, value] : m) {
      if (value) kept[key] = std::move(*value);
    }
    if (kept.empty()) continue;
    offsets += kept.size();
    ids.insert(group_id);
    offsets_[group_id] = std::move(kept);
  }
  for (auto& [group_id, value] : load->groups) {
    if (!value) continue;
    coordinator_.load_group(group_id, *value);
    ids.erase(group_id);
    ++groups;
  }
  // Offsets without group metadata belong to a group that only stores offsets: it comes back
  // Empty with no protocol type, as Kafka's loader creates it.
  for (const std::string& group_id : ids) {
    coordinator_.load_group(group_id, GroupValue{});
    ++groups;
  }
  counters_.groups_loaded += groups;
  counters_.offsets_loaded += offsets;
  loading_.erase(load->index);
  loaded_.insert(load->index);
  if (load->records > 0) {
    spdlog::info("loaded {}-{}: {} groups, {} offsets from {} records in {} ms", kOffsetsTopic,
                 load->index, groups, offsets, load->records,
                 to_ms(env_.clock.now() - load->started));
  }
  env_.tracer.event(
      "group.partition_loaded",
      TraceFields().add("partition", load->index).add("groups", groups).add("offsets", offsets));
}

}  // namespace gregor::broker
