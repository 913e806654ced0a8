// The children are real `gregor serve` processes, so the figure includes everything a deployment
// pays (TCP between brokers, follower fetch round trips, three processes sharing the machine's
// cores), and the baseline is a single `gregor serve` child, the same process model without
// replication: the ratio isolates what replication costs.
#include "bench/cluster_bench.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <filesystem>
#include <fstream>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "bench/bench_clock.h"
#include "bench/rdkafka_bench.h"

namespace gregor::bench {
namespace {

namespace fs = std::filesystem;

constexpr int kNodes = 3;
constexpr size_t kRecordBytes = 1024;
constexpr int kProducerThreads = 3;  // cluster_3p: one producer and one topic per thread
// Bounds on waiting for the children: a node listens within seconds; the quorum elects, brokers
// register and are unfenced, and a topic's followers join the ISR within a few more.
constexpr auto kListenTimeout = std::chrono::seconds(30);
constexpr auto kTopicReadyTimeout = std::chrono::seconds(60);
// A clean stop moves leadership away first (controlled shutdown); past this, SIGKILL.
constexpr auto kStopTimeout = std::chrono::seconds(30);
constexpr auto kPollInterval = std::chrono::milliseconds(50);
constexpr int kAdminRequestTimeoutMs = 10000;
constexpr size_t kTailLines = 30;

std::string tail_of(const std::string& path, size_t lines_max) {
  std::ifstream in(path);
  std::deque<std::string> lines;
  for (std::string line; std::getline(in, line);) {
    lines.push_back(std::move(line));
    if (lines.size() > lines_max) lines.pop_front();
  }
  std::string out;
  for (auto& line : lines) out += "    " + line + "\n";
  return out;
}

// `n` distinct free loopback ports. The controllers' ports must be in every node's voters before
// any node starts, so they are chosen here (bound together so they differ, then released).
Result<std::vector<int>> free_ports(int n) {
  std::vector<int> fds, ports;
  Status status;
  for (int i = 0; i < n && status.ok(); ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      status = error(Errc::io_error, "choosing a free loopback port");
    } else {
      ports.push_back(ntohs(addr.sin_port));
    }
    if (fd >= 0) fds.push_back(fd);
  }
  for (int fd : fds) ::close(fd);
  if (!status.ok()) return status;
  return ports;
}

// One `gregor serve` child: its stdout and stderr go to `dir`/serve.log.
class ServeProcess {
 public:
  ServeProcess(int node_id, fs::path dir) : node_id_(node_id), dir_(std::move(dir)) {}
  ServeProcess(const ServeProcess&) = delete;
  ServeProcess& operator=(const ServeProcess&) = delete;
  ~ServeProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }

  // Writes the config (TOML text) to `dir`/serve.toml and starts the child.
  Status spawn(const std::string& binary, const std::string& config_text) {
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return errorf(Errc::io_error, "mkdir {}: {}", dir_.string(), ec.message());
    std::string config = (dir_ / "serve.toml").string();
    if (!(std::ofstream(config) << config_text)) return errorf(Errc::io_error, "write {}", config);
    std::vector<std::string> args = {
        binary,     "--log-level", "info",      "serve",
        "--config", config,        "--log-dir", (dir_ / "data").string(),
        "--listen", "127.0.0.1:0"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    int out = ::open(log_path().c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0) return errorf(Errc::io_error, "open {}", log_path());
    pid_t pid = ::fork();
    if (pid == 0) {
      // Only async-signal-safe calls between fork and exec (librdkafka's threads exist).
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive a killed benchmark
      int in = ::open("/dev/null", O_RDONLY);
      if (in >= 0) ::dup2(in, 0);
      ::dup2(out, 1);
      ::dup2(out, 2);
      ::execv(argv[0], argv.data());
      _exit(127);
    }
    ::close(out);
    if (pid < 0) return errorf(Errc::io_error, "fork node {}", node_id_);
    pid_ = pid;
    return Status::Ok();
  }

  // The broker's address, from the child's "broker listening on HOST:PORT" line.
  Result<std::string> wait_listening() {
    constexpr std::string_view kMarker = "broker listening on ";
    auto deadline = Clock::now() + kListenTimeout;
    while (Clock::now() < deadline) {
      std::ifstream in(log_path());
      for (std::string line; std::getline(in, line);) {
        auto at = line.rfind(kMarker);
        if (at == std::string::npos) continue;
        std::string rest = line.substr(at + kMarker.size());
        return rest.substr(0, rest.find(' '));
      }
      if (exited()) return errorf(Errc::closed, "node {} exited while starting", node_id_);
      std::this_thread::sleep_for(kPollInterval);
    }
    return errorf(Errc::timed_out, "node {} did not listen within {} s", node_id_,
                  kListenTimeout.count());
  }

  // SIGTERM, then SIGKILL after kStopTimeout; an error unless the child exited with status 0.
  Status stop() {
    if (pid_ <= 0) return exit_status_;
    ::kill(pid_, SIGTERM);
    auto deadline = Clock::now() + kStopTimeout;
    while (pid_ > 0 && Clock::now() < deadline) {
      if (exited()) break;
      std::this_thread::sleep_for(kPollInterval);
    }
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
      pid_ = -1;
      exit_status_ = errorf(Errc::timed_out, "node {} did not stop within {} s of SIGTERM",
                            node_id_, kStopTimeout.count());
    }
    return exit_status_;
  }

  int node_id() const { return node_id_; }
  std::string log_path() const { return (dir_ / "serve.log").string(); }
  std::string tail() const { return tail_of(log_path(), kTailLines); }

 private:
  // Reaps the child if it has exited (recording how).
  bool exited() {
    if (pid_ <= 0) return true;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_) return false;
    pid_ = -1;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      exit_status_ = Status::Ok();
    } else if (WIFEXITED(status)) {
      exit_status_ =
          errorf(Errc::io_error, "node {} exited with {}", node_id_, WEXITSTATUS(status));
    } else {
      exit_status_ =
          errorf(Errc::io_error, "node {} died of signal {}", node_id_, WTERMSIG(status));
    }
    return true;
  }

  int node_id_;
  fs::path dir_;
  pid_t pid_ = -1;
  Status exit_status_ = error(Errc::closed, "never started");
};

// Its message plus the output tail of every child, for an error the user must be able to read.
Status with_tails(const Status& s, const std::vector<std::unique_ptr<ServeProcess>>& nodes) {
  std::string message = s.message();
  for (auto& node : nodes) {
    message += fmt::format("\n  --- node {} ({}), last lines:\n{}", node->node_id(),
                           node->log_path(), node->tail());
  }
  return Status(s.code(), message);
}

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

Result<KafkaPtr> admin_client(const std::string& bootstrap) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  if (rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof err) !=
      RD_KAFKA_CONF_OK) {
    rd_kafka_conf_destroy(conf);
    return errorf(Errc::invalid_argument, "librdkafka config: {}", err);
  }
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);  // takes conf
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return errorf(Errc::invalid_argument, "rd_kafka_new: {}", err);
  }
  return KafkaPtr(rk);
}

// One CreateTopics request (librdkafka's admin API); TOPIC_ALREADY_EXISTS counts as created (a
// retry after a lost answer).
Status create_topic_once(rd_kafka_t* rk, const std::string& topic, int partitions, int rf) {
  char err[512];
  rd_kafka_NewTopic_t* new_topic =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, rf, err, sizeof err);
  if (!new_topic) return errorf(Errc::invalid_argument, "NewTopic: {}", err);
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, &new_topic, 1, nullptr, queue);
  rd_kafka_event_t* event = rd_kafka_queue_poll(queue, kAdminRequestTimeoutMs);
  Status status = error(Errc::timed_out, "CreateTopics: no answer");
  if (event && rd_kafka_event_error(event)) {
    status = errorf(Errc::io_error, "CreateTopics: {}", rd_kafka_event_error_string(event));
  } else if (event) {
    size_t count = 0;
    const rd_kafka_topic_result_t** results =
        rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(event), &count);
    rd_kafka_resp_err_t e =
        count == 1 ? rd_kafka_topic_result_error(results[0]) : RD_KAFKA_RESP_ERR__BAD_MSG;
    status = e == RD_KAFKA_RESP_ERR_NO_ERROR || e == RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS
                 ? Status::Ok()
                 : errorf(Errc::io_error, "CreateTopics {}: {}", topic, rd_kafka_err2str(e));
  }
  if (event) rd_kafka_event_destroy(event);
  rd_kafka_queue_destroy(queue);
  rd_kafka_NewTopic_destroy(new_topic);
  return status;
}

// Each partition's leader once every partition of `topic` has a leader and `rf` ISR members;
// empty while not yet.
Result<std::vector<int>> leaders_with_full_isr(rd_kafka_t* rk, const std::string& topic,
                                               int partitions, int rf) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, rkt, &md, kAdminRequestTimeoutMs);
  rd_kafka_topic_destroy(rkt);
  if (e) return errorf(Errc::io_error, "Metadata: {}", rd_kafka_err2str(e));
  std::vector<int> leaders;
  for (int t = 0; t < md->topic_cnt; ++t) {
    const rd_kafka_metadata_topic_t& mt = md->topics[t];
    if (mt.topic != topic || mt.err || mt.partition_cnt != partitions) continue;
    for (int p = 0; p < mt.partition_cnt; ++p) {
      if (mt.partitions[p].leader < 0 || mt.partitions[p].isr_cnt != rf) break;
      leaders.push_back(mt.partitions[p].leader);
    }
  }
  rd_kafka_metadata_destroy(md);
  if (leaders.size() != static_cast<size_t>(partitions)) leaders.clear();
  return leaders;
}

// Creates `topic` (retrying while the quorum elects and brokers are unfenced) and waits until
// its ISR is full. Returns the partition leaders.
Result<std::vector<int>> create_ready_topic(const std::string& bootstrap, const std::string& topic,
                                            int partitions, int rf) {
  auto rk = admin_client(bootstrap);
  if (!rk.ok()) return rk.status();
  auto deadline = Clock::now() + kTopicReadyTimeout;
  Status last = error(Errc::timed_out, "no attempt");
  bool created = false;
  while (Clock::now() < deadline) {
    if (!created) {
      last = create_topic_once(rk->get(), topic, partitions, rf);
      created = last.ok();
    }
    if (created) {
      auto leaders = leaders_with_full_isr(rk->get(), topic, partitions, rf);
      if (leaders.ok() && !leaders->empty()) return leaders;
      last = leaders.ok() ? errorf(Errc::timed_out, "ISR of {} not yet {}", topic, rf)
                          : leaders.status();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return errorf(Errc::timed_out, "topic {} not ready within {} s: {}", topic,
                kTopicReadyTimeout.count(), last.message());
}

nlohmann::ordered_json phase_json(const ClientThroughput& t, const std::vector<int>& leaders) {
  return {{"records", t.records},
          {"bytes", t.bytes},
          {"seconds", t.seconds},
          {"mb_s", t.mb_s()},
          {"leaders", leaders}};
}

// `bytes` of 1 KiB records over `topics` (one partition each), one librdkafka producer thread
// per topic. Elapsed time is the slowest producer's (they start together).
Result<ClientThroughput> produce_parallel(const std::string& bootstrap,
                                          const std::vector<std::string>& topics, uint64_t bytes) {
  uint64_t records_each = std::max<uint64_t>(1, bytes / kRecordBytes / topics.size());
  std::vector<std::optional<Result<ClientThroughput>>> results(topics.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < topics.size(); ++i) {
    threads.emplace_back(
        [&, i] { results[i] = rdkafka_produce(bootstrap, topics[i], kRecordBytes, records_each); });
  }
  for (auto& t : threads) t.join();
  ClientThroughput total;
  for (auto& r : results) {
    if (!r->ok()) return r->status();
    total.records += (*r)->records;
    total.bytes += (*r)->bytes;
    total.seconds = std::max(total.seconds, (*r)->seconds);
  }
  return total;
}

// Starts the children for `configs` (node id -> TOML) and waits until each listens.
Status start_nodes(const std::string& binary, const fs::path& dir,
                   const std::vector<std::pair<int, std::string>>& configs,
                   std::vector<std::unique_ptr<ServeProcess>>& nodes, std::string& bootstrap) {
  for (auto& [id, text] : configs) {
    nodes.push_back(std::make_unique<ServeProcess>(id, dir / fmt::format("node{}", id)));
    if (Status s = nodes.back()->spawn(binary, text); !s.ok()) return s;
  }
  for (auto& node : nodes) {
    auto address = node->wait_listening();
    if (!address.ok()) return address.status();
    bootstrap += (bootstrap.empty() ? "" : ",") + *address;
  }
  return Status::Ok();
}

// Stops every child in order (each a controlled shutdown); the first failure, with all tails.
Status stop_nodes(std::vector<std::unique_ptr<ServeProcess>>& nodes) {
  Status first;
  for (auto& node : nodes) {
    Status s = node->stop();
    if (!s.ok() && first.ok()) first = s;
  }
  return first.ok() ? first : with_tails(first, nodes);
}

// The baseline: one `gregor serve` without a quorum, one partition, replication factor 1.
Result<nlohmann::ordered_json> run_single(const ClusterBenchOptions& o, const fs::path& dir,
                                          uint64_t bytes) {
  std::vector<std::unique_ptr<ServeProcess>> nodes;
  std::string bootstrap;
  auto measure = [&]() -> Result<nlohmann::ordered_json> {
    Status s = start_nodes(o.binary, dir / "single", {{1, "\"node.id\" = 1\n"}}, nodes, bootstrap);
    if (!s.ok()) return s;
    auto leaders = create_ready_topic(bootstrap, "bench-single", 1, 1);
    if (!leaders.ok()) return leaders.status();
    auto t = rdkafka_produce(bootstrap, "bench-single", kRecordBytes, bytes / kRecordBytes);
    if (!t.ok()) return t.status();
    return phase_json(*t, *leaders);
  };
  auto result = measure();
  if (!result.ok()) return with_tails(result.status(), nodes);
  if (Status stopped = stop_nodes(nodes); !stopped.ok()) return stopped;
  return result;
}

std::string cluster_config(int id, const std::string& voters, const ClusterBenchOptions& o) {
  return fmt::format(
      "\"node.id\" = {}\n\"controller.quorum.voters\" = \"{}\"\n"
      "\"process.roles\" = \"broker,controller\"\n\"default.replication.factor\" = {}\n"
      "\"min.insync.replicas\" = {}\n",
      id, voters, o.replication_factor, std::min(o.min_insync_replicas, o.replication_factor));
}

// The cluster phases: one partition, then three topics with a producer thread each.
Result<nlohmann::ordered_json> run_cluster(const ClusterBenchOptions& o, const fs::path& dir,
                                           uint64_t bytes) {
  auto ports = free_ports(kNodes);
  if (!ports.ok()) return ports.status();
  std::string voters;
  for (int i = 0; i < kNodes; ++i) {
    voters += fmt::format("{}{}@127.0.0.1:{}", i ? "," : "", i + 1, (*ports)[i]);
  }
  std::vector<std::pair<int, std::string>> configs;
  for (int id = 1; id <= kNodes; ++id) configs.emplace_back(id, cluster_config(id, voters, o));
  std::vector<std::unique_ptr<ServeProcess>> nodes;
  std::string bootstrap;
  int rf = o.replication_factor;
  nlohmann::ordered_json out;
  auto run = [&]() -> Status {
    if (Status s = start_nodes(o.binary, dir / "cluster", configs, nodes, bootstrap); !s.ok()) {
      return s;
    }
    auto leaders = create_ready_topic(bootstrap, "bench-cluster-1p", 1, rf);
    if (!leaders.ok()) return leaders.status();
    auto one = rdkafka_produce(bootstrap, "bench-cluster-1p", kRecordBytes, bytes / kRecordBytes);
    if (!one.ok()) return errorf(one.status().code(), "cluster_1p: {}", one.status().message());
    out["cluster_1p"] = phase_json(*one, *leaders);
    std::vector<std::string> topics;
    std::vector<int> all_leaders;
    for (int i = 0; i < kProducerThreads; ++i) {
      topics.push_back(fmt::format("bench-cluster-3p-{}", i));
      auto l = create_ready_topic(bootstrap, topics.back(), 1, rf);
      if (!l.ok()) return l.status();
      all_leaders.insert(all_leaders.end(), l->begin(), l->end());
    }
    auto three = produce_parallel(bootstrap, topics, bytes);
    if (!three.ok())
      return errorf(three.status().code(), "cluster_3p: {}", three.status().message());
    out["cluster_3p"] = phase_json(*three, all_leaders);
    return Status::Ok();
  };
  if (Status s = run(); !s.ok()) return with_tails(s, nodes);
  if (Status stopped = stop_nodes(nodes); !stopped.ok()) return stopped;
  return out;
}

struct TempDir {
  std::string path;
  bool keep = false;
  ~TempDir() {
    std::error_code ec;
    if (!keep && !path.empty()) fs::remove_all(path, ec);
  }
};

}  // namespace

Result<nlohmann::ordered_json> run_cluster_bench(const ClusterBenchOptions& o) {
  if (o.replication_factor < 1 || o.replication_factor > kNodes) {
    return errorf(Errc::invalid_argument, "replication factor {} not in 1..{}",
                  o.replication_factor, kNodes);
  }
  ClusterBenchOptions options = o;
  // A readable name in ps and in the children's own argv[0].
  std::error_code ec;
  fs::path binary = fs::read_symlink(o.binary, ec);
  if (!ec) options.binary = binary.string();
  TempDir dir{(fs::path(o.parent_dir) / "gregor-cluster-bench-XXXXXX").string(), o.keep_dir};
  if (!mkdtemp(dir.path.data())) {
    std::string failed = dir.path;
    dir.path.clear();
    return errorf(Errc::io_error, "mkdtemp {}", failed);
  }
  uint64_t bytes = o.mb * 1000 * 1000;
  auto single = run_single(options, dir.path, bytes);
  if (!single.ok()) {
    return errorf(single.status().code(), "single broker: {}", single.status().message());
  }
  auto cluster = run_cluster(options, dir.path, bytes);
  if (!cluster.ok())
    return errorf(cluster.status().code(), "cluster: {}", cluster.status().message());

  double baseline = (*single)["mb_s"].get<double>();
  nlohmann::ordered_json out;
  out["single_broker_1k"] = *single;
  for (const char* name : {"cluster_1p", "cluster_3p"}) {
    nlohmann::ordered_json phase = (*cluster)[name];
    double mb_s = phase["mb_s"].get<double>();
    phase["ratio_to_single_broker"] = baseline > 0 ? mb_s / baseline : 0;
    phase["ratio_to_nats_jetstream_r3"] = mb_s / kNatsJetStreamR3MbS;
    out[name] = phase;
  }
  out["external_reference"] = {
      {"name", "NATS JetStream R3 on a comparable machine (quoted by the issue, not measured)"},
      {"mb_s", kNatsJetStreamR3MbS}};
  out["config"] = {
      {"mb", o.mb},
      {"record_bytes", kRecordBytes},
      {"nodes", kNodes},
      {"replication_factor", o.replication_factor},
      {"min_insync_replicas", std::min(o.min_insync_replicas, o.replication_factor)},
      {"producer", "librdkafka 2.0.2, acks=all, linger.ms=5, batch.size=1000000"},
      {"cluster_3p_threads", kProducerThreads},
      {"brokers",
       "gregor serve child processes on loopback, broker+controller, default flush policy (no "
       "fsync per append, as Kafka)"},
      {"baseline", "single_broker_1k: one gregor serve child, no quorum, replication factor 1"},
      {"dir", o.keep_dir ? dir.path : std::string()}};
  return out;
}

std::string cluster_bench_text(const nlohmann::ordered_json& r) {
  std::string out = fmt::format("{:<34} {:>8.1f} MB/s  (baseline)\n", "single broker, rf 1",
                                r["single_broker_1k"]["mb_s"].get<double>());
  int rf = r["config"]["replication_factor"].get<int>();
  for (auto [name, label] : {std::pair{"cluster_1p", "cluster, 1 partition, 1 producer"},
                             std::pair{"cluster_3p", "cluster, 3 partitions, 3 producers"}}) {
    const auto& p = r[name];
    out += fmt::format("{:<34} {:>8.1f} MB/s  rf {}, x{:.2f} of single broker\n", label,
                       p["mb_s"].get<double>(), rf, p["ratio_to_single_broker"].get<double>());
  }
  out += fmt::format(
      "external reference (not measured): NATS JetStream R3 {:.0f} MB/s; cluster 1p x{:.2f}, "
      "3p x{:.2f}\n",
      kNatsJetStreamR3MbS, r["cluster_1p"]["ratio_to_nats_jetstream_r3"].get<double>(),
      r["cluster_3p"]["ratio_to_nats_jetstream_r3"].get<double>());
  return out;
}

}  // namespace gregor::bench
