// Proves the raft <-> wire mapping (raft_wire.h): for random raft messages, raft struct -> kafka
// message -> bytes (the real codec) -> kafka message -> raft struct gives back every field and the
// sender id; pre_vote survives in Gregor's tagged field; whatever a peer could send that the
// mapping cannot represent (another partition, an unknown error code, a snapshot chunk) is
// Errc::invalid_argument rather than a crash.
#include "node/controller/raft_wire.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "node/kafka/api.h"

namespace gregor::raft {
namespace {

// Through the real codec at every version the controller serves.
template <typename W>
W through_bytes(const W& msg) {
  Bytes bytes = kafka::encode_to_bytes(msg, 0).value();
  return kafka::decode<W>(bytes, 0).value();
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

}  // namespace
}  // namespace gregor::raft
