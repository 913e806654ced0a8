// The producer's records and batches: accepting records, waiting for topic metadata, filling
// batches, expiring them, reporting outcomes, flush and close. Sending, answers, retries and
// producer ids are in producer_sender.cc.
#include <fmt/format.h>

#include <algorithm>

#include "base/guarded.h"
#include "client/producer.h"

namespace gregor::client {

using kafka::ErrorCode;

Status validate(const ProducerConfig& c) {
  auto bootstrap = parse_bootstrap_servers(c.bootstrap_servers);
  if (!bootstrap.ok()) return bootstrap.status();
  auto bad = [](std::string what) { return Status(Errc::invalid_argument, std::move(what)); };
  if (c.acks != -1 && c.acks != 0 && c.acks != 1) return bad("acks must be -1 (all), 0 or 1");
  if (c.batch_size == 0 || c.batch_size > log::kBatchBytesMax) {
    return bad(fmt::format("batch.size must be in 1..{}", log::kBatchBytesMax));
  }
  if (c.max_in_flight_requests_per_connection < 1) {
    return bad("max.in.flight.requests.per.connection must be >= 1");
  }
  if (c.retries < 0) return bad("retries must be >= 0");
  if (c.linger_ms < Duration::zero()) return bad("linger.ms must be >= 0");
  if (c.request_timeout_ms <= Duration::zero()) return bad("request.timeout.ms must be positive");
  if (c.delivery_timeout_ms < c.linger_ms + c.request_timeout_ms) {
    return bad("delivery.timeout.ms must be >= linger.ms + request.timeout.ms");
  }
  if (!log::is_known_compression(c.compression_type)) return bad("unknown compression.type");
  if (c.buffer_memory == 0 || c.buffered_records_max == 0 || c.max_request_size == 0) {
    return bad("buffer.memory, buffered records and max.request.size must be positive");
  }
  if (c.enable_idempotence) {
    if (c.acks != -1) return bad("enable.idempotence needs acks=all (-1)");
    if (c.retries == 0) return bad("enable.idempotence needs retries > 0");
    if (c.max_in_flight_requests_per_connection > kIdempotentInFlightMax) {
      return bad(fmt::format("enable.idempotence needs max.in.flight.requests.per.connection <= {}",
                             kIdempotentInFlightMax));
    }
  }
  return Status::Ok();
}

Producer::Producer(Env& env, ProducerConfig config)
    : env_(env),
      config_(std::move(config)),
      metadata_(env, config_),
      partitioner_(config_.partitioner, env.random) {
  Status valid = validate(config_);
  GREGOR_ASSERT(valid.ok(), "Producer: {}", valid.to_string());
  metadata_.set_on_change([this] { schedule_pump(); });
}

Producer::~Producer() {
  alive_.reset();
  env_.clock.cancel(wake_timer_);
}

size_t Producer::record_bytes(const ProducerRecord& r) const {
  // The record's size in a batch, near enough: its fields plus Kafka's per-record overhead.
  size_t n = 24 + (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
  for (auto& h : r.headers) n += 10 + h.key.size() + (h.value ? h.value->size() : 0);
  return n;
}

void Producer::send(ProducerRecord record, DeliveryCallback callback) {
  ++counters_.records_sent;
  Pending p;
  p.id = next_record_id_++;
  p.bytes = record_bytes(record);
  p.deadline = env_.clock.now() + config_.delivery_timeout_ms;
  if (!record.timestamp_ms) record.timestamp_ms = to_ms(env_.clock.wall_now());
  p.record = std::move(record);
  p.callback = std::move(callback);
  std::optional<Status> refused;
  ErrorCode code = ErrorCode::none;
  if (closed_) {
    refused = error(Errc::closed, "the producer is closed");
  } else if (p.record.topic.empty()) {
    refused = error(Errc::invalid_argument, "a record needs a topic");
  } else if (p.record.partition && *p.record.partition < 0) {
    refused = errorf(Errc::invalid_argument, "partition {} < 0", *p.record.partition);
  } else if (p.bytes > config_.max_request_size) {
    code = ErrorCode::message_too_large;
    refused = kafka_status(code, fmt::format("record of {} bytes > max.request.size {}", p.bytes,
                                             config_.max_request_size));
  } else if (buffered_bytes_ + p.bytes > config_.buffer_memory ||
             buffered_records_ >= config_.buffered_records_max) {
    refused = errorf(Errc::limit_exceeded, "producer buffer full ({} records, {} bytes)",
                     buffered_records_, buffered_bytes_);
  }
  incomplete_.insert(p.id);
  if (refused) {
    p.bytes = 0;  // not buffered
    auto shared = std::make_shared<Pending>(std::move(p));
    env_.clock.schedule(Duration::zero(), guarded(alive_, [this, shared, s = *refused, code] {
                          report(*shared, DeliveryReport{s, false, code, 0});
                          check_flushes();
                        }));
    return;
  }
  buffered_bytes_ += p.bytes;
  ++buffered_records_;
  std::string topic = p.record.topic;
  waiting_[topic].push_back(std::move(p));
  metadata_.track({topic});
  schedule_pump();
}

void Producer::send(std::string topic, std::optional<int32_t> partition, std::optional<Bytes> key,
                    std::optional<Bytes> value, std::vector<log::Header> headers,
                    std::function<void(Result<RecordMetadata>)> callback) {
  ProducerRecord r{std::move(topic), partition,          std::move(key),
                   std::move(value), std::move(headers), std::nullopt};
  send(std::move(r), [callback = std::move(callback)](const DeliveryReport& d) {
    if (callback) callback(d.result);
  });
}

void Producer::flush(std::function<void()> done) {
  flushes_.emplace_back(next_record_id_ - 1, std::move(done));
  schedule_pump();
}

void Producer::close(std::function<void()> done) {
  closed_ = true;
  flush(guarded(alive_, [this, done] {
    metadata_.close();
    done();
  }));
}

void Producer::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  env_.clock.schedule(Duration::zero(), guarded(alive_, [this] {
                        pump_scheduled_ = false;
                        pump();
                      }));
}

void Producer::resolve_waiting() {
  std::weak_ptr<bool> alive = alive_;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    const TopicMetadata* t = metadata_.topic(it->first);
    if (!t || t->partitions.empty() || (t->error != ErrorCode::none && is_retriable(t->error))) {
      // Not known yet, being created, or no leader: ask again (spaced by retry.backoff.ms).
      if (t) metadata_.request_refresh();
      ++it;
      continue;
    }
    std::deque<Pending> records = std::move(it->second);
    it = waiting_.erase(it);
    auto n = static_cast<int32_t>(t->partitions.size());
    for (Pending& p : records) {
      if (alive.expired()) return;
      if (t->error != ErrorCode::none) {
        report(p, DeliveryReport{kafka_status(t->error, "topic " + p.record.topic), false, t->error,
                                 0});
      } else if (p.record.partition && *p.record.partition >= n) {
        report(p, DeliveryReport{errorf(Errc::invalid_argument,
                                        "partition {} of topic {}, which has {} partitions",
                                        *p.record.partition, p.record.topic, n),
                                 false, ErrorCode::unknown_topic_or_partition, 0});
      } else {
        int32_t partition = p.record.partition
                                ? *p.record.partition
                                : partitioner_.partition(p.record.topic, p.record.key, n);
        enqueue(std::move(p), partition);
      }
    }
  }
}

void Producer::enqueue(Pending p, int32_t partition) {
  TopicPartition tp{p.record.topic, partition};
  PartitionState& ps = partitions_[tp];
  BatchPtr batch = ps.queue.empty() || ps.queue.back()->sealed ? nullptr : ps.queue.back();
  if (batch && batch->bytes + p.bytes > config_.batch_size) {
    partitioner_.on_batch_closed(tp.topic, tp.partition);
    batch = nullptr;
  }
  if (!batch) {
    batch = std::make_shared<Batch>();
    batch->id = next_batch_id_++;
    batch->tp = tp;
    batch->created = env_.clock.now();
    batch->deadline = p.deadline;
    ps.queue.push_back(batch);
  }
  batch->bytes += p.bytes;
  batch->records.push_back(std::move(p));
  if (batch->bytes >= config_.batch_size) partitioner_.on_batch_closed(tp.topic, tp.partition);
}

void Producer::expire(MonoTime now) {
  std::vector<std::pair<BatchPtr, Status>> failed;
  for (auto& [tp, ps] : partitions_) {
    std::vector<BatchPtr> expired;
    for (auto& b : ps.queue) {
      if (b->deadline <= now) expired.push_back(b);
    }
    for (auto& b : expired) {
      auto it = std::find(ps.queue.begin(), ps.queue.end(), b);
      if (it == ps.queue.end()) continue;  // already failed with an earlier one
      ps.queue.erase(it);
      failed.emplace_back(
          b,
          errorf(Errc::timed_out, "{}: {} records expired after {} (delivery.timeout.ms)",
                 tp.to_string(), b->records.size(), format_duration(config_.delivery_timeout_ms)));
      if (!config_.enable_idempotence || !b->sealed) continue;
      for (auto& later : poison(ps, *b)) {
        failed.emplace_back(
            later, errorf(Errc::cancelled, "{}: an earlier batch expired", tp.to_string()));
      }
    }
  }
  std::sort(failed.begin(), failed.end(),
            [](auto& a, auto& b) { return a.first->id < b.first->id; });
  std::weak_ptr<bool> alive = alive_;
  for (auto& [b, why] : failed) {
    if (alive.expired()) return;
    complete_batch(b, why, ErrorCode::none, b->maybe_written);
  }
  for (auto& [topic, records] : waiting_) {
    while (!records.empty() && records.front().deadline <= now) {
      Pending p = std::move(records.front());
      records.pop_front();
      report(p, DeliveryReport{errorf(Errc::timed_out, "topic {} not present in metadata after {}",
                                      topic, format_duration(config_.delivery_timeout_ms)),
                               false, ErrorCode::none, 0});
      if (alive.expired()) return;
    }
  }
}

void Producer::complete_batch(const BatchPtr& b, const Result<int64_t>& base_offset,
                              ErrorCode error, bool indefinite) {
  const char* outcome = base_offset.ok() ? "ok" : indefinite ? "unknown" : "fail";
  env_.tracer.event("producer.batch", TraceFields()
                                          .add("topic", b->tp.topic)
                                          .add("partition", b->tp.partition)
                                          .add("records", b->records.size())
                                          .add("sequence", b->base_sequence)
                                          .add("attempts", b->attempts)
                                          .add("outcome", outcome)
                                          .add("offset", base_offset.ok() ? *base_offset : -1));
  std::weak_ptr<bool> alive = alive_;
  for (size_t i = 0; i < b->records.size(); ++i) {
    if (alive.expired()) return;
    Pending& p = b->records[i];
    if (base_offset.ok()) {
      int64_t offset = *base_offset >= 0 ? *base_offset + static_cast<int64_t>(i) : -1;
      report(p, DeliveryReport{RecordMetadata{b->tp.topic, b->tp.partition, offset,
                                              p.record.timestamp_ms.value_or(-1)},
                               false, ErrorCode::none, b->attempts});
    } else {
      report(p, DeliveryReport{base_offset.status(), indefinite, error, b->attempts});
    }
  }
}

void Producer::report(Pending& p, DeliveryReport r) {
  incomplete_.erase(p.id);
  if (p.bytes > 0) {
    buffered_bytes_ -= p.bytes;
    --buffered_records_;
  }
  if (r.result.ok()) {
    ++counters_.records_acked;
  } else {
    ++counters_.records_failed;
  }
  if (p.callback) p.callback(r);
}

void Producer::check_flushes() {
  uint64_t oldest = incomplete_.empty() ? UINT64_MAX : *incomplete_.begin();
  std::vector<std::function<void()>> ready;
  for (auto it = flushes_.begin(); it != flushes_.end();) {
    if (it->first < oldest) {
      ready.push_back(std::move(it->second));
      it = flushes_.erase(it);
    } else {
      ++it;
    }
  }
  std::weak_ptr<bool> alive = alive_;
  for (auto& done : ready) {
    if (alive.expired()) return;
    done();
  }
}

}  // namespace gregor::client
