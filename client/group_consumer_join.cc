// The group consumer's membership: finding the coordinator, JoinGroup, the leader's assignment,
// SyncGroup and the committed offsets of a new assignment. Heartbeats, commits and leaving live
// in group_consumer.cc.
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "client/assignor.h"
#include "client/group_consumer.h"
#include "node/kafka/consumer_protocol.h"

namespace gregor::client {

using kafka::ErrorCode;
namespace k = kafka;

// --- The coordinator ---------------------------------------------------------------------------

void GroupConsumer::with_coordinator(CoordinatorFn fn) {
  if (coordinator_ && coordinator_->ready()) return fn(coordinator_.get());
  coordinator_waiters_.push_back(std::move(fn));
  if (!coordinator_) find_coordinator();  // else its connect is under way
}

void GroupConsumer::find_coordinator() {
  if (finding_coordinator_ || find_timer_ != kNoTimer) return;
  finding_coordinator_ = true;
  ++counters_.coordinator_lookups;
  consumer_.metadata().any_connection(
      guarded(alive_, [this](Result<MetadataClient::ConnectionPtr> conn) {
        if (!conn.ok()) return retry_find_coordinator(conn.status());
        k::FindCoordinatorRequest req;
        req.key = config_.group_id;
        req.key_type = 0;  // a group
        (*conn)->send(req, guarded(alive_, [this](Result<k::FindCoordinatorResponse> resp) {
                        on_coordinator_found(std::move(resp));
                      }));
      }));
}

void GroupConsumer::retry_find_coordinator(const Status& why) {
  finding_coordinator_ = false;
  spdlog::debug("group consumer {} ({}): coordinator lookup: {}", config_.client_id,
                config_.group_id, why.to_string());
  find_timer_ = env_.clock.schedule(config_.retry_backoff_ms, guarded(alive_, [this] {
                                      find_timer_ = kNoTimer;
                                      if (!coordinator_waiters_.empty()) find_coordinator();
                                    }));
}

void GroupConsumer::on_coordinator_found(Result<k::FindCoordinatorResponse> resp) {
  if (!resp.ok()) return retry_find_coordinator(resp.status());
  auto e = static_cast<ErrorCode>(resp->error_code);
  if (e != ErrorCode::none) {
    Status why = kafka_status(e, "FindCoordinator " + config_.group_id);
    if (is_retriable(e)) return retry_find_coordinator(why);
    // GROUP_AUTHORIZATION_FAILED, INVALID_REQUEST...: no point asking again.
    finding_coordinator_ = false;
    auto waiters = std::move(coordinator_waiters_);
    coordinator_waiters_.clear();
    for (auto& w : waiters) w(why);
    return;
  }
  if (resp->port <= 0 || resp->port > 65535) {
    return retry_find_coordinator(
        errorf(Errc::corrupt, "FindCoordinator: port {} of broker {}", resp->port, resp->node_id));
  }
  net::Address address{resp->host, static_cast<uint16_t>(resp->port)};
  uint64_t epoch = ++coordinator_epoch_;
  coordinator_ = std::make_unique<KafkaClientConnection>(env_, address, connection_config_);
  coordinator_->set_on_close(guarded(alive_, [this, epoch](const Status& why) {
    if (epoch == coordinator_epoch_) mark_coordinator_unknown(why);
  }));
  coordinator_->connect(guarded(alive_, [this, epoch, node = resp->node_id](const Status& s) {
    if (epoch != coordinator_epoch_) return;
    if (!s.ok()) {
      coordinator_.reset();
      ++coordinator_epoch_;
      return retry_find_coordinator(s);
    }
    finding_coordinator_ = false;
    spdlog::debug("group consumer {} ({}): coordinator is broker {} at {}", config_.client_id,
                  config_.group_id, node, coordinator_->address().to_string());
    // A waiter may drop the coordinator (a send that fails at once): re-check it each time.
    auto waiters = std::move(coordinator_waiters_);
    coordinator_waiters_.clear();
    for (size_t i = 0; i < waiters.size(); ++i) {
      if (!coordinator_ || !coordinator_->ready()) {
        for (size_t j = i; j < waiters.size(); ++j) with_coordinator(std::move(waiters[j]));
        return;
      }
      waiters[i](coordinator_.get());
    }
  }));
}

void GroupConsumer::mark_coordinator_unknown(const Status& why) {
  if (!coordinator_) return;
  spdlog::debug("group consumer {} ({}): coordinator {} unknown: {}", config_.client_id,
                config_.group_id, coordinator_->address().to_string(), why.to_string());
  ++coordinator_epoch_;
  auto conn = std::move(coordinator_);
  conn->close();  // none of its callbacks runs now: fail what was in flight on it ourselves
  conn.reset();   // safe inside its own callbacks (connection.h: they use only locals after)
  auto in_flight = std::move(in_flight_);
  in_flight_.clear();
  for (auto& [id, fail] : in_flight) later([fail = std::move(fail), why] { fail(why); });
  if (!coordinator_waiters_.empty()) find_coordinator();
}

// --- Joining -----------------------------------------------------------------------------------

void GroupConsumer::request_rejoin(const std::string& reason, bool lost) {
  if (state_ != State::stable && state_ != State::left) return;  // joining already, or done
  spdlog::debug("group consumer {} ({}): rejoining: {}", config_.client_id, config_.group_id,
                reason);
  prepare_join(lost);
}

// Kafka's onJoinPrepare: commit (unless the generation is lost), revoke everything, join.
void GroupConsumer::prepare_join(bool lost) {
  bool was_member = state_ == State::stable;
  state_ = State::joining;
  uint64_t epoch = ++join_epoch_;
  cancel_timers();
  // Commits still in flight finish first, as with Java's commitSync (the poll thread that would
  // rejoin is blocked in it): a commit that lands after this member rejoined could land after
  // the next owner of its partitions read the committed offsets, and the group would go back.
  after_commits([this, epoch, lost, was_member] {
    if (epoch == join_epoch_) join_after_commits(epoch, lost, was_member);
  });
}

void GroupConsumer::join_after_commits(uint64_t epoch, bool lost, bool was_member) {
  auto offsets = positions();
  if (was_member && !lost && config_.enable_auto_commit && generation_ >= 0 && !offsets.empty()) {
    auto op = std::make_shared<CommitOp>();
    op->offsets = std::move(offsets);
    op->generation = generation_;
    op->member_id = member_id_;
    // The group waits for this member up to the rebalance timeout: the commit may take as long.
    op->deadline = env_.clock.now() + config_.max_poll_interval_ms;
    op->done = [this, epoch](const Status& s) {
      if (!s.ok())
        spdlog::info("group consumer {} ({}): commit before rebalance: {}", config_.client_id,
                     config_.group_id, s.to_string());
      if (epoch != join_epoch_) return;
      revoke(false);
      if (epoch == join_epoch_) send_join(epoch);
    };
    return start_commit(op);
  }
  later([this, epoch, lost, was_member] {
    if (epoch != join_epoch_) return;
    if (was_member) revoke(lost);
    if (epoch == join_epoch_) send_join(epoch);
  });
}

void GroupConsumer::revoke(bool lost) {
  std::vector<TopicPartition> revoked = std::move(assigned_);
  assigned_.clear();
  consumer_.assign({});
  if (lost && listener_.on_partitions_lost) {
    if (!revoked.empty()) listener_.on_partitions_lost(revoked);
  } else if (listener_.on_partitions_revoked) {
    listener_.on_partitions_revoked(revoked);
  }
}

void GroupConsumer::send_join(uint64_t epoch) {
  k::JoinGroupRequest req;
  req.group_id = config_.group_id;
  req.session_timeout_ms = static_cast<int32_t>(to_ms(config_.session_timeout_ms));
  req.rebalance_timeout_ms = static_cast<int32_t>(to_ms(config_.max_poll_interval_ms));
  req.member_id = member_id_;
  req.protocol_type = std::string(k::kConsumerProtocolType);
  k::ConsumerSubscription subscription;
  subscription.version = 1;
  subscription.topics = topics_;  // owned_partitions stays empty: eager rebalancing
  Bytes metadata = k::encode_subscription(subscription);
  for (const std::string& name : config_.partition_assignment_strategy)
    req.protocols.push_back({name, metadata});
  ++counters_.joins;
  Duration timeout =
      std::max(config_.request_timeout_ms, config_.max_poll_interval_ms + kJoinGroupTimeoutLapse);
  send_to_coordinator<k::JoinGroupRequest>(
      std::move(req),
      [this, epoch](Result<k::JoinGroupResponse> resp) { on_join(epoch, std::move(resp)); },
      timeout);
}

void GroupConsumer::retry_join(uint64_t epoch, const Status& why) {
  spdlog::debug("group consumer {} ({}): join again: {}", config_.client_id, config_.group_id,
                why.to_string());
  env_.clock.schedule(config_.retry_backoff_ms, guarded(alive_, [this, epoch] {
                        if (epoch == join_epoch_ && state_ == State::joining) send_join(epoch);
                      }));
}

void GroupConsumer::reset_member() {
  member_id_.clear();
  generation_ = -1;
  leader_id_.clear();
}

void GroupConsumer::fail_fatal(const Status& why) {
  spdlog::warn("group consumer {} ({}): {}", config_.client_id, config_.group_id, why.to_string());
  fatal_ = why;
  state_ = State::failed;
  ++join_epoch_;
  cancel_timers();
  consumer_.assign({});
  assigned_.clear();
}

void GroupConsumer::on_join(uint64_t epoch, Result<k::JoinGroupResponse> resp) {
  if (epoch != join_epoch_ || state_ != State::joining) return;
  if (!resp.ok()) {
    mark_coordinator_unknown(resp.status());
    return retry_join(epoch, resp.status());
  }
  auto e = static_cast<ErrorCode>(resp->error_code);
  Status why = e == ErrorCode::none ? Status::Ok() : kafka_status(e, "JoinGroup");
  switch (e) {
    case ErrorCode::none:
      break;
    case ErrorCode::member_id_required:
      // KIP-394 (v4+): the broker hands out the id; join again with it at once.
      member_id_ = resp->member_id;
      return send_join(epoch);
    case ErrorCode::unknown_member_id:
    case ErrorCode::illegal_generation:
      reset_member();
      return retry_join(epoch, why);
    case ErrorCode::coordinator_load_in_progress:
    case ErrorCode::rebalance_in_progress:
      return retry_join(epoch, why);
    case ErrorCode::not_coordinator:
    case ErrorCode::coordinator_not_available:
      mark_coordinator_unknown(why);
      return retry_join(epoch, why);
    default:
      return fail_fatal(why);
  }
  generation_ = resp->generation_id;
  member_id_ = resp->member_id;
  leader_id_ = resp->leader;
  protocol_ = resp->protocol_name;
  spdlog::debug("group consumer {} ({}): joined generation {} as {}{} ({})", config_.client_id,
                config_.group_id, generation_, member_id_, is_leader() ? ", the leader" : "",
                protocol_);
  if (is_leader()) return lead(epoch, std::move(resp->members));
  send_sync(epoch, {});
}

// The leader's part: every member's subscription, the metadata of all their topics, the
// assignor the coordinator chose.
void GroupConsumer::lead(uint64_t epoch,
                         std::vector<k::JoinGroupResponse::JoinGroupResponseMember> members) {
  if (!is_known_assignor(protocol_)) {
    return fail_fatal(errorf(Errc::invalid_argument,
                             "JoinGroup: the coordinator chose '{}', "
                             "which this consumer does not offer",
                             protocol_));
  }
  GroupSubscriptions subscriptions;
  std::vector<std::string> all_topics;
  for (auto& m : members) {
    auto sub = k::decode_subscription(m.metadata);
    if (!sub.ok()) {
      // Kafka's leader would fail the rebalance; assigning the member nothing keeps the group
      // consuming, and its own decoder will tell it.
      spdlog::warn("group consumer {} ({}): member {}: {}", config_.client_id, config_.group_id,
                   m.member_id, sub.status().to_string());
      subscriptions[m.member_id] = {};
      continue;
    }
    all_topics.insert(all_topics.end(), sub->topics.begin(), sub->topics.end());
    subscriptions[m.member_id] = std::move(sub->topics);
  }
  consumer_.metadata().track(all_topics);
  consumer_.metadata().refresh(guarded(alive_, [this, epoch, subscriptions, all_topics,
                                                members = std::move(members)](const Status& s) {
    if (epoch != join_epoch_ || state_ != State::joining) return;
    if (!s.ok()) {
      // Without metadata the assignment would leave partitions unowned: ask again.
      spdlog::debug("group consumer {} ({}): leader's metadata refresh: {}", config_.client_id,
                    config_.group_id, s.to_string());
      env_.clock.schedule(config_.retry_backoff_ms, guarded(alive_, [this, epoch, members] {
                            if (epoch == join_epoch_ && state_ == State::joining)
                              lead(epoch, members);
                          }));
      return;
    }
    std::map<std::string, int32_t> partitions_per_topic;
    for (const std::string& t : all_topics) {
      const TopicMetadata* md = consumer_.metadata().topic(t);
      if (!md || md->error != ErrorCode::none || md->partitions.empty()) continue;
      partitions_per_topic[t] = static_cast<int32_t>(md->partitions.size());
    }
    auto assignment = assign_with(protocol_, partitions_per_topic, subscriptions);
    GREGOR_ASSERT(assignment.has_value(), "assignor {} checked above", protocol_);
    std::vector<k::SyncGroupRequest::SyncGroupRequestAssignment> out;
    for (auto& [member, tps] : *assignment) {
      k::ConsumerAssignment a;
      a.version = 1;
      for (const TopicPartition& tp : tps) {  // sorted: topics come grouped
        if (a.partitions.empty() || a.partitions.back().topic != tp.topic)
          a.partitions.push_back({tp.topic, {}});
        a.partitions.back().partitions.push_back(tp.partition);
      }
      out.push_back({member, k::encode_assignment(a)});
    }
    send_sync(epoch, std::move(out));
  }));
}

void GroupConsumer::send_sync(uint64_t epoch,
                              std::vector<k::SyncGroupRequest::SyncGroupRequestAssignment> out) {
  k::SyncGroupRequest req;
  req.group_id = config_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  req.assignments = std::move(out);
  // The coordinator holds a follower's SyncGroup until the leader's arrives.
  Duration timeout =
      std::max(config_.request_timeout_ms, config_.max_poll_interval_ms + kJoinGroupTimeoutLapse);
  send_to_coordinator<k::SyncGroupRequest>(
      std::move(req),
      [this, epoch](Result<k::SyncGroupResponse> resp) { on_sync(epoch, std::move(resp)); },
      timeout);
}

void GroupConsumer::on_sync(uint64_t epoch, Result<k::SyncGroupResponse> resp) {
  if (epoch != join_epoch_ || state_ != State::joining) return;
  if (!resp.ok()) {
    mark_coordinator_unknown(resp.status());
    return retry_join(epoch, resp.status());
  }
  auto e = static_cast<ErrorCode>(resp->error_code);
  if (e != ErrorCode::none) {
    Status why = kafka_status(e, "SyncGroup");
    switch (e) {
      case ErrorCode::unknown_member_id:
      case ErrorCode::illegal_generation:
        reset_member();
        return retry_join(epoch, why);
      case ErrorCode::rebalance_in_progress:
      case ErrorCode::coordinator_load_in_progress:
        return retry_join(epoch, why);
      case ErrorCode::not_coordinator:
      case ErrorCode::coordinator_not_available:
        mark_coordinator_unknown(why);
        return retry_join(epoch, why);
      default:
        return fail_fatal(why);
    }
  }
  std::vector<TopicPartition> partitions;
  // Empty bytes: the leader gave this member nothing (or is not a consumer-protocol leader).
  if (!resp->assignment.empty()) {
    auto a = k::decode_assignment(resp->assignment);
    if (!a.ok()) return fail_fatal(a.status());
    for (auto& t : a->partitions)
      for (int32_t p : t.partitions) partitions.push_back({t.topic, p});
  }
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  state_ = State::stable;
  ++counters_.generations;
  last_heartbeat_ok_ = env_.clock.now();
  schedule_heartbeat(config_.heartbeat_interval_ms);
  schedule_auto_commit();
  std::vector<std::string> topics;
  for (auto& tp : partitions) topics.push_back(tp.topic);
  consumer_.metadata().track(topics);
  if (partitions.empty()) return apply_assignment(epoch, {}, {});
  // Positions come from the group's commits; retried until the next rebalance if need be.
  fetch_committed(partitions, epoch, MonoTime::max(),
                  [this, epoch, partitions](Result<std::map<TopicPartition, int64_t>> r) {
                    if (!r.ok()) return fail_fatal(r.status());
                    apply_assignment(epoch, partitions, std::move(r).value());
                  });
}

void GroupConsumer::apply_assignment(uint64_t epoch, std::vector<TopicPartition> partitions,
                                     std::map<TopicPartition, int64_t> committed) {
  if (epoch != join_epoch_ || state_ != State::stable) return;
  assigned_ = partitions;
  consumer_.assign(partitions);
  for (const TopicPartition& tp : partitions) {
    auto it = committed.find(tp);
    // -1: nothing committed; the consumer resolves a position by auto_offset_reset.
    if (it != committed.end() && it->second >= 0) consumer_.seek(tp, it->second).ignore();
  }
  spdlog::debug("group consumer {} ({}): generation {}: {} partitions", config_.client_id,
                config_.group_id, generation_, partitions.size());
  if (listener_.on_partitions_assigned) listener_.on_partitions_assigned(partitions);
}

// --- Committed offsets -------------------------------------------------------------------------

void GroupConsumer::fetch_committed(std::vector<TopicPartition> partitions, uint64_t epoch,
                                    MonoTime deadline, OffsetsFn done) {
  auto retry = [this, partitions, epoch, deadline, done](const Status& why) {
    if (env_.clock.now() + config_.retry_backoff_ms >= deadline) return done(why);
    env_.clock.schedule(config_.retry_backoff_ms,
                        guarded(alive_, [this, partitions, epoch, deadline, done] {
                          if (epoch != 0 && epoch != join_epoch_) return;
                          fetch_committed(partitions, epoch, deadline, done);
                        }));
  };
  k::OffsetFetchRequest req;
  req.group_id = config_.group_id;
  std::vector<k::OffsetFetchRequest::OffsetFetchRequestTopic> topics;
  for (const TopicPartition& tp : partitions) {
    if (topics.empty() || topics.back().name != tp.topic) topics.push_back({tp.topic, {}});
    topics.back().partition_indexes.push_back(tp.partition);
  }
  req.topics = std::move(topics);
  send_to_coordinator<k::OffsetFetchRequest>(
      std::move(req),
      [this, partitions, epoch, done, retry](Result<k::OffsetFetchResponse> resp) {
        if (epoch != 0 && epoch != join_epoch_) return;
        if (!resp.ok()) {
          mark_coordinator_unknown(resp.status());
          return retry(resp.status());
        }
        std::map<TopicPartition, int64_t> out;
        auto e = static_cast<ErrorCode>(resp->error_code);
        for (auto& t : resp->topics) {
          for (auto& p : t.partitions) {
            auto pe = static_cast<ErrorCode>(p.error_code);
            if (pe != ErrorCode::none && e == ErrorCode::none) e = pe;
            out[{t.name, p.partition_index}] = p.committed_offset;
          }
        }
        if (e != ErrorCode::none) {
          Status why = kafka_status(e, "OffsetFetch");
          if (e == ErrorCode::not_coordinator || e == ErrorCode::coordinator_not_available)
            mark_coordinator_unknown(why);
          if (is_retriable(e)) return retry(why);
          return done(why);
        }
        for (const TopicPartition& tp : partitions) out.try_emplace(tp, -1);
        done(std::move(out));
      },
      config_.request_timeout_ms);
}

}  // namespace gregor::client
