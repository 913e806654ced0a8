#include "cli/serve_command.h"

#include <fmt/format.h>
#include <malloc.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <sstream>

#include "base/trace.h"
#include "disk/posix_disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"
#include "node/server/server.h"

namespace gregor::cli {
namespace {

namespace fs = std::filesystem;

// A broker allocates and frees buffers of up to megabytes thousands of times a second (produce
// requests, fetch answers, their frames). With glibc's defaults such a buffer is a fresh mmap, or
// heap the allocator trims away again after the free, so each one page-faults in anew (perf put
// the faults at an estimated quarter of a replicated cluster's CPU; bench/README.md). Fixed
// thresholds keep them on the heap, for reuse; the heap then holds about the peak in flight.
constexpr int kMallocMmapThresholdBytes = 64 << 20;
constexpr int kMallocTrimThresholdBytes = 256 << 20;

void keep_large_buffers_on_the_heap() {
  mallopt(M_MMAP_THRESHOLD, kMallocMmapThresholdBytes);
  mallopt(M_TRIM_THRESHOLD, kMallocTrimThresholdBytes);
}

struct ServeArgs {
  std::string config_path;
  std::string log_dir;  // overrides log.dirs
  std::string listen;   // overrides listeners, "host:port"
};

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return errorf(Errc::not_found, "{}: cannot open", path);
  std::ostringstream text;
  text << in.rdbuf();
  if (text.str().size() > broker::kConfigTextBytesMax) {
    return errorf(Errc::limit_exceeded, "{}: larger than {} bytes", path,
                  broker::kConfigTextBytesMax);
  }
  return text.str();
}

Result<broker::BrokerConfig> load_config(const ServeArgs& args) {
  std::string text;
  std::string source = "(defaults)";
  if (!args.config_path.empty()) {
    auto read = read_text(args.config_path);
    if (!read.ok()) return read.status();
    text = std::move(read).value();
    source = args.config_path;
  }
  auto config = broker::parse_broker_config(text, source);
  if (!config.ok()) return config.status();
  if (!args.log_dir.empty()) config->log_dir = args.log_dir;
  if (!args.listen.empty()) {
    auto listener = broker::parse_listener("PLAINTEXT://" + args.listen);
    if (!listener.ok()) {
      return errorf(Errc::invalid_argument, "--listen {}: {}", args.listen,
                    listener.status().message());
    }
    config->listener = *listener;
    config->advertised_listener = *listener;
  }
  return config;
}

// A signalfd for SIGTERM and SIGINT (blocked for normal delivery), read by the event loop.
Result<int> signal_fd() {
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  if (sigprocmask(SIG_BLOCK, &mask, nullptr) != 0) return error(Errc::io_error, "sigprocmask");
  int fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return error(Errc::io_error, "signalfd");
  return fd;
}

int serve(const ServeArgs& args) {
  auto config = load_config(args);
  if (!config.ok()) {
    std::cerr << "gregor serve: " << config.status().message() << "\n";
    return 2;
  }
  // The disk is rooted at the log dir's parent, so the broker sees the log dir as one name.
  fs::path log_dir = fs::absolute(config->log_dir).lexically_normal();
  if (log_dir.filename().empty()) log_dir = log_dir.parent_path();
  std::error_code ec;
  fs::create_directories(log_dir.parent_path(), ec);
  config->log_dir = log_dir.filename().string();
  if (!config->metadata_log_dir.empty()) {
    // The disk seam is rooted at the log dir's parent: the metadata dir must be under it too.
    fs::path meta = fs::absolute(config->metadata_log_dir).lexically_normal();
    fs::path rel = meta.lexically_relative(log_dir.parent_path());
    if (rel.empty() || *rel.begin() == "..") {
      std::cerr << fmt::format(
          "gregor serve: metadata.log.dir {} must be inside {} (the log dir's "
          "parent)\n",
          meta.string(), log_dir.parent_path().string());
      return 2;
    }
    config->metadata_log_dir = rel.string();
  }

  keep_large_buffers_on_the_heap();
  auto loop = net::EventLoop::create();
  if (!loop.ok()) {
    std::cerr << "gregor serve: " << loop.status().message() << "\n";
    return 1;
  }
  auto disk = disk::PosixDisk::create(**loop, log_dir.parent_path().string());
  if (!disk.ok()) {
    std::cerr << "gregor serve: " << disk.status().message() << "\n";
    return 1;
  }
  net::RealClock clock(**loop);
  net::TcpNetwork network(**loop);
  Random random(net::os_random_seed());
  NullTracer tracer;
  Env env{clock, random, network, **disk, tracer, fmt::format("node-{}", config->node_id), false};
  // Env::halt (the log dir failed): exit 1 without the clean shutdown, like Kafka's Exit.halt, so
  // the supervisor restarts the broker and recovery reads what is really on disk.
  std::optional<Status> halted;
  env.halt = [&](const Status& why) { halted = why; };
  server::Server server(env, *config);

  auto sig = signal_fd();
  if (!sig.ok()) {
    std::cerr << "gregor serve: " << sig.status().message() << "\n";
    return 1;
  }
  bool stop_requested = false;
  Status added = (*loop)->add_fd(*sig, 0x001 /* EPOLLIN */, [&](uint32_t) {
    signalfd_siginfo info{};
    while (::read(*sig, &info, sizeof info) == sizeof info) stop_requested = true;
  });
  if (!added.ok()) {
    std::cerr << "gregor serve: " << added.message() << "\n";
    return 1;
  }

  std::optional<Status> started;
  server.start([&](const Status& s) { started = s; });
  (*loop)->run_until([&] { return started.has_value() || stop_requested; }, hours(1));
  if (!started || !started->ok()) {
    std::cerr << "gregor serve: "
              << (started ? started->message() : std::string("interrupted while starting")) << "\n";
    return 1;
  }
  // The broker's address comes last on the line: scripts take the last "listening on".
  std::string roles;
  if (server.controller()) {
    roles += fmt::format("controller listening on {} (voters {}, cluster {})",
                         server.controller()->address().to_string(),
                         broker::quorum_voters_string(config->quorum_voters),
                         server::cluster_id_of(*config));
  } else if (config->kraft()) {
    roles += fmt::format("following the controllers {}",
                         broker::quorum_voters_string(config->quorum_voters));
  }
  if (server.broker()) {
    roles += fmt::format("{}broker listening on {}", roles.empty() ? "" : ", ",
                         server.broker()->address().to_string());
  }
  std::cout << fmt::format("gregor serve: node {}: {} (log dir {})", config->node_id, roles,
                           log_dir.string())
            << std::endl;
  while (!stop_requested && !halted)
    (*loop)->run_until([&] { return stop_requested || halted.has_value(); }, hours(24));
  if (halted) {
    std::cerr << "gregor serve: halting: " << halted->message() << std::endl;
    return 1;
  }
  std::cout << "gregor serve: shutting down" << std::endl;
  std::optional<Status> stopped;
  server.shutdown([&](const Status& s) { stopped = s; });
  (*loop)->run_until([&] { return stopped.has_value(); }, minutes(5));
  (*loop)->remove_fd(*sig);
  ::close(*sig);
  if (!stopped || !stopped->ok()) {
    std::cerr << "gregor serve: shutdown: "
              << (stopped ? stopped->message() : std::string("timed out")) << "\n";
    return 1;
  }
  std::cout << "gregor serve: stopped cleanly" << std::endl;
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ServeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "serve",
      "Run a Gregor node on TCP until SIGTERM: a Kafka broker (clients: kcat, librdkafka, kafkajs, "
      "...), and with controller.quorum.voters a member of a controller quorum (process.roles)");
  cmd->add_option("--config", args->config_path,
                  "TOML file with Kafka's key names (log.dirs, listeners, num.partitions, ...)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--log-dir", args->log_dir, "Overrides log.dirs");
  cmd->add_option("--listen", args->listen, "Overrides listeners: HOST:PORT (port 0: any free)");
  cmd->callback([args, exit_code] { *exit_code = serve(*args); });
}

}  // namespace gregor::cli
