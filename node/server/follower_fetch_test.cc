// KIP-392 on a real three-node cluster in the simulator: a consumer that names its rack (Fetch
// v11+ rack_id) may read a partition from a follower, up to the follower's high watermark; one
// that does not is sent to the leader (NOT_LEADER_OR_FOLLOWER), as are older Fetch versions.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>

#include "client/admin.h"
#include "client/producer.h"
#include "node/log/record_batch.h"
#include "node/rpc/rpc_channel.h"
#include "node/server/server_testing.h"

namespace gregor::server {
namespace {

using testing::kBrokerPort;
using testing::Layout;
using testing::QuorumWorld;
namespace k = kafka;

constexpr std::string_view kTopic = "f";

// Fetches partition 0 of kTopic from offset 0 at broker `id`, in `version`, naming `rack`.
std::optional<k::FetchResponse> fetch_from(QuorumWorld& w, int id, int16_t version,
                                           const std::string& rack) {
  rpc::RpcChannel channel(w.client_env(), net::Address{fmt::format("n{}", id), kBrokerPort});
  k::FetchRequest req;
  req.max_wait_ms = 0;
  req.min_bytes = 0;
  req.rack_id = rack;
  k::FetchRequest::FetchPartition p;
  p.partition = 0;
  p.fetch_offset = 0;
  p.partition_max_bytes = 1 << 20;
  req.topics.push_back({std::string(kTopic), {p}});
  std::optional<Result<k::FetchResponse>> got;
  channel.send(req, version, [&](Result<k::FetchResponse> r) { got = std::move(r); });
  if (!w.run_until([&] { return got.has_value(); }, seconds(10)) || !got->ok()) return std::nullopt;
  return std::move(**got);
}

int64_t records_in(const std::optional<Bytes>& records) {
  if (!records) return 0;
  int64_t n = 0;
  log::BatchIterator it(*records);
  while (auto batch = it.next()) n += log::parse_batch_header(*batch).value().record_count;
  return n;
}

TEST(FollowerFetch, ARackAwareConsumerReadsFromAFollowerUpToItsHighWatermark) {
  QuorumWorld w(Layout{.extra_config = "\"replica.fetch.wait.max.ms\" = 100\n"});
  ASSERT_TRUE(w.run_until([&] { return w.brokers_see(3); }, seconds(30)));
  client::AdminConfig ac;
  ac.bootstrap_servers = w.bootstrap();
  client::Admin admin(w.client_env(), ac);
  ASSERT_EQ(testing::create_topics(w, admin, {client::NewTopic{std::string(kTopic), 1, 3, {}}}),
            std::vector<k::ErrorCode>{k::ErrorCode::none});

  client::ProducerConfig pc;
  pc.bootstrap_servers = w.bootstrap();
  pc.acks = -1;
  pc.linger_ms = Duration::zero();
  client::Producer producer(w.client_env(), pc);
  int acked = 0;
  for (int i = 0; i < 3; ++i) {
    producer.send(client::ProducerRecord{std::string(kTopic), 0, std::nullopt,
                                         Bytes{static_cast<uint8_t>('a' + i)}},
                  [&](const client::DeliveryReport& r) { acked += r.result.ok(); });
  }
  ASSERT_TRUE(w.run_until([&] { return acked == 3; }, seconds(30)));

  const auto& p = w.server(1)->broker()->metadata().topic(std::string(kTopic))->partitions.at(0);
  int leader = p.leader;
  int follower = leader == 1 ? 2 : 1;
  // The follower holds the records and has learnt the high watermark that covers them.
  ASSERT_TRUE(w.run_until(
      [&] {
        auto* part = w.server(follower)->broker()->replicas().partition(std::string(kTopic), 0);
        return part && part->high_watermark() == 3;
      },
      seconds(10)));

  auto with_rack = fetch_from(w, follower, 11, "rack-a");
  ASSERT_TRUE(with_rack);
  ASSERT_EQ(with_rack->responses.size(), 1u);
  const auto& served = with_rack->responses[0].partitions.at(0);
  EXPECT_EQ(served.error_code, 0);
  EXPECT_EQ(served.high_watermark, 3);
  EXPECT_EQ(records_in(served.records), 3);

  for (auto [version, rack] : {std::pair<int16_t, std::string>{11, ""}, {10, "rack-a"}}) {
    auto refused = fetch_from(w, follower, version, rack);
    ASSERT_TRUE(refused);
    EXPECT_EQ(refused->responses.at(0).partitions.at(0).error_code,
              static_cast<int16_t>(k::ErrorCode::not_leader_or_follower))
        << "v" << version << " rack '" << rack << "'";
  }
  auto at_leader = fetch_from(w, leader, 11, "");
  ASSERT_TRUE(at_leader);
  EXPECT_EQ(records_in(at_leader->responses.at(0).partitions.at(0).records), 3);
}

}  // namespace
}  // namespace gregor::server
