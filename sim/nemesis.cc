#include "sim/nemesis.h"

#include <algorithm>

#include "base/assert.h"

namespace gregor::sim {

std::string_view fault_name(Fault f) {
  static constexpr std::string_view names[kFaultFamilies] = {
      "crash",     "power_loss", "pause",       "partition", "one_way",
      "clog",      "reset",      "refuse",      "hold",      "slow_link",
      "fsync_eio", "disk_full",  "disk_stall",  "bit_flip",  "latent_read",
      "misdirect", "wipe",       "clock_drift", "clock_jump"};
  return names[static_cast<int>(f)];
}

Nemesis::Nemesis(Cluster& cluster, Options options)
    : cluster_(cluster),
      world_(cluster.world()),
      options_(std::move(options)),
      rng_(cluster.world().rng("nemesis")) {
  for (int i = 0; i < kFaultFamilies; ++i) {
    auto f = static_cast<Fault>(i);
    if (options_.enabled.empty() || options_.enabled.count(f)) families_.push_back(f);
  }
}

void Nemesis::start(Duration duration) {
  GREGOR_ASSERT(!targets_.empty(), "nemesis without targets");
  active_ = true;
  end_ = world_.now() + duration;
  schedule_next();
}

void Nemesis::schedule_next() {
  if (families_.empty()) return;
  Duration wait(rng_.uniform_signed(options_.interval_min.count(), options_.interval_max.count()));
  if (world_.now() + wait >= end_) return;
  uint64_t epoch = epoch_;
  world_.after(wait, kWorldNode, [this, epoch] {
    if (!active_ || epoch != epoch_) return;
    inject(families_[rng_.uniform(0, families_.size() - 1)]);
    schedule_next();
  });
}

void Nemesis::later(std::function<void()> undo) {
  Duration d(rng_.uniform_signed(options_.fault_duration_min.count(),
                                 options_.fault_duration_max.count()));
  uint64_t epoch = epoch_;
  world_.after(d, kWorldNode, [this, epoch, undo = std::move(undo)] {
    if (epoch == epoch_) undo();
  });
}

NodeId Nemesis::pick() {
  return targets_[rng_.uniform(0, targets_.size() - 1)];
}

NodeId Nemesis::pick_up() {
  std::vector<NodeId> up;
  for (NodeId id : targets_)
    if (world_.state(id) == NodeState::up) up.push_back(id);
  return up.empty() ? 0 : up[rng_.uniform(0, up.size() - 1)];
}

void Nemesis::restart_later(NodeId id) {
  later([this, id] {
    if (!cluster_.is_up(id)) cluster_.restart(id);
  });
}

void Nemesis::inject(Fault f) {
  switch (f) {
    case Fault::crash:
    case Fault::power_loss:
    case Fault::pause:
    case Fault::wipe:
      return inject_process(f);
    case Fault::partition:
    case Fault::one_way:
    case Fault::clog:
    case Fault::reset:
    case Fault::refuse:
    case Fault::hold:
    case Fault::slow_link:
      return inject_network(f);
    case Fault::fsync_eio:
    case Fault::disk_full:
    case Fault::disk_stall:
    case Fault::bit_flip:
    case Fault::latent_read:
    case Fault::misdirect:
      return inject_disk(f);
    case Fault::clock_drift:
    case Fault::clock_jump:
      return inject_clock(f);
  }
}

void Nemesis::inject_process(Fault f) {
  if (f == Fault::crash) {
    NodeId id = pick_up();
    if (!id) return;
    cluster_.crash(id, CrashOptions{.lose_unsynced = rng_.chance(0.5)});
    restart_later(id);
  } else if (f == Fault::power_loss) {
    std::vector<NodeId> victims;
    for (NodeId id : targets_)
      if (cluster_.is_up(id) && victims.size() < 2 && rng_.chance(0.7)) victims.push_back(id);
    if (victims.empty()) return;
    cluster_.power_loss(victims);
    for (NodeId id : victims) restart_later(id);
  } else if (f == Fault::pause) {
    NodeId id = pick_up();
    if (!id) return;
    cluster_.pause(id);
    paused_.insert(id);
    later([this, id] {
      if (paused_.erase(id) && world_.state(id) == NodeState::paused) cluster_.resume(id);
    });
  } else if (f == Fault::wipe) {
    NodeId id = targets_.front();
    if (cluster_.is_up(id)) cluster_.crash(id);
    paused_.erase(id);
    cluster_.disk(id).wipe();
    restart_later(id);
  }
  count(f);
}

void Nemesis::inject_network(Fault f) {
  SimNetwork& net = cluster_.network();
  NodeId a = pick(), b = pick();
  if (f == Fault::partition) {
    std::vector<NodeId> left, right;
    for (NodeId id : targets_) (rng_.chance(0.5) ? left : right).push_back(id);
    if (left.empty() || right.empty()) return;
    net.partition(left, right);
    later([&net, left, right] { net.heal(left, right); });
  } else if (f == Fault::one_way) {
    if (a == b) return;
    net.block(a, b);
    later([&net, a, b] { net.heal(a, b); });
  } else if (f == Fault::clog) {
    net.clog(a, Duration(rng_.uniform_signed(options_.fault_duration_min.count(),
                                             options_.fault_duration_max.count())));
  } else if (f == Fault::reset) {
    if (!net.reset_random_connection()) return;
  } else if (f == Fault::refuse) {
    net.refuse_connects(a, true);
    later([&net, a] { net.refuse_connects(a, false); });
  } else if (f == Fault::hold) {
    if (a == b) return;
    SimNetwork::HoldId hold = net.hold(a, b);
    holds_.insert(hold);
    later([this, &net, hold] {
      if (holds_.erase(hold)) net.release(hold);
    });
  } else if (f == Fault::slow_link) {
    if (a == b) return;
    SimLatency slow{.min = milliseconds(5),
                    .median = milliseconds(50),
                    .tail_probability = 0.05,
                    .tail_mean = milliseconds(300),
                    .max = seconds(2)};
    net.set_link_latency(a, b, slow);
    net.set_link_bandwidth(a, b, 64 * 1024);
    later([&net, a, b] {
      net.set_link_latency(a, b, std::nullopt);
      net.set_link_bandwidth(a, b, std::nullopt);
    });
  }
  count(f);
}

void Nemesis::inject_disk(Fault f) {
  NodeId faulty = targets_.front();
  NodeId id = pick();
  SimDisk& disk = cluster_.disk(id);
  if (f == Fault::fsync_eio) {
    disk.fail_next_fsync();
  } else if (f == Fault::disk_full) {
    disk.set_quota_bytes(disk.current_bytes());
    later([&disk] { disk.set_quota_bytes(UINT64_MAX); });
  } else if (f == Fault::disk_stall) {
    disk.stall(world_.now() + Duration(rng_.uniform_signed(options_.fault_duration_min.count(),
                                                           options_.fault_duration_max.count())));
  } else if (f == Fault::bit_flip) {
    if (!cluster_.disk(faulty).flip_random_bit()) return;
  } else if (f == Fault::latent_read) {
    if (!cluster_.disk(faulty).mark_bad_sector()) return;
  } else if (f == Fault::misdirect) {
    SimDisk& d = cluster_.disk(faulty);
    SimDisk::Faults faults = d.faults();
    faults.misdirected_write_probability = 0.2;
    d.set_faults(faults);
    later([&d] {
      SimDisk::Faults faults = d.faults();
      faults.misdirected_write_probability = 0;
      d.set_faults(faults);
    });
  }
  count(f);
}

void Nemesis::inject_clock(Fault f) {
  SimClock& clock = cluster_.clock(pick());
  if (f == Fault::clock_drift) {
    clock.set_drift_ppm(rng_.uniform_signed(-50'000, 50'000));
  } else {
    clock.jump_wall(seconds(rng_.uniform_signed(-60, 60)));
  }
  count(f);
}

void Nemesis::heal_all() {
  active_ = false;
  ++epoch_;
  SimNetwork& net = cluster_.network();
  net.heal_all();
  for (SimNetwork::HoldId h : holds_) net.release(h);
  holds_.clear();
  for (NodeId id : targets_) {
    net.refuse_connects(id, false);
    for (NodeId other : targets_) {
      net.set_link_latency(id, other, std::nullopt);
      net.set_link_bandwidth(id, other, std::nullopt);
    }
    SimDisk& disk = cluster_.disk(id);
    disk.set_quota_bytes(UINT64_MAX);
    disk.cancel_fsync_failure();
    disk.set_faults(SimDisk::Faults{});
    cluster_.clock(id).set_drift_ppm(0);
    if (world_.state(id) == NodeState::paused) cluster_.resume(id);
    if (!cluster_.is_up(id)) cluster_.restart(id);
  }
  paused_.clear();
  world_.trace(kWorldNode, "nemesis.heal_all");
}

}  // namespace gregor::sim
