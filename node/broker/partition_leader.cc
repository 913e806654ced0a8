// Partition as leader: followers' state, the high watermark, acks=all, and ISR proposals.
#include <fmt/format.h>

#include <algorithm>

#include "base/guarded.h"
#include "node/broker/partition.h"
#include "node/log/record_batch.h"

namespace gregor::broker {

using kafka::ErrorCode;

namespace {
bool contains(const std::vector<int32_t>& v, int32_t x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}
}  // namespace

void Partition::become_leader(const PartitionImage& p) {
  bool new_epoch = !leader_ || p.leader_epoch != leader_epoch_;
  if (leader_ && new_epoch) complete_acks(/*all=*/true, ErrorCode::not_leader_or_follower);
  leader_ = true;
  set_roles(p);
  if (new_epoch) {
    // Kafka's Partition.makeLeader: the epoch starts at the log end now, and every follower's
    // log end is unknown until it fetches; ISR members count as caught up from now (they get
    // replica.lag.time.max.ms to show up).
    log_->assign_leader_epoch(leader_epoch_);
    followers_.clear();
    MonoTime now = log_->env().clock.now();
    for (int32_t r : replicas_) {
      if (r == broker_id_) continue;
      FollowerState f;
      if (contains(isr_, r)) f.last_caught_up = now;
      followers_[r] = f;
    }
  }
  maybe_advance_high_watermark();
  trace_state();
}

void Partition::update_isr(const PartitionImage& p) {
  if (p.partition_epoch <= partition_epoch_) return;
  partition_epoch_ = p.partition_epoch;
  replicas_ = p.replicas;
  isr_ = p.isr;
  pending_isr_.reset();
  for (int32_t r : replicas_) {
    if (r != broker_id_ && !followers_.contains(r)) followers_[r] = FollowerState{};
  }
  std::erase_if(followers_, [this](const auto& f) { return !contains(replicas_, f.first); });
  // Below min.insync.replicas the high watermark stays put (KIP-966), so no pending acks=all
  // append would complete before its timeout: they are answered now, as Kafka answers an
  // append the high watermark covers once the ISR is too small.
  if (high_watermark_held()) {
    complete_acks(/*all=*/true, ErrorCode::not_enough_replicas_after_append);
  }
  maybe_advance_high_watermark();
  trace_state();
}

std::vector<int32_t> Partition::maximal_isr() const {
  std::vector<int32_t> isr = isr_;
  if (pending_isr_) {
    for (int32_t r : *pending_isr_)
      if (!contains(isr, r)) isr.push_back(r);
  }
  return isr;
}

bool Partition::high_watermark_held() const {
  // Kafka's effective min ISR: a topic with fewer replicas than min.insync.replicas still moves.
  size_t min_isr =
      std::min(static_cast<size_t>(std::max(config_.min_insync_replicas, 1)), replicas_.size());
  return hw_needs_min_isr_ && isr_.size() < min_isr;
}

void Partition::maybe_advance_high_watermark() {
  if (!leader_) return;
  if (high_watermark_held()) return;
  int64_t hw = log_->log_end_offset();
  for (int32_t r : maximal_isr()) {
    if (r == broker_id_) continue;
    auto it = followers_.find(r);
    // A member whose log end is unknown holds the high watermark where it is.
    if (it == followers_.end() || it->second.log_end_offset < 0) return;
    hw = std::min(hw, it->second.log_end_offset);
  }
  if (hw > log_->high_watermark()) raise_high_watermark(hw);
}

void Partition::raise_high_watermark(int64_t hw) {
  log_->set_high_watermark(hw);
  notify(take_readable_bytes(hw), DataEvent::high_watermark);
  if (leader_) complete_acks(/*all=*/false, ErrorCode::none);
  trace_state();
}

// Completes the acks=all appends the high watermark covers (all: every pending one, with
// `error`). Kafka's DelayedProduce: covered, but the ISR is below min.insync.replicas now ->
// NOT_ENOUGH_REPLICAS_AFTER_APPEND.
void Partition::complete_acks(bool all, ErrorCode error) {
  std::vector<PendingAck> ready;
  int64_t hw = log_->high_watermark();
  for (auto it = pending_acks_.begin(); it != pending_acks_.end();) {
    if (all || it->second.required_offset <= hw) {
      ready.push_back(std::move(it->second));
      it = pending_acks_.erase(it);
    } else {
      ++it;
    }
  }
  bool enough = static_cast<int32_t>(isr_.size()) >= config_.min_insync_replicas;
  for (PendingAck& ack : ready) {
    log_->env().clock.cancel(ack.timer);
    AppendOutcome out = ack.outcome;
    if (all) {
      out.error = error;
      if (error == ErrorCode::not_enough_replicas_after_append) {
        out.message = fmt::format("ISR {} < min.insync.replicas {}: the high watermark is held",
                                  isr_.size(), config_.min_insync_replicas);
      }
    } else if (!enough) {
      out.error = ErrorCode::not_enough_replicas_after_append;
      out.message = fmt::format("ISR {} < min.insync.replicas {} once replicated", isr_.size(),
                                config_.min_insync_replicas);
    }
    ack.done(out);
  }
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
  log_->append(
      std::move(records), leader_epoch_,
      guarded(alive_, [this](Result<log::AppendInfo> info, std::optional<log::AppendError>) {
        if (info.ok()) note_appended(info->last_offset + 1, 0);
        notify(0, DataEvent::appended);
        maybe_advance_high_watermark();
        trace_state();
      }));
}

void Partition::append(Bytes records, int16_t acks, Duration timeout,
                       std::function<void(AppendOutcome)> done) {
  if (!leader_) {
    return done(AppendOutcome{ErrorCode::not_leader_or_follower, "not the leader"});
  }
  if (acks == -1 && static_cast<int32_t>(isr_.size()) < config_.min_insync_replicas) {
    return done(AppendOutcome{
        ErrorCode::not_enough_replicas,
        fmt::format("ISR {} < min.insync.replicas {}", isr_.size(), config_.min_insync_replicas)});
  }
  if (bugs_.ack_before_append) return append_acking_first(std::move(records), std::move(done));
  size_t bytes = records.size();
  int32_t epoch = leader_epoch_;
  log_->append(
      std::move(records), leader_epoch_,
      guarded(alive_, [this, bytes, acks, timeout, epoch, done](Result<log::AppendInfo> info,
                                                                std::optional<log::AppendError> e) {
        AppendOutcome out;
        out.log_start_offset = log_->log_start_offset();
        if (e) {
          out.error = e->code;
          out.message = e->status.message();
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
        if (!info->duplicate) {
          note_appended(info->last_offset + 1, bytes);
          notify(bytes, DataEvent::appended);
        }
        maybe_advance_high_watermark();
        trace_state();
        if (acks != -1) return done(out);
        if (!leader_ || leader_epoch_ != epoch) {
          out.error = ErrorCode::not_leader_or_follower;
          return done(out);
        }
        // acks=all: once the high watermark passes the batch's last offset. A duplicate is
        // answered the same way: its original may not be replicated yet.
        int64_t required = info->last_offset + 1;
        if (log_->high_watermark() >= required) {
          bool enough = static_cast<int32_t>(isr_.size()) >= config_.min_insync_replicas;
          if (!enough) out.error = ErrorCode::not_enough_replicas_after_append;
          return done(out);
        }
        uint64_t id = next_ack_id_++;
        PendingAck ack{required, out, done, kNoTimer};
        ack.timer = log_->env().clock.schedule(timeout, guarded(alive_, [this, id] {
                                                 auto it = pending_acks_.find(id);
                                                 if (it == pending_acks_.end()) return;
                                                 PendingAck a = std::move(it->second);
                                                 pending_acks_.erase(it);
                                                 a.outcome.error = ErrorCode::request_timed_out;
                                                 a.done(a.outcome);
                                               }));
        pending_acks_.emplace(id, std::move(ack));
      }));
}

ErrorCode Partition::record_follower_fetch(int32_t replica, int64_t broker_epoch,
                                           int64_t fetch_offset) {
  if (!leader_) return ErrorCode::not_leader_or_follower;
  auto it = followers_.find(replica);
  if (it == followers_.end()) return ErrorCode::not_leader_or_follower;
  FollowerState& f = it->second;
  MonoTime now = log_->env().clock.now();
  int64_t leader_end = log_->log_end_offset();
  // Past this log's end the follower holds records this leader does not (it has not truncated
  // where they diverge): it must not count as holding anything here.
  if (fetch_offset > leader_end) return ErrorCode::offset_out_of_range;
  // Kafka's ReplicaState.updateFetchState: caught up now if at the log end; caught up as of the
  // previous fetch if it has reached what the log end was then.
  if (fetch_offset >= leader_end) {
    f.last_caught_up = now;
  } else if (f.leader_end_at_last_fetch >= 0 && fetch_offset >= f.leader_end_at_last_fetch) {
    f.last_caught_up = std::max(f.last_caught_up, f.last_fetch);
  }
  f.log_end_offset = std::min(fetch_offset, leader_end);
  f.broker_epoch = broker_epoch;
  f.last_fetch = now;
  f.leader_end_at_last_fetch = leader_end;
  maybe_advance_high_watermark();
  return ErrorCode::none;
}

std::optional<std::vector<int32_t>> Partition::isr_change_wanted(const ReplicationConfig& config,
                                                                 std::optional<int32_t> fetched) {
  MonoTime now = log_->env().clock.now();
  if (!leader_ || pending_isr_ || now < isr_retry_after_) return std::nullopt;
  std::vector<int32_t> next;
  bool changed = false;
  for (int32_t r : isr_) {
    auto it = followers_.find(r);
    bool lagging = r != broker_id_ && (it == followers_.end() ||
                                       now - it->second.last_caught_up > config.lag_time_max);
    if (lagging) {
      changed = true;
    } else {
      next.push_back(r);
    }
  }
  if (changed) return next;
  // Expansion (Kafka's isFollowerInSync): at the high watermark, and (KAFKA-7128) at the start
  // of this leader's epoch: before that the follower may still hold a diverged tail.
  // Until the epoch's start is in the cache (its assignment is queued behind appends), the log
  // end stands in: no follower is below it by mistake.
  int64_t epoch_start = log_->epochs().start_offset(leader_epoch_).value_or(log_->log_end_offset());
  for (int32_t r : replicas_) {
    if (r != fetched || r == broker_id_ || contains(isr_, r)) continue;
    auto it = followers_.find(r);
    if (it == followers_.end() || it->second.log_end_offset < 0) continue;
    int64_t leo = it->second.log_end_offset;
    bool at_epoch_start = config.isr_expand_without_epoch_start || leo >= epoch_start;
    if (leo >= log_->high_watermark() && at_epoch_start) {
      next.push_back(r);
      return next;
    }
  }
  return std::nullopt;
}

void Partition::isr_change_sent(std::vector<int32_t> isr) {
  pending_isr_ = std::move(isr);
}

void Partition::isr_change_answered(std::optional<PartitionImage> result) {
  pending_isr_.reset();
  if (!result) isr_retry_after_ = log_->env().clock.now() + kIsrChangeRetryBackoff;
  if (result && result->leader_epoch == leader_epoch_) update_isr(*result);
  maybe_advance_high_watermark();
}

}  // namespace gregor::broker
