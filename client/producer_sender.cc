// The producer's sender: which batches are ready, draining them into Produce requests per
// leader, the answers, retries in sequence order, and producer ids for idempotence.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "client/producer.h"

namespace gregor::client {

using kafka::ErrorCode;
namespace k = kafka;

namespace {
// Broker errors after which the batch may be in the log although the answer is an error.
bool maybe_written_on(ErrorCode e) {
  return e == ErrorCode::request_timed_out || e == ErrorCode::unknown_server_error ||
         e == ErrorCode::not_enough_replicas_after_append || e == ErrorCode::kafka_storage_error;
}
}  // namespace

void Producer::pump() {
  std::weak_ptr<bool> alive = alive_;
  MonoTime now = env_.clock.now();
  resolve_waiting();
  if (alive.expired()) return;
  expire(now);
  if (alive.expired()) return;
  if (config_.enable_idempotence) {
    // Partitions take the producer's current id once nothing of theirs is in flight.
    for (auto& [tp, ps] : partitions_) {
      bool adopt = ps.producer_id < 0 || (ps.needs_new_pid && pid_generation_ > ps.pid_generation);
      if (!adopt || !ps.in_flight.empty() || producer_id_ < 0) continue;
      ps.producer_id = producer_id_;
      ps.producer_epoch = producer_epoch_;
      ps.pid_generation = pid_generation_;
      ps.next_sequence = 0;
      ps.needs_new_pid = false;
    }
    maybe_init_producer_id();
  }
  std::set<int32_t> nodes;
  for (auto& [tp, ps] : partitions_) {
    if (ps.queue.empty()) continue;
    if (auto leader = metadata_.leader(tp)) {
      nodes.insert(*leader);
    } else {
      metadata_.request_refresh();
    }
  }
  for (int32_t node : nodes) {
    auto conn = metadata_.ready_connection(node);
    if (!conn) continue;
    while (requests_in_flight_[node] < config_.max_in_flight_requests_per_connection &&
           drain_node(node, conn, now)) {
    }
  }
  check_flushes();
  if (alive.expired()) return;
  schedule_wake(now);
}

bool Producer::batch_ready(const PartitionState& ps, const Batch& b, MonoTime now) const {
  if (now < ps.backoff_until) return false;
  if (b.sealed) return ps.in_flight.empty();  // a retry: everything before it has settled
  if (config_.enable_idempotence && (ps.producer_id < 0 || ps.needs_new_pid)) return false;
  // BUGGIFY: sending a batch before it is full or has lingered only makes batches smaller and
  // requests more frequent (more of them in flight, more interleavings with retries).
  return b.bytes >= config_.batch_size || ps.queue.size() > 1 ||
         now >= b.created + config_.linger_ms || !flushes_.empty() || closed_ ||
         GREGOR_BUGGIFY(env_, producer_send_early);
}

bool Producer::drain_node(int32_t node, const std::shared_ptr<KafkaClientConnection>& conn,
                          MonoTime now) {
  std::vector<BatchPtr> batches;
  std::vector<std::pair<BatchPtr, Status>> unbuildable;
  size_t request_bytes = 0;
  for (auto& [tp, ps] : partitions_) {
    if (ps.queue.empty() || !batch_ready(ps, *ps.queue.front(), now)) continue;
    if (metadata_.leader(tp) != node) continue;
    BatchPtr b = ps.queue.front();
    if (!batches.empty() && request_bytes + b->bytes > config_.max_request_size) continue;
    ps.queue.pop_front();
    if (!b->sealed) {
      partitioner_.on_batch_closed(tp.topic, tp.partition);
      Status sealed = seal(ps, *b);
      if (!sealed.ok()) {
        unbuildable.emplace_back(b, sealed);
        continue;
      }
    }
    request_bytes += b->built.size();
    batches.push_back(b);
  }
  if (!unbuildable.empty()) {
    // Reported from a fresh event: the caller is iterating.
    env_.clock.schedule(Duration::zero(), guarded(alive_, [this, unbuildable] {
                          std::weak_ptr<bool> alive = alive_;
                          for (auto& [b, why] : unbuildable) {
                            if (alive.expired()) return;
                            complete_batch(b, why, ErrorCode::none, false);
                          }
                        }));
  }
  if (batches.empty()) return !unbuildable.empty();
  k::ProduceRequest req;
  req.acks = config_.acks;
  req.timeout_ms = static_cast<int32_t>(to_ms(config_.request_timeout_ms));
  for (auto& b : batches) {
    PartitionState& ps = partitions_[b->tp];
    ps.in_flight.push_back(b);
    ++b->attempts;
    ++counters_.batches_sent;
    if (req.topic_data.empty() || req.topic_data.back().name != b->tp.topic) {
      req.topic_data.push_back({b->tp.topic, {}});
    }
    req.topic_data.back().partition_data.push_back({b->tp.partition, b->built});
  }
  ++requests_in_flight_[node];
  ++counters_.requests;
  conn->send(req, guarded(alive_, [this, node, batches](Result<k::ProduceResponse> resp) {
               on_response(node, batches, std::move(resp));
             }));
  return true;
}

Status Producer::seal(PartitionState& ps, Batch& b) {
  log::BatchBuilder::Options options;
  options.compression = config_.compression_type;
  if (config_.enable_idempotence) {
    options.producer_id = ps.producer_id;
    options.producer_epoch = ps.producer_epoch;
    options.base_sequence = ps.next_sequence;
  }
  log::BatchBuilder builder(options);
  for (Pending& p : b.records) {
    std::optional<ByteView> key, value;
    if (p.record.key) key = ByteView(*p.record.key);
    if (p.record.value) value = ByteView(*p.record.value);
    builder.add(p.record.timestamp_ms.value_or(-1), key, value, p.record.headers);
  }
  auto built = builder.build();
  if (!built.ok()) return built.status();
  b.built = std::move(built).value();
  b.sealed = true;
  if (config_.enable_idempotence) {
    b.producer_id = ps.producer_id;
    b.producer_epoch = ps.producer_epoch;
    b.pid_generation = ps.pid_generation;
    b.base_sequence = ps.next_sequence;
    // Kafka's sequences wrap from INT32_MAX to 0.
    int64_t next = int64_t{ps.next_sequence} + static_cast<int64_t>(b.records.size());
    ps.next_sequence = static_cast<int32_t>(next > INT32_MAX ? next - INT32_MAX - 1 : next);
  }
  return Status::Ok();
}

void Producer::remove_in_flight(PartitionState& ps, const Batch& b) {
  auto it = std::find_if(ps.in_flight.begin(), ps.in_flight.end(),
                         [&](const BatchPtr& q) { return q.get() == &b; });
  if (it != ps.in_flight.end()) ps.in_flight.erase(it);
}

void Producer::on_response(int32_t node, std::vector<BatchPtr> batches,
                           Result<k::ProduceResponse> resp) {
  --requests_in_flight_[node];
  std::weak_ptr<bool> alive = alive_;
  for (auto& b : batches) {
    if (alive.expired()) return;
    PartitionState& ps = partitions_[b->tp];
    remove_in_flight(ps, *b);
    if (!resp.ok()) {
      // The connection's errors: invalid_argument means the request could not be encoded or
      // the broker speaks no Produce version we know (never sent, never will be);
      // limit_exceeded that it was not sent; anything else that it may have been written.
      Errc code = resp.code();
      on_batch_error(b, ErrorCode::none, resp.status(), code != Errc::limit_exceeded,
                     /*fatal=*/code == Errc::invalid_argument);
      continue;
    }
    if (config_.acks == 0) {
      complete_batch(b, int64_t{-1}, ErrorCode::none, false);
      continue;
    }
    const k::ProduceResponse::PartitionProduceResponse* answer = nullptr;
    for (auto& t : resp->responses) {
      if (t.name != b->tp.topic) continue;
      for (auto& p : t.partition_responses) {
        if (p.index == b->tp.partition) answer = &p;
      }
    }
    if (!answer) {
      on_batch_error(
          b, ErrorCode::unknown_server_error,
          errorf(Errc::corrupt, "no answer for {} in the Produce response", b->tp.to_string()),
          true);
      continue;
    }
    auto e = static_cast<ErrorCode>(answer->error_code);
    if (e == ErrorCode::none || e == ErrorCode::duplicate_sequence_number) {
      complete_batch(b, answer->base_offset, ErrorCode::none, false);
      continue;
    }
    on_batch_error(
        b, e,
        kafka_status(e, fmt::format("produce to {} (attempt {})", b->tp.to_string(), b->attempts)),
        maybe_written_on(e));
  }
  if (!alive.expired()) schedule_pump();
}

bool Producer::earlier_batch_pending(const PartitionState& ps, const Batch& b) const {
  for (auto& q : ps.in_flight) {
    if (q->id < b.id && q->pid_generation == b.pid_generation) return true;
  }
  for (auto& q : ps.queue) {
    if (q->sealed && q->id < b.id && q->pid_generation == b.pid_generation) return true;
  }
  return false;
}

void Producer::on_batch_error(const BatchPtr& b, ErrorCode error, const Status& why,
                              bool maybe_written, bool fatal) {
  b->maybe_written |= maybe_written;
  PartitionState& ps = partitions_[b->tp];
  MonoTime now = env_.clock.now();
  if (error == ErrorCode::none || needs_metadata_refresh(error)) metadata_.request_refresh();
  bool retriable = error == ErrorCode::none || is_retriable(error);
  // Resend under a new producer id: the broker refused the batch's numbering, and no attempt of
  // it can have been written, so numbering it afresh cannot duplicate it.
  bool renumber = false;
  if (config_.enable_idempotence) {
    if (error == ErrorCode::out_of_order_sequence_number ||
        error == ErrorCode::unknown_producer_id) {
      // Refused only because a predecessor is missing, if one is itself being retried.
      retriable = earlier_batch_pending(ps, *b);
      renumber = !retriable && !b->maybe_written;
    }
    if (ps.needs_new_pid && b->pid_generation == ps.pid_generation) {
      retriable = false;  // its numbering is abandoned
      renumber = !b->maybe_written;
    }
  }
  if (fatal) retriable = renumber = false;
  bool expired = now >= b->deadline;
  bool exhausted = b->attempts > config_.retries;
  if ((retriable || renumber) && !expired && !exhausted) {
    spdlog::debug("producer {}: {} {} batch {}: {}", config_.client_id,
                  retriable ? "retrying" : "renumbering", b->tp.to_string(), b->id, why);
    ++counters_.batches_retried;
    if (b->maybe_written) GREGOR_PROBE(env_, producer_retry_maybe_written);
    std::vector<BatchPtr> lost;
    if (renumber) {
      lost = poison(ps, *b);
      unseal(*b);
    }
    requeue(ps, b);
    ps.backoff_until = now + config_.retry_backoff_ms;
    fail_abandoned(lost, why);
    return;
  }
  Status final = why;
  if ((retriable || renumber) && expired) {
    final = errorf(Errc::timed_out, "{} (delivery.timeout.ms {} passed)", why.message(),
                   format_duration(config_.delivery_timeout_ms));
  }
  std::vector<BatchPtr> lost, lost_after;
  if (config_.enable_idempotence && b->base_sequence >= 0) lost = poison(ps, *b);
  // Reports go out in send order: abandoned batches older than b first.
  auto later = std::find_if(lost.begin(), lost.end(), [&](auto& q) { return q->id > b->id; });
  lost_after.assign(later, lost.end());
  lost.erase(later, lost.end());
  std::weak_ptr<bool> alive = alive_;
  fail_abandoned(lost, final);
  if (alive.expired()) return;
  complete_batch(b, final, error, b->maybe_written);
  if (!alive.expired()) fail_abandoned(lost_after, final);
}

void Producer::fail_abandoned(const std::vector<BatchPtr>& lost, const Status& why) {
  std::weak_ptr<bool> alive = alive_;
  for (auto& q : lost) {
    if (alive.expired()) return;
    complete_batch(q,
                   errorf(Errc::cancelled,
                          "{}: the partition's numbering broke ({}) and this batch "
                          "may be in the log already",
                          q->tp.to_string(), why.message()),
                   ErrorCode::none, q->maybe_written);
  }
}

void Producer::unseal(Batch& b) {
  b.sealed = false;
  b.built.clear();
  b.producer_id = -1;
  b.producer_epoch = -1;
  b.base_sequence = -1;
}

void Producer::requeue(PartitionState& ps, const BatchPtr& b) {
  // Sealed retries go before every unsealed batch; everything else keeps batch (send) order.
  auto at = std::find_if(ps.queue.begin(), ps.queue.end(), [&](const BatchPtr& q) {
    return (b->sealed && !q->sealed) || q->id > b->id;
  });
  ps.queue.insert(at, b);
}

std::vector<Producer::BatchPtr> Producer::poison(PartitionState& ps, const Batch& failed) {
  std::vector<BatchPtr> lost;
  bool newly = !ps.needs_new_pid && failed.pid_generation == ps.pid_generation;
  if (failed.pid_generation == ps.pid_generation) ps.needs_new_pid = true;
  size_t renumbered = 0;
  for (auto it = ps.queue.begin(); it != ps.queue.end();) {
    Batch& q = **it;
    if (!q.sealed || q.pid_generation != failed.pid_generation) {
      ++it;
    } else if (q.maybe_written) {
      lost.push_back(*it);
      it = ps.queue.erase(it);
    } else {
      unseal(q);
      ++renumbered;
      ++it;
    }
  }
  if (newly || !lost.empty()) {
    GREGOR_PROBE(env_, producer_renumbered);
    spdlog::info(
        "producer {}: {} lost its numbering at sequence {}: new producer id; {} waiting "
        "batches renumbered, {} failed",
        config_.client_id, failed.tp.to_string(), failed.base_sequence, renumbered, lost.size());
  }
  return lost;
}

void Producer::maybe_init_producer_id() {
  if (init_pid_in_flight_ || env_.clock.now() < init_pid_after_) return;
  bool needed = producer_id_ < 0 && (!partitions_.empty() || !waiting_.empty());
  for (auto& [tp, ps] : partitions_) {
    needed |= ps.needs_new_pid && ps.in_flight.empty() && ps.pid_generation >= pid_generation_;
  }
  if (!needed) return;
  init_pid_in_flight_ = true;
  auto retry_later = [this](const Status& why) {
    spdlog::debug("producer {}: InitProducerId: {}", config_.client_id, why);
    init_pid_in_flight_ = false;
    init_pid_after_ = env_.clock.now() + config_.retry_backoff_ms;
    schedule_pump();
  };
  metadata_.any_connection(
      guarded(alive_, [this, retry_later](Result<MetadataClient::ConnectionPtr> conn) {
        if (!conn.ok()) return retry_later(conn.status());
        k::InitProducerIdRequest req;
        req.transactional_id.reset();
        req.transaction_timeout_ms = 60000;
        (*conn)->send(
            req, guarded(alive_, [this, retry_later](Result<k::InitProducerIdResponse> r) {
              if (!r.ok()) return retry_later(r.status());
              if (r->error_code != 0) {
                auto e = static_cast<ErrorCode>(r->error_code);
                return retry_later(kafka_status(e, "InitProducerId"));
              }
              init_pid_in_flight_ = false;
              producer_id_ = r->producer_id;
              producer_epoch_ = r->producer_epoch;
              ++pid_generation_;
              ++counters_.producer_ids;
              env_.tracer.event(
                  "producer.id",
                  TraceFields().add("producer_id", producer_id_).add("epoch", producer_epoch_));
              schedule_pump();
            }));
      }));
}

void Producer::schedule_wake(MonoTime now) {
  std::optional<MonoTime> at;
  auto consider = [&](MonoTime t) {
    if (t > now && (!at || t < *at)) at = t;
  };
  for (auto& [tp, ps] : partitions_) {
    if (ps.queue.empty()) continue;
    consider(ps.backoff_until);
    const Batch& head = *ps.queue.front();
    if (!head.sealed) consider(head.created + config_.linger_ms);
    for (auto& b : ps.queue) consider(b->deadline);
  }
  for (auto& [topic, records] : waiting_) {
    if (!records.empty()) consider(records.front().deadline);
  }
  if (config_.enable_idempotence && !init_pid_in_flight_) consider(init_pid_after_);
  if (!at) return;
  if (wake_timer_ != kNoTimer && wake_at_ <= *at && wake_at_ > now) return;
  env_.clock.cancel(wake_timer_);
  wake_at_ = *at;
  wake_timer_ = env_.clock.schedule(*at - now, guarded(alive_, [this] {
    wake_timer_ = kNoTimer;
    pump();
  }));
}

}  // namespace gregor::client
