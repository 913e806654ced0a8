// A Gregor process in the simulator: the real server::Server (a broker, a controller, or both)
// built from the process's Env and started at once; `started` holds start()'s outcome once it is
// known.
#pragma once

#include <optional>

#include "node/server/server.h"
#include "sim/cluster.h"

namespace gregor::scenario {

struct ServerProcess final : sim::Service {
  // A process that cannot start (a full disk, say) exits, as `gregor serve` does, and its
  // supervisor starts it again later (Env::halt); it never lingers half-started.
  ServerProcess(Env& env, broker::BrokerConfig config) : server(env, std::move(config)) {
    server.start([this, &env](const Status& s) {
      started = s;
      if (!s.ok() && env.halt) env.halt(s);
    });
  }
  server::Server server;
  std::optional<Status> started;
};

}  // namespace gregor::scenario
