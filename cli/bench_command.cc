// The command only parses flags and prints; the benchmark itself lives in bench/log_bench.cc so
// that it can be reused by other drivers (gregor_bench, tests) without the CLI.
#include "cli/bench_command.h"

#include <fmt/format.h>

#include <iostream>
#include <memory>

#include "bench/broker_bench.h"
#include "bench/checker_bench.h"
#include "bench/cluster_bench.h"
#include "bench/log_bench.h"
#include "bench/sim_bench.h"
#include "cli/sim_command.h"

namespace gregor::cli {
namespace {

struct LogArgs {
  bench::LogBenchOptions options;
  bool json = false;
};

int run_log(const LogArgs& args) {
  auto result = bench::run_log_bench(args.options);
  if (!result.ok()) {
    std::cerr << fmt::format("gregor bench log: {}\n", result.status().message());
    return 1;
  }
  if (args.json) {
    std::cout << result->to_json().dump() << "\n";
  } else {
    std::cout << result->to_text();
  }
  return 0;
}

int run_broker(const bench::BrokerBenchOptions& options) {
  auto result = bench::run_broker_bench(options);
  if (!result.ok()) {
    std::cerr << fmt::format("gregor bench broker: {}\n", result.status().message());
    return 1;
  }
  std::cout << result->dump() << "\n";
  return 0;
}

struct ClusterArgs {
  bench::ClusterBenchOptions options;
  bool json = false;
};

int run_cluster(const ClusterArgs& args) {
  auto result = bench::run_cluster_bench(args.options);
  if (!result.ok()) {
    std::cerr << fmt::format("gregor bench cluster: {}\n", result.status().message());
    return 1;
  }
  std::cout << (args.json ? result->dump() + "\n" : bench::cluster_bench_text(*result));
  return 0;
}

struct SimArgs {
  std::string scenario_path = "scenarios/default.toml";
  bench::SimBenchOptions options;
};

int run_sim(const SimArgs& args) {
  quiet_logging_unless_asked();
  auto s = load_scenario(args.scenario_path);
  if (!s.ok()) {
    std::cerr << "gregor bench sim: " << s.status().message() << "\n";
    return 2;
  }
  std::cout << bench::run_sim_bench(*s, args.options).dump(2) << "\n";
  return 0;
}

}  // namespace

void add_bench_command(CLI::App& app, int* exit_code) {
  CLI::App* bench = app.add_subcommand("bench", "Benchmarks on this machine's real backends");
  bench->require_subcommand(1);

  auto args = std::make_shared<LogArgs>();
  CLI::App* log = bench->add_subcommand(
      "log", "The partition Log on POSIX files vs raw sequential write/read of the same bytes");
  log->add_flag("--json", args->json, "Print one JSON object");
  log->add_option("--dir", args->options.parent_dir,
                  "Parent of the temporary directory (same file system as the broker's logs)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  log->add_option("--mb", args->options.mb, "MiB of batches per phase")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 20))
      ->capture_default_str();
  log->add_option("--in-flight", args->options.in_flight_max, "Appends pending at once")
      ->check(CLI::Range(size_t{1}, size_t{4096}))
      ->capture_default_str();
  log->add_option("--read-max-bytes", args->options.read_max_bytes, "max_bytes of each read")
      ->check(CLI::Range(size_t{1} << 10, size_t{64} << 20))
      ->capture_default_str();
  log->add_flag("--cold", args->options.cold,
                "Drop the page cache of the files (posix_fadvise) before the read phases");
  log->add_flag("!--no-fsync", args->options.fsync,
                "Neither write side fsyncs (the CPU and page-cache path only)");
  log->add_flag("--keep", args->options.keep_dir, "Keep the directory afterwards");
  log->callback([args, exit_code] { *exit_code = run_log(*args); });

  auto broker_options = std::make_shared<bench::BrokerBenchOptions>();
  CLI::App* broker = bench->add_subcommand(
      "broker",
      "Produce and fetch throughput of one broker over loopback (JSON), as ratios to "
      "bench log's append throughput measured in the same run");
  broker->add_option("--dir", broker_options->parent_dir, "Parent of the temporary log dir")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  broker->add_option("--mb", broker_options->mb, "MB of record values per produce phase")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 16))
      ->capture_default_str();
  broker->callback([broker_options, exit_code] { *exit_code = run_broker(*broker_options); });

  auto cluster_args = std::make_shared<ClusterArgs>();
  CLI::App* cluster = bench->add_subcommand(
      "cluster",
      "Produce throughput (librdkafka, acks=all, 1 KiB records) of three gregor serve processes "
      "with replication, as a ratio to one gregor serve measured in the same run");
  cluster->add_flag("--json", cluster_args->json, "Print one JSON object");
  cluster
      ->add_option("--dir", cluster_args->options.parent_dir,
                   "Parent of the temporary directory (configs, logs, data of the nodes)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  cluster->add_option("--mb", cluster_args->options.mb, "MB of record values per phase")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1} << 16))
      ->capture_default_str();
  cluster
      ->add_option("--rf", cluster_args->options.replication_factor,
                   "Replication factor of the cluster's topics")
      ->check(CLI::Range(1, 3))
      ->capture_default_str();
  cluster->add_flag("--keep", cluster_args->options.keep_dir, "Keep the directory afterwards");
  cluster->callback([cluster_args, exit_code] { *exit_code = run_cluster(*cluster_args); });

  auto sim_args = std::make_shared<SimArgs>();
  CLI::App* sim = bench->add_subcommand(
      "sim", "Simulator speed on a scenario: simulated seconds and acked records per wall second");
  sim->add_option("scenario", sim_args->scenario_path, "Scenario file")->capture_default_str();
  sim->add_option("--seed", sim_args->options.first_seed, "First seed")->capture_default_str();
  sim->add_option("--seeds", sim_args->options.seeds, "Seeds to run")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1000}))
      ->capture_default_str();
  sim->callback([sim_args, exit_code] { *exit_code = run_sim(*sim_args); });

  auto check_ops = std::make_shared<uint64_t>(bench::kCheckerBenchOps);
  CLI::App* check =
      bench->add_subcommand("check", "The history checker on a synthetic correct history (ops/s)");
  check->add_option("--ops", *check_ops, "Operations in the history")
      ->check(CLI::Range(uint64_t{1}, uint64_t{100000000}))
      ->capture_default_str();
  check->callback([check_ops, exit_code] { *exit_code = bench::run_checker_bench(*check_ops); });
}

}  // namespace gregor::cli
