#include "bench/rdkafka_bench.h"

#include <librdkafka/rdkafka.h>

#include <chrono>
#include <memory>
#include <vector>

#include "bench/bench_clock.h"

namespace gregor::bench {
namespace {

constexpr auto kTimeout = std::chrono::minutes(5);

struct KafkaDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using KafkaPtr = std::unique_ptr<rd_kafka_t, KafkaDeleter>;

Result<KafkaPtr> make_client(rd_kafka_type_t type, const std::string& bootstrap,
                             const std::vector<std::pair<const char*, std::string>>& settings,
                             void (*on_delivery)(rd_kafka_t*, const rd_kafka_message_t*, void*)) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  auto set = [&](const char* key, const std::string& value) {
    return rd_kafka_conf_set(conf, key, value.c_str(), err, sizeof err) == RD_KAFKA_CONF_OK;
  };
  bool ok = set("bootstrap.servers", bootstrap);
  for (auto& [key, value] : settings) ok = ok && set(key, value);
  if (!ok) {
    rd_kafka_conf_destroy(conf);
    return errorf(Errc::invalid_argument, "librdkafka config: {}", err);
  }
  if (on_delivery) rd_kafka_conf_set_dr_msg_cb(conf, on_delivery);
  rd_kafka_t* rk = rd_kafka_new(type, conf, err, sizeof err);  // takes conf on success
  if (!rk) {
    rd_kafka_conf_destroy(conf);
    return errorf(Errc::invalid_argument, "rd_kafka_new: {}", err);
  }
  return KafkaPtr(rk);
}

struct Delivery {
  uint64_t delivered = 0;
  uint64_t failed = 0;
  std::string first_error;
};

// The per-message opaque (RD_KAFKA_V_OPAQUE) comes back as m->_private; the callback's own
// opaque argument is the client's.
void on_delivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
  auto* d = static_cast<Delivery*>(m->_private);
  if (m->err) {
    if (d->failed++ == 0) d->first_error = rd_kafka_err2str(m->err);
  } else {
    ++d->delivered;
  }
}

}  // namespace

Result<ClientThroughput> rdkafka_produce(const std::string& bootstrap, const std::string& topic,
                                         size_t record_bytes, uint64_t records) {
  auto rk = make_client(RD_KAFKA_PRODUCER, bootstrap,
                        {{"acks", "all"},
                         {"linger.ms", "5"},
                         {"batch.size", "1000000"},
                         {"queue.buffering.max.kbytes", "1048576"},
                         {"queue.buffering.max.messages", "1000000"}},
                        on_delivery);
  if (!rk.ok()) return rk.status();
  Delivery delivery;
  std::vector<char> value(record_bytes, 'x');
  auto start = Clock::now();
  for (uint64_t i = 0; i < records; ++i) {
    while (true) {
      rd_kafka_resp_err_t e =
          rd_kafka_producev(rk->get(), RD_KAFKA_V_TOPIC(topic.c_str()), RD_KAFKA_V_PARTITION(0),
                            RD_KAFKA_V_VALUE(value.data(), value.size()),
                            RD_KAFKA_V_OPAQUE(&delivery), RD_KAFKA_V_END);
      if (e == RD_KAFKA_RESP_ERR_NO_ERROR) break;
      if (e != RD_KAFKA_RESP_ERR__QUEUE_FULL) {
        return errorf(Errc::io_error, "produce: {}", rd_kafka_err2str(e));
      }
      rd_kafka_poll(rk->get(), 10);  // the queue drains as deliveries come back
    }
    rd_kafka_poll(rk->get(), 0);
  }
  while (delivery.delivered + delivery.failed < records) {
    if (Clock::now() - start > kTimeout) return error(Errc::timed_out, "deliveries");
    rd_kafka_poll(rk->get(), 10);
  }
  ClientThroughput t{records, records * record_bytes, seconds_since(start)};
  if (delivery.failed) {
    return errorf(Errc::io_error, "{} deliveries failed: {}", delivery.failed,
                  delivery.first_error);
  }
  return t;
}

Result<ClientThroughput> rdkafka_consume(const std::string& bootstrap, const std::string& topic,
                                         uint64_t records) {
  auto rk = make_client(RD_KAFKA_CONSUMER, bootstrap,
                        {{"group.id", "gregor-bench"},
                         {"enable.auto.commit", "false"},
                         {"fetch.max.bytes", "52428800"},
                         {"max.partition.fetch.bytes", "4194304"}},
                        nullptr);
  if (!rk.ok()) return rk.status();
  rd_kafka_topic_partition_list_t* parts = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(parts, topic.c_str(), 0)->offset = 0;
  rd_kafka_resp_err_t e = rd_kafka_assign(rk->get(), parts);
  rd_kafka_topic_partition_list_destroy(parts);
  if (e) return errorf(Errc::io_error, "assign: {}", rd_kafka_err2str(e));
  ClientThroughput t;
  auto start = Clock::now();
  while (t.records < records) {
    if (Clock::now() - start > kTimeout) return error(Errc::timed_out, "consume");
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk->get(), 100);
    if (!m) continue;
    if (!m->err) {
      ++t.records;
      t.bytes += m->len;
    } else if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF) {
      std::string why = rd_kafka_message_errstr(m);
      rd_kafka_message_destroy(m);
      return errorf(Errc::io_error, "consume: {}", why);
    }
    rd_kafka_message_destroy(m);
  }
  t.seconds = seconds_since(start);
  rd_kafka_consumer_close(rk->get());
  return t;
}

}  // namespace gregor::bench
