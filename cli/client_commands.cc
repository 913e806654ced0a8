// `gregor produce`, `gregor consume` and `gregor topics`: Gregor's client on the production
// backends (the epoll loop, TCP, the real clock), the way cli/serve_command.cc runs the broker.
// Each command builds its Env, starts the client, and runs the loop until the work is done.
#include "cli/client_commands.h"

#include <errno.h>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <iostream>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "base/trace.h"
#include "cli/client_runtime.h"
#include "cli/history_file.h"
#include "client/admin.h"
#include "client/consumer.h"
#include "client/group_consumer.h"
#include "client/producer.h"
#include "disk/disk.h"
#include "net/event_loop.h"
#include "net/tcp_network.h"

namespace gregor::cli {
namespace {

using client::DeliveryReport;

// Lines waiting in the producer before stdin is read further (back-pressure).
constexpr size_t kProduceBufferedLinesMax = 10000;
constexpr size_t kStdinChunkBytes = 64 << 10;

int fail(std::string_view command, const std::string& message) {
  std::cerr << "gregor " << command << ": " << message << "\n";
  return 1;
}

Bytes record_bytes(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

// --- produce -----------------------------------------------------------------------------------

struct ProduceArgs {
  std::string bootstrap;
  std::string topic;
  std::optional<std::string> key_separator;
  std::string acks = "all";
  bool idempotence = false;
  std::string compression = "none";
  int64_t linger_ms = 5;
  std::optional<int32_t> partition;
  int64_t delivery_timeout_ms = 120000;
  std::string history_path;
};

Result<client::ProducerConfig> producer_config(const ProduceArgs& a) {
  client::ProducerConfig c;
  c.bootstrap_servers = {a.bootstrap};
  c.acks = a.acks == "all" ? -1 : static_cast<int16_t>(std::stoi(a.acks));
  c.enable_idempotence = a.idempotence;
  c.linger_ms = milliseconds(a.linger_ms);
  c.delivery_timeout_ms =
      std::max<Duration>(milliseconds(a.delivery_timeout_ms), c.linger_ms + c.request_timeout_ms);
  static const std::map<std::string, log::Compression> codecs = {
      {"none", log::Compression::none},
      {"gzip", log::Compression::gzip},
      {"snappy", log::Compression::snappy},
      {"lz4", log::Compression::lz4},
      {"zstd", log::Compression::zstd}};
  c.compression_type = codecs.at(a.compression);
  GREGOR_RETURN_IF_ERROR(client::validate(c));
  return c;
}

// Reads stdin as the loop finds it readable (pipes, terminals) or straight through (files,
// which epoll refuses), and hands complete lines to `line`; pauses while `paused()` holds.
class StdinLines {
 public:
  StdinLines(net::EventLoop& loop, std::function<void(std::string_view)> line,
             std::function<bool()> paused)
      : loop_(loop), line_(std::move(line)), paused_(std::move(paused)) {}
  ~StdinLines() { stop_watching(); }
  void start() { resume(); }
  bool eof() const { return eof_; }
  // Called after the producer drained a little: reading may go on.
  void resume() {
    if (eof_ || watching_ || paused_()) return;
    watching_ = loop_.add_fd(0, 0x001 /* EPOLLIN */, [this](uint32_t) { read_once(); }).ok();
    if (!watching_) loop_.post([this] { read_once(); });  // a regular file: never blocks
  }

 private:
  void stop_watching() {
    if (watching_) loop_.remove_fd(0);
    watching_ = false;
  }
  void read_once() {
    char buf[kStdinChunkBytes];
    ssize_t n = ::read(0, buf, sizeof buf);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) return;
    if (n <= 0) {
      if (!partial_.empty()) line_(partial_);
      partial_.clear();
      eof_ = true;
      stop_watching();
      return;
    }
    partial_.append(buf, static_cast<size_t>(n));
    size_t start = 0;
    for (size_t nl; (nl = partial_.find('\n', start)) != std::string::npos; start = nl + 1) {
      std::string_view l(partial_.data() + start, nl - start);
      if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
      line_(l);
    }
    partial_.erase(0, start);
    if (paused_()) {
      stop_watching();
    } else if (!watching_) {
      loop_.post([this] { read_once(); });
    }
  }

  net::EventLoop& loop_;
  std::function<void(std::string_view)> line_;
  std::function<bool()> paused_;
  std::string partial_;
  bool watching_ = false;
  bool eof_ = false;
};

// The history lines of a send (docs/history-format.md): the record's value is its identity, so
// the lines sent must be unique for `gregor check` to follow them.
uint64_t record_send(HistoryFile& history, const ProduceArgs& args,
                     const client::ProducerConfig& config, const client::ProducerRecord& r) {
  if (!history.enabled()) return 0;
  uint64_t op = history.next_op();
  TraceFields f;
  f.add("op", op).add("f", "send").add("topic", args.topic);
  if (r.key) {
    f.add("key", std::string_view(reinterpret_cast<const char*>(r.key->data()), r.key->size()));
  } else {
    f.add_raw("key", "null");
  }
  f.add("value", std::string_view(reinterpret_cast<const char*>(r.value->data()), r.value->size()));
  f.add("ordered", config.enable_idempotence || config.max_in_flight_requests_per_connection == 1);
  f.add("idempotent", config.enable_idempotence);
  history.write("op.invoke", f);
  return op;
}

void record_report(HistoryFile& history, uint64_t op, const DeliveryReport& d) {
  if (!history.enabled()) return;
  TraceFields f;
  f.add("op", op).add("f", "send");
  if (d.result.ok() && d.result->offset >= 0) {
    history.write("op.ok", f.add("partition", d.result->partition).add("offset", d.result->offset));
  } else if (d.result.ok()) {
    history.write("op.unknown", f.add("error", "acks=0: no answer"));
  } else {
    history.write(d.indefinite ? "op.unknown" : "op.fail",
                  f.add("error", d.result.status().to_string()));
  }
}

int produce(const ProduceArgs& args) {
  auto config = producer_config(args);
  if (!config.ok()) throw CLI::ValidationError(config.status().message());
  auto rt = Runtime::create("gregor-produce");
  if (!rt.ok()) return fail("produce", rt.status().message());
  client::Producer producer((*rt)->env(), *config);
  auto history = HistoryFile::open(args.history_path, fmt::format("produce-{}", getpid()));
  if (!history.ok()) return fail("produce", history.status().message());
  uint64_t lines = 0, delivered = 0, failed = 0;
  auto on_line = [&](std::string_view line) {
    client::ProducerRecord r;
    r.topic = args.topic;
    r.partition = args.partition;
    size_t at = args.key_separator ? line.find(*args.key_separator) : std::string_view::npos;
    if (at != std::string_view::npos) {
      r.key = record_bytes(line.substr(0, at));
      r.value = record_bytes(line.substr(at + args.key_separator->size()));
    } else {
      r.value = record_bytes(line);
    }
    uint64_t n = ++lines;
    uint64_t op = record_send(*history, args, *config, r);
    producer.send(std::move(r), [&, n, op](const DeliveryReport& d) {
      record_report(*history, op, d);
      if (d.result.ok()) {
        ++delivered;
        return;
      }
      ++failed;
      std::cerr << fmt::format("gregor produce: line {} not delivered{}: {}\n", n,
                               d.indefinite ? " (it may still have been written)" : "",
                               d.result.status().message());
    });
  };
  auto paused = [&] { return producer.buffered_records() >= kProduceBufferedLinesMax; };
  StdinLines input((*rt)->loop(), on_line, paused);
  input.start();
  while (!input.eof() && !(*rt)->interrupted()) {
    (*rt)->loop().run_once(milliseconds(100));
    input.resume();  // after a pause for back-pressure
  }
  bool closed = false;
  producer.close([&] { closed = true; });
  if (!(*rt)->run_until([&] { return closed; })) {
    return fail("produce", fmt::format("interrupted with {} of {} lines unacknowledged",
                                       lines - delivered - failed, lines));
  }
  if (failed > 0) return fail("produce", fmt::format("{} of {} lines failed", failed, lines));
  return 0;
}

void add_produce(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ProduceArgs>();
  CLI::App* cmd = app.add_subcommand(
      "produce", "Send each line of stdin as a record to a topic (Gregor's own Kafka producer)");
  cmd->add_option("--bootstrap-server", args->bootstrap, "A broker, HOST:PORT")->required();
  cmd->add_option("--topic", args->topic, "The topic to write to")->required();
  cmd->add_option("--key-separator", args->key_separator,
                  "Split each line at the first SEP into key and value (default: no key)");
  cmd->add_option("--acks", args->acks, "all (-1), 1 or 0")
      ->check(CLI::IsMember({"all", "-1", "1", "0"}))
      ->default_str("all");
  cmd->add_flag("--idempotence", args->idempotence,
                "Idempotent producer: each record written exactly once (needs --acks all)");
  cmd->add_option("--compression", args->compression, "none, gzip, snappy, lz4 or zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}))
      ->default_str("none");
  cmd->add_option("--linger-ms", args->linger_ms, "How long a batch waits for more records")
      ->check(CLI::Range(int64_t{0}, int64_t{3600000}))
      ->default_str("5");
  cmd->add_option("--partition", args->partition, "Write every record to this partition")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--delivery-timeout-ms", args->delivery_timeout_ms,
                  "Give up on a record after this long")
      ->check(CLI::Range(int64_t{1}, int64_t{86400000}))
      ->default_str("120000");
  cmd->add_option("--history", args->history_path,
                  "Append every send to this history file (docs/history-format.md) for "
                  "`gregor check`; stdin lines must then be unique");
  cmd->callback([args, exit_code] { *exit_code = produce(*args); });
}

// --- consume -----------------------------------------------------------------------------------

struct ConsumeArgs {
  std::string bootstrap;
  std::string topic;
  std::optional<int32_t> partition;
  std::string group;  // non-empty: subscribe as a member of this consumer group
  bool from_beginning = false;
  std::optional<int64_t> offset;
  std::optional<uint64_t> max_messages;
  std::optional<int64_t> timeout_ms;
  bool print_key = false;
  bool print_offset = false;
  std::string history_path;
};

// The partitions to read: the one asked for, or every partition of the topic.
Result<std::vector<client::TopicPartition>> consume_partitions(Runtime& rt,
                                                               client::Consumer& consumer,
                                                               const ConsumeArgs& args) {
  std::optional<Result<client::ClusterMetadata>> meta;
  consumer.metadata().fetch(std::vector<std::string>{args.topic},
                            [&](Result<client::ClusterMetadata> r) { meta = std::move(r); });
  if (!rt.run_until([&] { return meta.has_value(); }, seconds(60))) {
    return error(Errc::timed_out, "no metadata from the broker within 60s");
  }
  if (!meta->ok()) return meta->status();
  const client::TopicMetadata& t = (*meta)->topics.at(0);
  if (t.error != kafka::ErrorCode::none) {
    return client::kafka_status(t.error, "topic " + args.topic);
  }
  std::vector<client::TopicPartition> out;
  for (auto& p : t.partitions) {
    if (!args.partition || *args.partition == p.partition) out.push_back({args.topic, p.partition});
  }
  if (out.empty()) {
    return errorf(Errc::not_found, "topic {} has no partition {}", args.topic, *args.partition);
  }
  return out;
}

void print_record(const client::ConsumerRecord& r, const ConsumeArgs& args) {
  std::string line;
  if (args.print_offset) line += fmt::format("{}:{}\t", r.partition, r.offset);
  if (args.print_key) {
    line += r.key ? std::string(r.key->begin(), r.key->end()) : std::string("null");
    line += '\t';
  }
  if (r.value) line.append(r.value->begin(), r.value->end());
  line += '\n';
  std::cout << line;
}

// Where reading starts, per partition: an offset, or -1 for "wherever the reset policy puts it".
void record_positions(HistoryFile& history,
                      const std::vector<std::pair<client::TopicPartition, int64_t>>& starts) {
  if (!history.enabled()) return;
  std::string positions = "[";
  for (auto& [tp, offset] : starts) {
    if (positions.size() > 1) positions += ',';
    positions += '[';
    append_json_string(positions, tp.topic);
    positions += fmt::format(",{},{}]", tp.partition, offset);
  }
  positions += ']';
  uint64_t op = history.next_op();
  history.write("op.invoke", TraceFields().add("op", op).add("f", "seek"));
  history.write("op.ok",
                TraceFields().add("op", op).add("f", "seek").add_raw("positions", positions));
}

void record_seek(HistoryFile& history, const std::vector<client::TopicPartition>& partitions,
                 int64_t offset) {
  std::vector<std::pair<client::TopicPartition, int64_t>> starts;
  for (auto& tp : partitions) starts.emplace_back(tp, offset);
  record_positions(history, starts);
}

// A poll that returned records (empty polls are waiting, not reads, and leave no line).
void record_poll(HistoryFile& history, const std::vector<client::ConsumerRecord>& records) {
  if (!history.enabled() || records.empty()) return;
  std::string out = "[";
  for (auto& r : records) {
    if (out.size() > 1) out += ',';
    out += '[';
    append_json_string(out, r.topic);
    out += fmt::format(",{},{},", r.partition, r.offset);
    if (r.value) {
      append_json_string(
          out, std::string_view(reinterpret_cast<const char*>(r.value->data()), r.value->size()));
    } else {
      out += "\"<null>\"";
    }
    out += ']';
  }
  out += ']';
  uint64_t op = history.next_op();
  history.write("op.invoke", TraceFields().add("op", op).add("f", "poll"));
  history.write("op.ok", TraceFields().add("op", op).add("f", "poll").add_raw("records", out));
}

// The print loop of `consume`: polls and prints until --max-messages, --timeout-ms without a
// record, a signal, or a failed poll (reported; the result is then 1). `poll(wait, done)` is the
// consumer's; `on_printed` sees every record printed. `count` is the number printed.
using PollFn = std::function<void(Duration, client::Consumer::PollFn)>;
int print_records(Runtime& rt, const ConsumeArgs& args, HistoryFile& history, uint64_t& count,
                  const PollFn& poll,
                  const std::function<void(const client::ConsumerRecord&)>& on_printed = {}) {
  MonoTime last_record = rt.env().clock.now();
  while (!rt.interrupted() && (!args.max_messages || count < *args.max_messages)) {
    Duration wait = seconds(1);
    if (args.timeout_ms) {
      Duration left = last_record + milliseconds(*args.timeout_ms) - rt.env().clock.now();
      if (left <= Duration::zero()) break;
      wait = std::min(wait, left);
    }
    std::optional<Result<std::vector<client::ConsumerRecord>>> got;
    poll(wait, [&](auto r) { got = std::move(r); });
    if (!rt.run_until([&] { return got.has_value(); })) break;
    if (!got->ok()) return fail("consume", got->status().message());
    record_poll(history, **got);
    for (auto& r : **got) {
      if (args.max_messages && count >= *args.max_messages) break;
      print_record(r, args);
      if (on_printed) on_printed(r);
      ++count;
      last_record = rt.env().clock.now();
    }
  }
  return 0;
}

// `consume --group`: a member of the group, reading what the group assigns it. Positions are
// committed every auto.commit.interval.ms and on exit (LeaveGroup then hands the partitions to
// the other members at once); on exit only what was printed counts as consumed.
int consume_group(const ConsumeArgs& args) {
  client::GroupConsumerConfig config;
  config.bootstrap_servers = {args.bootstrap};
  config.group_id = args.group;
  // As kafka-console-consumer: --from-beginning only matters where the group committed nothing.
  config.auto_offset_reset =
      args.from_beginning ? client::OffsetReset::earliest : client::OffsetReset::latest;
  if (Status s = client::validate(config); !s.ok()) throw CLI::ValidationError(s.message());
  auto rt = Runtime::create("gregor-consume");
  if (!rt.ok()) return fail("consume", rt.status().message());
  auto history = HistoryFile::open(args.history_path, fmt::format("consume-{}", getpid()));
  if (!history.ok()) return fail("consume", history.status().message());
  client::GroupConsumer consumer((*rt)->env(), config);
  client::RebalanceListener listener;
  // A rebalance moves positions: to the group's committed offsets, or to the reset policy (-1).
  listener.on_partitions_assigned = [&](const std::vector<client::TopicPartition>& tps) {
    std::vector<std::pair<client::TopicPartition, int64_t>> starts;
    for (auto& tp : tps) starts.emplace_back(tp, consumer.position(tp).value_or(-1));
    record_positions(*history, starts);
  };
  if (Status s = consumer.subscribe({args.topic}, listener); !s.ok())
    return fail("consume", s.message());
  std::map<client::TopicPartition, int64_t> printed;  // next offset after the last one printed
  uint64_t count = 0;
  int status = print_records(
      **rt, args, *history, count,
      [&](Duration wait, auto done) { consumer.poll(wait, std::move(done)); },
      [&](const client::ConsumerRecord& r) {
        printed[{r.topic, r.partition}] = r.offset + 1;
      });
  std::cout.flush();
  // Records polled but not printed (past --max-messages) are not consumed: move back so that
  // close()'s commit stores what was printed.
  for (const client::TopicPartition& tp : consumer.assignment()) {
    auto it = printed.find(tp);
    auto pos = consumer.position(tp);
    if (it != printed.end() && pos && *pos > it->second) consumer.seek(tp, it->second).ignore();
  }
  std::optional<Status> closed;
  consumer.close([&](const Status& s) { closed = s; });
  // Not Runtime::run_until: a SIGINT must not cut the commit and LeaveGroup short.
  (*rt)->loop().run_until([&] { return closed.has_value(); },
                          config.request_timeout_ms + seconds(5));
  if (!closed || !closed->ok())
    std::cerr << fmt::format("gregor consume: leaving group {}: {}\n", args.group,
                             closed ? closed->message() : "no answer");
  std::cerr << fmt::format("Processed a total of {} messages\n", count);
  return status;
}

int consume(const ConsumeArgs& args) {
  if (!args.group.empty()) {
    if (args.partition)
      throw CLI::ValidationError(
          "--partition cannot be used with --group: the group assigns the partitions");
    if (args.offset)
      throw CLI::ValidationError(
          "--offset cannot be used with --group: reading starts at the group's committed "
          "offsets");
    return consume_group(args);
  }
  if (args.offset && !args.partition) throw CLI::ValidationError("--offset needs --partition");
  client::ConsumerConfig config;
  config.bootstrap_servers = {args.bootstrap};
  config.auto_offset_reset =
      args.from_beginning ? client::OffsetReset::earliest : client::OffsetReset::latest;
  if (Status s = client::validate(config); !s.ok()) throw CLI::ValidationError(s.message());
  auto rt = Runtime::create("gregor-consume");
  if (!rt.ok()) return fail("consume", rt.status().message());
  client::Consumer consumer((*rt)->env(), config);
  auto partitions = consume_partitions(**rt, consumer, args);
  if (!partitions.ok()) return fail("consume", partitions.status().message());
  consumer.assign(*partitions);
  if (args.offset) {
    Status s = consumer.seek(partitions->front(), *args.offset);
    if (!s.ok()) return fail("consume", s.message());
  } else if (args.from_beginning) {
    consumer.seek_to_beginning();
  }
  auto history = HistoryFile::open(args.history_path, fmt::format("consume-{}", getpid()));
  if (!history.ok()) return fail("consume", history.status().message());
  record_seek(*history, *partitions, args.offset.value_or(-1));
  uint64_t count = 0;
  int status = print_records(**rt, args, *history, count, [&](Duration wait, auto done) {
    consumer.poll(wait, std::move(done));
  });
  std::cout.flush();
  std::cerr << fmt::format("Processed a total of {} messages\n", count);
  return status;
}

void add_consume(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<ConsumeArgs>();
  CLI::App* cmd = app.add_subcommand(
      "consume", "Print the records of a topic, one per line (Gregor's own Kafka consumer)");
  cmd->add_option("--bootstrap-server", args->bootstrap, "A broker, HOST:PORT")->required();
  cmd->add_option("--topic", args->topic, "The topic to read")->required();
  cmd->add_option("--partition", args->partition, "Read only this partition")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--group", args->group,
                  "Join this consumer group and read the partitions it assigns; commits the "
                  "positions periodically and on exit (not with --partition)");
  auto* begin = cmd->add_flag("--from-beginning", args->from_beginning,
                              "Start at the log start (default: only new records)");
  cmd->add_option("--offset", args->offset, "Start at this offset (needs --partition)")
      ->check(CLI::NonNegativeNumber)
      ->excludes(begin);
  cmd->add_option("--max-messages", args->max_messages, "Exit after this many records");
  cmd->add_option("--timeout-ms", args->timeout_ms, "Exit when no record came for this long")
      ->check(CLI::NonNegativeNumber);
  cmd->add_flag("--print-key", args->print_key, "Print the key (\"null\" if none), then a tab");
  cmd->add_flag("--print-offset", args->print_offset, "Print partition:offset, then a tab");
  cmd->add_option("--history", args->history_path,
                  "Append every read to this history file (docs/history-format.md) for "
                  "`gregor check`");
  cmd->callback([args, exit_code] { *exit_code = consume(*args); });
}

// --- topics ------------------------------------------------------------------------------------

struct TopicsArgs {
  std::string bootstrap;
  std::vector<std::string> topics;
  int32_t partitions = -1;
  int16_t replication_factor = -1;
  std::vector<std::string> configs;  // k=v
};

template <typename T>
Result<T> await(Runtime& rt, std::function<void(std::function<void(Result<T>)>)> start) {
  return rt.await<T>(start);
}

int report_results(std::string_view verb, const Result<std::vector<client::TopicResult>>& r) {
  if (!r.ok()) return fail("topics", r.status().message());
  int status = 0;
  for (auto& t : *r) {
    if (t.ok()) {
      std::cout << fmt::format("{} topic {}.\n", verb, t.name);
    } else {
      status = fail("topics",
                    fmt::format("topic {}: {}: {}", t.name, kafka::error_name(t.error), t.message));
    }
  }
  return status;
}

int topics_create(Runtime& rt, client::Admin& admin, const TopicsArgs& a) {
  if (a.topics.empty()) throw CLI::ValidationError("create needs --topic");
  std::map<std::string, std::string> configs;
  for (auto& kv : a.configs) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw CLI::ValidationError(fmt::format("--config {}: expected key=value", kv));
    }
    configs[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  std::vector<client::NewTopic> topics;
  for (auto& name : a.topics) topics.push_back({name, a.partitions, a.replication_factor, configs});
  return report_results("Created", await<std::vector<client::TopicResult>>(rt, [&](auto done) {
                          admin.create_topics(topics, false, done);
                        }));
}

int topics_delete(Runtime& rt, client::Admin& admin, const TopicsArgs& a) {
  if (a.topics.empty()) throw CLI::ValidationError("delete needs --topic");
  return report_results("Deleted", await<std::vector<client::TopicResult>>(rt, [&](auto done) {
                          admin.delete_topics(a.topics, done);
                        }));
}

int topics_list(Runtime& rt, client::Admin& admin) {
  auto meta = await<client::ClusterMetadata>(rt, [&](auto done) { admin.list_topics(done); });
  if (!meta.ok()) return fail("topics", meta.status().message());
  std::vector<std::string> names;
  for (auto& t : meta->topics) names.push_back(t.name);
  std::sort(names.begin(), names.end());
  for (auto& n : names) std::cout << n << "\n";
  return 0;
}

std::string join(const std::vector<int32_t>& ids) {
  return fmt::format("{}", fmt::join(ids, ","));
}

int topics_describe(Runtime& rt, client::Admin& admin, const TopicsArgs& a) {
  auto meta = await<client::ClusterMetadata>(rt, [&](auto done) {
    if (a.topics.empty()) return admin.list_topics(done);
    admin.describe_topics(a.topics, done);
  });
  if (!meta.ok()) return fail("topics", meta.status().message());
  int status = 0;
  std::vector<client::ConfigResource> resources;
  for (auto& t : meta->topics) {
    if (t.error == kafka::ErrorCode::none)
      resources.push_back({client::ConfigResourceType::topic, t.name});
  }
  std::map<std::string, std::string> overrides;  // topic -> "k=v,k=v"
  if (!resources.empty()) {
    auto configs = await<std::vector<client::ConfigResult>>(
        rt, [&](auto done) { admin.describe_configs(resources, {}, done); });
    if (!configs.ok()) return fail("topics", configs.status().message());
    for (auto& c : *configs) {
      std::vector<std::string> set;
      for (auto& e : c.entries) {
        if (!e.is_default) set.push_back(e.name + "=" + e.value.value_or("null"));
      }
      overrides[c.resource.name] = fmt::format("{}", fmt::join(set, ","));
    }
  }
  for (auto& t : meta->topics) {
    if (t.error != kafka::ErrorCode::none) {
      status = fail("topics", fmt::format("topic {}: {}", t.name, kafka::error_name(t.error)));
      continue;
    }
    size_t rf = t.partitions.empty() ? 0 : t.partitions[0].replicas.size();
    std::cout << fmt::format("Topic: {}\tPartitionCount: {}\tReplicationFactor: {}\tConfigs: {}\n",
                             t.name, t.partitions.size(), rf, overrides[t.name]);
    for (auto& p : t.partitions) {
      std::cout << fmt::format("\tTopic: {}\tPartition: {}\tLeader: {}\tReplicas: {}\tIsr: {}\n",
                               t.name, p.partition, p.leader, join(p.replicas), join(p.isr));
    }
  }
  return status;
}

int topics(const std::string& action, const TopicsArgs& args) {
  client::AdminConfig config;
  config.bootstrap_servers = {args.bootstrap};
  if (Status s = client::validate(config); !s.ok()) throw CLI::ValidationError(s.message());
  auto rt = Runtime::create("gregor-topics");
  if (!rt.ok()) return fail("topics", rt.status().message());
  client::Admin admin((*rt)->env(), config);
  if (action == "create") return topics_create(**rt, admin, args);
  if (action == "delete") return topics_delete(**rt, admin, args);
  if (action == "list") return topics_list(**rt, admin);
  return topics_describe(**rt, admin, args);
}

void add_topics(CLI::App& app, int* exit_code) {
  auto args = std::make_shared<TopicsArgs>();
  CLI::App* cmd = app.add_subcommand("topics", "Create, list, describe and delete topics");
  cmd->add_option("--bootstrap-server", args->bootstrap, "A broker, HOST:PORT")->required();
  cmd->require_subcommand(1);
  auto topic_option = [&](CLI::App* sub, bool required) {
    auto* o = sub->add_option("--topic", args->topics, "A topic name (repeatable)");
    if (required) o->required();
  };
  CLI::App* create = cmd->add_subcommand("create", "Create topics");
  topic_option(create, true);
  create->add_option("--partitions", args->partitions, "Partitions (default: num.partitions)")
      ->check(CLI::Range(1, 1000000));
  create
      ->add_option("--replication-factor", args->replication_factor,
                   "Replicas per partition (default: default.replication.factor)")
      ->check(CLI::Range(1, 32767));
  create->add_option("--config", args->configs, "A topic config override, key=value (repeatable)");
  CLI::App* list = cmd->add_subcommand("list", "List topic names");
  CLI::App* describe =
      cmd->add_subcommand("describe", "Partitions, leaders, replicas, ISR and config overrides");
  topic_option(describe, false);
  CLI::App* del = cmd->add_subcommand("delete", "Delete topics");
  topic_option(del, true);
  for (CLI::App* sub : {create, list, describe, del}) {
    sub->fallthrough();  // --bootstrap-server may also follow the action
    sub->callback([args, exit_code, name = sub->get_name()] { *exit_code = topics(name, *args); });
  }
}

}  // namespace

void add_client_commands(CLI::App& app, int* exit_code) {
  add_produce(app, exit_code);
  add_consume(app, exit_code);
  add_topics(app, exit_code);
}

}  // namespace gregor::cli
