#include "node/controller/quorum_controller.h"

#include <spdlog/spdlog.h>

#include <type_traits>

#include "base/assert.h"
#include "base/guarded.h"

namespace gregor::controller {

namespace k = kafka;

QuorumController::QuorumController(Env& env, metadata::MetadataNode& node,
                                   QuorumControllerConfig config)
    : env_(env),
      node_(node),
      config_(std::move(config)),
      server_(env, [this](const k::RequestHeader& h, Reader& body,
                          rpc::Responder r) { handle(h, body, std::move(r)); }),
      tracker_(config_.logic.session_timeout) {}

QuorumController::~QuorumController() {
  stop();
}

Status QuorumController::start() {
  Status st = server_.listen(config_.listen);
  if (!st.ok()) {
    return errorf(st.code(), "controller listener on {}: {}", config_.listen.to_string(),
                  st.message());
  }
  subscription_ = node_.subscribe(
      [this](const metadata::MetadataDelta*, const ControllerImage&) { on_applied(); },
      [this] { on_state_change(); });
  session_timer_ = env_.clock.schedule(config_.fence_check_interval,
                                       guarded(alive_, [this] { check_sessions(); }));
  on_state_change();
  return Status::Ok();
}

void QuorumController::stop() {
  if (subscription_ != 0) node_.unsubscribe(subscription_);
  subscription_ = 0;
  env_.clock.cancel(session_timer_);
  session_timer_ = kNoTimer;
  server_.close();
  deactivate();
}

void QuorumController::handle(const k::RequestHeader& header, Reader& body,
                              rpc::Responder responder) {
  if (raft::RaftNode::handles(header.api_key)) {
    if (!node_.raft().started()) return responder.close_connection();
    return node_.raft().handle(header, body, std::move(responder));
  }
  int16_t v = header.api_version;
  // Decodes the request as Req and hands it to fn; an unreadable one closes the connection.
  auto serve = [&]<typename Req>(std::type_identity<Req>, auto fn) {
    auto req = k::decode<Req>(body, v);
    if (!req.ok()) {
      spdlog::warn("controller {}: unreadable {}: {}", config_.node_id, k::api_name(header.api_key),
                   req.status());
      return responder.close_connection();
    }
    fn(*req, std::move(responder));
  };
  using std::type_identity;
  switch (static_cast<int16_t>(header.api_key)) {
    case static_cast<int16_t>(k::ControllerApiKey::BrokerRegistration):
      return serve(type_identity<k::BrokerRegistrationRequest>{},
                   [this](const auto& req, rpc::Responder r) { on_register(req, std::move(r)); });
    case static_cast<int16_t>(k::ControllerApiKey::BrokerHeartbeat):
      return serve(type_identity<k::BrokerHeartbeatRequest>{},
                   [this](const auto& req, rpc::Responder r) { on_heartbeat(req, std::move(r)); });
    case static_cast<int16_t>(k::ControllerApiKey::AllocateProducerIds):
      return serve(type_identity<k::AllocateProducerIdsRequest>{},
                   [this](const auto& req, rpc::Responder r) {
                     on_allocate_producer_ids(req, std::move(r));
                   });
    case static_cast<int16_t>(k::ControllerApiKey::AlterPartition):
      return serve(type_identity<k::AlterPartitionRequest>{},
                   [this, v](const auto& req, rpc::Responder r) {
                     on_alter_partition(req, v, std::move(r));
                   });
    case static_cast<int16_t>(k::ApiKey::CreateTopics):
      return serve(
          type_identity<k::CreateTopicsRequest>{},
          [this](const auto& req, rpc::Responder r) { on_create_topics(req, std::move(r)); });
    case static_cast<int16_t>(k::ApiKey::DeleteTopics):
      return serve(
          type_identity<k::DeleteTopicsRequest>{},
          [this](const auto& req, rpc::Responder r) { on_delete_topics(req, std::move(r)); });
    default:
      break;
  }
  spdlog::warn("controller {}: {} is not served on the controller listener", config_.node_id,
               k::api_name(header.api_key));
  responder.close_connection();
}

void QuorumController::on_state_change() {
  const raft::RaftNode& raft = node_.raft();
  if (active_ && (!raft.is_leader() || raft.epoch() != active_epoch_)) deactivate();
  on_applied();
}

void QuorumController::on_applied() {
  const raft::RaftNode& raft = node_.raft();
  if (!raft.started()) return;
  // Writes whose entry is applied now.
  while (!waiting_.empty() && waiting_.begin()->first < node_.applied_offset()) {
    auto reply = std::move(waiting_.begin()->second);
    waiting_.erase(waiting_.begin());
    reply(true);
  }
  // A new leader becomes the active controller once it has applied its whole log, up to and
  // including its own epoch's LeaderChange entry: then the committed image is complete.
  if (!active_ && raft.is_leader() && node_.applied_offset() >= raft.raft().log().end_offset()) {
    activate();
  }
}

void QuorumController::activate() {
  active_ = true;
  active_epoch_ = node_.raft().epoch();
  pending_ = node_.image();
  tracker_.reset(pending_, env_.clock.now());
  spdlog::info("controller {}: active in epoch {}", config_.node_id, active_epoch_);
  env_.tracer.event(
      "controller.active",
      TraceFields().add("epoch", active_epoch_).add("applied", node_.applied_offset()));
}

void QuorumController::deactivate() {
  if (!active_) return;
  active_ = false;
  env_.tracer.event("controller.inactive", TraceFields().add("epoch", active_epoch_));
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& [offset, reply] : waiting) reply(false);
}

void QuorumController::write(std::vector<MetadataRecord> records,
                             std::function<void(bool committed)> reply) {
  if (!active_) return reply(false);
  if (records.empty()) return reply(true);
  auto payload = metadata::encode_records(records);
  GREGOR_ASSERT(payload.ok(), "encoding controller records: {}", payload.status());
  int64_t offset = node_.raft().propose({std::move(payload).value()});
  if (offset < 0) return reply(false);  // not leader any more, or the backlog is full
  metadata::MetadataDelta delta(std::move(pending_));
  for (const MetadataRecord& r : records) {
    Status st = delta.replay(r);
    GREGOR_ASSERT(st.ok(), "controller {}: its own decision does not replay: {}", config_.node_id,
                  st);
  }
  pending_ = std::move(delta).apply();
  waiting_.emplace(offset, std::move(reply));
}

void QuorumController::check_sessions() {
  session_timer_ = env_.clock.schedule(config_.fence_check_interval,
                                       guarded(alive_, [this] { check_sessions(); }));
  if (!active_) return;
  auto d = fence_expired(pending_, tracker_, config_.logic, env_.clock.now());
  if (d.records.empty()) return;
  for (int32_t id : d.answer) {
    spdlog::info("controller {}: fencing broker {} (no heartbeat within {})", config_.node_id, id,
                 format_duration(config_.logic.session_timeout));
    env_.tracer.event("controller.fence", TraceFields().add("broker", id));
  }
  write(std::move(d.records), [](bool) {});
}

}  // namespace gregor::controller
