#include "bench/sim_bench.h"

#include <algorithm>

#include "sim/scenario/runner.h"

namespace gregor::bench {
namespace {

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

}  // namespace

nlohmann::ordered_json run_sim_bench(const scenario::Scenario& s, const SimBenchOptions& o) {
  nlohmann::ordered_json out;
  out["scenario"] = s.name;
  out["brokers"] = s.brokers;
  std::vector<double> compression, acked_per_s, events_per_s;
  auto& runs = out["runs"] = nlohmann::ordered_json::array();
  for (uint64_t seed = o.first_seed; seed < o.first_seed + o.seeds; ++seed) {
    scenario::RunResult r = scenario::run_scenario(s, seed);
    double wall = std::max(r.wall_seconds, 1e-9);
    compression.push_back(r.sim_seconds / wall);
    acked_per_s.push_back(static_cast<double>(r.records_acked) / wall);
    events_per_s.push_back(static_cast<double>(r.events) / wall);
    runs.push_back({{"seed", seed},
                    {"verdict", r.pass ? "pass" : "fail"},
                    {"sim_seconds", r.sim_seconds},
                    {"wall_seconds", r.wall_seconds},
                    {"time_compression", compression.back()},
                    {"records_acked", r.records_acked},
                    {"acked_per_wall_second", acked_per_s.back()},
                    {"events_per_wall_second", events_per_s.back()}});
  }
  out["median_time_compression"] = median(compression);
  out["median_acked_per_wall_second"] = median(acked_per_s);
  out["median_events_per_wall_second"] = median(events_per_s);
  return out;
}

}  // namespace gregor::bench
