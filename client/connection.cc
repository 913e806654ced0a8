#include "client/connection.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "base/fault_points.h"

namespace gregor::client {

namespace k = kafka;

namespace {
// Our newest ApiVersions version; the broker answers one it does not serve with its ranges in v0.
constexpr int16_t kApiVersionsVersion = 3;
}  // namespace

KafkaClientConnection::KafkaClientConnection(Env& env, net::Address address,
                                             ConnectionConfig config)
    : env_(env),
      address_(std::move(address)),
      config_(std::move(config)),
      reader_(config_.response_bytes_max) {}

KafkaClientConnection::~KafkaClientConnection() {
  close();
}

void KafkaClientConnection::close() {
  alive_ = std::make_shared<bool>(true);  // callbacks registered before this never run
  env_.clock.cancel(setup_timer_);
  setup_timer_ = kNoTimer;
  for (Pending& p : pending_) env_.clock.cancel(p.timer);
  pending_.clear();
  connect_done_ = nullptr;
  if (conn_) conn_->close();
  conn_.reset();
  state_ = State::closed;
}

std::optional<int16_t> KafkaClientConnection::version(k::ApiKey api) const {
  auto it = versions_.find(api);
  if (it == versions_.end()) return std::nullopt;
  return it->second;
}

Result<int16_t> KafkaClientConnection::version_for(k::ApiKey api) const {
  if (state_ != State::ready) {
    return errorf(Errc::closed, "connection to {} is not ready", address_.to_string());
  }
  auto v = version(api);
  if (!v) {
    return errorf(Errc::invalid_argument, "broker {} serves no version of {} that Gregor speaks",
                  address_.to_string(), k::api_name(api));
  }
  return *v;
}

void KafkaClientConnection::connect(std::function<void(const Status&)> done) {
  GREGOR_ASSERT(state_ == State::idle, "connect() of a connection in state {}",
                static_cast<int>(state_));
  state_ = State::connecting;
  connect_done_ = std::move(done);
  setup_timer_ = env_.clock.schedule(
      config_.connection_setup_timeout_ms, guarded(alive_, [this] {
        setup_timer_ = kNoTimer;
        fail(errorf(Errc::timed_out, "connection to {} not set up within {}", address_.to_string(),
                    format_duration(config_.connection_setup_timeout_ms)));
      }));
  env_.network.connect(address_, guarded(alive_, [this](Result<net::ConnectionPtr> conn) {
                         on_connected(std::move(conn));
                       }));
}

void KafkaClientConnection::on_connected(Result<net::ConnectionPtr> conn) {
  if (state_ != State::connecting) {
    if (conn.ok()) (*conn)->close();
    return;
  }
  if (!conn.ok()) return fail(conn.status());  // the backends name the address
  conn_ = std::move(conn).value();
  conn_->set_handlers({
      .on_data = guarded(alive_, [this](ByteView data) { on_data(data); }),
      .on_close = guarded(alive_,
                          [this](const Status& s) {
                            conn_.reset();  // already closed by the peer
                            Errc code = s.ok() ? Errc::closed : s.code();
                            fail(Status(code, fmt::format("connection to {} ended: {}",
                                                          address_.to_string(),
                                                          s.ok() ? "closed" : s.message())));
                          }),
  });
  state_ = State::handshake;
  send_api_versions(kApiVersionsVersion);
}

void KafkaClientConnection::send_api_versions(int16_t version) {
  k::ApiVersionsRequest req;
  req.client_software_name = "gregor";
  req.client_software_version = "0.1.0";
  k::RequestHeader header{k::ApiKey::ApiVersions, version, next_correlation_id_, config_.client_id};
  auto frame = k::encode_request_frame(header, req);
  GREGOR_ASSERT(frame.ok(), "ApiVersions encode: {}", frame.status().to_string());
  send_frame(header, std::move(frame).value(), false, config_.connection_setup_timeout_ms,
             [this](Result<ByteView> body, int16_t v) { on_api_versions(std::move(body), v); });
}

void KafkaClientConnection::on_api_versions(Result<ByteView> body, int16_t version) {
  if (!body.ok()) return fail(body.status());
  auto resp = k::decode<k::ApiVersionsResponse>(*body, version);
  if (!resp.ok() || resp->error_code == static_cast<int16_t>(k::ErrorCode::unsupported_version)) {
    // An older broker answers a version it does not know in v0, listing what it serves.
    auto v0 = k::decode<k::ApiVersionsResponse>(*body, 0);
    if (v0.ok() && v0->error_code == static_cast<int16_t>(k::ErrorCode::unsupported_version) &&
        version > 0) {
      int16_t retry = 0;
      for (auto& a : v0->api_keys) {
        if (a.api_key == static_cast<int16_t>(k::ApiKey::ApiVersions))
          retry = std::clamp<int16_t>(a.max_version, 0, static_cast<int16_t>(version - 1));
      }
      return send_api_versions(retry);
    }
    if (!resp.ok()) return fail(resp.status());
  }
  if (resp->error_code != 0) {
    return fail(kafka_status(static_cast<k::ErrorCode>(resp->error_code),
                             fmt::format("ApiVersions from {}", address_.to_string())));
  }
  for (const k::ApiInfo& ours : k::kApis) {
    for (auto& theirs : resp->api_keys) {
      if (theirs.api_key != static_cast<int16_t>(ours.key)) continue;
      int16_t lo = std::max(ours.min_version, theirs.min_version);
      int16_t hi = std::min(ours.max_version, theirs.max_version);
      if (lo <= hi) versions_[ours.key] = hi;
    }
  }
  env_.clock.cancel(setup_timer_);
  setup_timer_ = kNoTimer;
  state_ = State::ready;
  auto done = std::move(connect_done_);
  connect_done_ = nullptr;
  if (done) done(Status::Ok());
}

void KafkaClientConnection::send_frame(const k::RequestHeader& header, Bytes frame,
                                       bool no_response, Duration timeout, RawHandler handler) {
  if (pending_.size() >= config_.requests_in_flight_max) {
    return fail_later([handler](const Status& s) { handler(s, 0); },
                      errorf(Errc::limit_exceeded, "{} requests in flight to {}", pending_.size(),
                             address_.to_string()));
  }
  ++next_correlation_id_;
  if (next_correlation_id_ == INT32_MAX) next_correlation_id_ = 1;
  // BUGGIFY: a timeout is a guess about the network and the broker; a short one makes a request
  // end its connection with its outcome unknown, which callers must handle (a produce is resent).
  if (!no_response && GREGOR_BUGGIFY(env_, client_short_request_timeout)) {
    timeout = std::min(timeout, env_.fault_points->uniform_duration(milliseconds(1), seconds(1)));
  }
  conn_->send(std::move(frame));
  if (no_response) {
    env_.clock.schedule(Duration::zero(), guarded(alive_, [handler, v = header.api_version] {
                          handler(ByteView{}, v);
                        }));
    return;
  }
  Pending p{header.api_key, header.api_version, header.correlation_id, kNoTimer,
            std::move(handler)};
  p.timer = env_.clock.schedule(
      timeout, guarded(alive_, [this, id = header.correlation_id, api = header.api_key, timeout] {
        for (Pending& q : pending_) {
          if (q.correlation_id == id) q.timer = kNoTimer;
        }
        GREGOR_PROBE(env_, client_request_timed_out);
        fail(errorf(Errc::timed_out, "{} request {} to {} got no response within {}",
                    k::api_name(api), id, address_.to_string(), format_duration(timeout)));
      }));
  pending_.push_back(std::move(p));
}

void KafkaClientConnection::on_data(ByteView data) {
  reader_.feed(data);
  std::weak_ptr<bool> alive = alive_;
  while (!alive.expired() && conn_) {
    auto frame = reader_.next();
    if (!frame.ok()) return fail(Status(Errc::corrupt, frame.status().message()));
    if (!*frame) return;
    if (pending_.empty()) {
      return fail(errorf(Errc::corrupt, "{} sent a response to no request", address_.to_string()));
    }
    // BUGGIFY: the connection breaks just after the broker answered: the request took effect but
    // its caller learns only that the connection ended (for a produce, the "unknown" outcome
    // that idempotent retries must settle), as a reset in the network would do.
    if (GREGOR_BUGGIFY(env_, client_lose_response)) {
      return fail(errorf(Errc::connection_reset, "connection to {} reset (buggify: response lost)",
                         address_.to_string()));
    }
    Pending p = std::move(pending_.front());
    pending_.pop_front();
    env_.clock.cancel(p.timer);
    Reader r(**frame);
    auto header = k::decode_response_header(r, k::response_header_version(p.api, p.version));
    if (!header.ok() || header->correlation_id != p.correlation_id) {
      return fail(errorf(Errc::corrupt, "{}: response correlation id {} where {} ({}) was next",
                         address_.to_string(), header.ok() ? header->correlation_id : -1,
                         p.correlation_id, k::api_name(p.api)));
    }
    ByteView body = ByteView(**frame).subspan(r.position());
    if (body.empty()) {
      // An empty body cannot be told from "no response" by the handler; no Kafka body is empty.
      return fail(
          errorf(Errc::corrupt, "{}: empty {} response", address_.to_string(), k::api_name(p.api)));
    }
    p.handler(body, p.version);  // may close or destroy this connection
  }
}

void KafkaClientConnection::fail(const Status& why) {
  if (state_ == State::closed) return;
  spdlog::debug("client connection to {}: {}", address_.to_string(), why.to_string());
  auto pending = std::move(pending_);
  pending_.clear();
  for (Pending& p : pending) env_.clock.cancel(p.timer);
  auto connect_done = std::move(connect_done_);
  auto on_close = std::move(on_close_);
  close();
  // From here on any callback may destroy this object: only locals are used.
  for (Pending& p : pending) {
    // The handshake's own request is reported through connect's callback.
    if (connect_done && p.api == k::ApiKey::ApiVersions) continue;
    p.handler(why, p.version);
  }
  if (connect_done) {
    connect_done(why);
  } else if (on_close) {
    on_close(why);
  }
}

}  // namespace gregor::client
