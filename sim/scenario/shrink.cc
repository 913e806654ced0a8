#include "sim/scenario/shrink.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "sim/scenario/nemesis_plan.h"
#include "sim/scenario/scenario_toml.h"

namespace gregor::scenario {
namespace {

constexpr Duration kTailAfterLastFault = seconds(1);
constexpr Duration kFaultDurationMin = milliseconds(100);
constexpr double kRateMin = 1.0;
constexpr Duration kRecoveryMin = seconds(5);

bool shows(const RunResult& r, const std::string& kind) {
  return std::any_of(r.violations.begin(), r.violations.end(),
                     [&](const Violation& v) { return v.kind == kind; });
}

bool needs_nodes(FaultKind k) {
  return k != FaultKind::partition && k != FaultKind::one_way && k != FaultKind::hold &&
         k != FaultKind::slow_link && k != FaultKind::reset;
}

bool needs_link(FaultKind k) {
  return k == FaultKind::one_way || k == FaultKind::hold || k == FaultKind::slow_link;
}

// Drops what a removal left dangling (faults naming removed nodes, partitions or times past the
// end), so every candidate is a valid scenario.
void normalize(Scenario& s) {
  std::vector<std::string> names = client_names(s);
  std::set<std::string> clients(names.begin(), names.end());
  auto valid = [&](const NodeRef& r) {
    switch (r.kind) {
      case NodeRef::Kind::broker:
        return r.broker >= 1 && r.broker <= s.brokers;
      case NodeRef::Kind::client:
        return clients.count(r.name) > 0;
      case NodeRef::Kind::replica:
        // K must stay within the brokers (the parser's bound); a K past the partition's replica
        // list resolves to nobody at run time, which is harmless.
        if (r.broker < 1 || r.broker > s.brokers) return false;
        [[fallthrough]];
      case NodeRef::Kind::leader:
        for (auto& t : s.topics)
          for (int32_t p = 0; p < t.partitions; ++p)
            if (r.name == fmt::format("{}-{}", t.name, p)) return true;
        return false;
      case NodeRef::Kind::controller:
        return s.dedicated_controllers && r.broker >= 1 && r.broker <= s.controllers;
      case NodeRef::Kind::active_controller:
        return s.controllers > 0;
    }
    return false;
  };
  auto filter = [&](std::vector<NodeRef>& refs) {
    std::erase_if(refs, [&](auto& r) { return !valid(r); });
  };
  std::vector<FaultSpec> kept;
  for (FaultSpec f : s.timeline) {
    if (f.at >= s.duration) continue;
    filter(f.nodes);
    for (auto& g : f.groups) filter(g);
    std::erase_if(f.groups, [](auto& g) { return g.empty(); });
    if (f.from && !valid(*f.from)) continue;
    if (f.to && !valid(*f.to)) continue;
    if (f.kind == FaultKind::partition && f.groups.size() < 2) continue;
    if (needs_link(f.kind) && (!f.from || !f.to)) continue;
    if (needs_nodes(f.kind) && f.nodes.empty()) continue;
    if (f.until.starts_with("restart ")) {
      uint32_t b = static_cast<uint32_t>(std::atoi(f.until.c_str() + 8));
      if (b < 1 || b > s.brokers) f.until = "heal";
    }
    kept.push_back(std::move(f));
  }
  s.timeline = std::move(kept);
  std::set<std::string> topics;
  for (auto& t : s.topics) topics.insert(t.name);
  std::erase_if(s.producers, [&](auto& p) { return !topics.count(p.topic); });
  for (auto& c : s.consumers) std::erase_if(c.topics, [&](auto& t) { return !topics.count(t); });
  std::erase_if(s.consumers, [](auto& c) { return c.topics.empty(); });
}

class Shrinker {
 public:
  explicit Shrinker(const ShrinkOptions& o) : o_(o) {}

  ShrinkResult run(const Scenario& original);

 private:
  bool attempt(Scenario candidate, const std::string& step);
  bool pass_faults();
  bool pass_time();
  bool pass_fault_durations();
  bool pass_shift();
  bool pass_clients();
  bool pass_messages();
  bool pass_topics();
  bool pass_brokers();

  const ShrinkOptions& o_;
  std::string kind_;
  Scenario best_;
  RunResult best_run_;
  size_t runs_ = 0;
};

bool Shrinker::attempt(Scenario c, const std::string& step) {
  normalize(c);
  if (c == best_ || runs_ >= o_.runs_max) return false;
  // Only scenarios a file can express: the minimal one is written as TOML.
  if (!parse_scenario(scenario_to_toml(c), "candidate").ok()) return false;
  ++runs_;
  RunResult r = run_scenario(c, o_.seed);
  bool kept = r.error.empty() && shows(r, kind_);
  if (o_.on_step) o_.on_step(step, kept, runs_);
  if (kept) {
    best_ = std::move(c);
    best_run_ = std::move(r);
  }
  return kept;
}

// Delta debugging (Zeller's ddmin) over the timeline's entries.
bool Shrinker::pass_faults() {
  bool progress = false;
  if (!best_.timeline.empty()) {
    Scenario none = best_;
    none.timeline.clear();
    if (attempt(none, "no faults at all")) return true;
  }
  size_t parts = 2;
  while (best_.timeline.size() >= 2 || (best_.timeline.size() == 1 && parts <= 2)) {
    size_t size = best_.timeline.size();
    size_t chunk = (size + parts - 1) / parts;
    bool removed = false;
    for (size_t start = 0; start < size && !removed; start += chunk) {
      Scenario c = best_;
      size_t end = std::min(size, start + chunk);
      c.timeline.erase(c.timeline.begin() + static_cast<ptrdiff_t>(start),
                       c.timeline.begin() + static_cast<ptrdiff_t>(end));
      removed = attempt(c, fmt::format("faults {}..{} of {} removed", start + 1, end, size));
    }
    if (removed) {
      progress = true;
      parts = std::max<size_t>(parts - 1, 2);
    } else if (chunk <= 1) {
      break;
    } else {
      parts = std::min(size, parts * 2);
    }
    if (runs_ >= o_.runs_max) break;
  }
  return progress;
}

bool Shrinker::pass_time() {
  Duration last = Duration::zero();
  for (auto& f : best_.timeline)
    last = std::max(last, f.at + f.duration.value_or(Duration::zero()));
  bool progress = false;
  for (Duration tail : {kTailAfterLastFault, 2 * kTailAfterLastFault, 5 * kTailAfterLastFault}) {
    Duration d = std::chrono::ceil<std::chrono::seconds>(last + tail);
    if (d >= best_.duration) break;
    Scenario c = best_;
    c.duration = d;
    if (attempt(c, fmt::format("run shortened to {}", format_duration_toml(d)))) {
      progress = true;
      break;
    }
  }
  if (best_.recovery > kRecoveryMin) {
    Scenario c = best_;
    c.recovery = std::max(kRecoveryMin, best_.recovery / 2);
    progress = attempt(c, "recovery halved") || progress;
  }
  return progress;
}

// The same faults, earlier: the run before the first fault is mostly waiting.
bool Shrinker::pass_shift() {
  if (best_.timeline.empty()) return false;
  Duration first = best_.timeline.front().at;
  for (auto& f : best_.timeline) first = std::min(first, f.at);
  if (first <= kTailAfterLastFault) return false;
  Duration by = std::chrono::floor<std::chrono::milliseconds>(first - kTailAfterLastFault);
  Scenario c = best_;
  for (auto& f : c.timeline) f.at -= by;
  return attempt(c, fmt::format("faults {} earlier", format_duration_toml(by)));
}

bool Shrinker::pass_fault_durations() {
  bool progress = false;
  for (size_t i = 0; i < best_.timeline.size(); ++i) {
    auto d = best_.timeline[i].duration;
    if (!d || *d / 2 < kFaultDurationMin) continue;
    Scenario c = best_;
    c.timeline[i].duration = std::chrono::round<std::chrono::milliseconds>(*d / 2);
    progress = attempt(c, fmt::format("fault {} lasts half as long", i + 1)) || progress;
  }
  return progress;
}

bool Shrinker::pass_clients() {
  bool progress = false;
  for (size_t i = best_.consumers.size(); i-- > 0;) {
    Scenario c = best_;
    c.consumers.erase(c.consumers.begin() + static_cast<ptrdiff_t>(i));
    progress =
        attempt(c, fmt::format("consumer '{}' removed", best_.consumers[i].name)) || progress;
  }
  for (size_t i = best_.producers.size(); i-- > 0 && best_.producers.size() > 1;) {
    Scenario c = best_;
    c.producers.erase(c.producers.begin() + static_cast<ptrdiff_t>(i));
    progress =
        attempt(c, fmt::format("producer '{}' removed", best_.producers[i].name)) || progress;
  }
  for (size_t i = 0; i < best_.producers.size(); ++i) {
    if (best_.producers[i].count <= 1) continue;
    Scenario c = best_;
    c.producers[i].count = 1;
    progress = attempt(c, fmt::format("producer '{}' count 1", c.producers[i].name)) || progress;
  }
  for (size_t i = 0; i < best_.consumers.size(); ++i) {
    if (best_.consumers[i].count <= 1) continue;
    Scenario c = best_;
    c.consumers[i].count = 1;
    progress = attempt(c, fmt::format("consumer '{}' count 1", c.consumers[i].name)) || progress;
  }
  return progress;
}

bool Shrinker::pass_messages() {
  bool progress = false;
  for (size_t i = 0; i < best_.producers.size(); ++i) {
    if (best_.producers[i].rate / 2 < kRateMin) continue;
    Scenario c = best_;
    c.producers[i].rate = std::floor(c.producers[i].rate / 2);
    progress = attempt(c, fmt::format("producer '{}' rate {}", c.producers[i].name,
                                      c.producers[i].rate)) ||
               progress;
  }
  return progress;
}

bool Shrinker::pass_topics() {
  bool progress = false;
  // Whole topics first (their producers go, consumers stop reading them).
  for (size_t i = best_.topics.size(); i-- > 0 && best_.topics.size() > 1;) {
    Scenario c = best_;
    c.topics.erase(c.topics.begin() + static_cast<ptrdiff_t>(i));
    progress = attempt(c, fmt::format("topic '{}' removed", best_.topics[i].name)) || progress;
  }
  for (size_t i = 0; i < best_.topics.size(); ++i) {
    if (best_.topics[i].partitions <= 1) continue;
    Scenario c = best_;
    c.topics[i].partitions = 1;
    if (attempt(c, fmt::format("topic '{}' with 1 partition", c.topics[i].name))) {
      progress = true;
      continue;
    }
    c = best_;
    c.topics[i].partitions = best_.topics[i].partitions / 2;
    progress = attempt(c, fmt::format("topic '{}' with {} partitions", c.topics[i].name,
                                      c.topics[i].partitions)) ||
               progress;
  }
  return progress;
}

bool Shrinker::pass_brokers() {
  int16_t rf = 1;
  for (auto& t : best_.topics) rf = std::max(rf, t.replication_factor);
  if (best_.brokers <= 1 || best_.brokers - 1 < static_cast<uint32_t>(rf)) return false;
  // Combined controllers are the first brokers: the quorum must keep its voters.
  if (!best_.dedicated_controllers && best_.brokers - 1 < best_.controllers) return false;
  Scenario c = best_;
  --c.brokers;
  return attempt(c, fmt::format("{} brokers", c.brokers));
}

ShrinkResult Shrinker::run(const Scenario& original) {
  ShrinkResult out;
  RunResult first = run_scenario(original, o_.seed);
  runs_ = 1;
  kind_ = o_.kind;
  if (kind_.empty() && !first.violations.empty()) kind_ = first.violations.front().kind;
  out.kind = kind_;
  out.faults_before = first.timeline.size();
  if (!first.error.empty() || kind_.empty() || !shows(first, kind_)) {
    out.error = !first.error.empty() ? first.error
                : kind_.empty()      ? fmt::format("seed {} shows no violation", o_.seed)
                                     : fmt::format("seed {} does not show {}", o_.seed, kind_);
    out.runs = runs_;
    return out;
  }
  out.reproduced = true;
  best_ = original;
  best_run_ = first;
  // The nemesis's draw becomes a plain timeline the passes can cut.
  Scenario explicit_faults = original;
  explicit_faults.timeline = first.timeline;
  explicit_faults.nemesis.enabled = false;
  if (original.nemesis.enabled) attempt(explicit_faults, "nemesis replaced by the faults it drew");
  bool progress = true;
  while (progress && runs_ < o_.runs_max) {
    progress = pass_faults();
    progress = pass_shift() || progress;
    progress = pass_time() || progress;
    progress = pass_clients() || progress;
    progress = pass_topics() || progress;
    progress = pass_brokers() || progress;
    progress = pass_messages() || progress;
    progress = pass_fault_durations() || progress;
  }
  out.minimal = best_;
  out.minimal.seed = o_.seed;
  out.minimal.expect = kind_;
  out.minimal.name = original.name + "-min";
  if (!out.minimal.nemesis.enabled) out.minimal.nemesis = NemesisSpec{};  // nothing to write
  out.minimal.description = fmt::format(
      "Shrunk by `gregor shrink` from {} with seed {}: shows {}. Set expect = \"pass\" once the "
      "bug is fixed to keep it as a regression scenario.",
      original.name, o_.seed, kind_);
  // Once more under its final name and expectation, so minimal_run is exactly what the written
  // file replays (the name is in the trace).
  out.minimal_run = run_scenario(out.minimal, o_.seed);
  out.faults_after = best_.timeline.size();
  out.runs = runs_ + 1;
  return out;
}

}  // namespace

ShrinkResult shrink(const Scenario& scenario, const ShrinkOptions& options) {
  Shrinker s(options);
  return s.run(scenario);
}

}  // namespace gregor::scenario
