#include "client/admin.h"

#include <fmt/format.h>

#include "base/guarded.h"

namespace gregor::client {

using kafka::ErrorCode;
namespace k = kafka;

Status validate(const AdminConfig& c) {
  auto bootstrap = parse_bootstrap_servers(c.bootstrap_servers);
  if (!bootstrap.ok()) return bootstrap.status();
  if (c.request_timeout_ms <= Duration::zero()) {
    return error(Errc::invalid_argument, "request.timeout.ms must be positive");
  }
  return Status::Ok();
}

Admin::Admin(Env& env, AdminConfig config)
    : env_(env), config_(std::move(config)), metadata_(env, config_) {
  Status valid = validate(config_);
  GREGOR_ASSERT(valid.ok(), "Admin: {}", valid.to_string());
}

Admin::~Admin() {
  close();
}

void Admin::close() {
  alive_ = std::make_shared<bool>(true);
  metadata_.close();
}

void Admin::controller(MetadataClient::ConnectionFn done) {
  if (metadata_.has_metadata() && metadata_.controller_id() >= 0) {
    return metadata_.connection_to(metadata_.controller_id(), std::move(done));
  }
  metadata_.refresh(guarded(alive_, [this, done](const Status& s) {
    if (!s.ok() || metadata_.controller_id() < 0) return metadata_.any_connection(done);
    metadata_.connection_to(metadata_.controller_id(), done);
  }));
}

namespace {
constexpr int8_t kDefaultConfigSource = 5;  // Kafka's ConfigSource.DEFAULT_CONFIG

// A request with more topics than kTopicsPerRequestMax is refused before it is sent.
template <typename T, typename Done>
bool too_many(Env& env, const std::shared_ptr<bool>& alive, size_t n, Done& done) {
  if (n <= kTopicsPerRequestMax) return false;
  env.clock.schedule(Duration::zero(), guarded(alive, [done, n] {
                       done(errorf(Errc::limit_exceeded, "{} topics in one request > {}", n,
                                   kTopicsPerRequestMax));
                     }));
  return true;
}

TopicResult topic_result(std::string name, int16_t code, const std::optional<std::string>& msg) {
  auto e = static_cast<ErrorCode>(code);
  std::string text = msg && !msg->empty()   ? *msg
                     : e == ErrorCode::none ? std::string()
                                            : std::string(k::error_name(e));
  return TopicResult{std::move(name), e, std::move(text)};
}
}  // namespace

void Admin::create_topics(std::vector<NewTopic> topics, bool validate_only,
                          Done<std::vector<TopicResult>> done) {
  if (too_many<TopicResult>(env_, alive_, topics.size(), done)) return;
  k::CreateTopicsRequest req;
  req.timeout_ms = static_cast<int32_t>(to_ms(config_.operation_timeout_ms));
  req.validate_only = validate_only;
  for (auto& t : topics) {
    k::CreateTopicsRequest::CreatableTopic c;
    c.name = t.name;
    c.num_partitions = t.num_partitions;
    c.replication_factor = t.replication_factor;
    for (auto& [key, value] : t.configs) c.configs.push_back({key, value});
    req.topics.push_back(std::move(c));
  }
  controller(guarded(alive_, [this, req, done](Result<MetadataClient::ConnectionPtr> conn) {
    if (!conn.ok()) return done(conn.status());
    (*conn)->send(req, guarded(alive_, [this, done](Result<k::CreateTopicsResponse> resp) {
                    if (!resp.ok()) return done(resp.status());
                    std::vector<TopicResult> out;
                    for (auto& t : resp->topics) {
                      out.push_back(topic_result(t.name, t.error_code, t.error_message));
                    }
                    metadata_.request_refresh();
                    done(std::move(out));
                  }));
  }));
}

void Admin::delete_topics(std::vector<std::string> names, Done<std::vector<TopicResult>> done) {
  if (too_many<TopicResult>(env_, alive_, names.size(), done)) return;
  k::DeleteTopicsRequest req;
  req.topic_names = std::move(names);
  req.timeout_ms = static_cast<int32_t>(to_ms(config_.operation_timeout_ms));
  controller(guarded(alive_, [this, req, done](Result<MetadataClient::ConnectionPtr> conn) {
    if (!conn.ok()) return done(conn.status());
    (*conn)->send(req, guarded(alive_, [done](Result<k::DeleteTopicsResponse> resp) {
                    if (!resp.ok()) return done(resp.status());
                    std::vector<TopicResult> out;
                    for (auto& t : resp->responses) {
                      out.push_back(topic_result(t.name, t.error_code, std::nullopt));
                    }
                    done(std::move(out));
                  }));
  }));
}

void Admin::list_topics(Done<ClusterMetadata> done) {
  metadata_.fetch(std::nullopt, std::move(done));
}

void Admin::describe_topics(std::vector<std::string> names, Done<ClusterMetadata> done) {
  if (too_many<ClusterMetadata>(env_, alive_, names.size(), done)) return;
  metadata_.fetch(std::move(names), std::move(done));
}

void Admin::describe_configs(std::vector<ConfigResource> resources, std::vector<std::string> keys,
                             Done<std::vector<ConfigResult>> done) {
  if (too_many<ConfigResult>(env_, alive_, resources.size(), done)) return;
  k::DescribeConfigsRequest req;
  for (auto& r : resources) {
    k::DescribeConfigsRequest::DescribeConfigsResource res;
    res.resource_type = static_cast<int8_t>(r.type);
    res.resource_name = r.name;
    if (keys.empty()) {
      res.configuration_keys.reset();
    } else {
      res.configuration_keys = keys;
    }
    req.resources.push_back(std::move(res));
  }
  metadata_.any_connection(
      guarded(alive_, [this, req, done](Result<MetadataClient::ConnectionPtr> conn) {
        if (!conn.ok()) return done(conn.status());
        (*conn)->send(
            req, guarded(alive_, [done](Result<k::DescribeConfigsResponse> resp) {
              if (!resp.ok()) return done(resp.status());
              std::vector<ConfigResult> out;
              for (auto& r : resp->results) {
                ConfigResult c;
                c.resource = {static_cast<ConfigResourceType>(r.resource_type), r.resource_name};
                TopicResult t = topic_result(r.resource_name, r.error_code, r.error_message);
                c.error = t.error;
                c.message = t.message;
                for (auto& e : r.configs) {
                  // v0 says is_default; v1+ says where the value comes from instead.
                  bool is_default =
                      e.config_source < 0 ? e.is_default : e.config_source == kDefaultConfigSource;
                  c.entries.push_back(
                      {e.name, e.value, e.read_only, is_default, e.config_source, e.is_sensitive});
                }
                out.push_back(std::move(c));
              }
              done(std::move(out));
            }));
      }));
}

}  // namespace gregor::client
