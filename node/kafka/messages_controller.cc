// Explicit instantiations of the codecs of messages_controller.h (the templates compile once,
// here).
#include "node/kafka/messages_controller.h"

namespace gregor::kafka {

GREGOR_KAFKA_DEFINE_CODEC(AlterPartitionRequest);
GREGOR_KAFKA_DEFINE_CODEC(AlterPartitionResponse);
GREGOR_KAFKA_DEFINE_CODEC(BrokerRegistrationRequest);
GREGOR_KAFKA_DEFINE_CODEC(BrokerRegistrationResponse);
GREGOR_KAFKA_DEFINE_CODEC(BrokerHeartbeatRequest);
GREGOR_KAFKA_DEFINE_CODEC(BrokerHeartbeatResponse);
GREGOR_KAFKA_DEFINE_CODEC(UnregisterBrokerRequest);
GREGOR_KAFKA_DEFINE_CODEC(UnregisterBrokerResponse);
GREGOR_KAFKA_DEFINE_CODEC(AllocateProducerIdsRequest);
GREGOR_KAFKA_DEFINE_CODEC(AllocateProducerIdsResponse);

}  // namespace gregor::kafka
