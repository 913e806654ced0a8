// The data APIs: Produce, Fetch (with delayed fetches that wait for min_bytes or max_wait_ms) and
// ListOffsets.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <set>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "base/steps.h"
#include "node/broker/kafka_apis.h"
#include "node/log/record_batch.h"

namespace gregor::broker {

using kafka::ErrorCode;
namespace k = kafka;

namespace {

// Kafka's rule since v3: exactly one batch per partition per request.
ErrorCode check_record_set(const std::optional<Bytes>& records) {
  if (!records || records->empty()) return ErrorCode::invalid_record;
  auto size = log::peek_batch_size(*records);
  if (!size) return ErrorCode::corrupt_message;
  if (*size != records->size()) return ErrorCode::invalid_record;
  return ErrorCode::none;
}
}  // namespace

// The response of one Produce, filled as its appends complete; sent when the last one does.
struct ProduceState {
  k::ProduceResponse resp;
  size_t pending = 1;  // the appends in flight, plus one for the loop that starts them
  std::function<void(k::ProduceResponse)> done;
  void finish_one() {
    if (--pending == 0) done(std::move(resp));
  }
};

void KafkaApis::on(const k::RequestHeader&, k::ProduceRequest req,
                   std::function<void(k::ProduceResponse)> done) {
  auto state = std::make_shared<ProduceState>();
  state->done = std::move(done);
  ErrorCode request_error = ErrorCode::none;
  if (req.acks != 0 && req.acks != 1 && req.acks != -1) {
    request_error = ErrorCode::invalid_required_acks;
  }
  if (req.transactional_id) {
    spdlog::info("produce with transactional id '{}': transactions are not supported",
                 *req.transactional_id);
    request_error = ErrorCode::invalid_request;
  }
  for (auto& topic : req.topic_data) {
    state->resp.responses.push_back({topic.name, {}});
    size_t t = state->resp.responses.size() - 1;
    for (auto& pd : topic.partition_data) {
      auto& slots = state->resp.responses[t].partition_responses;
      slots.push_back({pd.index, 0, -1, -1, -1});
      size_t slot = slots.size() - 1;
      Partition* partition = replicas_.partition(topic.name, pd.index);
      ErrorCode e = request_error;
      if (e == ErrorCode::none && !partition) e = ErrorCode::unknown_topic_or_partition;
      if (e == ErrorCode::none && !partition->is_leader()) e = ErrorCode::not_leader_or_follower;
      // Kafka: "Cannot append to internal topic" -- only the group coordinator writes there.
      if (e == ErrorCode::none && topic.name == kOffsetsTopic) {
        e = ErrorCode::invalid_topic_exception;
      }
      if (e == ErrorCode::none) e = check_record_set(pd.records);
      if (e != ErrorCode::none) {
        ++counters_.produce_errors;
        slots[slot].error_code = code(e);
        continue;
      }
      // Every append is submitted now, in request order, so a pipelined producer's batches reach
      // each log in the order it sent them.
      ++state->pending;
      partition->append(std::move(*pd.records), req.acks, milliseconds(std::max(0, req.timeout_ms)),
                        guarded(alive_, [this, state, t, slot, topic = topic.name,
                                         index = pd.index](AppendOutcome out) {
                          auto& r = state->resp.responses[t].partition_responses[slot];
                          r.error_code = code(out.error);
                          r.base_offset = out.base_offset;
                          r.log_append_time_ms = out.log_append_time;
                          r.log_start_offset = out.log_start_offset;
                          if (out.error == ErrorCode::none) {
                            ++counters_.produced_batches;
                          } else {
                            ++counters_.produce_errors;
                            spdlog::debug("produce to {}-{}: {} {}", topic, index,
                                          k::error_name(out.error), out.message);
                          }
                          state->finish_one();
                        }));
    }
  }
  state->finish_one();
}

// --- Fetch ---------------------------------------------------------------------------------

struct KafkaApis::DelayedFetch {
  k::RequestHeader header;
  k::FetchRequest req;
  std::function<void(k::FetchResponse)> done;
  k::FetchResponse resp;     // the last read pass
  size_t bytes_read = 0;     // records in resp
  size_t bytes_arrived = 0;  // appended to its partitions since it started waiting
  MonoTime deadline{};
  TimerId timer = kNoTimer;
  bool waiting = false;     // in delayed_
  bool final_pass = false;  // answer after this read pass whatever it finds
  std::set<std::pair<std::string, int32_t>> partitions;
  // A follower's fetch (replica id >= 0): served up to the log end, woken by appends.
  int32_t replica_id = -1;
  int64_t replica_epoch = -1;
};

void KafkaApis::on(const k::RequestHeader& h, k::FetchRequest req,
                   std::function<void(k::FetchResponse)> done) {
  ++counters_.fetches;
  if (req.session_id != 0) {
    // Gregor opens no fetch sessions (it answers session id 0: sessionless), so a client naming
    // one is confused; Kafka answers this for a session it does not know.
    k::FetchResponse resp;
    resp.error_code = code(ErrorCode::fetch_session_id_not_found);
    return done(resp);
  }
  auto fetch = std::make_shared<DelayedFetch>();
  fetch->header = h;
  fetch->done = std::move(done);
  fetch->replica_id = h.api_version >= 15 ? req.replica_state.replica_id : req.replica_id;
  fetch->replica_epoch = req.replica_state.replica_epoch;
  if (fetch->replica_id >= 0) ++counters_.follower_fetches;
  if (h.api_version >= 13) {
    // Topics are named by id (inter-broker versions only): an unknown id keeps an empty name,
    // which no partition has.
    for (auto& t : req.topics) {
      t.topic.clear();
      for (const auto& [name, topic] : controller_.image().topics) {
        if (topic.id == t.topic_id) t.topic = name;
      }
    }
  }
  int32_t wait_ms = std::clamp(req.max_wait_ms, 0, kFetchWaitMaxMs);
  fetch->deadline = env_.clock.now() + milliseconds(wait_ms);
  for (auto& t : req.topics) {
    for (auto& p : t.partitions) fetch->partitions.insert({t.topic, p.partition});
  }
  fetch->req = std::move(req);
  fetch->final_pass = wait_ms == 0 || fetch->req.min_bytes <= 0;
  read_fetch(fetch);
}

// One read pass over every partition of the request, in order, within the byte budgets.
void KafkaApis::read_fetch(std::shared_ptr<DelayedFetch> fetch) {
  fetch->resp = k::FetchResponse{};
  fetch->bytes_read = 0;
  auto budget = std::make_shared<size_t>(
      static_cast<size_t>(std::max(0, std::min(fetch->req.max_bytes, config_.fetch_max_bytes))));
  auto any_error = std::make_shared<bool>(false);
  std::vector<Step> steps;
  for (auto& t : fetch->req.topics) {
    fetch->resp.responses.push_back({t.topic, {}, t.topic_id});
    size_t ti = fetch->resp.responses.size() - 1;
    for (auto& p : t.partitions) {
      fetch->resp.responses[ti].partitions.push_back({});
      size_t pi = fetch->resp.responses[ti].partitions.size() - 1;
      steps.push_back([this, fetch, ti, pi, topic = t.topic, p, budget, any_error](Next next) {
        auto& out = fetch->resp.responses[ti].partitions[pi];
        out.partition_index = p.partition;
        out.records = Bytes{};
        Partition* partition = replicas_.partition(topic, p.partition);
        bool from_follower = fetch->replica_id >= 0;
        // KIP-392: a consumer that names its rack (v11+) may read from a follower, up to the
        // follower's high watermark. Others, and followers, read from the leader only.
        bool follower_read_ok =
            !from_follower && fetch->header.api_version >= 11 && !fetch->req.rack_id.empty();
        ErrorCode refused = ErrorCode::none;
        if (!partition) {
          refused = fetch->header.api_version >= 13 ? ErrorCode::unknown_topic_id
                                                    : ErrorCode::unknown_topic_or_partition;
        } else if (!partition->is_leader() && !follower_read_ok) {
          refused = ErrorCode::not_leader_or_follower;
        }
        if (refused != ErrorCode::none) {
          out.error_code = code(refused);
          *any_error = true;
          return next(Status::Ok());
        }
        out.high_watermark = partition->high_watermark();
        out.last_stable_offset = out.high_watermark;
        out.log_start_offset = partition->log().log_start_offset();
        if (p.current_leader_epoch >= 0 && p.current_leader_epoch != partition->leader_epoch()) {
          out.error_code = code(p.current_leader_epoch > partition->leader_epoch()
                                    ? ErrorCode::unknown_leader_epoch
                                    : ErrorCode::fenced_leader_epoch);
          *any_error = true;
          return next(Status::Ok());
        }
        // Once the response holds data, the budget is strict; the first batch always fits
        // (KIP-74: a consumer must be able to make progress past a large batch).
        size_t limit = std::min<size_t>(std::max(0, p.partition_max_bytes), *budget);
        if (limit == 0 && fetch->bytes_read > 0) return next(Status::Ok());
        auto read = [partition, from_follower](int64_t offset, size_t max_bytes,
                                               std::function<void(FetchOutcome)> then) {
          if (from_follower) return partition->read_for_follower(offset, max_bytes, then);
          partition->read(offset, max_bytes, then);
        };
        if (from_follower && fetch->header.api_version >= 12 && p.last_fetched_epoch >= 0) {
          // KIP-320: the follower's log must end in our history. If it does not, the answer is
          // where our log ends for its last epoch (as OffsetsForLeaderEpoch would say); it
          // truncates there. Its fetch offset is not its log end in our history: not recorded.
          auto end = partition->log().epochs().end_offset_for(p.last_fetched_epoch,
                                                              partition->log().log_end_offset());
          if (end.epoch == log::kUndefinedEpoch || end.end_offset == log::kUndefinedEpochOffset) {
            out.error_code = code(ErrorCode::offset_out_of_range);
            *any_error = true;
            return next(Status::Ok());
          }
          if (end.epoch < p.last_fetched_epoch || end.end_offset < p.fetch_offset) {
            out.diverging_epoch = {.epoch = end.epoch, .end_offset = end.end_offset};
            *any_error = true;  // answered at once, as Kafka does
            return next(Status::Ok());
          }
        }
        if (from_follower) {
          // The fetch offset is the follower's log end: the leader's view of it moves, and with
          // it perhaps the high watermark and the ISR.
          ErrorCode e = partition->record_follower_fetch(fetch->replica_id, fetch->replica_epoch,
                                                         p.fetch_offset);
          if (e != ErrorCode::none) {
            out.error_code = code(e);
            *any_error = true;
            return next(Status::Ok());
          }
          controller_.on_follower_fetch(*partition, fetch->replica_id);
          out.high_watermark = partition->high_watermark();
        }
        read(p.fetch_offset, std::max<size_t>(limit, 1),
             guarded(alive_, [fetch, ti, pi, budget, any_error, next](FetchOutcome r) {
               auto& out = fetch->resp.responses[ti].partitions[pi];
               out.error_code = code(r.error);
               if (r.error != ErrorCode::none) *any_error = true;
               out.high_watermark = r.high_watermark;
               out.last_stable_offset = r.last_stable_offset;
               out.log_start_offset = r.log_start_offset;
               fetch->bytes_read += r.records.size();
               *budget -= std::min(*budget, r.records.size());
               out.records = Bytes(r.records.begin(), r.records.end());
               next(Status::Ok());
             }));
      });
    }
  }
  run_steps(std::move(steps), guarded(alive_, [this, fetch, any_error](const Status&) {
              bool enough =
                  fetch->bytes_read >= static_cast<size_t>(std::max(0, fetch->req.min_bytes));
              if (delayed_.size() >= kDelayedFetchesMax)
                GREGOR_PROBE(env_, broker_delayed_fetches_full);
              // BUGGIFY: answering with less than min_bytes is what the deadline does anyway.
              enough = enough || GREGOR_BUGGIFY(env_, broker_fetch_answer_early);
              if (fetch->final_pass || enough || *any_error ||
                  env_.clock.now() >= fetch->deadline || delayed_.size() >= kDelayedFetchesMax) {
                return finish_fetch(fetch);
              }
              // Wait for data (on_new_data) or the deadline.
              ++counters_.delayed_fetches;
              fetch->waiting = true;
              fetch->bytes_arrived = 0;
              delayed_.push_back(fetch);
              fetch->timer = env_.clock.schedule(fetch->deadline - env_.clock.now(),
                                                 guarded(alive_, [this, fetch] {
                                                   fetch->timer = kNoTimer;
                                                   if (!fetch->waiting) return;
                                                   GREGOR_PROBE(env_, broker_delayed_fetch_expired);
                                                   fetch->waiting = false;
                                                   delayed_.remove(fetch);
                                                   fetch->final_pass = true;
                                                   read_fetch(fetch);
                                                 }));
            }));
}

void KafkaApis::on_new_data(Partition& partition, size_t bytes, DataEvent event) {
  std::vector<std::shared_ptr<DelayedFetch>> ready;
  for (auto& fetch : delayed_) {
    if (!fetch->partitions.contains({partition.topic(), partition.index()})) continue;
    // Followers wait for appends, consumers for what the high watermark makes readable.
    bool wanted =
        fetch->replica_id >= 0 ? event == DataEvent::appended : event == DataEvent::high_watermark;
    if (!wanted) continue;
    fetch->bytes_arrived += bytes;
    if (fetch->bytes_read + fetch->bytes_arrived >=
        static_cast<size_t>(std::max(0, fetch->req.min_bytes))) {
      ready.push_back(fetch);
    }
  }
  for (auto& fetch : ready) {
    fetch->waiting = false;
    delayed_.remove(fetch);
    env_.clock.cancel(fetch->timer);
    fetch->timer = kNoTimer;
    fetch->final_pass = true;
    read_fetch(fetch);
  }
}

void KafkaApis::finish_fetch(const std::shared_ptr<DelayedFetch>& fetch) {
  fetch->done(std::move(fetch->resp));
}

void KafkaApis::complete_delayed_fetches() {
  auto waiting = std::move(delayed_);
  delayed_.clear();
  for (auto& fetch : waiting) {
    fetch->waiting = false;
    env_.clock.cancel(fetch->timer);
    fetch->timer = kNoTimer;
    finish_fetch(fetch);
  }
}

// --- ListOffsets ---------------------------------------------------------------------------

void KafkaApis::on(const k::RequestHeader& h, k::ListOffsetsRequest req,
                   std::function<void(k::ListOffsetsResponse)> done) {
  constexpr int64_t kLatest = -1, kEarliest = -2;
  auto resp = std::make_shared<k::ListOffsetsResponse>();
  std::vector<Step> steps;
  for (auto& t : req.topics) {
    resp->topics.push_back({t.name, {}});
    size_t ti = resp->topics.size() - 1;
    for (auto& p : t.partitions) {
      resp->topics[ti].partitions.push_back({});
      size_t pi = resp->topics[ti].partitions.size() - 1;
      steps.push_back([this, resp, ti, pi, topic = t.name, p, v = h.api_version](Next next) {
        auto& out = resp->topics[ti].partitions[pi];
        out.partition_index = p.partition_index;
        auto answer = [&out, v](int64_t timestamp, int64_t offset) {
          if (v == 0) {
            out.old_style_offsets = {offset};
          } else {
            out.timestamp = timestamp;
            out.offset = offset;
          }
        };
        Partition* partition = replicas_.partition(topic, p.partition_index);
        if (!partition || !partition->is_leader()) {
          out.error_code = code(partition ? ErrorCode::not_leader_or_follower
                                          : ErrorCode::unknown_topic_or_partition);
          return next(Status::Ok());
        }
        if (p.timestamp == kLatest) {
          answer(-1, partition->high_watermark());  // LSO = HW: no transactions
          return next(Status::Ok());
        }
        if (p.timestamp == kEarliest) {
          answer(-1, partition->log().log_start_offset());
          return next(Status::Ok());
        }
        if (p.timestamp < 0) {
          out.error_code = code(ErrorCode::invalid_request);
          return next(Status::Ok());
        }
        partition->log().offset_for_timestamp(
            p.timestamp, guarded(alive_, [resp, ti, pi, v, partition,
                                          next](Result<std::optional<log::TimestampOffset>> r) {
              auto& out = resp->topics[ti].partitions[pi];
              if (!r.ok()) {
                out.error_code = code(error_for(r.status()));
              } else if (!*r || (*r)->offset >= partition->high_watermark()) {
                // No record at or after the time: Kafka answers -1 (v0: the log end).
                if (v == 0) out.old_style_offsets = {partition->high_watermark()};
              } else if (v == 0) {
                out.old_style_offsets = {(*r)->offset};
              } else {
                out.timestamp = (*r)->timestamp;
                out.offset = (*r)->offset;
              }
              next(Status::Ok());
            }));
      });
    }
  }
  run_steps(std::move(steps), [resp, done](const Status&) { done(std::move(*resp)); });
}

// --- OffsetForLeaderEpoch ---------------------------------------------------------------------

// KIP-101 / KIP-279: where the leader's log ends for an epoch: the largest epoch it holds at or
// below the one asked, and the start of the next (or its log end for its own epoch). Followers
// truncate there; consumers (KIP-320) check their position.
void KafkaApis::on(const k::RequestHeader&, k::OffsetForLeaderEpochRequest req,
                   std::function<void(k::OffsetForLeaderEpochResponse)> done) {
  k::OffsetForLeaderEpochResponse resp;
  for (const auto& t : req.topics) {
    auto& rt = resp.topics.emplace_back();
    rt.topic = t.topic;
    for (const auto& p : t.partitions) {
      auto& out = rt.partitions.emplace_back();
      out.partition = p.partition;
      Partition* partition = replicas_.partition(t.topic, p.partition);
      if (!partition) {
        out.error_code = code(ErrorCode::unknown_topic_or_partition);
      } else if (!partition->is_leader()) {
        out.error_code = code(ErrorCode::not_leader_or_follower);
      } else if (p.current_leader_epoch >= 0 &&
                 p.current_leader_epoch != partition->leader_epoch()) {
        out.error_code = code(p.current_leader_epoch > partition->leader_epoch()
                                  ? ErrorCode::unknown_leader_epoch
                                  : ErrorCode::fenced_leader_epoch);
      } else {
        auto end = partition->log().epochs().end_offset_for(p.leader_epoch,
                                                            partition->log().log_end_offset());
        out.leader_epoch = end.epoch;
        out.end_offset = end.end_offset;
        // Before KIP-279 the answer was the end offset alone (the follower could not tell
        // which epoch it belonged to).
        if (config_.replication.epoch_answer_pre_kip279) out.leader_epoch = log::kUndefinedEpoch;
      }
    }
  }
  done(std::move(resp));
}

}  // namespace gregor::broker
