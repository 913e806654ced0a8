#include "node/broker/broker.h"

#include <spdlog/spdlog.h>

#include "base/fault_points.h"
#include "base/guarded.h"
#include "base/steps.h"
#include "node/broker/kraft_metadata.h"
#include "node/broker/local_controller.h"

namespace gregor::broker {

namespace {
std::unique_ptr<MetadataAuthority> make_authority(Env& env, const BrokerConfig& config,
                                                  ReplicaManager& replicas,
                                                  metadata::MetadataNode* node,
                                                  std::string cluster_id) {
  if (!config.kraft()) return std::make_unique<LocalController>(env, config, replicas);
  GREGOR_ASSERT(node != nullptr, "broker {}: a quorum member needs its MetadataNode",
                config.node_id);
  return std::make_unique<KRaftMetadata>(env, config, replicas, *node, std::move(cluster_id));
}
}  // namespace

Broker::Broker(Env& env, BrokerConfig config, metadata::MetadataNode* metadata,
               std::string cluster_id)
    : env_(env),
      config_(std::move(config)),
      replicas_(env, config_),
      controller_(make_authority(env, config_, replicas_, metadata, std::move(cluster_id))),
      groups_(env, config_, *controller_, replicas_),
      apis_(env, config_, *controller_, replicas_, groups_) {}

Broker::~Broker() {
  *alive_ = false;
  for (auto& [raw, conn] : connections_) conn->close();
}

void Broker::start(std::function<void(const Status&)> done) {
  controller_->start(guarded(alive_, [this, done](const Status& s) {
    if (!s.ok()) return done(s);
    net::Address address{config_.listener.host, config_.listener.port};
    auto listener = env_.network.listen(
        address, guarded(alive_, [this](net::ConnectionPtr conn) { accept(std::move(conn)); }));
    if (!listener.ok()) {
      return done(errorf(listener.code(), "listen on {}: {}", address.to_string(),
                         listener.status().message()));
    }
    listener_ = std::move(listener).value();
    replicas_.start_maintenance();
    groups_.start();  // loads the groups in the background
    // Advertise the configured endpoint; a port of 0 means the one bound.
    const Listener& adv = config_.advertised_listener;
    controller_->register_broker(adv.host, adv.port != 0 ? adv.port : listener_->address().port);
    spdlog::info("broker {} serving on {} ({} partitions)", config_.node_id,
                 listener_->address().to_string(), replicas_.partitions().size());
    env_.tracer.event("broker.started", TraceFields()
                                            .add("node_id", config_.node_id)
                                            .add("partitions", replicas_.partitions().size()));
    done(Status::Ok());
  }));
}

net::Address Broker::address() const {
  return listener_ ? listener_->address() : net::Address{};
}

void Broker::accept(net::ConnectionPtr conn) {
  if (stopping_) return conn->close();
  if (connections_.size() >= static_cast<size_t>(config_.max_connections)) {
    spdlog::warn("refusing a connection from {}: max.connections={} reached",
                 conn->peer_address().to_string(), config_.max_connections);
    return conn->close();
  }
  // BUGGIFY: a connection may break at any moment, the first one included; clients reconnect.
  if (GREGOR_BUGGIFY(env_, broker_refuse_connection)) return conn->close();
  auto kc = std::make_shared<KafkaConnection>(
      std::move(conn), apis_, config_, env_.clock,
      guarded(alive_, [this](KafkaConnection* closed) { connections_.erase(closed); }));
  connections_[kc.get()] = kc;
  kc->start();
}

void Broker::shutdown(std::function<void(const Status&)> done) {
  if (stopping_) return done(Status::Ok());
  // A controlled shutdown first (with a quorum): the controller moves this broker's leaderships
  // away while it still serves, so clients find the new leaders before it goes.
  controller_->shutdown(guarded(alive_, [this, done](const Status&) { stop_serving(done); }));
}

void Broker::stop_serving(std::function<void(const Status&)> done) {
  stopping_ = true;
  listener_.reset();
  auto open = std::move(connections_);
  connections_.clear();
  for (auto& [raw, conn] : open) conn->close();
  apis_.complete_delayed_fetches();
  groups_.stop();
  replicas_.close_all(guarded(alive_, [this, done](const Status& s) {
    auto finish = [this, done, s] {
      spdlog::info("broker {} stopped", config_.node_id);
      env_.tracer.event("broker.stopped", TraceFields().add("node_id", config_.node_id));
      done(s);
    };
    if (!s.ok()) return finish();
    controller_->logs_closed(guarded(alive_, finish));
  }));
}

}  // namespace gregor::broker
