#include "sim/scenario/workload.h"

#include <fmt/format.h>

#include <cmath>

#include "base/assert.h"
#include "base/guarded.h"

namespace gregor::scenario {
namespace {

Bytes bytes_of(std::string_view s) {
  return Bytes(s.begin(), s.end());
}

}  // namespace

namespace workload {

std::string identity_of(const std::optional<Bytes>& value) {
  if (!value) return "<null>";
  std::string s(value->begin(), value->end());
  size_t pad = s.find('.');
  return pad == std::string::npos ? s : s.substr(0, pad);
}

void append_record(std::string& out, const client::ConsumerRecord& r) {
  if (out.size() > 1) out += ',';
  out += '[';
  append_json_string(out, r.topic);
  out += fmt::format(",{},{},", r.partition, r.offset);
  append_json_string(out, identity_of(r.value));
  out += ']';
}

void append_position(std::string& out, const client::TopicPartition& tp, int64_t offset) {
  if (out.size() > 1) out += ',';
  out += '[';
  append_json_string(out, tp.topic);
  out += fmt::format(",{},{}]", tp.partition, offset);
}

client::CommonConfig common(std::vector<std::string> bootstrap, const std::string& name) {
  client::CommonConfig c;
  c.bootstrap_servers = std::move(bootstrap);
  c.client_id = name;
  c.request_timeout_ms = kClientRequestTimeout;
  c.allow_auto_create_topics = false;
  return c;
}

}  // namespace workload

using workload::append_record;
using workload::common;
using workload::identity_of;

std::string record_value(const std::string& producer, uint64_t seq, uint32_t value_bytes) {
  std::string v = fmt::format("{}:{}", producer, seq);
  if (v.size() < value_bytes) v.resize(value_bytes, '.');
  return v;
}

// --- ProducerProcess ---------------------------------------------------------------------------

ProducerProcess::ProducerProcess(Env& env, const ProducerSpec& spec,
                                 std::vector<std::string> bootstrap, ClientState& state)
    : env_(env), spec_(spec), state_(state) {
  client::ProducerConfig config;
  static_cast<client::CommonConfig&>(config) = common(std::move(bootstrap), state.name);
  config.acks = static_cast<int16_t>(spec.acks);
  config.enable_idempotence = spec.idempotence;
  config.max_in_flight_requests_per_connection = static_cast<int32_t>(spec.max_in_flight);
  config.linger_ms = spec.linger;
  config.buffered_records_max = kProducerBufferedRecordsMax;
  Status valid = client::validate(config);
  GREGOR_ASSERT(valid.ok(), "producer {}: {}", state.name, valid.to_string());
  producer_ = std::make_unique<client::Producer>(env, config);
  state_.pending = 0;  // a crashed incarnation's sends stay open: unknown in the history
  timer_ = env_.clock.schedule(spec.start, guarded(alive_, [this] { send_one(); }));
}

ProducerProcess::~ProducerProcess() {
  *alive_ = false;
  env_.clock.cancel(timer_);
}

void ProducerProcess::flush() {
  env_.clock.cancel(timer_);
  timer_ = kNoTimer;
  producer_->flush([] {});
}

void ProducerProcess::schedule_next() {
  // Exponential gaps: a Poisson arrival process at `rate`, drawn from this process's stream.
  double gap_s = -std::log(1.0 - env_.random.unit()) / spec_.rate;
  Duration gap = std::max(Duration(1), Duration(static_cast<int64_t>(gap_s * 1e9)));
  timer_ = env_.clock.schedule(gap, guarded(alive_, [this] { send_one(); }));
}

void ProducerProcess::send_one() {
  timer_ = kNoTimer;
  if (!state_.load_on) return;
  if (spec_.records != 0 && sent_here_ >= spec_.records) return;
  schedule_next();
  if (producer_->buffered_records() >= kProducerBufferedRecordsMax) {
    ++state_.skipped;  // back-pressure: a real application would block here
    return;
  }
  uint64_t seq = state_.next_seq++;
  uint64_t op = state_.next_op++;
  std::string value = record_value(state_.name, seq, spec_.value_bytes);
  std::optional<Bytes> key;
  TraceFields invoke;
  invoke.add("op", op).add("f", "send").add("topic", spec_.topic);
  if (spec_.keys > 0) {
    std::string k = fmt::format("k{}", env_.random.uniform(0, spec_.keys - 1));
    invoke.add("key", k);
    key = bytes_of(k);
  } else {
    invoke.add_raw("key", "null");
  }
  invoke.add("value", identity_of(bytes_of(value)));
  invoke.add("ordered", spec_.idempotence || spec_.max_in_flight == 1);
  invoke.add("idempotent", spec_.idempotence);
  env_.tracer.event("op.invoke", invoke);
  ++state_.sent;
  ++state_.pending;
  ++sent_here_;
  client::ProducerRecord r;
  r.topic = spec_.topic;
  r.key = std::move(key);
  r.value = bytes_of(value);
  producer_->send(std::move(r), [this, op](const client::DeliveryReport& d) { report(op, d); });
}

void ProducerProcess::report(uint64_t op, const client::DeliveryReport& d) {
  --state_.pending;
  TraceFields f;
  f.add("op", op).add("f", "send");
  if (d.result.ok() && d.result->offset >= 0) {
    ++state_.acked;
    f.add("partition", d.result->partition).add("offset", d.result->offset);
    env_.tracer.event("op.ok", f);
  } else if (d.result.ok()) {
    ++state_.unknown;  // acks=0: nothing came back
    env_.tracer.event("op.unknown", f.add("error", "acks=0: no answer"));
  } else if (d.indefinite) {
    ++state_.unknown;
    env_.tracer.event("op.unknown", f.add("error", d.result.status().to_string()));
  } else {
    ++state_.failed;
    env_.tracer.event("op.fail", f.add("error", d.result.status().to_string()));
  }
}

// --- ConsumerProcess ---------------------------------------------------------------------------

ConsumerProcess::ConsumerProcess(Env& env, const ConsumerSpec& spec,
                                 std::vector<client::TopicPartition> parts,
                                 std::vector<std::string> bootstrap, ClientState& state)
    : env_(env), spec_(spec), state_(state), partitions_(std::move(parts)) {
  client::ConsumerConfig config;
  static_cast<client::CommonConfig&>(config) = common(std::move(bootstrap), state.name);
  config.auto_offset_reset =
      spec.from_beginning ? client::OffsetReset::earliest : client::OffsetReset::latest;
  config.isolation_level = spec.isolation == Isolation::read_committed
                               ? client::IsolationLevel::read_committed
                               : client::IsolationLevel::read_uncommitted;
  config.fetch_max_wait_ms = kConsumerFetchWait;
  consumer_ = std::make_unique<client::Consumer>(env, config);
  env_.clock.schedule(
      spec.start, guarded(alive_, [this] {
        consumer_->assign(partitions_);
        // Positions come from the reset policy: unknown (-1) to the history.
        std::string positions = "[";
        for (auto& tp : partitions_) workload::append_position(positions, tp, -1);
        positions += ']';
        uint64_t op = state_.next_op++;
        env_.tracer.event("op.invoke", TraceFields().add("op", op).add("f", "seek"));
        env_.tracer.event(
            "op.ok", TraceFields().add("op", op).add("f", "seek").add_raw("positions", positions));
        poll();
      }));
}

ConsumerProcess::~ConsumerProcess() {
  *alive_ = false;
}

void ConsumerProcess::poll() {
  consumer_->poll(spec_.poll_timeout, guarded(alive_, [this](auto result) {
                    // Empty polls leave no trace: the history records reads, not waiting.
                    if (result.ok() && result->empty()) return poll();
                    uint64_t op = state_.next_op++;
                    env_.tracer.event("op.invoke", TraceFields().add("op", op).add("f", "poll"));
                    TraceFields f;
                    f.add("op", op).add("f", "poll");
                    if (!result.ok()) {
                      env_.tracer.event("op.fail", f.add("error", result.status().to_string()));
                    } else {
                      std::string records = "[";
                      for (auto& r : *result) append_record(records, r);
                      records += ']';
                      state_.polled += result->size();
                      env_.tracer.event("op.ok", f.add_raw("records", records));
                    }
                    // A failed poll (a corrupt batch) would fail again at once: back off.
                    if (!result.ok()) {
                      env_.clock.schedule(milliseconds(100), guarded(alive_, [this] { poll(); }));
                    } else {
                      poll();
                    }
                  }));
}

// --- FinalReader -------------------------------------------------------------------------------

FinalReader::FinalReader(Env& env, std::vector<client::TopicPartition> parts,
                         std::vector<std::string> bootstrap, ClientState& state)
    : env_(env), state_(state), partitions_(std::move(parts)), bootstrap_(std::move(bootstrap)) {
  env_.clock.schedule(Duration::zero(), guarded(alive_, [this] { read_next(); }));
}

FinalReader::~FinalReader() {
  *alive_ = false;
}

void FinalReader::read_next() {
  if (done()) return;
  client::ConsumerConfig config;
  static_cast<client::CommonConfig&>(config) = common(bootstrap_, state_.name);
  config.auto_offset_reset = client::OffsetReset::none;
  config.fetch_max_wait_ms = kConsumerFetchWait;
  consumer_ = std::make_unique<client::Consumer>(env_, config);
  const client::TopicPartition& tp = partitions_[next_];
  op_ = state_.next_op++;
  env_.tracer.event("op.invoke", TraceFields()
                                     .add("op", op_)
                                     .add("f", "final_read")
                                     .add("topic", tp.topic)
                                     .add("partition", tp.partition));
  consumer_->beginning_offsets(
      {tp}, guarded(alive_, [this, tp](auto begin) {
        if (!begin.ok()) return read_next();  // retried until deadline
        consumer_->end_offsets({tp}, guarded(alive_, [this, tp, from = begin->at(tp)](auto end) {
                                 if (!end.ok()) return read_next();
                                 consumer_->assign({tp});
                                 Status s = consumer_->seek(tp, from);
                                 GREGOR_ASSERT(s.ok(), "seek: {}", s.to_string());
                                 read_range(from, end->at(tp), "[");
                               }));
      }));
}

void FinalReader::read_range(int64_t from, int64_t to, std::string records) {
  const client::TopicPartition& tp = partitions_[next_];
  auto pos = consumer_->position(tp);
  if (pos && *pos >= to) {
    records += ']';
    env_.tracer.event("op.ok", TraceFields()
                                   .add("op", op_)
                                   .add("f", "final_read")
                                   .add("from", from)
                                   .add("to", to)
                                   .add_raw("records", records));
    ++next_;
    return read_next();
  }
  consumer_->poll(seconds(1), guarded(alive_, [this, from, to, records](auto r) {
                    if (!r.ok()) {
                      // Out of range (the log moved under the read) or corrupt: start over.
                      return read_next();
                    }
                    std::string more = records;
                    for (auto& rec : *r) {
                      if (rec.offset < to) {
                        append_record(more, rec);
                        ++state_.polled;
                      }
                    }
                    read_range(from, to, std::move(more));
                  }));
}

}  // namespace gregor::scenario
