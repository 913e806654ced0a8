#include "sim/scenario/replica_logs.h"

#include <fmt/format.h>

#include <map>
#include <set>
#include <string>
#include <utility>

#include "node/log/record_batch.h"
#include "sim/scenario/server_process.h"

namespace gregor::scenario {
namespace {

constexpr size_t kReadBytes = 1 << 20;
constexpr Duration kReadDeadline = seconds(10);  // one read of a healthy simulated disk

// Appends "[base,last,crc]" for each batch of the log, reading it whole. False if a read failed
// or did not complete.
bool summarise(sim::World& world, log::Log& log, std::string& batches) {
  int64_t offset = log.log_start_offset();
  while (offset < log.log_end_offset()) {
    std::optional<Result<log::ReadResult>> r;
    log.read(offset, kReadBytes, [&](Result<log::ReadResult> res) { r = std::move(res); });
    world.run_until([&] { return r.has_value(); }, world.now() + kReadDeadline);
    if (!r || !r->ok()) return false;
    log::BatchIterator it((*r)->batches);
    int64_t before = offset;
    while (auto batch = it.next()) {
      auto h = log::parse_batch_header(*batch);
      if (!h.ok()) return false;
      if (h->last_offset() < offset) continue;
      if (batches.size() > 1) batches += ',';
      batches += fmt::format("[{},{},{}]", h->base_offset, h->last_offset(), h->crc);
      offset = h->last_offset() + 1;
    }
    if (offset == before) return false;  // no progress: a gap the log cannot explain
  }
  return true;
}

}  // namespace

bool replicas_in_sync(sim::Cluster& cluster, const std::vector<sim::NodeId>& brokers) {
  std::vector<broker::Broker*> running;
  for (sim::NodeId id : brokers) {
    auto* process = cluster.service_as<ServerProcess>(id);
    if (process && process->server.broker()) running.push_back(process->server.broker());
  }
  // Every replica any running broker's image assigns to a running broker must be hosted there:
  // a broker just restarted opens its partitions only once its metadata caught up, and until
  // then it would simply be skipped (standard.toml --duration 5s seed 435 compared the replicas
  // before it had).
  std::set<std::pair<int32_t, std::pair<std::string, int32_t>>> assigned;
  for (broker::Broker* b : running) {
    for (const auto& [name, topic] : b->metadata().topics) {
      for (const auto& p : topic.partitions) {
        for (int32_t r : p.replicas) assigned.insert({r, {name, p.partition}});
      }
    }
  }
  std::map<std::pair<std::string, int32_t>, std::pair<int64_t, int64_t>> seen;  // leo, hw
  for (broker::Broker* b : running) {
    for (const auto& [r, key] : assigned) {
      if (r == b->config().node_id && !b->replicas().partition(key.first, key.second)) return false;
    }
    for (auto& [key, partition] : b->replicas().partitions()) {
      std::pair<int64_t, int64_t> mine{partition->log().log_end_offset(),
                                       partition->high_watermark()};
      // The high watermark must have reached the log end too: a leader whose ISR is still
      // below min.insync.replicas holds it (KIP-966) until a follower rejoins, and a final read
      // before then would end short of acknowledged records every replica holds.
      if (mine.second != mine.first) return false;
      auto [it, first] = seen.emplace(key, mine);
      if (!first && it->second != mine) return false;
    }
  }
  return true;
}

void trace_replica_logs(sim::Cluster& cluster, const std::vector<sim::NodeId>& brokers) {
  sim::World& world = cluster.world();
  for (sim::NodeId id : brokers) {
    auto* process = cluster.service_as<ServerProcess>(id);
    if (!process || !process->server.broker()) continue;
    broker::Broker* b = process->server.broker();
    for (auto& [key, partition] : b->replicas().partitions()) {
      // Compaction runs on each replica on its own schedule (as in Kafka): compacted replicas
      // hold the same latest record per key but not the same batches, so a batch-by-batch
      // comparison would report every compaction pass as divergence. Not traced (a logical
      // comparison of compacted logs is future work).
      if (partition->config().log.cleanup_compact) continue;
      log::Log& log = partition->log();
      std::string batches = "[";
      bool complete = summarise(world, log, batches);
      batches += ']';
      world.trace(id, "replica.log",
                  TraceFields()
                      .add("topic", key.first)
                      .add("partition", key.second)
                      .add("leo", log.log_end_offset())
                      .add("hw", log.high_watermark())
                      .add("log_start", log.log_start_offset())
                      .add("complete", complete)
                      .add_raw("batches", batches));
    }
  }
}

}  // namespace gregor::scenario
