// Proves the raft <-> wire mapping (raft_wire.h): for random raft messages, raft struct -> kafka
// message -> bytes (the real codec; Fetch at v13) -> kafka message -> raft struct gives back every
// field and the sender id (Fetch answers: with the echo taken from the asked request, records as
// data and control batches, diverging and snapshot answers); pre_vote survives in Gregor's tagged
// field; whatever a peer could send that the mapping cannot represent (another partition or topic
// id, an unknown error code, a snapshot chunk, malformed or non-contiguous record batches) is
// Errc::invalid_argument or Errc::corrupt rather than a crash.
#include "node/controller/raft_wire.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "node/controller/raft_entry_codec.h"
#include "node/kafka/api.h"
#include "node/log/record_batch.h"

namespace gregor::raft {
namespace {

// Through the real codec at every version the controller serves.
template <typename W>
W through_bytes(const W& msg) {
  Bytes bytes = kafka::encode_to_bytes(msg, 0).value();
  return kafka::decode<W>(bytes, 0).value();
}

template <typename W>
W through_bytes_v13(const W& msg) {
  Bytes bytes = kafka::encode_to_bytes(msg, kRaftFetchVersion).value();
  return kafka::decode<W>(bytes, kRaftFetchVersion).value();
}

template <typename Body>
const Body& body_of(const Message& m) {
  const Body* b = std::get_if<Body>(&m.body);
  RC_ASSERT(b != nullptr);
  return *b;
}

rc::Gen<FetchError> fetch_errors() {
  return rc::gen::element(FetchError::kNone, FetchError::kFencedLeaderEpoch, FetchError::kNotLeader,
                          FetchError::kUnknownSnapshot);
}

RC_GTEST_PROP(RaftWire, VoteRequestRoundTrips, ()) {
  VoteRequest req{.epoch = *rc::gen::arbitrary<int32_t>(),
                  .last_epoch = *rc::gen::arbitrary<int32_t>(),
                  .end_offset = *rc::gen::arbitrary<int64_t>(),
                  .pre_vote = *rc::gen::arbitrary<bool>()};
  const auto from = *rc::gen::arbitrary<NodeId>();
  Message m = from_wire(through_bytes(to_wire(req, from, "cluster"))).value();
  RC_ASSERT(m.from == from);
  const auto& back = body_of<VoteRequest>(m);
  RC_ASSERT(back.epoch == req.epoch);
  RC_ASSERT(back.last_epoch == req.last_epoch);
  RC_ASSERT(back.end_offset == req.end_offset);
  RC_ASSERT(back.pre_vote == req.pre_vote);
}

RC_GTEST_PROP(RaftWire, VoteResponseRoundTrips, ()) {
  VoteResponse resp{.epoch = *rc::gen::arbitrary<int32_t>(),
                    .granted = *rc::gen::arbitrary<bool>(),
                    .pre_vote = *rc::gen::arbitrary<bool>()};
  VoteResponse back =
      from_wire(through_bytes(to_wire(resp, *rc::gen::arbitrary<NodeId>()))).value();
  RC_ASSERT(back.epoch == resp.epoch);
  RC_ASSERT(back.granted == resp.granted);
  RC_ASSERT(back.pre_vote == resp.pre_vote);
}

RC_GTEST_PROP(RaftWire, QuorumEpochRequestsRoundTrip, ()) {
  const auto leader = *rc::gen::arbitrary<NodeId>();
  BeginQuorumEpochRequest begin{.epoch = *rc::gen::arbitrary<int32_t>()};
  Message b = from_wire(through_bytes(to_wire(begin, leader))).value();
  RC_ASSERT(b.from == leader);
  RC_ASSERT(body_of<BeginQuorumEpochRequest>(b).epoch == begin.epoch);

  EndQuorumEpochRequest end{.epoch = *rc::gen::arbitrary<int32_t>(),
                            .preferred_successors = *rc::gen::arbitrary<std::vector<NodeId>>()};
  Message e = from_wire(through_bytes(to_wire(end, leader, "c"))).value();
  RC_ASSERT(e.from == leader);
  RC_ASSERT(body_of<EndQuorumEpochRequest>(e).epoch == end.epoch);
  RC_ASSERT(body_of<EndQuorumEpochRequest>(e).preferred_successors == end.preferred_successors);
}

RC_GTEST_PROP(RaftWire, FetchSnapshotRoundTrips, ()) {
  FetchSnapshotRequest req{.epoch = *rc::gen::arbitrary<int32_t>(),
                           .snapshot_id = {.end_offset = *rc::gen::arbitrary<int64_t>(),
                                           .epoch = *rc::gen::arbitrary<int32_t>()}};
  const auto replica = *rc::gen::arbitrary<NodeId>();
  Message m = from_wire(through_bytes(to_wire(req, replica))).value();
  RC_ASSERT(m.from == replica);
  RC_ASSERT(body_of<FetchSnapshotRequest>(m).epoch == req.epoch);
  RC_ASSERT(body_of<FetchSnapshotRequest>(m).snapshot_id == req.snapshot_id);

  FetchSnapshotResponse resp;
  resp.epoch = *rc::gen::arbitrary<int32_t>();
  resp.leader_id = *rc::gen::arbitrary<NodeId>();
  resp.error = *fetch_errors();
  resp.snapshot.id = {.end_offset = *rc::gen::arbitrary<int64_t>(),
                      .epoch = *rc::gen::arbitrary<int32_t>()};
  resp.snapshot.data = *rc::gen::arbitrary<Bytes>();
  FetchSnapshotResponse back = from_wire(through_bytes(to_wire(resp))).value();
  RC_ASSERT(back.epoch == resp.epoch);
  RC_ASSERT(back.leader_id == resp.leader_id);
  RC_ASSERT(back.error == resp.error);
  RC_ASSERT(back.snapshot.id == resp.snapshot.id);
  RC_ASSERT(back.snapshot.data == resp.snapshot.data);
}

TEST(RaftWire, PreVoteIsGregorsTaggedField) {
  VoteRequest req{.epoch = 3, .last_epoch = 2, .end_offset = 10, .pre_vote = true};
  kafka::VoteRequest wire = to_wire(req, 1);
  ASSERT_EQ(wire.topics.size(), 1u);
  EXPECT_EQ(wire.topics[0].topic_name, "__cluster_metadata");
  EXPECT_TRUE(wire.topics[0].partitions[0].pre_vote);
  // A plain vote encodes exactly like Kafka 3.7 (no tagged field): 4 bytes shorter.
  req.pre_vote = false;
  EXPECT_EQ(kafka::encode_to_bytes(wire, 0).value().size(),
            kafka::encode_to_bytes(to_wire(req, 1), 0).value().size() + 4);
}

TEST(RaftWire, ErrorCodes) {
  EXPECT_EQ(to_wire(FetchError::kNone), 0);
  EXPECT_EQ(to_wire(FetchError::kNotLeader), 6);
  EXPECT_EQ(to_wire(FetchError::kFencedLeaderEpoch), 74);
  EXPECT_EQ(to_wire(FetchError::kUnknownSnapshot), 98);
  EXPECT_EQ(fetch_error_from_wire(3).code(), Errc::invalid_argument);
}

TEST(RaftWire, RefusesWhatItCannotRepresent) {
  kafka::VoteRequest vote = to_wire(VoteRequest{}, 1);
  vote.topics[0].partitions[0].partition_index = 1;
  EXPECT_EQ(from_wire(vote).code(), Errc::invalid_argument);
  vote = to_wire(VoteRequest{}, 1);
  vote.topics[0].topic_name = "other";
  EXPECT_EQ(from_wire(vote).code(), Errc::invalid_argument);
  vote.topics.clear();
  EXPECT_EQ(from_wire(vote).code(), Errc::invalid_argument);
  vote = to_wire(VoteRequest{}, 1);
  vote.topics.push_back(vote.topics[0]);
  EXPECT_EQ(from_wire(vote).code(), Errc::invalid_argument);

  kafka::VoteResponse resp = to_wire(VoteResponse{});
  resp.error_code = 42;
  EXPECT_EQ(from_wire(resp).code(), Errc::invalid_argument);
  resp = to_wire(VoteResponse{});
  resp.topics[0].partitions[0].error_code = 74;
  EXPECT_EQ(from_wire(resp).code(), Errc::invalid_argument);

  FetchSnapshotResponse snap;
  snap.snapshot.data = Bytes{1, 2, 3};
  kafka::FetchSnapshotResponse chunk = to_wire(snap);
  chunk.topics[0].partitions[0].size = 10;  // the first 3 bytes of 10
  EXPECT_EQ(from_wire(chunk).code(), Errc::invalid_argument);
  chunk = to_wire(snap);
  chunk.topics[0].partitions[0].error_code = 1;
  EXPECT_EQ(from_wire(chunk).code(), Errc::invalid_argument);

  kafka::FetchSnapshotRequest fetch = to_wire(FetchSnapshotRequest{}, 2);
  fetch.topics[0].partitions[0].position = 5;
  EXPECT_EQ(from_wire(fetch).code(), Errc::invalid_argument);
}

// ---- Fetch (v13) ----

rc::Gen<int32_t> non_negative_int32() {
  return rc::gen::inRange<int32_t>(0, INT32_MAX);
}
rc::Gen<int64_t> non_negative_int64() {
  return rc::gen::inRange<int64_t>(0, INT64_MAX / 2);
}

// A fetch the core could send: last_fetched_epoch <= epoch.
FetchRequest gen_fetch_request() {
  int32_t epoch = *non_negative_int32();
  return FetchRequest{.epoch = epoch,
                      .fetch_offset = *non_negative_int64(),
                      .last_fetched_epoch = *rc::gen::inRange<int32_t>(0, epoch)};
}

// Entries a leader of `epoch` could answer `asked` with: contiguous from the fetch offset, epochs
// non-decreasing within [last fetched epoch, epoch], data and LeaderChange entries.
std::vector<Entry> gen_records(const FetchRequest& asked, int32_t epoch) {
  size_t n = *rc::gen::inRange<size_t>(0, 6);
  std::vector<Entry> out;
  int32_t e = asked.last_fetched_epoch;
  for (size_t i = 0; i < n; ++i) {
    e = *rc::gen::inRange<int32_t>(e, epoch);
    bool control = *rc::gen::arbitrary<bool>();
    out.push_back(Entry{.offset = asked.fetch_offset + static_cast<int64_t>(i),
                        .epoch = e,
                        .kind = control ? EntryKind::kLeaderChange : EntryKind::kData,
                        .payload = *rc::gen::arbitrary<Bytes>()});
  }
  return out;
}

RC_GTEST_PROP(RaftWire, FetchRequestRoundTrips, ()) {
  FetchRequest req = gen_fetch_request();
  const auto replica = *non_negative_int32();
  std::optional<std::string> cluster;
  if (*rc::gen::arbitrary<bool>()) cluster = *rc::gen::arbitrary<std::string>();
  kafka::FetchRequest wire = through_bytes_v13(to_wire(req, replica, cluster));
  RC_ASSERT(wire.cluster_id == cluster);
  RC_ASSERT(wire.replica_id == replica);
  RC_ASSERT(wire.max_wait_ms == kRaftFetchMaxWaitMs);
  RC_ASSERT(wire.topics.size() == 1u);
  RC_ASSERT(wire.topics[0].topic_id == metadata_topic_id());
  RC_ASSERT(wire.topics[0].topic.empty());
  RC_ASSERT(wire.topics[0].partitions.size() == 1u);
  RC_ASSERT(wire.topics[0].partitions[0].log_start_offset == -1);
  Message m = from_wire(wire).value();
  RC_ASSERT(m.from == replica);
  const auto& back = body_of<FetchRequest>(m);
  RC_ASSERT(back.epoch == req.epoch);
  RC_ASSERT(back.fetch_offset == req.fetch_offset);
  RC_ASSERT(back.last_fetched_epoch == req.last_fetched_epoch);
}

RC_GTEST_PROP(RaftWire, FetchResponseRoundTrips, ()) {
  FetchRequest asked = gen_fetch_request();
  FetchResponse resp;
  resp.epoch = *rc::gen::inRange<int32_t>(asked.last_fetched_epoch, INT32_MAX);
  resp.leader_id = *rc::gen::inRange<NodeId>(-1, 1000);
  resp.error = *fetch_errors();
  resp.high_watermark = *rc::gen::inRange<int64_t>(-1, INT64_MAX / 2);
  resp.fetch_offset = asked.fetch_offset;
  resp.last_fetched_epoch = asked.last_fetched_epoch;
  if (resp.error == FetchError::kNone) {
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        resp.records = gen_records(asked, resp.epoch);
        break;
      case 1:
        resp.diverging_epoch = OffsetAndEpoch{*non_negative_int64(), *non_negative_int32()};
        break;
      default:
        resp.snapshot_id = SnapshotId{*non_negative_int64(), *non_negative_int32()};
    }
  }
  kafka::FetchResponse wire = through_bytes_v13(to_wire(resp));
  RC_ASSERT(wire.responses.size() == 1u);
  RC_ASSERT(wire.responses[0].topic_id == metadata_topic_id());
  FetchResponse back = from_wire(wire, asked).value();
  RC_ASSERT(back.epoch == resp.epoch);
  RC_ASSERT(back.leader_id == resp.leader_id);
  RC_ASSERT(back.error == resp.error);
  RC_ASSERT(back.fetch_offset == resp.fetch_offset);
  RC_ASSERT(back.last_fetched_epoch == resp.last_fetched_epoch);
  RC_ASSERT(back.high_watermark == resp.high_watermark);
  RC_ASSERT(back.records == resp.records);
  RC_ASSERT(back.diverging_epoch == resp.diverging_epoch);
  RC_ASSERT(back.snapshot_id == resp.snapshot_id);
}

TEST(RaftWire, FetchRecordsAreKRaftBatches) {
  FetchResponse resp{.epoch = 4, .leader_id = 2, .high_watermark = 7};
  resp.records = {Entry{7, 3, EntryKind::kData, to_bytes("x")},
                  Entry{8, 4, EntryKind::kLeaderChange, {}}};
  kafka::FetchResponse wire = to_wire(resp);
  const auto& p = wire.responses[0].partitions[0];
  EXPECT_EQ(p.current_leader.leader_id, 2);
  EXPECT_EQ(p.current_leader.leader_epoch, 4);
  EXPECT_EQ(p.diverging_epoch, kafka::FetchResponse::EpochEndOffset{});  // absent: not written
  EXPECT_EQ(p.snapshot_id, kafka::FetchResponse::SnapshotId{});
  ASSERT_TRUE(p.records.has_value());
  log::BatchIterator it(*p.records);
  std::vector<log::BatchHeader> headers;
  std::vector<log::Record> records;
  while (auto batch = it.next()) {
    headers.push_back(log::parse_batch_header(*batch).value());
    auto r = log::decode_records(*batch).value();
    ASSERT_EQ(r.size(), 1u);
    records.push_back(r[0]);
  }
  ASSERT_EQ(headers.size(), 2u);
  EXPECT_EQ(headers[0].base_offset, 7);
  EXPECT_EQ(headers[0].partition_leader_epoch, 3);
  EXPECT_FALSE(headers[0].is_control());
  EXPECT_FALSE(records[0].key.has_value());
  EXPECT_EQ(records[0].value, to_bytes("x"));
  EXPECT_EQ(headers[1].base_offset, 8);
  EXPECT_EQ(headers[1].partition_leader_epoch, 4);
  EXPECT_TRUE(headers[1].is_control());
  EXPECT_EQ(records[1].key, (Bytes{0, 0, 0, 2}));  // control key: version 0, LEADER_CHANGE
  // The storage codec writes the very same batch (one shared codec).
  EXPECT_EQ(encode_entry_batch(resp.records[0], kEntryNoTimestamp),
            Bytes(p.records->begin(),
                  p.records->begin() + static_cast<ptrdiff_t>(headers[0].size_bytes())));
}

TEST(RaftWire, MetadataTopicIdIsKRafts) {
  EXPECT_EQ(metadata_topic_id(), (kafka::Uuid{0, 1}));
}

TEST(RaftWire, RefusesMalformedFetchRequests) {
  FetchRequest req{.epoch = 3, .fetch_offset = 10, .last_fetched_epoch = 2};
  ASSERT_TRUE(from_wire(to_wire(req, 4)).ok());
  auto refused = [&](auto edit) {
    kafka::FetchRequest w = to_wire(req, 4);
    edit(w);
    return from_wire(w).code() == Errc::invalid_argument;
  };
  EXPECT_TRUE(refused([](auto& w) { w.topics[0].topic_id = kafka::Uuid{0, 2}; }));
  EXPECT_TRUE(refused([](auto& w) { w.topics[0].partitions[0].partition = 1; }));
  EXPECT_TRUE(
      refused([](auto& w) { w.topics[0].partitions.push_back(w.topics[0].partitions[0]); }));
  EXPECT_TRUE(refused([](auto& w) { w.topics.push_back(w.topics[0]); }));
  EXPECT_TRUE(refused([](auto& w) { w.topics.clear(); }));
  EXPECT_TRUE(refused([](auto& w) { w.replica_id = -1; }));
  EXPECT_TRUE(refused([](auto& w) { w.topics[0].partitions[0].fetch_offset = -1; }));
  EXPECT_TRUE(refused([](auto& w) { w.topics[0].partitions[0].last_fetched_epoch = -1; }));
  EXPECT_TRUE(refused([](auto& w) { w.topics[0].partitions[0].last_fetched_epoch = 4; }));
  EXPECT_TRUE(refused([](auto& w) { w.topics[0].partitions[0].current_leader_epoch = -1; }));
}

TEST(RaftWire, RefusesMalformedFetchResponses) {
  FetchRequest asked{.epoch = 3, .fetch_offset = 10, .last_fetched_epoch = 2};
  FetchResponse good{.epoch = 3, .leader_id = 1, .high_watermark = 10};
  good.records = {Entry{10, 2, EntryKind::kData, to_bytes("a")},
                  Entry{11, 3, EntryKind::kLeaderChange, {}}};
  ASSERT_TRUE(from_wire(to_wire(good), asked).ok());
  auto code = [&](auto edit) {
    kafka::FetchResponse w = to_wire(good);
    edit(w, w.responses[0].partitions[0]);
    return from_wire(w, asked).code();
  };
  auto records = [](std::vector<Entry> entries) {
    return std::optional<Bytes>(encode_entry_batches(entries, 0));
  };
  constexpr Errc kInvalid = Errc::invalid_argument;
  EXPECT_EQ(code([](auto& w, auto&) { w.error_code = 1; }), kInvalid);
  EXPECT_EQ(code([](auto& w, auto&) { w.responses[0].topic_id = kafka::Uuid{1, 1}; }), kInvalid);
  EXPECT_EQ(code([](auto& w, auto&) { w.responses.push_back(w.responses[0]); }), kInvalid);
  EXPECT_EQ(code([](auto& w, auto& p) { w.responses[0].partitions.push_back(p); }), kInvalid);
  EXPECT_EQ(code([](auto&, auto& p) { p.partition_index = 1; }), kInvalid);
  EXPECT_EQ(code([](auto&, auto& p) { p.error_code = 3; }), kInvalid);  // no FetchError
  EXPECT_EQ(code([](auto&, auto& p) { p.high_watermark = -2; }), kInvalid);
  // Only one kind of answer at a time, and no half-set tagged pairs.
  EXPECT_EQ(code([](auto&, auto& p) { p.error_code = 6; }), kInvalid);  // NOT_LEADER + records
  EXPECT_EQ(code([](auto&, auto& p) { p.diverging_epoch = {2, 10}; }), kInvalid);
  EXPECT_EQ(code([](auto&, auto& p) { p.snapshot_id = {10, 2}; }), kInvalid);
  EXPECT_EQ(code([](auto&, auto& p) {
              p.records.reset();
              p.diverging_epoch = {2, 10};
              p.snapshot_id = {10, 2};
            }),
            kInvalid);
  EXPECT_EQ(code([](auto&, auto& p) {
              p.records.reset();
              p.diverging_epoch = {-1, 10};
            }),
            kInvalid);
  EXPECT_EQ(code([](auto&, auto& p) {
              p.records.reset();
              p.snapshot_id = {10, -1};
            }),
            kInvalid);
  // Records that do not continue the asked position.
  EXPECT_EQ(code([&](auto&, auto& p) { p.records = records({Entry{11, 2}}); }), kInvalid);
  EXPECT_EQ(code([&](auto&, auto& p) {
              p.records = records({Entry{10, 2}, Entry{12, 2}});
            }),
            kInvalid);
  EXPECT_EQ(code([&](auto&, auto& p) {
              p.records = records({Entry{10, 3}, Entry{11, 2}});
            }),
            kInvalid);
  EXPECT_EQ(code([&](auto&, auto& p) { p.records = records({Entry{10, 1}}); }), kInvalid);
  EXPECT_EQ(code([&](auto&, auto& p) { p.records = records({Entry{10, 4}}); }), kInvalid);
  // Malformed batches: cut short, trailing bytes, garbage, a flipped bit under the CRC.
  EXPECT_EQ(code([](auto&, auto& p) { p.records->pop_back(); }), Errc::corrupt);
  EXPECT_EQ(code([](auto&, auto& p) { p.records->push_back(0); }), Errc::corrupt);
  EXPECT_EQ(code([](auto&, auto& p) { p.records = Bytes(100, 0xff); }), Errc::corrupt);
  EXPECT_EQ(code([](auto&, auto& p) { p.records->back() ^= 1; }), Errc::corrupt);
  // A batch of two records, or a control batch that is not LeaderChange, is not an entry.
  EXPECT_EQ(code([](auto&, auto& p) {
              log::BatchBuilder b({.base_offset = 10, .leader_epoch = 2});
              b.add(0, std::nullopt, ByteView(to_bytes("a")));
              b.add(0, std::nullopt, ByteView(to_bytes("b")));
              p.records = b.build().value();
            }),
            Errc::corrupt);
  EXPECT_EQ(code([](auto&, auto& p) {
              log::BatchBuilder b({.base_offset = 10, .leader_epoch = 2, .control = true});
              Bytes commit_key{0, 0, 0, 1};
              b.add(0, ByteView(commit_key), ByteView(Bytes{}));
              p.records = b.build().value();
            }),
            Errc::corrupt);
}

}  // namespace
}  // namespace gregor::raft
