// The one-screen summary of a run and its JSON twin (runner.h).
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "sim/scenario/runner.h"

namespace gregor::scenario {
namespace {

constexpr size_t kViolationsShownMax = 8;  // on screen; the JSON has them all

std::string faults_text(const std::map<std::string, uint64_t>& faults) {
  std::string s;
  uint64_t total = 0;
  for (auto& [name, n] : faults) {
    s += fmt::format("{}{}={}", s.empty() ? "" : " ", name, n);
    total += n;
  }
  return fmt::format("{} injected{}{}", total, s.empty() ? "" : ": ", s);
}

}  // namespace

std::string summary_text(const RunResult& r) {
  std::string s;
  auto line = [&]<typename... A>(fmt::format_string<A...> f, A&&... args) {
    s += fmt::format(f, std::forward<A>(args)...) + "\n";
  };
  double ratio = r.wall_seconds > 0 ? r.sim_seconds / r.wall_seconds : 0.0;
  line("gregor sim: {}", r.scenario);
  if (!r.error.empty()) line("error:      {}", r.error);
  line("verdict:    {}{}", r.pass ? "PASS" : "FAIL",
       r.expect == "pass" ? "" : fmt::format(" (expected violation: {})", r.expect));
  line("seed:       {}", r.seed);
  line("simulated:  {:.1f}s in {:.2f}s wall ({:.0f}x)", r.sim_seconds, r.wall_seconds, ratio);
  line("events:     {} ({} trace lines)", r.events, r.trace_lines);
  line("records:    {} sent, {} acked, {} failed, {} unknown, {} lost; {} polled", r.records_sent,
       r.records_acked, r.records_failed, r.records_unknown, r.records_lost, r.records_polled);
  line("faults:     {}; buggify fired {}x; {} probes hit", faults_text(r.faults), r.buggify_fires,
       r.probes_hit.size());
  if (r.controllers > 0)
    line("quorum:     {} controllers; {} elections, max epoch {}; {} brokers fenced", r.controllers,
         r.raft_elections, r.raft_max_epoch, r.controller_fences);
  std::string k;
  for (auto& [kind, n] : r.violation_counts)
    k += fmt::format("{}{}={}", k.empty() ? "" : " ", kind, n);
  line("violations: {}", k.empty() ? "none" : k);
  for (size_t i = 0; i < r.violations.size() && i < kViolationsShownMax; ++i)
    line("  {}: {}", r.violations[i].kind, r.violations[i].text);
  if (r.violations.size() > kViolationsShownMax)
    line("  ... {} more (--json lists them all)", r.violations.size() - kViolationsShownMax);
  line("trace-hash: {}", r.trace_hash);
  return s;
}

std::string summary_json(const RunResult& r) {
  nlohmann::ordered_json j;
  j["verdict"] = r.pass ? "pass" : "fail";
  j["scenario"] = r.scenario;
  j["expect"] = r.expect;
  j["seed"] = r.seed;
  j["trace_hash"] = r.trace_hash;
  j["sim_seconds"] = r.sim_seconds;
  j["wall_seconds"] = r.wall_seconds;
  j["time_compression"] = r.wall_seconds > 0 ? r.sim_seconds / r.wall_seconds : 0.0;
  j["events"] = r.events;
  j["trace_lines"] = r.trace_lines;
  j["records_sent"] = r.records_sent;
  j["records_acked"] = r.records_acked;
  j["records_failed"] = r.records_failed;
  j["records_unknown"] = r.records_unknown;
  j["records_lost"] = r.records_lost;
  j["records_polled"] = r.records_polled;
  j["acked_per_wall_second"] = r.wall_seconds > 0 ? r.records_acked / r.wall_seconds : 0.0;
  j["faults"] = r.faults;
  j["probes_hit"] = r.probes_hit;
  j["buggify_fires"] = r.buggify_fires;
  if (r.controllers > 0) {
    j["controllers"] = r.controllers;
    j["raft_elections"] = r.raft_elections;
    j["raft_max_epoch"] = r.raft_max_epoch;
    j["controller_fences"] = r.controller_fences;
  }
  if (!r.error.empty()) j["error"] = r.error;
  j["violation_counts"] = r.violation_counts;
  auto& vs = j["violations"] = nlohmann::ordered_json::array();
  for (auto& v : r.violations) {
    nlohmann::ordered_json o;
    o["kind"] = v.kind;
    o["text"] = v.text;
    o["evidence"] = nlohmann::ordered_json::parse(v.evidence.empty() ? "{}" : v.evidence, nullptr,
                                                  /*allow_exceptions=*/false);
    vs.push_back(std::move(o));
  }
  return j.dump(2);
}

}  // namespace gregor::scenario
