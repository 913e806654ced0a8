#include "node/broker/partition.h"

#include "base/fault_points.h"
#include "node/log/record_batch.h"

namespace gregor::broker {

using kafka::ErrorCode;

kafka::ErrorCode error_for(const Status& status) {
  switch (status.code()) {
    case Errc::out_of_range:
      return ErrorCode::offset_out_of_range;
    case Errc::corrupt:
      return ErrorCode::corrupt_message;
    case Errc::io_error:
    case Errc::no_space:
      return ErrorCode::kafka_storage_error;
    case Errc::limit_exceeded:
      return ErrorCode::record_list_too_large;
    default:
      return ErrorCode::unknown_server_error;
  }
}

Partition::Partition(std::string topic, int32_t index, std::unique_ptr<log::Log> log,
                     TopicConfig config, int32_t broker_id)
    : topic_(std::move(topic)),
      index_(index),
      log_(std::move(log)),
      config_(std::move(config)),
      broker_id_(broker_id),
      isr_{broker_id} {}

void Partition::become_leader(int32_t epoch, std::vector<int32_t> isr) {
  leader_ = true;
  leader_epoch_ = epoch;
  isr_ = std::move(isr);
  // One replica: everything in the log is on every ISR member.
  log_->set_high_watermark(log_->log_end_offset());
  trace_state();
}

void Partition::stop_leading(int32_t epoch) {
  leader_ = false;
  leader_epoch_ = epoch;
  trace_state();
}

void Partition::trace_state() {
  std::array<int64_t, 4> now{leader_epoch_, log_->log_end_offset(), log_->high_watermark(),
                             log_->log_start_offset()};
  if (now == traced_ && isr_ == traced_isr_ && leader_ == traced_leader_) return;
  traced_ = now;
  traced_leader_ = leader_;
  traced_isr_ = isr_;
  std::string isr = "[";
  for (size_t i = 0; i < isr_.size(); ++i) isr += (i ? "," : "") + std::to_string(isr_[i]);
  isr += "]";
  log_->env().tracer.event("replica.state", TraceFields()
                                                .add("topic", topic_)
                                                .add("partition", index_)
                                                .add("role", leader_ ? "leader" : "follower")
                                                .add("epoch", leader_epoch_)
                                                .add("leo", now[1])
                                                .add("hw", now[2])
                                                .add("log_start", now[3])
                                                .add_raw("isr", isr));
}

// The planted bug: answer with the offset the batch should get, then append whenever. The
// prediction is exact while appends succeed (the log assigns offsets in submission order), so
// only a crash, a failed write or a failed fsync between the answer and durability shows it.
void Partition::append_acking_first(Bytes records, std::function<void(AppendOutcome)> done) {
  auto header = log::parse_batch_header(records);
  int64_t count = header.ok() ? header->last_offset_delta + 1 : 1;
  AppendOutcome out;
  out.base_offset = std::max(predicted_end_offset_, log_->log_end_offset());
  out.log_start_offset = log_->log_start_offset();
  predicted_end_offset_ = out.base_offset + count;
  done(out);
  log_->append(std::move(records), leader_epoch_,
               [this](Result<log::AppendInfo>, std::optional<log::AppendError>) {
                 if (log_->high_watermark() < log_->log_end_offset()) {
                   log_->set_high_watermark(log_->log_end_offset());
                   if (on_new_data_) on_new_data_(*this, 0);
                 }
                 trace_state();
               });
}

void Partition::append(Bytes records, int16_t acks, std::function<void(AppendOutcome)> done) {
  if (acks == -1 && static_cast<int32_t>(isr_.size()) < config_.min_insync_replicas) {
    return done(AppendOutcome{
        ErrorCode::not_enough_replicas,
        fmt::format("ISR {} < min.insync.replicas {}", isr_.size(), config_.min_insync_replicas)});
  }
  if (bugs_.ack_before_append) return append_acking_first(std::move(records), std::move(done));
  size_t bytes = records.size();
  log_->append(
      std::move(records), leader_epoch_,
      [this, bytes, done](Result<log::AppendInfo> info, std::optional<log::AppendError> e) {
        AppendOutcome out;
        out.log_start_offset = log_->log_start_offset();
        if (e) {
          out.error = e->code;
          out.message = e->status.message();
          // A duplicate sequence still reports where the batch is, as Kafka does.
          return done(out);
        }
        if (!info.ok()) {
          out.error = error_for(info.status());
          out.message = info.status().message();
          trace_state();
          return done(out);
        }
        out.base_offset = info->first_offset;
        out.log_append_time = info->log_append_time;
        // The ISR is this broker alone: the batch is on all of it.
        if (log_->high_watermark() < log_->log_end_offset()) {
          log_->set_high_watermark(log_->log_end_offset());
          if (on_new_data_) on_new_data_(*this, bytes);
        }
        trace_state();
        done(out);
      });
}

void Partition::read(int64_t offset, size_t max_bytes, std::function<void(FetchOutcome)> done) {
  trace_state();  // retention may have moved the log start since the last change traced
  int64_t hw = log_->high_watermark();
  auto outcome = [this, hw](ErrorCode error) {
    FetchOutcome out;
    out.error = error;
    out.high_watermark = hw;
    out.last_stable_offset = hw;  // no transactions: LSO = high watermark
    out.log_start_offset = log_->log_start_offset();
    return out;
  };
  if (offset < log_->log_start_offset() || offset > hw) {
    GREGOR_PROBE(log_->env(), partition_fetch_out_of_range);
    return done(outcome(ErrorCode::offset_out_of_range));
  }
  if (offset == hw) return done(outcome(ErrorCode::none));
  log_->read(offset, max_bytes, [outcome, hw, done](Result<log::ReadResult> r) {
    if (!r.ok()) return done(outcome(error_for(r.status())));
    FetchOutcome out = outcome(ErrorCode::none);
    // Cut at the high watermark: batches are whole, and every batch is either below it or not.
    log::BatchIterator it(r->batches);
    size_t keep = 0;
    while (auto batch = it.next()) {
      auto h = log::parse_batch_header(*batch);
      if (!h.ok() || h->base_offset >= hw) break;
      keep = it.consumed();
    }
    out.records = std::move(r->batches);
    out.records.resize(keep);
    done(std::move(out));
  });
}

}  // namespace gregor::broker
