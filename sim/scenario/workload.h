// The client processes of a scenario run. Each is a sim::Service (so faults can crash, pause and
// cut it off like a broker) that drives Gregor's own client and records every operation as
// history lines (docs/history-format.md) through its Env's tracer:
//   ProducerProcess  sends unique values at the spec's rate; op send invoke/ok/fail/unknown
//   ConsumerProcess  assigns the topics' partitions and polls forever; op seek, op poll
//   FinalReader      after the run, reads each partition whole from its log start; op final_read
// What must outlive a crash of the process (op and value numbering, counters) lives in a
// ClientState owned by the runner, so a restarted incarnation never reuses a value.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "base/env.h"
#include "client/consumer.h"
#include "client/group_consumer.h"
#include "client/producer.h"
#include "sim/cluster.h"
#include "sim/scenario/scenario.h"

namespace gregor::scenario {

// Named limits of the workloads.
inline constexpr size_t kProducerBufferedRecordsMax = 20000;  // past it, sends are skipped
inline constexpr Duration kClientRequestTimeout = seconds(5);
inline constexpr Duration kConsumerFetchWait = milliseconds(500);  // Kafka's default
// Group consumers' session.timeout.ms (Kafka 2.x's default; the broker allows 6 s and up): short
// enough that a crashed member's partitions move within a scenario, long enough for faults.
inline constexpr Duration kGroupSessionTimeout = seconds(10);

struct ClientState {
  std::string name;      // the process name, "producer-1"
  uint64_t next_op = 1;  // unique within the process, across incarnations
  uint64_t next_seq = 1;
  bool load_on = true;  // producers: cleared when the load phase ends
  // Counters for the summary.
  uint64_t sent = 0, acked = 0, failed = 0, unknown = 0, skipped = 0, polled = 0;
  uint64_t pending = 0;  // sends invoked and not yet reported (in this incarnation)
};

class ProducerProcess final : public sim::Service {
 public:
  ProducerProcess(Env& env, const ProducerSpec& spec, std::vector<std::string> bootstrap,
                  ClientState& state);
  ~ProducerProcess() override;
  // Sends everything buffered now (the load has ended).
  void flush();

 private:
  void schedule_next();
  void send_one();
  void report(uint64_t op, const client::DeliveryReport& d);

  Env& env_;
  ProducerSpec spec_;
  ClientState& state_;
  std::unique_ptr<client::Producer> producer_;
  TimerId timer_ = kNoTimer;
  uint64_t sent_here_ = 0;  // this incarnation, against spec.records
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

class ConsumerProcess final : public sim::Service {
 public:
  ConsumerProcess(Env& env, const ConsumerSpec& spec, std::vector<client::TopicPartition> parts,
                  std::vector<std::string> bootstrap, ClientState& state);
  ~ConsumerProcess() override;

 private:
  void poll();

  Env& env_;
  ConsumerSpec spec_;
  ClientState& state_;
  std::vector<client::TopicPartition> partitions_;
  std::unique_ptr<client::Consumer> consumer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// A consumer in a group (ConsumerSpec::mode == group): subscribes to the spec's topics with
// Gregor's GroupConsumer and polls forever. Each assignment is a `seek` op carrying the group and
// the positions the member resumes from (the committed offsets; -1 where the reset policy
// decides); commits per the spec's policy: after_poll commits the positions after every non-empty
// poll (an op `commit`, the next poll waits for it), automatic uses the client's auto-commit
// (invisible to the history), none never commits.
class GroupConsumerProcess final : public sim::Service {
 public:
  GroupConsumerProcess(Env& env, const ConsumerSpec& spec, std::vector<std::string> bootstrap,
                       ClientState& state);
  ~GroupConsumerProcess() override;

 private:
  void on_assigned(const std::vector<client::TopicPartition>& partitions);
  void poll();
  void commit_then_poll();

  Env& env_;
  ConsumerSpec spec_;
  ClientState& state_;
  std::unique_ptr<client::GroupConsumer> consumer_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Reads every partition from its log start to its end as of the read, one after the other, and
// calls done(true) when all are read (done(false) is never called: the runner's deadline decides
// when to give up).
class FinalReader final : public sim::Service {
 public:
  FinalReader(Env& env, std::vector<client::TopicPartition> parts,
              std::vector<std::string> bootstrap, ClientState& state);
  ~FinalReader() override;
  bool done() const { return next_ >= partitions_.size(); }

 private:
  void read_next();
  void read_range(int64_t from, int64_t to, std::string records);

  Env& env_;
  ClientState& state_;
  std::vector<client::TopicPartition> partitions_;
  std::vector<std::string> bootstrap_;
  std::unique_ptr<client::Consumer> consumer_;
  size_t next_ = 0;
  uint64_t op_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

// Shared by the workload files.
namespace workload {
// The history names a record by its identity, "NAME:SEQ", never by the padding after it.
std::string identity_of(const std::optional<Bytes>& value);
// Appends `[topic, partition, offset, identity]` to a JSON array being built in `out`.
void append_record(std::string& out, const client::ConsumerRecord& r);
// Appends `[topic, partition, offset]`.
void append_position(std::string& out, const client::TopicPartition& tp, int64_t offset);
client::CommonConfig common(std::vector<std::string> bootstrap, const std::string& name);
}  // namespace workload

// The value a producer sends as its seq-th record: "NAME:SEQ", padded with '.' to value_bytes.
std::string record_value(const std::string& producer, uint64_t seq, uint32_t value_bytes);

}  // namespace gregor::scenario
