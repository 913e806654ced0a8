#include "node/broker/kraft_metadata.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/guarded.h"

namespace gregor::broker {

namespace k = kafka;
using kafka::ErrorCode;

namespace {
constexpr int16_t kRegistrationVersion = 3;
constexpr int16_t kHeartbeatVersion = 1;
constexpr int16_t kAllocateProducerIdsVersion = 0;
constexpr int16_t kCreateTopicsVersion = 4;
constexpr int16_t kDeleteTopicsVersion = 1;
constexpr Duration kWaiterPoll = milliseconds(100);

ErrorCode error_of(int16_t code) {
  return static_cast<ErrorCode>(code);
}
}  // namespace

KRaftMetadata::KRaftMetadata(Env& env, const BrokerConfig& config, ReplicaManager& replicas,
                             metadata::MetadataNode& node, std::string cluster_id)
    : env_(env),
      config_(config),
      replicas_(replicas),
      node_(node),
      cluster_id_(std::move(cluster_id)),
      incarnation_id_{env.random.next_u64(), env.random.next_u64()},
      fetchers_(env, config.node_id, config.replication, replicas,
                [this] { return broker_epoch_; }),
      clean_shutdown_(env.disk, config.log_dir + "/" + std::string(kCleanShutdownFile)) {}

KRaftMetadata::~KRaftMetadata() {
  *alive_ = false;
  if (subscription_ != 0) node_.unsubscribe(subscription_);
  env_.clock.cancel(heartbeat_timer_);
  env_.clock.cancel(waiter_timer_);
  env_.clock.cancel(isr_timer_);
}

void KRaftMetadata::start(std::function<void(const Status&)> done) {
  subscription_ =
      node_.subscribe([this](const metadata::MetadataDelta*,
                             const metadata::ControllerImage& image) { on_applied(image); },
                      [this] {
                        // A new leader: requests go to it from now on.
                        if (node_.raft().leader_id() == controller_id_) return;
                        forget_controller();
                        // A heartbeat stuck at the old controller would hold the next one back
                        // until its RPC timeout, longer than a short session at the new one:
                        // its answer is ignored and the new controller hears from us now.
                        if (heartbeat_in_flight_ && !shutdown_confirmed_) {
                          heartbeat_in_flight_ = false;
                          ++heartbeat_generation_;
                          schedule_heartbeat(Duration::zero());
                        }
                      });
  on_applied(node_.image());
  schedule_isr_check();
  // Partitions already in the image at start are opened before the broker serves.
  take_clean_shutdown(guarded(alive_, [this, done] {
    start_done_ = done;
    maybe_started();
  }));
}

void KRaftMetadata::take_clean_shutdown(std::function<void()> next) {
  clean_shutdown_.read(guarded(alive_, [this, next](Result<log::CheckpointEntries> r) {
    if (!r.ok()) {
      if (r.code() != Errc::not_found) {
        spdlog::warn("broker {}: {}: {}; treating the last stop as unclean", config_.node_id,
                     clean_shutdown_.path(), r.status());
      }
      return next();
    }
    for (const auto& [key, value] : *r)
      if (key == "broker_epoch") previous_broker_epoch_ = value;
    // Gone before this incarnation serves: a crash from now on is not a clean shutdown.
    env_.disk.remove(
        clean_shutdown_.path(), guarded(alive_, [this, next](const Status& s) {
          if (!s.ok())
            spdlog::warn("broker {}: removing {}: {}", config_.node_id, clean_shutdown_.path(), s);
          env_.disk.fsync_dir(config_.log_dir, guarded(alive_, [next](const Status&) { next(); }));
        }));
  }));
}

void KRaftMetadata::logs_closed(std::function<void()> next) {
  // Only a confirmed controlled shutdown whose logs all closed (flushed) is clean.
  if (!shutdown_confirmed_ || broker_epoch_ < 0) return next();
  clean_shutdown_.write(
      {{"broker_epoch", broker_epoch_}}, guarded(alive_, [this, next](const Status& s) {
        if (!s.ok()) {
          spdlog::warn("broker {}: writing {}: {}", config_.node_id, clean_shutdown_.path(), s);
        }
        next();
      }));
}

void KRaftMetadata::maybe_started() {
  if (!start_done_ || disk_op_running_ || !disk_ops_.empty()) return;
  auto done = std::move(start_done_);
  start_done_ = nullptr;
  env_.clock.schedule(Duration::zero(), guarded(alive_, [done] { done(Status::Ok()); }));
}

bool KRaftMetadata::in_progress(const std::string& topic) const {
  return in_progress_.contains(topic);
}

// ---- Metadata publishing -------------------------------------------------------------------

void KRaftMetadata::on_applied(const metadata::ControllerImage& controller_image) {
  metadata::BrokerViewOptions view;
  view.cluster_id = cluster_id_;
  // Clients cannot reach the controllers: as KRaft brokers do, name a broker (this one, which
  // forwards what clients send "to the controller").
  view.controller_id = config_.node_id;
  MetadataImage next = metadata::to_broker_image(controller_image, view);
  // This broker's own entry as it is now: before its registration is applied, and while the
  // image still shows a previous incarnation (which may have listened elsewhere).
  if (endpoint_) {
    next.brokers[config_.node_id] =
        BrokerImage{config_.node_id, endpoint_->host, static_cast<int32_t>(endpoint_->port)};
  }
  // Removed topics: their partitions here are closed and deleted.
  for (const auto& [name, old] : image_.topics) {
    const TopicImage* now = next.topic(name);
    if (now && now->id == old.id) continue;
    in_progress_.insert(name);
    disk_ops_.push_back([this, name](std::function<void()> next) {
      replicas_.delete_topic(name, [name, next](const Status& s) {
        if (!s.ok()) spdlog::error("deleting topic {}: {}", name, s);
        next();
      });
    });
  }
  // New or changed topics: open what is hosted here, and take new leader epochs. Each op reads
  // the image as it is when the op runs, not as it was when queued: a broker replaying the log
  // after a restart applies many entries at once, and acting on an intermediate one would take
  // a leader epoch older than the one it already had (a replica's epoch going back).
  for (const auto& [name, topic] : next.topics) {
    const TopicImage* old = image_.topic(name);
    if (old && *old == topic) continue;
    in_progress_.insert(name);
    disk_ops_.push_back([this, name, id = topic.id](std::function<void()> next) {
      const TopicImage* now = image_.topic(name);
      if (now == nullptr || now->id != id) return next();  // gone or replaced since
      replicas_.open_topic(
          *now,
          [this, name, next](const Status& s) {
            if (!s.ok()) spdlog::error("opening topic {}: {}", name, s);
            if (s.ok()) take_leadership(name);
            next();
          },
          /*lead=*/false);
    });
  }
  // A broker that registered again may listen elsewhere: followers of its partitions retarget.
  if (next.brokers != image_.brokers) {
    disk_ops_.push_back([this](std::function<void()> next) {
      for (const auto& [name, topic] : image_.topics) take_leadership(name);
      next();
    });
  }
  image_ = std::move(next);
  // Started on the next turn of the loop, so that a burst of applied entries acts once.
  if (!disk_kick_scheduled_) {
    disk_kick_scheduled_ = true;
    env_.clock.schedule(Duration::zero(), guarded(alive_, [this] {
                          disk_kick_scheduled_ = false;
                          run_disk_ops();
                        }));
  }
  check_waiters();
}

void KRaftMetadata::run_disk_ops() {
  if (disk_op_running_ || disk_ops_.empty()) return;
  disk_op_running_ = true;
  auto op = std::move(disk_ops_.front());
  disk_ops_.pop_front();
  op(guarded(alive_, [this] {
    disk_op_running_ = false;
    if (disk_ops_.empty()) in_progress_.clear();
    run_disk_ops();
    check_waiters();
    maybe_started();
  }));
}

void KRaftMetadata::check_waiters() {
  MonoTime now = env_.clock.now();
  std::vector<Waiter> due;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    bool shown = it->ready();
    if (shown || now >= it->deadline) {
      auto done = std::move(it->done);
      it = waiters_.erase(it);
      due.push_back(Waiter{nullptr, [done, shown](bool) { done(shown); }, now});
    } else {
      ++it;
    }
  }
  for (Waiter& w : due) w.done(true);
  env_.clock.cancel(waiter_timer_);
  waiter_timer_ = kNoTimer;
  if (!waiters_.empty()) {
    waiter_timer_ = env_.clock.schedule(kWaiterPoll, guarded(alive_, [this] { check_waiters(); }));
  }
}

// ---- The active controller -------------------------------------------------------------------

rpc::RpcChannel* KRaftMetadata::controller_channel() {
  int32_t leader = node_.raft().leader_id();
  if (leader < 0) return nullptr;
  if (leader != controller_id_ || !channel_) {
    auto address = node_.raft().address_of(leader);
    if (!address) return nullptr;
    rpc::RpcChannelConfig cfg;
    cfg.client_id = fmt::format("broker-{}", config_.node_id);
    // Requests in flight on the old channel still get their answers (or their timeouts): it is
    // retired, not closed, and dropped once idle.
    std::erase_if(retired_, [](const auto& ch) { return ch->in_flight() == 0; });
    if (channel_) retired_.push_back(std::move(channel_));
    channel_ = std::make_unique<rpc::RpcChannel>(env_, *address, cfg);
    controller_id_ = leader;
  }
  return channel_.get();
}

void KRaftMetadata::forget_controller() {
  // The channel is replaced (and retired) when the next request needs one.
  controller_id_ = -1;
}

// ---- Lifecycle ---------------------------------------------------------------------------------

void KRaftMetadata::register_broker(const std::string& host, int32_t port) {
  k::BrokerRegistrationRequest::Listener l;
  l.name = "PLAINTEXT";
  l.host = host;
  l.port = static_cast<uint16_t>(port);
  l.security_protocol = 0;
  endpoint_ = l;
  image_.brokers[config_.node_id] = BrokerImage{config_.node_id, host, port};
  send_registration();
}

void KRaftMetadata::send_registration() {
  if (registering_ || shutting_down_) return;
  rpc::RpcChannel* ch = controller_channel();
  if (!ch) return schedule_heartbeat(kControllerRetryBackoff);  // retries registration too
  registering_ = true;
  k::BrokerRegistrationRequest req;
  req.broker_id = config_.node_id;
  req.cluster_id = cluster_id_;
  req.incarnation_id = incarnation_id_;
  req.listeners.push_back(*endpoint_);
  req.rack = std::nullopt;
  req.previous_broker_epoch = previous_broker_epoch_;
  ch->send(req, kRegistrationVersion,
           guarded(alive_, [this](Result<k::BrokerRegistrationResponse> r) {
             registering_ = false;
             if (!r.ok() || r->error_code != 0) {
               if (!r.ok() || error_of(r->error_code) == ErrorCode::not_controller) {
                 forget_controller();
               } else if (error_of(r->error_code) != last_refusal_) {
                 // DUPLICATE_BROKER_REGISTRATION lasts until the previous incarnation's session
                 // expires: said once, not at every retry.
                 last_refusal_ = error_of(r->error_code);
                 spdlog::warn("broker {}: registration refused ({}); retrying", config_.node_id,
                              k::error_name(last_refusal_));
               }
               return schedule_heartbeat(kControllerRetryBackoff);
             }
             broker_epoch_ = r->broker_epoch;
             last_refusal_ = ErrorCode::none;
             spdlog::info("broker {}: registered with epoch {}", config_.node_id, broker_epoch_);
             env_.tracer.event("broker.registered", TraceFields().add("epoch", broker_epoch_));
             send_heartbeat();
           }));
}

void KRaftMetadata::schedule_heartbeat(Duration delay) {
  env_.clock.cancel(heartbeat_timer_);
  heartbeat_timer_ = env_.clock.schedule(delay, guarded(alive_, [this] {
                                           heartbeat_timer_ = kNoTimer;
                                           if (broker_epoch_ < 0) return send_registration();
                                           send_heartbeat();
                                         }));
}

bool KRaftMetadata::shutdown_overdue() {
  if (!shutting_down_ || !shutdown_done_ || env_.clock.now() < shutdown_deadline_) return false;
  auto done = std::move(shutdown_done_);
  shutdown_done_ = nullptr;
  spdlog::warn("broker {}: controlled shutdown not confirmed within {}; stopping anyway",
               config_.node_id, format_duration(kControlledShutdownMax));
  done(Status::Ok());
  return true;
}

void KRaftMetadata::send_heartbeat() {
  if (heartbeat_in_flight_) return;
  if (shutting_down_ && !shutdown_done_) return;  // the shutdown is over: no more heartbeats
  // Checked here too: with no controller known no heartbeat leaves, and no answer would ever
  // end a controlled shutdown (the last node of a cluster stopping).
  if (shutdown_overdue()) return;
  if (broker_epoch_ < 0) return send_registration();
  rpc::RpcChannel* ch = controller_channel();
  if (!ch) return schedule_heartbeat(kControllerRetryBackoff);
  k::BrokerHeartbeatRequest req;
  req.broker_id = config_.node_id;
  req.broker_epoch = broker_epoch_;
  req.current_metadata_offset = node_.applied_offset() - 1;  // the last offset applied
  req.want_fence = false;
  req.want_shut_down = shutting_down_;
  heartbeat_in_flight_ = true;
  ch->send(req, kHeartbeatVersion,
           guarded(alive_, [this, generation =
                                      heartbeat_generation_](Result<k::BrokerHeartbeatResponse> r) {
             if (generation == heartbeat_generation_) on_heartbeat(r);
           }));
}

void KRaftMetadata::on_heartbeat(Result<k::BrokerHeartbeatResponse> r) {
  heartbeat_in_flight_ = false;
  Duration next = config_.broker_heartbeat_interval_ms;
  if (!r.ok()) {
    forget_controller();
    next = kControllerRetryBackoff;
  } else if (r->error_code != 0) {
    ErrorCode e = error_of(r->error_code);
    if (e == ErrorCode::not_controller) {
      forget_controller();
      next = kControllerRetryBackoff;
    } else {
      // STALE_BROKER_EPOCH, BROKER_ID_NOT_REGISTERED...: the controller no longer knows this
      // incarnation's epoch; register again.
      spdlog::warn("broker {}: heartbeat refused ({}); registering again", config_.node_id,
                   k::error_name(e));
      broker_epoch_ = -1;
      next = kControllerRetryBackoff;
    }
  } else {
    if (fenced_ != r->is_fenced) {
      fenced_ = r->is_fenced;
      spdlog::info("broker {}: {}", config_.node_id, fenced_ ? "fenced" : "unfenced");
      env_.tracer.event("broker.fenced", TraceFields().add("fenced", fenced_));
      for (const auto& [name, topic] : image_.topics) take_leadership(name);
    }
    if (fenced_ && !shutting_down_) next = kControllerRetryBackoff;  // catching up: report soon
    if (shutting_down_ && r->should_shut_down) {
      auto done = std::move(shutdown_done_);
      shutdown_done_ = nullptr;
      shutdown_confirmed_ = true;
      if (done) done(Status::Ok());
      return;
    }
  }
  if (shutting_down_) {
    if (shutdown_overdue()) return;
    next = kControllerRetryBackoff;
  }
  schedule_heartbeat(next);
}

void KRaftMetadata::shutdown(std::function<void(const Status&)> done) {
  // Followers stop fetching once the shutdown is over: the logs close next.
  if (broker_epoch_ < 0 || shutting_down_) {
    fetchers_.stop_all();
    return done(Status::Ok());
  }
  shutting_down_ = true;
  shutdown_done_ = [this, done](const Status& s) {
    fetchers_.stop_all();
    done(s);
  };
  shutdown_deadline_ = env_.clock.now() + kControlledShutdownMax;
  spdlog::info("broker {}: controlled shutdown", config_.node_id);
  if (!heartbeat_in_flight_) send_heartbeat();
}

// ---- Admin requests to the controller
// ------------------------------------------------------------

void KRaftMetadata::create_topic(TopicRequest request, std::function<void(TopicResult)> done) {
  rpc::RpcChannel* ch = controller_channel();
  if (!ch) return done({ErrorCode::not_controller, "no active controller known"});
  k::CreateTopicsRequest req;
  k::CreateTopicsRequest::CreatableTopic t;
  t.name = request.name;
  t.num_partitions = request.num_partitions;
  t.replication_factor = request.replication_factor;
  for (auto& [key, value] : request.configs) t.configs.push_back({key, value});
  req.topics.push_back(std::move(t));
  req.validate_only = request.validate_only;
  req.timeout_ms = static_cast<int32_t>(to_ms(kMetadataPropagationMax));
  std::string name = request.name;
  bool validate_only = request.validate_only;
  ch->send(req, kCreateTopicsVersion,
           guarded(alive_, [this, name, validate_only, done](Result<k::CreateTopicsResponse> r) {
             if (!r.ok()) {
               forget_controller();
               return done({ErrorCode::request_timed_out, r.status().message()});
             }
             if (r->topics.size() != 1) {
               return done({ErrorCode::unknown_server_error, "controller answered no topic"});
             }
             const auto& t = r->topics[0];
             if (t.error_code != 0) {
               if (error_of(t.error_code) == ErrorCode::not_controller) forget_controller();
               return done({error_of(t.error_code), t.error_message.value_or("")});
             }
             if (validate_only) return done({});
             waiters_.push_back(Waiter{
                 [this, name] { return image_.topic(name) != nullptr && !in_progress(name); },
                 [done](bool) { done({}); }, env_.clock.now() + kMetadataPropagationMax});
             check_waiters();
           }));
}

void KRaftMetadata::delete_topic(const std::string& name, std::function<void(TopicResult)> done) {
  if (!config_.delete_topic_enable) {
    return done({ErrorCode::topic_deletion_disabled, "delete.topic.enable is false"});
  }
  rpc::RpcChannel* ch = controller_channel();
  if (!ch) return done({ErrorCode::not_controller, "no active controller known"});
  k::DeleteTopicsRequest req;
  req.topic_names.push_back(name);
  req.timeout_ms = static_cast<int32_t>(to_ms(kMetadataPropagationMax));
  ch->send(req, kDeleteTopicsVersion,
           guarded(alive_, [this, name, done](Result<k::DeleteTopicsResponse> r) {
             if (!r.ok()) {
               forget_controller();
               return done({ErrorCode::request_timed_out, r.status().message()});
             }
             if (r->responses.size() != 1) {
               return done({ErrorCode::unknown_server_error, "controller answered no topic"});
             }
             if (r->responses[0].error_code != 0) {
               ErrorCode e = error_of(r->responses[0].error_code);
               if (e == ErrorCode::not_controller) forget_controller();
               return done({e, fmt::format("topic '{}': {}", name, k::error_name(e))});
             }
             waiters_.push_back(Waiter{[this, name] { return image_.topic(name) == nullptr; },
                                       [done](bool) { done({}); },
                                       env_.clock.now() + kMetadataPropagationMax});
             check_waiters();
           }));
}

void KRaftMetadata::allocate_producer_id(std::function<void(Result<int64_t>)> done) {
  if (next_producer_id_ < producer_id_end_) return done(next_producer_id_++);
  producer_id_waiters_.push_back(std::move(done));
  fetch_producer_ids();
}

void KRaftMetadata::fetch_producer_ids() {
  if (producer_ids_in_flight_) return;
  auto fail_all = [this](Status why) {
    auto waiters = std::move(producer_id_waiters_);
    producer_id_waiters_.clear();
    for (auto& w : waiters) w(why);
  };
  rpc::RpcChannel* ch = controller_channel();
  if (!ch || broker_epoch_ < 0) {
    return fail_all(error(Errc::unreachable, "no active controller, or not registered yet"));
  }
  producer_ids_in_flight_ = true;
  k::AllocateProducerIdsRequest req;
  req.broker_id = config_.node_id;
  req.broker_epoch = broker_epoch_;
  ch->send(
      req, kAllocateProducerIdsVersion,
      guarded(alive_, [this, fail_all](Result<k::AllocateProducerIdsResponse> r) {
        producer_ids_in_flight_ = false;
        if (!r.ok()) {
          forget_controller();
          return fail_all(r.status());
        }
        if (r->error_code != 0 || r->producer_id_len <= 0) {
          ErrorCode e = error_of(r->error_code);
          if (e == ErrorCode::not_controller) forget_controller();
          return fail_all(errorf(Errc::unreachable, "AllocateProducerIds: {}", k::error_name(e)));
        }
        next_producer_id_ = r->producer_id_start;
        producer_id_end_ = r->producer_id_start + r->producer_id_len;
        auto waiters = std::move(producer_id_waiters_);
        producer_id_waiters_.clear();
        for (auto& w : waiters) {
          if (next_producer_id_ < producer_id_end_) {
            w(next_producer_id_++);
          } else {
            allocate_producer_id(std::move(w));
          }
        }
      }));
}

}  // namespace gregor::broker
