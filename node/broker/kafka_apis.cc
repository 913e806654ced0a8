// Request dispatch, and the metadata and admin APIs: ApiVersions, Metadata, CreateTopics,
// DeleteTopics, DescribeConfigs, InitProducerId.
#include "node/broker/kafka_apis.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "base/guarded.h"
#include "base/steps.h"

namespace gregor::broker {

using kafka::ApiKey;
using kafka::ErrorCode;
namespace k = kafka;

namespace {
// The APIs served (each in the version range of node/kafka/api.h).
constexpr ApiKey kServed[] = {ApiKey::Produce,
                              ApiKey::Fetch,
                              ApiKey::ListOffsets,
                              ApiKey::Metadata,
                              ApiKey::OffsetCommit,
                              ApiKey::OffsetFetch,
                              ApiKey::FindCoordinator,
                              ApiKey::JoinGroup,
                              ApiKey::Heartbeat,
                              ApiKey::LeaveGroup,
                              ApiKey::SyncGroup,
                              ApiKey::DescribeGroups,
                              ApiKey::ListGroups,
                              ApiKey::ApiVersions,
                              ApiKey::CreateTopics,
                              ApiKey::DeleteTopics,
                              ApiKey::InitProducerId,
                              ApiKey::DescribeConfigs,
                              k::ReplicationApiKey::OffsetForLeaderEpoch};
}  // namespace

KafkaApis::KafkaApis(Env& env, const BrokerConfig& config, MetadataAuthority& controller,
                     ReplicaManager& replicas, GroupManager& groups)
    : env_(env), config_(config), controller_(controller), replicas_(replicas), groups_(groups) {
  replicas_.set_on_new_data([this](Partition& partition, size_t bytes, DataEvent event) {
    on_new_data(partition, bytes, event);
  });
}

KafkaApis::~KafkaApis() {
  *alive_ = false;
  replicas_.set_on_new_data(nullptr);
}

bool KafkaApis::serves(ApiKey api, int16_t version) {
  bool listed = std::find(std::begin(kServed), std::end(kServed), api) != std::end(kServed);
  return listed && k::is_supported(api, version);
}

k::ApiVersionsResponse KafkaApis::api_versions(ErrorCode error) {
  k::ApiVersionsResponse resp;
  resp.error_code = code(error);
  for (const k::ApiInfo& api : k::kApis) {
    if (std::find(std::begin(kServed), std::end(kServed), api.key) == std::end(kServed)) continue;
    resp.api_keys.push_back({static_cast<int16_t>(api.key), api.min_version, api.max_version});
  }
  return resp;
}

void KafkaApis::handle(ByteView frame, std::string_view client_host, Reply reply) {
  ++counters_.requests;
  client_host_ = client_host;
  Reader r(frame);
  auto header = k::decode_request_header(r);
  if (!header.ok()) {
    ++counters_.bad_requests;
    return reply(header.status());
  }
  const k::RequestHeader h = *header;
  if (!serves(h.api_key, h.api_version)) {
    if (h.api_key == ApiKey::ApiVersions) {
      // Kafka's rule: an ApiVersions of a version we do not know is answered in v0, with our
      // ranges, so the client can pick one.
      auto frame = k::encode_response_frame(ApiKey::ApiVersions, 0, h.correlation_id,
                                            api_versions(ErrorCode::unsupported_version));
      if (!frame.ok()) return reply(frame.status());
      return reply(std::optional<Bytes>(std::move(frame).value()));
    }
    ++counters_.bad_requests;
    return reply(errorf(Errc::invalid_argument, "{} v{} is not served", k::api_name(h.api_key),
                        h.api_version));
  }
  k::visit_api(h.api_key, [&](auto traits) {
    using Traits = decltype(traits);
    using Req = typename Traits::Request;
    using Resp = typename Traits::Response;
    if constexpr (requires(KafkaApis & a, Req q, std::function<void(Resp)> f) { a.on(h, q, f); }) {
      auto req = k::decode<Req>(r, h.api_version);
      if (!req.ok()) {
        ++counters_.bad_requests;
        return reply(req.status());
      }
      bool no_response = false;
      if constexpr (std::is_same_v<Req, k::ProduceRequest>) no_response = req->acks == 0;
      on(h, std::move(req).value(), [h, no_response, reply](Resp resp) {
        if (no_response) return reply(std::optional<Bytes>());
        auto frame = k::encode_response_frame(Traits::key, h.api_version, h.correlation_id, resp);
        if (!frame.ok()) return reply(frame.status());
        reply(std::optional<Bytes>(std::move(frame).value()));
      });
    } else {
      reply(errorf(Errc::invalid_argument, "{} has no handler", k::api_name(h.api_key)));
    }
  });
}

void KafkaApis::on(const k::RequestHeader&, k::ApiVersionsRequest,
                   std::function<void(k::ApiVersionsResponse)> done) {
  done(api_versions(ErrorCode::none));
}

void KafkaApis::on(const k::RequestHeader& h, k::MetadataRequest req,
                   std::function<void(k::MetadataResponse)> done) {
  // Version 0 has no null: an empty list asks for every topic. Auto-creation is always allowed
  // before version 4, where the flag appeared.
  if (h.api_version == 0 && req.topics && req.topics->empty()) req.topics.reset();
  bool auto_create =
      config_.auto_create_topics_enable && (h.api_version < 4 || req.allow_auto_topic_creation);
  std::vector<Step> creates;
  if (req.topics && auto_create) {
    for (auto& t : *req.topics) {
      if (controller_.image().topic(t.name) || invalid_topic_name(t.name)) continue;
      creates.push_back([this, name = t.name](Next next) {
        TopicRequest create;
        create.name = name;
        controller_.create_topic(create, [name, next](TopicResult r) {
          if (r.error != ErrorCode::none && r.error != ErrorCode::topic_already_exists) {
            spdlog::warn("auto-creating topic {}: {}", name, r.message);
          }
          next(Status::Ok());  // the response tells the client how it went
        });
      });
    }
  }
  run_steps(std::move(creates), guarded(alive_, [this, h, req, done](const Status&) {
              metadata_response(h, req, done);
            }));
}

void KafkaApis::metadata_response(const k::RequestHeader&, const k::MetadataRequest& req,
                                  std::function<void(k::MetadataResponse)> done) {
  const MetadataImage& image = controller_.image();
  k::MetadataResponse resp;
  for (auto& [id, b] : image.brokers) resp.brokers.push_back({b.id, b.host, b.port, std::nullopt});
  resp.cluster_id = image.cluster_id;
  resp.controller_id = image.controller_id;
  auto describe = [&](const std::string& name) {
    k::MetadataResponse::MetadataResponseTopic t;
    t.name = name;
    t.is_internal = name == kOffsetsTopic;
    const TopicImage* topic = image.topic(name);
    if (!topic) {
      // A topic another request is creating: not there yet, so retry (Kafka's answer).
      t.error_code = code(invalid_topic_name(name)        ? ErrorCode::invalid_topic_exception
                          : controller_.in_progress(name) ? ErrorCode::leader_not_available
                                                          : ErrorCode::unknown_topic_or_partition);
      return t;
    }
    for (const PartitionImage& p : topic->partitions) {
      t.partitions.push_back({code(ErrorCode::none), p.partition, p.leader, p.replicas, p.isr, {}});
    }
    return t;
  };
  if (!req.topics) {
    for (auto& [name, topic] : image.topics) resp.topics.push_back(describe(name));
  } else {
    for (auto& t : *req.topics) resp.topics.push_back(describe(t.name));
  }
  done(std::move(resp));
}

void KafkaApis::on(const k::RequestHeader& h, k::CreateTopicsRequest req,
                   std::function<void(k::CreateTopicsResponse)> done) {
  auto resp = std::make_shared<k::CreateTopicsResponse>();
  std::vector<Step> steps;
  std::map<std::string, int> seen;
  for (auto& t : req.topics) ++seen[t.name];
  for (auto& t : req.topics) {
    size_t slot = resp->topics.size();
    resp->topics.push_back({t.name, code(ErrorCode::none), std::nullopt});
    auto fail = [&resp, slot, &h](ErrorCode e, std::string message) {
      resp->topics[slot].error_code = code(e);
      if (h.api_version >= 1) resp->topics[slot].error_message = std::move(message);
    };
    if (seen[t.name] > 1) {
      fail(ErrorCode::invalid_request, "the topic appears more than once in the request");
      continue;
    }
    TopicRequest create;
    create.name = t.name;
    create.num_partitions = t.num_partitions;
    create.replication_factor = t.replication_factor;
    create.validate_only = req.validate_only;
    if (!t.assignments.empty()) {
      if (t.num_partitions != -1 || t.replication_factor != -1) {
        fail(ErrorCode::invalid_request,
             "with replica assignments, num_partitions and replication_factor must be -1");
        continue;
      }
      bool ok = true;
      for (size_t i = 0; i < t.assignments.size(); ++i) {
        ok &= t.assignments[i].partition_index == static_cast<int32_t>(i) &&
              t.assignments[i].broker_ids == std::vector<int32_t>{config_.node_id};
      }
      if (!ok) {
        fail(ErrorCode::invalid_replica_assignment,
             fmt::format("partitions must be 0..n-1, each on broker {} alone", config_.node_id));
        continue;
      }
      create.num_partitions = static_cast<int32_t>(t.assignments.size());
    }
    for (auto& c : t.configs) create.configs.emplace_back(c.name, c.value);
    steps.push_back([this, create, resp, slot, version = h.api_version](Next next) {
      controller_.create_topic(create, [resp, slot, version, next](TopicResult r) {
        resp->topics[slot].error_code = code(r.error);
        if (version >= 1 && r.error != ErrorCode::none)
          resp->topics[slot].error_message = r.message;
        next(Status::Ok());
      });
    });
  }
  run_steps(std::move(steps), [resp, done](const Status&) { done(std::move(*resp)); });
}

void KafkaApis::on(const k::RequestHeader&, k::DeleteTopicsRequest req,
                   std::function<void(k::DeleteTopicsResponse)> done) {
  auto resp = std::make_shared<k::DeleteTopicsResponse>();
  std::vector<Step> steps;
  for (auto& name : req.topic_names) {
    size_t slot = resp->responses.size();
    resp->responses.push_back({name, code(ErrorCode::none)});
    if (name == kOffsetsTopic) {
      // Deleting it would forget every group's offsets; Kafka refuses internal topics too.
      resp->responses[slot].error_code = code(ErrorCode::invalid_topic_exception);
      continue;
    }
    steps.push_back([this, name, resp, slot](Next next) {
      controller_.delete_topic(name, [resp, slot, next](TopicResult r) {
        resp->responses[slot].error_code = code(r.error);
        next(Status::Ok());
      });
    });
  }
  run_steps(std::move(steps), [resp, done](const Status&) { done(std::move(*resp)); });
}

void KafkaApis::on(const k::RequestHeader& h, k::DescribeConfigsRequest req,
                   std::function<void(k::DescribeConfigsResponse)> done) {
  constexpr int8_t kTopic = 2, kBroker = 4;
  constexpr int8_t kDynamicTopic = 1, kStaticBroker = 4, kDefault = 5;  // config_source values
  k::DescribeConfigsResponse resp;
  for (auto& res : req.resources) {
    k::DescribeConfigsResponse::DescribeConfigsResult out;
    out.resource_type = res.resource_type;
    out.resource_name = res.resource_name;
    auto wanted = [&](const std::string& key) {
      return !res.configuration_keys ||
             std::find(res.configuration_keys->begin(), res.configuration_keys->end(), key) !=
                 res.configuration_keys->end();
    };
    auto add = [&](const std::string& name, const std::string& value, bool is_default,
                   int8_t source) {
      if (!wanted(name)) return;
      k::DescribeConfigsResponse::DescribeConfigsResourceResult c;
      c.name = name;
      c.value = value;
      c.is_default = is_default;
      c.config_source = h.api_version >= 1 ? source : -1;
      out.configs.push_back(std::move(c));
    };
    if (res.resource_type == kTopic) {
      const TopicImage* topic = controller_.image().topic(res.resource_name);
      auto config = topic ? topic_config_of(config_, *topic)
                          : Result<TopicConfig>(error(Errc::not_found, res.resource_name));
      if (!config.ok()) {
        out.error_code = code(ErrorCode::unknown_topic_or_partition);
        out.error_message = fmt::format("no topic '{}'", res.resource_name);
      } else {
        for (auto& e : describe_topic_config(*config)) {
          add(e.name, e.value, e.is_default, e.is_default ? kDefault : kDynamicTopic);
        }
      }
    } else if (res.resource_type == kBroker &&
               (res.resource_name.empty() ||
                res.resource_name == std::to_string(config_.node_id))) {
      for (auto& [key, value] : config_.describe()) add(key, value, false, kStaticBroker);
    } else {
      out.error_code = code(ErrorCode::invalid_request);
      out.error_message =
          fmt::format("no resource {} '{}' on this broker", res.resource_type, res.resource_name);
    }
    resp.results.push_back(std::move(out));
  }
  done(std::move(resp));
}

void KafkaApis::on(const k::RequestHeader&, k::InitProducerIdRequest req,
                   std::function<void(k::InitProducerIdResponse)> done) {
  if (req.transactional_id && !req.transactional_id->empty()) {
    spdlog::info("InitProducerId for transactional id '{}': transactions are not supported",
                 *req.transactional_id);
    k::InitProducerIdResponse resp;
    resp.error_code = code(ErrorCode::invalid_request);
    return done(resp);
  }
  controller_.allocate_producer_id([done](Result<int64_t> id) {
    k::InitProducerIdResponse resp;
    if (!id.ok()) {
      resp.error_code = code(ErrorCode::kafka_storage_error);
    } else {
      resp.producer_id = *id;
      resp.producer_epoch = 0;
    }
    done(resp);
  });
}

}  // namespace gregor::broker
