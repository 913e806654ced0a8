#include "client/admin.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

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

// Sends `req` on `conn` and keeps the connection object alive until `done` ran. A connection can
// end between being handed out and this send; send() then fails the request from the loop, but a
// KafkaClientConnection runs no callback once destroyed, and this call's reference may be the
// last one (the MetadataClient dropped its link when it ended): the call would never complete
// (found by EveryCallCompletesWhileResponsesAreLost with the group calls).
template <typename Req, typename Fn>
void send_on(const MetadataClient::ConnectionPtr& conn, const Req& req, Fn done) {
  conn->send(req, [conn, done](Result<ResponseOf<Req>> r) { done(std::move(r)); });
}

// A request with more topics (or groups) than kTopicsPerRequestMax is refused before it is sent.
template <typename T, typename Done>
bool too_many(Env& env, const std::shared_ptr<bool>& alive, size_t n, Done& done,
              std::string_view what = "topics") {
  if (n <= kTopicsPerRequestMax) return false;
  env.clock.schedule(Duration::zero(), guarded(alive, [done, n, what] {
                       done(errorf(Errc::limit_exceeded, "{} {} in one request > {}", n, what,
                                   kTopicsPerRequestMax));
                     }));
  return true;
}

// The broker's message, else the error's name ("" for none).
std::string error_text(ErrorCode e, const std::optional<std::string>& msg) {
  if (msg && !msg->empty()) return *msg;
  return e == ErrorCode::none ? std::string() : std::string(k::error_name(e));
}

TopicResult topic_result(std::string name, int16_t code, const std::optional<std::string>& msg) {
  auto e = static_cast<ErrorCode>(code);
  return TopicResult{std::move(name), e, error_text(e, msg)};
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
    send_on(*conn, req, guarded(alive_, [this, done](Result<k::CreateTopicsResponse> resp) {
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
    send_on(*conn, req, guarded(alive_, [done](Result<k::DeleteTopicsResponse> resp) {
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
        send_on(*conn, req, guarded(alive_, [done](Result<k::DescribeConfigsResponse> resp) {
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

// --- Consumer groups -----------------------------------------------------------------------------

void Admin::find_coordinator(const std::string& group, CoordinatorFn done) {
  k::FindCoordinatorRequest req;
  req.key = group;
  req.key_type = 0;  // a group
  metadata_.any_connection(
      guarded(alive_, [this, req, done](Result<MetadataClient::ConnectionPtr> conn) {
        if (!conn.ok()) return done(conn.status());
        send_on(*conn, req, guarded(alive_, [done](Result<k::FindCoordinatorResponse> resp) {
          if (!resp.ok()) return done(resp.status());
          auto e = static_cast<ErrorCode>(resp->error_code);
          done(Coordinator{e, error_text(e, resp->error_message),
                           e == ErrorCode::none ? resp->node_id : -1});
        }));
      }));
}

void Admin::connection_to_node(int32_t node_id, MetadataClient::ConnectionFn done) {
  if (metadata_.broker_address(node_id)) return metadata_.connection_to(node_id, std::move(done));
  metadata_.refresh(guarded(alive_, [this, node_id, done](const Status& s) {
    if (!s.ok()) return done(s);
    metadata_.connection_to(node_id, done);  // not_found if the metadata does not name it
  }));
}

void Admin::list_groups(Done<std::vector<ListedGroup>> done) {
  metadata_.fetch(
      std::vector<std::string>{}, guarded(alive_, [this, done](Result<ClusterMetadata> meta) {
        if (!meta.ok()) return done(meta.status());
        if (meta->brokers.empty()) {
          return done(error(Errc::not_found, "the metadata names no broker"));
        }
        struct Gather {
          size_t pending = 0;
          std::optional<Status> failed;
          std::vector<ListedGroup> groups;
        };
        auto g = std::make_shared<Gather>();
        g->pending = meta->brokers.size();
        auto finish = [g, done] {
          if (--g->pending > 0) return;
          if (g->failed) return done(*g->failed);
          std::sort(g->groups.begin(), g->groups.end());
          done(std::move(g->groups));
        };
        for (const BrokerMetadata& b : meta->brokers) {
          int32_t node = b.node_id;
          auto fail = [g, node](const Status& s) {
            if (!g->failed) {
              g->failed =
                  Status(s.code(), fmt::format("ListGroups of broker {}: {}", node, s.message()));
            }
          };
          metadata_.connection_to(
              node, guarded(alive_, [this, node, fail, finish,
                                     g](Result<MetadataClient::ConnectionPtr> conn) {
                if (!conn.ok()) {
                  fail(conn.status());
                  return finish();
                }
                send_on(
                    *conn, k::ListGroupsRequest{},
                    guarded(alive_, [node, fail, finish, g](Result<k::ListGroupsResponse> resp) {
                      if (!resp.ok()) {
                        fail(resp.status());
                      } else if (resp->error_code != 0) {
                        fail(kafka_status(static_cast<ErrorCode>(resp->error_code), "ListGroups"));
                      } else {
                        for (auto& l : resp->groups) {
                          g->groups.push_back({l.group_id, l.protocol_type, node});
                        }
                      }
                      finish();
                    }));
              }));
        }
      }));
}

namespace {
GroupDescription described(const k::DescribeGroupsResponse::DescribedGroup& d, int32_t node) {
  GroupDescription g;
  g.group_id = d.group_id;
  g.error = static_cast<ErrorCode>(d.error_code);
  g.message = error_text(g.error, std::nullopt);
  g.coordinator = node;
  g.state = d.group_state;
  g.protocol_type = d.protocol_type;
  g.protocol = d.protocol_data;
  for (auto& m : d.members) {
    g.members.push_back(
        {m.member_id, m.client_id, m.client_host, m.member_metadata, m.member_assignment});
  }
  return g;
}
}  // namespace

void Admin::describe_at(int32_t node_id, std::vector<std::string> groups,
                        std::function<void(Result<std::vector<GroupDescription>>)> done) {
  k::DescribeGroupsRequest req;
  req.groups = std::move(groups);
  connection_to_node(
      node_id,
      guarded(alive_, [this, node_id, req, done](Result<MetadataClient::ConnectionPtr> conn) {
        if (!conn.ok()) return done(conn.status());
        send_on(*conn, req,
                guarded(alive_, [node_id, req, done](Result<k::DescribeGroupsResponse> resp) {
                  if (!resp.ok()) return done(resp.status());
                  std::vector<GroupDescription> out;
                  for (auto& d : resp->groups) out.push_back(described(d, node_id));
                  // A group the coordinator left out of its answer is an error, not absent.
                  for (auto& name : req.groups) {
                    auto listed = [&](auto& g) { return g.group_id == name; };
                    if (std::none_of(out.begin(), out.end(), listed)) {
                      GroupDescription g;
                      g.group_id = name;
                      g.error = ErrorCode::unknown_server_error;
                      g.message = "missing from the coordinator's DescribeGroups answer";
                      g.coordinator = node_id;
                      out.push_back(std::move(g));
                    }
                  }
                  done(std::move(out));
                }));
      }));
}

void Admin::describe_groups(std::vector<std::string> groups,
                            Done<std::vector<GroupDescription>> done) {
  if (too_many<std::vector<GroupDescription>>(env_, alive_, groups.size(), done, "groups")) return;
  struct Gather {
    size_t pending = 0;
    std::optional<Status> failed;
    std::map<std::string, GroupDescription> by_name;
    std::map<int32_t, std::vector<std::string>> by_coordinator;
  };
  auto g = std::make_shared<Gather>();
  std::set<std::string> unique(groups.begin(), groups.end());
  // Phase 3: the descriptions in the order asked for.
  auto answer = [g, groups, done] {
    if (g->failed) return done(*g->failed);
    std::vector<GroupDescription> out;
    for (auto& name : groups) out.push_back(g->by_name.at(name));
    done(std::move(out));
  };
  if (unique.empty()) {
    env_.clock.schedule(Duration::zero(), guarded(alive_, answer));
    return;
  }
  // Phase 2: one DescribeGroups per coordinator.
  auto describe = [this, g, answer] {
    if (g->failed || g->by_coordinator.empty()) return answer();
    g->pending = g->by_coordinator.size();
    for (auto& [node, names] : g->by_coordinator) {
      describe_at(node, names, [g, answer](Result<std::vector<GroupDescription>> r) {
        if (!r.ok() && !g->failed) g->failed = r.status();
        if (r.ok()) {
          for (auto& d : *r) g->by_name[d.group_id] = std::move(d);
        }
        if (--g->pending == 0) answer();
      });
    }
  };
  // Phase 1: every group's coordinator.
  g->pending = unique.size();
  for (const std::string& name : unique) {
    find_coordinator(name, [g, name, describe](Result<Coordinator> c) {
      if (!c.ok()) {
        if (!g->failed) g->failed = c.status();
      } else if (c->error != ErrorCode::none) {
        GroupDescription d;
        d.group_id = name;
        d.error = c->error;
        d.message = c->message;
        g->by_name[name] = std::move(d);
      } else {
        g->by_coordinator[c->node_id].push_back(name);
      }
      if (--g->pending == 0) describe();
    });
  }
}

void Admin::list_group_offsets(std::string group, Done<GroupOffsets> done) {
  find_coordinator(group, [this, group, done](Result<Coordinator> c) {
    if (!c.ok()) return done(c.status());
    GroupOffsets out;
    out.group_id = group;
    out.coordinator = c->node_id;
    if (c->error != ErrorCode::none) {
      out.error = c->error;
      out.message = c->message;
      return done(std::move(out));
    }
    connection_to_node(
        c->node_id, guarded(alive_, [this, out, done](Result<MetadataClient::ConnectionPtr> conn) {
          if (!conn.ok()) return done(conn.status());
          auto v = (*conn)->version(k::ApiKey::OffsetFetch);
          if (!v || *v < 2) {
            return done(error(Errc::invalid_argument,
                              "the coordinator serves no OffsetFetch v2+ (every "
                              "offset of a group)"));
          }
          k::OffsetFetchRequest req;
          req.group_id = out.group_id;
          req.topics.reset();  // every partition with a committed offset
          send_on(*conn, req, guarded(alive_, [out, done](Result<k::OffsetFetchResponse> r) {
            if (!r.ok()) return done(r.status());
            GroupOffsets o = out;
            o.error = static_cast<ErrorCode>(r->error_code);
            o.message = error_text(o.error, std::nullopt);
            for (auto& t : r->topics) {
              for (auto& p : t.partitions) {
                o.offsets[{t.name, p.partition_index}] = {p.committed_offset,
                                                          p.committed_leader_epoch, p.metadata,
                                                          static_cast<ErrorCode>(p.error_code)};
              }
            }
            done(std::move(o));
          }));
        }));
  });
}

}  // namespace gregor::client
