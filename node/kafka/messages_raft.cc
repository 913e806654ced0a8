// Explicit instantiations of the codecs of messages_raft.h (the templates compile once, here).
#include "node/kafka/messages_raft.h"

namespace gregor::kafka {

GREGOR_KAFKA_DEFINE_CODEC(VoteRequest);
GREGOR_KAFKA_DEFINE_CODEC(VoteResponse);
GREGOR_KAFKA_DEFINE_CODEC(BeginQuorumEpochRequest);
GREGOR_KAFKA_DEFINE_CODEC(BeginQuorumEpochResponse);
GREGOR_KAFKA_DEFINE_CODEC(EndQuorumEpochRequest);
GREGOR_KAFKA_DEFINE_CODEC(EndQuorumEpochResponse);
GREGOR_KAFKA_DEFINE_CODEC(DescribeQuorumRequest);
GREGOR_KAFKA_DEFINE_CODEC(DescribeQuorumResponse);
GREGOR_KAFKA_DEFINE_CODEC(FetchSnapshotRequest);
GREGOR_KAFKA_DEFINE_CODEC(FetchSnapshotResponse);

}  // namespace gregor::kafka
