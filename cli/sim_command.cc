// gregor sim SCENARIO: one simulated run of a scenario file (sim/scenario/runner.h).
#include "cli/sim_command.h"

#include <fmt/format.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include "base/log.h"
#include "sim/determinism.h"
#include "sim/scenario/runner.h"
#include "sim/scenario/scenario_toml.h"
#include "sim/scenario/shrink.h"

namespace gregor::cli {

void quiet_logging_unless_asked() {
  if (!log_level_given) init_logging("off");
}

Result<scenario::Scenario> load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status(Errc::not_found, fmt::format("cannot read scenario file {}", path));
  std::ostringstream text;
  text << in.rdbuf();
  return scenario::parse_scenario(text.str(), path);
}

Status override_duration(scenario::Scenario& s, const std::string& text) {
  if (text.empty()) return Status::Ok();
  auto d = scenario::parse_duration_text(text);
  if (!d.ok()) return Status(Errc::invalid_argument, "--duration: " + d.status().message());
  if (*d <= Duration::zero()) {
    return Status(Errc::invalid_argument, fmt::format("--duration: {} is not positive", text));
  }
  for (const scenario::FaultSpec& f : s.timeline) {
    if (f.at >= *d) {
      return Status(Errc::invalid_argument,
                    fmt::format("--duration {}: the scenario scripts a fault at {}, past that end",
                                text, format_duration(f.at)));
    }
  }
  s.duration = *d;
  return Status::Ok();
}

namespace {

struct SimArgs {
  std::string scenario_path;
  std::string duration;
  std::optional<uint64_t> seed;
  std::string out_dir;
  std::string trace_path;
  bool json = false;
  bool check_determinism = false;
  bool quiet = false;
};

// A progress line on a terminal, rewritten in place; nothing when stderr is not a terminal.
void show_progress(double done_s, double total_s) {
  static bool tty = isatty(STDERR_FILENO) != 0;
  if (!tty) return;
  std::cerr << fmt::format("\r  simulated {:.0f}s of at most {:.0f}s", done_s, total_s)
            << std::flush;
}

int check_determinism(const scenario::Scenario& s, uint64_t seed) {
  scenario::RunOptions o;
  o.keep_trace_lines = true;
  auto a = scenario::run_scenario(s, seed, o);
  auto b = scenario::run_scenario(s, seed, o);
  auto diff = sim::first_difference(a.trace_kept, b.trace_kept);
  if (!diff && a.trace_hash == b.trace_hash) {
    std::cout << fmt::format("determinism: ok, {} seed {} twice gives trace-hash {} ({} lines)\n",
                             s.name, seed, a.trace_hash, a.trace_lines);
    // The run itself must also come out as expected: CI runs every scenario this way, once.
    std::cout << scenario::summary_text(a);
    if (!a.error.empty()) return 2;
    return a.pass ? 0 : 1;
  }
  std::cout << fmt::format("determinism: FAILED for {} seed {}: trace-hash {} then {}\n", s.name,
                           seed, a.trace_hash, b.trace_hash);
  if (diff) std::cout << sim::describe_difference(*diff, a.trace_kept, b.trace_kept);
  return 1;
}

int run_sim(const SimArgs& args) {
  quiet_logging_unless_asked();
  auto s = load_scenario(args.scenario_path);
  if (!s.ok()) {
    std::cerr << "gregor sim: " << s.status().message() << "\n";
    return 2;
  }
  if (Status st = override_duration(*s, args.duration); !st.ok()) {
    std::cerr << "gregor sim: " << st.message() << "\n";
    return 2;
  }
  uint64_t seed = args.seed.value_or(s->seed);
  if (args.check_determinism) return check_determinism(*s, seed);
  scenario::RunOptions o;
  if (!args.out_dir.empty()) {
    std::error_code ec;
    std::filesystem::create_directories(args.out_dir, ec);
    if (ec) {
      std::cerr << fmt::format("gregor sim: cannot create {}: {}\n", args.out_dir, ec.message());
      return 2;
    }
    o.trace_path = args.out_dir + "/trace.jsonl";
  }
  if (!args.trace_path.empty()) o.trace_path = args.trace_path;
  if (!args.quiet && !args.json) o.progress = show_progress;
  scenario::RunResult r = scenario::run_scenario(*s, seed, o);
  if (o.progress && isatty(STDERR_FILENO)) std::cerr << "\r\033[K";
  std::string text = scenario::summary_text(r);
  std::string json = scenario::summary_json(r);
  if (!args.out_dir.empty()) {
    std::ofstream(args.out_dir + "/summary.txt") << text;
    std::ofstream(args.out_dir + "/summary.json") << json << "\n";
  }
  // Where the outputs went comes first: the summary's last line is always its trace-hash.
  if (!args.out_dir.empty() && !args.json) {
    std::cout << fmt::format("outputs: {0}/summary.txt {0}/summary.json {0}/trace.jsonl\n",
                             args.out_dir);
  }
  std::cout << (args.json ? json + "\n" : text);
  if (!r.error.empty()) return 2;
  return r.pass ? 0 : 1;
}

struct ShrinkArgs {
  std::string scenario_path;
  std::optional<uint64_t> seed;
  std::string kind;
  std::string out_path;
  size_t runs_max = scenario::kShrinkRunsMax;
};

int run_shrink(const ShrinkArgs& args) {
  quiet_logging_unless_asked();
  auto s = load_scenario(args.scenario_path);
  if (!s.ok()) {
    std::cerr << "gregor shrink: " << s.status().message() << "\n";
    return 2;
  }
  scenario::ShrinkOptions o;
  o.seed = args.seed.value_or(s->seed);
  o.kind = args.kind;
  o.runs_max = args.runs_max;
  bool tty = isatty(STDERR_FILENO) != 0;
  o.on_step = [tty](const std::string& step, bool kept, size_t runs) {
    if (kept) {
      std::cerr << (tty ? "\r\033[K" : "") << fmt::format("  run {}: kept: {}\n", runs, step);
    } else if (tty) {
      std::cerr << fmt::format("\r\033[K  run {}: tried: {}", runs, step) << std::flush;
    }
  };
  scenario::ShrinkResult r = scenario::shrink(*s, o);
  if (tty) std::cerr << "\r\033[K";
  if (!r.reproduced) {
    std::cerr << "gregor shrink: nothing to shrink: " << r.error << "\n";
    return 1;
  }
  std::string out =
      args.out_path.empty() ? fmt::format("{}-seed{}-min.toml", s->name, o.seed) : args.out_path;
  std::ofstream file(out);
  file << scenario::scenario_to_toml(r.minimal);
  if (!file.flush()) {
    std::cerr << fmt::format("gregor shrink: cannot write {}\n", out);
    return 2;
  }
  std::cout << fmt::format(
      "shrunk {} seed {} ({}): {} faults -> {}, {} runs\nwrote {}\nrerun: gregor sim {} "
      "(expect = \"{}\", so it exits 0 while the violation reproduces)\n",
      s->name, o.seed, r.kind, r.faults_before, r.faults_after, r.runs, out, out, r.kind);
  std::cout << scenario::summary_text(r.minimal_run);
  return 0;
}

}  // namespace

void add_shrink_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ShrinkArgs>();
  CLI::App* cmd = app.add_subcommand(
      "shrink", "Reduce a failing (scenario, seed) to a minimal scenario file that still fails");
  cmd->add_option("scenario", args->scenario_path, "Scenario file")->required();
  cmd->add_option("--seed", args->seed, "The failing seed (default: the scenario's)");
  cmd->add_option("--kind", args->kind,
                  "Violation kind to keep (default: the first the run shows)");
  cmd->add_option("--out", args->out_path,
                  "Where to write the minimal scenario "
                  "(default: NAME-seedN-min.toml here)");
  cmd->add_option("--runs-max", args->runs_max, "Give up after this many runs")
      ->check(CLI::Range(size_t{1}, size_t{100000}));
  cmd->callback([args, exit_code] { *exit_code = run_shrink(*args); });
}

void add_sim_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<SimArgs>();
  CLI::App* cmd = app.add_subcommand(
      "sim", "Run a scenario: a simulated cluster with clients and faults, checked at the end");
  cmd->add_option("scenario", args->scenario_path, "Scenario file (scenarios/*.toml)")->required();
  cmd->add_option("--seed", args->seed, "Seed of the run (default: the scenario's)");
  cmd->add_option("--duration", args->duration,
                  "Cut the scenario's load-and-faults phase to this long (e.g. 5s)");
  cmd->add_option("--out", args->out_dir, "Directory for summary.txt, summary.json, trace.jsonl");
  cmd->add_option("--trace", args->trace_path, "Write the JSONL trace (the history) to this file");
  cmd->add_flag("--json", args->json, "Print the summary as one JSON object");
  cmd->add_flag("--check-determinism", args->check_determinism,
                "Run twice and compare traces (print the first difference); then judge the run "
                "as usual");
  cmd->add_flag("--quiet", args->quiet, "No progress line");
  cmd->footer(
      "Exit status: 0 when the outcome matches the scenario's `expect`, 1 when it does not, 2 for "
      "a bad scenario file or a run that could not start.");
  cmd->callback([args, exit_code] { *exit_code = run_sim(*args); });
}

}  // namespace gregor::cli
