// The consumer's assignment, positions, ListOffsets and poll(). Fetching and decoding live in
// consumer_fetch.cc.
#include "client/consumer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "base/guarded.h"

namespace gregor::client {

using kafka::ErrorCode;
namespace k = kafka;

Status validate(const ConsumerConfig& c) {
  auto bootstrap = parse_bootstrap_servers(c.bootstrap_servers);
  if (!bootstrap.ok()) return bootstrap.status();
  auto bad = [](std::string what) { return Status(Errc::invalid_argument, std::move(what)); };
  if (c.fetch_min_bytes < 0) return bad("fetch.min.bytes must be >= 0");
  if (c.fetch_max_wait_ms < Duration::zero()) return bad("fetch.max.wait.ms must be >= 0");
  if (c.fetch_max_bytes <= 0) return bad("fetch.max.bytes must be positive");
  if (c.max_partition_fetch_bytes <= 0) return bad("max.partition.fetch.bytes must be positive");
  if (c.max_poll_records == 0) return bad("max.poll.records must be positive");
  if (c.request_timeout_ms <= Duration::zero()) return bad("request.timeout.ms must be positive");
  return Status::Ok();
}

struct Consumer::OffsetsLookup {
  int64_t timestamp = kLatestTimestamp;
  std::set<TopicPartition> remaining;
  std::map<TopicPartition, int64_t> results;
  MonoTime deadline{};
  OffsetsFn done;
  Status last_error;
  size_t outstanding = 0;  // ListOffsets requests in flight
  bool finished = false;
  void finish(Result<std::map<TopicPartition, int64_t>> r) {
    if (finished) return;
    finished = true;
    done(std::move(r));
  }
};

Consumer::Consumer(Env& env, ConsumerConfig config)
    : env_(env), config_(std::move(config)), metadata_(env, config_) {
  Status valid = validate(config_);
  GREGOR_ASSERT(valid.ok(), "Consumer: {}", valid.to_string());
  metadata_.set_on_change([this] { schedule_pump(); });
}

Consumer::~Consumer() {
  close();
}

void Consumer::close() {
  alive_ = std::make_shared<bool>(true);  // drops every callback registered so far
  env_.clock.cancel(poll_timer_);
  env_.clock.cancel(wake_timer_);
  poll_timer_ = wake_timer_ = kNoTimer;
  pump_scheduled_ = false;
  poll_ = nullptr;
  metadata_.close();
  fetch_in_flight_.clear();
  for (auto& [tp, ps] : partitions_) {
    ps.fetch_in_flight = false;
    ps.reset_in_flight = false;
  }
}

void Consumer::assign(std::vector<TopicPartition> partitions) {
  std::map<TopicPartition, PartitionState> next;
  std::vector<std::string> topics;
  for (auto& tp : partitions) {
    auto it = partitions_.find(tp);
    if (it != partitions_.end()) {
      next[tp] = std::move(it->second);  // answers under way still apply
    } else {
      next[tp].epoch = ++epochs_;  // answers for an earlier assignment of tp do not
    }
    topics.push_back(tp.topic);
  }
  partitions_ = std::move(next);
  metadata_.track(topics);
  schedule_pump();
}

std::vector<TopicPartition> Consumer::assignment() const {
  std::vector<TopicPartition> out;
  for (auto& [tp, ps] : partitions_) out.push_back(tp);
  return out;
}

void Consumer::set_position(const TopicPartition& tp, int64_t offset) {
  PartitionState& ps = partitions_[tp];
  ps.epoch = ++epochs_;
  ps.position = offset;
  ps.fetch_position = offset;
  ps.buffered.clear();
  ps.pending_reset.reset();
  ps.reset_in_flight = false;
  ps.error.reset();
  ps.stopped = false;
  ps.backoff_until = {};
}

Status Consumer::seek(const TopicPartition& tp, int64_t offset) {
  if (!partitions_.contains(tp)) {
    return errorf(Errc::invalid_argument, "seek: {} is not assigned", tp.to_string());
  }
  if (offset < 0) return errorf(Errc::invalid_argument, "seek: offset {} < 0", offset);
  set_position(tp, offset);
  schedule_pump();
  return Status::Ok();
}

void Consumer::seek_to_beginning(const std::vector<TopicPartition>& partitions) {
  reset_positions(partitions, OffsetReset::earliest);
}

void Consumer::seek_to_end(const std::vector<TopicPartition>& partitions) {
  reset_positions(partitions, OffsetReset::latest);
}

// Forgets the positions of `partitions` (all assigned ones when empty); the next pump looks them
// up with ListOffsets at `reset`.
void Consumer::reset_positions(const std::vector<TopicPartition>& partitions, OffsetReset reset) {
  for (auto& [tp, ps] : partitions_) {
    if (!partitions.empty() &&
        std::find(partitions.begin(), partitions.end(), tp) == partitions.end())
      continue;
    set_position(tp, 0);
    ps.position.reset();
    ps.fetch_position.reset();
    ps.pending_reset = reset;
  }
  schedule_pump();
}

std::optional<int64_t> Consumer::position(const TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? std::nullopt : it->second.position;
}

std::optional<int64_t> Consumer::high_watermark(const TopicPartition& tp) const {
  auto it = partitions_.find(tp);
  return it == partitions_.end() ? std::nullopt : it->second.high_watermark;
}

void Consumer::poll(Duration timeout, PollFn done) {
  if (poll_) {
    env_.clock.schedule(Duration::zero(), guarded(alive_, [done] {
                          done(error(Errc::invalid_argument, "a poll() is already waiting"));
                        }));
    return;
  }
  poll_ = std::move(done);
  poll_timer_ = env_.clock.schedule(timeout, guarded(alive_, [this] {
                                      poll_timer_ = kNoTimer;
                                      finish_poll(std::vector<ConsumerRecord>{});
                                    }));
  schedule_pump();
}

void Consumer::schedule_pump() {
  if (pump_scheduled_) return;
  pump_scheduled_ = true;
  env_.clock.schedule(Duration::zero(), guarded(alive_, [this] {
                        pump_scheduled_ = false;
                        pump();
                      }));
}

void Consumer::pump() {
  std::weak_ptr<bool> alive = alive_;
  MonoTime now = env_.clock.now();
  resolve_positions(now);
  try_complete_poll();
  if (alive.expired()) return;
  if (poll_) send_fetches(now);
  schedule_wake(now);
}

void Consumer::resolve_positions(MonoTime now) {
  std::map<OffsetReset, std::vector<TopicPartition>> resets;
  for (auto& [tp, ps] : partitions_) {
    if (!ps.position && !ps.pending_reset && !ps.stopped) {
      if (config_.auto_offset_reset == OffsetReset::none) {
        ps.error =
            errorf(Errc::not_found, "no position for {} and auto.offset.reset is none: seek first",
                   tp.to_string());
        ps.stopped = true;
        continue;
      }
      ps.pending_reset = config_.auto_offset_reset;
    }
    if (!ps.pending_reset || ps.reset_in_flight || now < ps.backoff_until) continue;
    ps.reset_in_flight = true;
    resets[*ps.pending_reset].push_back(tp);
  }
  for (auto& [kind, tps] : resets) {
    std::map<TopicPartition, uint64_t> epochs;
    for (auto& tp : tps) epochs[tp] = partitions_[tp].epoch;
    int64_t timestamp = kind == OffsetReset::earliest ? kEarliestTimestamp : kLatestTimestamp;
    list_offsets(tps, timestamp, [this, epochs](Result<std::map<TopicPartition, int64_t>> r) {
      for (auto& [tp, epoch] : epochs) {
        auto it = partitions_.find(tp);
        if (it == partitions_.end() || it->second.epoch != epoch) continue;
        PartitionState& ps = it->second;
        ps.reset_in_flight = false;
        if (!r.ok() || !r->contains(tp)) {
          spdlog::debug("consumer {}: resetting {}: {}", config_.client_id, tp.to_string(),
                        r.ok() ? "no answer" : r.status().to_string());
          ps.backoff_until = env_.clock.now() + config_.retry_backoff_ms;
          continue;
        }
        ++counters_.offset_resets;
        set_position(tp, r->at(tp));
      }
      schedule_pump();
    });
  }
}

void Consumer::try_complete_poll() {
  if (!poll_) return;
  for (auto& [tp, ps] : partitions_) {
    if (ps.error) {
      Status s = *ps.error;
      ps.error.reset();
      return finish_poll(s);
    }
  }
  std::vector<ConsumerRecord> out;
  for (auto& [tp, ps] : partitions_) {
    while (!ps.buffered.empty() && out.size() < config_.max_poll_records) {
      out.push_back(std::move(ps.buffered.front()));
      ps.buffered.pop_front();
      ps.position = out.back().offset + 1;
    }
    // Drained: the position moves past whatever the batches skipped (gaps, control batches).
    if (ps.buffered.empty() && ps.fetch_position) ps.position = ps.fetch_position;
  }
  if (out.empty()) return;
  counters_.records += out.size();
  finish_poll(std::move(out));
}

void Consumer::finish_poll(Result<std::vector<ConsumerRecord>> result) {
  env_.clock.cancel(poll_timer_);
  poll_timer_ = kNoTimer;
  PollFn done = std::move(poll_);
  poll_ = nullptr;
  if (done) done(std::move(result));
}

// --- ListOffsets -------------------------------------------------------------------------------

void Consumer::list_offsets(std::vector<TopicPartition> partitions, int64_t timestamp,
                            OffsetsFn done) {
  auto lookup = std::make_shared<OffsetsLookup>();
  lookup->timestamp = timestamp;
  lookup->remaining.insert(partitions.begin(), partitions.end());
  lookup->deadline = env_.clock.now() + config_.default_api_timeout_ms;
  lookup->done = std::move(done);
  std::vector<std::string> topics;
  for (auto& tp : partitions) topics.push_back(tp.topic);
  metadata_.track(topics);
  ++counters_.list_offsets;
  env_.clock.schedule(Duration::zero(),
                      guarded(alive_, [this, lookup] { lookup_offsets(lookup); }));
}

void Consumer::lookup_offsets(std::shared_ptr<OffsetsLookup> lookup) {
  if (lookup->finished) return;
  if (lookup->remaining.empty()) return lookup->finish(lookup->results);
  if (env_.clock.now() >= lookup->deadline) {
    return lookup->finish(
        errorf(Errc::timed_out, "ListOffsets did not complete within {}: {}",
               format_duration(config_.default_api_timeout_ms),
               lookup->last_error.ok() ? "no leader known" : lookup->last_error.message()));
  }
  std::map<int32_t, std::vector<TopicPartition>> by_leader;
  for (auto& tp : lookup->remaining) {
    const TopicMetadata* t = metadata_.topic(tp.topic);
    if (t && t->error != ErrorCode::none && !is_retriable(t->error)) {
      return lookup->finish(kafka_status(t->error, "topic " + tp.topic));
    }
    if (auto leader = metadata_.leader(tp)) by_leader[*leader].push_back(tp);
  }
  if (by_leader.empty()) {
    metadata_.refresh(guarded(alive_, [this, lookup](const Status& s) {
      if (!s.ok()) lookup->last_error = s;
      env_.clock.schedule(config_.retry_backoff_ms,
                          guarded(alive_, [this, lookup] { lookup_offsets(lookup); }));
    }));
    return;
  }
  for (auto& [node, tps] : by_leader) send_list_offsets(lookup, node, tps);
}

void Consumer::send_list_offsets(std::shared_ptr<OffsetsLookup> lookup, int32_t node,
                                 std::vector<TopicPartition> partitions) {
  ++lookup->outstanding;
  auto answered = [this, lookup] {
    if (--lookup->outstanding > 0 || lookup->finished) return;
    if (lookup->remaining.empty()) return lookup->finish(lookup->results);
    env_.clock.schedule(config_.retry_backoff_ms,
                        guarded(alive_, [this, lookup] { lookup_offsets(lookup); }));
  };
  k::ListOffsetsRequest req;
  req.replica_id = -1;
  req.isolation_level = static_cast<int8_t>(config_.isolation_level);
  for (auto& tp : partitions) {
    if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic});
    req.topics.back().partitions.push_back({tp.partition, lookup->timestamp, 1});
  }
  metadata_.connection_to(
      node,
      guarded(alive_, [this, lookup, req, answered](Result<MetadataClient::ConnectionPtr> conn) {
        if (!conn.ok()) {
          lookup->last_error = conn.status();
          return answered();
        }
        int16_t version = (*conn)->version(k::ApiKey::ListOffsets).value_or(0);
        (*conn)->send(
            req,
            guarded(alive_, [this, lookup, answered, version](Result<k::ListOffsetsResponse> resp) {
              if (!resp.ok()) {
                lookup->last_error = resp.status();
                return answered();
              }
              for (auto& t : resp->topics) {
                for (auto& p : t.partitions) {
                  TopicPartition tp{t.name, p.partition_index};
                  auto e = static_cast<ErrorCode>(p.error_code);
                  if (e != ErrorCode::none) {
                    lookup->last_error = kafka_status(e, "ListOffsets " + tp.to_string());
                    if (needs_metadata_refresh(e)) metadata_.request_refresh();
                    if (!is_retriable(e)) return lookup->finish(lookup->last_error);
                    continue;
                  }
                  int64_t offset =
                      version == 0
                          ? (p.old_style_offsets.empty() ? -1 : p.old_style_offsets.front())
                          : p.offset;
                  lookup->results[tp] = offset;
                  lookup->remaining.erase(tp);
                }
              }
              answered();
            }));
      }));
}

}  // namespace gregor::client
