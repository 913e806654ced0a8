// The consumer's fetcher: one Fetch per leader at a time, and decoding the record batches of its
// answer into buffered records.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "client/consumer.h"

namespace gregor::client {

using kafka::ErrorCode;
namespace k = kafka;

void Consumer::send_fetches(MonoTime now) {
  std::map<int32_t, std::vector<TopicPartition>> by_leader;
  for (auto& [tp, ps] : partitions_) {
    if (!ps.fetch_position || !ps.buffered.empty() || ps.fetch_in_flight || ps.stopped ||
        ps.error || ps.pending_reset || now < ps.backoff_until)
      continue;
    if (auto leader = metadata_.leader(tp)) {
      by_leader[*leader].push_back(tp);
    } else {
      metadata_.request_refresh();
    }
  }
  for (auto& [node, tps] : by_leader) {
    if (fetch_in_flight_[node]) continue;
    auto conn = metadata_.ready_connection(node);
    if (!conn) continue;
    k::FetchRequest req;
    req.replica_id = -1;
    req.max_wait_ms = static_cast<int32_t>(to_ms(config_.fetch_max_wait_ms));
    req.min_bytes = config_.fetch_min_bytes;
    req.max_bytes = config_.fetch_max_bytes;
    req.isolation_level = static_cast<int8_t>(config_.isolation_level);
    req.session_id = 0;
    req.session_epoch = -1;  // no fetch session
    std::map<TopicPartition, uint64_t> epochs;
    for (auto& tp : tps) {
      PartitionState& ps = partitions_[tp];
      if (req.topics.empty() || req.topics.back().topic != tp.topic) {
        req.topics.push_back({tp.topic, {}});
      }
      k::FetchRequest::FetchPartition fp;
      fp.partition = tp.partition;
      fp.fetch_offset = *ps.fetch_position;
      fp.partition_max_bytes = config_.max_partition_fetch_bytes;
      // BUGGIFY: a 1-byte limit still gets one whole batch (KIP-74), so the consumer advances a
      // batch per fetch: many more fetches, positions inside batches, partial responses.
      if (GREGOR_BUGGIFY(env_, consumer_fetch_one_batch)) fp.partition_max_bytes = 1;
      req.topics.back().partitions.push_back(fp);
      ps.fetch_in_flight = true;
      epochs[tp] = ps.epoch;
    }
    fetch_in_flight_[node] = true;
    ++counters_.fetches;
    conn->send(req,
               guarded(alive_,
                       [this, node, epochs](Result<k::FetchResponse> resp) {
                         on_fetch(node, epochs, std::move(resp));
                       }),
               config_.request_timeout_ms + config_.fetch_max_wait_ms);
  }
}

void Consumer::on_fetch(int32_t node, std::map<TopicPartition, uint64_t> epochs,
                        Result<k::FetchResponse> resp) {
  fetch_in_flight_[node] = false;
  MonoTime now = env_.clock.now();
  for (auto& [tp, epoch] : epochs) {
    auto it = partitions_.find(tp);
    if (it == partitions_.end()) continue;
    it->second.fetch_in_flight = false;
    if (!resp.ok() || resp->error_code != 0)
      it->second.backoff_until = now + config_.retry_backoff_ms;
  }
  if (!resp.ok()) {
    spdlog::debug("consumer {}: fetch from broker {}: {}", config_.client_id, node, resp.status());
    metadata_.request_refresh();
    return schedule_pump();
  }
  if (resp->error_code != 0) {
    spdlog::warn("consumer {}: fetch from broker {}: {}", config_.client_id, node,
                 k::error_name(static_cast<ErrorCode>(resp->error_code)));
    return schedule_pump();
  }
  for (auto& t : resp->responses) {
    for (auto& data : t.partitions) {
      TopicPartition tp{t.topic, data.partition_index};
      auto sent = epochs.find(tp);
      auto it = partitions_.find(tp);
      // Dropped, seeked or reassigned since the fetch went out: the data is stale.
      if (sent == epochs.end() || it == partitions_.end() || it->second.epoch != sent->second)
        continue;
      on_partition_data(tp, it->second, data);
    }
  }
  schedule_pump();
}

void Consumer::on_partition_data(const TopicPartition& tp, PartitionState& ps,
                                 const k::FetchResponse::PartitionData& data) {
  auto e = static_cast<ErrorCode>(data.error_code);
  MonoTime now = env_.clock.now();
  if (e == ErrorCode::none) {
    ps.high_watermark = data.high_watermark;
    if (!data.records || data.records->empty()) return;
    Status decoded = decode_into(tp, ps, *data.records);
    if (!decoded.ok()) {
      ps.error = decoded;
      ps.stopped = true;
    }
    return;
  }
  if (e == ErrorCode::offset_out_of_range) {
    if (config_.auto_offset_reset == OffsetReset::none) {
      ps.error = errorf(Errc::out_of_range,
                        "OFFSET_OUT_OF_RANGE: fetch position {} of {} is outside the log "
                        "(start {}, high watermark {}) and auto.offset.reset is none",
                        ps.fetch_position.value_or(-1), tp.to_string(), data.log_start_offset,
                        data.high_watermark);
      ps.stopped = true;
    } else {
      spdlog::info("consumer {}: {} offset {} out of range; resetting to the {}", config_.client_id,
                   tp.to_string(), ps.fetch_position.value_or(-1),
                   config_.auto_offset_reset == OffsetReset::earliest ? "earliest" : "latest");
      GREGOR_PROBE(env_, consumer_offset_reset);
      ps.buffered.clear();
      ps.pending_reset = config_.auto_offset_reset;
    }
    return;
  }
  ps.backoff_until = now + config_.retry_backoff_ms;
  if (needs_metadata_refresh(e)) metadata_.request_refresh();
  if (!is_retriable(e)) ps.error = kafka_status(e, "fetch " + tp.to_string());
}

Status Consumer::decode_into(const TopicPartition& tp, PartitionState& ps, ByteView records) {
  log::BatchIterator it(records);
  size_t batches = 0;
  while (auto batch = it.next()) {
    ++batches;
    auto h = log::parse_batch_header(*batch);
    if (!h.ok()) return errorf(Errc::corrupt, "{}: {}", tp.to_string(), h.status().message());
    int64_t next = h->last_offset() + 1;
    if (next <= *ps.fetch_position) continue;  // wholly below the position
    if (h->is_control()) {
      ps.fetch_position = next;  // transaction markers are not records
      continue;
    }
    auto decoded = log::decode_records(*batch);
    if (!decoded.ok()) {
      return Status(decoded.code(), fmt::format("{}: batch at offset {}: {}", tp.to_string(),
                                                h->base_offset, decoded.status().message()));
    }
    ++counters_.batches;
    for (log::Record& r : *decoded) {
      if (r.offset < *ps.fetch_position) continue;  // the front of a batch we landed inside
      ps.buffered.push_back(ConsumerRecord{tp.topic, tp.partition, r.offset, r.timestamp,
                                           h->timestamp_type(), std::move(r.key),
                                           std::move(r.value), std::move(r.headers)});
    }
    ps.fetch_position = next;
  }
  if (!it.status().ok()) {
    return Status(Errc::corrupt, fmt::format("{}: {}", tp.to_string(), it.status().message()));
  }
  if (batches == 0) {
    // Brokers always return at least one whole batch (KIP-74); a fragment means a batch larger
    // than what the broker was allowed to send.
    return errorf(Errc::limit_exceeded, "{}: fetch at {} returned only part of a batch",
                  tp.to_string(), *ps.fetch_position);
  }
  return Status::Ok();
}

void Consumer::schedule_wake(MonoTime now) {
  if (!poll_) return;
  std::optional<MonoTime> at;
  for (auto& [tp, ps] : partitions_) {
    if (ps.backoff_until > now && (!at || ps.backoff_until < *at)) at = ps.backoff_until;
  }
  if (!at) return;
  env_.clock.cancel(wake_timer_);
  wake_timer_ = env_.clock.schedule(*at - now, guarded(alive_, [this] {
    wake_timer_ = kNoTimer;
    pump();
  }));
}

}  // namespace gregor::client
