// The checker benchmark (see checker_bench.h). Why it is shaped this way:
// - The history is generated first and only Checker::add_line and finish() are timed: reading a
//   file is the operating system's cost and the same for every checker.
// - Lines are built with the same key order as the simulator's trace writer, and the mix (sends,
//   polls of several records, seeks, commits, replica states, lines of other kinds) is what a
//   scenario run writes, so the figure predicts how long `gregor check` takes on a real trace.
// - The generator is a tiny deterministic model (fixed xorshift seed): the same history each run.
#include "bench/checker_bench.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <string>
#include <vector>

#include "sim/check/checker.h"

namespace gregor::bench {
namespace {

constexpr int kPartitions = 8;
constexpr int kProducers = 8;
constexpr int kConsumers = 4;
constexpr int kBrokers = 3;
constexpr size_t kInFlightMax = 4;
constexpr int kPollRecordsMax = 10;

struct Send {
  uint64_t op;
  int partition;
};

class HistoryGen {
 public:
  std::vector<std::string> lines;
  uint64_t ops = 0;

  void generate(uint64_t ops_wanted) {
    line("world", "run.start", R"("scenario":"bench","seed":1,"mode":"safety")");
    while (ops < ops_wanted) step();
    for (int p = 0; p < kProducers; ++p)
      while (!pending_[p].empty()) complete(p);
    for (int part = 0; part < kPartitions; ++part) final_read(part);
  }

 private:
  uint64_t rng_ = 0x9e3779b97f4a7c15ull;
  int64_t t_ = 0;
  std::vector<std::vector<std::string>> log_ = std::vector<std::vector<std::string>>(kPartitions);
  std::deque<Send> pending_[kProducers];
  uint64_t next_op_[kProducers + kConsumers + 1] = {};
  int64_t position_[kConsumers][kPartitions] = {};
  int64_t committed_[kPartitions] = {};
  int64_t epoch_[kPartitions] = {};

  uint64_t next() {
    rng_ ^= rng_ << 13;
    rng_ ^= rng_ >> 7;
    rng_ ^= rng_ << 17;
    return rng_;
  }
  int below(int n) { return static_cast<int>(next() % static_cast<uint64_t>(n)); }

  void line(const std::string& node, const char* kind, const std::string& fields) {
    t_ += 1000 + below(1000);
    lines.push_back(fmt::format(R"({{"t":{},"n":"{}","k":"{}",{}}})", t_, node, kind, fields));
  }
  void noise() {
    line("broker-1", "net.deliver", R"("from":"producer-1","to":"broker-1","bytes":512,"seq":7)");
    line("broker-2", "disk.write", R"("file":"t-0/00000000000000000000.log","bytes":4096)");
  }

  void step() {
    int dice = below(100);
    if (dice < 50) {
      int p = below(kProducers);
      if (pending_[p].size() >= kInFlightMax) complete(p);
      invoke_send(p);
    } else if (dice < 55) {
      complete(below(kProducers));
    } else if (dice < 93) {
      poll(below(kConsumers));
    } else if (dice < 96) {
      commit(below(kConsumers));
    } else if (dice < 97) {
      seek(below(kConsumers));
    } else {
      replica_states(below(kPartitions));
    }
    noise();
  }

  void invoke_send(int p) {
    uint64_t op = ++next_op_[p];
    ++ops;
    int part = below(kPartitions);
    line(fmt::format("producer-{}", p), "op.invoke",
         fmt::format(R"("op":{},"f":"send","topic":"t","key":"k{}","value":"producer-{}:{}",)"
                     R"("ordered":true)",
                     op, part, p, op));
    pending_[p].push_back({op, part});
  }

  void complete(int p) {
    if (pending_[p].empty()) return;
    Send s = pending_[p].front();
    pending_[p].pop_front();
    int64_t offset = static_cast<int64_t>(log_[s.partition].size());
    log_[s.partition].push_back(fmt::format("producer-{}:{}", p, s.op));
    line(
        fmt::format("producer-{}", p), "op.ok",
        fmt::format(R"("op":{},"f":"send","partition":{},"offset":{})", s.op, s.partition, offset));
  }

  // Consumer c owns the partitions p with p % kConsumers == c.
  void poll(int c) {
    uint64_t op = ++next_op_[kProducers + c];
    ++ops;
    std::string node = fmt::format("consumer-{}", c), records;
    line(node, "op.invoke", fmt::format(R"("op":{},"f":"poll")", op));
    for (int part = c; part < kPartitions; part += kConsumers) {
      int64_t& at = position_[c][part];
      int64_t end = static_cast<int64_t>(log_[part].size());
      for (int n = below(kPollRecordsMax + 1); n > 0 && at < end; --n, ++at)
        records += fmt::format(R"({}["t",{},{},"{}"])", records.empty() ? "" : ",", part, at,
                               log_[part][static_cast<size_t>(at)]);
    }
    line(node, "op.ok", fmt::format(R"("op":{},"f":"poll","records":[{}])", op, records));
  }

  void commit(int c) {
    uint64_t op = ++next_op_[kProducers + c];
    ++ops;
    std::string node = fmt::format("consumer-{}", c), offsets;
    for (int part = c; part < kPartitions; part += kConsumers) {
      // Never below an earlier commit (a rewound consumer keeps the group's progress).
      committed_[part] = std::max(committed_[part], position_[c][part]);
      offsets +=
          fmt::format(R"({}["t",{},{}])", offsets.empty() ? "" : ",", part, committed_[part]);
    }
    line(node, "op.invoke", fmt::format(R"("op":{},"f":"commit","group":"g")", op));
    line(node, "op.ok",
         fmt::format(R"("op":{},"f":"commit","group":"g","offsets":[{}])", op, offsets));
  }

  // Re-reads the last few records of one partition (a rewind, as after a rebalance).
  void seek(int c) {
    uint64_t op = ++next_op_[kProducers + c];
    ++ops;
    int part = c + kConsumers * below(kPartitions / kConsumers);
    int64_t& at = position_[c][part];
    at = std::max<int64_t>(0, at - below(5));
    std::string node = fmt::format("consumer-{}", c);
    line(node, "op.invoke", fmt::format(R"("op":{},"f":"seek")", op));
    line(node, "op.ok",
         fmt::format(R"("op":{},"f":"seek","positions":[["t",{},{}]])", op, part, at));
  }

  void replica_states(int part) {
    int64_t end = static_cast<int64_t>(log_[part].size());
    int leader = static_cast<int>(epoch_[part] % kBrokers);
    if (below(10) == 0) leader = static_cast<int>(++epoch_[part] % kBrokers);
    for (int b = 0; b < kBrokers; ++b)
      line(fmt::format("broker-{}", b), "replica.state",
           fmt::format(R"("topic":"t","partition":{},"role":"{}","epoch":{},"leo":{},"hw":{},)"
                       R"("log_start":0,"isr":[0,1,2])",
                       part, b == leader ? "leader" : "follower", epoch_[part], end, end));
  }

  void final_read(int part) {
    uint64_t op = ++next_op_[kProducers + kConsumers];
    ++ops;
    std::string records;
    for (size_t o = 0; o < log_[part].size(); ++o)
      records += fmt::format(R"({}["t",{},{},"{}"])", o ? "," : "", part, o, log_[part][o]);
    line("reader", "op.invoke",
         fmt::format(R"("op":{},"f":"final_read","topic":"t","partition":{})", op, part));
    line("reader", "op.ok",
         fmt::format(R"("op":{},"f":"final_read","from":0,"to":{},"records":[{}])", op,
                     log_[part].size(), records));
  }
};

}  // namespace

int run_checker_bench(uint64_t ops) {
  HistoryGen gen;
  gen.generate(ops);
  uint64_t bytes = 0;
  for (const std::string& l : gen.lines) bytes += l.size() + 1;

  auto start = std::chrono::steady_clock::now();
  check::Checker checker;
  for (const std::string& l : gen.lines) {
    Status s = checker.add_line(l);
    if (!s.ok()) {
      std::fprintf(stderr, "checker bench: %s\n", s.message().c_str());
      return 1;
    }
  }
  check::CheckResult r = checker.finish();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  double mib = static_cast<double>(bytes) / (1 << 20);
  std::printf(
      "checker bench: %llu ops, %zu lines (%.1f MiB), %llu records: %.2f s, %.0f ops/s, "
      "%.0f lines/s, %.1f MiB/s, verdict %s\n",
      static_cast<unsigned long long>(gen.ops), gen.lines.size(), mib,
      static_cast<unsigned long long>(r.stats.records_distinct), seconds,
      static_cast<double>(gen.ops) / seconds, static_cast<double>(gen.lines.size()) / seconds,
      mib / seconds, r.pass() ? "pass" : "FAIL");
  if (!r.pass()) std::fputs(check::to_text(r).c_str(), stderr);
  return r.pass() ? 0 : 1;
}

}  // namespace gregor::bench
