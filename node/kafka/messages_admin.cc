// Explicit instantiations of the codecs of messages_admin.h (the templates compile once, here).
#include "node/kafka/messages_admin.h"

namespace gregor::kafka {

GREGOR_KAFKA_DEFINE_CODEC(ApiVersionsRequest);
GREGOR_KAFKA_DEFINE_CODEC(ApiVersionsResponse);
GREGOR_KAFKA_DEFINE_CODEC(CreateTopicsRequest);
GREGOR_KAFKA_DEFINE_CODEC(CreateTopicsResponse);
GREGOR_KAFKA_DEFINE_CODEC(DeleteTopicsRequest);
GREGOR_KAFKA_DEFINE_CODEC(DeleteTopicsResponse);
GREGOR_KAFKA_DEFINE_CODEC(InitProducerIdRequest);
GREGOR_KAFKA_DEFINE_CODEC(InitProducerIdResponse);
GREGOR_KAFKA_DEFINE_CODEC(DescribeConfigsRequest);
GREGOR_KAFKA_DEFINE_CODEC(DescribeConfigsResponse);

}  // namespace gregor::kafka
