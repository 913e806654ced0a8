// Explicit instantiations of the codecs of messages_group.h (the templates compile once, here).
#include "node/kafka/messages_group.h"

namespace gregor::kafka {

GREGOR_KAFKA_DEFINE_CODEC(OffsetCommitRequest);
GREGOR_KAFKA_DEFINE_CODEC(OffsetCommitResponse);
GREGOR_KAFKA_DEFINE_CODEC(OffsetFetchRequest);
GREGOR_KAFKA_DEFINE_CODEC(OffsetFetchResponse);
GREGOR_KAFKA_DEFINE_CODEC(FindCoordinatorRequest);
GREGOR_KAFKA_DEFINE_CODEC(FindCoordinatorResponse);
GREGOR_KAFKA_DEFINE_CODEC(JoinGroupRequest);
GREGOR_KAFKA_DEFINE_CODEC(JoinGroupResponse);
GREGOR_KAFKA_DEFINE_CODEC(HeartbeatRequest);
GREGOR_KAFKA_DEFINE_CODEC(HeartbeatResponse);
GREGOR_KAFKA_DEFINE_CODEC(LeaveGroupRequest);
GREGOR_KAFKA_DEFINE_CODEC(LeaveGroupResponse);
GREGOR_KAFKA_DEFINE_CODEC(SyncGroupRequest);
GREGOR_KAFKA_DEFINE_CODEC(SyncGroupResponse);
GREGOR_KAFKA_DEFINE_CODEC(DescribeGroupsRequest);
GREGOR_KAFKA_DEFINE_CODEC(DescribeGroupsResponse);
GREGOR_KAFKA_DEFINE_CODEC(ListGroupsRequest);
GREGOR_KAFKA_DEFINE_CODEC(ListGroupsResponse);

}  // namespace gregor::kafka
