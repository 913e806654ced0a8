// Replicated topics through their life on a real three-node cluster in the simulator: a topic with
// three replicas is deleted while its followers fetch it (the fetchers drop it, nothing hangs or
// crashes), and a topic of the same name created again replicates from scratch.
#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <vector>

#include "client/admin.h"
#include "client/producer.h"
#include "node/server/server_testing.h"

namespace gregor::server {
namespace {

using testing::Layout;
using testing::QuorumWorld;
namespace k = kafka;

int acked_sends(QuorumWorld& w, const std::string& topic, int count) {
  client::ProducerConfig pc;
  pc.bootstrap_servers = w.bootstrap();
  pc.acks = -1;
  pc.linger_ms = Duration::zero();
  client::Producer producer(w.client_env(), pc);
  int acked = 0, answered = 0;
  for (int i = 0; i < count; ++i) {
    producer.send(client::ProducerRecord{topic, 0, std::nullopt, Bytes{static_cast<uint8_t>(i)}},
                  [&](const client::DeliveryReport& r) {
                    ++answered;
                    acked += r.result.ok();
                  });
  }
  w.run_until([&] { return answered == count; }, seconds(30));
  return acked;
}

// Every node's replica of partition 0 of `topic` holds `records` below its high watermark.
bool replicated(QuorumWorld& w, const std::string& topic, int64_t records) {
  for (int id = 1; id <= 3; ++id) {
    auto* p = w.server(id)->broker()->replicas().partition(topic, 0);
    if (!p || p->high_watermark() != records || p->log().log_end_offset() != records) return false;
  }
  return true;
}

TEST(ReplicationLifecycle, ADeletedTopicStopsItsFollowersAndARecreatedOneReplicatesAfresh) {
  QuorumWorld w(Layout{.extra_config = "\"replica.fetch.wait.max.ms\" = 100\n"});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  auto create = [&] { return testing::create_topics(w, admin, {client::NewTopic{"d", 1, 3, {}}}); };
  ASSERT_EQ(create(), std::vector<k::ErrorCode>{k::ErrorCode::none});
  ASSERT_EQ(acked_sends(w, "d", 5), 5);
  ASSERT_TRUE(w.run_until([&] { return replicated(w, "d", 5); }, seconds(10)));

  std::optional<std::vector<client::TopicResult>> deleted;
  admin.delete_topics({"d"}, [&](auto r) {
    ASSERT_TRUE(r.ok());
    deleted = *r;
  });
  ASSERT_TRUE(w.run_until([&] { return deleted.has_value(); }, seconds(30)));
  ASSERT_EQ(deleted->size(), 1u);
  EXPECT_EQ((*deleted)[0].error, k::ErrorCode::none);
  ASSERT_TRUE(w.run_until(
      [&] {
        for (int id = 1; id <= 3; ++id)
          if (w.server(id)->broker()->replicas().partition("d", 0)) return false;
        return true;
      },
      seconds(10)));
  w.run_for(seconds(2));  // fetchers that followed it run their next rounds

  ASSERT_EQ(create(), std::vector<k::ErrorCode>{k::ErrorCode::none});
  EXPECT_EQ(acked_sends(w, "d", 3), 3);
  EXPECT_TRUE(w.run_until([&] { return replicated(w, "d", 3); }, seconds(10)))
      << "the recreated topic did not replicate to every node";
}

}  // namespace
}  // namespace gregor::server
