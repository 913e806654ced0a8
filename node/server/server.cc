#include "node/server/server.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/assert.h"
#include "base/crc32c.h"
#include "base/guarded.h"
#include "base/steps.h"
#include "disk/disk.h"

namespace gregor::server {

namespace {

raft::RaftNodeConfig raft_config(Env& env, const broker::BrokerConfig& c) {
  raft::RaftNodeConfig r;
  r.raft.id = c.node_id;
  for (const broker::QuorumVoter& v : c.quorum_voters) {
    r.raft.voters.push_back(v.id);
    r.voter_addresses[v.id] = net::Address{v.host, v.port};
  }
  r.tick = kRaftTick;
  r.raft.election_timeout_ticks =
      std::max<int>(2, static_cast<int>(c.quorum_election_timeout_ms / kRaftTick));
  r.raft.pre_vote = !c.legacy_disable_pre_vote;
  r.raft.check_quorum = !c.legacy_disable_check_quorum;
  r.raft.seed = env.random.next_u64();
  r.metadata_dir = c.effective_metadata_dir();
  r.snapshot_every_entries = c.metadata_snapshot_every_entries;
  r.cluster_id = cluster_id_of(c);
  r.channel.client_id = fmt::format("controller-{}", c.node_id);
  return r;
}

controller::ControllerConfig logic_config(const broker::BrokerConfig& c) {
  controller::ControllerConfig l;
  l.default_num_partitions = c.num_partitions;
  l.default_replication_factor = c.default_replication_factor;
  l.default_min_insync_replicas = c.min_insync_replicas;
  l.session_timeout = c.broker_session_timeout_ms;
  l.unclean_leader_election = c.unclean_leader_election_enable;
  l.broker_epoch_fencing = !c.legacy_disable_broker_epoch_fencing;
  l.eligible_leader_replicas = !c.legacy_disable_eligible_leader_replicas;
  return l;
}

}  // namespace

std::string cluster_id_of(const broker::BrokerConfig& config) {
  std::string voters = broker::quorum_voters_string(config.quorum_voters);
  return fmt::format("gregor-{:08x}", crc32c(0, voters.data(), voters.size()));
}

Server::Server(Env& env, broker::BrokerConfig config) : env_(env), config_(std::move(config)) {
  if (config_.kraft()) {
    metadata_ = std::make_unique<metadata::MetadataNode>(env_, raft_config(env_, config_));
    if (config_.role_controller) {
      const broker::QuorumVoter* self = nullptr;
      for (const auto& v : config_.quorum_voters)
        if (v.id == config_.node_id) self = &v;
      GREGOR_ASSERT(self != nullptr, "node {}: a controller must be a voter", config_.node_id);
      controller::QuorumControllerConfig qc;
      qc.node_id = config_.node_id;
      qc.listen = net::Address{self->host, self->port};
      qc.logic = logic_config(config_);
      controller_ = std::make_unique<controller::QuorumController>(env_, *metadata_, qc);
    }
  }
  if (!config_.kraft() || config_.role_broker) {
    broker_ = std::make_unique<broker::Broker>(env_, config_, metadata_.get(),
                                               config_.kraft() ? cluster_id_of(config_) : "");
  }
}

Server::~Server() {
  *alive_ = false;
  // The broker and controller hold references into the metadata node: they go first.
  broker_.reset();
  controller_.reset();
  metadata_.reset();
}

void Server::start(std::function<void(const Status&)> done) {
  if (!config_.kraft()) return broker_->start(std::move(done));
  std::vector<Step> steps = {
      [this](Next next) {
        env_.disk.mkdir(config_.log_dir, [next](const Status& s) {
          next(s.code() == Errc::already_exists ? Status::Ok() : s);
        });
      },
      [this](Next next) { env_.disk.fsync_dir(disk::parent_dir(config_.log_dir), next); },
      [this](Next next) { metadata_->start(next); },
      [this](Next next) { next(controller_ ? controller_->start() : Status::Ok()); },
      [this](Next next) {
        if (!broker_) return next(Status::Ok());
        broker_->start(next);
      },
  };
  run_steps(std::move(steps), guarded(alive_, [this, done](const Status& s) {
              if (s.ok()) {
                spdlog::info("node {} started ({}{}{})", config_.node_id, broker_ ? "broker" : "",
                             broker_ && controller_ ? "+" : "", controller_ ? "controller" : "");
              }
              done(s);
            }));
}

void Server::shutdown(std::function<void(const Status&)> done) {
  auto rest = [this, done](const Status& s) {
    if (controller_) controller_->stop();
    if (metadata_) metadata_->stop();
    done(s);
  };
  if (!broker_) return rest(Status::Ok());
  broker_->shutdown(guarded(alive_, rest));
}

}  // namespace gregor::server
