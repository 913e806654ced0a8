// A Broker in a simulated world, driven synchronously for tests, with a raw Kafka client on a
// second node that sends encoded requests and decodes responses (so tests see exactly the bytes
// the broker answers). crash() kills the broker's node (unsynced disk data can be lost); restart()
// brings it back from its disk.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>

#include "net/frame_reader.h"
#include "node/broker/broker.h"
#include "sim/sim_clock.h"
#include "sim/sim_disk.h"
#include "sim/sim_network.h"
#include "sim/world.h"

namespace gregor::broker::testing {

class BrokerHarness {
 public:
  explicit BrokerHarness(std::string toml = "", uint64_t seed = 1)
      : world_(sim::World::Options{seed, {}}),
        broker_node_(world_.add_node("b0")),
        client_node_(world_.add_node("client")),
        disk_(world_, broker_node_, sim::SimDisk::Options{}),
        broker_clock_(world_, broker_node_),
        network_(world_),
        random_(seed),
        env_{broker_clock_, random_, network_.endpoint(broker_node_), disk_, tracer_, "b0", true} {
    auto parsed = parse_broker_config(toml, "test.toml");
    EXPECT_TRUE(parsed.ok()) << parsed.status();
    config_ = parsed.ok() ? *parsed : BrokerConfig{};
    config_.log_dir = "data";
    config_.listener = {"b0", 9092};
    config_.advertised_listener = config_.listener;
  }

  Status start() {
    broker_ = std::make_unique<Broker>(env_, config_);
    std::optional<Status> got;
    broker_->start([&](const Status& s) { got = s; });
    run([&] { return got.has_value(); });
    return got ? *got : error(Errc::timed_out, "start never completed");
  }
  Status shutdown() {
    disconnect();
    std::optional<Status> got;
    broker_->shutdown([&](const Status& s) { got = s; });
    run([&] { return got.has_value(); });
    broker_.reset();
    return got ? *got : error(Errc::timed_out, "shutdown never completed");
  }
  // Kills the broker's process; power_loss drops unsynced disk writes (a random prefix kept).
  void crash(bool power_loss) {
    disconnect();
    broker_.reset();
    world_.kill(broker_node_);
    network_.crash(broker_node_, false);
    if (power_loss) {
      disk_.crash(world_.rng("crash"));
    } else {
      disk_.process_crash();
    }
    world_.revive(broker_node_);
  }

  // Sends a request on the client connection (connecting first if needed) and waits for its
  // response; Errc::closed if the broker closed the connection instead.
  template <typename Req, typename Resp = typename kafka::ApiTraits<Req::api_key>::Response>
  Result<Resp> call(int16_t version, const Req& req) {
    int32_t id = send(version, req);
    if (id < 0) return error(Errc::closed, "not connected");
    run([&] { return responses_.contains(id) || !connected(); });
    auto it = responses_.find(id);
    if (it == responses_.end()) return error(Errc::closed, "connection closed by the broker");
    Bytes frame = std::move(it->second);
    responses_.erase(it);
    Reader r(frame);
    auto header =
        kafka::decode_response_header(r, kafka::response_header_version(Req::api_key, version));
    if (!header.ok()) return header.status();
    return kafka::decode<Resp>(r, version);
  }
  // Sends without waiting; returns the correlation id (-1 when the connection failed).
  template <typename Req>
  int32_t send(int16_t version, const Req& req) {
    if (!connected() && !connect().ok()) return -1;
    kafka::RequestHeader h{Req::api_key, version, next_correlation_++, "test-client"};
    auto frame = kafka::encode_request_frame(h, req);
    EXPECT_TRUE(frame.ok()) << frame.status();
    conn_->send(std::move(frame).value());
    return h.correlation_id;
  }
  // Sends raw bytes (hand-made frames for bad-input tests).
  void send_raw(Bytes bytes) {
    if (!connected() && !connect().ok()) return;
    conn_->send(std::move(bytes));
  }
  bool connected() const { return conn_ && conn_->is_open() && !closed_; }
  Status connect() {
    disconnect();
    std::optional<Result<net::ConnectionPtr>> got;
    network_.endpoint(client_node_).connect(broker_->address(), [&](auto c) { got = c; });
    run([&] { return got.has_value(); });
    if (!got || !got->ok()) return got ? got->status() : error(Errc::timed_out, "connect");
    conn_ = **got;
    closed_ = false;
    reader_ = std::make_unique<net::FrameReader>(64 << 20);
    conn_->set_handlers(
        {[this](ByteView data) { on_data(data); }, [this](const Status&) { closed_ = true; }});
    return Status::Ok();
  }
  void disconnect() {
    if (conn_) conn_->close();
    conn_ = nullptr;
    responses_.clear();
  }
  size_t responses_waiting() const { return responses_.size(); }

  void run(const std::function<bool()>& pred, Duration limit = seconds(120)) {
    world_.run_until(pred, world_.now() + limit);
  }
  void run_for(Duration d) { world_.run_for(d); }

  Broker& broker() { return *broker_; }
  BrokerConfig& config() { return config_; }
  sim::World& world() { return world_; }
  sim::SimDisk& disk() { return disk_; }
  Env& env() { return env_; }
  sim::SimNetwork& network() { return network_; }
  net::Network& client_network() { return network_.endpoint(client_node_); }

 private:
  void on_data(ByteView data) {
    reader_->feed(data);
    while (true) {
      auto frame = reader_->next();
      if (!frame.ok() || !*frame) return;
      Reader r(**frame);
      int32_t id = r.be<int32_t>();
      responses_[id] = std::move(**frame);
    }
  }

  sim::World world_;
  sim::NodeId broker_node_;
  sim::NodeId client_node_;
  sim::SimDisk disk_;
  sim::SimClock broker_clock_;
  sim::SimNetwork network_;
  Random random_;
  NullTracer tracer_;
  Env env_;
  BrokerConfig config_;
  std::unique_ptr<Broker> broker_;
  net::ConnectionPtr conn_;
  bool closed_ = false;
  std::unique_ptr<net::FrameReader> reader_;
  std::map<int32_t, Bytes> responses_;
  int32_t next_correlation_ = 1;
};

// A record batch of `count` records with values "<tag>:<i>" (keys "k<i>").
inline Bytes batch(int tag, int count, int64_t producer_id = -1, int32_t base_sequence = -1) {
  log::BatchBuilder::Options o;
  o.producer_id = producer_id;
  o.producer_epoch = producer_id >= 0 ? 0 : -1;
  o.base_sequence = base_sequence;
  log::BatchBuilder b(o);
  for (int i = 0; i < count; ++i) {
    std::string k = "k" + std::to_string(i);
    std::string v = std::to_string(tag) + ":" + std::to_string(i);
    b.add(1000 + i, as_bytes(k), as_bytes(v));
  }
  return b.build().value();
}

// Every record value of a record set, in order.
inline std::vector<std::pair<int64_t, std::string>> values(const std::optional<Bytes>& records) {
  std::vector<std::pair<int64_t, std::string>> out;
  if (!records) return out;
  log::BatchIterator it(*records);
  while (auto b = it.next()) {
    auto rs = log::decode_records(*b);
    if (!rs.ok()) break;
    for (auto& r : *rs) out.emplace_back(r.offset, r.value ? std::string(as_chars(*r.value)) : "");
  }
  return out;
}

}  // namespace gregor::broker::testing
