// gregor sweep SCENARIO --seeds A..B [--shard i/n] [--jobs J] [--failures FILE]: one scenario over
// many seeds (sim/scenario/sweep.h), with a progress line, the failing seeds written as they are
// found, and at the end the coverage probes no seed reached.
#include <fmt/format.h>
#include <unistd.h>

#include <iostream>

#include "base/fault_points.h"
#include "cli/sim_command.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/sweep.h"

namespace gregor::cli {
namespace {

constexpr size_t kFailuresShownMax = 20;

struct SweepArgs {
  std::string scenario_path;
  std::string duration;
  std::string seeds = "1..100";
  std::string shard = "0/1";
  unsigned jobs = 1;
  std::string failures_path;
  double seed_timeout_s = 0;
};

scenario::SeedOutcome run_seed(const scenario::Scenario& s, uint64_t seed) {
  scenario::RunResult r = scenario::run_scenario(s, seed);
  scenario::SeedOutcome o;
  o.seed = seed;
  o.pass = r.pass;
  if (!r.pass && r.error.empty()) {
    // For a bug reproduction the failure is the expected violation not showing.
    o.first_violation_kind = s.expect != "pass"     ? "missing-" + s.expect
                             : r.violations.empty() ? ""
                                                    : r.violations.front().kind;
  }
  o.trace_hash = r.trace_hash;
  o.sim_seconds = r.sim_seconds;
  o.wall_seconds = r.wall_seconds;
  o.probes_hit = r.probes_hit;
  o.error = r.error;
  return o;
}

int run_sweep_command(const SweepArgs& args) {
  quiet_logging_unless_asked();
  auto s = load_scenario(args.scenario_path);
  auto range = scenario::parse_seed_range(args.seeds);
  auto shard = scenario::parse_shard(args.shard);
  Status dur = s.ok() ? override_duration(*s, args.duration) : Status::Ok();
  for (const Status& st : {s.status(), dur, range.status(), shard.status()}) {
    if (!st.ok()) {
      std::cerr << "gregor sweep: " << st.message() << "\n";
      return 2;
    }
  }
  scenario::SweepOptions o;
  o.seeds = *range;
  o.shard = *shard;
  o.jobs = args.jobs;
  o.failures_path = args.failures_path;
  o.seed_timeout_seconds = args.seed_timeout_s;
  scenario::ProgressPrinter printer(isatty(STDERR_FILENO) != 0);
  o.on_progress = [&](const scenario::SweepProgress& p) { std::cerr << printer.update(p); };
  const scenario::Scenario& sc = *s;
  scenario::SweepResult r =
      scenario::run_sweep(o, [&sc](uint64_t seed) { return run_seed(sc, seed); });
  std::cerr << printer.finish();
  if (!r.error.empty()) {
    std::cerr << "gregor sweep: " << r.error << "\n";
    return 2;
  }
  for (size_t i = 0; i < r.failures.size() && i < kFailuresShownMax; ++i) {
    auto& f = r.failures[i];
    std::cout << fmt::format("seed {}: FAIL {}{} (rerun: gregor sim {} --seed {}{})\n", f.seed,
                             scenario::failure_kind(f), f.error.empty() ? "" : ": " + f.error,
                             args.scenario_path, f.seed,
                             args.duration.empty() ? "" : " --duration " + args.duration);
  }
  if (r.failures.size() > kFailuresShownMax)
    std::cout << fmt::format("... {} more failing seeds\n", r.failures.size() - kFailuresShownMax);
  std::vector<std::string> never;
  for (const SiteInfo& site : kProbeSites)
    if (!r.probes_hit.count(std::string(site.name))) never.push_back(std::string(site.name));
  std::cout << fmt::format("probes never hit ({} of {}):", never.size(), kProbeSites.size());
  for (auto& n : never) std::cout << " " << n;
  std::cout << "\n";
  std::cout << fmt::format("{} seeds: {} passed, {} failed; {:.0f} simulated s in {:.1f} wall s\n",
                           r.run, r.passed, r.failed, r.sim_seconds, r.wall_seconds);
  if (!args.failures_path.empty() && r.failed > 0)
    std::cout << "failing seeds written to " << args.failures_path << "\n";
  return r.failed > 0 ? 1 : 0;
}

}  // namespace

void add_sweep_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SweepArgs>();
  CLI::App* cmd = app.add_subcommand("sweep", "Run one scenario over many seeds");
  cmd->add_option("scenario", args->scenario_path, "Scenario file")->required();
  cmd->add_option("--duration", args->duration,
                  "Cut the scenario's load-and-faults phase to this long (e.g. 5s)");
  cmd->add_option("--seeds", args->seeds, "Seed range A..B (inclusive) or one seed")
      ->capture_default_str();
  cmd->add_option("--shard", args->shard,
                  "Run only shard i of n (0-based, e.g. $JOB_COMPLETION_INDEX/64)")
      ->capture_default_str();
  cmd->add_option("--jobs,-j", args->jobs, "Worker processes")
      ->check(CLI::Range(1u, scenario::kWorkersMax));
  cmd->add_option("--failures", args->failures_path,
                  "Append each failing seed to this file as it is found ('SEED KIND')");
  cmd->add_option("--seed-timeout", args->seed_timeout_s,
                  "With --jobs > 1: kill a seed's run after this many wall seconds (0: never)");
  cmd->footer(
      "Exit status: 0 when every seed passed, 1 when some failed, 2 for bad input. "
      "See docs/sweeps.md for Kubernetes and Slurm.");
  cmd->callback([args, exit_code] { *exit_code = run_sweep_command(*args); });
}

}  // namespace gregor::cli
