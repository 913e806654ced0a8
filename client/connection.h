// KafkaClientConnection: one client connection to one broker over env.network.
//
// connect() opens the byte stream and runs the ApiVersions handshake: for every api of
// kafka::kApis the connection then uses the highest version both the broker and Gregor's codecs
// support (nullopt: none in common, and send() of that api fails). send() encodes a typed request
// with the next correlation id, and its callback gets the typed response, decoded in the version
// it was sent in. Kafka answers requests on a connection in order, so responses are matched
// against the oldest request in flight; a response with another correlation id is a protocol
// error that ends the connection.
//
// Contracts:
// - Every callback (connect's and send's) runs exactly once, later, from the event loop, never
//   inside the call that registered it; except that after close() by the owner, or after the
//   object is destroyed, no callback of a request in flight runs (the owner knows what it had in
//   flight). A send() refused at once (not ready, no common version, too many in flight) always
//   gets its failure, even if the object is destroyed before it runs.
// - A request with no answer within its timeout (request_timeout_ms unless send() says otherwise)
//   ends the connection: as Kafka's NetworkClient does, since later answers on it are stuck
//   behind the missing one. Ending a connection fails every request in flight with the typed
//   reason (Errc::timed_out, connection_reset, closed for an orderly close by the broker,
//   corrupt for a bad frame), then calls on_close once.
// - Produce with acks=0 gets no response: its callback runs once the request is queued on the
//   socket, with an empty ProduceResponse (no partitions listed).
// - A connection that ended stays ended: make a new one to reconnect.
#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "base/env.h"
#include "base/guarded.h"
#include "client/client_types.h"
#include "net/frame_reader.h"
#include "net/network.h"
#include "node/kafka/api.h"

namespace gregor::client {

struct ConnectionConfig {
  std::string client_id = "gregor";
  Duration request_timeout_ms = milliseconds(30000);
  Duration connection_setup_timeout_ms = seconds(10);  // connect + ApiVersions handshake
  uint32_t response_bytes_max = kResponseBytesMax;
  size_t requests_in_flight_max = kRequestsInFlightMax;
};

template <class Req>
using ResponseOf = typename kafka::ApiTraits<Req::api_key>::Response;

class KafkaClientConnection {
 public:
  enum class State : uint8_t { idle, connecting, handshake, ready, closed };

  KafkaClientConnection(Env& env, net::Address address, ConnectionConfig config);
  ~KafkaClientConnection();
  KafkaClientConnection(const KafkaClientConnection&) = delete;
  KafkaClientConnection& operator=(const KafkaClientConnection&) = delete;

  // Connects and negotiates versions; done gets ok once ready, or why it failed (then the
  // connection is closed). Call once, on an idle connection.
  void connect(std::function<void(const Status&)> done);
  // Runs once when a ready connection ends for a reason other than close() (a connection that
  // fails while connecting reports through connect's callback instead).
  void set_on_close(std::function<void(const Status&)> on_close) {
    on_close_ = std::move(on_close);
  }

  // Sends a request; done gets the decoded response or why there is none. Fails (through done)
  // with Errc::closed when not ready, invalid_argument when the broker serves no common version
  // of the api, limit_exceeded past requests_in_flight_max, or the encoder's error.
  template <kafka::Message Req>
  void send(const Req& req, std::function<void(Result<ResponseOf<Req>>)> done,
            std::optional<Duration> timeout = std::nullopt) {
    using Resp = ResponseOf<Req>;
    bool no_response = false;
    if constexpr (std::is_same_v<Req, kafka::ProduceRequest>) no_response = req.acks == 0;
    auto version = version_for(Req::api_key);
    if (!version.ok()) return fail_later(std::move(done), version.status());
    kafka::RequestHeader header{Req::api_key, *version, next_correlation_id_, config_.client_id};
    auto frame = kafka::encode_request_frame(header, req);
    if (!frame.ok()) return fail_later(std::move(done), frame.status());
    send_frame(header, std::move(frame).value(), no_response,
               timeout.value_or(config_.request_timeout_ms),
               [done](Result<ByteView> body, int16_t v) {
                 if (!body.ok()) return done(body.status());
                 if (body->empty()) return done(Resp{});  // acks=0: nothing came back
                 Reader r(*body);
                 done(kafka::decode<Resp>(r, v));
               });
  }

  // Closes now; no callback of this connection runs afterwards.
  void close();

  State state() const { return state_; }
  bool ready() const { return state_ == State::ready; }
  bool closed() const { return state_ == State::closed; }
  const net::Address& address() const { return address_; }
  // The version negotiated for an api (after the handshake), nullopt if none in common.
  std::optional<int16_t> version(kafka::ApiKey api) const;
  size_t in_flight() const { return pending_.size(); }

 private:
  // Gets the response body (empty for a request without a response) and its version.
  using RawHandler = std::function<void(Result<ByteView> body, int16_t version)>;
  struct Pending {
    kafka::ApiKey api;
    int16_t version;
    int32_t correlation_id;
    TimerId timer = kNoTimer;
    RawHandler handler;
  };

  Result<int16_t> version_for(kafka::ApiKey api) const;
  void send_frame(const kafka::RequestHeader& header, Bytes frame, bool no_response,
                  Duration timeout, RawHandler handler);
  // A request refused at send() fails later even if this object is gone by then: the caller
  // may hold the last reference (a connection handed over just before it closed) and still
  // waits for the answer. The callback is the caller's, guarded by the caller's own token.
  template <typename Fn>
  void fail_later(Fn done, Status status) {
    env_.clock.schedule(Duration::zero(), [done = std::move(done), status] { done(status); });
  }
  void on_connected(Result<net::ConnectionPtr> conn);
  void send_api_versions(int16_t version);
  void on_api_versions(Result<ByteView> body, int16_t version);
  void on_data(ByteView data);
  // Ends the connection: fails the handshake or every pending request with `why`, then on_close.
  void fail(const Status& why);

  Env& env_;
  net::Address address_;
  ConnectionConfig config_;
  State state_ = State::idle;
  net::ConnectionPtr conn_;
  net::FrameReader reader_;
  int32_t next_correlation_id_ = 1;
  std::deque<Pending> pending_;
  std::map<kafka::ApiKey, int16_t> versions_;
  std::function<void(const Status&)> connect_done_;
  std::function<void(const Status&)> on_close_;
  TimerId setup_timer_ = kNoTimer;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::client
