#include "sim/scenario/nemesis_plan.h"

#include <fmt/format.h>

#include <algorithm>

namespace gregor::scenario {
namespace {

constexpr int64_t kClockJumpMaxSeconds = 60;
constexpr int64_t kClockDriftMaxPpm = 50'000;
constexpr double kSwarmFamilyChance = 0.5;
constexpr double kSwarmRateMin = 0.25, kSwarmRateMax = 2.0;
constexpr double kActiveControllerChance = 1.0 / 3;  // of a server target, with a quorum

bool has_end(FaultKind k) {
  switch (k) {
    case FaultKind::reset:
    case FaultKind::fsync_eio:
    case FaultKind::bit_flip:
    case FaultKind::latent_read:
    case FaultKind::clock_jump:
      return false;
    default:
      return true;
  }
}

bool is_network(FaultKind k) {
  return k == FaultKind::partition || k == FaultKind::one_way || k == FaultKind::hold ||
         k == FaultKind::slow_link || k == FaultKind::reset;
}

class Drawer {
 public:
  Drawer(const Scenario& s, Random& rng) : s_(s), rng_(rng) {
    for (uint32_t b = 1; b <= s.brokers; ++b)
      servers_.push_back(NodeRef{.kind = NodeRef::Kind::broker, .broker = b});
    if (s.dedicated_controllers)
      for (uint32_t k = 1; k <= s.controllers; ++k)
        servers_.push_back(NodeRef{.kind = NodeRef::Kind::controller, .broker = k});
    all_ = servers_;
    for (auto& name : client_names(s))
      all_.push_back(NodeRef{.kind = NodeRef::Kind::client, .name = name});
  }

  FaultSpec draw(FaultKind kind, Duration at) {
    FaultSpec f;
    f.kind = kind;
    f.at = at;
    if (has_end(kind))
      f.duration = between(s_.nemesis.fault_duration_min, s_.nemesis.fault_duration_max);
    if (kind == FaultKind::partition) {
      std::vector<NodeRef> left, right;
      for (auto& n : all_) (rng_.chance(0.5) ? left : right).push_back(n);
      if (left.empty()) {
        left.push_back(right.back());
        right.pop_back();
      }
      if (right.empty() && left.size() > 1) {
        right.push_back(left.back());
        left.pop_back();
      }
      f.groups = {left, right};  // one node alone: a partition of nothing, skipped when played
    } else if (is_network(kind)) {
      // One end is a broker: a link between two clients carries nothing.
      NodeRef a = broker();
      NodeRef b = all_[rng_.uniform(0, all_.size() - 1)];
      if (b == a) b = all_.size() > 1 ? all_[(index_of(a) + 1) % all_.size()] : a;
      if (rng_.chance(0.5)) std::swap(a, b);
      f.from = a;
      f.to = b;
    } else if (kind == FaultKind::power_loss) {
      for (const NodeRef& n : servers_)
        if (rng_.chance(0.7)) f.nodes.push_back(n);
      if (f.nodes.empty()) f.nodes.push_back(broker());
    } else if (kind == FaultKind::clog) {
      f.nodes.push_back(all_[rng_.uniform(0, all_.size() - 1)]);
    } else {
      f.nodes.push_back(broker());
    }
    if (kind == FaultKind::crash) f.lose_unsynced = rng_.chance(0.5);
    if (kind == FaultKind::clock_jump)
      f.by = seconds(rng_.uniform_signed(-kClockJumpMaxSeconds, kClockJumpMaxSeconds));
    if (kind == FaultKind::clock_drift)
      f.ppm = rng_.uniform_signed(-kClockDriftMaxPpm, kClockDriftMaxPpm);
    return f;
  }

  Duration between(Duration lo, Duration hi) {
    return Duration(rng_.uniform_signed(lo.count(), std::max(lo, hi).count()));
  }

 private:
  // A server process: a broker, a dedicated controller or, with a quorum, now and then the
  // active controller whoever it is when the fault fires (the node whose loss matters most).
  // Without a quorum the draw is the one it always was, so older scenarios keep their timelines.
  NodeRef broker() {
    if (s_.controllers == 0) {
      return NodeRef{.kind = NodeRef::Kind::broker,
                     .broker = static_cast<uint32_t>(rng_.uniform(1, s_.brokers))};
    }
    if (rng_.chance(kActiveControllerChance))
      return NodeRef{.kind = NodeRef::Kind::active_controller};
    return servers_[rng_.uniform(0, servers_.size() - 1)];
  }
  size_t index_of(const NodeRef& r) const {
    return static_cast<size_t>(std::find(all_.begin(), all_.end(), r) - all_.begin());
  }

  const Scenario& s_;
  Random& rng_;
  std::vector<NodeRef> servers_;  // brokers, then dedicated controllers
  std::vector<NodeRef> all_;      // servers, then clients
};

}  // namespace

std::vector<std::string> client_names(const Scenario& s) {
  std::vector<std::string> names;
  for (auto& p : s.producers)
    for (uint32_t i = 1; i <= p.count; ++i) names.push_back(fmt::format("{}-{}", p.name, i));
  for (auto& c : s.consumers)
    for (uint32_t i = 1; i <= c.count; ++i) names.push_back(fmt::format("{}-{}", c.name, i));
  return names;
}

std::vector<FaultSpec> draw_nemesis(const Scenario& s, Random& rng) {
  const NemesisSpec& n = s.nemesis;
  if (!n.enabled || s.brokers == 0) return {};
  std::vector<FaultKind> families = n.families;
  if (families.empty())
    for (int i = 0; i < kFaultKinds; ++i) families.push_back(static_cast<FaultKind>(i));
  double rate = 1.0;
  if (n.swarm) {
    std::vector<FaultKind> on;
    for (FaultKind k : families)
      if (rng.chance(kSwarmFamilyChance)) on.push_back(k);
    if (on.empty()) on.push_back(families[rng.uniform(0, families.size() - 1)]);
    families = std::move(on);
    rate = kSwarmRateMin + rng.unit() * (kSwarmRateMax - kSwarmRateMin);
  }
  Drawer drawer(s, rng);
  std::vector<FaultSpec> out;
  Duration t = Duration::zero();
  while (out.size() < kTimelineEntriesMax) {
    Duration gap = drawer.between(n.interval_min, n.interval_max);
    t += Duration(static_cast<int64_t>(static_cast<double>(gap.count()) / rate));
    if (t >= s.duration) break;
    out.push_back(drawer.draw(families[rng.uniform(0, families.size() - 1)], t));
  }
  return out;
}

}  // namespace gregor::scenario
