// Proves the controller image and its deltas:
// - replaying a cluster's life (register, unfence, create a topic, change ISR and leaders,
//   remove) gives the expected image, with Kafka's epoch rules (a leader change bumps the leader
//   epoch, every change the partition epoch);
// - records that do not fit the image (unknown topic, partition or broker, stale or backwards
//   epochs, a leader outside the ISR, duplicate topics, producer ids going back...) are
//   Errc::invalid_argument naming the record, and leave the delta unchanged;
// - image -> snapshot records -> image is the identity, through bytes too, for a fixed image and
//   (RapidCheck) for the images of random valid record sequences, which also replay the same
//   when split across two deltas; damaged snapshots never crash;
// - the broker's view of an image (to_broker_image).
#include "node/controller/metadata_delta.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <iterator>

#include "node/kafka/messages_testing.h"

namespace gregor::metadata {
namespace {

using kafka::testing::uniform;

constexpr Uuid kFoo{0, 1};
constexpr Uuid kBar{0, 2};

RegisterBrokerRecord register_broker(int32_t id, int64_t epoch, bool fenced = true) {
  RegisterBrokerRecord r;
  r.broker_id = id;
  r.incarnation_id = Uuid{100, static_cast<uint64_t>(id)};
  r.broker_epoch = epoch;
  r.endpoints = {BrokerEndpoint{.name = "PLAINTEXT",
                                .host = fmt::format("host{}", id),
                                .port = static_cast<uint16_t>(9090 + id)},
                 BrokerEndpoint{.name = "CONTROLLER", .host = "ctl", .port = 9093}};
  r.rack = id % 2 == 0 ? std::optional<std::string>("even") : std::nullopt;
  r.fenced = fenced;
  return r;
}

PartitionRecord partition(Uuid topic, int32_t index, std::vector<int32_t> replicas) {
  PartitionRecord r;
  r.topic_id = topic;
  r.partition_id = index;
  r.replicas = replicas;
  r.isr = replicas;
  r.leader = replicas.front();
  r.leader_epoch = 0;
  r.partition_epoch = 0;
  return r;
}

std::vector<MetadataRecord> cluster_life() {
  PartitionChangeRecord shrink;  // broker 3 falls out of foo-0's ISR, into its ELR
  shrink.topic_id = kFoo;
  shrink.partition_id = 0;
  shrink.isr = std::vector<int32_t>{1, 2};
  shrink.eligible_leader_replicas = std::vector<int32_t>{3};
  PartitionChangeRecord elect;  // then broker 2 leads foo-0
  elect.topic_id = kFoo;
  elect.partition_id = 0;
  elect.leader = 2;
  return {
      FeatureLevelRecord{.name = "metadata.version", .feature_level = 19},
      register_broker(1, 10),
      register_broker(2, 11),
      register_broker(3, 12),
      UnfenceBrokerRecord{.id = 1, .epoch = 10},
      UnfenceBrokerRecord{.id = 2, .epoch = 11},
      UnfenceBrokerRecord{.id = 3, .epoch = 12},
      TopicRecord{.name = "foo", .topic_id = kFoo},
      partition(kFoo, 0, {1, 2, 3}),
      partition(kFoo, 1, {2, 3, 1}),
      ConfigRecord{.resource_type = kConfigResourceTopic,
                   .resource_name = "foo",
                   .name = "retention.ms",
                   .value = "1000"},
      TopicRecord{.name = "bar", .topic_id = kBar},
      partition(kBar, 0, {3}),
      shrink,
      elect,
      FenceBrokerRecord{.id = 3, .epoch = 12},
      ProducerIdsRecord{.broker_id = 1, .broker_epoch = 10, .next_producer_id = 1000},
      RemoveTopicRecord{.topic_id = kBar},
      ConfigRecord{.resource_type = kConfigResourceBroker,
                   .resource_name = "",
                   .name = "log.retention.ms",
                   .value = "5"},
  };
}

TEST(MetadataDelta, ReplaysAClustersLife) {
  Result<ControllerImage> image = apply_records({}, cluster_life());
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(image->features.at("metadata.version"), 19);
  ASSERT_EQ(image->brokers.size(), 3u);
  EXPECT_FALSE(image->brokers.at(1).fenced);
  EXPECT_TRUE(image->brokers.at(3).fenced);
  EXPECT_EQ(image->brokers.at(2).epoch, 11);
  EXPECT_EQ(image->brokers.at(2).endpoints.size(), 2u);
  EXPECT_EQ(image->topics.size(), 1u);
  EXPECT_EQ(image->topic("bar"), nullptr);
  ASSERT_NE(image->topic("foo"), nullptr);
  const PartitionRegistration& p = image->topic(kFoo)->partitions.at(0);
  EXPECT_EQ(p.isr, (std::vector<int32_t>{1, 2}));
  EXPECT_EQ(p.elr, (std::vector<int32_t>{3}));
  EXPECT_EQ(p.leader, 2);
  EXPECT_EQ(p.leader_epoch, 1);     // one leader change
  EXPECT_EQ(p.partition_epoch, 2);  // two changes
  EXPECT_EQ(image->next_producer_id, 1000);
  EXPECT_EQ(image->configs.at(ConfigResource{kConfigResourceTopic, "foo"}).at("retention.ms"),
            "1000");
  EXPECT_EQ(image->configs.size(), 2u);
}

TEST(MetadataDelta, RemovingATopicRemovesItsConfigsAndNameAndDeletingAConfigEmptiesIt) {
  ControllerImage image = apply_records({}, cluster_life()).value();
  MetadataDelta delta(image);
  ASSERT_TRUE(delta.replay(RemoveTopicRecord{.topic_id = kFoo}).ok());
  ASSERT_TRUE(delta
                  .replay(ConfigRecord{.resource_type = kConfigResourceBroker,
                                       .resource_name = "",
                                       .name = "log.retention.ms",
                                       .value = std::nullopt})
                  .ok());
  EXPECT_TRUE(delta.apply().topics.empty());
  EXPECT_TRUE(delta.apply().topic_ids.empty());
  EXPECT_TRUE(delta.apply().configs.empty());
  // A topic of the same name may come back with a new id.
  EXPECT_TRUE(delta.replay(TopicRecord{.name = "foo", .topic_id = kBar}).ok());
  EXPECT_EQ(delta.replayed(), 3u);
}

TEST(MetadataDelta, TracksWhatChanged) {
  ControllerImage image = apply_records({}, cluster_life()).value();
  MetadataDelta delta(image);
  PartitionChangeRecord change;
  change.topic_id = kFoo;
  change.partition_id = 1;
  change.leader = 3;
  std::vector<MetadataRecord> records{
      register_broker(4, 20),
      FenceBrokerRecord{.id = 1, .epoch = 10},
      change,
      TopicRecord{.name = "new", .topic_id = Uuid{0, 3}},
      TopicRecord{.name = "gone", .topic_id = Uuid{0, 4}},
      RemoveTopicRecord{.topic_id = Uuid{0, 4}},  // created and removed: in neither set
  };
  for (const MetadataRecord& r : records) ASSERT_TRUE(delta.replay(r).ok());
  EXPECT_EQ(delta.changed_brokers(), (std::set<int32_t>{1, 4}));
  EXPECT_EQ(delta.changed_topics(), (std::set<Uuid, UuidLess>{kFoo, Uuid{0, 3}}));
  EXPECT_TRUE(delta.removed_topics().empty());
  ASSERT_TRUE(delta.replay(RemoveTopicRecord{.topic_id = kFoo}).ok());
  EXPECT_EQ(delta.changed_topics(), (std::set<Uuid, UuidLess>{Uuid{0, 3}}));
  EXPECT_EQ(delta.removed_topics(), (std::map<Uuid, std::string, UuidLess>{{kFoo, "foo"}}));
}

// Replays `record` on the life's image; it must be refused naming `expected` and change nothing.
void expect_refused(const MetadataRecord& record, std::string_view expected) {
  ControllerImage image = apply_records({}, cluster_life()).value();
  MetadataDelta delta(image);
  Status st = delta.replay(record);
  EXPECT_EQ(st.code(), Errc::invalid_argument) << st;
  EXPECT_NE(st.message().find(expected), std::string::npos) << st;
  EXPECT_EQ(delta.apply(), image);
  EXPECT_EQ(delta.replayed(), 0u);
}

TEST(MetadataDelta, RecordsThatDoNotFitAreRefusedByName) {
  PartitionChangeRecord unknown_topic;
  unknown_topic.topic_id = Uuid{7, 7};
  unknown_topic.partition_id = 0;
  unknown_topic.leader = 1;
  expect_refused(unknown_topic,
                 "PartitionChangeRecord topic 0000000000000007-0000000000000007 partition 0: "
                 "unknown topic id");
  PartitionChangeRecord unknown_partition = unknown_topic;
  unknown_partition.topic_id = kFoo;
  unknown_partition.partition_id = 5;
  expect_refused(unknown_partition, "partition 5: unknown partition");
  PartitionChangeRecord leader_outside_isr = unknown_partition;
  leader_outside_isr.partition_id = 0;
  leader_outside_isr.leader = 3;  // in the ELR, not the ISR
  expect_refused(leader_outside_isr, "leader 3 is not in the isr [1, 2]");
  PartitionChangeRecord isr_outside_replicas = unknown_partition;
  isr_outside_replicas.partition_id = 1;
  isr_outside_replicas.leader = kNoLeaderChange;
  isr_outside_replicas.isr = std::vector<int32_t>{2, 4};
  expect_refused(isr_outside_replicas, "isr [2, 4] names 4, not a replica of [2, 3, 1]");

  expect_refused(FenceBrokerRecord{.id = 9, .epoch = 1},
                 "FenceBrokerRecord broker 9: unknown broker");
  expect_refused(UnfenceBrokerRecord{.id = 1, .epoch = 9},
                 "UnfenceBrokerRecord broker 1: broker epoch 9 but the registration has epoch 10");
  expect_refused(UnregisterBrokerRecord{.broker_id = 2, .broker_epoch = 10}, "epoch 10");
  expect_refused(register_broker(2, 11),
                 "RegisterBrokerRecord broker 2: broker epoch 11 does not advance past 11");
  expect_refused(register_broker(2, 3), "does not advance");
  expect_refused(TopicRecord{.name = "foo", .topic_id = Uuid{9, 9}}, "topic foo already exists");
  expect_refused(TopicRecord{.name = "baz", .topic_id = kFoo}, "already exists");
  expect_refused(TopicRecord{.name = "", .topic_id = Uuid{9, 9}}, "topic name of 0 bytes");
  expect_refused(RemoveTopicRecord{.topic_id = kBar},
                 "RemoveTopicRecord topic 0000000000000000-0000000000000002: unknown topic id");
  expect_refused(
      partition(kBar, 0, {1}),
      "PartitionRecord topic 0000000000000000-0000000000000002 partition 0: unknown topic id");
  PartitionRecord older = partition(kFoo, 0, {1, 2, 3});  // foo-0 is at partition epoch 2
  older.partition_epoch = 1;
  older.leader_epoch = 1;
  expect_refused(older, "epochs go back");
  expect_refused(partition(kFoo, 2, {1, 1}), "replicas [1, 1] have duplicates");
  expect_refused(partition(kFoo, 3, {1}), "new partition after 2 partitions");
  expect_refused(ProducerIdsRecord{.broker_id = 1, .broker_epoch = 10, .next_producer_id = 1000},
                 "ProducerIdsRecord broker 1: next producer id 1000 does not advance past 1000");
  expect_refused(ConfigRecord{.resource_type = 3, .resource_name = "x", .name = "k", .value = "v"},
                 "unknown resource type 3");
  expect_refused(BrokerRegistrationChangeRecord{.broker_id = 1, .broker_epoch = 10, .fenced = 2},
                 "fenced 2");
}

TEST(MetadataSnapshot, RebuildsTheImage) {
  ControllerImage image = apply_records({}, cluster_life()).value();
  std::vector<MetadataRecord> records = snapshot_records(image);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(record_name(records.front()), "FeatureLevelRecord");
  Result<ControllerImage> rebuilt = apply_records({}, records);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.status();
  EXPECT_EQ(*rebuilt, image);
  Bytes bytes = encode_snapshot(image).value();
  Result<ControllerImage> decoded = decode_snapshot(bytes);
  ASSERT_TRUE(decoded.ok()) << decoded.status();
  EXPECT_EQ(*decoded, image);
  EXPECT_EQ(decode_snapshot(Bytes{}).value(), ControllerImage{});
}

RC_GTEST_PROP(MetadataSnapshot, DamagedSnapshotsNeverCrash, ()) {
  Bytes bytes = encode_snapshot(apply_records({}, cluster_life()).value()).value();
  const auto flips = *rc::gen::container<std::vector<std::pair<size_t, uint8_t>>>(
      rc::gen::pair(rc::gen::inRange<size_t>(0, bytes.size()), rc::gen::arbitrary<uint8_t>()));
  for (auto [at, value] : flips) bytes[at] = value;
  size_t cut = *rc::gen::inRange<size_t>(0, bytes.size() + 1);
  Result<ControllerImage> image = decode_snapshot(ByteView(bytes).first(cut));
  RC_ASSERT(image.ok() || image.code() == Errc::corrupt || image.code() == Errc::invalid_argument);
}

// ---- Random valid record sequences ----

template <typename Map>
auto pick(const Map& m) {
  auto it = m.begin();
  std::advance(it, uniform<size_t>(0, m.size()));
  return it;
}

// A random non-empty subset of `from`, in random order, of at most `max` elements.
std::vector<int32_t> subset(std::vector<int32_t> from, size_t min, size_t max) {
  std::vector<int32_t> out;
  size_t n = uniform<size_t>(min, std::min(max, from.size()) + 1);
  while (out.size() < n) {
    size_t i = uniform<size_t>(0, from.size());
    out.push_back(from[i]);
    from.erase(from.begin() + static_cast<ptrdiff_t>(i));
  }
  return out;
}

std::vector<int32_t> minus(const std::vector<int32_t>& a, const std::vector<int32_t>& b) {
  std::vector<int32_t> out;
  for (int32_t x : a)
    if (std::find(b.begin(), b.end(), x) == b.end()) out.push_back(x);
  return out;
}

// Generates records that are valid against the image they are replayed on.
class SequenceGen {
 public:
  std::vector<MetadataRecord> next(const ControllerImage& image) {
    switch (uniform(0, 10)) {
      case 0:
        return {register_random()};
      case 1:
        if (image.brokers.empty()) return {register_random()};
        return {broker_change(pick(image.brokers)->second)};
      case 2:
      case 3:
        if (image.brokers.empty()) return {register_random()};
        return create_topic(image);
      case 4:
      case 5:
      case 6:
        if (image.topics.empty() || image.brokers.empty()) return create_topic_or_register(image);
        return {partition_change(image)};
      case 7:
        if (image.topics.empty()) return {};
        return {RemoveTopicRecord{.topic_id = pick(image.topics)->first}};
      case 8:
        if (uniform(0, 8) == 0) return {NoOpRecord{}};
        return {config(image)};
      default:
        if (uniform(0, 2) == 0)
          return {ProducerIdsRecord{.broker_id = 0,
                                    .broker_epoch = 0,
                                    .next_producer_id = image.next_producer_id + 1000}};
        return {FeatureLevelRecord{
            .name = *rc::gen::element<std::string>("metadata.version", "kraft.version"),
            .feature_level = static_cast<int16_t>(uniform(0, 4))}};
    }
  }

 private:
  std::vector<MetadataRecord> create_topic_or_register(const ControllerImage& image) {
    if (image.brokers.empty()) return {register_random()};
    return create_topic(image);
  }

  MetadataRecord register_random() {
    RegisterBrokerRecord r = register_broker(uniform(0, 6), ++epoch_, uniform(0, 2) == 0);
    r.incarnation_id = Uuid{static_cast<uint64_t>(epoch_), 1};
    if (uniform(0, 2) == 0) r.endpoints.pop_back();
    r.in_controlled_shutdown = uniform(0, 4) == 0;
    return r;
  }

  MetadataRecord broker_change(const BrokerRegistration& b) {
    switch (uniform(0, 4)) {
      case 0:
        return FenceBrokerRecord{.id = b.id, .epoch = b.epoch};
      case 1:
        return UnfenceBrokerRecord{.id = b.id, .epoch = b.epoch};
      case 2:
        return UnregisterBrokerRecord{.broker_id = b.id, .broker_epoch = b.epoch};
      default:
        return BrokerRegistrationChangeRecord{
            .broker_id = b.id,
            .broker_epoch = b.epoch,
            .fenced = static_cast<int8_t>(uniform(-1, 2)),
            .in_controlled_shutdown = static_cast<int8_t>(uniform(0, 2)),
            .log_dirs = {}};
    }
  }

  static std::vector<int32_t> broker_ids(const ControllerImage& image) {
    std::vector<int32_t> ids;
    for (const auto& [id, b] : image.brokers) ids.push_back(id);
    return ids;
  }

  std::vector<MetadataRecord> create_topic(const ControllerImage& image) {
    ++topics_;
    Uuid id{static_cast<uint64_t>(topics_), *rc::gen::arbitrary<uint64_t>()};
    std::vector<MetadataRecord> out{
        TopicRecord{.name = fmt::format("t{}", topics_), .topic_id = id}};
    int32_t partitions = uniform(0, 4);
    for (int32_t i = 0; i < partitions; ++i) {
      PartitionRecord p;
      p.topic_id = id;
      p.partition_id = i;
      p.replicas = subset(broker_ids(image), 1, 3);
      p.isr = subset(p.replicas, 0, 3);
      p.leader = p.isr.empty() ? kNoLeader : p.isr.front();
      p.leader_epoch = uniform(0, 5);
      p.partition_epoch = uniform(0, 5);
      if (uniform(0, 2) == 0) p.eligible_leader_replicas = subset(minus(p.replicas, p.isr), 0, 3);
      if (uniform(0, 3) == 0) p.last_known_elr = subset(p.replicas, 0, 1);
      out.push_back(std::move(p));
    }
    return out;
  }

  MetadataRecord partition_change(const ControllerImage& image) {
    const TopicRegistration& topic = pick(image.topics)->second;
    if (topic.partitions.empty()) return RemoveTopicRecord{.topic_id = topic.id};
    auto [index, p] = *pick(topic.partitions);
    PartitionChangeRecord r;
    r.topic_id = topic.id;
    r.partition_id = index;
    std::vector<int32_t> replicas = p.replicas;
    if (uniform(0, 5) == 0) {  // a reassignment: every replica-dependent field is restated
      replicas = subset(broker_ids(image), 1, 4);
      r.replicas = replicas;
      r.removing_replicas = std::vector<int32_t>{};
      r.adding_replicas = subset(replicas, 0, 1);
      r.last_known_elr = std::vector<int32_t>{};
    }
    bool change_isr = r.replicas || uniform(0, 3) != 0;
    std::vector<int32_t> isr = p.isr;
    if (change_isr) {
      isr = subset(replicas, 0, 4);
      r.isr = isr;
      r.eligible_leader_replicas = subset(minus(replicas, isr), 0, 2);
    }
    bool leader_ok =
        p.leader == kNoLeader || std::find(isr.begin(), isr.end(), p.leader) != isr.end();
    if (!leader_ok || uniform(0, 3) == 0)
      r.leader = isr.empty() ? kNoLeader : *rc::gen::elementOf(isr);
    if (uniform(0, 4) == 0) r.leader_recovery_state = static_cast<int8_t>(uniform(0, 2));
    return r;
  }

  MetadataRecord config(const ControllerImage& image) {
    ConfigRecord r;
    if (!image.topics.empty() && uniform(0, 2) == 0) {
      r.resource_type = kConfigResourceTopic;
      r.resource_name = pick(image.topics)->second.name;
    } else {
      r.resource_type = kConfigResourceBroker;
      r.resource_name = *rc::gen::element<std::string>("", "1");
    }
    r.name = *rc::gen::element<std::string>("retention.ms", "segment.bytes");
    if (uniform(0, 3) != 0) r.value = std::to_string(uniform(0, 100));
    return r;
  }

  int64_t epoch_ = 0;
  int topics_ = 0;
};

// The delta's change sets say exactly which topics differ between its base and its image (and
// name at least every broker that differs).
void check_tracking(const ControllerImage& base, const MetadataDelta& delta) {
  const ControllerImage& image = delta.apply();
  for (const auto& [id, topic] : image.topics) {
    const TopicRegistration* before = base.topic(id);
    if (before == nullptr || !(*before == topic)) RC_ASSERT(delta.changed_topics().contains(id));
  }
  for (const Uuid& id : delta.changed_topics()) RC_ASSERT(image.topic(id) != nullptr);
  for (const auto& [id, topic] : base.topics) {
    bool removed = image.topic(id) == nullptr;
    RC_ASSERT(delta.removed_topics().contains(id) == removed);
    if (removed) RC_ASSERT(delta.removed_topics().at(id) == topic.name);
  }
  for (const auto& [id, name] : delta.removed_topics()) RC_ASSERT(base.topic(id) != nullptr);
  for (const auto& [id, b] : image.brokers) {
    auto before = base.brokers.find(id);
    if (before == base.brokers.end() || !(before->second == b))
      RC_ASSERT(delta.changed_brokers().contains(id));
  }
  for (const auto& [id, b] : base.brokers)
    if (!image.brokers.contains(id)) RC_ASSERT(delta.changed_brokers().contains(id));
}

RC_GTEST_PROP(MetadataSnapshot, RandomValidSequencesRebuildFromTheirSnapshot, ()) {
  SequenceGen gen;
  MetadataDelta delta(ControllerImage{});
  std::vector<MetadataRecord> log;
  const int steps = uniform(0, 60);
  for (int i = 0; i < steps; ++i) {
    for (const MetadataRecord& r : gen.next(delta.apply())) {
      Status st = delta.replay(r);
      RC_ASSERT(st.ok());
      log.push_back(r);
    }
  }
  const ControllerImage& image = delta.apply();
  // The log through bytes, split across two deltas at a random point, gives the same image.
  std::vector<MetadataRecord> decoded = decode_records(encode_records(log).value()).value();
  RC_ASSERT(decoded == log);
  size_t split = uniform<size_t>(0, log.size() + 1);
  ControllerImage first = apply_records({}, std::span(decoded).first(split)).value();
  MetadataDelta second(first);
  for (const MetadataRecord& r : std::span(decoded).subspan(split))
    RC_ASSERT(second.replay(r).ok());
  RC_ASSERT(second.apply() == image);
  check_tracking(first, second);
  // image -> snapshot records -> image, directly and through bytes; snapshots are canonical.
  std::vector<MetadataRecord> snapshot = snapshot_records(image);
  Result<ControllerImage> rebuilt = apply_records({}, snapshot);
  RC_ASSERT(rebuilt.ok());
  RC_ASSERT(*rebuilt == image);
  RC_ASSERT(snapshot_records(*rebuilt) == snapshot);
  Result<ControllerImage> from_bytes = decode_snapshot(encode_snapshot(image).value());
  RC_ASSERT(from_bytes.ok());
  RC_ASSERT(*from_bytes == image);
  size_t changes = std::count_if(log.begin(), log.end(), [](const MetadataRecord& r) {
    return std::holds_alternative<PartitionChangeRecord>(r);
  });
  RC_CLASSIFY(changes >= 5, "5+ partition changes");
  RC_CLASSIFY(!image.topics.empty(), "topics left");
  RC_CLASSIFY(image.brokers.size() >= 3, "3+ brokers");
}

TEST(BrokerView, ServesUnfencedBrokersTopicsAndConfigs) {
  ControllerImage image = apply_records({}, cluster_life()).value();
  broker::MetadataImage view =
      to_broker_image(image, BrokerViewOptions{.cluster_id = "c1", .controller_id = 5});
  EXPECT_EQ(view.cluster_id, "c1");
  EXPECT_EQ(view.controller_id, 5);
  ASSERT_EQ(view.brokers.size(), 2u);  // broker 3 is fenced
  EXPECT_EQ(view.brokers.at(2), (broker::BrokerImage{.id = 2, .host = "host2", .port = 9092}));
  ASSERT_EQ(view.topics.size(), 1u);
  const broker::TopicImage* foo = view.topic("foo");
  ASSERT_NE(foo, nullptr);
  EXPECT_EQ(foo->id, kFoo);
  ASSERT_EQ(foo->partitions.size(), 2u);
  EXPECT_EQ(foo->partitions[0], (broker::PartitionImage{.partition = 0,
                                                        .leader = 2,
                                                        .leader_epoch = 1,
                                                        .partition_epoch = 2,
                                                        .replicas = {1, 2, 3},
                                                        .isr = {1, 2}}));
  EXPECT_EQ(foo->partitions[1].replicas, (std::vector<int32_t>{2, 3, 1}));
  EXPECT_EQ(foo->configs, (std::map<std::string, std::string>{{"retention.ms", "1000"}}));
  EXPECT_EQ(view.next_producer_id, 1000);
  // Another listener name: brokers without it are not served.
  view = to_broker_image(image, BrokerViewOptions{.listener_name = "CONTROLLER"});
  EXPECT_EQ(view.brokers.at(1).host, "ctl");
  EXPECT_TRUE(to_broker_image(image, BrokerViewOptions{.listener_name = "SSL"}).brokers.empty());
}

}  // namespace
}  // namespace gregor::metadata
