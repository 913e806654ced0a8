#include "node/broker/replica_fetcher.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <vector>

#include "base/assert.h"
#include "base/guarded.h"
#include "base/steps.h"

namespace gregor::broker {

namespace k = kafka;
using kafka::ErrorCode;

TruncationStep truncation_for(int32_t leader_epoch, int64_t leader_end_offset,
                              const log::LeaderEpochCache& local, int64_t log_end,
                              int64_t high_watermark) {
  // The leader knows nothing of that epoch or earlier ones: fall back to the high watermark.
  if (leader_end_offset == log::kUndefinedEpochOffset) return {high_watermark, true};
  // A leader answering without an epoch (before KIP-279): its end offset is all there is.
  if (leader_epoch == log::kUndefinedEpoch) return {std::min(leader_end_offset, log_end), true};
  auto mine = local.end_offset_for(leader_epoch, log_end);
  if (mine.epoch == log::kUndefinedEpoch) {
    // The follower did not track epochs that far back: the leader's offset is safe (its epoch is
    // below the one asked for).
    return {std::min(leader_end_offset, log_end), true};
  }
  if (mine.epoch != leader_epoch) {
    // The follower never had the leader's epoch: cut to the end of its largest epoch below it
    // and ask again (KIP-279).
    return {std::min(mine.end_offset, log_end), false};
  }
  return {std::min({mine.end_offset, leader_end_offset, log_end}), true};
}

ReplicaFetcher::ReplicaFetcher(Env& env, int32_t node_id, int32_t leader_id, net::Address leader,
                               const ReplicationConfig& config, ReplicaManager& replicas,
                               std::function<int64_t()> broker_epoch)
    : env_(env),
      node_id_(node_id),
      leader_id_(leader_id),
      config_(config),
      replicas_(replicas),
      broker_epoch_(std::move(broker_epoch)) {
  channel_config_.client_id = fmt::format("replica-fetcher-{}-{}", node_id, leader_id);
  // A fetch waits at the leader up to fetch_wait_max before it is answered.
  channel_config_.request_timeout = config.fetch_wait_max + seconds(5);
  channel_ = std::make_unique<rpc::RpcChannel>(env, std::move(leader), channel_config_);
}

ReplicaFetcher::~ReplicaFetcher() {
  *alive_ = false;
  env_.clock.cancel(backoff_timer_);
  channel_->close();
}

bool ReplicaFetcher::follows(const std::string& topic, int32_t index, kafka::Uuid topic_id,
                             int32_t leader_epoch) const {
  auto it = partitions_.find({topic, index});
  return it != partitions_.end() && it->second.topic_id == topic_id &&
         it->second.leader_epoch == leader_epoch;
}

void ReplicaFetcher::add(const std::string& topic, int32_t index, kafka::Uuid topic_id,
                         int32_t leader_epoch) {
  Followed f;
  f.topic_id = topic_id;
  f.leader_epoch = leader_epoch;
  f.generation = next_generation_++;
  f.phase = first_phase();
  partitions_[{topic, index}] = f;
  kick();
}

void ReplicaFetcher::retarget(const net::Address& address) {
  channel_->close();  // no callback of it runs any more: nothing is in flight from here on
  channel_ = std::make_unique<rpc::RpcChannel>(env_, address, channel_config_);
  in_flight_ = false;
  for (auto& [key, f] : partitions_) {
    f.phase = first_phase();
    f.generation = next_generation_++;
  }
  kick();
}

void ReplicaFetcher::remove(const std::string& topic, int32_t index) {
  partitions_.erase({topic, index});
}

void ReplicaFetcher::kick() {
  if (kick_scheduled_ || in_flight_ || backoff_timer_ != kNoTimer) return;
  kick_scheduled_ = true;
  env_.clock.schedule(Duration::zero(), guarded(alive_, [this] {
                        kick_scheduled_ = false;
                        step();
                      }));
}

void ReplicaFetcher::step() {
  if (in_flight_ || backoff_timer_ != kNoTimer || partitions_.empty()) return;
  bool truncating = std::any_of(partitions_.begin(), partitions_.end(),
                                [](const auto& p) { return p.second.phase == Phase::truncating; });
  if (truncating) return send_truncation();
  send_fetch();
}

void ReplicaFetcher::backoff() {
  env_.clock.cancel(backoff_timer_);
  backoff_timer_ = env_.clock.schedule(config_.fetch_backoff, guarded(alive_, [this] {
                                         backoff_timer_ = kNoTimer;
                                         step();
                                       }));
}

void ReplicaFetcher::finish_round(bool failed) {
  in_flight_ = false;
  if (failed) return backoff();
  step();
}

// --- Truncation ------------------------------------------------------------------------------

void ReplicaFetcher::send_truncation() {
  // Before KIP-101: truncate to the high watermark and fetch from there, asking nothing.
  if (config_.truncate_to_high_watermark) {
    std::vector<Step> steps;
    for (auto& [key, f] : partitions_) {
      if (f.phase != Phase::truncating) continue;
      f.phase = Phase::fetching;
      steps.push_back([this, alive = std::weak_ptr<bool>(alive_), key](Next next) {
        if (alive.expired()) return next(Status::Ok());  // steps outlive a fetcher that is gone
        Partition* p = replicas_.partition(key.first, key.second);
        if (!p) return next(Status::Ok());
        env_.tracer.event("replica.truncate", TraceFields()
                                                  .add("topic", key.first)
                                                  .add("partition", key.second)
                                                  .add("leader", leader_id_)
                                                  .add("to", p->high_watermark())
                                                  .add("leo", p->log().log_end_offset())
                                                  .add("why", "high watermark (legacy)"));
        p->truncate_to(p->high_watermark(), next);
      });
    }
    in_flight_ = true;
    return run_steps(std::move(steps), guarded(alive_, [this](const Status& s) {
                       if (!s.ok()) spdlog::warn("replica truncation: {}", s);
                       finish_round(!s.ok());
                     }));
  }
  k::OffsetForLeaderEpochRequest req;
  req.replica_id = node_id_;
  std::map<Key, uint64_t> asked;
  // A followed partition no longer hosted (its topic deleted) is followed no more.
  std::erase_if(partitions_, [this](const auto& entry) {
    return replicas_.partition(entry.first.first, entry.first.second) == nullptr;
  });
  for (auto& [key, f] : partitions_) {
    if (f.phase != Phase::truncating) continue;
    Partition* p = replicas_.partition(key.first, key.second);
    GREGOR_ASSERT(p != nullptr, "erased above");
    auto latest = p->log().epochs().latest_epoch();
    if (!latest) {
      // No epoch history (an empty or new replica): nothing can have diverged above the high
      // watermark that the leader would keep; Kafka truncates such a replica to it.
      f.phase = Phase::fetching;
      continue;
    }
    if (req.topics.empty() || req.topics.back().topic != key.first) {
      req.topics.emplace_back();
      req.topics.back().topic = key.first;
    }
    auto& part = req.topics.back().partitions.emplace_back();
    part.partition = key.second;
    part.current_leader_epoch = f.leader_epoch;
    part.leader_epoch = *latest;
    asked[key] = f.generation;
  }
  if (asked.empty()) return step();
  in_flight_ = true;
  channel_->send(
      req, k::kReplicaOffsetForLeaderEpochVersion,
      guarded(alive_, [this, asked](Result<k::OffsetForLeaderEpochResponse> r) {
        if (!r.ok()) {
          spdlog::debug("broker {}: OffsetsForLeaderEpoch to {}: {}", node_id_, leader_id_,
                        r.status());
          return finish_round(true);
        }
        std::vector<Step> steps;
        bool failed = false;
        for (const auto& t : r->topics) {
          for (const auto& answer : t.partitions) {
            Key key{t.topic, answer.partition};
            auto it = partitions_.find(key);
            auto gen = asked.find(key);
            if (it == partitions_.end() || gen == asked.end() ||
                it->second.generation != gen->second) {
              continue;  // no longer followed, or followed anew since
            }
            if (answer.error_code != 0) {
              failed = true;
              continue;
            }
            Partition* p = replicas_.partition(key.first, key.second);
            if (!p) continue;
            TruncationStep cut =
                truncation_for(answer.leader_epoch, answer.end_offset, p->log().epochs(),
                               p->log().log_end_offset(), p->high_watermark());
            if (cut.complete) it->second.phase = Phase::fetching;
            env_.tracer.event("replica.truncate", TraceFields()
                                                      .add("topic", key.first)
                                                      .add("partition", key.second)
                                                      .add("leader", leader_id_)
                                                      .add("leader_epoch", answer.leader_epoch)
                                                      .add("leader_end", answer.end_offset)
                                                      .add("to", cut.offset)
                                                      .add("leo", p->log().log_end_offset()));
            steps.push_back([this, alive = std::weak_ptr<bool>(alive_), key, cut](Next next) {
              if (alive.expired()) return next(Status::Ok());
              Partition* part = replicas_.partition(key.first, key.second);
              if (!part) return next(Status::Ok());
              part->truncate_to(cut.offset, next);
            });
          }
        }
        run_steps(std::move(steps), guarded(alive_, [this, failed](const Status& s) {
                    if (!s.ok()) spdlog::warn("broker {}: truncation: {}", node_id_, s);
                    finish_round(failed || !s.ok());
                  }));
      }));
}

// --- Fetch -------------------------------------------------------------------------------------

void ReplicaFetcher::send_fetch() {
  k::FetchRequest req;
  req.replica_id = -1;  // v15 carries it in replica_state
  req.replica_state.replica_id = node_id_;
  req.replica_state.replica_epoch = broker_epoch_();
  req.max_wait_ms = static_cast<int32_t>(to_ms(config_.fetch_wait_max));
  req.min_bytes = 1;
  req.max_bytes = config_.fetch_response_max_bytes;
  std::erase_if(partitions_, [this](const auto& entry) {
    return replicas_.partition(entry.first.first, entry.first.second) == nullptr;
  });
  std::map<Key, std::pair<uint64_t, int64_t>> asked;  // generation, fetch offset
  std::map<kafka::Uuid, Key> names;
  for (auto& [key, f] : partitions_) {
    Partition* p = replicas_.partition(key.first, key.second);
    if (!p) continue;
    if (req.topics.empty() || req.topics.back().topic_id != f.topic_id) {
      req.topics.emplace_back();
      req.topics.back().topic = key.first;
      req.topics.back().topic_id = f.topic_id;
    }
    auto& part = req.topics.back().partitions.emplace_back();
    part.partition = key.second;
    part.current_leader_epoch = f.leader_epoch;
    part.fetch_offset = p->log().log_end_offset();
    // KIP-320: the epoch of our last record; the leader answers a diverging epoch if its log
    // does not hold ours up to fetch_offset in that epoch.
    if (config_.truncate_on_fetch()) {
      part.last_fetched_epoch = p->log().epochs().latest_epoch().value_or(-1);
    }
    part.log_start_offset = p->log().log_start_offset();
    part.partition_max_bytes = config_.fetch_max_bytes;
    asked[key] = {f.generation, part.fetch_offset};
  }
  if (asked.empty()) return;
  in_flight_ = true;
  channel_->send(
      req, k::kReplicaFetchVersion, guarded(alive_, [this, asked](Result<k::FetchResponse> r) {
        if (!r.ok() || r->error_code != 0) {
          spdlog::debug("broker {}: replica fetch from {}: {}", node_id_, leader_id_,
                        r.ok() ? std::string(k::error_name(static_cast<ErrorCode>(r->error_code)))
                               : r.status().message());
          return finish_round(true);
        }
        std::vector<Step> steps;
        auto failed = std::make_shared<bool>(false);
        for (auto& t : r->responses) {
          for (auto& answer : t.partitions) {
            // v13+ names topics by id: find the name among what was asked.
            const Key* key = nullptr;
            for (const auto& [k2, f] : partitions_) {
              if (f.topic_id == t.topic_id && k2.second == answer.partition_index) key = &k2;
            }
            if (!key) continue;
            auto it = partitions_.find(*key);
            auto gen = asked.find(*key);
            if (gen == asked.end() || it->second.generation != gen->second.first) continue;
            ErrorCode e = static_cast<ErrorCode>(answer.error_code);
            if (e == ErrorCode::offset_out_of_range) {
              // The leader's log ends below ours (an unclean election) or starts above it:
              // find the divergence again.
              it->second.phase = Phase::truncating;
              continue;
            }
            if (e != ErrorCode::none) {
              *failed = true;
              continue;
            }
            int64_t hw = answer.high_watermark;
            int64_t asked_offset = gen->second.second;
            if (answer.diverging_epoch.epoch >= 0 || answer.diverging_epoch.end_offset >= 0) {
              steps.push_back(truncate_on_fetch(*key, gen->second.first, asked_offset, hw,
                                                answer.diverging_epoch));
              continue;
            }
            Bytes records = answer.records ? std::move(*answer.records) : Bytes{};
            Key k3 = *key;
            uint64_t generation = gen->second.first;
            steps.push_back([this, alive = std::weak_ptr<bool>(alive_), k3, generation,
                             asked_offset, hw, records = std::move(records)](Next next) mutable {
              if (alive.expired()) return next(Status::Ok());
              // Appended only onto the log end the fetch asked from (a truncation or another
              // round may have moved it since).
              auto it = partitions_.find(k3);
              Partition* p = replicas_.partition(k3.first, k3.second);
              if (it == partitions_.end() || it->second.generation != generation || !p ||
                  p->log().log_end_offset() != asked_offset) {
                return next(Status::Ok());
              }
              if (records.empty()) {
                p->apply_leader_high_watermark(hw);
                return next(Status::Ok());
              }
              p->append_from_leader(
                  std::move(records), hw,
                  guarded(alive_, [this, k3, generation, next](const Status& s) {
                    if (s.code() == Errc::out_of_range) {
                      auto it = partitions_.find(k3);
                      if (it != partitions_.end() && it->second.generation == generation) {
                        it->second.phase = Phase::truncating;
                      }
                      return next(Status::Ok());
                    }
                    next(s);
                  }));
            });
          }
        }
        run_steps(std::move(steps), guarded(alive_, [this, failed](const Status& s) {
                    if (!s.ok()) spdlog::warn("broker {}: replica append: {}", node_id_, s);
                    finish_round(*failed || !s.ok());
                  }));
      }));
}

// KIP-320: the leader's Fetch answer says where its log ends for our last epoch. We truncate
// there (Kafka's truncateOnFetchResponse, the same decision as for an OffsetsForLeaderEpoch
// answer), and only then apply the leader's high watermark (KAFKA-14704): before the cut our
// log end still holds the diverging tail, and min(leader's mark, log end) could cover it.
Step ReplicaFetcher::truncate_on_fetch(const Key& key, uint64_t generation, int64_t asked_offset,
                                       int64_t leader_hw, kafka::FetchResponse::EpochEndOffset d) {
  return [this, alive = std::weak_ptr<bool>(alive_), key, generation, asked_offset, leader_hw,
          d](Next next) {
    if (alive.expired()) return next(Status::Ok());
    auto it = partitions_.find(key);
    Partition* p = replicas_.partition(key.first, key.second);
    if (it == partitions_.end() || it->second.generation != generation || !p ||
        p->log().log_end_offset() != asked_offset) {
      return next(Status::Ok());
    }
    TruncationStep cut = truncation_for(d.epoch, d.end_offset, p->log().epochs(),
                                        p->log().log_end_offset(), p->high_watermark());
    if (!cut.complete) it->second.phase = Phase::truncating;  // ask again, KIP-279
    env_.tracer.event("replica.truncate", TraceFields()
                                              .add("topic", key.first)
                                              .add("partition", key.second)
                                              .add("leader", leader_id_)
                                              .add("leader_epoch", d.epoch)
                                              .add("leader_end", d.end_offset)
                                              .add("to", cut.offset)
                                              .add("leo", p->log().log_end_offset())
                                              .add("via", "fetch"));
    bool hw_first = config_.high_watermark_before_truncation;
    if (hw_first) p->apply_leader_high_watermark(leader_hw);  // the KAFKA-14704 bug
    p->truncate_to(cut.offset,
                   guarded(alive_, [this, key, hw_first, leader_hw, next](const Status& s) {
                     Partition* part = replicas_.partition(key.first, key.second);
                     if (s.ok() && part && !hw_first) part->apply_leader_high_watermark(leader_hw);
                     next(s);
                   }));
  };
}

// --- The fetchers ------------------------------------------------------------------------------

void ReplicaFetchers::follow(const std::string& topic, int32_t index, kafka::Uuid topic_id,
                             int32_t leader, const net::Address& address, int32_t leader_epoch) {
  auto it = fetchers_.find(leader);
  // The leader moved (a restart on another port): its partitions start over there.
  if (it != fetchers_.end() && it->second->leader_address() != address) {
    it->second->retarget(address);
  }
  if (it != fetchers_.end() && it->second->follows(topic, index, topic_id, leader_epoch)) return;
  for (auto& [id, f] : fetchers_) {
    if (id != leader) f->remove(topic, index);
  }
  std::erase_if(fetchers_, [leader](const auto& entry) {
    return entry.first != leader && entry.second->empty();
  });
  if (it == fetchers_.end()) {
    it = fetchers_
             .emplace(leader, std::make_unique<ReplicaFetcher>(env_, node_id_, leader, address,
                                                               config_, replicas_, broker_epoch_))
             .first;
  }
  it->second->add(topic, index, topic_id, leader_epoch);
}

void ReplicaFetchers::unfollow(const std::string& topic, int32_t index) {
  for (auto& [id, f] : fetchers_) f->remove(topic, index);
  // A fetcher left with nothing to follow goes (and its connection with it).
  std::erase_if(fetchers_, [](const auto& entry) { return entry.second->empty(); });
}

}  // namespace gregor::broker
