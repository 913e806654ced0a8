// GroupConsumerProcess: a scenario's group consumer (see workload.h).
#include <fmt/format.h>

#include "base/guarded.h"
#include "sim/scenario/workload.h"

namespace gregor::scenario {

namespace {

// Named limit: after a failed poll (a fatal group error, a corrupt batch) the next waits this
// long, so a failure that repeats at once does not spin.
constexpr Duration kPollRetryBackoff = milliseconds(100);

// A commit that failed with a Kafka error was refused (definitely not stored); one that failed
// on the way (timeout, lost connection, crash) may have been stored.
bool definitely_not_done(const Status& s) {
  switch (s.code()) {
    case Errc::invalid_argument:
    case Errc::not_found:
    case Errc::out_of_range:
    case Errc::limit_exceeded:
    case Errc::already_exists:
      return true;
    default:
      return false;
  }
}

}  // namespace

GroupConsumerProcess::GroupConsumerProcess(Env& env, const ConsumerSpec& spec,
                                           std::vector<std::string> bootstrap, ClientState& state)
    : env_(env), spec_(spec), state_(state) {
  client::GroupConsumerConfig config;
  static_cast<client::CommonConfig&>(config) = workload::common(std::move(bootstrap), state.name);
  config.group_id = spec.group;
  config.auto_offset_reset =
      spec.from_beginning ? client::OffsetReset::earliest : client::OffsetReset::latest;
  config.isolation_level = spec.isolation == Isolation::read_committed
                               ? client::IsolationLevel::read_committed
                               : client::IsolationLevel::read_uncommitted;
  config.fetch_max_wait_ms = kConsumerFetchWait;
  config.session_timeout_ms = kGroupSessionTimeout;
  config.heartbeat_interval_ms = kGroupSessionTimeout / 3;
  config.enable_auto_commit = spec.commit == CommitPolicy::automatic;
  config.auto_commit_interval_ms = spec.auto_commit_interval;
  consumer_ = std::make_unique<client::GroupConsumer>(env, config);
  env_.clock.schedule(spec.start, guarded(alive_, [this] {
                        client::RebalanceListener listener;
                        listener.on_partitions_assigned = guarded(
                            alive_, [this](const std::vector<client::TopicPartition>& parts) {
                              on_assigned(parts);
                            });
                        Status s = consumer_->subscribe(spec_.topics, std::move(listener));
                        GREGOR_ASSERT(s.ok(), "subscribe: {}", s.to_string());
                        poll();
                      }));
}

GroupConsumerProcess::~GroupConsumerProcess() {
  *alive_ = false;
}

// A new assignment moves the member's positions to the group's committed offsets: a seek in the
// history (with the group, so the checker knows whose commits it resumes from).
void GroupConsumerProcess::on_assigned(const std::vector<client::TopicPartition>& partitions) {
  std::string positions = "[";
  for (const auto& tp : partitions) {
    workload::append_position(positions, tp, consumer_->position(tp).value_or(-1));
  }
  positions += ']';
  uint64_t op = state_.next_op++;
  env_.tracer.event("op.invoke",
                    TraceFields().add("op", op).add("f", "seek").add("group", spec_.group));
  env_.tracer.event("op.ok", TraceFields()
                                 .add("op", op)
                                 .add("f", "seek")
                                 .add("group", spec_.group)
                                 .add_raw("positions", positions));
}

void GroupConsumerProcess::poll() {
  consumer_->poll(spec_.poll_timeout, guarded(alive_, [this](auto result) {
                    if (result.ok() && result->empty()) return poll();
                    uint64_t op = state_.next_op++;
                    env_.tracer.event("op.invoke", TraceFields().add("op", op).add("f", "poll"));
                    TraceFields f;
                    f.add("op", op).add("f", "poll");
                    if (!result.ok()) {
                      env_.tracer.event("op.fail", f.add("error", result.status().to_string()));
                      env_.clock.schedule(kPollRetryBackoff, guarded(alive_, [this] { poll(); }));
                      return;
                    }
                    std::string records = "[";
                    for (auto& r : *result) workload::append_record(records, r);
                    records += ']';
                    state_.polled += result->size();
                    env_.tracer.event("op.ok", f.add_raw("records", records));
                    if (spec_.commit == CommitPolicy::after_poll) return commit_then_poll();
                    poll();
                  }));
}

void GroupConsumerProcess::commit_then_poll() {
  std::map<client::TopicPartition, int64_t> offsets;
  for (const auto& tp : consumer_->assignment()) {
    if (auto pos = consumer_->position(tp)) offsets[tp] = *pos;
  }
  if (offsets.empty()) return poll();
  uint64_t op = state_.next_op++;
  env_.tracer.event("op.invoke",
                    TraceFields().add("op", op).add("f", "commit").add("group", spec_.group));
  consumer_->commit(offsets, guarded(alive_, [this, op, offsets](const Status& s) {
                      TraceFields f;
                      f.add("op", op).add("f", "commit");
                      if (s.ok()) {
                        std::string list = "[";
                        for (const auto& [tp, offset] : offsets) {
                          workload::append_position(list, tp, offset);
                        }
                        list += ']';
                        env_.tracer.event("op.ok",
                                          f.add("group", spec_.group).add_raw("offsets", list));
                      } else {
                        env_.tracer.event(definitely_not_done(s) ? "op.fail" : "op.unknown",
                                          f.add("error", s.to_string()));
                      }
                      poll();
                    }));
}

}  // namespace gregor::scenario
