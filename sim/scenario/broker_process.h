// A broker as a simulated process: the real broker::Broker built from the process's Env, started
// at once; `started` holds start()'s outcome once it is known.
#pragma once

#include <optional>

#include "node/broker/broker.h"
#include "sim/cluster.h"

namespace gregor::scenario {

struct BrokerProcess final : sim::Service {
  // A broker that cannot start (a full disk, say) exits, as `gregor serve` does, and its
  // supervisor starts it again later (Env::halt); it never lingers half-started.
  BrokerProcess(Env& env, broker::BrokerConfig config) : broker(env, std::move(config)) {
    broker.start([this, &env](const Status& s) {
      started = s;
      if (!s.ok() && env.halt) env.halt(s);
    });
  }
  broker::Broker broker;
  std::optional<Status> started;
};

}  // namespace gregor::scenario
