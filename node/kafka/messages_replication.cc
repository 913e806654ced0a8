// Explicit instantiations of the codecs of messages_replication.h (the templates compile once,
// here).
#include "node/kafka/messages_replication.h"

namespace gregor::kafka {

GREGOR_KAFKA_DEFINE_CODEC(OffsetForLeaderEpochRequest);
GREGOR_KAFKA_DEFINE_CODEC(OffsetForLeaderEpochResponse);

}  // namespace gregor::kafka
