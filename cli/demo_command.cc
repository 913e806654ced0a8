#include "cli/demo_command.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "sim/demo/counter_sim.h"
#include "sim/determinism.h"

namespace gregor::cli {
namespace {

struct DemoArgs {
  uint64_t seed = 1;
  uint64_t seeds = 1;
  double duration_s = 60;
  std::string out_dir;
  std::string trace_path;
  bool json = false;
  bool check_determinism = false;
  bool plant_bug = false;
};

nlohmann::ordered_json to_json(const demo::CounterSimResult& r, uint64_t seed, double wall_s) {
  nlohmann::ordered_json j;
  j["verdict"] = r.pass ? "pass" : "fail";
  j["seed"] = seed;
  j["trace_hash"] = r.trace_hash;
  j["sim_seconds"] = r.sim_seconds;
  j["wall_seconds"] = wall_s;
  j["time_compression"] = wall_s > 0 ? r.sim_seconds / wall_s : 0.0;
  j["events"] = r.events;
  j["trace_lines"] = r.trace_lines;
  j["ops_ok"] = r.ops_ok;
  j["ops_failed"] = r.ops_failed;
  j["ops_unknown"] = r.ops_unknown;
  j["final_total"] = r.final_total;
  j["converged"] = r.converged;
  j["faults"] = r.faults;
  j["violations"] = r.violations;
  return j;
}

std::string summary(const demo::CounterSimResult& r, uint64_t seed, double wall_s) {
  std::string s;
  auto line = [&]<typename... A>(fmt::format_string<A...> f, A&&... args) {
    s += fmt::format(f, std::forward<A>(args)...) + "\n";
  };
  line("gregor demo: replicated counter, 3 nodes, 4 clients, every fault family");
  line("verdict:        {}", r.pass ? "PASS" : "FAIL");
  line("seed:           {}", seed);
  line("simulated:      {:.1f}s in {:.2f}s wall ({:.0f}x)", r.sim_seconds, wall_s,
       wall_s > 0 ? r.sim_seconds / wall_s : 0.0);
  line("events:         {} ({} trace lines)", r.events, r.trace_lines);
  line("increments:     {} acknowledged, {} failed, {} indefinite", r.ops_ok, r.ops_failed,
       r.ops_unknown);
  line("final value:    {} (converged: {})", r.final_total, r.converged ? "yes" : "no");
  std::string faults;
  uint64_t total = 0;
  for (auto& [name, n] : r.faults) {
    faults += fmt::format("{}{}={}", faults.empty() ? "" : " ", name, n);
    total += n;
  }
  line("faults:         {} injected: {}", total, faults.empty() ? "none" : faults);
  for (auto& v : r.violations) line("violation:      {}", v);
  line("trace-hash: {}", r.trace_hash);
  return s;
}

int run_one(const DemoArgs& args, uint64_t seed, bool print) {
  demo::CounterSimOptions o;
  o.seed = seed;
  o.duration = Duration(static_cast<int64_t>(args.duration_s * 1e9));
  o.plant_ack_before_persist = args.plant_bug;
  if (!args.trace_path.empty())
    o.trace_path = args.trace_path;
  else if (!args.out_dir.empty())
    o.trace_path = args.out_dir + "/trace.jsonl";
  auto start = std::chrono::steady_clock::now();
  demo::CounterSimResult r = demo::run_counter_sim(o);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::string text = summary(r, seed, wall);
  if (!args.out_dir.empty()) {
    std::ofstream(args.out_dir + "/summary.txt") << text;
    std::ofstream(args.out_dir + "/summary.json") << to_json(r, seed, wall).dump(2) << "\n";
  }
  if (print) {
    if (args.json)
      std::cout << to_json(r, seed, wall).dump(2) << "\n";
    else
      std::cout << text;
  }
  return r.pass ? 0 : 1;
}

int run_determinism(const DemoArgs& args) {
  auto run = [&](uint64_t seed) {
    demo::CounterSimOptions o;
    o.seed = seed;
    o.duration = Duration(static_cast<int64_t>(args.duration_s * 1e9));
    o.keep_trace_lines = true;
    return demo::run_counter_sim(o);
  };
  auto a = run(args.seed), b = run(args.seed);
  auto diff = sim::first_difference(a.trace_kept, b.trace_kept);
  if (!diff) {
    std::cout << fmt::format("determinism: ok, seed {} twice gives trace-hash {} ({} lines)\n",
                             args.seed, a.trace_hash, a.trace_lines);
    return 0;
  }
  std::cout << sim::describe_difference(*diff, a.trace_kept, b.trace_kept);
  return 1;
}

int run_demo(const DemoArgs& args) {
  if (args.duration_s <= 0 || args.duration_s > 24 * 3600) {
    std::cerr << "gregor demo: --duration must be in (0, 86400] seconds\n";
    return 2;
  }
  if (!args.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.out_dir, ec);
    if (ec) {
      std::cerr << fmt::format("gregor demo: cannot create {}: {}\n", args.out_dir, ec.message());
      return 2;
    }
  }
  if (args.check_determinism) return run_determinism(args);
  if (args.seeds <= 1) {
    int rc = run_one(args, args.seed, true);
    if (!args.out_dir.empty() && !args.json)
      std::cout << fmt::format("outputs: {0}/summary.txt {0}/summary.json {0}/trace.jsonl\n",
                               args.out_dir);
    return rc;
  }
  uint64_t failed = 0;
  for (uint64_t s = args.seed; s < args.seed + args.seeds; ++s) {
    DemoArgs quiet = args;
    quiet.out_dir.clear();
    int rc = run_one(quiet, s, false);
    if (rc != 0) {
      ++failed;
      std::cout << fmt::format("seed {}: FAIL (rerun: gregor demo --seed {})\n", s, s);
    }
    if ((s - args.seed + 1) % 10 == 0)
      std::cerr << fmt::format("  {} / {} seeds, {} failed\n", s - args.seed + 1, args.seeds,
                               failed);
  }
  std::cout << fmt::format("{} passed, {} failed\n", args.seeds - failed, failed);
  return failed ? 1 : 0;
}

}  // namespace

void add_demo_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<DemoArgs>();
  CLI::App* cmd = app.add_subcommand(
      "demo", "Run the demo replicated counter in a simulated 3-node cluster under faults");
  cmd->add_option("--seed", args->seed, "Seed of the run (a run replays exactly from it)");
  cmd->add_option("--seeds", args->seeds, "Run this many seeds from --seed and count failures")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000000}));
  cmd->add_option("--duration", args->duration_s, "Simulated seconds of load and faults");
  cmd->add_option("--out", args->out_dir, "Directory for summary.txt, summary.json, trace.jsonl");
  cmd->add_option("--trace", args->trace_path, "Write the JSONL trace to this file");
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object");
  cmd->add_flag("--check-determinism", args->check_determinism,
                "Run twice and compare traces; print the first difference");
  cmd->add_flag("--plant-bug", args->plant_bug,
                "Acknowledge before fsync (a planted bug the checker must catch)");
  cmd->callback([args, exit_code] { *exit_code = run_demo(*args); });
}

}  // namespace gregor::cli
