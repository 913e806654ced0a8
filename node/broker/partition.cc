#include "node/broker/partition.h"

#include <algorithm>

#include "base/fault_points.h"
#include "base/guarded.h"
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
      replicas_{broker_id},
      isr_{broker_id} {}

Partition::~Partition() {
  *alive_ = false;
  for (auto& [id, ack] : pending_acks_) log_->env().clock.cancel(ack.timer);
}

void Partition::set_roles(const PartitionImage& p) {
  leader_epoch_ = p.leader_epoch;
  partition_epoch_ = p.partition_epoch;
  leader_id_ = p.leader;
  replicas_ = p.replicas;
  isr_ = p.isr;
  pending_isr_.reset();
}

void Partition::become_follower(const PartitionImage& p) {
  bool was_leader = leader_;
  leader_ = false;
  set_roles(p);
  followers_.clear();
  if (was_leader) complete_acks(/*all=*/true, ErrorCode::not_leader_or_follower);
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

void Partition::notify(size_t bytes, DataEvent event) {
  if (on_new_data_) on_new_data_(*this, bytes, event);
}

void Partition::note_appended(int64_t end_offset, size_t bytes) {
  if (above_hw_bytes_.size() >= kAboveHwEntriesMax) {
    auto oldest = above_hw_bytes_.front();
    above_hw_bytes_.pop_front();
    above_hw_bytes_.front().second += oldest.second;
  }
  above_hw_bytes_.emplace_back(end_offset, bytes);
}

size_t Partition::take_readable_bytes(int64_t high_watermark) {
  size_t bytes = 0;
  while (!above_hw_bytes_.empty() && above_hw_bytes_.front().first <= high_watermark) {
    bytes += above_hw_bytes_.front().second;
    above_hw_bytes_.pop_front();
  }
  return bytes;
}

// --- Reads ---------------------------------------------------------------------------------

namespace {
// Keeps the whole batches of `records` that start below `bound`.
void cut_at(ReadBuffer& records, int64_t bound) {
  log::BatchIterator it(records);
  size_t keep = 0;
  while (auto batch = it.next()) {
    auto h = log::parse_batch_header(*batch);
    if (!h.ok() || h->base_offset >= bound) break;
    keep = it.consumed();
  }
  records.resize(keep);
}
}  // namespace

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
  if (offset < log_->log_start_offset() || offset > log_->log_end_offset()) {
    GREGOR_PROBE(log_->env(), partition_fetch_out_of_range);
    return done(outcome(ErrorCode::offset_out_of_range));
  }
  // At or past the high watermark (but within the log): nothing readable yet. Kafka answers a
  // consumer here with no records, not an error: it may have read to a previous leader's high
  // watermark, which this replica has not reached yet.
  if (offset >= hw) return done(outcome(ErrorCode::none));
  log_->read(offset, max_bytes, [outcome, hw, done](Result<log::ReadResult> r) {
    if (!r.ok()) return done(outcome(error_for(r.status())));
    FetchOutcome out = outcome(ErrorCode::none);
    out.records = std::move(r->batches);
    cut_at(out.records, hw);  // every batch is either wholly below the high watermark or not
    done(std::move(out));
  });
}

void Partition::read_for_follower(int64_t offset, size_t max_bytes,
                                  std::function<void(FetchOutcome)> done) {
  int64_t hw = log_->high_watermark();
  FetchOutcome base;
  base.high_watermark = hw;
  base.last_stable_offset = hw;
  base.log_start_offset = log_->log_start_offset();
  if (offset < log_->log_start_offset() || offset > log_->log_end_offset()) {
    base.error = ErrorCode::offset_out_of_range;
    return done(base);
  }
  if (offset == log_->log_end_offset()) return done(base);
  int64_t end = log_->log_end_offset();
  log_->read(offset, max_bytes, [base, end, done](Result<log::ReadResult> r) {
    FetchOutcome out = base;
    if (!r.ok()) {
      out.error = error_for(r.status());
      return done(out);
    }
    out.records = std::move(r->batches);
    cut_at(out.records, end);
    done(std::move(out));
  });
}

// --- Follower ------------------------------------------------------------------------------

void Partition::append_from_leader(Bytes records, int64_t leader_high_watermark,
                                   std::function<void(const Status&)> done) {
  size_t bytes = records.size();
  log_->append_as_follower(
      std::move(records),
      guarded(alive_, [this, bytes, leader_high_watermark, done](Result<log::AppendInfo> info) {
        if (!info.ok()) {
          trace_state();
          return done(info.status());
        }
        if (info->first_offset >= 0) {
          note_appended(info->last_offset + 1, bytes);
          notify(bytes, DataEvent::appended);
        }
        apply_leader_high_watermark(leader_high_watermark);
        trace_state();
        done(Status::Ok());
      }));
}

void Partition::apply_leader_high_watermark(int64_t leader_high_watermark) {
  int64_t hw = std::min(leader_high_watermark, log_->log_end_offset());
  if (hw > log_->high_watermark()) raise_high_watermark(hw);
}

void Partition::truncate_to(int64_t offset, std::function<void(const Status&)> done) {
  // Even at or past the log end the log is asked: it drops an epoch entry with no records.
  std::erase_if(above_hw_bytes_, [offset](const auto& e) { return e.first > offset; });
  log_->truncate_to(offset, guarded(alive_, [this, offset, done](const Status& s) {
                      if (s.ok() && log_->high_watermark() > offset) {
                        log_->set_high_watermark(offset);
                      }
                      trace_state();
                      done(s);
                    }));
}

}  // namespace gregor::broker
