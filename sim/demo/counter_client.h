// A client of the demo counter: sends increments one at a time to random nodes and records each
// one's outcome in a history that outlives the client, for the checker.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "base/env.h"
#include "net/frame_reader.h"
#include "net/network.h"
#include "sim/demo/counter_node.h"

namespace gregor::demo {

struct CounterOp {
  enum class Outcome : uint8_t { ok, fail, unknown };
  uint32_t client = 0;
  uint64_t id = 0;
  uint32_t node = 0;
  MonoTime invoked{};
  MonoTime completed{};
  Outcome outcome = Outcome::unknown;
  uint32_t slot = 0;
  uint64_t count = 0;  // for ok: the slot value this increment made durable
};

struct CounterHistory {
  std::vector<CounterOp> ops;
};

struct CounterClientConfig {
  uint32_t client = 0;
  std::vector<net::Address> nodes;
  Duration request_timeout = seconds(1);
  Duration think_min = milliseconds(5);
  Duration think_max = milliseconds(60);
  uint32_t frame_bytes_max = 4096;
};

class CounterClient {
 public:
  CounterClient(Env& env, CounterClientConfig config, CounterHistory* history);
  ~CounterClient();
  // No new operations after this; the one in flight completes or times out.
  void stop() { stopped_ = true; }
  bool idle() const { return !in_flight_; }

 private:
  void schedule_next();
  void begin();
  void complete(CounterOp::Outcome outcome, uint32_t slot, uint64_t count);
  void on_data(ByteView data);

  Env& env_;
  CounterClientConfig config_;
  CounterHistory* history_;
  bool stopped_ = false;
  bool in_flight_ = false;
  bool sent_ = false;
  CounterOp op_;
  uint64_t next_id_ = 1;
  net::ConnectionPtr conn_;
  std::unique_ptr<net::FrameReader> reader_;
  TimerId timer_ = kNoTimer;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace gregor::demo
