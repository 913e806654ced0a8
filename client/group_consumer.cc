// The group consumer's public calls, heartbeats, commits and leaving. Membership (coordinator,
// JoinGroup, SyncGroup, the committed offsets of an assignment) lives in group_consumer_join.cc.
#include "client/group_consumer.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "client/assignor.h"

namespace gregor::client {

using kafka::ErrorCode;
namespace k = kafka;

namespace {
// Kafka's session.timeout.ms and friends travel as int32 milliseconds.
constexpr Duration kInt32Millis = milliseconds(INT32_MAX);
}  // namespace

Status validate(const GroupConsumerConfig& c) {
  GREGOR_RETURN_IF_ERROR(validate(static_cast<const ConsumerConfig&>(c)));
  auto bad = [](std::string what) { return Status(Errc::invalid_argument, std::move(what)); };
  if (c.group_id.empty()) return bad("group.id is required to subscribe");
  if (c.session_timeout_ms <= Duration::zero() || c.session_timeout_ms > kInt32Millis)
    return bad("session.timeout.ms must be positive and fit in int32 milliseconds");
  if (c.heartbeat_interval_ms <= Duration::zero() ||
      c.heartbeat_interval_ms >= c.session_timeout_ms)
    return bad("heartbeat.interval.ms must be positive and lower than session.timeout.ms");
  if (c.max_poll_interval_ms <= Duration::zero() || c.max_poll_interval_ms > kInt32Millis)
    return bad("max.poll.interval.ms must be positive and fit in int32 milliseconds");
  if (c.enable_auto_commit && c.auto_commit_interval_ms <= Duration::zero())
    return bad("auto.commit.interval.ms must be positive");
  if (c.partition_assignment_strategy.empty())
    return bad("partition.assignment.strategy needs at least one assignor");
  for (const std::string& name : c.partition_assignment_strategy) {
    if (!is_known_assignor(name))
      return bad(fmt::format("partition.assignment.strategy: unknown assignor '{}' (known: {}, {})",
                             name, kRangeAssignor, kRoundRobinAssignor));
  }
  return Status::Ok();
}

GroupConsumer::GroupConsumer(Env& env, GroupConsumerConfig config)
    : env_(env), config_(std::move(config)), consumer_(env, config_) {
  Status valid = validate(config_);
  GREGOR_ASSERT(valid.ok(), "GroupConsumer: {}", valid.to_string());
  connection_config_.client_id = config_.client_id;
  connection_config_.request_timeout_ms = config_.request_timeout_ms;
  connection_config_.connection_setup_timeout_ms = config_.connection_setup_timeout_ms;
  connection_config_.response_bytes_max = config_.response_bytes_max;
  last_poll_ = env_.clock.now();
}

GroupConsumer::~GroupConsumer() {
  close_now();
}

Status GroupConsumer::subscribe(std::vector<std::string> topics, RebalanceListener listener) {
  if (state_ == State::closing || state_ == State::closed)
    return error(Errc::invalid_argument, "subscribe: the consumer is closed");
  std::sort(topics.begin(), topics.end());
  topics.erase(std::unique(topics.begin(), topics.end()), topics.end());
  if (topics.empty() || topics.front().empty())
    return error(Errc::invalid_argument, "subscribe: no topics (or an empty topic name)");
  if (topics.size() > kSubscribedTopicsMax)
    return errorf(Errc::invalid_argument, "subscribe: {} topics > {}", topics.size(),
                  kSubscribedTopicsMax);
  bool changed = topics != topics_;
  topics_ = std::move(topics);
  listener_ = std::move(listener);
  consumer_.metadata().track(topics_);
  if (state_ == State::unsubscribed) {
    prepare_join(false);
  } else if (changed) {
    request_rejoin("subscription changed", false);
  }
  return Status::Ok();
}

void GroupConsumer::poll(Duration timeout, PollFn done) {
  Status refused;
  if (state_ == State::unsubscribed) refused = error(Errc::invalid_argument, "subscribe first");
  if (state_ == State::failed) refused = fatal_;
  if (state_ == State::closing || state_ == State::closed)
    refused = error(Errc::closed, "the consumer is closed");
  if (poll_waiting_) refused = error(Errc::invalid_argument, "a poll() is already waiting");
  if (!refused.ok()) return later([done, refused] { done(refused); });
  last_poll_ = env_.clock.now();
  if (state_ == State::left) prepare_join(false);
  poll_waiting_ = true;
  consumer_.poll(timeout, guarded(poll_token_, [this, done](Result<std::vector<ConsumerRecord>> r) {
                   poll_waiting_ = false;
                   last_poll_ = env_.clock.now();
                   done(std::move(r));
                 }));
}

std::optional<int64_t> GroupConsumer::position(const TopicPartition& tp) const {
  return consumer_.position(tp);
}

Status GroupConsumer::seek(const TopicPartition& tp, int64_t offset) {
  if (!std::binary_search(assigned_.begin(), assigned_.end(), tp))
    return errorf(Errc::invalid_argument, "seek: {} is not assigned to this member",
                  tp.to_string());
  return consumer_.seek(tp, offset);
}

// --- Heartbeats --------------------------------------------------------------------------------

void GroupConsumer::schedule_heartbeat(Duration delay) {
  env_.clock.cancel(heartbeat_timer_);
  heartbeat_timer_ = env_.clock.schedule(delay, guarded(alive_, [this] {
                                           heartbeat_timer_ = kNoTimer;
                                           send_heartbeat();
                                         }));
}

void GroupConsumer::send_heartbeat() {
  if (state_ != State::stable || heartbeat_in_flight_) return;
  MonoTime now = env_.clock.now();
  if (!poll_waiting_ && now - last_poll_ > config_.max_poll_interval_ms) {
    // Kafka's heartbeat thread: the application stopped polling, so give the partitions to a
    // member that consumes them. The next poll() joins again.
    spdlog::info("group consumer {} ({}): no poll() for {}: leaving the group", config_.client_id,
                 config_.group_id, format_duration(now - last_poll_));
    state_ = State::left;
    ++join_epoch_;
    cancel_timers();
    leave_group([](const Status&) {});
    revoke(true);
    reset_member();
    return;
  }
  // Kafka's sessionTimeoutExpired: the coordinator we talk to may be gone; look again.
  if (now - last_heartbeat_ok_ > config_.session_timeout_ms)
    mark_coordinator_unknown(error(Errc::timed_out, "no heartbeat answered within the session"));
  heartbeat_in_flight_ = true;
  k::HeartbeatRequest req;
  req.group_id = config_.group_id;
  req.generation_id = generation_;
  req.member_id = member_id_;
  uint64_t epoch = join_epoch_;
  send_to_coordinator<k::HeartbeatRequest>(
      std::move(req),
      [this, epoch](Result<k::HeartbeatResponse> resp) { on_heartbeat(epoch, std::move(resp)); },
      config_.request_timeout_ms);
}

void GroupConsumer::on_heartbeat(uint64_t epoch, Result<k::HeartbeatResponse> resp) {
  heartbeat_in_flight_ = false;
  if (epoch != join_epoch_ || state_ != State::stable) return;
  if (!resp.ok()) {
    mark_coordinator_unknown(resp.status());
    return schedule_heartbeat(config_.retry_backoff_ms);
  }
  auto e = static_cast<ErrorCode>(resp->error_code);
  switch (e) {
    case ErrorCode::none:
      ++counters_.heartbeats;
      last_heartbeat_ok_ = env_.clock.now();
      return schedule_heartbeat(config_.heartbeat_interval_ms);
    case ErrorCode::rebalance_in_progress:
      return request_rejoin("Heartbeat: REBALANCE_IN_PROGRESS", false);
    case ErrorCode::unknown_member_id:
    case ErrorCode::illegal_generation:
      reset_member();
      return request_rejoin(std::string(k::error_name(e)), true);
    case ErrorCode::not_coordinator:
    case ErrorCode::coordinator_not_available:
      mark_coordinator_unknown(kafka_status(e, "Heartbeat"));
      return schedule_heartbeat(config_.retry_backoff_ms);
    case ErrorCode::coordinator_load_in_progress:
      return schedule_heartbeat(config_.retry_backoff_ms);
    default:
      return fail_fatal(kafka_status(e, "Heartbeat"));
  }
}

void GroupConsumer::cancel_timers() {
  env_.clock.cancel(heartbeat_timer_);
  env_.clock.cancel(auto_commit_timer_);
  heartbeat_timer_ = auto_commit_timer_ = kNoTimer;
}

// --- Commits -----------------------------------------------------------------------------------

std::map<TopicPartition, int64_t> GroupConsumer::positions() const {
  std::map<TopicPartition, int64_t> out;
  for (const TopicPartition& tp : assigned_) {
    if (auto pos = consumer_.position(tp)) out[tp] = *pos;
  }
  return out;
}

void GroupConsumer::schedule_auto_commit() {
  if (!config_.enable_auto_commit) return;
  env_.clock.cancel(auto_commit_timer_);
  auto_commit_timer_ =
      env_.clock.schedule(config_.auto_commit_interval_ms, guarded(alive_, [this] {
                            auto_commit_timer_ = kNoTimer;
                            if (state_ != State::stable) return;
                            schedule_auto_commit();
                            auto offsets = positions();
                            if (auto_commit_in_flight_ || offsets.empty()) return;
                            auto_commit_in_flight_ = true;
                            auto op = std::make_shared<CommitOp>();
                            op->offsets = std::move(offsets);
                            op->generation = generation_;
                            op->member_id = member_id_;
                            op->deadline = env_.clock.now() + config_.auto_commit_interval_ms;
                            op->done = [this](const Status& s) {
                              auto_commit_in_flight_ = false;
                              if (!s.ok())
                                spdlog::debug("group consumer {} ({}): auto-commit: {}",
                                              config_.client_id, config_.group_id, s.to_string());
                            };
                            start_commit(op);
                          }));
}

void GroupConsumer::commit(StatusFn done) {
  commit(positions(), std::move(done));
}

void GroupConsumer::commit(std::map<TopicPartition, int64_t> offsets, StatusFn done) {
  Status refused;
  if (state_ == State::closing || state_ == State::closed)
    refused = error(Errc::closed, "commit: the consumer is closed");
  if (state_ == State::failed) refused = fatal_;
  if (state_ == State::joining)
    refused = kafka_status(ErrorCode::rebalance_in_progress, "commit during a rebalance");
  if (state_ == State::left)
    refused = kafka_status(ErrorCode::unknown_member_id, "commit after leaving the group");
  for (auto& [tp, offset] : offsets) {
    if (offset < 0 && refused.ok())
      refused = errorf(Errc::invalid_argument, "commit: offset {} of {}", offset, tp.to_string());
  }
  if (!refused.ok()) {
    ++counters_.commit_failures;
    return later([done, refused] { done(refused); });
  }
  if (offsets.empty()) return later([done] { done(Status::Ok()); });
  auto op = std::make_shared<CommitOp>();
  op->offsets = std::move(offsets);
  // Unsubscribed: generation -1 and no member id, Kafka's offset storage for a consumer that
  // assigns partitions itself (accepted while the group has no members).
  op->generation = generation_;
  op->member_id = member_id_;
  op->deadline = env_.clock.now() + config_.default_api_timeout_ms;
  op->done = std::move(done);
  start_commit(op);
}

void GroupConsumer::start_commit(std::shared_ptr<CommitOp> op) {
  ++commits_in_flight_;
  send_commit(std::move(op));
}

void GroupConsumer::after_commits(std::function<void()> fn) {
  if (commits_in_flight_ == 0) return fn();
  after_commits_.push_back(std::move(fn));
}

void GroupConsumer::send_commit(std::shared_ptr<CommitOp> op) {
  k::OffsetCommitRequest req;
  req.group_id = config_.group_id;
  req.generation_id_or_member_epoch = op->generation;
  req.member_id = op->member_id;
  for (auto& [tp, offset] : op->offsets) {  // sorted: topics come grouped
    if (req.topics.empty() || req.topics.back().name != tp.topic) req.topics.push_back({tp.topic});
    k::OffsetCommitRequest::OffsetCommitRequestPartition p;
    p.partition_index = tp.partition;
    p.committed_offset = offset;
    p.committed_leader_epoch = -1;  // no leader epochs yet
    req.topics.back().partitions.push_back(p);
  }
  send_to_coordinator<k::OffsetCommitRequest>(
      std::move(req),
      [this, op](Result<k::OffsetCommitResponse> resp) { on_commit(op, std::move(resp)); },
      config_.request_timeout_ms);
}

void GroupConsumer::on_commit(std::shared_ptr<CommitOp> op, Result<k::OffsetCommitResponse> resp) {
  auto finish = [this, op](const Status& s) {
    if (s.ok()) {
      ++counters_.commits;
    } else {
      ++counters_.commit_failures;
    }
    StatusFn done = std::move(op->done);
    op->done = nullptr;
    GREGOR_ASSERT(commits_in_flight_ > 0, "a commit finished twice");
    --commits_in_flight_;
    if (done) done(s);
    if (commits_in_flight_ == 0 && !after_commits_.empty()) {
      auto waiting = std::move(after_commits_);
      after_commits_.clear();
      for (auto& fn : waiting) fn();
    }
  };
  auto retry = [this, op, finish](const Status& why) {
    if (env_.clock.now() + config_.retry_backoff_ms >= op->deadline) return finish(why);
    env_.clock.schedule(config_.retry_backoff_ms, guarded(alive_, [this, op] {
                          if (state_ != State::closed) send_commit(op);
                        }));
  };
  if (!resp.ok()) {
    // The commit may or may not have landed; committing the same offsets again is harmless.
    mark_coordinator_unknown(resp.status());
    return retry(resp.status());
  }
  ErrorCode e = ErrorCode::none;
  TopicPartition at;
  for (auto& t : resp->topics) {
    for (auto& p : t.partitions) {
      if (p.error_code != 0 && e == ErrorCode::none) {
        e = static_cast<ErrorCode>(p.error_code);
        at = {t.name, p.partition_index};
      }
    }
  }
  if (e == ErrorCode::none) return finish(Status::Ok());
  Status why = kafka_status(e, "OffsetCommit " + at.to_string());
  bool current = op->generation == generation_ && op->member_id == member_id_;
  switch (e) {
    case ErrorCode::coordinator_load_in_progress:
    case ErrorCode::request_timed_out:
      return retry(why);
    case ErrorCode::not_coordinator:
    case ErrorCode::coordinator_not_available:
      mark_coordinator_unknown(why);
      return retry(why);
    case ErrorCode::unknown_member_id:
    case ErrorCode::illegal_generation:
      // Kafka's CommitFailedException: the partitions may belong to another member by now.
      if (current && generation_ >= 0) {
        reset_member();
        request_rejoin(std::string(k::error_name(e)), true);
      }
      return finish(why);
    case ErrorCode::rebalance_in_progress:
      if (current) request_rejoin("OffsetCommit: REBALANCE_IN_PROGRESS", false);
      return finish(why);
    default:
      return finish(why);
  }
}

void GroupConsumer::committed(std::vector<TopicPartition> partitions, OffsetsFn done) {
  if (state_ == State::closing || state_ == State::closed)
    return later([done] { done(error(Errc::closed, "committed: the consumer is closed")); });
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  if (partitions.empty()) return later([done] { done(std::map<TopicPartition, int64_t>{}); });
  fetch_committed(std::move(partitions), 0, env_.clock.now() + config_.default_api_timeout_ms,
                  std::move(done));
}

// --- Leaving -----------------------------------------------------------------------------------

void GroupConsumer::leave_group(StatusFn done) {
  if (member_id_.empty()) return later([done] { done(Status::Ok()); });
  ++counters_.leaves;
  k::LeaveGroupRequest req;
  req.group_id = config_.group_id;
  req.member_id = member_id_;               // v0-2
  req.members.push_back({member_id_, {}});  // v3+: the batch form; only this one is encoded
  send_to_coordinator<k::LeaveGroupRequest>(
      std::move(req),
      [done](Result<k::LeaveGroupResponse> resp) {
        if (!resp.ok()) return done(resp.status());
        auto e = static_cast<ErrorCode>(resp->error_code);
        for (auto& m : resp->members)
          if (e == ErrorCode::none) e = static_cast<ErrorCode>(m.error_code);
        done(e == ErrorCode::none ? Status::Ok() : kafka_status(e, "LeaveGroup"));
      },
      config_.request_timeout_ms);
}

void GroupConsumer::close(StatusFn done) {
  if (state_ == State::closing || state_ == State::closed)
    return later([done] { done(error(Errc::closed, "close: already closed or closing")); });
  bool member = state_ == State::stable;
  state_ = State::closing;
  ++join_epoch_;  // drops every join step and heartbeat under way
  cancel_timers();
  poll_token_ = std::make_shared<bool>(true);  // a waiting poll never answers
  poll_waiting_ = false;
  // Positions as they are now: records a late fetch brings are never handed out.
  auto offsets = positions();
  auto first_error = std::make_shared<Status>();
  auto finished = std::make_shared<bool>(false);
  auto finish = [this, done, first_error, finished](const Status& s) {
    if (*finished) return;
    *finished = true;
    if (first_error->ok() && !s.ok()) *first_error = s;
    Status result = *first_error;
    close_now();
    state_ = State::closed;
    done(result);  // close_now() dropped every guarded callback; this one is a plain call
  };
  // Kafka bounds close() (30 s by default); here: the request timeout for everything.
  env_.clock.schedule(config_.request_timeout_ms, guarded(alive_, [finish] {
                        finish(error(Errc::timed_out, "close: the group did not answer in time"));
                      }));
  auto leave = [this, member, first_error, finish](const Status& commit_status) {
    if (first_error->ok() && !commit_status.ok()) *first_error = commit_status;
    if (member && listener_.on_partitions_revoked) listener_.on_partitions_revoked(assigned_);
    leave_group(finish);
  };
  if (member && config_.enable_auto_commit && !offsets.empty()) {
    auto op = std::make_shared<CommitOp>();
    op->offsets = std::move(offsets);
    op->generation = generation_;
    op->member_id = member_id_;
    op->deadline = env_.clock.now() + config_.request_timeout_ms;
    op->done = leave;
    return start_commit(op);
  }
  later([leave] { leave(Status::Ok()); });
}

void GroupConsumer::close_now() {
  alive_ = std::make_shared<bool>(true);  // drops every callback registered so far
  poll_token_ = std::make_shared<bool>(true);
  poll_waiting_ = false;
  env_.clock.cancel(find_timer_);
  find_timer_ = kNoTimer;
  cancel_timers();
  if (coordinator_) coordinator_->close();
  coordinator_.reset();
  ++coordinator_epoch_;
  coordinator_waiters_.clear();
  in_flight_.clear();
  finding_coordinator_ = false;
  heartbeat_in_flight_ = auto_commit_in_flight_ = false;
  consumer_.close();
  assigned_.clear();
  ++join_epoch_;
  if (state_ != State::unsubscribed) state_ = State::closed;
}

}  // namespace gregor::client
