// The command only parses flags, reads and prints; the checking and both output forms live in
// sim/check so that the scenario runner reports exactly what `gregor check` would.
#include "cli/check_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "sim/check/checker.h"

namespace gregor::cli {
namespace {

struct CheckArgs {
  std::string path;
  bool json = false;
  size_t max_per_kind = check::kViolationsPerKindMax;
};

int run_check(const CheckArgs& args) {
  check::CheckOptions options;
  options.violations_per_kind_max = args.max_per_kind;
  auto result = args.path == "-" ? check::check_history(std::cin, options)
                                 : check::check_history_file(args.path, options);
  if (!result.ok()) {
    // File errors name the file already; standard input has no name of its own.
    std::cerr << fmt::format("gregor check: {}{}\n", args.path == "-" ? "stdin: " : "",
                             result.status().message());
    return 2;
  }
  std::cout << (args.json ? check::to_json(*result) + "\n" : check::to_text(*result));
  return result->pass() ? 0 : 1;
}

}  // namespace

void add_check_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<CheckArgs>();
  CLI::App* cmd = app.add_subcommand(
      "check",
      "Check a history (JSONL; a simulation trace is one) for lost writes, duplicates, "
      "skips, regressions and replica divergence");
  cmd->add_option("history", args->path, "The history file (- for standard input)")->required();
  cmd->add_flag("--json", args->json,
                "Print one JSON object: verdict, violations with evidence, counts, stats");
  cmd->add_option("--max-per-kind", args->max_per_kind,
                  "List at most this many violations of each kind (counts stay exact)")
      ->check(CLI::Range(size_t{0}, size_t{1000000}))
      ->capture_default_str();
  cmd->callback([args, exit_code] { *exit_code = run_check(*args); });
}

}  // namespace gregor::cli
