#include "bench/broker_bench.h"

#include <fmt/format.h>

#include <atomic>
#include <filesystem>
#include <future>
#include <thread>

#include "base/trace.h"
#include "bench/log_bench.h"
#include "bench/rdkafka_bench.h"
#include "client/producer.h"
#include "disk/posix_disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"
#include "node/broker/broker.h"

namespace gregor::bench {
namespace {

namespace fs = std::filesystem;

// A broker on its own thread: everything it owns is created, run and destroyed on that thread.
class BrokerThread {
 public:
  Result<std::string> start(const std::string& root) {
    std::promise<Result<std::string>> ready;
    auto address = ready.get_future();
    thread_ = std::thread([this, root, &ready] { run(root, ready); });
    return address.get();
  }
  ~BrokerThread() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run(const std::string& root, std::promise<Result<std::string>>& ready) {
    auto loop = net::EventLoop::create();
    if (!loop.ok()) return ready.set_value(loop.status());
    auto disk = disk::PosixDisk::create(**loop, root);
    if (!disk.ok()) return ready.set_value(disk.status());
    net::RealClock clock(**loop);
    net::TcpNetwork network(**loop);
    Random random(net::os_random_seed());
    NullTracer tracer;
    Env env{clock, random, network, **disk, tracer, "bench-broker", false};
    auto config = broker::parse_broker_config("", "bench");
    if (!config.ok()) return ready.set_value(config.status());
    config->log_dir = "data";
    config->listener = {"127.0.0.1", 0};
    config->advertised_listener = config->listener;
    config->socket_request_max_bytes = 100 << 20;
    broker::Broker broker(env, *config);
    std::optional<Status> started;
    broker.start([&](const Status& s) { started = s; });
    (*loop)->run_until([&] { return started.has_value(); }, seconds(60));
    if (!started || !started->ok()) {
      return ready.set_value(started ? *started : error(Errc::timed_out, "broker start"));
    }
    ready.set_value(broker.address().to_string());
    // The stop flag is polled between short loop runs (the loop itself is single-threaded).
    while (!stop_) (*loop)->run_until([&] { return stop_.load(); }, milliseconds(50));
    std::optional<Status> stopped;
    broker.shutdown([&](const Status& s) { stopped = s; });
    (*loop)->run_until([&] { return stopped.has_value(); }, seconds(60));
  }

  std::thread thread_;
  std::atomic<bool> stop_{false};
};

// Gregor's own producer (client/) on this thread's event loop: `records` values of
// `record_bytes` to partition 0, up to kWindow unacknowledged at once (its buffer limit), acks=all,
// idempotent, the same linger and batch size as the librdkafka phases.
Result<ClientThroughput> gregor_produce(const std::string& bootstrap, const std::string& topic,
                                        size_t record_bytes, uint64_t records) {
  constexpr uint64_t kWindow = 100000;
  auto loop = net::EventLoop::create();
  if (!loop.ok()) return loop.status();
  net::RealClock clock(**loop);
  net::TcpNetwork network(**loop);
  Random random(net::os_random_seed());
  NullTracer tracer;
  struct NoDisk final : disk::Disk {
    void open(const std::string&, disk::OpenMode, OpenFn done) override {
      done(error(Errc::invalid_argument, "no disk"));
    }
    void rename(const std::string&, const std::string&, disk::StatusFn done) override {
      done(error(Errc::invalid_argument, "no disk"));
    }
    void remove(const std::string&, disk::StatusFn done) override {
      done(error(Errc::invalid_argument, "no disk"));
    }
    void mkdir(const std::string&, disk::StatusFn done) override {
      done(error(Errc::invalid_argument, "no disk"));
    }
    void list(const std::string&, ListFn done) override {
      done(error(Errc::invalid_argument, "no disk"));
    }
    void fsync_dir(const std::string&, disk::StatusFn done) override {
      done(error(Errc::invalid_argument, "no disk"));
    }
  } no_disk;
  Env env{clock, random, network, no_disk, tracer, "bench-client", false};
  client::ProducerConfig config;
  config.bootstrap_servers = {bootstrap};
  config.batch_size = 1000000;
  config.max_request_size = 4 << 20;
  config.buffer_memory = 512 << 20;
  config.linger_ms = milliseconds(5);
  if (Status s = client::validate(config); !s.ok()) return s;
  client::Producer producer(env, config);
  Bytes value(record_bytes, 'x');
  uint64_t sent = 0, acked = 0, failed = 0;
  std::string first_error;
  auto start = std::chrono::steady_clock::now();
  std::function<void()> pump = [&] {
    while (sent < records && sent - acked - failed < kWindow) {
      ++sent;
      producer.send(topic, 0, std::nullopt, value, {}, [&](Result<client::RecordMetadata> r) {
        if (r.ok()) {
          ++acked;
        } else if (failed++ == 0) {
          first_error = r.status().message();
        }
        pump();
      });
    }
  };
  pump();
  (*loop)->run_until([&] { return acked + failed == records; }, minutes(5));
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::optional<bool> closed;
  producer.close([&] { closed = true; });
  (*loop)->run_until([&] { return closed.has_value(); }, seconds(30));
  if (failed) return errorf(Errc::io_error, "{} records failed: {}", failed, first_error);
  if (acked != records) return error(Errc::timed_out, "gregor producer did not finish");
  return ClientThroughput{records, records * record_bytes, elapsed};
}

nlohmann::ordered_json phase(const ClientThroughput& t, double baseline_mb_s) {
  return {{"records", t.records},
          {"bytes", t.bytes},
          {"seconds", t.seconds},
          {"mb_s", t.mb_s()},
          {"ratio_to_log_append", baseline_mb_s > 0 ? t.mb_s() / baseline_mb_s : 0}};
}

}  // namespace

Result<nlohmann::ordered_json> run_broker_bench(const BrokerBenchOptions& o) {
  LogBenchOptions log_options;
  log_options.parent_dir = o.parent_dir;
  log_options.mb = std::max<uint64_t>(64, o.mb / 2);
  auto log = run_log_bench(log_options);
  if (!log.ok()) return log.status();
  double baseline = log->append_1m.bytes / log->append_1m.seconds / 1e6;  // MB/s, as below

  std::string root = (fs::path(o.parent_dir) / "gregor-broker-bench-XXXXXX").string();
  if (!mkdtemp(root.data())) return errorf(Errc::io_error, "mkdtemp {}", root);
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      std::error_code ec;
      fs::remove_all(dir, ec);
    }
  } cleanup{root};

  nlohmann::ordered_json out;
  {
    BrokerThread broker;
    auto address = broker.start(root);
    if (!address.ok()) return address.status();
    uint64_t bytes = o.mb * 1000 * 1000;
    auto small = rdkafka_produce(*address, "bench-100b", 100, bytes / 100);
    if (!small.ok()) return small.status();
    auto large = rdkafka_produce(*address, "bench-1k", 1024, bytes / 1024);
    if (!large.ok()) return large.status();
    auto fetch = rdkafka_consume(*address, "bench-1k", large->records);
    if (!fetch.ok()) return fetch.status();
    auto gregor_small = gregor_produce(*address, "bench-gregor-100b", 100, bytes / 100);
    if (!gregor_small.ok()) return gregor_small.status();
    auto gregor_large = gregor_produce(*address, "bench-gregor-1k", 1024, bytes / 1024);
    if (!gregor_large.ok()) return gregor_large.status();
    out["log_append_mb_s"] = baseline;
    out["rdkafka_produce_100b"] = phase(*small, baseline);
    out["rdkafka_produce_1k"] = phase(*large, baseline);
    out["rdkafka_fetch_1k"] = phase(*fetch, baseline);
    out["gregor_produce_100b"] = phase(*gregor_small, baseline);
    out["gregor_produce_1k"] = phase(*gregor_large, baseline);
  }
  out["config"] = {{"mb", o.mb},
                   {"producer",
                    "librdkafka 2.0.2 and Gregor's client, acks=all, linger.ms=5, "
                    "batch.size=1000000; Gregor's idempotent"},
                   {"broker",
                    "in-process thread, TcpNetwork + PosixDisk, default log config "
                    "(no fsync per append, as Kafka)"},
                   {"baseline", "gregor bench log append_1m (fsync once at the end)"}};
  return out;
}

}  // namespace gregor::bench
