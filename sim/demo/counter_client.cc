#include "sim/demo/counter_client.h"

#include "sim/demo/counter_internal.h"

namespace gregor::demo {

CounterClient::CounterClient(Env& env, CounterClientConfig config, CounterHistory* history)
    : env_(env), config_(std::move(config)), history_(history) {
  schedule_next();
}

CounterClient::~CounterClient() {
  *alive_ = false;
  env_.clock.cancel(timer_);
  if (conn_) conn_->close();
}

void CounterClient::schedule_next() {
  if (stopped_) return;
  auto think =
      Duration(env_.random.uniform_signed(config_.think_min.count(), config_.think_max.count()));
  timer_ = env_.clock.schedule(think, guarded(alive_, [this] { begin(); }));
}

void CounterClient::begin() {
  if (stopped_) return;
  in_flight_ = true;
  sent_ = false;
  op_ = CounterOp{config_.client, next_id_++,
                  static_cast<uint32_t>(env_.random.uniform(0, config_.nodes.size() - 1)),
                  env_.clock.now()};
  uint64_t id = op_.id;
  timer_ = env_.clock.schedule(
      config_.request_timeout, guarded(alive_, [this, id] {
        if (in_flight_ && op_.id == id) {
          // Sent and no answer: the increment may have been applied. Not sent: it was not.
          complete(sent_ ? CounterOp::Outcome::unknown : CounterOp::Outcome::fail, 0, 0);
        }
      }));
  env_.network.connect(config_.nodes[op_.node],
                       guarded(alive_, [this, id](Result<net::ConnectionPtr> conn) {
                         if (!in_flight_ || op_.id != id) {
                           if (conn.ok()) (*conn)->close();
                           return;
                         }
                         if (!conn.ok()) return complete(CounterOp::Outcome::fail, 0, 0);
                         conn_ = std::move(conn).value();
                         reader_ = std::make_unique<net::FrameReader>(config_.frame_bytes_max);
                         conn_->set_handlers({
                             .on_data = guarded(alive_, [this](ByteView data) { on_data(data); }),
                             .on_close = guarded(alive_,
                                                 [this, id](const Status&) {
                                                   if (in_flight_ && op_.id == id)
                                                     complete(CounterOp::Outcome::unknown, 0, 0);
                                                 }),
                         });
                         Bytes m;
                         Writer w(m);
                         w.u8(static_cast<uint8_t>(CounterMsg::incr));
                         w.be<uint64_t>(id);
                         Bytes frame;
                         net::append_frame(frame, m);
                         conn_->send(std::move(frame));
                         sent_ = true;
                       }));
}

void CounterClient::on_data(ByteView data) {
  reader_->feed(data);
  auto frame = reader_->next();
  if (!frame.ok()) return complete(CounterOp::Outcome::unknown, 0, 0);
  if (!frame->has_value()) return;
  Reader r(**frame);
  auto type = static_cast<CounterMsg>(r.u8());
  uint64_t id = r.be<uint64_t>();
  auto outcome = static_cast<CounterOutcome>(r.u8());
  uint32_t slot = r.be<uint32_t>();
  uint64_t count = r.be<uint64_t>();
  if (!r.ok() || type != CounterMsg::incr_result || id != op_.id) {
    return complete(CounterOp::Outcome::unknown, 0, 0);
  }
  switch (outcome) {
    case CounterOutcome::ok:
      return complete(CounterOp::Outcome::ok, slot, count);
    case CounterOutcome::indefinite:
      return complete(CounterOp::Outcome::unknown, slot, count);
    case CounterOutcome::failed:
    case CounterOutcome::not_ready:
      return complete(CounterOp::Outcome::fail, slot, count);
  }
  complete(CounterOp::Outcome::unknown, 0, 0);
}

void CounterClient::complete(CounterOp::Outcome outcome, uint32_t slot, uint64_t count) {
  env_.clock.cancel(timer_);
  op_.completed = env_.clock.now();
  op_.outcome = outcome;
  op_.slot = slot;
  op_.count = count;
  history_->ops.push_back(op_);
  env_.tracer.event("client.op", TraceFields()
                                     .add("id", op_.id)
                                     .add("node", op_.node)
                                     .add("outcome", static_cast<int>(outcome))
                                     .add("slot", slot)
                                     .add("count", count));
  in_flight_ = false;
  if (conn_) {
    conn_->close();
    conn_.reset();
  }
  schedule_next();
}

}  // namespace gregor::demo
