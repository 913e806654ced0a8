#include "client/metadata.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/fault_points.h"
#include "base/guarded.h"

namespace gregor::client {

namespace k = kafka;

MetadataClient::MetadataClient(Env& env, CommonConfig config)
    : env_(env), config_(std::move(config)) {
  auto bootstrap = parse_bootstrap_servers(config_.bootstrap_servers);
  GREGOR_ASSERT(bootstrap.ok(), "MetadataClient: {}", bootstrap.status().to_string());
  bootstrap_ = std::move(bootstrap).value();
  connection_config_.client_id = config_.client_id;
  connection_config_.request_timeout_ms = config_.request_timeout_ms;
  connection_config_.connection_setup_timeout_ms = config_.connection_setup_timeout_ms;
  connection_config_.response_bytes_max = config_.response_bytes_max;
}

MetadataClient::~MetadataClient() {
  close();
}

void MetadataClient::close() {
  alive_ = std::make_shared<bool>(true);  // drops every callback registered so far
  env_.clock.cancel(refresh_timer_);
  refresh_timer_ = kNoTimer;
  env_.clock.cancel(age_timer_);
  age_timer_ = kNoTimer;
  auto links = std::move(links_);
  links_.clear();
  for (auto& [address, link] : links) {
    if (link.conn) link.conn->close();
  }
  refreshing_ = false;
  refresh_waiters_.clear();
  on_change_ = nullptr;
}

void MetadataClient::changed() {
  if (on_change_) on_change_();
}

// --- Connections -------------------------------------------------------------------------------

std::optional<net::Address> MetadataClient::broker_address(int32_t node_id) const {
  auto it = brokers_.find(node_id);
  if (it == brokers_.end() || it->second.port <= 0 || it->second.port > 65535) return std::nullopt;
  return net::Address{it->second.host, static_cast<uint16_t>(it->second.port)};
}

void MetadataClient::connection_to(int32_t node_id, ConnectionFn done) {
  auto address = broker_address(node_id);
  if (!address) {
    request_refresh();
    env_.clock.schedule(Duration::zero(), guarded(alive_, [done, node_id] {
                          done(errorf(Errc::not_found, "no address known for broker {}", node_id));
                        }));
    return;
  }
  connect(*address, std::move(done));
}

MetadataClient::ConnectionPtr MetadataClient::ready_connection(int32_t node_id) {
  auto address = broker_address(node_id);
  if (!address) {
    request_refresh();
    return nullptr;
  }
  auto it = links_.find(*address);
  if (it != links_.end())
    return it->second.conn && it->second.conn->ready() ? it->second.conn : nullptr;
  connect(*address, [](Result<ConnectionPtr>) {});  // on_change tells the owner when it is up
  return nullptr;
}

void MetadataClient::connect(const net::Address& address, ConnectionFn done) {
  auto it = links_.find(address);
  if (it != links_.end()) {
    Link& link = it->second;
    if (link.conn && link.conn->ready()) {
      env_.clock.schedule(Duration::zero(),
                          guarded(alive_, [done, conn = link.conn] { done(conn); }));
    } else {
      link.waiters.push_back(std::move(done));
    }
    return;
  }
  links_[address].waiters.push_back(std::move(done));
  MonoTime now = env_.clock.now();
  auto failed = connect_failed_at_.find(address);
  Duration wait =
      failed == connect_failed_at_.end()
          ? Duration::zero()
          : std::max(Duration::zero(), failed->second + config_.reconnect_backoff_ms - now);
  if (wait == Duration::zero()) return start_connect(address);
  env_.clock.schedule(wait, guarded(alive_, [this, address] { start_connect(address); }));
}

void MetadataClient::start_connect(const net::Address& address) {
  auto it = links_.find(address);
  if (it == links_.end() || it->second.conn) return;
  auto conn = std::make_shared<KafkaClientConnection>(env_, address, connection_config_);
  it->second.conn = conn;
  conn->set_on_close(
      guarded(alive_, [this, address](const Status& s) { on_link_closed(address, s); }));
  conn->connect(guarded(alive_, [this, address](const Status& s) { on_link_ready(address, s); }));
}

void MetadataClient::on_link_ready(const net::Address& address, const Status& s) {
  auto it = links_.find(address);
  if (it == links_.end()) return;
  auto waiters = std::move(it->second.waiters);
  it->second.waiters.clear();
  ConnectionPtr conn = it->second.conn;
  if (!s.ok()) {
    connect_failed_at_[address] = env_.clock.now();
    links_.erase(it);
    // As Kafka's NetworkClient on a failed connect: the broker may be gone for good (a crashed
    // leader whose partitions moved), so ask where things are now rather than retrying it
    // until metadata.max.age.ms (rate-limited by retry.backoff.ms).
    request_refresh();
  } else {
    connect_failed_at_.erase(address);
  }
  std::weak_ptr<bool> alive = alive_;
  for (auto& w : waiters) {
    if (alive.expired()) return;
    if (s.ok()) {
      w(conn);
    } else {
      w(s);
    }
  }
  if (!alive.expired()) changed();
}

void MetadataClient::on_link_closed(const net::Address& address, const Status& s) {
  spdlog::debug("client {}: connection to {} ended: {}", config_.client_id, address.to_string(), s);
  // Waiters may have joined the link while it was closing (a request's failure handler, run
  // before this, asked for a connection again): they learn it ended, never silently dropped (found
  // by the client_lose_response fault point: an Admin call that never completed).
  std::vector<ConnectionFn> waiters;
  if (auto it = links_.find(address); it != links_.end()) waiters = std::move(it->second.waiters);
  links_.erase(address);
  request_refresh();
  std::weak_ptr<bool> alive = alive_;
  for (auto& w : waiters) {
    if (alive.expired()) return;
    w(s);
  }
  if (!alive.expired()) changed();
}

std::vector<net::Address> MetadataClient::candidates() const {
  std::vector<net::Address> out;
  if (auto controller = broker_address(controller_id_)) out.push_back(*controller);
  for (auto& [id, b] : brokers_) {
    if (auto a = broker_address(id)) out.push_back(*a);
  }
  for (auto& a : bootstrap_) out.push_back(a);
  std::vector<net::Address> unique;
  for (auto& a : out) {
    if (std::find(unique.begin(), unique.end(), a) == unique.end()) unique.push_back(a);
  }
  return unique;
}

void MetadataClient::any_connection(ConnectionFn done) {
  for (const net::Address& a : candidates()) {
    auto it = links_.find(a);
    if (it != links_.end() && it->second.conn && it->second.conn->ready()) {
      return connect(a, std::move(done));
    }
  }
  any_from(0, std::move(done));
}

void MetadataClient::any_from(size_t index, ConnectionFn done) {
  auto all = candidates();
  if (index >= all.size()) {
    env_.clock.schedule(Duration::zero(), guarded(alive_, [done] {
                          done(error(Errc::unreachable, "no broker reachable"));
                        }));
    return;
  }
  connect(all[index], guarded(alive_, [this, index, done, n = all.size()](Result<ConnectionPtr> r) {
            if (r.ok() || index + 1 >= n) return done(std::move(r));
            any_from(index + 1, done);
          }));
}

// --- Metadata ----------------------------------------------------------------------------------

const TopicMetadata* MetadataClient::topic(const std::string& name) const {
  auto it = topics_.find(name);
  return it == topics_.end() ? nullptr : &it->second;
}

std::optional<int32_t> MetadataClient::leader(const TopicPartition& tp) const {
  const TopicMetadata* t = topic(tp.topic);
  if (!t) return std::nullopt;
  for (const PartitionMetadata& p : t->partitions) {
    if (p.partition == tp.partition) {
      if (p.leader < 0 || !brokers_.contains(p.leader)) return std::nullopt;
      return p.leader;
    }
  }
  return std::nullopt;
}

void MetadataClient::track(const std::vector<std::string>& topics) {
  bool added = false;
  for (auto& t : topics) added |= tracked_.insert(t).second;
  if (added) request_refresh();
}

void MetadataClient::refresh(std::function<void(const Status&)> done) {
  refresh_waiters_.push_back(std::move(done));
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  send_refresh();
}

void MetadataClient::request_refresh() {
  if (refreshing_) {
    refresh_again_ = true;
    return;
  }
  if (refresh_timer_ != kNoTimer) return;
  MonoTime now = env_.clock.now();
  Duration wait = last_refresh_
                      ? std::max(Duration::zero(), *last_refresh_ + config_.retry_backoff_ms - now)
                      : Duration::zero();
  refresh_timer_ = env_.clock.schedule(wait, guarded(alive_, [this] {
                                         refresh_timer_ = kNoTimer;
                                         if (!refreshing_) send_refresh();
                                       }));
}

void MetadataClient::send_refresh() {
  env_.clock.cancel(refresh_timer_);
  refresh_timer_ = kNoTimer;
  refreshing_ = true;
  refresh_again_ = false;
  // BUGGIFY: a refresh can always fail (no broker reachable); owners must retry, not stall.
  if (GREGOR_BUGGIFY(env_, client_metadata_refresh_fails)) {
    env_.clock.schedule(Duration::zero(), guarded(alive_, [this] {
                          finish_refresh(error(Errc::unreachable, "no broker reachable (buggify)"));
                        }));
    return;
  }
  any_connection(guarded(alive_, [this](Result<ConnectionPtr> conn) {
    if (!conn.ok()) return finish_refresh(conn.status());
    k::MetadataRequest req;
    req.topics.emplace();
    for (auto& t : tracked_) req.topics->push_back({t});
    req.allow_auto_topic_creation = config_.allow_auto_create_topics;
    (*conn)->send(req, guarded(alive_, [this](Result<k::MetadataResponse> resp) {
                    if (!resp.ok()) return finish_refresh(resp.status());
                    apply(*resp, true);
                    finish_refresh(Status::Ok());
                  }));
  }));
}

void MetadataClient::finish_refresh(const Status& s) {
  refreshing_ = false;
  last_refresh_ = env_.clock.now();
  if (s.ok()) refreshed_once_ = true;
  if (!s.ok()) {
    spdlog::debug("client {}: metadata refresh failed: {}", config_.client_id, s);
  }
  auto waiters = std::move(refresh_waiters_);
  refresh_waiters_.clear();
  if (refresh_again_ || (!s.ok() && !tracked_.empty())) {
    // A failed refresh of tracked topics is retried (spaced by retry_backoff_ms), as Kafka's
    // clients keep a failed metadata update requested: an owner that waits for a topic's first
    // metadata may have nothing else that would ask again (found by the client_lose_response and
    // broker_refuse_connection fault points: the producer's records waited out
    // delivery_timeout_ms).
    refresh_again_ = false;
    request_refresh();
  } else if (s.ok() && !tracked_.empty()) {
    // metadata.max.age.ms: refresh even when nothing went wrong.
    env_.clock.cancel(age_timer_);
    age_timer_ = env_.clock.schedule(config_.metadata_max_age_ms, guarded(alive_, [this] {
                                       age_timer_ = kNoTimer;
                                       request_refresh();
                                     }));
  }
  std::weak_ptr<bool> alive = alive_;
  for (auto& w : waiters) {
    if (alive.expired()) return;
    w(s);
  }
  if (!alive.expired()) changed();
}

void MetadataClient::apply(const k::MetadataResponse& resp, bool cache_topics) {
  brokers_.clear();
  for (auto& b : resp.brokers) brokers_[b.node_id] = {b.node_id, b.host, b.port, b.rack};
  controller_id_ = resp.controller_id;
  if (!cache_topics) return;
  for (auto& t : resp.topics) {
    TopicMetadata m;
    m.name = t.name;
    m.error = static_cast<k::ErrorCode>(t.error_code);
    m.is_internal = t.is_internal;
    for (auto& p : t.partitions) {
      m.partitions.push_back({p.partition_index, static_cast<k::ErrorCode>(p.error_code),
                              p.leader_id, p.replica_nodes, p.isr_nodes, p.offline_replicas});
    }
    std::sort(m.partitions.begin(), m.partitions.end(),
              [](auto& a, auto& b) { return a.partition < b.partition; });
    topics_[t.name] = std::move(m);
  }
}

void MetadataClient::fetch(std::optional<std::vector<std::string>> topics,
                           std::function<void(Result<ClusterMetadata>)> done) {
  any_connection(guarded(alive_, [this, topics, done](Result<ConnectionPtr> conn) {
    if (!conn.ok()) return done(conn.status());
    k::MetadataRequest req;
    if (topics) {
      req.topics.emplace();
      for (auto& t : *topics) req.topics->push_back({t});
    } else {
      req.topics.reset();
    }
    req.allow_auto_topic_creation = false;
    (*conn)->send(
        req, guarded(alive_, [this, done](Result<k::MetadataResponse> resp) {
          if (!resp.ok()) return done(resp.status());
          apply(*resp, false);
          ClusterMetadata out;
          out.cluster_id = resp->cluster_id;
          out.controller_id = resp->controller_id;
          for (auto& [id, b] : brokers_) out.brokers.push_back(b);
          for (auto& t : resp->topics) {
            TopicMetadata m{t.name, static_cast<k::ErrorCode>(t.error_code), t.is_internal, {}};
            for (auto& p : t.partitions) {
              m.partitions.push_back({p.partition_index, static_cast<k::ErrorCode>(p.error_code),
                                      p.leader_id, p.replica_nodes, p.isr_nodes,
                                      p.offline_replicas});
            }
            std::sort(m.partitions.begin(), m.partitions.end(),
                      [](auto& a, auto& b) { return a.partition < b.partition; });
            out.topics.push_back(std::move(m));
          }
          done(std::move(out));
        }));
  }));
}

}  // namespace gregor::client
