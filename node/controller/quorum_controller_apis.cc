// The broker-to-controller APIs of QuorumController: wire requests to controller_logic.h's
// plain requests, the decision written through the metadata log, and the answer back on the wire.
#include <spdlog/spdlog.h>

#include "node/controller/quorum_controller.h"

namespace gregor::controller {

namespace k = kafka;

namespace {
constexpr int16_t kNotController = code(ErrorCode::not_controller);
}  // namespace

void QuorumController::on_register(const k::BrokerRegistrationRequest& req,
                                   rpc::Responder responder) {
  k::BrokerRegistrationResponse resp;
  if (!active_) {
    resp.error_code = kNotController;
    return responder.reply(resp);
  }
  RegisterBrokerRequest r;
  r.broker_id = req.broker_id;
  r.incarnation_id = req.incarnation_id;
  for (const auto& l : req.listeners)
    r.endpoints.push_back(metadata::BrokerEndpoint{l.name, l.host, l.port, l.security_protocol});
  r.rack = req.rack && !req.rack->empty() ? req.rack : std::nullopt;
  r.previous_broker_epoch = req.previous_broker_epoch;
  // The RegisterBrokerRecord is the first record of the entry proposed next.
  int64_t offset = node_.raft().raft().log().end_offset();
  auto d = register_broker(pending_, tracker_, config_.logic, r, offset, env_.clock.now());
  if (!d.answer.error.ok()) {
    resp.error_code = code(d.answer.error.code);
    return responder.reply(resp);
  }
  int64_t epoch = d.answer.broker_epoch;
  if (!d.records.empty()) {
    env_.tracer.event("controller.register",
                      TraceFields().add("broker", req.broker_id).add("epoch", epoch));
  }
  write(std::move(d.records), [responder = std::move(responder), epoch](bool committed) mutable {
    k::BrokerRegistrationResponse resp;
    if (committed) {
      resp.broker_epoch = epoch;
    } else {
      resp.error_code = kNotController;
    }
    responder.reply(resp);
  });
}

void QuorumController::on_heartbeat(const k::BrokerHeartbeatRequest& req,
                                    rpc::Responder responder) {
  k::BrokerHeartbeatResponse resp;
  if (!active_) {
    resp.error_code = kNotController;
    return responder.reply(resp);
  }
  HeartbeatRequest r{req.broker_id, req.broker_epoch, req.current_metadata_offset, req.want_fence,
                     req.want_shut_down};
  auto it = pending_.brokers.find(req.broker_id);
  int64_t registration_offset = it == pending_.brokers.end() ? -1 : it->second.epoch;
  auto d = heartbeat(pending_, tracker_, config_.logic, r, env_.clock.now(), registration_offset);
  HeartbeatAnswer a = d.answer;
  if (!d.records.empty()) {
    env_.tracer.event("controller.broker_state", TraceFields()
                                                     .add("broker", req.broker_id)
                                                     .add("fenced", a.is_fenced)
                                                     .add("shutdown", a.should_shut_down));
  }
  write(std::move(d.records), [responder = std::move(responder), a](bool committed) mutable {
    k::BrokerHeartbeatResponse resp;
    if (!committed) {
      resp.error_code = kNotController;
    } else {
      resp.error_code = code(a.error.code);
      resp.is_caught_up = a.is_caught_up;
      resp.is_fenced = a.is_fenced;
      resp.should_shut_down = a.should_shut_down;
    }
    responder.reply(resp);
  });
}

void QuorumController::on_allocate_producer_ids(const k::AllocateProducerIdsRequest& req,
                                                rpc::Responder responder) {
  k::AllocateProducerIdsResponse resp;
  if (!active_) {
    resp.error_code = kNotController;
    return responder.reply(resp);
  }
  auto d = allocate_producer_ids(pending_, req.broker_id, req.broker_epoch,
                                 config_.logic.producer_id_block_size);
  ProducerIdBlock block = d.answer;
  write(std::move(d.records), [responder = std::move(responder), block](bool committed) mutable {
    k::AllocateProducerIdsResponse resp;
    if (!committed) {
      resp.error_code = kNotController;
    } else {
      resp.error_code = code(block.error.code);
      resp.producer_id_start = block.start;
      resp.producer_id_len = block.length;
    }
    responder.reply(resp);
  });
}

void QuorumController::on_alter_partition(const k::AlterPartitionRequest& req, int16_t version,
                                          rpc::Responder responder) {
  k::AlterPartitionResponse resp;
  if (!active_) {
    resp.error_code = kNotController;
    return responder.reply(resp);
  }
  AlterPartitionRequest r;
  r.broker_id = req.broker_id;
  r.broker_epoch = req.broker_epoch;
  for (const auto& t : req.topics) {
    AlterPartitionTopic topic;
    if (version >= 2) {
      topic.topic_id = t.topic_id;
    } else if (const auto* reg = pending_.topic(t.topic_name)) {
      topic.topic_id = reg->id;
    }
    for (const auto& p : t.partitions) {
      AlterPartitionItem item{
          p.partition_index, p.leader_epoch, {}, p.leader_recovery_state, p.partition_epoch};
      if (version >= 3) {
        for (const auto& m : p.new_isr_with_epochs)
          item.new_isr.push_back(IsrMember{m.broker_id, m.broker_epoch});
      } else {
        for (int32_t id : p.new_isr) item.new_isr.push_back(IsrMember{id, -1});
      }
      topic.partitions.push_back(std::move(item));
    }
    r.topics.push_back(std::move(topic));
  }
  auto d = alter_partition(pending_, config_.logic, r);
  AlterPartitionAnswer a = d.answer;
  std::vector<std::string> names;
  for (const auto& t : req.topics) names.push_back(t.topic_name);
  write(std::move(d.records), [responder = std::move(responder), a, names](bool committed) mutable {
    k::AlterPartitionResponse resp;
    if (!committed) {
      resp.error_code = kNotController;
      return responder.reply(resp);
    }
    resp.error_code = code(a.error.code);
    for (size_t i = 0; i < a.topics.size(); ++i) {
      k::AlterPartitionResponse::TopicData t;
      t.topic_id = a.topics[i].topic_id;
      if (i < names.size()) t.topic_name = names[i];
      for (const AlteredPartition& p : a.topics[i].partitions) {
        k::AlterPartitionResponse::PartitionData pd;
        pd.partition_index = p.partition;
        pd.error_code = code(p.error.code);
        pd.leader_id = p.leader;
        pd.leader_epoch = p.leader_epoch;
        pd.isr = p.isr;
        pd.leader_recovery_state = p.leader_recovery_state;
        pd.partition_epoch = p.partition_epoch;
        t.partitions.push_back(std::move(pd));
      }
      resp.topics.push_back(std::move(t));
    }
    responder.reply(resp);
  });
}

void QuorumController::on_create_topics(const k::CreateTopicsRequest& req,
                                        rpc::Responder responder) {
  k::CreateTopicsResponse resp;
  if (!active_) {
    for (const auto& t : req.topics)
      resp.topics.push_back({t.name, kNotController, "not the active controller"});
    return responder.reply(resp);
  }
  CreateTopicsRequest r;
  r.validate_only = req.validate_only;
  for (const auto& t : req.topics) {
    CreatableTopic topic{t.name, t.num_partitions, t.replication_factor, {}};
    for (const auto& c : t.configs) topic.configs.emplace_back(c.name, c.value);
    r.topics.push_back(std::move(topic));
  }
  auto d = create_topics(
      pending_, config_.logic, r,
      [this] {
        return metadata::Uuid{env_.random.next_u64(), env_.random.next_u64()};
      },
      [this] { return static_cast<uint32_t>(env_.random.next_u64()); });
  std::vector<CreatedTopic> created = d.answer;
  for (const CreatedTopic& t : created) {
    if (t.error.ok() && !r.validate_only) {
      env_.tracer.event("controller.topic_created",
                        TraceFields().add("topic", t.name).add("partitions", t.num_partitions));
    }
  }
  write(std::move(d.records), [responder = std::move(responder), created](bool committed) mutable {
    k::CreateTopicsResponse resp;
    for (const CreatedTopic& t : created) {
      if (!committed) {
        resp.topics.push_back({t.name, kNotController, "not the active controller"});
      } else if (t.error.ok()) {
        resp.topics.push_back({t.name, 0, std::nullopt});
      } else {
        resp.topics.push_back({t.name, code(t.error.code), t.error.message});
      }
    }
    responder.reply(resp);
  });
}

void QuorumController::on_delete_topics(const k::DeleteTopicsRequest& req,
                                        rpc::Responder responder) {
  k::DeleteTopicsResponse resp;
  if (!active_) {
    for (const auto& name : req.topic_names) resp.responses.push_back({name, kNotController});
    return responder.reply(resp);
  }
  std::vector<TopicRef> refs;
  for (const auto& name : req.topic_names) refs.push_back(TopicRef{name, {}});
  auto d = delete_topics(pending_, refs);
  std::vector<DeletedTopic> deleted = d.answer;
  write(std::move(d.records), [responder = std::move(responder), deleted](bool committed) mutable {
    k::DeleteTopicsResponse resp;
    for (const DeletedTopic& t : deleted) {
      resp.responses.push_back({t.name, committed ? code(t.error.code) : kNotController});
    }
    responder.reply(resp);
  });
}

}  // namespace gregor::controller
